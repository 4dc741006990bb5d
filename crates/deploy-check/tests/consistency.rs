//! The manifests agree with the code: spin.toml's components, triggers and variables, and
//! domain::event::Topic. Everything is derived from spin.toml, so these checks stay true (or
//! say exactly what is missing) as components land. A SpinApp, subscription or cron binding
//! written for a component spin.toml does not have yet is allowed and listed as planned.

use std::collections::{BTreeMap, BTreeSet};

use deploy_check::objects::{Object, find, of_kind, render, render_text};
use deploy_check::project::{self, OVERLAYS};
use deploy_check::spin_manifest::{Deployment, SpinManifest, sample_path};
use domain::event::{Consumer, Topic};
use serde_json::Value;

/// The executor every SpinApp names and the RuntimeClass of the shim.
const EXECUTOR: &str = "containerd-shim-spin";
const RUNTIME_CLASS: &str = "wasmtime-spin-v2";
/// The seed plan's retention: 7 days.
const RETENTION_MS: &str = "604800000";

fn manifest() -> SpinManifest {
    SpinManifest::load().unwrap_or_else(|error| panic!("{error:#}"))
}

fn overlays() -> Vec<(&'static str, Vec<Object>)> {
    OVERLAYS
        .iter()
        .map(|overlay| {
            (
                *overlay,
                render(overlay).unwrap_or_else(|error| panic!("{error:#}")),
            )
        })
        .collect()
}

/// Fails with every problem at once, so one run says everything that is wrong.
fn report(what: &str, problems: Vec<String>) {
    assert!(
        problems.is_empty(),
        "{what}:\n  - {}",
        problems.join("\n  - ")
    );
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|items| items.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn config_value<'a>(objects: &'a [Object], key: &str) -> Option<&'a str> {
    find(objects, "ConfigMap", "todo-config").and_then(|config| config.0["data"][key].as_str())
}

/// The pod template of a workload the manifests create directly.
fn pod_spec(object: &Object) -> Option<&Value> {
    match object.kind() {
        "Deployment" | "StatefulSet" | "Job" => Some(&object.spec()["template"]["spec"]),
        _ => None,
    }
}

/// The seed plan's partition counts: reminders topics use one partition (low volume, simple
/// ordering); task and recurrence topics three, keyed by user_id.
fn seed_partitions(topic: &str) -> u64 {
    if topic.starts_with("reminders.") {
        1
    } else {
        3
    }
}

#[test]
fn every_cluster_component_of_spin_toml_has_its_spin_app_or_job() {
    let manifest = manifest();
    for (overlay, objects) in overlays() {
        let mut problems = Vec::new();
        let spin_apps: Vec<&Object> = of_kind(&objects, "SpinApp").collect();
        for id in manifest.components.keys() {
            match manifest.deployment_of(id) {
                Ok(Deployment::Service) => match find(&objects, "SpinApp", id) {
                    None => problems.push(format!(
                        "component `{id}` serves HTTP, so it needs a SpinApp named `{id}` \
                         (spinkube/base/spinapps.yaml)"
                    )),
                    Some(app) => {
                        if strings(&app.spec()["components"]) != [id.as_str()] {
                            problems.push(format!(
                                "SpinApp {id} must run only its own component: spec.components \
                                 is {}, expected [\"{id}\"]",
                                app.spec()["components"]
                            ));
                        }
                        if app.str_at("spec/executor") != Some(EXECUTOR) {
                            problems.push(format!("SpinApp {id} must use the {EXECUTOR} executor"));
                        }
                    }
                },
                Ok(Deployment::Job) => {
                    let runs_it = of_kind(&objects, "Job").any(|job| {
                        let spec = pod_spec(job).unwrap();
                        spec["runtimeClassName"] == RUNTIME_CLASS
                            && spec["containers"][0]["env"]
                                .as_array()
                                .into_iter()
                                .flatten()
                                .any(|env| {
                                    env["name"] == "SPIN_COMPONENTS_TO_RETAIN"
                                        && env["value"] == *id
                                })
                    });
                    if !runs_it {
                        problems.push(format!(
                            "component `{id}` has a command trigger, so a Job with \
                             runtimeClassName {RUNTIME_CLASS} must run it \
                             (env SPIN_COMPONENTS_TO_RETAIN={id})"
                        ));
                    }
                }
                Ok(Deployment::RedisTransportOf(_) | Deployment::CronTransportOf(_)) => {
                    for app in &spin_apps {
                        if app.name() == id
                            || strings(&app.spec()["components"]).contains(&id.as_str())
                        {
                            problems.push(format!(
                                "`{id}` is a local transport and must not be deployed, but \
                                 SpinApp {} runs it",
                                app.name()
                            ));
                        }
                    }
                }
                Err(why) => problems.push(why),
            }
        }
        let planned: Vec<&str> = spin_apps
            .iter()
            .map(|app| app.name())
            .filter(|name| !manifest.components.contains_key(*name))
            .collect();
        println!("{overlay}: SpinApps planned but not yet in spin.toml: {planned:?}");

        let images: BTreeSet<&str> = spin_apps
            .iter()
            .filter_map(|app| app.str_at("spec/image"))
            .chain(of_kind(&objects, "Job").filter_map(|job| {
                pod_spec(job).and_then(|spec| spec["containers"][0]["image"].as_str())
            }))
            .collect();
        if images.len() != 1 {
            problems.push(format!(
                "every SpinApp and the migration Job run the one app image; found {images:?}"
            ));
        }
        match find(&objects, "SpinAppExecutor", EXECUTOR) {
            Some(executor)
                if executor.str_at("spec/deploymentConfig/runtimeClassName")
                    == Some(RUNTIME_CLASS) => {}
            _ => problems.push(format!(
                "a SpinAppExecutor {EXECUTOR} with runtimeClassName {RUNTIME_CLASS} is needed"
            )),
        }
        report(&format!("{overlay}: SpinApps and Jobs"), problems);
    }
}

