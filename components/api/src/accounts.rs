//! Accounts and sessions: `POST /api/auth/register`, `/login`, `/logout`, and
//! `GET|PATCH /api/auth/me`.
//!
//! Every handler has the same shape: decode the body, parse it with the domain
//! (`domain::account`), do the database work, encode. Errors are one enum, [`Error`], mapped to
//! problem+json at the edge; 5xx causes are logged and never sent.
//!
//! A session is a row of `sessions` (migration 0003) and a signed token naming it; tokens,
//! cookies, the CSRF rule and the session lookup are shared with every component in
//! `platform::auth`. Every authenticated request looks the session up, so logout revokes at once.
//!
//! # Layout
//!
//! - [`password`]: argon2id hashing and verification.
//! - [`throttle`]: failed-login arithmetic (5 failures in 15 minutes lock an email).

pub mod password;
pub mod throttle;

use domain::account::{
    Credentials, LoginInput, ProfileInput, ProfileUpdate, Registration, RegistrationInput,
};
use domain::field::{FieldErrors, Nullable};
use platform::auth::token::{self, Claims};
use platform::auth::{self, AuthError, USER_COLUMNS, User, now_secs, web};
use platform::body::{self, BodyError};
use platform::config::{self, ConfigError};
use platform::db::{self, Connection, DbError};
use platform::problem::Problem;
use platform::response;
use serde_json::json;
use spin_sdk::http::{Params, Request, Response};
use spin_sdk::pg4::ParameterValue;
use uuid::Uuid;

/// How long a session lasts: 14 days.
pub const SESSION_SECS: i64 = 14 * 24 * 60 * 60;

const COOKIE_SECURE: &str = "cookie_secure";

/// Everything an accounts route can answer besides success.
#[derive(Debug)]
pub enum Error {
    /// The body is not JSON of the right shape (400, 413, 415, 422).
    Body(BodyError),
    /// Fields failed validation (422).
    Invalid(FieldErrors),
    /// The email belongs to an account already (409).
    EmailTaken,
    /// Wrong or unknown credentials, or no valid session (401).
    Unauthenticated,
    /// A cookie-authenticated unsafe request without CSRF proof (403).
    Csrf,
    /// Too many failed logins for this email (429).
    Throttled { retry_after: i64 },
    /// Anything else (500); the text is logged only.
    Internal(String),
}

impl From<BodyError> for Error {
    fn from(err: BodyError) -> Self {
        Self::Body(err)
    }
}

impl From<AuthError> for Error {
    fn from(err: AuthError) -> Self {
        match err {
            AuthError::Unauthenticated => Self::Unauthenticated,
            AuthError::Csrf => Self::Csrf,
            AuthError::Internal(cause) => Self::Internal(cause),
        }
    }
}

impl From<DbError> for Error {
    fn from(err: DbError) -> Self {
        Self::Internal(err.to_string())
    }
}

impl From<ConfigError> for Error {
    fn from(err: ConfigError) -> Self {
        Self::Internal(err.to_string())
    }
}

impl From<Error> for Response {
    fn from(err: Error) -> Self {
        match err {
            Error::Body(err) => err.into(),
            Error::Invalid(errors) => {
                Problem::typed(422, "validation", "The request has invalid fields")
                    .with_detail(describe(&errors))
                    .with_extension("errors", &errors)
                    .into()
            }
            Error::EmailTaken => Problem::typed(409, "email-taken", "Email already registered")
                .with_detail("An account with this email already exists.")
                .with_extension("errors", json!([{"field": "email", "code": "taken", "message": "is already registered"}]))
                .into(),
            Error::Unauthenticated => AuthError::Unauthenticated.into_response(),
            Error::Csrf => AuthError::Csrf.into_response(),
            Error::Throttled { retry_after } => {
                let mut response: Response =
                    Problem::typed(429, "login-throttled", "Too many failed logins")
                        .with_detail(format!(
                            "Too many failed logins for this email; try again in {retry_after} seconds."
                        ))
                        .into();
                response.set_header("retry-after", retry_after.to_string());
                response
            }
            Error::Internal(cause) => {
                platform::log::error("api", &format!("accounts: {cause}"), &[]);
                Problem::new(500).into()
            }
        }
    }
}

