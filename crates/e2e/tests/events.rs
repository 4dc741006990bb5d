//! The event backbone end to end, through the real `spin.toml` and `.wasm` files against real
//! PostgreSQL and a private Redis per test: outbox rows reach the audit consumer once however
//! often they are delivered, a Redis outage loses and doubles nothing, the Dapr transport talks
//! the documented Dapr protocol, replay rebuilds lost consumer state, dead letters can be
//! listed and retried, and every produced event is valid against the CloudEvents JSON schema.
//!
//! Events are written the way a writer does (`platform::outbox::enqueue`'s insert), with the
//! domain's `CloudEvent`, so these tests do not depend on any particular API route.

use std::time::{Duration, Instant};

use domain::account::UserId;
use domain::event::{CloudEvent, EventHeader, EventId, Source, Subject, Topic, Traceparent};
use domain::time::Timestamp;
use e2e::{TestApp, TestDb, TestRedis, pg};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

const TRACEPARENT: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const PASSWORD: &str = "correct horse battery";
const EVERYTHING: &[&str] = &[
    "api",
    "dispatcher",
    "dispatcher-cron",
    "audit",
    "audit-redis",
];

struct Bus {
    db: TestDb,
    base: String,
    http: reqwest::Client,
}

impl Bus {
    async fn start(
        configure: impl FnOnce(TestApp) -> TestApp,
        components: &[&str],
    ) -> (Self, TestApp) {
        let db = TestDb::create().await.unwrap();
        let app = configure(TestApp::new(&db.url()));
        app.migrate().await.unwrap();
        let base = app.serve(components).await.unwrap();
        let bus = Self {
            db,
            base,
            http: reqwest::Client::new(),
        };
        (bus, app)
    }

    async fn sql(&self) -> tokio_postgres::Client {
        pg(&self.db.url()).await.unwrap()
    }

