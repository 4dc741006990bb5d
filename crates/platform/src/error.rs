//! The error type of the consumer components' handlers (`reminders`, `notifier`): HTTP routes,
//! event deliveries and ticks. One enum, mapped once to a response (RFC 9457 problem+json); the
//! cause of a 500 is logged, never sent.

use std::fmt;

use crate::auth::AuthError;
use crate::body::BodyError;
use crate::db::DbError;
use crate::problem::Problem;
use domain::field::FieldErrors;
use spin_sdk::http::Response;

/// Everything a handler can fail with.
#[derive(Debug)]
pub enum Error {
    /// The body is not JSON of the right shape (400, 413, 415, 422).
    Body(BodyError),
    /// Fields failed validation (422).
    Invalid(FieldErrors),
    /// No such task or reminder for this user (404).
    NotFound(&'static str),
    /// No valid session, or a failed CSRF check (401, 403).
    Auth(AuthError),
    /// The database failed (500).
    Db(DbError),
    /// Anything else (500); the text is logged only.
    Internal(String),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Body(err) => write!(f, "body: {err:?}"),
            Self::Invalid(errors) => write!(f, "invalid: {errors}"),
            Self::NotFound(what) => write!(f, "{what} not found"),
            Self::Auth(err) => err.fmt(f),
            Self::Db(err) => err.fmt(f),
            Self::Internal(cause) => f.write_str(cause),
        }
    }
}

impl From<DbError> for Error {
    fn from(err: DbError) -> Self {
        Self::Db(err)
    }
}

impl From<AuthError> for Error {
    fn from(err: AuthError) -> Self {
        Self::Auth(err)
    }
}

impl From<BodyError> for Error {
    fn from(err: BodyError) -> Self {
        Self::Body(err)
    }
}

impl From<FieldErrors> for Error {
    fn from(errors: FieldErrors) -> Self {
        Self::Invalid(errors)
    }
}

impl From<Error> for Response {
    fn from(err: Error) -> Response {
        match err {
            Error::Body(err) => err.to_problem().into(),
            Error::Invalid(errors) => {
                Problem::typed(422, "validation", "The request has invalid fields")
                    .with_detail(errors.to_string())
                    .with_extension("errors", &errors)
                    .into()
            }
            Error::NotFound(what) => Problem::not_found()
                .with_detail(format!("No such {what}."))
                .into(),
            Error::Auth(err) => err.into_response(),
            Error::Db(err) => {
                crate::log::error("handler", &err.to_string(), &[]);
                Problem::new(500).into()
            }
            Error::Internal(cause) => {
                crate::log::error("handler", &cause, &[]);
                Problem::new(500).into()
            }
        }
    }
}
