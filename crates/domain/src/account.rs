//! Accounts: who a user is ([`UserId`], [`Email`], [`DisplayName`], their time zone) and how
//! they prove it ([`Password`]), with the bodies of register, login and profile update.
//!
//! Hashing and verifying passwords (argon2id) happens in the component; this module only
//! decides which passwords are acceptable and keeps them out of logs.

use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::field::{FieldErrors, Invalid, Nullable, expect_string, trimmed_text};
use crate::recurrence::Timezone;

crate::field::uuid_id! {
    /// A user's id.
    UserId, "Parses the hyphenated form."
}

/// An email address, trimmed and lower-cased (as the `users_email_normalized` constraint
/// requires), so that one mailbox is one account and lookups at login are exact.
///
/// The syntax check is deliberately practical rather than RFC 5322's full grammar: one `@`;
/// a local part of 1 to 64 characters without spaces, quotes or the other characters that
/// only quoted forms allow, and without leading, trailing or doubled dots; a domain of at
/// least two dot-separated labels of letters, digits and inner hyphens (non-ASCII letters are
/// allowed for internationalised domains); at most 254 characters in all (RFC 5321's limit).
/// Whether the mailbox exists only a sent email can tell.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

const EMAIL_EXPECTED: Invalid = Invalid::Format {
    expected: "an email address such as name@example.com",
};

impl Email {
    /// The most characters an address may have.
    pub const MAX_CHARS: usize = 254;

    /// Trims, lower-cases and checks an address.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let email = raw.trim().to_lowercase();
        if email.is_empty() {
            return Err(Invalid::Blank);
        }
        if email.chars().count() > Self::MAX_CHARS {
            return Err(Invalid::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err(EMAIL_EXPECTED);
        };
        if valid_local_part(local) && valid_domain(domain) {
            Ok(Self(email))
        } else {
            Err(EMAIL_EXPECTED)
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn valid_local_part(local: &str) -> bool {
    (1..=64).contains(&local.chars().count())
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"@\"(),:;<>[\\]".contains(c))
}

fn valid_domain(domain: &str) -> bool {
    let labels: Vec<&str> = domain.split('.').collect();
    labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=63).contains(&label.chars().count())
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
}

/// A password in the clear, on its way to be hashed or verified. It has no `Display` and no
/// `Serialize`, and its `Debug` is redacted, so it cannot end up in a log or a response by
/// accident; [`expose`](Password::expose) is the one way to read it.
///
/// The policy is NIST SP 800-63B's: a minimum length and no composition rules. It is not
/// trimmed: every character counts.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// The fewest characters a new password may have.
    pub const MIN_CHARS: usize = 8;
    /// The most characters any password may have. Generous for passphrases and password
    /// managers, and a bound on what the server will feed to argon2 on behalf of a stranger.
    pub const MAX_CHARS: usize = 256;