#[test]
fn every_topic_and_dead_letter_topic_has_a_kafka_topic() {
    for (overlay, objects) in overlays() {
        let mut problems = Vec::new();
        let kafka = of_kind(&objects, "Kafka").next().expect("a Kafka cluster");
        let kafka_topics: BTreeMap<&str, &Object> = of_kind(&objects, "KafkaTopic")
            .map(|topic| {
                (
                    topic.str_at("spec/topicName").unwrap_or(topic.name()),
                    topic,
                )
            })
            .collect();
        for topic in Topic::ALL {
            let name = topic.as_str();
            let Some(kafka_topic) = kafka_topics.get(name) else {
                problems.push(format!(
                    "topic {name} (domain::event::Topic) has no KafkaTopic"
                ));
                continue;
            };
            let partitions = kafka_topic.spec()["partitions"].as_u64();
            if partitions != Some(seed_partitions(name)) {
                problems.push(format!(
                    "KafkaTopic {name}: {partitions:?} partitions, the seed plan has {}",
                    seed_partitions(name)
                ));
            }
            if kafka_topic.spec()["config"]["retention.ms"] != RETENTION_MS {
                problems.push(format!(
                    "KafkaTopic {name}: retention.ms must be {RETENTION_MS}"
                ));
            }
        }
        for subscription in of_kind(&objects, "Subscription") {
            for key in ["topic", "deadLetterTopic"] {
                match subscription.spec()[key].as_str() {
                    Some(topic) if kafka_topics.contains_key(topic) => {}
                    other => problems.push(format!(
                        "Subscription {}: {key} {other:?} has no KafkaTopic",
                        subscription.name()
                    )),
                }
            }
        }
        for topic in kafka_topics.values() {
            if topic.0["metadata"]["labels"]["strimzi.io/cluster"] != kafka.name() {
                problems.push(format!(
                    "KafkaTopic {} is not labelled strimzi.io/cluster={}",
                    topic.name(),
                    kafka.name()
                ));
            }
        }
        let brokers = match overlay {
            "minikube" => 1,
            _ => 3,
        };
        let pool_replicas: u64 = of_kind(&objects, "KafkaNodePool")
            .filter(|pool| strings(&pool.spec()["roles"]).contains(&"broker"))
            .filter_map(|pool| pool.spec()["replicas"].as_u64())
            .sum();
        if pool_replicas != brokers {
            problems.push(format!(
                "{overlay} runs {brokers} brokers, not {pool_replicas}"
            ));
        }
        let replication = kafka.spec()["kafka"]["config"]["default.replication.factor"].as_u64();
        if replication != Some(brokers) {
            problems.push(format!(
                "default.replication.factor is {replication:?}; with {brokers} brokers it must be {brokers}"
            ));
        }
        report(&format!("{overlay}: Kafka topics"), problems);
    }
}

