//! Reminders through the real `spin.toml` and `reminders.wasm`: task events (delivered on the
//! Dapr HTTP route, the same handler the Redis trigger calls) plan reminder rows, the cron tick
//! fires them on time into the outbox, and the routes list, add, snooze and delete them.
//!
//! Tasks are written straight into the database here, as the task API would write them, so
//! these tests depend only on the reminders component; the fired events are read from the
//! outbox, which is what the dispatcher publishes. `redis_url` points at a closed port, so the
//! tick's inline publish fails (and is logged) without sending anything to a shared server.

use std::time::{Duration, Instant};

use chrono::{DateTime, SecondsFormat, SubsecRound, TimeDelta, Utc};
use e2e::{TestApp, TestDb, TestRedis, pg};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

struct Reply {
    status: StatusCode,
    body: Value,
}

struct Env {
    base: String,
    client: Client,
    db: TestDb,
    token: String,
    user_id: Uuid,
}

const PASSWORD: &str = "correct horse battery";

/// Now, at PostgreSQL's microsecond precision, so instants compare equal after a round trip.
fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

async fn start() -> Env {
    start_with(
        "redis://127.0.0.1:1",
        &["api", "reminders", "reminders-cron"],
    )
    .await
}

async fn start_with(redis_url: &str, components: &[&str]) -> Env {
    let db = TestDb::create().await.unwrap();
    let app = TestApp::new(&db.url()).var("redis_url", redis_url);
    app.migrate().await.unwrap();
    let base = app.serve(components).await.unwrap();
    let client = Client::new();
    let mut env = Env {
        base,
        client,
        db,
        token: String::new(),
        user_id: Uuid::nil(),
    };
    let reply = env
        .send(
            Method::POST,
            "/api/auth/register",
            Some(json!({"email": "ada@example.com", "password": PASSWORD})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    env.user_id = reply.body["user"]["id"].as_str().unwrap().parse().unwrap();
    let reply = env
        .send(
            Method::POST,
            "/api/auth/login",
            Some(json!({"email": "ada@example.com", "password": PASSWORD})),
        )
        .await;
    env.token = reply.body["token"].as_str().unwrap().to_owned();
    env
}

impl Env {
    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if !self.token.is_empty() {
            request = request.bearer_auth(&self.token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request failed");
        let status = response.status();
        let bytes = response.bytes().await.unwrap();
        Reply {
            status,
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        }
    }

    async fn sql(&self) -> tokio_postgres::Client {
        pg(&self.db.url()).await.unwrap()
    }

    async fn count(&self, sql: &str) -> i64 {
        self.sql().await.query_one(sql, &[]).await.unwrap().get(0)
    }

    /// Writes a task as the task API does (the `reminders` column is migration 0007's).
    async fn insert_task(&self, due: Option<DateTime<Utc>>, reminders: Value) -> Uuid {
        let id = Uuid::new_v4();
        self.sql()
            .await
            .execute(
                "INSERT INTO tasks (id, user_id, title, due_date, reminders) \
                 VALUES ($1, $2, 'Buy milk', $3::text::timestamptz, $4::text::jsonb)",
                &[
                    &id,
                    &self.user_id,
                    &due.map(rfc3339),
                    &reminders.to_string(),
                ],
            )
            .await
            .unwrap();
        id
    }

    /// Delivers a task event the way Dapr does; returns its id.
    async fn deliver(&self, topic: &str, task_id: Uuid, event_id: Uuid) -> Reply {
        let event = json!({
            "specversion": "1.0", "id": event_id.to_string(), "type": format!("com.todoapp.{topic}"),
            "source": "api", "subject": format!("task/{task_id}"), "time": rfc3339(Utc::now()),
            "datacontenttype": "application/json",
            "data": {"task_id": task_id.to_string(), "user_id": self.user_id.to_string()}
        });
        let response = self
            .client
            .post(format!("{}/events/reminders/{topic}", self.base))
            .header("content-type", "application/cloudevents+json")
            // Dapr presents its app token, which is the tick token.
            .header("dapr-api-token", "test-tick-token")
            .body(event.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status();
        Reply {
            status,
            body: response.json().await.unwrap_or(Value::Null),
        }
    }

    async fn reminders(&self, task_id: Uuid) -> Vec<Value> {
        let reply = self
            .send(
                Method::GET,
                &format!("/api/tasks/{task_id}/reminders"),
                None,
            )
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
        reply.body["items"].as_array().unwrap().clone()
    }

    /// The `data` of every outbox event on `topic`, oldest first.
    async fn outbox(&self, topic: &str) -> Vec<Value> {
        self.sql()
            .await
            .query(
                "SELECT payload::text FROM outbox WHERE topic = $1 ORDER BY id",
                &[&topic],
            )
            .await
            .unwrap()
            .iter()
            .map(|row| serde_json::from_str::<Value>(row.get(0)).unwrap()["data"].clone())
            .collect()
    }
}

fn at(value: &Value) -> DateTime<Utc> {
    value.as_str().unwrap().parse().unwrap()
}

#[tokio::test]
async fn a_reminder_fires_once_on_time_and_a_repeated_event_changes_nothing() {
    let env = start().await;
    let due = now() + TimeDelta::seconds(10);
    let remind_at = due - TimeDelta::seconds(5);
    let task = env
        .insert_task(
            Some(due),
            json!([{"at": rfc3339(remind_at), "channels": ["in_app", "email", "webhook"]},
                   {"offset_minutes": 60}]),
        )
        .await;
    let event_id = Uuid::now_v7();
    let reply = env.deliver("tasks.task.created", task, event_id).await;
    assert_eq!(reply.body["status"], "SUCCESS", "{}", reply.body);

    // The absolute reminder is pending; the one an hour before a due date 10 s away is
    // already past, so it is recorded as skipped rather than fired late.
    let rows = env.reminders(task).await;
    assert_eq!(rows.len(), 2, "{rows:?}");
    let skipped = rows.iter().find(|r| r["status"] == "skipped").unwrap();
    assert_eq!(skipped["spec"], json!({"offset_minutes": 60}));
    let pending = rows.iter().find(|r| r["status"] == "pending").unwrap();
    assert_eq!(at(&pending["scheduled_time"]), remind_at);
    assert_eq!(
        pending["notification_channels"],
        json!(["in_app", "email", "webhook"])
    );
    assert_eq!(env.outbox("reminders.reminder.scheduled").await.len(), 1);

    // The same event again (a redelivery) plans nothing more.
    let reply = env.deliver("tasks.task.created", task, event_id).await;
    assert_eq!(reply.body["status"], "SUCCESS");
    assert_eq!(env.reminders(task).await.len(), 2);
    assert_eq!(env.outbox("reminders.reminder.scheduled").await.len(), 1);

    // The tick fires it within 2 s of its time, once, with the seed's payload.
    let deadline = Instant::now() + Duration::from_secs(12);
    let fired = loop {
        let fired = env.outbox("reminders.reminder.fired").await;
        if !fired.is_empty() || Instant::now() > deadline {
            break fired;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(fired.len(), 1, "{fired:?}");
    let fired = &fired[0];
    assert_eq!(fired["reminder_id"], pending["id"]);
    assert_eq!(fired["task_id"], json!(task.to_string()));
    assert_eq!(fired["user_id"], json!(env.user_id.to_string()));
    assert_eq!(fired["task_title"], "Buy milk");
    assert_eq!(at(&fired["due_date"]), due);
    assert_eq!(
        fired["notification_channels"],
        json!(["in_app", "email", "webhook"])
    );
    let lag = at(&fired["fired_at"]) - at(&fired["scheduled_time"]);
    assert!(
        lag >= TimeDelta::zero() && lag < TimeDelta::seconds(2),
        "fired {lag} after its time"
    );
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(env.outbox("reminders.reminder.fired").await.len(), 1);
    let rows = env.reminders(task).await;
    assert!(rows.iter().any(|r| r["status"] == "fired"));
}

#[tokio::test]
async fn snooze_moves_a_reminder_and_completing_the_task_cancels_it() {
    let env = start().await;
    let due = now() + TimeDelta::hours(2);
    let task = env
        .insert_task(Some(due), json!([{"offset_minutes": 30}]))
        .await;
    env.deliver("tasks.task.created", task, Uuid::now_v7())
        .await;
    let rows = env.reminders(task).await;
    assert_eq!(at(&rows[0]["scheduled_time"]), due - TimeDelta::minutes(30));
    let id = rows[0]["id"].as_str().unwrap().to_owned();

    let before = Utc::now();
    let reply = env
        .send(
            Method::POST,
            &format!("/api/reminders/{id}/snooze"),
            Some(json!({"minutes": 10})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let moved = at(&reply.body["scheduled_time"]);
    assert!(
        moved >= before + TimeDelta::minutes(10) && moved <= Utc::now() + TimeDelta::minutes(10)
    );
    assert_eq!(reply.body["status"], "pending");
    assert_eq!(at(&env.reminders(task).await[0]["scheduled_time"]), moved);

    // Bad snoozes are 422 naming the field, and move nothing.
    for body in [
        json!({"minutes": 0}),
        json!({"until": "2000-01-01T00:00:00Z"}),
        json!({}),
    ] {
        let reply = env
            .send(
                Method::POST,
                &format!("/api/reminders/{id}/snooze"),
                Some(body),
            )
            .await;
        assert_eq!(
            reply.status,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{}",
            reply.body
        );
        assert!(
            reply.body["errors"][0]["field"].is_string(),
            "{}",
            reply.body
        );
    }
    assert_eq!(at(&env.reminders(task).await[0]["scheduled_time"]), moved);

    // An edit that leaves the reminder's plan alone (a new title) keeps the snooze: the re-plan
    // recognises the snoozed row as the one it planned, and neither cancels nor re-creates it.
    env.sql()
        .await
        .execute(
            "UPDATE tasks SET title = 'Renamed', version = version + 1 WHERE id = $1",
            &[&task],
        )
        .await
        .unwrap();
    env.deliver("tasks.task.updated", task, Uuid::now_v7())
        .await;
    let rows = env.reminders(task).await;
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(at(&rows[0]["scheduled_time"]), moved);
    assert_eq!(rows[0]["status"], "pending");
    assert!(env.outbox("reminders.reminder.cancelled").await.is_empty());

    // The task is completed (as the task API writes it), and its event cancels the reminder.
    env.sql()
        .await
        .execute(
            "UPDATE tasks SET is_completed = true, completed_at = now(), version = version + 1 \
             WHERE id = $1",
            &[&task],
        )
        .await
        .unwrap();
    env.deliver("tasks.task.completed", task, Uuid::now_v7())
        .await;
    let rows = env.reminders(task).await;
    assert!(rows.iter().all(|r| r["status"] == "cancelled"), "{rows:?}");
    let cancelled = env.outbox("reminders.reminder.cancelled").await;
    assert_eq!(cancelled.len(), 1);
    assert_eq!(cancelled[0]["reason"], "task_completed");
}

#[tokio::test]
async fn reminders_are_added_deleted_and_re_planned_when_the_due_date_moves() {
    let env = start().await;
    let due = now() + TimeDelta::hours(3);
    let task = env
        .insert_task(Some(due), json!([{"offset_minutes": 15}]))
        .await;
    env.deliver("tasks.task.created", task, Uuid::now_v7())
        .await;

    let reply = env
        .send(
            Method::POST,
            &format!("/api/tasks/{task}/reminders"),
            Some(json!({"offset_minutes": 60, "channels": ["email"]})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    assert_eq!(reply.body["origin"], "api");
    let added = reply.body["id"].as_str().unwrap().to_owned();

    // Invalid specs are 422 naming the member; another user's or a missing task is 404.
    let reply = env
        .send(
            Method::POST,
            &format!("/api/tasks/{task}/reminders"),
            Some(json!({"offset_minutes": -5, "channels": ["sms"]})),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    let fields: Vec<&str> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert!(
        fields.contains(&"offset_minutes") && fields.contains(&"channels"),
        "{fields:?}"
    );
    let missing = Uuid::new_v4();
    let reply = env
        .send(
            Method::GET,
            &format!("/api/tasks/{missing}/reminders"),
            None,
        )
        .await;
    assert_eq!(reply.status, StatusCode::NOT_FOUND);
    assert_eq!(env.reminders(task).await.len(), 2);

    // The due date moves an hour later: both relative reminders follow it.
    let new_due = due + TimeDelta::hours(1);
    env.sql()
        .await
        .execute(
            "UPDATE tasks SET due_date = $2::text::timestamptz, version = version + 1 WHERE id = $1",
            &[&task, &rfc3339(new_due)],
        )
        .await
        .unwrap();
    env.deliver("tasks.task.updated", task, Uuid::now_v7())
        .await;
    let live: Vec<DateTime<Utc>> = env
        .reminders(task)
        .await
        .iter()
        .filter(|r| r["status"] == "pending")
        .map(|r| at(&r["scheduled_time"]))
        .collect();
    assert_eq!(
        live,
        [
            new_due - TimeDelta::minutes(60),
            new_due - TimeDelta::minutes(15)
        ]
    );
    assert_eq!(env.outbox("reminders.reminder.cancelled").await.len(), 1);

    // DELETE cancels the added one (kept, as history).
    let reply = env
        .send(Method::DELETE, &format!("/api/reminders/{added}"), None)
        .await;
    assert_eq!(reply.status, StatusCode::NO_CONTENT);
    let rows = env.reminders(task).await;
    let row = rows.iter().find(|r| r["id"] == json!(added)).unwrap();
    assert_eq!(row["status"], "cancelled");

    // Deleting the task cancels what is left.
    env.deliver("tasks.task.deleted", task, Uuid::now_v7())
        .await;
    assert_eq!(
        env.count("SELECT count(*) FROM reminders WHERE status = 'pending'")
            .await,
        0
    );
}

#[tokio::test]
async fn the_tick_route_needs_the_tick_token_and_routes_need_a_session() {
    let env = start().await;
    let reply = env
        .client
        .post(format!("{}/ticks/reminders", env.base))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
    let reply = env
        .client
        .post(format!("{}/ticks/reminders", env.base))
        .bearer_auth("test-tick-token")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    let reply = env
        .client
        .get(format!(
            "{}/api/tasks/{}/reminders",
            env.base,
            Uuid::new_v4()
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), StatusCode::UNAUTHORIZED);
}

/// The whole path: the task API stores the reminder list with the task and writes its event;
/// the dispatcher publishes it on (a private) Redis; `reminders-redis` plans from it.
#[tokio::test]
async fn reminders_set_through_the_task_api_are_planned_from_its_events() {
    let redis = TestRedis::start().await.unwrap();
    let env = start_with(
        &redis.url(),
        &["api", "reminders", "reminders-redis", "dispatcher-cron"],
    )
    .await;
    let due = now() + TimeDelta::hours(2);
    let specs = json!([{"offset_minutes": 30}, {"at": rfc3339(due - TimeDelta::hours(1)), "channels": ["email"]}]);
    let reply = env
        .send(
            Method::POST,
            "/api/tasks",
            Some(json!({"title": "Call Bob", "due_date": rfc3339(due), "reminders": specs})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::CREATED, "{}", reply.body);
    let task: Uuid = reply.body["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(reply.body["reminders"][0], json!({"offset_minutes": 30}));
    assert_eq!(reply.body["reminders"][1]["channels"], json!(["email"]));

    let planned = |rows: &[Value]| rows.iter().filter(|r| r["status"] == "pending").count();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut rows = env.reminders(task).await;
    while planned(&rows) < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
        rows = env.reminders(task).await;
    }
    assert_eq!(planned(&rows), 2, "{rows:?}");

    // A bad list is 422 naming the member, and changes nothing.
    let reply = env
        .send(
            Method::PATCH,
            &format!("/api/tasks/{task}"),
            Some(json!({"reminders": [{"offset_minutes": "soon"}]})),
        )
        .await;
    assert_eq!(
        reply.status,
        StatusCode::UNPROCESSABLE_ENTITY,
        "{}",
        reply.body
    );
    assert_eq!(
        reply.body["errors"][0]["field"],
        "reminders[0].offset_minutes"
    );

    // Clearing the list cancels both.
    let reply = env
        .send(
            Method::PATCH,
            &format!("/api/tasks/{task}"),
            Some(json!({"reminders": null})),
        )
        .await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    assert_eq!(reply.body["reminders"], json!([]));
    let deadline = Instant::now() + Duration::from_secs(10);
    while planned(&env.reminders(task).await) > 0 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(planned(&env.reminders(task).await), 0);
}
