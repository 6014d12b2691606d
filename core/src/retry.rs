//! When to retry and how long to wait: full-jitter exponential backoff with a
//! `Retry-After` floor.

use rand::Rng;
use std::time::{Duration, SystemTime};

/// The longest `Retry-After` the client honours; a larger hint is capped to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// How many times to retry and how long to back off.
///
/// ```
/// use smartai_events::RetryPolicy;
/// use std::time::Duration;
/// let policy = RetryPolicy { max_retries: 2, ..RetryPolicy::default() };
/// assert!(policy.backoff(0, None) <= Duration::from_millis(250));
/// assert!(policy.backoff(0, Some(Duration::from_secs(2))) >= Duration::from_secs(2));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (so `max_retries + 1` attempts in all).
    pub max_retries: u32,
    /// The first backoff ceiling; it doubles on every retry.
    pub base_delay: Duration,
    /// The largest backoff ceiling; [`ClientBuilder::build`](crate::ClientBuilder::build)
    /// refuses one shorter than `base_delay`.
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy { max_retries: 3, base_delay: Duration::from_millis(250), max_delay: Duration::from_secs(30) }
    }
}

impl RetryPolicy {
    /// The ceiling of the backoff before retry number `attempt` (0-based): `min(cap, base · 2^attempt)`.
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 2u32.saturating_pow(attempt.min(31));
        self.base_delay.saturating_mul(factor).min(self.max_delay)
    }

    /// The sleep before retry number `attempt`: uniformly random in `[0, ceiling]` ("full
    /// jitter", so that many clients recovering at once spread out), and never shorter than
    /// the server's `Retry-After`.
    pub fn backoff(&self, attempt: u32, retry_after: Option<Duration>) -> Duration {
        let ceiling = self.ceiling(attempt);
        let jitter = if ceiling.is_zero() {
            Duration::ZERO
        } else {
            Duration::from_nanos(rand::rng().random_range(0..=ceiling.as_nanos().min(u64::MAX as u128) as u64))
        };
        match retry_after {
            Some(floor) => jitter.max(floor.min(MAX_RETRY_AFTER)),
            None => jitter,
        }
    }
}

/// Parses a `Retry-After` value, delta-seconds or an HTTP-date, relative to `now`.
/// Returns `None` for a value that is neither. The result is capped at five minutes.
///
/// ```
/// use smartai_events::retry::parse_retry_after;
/// use std::time::{Duration, SystemTime};
/// assert_eq!(parse_retry_after("3", SystemTime::now()), Some(Duration::from_secs(3)));
/// assert_eq!(parse_retry_after("99999", SystemTime::now()), Some(Duration::from_secs(300)));
/// assert_eq!(parse_retry_after("soon", SystemTime::now()), None);
/// ```
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    let delay = if let Ok(secs) = value.parse::<u64>() {
        Duration::from_secs(secs)
    } else if let Ok(secs) = value.parse::<f64>() {
        if !secs.is_finite() || secs < 0.0 {
            return None;
        }
        Duration::from_secs_f64(secs.min(MAX_RETRY_AFTER.as_secs_f64()))
    } else {
        let at = httpdate::parse_http_date(value).ok()?;
        at.duration_since(now).unwrap_or(Duration::ZERO)
    };
    Some(delay.min(MAX_RETRY_AFTER))
}

/// Whether a status is worth another attempt.
pub(crate) fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500 | 502 | 503 | 504)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceiling_doubles_and_caps() {
        let p = RetryPolicy::default();
        assert_eq!(p.ceiling(0), Duration::from_millis(250));
        assert_eq!(p.ceiling(1), Duration::from_millis(500));
        assert_eq!(p.ceiling(3), Duration::from_secs(2));
        assert_eq!(p.ceiling(20), Duration::from_secs(30));
        assert_eq!(p.ceiling(u32::MAX), Duration::from_secs(30));
    }

    #[test]
    fn backoff_stays_within_ceiling() {
        let p = RetryPolicy::default();
        for attempt in 0..8 {
            for _ in 0..200 {
                assert!(p.backoff(attempt, None) <= p.ceiling(attempt));
            }
        }
    }

    #[test]
    fn retry_after_http_date() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let later = httpdate::fmt_http_date(now + Duration::from_secs(7));
        assert_eq!(parse_retry_after(&later, now), Some(Duration::from_secs(7)));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(7));
        assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
        let far = httpdate::fmt_http_date(now + Duration::from_secs(3600));
        assert_eq!(parse_retry_after(&far, now), Some(MAX_RETRY_AFTER));
    }

    #[test]
    fn retry_after_is_a_floor_capped_at_five_minutes() {
        let p = RetryPolicy::default();
        assert_eq!(p.backoff(0, Some(Duration::from_secs(4))).as_secs(), 4);
        assert_eq!(p.backoff(0, Some(Duration::from_secs(4000))), MAX_RETRY_AFTER);
    }
}
