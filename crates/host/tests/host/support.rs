//! What every test needs: the built test components, a per-test copy of a manifest from
//! `tests/apps/`, the host started in-process on a free port, PostgreSQL and Redis clients with
//! per-test names, and a local HTTP server that records the requests it receives.

use std::{
    net::SocketAddr,
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, SystemTime, UNIX_EPOCH},
};

use anyhow::Result;
use serde_json::Value;
use spin_host::app::{Application, UpOptions};

/// PostgreSQL as the tests reach it directly (and the probe through its `db_url`).
pub const PG_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable";
/// Redis as the tests reach it directly (and the probe through its `redis_url`).
pub const REDIS_URL: &str = "redis://127.0.0.1:6379";

/// How long to wait for something asynchronous (a Redis delivery, a cron tick) before
/// asserting on what was seen. Generous: this is a deadline, not a measurement.
pub const WAIT: Duration = Duration::from_secs(20);

/// The path of a built test component, e.g. `probe.wasm`. Panics with the command that builds
/// them when it is missing.
pub fn wasm(file_name: &str) -> PathBuf {
    let mut candidates = Vec::new();
    if let Ok(dir) = std::env::var("CARGO_TARGET_DIR") {
        candidates.push(PathBuf::from(dir));
    }
    // The test binary is `<target>/debug/deps/host-<hash>` (or `<target>/<triple>/debug/...`).
    if let Ok(exe) = std::env::current_exe() {
        candidates.extend(exe.ancestors().skip(1).map(Path::to_path_buf));
    }
    candidates.push(workspace_root().join("target"));
    for dir in &candidates {
        let path = dir.join("wasm32-wasip2/release").join(file_name);
        if path.is_file() {
            return path;
        }
    }
    panic!(
        "test component {file_name} is missing (looked under {candidates:?}): run `cargo xtask \
         test`, which builds the test components first (or `cargo build --target wasm32-wasip2 \
         --release -p probe -p probe-cron -p probe-command`)"
    );
}

/// The workspace root (two levels above this crate).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A checked-in test manifest.
pub fn app_manifest(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/apps")
        .join(name)
}

/// A name no other test (or earlier run) uses: `<tag>_<pid>_<time>_<n>`, lower-case so it also
/// serves as a PostgreSQL identifier.
pub fn unique(tag: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos() % 1_000_000_000_000)
        .unwrap_or_default();
    format!(
        "{tag}_{}_{nanos}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A per-test directory under Cargo's temporary directory for integration tests.
pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("spin-host-tests")
        .join(unique(tag));
    std::fs::create_dir_all(&dir).expect("create test directory");
    dir
}

/// A manifest being prepared for one test: a copy of a checked-in one, with the component
/// sources made absolute (pointing at the built `.wasm`) and variable defaults replaced.
pub struct Manifest {
    doc: toml::Table,
}

impl Manifest {
    /// Starts from `tests/apps/<name>`.
    pub fn from_app(name: &str) -> Self {
        let path = app_manifest(name);
        let text = std::fs::read_to_string(&path)
            .unwrap_or_else(|err| panic!("reading {}: {err}", path.display()));
        Self::from_toml(&text)
    }

    /// Starts from manifest text (sources are file names of built test components).
    pub fn from_toml(text: &str) -> Self {
        let mut doc: toml::Table = toml::from_str(text).expect("test manifest is valid TOML");
        if let Some(toml::Value::Table(components)) = doc.get_mut("component") {
            for (_, component) in components.iter_mut() {
                let Some(toml::Value::String(source)) = component.get_mut("source") else {
                    continue;
                };
                let file_name = Path::new(source.as_str())
                    .file_name()
                    .and_then(|f| f.to_str())
                    .expect("source names a file")
                    .to_owned();
                *source = wasm(&file_name).display().to_string();
            }
        }
        Self { doc }
    }

