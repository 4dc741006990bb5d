//! `spin:postgres/postgres@4.0.0`: outbound PostgreSQL, with Spin's semantics.
//!
//! This follows spinframework/spin `crates/factor-outbound-pg` (`allowed_hosts.rs`, `host.rs`,
//! `client.rs`, `types.rs`, `types/convert.rs`, `types/{decimal,interval,other,pg_null}.rs`):
//!
//! - `open` checks every host of the connection string against `allowed_outbound_hosts`, then
//!   takes a client from a per-address pool and keeps it for the lifetime of the `connection`
//!   resource. Spin has no transaction API, so this is what makes `BEGIN` ... `COMMIT` issued
//!   with `execute` a real transaction.
//! - TLS is used unless the connection string says `sslmode=disable`.
//! - Parameter and column conversions, and which `Error` variant each failure becomes, are
//!   Spin's, including its documented oddities (a `timestamptz` column cannot be read, a
//!   `datetime` parameter cannot be bound to `timestamptz`, `int8` binds to PostgreSQL's
//!   one-byte `"char"`, an empty result has no columns).
//!
//! Deliberate differences from Spin:
//! - Pooled clients are recycled with `ROLLBACK` before deadpool's `Clean` statements, because
//!   `Clean` alone hands a transaction left open by a guest that died between `BEGIN` and
//!   `COMMIT` to the next request.
//! - When a connection that may be inside a transaction is dropped, it is rolled back right
//!   away, so row locks a dead guest held (`FOR UPDATE SKIP LOCKED` claims) are released now
//!   rather than whenever the pool next hands that client out.
//! - TLS uses rustls with the webpki (Mozilla) roots where Spin uses native-tls.
//! - Error text built from `anyhow` errors uses `{:#}` (one line) where Spin uses `{:?}`, so a
//!   host backtrace can never reach the guest.
//! - Pools are kept for every address ever opened (Spin's cache keeps 16), and there is no
//!   limit on open connections beyond each pool's 64 clients.

// The WIT `error` is what the guest receives, so it is returned by value as Spin does, however
// large its `db-error` case makes it.
#![allow(clippy::result_large_err)]

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, OnceLock, PoisonError},
};

use anyhow::{Context, anyhow};
use futures::TryStreamExt;
use tokio_postgres::{
    Row,
    config::{Host as PgHost, SslMode},
    types::{FromSql, IsNull, ToSql, Type, to_sql_checked},
};
use wasmtime::component::Resource;

use crate::bindings::spin::postgres4_0_0::postgres::{
    self as pg, Column, DbDataType, DbValue, ParameterValue, RangeBoundKind, RowSet,
};
use crate::state::HostState;

/// Max clients in one address's pool (Spin's `CONNECTION_POOL_SIZE`, client.rs).
const CONNECTION_POOL_SIZE: usize = 64;

/// Largest query result held in host memory (spin-world's `MAX_HOST_BUFFERED_BYTES`).
pub(crate) const MAX_HOST_BUFFERED_BYTES: usize = 128 << 20;

/// Run on a pooled client before it is handed out again. deadpool's `RecyclingMethod::Clean`
/// (which Spin uses) is everything after the `ROLLBACK`; on its own it runs inside a transaction
/// a previous guest left open, and passes that transaction on.
const RECYCLE_SQL: &str = "ROLLBACK; CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; \
                           UNLISTEN *; SELECT pg_advisory_unlock_all(); DISCARD TEMP; \
                           DISCARD SEQUENCES;";

// ---------------------------------------------------------------------------------------------
// Host trait implementations
// ---------------------------------------------------------------------------------------------

impl pg::Host for HostState {}

impl pg::HostConnection for HostState {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<Connection>, pg::Error>> {
        let allowed = &self.component.allowed_hosts;
        let connection = match Connection::open(&self.services.postgres, &address, |url, scheme| {
            allowed.allows_url(url, scheme)
        })
        .await
        {
            Ok(connection) => connection,
            Err(e) => return Ok(Err(e)),
        };
        // Spin's table is bounded; running out of room is "too many connections" (host.rs).
        Ok(self
            .table
            .push(connection)
            .map_err(|_| pg::Error::ConnectionFailed("too many connections".into())))
    }

    async fn query(
        &mut self,
        connection: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<RowSet, pg::Error>> {
        Ok(match self.table.get_mut(&connection) {
            Ok(connection) => connection.query(&statement, params).await,
            Err(_) => Err(no_connection()),
        })
    }

    async fn execute(
        &mut self,
        connection: Resource<Connection>,
        statement: String,
        params: Vec<ParameterValue>,
    ) -> wasmtime::Result<Result<u64, pg::Error>> {
        Ok(match self.table.get_mut(&connection) {
            Ok(connection) => connection.execute(&statement, params).await,
            Err(_) => Err(no_connection()),
        })
    }

    async fn drop(&mut self, connection: Resource<Connection>) -> wasmtime::Result<()> {
        // Dropping the `Connection` gives its client back to the pool.
        self.table.delete(connection)?;
        Ok(())
    }
}

/// Spin's answer when a handle is not in its connection table (host.rs).
fn no_connection() -> pg::Error {
    pg::Error::ConnectionFailed("no connection found".into())
}

// ---------------------------------------------------------------------------------------------
// Pools and connections
// ---------------------------------------------------------------------------------------------

/// One client pool per connection string, shared by every component instance.
#[derive(Default)]
pub struct Pools {
    pools: Mutex<HashMap<String, deadpool_postgres::Pool>>,
}

impl Pools {
    /// A client for `address`, creating its pool on first use (client.rs `get_client`).
    async fn get_client(&self, address: &str) -> anyhow::Result<deadpool_postgres::Object> {
        let pool = {
            let mut pools = self.pools.lock().unwrap_or_else(PoisonError::into_inner);
            match pools.get(address) {
                Some(pool) => pool.clone(),
                None => {
                    let pool = create_connection_pool(address)
                        .context("establishing PostgreSQL connection pool")?;
                    pools.insert(address.to_owned(), pool.clone());
                    pool
                }
            }
        };
        Ok(pool.get().await?)
    }
}

/// Creates the pool for one address (client.rs `create_connection_pool`).
fn create_connection_pool(address: &str) -> anyhow::Result<deadpool_postgres::Pool> {
    let config = address
        .parse::<tokio_postgres::Config>()
        .context("parsing Postgres connection string")?;
    let mgr_config = deadpool_postgres::ManagerConfig {
        recycling_method: deadpool_postgres::RecyclingMethod::Custom(RECYCLE_SQL.into()),
    };
    // Spin connects without TLS only when told to; otherwise tokio-postgres negotiates TLS
    // (`prefer`, the default, falls back to plain text only if the server refuses TLS).
    let mgr = if config.get_ssl_mode() == SslMode::Disable {
        deadpool_postgres::Manager::from_config(config, tokio_postgres::NoTls, mgr_config)
    } else {
        deadpool_postgres::Manager::from_config(config, tls_connector()?, mgr_config)
    };
    deadpool_postgres::Pool::builder(mgr)
        .max_size(CONNECTION_POOL_SIZE)
        .build()
        .context("building Postgres connection pool")
}

/// A rustls connector trusting the webpki (Mozilla) roots, built once.
fn tls_connector() -> anyhow::Result<tokio_postgres_rustls::MakeRustlsConnect> {
    static CONFIG: OnceLock<rustls::ClientConfig> = OnceLock::new();
    if let Some(config) = CONFIG.get() {
        return Ok(tokio_postgres_rustls::MakeRustlsConnect::new(
            config.clone(),
        ));
    }
    let roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    // An explicit provider: relying on the process default would depend on which rustls
    // features other crates in the build happen to enable.
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .context("configuring TLS")?
    .with_root_certificates(roots)
    .with_no_client_auth();
    let config = CONFIG.get_or_init(|| config);
    Ok(tokio_postgres_rustls::MakeRustlsConnect::new(
        config.clone(),
    ))
}

/// Checks every host in a connection string against the component's allowed hosts, exactly as
/// Spin's `AllowedHostChecker::ensure_address_allowed` (allowed_hosts.rs) does: each TCP host is
/// checked as `host:port` (the port at the same index, or the only port), with `postgres` as
/// the scheme; a Unix socket is refused outright.
fn ensure_address_allowed(
    address: &str,
    allows_url: impl Fn(&str, &str) -> bool,
) -> Result<(), pg::Error> {
    let config = address
        .parse::<tokio_postgres::Config>()
        .map_err(|e| pg::Error::ConnectionFailed(e.to_string()))?;
    let ports = config.get_ports();
    for (i, host) in config.get_hosts().iter().enumerate() {
        match host {
            PgHost::Tcp(host) => {
                let port = ports.get(i).or_else(|| {
                    if ports.len() == 1 {
                        ports.first()
                    } else {
                        None
                    }
                });
                let port = port.map(|p| format!(":{p}")).unwrap_or_default();
                let url = format!("{host}{port}");
                if !allows_url(&url, "postgres") {
                    return Err(pg::Error::ConnectionFailed(format!(
                        "address postgres://{url} is not permitted"
                    )));
                }
            }
            #[cfg(unix)]
            PgHost::Unix(_) => {
                return Err(pg::Error::ConnectionFailed(
                    "Unix sockets are not supported on WebAssembly".into(),
                ));
            }
        }
    }
    Ok(())
}

/// The host side of a guest's `connection` resource: one pooled client, held until the guest
/// drops the resource (or its instance goes away).
pub struct Connection {
    /// `None` only while being dropped.
    client: Option<deadpool_postgres::Object>,
    /// Whether the guest may have left a transaction open (see [`TxTracker`]).
    tx: TxTracker,
}

impl Connection {
    /// Checks `address` against the allowed hosts, then takes a client from its pool.
    async fn open(
        pools: &Pools,
        address: &str,
        allows_url: impl Fn(&str, &str) -> bool,
    ) -> Result<Self, pg::Error> {
        ensure_address_allowed(address, allows_url)?;
        // The guest supplied the address and credentials, so any failure to connect is a
        // connection failure (host.rs `open_connection`).
        let client = pools
            .get_client(address)
            .await
            .map_err(|e| pg::Error::ConnectionFailed(format!("{e:#}")))?;
        Ok(Self {
            client: Some(client),
            tx: TxTracker::default(),
        })
    }