    async fn count(&self, sql: &str) -> i64 {
        self.sql().await.query_one(sql, &[]).await.unwrap().get(0)
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let text = response.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Registers and logs in; returns (user id, bearer token).
    async fn user(&self, email: &str) -> (UserId, String) {
        let (status, body) = self
            .send(
                Method::POST,
                "/api/auth/register",
                None,
                Some(json!({"email": email, "password": PASSWORD})),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let id = UserId::parse(body["user"]["id"].as_str().unwrap()).unwrap();
        let (status, body) = self
            .send(
                Method::POST,
                "/api/auth/login",
                None,
                Some(json!({"email": email, "password": PASSWORD})),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        (id, body["token"].as_str().unwrap().to_owned())
    }

    /// Writes an event to the outbox as a writer does, committed on its own.
    async fn enqueue(&self, topic: Topic, user: UserId) -> CloudEvent {
        let event = event(topic, user);
        self.sql()
            .await
            .execute(
                "INSERT INTO outbox (id, topic, subject, user_id, payload) \
                 VALUES ($1::text::uuid, $2, $3, $4::text::uuid, $5::text::jsonb)",
                &[
                    &event.id().to_string(),
                    &topic.as_str(),
                    &event.subject().to_string(),
                    &user.to_string(),
                    &event.to_json().to_string(),
                ],
            )
            .await
            .unwrap();
        event
    }

    /// Writes `events` to the outbox in one transaction, as a writer with several changes does.
    async fn enqueue_all(&self, events: &[CloudEvent]) {
        let mut sql = self.sql().await;
        let tx = sql.transaction().await.unwrap();
        for event in events {
            tx.execute(
                "INSERT INTO outbox (id, topic, subject, user_id, payload) \
                 VALUES ($1::text::uuid, $2, $3, $4::text::uuid, $5::text::jsonb)",
                &[
                    &event.id().to_string(),
                    &event.topic().as_str(),
                    &event.subject().to_string(),
                    &event.user_id().to_string(),
                    &event.to_json().to_string(),
                ],
            )
            .await
            .unwrap();
        }
        tx.commit().await.unwrap();
    }

    /// Ages the events `filter` selects past the 90-day retention, runs the audit's retention
    /// tick, and returns its report (`deleted`, `receipts_deleted`).
    async fn expire_events(
        &self,
        filter: &str,
        params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
    ) -> Value {
        self.sql()
            .await
            .execute(
                &format!(
                    "UPDATE events SET created_at = now() - interval '91 days' WHERE {filter}"
                ),
                params,
            )
            .await
            .unwrap();
        let (status, body) = self
            .send(Method::POST, "/ticks/audit", Some("test-tick-token"), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }

    async fn stored_events(&self) -> i64 {
        self.count("SELECT count(*) FROM events").await
    }
}

fn event(topic: Topic, user: UserId) -> CloudEvent {
    let header = EventHeader {
        id: EventId::new(uuid::Uuid::now_v7()).unwrap(),
        time: Timestamp::from_datetime(chrono::Utc::now()),
        source: Source::Api,
        traceparent: Some(Traceparent::parse(TRACEPARENT).unwrap()),
    };
    let task = uuid::Uuid::new_v4();
    CloudEvent::new(
        topic,
        header,
        Subject::pattern(task),
        json!({"task_id": task.to_string(), "user_id": user.to_string(), "version": 1}),
    )
    .unwrap()
}

async fn wait_for<F, Fut>(what: &str, timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + timeout;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

const TASK_TOPICS: [Topic; 4] = [
    Topic::TaskCreated,
    Topic::TaskUpdated,
    Topic::TaskCompleted,
    Topic::TaskDeleted,
];

#[tokio::test]
async fn every_event_reaches_the_audit_log_once_even_when_delivered_twice() {
    let redis = TestRedis::start().await.unwrap();
    let (bus, _app) = Bus::start(|app| app.var("redis_url", &redis.url()), EVERYTHING).await;
    let (ada, ada_token) = bus.user("ada@example.com").await;
    let (bob, bob_token) = bus.user("bob@example.com").await;

    let started = Instant::now();
    let mut sent = Vec::new();
    for topic in TASK_TOPICS {
        sent.push(bus.enqueue(topic, ada).await);
    }
    sent.push(bus.enqueue(Topic::TaskCreated, bob).await);
    wait_for("five stored events", Duration::from_secs(10), || async {
        bus.stored_events().await == 5
    })
    .await;
    eprintln!(
        "five events from commit to the audit log (tick only) in {:?}",
        started.elapsed()
    );
    assert_eq!(
        bus.count("SELECT count(*) FROM outbox WHERE delivered_at IS NULL")
            .await,
        0
    );

    // Every event again, straight onto Redis, as a redelivery would: nothing changes.
    for event in &sent {
        let receivers = redis
            .publish(
                event.topic().as_str(),
                event.to_json().to_string().as_bytes(),
            )
            .await
            .unwrap();
        assert_eq!(
            receivers,
            1,
            "the audit-redis subscriber hears {}",
            event.topic()
        );
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(bus.stored_events().await, 5);
    assert_eq!(
        bus.count("SELECT count(*) FROM consumer_receipts WHERE consumer = 'audit'")
            .await,
        5
    );

    // What was stored is exactly what was sent, and valid CloudEvents 1.0.
    let schema: Value = serde_json::from_str(include_str!("fixtures/cloudevents.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let rows = bus
        .sql()
        .await
        .query(
            "SELECT payload::text, event_type, user_id::text FROM events",
            &[],
        )
        .await
        .unwrap();
    for row in rows {
        let payload: Value = serde_json::from_str(row.get::<_, &str>(0)).unwrap();
        assert!(validator.is_valid(&payload), "{payload}");
        assert!(sent.iter().any(|e| e.to_json() == payload), "{payload}");
        assert_eq!(payload["traceparent"], TRACEPARENT);
        assert_eq!(
            format!("com.todoapp.{}", row.get::<_, &str>(1)),
            payload["type"]
        );
    }

    // The log API: each user sees their own events, newest first, page by page.
    let (status, page) = bus
        .send(
            Method::GET,
            "/api/audit/events?limit=3",
            Some(&ada_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert_eq!(page["items"].as_array().unwrap().len(), 3);
    let cursor = page["next_cursor"].as_str().unwrap().to_owned();
    let (_, rest) = bus
        .send(
            Method::GET,
            &format!("/api/audit/events?limit=3&cursor={cursor}"),
            Some(&ada_token),
            None,
        )
        .await;
    assert_eq!(rest["items"].as_array().unwrap().len(), 1);
    assert_eq!(rest["next_cursor"], Value::Null);
    let first = page["items"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(first, sent[3].id().to_string(), "newest first");
    let (_, bobs) = bus
        .send(Method::GET, "/api/audit/events", Some(&bob_token), None)
        .await;
    assert_eq!(bobs["items"].as_array().unwrap().len(), 1);
    let (status, _) = bus
        .send(
            Method::GET,
            &format!("/api/audit/events/{first}"),
            Some(&bob_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "Bob cannot read Ada's event");
    let (status, one) = bus
        .send(
            Method::GET,
            &format!("/api/audit/events/{first}"),
            Some(&ada_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["payload"], sent[3].to_json());
    let (_, filtered) = bus
        .send(
            Method::GET,
            "/api/audit/events?type=tasks.task.created",
            Some(&ada_token),
            None,
        )
        .await;
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);
    let (status, problem) = bus
        .send(
            Method::GET,
            "/api/audit/events?limit=0",
            Some(&ada_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(problem["errors"][0]["field"], "limit");
    let (status, _) = bus.send(Method::GET, "/api/audit/events", None, None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);

    // An admin sees everyone's.
    bus.sql()
        .await
        .execute(
            "UPDATE users SET role = 'admin' WHERE id = $1::text::uuid",
            &[&ada.to_string()],
        )
        .await
        .unwrap();
    let (_, all) = bus
        .send(Method::GET, "/api/audit/events", Some(&ada_token), None)
        .await;
    assert_eq!(all["items"].as_array().unwrap().len(), 5);

    // Metrics, read from the database.
    for (sample, value) in [
        ("events_published_total{topic=\"tasks.task.created\"}", 2.0),
        (
            "events_persisted_total{event_type=\"tasks.task.deleted\"}",
            1.0,
        ),
        ("outbox_backlog", 0.0),
        ("outbox_oldest_undelivered_age_seconds", 0.0),
    ] {
        assert_eq!(metric(&bus.base, sample).await, Some(value), "{sample}");
    }
}

/// Reads messages from `channel` until they hold `count` events (a message is one event or a
/// JSON batch of them), each within `secs`; returns how many messages that took and the events.
async fn messages_until(
    channel: &mut e2e::Subscriber,
    count: usize,
    secs: u64,
) -> (usize, Vec<Value>) {
    let (mut messages, mut events) = (0, Vec::new());
    while events.len() < count {
        let payload = channel
            .next(Duration::from_secs(secs))
            .await
            .unwrap()
            .expect("the dispatcher publishes the events");
        messages += 1;
        match serde_json::from_str(&payload).unwrap() {
            Value::Array(batch) => events.extend(batch),
            one => events.push(one),
        }
    }
    (messages, events)
}

#[tokio::test]
async fn events_claimed_together_travel_as_batches_and_each_is_stored_once() {
    let redis = TestRedis::start().await.unwrap();
    let mut channel = redis.subscribe("tasks.task.created").await.unwrap();
    let (bus, _app) = Bus::start(|app| app.var("redis_url", &redis.url()), EVERYTHING).await;
    let user = UserId::from(uuid::Uuid::new_v4());

    // 150 events in one commit: the dispatcher's next claim finds them all, and they travel in
    // the CloudEvents JSON batch format, at most 100 to a message, in the order written.
    let events: Vec<CloudEvent> = (0..150).map(|_| event(Topic::TaskCreated, user)).collect();
    bus.enqueue_all(&events).await;
    let (messages, received) = messages_until(&mut channel, events.len(), 10).await;
    assert_eq!(messages, 2, "150 events claimed at once are two messages");
    let sent: Vec<Value> = events.iter().map(CloudEvent::to_json).collect();
    assert_eq!(received, sent, "every event, unchanged and in order");
    wait_for("150 stored events", Duration::from_secs(10), || async {
        bus.stored_events().await == 150
    })
    .await;

    // `reminders`, which the topic also expects, does not run here: 5 s after publication the
    // dispatcher publishes the events again for it, batched the same way, and the audit
    // consumer, which has them already, stores nothing twice.
    let (messages, again) = messages_until(&mut channel, events.len(), 15).await;
    assert_eq!(
        messages, 2,
        "150 events redelivered at once are two messages"
    );
    let ids = |events: &[Value]| {
        let mut ids: Vec<String> = events.iter().map(|e| e["id"].to_string()).collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&again), ids(&sent), "every event once");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(bus.stored_events().await, 150);

    // A batch as a redelivery or a broken publisher might send it: an event already stored, a
    // new one twice, something that is not an event, another new one. The new ones are
    // stored once each; nothing else changes.
    let new = [
        event(Topic::TaskCreated, user),
        event(Topic::TaskCreated, user),
    ];
    let batch = json!([
        events[0].to_json(),
        new[0].to_json(),
        new[0].to_json(),
        {"specversion": "1.0"},
        new[1].to_json(),
    ]);
    redis
        .publish("tasks.task.created", batch.to_string().as_bytes())
        .await
        .unwrap();
    wait_for("152 stored events", Duration::from_secs(10), || async {
        bus.stored_events().await == 152
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(bus.stored_events().await, 152);
    assert_eq!(
        bus.count("SELECT count(*) FROM consumer_receipts WHERE consumer = 'audit'")
            .await,
        152
    );
    let stored: i64 = bus
        .sql()
        .await
        .query_one(
            "SELECT count(*) FROM events WHERE id = ANY($1::text[]::uuid[])",
            &[&new.iter().map(|e| e.id().to_string()).collect::<Vec<_>>()],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, 2);
}

#[tokio::test]
async fn with_redis_stopped_changes_are_kept_and_delivered_once_when_it_returns() {
    let mut redis = TestRedis::start().await.unwrap();
    // The writer side and the dispatcher in one app, the Redis-triggered consumer in another:
    // under Spin a lost Redis connection ends the Redis trigger (and `spin up`), so in
    // production its process is restarted by its supervisor, which the test plays here.
    let (bus, app) = Bus::start(
        |app| app.var("redis_url", &redis.url()),
        &["api", "dispatcher", "dispatcher-cron", "audit"],
    )
    .await;
    let _consumer = app.serve(&["audit-redis"]).await.unwrap();
    let (ada, _) = bus.user("ada@example.com").await;
    bus.enqueue(Topic::TaskCreated, ada).await;
    wait_for("the first event", Duration::from_secs(10), || async {
        bus.stored_events().await == 1
    })
    .await;

    redis.stop().await;
    let mut sent = Vec::new();
    for topic in TASK_TOPICS.iter().cycle().take(12) {
        sent.push(bus.enqueue(*topic, ada).await);
    }
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        bus.stored_events().await,
        1,
        "nothing can arrive while Redis is down"
    );
    assert_eq!(
        bus.count(
            "SELECT count(*) FROM outbox WHERE delivered_at IS NULL AND last_error IS NOT NULL"
        )
        .await,
        12,
        "the dispatcher kept every event, with the error"
    );

    redis.start_again().await.unwrap();
    let _consumer_again = app.serve(&["audit-redis"]).await.unwrap();
    wait_for(
        "every event after Redis returns",
        Duration::from_secs(60),
        || async { bus.stored_events().await == 13 },
    )
    .await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(bus.stored_events().await, 13, "nothing doubled");
    assert_eq!(bus.count("SELECT count(DISTINCT id) FROM events").await, 13);
    assert_eq!(
        bus.count("SELECT count(*) FROM outbox WHERE delivered_at IS NULL")
            .await,
        0
    );
}

/// A stand-in Dapr sidecar: the documented publish endpoint
/// (`POST /v1.0/publish/{pubsub}/{topic}`, 204), which delivers each event to the app's
/// subscription route (`POST /events/audit/{topic}`, `application/cloudevents+json`, with the
/// attributes Dapr adds) and records the subscriber's reply status.
mod dapr {
    use std::sync::{Arc, Mutex};

    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;
    use hyper::{Request, Response};
    use serde_json::Value;

    #[derive(Default)]
    pub struct Sidecar {
        pub app: Mutex<Option<String>>,
        pub published: Mutex<Vec<(String, String, Option<String>)>>,
        pub replies: Mutex<Vec<String>>,
    }

    pub async fn start(sidecar: Arc<Sidecar>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let sidecar = sidecar.clone();
                tokio::spawn(async move {
                    let service =
                        hyper::service::service_fn(move |req| handle(sidecar.clone(), req));
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        format!("http://{addr}")
    }

    async fn handle(
        sidecar: Arc<Sidecar>,
        req: Request<hyper::body::Incoming>,
    ) -> Result<Response<Full<Bytes>>, std::convert::Infallible> {
        let path = req.uri().path().to_owned();
        let query = req.uri().query().map(str::to_owned);
        let content_type = req
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_owned();
        let body = req.into_body().collect().await.unwrap().to_bytes();
        let reply = |status: u16| {
            Response::builder()
                .status(status)
                .body(Full::new(Bytes::new()))
                .unwrap()
        };
        let Some(rest) = path.strip_prefix("/v1.0/publish/") else {
            return Ok(reply(404));
        };
        let Some((pubsub, topic)) = rest.split_once('/') else {
            return Ok(reply(404));
        };
        if content_type != "application/cloudevents+json" {
            return Ok(reply(400));
        }
        sidecar
            .published
            .lock()
            .unwrap()
            .push((pubsub.to_owned(), topic.to_owned(), query));
        // Dapr forwards a structured CloudEvent with its own attributes added.
        let mut event: Value = serde_json::from_slice(&body).unwrap();
        event["topic"] = topic.into();
        event["pubsubname"] = pubsub.into();
        event["traceid"] = event["traceparent"].clone();
        let app = sidecar.app.lock().unwrap().clone().unwrap();
        deliver(&sidecar, &app, topic, &event).await;
        Ok(reply(204))
    }

    pub async fn deliver(sidecar: &Sidecar, app: &str, topic: &str, event: &Value) -> String {
        let response = reqwest::Client::new()
            .post(format!("{app}/events/audit/{topic}"))
            .header("content-type", "application/cloudevents+json")
            // Dapr presents its app token, which is the tick token.
            .header("dapr-api-token", "test-tick-token")
            .body(event.to_string())
            .send()
            .await
            .unwrap();
        let body: Value = response.json().await.unwrap_or(Value::Null);
        let status = body["status"].as_str().unwrap_or("").to_owned();
        sidecar.replies.lock().unwrap().push(status.clone());
        status
    }
}

#[tokio::test]
async fn the_dapr_transport_publishes_and_delivers_by_dapr_s_contract() {
    let sidecar = std::sync::Arc::new(dapr::Sidecar::default());
    let dapr_url = dapr::start(sidecar.clone()).await;
    let (bus, _app) = Bus::start(
        |app| app.var("event_bus", "dapr").var("dapr_http_url", &dapr_url),
        &["api", "dispatcher", "dispatcher-cron", "audit"],
    )
    .await;
    *sidecar.app.lock().unwrap() = Some(bus.base.clone());
    let (ada, _) = bus.user("ada@example.com").await;
    let sent = bus.enqueue(Topic::TaskUpdated, ada).await;
    // Stored, and the component's reply back at the sidecar: the audit row commits before the
    // HTTP reply reaches Dapr, so waiting for the row alone races with the reply.
    wait_for(
        "the event through Dapr",
        Duration::from_secs(10),
        || async { bus.stored_events().await == 1 && !sidecar.replies.lock().unwrap().is_empty() },
    )
    .await;
    {
        let published = sidecar.published.lock().unwrap();
        assert_eq!(
            published[0],
            (
                "pubsub".to_owned(),
                "tasks.task.updated".to_owned(),
                Some(format!("metadata.partitionKey={ada}"))
            )
        );
        assert_eq!(sidecar.replies.lock().unwrap()[0], "SUCCESS");
    }
    let stored: String = bus
        .sql()
        .await
        .query_one("SELECT metadata ->> 'transport' FROM events", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, "dapr");

    // Dapr delivers at least once: a second delivery is SUCCESS and changes nothing.
    let again = dapr::deliver(&sidecar, &bus.base, "tasks.task.updated", &sent.to_json()).await;
    assert_eq!(again, "SUCCESS");
    assert_eq!(bus.stored_events().await, 1);
    // Not an event, or on another topic's route: DROP, never RETRY forever.
    assert_eq!(
        dapr::deliver(
            &sidecar,
            &bus.base,
            "tasks.task.updated",
            &json!({"hello": 1})
        )
        .await,
        "DROP"
    );
    let other = event(Topic::TaskCreated, ada).to_json();
    assert_eq!(
        dapr::deliver(&sidecar, &bus.base, "tasks.task.updated", &other).await,
        "DROP"
    );
    assert_eq!(bus.stored_events().await, 1);
}

/// The value of an unlabelled or labelled sample in `/metrics`, if present.
async fn metric(base: &str, sample: &str) -> Option<f64> {
    let text = reqwest::Client::new()
        .get(format!("{base}/metrics"))
        .bearer_auth("test-tick-token")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|line| line.strip_prefix(sample)?.strip_prefix(' ')?.parse().ok())
}

#[tokio::test]
async fn old_delivered_events_are_pruned_and_the_counters_keep_counting_them() {
    let redis = TestRedis::start().await.unwrap();
    let (bus, _app) = Bus::start(|app| app.var("redis_url", &redis.url()), EVERYTHING).await;
    let user = UserId::from(uuid::Uuid::new_v4());
    // A topic only `audit` consumes, so every delivery row can be settled here.
    let events: Vec<CloudEvent> = (0..3)
        .map(|_| event(Topic::ReminderScheduled, user))
        .collect();
    bus.enqueue_all(&events).await;
    wait_for("three stored events", Duration::from_secs(10), || async {
        bus.stored_events().await == 3
    })
    .await;
    let published = "events_published_total{topic=\"reminders.reminder.scheduled\"}";
    let persisted = "events_persisted_total{event_type=\"reminders.reminder.scheduled\"}";
    assert_eq!(metric(&bus.base, published).await, Some(3.0));
    assert_eq!(metric(&bus.base, persisted).await, Some(3.0));

    // A week and a day later: the receipts are in, so the next tick settles the first two;
    // the third is a dead letter, which keeps its outbox row for the admin's retry.
    let sql = bus.sql().await;
    let dead = events[2].id().to_string();
    sql.execute(
        "UPDATE event_deliveries SET next_check_at = now(), \
         dead_at = CASE WHEN event_id = $1::text::uuid THEN now() END",
        &[&dead],
    )
    .await
    .unwrap();
    sql.execute(
        "UPDATE outbox SET created_at = now() - interval '8 days'",
        &[],
    )
    .await
    .unwrap();
    let recent = bus.enqueue(Topic::ReminderScheduled, user).await;
    wait_for(
        "the two settled old rows pruned",
        Duration::from_secs(10),
        || async { bus.count("SELECT count(*) FROM outbox").await == 2 },
    )
    .await;
    let left: Vec<String> = sql
        .query("SELECT id::text FROM outbox ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(left, [dead, recent.id().to_string()]);

    // Audit retention deletes the stored events; the counters never go down.
    wait_for(
        "the fourth event stored",
        Duration::from_secs(10),
        || async { bus.stored_events().await == 4 },
    )
    .await;
    // Every receipt is as old as its event; those of the two pruned events are now spent (no
    // source left to replay them from, no consumer owed them) and go; the dead letter's and the
    // recent event's stay.
    sql.execute(
        "UPDATE consumer_receipts SET processed_at = now() - interval '91 days'",
        &[],
    )
    .await
    .unwrap();
    let report = bus.expire_events("true", &[]).await;
    assert_eq!(report["deleted"], 4);
    assert_eq!(report["receipts_deleted"], 2);
    let kept: Vec<String> = sql
        .query(
            "SELECT event_id::text FROM consumer_receipts ORDER BY event_id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(
        kept, left,
        "the receipts of what may still be delivered stay"
    );
    assert_eq!(metric(&bus.base, published).await, Some(4.0));
    assert_eq!(metric(&bus.base, persisted).await, Some(4.0));
}

#[tokio::test]
async fn replay_rebuilds_lost_state_once_and_dead_letters_can_be_retried() {
    let redis = TestRedis::start().await.unwrap();
    let (bus, app) = Bus::start(
        |app| app.var("redis_url", &redis.url()),
        &["api", "dispatcher", "dispatcher-cron", "audit"],
    )
    .await;
    let _consumer = app.serve(&["audit-redis"]).await.unwrap();
    let (ada, token) = bus.user("ada@example.com").await;
    let (_, user_token) = bus.user("bob@example.com").await;
    bus.sql()
        .await
        .execute(
            "UPDATE users SET role = 'admin' WHERE id = $1::text::uuid",
            &[&ada.to_string()],
        )
        .await
        .unwrap();
    let from = chrono::Utc::now() - chrono::Duration::minutes(1);
    for topic in TASK_TOPICS {
        bus.enqueue(topic, ada).await;
    }
    wait_for("four events", Duration::from_secs(10), || async {
        bus.stored_events().await == 4
    })
    .await;
    let before: Vec<String> = bus
        .sql()
        .await
        .query("SELECT payload::text FROM events ORDER BY id", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();

    // The audit consumer loses its state: its rows and its receipts.
    let sql = bus.sql().await;
    sql.batch_execute("DELETE FROM events; DELETE FROM consumer_receipts WHERE consumer = 'audit'")
        .await
        .unwrap();
    let window = json!({
        "from": from.to_rfc3339(),
        "to": (chrono::Utc::now() + chrono::Duration::minutes(1)).to_rfc3339(),
        "consumer": "audit",
    });
    let (status, _) = bus
        .send(
            Method::POST,
            "/api/admin/replay",
            Some(&user_token),
            Some(window.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "replay is for admins");
    let (status, body) = bus
        .send(
            Method::POST,
            "/api/admin/replay",
            Some(&token),
            Some(window.clone()),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    assert_eq!(body["scheduled"], 4);
    wait_for("the rebuilt log", Duration::from_secs(10), || async {
        bus.stored_events().await == 4
    })
    .await;
    let rebuilt = |sql: String| async move {
        pg(&sql)
            .await
            .unwrap()
            .query("SELECT payload::text FROM events ORDER BY id", &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect::<Vec<_>>()
    };
    assert_eq!(rebuilt(bus.db.url()).await, before);

    // Replaying again changes nothing: every receipt is there, so nothing is even published.
    let (status, _) = bus
        .send(
            Method::POST,
            "/api/admin/replay",
            Some(&token),
            Some(window),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    wait_for("the replay to settle", Duration::from_secs(10), || async {
        bus.count("SELECT count(*) FROM event_deliveries WHERE consumer = 'audit'")
            .await
            == 0
    })
    .await;
    assert_eq!(rebuilt(bus.db.url()).await, before);
    assert_eq!(
        bus.count("SELECT count(*) FROM consumer_receipts WHERE consumer = 'audit'")
            .await,
        4
    );

    // A replay body naming an unknown topic is refused, naming the field.
    let (status, problem) = bus
        .send(
            Method::POST,
            "/api/admin/replay",
            Some(&token),
            Some(json!({"from": "2026-01-01T00:00:00Z", "to": "2025-01-01T00:00:00Z", "topics": ["nope"]})),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let fields: Vec<&str> = problem["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["field"].as_str().unwrap())
        .collect();
    assert_eq!(fields, ["to", "topics[0]"]);

    // A consumer that never answers: its delivery runs out of attempts and is a dead letter.
    let lost = bus.enqueue(Topic::TaskCreated, ada).await;
    wait_for("the event", Duration::from_secs(10), || async {
        bus.stored_events().await == 5
    })
    .await;
    // The consumer has also been silent for a while: one that recorded an older event in the
    // last few seconds looks merely behind, and the dispatcher rightly waits for it instead.
    sql.batch_execute(&format!(
        "DELETE FROM events WHERE id = '{0}'; DELETE FROM consumer_receipts WHERE event_id = '{0}'; \
         UPDATE consumer_receipts SET processed_at = now() - interval '1 minute' WHERE consumer = 'audit'",
        lost.id()
    ))
    .await
    .unwrap();
    sql.execute(
        "INSERT INTO event_deliveries (event_id, consumer, attempts, next_check_at) \
         VALUES ($1::text::uuid, 'audit', 8, now()) \
         ON CONFLICT (event_id, consumer) DO UPDATE SET attempts = 8, next_check_at = now()",
        &[&lost.id().to_string()],
    )
    .await
    .unwrap();
    wait_for("a dead letter", Duration::from_secs(10), || async {
        bus.count("SELECT count(*) FROM event_deliveries WHERE dead_at IS NOT NULL")
            .await
            == 1
    })
    .await;
    let (status, dead) = bus
        .send(Method::GET, "/api/admin/dead-letters", Some(&token), None)
        .await;
    assert_eq!(status, StatusCode::OK, "{dead}");
    assert_eq!(dead["items"][0]["event_id"], lost.id().to_string());
    assert_eq!(dead["items"][0]["consumer"], "audit");
    assert_eq!(dead["items"][0]["event"], lost.to_json());
    let (status, _) = bus
        .send(
            Method::GET,
            "/api/admin/dead-letters",
            Some(&user_token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let (status, _) = bus
        .send(
            Method::POST,
            &format!("/api/admin/dead-letters/{}/retry", lost.id()),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    wait_for("the retried event", Duration::from_secs(10), || async {
        bus.stored_events().await == 5
    })
    .await;
    let (status, _) = bus
        .send(
            Method::POST,
            &format!("/api/admin/dead-letters/{}/retry", lost.id()),
            Some(&token),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND, "no dead letter left");

    // The tick route needs the tick token.
    let (status, _) = bus
        .send(Method::POST, "/ticks/dispatcher", Some("wrong"), None)
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, report) = bus
        .send(
            Method::POST,
            "/ticks/dispatcher",
            Some("test-tick-token"),
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    // Dapr's cron binding probes its route with OPTIONS at start-up (anything but 404 keeps the
    // binding), then calls it with its app token in `dapr-api-token`, which is the tick token.
    let probe = bus
        .http
        .request(Method::OPTIONS, format!("{}/ticks/dispatcher", bus.base))
        .send()
        .await
        .unwrap();
    assert_eq!(probe.status(), StatusCode::NO_CONTENT);
    for (token, expected) in [
        ("wrong", StatusCode::UNAUTHORIZED),
        ("test-tick-token", StatusCode::OK),
    ] {
        let tick = bus
            .http
            .post(format!("{}/ticks/dispatcher", bus.base))
            .header("dapr-api-token", token)
            .send()
            .await
            .unwrap();
        assert_eq!(tick.status(), expected, "dapr-api-token {token}");
    }
    // Retention: nothing here is older than 90 days; with 1 day, an old event goes.
    let lost_id = lost.id().to_string();
    let report = bus.expire_events("id = $1::text::uuid", &[&lost_id]).await;
    assert_eq!(report["deleted"], 1);
    assert_eq!(bus.stored_events().await, 4);
}

#[tokio::test]
async fn every_task_change_made_through_the_api_reaches_every_consumer_as_a_valid_cloudevent() {
    let redis = TestRedis::start().await.unwrap();
    // Every consumer of task events in the table, each on its Redis trigger, as `spin up` runs
    // them.
    let consumers: Vec<String> = domain::event::Consumer::ALL
        .iter()
        .filter(|c| TASK_TOPICS.iter().any(|t| c.consumes(*t)))
        .map(|c| format!("{}-redis", c.as_str()))
        .collect();
    let mut components = vec!["api", "dispatcher", "dispatcher-cron"];
    components.extend(consumers.iter().map(String::as_str));
    let (bus, _app) = Bus::start(|app| app.var("redis_url", &redis.url()), &components).await;
    let (_, token) = bus.user("ada@example.com").await;

    let send = |method: Method, path: String, body: Option<Value>| {
        let mut request = bus
            .http
            .request(method, format!("{}{path}", bus.base))
            .bearer_auth(&token)
            .header("traceparent", TRACEPARENT);
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let response = request.send().await.unwrap();
            let status = response.status();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (status, task) = send(
        Method::POST,
        "/api/tasks".into(),
        Some(json!({"title": "Buy milk"})),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    let id = task["id"].as_str().unwrap().to_owned();
    let (status, body) = send(
        Method::PATCH,
        format!("/api/tasks/{id}"),
        Some(json!({"title": "Buy oat milk"})),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = send(Method::PATCH, format!("/api/tasks/{id}/toggle"), None).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, _) = send(Method::DELETE, format!("/api/tasks/{id}"), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);

    // What the API wrote to the outbox for this task, in order: at least one event per change.
    let outbox: Vec<String> = bus
        .sql()
        .await
        .query(
            "SELECT topic FROM outbox WHERE subject = $1 ORDER BY id",
            &[&format!("task/{id}")],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    assert_eq!(
        outbox.first().map(String::as_str),
        Some("tasks.task.created")
    );
    assert_eq!(
        outbox.last().map(String::as_str),
        Some("tasks.task.deleted")
    );
    for topic in ["tasks.task.updated", "tasks.task.completed"] {
        assert!(outbox.iter().any(|t| t == topic), "{outbox:?}");
    }
    let expected = outbox;
    let receipts = format!(
        "SELECT count(*) FROM consumer_receipts r JOIN outbox o ON o.id = r.event_id \
         WHERE o.subject = 'task/{id}'"
    );
    let every: usize = expected
        .iter()
        .map(|topic| domain::event::Consumer::expecting(Topic::parse(topic).unwrap()).len())
        .sum();
    let every = every as i64;
    wait_for(
        "a receipt from every consumer for every change",
        Duration::from_secs(15),
        || async { bus.count(&receipts).await == every },
    )
    .await;

    let schema: Value = serde_json::from_str(include_str!("fixtures/cloudevents.json")).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let rows = bus
        .sql()
        .await
        .query(
            "SELECT payload::text FROM events WHERE aggregate_id = $1::text::uuid ORDER BY id",
            &[&id],
        )
        .await
        .unwrap();
    let types: Vec<String> = rows
        .iter()
        .map(|row| {
            let event: Value = serde_json::from_str(row.get::<_, &str>(0)).unwrap();
            assert!(validator.is_valid(&event), "{event}");
            assert_eq!(event["source"], "api");
            assert_eq!(event["subject"], format!("task/{id}"));
            assert_eq!(
                event["traceparent"], TRACEPARENT,
                "carried from the request"
            );
            assert!(
                EventId::parse(event["id"].as_str().unwrap()).is_ok(),
                "a UUIDv7 id"
            );
            event["type"]
                .as_str()
                .unwrap()
                .trim_start_matches("com.todoapp.")
                .to_owned()
        })
        .collect();
    assert_eq!(types, expected);
    // Redelivery does not double anything either: after the first check every row is settled.
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert_eq!(bus.count(&receipts).await, every);
    assert_eq!(
        bus.count(&format!(
            "SELECT count(*) FROM event_deliveries d JOIN outbox o ON o.id = d.event_id \
             WHERE o.subject = 'task/{id}'"
        ))
        .await,
        0,
        "every expected receipt arrived, so nothing is left to redeliver"
    );
}
