//! A task's fields, each parsed once at the boundary (and again when read back from a row).

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::field::{FieldErrors, Invalid, expect_string, trimmed_text};

crate::field::uuid_id! {
    /// A task's id.
    TaskId, "Parses the hyphenated form, as in `/api/tasks/{id}`."
}

/// A task's title: trimmed, 1 to 500 characters, on one line (no control characters).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TaskTitle(String);

impl TaskTitle {
    /// The most characters a title may have (the `tasks_title_length` constraint).
    pub const MAX_CHARS: usize = 500;

    /// Trims surrounding whitespace, then checks what is left.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        trimmed_text(raw, Self::MAX_CHARS, &[]).map(Self)
    }

    /// The title.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A task's description: trimmed, at most 10,000 characters; line breaks and tabs allowed,
/// other control characters (NUL above all, which PostgreSQL text cannot hold) not.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Description(String);

impl Description {
    /// The most characters a description may have: a few pages of notes, and a bound on what
    /// every task row, event and list page carries.
    pub const MAX_CHARS: usize = 10_000;

    /// Trims surrounding whitespace, then checks what is left. Blank text is
    /// [`Invalid::Blank`]; request bodies treat it as "no description" before calling this.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        trimmed_text(raw, Self::MAX_CHARS, &['\n', '\r', '\t']).map(Self)
    }

    /// The description.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// How important a task is. There is deliberately no `Default`: a request that leaves the
/// priority out gets [`Priority::Medium`], but nothing else falls back to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "&'static str")]
pub enum Priority {
    /// `low`
    Low,
    /// `medium`
    Medium,
    /// `high`
    High,
}

impl Priority {
    /// Every priority, lowest first.
    pub const ALL: [Priority; 3] = [Priority::Low, Priority::Medium, Priority::High];
    const NAMES: &[&str] = &["low", "medium", "high"];

    /// Parses `low`, `medium` or `high` (lower case, as the API writes them). Anything else is
    /// rejected.
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        match text {
            "low" => Ok(Self::Low),
            "medium" => Ok(Self::Medium),
            "high" => Ok(Self::High),
            _ => Err(Invalid::NotOneOf {
                allowed: Self::NAMES,
            }),
        }
    }

    /// The name the API and the database use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }

    /// 0 for low, 1 for medium, 2 for high: the order of `sort=priority`, which in SQL is
    /// `CASE priority WHEN 'low' THEN 0 WHEN 'medium' THEN 1 ELSE 2 END`.
    pub fn rank(self) -> u8 {
        match self {
            Self::Low => 0,
            Self::Medium => 1,
            Self::High => 2,
        }
    }
}

impl fmt::Display for Priority {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A label on a task: trimmed, 1 to 50 characters, no control characters. Its spelling is kept;
/// [`Tags`] compares tags case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Tag(String);

impl Tag {
    /// The most characters a tag may have.
    pub const MAX_CHARS: usize = 50;

    /// Trims surrounding whitespace, then checks what is left.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        trimmed_text(raw, Self::MAX_CHARS, &[]).map(Self)
    }

    /// The tag as spelled.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form two tags are compared in: lower case.
    pub fn folded(&self) -> String {
        self.0.to_lowercase()
    }
}

/// A task's tags: at most 20, no two the same ignoring case (the first spelling wins), in the
/// order given.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Vec<String>", into = "Vec<String>")]
pub struct Tags(Vec<Tag>);

impl Tags {
    /// The most tags a task may have (after duplicates are dropped).
    pub const MAX_COUNT: usize = 20;

    /// No tags.
    pub fn empty() -> Self {
        Self(Vec::new())
    }

