//! Spin variables: `{{ name }}` templates, variable providers and the resolver that expands
//! component variables, with the same rules and start-up checks as Spin.
//!
//! References (spinframework/spin):
//! - `crates/expressions/src/template.rs`: the template syntax.
//! - `crates/expressions/src/lib.rs`: `Key::validate` (variable names), `ProviderResolver`
//!   (providers first, then the declared default), `validate_variables` (the start-up check that
//!   every variable without a default is supplied by some provider).
//! - `crates/variables-env/src/lib.rs`: the environment provider (`SPIN_VARIABLE_` prefix,
//!   upper-cased name, optional dotenv file).
//! - `crates/variables-static/src/lib.rs`: the static provider.
//! - `crates/factor-variables/src/host.rs`: which error a guest `get` sees.

use std::{
    collections::{BTreeMap, HashMap},
    env::VarError,
    fmt,
    path::{Path, PathBuf},
    sync::{Arc, OnceLock},
};

use anyhow::Context as _;

use crate::manifest::{App, VariableDecl};

/// A resolution error, with the same four cases (and messages) as `spin_expressions::Error`.
///
/// A host implementing `fermyon:spin/variables@2.0.0` maps them as Spin does
/// (`crates/factor-variables/src/host.rs`): `InvalidName` → `invalid-name(msg)`,
/// `Undefined` → `undefined(msg)`, `Provider` → `provider(msg)`, and `InvalidTemplate` →
/// `other(self.to_string())`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VariableError {
    /// A variable name that breaks Spin's naming rules, or a name no variable has.
    InvalidName(String),
    /// A malformed `{{ }}` template, or one naming an undeclared variable.
    InvalidTemplate(String),
    /// A provider failed, or no provider (nor a default) supplied a required variable.
    Provider(String),
    /// The component has no variable of that name.
    Undefined(String),
}

impl fmt::Display for VariableError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Same prefixes as the `thiserror` messages of `spin_expressions::Error`.
        match self {
            Self::InvalidName(msg) => write!(f, "invalid variable name: {msg}"),
            Self::InvalidTemplate(msg) => write!(f, "invalid variable template: {msg}"),
            Self::Provider(msg) => write!(f, "provider error: {msg}"),
            Self::Undefined(msg) => write!(f, "undefined variable: {msg}"),
        }
    }
}

impl std::error::Error for VariableError {}

/// Checks a variable name as `spin_expressions::Key::validate` does: non-empty; only
/// lower-case ASCII letters, digits and `_`; starts with a letter; ends with a letter or digit;
/// no `__`. (The rules exist so names map unambiguously onto environment variable names.)
pub fn validate_key(key: &str) -> Result<(), VariableError> {
    let reason = if key.is_empty() {
        Some("must not be empty".to_owned())
    } else if let Some(invalid) = key
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        Some(format!(
            "invalid character {invalid:?}. Variable names may contain only lower-case letters, numbers, and underscores."
        ))
    } else if !key.as_bytes()[0].is_ascii_lowercase() {
        Some("must start with a lowercase ASCII letter".to_owned())
    } else if !key.as_bytes()[key.len() - 1].is_ascii_alphanumeric() {
        Some("must end with a lowercase ASCII letter or digit".to_owned())
    } else if key.contains("__") {
        Some("must not contain multiple consecutive underscores".to_owned())
    } else {
        None
    };
    match reason {
        Some(reason) => Err(VariableError::InvalidName(format!("{key:?}: {reason}"))),
        None => Ok(()),
    }
}

/// One piece of a [`Template`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Part {
    /// Literal text.
    Lit(String),
    /// The (trimmed) text between `{{` and `}}`: a variable name.
    Expr(String),
}

/// A string with `{{ variable }}` expressions, parsed exactly as Spin's
/// `crates/expressions/src/template.rs` parses it: everything up to the next `{{` is literal,
/// an expression runs to the next `}}` and is trimmed, and a `{{` without a closing `}}` is an
/// error. There is no escape syntax, and a lone `}}` is literal text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

