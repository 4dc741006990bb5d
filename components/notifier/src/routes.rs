//! The notifier's user routes: settings, the webhook secret, the in-app list and the delivery
//! history.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::NaiveDateTime;
use domain::field::{FieldErrors, Invalid};
use domain::notification::WebhookSecret;
use platform::{auth, body, db, response};
use serde_json::{Value, json};
use spin_sdk::http::{Params, Request, Response, Router};
use uuid::Uuid;

use crate::error::Error;
use crate::store::{self, UserSettings};

/// The user routes.
pub fn router() -> Router {
    let mut router = Router::new();
    router.get("/api/me/settings", settings);
    router.put("/api/me/settings", update_settings);
    router.post("/api/me/webhook-secret", rotate_secret);
    router.get("/api/notifications", list);
    router.get("/api/notifications/unread-count", unread_count);
    router.get("/api/notifications/history", history);
    router.post("/api/notifications/read-all", read_all);
    router.post("/api/notifications/:id/read", read);
    router
}

fn respond(result: Result<Response, Error>) -> Response {
    result.unwrap_or_else(Response::from)
}

fn settings_json(user: &UserSettings) -> Value {
    let mut value = serde_json::to_value(&user.settings).expect("settings are JSON");
    value["email_address"] = json!(user.email_recipient());
    value["webhook_secret_set"] = json!(user.webhook_secret.is_some());
    value
}

fn new_secret() -> Result<WebhookSecret, Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|err| Error::Internal(format!("webhook secret: {err}")))?;
    Ok(WebhookSecret::from_bytes(bytes))
}

/// `GET /api/me/settings`.
pub fn settings(req: Request, _: Params) -> Response {
    respond((|| {
        let conn = db::open()?;
        let caller = auth::authenticate(&req, &conn)?;
        let user = store::settings(&conn, caller.user_id())?.ok_or(Error::NotFound("user"))?;
        Ok(response::json(200, &settings_json(&user)))
    })())
}

/// `PUT /api/me/settings`: members present replace the current values (see
/// `NotificationSettings::apply`). Setting a webhook URL for the first time also makes a signing
/// secret, returned once as `webhook_secret`.
pub fn update_settings(req: Request, _: Params) -> Response {
    respond((|| {
        let conn = db::open()?;
        let caller = auth::authenticate(&req, &conn)?;
        let body: Value = body::json(&req)?;
        let (user, secret) = db::transaction(&conn, |conn| {
            let user = store::settings(conn, caller.user_id())?.ok_or(Error::NotFound("user"))?;
            let next = user.settings.apply(&body)?;
            store::save_settings(conn, caller.user_id(), &next)?;
            let secret = if next.webhook_url.is_some() && user.webhook_secret.is_none() {
                let secret = new_secret()?.expose();
                store::save_secret(conn, caller.user_id(), &secret)?;
                Some(secret)
            } else {
                None
            };
            let user = store::settings(conn, caller.user_id())?.ok_or(Error::NotFound("user"))?;
            Ok::<_, Error>((user, secret))
        })?;
        let mut value = settings_json(&user);
        if let Some(secret) = secret {
            value["webhook_secret"] = json!(secret);
        }
        Ok(response::json(200, &value))
    })())
}

/// `POST /api/me/webhook-secret`: a new signing secret, shown this once.
pub fn rotate_secret(req: Request, _: Params) -> Response {
    respond((|| {
        let conn = db::open()?;
        let caller = auth::authenticate(&req, &conn)?;
        let secret = new_secret()?.expose();
        store::save_secret(&conn, caller.user_id(), &secret)?;
        Ok(response::json(200, &json!({ "webhook_secret": secret })))
    })())
}

/// The `limit` (1 to 100, default 20) and `cursor` query parameters.
fn page(req: &Request) -> Result<(i64, Option<(NaiveDateTime, Uuid)>), Error> {
    let mut limit = 20;
    let mut cursor = None;
    let query = req.query();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        match name {
            "limit" => {
                limit = value
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (1..=100).contains(n))
                    .ok_or_else(|| {
                        FieldErrors::single("limit", Invalid::OutOfRange { min: 1, max: 100 })
                    })?
            }
            "cursor" => {
                cursor = Some(decode_cursor(value).ok_or_else(|| {
                    FieldErrors::single(
                        "cursor",
                        Invalid::Format {
                            expected: "a next_cursor from a previous page",
                        },
                    )
                })?)
            }
            _ => return Err(FieldErrors::single(name, Invalid::Unknown).into()),
        }
    }
    Ok((limit, cursor))
}

