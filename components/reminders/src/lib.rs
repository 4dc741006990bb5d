//! The `reminders` component: plans reminder rows from task events, fires them on time from a
//! tick, and serves the reminder routes.
//!
//! This file is its trigger and route table. `spin.toml` binds the one `.wasm` three times: as
//! `reminders` (HTTP: the routes below, Dapr deliveries at `/events/reminders/<topic>` and the
//! tick at `/ticks/reminders`), `reminders-redis` (one Redis trigger per consumed topic) and
//! `reminders-cron` (the tick every second).
//!
//! # Layout
//!
//! - [`planning`]: task events in, planned rows and `scheduled`/`cancelled` events out.
//! - [`tick`]: claims due reminders in batches and publishes `reminders.reminder.fired`.
//! - [`routes`]: `GET`/`POST /api/tasks/{id}/reminders`, `DELETE /api/reminders/{id}`,
//!   `POST /api/reminders/{id}/snooze`.
//! - [`store`]: every SQL statement.
//! - [`error`]: the handler error type, shared with the other consumers (`platform::error`).

pub use platform::error;
pub mod planning;
pub mod routes;
pub mod store;
pub mod tick;

use domain::event::{CloudEvent, Consumer, EventData, EventHeader, EventId, Source};
use platform::consume::{self, Failure};
use platform::problem::Problem;
use spin_sdk::http::{Params, Request, Response, Router};
use spin_sdk::pg4::Connection;

use crate::error::Error;

/// The HTTP entry point (exported only for WebAssembly, as in `api`).
#[cfg_attr(target_arch = "wasm32", spin_sdk::http_component)]
pub fn handle(req: Request) -> Response {
    let mut router = Router::new();
    router.get("/api/tasks/:id/reminders", routes::list);
    router.post("/api/tasks/:id/reminders", routes::add);
    router.any("/api/tasks/:id/reminders", |_: Request, _: Params| {
        Problem::method_not_allowed("GET, POST")
    });
    router.delete("/api/reminders/:id", routes::delete);
    router.any("/api/reminders/:id", |_: Request, _: Params| {
        Problem::method_not_allowed("DELETE")
    });
    router.post("/api/reminders/:id/snooze", routes::snooze);
    router.post("/events/reminders/:topic", deliver);
    router.post("/ticks/reminders", tick_route);
    router.options("/ticks/reminders", |_: Request, _: Params| {
        platform::tick::binding_probe()
    });
    router.any("/*", |req: Request, _: Params| {
        Problem::not_found().with_detail(format!("No route for {}.", req.path()))
    });
    router.handle(req)
}

/// A Dapr delivery of one task event ([`consume::dapr_route`]: token, topic, Dapr's reply).
fn deliver(req: Request, params: Params) -> Response {
    consume::dapr_route(Consumer::Reminders, &req, &params, |event| {
        planning::handle(event).map_err(Failure::transient)
    })
}

/// `POST /ticks/reminders`: one tick, for Dapr's cron binding or a Kubernetes CronJob
/// (SpinKube's shim has no cron trigger).
fn tick_route(req: Request, _: Params) -> Response {
    platform::tick::route("reminders", &req, tick::run)
}

/// The Redis trigger: one message per task event, or a batch of them, handled in order
/// ([`consume::redis_message`]).
#[cfg_attr(target_arch = "wasm32", spin_sdk::redis_component)]
pub fn on_message(message: Vec<u8>) -> Result<(), String> {
    consume::redis_message(Consumer::Reminders, &message, |event| {
        planning::handle(event).map_err(Failure::transient)
    })
}

// The cron trigger (`reminders-cron` in spin.toml) runs the same tick as `POST /ticks/reminders`.
platform::cron_tick!(crate::tick::run());

/// The wall clock, as a [`Timestamp`].
pub mod clock {
    use domain::time::Timestamp;

    /// Now.
    pub fn now() -> Timestamp {
        Timestamp::from_datetime(std::time::SystemTime::now().into())
    }
}

/// `data`'s event, with a fresh UUIDv7 and the current time.
pub fn event<D: EventData>(data: &D) -> CloudEvent {
    let id = EventId::new(uuid::Uuid::now_v7()).expect("now_v7 makes version 7 UUIDs");
    let header = EventHeader {
        id,
        time: clock::now(),
        source: Source::Reminders,
        traceparent: None,
    };
    CloudEvent::from_data(data, header)
}

/// Writes `data`'s event to the outbox on `conn` (inside the caller's transaction), and returns
/// it for an inline publish after commit.
pub fn publish<D: EventData>(conn: &Connection, data: &D) -> Result<CloudEvent, Error> {
    let event = event(data);
    platform::outbox::enqueue(conn, &event)?;
    Ok(event)
}

#[cfg(test)]
mod tests {
    //! The route table, natively: only answers that need no host interface.
    use super::*;
    use spin_sdk::http::Method;

    fn call(method: Method, path: &str) -> Response {
        handle(Request::builder().method(method).uri(path).build())
    }

    #[test]
    fn other_methods_are_405_with_allow() {
        let response = call(
            Method::Put,
            "/api/tasks/0f8b5a52-8f0c-4e5e-9a39-3f9c2f5a1d01/reminders",
        );
        assert_eq!(*response.status(), 405);
        assert_eq!(
            response.header("allow").and_then(|v| v.as_str()),
            Some("GET, POST")
        );
        let response = call(
            Method::Get,
            "/api/reminders/0f8b5a52-8f0c-4e5e-9a39-3f9c2f5a1d01",
        );
        assert_eq!(
            response.header("allow").and_then(|v| v.as_str()),
            Some("DELETE")
        );
    }

    #[test]
    fn unknown_paths_are_problem_json_404s() {
        let response = call(Method::Get, "/api/reminders/x/nope");
        assert_eq!(*response.status(), 404);
        assert_eq!(
            response.header("content-type").and_then(|v| v.as_str()),
            Some("application/problem+json")
        );
    }
}
