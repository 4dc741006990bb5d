//! Splitting a migration file into the statements it contains.
//!
//! Spin's `execute` goes through PostgreSQL's extended protocol, which takes exactly one statement
//! per call, so a file is sent statement by statement. A `;` ends a statement only outside
//! string literals (`'...'`, `E'...'` with backslash escapes), quoted identifiers (`"..."`),
//! comments (`-- ...`, nested `/* ... */`) and dollar-quoted bodies (`$$ ... $$`, `$tag$ ... $tag$`),
//! which is what lets a migration contain a function body.

use std::fmt;

/// Where a file stopped making sense.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitError {
    /// What was left open at the end of the file.
    pub unterminated: &'static str,
    /// The 1-based line it was opened on.
    pub line: usize,
}

impl fmt::Display for SplitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} opened on line {} is never closed",
            self.unterminated, self.line
        )
    }
}

impl std::error::Error for SplitError {}

/// The statements of `sql`, each starting at its first token (comments before it are dropped)
/// and without its terminating `;`. Stretches holding only whitespace and comments are dropped.
pub fn split(sql: &str) -> Result<Vec<&str>, SplitError> {
    let bytes = sql.as_bytes();
    let mut statements = Vec::new();
    // Where the current statement's first token starts; `None` while it has only seen
    // whitespace and comments.
    let mut code_start: Option<usize> = None;
    let mut i = 0;

    while i < bytes.len() {
        let b = bytes[i];
        match b {
            b';' => {
                if let Some(start) = code_start.take() {
                    statements.push(sql[start..i].trim_end());
                }
                i += 1;
            }
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                i = sql[i..].find('\n').map_or(bytes.len(), |end| i + end + 1);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = skip_block_comment(sql, i)?;
            }
            b'\'' => {
                code_start.get_or_insert(i);
                let escapes = is_escape_string_prefix(bytes, i);
                i = skip_quoted(sql, i, b'\'', escapes, "string literal")?;
            }
            b'"' => {
                code_start.get_or_insert(i);
                i = skip_quoted(sql, i, b'"', false, "quoted identifier")?;
            }
            b'$' if !follows_identifier(bytes, i) => {
                code_start.get_or_insert(i);
                i = match dollar_tag(sql, i) {
                    Some(tag) => skip_dollar_quoted(sql, i, tag)?,
                    None => i + 1,
                };
            }
            _ => {
                if !b.is_ascii_whitespace() {
                    code_start.get_or_insert(i);
                }
                i += 1;
            }
        }
    }
    if let Some(start) = code_start {
        statements.push(sql[start..].trim_end());
    }
    Ok(statements)
}

fn line_of(sql: &str, at: usize) -> usize {
    sql[..at].bytes().filter(|&b| b == b'\n').count() + 1
}

fn is_identifier_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$' || !b.is_ascii()
}

fn follows_identifier(bytes: &[u8], i: usize) -> bool {
    i > 0 && is_identifier_byte(bytes[i - 1])
}

/// `E'...'` (or `e'...'`) is a string with C-style backslash escapes, unless the `E` is the end of
/// a longer word such as `SOME'`.
fn is_escape_string_prefix(bytes: &[u8], quote: usize) -> bool {
    quote >= 1 && matches!(bytes[quote - 1], b'E' | b'e') && !follows_identifier(bytes, quote - 1)
}

/// Skips a quoted run opened at `open`, where the quote character doubled stands for itself.
/// Returns the index just past the closing quote.
fn skip_quoted(
    sql: &str,
    open: usize,
    quote: u8,
    backslash_escapes: bool,
    what: &'static str,
) -> Result<usize, SplitError> {
    let bytes = sql.as_bytes();
    let mut i = open + 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if backslash_escapes => i += 2,
            b if b == quote => {
                if bytes.get(i + 1) == Some(&quote) {
                    i += 2;
                } else {
                    return Ok(i + 1);
                }
            }
            _ => i += 1,
        }
    }
    Err(SplitError {
        unterminated: what,
        line: line_of(sql, open),
    })
}

/// Skips a block comment opened at `open`; PostgreSQL block comments nest.
fn skip_block_comment(sql: &str, open: usize) -> Result<usize, SplitError> {
    let bytes = sql.as_bytes();
    let mut depth = 0usize;
    let mut i = open;
    while i + 1 < bytes.len() {
        match (bytes[i], bytes[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    return Ok(i);
                }
            }
            _ => i += 1,
        }
    }
    Err(SplitError {
        unterminated: "block comment",
        line: line_of(sql, open),
    })
}

