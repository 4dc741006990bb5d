//! Notifications: the delivery rules the notifier applies to a fired reminder, kept free of I/O.
//!
//! - [`NotificationSettings`]: a user's channels, email and webhook, as `PUT /api/me/settings`
//!   takes them.
//! - [`WebhookUrl`] and [`refused_address`]: which webhook targets may be called. The check is
//!   made on every address the host name resolves to, so a public name pointing at
//!   `169.254.169.254` is refused as surely as the literal address.
//! - [`WebhookSigner`]: Standard Webhooks signatures (`webhook-id`, `webhook-timestamp`,
//!   `webhook-signature: v1,<base64 HMAC-SHA256>`).
//! - [`RetryPolicy`]: when a failed delivery is tried again, and when it is given up.
//! - [`ReminderEmail`]: the reminder email's subject, text and HTML, in the user's time zone.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use chrono::TimeDelta;
use hmac::{Hmac, Mac};
use serde::Serialize;
use serde_json::Value;
use sha2::Sha256;

use crate::account::Email;
use crate::field::{FieldErrors, Invalid};
use crate::recurrence::Timezone;
use crate::reminder::{Channel, Channels, ReminderFired};
use crate::time::Timestamp;

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryStatus {
    /// Not yet delivered; the tick tries it at `next_attempt_at`.
    Pending,
    /// Delivered.
    Sent,
    /// Given up after the last attempt (or refused outright); kept for the history.
    Failed,
}

impl DeliveryStatus {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Sent => "sent",
            Self::Failed => "failed",
        }
    }
}

/// When a failed delivery is tried again: exponential backoff from `first_retry`, doubling up
/// to `max_delay`, for at most `max_attempts` attempts in all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The wait after the first failure.
    pub first_retry: TimeDelta,
    /// The longest wait.
    pub max_delay: TimeDelta,
}

impl RetryPolicy {
    /// The notifier's policy: 4 attempts, 1 s, 2 s and 4 s apart (the seed plan's schedule).
    pub const NOTIFIER: Self = Self {
        max_attempts: 4,
        first_retry: TimeDelta::seconds(1),
        max_delay: TimeDelta::minutes(10),
    };

    /// After `attempts` failed attempts, how long to wait before the next one; `None` when
    /// the delivery should be marked failed.
    pub fn next_delay(&self, attempts: u32) -> Option<TimeDelta> {
        if attempts == 0 || attempts >= self.max_attempts {
            return None;
        }
        let doublings = (attempts - 1).min(30);
        let delay = self
            .first_retry
            .checked_mul(1 << doublings)
            .unwrap_or(self.max_delay);
        Some(delay.min(self.max_delay))
    }
}

/// An `http` or `https` URL with a host, at most 2,000 characters: a webhook target as the user
/// gave it. Whether its addresses may be called is decided when it is called
/// ([`refused_address`]), because DNS answers change.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct WebhookUrl(url::Url);

impl WebhookUrl {
    /// Parses a URL; credentials in it are refused (they would be sent to a third party and
    /// shown in the history).
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        const EXPECTED: Invalid = Invalid::Format {
            expected: "an http:// or https:// URL such as https://example.com/hooks/todo",
        };
        if text.len() > 2000 {
            return Err(Invalid::TooLong { max: 2000 });
        }
        let url = url::Url::parse(text.trim()).map_err(|_| EXPECTED)?;
        let ok = matches!(url.scheme(), "http" | "https")
            && url.host().is_some()
            && url.username().is_empty()
            && url.password().is_none();
        ok.then_some(Self(url)).ok_or(EXPECTED)
    }

    /// The host to resolve, without IPv6 brackets.
    pub fn host(&self) -> String {
        match self.0.host() {
            Some(url::Host::Ipv6(address)) => address.to_string(),
            Some(host) => host.to_string(),
            None => String::new(),
        }
    }

    /// The host's address, when the URL names one directly rather than a DNS name.
    pub fn literal_address(&self) -> Option<IpAddr> {
        match self.0.host()? {
            url::Host::Ipv4(address) => Some(IpAddr::V4(address)),
            url::Host::Ipv6(address) => Some(IpAddr::V6(address)),
            url::Host::Domain(_) => None,
        }
    }

    /// The URL's text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.as_str())
    }
}