    fn client(&self) -> &tokio_postgres::Client {
        self.client.as_ref().expect("client is only taken on drop")
    }

    /// client.rs `Client::execute`: a parameter that cannot be converted is
    /// `ValueConversionFailed` here (but `BadParameter` in `query`).
    async fn execute(
        &mut self,
        statement: &str,
        params: Vec<ParameterValue>,
    ) -> Result<u64, pg::Error> {
        let params = params
            .iter()
            .map(to_sql_parameter)
            .collect::<anyhow::Result<Vec<_>>>()
            .map_err(|e| pg::Error::ValueConversionFailed(format!("{e:#}")))?;
        let params_refs: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|b| b.as_ref() as &(dyn ToSql + Sync))
            .collect();
        self.tx.observe(statement);
        self.client()
            .execute(statement, &params_refs)
            .await
            .map_err(query_failed)
    }

    /// client.rs `Client::query`: columns come from the first row (so an empty result has
    /// none), rows are converted as they stream in, and the result is capped at
    /// [`MAX_HOST_BUFFERED_BYTES`]. Errors while streaming rows, including database errors
    /// raised during execution, are `QueryFailed(Text)`, as in Spin.
    async fn query(
        &mut self,
        statement: &str,
        params: Vec<ParameterValue>,
    ) -> Result<RowSet, pg::Error> {
        let params = to_sql_parameters(&params)?;
        self.tx.observe(statement);
        let results = self
            .client()
            .query_raw(statement, params)
            .await
            .map_err(query_failed)?;
        let mut results = std::pin::pin!(results);

        let mut columns = None;
        let mut byte_count = std::mem::size_of::<RowSet>();
        let mut rows = Vec::new();
        async {
            while let Some(row) = results.try_next().await? {
                if columns.is_none() {
                    columns = Some(infer_columns(&row));
                }
                let row = convert_row(&row)?;
                byte_count += row.iter().map(memory_size).sum::<usize>();
                if byte_count > MAX_HOST_BUFFERED_BYTES {
                    anyhow::bail!("query result exceeds limit of {MAX_HOST_BUFFERED_BYTES} bytes")
                }
                rows.push(row);
            }
            Ok(())
        }
        .await
        .map_err(|e: anyhow::Error| {
            pg::Error::QueryFailed(pg::QueryError::Text(format!("{e:#}")))
        })?;

        Ok(RowSet {
            columns: columns.unwrap_or_default(),
            rows,
        })
    }
}

impl Drop for Connection {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        if !self.tx.maybe_open {
            return; // back to the pool as is
        }
        // Roll back now so the guest's locks go with it; the client returns to the pool when
        // the task ends. Without a runtime the recycle-time ROLLBACK still covers correctness.
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(e) = client.batch_execute("ROLLBACK").await {
                    tracing::debug!("rolling back a dropped PostgreSQL connection: {e}");
                }
            });
        }
    }
}

/// Tracks, from the statements a guest sends, whether it may have a transaction open.
///
/// Only used to decide whether to roll back when the connection is dropped; a wrong guess costs
/// either one needless `ROLLBACK` or lock release at recycle time instead of at drop time, never
/// correctness. Statements arrive one at a time (extended protocol), so the first keyword is
/// what counts.
#[derive(Debug, Default)]
struct TxTracker {
    maybe_open: bool,
}

impl TxTracker {
    fn observe(&mut self, statement: &str) {
        let mut words = leading_words(statement);
        let first = words.next().unwrap_or_default();
        match first.as_str() {
            "begin" | "start" => self.maybe_open = true,
            // `ROLLBACK TO [SAVEPOINT]` and `... AND CHAIN` keep a transaction open.
            "commit" | "end" | "rollback" | "abort" => {
                let rest: Vec<String> = words.collect();
                let keeps_open = rest.first().is_some_and(|w| w == "to")
                    || rest.iter().any(|w| w == "chain") && !rest.iter().any(|w| w == "no");
                self.maybe_open = keeps_open;
            }
            "prepare" if words.next().is_some_and(|w| w == "transaction") => {
                self.maybe_open = false;
            }
            _ => {}
        }
    }
}

/// Lower-cased leading SQL words, skipping whitespace and comments.
fn leading_words(statement: &str) -> impl Iterator<Item = String> + '_ {
    let mut rest = statement;
    std::iter::from_fn(move || {
        loop {
            rest = rest.trim_start();
            if let Some(after) = rest.strip_prefix("--") {
                rest = after.split_once('\n').map_or("", |(_, tail)| tail);
            } else if let Some(after) = rest.strip_prefix("/*") {
                rest = after.split_once("*/").map_or("", |(_, tail)| tail);
            } else {
                break;
            }
        }
        let end = rest
            .find(|c: char| !c.is_ascii_alphabetic())
            .unwrap_or(rest.len());
        if end == 0 {
            return None;
        }
        let word = rest[..end].to_ascii_lowercase();
        rest = &rest[end..];
        Some(word)
    })
}

// ---------------------------------------------------------------------------------------------
// Errors (client.rs `query_failed`, `pg_extras`)
// ---------------------------------------------------------------------------------------------

/// A tokio-postgres error as Spin reports it: structured when the server sent the error.
fn query_failed(e: tokio_postgres::Error) -> pg::Error {
    // Spin's `as_text` is the error's `Debug` form. That is tokio-postgres's own struct dump
    // (no backtrace can be in it), so it is kept verbatim for guests that match on it.
    let flattened = format!("{e:?}");
    let query_error = match e.as_db_error() {
        None => pg::QueryError::Text(flattened),
        Some(dbe) => pg::QueryError::DbError(pg::DbError {
            as_text: flattened,
            severity: dbe.severity().to_owned(),
            code: dbe.code().code().to_owned(),
            message: dbe.message().to_owned(),
            detail: dbe.detail().map(|s| s.to_owned()),
            extras: pg_extras(dbe),
        }),
    };
    pg::Error::QueryFailed(query_error)
}

/// The optional fields of a server error, named as Spin names them.
fn pg_extras(dbe: &tokio_postgres::error::DbError) -> Vec<(String, String)> {
    let mut extras = vec![];
    macro_rules! pg_extra {
        ( $n:ident ) => {
            if let Some(value) = dbe.$n() {
                extras.push((stringify!($n).to_owned(), value.to_string()));
            }
        };
    }
    pg_extra!(column);
    pg_extra!(constraint);
    pg_extra!(routine);
    pg_extra!(hint);
    pg_extra!(table);
    pg_extra!(datatype);
    pg_extra!(schema);
    pg_extra!(file);
    pg_extra!(line);
    pg_extra!(where_);
    extras
}

// ---------------------------------------------------------------------------------------------
// Columns and values from PostgreSQL (types.rs `convert_data_type`, `convert_entry`)
// ---------------------------------------------------------------------------------------------

fn infer_columns(row: &Row) -> Vec<Column> {
    row.columns()
        .iter()
        .map(|column| Column {
            name: column.name().to_owned(),
            data_type: convert_data_type(column.type_()),
        })
        .collect()
}