    /// A new password (registration, password change): 8 to 256 characters.
    pub fn parse(raw: String) -> Result<Self, Invalid> {
        let chars = raw.chars().count();
        if chars < Self::MIN_CHARS {
            return Err(Invalid::TooShort {
                min: Self::MIN_CHARS,
            });
        }
        if chars > Self::MAX_CHARS {
            return Err(Invalid::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        Ok(Self(raw))
    }

    /// A password offered at login: any length the policy could ever have accepted, so an
    /// account made under an older, shorter minimum can still log in, but never more than
    /// [`MAX_CHARS`](Self::MAX_CHARS), which no account can have.
    pub fn for_login(raw: String) -> Result<Self, Invalid> {
        if raw.is_empty() {
            return Err(Invalid::Blank);
        }
        if raw.chars().count() > Self::MAX_CHARS {
            return Err(Invalid::TooLong {
                max: Self::MAX_CHARS,
            });
        }
        Ok(Self(raw))
    }

    /// The password itself, for the hasher and nothing else.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// The name a user goes by: trimmed, 1 to 100 characters, on one line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DisplayName(String);

impl DisplayName {
    /// The most characters a name may have.
    pub const MAX_CHARS: usize = 100;

    /// Trims, then checks what is left.
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        trimmed_text(raw, Self::MAX_CHARS, &[]).map(Self)
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

crate::field::text_conversions!(Email, DisplayName);

/// Parses an IANA time zone name for an account, the same way recurrence patterns do.
pub fn parse_timezone(name: &str) -> Result<Timezone, Invalid> {
    Timezone::parse(name).map_err(|_| Invalid::Format {
        expected: "an IANA time zone name such as Europe/Paris, America/New_York or UTC",
    })
}

/// The body of `POST /api/auth/register` as sent. Parse it with [`Registration::parse`].
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegistrationInput {
    /// `email`
    #[serde(default)]
    pub email: Nullable<Value>,
    /// `password`
    #[serde(default)]
    pub password: Nullable<Value>,
    /// `name`
    #[serde(default)]
    pub name: Nullable<Value>,
    /// `timezone`
    #[serde(default)]
    pub timezone: Nullable<Value>,
}

impl fmt::Debug for RegistrationInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegistrationInput")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .field("name", &self.name)
            .field("timezone", &self.timezone)
            .finish()
    }
}

/// A new account's details.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registration {
    /// Required.
    pub email: Email,
    /// Required; 8 to 256 characters.
    pub password: Password,
    /// Absent, `null` and blank text all mean none.
    pub name: Option<DisplayName>,
    /// UTC when absent; `null` is an error.
    pub timezone: Timezone,
}

impl Registration {
    /// Parses every field, reporting every problem at once.
    pub fn parse(input: RegistrationInput) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let email = errors.check(
            "email",
            required(input.email)
                .and_then(expect_string)
                .and_then(|text| Email::parse(&text)),
        );
        let password = errors.check(
            "password",
            required(input.password)
                .and_then(expect_string)
                .and_then(Password::parse),
        );
        let name = errors.check("name", optional_name(input.name));
        let timezone = errors.check(
            "timezone",
            match input.timezone {
                Nullable::Absent => Ok(Timezone::UTC),
                Nullable::Null => Err(Invalid::Null),
                Nullable::Value(raw) => expect_string(raw).and_then(|name| parse_timezone(&name)),
            },
        );
        match (email, password, name, timezone) {
            (Some(email), Some(password), Some(name), Some(timezone)) if errors.is_empty() => {
                Ok(Self {
                    email,
                    password,
                    name,
                    timezone,
                })
            }
            _ => Err(errors),
        }
    }
}

/// The body of `POST /api/auth/login` as sent. Parse it with [`Credentials::parse`].
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LoginInput {
    /// `email`
    pub email: String,
    /// `password`
    pub password: String,
}

impl fmt::Debug for LoginInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginInput")
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// An email and password offered at login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The account's address.
    pub email: Email,
    /// The password to verify against its hash.
    pub password: Password,
}

impl Credentials {
    /// The credentials, or `None` when they cannot belong to any account (an address no
    /// account can have, an empty or over-long password). The caller answers `None` exactly
    /// as it answers a wrong password (401, saying nothing about which part was wrong), and
    /// needs no argon2 work to do so.
    pub fn parse(input: LoginInput) -> Option<Self> {
        Some(Self {
            email: Email::parse(&input.email).ok()?,
            password: Password::for_login(input.password).ok()?,
        })
    }
}

/// The body of `PATCH /api/auth/me` as sent. Parse it with [`ProfileUpdate::parse`].
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProfileInput {
    /// `name`
    #[serde(default)]
    pub name: Nullable<Value>,
    /// `timezone`
    #[serde(default)]
    pub timezone: Nullable<Value>,
}

/// What a `PATCH /api/auth/me` changes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProfileUpdate {
    /// Absent: leave it; `null` or blank text: clear it; a value: set it.
    pub name: Nullable<DisplayName>,
    /// Absent: leave it; `null` is an error.
    pub timezone: Option<Timezone>,
}

