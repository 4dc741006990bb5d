//! Rendered Kubernetes objects: `kubectl kustomize` output parsed into JSON values, and the
//! accessors the checks share.

use std::fmt;

use anyhow::{Context, Result};
use serde::Deserialize;
use serde_json::Value;

use crate::project;

/// One Kubernetes object from a rendered overlay.
#[derive(Debug, Clone)]
pub struct Object(pub Value);

impl Object {
    /// `apiVersion`, e.g. `core.spinkube.dev/v1alpha1`.
    pub fn api_version(&self) -> &str {
        self.0["apiVersion"].as_str().unwrap_or("")
    }

    /// The API group: the part of `apiVersion` before `/`, empty for the core group.
    pub fn group(&self) -> &str {
        match self.api_version().split_once('/') {
            Some((group, _)) => group,
            None => "",
        }
    }

    /// The version part of `apiVersion`.
    pub fn version(&self) -> &str {
        match self.api_version().split_once('/') {
            Some((_, version)) => version,
            None => self.api_version(),
        }
    }

    /// `kind`.
    pub fn kind(&self) -> &str {
        self.0["kind"].as_str().unwrap_or("")
    }

    /// `metadata.name`.
    pub fn name(&self) -> &str {
        self.0["metadata"]["name"].as_str().unwrap_or("")
    }

    /// `spec`.
    pub fn spec(&self) -> &Value {
        &self.0["spec"]
    }

    /// Whether the object is a built-in Kubernetes kind (core or a `*.k8s.io` group, plus the
    /// unsuffixed built-in groups such as `apps`, `batch`, `policy`, `autoscaling`).
    pub fn is_builtin(&self) -> bool {
        let group = self.group();
        !group.contains('.') || group.ends_with(".k8s.io")
    }

    /// The string at a `/`-separated path, e.g. `spec/routes/default`.
    pub fn str_at(&self, path: &str) -> Option<&str> {
        self.0.pointer(&format!("/{path}")).and_then(Value::as_str)
    }

    /// `scopes` (Dapr): the app ids a component or subscription applies to.
    pub fn scopes(&self) -> Vec<&str> {
        self.0["scopes"]
            .as_array()
            .map(|scopes| scopes.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default()
    }
}

impl fmt::Display for Object {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}/{}", self.api_version(), self.kind(), self.name())
    }
}

/// Parses a stream of YAML documents into objects, skipping empty documents.
pub fn parse_yaml_stream(text: &str) -> Result<Vec<Object>> {
    let mut objects = Vec::new();
    for document in serde_norway::Deserializer::from_str(text) {
        let value = Value::deserialize(document).context("a YAML document does not parse")?;
        if !value.is_null() {
            objects.push(Object(value));
        }
    }
    Ok(objects)
}

/// The output of `kubectl kustomize spinkube/overlays/<overlay>`.
pub fn render_text(overlay: &str) -> Result<String> {
    project::run_ok(
        "kubectl",
        &["kustomize", &format!("spinkube/overlays/{overlay}")],
        "kubectl is needed to render the overlays (Debian: apt-get install kubectl; or any \
         kubectl >= 1.27 on PATH)",
    )
    .with_context(|| format!("the {overlay} overlay does not render"))
}

/// Renders an overlay and parses it.
pub fn render(overlay: &str) -> Result<Vec<Object>> {
    parse_yaml_stream(&render_text(overlay)?)
        .with_context(|| format!("the {overlay} overlay rendered YAML that does not parse"))
}

/// The objects of one kind.
pub fn of_kind<'a>(objects: &'a [Object], kind: &'a str) -> impl Iterator<Item = &'a Object> {
    objects.iter().filter(move |object| object.kind() == kind)
}

/// The one object of a kind and name, if present.
pub fn find<'a>(objects: &'a [Object], kind: &str, name: &str) -> Option<&'a Object> {
    objects
        .iter()
        .find(|object| object.kind() == kind && object.name() == name)
}
