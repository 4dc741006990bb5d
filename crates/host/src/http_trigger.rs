//! The HTTP trigger: a hyper server that routes each request as Spin does and runs the matched
//! component's `wasi:http/incoming-handler` in a fresh instance.
//!
//! Follows spinframework/spin `crates/trigger-http/src/{server.rs,wasi.rs,headers.rs}`:
//! `/.well-known/spin/health` answers `OK` without touching a component, unmatched paths get an
//! empty 404, the request URI is made absolute from the `Host` header, the `spin-*` headers are
//! added, and a guest that fails before responding gives an empty 500.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Weak},
};

use anyhow::{Context, Result, anyhow, bail};
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Request, Response, StatusCode, Uri, uri::Authority};
use http_body_util::{BodyExt, Empty, Full};
use hyper::{body::Incoming, service::service_fn};
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::net::TcpListener;
use wasmtime_wasi_http::{
    WasiBody, WasiHttpView,
    p2::bindings::{ProxyPre, http::types::Scheme},
};

use crate::{
    allowed_hosts::is_service_chaining_host,
    engine::Runtime,
    outbound_http::{BoxFuture, LocalDispatch},
    router::{RouteMatch, Router},
    state::HostState,
};

const WELL_KNOWN_PREFIX: &str = "/.well-known/spin/";

/// The address a chained (in-process) request appears to come from, as in Spin.
const CHAINED_CLIENT_ADDR: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED), 0);

/// The HTTP trigger of one application.
pub struct HttpTrigger {
    /// A handle on itself, so in-process (chained) requests can be run from `&self`.
    me: Weak<HttpTrigger>,
    runtime: Arc<Runtime>,
    router: Router,
    handlers: HashMap<String, ProxyPre<HostState>>,
    app_name: String,
}

impl HttpTrigger {
    /// Builds the router and the pre-instantiated handlers. `routes` are `(route, component)`
    /// for public routes; `private` lists components reachable only by service chaining.
    pub fn new(
        runtime: Arc<Runtime>,
        app_name: String,
        routes: &[(String, String)],
        private: &[String],
    ) -> Result<Arc<Self>> {
        let router = Router::build(routes)?;
        let mut handlers = HashMap::new();
        for id in routes.iter().map(|(_, id)| id).chain(private) {
            let component = runtime.component(id)?;
            let pre = ProxyPre::new(component.pre.clone())
                .map_err(anyhow::Error::from)
                .with_context(|| {
                    format!("component `{id}` does not export wasi:http/incoming-handler@0.2.x")
                })?;
            handlers.insert(id.clone(), pre);
        }
        let trigger = Arc::new_cyclic(|me| Self {
            me: me.clone(),
            runtime: runtime.clone(),
            router,
            handlers,
            app_name,
        });
        let dispatch: Arc<dyn LocalDispatch> = trigger.clone();
        let _ = runtime.services.chaining.set(dispatch);
        Ok(trigger)
    }

    /// Serves until the listener fails.
    pub async fn serve(self: Arc<Self>, listener: TcpListener) -> Result<()> {
        loop {
            let (stream, client_addr) = listener.accept().await?;
            let trigger = self.clone();
            tokio::spawn(async move {
                let service = service_fn(move |req: Request<Incoming>| {
                    let trigger = trigger.clone();
                    async move {
                        let req = req.map(|body| {
                            body.map_err(wasmtime_wasi_http::Error::from).boxed_unsync()
                        });
                        anyhow::Ok(trigger.handle(req, client_addr).await)
                    }
                });
                if let Err(err) = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new())
                    .serve_connection(TokioIo::new(stream), service)
                    .await
                {
                    tracing::debug!("error serving HTTP connection: {err:#}");
                }
            });
        }
    }

    /// Handles one inbound request. Never fails: errors become an empty 500, as in Spin.
    pub async fn handle(
        self: &Arc<Self>,
        mut req: Request<WasiBody>,
        client_addr: SocketAddr,
    ) -> Response<WasiBody> {
        strip_forbidden_headers(&mut req);
        let path = req.uri().path().to_owned();
        if let Some(well_known) = path.strip_prefix(WELL_KNOWN_PREFIX) {
            return match well_known {
                "health" => text(StatusCode::OK, "OK"),
                "info" => self.app_info(),
                _ => empty(StatusCode::NOT_FOUND),
            };
        }
        let Some(route_match) = self.router.route(&path) else {
            return empty(StatusCode::NOT_FOUND);
        };
        self.respond(req, route_match, client_addr).await
    }

    async fn respond(
        self: &Arc<Self>,
        req: Request<WasiBody>,
        route_match: RouteMatch,
        client_addr: SocketAddr,
    ) -> Response<WasiBody> {
        match self.execute(req, &route_match, client_addr).await {
            Ok(response) => response,
            Err(err) => {
                tracing::error!(
                    "Error processing request for component `{}`: {err:#}",
                    route_match.component_id()
                );
                empty(StatusCode::INTERNAL_SERVER_ERROR)
            }
        }
    }

    async fn execute(
        &self,
        mut req: Request<WasiBody>,
        route_match: &RouteMatch,
        client_addr: SocketAddr,
    ) -> Result<Response<WasiBody>> {
        set_request_uri(&mut req)?;
        let full_url = req.uri().to_string();
        let path = req.uri().path().to_owned();
        let extra = route_match.spin_headers(&full_url, &path, client_addr);
        // Appended, not inserted: a client-sent header of the same name reaches the guest too,
        // as in Spin (crates/trigger-http/src/wasi.rs `prepare_request`).
        let headers = req.headers_mut();
        for (name, value) in extra {
            headers.append(
                HeaderName::from_bytes(name.as_bytes())?,
                HeaderValue::from_str(&value)?,
            );
        }

        let component_id = route_match.component_id();
        let pre = self
            .handlers
            .get(component_id)
            .with_context(|| format!("unknown component `{component_id}`"))?;
        let component = self.runtime.component(component_id)?;
        let mut store = self.runtime.new_store(component);
        let proxy = pre.instantiate_async(&mut store).await?;

        let request = store
            .data_mut()
            .http()
            .new_incoming_request(Scheme::Http, req)?;
        let (response_tx, response_rx) = tokio::sync::oneshot::channel();
        let outparam = store.data_mut().http().new_response_outparam(response_tx)?;

        let task = tokio::spawn(async move {
            proxy
                .wasi_http_incoming_handler()
                .call_handle(&mut store, request, outparam)
                .await
        });

        match response_rx.await {
            Ok(response) => {
                // The guest may still be streaming the body; its errors after this point
                // can only be logged, as in Spin.
                tokio::spawn(async move {
                    match task.await {
                        Ok(Ok(())) => {}
                        Ok(Err(err)) => {
                            tracing::error!("component error after response started: {err:#}")
                        }
                        Err(err) => tracing::error!("guest invocation panicked: {err}"),
                    }
                });
                let response = response.map_err(|code| anyhow!("guest error: {code:?}"))?;
                Ok(response)
            }
            Err(_) => {
                task.await
                    .context("guest invocation panicked")?
                    .map_err(anyhow::Error::from)
                    .context("guest invocation failed")?;
                bail!("guest failed to produce a response prior to returning")
            }
        }
    }

    fn app_info(&self) -> Response<WasiBody> {
        let body = serde_json::json!({ "name": self.app_name, "version": null });
        let mut response = text(StatusCode::OK, &body.to_string());
        response.headers_mut().insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        response
    }
}

