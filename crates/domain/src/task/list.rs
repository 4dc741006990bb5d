//! `GET /api/tasks`: filters, sort, page size and the opaque keyset cursor.
//!
//! # Order
//!
//! A list is ordered by its sort key in the requested direction, then by task id in the same
//! direction, so every task has exactly one place even when many share a key, and a page
//! boundary stays put when tasks are inserted concurrently. Tasks without a due date come
//! last under `sort=due_date` in both directions. Priorities order by [`Priority::rank`];
//! titles by their UTF-8 bytes (PostgreSQL's `COLLATE "C"`). In SQL, for `order=asc`; for
//! `desc` read `DESC` for `ASC` and `<` for `>`, with no due date still `NULLS LAST`:
//!
//! ```sql
//! ORDER BY key ASC NULLS LAST, id ASC
//! -- the next page, after the cursor's key k and id i:
//! WHERE (key, id) > (k, i)                -- k not null ...
//!    OR key IS NULL                       -- ... and, for due_date, every task without one
//! WHERE key IS NULL AND id > i            -- due_date with k null
//! ```
//!
//! [`TaskListQuery::compare`] and [`TaskCursor::is_before`] are that order in Rust: the
//! reference the store's SQL must agree with.
//!
//! # Cursor
//!
//! A [`TaskCursor`] names the last task of a page by its sort key and id. On the wire it is
//! base64url (no padding) of a small JSON object that also records which list, sort and order
//! it belongs to and a format version, so a cursor from another list or another sort is
//! refused with a clear message rather than silently giving a wrong page. It is opaque, not
//! secret or signed: a client that edits one only moves within its own tasks, because every
//! query is scoped to the caller.

use std::cmp::Ordering;
use std::collections::BTreeSet;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{Priority, Tags, Task, TaskId, TaskTitle};
use crate::field::{FieldErrors, Invalid, trimmed_text};
use crate::time::Timestamp;

/// `status`: which tasks by completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    /// `open`: not completed.
    Open,
    /// `completed`
    Completed,
    /// `all` (the default)
    All,
}

impl StatusFilter {
    const NAMES: &[&str] = &["open", "completed", "all"];

    /// Parses `open`, `completed` or `all`.
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        match text {
            "open" => Ok(Self::Open),
            "completed" => Ok(Self::Completed),
            "all" => Ok(Self::All),
            _ => Err(Invalid::NotOneOf {
                allowed: Self::NAMES,
            }),
        }
    }
}

/// `sort`: the key a list is ordered by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum TaskSort {
    /// `due_date`, soonest first by default; tasks without one last.
    DueDate,
    /// `priority`, highest first by default.
    Priority,
    /// `created_at` (the default), newest first by default.
    CreatedAt,
    /// `title`, A to Z by default.
    Title,
}

impl TaskSort {
    /// Every sort key.
    pub const ALL: [TaskSort; 4] = [
        TaskSort::DueDate,
        TaskSort::Priority,
        TaskSort::CreatedAt,
        TaskSort::Title,
    ];
    const NAMES: &[&str] = &["due_date", "priority", "created_at", "title"];

    /// Parses `due_date`, `priority`, `created_at` or `title`.
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        match text {
            "due_date" => Ok(Self::DueDate),
            "priority" => Ok(Self::Priority),
            "created_at" => Ok(Self::CreatedAt),
            "title" => Ok(Self::Title),
            _ => Err(Invalid::NotOneOf {
                allowed: Self::NAMES,
            }),
        }
    }

    /// The name in the query string.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::DueDate => "due_date",
            Self::Priority => "priority",
            Self::CreatedAt => "created_at",
            Self::Title => "title",
        }
    }

    /// The direction used when the request gives none: the one a person usually wants
    /// (soonest due, most important, newest, alphabetical).
    pub fn default_order(self) -> SortOrder {
        match self {
            Self::DueDate | Self::Title => SortOrder::Asc,
            Self::Priority | Self::CreatedAt => SortOrder::Desc,
        }
    }
}

/// `order`: the direction of a sort.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum SortOrder {
    /// `asc`
    Asc,
    /// `desc`
    Desc,
}