impl Template {
    /// Parses a template.
    pub fn new(template: &str) -> Result<Self, VariableError> {
        let mut parts = Vec::new();
        let mut rest = template;
        while !rest.is_empty() {
            if let Some(after_open) = rest.strip_prefix("{{") {
                let Some((expr, after_close)) = after_open.split_once("}}") else {
                    return Err(VariableError::InvalidTemplate(
                        "unmatched '{{' in template".to_owned(),
                    ));
                };
                parts.push(Part::Expr(expr.trim().to_owned()));
                rest = after_close;
            } else {
                let end = rest.find("{{").unwrap_or(rest.len());
                parts.push(Part::Lit(rest[..end].to_owned()));
                rest = &rest[end..];
            }
        }
        Ok(Self { parts })
    }

    /// The parsed pieces, in order.
    pub fn parts(&self) -> &[Part] {
        &self.parts
    }

    /// True when the template has no `{{ }}` expression.
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Lit(_)))
    }

    /// The variable names the template refers to, in order (with repeats).
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Expr(name) => Some(name.as_str()),
            Part::Lit(_) => None,
        })
    }

    /// Expands the template, asking `lookup` for each variable.
    pub fn render<E>(
        &self,
        mut lookup: impl FnMut(&str) -> Result<String, E>,
    ) -> Result<String, E> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Lit(lit) => out.push_str(lit),
                Part::Expr(name) => out.push_str(&lookup(name)?),
            }
        }
        Ok(out)
    }
}

impl fmt::Display for Template {
    /// Writes the template back with normalised `{{ name }}` spacing, as Spin's `Display` does.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for part in &self.parts {
            match part {
                Part::Lit(lit) => f.write_str(lit)?,
                Part::Expr(expr) => write!(f, "{{{{ {expr} }}}}")?,
            }
        }
        Ok(())
    }
}

/// A source of variable values (Spin's `spin_expressions::Provider`).
///
/// All providers this host supports are "static" in Spin's sense (`ProviderVariableKind::Static`):
/// their values are known at start-up, so [`Resolver::new`] can check that every required
/// variable is supplied.
pub trait Provider: fmt::Debug + Send + Sync {
    /// The value of the application variable `key`, if this provider has one.
    fn get(&self, key: &str) -> anyhow::Result<Option<String>>;
}

type EnvLookup = Arc<dyn Fn(&str) -> Result<String, VarError> + Send + Sync>;

/// Spin's environment-variable provider (`crates/variables-env/src/lib.rs`).
///
/// Variable `db_url` is read from `{prefix}_DB_URL`, where the prefix defaults to
/// `SPIN_VARIABLE` (note: Spin joins with `_` even when the prefix is empty). A variable that is
/// not in the environment is looked up in the optional dotenv file, which is read (with the
/// `dotenvy` parser, as Spin does) on first use and cached; a missing dotenv file simply
/// supplies nothing.
pub struct EnvProvider {
    prefix: Option<String>,
    lookup: EnvLookup,
    dotenv_path: Option<PathBuf>,
    dotenv_cache: OnceLock<HashMap<String, String>>,
}

impl EnvProvider {
    /// The prefix Spin uses when none is configured.
    pub const DEFAULT_PREFIX: &'static str = "SPIN_VARIABLE";

    /// A provider reading names through `lookup` (which behaves like [`std::env::var`]).
    pub fn new(
        prefix: Option<String>,
        lookup: impl Fn(&str) -> Result<String, VarError> + Send + Sync + 'static,
        dotenv_path: Option<PathBuf>,
    ) -> Self {
        Self {
            prefix,
            lookup: Arc::new(lookup),
            dotenv_path,
            dotenv_cache: OnceLock::new(),
        }
    }

    /// The provider `spin up` always installs (`EnvVariablesProvider::default()`): the process
    /// environment with the default prefix, plus `.env` in the current directory.
    pub fn from_process_env() -> Self {
        Self::new(
            None,
            |name| std::env::var(name),
            Some(PathBuf::from(".env")),
        )
    }

    /// A provider over a fixed map of environment variables (default prefix, no dotenv file),
    /// so tests need not touch the process environment.
    pub fn from_map(env: HashMap<String, String>) -> Self {
        Self::new(
            None,
            move |name| env.get(name).cloned().ok_or(VarError::NotPresent),
            None,
        )
    }

