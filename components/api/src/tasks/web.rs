//! The HTTP side of tasks: the JSON a task is shown as, its `ETag`, `If-Match` preconditions,
//! the `Idempotency-Key` header and its request fingerprint, query-string pairs, and the
//! `traceparent` that events carry.

use domain::event::Traceparent;
use domain::task::Task;
use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use spin_sdk::http::Request;

/// A task as the API returns it.
pub fn task_json(task: &Task) -> Value {
    #[derive(Serialize)]
    struct View<'a> {
        id: domain::task::TaskId,
        title: &'a domain::task::TaskTitle,
        description: &'a Option<domain::task::Description>,
        priority: domain::task::Priority,
        is_completed: bool,
        completed_at: Option<domain::time::Timestamp>,
        due_date: Option<domain::time::Timestamp>,
        reminder_time: Option<domain::time::Timestamp>,
        /// The reminder list as the client set it (`[{"offset_minutes": 15}, ...]`); the rows
        /// planned from it are `GET /api/tasks/{id}/reminders` (the reminders component).
        reminders: Value,
        tags: &'a domain::task::Tags,
        is_recurring: bool,
        recurrence_pattern_id: Option<uuid::Uuid>,
        created_at: domain::time::Timestamp,
        updated_at: domain::time::Timestamp,
        version: u32,
    }
    serde_json::to_value(View {
        id: task.id,
        title: &task.title,
        description: &task.description,
        priority: task.priority,
        is_completed: task.is_completed(),
        completed_at: task.completed_at,
        due_date: task.due_date,
        reminder_time: task.reminder_time,
        reminders: task.reminders.to_json(),
        tags: &task.tags,
        is_recurring: task.is_recurring,
        recurrence_pattern_id: task.recurrence_pattern_id,
        created_at: task.created_at,
        updated_at: task.updated_at,
        version: task.version,
    })
    .expect("a task view is plain JSON")
}

/// The strong entity tag of a task version: `"<version>"`.
pub fn etag(version: u32) -> String {
    format!("\"{version}\"")
}

/// What an `If-Match` header asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Precondition {
    /// No header: no condition.
    None,
    /// `*`: the task must exist (it does, if we got this far).
    Any,
    /// One or more entity tags; the task's current one must be among them.
    Tags(Vec<String>),
}

impl Precondition {
    /// Reads `If-Match`. Weak tags (`W/"3"`) never match, as RFC 9110 section 13.1.1 requires
    /// of a strong comparison; anything unreadable is kept as a tag that matches nothing, so the
    /// request fails with 412 rather than succeeding unconditionally.
    pub fn of(req: &Request) -> Self {
        let Some(header) = req.header("if-match") else {
            return Self::None;
        };
        let text = String::from_utf8_lossy(header.as_bytes());
        let text = text.trim();
        if text == "*" {
            return Self::Any;
        }
        Self::Tags(
            text.split(',')
                .map(|tag| tag.trim().to_owned())
                .filter(|tag| !tag.is_empty())
                .collect(),
        )
    }

    /// Whether a task at `version` satisfies it.
    pub fn holds(&self, version: u32) -> bool {
        match self {
            Self::None | Self::Any => true,
            Self::Tags(tags) => {
                let current = etag(version);
                tags.contains(&current)
            }
        }
    }
}

/// The `Idempotency-Key` header, when present: `Ok(Some(key))` for 1 to 255 visible ASCII
/// characters, `Err` with what is wrong otherwise.
pub fn idempotency_key(req: &Request) -> Result<Option<String>, &'static str> {
    let Some(value) = req.header("idempotency-key") else {
        return Ok(None);
    };
    let bytes = value.as_bytes();
    let visible = bytes.iter().all(|b| (0x21..=0x7e).contains(b));
    if bytes.is_empty() || bytes.len() > 255 || !visible {
        return Err("must be 1 to 255 visible ASCII characters");
    }
    Ok(Some(String::from_utf8_lossy(bytes).into_owned()))
}

/// SHA-256 (hex) of what makes two requests "the same" for an idempotency key: the method, the
/// path and the body bytes.
pub fn fingerprint(req: &Request) -> String {
    let mut hash = Sha256::new();
    hash.update(format!("{:?} {}\n", req.method(), req.path()).as_bytes());
    hash.update(req.body());
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// The decoded `name=value` pairs of the query string (`+` is a space, `%xx` decoded).
pub fn query_pairs(req: &Request) -> Vec<(String, String)> {
    form_urlencoded::parse(req.query().as_bytes())
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

/// The request's `traceparent` when it is a valid one, else a fresh trace started here, so
/// every event can be followed back to the request that caused it.
pub fn traceparent(req: &Request) -> Result<Traceparent, String> {
    if let Some(header) = req.header("traceparent").and_then(|v| v.as_str())
        && let Ok(parent) = Traceparent::parse(header.trim())
    {
        return Ok(parent);
    }
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|err| format!("traceparent: {err}"))?;
    // All-zero ids are invalid; 2^-192 odds, but cheap to rule out.
    bytes[15] |= 1;
    bytes[23] |= 1;
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    Traceparent::parse(&format!("00-{}-{}-01", &hex[..32], &hex[32..]))
        .map_err(|err| format!("traceparent: {err}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use spin_sdk::http::Method;

    fn request(headers: &[(&str, &str)]) -> Request {
        let mut builder = Request::builder();
        builder.method(Method::Put).uri("/api/tasks/x?a=1");
        for (name, value) in headers {
            builder.header(*name, *value);
        }
        builder.build()
    }

    #[test]
    fn if_match_holds_for_the_current_strong_tag_only() {
        assert!(Precondition::of(&request(&[])).holds(3));
        assert!(Precondition::of(&request(&[("if-match", "*")])).holds(3));
        assert!(Precondition::of(&request(&[("if-match", "\"3\"")])).holds(3));
        assert!(Precondition::of(&request(&[("if-match", "\"1\", \"3\"")])).holds(3));
        assert!(!Precondition::of(&request(&[("if-match", "\"2\"")])).holds(3));
        assert!(!Precondition::of(&request(&[("if-match", "W/\"3\"")])).holds(3));
        assert!(!Precondition::of(&request(&[("if-match", "3")])).holds(3));
        assert!(!Precondition::of(&request(&[("if-match", "")])).holds(3));
    }

    #[test]
    fn idempotency_keys_are_short_visible_ascii() {
        assert_eq!(idempotency_key(&request(&[])), Ok(None));
        assert_eq!(
            idempotency_key(&request(&[("idempotency-key", "abc-123")])),
            Ok(Some("abc-123".to_owned()))
        );
        assert!(idempotency_key(&request(&[("idempotency-key", "a b")])).is_err());
        assert!(idempotency_key(&request(&[("idempotency-key", &"k".repeat(256))])).is_err());
    }

    #[test]
    fn a_valid_traceparent_is_kept_and_a_bad_one_replaced() {
        const GIVEN: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let kept = traceparent(&request(&[("traceparent", GIVEN)])).unwrap();
        assert_eq!(kept.as_str(), GIVEN);
        let fresh = traceparent(&request(&[("traceparent", "nonsense")])).unwrap();
        assert_ne!(fresh.as_str(), GIVEN);
        assert!(fresh.as_str().starts_with("00-"));
    }

    #[test]
    fn query_pairs_are_decoded() {
        let req = request(&[]);
        assert_eq!(query_pairs(&req), vec![("a".to_owned(), "1".to_owned())]);
    }
}
