//! Who is calling: session authentication shared by every component that serves users.
//!
//! A session is a row of `sessions` (migration 0003) and a signed token naming it ([`token`]);
//! the token travels in the `session` cookie or as `Authorization: Bearer` ([`web`]).
//! [`authenticate`] checks the token's signature and expiry, applies the CSRF rule to
//! cookie-authenticated unsafe requests, and looks the session row up, so a logout or an
//! expired session takes effect at once on every component. It needs the `jwt_secret` and
//! `public_base_url` variables declared for the component.
//!
//! # Layout
//!
//! - [`token`]: the HS256 JWT encoder and verifier.
//! - [`web`]: the session cookie, token extraction and the CSRF rule.

pub mod token;
pub mod web;

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use chrono::NaiveDateTime;
use domain::account::UserId;
use domain::time::Timestamp;
use serde::Serialize;
use spin_sdk::http::Request;
use spin_sdk::pg4::{Connection, Decode, Row};
use uuid::Uuid;

use crate::config::{self, ConfigError};
use crate::db::DbError;
use crate::problem::Problem;

use self::web::Presented;

/// The variable holding the key that signs session tokens.
pub const JWT_SECRET: &str = "jwt_secret";
/// The variable holding the app's public URL, whose origin the CSRF rule accepts.
pub const PUBLIC_BASE_URL: &str = "public_base_url";

/// The columns of a user as [`User::from_row`] reads them, for a `users` table aliased `u`.
pub const USER_COLUMNS: &str = "u.id, u.email, u.name, u.timezone, u.role, \
     (u.created_at AT TIME ZONE 'UTC') AS created_at, (u.updated_at AT TIME ZONE 'UTC') AS updated_at";

/// What a user may do beyond their own data (`users.role`, migration 0004).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Every account: its own data only.
    User,
    /// An operator, made with `UPDATE users SET role = 'admin'`: may also use operator routes.
    Admin,
}

impl Role {
    fn parse(text: &str) -> Option<Self> {
        match text {
            "user" => Some(Self::User),
            "admin" => Some(Self::Admin),
            _ => None,
        }
    }
}

/// A user as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    /// The user's id.
    pub id: Uuid,
    /// The normalised (trimmed, lower-cased) email.
    pub email: String,
    /// The display name, if any.
    pub name: Option<String>,
    /// The IANA time zone name.
    pub timezone: String,
    /// `user` or `admin`.
    pub role: Role,
    /// When the account was created.
    pub created_at: Timestamp,
    /// When the profile last changed.
    pub updated_at: Timestamp,
}

impl User {
    /// Reads a row selected with [`USER_COLUMNS`].
    pub fn from_row(row: &Row<'_>) -> Result<Self, AuthError> {
        fn get<T: Decode>(row: &Row<'_>, column: &str) -> Result<T, AuthError> {
            row.get(column)
                .ok_or_else(|| AuthError::Internal(format!("reading users.{column}")))
        }
        let role: String = get(row, "role")?;
        Ok(Self {
            id: get(row, "id")?,
            email: get(row, "email")?,
            name: get::<Option<String>>(row, "name")?,
            timezone: get(row, "timezone")?,
            role: Role::parse(&role)
                .ok_or_else(|| AuthError::Internal(format!("unknown users.role `{role}`")))?,
            created_at: Timestamp::from_naive_utc(get::<NaiveDateTime>(row, "created_at")?),
            updated_at: Timestamp::from_naive_utc(get::<NaiveDateTime>(row, "updated_at")?),
        })
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone)]
pub struct Caller {
    /// The user, as of this request.
    pub user: User,
    /// The session the request was authenticated by.
    pub session_id: Uuid,
}

impl Caller {
    /// The caller's id, as the domain names users.
    pub fn user_id(&self) -> UserId {
        UserId::from(self.user.id)
    }

    /// Whether the caller is an operator.
    pub fn is_admin(&self) -> bool {
        self.user.role == Role::Admin
    }
}