impl SortOrder {
    const NAMES: &[&str] = &["asc", "desc"];

    /// Parses `asc` or `desc`.
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        match text {
            "asc" => Ok(Self::Asc),
            "desc" => Ok(Self::Desc),
            _ => Err(Invalid::NotOneOf {
                allowed: Self::NAMES,
            }),
        }
    }

    /// The name in the query string, which is also the SQL keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Asc => "asc",
            Self::Desc => "desc",
        }
    }

    fn apply(self, ascending: Ordering) -> Ordering {
        match self {
            Self::Asc => ascending,
            Self::Desc => ascending.reverse(),
        }
    }
}

macro_rules! name_conversions {
    ($($name:ident),*) => {$(
        impl TryFrom<String> for $name {
            type Error = Invalid;
            fn try_from(raw: String) -> Result<Self, Invalid> {
                Self::parse(&raw)
            }
        }
        impl From<$name> for &'static str {
            fn from(value: $name) -> &'static str {
                value.as_str()
            }
        }
    )*};
}
name_conversions!(TaskSort, SortOrder);

/// A task's value for one sort: where it stands in a list sorted that way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SortKey {
    /// Its due date, if any.
    DueDate(Option<Timestamp>),
    /// Its priority.
    Priority(Priority),
    /// When it was created.
    CreatedAt(Timestamp),
    /// Its title.
    Title(TaskTitle),
}

impl SortKey {
    /// `task`'s key for `sort`.
    pub fn of(task: &Task, sort: TaskSort) -> Self {
        match sort {
            TaskSort::DueDate => Self::DueDate(task.due_date),
            TaskSort::Priority => Self::Priority(task.priority),
            TaskSort::CreatedAt => Self::CreatedAt(task.created_at),
            TaskSort::Title => Self::Title(task.title.clone()),
        }
    }

    /// The sort this is a key of.
    pub fn sort(&self) -> TaskSort {
        match self {
            Self::DueDate(_) => TaskSort::DueDate,
            Self::Priority(_) => TaskSort::Priority,
            Self::CreatedAt(_) => TaskSort::CreatedAt,
            Self::Title(_) => TaskSort::Title,
        }
    }

    /// How `self` compares with `other` in `order`; keys of different sorts are never
    /// compared (they are `Equal`, and the id decides).
    fn compare(&self, other: &Self, order: SortOrder) -> Ordering {
        match (self, other) {
            // No due date is last in both directions.
            (Self::DueDate(a), Self::DueDate(b)) => match (a, b) {
                (Some(a), Some(b)) => order.apply(a.cmp(b)),
                (Some(_), None) => Ordering::Less,
                (None, Some(_)) => Ordering::Greater,
                (None, None) => Ordering::Equal,
            },
            (Self::Priority(a), Self::Priority(b)) => order.apply(a.rank().cmp(&b.rank())),
            (Self::CreatedAt(a), Self::CreatedAt(b)) => order.apply(a.cmp(b)),
            (Self::Title(a), Self::Title(b)) => order.apply(a.as_str().cmp(b.as_str())),
            _ => Ordering::Equal,
        }
    }

    fn to_json(&self) -> Value {
        match self {
            Self::DueDate(due) => json!(due),
            Self::Priority(priority) => json!(priority),
            Self::CreatedAt(at) => json!(at),
            Self::Title(title) => json!(title),
        }
    }

    fn from_json(sort: TaskSort, value: Value) -> Result<Self, serde_json::Error> {
        Ok(match sort {
            TaskSort::DueDate => Self::DueDate(serde_json::from_value(value)?),
            TaskSort::Priority => Self::Priority(serde_json::from_value(value)?),
            TaskSort::CreatedAt => Self::CreatedAt(serde_json::from_value(value)?),
            TaskSort::Title => Self::Title(serde_json::from_value(value)?),
        })
    }
}

/// Where a page ended: the last task's sort key and id, and the direction of the list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskCursor {
    key: SortKey,
    order: SortOrder,
    id: TaskId,
}

