//! The `migrate` component: brings the database schema up to date, then exits.
//!
//! It is a command-trigger component (a `wasi:cli/run` program): `spin up --component-id migrate`
//! locally, a Kubernetes Job on SpinKube. It reads `db_url`, takes a PostgreSQL advisory lock so
//! that concurrent runs queue instead of racing, creates `schema_migrations` on first use,
//! checks the recorded history against the files built into it, and applies each pending file
//! in its own transaction together with its `schema_migrations` row. It prints what it did and
//! exits non-zero on any failure, so a Job or CI step fails visibly.
//!
//! # Layout
//!
//! - [`catalog`]: the embedded `migrations/NNNN_name.sql` files, parsed and checksummed.
//! - [`statements`]: splitting a file into statements (Spin sends one statement per call).
//! - [`plan`]: comparing the files with the recorded history; refusing on any disagreement.
//! - [`store`]: the SQL, over Spin's `pg4` interface.

use std::process::ExitCode;
use std::time::Instant;

use anyhow::Context;

mod catalog;
mod plan;
mod statements;
mod store;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/migrations.rs"));
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("migrate: failed: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> anyhow::Result<()> {
    let migrations =
        catalog::load(embedded::FILES).context("the migrations built into this component")?;
    let store = store::Store::open()?;
    store.lock()?;
    let outcome = migrate(&store, &migrations);
    // Release the lock whatever happened: the pooled session outlives this component.
    let released = store.unlock();
    outcome?;
    released
}

fn migrate(store: &store::Store, migrations: &[catalog::Migration]) -> anyhow::Result<()> {
    store.ensure_version_table()?;
    let applied = store.applied()?;
    let plan = plan::plan(migrations, &applied)?;

    match plan.current {
        None => println!("migrate: no migration applied yet"),
        Some(version) => println!("migrate: database at version {version}"),
    }
    let Some(last) = plan.pending.last() else {
        println!("migrate: up to date");
        return Ok(());
    };
    let target = last.version;
    println!(
        "migrate: applying {} migration(s) up to version {target}",
        plan.pending.len()
    );
    for migration in &plan.pending {
        let started = Instant::now();
        store
            .apply(migration)
            .with_context(|| format!("applying {} (rolled back)", migration.label()))?;
        println!(
            "migrate: applied {} ({} statements, {} ms)",
            migration.label(),
            migration.statements.len(),
            started.elapsed().as_millis()
        );
    }
    println!("migrate: database at version {target}");
    Ok(())
}