    /// Sets the default of application variable `name` (declaring it if needed, and dropping
    /// `required`).
    pub fn default(mut self, name: &str, value: &str) -> Self {
        let variables = self
            .doc
            .entry("variables")
            .or_insert_with(|| toml::Value::Table(Default::default()))
            .as_table_mut()
            .expect("[variables] is a table");
        let decl = variables
            .entry(name)
            .or_insert_with(|| toml::Value::Table(Default::default()))
            .as_table_mut()
            .expect("a variable is a table");
        decl.remove("required");
        decl.insert("default".into(), toml::Value::String(value.into()));
        self
    }

    /// Makes application variable `name` required (no default).
    pub fn required(mut self, name: &str) -> Self {
        let decl = self.doc["variables"][name]
            .as_table_mut()
            .expect("a variable is a table");
        decl.remove("default");
        decl.insert("required".into(), toml::Value::Boolean(true));
        self
    }

    /// Gives the probe app's variables per-test values: its Redis channel and sink key.
    pub fn isolated_probe(self, ids: &ProbeIds) -> Self {
        self.default("redis_channel", &ids.channel)
            .default("redis_sink", &ids.sink)
    }

    /// Writes the manifest into a fresh directory and returns its path.
    pub fn write(&self) -> PathBuf {
        let path = temp_dir("manifest").join("spin.toml");
        std::fs::write(
            &path,
            toml::to_string(&self.doc).expect("serialise manifest"),
        )
        .expect("write manifest");
        path
    }
}

/// Per-test names for the probe app.
pub struct ProbeIds {
    /// The Redis channel its first Redis trigger subscribes to (the second adds `-second`).
    pub channel: String,
    /// The Redis list its Redis handler appends each message to.
    pub sink: String,
}

impl ProbeIds {
    pub fn new(tag: &str) -> Self {
        let id = unique(tag);
        Self {
            channel: format!("spin-host-test:{id}:channel"),
            sink: format!("spin-host-test:{id}:sink"),
        }
    }
}

/// A host running one application in this process.
pub struct RunningApp {
    pub addr: SocketAddr,
    /// Kept alive for as long as the triggers run.
    _app: Application,
    task: tokio::task::JoinHandle<Result<()>>,
    client: reqwest::Client,
}

impl Drop for RunningApp {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Loads the manifest (as `spin-host up -f` would, without a runtime config file) and starts
/// its triggers on a free port.
pub async fn start(manifest: &Path) -> RunningApp {
    start_with(manifest, None)
        .await
        .unwrap_or_else(|err| panic!("starting {}: {err:#}", manifest.display()))
}

/// [`start`] with a runtime config file, returning load errors instead of panicking.
pub async fn start_with(manifest: &Path, runtime_config: Option<PathBuf>) -> Result<RunningApp> {
    let app = load(manifest, runtime_config).await?;
    let (addr, run) = app.start("127.0.0.1:0".parse()?).await?;
    let task = tokio::spawn(run);
    Ok(RunningApp {
        addr,
        _app: app,
        task,
        client: reqwest::Client::new(),
    })
}

/// Loads an application without starting it.
pub async fn load(manifest: &Path, runtime_config: Option<PathBuf>) -> Result<Application> {
    Application::load(&UpOptions {
        manifest: manifest.to_path_buf(),
        listen: "127.0.0.1:0".parse()?,
        runtime_config,
        component_ids: vec![],
    })
    .await
}

/// A response as the tests inspect it.
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub body: String,
}

impl Reply {
    /// The body as JSON; panics (showing the body) when it is not.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|err| {
            panic!(
                "expected a JSON body ({err}); status {}, body {:?}",
                self.status, self.body
            )
        })
    }

    /// Asserts a 200 and returns the JSON body.
    pub fn ok_json(&self) -> Value {
        assert_eq!(self.status, 200, "expected 200, got {self:?}");
        self.json()
    }
}

impl RunningApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn get(&self, path: &str) -> Reply {
        let response = self
            .client
            .get(self.url(path))
            .send()
            .await
            .unwrap_or_else(|err| panic!("GET {path}: {err}"));
        reply(response).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        let response = self
            .client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .unwrap_or_else(|err| panic!("POST {path}: {err}"));
        reply(response).await
    }
}

