//! Email and webhook deliveries: claimed in short transactions, attempted outside them, and
//! recorded (sent, retried with backoff, or failed).
//!
//! A claim counts the attempt and leases the row for 30 s before any I/O, so a crash during the
//! attempt is just a retry, and replicas never attempt the same row at once. Failures wait
//! [`RetryPolicy::NOTIFIER`]'s backoff; after its last attempt a row is `failed` and stays in
//! the history.

use domain::event::CloudEvent;
use domain::notification::{
    ReminderEmail, RetryPolicy, WebhookSecret, WebhookSigner, WebhookUrl, refused_address,
};
use domain::reminder::ReminderFired;
use platform::db;
use serde_json::json;
use spin_sdk::http::{Method, Request, Response};
use uuid::Uuid;

use crate::error::Error;
use crate::store::{self, Claimed};
use crate::{clock, config};

/// Deliveries claimed per transaction.
const BATCH: i64 = 50;

/// What one run did.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct DeliveryReport {
    /// Delivered.
    pub sent: usize,
    /// Failed this attempt (retried later or failed for good).
    pub failed: usize,
}

/// Attempts the due deliveries (of one event only, with `event`), one batch.
pub async fn run(event: Option<Uuid>) -> Result<DeliveryReport, Error> {
    let conn = db::open()?;
    let claimed = db::transaction(&conn, |conn| store::claim(conn, BATCH, event))?;
    let mut report = DeliveryReport::default();
    for delivery in claimed {
        let outcome = attempt(&conn, &delivery).await;
        match outcome {
            Ok(()) => {
                store::mark_sent(&conn, delivery.id)?;
                report.sent += 1;
            }
            Err(Failure { message, permanent }) => {
                let retry = if permanent {
                    None
                } else {
                    RetryPolicy::NOTIFIER
                        .next_delay(delivery.attempts.max(0) as u32)
                        .map(|delay| delay.num_milliseconds())
                };
                platform::log::warn(
                    "notifier",
                    &format!("delivery failed (attempt {}): {message}", delivery.attempts),
                    &[
                        ("notification_id", &delivery.id.to_string()),
                        ("channel", delivery.channel.as_str()),
                    ],
                );
                store::mark_failed(&conn, delivery.id, &message, retry)?;
                report.failed += 1;
            }
        }
    }
    Ok(report)
}

/// Why an attempt failed, and whether trying again could help.
struct Failure {
    message: String,
    permanent: bool,
}

fn retryable(message: impl Into<String>) -> Failure {
    Failure {
        message: message.into(),
        permanent: false,
    }
}

fn permanent(message: impl Into<String>) -> Failure {
    Failure {
        message: message.into(),
        permanent: true,
    }
}

async fn attempt(conn: &spin_sdk::pg4::Connection, delivery: &Claimed) -> Result<(), Failure> {
    match delivery.channel.as_str() {
        "email" => send_email(conn, delivery).await,
        "webhook" => send_webhook(conn, delivery).await,
        other => Err(permanent(format!("no delivery for channel {other}"))),
    }
}

async fn send_email(conn: &spin_sdk::pg4::Connection, delivery: &Claimed) -> Result<(), Failure> {
    let Some(email) = config::email() else {
        return Err(permanent("the email channel is not configured"));
    };
    let event: CloudEvent = serde_json::from_str(&delivery.payload)
        .map_err(|err| permanent(format!("stored event: {err}")))?;
    let fired: ReminderFired = event
        .data_as()
        .map_err(|err| permanent(format!("stored event data: {err}")))?;
    // The HTML body is rendered again at send time (only the text is stored, for the history),
    // in the zone the user has now.
    let zone = store::settings(conn, delivery.user_id)
        .ok()
        .flatten()
        .map(|user| user.settings.timezone)
        .unwrap_or(domain::recurrence::Timezone::UTC);
    let rendered = ReminderEmail::render(&fired, zone, &config::base_url());
    let body = json!({
        "personalizations": [{"to": [{"email": delivery.recipient}]}],
        "from": {"email": email.from},
        "subject": rendered.subject,
        "content": [
            {"type": "text/plain", "value": rendered.text},
            {"type": "text/html", "value": rendered.html}
        ],
        "custom_args": {"notification_id": delivery.id.to_string()}
    });
    let request = Request::builder()
        .method(Method::Post)
        .uri(format!(
            "{}/v3/mail/send",
            email.api_url.trim_end_matches('/')
        ))
        .header("authorization", format!("Bearer {}", email.api_key))
        .header("content-type", "application/json")
        .body(body.to_string())
        .build();
    let response: Response = spin_sdk::http::send(request)
        .await
        .map_err(|err| retryable(format!("mail API unreachable: {err}")))?;
    check_status(*response.status(), "mail API")
}

