//! Reading `spin.toml` (manifest schema version 2) as Spin reads it, into the plain structures
//! the rest of the host uses.
//!
//! References (spinframework/spin):
//! - `crates/manifest/src/lib.rs`: version detection (`spin_manifest_version`).
//! - `crates/manifest/src/schema/v2.rs`, `schema/common.rs`: the schema; every table is
//!   `deny_unknown_fields` except a trigger, whose extra keys go to the trigger type.
//! - `crates/serde/src/id.rs`: the rules for component ids (kebab-case) and variable names
//!   (lower snake_case).
//! - `crates/manifest/src/normalize.rs`: generated trigger ids and inline components.
//! - `crates/loader/src/local.rs`: load-time checks (`required` XOR `default`,
//!   `allowed_outbound_hosts` validation, sources relative to the manifest directory).
//! - `crates/manifest/src/compat.rs` + `compat/allowed_http_hosts.rs`: the deprecated
//!   `allowed_http_hosts` field.
//! - Trigger configs: `crates/http/src/config.rs` and `crates/trigger-http/src/lib.rs`
//!   (`[application.trigger.http] base`), `crates/trigger-redis/src/lib.rs`,
//!   spin-trigger-cron `src/lib.rs`, spin-trigger-command `src/lib.rs`.

use std::{
    collections::{BTreeMap, HashSet},
    path::{Path, PathBuf},
};

use anyhow::{Context as _, anyhow, bail, ensure};
use serde::Deserialize;

use crate::allowed_hosts;

/// The trigger types this host runs. Spin looks any other type up as a `trigger-<type>` plugin.
pub const SUPPORTED_TRIGGER_TYPES: [&str; 4] = ["http", "redis", "cron", "command"];

/// A loaded application manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct App {
    /// `[application] name`.
    pub name: String,
    /// `[application] version` (empty when absent).
    pub version: String,
    /// `[application] description` (empty when absent).
    pub description: String,
    /// `[variables]`: application variables by name.
    pub variables: BTreeMap<String, VariableDecl>,
    /// `[component.<id>]` plus any inline components of triggers, by component id.
    pub components: BTreeMap<String, ComponentDecl>,
    /// `[[trigger.http]]`, in manifest order.
    pub http_triggers: Vec<HttpTriggerDecl>,
    /// `[[trigger.redis]]`, in manifest order.
    pub redis_triggers: Vec<RedisTriggerDecl>,
    /// `[[trigger.cron]]`, in manifest order.
    pub cron_triggers: Vec<CronTriggerDecl>,
    /// `[[trigger.command]]`, in manifest order.
    pub command_triggers: Vec<CommandTriggerDecl>,
    /// `[application.trigger.redis] address`: the (template) address for Redis triggers that
    /// have none of their own. Already applied to [`RedisTriggerDecl::address`].
    pub redis_default_address: Option<String>,
    /// The directory holding the manifest, absolute: component sources (and file mounts) are
    /// relative to it.
    pub base_dir: PathBuf,
    /// Things Spin warns about but accepts (deprecated fields).
    pub warnings: Vec<String>,
}

/// An application variable (`[variables] name = { ... }`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct VariableDecl {
    /// The value used when no provider supplies one.
    pub default: Option<String>,
    /// A provider must supply the value. Exactly one of `required` and `default` is set.
    pub required: bool,
    /// The value is sensitive and should not be logged.
    pub secret: bool,
    /// Free text.
    pub description: Option<String>,
}

/// A component (`[component.<id>]`, or inline in a trigger).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ComponentDecl {
    /// The component id (kebab-case).
    pub id: String,
    /// Free text (empty when absent).
    pub description: String,
    /// The Wasm file, resolved against [`App::base_dir`].
    pub source: PathBuf,
    /// `allowed_outbound_hosts`, followed by the deprecated `allowed_http_hosts` converted to
    /// the same syntax (Spin's `Component::normalized_allowed_outbound_hosts`). Entries may
    /// contain `{{ variable }}` templates.
    pub allowed_outbound_hosts: Vec<String>,
    /// Component variables: name → template.
    pub variables: BTreeMap<String, String>,
    /// Environment variables for the guest (not templated in Spin).
    pub environment: BTreeMap<String, String>,
    /// `files`: what to make visible in the guest file system.
    pub files: Vec<FileMount>,
    /// `exclude_files`: glob patterns removed from `files`.
    pub exclude_files: Vec<String>,
    /// `[component.<id>.build]`, used by `spin build` only.
    pub build: Option<BuildConfig>,
}

impl ComponentDecl {
    /// Whether the component may call other components with `http://<id>.spin.internal`, which
    /// Spin records as the `local_service_chaining` host requirement
    /// (`requires_service_chaining` in `crates/loader/src/local.rs`). Only the HTTP trigger
    /// supports that requirement.
    pub fn requires_service_chaining(&self) -> bool {
        self.allowed_outbound_hosts.iter().any(|h| {
            allowed_hosts::AllowedHostConfig::parse(h).is_ok_and(|c| c.is_for_service_chaining())
        })
    }
}

/// One `files` entry (`WasiFilesMount` in Spin's schema).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum FileMount {
    /// A path or glob pattern relative to the application directory, mounted at the same
    /// relative path in the guest.
    Pattern(String),
    /// A host file or directory (`source`, relative to the application directory) mounted at
    /// an absolute guest path (`destination`).
    Placement {
        /// Host path, relative to the application directory.
        source: String,
        /// Absolute guest path.
        destination: String,
    },
}

/// `[component.<id>.build]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BuildConfig {
    /// The command(s), run in order.
    pub commands: Vec<String>,
    /// Working directory relative to the application directory.
    pub workdir: Option<String>,
    /// Paths or globs watched by `spin watch`.
    pub watch: Vec<String>,
}

/// An HTTP trigger's `route`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum HttpRoute {
    /// A routable pattern, as written (`/api/...`, `/users/:id`, `/`).
    Route(String),
    /// `route = { private = true }`: reachable only through service chaining.
    Private,
}

/// `[[trigger.http]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpTriggerDecl {
    /// The trigger id (written, or generated as Spin generates it).
    pub id: String,
    /// The component it runs.
    pub component: String,
    /// Its route.
    pub route: HttpRoute,
}

/// `[[trigger.redis]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisTriggerDecl {
    /// The trigger id (written, or generated).
    pub id: String,
    /// The component it runs.
    pub component: String,
    /// The server address template: the trigger's own `address`, else
    /// `[application.trigger.redis] address`, else `None` (which Spin treats as the empty
    /// address, so the subscription fails at start-up).
    pub address: Option<String>,
    /// The channel template.
    pub channel: String,
}

/// `[[trigger.cron]]` (the spin-trigger-cron plugin).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CronTriggerDecl {
    /// The trigger id (written, or generated).
    pub id: String,
    /// The component it runs.
    pub component: String,
    /// The schedule, seconds first (`*/1 * * * * *`), as `tokio-cron-scheduler` reads it.
    pub cron_expression: String,
}

