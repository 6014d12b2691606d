//! Start-up configuration of an [`Emulator`](crate::Emulator).

use serde::{Deserialize, Serialize};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// One API key with its secret. Each key has its own queue and its own rate limits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiKey {
    /// The public key sent as `x-api-key`.
    pub api_key: String,
    /// The secret the request signatures are made with.
    pub secret_key: String,
}

impl ApiKey {
    /// A key pair from explicit values.
    pub fn new(api_key: impl Into<String>, secret_key: impl Into<String>) -> Self {
        Self { api_key: api_key.into(), secret_key: secret_key.into() }
    }

    /// The `index`-th well-known test key. Index 0 is the default key
    /// (`wc_ak_test_emulator0001` / `wc_sk_test_emulator_secret_0001`).
    ///
    /// ```
    /// use smartai_emulator::ApiKey;
    /// assert_eq!(ApiKey::generate(1).api_key, "wc_ak_test_emulator0002");
    /// assert_eq!(ApiKey::generate(0), ApiKey::default());
    /// ```
    pub fn generate(index: usize) -> Self {
        let n = index + 1;
        Self { api_key: format!("wc_ak_test_emulator{n:04}"), secret_key: format!("wc_sk_test_emulator_secret_{n:04}") }
    }

    /// A key pair with random material, for tests that must not share keys.
    pub fn random() -> Self {
        let a = uuid::Uuid::new_v4().simple().to_string();
        let s = uuid::Uuid::new_v4().simple().to_string();
        Self { api_key: format!("wc_ak_test_{}", &a[..20]), secret_key: format!("wc_sk_test_{s}") }
    }
}

impl Default for ApiKey {
    fn default() -> Self {
        Self::generate(0)
    }
}

/// A token bucket: `per_second` tokens are added per second up to `burst`; every request
/// takes one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenBucket {
    /// Refill rate in requests per second.
    pub per_second: f64,
    /// Bucket size: how many requests may come back to back.
    pub burst: u32,
}

impl TokenBucket {
    /// The one check of a bucket's settings, for the flags, the admin API and
    /// [`Emulator::start`](crate::Emulator::start): a refill rate that is a finite number
    /// above 0 and a size of at least 1. Anything else would lock every client out. `rate`
    /// and `burst` name the two settings in the message (`--rate`, `bucket.per_second`, ...).
    ///
    /// ```
    /// use smartai_emulator::TokenBucket;
    /// assert!(TokenBucket { per_second: 20.0, burst: 40 }.check("--rate", "--burst").is_ok());
    /// let err = TokenBucket { per_second: 0.0, burst: 40 }.check("--rate", "--burst").unwrap_err();
    /// assert_eq!(err, "--rate must be a number of requests per second above 0, got 0");
    /// ```
    pub fn check(&self, rate: &str, burst: &str) -> Result<(), String> {
        if !self.per_second.is_finite() || self.per_second <= 0.0 {
            return Err(format!("{rate} must be a number of requests per second above 0, got {}", self.per_second));
        }
        if self.burst == 0 {
            return Err(format!("{burst} must be at least 1 (requests that may come back to back), got 0"));
        }
        Ok(())
    }
}

impl Default for TokenBucket {
    fn default() -> Self {
        Self { per_second: 20.0, burst: 40 }
    }
}

/// The platform's two rate limits, per API key. `None` turns a limit off.
///
/// In JSON the interval is given in milliseconds:
/// `{"idle_poll_interval_ms":5000,"bucket":{"per_second":20.0,"burst":40}}`; a missing field
/// takes its default and `null` turns that limit off.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    /// A fetch that comes sooner than this after a fetch that returned `pendingCount == 0`
    /// gets 429. Default 5 s.
    #[serde(
        rename = "idle_poll_interval_ms",
        alias = "idlePollIntervalMs",
        with = "opt_duration_ms",
        default = "default_idle_poll"
    )]
    pub idle_poll_interval: Option<Duration>,
    /// Token bucket over all requests. Default 20/s, burst 40.
    #[serde(default = "default_bucket")]
    pub bucket: Option<TokenBucket>,
}

fn default_idle_poll() -> Option<Duration> {
    Some(Duration::from_secs(5))
}

fn default_bucket() -> Option<TokenBucket> {
    Some(TokenBucket::default())
}

impl Default for RateLimitConfig {
    fn default() -> Self {
        Self { idle_poll_interval: default_idle_poll(), bucket: default_bucket() }
    }
}

impl RateLimitConfig {
    /// Both limits off: what most functional tests want.
    pub fn disabled() -> Self {
        Self { idle_poll_interval: None, bucket: None }
    }
}

