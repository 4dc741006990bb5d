//! Session tokens: compact JWTs (RFC 7519) signed with HMAC-SHA256 (`HS256`) under the
//! `jwt_secret` variable, carrying the user id (`sub`), the session id (`sid`), and issue and
//! expiry times in Unix seconds.
//!
//! A signature only proves that this app issued the token; whether the session is still open
//! is checked against the `sessions` table on every request, which is what lets logout revoke a
//! copied token. The encoder is small on purpose: one fixed header, so a token naming another
//! algorithm (`none`, `RS256`) is simply not ours, and a constant-time signature comparison.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use uuid::Uuid;

type HmacSha256 = Hmac<Sha256>;

/// The only header this app issues or accepts.
const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id.
    pub sub: Uuid,
    /// The session's id (a row of `sessions`).
    pub sid: Uuid,
    /// Issued at, Unix seconds.
    pub iat: i64,
    /// Expires at, Unix seconds.
    pub exp: i64,
}

/// Why a token was refused. The client is told only "not authenticated".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenError {
    /// Not three base64url segments with our header and JSON claims.
    Malformed,
    /// The signature does not match.
    BadSignature,
    /// `exp` has passed.
    Expired,
}

fn mac(secret: &[u8]) -> HmacSha256 {
    HmacSha256::new_from_slice(secret).expect("HMAC takes a key of any length")
}

/// Encodes and signs `claims`.
pub fn encode(claims: &Claims, secret: &[u8]) -> String {
    let payload = serde_json::to_vec(claims).expect("claims are plain data");
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(HEADER),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let mut mac = mac(secret);
    mac.update(signing_input.as_bytes());
    let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{signing_input}.{signature}")
}

/// Checks the header, the signature and the expiry (`now` in Unix seconds), then returns the claims.
pub fn decode(token: &str, secret: &[u8], now: i64) -> Result<Claims, TokenError> {
    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    if URL_SAFE_NO_PAD.decode(header).ok().as_deref() != Some(HEADER.as_bytes()) {
        return Err(TokenError::Malformed);
    }
    let signature = URL_SAFE_NO_PAD
        .decode(signature)
        .map_err(|_| TokenError::Malformed)?;
    let mut mac = mac(secret);
    mac.update(&token.as_bytes()[..header.len() + 1 + payload.len()]);
    mac.verify_slice(&signature)
        .map_err(|_| TokenError::BadSignature)?;
    let payload = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| TokenError::Malformed)?;
    let claims: Claims = serde_json::from_slice(&payload).map_err(|_| TokenError::Malformed)?;
    if claims.exp <= now {
        return Err(TokenError::Expired);
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"test-secret";

    fn claims() -> Claims {
        Claims {
            sub: Uuid::from_u128(1),
            sid: Uuid::from_u128(2),
            iat: 1_000,
            exp: 2_000,
        }
    }

    #[test]
    fn a_token_round_trips_until_it_expires() {
        let token = encode(&claims(), SECRET);
        assert_eq!(token.split('.').count(), 3);
        assert!(token.starts_with("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."));
        assert_eq!(decode(&token, SECRET, 1_999), Ok(claims()));
        assert_eq!(decode(&token, SECRET, 2_000), Err(TokenError::Expired));
    }

    #[test]
    fn the_signature_is_hmac_sha256_of_header_dot_payload() {
        let token = encode(&claims(), SECRET);
        let (input, signature) = token.rsplit_once('.').unwrap();
        let mut mac = mac(SECRET);
        mac.update(input.as_bytes());
        assert_eq!(
            URL_SAFE_NO_PAD.decode(signature).unwrap(),
            mac.finalize().into_bytes().to_vec()
        );
    }

    #[test]
    fn another_secret_or_a_changed_payload_is_refused() {
        let token = encode(&claims(), SECRET);
        assert_eq!(
            decode(&token, b"other", 1_500),
            Err(TokenError::BadSignature)
        );
        let forged = Claims {
            sub: Uuid::from_u128(9),
            ..claims()
        };
        let forged_payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged).unwrap());
        let mut parts: Vec<&str> = token.split('.').collect();
        parts[1] = &forged_payload;
        assert_eq!(
            decode(&parts.join("."), SECRET, 1_500),
            Err(TokenError::BadSignature)
        );
    }

    #[test]
    fn alg_none_and_garbage_are_malformed() {
        let token = encode(&claims(), SECRET);
        let (_, rest) = token.split_once('.').unwrap();
        let none = format!("{}.{rest}", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#));
        assert_eq!(decode(&none, SECRET, 1_500), Err(TokenError::Malformed));
        for bad in ["", "a.b", "a.b.c.d", "###.###.###"] {
            assert_eq!(
                decode(bad, SECRET, 1_500),
                Err(TokenError::Malformed),
                "{bad}"
            );
        }
    }
}