fn encode_cursor(at: NaiveDateTime, id: Uuid) -> String {
    URL_SAFE_NO_PAD.encode(format!("{}|{id}", at.and_utc().timestamp_micros()))
}

fn decode_cursor(text: &str) -> Option<(NaiveDateTime, Uuid)> {
    let raw = String::from_utf8(URL_SAFE_NO_PAD.decode(text).ok()?).ok()?;
    let (micros, id) = raw.split_once('|')?;
    let at = chrono::DateTime::from_timestamp_micros(micros.parse().ok()?)?.naive_utc();
    Some((at, Uuid::try_parse(id).ok()?))
}

fn listing(req: &Request, in_app_only: bool) -> Result<(Value, Option<String>), Error> {
    let conn = db::open()?;
    let caller = auth::authenticate(req, &conn)?;
    let (limit, after) = page(req)?;
    let mut items = store::list(&conn, caller.user_id(), in_app_only, after, limit + 1)?;
    let next = if items.len() as i64 > limit {
        items.truncate(limit as usize);
        items
            .last()
            .map(|last| encode_cursor(last.created_at.naive_utc(), last.id))
    } else {
        None
    };
    let mut value = json!({ "items": items, "next_cursor": next });
    if in_app_only {
        value["unread_count"] = json!(store::unread(&conn, caller.user_id())?.0);
    }
    Ok((value, next))
}

/// `GET /api/notifications`: in-app notifications, newest first, with the unread count.
pub fn list(req: Request, _: Params) -> Response {
    respond(listing(&req, true).map(|(value, _)| response::json(200, &value)))
}

/// `GET /api/notifications/history`: every delivery (in-app, email, webhook) with its status,
/// attempts and last error, newest first.
pub fn history(req: Request, _: Params) -> Response {
    respond(listing(&req, false).map(|(value, _)| response::json(200, &value)))
}

/// `GET /api/notifications/unread-count`: `{"unread_count": n}` with an `ETag` that changes
/// whenever the unread set does; a matching `If-None-Match` gets `304` and no body, so polling
/// every few seconds costs one indexed count.
pub fn unread_count(req: Request, _: Params) -> Response {
    respond((|| {
        let conn = db::open()?;
        let caller = auth::authenticate(&req, &conn)?;
        let (count, newest) = store::unread(&conn, caller.user_id())?;
        let etag = format!(
            "\"{count}-{}\"",
            newest.map_or(0, |at| at.as_datetime().timestamp_micros())
        );
        let matches = req
            .header("if-none-match")
            .and_then(|v| v.as_str())
            .is_some_and(|v| {
                v.split(',')
                    .any(|tag| tag.trim().trim_start_matches("W/") == etag)
            });
        if matches {
            return Ok(Response::builder()
                .status(304)
                .header("etag", etag)
                .header("cache-control", "private, no-cache")
                .build());
        }
        let mut response = response::json(200, &json!({ "unread_count": count }));
        response.set_header("etag", etag);
        response.set_header("cache-control", "private, no-cache");
        Ok(response)
    })())
}

/// `POST /api/notifications/{id}/read`: 204, or 404 if the user has no such notification.
pub fn read(req: Request, params: Params) -> Response {
    respond((|| {
        let conn = db::open()?;
        let caller = auth::authenticate(&req, &conn)?;
        let id = params
            .get("id")
            .and_then(|id| Uuid::try_parse(id).ok())
            .ok_or(Error::NotFound("notification"))?;
        if !store::mark_read(&conn, caller.user_id(), id)? {
            return Err(Error::NotFound("notification"));
        }
        Ok(Response::builder().status(204).build())
    })())
}

/// `POST /api/notifications/read-all`: marks every in-app notification read.
pub fn read_all(req: Request, _: Params) -> Response {
    respond((|| {
        let conn = db::open()?;
        let caller = auth::authenticate(&req, &conn)?;
        let updated = store::mark_all_read(&conn, caller.user_id())?;
        Ok(response::json(200, &json!({ "updated": updated })))
    })())
}
