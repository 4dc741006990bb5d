#!/usr/bin/env bash
# From nothing to the Todo app running on Minikube, in one command:
#
#   scripts/deploy-local.sh            # do it
#   scripts/deploy-local.sh --dry-run  # print every step, run nothing
#
# Steps: start Minikube (containerd, ingress and registry addons); install cert-manager, the
# Runtime Class Manager with the containerd-shim-spin Shim (the `wasmtime-spin-v2` RuntimeClass),
# the Spin Operator, Dapr and Strimzi; build the app and push its OCI image to the cluster's
# registry with `spin registry push`; generate the secrets into the cluster; apply the Minikube
# overlay in three stages (infrastructure, the migration Job, then the SpinApps); wait for the
# rollout; run scripts/validate-deployment.sh against it. Every step is idempotent, so re-running
# after a change redeploys.
#
# Needs: minikube, kubectl, helm, spin (with `spin build` able to build the components: Rust with
# the wasm32-wasip2 target), openssl, curl. Versions are pinned below and in docs/deploy.md.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

DRY_RUN=false
for arg in "$@"; do
  case "$arg" in
    --dry-run) DRY_RUN=true ;;
    -h | --help)
      sed -n '2,17p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "unknown argument: $arg (try --help)" >&2
      exit 2
      ;;
  esac
done

NAMESPACE=todo-app
OVERLAY=spinkube/overlays/minikube
IMAGE=localhost:5000/todo:dev
HOST=todo.local
CERT_MANAGER_VERSION=v1.21.1
RUNTIME_CLASS_MANAGER_VERSION=0.2.0
SHIM_VERSION=v0.25.1
SPIN_OPERATOR_VERSION=0.6.1
DAPR_VERSION=1.18.3
STRIMZI_VERSION=1.2.0
TIMEOUT=${TIMEOUT:-600s}

step() { printf '\n=== %s\n' "$*"; }

# run CMD...: print the command; run it unless this is a dry run.
run() {
  printf '+ %s\n' "$*"
  if ! $DRY_RUN; then
    "$@"
  fi
}

# run_sh 'CMD | CMD': the same for a pipeline, through bash.
run_sh() {
  printf '+ %s\n' "$1"
  if ! $DRY_RUN; then
    bash -c "$1"
  fi
}

