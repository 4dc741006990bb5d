//! Spin variables: component variables with `{{ }}` templates over application variables,
//! provider order, and the load-time errors.
//!
//! References (spinframework/spin): `crates/expressions/src/lib.rs` (resolution, `Key`
//! validation, "no provider resolved required variable"), `crates/factor-variables/src/host.rs`
//! (error kinds the guest sees), `crates/runtime-config/src/variables.rs` (configured providers
//! first, then the default environment provider), `crates/variables-static/src/lib.rs`,
//! `crates/variables-env/src/lib.rs` (`<PREFIX>_<NAME>`, then the dotenv file).

use crate::support::{Manifest, ProbeIds, load, start, start_with, temp_dir, unique};

#[tokio::test]
async fn component_variables_expand_templates_over_application_variables() {
    let ids = ProbeIds::new("vars");
    let salutation = unique("hi");
    let manifest = Manifest::from_app("probe.toml")
        .isolated_probe(&ids)
        .default("salutation", &salutation)
        .write();
    let app = start(&manifest).await;

    // `greeting = "{{ salutation }}, {{ addressee }}!"`: literal parts kept, each expression
    // replaced (expressions/src/lib.rs `resolve_template`).
    let reply = app.get("/vars/greeting").await;
    assert_eq!(reply.ok_json()["value"], format!("{salutation}, world!"));
    assert_eq!(
        app.get("/vars/literal").await.ok_json()["value"],
        "plain value"
    );
    // A secret variable is still an ordinary value to the component that declares it.
    assert_eq!(
        app.get("/vars/db_url").await.ok_json()["value"],
        crate::support::PG_URL
    );
}

#[tokio::test]
async fn components_see_only_their_own_variables() {
    let app = start(
        &Manifest::from_app("probe.toml")
            .isolated_probe(&ProbeIds::new("vars"))
            .write(),
    )
    .await;

    // `addressee` is an application variable the component does not declare: the guest gets
    // `Error::Undefined` (expressions `get_template` → factor-variables `Undefined`).
    let reply = app.get("/vars/addressee").await;
    assert_eq!(reply.status, 404, "expected Undefined, got {reply:?}");
    assert_eq!(reply.json()["error"], "undefined");
    let reply = app.get("/vars/no_such_variable").await;
    assert_eq!(reply.json()["error"], "undefined", "{reply:?}");

    // Names are checked before lookup (`Key::new`): lower-case letters, digits and single
    // underscores, starting with a letter → `Error::InvalidName`.
    for name in ["Bad-Name", "a__b", "1abc", "trailing_"] {
        let reply = app.get(&format!("/vars/{name}")).await;
        assert_eq!(
            reply.status, 400,
            "{name}: expected InvalidName, got {reply:?}"
        );
        assert_eq!(reply.json()["error"], "invalid_name", "{name}: {reply:?}");
    }
}

#[tokio::test]
async fn runtime_config_providers_come_before_manifest_defaults() {
    let dir = temp_dir("runtime-config");
    let prefix = unique("PROBE").to_ascii_uppercase();
    let dotenv = dir.join("probe.env");
    // variables-env: the key is `<prefix>_<NAME>`; a name missing from the process environment
    // is looked up in the dotenv file.
    std::fs::write(&dotenv, format!("{prefix}_ADDRESSEE=from-dotenv\n")).unwrap();
    let runtime_config = dir.join("runtime-config.toml");
    std::fs::write(
        &runtime_config,
        format!(
            r#"
            [[variables_provider]]
            type = "static"
            values = {{ salutation = "from-static" }}

            [[variables_provider]]
            type = "env"
            prefix = "{prefix}"
            dotenv_path = "{}"
            "#,
            dotenv.display()
        ),
    )
    .unwrap();
    // `addressee` is required: only the dotenv file supplies it.
    let manifest = Manifest::from_app("probe.toml")
        .isolated_probe(&ProbeIds::new("vars"))
        .required("addressee")
        .write();
    let app = start_with(&manifest, Some(runtime_config))
        .await
        .expect("the providers satisfy the required variable");
    assert_eq!(
        app.get("/vars/greeting").await.ok_json()["value"],
        "from-static, from-dotenv!"
    );
}

#[tokio::test]
async fn a_required_variable_without_a_value_fails_the_load_naming_it() {
    let manifest = Manifest::from_app("probe.toml")
        .isolated_probe(&ProbeIds::new("vars"))
        .required("addressee")
        .write();
    // The default environment provider reads SPIN_VARIABLE_ADDRESSEE; no test sets it.
    let err = match load(&manifest, None).await {
        Ok(_) => panic!("an app with an unresolved required variable must not load"),
        Err(err) => format!("{err:#}"),
    };
    // Spin: `no provider resolved required variable "addressee"` (spin-expressions).
    assert!(
        err.contains("addressee") && err.contains("required"),
        "the error should name the required variable: {err}"
    );
}

#[tokio::test]
async fn a_template_naming_an_undeclared_variable_fails_the_load() {
    let manifest = Manifest::from_toml(
        r#"
        spin_manifest_version = 2
        [application]
        name = "bad-template"
        [variables]
        known = { default = "x" }
        [[trigger.http]]
        route = "/..."
        component = "probe"
        [component.probe]
        source = "probe.wasm"
        variables = { value = "{{ known }}-{{ unknown_thing }}" }
        "#,
    )
    .write();
    // expressions `validate_template`: "invalid variable template: unknown variable ...".
    let err = match load(&manifest, None).await {
        Ok(_) => panic!("a template over an undeclared variable must not load"),
        Err(err) => format!("{err:#}"),
    };
    assert!(
        err.contains("unknown_thing"),
        "the error should name the variable: {err}"
    );
}
