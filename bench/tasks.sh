#!/usr/bin/env bash
# Measures the task API through a release-built spin-host with real PostgreSQL:
#
#   1. list-tasks: GET /api/tasks on a user with 10,000 tasks, filtered and sorted (two queries);
#   2. create-task: POST /api/tasks (session lookup, task row and outbox row in one transaction);
#   3. the limit: pgbench running the very SQL that creating a task executes
#      (bench/tasks/create.sql), at the same concurrency, so create-task throughput can be read
#      as a fraction of what PostgreSQL alone allows;
#   4. create-task latency at lower concurrencies, to find p99 near half the maximum throughput
#      (wrk has no fixed-rate mode; concurrency is the knob).
#
# HTTP load is wrk (`apt-get install -y wrk`) with the Lua scripts in bench/tasks/. Results are
# printed as Markdown and kept as JSON lines in bench/out/tasks.jsonl.
#
#   bash bench/tasks.sh [concurrency] [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
concurrency=${1:-16}
seconds=${2:-10}
port=${BENCH_PORT:-3120}
db=bench_tasks
pg="postgres://postgres@127.0.0.1:5432"
export BENCH_DIR="$PWD/bench/tasks"
mkdir -p bench/out
out=bench/out/tasks.jsonl
: >"$out"

# BENCH_NO_BUILD=1 uses the binaries already built (e.g. while the tree does not compile).
if [ -z "${BENCH_NO_BUILD:-}" ]; then
  cargo build --quiet --release -p spin-host
  cargo build --quiet --release --target wasm32-wasip2 -p api -p migrate
fi

psql -q "$pg/postgres" -c "DROP DATABASE IF EXISTS $db" -c "CREATE DATABASE $db"
export SPIN_VARIABLE_DB_URL="$pg/$db?sslmode=disable"
export SPIN_VARIABLE_JWT_SECRET=bench-jwt-secret-0123456789abcdef
export SPIN_VARIABLE_TICK_TOKEN=bench-tick-token
config=bench/out/tasks-runtime-config.toml
printf '[[variables_provider]]\ntype = "env"\nprefix = "SPIN_VARIABLE"\n' >"$config"

target/release/spin-host up --runtime-config-file "$config" --component-id migrate >/dev/null

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT
target/release/spin-host up --runtime-config-file "$config" --component-id api \
  --listen "127.0.0.1:$port" 2>bench/out/tasks-host.log >/dev/null &
pids+=($!)
base="http://127.0.0.1:$port"
for _ in $(seq 100); do
  curl -sf "$base/health" >/dev/null && break
  sleep 0.1
done

credentials='{"email":"bench@example.com","password":"correct horse battery"}'
curl -sf -H 'content-type: application/json' -d "$credentials" "$base/api/auth/register" >/dev/null
TOKEN=$(curl -sf -H 'content-type: application/json' -d "$credentials" "$base/api/auth/login" |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
export TOKEN
uid=$(psql -tA "$pg/$db" -c "SELECT id FROM users WHERE email = 'bench@example.com'")
sid=$(psql -tA "$pg/$db" -c "SELECT id FROM sessions WHERE user_id = '$uid' ORDER BY created_at DESC LIMIT 1")

# 10,000 tasks of varied priority, due date, tags, completion and age.
psql -q "$pg/$db" <<SQL
INSERT INTO tasks (user_id, title, description, priority, is_completed, completed_at, due_date,
                   tags, created_at)
SELECT '$uid', 'Task ' || g, CASE WHEN g % 3 = 0 THEN 'Notes for task ' || g END,
       (ARRAY['low', 'medium', 'high'])[1 + g % 3], g % 4 = 0,
       CASE WHEN g % 4 = 0 THEN now() END,
       CASE WHEN g % 5 <> 0 THEN now() + (g - 5000) * interval '1 hour' END,
       CASE WHEN g % 2 = 0 THEN ARRAY['work'] ELSE ARRAY['home', 'errands'] END,
       now() - g * interval '1 minute'
FROM generate_series(1, 10000) AS g;
ANALYZE tasks;
SQL

run_wrk() { # run_wrk <name> <concurrency> <script> <url>
  local name=$1 c=$2 script=$3 url=$4 threads=$(( $2 < 2 ? 1 : 2 ))
  local line
  line=$(wrk -t "$threads" -c "$c" -d "${seconds}s" -s "$script" "$url" | tail -n 1)
  printf '{"name":"%s","concurrency":%d,"result":%s}\n' "$name" "$c" "$line" >>"$out"
}

list_open_work="$base/api/tasks?status=open&tag=work&sort=due_date&limit=50"
list_high_title="$base/api/tasks?priority=high&q=task%201&sort=title&order=desc&limit=50"
run_wrk "list: status=open&tag=work&sort=due_date&limit=50" "$concurrency" bench/tasks/list.lua "$list_open_work"
run_wrk "list: priority=high&q=task 1&sort=title&order=desc&limit=50" "$concurrency" bench/tasks/list.lua "$list_high_title"
# Where the time goes during the create run: CPU seconds used by spin-host, by PostgreSQL's
# processes and by the whole machine (anything else running shows up as "other").
cpu_ticks() { # summed utime+stime of the given pids, in clock ticks
  local total=0 pid
  for pid in "$@"; do
    [ -r "/proc/$pid/stat" ] && total=$((total + $(awk '{print $14 + $15}' "/proc/$pid/stat")))
  done
  echo "$total"
}
machine_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8}' /proc/stat; }
pg_pids=$(pgrep -x postgres | tr '\n' ' ')
host0=$(cpu_ticks "${pids[0]}"); pg0=$(cpu_ticks $pg_pids); all0=$(machine_ticks)
run_wrk "create" "$concurrency" bench/tasks/create.lua "$base/api/tasks"
pg_pids=$(pgrep -x postgres | tr '\n' ' ')
host1=$(cpu_ticks "${pids[0]}"); pg1=$(cpu_ticks $pg_pids); all1=$(machine_ticks)
python3 - "$concurrency" "$seconds" "$(nproc)" "$host0" "$host1" "$pg0" "$pg1" "$all0" "$all1" >>"$out" <<'PY'
import json, os, sys
c, wall, cores, h0, h1, p0, p1, a0, a1 = map(int, sys.argv[1:])
hz = os.sysconf("SC_CLK_TCK")
print(json.dumps({"name": "cpu during create", "concurrency": c, "cpu": {
    "spin_host_s": (h1 - h0) / hz, "postgres_s": (p1 - p0) / hz,
    "machine_busy_s": (a1 - a0) / hz, "wall_s": wall, "cores": cores}}))
