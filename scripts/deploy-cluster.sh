#!/usr/bin/env bash
# Deploys one image of the app to the cluster kubectl points at, the way CD does:
#
#   scripts/deploy-cluster.sh --image ghcr.io/OWNER/todo@sha256:DIGEST [--overlay cloud] [--dry-run]
#
# Renders the overlay with the image pinned (by digest) for every SpinApp and the migration
# Job, then applies in three stages: infrastructure and configuration; the migration Job, waiting
# for it to complete (a failed migration stops the rollout before any new code runs); the
# SpinApps, waiting for every Deployment to roll out. The same command with the previous image
# is the rollback: migrations are forward-only and written expand-then-contract, so the previous
# release runs on the new schema (docs/deploy.md, "Rollback").
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

OVERLAY=cloud
IMAGE=""
NAMESPACE=todo-app
TIMEOUT=${TIMEOUT:-600s}
DRY_RUN=false
while (($#)); do
  case "$1" in
    --image) IMAGE=$2; shift 2 ;;
    --overlay) OVERLAY=$2; shift 2 ;;
    --namespace) NAMESPACE=$2; shift 2 ;;
    --dry-run) DRY_RUN=true; shift ;;
    -h | --help) sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "unknown argument: $1 (try --help)" >&2; exit 2 ;;
  esac
done
case "$IMAGE" in
  *@sha256:*) ;;
  *) echo "usage: $0 --image NAME@sha256:DIGEST (deploy by digest, so a rollback is exact)" >&2; exit 2 ;;
esac

run() {
  printf '+ %s\n' "$*"
  if ! $DRY_RUN; then
    "$@"
  fi
}

# A kustomization beside the overlays that pins the image; git-ignored, rewritten every run.
pinned=spinkube/.deploy
mkdir -p "$pinned"
cat >"$pinned/kustomization.yaml" <<YAML
# Written by scripts/deploy-cluster.sh: the $OVERLAY overlay with the image pinned by digest.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../overlays/$OVERLAY
images:
  - name: ghcr.io/todo-app/todo
    newName: ${IMAGE%@*}
    digest: ${IMAGE#*@}
YAML
run kubectl kustomize "$pinned" --output "$pinned/rendered.yaml"

run kubectl apply -f "$pinned/rendered.yaml" -l 'app.kubernetes.io/component notin (migration,service)'
run kubectl -n "$NAMESPACE" wait kafka/todo-kafka --for=condition=Ready --timeout="$TIMEOUT"
run kubectl -n "$NAMESPACE" delete job migrate --ignore-not-found
run kubectl apply -f "$pinned/rendered.yaml" -l app.kubernetes.io/component=migration
run kubectl -n "$NAMESPACE" wait job/migrate --for=condition=Complete --timeout="$TIMEOUT"
run kubectl apply -f "$pinned/rendered.yaml" -l app.kubernetes.io/component=service
if ! $DRY_RUN; then
  for app in $(kubectl -n "$NAMESPACE" get spinapps -o 'jsonpath={.items[*].metadata.name}'); do
    run kubectl -n "$NAMESPACE" rollout status "deployment/$app" --timeout="$TIMEOUT"
  done
else
  echo "+ kubectl -n $NAMESPACE rollout status deployment/<each SpinApp> --timeout=$TIMEOUT"
fi
echo "deployed $IMAGE ($OVERLAY)"
