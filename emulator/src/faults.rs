//! Fault injection rules and the seeded dice that pick them.

use crate::requestlog::Endpoint;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

/// What goes wrong with a request.
///
/// In JSON: `{"type":"status","status":503,"retry_after":"2"}`, `{"type":"latency","ms":300}`,
/// `{"type":"redirect","status":307,"location":"http://elsewhere/"}`, `{"type":"reset"}` and
/// so on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
// A misspelt parameter (`retry_afterr`) is refused rather than left at its default.
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultKind {
    /// Answer with this status without applying the request.
    Status {
        /// HTTP status code.
        status: u16,
        /// Raw `Retry-After` header value: delta-seconds (`"2"`) or an HTTP-date.
        #[serde(default, alias = "retryAfter")]
        retry_after: Option<String>,
        /// Response body; default `{"error":"<reason> (injected fault)"}`.
        #[serde(default)]
        body: Option<String>,
    },
    /// Wait this long, then handle the request normally.
    Latency {
        /// Added delay in milliseconds.
        ms: u64,
    },
    /// Never answer (until the client gives up or the emulator shuts down).
    Hang,
    /// Drop the connection (TCP reset) without a response; the request is not applied.
    Reset,
    /// Apply the request, then send the headers and part of the body and close.
    Truncate,
    /// Answer 200 with a body that is not JSON; the request is not applied.
    MalformedJson,
    /// Apply the request, then drop the connection before any response.
    AppliedButLost,
    /// Apply the request and wrap the answer as `{"success":true,"data":…}`
    /// (errors as `{"success":false,"error":…}`).
    Envelope,
    /// Answer 200 with a body of exactly `bytes` bytes that is not JSON; the request is not
    /// applied. Shows how a client copes with a huge unexpected body (a proxy's error page,
    /// a misrouted download).
    OversizedBody {
        /// Body length, at most [`MAX_OVERSIZED_BYTES`].
        bytes: u64,
    },
    /// Answer with a redirect (`status`, 300–399) to `location`; the request is not
    /// applied. A client must not follow it: the redirect would carry its API key and a
    /// signature that can be replayed for minutes to wherever `location` points.
    Redirect {
        /// A 3xx status, such as 301, 302, 307 or 308.
        status: u16,
        /// The `Location` header.
        location: String,
    },
}

/// The largest body an `oversized_body` fault sends: above the 64 MiB a client refuses,
/// and still small enough to build in memory.
pub const MAX_OVERSIZED_BYTES: u64 = 256 * 1024 * 1024;

impl FaultKind {
    /// A status fault with the default body and no `Retry-After`.
    pub fn status(status: u16) -> Self {
        FaultKind::Status { status, retry_after: None, body: None }
    }

    /// A status fault with a `Retry-After` header.
    pub fn status_retry_after(status: u16, retry_after: impl Into<String>) -> Self {
        FaultKind::Status { status, retry_after: Some(retry_after.into()), body: None }
    }

    /// A short label for the request log, e.g. `status:503` or `latency:250ms`.
    pub fn label(&self) -> String {
        match self {
            FaultKind::Status { status, .. } => format!("status:{status}"),
            FaultKind::Latency { ms } => format!("latency:{ms}ms"),
            FaultKind::Hang => "hang".into(),
            FaultKind::Reset => "reset".into(),
            FaultKind::Truncate => "truncate".into(),
            FaultKind::MalformedJson => "malformed_json".into(),
            FaultKind::AppliedButLost => "applied_but_lost".into(),
            FaultKind::Envelope => "envelope".into(),
            FaultKind::OversizedBody { bytes } => format!("oversized_body:{bytes}"),
            FaultKind::Redirect { status, .. } => format!("redirect:{status}"),
        }
    }
}