/// Why an address is not a public internet address a webhook may call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RefusedAddress {
    /// `0.0.0.0/8`, `::`: "this host".
    Unspecified,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// RFC 1918 (`10/8`, `172.16/12`, `192.168/16`) or IPv6 unique-local (`fc00::/7`).
    Private,
    /// RFC 6598 carrier-grade NAT, `100.64.0.0/10`: inside a provider's network.
    SharedAddressSpace,
    /// Link-local, `169.254/16` and `fe80::/10`.
    LinkLocal,
    /// A cloud instance metadata service (`169.254.169.254`, `fd00:ec2::254`, Alibaba's
    /// `100.100.100.200`), named separately because it hands out credentials.
    CloudMetadata,
    /// Multicast, broadcast, documentation, benchmarking or reserved ranges: never a web
    /// server.
    NotUnicast,
}

impl RefusedAddress {
    /// A short reason for logs and the delivery's `last_error`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified address",
            Self::Loopback => "loopback address",
            Self::Private => "private network address",
            Self::SharedAddressSpace => "carrier-grade NAT address",
            Self::LinkLocal => "link-local address",
            Self::CloudMetadata => "cloud metadata address",
            Self::NotUnicast => "non-unicast or reserved address",
        }
    }
}

impl fmt::Display for RefusedAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why a webhook may not call `address`, or `None` if it is a public unicast address.
/// IPv6 forms that carry an IPv4 address (mapped `::ffff:a.b.c.d`, compatible `::a.b.c.d`,
/// NAT64 `64:ff9b::/96`, 6to4 `2002::/16`) are judged by that IPv4 address, so
/// `::ffff:127.0.0.1` is loopback.
pub fn refused_address(address: IpAddr) -> Option<RefusedAddress> {
    match address {
        IpAddr::V4(v4) => refused_v4(v4),
        IpAddr::V6(v6) => refused_v6(v6),
    }
}

fn refused_v4(address: Ipv4Addr) -> Option<RefusedAddress> {
    let [a, b, c, d] = address.octets();
    use RefusedAddress::*;
    match (a, b, c, d) {
        (169, 254, 169, 254) | (100, 100, 100, 200) => Some(CloudMetadata),
        (0, ..) => Some(Unspecified),
        (127, ..) => Some(Loopback),
        (10, ..) | (192, 168, ..) => Some(Private),
        (172, b, ..) if (16..32).contains(&b) => Some(Private),
        (100, b, ..) if (64..128).contains(&b) => Some(SharedAddressSpace),
        (169, 254, ..) => Some(LinkLocal),
        // IETF protocol assignments, TEST-NETs, benchmarking, multicast, reserved, broadcast.
        (192, 0, 0, _) | (192, 0, 2, _) | (198, 51, 100, _) | (203, 0, 113, _) => Some(NotUnicast),
        (198, b, ..) if b == 18 || b == 19 => Some(NotUnicast),
        (224.., ..) => Some(NotUnicast),
        _ => None,
    }
}

fn refused_v6(address: Ipv6Addr) -> Option<RefusedAddress> {
    use RefusedAddress::*;
    if let Some(v4) = embedded_v4(address) {
        return refused_v4(v4);
    }
    let segments = address.segments();
    if address.is_unspecified() {
        Some(Unspecified)
    } else if address.is_loopback() {
        Some(Loopback)
    } else if segments[..4] == [0xfd00, 0x0ec2, 0, 0] && segments[4..] == [0, 0, 0, 0x254] {
        Some(CloudMetadata)
    } else if segments[0] & 0xfe00 == 0xfc00 {
        Some(Private)
    } else if segments[0] & 0xffc0 == 0xfe80 || segments[0] & 0xffc0 == 0xfec0 {
        // fec0::/10 is the deprecated site-local range, still routed inside some networks.
        Some(LinkLocal)
    } else if segments[0] & 0xff00 == 0xff00 || segments[0] == 0x2001 && segments[1] == 0x0db8 {
        Some(NotUnicast)
    } else {
        None
    }
}

