//! Per-invocation cost of the host, measured in-process (no sockets, no load generator):
//!
//! 1. `instantiate`: a fresh store plus instantiation of the pre-instantiated `bench-hello`
//!    component, then drop: what Spin does per request before any guest code runs.
//! 2. `request`: a whole request through the HTTP trigger's handler (routing, `spin-*` headers,
//!    instantiation, the guest's handler, the response body collected).
//!
//! Usage: `cargo run --release -p bench-instantiate -- [iterations]` from the repository root,
//! after `cargo build --release --target wasm32-wasip2 -p bench-hello`.

use std::time::{Duration, Instant};

use anyhow::Result;
use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use spin_host::{
    app::{Application, UpOptions},
    http_trigger::HttpTrigger,
};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<()> {
    let iterations: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse())
        .transpose()?
        .unwrap_or(20_000);
    let app = Application::load(&UpOptions {
        manifest: "bench/spin.toml".into(),
        listen: "127.0.0.1:0".parse()?,
        runtime_config: None,
        component_ids: vec![],
    })
    .await?;
    let runtime = app.runtime().clone();
    let component = runtime.component("hello")?;

    let mut instantiate = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let started = Instant::now();
        let mut store = runtime.new_store(component);
        component.pre.instantiate_async(&mut store).await?;
        drop(store);
        instantiate.push(started.elapsed());
    }

    let trigger = HttpTrigger::new(
        runtime.clone(),
        "bench".into(),
        &[("/...".into(), "hello".into())],
        &[],
    )?;
    let client: std::net::SocketAddr = "127.0.0.1:1".parse()?;
    let mut request = Vec::with_capacity(iterations);
    for _ in 0..iterations {
        let req = http::Request::get("/")
            .header(http::header::HOST, "localhost")
            .body(
                Empty::<Bytes>::new()
                    .map_err(|never| match never {})
                    .boxed_unsync(),
            )?;
        let started = Instant::now();
        let response = trigger.handle(req, client).await;
        anyhow::ensure!(response.status().is_success(), "bench request failed");
        response.into_body().collect().await?;
        request.push(started.elapsed());
    }

    println!(
        "{}",
        serde_json::json!({
            "iterations": iterations,
            "instantiate": summary(&mut instantiate),
            "request": summary(&mut request),
        })
    );
    Ok(())
}

fn summary(samples: &mut [Duration]) -> serde_json::Value {
    samples.sort_unstable();
    let us = |d: Duration| (d.as_secs_f64() * 1e6 * 10.0).round() / 10.0;
    let pct = |p: f64| us(samples[((samples.len() as f64 * p) as usize).min(samples.len() - 1)]);
    let mean = samples.iter().sum::<Duration>() / samples.len() as u32;
    serde_json::json!({ "mean_us": us(mean), "p50_us": pct(0.5), "p99_us": pct(0.99) })
}