#[test]
fn every_redis_trigger_has_a_dapr_subscription_to_the_consumers_route() {
    let manifest = manifest();
    for (overlay, objects) in overlays() {
        let mut problems = Vec::new();
        let pubsub = config_value(&objects, "dapr_pubsub").unwrap_or("pubsub");
        let pubsub_component = find(&objects, "Component", pubsub).filter(|component| {
            component
                .str_at("spec/type")
                .unwrap_or("")
                .starts_with("pubsub.")
        });
        if pubsub_component.is_none() {
            problems.push(format!(
                "no Dapr pub/sub Component named `{pubsub}` (todo-config dapr_pubsub)"
            ));
        }
        let subscriptions: Vec<&Object> = of_kind(&objects, "Subscription").collect();
        let mut matched = BTreeSet::new();
        for trigger in &manifest.redis_triggers {
            let Ok(Deployment::RedisTransportOf(app)) = manifest.deployment_of(&trigger.component)
            else {
                continue; // reported by the SpinApp check
            };
            let route = format!("/events/{app}/{}", trigger.channel);
            let found = subscriptions.iter().find(|s| {
                s.str_at("spec/topic") == Some(&trigger.channel) && s.scopes() == [app.as_str()]
            });
            let Some(subscription) = found else {
                problems.push(format!(
                    "`{}` consumes {} locally, so app id `{app}` needs a Subscription to it \
                     scoped to [{app}] (spinkube/base/dapr/subscriptions.yaml)",
                    trigger.component, trigger.channel
                ));
                continue;
            };
            matched.insert(subscription.name());
            if subscription.str_at("spec/routes/default") != Some(&route) {
                problems.push(format!(
                    "Subscription {} must deliver to {route}",
                    subscription.name()
                ));
            }
            if subscription.str_at("spec/pubsubname") != Some(pubsub) {
                problems.push(format!(
                    "Subscription {} must use pubsub `{pubsub}`",
                    subscription.name()
                ));
            }
            if subscription.str_at("spec/deadLetterTopic").is_none() {
                problems.push(format!(
                    "Subscription {} has no deadLetterTopic",
                    subscription.name()
                ));
            }
            if !manifest.serves(&app, &route) {
                problems.push(format!(
                    "spin.toml: component `{app}` has no HTTP route that serves {route}, where \
                     Dapr delivers {} (add route \"/events/{app}/...\")",
                    trigger.channel
                ));
            }
            if let Some(component) = pubsub_component
                && !component.scopes().contains(&app.as_str())
            {
                problems.push(format!(
                    "pub/sub component `{pubsub}` is not scoped to `{app}`"
                ));
            }
        }
        let mut planned = Vec::new();
        for subscription in &subscriptions {
            if matched.contains(subscription.name()) {
                continue;
            }
            let app = subscription.scopes().first().copied().unwrap_or("");
            if manifest.components.contains_key(&format!("{app}-redis")) {
                problems.push(format!(
                    "Subscription {} ({} for {app}) matches no [[trigger.redis]] of `{app}-redis` \
                     in spin.toml: remove it or add the trigger",
                    subscription.name(),
                    subscription.str_at("spec/topic").unwrap_or("?")
                ));
            } else {
                planned.push(subscription.name());
            }
        }
        println!(
            "{overlay}: {} subscriptions match spin.toml; planned for consumers not yet in spin.toml: {planned:?}",
            matched.len()
        );
        report(&format!("{overlay}: Dapr subscriptions"), problems);
    }
}

/// The dispatcher redelivers to every consumer in `domain::event::Consumer` until it records a
/// receipt, so on a cluster each of them must be subscribed to exactly its topics; a missing
/// subscription would end every such event in the dead letters.
#[test]
fn every_consumer_of_the_domain_is_subscribed_to_exactly_its_topics() {
    for (overlay, objects) in overlays() {
        let mut problems = Vec::new();
        for consumer in Consumer::ALL {
            let app = consumer.as_str();
            let expected: BTreeSet<&str> = consumer.topics().iter().map(|t| t.as_str()).collect();
            let subscribed: BTreeSet<&str> = of_kind(&objects, "Subscription")
                .filter(|s| s.scopes() == [app])
                .filter(|s| {
                    let topic = s.str_at("spec/topic").unwrap_or("");
                    s.str_at("spec/routes/default") == Some(&format!("/events/{app}/{topic}"))
                })
                .filter_map(|s| s.str_at("spec/topic"))
                .collect();
            for missing in expected.difference(&subscribed) {
                problems.push(format!(
                    "consumer `{app}` expects {missing} (domain::event::Consumer) but has no \
                     Subscription delivering it to /events/{app}/{missing}"
                ));
            }
            for extra in subscribed.difference(&expected) {
                problems.push(format!(
                    "`{app}` is subscribed to {extra}, which domain::event::Consumer does not list"
                ));
            }
        }
        report(&format!("{overlay}: consumers"), problems);
    }
}

