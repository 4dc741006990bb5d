//! Every SQL statement of the notifier, and the rows they read.

use chrono::NaiveDateTime;
use domain::account::{Email, UserId};
use domain::notification::{NotificationSettings, WebhookUrl};
use domain::recurrence::Timezone;
use domain::reminder::{Channel, Channels};
use domain::time::Timestamp;
use platform::db::DbError;
use serde::Serialize;
use serde_json::Value;
use spin_sdk::pg4::{Connection, Decode, ParameterValue, Row, RowSet};
use uuid::Uuid;

use crate::error::Error;

fn pg(step: &str) -> impl FnOnce(spin_sdk::pg4::PgError) -> Error + '_ {
    move |err| Error::Db(DbError::postgres(step, err))
}

fn get<T: Decode>(row: &Row<'_>, column: &str) -> Result<T, Error> {
    row.get::<T>(column)
        .ok_or_else(|| Error::Internal(format!("reading column {column}")))
}

fn instant(row: &Row<'_>, column: &str) -> Result<Timestamp, Error> {
    get::<NaiveDateTime>(row, column).map(Timestamp::from_naive_utc)
}

fn optional_instant(row: &Row<'_>, column: &str) -> Result<Option<Timestamp>, Error> {
    get::<Option<NaiveDateTime>>(row, column).map(|v| v.map(Timestamp::from_naive_utc))
}

fn text(value: impl Into<String>) -> ParameterValue {
    ParameterValue::Str(value.into())
}

/// A user's settings, with what the account itself supplies.
#[derive(Debug, Clone)]
pub struct UserSettings {
    /// The settings (account zone and email applied where the user set none).
    pub settings: NotificationSettings,
    /// The account's email, where emails go when no other address is set.
    pub account_email: String,
    /// The webhook signing secret, if one was made.
    pub webhook_secret: Option<String>,
}

impl UserSettings {
    /// Where this user's emails go.
    pub fn email_recipient(&self) -> String {
        self.settings
            .email_address
            .as_ref()
            .map(ToString::to_string)
            .unwrap_or_else(|| self.account_email.clone())
    }
}

/// Reads a user's settings; `None` if the user does not exist.
pub fn settings(conn: &Connection, user_id: UserId) -> Result<Option<UserSettings>, Error> {
    let rows = conn
        .query(
            "SELECT u.email, u.timezone AS account_zone, p.timezone, p.email_address, \
             coalesce(p.email_enabled, true) AS email_enabled, p.webhook_url, p.webhook_secret, \
             coalesce(p.default_channels, '[\"in_app\"]'::jsonb)::text AS default_channels \
             FROM users u LEFT JOIN notification_preferences p ON p.user_id = u.id WHERE u.id = $1",
            &[user_id.as_uuid().into()],
        )
        .map_err(pg("reading notification settings"))?;
    let Some(row) = rows.rows().next() else {
        return Ok(None);
    };
    let zone: Option<String> = get(&row, "timezone")?;
    let account_zone: String = get(&row, "account_zone")?;
    let timezone =
        Timezone::parse(zone.as_deref().unwrap_or(&account_zone)).unwrap_or(Timezone::UTC);
    let email_address: Option<String> = get(&row, "email_address")?;
    let webhook_url: Option<String> = get(&row, "webhook_url")?;
    let channels: String = get(&row, "default_channels")?;
    let channels = serde_json::from_str::<Value>(&channels)
        .ok()
        .and_then(|v| Channels::parse(&v).ok())
        .unwrap_or_else(Channels::in_app);
    Ok(Some(UserSettings {
        settings: NotificationSettings {
            timezone,
            email_address: email_address.and_then(|e| Email::parse(&e).ok()),
            email_enabled: get(&row, "email_enabled")?,
            webhook_url: webhook_url.and_then(|u| WebhookUrl::parse(&u).ok()),
            default_channels: channels,
        },
        account_email: get(&row, "email")?,
        webhook_secret: get(&row, "webhook_secret")?,
    }))
}