impl LocalDispatch for HttpTrigger {
    fn to_component(
        &self,
        component_id: String,
        mut req: Request<WasiBody>,
    ) -> BoxFuture<Result<Response<WasiBody>>> {
        strip_forbidden_headers(&mut req);
        let path = req.uri().path().to_owned();
        let route_match = RouteMatch::synthetic(&component_id, &path);
        let this = self.self_arc();
        Box::pin(async move {
            let this = this?;
            Ok(this.respond(req, route_match, CHAINED_CLIENT_ADDR).await)
        })
    }

    fn to_self(&self, req: Request<WasiBody>) -> BoxFuture<Result<Response<WasiBody>>> {
        let this = self.self_arc();
        Box::pin(async move {
            let this = this?;
            Ok(this.handle(req, CHAINED_CLIENT_ADDR).await)
        })
    }
}

impl HttpTrigger {
    fn self_arc(&self) -> Result<Arc<Self>> {
        self.me.upgrade().context("the HTTP trigger has shut down")
    }
}

/// Spin removes a `Host` header naming a `*.spin.internal` service so that a chained request
/// cannot masquerade as coming from outside (crates/trigger-http/src/headers.rs).
fn strip_forbidden_headers(req: &mut Request<WasiBody>) {
    let chained = req
        .headers()
        .get(http::header::HOST)
        .and_then(|h| h.to_str().ok())
        .is_some_and(is_service_chaining_host);
    if chained {
        req.headers_mut().remove(http::header::HOST);
    }
}

/// Makes the request URI absolute with the server's scheme and the authority from the `Host`
/// header or the URI, refusing a mismatch (crates/trigger-http/src/server.rs `set_req_uri`).
fn set_request_uri(req: &mut Request<WasiBody>) -> Result<()> {
    let mut parts = req.uri().clone().into_parts();
    let header_authority = req
        .headers()
        .get(http::header::HOST)
        .map(|h| -> Result<Authority> {
            let host = h.to_str().context("'Host' header is not valid UTF-8")?;
            host.parse()
                .context("'Host' header contains an invalid authority")
        })
        .transpose()?;
    let authority = match (header_authority, parts.authority.take()) {
        (None, None) => {
            // In-process requests carry no Host; Spin gives them the server's origin.
            Authority::from_static("localhost")
        }
        (None, Some(a)) | (Some(a), None) => a,
        (Some(a1), Some(a2)) => {
            if a1 != a2 {
                bail!("authority in 'Host' header does not match authority in URI");
            }
            a1
        }
    };
    parts.scheme = Some(http::uri::Scheme::HTTP);
    parts.authority = Some(authority);
    if parts.path_and_query.is_none() {
        parts.path_and_query = Some(http::uri::PathAndQuery::from_static("/"));
    }
    *req.uri_mut() = Uri::from_parts(parts)?;
    Ok(())
}

fn empty(status: StatusCode) -> Response<WasiBody> {
    let mut response = Response::new(
        Empty::<Bytes>::new()
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *response.status_mut() = status;
    response
}

fn text(status: StatusCode, body: &str) -> Response<WasiBody> {
    let mut response = Response::new(
        Full::new(Bytes::copy_from_slice(body.as_bytes()))
            .map_err(|never| match never {})
            .boxed_unsync(),
    );
    *response.status_mut() = status;
    response
}