/// The cursor format this code writes; a cursor of any other version is refused.
const CURSOR_VERSION: u8 = 1;
/// Marks a cursor as belonging to the task list, so one from another list is refused.
const CURSOR_LIST: &str = "tasks";
/// Far more than the longest cursor this code writes (a 500-character title), so decoding
/// never allocates much for a hostile one.
const CURSOR_MAX_LEN: usize = 4096;
const CURSOR_EXPECTED: Invalid = Invalid::Format {
    expected: "the next_cursor of a previous page of this list",
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireCursor {
    v: u8,
    list: String,
    sort: TaskSort,
    order: SortOrder,
    key: Value,
    id: TaskId,
}

impl TaskCursor {
    /// The cursor that continues a list sorted by `sort` in `order` after `task`.
    pub fn after(task: &Task, sort: TaskSort, order: SortOrder) -> Self {
        Self {
            key: SortKey::of(task, sort),
            order,
            id: task.id,
        }
    }

    /// The last task's sort key.
    pub fn key(&self) -> &SortKey {
        &self.key
    }

    /// The sort of the list it continues.
    pub fn sort(&self) -> TaskSort {
        self.key.sort()
    }

    /// The direction of the list it continues.
    pub fn order(&self) -> SortOrder {
        self.order
    }

    /// The last task's id, the tie-breaker.
    pub fn id(&self) -> TaskId {
        self.id
    }

    /// Whether the cursor's position comes before `task`'s, i.e. `task` belongs on a later
    /// page.
    pub fn is_before(&self, task: &Task) -> bool {
        let key = SortKey::of(task, self.sort());
        compare_positions(self.order, (&self.key, self.id), (&key, task.id)) == Ordering::Less
    }

    /// The opaque text for `next_cursor`.
    pub fn encode(&self) -> String {
        let wire = json!({
            "v": CURSOR_VERSION,
            "list": CURSOR_LIST,
            "sort": self.sort(),
            "order": self.order,
            "key": self.key.to_json(),
            "id": self.id,
        });
        URL_SAFE_NO_PAD.encode(wire.to_string())
    }

    /// Reads a cursor written by [`encode`](Self::encode). Anything else (bad base64, other
    /// JSON, another list's cursor, another version, a key of the wrong type) is refused.
    pub fn decode(text: &str) -> Result<Self, Invalid> {
        if text.len() > CURSOR_MAX_LEN {
            return Err(CURSOR_EXPECTED);
        }
        let bytes = URL_SAFE_NO_PAD.decode(text).map_err(|_| CURSOR_EXPECTED)?;
        let wire: WireCursor = serde_json::from_slice(&bytes).map_err(|_| CURSOR_EXPECTED)?;
        if wire.v != CURSOR_VERSION || wire.list != CURSOR_LIST {
            return Err(CURSOR_EXPECTED);
        }
        let key = SortKey::from_json(wire.sort, wire.key).map_err(|_| CURSOR_EXPECTED)?;
        Ok(Self {
            key,
            order: wire.order,
            id: wire.id,
        })
    }
}

fn compare_positions(
    order: SortOrder,
    (a_key, a_id): (&SortKey, TaskId),
    (b_key, b_id): (&SortKey, TaskId),
) -> Ordering {
    a_key
        .compare(b_key, order)
        .then_with(|| order.apply(a_id.cmp(&b_id)))
}

/// The query of `GET /api/tasks`, every parameter checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaskListQuery {
    status: StatusFilter,
    priority: Option<Priority>,
    tags: Tags,
    text: Option<String>,
    due_before: Option<Timestamp>,
    due_after: Option<Timestamp>,
    overdue: bool,
    is_recurring: Option<bool>,
    sort: TaskSort,
    order: SortOrder,
    limit: u32,
    cursor: Option<TaskCursor>,
}

const PARAMS: &[&str] = &[
    "status",
    "priority",
    "tag",
    "q",
    "due_before",
    "due_after",
    "overdue",
    "is_recurring",
    "sort",
    "order",
    "limit",
    "cursor",
];

impl TaskListQuery {
    /// The page size when the request gives none.
    pub const DEFAULT_LIMIT: u32 = 50;
    /// The largest page size.
    pub const MAX_LIMIT: u32 = 200;
    /// The most characters of a text search.
    pub const MAX_TEXT_CHARS: usize = 200;

