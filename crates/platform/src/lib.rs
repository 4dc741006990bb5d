//! Spin-side plumbing shared by every component, so that each component's own code is only its
//! route table and its handlers. Domain rules live in the domain crate; this crate only talks to
//! Spin, using the domain's types where it stores or reads them (the caller's id, an event).
//!
//! # Layout
//!
//! - [`auth`]: who is calling: the session token (cookie or Bearer), the CSRF rule, the session
//!   lookup, and the caller's role.
//! - [`body`]: JSON request bodies, with the same 415/413/400/422 answers everywhere.
//! - [`consume`]: the consumer side of events: decoding a Redis message or a Dapr delivery,
//!   applying an event exactly once (receipt and effects in one transaction), Dapr's replies.
//! - [`config`]: Spin variables read once and parsed into types ([`config::EventBus`]), with
//!   errors that name the variable.
//! - [`error`]: the handler error type of the consumer components, mapped once to problem+json.
//! - [`db`]: opening the PostgreSQL connection named by `db_url`, and running work inside
//!   `BEGIN`/`COMMIT` on it (Spin has no transaction API; one `pg4::Connection` holds one pooled
//!   client for its lifetime, so statements sent on it form a transaction).
//! - [`log`]: structured logs, one JSON object per line on stderr.
//! - [`problem`]: RFC 9457 `application/problem+json` responses, the only shape errors leave a
//!   component in.
//! - [`outbox`]: writing an event to the transactional outbox in the caller's transaction.
//! - [`publish`]: publishing outbox rows on the `event_bus` transport (Redis or Dapr): the
//!   dispatcher's tick and the inline fast path after a commit.
//! - [`response`]: plain JSON responses.
//! - [`internal`]: the token every internal route (ticks, Dapr deliveries, `/metrics`) demands.
//! - [`tick`]: the HTTP tick route and the cron trigger's export, one code path for both.
#![deny(missing_docs)]

pub mod auth;
pub mod body;
pub mod config;
pub mod consume;
pub mod db;
pub mod error;
pub mod internal;
pub mod log;
pub mod outbox;
pub mod problem;
pub mod publish;
pub mod response;
pub mod tick;
