//! `fermyon:spin/redis@2.0.0`: outbound Redis, with Spin's semantics.
//!
//! Follows spinframework/spin `crates/factor-outbound-redis/src/{host.rs,allowed_hosts.rs}`:
//! `open` checks the address against `allowed_outbound_hosts` (scheme `redis`) and answers
//! `invalid-address` both for a host that is not allowed and for an address the redis crate
//! cannot parse; every command failure is `other(<redis error text>)`, except a type error
//! from `sadd`; `execute` flattens the reply into a list of `redis-result`s as Spin does.
//!
//! Spin opens a new multiplexed connection per `open`. This host keeps one per address in
//! [`Clients`] and hands out clones (a multiplexed connection is built to be shared), dropping
//! it when it fails with a connection-level error so the next `open` reconnects. What a guest
//! sees differs only when Redis is down: the `open` after a failure then fails (as in Spin),
//! but an `open` that reuses a connection whose failure has not been noticed yet succeeds and
//! the command fails instead.

use std::{
    collections::HashMap,
    sync::{Mutex, PoisonError},
};

use redis::{AsyncCommands, FromRedisValue, Value, aio::MultiplexedConnection};
use wasmtime::component::Resource;

use crate::bindings::fermyon::spin2_0_0::redis::{
    self as r, Error, Payload, RedisParameter, RedisResult,
};
use crate::postgres::MAX_HOST_BUFFERED_BYTES;
use crate::state::HostState;

/// Redis connections shared by every component instance, one per address.
#[derive(Default)]
pub struct Clients {
    connections: Mutex<HashMap<String, MultiplexedConnection>>,
}

impl Clients {
    /// The connection for `address`, connecting on first use.
    async fn get(&self, address: &str) -> Result<MultiplexedConnection, Error> {
        if let Some(conn) = self.lock().get(address) {
            return Ok(conn.clone());
        }
        // As in Spin: an address the redis crate rejects is `invalid-address`; failing to
        // connect to a valid one is `other`.
        let client = redis::Client::open(address).map_err(|_| Error::InvalidAddress)?;
        let conn = client
            .get_multiplexed_async_connection()
            .await
            .map_err(other_error)?;
        // Two instances may race to connect; either connection will do.
        Ok(self
            .lock()
            .entry(address.to_owned())
            .or_insert(conn)
            .clone())
    }

