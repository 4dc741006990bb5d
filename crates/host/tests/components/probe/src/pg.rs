//! `POST /pg/:probe`: exercises `spin:postgres/postgres@4.0.0` through `spin_sdk::pg4`.
//!
//! Every probe opens the database named by the component variable `db_url` (except `open`, which
//! opens the address it is given) and reports each step's outcome as `{"ok": ...}` or
//! `{"err": ...}`, so the tests can compare both values and error kinds with Spin's
//! (spinframework/spin `crates/factor-outbound-pg/src/{client.rs,types.rs,types/convert.rs}`).
//! Table names come from the tests, which own a schema each.

// `PgError` is large (it carries PostgreSQL's error fields); that is the SDK's type, not ours.
#![allow(clippy::result_large_err)]

use serde_json::{Map, Value, json};
use spin_sdk::http::Response;
use spin_sdk::pg4::{
    Column, Connection, DbDataType, DbValue, Interval, ParameterValue, PgError, QueryError,
    RangeBoundKind, RowSet,
};

use crate::reply;

pub fn probe(name: &str, body: &[u8]) -> Response {
    let body = match reply::body(body) {
        Ok(body) => body,
        Err(response) => return response,
    };
    let result = match name {
        "open" => reply::field(&body, "address").map(open),
        "types" => reply::field(&body, "table").map(|t| with_db(|db| types(db, t))),
        "timestamptz" => reply::field(&body, "table").map(|t| with_db(|db| timestamptz(db, t))),
        "errors" => reply::field(&body, "table").map(|t| with_db(|db| errors(db, t))),
        "rollback" | "commit" | "abandon" | "poison" => reply::field(&body, "table")
            .and_then(|t| Ok((t, reply::field(&body, "marker")?)))
            .map(|(t, m)| with_db(|db| transaction(db, name, t, m))),
        _ => return reply::json(404, json!({ "error": "no such pg probe" })),
    };
    match result {
        Ok(report) => reply::json(200, report),
        Err(response) => response,
    }
}

/// Opens `address` and runs `SELECT 1`.
fn open(address: &str) -> Value {
    match Connection::open(address) {
        Ok(db) => {
            json!({ "open": ok(json!(true)), "select": outcome(db.query("SELECT 1 AS one", &[]).map(|r| rows_json(&r))) })
        }
        Err(err) => json!({ "open": { "err": error_json(&err) } }),
    }
}

fn with_db(run: impl FnOnce(&Connection) -> Value) -> Value {
    let url = match spin_sdk::variables::get("db_url") {
        Ok(url) => url,
        Err(err) => {
            return json!({ "open": { "err": { "kind": "variable", "message": err.to_string() } } });
        }
    };
    match Connection::open(&url) {
        Ok(db) => run(&db),
        Err(err) => json!({ "open": { "err": error_json(&err) } }),
    }
}

