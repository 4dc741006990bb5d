//! What one component instance's `Store` holds: its WASI context, its resource table, and a view
//! of the component's configuration (resolved variables, allowed outbound hosts) and of the
//! application-wide services (database pools, Redis clients) it may reach.

use std::{collections::HashMap, sync::Arc};

use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};
use wasmtime_wasi_http::{WasiHttpCtx, WasiHttpCtxView, WasiHttpView};

use crate::allowed_hosts::AllowedHosts;

/// The parts of a component's configuration its host calls need, resolved once at start-up.
#[derive(Debug)]
pub struct ComponentRuntime {
    /// The component id from the manifest.
    pub id: String,
    /// Component variables with every `{{ template }}` already expanded.
    pub variables: HashMap<String, String>,
    /// The component's `allowed_outbound_hosts`, parsed.
    pub allowed_hosts: AllowedHosts,
}

/// Application-wide clients shared by every instance.
#[derive(Default)]
pub struct Services {
    /// One PostgreSQL pool per connection string.
    pub postgres: crate::postgres::Pools,
    /// One Redis client per address.
    pub redis: crate::outbound_redis::Clients,
    /// Service chaining (`http://<component>.spin.internal`): set once the HTTP trigger exists.
    pub chaining: std::sync::OnceLock<Arc<dyn crate::outbound_http::LocalDispatch>>,
}

/// The data of one component instance's `Store`.
pub struct HostState {
    pub(crate) wasi: WasiCtx,
    pub(crate) http: WasiHttpCtx,
    pub(crate) table: ResourceTable,
    pub(crate) component: Arc<ComponentRuntime>,
    pub(crate) services: Arc<Services>,
    pub(crate) limits: wasmtime::StoreLimits,
    pub(crate) outbound_http: crate::outbound_http::OutboundHttp,
}

impl HostState {
    pub(crate) fn new(
        wasi: WasiCtx,
        component: Arc<ComponentRuntime>,
        services: Arc<Services>,
        limits: wasmtime::StoreLimits,
    ) -> Self {
        let outbound_http = crate::outbound_http::OutboundHttp {
            component: component.clone(),
            services: services.clone(),
        };
        Self {
            outbound_http,
            wasi,
            http: WasiHttpCtx::new(),
            table: ResourceTable::new(),
            component,
            services,
            limits,
        }
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl WasiHttpView for HostState {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView {
            ctx: &mut self.http,
            table: &mut self.table,
            hooks: &mut self.outbound_http,
        }
    }
}
