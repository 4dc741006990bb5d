//! A closed-loop HTTP/1.1 load generator: `--concurrency` connections each send one request
//! at a time (keep-alive) for `--duration`, after a `--warmup` whose requests are not counted.
//! Prints one JSON object with throughput and latency percentiles.
//!
//! Closed-loop load measures the server at a fixed concurrency, which is what the benchmark
//! compares (the host against a plain hyper server on the same machine, in the same run).

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use bytes::Bytes;
use clap::Parser;
use http_body_util::{BodyExt, Empty};
use hyper::Request;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

#[derive(Parser)]
struct Args {
    /// Target URL (http only).
    #[arg(long)]
    url: String,
    /// Concurrent connections, each with one request in flight.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Measured duration in seconds.
    #[arg(long, default_value_t = 10)]
    duration: u64,
    /// Unmeasured warm-up in seconds.
    #[arg(long, default_value_t = 2)]
    warmup: u64,
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let uri: hyper::Uri = args.url.parse()?;
    let authority = uri.authority().context("URL needs host:port")?.clone();
    let warmup_end = Instant::now() + Duration::from_secs(args.warmup);
    let end = warmup_end + Duration::from_secs(args.duration);

    let mut workers = Vec::new();
    for _ in 0..args.concurrency {
        let uri = uri.clone();
        let authority = authority.clone();
        workers.push(tokio::spawn(async move {
            let stream = TcpStream::connect(authority.as_str()).await?;
            stream.set_nodelay(true)?;
            let (mut sender, conn) =
                hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
            tokio::spawn(conn);
            let mut latencies = Vec::new();
            let mut errors = 0u64;
            loop {
                let started = Instant::now();
                if started >= end {
                    break;
                }
                let req = Request::get(uri.clone())
                    .header(hyper::header::HOST, authority.as_str())
                    .body(Empty::<Bytes>::new())?;
                let res = sender.send_request(req).await?;
                let ok = res.status().is_success();
                res.into_body().collect().await?;
                let elapsed = started.elapsed();
                if started >= warmup_end {
                    if ok {
                        latencies.push(elapsed);
                    } else {
                        errors += 1;
                    }
                }
            }
            anyhow::Ok((latencies, errors))
        }));
    }

    let mut latencies = Vec::new();
    let mut errors = 0;
    for worker in workers {
        let (l, e) = worker.await??;
        latencies.extend(l);
        errors += e;
    }
    if latencies.is_empty() {
        bail!("no successful requests");
    }
    latencies.sort_unstable();
    let pct = |p: f64| {
        let index = ((latencies.len() as f64 * p).ceil() as usize).clamp(1, latencies.len()) - 1;
        latencies[index].as_secs_f64() * 1000.0
    };
    let report = serde_json::json!({
        "url": args.url,
        "concurrency": args.concurrency,
        "duration_s": args.duration,
        "requests": latencies.len(),
        "errors": errors,
        "requests_per_s": latencies.len() as f64 / args.duration as f64,
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
    });
    println!("{report}");
    Ok(())
}
