//! Recurring patterns through the real `spin.toml` and `.wasm` files against real PostgreSQL:
//! creation generates the first horizon at once, bad patterns are 422s naming the field and
//! change nothing, the preview, the three editing scopes (one instance, this and following,
//! the whole series) plus deleting a series, the `recurrence` component's daily tick, and an
//! after-completion series whose next instance follows a completion through the outbox, the
//! dispatcher and a private Redis.

use std::time::{Duration, Instant};

use e2e::{TestApp, TestDb, TestRedis, pg};
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const PASSWORD: &str = "correct horse battery";

struct Reply {
    status: StatusCode,
    body: Value,
}

impl Reply {
    fn assert_status(&self, status: u16) -> &Self {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        self
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
}

struct Api {
    base: String,
    client: Client,
    db: TestDb,
    token: String,
}

async fn start() -> Api {
    start_with(None, &["api"]).await
}

/// The app with `components`, publishing to `redis_url` when given.
async fn start_with(redis_url: Option<&str>, components: &[&str]) -> Api {
    let db = TestDb::create().await.unwrap();
    let mut app = TestApp::new(&db.url());
    if let Some(url) = redis_url {
        app = app.var("redis_url", url);
    }
    app.migrate().await.unwrap();
    let base = app.serve(components).await.unwrap();
    let mut api = Api {
        base,
        client: Client::new(),
        db,
        token: String::new(),
    };
    let credentials = json!({"email": "ada@example.com", "password": PASSWORD});
    api.send(
        Method::POST,
        "/api/auth/register",
        Some(credentials.clone()),
    )
    .await
    .assert_status(201);
    let login = api
        .send(Method::POST, "/api/auth/login", Some(credentials))
        .await;
    api.token = login.body["token"].as_str().unwrap().to_owned();
    api
}

impl Api {
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

    async fn scalar(&self, sql: &str) -> i64 {
        pg(&self.db.url())
            .await
            .unwrap()
            .query_one(sql, &[])
            .await
            .unwrap()
            .get(0)
    }

    async fn text(&self, sql: &str) -> String {
        pg(&self.db.url())
            .await
            .unwrap()
            .query_one(sql, &[])
            .await
            .unwrap()
            .get(0)
    }

    /// The series' instances as (task id, title, due in the pattern's zone, completed,
    /// exception), by occurrence.
    async fn instances(&self, pattern: &str) -> Vec<Value> {
        let reply = self
            .send(
                Method::GET,
                &format!("/api/tasks/recurring/{pattern}/instances"),
                None,
            )
            .await;
        reply.assert_status(200);
        reply.body["instances"].as_array().unwrap().clone()
    }

    /// Tomorrow's local date in `zone`, by the database's clock.
    async fn tomorrow(&self, zone: &str) -> String {
        self.text(&format!(
            "SELECT to_char((now() AT TIME ZONE '{zone}') + interval '1 day', 'YYYY-MM-DD')"
        ))
        .await
    }

