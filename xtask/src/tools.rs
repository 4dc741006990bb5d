//! The tools the tests need besides Rust: npm packages, two Python tools, Chromium and the
//! upstream CRD files. [`prepare`] installs what is missing and is quick when nothing is.
//!
//! - **npm**: `npm ci` in every folder with a `package.json` (`web`, `crates/deploy-check`) whose
//!   `node_modules` was not installed from the current `package.json` and `package-lock.json`.
//!   `npm ci` installs exactly what the lock file pins and never rewrites it.
//! - **Python**: kubernetes-validate (the deploy checks) and schemathesis (the OpenAPI test) in
//!   one virtualenv, `target/py-tools`, git-ignored with the rest of `target/`.
//! - **Chromium** for the browser tests: Debian's package, installed with apt when missing and
//!   running as root; otherwise the error names the one command to run.
//! - **CRDs** for the deploy checks: `$TODO_CRDS_DIR`, `../shared/crds`, or else
//!   `scripts/fetch-crds.sh` into `target/crds` (pinned files, checked by SHA-256).
//!
//! - **kubectl** is the one tool it cannot install (no distribution package is current); a
//!   warning says so before the run.
//!
//! A stamp file beside each install records what it was made from, so a second run skips it.

use std::ffi::OsString;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::workspace::{Workspace, run};

/// The Python tools and the versions the tests were written against.
const PYTHON_TOOLS: [&str; 2] = ["kubernetes-validate==1.37.0", "schemathesis==4.32.5"];
/// Debian's Chromium, which the browser tests drive with playwright-core.
const CHROMIUM: &str = "/usr/bin/chromium";

/// What the test run needs to find the prepared tools: environment for `cargo test`.
pub struct Prepared {
    /// Variables to set on the `cargo test` command.
    pub env: Vec<(String, OsString)>,
}

/// Installs whatever the tests need that is missing, and says where it is.
pub fn prepare(ws: &Workspace) -> anyhow::Result<Prepared> {
    npm_packages(&ws.root)?;
    let venv = python_tools(&ws.root)?;
    chromium()?;
    if Command::new("kubectl")
        .arg("version")
        .arg("--client")
        .output()
        .is_err()
    {
        println!(
            "xtask: warning: `kubectl` is not installed, so the manifest checks \
             (crates/deploy-check) will fail; install it from https://kubernetes.io/docs/tasks/tools/"
        );
    }
    let mut env = vec![
        (
            "SCHEMATHESIS".to_owned(),
            venv.join("bin/st").into_os_string(),
        ),
        // crates/deploy-check runs `python3 -m kubernetes_validate`: the venv's python first.
        ("PATH".to_owned(), path_with(&venv.join("bin"))?),
    ];
    if let Some(crds) = crds(&ws.root)? {
        env.push(("TODO_CRDS_DIR".to_owned(), crds.into_os_string()));
    }
    Ok(Prepared { env })
}

/// `npm ci` wherever a `package.json` is and its `node_modules` is missing or stale.
fn npm_packages(root: &Path) -> anyhow::Result<()> {
    for dir in ["web", "crates/deploy-check"].map(|dir| root.join(dir)) {
        let manifest = dir.join("package.json");
        if !manifest.is_file() {
            continue;
        }
        let inputs = stamp_of(&[&manifest, &dir.join("package-lock.json")])?;
        let stamp = dir.join("node_modules/.xtask-stamp");
        if fs::read_to_string(&stamp).ok().as_deref() == Some(inputs.as_str()) {
            continue;
        }
        println!("xtask: installing npm packages in {}", dir.display());
        run(Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&dir))
        .context("installing npm packages (Node.js 20.19+ with npm is needed)")?;
        fs::write(&stamp, inputs).with_context(|| format!("writing {}", stamp.display()))?;
    }
    Ok(())
}

