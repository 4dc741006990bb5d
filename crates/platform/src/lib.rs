//! Spin-side plumbing shared by every component, so that each component's own code is only its
//! route table and its handlers. Nothing here knows about tasks, users or events: domain rules
//! live in the domain crate, and this crate only talks to Spin.
//!
//! # Layout
//!
//! - [`config`]: Spin variables read once and parsed into types ([`config::EventBus`]), with
//!   errors that name the variable.
//! - [`db`]: opening the PostgreSQL connection named by `db_url`, and running work inside
//!   `BEGIN`/`COMMIT` on it (Spin has no transaction API; one `pg4::Connection` holds one pooled
//!   client for its lifetime, so statements sent on it form a transaction).
//! - [`problem`]: RFC 9457 `application/problem+json` responses, the only shape errors leave a
//!   component in.
//! - [`response`]: plain JSON responses.
#![deny(missing_docs)]

pub mod config;
pub mod db;
pub mod problem;
pub mod response;
