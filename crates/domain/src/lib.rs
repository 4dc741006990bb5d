//! The Todo system's domain: the types every component shares, parsed at the boundary
//! ("parse, don't validate"), with no I/O and no Spin dependency, so it is tested natively and
//! fast.
//!
//! # Layout
//!
//! - [`account`]: user ids, emails, passwords, names and time zones; the register, login and
//!   profile bodies.
//! - [`event`]: the CloudEvents 1.0 envelope, the topics, the task events' payloads, and the
//!   consumers with the topics each expects and the redelivery schedule.
//! - [`field`]: field-level validation errors and the absent/null/value tri-state every input
//!   uses.
//! - [`notification`]: delivery rules for fired reminders: user settings, webhook targets
//!   and the addresses they may not resolve to, Standard Webhooks signatures, retry backoff,
//!   and the reminder email.
//! - [`recurrence`]: recurrence rules (RFC 5545 RRULE and the structured form), normalised,
//!   expanded in the pattern's IANA time zone.
//! - [`reminder`]: reminder specs (absolute or before the due date, with channels), planning
//!   them into rows, snoozing, and the `reminders.reminder.*` payloads.
//! - [`task`]: tasks and their fields; create/replace/patch bodies; changes; the list query and
//!   its cursor.
//! - [`time`]: UTC instants at PostgreSQL's microsecond precision, written as RFC 3339.

#![deny(missing_docs)]

pub mod account;
pub mod event;
pub mod field;
pub mod notification;
pub mod recurrence;
pub mod reminder;
pub mod task;
pub mod time;