    async fn topics(&self, topic: &str) -> i64 {
        self.scalar(&format!(
            "SELECT count(*) FROM outbox WHERE topic = '{topic}'"
        ))
        .await
    }
}

fn weekly(start: &str) -> Value {
    json!({
        "task_template": {"title": "Standup", "priority": "high", "tags": ["work"],
                          "reminder_minutes_before": 15},
        "frequency": "weekly", "days_of_week": [0, 2, 4],
        "start": start, "timezone": "America/New_York"
    })
}

#[tokio::test]
async fn a_weekly_pattern_has_its_instances_as_soon_as_it_is_created() {
    let api = start().await;
    let start = format!("{}T09:00:00", api.tomorrow("America/New_York").await);
    let began = Instant::now();
    let reply = api
        .send(Method::POST, "/api/tasks/recurring", Some(weekly(&start)))
        .await;
    reply.assert_status(201);
    let pattern = reply.body["id"].as_str().unwrap().to_owned();
    // Mondays, Wednesdays and Fridays over 30 days: 12 to 14 of them, in the database before
    // the response, so well within a second of the request.
    let made = api
        .scalar(&format!(
            "SELECT count(*) FROM tasks WHERE recurrence_pattern_id = '{pattern}' \
             AND is_recurring AND title = 'Standup' AND priority = 'high' AND tags = '{{work}}'"
        ))
        .await;
    assert!(
        began.elapsed() < Duration::from_secs(1),
        "{:?}",
        began.elapsed()
    );
    assert!((12..=14).contains(&made), "{made} instances");
    assert_eq!(reply.body["instances_generated"], json!(made));
    assert_eq!(
        reply.body["rrule"],
        json!("FREQ=WEEKLY;BYDAY=MO,WE,FR"),
        "{}",
        reply.body
    );
    // Every instance is due at 09:00 in New York (whatever the offset that day) on a Monday,
    // Wednesday or Friday, with its reminder 15 minutes before.
    let wrong = api
        .scalar(&format!(
            "SELECT count(*) FROM tasks WHERE recurrence_pattern_id = '{pattern}' AND NOT ( \
             to_char(due_date AT TIME ZONE 'America/New_York', 'HH24:MI') = '09:00' \
             AND extract(isodow FROM due_date AT TIME ZONE 'America/New_York') IN (1, 3, 5) \
             AND reminder_time = due_date - interval '15 minutes' \
             AND recurrence_occurrence = due_date)"
        ))
        .await;
    assert_eq!(wrong, 0);
    assert_eq!(api.topics("recurring.pattern.created").await, 1);
    assert_eq!(api.topics("recurring.instance.generated").await, made);

    // Replacing the series with the same rule makes nothing twice.
    api.send(
        Method::PUT,
        &format!("/api/tasks/recurring/{pattern}"),
        Some(weekly(&start)),
    )
    .await
    .assert_status(200);
    assert_eq!(
        api.scalar(&format!(
            "SELECT count(*) FROM tasks WHERE recurrence_pattern_id = '{pattern}'"
        ))
        .await,
        made
    );
    let listed = api.send(Method::GET, "/api/tasks/recurring", None).await;
    listed.assert_status(200);
    assert_eq!(listed.body["patterns"].as_array().unwrap().len(), 1);
    assert_eq!(listed.body["patterns"][0]["days_of_week"], json!([0, 2, 4]));
}

#[tokio::test]
async fn bad_patterns_are_422_naming_the_field_and_change_nothing() {
    let api = start().await;
    let cases = [
        (
            json!({"task_template": {"title": "x"}, "frequency": "daily",
                   "start": "2026-03-01T09:00:00", "end_date": "2026-04-01", "max_occurrences": 3}),
            "max_occurrences",
        ),
        (
            json!({"task_template": {"title": "x"}, "frequency": "daily",
                   "start": "2026-03-01T09:00:00", "timezone": "Mars/Olympus_Mons"}),
            "timezone",
        ),
        (
            json!({"task_template": {"title": "x"}, "rrule": "FREQ=DAILY;BYDAY=2TU",
                   "start": "2026-03-01T09:00:00"}),
            "rrule",
        ),
        (
            json!({"task_template": {"title": "x"}, "rrule": "FREQ=YEARLY;BYMONTH=2;BYMONTHDAY=30",
                   "start": "2026-03-01T09:00:00"}),
            "rrule",
        ),
        (
            json!({"task_template": {"title": ""}, "frequency": "daily",
                   "start": "2026-03-01T09:00:00"}),
            "task_template.title",
        ),
        (
            json!({"task_template": {"title": "x"}, "frequency": "daily",
                   "start": "2026-03-01T09:00:00", "mode": "sometimes"}),
            "mode",
        ),
    ];
    for (body, field) in cases {
        let reply = api
            .send(Method::POST, "/api/tasks/recurring", Some(body.clone()))
            .await;
        reply.assert_status(422);
        assert_eq!(reply.error_fields(), [field], "{body}: {}", reply.body);
    }
    assert_eq!(
        api.scalar("SELECT count(*) FROM recurrence_patterns").await,
        0
    );
    assert_eq!(api.scalar("SELECT count(*) FROM tasks").await, 0);
    assert_eq!(api.scalar("SELECT count(*) FROM outbox").await, 0);
}

#[tokio::test]
async fn the_preview_expands_any_start_with_the_zones_offsets() {
    let api = start().await;
    // The second Sunday of March 2026 is New York's change to daylight time.
    let reply = api
        .send(
            Method::POST,
            "/api/tasks/recurring/preview",
            Some(
                json!({"rrule": "FREQ=WEEKLY;BYDAY=SU", "start": "2026-03-01T09:00:00",
                        "timezone": "America/New_York", "count": 3}),
            ),
        )
        .await;
    reply.assert_status(200);
    assert_eq!(
        reply.body["occurrences"],
        json!([
            "2026-03-01T09:00:00-05:00",
            "2026-03-08T09:00:00-04:00",
            "2026-03-15T09:00:00-04:00"
        ])
    );
    // A past start and a structured month-end pattern: the 31st falls back to the last day.
    let reply = api
        .send(
            Method::POST,
            "/api/tasks/recurring/preview",
            Some(json!({"frequency": "monthly", "day_of_month": 31,
                        "start": "2001-01-31T08:00:00", "timezone": "Europe/London", "count": 3})),
        )
        .await;
    reply.assert_status(200);
    assert_eq!(
        reply.body["occurrences"],
        json!([
            "2001-01-31T08:00:00+00:00",
            "2001-02-28T08:00:00+00:00",
            "2001-03-31T08:00:00+01:00"
        ])
    );
    let reply = api
        .send(
            Method::POST,
            "/api/tasks/recurring/preview",
            Some(json!({"rrule": "FREQ=DAILY", "start": "2026-03-01T09:00:00", "count": 0})),
        )
        .await;
    reply.assert_status(422);
    assert_eq!(reply.error_fields(), ["count"]);
}

#[tokio::test]
async fn one_instance_edits_survive_a_whole_series_edit_and_completed_ones_are_untouched() {
    let api = start().await;
    let start = format!("{}T07:30:00", api.tomorrow("Europe/London").await);
    let body = json!({"task_template": {"title": "Water plants"}, "frequency": "daily",
                      "start": start, "timezone": "Europe/London"});
    let reply = api
        .send(Method::POST, "/api/tasks/recurring", Some(body))
        .await;
    reply.assert_status(201);
    let pattern = reply.body["id"].as_str().unwrap().to_owned();
    let instances = api.instances(&pattern).await;
    // Tomorrow on, until 30 days from now: 29 or 30 depending on the time of day.
    assert!((29..=30).contains(&instances.len()), "{}", instances.len());
    let id = |i: usize| instances[i]["task_id"].as_str().unwrap().to_owned();

    // One instance edited through the task API becomes an exception; one is completed; one
    // is deleted (its occurrence becomes an EXDATE).
    api.send(
        Method::PATCH,
        &format!("/api/tasks/{}", id(1)),
        Some(json!({"title": "Water plants (and the cactus)"})),
    )
    .await
    .assert_status(200);
    api.send(Method::PATCH, &format!("/api/tasks/{}/toggle", id(2)), None)
        .await
        .assert_status(200);
    api.send(Method::DELETE, &format!("/api/tasks/{}", id(3)), None)
        .await
        .assert_status(204);
    let exdates = api
        .text(&format!(
            "SELECT array_to_string(exdates, ',') FROM recurrence_patterns WHERE id = '{pattern}'"
        ))
        .await;
    assert_eq!(exdates.split(',').count(), 1, "{exdates}");
    assert!(exdates.ends_with("T07:30:00"), "{exdates}");

    // The whole series moves to 08:00 with a new title.
    let body = json!({"task_template": {"title": "Water the garden"}, "frequency": "daily",
                      "start": start.replace("07:30", "08:00"), "timezone": "Europe/London"});
    api.send(
        Method::PUT,
        &format!("/api/tasks/recurring/{pattern}"),
        Some(body),
    )
    .await
    .assert_status(200);
    let after = api.instances(&pattern).await;
    let by_id = |task: &str| after.iter().find(|i| i["task_id"] == json!(task)).cloned();
    let edited = by_id(&id(1)).expect("the edited instance stays");
    assert_eq!(edited["title"], json!("Water plants (and the cactus)"));
    assert_eq!(edited["is_exception"], json!(true));
    let completed = by_id(&id(2)).expect("the completed instance stays");
    assert_eq!(completed["title"], json!("Water plants"));
    assert_eq!(completed["is_completed"], json!(true));
    assert!(by_id(&id(3)).is_none());
    assert!(
        by_id(&id(0)).is_none(),
        "an untouched open instance is replaced"
    );
    let renamed = after
        .iter()
        .filter(|i| i["title"] == json!("Water the garden"))
        .count();
    // The EXDATE is at 07:30, which the 08:00 rule never produces, so every day of the horizon
    // has its 08:00 instance.
    assert!((29..=30).contains(&renamed), "{renamed}");
    let at_eight = api
        .scalar(&format!(
            "SELECT count(*) FROM tasks WHERE recurrence_pattern_id = '{pattern}' \
             AND title = 'Water the garden' \
             AND to_char(due_date AT TIME ZONE 'Europe/London', 'HH24:MI') = '08:00'"
        ))
        .await;
    assert_eq!(at_eight as usize, renamed);
}

#[tokio::test]
async fn this_and_following_splits_the_series_at_the_instance() {
    let api = start().await;
    let start = format!("{}T18:00:00", api.tomorrow("UTC").await);
    let body = json!({"task_template": {"title": "Read"}, "frequency": "daily",
                      "max_occurrences": 10, "start": start, "timezone": "UTC"});
    let reply = api
        .send(Method::POST, "/api/tasks/recurring", Some(body))
        .await;
    reply.assert_status(201);
    let pattern = reply.body["id"].as_str().unwrap().to_owned();
    let instances = api.instances(&pattern).await;
    assert_eq!(instances.len(), 10);
    let fourth = instances[3]["task_id"].as_str().unwrap();

    let reply = api
        .send(
            Method::PUT,
            &format!("/api/tasks/recurring/{pattern}/instances/{fourth}"),
            Some(json!({"task_template": {"title": "Read aloud"}})),
        )
        .await;
    reply.assert_status(201);
    let following = reply.body["id"].as_str().unwrap().to_owned();
    assert_ne!(following, pattern);
    assert_eq!(reply.body["rrule"], json!("FREQ=DAILY;COUNT=7"));

    let kept = api.instances(&pattern).await;
    assert_eq!(kept.len(), 3);
    assert!(kept.iter().all(|i| i["title"] == json!("Read")));
    let old = api
        .send(
            Method::GET,
            &format!("/api/tasks/recurring/{pattern}"),
            None,
        )
        .await;
    assert_eq!(old.body["rrule"], json!("FREQ=DAILY;COUNT=3"));
    let moved = api.instances(&following).await;
    assert_eq!(moved.len(), 7);
    assert!(moved.iter().all(|i| i["title"] == json!("Read aloud")));
    assert_eq!(moved[0]["occurrence"], instances[3]["occurrence"]);
    assert_eq!(moved[6]["occurrence"], instances[9]["occurrence"]);

    // Deleting from the sixth instance of the new series on leaves two of it.
    let sixth = moved[2]["task_id"].as_str().unwrap();
    api.send(
        Method::DELETE,
        &format!("/api/tasks/recurring/{following}/instances/{sixth}"),
        None,
    )
    .await
    .assert_status(204);
    assert_eq!(api.instances(&following).await.len(), 2);
    assert_eq!(
        api.scalar("SELECT count(*) FROM tasks WHERE is_recurring")
            .await,
        5
    );
}

#[tokio::test]
async fn deleting_a_series_removes_its_open_instances_and_keeps_completed_ones() {
    let api = start().await;
    let start = format!("{}T12:00:00", api.tomorrow("Asia/Kolkata").await);
    let body = json!({"task_template": {"title": "Stretch"}, "frequency": "daily",
                      "interval": 2, "start": start, "timezone": "Asia/Kolkata"});
    let reply = api
        .send(Method::POST, "/api/tasks/recurring", Some(body))
        .await;
    reply.assert_status(201);
    let pattern = reply.body["id"].as_str().unwrap().to_owned();
    let instances = api.instances(&pattern).await;
    assert_eq!(instances.len(), 15);
    let first = instances[0]["task_id"].as_str().unwrap();
    api.send(Method::PATCH, &format!("/api/tasks/{first}/toggle"), None)
        .await
        .assert_status(200);

    api.send(
        Method::DELETE,
        &format!("/api/tasks/recurring/{pattern}"),
        None,
    )
    .await
    .assert_status(204);
    api.send(
        Method::GET,
        &format!("/api/tasks/recurring/{pattern}"),
        None,
    )
    .await
    .assert_status(404);
    assert_eq!(
        api.scalar(&format!(
            "SELECT count(*) FROM tasks WHERE recurrence_pattern_id = '{pattern}'"
        ))
        .await,
        1
    );
    assert_eq!(api.topics("recurring.pattern.deleted").await, 1);
    assert_eq!(api.topics("tasks.task.deleted").await, 14);
    // The deleted series makes nothing more, and its deletions recorded no EXDATEs.
    assert_eq!(
        api.text(&format!(
            "SELECT array_to_string(exdates, ',') FROM recurrence_patterns WHERE id = '{pattern}'"
        ))
        .await,
        ""
    );
}

#[tokio::test]
async fn the_daily_tick_tops_every_pattern_up_to_the_horizon_once() {
    let api = start_with(None, &["api", "recurrence"]).await;
    let start = format!("{}T06:00:00", api.tomorrow("UTC").await);
    let body = json!({"task_template": {"title": "Journal"}, "frequency": "daily",
                      "start": start, "timezone": "UTC"});
    let reply = api
        .send(Method::POST, "/api/tasks/recurring", Some(body))
        .await;
    reply.assert_status(201);
    let pattern = reply.body["id"].as_str().unwrap().to_owned();
    let full = api.instances(&pattern).await.len() as i64;
    // As if the pattern had been generated only three days ahead, and those days had passed
    // (removing instances as a series change, so no EXDATEs are recorded for them).
    let client = pg(&api.db.url()).await.unwrap();
    client
        .batch_execute(&format!(
            "SELECT set_config('todo.series_change', 'on', false); \
             DELETE FROM tasks WHERE recurrence_pattern_id = '{pattern}'              AND due_date > now() + interval '3 days';              UPDATE recurrence_patterns SET generated_until = now() + interval '3 days'              WHERE id = '{pattern}'"
        ))
        .await
        .unwrap();
    let kept = api.instances(&pattern).await.len() as i64;
    assert!(kept < full);

    let tick = |token: Option<&'static str>| {
        let mut request = api.client.post(format!("{}/ticks/recurrence", api.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send()
    };
    assert_eq!(tick(None).await.unwrap().status(), StatusCode::UNAUTHORIZED);
    // Two ticks at once, as two replicas would run them: the pattern is claimed by one (SKIP
    // LOCKED), and the unique key would stop duplicates even if both got it.
    let (first, second) =
        tokio::join!(tick(Some("test-tick-token")), tick(Some("test-tick-token")));
    let first: Value = first.unwrap().json().await.unwrap();
    let second: Value = second.unwrap().json().await.unwrap();
    let made = first["instances"].as_i64().unwrap() + second["instances"].as_i64().unwrap();
    assert_eq!(made, full - kept, "{first} {second}");
    assert_eq!(api.instances(&pattern).await.len() as i64, full);
    assert_eq!(
        api.scalar(&format!(
            "SELECT count(*) FROM (SELECT recurrence_occurrence FROM tasks \
             WHERE recurrence_pattern_id = '{pattern}' GROUP BY 1 HAVING count(*) > 1) d"
        ))
        .await,
        0
    );
    // The next run finds nothing behind.
    let again: Value = tick(Some("test-tick-token"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(again, json!({"patterns": 0, "instances": 0}));
}

#[tokio::test]
async fn an_after_completion_series_makes_the_next_instance_when_one_is_completed() {
    let redis = TestRedis::start().await.unwrap();
    let api = start_with(
        Some(&redis.url()),
        &["api", "dispatcher-cron", "recurrence-redis"],
    )
    .await;
    let start = format!("{}T09:00:00", api.tomorrow("UTC").await);
    // "every! 3 days": three days after each completion, at 09:00.
    let body = json!({"task_template": {"title": "Change the filter"}, "frequency": "daily",
                      "interval": 3, "mode": "after_completion", "start": start,
                      "timezone": "UTC"});
    let reply = api
        .send(Method::POST, "/api/tasks/recurring", Some(body))
        .await;
    reply.assert_status(201);
    assert_eq!(reply.body["mode"], json!("after_completion"));
    let pattern = reply.body["id"].as_str().unwrap().to_owned();
    let first = api.instances(&pattern).await;
    assert_eq!(
        first.len(),
        1,
        "only one open instance at a time: {first:?}"
    );
    let first_id = first[0]["task_id"].as_str().unwrap().to_owned();

    api.send(
        Method::PATCH,
        &format!("/api/tasks/{first_id}/toggle"),
        None,
    )
    .await
    .assert_status(200);
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut instances = api.instances(&pattern).await;
    while instances.len() < 2 && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
        instances = api.instances(&pattern).await;
    }
    assert_eq!(instances.len(), 2, "{instances:?}");
    let expected = api
        .text(
            "SELECT to_char((now() AT TIME ZONE 'UTC')::date + 3, 'YYYY-MM-DD')              || 'T09:00:00Z'",
        )
        .await;
    let next = instances
        .iter()
        .find(|i| i["task_id"] != json!(first_id))
        .unwrap();
    assert_eq!(next["due_date"], json!(expected), "{instances:?}");
    assert_eq!(next["is_completed"], json!(false));
    assert_eq!(
        api.scalar("SELECT count(*) FROM consumer_receipts WHERE consumer = 'recurrence'")
            .await,
        api.scalar(
            "SELECT count(*) FROM outbox WHERE topic IN ('tasks.task.completed', \
             'recurring.pattern.created')"
        )
        .await
    );
    // The completion again (reopened and completed) does not make a third while one is open.
    api.send(
        Method::PATCH,
        &format!("/api/tasks/{first_id}/toggle"),
        None,
    )
    .await
    .assert_status(200);
    api.send(
        Method::PATCH,
        &format!("/api/tasks/{first_id}/toggle"),
        None,
    )
    .await
    .assert_status(200);
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(api.instances(&pattern).await.len(), 2);
}

#[tokio::test]
async fn this_and_following_can_change_the_rule_from_that_instance_on() {
    let api = start().await;
    let start = format!("{}T07:00:00", api.tomorrow("Europe/London").await);
    let body = json!({"task_template": {"title": "Run"}, "frequency": "daily",
                      "start": start, "timezone": "Europe/London"});
    let reply = api
        .send(Method::POST, "/api/tasks/recurring", Some(body))
        .await;
    reply.assert_status(201);
    let pattern = reply.body["id"].as_str().unwrap().to_owned();
    let instances = api.instances(&pattern).await;
    let fifth = instances[4]["task_id"].as_str().unwrap();

    // From the fifth day on: every other day, same time and zone (taken from the old series).
    let reply = api
        .send(
            Method::PUT,
            &format!("/api/tasks/recurring/{pattern}/instances/{fifth}"),
            Some(json!({"frequency": "daily", "interval": 2})),
        )
        .await;
    reply.assert_status(201);
    assert_eq!(reply.body["rrule"], json!("FREQ=DAILY;INTERVAL=2"));
    assert_eq!(reply.body["timezone"], json!("Europe/London"));
    assert_eq!(reply.body["task_template"]["title"], json!("Run"));
    let following = reply.body["id"].as_str().unwrap();
    let moved = api.instances(following).await;
    assert_eq!(moved[0]["occurrence"], instances[4]["occurrence"]);
    assert_eq!(moved[1]["occurrence"], instances[6]["occurrence"]);
    assert_eq!(api.instances(&pattern).await.len(), 4);
}

#[tokio::test]
async fn pattern_changes_honour_if_match_as_task_changes_do() {
    let api = start().await;
    let start = format!("{}T09:00:00", api.tomorrow("America/New_York").await);
    let created = api
        .send(Method::POST, "/api/tasks/recurring", Some(weekly(&start)))
        .await;
    created.assert_status(201);
    let pattern = created.body["id"].as_str().unwrap().to_owned();
    let path = format!("{}/api/tasks/recurring/{pattern}", api.base);
    let fetched = api
        .client
        .get(&path)
        .bearer_auth(&api.token)
        .send()
        .await
        .unwrap();
    let etag = fetched.headers()["etag"].to_str().unwrap().to_owned();
    assert_eq!(etag, "\"1\"");

    let mut renamed = weekly(&start);
    renamed["task_template"]["title"] = json!("Renamed");
    let put = |if_match: &'static str| {
        api.client
            .put(&path)
            .bearer_auth(&api.token)
            .header("if-match", if_match)
            .json(&renamed)
            .send()
    };
    // A stale tag, a weak tag (If-Match compares strongly) and a list without the current tag
    // are 412 with the current ETag, and change nothing.
    for stale in ["\"7\"", "W/\"1\"", "\"5\", \"6\""] {
        let reply = put(stale).await.unwrap();
        assert_eq!(reply.status(), StatusCode::PRECONDITION_FAILED, "{stale}");
        assert_eq!(reply.headers()["etag"], "\"1\"");
    }
    let titled = |title: &str| {
        format!(
            "SELECT count(*) FROM tasks WHERE recurrence_pattern_id = '{pattern}' \
             AND title = '{title}'"
        )
    };
    assert_eq!(api.scalar(&titled("Renamed")).await, 0);
    assert_eq!(api.topics("recurring.pattern.updated").await, 0);
    // A list that names the current version is accepted.
    let reply = put("\"9\", \"1\"").await.unwrap();
    assert_eq!(reply.status(), StatusCode::OK);
    assert!(api.scalar(&titled("Renamed")).await > 0);
    assert_eq!(api.topics("recurring.pattern.updated").await, 1);
}
