//! The emulator's shared state and the control operations that both the Rust handle and
//! the admin HTTP API call.

use crate::config::{ApiKey, EmulatorConfig, RateLimitConfig, duration_to_ms};
use crate::faults::{FaultRule, FaultTable};
use crate::generator;
use crate::queue::Queue;
use crate::ratelimit::Limiter;
use crate::requestlog::{RequestLog, RequestLogEntry};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, SystemTime, UNIX_EPOCH};
use tokio::sync::watch;

/// Events generated per unit of work.
const GENERATE_CHUNK: usize = 2048;

/// Locks a mutex, carrying on after a panic elsewhere: every critical section leaves the
/// state consistent, so a poisoned lock holds nothing half-done.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Real Unix time in milliseconds.
pub(crate) fn real_now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// Queue statistics for one API key.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueStats {
    /// The key these numbers are for.
    pub api_key: String,
    /// Unacknowledged events now in the queue.
    pub pending: usize,
    /// Events ever enqueued.
    pub enqueued_total: u64,
    /// Events removed by acknowledge.
    pub acknowledged_total: u64,
    /// Events dropped by retention.
    pub expired_total: u64,
    /// Successful fetch requests.
    pub fetches: u64,
    /// Events returned by all fetches (redeliveries count again).
    pub events_delivered: u64,
    /// Successful acknowledge requests.
    pub acks: u64,
    /// Successful session requests.
    pub sessions: u64,
    /// Requests refused with 429 by either rate limit.
    pub rate_limited: u64,
    /// Requests with this key refused with 401 (bad signature or timestamp).
    pub auth_failures: u64,
    /// `storedAt` of the oldest pending event, in Unix ms.
    pub oldest_pending_ms: Option<i64>,
}

#[derive(Default)]
pub(crate) struct Counters {
    pub fetches: u64,
    pub events_delivered: u64,
    pub acks: u64,
    pub sessions: u64,
    pub rate_limited: u64,
    pub auth_failures: u64,
}

/// Everything one key owns, behind one lock so a fetch sees queue and limits consistently.
pub(crate) struct KeyData {
    pub queue: Queue,
    pub limiter: Limiter,
    pub counters: Counters,
}

pub(crate) struct KeyState {
    pub key: ApiKey,
    pub data: Mutex<KeyData>,
}

impl KeyState {
    fn new(key: ApiKey, rate_limit: RateLimitConfig, history: usize) -> Self {
        Self {
            key,
            data: Mutex::new(KeyData {
                queue: Queue::new(history),
                limiter: Limiter::new(rate_limit),
                counters: Counters::default(),
            }),
        }
    }
}

struct GeneratorCursor {
    next_index: u64,
    last_stored_at_ms: i64,
}

pub(crate) struct Shared {
    pub keys: Vec<ApiKey>,
    states: Vec<Arc<KeyState>>,
    by_key: HashMap<String, Arc<KeyState>>,
    pub seed: u64,
    pub retention: Duration,
    pub timestamp_window: Duration,
    acknowledged_history: usize,
    clock_offset_ms: AtomicI64,
    faults: Mutex<FaultTable>,
    pub log: Arc<RequestLog>,
    /// See [`EmulatorConfig::path_prefix`](crate::EmulatorConfig::path_prefix).
    pub path_prefix: String,
    cursor: Mutex<GeneratorCursor>,
    fill_counter: AtomicU64,
    shutdown: watch::Receiver<bool>,
}