#[test]
fn every_cron_trigger_has_a_dapr_cron_binding_calling_the_tick_route() {
    let manifest = manifest();
    for (overlay, objects) in overlays() {
        let mut problems = Vec::new();
        let bindings: Vec<&Object> = of_kind(&objects, "Component")
            .filter(|component| component.str_at("spec/type") == Some("bindings.cron"))
            .collect();
        let metadata = |binding: &Object, name: &str| -> Option<String> {
            binding.spec()["metadata"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|item| item["name"] == name)
                .and_then(|item| item["value"].as_str().map(str::to_owned))
        };
        let mut matched = BTreeSet::new();
        for trigger in &manifest.cron_triggers {
            let Ok(Deployment::CronTransportOf(app)) = manifest.deployment_of(&trigger.component)
            else {
                continue;
            };
            let route = format!("/ticks/{app}");
            let Some(binding) = bindings.iter().find(|b| {
                b.scopes() == [app.as_str()] && metadata(b, "route").as_deref() == Some(&route)
            }) else {
                problems.push(format!(
                    "`{}` ticks locally, so a Dapr bindings.cron Component scoped to [{app}] \
                     with route {route} is needed (spinkube/base/dapr/cron-bindings.yaml)",
                    trigger.component
                ));
                continue;
            };
            matched.insert(binding.name());
            if metadata(binding, "schedule").as_deref() != Some(&trigger.cron_expression) {
                problems.push(format!(
                    "cron binding {}: schedule {:?}, but spin.toml ticks `{}` on \"{}\"",
                    binding.name(),
                    metadata(binding, "schedule"),
                    trigger.component,
                    trigger.cron_expression
                ));
            }
            if !manifest.serves(&app, &route) {
                problems.push(format!(
                    "spin.toml: component `{app}` has no HTTP route {route} for the cron binding"
                ));
            }
        }
        let mut planned = Vec::new();
        for binding in &bindings {
            if matched.contains(binding.name()) {
                continue;
            }
            let app = binding.scopes().first().copied().unwrap_or("");
            if manifest.components.contains_key(&format!("{app}-cron")) {
                problems.push(format!(
                    "cron binding {} matches no [[trigger.cron]] of `{app}-cron`",
                    binding.name()
                ));
            } else {
                planned.push(binding.name());
            }
        }
        println!(
            "{overlay}: cron bindings planned for components not yet in spin.toml: {planned:?}"
        );
        report(&format!("{overlay}: cron bindings"), problems);
    }
}

/// Where one variable's value comes from on one workload.
#[derive(Debug)]
enum Source {
    Literal,
    ConfigMap(String, String),
    Secret(String, String),
}

fn source_of(value_holder: &Value) -> Option<Source> {
    if value_holder.get("value").is_some() {
        return Some(Source::Literal);
    }
    let from = &value_holder["valueFrom"];
    let key_ref = |kind: &str| {
        from.get(kind).map(|r| {
            (
                r["name"].as_str().unwrap_or("").to_owned(),
                r["key"].as_str().unwrap_or("").to_owned(),
            )
        })
    };
    if let Some((name, key)) = key_ref("secretKeyRef") {
        return Some(Source::Secret(name, key));
    }
    key_ref("configMapKeyRef").map(|(name, key)| Source::ConfigMap(name, key))
}

/// Every (workload, variable, source) binding of Spin variables: SpinApp `variables`, and
/// `SPIN_VARIABLE_*` env of Jobs.
fn variable_bindings(objects: &[Object]) -> Vec<(String, String, Option<Source>)> {
    let mut bindings = Vec::new();
    for app in of_kind(objects, "SpinApp") {
        for variable in app.spec()["variables"].as_array().into_iter().flatten() {
            bindings.push((
                format!("SpinApp {}", app.name()),
                variable["name"].as_str().unwrap_or("").to_owned(),
                source_of(variable),
            ));
        }
    }
    for job in of_kind(objects, "Job") {
        for container in pod_spec(job).unwrap()["containers"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for env in container["env"].as_array().into_iter().flatten() {
                if let Some(name) = env["name"]
                    .as_str()
                    .and_then(|n| n.strip_prefix("SPIN_VARIABLE_"))
                {
                    bindings.push((
                        format!("Job {}", job.name()),
                        name.to_lowercase(),
                        source_of(env),
                    ));
                }
            }
        }
    }
    bindings
}

/// Secrets (name, key) that exist on a cluster without being written in the manifests:
/// on Minikube made by scripts/deploy-local.sh (read from its --dry-run), in the cloud by
/// ExternalSecrets, the Strimzi operators and cert-manager.
fn secret_sources(overlay: &str, objects: &[Object]) -> BTreeSet<(String, String)> {
    let mut sources = BTreeSet::new();
    if overlay == "minikube" {
        for line in deploy_local_dry_run().lines() {
            let Some(rest) = line.split("create secret generic ").nth(1) else {
                continue;
            };
            let mut words = rest.split_whitespace();
            let name = words.next().unwrap_or("").to_owned();
            for word in words {
                if let Some(literal) = word.strip_prefix("--from-literal=") {
                    let key = literal.split('=').next().unwrap_or("");
                    sources.insert((name.clone(), key.to_owned()));
                }
            }
        }
    }
    for external in of_kind(objects, "ExternalSecret") {
        let target = external
            .str_at("spec/target/name")
            .unwrap_or(external.name());
        for item in external.spec()["data"].as_array().into_iter().flatten() {
            if let Some(key) = item["secretKey"].as_str() {
                sources.insert((target.to_owned(), key.to_owned()));
            }
        }
    }
    for user in of_kind(objects, "KafkaUser") {
        sources.insert((user.name().to_owned(), "password".to_owned()));
    }
    for kafka in of_kind(objects, "Kafka") {
        sources.insert((
            format!("{}-cluster-ca-cert", kafka.name()),
            "ca.crt".to_owned(),
        ));
    }
    sources
}