/// The declared type of a column. Note `timestamptz` is reported as `datetime`, even though
/// reading one fails (see [`convert_entry`]).
fn convert_data_type(pg_type: &Type) -> DbDataType {
    match *pg_type {
        Type::BOOL => DbDataType::Boolean,
        Type::BYTEA => DbDataType::Binary,
        Type::FLOAT4 => DbDataType::Floating32,
        Type::FLOAT8 => DbDataType::Floating64,
        Type::INT2 => DbDataType::Int16,
        Type::INT4 => DbDataType::Int32,
        Type::INT8 => DbDataType::Int64,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR => DbDataType::Str,
        Type::TIMESTAMP | Type::TIMESTAMPTZ => DbDataType::Datetime,
        Type::DATE => DbDataType::Date,
        Type::TIME => DbDataType::Time,
        Type::UUID => DbDataType::Uuid,
        Type::JSONB => DbDataType::Jsonb,
        Type::NUMERIC => DbDataType::Decimal,
        Type::INT4_RANGE => DbDataType::RangeInt32,
        Type::INT8_RANGE => DbDataType::RangeInt64,
        Type::NUM_RANGE => DbDataType::RangeDecimal,
        Type::INT4_ARRAY => DbDataType::ArrayInt32,
        Type::INT8_ARRAY => DbDataType::ArrayInt64,
        Type::NUMERIC_ARRAY => DbDataType::ArrayDecimal,
        Type::TEXT_ARRAY | Type::VARCHAR_ARRAY | Type::BPCHAR_ARRAY => DbDataType::ArrayStr,
        Type::INTERVAL => DbDataType::Interval,
        _ => DbDataType::Other(pg_type.name().to_owned()),
    }
}

fn convert_row(row: &Row) -> anyhow::Result<Vec<DbValue>> {
    (0..row.len())
        .map(|index| convert_entry(row, index))
        .collect()
}

fn db_value<'a, T: FromSql<'a>>(
    row: &'a Row,
    index: usize,
    convert_fn: impl Fn(T) -> DbValue,
) -> anyhow::Result<DbValue> {
    let value: Option<T> = row.try_get(index)?;
    Ok(value.map_or(DbValue::DbNull, convert_fn))
}

fn map_db_value<'a, T: FromSql<'a>, W>(
    row: &'a Row,
    index: usize,
    ctor: impl Fn(W) -> DbValue,
    convert_fn: impl Fn(T) -> W,
) -> anyhow::Result<DbValue> {
    let value: Option<T> = row.try_get(index)?;
    Ok(value.map_or(DbValue::DbNull, |v| ctor(convert_fn(v))))
}

fn try_map_db_value<'a, T: FromSql<'a>, W>(
    row: &'a Row,
    index: usize,
    ctor: impl Fn(W) -> DbValue,
    convert_fn: impl Fn(T) -> anyhow::Result<W>,
) -> anyhow::Result<DbValue> {
    let value: Option<T> = row.try_get(index)?;
    Ok(match value {
        Some(v) => ctor(convert_fn(v)?),
        None => DbValue::DbNull,
    })
}

/// One value of a row. Spin reads `timestamp` and `timestamptz` alike as a chrono
/// `NaiveDateTime`, which tokio-postgres only accepts for `timestamp`: reading a `timestamptz`
/// column fails ("cannot convert between the Rust type ... NaiveDateTime and the Postgres type
/// timestamptz"). Types with no WIT form come back as their raw binary value.
fn convert_entry(row: &Row, index: usize) -> anyhow::Result<DbValue> {
    let column = &row.columns()[index];
    match column.type_() {
        &Type::BOOL => db_value(row, index, DbValue::Boolean),
        &Type::BYTEA => db_value(row, index, DbValue::Binary),
        &Type::FLOAT4 => db_value(row, index, DbValue::Floating32),
        &Type::FLOAT8 => db_value(row, index, DbValue::Floating64),
        &Type::INT2 => db_value(row, index, DbValue::Int16),
        &Type::INT4 => db_value(row, index, DbValue::Int32),
        &Type::INT8 => db_value(row, index, DbValue::Int64),
        &Type::TEXT | &Type::VARCHAR | &Type::BPCHAR => db_value(row, index, DbValue::Str),
        &Type::TIMESTAMP | &Type::TIMESTAMPTZ => {
            try_map_db_value(row, index, DbValue::Datetime, datetime_pg_to_wit)
        }
        &Type::DATE => try_map_db_value(row, index, DbValue::Date, date_pg_to_wit),
        &Type::TIME => try_map_db_value(row, index, DbValue::Time, time_pg_to_wit),
        &Type::UUID => map_db_value(row, index, DbValue::Uuid, |v: uuid::Uuid| v.to_string()),
        &Type::JSONB => try_map_db_value(row, index, DbValue::Jsonb, jsonb_pg_to_wit),
        &Type::NUMERIC => map_db_value(row, index, DbValue::Decimal, |v: rust_decimal::Decimal| {
            v.to_string()
        }),
        &Type::INT4_RANGE => map_db_value(row, index, DbValue::RangeInt32, range_pg_to_wit),
        &Type::INT8_RANGE => map_db_value(row, index, DbValue::RangeInt64, range_pg_to_wit),
        &Type::NUM_RANGE => {
            map_db_value(row, index, DbValue::RangeDecimal, decimal_range_pg_to_wit)
        }
        &Type::INT4_ARRAY => db_value(row, index, DbValue::ArrayInt32),
        &Type::INT8_ARRAY => db_value(row, index, DbValue::ArrayInt64),
        &Type::NUMERIC_ARRAY => {
            map_db_value(row, index, DbValue::ArrayDecimal, decimal_array_pg_to_wit)
        }
        &Type::TEXT_ARRAY | &Type::VARCHAR_ARRAY | &Type::BPCHAR_ARRAY => {
            db_value(row, index, DbValue::ArrayStr)
        }
        &Type::INTERVAL => map_db_value(row, index, DbValue::Interval, |v: Interval| v.0),
        _ => map_db_value(row, index, DbValue::Unsupported, |v: Other| v.0),
    }
}

/// The bytes a value holds in host memory (spin-world `DbValue::memory_size`), for the
/// result-size cap.
fn memory_size(value: &DbValue) -> usize {
    let base = std::mem::size_of::<DbValue>();
    match value {
        DbValue::DbNull
        | DbValue::Boolean(_)
        | DbValue::Int8(_)
        | DbValue::Int16(_)
        | DbValue::Int32(_)
        | DbValue::Int64(_)
        | DbValue::Floating32(_)
        | DbValue::Floating64(_)
        | DbValue::Date(_)
        | DbValue::Time(_)
        | DbValue::Datetime(_)
        | DbValue::Timestamp(_)
        | DbValue::RangeInt32(_)
        | DbValue::RangeInt64(_)
        | DbValue::RangeDecimal(_)
        | DbValue::Interval(_) => base,
        DbValue::ArrayInt32(v) => base + v.len() * std::mem::size_of::<Option<i32>>(),
        DbValue::ArrayInt64(v) => base + v.len() * std::mem::size_of::<Option<i64>>(),
        DbValue::ArrayDecimal(v) | DbValue::ArrayStr(v) => {
            base + v
                .iter()
                .map(|s| std::mem::size_of::<Option<String>>() + s.as_ref().map_or(0, String::len))
                .sum::<usize>()
        }
        DbValue::Str(s) | DbValue::Uuid(s) | DbValue::Decimal(s) => base + s.len(),
        DbValue::Jsonb(b) | DbValue::Binary(b) | DbValue::Unsupported(b) => base + b.len(),
    }
}

// ---------------------------------------------------------------------------------------------
// Parameters to PostgreSQL (types.rs `to_sql_parameter`, `to_sql_parameters`)
// ---------------------------------------------------------------------------------------------

/// `query`'s parameter conversion: a failure is `BadParameter`.
fn to_sql_parameters(
    params: &[ParameterValue],
) -> Result<Vec<Box<dyn ToSql + Send + Sync>>, pg::Error> {
    params
        .iter()
        .map(to_sql_parameter)
        .collect::<anyhow::Result<Vec<_>>>()
        .map_err(|e| pg::Error::BadParameter(format!("{e:#}")))
}

