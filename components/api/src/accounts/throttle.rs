//! Login throttling, as arithmetic on one row per normalised email (`login_throttle`).
//!
//! The rule: [`MAX_FAILURES`] failed logins for one email within a fixed window of
//! [`WINDOW_SECS`] seconds (starting at the first failure) lock that email until the window
//! ends; while locked every login for it is answered 429 with `Retry-After`, without checking the
//! password (so a locked account cannot be probed). A success clears the row; a failure after
//! the window has ended starts a new one. So an attacker gets at most 5 guesses per 15 minutes
//! per email, whether the account exists or not (unknown emails are throttled the same way, so
//! the 429 says nothing about existence). Times are Unix seconds from PostgreSQL's clock, so
//! every replica agrees.

/// Failures allowed within one window; the last of them locks the email.
pub const MAX_FAILURES: i32 = 5;
/// The window's length: 15 minutes.
pub const WINDOW_SECS: i64 = 15 * 60;

/// One email's throttle row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct State {
    /// Failures in the current window.
    pub failures: i32,
    /// When the current window started.
    pub window_start: i64,
    /// Until when logins are refused, if they are.
    pub locked_until: Option<i64>,
}

/// Seconds until a login may be tried again (at least 1), or `None` when it may be tried now.
pub fn retry_after(state: Option<&State>, now: i64) -> Option<i64> {
    let until = state?.locked_until?;
    (until > now).then(|| until - now)
}

/// The state after one more failure at `now`.
pub fn record_failure(state: Option<&State>, now: i64) -> State {
    match state {
        Some(state) if now < state.window_start + WINDOW_SECS => {
            let failures = state.failures.saturating_add(1);
            State {
                failures,
                window_start: state.window_start,
                locked_until: (failures >= MAX_FAILURES)
                    .then_some(state.window_start + WINDOW_SECS),
            }
        }
        _ => State {
            failures: 1,
            window_start: now,
            locked_until: (MAX_FAILURES <= 1).then_some(now + WINDOW_SECS),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fifth_failure_in_a_window_locks_until_the_window_ends() {
        let mut state = None;
        for (i, now) in [100, 110, 120, 130].into_iter().enumerate() {
            let next = record_failure(state.as_ref(), now);
            assert_eq!(next.failures, i as i32 + 1);
            assert_eq!(next.window_start, 100);
            assert_eq!(retry_after(Some(&next), now), None);
            state = Some(next);
        }
        let locked = record_failure(state.as_ref(), 200);
        assert_eq!(locked.locked_until, Some(100 + WINDOW_SECS));
        assert_eq!(retry_after(Some(&locked), 200), Some(WINDOW_SECS - 100));
        assert_eq!(retry_after(Some(&locked), 100 + WINDOW_SECS - 1), Some(1));
        assert_eq!(retry_after(Some(&locked), 100 + WINDOW_SECS), None);
    }

    #[test]
    fn a_failure_after_the_window_starts_a_new_one() {
        let old = State {
            failures: 5,
            window_start: 0,
            locked_until: Some(WINDOW_SECS),
        };
        let next = record_failure(Some(&old), WINDOW_SECS);
        assert_eq!(
            next,
            State {
                failures: 1,
                window_start: WINDOW_SECS,
                locked_until: None
            }
        );
    }

    #[test]
    fn no_row_means_not_locked() {
        assert_eq!(retry_after(None, 0), None);
        assert_eq!(record_failure(None, 7).failures, 1);
    }
}