/// The IPv4 address an IPv6 address stands for, if it is one of the forms that carry one.
fn embedded_v4(address: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = address.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, ..] => Some(low),
        // IPv4-compatible (deprecated), but not :: or ::1.
        [0, 0, 0, 0, 0, 0, hi, _] if hi != 0 => Some(low),
        [0x64, 0xff9b, 0, 0, 0, 0, ..] => Some(low),
        [0x2002, hi, lo, ..] => Some(Ipv4Addr::new(
            (hi >> 8) as u8,
            hi as u8,
            (lo >> 8) as u8,
            lo as u8,
        )),
        _ => None,
    }
}

/// A Standard Webhooks signing secret: `whsec_` followed by the base64 of 24 to 64 random bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookSecret(Vec<u8>);

impl WebhookSecret {
    const PREFIX: &str = "whsec_";

    /// A secret made of `bytes` (the caller supplies randomness; the domain has none).
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes.to_vec())
    }

    /// Parses `whsec_<base64>`.
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        const EXPECTED: Invalid = Invalid::Format {
            expected: "whsec_ followed by base64",
        };
        let encoded = text.strip_prefix(Self::PREFIX).ok_or(EXPECTED)?;
        let bytes = STANDARD.decode(encoded).map_err(|_| EXPECTED)?;
        if !(24..=64).contains(&bytes.len()) {
            return Err(EXPECTED);
        }
        Ok(Self(bytes))
    }

    /// `whsec_<base64>`, the form stored and shown once to the user.
    pub fn expose(&self) -> String {
        format!("{}{}", Self::PREFIX, STANDARD.encode(&self.0))
    }
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret(..)")
    }
}

/// Signs webhook bodies as Standard Webhooks (standardwebhooks.com) specifies: the signed
/// content is `{webhook-id}.{webhook-timestamp}.{body}`, the signature HMAC-SHA256 with the
/// secret's bytes, sent base64-encoded as `v1,<signature>`.
pub struct WebhookSigner<'a>(&'a WebhookSecret);

impl<'a> WebhookSigner<'a> {
    /// A signer with `secret`.
    pub fn new(secret: &'a WebhookSecret) -> Self {
        Self(secret)
    }

    /// The `webhook-signature` header value for `body` sent with `id` at `timestamp` (Unix
    /// seconds).
    pub fn signature(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0.0).expect("HMAC takes any key length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body);
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }

    /// Whether `header` (space-separated `v1,<sig>` entries) holds a valid signature of `body`
    /// (compared in constant time), as a receiver checks it.
    pub fn verify(&self, id: &str, timestamp: i64, body: &[u8], header: &str) -> bool {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0.0).expect("HMAC takes any key length");
        mac.update(format!("{id}.{timestamp}.").as_bytes());
        mac.update(body);
        header.split(' ').any(|entry| {
            entry
                .strip_prefix("v1,")
                .and_then(|sig| STANDARD.decode(sig).ok())
                .is_some_and(|sig| mac.clone().verify_slice(&sig).is_ok())
        })
    }
}

/// A user's notification settings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NotificationSettings {
    /// The zone due times are shown in.
    #[serde(serialize_with = "serialize_zone")]
    pub timezone: Timezone,
    /// Where emails go; `None` = the account's email.
    pub email_address: Option<Email>,
    /// Whether emails are sent at all.
    pub email_enabled: bool,
    /// Where webhooks go; `None` = no webhooks.
    #[serde(serialize_with = "serialize_url")]
    pub webhook_url: Option<WebhookUrl>,
    /// The channels of reminders that name none.
    pub default_channels: Channels,
}

fn serialize_zone<S: serde::Serializer>(zone: &Timezone, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(zone.name())
}

