//! Structured logs: one JSON object per line on stderr (which Spin and the test host forward),
//! with `timestamp`, `level`, `component`, `trace_id`, `message` and the ids the line is about.
//!
//! ```text
//! {"timestamp":"2026-11-29T03:00:00.123Z","level":"info","component":"dispatcher",
//!  "trace_id":"4bf9...","message":"published","event_id":"0194..."}
//! ```

use serde_json::{Map, Value};

/// How serious a line is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Normal operation worth a line.
    Info,
    /// Something went wrong and will be retried or was refused.
    Warn,
    /// Something failed and needs an operator.
    Error,
}

impl Level {
    fn as_str(self) -> &'static str {
        match self {
            Self::Info => "info",
            Self::Warn => "warn",
            Self::Error => "error",
        }
    }
}

/// The line for one log entry. Separate from [`emit`] so tests can read it.
pub fn line(
    level: Level,
    component: &str,
    trace_id: Option<&str>,
    message: &str,
    ids: &[(&str, &str)],
) -> String {
    let mut object = Map::new();
    let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
    object.insert(
        "timestamp".into(),
        now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
            .into(),
    );
    object.insert("level".into(), level.as_str().into());
    object.insert("component".into(), component.into());
    object.insert(
        "trace_id".into(),
        trace_id.map_or(Value::Null, |id| id.into()),
    );
    object.insert("message".into(), message.into());
    for (name, value) in ids {
        object.insert((*name).into(), (*value).into());
    }
    Value::Object(object).to_string()
}

/// Writes one entry to stderr.
pub fn emit(
    level: Level,
    component: &str,
    trace_id: Option<&str>,
    message: &str,
    ids: &[(&str, &str)],
) {
    eprintln!("{}", line(level, component, trace_id, message, ids));
}

/// An `info` entry without a trace.
pub fn info(component: &str, message: &str, ids: &[(&str, &str)]) {
    emit(Level::Info, component, None, message, ids);
}

/// A `warn` entry without a trace.
pub fn warn(component: &str, message: &str, ids: &[(&str, &str)]) {
    emit(Level::Warn, component, None, message, ids);
}

/// An `error` entry without a trace.
pub fn error(component: &str, message: &str, ids: &[(&str, &str)]) {
    emit(Level::Error, component, None, message, ids);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_is_one_json_object_with_the_fixed_members_and_the_ids() {
        let text = line(
            Level::Warn,
            "audit",
            Some("4bf92f3577b34da6a3ce929d0e0e4736"),
            "duplicate \"event\"\nignored",
            &[("event_id", "0194")],
        );
        assert!(!text.contains('\n'));
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["level"], "warn");
        assert_eq!(value["component"], "audit");
        assert_eq!(value["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(value["message"], "duplicate \"event\"\nignored");
        assert_eq!(value["event_id"], "0194");
        assert!(value["timestamp"].as_str().unwrap().ends_with('Z'));
    }
}
