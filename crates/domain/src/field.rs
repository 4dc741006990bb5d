//! Field-level validation: what is wrong with one input field ([`Invalid`]), every such problem
//! in one request ([`FieldErrors`]), and the three states of a nullable JSON member
//! ([`Nullable`]).
//!
//! Input types parse every field and collect all problems before failing, so a client sees
//! every mistake in one round trip. Components map [`FieldErrors`] to an RFC 9457
//! problem+json `errors` member; its [`Serialize`] form is that member's value.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer, ser::SerializeStruct};
use serde_json::Value;

/// Why one field's value was rejected. Each variant has a stable machine-readable
/// [`code`](Invalid::code) and an English message ([`Display`](fmt::Display)) written to follow
/// the field's name: "title must not be blank".
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Invalid {
    /// The field is required and was absent.
    Required,
    /// The field was `null` where a value is required.
    Null,
    /// The JSON value has the wrong type.
    WrongType {
        /// What it should have been, e.g. "a string".
        expected: &'static str,
    },
    /// The text was empty or only whitespace.
    Blank,
    /// The text contains a control character this field does not allow (PostgreSQL text cannot
    /// hold NUL at all).
    ControlCharacter,
    /// Fewer characters than the minimum.
    TooShort {
        /// The minimum, in characters (Unicode scalar values).
        min: usize,
    },
    /// More characters than the maximum.
    TooLong {
        /// The maximum, in characters (Unicode scalar values).
        max: usize,
    },
    /// More items than the maximum.
    TooMany {
        /// The maximum number of items.
        max: usize,
    },
    /// A number outside its range.
    OutOfRange {
        /// The smallest value allowed.
        min: i64,
        /// The largest value allowed.
        max: i64,
    },
    /// Not one of an enumeration's values. Unknown values are never mapped to a default.
    NotOneOf {
        /// The values allowed.
        allowed: &'static [&'static str],
    },
    /// Text that does not have the expected syntax.
    Format {
        /// The syntax expected, with an example where that helps.
        expected: &'static str,
    },
    /// A query parameter this route does not know.
    Unknown,
    /// A query parameter given more than once where only one value makes sense.
    Repeated,
    /// A page cursor issued for another sort or order than the request's.
    CursorMismatch,
}

impl Invalid {
    /// A stable, machine-readable identifier of the kind of problem, for clients that show their
    /// own messages.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::Null => "null",
            Self::WrongType { .. } => "wrong_type",
            Self::Blank => "blank",
            Self::ControlCharacter => "control_character",
            Self::TooShort { .. } => "too_short",
            Self::TooLong { .. } => "too_long",
            Self::TooMany { .. } => "too_many",
            Self::OutOfRange { .. } => "out_of_range",
            Self::NotOneOf { .. } => "not_one_of",
            Self::Format { .. } => "format",
            Self::Unknown => "unknown",
            Self::Repeated => "repeated",
            Self::CursorMismatch => "cursor_mismatch",
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Required => f.write_str("is required"),
            Self::Null => f.write_str("must not be null"),
            Self::WrongType { expected } => write!(f, "must be {expected}"),
            Self::Blank => f.write_str("must not be blank"),
            Self::ControlCharacter => f.write_str("must not contain control characters"),
            Self::TooShort { min } => write!(f, "must be at least {min} characters long"),
            Self::TooLong { max } => write!(f, "must be at most {max} characters long"),
            Self::TooMany { max } => write!(f, "must have at most {max} items"),
            Self::OutOfRange { min, max } => write!(f, "must be between {min} and {max}"),
            Self::NotOneOf { allowed } => write!(f, "must be one of: {}", allowed.join(", ")),
            Self::Format { expected } => write!(f, "must be {expected}"),
            Self::Unknown => f.write_str("is not a known parameter"),
            Self::Repeated => f.write_str("must be given at most once"),
            Self::CursorMismatch => f.write_str(
                "was issued for another sort or order; request the first page again without it",
            ),
        }
    }
}

impl std::error::Error for Invalid {}

/// One rejected field: where, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    field: String,
    problem: Invalid,
}

impl FieldError {
    /// The field's name as the client spelled it; list items are indexed (`tags[2]`). Empty
    /// for a problem with a whole value rather than one of its members.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// What is wrong with it.
    pub fn problem(&self) -> &Invalid {
        &self.problem
    }
}

/// `{"field": "title", "code": "blank", "message": "must not be blank"}`.
impl Serialize for FieldError {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut s = serializer.serialize_struct("FieldError", 3)?;
        s.serialize_field("field", &self.field)?;
        s.serialize_field("code", self.problem.code())?;
        s.serialize_field("message", &self.problem.to_string())?;
        s.end()
    }
}

/// Every problem found in one input, in the order the fields were checked. A `Result<T,
/// FieldErrors>` that is `Err` always holds at least one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct FieldErrors(Vec<FieldError>);