/// `[[trigger.command]]` (the spin-trigger-command plugin).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandTriggerDecl {
    /// The trigger id (written, or generated).
    pub id: String,
    /// The component it runs.
    pub component: String,
}

// ---------------------------------------------------------------------------------------------
// The raw schema, mirroring `schema/v2.rs` and `schema/common.rs`.

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawManifest {
    #[allow(dead_code)] // Checked before this struct is parsed.
    spin_manifest_version: toml::Value,
    application: RawApplication,
    #[serde(default)]
    variables: BTreeMap<String, RawVariable>,
    // Not `default`: Spin's `AppManifest::triggers` is a required field.
    #[serde(rename = "trigger")]
    triggers: BTreeMap<String, Vec<toml::Table>>,
    #[serde(rename = "component", default)]
    components: BTreeMap<String, RawComponent>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawApplication {
    name: String,
    #[serde(default)]
    version: String,
    #[serde(default)]
    description: String,
    #[serde(default)]
    #[allow(dead_code)] // Accepted, not used at run time (as in Spin).
    authors: Vec<String>,
    #[serde(default)]
    #[allow(dead_code)] // Used by `spin build`/`spin deploy` only.
    targets: Vec<toml::Value>,
    #[serde(rename = "trigger", default)]
    trigger_global_configs: BTreeMap<String, toml::Table>,
    #[serde(default)]
    #[allow(dead_code)] // "Spin ignores this field."
    tool: BTreeMap<String, toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawVariable {
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    required: bool,
    #[serde(default)]
    default: Option<String>,
    #[serde(default)]
    secret: bool,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComponent {
    source: toml::Value,
    #[serde(default)]
    description: String,
    #[serde(default)]
    variables: BTreeMap<String, String>,
    #[serde(default)]
    environment: BTreeMap<String, String>,
    #[serde(default)]
    files: Vec<RawFileMount>,
    #[serde(default)]
    exclude_files: Vec<String>,
    #[serde(default)]
    allowed_http_hosts: Vec<String>,
    #[serde(default)]
    allowed_outbound_hosts: Vec<String>,
    #[serde(default)]
    key_value_stores: Vec<String>,
    #[serde(default)]
    sqlite_databases: Vec<String>,
    #[serde(default)]
    ai_models: Vec<String>,
    #[serde(default)]
    build: Option<RawBuild>,
    #[serde(default)]
    #[allow(dead_code)] // "Spin ignores this field."
    tool: BTreeMap<String, toml::Table>,
    #[serde(default)]
    #[allow(dead_code)] // Only meaningful with `dependencies`, which this host rejects.
    dependencies_inherit_configuration: bool,
    #[serde(default)]
    dependencies: toml::Table,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, untagged)]
enum RawFileMount {
    Pattern(String),
    Placement { source: String, destination: String },
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawBuild {
    command: RawCommands,
    #[serde(default)]
    workdir: Option<String>,
    #[serde(default)]
    watch: Vec<String>,
}

#[derive(Clone, Deserialize)]
#[serde(untagged)]
enum RawCommands {
    Single(String),
    Multiple(Vec<String>),
}

/// `HttpTriggerConfig` in `crates/http/src/config.rs`, minus `component`, which the trigger
/// handling extracts first.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttpConfig {
    route: RawRoute,
    #[serde(default)]
    executor: Option<toml::Table>,
    #[serde(default)]
    static_response: Option<toml::Value>,
}

/// `HttpTriggerRouteConfig`: a string, or `{ private = <bool> }`.
#[derive(Deserialize)]
#[serde(untagged)]
enum RawRoute {
    Route(String),
    Private(RawPrivate),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrivate {
    private: bool,
}

/// The `TriggerConfig` of `crates/trigger-redis/src/lib.rs`, minus `component`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRedisConfig {
    channel: String,
    #[serde(default)]
    address: Option<String>,
}

/// The `TriggerMetadata` of `crates/trigger-redis/src/lib.rs` (`[application.trigger.redis]`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRedisMetadata {
    address: String,
}

/// The `TriggerMetadata` of `crates/trigger-http/src/lib.rs` (`[application.trigger.http]`).
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawHttpMetadata {
    #[serde(default)]
    base: Option<String>,
}

/// `CronTriggerConfig` of spin-trigger-cron, minus `component`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCronConfig {
    cron_expression: String,
}

/// `CommandTriggerConfig` of spin-trigger-command has only `component`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCommandConfig {}

/// A trigger's `component`: a reference or an inline component (`ComponentSpec`).
enum ComponentSpec {
    Reference(String),
    Inline(Box<RawComponent>),
}

/// A trigger before its type-specific config is read.
struct RawTrigger {
    trigger_type: String,
    /// Position within `[[trigger.<type>]]`, for error messages.
    index: usize,
    id: String,
    component: Option<ComponentSpec>,
    config: toml::Table,
}

impl RawTrigger {
    fn describe(&self) -> String {
        format!(
            "`[[trigger.{}]]` #{} (id `{}`)",
            self.trigger_type,
            self.index + 1,
            self.id
        )
    }