    /// Parses the decoded query-string pairs. Unknown parameters are refused, and so is any
    /// parameter but `tag` given twice (`tag` may repeat: a task must carry every tag given).
    /// An empty `q` or `cursor` counts as absent, as a form with an empty field sends it.
    pub fn parse<K: AsRef<str>, V: AsRef<str>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let mut given: Vec<(&'static str, String)> = Vec::new();
        let mut repeated = BTreeSet::new();
        let mut tags = Vec::new();
        for (key, value) in pairs {
            let (key, value) = (key.as_ref(), value.as_ref());
            match PARAMS.iter().find(|name| **name == key) {
                None => errors.push(key, Invalid::Unknown),
                Some(&"tag") => tags.push(value.to_owned()),
                Some(&name) => {
                    if given.iter().any(|(seen, _)| *seen == name) {
                        repeated.insert(name);
                    } else {
                        given.push((name, value.to_owned()));
                    }
                }
            }
        }
        for name in repeated {
            errors.push(name, Invalid::Repeated);
        }
        let get = |name: &str| {
            given
                .iter()
                .find(|(seen, _)| *seen == name)
                .map(|(_, value)| value.as_str())
        };

        let status = errors.check(
            "status",
            get("status").map_or(Ok(StatusFilter::All), StatusFilter::parse),
        );
        let priority = errors.check("priority", get("priority").map(Priority::parse).transpose());
        let tags = errors.check_nested("tag", Tags::parse(tags));
        let text = errors.check(
            "q",
            get("q").map(search_text).transpose().map(Option::flatten),
        );
        let due_before = errors.check(
            "due_before",
            get("due_before").map(query_timestamp).transpose(),
        );
        let due_after = errors.check(
            "due_after",
            get("due_after").map(query_timestamp).transpose(),
        );
        let overdue = errors.check("overdue", get("overdue").map_or(Ok(false), query_bool));
        let is_recurring = errors.check(
            "is_recurring",
            get("is_recurring").map(query_bool).transpose(),
        );
        let sort = errors.check(
            "sort",
            get("sort").map_or(Ok(TaskSort::CreatedAt), TaskSort::parse),
        );
        let order = errors
            .check("order", get("order").map(SortOrder::parse).transpose())
            .zip(sort)
            .map(|(order, sort)| order.unwrap_or(sort.default_order()));
        let limit = errors.check("limit", get("limit").map_or(Ok(Self::DEFAULT_LIMIT), limit));
        let cursor = errors.check(
            "cursor",
            get("cursor")
                .filter(|text| !text.is_empty())
                .map(TaskCursor::decode)
                .transpose(),
        );
        // A cursor only continues the list it came from.
        if let (Some(sort), Some(order), Some(Some(cursor))) = (sort, order, &cursor)
            && (cursor.sort() != sort || cursor.order() != order)
        {
            errors.push("cursor", Invalid::CursorMismatch);
        }

        match (
            status,
            priority,
            tags,
            text,
            due_before,
            due_after,
            overdue,
            is_recurring,
            sort,
            order,
            limit,
            cursor,
        ) {
            (
                Some(status),
                Some(priority),
                Some(tags),
                Some(text),
                Some(due_before),
                Some(due_after),
                Some(overdue),
                Some(is_recurring),
                Some(sort),
                Some(order),
                Some(limit),
                Some(cursor),
            ) if errors.is_empty() => Ok(Self {
                status,
                priority,
                tags,
                text,
                due_before,
                due_after,
                overdue,
                is_recurring,
                sort,
                order,
                limit,
                cursor,
            }),
            _ => Err(errors),
        }
    }

    /// `status`, `all` when absent.
    pub fn status(&self) -> StatusFilter {
        self.status
    }

    /// `priority`: only tasks of this priority.
    pub fn priority(&self) -> Option<Priority> {
        self.priority
    }

    /// `tag` (repeatable): only tasks with every one of these tags, ignoring case. Empty when
    /// none was given.
    pub fn tags(&self) -> &Tags {
        &self.tags
    }

    /// `q`, trimmed: only tasks whose title or description contains it, ignoring case.
    pub fn text(&self) -> Option<&str> {
        self.text.as_deref()
    }

