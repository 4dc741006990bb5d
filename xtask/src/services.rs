//! PostgreSQL and Redis for local runs and tests: is each reachable, can a local one be started,
//! and does the application database exist.
//!
//! Only servers on this machine (`127.0.0.1`, `localhost`, `::1`) are ever started, and only
//! with the commands the Debian packages provide; anything else gets an error that says what is
//! missing and how to provide it.

use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

/// `db_url`'s default in spin.toml (kept equal by a test).
pub const DEFAULT_DB_URL: &str = "postgres://postgres@127.0.0.1:5432/todo?sslmode=disable";
/// `redis_url`'s default in spin.toml (kept equal by a test).
pub const DEFAULT_REDIS_URL: &str = "redis://127.0.0.1:6379";

const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The service settings this run will use, from `SPIN_VARIABLE_*` or spin.toml's defaults.
pub struct Config {
    /// PostgreSQL connection string.
    pub db_url: String,
    /// Redis address.
    pub redis_url: String,
    /// Whether the app will use Redis (`event_bus` is not `dapr`).
    pub uses_redis: bool,
}

impl Config {
    /// Reads the variables the way spin-host will.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        Self {
            db_url: var("SPIN_VARIABLE_DB_URL").unwrap_or_else(|| DEFAULT_DB_URL.to_owned()),
            redis_url: var("SPIN_VARIABLE_REDIS_URL")
                .unwrap_or_else(|| DEFAULT_REDIS_URL.to_owned()),
            uses_redis: var("SPIN_VARIABLE_EVENT_BUS").as_deref() != Some("dapr"),
        }
    }
}

/// Makes sure PostgreSQL (and Redis, when used) answer, starting local servers if needed.
pub fn ensure_running(config: &Config) -> anyhow::Result<()> {
    let postgres = Endpoint::from_url(&config.db_url, 5432).context("reading db_url")?;
    ensure_service(&postgres, &PostgresServer)?;
    if config.uses_redis {
        let redis = Endpoint::from_url(&config.redis_url, 6379).context("reading redis_url")?;
        ensure_service(&redis, &RedisServer { port: redis.port })?;
    }
    Ok(())
}

/// Creates the database `db_url` names if it does not exist yet.
pub fn ensure_database(db_url: &str) -> anyhow::Result<()> {
    let config: postgres::Config = db_url
        .parse()
        .context("db_url is not a PostgreSQL connection string")?;
    let Some(name) = config.get_dbname().map(str::to_owned) else {
        bail!("db_url names no database (expected .../todo?...)");
    };
    let mut client = ["postgres", "template1"]
        .iter()
        .find_map(|maintenance| {
            let mut admin = config.clone();
            admin
                .dbname(maintenance)
                .connect_timeout(Duration::from_secs(5));
            admin.connect(postgres::NoTls).ok()
        })
        .context(
            "could not connect to PostgreSQL's `postgres` or `template1` database to create the \
             application database (xtask connects without TLS, as the local db_url does); \
             create it yourself or check db_url's user and password",
        )?;
    let exists = client
        .query_opt("SELECT 1 FROM pg_database WHERE datname = $1", &[&name])
        .context("looking for the database")?
        .is_some();
    if exists {
        return Ok(());
    }
    match client.batch_execute(&format!("CREATE DATABASE {}", quote_identifier(&name))) {
        Ok(()) => println!("xtask: created database {name}"),
        // Another process created it in the meantime: that is what we wanted.
        Err(err) if err.code() == Some(&postgres::error::SqlState::DUPLICATE_DATABASE) => {}
        Err(err) => return Err(err).with_context(|| format!("creating database {name}")),
    }
    Ok(())
}

/// Drops the databases earlier end-to-end test runs left behind (their names start with
/// `prefix`; the tests keep them on purpose so a failure can be inspected).
pub fn drop_test_databases(db_url: &str, prefix: &str) -> anyhow::Result<()> {
    let mut config: postgres::Config = db_url
        .parse()
        .context("db_url is not a PostgreSQL connection string")?;
    config
        .dbname("postgres")
        .connect_timeout(Duration::from_secs(5));
    let mut client = config
        .connect(postgres::NoTls)
        .context("connecting to PostgreSQL's `postgres` database")?;
    let pattern = format!("{}%", prefix.replace('_', "\\_"));
    let names: Vec<String> = client
        .query(
            "SELECT datname FROM pg_database WHERE datname LIKE $1",
            &[&pattern],
        )?
        .iter()
        .map(|row| row.get(0))
        .collect();
    // A name carries the pid of the test process that made it (`e2e::unique`): the databases of
    // a test run still going, in another checkout say, are left alone.
    let names: Vec<String> = names
        .into_iter()
        .filter(|name| !made_by_a_live_process(name, prefix))
        .collect();
    for name in &names {
        client
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_identifier(name)
            ))
            .with_context(|| format!("dropping leftover test database {name}"))?;
    }
    if !names.is_empty() {
        println!("xtask: dropped {} leftover test database(s)", names.len());
    }
    Ok(())
}

