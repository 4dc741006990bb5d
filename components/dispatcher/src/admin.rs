//! The operator routes, admin role only: dead letters (`GET /api/admin/dead-letters`,
//! `POST /api/admin/dead-letters/{event_id}/retry`) and replay (`POST /api/admin/replay`).

use domain::event::{Consumer, EventId, Topic};
use domain::field::{FieldErrors, Invalid};
use domain::time::Timestamp;
use platform::auth::{self, AuthError};
use platform::body::{self, BodyError};
use platform::db::{self, DbError};
use platform::problem::Problem;
use serde::Deserialize;
use serde_json::json;
use spin_sdk::http::{Params, Request, Response};

use crate::store;

/// Why an admin request failed; mapped to problem+json in one place ([`Error::into_response`]).
enum Error {
    Auth(AuthError),
    Forbidden,
    Body(BodyError),
    Invalid(FieldErrors),
    NotFound,
    Db(DbError),
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

impl Error {
    fn into_response(self) -> Response {
        match self {
            Self::Auth(err) => err.into_response(),
            Self::Forbidden => Problem::typed(403, "forbidden", "Forbidden")
                .with_detail("This route is for administrators.")
                .into(),
            Self::Body(err) => err.into(),
            Self::Invalid(errors) => {
                let list: Vec<_> = errors
                    .iter()
                    .map(|e| json!({"field": e.field(), "code": e.problem().code(), "message": e.problem().to_string()}))
                    .collect();
                Problem::typed(422, "validation", "The request has invalid fields")
                    .with_detail(errors.to_string())
                    .with_extension("errors", list)
                    .into()
            }
            Self::NotFound => Problem::not_found()
                .with_detail("No dead letter has that event id.")
                .into(),
            Self::Db(err) => {
                platform::log::error("dispatcher", &err.to_string(), &[]);
                Problem::new(500).into()
            }
        }
    }
}

fn respond(result: Result<Response, Error>) -> Response {
    result.unwrap_or_else(Error::into_response)
}

/// Opens the database and checks that the caller is an admin.
fn admin(req: &Request) -> Result<db::Connection, Error> {
    let conn = db::open()?;
    let caller = auth::authenticate(req, &conn)?;
    if !caller.is_admin() {
        return Err(Error::Forbidden);
    }
    Ok(conn)
}

/// `GET /api/admin/dead-letters`: `{items: [{event_id, consumer, attempts, dead_at, topic,
/// event}]}`, oldest first.
pub fn dead_letters(req: Request, _: Params) -> Response {
    respond((|| {
        let conn = admin(&req)?;
        let items = store::dead_letters(&conn)?;
        Ok(platform::response::json(200, &json!({ "items": items })))
    })())
}

/// `POST /api/admin/dead-letters/{event_id}/retry`: makes the event's dead letters due again;
/// 202 with the consumers it will be delivered to, 404 if the event has none.
pub fn retry(req: Request, params: Params) -> Response {
    respond((|| {
        let conn = admin(&req)?;
        let id = params.get("id").unwrap_or_default();
        let id = EventId::parse(id).map_err(|p| Error::Invalid(FieldErrors::single("id", p)))?;
        let consumers = store::retry_dead(&conn, &id.to_string())?;
        if consumers.is_empty() {
            return Err(Error::NotFound);
        }
        Ok(platform::response::json(
            202,
            &json!({ "event_id": id.to_string(), "consumers": consumers }),
        ))
    })())
}

/// The replay body.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReplayBody {
    from: String,
    to: String,
    #[serde(default)]
    topics: Option<Vec<String>>,
    #[serde(default)]
    consumer: Option<String>,
}

/// `POST /api/admin/replay {from, to, topics?, consumer?}`: delivers again every stored event
/// with `from <= time < to` (on `topics`, to `consumer`; all when absent) to each consumer
/// that has no receipt for it. Consumers that do have one are untouched, so replaying twice
/// changes nothing. 202 with `{scheduled}`, the number of (event, consumer) pairs checked.
pub fn replay(req: Request, _: Params) -> Response {
    respond((|| {
        let conn = admin(&req)?;
        let body: ReplayBody = body::json(&req).map_err(Error::Body)?;
        let mut errors = FieldErrors::new();
        let from = errors.check("from", Timestamp::parse(&body.from));
        let to = errors.check("to", Timestamp::parse(&body.to));
        if let (Some(from), Some(to)) = (from, to)
            && to <= from
        {
            errors.push(
                "to",
                Invalid::Format {
                    expected: "a time after `from`",
                },
            );
        }
        let topics: Vec<Topic> = match &body.topics {
            None => Topic::ALL.to_vec(),
            Some(names) => names
                .iter()
                .enumerate()
                .filter_map(|(i, name)| errors.check(&format!("topics[{i}]"), Topic::parse(name)))
                .collect(),
        };
        let consumers: Vec<Consumer> = match &body.consumer {
            None => Consumer::ALL.to_vec(),
            Some(name) => errors
                .check("consumer", Consumer::parse(name))
                .into_iter()
                .collect(),
        };
        if !errors.is_empty() {
            return Err(Error::Invalid(errors));
        }
        let (Some(from), Some(to)) = (from, to) else {
            unreachable!("no errors means both times parsed")
        };
        let scheduled = store::replay(
            &conn,
            &from.to_string(),
            &to.to_string(),
            &topics,
            &consumers,
        )?;
        platform::log::info(
            "dispatcher",
            &format!("replay scheduled {scheduled} deliveries"),
            &[("from", &from.to_string()), ("to", &to.to_string())],
        );
        Ok(platform::response::json(
            202,
            &json!({ "scheduled": scheduled }),
        ))
    })())
}