impl Shared {
    pub fn new(config: &EmulatorConfig, shutdown: watch::Receiver<bool>) -> Self {
        let mut keys: Vec<ApiKey> = Vec::new();
        for k in &config.keys {
            if !keys.iter().any(|e| e.api_key == k.api_key) {
                keys.push(k.clone());
            }
        }
        if keys.is_empty() {
            keys.push(ApiKey::default());
        }
        let states: Vec<Arc<KeyState>> = keys
            .iter()
            .map(|k| Arc::new(KeyState::new(k.clone(), config.rate_limit, config.acknowledged_history)))
            .collect();
        let by_key = states.iter().map(|s| (s.key.api_key.clone(), s.clone())).collect();
        Self {
            keys,
            states,
            by_key,
            seed: config.seed,
            retention: config.retention,
            timestamp_window: config.timestamp_window,
            acknowledged_history: config.acknowledged_history,
            clock_offset_ms: AtomicI64::new(config.clock_offset_ms),
            faults: Mutex::new(FaultTable::new(config.seed)),
            log: Arc::new(RequestLog::default()),
            path_prefix: crate::config::normal_prefix(&config.path_prefix),
            cursor: Mutex::new(GeneratorCursor { next_index: 0, last_stored_at_ms: i64::MIN }),
            fill_counter: AtomicU64::new(0),
            shutdown,
        }
    }

    // ---- clock -------------------------------------------------------------------------

    /// The emulator's clock: real time plus the configured offset, in Unix ms.
    pub fn now_ms(&self) -> i64 {
        real_now_ms().saturating_add(self.clock_offset_ms.load(Ordering::Relaxed))
    }

    pub fn clock_offset_ms(&self) -> i64 {
        self.clock_offset_ms.load(Ordering::Relaxed)
    }

    pub fn set_clock_offset_ms(&self, ms: i64) {
        self.clock_offset_ms.store(ms, Ordering::Relaxed);
    }

    /// `now_ms` as a `SystemTime`, for the `Date` header.
    pub fn now_system_time(&self) -> SystemTime {
        // An HTTP date ends with year 9999; a clock offset beyond it stops there.
        const LAST_HTTP_DATE_MS: i64 = 253_402_300_799_000;
        let ms = self.now_ms().clamp(0, LAST_HTTP_DATE_MS);
        UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
    }

    fn retention_cutoff(&self) -> i64 {
        let retention = i64::try_from(duration_to_ms(self.retention)).unwrap_or(i64::MAX);
        self.now_ms().saturating_sub(retention)
    }

    // ---- keys and queues ---------------------------------------------------------------

    pub fn key_state(&self, api_key: &str) -> Option<&Arc<KeyState>> {
        self.by_key.get(api_key)
    }

    fn first(&self) -> &Arc<KeyState> {
        &self.states[0]
    }

