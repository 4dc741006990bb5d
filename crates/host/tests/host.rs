//! End-to-end tests of `spin-host`: real test components (`tests/components/*`, built for
//! `wasm32-wasip2` before the run) in a host started in-process (and once as the CLI binary),
//! against real PostgreSQL (127.0.0.1:5432, user `postgres`, trust auth) and Redis
//! (127.0.0.1:6379).
//!
//! Every assertion states the behaviour Spin has, with the Spin source or document it comes
//! from, so a failure here means the host differs from Spin (or the environment is missing).
//! The tests never time anything: where they wait (for a Redis delivery or a cron tick), they
//! poll up to a generous deadline and then assert on what they saw.
//!
//! All the tests live in this one test binary (one link of Wasmtime instead of one per file).
//! They run in parallel: each uses its own channel names, Redis keys and PostgreSQL schema.
//!
//! # Layout
//!
//! - [`support`] — locating the `.wasm` files, per-test manifests, starting the host, clients for
//!   PostgreSQL and Redis, a local HTTP server that records what it receives.
//! - [`http_trigger`] — routing, the `spin-*` headers, health, 404 and 500.
//! - [`variables`] — component variables, templates, runtime config providers, load errors.
//! - [`postgres`] — `spin:postgres@4.0.0` type conversions, transactions and errors.
//! - [`outbound_redis`] — `fermyon:spin/redis@2.0.0`.
//! - [`outbound_http`] — `allowed_outbound_hosts`, service chaining, self requests.
//! - [`redis_trigger`], [`cron_trigger`], [`command_trigger`] — the other triggers.
//! - [`cli`] — the `spin-host` binary end to end.

#[path = "host/support.rs"]
mod support;

#[path = "host/cli.rs"]
mod cli;
#[path = "host/command_trigger.rs"]
mod command_trigger;
#[path = "host/cron_trigger.rs"]
mod cron_trigger;
#[path = "host/http_trigger.rs"]
mod http_trigger;
#[path = "host/outbound_http.rs"]
mod outbound_http;
#[path = "host/outbound_redis.rs"]
mod outbound_redis;
#[path = "host/postgres.rs"]
mod postgres;
#[path = "host/redis_trigger.rs"]
mod redis_trigger;
#[path = "host/variables.rs"]
mod variables;