/// Whether `name` (`<prefix><pid>_...`) was made by a process that is still running here.
fn made_by_a_live_process(name: &str, prefix: &str) -> bool {
    let pid = name
        .strip_prefix(prefix)
        .and_then(|rest| rest.split('_').next())
        .and_then(|pid| pid.parse::<u32>().ok());
    match pid {
        Some(pid) => Path::new(&format!("/proc/{pid}")).exists(),
        None => false,
    }
}

fn quote_identifier(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// A host and port taken from a service URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    host: String,
    port: u16,
}

impl Endpoint {
    /// The host and port of `scheme://[user[:password]@]host[:port][/...][?...]`.
    pub fn from_url(url: &str, default_port: u16) -> anyhow::Result<Self> {
        let (_, rest) = url
            .split_once("://")
            .with_context(|| format!("`{}` is not a URL", redact(url)))?;
        let authority = rest.split(['/', '?']).next().unwrap_or("");
        let host_port = authority.rsplit_once('@').map_or(authority, |(_, hp)| hp);
        let (host, port) = if let Some(bracketed) = host_port.strip_prefix('[') {
            let (host, after) = bracketed
                .split_once(']')
                .with_context(|| format!("unclosed `[` in `{}`", redact(url)))?;
            (host, after.strip_prefix(':'))
        } else {
            match host_port.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (host_port, None),
            }
        };
        if host.is_empty() {
            bail!("`{}` has no host", redact(url));
        }
        let port = match port {
            Some(port) => port
                .parse()
                .with_context(|| format!("bad port in `{}`", redact(url)))?,
            None => default_port,
        };
        Ok(Self {
            host: host.to_owned(),
            port,
        })
    }

    fn is_local(&self) -> bool {
        matches!(self.host.as_str(), "127.0.0.1" | "localhost" | "::1")
    }

    fn reachable(&self) -> bool {
        let addresses: Vec<SocketAddr> = match (self.host.as_str(), self.port).to_socket_addrs() {
            Ok(addresses) => addresses.collect(),
            Err(_) => return false,
        };
        addresses
            .iter()
            .any(|address| TcpStream::connect_timeout(address, Duration::from_secs(1)).is_ok())
    }
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// A URL with its password (if any) hidden, for messages.
fn redact(url: &str) -> String {
    match (url.split_once("://"), url.find('@')) {
        (Some((scheme, rest)), Some(_)) => {
            let (userinfo, tail) = rest.split_once('@').unwrap_or(("", rest));
            let user = userinfo.split(':').next().unwrap_or("");
            format!("{scheme}://{user}:***@{tail}")
        }
        _ => url.to_owned(),
    }
}

/// A kind of server xtask knows how to start on this machine.
trait LocalServer {
    /// "PostgreSQL" or "Redis".
    fn name(&self) -> &'static str;
    /// The command that starts it, or why it cannot be started here.
    fn start_command(&self) -> Result<Command, String>;
}

struct PostgresServer;

impl LocalServer for PostgresServer {
    fn name(&self) -> &'static str {
        "PostgreSQL"
    }

    fn start_command(&self) -> Result<Command, String> {
        let pg_ctlcluster = find_program("pg_ctlcluster").ok_or(
            "no local PostgreSQL installation found (no `pg_ctlcluster`); install one \
             (Debian/Ubuntu: `apt-get install postgresql`) or set SPIN_VARIABLE_DB_URL to a running server",
        )?;
        let version = newest_cluster_version(Path::new("/etc/postgresql")).ok_or(
            "`pg_ctlcluster` is installed but /etc/postgresql has no `<version>/main` cluster; \
             create one with `pg_createcluster <version> main`",
        )?;
        let mut command = Command::new(pg_ctlcluster);
        command.args(["--skip-systemctl-redirect", &version, "main", "start"]);
        Ok(command)
    }
}

/// The highest `<version>` with a `main` cluster under `/etc/postgresql`.
fn newest_cluster_version(config_dir: &Path) -> Option<String> {
    let mut versions: Vec<(u32, String)> = std::fs::read_dir(config_dir)
        .ok()?
        .filter_map(Result::ok)
        .filter(|entry| entry.path().join("main").is_dir())
        .filter_map(|entry| {
            let name = entry.file_name().into_string().ok()?;
            let major = name.split('.').next()?.parse().ok()?;
            Some((major, name))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, name)| name)
}

struct RedisServer {
    port: u16,
}

