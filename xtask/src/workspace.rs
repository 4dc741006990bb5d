//! Where things are, and the cargo invocations that build them.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};
use serde_json::Value;

use crate::secrets::Secrets;

/// The WebAssembly target every component is built for.
pub const WASM_TARGET: &str = "wasm32-wasip2";

/// Folders (relative to the root) whose workspace members are built as WebAssembly components:
/// the app's components and the host's test components.
const COMPONENT_DIRS: [&str; 2] = ["components", "crates/host/tests/components"];

/// Installs the [`WASM_TARGET`] standard library with rustup when it is missing, so a fresh
/// machine needs no step before `cargo xtask up` or `cargo xtask test`.
fn ensure_wasm_target() -> anyhow::Result<()> {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .context("running `rustup target list` (is Rust installed with rustup?)")?;
    if String::from_utf8_lossy(&installed.stdout)
        .lines()
        .any(|line| line.trim() == WASM_TARGET)
    {
        return Ok(());
    }
    println!("xtask: installing the {WASM_TARGET} target");
    run(Command::new("rustup").args(["target", "add", WASM_TARGET]))
}

/// The Cargo workspace, as `cargo metadata` describes it.
pub struct Workspace {
    /// The repository root (where `spin.toml` is).
    pub root: PathBuf,
    target_dir: PathBuf,
    components: Vec<String>,
}

impl Workspace {
    /// Reads the workspace layout with `cargo metadata`.
    pub fn discover() -> anyhow::Result<Self> {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .parent()
            .context("xtask lives in a folder of the workspace")?
            .to_path_buf();
        let output = cargo_command(&root)
            .args(["metadata", "--no-deps", "--format-version", "1"])
            .output()
            .context("running `cargo metadata`")?;
        if !output.status.success() {
            bail!(
                "`cargo metadata` failed:\n{}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
        let metadata: Value =
            serde_json::from_slice(&output.stdout).context("parsing `cargo metadata`")?;
        let target_dir = metadata["target_directory"]
            .as_str()
            .map(PathBuf::from)
            .context("`cargo metadata` has no target_directory")?;
        let mut components: Vec<String> = metadata["packages"]
            .as_array()
            .context("`cargo metadata` has no packages")?
            .iter()
            .filter_map(|package| {
                let manifest = Path::new(package["manifest_path"].as_str()?);
                let is_component = COMPONENT_DIRS
                    .iter()
                    .any(|dir| manifest.starts_with(root.join(dir)));
                is_component.then(|| package["name"].as_str().map(str::to_owned))?
            })
            .collect();
        components.sort();
        Ok(Self {
            root,
            target_dir,
            components,
        })
    }

    /// A `cargo` command run from the root.
    pub fn cargo(&self) -> Command {
        cargo_command(&self.root)
    }

    /// Builds every component (and host test component) for [`WASM_TARGET`], release.
    pub fn build_components(&self) -> anyhow::Result<()> {
        if self.components.is_empty() {
            bail!("no component crates found under {COMPONENT_DIRS:?}");
        }
        ensure_wasm_target()?;
        let mut cargo = self.cargo();
        cargo.args(["build", "--target", WASM_TARGET, "--release"]);
        for name in &self.components {
            cargo.args(["-p", name]);
        }
        run(&mut cargo).with_context(|| {
            format!(
                "building the components; is the target installed? (`rustup target add {WASM_TARGET}`)"
            )
        })
    }

    /// Builds `spin-host` (release) and returns the path of the binary.
    pub fn build_host(&self) -> anyhow::Result<PathBuf> {
        run(self.cargo().args([
            "build",
            "--release",
            "-p",
            "spin-host",
            "--bin",
            "spin-host",
        ]))
        .context("building spin-host")?;
        let binary = self
            .target_dir
            .join("release")
            .join(format!("spin-host{}", std::env::consts::EXE_SUFFIX));
        if !binary.is_file() {
            bail!("spin-host was built but {} is missing", binary.display());
        }
        Ok(binary)
    }

    /// `spin-host up` for this app with the local runtime config and the local secrets in its
    /// environment (a variable already set in the environment wins, as with Spin).
    pub fn spin_host_up(&self, host: &Path, secrets: &Secrets) -> Command {
        let mut command = Command::new(host);
        command.current_dir(&self.root).args([
            "up",
            "-f",
            "spin.toml",
            "--runtime-config-file",
            "runtime-config/local.toml",
        ]);
        for (name, value) in &secrets.values {
            if std::env::var_os(name).is_none() {
                command.env(name, value);
            }
        }
        command
    }
}

fn cargo_command(root: &Path) -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(root);
    command
}

/// Runs `command`, failing unless it exits successfully.
pub fn run(command: &mut Command) -> anyhow::Result<()> {
    println!("xtask: {}", display(command));
    let status = command
        .status()
        .with_context(|| format!("starting {}", display(command)))?;
    if !status.success() {
        bail!("{} failed ({status})", display(command));
    }
    Ok(())
}

/// A command as it would be typed.
pub fn display(command: &Command) -> String {
    let program = Path::new(command.get_program())
        .file_name()
        .unwrap_or(command.get_program())
        .to_string_lossy()
        .into_owned();
    std::iter::once(program)
        .chain(
            command
                .get_args()
                .map(|arg| arg.to_string_lossy().into_owned()),
        )
        .collect::<Vec<_>>()
        .join(" ")
}