    /// The environment variable name that holds variable `key`.
    pub fn env_key(&self, key: &str) -> String {
        let prefix = self.prefix.as_deref().unwrap_or(Self::DEFAULT_PREFIX);
        format!("{prefix}_{}", key.to_ascii_uppercase())
    }

    fn dotenv(&self, env_key: &str) -> anyhow::Result<Option<String>> {
        let Some(path) = self.dotenv_path.as_deref() else {
            return Ok(None);
        };
        let cache = match self.dotenv_cache.get() {
            Some(cache) => cache,
            None => {
                let loaded = load_dotenv(path)?;
                // A concurrent first use may have won the race; either copy is the same file.
                let _ = self.dotenv_cache.set(loaded);
                self.dotenv_cache.get().expect("dotenv cache was just set")
            }
        };
        Ok(cache.get(env_key).cloned())
    }
}

/// Reads a dotenv file as Spin does: a file that cannot be opened contributes nothing (the
/// error of `dotenvy::from_path_iter` is dropped by `into_iter().flatten()`), but a line that
/// cannot be parsed is an error.
fn load_dotenv(path: &Path) -> anyhow::Result<HashMap<String, String>> {
    Ok(dotenvy::from_path_iter(path)
        .into_iter()
        .flatten()
        .collect::<Result<HashMap<_, _>, _>>()?)
}

impl fmt::Debug for EnvProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvProvider")
            .field("prefix", &self.prefix)
            .field("dotenv_path", &self.dotenv_path)
            .finish_non_exhaustive()
    }
}

impl Provider for EnvProvider {
    fn get(&self, key: &str) -> anyhow::Result<Option<String>> {
        let env_key = self.env_key(key);
        match (self.lookup)(&env_key) {
            Err(VarError::NotPresent) => self.dotenv(&env_key),
            // A value that is not valid Unicode is an error, not an absence (as in Spin).
            other => other
                .map(Some)
                .with_context(|| format!("failed to resolve env var {env_key}")),
        }
    }
}

/// Spin's static provider (`type = "static"` in the runtime config, and `spin up --variable`).
#[derive(Clone, Debug, Default)]
pub struct StaticProvider {
    values: HashMap<String, String>,
}

impl StaticProvider {
    /// A provider with exactly these values, keyed by variable name.
    pub fn new<K: Into<String>, V: Into<String>>(values: impl IntoIterator<Item = (K, V)>) -> Self {
        Self {
            values: values
                .into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        }
    }
}

impl Provider for StaticProvider {
    fn get(&self, key: &str) -> anyhow::Result<Option<String>> {
        Ok(self.values.get(key).cloned())
    }
}

/// Resolves application variables and the component variables that refer to them.
///
/// Resolution order is Spin's (`ProviderResolver::resolve_variable`): each provider in turn, the
/// first that has a value wins; then the variable's `default`; otherwise an error.
#[derive(Debug)]
pub struct Resolver {
    variables: BTreeMap<String, VariableDecl>,
    component_configs: HashMap<String, BTreeMap<String, Template>>,
    providers: Vec<Box<dyn Provider>>,
}

impl Resolver {
    /// Builds the resolver for `app` and performs Spin's start-up checks:
    ///
    /// - every application variable name is valid (`Resolver::new` in spin-expressions);
    /// - every component variable name is valid and its value is a well-formed template that
    ///   names only declared application variables (`add_component_variables`, run when
    ///   `VariablesFactor::configure_app` builds the resolver);
    /// - every variable without a `default` is supplied by some provider
    ///   (`validate_variables`, run by the trigger's `VariablesValidatorHook` before anything
    ///   is served).
    pub fn new(app: &App, providers: Vec<Box<dyn Provider>>) -> anyhow::Result<Self> {
        let mut variables = BTreeMap::new();
        for (name, decl) in &app.variables {
            validate_key(name)?;
            variables.insert(name.clone(), decl.clone());
        }
        let mut resolver = Self {
            variables,
            component_configs: HashMap::new(),
            providers,
        };
        for (component_id, component) in &app.components {
            let mut templates = BTreeMap::new();
            for (key, value) in &component.variables {
                let template = resolver
                    .validate_component_variable(key, value)
                    .with_context(|| {
                        format!("component `{component_id}`: invalid variable `{key}`")
                    })?;
                templates.insert(key.clone(), template);
            }
            resolver
                .component_configs
                .insert(component_id.clone(), templates);
        }
        resolver.validate_variables()?;
        Ok(resolver)
    }

