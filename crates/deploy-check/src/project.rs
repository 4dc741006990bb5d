//! Where things are, and running the external tools the checks need.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Context, Result, bail};

/// The overlays that must render and validate.
pub const OVERLAYS: &[&str] = &["minikube", "cloud"];

/// The environment variable naming a directory of upstream CRD files, when they are not in
/// `../shared/crds` beside the project.
pub const CRDS_DIR_VAR: &str = "TODO_CRDS_DIR";

/// The workspace root (the directory holding `spin.toml`).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .canonicalize()
        .expect("the workspace root exists")
}

/// The directory of upstream CRD files: `$TODO_CRDS_DIR`, else `../shared/crds` beside the
/// project. Fails, saying where it looked, when neither holds CRDs.
pub fn crds_dir() -> Result<PathBuf> {
    crds_dir_from(std::env::var_os(CRDS_DIR_VAR).map(PathBuf::from))
}

/// [`crds_dir`], given the value of [`CRDS_DIR_VAR`].
pub fn crds_dir_from(named: Option<PathBuf>) -> Result<PathBuf> {
    let candidates: Vec<PathBuf> = match named {
        Some(dir) => vec![dir],
        None => vec![root().join("../shared/crds")],
    };
    for dir in &candidates {
        if dir.join("SOURCES.md").is_file() || has_yaml(dir) {
            return Ok(dir.clone());
        }
    }
    bail!(
        "the upstream CRD files are missing: looked in {}. They are the `shared/crds` directory \
         beside the project (see its SOURCES.md); elsewhere, run scripts/fetch-crds.sh DIR (it \
         downloads the same tagged files and checks their SHA-256) and set {CRDS_DIR_VAR}=DIR.",
        candidates
            .iter()
            .map(|dir| dir.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    )
}

fn has_yaml(dir: &Path) -> bool {
    std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .any(|entry| entry.path().extension().is_some_and(|ext| ext == "yaml"))
        })
        .unwrap_or(false)
}

/// Runs `program args...` in the workspace root and returns its output, whatever its exit
/// status. A program that cannot be started fails with `install_hint`.
pub fn run(program: &str, args: &[&str], install_hint: &str) -> Result<Output> {
    Command::new(program)
        .args(args)
        .current_dir(root())
        .output()
        .with_context(|| format!("cannot run `{program}`: {install_hint}"))
}

/// Like [`run`], but a non-zero exit is an error carrying the program's stderr.
pub fn run_ok(program: &str, args: &[&str], install_hint: &str) -> Result<String> {
    let output = run(program, args, install_hint)?;
    if !output.status.success() {
        bail!(
            "`{program} {}` failed ({}):\n{}{}",
            args.join(" "),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    String::from_utf8(output.stdout).context("the tool printed something that is not UTF-8")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_crds_are_reported_with_where_to_get_them() {
        let empty =
            std::env::temp_dir().join(format!("deploy-check-no-crds-{}", std::process::id()));
        std::fs::create_dir_all(&empty).unwrap();
        let error = crds_dir_from(Some(empty.clone())).unwrap_err().to_string();
        std::fs::remove_dir_all(&empty).ok();
        assert!(error.contains("CRD files are missing"), "{error}");
        assert!(error.contains(&empty.display().to_string()), "{error}");
        assert!(error.contains("scripts/fetch-crds.sh"), "{error}");
    }
}
