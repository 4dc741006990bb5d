//! Both overlays render, and every object in them is valid: custom resources against their
//! upstream CRD schema, built-in kinds against the Kubernetes schema. Each validator is also
//! shown to reject a misspelt field, so a pass means something.

use deploy_check::objects::{Object, parse_yaml_stream, render};
use deploy_check::project::{OVERLAYS, crds_dir};
use deploy_check::schemas::{CustomResourceDefinitions, KUBERNETES_VERSION, validate_builtin};

fn crds() -> CustomResourceDefinitions {
    let dir = crds_dir().unwrap_or_else(|error| panic!("{error:#}"));
    println!("CRDs from {}", dir.display());
    CustomResourceDefinitions::load(&dir).unwrap_or_else(|error| panic!("{error:#}"))
}

fn rendered(overlay: &str) -> Vec<Object> {
    render(overlay).unwrap_or_else(|error| panic!("{error:#}"))
}

#[test]
fn every_custom_resource_matches_its_upstream_crd() {
    let crds = crds();
    for overlay in OVERLAYS {
        let objects = rendered(overlay);
        let custom: Vec<&Object> = objects.iter().filter(|o| !o.is_builtin()).collect();
        assert!(
            custom.len() > 20,
            "{overlay}: only {} custom resources rendered",
            custom.len()
        );
        let kinds: std::collections::BTreeSet<&str> = custom.iter().map(|o| o.kind()).collect();
        let mut expected = vec![
            "SpinApp",
            "SpinAppExecutor",
            "Component",
            "Subscription",
            "Configuration",
            "Resiliency",
            "Kafka",
            "KafkaNodePool",
            "KafkaTopic",
        ];
        if *overlay == "cloud" {
            expected.extend([
                "KafkaUser",
                "Issuer",
                "Certificate",
                "PodMonitor",
                "PrometheusRule",
                "ExternalSecret",
            ]);
        }
        for kind in expected {
            assert!(
                kinds.contains(kind),
                "{overlay}: no {kind} rendered; kinds: {kinds:?}"
            );
        }
        let problems: Vec<String> = custom.iter().flat_map(|o| crds.validate(o)).collect();
        assert!(
            problems.is_empty(),
            "{overlay}: custom resources that the CRDs reject:\n{}",
            problems.join("\n")
        );
        println!("{overlay}: {} custom resources valid", custom.len());
    }
}

#[test]
fn every_builtin_object_matches_the_kubernetes_schema() {
    for overlay in OVERLAYS {
        let objects = rendered(overlay);
        let builtin: Vec<&Object> = objects.iter().filter(|o| o.is_builtin()).collect();
        assert!(
            !builtin.is_empty(),
            "{overlay}: no built-in objects rendered"
        );
        let problems = validate_builtin(&builtin).unwrap_or_else(|error| panic!("{error:#}"));
        assert!(
            problems.is_empty(),
            "{overlay}: objects Kubernetes {KUBERNETES_VERSION} rejects:\n{}",
            problems.join("\n")
        );
        println!("{overlay}: {} built-in objects valid", builtin.len());
    }
}

#[test]
fn the_crd_validator_rejects_a_misspelt_field_and_an_unserved_version() {
    let crds = crds();
    let objects = parse_yaml_stream(
        r#"
apiVersion: core.spinkube.dev/v1alpha1
kind: SpinApp
metadata: {name: api}
spec:
  image: ghcr.io/x/todo:1
  executor: containerd-shim-spin
  podAnotations: {dapr.io/enabled: "true"}
---
apiVersion: kafka.strimzi.io/v1beta2
kind: KafkaTopic
metadata: {name: t}
spec: {partitions: 3}
---
apiVersion: dapr.io/v2alpha1
kind: Subscription
metadata: {name: s}
spec: {pubsubname: pubsub, topic: t, routes: {default: /events/x/t}}
"#,
    )
    .unwrap();
    let misspelt = crds.validate(&objects[0]);
    assert!(
        misspelt.iter().any(|p| p.contains("podAnotations")),
        "{misspelt:?}"
    );
    let unserved = crds.validate(&objects[1]);
    assert!(
        unserved.iter().any(|p| p.contains("v1beta2")),
        "{unserved:?}"
    );
    // A valid v2alpha1 subscription passes...
    assert_eq!(crds.validate(&objects[2]), Vec::<String>::new());
    // ...and `routes` of the wrong type does not.
    let mut wrong = objects[2].clone();
    wrong.0["spec"]["routes"] = serde_json::json!("/events/x");
    assert!(!crds.validate(&wrong).is_empty());
}

#[test]
fn the_kubernetes_validator_rejects_a_misspelt_field() {
    let objects = parse_yaml_stream(
        r#"
apiVersion: batch/v1
kind: Job
metadata: {name: migrate}
spec:
  template:
    spec:
      runtimeClasName: wasmtime-spin-v2
      restartPolicy: Never
      containers: [{name: migrate, image: x}]
"#,
    )
    .unwrap();
    let problems = validate_builtin(&objects.iter().collect::<Vec<_>>())
        .unwrap_or_else(|error| panic!("{error:#}"));
    assert!(
        problems.iter().any(|p| p.contains("runtimeClasName")),
        "{problems:?}"
    );
}
