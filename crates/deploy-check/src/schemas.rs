//! Validation against schemas: custom resources against the `openAPIV3Schema` of their CRD,
//! built-in kinds against the Kubernetes OpenAPI schemas (through `kubernetes-validate`).
//!
//! Both are strict. The API server prunes or rejects fields a structural schema does not
//! declare (`kubectl apply` asks for strict field validation by default since Kubernetes 1.27),
//! so a misspelt field is an error here too: every object schema that lists `properties` and
//! neither allows additional properties nor says `x-kubernetes-preserve-unknown-fields` gets
//! `additionalProperties: false`. CEL rules (`x-kubernetes-validations`) are not evaluated.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use anyhow::{Context, Result, bail};
use serde_json::{Map, Value};

use crate::objects::{Object, parse_yaml_stream};
use crate::project;

/// The Kubernetes version built-in objects are validated against: the oldest minor still
/// offered by GKE, EKS and AKS when this was written, so the manifests apply on all of them.
pub const KUBERNETES_VERSION: &str = "1.33.0";

/// The CRDs found in a directory, keyed by (group, kind), each with its served versions'
/// schemas.
pub struct CustomResourceDefinitions {
    by_kind: BTreeMap<(String, String), Crd>,
}

struct Crd {
    file: String,
    versions: BTreeMap<String, Value>,
}

impl CustomResourceDefinitions {
    /// Loads every `*.yaml` in `dir` that holds a `CustomResourceDefinition`.
    pub fn load(dir: &Path) -> Result<Self> {
        let mut by_kind = BTreeMap::new();
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot list {}", dir.display()))?
            .flatten()
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|ext| ext == "yaml"))
            .collect();
        entries.sort();
        for path in entries {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            for object in parse_yaml_stream(&text)
                .with_context(|| format!("{} is not YAML", path.display()))?
            {
                if object.kind() != "CustomResourceDefinition" {
                    continue;
                }
                let spec = object.spec();
                let group = spec["group"].as_str().unwrap_or_default().to_owned();
                let kind = spec["names"]["kind"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let mut versions = BTreeMap::new();
                for version in spec["versions"].as_array().into_iter().flatten() {
                    if version["served"].as_bool() != Some(true) {
                        continue;
                    }
                    let mut schema = version["schema"]["openAPIV3Schema"].clone();
                    strict(&mut schema);
                    versions.insert(
                        version["name"].as_str().unwrap_or_default().to_owned(),
                        schema,
                    );
                }
                let file = path.file_name().unwrap().to_string_lossy().into_owned();
                by_kind.insert((group, kind), Crd { file, versions });
            }
        }
        if by_kind.is_empty() {
            bail!("{} holds no CustomResourceDefinition", dir.display());
        }
        Ok(Self { by_kind })
    }

    /// The kinds known, as `group/Kind`.
    pub fn kinds(&self) -> Vec<String> {
        self.by_kind
            .keys()
            .map(|(group, kind)| format!("{group}/{kind}"))
            .collect()
    }

    /// Validates a custom resource against the schema of its CRD's version. Returns one line
    /// per problem; empty when it is valid.
    pub fn validate(&self, object: &Object) -> Vec<String> {
        let key = (object.group().to_owned(), object.kind().to_owned());
        let Some(crd) = self.by_kind.get(&key) else {
            return vec![format!(
                "{object}: no CRD for {}/{} among the upstream CRD files",
                object.group(),
                object.kind()
            )];
        };
        let Some(schema) = crd.versions.get(object.version()) else {
            return vec![format!(
                "{object}: {} serves versions {:?}, not {}",
                crd.file,
                crd.versions.keys().collect::<Vec<_>>(),
                object.version()
            )];
        };
        let validator = match jsonschema::draft4::options()
            .should_validate_formats(false)
            .build(schema)
        {
            Ok(validator) => validator,
            Err(error) => {
                return vec![format!(
                    "{}: the schema does not compile: {error}",
                    crd.file
                )];
            }
        };
        let mut problems: Vec<String> = validator
            .iter_errors(&object.0)
            .map(|error| format!("{object}: at {}: {error}", error.instance_path()))
            .collect();
        if object.name().is_empty() {
            problems.push(format!("{object}: metadata.name is missing"));
        }
        problems
    }
}