    /// [`text`](Self::text) as an `ILIKE` pattern: `%`, `_` and `\` escaped with `\` (the
    /// default escape character), wrapped in `%`.
    pub fn text_like_pattern(&self) -> Option<String> {
        self.text.as_ref().map(|text| {
            let mut pattern = String::with_capacity(text.len() + 2);
            pattern.push('%');
            for c in text.chars() {
                if matches!(c, '%' | '_' | '\\') {
                    pattern.push('\\');
                }
                pattern.push(c);
            }
            pattern.push('%');
            pattern
        })
    }

    /// `due_before`: only tasks due strictly before this instant.
    pub fn due_before(&self) -> Option<Timestamp> {
        self.due_before
    }

    /// `due_after`: only tasks due at or after this instant (so `due_after` and `due_before`
    /// make a half-open range).
    pub fn due_after(&self) -> Option<Timestamp> {
        self.due_after
    }

    /// `overdue=true`: only open tasks whose due date has passed. `false` is no filter.
    pub fn overdue(&self) -> bool {
        self.overdue
    }

    /// `is_recurring`: only recurring, or only non-recurring, tasks.
    pub fn is_recurring(&self) -> Option<bool> {
        self.is_recurring
    }

    /// `sort`, `created_at` when absent.
    pub fn sort(&self) -> TaskSort {
        self.sort
    }

    /// `order`, the sort's [default](TaskSort::default_order) when absent.
    pub fn order(&self) -> SortOrder {
        self.order
    }

    /// `limit`, 1 to 200, 50 when absent. Fetch one row more to learn whether there is a
    /// next page.
    pub fn limit(&self) -> u32 {
        self.limit
    }

    /// `cursor`: the page starts after this position. Always of this query's sort and order.
    pub fn cursor(&self) -> Option<&TaskCursor> {
        self.cursor.as_ref()
    }

    /// The cursor of the page after the one that ends with `last`.
    pub fn next_cursor(&self, last: &Task) -> TaskCursor {
        TaskCursor::after(last, self.sort, self.order)
    }

    /// How `a` and `b` are ordered in this query's list.
    pub fn compare(&self, a: &Task, b: &Task) -> Ordering {
        compare_positions(
            self.order,
            (&SortKey::of(a, self.sort), a.id),
            (&SortKey::of(b, self.sort), b.id),
        )
    }

    /// Whether `task` passes every filter at `now` (the cursor aside): the meaning of each
    /// filter, which the store's SQL must agree with.
    pub fn matches(&self, task: &Task, now: Timestamp) -> bool {
        let status = match self.status {
            StatusFilter::Open => !task.is_completed(),
            StatusFilter::Completed => task.is_completed(),
            StatusFilter::All => true,
        };
        let text = self.text.as_ref().is_none_or(|text| {
            let needle = text.to_lowercase();
            task.title.as_str().to_lowercase().contains(&needle)
                || task
                    .description
                    .as_ref()
                    .is_some_and(|d| d.as_str().to_lowercase().contains(&needle))
        });
        status
            && text
            && self.priority.is_none_or(|p| task.priority == p)
            && self.tags.iter().all(|tag| task.tags.contains(tag))
            && self
                .due_before
                .is_none_or(|before| task.due_date.is_some_and(|due| due < before))
            && self
                .due_after
                .is_none_or(|after| task.due_date.is_some_and(|due| due >= after))
            && (!self.overdue || task.is_overdue(now))
            && self.is_recurring.is_none_or(|r| task.is_recurring == r)
    }
}

/// `None` for blank text.
fn search_text(raw: &str) -> Result<Option<String>, Invalid> {
    match trimmed_text(raw, TaskListQuery::MAX_TEXT_CHARS, &[]) {
        Ok(text) => Ok(Some(text)),
        Err(Invalid::Blank) => Ok(None),
        Err(other) => Err(other),
    }
}

