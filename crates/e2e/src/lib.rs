//! Support for the end-to-end tests in `tests/`: each test gets its own freshly created
//! database, runs the real `spin.toml` (the real `.wasm` files, built by `cargo xtask test`)
//! through `spin-host` in-process on a free port, and talks to it over HTTP.
//!
//! Variables reach the app through a per-test runtime config file with a `static` variables
//! provider (as Spin's runtime config allows), so tests never touch the shared process
//! environment and can run in parallel.

use std::{
    collections::BTreeMap,
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU32, Ordering},
};

use anyhow::{Context, Result};
use spin_host::app::{Application, UpOptions};

/// The server the tests create their databases on.
pub const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";

/// The repository root.
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A name unique to this test process and call, usable as a database name.
pub fn unique(tag: &str) -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    format!(
        "{tag}_{}_{nanos}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Connects to PostgreSQL with a plain client (the test's own view of the database).
pub async fn pg(url: &str) -> Result<tokio_postgres::Client> {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .with_context(|| format!("connecting to {url}"))?;
    tokio::spawn(connection);
    Ok(client)
}

/// A database created for one test (left behind on purpose: it helps when a test fails, and
/// `cargo xtask test` drops old ones before a run).
pub struct TestDb {
    /// The database name.
    pub name: String,
}

impl TestDb {
    /// Creates an empty database.
    pub async fn create() -> Result<Self> {
        let name = unique("e2e");
        pg(PG_ADMIN_URL)
            .await?
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .await?;
        Ok(Self { name })
    }

    /// The URL components use (through the host), on `host`.
    pub fn url_via(&self, host: &str) -> String {
        format!("postgres://postgres@{host}/{}?sslmode=disable", self.name)
    }

    /// The URL components use, straight to the server.
    pub fn url(&self) -> String {
        self.url_via("127.0.0.1:5432")
    }
}

/// The real application, loaded from the repository's `spin.toml` with these variables.
pub struct TestApp {
    dir: PathBuf,
    variables: BTreeMap<String, String>,
}

impl TestApp {
    /// Defaults every test needs: the required secrets and a database.
    pub fn new(db_url: &str) -> Self {
        let dir = std::env::temp_dir().join(unique("e2e-app"));
        let mut variables = BTreeMap::new();
        variables.insert("db_url".into(), db_url.into());
        variables.insert(
            "jwt_secret".into(),
            "test-jwt-secret-0123456789abcdef".into(),
        );
        variables.insert("tick_token".into(), "test-tick-token".into());
        Self { dir, variables }
    }

    /// Sets one variable.
    pub fn var(mut self, name: &str, value: &str) -> Self {
        self.variables.insert(name.into(), value.into());
        self
    }

    fn options(&self, component_ids: &[&str]) -> Result<UpOptions> {
        std::fs::create_dir_all(&self.dir)?;
        let runtime_config = self.dir.join("runtime-config.toml");
        let values: Vec<String> = self
            .variables
            .iter()
            .map(|(k, v)| format!("{k} = {}", toml_string(v)))
            .collect();
        std::fs::write(
            &runtime_config,
            format!(
                "[[variables_provider]]\ntype = \"static\"\nvalues = {{ {} }}\n",
                values.join(", ")
            ),
        )?;
        let manifest = workspace_root().join("spin.toml");
        for component in ["api", "migrate"] {
            let wasm =
                workspace_root().join(format!("target/wasm32-wasip2/release/{component}.wasm"));
            anyhow::ensure!(
                wasm.is_file(),
                "{} is missing: run `cargo xtask test`, which builds the components first",
                wasm.display()
            );
        }
        Ok(UpOptions {
            manifest,
            listen: "127.0.0.1:0".parse()?,
            runtime_config: Some(runtime_config),
            component_ids: component_ids.iter().map(|s| s.to_string()).collect(),
        })
    }

    /// Runs the `migrate` command component once.
    pub async fn migrate(&self) -> Result<()> {
        let app = Application::load(&self.options(&["migrate"])?).await?;
        app.run_commands().await?;
        Ok(())
    }

    /// Starts the HTTP-served components (everything but `migrate`) and returns the base URL.
    pub async fn serve(&self, component_ids: &[&str]) -> Result<String> {
        let app = Application::load(&self.options(component_ids)?).await?;
        let (addr, run): (SocketAddr, _) = app.start("127.0.0.1:0".parse()?).await?;
        tokio::spawn(async move {
            let _app = app;
            if let Err(err) = run.await {
                eprintln!("app stopped: {err:#}");
            }
        });
        Ok(format!("http://{addr}"))
    }
}

fn toml_string(value: &str) -> String {
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    format!("\"{escaped}\"")
}

/// A TCP forwarder on `listen` to `upstream` that a test can take down and bring back, closing
/// every open connection when it goes down: PostgreSQL "stopping" and "starting" as the app
/// sees it, without stopping the server the other tests share.
pub struct Outage {
    listen: SocketAddr,
    upstream: SocketAddr,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Outage {
    /// Starts forwarding.
    pub async fn start(listen: SocketAddr, upstream: SocketAddr) -> Result<Self> {
        let mut outage = Self {
            listen,
            upstream,
            task: None,
        };
        outage.up().await?;
        Ok(outage)
    }

    /// Accepts connections again.
    pub async fn up(&mut self) -> Result<()> {
        let listener = tokio::net::TcpListener::bind(self.listen)
            .await
            .with_context(|| format!("binding {}", self.listen))?;
        let upstream = self.upstream;
        self.task = Some(tokio::spawn(async move {
            let mut connections = tokio::task::JoinSet::new();
            while let Ok((mut inbound, _)) = listener.accept().await {
                connections.spawn(async move {
                    if let Ok(mut outbound) = tokio::net::TcpStream::connect(upstream).await {
                        let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                    }
                });
            }
        }));
        Ok(())
    }

    /// Refuses new connections and cuts the open ones (dropping the task drops the JoinSet,
    /// which aborts every forwarding task and closes its sockets).
    pub async fn down(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}
