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
        self.serve_on("127.0.0.1:0".parse()?, component_ids).await
    }

    /// [`TestApp::serve`] on a given address, for tests whose variables must name it (a
    /// browser sends `Origin`, which the API checks against `public_base_url`).
    pub async fn serve_on(&self, listen: SocketAddr, component_ids: &[&str]) -> Result<String> {
        let app = Application::load(&self.options(component_ids)?).await?;
        let (addr, run): (SocketAddr, _) = app.start(listen).await?;
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

/// A private `redis-server` for one test: Redis pub/sub is global to a server, so tests that
/// publish and subscribe must not share one. It listens on port 6379 (the only Redis port the
/// components' `allowed_outbound_hosts` permit) of its own loopback address `127.0.0.x`, keeps
/// nothing on disk, can be stopped and started again on the same address (Redis "going away"),
/// and is killed when dropped.
pub struct TestRedis {
    ip: std::net::Ipv4Addr,
    server: Option<std::process::Child>,
}

impl TestRedis {
    /// Starts a server on a free `127.0.0.x:6379`.
    pub async fn start() -> Result<Self> {
        let mut last_error = None;
        for _ in 0..50 {
            // A pseudo-random address per attempt; 127.0.0.1 is the shared server's.
            let nanos = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.subsec_nanos())
                .unwrap_or_default();
            let last = 2 + (nanos ^ std::process::id().rotate_left(7)) % 250;
            let ip = std::net::Ipv4Addr::new(127, 0, 0, last as u8);
            if std::net::TcpListener::bind((ip, 6379)).is_err() {
                continue;
            }
            let mut redis = Self { ip, server: None };
            match redis.start_again().await {
                Ok(()) => return Ok(redis),
                Err(err) => last_error = Some(err),
            }
        }
        Err(last_error.unwrap_or_else(|| anyhow::anyhow!("no free 127.0.0.x:6379 found")))
    }

    /// The URL for the `redis_url` variable.
    pub fn url(&self) -> String {
        format!("redis://{}:6379", self.ip)
    }

    /// Starts the server (again) on the same address and waits until it answers.
    pub async fn start_again(&mut self) -> Result<()> {
        anyhow::ensure!(self.server.is_none(), "the Redis server is already running");
        let child = std::process::Command::new("/usr/bin/redis-server")
            .args([
                "--bind",
                &self.ip.to_string(),
                "--port",
                "6379",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .context("starting /usr/bin/redis-server")?;
        self.server = Some(child);
        for _ in 0..100 {
            if self.ping().await.is_ok() {
                return Ok(());
            }
            if let Some(status) = self
                .server
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                self.server = None;
                anyhow::bail!("redis-server on {} exited: {status}", self.ip);
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        anyhow::bail!("redis-server on {} did not answer", self.ip)
    }

    /// Stops the server (every connection to it breaks).
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.server.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    async fn command(&self, parts: &[&[u8]]) -> Result<Vec<u8>> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut stream = tokio::net::TcpStream::connect((self.ip, 6379)).await?;
        let mut request = format!("*{}\r\n", parts.len()).into_bytes();
        for part in parts {
            request.extend_from_slice(format!("${}\r\n", part.len()).as_bytes());
            request.extend_from_slice(part);
            request.extend_from_slice(b"\r\n");
        }
        stream.write_all(&request).await?;
        let mut reply = vec![0; 512];
        let n = stream.read(&mut reply).await?;
        reply.truncate(n);
        Ok(reply)
    }

    async fn ping(&self) -> Result<()> {
        let reply = self.command(&[b"PING"]).await?;
        anyhow::ensure!(reply.starts_with(b"+PONG"), "unexpected reply to PING");
        Ok(())
    }

    /// `PUBLISH channel payload`; returns how many subscribers received it.
    pub async fn publish(&self, channel: &str, payload: &[u8]) -> Result<i64> {
        let reply = self
            .command(&[b"PUBLISH", channel.as_bytes(), payload])
            .await?;
        let text = String::from_utf8_lossy(&reply);
        text.trim()
            .strip_prefix(':')
            .and_then(|n| n.parse().ok())
            .with_context(|| format!("unexpected reply to PUBLISH: {text:?}"))
    }
}

/// A subscriber on one channel of a [`TestRedis`] (`redis-cli subscribe`, a real client),
/// recording every message's payload.
pub struct Subscriber {
    child: tokio::process::Child,
    lines: tokio::io::Lines<tokio::io::BufReader<tokio::process::ChildStdout>>,
}

impl TestRedis {
    /// Subscribes to `channel`; returns once the subscription is confirmed, so nothing published
    /// afterwards is missed.
    pub async fn subscribe(&self, channel: &str) -> Result<Subscriber> {
        use tokio::io::AsyncBufReadExt;
        let mut child = tokio::process::Command::new("redis-cli")
            .args(["-h", &self.ip.to_string(), "-p", "6379", "--raw"])
            .args(["subscribe", channel])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting redis-cli")?;
        let stdout = child.stdout.take().context("redis-cli's stdout")?;
        let mut subscriber = Subscriber {
            child,
            lines: tokio::io::BufReader::new(stdout).lines(),
        };
        // The confirmation: "subscribe", the channel, the subscription count.
        for _ in 0..3 {
            subscriber.line().await?;
        }
        Ok(subscriber)
    }
}

impl Subscriber {
    async fn line(&mut self) -> Result<String> {
        self.lines
            .next_line()
            .await?
            .context("redis-cli ended its output")
    }

    /// The next message's payload (a payload is one line: JSON without newlines), or `None`
    /// when none arrives within `timeout`.
    pub async fn next(&mut self, timeout: std::time::Duration) -> Result<Option<String>> {
        let message = async {
            // "message", the channel, the payload.
            let kind = self.line().await?;
            anyhow::ensure!(
                kind == "message",
                "unexpected line from redis-cli: {kind:?}"
            );
            self.line().await?;
            self.line().await
        };
        match tokio::time::timeout(timeout, message).await {
            Ok(payload) => payload.map(Some),
            Err(_) => Ok(None),
        }
    }
}

impl Drop for Subscriber {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        if let Some(mut child) = self.server.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