/// Each parameter becomes the Rust type Spin binds, and tokio-postgres then checks that type
/// against what PostgreSQL inferred for the placeholder. Hence, as in Spin: `int8` is `i8`,
/// which only PostgreSQL's `"char"` accepts; `datetime` is a `NaiveDateTime` (`timestamp`
/// only, so `$1::timestamptz` fails with WrongType); `timestamp` is a `DateTime<Utc>`
/// (`timestamptz` only); `db-null` is a NULL any type accepts.
fn to_sql_parameter(value: &ParameterValue) -> anyhow::Result<Box<dyn ToSql + Send + Sync>> {
    Ok(match value {
        ParameterValue::Boolean(v) => Box::new(*v),
        ParameterValue::Int32(v) => Box::new(*v),
        ParameterValue::Int64(v) => Box::new(*v),
        ParameterValue::Int8(v) => Box::new(*v),
        ParameterValue::Int16(v) => Box::new(*v),
        ParameterValue::Floating32(v) => Box::new(*v),
        ParameterValue::Floating64(v) => Box::new(*v),
        ParameterValue::Str(v) => Box::new(v.clone()),
        ParameterValue::Binary(v) => Box::new(v.clone()),
        ParameterValue::Date(v) => Box::new(date_wit_to_pg(v)?),
        ParameterValue::Time(v) => Box::new(time_wit_to_pg(v)?),
        ParameterValue::Datetime(v) => Box::new(datetime_wit_to_pg(v)?),
        ParameterValue::Timestamp(v) => Box::new(timestamp_wit_to_pg(*v)?),
        ParameterValue::Uuid(v) => Box::new(uuid_wit_to_pg(v)?),
        ParameterValue::Jsonb(v) => Box::new(jsonb_wit_to_pg(v)?),
        ParameterValue::Decimal(v) => Box::new(decimal_wit_to_pg(v)?),
        ParameterValue::RangeInt32(v) => Box::new(range_wit_to_pg(*v)),
        ParameterValue::RangeInt64(v) => Box::new(range_wit_to_pg(*v)),
        ParameterValue::RangeDecimal(v) => Box::new(decimal_range_wit_to_pg(v)?),
        ParameterValue::ArrayInt32(vs) => Box::new(vs.to_owned()),
        ParameterValue::ArrayInt64(vs) => Box::new(vs.to_owned()),
        ParameterValue::ArrayDecimal(vs) => Box::new(decimal_array_wit_to_pg(vs)?),
        ParameterValue::ArrayStr(vs) => Box::new(vs.to_owned()),
        ParameterValue::Interval(v) => Box::new(Interval(*v)),
        ParameterValue::DbNull => Box::new(PgNull),
    })
}

// ---------------------------------------------------------------------------------------------
// Value conversions (types/convert.rs)
// ---------------------------------------------------------------------------------------------

type WitRange<T> = (Option<(T, RangeBoundKind)>, Option<(T, RangeBoundKind)>);

fn jsonb_pg_to_wit(value: serde_json::Value) -> anyhow::Result<Vec<u8>> {
    serde_json::to_vec(&value).context("invalid JSON from database")
}

fn jsonb_wit_to_pg(value: &[u8]) -> anyhow::Result<serde_json::Value> {
    serde_json::from_slice(value)
        .with_context(|| format!("invalid JSON {}", String::from_utf8_lossy(value)))
}

fn uuid_wit_to_pg(value: &str) -> anyhow::Result<uuid::Uuid> {
    uuid::Uuid::parse_str(value).with_context(|| format!("invalid UUID {value}"))
}

fn decimal_wit_to_pg(value: &str) -> anyhow::Result<rust_decimal::Decimal> {
    rust_decimal::Decimal::from_str_exact(value).with_context(|| format!("invalid decimal {value}"))
}

fn decimal_array_pg_to_wit(value: Vec<Option<rust_decimal::Decimal>>) -> Vec<Option<String>> {
    value.iter().map(|opt| opt.map(|d| d.to_string())).collect()
}

fn decimal_array_wit_to_pg(
    value: &[Option<String>],
) -> anyhow::Result<Vec<Option<rust_decimal::Decimal>>> {
    value
        .iter()
        .map(|v| match v {
            None => Ok(None),
            Some(v) => rust_decimal::Decimal::from_str_exact(v)
                .with_context(|| format!("invalid decimal {v}"))
                .map(Some),
        })
        .collect()
}

/// An empty range has no bounds, so it reads as `(none, none)`, like an unbounded one.
fn range_pg_to_wit<T: Copy + postgres_range::Normalizable + PartialOrd>(
    value: postgres_range::Range<T>,
) -> WitRange<T> {
    let lower = value
        .lower()
        .map(|b| (b.value, range_bound_kind_pg_to_wit(b.type_)));
    let upper = value
        .upper()
        .map(|b| (b.value, range_bound_kind_pg_to_wit(b.type_)));
    (lower, upper)
}

/// Integer ranges are normalised to PostgreSQL's canonical `[lower, upper)` form by
/// `postgres_range` before they are sent.
fn range_wit_to_pg<T: postgres_range::Normalizable + PartialOrd>(
    (lower, upper): WitRange<T>,
) -> postgres_range::Range<T> {
    let lower = lower.map(|(value, kind)| {
        postgres_range::RangeBound::new(value, range_bound_kind_wit_to_pg(kind))
    });
    let upper = upper.map(|(value, kind)| {
        postgres_range::RangeBound::new(value, range_bound_kind_wit_to_pg(kind))
    });
    postgres_range::Range::new(lower, upper)
}

fn decimal_range_pg_to_wit(value: postgres_range::Range<RangeableDecimal>) -> WitRange<String> {
    let lower = value
        .lower()
        .map(|b| (b.value.0.to_string(), range_bound_kind_pg_to_wit(b.type_)));
    let upper = value
        .upper()
        .map(|b| (b.value.0.to_string(), range_bound_kind_pg_to_wit(b.type_)));
    (lower, upper)
}

fn decimal_range_wit_to_pg(
    (lower, upper): &WitRange<String>,
) -> anyhow::Result<postgres_range::Range<RangeableDecimal>> {
    let lower = lower
        .as_ref()
        .map(decimal_range_bound_wit_to_pg)
        .transpose()?;
    let upper = upper
        .as_ref()
        .map(decimal_range_bound_wit_to_pg)
        .transpose()?;
    Ok(postgres_range::Range::new(lower, upper))
}

fn decimal_range_bound_wit_to_pg<S: postgres_range::BoundSided>(
    (value, kind): &(String, RangeBoundKind),
) -> anyhow::Result<postgres_range::RangeBound<S, RangeableDecimal>> {
    let dec = rust_decimal::Decimal::from_str_exact(value)
        .with_context(|| format!("invalid decimal {value}"))?;
    Ok(postgres_range::RangeBound::new(
        RangeableDecimal(dec),
        range_bound_kind_wit_to_pg(*kind),
    ))
}

fn range_bound_kind_wit_to_pg(kind: RangeBoundKind) -> postgres_range::BoundType {
    match kind {
        RangeBoundKind::Inclusive => postgres_range::BoundType::Inclusive,
        RangeBoundKind::Exclusive => postgres_range::BoundType::Exclusive,
    }
}

fn range_bound_kind_pg_to_wit(kind: postgres_range::BoundType) -> RangeBoundKind {
    match kind {
        postgres_range::BoundType::Inclusive => RangeBoundKind::Inclusive,
        postgres_range::BoundType::Exclusive => RangeBoundKind::Exclusive,
    }
}

fn datetime_pg_to_wit(
    value: chrono::NaiveDateTime,
) -> anyhow::Result<(i32, u8, u8, u8, u8, u8, u32)> {
    use chrono::{Datelike, Timelike};
    Ok((
        value.year(),
        value.month().try_into()?,
        value.day().try_into()?,
        value.hour().try_into()?,
        value.minute().try_into()?,
        value.second().try_into()?,
        value.nanosecond(),
    ))
}

fn datetime_wit_to_pg(
    (y, mon, d, h, min, s, ns): &(i32, u8, u8, u8, u8, u8, u32),
) -> anyhow::Result<chrono::NaiveDateTime> {
    let date = chrono::NaiveDate::from_ymd_opt(*y, (*mon).into(), (*d).into())
        .ok_or_else(|| anyhow!("invalid date y={y}, m={mon}, d={d}"))?;
    let time = chrono::NaiveTime::from_hms_nano_opt((*h).into(), (*min).into(), (*s).into(), *ns)
        .ok_or_else(|| anyhow!("invalid time {h}:{min}:{s}:{ns}"))?;
    Ok(chrono::NaiveDateTime::new(date, time))
}

fn date_wit_to_pg((y, mon, d): &(i32, u8, u8)) -> anyhow::Result<chrono::NaiveDate> {
    chrono::NaiveDate::from_ymd_opt(*y, (*mon).into(), (*d).into())
        .ok_or_else(|| anyhow!("invalid date y={y}, m={mon}, d={d}"))
}

