//! A host that runs `spin.toml` applications under Wasmtime with Spin's semantics, so the
//! project's real `.wasm` components can be run and tested where the `spin` CLI cannot be
//! installed.
//!
//! # Layout
//!
//! - [`manifest`], [`variables`], [`runtime_config`]: reading `spin.toml`, resolving Spin
//!   variables and `{{ templates }}`, and the runtime config file.
//! - [`engine`]: the Wasmtime engine (pooling allocator), the linker, and pre-instantiated
//!   components; [`state`]: what each instance's store holds.
//! - Triggers: [`http_trigger`] (with [`router`]), [`redis_trigger`], [`cron_trigger`],
//!   [`command_trigger`]; [`app`] starts them.
//! - Host interfaces: [`postgres`] (`spin:postgres@4.0.0`), [`outbound_redis`]
//!   (`fermyon:spin/redis@2.0.0`), [`variables_host`] (`fermyon:spin/variables@2.0.0`),
//!   [`outbound_http`] (`wasi:http` with `allowed_outbound_hosts` and service chaining);
//!   [`allowed_hosts`] decides what a component may reach.

pub mod allowed_hosts;
pub mod app;
pub mod bindings;
pub mod command_trigger;
pub mod cron_trigger;
pub mod engine;
pub mod http_trigger;
pub mod manifest;
pub mod outbound_http;
pub mod outbound_redis;
pub mod postgres;
pub mod redis_trigger;
pub mod router;
pub mod runtime_config;
pub mod state;
pub mod variables;
pub mod variables_host;