fn describe(errors: &FieldErrors) -> String {
    let parts: Vec<String> = errors
        .iter()
        .map(|e| format!("{} {}", e.field(), e.problem()))
        .collect();
    format!("{}.", parts.join("; "))
}

fn respond(result: Result<Response, Error>) -> Response {
    let mut response = result.unwrap_or_else(Response::from);
    response.set_header("cache-control", "no-store");
    response
}

/// Decodes a JSON body the way every component does (`platform::body`).
fn body<T: serde::de::DeserializeOwned>(req: &Request) -> Result<T, Error> {
    Ok(body::json(req)?)
}

fn secret() -> Result<Vec<u8>, Error> {
    Ok(auth::secret()?)
}

fn cookie_secure() -> Result<bool, Error> {
    Ok(config::flag(COOKIE_SECURE, false)?)
}

/// Opens a session for `user_id`: the row, then its token.
fn open_session(conn: &Connection, user_id: Uuid) -> Result<String, Error> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|err| Error::Internal(format!("session id: {err}")))?;
    let sid = uuid::Builder::from_random_bytes(bytes).into_uuid();
    conn.execute(
        "INSERT INTO sessions (id, user_id, expires_at) \
         VALUES ($1, $2, now() + $3::int8 * interval '1 second')",
        &[
            sid.into(),
            user_id.into(),
            ParameterValue::Int64(SESSION_SECS),
        ],
    )
    .map_err(|err| DbError::postgres("inserting a session", err))?;
    let iat = now_secs();
    Ok(token::encode(
        &Claims {
            sub: user_id,
            sid,
            iat,
            exp: iat + SESSION_SECS,
        },
        &secret()?,
    ))
}

fn with_session_cookie(mut response: Response, token: &str) -> Result<Response, Error> {
    response.set_header(
        "set-cookie",
        web::session_cookie(token, SESSION_SECS, cookie_secure()?),
    );
    Ok(response)
}

/// `POST /api/auth/register`: 201 `{user}` and a session cookie.
pub fn register(req: Request, _: Params) -> Response {
    respond(register_inner(&req))
}

fn register_inner(req: &Request) -> Result<Response, Error> {
    let input: RegistrationInput = body(req)?;
    let registration = Registration::parse(input).map_err(Error::Invalid)?;
    let hash = password::hash(&registration.password).map_err(Error::Internal)?;
    let conn = db::open()?;
    let (user, token) = db::transaction(&conn, |conn| {
        // A taken email is found by `ON CONFLICT ... DO NOTHING` returning no row, not by
        // matching a 23505 error: Spin reports errors raised while `query` streams rows as
        // plain text, without the SQLSTATE (host/src/postgres.rs, `query_failed`).
        let rows = conn
            .query(
                &format!(
                    "INSERT INTO users AS u (email, password_hash, name, timezone) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT ON CONSTRAINT users_email_key DO NOTHING \
                     RETURNING {USER_COLUMNS}"
                ),
                &[
                    ParameterValue::Str(registration.email.as_str().to_owned()),
                    ParameterValue::Str(hash.clone()),
                    registration
                        .name
                        .as_ref()
                        .map_or(ParameterValue::DbNull, |n| {
                            ParameterValue::Str(n.as_str().to_owned())
                        }),
                    ParameterValue::Str(registration.timezone.name().to_owned()),
                ],
            )
            .map_err(|err| DbError::postgres("inserting a user", err))?;
        let row = rows.rows().next().ok_or(Error::EmailTaken)?;
        let user = User::from_row(&row)?;
        let token = open_session(conn, user.id)?;
        Ok::<_, Error>((user, token))
    })?;
    with_session_cookie(response::json(201, &json!({ "user": user })), &token)
}

