//! Assembles the WIT tree the host binds (`wit-gen/`, git-ignored) from the spin-sdk crate that
//! the components depend on, so guest and host can never drift apart, plus this crate's own
//! world and the cron trigger's WIT from the workspace's `wit/` folder.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
};

use anyhow::{Context, Result, bail};

fn main() -> Result<()> {
    let crate_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?);
    let workspace = crate_dir.join("../..");
    let sdk_wit = spin_sdk_wit_dir(&workspace)?;

    let out = crate_dir.join("wit-gen");
    if out.exists() {
        fs::remove_dir_all(&out)?;
    }
    let deps = out.join("deps");
    copy_dir(&sdk_wit.join("deps"), &deps)?;
    fs::create_dir_all(deps.join("spin-up"))?;
    fs::copy(sdk_wit.join("world.wit"), deps.join("spin-up/world.wit"))?;
    copy_dir(&workspace.join("wit/spin-cron"), &deps.join("spin-cron"))?;
    fs::copy(crate_dir.join("wit/host.wit"), out.join("host.wit"))?;

    println!("cargo:rerun-if-changed=wit/host.wit");
    println!("cargo:rerun-if-changed=../../wit/spin-cron");
    println!("cargo:rerun-if-changed=../../Cargo.lock");
    println!("cargo:rerun-if-changed={}", sdk_wit.display());
    Ok(())
}

/// The `wit/` directory of the spin-sdk package in this workspace's dependency graph.
fn spin_sdk_wit_dir(workspace: &Path) -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--manifest-path"])
        .arg(workspace.join("Cargo.toml"))
        .output()
        .context("running cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let meta: serde_json::Value = serde_json::from_slice(&output.stdout)?;
    let packages = meta["packages"]
        .as_array()
        .context("no packages in metadata")?;
    let manifest = packages
        .iter()
        .find(|p| p["name"] == "spin-sdk")
        .and_then(|p| p["manifest_path"].as_str())
        .context("spin-sdk is not in the workspace's dependency graph")?;
    Ok(Path::new(manifest).parent().unwrap().join("wit"))
}

fn copy_dir(from: &Path, to: &Path) -> Result<()> {
    fs::create_dir_all(to)?;
    for entry in fs::read_dir(from).with_context(|| format!("reading {}", from.display()))? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}