/// Writes a user's settings.
pub fn save_settings(
    conn: &Connection,
    user_id: UserId,
    settings: &NotificationSettings,
) -> Result<(), Error> {
    conn.execute(
        "INSERT INTO notification_preferences (user_id, timezone, email_address, email_enabled, \
         webhook_url, default_channels) VALUES ($1, $2, $3, $4, $5, $6::text::jsonb) \
         ON CONFLICT (user_id) DO UPDATE SET timezone = excluded.timezone, \
         email_address = excluded.email_address, email_enabled = excluded.email_enabled, \
         webhook_url = excluded.webhook_url, default_channels = excluded.default_channels, \
         updated_at = now()",
        &[
            user_id.as_uuid().into(),
            text(settings.timezone.name()),
            settings
                .email_address
                .as_ref()
                .map(ToString::to_string)
                .into(),
            settings.email_enabled.into(),
            settings
                .webhook_url
                .as_ref()
                .map(ToString::to_string)
                .into(),
            text(serde_json::to_string(&settings.default_channels).expect("channels are JSON")),
        ],
    )
    .map_err(pg("saving notification settings"))?;
    Ok(())
}

/// Replaces the webhook signing secret.
pub fn save_secret(conn: &Connection, user_id: UserId, secret: &str) -> Result<(), Error> {
    conn.execute(
        "INSERT INTO notification_preferences (user_id, webhook_secret) VALUES ($1, $2) \
         ON CONFLICT (user_id) DO UPDATE SET webhook_secret = excluded.webhook_secret, updated_at = now()",
        &[user_id.as_uuid().into(), text(secret)],
    )
    .map_err(pg("saving the webhook secret"))?;
    Ok(())
}

/// A notification row to write.
pub struct NewNotification<'a> {
    /// Its owner.
    pub user_id: UserId,
    /// The reminder that fired.
    pub reminder_id: Uuid,
    /// Its task.
    pub task_id: Uuid,
    /// The `reminders.reminder.fired` event.
    pub event_id: Uuid,
    /// The channel.
    pub channel: Channel,
    /// Address, URL or user id.
    pub recipient: &'a str,
    /// Subject line.
    pub subject: &'a str,
    /// Plain-text body.
    pub body: &'a str,
    /// The fired event, as JSON text.
    pub payload: &'a str,
    /// `sent` (in-app), `pending` or `failed` (a channel that cannot be delivered).
    pub status: &'a str,
    /// Why it failed, for `failed`.
    pub last_error: Option<&'a str>,
}

/// Writes a notification unless this event already made one on this channel.
pub fn insert(conn: &Connection, new: &NewNotification<'_>) -> Result<bool, Error> {
    let rows = conn
        .query(
            "INSERT INTO notifications (id, user_id, reminder_id, task_id, event_id, channel, \
             recipient, subject, body, payload, status, last_error, sent_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10::text::jsonb, $11, $12, \
             CASE WHEN $11 = 'sent' THEN now() END) \
             ON CONFLICT (event_id, channel) DO NOTHING RETURNING id",
            &[
                Uuid::new_v4().into(),
                new.user_id.as_uuid().into(),
                new.reminder_id.into(),
                new.task_id.into(),
                new.event_id.into(),
                text(new.channel.as_str()),
                text(new.recipient),
                text(new.subject),
                text(new.body),
                text(new.payload),
                text(new.status),
                new.last_error.map(str::to_owned).into(),
            ],
        )
        .map_err(pg("writing a notification"))?;
    Ok(rows.rows().next().is_some())
}

/// A delivery claimed for an attempt.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The row id (also the stable `webhook-id`).
    pub id: Uuid,
    /// Its owner.
    pub user_id: UserId,
    /// `email` or `webhook`.
    pub channel: String,
    /// Address or URL.
    pub recipient: String,
    /// Subject line.
    pub subject: String,
    /// Text body.
    pub body: String,
    /// The fired event JSON.
    pub payload: String,
    /// Attempts so far, this one included.
    pub attempts: i32,
}

