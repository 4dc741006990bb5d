//! `fermyon:spin/variables@2.0.0`: a component reads its own variables.
//!
//! Follows spinframework/spin `crates/factor-variables/src/host.rs` and
//! `crates/expressions/src/lib.rs`: the name is validated first (`Key::new`, giving
//! `invalid-name`), then looked up among the variables of the calling component only (giving
//! `undefined` when it is not one of them). The values were resolved when the application was
//! loaded (`ComponentRuntime::variables`), so the provider errors Spin can raise at `get` time
//! (a required application variable nobody set) surface at start-up here instead.

use std::collections::HashMap;

use crate::bindings::fermyon::spin2_0_0::variables::{self, Error};
use crate::state::HostState;
use crate::variables::{VariableError, validate_key};

impl variables::Host for HostState {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, Error>> {
        Ok(get_variable(
            &self.component.id,
            &self.component.variables,
            &name,
        ))
    }
}

/// Looks up `name` among one component's resolved variables, with Spin's errors.
pub(crate) fn get_variable(
    component_id: &str,
    variables: &HashMap<String, String>,
    name: &str,
) -> Result<String, Error> {
    // The same rules, and text, as names in the manifest.
    if let Err(VariableError::InvalidName(message)) = validate_key(name) {
        return Err(Error::InvalidName(message));
    }
    variables
        .get(name)
        .cloned()
        // `Resolver::get_template` in crates/expressions/src/lib.rs.
        .ok_or_else(|| Error::Undefined(format!("no variable for {component_id:?}.{name:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars() -> HashMap<String, String> {
        HashMap::from([("db_url".to_string(), "postgres://x".to_string())])
    }

    #[test]
    fn reads_a_defined_variable() {
        assert_eq!(
            get_variable("api", &vars(), "db_url").unwrap(),
            "postgres://x"
        );
    }

    /// The accepted and rejected names are those of Spin's own `keys_good` / `keys_bad` tests
    /// (crates/expressions/src/lib.rs).
    #[test]
    fn name_rules_match_spin() {
        for name in ["a", "abc", "a1b2c3", "a_1", "a_1_b_3"] {
            validate_key(name).unwrap_or_else(|e| panic!("{name}: {e}"));
        }
        for name in ["", "aX", "1bc", "_x", "x.y", "x_", "a__b", "x-y"] {
            assert!(validate_key(name).is_err(), "{name:?} should be invalid");
        }
    }

    /// `Key::validate` wraps its reason as `"{key:?}: {reason}"` and factor-variables passes
    /// that string through as `invalid-name`; an invalid name is reported even if undefined.
    #[test]
    fn invalid_name_message_matches_spin() {
        let err = get_variable("api", &vars(), "DB_URL").unwrap_err();
        let Error::InvalidName(msg) = err else {
            panic!("expected invalid-name, got {err:?}")
        };
        assert_eq!(
            msg,
            "\"DB_URL\": invalid character 'D'. Variable names may contain only lower-case letters, numbers, and underscores."
        );
        assert!(matches!(
            get_variable("api", &vars(), "").unwrap_err(),
            Error::InvalidName(m) if m == "\"\": must not be empty"
        ));
        assert!(matches!(
            get_variable("api", &vars(), "a__b").unwrap_err(),
            Error::InvalidName(m) if m == "\"a__b\": must not contain multiple consecutive underscores"
        ));
    }

    /// `Resolver::get_template` reports a name the component does not define as
    /// `no variable for "<component>"."<name>"`.
    #[test]
    fn undefined_message_matches_spin() {
        let err = get_variable("api", &vars(), "redis_url").unwrap_err();
        assert!(
            matches!(&err, Error::Undefined(m) if m == "no variable for \"api\".\"redis_url\""),
            "{err:?}"
        );
    }
}
