//! The runtime config file (`spin up --runtime-config-file`), as far as this host supports it:
//! variable providers, plus `state_dir` / `log_dir`.
//!
//! References (spinframework/spin):
//! - `crates/runtime-config/src/variables.rs`: `[[variables_provider]]` (or the older name
//!   `[[config_provider]]`), tagged by `type`; Spin *always* appends the default environment
//!   provider after the configured ones.
//! - `crates/variables-env/src/lib.rs`: `type = "env"` with optional `prefix` and
//!   `dotenv_path` (`deny_unknown_fields`).
//! - `crates/variables-static/src/lib.rs`: `type = "static"` with `values`.
//! - `crates/runtime-config/src/lib.rs`: `state_dir` / `log_dir`, and the rule that every key
//!   must be used by something (`validate_all_keys_used`), so unknown keys are errors.
//!
//! Provider types Spin has but this host does not (`vault` / `open_bao`, `azure_key_vault`)
//! and other runtime-config sections (key-value stores, SQLite, LLM, TLS, ...) are rejected
//! with a "not supported by this host" error rather than ignored.

use std::{
    collections::HashMap,
    env::VarError,
    path::{Path, PathBuf},
    sync::Arc,
};

use anyhow::{Context as _, bail};
use serde::Deserialize;

use crate::variables::{EnvProvider, Provider, StaticProvider};

/// One `[[variables_provider]]` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum VariablesProviderConfig {
    /// `type = "env"`.
    Env {
        /// Replaces the `SPIN_VARIABLE` prefix (joined to the name with `_`).
        prefix: Option<String>,
        /// A dotenv file consulted for names missing from the environment. A relative path is
        /// relative to the current directory, as in Spin.
        dotenv_path: Option<PathBuf>,
    },
    /// `type = "static"`: fixed values.
    Static {
        /// Variable name → value.
        values: HashMap<String, String>,
    },
}

/// A parsed runtime config file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RuntimeConfig {
    /// The configured providers, in file order (the default environment provider is added by
    /// [`RuntimeConfig::variables_providers`], not listed here).
    pub variables_providers: Vec<VariablesProviderConfig>,
    /// `state_dir` (an empty string means "unset" in Spin).
    pub state_dir: Option<PathBuf>,
    /// `log_dir` (an empty string means "unset" in Spin).
    pub log_dir: Option<PathBuf>,
}