fn serialize_url<S: serde::Serializer>(url: &Option<WebhookUrl>, s: S) -> Result<S::Ok, S::Error> {
    match url {
        Some(url) => s.serialize_str(url.as_str()),
        None => s.serialize_none(),
    }
}

impl NotificationSettings {
    /// What a user who has chosen nothing gets: in-app only, emails on (if a channel asks),
    /// no webhook.
    pub fn defaults(timezone: Timezone) -> Self {
        Self {
            timezone,
            email_address: None,
            email_enabled: true,
            webhook_url: None,
            default_channels: Channels::in_app(),
        }
    }

    /// Applies a `PUT /api/me/settings` body: members present replace the current value,
    /// `null` clears a nullable one, absent ones stay. Unknown members are refused.
    pub fn apply(&self, body: &Value) -> Result<Self, FieldErrors> {
        let Value::Object(members) = body else {
            return Err(FieldErrors::single(
                "",
                Invalid::WrongType {
                    expected: "a JSON object",
                },
            ));
        };
        let mut errors = FieldErrors::new();
        let mut next = self.clone();
        for (name, value) in members {
            match (name.as_str(), value) {
                ("timezone", Value::String(zone)) => match Timezone::parse(zone) {
                    Ok(zone) => next.timezone = zone,
                    Err(_) => errors.push(
                        "timezone",
                        Invalid::Format {
                            expected: "an IANA time zone name such as Europe/Paris",
                        },
                    ),
                },
                ("email_address", Value::Null) => next.email_address = None,
                ("email_address", Value::String(text)) => {
                    if let Some(email) = errors.check("email_address", Email::parse(text)) {
                        next.email_address = Some(email);
                    }
                }
                ("email_enabled", Value::Bool(on)) => next.email_enabled = *on,
                ("webhook_url", Value::Null) => next.webhook_url = None,
                ("webhook_url", Value::String(text)) => {
                    if let Some(url) = errors.check("webhook_url", WebhookUrl::parse(text)) {
                        next.webhook_url = Some(url);
                    }
                }
                ("timezone" | "email_enabled" | "default_channels", Value::Null) => {
                    errors.push(name.clone(), Invalid::Null)
                }
                ("default_channels", value) => {
                    if let Some(channels) = errors.check("default_channels", Channels::parse(value))
                    {
                        next.default_channels = channels;
                    }
                }
                ("timezone" | "email_address" | "webhook_url", _) => errors.push(
                    name.clone(),
                    Invalid::WrongType {
                        expected: "a string",
                    },
                ),
                ("email_enabled", _) => errors.push(
                    name.clone(),
                    Invalid::WrongType {
                        expected: "a boolean",
                    },
                ),
                _ => errors.push(name.clone(), Invalid::Unknown),
            }
        }
        if errors.is_empty() {
            Ok(next)
        } else {
            Err(errors)
        }
    }

    /// The channels a fired reminder is delivered on for this user: those it names, minus email
    /// when it is off or not configured, and minus webhook when no URL is set.
    pub fn deliverable(&self, channels: &Channels, email_configured: bool) -> Vec<Channel> {
        channels
            .iter()
            .filter(|channel| match channel {
                Channel::InApp => true,
                Channel::Email => self.email_enabled && email_configured,
                Channel::Webhook => self.webhook_url.is_some(),
            })
            .collect()
    }
}

/// The reminder email, rendered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderEmail {
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub text: String,
    /// The HTML body, with every user-supplied value escaped.
    pub html: String,
}

