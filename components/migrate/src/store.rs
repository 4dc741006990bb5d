//! The migration runner's SQL, over Spin's PostgreSQL interface.
//!
//! Everything runs on one [`Connection`], which holds one pooled client for its lifetime: the
//! session-level advisory lock taken on it is therefore held for the whole run, and
//! `BEGIN`/`COMMIT` on it frame each migration. The lock is released explicitly, because the
//! pooled client outlives the component.

use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use platform::db::{self, Connection, DbError};
use spin_sdk::pg4::{Decode, ParameterValue};

use crate::catalog::Migration;
use crate::plan::Applied;

/// The advisory-lock key that serialises migration runs: the ASCII bytes of `todo-mig`. Any
/// number works as long as nothing else in the database uses it.
const MIGRATION_LOCK: i64 = 0x746f_646f_2d6d_6967;

/// How long to wait for another run to finish before giving up.
const LOCK_WAIT: Duration = Duration::from_secs(300);
const LOCK_POLL: Duration = Duration::from_millis(250);

const CREATE_VERSION_TABLE: &str = "\
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer     PRIMARY KEY,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)";

const SELECT_APPLIED: &str =
    "SELECT version, name, checksum FROM schema_migrations ORDER BY version";

const INSERT_APPLIED: &str =
    "INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)";

/// The database being migrated.
pub struct Store {
    conn: Connection,
}

impl Store {
    /// Connects to the database named by the `db_url` variable.
    pub fn open() -> anyhow::Result<Self> {
        Ok(Self { conn: db::open()? })
    }

    /// Takes the migration lock, waiting (up to [`LOCK_WAIT`]) while another run holds it.
    ///
    /// Polling `pg_try_advisory_lock` rather than blocking in `pg_advisory_lock` lets a stuck run
    /// elsewhere end in a clear error instead of a silent hang.
    pub fn lock(&self) -> anyhow::Result<()> {
        let started = Instant::now();
        let mut announced = false;
        loop {
            let rows = self
                .conn
                .query(
                    "SELECT pg_try_advisory_lock($1)",
                    &[ParameterValue::Int64(MIGRATION_LOCK)],
                )
                .map_err(|err| DbError::postgres("taking the migration lock", err))?;
            if single_bool(&rows).context("reading pg_try_advisory_lock")? {
                return Ok(());
            }
            if started.elapsed() >= LOCK_WAIT {
                bail!(
                    "another migration run has held the advisory lock {MIGRATION_LOCK} for over {} s; \
                     see pg_locks where locktype = 'advisory'",
                    LOCK_WAIT.as_secs()
                );
            }
            if !announced {
                println!("migrate: waiting for another migration run to finish");
                announced = true;
            }
            thread::sleep(LOCK_POLL);
        }
    }

    /// Releases the migration lock.
    pub fn unlock(&self) -> anyhow::Result<()> {
        let rows = self
            .conn
            .query(
                "SELECT pg_advisory_unlock($1)",
                &[ParameterValue::Int64(MIGRATION_LOCK)],
            )
            .map_err(|err| DbError::postgres("releasing the migration lock", err))?;
        if !single_bool(&rows).context("reading pg_advisory_unlock")? {
            bail!("the migration lock was not held when releasing it");
        }
        Ok(())
    }

    /// Creates `schema_migrations` if this is the first run.
    pub fn ensure_version_table(&self) -> anyhow::Result<()> {
        self.conn
            .execute(CREATE_VERSION_TABLE, &[])
            .map_err(|err| DbError::postgres("creating schema_migrations", err))?;
        Ok(())
    }

    /// The migrations recorded as applied.
    pub fn applied(&self) -> anyhow::Result<Vec<Applied>> {
        let rows = self
            .conn
            .query(SELECT_APPLIED, &[])
            .map_err(|err| DbError::postgres("reading schema_migrations", err))?;
        rows.rows
            .iter()
            .map(|row| -> anyhow::Result<Applied> {
                Ok(Applied {
                    version: i32::decode(&row[0])?,
                    name: String::decode(&row[1])?,
                    checksum: String::decode(&row[2])?,
                })
            })
            .collect::<anyhow::Result<_>>()
            .context("decoding schema_migrations")
    }

    /// Applies `migration` and records it, in one transaction: either both happen or neither.
    pub fn apply(&self, migration: &Migration) -> anyhow::Result<()> {
        db::transaction(&self.conn, |conn| -> anyhow::Result<()> {
            for (index, statement) in migration.statements.iter().enumerate() {
                conn.execute(statement, &[]).map_err(|err| {
                    anyhow::anyhow!(
                        "statement {} of {} (`{}`) failed: {}",
                        index + 1,
                        migration.statements.len(),
                        excerpt(statement),
                        db::describe(&err)
                    )
                })?;
            }
            conn.execute(
                INSERT_APPLIED,
                &[
                    ParameterValue::Int32(migration.version),
                    ParameterValue::Str(migration.name.clone()),
                    ParameterValue::Str(migration.checksum.clone()),
                ],
            )
            .map_err(|err| DbError::postgres("recording the migration", err))?;
            Ok(())
        })
    }
}

fn single_bool(rows: &spin_sdk::pg4::RowSet) -> anyhow::Result<bool> {
    let value = rows
        .rows
        .first()
        .and_then(|row| row.first())
        .context("no row returned")?;
    Ok(bool::decode(value)?)
}

/// The first line of a statement, shortened, for error messages.
fn excerpt(statement: &str) -> String {
    let first_line = statement.lines().next().unwrap_or("");
    let mut excerpt: String = first_line.chars().take(80).collect();
    if excerpt.len() < statement.len() {
        excerpt.push_str(" ...");
    }
    excerpt
}
