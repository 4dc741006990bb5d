//! `GET /api/audit/events?type=&subject=&start_date=&end_date=&cursor=&limit=` returns
//! `{items, next_cursor}`, newest first; `GET /api/audit/events/{id}` returns one event. A user
//! sees their own events; an admin sees everyone's. The cursor is the last item's time and id
//! (keyset pagination, stable while new events arrive).

use domain::event::{EventId, Subject, Topic};
use domain::field::{FieldErrors, Invalid};
use domain::time::Timestamp;
use platform::auth;
use platform::db;
use platform::problem::Problem;
use serde_json::json;
use spin_sdk::http::{Params, Request, Response};

use crate::store::{self, Filters};

const DEFAULT_LIMIT: i64 = 50;
const MAX_LIMIT: i64 = 200;

fn internal(err: impl std::fmt::Display) -> Response {
    platform::log::error("audit", &err.to_string(), &[]);
    Problem::new(500).into()
}

fn invalid(errors: &FieldErrors) -> Response {
    let list: Vec<_> = errors
        .iter()
        .map(|e| json!({"field": e.field(), "code": e.problem().code(), "message": e.problem().to_string()}))
        .collect();
    Problem::typed(422, "validation", "The request has invalid fields")
        .with_detail(errors.to_string())
        .with_extension("errors", list)
        .into()
}

/// Parses the query string into filters (without the owner) and a limit.
pub fn parse_query(query: &str) -> Result<(Filters, i64), FieldErrors> {
    let mut errors = FieldErrors::new();
    let mut filters = Filters::default();
    let mut limit = DEFAULT_LIMIT;
    for (name, value) in form_urlencoded::parse(query.as_bytes()) {
        let value = value.trim();
        if value.is_empty() {
            continue;
        }
        match name.as_ref() {
            "type" => {
                let topic = Topic::parse(value).or_else(|_| Topic::from_event_type(value));
                filters.event_type = errors.check("type", topic).map(|t| t.as_str().to_owned());
            }
            "subject" => {
                filters.subject = errors
                    .check("subject", Subject::parse(value))
                    .map(|s| s.to_string());
            }
            "start_date" => {
                filters.start = errors
                    .check("start_date", Timestamp::parse(value))
                    .map(|t| t.to_string());
            }
            "end_date" => {
                filters.end = errors
                    .check("end_date", Timestamp::parse(value))
                    .map(|t| t.to_string());
            }
            "cursor" => {
                let parsed = value
                    .split_once('~')
                    .and_then(|(time, id)| {
                        Some((Timestamp::parse(time).ok()?, EventId::parse(id).ok()?))
                    })
                    .ok_or(Invalid::Format {
                        expected: "a next_cursor value from a previous page",
                    });
                filters.after = errors
                    .check("cursor", parsed)
                    .map(|(time, id)| (time.to_string(), id.to_string()));
            }
            "limit" => {
                let parsed = value
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (1..=MAX_LIMIT).contains(n))
                    .ok_or(Invalid::Format {
                        expected: "a whole number from 1 to 200",
                    });
                if let Some(n) = errors.check("limit", parsed) {
                    limit = n;
                }
            }
            other => errors.push(
                other.to_owned(),
                Invalid::Format {
                    expected: "one of type, subject, start_date, end_date, cursor, limit",
                },
            ),
        }
    }
    if errors.is_empty() {
        Ok((filters, limit))
    } else {
        Err(errors)
    }
}

/// `GET /api/audit/events`.
pub fn list(req: Request, _: Params) -> Response {
    let conn = match db::open() {
        Ok(conn) => conn,
        Err(err) => return internal(err),
    };
    let caller = match auth::authenticate(&req, &conn) {
        Ok(caller) => caller,
        Err(err) => return err.into_response(),
    };
    let query = req.query().to_owned();
    let (mut filters, limit) = match parse_query(&query) {
        Ok(parsed) => parsed,
        Err(errors) => return invalid(&errors),
    };
    if !caller.is_admin() {
        filters.owner = Some(caller.user_id().to_string());
    }
    // One more than asked tells whether there is a next page.
    let mut items = match store::list(&conn, &filters, limit + 1) {
        Ok(items) => items,
        Err(err) => return internal(err),
    };
    let next_cursor = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items
            .last()
            .map(|last| format!("{}~{}", last.created_at, last.id))
    } else {
        None
    };
    platform::response::json(200, &json!({ "items": items, "next_cursor": next_cursor }))
}

/// `GET /api/audit/events/{id}`: 404 for an event that is not there or not the caller's.
pub fn one(req: Request, params: Params) -> Response {
    let conn = match db::open() {
        Ok(conn) => conn,
        Err(err) => return internal(err),
    };
    let caller = match auth::authenticate(&req, &conn) {
        Ok(caller) => caller,
        Err(err) => return err.into_response(),
    };
    let Ok(id) = EventId::parse(params.get("id").unwrap_or_default()) else {
        return Problem::not_found().with_detail("No such event.").into();
    };
    let owner = (!caller.is_admin()).then(|| caller.user_id().to_string());
    match store::one(&conn, &id.to_string(), owner) {
        Ok(Some(event)) => platform::response::json(200, &event),
        Ok(None) => Problem::not_found().with_detail("No such event.").into(),
        Err(err) => internal(err),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_query_accepts_topic_or_type_and_refuses_unknown_parameters() {
        let (filters, limit) = parse_query(
            "type=com.todoapp.tasks.task.created&limit=10&start_date=2026-01-01T00:00:00Z",
        )
        .unwrap();
        assert_eq!(filters.event_type.as_deref(), Some("tasks.task.created"));
        assert_eq!(limit, 10);
        assert!(filters.start.is_some());
        let errors = parse_query("type=nope&limit=0&colour=red&cursor=x").unwrap_err();
        let fields: Vec<_> = errors.iter().map(|e| e.field()).collect();
        assert_eq!(fields, ["type", "limit", "colour", "cursor"]);
    }
}