fn deploy_local_dry_run() -> String {
    project::run_ok(
        "bash",
        &["scripts/deploy-local.sh", "--dry-run"],
        "bash is needed to run scripts/deploy-local.sh",
    )
    .unwrap_or_else(|error| panic!("{error:#}"))
}

#[test]
fn every_spin_variable_has_a_value_source_of_the_right_kind_in_every_overlay() {
    let manifest = manifest();
    for (overlay, objects) in overlays() {
        let mut problems = Vec::new();
        let bindings = variable_bindings(&objects);
        let secrets = secret_sources(overlay, &objects);
        let mut planned = BTreeSet::new();
        for (workload, name, source) in &bindings {
            // A variable the manifests set ahead of the component that will declare it is
            // harmless (Spin ignores values for undeclared variables); a misspelt one shows up
            // below, as a variable a deployed component reads but is not given.
            let Some(variable) = manifest.variables.get(name) else {
                planned.insert(format!("{workload}: {name}"));
                continue;
            };
            match (variable.secret, source) {
                (true, Some(Source::Secret(secret, key))) => {
                    if !secrets.contains(&(secret.clone(), key.clone())) {
                        problems.push(format!(
                            "{workload}: `{name}` comes from Secret {secret} key {key}, which \
                             nothing creates in {overlay} (known: {secrets:?})"
                        ));
                    }
                }
                (true, _) => problems.push(format!(
                    "{workload}: `{name}` is secret in spin.toml and must come from a \
                     secretKeyRef, not {source:?}"
                )),
                (false, Some(Source::Literal)) => {}
                (false, Some(Source::ConfigMap(config, key))) => {
                    let present = find(&objects, "ConfigMap", config)
                        .is_some_and(|map| map.0["data"].get(key).is_some());
                    if !present {
                        problems.push(format!(
                            "{workload}: `{name}` reads ConfigMap {config} key {key}, which is not rendered"
                        ));
                    }
                }
                (false, other) => problems.push(format!(
                    "{workload}: `{name}` is not secret and takes a literal or ConfigMap value, not {other:?}"
                )),
            }
        }
        for name in manifest.variables.keys() {
            if !bindings.iter().any(|(_, bound, _)| bound == name) {
                problems.push(format!(
                    "spin.toml variable `{name}` has no value source in {overlay}"
                ));
            }
        }
        // Each deployed component gets every variable it reads: spin.toml's defaults are
        // loopback addresses meant for local runs.
        for (id, component) in &manifest.components {
            let workload = match manifest.deployment_of(id) {
                Ok(Deployment::Service) => format!("SpinApp {id}"),
                Ok(Deployment::Job) => of_kind(&objects, "Job")
                    .find(|job| job.name() == id)
                    .map(|job| format!("Job {}", job.name()))
                    .unwrap_or_else(|| format!("Job {id}")),
                _ => continue,
            };
            for name in &component.uses_variables {
                if !bindings
                    .iter()
                    .any(|(w, bound, _)| *w == workload && bound == name)
                {
                    problems.push(format!(
                        "{workload} runs component `{id}`, which reads `{name}`, but does not set it"
                    ));
                }
            }
        }
        println!("{overlay}: variables set but not declared in spin.toml yet: {planned:?}");
        report(&format!("{overlay}: variables"), problems);
    }
}

/// Whether a string holds credentials in a URL (`scheme://user:password@host`).
fn has_url_credentials(text: &str) -> bool {
    text.match_indices("://").any(|(at, _)| {
        let rest = &text[at + 3..];
        let authority = rest
            .split(|c: char| c == '/' || c.is_whitespace() || c == '"' || c == '\'')
            .next()
            .unwrap_or("");
        authority
            .split_once('@')
            .is_some_and(|(userinfo, _)| userinfo.contains(':'))
    })
}