    fn validate_component_variable(
        &self,
        key: &str,
        value: &str,
    ) -> Result<Template, VariableError> {
        validate_key(key)?;
        let template = Template::new(value)?;
        for name in template.variables() {
            if !self.variables.contains_key(name) {
                return Err(VariableError::InvalidTemplate(format!(
                    "unknown variable {name:?}"
                )));
            }
        }
        Ok(template)
    }

    /// Spin's `ProviderResolver::validate_variables`: every variable without a default must be
    /// supplied by a provider. Unlike Spin (which walks a `HashMap`), names are reported sorted.
    fn validate_variables(&self) -> anyhow::Result<()> {
        let mut unresolved = Vec::new();
        for (name, decl) in &self.variables {
            if decl.default.is_some() {
                continue;
            }
            let mut resolved = false;
            for provider in &self.providers {
                let value = provider
                    .get(name)
                    .map_err(|err| VariableError::Provider(format!("{err:#}")))?;
                if value.is_some() {
                    resolved = true;
                    break;
                }
            }
            if !resolved {
                unresolved.push(name.as_str());
            }
        }
        if unresolved.is_empty() {
            Ok(())
        } else {
            Err(VariableError::Provider(format!(
                "no provider resolved required variable(s): {unresolved:?}"
            ))
            .into())
        }
    }

    /// The declaration of an application variable.
    pub fn variable(&self, name: &str) -> Option<&VariableDecl> {
        self.variables.get(name)
    }

    /// Whether an application variable is marked `secret` (its value should not be logged).
    pub fn is_secret(&self, name: &str) -> bool {
        self.variables.get(name).is_some_and(|v| v.secret)
    }

    /// Resolves one application variable: providers first, then the default.
    ///
    /// As in Spin, providers are asked even for names the manifest does not declare; only when
    /// none answers does an undeclared name become `InvalidName`.
    pub fn resolve_variable(&self, name: &str) -> Result<String, VariableError> {
        for provider in &self.providers {
            // Spin passes the provider's `anyhow::Error` through `to_string()`, which keeps only
            // the outermost message.
            if let Some(value) = provider
                .get(name)
                .map_err(|err| VariableError::Provider(err.to_string()))?
            {
                return Ok(value);
            }
        }
        let decl = self
            .variables
            .get(name)
            .ok_or_else(|| VariableError::InvalidName(name.to_owned()))?;
        decl.default.clone().ok_or_else(|| {
            VariableError::Provider(format!("no provider resolved required variable {name:?}"))
        })
    }

    /// Expands an application-level template such as a Redis trigger's `address` or `channel`
    /// (Spin's `AppState::resolve_expression`).
    pub fn resolve_template(&self, template: &str) -> anyhow::Result<String> {
        let parsed = Template::new(template)?;
        Ok(parsed.render(|name| self.resolve_variable(name))?)
    }

    /// Expands a template with only declared variables, as Spin's `PreparedResolver` does when
    /// it resolves `allowed_outbound_hosts` entries: an undeclared name is `InvalidName` even if
    /// a provider would have a value for it.
    pub fn resolve_declared_template(&self, template: &Template) -> Result<String, VariableError> {
        template.render(|name| {
            if self.variables.contains_key(name) {
                self.resolve_variable(name)
            } else {
                Err(VariableError::InvalidName(name.to_owned()))
            }
        })
    }

    /// What a guest's `fermyon:spin/variables.get(key)` returns (Spin's
    /// `ProviderResolver::resolve` behind `crates/factor-variables/src/host.rs`).
    pub fn get(&self, component_id: &str, key: &str) -> Result<String, VariableError> {
        validate_key(key)?;
        let configs = self.component_configs.get(component_id).ok_or_else(|| {
            VariableError::Undefined(format!("no variable for component {component_id:?}"))
        })?;
        let template = configs.get(key).ok_or_else(|| {
            VariableError::Undefined(format!("no variable for {component_id:?}.{key:?}"))
        })?;
        template.render(|name| self.resolve_variable(name))
    }