/// How long a claimed delivery is held before another tick may try it again (a crash during
/// the attempt is then just a retry).
const LEASE: &str = "30 seconds";

/// Claims up to `limit` pending deliveries that are due (of one event only, with `event`):
/// counts the attempt and leases the row, in one short statement.
pub fn claim(conn: &Connection, limit: i64, event: Option<Uuid>) -> Result<Vec<Claimed>, Error> {
    let rows = conn
        .query(
            &format!(
                "UPDATE notifications n SET attempts = n.attempts + 1, \
                 next_attempt_at = now() + interval '{LEASE}' \
                 FROM (SELECT id FROM notifications WHERE status = 'pending' \
                       AND next_attempt_at <= now() AND ($2::uuid IS NULL OR event_id = $2) \
                       ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) AS due \
                 WHERE n.id = due.id \
                 RETURNING n.id, n.user_id, n.channel, n.recipient, coalesce(n.subject, '') AS subject, \
                 coalesce(n.body, '') AS body, n.payload::text AS payload, n.attempts"
            ),
            &[limit.into(), event.into()],
        )
        .map_err(pg("claiming deliveries"))?;
    rows.rows()
        .map(|row| {
            Ok(Claimed {
                id: get(&row, "id")?,
                user_id: UserId::from(get::<Uuid>(&row, "user_id")?),
                channel: get(&row, "channel")?,
                recipient: get(&row, "recipient")?,
                subject: get(&row, "subject")?,
                body: get(&row, "body")?,
                payload: get(&row, "payload")?,
                attempts: get(&row, "attempts")?,
            })
        })
        .collect()
}

/// Records a delivered attempt.
pub fn mark_sent(conn: &Connection, id: Uuid) -> Result<(), Error> {
    conn.execute(
        "UPDATE notifications SET status = 'sent', sent_at = now(), last_error = NULL WHERE id = $1",
        &[id.into()],
    )
    .map_err(pg("marking a delivery sent"))?;
    Ok(())
}

/// Records a failed attempt: tried again after `retry_ms`, or failed for good with `None`.
pub fn mark_failed(
    conn: &Connection,
    id: Uuid,
    error: &str,
    retry_ms: Option<i64>,
) -> Result<(), Error> {
    conn.execute(
        "UPDATE notifications SET last_error = $2, \
         status = CASE WHEN $3::int8 IS NULL THEN 'failed' ELSE 'pending' END, \
         next_attempt_at = now() + coalesce($3::int8, 0) * interval '1 millisecond' WHERE id = $1",
        &[id.into(), text(error), retry_ms.into()],
    )
    .map_err(pg("recording a failed delivery"))?;
    Ok(())
}

/// An in-app notification or a delivery, as the API lists it.
#[derive(Debug, Clone, Serialize)]
pub struct Listed {
    /// Its id.
    pub id: Uuid,
    /// `in_app`, `email` or `webhook`.
    pub channel: String,
    /// The reminder.
    pub reminder_id: Uuid,
    /// The task.
    pub task_id: Uuid,
    /// Subject line ("Reminder: Buy milk").
    pub subject: Option<String>,
    /// The fired event's data.
    pub data: Value,
    /// pending, sent or failed.
    pub status: String,
    /// Where it went.
    pub recipient: String,
    /// Attempts made.
    pub attempts: i32,
    /// The last error.
    pub last_error: Option<String>,
    /// When it was delivered.
    pub sent_at: Option<Timestamp>,
    /// When it was read (in-app).
    pub read_at: Option<Timestamp>,
    /// When it was made.
    pub created_at: Timestamp,
}