/// When and how often a fault applies.
///
/// ```
/// use smartai_emulator::{Endpoint, FaultKind, FaultRule};
/// // The next two acknowledges get 503 with Retry-After: 1, then the rule is spent.
/// let rule = FaultRule::new(FaultKind::status_retry_after(503, "1"))
///     .on(Endpoint::Acknowledge)
///     .times(2);
/// assert_eq!(rule.remaining, Some(2));
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultRule {
    /// The endpoint it applies to; `None` means every non-admin endpoint.
    #[serde(default)]
    pub endpoint: Option<Endpoint>,
    /// Chance per matching request, 0..=1. Default 1.
    #[serde(default = "one")]
    pub probability: f64,
    /// Apply at most this many more times; `None` = no limit.
    #[serde(default)]
    pub remaining: Option<u32>,
    /// What happens.
    pub kind: FaultKind,
}

fn one() -> f64 {
    1.0
}

impl FaultRule {
    /// A rule for every non-admin endpoint, always applied, with no limit.
    pub fn new(kind: FaultKind) -> Self {
        Self { endpoint: None, probability: 1.0, remaining: None, kind }
    }

    /// Restricts the rule to one endpoint.
    pub fn on(mut self, endpoint: Endpoint) -> Self {
        self.endpoint = Some(endpoint);
        self
    }

    /// Applies the rule at most `n` times.
    pub fn times(mut self, n: u32) -> Self {
        self.remaining = Some(n);
        self
    }

    /// Applies the rule once.
    pub fn once(self) -> Self {
        self.times(1)
    }

    /// Sets the chance per matching request.
    pub fn with_probability(mut self, p: f64) -> Self {
        self.probability = p;
        self
    }

    /// Checks the values a JSON caller may get wrong; the message names the bad value.
    pub fn validate(&self) -> Result<(), String> {
        if !(0.0..=1.0).contains(&self.probability) {
            return Err(format!("probability must be between 0 and 1, got {}", self.probability));
        }
        if let FaultKind::Status { status, retry_after, .. } = &self.kind {
            if !(200..=599).contains(status) {
                return Err(format!("status must be between 200 and 599, got {status}"));
            }
            if let Some(ra) = retry_after
                && axum::http::HeaderValue::from_str(ra).is_err()
            {
                return Err(format!("retry_after is not a valid header value: {ra:?}"));
            }
        }
        if let FaultKind::Redirect { status, location } = &self.kind {
            if !(300..=399).contains(status) {
                return Err(format!("a redirect's status must be between 300 and 399, got {status}"));
            }
            if location.is_empty() || axum::http::HeaderValue::from_str(location).is_err() {
                return Err(format!("location is not a valid header value: {location:?}"));
            }
        }
        if let FaultKind::OversizedBody { bytes } = self.kind
            && bytes > MAX_OVERSIZED_BYTES
        {
            return Err(format!("bytes must be at most {MAX_OVERSIZED_BYTES}, got {bytes}"));
        }
        Ok(())
    }
}

/// The installed rules plus the dice.
pub(crate) struct FaultTable {
    rules: Vec<FaultRule>,
    rng: StdRng,
}

impl FaultTable {
    pub fn new(seed: u64) -> Self {
        Self { rules: Vec::new(), rng: StdRng::seed_from_u64(seed ^ 0xFA17_5EED) }
    }

    pub fn rules(&self) -> Vec<FaultRule> {
        self.rules.clone()
    }

    pub fn set(&mut self, rules: Vec<FaultRule>) {
        self.rules = rules;
    }

    pub fn add(&mut self, rule: FaultRule) {
        self.rules.push(rule);
    }

    /// Picks at most one fault for a request. One draw is compared against the running sum
    /// of the matching rules' probabilities, so the chance of any fault is that sum.
    pub fn pick(&mut self, endpoint: Endpoint) -> Option<FaultKind> {
        if endpoint == Endpoint::Admin {
            return None;
        }
        let live =
            |r: &FaultRule| r.endpoint.is_none_or(|e| e == endpoint) && r.remaining != Some(0) && r.probability > 0.0;
        if !self.rules.iter().any(live) {
            return None;
        }
        let draw: f64 = self.rng.random();
        let mut sum = 0.0;
        for rule in self.rules.iter_mut() {
            if !live(rule) {
                continue;
            }
            sum += rule.probability.min(1.0);
            if draw < sum {
                if let Some(n) = rule.remaining.as_mut() {
                    *n -= 1;
                }
                return Some(rule.kind.clone());
            }
        }
        None
    }
}