fn date_pg_to_wit(value: chrono::NaiveDate) -> anyhow::Result<(i32, u8, u8)> {
    use chrono::Datelike;
    Ok((
        value.year(),
        value.month().try_into()?,
        value.day().try_into()?,
    ))
}

fn time_wit_to_pg((h, min, s, ns): &(u8, u8, u8, u32)) -> anyhow::Result<chrono::NaiveTime> {
    chrono::NaiveTime::from_hms_nano_opt((*h).into(), (*min).into(), (*s).into(), *ns)
        .ok_or_else(|| anyhow!("invalid time {h}:{min}:{s}:{ns}"))
}

fn time_pg_to_wit(value: chrono::NaiveTime) -> anyhow::Result<(u8, u8, u8, u32)> {
    use chrono::Timelike;
    Ok((
        value.hour().try_into()?,
        value.minute().try_into()?,
        value.second().try_into()?,
        value.nanosecond(),
    ))
}

/// Seconds since the Unix epoch (types/convert.rs `timestamp_wit_to_pg`).
fn timestamp_wit_to_pg(value: i64) -> anyhow::Result<chrono::DateTime<chrono::Utc>> {
    chrono::DateTime::<chrono::Utc>::from_timestamp(value, 0)
        .ok_or_else(|| anyhow!("invalid epoch timestamp {value}"))
}

// ---------------------------------------------------------------------------------------------
// Helper SQL types (types/{decimal,interval,other,pg_null}.rs)
// ---------------------------------------------------------------------------------------------

/// `Decimal` usable as a `postgres_range` bound (not normalised: `numrange` is continuous).
#[derive(Clone, Copy, Debug, PartialEq, PartialOrd)]
struct RangeableDecimal(rust_decimal::Decimal);

impl ToSql for RangeableDecimal {
    to_sql_checked!();

    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        self.0.to_sql(ty, out)
    }

    fn accepts(ty: &Type) -> bool {
        <rust_decimal::Decimal as ToSql>::accepts(ty)
    }
}

impl FromSql<'_> for RangeableDecimal {
    fn from_sql(ty: &Type, raw: &[u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Self(<rust_decimal::Decimal as FromSql>::from_sql(ty, raw)?))
    }

    fn accepts(ty: &Type) -> bool {
        <rust_decimal::Decimal as FromSql>::accepts(ty)
    }
}

impl postgres_range::Normalizable for RangeableDecimal {
    fn normalize<S: postgres_range::BoundSided>(
        bound: postgres_range::RangeBound<S, Self>,
    ) -> postgres_range::RangeBound<S, Self> {
        bound
    }
}

impl std::fmt::Display for RangeableDecimal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// PostgreSQL's binary `interval`: microseconds, days, months.
#[derive(Debug)]
struct Interval(pg::Interval);

impl ToSql for Interval {
    to_sql_checked!();

    fn to_sql(
        &self,
        _ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        use bytes::BufMut;
        out.put_i64(self.0.micros);
        out.put_i32(self.0.days);
        out.put_i32(self.0.months);
        Ok(IsNull::No)
    }

    fn accepts(ty: &Type) -> bool {
        matches!(ty, &Type::INTERVAL)
    }
}

impl FromSql<'_> for Interval {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        let raw: [u8; 16] = raw
            .try_into()
            .map_err(|_| "unexpected binary format for Postgres INTERVAL")?;
        let (micros, rest) = raw.split_at(8);
        let (days, months) = rest.split_at(4);
        Ok(Self(pg::Interval {
            micros: i64::from_be_bytes(micros.try_into()?),
            days: i32::from_be_bytes(days.try_into()?),
            months: i32::from_be_bytes(months.try_into()?),
        }))
    }

    fn accepts(ty: &Type) -> bool {
        matches!(ty, &Type::INTERVAL)
    }
}

/// Any value of a type with no WIT form, as PostgreSQL's binary encoding of it.
struct Other(Vec<u8>);

impl FromSql<'_> for Other {
    fn from_sql(_ty: &Type, raw: &[u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Self(raw.to_owned()))
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }
}

/// A NULL that binds to a parameter of any type (an `Option::<T>::None` would be checked
/// against `T`).
#[derive(Debug)]
struct PgNull;

impl ToSql for PgNull {
    to_sql_checked!();

    fn to_sql(
        &self,
        _ty: &Type,
        _out: &mut bytes::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        Ok(IsNull::Yes)
    }

    fn accepts(_ty: &Type) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    //! Conversions and checks that need no database.

    use super::*;

    fn allow_all(_: &str, _: &str) -> bool {
        true
    }

    /// What `ensure_address_allowed` asks the allow-list, and what it answers when refused.
    fn checked_urls(address: &str) -> (Vec<(String, String)>, Result<(), pg::Error>) {
        let asked = Mutex::new(Vec::new());
        let result = ensure_address_allowed(address, |url, scheme| {
            asked
                .lock()
                .unwrap()
                .push((url.to_owned(), scheme.to_owned()));
            false
        });
        (asked.into_inner().unwrap(), result)
    }

    /// allowed_hosts.rs: a refused host is `connection-failed("address postgres://HOST:PORT is
    /// not permitted")`; a URL without a port gets tokio-postgres's default 5432.
    #[test]
    fn denied_host_message_matches_spin() {
        let (asked, result) = checked_urls("postgres://user:pw@10.9.9.9/todo?sslmode=disable");
        assert_eq!(asked, [("10.9.9.9:5432".to_owned(), "postgres".to_owned())]);
        assert!(
            matches!(&result, Err(pg::Error::ConnectionFailed(m)) if m == "address postgres://10.9.9.9:5432 is not permitted"),
            "{result:?}"
        );
    }

    /// allowed_hosts.rs: every host is checked, each with the port at its index, or the only
    /// port; key-value strings without a port are checked without one.
    #[test]
    fn every_host_is_checked_with_its_port() {
        let asked = Mutex::new(Vec::new());
        let record = |url: &str, _: &str| {
            asked.lock().unwrap().push(url.to_owned());
            true
        };
        ensure_address_allowed("postgres://a:1,b:2/db", record).unwrap();
        ensure_address_allowed("host=c,d port=5433 user=x", record).unwrap();
        ensure_address_allowed("host=e user=x", record).unwrap();
        assert_eq!(
            asked.into_inner().unwrap(),
            ["a:1", "b:2", "c:5433", "d:5433", "e"]
        );
    }

    #[test]
    fn unix_sockets_and_bad_strings_fail_to_connect() {
        let result = ensure_address_allowed("host=/var/run/postgresql user=x", allow_all);
        assert!(
            matches!(&result, Err(pg::Error::ConnectionFailed(m)) if m == "Unix sockets are not supported on WebAssembly"),
            "{result:?}"
        );
        let result = ensure_address_allowed("postgres://x:notaport/db", allow_all);
        assert!(
            matches!(result, Err(pg::Error::ConnectionFailed(_))),
            "{result:?}"
        );
    }

    /// Spin's own test `timestamp_is_interpreted_as_seconds` (types/convert.rs).
    #[test]
    fn timestamp_is_interpreted_as_seconds() {
        let ts = timestamp_wit_to_pg(0).unwrap();
        assert_eq!(
            chrono::NaiveDate::from_ymd_opt(1970, 1, 1).unwrap(),
            ts.date_naive()
        );
        let ts = timestamp_wit_to_pg(60 * 60 + 2 * 60 + 3).unwrap();
        assert_eq!(chrono::NaiveTime::from_hms_opt(1, 2, 3).unwrap(), ts.time());
        let ts = timestamp_wit_to_pg(-60 * 60 * 24).unwrap();
        assert_eq!(
            chrono::NaiveDate::from_ymd_opt(1969, 12, 31).unwrap(),
            ts.date_naive()
        );
    }

    /// Spin's tests `can_convert_decimal_range_*` and `can_convert_decimal_array_*`.
    #[test]
    fn decimal_ranges_and_arrays_convert_like_spin() {
        let range = (
            Some(("123.45".to_string(), RangeBoundKind::Inclusive)),
            Some(("456.789789".to_string(), RangeBoundKind::Exclusive)),
        );
        let pg = decimal_range_wit_to_pg(&range).unwrap();
        let (Some(lower), Some(upper)) = (pg.lower(), pg.upper()) else {
            panic!("both bounds should be present");
        };
        assert_eq!(rust_decimal::Decimal::new(12345, 2), lower.value.0);
        assert_eq!(postgres_range::BoundType::Inclusive, lower.type_);
        assert_eq!(rust_decimal::Decimal::new(456789789, 6), upper.value.0);
        assert_eq!(postgres_range::BoundType::Exclusive, upper.type_);
        let (lower, upper) = decimal_range_pg_to_wit(pg);
        assert_eq!(lower, Some(("123.45".into(), RangeBoundKind::Inclusive)));
        assert_eq!(
            upper,
            Some(("456.789789".into(), RangeBoundKind::Exclusive))
        );

        let arr = vec![
            Some("12.34".to_string()),
            None,
            Some("123456789.987654321".to_string()),
        ];
        let pg = decimal_array_wit_to_pg(&arr).unwrap();
        assert_eq!(pg[0], Some(rust_decimal::Decimal::new(1234, 2)));
        assert_eq!(pg[1], None);
        assert_eq!(decimal_array_pg_to_wit(pg), arr);
    }