require() {
  $DRY_RUN && return 0
  local missing=()
  for tool in "$@"; do
    command -v "$tool" >/dev/null || missing+=("$tool")
  done
  if ((${#missing[@]})); then
    echo "error: missing ${missing[*]}; see docs/deploy.md, \"Minikube\"" >&2
    exit 1
  fi
}

# A random secret; in a dry run a placeholder, so nothing secret is ever printed.
generate() {
  if $DRY_RUN; then
    echo "<generated>"
  else
    openssl rand -hex 32
  fi
}

# secret NAME KEY=VALUE...: create or update a Secret from literals, never printing the values.
secret() {
  local name=$1
  shift
  local args=() shown=()
  for pair in "$@"; do
    args+=("--from-literal=$pair")
    shown+=("--from-literal=${pair%%=*}=<redacted>")
  done
  printf '+ kubectl -n %s create secret generic %s %s --dry-run=client -o yaml | kubectl apply -f -\n' \
    "$NAMESPACE" "$name" "${shown[*]}"
  if ! $DRY_RUN; then
    kubectl -n "$NAMESPACE" create secret generic "$name" "${args[@]}" --dry-run=client -o yaml |
      kubectl apply -f -
  fi
}

# An existing Secret's key, so re-runs keep the passwords the database was created with.
existing() {
  $DRY_RUN && return 0
  kubectl -n "$NAMESPACE" get secret "$1" -o "jsonpath={.data.$2}" 2>/dev/null | base64 -d 2>/dev/null || true
}

require minikube kubectl helm spin openssl curl

step "1/9 Minikube (containerd, so the Spin shim can be installed on the node)"
run minikube start --driver=docker --container-runtime=containerd --cpus=4 --memory=8192
run minikube addons enable ingress
run minikube addons enable registry
run minikube addons enable metrics-server

step "2/9 cert-manager $CERT_MANAGER_VERSION (the Spin Operator's webhook certificates)"
run kubectl apply -f "https://github.com/cert-manager/cert-manager/releases/download/$CERT_MANAGER_VERSION/cert-manager.yaml"
run kubectl -n cert-manager wait --for=condition=Available deployment --all --timeout="$TIMEOUT"

step "3/9 Runtime Class Manager $RUNTIME_CLASS_MANAGER_VERSION and containerd-shim-spin $SHIM_VERSION (RuntimeClass wasmtime-spin-v2)"
run helm upgrade --install runtime-class-manager --namespace runtime-class-manager --create-namespace \
  --version "$RUNTIME_CLASS_MANAGER_VERSION" --wait oci://ghcr.io/spinframework/charts/runtime-class-manager
run kubectl apply -f "https://github.com/spinframework/containerd-shim-spin/releases/download/$SHIM_VERSION/runtime-class-manager-shim-v1alpha1-$SHIM_VERSION.yaml"
run kubectl label node --all spin=true --overwrite
run_sh "until kubectl get runtimeclass wasmtime-spin-v2 >/dev/null 2>&1; do sleep 2; done"

step "4/9 Spin Operator $SPIN_OPERATOR_VERSION (SpinApp, SpinAppExecutor)"
run kubectl apply -f "https://github.com/spinframework/spin-operator/releases/download/v$SPIN_OPERATOR_VERSION/spin-operator.crds.yaml"
run helm upgrade --install spin-operator --namespace spin-operator --create-namespace \
  --version "$SPIN_OPERATOR_VERSION" --wait oci://ghcr.io/spinframework/charts/spin-operator

step "5/9 Dapr $DAPR_VERSION and Strimzi $STRIMZI_VERSION"
run helm repo add dapr https://dapr.github.io/helm-charts/ --force-update
run helm upgrade --install dapr dapr/dapr --namespace dapr-system --create-namespace \
  --version "$DAPR_VERSION" --wait
run helm upgrade --install strimzi --namespace strimzi --create-namespace --version "$STRIMZI_VERSION" \
  --set "watchNamespaces={$NAMESPACE}" --wait oci://quay.io/strimzi-helm/strimzi-kafka-operator

step "6/9 Build the app and push its image to the cluster registry ($IMAGE)"
run spin build
run mkdir -p .spin-local
run_sh "kubectl -n kube-system port-forward service/registry 5000:80 >/dev/null 2>&1 & echo \$! > .spin-local/registry-forward.pid; sleep 3"
run spin registry push --insecure "$IMAGE"
run_sh "kill \$(cat .spin-local/registry-forward.pid) && rm .spin-local/registry-forward.pid"

step "7/9 Namespace and secrets (generated once, kept across runs, never printed)"
run_sh "kubectl create namespace $NAMESPACE --dry-run=client -o yaml | kubectl apply -f -"
postgres_password=$(existing todo-postgres password)
postgres_password=${postgres_password:-$(generate)}
jwt_secret=$(existing todo-app-secrets jwt_secret)
jwt_secret=${jwt_secret:-$(generate)}
tick_token=$(existing todo-tick-token token)
tick_token=${tick_token:-$(generate)}
secret todo-postgres "password=$postgres_password"
secret todo-app-secrets \
  "db_url=postgres://todo:$postgres_password@postgres.$NAMESPACE.svc.cluster.local:5432/todo?sslmode=disable" \
  "jwt_secret=$jwt_secret" \
  "email_api_key="
# The tick token is also Dapr's app API token (the key must be `token`).
secret todo-tick-token "token=$tick_token"

step "8/9 Apply: infrastructure, then migrations, then the services"
run kubectl apply -k "$OVERLAY" -l 'app.kubernetes.io/component notin (migration,service)'
run kubectl -n "$NAMESPACE" rollout status statefulset/postgres --timeout="$TIMEOUT"
run kubectl -n "$NAMESPACE" rollout status deployment/redis --timeout="$TIMEOUT"
run kubectl -n "$NAMESPACE" wait kafka/todo-kafka --for=condition=Ready --timeout="$TIMEOUT"
# A Job's pod template is immutable: the previous run's Job goes first.
run kubectl -n "$NAMESPACE" delete job migrate --ignore-not-found
run kubectl apply -k "$OVERLAY" -l app.kubernetes.io/component=migration
run kubectl -n "$NAMESPACE" wait job/migrate --for=condition=Complete --timeout="$TIMEOUT"
run kubectl apply -k "$OVERLAY" -l app.kubernetes.io/component=service
run_sh "for app in \$(kubectl -n $NAMESPACE get spinapps -o name); do kubectl -n $NAMESPACE rollout status deployment/\${app#*/} --timeout=$TIMEOUT; done"

step "9/9 Smoke test through the ingress"
run_sh "kubectl -n ingress-nginx port-forward service/ingress-nginx-controller 8080:80 >/dev/null 2>&1 & echo \$! > .spin-local/ingress-forward.pid; sleep 3"
run scripts/validate-deployment.sh --url http://127.0.0.1:8080 --host "$HOST" --namespace "$NAMESPACE"
run_sh "kill \$(cat .spin-local/ingress-forward.pid) && rm .spin-local/ingress-forward.pid"

if $DRY_RUN; then
  node_ip="<minikube ip>"
else
  node_ip=$(minikube ip)
fi
echo
echo "The app is up. Add '$node_ip $HOST' to /etc/hosts and open http://$HOST/"