#[test]
fn no_secret_is_written_in_the_rendered_manifests() {
    assert!(has_url_credentials(
        "db_url: postgres://todo:hunter2@db:5432/todo"
    ));
    assert!(!has_url_credentials(
        "postgres://*:5432 and https://acme-v02.api.letsencrypt.org/x"
    ));
    let secret_words = [
        "password",
        "secret",
        "token",
        "apikey",
        "api_key",
        "cacert",
        "dsn",
        "data_source",
    ];
    let looks_secret = |name: &str| {
        let name = name.to_lowercase();
        secret_words.iter().any(|word| name.contains(word))
            || name == "db_url"
            || name.ends_with("spin_variable_db_url")
    };
    for overlay in OVERLAYS {
        let text = render_text(overlay).unwrap_or_else(|error| panic!("{error:#}"));
        let objects = render(overlay).unwrap();
        let mut problems = Vec::new();
        if text.contains("-----BEGIN") {
            problems.push("a PEM block (key or certificate) is written in the manifests".into());
        }
        if has_url_credentials(&text) {
            problems
                .push("a URL with credentials (user:password@) is written in the manifests".into());
        }
        for secret in of_kind(&objects, "Secret") {
            problems.push(format!(
                "Secret {} is written in the manifests; make it in the cluster (deploy-local.sh) \
                 or through an ExternalSecret",
                secret.name()
            ));
        }
        for component in of_kind(&objects, "Component") {
            for item in component.spec()["metadata"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let name = item["name"].as_str().unwrap_or("");
                if looks_secret(name) && item.get("secretKeyRef").is_none() {
                    problems.push(format!(
                        "Dapr Component {}: `{name}` must come from a secretKeyRef",
                        component.name()
                    ));
                }
            }
        }
        for workload in &objects {
            let Some(spec) = pod_spec(workload) else {
                continue;
            };
            for container in spec["containers"].as_array().into_iter().flatten() {
                for env in container["env"].as_array().into_iter().flatten() {
                    let name = env["name"].as_str().unwrap_or("");
                    if looks_secret(name) && env["valueFrom"].get("secretKeyRef").is_none() {
                        problems.push(format!(
                            "{workload}: env {name} must come from a secretKeyRef"
                        ));
                    }
                }
            }
        }
        report(&format!("{overlay}: secrets"), problems);
    }
}

#[test]
fn every_app_id_dapr_talks_to_has_its_sidecar() {
    for (overlay, objects) in overlays() {
        let mut problems = Vec::new();
        let mut app_ids = BTreeSet::new();
        for object in &objects {
            if matches!(object.kind(), "Component" | "Subscription" | "Resiliency") {
                app_ids.extend(object.scopes());
            }
        }
        let tick_secret = find(&objects, "SpinApp", "dispatcher")
            .or_else(|| of_kind(&objects, "SpinApp").next())
            .and_then(|app| {
                app.spec()["variables"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find(|v| v["name"] == "tick_token")
                    .and_then(|v| v["valueFrom"]["secretKeyRef"]["name"].as_str())
            });
        for app_id in app_ids {
            let Some(app) = find(&objects, "SpinApp", app_id) else {
                problems.push(format!(
                    "Dapr resources are scoped to `{app_id}`, which has no SpinApp"
                ));
                continue;
            };
            let annotations = &app.spec()["podAnnotations"];
            let expect = [
                ("dapr.io/enabled", Some("true")),
                ("dapr.io/app-id", Some(app_id)),
                ("dapr.io/app-port", Some("80")),
                ("dapr.io/enable-metrics", Some("true")),
                ("dapr.io/config", Some("todo-dapr")),
                ("dapr.io/app-token-secret", tick_secret),
            ];
            for (key, value) in expect {
                if annotations[key].as_str() != value {
                    problems.push(format!(
                        "SpinApp {app_id}: podAnnotations {key} must be {value:?}, is {}",
                        annotations[key]
                    ));
                }
            }
        }
        if find(&objects, "Configuration", "todo-dapr").is_none() {
            problems.push("no Dapr Configuration todo-dapr (tracing)".into());
        }
        report(&format!("{overlay}: Dapr sidecars"), problems);
    }
}

/// The Ingress backend ingress-nginx would pick for a path. An Exact path wins; otherwise the
/// longest matching path, where an ImplementationSpecific path of an Ingress with `use-regex`
/// is a regular expression anchored at the start and a Prefix path matches whole segments.
fn ingress_backend<'a>(objects: &'a [Object], path: &str) -> Option<&'a str> {
    let mut best: Option<(usize, &str)> = None;
    for ingress in of_kind(objects, "Ingress") {
        let regex_paths =
            ingress.0["metadata"]["annotations"]["nginx.ingress.kubernetes.io/use-regex"] == "true";
        for rule in ingress.spec()["rules"].as_array().into_iter().flatten() {
            for candidate in rule["http"]["paths"].as_array().into_iter().flatten() {
                let pattern = candidate["path"].as_str().unwrap_or("");
                let (matches, weight) = match candidate["pathType"].as_str() {
                    Some("Exact") => (path == pattern, usize::MAX),
                    Some("ImplementationSpecific") if regex_paths => {
                        let regex = regex::Regex::new(&format!("^{pattern}"))
                            .unwrap_or_else(|error| panic!("Ingress path {pattern}: {error}"));
                        (regex.is_match(path), pattern.len())
                    }
                    _ => {
                        let prefix = pattern.trim_end_matches('/');
                        let matches = prefix.is_empty()
                            || path == prefix
                            || path.starts_with(&format!("{prefix}/"));
                        (matches, pattern.len())
                    }
                };
                if matches && best.is_none_or(|(w, _)| weight > w) {
                    let service = candidate["backend"]["service"]["name"]
                        .as_str()
                        .unwrap_or("");
                    best = Some((weight, service));
                }
            }
        }
    }
    best.map(|(_, service)| service)
}

