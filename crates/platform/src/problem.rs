//! RFC 9457 problem details: the one shape in which errors leave a component.
//!
//! A problem is built from its HTTP status and, when the client can act on it, a problem type
//! specific to this application ([`Problem::typed`]). Types are `tag:` URIs (RFC 4151): stable
//! identifiers that nobody will try to dereference. Extension members (`errors`, `checks`, ...)
//! carry machine-readable detail. Bodies of 5xx problems stay opaque: say which dependency is
//! down, never the underlying error text, which is logged instead.

use serde::Serialize;
use serde_json::{Map, Value};
use spin_sdk::http::{IntoResponse, Response};

/// The media type of problem details (RFC 9457 section 3).
pub const PROBLEM_JSON: &str = "application/problem+json";

/// The prefix of every problem type this application defines; [`Problem::typed`] appends a slug.
pub const TYPE_PREFIX: &str = "tag:todo-app,2026:problems/";

/// A problem details object, turned into a response with [`IntoResponse`] or `Response::from`.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    status: u16,
    type_uri: String,
    title: String,
    detail: Option<String>,
    extensions: Map<String, Value>,
    allow: Option<&'static str>,
}

impl Problem {
    /// A problem with no application-specific type: `type` is `about:blank` and `title` is the
    /// status code's reason phrase, as RFC 9457 section 4.2.1 asks.
    pub fn new(status: u16) -> Self {
        let title = http::StatusCode::from_u16(status)
            .ok()
            .and_then(|code| code.canonical_reason())
            .unwrap_or("Error");
        Self {
            status,
            type_uri: "about:blank".to_owned(),
            title: title.to_owned(),
            detail: None,
            extensions: Map::new(),
            allow: None,
        }
    }

    /// A problem of an application-defined type, `slug` naming it under [`TYPE_PREFIX`]. The
    /// `title` is the same for every occurrence of the type; put specifics in the detail.
    pub fn typed(status: u16, slug: &str, title: &str) -> Self {
        Self {
            type_uri: format!("{TYPE_PREFIX}{slug}"),
            title: title.to_owned(),
            ..Self::new(status)
        }
    }

    /// `404 Not Found`, for routes and for resources the caller may not know about.
    pub fn not_found() -> Self {
        Self::new(404)
    }

    /// `405 Method Not Allowed`, with the `Allow` header listing the methods the route takes.
    pub fn method_not_allowed(allow: &'static str) -> Self {
        Self {
            allow: Some(allow),
            ..Self::new(405)
        }
    }

    /// Adds the human-readable explanation of this occurrence.
    pub fn with_detail(mut self, detail: impl Into<String>) -> Self {
        self.detail = Some(detail.into());
        self
    }

    /// Adds an extension member. The standard members cannot be overwritten this way.
    pub fn with_extension(mut self, name: &str, value: impl Serialize) -> Self {
        if matches!(name, "type" | "title" | "status" | "detail" | "instance") {
            return self;
        }
        // Serialising the plain data that extensions carry cannot fail; `Null` would only hide a
        // programming error, so it is logged.
        let value = serde_json::to_value(value).unwrap_or_else(|err| {
            eprintln!("problem: extension `{name}` could not be serialised: {err}");
            Value::Null
        });
        self.extensions.insert(name.to_owned(), value);
        self
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The problem type URI.
    pub fn type_uri(&self) -> &str {
        &self.type_uri
    }

    /// The body as a JSON value.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self.body()).expect(INFALLIBLE)
    }

    /// The body as sent: the standard members first (in RFC 9457's order), then the extensions.
    fn body(&self) -> Body<'_> {
        Body {
            type_uri: &self.type_uri,
            title: &self.title,
            status: self.status,
            detail: self.detail.as_deref(),
            extensions: &self.extensions,
        }
    }
}

/// The wire form of a [`Problem`]. A struct rather than a map so that members keep their order.
#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    type_uri: &'a str,
    title: &'a str,
    status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    detail: Option<&'a str>,
    #[serde(flatten)]
    extensions: &'a Map<String, Value>,
}

/// Why serialising a [`Body`] cannot fail: it holds strings, a number and a map with string keys.
const INFALLIBLE: &str = "a problem body is strings, a number and a string-keyed JSON map";

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let mut builder = Response::builder();
        builder
            .status(self.status)
            .header("content-type", PROBLEM_JSON);
        if let Some(allow) = self.allow {
            builder.header("allow", allow);
        }
        let body = serde_json::to_vec(&self.body()).expect(INFALLIBLE);
        builder.body(body).build()
    }
}

impl From<Problem> for Response {
    fn from(problem: Problem) -> Self {
        problem.into_response()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn an_untyped_problem_is_about_blank_titled_with_the_reason_phrase() {
        assert_eq!(
            Problem::new(404).to_json(),
            json!({"type": "about:blank", "title": "Not Found", "status": 404})
        );
    }

    #[test]
    fn a_typed_problem_carries_its_tag_uri_detail_and_extensions() {
        let problem = Problem::typed(503, "not-ready", "Service not ready")
            .with_detail("postgres is down")
            .with_extension("checks", json!({"postgres": "down"}));
        assert_eq!(
            problem.to_json(),
            json!({
                "type": "tag:todo-app,2026:problems/not-ready",
                "title": "Service not ready",
                "status": 503,
                "detail": "postgres is down",
                "checks": {"postgres": "down"},
            })
        );
    }

    #[test]
    fn extensions_cannot_overwrite_standard_members() {
        let problem = Problem::new(400).with_extension("status", 200);
        assert_eq!(problem.to_json()["status"], json!(400));
    }

    #[test]
    fn an_unknown_status_still_gets_a_title() {
        assert_eq!(Problem::new(599).to_json()["title"], json!("Error"));
    }

    #[test]
    fn members_are_sent_standard_ones_first() {
        let response: Response = Problem::typed(409, "taken", "Taken")
            .with_detail("d")
            .with_extension("errors", json!([]))
            .into();
        assert_eq!(
            std::str::from_utf8(response.body()).unwrap(),
            r#"{"type":"tag:todo-app,2026:problems/taken","title":"Taken","status":409,"detail":"d","errors":[]}"#
        );
    }

    #[test]
    fn the_response_is_problem_json_with_allow_on_405() {
        let response: Response = Problem::method_not_allowed("GET, HEAD").into();
        assert_eq!(*response.status(), 405);
        assert_eq!(
            response.header("content-type").and_then(|v| v.as_str()),
            Some(PROBLEM_JSON)
        );
        assert_eq!(
            response.header("allow").and_then(|v| v.as_str()),
            Some("GET, HEAD")
        );
    }
}