    /// The referenced component id; `normalize_inline_components` has run, so every spec is a
    /// reference by now.
    fn component_id(&self) -> Option<&str> {
        match &self.component {
            Some(ComponentSpec::Reference(id)) => Some(id),
            Some(ComponentSpec::Inline(_)) => unreachable!("inline components are normalized"),
            None => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------

impl App {
    /// Reads and validates a manifest. `path` may also name a directory holding `spin.toml`
    /// (as `spin up -f <dir>` accepts).
    pub fn from_file(path: &Path) -> anyhow::Result<App> {
        let path = if path.is_dir() {
            path.join("spin.toml")
        } else {
            path.to_owned()
        };
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("Failed to read Spin app manifest from {path:?}"))?;
        // Spin's `LocalLoader` absolutizes (does not canonicalize) the application root.
        let base_dir = std::path::absolute(
            path.parent()
                .filter(|dir| !dir.as_os_str().is_empty())
                .unwrap_or(Path::new(".")),
        )
        .with_context(|| format!("Invalid manifest dir {:?}", path.parent()))?;
        Self::from_toml_str(&text, &base_dir)
            .with_context(|| format!("Failed to load Spin app from {path:?}"))
    }

    /// Parses and validates manifest text; `base_dir` is the directory sources are relative to.
    pub fn from_toml_str(text: &str, base_dir: &Path) -> anyhow::Result<App> {
        check_manifest_version(text)?;
        let raw: RawManifest = toml::from_str(text)?;
        build_app(raw, base_dir)
    }
}

/// The host requirement Spin records for a component that uses service chaining
/// (`SERVICE_CHAINING_KEY` in `crates/locked-app/src/locked.rs`).
pub const SERVICE_CHAINING_KEY: &str = "local_service_chaining";

impl App {
    /// `LockedApp::ensure_needs_only`: the host requirements of the components used by
    /// `trigger_type`'s triggers that are not in `supported`, as Spin's comma-separated list.
    pub fn ensure_needs_only(&self, trigger_type: &str, supported: &[&str]) -> Result<(), String> {
        let used: HashSet<&str> = match trigger_type {
            "http" => self
                .http_triggers
                .iter()
                .map(|t| t.component.as_str())
                .collect(),
            "redis" => self
                .redis_triggers
                .iter()
                .map(|t| t.component.as_str())
                .collect(),
            "cron" => self
                .cron_triggers
                .iter()
                .map(|t| t.component.as_str())
                .collect(),
            "command" => self
                .command_triggers
                .iter()
                .map(|t| t.component.as_str())
                .collect(),
            _ => HashSet::new(),
        };
        let needs_chaining = used
            .iter()
            .filter_map(|id| self.components.get(*id))
            .any(ComponentDecl::requires_service_chaining);
        if needs_chaining && !supported.contains(&SERVICE_CHAINING_KEY) {
            Err(SERVICE_CHAINING_KEY.to_owned())
        } else {
            Ok(())
        }
    }

    /// The start-up check each Spin trigger makes (`crates/trigger/src/cli.rs`): only the HTTP
    /// trigger supports service chaining, so a component that lists a `*.spin.internal` host
    /// cannot be run by a Redis, cron or command trigger.
    pub fn check_host_requirements(&self) -> anyhow::Result<()> {
        for trigger_type in SUPPORTED_TRIGGER_TYPES {
            let supported: &[&str] = if trigger_type == "http" {
                &[SERVICE_CHAINING_KEY]
            } else {
                &[]
            };
            if let Err(unmet) = self.ensure_needs_only(trigger_type, supported) {
                bail!(
                    "This application requires the following features that are not available in \
                     this version of the '{trigger_type}' trigger: {unmet}"
                );
            }
        }
        Ok(())
    }
}

/// `ManifestVersion::detect` in `crates/manifest/src/lib.rs`: `"1"` (a string) is version 1,
/// the integer `2` is version 2, anything else is invalid.
fn check_manifest_version(text: &str) -> anyhow::Result<()> {
    #[derive(Deserialize)]
    struct VersionProbe {
        spin_manifest_version: toml::Value,
    }
    let probe: VersionProbe = toml::from_str(text)?;
    let version = probe.spin_manifest_version;
    if version.as_integer() == Some(2) {
        Ok(())
    } else if version.as_str() == Some("1") {
        bail!(
            "`spin_manifest_version = \"1\"` manifests are not supported by this host: convert \
             the manifest to `spin_manifest_version = 2` (`spin doctor` does this)"
        )
    } else {
        bail!("invalid `spin_manifest_version` {version}: this host supports only version 2")
    }
}

fn build_app(raw: RawManifest, base_dir: &Path) -> anyhow::Result<App> {
    let RawManifest {
        spin_manifest_version: _,
        application,
        variables: raw_variables,
        triggers: raw_triggers,
        components: raw_components,
    } = raw;

    // Ids are validated while Spin deserializes (`LowerSnakeId`, `KebabId`).
    for name in raw_variables.keys() {
        validate_id::<'_', true>(name)
            .map_err(|reason| anyhow!("invalid variable name `{name}` in [variables]: {reason}"))?;
    }
    let mut components: BTreeMap<String, RawComponent> = BTreeMap::new();
    for (id, component) in raw_components {
        validate_id::<'-', false>(&id).map_err(|reason| {
            anyhow!("invalid component id `{id}` in [component.{id}]: {reason}")
        })?;
        components.insert(id, component);
    }

    let mut triggers = Vec::new();
    for (trigger_type, tables) in raw_triggers {
        for (index, table) in tables.into_iter().enumerate() {
            triggers.push(split_trigger(&trigger_type, index, table)?);
        }
    }
    normalize_trigger_ids(&mut triggers);
    normalize_inline_components(&mut triggers, &mut components);

    // `locked_variable` in the loader: exactly one of `required` and `default`.
    let mut variables = BTreeMap::new();
    for (name, v) in raw_variables {
        ensure!(
            v.required ^ v.default.is_some(),
            "invalid variable `{name}` in [variables]: must be `required` OR have a `default`"
        );
        variables.insert(
            name,
            VariableDecl {
                default: v.default,
                required: v.required,
                secret: v.secret,
                description: v.description,
            },
        );
    }

    let mut warnings = Vec::new();
    let mut decls = BTreeMap::new();
    for (id, component) in components {
        let decl = build_component(&id, component, base_dir, &variables, &mut warnings)
            .with_context(|| format!("Failed to load component `{id}`"))?;
        decls.insert(id, decl);
    }

    let mut app = App {
        name: application.name,
        version: application.version,
        description: application.description,
        variables,
        components: decls,
        http_triggers: Vec::new(),
        redis_triggers: Vec::new(),
        cron_triggers: Vec::new(),
        command_triggers: Vec::new(),
        redis_default_address: None,
        base_dir: base_dir.to_owned(),
        warnings,
    };

    for trigger in &triggers {
        ensure!(
            SUPPORTED_TRIGGER_TYPES.contains(&trigger.trigger_type.as_str()),
            "trigger type `{}` ([[trigger.{}]]) is not supported by this host (it supports: {}); \
             Spin would look for a `trigger-{}` plugin",
            trigger.trigger_type,
            trigger.trigger_type,
            SUPPORTED_TRIGGER_TYPES.join(", "),
            trigger.trigger_type
        );
        if let Some(component) = trigger.component_id() {
            ensure!(
                app.components.contains_key(component),
                "{} references component `{component}`, which the manifest does not define",
                trigger.describe()
            );
        }
        add_trigger(&mut app, trigger)
            .with_context(|| format!("invalid {}", trigger.describe()))?;
    }

    // Trigger-level settings are read only by a trigger that runs (`get_trigger_metadata`).
    let globals = &application.trigger_global_configs;
    if !app.http_triggers.is_empty()
        && let Some(table) = globals.get("http")
    {
        let meta: RawHttpMetadata = toml::Value::Table(table.clone())
            .try_into()
            .context("invalid [application.trigger.http]")?;
        // `HttpTrigger::validate_app` in crates/trigger-http/src/lib.rs.
        match meta.base.as_deref() {
            None => {}
            Some("/") => app.warnings.push(
                "This application has the deprecated trigger 'base' set to the default value '/'. \
                 This may be an error in the future!"
                    .to_owned(),
            ),
            Some(_) => bail!(
                "This application is using the deprecated trigger 'base' field. The base must be \
                 prepended to each [[trigger.http]]'s 'route'."
            ),
        }
    }
    if !app.redis_triggers.is_empty()
        && let Some(table) = globals.get("redis")
    {
        let meta: RawRedisMetadata = toml::Value::Table(table.clone())
            .try_into()
            .context("invalid [application.trigger.redis]")?;
        for trigger in &mut app.redis_triggers {
            if trigger.address.is_none() {
                trigger.address = Some(meta.address.clone());
            }
        }
        app.redis_default_address = Some(meta.address);
    }

    Ok(app)
}

/// Separates a trigger table into Spin's `Trigger { id, component, components, config }`.
fn split_trigger(
    trigger_type: &str,
    index: usize,
    mut table: toml::Table,
) -> anyhow::Result<RawTrigger> {
    let describe = || format!("`[[trigger.{trigger_type}]]` #{}", index + 1);
    let id = match table.remove("id") {
        None => String::new(),
        Some(toml::Value::String(id)) => id,
        Some(other) => bail!(
            "{}: `id` must be a string, not {}",
            describe(),
            other.type_str()
        ),
    };
    let component = match table.remove("component") {
        None => None,
        Some(toml::Value::String(reference)) => {
            validate_id::<'-', false>(&reference).map_err(|reason| {
                anyhow!(
                    "{}: invalid component reference `{reference}`: {reason}",
                    describe()
                )
            })?;
            Some(ComponentSpec::Reference(reference))
        }
        Some(inline) => {
            let component: RawComponent = inline
                .try_into()
                .with_context(|| format!("{}: invalid inline `component`", describe()))?;
            Some(ComponentSpec::Inline(Box::new(component)))
        }
    };
    // `components` ("reserved for future use") is not a field of any trigger config this host
    // runs, so Spin rejects it when the trigger deserializes its config.
    if table.contains_key("components") {
        bail!(
            "{}: unknown field `components` (not supported by the {trigger_type} trigger)",
            describe()
        );
    }
    Ok(RawTrigger {
        trigger_type: trigger_type.to_owned(),
        index,
        id,
        component,
        config: table,
    })
}

/// `normalize_trigger_ids` in `crates/manifest/src/normalize.rs`: a trigger without an id gets
/// `<component>-<type>-trigger` when that is free, else `<type>-trigger<N>`.
fn normalize_trigger_ids(triggers: &mut [RawTrigger]) {
    let mut taken: HashSet<String> = triggers.iter().map(|t| t.id.clone()).collect();
    let mut counters: BTreeMap<String, usize> = BTreeMap::new();
    for trigger in triggers.iter_mut() {
        if !trigger.id.is_empty() {
            continue;
        }
        if let Some(ComponentSpec::Reference(component)) = &trigger.component {
            let candidate = format!("{component}-{}-trigger", trigger.trigger_type);
            if !taken.contains(&candidate) {
                taken.insert(candidate.clone());
                trigger.id = candidate;
                continue;
            }
        }
        // The counter is per trigger type and keeps counting across that type's triggers.
        let counter = counters.entry(trigger.trigger_type.clone()).or_insert(1);
        trigger.id = loop {
            let id = format!("{}-trigger{counter}", trigger.trigger_type);
            if !taken.contains(&id) {
                taken.insert(id.clone());
                break id;
            }
            *counter += 1;
        };
    }
}

/// `normalize_inline_components`: an inline component becomes `[component.<trigger id>-component]`
/// (or `inline-component<N>` when that is not a valid or free id).
fn normalize_inline_components(
    triggers: &mut [RawTrigger],
    components: &mut BTreeMap<String, RawComponent>,
) {
    for trigger in triggers.iter_mut() {
        let Some(ComponentSpec::Inline(_)) = &trigger.component else {
            continue;
        };
        let natural = format!("{}-component", trigger.id);
        let id =
            if validate_id::<'-', false>(&natural).is_ok() && !components.contains_key(&natural) {
                natural
            } else {
                let mut counter = 1;
                loop {
                    let id = format!("inline-component{counter}");
                    if !components.contains_key(&id) {
                        break id;
                    }
                    counter += 1;
                }
            };
        let Some(ComponentSpec::Inline(component)) = trigger
            .component
            .replace(ComponentSpec::Reference(id.clone()))
        else {
            unreachable!("checked above");
        };
        components.insert(id, *component);
    }
}

fn add_trigger(app: &mut App, trigger: &RawTrigger) -> anyhow::Result<()> {
    let config = toml::Value::Table(trigger.config.clone());
    let id = trigger.id.clone();
    let component = trigger.component_id().map(str::to_owned);
    let required_component = || {
        component
            .clone()
            .ok_or_else(|| anyhow!("missing field `component`"))
    };
    match trigger.trigger_type.as_str() {
        "http" => {
            let raw: RawHttpConfig = config.try_into()?;
            if raw.static_response.is_some() {
                bail!("`static_response` is not supported by this host");
            }
            // `HttpTriggerConfig::lookup_key`: a trigger needs a component.
            let component = component.ok_or_else(|| {
                anyhow!(
                    "Triggers must specify either component or static_response - {id} has neither"
                )
            })?;
            if let Some(executor) = raw.executor {
                check_http_executor(&executor)?;
            }
            let route = match raw.route {
                RawRoute::Route(route) => HttpRoute::Route(route),
                RawRoute::Private(RawPrivate { private: true }) => HttpRoute::Private,
                // `Router::build` in crates/http/src/routes.rs.
                RawRoute::Private(RawPrivate { private: false }) => bail!(
                    "route must be a string pattern or '{{ private = true }}': component \
                     '{component}' has {{ private = false }}"
                ),
            };
            app.http_triggers.push(HttpTriggerDecl {
                id,
                component,
                route,
            });
        }
        "redis" => {
            let raw: RawRedisConfig = config.try_into()?;
            app.redis_triggers.push(RedisTriggerDecl {
                id,
                component: required_component()?,
                address: raw.address,
                channel: raw.channel,
            });
        }
        "cron" => {
            let raw: RawCronConfig = config.try_into()?;
            app.cron_triggers.push(CronTriggerDecl {
                id,
                component: required_component()?,
                cron_expression: raw.cron_expression,
            });
        }
        "command" => {
            let _: RawCommandConfig = config.try_into()?;
            app.command_triggers.push(CommandTriggerDecl {
                id,
                component: required_component()?,
            });
        }
        other => unreachable!("unsupported trigger type {other} was rejected earlier"),
    }
    Ok(())
}

/// `HttpExecutorType` (`executor = { type = "http" | "spin" | "wagi", ... }`).
fn check_http_executor(executor: &toml::Table) -> anyhow::Result<()> {
    match executor.get("type").and_then(toml::Value::as_str) {
        Some("http" | "spin") if executor.len() == 1 => Ok(()),
        Some("http" | "spin") => bail!("executor: unknown field besides `type`"),
        Some("wagi") => bail!("the `wagi` executor is not supported by this host"),
        Some(other) => bail!("executor: unknown variant `{other}`, expected `http` or `wagi`"),
        None => bail!("executor: missing field `type`"),
    }
}

fn build_component(
    id: &str,
    raw: RawComponent,
    base_dir: &Path,
    variables: &BTreeMap<String, VariableDecl>,
    warnings: &mut Vec<String>,
) -> anyhow::Result<ComponentDecl> {
    for key in raw.variables.keys() {
        validate_id::<'_', true>(key)
            .map_err(|reason| anyhow!("invalid variable name `{key}` in `variables`: {reason}"))?;
    }
    // Features Spin has that this host does not implement: refuse rather than ignore them.
    for (field, values) in [
        ("key_value_stores", &raw.key_value_stores),
        ("sqlite_databases", &raw.sqlite_databases),
        ("ai_models", &raw.ai_models),
    ] {
        ensure!(
            values.is_empty(),
            "`{field}` is not supported by this host (component `{id}` lists {values:?})"
        );
    }
    ensure!(
        raw.dependencies.is_empty(),
        "component `dependencies` are not supported by this host"
    );

    let source = match &raw.source {
        toml::Value::String(path) => base_dir.join(path),
        toml::Value::Table(_) => bail!(
            "`source` must be a local file path: URL and registry sources are not supported by \
             this host"
        ),
        other => bail!("`source` must be a string path, not {}", other.type_str()),
    };

    // `Component::normalized_allowed_outbound_hosts` then `AllowedHostsConfig::validate`.
    let converted = convert_allowed_http_hosts(&raw.allowed_http_hosts)
        .context("`allowed_http_hosts` is malformed")?;
    if !converted.is_empty() {
        warnings.push(format!(
            "Use of the deprecated field `allowed_http_hosts` - to fix, replace \
             `allowed_http_hosts` with `allowed_outbound_hosts = {converted:?}`"
        ));
    }
    let mut allowed_outbound_hosts = raw.allowed_outbound_hosts;
    allowed_outbound_hosts.extend(converted);
    allowed_hosts::validate_with_defaults(&allowed_outbound_hosts, variables)
        .context("`allowed_outbound_hosts` is malformed")?;

    Ok(ComponentDecl {
        id: id.to_owned(),
        description: raw.description,
        source,
        allowed_outbound_hosts,
        variables: raw.variables,
        environment: raw.environment,
        files: raw
            .files
            .into_iter()
            .map(|f| match f {
                RawFileMount::Pattern(p) => FileMount::Pattern(p),
                RawFileMount::Placement {
                    source,
                    destination,
                } => FileMount::Placement {
                    source,
                    destination,
                },
            })
            .collect(),
        exclude_files: raw.exclude_files,
        build: raw.build.map(|b| BuildConfig {
            commands: match b.command {
                RawCommands::Single(c) => vec![c],
                RawCommands::Multiple(cs) => cs,
            },
            workdir: b.workdir,
            watch: b.watch,
        }),
    })
}

/// `convert_allowed_http_to_allowed_hosts(.., allow_database_access = false)` from
/// `crates/manifest/src/compat.rs`: each host becomes an `http://` and an `https://` entry,
/// `self` becomes `http://self`, and `insecure:allow-all` allows every HTTP(S) host.
fn convert_allowed_http_hosts(hosts: &[String]) -> anyhow::Result<Vec<String>> {
    if hosts.iter().any(|h| h == "insecure:allow-all") {
        return Ok(vec![
            "http://*:*".into(),
            "https://*:*".into(),
            "http://self".into(),
        ]);
    }
    let mut errors = Vec::new();
    let mut out = Vec::new();
    for text in hosts {
        match parse_allowed_http_host(text) {
            Ok((domain, _)) if domain == "self" => out.push("http://self".to_owned()),
            Ok((domain, port)) => {
                let port = port.map(|p| format!(":{p}")).unwrap_or_default();
                out.push(format!("http://{domain}{port}"));
                out.push(format!("https://{domain}{port}"));
            }
            Err(e) => errors.push(e),
        }
    }
    ensure!(
        errors.is_empty(),
        "One or more allowed_http_hosts entries was invalid:\n{}",
        errors.join("\n")
    );
    Ok(out)
}

/// `parse_allowed_http_host` from `compat/allowed_http_hosts.rs`.
fn parse_allowed_http_host(text: &str) -> Result<(String, Option<u16>), String> {
    let (url, schemed) = if text.contains("//") {
        let url = url::Url::parse(text)
            .map_err(|e| format!("{text} isn't a valid HTTP host URL: {e}"))?;
        (url, true)
    } else {
        let url = url::Url::parse(&format!("http://{text}"))
            .map_err(|_| format!("{text} isn't a valid host or host:port string"))?;
        (url, false)
    };
    if schemed && !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{text} isn't a valid host or host:port string"));
    }
    let host = url
        .host_str()
        .ok_or_else(|| format!("{text} doesn't contain a host name"))?;
    if url.path().len() > 1 {
        return Err(format!(
            "{text} contains a path, should be host and optional port only"
        ));
    }
    Ok((host.to_owned(), url.port()))
}

/// Spin's id rules (`crates/serde/src/id.rs`, `Id<DELIM, LOWER>`): one or more words joined by
/// `DELIM`; every word non-empty; the first word starts with an ASCII letter, later words with a
/// letter or digit; words hold only ASCII letters, digits (and `:`), each word all lower or all
/// upper case; with `LOWER`, lower case only. Component ids are `Id<'-', false>` (kebab-case),
/// variable names `Id<'_', true>` (lower snake_case).
pub fn validate_id<const DELIM: char, const LOWER: bool>(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("empty".into());
    }
    let wrong = match DELIM {
        '_' => Some('-'),
        '-' => Some('_'),
        _ => None,
    };
    if let Some(wrong) = wrong
        && id.contains(wrong)
    {
        return Err(format!(
            "words must be separated with {DELIM:?}, not {wrong:?}"
        ));
    }
    for (i, word) in id.split(DELIM).enumerate() {
        let mut chars = word.chars();
        let Some(first) = chars.next() else {
            return Err(format!("{DELIM:?}-separated words must not be empty"));
        };
        if !(first.is_ascii_alphabetic() || (i > 0 && first.is_ascii_digit())) {
            return Err(format!(
                "{DELIM:?}-separated words must start with an ASCII letter or digit; got {first:?}"
            ));
        }
        let word_is_uppercase = first.is_ascii_uppercase();
        for ch in chars {
            if ch.is_ascii_digit() || ch == ':' {
            } else if !ch.is_ascii_alphanumeric() {
                return Err(format!(
                    "{DELIM:?}-separated words may only contain alphanumeric ASCII (plus ':' inside words); got {ch:?}"
                ));
            } else if ch.is_ascii_uppercase() != word_is_uppercase {
                return Err(format!(
                    "{DELIM:?}-separated words must be all lowercase or all UPPERCASE; got {word:?}"
                ));
            }
        }
        if LOWER && word_is_uppercase {
            return Err(format!(
                "Lower-case identifiers must be all lowercase; got {id:?}"
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> anyhow::Result<App> {
        App::from_toml_str(text, Path::new("/srv/app"))
    }

    fn err(text: &str) -> String {
        format!("{:#}", load(text).expect_err("manifest should be rejected"))
    }

    const HEADER: &str = "spin_manifest_version = 2\n[application]\nname = \"t\"\n";

    fn with_header(rest: &str) -> String {
        format!("{HEADER}{rest}")
    }

    const FULL: &str = r#"
spin_manifest_version = 2

[application]
name = "todo"
version = "1.0.0"
description = "Todo service"
authors = ["someone@example.com"]

[variables]
db_url = { required = true, secret = true }
redis_url = { default = "redis://127.0.0.1:6379" }
event_bus = { default = "redis", description = "redis or dapr" }

[[trigger.http]]
route = "/api/..."
component = "api"

[[trigger.http]]
route = { private = true }
component = "api"

[[trigger.http]]
id = "web-route"
route = "/..."
component = { source = "web/web.wasm", files = [{ source = "static", destination = "/" }] }

[[trigger.redis]]
channel = "tasks"
address = "{{ redis_url }}"
component = "api"

[[trigger.cron]]
cron_expression = "*/1 * * * * *"
component = "dispatcher"

[[trigger.command]]
component = "migrate"

[component.api]
source = "target/wasm32-wasip2/release/api.wasm"
description = "The API"
allowed_outbound_hosts = ["postgres://127.0.0.1:5432", "{{ redis_url }}", "http://*.spin.internal"]
environment = { RUST_LOG = "info" }
files = ["assets/*.json"]
exclude_files = ["assets/secret.json"]
[component.api.variables]
db_url = "{{ db_url }}"
[component.api.build]
command = ["cargo build", "wasm-opt"]
workdir = "components/api"
watch = ["src/**/*.rs"]
[component.api.tool.lint]
level = "strict"

[component.dispatcher]
source = "dispatcher.wasm"

[component.migrate]
source = "migrate.wasm"
"#;

    // The whole v2 schema as this project uses it (crates/manifest/tests/ui/maximal.toml is
    // the upstream reference for the field set).
    #[test]
    fn loads_a_full_manifest() {
        let app = load(FULL).unwrap();
        assert_eq!(app.name, "todo");
        assert_eq!(app.version, "1.0.0");
        assert_eq!(app.base_dir, PathBuf::from("/srv/app"));
        assert_eq!(
            app.variables["db_url"],
            VariableDecl {
                default: None,
                required: true,
                secret: true,
                description: None
            }
        );
        assert_eq!(
            app.variables["redis_url"].default.as_deref(),
            Some("redis://127.0.0.1:6379")
        );

        let api = &app.components["api"];
        assert_eq!(
            api.source,
            PathBuf::from("/srv/app/target/wasm32-wasip2/release/api.wasm")
        );
        assert_eq!(api.variables["db_url"], "{{ db_url }}");
        assert_eq!(api.environment["RUST_LOG"], "info");
        assert_eq!(api.files, vec![FileMount::Pattern("assets/*.json".into())]);
        assert_eq!(api.exclude_files, vec!["assets/secret.json".to_string()]);
        assert_eq!(
            api.build,
            Some(BuildConfig {
                commands: vec!["cargo build".into(), "wasm-opt".into()],
                workdir: Some("components/api".into()),
                watch: vec!["src/**/*.rs".into()],
            })
        );
        assert!(api.requires_service_chaining());
        assert!(!app.components["dispatcher"].requires_service_chaining());

        assert_eq!(app.http_triggers.len(), 3);
        assert_eq!(
            app.http_triggers[0].route,
            HttpRoute::Route("/api/...".into())
        );
        assert_eq!(app.http_triggers[1].route, HttpRoute::Private);
        assert_eq!(
            app.redis_triggers,
            vec![RedisTriggerDecl {
                id: "api-redis-trigger".into(),
                component: "api".into(),
                address: Some("{{ redis_url }}".into()),
                channel: "tasks".into(),
            }]
        );
        assert_eq!(app.cron_triggers[0].cron_expression, "*/1 * * * * *");
        assert_eq!(app.cron_triggers[0].component, "dispatcher");
        assert_eq!(app.command_triggers[0].component, "migrate");
        assert!(app.warnings.is_empty());
    }

    // normalize.rs: `<component>-<type>-trigger`, then `<type>-trigger<N>` on collision; an
    // inline component becomes `<trigger id>-component`.
    #[test]
    fn trigger_ids_and_inline_components_are_normalized_like_spin() {
        let app = load(FULL).unwrap();
        let ids: Vec<_> = app.http_triggers.iter().map(|t| t.id.as_str()).collect();
        assert_eq!(ids, ["api-http-trigger", "http-trigger1", "web-route"]);
        assert_eq!(app.http_triggers[2].component, "web-route-component");
        let inline = &app.components["web-route-component"];
        assert_eq!(inline.source, PathBuf::from("/srv/app/web/web.wasm"));
        assert_eq!(
            inline.files,
            vec![FileMount::Placement {
                source: "static".into(),
                destination: "/".into()
            }]
        );
        assert_eq!(app.cron_triggers[0].id, "dispatcher-cron-trigger");

        // An inline component on a trigger without an id: the trigger gets `http-trigger1`.
        let app = load(&with_header(
            "[[trigger.http]]\nroute = \"/\"\ncomponent = { source = \"a.wasm\" }\n",
        ))
        .unwrap();
        assert_eq!(app.http_triggers[0].id, "http-trigger1");
        assert_eq!(app.http_triggers[0].component, "http-trigger1-component");
    }

    // lib.rs `ManifestVersion::detect`.
    #[test]
    fn only_manifest_version_2_is_accepted() {
        let v1 = "spin_manifest_version = \"1\"\nname = \"x\"\ntrigger = { type = \"http\" }\n";
        assert!(err(v1).contains("not supported by this host"));
        let v3 = "spin_manifest_version = 3\n[application]\nname = \"x\"\n";
        assert!(err(v3).contains("invalid `spin_manifest_version` 3"));
        assert!(err("[application]\nname = \"x\"\n").contains("spin_manifest_version"));
    }

    /// A manifest with one HTTP trigger (route `/`, component `a`) and `[component.a]`, plus
    /// extra lines: `top` after `[application]`, `trigger` inside the trigger, `component`
    /// inside the component.
    fn one_component(top: &str, trigger: &str, component: &str) -> String {
        with_header(&format!(
            "{top}\n\
             [[trigger.http]]\nroute = \"/\"\ncomponent = \"a\"\n{trigger}\n\
             [component.a]\nsource = \"a.wasm\"\n{component}\n"
        ))
    }

    // v2.rs: `deny_unknown_fields` everywhere; the error names the key.
    #[test]
    fn unknown_keys_are_rejected_by_name() {
        let e = err(&one_component("colour = \"blue\"", "", ""));
        assert!(e.contains("unknown field `colour`"), "{e}");
        let e = err(&one_component("", "", "allowed_hosts = []"));
        assert!(e.contains("unknown field `allowed_hosts`"), "{e}");
        let e = err(&one_component("", "method = \"GET\"", ""));
        assert!(e.contains("unknown field `method`"), "{e}");
        assert!(e.contains("[[trigger.http]]` #1"), "{e}");
        let e = err(&one_component(
            "[variables]\nx = { default = \"1\", secert = true }",
            "",
            "",
        ));
        assert!(e.contains("unknown field `secert`"), "{e}");
    }

    // v2.rs: `triggers` is a required field of `AppManifest`; so is `application.name`.
    #[test]
    fn trigger_and_name_are_required() {
        assert!(err(HEADER).contains("missing field `trigger`"));
        let no_name = one_component("", "", "").replace("name = \"t\"\n", "");
        let e = err(&no_name);
        assert!(e.contains("missing field `name`"), "{e}");
    }

    // loader `locked_variable`: `required ^ default.is_some()`.
    #[test]
    fn variables_need_exactly_one_of_required_and_default() {
        let both = one_component(
            "[variables]\nx = { required = true, default = \"1\" }",
            "",
            "",
        );
        assert!(err(&both).contains(
            "invalid variable `x` in [variables]: must be `required` OR have a `default`"
        ));
        let neither = one_component("[variables]\nx = { secret = true }", "", "");
        assert!(err(&neither).contains("must be `required` OR have a `default`"));
        // Variables are tables, not plain strings.
        assert!(load(&one_component("[variables]\nx = \"1\"", "", "")).is_err());
    }

    // crates/serde/src/id.rs rules and the manifest's own id tests.
    #[test]
    fn ids_follow_spin_rules() {
        for good in ["a", "api", "my-comp", "comp-2", "A-B", "x1-y2"] {
            validate_id::<'-', false>(good).unwrap_or_else(|e| panic!("{good}: {e}"));
        }
        for bad in ["", "my_comp", "-a", "a-", "a--b", "1a", "mIxed", "a.b"] {
            assert!(validate_id::<'-', false>(bad).is_err(), "{bad:?}");
        }
        // schema/v2.rs `test_valid_snake_ids` / `test_invalid_snake_ids` (for `SnakeId`; the
        // lower-case variant used for variable names also rejects upper-case words).
        for good in ["default", "letters1_then2_numbers345", "db_url"] {
            validate_id::<'_', true>(good).unwrap_or_else(|e| panic!("{good}: {e}"));
        }
        for bad in [
            "",
            "kebab-case",
            "_leading_underscore",
            "trailing_underscore_",
            "double__underscore",
            "1initial_number",
            "unicode_snowpeople☃☃☃",
            "mIxEd_case",
            "MiXeD_case",
            "UPPER",
        ] {
            assert!(validate_id::<'_', true>(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            validate_id::<'-', false>("my_comp").unwrap_err(),
            "words must be separated with '-', not '_'"
        );

        let e = err(&one_component(
            "[variables]\nDB_URL = { required = true }",
            "",
            "",
        ));
        assert!(e.contains("invalid variable name `DB_URL`"), "{e}");
        let e = err(&one_component("", "", "")
            .replace("\"a\"", "\"my_comp\"")
            .replace("[component.a]", "[component.my_comp]"));
        assert!(e.contains("invalid component"), "{e}");
        let e = err(&one_component("", "", "variables = { Bad = \"x\" }"));
        assert!(e.contains("invalid variable name `Bad`"), "{e}");
    }

    #[test]
    fn unsupported_trigger_types_are_rejected_clearly() {
        let e = err(&with_header(
            "[[trigger.sqs]]\nqueue_url = \"x\"\ncomponent = \"a\"\n\
             [component.a]\nsource = \"a.wasm\"\n",
        ));
        assert!(e.contains("trigger type `sqs`"), "{e}");
        assert!(e.contains("not supported by this host"), "{e}");
    }

    #[test]
    fn trigger_must_reference_a_defined_component() {
        let e = err(&with_header(
            "[[trigger.http]]\nroute = \"/\"\ncomponent = \"ghost\"\n",
        ));
        assert!(e.contains("references component `ghost`"), "{e}");
    }

    // crates/http/src/config.rs and routes.rs.
    #[test]
    fn http_trigger_rules() {
        let without_route = one_component("", "", "").replace("route = \"/\"\n", "");
        assert!(err(&without_route).contains("missing field `route`"));
        let without_component = one_component("", "", "").replace("component = \"a\"\n", "");
        assert!(
            err(&without_component)
                .contains("Triggers must specify either component or static_response")
        );
        let not_private =
            one_component("", "", "").replace("route = \"/\"", "route = { private = false }");
        assert!(err(&not_private).contains(
            "route must be a string pattern or '{ private = true }': component 'a' has \
             { private = false }"
        ));
        let spin_executor = load(&one_component("", "executor = { type = \"spin\" }", "")).unwrap();
        assert_eq!(
            spin_executor.http_triggers[0].route,
            HttpRoute::Route("/".into())
        );
        let wagi = err(&one_component("", "executor = { type = \"wagi\" }", ""));
        assert!(wagi.contains("wagi"), "{wagi}");
    }

    // trigger-http `validate_app`: base "/" warns, any other base is an error.
    #[test]
    fn deprecated_http_base() {
        let app = load(&one_component(
            "[application.trigger.http]\nbase = \"/\"",
            "",
            "",
        ))
        .unwrap();
        assert_eq!(app.warnings.len(), 1);
        assert!(app.warnings[0].contains("deprecated trigger 'base'"));
        let e = err(&one_component(
            "[application.trigger.http]\nbase = \"/api\"",
            "",
            "",
        ));
        assert!(
            e.contains("The base must be prepended to each [[trigger.http]]'s 'route'"),
            "{e}"
        );
    }

    // trigger-redis: `channel` required, `address` optional, `[application.trigger.redis]
    // address` is the default.
    #[test]
    fn redis_trigger_address_defaults_to_application_setting() {
        let text = with_header(
            r#"
[application.trigger.redis]
address = "redis://{{ host }}:6379"

[variables]
host = { default = "localhost" }

[[trigger.redis]]
channel = "a"
component = "c"

[[trigger.redis]]
channel = "b"
address = "redis://other"
component = "c"

[component.c]
source = "c.wasm"
"#,
        );
        let app = load(&text).unwrap();
        assert_eq!(
            app.redis_default_address.as_deref(),
            Some("redis://{{ host }}:6379")
        );
        assert_eq!(
            app.redis_triggers[0].address.as_deref(),
            Some("redis://{{ host }}:6379")
        );
        assert_eq!(
            app.redis_triggers[1].address.as_deref(),
            Some("redis://other")
        );
        // Generated ids: the second trigger for the same component falls back to a counter.
        assert_eq!(app.redis_triggers[0].id, "c-redis-trigger");
        assert_eq!(app.redis_triggers[1].id, "redis-trigger1");

        let redis = |trigger: &str| {
            with_header(&format!(
                "[[trigger.redis]]\n{trigger}\n[component.c]\nsource = \"c.wasm\"\n"
            ))
        };
        let e = err(&redis("component = \"c\""));
        assert!(e.contains("missing field `channel`"), "{e}");
        let e = err(&redis("channel = \"x\""));
        assert!(e.contains("missing field `component`"), "{e}");
        let app = load(&redis("channel = \"x\"\ncomponent = \"c\"")).unwrap();
        assert_eq!(app.redis_triggers[0].address, None);
    }

    // spin-trigger-cron / spin-trigger-command configs are `deny_unknown_fields`.
    #[test]
    fn cron_and_command_trigger_configs() {
        let trigger = |ty: &str, lines: &str| {
            with_header(&format!(
                "[[trigger.{ty}]]\ncomponent = \"c\"\n{lines}\n[component.c]\nsource = \"c.wasm\"\n"
            ))
        };
        let e = err(&trigger("cron", ""));
        assert!(e.contains("missing field `cron_expression`"), "{e}");
        let e = err(&trigger("command", "args = []"));
        assert!(e.contains("unknown field `args`"), "{e}");
    }

    // loader: `AllowedHostsConfig::validate` runs at load; templates are checked only when
    // their variables have defaults.
    #[test]
    fn allowed_outbound_hosts_are_validated_at_load() {
        let make = |hosts: &str| {
            one_component(
                "[variables]\nhost = { default = \"db.local\" }\n\
                 bad = { default = \"no-scheme\" }\nreq = { required = true }",
                "",
                &format!("allowed_outbound_hosts = [{hosts}]"),
            )
        };
        load(&make("\"postgres://{{ host }}:5432\"")).unwrap();
        load(&make("\"{{ req }}\"")).unwrap();
        let e = err(&make("\"example.com\""));
        assert!(e.contains("Failed to load component `a`"), "{e}");
        assert!(e.contains("`allowed_outbound_hosts` is malformed"), "{e}");
        assert!(e.contains("does not contain a scheme"), "{e}");
        let e = err(&make("\"{{ bad }}\""));
        assert!(e.contains("using default variable value(s)"), "{e}");
        let e = err(&make("\"insecure:allow-all\""));
        assert!(e.contains("'insecure:allow-all' is not allowed"), "{e}");
        let e = err(&make("\"redis://{{ host\""));
        assert!(e.contains("unmatched '{{' in template"), "{e}");
    }

    // compat.rs `convert_allowed_http_to_allowed_hosts(.., false)`.
    #[test]
    fn deprecated_allowed_http_hosts_are_converted() {
        assert_eq!(
            convert_allowed_http_hosts(&[
                "example.com".into(),
                "self".into(),
                "https://x.io:8443".into()
            ])
            .unwrap(),
            vec![
                "http://example.com",
                "https://example.com",
                "http://self",
                "http://x.io:8443",
                "https://x.io:8443"
            ]
        );
        assert_eq!(
            convert_allowed_http_hosts(&["insecure:allow-all".into()]).unwrap(),
            vec!["http://*:*", "https://*:*", "http://self"]
        );
        assert!(convert_allowed_http_hosts(&["ftp://x.io".into()]).is_err());
        assert!(convert_allowed_http_hosts(&["http://x.io/path".into()]).is_err());

        let app = load(&one_component(
            "",
            "",
            "allowed_http_hosts = [\"example.com:8080\"]\nallowed_outbound_hosts = [\"redis://r\"]",
        ))
        .unwrap();
        assert_eq!(
            app.components["a"].allowed_outbound_hosts,
            vec![
                "redis://r",
                "http://example.com:8080",
                "https://example.com:8080"
            ]
        );
        assert!(app.warnings[0].contains("deprecated field `allowed_http_hosts`"));
    }

    #[test]
    fn unsupported_component_features_are_rejected() {
        let e = err(&one_component("", "", "key_value_stores = [\"default\"]"));
        assert!(
            e.contains("`key_value_stores` is not supported by this host"),
            "{e}"
        );
        let remote = one_component("", "", "").replace(
            "source = \"a.wasm\"",
            "source = { url = \"https://x/a.wasm\", digest = \"sha256:00\" }",
        );
        assert!(err(&remote).contains("URL and registry sources are not supported"));
        // Empty lists are fine.
        load(&one_component("", "", "sqlite_databases = []")).unwrap();
    }

    // locked.rs `ensure_needs_only` + trigger cli: service chaining only under HTTP, checked
    // per trigger type for the components that type uses.
    #[test]
    fn service_chaining_is_an_http_only_host_requirement() {
        let app = load(FULL).unwrap();
        // `api` chains and is used by both an HTTP and a Redis trigger.
        assert_eq!(
            app.ensure_needs_only("http", &[SERVICE_CHAINING_KEY]),
            Ok(())
        );
        assert_eq!(
            app.ensure_needs_only("redis", &[]),
            Err("local_service_chaining".to_owned())
        );
        assert_eq!(app.ensure_needs_only("cron", &[]), Ok(()));
        let e = app.check_host_requirements().unwrap_err().to_string();
        assert_eq!(
            e,
            "This application requires the following features that are not available in this \
             version of the 'redis' trigger: local_service_chaining"
        );
        // A chaining component used only over HTTP is fine.
        let ok = load(&one_component(
            "",
            "",
            "allowed_outbound_hosts = [\"http://other.spin.internal\"]",
        ))
        .unwrap();
        ok.check_host_requirements().unwrap();
    }

    #[test]
    fn from_file_resolves_sources_against_the_manifest_directory() {
        let dir = std::env::temp_dir().join(format!("spin-host-manifest-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(
            dir.join("spin.toml"),
            with_header(
                "[[trigger.command]]\ncomponent = \"a\"\n[component.a]\nsource = \"bin/a.wasm\"\n",
            ),
        )
        .unwrap();
        let by_dir = App::from_file(&dir).unwrap();
        let by_file = App::from_file(&dir.join("spin.toml")).unwrap();
        assert_eq!(by_dir, by_file);
        assert_eq!(by_file.components["a"].source, dir.join("bin/a.wasm"));
        let e = format!(
            "{:#}",
            App::from_file(&dir.join("missing.toml")).unwrap_err()
        );
        assert!(e.contains("Failed to read Spin app manifest"), "{e}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
