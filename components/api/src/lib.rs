//! The `api` component: the HTTP API that the web UI and other clients use.
//!
//! This file is the route table; each handler lives in the module named after what it serves.
//! `spin.toml` sends `/api/...`, `/health` and `/ready` here, so every other path under `/api`
//! that no route claims gets a problem+json 404 rather than the router's plain-text one.
//!
//! # Layout
//!
//! - [`accounts`]: register, login, logout and the caller's profile (`/api/auth/...`), with
//!   password hashing, session tokens, login throttling and the CSRF rule.
//! - [`openapi`]: `GET /api/openapi.json`, the OpenAPI 3.1 description of every route.
//! - [`tasks`]: tasks (`/api/tasks`, `/api/tasks/{id}`, `/api/tasks/{id}/toggle`), with ETags,
//!   `If-Match`, idempotency keys, keyset cursors and their outbox events.
//! - [`recurring`]: recurring patterns (`/api/tasks/recurring/...`): structured or RRULE
//!   patterns, the preview, generation of the first horizon, and the series editing scopes.
//! - [`health`]: liveness (`GET /health`, no I/O) and readiness (`GET /ready`, checks
//!   PostgreSQL and, when the event bus is Redis, Redis).

use platform::problem::Problem;
use spin_sdk::http::{Params, Request, Response, Router};
#[cfg(target_arch = "wasm32")]
use spin_sdk::http_component;

pub mod accounts;
pub mod health;
pub mod openapi;
pub mod recurring;
pub mod tasks;

/// The component's entry point. It is exported only when built for WebAssembly: natively (for
/// `cargo test`) the export's `wasi:http/...#handle` symbol name cannot be linked into a cdylib.
#[cfg_attr(target_arch = "wasm32", http_component)]
pub fn handle(req: Request) -> Response {
    let mut router = Router::new();
    router.get("/health", health::liveness);
    router.head("/health", health::liveness);
    router.get("/ready", health::readiness);
    router.head("/ready", health::readiness);
    router.any("/health", |_: Request, _: Params| {
        Problem::method_not_allowed("GET, HEAD")
    });
    router.any("/ready", |_: Request, _: Params| {
        Problem::method_not_allowed("GET, HEAD")
    });
    router.post("/api/auth/register", accounts::register);
    router.post("/api/auth/login", accounts::login);
    router.post("/api/auth/logout", accounts::logout);
    router.get("/api/auth/me", accounts::me);
    router.patch("/api/auth/me", accounts::update_me);
    for path in ["/api/auth/register", "/api/auth/login", "/api/auth/logout"] {
        router.any(path, |_: Request, _: Params| {
            Problem::method_not_allowed("POST")
        });
    }
    router.any("/api/auth/me", |_: Request, _: Params| {
        Problem::method_not_allowed("GET, PATCH")
    });
    router.get("/api/openapi.json", openapi::document);
    router.post("/api/tasks", tasks::create);
    router.get("/api/tasks", tasks::list);
    router.any("/api/tasks", |_: Request, _: Params| {
        Problem::method_not_allowed("GET, POST")
    });
    // Static segments (e.g. `/api/tasks/recurring`) win over `:id` in spin-sdk's router
    // (routefinder ranks them first), so other task routes can sit beside these.
    router.post("/api/tasks/recurring", recurring::create);
    router.get("/api/tasks/recurring", recurring::list);
    router.post("/api/tasks/recurring/preview", recurring::preview);
    router.get("/api/tasks/recurring/:id", recurring::get);
    router.put("/api/tasks/recurring/:id", recurring::replace);
    router.delete("/api/tasks/recurring/:id", recurring::delete);
    router.get("/api/tasks/recurring/:id/instances", recurring::instances);
    router.put(
        "/api/tasks/recurring/:id/instances/:task_id",
        recurring::replace_following,
    );
    router.delete(
        "/api/tasks/recurring/:id/instances/:task_id",
        recurring::delete_following,
    );
    router.any("/api/tasks/recurring", |_: Request, _: Params| {
        Problem::method_not_allowed("GET, POST")
    });
    router.any("/api/tasks/recurring/:id", |_: Request, _: Params| {
        Problem::method_not_allowed("GET, PUT, DELETE")
    });
    router.get("/api/tasks/:id", tasks::get);
    router.put("/api/tasks/:id", tasks::replace);
    router.patch("/api/tasks/:id", tasks::patch);
    router.delete("/api/tasks/:id", tasks::delete);
    router.any("/api/tasks/:id", |_: Request, _: Params| {
        Problem::method_not_allowed("GET, PUT, PATCH, DELETE")
    });
    router.patch("/api/tasks/:id/toggle", tasks::toggle);
    router.any("/api/tasks/:id/toggle", |_: Request, _: Params| {
        Problem::method_not_allowed("PATCH")
    });
    router.any("/api", not_found);
    router.any("/api/*", not_found);
    router.handle(req)
}

fn not_found(req: Request, _: Params) -> Problem {
    Problem::not_found().with_detail(format!("No route for {}.", req.path()))
}

#[cfg(test)]
mod tests {
    //! The route table, natively: only routes that need no host interface are exercised here;
    //! `/ready` runs against real PostgreSQL and Redis in the end-to-end tests.
    use super::*;
    use spin_sdk::http::Method;

    fn call(method: Method, path: &str) -> Response {
        handle(Request::builder().method(method).uri(path).build())
    }

    fn content_type(response: &Response) -> Option<&str> {
        response.header("content-type").and_then(|v| v.as_str())
    }

    #[test]
    fn health_is_200_json() {
        let response = call(Method::Get, "/health");
        assert_eq!(*response.status(), 200);
        assert_eq!(content_type(&response), Some("application/json"));
        assert_eq!(response.body(), br#"{"status":"ok"}"#);
    }

    #[test]
    fn unknown_api_routes_are_problem_json_404s() {
        for path in ["/api", "/api/", "/api/nope", "/api/tasks/1/nope?x=1"] {
            let response = call(Method::Get, path);
            assert_eq!(*response.status(), 404, "{path}");
            assert_eq!(
                content_type(&response),
                Some("application/problem+json"),
                "{path}"
            );
        }
    }

    #[test]
    fn other_methods_on_health_routes_are_405_with_allow() {
        let response = call(Method::Post, "/health");
        assert_eq!(*response.status(), 405);
        assert_eq!(
            response.header("allow").and_then(|v| v.as_str()),
            Some("GET, HEAD")
        );
        assert_eq!(*call(Method::Delete, "/ready").status(), 405);
    }

    #[test]
    fn a_static_segment_wins_over_a_task_id_whatever_the_order_of_registration() {
        fn answer(text: &'static str) -> impl Fn(Request, Params) -> Response {
            move |_, _| Response::new(200, text)
        }
        for static_first in [true, false] {
            let mut router = Router::new();
            if static_first {
                router.get("/api/tasks/recurring", answer("static"));
            }
            router.get("/api/tasks/:id", answer("id"));
            if !static_first {
                router.get("/api/tasks/recurring", answer("static"));
            }
            let body = |path: &str| {
                let req = Request::builder().method(Method::Get).uri(path).build();
                router.handle(req).body().to_vec()
            };
            assert_eq!(body("/api/tasks/recurring"), b"static");
            assert_eq!(
                body("/api/tasks/0f8b5a52-8f0c-4e5e-9a39-3f9c2f5a1d01"),
                b"id"
            );
        }
    }
}