async fn reply(response: reqwest::Response) -> Reply {
    let status = response.status().as_u16();
    let body = response.text().await.expect("read response body");
    Reply { status, body }
}

/// A PostgreSQL connection for checking effects, and a schema of the test's own.
pub struct Pg {
    pub client: tokio_postgres::Client,
    pub schema: String,
}

impl Pg {
    /// Connects and creates a fresh schema.
    pub async fn connect(tag: &str) -> Pg {
        let (client, connection) = tokio_postgres::connect(PG_URL, tokio_postgres::NoTls)
            .await
            .expect("PostgreSQL must be reachable at 127.0.0.1:5432 (user postgres, trust auth)");
        tokio::spawn(connection);
        let schema = unique(&format!("spin_host_test_{tag}"));
        client
            .batch_execute(&format!("CREATE SCHEMA {schema}"))
            .await
            .expect("create test schema");
        Pg { client, schema }
    }

    /// `<schema>.<table>`.
    pub fn table(&self, table: &str) -> String {
        format!("{}.{table}", self.schema)
    }

    /// Drops the schema (call at the end of a passing test).
    pub async fn drop_schema(self) {
        self.client
            .batch_execute(&format!("DROP SCHEMA {} CASCADE", self.schema))
            .await
            .expect("drop test schema");
    }
}

/// A Redis connection for checking effects.
pub async fn redis() -> redis::aio::MultiplexedConnection {
    redis::Client::open(REDIS_URL)
        .expect("Redis URL")
        .get_multiplexed_async_connection()
        .await
        .expect("Redis must be reachable at 127.0.0.1:6379")
}

/// Polls `probe` until it returns `Some` or [`WAIT`] passes; returns the last answer.
pub async fn wait_for<T, F, Fut>(mut probe: F) -> Option<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(value) = probe().await {
            return Some(value);
        }
        if tokio::time::Instant::now() >= deadline {
            return None;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One request received by a [`Recorder`].
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub headers: http::HeaderMap,
    pub body: String,
}

/// A local HTTP server standing in for an external service: answers every request with `201`
/// and `recorded <method> <path>`, and keeps what it received.
pub struct Recorder {
    pub port: u16,
    pub received: Arc<Mutex<Vec<Recorded>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Recorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Recorder {
    pub async fn start() -> Recorder {
        use http_body_util::{BodyExt, Full};
        use hyper::{Request, Response, body::Incoming, service::service_fn};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind recorder");
        let port = listener.local_addr().expect("recorder address").port();
        let received: Arc<Mutex<Vec<Recorded>>> = Arc::default();
        let log = received.clone();
        let task = tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let log = log.clone();
                tokio::spawn(async move {
                    let service = service_fn(move |req: Request<Incoming>| {
                        let log = log.clone();
                        async move {
                            let (parts, body) = req.into_parts();
                            let body = body.collect().await?.to_bytes();
                            let recorded = Recorded {
                                method: parts.method.to_string(),
                                path: parts
                                    .uri
                                    .path_and_query()
                                    .map(|p| p.to_string())
                                    .unwrap_or_default(),
                                headers: parts.headers,
                                body: String::from_utf8_lossy(&body).into_owned(),
                            };
                            let answer = format!("recorded {} {}", recorded.method, recorded.path);
                            log.lock().unwrap().push(recorded);
                            let mut response = Response::new(Full::new(bytes::Bytes::from(answer)));
                            *response.status_mut() = http::StatusCode::CREATED;
                            Ok::<_, hyper::Error>(response)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Recorder {
            port,
            received,
            task,
        }
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.received.lock().unwrap().clone()
    }
}

/// The `ok` value of a probe step, panicking (with the step) when it is an error.
pub fn ok<'a>(step: &'a Value, what: &str) -> &'a Value {
    step.get("ok")
        .unwrap_or_else(|| panic!("{what}: expected success, got {step}"))
}

/// The `err` value of a probe step, panicking (with the step) when it succeeded.
pub fn err<'a>(step: &'a Value, what: &str) -> &'a Value {
    step.get("err")
        .unwrap_or_else(|| panic!("{what}: expected an error, got {step}"))
}
