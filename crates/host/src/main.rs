//! `spin-host`: runs a `spin.toml` application the way `spin up` does.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use spin_host::app::{UpOptions, up};

#[derive(Parser)]
#[command(
    version,
    about = "Runs spin.toml applications under Wasmtime with Spin's semantics"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start the application, as `spin up` does.
    Up {
        /// The application manifest.
        #[arg(short = 'f', long = "from", default_value = "spin.toml")]
        manifest: PathBuf,
        /// Address the HTTP trigger listens on.
        #[arg(long, default_value = "127.0.0.1:3000")]
        listen: SocketAddr,
        /// Runtime configuration file (variables providers).
        #[arg(long = "runtime-config-file")]
        runtime_config: Option<PathBuf>,
        /// Run only these components (selective deployment, as `spin up --component-id`).
        #[arg(long = "component-id")]
        component_ids: Vec<String>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("SPIN_HOST_LOG")
                .unwrap_or_else(|_| "spin_host=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let runtime = tokio::runtime::Runtime::new().expect("tokio runtime");
    let result = runtime.block_on(async {
        match cli.command {
            Command::Up {
                manifest,
                listen,
                runtime_config,
                component_ids,
            } => {
                up(UpOptions {
                    manifest,
                    listen,
                    runtime_config,
                    component_ids,
                })
                .await
            }
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("Error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