/// A timestamp from a query string. An unencoded `+` in an offset arrives as a space
/// (`...T18:00:00 02:00`), so a space where the offset's sign belongs is read as `+`.
fn query_timestamp(text: &str) -> Result<Timestamp, Invalid> {
    Timestamp::parse(text).or_else(|error| {
        let sign = text.len().checked_sub(6);
        match sign {
            Some(i) if text.as_bytes()[i] == b' ' => {
                Timestamp::parse(&format!("{}+{}", &text[..i], &text[i + 1..])).map_err(|_| error)
            }
            _ => Err(error),
        }
    })
}

fn query_bool(text: &str) -> Result<bool, Invalid> {
    match text {
        "true" => Ok(true),
        "false" => Ok(false),
        _ => Err(Invalid::NotOneOf {
            allowed: &["true", "false"],
        }),
    }
}

fn limit(text: &str) -> Result<u32, Invalid> {
    const RANGE: Invalid = Invalid::OutOfRange {
        min: 1,
        max: TaskListQuery::MAX_LIMIT as i64,
    };
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Invalid::Format {
            expected: "a whole number from 1 to 200",
        });
    }
    match text.parse::<u32>() {
        Ok(n) if (1..=TaskListQuery::MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(RANGE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::task::test_support::{at, task};
    use proptest::prelude::*;
    use uuid::Uuid;

    fn query(q: &str) -> Result<TaskListQuery, FieldErrors> {
        let pairs: Vec<(&str, &str)> = q
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| pair.split_once('=').unwrap_or((pair, "")))
            .collect();
        TaskListQuery::parse(pairs)
    }

    fn codes(errors: &FieldErrors) -> Vec<(String, &'static str)> {
        errors
            .iter()
            .map(|e| (e.field().to_owned(), e.problem().code()))
            .collect()
    }

    #[test]
    fn an_empty_query_lists_everything_newest_first_fifty_at_a_time() {
        let q = query("").unwrap();
        assert_eq!(q.status(), StatusFilter::All);
        assert_eq!(q.sort(), TaskSort::CreatedAt);
        assert_eq!(q.order(), SortOrder::Desc);
        assert_eq!(q.limit(), 50);
        assert!(q.cursor().is_none() && q.text().is_none() && !q.overdue());
    }

    #[test]
    fn every_parameter_is_parsed() {
        let q = query(
            "status=open&priority=high&tag=work&tag=Home&q= milk &due_before=2026-02-01T00:00:00Z\
             &due_after=2026-01-01T00:00:00Z&overdue=true&is_recurring=false&sort=due_date\
             &order=desc&limit=200",
        )
        .unwrap();
        assert_eq!(q.status(), StatusFilter::Open);
        assert_eq!(q.priority(), Some(Priority::High));
        assert_eq!(q.tags().to_strings(), ["work", "Home"]);
        assert_eq!(q.text(), Some("milk"));
        assert_eq!(q.due_before(), Some(at("2026-02-01T00:00:00Z")));
        assert_eq!(q.due_after(), Some(at("2026-01-01T00:00:00Z")));
        assert!(q.overdue());
        assert_eq!(q.is_recurring(), Some(false));
        assert_eq!((q.sort(), q.order()), (TaskSort::DueDate, SortOrder::Desc));
        assert_eq!(q.limit(), 200);
    }

    #[test]
    fn each_sort_has_a_natural_default_order() {
        for (sort, order) in [
            ("due_date", SortOrder::Asc),
            ("priority", SortOrder::Desc),
            ("created_at", SortOrder::Desc),
            ("title", SortOrder::Asc),
        ] {
            assert_eq!(query(&format!("sort={sort}")).unwrap().order(), order);
        }
    }

    #[test]
    fn every_bad_parameter_is_reported_at_once() {
        let errors = query(
            "status=done&priority=urgent&tag=&sort=name&order=up&limit=0&overdue=yes\
             &due_before=soon&colour=red&limit=3",
        )
        .unwrap_err();
        assert_eq!(
            codes(&errors),
            [
                ("colour".to_owned(), "unknown"),
                ("limit".to_owned(), "repeated"),
                ("status".to_owned(), "not_one_of"),
                ("priority".to_owned(), "not_one_of"),
                ("tag[0]".to_owned(), "blank"),
                ("due_before".to_owned(), "format"),
                ("overdue".to_owned(), "not_one_of"),
                ("sort".to_owned(), "not_one_of"),
                ("order".to_owned(), "not_one_of"),
                ("limit".to_owned(), "out_of_range"),
            ]
        );
    }

    #[test]
    fn the_limit_must_be_a_whole_number_from_1_to_200() {
        assert_eq!(query("limit=1").unwrap().limit(), 1);
        for bad in ["0", "201", "99999999999", "-1", "ten", "", "1.5"] {
            assert!(query(&format!("limit={bad}")).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_empty_search_or_cursor_is_no_search_or_cursor() {
        let q = TaskListQuery::parse([("q", "  "), ("cursor", "")]).unwrap();
        assert_eq!(q.text(), None);
        assert_eq!(q.cursor(), None);
    }

    #[test]
    fn a_plus_sign_lost_to_query_string_decoding_is_restored() {
        let q = TaskListQuery::parse([("due_before", "2026-01-10T20:00:00 02:00")]).unwrap();
        assert_eq!(q.due_before(), Some(at("2026-01-10T18:00:00Z")));
    }

    #[test]
    fn search_text_becomes_an_escaped_like_pattern() {
        let q = TaskListQuery::parse([("q", r"50%_off\now")]).unwrap();
        assert_eq!(q.text_like_pattern().unwrap(), r"%50\%\_off\\now%");
    }

    #[test]
    fn a_cursor_continues_only_the_sort_and_order_it_came_from() {
        let cursor = TaskCursor::after(&task(), TaskSort::Title, SortOrder::Asc).encode();
        assert!(TaskListQuery::parse([("sort", "title"), ("cursor", cursor.as_str())]).is_ok());
        for other in [
            vec![("sort", "title"), ("order", "desc")],
            vec![("sort", "due_date")],
            vec![],
        ] {
            let mut pairs = other.clone();
            pairs.push(("cursor", cursor.as_str()));
            let errors = TaskListQuery::parse(pairs).unwrap_err();
            assert_eq!(
                errors.for_field("cursor").collect::<Vec<_>>(),
                [&Invalid::CursorMismatch],
                "{other:?}"
            );
        }
    }

    #[test]
    fn tampered_or_foreign_cursors_are_refused() {
        let good = TaskCursor::after(&task(), TaskSort::CreatedAt, SortOrder::Desc).encode();
        let rewrap = |json: Value| URL_SAFE_NO_PAD.encode(json.to_string());
        let id = task().id.to_string();
        let bad = [
            "not base64!".to_owned(),
            good[..good.len() - 3].to_owned(),
            format!("{good}=="),
            URL_SAFE_NO_PAD.encode("not json"),
            rewrap(
                json!({"v": 1, "list": "audit", "sort": "created_at", "order": "desc",
                          "key": "2026-01-08T12:34:56Z", "id": id}),
            ),
            rewrap(
                json!({"v": 2, "list": "tasks", "sort": "created_at", "order": "desc",
                          "key": "2026-01-08T12:34:56Z", "id": id}),
            ),
            rewrap(
                json!({"v": 1, "list": "tasks", "sort": "created_at", "order": "desc",
                          "key": "yesterday", "id": id}),
            ),
            rewrap(
                json!({"v": 1, "list": "tasks", "sort": "title", "order": "asc",
                          "key": "x".repeat(501), "id": id}),
            ),
            rewrap(
                json!({"v": 1, "list": "tasks", "sort": "priority", "order": "asc",
                          "key": "urgent", "id": id}),
            ),
            rewrap(
                json!({"v": 1, "list": "tasks", "sort": "created_at", "order": "desc",
                          "key": "2026-01-08T12:34:56Z", "id": id, "user_id": id}),
            ),
            "A".repeat(5000),
        ];
        for text in bad {
            assert_eq!(TaskCursor::decode(&text), Err(CURSOR_EXPECTED), "{text}");
        }
        assert!(TaskCursor::decode(&good).is_ok());
    }

    #[test]
    fn filters_mean_what_their_docs_say() {
        let now = at("2026-01-10T00:00:00Z");
        let mut t = task();
        t.description = Some(crate::task::Description::parse("Whole MILK").unwrap());
        t.tags = Tags::parse(["Work"]).unwrap();
        t.due_date = Some(at("2026-01-09T00:00:00Z"));
        let yes = |q: &str| query(q).unwrap().matches(&t, now);
        assert!(yes("status=open") && !yes("status=completed"));
        assert!(yes("q=milk") && yes("q=BUY") && !yes("q=bread"));
        assert!(yes("tag=work") && !yes("tag=work&tag=home"));
        assert!(yes("due_after=2026-01-09T00:00:00Z") && !yes("due_before=2026-01-09T00:00:00Z"));
        assert!(yes("overdue=true") && yes("overdue=false"));
        assert!(yes("priority=medium") && !yes("priority=low"));
        assert!(yes("is_recurring=false") && !yes("is_recurring=true"));
        t.due_date = None;
        assert!(
            !query("due_after=2026-01-01T00:00:00Z")
                .unwrap()
                .matches(&t, now)
        );
        assert!(!query("overdue=true").unwrap().matches(&t, now));
    }

    // Property tests: cursors survive the trip through text, and paging through a list with
    // them visits every task exactly once, in order.

    fn arb_task() -> impl Strategy<Value = Task> {
        (
            any::<u128>(),
            prop::option::of(0i64..5),
            0usize..3,
            0i64..4,
            "[a-cA-C é]{1,3}",
        )
            .prop_map(|(id, due, priority, created, title)| {
                let mut t = task();
                t.id = TaskId::from(Uuid::from_u128(id));
                // Few distinct values, so ties (broken by id) are common.
                t.due_date = due.map(|d| plus_micros(at("2026-01-01T00:00:00Z"), d));
                t.priority = Priority::ALL[priority];
                t.created_at = plus_micros(at("2026-01-01T00:00:00Z"), created * 1_000_001);
                t.title =
                    TaskTitle::parse(&title).unwrap_or_else(|_| TaskTitle::parse("x").unwrap());
                t
            })
    }

    fn arb_sort() -> impl Strategy<Value = (TaskSort, SortOrder)> {
        (
            prop::sample::select(TaskSort::ALL.to_vec()),
            prop::bool::ANY.prop_map(|asc| if asc { SortOrder::Asc } else { SortOrder::Desc }),
        )
    }

    fn plus_micros(t: Timestamp, micros: i64) -> Timestamp {
        Timestamp::from_datetime(t.as_datetime() + chrono::Duration::microseconds(micros))
    }

    proptest! {
        #[test]
        fn a_cursor_decodes_to_what_was_encoded(t in arb_task(), (sort, order) in arb_sort()) {
            let cursor = TaskCursor::after(&t, sort, order);
            let text = cursor.encode();
            prop_assert!(text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'));
            prop_assert_eq!(TaskCursor::decode(&text), Ok(cursor));
        }

        #[test]
        fn paging_with_cursors_visits_every_task_once_in_order(
            tasks in prop::collection::vec(arb_task(), 0..30),
            (sort, order) in arb_sort(),
            page in 1u32..7,
        ) {
            let limit = page.to_string();
            let first = TaskListQuery::parse([
                ("sort", sort.as_str()), ("order", order.as_str()), ("limit", limit.as_str()),
            ]).unwrap();
            let mut expected = tasks.clone();
            expected.sort_by(|a, b| first.compare(a, b));
            expected.dedup_by_key(|t| t.id);

            let mut seen: Vec<Task> = Vec::new();
            let mut q = first.clone();
            loop {
                // What the store's SQL does: filter past the cursor, sort, take a page.
                let mut rest: Vec<&Task> = expected
                    .iter()
                    .filter(|t| q.cursor().is_none_or(|c| c.is_before(t)))
                    .collect();
                rest.sort_by(|a, b| q.compare(a, b));
                let page: Vec<Task> = rest.into_iter().take(q.limit() as usize).cloned().collect();
                let Some(last) = page.last() else { break };
                let next = q.next_cursor(last).encode();
                seen.extend(page);
                q = TaskListQuery::parse([
                    ("sort", sort.as_str()), ("order", order.as_str()),
                    ("limit", limit.as_str()), ("cursor", next.as_str()),
                ]).unwrap();
            }
            prop_assert_eq!(seen, expected);
        }
    }
}