impl FieldErrors {
    /// No problems yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// A single problem with one field.
    pub fn single(field: impl Into<String>, problem: Invalid) -> Self {
        let mut errors = Self::new();
        errors.push(field, problem);
        errors
    }

    /// Records a problem with `field`.
    pub fn push(&mut self, field: impl Into<String>, problem: Invalid) {
        self.0.push(FieldError {
            field: field.into(),
            problem,
        });
    }

    /// The value if `result` is `Ok`; otherwise records its problem under `field` and returns
    /// `None`, so that checking goes on with the next field.
    pub fn check<T>(&mut self, field: &str, result: Result<T, Invalid>) -> Option<T> {
        result.map_err(|problem| self.push(field, problem)).ok()
    }

    /// Like [`check`](Self::check) for a value with members of its own (a list): each nested
    /// field name is put under `field` (`[2]` becomes `tags[2]`, the empty name becomes `tags`).
    pub fn check_nested<T>(&mut self, field: &str, result: Result<T, FieldErrors>) -> Option<T> {
        result
            .map_err(|nested| {
                for error in nested.0 {
                    let name = if error.field.starts_with('[') || error.field.is_empty() {
                        format!("{field}{}", error.field)
                    } else {
                        format!("{field}.{}", error.field)
                    };
                    self.push(name, error.problem);
                }
            })
            .ok()
    }

    /// True when nothing was recorded.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// How many problems were recorded.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// The problems, in the order they were recorded.
    pub fn iter(&self) -> std::slice::Iter<'_, FieldError> {
        self.0.iter()
    }

    /// The problems recorded for `field`, for tests and for callers that treat one field
    /// specially.
    pub fn for_field<'a>(&'a self, field: &'a str) -> impl Iterator<Item = &'a Invalid> + 'a {
        self.0
            .iter()
            .filter(move |error| error.field == field)
            .map(|error| &error.problem)
    }
}

impl<'a> IntoIterator for &'a FieldErrors {
    type Item = &'a FieldError;
    type IntoIter = std::slice::Iter<'a, FieldError>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

/// `title must not be blank; tags[2] must not be blank`: for logs, and for the errors of serde's
/// `try_from` conversions.
impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, error) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            if error.field.is_empty() {
                write!(f, "{}", error.problem)?;
            } else {
                write!(f, "{} {}", error.field, error.problem)?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for FieldErrors {}

/// A JSON object member that may be absent, `null`, or have a value. `Option<Option<T>>` says
/// the same less clearly; PATCH needs all three ("leave it", "clear it", "set it").
///
/// Deserialising gives [`Null`](Self::Null) or [`Value`](Self::Value); mark the field
/// `#[serde(default)]` so that a missing member gives [`Absent`](Self::Absent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Nullable<T> {
    /// The member was not there.
    #[default]
    Absent,
    /// The member was `null`.
    Null,
    /// The member had a value.
    Value(T),
}

impl<T> Nullable<T> {
    /// Converts the value, keeping absent and null as they are.
    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Nullable<U> {
        match self {
            Self::Absent => Nullable::Absent,
            Self::Null => Nullable::Null,
            Self::Value(value) => Nullable::Value(f(value)),
        }
    }

    /// True unless the member was absent.
    pub fn is_present(&self) -> bool {
        !matches!(self, Self::Absent)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nullable<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(match Option::<T>::deserialize(deserializer)? {
            Some(value) => Self::Value(value),
            None => Self::Null,
        })
    }
}

/// The string in a JSON value, or the problem with it.
pub(crate) fn expect_string(value: Value) -> Result<String, Invalid> {
    match value {
        Value::String(text) => Ok(text),
        _ => Err(Invalid::WrongType {
            expected: "a string",
        }),
    }
}

/// The boolean in a JSON value, or the problem with it.
pub(crate) fn expect_bool(value: Value) -> Result<bool, Invalid> {
    match value {
        Value::Bool(flag) => Ok(flag),
        _ => Err(Invalid::WrongType {
            expected: "true or false",
        }),
    }
}

/// Trims `raw`, then checks it is not blank, has at most `max` characters, and has no control
/// characters other than those `allowed`.
pub(crate) fn trimmed_text(raw: &str, max: usize, allowed: &[char]) -> Result<String, Invalid> {
    let text = raw.trim();
    if text.is_empty() {
        return Err(Invalid::Blank);
    }
    if text
        .chars()
        .any(|c| c.is_control() && !allowed.contains(&c))
    {
        return Err(Invalid::ControlCharacter);
    }
    // Characters, not bytes: PostgreSQL's char_length and the API's documented limits count
    // Unicode scalar values.
    if text.chars().count() > max {
        return Err(Invalid::TooLong { max });
    }
    Ok(text.to_owned())
}