impl LocalServer for RedisServer {
    fn name(&self) -> &'static str {
        "Redis"
    }

    fn start_command(&self) -> Result<Command, String> {
        let redis_server = find_program("redis-server").ok_or(
            "no local Redis installation found (no `redis-server`); install one \
             (Debian/Ubuntu: `apt-get install redis-server`) or set SPIN_VARIABLE_REDIS_URL to a running server",
        )?;
        // Debian's locations; they need to exist (and be writable) before redis-server starts.
        let data_dir = Path::new("/var/lib/redis");
        let log_dir = Path::new("/var/log/redis");
        for dir in [data_dir, log_dir] {
            std::fs::create_dir_all(dir).map_err(|err| {
                format!(
                    "`redis-server` is installed but {} cannot be created: {err}",
                    dir.display()
                )
            })?;
        }
        let mut command = Command::new(redis_server);
        command
            .args(["--daemonize", "yes", "--bind", "127.0.0.1", "-::1"])
            .args(["--port", &self.port.to_string()])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(data_dir)
            .arg("--logfile")
            .arg(log_dir.join("ci.log"));
        Ok(command)
    }
}

fn ensure_service(endpoint: &Endpoint, server: &dyn LocalServer) -> anyhow::Result<()> {
    let name = server.name();
    if endpoint.reachable() {
        return Ok(());
    }
    if !endpoint.is_local() {
        bail!(
            "{name} is not reachable at {endpoint}, and xtask only starts servers on this machine"
        );
    }
    let mut command = server
        .start_command()
        .map_err(|why| anyhow::anyhow!("{name} is not reachable at {endpoint}: {why}"))?;
    println!("xtask: {name} is not running at {endpoint}; starting it");
    let output = command
        .output()
        .with_context(|| format!("running {}", crate::workspace::display(&command)))?;
    if !output.status.success() {
        bail!(
            "{name} is not reachable at {endpoint}, and `{}` failed ({}):\n{}{}",
            crate::workspace::display(&command),
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let started = Instant::now();
    while started.elapsed() < START_TIMEOUT {
        if endpoint.reachable() {
            println!("xtask: {name} is up at {endpoint}");
            return Ok(());
        }
        thread::sleep(Duration::from_millis(250));
    }
    bail!(
        "started {name} with `{}`, but it is still not answering at {endpoint} after {} s",
        crate::workspace::display(&command),
        START_TIMEOUT.as_secs()
    )
}

fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/usr/local/sbin"].map(PathBuf::from))
        .map(|dir| dir.join(name))
        .find(|candidate| candidate.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn endpoint(host: &str, port: u16) -> Endpoint {
        Endpoint {
            host: host.to_owned(),
            port,
        }
    }

    #[test]
    fn only_databases_of_finished_test_processes_are_left_behind() {
        let me = std::process::id();
        assert!(made_by_a_live_process(&format!("e2e_{me}_123_0"), "e2e_"));
        // Pids above the kernel's maximum (4194304) never run.
        assert!(!made_by_a_live_process("e2e_999999999_123_0", "e2e_"));
        assert!(!made_by_a_live_process("e2e_notapid", "e2e_"));
    }

    #[test]
    fn endpoints_come_from_urls_with_or_without_credentials_and_ports() {
        assert_eq!(
            Endpoint::from_url(DEFAULT_DB_URL, 5432).unwrap(),
            endpoint("127.0.0.1", 5432)
        );
        assert_eq!(
            Endpoint::from_url("postgres://u:p@db.internal/todo", 5432).unwrap(),
            endpoint("db.internal", 5432)
        );
        assert_eq!(
            Endpoint::from_url("redis://[::1]:6380", 6379).unwrap(),
            endpoint("::1", 6380)
        );
        assert_eq!(
            Endpoint::from_url(DEFAULT_REDIS_URL, 6379).unwrap(),
            endpoint("127.0.0.1", 6379)
        );
        assert!(Endpoint::from_url("127.0.0.1:5432", 5432).is_err());
        assert!(Endpoint::from_url("postgres://h:port/x", 5432).is_err());
    }

    #[test]
    fn messages_never_show_passwords() {
        assert_eq!(
            redact("postgres://app:s3cret@db/todo"),
            "postgres://app:***@db/todo"
        );
        assert_eq!(redact("redis://127.0.0.1:6379"), "redis://127.0.0.1:6379");
    }

    #[test]
    fn identifiers_are_quoted() {
        assert_eq!(quote_identifier("todo"), "\"todo\"");
        assert_eq!(quote_identifier("we\"ird"), "\"we\"\"ird\"");
    }

    #[test]
    fn the_defaults_are_those_of_spin_toml() {
        let manifest =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../spin.toml"))
                .expect("spin.toml at the repository root");
        for default in [DEFAULT_DB_URL, DEFAULT_REDIS_URL] {
            assert!(
                manifest.contains(&format!("default = \"{default}\"")),
                "spin.toml should default to {default}"
            );
        }
    }
}