/// Makes an OpenAPI v3 schema strict: objects that list their properties accept no others.
fn strict(schema: &mut Value) {
    let Value::Object(node) = schema else {
        return;
    };
    // Go's RE2 accepts inline flags such as `(?i)`; the ECMA 262 dialect a JSON Schema pattern
    // must be written in does not, and the schema would not compile. Such a pattern is dropped:
    // the field is then checked less strictly than the API server would, never more.
    if node
        .get("pattern")
        .and_then(Value::as_str)
        .is_some_and(|pattern| pattern.contains("(?"))
    {
        node.remove("pattern");
    }
    let preserves_unknown = node
        .get("x-kubernetes-preserve-unknown-fields")
        .and_then(Value::as_bool)
        == Some(true);
    if node.contains_key("properties")
        && !node.contains_key("additionalProperties")
        && !preserves_unknown
    {
        // Properties named only inside allOf/anyOf/oneOf branches are still allowed.
        let mut names: Vec<String> = Vec::new();
        for combinator in ["allOf", "anyOf", "oneOf"] {
            for branch in node
                .get(combinator)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(properties) = branch.get("properties").and_then(Value::as_object) {
                    names.extend(properties.keys().cloned());
                }
            }
        }
        if let Some(Value::Object(properties)) = node.get_mut("properties") {
            for name in names {
                properties
                    .entry(name)
                    .or_insert_with(|| Value::Object(Map::new()));
            }
        }
        node.insert("additionalProperties".into(), Value::Bool(false));
    }
    for value in node.values_mut() {
        match value {
            Value::Object(_) => strict(value),
            Value::Array(items) => items.iter_mut().for_each(strict),
            _ => {}
        }
    }
}

/// Validates built-in objects with `kubernetes-validate --strict` (Python) against
/// [`KUBERNETES_VERSION`]. Returns its report of failures; empty when all are valid.
pub fn validate_builtin(objects: &[&Object]) -> Result<Vec<String>> {
    // JSON documents separated by `---` are a YAML stream.
    let mut file = tempfile::Builder::new()
        .suffix(".yaml")
        .tempfile()
        .context("cannot create a temporary file")?;
    for object in objects {
        writeln!(file, "---").context("cannot write the objects to validate")?;
        serde_json::to_writer(&mut file, &object.0).context("cannot write the objects")?;
        writeln!(file).context("cannot write the objects to validate")?;
    }
    file.flush()
        .context("cannot write the objects to validate")?;
    let path = file.path().to_string_lossy().into_owned();
    const INSTALL: &str = "run `cargo xtask test`, which installs it into target/py-tools and puts \
                           that first on PATH (or `python3 -m pip install kubernetes-validate==1.37.0`); \
                           it carries the Kubernetes schemas and works offline";
    // As a module rather than its console script, which a pyenv shim may not expose yet.
    let output = project::run(
        "python3",
        &[
            "-m",
            "kubernetes_validate",
            "--strict",
            "--quiet",
            "-k",
            KUBERNETES_VERSION,
            &path,
        ],
        INSTALL,
    )?;
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if report.contains("No module named kubernetes_validate") {
        bail!("kubernetes-validate is not installed: {INSTALL}");
    }
    if output.status.success() {
        return Ok(Vec::new());
    }
    let mut problems: Vec<String> = report
        .lines()
        .filter(|line| !line.trim().is_empty())
        .map(str::to_owned)
        .collect();
    if problems.is_empty() {
        problems.push(format!(
            "kubernetes-validate failed ({}) without a report",
            output.status
        ));
    }
    Ok(problems)
}