#[derive(Deserialize)]
#[serde(rename_all = "snake_case", tag = "type")]
enum RawProvider {
    Env(RawEnv),
    Static(RawStatic),
    // Recognised only to reject them with a clear message.
    #[serde(alias = "open_bao")]
    Vault(serde::de::IgnoredAny),
    AzureKeyVault(serde::de::IgnoredAny),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnv {
    #[serde(default)]
    prefix: Option<String>,
    #[serde(default)]
    dotenv_path: Option<PathBuf>,
}

#[derive(Deserialize)]
struct RawStatic {
    values: HashMap<String, String>,
}

impl RuntimeConfig {
    /// Reads a runtime config file.
    pub fn from_file(path: &Path) -> anyhow::Result<RuntimeConfig> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("failed to read runtime config file '{}'", path.display()))?;
        Self::from_toml_str(&text)
            .with_context(|| format!("failed to parse runtime config file '{}'", path.display()))
    }

    /// Parses runtime config text.
    pub fn from_toml_str(text: &str) -> anyhow::Result<RuntimeConfig> {
        let mut table: toml::Table = toml::from_str(text).context("not valid TOML")?;
        let mut config = RuntimeConfig::default();

        // `table.get("variables_provider").or_else(|| table.get("config_provider"))`: when both
        // are present only the first is read, so Spin then fails on the unused second key.
        let providers = match table.remove("variables_provider") {
            Some(value) => Some(value),
            None => table.remove("config_provider"),
        };
        if let Some(value) = providers {
            let raw: Vec<RawProvider> = value
                .try_into()
                .context("invalid `[[variables_provider]]`")?;
            for provider in raw {
                config.variables_providers.push(match provider {
                    RawProvider::Env(env) => VariablesProviderConfig::Env {
                        prefix: env.prefix,
                        dotenv_path: env.dotenv_path,
                    },
                    RawProvider::Static(s) => VariablesProviderConfig::Static { values: s.values },
                    RawProvider::Vault(_) => {
                        bail!("variables provider type `vault` is not supported by this host")
                    }
                    RawProvider::AzureKeyVault(_) => bail!(
                        "variables provider type `azure_key_vault` is not supported by this host"
                    ),
                });
            }
        }

        config.state_dir = take_dir(&mut table, "state_dir")?;
        config.log_dir = take_dir(&mut table, "log_dir")?;

        if !table.is_empty() {
            let keys: Vec<&str> = table.keys().map(String::as_str).collect();
            bail!(
                "runtime config key(s) not supported by this host: {}",
                keys.join(", ")
            );
        }
        Ok(config)
    }

    /// The variable providers Spin would use, in order: the configured ones, then the default
    /// environment provider (process environment, `SPIN_VARIABLE_` prefix, `.env` in the
    /// current directory), which Spin always adds last.
    pub fn variables_providers(&self) -> anyhow::Result<Vec<Box<dyn Provider>>> {
        Ok(self.providers_with(|name| std::env::var(name), Some(PathBuf::from(".env"))))
    }

    /// [`Self::variables_providers`], reading environment variables through `lookup` and using
    /// `default_dotenv` for the default provider (so tests need not touch the process
    /// environment or the current directory).
    pub fn providers_with(
        &self,
        lookup: impl Fn(&str) -> Result<String, VarError> + Send + Sync + 'static,
        default_dotenv: Option<PathBuf>,
    ) -> Vec<Box<dyn Provider>> {
        let lookup = Arc::new(lookup);
        let env_provider = |prefix: Option<String>, dotenv: Option<PathBuf>| {
            let lookup = lookup.clone();
            Box::new(EnvProvider::new(prefix, move |name| lookup(name), dotenv))
                as Box<dyn Provider>
        };
        let mut providers: Vec<Box<dyn Provider>> = self
            .variables_providers
            .iter()
            .map(|config| match config {
                VariablesProviderConfig::Env {
                    prefix,
                    dotenv_path,
                } => env_provider(prefix.clone(), dotenv_path.clone()),
                VariablesProviderConfig::Static { values } => {
                    Box::new(StaticProvider::new(values.clone())) as Box<dyn Provider>
                }
            })
            .collect();
        providers.push(env_provider(None, default_dotenv));
        providers
    }
}