/// Lists a user's notifications, newest first, after the keyset cursor; `in_app_only` for the
/// in-app list, all channels for the history.
pub fn list(
    conn: &Connection,
    user_id: UserId,
    in_app_only: bool,
    after: Option<(NaiveDateTime, Uuid)>,
    limit: i64,
) -> Result<Vec<Listed>, Error> {
    let (at, id) = after.unzip();
    let rows = conn
        .query(
            "SELECT id, channel, reminder_id, task_id, subject, payload::text AS payload, status, \
             recipient, attempts, last_error, (sent_at AT TIME ZONE 'UTC') AS sent_at, \
             (read_at AT TIME ZONE 'UTC') AS read_at, (created_at AT TIME ZONE 'UTC') AS created_at \
             FROM notifications WHERE user_id = $1 AND (NOT $2 OR channel = 'in_app') \
             AND ($3::timestamp IS NULL OR (created_at, id) < (($3::timestamp AT TIME ZONE 'UTC'), $4)) \
             ORDER BY notifications.created_at DESC, notifications.id DESC LIMIT $5",
            &[
                user_id.as_uuid().into(),
                in_app_only.into(),
                at.into(),
                id.into(),
                limit.into(),
            ],
        )
        .map_err(pg("listing notifications"))?;
    listed(rows)
}

fn listed(rows: RowSet) -> Result<Vec<Listed>, Error> {
    rows.rows()
        .map(|row| {
            let payload: String = get(&row, "payload")?;
            let payload: Value = serde_json::from_str(&payload).unwrap_or(Value::Null);
            Ok(Listed {
                id: get(&row, "id")?,
                channel: get(&row, "channel")?,
                reminder_id: get(&row, "reminder_id")?,
                task_id: get(&row, "task_id")?,
                subject: get(&row, "subject")?,
                data: payload.get("data").cloned().unwrap_or(Value::Null),
                status: get(&row, "status")?,
                recipient: get(&row, "recipient")?,
                attempts: get(&row, "attempts")?,
                last_error: get(&row, "last_error")?,
                sent_at: optional_instant(&row, "sent_at")?,
                read_at: optional_instant(&row, "read_at")?,
                created_at: instant(&row, "created_at")?,
            })
        })
        .collect()
}

/// The unread in-app count, and the newest unread one's creation time (for the ETag).
pub fn unread(conn: &Connection, user_id: UserId) -> Result<(i64, Option<Timestamp>), Error> {
    let rows = conn
        .query(
            "SELECT count(*) AS n, (max(created_at) AT TIME ZONE 'UTC') AS newest FROM notifications \
             WHERE user_id = $1 AND channel = 'in_app' AND read_at IS NULL",
            &[user_id.as_uuid().into()],
        )
        .map_err(pg("counting unread notifications"))?;
    let row = rows
        .rows()
        .next()
        .ok_or_else(|| Error::Internal("count returned no row".into()))?;
    Ok((get(&row, "n")?, optional_instant(&row, "newest")?))
}

/// Marks one in-app notification read; false if the user has no such notification.
pub fn mark_read(conn: &Connection, user_id: UserId, id: Uuid) -> Result<bool, Error> {
    let rows = conn
        .query(
            "UPDATE notifications SET read_at = coalesce(read_at, now()) \
             WHERE id = $1 AND user_id = $2 AND channel = 'in_app' RETURNING id",
            &[id.into(), user_id.as_uuid().into()],
        )
        .map_err(pg("marking a notification read"))?;
    Ok(rows.rows().next().is_some())
}

/// Marks every unread in-app notification read; returns how many.
pub fn mark_all_read(conn: &Connection, user_id: UserId) -> Result<u64, Error> {
    conn.execute(
        "UPDATE notifications SET read_at = now() \
         WHERE user_id = $1 AND channel = 'in_app' AND read_at IS NULL",
        &[user_id.as_uuid().into()],
    )
    .map_err(pg("marking notifications read"))
}