    /// Invalid inputs fail with Spin's messages (types/convert.rs).
    #[test]
    fn invalid_parameters_fail_with_spins_messages() {
        let message = |p: ParameterValue| format!("{:#}", to_sql_parameter(&p).unwrap_err());
        assert!(message(ParameterValue::Uuid("nope".into())).starts_with("invalid UUID nope: "));
        assert!(
            message(ParameterValue::Decimal("1.2.3".into())).starts_with("invalid decimal 1.2.3: ")
        );
        assert!(message(ParameterValue::Jsonb(b"{".to_vec())).starts_with("invalid JSON {: "));
        assert_eq!(
            message(ParameterValue::Date((2023, 2, 29))),
            "invalid date y=2023, m=2, d=29"
        );
        assert_eq!(
            message(ParameterValue::Time((24, 0, 0, 0))),
            "invalid time 24:0:0:0"
        );
        assert_eq!(
            message(ParameterValue::Datetime((2024, 1, 1, 0, 60, 0, 0))),
            "invalid time 0:60:0:0"
        );
        assert_eq!(
            message(ParameterValue::Timestamp(i64::MAX)),
            format!("invalid epoch timestamp {}", i64::MAX)
        );
        // `query` reports these as `bad-parameter`.
        let err = to_sql_parameters(&[ParameterValue::Uuid("nope".into())]).unwrap_err();
        assert!(matches!(err, pg::Error::BadParameter(m) if m.starts_with("invalid UUID nope")));
    }

    #[test]
    fn interval_binary_round_trips() {
        let value = pg::Interval {
            micros: -1_500_000,
            days: 3,
            months: 14,
        };
        let mut buf = bytes::BytesMut::new();
        Interval(value).to_sql(&Type::INTERVAL, &mut buf).unwrap();
        let back = Interval::from_sql(&Type::INTERVAL, &buf).unwrap().0;
        assert_eq!((back.micros, back.days, back.months), (-1_500_000, 3, 14));
        assert!(Interval::from_sql(&Type::INTERVAL, &buf[..15]).is_err());
    }

    #[test]
    fn transaction_tracking_follows_transaction_statements() {
        let after = |statements: &[&str]| {
            let mut tx = TxTracker::default();
            statements.iter().for_each(|s| tx.observe(s));
            tx.maybe_open
        };
        assert!(after(&["BEGIN"]));
        assert!(after(&[
            "  -- claim\n /* batch */ start transaction isolation level serializable"
        ]));
        assert!(!after(&["BEGIN", "COMMIT"]));
        assert!(!after(&["begin", "select 1", "rollback"]));
        assert!(after(&["BEGIN", "ROLLBACK TO SAVEPOINT a"]));
        assert!(after(&["BEGIN", "COMMIT AND CHAIN"]));
        assert!(!after(&["BEGIN", "COMMIT AND NO CHAIN"]));
        assert!(!after(&["BEGIN", "PREPARE TRANSACTION 'x'"]));
        assert!(!after(&["SELECT 1", "INSERT INTO t VALUES (1)"]));
    }
}

#[cfg(test)]
mod db_tests {
    //! Against the real PostgreSQL: `postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable`
    //! unless `SPIN_HOST_TEST_PG_URL` names another; set it to `skip` to skip these tests.

    use super::*;

    fn pg_url() -> Option<String> {
        match std::env::var("SPIN_HOST_TEST_PG_URL") {
            Ok(url) if url == "skip" => None,
            Ok(url) => Some(url),
            Err(_) => Some("postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable".into()),
        }
    }

    async fn open(pools: &Pools, url: &str) -> Connection {
        Connection::open(pools, url, |_, _| true)
            .await
            .unwrap_or_else(|e| panic!("opening {url}: {e:?}"))
    }