impl ReminderEmail {
    /// Renders the email for `fired`, showing times in `zone` and linking to the task under
    /// `base_url` (`{base_url}/tasks/{id}`).
    pub fn render(fired: &ReminderFired, zone: Timezone, base_url: &str) -> Self {
        let title = fired.task_title.to_string();
        let link = format!("{}/tasks/{}", base_url.trim_end_matches('/'), fired.task_id);
        let due = fired
            .due_date
            .map(|due| local_time(due, zone))
            .unwrap_or_else(|| "no due date".to_owned());
        let subject = format!("Reminder: {title}");
        let text = format!(
            "Reminder: {title}\n\nDue: {due}\n\nOpen the task: {link}\n\n\
             You get this email because a reminder was set on this task.\n"
        );
        let html = format!(
            "<!DOCTYPE html>\n<html><body>\n<h1>Reminder: {title}</h1>\n<p>Due: {due}</p>\n\
             <p><a href=\"{link}\">Open the task</a></p>\n\
             <p style=\"color:#666\">You get this email because a reminder was set on this task.</p>\n\
             </body></html>\n",
            title = escape_html(&title),
            due = escape_html(&due),
            link = escape_html(&link),
        );
        Self {
            subject,
            text,
            html,
        }
    }
}

/// `Sat 10 Jan 2026, 19:00 CET (Europe/Paris)`.
fn local_time(instant: Timestamp, zone: Timezone) -> String {
    let local = instant.as_datetime().with_timezone(&zone.tz());
    format!(
        "{} ({})",
        local.format("%a %-d %b %Y, %H:%M %Z"),
        zone.name()
    )
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::account::UserId;
    use crate::task::{TaskId, TaskTitle};
    use proptest::prelude::*;
    use serde_json::json;
    use uuid::Uuid;

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn loopback_private_link_local_and_metadata_addresses_are_refused() {
        use RefusedAddress::*;
        for (address, reason) in [
            ("127.0.0.1", Loopback),
            ("127.1.2.3", Loopback),
            ("::1", Loopback),
            ("0.0.0.0", Unspecified),
            ("::", Unspecified),
            ("10.1.2.3", Private),
            ("172.16.0.1", Private),
            ("172.31.255.255", Private),
            ("192.168.1.1", Private),
            ("fd12:3456::1", Private),
            ("fc00::1", Private),
            ("100.64.0.1", SharedAddressSpace),
            ("100.127.255.254", SharedAddressSpace),
            ("169.254.1.1", LinkLocal),
            ("fe80::1", LinkLocal),
            ("169.254.169.254", CloudMetadata),
            ("fd00:ec2::254", CloudMetadata),
            ("100.100.100.200", CloudMetadata),
            ("::ffff:127.0.0.1", Loopback),
            ("::ffff:169.254.169.254", CloudMetadata),
            ("::ffff:10.0.0.1", Private),
            ("64:ff9b::a00:1", Private),
            ("2002:7f00:1::", Loopback),
            ("224.0.0.1", NotUnicast),
            ("255.255.255.255", NotUnicast),
            ("ff02::1", NotUnicast),
        ] {
            assert_eq!(refused_address(ip(address)), Some(reason), "{address}");
        }
    }

    #[test]
    fn public_addresses_are_allowed() {
        for address in [
            "93.184.216.34",
            "8.8.8.8",
            "172.32.0.1",
            "100.128.0.1",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            assert_eq!(refused_address(ip(address)), None, "{address}");
        }
    }

    #[test]
    fn webhook_urls_need_http_a_host_and_no_credentials() {
        assert!(WebhookUrl::parse("https://example.com/hook").is_ok());
        assert_eq!(
            WebhookUrl::parse("http://[::1]:8080/x")
                .unwrap()
                .literal_address(),
            Some(ip("::1"))
        );
        assert_eq!(
            WebhookUrl::parse("http://[::1]:8080/x").unwrap().host(),
            "::1"
        );
        for bad in [
            "ftp://example.com/",
            "https://user:pw@example.com/",
            "not a url",
            "file:///etc/passwd",
        ] {
            assert!(WebhookUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_signature_matches_the_standard_webhooks_example() {
        // The example from the Standard Webhooks specification.
        let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        let signer = WebhookSigner::new(&secret);
        let signature = signer.signature("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(signature, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        assert!(signer.verify("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body, &signature));
        assert!(!signer.verify("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265331, body, &signature));
    }

    #[test]
    fn retries_back_off_then_give_up() {
        let policy = RetryPolicy::NOTIFIER;
        assert_eq!(policy.next_delay(1), Some(TimeDelta::seconds(1)));
        assert_eq!(policy.next_delay(2), Some(TimeDelta::seconds(2)));
        assert_eq!(policy.next_delay(3), Some(TimeDelta::seconds(4)));
        assert_eq!(policy.next_delay(4), None);
    }

    #[test]
    fn settings_apply_present_members_and_refuse_unknown_ones() {
        let settings = NotificationSettings::defaults(Timezone::UTC);
        let next = settings
            .apply(
                &json!({"timezone": "Europe/Paris", "webhook_url": "https://example.com/h",
                            "default_channels": ["email", "in_app"]}),
            )
            .unwrap();
        assert_eq!(next.timezone.name(), "Europe/Paris");
        assert!(next.webhook_url.is_some());
        assert!(next.email_enabled);
        let cleared = next.apply(&json!({"webhook_url": null})).unwrap();
        assert_eq!(cleared.webhook_url, None);
        let err = settings
            .apply(&json!({"timezone": "Mars/Olympus", "colour": "red", "email_enabled": "yes"}))
            .unwrap_err();
        let fields: Vec<&str> = err.iter().map(|e| e.field()).collect();
        assert_eq!(fields.len(), 3, "{fields:?}");
    }

    #[test]
    fn the_email_shows_the_due_time_in_the_users_zone_and_escapes_the_title() {
        let fired = ReminderFired {
            reminder_id: Uuid::nil(),
            task_id: TaskId::from(Uuid::nil()),
            user_id: UserId::from(Uuid::nil()),
            task_title: TaskTitle::parse("Buy <milk> & eggs").unwrap(),
            due_date: Some(Timestamp::parse("2026-01-10T18:00:00Z").unwrap()),
            notification_channels: Channels::in_app(),
            scheduled_time: Timestamp::parse("2026-01-10T17:00:00Z").unwrap(),
            fired_at: Timestamp::parse("2026-01-10T17:00:00Z").unwrap(),
        };
        let email = ReminderEmail::render(
            &fired,
            Timezone::parse("Europe/Paris").unwrap(),
            "https://todo.example/",
        );
        assert_eq!(email.subject, "Reminder: Buy <milk> & eggs");
        assert!(
            email
                .text
                .contains("Sat 10 Jan 2026, 19:00 CET (Europe/Paris)"),
            "{}",
            email.text
        );
        assert!(
            email
                .text
                .contains("https://todo.example/tasks/00000000-0000-0000-0000-000000000000")
        );
        assert!(email.html.contains("Buy &lt;milk&gt; &amp; eggs"));
        assert!(!email.html.contains("<milk>"));
    }

    proptest! {
        #[test]
        fn every_mapped_address_is_judged_like_its_ipv4(bits in any::<u32>()) {
            let v4 = Ipv4Addr::from(bits);
            prop_assert_eq!(refused_address(IpAddr::V6(v4.to_ipv6_mapped())), refused_v4(v4));
        }

        #[test]
        fn a_signature_verifies_and_any_changed_byte_breaks_it(
            body in proptest::collection::vec(any::<u8>(), 1..200),
            flip in any::<prop::sample::Index>(),
            key in any::<[u8; 32]>(),
        ) {
            let secret = WebhookSecret::from_bytes(key);
            let signer = WebhookSigner::new(&secret);
            let sig = signer.signature("msg_1", 1_700_000_000, &body);
            prop_assert!(signer.verify("msg_1", 1_700_000_000, &body, &sig));
            let mut changed = body.clone();
            let i = flip.index(changed.len());
            changed[i] ^= 1;
            prop_assert!(!signer.verify("msg_1", 1_700_000_000, &changed, &sig));
        }

        #[test]
        fn backoff_never_shrinks_and_stops_at_the_cap(attempts in 1u32..4) {
            let policy = RetryPolicy::NOTIFIER;
            let now = policy.next_delay(attempts).unwrap();
            if let Some(next) = policy.next_delay(attempts + 1) {
                prop_assert!(next >= now);
            }
            prop_assert!(now <= policy.max_delay);
        }
    }
}
