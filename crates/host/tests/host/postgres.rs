//! `spin:postgres/postgres@4.0.0`: every parameter and column type, the `timestamptz` rules,
//! transactions on one connection, and the errors the guest sees.
//!
//! References (spinframework/spin `crates/factor-outbound-pg/src/`): `types.rs`
//! (`convert_data_type`, `convert_entry`, `to_sql_parameter`), `types/convert.rs` (range,
//! decimal, date/time and timestamp conversions), `types/interval.rs`, `types/pg_null.rs`,
//! `types/other.rs` (unsupported types as raw bytes), `client.rs` (one pooled client per
//! connection, `query_failed`, `pg_extras`, columns taken from the first row),
//! `allowed_hosts.rs` ("address postgres://<host>:<port> is not permitted"), `host.rs`
//! (connection errors are `ConnectionFailed`). DESIGN.md "Platform facts" lists the behaviours
//! checked against real Spin 4.0.2.

use serde_json::{Value, json};

use crate::support::{Manifest, PG_URL, Pg, ProbeIds, RunningApp, err, ok, start, unique};

async fn probe_app() -> RunningApp {
    start(
        &Manifest::from_app("probe.toml")
            .isolated_probe(&ProbeIds::new("pg"))
            .write(),
    )
    .await
}

#[tokio::test]
async fn every_parameter_type_round_trips_with_spins_conversions() {
    let pg = Pg::connect("types").await;
    let app = probe_app().await;
    let report = app
        .post("/pg/types", json!({ "table": pg.table("all_types") }))
        .await
        .ok_json();

    assert_eq!(ok(&report["create"], "create"), &json!(0));
    assert_eq!(ok(&report["insert"], "insert"), &json!(1), "{report}");
    // `execute` returns the number of rows affected.
    assert_eq!(ok(&report["update"], "update"), &json!(1));

    let select = ok(&report["select"], "select");
    let columns: Vec<(String, String)> = select["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["type"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let row = select["rows"][0].as_array().expect("one row");
    let value = |name: &str| -> &Value {
        let index = columns
            .iter()
            .position(|(n, _)| n == name)
            .unwrap_or_else(|| panic!("no column {name}: {columns:?}"));
        &row[index]
    };
    let column_type = |name: &str| -> &str { &columns.iter().find(|(n, _)| n == name).unwrap().1 };

    // (column, `convert_data_type`, `convert_entry` value)
    let expected = [
        ("id", "int32", json!({ "int32": 1 })),
        ("b", "boolean", json!({ "boolean": true })),
        ("i16", "int16", json!({ "int16": -12345 })),
        ("i32", "int32", json!({ "int32": 2_000_000_001 })),
        ("i64", "int64", json!({ "int64": -9_000_000_000_000i64 })),
        ("f32", "floating32", json!({ "floating32": 1.5 })),
        ("f64", "floating64", json!({ "floating64": -2.25e100 })),
        ("s", "str", json!({ "str": "héllo ✓" })),
        ("vc", "str", json!({ "str": "varchar" })),
        // BPCHAR is a `str`, blank-padded by PostgreSQL to its length.
        ("bp", "str", json!({ "str": "ab  " })),
        ("bin", "binary", json!({ "binary": [0, 1, 2, 254, 255] })),
        ("d", "date", json!({ "date": [2024, 2, 29] })),
        ("tm", "time", json!({ "time": [23, 59, 58, 123_456_000] })),
        (
            "ts",
            "datetime",
            json!({ "datetime": [1999, 12, 31, 23, 59, 59, 999_999_000] }),
        ),
        // `uuid::Uuid::to_string`: lower case, whatever case was written.
        (
            "u",
            "uuid",
            json!({ "uuid": "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11" }),
        ),
        // `rust_decimal::Decimal` keeps the scale written.
        ("n", "decimal", json!({ "decimal": "12345.678900" })),
        // int4range is discrete: PostgreSQL normalises [1,10] to [1,11).
        (
            "r32",
            "range_int32",
            json!({ "range_int32": [[1, "inclusive"], [11, "exclusive"]] }),
        ),
        (
            "r64",
            "range_int64",
            json!({ "range_int64": [null, [5_000_000_000i64, "exclusive"]] }),
        ),
        (
            "rn",
            "range_decimal",
            json!({ "range_decimal": [["1.5", "exclusive"], ["2.25", "inclusive"]] }),
        ),
        (
            "a32",
            "array_int32",
            json!({ "array_int32": [1, null, -3] }),
        ),
        (
            "a64",
            "array_int64",
            json!({ "array_int64": [1i64 << 40, null] }),
        ),
        (
            "an",
            "array_decimal",
            json!({ "array_decimal": ["1.10", null, "-0.5"] }),
        ),
        (
            "astr",
            "array_str",
            json!({ "array_str": ["a", null, "c,d"] }),
        ),
        (
            "iv",
            "interval",
            json!({ "interval": { "micros": 3_723_000_004i64, "days": 2, "months": 14 } }),
        ),
        // `ParameterValue::Int8` binds as PostgreSQL's one-byte "char"; reading "char" is not
        // converted: `DbDataType::Other("char")` and the raw bytes (`types/other.rs`).
        ("ch", "other(char)", json!({ "unsupported": [65] })),
        // `ParameterValue::DbNull` is NULL for any column type (`types/pg_null.rs`).
        ("nul", "int32", json!({ "db_null": null })),
        ("nul_s", "str", json!({ "db_null": null })),
    ];
    for (name, data_type, expected_value) in &expected {
        assert_eq!(column_type(name), *data_type, "column {name} type");
        assert_eq!(value(name), expected_value, "column {name} value");
    }
    // JSONB comes back as the bytes of `serde_json::to_vec` of the value: compare as JSON.
    assert_eq!(column_type("j"), "jsonb");
    let jsonb: Value = serde_json::from_str(value("j")["jsonb"].as_str().expect("jsonb text"))
        .expect("jsonb is JSON");
    assert_eq!(jsonb, json!({ "a": "x", "b": [1, 2.5, null] }));
    assert_eq!(
        columns.len(),
        expected.len() + 1,
        "one column per table column: {columns:?}"
    );

    // A type Spin does not convert: `Other(<type name>)` and its binary wire format
    // (`point` is two big-endian f64s).
    assert_eq!(
        ok(&report["unsupported"], "unsupported"),
        &json!({
            "columns": [{ "name": "p", "type": "other(point)" }],
            "rows": [[{ "unsupported": [63, 240, 0, 0, 0, 0, 0, 0, 64, 0, 0, 0, 0, 0, 0, 0] }]],
        })
    );
    // client.rs `query`: columns are inferred from the first row, so an empty result has none.
    assert_eq!(
        ok(&report["empty"], "empty"),
        &json!({ "columns": [], "rows": [] })
    );

    // The row really is in the database with those values.
    let row = pg
        .client
        .query_one(
            &format!(
                "SELECT i64, s, bp, u::text, r32::text, ch::text FROM {} WHERE id = 1",
                pg.table("all_types")
            ),
            &[],
        )
        .await
        .expect("read back the row");
    assert_eq!(row.get::<_, i64>(0), -9_000_000_000_000);
    assert_eq!(row.get::<_, String>(1), "héllo ✓");
    assert_eq!(row.get::<_, String>(4), "[1,11)");
    assert_eq!(row.get::<_, String>(5), "A");
    pg.drop_schema().await;
}

#[tokio::test]
async fn timestamptz_is_written_and_read_through_at_time_zone_utc_only() {
    let pg = Pg::connect("tstz").await;
    let app = probe_app().await;
    let table = pg.table("events");
    let report = app
        .post("/pg/timestamptz", json!({ "table": table }))
        .await
        .ok_json();

    ok(&report["create"], "create");
    // DESIGN.md: write `($1::timestamp AT TIME ZONE 'UTC')` with a `Datetime` ...
    assert_eq!(ok(&report["write_at_utc"], "write_at_utc"), &json!(1));
    // ... and read `(col AT TIME ZONE 'UTC')`, a TIMESTAMP → `Datetime`.
    assert_eq!(
        ok(&report["read_at_utc"], "read_at_utc"),
        &json!({
            "columns": [{ "name": "at", "type": "datetime" }],
            "rows": [[{ "datetime": [2024, 3, 1, 12, 30, 45, 123_456_000] }]],
        })
    );

    // Reading a timestamptz column directly fails: `convert_entry` reads TIMESTAMPTZ with
    // `row.try_get::<Option<chrono::NaiveDateTime>>` (types.rs `try_map_db_value`), which
    // tokio-postgres refuses; client.rs reports the row conversion error as
    // `QueryFailed(QueryError::Text(..))`.
    let direct = err(&report["read_direct"], "reading timestamptz directly");
    assert_eq!(direct["kind"], "query_failed", "{direct}");
    let text = direct["text"]
        .as_str()
        .unwrap_or_else(|| panic!("a Text query error, got {direct}"));
    assert!(
        text.contains(
            "cannot convert between the Rust type \
             `core::option::Option<chrono::naive::datetime::NaiveDateTime>` and the Postgres type \
             `timestamptz`"
        ),
        "Spin's message names both types: {text:?}"
    );
    assert!(
        !text.contains("stack backtrace"),
        "host backtraces must not leak into guest-visible errors: {text:?}"
    );

    // A `Datetime` bound to `$1::timestamptz` fails in tokio-postgres's ToSql check; Spin's
    // client.rs `query_failed` gives `QueryFailed(Text(format!("{e:?}")))`, i.e.
    // `Error { kind: ToSql(0), cause: Some(WrongType { postgres: Timestamptz, rust: "chrono::naive::datetime::NaiveDateTime" }) }`.
    let bind = err(
        &report["bind_datetime_to_timestamptz"],
        "binding a Datetime to timestamptz",
    );
    assert_eq!(bind["kind"], "query_failed", "{bind}");
    let text = bind["text"]
        .as_str()
        .unwrap_or_else(|| panic!("a Text query error, got {bind}"));
    assert!(
        text.contains("WrongType") && text.contains("NaiveDateTime"),
        "{text:?}"
    );

    // `ParameterValue::Timestamp(secs)` binds as `DateTime<Utc>` (convert.rs
    // `timestamp_wit_to_pg`), which a timestamptz column accepts when PostgreSQL can infer it.
    assert_eq!(ok(&report["write_timestamp"], "write_timestamp"), &json!(1));
    assert_eq!(
        ok(&report["read_timestamp"], "read_timestamp")["rows"],
        json!([[{ "datetime": [2023, 11, 14, 22, 13, 20, 0] }]])
    );

    // Only rows 1 and 3 were written, at the instants given (in UTC).
    let rows = pg
        .client
        .query(
            &format!(
                "SELECT id, (extract(epoch FROM at) * 1000000)::int8 FROM {table} ORDER BY id"
            ),
            &[],
        )
        .await
        .unwrap();
    let rows: Vec<(i32, i64)> = rows.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(
        rows,
        vec![(1, 1_709_296_245_123_456), (3, 1_700_000_000_000_000)]
    );
    pg.drop_schema().await;
}

#[tokio::test]
async fn begin_and_rollback_or_commit_on_one_connection_is_a_transaction() {
    let pg = Pg::connect("tx").await;
    let table = pg.table("tx");
    pg.client
        .batch_execute(&format!("CREATE TABLE {table} (marker text NOT NULL)"))
        .await
        .unwrap();
    let app = probe_app().await;
    let count = |marker: String| {
        let client = &pg.client;
        let table = table.clone();
        async move {
            client
                .query_one(
                    &format!("SELECT count(*) FROM {table} WHERE marker = $1"),
                    &[&marker],
                )
                .await
                .unwrap()
                .get::<_, i64>(0)
        }
    };
    let count_json = |n: i64| json!({ "columns": [{ "name": "n", "type": "int64" }], "rows": [[{ "int64": n }]] });

    // DESIGN.md: BEGIN ... ROLLBACK with `execute` on one `pg4::Connection` is a transaction
    // (client.rs: a connection holds one pooled client for its lifetime). Inside it, the row is
    // visible to the same connection; after ROLLBACK it is gone.
    let rolled_back = unique("rolled-back");
    let report = app
        .post(
            "/pg/rollback",
            json!({ "table": table, "marker": rolled_back }),
        )
        .await
        .ok_json();
    ok(&report["begin"], "BEGIN");
    assert_eq!(ok(&report["insert"], "INSERT"), &json!(1));
    assert_eq!(ok(&report["inside"], "count inside"), &count_json(1));
    ok(&report["rollback"], "ROLLBACK");
    assert_eq!(ok(&report["after"], "count after"), &count_json(0));
    assert_eq!(
        count(rolled_back).await,
        0,
        "a rolled-back row must not be in the table"
    );

    let committed = unique("committed");
    let report = app
        .post("/pg/commit", json!({ "table": table, "marker": committed }))
        .await
        .ok_json();
    ok(&report["commit"], "COMMIT");
    assert_eq!(ok(&report["after"], "count after"), &count_json(1));
    assert_eq!(count(committed).await, 1, "a committed row is in the table");

    // An instance that ends inside a transaction, or inside an aborted one, must not hand that
    // transaction to the next request that gets the same pooled client (DESIGN.md: recycle
    // with ROLLBACK; deadpool's `RecyclingMethod::Clean` alone would leak it).
    let abandoned = unique("abandoned");
    let report = app
        .post(
            "/pg/abandon",
            json!({ "table": table, "marker": abandoned }),
        )
        .await
        .ok_json();
    assert_eq!(ok(&report["insert"], "INSERT"), &json!(1));
    let poisoned = unique("poisoned");
    let report = app
        .post("/pg/poison", json!({ "table": table, "marker": poisoned }))
        .await
        .ok_json();
    assert_eq!(ok(&report["insert"], "INSERT"), &json!(1));
    err(&report["failing"], "the failing statement");
    for round in 0..4 {
        let marker = unique("later");
        let report = app
            .post("/pg/commit", json!({ "table": table, "marker": marker }))
            .await
            .ok_json();
        for step in ["begin", "insert", "inside", "commit", "after"] {
            ok(
                &report[step],
                &format!("round {round}, {step} after an abandoned transaction"),
            );
        }
        assert_eq!(count(marker).await, 1, "round {round}");
    }
    assert_eq!(
        count(abandoned).await,
        0,
        "an abandoned transaction was committed later"
    );
    assert_eq!(
        count(poisoned).await,
        0,
        "an aborted transaction's row was committed later"
    );
    pg.drop_schema().await;
}

#[tokio::test]
async fn database_errors_reach_the_guest_with_spins_kinds() {
    let pg = Pg::connect("errors").await;
    let app = probe_app().await;
    let table = pg.table("uniq");
    let report = app
        .post("/pg/errors", json!({ "table": table }))
        .await
        .ok_json();

    // client.rs `query_failed`: a server error is `QueryFailed(DbError { .. })` with
    // PostgreSQL's severity, SQLSTATE, message and detail, and `pg_extras` fields.
    let syntax = err(&report["syntax"], "syntax error");
    assert_eq!(syntax["kind"], "query_failed");
    assert_eq!(syntax["db_error"]["code"], "42601", "{syntax}");
    assert_eq!(syntax["db_error"]["severity"], "ERROR");
    assert!(
        syntax["db_error"]["message"]
            .as_str()
            .unwrap()
            .contains("syntax error"),
        "{syntax}"
    );

    assert_eq!(ok(&report["first"], "first insert"), &json!(1));
    let duplicate = err(&report["duplicate"], "duplicate key");
    let db_error = &duplicate["db_error"];
    assert_eq!(db_error["code"], "23505", "{duplicate}");
    assert_eq!(db_error["detail"], "Key (k)=(1) already exists.");
    assert_eq!(db_error["extras"]["constraint"], "uniq_k_key");
    assert_eq!(db_error["extras"]["table"], "uniq");
    assert_eq!(db_error["extras"]["schema"], pg.schema.as_str());
    assert!(
        db_error["as_text"]
            .as_str()
            .unwrap()
            .contains("duplicate key value"),
        "as_text is the whole error as text: {db_error}"
    );

    // A parameter Spin cannot convert (an invalid UUID string): `query` reports
    // `BadParameter`, `execute` reports `ValueConversionFailed` (client.rs).
    let bad = err(&report["bad_uuid_query"], "query with a bad UUID");
    assert_eq!(bad["kind"], "bad_parameter", "{bad}");
    assert!(
        bad["message"].as_str().unwrap().contains("not-a-uuid"),
        "{bad}"
    );
    let bad = err(&report["bad_uuid_execute"], "execute with a bad UUID");
    assert_eq!(bad["kind"], "value_conversion_failed", "{bad}");
    assert!(
        bad["message"].as_str().unwrap().contains("not-a-uuid"),
        "{bad}"
    );

    // A parameter of the wrong type for the statement fails in tokio-postgres, not in
    // PostgreSQL: `QueryFailed(Text(..))`.
    let wrong = err(&report["wrong_type"], "a string bound to int4");
    assert_eq!(wrong["kind"], "query_failed", "{wrong}");
    assert!(
        wrong["text"].as_str().is_some(),
        "a Text query error, got {wrong}"
    );
    pg.drop_schema().await;
}

#[tokio::test]
async fn opening_a_connection_is_checked_against_allowed_outbound_hosts() {
    let app = probe_app().await;
    let open = |address: String| {
        let app = &app;
        async move {
            app.post("/pg/open", json!({ "address": address }))
                .await
                .ok_json()
        }
    };

    let report = open(PG_URL.to_owned()).await;
    assert_eq!(
        ok(&report["select"], "SELECT 1"),
        &json!({ "columns": [{ "name": "one", "type": "int32" }], "rows": [[{ "int32": 1 }]] })
    );

    // allowed_hosts.rs: a host (or port) the component may not reach is refused before any
    // connection, as `ConnectionFailed("address postgres://<host>:<port> is not permitted")`.
    // (DESIGN.md saw this under Spin 4.0.2 with 10.9.9.9; loopback addresses are used here
    // so that a host that wrongly connects sends nothing off this machine.)
    for (address, shown) in [
        (
            "postgres://postgres@127.0.0.2:5432/postgres?sslmode=disable",
            "postgres://127.0.0.2:5432",
        ),
        (
            "postgres://postgres@127.0.0.1:5433/postgres?sslmode=disable",
            "postgres://127.0.0.1:5433",
        ),
        (
            "host=127.0.0.3 port=5432 user=postgres sslmode=disable",
            "postgres://127.0.0.3:5432",
        ),
    ] {
        let report = open(address.to_owned()).await;
        assert_eq!(
            report["open"],
            json!({ "err": { "kind": "connection_failed", "message": format!("address {shown} is not permitted") } }),
            "opening {address}"
        );
    }

    // An allowed host where nothing listens: host.rs `open_connection` maps any client error
    // to `ConnectionFailed`.
    let report = open("postgres://postgres@127.0.0.1:1/postgres?sslmode=disable".to_owned()).await;
    let failed = err(&report["open"], "connecting where nothing listens");
    assert_eq!(failed["kind"], "connection_failed", "{failed}");
    assert!(!failed["message"].as_str().unwrap().is_empty());

    // DESIGN.md: Spin uses TLS unless the connection string says `sslmode=disable`. Against
    // a server with TLS and a self-signed certificate the handshake fails; against one
    // without TLS, `sslmode=prefer` (the default) falls back to plain text.
    let pg = Pg::connect("tls").await;
    let server_ssl: String = pg.client.query_one("SHOW ssl", &[]).await.unwrap().get(0);
    pg.drop_schema().await;
    let report = open("postgres://postgres@127.0.0.1:5432/postgres".to_owned()).await;
    if server_ssl == "on" {
        let failed = err(&report["open"], "TLS to a self-signed server");
        assert_eq!(failed["kind"], "connection_failed", "{failed}");
    } else {
        ok(&report["select"], "plain text when the server has no TLS");
    }
}
