#!/usr/bin/env bash
# The smoke checks of the seed plan's "Post-Deployment Validation", against a deployed Todo app:
#
#   scripts/validate-deployment.sh --url https://todo.example.com
#   scripts/validate-deployment.sh --url http://127.0.0.1:8080 --host todo.local --namespace todo-app
#
# Over HTTP: liveness and readiness, the web UI, then as a new user: register, log in, create a
# task, see it in the list, create a recurring pattern and read it back. With --namespace (and
# kubectl access) also the cluster side: the migration Job completed, every SpinApp's
# Deployment is fully available with its Dapr sidecar, and the Dapr subscriptions and Kafka
# topics exist. Exits non-zero at the first failed check, naming it; CD rolls back on that.
set -euo pipefail

URL=""
HOST_HEADER=""
NAMESPACE=""
while (($#)); do
  case "$1" in
    --url) URL=${2%/}; shift 2 ;;
    --host) HOST_HEADER=$2; shift 2 ;;
    --namespace) NAMESPACE=$2; shift 2 ;;
    -h | --help) sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
done
if [ -z "$URL" ]; then
  echo "usage: $0 --url BASE_URL [--host HOST] [--namespace NAMESPACE]" >&2
  exit 2
fi

passed=0
ok() { passed=$((passed + 1)); printf 'ok   %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*" >&2; exit 1; }

# request METHOD PATH [BODY]: prints the body, then the status on the last line.
request() {
  local method=$1 path=$2 body=${3:-}
  local args=(--silent --show-error --max-time 15 --request "$method" --write-out '\n%{http_code}')
  [ -n "$HOST_HEADER" ] && args+=(--header "Host: $HOST_HEADER")
  [ -n "${TOKEN:-}" ] && args+=(--header "Authorization: Bearer $TOKEN")
  [ -n "$body" ] && args+=(--header 'Content-Type: application/json' --data "$body")
  curl "${args[@]}" "$URL$path"
}

# expect STATUS METHOD PATH [BODY]: the response body, failing unless the status matches.
expect() {
  local want=$1
  shift
  local response status
  response=$(request "$@") || fail "$1 $2: no answer"
  status=${response##*$'\n'}
  [ "$status" = "$want" ] || fail "$1 $2: expected $want, got $status: ${response%$'\n'*}"
  printf '%s' "${response%$'\n'*}"
}

# json_field NAME: a top-level string field of the JSON on stdin.
json_field() {
  python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

expect 200 GET /health >/dev/null && ok "GET /health"
expect 200 GET /ready >/dev/null && ok "GET /ready (database reachable)"
expect 200 GET / >/dev/null && ok "GET / (web UI)"

email="smoke-$(date +%s)-$RANDOM@example.com"
password="smoke-$(openssl rand -hex 12)"
expect 201 POST /api/auth/register "{\"email\":\"$email\",\"password\":\"$password\"}" >/dev/null &&
  ok "register $email"
TOKEN=$(expect 200 POST /api/auth/login "{\"email\":\"$email\",\"password\":\"$password\"}" | json_field token)
[ -n "$TOKEN" ] || fail "login returned no token"
ok "log in"

task_id=$(expect 201 POST /api/tasks '{"title":"smoke test task"}' | json_field id)
ok "create task $task_id"
expect 200 GET /api/tasks | grep -q "$task_id" || fail "the new task is not in GET /api/tasks"
ok "the task is listed"

pattern_id=$(expect 201 POST /api/tasks/recurring \
  '{"task_template":{"title":"smoke test daily"},"frequency":"daily","interval":1,"timezone":"UTC"}' |
  json_field id)
ok "create recurring pattern $pattern_id"
expect 200 GET "/api/tasks/recurring/$pattern_id" >/dev/null && ok "the pattern is saved"

if [ -n "$NAMESPACE" ]; then
  k() { kubectl -n "$NAMESPACE" "$@"; }
  [ "$(k get job migrate -o 'jsonpath={.status.succeeded}')" = 1 ] || fail "the migrate Job has not succeeded"
  ok "migrations applied"
  for app in $(k get spinapps -o 'jsonpath={.items[*].metadata.name}'); do
    desired=$(k get deployment "$app" -o 'jsonpath={.spec.replicas}')
    available=$(k get deployment "$app" -o 'jsonpath={.status.availableReplicas}')
    [ "${available:-0}" = "$desired" ] || fail "$app: ${available:-0} of $desired replicas available"
    dapr=$(k get spinapp "$app" -o "jsonpath={.spec.podAnnotations['dapr\.io/enabled']}")
    if [ "$dapr" = true ]; then
      k get pods -l "core.spinkube.dev/app-name=$app" -o 'jsonpath={.items[*].spec.containers[*].name}' |
        grep -q daprd || fail "$app: no Dapr sidecar in its pods"
    fi
    ok "$app: $available/$desired available${dapr:+, Dapr sidecar}"
  done
  [ "$(k get subscriptions.dapr.io -o name | wc -l)" -gt 0 ] || fail "no Dapr subscriptions"
  ok "Dapr subscriptions: $(k get subscriptions.dapr.io -o name | wc -l)"
  [ "$(k get kafkatopics -o name | wc -l)" -gt 0 ] || fail "no Kafka topics"
  ok "Kafka topics: $(k get kafkatopics -o name | wc -l)"
fi

echo "smoke test: all $passed checks passed"