/// A realistic mix of transient faults whose probabilities add up to `rate` for every
/// endpoint. No `Hang`: a mix is for soak runs, which should not stall on timeouts.
///
/// ```
/// use smartai_emulator::{faults::realistic_mix, Endpoint};
/// let rules = realistic_mix(0.2);
/// let total: f64 = rules
///     .iter()
///     .filter(|r| r.endpoint.is_none() || r.endpoint == Some(Endpoint::Acknowledge))
///     .map(|r| r.probability)
///     .sum();
/// assert!((total - 0.2).abs() < 1e-9);
/// ```
pub fn realistic_mix(rate: f64) -> Vec<FaultRule> {
    let rate = rate.clamp(0.0, 1.0);
    if rate == 0.0 {
        return Vec::new();
    }
    let share = |kind: FaultKind, part: f64| FaultRule::new(kind).with_probability(rate * part);
    let mut rules = vec![
        share(FaultKind::status_retry_after(503, "0"), 0.15),
        share(FaultKind::status_retry_after(503, "1"), 0.05),
        share(FaultKind::status(500), 0.15),
        share(FaultKind::status_retry_after(429, "1"), 0.10),
        share(FaultKind::Reset, 0.15),
        share(FaultKind::Truncate, 0.10),
        share(FaultKind::Latency { ms: 250 }, 0.20),
    ];
    // Applied-but-lost only means something for an acknowledge; elsewhere the same share
    // becomes a plain reset so every endpoint sees the same total rate.
    rules.push(share(FaultKind::AppliedButLost, 0.10).on(Endpoint::Acknowledge));
    rules.push(share(FaultKind::Reset, 0.10).on(Endpoint::Fetch));
    rules.push(share(FaultKind::Reset, 0.10).on(Endpoint::Session));
    rules
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_count_is_spent() {
        let mut t = FaultTable::new(1);
        t.set(vec![FaultRule::new(FaultKind::Reset).on(Endpoint::Fetch).times(2)]);
        assert_eq!(t.pick(Endpoint::Acknowledge), None);
        assert_eq!(t.pick(Endpoint::Fetch), Some(FaultKind::Reset));
        assert_eq!(t.pick(Endpoint::Fetch), Some(FaultKind::Reset));
        assert_eq!(t.pick(Endpoint::Fetch), None);
        assert_eq!(t.pick(Endpoint::Admin), None);
    }

    #[test]
    fn probability_is_roughly_honoured() {
        let mut t = FaultTable::new(7);
        t.set(vec![FaultRule::new(FaultKind::Hang).with_probability(0.25)]);
        let hits = (0..10_000).filter(|_| t.pick(Endpoint::Fetch).is_some()).count();
        assert!((2_000..3_000).contains(&hits), "{hits}");
    }

    #[test]
    fn a_misspelt_fault_parameter_is_refused_by_name() {
        let err = serde_json::from_str::<FaultKind>(r#"{"type":"status","status":503,"retry_afterr":"2"}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `retry_afterr`"), "{err}");
        let err = serde_json::from_str::<FaultKind>(r#"{"type":"latency","ms":5,"jitter":1}"#).unwrap_err().to_string();
        assert!(err.contains("unknown field `jitter`"), "{err}");
        let ok = serde_json::from_str::<FaultKind>(r#"{"type":"status","status":503,"retryAfter":"2"}"#).unwrap();
        assert_eq!(ok, FaultKind::status_retry_after(503, "2"));
    }

    #[test]
    fn json_shape() {
        let rule: FaultRule = serde_json::from_str(
            r#"{"endpoint":"acknowledge","remaining":1,"kind":{"type":"status","status":503,"retry_after":"2"}}"#,
        )
        .unwrap();
        assert_eq!(rule.probability, 1.0);
        assert_eq!(rule.kind, FaultKind::status_retry_after(503, "2"));
        assert!(rule.validate().is_ok());
        assert!(rule.clone().with_probability(2.0).validate().is_err());
    }
}
