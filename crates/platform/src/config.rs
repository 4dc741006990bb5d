//! Spin variables, read by name and parsed into types at the boundary.
//!
//! A component can only read variables declared in its `[component.<id>.variables]` table of
//! `spin.toml`, which map onto the application variables of the configuration contract (see
//! `spin.toml` and DESIGN.md). An empty value counts as unset, so an operator can switch an
//! optional feature off with `SPIN_VARIABLE_<NAME>=` without editing the manifest.

use std::fmt;

use spin_sdk::variables;

/// A variable that is missing, unreadable or not one of the accepted values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    /// The variable has no value (or an empty one) but is needed.
    Missing {
        /// The variable's name.
        name: String,
    },
    /// The value is not one of the accepted ones. The value itself is not kept: it may be secret.
    Invalid {
        /// The variable's name.
        name: String,
        /// What would have been accepted.
        expected: &'static str,
    },
    /// The host could not resolve the variable (an undeclared name or a provider failure).
    Unavailable {
        /// The variable's name.
        name: String,
        /// The host's explanation.
        reason: String,
    },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Missing { name } => write!(f, "the Spin variable `{name}` is not set"),
            Self::Invalid { name, expected } => {
                write!(f, "the Spin variable `{name}` must be {expected}")
            }
            Self::Unavailable { name, reason } => {
                write!(f, "the Spin variable `{name}` could not be read: {reason}")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// The value of a variable that must be set and non-empty.
pub fn required(name: &str) -> Result<String, ConfigError> {
    optional(name)?.ok_or_else(|| ConfigError::Missing {
        name: name.to_owned(),
    })
}

/// The value of a variable, or `None` when it is empty.
pub fn optional(name: &str) -> Result<Option<String>, ConfigError> {
    match variables::get(name) {
        Ok(value) if value.trim().is_empty() => Ok(None),
        Ok(value) => Ok(Some(value)),
        // Every application variable has a default or is required, so `Undefined` means the
        // component does not declare the variable: a manifest mistake, not an unset value.
        Err(err) => Err(ConfigError::Unavailable {
            name: name.to_owned(),
            reason: describe_variables_error(&err),
        }),
    }
}

/// A `true`/`false` variable; unset means `default`.
pub fn flag(name: &str, default: bool) -> Result<bool, ConfigError> {
    match optional(name)? {
        None => Ok(default),
        Some(value) => parse_flag(&value).ok_or_else(|| ConfigError::Invalid {
            name: name.to_owned(),
            expected: "`true` or `false`",
        }),
    }
}

/// A number of days (a retention period, a horizon): a positive whole number; unset means
/// `default`.
pub fn days(name: &str, default: i64) -> Result<i64, ConfigError> {
    match optional(name)? {
        None => Ok(default),
        Some(value) => parse_days(&value).ok_or_else(|| ConfigError::Invalid {
            name: name.to_owned(),
            expected: "a positive whole number of days",
        }),
    }
}

fn parse_days(value: &str) -> Option<i64> {
    value.trim().parse::<i64>().ok().filter(|days| *days > 0)
}

fn parse_flag(value: &str) -> Option<bool> {
    match value.trim() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

fn describe_variables_error(err: &variables::Error) -> String {
    match err {
        variables::Error::InvalidName(message) => format!("invalid name: {message}"),
        variables::Error::Undefined(message) => format!(
            "undefined ({message}); is it declared in this component's `[component.<id>.variables]`?"
        ),
        variables::Error::Provider(message) => format!("provider error: {message}"),
        variables::Error::Other(message) => message.clone(),
    }
}

/// How events travel between components: the `event_bus` variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventBus {
    /// Spin outbound Redis `PUBLISH`, delivered by Redis triggers (local runs and tests).
    Redis,
    /// A Dapr sidecar's publish API, delivered by Dapr to HTTP routes (clusters).
    Dapr,
}

impl EventBus {
    /// The name of the variable that selects the bus.
    pub const VARIABLE: &'static str = "event_bus";

    /// Parses `redis` or `dapr`; anything else is rejected rather than defaulted.
    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        match value.trim() {
            "redis" => Ok(Self::Redis),
            "dapr" => Ok(Self::Dapr),
            _ => Err(ConfigError::Invalid {
                name: Self::VARIABLE.to_owned(),
                expected: "`redis` or `dapr`",
            }),
        }
    }

    /// The bus this component is configured with.
    pub fn from_config() -> Result<Self, ConfigError> {
        Self::parse(&required(Self::VARIABLE)?)
    }

    /// The variable's value for this bus.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Redis => "redis",
            Self::Dapr => "dapr",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_bus_accepts_exactly_its_two_names() {
        assert_eq!(EventBus::parse("redis"), Ok(EventBus::Redis));
        assert_eq!(EventBus::parse(" dapr\n"), Ok(EventBus::Dapr));
        assert_eq!(
            EventBus::parse("kafka"),
            Err(ConfigError::Invalid {
                name: "event_bus".to_owned(),
                expected: "`redis` or `dapr`",
            })
        );
        assert!(EventBus::parse("Redis").is_err());
    }

    #[test]
    fn flags_are_true_or_false_and_nothing_else() {
        assert_eq!(parse_flag("true"), Some(true));
        assert_eq!(parse_flag("false "), Some(false));
        assert_eq!(parse_flag("1"), None);
        assert_eq!(parse_flag("yes"), None);
    }

    #[test]
    fn days_are_positive_whole_numbers() {
        assert_eq!(parse_days(" 7"), Some(7));
        assert_eq!(parse_days("0"), None);
        assert_eq!(parse_days("-1"), None);
        assert_eq!(parse_days("1.5"), None);
    }

    #[test]
    fn errors_name_the_variable_but_not_the_value() {
        let err = ConfigError::Invalid {
            name: "cookie_secure".to_owned(),
            expected: "`true` or `false`",
        };
        assert_eq!(
            err.to_string(),
            "the Spin variable `cookie_secure` must be `true` or `false`"
        );
    }
}
