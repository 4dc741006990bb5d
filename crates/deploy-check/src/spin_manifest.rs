//! The parts of `spin.toml` the deployment mirrors, and the rule that decides how each
//! component id is deployed (docs/events-conventions in the lead's brief, DESIGN.md):
//!
//! - an id with an HTTP trigger is a service: one SpinApp named after it, running only it;
//! - an id with a command trigger is a one-shot Job (`migrate`);
//! - `X-redis` (Redis triggers only) and `X-cron` (cron triggers only) are the local
//!   transports of service `X` (same `source`) and are not deployed: Dapr subscriptions and
//!   Dapr cron bindings calling `X`'s HTTP routes stand in for them;
//! - any other id breaks the rule and is reported.

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::{Context, Result};
use spin_host::manifest::{App, HttpRoute};
use spin_host::router::Router;
use spin_host::variables::Template;

use crate::project;

/// How a component id is deployed on a cluster.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deployment {
    /// A SpinApp of its own (it has HTTP triggers).
    Service,
    /// A Kubernetes Job (it has a command trigger).
    Job,
    /// Not deployed: the Redis-trigger transport of the named service.
    RedisTransportOf(String),
    /// Not deployed: the cron-trigger transport of the named service.
    CronTransportOf(String),
}

/// A Spin application variable (`[variables]`).
#[derive(Debug, Clone)]
pub struct Variable {
    /// `secret = true`.
    pub secret: bool,
    /// `required = true`.
    pub required: bool,
}

/// A `[[trigger.redis]]`.
#[derive(Debug, Clone)]
pub struct RedisTrigger {
    /// The component it calls.
    pub component: String,
    /// The channel (= topic).
    pub channel: String,
}

/// A `[[trigger.cron]]`.
#[derive(Debug, Clone)]
pub struct CronTrigger {
    /// The component it calls.
    pub component: String,
    /// The expression, seconds first.
    pub cron_expression: String,
}

/// A component: its source and the application variables it reads.
#[derive(Debug, Clone)]
pub struct Component {
    /// `source`.
    pub source: String,
    /// Application variables referenced (`{{ name }}`) by its `variables` or
    /// `allowed_outbound_hosts`.
    pub uses_variables: Vec<String>,
}

/// What the checks read from `spin.toml`.
#[derive(Debug, Clone)]
pub struct SpinManifest {
    /// `[variables]`, by name.
    pub variables: BTreeMap<String, Variable>,
    /// `[component.<id>]`, by id.
    pub components: BTreeMap<String, Component>,
    /// `[[trigger.http]]` as (component, route).
    pub http_routes: Vec<(String, String)>,
    /// `[[trigger.redis]]`.
    pub redis_triggers: Vec<RedisTrigger>,
    /// `[[trigger.cron]]`.
    pub cron_triggers: Vec<CronTrigger>,
    /// Components with a `[[trigger.command]]`.
    pub command_components: Vec<String>,
}

impl SpinManifest {
    /// Reads the workspace's `spin.toml`.
    pub fn load() -> Result<Self> {
        let path = project::root().join("spin.toml");
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        Self::parse(&text)
    }

    /// Parses a manifest with the host's own reader (`spin_host::manifest`, Spin's schema), so
    /// the deployment is checked against the manifest exactly as `spin up` reads it.
    pub fn parse(text: &str) -> Result<Self> {
        let app = App::from_toml_str(text, Path::new("."))
            .context("spin.toml is not a valid manifest")?;
        let variables = app
            .variables
            .iter()
            .map(|(name, declaration)| {
                let variable = Variable {
                    secret: declaration.secret,
                    required: declaration.required,
                };
                (name.clone(), variable)
            })
            .collect();
        let components = app
            .components
            .iter()
            .map(|(id, component)| {
                let mut uses_variables: Vec<String> = Vec::new();
                let templates = component
                    .variables
                    .values()
                    .chain(&component.allowed_outbound_hosts);
                for template in templates.filter_map(|text| Template::new(text).ok()) {
                    for name in template.variables() {
                        if !uses_variables.iter().any(|known| known == name) {
                            uses_variables.push(name.to_owned());
                        }
                    }
                }
                let component = Component {
                    source: component.source.display().to_string(),
                    uses_variables,
                };
                (id.clone(), component)
            })
            .collect();
        Ok(Self {
            variables,
            components,
            http_routes: app
                .http_triggers
                .iter()
                .filter_map(|t| match &t.route {
                    HttpRoute::Route(route) => Some((t.component.clone(), route.clone())),
                    HttpRoute::Private => None,
                })
                .collect(),
            redis_triggers: app
                .redis_triggers
                .iter()
                .map(|t| RedisTrigger {
                    component: t.component.clone(),
                    channel: t.channel.clone(),
                })
                .collect(),
            cron_triggers: app
                .cron_triggers
                .iter()
                .map(|t| CronTrigger {
                    component: t.component.clone(),
                    cron_expression: t.cron_expression.clone(),
                })
                .collect(),
            command_components: app
                .command_triggers
                .iter()
                .map(|t| t.component.clone())
                .collect(),
        })
    }

