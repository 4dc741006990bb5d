//! Host-side bindings for the Spin interfaces components import, generated from the WIT that the
//! spin-sdk crate ships (see build.rs), and for the exports of the Redis and cron triggers.

wasmtime::component::bindgen!({
    world: "host",
    path: "wit-gen",
    imports: { default: async | trappable },
    with: {
        "spin:postgres/postgres@4.0.0.connection": crate::postgres::Connection,
        "fermyon:spin/redis@2.0.0.connection": crate::outbound_redis::Connection,
    },
});

/// The export of a Redis-triggered component.
pub mod redis_trigger {
    wasmtime::component::bindgen!({
        world: "redis-trigger",
        path: "wit-gen",
        exports: { default: async },
    });
}

/// The export of a cron-triggered component.
pub mod cron_trigger {
    wasmtime::component::bindgen!({
        world: "fermyon:spin-cron/spin-cron",
        path: "wit-gen",
        exports: { default: async },
    });
}