impl ProfileUpdate {
    /// Parses every member that is present, reporting every problem at once.
    pub fn parse(input: ProfileInput) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::new();
        let name = errors.check(
            "name",
            match input.name {
                Nullable::Absent => Ok(Nullable::Absent),
                member => optional_name(member).map(|name| match name {
                    Some(name) => Nullable::Value(name),
                    None => Nullable::Null,
                }),
            },
        );
        let timezone = errors.check(
            "timezone",
            match input.timezone {
                Nullable::Absent => Ok(None),
                Nullable::Null => Err(Invalid::Null),
                Nullable::Value(raw) => expect_string(raw)
                    .and_then(|name| parse_timezone(&name))
                    .map(Some),
            },
        );
        match (name, timezone) {
            (Some(name), Some(timezone)) if errors.is_empty() => Ok(Self { name, timezone }),
            _ => Err(errors),
        }
    }
}

fn required(member: Nullable<Value>) -> Result<Value, Invalid> {
    match member {
        Nullable::Absent => Err(Invalid::Required),
        Nullable::Null => Err(Invalid::Null),
        Nullable::Value(raw) => Ok(raw),
    }
}

/// Absent, null and blank text are all "no name".
fn optional_name(member: Nullable<Value>) -> Result<Option<DisplayName>, Invalid> {
    let Nullable::Value(raw) = member else {
        return Ok(None);
    };
    match DisplayName::parse(&expect_string(raw)?) {
        Ok(name) => Ok(Some(name)),
        Err(Invalid::Blank) => Ok(None),
        Err(other) => Err(other),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registration(body: &str) -> Result<Registration, FieldErrors> {
        Registration::parse(serde_json::from_str(body).unwrap())
    }

    fn codes(errors: &FieldErrors) -> Vec<(&str, &'static str)> {
        errors
            .iter()
            .map(|e| (e.field(), e.problem().code()))
            .collect()
    }

    #[test]
    fn an_email_is_trimmed_and_lower_cased() {
        assert_eq!(
            Email::parse("  Ada.Lovelace@Example.COM ")
                .unwrap()
                .as_str(),
            "ada.lovelace@example.com"
        );
    }

    #[test]
    fn ordinary_addresses_are_accepted() {
        for ok in [
            "a@b.co",
            "first.last+tag@sub.example.org",
            "o'brien@example.ie",
            "user@xn--mnchen-3ya.de",
            "jürgen@münchen.de",
            "x_y-z@a-b.example",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
    }

    #[test]
    fn malformed_addresses_are_rejected() {
        for bad in [
            "plain",
            "@example.com",
            "user@",
            "user@localhost",
            "a@@b.com",
            "a@b@c.com",
            "two words@example.com",
            ".dot@example.com",
            "dot.@example.com",
            "do..t@example.com",
            "user@-example.com",
            "user@example-.com",
            "user@exa_mple.com",
            "user@example..com",
            "\"quoted\"@example.com",
            "user@[127.0.0.1]",
            "nul\0@example.com",
        ] {
            assert_eq!(Email::parse(bad), Err(EMAIL_EXPECTED), "{bad:?}");
        }
        assert_eq!(Email::parse("  "), Err(Invalid::Blank));
        let long = format!("{}@{}.com", "a".repeat(64), "b".repeat(63).repeat(3));
        assert!(matches!(
            Email::parse(&long),
            Err(Invalid::TooLong { max: 254 })
        ));
        assert_eq!(
            Email::parse(&format!("{}@example.com", "a".repeat(65))),
            Err(EMAIL_EXPECTED)
        );
    }

    #[test]
    fn a_new_password_has_8_to_256_characters_counted_as_characters() {
        assert_eq!(
            Password::parse("1234567".into()),
            Err(Invalid::TooShort { min: 8 })
        );
        assert!(Password::parse("ééééééé€".into()).is_ok());
        assert!(Password::parse("x".repeat(256)).is_ok());
        assert_eq!(
            Password::parse("x".repeat(257)),
            Err(Invalid::TooLong { max: 256 })
        );
        assert_eq!(
            Password::parse("  spaces count  ".into()).unwrap().expose(),
            "  spaces count  "
        );
    }

    #[test]
    fn a_password_never_shows_in_debug_output() {
        let password = Password::parse("correct horse".into()).unwrap();
        assert_eq!(format!("{password:?}"), "Password(<redacted>)");
        let input: RegistrationInput =
            serde_json::from_str(r#"{"email": "a@b.co", "password": "correct horse"}"#).unwrap();
        assert!(!format!("{input:?}").contains("horse"));
        let login = LoginInput {
            email: "a@b.co".into(),
            password: "correct horse".into(),
        };
        assert!(!format!("{login:?}").contains("horse"));
        assert!(!format!("{:?}", Credentials::parse(login)).contains("horse"));
    }

    #[test]
    fn a_registration_with_email_and_password_gets_utc_and_no_name() {
        let r = registration(r#"{"email": "A@B.co", "password": "12345678"}"#).unwrap();
        assert_eq!(r.email.as_str(), "a@b.co");
        assert_eq!(r.name, None);
        assert_eq!(r.timezone, Timezone::UTC);
    }

    #[test]
    fn a_registration_reports_every_problem_at_once() {
        let errors = registration(
            r#"{"email": "nope", "password": "short", "name": 3, "timezone": "Mars/Olympus"}"#,
        )
        .unwrap_err();
        assert_eq!(
            codes(&errors),
            [
                ("email", "format"),
                ("password", "too_short"),
                ("name", "wrong_type"),
                ("timezone", "format"),
            ]
        );
        assert_eq!(
            codes(&registration("{}").unwrap_err()),
            [("email", "required"), ("password", "required")]
        );
    }

    #[test]
    fn a_registration_accepts_a_name_and_an_iana_zone() {
        let r = registration(
            r#"{"email": "a@b.co", "password": "12345678", "name": " Ada ",
                "timezone": "Europe/Paris"}"#,
        )
        .unwrap();
        assert_eq!(r.name.unwrap().as_str(), "Ada");
        assert_eq!(r.timezone.name(), "Europe/Paris");
        let unknown = r#"{"email": "a@b.co", "password": "12345678", "x": 1}"#;
        assert!(serde_json::from_str::<RegistrationInput>(unknown).is_err());
    }

    #[test]
    fn a_fixed_offset_is_not_a_time_zone() {
        assert!(parse_timezone("+02:00").is_err());
        assert!(parse_timezone("europe/paris").is_err());
    }

    #[test]
    fn login_credentials_that_fit_no_account_are_refused_without_saying_why() {
        let login = |email: &str, password: String| {
            Credentials::parse(LoginInput {
                email: email.into(),
                password,
            })
        };
        assert!(
            login("A@B.co", "short".into()).is_some(),
            "old short passwords still log in"
        );
        assert!(login("nope", "12345678".into()).is_none());
        assert!(login("a@b.co", String::new()).is_none());
        assert!(login("a@b.co", "x".repeat(257)).is_none());
    }

    #[test]
    fn a_profile_update_leaves_clears_or_sets_the_name() {
        let update = |body: &str| ProfileUpdate::parse(serde_json::from_str(body).unwrap());
        assert_eq!(update("{}").unwrap(), ProfileUpdate::default());
        assert_eq!(update(r#"{"name": null}"#).unwrap().name, Nullable::Null);
        assert_eq!(update(r#"{"name": " "}"#).unwrap().name, Nullable::Null);
        assert_eq!(
            update(r#"{"name": "Ada", "timezone": "Asia/Tokyo"}"#).unwrap(),
            ProfileUpdate {
                name: Nullable::Value(DisplayName::parse("Ada").unwrap()),
                timezone: Some(Timezone::parse("Asia/Tokyo").unwrap()),
            }
        );
        assert_eq!(
            codes(&update(r#"{"timezone": null}"#).unwrap_err()),
            [("timezone", "null")]
        );
    }
}