/// `POST /api/auth/login`: 200 `{user, token}` and a session cookie; 401 for any bad
/// credentials; 429 with `Retry-After` while the email is throttled.
pub fn login(req: Request, _: Params) -> Response {
    respond(login_inner(&req))
}

fn login_inner(req: &Request) -> Result<Response, Error> {
    let input: LoginInput = body(req)?;
    // An address no account can have is answered like a wrong password.
    let credentials = Credentials::parse(input).ok_or(Error::Unauthenticated)?;
    let email = credentials.email.as_str().to_owned();
    let conn = db::open()?;

    let (now, state) = throttle_state(&conn, &email, false)?;
    if let Some(retry_after) = throttle::retry_after(state.as_ref(), now) {
        return Err(Error::Throttled { retry_after });
    }

    let rows = conn
        .query(
            &format!("SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE u.email = $1"),
            &[ParameterValue::Str(email.clone())],
        )
        .map_err(|err| DbError::postgres("looking up a user", err))?;
    let found = match rows.rows().next() {
        Some(row) => {
            let hash: String = row
                .get("password_hash")
                .ok_or_else(|| Error::Internal("reading users.password_hash".to_owned()))?;
            Some((User::from_row(&row)?, hash))
        }
        None => None,
    };
    let user = match found {
        Some((user, hash)) if password::verify(&credentials.password, &hash) => Some(user),
        Some(_) => None,
        None => {
            password::dummy_verify(&credentials.password);
            None
        }
    };
    let Some(user) = user else {
        record_failure(&conn, &email)?;
        return Err(Error::Unauthenticated);
    };

    conn.execute(
        "DELETE FROM login_throttle WHERE email = $1",
        &[ParameterValue::Str(email)],
    )
    .map_err(|err| DbError::postgres("clearing the login throttle", err))?;
    let token = open_session(&conn, user.id)?;
    with_session_cookie(
        response::json(200, &json!({ "user": user, "token": token })),
        &token,
    )
}

/// PostgreSQL's clock and the email's throttle row, locking the row when `for_update`.
fn throttle_state(
    conn: &Connection,
    email: &str,
    for_update: bool,
) -> Result<(i64, Option<throttle::State>), Error> {
    const COLUMNS: &str = "floor(extract(epoch FROM now()))::int8 AS now, t.failures, \
         floor(extract(epoch FROM t.window_started_at))::int8 AS window_start, \
         ceil(extract(epoch FROM t.locked_until))::int8 AS locked_until";
    // FOR UPDATE cannot lock the nullable side of an outer join, so the locking form reads the
    // row itself (the caller has just made sure it exists).
    let sql = if for_update {
        format!("SELECT {COLUMNS} FROM login_throttle t WHERE t.email = $1 FOR UPDATE")
    } else {
        format!(
            "SELECT {COLUMNS} FROM (SELECT 1) AS one LEFT JOIN login_throttle t ON t.email = $1"
        )
    };
    let rows = conn
        .query(&sql, &[ParameterValue::Str(email.to_owned())])
        .map_err(|err| DbError::postgres("reading the login throttle", err))?;
    let row = rows
        .rows()
        .next()
        .ok_or_else(|| Error::Internal("the throttle query gave no row".to_owned()))?;
    let now: i64 = row
        .get("now")
        .ok_or_else(|| Error::Internal("reading now()".to_owned()))?;
    let state = match (
        row.get::<Option<i32>>("failures").flatten(),
        row.get::<Option<i64>>("window_start").flatten(),
    ) {
        (Some(failures), Some(window_start)) => Some(throttle::State {
            failures,
            window_start,
            locked_until: row.get::<Option<i64>>("locked_until").flatten(),
        }),
        _ => None,
    };
    Ok((now, state))
}

