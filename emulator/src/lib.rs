//! A local emulator of the SmartAI platform's event queue.
//!
//! It speaks the wire protocol of `shared/spec/protocol.md`: signed requests, fetch /
//! acknowledge / create-session endpoints, per-key queues with retention, the platform's
//! rate limits, and fault injection for client resilience tests. Tests start it in-process
//! and talk to it over real HTTP; users run the `smartai-emulator` binary.
//!
//! # Admin API
//!
//! Under `/_emulator/`, answered only to loopback peers (others get 403), unsigned, JSON in
//! and out; every route calls the same operation as the matching [`Emulator`] method.
//! `?apiKey=` (or `"apiKey"` in the body) picks another key's queue where it applies.
//!
//! | route | does |
//! |---|---|
//! | `POST /_emulator/events` | body `[event, …]`, `{"events":[…]}` or `{"generate":n}` → `{"enqueued":n,"pending":n}` |
//! | `GET /_emulator/events` | `{"pending":[ids…],"acknowledged":[ids…]}` |
//! | `GET /_emulator/stats` | [`QueueStats`] |
//! | `GET`, `DELETE /_emulator/requests` | the [`RequestLogEntry`] list; clear it |
//! | `GET`, `POST`, `DELETE /_emulator/faults` | list; a [`FaultRule`] list replaces, `{"add": rule}` appends; clear |
//! | `GET`, `POST /_emulator/clock` | `{"offsetMs":n}` sets the clock offset; answers `{"offsetMs","nowMs"}` |
//! | `GET`, `POST /_emulator/rate-limit` | a [`RateLimitConfig`] as JSON |
//! | `POST /_emulator/reset` | [`Emulator::reset`] |
//! | `GET /_emulator/keys` | the [`ApiKey`] list |
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use smartai_emulator::{Emulator, EmulatorConfig, FaultKind, FaultRule, Endpoint};
//!
//! let emu = Emulator::start(EmulatorConfig::default().with_initial_events(250)).await?;
//! println!("{} {} {}", emu.url(), emu.api_key(), emu.secret_key());
//! // The next acknowledge is applied but its response is lost.
//! emu.add_fault(FaultRule::new(FaultKind::AppliedButLost).on(Endpoint::Acknowledge).once());
//! emu.shutdown().await;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

pub mod admin;
mod api;
mod auth;
pub mod cli;
mod config;
pub mod faults;
pub mod generator;
mod pipeline;
mod queue;
mod ratelimit;
mod reply;
mod requestlog;
mod server;
mod state;

pub use config::{ApiKey, DEFAULT_ACKNOWLEDGED_HISTORY, EmulatorConfig, RateLimitConfig, TokenBucket};
pub use faults::{FaultKind, FaultRule};
pub use requestlog::{Endpoint, RequestLogEntry};
pub use state::QueueStats;

use axum::Router;
use serde_json::Value;
use state::Shared;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// A running emulator. Cheap to clone; the server stops on [`shutdown`](Self::shutdown) or
/// when the last clone is dropped.
#[derive(Clone)]
pub struct Emulator {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    url: String,
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: Mutex<Option<JoinHandle<()>>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = state::lock(&self.task).take() {
            task.abort();
        }
    }
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("url", &self.inner.url)
            .field("api_key", &self.api_key())
            .finish_non_exhaustive()
    }
}

fn build_router(shared: Arc<Shared>) -> Router {
    Router::new()
        .nest("/_emulator", admin::router())
        .fallback(api::handle)
        .layer(axum::middleware::from_fn_with_state(shared.clone(), pipeline::around))
        .with_state(shared)
}

impl Emulator {
    /// Binds the configured address and starts serving. Must run inside a tokio runtime.
    /// A token bucket that would lock every client out is refused ([`TokenBucket::check`]).
    pub async fn start(config: EmulatorConfig) -> std::io::Result<Emulator> {
        if let Some(bucket) = config.rate_limit.bucket {
            bucket
                .check("rate_limit.bucket.per_second", "rate_limit.bucket.burst")
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        }
        let listener = TcpListener::bind(SocketAddr::new(config.host, config.port)).await?;
        let addr = listener.local_addr()?;
        let (stop, stop_rx) = watch::channel(false);
        let shared = Arc::new(Shared::new(&config, stop_rx));
        generator::generated_count("initial_events", config.initial_events as u64)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
        if config.initial_events > 0 {
            shared.generate(config.initial_events);
        }
        let task = tokio::spawn(server::serve(listener, build_router(shared.clone()), shared.clone()));
        let url = format!("http://{}", SocketAddr::new(reachable_ip(addr.ip()), addr.port()));
        tracing::info!(%url, keys = shared.keys.len(), pending = shared.stats().pending, "emulator listening");
        Ok(Emulator { inner: Arc::new(Inner { shared, url, addr, stop, task: Mutex::new(Some(task)) }) })
    }

    fn shared(&self) -> &Shared {
        &self.inner.shared
    }

    /// Base URL, e.g. `http://127.0.0.1:38211` (no trailing slash).
    pub fn url(&self) -> String {
        self.inner.url.clone()
    }

    /// The bound socket address.
    pub fn local_addr(&self) -> SocketAddr {
        self.inner.addr
    }

    /// The first key's API key.
    pub fn api_key(&self) -> &str {
        &self.shared().keys[0].api_key
    }

    /// The first key's secret.
    pub fn secret_key(&self) -> &str {
        &self.shared().keys[0].secret_key
    }