/// Parses a UUID in its canonical hyphenated form only (what PostgreSQL's `uuid::text` and the
/// API produce), so that one id has one spelling in URLs, cursors and events.
pub(crate) fn parse_uuid(text: &str) -> Result<uuid::Uuid, Invalid> {
    const EXPECTED: Invalid = Invalid::Format {
        expected: "a UUID such as 0f8b5a52-8f0c-4e5e-9a39-3f9c2f5a1d01",
    };
    if text.len() != 36 {
        return Err(EXPECTED);
    }
    uuid::Uuid::try_parse(text).map_err(|_| EXPECTED)
}

/// Declares a UUID id newtype: private field, one `parse` (canonical hyphenated form only),
/// `as_uuid` for query parameters, `From<Uuid>` for ids read back from rows, and the hyphenated
/// form as `Display` and JSON. One definition, so every id behaves the same.
macro_rules! uuid_id {
    ($(#[$meta:meta])* $name:ident, $parse_doc:literal) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash,
            serde::Serialize, serde::Deserialize,
        )]
        #[serde(transparent)]
        pub struct $name(uuid::Uuid);

        impl $name {
            #[doc = $parse_doc]
            pub fn parse(text: &str) -> Result<Self, $crate::field::Invalid> {
                $crate::field::parse_uuid(text).map(Self)
            }

            /// The id as a UUID, to bind as a query parameter.
            pub fn as_uuid(&self) -> uuid::Uuid {
                self.0
            }
        }

        impl From<uuid::Uuid> for $name {
            fn from(id: uuid::Uuid) -> Self {
                Self(id)
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.hyphenated().fmt(f)
            }
        }
    };
}
pub(crate) use uuid_id;

/// The conversions of a text newtype (`struct X(String)` with `X::parse(&str)`): `TryFrom<String>`
/// (so deserialising parses, and a consumer reading an event gets checked values),
/// `From<X> for String` (serialising writes the plain string), and `Display`.
macro_rules! text_conversions {
    ($($name:ident),*) => {$(
        impl TryFrom<String> for $name {
            type Error = $crate::field::Invalid;
            fn try_from(raw: String) -> Result<Self, $crate::field::Invalid> {
                Self::parse(&raw)
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> String {
                value.0
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}
pub(crate) use text_conversions;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Deserialize)]
    struct Body {
        #[serde(default)]
        note: Nullable<String>,
    }

    fn note(body: &str) -> Nullable<String> {
        serde_json::from_str::<Body>(body).unwrap().note
    }

    #[test]
    fn a_nullable_member_tells_absent_null_and_value_apart() {
        assert_eq!(note("{}"), Nullable::Absent);
        assert_eq!(note(r#"{"note": null}"#), Nullable::Null);
        assert_eq!(note(r#"{"note": "x"}"#), Nullable::Value("x".to_owned()));
    }

    #[test]
    fn field_errors_serialise_as_a_list_of_field_code_and_message() {
        let mut errors = FieldErrors::new();
        errors.push("title", Invalid::Blank);
        errors.push(
            "priority",
            Invalid::NotOneOf {
                allowed: &["low", "high"],
            },
        );
        assert_eq!(
            serde_json::to_value(&errors).unwrap(),
            json!([
                {"field": "title", "code": "blank", "message": "must not be blank"},
                {"field": "priority", "code": "not_one_of", "message": "must be one of: low, high"},
            ])
        );
    }

    #[test]
    fn nested_errors_are_named_under_their_parent_field() {
        let mut inner = FieldErrors::new();
        inner.push("", Invalid::TooMany { max: 2 });
        inner.push("[1]", Invalid::Blank);
        let mut errors = FieldErrors::new();
        assert_eq!(errors.check_nested::<()>("tags", Err(inner)), None);
        let names: Vec<_> = errors.iter().map(FieldError::field).collect();
        assert_eq!(names, ["tags", "tags[1]"]);
        assert_eq!(
            errors.to_string(),
            "tags must have at most 2 items; tags[1] must not be blank"
        );
    }

    #[test]
    fn checking_an_ok_result_records_nothing() {
        let mut errors = FieldErrors::new();
        assert_eq!(errors.check("x", Ok::<_, Invalid>(3)), Some(3));
        assert!(errors.is_empty());
    }

    #[test]
    fn text_is_trimmed_and_nul_is_always_rejected() {
        assert_eq!(trimmed_text("  a b ", 10, &[]).unwrap(), "a b");
        assert_eq!(trimmed_text(" \t ", 10, &[]), Err(Invalid::Blank));
        assert_eq!(
            trimmed_text("a\0b", 10, &['\n']),
            Err(Invalid::ControlCharacter)
        );
        assert_eq!(trimmed_text("a\nb", 10, &['\n']).unwrap(), "a\nb");
        assert_eq!(
            trimmed_text("ééé", 2, &[]),
            Err(Invalid::TooLong { max: 2 })
        );
    }
}