/// `TomlResolver::state_dir` / `log_dir`: a string; empty means unset.
fn take_dir(table: &mut toml::Table, key: &str) -> anyhow::Result<Option<PathBuf>> {
    match table.remove(key) {
        None => Ok(None),
        Some(toml::Value::String(s)) if s.is_empty() => Ok(None),
        Some(toml::Value::String(s)) => Ok(Some(PathBuf::from(s))),
        Some(other) => bail!("`{key}` must be a string, not {}", other.type_str()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_lookup(
        pairs: &[(&str, &str)],
    ) -> impl Fn(&str) -> Result<String, VarError> + Send + Sync + 'static {
        let map: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| map.get(name).cloned().ok_or(VarError::NotPresent)
    }

    fn first_value(providers: &[Box<dyn Provider>], key: &str) -> Option<String> {
        providers.iter().find_map(|p| p.get(key).unwrap())
    }

    // runtime-config/src/variables.rs: no providers configured → only the env provider.
    #[test]
    fn empty_config_has_only_the_default_env_provider() {
        let config = RuntimeConfig::from_toml_str("").unwrap();
        assert_eq!(config, RuntimeConfig::default());
        let providers = config.providers_with(env_lookup(&[("SPIN_VARIABLE_DB_URL", "pg")]), None);
        assert_eq!(providers.len(), 1);
        assert_eq!(first_value(&providers, "db_url").as_deref(), Some("pg"));
    }

    // `type = "env"` with `prefix` and `dotenv_path`; configured providers come before the
    // always-present default one.
    #[test]
    fn env_provider_with_prefix() {
        let config = RuntimeConfig::from_toml_str(
            "[[variables_provider]]\ntype = \"env\"\nprefix = \"TODO\"\ndotenv_path = \"todo.env\"\n",
        )
        .unwrap();
        assert_eq!(
            config.variables_providers,
            vec![VariablesProviderConfig::Env {
                prefix: Some("TODO".into()),
                dotenv_path: Some("todo.env".into())
            }]
        );
        let providers = config.providers_with(
            env_lookup(&[
                ("TODO_DB_URL", "from-prefix"),
                ("SPIN_VARIABLE_DB_URL", "from-default"),
                ("SPIN_VARIABLE_OTHER", "o"),
            ]),
            None,
        );
        assert_eq!(providers.len(), 2);
        assert_eq!(
            first_value(&providers, "db_url").as_deref(),
            Some("from-prefix")
        );
        // The default provider still answers for names the prefixed one lacks.
        assert_eq!(first_value(&providers, "other").as_deref(), Some("o"));
    }

    // The older `[[config_provider]]` name is accepted; `static` providers hold values.
    #[test]
    fn config_provider_alias_and_static_values() {
        let config = RuntimeConfig::from_toml_str(
            "[[config_provider]]\ntype = \"static\"\nvalues = { event_bus = \"dapr\" }\n",
        )
        .unwrap();
        let providers =
            config.providers_with(env_lookup(&[("SPIN_VARIABLE_EVENT_BUS", "redis")]), None);
        assert_eq!(
            first_value(&providers, "event_bus").as_deref(),
            Some("dapr")
        );
        // Both names at once: Spin reads only `variables_provider` and rejects the unused key.
        let e = RuntimeConfig::from_toml_str(
            "[[variables_provider]]\ntype = \"env\"\n[[config_provider]]\ntype = \"env\"\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("config_provider"), "{e}");
    }

    #[test]
    fn unsupported_and_invalid_entries_are_rejected() {
        let e = RuntimeConfig::from_toml_str(
            "[[variables_provider]]\ntype = \"vault\"\nurl = \"http://v\"\ntoken = \"t\"\nmount = \"m\"\n",
        )
        .unwrap_err();
        assert!(
            format!("{e:#}").contains("`vault` is not supported by this host"),
            "{e:#}"
        );
        let e = RuntimeConfig::from_toml_str("[[variables_provider]]\ntype = \"open_bao\"\n")
            .unwrap_err();
        assert!(
            format!("{e:#}").contains("not supported by this host"),
            "{e:#}"
        );
        let e =
            RuntimeConfig::from_toml_str("[[variables_provider]]\ntype = \"azure_key_vault\"\n")
                .unwrap_err();
        assert!(
            format!("{e:#}").contains("`azure_key_vault` is not supported"),
            "{e:#}"
        );
        // `EnvVariablesConfig` is `deny_unknown_fields`.
        let e =
            RuntimeConfig::from_toml_str("[[variables_provider]]\ntype = \"env\"\nprefx = \"X\"\n")
                .unwrap_err();
        assert!(format!("{e:#}").contains("prefx"), "{e:#}");
        let e = RuntimeConfig::from_toml_str("[[variables_provider]]\ntype = \"consul\"\n")
            .unwrap_err();
        assert!(format!("{e:#}").contains("consul"), "{e:#}");
        let e = RuntimeConfig::from_toml_str(
            "[key_value_store.default]\ntype = \"redis\"\nurl = \"redis://x\"\n",
        )
        .unwrap_err();
        assert!(
            e.to_string()
                .contains("not supported by this host: key_value_store"),
            "{e}"
        );
        assert!(RuntimeConfig::from_toml_str("not toml =").is_err());
    }

    // `TomlResolver::state_dir` / `log_dir`: empty string means unset.
    #[test]
    fn state_and_log_dirs() {
        let config =
            RuntimeConfig::from_toml_str("state_dir = \".spin\"\nlog_dir = \"\"\n").unwrap();
        assert_eq!(config.state_dir, Some(PathBuf::from(".spin")));
        assert_eq!(config.log_dir, None);
        assert!(RuntimeConfig::from_toml_str("state_dir = 1\n").is_err());
    }

    #[test]
    fn from_file_reports_the_path() {
        let e =
            RuntimeConfig::from_file(Path::new("/nonexistent/runtime-config.toml")).unwrap_err();
        assert!(
            e.to_string()
                .contains("failed to read runtime config file '/nonexistent/runtime-config.toml'")
        );
        let dir = std::env::temp_dir().join(format!("spin-host-rc-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("rc.toml");
        std::fs::write(&path, "[[variables_provider]]\ntype = \"env\"\n").unwrap();
        let config = RuntimeConfig::from_file(&path).unwrap();
        assert_eq!(config.variables_providers.len(), 1);
        std::fs::write(&path, "bogus = 1\n").unwrap();
        let e = RuntimeConfig::from_file(&path).unwrap_err();
        assert!(
            format!("{e:#}").contains("failed to parse runtime config file"),
            "{e:#}"
        );
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
