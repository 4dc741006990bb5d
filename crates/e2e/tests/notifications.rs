//! Notifications end to end through the real `spin.toml`: a task event planned by `reminders`,
//! fired by its tick, published from the outbox by the dispatcher on a private Redis, consumed
//! by `notifier`, and delivered in-app, to a mail API and to a webhook receiver. The mail API
//! and the webhook receiver are real HTTP servers started by the test that record every request
//! (a SendGrid v3 compatible `POST /v3/mail/send`, and a Standard Webhooks receiver that checks
//! signatures independently, with its own HMAC code).

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat, SubsecRound, TimeDelta, Utc};
use e2e::{TestApp, TestDb, TestRedis, pg};
use hmac::{Hmac, Mac};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;
use uuid::Uuid;

/// One request a recorder received.
#[derive(Debug, Clone)]
struct Received {
    at: DateTime<Utc>,
    path: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Received {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// A real HTTP server that answers every request with `status` and records it.
struct Recorder {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
}

impl Recorder {
    async fn start(status: u16) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let received = Arc::new(Mutex::new(Vec::new()));
        let log = received.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let log = log.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |req: hyper::Request<_>| {
                        let log = log.clone();
                        async move {
                            let path = req.uri().path().to_owned();
                            let headers = req
                                .headers()
                                .iter()
                                .map(|(n, v)| {
                                    (n.as_str().to_owned(), v.to_str().unwrap_or("").to_owned())
                                })
                                .collect();
                            let body: hyper::body::Incoming = req.into_body();
                            let body = body.collect().await.unwrap().to_bytes().to_vec();
                            log.lock().unwrap().push(Received {
                                at: Utc::now(),
                                path,
                                headers,
                                body,
                            });
                            Ok::<_, std::convert::Infallible>(
                                hyper::Response::builder()
                                    .status(status)
                                    .body(Full::new(Bytes::new()))
                                    .unwrap(),
                            )
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Self { url, received }
    }

    fn received(&self) -> Vec<Received> {
        self.received.lock().unwrap().clone()
    }

    async fn wait_for(&self, count: usize, within: Duration) -> Vec<Received> {
        let deadline = Instant::now() + within;
        loop {
            let received = self.received();
            if received.len() >= count || Instant::now() > deadline {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Checks a Standard Webhooks signature the way a receiver would, without the project's code.
fn signature_verifies(secret: &str, received: &Received) -> bool {
    let key = STANDARD
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let id = received.header("webhook-id").unwrap();
    let timestamp = received.header("webhook-timestamp").unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{id}.{timestamp}.").as_bytes());
    mac.update(&received.body);
    let expected = format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()));
    received
        .header("webhook-signature")
        .unwrap()
        .split(' ')
        .any(|sig| sig == expected)
}

fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

fn rfc3339(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Micros, true)
}

struct Env {
    base: String,
    client: Client,
    db: TestDb,
    redis: TestRedis,
    token: String,
    user_id: Uuid,
    email: Recorder,
    webhook: Recorder,
}

const COMPONENTS: &[&str] = &[
    "api",
    "reminders",
    "reminders-cron",
    "dispatcher",
    "dispatcher-cron",
    "notifier",
    "notifier-redis",
    "notifier-cron",
];

async fn start(webhook_status: u16, allow_private: bool) -> Env {
    let db = TestDb::create().await.unwrap();
    let redis = TestRedis::start().await.unwrap();
    let email = Recorder::start(202).await;
    let webhook = Recorder::start(webhook_status).await;
    let app = TestApp::new(&db.url())
        .var("redis_url", &redis.url())
        .var("email_api_url", &email.url)
        .var("email_api_key", "SG.test-key")
        .var("email_from", "reminders@todo.example")
        .var("public_base_url", "https://todo.example")
        .var(
            "webhook_allow_private",
            if allow_private { "true" } else { "false" },
        );
    app.migrate().await.unwrap();
    let base = app.serve(COMPONENTS).await.unwrap();
    let mut env = Env {
        base,
        client: Client::new(),
        db,
        redis,
        token: String::new(),
        user_id: Uuid::nil(),
        email,
        webhook,
    };
    let credentials = json!({"email": "ada@example.com", "password": "correct horse battery"});
    let reply = env
        .send(
            Method::POST,
            "/api/auth/register",
            Some(credentials.clone()),
        )
        .await;
    assert_eq!(reply.0, StatusCode::CREATED, "{}", reply.1);
    env.user_id = reply.1["user"]["id"].as_str().unwrap().parse().unwrap();
    let reply = env
        .send(Method::POST, "/api/auth/login", Some(credentials))
        .await;
    env.token = reply.1["token"].as_str().unwrap().to_owned();
    env
}

impl Env {
    async fn send(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.base));
        if !self.token.is_empty() {
            request = request.bearer_auth(&self.token);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let status = response.status();
        let bytes = response.bytes().await.unwrap();
        (
            status,
            serde_json::from_slice(&bytes).unwrap_or(Value::Null),
        )
    }

    /// Sets the webhook URL (and time zone); returns the signing secret, shown only when the
    /// first URL is set.
    async fn configure(&self, webhook_url: &str) -> Option<String> {
        let (status, body) = self
            .send(
                Method::PUT,
                "/api/me/settings",
                Some(
                    json!({"webhook_url": webhook_url, "timezone": "Europe/Paris",
                            "default_channels": ["in_app", "email", "webhook"]}),
                ),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        assert_eq!(body["timezone"], "Europe/Paris");
        body["webhook_secret"].as_str().map(str::to_owned)
    }

    /// A task due at `due` with one reminder at `remind_at`, announced to `reminders`.
    async fn task_with_reminder(&self, due: DateTime<Utc>, remind_at: DateTime<Utc>) -> Uuid {
        let id = Uuid::new_v4();
        let specs = json!([{"at": rfc3339(remind_at)}]).to_string();
        pg(&self.db.url())
            .await
            .unwrap()
            .execute(
                "INSERT INTO tasks (id, user_id, title, due_date, reminders) \
                 VALUES ($1, $2, 'Buy <milk>', $3::text::timestamptz, $4::text::jsonb)",
                &[&id, &self.user_id, &rfc3339(due), &specs],
            )
            .await
            .unwrap();
        let event = json!({
            "specversion": "1.0", "id": Uuid::now_v7().to_string(),
            "type": "com.todoapp.tasks.task.created", "source": "api",
            "subject": format!("task/{id}"), "time": rfc3339(Utc::now()),
            "data": {"task_id": id.to_string(), "user_id": self.user_id.to_string()}
        });
        let response = self
            .client
            .post(format!("{}/events/reminders/tasks.task.created", self.base))
            .header("content-type", "application/cloudevents+json")
            // Dapr presents its app token, which is the tick token.
            .header("dapr-api-token", "test-tick-token")
            .body(event.to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        id
    }

    /// A fired event for the user, as `reminders` publishes it.
    fn fired_event(&self) -> Value {
        let at = rfc3339(Utc::now());
        json!({
            "specversion": "1.0", "id": Uuid::now_v7().to_string(),
            "type": "com.todoapp.reminders.reminder.fired", "source": "reminders",
            "subject": format!("reminder/{}", Uuid::new_v4()), "time": at,
            "datacontenttype": "application/json",
            "data": {"reminder_id": Uuid::new_v4().to_string(), "task_id": Uuid::new_v4().to_string(),
                     "user_id": self.user_id.to_string(), "task_title": "Call Bob",
                     "due_date": null, "notification_channels": ["in_app", "webhook"],
                     "scheduled_time": at, "fired_at": at}
        })
    }

    async fn history(&self) -> Vec<Value> {
        let (status, body) = self
            .send(Method::GET, "/api/notifications/history", None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["items"].as_array().unwrap().clone()
    }

    async fn wait_history(&self, done: impl Fn(&[Value]) -> bool, within: Duration) -> Vec<Value> {
        let deadline = Instant::now() + within;
        loop {
            let items = self.history().await;
            if done(&items) || Instant::now() > deadline {
                return items;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[tokio::test]
async fn a_fired_reminder_arrives_once_in_app_by_email_and_by_signed_webhook() {
    let env = start(204, true).await;
    let secret = env
        .configure(&format!("{}/hooks/todo", env.webhook.url))
        .await
        .expect("the first webhook URL comes with a secret");
    assert!(secret.starts_with("whsec_"));

    let due = now() + TimeDelta::seconds(10);
    let remind_at = due - TimeDelta::seconds(5);
    let task = env.task_with_reminder(due, remind_at).await;

    // Within 2 s of the reminder time: one email and one webhook.
    let emails = env.email.wait_for(1, Duration::from_secs(12)).await;
    let hooks = env.webhook.wait_for(1, Duration::from_secs(3)).await;
    assert_eq!(emails.len(), 1, "{emails:?}");
    assert_eq!(hooks.len(), 1, "{hooks:?}");
    for received in [&emails[0], &hooks[0]] {
        let late = received.at - remind_at;
        assert!(
            late < TimeDelta::seconds(2),
            "{} arrived {late} after the reminder time",
            received.path
        );
    }

    // The email: SendGrid's v3 shape, with the key, the due time in the user's zone, a link to
    // the task, and the title escaped in the HTML.
    let email = &emails[0];
    assert_eq!(email.path, "/v3/mail/send");
    assert_eq!(email.header("authorization"), Some("Bearer SG.test-key"));
    let mail = email.json();
    assert_eq!(
        mail["personalizations"][0]["to"][0]["email"],
        "ada@example.com"
    );
    assert_eq!(mail["from"]["email"], "reminders@todo.example");
    assert_eq!(mail["subject"], "Reminder: Buy <milk>");
    let local_due = due
        .with_timezone(&chrono_tz::Europe::Paris)
        .format("%H:%M")
        .to_string();
    let text = mail["content"][0]["value"].as_str().unwrap();
    assert_eq!(mail["content"][0]["type"], "text/plain");
    assert!(
        text.contains(&local_due) && text.contains("Europe/Paris"),
        "{text}"
    );
    assert!(
        text.contains(&format!("https://todo.example/tasks/{task}")),
        "{text}"
    );
    let html = mail["content"][1]["value"].as_str().unwrap();
    assert!(html.contains("Buy &lt;milk&gt;"), "{html}");

    // The webhook: the fired event, signed as Standard Webhooks specifies.
    let hook = &hooks[0];
    assert_eq!(hook.path, "/hooks/todo");
    assert!(signature_verifies(&secret, hook), "{hook:?}");
    let event = hook.json();
    assert_eq!(event["type"], "com.todoapp.reminders.reminder.fired");
    assert_eq!(event["data"]["task_id"], json!(task.to_string()));
    assert_eq!(event["data"]["task_title"], "Buy <milk>");

    // In-app: one notification, unread; the unread count answers 304 to its own ETag.
    let (_, list) = env.send(Method::GET, "/api/notifications", None).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
    assert_eq!(list["unread_count"], 1);
    let id = list["items"][0]["id"].as_str().unwrap().to_owned();
    let count = env
        .client
        .get(format!("{}/api/notifications/unread-count", env.base))
        .bearer_auth(&env.token)
        .send()
        .await
        .unwrap();
    let etag = count.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(count.json::<Value>().await.unwrap()["unread_count"], 1);
    let again = env
        .client
        .get(format!("{}/api/notifications/unread-count", env.base))
        .bearer_auth(&env.token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    let (status, _) = env
        .send(Method::POST, &format!("/api/notifications/{id}/read"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let after = env
        .client
        .get(format!("{}/api/notifications/unread-count", env.base))
        .bearer_auth(&env.token)
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), StatusCode::OK);
    assert_eq!(after.json::<Value>().await.unwrap()["unread_count"], 0);

    // The same fired event again, on Redis and as a Dapr delivery: nothing new anywhere.
    let stored: String = pg(&env.db.url())
        .await
        .unwrap()
        .query_one(
            "SELECT payload::text FROM outbox WHERE topic = 'reminders.reminder.fired'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    env.redis
        .publish("reminders.reminder.fired", stored.as_bytes())
        .await
        .unwrap();
    let reply = env
        .client
        .post(format!(
            "{}/events/notifier/reminders.reminder.fired",
            env.base
        ))
        .header("content-type", "application/cloudevents+json")
        // Dapr presents its app token, which is the tick token.
        .header("dapr-api-token", "test-tick-token")
        .body(stored)
        .send()
        .await
        .unwrap();
    assert_eq!(reply.json::<Value>().await.unwrap()["status"], "SUCCESS");
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(env.email.received().len(), 1);
    assert_eq!(env.webhook.received().len(), 1);
    let history = env.history().await;
    assert_eq!(history.len(), 3, "{history:?}");
    assert!(history.iter().all(|n| n["status"] == "sent"), "{history:?}");

    // /metrics shows the firing lag and the deliveries.
    let metrics = env
        .client
        .get(format!("{}/metrics", env.base))
        .bearer_auth("test-tick-token")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let sample = |name: &str| {
        metrics
            .lines()
            .find(|line| line.starts_with(name))
            .and_then(|line| line.rsplit(' ').next())
            .and_then(|value| value.parse::<f64>().ok())
            .unwrap_or_else(|| panic!("{name} missing from\n{metrics}"))
    };
    let p99 = sample("reminder_firing_lag_seconds{quantile=\"0.99\"}");
    assert!((0.0..2.0).contains(&p99), "{p99}");
    assert_eq!(sample("reminders_fired_total"), 1.0);
    assert_eq!(sample("notifications_sent_total{channel=\"email\"}"), 1.0);
    assert_eq!(sample("notifications_sent_total{channel=\"webhook\"}"), 1.0);
}

#[tokio::test]
async fn a_failing_webhook_is_retried_with_backoff_then_marked_failed() {
    let env = start(500, true).await;
    env.configure(&format!("{}/hooks/broken", env.webhook.url))
        .await;
    env.redis
        .publish(
            "reminders.reminder.fired",
            env.fired_event().to_string().as_bytes(),
        )
        .await
        .unwrap();
    let history = env
        .wait_history(
            |items| {
                items
                    .iter()
                    .any(|n| n["channel"] == "webhook" && n["status"] == "failed")
            },
            Duration::from_secs(25),
        )
        .await;
    let hook = history.iter().find(|n| n["channel"] == "webhook").unwrap();
    assert_eq!(hook["status"], "failed", "{hook}");
    assert_eq!(hook["attempts"], 4);
    assert!(
        hook["last_error"].as_str().unwrap().contains("500"),
        "{hook}"
    );
    let received = env.webhook.received();
    assert_eq!(received.len(), 4);
    // The same webhook-id on every attempt, so a receiver can tell retries from new events;
    // the waits between attempts grow.
    assert!(
        received
            .iter()
            .all(|r| r.header("webhook-id") == received[0].header("webhook-id"))
    );
    let gaps: Vec<TimeDelta> = received.windows(2).map(|w| w[1].at - w[0].at).collect();
    assert!(gaps[2] > gaps[0], "{gaps:?}");
    // The in-app notification was not held up by the failing webhook.
    assert!(
        history
            .iter()
            .any(|n| n["channel"] == "in_app" && n["status"] == "sent")
    );
}

#[tokio::test]
async fn private_webhook_targets_are_refused_and_never_called() {
    let env = start(204, false).await;
    for target in [
        format!("{}/hooks/todo", env.webhook.url),
        env.webhook.url.replace("127.0.0.1", "localhost") + "/hooks/todo",
        "http://169.254.169.254/latest/meta-data/".to_owned(),
        "http://[::ffff:127.0.0.1]:9/".to_owned(),
    ] {
        env.configure(&target).await;
        let event = env.fired_event();
        env.redis
            .publish("reminders.reminder.fired", event.to_string().as_bytes())
            .await
            .unwrap();
        let event_reminder = event["data"]["reminder_id"].clone();
        let history = env
            .wait_history(
                |items| {
                    items.iter().any(|n| {
                        n["reminder_id"] == event_reminder
                            && n["channel"] == "webhook"
                            && n["status"] == "failed"
                    })
                },
                Duration::from_secs(5),
            )
            .await;
        let hook = history
            .iter()
            .find(|n| n["reminder_id"] == event_reminder && n["channel"] == "webhook")
            .unwrap_or_else(|| panic!("no webhook row for {target}: {history:?}"));
        assert_eq!(hook["status"], "failed", "{target}: {hook}");
        assert_eq!(hook["attempts"], 1, "refused at once, not retried: {hook}");
        assert!(
            hook["last_error"].as_str().unwrap().contains("refused"),
            "{target}: {hook}"
        );
    }
    assert!(env.webhook.received().is_empty());
}
