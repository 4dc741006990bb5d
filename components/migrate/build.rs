//! Embeds every `migrations/NNNN_name.sql` file of the repository into the component.
//!
//! The list is generated so that adding a migration needs no code change; names are checked at
//! run time (and by the `embedded_migrations_are_valid` test), where the errors are clearer.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::{env, fs};

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let migrations = manifest_dir.join("../../migrations");
    // A directory here makes cargo rerun this script when any file in it changes.
    println!("cargo::rerun-if-changed={}", migrations.display());

    let mut files: Vec<(String, PathBuf)> = fs::read_dir(&migrations)
        .unwrap_or_else(|err| panic!("reading {}: {err}", migrations.display()))
        .map(|entry| entry.expect("a readable directory entry").path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "sql"))
        .map(|path| {
            let name = path
                .file_name()
                .and_then(|name| name.to_str())
                .unwrap_or_else(|| panic!("{} is not valid UTF-8", path.display()))
                .to_owned();
            let path = path
                .canonicalize()
                .unwrap_or_else(|err| panic!("resolving {}: {err}", path.display()));
            (name, path)
        })
        .collect();
    files.sort();

    let mut source = String::from(
        "/// Every migration file, as (file name, contents), in file-name order.\n\
         pub const FILES: &[(&str, &str)] = &[\n",
    );
    for (name, path) in &files {
        writeln!(
            source,
            "    ({name:?}, include_str!({:?})),",
            path.display().to_string()
        )
        .expect("writing to a String");
    }
    source.push_str("];\n");

    let out = PathBuf::from(env::var_os("OUT_DIR").expect("set by cargo")).join("migrations.rs");
    fs::write(&out, source).unwrap_or_else(|err| panic!("writing {}: {err}", out.display()));
}