/// Writes one row holding every parameter type, reads it back, and reads a type Spin does not
/// convert (`point`) and an empty result.
fn types(db: &Connection, table: &str) -> Value {
    let create = db.execute(
        &format!(
            "CREATE TABLE {table} (
                id int4 PRIMARY KEY, b bool, i16 int2, i32 int4, i64 int8, f32 real,
                f64 double precision, s text, vc varchar(20), bp char(4), bin bytea, d date,
                tm time, ts timestamp, u uuid, j jsonb, n numeric, r32 int4range, r64 int8range,
                rn numrange, a32 int4[], a64 int8[], an numeric[], astr text[], iv interval,
                ch \"char\", nul int4, nul_s text)"
        ),
        &[],
    );
    let params = vec![
        ParameterValue::Int32(1),
        ParameterValue::Boolean(true),
        ParameterValue::Int16(-12345),
        ParameterValue::Int32(2_000_000_001),
        ParameterValue::Int64(-9_000_000_000_000),
        ParameterValue::Floating32(1.5),
        ParameterValue::Floating64(-2.25e100),
        ParameterValue::Str("héllo ✓".into()),
        ParameterValue::Str("varchar".into()),
        ParameterValue::Str("ab".into()),
        ParameterValue::Binary(vec![0, 1, 2, 254, 255]),
        ParameterValue::Date((2024, 2, 29)),
        ParameterValue::Time((23, 59, 58, 123_456_000)),
        ParameterValue::Datetime((1999, 12, 31, 23, 59, 59, 999_999_000)),
        ParameterValue::Uuid("A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11".into()),
        ParameterValue::Jsonb(br#"{"b":[1,2.5,null],"a":"x"}"#.to_vec()),
        ParameterValue::Decimal("12345.678900".into()),
        ParameterValue::RangeInt32((
            Some((1, RangeBoundKind::Inclusive)),
            Some((10, RangeBoundKind::Inclusive)),
        )),
        ParameterValue::RangeInt64((None, Some((5_000_000_000, RangeBoundKind::Exclusive)))),
        ParameterValue::RangeDecimal((
            Some(("1.5".into(), RangeBoundKind::Exclusive)),
            Some(("2.25".into(), RangeBoundKind::Inclusive)),
        )),
        ParameterValue::ArrayInt32(vec![Some(1), None, Some(-3)]),
        ParameterValue::ArrayInt64(vec![Some(1 << 40), None]),
        ParameterValue::ArrayDecimal(vec![Some("1.10".into()), None, Some("-0.5".into())]),
        ParameterValue::ArrayStr(vec![Some("a".into()), None, Some("c,d".into())]),
        ParameterValue::Interval(Interval {
            micros: 3_723_000_004,
            days: 2,
            months: 14,
        }),
        ParameterValue::Int8(65),
        ParameterValue::DbNull,
        ParameterValue::DbNull,
    ];
    let placeholders: Vec<String> = (1..=params.len()).map(|i| format!("${i}")).collect();
    let insert = db.execute(
        &format!("INSERT INTO {table} VALUES ({})", placeholders.join(", ")),
        &params,
    );
    let select = db.query(
        &format!("SELECT * FROM {table} WHERE id = $1"),
        &[ParameterValue::Int32(1)],
    );
    let update = db.execute(
        &format!("UPDATE {table} SET i32 = i32 WHERE id = $1 OR id = $2"),
        &[ParameterValue::Int32(1), ParameterValue::Int32(2)],
    );
    let unsupported = db.query("SELECT '(1,2)'::point AS p", &[]);
    let empty = db.query("SELECT 1::int4 AS x WHERE false", &[]);
    json!({
        "create": outcome(create.map(|n| json!(n))),
        "insert": outcome(insert.map(|n| json!(n))),
        "select": outcome(select.map(|r| rows_json(&r))),
        "update": outcome(update.map(|n| json!(n))),
        "unsupported": outcome(unsupported.map(|r| rows_json(&r))),
        "empty": outcome(empty.map(|r| rows_json(&r))),
    })
}

/// The `timestamptz` rules of DESIGN.md's platform facts, step by step.
fn timestamptz(db: &Connection, table: &str) -> Value {
    let when = (2024, 3, 1, 12, 30, 45, 123_456_000);
    let create = db.execute(
        &format!("CREATE TABLE {table} (id int4 PRIMARY KEY, at timestamptz)"),
        &[],
    );
    let write_at_utc = db.execute(
        &format!("INSERT INTO {table} VALUES (1, ($1::timestamp AT TIME ZONE 'UTC'))"),
        &[ParameterValue::Datetime(when)],
    );
    let read_at_utc = db.query(
        &format!("SELECT (at AT TIME ZONE 'UTC') AS at FROM {table} WHERE id = 1"),
        &[],
    );
    let read_direct = db.query(&format!("SELECT at FROM {table} WHERE id = 1"), &[]);
    let bind_datetime = db.execute(
        &format!("INSERT INTO {table} VALUES (2, $1::timestamptz)"),
        &[ParameterValue::Datetime(when)],
    );
    let write_timestamp = db.execute(
        &format!("INSERT INTO {table} VALUES (3, $1)"),
        &[ParameterValue::Timestamp(1_700_000_000)],
    );
    let read_timestamp = db.query(
        &format!("SELECT (at AT TIME ZONE 'UTC') AS at FROM {table} WHERE id = 3"),
        &[],
    );
    json!({
        "create": outcome(create.map(|n| json!(n))),
        "write_at_utc": outcome(write_at_utc.map(|n| json!(n))),
        "read_at_utc": outcome(read_at_utc.map(|r| rows_json(&r))),
        "read_direct": outcome(read_direct.map(|r| rows_json(&r))),
        "bind_datetime_to_timestamptz": outcome(bind_datetime.map(|n| json!(n))),
        "write_timestamp": outcome(write_timestamp.map(|n| json!(n))),
        "read_timestamp": outcome(read_timestamp.map(|r| rows_json(&r))),
    })
}

/// Errors that reach the guest from a working connection.
fn errors(db: &Connection, table: &str) -> Value {
    let syntax = db.query("SELEC 1", &[]);
    let create = db.execute(
        &format!(
            "CREATE TABLE {table} (k int4 CONSTRAINT {}_k_key UNIQUE)",
            bare_name(table)
        ),
        &[],
    );
    let first = db.execute(
        &format!("INSERT INTO {table} VALUES ($1)"),
        &[ParameterValue::Int32(1)],
    );
    let duplicate = db.execute(
        &format!("INSERT INTO {table} VALUES ($1)"),
        &[ParameterValue::Int32(1)],
    );
    let bad_uuid = ParameterValue::Uuid("not-a-uuid".into());
    let bad_uuid_query = db.query("SELECT $1::uuid AS u", std::slice::from_ref(&bad_uuid));
    let bad_uuid_execute = db.execute("SELECT $1::uuid", &[bad_uuid]);
    let wrong_type = db.query("SELECT $1::int4 AS x", &[ParameterValue::Str("1".into())]);
    json!({
        "syntax": outcome(syntax.map(|r| rows_json(&r))),
        "create": outcome(create.map(|n| json!(n))),
        "first": outcome(first.map(|n| json!(n))),
        "duplicate": outcome(duplicate.map(|n| json!(n))),
        "bad_uuid_query": outcome(bad_uuid_query.map(|r| rows_json(&r))),
        "bad_uuid_execute": outcome(bad_uuid_execute.map(|n| json!(n))),
        "wrong_type": outcome(wrong_type.map(|r| rows_json(&r))),
    })
}

/// `BEGIN` ... on one connection. `rollback` and `commit` finish the transaction; `abandon`
/// leaves it open and `poison` leaves it aborted when the instance ends, so the tests can check
/// that neither leaks into the next request that gets the same pooled client.
fn transaction(db: &Connection, how: &str, table: &str, marker: &str) -> Value {
    let count = |db: &Connection| {
        db.query(
            &format!("SELECT count(*) AS n FROM {table} WHERE marker = $1"),
            &[ParameterValue::Str(marker.into())],
        )
        .map(|r| rows_json(&r))
    };
    let mut report = Map::new();
    report.insert(
        "begin".into(),
        outcome(db.execute("BEGIN", &[]).map(|n| json!(n))),
    );
    let insert = db.execute(
        &format!("INSERT INTO {table} (marker) VALUES ($1)"),
        &[ParameterValue::Str(marker.into())],
    );
    report.insert("insert".into(), outcome(insert.map(|n| json!(n))));
    report.insert("inside".into(), outcome(count(db)));
    match how {
        "rollback" => {
            report.insert(
                "rollback".into(),
                outcome(db.execute("ROLLBACK", &[]).map(|n| json!(n))),
            );
            report.insert("after".into(), outcome(count(db)));
        }
        "commit" => {
            report.insert(
                "commit".into(),
                outcome(db.execute("COMMIT", &[]).map(|n| json!(n))),
            );
            report.insert("after".into(), outcome(count(db)));
        }
        "poison" => {
            report.insert(
                "failing".into(),
                outcome(db.query("SELEC 1", &[]).map(|r| rows_json(&r))),
            );
        }
        _ => {}
    }
    Value::Object(report)
}

fn bare_name(table: &str) -> &str {
    table.rsplit('.').next().unwrap_or(table)
}

fn ok(value: Value) -> Value {
    json!({ "ok": value })
}

fn outcome(result: Result<Value, PgError>) -> Value {
    match result {
        Ok(value) => ok(value),
        Err(err) => json!({ "err": error_json(&err) }),
    }
}

fn error_json(err: &PgError) -> Value {
    match err {
        PgError::ConnectionFailed(message) => {
            json!({ "kind": "connection_failed", "message": message })
        }
        PgError::BadParameter(message) => json!({ "kind": "bad_parameter", "message": message }),
        PgError::QueryFailed(QueryError::Text(text)) => {
            json!({ "kind": "query_failed", "text": text })
        }
        PgError::QueryFailed(QueryError::DbError(db)) => json!({
            "kind": "query_failed",
            "db_error": {
                "as_text": db.as_text,
                "severity": db.severity,
                "code": db.code,
                "message": db.message,
                "detail": db.detail,
                "extras": db.extras.iter()
                    .map(|(k, v)| (k.clone(), Value::from(v.as_str())))
                    .collect::<Map<String, Value>>(),
            }
        }),
        PgError::ValueConversionFailed(message) => {
            json!({ "kind": "value_conversion_failed", "message": message })
        }
        PgError::Other(message) => json!({ "kind": "other", "message": message }),
    }
}

fn rows_json(rows: &RowSet) -> Value {
    json!({
        "columns": rows.columns.iter().map(column_json).collect::<Vec<_>>(),
        "rows": rows.rows.iter().map(|row| row.iter().map(value_json).collect::<Vec<_>>()).collect::<Vec<_>>(),
    })
}

fn column_json(column: &Column) -> Value {
    let data_type = match &column.data_type {
        DbDataType::Boolean => "boolean".to_owned(),
        DbDataType::Int8 => "int8".to_owned(),
        DbDataType::Int16 => "int16".to_owned(),
        DbDataType::Int32 => "int32".to_owned(),
        DbDataType::Int64 => "int64".to_owned(),
        DbDataType::Floating32 => "floating32".to_owned(),
        DbDataType::Floating64 => "floating64".to_owned(),
        DbDataType::Str => "str".to_owned(),
        DbDataType::Binary => "binary".to_owned(),
        DbDataType::Date => "date".to_owned(),
        DbDataType::Time => "time".to_owned(),
        DbDataType::Datetime => "datetime".to_owned(),
        DbDataType::Timestamp => "timestamp".to_owned(),
        DbDataType::Uuid => "uuid".to_owned(),
        DbDataType::Jsonb => "jsonb".to_owned(),
        DbDataType::Decimal => "decimal".to_owned(),
        DbDataType::RangeInt32 => "range_int32".to_owned(),
        DbDataType::RangeInt64 => "range_int64".to_owned(),
        DbDataType::RangeDecimal => "range_decimal".to_owned(),
        DbDataType::ArrayInt32 => "array_int32".to_owned(),
        DbDataType::ArrayInt64 => "array_int64".to_owned(),
        DbDataType::ArrayDecimal => "array_decimal".to_owned(),
        DbDataType::ArrayStr => "array_str".to_owned(),
        DbDataType::Interval => "interval".to_owned(),
        DbDataType::Other(name) => format!("other({name})"),
    };
    json!({ "name": column.name, "type": data_type })
}

fn bound<T: Into<Value> + Clone>(bound: &Option<(T, RangeBoundKind)>) -> Value {
    match bound {
        None => Value::Null,
        Some((value, kind)) => json!([
            value.clone().into(),
            match kind {
                RangeBoundKind::Inclusive => "inclusive",
                RangeBoundKind::Exclusive => "exclusive",
            }
        ]),
    }
}

fn value_json(value: &DbValue) -> Value {
    match value {
        DbValue::Boolean(v) => json!({ "boolean": v }),
        DbValue::Int8(v) => json!({ "int8": v }),
        DbValue::Int16(v) => json!({ "int16": v }),
        DbValue::Int32(v) => json!({ "int32": v }),
        DbValue::Int64(v) => json!({ "int64": v }),
        DbValue::Floating32(v) => json!({ "floating32": v }),
        DbValue::Floating64(v) => json!({ "floating64": v }),
        DbValue::Str(v) => json!({ "str": v }),
        DbValue::Binary(v) => json!({ "binary": v }),
        DbValue::Date((y, m, d)) => json!({ "date": [y, m, d] }),
        DbValue::Time((h, m, s, ns)) => json!({ "time": [h, m, s, ns] }),
        DbValue::Datetime((y, mo, d, h, mi, s, ns)) => {
            json!({ "datetime": [y, mo, d, h, mi, s, ns] })
        }
        DbValue::Timestamp(v) => json!({ "timestamp": v }),
        DbValue::Uuid(v) => json!({ "uuid": v }),
        DbValue::Jsonb(v) => json!({ "jsonb": String::from_utf8_lossy(v) }),
        DbValue::Decimal(v) => json!({ "decimal": v }),
        DbValue::RangeInt32((lo, hi)) => json!({ "range_int32": [bound(lo), bound(hi)] }),
        DbValue::RangeInt64((lo, hi)) => json!({ "range_int64": [bound(lo), bound(hi)] }),
        DbValue::RangeDecimal((lo, hi)) => json!({ "range_decimal": [bound(lo), bound(hi)] }),
        DbValue::ArrayInt32(v) => json!({ "array_int32": v }),
        DbValue::ArrayInt64(v) => json!({ "array_int64": v }),
        DbValue::ArrayDecimal(v) => json!({ "array_decimal": v }),
        DbValue::ArrayStr(v) => json!({ "array_str": v }),
        DbValue::Interval(v) => {
            json!({ "interval": { "micros": v.micros, "days": v.days, "months": v.months } })
        }
        DbValue::DbNull => json!({ "db_null": null }),
        DbValue::Unsupported(v) => json!({ "unsupported": v }),
    }
}