/// Routes only the cluster calls: Dapr deliveries and ticks, and Prometheus scrapes.
fn is_internal(path: &str) -> bool {
    path.starts_with("/events/") || path.starts_with("/ticks/") || path == "/metrics"
}

#[test]
fn users_reach_every_public_route_and_no_internal_one_through_the_ingress() {
    let manifest = manifest();
    for (overlay, objects) in overlays() {
        let mut problems = Vec::new();
        for (component, route) in &manifest.http_routes {
            if manifest.deployment_of(component) != Ok(Deployment::Service) {
                continue;
            }
            let path = sample_path(route);
            let backend = ingress_backend(&objects, &path);
            let internal = is_internal(&path);
            if internal && backend == Some(component.as_str()) {
                problems.push(format!(
                    "{route} of `{component}` is for the cluster only but the Ingress exposes it"
                ));
            }
            if !internal && backend != Some(component.as_str()) {
                problems.push(format!(
                    "route {route} of `{component}`: the Ingress sends {path} to {backend:?}, \
                     whose pods do not run `{component}` (add an Ingress path for it)"
                ));
            }
        }
        report(&format!("{overlay}: Ingress"), problems);
    }
}

#[test]
fn minikube_is_small_and_uses_redis_for_pub_sub() {
    let objects = render("minikube").unwrap_or_else(|error| panic!("{error:#}"));
    let mut problems = Vec::new();
    let pubsub = find(&objects, "Component", "pubsub");
    if pubsub.and_then(|c| c.str_at("spec/type")) != Some("pubsub.redis") {
        problems.push("Dapr pub/sub must be pubsub.redis on Minikube".into());
    }
    for app in of_kind(&objects, "SpinApp") {
        if app.spec()["replicas"].as_u64().is_none_or(|n| n > 2) {
            problems.push(format!(
                "SpinApp {} must run 1 or 2 replicas on Minikube",
                app.name()
            ));
        }
        if app.spec()["enableAutoscaling"] == true {
            problems.push(format!(
                "SpinApp {} must not autoscale on Minikube",
                app.name()
            ));
        }
    }
    for kind in ["Deployment", "StatefulSet"] {
        for name in ["postgres", "redis"] {
            if find(&objects, kind, name).is_some() {
                continue;
            }
            if kind == "StatefulSet" && name == "postgres" {
                problems.push("PostgreSQL runs in the namespace on Minikube".into());
            }
            if kind == "Deployment" && name == "redis" {
                problems.push("Redis runs in the namespace on Minikube".into());
            }
        }
    }
    report("minikube", problems);
}

