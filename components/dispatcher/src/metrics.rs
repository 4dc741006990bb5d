//! `GET /metrics` in the Prometheus text format (version 0.0.4).
//!
//! The dispatcher serves it because it owns the delivery state the event metrics describe, and
//! because a component instance lives for one request: nothing can be counted in memory, so
//! every value is read from the database when scraped. Each metric is one entry of [`METRICS`]
//! (name, help, type, label and the query giving `(label value, number)` rows): adding a metric
//! (reminders, notifications, ...) is adding an entry there. The seed plan's names are kept
//! where they apply (`events_published_total`, `events_persisted_total`). The event
//! counters read `event_totals`, which triggers keep (migration 0009), so that they
//! never go down although the rows they count are pruned (outbox) or expire (audit retention).

use platform::db;
use spin_sdk::http::{Params, Request, Response};
use spin_sdk::pg4::DbValue;

/// One metric family and how to read it.
pub struct Metric {
    /// The metric name.
    pub name: &'static str,
    /// `# HELP` text.
    pub help: &'static str,
    /// `counter`, `gauge` or `summary` (quantiles as the label).
    pub kind: &'static str,
    /// The label name, or `None` for a single unlabelled sample.
    pub label: Option<&'static str>,
    /// SQL returning `(label value text, value float8)` rows.
    pub query: &'static str,
}

/// Every metric served.
pub const METRICS: &[Metric] = &[
    Metric {
        name: "events_published_total",
        help: "Outbox events published to the event bus, by topic.",
        kind: "counter",
        label: Some("topic"),
        query: "SELECT label, total::float8 FROM event_totals WHERE metric = 'events_published_total' ORDER BY label",
    },
    Metric {
        name: "events_persisted_total",
        help: "Events stored in the audit log, by event type.",
        kind: "counter",
        label: Some("event_type"),
        query: "SELECT label, total::float8 FROM event_totals WHERE metric = 'events_persisted_total' ORDER BY label",
    },
    Metric {
        name: "outbox_backlog",
        help: "Outbox events not yet published.",
        kind: "gauge",
        label: None,
        query: "SELECT '', count(*)::float8 FROM outbox WHERE delivered_at IS NULL",
    },
    Metric {
        name: "outbox_oldest_undelivered_age_seconds",
        help: "Age of the oldest outbox event not yet published (0 when none).",
        kind: "gauge",
        label: None,
        query: "SELECT '', coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 \
                FROM outbox WHERE delivered_at IS NULL",
    },
    Metric {
        name: "consumer_lag",
        help: "Published events a consumer has not recorded a receipt for yet, by consumer.",
        kind: "gauge",
        label: Some("consumer"),
        query: "SELECT d.consumer, count(*)::float8 FROM event_deliveries d WHERE d.dead_at IS NULL \
                AND NOT EXISTS (SELECT 1 FROM consumer_receipts r WHERE r.consumer = d.consumer AND r.event_id = d.event_id) \
                GROUP BY d.consumer",
    },
    Metric {
        name: "event_redeliveries",
        help: "Redeliveries made for events still awaiting a receipt or dead, by consumer.",
        kind: "gauge",
        label: Some("consumer"),
        query: "SELECT consumer, sum(greatest(attempts - 1, 0))::float8 FROM event_deliveries GROUP BY consumer",
    },
    Metric {
        name: "event_dead_letters",
        help: "Events a consumer never acknowledged, by consumer.",
        kind: "gauge",
        label: Some("consumer"),
        query: "SELECT consumer, count(*)::float8 FROM event_deliveries WHERE dead_at IS NOT NULL GROUP BY consumer",
    },
    Metric {
        name: "reminder_firing_lag_seconds",
        help: "How late reminders fired (fired_at - scheduled_time) over the last hour, by quantile.",
        kind: "summary",
        label: Some("quantile"),
        query: "SELECT q::text, percentile_cont(q) WITHIN GROUP \
                (ORDER BY extract(epoch FROM fired_at - scheduled_time))::float8 \
                FROM reminders CROSS JOIN unnest(ARRAY[0.5, 0.95, 0.99]::float8[]) AS q \
                WHERE status = 'fired' AND fired_at > now() - interval '1 hour' GROUP BY q ORDER BY q",
    },
    Metric {
        name: "reminders_fired_total",
        help: "Reminders fired.",
        kind: "counter",
        label: None,
        query: "SELECT '', count(*)::float8 FROM reminders WHERE status = 'fired'",
    },
    Metric {
        name: "reminders_pending",
        help: "Reminders waiting for their time.",
        kind: "gauge",
        label: None,
        query: "SELECT '', count(*)::float8 FROM reminders WHERE status = 'pending'",
    },
    Metric {
        name: "reminders_overdue",
        help: "Pending reminders whose time has passed (the tick is behind when this stays above 0).",
        kind: "gauge",
        label: None,
        query: "SELECT '', count(*)::float8 FROM reminders WHERE status = 'pending' AND scheduled_time < now()",
    },
    Metric {
        name: "notifications_sent_total",
        help: "Notifications delivered, by channel (in_app, email, webhook).",
        kind: "counter",
        label: Some("channel"),
        query: "SELECT channel, count(*)::float8 FROM notifications WHERE status = 'sent' GROUP BY channel",
    },
    Metric {
        name: "notifications_failed_total",
        help: "Notifications given up on (retries exhausted or target refused), by channel.",
        kind: "counter",
        label: Some("channel"),
        query: "SELECT channel, count(*)::float8 FROM notifications WHERE status = 'failed' GROUP BY channel",
    },
    Metric {
        name: "notifications_pending",
        help: "Email and webhook deliveries waiting for an attempt or a retry, by channel.",
        kind: "gauge",
        label: Some("channel"),
        query: "SELECT channel, count(*)::float8 FROM notifications WHERE status = 'pending' GROUP BY channel",
    },
];