/// The virtualenv with [`PYTHON_TOOLS`], created or brought up to date.
fn python_tools(root: &Path) -> anyhow::Result<PathBuf> {
    let venv = root.join("target/py-tools");
    let stamp = venv.join(".xtask-stamp");
    let wanted = PYTHON_TOOLS.join("\n");
    if fs::read_to_string(&stamp).ok().as_deref() == Some(wanted.as_str()) {
        return Ok(venv);
    }
    println!(
        "xtask: installing {} into {}",
        PYTHON_TOOLS.join(", "),
        venv.display()
    );
    if !venv.join("bin/python").is_file() {
        run(Command::new("python3").arg("-m").arg("venv").arg(&venv)).context(
            "creating a Python virtualenv (Python 3.10+ with venv is needed: \
             `apt-get install python3-venv` on Debian)",
        )?;
    }
    run(Command::new(venv.join("bin/python"))
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(PYTHON_TOOLS))
    .context("installing the Python test tools")?;
    fs::write(&stamp, wanted).with_context(|| format!("writing {}", stamp.display()))?;
    Ok(venv)
}

/// Makes sure [`CHROMIUM`] is there, installing Debian's package when this process may.
fn chromium() -> anyhow::Result<()> {
    if Path::new(CHROMIUM).is_file() {
        return Ok(());
    }
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0");
    let has_apt = Path::new("/usr/bin/apt-get").is_file();
    if !(is_root && has_apt) {
        bail!(
            "the browser tests need Debian's Chromium at {CHROMIUM}: run \
             `sudo apt-get install -y chromium`, then `cargo xtask test` again"
        );
    }
    println!("xtask: installing Chromium with apt-get");
    run(Command::new("apt-get").args(["update", "-qq"]))?;
    run(Command::new("apt-get")
        .args(["install", "-y", "-qq", "chromium"])
        .env("DEBIAN_FRONTEND", "noninteractive"))
    .context("installing Chromium")
}

/// The CRD folder to use when neither `TODO_CRDS_DIR` nor `../shared/crds` exists: fetched once
/// into `target/crds`. `None` when the default places hold them (deploy-check finds those).
fn crds(root: &Path) -> anyhow::Result<Option<PathBuf>> {
    if std::env::var_os("TODO_CRDS_DIR").is_some() || root.join("../shared/crds").is_dir() {
        return Ok(None);
    }
    let dir = root.join("target/crds");
    let stamp = dir.join(".xtask-stamp");
    let script = root.join("scripts/fetch-crds.sh");
    let inputs = stamp_of(&[&script])?;
    if fs::read_to_string(&stamp).ok().as_deref() != Some(inputs.as_str()) {
        println!(
            "xtask: fetching the upstream CRD files into {}",
            dir.display()
        );
        run(Command::new("bash").arg(&script).arg(&dir))
            .context("fetching the CRD files the deploy checks validate against")?;
        fs::write(&stamp, inputs).with_context(|| format!("writing {}", stamp.display()))?;
    }
    Ok(Some(dir))
}

/// `PATH` with `dir` in front.
fn path_with(dir: &Path) -> anyhow::Result<OsString> {
    let current = std::env::var_os("PATH").unwrap_or_default();
    let paths = std::iter::once(dir.to_path_buf()).chain(std::env::split_paths(&current));
    std::env::join_paths(paths).context("PATH cannot hold the tools folder")
}

/// A stamp naming the contents of `files`: equal stamps mean equal inputs.
fn stamp_of(files: &[&Path]) -> anyhow::Result<String> {
    let mut stamp = String::new();
    for file in files {
        let bytes = fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        stamp.push_str(&format!("{} {:016x}\n", file.display(), fnv1a(&bytes)));
    }
    Ok(stamp)
}

/// FNV-1a, 64 bits: enough to tell an edited file from the one a stamp was made from.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stamp_changes_with_the_contents_it_was_made_from() {
        let dir = std::env::temp_dir().join(format!("xtask-stamp-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join("package-lock.json");
        fs::write(&file, "{}").unwrap();
        let first = stamp_of(&[&file]).unwrap();
        assert_eq!(first, stamp_of(&[&file]).unwrap());
        fs::write(&file, "{ }").unwrap();
        assert_ne!(first, stamp_of(&[&file]).unwrap());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn the_tools_folder_comes_first_on_the_path() {
        let path = path_with(Path::new("/opt/tools/bin")).unwrap();
        let first = std::env::split_paths(&path).next().unwrap();
        assert_eq!(first, Path::new("/opt/tools/bin"));
    }
}
