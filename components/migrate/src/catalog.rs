//! The migrations this build knows: parsed from the embedded `migrations/` files.
//!
//! A file is `NNNN_name.sql`: at least four digits of version (so that file-name order is version
//! order), an underscore, and a lower-case `snake_case` name. Its checksum is the SHA-256 of its
//! text with line endings normalised to `\n`, so a checkout that converts line endings does not
//! look like an edit.

use std::fmt;

use sha2::{Digest, Sha256};

use crate::statements::{self, SplitError};

/// One migration file, ready to apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Migration {
    /// The number that orders it and identifies it in `schema_migrations`.
    pub version: i32,
    /// The file name without the version and extension, e.g. `users_and_tasks`.
    pub name: String,
    /// Lower-case hex SHA-256 of the normalised text.
    pub checksum: String,
    /// The statements to send, in order.
    pub statements: Vec<&'static str>,
}

impl Migration {
    /// `0001_users_and_tasks`: how the migration is named in messages.
    pub fn label(&self) -> String {
        format!("{:04}_{}", self.version, self.name)
    }
}

/// Why the embedded files do not form a valid list of migrations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogError {
    /// The file name does not follow `NNNN_name.sql`.
    BadFileName {
        /// The offending file name.
        file: String,
    },
    /// Two files share a version.
    DuplicateVersion {
        /// The shared version.
        version: i32,
        /// Both file names.
        files: [String; 2],
    },
    /// The SQL could not be split into statements.
    Unsplittable {
        /// The file.
        file: String,
        /// Why.
        error: SplitError,
    },
    /// The file has no statement at all.
    Empty {
        /// The file.
        file: String,
    },
    /// The file manages transactions itself; the runner wraps each file in one.
    TransactionControl {
        /// The file.
        file: String,
        /// The statement's first word.
        keyword: String,
    },
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BadFileName { file } => write!(
                f,
                "migrations/{file}: migration files are named NNNN_snake_case_name.sql (at least four digits, version above 0)"
            ),
            Self::DuplicateVersion { version, files } => write!(
                f,
                "migrations/{} and migrations/{} both have version {version}",
                files[0], files[1]
            ),
            Self::Unsplittable { file, error } => write!(f, "migrations/{file}: {error}"),
            Self::Empty { file } => write!(f, "migrations/{file} has no SQL statement"),
            Self::TransactionControl { file, keyword } => write!(
                f,
                "migrations/{file}: remove the {keyword} statement; each migration already runs in its own transaction"
            ),
        }
    }
}

impl std::error::Error for CatalogError {}

/// Parses `NNNN_name.sql` into its version and name.
pub fn parse_file_name(file: &str) -> Option<(i32, &str)> {
    let stem = file.strip_suffix(".sql")?;
    let (digits, name) = stem.split_once('_')?;
    let well_formed = digits.len() >= 4
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
        && name.bytes().next().is_some_and(|b| b.is_ascii_lowercase());
    if !well_formed {
        return None;
    }
    let version: i32 = digits.parse().ok()?;
    (version > 0).then_some((version, name))
}

