//! Liveness and readiness.
//!
//! `GET /health` answers from memory: if the component can run at all, it is alive.
//! `GET /ready` asks each dependency one cheap question (`SELECT 1` on PostgreSQL; `PING` on
//! Redis when `event_bus` is `redis`) and answers 200 when all of them answer, otherwise 503
//! problem+json whose `checks` member says which one is down. Every failure is caught and turned
//! into a check state; the cause is logged, never sent (5xx bodies stay opaque). A fresh
//! connection is opened per request, so a database that comes back is seen on the next probe.

use std::collections::BTreeMap;

use platform::config::{self, ConfigError, EventBus};
use platform::db;
use platform::problem::Problem;
use platform::response;
use serde::Serialize;
use serde_json::json;
use spin_sdk::http::{IntoResponse, Params, Request, Response};

/// The Spin variable holding the Redis address.
const REDIS_URL: &str = "redis_url";

/// `GET /health`: 200 with no I/O.
pub fn liveness(_: Request, _: Params) -> Response {
    no_store(response::json(200, &json!({"status": "ok"})))
}

/// `GET /ready`: 200 when every dependency answers, 503 problem+json naming the ones that do not.
pub fn readiness(_: Request, _: Params) -> Response {
    let mut report = Report::default();
    report.record("postgres", check_postgres());
    match EventBus::from_config() {
        Ok(EventBus::Redis) => report.record("redis", check_redis()),
        Ok(EventBus::Dapr) => {
            // Dapr's sidecar has its own readiness probe in the cluster; Redis is not used.
        }
        Err(err) => report.record("event_bus", Err(Failure::Config(err))),
    }
    no_store(report.into_response())
}

fn no_store(mut response: Response) -> Response {
    response.set_header("cache-control", "no-store");
    response
}

/// Why a dependency was found not ready.
#[derive(Debug)]
enum Failure {
    /// Its variable is missing or invalid.
    Config(ConfigError),
    /// It did not answer; the text is for the log only.
    Down(String),
}

fn check_postgres() -> Result<(), Failure> {
    let conn = db::open().map_err(|err| match err {
        db::DbError::Config(err) => Failure::Config(err),
        err => Failure::Down(err.to_string()),
    })?;
    let rows = conn
        .query("SELECT 1", &[])
        .map_err(|err| Failure::Down(format!("SELECT 1: {}", db::describe(&err))))?;
    if rows.rows.len() == 1 {
        Ok(())
    } else {
        Err(Failure::Down(format!(
            "SELECT 1 returned {} rows",
            rows.rows.len()
        )))
    }
}

fn check_redis() -> Result<(), Failure> {
    let url = config::required(REDIS_URL).map_err(Failure::Config)?;
    let conn = spin_sdk::redis::Connection::open(&url)
        .map_err(|err| Failure::Down(format!("opening Redis: {err:?}")))?;
    conn.execute("PING", &[])
        .map(drop)
        .map_err(|err| Failure::Down(format!("PING: {err:?}")))
}

/// The state of one dependency as the probe reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum CheckState {
    Up,
    Down,
    Misconfigured,
}

/// The outcome of every check, by dependency name.
#[derive(Debug, Default)]
struct Report {
    checks: BTreeMap<&'static str, CheckState>,
}

impl Report {
    fn record(&mut self, name: &'static str, outcome: Result<(), Failure>) {
        let state = match outcome {
            Ok(()) => CheckState::Up,
            Err(Failure::Down(cause)) => {
                platform::log::error("api", &format!("readiness: {name} is down: {cause}"), &[]);
                CheckState::Down
            }
            Err(Failure::Config(err)) => {
                platform::log::error(
                    "api",
                    &format!("readiness: {name} is misconfigured: {err}"),
                    &[],
                );
                CheckState::Misconfigured
            }
        };
        self.checks.insert(name, state);
    }

    fn failing(&self) -> Vec<String> {
        self.checks
            .iter()
            .filter(|(_, state)| **state != CheckState::Up)
            .map(|(name, state)| match state {
                CheckState::Misconfigured => format!("{name} is misconfigured"),
                _ => format!("{name} is down"),
            })
            .collect()
    }
}

impl IntoResponse for Report {
    fn into_response(self) -> Response {
        let failing = self.failing();
        if failing.is_empty() {
            return response::json(200, &json!({"status": "ready", "checks": self.checks}));
        }
        Problem::typed(503, "not-ready", "Service not ready")
            .with_detail(format!("Not ready: {}.", failing.join("; ")))
            .with_extension("checks", &self.checks)
            .into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn body(response: &Response) -> Value {
        serde_json::from_slice(response.body()).expect("a JSON body")
    }

    fn content_type(response: &Response) -> Option<&str> {
        response.header("content-type").and_then(|v| v.as_str())
    }

    #[test]
    fn all_dependencies_up_is_200_json_listing_them() {
        let mut report = Report::default();
        report.record("postgres", Ok(()));
        report.record("redis", Ok(()));
        let response = report.into_response();
        assert_eq!(*response.status(), 200);
        assert_eq!(content_type(&response), Some("application/json"));
        assert_eq!(
            body(&response),
            json!({"status": "ready", "checks": {"postgres": "up", "redis": "up"}})
        );
    }

    #[test]
    fn a_dependency_down_is_503_problem_naming_it_without_the_cause() {
        let mut report = Report::default();
        report.record(
            "postgres",
            Err(Failure::Down("connection refused at 10.0.0.7".to_owned())),
        );
        report.record("redis", Ok(()));
        let response = report.into_response();
        assert_eq!(*response.status(), 503);
        assert_eq!(content_type(&response), Some("application/problem+json"));
        let body = body(&response);
        assert_eq!(body["type"], json!("tag:todo-app,2026:problems/not-ready"));
        assert_eq!(body["status"], json!(503));
        assert_eq!(body["detail"], json!("Not ready: postgres is down."));
        assert_eq!(body["checks"], json!({"postgres": "down", "redis": "up"}));
        assert!(!body.to_string().contains("10.0.0.7"));
    }

    #[test]
    fn a_bad_variable_is_reported_as_misconfigured() {
        let mut report = Report::default();
        report.record("postgres", Ok(()));
        report.record(
            "event_bus",
            Err(Failure::Config(ConfigError::Invalid {
                name: "event_bus".to_owned(),
                expected: "`redis` or `dapr`",
            })),
        );
        let response = report.into_response();
        assert_eq!(*response.status(), 503);
        assert_eq!(
            body(&response)["detail"],
            json!("Not ready: event_bus is misconfigured.")
        );
    }
}