    /// Parses each tag, dropping later duplicates. Problems are named by position: `[2]` for
    /// the third item, and the empty name for too many tags.
    pub fn parse<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let parsed: Vec<Option<Tag>> = items
            .into_iter()
            .enumerate()
            .map(|(i, item)| errors.check(&format!("[{i}]"), Tag::parse(item.as_ref())))
            .collect();
        Self::dedup(parsed.into_iter().flatten(), errors)
    }

    /// Parses a JSON value that should be an array of strings.
    pub(crate) fn parse_json(value: Value) -> Result<Self, FieldErrors> {
        let Value::Array(items) = value else {
            return Err(FieldErrors::single(
                "",
                Invalid::WrongType {
                    expected: "an array of strings",
                },
            ));
        };
        let mut errors = FieldErrors::new();
        let parsed: Vec<Option<Tag>> = items
            .into_iter()
            .enumerate()
            .map(|(i, item)| {
                let tag = expect_string(item).and_then(|text| Tag::parse(&text));
                errors.check(&format!("[{i}]"), tag)
            })
            .collect();
        Self::dedup(parsed.into_iter().flatten(), errors)
    }

    fn dedup(
        tags: impl Iterator<Item = Tag>,
        mut errors: FieldErrors,
    ) -> Result<Self, FieldErrors> {
        let mut seen = HashSet::new();
        let tags: Vec<Tag> = tags.filter(|tag| seen.insert(tag.folded())).collect();
        if tags.len() > Self::MAX_COUNT {
            errors.push(
                "",
                Invalid::TooMany {
                    max: Self::MAX_COUNT,
                },
            );
        }
        if errors.is_empty() {
            Ok(Self(tags))
        } else {
            Err(errors)
        }
    }

    /// The tags, in order.
    pub fn iter(&self) -> std::slice::Iter<'_, Tag> {
        self.0.iter()
    }

    /// How many there are.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// True when there are none.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether one of them is `tag`, ignoring case.
    pub fn contains(&self, tag: &Tag) -> bool {
        let folded = tag.folded();
        self.0.iter().any(|mine| mine.folded() == folded)
    }

    /// The tags as strings, e.g. to bind as a `text[]` parameter.
    pub fn to_strings(&self) -> Vec<String> {
        self.0.iter().map(|tag| tag.0.clone()).collect()
    }
}

impl<'a> IntoIterator for &'a Tags {
    type Item = &'a Tag;
    type IntoIter = std::slice::Iter<'a, Tag>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

// Conversions behind the serde attributes above: deserialising parses (so a consumer that
// reads an event gets checked values), serialising writes the plain string.

crate::field::text_conversions!(TaskTitle, Description, Tag);

impl TryFrom<String> for Priority {
    type Error = Invalid;
    fn try_from(raw: String) -> Result<Self, Invalid> {
        Self::parse(&raw)
    }
}

impl From<Priority> for &'static str {
    fn from(priority: Priority) -> &'static str {
        priority.as_str()
    }
}

impl TryFrom<Vec<String>> for Tags {
    type Error = FieldErrors;
    fn try_from(raw: Vec<String>) -> Result<Self, FieldErrors> {
        Self::parse(raw)
    }
}

