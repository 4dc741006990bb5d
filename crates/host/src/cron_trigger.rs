//! The cron trigger (the `spin-trigger-cron` plugin's semantics): each `[[trigger.cron]]` fires
//! on a six-field, seconds-first cron expression (UTC); every tick runs the component's
//! `handle-cron-event` in a fresh instance with the tick's Unix time in seconds. A failing tick
//! is logged and the schedule goes on.
//!
//! Follows spinframework/spin-trigger-cron `src/lib.rs` (which schedules with
//! tokio-cron-scheduler). Ticks of one component do not overlap here: if a tick is still running
//! when the next is due, the due tick is skipped and logged, so a slow tick cannot pile up
//! instances. The plugin would start it anyway; this is a deliberate, documented difference.

use std::{str::FromStr, sync::Arc, time::SystemTime};

use anyhow::{Context, Result};
use chrono::Utc;

use crate::{
    bindings::cron_trigger::{SpinCronPre, fermyon::spin_cron::cron_types::Metadata},
    engine::Runtime,
    state::HostState,
};

/// One scheduled component.
pub struct CronJob {
    component_id: String,
    schedule: cron::Schedule,
    pre: SpinCronPre<HostState>,
}

/// Parses a cron expression as the plugin accepts it: seconds first (six fields, or seven with
/// a year).
pub fn parse_schedule(expression: &str) -> Result<cron::Schedule> {
    let fields = expression.split_whitespace().count();
    anyhow::ensure!(
        fields == 6 || fields == 7,
        "cron expression {expression:?} has {fields} fields; the cron trigger needs six \
         (seconds minutes hours day-of-month month day-of-week) or seven (with a year)"
    );
    cron::Schedule::from_str(expression)
        .map_err(|err| anyhow::anyhow!("invalid cron expression {expression:?}: {err}"))
}

impl CronJob {
    /// Prepares a job for `component_id` on `expression`.
    pub fn new(runtime: &Runtime, component_id: &str, expression: &str) -> Result<Self> {
        let schedule = parse_schedule(expression)?;
        let component = runtime.component(component_id)?;
        let pre = SpinCronPre::new(component.pre.clone()).map_err(anyhow::Error::from).with_context(|| {
            format!("component `{component_id}` does not export handle-cron-event (fermyon:spin-cron@2.0.0)")
        })?;
        Ok(Self {
            component_id: component_id.to_owned(),
            schedule,
            pre,
        })
    }

    /// Runs the schedule forever.
    pub async fn run(self, runtime: Arc<Runtime>) -> Result<()> {
        let running = Arc::new(tokio::sync::Mutex::new(()));
        for next in self.schedule.upcoming(Utc) {
            let wait = (next - Utc::now()).to_std().unwrap_or_default();
            tokio::time::sleep(wait).await;
            let Ok(guard) = running.clone().try_lock_owned() else {
                tracing::warn!(
                    "cron tick for `{}` skipped: the previous tick is still running",
                    self.component_id
                );
                continue;
            };
            let runtime = runtime.clone();
            let pre = self.pre.clone();
            let id = self.component_id.clone();
            tokio::spawn(async move {
                let _guard = guard;
                if let Err(err) = tick(&runtime, &pre, &id).await {
                    tracing::error!("Component {id} failed: {err:#}");
                }
            });
        }
        Ok(())
    }
}

async fn tick(runtime: &Runtime, pre: &SpinCronPre<HostState>, component_id: &str) -> Result<()> {
    let timestamp = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)?
        .as_secs();
    let component = runtime.component(component_id)?;
    let mut store = runtime.new_store(component);
    let guest = pre.instantiate_async(&mut store).await?;
    guest
        .call_handle_cron_event(&mut store, Metadata { timestamp })
        .await
        .map_err(anyhow::Error::from)
        .context("cron handler trapped")?
        .map_err(|err| anyhow::anyhow!("{err:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_second_expression_is_accepted() {
        let schedule = parse_schedule("*/1 * * * * *").unwrap();
        let mut upcoming = schedule.upcoming(Utc);
        let a = upcoming.next().unwrap();
        let b = upcoming.next().unwrap();
        assert_eq!((b - a).num_seconds(), 1);
    }

    #[test]
    fn five_field_unix_expressions_are_rejected_with_the_reason() {
        let err = parse_schedule("* * * * *").unwrap_err().to_string();
        assert!(err.contains("six"), "{err}");
    }

    #[test]
    fn daily_expression_fires_once_a_day() {
        let schedule = parse_schedule("0 0 3 * * *").unwrap();
        let mut upcoming = schedule.upcoming(Utc);
        let a = upcoming.next().unwrap();
        let b = upcoming.next().unwrap();
        assert_eq!((b - a).num_hours(), 24);
    }
}
