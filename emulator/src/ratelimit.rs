//! The platform's rate limits, kept per API key.

use crate::config::{RateLimitConfig, TokenBucket};
use std::time::{Duration, Instant};

/// Why a request was refused, and when to come back.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Limited {
    pub retry_after: Duration,
    pub message: String,
}

impl Limited {
    /// `Retry-After` as whole seconds, rounded up, at least 1.
    pub fn retry_after_secs(&self) -> u64 {
        let ms = self.retry_after.as_millis();
        u64::try_from(ms.div_ceil(1000)).unwrap_or(u64::MAX).max(1)
    }
}

pub(crate) struct Limiter {
    config: RateLimitConfig,
    tokens: f64,
    refilled_at: Instant,
    /// When the last fetch that saw an empty queue happened.
    idle_since: Option<Instant>,
}

impl Limiter {
    pub fn new(config: RateLimitConfig) -> Self {
        Self {
            tokens: config.bucket.map_or(0.0, |b| f64::from(b.burst)),
            config,
            refilled_at: Instant::now(),
            idle_since: None,
        }
    }

    pub fn config(&self) -> RateLimitConfig {
        self.config
    }

    /// Takes one token for any request.
    pub fn take_token(&mut self, now: Instant) -> Result<(), Limited> {
        let Some(TokenBucket { per_second, burst }) = self.config.bucket else {
            return Ok(());
        };
        let elapsed = now.saturating_duration_since(self.refilled_at).as_secs_f64();
        self.refilled_at = now;
        if per_second > 0.0 {
            self.tokens = (self.tokens + elapsed * per_second).min(f64::from(burst));
        }
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            return Ok(());
        }
        let wait = if per_second > 0.0 {
            // A rate so low that the wait overflows a Duration waits as long as one can.
            Duration::try_from_secs_f64((1.0 - self.tokens) / per_second).unwrap_or(Duration::MAX)
        } else {
            Duration::from_secs(60)
        };
        Err(Limited {
            retry_after: wait,
            message: format!("Rate limited: too many requests (at most {per_second} per second, burst {burst})"),
        })
    }

    /// Refuses a fetch that comes too soon after a fetch that found the queue empty.
    pub fn check_idle_poll(&self, now: Instant) -> Result<(), Limited> {
        let (Some(interval), Some(since)) = (self.config.idle_poll_interval, self.idle_since) else {
            return Ok(());
        };
        let elapsed = now.saturating_duration_since(since);
        if elapsed >= interval {
            return Ok(());
        }
        Err(Limited {
            retry_after: interval - elapsed,
            message: format!(
                "Rate limited: poll at most every {} when the queue is empty",
                describe_interval(interval)
            ),
        })
    }

    /// Remembers whether a successful fetch left the queue empty.
    pub fn record_fetch(&mut self, pending_count: usize, now: Instant) {
        self.idle_since = (pending_count == 0).then_some(now);
    }
}

fn describe_interval(d: Duration) -> String {
    if d.subsec_millis() == 0 && d.as_secs() > 0 {
        match d.as_secs() {
            1 => "1 second".to_string(),
            s => format!("{s} seconds"),
        }
    } else {
        format!("{} ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_burst_then_refuses() {
        let cfg = RateLimitConfig { idle_poll_interval: None, bucket: Some(TokenBucket { per_second: 2.0, burst: 3 }) };
        let mut l = Limiter::new(cfg);
        let t = Instant::now();
        for _ in 0..3 {
            assert!(l.take_token(t).is_ok());
        }
        let err = l.take_token(t).unwrap_err();
        assert_eq!(err.retry_after_secs(), 1);
        assert!(l.take_token(t + Duration::from_millis(600)).is_ok());
    }

    #[test]
    fn idle_poll_message_matches_the_platform() {
        let mut l = Limiter::new(RateLimitConfig::default());
        let t = Instant::now();
        assert!(l.check_idle_poll(t).is_ok());
        l.record_fetch(0, t);
        let err = l.check_idle_poll(t + Duration::from_millis(1500)).unwrap_err();
        assert_eq!(err.message, "Rate limited: poll at most every 5 seconds when the queue is empty");
        assert_eq!(err.retry_after_secs(), 4);
        assert!(l.check_idle_poll(t + Duration::from_secs(5)).is_ok());
        l.record_fetch(3, t);
        assert!(l.check_idle_poll(t).is_ok());
    }
}
