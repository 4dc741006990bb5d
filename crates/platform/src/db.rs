//! PostgreSQL through Spin's `spin:postgres@4.0.0` interface (spin-sdk's `pg4`).
//!
//! Things every caller must know, all checked against Spin itself (DESIGN.md):
//!
//! - A [`Connection`] holds one pooled client for its lifetime, so `BEGIN` ... `COMMIT` sent with
//!   `execute` on it is a real transaction. [`transaction`] does that and never drops a failed
//!   `COMMIT` or `ROLLBACK` on the floor.
//! - Statements go over the extended protocol: one statement per `execute`/`query` call.
//! - `timestamptz` cannot be read or bound directly. Write `($1::timestamp AT TIME ZONE 'UTC')`
//!   and read `(col AT TIME ZONE 'UTC')`, both as UTC `chrono::NaiveDateTime`. Never bind
//!   `ParameterValue::Timestamp`: PostgreSQL cannot infer its type.
//! - Local `db_url`s carry `?sslmode=disable`; without it Spin insists on TLS.

use std::fmt;

pub use spin_sdk::pg4::{Connection, PgError};

use crate::config::{self, ConfigError};

/// The Spin variable holding the PostgreSQL connection string.
pub const DB_URL: &str = "db_url";

/// A database step that failed, with what was being attempted.
#[derive(Debug)]
pub enum DbError {
    /// `db_url` is missing or unreadable.
    Config(ConfigError),
    /// PostgreSQL (or Spin's bridge to it) refused the step.
    Postgres {
        /// What was being done, e.g. "opening the database" or "COMMIT".
        step: String,
        /// The error Spin returned (boxed: pg4 errors carry every PostgreSQL error field).
        source: Box<PgError>,
    },
}

impl DbError {
    /// Wraps a pg4 error with the step that produced it.
    pub fn postgres(step: impl Into<String>, source: PgError) -> Self {
        Self::Postgres {
            step: step.into(),
            source: Box::new(source),
        }
    }

    /// The SQLSTATE code when PostgreSQL itself rejected the statement (e.g. `23505` for a
    /// unique violation).
    pub fn sqlstate(&self) -> Option<&str> {
        self.db_error().map(|db| db.code.as_str())
    }

    /// The name of the violated constraint, when there is one (e.g. `users_email_key`).
    pub fn constraint(&self) -> Option<&str> {
        self.db_error()?
            .extras
            .iter()
            .find(|(key, _)| key == "constraint")
            .map(|(_, value)| value.as_str())
    }

    fn db_error(&self) -> Option<&spin_sdk::pg4::DbError> {
        match self {
            Self::Postgres { source, .. } => match source.as_ref() {
                PgError::QueryFailed(spin_sdk::pg4::QueryError::DbError(db)) => Some(db),
                _ => None,
            },
            Self::Config(_) => None,
        }
    }
}

impl fmt::Display for DbError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(err) => err.fmt(f),
            Self::Postgres { step, source } => write!(f, "{step}: {}", describe(source)),
        }
    }
}

impl std::error::Error for DbError {}

impl From<ConfigError> for DbError {
    fn from(err: ConfigError) -> Self {
        Self::Config(err)
    }
}

/// A readable one-line account of a pg4 error (its `Debug` form nests every field).
pub fn describe(err: &PgError) -> String {
    use spin_sdk::pg4::QueryError;
    match err {
        PgError::ConnectionFailed(message) => format!("connection failed: {message}"),
        PgError::BadParameter(message) => format!("bad parameter: {message}"),
        PgError::QueryFailed(QueryError::Text(message)) => format!("query failed: {message}"),
        PgError::QueryFailed(QueryError::DbError(db)) => match &db.detail {
            Some(detail) => format!("{} {} ({}): {detail}", db.severity, db.message, db.code),
            None => format!("{} {} ({})", db.severity, db.message, db.code),
        },
        PgError::ValueConversionFailed(message) => format!("value conversion failed: {message}"),
        PgError::Other(message) => message.clone(),
    }
}

/// Opens the database named by the `db_url` variable.
pub fn open() -> Result<Connection, DbError> {
    let url = config::required(DB_URL)?;
    Connection::open(&url).map_err(|err| DbError::postgres("opening the database", err))
}

/// Runs `work` between `BEGIN` and `COMMIT` on `conn`, rolling back if it fails.
///
/// `work`'s error is returned as it is; a `ROLLBACK` that also fails is logged, since the first
/// error is the one worth reporting. `work` must not swallow a database error and return `Ok`:
/// PostgreSQL answers `COMMIT` on an aborted transaction with a silent rollback.
pub fn transaction<T, E>(
    conn: &Connection,
    work: impl FnOnce(&Connection) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<DbError>,
{
    conn.execute("BEGIN", &[])
        .map_err(|err| DbError::postgres("BEGIN", err))?;
    match work(conn) {
        Ok(value) => {
            conn.execute("COMMIT", &[])
                .map_err(|err| DbError::postgres("COMMIT", err))?;
            Ok(value)
        }
        Err(err) => {
            if let Err(rollback) = conn.execute("ROLLBACK", &[]) {
                eprintln!(
                    "db: ROLLBACK after a failed transaction also failed: {}",
                    describe(&rollback)
                );
            }
            Err(err)
        }
    }
}