    /// A table name no other test run uses.
    fn unique_table(prefix: &str) -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        format!("{prefix}_{}_{nanos}", std::process::id())
    }

    fn debug_strings<T: std::fmt::Debug>(values: &[T]) -> Vec<String> {
        values.iter().map(|v| format!("{v:?}")).collect()
    }

    async fn query_one(
        conn: &mut Connection,
        sql: &str,
        params: Vec<ParameterValue>,
    ) -> (String, String) {
        let rs = conn
            .query(sql, params)
            .await
            .unwrap_or_else(|e| panic!("{sql}: {e:?}"));
        assert_eq!(rs.rows.len(), 1, "{sql}");
        (
            format!("{:?}", rs.columns[0].data_type),
            format!("{:?}", rs.rows[0][0]),
        )
    }

    /// Every WIT parameter type is written and read back through its PostgreSQL type with
    /// the column type and value types.rs produces.
    #[tokio::test]
    async fn every_type_round_trips() {
        let Some(url) = pg_url() else { return };
        let pools = Pools::default();
        let mut conn = open(&pools, &url).await;
        conn.execute(
            "CREATE TEMP TABLE rt (b bool, i2 int2, i4 int4, i8 int8, f4 float4, f8 float8, \
             s text, vc varchar(10), bp char(3), by bytea, d date, tm time, ts timestamp, \
             u uuid, j jsonb, n numeric, r4 int4range, r8 int8range, rn numrange, a4 int4[], \
             a8 int8[], an numeric[], ast text[], iv interval, nul int4)",
            vec![],
        )
        .await
        .unwrap();
        let uuid = "0190a5b4-6c2f-7a11-8e3b-123456789abc";
        let params = vec![
            ParameterValue::Boolean(true),
            ParameterValue::Int16(-12),
            ParameterValue::Int32(123_456),
            ParameterValue::Int64(1 << 40),
            ParameterValue::Floating32(1.5),
            ParameterValue::Floating64(-2.25),
            ParameterValue::Str("hello".into()),
            ParameterValue::Str("vc".into()),
            ParameterValue::Str("ab".into()),
            ParameterValue::Binary(vec![0, 1, 255]),
            ParameterValue::Date((2024, 2, 29)),
            ParameterValue::Time((23, 59, 58, 123_456_000)),
            ParameterValue::Datetime((2024, 2, 29, 12, 34, 56, 789_000_000)),
            ParameterValue::Uuid(uuid.to_uppercase()),
            ParameterValue::Jsonb(br#"{"b": 1, "a": [true, null]}"#.to_vec()),
            ParameterValue::Decimal("123.4500".into()),
            ParameterValue::RangeInt32((
                Some((1, RangeBoundKind::Inclusive)),
                Some((5, RangeBoundKind::Inclusive)),
            )),
            ParameterValue::RangeInt64((Some((10, RangeBoundKind::Exclusive)), None)),
            ParameterValue::RangeDecimal((
                Some(("1.5".into(), RangeBoundKind::Inclusive)),
                Some(("2.25".into(), RangeBoundKind::Exclusive)),
            )),
            ParameterValue::ArrayInt32(vec![Some(1), None, Some(3)]),
            ParameterValue::ArrayInt64(vec![Some(i64::MIN)]),
            ParameterValue::ArrayDecimal(vec![Some("1.10".into()), None]),
            ParameterValue::ArrayStr(vec![Some("x".into()), None]),
            ParameterValue::Interval(pg::Interval {
                micros: 3_600_000_000,
                days: 2,
                months: 14,
            }),
            ParameterValue::DbNull,
        ];
        let placeholders: Vec<String> = (1..=params.len()).map(|i| format!("${i}")).collect();
        let inserted = conn
            .execute(
                &format!("INSERT INTO rt VALUES ({})", placeholders.join(", ")),
                params,
            )
            .await
            .unwrap();
        assert_eq!(inserted, 1);

        let rs = conn.query("SELECT * FROM rt", vec![]).await.unwrap();
        let names: Vec<&str> = rs.columns.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names[..3], ["b", "i2", "i4"]);
        let types: Vec<String> = rs
            .columns
            .iter()
            .map(|c| format!("{:?}", c.data_type))
            .collect();
        assert_eq!(
            types,
            [
                "DbDataType::Boolean",
                "DbDataType::Int16",
                "DbDataType::Int32",
                "DbDataType::Int64",
                "DbDataType::Floating32",
                "DbDataType::Floating64",
                "DbDataType::Str",
                "DbDataType::Str",
                "DbDataType::Str",
                "DbDataType::Binary",
                "DbDataType::Date",
                "DbDataType::Time",
                "DbDataType::Datetime",
                "DbDataType::Uuid",
                "DbDataType::Jsonb",
                "DbDataType::Decimal",
                "DbDataType::RangeInt32",
                "DbDataType::RangeInt64",
                "DbDataType::RangeDecimal",
                "DbDataType::ArrayInt32",
                "DbDataType::ArrayInt64",
                "DbDataType::ArrayDecimal",
                "DbDataType::ArrayStr",
                "DbDataType::Interval",
                "DbDataType::Int32",
            ]
        );
        let expected = [
            "DbValue::Boolean(true)".to_string(),
            "DbValue::Int16(-12)".into(),
            "DbValue::Int32(123456)".into(),
            "DbValue::Int64(1099511627776)".into(),
            "DbValue::Floating32(1.5)".into(),
            "DbValue::Floating64(-2.25)".into(),
            "DbValue::Str(\"hello\")".into(),
            "DbValue::Str(\"vc\")".into(),
            // char(n) pads with spaces.
            "DbValue::Str(\"ab \")".into(),
            "DbValue::Binary([0, 1, 255])".into(),
            "DbValue::Date((2024, 2, 29))".into(),
            "DbValue::Time((23, 59, 58, 123456000))".into(),
            "DbValue::Datetime((2024, 2, 29, 12, 34, 56, 789000000))".into(),
            // uuid::Uuid::to_string is lower-case hyphenated.
            format!("DbValue::Uuid({uuid:?})"),
            // Re-serialised by serde_json: compact, keys sorted.
            format!(
                "DbValue::Jsonb({:?})",
                br#"{"a":[true,null],"b":1}"#.to_vec()
            ),
            // NUMERIC keeps the scale it was given.
            "DbValue::Decimal(\"123.4500\")".into(),
            // Integer ranges come back in PostgreSQL's canonical [lower, upper) form.
            "DbValue::RangeInt32((Some((1, RangeBoundKind::Inclusive)), Some((6, RangeBoundKind::Exclusive))))".into(),
            "DbValue::RangeInt64((Some((11, RangeBoundKind::Inclusive)), None))".into(),
            "DbValue::RangeDecimal((Some((\"1.5\", RangeBoundKind::Inclusive)), Some((\"2.25\", RangeBoundKind::Exclusive))))"
                .into(),
            "DbValue::ArrayInt32([Some(1), None, Some(3)])".into(),
            "DbValue::ArrayInt64([Some(-9223372036854775808)])".into(),
            "DbValue::ArrayDecimal([Some(\"1.10\"), None])".into(),
            "DbValue::ArrayStr([Some(\"x\"), None])".into(),
            "DbValue::Interval(Interval { micros: 3600000000, days: 2, months: 14 })".into(),
            "DbValue::DbNull".into(),
        ];
        assert_eq!(debug_strings(&rs.rows[0]), expected);
    }

    /// The documented timestamp behaviour (DESIGN.md "Platform facts", from types.rs and
    /// types/convert.rs): a `timestamptz` column is typed `datetime` but cannot be read; a
    /// `datetime` parameter cannot be bound to `timestamptz`; the UTC conversions work.
    #[tokio::test]
    async fn timestamptz_behaves_as_in_spin() {
        let Some(url) = pg_url() else { return };
        let pools = Pools::default();
        let mut conn = open(&pools, &url).await;

        let err = conn.query("SELECT now() AS t", vec![]).await.unwrap_err();
        let pg::Error::QueryFailed(pg::QueryError::Text(text)) = &err else {
            panic!("expected query-failed(text), got {err:?}");
        };
        // Spin reads through `Option<NaiveDateTime>`, hence the type named in the message.
        assert!(
            text.starts_with(
                "error deserializing column 0: cannot convert between the Rust type \
                 `core::option::Option<chrono::naive::datetime::NaiveDateTime>` and the \
                 Postgres type `timestamptz`"
            ),
            "{text}"
        );

        let dt = ParameterValue::Datetime((2025, 6, 1, 8, 30, 0, 0));
        let err = conn
            .query("SELECT $1::timestamptz", vec![dt.clone()])
            .await
            .unwrap_err();
        assert!(
            matches!(&err, pg::Error::QueryFailed(pg::QueryError::Text(t)) if t.contains("WrongType") && t.contains("Timestamptz")),
            "{err:?}"
        );
        let err = conn
            .execute("SELECT $1::timestamptz", vec![dt.clone()])
            .await
            .unwrap_err();
        assert!(
            matches!(&err, pg::Error::QueryFailed(pg::QueryError::Text(t)) if t.contains("WrongType")),
            "{err:?}"
        );

        // The workaround the components use: write `$1::timestamp AT TIME ZONE 'UTC'`, read
        // `col AT TIME ZONE 'UTC'`.
        conn.execute("CREATE TEMP TABLE tz (at timestamptz)", vec![])
            .await
            .unwrap();
        conn.execute(
            "INSERT INTO tz VALUES ($1::timestamp AT TIME ZONE 'UTC')",
            vec![dt],
        )
        .await
        .unwrap();
        let (ty, value) =
            query_one(&mut conn, "SELECT (at AT TIME ZONE 'UTC') FROM tz", vec![]).await;
        assert_eq!(ty, "DbDataType::Datetime");
        assert_eq!(value, "DbValue::Datetime((2025, 6, 1, 8, 30, 0, 0))");

        // `timestamp` (epoch seconds) binds to timestamptz only.
        let (_, value) = query_one(
            &mut conn,
            "SELECT ($1::timestamptz AT TIME ZONE 'UTC')",
            vec![ParameterValue::Timestamp(86_400 + 61)],
        )
        .await;
        assert_eq!(value, "DbValue::Datetime((1970, 1, 2, 0, 1, 1, 0))");
        let err = conn
            .query("SELECT $1::timestamp", vec![ParameterValue::Timestamp(0)])
            .await
            .unwrap_err();
        assert!(
            matches!(&err, pg::Error::QueryFailed(pg::QueryError::Text(t)) if t.contains("WrongType")),
            "{err:?}"
        );
    }

    /// types.rs: `int8` is bound as Rust `i8`, which tokio-postgres maps to `"char"`; a type
    /// with no WIT form is `other(<type name>)` with its raw binary value as `unsupported`.
    #[tokio::test]
    async fn odd_and_unsupported_types() {
        let Some(url) = pg_url() else { return };
        let pools = Pools::default();
        let mut conn = open(&pools, &url).await;

        let (ty, value) = query_one(
            &mut conn,
            "SELECT $1::\"char\"",
            vec![ParameterValue::Int8(65)],
        )
        .await;
        assert_eq!(ty, "DbDataType::Other(\"char\")");
        assert_eq!(value, "DbValue::Unsupported([65])");
        let err = conn
            .query("SELECT $1::int2", vec![ParameterValue::Int8(1)])
            .await
            .unwrap_err();
        assert!(
            matches!(&err, pg::Error::QueryFailed(pg::QueryError::Text(t)) if t.contains("WrongType")),
            "{err:?}"
        );

        // inet's binary form: family (2 = IPv4), prefix bits, is-cidr, length, address.
        let (ty, value) = query_one(&mut conn, "SELECT '10.0.0.1'::inet", vec![]).await;
        assert_eq!(ty, "DbDataType::Other(\"inet\")");
        assert_eq!(value, "DbValue::Unsupported([2, 32, 0, 4, 10, 0, 0, 1])");
        let (ty, value) = query_one(&mut conn, "SELECT '{\"a\":1}'::json", vec![]).await;
        assert_eq!(ty, "DbDataType::Other(\"json\")");
        assert_eq!(
            value,
            format!("DbValue::Unsupported({:?})", br#"{"a":1}"#.to_vec())
        );
        let (ty, value) = query_one(&mut conn, "SELECT NULL::inet", vec![]).await;
        assert_eq!(
            (ty.as_str(), value.as_str()),
            ("DbDataType::Other(\"inet\")", "DbValue::DbNull")
        );

        // `db-null` binds to a parameter of any type.
        let (ty, value) =
            query_one(&mut conn, "SELECT $1::uuid", vec![ParameterValue::DbNull]).await;
        assert_eq!(
            (ty.as_str(), value.as_str()),
            ("DbDataType::Uuid", "DbValue::DbNull")
        );

        // client.rs takes the columns from the first row, so an empty result has none.
        let rs = conn
            .query("SELECT 1 AS x WHERE false", vec![])
            .await
            .unwrap();
        assert!(rs.columns.is_empty() && rs.rows.is_empty());
    }

    /// client.rs `query_failed`: server errors carry the structured `db-error`; a parameter that
    /// cannot be converted is `bad-parameter` from `query` but `value-conversion-failed` from
    /// `execute`.
    #[tokio::test]
    async fn errors_map_to_spins_variants() {
        let Some(url) = pg_url() else { return };
        let pools = Pools::default();
        let mut conn = open(&pools, &url).await;

        let err = conn.query("SELEC 1", vec![]).await.unwrap_err();
        let pg::Error::QueryFailed(pg::QueryError::DbError(db)) = &err else {
            panic!("expected db-error, got {err:?}");
        };
        assert_eq!((db.severity.as_str(), db.code.as_str()), ("ERROR", "42601"));
        assert!(db.message.contains("syntax error"), "{db:?}");
        assert!(db.as_text.starts_with("Error { kind: Db"), "{}", db.as_text);

        conn.execute("CREATE TEMP TABLE uq (id int PRIMARY KEY)", vec![])
            .await
            .unwrap();
        conn.execute("INSERT INTO uq VALUES (1)", vec![])
            .await
            .unwrap();
        let err = conn
            .execute("INSERT INTO uq VALUES ($1)", vec![ParameterValue::Int32(1)])
            .await
            .unwrap_err();
        let pg::Error::QueryFailed(pg::QueryError::DbError(db)) = &err else {
            panic!("expected db-error, got {err:?}");
        };
        assert_eq!(db.code, "23505");
        assert_eq!(db.detail.as_deref(), Some("Key (id)=(1) already exists."));
        assert!(
            db.extras.contains(&("constraint".into(), "uq_pkey".into())),
            "{:?}",
            db.extras
        );
        assert!(
            db.extras.contains(&("table".into(), "uq".into())),
            "{:?}",
            db.extras
        );

        let bad = || vec![ParameterValue::Uuid("nope".into())];
        let err = conn.query("SELECT $1::uuid", bad()).await.unwrap_err();
        assert!(
            matches!(&err, pg::Error::BadParameter(m) if m.starts_with("invalid UUID nope")),
            "{err:?}"
        );
        let err = conn.execute("SELECT $1::uuid", bad()).await.unwrap_err();
        assert!(
            matches!(&err, pg::Error::ValueConversionFailed(m) if m.starts_with("invalid UUID nope")),
            "{err:?}"
        );

        // An error raised while rows stream in is text, as in client.rs's streaming `query`.
        let err = conn
            .query("SELECT 1 / x FROM (VALUES (1), (0)) AS v(x)", vec![])
            .await
            .unwrap_err();
        assert!(
            matches!(&err, pg::Error::QueryFailed(pg::QueryError::Text(t)) if t.contains("division by zero")),
            "{err:?}"
        );
    }

    /// host.rs: failing to connect is `connection-failed`; without `sslmode=disable` Spin
    /// insists on TLS, which a server with a self-signed certificate fails (DESIGN.md).
    #[tokio::test]
    async fn connection_failures() {
        let Some(url) = pg_url() else { return };
        let pools = Pools::default();
        let err = Connection::open(
            &pools,
            "postgres://postgres@127.0.0.1:1/postgres?sslmode=disable",
            |_, _| true,
        )
        .await
        .err()
        .expect("nothing listens on port 1");
        assert!(
            matches!(&err, pg::Error::ConnectionFailed(m) if m.contains("error connecting to server")),
            "{err:?}"
        );

        let mut conn = open(&pools, &url).await;
        let (_, ssl) = query_one(&mut conn, "SELECT current_setting('ssl')", vec![]).await;
        if ssl == "DbValue::Str(\"on\")" && url.contains("sslmode=disable") {
            let tls_url = url.replace("sslmode=disable", "sslmode=require");
            let err = Connection::open(&pools, &tls_url, |_, _| true).await.err();
            assert!(
                matches!(&err, Some(pg::Error::ConnectionFailed(m)) if m.contains("certificate")),
                "{err:?}"
            );
        }
    }

    /// A connection holds one client, so `BEGIN` ... `COMMIT` through `execute` is a
    /// transaction others cannot see into (DESIGN.md "Platform facts").
    #[tokio::test]
    async fn begin_commit_through_execute_is_a_transaction() {
        let Some(url) = pg_url() else { return };
        let pools = Pools::default();
        let table = unique_table("spin_host_tx");
        let mut a = open(&pools, &url).await;
        let mut b = open(&pools, &url).await;
        a.execute(&format!("CREATE TABLE {table} (x int)"), vec![])
            .await
            .unwrap();
        let count = format!("SELECT count(*)::int4 FROM {table}");

        a.execute("BEGIN", vec![]).await.unwrap();
        a.execute(&format!("INSERT INTO {table} VALUES (1)"), vec![])
            .await
            .unwrap();
        assert_eq!(
            query_one(&mut a, &count, vec![]).await.1,
            "DbValue::Int32(1)"
        );
        assert_eq!(
            query_one(&mut b, &count, vec![]).await.1,
            "DbValue::Int32(0)"
        );
        a.execute("COMMIT", vec![]).await.unwrap();
        assert_eq!(
            query_one(&mut b, &count, vec![]).await.1,
            "DbValue::Int32(1)"
        );

        b.execute(&format!("DROP TABLE {table}"), vec![])
            .await
            .unwrap();
    }

    /// A client handed back inside a transaction, open or aborted, is rolled back when it is
    /// recycled, and reused rather than discarded. (Spin's `RecyclingMethod::Clean` alone would
    /// pass the open transaction on to the next request.)
    #[tokio::test]
    async fn recycling_rolls_back_open_and_aborted_transactions() {
        let Some(url) = pg_url() else { return };
        let pools = Pools::default();
        let table = unique_table("spin_host_recycle");
        let mut setup = open(&pools, &url).await;
        setup
            .execute(&format!("CREATE TABLE {table} (x int)"), vec![])
            .await
            .unwrap();
        drop(setup);

        for abort in [false, true] {
            let mut conn = open(&pools, &url).await;
            let (_, pid) = query_one(&mut conn, "SELECT pg_backend_pid()", vec![]).await;
            conn.execute("BEGIN", vec![]).await.unwrap();
            conn.execute(&format!("INSERT INTO {table} VALUES (1)"), vec![])
                .await
                .unwrap();
            if abort {
                conn.query("SELECT 1/0", vec![]).await.unwrap_err();
            }
            // Leave the rollback to recycling alone, as if the drop-time rollback never ran.
            conn.tx.maybe_open = false;
            drop(conn);

            let mut next = open(&pools, &url).await;
            assert_eq!(
                query_one(&mut next, "SELECT pg_backend_pid()", vec![])
                    .await
                    .1,
                pid,
                "client was not reused"
            );
            let (_, tx) =
                query_one(&mut next, "SELECT txid_current_if_assigned()::int8", vec![]).await;
            assert_eq!(
                tx, "DbValue::DbNull",
                "a transaction is still open (abort={abort})"
            );
            let count = format!("SELECT count(*)::int4 FROM {table}");
            assert_eq!(
                query_one(&mut next, &count, vec![]).await.1,
                "DbValue::Int32(0)"
            );
        }

        let mut cleanup = open(&pools, &url).await;
        cleanup
            .execute(&format!("DROP TABLE {table}"), vec![])
            .await
            .unwrap();
    }

    /// Dropping a connection inside a transaction rolls it back at once, releasing its row
    /// locks while the client sits idle in the pool.
    #[tokio::test]
    async fn dropping_inside_a_transaction_releases_locks() {
        let Some(url) = pg_url() else { return };
        let pools = Pools::default();
        let table = unique_table("spin_host_locks");
        let mut other = open(&pools, &url).await;
        other
            .execute(&format!("CREATE TABLE {table} (x int)"), vec![])
            .await
            .unwrap();
        other
            .execute(&format!("INSERT INTO {table} VALUES (1)"), vec![])
            .await
            .unwrap();
        let claim = format!("SELECT x FROM {table} FOR UPDATE SKIP LOCKED");

        let mut guest = open(&pools, &url).await;
        guest.execute("BEGIN", vec![]).await.unwrap();
        assert_eq!(guest.query(&claim, vec![]).await.unwrap().rows.len(), 1);
        assert_eq!(
            other.query(&claim, vec![]).await.unwrap().rows.len(),
            0,
            "row should be locked"
        );
        drop(guest);

        let mut released = false;
        for _ in 0..100 {
            if other.query(&claim, vec![]).await.unwrap().rows.len() == 1 {
                released = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(released, "the dropped connection still holds its lock");
        other
            .execute(&format!("DROP TABLE {table}"), vec![])
            .await
            .unwrap();
    }
}