    /// How each component id is deployed, or why it breaks the rule.
    pub fn deployment_of(&self, id: &str) -> Result<Deployment, String> {
        let has_http = self
            .http_routes
            .iter()
            .any(|(component, _)| component == id);
        let has_redis = self.redis_triggers.iter().any(|t| t.component == id);
        let has_cron = self.cron_triggers.iter().any(|t| t.component == id);
        let has_command = self.command_components.iter().any(|c| c == id);
        let transport_of = |suffix: &str| -> Result<String, String> {
            let service = id.strip_suffix(suffix).ok_or_else(|| {
                format!(
                    "component `{id}` has only {} triggers, so it is a local transport and \
                     must be named `<service>{suffix}`",
                    &suffix[1..]
                )
            })?;
            let own_source = &self.components.get(id).map(|c| c.source.clone());
            match self.components.get(service) {
                Some(main) if Some(&main.source) == own_source.as_ref() => Ok(service.to_owned()),
                Some(_) => Err(format!(
                    "component `{id}` must have the same `source` as `{service}`, the service \
                     whose local transport it is"
                )),
                None => Err(format!(
                    "component `{id}` is the local transport of `{service}`, which spin.toml \
                     does not declare"
                )),
            }
        };
        match (has_http, has_redis, has_cron, has_command) {
            (true, false, false, false) => Ok(Deployment::Service),
            (false, false, false, true) => Ok(Deployment::Job),
            (false, true, false, false) => transport_of("-redis").map(Deployment::RedisTransportOf),
            (false, false, true, false) => transport_of("-cron").map(Deployment::CronTransportOf),
            (false, false, false, false) => Err(format!("component `{id}` has no trigger")),
            _ => Err(format!(
                "component `{id}` mixes trigger types; clusters deploy HTTP components as \
                 SpinApps and command components as Jobs, and the Redis and cron triggers \
                 belong to separate `{id}-redis` / `{id}-cron` ids (the event conventions)"
            )),
        }
    }

    /// Whether a request for `path` reaches `component`: Spin's router (the host's copy of it)
    /// picks the most specific route among every component's, so a route another component
    /// claims more specifically does not count.
    pub fn serves(&self, component: &str, path: &str) -> bool {
        let routes: Vec<(String, String)> = self
            .http_routes
            .iter()
            .map(|(id, route)| (route.clone(), id.clone()))
            .collect();
        Router::build(&routes)
            .ok()
            .and_then(|router| router.route(path))
            .is_some_and(|found| found.component_id() == component)
    }
}

/// A request path that a Spin route pattern matches: wildcards and `:name` segments filled
/// with `x`.
pub fn sample_path(route: &str) -> String {
    let route = match route.strip_suffix("/...") {
        Some(prefix) => format!("{prefix}/x"),
        None => route.to_owned(),
    };
    route
        .split('/')
        .map(|segment| {
            if segment.starts_with(':') {
                "x"
            } else {
                segment
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = r#"
        spin_manifest_version = 2
        [application]
        name = "t"
        [variables]
        db_url = { default = "x", secret = true }
        tick_token = { required = true, secret = true }
        [[trigger.http]]
        route = "/events/audit/..."
        component = "audit"
        [[trigger.http]]
        route = "/ticks/audit"
        component = "audit"
        [[trigger.redis]]
        channel = "tasks.task.created"
        component = "audit-redis"
        [[trigger.cron]]
        component = "audit-cron"
        cron_expression = "0 * * * * *"
        [[trigger.redis]]
        channel = "x"
        component = "stray"
        [[trigger.command]]
        component = "migrate"
        [component.audit]
        source = "audit.wasm"
        allowed_outbound_hosts = ["postgres://*:5432"]
        [component.audit.variables]
        db_url = "{{ db_url }}"
        tick_token = "{{tick_token}}"
        [component.audit-redis]
        source = "audit.wasm"
        [component.audit-cron]
        source = "other.wasm"
        [component.stray]
        source = "stray.wasm"
        [component.migrate]
        source = "migrate.wasm"
    "#;

    #[test]
    fn the_deployment_rule_classifies_every_kind_of_component() {
        let manifest = SpinManifest::parse(MANIFEST).unwrap();
        assert_eq!(manifest.deployment_of("audit"), Ok(Deployment::Service));
        assert_eq!(manifest.deployment_of("migrate"), Ok(Deployment::Job));
        assert_eq!(
            manifest.deployment_of("audit-redis"),
            Ok(Deployment::RedisTransportOf("audit".into()))
        );
        let cron = manifest.deployment_of("audit-cron").unwrap_err();
        assert!(cron.contains("same `source`"), "{cron}");
        let stray = manifest.deployment_of("stray").unwrap_err();
        assert!(stray.contains("<service>-redis"), "{stray}");
    }

    #[test]
    fn variables_are_read_from_component_templates() {
        let manifest = SpinManifest::parse(MANIFEST).unwrap();
        assert_eq!(
            manifest.components["audit"].uses_variables,
            ["db_url", "tick_token"]
        );
        assert!(manifest.variables["tick_token"].secret);
        assert!(manifest.variables["tick_token"].required);
    }

    #[test]
    fn a_path_is_served_by_the_component_spin_would_route_it_to() {
        let manifest = SpinManifest::parse(MANIFEST).unwrap();
        assert!(manifest.serves("audit", "/events/audit/tasks.task.created"));
        assert!(manifest.serves("audit", "/ticks/audit"));
        assert!(!manifest.serves("audit", "/events/auditx"));
        assert!(!manifest.serves("audit", "/ticks/audit/x"));
        assert!(!manifest.serves("migrate", "/ticks/audit"));
        assert_eq!(sample_path("/api/tasks/:id/..."), "/api/tasks/x/x");
        assert_eq!(sample_path("/health"), "/health");
    }
}