/// The checksum recorded for a migration's text.
pub fn checksum(sql: &str) -> String {
    let normalised = sql.replace("\r\n", "\n");
    Sha256::digest(normalised.as_bytes())
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

/// The migrations in `files` (file name, contents), ordered by version.
pub fn load(files: &[(&str, &'static str)]) -> Result<Vec<Migration>, CatalogError> {
    let mut migrations: Vec<(Migration, &str)> = Vec::with_capacity(files.len());
    for &(file, sql) in files {
        let (version, name) = parse_file_name(file).ok_or_else(|| CatalogError::BadFileName {
            file: file.to_owned(),
        })?;
        let statements = statements::split(sql).map_err(|error| CatalogError::Unsplittable {
            file: file.to_owned(),
            error,
        })?;
        if statements.is_empty() {
            return Err(CatalogError::Empty {
                file: file.to_owned(),
            });
        }
        if let Some(keyword) = statements.iter().find_map(|s| transaction_keyword(s)) {
            return Err(CatalogError::TransactionControl {
                file: file.to_owned(),
                keyword: keyword.to_owned(),
            });
        }
        migrations.push((
            Migration {
                version,
                name: name.to_owned(),
                checksum: checksum(sql),
                statements,
            },
            file,
        ));
    }
    migrations.sort_by_key(|(migration, _)| migration.version);
    for pair in migrations.windows(2) {
        if pair[0].0.version == pair[1].0.version {
            return Err(CatalogError::DuplicateVersion {
                version: pair[0].0.version,
                files: [pair[0].1.to_owned(), pair[1].1.to_owned()],
            });
        }
    }
    Ok(migrations
        .into_iter()
        .map(|(migration, _)| migration)
        .collect())
}

/// The first word of `statement` when it opens, ends or aborts a transaction.
fn transaction_keyword(statement: &str) -> Option<&str> {
    let word = statement
        .split(|c: char| c.is_whitespace() || c == ';')
        .next()
        .unwrap_or("");
    ["BEGIN", "START", "COMMIT", "END", "ROLLBACK", "ABORT"]
        .into_iter()
        .any(|keyword| word.eq_ignore_ascii_case(keyword))
        .then_some(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_give_version_and_name() {
        assert_eq!(
            parse_file_name("0001_users_and_tasks.sql"),
            Some((1, "users_and_tasks"))
        );
        assert_eq!(parse_file_name("0042_v2_index.sql"), Some((42, "v2_index")));
        assert_eq!(parse_file_name("12345_big.sql"), Some((12345, "big")));
    }

    #[test]
    fn malformed_file_names_are_rejected() {
        for bad in [
            "001_short.sql",
            "0000_zero.sql",
            "0001_Upper.sql",
            "0001_with-dash.sql",
            "0001_.sql",
            "0001_9starts_with_digit.sql",
            "0001users.sql",
            "0001_users.SQL",
            "abcd_users.sql",
            "99999999999_overflow.sql",
        ] {
            assert_eq!(parse_file_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn checksums_ignore_line_ending_style_but_not_content() {
        assert_eq!(checksum("SELECT 1;\n"), checksum("SELECT 1;\r\n"));
        assert_ne!(checksum("SELECT 1;\n"), checksum("SELECT 2;\n"));
        assert_eq!(
            checksum(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }

    #[test]
    fn migrations_are_ordered_by_version_whatever_the_input_order() {
        let migrations = load(&[("0010_b.sql", "SELECT 2;"), ("0002_a.sql", "SELECT 1;")]).unwrap();
        let versions: Vec<i32> = migrations.iter().map(|m| m.version).collect();
        assert_eq!(versions, [2, 10]);
        assert_eq!(migrations[0].label(), "0002_a");
        assert_eq!(migrations[0].statements, ["SELECT 1"]);
    }

    #[test]
    fn two_files_with_one_version_are_rejected() {
        assert_eq!(
            load(&[("0001_a.sql", "SELECT 1;"), ("00001_b.sql", "SELECT 2;")]).unwrap_err(),
            CatalogError::DuplicateVersion {
                version: 1,
                files: ["0001_a.sql".to_owned(), "00001_b.sql".to_owned()],
            }
        );
    }

    #[test]
    fn files_that_manage_their_own_transaction_are_rejected() {
        let err = load(&[("0001_a.sql", "BEGIN;\nCREATE TABLE t (x int);\nCOMMIT;")]).unwrap_err();
        assert_eq!(
            err,
            CatalogError::TransactionControl {
                file: "0001_a.sql".to_owned(),
                keyword: "BEGIN".to_owned(),
            }
        );
        // A PL/pgSQL BEGIN inside a function body is not a statement of its own.
        assert!(
            load(&[(
                "0001_f.sql",
                "CREATE FUNCTION f() RETURNS void LANGUAGE plpgsql AS $$ BEGIN END $$;"
            )])
            .is_ok()
        );
    }

    #[test]
    fn empty_and_unsplittable_files_are_rejected() {
        assert!(matches!(
            load(&[("0001_a.sql", "-- nothing yet\n")]),
            Err(CatalogError::Empty { .. })
        ));
        assert!(matches!(
            load(&[("0001_a.sql", "SELECT 'open")]),
            Err(CatalogError::Unsplittable { .. })
        ));
    }

    #[test]
    fn embedded_migrations_are_valid() {
        let migrations = load(crate::embedded::FILES).expect("migrations/ must be valid");
        assert!(!migrations.is_empty());
        assert_eq!(migrations[0].version, 1);
    }
}
