#!/usr/bin/env bash
# Downloads the upstream CRD files that crates/deploy-check validates custom resources against,
# for places that do not have the `shared/crds` directory beside the project (GitHub Actions):
#
#   scripts/fetch-crds.sh DIR      # then: TODO_CRDS_DIR=DIR cargo test -p deploy-check
#
# Each file comes from its project's repository at a release tag (the same files, tags and paths
# as shared/crds/SOURCES.md) and must match the SHA-256 recorded here, so CI validates against
# exactly what the tests were written against.
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 DIR" >&2
  exit 2
fi
dir=$1
mkdir -p "$dir"

# file  repository  tag  path-in-repository  sha256
crds=(
  "core.spinkube.dev_spinapps.yaml spinframework/spin-operator v0.6.1 config/crd/bases/core.spinkube.dev_spinapps.yaml 08051de70925efe25bafca636c9b9410a4fe61e17015bd199be1efa04a5b5762"
  "core.spinkube.dev_spinappexecutors.yaml spinframework/spin-operator v0.6.1 config/crd/bases/core.spinkube.dev_spinappexecutors.yaml c290585b469a6076eeab764af63be1aac11d584c903b5f72a45a1df807634107"
  "dapr.io_components.yaml dapr/dapr v1.18.3 charts/dapr/crds/components.yaml 47acb92af4b4c403832c0d7acc32cab2d72c58be630dc7fe0cdbed702c3b1434"
  "dapr.io_subscriptions.yaml dapr/dapr v1.18.3 charts/dapr/crds/subscription.yaml 1864c443890e83f7d2df0336ed5d5bda265398681bd4502c36a59c25e620667c"
  "dapr.io_configurations.yaml dapr/dapr v1.18.3 charts/dapr/crds/configuration.yaml 3ae6beeeb07e6c4b62b207714d368a84856554ab45781171fd94a4141d70baf8"
  "dapr.io_resiliencies.yaml dapr/dapr v1.18.3 charts/dapr/crds/resiliency.yaml 62ca4e10fd61793f44265a3864f2863cf55508a681ac689508262257deb51356"
  "dapr.io_httpendpoints.yaml dapr/dapr v1.18.3 charts/dapr/crds/httpendpoints.yaml 29210af44ef18d444659142547769884aa22e27483395deef5b27fc2f6c19d5e"
  "kafka.strimzi.io_kafkas.yaml strimzi/strimzi-kafka-operator 1.2.0 packaging/install/cluster-operator/040-Crd-kafka.yaml b5b27fc8d52068a77cde7c40d47c068023c7b4e92fc266c45200db2d2506392a"
  "kafka.strimzi.io_kafkanodepools.yaml strimzi/strimzi-kafka-operator 1.2.0 packaging/install/cluster-operator/045-Crd-kafkanodepool.yaml 411c1b32ef8c1a6408ac9d4fe791115a6ce2b41107204588f976a3ed19be2430"
  "kafka.strimzi.io_kafkatopics.yaml strimzi/strimzi-kafka-operator 1.2.0 packaging/install/cluster-operator/043-Crd-kafkatopic.yaml 36390f0731c699448076d4ee739e8b7f331d083e91a7fb71500aaa830ab1127e"
  "kafka.strimzi.io_kafkausers.yaml strimzi/strimzi-kafka-operator 1.2.0 packaging/install/cluster-operator/044-Crd-kafkauser.yaml c7e91b9b027a516b43dc7d369e781ee23a6ea177ae15fe0c33af6f722e26e05f"
  "cert-manager.io_certificates.yaml cert-manager/cert-manager v1.21.1 deploy/crds/cert-manager.io_certificates.yaml 7ad91029c00ec959d54215b19d3b1a9b7e0247eaa60f987151c2b70d8661f8af"
  "cert-manager.io_clusterissuers.yaml cert-manager/cert-manager v1.21.1 deploy/crds/cert-manager.io_clusterissuers.yaml 30008001b78aafb8e110af61359561104b5fafc3a4dc6ac0013245d0ee3fe4ca"
  "cert-manager.io_issuers.yaml cert-manager/cert-manager v1.21.1 deploy/crds/cert-manager.io_issuers.yaml 05e37efb02777e0362d24269fa103c2fc11419f9c85e31854ef873e5d9e5c5cc"
  "monitoring.coreos.com_podmonitors.yaml prometheus-operator/prometheus-operator v0.93.0 example/prometheus-operator-crd/monitoring.coreos.com_podmonitors.yaml 45a93443daa687d3654f7e9631909ff7edcdf3ec09c5e60251b74aa2722aee5d"
  "monitoring.coreos.com_servicemonitors.yaml prometheus-operator/prometheus-operator v0.93.0 example/prometheus-operator-crd/monitoring.coreos.com_servicemonitors.yaml a99047972c9dd7679ce2050b9968e8a08773492e671b3e17abd476d42aa78a32"
  "monitoring.coreos.com_prometheusrules.yaml prometheus-operator/prometheus-operator v0.93.0 example/prometheus-operator-crd/monitoring.coreos.com_prometheusrules.yaml 78be98554b9c8506ab2b4f4feb91c5f3a56e536a0a510f3a8e876a459970d56d"
  "external-secrets.io_externalsecrets.yaml external-secrets/external-secrets v2.9.0 config/crds/bases/external-secrets.io_externalsecrets.yaml 5044be5a610ca90a075f34f03ed20b462695c43387ba9410db7f4250e47b1e2f"
  "external-secrets.io_secretstores.yaml external-secrets/external-secrets v2.9.0 config/crds/bases/external-secrets.io_secretstores.yaml 7f750858d393913915a2f15daff9e1d2f56ca207c09920c055d7a68cceacb641"
  "external-secrets.io_clustersecretstores.yaml external-secrets/external-secrets v2.9.0 config/crds/bases/external-secrets.io_clustersecretstores.yaml f847c69ae317a76527fc37c163ddfe15d9026e14eb47dd325319e914e0433c2a"
  "keda.sh_scaledobjects.yaml kedacore/keda v2.20.2 config/crd/bases/keda.sh_scaledobjects.yaml af35555862a83933b074af14ad439c4b4ceabaf4daa3e9338e9b23e36d308d80"
)

for entry in "${crds[@]}"; do
  read -r file repo tag path sha256 <<<"$entry"
  url="https://raw.githubusercontent.com/$repo/$tag/$path"
  curl --fail --silent --show-error --location --retry 3 --output "$dir/$file" "$url"
  echo "$sha256  $dir/$file" | sha256sum --check --quiet ||
    { echo "error: $file from $url does not have the expected SHA-256" >&2; exit 1; }
done
echo "${#crds[@]} CRD files in $dir"