#[test]
fn the_cloud_overlay_is_sized_autoscaled_secured_and_monitored() {
    let objects = render("cloud").unwrap_or_else(|error| panic!("{error:#}"));
    let mut problems = Vec::new();
    for app in of_kind(&objects, "SpinApp") {
        let name = app.name();
        if app.spec()["enableAutoscaling"] != true || app.spec().get("replicas").is_some() {
            problems.push(format!(
                "SpinApp {name}: enableAutoscaling and no fixed replicas"
            ));
        }
        for bound in ["requests", "limits"] {
            for resource in ["cpu", "memory"] {
                if app.spec()["resources"][bound][resource].is_null() {
                    problems.push(format!(
                        "SpinApp {name}: resources.{bound}.{resource} missing"
                    ));
                }
            }
        }
        let scaled = of_kind(&objects, "HorizontalPodAutoscaler").any(|hpa| {
            hpa.str_at("spec/scaleTargetRef/kind") == Some("Deployment")
                && hpa.str_at("spec/scaleTargetRef/name") == Some(name)
        });
        if !scaled {
            problems.push(format!(
                "SpinApp {name}: no HorizontalPodAutoscaler for Deployment {name}"
            ));
        }
    }
    // Dapr pub/sub: Kafka, SCRAM over TLS, credentials by reference.
    match find(&objects, "Component", "pubsub") {
        Some(pubsub) if pubsub.str_at("spec/type") == Some("pubsub.kafka") => {
            let items: BTreeMap<&str, &Value> = pubsub.spec()["metadata"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|item| (item["name"].as_str().unwrap_or(""), item))
                .collect();
            if items.get("authType").map(|i| &i["value"]) != Some(&Value::from("password")) {
                problems
                    .push("Kafka pub/sub must authenticate with SASL (authType password)".into());
            }
            if items.get("saslMechanism").map(|i| &i["value"]) != Some(&Value::from("SHA-512")) {
                problems
                    .push("Kafka pub/sub must use SCRAM-SHA-512 (saslMechanism SHA-512)".into());
            }
            if items
                .get("saslPassword")
                .is_none_or(|i| i.get("secretKeyRef").is_none())
            {
                problems.push("Kafka pub/sub: saslPassword from a Secret".into());
            }
            if items
                .get("disableTls")
                .is_some_and(|i| i["value"] == "true")
            {
                problems.push("Kafka pub/sub must keep TLS on".into());
            }
        }
        _ => problems.push("Dapr pub/sub must be pubsub.kafka in the cloud".into()),
    }
    // Default deny, and nothing else in the namespace is exempt.
    let default_deny = of_kind(&objects, "NetworkPolicy").any(|policy| {
        policy.spec()["podSelector"]
            .as_object()
            .is_some_and(|s| s.is_empty())
            && strings(&policy.spec()["policyTypes"]) == ["Ingress", "Egress"]
            && policy.spec().get("ingress").is_none()
            && policy.spec().get("egress").is_none()
    });
    if !default_deny {
        problems.push(
            "no default-deny NetworkPolicy (podSelector {}, Ingress and Egress, no rules)".into(),
        );
    }
    // TLS on every Ingress host, from a cert-manager Certificate.
    for ingress in of_kind(&objects, "Ingress") {
        for tls in ingress.spec()["tls"].as_array().into_iter().flatten() {
            let secret = tls["secretName"].as_str().unwrap_or("");
            if !of_kind(&objects, "Certificate")
                .any(|c| c.str_at("spec/secretName") == Some(secret))
            {
                problems.push(format!(
                    "Ingress {}: no Certificate makes {secret}",
                    ingress.name()
                ));
            }
        }
        if ingress.spec()["tls"].as_array().is_none_or(Vec::is_empty) {
            problems.push(format!("Ingress {} has no TLS", ingress.name()));
        }
    }
    // Monitoring: the seed plan's five dashboards and its critical and warning alerts.
    for dashboard in [
        "overview",
        "event-processing",
        "reminders",
        "notifications",
        "infrastructure",
    ] {
        let name = format!("grafana-dashboard-{dashboard}");
        match find(&objects, "ConfigMap", &name) {
            None => problems.push(format!("dashboard ConfigMap {name} missing")),
            Some(map) => {
                let json = map.0["data"][format!("{dashboard}.json")]
                    .as_str()
                    .unwrap_or("");
                match serde_json::from_str::<Value>(json) {
                    Ok(board) if board["panels"].as_array().is_some_and(|p| p.len() >= 4) => {}
                    _ => problems.push(format!("{name}: not a Grafana dashboard with panels")),
                }
                if map.0["metadata"]["labels"]["grafana_dashboard"] != "1" {
                    problems.push(format!("{name}: label grafana_dashboard=1 missing"));
                }
            }
        }
    }
    let alerts: BTreeMap<String, String> = of_kind(&objects, "PrometheusRule")
        .flat_map(|rule| {
            rule.spec()["groups"]
                .as_array()
                .cloned()
                .unwrap_or_default()
        })
        .flat_map(|group| group["rules"].as_array().cloned().unwrap_or_default())
        .filter_map(|rule| {
            Some((
                rule["alert"].as_str()?.to_owned(),
                rule["labels"]["severity"].as_str()?.to_owned(),
            ))
        })
        .collect();
    let expected = [
        ("TodoServiceDown", "critical"),
        ("TodoDatabaseUnreachable", "critical"),
        ("TodoKafkaBrokerDown", "critical"),
        ("TodoReminderFiringLag", "critical"),
        ("TodoHighErrorRate", "warning"),
        ("TodoEventProcessingLag", "warning"),
        ("TodoKafkaDiskUsage", "warning"),
        ("TodoMemoryHigh", "warning"),
    ];
    for (alert, severity) in expected {
        if alerts.get(alert).map(String::as_str) != Some(severity) {
            problems.push(format!(
                "PrometheusRule: alert {alert} ({severity}) missing"
            ));
        }
    }
    // Every component that serves /metrics is scraped there.
    let manifest = manifest();
    for (component, route) in &manifest.http_routes {
        if route != "/metrics" || manifest.deployment_of(component) != Ok(Deployment::Service) {
            continue;
        }
        let scraped = of_kind(&objects, "PodMonitor").any(|monitor| {
            let selects = monitor.spec()["selector"]["matchExpressions"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|e| {
                    e["key"] == "core.spinkube.dev/app-name"
                        && strings(&e["values"]).contains(&component.as_str())
                });
            selects
                && monitor.spec()["podMetricsEndpoints"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .any(|endpoint| {
                        endpoint["path"] == "/metrics" && endpoint["port"] == "http-app"
                    })
        });
        if !scraped {
            problems.push(format!(
                "`{component}` serves /metrics but no PodMonitor scrapes it (port http-app)"
            ));
        }
    }
    if of_kind(&objects, "PodMonitor").count() < 3 {
        problems.push("PodMonitors for the Dapr sidecars, Kafka and PostgreSQL are needed".into());
    }
    if of_kind(&objects, "ExternalSecret").next().is_none() {
        problems.push("cloud secrets come from ExternalSecrets".into());
    }
    report("cloud", problems);
}
