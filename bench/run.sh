#!/usr/bin/env bash
# Measures the host's per-request overhead: the trivial `bench-hello` component served by
# `spin-host` versus a plain hyper hello-world, both release builds, same load generator, same
# run, same machine. Writes bench/out/host.json and prints a Markdown table for RESULTS.md.
#
#   bash bench/run.sh [concurrency] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
concurrency=${1:-16}
seconds=${2:-10}
mkdir -p bench/out

cargo build --quiet --release -p spin-host -p loadgen
cargo build --quiet --release --target wasm32-wasip2 -p bench-hello

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

target/release/hello-hyper 127.0.0.1:3101 >/dev/null & pids+=($!)
target/release/spin-host up -f bench/spin.toml --listen 127.0.0.1:3102 >/dev/null & pids+=($!)
for port in 3101 3102; do
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$port/" >/dev/null && break
    sleep 0.1
  done
done

hyper=$(target/release/loadgen --url http://127.0.0.1:3101/ --concurrency "$concurrency" --duration "$seconds")
host=$(target/release/loadgen --url http://127.0.0.1:3102/ --concurrency "$concurrency" --duration "$seconds")
printf '{"hyper":%s,"host":%s}\n' "$hyper" "$host" > bench/out/host.json

python3 - "$hyper" "$host" <<'PY'
import json, sys
rows = [("plain hyper hello-world", json.loads(sys.argv[1])), ("spin-host + bench-hello component", json.loads(sys.argv[2]))]
print("| server | concurrency | requests/s | p50 ms | p95 ms | p99 ms | errors |")
print("|---|---|---|---|---|---|---|")
for name, r in rows:
    print(f"| {name} | {r['concurrency']} | {r['requests_per_s']:.0f} | {r['p50_ms']:.3f} | {r['p95_ms']:.3f} | {r['p99_ms']:.3f} | {r['errors']} |")
PY