    /// Locks a key's data after dropping expired events, so every reader sees retention
    /// applied.
    pub fn lock_key<'a>(&self, state: &'a KeyState) -> MutexGuard<'a, KeyData> {
        let cutoff = self.retention_cutoff();
        let mut data = lock(&state.data);
        data.queue.expire_before(cutoff);
        data
    }

    pub fn first_api_key(&self) -> &str {
        &self.first().key.api_key
    }

    /// Enqueues events for `api_key`; see [`crate::Emulator::enqueue_for`].
    pub fn enqueue_for(&self, api_key: &str, events: Vec<Value>) -> usize {
        self.enqueue_given_for(api_key, events.into_iter().map(|event| (event, None)).collect())
    }

    /// [`Shared::enqueue_for`] with each event's JSON text as it was given, when known: the
    /// queue then serves that text (a number beyond an f64's precision included), with only
    /// a missing `eventId` or `storedAt` appended.
    pub fn enqueue_given_for(&self, api_key: &str, events: Vec<(Value, Option<String>)>) -> usize {
        // A missing storedAt means "now", but never before an event enqueued or generated
        // earlier (generated ones may run a few ms ahead), so events queue in call order.
        let now = {
            let mut cursor = lock(&self.cursor);
            let now = self.now_ms().max(cursor.last_stored_at_ms.saturating_add(1));
            cursor.last_stored_at_ms = now;
            now
        };
        let state = self.key_state(api_key);
        let pending = |id: &str| state.is_some_and(|s| lock(&s.data).queue.contains(id));
        let prepared =
            events.into_iter().filter_map(|(event, given)| self.prepare(event, given, now, &pending)).collect();
        self.push_prepared(api_key, prepared)
    }

    /// Adds already serialised events; returns how many were new.
    fn push_prepared(&self, api_key: &str, prepared: Vec<(String, i64, String)>) -> usize {
        let Some(state) = self.key_state(api_key) else {
            tracing::warn!(api_key = %crate::requestlog::mask_key(api_key), "enqueue for an unknown API key ignored");
            return 0;
        };
        let mut data = self.lock_key(state);
        let mut added = 0;
        for (id, stored_at, json) in prepared {
            if data.queue.push(&id, stored_at, json) {
                added += 1;
            } else {
                tracing::debug!(event_id = %id, "duplicate pending event ID skipped");
            }
        }
        added
    }

    /// Fills in `eventId` and `storedAt` when missing and serialises the event once. A
    /// filled-in ID is never one `pending` already holds: the event would not be added.
    fn prepare(
        &self,
        mut event: Value,
        given: Option<String>,
        now_ms: i64,
        pending: &dyn Fn(&str) -> bool,
    ) -> Option<(String, i64, String)> {
        let obj = event.as_object_mut()?;
        let was_empty = obj.is_empty();
        // The fields filled in, in the order they are appended.
        let mut filled: Vec<(&str, Value)> = Vec::new();
        let id = match obj.get("eventId") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => {
                let id = loop {
                    let id = generator::filler_event_id(self.fill_counter.fetch_add(1, Ordering::Relaxed));
                    if !pending(&id) {
                        break id;
                    }
                };
                filled.push(("eventId", Value::String(id.clone())));
                id
            }
        };
        let stored_at = match obj.get("storedAt") {
            Some(Value::String(s)) => generator::parse_iso_ms(s).unwrap_or(now_ms),
            Some(Value::Number(n)) => n.as_i64().unwrap_or(now_ms),
            _ => {
                filled.push(("storedAt", Value::String(generator::iso_ms(now_ms))));
                now_ms
            }
        };
        // A field that is there but unusable (`"eventId": 5`) is replaced, which appending
        // to the given text cannot do without repeating the key.
        let replaces = filled.iter().any(|(key, _)| obj.contains_key(*key));
        let given = given
            .map(|text| text.trim().to_string())
            .filter(|text| !replaces && text.starts_with('{') && text.ends_with('}'));
        let json = match given {
            Some(mut text) => {
                // Appended as text, so the given fields keep their exact form.
                text.pop();
                let mut first = was_empty;
                for (key, value) in &filled {
                    if !std::mem::take(&mut first) {
                        text.push(',');
                    }
                    text.push_str(&format!("{}:{value}", Value::String((*key).to_string())));
                }
                text.push('}');
                text
            }
            None => {
                for (key, value) in filled {
                    obj.insert(key.into(), value);
                }
                serde_json::to_string(&event).ok()?
            }
        };
        Some((id, stored_at, json))
    }

    /// Generates `n` events for the first key; see [`crate::Emulator::generate`].
    pub fn generate(&self, n: usize) -> usize {
        let api_key = self.first_api_key().to_string();
        self.generate_for(&api_key, n)
    }

    pub fn generate_for(&self, api_key: &str, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        let (start, end_ms) = {
            let mut cursor = lock(&self.cursor);
            let start = cursor.next_index;
            cursor.next_index += n as u64;
            // storedAt keeps rising across calls (the first new event comes 1 ms after the
            // last one enqueued or generated), so events queue in call order.
            let n_ms = i64::try_from(n).unwrap_or(i64::MAX);
            let end = self.now_ms().max(cursor.last_stored_at_ms.saturating_add(n_ms));
            cursor.last_stored_at_ms = end;
            (start, end)
        };
        // Built and serialised chunk by chunk, on all cores: a million events as `Value`s at
        // once would need several GB, and one core takes a long time over them.
        let chunks = n.div_ceil(GENERATE_CHUNK);
        let next_chunk = AtomicUsize::new(0);
        let added = AtomicUsize::new(0);
        let workers = std::thread::available_parallelism().map_or(1, |p| p.get()).min(chunks).min(8);
        let work = || {
            loop {
                let c = next_chunk.fetch_add(1, Ordering::Relaxed);
                if c >= chunks {
                    break;
                }
                let first = c * GENERATE_CHUNK;
                let len = GENERATE_CHUNK.min(n - first);
                let later = i64::try_from(n - first - len).unwrap_or(i64::MAX);
                let events = generator::generate_range_json(self.seed, start + first as u64, len, end_ms - later);
                added.fetch_add(self.push_prepared(api_key, events), Ordering::Relaxed);
            }
        };
        if workers <= 1 {
            work();
        } else {
            std::thread::scope(|scope| {
                for _ in 0..workers {
                    scope.spawn(work);
                }
            });
        }
        added.into_inner()
    }

    pub fn stats_for(&self, api_key: &str) -> QueueStats {
        let Some(state) = self.key_state(api_key) else {
            return QueueStats { api_key: api_key.to_string(), ..QueueStats::default() };
        };
        let data = self.lock_key(state);
        let q = &data.queue;
        let c = &data.counters;
        QueueStats {
            api_key: api_key.to_string(),
            pending: q.len(),
            enqueued_total: q.enqueued_total,
            acknowledged_total: q.acknowledged_total,
            expired_total: q.expired_total,
            fetches: c.fetches,
            events_delivered: c.events_delivered,
            acks: c.acks,
            sessions: c.sessions,
            rate_limited: c.rate_limited,
            auth_failures: c.auth_failures,
            oldest_pending_ms: q.oldest_stored_at_ms(),
        }
    }

    pub fn stats(&self) -> QueueStats {
        self.stats_for(self.first_api_key())
    }

    pub fn pending_ids_for(&self, api_key: &str) -> Vec<String> {
        self.key_state(api_key).map(|s| self.lock_key(s).queue.pending_ids()).unwrap_or_default()
    }

    pub fn acknowledged_ids_for(&self, api_key: &str) -> Vec<String> {
        self.key_state(api_key).map(|s| self.lock_key(s).queue.acknowledged_ids()).unwrap_or_default()
    }

    // ---- faults, limits, log, reset ----------------------------------------------------

    pub fn faults(&self) -> MutexGuard<'_, FaultTable> {
        lock(&self.faults)
    }

    pub fn fault_rules(&self) -> Vec<FaultRule> {
        self.faults().rules()
    }

    pub fn set_faults(&self, rules: Vec<FaultRule>) {
        self.faults().set(rules);
    }

    pub fn add_fault(&self, rule: FaultRule) {
        self.faults().add(rule);
    }

    pub fn rate_limit(&self) -> RateLimitConfig {
        lock(&self.first().data).limiter.config()
    }

    pub fn set_rate_limit(&self, config: RateLimitConfig) {
        for state in &self.states {
            lock(&state.data).limiter = Limiter::new(config);
        }
    }

    pub fn request_log(&self) -> Vec<RequestLogEntry> {
        self.log.snapshot()
    }

    pub fn clear_request_log(&self) {
        self.log.clear();
    }

    /// Empties queues and statistics, the request log, the fault list and the rate-limit
    /// state. The clock offset, the rate-limit settings and the ID counters stay, so IDs
    /// generated after a reset never repeat earlier ones.
    pub fn reset(&self) {
        for state in &self.states {
            let mut data = lock(&state.data);
            let config = data.limiter.config();
            *data = KeyData {
                queue: Queue::new(self.acknowledged_history),
                limiter: Limiter::new(config),
                counters: Counters::default(),
            };
        }
        self.faults().set(Vec::new());
        self.log.clear();
    }

    // ---- shutdown ----------------------------------------------------------------------

    pub fn shutdown_receiver(&self) -> watch::Receiver<bool> {
        self.shutdown.clone()
    }

    /// Resolves once the emulator is shutting down (or its handle is gone).
    pub async fn wait_shutdown(&self) {
        let mut rx = self.shutdown.clone();
        let _ = rx.wait_for(|stop| *stop).await;
    }
}