PY

# The limit: the same statements straight from pgbench, same concurrency, extended protocol
# (as Spin's pg4 sends them).
pgdir=$(mktemp -d)
(cd "$pgdir" && pgbench -n -M extended -c "$concurrency" -j 2 -T "$seconds" -l \
  -D uid="$uid" -D sid="$sid" -f "$OLDPWD/bench/tasks/create.sql" "$pg/$db" >pgbench.txt)
python3 - "$pgdir" "$concurrency" >>"$out" <<'PY'
import glob, json, re, sys
d, c = sys.argv[1], int(sys.argv[2])
text = open(f"{d}/pgbench.txt").read()
tps = float(re.search(r"tps = ([0-9.]+)", text).group(1))
lat = sorted(int(line.split()[2]) for f in glob.glob(f"{d}/pgbench_log.*") for line in open(f))
pct = lambda p: lat[min(len(lat) - 1, int(len(lat) * p / 100))] / 1000
print(json.dumps({"name": "pgbench: create-task SQL", "concurrency": c, "result": {
    "requests": len(lat), "requests_per_s": tps, "p50_ms": pct(50), "p95_ms": pct(95),
    "p99_ms": pct(99), "errors": 0}}))
PY
rm -rf "$pgdir"

for c in 1 2 4 8; do
  if [ "$c" -lt "$concurrency" ]; then run_wrk "create" "$c" bench/tasks/create.lua "$base/api/tasks"; fi
done

tasks=$(psql -tA "$pg/$db" -c "SELECT count(*) FROM tasks")
events=$(psql -tA "$pg/$db" -c "SELECT count(*) FROM outbox WHERE topic = 'tasks.task.created'")
python3 - "$out" "$concurrency" "$tasks" "$events" <<'PY'
import json, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
c = int(sys.argv[2])
cpu = next((r["cpu"] for r in rows if "cpu" in r), None)
rows = [r for r in rows if "result" in r]
print("| what | concurrency | requests/s | p50 ms | p95 ms | p99 ms | errors |")
print("|---|---|---|---|---|---|---|")
for r in rows:
    x = r["result"]
    print(f"| {r['name']} | {r['concurrency']} | {x['requests_per_s']:.0f} | {x['p50_ms']:.2f} | {x['p95_ms']:.2f} | {x['p99_ms']:.2f} | {x['errors']} |")
create = next(r for r in rows if r["name"] == "create" and r["concurrency"] == c)["result"]
limit = next(r for r in rows if r["name"].startswith("pgbench"))["result"]
ratio = create["requests_per_s"] / limit["requests_per_s"]
print(f"\ncreate-task at concurrency {c}: {create['requests_per_s']:.0f}/s = {ratio:.0%} of the pgbench limit ({limit['requests_per_s']:.0f}/s).")
half = create["requests_per_s"] / 2
lower = [r for r in rows if r["name"] == "create" and r["concurrency"] < c]
if lower:
    near = min(lower, key=lambda r: abs(r["result"]["requests_per_s"] - half))
    x = near["result"]
    print(f"Nearest to half the maximum ({half:.0f}/s): concurrency {near['concurrency']}, {x['requests_per_s']:.0f}/s, p99 {x['p99_ms']:.2f} ms.")
if cpu:
    other = cpu["machine_busy_s"] - cpu["spin_host_s"] - cpu["postgres_s"]
    print(f"CPU during the {cpu['wall_s']} s create run ({cpu['cores']} cores = {cpu['cores'] * cpu['wall_s']} core-seconds): "
          f"spin-host {cpu['spin_host_s']:.1f} s, PostgreSQL {cpu['postgres_s']:.1f} s, everything else (wrk, other processes) {other:.1f} s.")
print(f"Rows after the run: {sys.argv[3]} tasks, {sys.argv[4]} tasks.task.created outbox rows (API and pgbench).")
PY
