//! Deciding what to apply: the migrations this build has, against those the database records.
//!
//! Migrations are forward-only and never edited once landed, so the comparison is strict. An
//! applied migration whose file changed (checksum) or was renamed, or that this build does not
//! have at all, stops the run before anything is applied: the database and the code disagree
//! about history, and a person has to decide which one is right.

use std::collections::BTreeMap;
use std::fmt;

use crate::catalog::Migration;

/// A row of `schema_migrations`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The migration's version.
    pub version: i32,
    /// Its name when it was applied.
    pub name: String,
    /// Its checksum when it was applied.
    pub checksum: String,
}

/// One disagreement between the database's history and this build's files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Conflict {
    /// The file of an applied migration was edited.
    ChecksumChanged {
        /// `0001_name` of the migration.
        label: String,
        /// The checksum recorded when it was applied.
        applied: String,
        /// The checksum of the file now.
        now: String,
    },
    /// The file of an applied migration was renamed.
    Renamed {
        /// The version.
        version: i32,
        /// The name recorded when it was applied.
        applied: String,
        /// The name of the file now.
        now: String,
    },
    /// The database has a migration this build does not (a newer build applied it, or a file
    /// was deleted).
    Unknown {
        /// The version.
        version: i32,
        /// The name it was applied under.
        name: String,
    },
}

impl fmt::Display for Conflict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::ChecksumChanged {
                label,
                applied,
                now,
            } => write!(
                f,
                "migration {label} was edited after it was applied (checksum {applied} when applied, {now} now); \
                 restore the file and put the change in a new migration"
            ),
            Self::Renamed {
                version,
                applied,
                now,
            } => write!(
                f,
                "migration {version:04} was applied as `{applied}` but its file is now named `{now}`; restore the name"
            ),
            Self::Unknown { version, name } => write!(
                f,
                "the database has migration {version:04}_{name}, which this build does not contain; \
                 run a build that has it"
            ),
        }
    }
}

/// Every conflict found, so that one run reports them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflicts(pub Vec<Conflict>);

impl fmt::Display for Conflicts {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "refusing to migrate:")?;
        for conflict in &self.0 {
            write!(f, "\n  - {conflict}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Conflicts {}

/// What a run will do.
#[derive(Debug, PartialEq, Eq)]
pub struct Plan<'a> {
    /// The highest applied version, if any.
    pub current: Option<i32>,
    /// The migrations to apply, in version order.
    pub pending: Vec<&'a Migration>,
}

/// Compares `migrations` (ordered by version, as `catalog::load` returns them) with `applied`.
pub fn plan<'a>(migrations: &'a [Migration], applied: &[Applied]) -> Result<Plan<'a>, Conflicts> {
    let applied_by_version: BTreeMap<i32, &Applied> =
        applied.iter().map(|row| (row.version, row)).collect();
    let known: BTreeMap<i32, &Migration> = migrations.iter().map(|m| (m.version, m)).collect();

    let mut conflicts = Vec::new();
    for row in applied_by_version.values() {
        match known.get(&row.version) {
            None => conflicts.push(Conflict::Unknown {
                version: row.version,
                name: row.name.clone(),
            }),
            Some(migration) => {
                if migration.name != row.name {
                    conflicts.push(Conflict::Renamed {
                        version: row.version,
                        applied: row.name.clone(),
                        now: migration.name.clone(),
                    });
                }
                if migration.checksum != row.checksum {
                    conflicts.push(Conflict::ChecksumChanged {
                        label: migration.label(),
                        applied: row.checksum.clone(),
                        now: migration.checksum.clone(),
                    });
                }
            }
        }
    }
    if !conflicts.is_empty() {
        return Err(Conflicts(conflicts));
    }

    Ok(Plan {
        current: applied_by_version.keys().next_back().copied(),
        pending: migrations
            .iter()
            .filter(|m| !applied_by_version.contains_key(&m.version))
            .collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn migration(version: i32, name: &str, checksum: &str) -> Migration {
        Migration {
            version,
            name: name.to_owned(),
            checksum: checksum.to_owned(),
            statements: vec!["SELECT 1"],
        }
    }

    fn applied(version: i32, name: &str, checksum: &str) -> Applied {
        Applied {
            version,
            name: name.to_owned(),
            checksum: checksum.to_owned(),
        }
    }

    #[test]
    fn a_fresh_database_gets_every_migration_in_order() {
        let migrations = [migration(1, "a", "x"), migration(2, "b", "y")];
        let plan = plan(&migrations, &[]).unwrap();
        assert_eq!(plan.current, None);
        assert_eq!(plan.pending, [&migrations[0], &migrations[1]]);
    }

    #[test]
    fn an_up_to_date_database_gets_nothing() {
        let migrations = [migration(1, "a", "x"), migration(2, "b", "y")];
        let plan = plan(&migrations, &[applied(1, "a", "x"), applied(2, "b", "y")]).unwrap();
        assert_eq!(plan.current, Some(2));
        assert!(plan.pending.is_empty());
    }

    #[test]
    fn only_the_missing_migrations_are_pending() {
        let migrations = [
            migration(1, "a", "x"),
            migration(2, "b", "y"),
            migration(3, "c", "z"),
        ];
        let plan = plan(&migrations, &[applied(1, "a", "x")]).unwrap();
        assert_eq!(plan.current, Some(1));
        assert_eq!(plan.pending, [&migrations[1], &migrations[2]]);
    }

    #[test]
    fn an_edited_migration_stops_the_run() {
        let migrations = [migration(1, "a", "new"), migration(2, "b", "y")];
        assert_eq!(
            plan(&migrations, &[applied(1, "a", "old")]).unwrap_err(),
            Conflicts(vec![Conflict::ChecksumChanged {
                label: "0001_a".to_owned(),
                applied: "old".to_owned(),
                now: "new".to_owned(),
            }])
        );
    }

    #[test]
    fn a_renamed_migration_stops_the_run() {
        let migrations = [migration(1, "renamed", "x")];
        assert_eq!(
            plan(&migrations, &[applied(1, "a", "x")]).unwrap_err(),
            Conflicts(vec![Conflict::Renamed {
                version: 1,
                applied: "a".to_owned(),
                now: "renamed".to_owned(),
            }])
        );
    }

    #[test]
    fn a_database_ahead_of_the_build_stops_the_run() {
        let migrations = [migration(1, "a", "x")];
        let err = plan(&migrations, &[applied(1, "a", "x"), applied(2, "b", "y")]).unwrap_err();
        assert_eq!(
            err,
            Conflicts(vec![Conflict::Unknown {
                version: 2,
                name: "b".to_owned(),
            }])
        );
        assert!(err.to_string().contains("0002_b"));
    }

    #[test]
    fn every_conflict_is_reported_at_once() {
        let migrations = [migration(1, "a", "changed"), migration(2, "b", "y")];
        let err = plan(
            &migrations,
            &[
                applied(1, "a", "x"),
                applied(2, "bee", "y"),
                applied(7, "g", "q"),
            ],
        )
        .unwrap_err();
        assert_eq!(err.0.len(), 3);
    }
}
