//! The internal routes stay closed to strangers: Dapr's deliveries (`/events/<component>/<topic>`)
//! and `/metrics` answer 401 problem+json without the tick token and change nothing, and a
//! delivery on another topic's route is dropped by every consumer.
//!
//! The attack each test stops: anyone who can reach the listener (under `spin up`, the public
//! one) forging `reminders.reminder.fired` for a user id, which would make the notifier send
//! attacker text to that user in-app, by email and by a webhook signed with the user's secret.

use chrono::{SecondsFormat, Utc};
use e2e::{TestApp, TestDb, pg};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use uuid::Uuid;

const TICK_TOKEN: &str = "test-tick-token";

struct Env {
    base: String,
    db: TestDb,
    client: Client,
}

async fn start() -> Env {
    let db = TestDb::create().await.unwrap();
    // redis_url points at a closed port: nothing here may reach a shared server.
    let app = TestApp::new(&db.url()).var("redis_url", "redis://127.0.0.1:1");
    app.migrate().await.unwrap();
    let base = app
        .serve(&[
            "api",
            "audit",
            "reminders",
            "recurrence",
            "notifier",
            "dispatcher",
        ])
        .await
        .unwrap();
    Env {
        base,
        db,
        client: Client::new(),
    }
}

/// A well-formed CloudEvent of `topic` about a made-up user and task.
fn event(topic: &str) -> Value {
    let task = Uuid::new_v4();
    json!({
        "specversion": "1.0",
        "id": Uuid::now_v7().to_string(),
        "type": format!("com.todoapp.{topic}"),
        "source": "reminders",
        "subject": format!("task/{task}"),
        "time": Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true),
        "datacontenttype": "application/json",
        "data": {
            "reminder_id": Uuid::new_v4().to_string(),
            "task_id": task.to_string(),
            "user_id": Uuid::now_v7().to_string(),
            "title": "Your bank needs you: https://attacker.example",
            "fire_at": Utc::now().to_rfc3339_opts(SecondsFormat::Micros, true),
            "due_date": null,
            "channels": ["in_app", "email", "webhook"]
        }
    })
}

impl Env {
    /// Posts `event` to `/events/<component>/<route_topic>` with `token` (as Dapr sends it).
    async fn deliver(
        &self,
        component: &str,
        route_topic: &str,
        event: &Value,
        token: Option<&str>,
    ) -> (StatusCode, Value, Option<String>) {
        let mut request = self
            .client
            .post(format!("{}/events/{component}/{route_topic}", self.base))
            .header("content-type", "application/cloudevents+json")
            .body(event.to_string());
        if let Some(token) = token {
            request = request.header("dapr-api-token", token);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let media = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = response.json().await.unwrap_or(Value::Null);
        (status, body, media)
    }

    /// Rows every consumer would have written for an accepted delivery.
    async fn effects(&self) -> i64 {
        let sql = pg(&self.db.url()).await.unwrap();
        sql.query_one(
            "SELECT (SELECT count(*) FROM consumer_receipts) + (SELECT count(*) FROM events) \
                  + (SELECT count(*) FROM notifications)",
            &[],
        )
        .await
        .unwrap()
        .get(0)
    }
}

#[tokio::test]
async fn deliveries_without_the_token_are_401_and_store_nothing() {
    let env = start().await;
    let routes = [
        ("audit", "reminders.reminder.fired"),
        ("notifier", "reminders.reminder.fired"),
        ("reminders", "tasks.task.created"),
        ("recurrence", "tasks.task.completed"),
    ];
    for (component, topic) in routes {
        let forged = event(topic);
        for token in [None, Some("guessed-token"), Some("")] {
            let (status, body, media) = env.deliver(component, topic, &forged, token).await;
            assert_eq!(
                status,
                StatusCode::UNAUTHORIZED,
                "{component} {topic} with {token:?}: {body}"
            );
            assert_eq!(media.as_deref(), Some("application/problem+json"));
            assert_eq!(body["status"], 401, "{body}");
        }
    }
    assert_eq!(env.effects().await, 0, "a refused delivery changed nothing");

    // The same forged event with the token is accepted: the 401s came from the token alone.
    let forged = event("reminders.reminder.fired");
    let (status, body, _) = env
        .deliver(
            "audit",
            "reminders.reminder.fired",
            &forged,
            Some(TICK_TOKEN),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["status"], "SUCCESS", "{body}");
    assert!(env.effects().await > 0);
}

#[tokio::test]
async fn a_delivery_on_another_topic_s_route_is_dropped_by_every_consumer() {
    let env = start().await;
    // The event's type is not the route's topic (or not one the consumer takes at all).
    let cases = [
        ("audit", "tasks.task.created", "reminders.reminder.fired"),
        ("notifier", "reminders.reminder.fired", "tasks.task.created"),
        (
            "reminders",
            "tasks.task.created",
            "reminders.reminder.fired",
        ),
        ("recurrence", "tasks.task.completed", "tasks.task.created"),
    ];
    for (component, route_topic, event_topic) in cases {
        let (status, body, _) = env
            .deliver(
                component,
                route_topic,
                &event(event_topic),
                Some(TICK_TOKEN),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{component}: {body}");
        assert_eq!(
            body["status"], "DROP",
            "{component} {event_topic} on {route_topic}"
        );
    }
    assert_eq!(env.effects().await, 0, "a dropped delivery changed nothing");
}

#[tokio::test]
async fn metrics_need_the_token() {
    let env = start().await;
    let url = format!("{}/metrics", env.base);
    let anonymous = env.client.get(&url).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    let text = anonymous.text().await.unwrap();
    assert!(!text.contains("events_published_total"), "{text}");

    let scraped = env
        .client
        .get(&url)
        .bearer_auth(TICK_TOKEN)
        .send()
        .await
        .unwrap();
    assert_eq!(scraped.status(), StatusCode::OK);
    assert!(
        scraped
            .text()
            .await
            .unwrap()
            .contains("events_published_total")
    );
}