async fn send_webhook(conn: &spin_sdk::pg4::Connection, delivery: &Claimed) -> Result<(), Failure> {
    let url = WebhookUrl::parse(&delivery.recipient)
        .map_err(|err| permanent(format!("webhook URL: {err}")))?;
    if !config::webhook_allow_private()
        && let Some(reason) = refused_target(&url)
    {
        return Err(permanent(format!("webhook target refused: {reason}")));
    }
    let secret = store::settings(conn, delivery.user_id)
        .map_err(|err| retryable(err.to_string()))?
        .and_then(|user| user.webhook_secret)
        .and_then(|secret| WebhookSecret::parse(&secret).ok())
        .ok_or_else(|| {
            permanent("no webhook signing secret: rotate one with POST /api/me/webhook-secret")
        })?;
    let id = format!("msg_{}", delivery.id.simple());
    let timestamp = clock::now().as_datetime().timestamp();
    let body = delivery.payload.as_bytes();
    let signature = WebhookSigner::new(&secret).signature(&id, timestamp, body);
    let request = Request::builder()
        .method(Method::Post)
        .uri(url.as_str())
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body.to_vec())
        .build();
    let response: Response = spin_sdk::http::send(request)
        .await
        .map_err(|err| retryable(format!("webhook unreachable: {err}")))?;
    check_status(*response.status(), "webhook")
}

fn check_status(status: u16, what: &str) -> Result<(), Failure> {
    match status {
        200..=299 => Ok(()),
        // A client error other than throttling or a timeout will not change on retry.
        400..=499 if status != 408 && status != 429 => {
            Err(permanent(format!("{what} answered {status}")))
        }
        _ => Err(retryable(format!("{what} answered {status}"))),
    }
}

/// Why a webhook target may not be called, judged on what the component can see: a literal
/// address by its class, and the names that always mean this machine. A DNS name is resolved
/// by the host when it connects; see docs/architecture.md ("Webhook targets") for why the guest
/// cannot resolve it first and what guards that case.
fn refused_target(url: &WebhookUrl) -> Option<String> {
    if let Some(address) = url.literal_address() {
        return refused_address(address).map(|reason| format!("{reason} {address}"));
    }
    let host = url.host().to_ascii_lowercase();
    let host = host.trim_end_matches('.');
    let local = host == "localhost"
        || host.ends_with(".localhost")
        || host.ends_with(".local")
        || host.ends_with(".internal")
        || host == "metadata";
    local.then(|| format!("local host name {host}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(url: &str) -> Option<String> {
        refused_target(&WebhookUrl::parse(url).unwrap())
    }

    #[test]
    fn literal_private_addresses_and_local_names_are_refused() {
        for url in [
            "http://127.0.0.1:8080/hook",
            "http://[::1]/hook",
            "http://169.254.169.254/latest/meta-data/",
            "http://10.0.0.7/hook",
            "http://[::ffff:192.168.1.1]/hook",
            "http://localhost:3000/hook",
            "http://api.localhost/hook",
            "http://metadata.google.internal/computeMetadata/v1/",
            "http://printer.local/",
            "http://LOCALHOST./hook",
        ] {
            assert!(refused(url).is_some(), "{url}");
        }
    }

    #[test]
    fn public_targets_are_allowed() {
        for url in [
            "https://example.com/hook",
            "http://93.184.216.34/hook",
            "https://[2606:4700::1111]/hook",
            "https://hooks.internal-tools.example.com/x",
        ] {
            assert_eq!(refused(url), None, "{url}");
        }
    }

    #[test]
    fn client_errors_are_final_but_throttling_and_server_errors_are_retried() {
        assert!(check_status(204, "webhook").is_ok());
        assert!(check_status(410, "webhook").unwrap_err().permanent);
        assert!(!check_status(429, "webhook").unwrap_err().permanent);
        assert!(!check_status(408, "webhook").unwrap_err().permanent);
        assert!(!check_status(503, "webhook").unwrap_err().permanent);
    }
}
