//! Password hashing: argon2id, stored as PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`).
//!
//! The parameters are OWASP's first recommendation for argon2id (19 MiB, 2 passes, 1 lane):
//! every request runs in a fresh instance, so the memory is allocated and freed per hash, and a
//! single lane is all a component instance has. Verification reads the parameters from the
//! stored string, so raising them later only affects new hashes.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use domain::account::Password;

/// Memory cost in KiB.
pub const M_COST_KIB: u32 = 19_456;
/// Passes over the memory.
pub const T_COST: u32 = 2;
/// Lanes.
pub const P_COST: u32 = 1;

fn hasher() -> Argon2<'static> {
    let params = Params::new(M_COST_KIB, T_COST, P_COST, None)
        .expect("the argon2 parameters are constants within argon2's limits");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a new password with a fresh 16-byte salt from the host's CSPRNG.
pub fn hash(password: &Password) -> Result<String, String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|err| format!("random salt: {err}"))?;
    let salt = SaltString::encode_b64(&salt).map_err(|err| format!("encoding the salt: {err}"))?;
    hasher()
        .hash_password(password.expose().as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|err| format!("hashing: {err}"))
}

/// Whether `password` matches the stored PHC string. An unreadable string matches nothing.
pub fn verify(password: &Password, stored: &str) -> bool {
    match PasswordHash::new(stored) {
        Ok(parsed) => hasher()
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok(),
        Err(err) => {
            platform::log::error(
                "api",
                &format!("a stored password hash could not be parsed: {err}"),
                &[],
            );
            false
        }
    }
}

/// Spends the same work as [`verify`] on a password that cannot match anything, so that a login
/// for an unknown email takes as long as one with a wrong password.
pub fn dummy_verify(password: &Password) {
    let salt = SaltString::from_b64("c29tZXNhbHRzb21lc2FsdA").expect("a valid constant salt");
    let _ = hasher().hash_password(password.expose().as_bytes(), &salt);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_verifies_its_password_and_no_other() {
        let password = Password::parse("correct horse".to_owned()).unwrap();
        let stored = hash(&password).unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{stored}"
        );
        assert!(verify(&password, &stored));
        let wrong = Password::parse("correct horsf".to_owned()).unwrap();
        assert!(!verify(&wrong, &stored));
        assert!(!verify(&password, "not a phc string"));
    }

    #[test]
    fn two_hashes_of_one_password_differ_by_salt() {
        let password = Password::parse("correct horse".to_owned()).unwrap();
        assert_ne!(hash(&password).unwrap(), hash(&password).unwrap());
    }
}
