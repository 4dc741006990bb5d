//! Outbound HTTP from components (`wasi:http/outgoing-handler`), with Spin's permission rules:
//! a request goes out only when the component's `allowed_outbound_hosts` allow it, and requests
//! to `http://<component>.spin.internal` (service chaining) or to relative URLs (`self`) are
//! handled in-process by the HTTP trigger instead of going over the network.
//!
//! Follows spinframework/spin `crates/factor-outbound-http/src/wasi.rs` and
//! `crates/trigger-http/src/outbound_http.rs`.

use std::{future::Future, pin::Pin, sync::Arc};

use wasmtime_wasi_http::{Error, RequestOptions, WasiBody, WasiHttpHooks};

use crate::{
    allowed_hosts::parse_service_chaining_target,
    state::{ComponentRuntime, Services},
};

/// A boxed future as the wasi-http hooks want it.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

/// Where in-process requests go: implemented by the HTTP trigger.
pub trait LocalDispatch: Send + Sync {
    /// Handles a request addressed to `component_id` (service chaining), as Spin does with a
    /// synthetic route match: the whole path is the component's path.
    fn to_component(
        &self,
        component_id: String,
        req: http::Request<WasiBody>,
    ) -> BoxFuture<anyhow::Result<http::Response<WasiBody>>>;

    /// Handles a request to the application itself (a relative URL), routed like any inbound
    /// request.
    fn to_self(
        &self,
        req: http::Request<WasiBody>,
    ) -> BoxFuture<anyhow::Result<http::Response<WasiBody>>>;
}

/// The `wasi:http` hooks of one instance.
pub struct OutboundHttp {
    pub(crate) component: Arc<ComponentRuntime>,
    pub(crate) services: Arc<Services>,
}

type SendResult = Result<
    (
        http::Response<WasiBody>,
        Box<dyn Future<Output = Result<(), Error>> + Send>,
    ),
    Error,
>;

impl WasiHttpHooks for OutboundHttp {
    /// A guest request without a scheme and authority is a request to the app itself.
    fn default_scheme(&mut self) -> Option<http::uri::Scheme> {
        Some(http::uri::Scheme::HTTP)
    }

    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        fut: Box<dyn Future<Output = Result<(), Error>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        drop(fut);
        let component = self.component.clone();
        let services = self.services.clone();
        Box::new(async move {
            let uri = request.uri().clone();
            let done: Box<dyn Future<Output = Result<(), Error>> + Send> =
                Box::new(async { Ok(()) });

            if uri.host().is_none_or(str::is_empty) {
                if !component.allowed_hosts.allows_self() {
                    deny(&component.id, &uri);
                    return Err(Error::HttpRequestDenied);
                }
                let local = local_dispatch(&services)?;
                let response = local.to_self(request).await.map_err(internal)?;
                return Ok((response, done));
            }

            if let Some(target) = parse_service_chaining_target(&uri) {
                if !component.allowed_hosts.allows_url(&uri.to_string(), "http") {
                    deny(&component.id, &uri);
                    return Err(Error::HttpRequestDenied);
                }
                let local = local_dispatch(&services)?;
                let response = local
                    .to_component(target, request)
                    .await
                    .map_err(internal)?;
                return Ok((response, done));
            }

            if !component
                .allowed_hosts
                .allows_url(&uri.to_string(), "https")
            {
                deny(&component.id, &uri);
                return Err(Error::HttpRequestDenied);
            }
            let (response, io) = wasmtime_wasi_http::default_send_request(request, options).await?;
            use http_body_util::BodyExt;
            Ok((
                response.map(BodyExt::boxed_unsync),
                Box::new(io) as Box<dyn Future<Output = Result<(), Error>> + Send>,
            ))
        })
    }
}

fn local_dispatch(services: &Services) -> Result<Arc<dyn LocalDispatch>, Error> {
    services
        .chaining
        .get()
        .cloned()
        .ok_or_else(|| internal(anyhow::anyhow!("this application has no HTTP trigger")))
}

fn internal(err: anyhow::Error) -> Error {
    tracing::error!("in-process HTTP request failed: {err:#}");
    Error::from(
        wasmtime_wasi_http::p2::bindings::http::types::ErrorCode::InternalError(Some(format!(
            "{err:#}"
        ))),
    )
}

/// Spin tells the operator why a request was refused, since the guest only sees
/// `HttpRequestDenied`.
fn deny(component: &str, uri: &http::Uri) {
    let host = uri.authority().map(|a| a.as_str()).unwrap_or("self");
    let scheme = uri.scheme_str().unwrap_or("http");
    tracing::warn!(
        "A component tried to make an HTTP request to a non-allowed host '{host}'. \
         To allow requests, add 'allowed_outbound_hosts = [\"{scheme}://{host}\"]' to the \
         manifest component section of '{component}'."
    );
    eprintln!(
        "A component tried to make an HTTP request to a non-allowed host '{host}'.\n\
         To allow requests, add 'allowed_outbound_hosts = [\"{scheme}://{host}\"]' to the manifest component section '{component}'."
    );
}