    /// All of a component's variables, expanded (Spin's `resolve_all`). A component with no
    /// variables, or an unknown component, has none.
    pub fn component_variables(
        &self,
        component_id: &str,
    ) -> anyhow::Result<HashMap<String, String>> {
        let Some(configs) = self.component_configs.get(component_id) else {
            return Ok(HashMap::new());
        };
        configs
            .iter()
            .map(|(key, template)| {
                let value = template
                    .render(|name| self.resolve_variable(name))
                    .with_context(|| {
                        format!("component `{component_id}`: cannot resolve variable `{key}`")
                    })?;
                Ok((key.clone(), value))
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(toml: &str) -> App {
        App::from_toml_str(toml, Path::new("/app")).expect("test manifest should load")
    }

    const APP: &str = r#"
        spin_manifest_version = 2
        [application]
        name = "vars"
        [variables]
        required = { required = true }
        default = { default = "default-value" }
        secret_one = { required = true, secret = true }
        [[trigger.http]]
        route = "/..."
        component = "comp"
        [component.comp]
        source = "comp.wasm"
        [component.comp.variables]
        test_key = "prefix-{{ required }}-{{default}}-suffix"
        literal = "static-value"
    "#;

    fn env(pairs: &[(&str, &str)]) -> Box<dyn Provider> {
        Box::new(EnvProvider::from_map(
            pairs
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ))
    }

    fn full_env() -> Box<dyn Provider> {
        env(&[
            ("SPIN_VARIABLE_REQUIRED", "provider-value"),
            ("SPIN_VARIABLE_SECRET_ONE", "s3cret"),
        ])
    }

    // spin-expressions `template.rs` tests `template_parts` / `template_parts_bad`.
    #[test]
    fn template_parts_follow_spin() {
        let cases: &[(&str, Vec<Part>)] = &[
            ("", vec![]),
            ("a", vec![Part::Lit("a".into())]),
            (
                "a-{{ expr }}-b",
                vec![
                    Part::Lit("a-".into()),
                    Part::Expr("expr".into()),
                    Part::Lit("-b".into()),
                ],
            ),
            (
                "{{ expr1 }}{{expr2}}",
                vec![Part::Expr("expr1".into()), Part::Expr("expr2".into())],
            ),
            // A lone `}}` is literal text: only `{{` starts an expression.
            ("a }} b", vec![Part::Lit("a }} b".into())]),
        ];
        for (text, expected) in cases {
            assert_eq!(
                Template::new(text).unwrap().parts(),
                expected.as_slice(),
                "{text:?}"
            );
        }
        assert_eq!(
            Template::new("{{ matched }} {{ unmatched").unwrap_err(),
            VariableError::InvalidTemplate("unmatched '{{' in template".into())
        );
        // spin-expressions `template_literal` test.
        assert!(Template::new("hello").unwrap().is_literal());
        assert!(!Template::new("hello {{ world }}").unwrap().is_literal());
        // Display normalises spacing, as Spin's `impl Display for Template`.
        assert_eq!(Template::new("x{{a}}y").unwrap().to_string(), "x{{ a }}y");
    }

    // spin-expressions `keys_good` / `keys_bad` tests.
    #[test]
    fn key_rules_follow_spin() {
        for good in ["a", "abc", "a1b2c3", "a_1", "a_1_b_3"] {
            validate_key(good).unwrap_or_else(|e| panic!("{good}: {e}"));
        }
        for bad in ["", "aX", "1bc", "_x", "x.y", "x_", "a__b", "x-y"] {
            assert!(
                matches!(validate_key(bad), Err(VariableError::InvalidName(_))),
                "{bad:?} should be rejected"
            );
        }
        assert_eq!(
            validate_key("a__b").unwrap_err().to_string(),
            "invalid variable name: \"a__b\": must not contain multiple consecutive underscores"
        );
    }

    // variables-env `provider_get`: prefix + "_" + upper-cased key.
    #[test]
    fn env_provider_uses_prefix_and_upper_case() {
        let provider = EnvProvider::new(
            Some("TESTING_SPIN".into()),
            |k| {
                if k == "TESTING_SPIN_ENV_KEY1" {
                    Ok("val".into())
                } else {
                    Err(VarError::NotPresent)
                }
            },
            None,
        );
        assert_eq!(provider.get("env_key1").unwrap(), Some("val".into()));
        assert_eq!(provider.get("definitely_not_set").unwrap(), None);

        let default = EnvProvider::from_map(HashMap::from([(
            "SPIN_VARIABLE_DB_URL".to_string(),
            "postgres://x".to_string(),
        )]));
        assert_eq!(default.env_key("db_url"), "SPIN_VARIABLE_DB_URL");
        assert_eq!(default.get("db_url").unwrap(), Some("postgres://x".into()));
        // Spin always joins with `_`, even for an empty prefix.
        assert_eq!(
            EnvProvider::new(Some(String::new()), |_| Err(VarError::NotPresent), None).env_key("a"),
            "_A"
        );
    }

    // variables-env: a non-Unicode value is an error ("failed to resolve env var ..."), not
    // an absence.
    #[test]
    fn env_provider_non_unicode_is_an_error() {
        let provider = EnvProvider::new(
            None,
            |_| Err(VarError::NotUnicode(std::ffi::OsString::from("x"))),
            None,
        );
        let err = provider.get("a").unwrap_err();
        assert_eq!(err.to_string(), "failed to resolve env var SPIN_VARIABLE_A");
    }

    // variables-env `provider_get_dotenv`; a missing dotenv file supplies nothing.
    #[test]
    fn env_provider_falls_back_to_dotenv() {
        let dir = std::env::temp_dir().join(format!("spin-host-dotenv-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("test.env");
        std::fs::write(
            &path,
            "# comment\nTESTING_SPIN_ENV_KEY2=dotenv_val\nexport TESTING_SPIN_QUOTED=\"a b\"\n",
        )
        .unwrap();
        let provider = EnvProvider::new(
            Some("TESTING_SPIN".into()),
            |k| {
                if k == "TESTING_SPIN_QUOTED" {
                    Ok("from-env".into())
                } else {
                    Err(VarError::NotPresent)
                }
            },
            Some(path.clone()),
        );
        assert_eq!(provider.get("env_key2").unwrap(), Some("dotenv_val".into()));
        // The real environment wins over the dotenv file.
        assert_eq!(provider.get("quoted").unwrap(), Some("from-env".into()));
        assert_eq!(provider.get("nope").unwrap(), None);

        let missing = EnvProvider::new(None, |_| Err(VarError::NotPresent), Some(dir.join("none")));
        assert_eq!(missing.get("a").unwrap(), None);

        std::fs::write(&path, "NOT A VALID LINE\n").unwrap();
        let broken = EnvProvider::new(None, |_| Err(VarError::NotPresent), Some(path));
        assert!(broken.get("a").is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    // spin-expressions tests `resolve_static`, `resolve_variable_default`,
    // `resolve_variable_provider`.
    #[test]
    fn component_variables_expand_with_providers_then_defaults() {
        let resolver = Resolver::new(&app(APP), vec![full_env()]).unwrap();
        let vars = resolver.component_variables("comp").unwrap();
        assert_eq!(
            vars["test_key"],
            "prefix-provider-value-default-value-suffix"
        );
        assert_eq!(vars["literal"], "static-value");
        assert_eq!(vars.len(), 2);
        // Unknown component: Spin's `resolve_all` returns nothing.
        assert!(resolver.component_variables("other").unwrap().is_empty());
        assert!(resolver.is_secret("secret_one"));
        assert!(!resolver.is_secret("default"));
    }

    // A provider value overrides a default; the first provider with a value wins.
    #[test]
    fn providers_are_asked_in_order_before_defaults() {
        let first = Box::new(StaticProvider::new([("default", "from-static")]));
        let resolver = Resolver::new(
            &app(APP),
            vec![
                first,
                env(&[
                    ("SPIN_VARIABLE_DEFAULT", "from-env"),
                    ("SPIN_VARIABLE_REQUIRED", "r"),
                    ("SPIN_VARIABLE_SECRET_ONE", "s"),
                ]),
            ],
        )
        .unwrap();
        assert_eq!(resolver.resolve_variable("default").unwrap(), "from-static");
        assert_eq!(resolver.resolve_variable("required").unwrap(), "r");
    }

    // spin-expressions `validation_test.rs`: a variable with no default that no provider
    // supplies fails start-up; one with a default does not.
    #[test]
    fn missing_required_variables_fail_start_up() {
        let err =
            Resolver::new(&app(APP), vec![env(&[("SPIN_VARIABLE_REQUIRED", "x")])]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "provider error: no provider resolved required variable(s): [\"secret_one\"]"
        );
        let err = Resolver::new(&app(APP), vec![]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "provider error: no provider resolved required variable(s): [\"required\", \"secret_one\"]"
        );
        // An empty value counts as supplied (the provider returned `Some`).
        Resolver::new(
            &app(APP),
            vec![env(&[
                ("SPIN_VARIABLE_REQUIRED", ""),
                ("SPIN_VARIABLE_SECRET_ONE", ""),
            ])],
        )
        .unwrap();
    }

    // spin-expressions `Resolver::validate_template`: a component variable naming an
    // undeclared application variable is rejected.
    #[test]
    fn undeclared_variable_in_component_template_is_rejected() {
        let manifest = APP.replace("literal = \"static-value\"", "bad = \"{{ nope }}\"");
        let err = Resolver::new(&app(&manifest), vec![full_env()]).unwrap_err();
        let msg = format!("{err:#}");
        assert!(
            msg.contains("component `comp`: invalid variable `bad`"),
            "{msg}"
        );
        assert!(
            msg.contains("invalid variable template: unknown variable \"nope\""),
            "{msg}"
        );

        let manifest = APP.replace("literal = \"static-value\"", "bad = \"{{ nope\"");
        let msg = format!(
            "{:#}",
            Resolver::new(&app(&manifest), vec![full_env()]).unwrap_err()
        );
        assert!(msg.contains("unmatched '{{' in template"), "{msg}");
    }

    // crates/factor-variables/src/host.rs + spin-expressions `get_template`: what a guest sees.
    #[test]
    fn guest_get_errors_match_spin() {
        let resolver = Resolver::new(&app(APP), vec![full_env()]).unwrap();
        assert_eq!(resolver.get("comp", "literal").unwrap(), "static-value");
        assert_eq!(
            resolver.get("comp", "missing").unwrap_err(),
            VariableError::Undefined("no variable for \"comp\".\"missing\"".into())
        );
        assert_eq!(
            resolver.get("nobody", "literal").unwrap_err(),
            VariableError::Undefined("no variable for component \"nobody\"".into())
        );
        assert!(matches!(
            resolver.get("comp", "Bad-Name"),
            Err(VariableError::InvalidName(msg)) if msg.starts_with("\"Bad-Name\": invalid character 'B'")
        ));
    }

    // `ProviderResolver::resolve_variable`: providers first, so an app-level expression can
    // use an undeclared name that a provider supplies; otherwise it is `InvalidName`.
    #[test]
    fn app_level_templates_resolve_like_spin_expressions() {
        let resolver = Resolver::new(
            &app(APP),
            vec![env(&[
                ("SPIN_VARIABLE_REQUIRED", "r"),
                ("SPIN_VARIABLE_SECRET_ONE", "s"),
                ("SPIN_VARIABLE_EXTRA", "e"),
            ])],
        )
        .unwrap();
        assert_eq!(
            resolver
                .resolve_template("redis://{{ required }}:{{default}}/{{ extra }}")
                .unwrap(),
            "redis://r:default-value/e"
        );
        let err = resolver.resolve_template("{{ unknown }}").unwrap_err();
        assert_eq!(err.to_string(), "invalid variable name: unknown");
        // The prepared (declared-only) form rejects `extra` even though a provider has it.
        let template = Template::new("{{ extra }}").unwrap();
        assert_eq!(
            resolver.resolve_declared_template(&template).unwrap_err(),
            VariableError::InvalidName("extra".into())
        );
    }

    #[derive(Debug)]
    struct Broken;
    impl Provider for Broken {
        fn get(&self, _key: &str) -> anyhow::Result<Option<String>> {
            anyhow::bail!("broken")
        }
    }

    // spin-expressions: a provider error aborts resolution (`Error::Provider`).
    #[test]
    fn provider_errors_propagate() {
        let err = Resolver::new(&app(APP), vec![Box::new(Broken)]).unwrap_err();
        assert_eq!(err.to_string(), "provider error: broken");
    }
}
