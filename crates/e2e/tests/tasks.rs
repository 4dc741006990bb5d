//! Tasks through the real `spin.toml` and `api.wasm` against real PostgreSQL: every route, each
//! list filter and sort, the cursor, ETag/If-Match, Idempotency-Key, isolation between users,
//! and the outbox rows each change writes (and that a rejected request writes none).

use e2e::{TestApp, TestDb, pg};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";
const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

struct Reply {
    status: StatusCode,
    headers: reqwest::header::HeaderMap,
    body: Value,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        self
    }

    fn assert_problem(&self, status: u16) {
        self.assert_status(status);
        assert_eq!(
            self.header("content-type"),
            Some("application/problem+json"),
            "{}",
            self.body
        );
        assert_eq!(self.body["status"], json!(status));
    }

    fn error_fields(&self) -> Vec<String> {
        self.body["errors"]
            .as_array()
            .map(|errors| {
                errors
                    .iter()
                    .map(|e| e["field"].as_str().unwrap().to_owned())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn id(&self) -> String {
        self.body["id"].as_str().expect("a task id").to_owned()
    }
}

struct Api {
    base: String,
    client: Client,
    db: TestDb,
}

/// A registered user's bearer token.
struct User(String);

async fn start() -> Api {
    let db = TestDb::create().await.unwrap();
    let app = TestApp::new(&db.url());
    app.migrate().await.unwrap();
    let base = app.serve(&["api"]).await.unwrap();
    Api {
        base,
        client: Client::new(),
        db,
    }
}

impl Api {
    async fn raw(
        &self,
        method: Method,
        path: &str,
        body: Option<Vec<u8>>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.body(body);
        }
        let response = request.send().await.expect("request failed");
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply {
            status,
            headers,
            body,
        }
    }

    async fn call(
        &self,
        user: &User,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let auth = format!("Bearer {}", user.0);
        let mut all = vec![("authorization", auth.as_str())];
        all.extend_from_slice(headers);
        let body = body.map(|b| {
            all.push(("content-type", "application/json"));
            serde_json::to_vec(&b).unwrap()
        });
        self.raw(method, path, body, &all).await
    }

    async fn user(&self, email: &str) -> User {
        self.raw(
            Method::POST,
            "/api/auth/register",
            Some(serde_json::to_vec(&json!({"email": email, "password": PASSWORD})).unwrap()),
            &[("content-type", "application/json")],
        )
        .await
        .assert_status(201);
        let reply = self
            .raw(
                Method::POST,
                "/api/auth/login",
                Some(serde_json::to_vec(&json!({"email": email, "password": PASSWORD})).unwrap()),
                &[("content-type", "application/json")],
            )
            .await;
        User(reply.body["token"].as_str().unwrap().to_owned())
    }

    async fn create(&self, user: &User, body: Value) -> Reply {
        self.call(user, Method::POST, "/api/tasks", Some(body), &[])
            .await
    }

    async fn list(&self, user: &User, query: &str) -> Reply {
        self.call(user, Method::GET, &format!("/api/tasks?{query}"), None, &[])
            .await
    }

    async fn titles(&self, user: &User, query: &str) -> Vec<String> {
        let reply = self.list(user, query).await;
        reply.assert_status(200);
        titles(&reply.body)
    }

    async fn count(&self, sql: &str) -> i64 {
        pg(&self.db.url())
            .await
            .unwrap()
            .query_one(sql, &[])
            .await
            .unwrap()
            .get(0)
    }

    /// The outbox as (topic, payload), in the order written: by transaction time, then by id
    /// (ids increase within a request; two requests in one millisecond may get ids either way).
    async fn outbox(&self) -> Vec<(String, Value)> {
        pg(&self.db.url())
            .await
            .unwrap()
            .query(
                "SELECT topic, payload::text FROM outbox ORDER BY created_at, id",
                &[],
            )
            .await
            .unwrap()
            .iter()
            .map(|row| {
                let payload: String = row.get(1);
                (row.get(0), serde_json::from_str(&payload).unwrap())
            })
            .collect()
    }
}

fn titles(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["title"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn create_then_get_returns_the_task_with_etag_and_writes_one_created_event() {
    let api = start().await;
    let ada = api.user("ada@example.com").await;
    let reply = api
        .call(
            &ada,
            Method::POST,
            "/api/tasks",
            Some(json!({
                "title": "  Buy milk ", "description": "2 litres", "priority": "high",
                "due_date": "2030-01-10T18:00:00+02:00", "reminder_time": "2030-01-10T15:00:00Z",
                "tags": ["Home", "errands", "home"],
            })),
            &[("traceparent", TRACEPARENT)],
        )
        .await;
    reply.assert_status(201);
    let id = reply.id();
    assert_eq!(reply.header("etag"), Some("\"1\""));
    assert_eq!(
        reply.header("location"),
        Some(format!("/api/tasks/{id}").as_str())
    );
    let task = &reply.body;
    assert_eq!(task["title"], "Buy milk");
    assert_eq!(task["description"], "2 litres");
    assert_eq!(task["priority"], "high");
    assert_eq!(task["is_completed"], false);
    assert_eq!(task["completed_at"], Value::Null);
    assert_eq!(task["due_date"], "2030-01-10T16:00:00Z");
    assert_eq!(task["reminder_time"], "2030-01-10T15:00:00Z");
    assert_eq!(task["reminders"], json!([]));
    assert_eq!(task["tags"], json!(["Home", "errands"]));
    assert_eq!(task["is_recurring"], false);
    assert_eq!(task["recurrence_pattern_id"], Value::Null);
    assert_eq!(task["version"], 1);
    assert!(task["created_at"].is_string() && task["updated_at"].is_string());

    let got = api
        .call(&ada, Method::GET, &format!("/api/tasks/{id}"), None, &[])
        .await;
    got.assert_status(200);
    assert_eq!(got.header("etag"), Some("\"1\""));
    assert_eq!(got.body, reply.body);

    // Defaults: medium priority, no tags.
    let plain = api.create(&ada, json!({"title": "Plain"})).await;
    plain.assert_status(201);
    assert_eq!(plain.body["priority"], "medium");
    assert_eq!(plain.body["tags"], json!([]));

    let outbox = api.outbox().await;
    assert_eq!(outbox.len(), 2);
    let (topic, event) = &outbox[0];
    assert_eq!(topic, "tasks.task.created");
    assert_eq!(event["type"], "com.todoapp.tasks.task.created");
    assert_eq!(event["source"], "api");
    assert_eq!(event["specversion"], "1.0");
    assert_eq!(event["subject"], format!("task/{id}"));
    assert_eq!(event["traceparent"], TRACEPARENT);
    let data = &event["data"];
    assert_eq!(data["task_id"], id.as_str());
    assert_eq!(data["title"], "Buy milk");
    assert_eq!(data["priority"], "high");
    assert_eq!(data["due_date"], "2030-01-10T16:00:00Z");
    assert_eq!(data["reminder_time"], "2030-01-10T15:00:00Z");
    assert_eq!(data["is_recurring"], false);
    assert_eq!(data["version"], 1);
    // A request without a (valid) traceparent still gets one, a fresh trace.
    let fresh = outbox[1].1["traceparent"].as_str().unwrap();
    assert!(fresh.starts_with("00-") && fresh != TRACEPARENT, "{fresh}");
    let user_rows = api
        .count(&format!(
            "SELECT count(*) FROM outbox WHERE user_id = (SELECT user_id FROM tasks WHERE id = '{id}')"
        ))
        .await;
    assert_eq!(user_rows, 2);
}

#[tokio::test]
async fn bad_requests_are_problems_naming_the_field_and_change_nothing() {
    let api = start().await;
    let ada = api.user("ada@example.com").await;
    let cases = [
        (json!({}), vec!["title"]),
        (json!({"title": "   "}), vec!["title"]),
        (json!({"title": "x".repeat(501)}), vec!["title"]),
        (
            json!({"title": "ok", "priority": "urgent"}),
            vec!["priority"],
        ),
        (json!({"title": "ok", "priority": null}), vec!["priority"]),
        (
            json!({"title": 5, "due_date": "tomorrow"}),
            vec!["title", "due_date"],
        ),
        (json!({"title": "ok", "tags": ["a", 3]}), vec!["tags[1]"]),
        (json!({"title": "ok", "id": "x"}), vec!["id"]),
        (json!({"title": "ok", "version": 3}), vec!["version"]),
    ];
    for (body, fields) in cases {
        let reply = api.create(&ada, body.clone()).await;
        reply.assert_problem(422);
        assert_eq!(reply.error_fields(), fields, "{body}");
    }
    let auth = format!("Bearer {}", ada.0);
    let json_type = ("content-type", "application/json");
    let reply = api
        .raw(
            Method::POST,
            "/api/tasks",
            Some(b"{\"title\":".to_vec()),
            &[("authorization", &auth), json_type],
        )
        .await;
    reply.assert_problem(400);
    let reply = api
        .raw(
            Method::POST,
            "/api/tasks",
            Some(br#"{"title":"a"}"#.to_vec()),
            &[("authorization", &auth), ("content-type", "text/plain")],
        )
        .await;
    reply.assert_problem(415);
    let huge =
        serde_json::to_vec(&json!({"title": "a", "description": "d".repeat(70_000)})).unwrap();
    let reply = api
        .raw(
            Method::POST,
            "/api/tasks",
            Some(huge),
            &[("authorization", &auth), json_type],
        )
        .await;
    reply.assert_problem(413);
    let reply = api
        .raw(
            Method::POST,
            "/api/tasks",
            Some(br#"{"title":"a"}"#.to_vec()),
            &[json_type],
        )
        .await;
    reply.assert_problem(401);
    assert_eq!(reply.header("www-authenticate"), Some("Bearer"));
    for query in [
        "status=done",
        "limit=0",
        "limit=201",
        "sort=size",
        "order=up",
        "overdue=yes",
        "cursor=nonsense",
        "due_before=tomorrow",
        "colour=red",
    ] {
        let reply = api.list(&ada, query).await;
        reply.assert_problem(422);
        let field = query.split('=').next().unwrap();
        assert_eq!(reply.error_fields(), vec![field], "{query}");
    }
    assert_eq!(api.count("SELECT count(*) FROM tasks").await, 0);
    assert_eq!(api.count("SELECT count(*) FROM outbox").await, 0);

    // Changes with bad bodies change nothing either.
    let id = api.create(&ada, json!({"title": "Keep"})).await.id();
    let path = format!("/api/tasks/{id}");
    for (method, body) in [
        (Method::PATCH, json!({"title": null})),
        (Method::PATCH, json!({"is_completed": "yes"})),
        (Method::PUT, json!({"description": "no title"})),
    ] {
        api.call(&ada, method, &path, Some(body), &[])
            .await
            .assert_problem(422);
    }
    assert_eq!(api.count("SELECT count(*) FROM outbox").await, 1);
    assert_eq!(api.count("SELECT max(version)::int8 FROM tasks").await, 1);
    // An id that is not a UUID names no task.
    api.call(&ada, Method::GET, "/api/tasks/not-a-uuid", None, &[])
        .await
        .assert_problem(404);
}

#[tokio::test]
async fn put_patch_toggle_and_delete_change_the_task_and_write_their_events() {
    let api = start().await;
    let ada = api.user("ada@example.com").await;
    let id = api
        .create(
            &ada,
            json!({"title": "Draft", "tags": ["a"], "due_date": "2030-01-01T00:00:00Z"}),
        )
        .await
        .id();
    let path = format!("/api/tasks/{id}");

    let reply = api
        .call(
            &ada,
            Method::PATCH,
            &path,
            Some(json!({"title": "Final", "due_date": null})),
            &[],
        )
        .await;
    reply.assert_status(200);
    assert_eq!(reply.body["title"], "Final");
    assert_eq!(reply.body["due_date"], Value::Null);
    assert_eq!(reply.body["tags"], json!(["a"]), "untouched");
    assert_eq!(reply.body["version"], 2);
    assert_eq!(reply.header("etag"), Some("\"2\""));

    // Completing through PATCH: updated and completed.
    let reply = api
        .call(
            &ada,
            Method::PATCH,
            &path,
            Some(json!({"is_completed": true})),
            &[],
        )
        .await;
    reply.assert_status(200);
    assert_eq!(reply.body["is_completed"], true);
    assert!(reply.body["completed_at"].is_string());

    // Toggle reopens, toggle again completes.
    let reply = api
        .call(&ada, Method::PATCH, &format!("{path}/toggle"), None, &[])
        .await;
    reply.assert_status(200);
    assert_eq!(reply.body["is_completed"], false);
    assert_eq!(reply.body["completed_at"], Value::Null);
    let reply = api
        .call(&ada, Method::PATCH, &format!("{path}/toggle"), None, &[])
        .await;
    assert_eq!(reply.body["is_completed"], true);
    assert_eq!(reply.body["version"], 5);

    // PUT replaces every field: what it leaves out takes the default.
    let reply = api
        .call(
            &ada,
            Method::PUT,
            &path,
            Some(json!({"title": "Replaced", "priority": "low"})),
            &[],
        )
        .await;
    reply.assert_status(200);
    assert_eq!(reply.body["title"], "Replaced");
    assert_eq!(reply.body["priority"], "low");
    assert_eq!(reply.body["tags"], json!([]));
    assert_eq!(reply.body["is_completed"], false);
    assert_eq!(reply.body["version"], 6);

    // A PATCH that changes nothing writes nothing.
    let reply = api
        .call(
            &ada,
            Method::PATCH,
            &path,
            Some(json!({"title": "Replaced"})),
            &[],
        )
        .await;
    assert_eq!(reply.body["version"], 6);

    let reply = api.call(&ada, Method::DELETE, &path, None, &[]).await;
    reply.assert_status(204);
    api.call(&ada, Method::GET, &path, None, &[])
        .await
        .assert_problem(404);
    api.call(&ada, Method::DELETE, &path, None, &[])
        .await
        .assert_problem(404);

    let outbox = api.outbox().await;
    let topics: Vec<&str> = outbox.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(
        topics,
        [
            "tasks.task.created",
            "tasks.task.updated",
            "tasks.task.updated",
            "tasks.task.completed",
            "tasks.task.updated",
            "tasks.task.updated",
            "tasks.task.completed",
            "tasks.task.updated",
            "tasks.task.deleted",
        ]
    );
    let changes = &outbox[1].1["data"]["changes"];
    assert_eq!(
        *changes,
        json!({"title": {"old": "Draft", "new": "Final"},
               "due_date": {"old": "2030-01-01T00:00:00Z", "new": null}})
    );
    assert_eq!(outbox[1].1["data"]["version"], 2);
    let completed = &outbox[3].1["data"];
    assert_eq!(completed["task_id"], id.as_str());
    assert_eq!(completed["title"], "Final");
    assert!(completed["completed_at"].is_string());
    let reopened = &outbox[4].1["data"]["changes"];
    assert_eq!(reopened["is_completed"], json!({"old": true, "new": false}));
    let deleted = &outbox[8].1["data"];
    assert_eq!(deleted["task_id"], id.as_str());
    assert_eq!(deleted["title"], "Replaced");
    assert_eq!(deleted["version"], 6);
    assert!(deleted["deleted_at"].is_string());
}

#[tokio::test]
async fn if_match_on_a_stale_version_is_412_and_changes_nothing() {
    let api = start().await;
    let ada = api.user("ada@example.com").await;
    let id = api.create(&ada, json!({"title": "One"})).await.id();
    let path = format!("/api/tasks/{id}");
    let reply = api
        .call(
            &ada,
            Method::PATCH,
            &path,
            Some(json!({"title": "Two"})),
            &[("if-match", "\"1\"")],
        )
        .await;
    reply.assert_status(200);
    assert_eq!(reply.header("etag"), Some("\"2\""));

    let before = api.count("SELECT count(*) FROM outbox").await;
    for (method, body) in [
        (Method::PATCH, Some(json!({"title": "Three"}))),
        (Method::PUT, Some(json!({"title": "Three"}))),
        (Method::DELETE, None),
    ] {
        let reply = api
            .call(&ada, method.clone(), &path, body, &[("if-match", "\"1\"")])
            .await;
        reply.assert_problem(412);
        assert_eq!(reply.header("etag"), Some("\"2\""), "{method}");
    }
    let reply = api
        .call(
            &ada,
            Method::PATCH,
            &format!("{path}/toggle"),
            None,
            &[("if-match", "W/\"2\"")],
        )
        .await;
    reply.assert_problem(412);
    assert_eq!(api.count("SELECT count(*) FROM outbox").await, before);
    let got = api.call(&ada, Method::GET, &path, None, &[]).await;
    assert_eq!(got.body["title"], "Two");
    assert_eq!(got.body["is_completed"], false);

    // The current tag, a list containing it, or `*` pass.
    api.call(
        &ada,
        Method::PATCH,
        &format!("{path}/toggle"),
        None,
        &[("if-match", "\"9\", \"2\"")],
    )
    .await
    .assert_status(200);
    api.call(&ada, Method::DELETE, &path, None, &[("if-match", "*")])
        .await
        .assert_status(204);
}

#[tokio::test]
async fn an_idempotency_key_replays_the_first_response_and_refuses_another_body() {
    let api = start().await;
    let ada = api.user("ada@example.com").await;
    let bob = api.user("bob@example.com").await;
    let body = json!({"title": "Once", "priority": "high"});
    let key = [("idempotency-key", "create-once-1")];
    let first = api
        .call(&ada, Method::POST, "/api/tasks", Some(body.clone()), &key)
        .await;
    first.assert_status(201);
    // Even after the task changed, a retry gets the first response and creates nothing.
    api.call(
        &ada,
        Method::PATCH,
        &format!("/api/tasks/{}", first.id()),
        Some(json!({"title": "Changed"})),
        &[],
    )
    .await
    .assert_status(200);
    let again = api
        .call(&ada, Method::POST, "/api/tasks", Some(body.clone()), &key)
        .await;
    again.assert_status(201);
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("etag"), Some("\"1\""));
    assert_eq!(again.header("location"), first.header("location"));
    assert_eq!(api.count("SELECT count(*) FROM tasks").await, 1);
    assert_eq!(
        api.count("SELECT count(*) FROM outbox WHERE topic = 'tasks.task.created'")
            .await,
        1
    );

    let other = api
        .call(
            &ada,
            Method::POST,
            "/api/tasks",
            Some(json!({"title": "Other"})),
            &key,
        )
        .await;
    other.assert_problem(422);
    assert_eq!(other.error_fields(), vec!["Idempotency-Key"]);
    let bad = api
        .call(
            &ada,
            Method::POST,
            "/api/tasks",
            Some(body.clone()),
            &[("idempotency-key", "has space")],
        )
        .await;
    bad.assert_problem(422);

    // Keys are per user: Bob's same key is his own request.
    let bobs = api
        .call(&bob, Method::POST, "/api/tasks", Some(body.clone()), &key)
        .await;
    bobs.assert_status(201);
    assert_ne!(bobs.id(), first.id());
    assert_eq!(api.count("SELECT count(*) FROM tasks").await, 2);

    // Concurrent retries with a fresh key still create one task.
    let key = [("idempotency-key", "raced")];
    let replies = futures_join((0..6).map(|_| {
        api.call(
            &ada,
            Method::POST,
            "/api/tasks",
            Some(json!({"title": "Raced"})),
            &key,
        )
    }))
    .await;
    let ids: std::collections::BTreeSet<String> = replies
        .iter()
        .map(|r| {
            r.assert_status(201);
            r.id()
        })
        .collect();
    assert_eq!(ids.len(), 1);
    assert_eq!(
        api.count("SELECT count(*) FROM tasks WHERE title = 'Raced'")
            .await,
        1
    );
}

/// Runs the futures concurrently and collects their outputs in order.
async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = pinned.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in pinned.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(value) => *output = Some(value),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    outputs.into_iter().map(Option::unwrap).collect()
}

#[tokio::test]
async fn another_users_task_is_404_on_every_route_and_stays_unchanged() {
    let api = start().await;
    let ada = api.user("ada@example.com").await;
    let eve = api.user("eve@example.com").await;
    let id = api.create(&ada, json!({"title": "Private"})).await.id();
    let path = format!("/api/tasks/{id}");
    let missing = "/api/tasks/0f8b5a52-8f0c-4e5e-9a39-3f9c2f5a1d01";
    let before = api.count("SELECT count(*) FROM outbox").await;
    for (method, suffix, body) in [
        (Method::GET, "", None),
        (Method::PUT, "", Some(json!({"title": "Mine now"}))),
        (Method::PATCH, "", Some(json!({"title": "Mine now"}))),
        (Method::DELETE, "", None),
        (Method::PATCH, "/toggle", None),
    ] {
        let theirs = api
            .call(
                &eve,
                method.clone(),
                &format!("{path}{suffix}"),
                body.clone(),
                &[("if-match", "\"1\"")],
            )
            .await;
        theirs.assert_problem(404);
        // Exactly what a task that does not exist gets: nothing tells them apart.
        let nobody = api
            .call(
                &eve,
                method.clone(),
                &format!("{missing}{suffix}"),
                body,
                &[("if-match", "\"1\"")],
            )
            .await;
        assert_eq!(theirs.body, nobody.body, "{method} {suffix}");
    }
    let list = api.list(&eve, "status=all").await;
    assert_eq!(list.body["items"], json!([]));
    assert_eq!(api.count("SELECT count(*) FROM outbox").await, before);
    let got = api.call(&ada, Method::GET, &path, None, &[]).await;
    assert_eq!(got.body["title"], "Private");
    assert_eq!(got.body["version"], 1);
    // Eve's idempotency key that Ada used is not Ada's: it cannot replay Ada's task.
    let ada_key = api
        .call(
            &ada,
            Method::POST,
            "/api/tasks",
            Some(json!({"title": "K"})),
            &[("idempotency-key", "k1")],
        )
        .await;
    let eve_key = api
        .call(
            &eve,
            Method::POST,
            "/api/tasks",
            Some(json!({"title": "K"})),
            &[("idempotency-key", "k1")],
        )
        .await;
    assert_ne!(ada_key.id(), eve_key.id());
}

#[tokio::test]
async fn every_filter_and_sort_and_the_cursor_give_the_right_tasks_in_order() {
    let api = start().await;
    let ada = api.user("ada@example.com").await;
    let bob = api.user("bob@example.com").await;
    api.create(&bob, json!({"title": "Bob's", "tags": ["home"]}))
        .await;
    // (title, priority, due, tags, description, completed)
    let tasks = [
        (
            "apple",
            "low",
            Some("2020-01-01T00:00:00Z"),
            vec!["Home"],
            "green fruit",
            false,
        ),
        (
            "Banana",
            "high",
            Some("2031-05-01T00:00:00Z"),
            vec!["work"],
            "",
            true,
        ),
        (
            "cherry",
            "medium",
            None,
            vec!["home", "work"],
            "100% red",
            false,
        ),
        (
            "date",
            "high",
            Some("2031-01-01T00:00:00Z"),
            vec![],
            "",
            false,
        ),
        (
            "Elder",
            "medium",
            Some("2019-06-01T00:00:00Z"),
            vec!["work"],
            "a_b",
            false,
        ),
    ];
    for (title, priority, due, tags, description, completed) in &tasks {
        api.create(
            &ada,
            json!({"title": title, "priority": priority, "due_date": due, "tags": tags,
                   "description": description, "is_completed": completed}),
        )
        .await
        .assert_status(201);
    }
    let set = |query: &str| {
        let query = query.to_owned();
        let api = &api;
        let ada = &ada;
        async move {
            let mut titles = api.titles(ada, &query).await;
            titles.sort();
            titles
        }
    };
    let names = |list: &[&str]| {
        let mut v: Vec<String> = list.iter().map(|s| s.to_string()).collect();
        v.sort();
        v
    };
    assert_eq!(
        set("").await,
        names(&["apple", "Banana", "cherry", "date", "Elder"])
    );
    assert_eq!(
        set("status=open").await,
        names(&["apple", "cherry", "date", "Elder"])
    );
    assert_eq!(set("status=completed").await, names(&["Banana"]));
    assert_eq!(set("priority=high").await, names(&["Banana", "date"]));
    assert_eq!(set("tag=HOME").await, names(&["apple", "cherry"]));
    assert_eq!(set("tag=home&tag=work").await, names(&["cherry"]));
    assert_eq!(set("q=FRUIT").await, names(&["apple"]));
    assert_eq!(set("q=an").await, names(&["Banana"]));
    assert_eq!(set("q=100%25").await, names(&["cherry"]), "% is literal");
    assert_eq!(set("q=a_b").await, names(&["Elder"]), "_ is literal");
    assert_eq!(
        set("due_before=2031-01-01T00:00:00Z").await,
        names(&["apple", "Elder"])
    );
    assert_eq!(
        set("due_after=2031-01-01T00:00:00Z").await,
        names(&["Banana", "date"])
    );
    assert_eq!(
        set("due_after=2020-01-01T00:00:00%2B00:00&due_before=2031-02-01T00:00:00Z").await,
        names(&["apple", "date"])
    );
    assert_eq!(set("overdue=true").await, names(&["apple", "Elder"]));
    assert_eq!(set("is_recurring=false").await.len(), 5);
    assert_eq!(set("is_recurring=true").await, Vec::<String>::new());

    // Sorts, each in its default and its other direction.
    let order = |query: &'static str| {
        let api = &api;
        let ada = &ada;
        async move { api.titles(ada, query).await }
    };
    assert_eq!(
        order("").await,
        ["Elder", "date", "cherry", "Banana", "apple"],
        "newest first"
    );
    assert_eq!(
        order("sort=created_at&order=asc").await,
        ["apple", "Banana", "cherry", "date", "Elder"]
    );
    assert_eq!(
        order("sort=title").await,
        ["Banana", "Elder", "apple", "cherry", "date"],
        "byte order"
    );
    assert_eq!(
        order("sort=title&order=desc").await,
        ["date", "cherry", "apple", "Elder", "Banana"]
    );
    assert_eq!(
        order("sort=due_date").await,
        ["Elder", "apple", "date", "Banana", "cherry"],
        "no due date last"
    );
    assert_eq!(
        order("sort=due_date&order=desc").await,
        ["Banana", "date", "apple", "Elder", "cherry"]
    );
    let by_priority = api.titles(&ada, "sort=priority").await;
    assert_eq!(&by_priority[4..], ["apple"]);
    let mut high: Vec<_> = by_priority[..2].to_vec();
    high.sort();
    assert_eq!(high, ["Banana", "date"]);
    let asc = api.titles(&ada, "sort=priority&order=asc").await;
    assert_eq!(asc[0], "apple");
    let mut reversed = asc.clone();
    reversed.reverse();
    assert_eq!(
        reversed, by_priority,
        "ties broken by id, reversed with the direction"
    );

    // Paging with every sort and direction gives the whole list, in order, once.
    for sort in ["created_at", "title", "due_date", "priority"] {
        for dir in ["asc", "desc"] {
            let whole = api.titles(&ada, &format!("sort={sort}&order={dir}")).await;
            let mut paged = Vec::new();
            let mut cursor = String::new();
            loop {
                let reply = api
                    .list(
                        &ada,
                        &format!("sort={sort}&order={dir}&limit=2&cursor={cursor}"),
                    )
                    .await;
                reply.assert_status(200);
                paged.extend(titles(&reply.body));
                match reply.body["next_cursor"].as_str() {
                    Some(next) => cursor = next.to_owned(),
                    None => break,
                }
            }
            assert_eq!(paged, whole, "sort={sort}&order={dir}");
        }
    }
    // A cursor continues only its own sort.
    let reply = api.list(&ada, "sort=title&limit=2").await;
    let cursor = reply.body["next_cursor"].as_str().unwrap().to_owned();
    api.list(&ada, &format!("sort=due_date&cursor={cursor}"))
        .await
        .assert_problem(422);
}

#[tokio::test]
async fn pages_stay_stable_while_tasks_are_inserted() {
    let api = start().await;
    let ada = api.user("ada@example.com").await;
    for i in 0..6 {
        api.create(&ada, json!({"title": format!("old {i}")})).await;
    }
    let first = api.list(&ada, "limit=3").await;
    assert_eq!(titles(&first.body), ["old 5", "old 4", "old 3"]);
    let cursor = first.body["next_cursor"].as_str().unwrap().to_owned();
    // Newer tasks land before the cursor (newest first): the next page is unaffected.
    for i in 0..3 {
        api.create(&ada, json!({"title": format!("new {i}")})).await;
    }
    let second = api.list(&ada, &format!("limit=3&cursor={cursor}")).await;
    assert_eq!(titles(&second.body), ["old 2", "old 1", "old 0"]);
    assert_eq!(second.body["next_cursor"], Value::Null);
    // Limits: default 50, max 200.
    let all = api.list(&ada, "").await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 9);
    api.list(&ada, "limit=200").await.assert_status(200);
}

#[tokio::test]
async fn every_task_route_needs_a_session() {
    let api = start().await;
    let id = "0f8b5a52-8f0c-4e5e-9a39-3f9c2f5a1d01";
    for (method, path) in [
        (Method::GET, "/api/tasks".to_owned()),
        (Method::POST, "/api/tasks".to_owned()),
        (Method::GET, format!("/api/tasks/{id}")),
        (Method::PUT, format!("/api/tasks/{id}")),
        (Method::PATCH, format!("/api/tasks/{id}")),
        (Method::DELETE, format!("/api/tasks/{id}")),
        (Method::PATCH, format!("/api/tasks/{id}/toggle")),
    ] {
        let reply = api
            .raw(
                method.clone(),
                &path,
                None,
                &[("authorization", "Bearer nope")],
            )
            .await;
        reply.assert_problem(401);
    }
    let reply = api
        .raw(Method::POST, &format!("/api/tasks/{id}"), None, &[])
        .await;
    reply.assert_problem(405);
    assert_eq!(reply.header("allow"), Some("GET, PUT, PATCH, DELETE"));
}
