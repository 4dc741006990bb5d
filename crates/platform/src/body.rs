//! JSON request bodies, decoded the same way by every component.
//!
//! The checks run cheapest first, and each has its own status: a body that is not
//! `application/json` is 415, one over [`MAX_BYTES`] is 413, text that is not JSON is 400, and
//! JSON of the wrong shape (an unknown member, a missing one, a wrong type) is 422 with an
//! `errors` entry naming the member by its path (`tags[2]`), found with `serde_path_to_error`.

use serde::de::DeserializeOwned;
use serde_json::json;
use spin_sdk::http::Request;

use crate::problem::Problem;

/// The largest body accepted: 64 KiB, several times the largest valid task (a 10,000-character
/// description is at most 40,000 bytes of UTF-8).
pub const MAX_BYTES: usize = 64 * 1024;

/// Why a body was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BodyError {
    /// Not `application/json` (415).
    UnsupportedMediaType,
    /// Longer than the limit (413).
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// Not JSON at all (400).
    Malformed(String),
    /// JSON of the wrong shape (422).
    Shape {
        /// The member's path, e.g. `title` or `tags[1]`; empty for the whole body.
        field: String,
        /// `unknown`, `required` or `wrong_type`.
        code: &'static str,
        /// What serde said.
        message: String,
    },
}

impl BodyError {
    /// The problem+json a client gets.
    pub fn to_problem(&self) -> Problem {
        match self {
            Self::UnsupportedMediaType => {
                Problem::new(415).with_detail("The body must be application/json.")
            }
            Self::TooLarge { limit } => {
                Problem::new(413).with_detail(format!("The body must be at most {limit} bytes."))
            }
            Self::Malformed(detail) => {
                Problem::typed(400, "malformed-body", "Malformed body").with_detail(detail.clone())
            }
            Self::Shape {
                field,
                code,
                message,
            } => Problem::typed(422, "validation", "The request has invalid fields")
                .with_detail(if field.is_empty() {
                    format!("{message}.")
                } else {
                    format!("{field}: {message}.")
                })
                .with_extension(
                    "errors",
                    json!([{"field": field, "code": code, "message": message}]),
                ),
        }
    }
}

impl From<BodyError> for spin_sdk::http::Response {
    fn from(err: BodyError) -> Self {
        err.to_problem().into()
    }
}

/// Whether the request says its body is `application/json` (parameters such as `charset` are
/// allowed).
pub fn is_json(req: &Request) -> bool {
    let content_type = req
        .header("content-type")
        .and_then(|v| v.as_str())
        .unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    media_type.eq_ignore_ascii_case("application/json")
}

/// Decodes the request's JSON body into `T`, limited to [`MAX_BYTES`].
pub fn json<T: DeserializeOwned>(req: &Request) -> Result<T, BodyError> {
    if !is_json(req) {
        return Err(BodyError::UnsupportedMediaType);
    }
    decode(req.body(), MAX_BYTES)
}

/// Decodes `bytes` as JSON into `T`: the checks of [`json`] after the content type.
pub fn decode<T: DeserializeOwned>(bytes: &[u8], limit: usize) -> Result<T, BodyError> {
    if bytes.len() > limit {
        return Err(BodyError::TooLarge { limit });
    }
    // First as any JSON, so "not JSON" (400) is told apart from "the wrong JSON" (422).
    let value: serde_json::Value = serde_json::from_slice(bytes)
        .map_err(|err| BodyError::Malformed(format!("The body is not valid JSON: {err}.")))?;
    serde_path_to_error::deserialize(value).map_err(|err| {
        let field = match err.path().to_string() {
            path if path == "." => String::new(),
            path => path,
        };
        let message = err.inner().to_string();
        let code = if message.starts_with("unknown field") {
            "unknown"
        } else if message.starts_with("missing field") {
            "required"
        } else {
            "wrong_type"
        };
        // A missing member is reported at its parent's path; name the member itself.
        let field = match (code, backticked(&message)) {
            ("required", Some(name)) if field.is_empty() => name.to_owned(),
            ("required", Some(name)) => format!("{field}.{name}"),
            _ => field,
        };
        BodyError::Shape {
            field,
            code,
            message,
        }
    })
}

/// The first `` `quoted` `` word of a serde message: the member it is about.
fn backticked(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let len = message[start..].find('`')?;
    Some(&message[start..start + len])
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Body {
        title: String,
        #[serde(default)]
        tags: Vec<String>,
    }

    fn shape(bytes: &[u8]) -> (String, &'static str) {
        match decode::<Body>(bytes, 100) {
            Err(BodyError::Shape { field, code, .. }) => (field, code),
            other => panic!("expected a shape error, got {other:?}"),
        }
    }

    #[test]
    fn each_problem_has_its_status() {
        assert_eq!(
            decode::<Body>(&[b' '; 101], 100)
                .unwrap_err()
                .to_problem()
                .status(),
            413
        );
        assert_eq!(
            decode::<Body>(b"{", 100).unwrap_err().to_problem().status(),
            400
        );
        assert_eq!(
            decode::<Body>(b"[]", 100)
                .unwrap_err()
                .to_problem()
                .status(),
            422
        );
        assert!(decode::<Body>(br#"{"title":"a"}"#, 100).is_ok());
    }

    #[test]
    fn shape_errors_name_the_member() {
        assert_eq!(
            shape(br#"{"title":"a","admin":true}"#),
            ("admin".to_owned(), "unknown")
        );
        assert_eq!(shape(br#"{}"#), ("title".to_owned(), "required"));
        assert_eq!(shape(br#"{"title":5}"#), ("title".to_owned(), "wrong_type"));
        assert_eq!(
            shape(br#"{"title":"a","tags":["x",3]}"#),
            ("tags[1]".to_owned(), "wrong_type")
        );
    }

    #[test]
    fn json_needs_the_json_media_type() {
        let req = |content_type: &str| {
            Request::builder()
                .method(spin_sdk::http::Method::Post)
                .uri("/x")
                .header("content-type", content_type)
                .body(br#"{"title":"a"}"#.to_vec())
                .build()
        };
        assert!(json::<Body>(&req("application/json; charset=utf-8")).is_ok());
        assert!(json::<Body>(&req("Application/JSON")).is_ok());
        assert_eq!(
            json::<Body>(&req("text/plain")).unwrap_err(),
            BodyError::UnsupportedMediaType
        );
    }
}