/// Everything [`Emulator::start`](crate::Emulator::start) needs.
///
/// ```
/// use smartai_emulator::{EmulatorConfig, RateLimitConfig};
/// let config = EmulatorConfig::default()
///     .with_initial_events(10)
///     .with_rate_limit(RateLimitConfig::disabled());
/// assert_eq!(config.port, 0);
/// ```
// A misspelt option (`rateLimit`, `initialEvents`) is refused by name rather than left at
// its default without a word.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmulatorConfig {
    /// Address to bind. Default 127.0.0.1.
    pub host: IpAddr,
    /// Port to bind; 0 picks a free one. Default 0.
    pub port: u16,
    /// Accepted keys; the first is the one [`Emulator::api_key`](crate::Emulator::api_key)
    /// returns. Default: the one test key [`ApiKey::default`].
    pub keys: Vec<ApiKey>,
    /// Generated events enqueued for the first key at start. Default 0.
    pub initial_events: usize,
    /// Seed of the event generator and of the fault dice. Default 42.
    pub seed: u64,
    /// Rate limits. Default: both on.
    pub rate_limit: RateLimitConfig,
    /// Unacknowledged events older than this (by `storedAt`) expire. Default 72 h.
    #[serde(with = "duration_ms", rename = "retention_ms")]
    pub retention: Duration,
    /// Allowed distance between `x-timestamp` and the emulator's clock. Default 5 min.
    #[serde(with = "duration_ms", rename = "timestamp_window_ms")]
    pub timestamp_window: Duration,
    /// The emulator's clock is the real clock plus this, for clock-skew tests. Default 0.
    pub clock_offset_ms: i64,
    /// How many of the latest acknowledged event IDs each queue remembers for
    /// `GET /_emulator/events` and [`Emulator::acknowledged_ids`](crate::Emulator::acknowledged_ids).
    /// The statistics count every acknowledge regardless. Bounded so that a soak of
    /// millions of events keeps the emulator's memory flat. Default 100,000.
    pub acknowledged_history: usize,
    /// The path the platform's endpoints sit under, as a base URL with a path would put
    /// them (`/prefix` serves `/prefix/api/v1/webhook/events`). Default none: exactly the
    /// platform's paths, so that a base URL with a stray path gets the 404 the platform
    /// would give. The admin API (`/_emulator/...`) is never under it.
    pub path_prefix: String,
}

/// The default of [`EmulatorConfig::acknowledged_history`].
pub const DEFAULT_ACKNOWLEDGED_HISTORY: usize = 100_000;

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            host: IpAddr::V4(Ipv4Addr::LOCALHOST),
            port: 0,
            keys: vec![ApiKey::default()],
            initial_events: 0,
            seed: 42,
            rate_limit: RateLimitConfig::default(),
            retention: Duration::from_secs(72 * 3600),
            timestamp_window: Duration::from_secs(5 * 60),
            clock_offset_ms: 0,
            acknowledged_history: DEFAULT_ACKNOWLEDGED_HISTORY,
            path_prefix: String::new(),
        }
    }
}

impl EmulatorConfig {
    /// Sets the bind address.
    pub fn with_host(mut self, host: IpAddr) -> Self {
        self.host = host;
        self
    }

    /// Sets the port (0 = any free port).
    pub fn with_port(mut self, port: u16) -> Self {
        self.port = port;
        self
    }

    /// Replaces the key list. An empty list falls back to the default key at start.
    pub fn with_keys(mut self, keys: Vec<ApiKey>) -> Self {
        self.keys = keys;
        self
    }

    /// Adds one key after the existing ones.
    pub fn with_key(mut self, key: ApiKey) -> Self {
        self.keys.push(key);
        self
    }

    /// Uses the first `n` well-known test keys ([`ApiKey::generate`]).
    pub fn with_key_count(mut self, n: usize) -> Self {
        self.keys = (0..n.max(1)).map(ApiKey::generate).collect();
        self
    }

    /// Enqueues `n` generated events for the first key at start.
    pub fn with_initial_events(mut self, n: usize) -> Self {
        self.initial_events = n;
        self
    }

    /// Sets the generator and fault seed.
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Sets the rate limits.
    pub fn with_rate_limit(mut self, rate_limit: RateLimitConfig) -> Self {
        self.rate_limit = rate_limit;
        self
    }

    /// Turns both rate limits off.
    pub fn without_rate_limit(self) -> Self {
        self.with_rate_limit(RateLimitConfig::disabled())
    }

    /// Sets the retention period.
    pub fn with_retention(mut self, retention: Duration) -> Self {
        self.retention = retention;
        self
    }

    /// Sets the accepted timestamp window.
    pub fn with_timestamp_window(mut self, window: Duration) -> Self {
        self.timestamp_window = window;
        self
    }

    /// Remembers the last `n` acknowledged IDs per queue (0: none).
    ///
    /// ```
    /// use smartai_emulator::EmulatorConfig;
    /// let config = EmulatorConfig::default().with_acknowledged_history(1_000_000);
    /// assert_eq!(config.acknowledged_history, 1_000_000);
    /// ```
    pub fn with_acknowledged_history(mut self, n: usize) -> Self {
        self.acknowledged_history = n;
        self
    }

    /// Shifts the emulator's clock by `ms` milliseconds.
    pub fn with_clock_offset_ms(mut self, ms: i64) -> Self {
        self.clock_offset_ms = ms;
        self
    }

    /// Serves the platform's endpoints under `prefix` ([`EmulatorConfig::path_prefix`]);
    /// slashes around it do not matter.
    ///
    /// ```
    /// use smartai_emulator::EmulatorConfig;
    /// assert_eq!(EmulatorConfig::default().with_path_prefix("gateway/").path_prefix, "/gateway");
    /// ```
    pub fn with_path_prefix(mut self, prefix: impl AsRef<str>) -> Self {
        self.path_prefix = normal_prefix(prefix.as_ref());
        self
    }
}

/// `""` or `/a/b`: one leading slash, none trailing.
pub(crate) fn normal_prefix(prefix: &str) -> String {
    let inner = prefix.trim_matches('/');
    if inner.is_empty() { String::new() } else { format!("/{inner}") }
}

pub(crate) fn duration_to_ms(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

mod duration_ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(super::duration_to_ms(*d))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

mod opt_duration_ms {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Option<Duration>, s: S) -> Result<S::Ok, S::Error> {
        match d {
            Some(d) => s.serialize_some(&super::duration_to_ms(*d)),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Duration>, D::Error> {
        Ok(Option::<u64>::deserialize(d)?.map(Duration::from_millis))
    }
}