/// Counts one failed login for `email`, in a transaction holding its row.
fn record_failure(conn: &Connection, email: &str) -> Result<(), Error> {
    db::transaction(conn, |conn| {
        conn.execute(
            "INSERT INTO login_throttle (email, failures, window_started_at) \
             VALUES ($1, 0, now()) ON CONFLICT (email) DO NOTHING",
            &[ParameterValue::Str(email.to_owned())],
        )
        .map_err(|err| DbError::postgres("creating the login throttle row", err))?;
        let (now, state) = throttle_state(conn, email, true)?;
        // A row just created by the INSERT above has no failures yet: treat it as absent.
        let state = state.filter(|s| s.failures > 0);
        let next = throttle::record_failure(state.as_ref(), now);
        conn.execute(
            "UPDATE login_throttle SET failures = $2, \
             window_started_at = to_timestamp($3::int8::float8), \
             locked_until = to_timestamp($4::int8::float8) WHERE email = $1",
            &[
                ParameterValue::Str(email.to_owned()),
                ParameterValue::Int32(next.failures),
                ParameterValue::Int64(next.window_start),
                next.locked_until
                    .map_or(ParameterValue::DbNull, ParameterValue::Int64),
            ],
        )
        .map_err(|err| DbError::postgres("recording a failed login", err))?;
        Ok(())
    })
}

fn authenticate(req: &Request, conn: &Connection) -> Result<auth::Caller, Error> {
    Ok(auth::authenticate(req, conn)?)
}

/// `POST /api/auth/logout`: 204; the session is revoked and the cookie cleared.
pub fn logout(req: Request, _: Params) -> Response {
    respond(logout_inner(&req))
}

fn logout_inner(req: &Request) -> Result<Response, Error> {
    let conn = db::open()?;
    let caller = authenticate(req, &conn)?;
    conn.execute(
        "UPDATE sessions SET revoked_at = now() WHERE id = $1 AND revoked_at IS NULL",
        &[caller.session_id.into()],
    )
    .map_err(|err| DbError::postgres("revoking a session", err))?;
    let mut response = Response::builder().status(204).build();
    response.set_header("set-cookie", web::clearing_cookie(cookie_secure()?));
    Ok(response)
}

/// `GET /api/auth/me`: `{user}`.
pub fn me(req: Request, _: Params) -> Response {
    respond((|| {
        let conn = db::open()?;
        let caller = authenticate(&req, &conn)?;
        Ok(response::json(200, &json!({ "user": caller.user })))
    })())
}

/// `PATCH /api/auth/me`: changes `name` and/or `timezone`; 422 changes nothing.
pub fn update_me(req: Request, _: Params) -> Response {
    respond(update_me_inner(&req))
}

fn update_me_inner(req: &Request) -> Result<Response, Error> {
    let conn = db::open()?;
    let caller = authenticate(req, &conn)?;
    let input: ProfileInput = body(req)?;
    let update = ProfileUpdate::parse(input).map_err(Error::Invalid)?;
    let (set_name, name) = match &update.name {
        Nullable::Absent => (false, ParameterValue::DbNull),
        Nullable::Null => (true, ParameterValue::DbNull),
        Nullable::Value(name) => (true, ParameterValue::Str(name.as_str().to_owned())),
    };
    let timezone = update.timezone.map_or(ParameterValue::DbNull, |tz| {
        ParameterValue::Str(tz.name().to_owned())
    });
    let rows = conn
        .query(
            &format!(
                "UPDATE users AS u SET name = CASE WHEN $2 THEN $3::text ELSE u.name END, \
                 timezone = COALESCE($4::text, u.timezone), updated_at = now() \
                 WHERE u.id = $1 RETURNING {USER_COLUMNS}"
            ),
            &[
                caller.user.id.into(),
                ParameterValue::Boolean(set_name),
                name,
                timezone,
            ],
        )
        .map_err(|err| DbError::postgres("updating a user", err))?;
    let row = rows.rows().next().ok_or(Error::Unauthenticated)?;
    Ok(response::json(
        200,
        &json!({ "user": User::from_row(&row)? }),
    ))
}