impl From<Tags> for Vec<String> {
    fn from(tags: Tags) -> Vec<String> {
        tags.0.into_iter().map(String::from).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_title_is_trimmed() {
        assert_eq!(
            TaskTitle::parse("  Buy milk \n").unwrap().as_str(),
            "Buy milk"
        );
    }

    #[test]
    fn a_blank_title_is_rejected() {
        assert_eq!(TaskTitle::parse(""), Err(Invalid::Blank));
        assert_eq!(TaskTitle::parse(" \t\n "), Err(Invalid::Blank));
    }

    #[test]
    fn a_title_may_have_500_characters_but_not_501() {
        assert!(TaskTitle::parse(&"é".repeat(500)).is_ok());
        assert_eq!(
            TaskTitle::parse(&"é".repeat(501)),
            Err(Invalid::TooLong { max: 500 })
        );
    }

    #[test]
    fn a_title_with_a_line_break_or_nul_inside_is_rejected() {
        assert_eq!(TaskTitle::parse("a\nb"), Err(Invalid::ControlCharacter));
        assert_eq!(TaskTitle::parse("a\0b"), Err(Invalid::ControlCharacter));
    }

    #[test]
    fn a_description_keeps_its_inner_line_breaks_but_not_nul() {
        let d = Description::parse("\n line one\n\tline two \n").unwrap();
        assert_eq!(d.as_str(), "line one\n\tline two");
        assert_eq!(Description::parse("a\0"), Err(Invalid::ControlCharacter));
        assert_eq!(
            Description::parse(&"x".repeat(10_001)),
            Err(Invalid::TooLong { max: 10_000 })
        );
    }

    #[test]
    fn priorities_are_low_medium_or_high_and_nothing_else() {
        assert_eq!(Priority::parse("high"), Ok(Priority::High));
        for bad in ["High", "urgent", "", " low"] {
            assert!(Priority::parse(bad).is_err(), "{bad:?}");
        }
        for p in Priority::ALL {
            assert_eq!(Priority::parse(p.as_str()), Ok(p));
        }
        assert!(Priority::Low.rank() < Priority::Medium.rank());
        assert!(Priority::Medium.rank() < Priority::High.rank());
    }

    #[test]
    fn tags_are_trimmed_and_deduplicated_ignoring_case_keeping_the_first_spelling_and_order() {
        let tags = Tags::parse([" Work", "home", "WORK", "Home ", "errands"]).unwrap();
        let names: Vec<_> = tags.iter().map(Tag::as_str).collect();
        assert_eq!(names, ["Work", "home", "errands"]);
        assert!(tags.contains(&Tag::parse("ERRANDS").unwrap()));
    }

    #[test]
    fn every_bad_tag_is_reported_by_position() {
        let long = "x".repeat(51);
        let errors = Tags::parse(["ok", " ", long.as_str()]).unwrap_err();
        let found: Vec<_> = errors
            .iter()
            .map(|e| (e.field().to_owned(), e.problem().clone()))
            .collect();
        assert_eq!(
            found,
            [
                ("[1]".to_owned(), Invalid::Blank),
                ("[2]".to_owned(), Invalid::TooLong { max: 50 })
            ]
        );
    }

    #[test]
    fn at_most_twenty_distinct_tags_are_allowed_counting_after_duplicates_are_dropped() {
        let twenty: Vec<String> = (0..20).map(|i| format!("t{i}")).collect();
        let mut with_dupes = twenty.clone();
        with_dupes.push("T0".to_owned());
        assert_eq!(Tags::parse(&with_dupes).unwrap().len(), 20);
        let mut too_many = twenty;
        too_many.push("t20".to_owned());
        assert_eq!(
            Tags::parse(&too_many).unwrap_err().for_field("").next(),
            Some(&Invalid::TooMany { max: 20 })
        );
    }

    #[test]
    fn tags_that_are_not_strings_are_reported_by_position() {
        let errors = Tags::parse_json(serde_json::json!(["a", 3])).unwrap_err();
        assert_eq!(
            errors.for_field("[1]").next(),
            Some(&Invalid::WrongType {
                expected: "a string"
            })
        );
        assert!(Tags::parse_json(serde_json::json!("a")).is_err());
    }

    #[test]
    fn an_id_is_accepted_only_in_its_hyphenated_form() {
        let id = "0f8b5a52-8f0c-4e5e-9a39-3f9c2f5a1d01";
        assert_eq!(TaskId::parse(id).unwrap().to_string(), id);
        assert_eq!(
            TaskId::parse(&id.to_uppercase()).unwrap().to_string(),
            id,
            "written back in lower case"
        );
        assert!(TaskId::parse("0f8b5a528f0c4e5e9a393f9c2f5a1d01").is_err());
        assert!(TaskId::parse("not-a-uuid").is_err());
    }

    #[test]
    fn deserialising_checks_values_like_parse_does() {
        assert!(serde_json::from_str::<TaskTitle>(r#"" ""#).is_err());
        assert!(serde_json::from_str::<Priority>(r#""urgent""#).is_err());
        assert_eq!(serde_json::to_string(&Priority::High).unwrap(), r#""high""#);
        let tags: Tags = serde_json::from_str(r#"["a", "A", "b"]"#).unwrap();
        assert_eq!(serde_json::to_string(&tags).unwrap(), r#"["a","b"]"#);
    }

    proptest! {
        #[test]
        fn surrounding_whitespace_never_changes_a_title(
            core in "[^\\p{Cc}]{0,20}", left in "[ \t\n\r]{0,5}", right in "[ \t\n\r]{0,5}",
        ) {
            let padded = format!("{left}{core}{right}");
            prop_assert_eq!(TaskTitle::parse(&padded), TaskTitle::parse(&core));
        }

        #[test]
        fn a_title_is_accepted_exactly_when_its_trimmed_length_is_1_to_500(
            text in "[a-zé ]{0,520}",
        ) {
            let chars = text.trim().chars().count();
            match TaskTitle::parse(&text) {
                Ok(title) => {
                    prop_assert!((1..=500).contains(&chars));
                    prop_assert_eq!(title.as_str(), text.trim());
                }
                Err(Invalid::Blank) => prop_assert_eq!(chars, 0),
                Err(Invalid::TooLong { max: 500 }) => prop_assert!(chars > 500),
                Err(other) => prop_assert!(false, "unexpected {other:?}"),
            }
        }

        #[test]
        fn a_parsed_title_parses_again_to_itself(text in "\\PC{0,40}") {
            if let Ok(title) = TaskTitle::parse(&text) {
                prop_assert_eq!(TaskTitle::parse(title.as_str()), Ok(title.clone()));
            }
        }
    }
}