/// Why a request is not authenticated.
#[derive(Debug)]
pub enum AuthError {
    /// No token, or a bad, expired or revoked one (401).
    Unauthenticated,
    /// A cookie-authenticated unsafe request without CSRF proof (403).
    Csrf,
    /// A variable or the database failed (500); the text is logged only.
    Internal(String),
}

impl fmt::Display for AuthError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unauthenticated => f.write_str("not authenticated"),
            Self::Csrf => f.write_str("CSRF check failed"),
            Self::Internal(cause) => f.write_str(cause),
        }
    }
}

impl std::error::Error for AuthError {}

impl From<DbError> for AuthError {
    fn from(err: DbError) -> Self {
        Self::Internal(err.to_string())
    }
}

impl From<ConfigError> for AuthError {
    fn from(err: ConfigError) -> Self {
        Self::Internal(err.to_string())
    }
}

impl AuthError {
    /// The problem+json a client gets: 401 with `WWW-Authenticate: Bearer` (set by
    /// [`respond`](Self::into_response)), 403 for CSRF, an opaque 500 otherwise (logged).
    pub fn to_problem(&self) -> Problem {
        match self {
            Self::Unauthenticated => Problem::typed(401, "unauthenticated", "Not authenticated")
                .with_detail("Missing, invalid or expired credentials."),
            Self::Csrf => Problem::typed(403, "csrf", "CSRF check failed").with_detail(
                "A cookie-authenticated request that changes state must send an \
                 X-Requested-With header from the app's own origin, or use a Bearer token.",
            ),
            Self::Internal(cause) => {
                eprintln!("auth: {cause}");
                Problem::new(500)
            }
        }
    }

    /// The whole response, with `WWW-Authenticate: Bearer` on a 401.
    pub fn into_response(self) -> spin_sdk::http::Response {
        let mut response: spin_sdk::http::Response = self.to_problem().into();
        if matches!(self, Self::Unauthenticated) {
            response.set_header("www-authenticate", "Bearer");
        }
        response
    }
}

/// Seconds since the Unix epoch by the host's clock.
pub fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// The key that signs session tokens (`jwt_secret`).
pub fn secret() -> Result<Vec<u8>, ConfigError> {
    Ok(config::required(JWT_SECRET)?.into_bytes())
}

/// Finds the caller from the token, enforcing the CSRF rule for cookie-authenticated unsafe
/// requests and checking the session row (so revoked and expired sessions fail).
pub fn authenticate(req: &Request, conn: &Connection) -> Result<Caller, AuthError> {
    let token = match web::presented(req) {
        Presented::Bearer(token) => token,
        Presented::Cookie(token) => {
            let origin = req.header("origin").and_then(|v| v.as_str());
            let public_base_url = config::required(PUBLIC_BASE_URL)?;
            let csrf_header = req
                .header(web::CSRF_HEADER)
                .and_then(|v| v.as_str())
                .is_some_and(|v| !v.trim().is_empty());
            if !web::csrf_ok(req.method(), csrf_header, origin, &public_base_url) {
                return Err(AuthError::Csrf);
            }
            token
        }
        Presented::Nothing => return Err(AuthError::Unauthenticated),
    };
    let claims =
        token::decode(&token, &secret()?, now_secs()).map_err(|_| AuthError::Unauthenticated)?;
    let rows = conn
        .query(
            &format!(
                "SELECT {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id \
                 WHERE s.id = $1 AND s.user_id = $2 AND s.revoked_at IS NULL \
                 AND s.expires_at > now()"
            ),
            &[claims.sid.into(), claims.sub.into()],
        )
        .map_err(|err| DbError::postgres("looking up a session", err))?;
    let row = rows.rows().next().ok_or(AuthError::Unauthenticated)?;
    Ok(Caller {
        user: User::from_row(&row)?,
        session_id: claims.sid,
    })
}