    /// All accepted keys, the first one first.
    pub fn keys(&self) -> &[ApiKey] {
        &self.shared().keys
    }

    /// The emulator's clock (real time plus the offset), in Unix ms.
    pub fn now_ms(&self) -> i64 {
        self.shared().now_ms()
    }

    /// Enqueues events for the first key and returns how many were added. `eventId` and
    /// `storedAt` are filled in when missing; values that are not JSON objects, and events
    /// whose ID is already pending, are skipped.
    pub fn enqueue(&self, events: Vec<Value>) -> usize {
        let key = self.api_key().to_string();
        self.enqueue_for(&key, events)
    }

    /// [`enqueue`](Self::enqueue) from the JSON text of an array of events. Each event is
    /// served exactly as written (a number beyond an f64's precision included), with only a
    /// missing `eventId` or `storedAt` appended (one that is there but unusable, such as
    /// `"eventId": 5`, is replaced, and that event is written anew). An element that is not
    /// an object is refused, by its index.
    ///
    /// ```no_run
    /// # async fn demo(emu: smartai_emulator::Emulator) {
    /// let added = emu.enqueue_json(r#"[{"eventId":"e1","event":"x.y","big":18446744073709551621}]"#).unwrap();
    /// assert_eq!(added, 1);
    /// # }
    /// ```
    pub fn enqueue_json(&self, text: &str) -> Result<usize, serde_json::Error> {
        let texts: Vec<&serde_json::value::RawValue> = serde_json::from_str(text)?;
        let events = texts
            .into_iter()
            .map(|t| Ok((serde_json::from_str::<Value>(t.get())?, Some(t.get().to_string()))))
            .collect::<Result<Vec<_>, serde_json::Error>>()?;
        admin::check_events(events.iter().map(|(v, _)| v)).map_err(<serde_json::Error as serde::de::Error>::custom)?;
        Ok(self.shared().enqueue_given_for(self.api_key(), events))
    }

    /// Like [`enqueue`](Self::enqueue), for another key's queue (0 for an unknown key).
    pub fn enqueue_for(&self, api_key: &str, events: Vec<Value>) -> usize {
        self.shared().enqueue_for(api_key, events)
    }

    /// Enqueues `n` generated events for the first key. Successive calls continue the
    /// seed's sequence, so IDs never repeat, and `storedAt` keeps increasing.
    pub fn generate(&self, n: usize) -> usize {
        self.shared().generate(n)
    }

    /// Like [`generate`](Self::generate), for another key's queue.
    pub fn generate_for(&self, api_key: &str, n: usize) -> usize {
        self.shared().generate_for(api_key, n)
    }

    /// Replaces the fault rules.
    pub fn set_faults(&self, faults: Vec<FaultRule>) {
        self.shared().set_faults(faults);
    }

    /// Appends one fault rule.
    pub fn add_fault(&self, fault: FaultRule) {
        self.shared().add_fault(fault);
    }

    /// Removes all fault rules.
    pub fn clear_faults(&self) {
        self.shared().set_faults(Vec::new());
    }

    /// The installed fault rules, with their remaining counts.
    pub fn faults(&self) -> Vec<FaultRule> {
        self.shared().fault_rules()
    }

    /// Shifts the emulator's clock: it reads real time plus `ms`.
    pub fn set_clock_offset_ms(&self, ms: i64) {
        self.shared().set_clock_offset_ms(ms);
    }

    /// Replaces the rate-limit settings for every key and resets their state.
    pub fn set_rate_limit(&self, cfg: RateLimitConfig) {
        self.shared().set_rate_limit(cfg);
    }

    /// Statistics of the first key's queue.
    pub fn stats(&self) -> QueueStats {
        self.shared().stats()
    }

    /// Statistics of one key's queue (all zero for an unknown key).
    pub fn stats_for(&self, api_key: &str) -> QueueStats {
        self.shared().stats_for(api_key)
    }

    /// The first key's unacknowledged event IDs, in queue order.
    pub fn pending_ids(&self) -> Vec<String> {
        self.shared().pending_ids_for(self.api_key())
    }

    /// The first key's latest acknowledged event IDs, in acknowledge order (at most
    /// [`EmulatorConfig::acknowledged_history`]; [`Emulator::stats`] counts them all).
    pub fn acknowledged_ids(&self) -> Vec<String> {
        self.shared().acknowledged_ids_for(self.api_key())
    }

    /// The request log (the last 10,000 requests), oldest first.
    pub fn request_log(&self) -> Vec<RequestLogEntry> {
        self.shared().request_log()
    }

    /// Empties the request log.
    pub fn clear_request_log(&self) {
        self.shared().clear_request_log();
    }

    /// Empties queues, statistics, the request log, the faults and the rate-limit state.
    /// Settings (rate-limit configuration, clock offset) stay.
    pub fn reset(&self) {
        self.shared().reset();
    }

    /// Stops accepting, lets in-flight requests finish (at most about two seconds; hung
    /// requests are cut at once) and waits for the server to stop.
    pub async fn shutdown(self) {
        let _ = self.inner.stop.send(true);
        let task = state::lock(&self.inner.task).take();
        if let Some(mut task) = task
            && tokio::time::timeout(Duration::from_secs(5), &mut task).await.is_err()
        {
            task.abort();
        }
    }
}

/// The address clients should use: a wildcard bind is reached through loopback.
fn reachable_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(v4) if v4.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
        IpAddr::V6(v6) if v6.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
        other => other,
    }
}