    /// Forgets `address`'s connection if `error` means it can no longer be used.
    fn evict_if_broken(&self, address: &str, error: &redis::RedisError) {
        if error.is_io_error() || error.is_connection_dropped() || error.is_unrecoverable_error() {
            self.lock().remove(address);
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, MultiplexedConnection>> {
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// The host side of a guest's `connection` resource.
pub struct Connection {
    address: String,
    conn: MultiplexedConnection,
}

/// The operations, on a connection the guest holds. Each clones the multiplexed connection
/// (cheap: it is a handle to a shared pipeline) so no borrow of the store is held while the
/// command runs.
impl Connection {
    /// host.rs `open`: an address that is not allowed is `invalid-address`.
    async fn open(
        clients: &Clients,
        address: String,
        allows_url: impl Fn(&str, &str) -> bool,
    ) -> Result<Self, Error> {
        if !allows_url(&address, "redis") {
            return Err(Error::InvalidAddress);
        }
        let conn = clients.get(&address).await?;
        Ok(Self { address, conn })
    }

    /// Runs one command, forgetting the shared connection if the failure shows it is broken.
    async fn run<T>(
        &self,
        clients: &Clients,
        op: impl AsyncFnOnce(&mut MultiplexedConnection) -> Result<T, redis::RedisError>,
        map_err: impl FnOnce(redis::RedisError) -> Error,
    ) -> Result<T, Error> {
        let mut conn = self.conn.clone();
        op(&mut conn).await.map_err(|e| {
            clients.evict_if_broken(&self.address, &e);
            map_err(e)
        })
    }

    async fn publish(&self, clients: &Clients, channel: &str, payload: &[u8]) -> Result<(), Error> {
        self.run(
            clients,
            async |conn| conn.publish::<_, _, ()>(channel, payload).await,
            other_error,
        )
        .await
    }

    async fn get(&self, clients: &Clients, key: &str) -> Result<Option<Payload>, Error> {
        let value = self
            .run(
                clients,
                async |conn| conn.get::<_, Option<Vec<u8>>>(key).await,
                other_error,
            )
            .await?;
        // The redis crate cannot stream a reply, so Spin checks its limit after the fact.
        let size = std::mem::size_of::<Option<Vec<u8>>>() + value.as_ref().map_or(0, Vec::len);
        if size > MAX_HOST_BUFFERED_BYTES {
            return Err(limit_exceeded());
        }
        Ok(value)
    }

    async fn set(&self, clients: &Clients, key: &str, value: &[u8]) -> Result<(), Error> {
        self.run(
            clients,
            async |conn| conn.set::<_, _, ()>(key, value).await,
            other_error,
        )
        .await
    }

    /// Spin sends `INCRBY key 1` and reports a value that is not an integer as `other`, not
    /// `type-error`, whatever the WIT comment says.
    async fn incr(&self, clients: &Clients, key: &str) -> Result<i64, Error> {
        self.run(
            clients,
            async |conn| conn.incr::<_, _, i64>(key, 1).await,
            other_error,
        )
        .await
    }

    async fn del(&self, clients: &Clients, keys: &[String]) -> Result<u32, Error> {
        self.run(
            clients,
            async |conn| conn.del::<_, u32>(keys).await,
            other_error,
        )
        .await
    }

    /// The one operation where Spin reports a client-side type error as `type-error`.
    async fn sadd(&self, clients: &Clients, key: &str, values: &[String]) -> Result<u32, Error> {
        self.run(
            clients,
            async |conn| conn.sadd::<_, _, u32>(key, values).await,
            |e| {
                if e.kind() == redis::ErrorKind::TypeError {
                    Error::TypeError
                } else {
                    other_error(e)
                }
            },
        )
        .await
    }

    async fn smembers(&self, clients: &Clients, key: &str) -> Result<Vec<String>, Error> {
        self.run(
            clients,
            async |conn| conn.smembers::<_, Vec<String>>(key).await,
            other_error,
        )
        .await
    }

    async fn srem(&self, clients: &Clients, key: &str, values: &[String]) -> Result<u32, Error> {
        self.run(
            clients,
            async |conn| conn.srem::<_, _, u32>(key, values).await,
            other_error,
        )
        .await
    }

    async fn execute(
        &self,
        clients: &Clients,
        command: &str,
        arguments: Vec<RedisParameter>,
    ) -> Result<Vec<RedisResult>, Error> {
        let mut cmd = redis::cmd(command);
        for argument in arguments {
            match argument {
                RedisParameter::Int64(v) => cmd.arg(v),
                RedisParameter::Binary(v) => cmd.arg(v),
            };
        }
        let RedisResults(results) = self
            .run(
                clients,
                async |conn| cmd.query_async::<RedisResults>(conn).await,
                other_error,
            )
            .await?;
        let size = std::mem::size_of::<Vec<RedisResult>>()
            + results.iter().map(memory_size).sum::<usize>();
        if size > MAX_HOST_BUFFERED_BYTES {
            return Err(limit_exceeded());
        }
        Ok(results)
    }
}

impl HostState {
    /// The guest's connection and the shared clients, or Spin's error for a missing handle
    /// (host.rs `get_conn`).
    fn redis(&self, connection: &Resource<Connection>) -> Result<(&Connection, &Clients), Error> {
        let conn = self
            .table
            .get(connection)
            .map_err(|_| Error::Other("could not find connection for resource".into()))?;
        Ok((conn, &self.services.redis))
    }
}

impl r::Host for HostState {}

impl r::HostConnection for HostState {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<Connection>, Error>> {
        let allowed = &self.component.allowed_hosts;
        let opened = Connection::open(&self.services.redis, address, |url, scheme| {
            allowed.allows_url(url, scheme)
        })
        .await;
        Ok(opened.and_then(|conn| self.table.push(conn).map_err(|_| Error::TooManyConnections)))
    }

    async fn publish(
        &mut self,
        connection: Resource<Connection>,
        channel: String,
        payload: Payload,
    ) -> wasmtime::Result<Result<(), Error>> {
        let (conn, clients) = match self.redis(&connection) {
            Ok(found) => found,
            Err(e) => return Ok(Err(e)),
        };
        Ok(conn.publish(clients, &channel, &payload).await)
    }

    async fn get(
        &mut self,
        connection: Resource<Connection>,
        key: String,
    ) -> wasmtime::Result<Result<Option<Payload>, Error>> {
        let (conn, clients) = match self.redis(&connection) {
            Ok(found) => found,
            Err(e) => return Ok(Err(e)),
        };
        Ok(conn.get(clients, &key).await)
    }

    async fn set(
        &mut self,
        connection: Resource<Connection>,
        key: String,
        value: Payload,
    ) -> wasmtime::Result<Result<(), Error>> {
        let (conn, clients) = match self.redis(&connection) {
            Ok(found) => found,
            Err(e) => return Ok(Err(e)),
        };
        Ok(conn.set(clients, &key, &value).await)
    }

    async fn incr(
        &mut self,
        connection: Resource<Connection>,
        key: String,
    ) -> wasmtime::Result<Result<i64, Error>> {
        let (conn, clients) = match self.redis(&connection) {
            Ok(found) => found,
            Err(e) => return Ok(Err(e)),
        };
        Ok(conn.incr(clients, &key).await)
    }

    async fn del(
        &mut self,
        connection: Resource<Connection>,
        keys: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        let (conn, clients) = match self.redis(&connection) {
            Ok(found) => found,
            Err(e) => return Ok(Err(e)),
        };
        Ok(conn.del(clients, &keys).await)
    }

    async fn sadd(
        &mut self,
        connection: Resource<Connection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        let (conn, clients) = match self.redis(&connection) {
            Ok(found) => found,
            Err(e) => return Ok(Err(e)),
        };
        Ok(conn.sadd(clients, &key, &values).await)
    }

    async fn smembers(
        &mut self,
        connection: Resource<Connection>,
        key: String,
    ) -> wasmtime::Result<Result<Vec<String>, Error>> {
        let (conn, clients) = match self.redis(&connection) {
            Ok(found) => found,
            Err(e) => return Ok(Err(e)),
        };
        Ok(conn.smembers(clients, &key).await)
    }

    async fn srem(
        &mut self,
        connection: Resource<Connection>,
        key: String,
        values: Vec<String>,
    ) -> wasmtime::Result<Result<u32, Error>> {
        let (conn, clients) = match self.redis(&connection) {
            Ok(found) => found,
            Err(e) => return Ok(Err(e)),
        };
        Ok(conn.srem(clients, &key, &values).await)
    }

    async fn execute(
        &mut self,
        connection: Resource<Connection>,
        command: String,
        arguments: Vec<RedisParameter>,
    ) -> wasmtime::Result<Result<Vec<RedisResult>, Error>> {
        let (conn, clients) = match self.redis(&connection) {
            Ok(found) => found,
            Err(e) => return Ok(Err(e)),
        };
        Ok(conn.execute(clients, &command, arguments).await)
    }

    async fn drop(&mut self, connection: Resource<Connection>) -> wasmtime::Result<()> {
        self.table.delete(connection)?;
        Ok(())
    }
}

/// Spin's `other_error_v2`: the redis error's display text.
fn other_error(e: impl std::fmt::Display) -> Error {
    Error::Other(e.to_string())
}

fn limit_exceeded() -> Error {
    Error::Other(format!(
        "query result exceeds limit of {MAX_HOST_BUFFERED_BYTES} bytes"
    ))
}

fn memory_size(value: &RedisResult) -> usize {
    let base = std::mem::size_of::<RedisResult>();
    match value {
        RedisResult::Nil | RedisResult::Int64(_) => base,
        RedisResult::Binary(b) => base + b.len(),
        RedisResult::Status(s) => base + s.len(),
    }
}

/// An `execute` reply flattened the way Spin does it (host.rs `RedisResults`): arrays and sets
/// are flattened depth-first, `OK` becomes a status, doubles and big numbers become their
/// decimal text, booleans become 0/1, and maps, attributes, verbatim strings and pushes are
/// refused as type errors.
struct RedisResults(Vec<RedisResult>);

impl FromRedisValue for RedisResults {
    fn from_redis_value(value: &Value) -> redis::RedisResult<Self> {
        fn unsupported(what: &str) -> redis::RedisError {
            redis::RedisError::from((
                redis::ErrorKind::TypeError,
                "Could not convert Redis response",
                what.to_string(),
            ))
        }

        fn append(values: &mut Vec<RedisResult>, value: &Value) -> redis::RedisResult<()> {
            match value {
                Value::Nil => values.push(RedisResult::Nil),
                Value::Int(v) => values.push(RedisResult::Int64(*v)),
                Value::BulkString(bytes) => values.push(RedisResult::Binary(bytes.to_owned())),
                Value::SimpleString(s) => values.push(RedisResult::Status(s.to_owned())),
                Value::Okay => values.push(RedisResult::Status("OK".to_string())),
                Value::Map(_) => return Err(unsupported("Redis Map type is not supported")),
                Value::Attribute { .. } => {
                    return Err(unsupported("Redis Attribute type is not supported"));
                }
                Value::Array(arr) | Value::Set(arr) => {
                    return arr.iter().try_for_each(|value| append(values, value));
                }
                Value::Double(v) => values.push(RedisResult::Binary(v.to_string().into_bytes())),
                Value::VerbatimString { .. } => {
                    return Err(unsupported(
                        "Redis string with format attribute is not supported",
                    ));
                }
                Value::Boolean(v) => values.push(RedisResult::Int64(i64::from(*v))),
                Value::BigNumber(v) => values.push(RedisResult::Binary(v.to_string().into_bytes())),
                Value::Push { .. } => {
                    return Err(unsupported("Redis Pub/Sub types are not supported"));
                }
                Value::ServerError(err) => {
                    return Err(redis::RedisError::from((
                        redis::ErrorKind::ResponseError,
                        "Server error",
                        format!("{err:?}"),
                    )));
                }
            }
            Ok(())
        }

        let mut values = Vec::new();
        append(&mut values, value)?;
        Ok(RedisResults(values))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flatten(value: Value) -> redis::RedisResult<Vec<String>> {
        RedisResults::from_redis_value(&value)
            .map(|RedisResults(results)| results.iter().map(|r| format!("{r:?}")).collect())
    }

    /// host.rs `RedisResults`: nested arrays and sets flatten depth-first; `OK` is a status;
    /// doubles and big numbers are their text; booleans are 0/1.
    #[test]
    fn execute_replies_flatten_like_spin() {
        let reply = Value::Array(vec![
            Value::Int(7),
            Value::BulkString(b"v".to_vec()),
            Value::Nil,
            Value::SimpleString("PONG".into()),
            Value::Okay,
            Value::Set(vec![Value::Double(1.5), Value::Boolean(true)]),
            Value::BigNumber(12345678901234567890u64.into()),
        ]);
        assert_eq!(
            flatten(reply).unwrap(),
            [
                "RedisResult::Int64(7)",
                "RedisResult::Binary([118])",
                "RedisResult::Nil",
                "RedisResult::Status(\"PONG\")",
                "RedisResult::Status(\"OK\")",
                format!("RedisResult::Binary({:?})", b"1.5".to_vec()).as_str(),
                "RedisResult::Int64(1)",
                format!(
                    "RedisResult::Binary({:?})",
                    b"12345678901234567890".to_vec()
                )
                .as_str(),
            ]
        );
    }

    #[test]
    fn maps_are_refused_as_type_errors() {
        let err = flatten(Value::Map(vec![(Value::Int(1), Value::Int(2))])).unwrap_err();
        assert_eq!(err.kind(), redis::ErrorKind::TypeError);
        assert!(
            err.to_string().contains("Redis Map type is not supported"),
            "{err}"
        );
    }
}

#[cfg(test)]
mod redis_tests {
    //! Against the real Redis: `redis://127.0.0.1:6379` unless `SPIN_HOST_TEST_REDIS_URL`
    //! names another; set it to `skip` to skip these tests.

    use super::*;

    fn redis_url() -> Option<String> {
        match std::env::var("SPIN_HOST_TEST_REDIS_URL") {
            Ok(url) if url == "skip" => None,
            Ok(url) => Some(url),
            Err(_) => Some("redis://127.0.0.1:6379".into()),
        }
    }

    async fn open(clients: &Clients, url: &str) -> Connection {
        Connection::open(clients, url.to_owned(), |_, _| true)
            .await
            .unwrap_or_else(|e| panic!("opening {url}: {e:?}"))
    }

    /// A key no other test run uses.
    fn unique_key(name: &str) -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        format!("spin-host-test:{name}:{}:{nanos}", std::process::id())
    }

    /// host.rs `open`: a refused host and an unparsable address are both `invalid-address`;
    /// a valid address nobody answers on is `other`.
    #[tokio::test]
    async fn open_errors_match_spin() {
        let clients = Clients::default();
        let asked = Mutex::new(Vec::new());
        let err = Connection::open(&clients, "redis://10.9.9.9:6379".into(), |url, scheme| {
            asked
                .lock()
                .unwrap()
                .push((url.to_owned(), scheme.to_owned()));
            false
        })
        .await
        .err();
        assert!(matches!(err, Some(Error::InvalidAddress)), "{err:?}");
        assert_eq!(
            asked.into_inner().unwrap(),
            [("redis://10.9.9.9:6379".to_owned(), "redis".to_owned())]
        );

        let err = Connection::open(&clients, "not a url".into(), |_, _| true)
            .await
            .err();
        assert!(matches!(err, Some(Error::InvalidAddress)), "{err:?}");

        let err = Connection::open(&clients, "redis://127.0.0.1:1".into(), |_, _| true)
            .await
            .err();
        assert!(matches!(err, Some(Error::Other(_))), "{err:?}");
    }

    #[tokio::test]
    async fn commands_behave_as_in_spin() {
        let Some(url) = redis_url() else { return };
        let clients = Clients::default();
        let conn = open(&clients, &url).await;
        let (key, set_key, counter) = (unique_key("k"), unique_key("s"), unique_key("n"));

        assert_eq!(conn.get(&clients, &key).await.unwrap(), None);
        conn.set(&clients, &key, b"v1").await.unwrap();
        assert_eq!(
            conn.get(&clients, &key).await.unwrap(),
            Some(b"v1".to_vec())
        );

        assert_eq!(conn.incr(&clients, &counter).await.unwrap(), 1);
        assert_eq!(conn.incr(&clients, &counter).await.unwrap(), 2);
        // Spin reports a non-integer value as `other`, not `type-error`.
        let err = conn.incr(&clients, &key).await.unwrap_err();
        assert!(
            matches!(&err, Error::Other(m) if m.contains("not an integer")),
            "{err:?}"
        );

        let members = vec!["a".to_string(), "b".to_string(), "a".to_string()];
        assert_eq!(conn.sadd(&clients, &set_key, &members).await.unwrap(), 2);
        let mut got = conn.smembers(&clients, &set_key).await.unwrap();
        got.sort();
        assert_eq!(got, ["a", "b"]);
        assert_eq!(
            conn.srem(&clients, &set_key, &["a".into(), "z".into()])
                .await
                .unwrap(),
            1
        );
        // A server-side WRONGTYPE is not the client-side type error Spin maps to `type-error`.
        let err = conn.sadd(&clients, &key, &["x".into()]).await.unwrap_err();
        assert!(
            matches!(&err, Error::Other(m) if m.starts_with("WRONGTYPE")),
            "{err:?}"
        );

        let results = conn
            .execute(
                &clients,
                "MGET",
                vec![
                    RedisParameter::Binary(key.clone().into_bytes()),
                    RedisParameter::Binary(b"spin-host-test:missing".to_vec()),
                ],
            )
            .await
            .unwrap();
        assert_eq!(
            results.iter().map(|r| format!("{r:?}")).collect::<Vec<_>>(),
            [
                format!("RedisResult::Binary({:?})", b"v1".to_vec()),
                "RedisResult::Nil".into()
            ]
        );
        let results = conn
            .execute(
                &clients,
                "INCRBY",
                vec![
                    RedisParameter::Binary(counter.clone().into_bytes()),
                    RedisParameter::Int64(40),
                ],
            )
            .await
            .unwrap();
        assert_eq!(format!("{results:?}"), "[RedisResult::Int64(42)]");
        let err = conn
            .execute(&clients, "NOSUCHCOMMAND", vec![])
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Other(_)), "{err:?}");

        conn.publish(&clients, "spin-host-test", b"hello")
            .await
            .unwrap();

        let deleted = conn
            .del(&clients, &[key, set_key, counter, unique_key("never-set")])
            .await
            .unwrap();
        assert_eq!(deleted, 3);
    }

    /// A shared connection that breaks is forgotten, so the next `open` reconnects.
    #[tokio::test]
    async fn broken_connections_are_replaced() {
        let Some(url) = redis_url() else { return };
        let clients = Clients::default();
        let conn = open(&clients, &url).await;
        let id = match conn
            .execute(
                &clients,
                "CLIENT",
                vec![RedisParameter::Binary(b"ID".to_vec())],
            )
            .await
            .unwrap()[..]
        {
            [RedisResult::Int64(id)] => id,
            ref other => panic!("CLIENT ID gave {other:?}"),
        };

        let mut killer = redis::Client::open(url.as_str())
            .unwrap()
            .get_multiplexed_async_connection()
            .await
            .unwrap();
        let killed: i64 = redis::cmd("CLIENT")
            .arg("KILL")
            .arg("ID")
            .arg(id)
            .query_async(&mut killer)
            .await
            .unwrap();
        assert_eq!(killed, 1);

        let err = conn.get(&clients, "spin-host-test:any").await.unwrap_err();
        assert!(matches!(err, Error::Other(_)), "{err:?}");
        assert!(
            clients.lock().get(&url).is_none(),
            "broken connection still cached"
        );

        let again = open(&clients, &url).await;
        assert_eq!(
            again.get(&clients, "spin-host-test:missing").await.unwrap(),
            None
        );
    }
}