/// The dollar-quote tag starting at `i` (`$$` or `$name$`), if there is one. `$1` is a parameter.
fn dollar_tag(sql: &str, i: usize) -> Option<&str> {
    let rest = &sql[i + 1..];
    let end = rest.find('$')?;
    let name = &rest[..end];
    let valid = name.is_empty()
        || (name
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic() || b == b'_' || !b.is_ascii())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_' || !b.is_ascii()));
    valid.then(|| &sql[i..i + end + 2])
}

fn skip_dollar_quoted(sql: &str, open: usize, tag: &str) -> Result<usize, SplitError> {
    let body = open + tag.len();
    match sql[body..].find(tag) {
        Some(end) => Ok(body + end + tag.len()),
        None => Err(SplitError {
            unterminated: "dollar-quoted string",
            line: line_of(sql, open),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_are_split_on_semicolons_and_trimmed() {
        assert_eq!(
            split("CREATE TABLE a (x int);\n\nCREATE INDEX a_x ON a (x) ;\n").unwrap(),
            ["CREATE TABLE a (x int)", "CREATE INDEX a_x ON a (x)"]
        );
    }

    #[test]
    fn a_last_statement_needs_no_semicolon() {
        assert_eq!(
            split("SELECT 1; SELECT 2").unwrap(),
            ["SELECT 1", "SELECT 2"]
        );
    }

    #[test]
    fn comments_before_a_statement_are_dropped_and_comments_inside_it_kept() {
        let sql =
            "-- header; with a semicolon\n/* block; */\nSELECT 1 -- trailing;\n;\n-- footer\n";
        assert_eq!(split(sql).unwrap(), ["SELECT 1 -- trailing;"]);
    }

    #[test]
    fn semicolons_inside_literals_and_identifiers_do_not_split() {
        let sql = r#"INSERT INTO "we;ird" VALUES ('a;b', 'it''s; fine'); SELECT 2"#;
        assert_eq!(
            split(sql).unwrap(),
            [
                r#"INSERT INTO "we;ird" VALUES ('a;b', 'it''s; fine')"#,
                "SELECT 2"
            ]
        );
    }

    #[test]
    fn escape_strings_honour_backslashes() {
        let sql = r"SELECT E'a\';b'; SELECT 'c\'; SELECT 3";
        assert_eq!(
            split(sql).unwrap(),
            [r"SELECT E'a\';b'", r"SELECT 'c\'", "SELECT 3"]
        );
    }

    #[test]
    fn a_word_ending_in_e_is_not_an_escape_string() {
        // `some'...'` is not valid SQL, but the splitter must not read `\'` as an escape there.
        assert_eq!(split(r"SELECT some'x\'; SELECT 2").unwrap().len(), 2);
    }

    #[test]
    fn dollar_quoted_bodies_keep_their_semicolons() {
        let sql = "CREATE FUNCTION f() RETURNS int LANGUAGE plpgsql AS $body$\nBEGIN\n  RETURN 1;\nEND;\n$body$;\nSELECT $$;$$;";
        let statements = split(sql).unwrap();
        assert_eq!(statements.len(), 2);
        assert!(statements[0].ends_with("$body$"));
        assert_eq!(statements[1], "SELECT $$;$$");
    }

    #[test]
    fn positional_parameters_and_dollar_identifiers_are_not_dollar_quotes() {
        assert_eq!(
            split("SELECT $1 + a$b FROM t; SELECT 2").unwrap(),
            ["SELECT $1 + a$b FROM t", "SELECT 2"]
        );
    }

    #[test]
    fn nested_block_comments_are_skipped_whole() {
        assert_eq!(
            split("/* outer /* inner; */ still comment; */ SELECT 1;").unwrap(),
            ["SELECT 1"]
        );
    }

    #[test]
    fn unterminated_constructs_are_reported_with_their_line() {
        assert_eq!(
            split("SELECT 1;\nSELECT 'oops;\n").unwrap_err(),
            SplitError {
                unterminated: "string literal",
                line: 2
            }
        );
        assert_eq!(
            split("/* never closed").unwrap_err().unterminated,
            "block comment"
        );
        assert_eq!(
            split("\n\nDO $x$ BEGIN END").unwrap_err(),
            SplitError {
                unterminated: "dollar-quoted string",
                line: 3
            }
        );
    }

    #[test]
    fn an_empty_file_has_no_statements() {
        assert!(split("").unwrap().is_empty());
        assert!(split("  -- nothing\n").unwrap().is_empty());
    }
}
