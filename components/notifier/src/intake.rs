//! `reminders.reminder.fired` in, notification rows out: one per channel the reminder names
//! (in-app rows are delivered by being written; email and webhook rows wait for [`crate::deliver`]).
//!
//! The consumer receipt and the rows are written in one transaction, and a row's
//! `(event_id, channel)` key is unique, so a redelivered event never makes a second
//! notification, email or webhook call. A channel that cannot be delivered (email off or not
//! configured, no webhook URL) is recorded as failed with the reason, so the history shows it.

use domain::event::{CloudEvent, Consumer, Topic};
use domain::notification::ReminderEmail;
use domain::reminder::{Channel, ReminderFired};
use platform::consume::{self, Outcome};

use crate::error::Error;
use crate::store::{self, NewNotification};
use crate::{config, deliver};

/// Handles one delivered event exactly once, then attempts its email and webhook at once
/// (the tick retries whatever fails).
pub async fn handle(event: &CloudEvent) -> Result<(), Error> {
    if event.topic() != Topic::ReminderFired {
        consume::apply_once(Consumer::Notifier, event, |_| Ok::<_, Error>(()))?;
        return Ok(());
    }
    let fired: ReminderFired = event
        .data_as()
        .map_err(|err| Error::Internal(format!("a fired event's data: {err}")))?;
    let outcome = consume::apply_once(Consumer::Notifier, event, |conn| {
        let Some(user) = store::settings(conn, fired.user_id)? else {
            return Ok::<_, Error>(());
        };
        let email_on = config::email().is_some();
        let deliverable = user
            .settings
            .deliverable(&fired.notification_channels, email_on);
        let rendered = ReminderEmail::render(&fired, user.settings.timezone, &config::base_url());
        let payload = event.to_json().to_string();
        for channel in fired.notification_channels.iter() {
            let (recipient, status, error) = match channel {
                Channel::InApp => (fired.user_id.to_string(), "sent", None),
                Channel::Email if !email_on => (
                    user.email_recipient(),
                    "failed",
                    Some("the email channel is not configured"),
                ),
                Channel::Email if !deliverable.contains(&channel) => (
                    user.email_recipient(),
                    "failed",
                    Some("email is turned off in the user's settings"),
                ),
                Channel::Email => (user.email_recipient(), "pending", None),
                Channel::Webhook => match &user.settings.webhook_url {
                    Some(url) => (url.to_string(), "pending", None),
                    None => (String::new(), "failed", Some("no webhook URL is set")),
                },
            };
            store::insert(
                conn,
                &NewNotification {
                    user_id: fired.user_id,
                    reminder_id: fired.reminder_id,
                    task_id: fired.task_id.as_uuid(),
                    event_id: event.id().as_uuid(),
                    channel,
                    recipient: &recipient,
                    subject: &rendered.subject,
                    body: &rendered.text,
                    payload: &payload,
                    status,
                    last_error: error,
                },
            )?;
        }
        Ok(())
    })?;
    if outcome == Outcome::Applied {
        deliver::run(Some(event.id().as_uuid())).await?;
    }
    Ok(())
}