/// Renders one family from its rows.
pub fn render(metric: &Metric, samples: &[(String, f64)], out: &mut String) {
    use std::fmt::Write;
    let _ = writeln!(out, "# HELP {} {}", metric.name, metric.help);
    let _ = writeln!(out, "# TYPE {} {}", metric.name, metric.kind);
    match metric.label {
        None => {
            let value = samples.first().map_or(0.0, |(_, v)| *v);
            let _ = writeln!(out, "{} {value}", metric.name);
        }
        Some(label) => {
            for (value_of_label, value) in samples {
                let escaped = value_of_label
                    .replace('\\', "\\\\")
                    .replace('"', "\\\"")
                    .replace('\n', "\\n");
                let _ = writeln!(out, "{}{{{label}=\"{escaped}\"}} {value}", metric.name);
            }
        }
    }
}

/// `GET /metrics`, for Prometheus: it runs database aggregates, so like every internal route it
/// needs the `tick_token` (`Authorization: Bearer`, which the PodMonitor sends).
pub fn route(req: Request, _: Params) -> Response {
    if let Err(problem) = platform::internal::authorize(&req) {
        return problem.into();
    }
    let result = (|| -> Result<String, db::DbError> {
        let conn = db::open()?;
        let mut out = String::new();
        for metric in METRICS {
            let rows = conn
                .query(metric.query, &[])
                .map_err(|err| db::DbError::postgres(format!("reading {}", metric.name), err))?;
            let samples: Vec<(String, f64)> = rows
                .rows
                .iter()
                .map(|row| {
                    let label = match row.first() {
                        Some(DbValue::Str(s)) => s.clone(),
                        _ => String::new(),
                    };
                    let value = match row.get(1) {
                        Some(DbValue::Floating64(v)) => *v,
                        _ => 0.0,
                    };
                    (label, value)
                })
                .collect();
            render(metric, &samples, &mut out);
        }
        Ok(out)
    })();
    match result {
        Ok(text) => Response::builder()
            .status(200)
            .header("content-type", "text/plain; version=0.0.4; charset=utf-8")
            .body(text)
            .build(),
        Err(err) => {
            platform::log::error("dispatcher", &format!("metrics: {err}"), &[]);
            platform::problem::Problem::new(500).into()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_family_renders_help_type_and_escaped_labels() {
        let mut out = String::new();
        render(
            &METRICS[0],
            &[("tasks.task.created".into(), 3.0), ("a\"b".into(), 1.0)],
            &mut out,
        );
        assert_eq!(
            out,
            "# HELP events_published_total Outbox events published to the event bus, by topic.\n\
             # TYPE events_published_total counter\n\
             events_published_total{topic=\"tasks.task.created\"} 3\n\
             events_published_total{topic=\"a\\\"b\"} 1\n"
        );
    }

    #[test]
    fn an_unlabelled_family_with_no_rows_is_zero() {
        let mut out = String::new();
        render(&METRICS[2], &[], &mut out);
        assert!(out.ends_with("outbox_backlog 0\n"));
    }
}
