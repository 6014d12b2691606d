//! The client: configuration and the three calls the platform documents.

use crate::canonical;
use crate::config::{self, Config, Environment, SecretString};
use crate::error::{Error, Result};
use crate::gate::PollGate;
use crate::health::{Health, HealthTracker};
use crate::queue_event::QueueEvent;
use crate::retry::RetryPolicy;
use crate::spare_body::SpareBody;
use crate::transport::{self, Call, Outcome, Transport};
use crate::types::{AcknowledgeResult, FetchOptions, SessionRequest, SessionToken, WebhookEventBatch};
use crate::validate::{self, ACK_CHUNK};
use reqwest::Method;
use serde_json::Value;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

const EVENTS_PATH: &str = "/api/v1/webhook/events";
const ACK_PATH: &str = "/api/v1/webhook/events/acknowledge";
const SESSIONS_PATH: &str = "/api/v1/sessions";

/// A SmartAI platform client. Cheap to clone; clones share connections, the learned clock
/// offset, the idle-poll gate and the health counters.
///
/// ```no_run
/// # async fn demo() -> smartai_events::Result<()> {
/// use smartai_events::{AssessmentClient, FetchOptions};
/// let client = AssessmentClient::from_env()?;
/// let batch = client.get_webhook_events(FetchOptions::new().limit(50)).await?;
/// for event in &batch.events {
///     println!("{} {}", event.event_type(), event.event_id());
/// }
/// let ids: Vec<&str> = batch.events.iter().map(|e| e.event_id()).collect();
/// if !ids.is_empty() {
///     client.acknowledge_webhook_events(&ids).await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct AssessmentClient {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) transport: Transport,
    pub(crate) gate: PollGate,
    pub(crate) health: HealthTracker,
    /// The last fetch body, whose memory the next fetch reuses.
    spare_body: SpareBody,
    /// Cancelled by [`AssessmentClient::close`].
    closed: CancellationToken,
}

impl fmt::Debug for AssessmentClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AssessmentClient").field("config", &self.inner.transport.config).finish()
    }
}

/// Builds an [`AssessmentClient`]. Unset options come from `ASSESSMENT_API_KEY`,
/// `ASSESSMENT_SECRET_KEY` and `ASSESSMENT_BASE_URL`.
///
/// ```
/// use smartai_events::AssessmentClient;
/// use std::time::Duration;
/// let client = AssessmentClient::builder()
///     .api_key("wc_ak_test_0123456789")
///     .secret_key("wc_sk_test_secret")
///     .base_url("http://127.0.0.1:8080")
///     .timeout(Duration::from_secs(5))
///     .max_retries(2)
///     .build()
///     .unwrap();
/// assert_eq!(client.environment().as_str(), "test");
/// assert!(!format!("{client:?}").contains("wc_sk_test_secret"));
/// ```
#[derive(Clone, Default)]
pub struct ClientBuilder {
    api_key: Option<String>,
    secret_key: Option<SecretString>,
    base_url: Option<String>,
    timeout: Option<Duration>,
    connect_timeout: Option<Duration>,
    retry: RetryPolicy,
    min_poll_interval: Option<Duration>,
    allow_insecure_http: bool,
    sdk_language: Option<&'static str>,
    /// What a refused plain-http base URL tells the caller to do, in the caller's own terms
    /// (`set allowInsecureHttp`, `pass --allow-insecure-http`); `None` for the Rust method.
    insecure_http_hint: Option<String>,
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("api_key", &self.api_key.as_deref().map(config::mask_api_key))
            .field("secret_key", &self.secret_key)
            .field("base_url", &self.base_url)
            .finish_non_exhaustive()
    }
}

impl ClientBuilder {
    /// The API key (`wc_ak_...`).
    pub fn api_key(mut self, api_key: impl Into<String>) -> Self {
        self.api_key = Some(api_key.into());
        self
    }

    /// The secret key (`wc_sk_...`) that signs requests.
    pub fn secret_key(mut self, secret_key: impl Into<String>) -> Self {
        self.secret_key = Some(SecretString::new(secret_key));
        self
    }

    /// The platform's base URL; default `https://platform.smartai.app`.
    pub fn base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = Some(base_url.into());
        self
    }

    /// The timeout of one attempt, response body included; default 30 s.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// The connect timeout; default 10 s.
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Retries after the first attempt; default 3.
    pub fn max_retries(mut self, retries: u32) -> Self {
        self.retry.max_retries = retries;
        self
    }

    /// The whole retry policy (attempts, base and cap of the backoff).
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// The idle-poll gate: after a fetch that found the queue empty, the next fetch waits
    /// this long. Default 5 s, the platform's limit; 0 turns it off (for tests).
    pub fn min_poll_interval(mut self, interval: Duration) -> Self {
        self.min_poll_interval = Some(interval);
        self
    }

    /// Permits `http://` to a host that is not loopback. The API key then crosses the
    /// network in clear text; use this only inside a trusted network.
    pub fn allow_insecure_http(mut self, allow: bool) -> Self {
        self.allow_insecure_http = allow;
        self
    }

    /// How the error for a refused plain-http base URL ends, for a caller that does not call
    /// [`ClientBuilder::allow_insecure_http`] itself: `"pass --allow-insecure-http"` for a
    /// command line. By default `"set allow_insecure_http"`.
    #[doc(hidden)]
    pub fn insecure_http_hint(mut self, hint: impl Into<String>) -> Self {
        self.insecure_http_hint = Some(hint.into());
        self
    }

    /// Which SDK is calling, for the `user-agent` (`rust`, `python`, `node`).
    #[doc(hidden)]
    pub fn sdk_language(mut self, language: &'static str) -> Self {
        self.sdk_language = Some(language);
        self
    }

    /// Validates the options and builds the client.
    pub fn build(self) -> Result<AssessmentClient> {
        let api_key = config::resolve_key(self.api_key, config::ENV_API_KEY, "API key")?
            .ok_or_else(|| Error::configuration("Missing API key"))?;
        let secret = self.secret_key.map(|s| s.expose().to_string());
        let secret_key = config::resolve_key(secret, config::ENV_SECRET_KEY, "secret key")?
            .ok_or_else(|| Error::configuration("Missing secret key"))?;
        for (name, value) in [("API key", &api_key), ("secret key", &secret_key)] {
            if value.chars().any(|c| c.is_control() || c.is_whitespace()) || !value.is_ascii() {
                return Err(Error::configuration(format!(
                    "the {name} contains whitespace or characters that cannot go in an HTTP header"
                )));
            }
        }
        let hint = self.insecure_http_hint.as_deref().unwrap_or("set allow_insecure_http");
        let base_url =
            config::parse_base_url(&config::resolve_base_url(self.base_url)?, self.allow_insecure_http, hint)?;
        if self.retry.max_retries > MAX_RETRIES {
            return Err(Error::invalid_argument(format!(
                "max_retries must be from 0 to {MAX_RETRIES}, got {}",
                self.retry.max_retries
            )));
        }
        if self.retry.max_delay < self.retry.base_delay {
            // The doubling would start above its own cap, so every backoff would be the cap:
            // almost always two fields swapped.
            return Err(Error::invalid_argument(format!(
                "retry_policy.max_delay ({:?}) must not be shorter than retry_policy.base_delay ({:?})",
                self.retry.max_delay, self.retry.base_delay
            )));
        }
        let timeout = positive("timeout", self.timeout.unwrap_or(Duration::from_secs(30)))?;
        let connect_timeout = positive("connect_timeout", self.connect_timeout.unwrap_or(Duration::from_secs(10)))?;
        let min_poll_interval = self.min_poll_interval.unwrap_or(Duration::from_secs(5));
        let config = Config {
            api_key,
            secret_key: SecretString::new(secret_key),
            base_url,
            timeout,
            connect_timeout,
            retry: self.retry,
            min_poll_interval,
            user_agent: format!(
                "smartai-events/{} ({})",
                env!("CARGO_PKG_VERSION"),
                self.sdk_language.unwrap_or("rust")
            ),
        };
        Ok(AssessmentClient {
            inner: Arc::new(Inner {
                transport: Transport::new(config)?,
                gate: PollGate::new(min_poll_interval),
                health: HealthTracker::default(),
                spare_body: SpareBody::default(),
                closed: CancellationToken::new(),
            }),
        })
    }
}

/// More retries than this would keep a call against a dead server going for hours.
const MAX_RETRIES: u32 = 100;

fn positive(name: &str, d: Duration) -> Result<Duration> {
    if d.is_zero() {
        return Err(Error::invalid_argument(format!("{name} must be greater than 0")));
    }
    Ok(d)
}

impl AssessmentClient {
    /// A builder; see [`ClientBuilder`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A client configured from `ASSESSMENT_API_KEY`, `ASSESSMENT_SECRET_KEY` and
    /// `ASSESSMENT_BASE_URL`.
    pub fn from_env() -> Result<Self> {
        Self::builder().build()
    }

    /// The client's validated configuration.
    pub fn config(&self) -> &Config {
        &self.inner.transport.config
    }

    /// `Test` for a `wc_ak_test_` key, `Live` otherwise.
    pub fn environment(&self) -> Environment {
        self.config().environment()
    }

    /// A snapshot of polling health.
    pub fn health(&self) -> Health {
        self.inner.health.snapshot()
    }

    /// Closes the client and every clone of it. Calls in flight end at once with
    /// [`Error::Closed`] (code `CANCELLED`; a drain's batch in hand is not acknowledged, so it comes back),
    /// later calls fail with it, and a [`run`](AssessmentClient::run) stops as its `stop`
    /// would stop it: the handler in progress finishes and its batch is acknowledged. A run
    /// whose `stop` has come as well no longer waits for its handler: a close is the way out
    /// of a handler that never returns (its batch is not acknowledged and comes back).
    /// Idempotent.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")] async fn main() {
    /// use smartai_events::{AssessmentClient, Error, FetchOptions};
    /// let client = AssessmentClient::builder()
    ///     .api_key("wc_ak_test_0123456789")
    ///     .secret_key("wc_sk_test_secret")
    ///     .base_url("http://127.0.0.1:9")
    ///     .build()
    ///     .unwrap();
    /// client.close();
    /// assert!(client.is_closed());
    /// let err = client.get_webhook_events(FetchOptions::new()).await.unwrap_err();
    /// assert!(matches!(err, Error::Closed));
    /// assert_eq!(err.to_string(), "cancelled: the client was closed");
    /// # }
    /// ```
    pub fn close(&self) {
        self.inner.closed.cancel();
    }

    /// Whether [`AssessmentClient::close`] was called on this client or a clone of it.
    pub fn is_closed(&self) -> bool {
        self.inner.closed.is_cancelled()
    }

    /// The token that [`AssessmentClient::close`] cancels.
    pub(crate) fn closed_token(&self) -> CancellationToken {
        self.inner.closed.clone()
    }

    /// `call`, ended with [`Error::Closed`] when the client is closed, or refused at once
    /// if it is closed already.
    ///
    /// A call that fails once the client is closed fails with [`Error::Closed`] too: the
    /// close can come in the very poll in which the call ends (a handler that closes the
    /// client and then fails, from this thread or another), and the call was in flight when
    /// the client closed. What it did not acknowledge comes back.
    pub(crate) async fn until_closed<T>(&self, call: impl Future<Output = Result<T>>) -> Result<T> {
        tokio::select! {
            biased;
            _ = self.inner.closed.cancelled() => Err(Error::Closed),
            result = call => result.map_err(|e| if self.is_closed() { Error::Closed } else { e }),
        }
    }

    /// Fetches up to `limit` events without removing them. Wait for the idle-poll gate
    /// first if the previous fetch found the queue empty.
    pub async fn get_webhook_events(&self, options: FetchOptions) -> Result<WebhookEventBatch> {
        self.get_webhook_events_as(options).await
    }

    /// [`AssessmentClient::get_webhook_events`] with the events as `E`, for example
    /// [`RawEvent`](crate::RawEvent)s, which are checked but not built.
    ///
    /// ```no_run
    /// # async fn demo(client: smartai_events::AssessmentClient) -> smartai_events::Result<()> {
    /// use smartai_events::{FetchOptions, RawEvent};
    /// let batch = client.get_webhook_events_as::<RawEvent>(FetchOptions::new()).await?;
    /// for event in &batch.events {
    ///     println!("{} {}", event.event_type(), event.raw_json());
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn get_webhook_events_as<E: QueueEvent>(&self, options: FetchOptions) -> Result<WebhookEventBatch<E>> {
        self.until_closed(self.fetch_as(options)).await
    }

    /// [`AssessmentClient::get_webhook_events_as`] as a drive uses it, which decides itself
    /// what closing ends.
    pub(crate) async fn fetch_as<E: QueueEvent>(&self, options: FetchOptions) -> Result<WebhookEventBatch<E>> {
        let (limit, since) = options.validated()?;
        let turn = self.inner.gate.wait().await;
        let mut query = vec![("limit", limit.to_string())];
        if let Some(since) = since {
            query.push(("since", since.to_string()));
        }
        let call = Call { method: Method::GET, path: EVENTS_PATH, query, body: None };
        let span = tracing::info_span!("smartai.poll", limit, since);
        let spare = &self.inner.spare_body;
        let result = self.inner.transport.execute_as(&call, Some(spare), |status, bytes, retry_after, context| {
            read_batch_keeping(status, bytes, retry_after, context, Some(spare))
        });
        let result = tracing::Instrument::instrument(result, span).await;
        match &result {
            Ok(batch) => {
                turn.record(batch.pending_count);
                self.inner.health.poll_succeeded(batch.events.len(), batch.pending_count);
                tracing::debug!(events = batch.events.len(), pending = batch.pending_count, "fetched");
            }
            Err(e) => self.inner.health.failed(e),
        }
        result
    }

    /// Acknowledges events so that the platform removes them. Duplicates are sent once, and
    /// more than 100 IDs go in several requests; the result is the sum. IDs already
    /// acknowledged are skipped by the server without error.
    pub async fn acknowledge_webhook_events<S: AsRef<str>>(&self, event_ids: &[S]) -> Result<AcknowledgeResult> {
        let ids = validate::event_ids(event_ids)?;
        self.until_closed(self.acknowledge_validated(&ids)).await
    }

    pub(crate) async fn acknowledge_validated(&self, ids: &[String]) -> Result<AcknowledgeResult> {
        let mut total = 0;
        for chunk in ids.chunks(ACK_CHUNK) {
            let body = canonical::event_ids_body(chunk);
            let call = Call { method: Method::POST, path: ACK_PATH, query: vec![], body: Some(body) };
            let span = tracing::info_span!("smartai.ack", ids = chunk.len());
            let result = self.inner.transport.execute(&call, |text| {
                let data = parse_value(&text)?;
                data.get("acknowledged").and_then(Value::as_u64).ok_or_else(|| Error::Decode {
                    // The text, not only its kind: `{"acknowledged":1.0}` is "an object" too.
                    message: format!(
                        "expected {{\"acknowledged\": <non-negative integer>}}, got {}",
                        validate::shorten(&text, 120)
                    ),
                    context: Default::default(),
                })
            });
            let acknowledged = match tracing::Instrument::instrument(result, span).await {
                Ok(acknowledged) => acknowledged,
                Err(e) => {
                    self.inner.health.failed(&e);
                    return Err(e);
                }
            };
            self.inner.health.acknowledged(acknowledged);
            total += acknowledged;
        }
        tracing::debug!(requested = ids.len(), acknowledged = total, "acknowledged");
        Ok(AcknowledgeResult { acknowledged: total })
    }

    /// Creates a candidate session and returns its token.
    pub async fn create_session(&self, request: SessionRequest) -> Result<SessionToken> {
        self.until_closed(self.create_session_now(request)).await
    }

    async fn create_session_now(&self, request: SessionRequest) -> Result<SessionToken> {
        request.validate()?;
        let body = serde_json::to_value(&request).map_err(|e| Error::invalid_argument(e.to_string()))?;
        let call =
            Call { method: Method::POST, path: SESSIONS_PATH, query: vec![], body: Some(canonical::to_string(&body)) };
        self.inner
            .transport
            .execute(&call, |text| {
                let data = parse_value(&text)?;
                serde_json::from_value::<SessionToken>(data.clone()).map_err(|e| Error::Decode {
                    message: format!("expected {{\"token\", \"expiresAt\"}} ({e}), got {}", validate::describe(&data)),
                    context: Default::default(),
                })
            })
            .await
    }
}

/// The fetch response, with each event left as its JSON text.
#[derive(serde::Deserialize)]
struct FetchData<'a> {
    #[serde(borrow)]
    events: Vec<&'a serde_json::value::RawValue>,
    #[serde(rename = "pendingCount")]
    pending_count: u64,
}

pub(crate) fn decode_batch<E: QueueEvent>(text: String) -> Result<WebhookEventBatch<E>> {
    // The events are decoded once the body has proved to be of the usual shape; otherwise
    // serde reads it below, and an event that does not decode would be reported twice.
    let mut ranges = Vec::with_capacity(100);
    let split = walk_fetch_body(&text, |rest| {
        let len = value_end(rest.as_bytes(), 0)?;
        let start = text.len() - rest.len();
        ranges.push(start..start + len);
        Some(len)
    });
    if let Some(pending_count) = split {
        let events = ranges.into_iter().map(|range| E::read_checked(&text[range])).collect();
        return Ok(WebhookEventBatch { events, pending_count });
    }
    let data: FetchData = serde_json::from_str(&text).map_err(|e| Error::Decode {
        message: format!(
            "expected {{\"events\": [...], \"pendingCount\": <non-negative integer>}} ({}), got {}",
            // serde quotes a mistyped string whole, however long.
            validate::shorten(&e.to_string(), 200),
            validate::shorten(&text, 120)
        ),
        context: Default::default(),
    })?;
    let events = data.events.into_iter().map(|raw| E::read_checked(raw.get())).collect();
    Ok(WebhookEventBatch { events, pending_count: data.pending_count })
}

/// Reads a fetch response straight into a batch, in one pass over a body of the usual
/// shape (see [`walk_fetch_body`]): the structure here, each event by its own decode, which
/// also finds where the event ends (or, for an event that does not decode, on its own).
/// Nothing else checks the body as JSON here: that is the check [`transport::classify`]
/// makes with a pass of its own; if this one fails, `classify` itself gives the answer, so
/// every outcome is what `classify` and then [`decode_batch`] would give.
///
/// The events of the usual shape keep their text and ID as ranges of the body, which they
/// share (see `json_text`).
pub(crate) fn read_batch<E: QueueEvent>(
    status: reqwest::StatusCode,
    bytes: Vec<u8>,
    retry_after: Option<std::time::Duration>,
    context: &dyn Fn(Option<String>) -> crate::error::ErrorContext,
) -> Outcome<WebhookEventBatch<E>> {
    read_batch_keeping(status, bytes, retry_after, context, None)
}

/// [`read_batch`], the body then kept in `spare` for the next fetch to reuse.
fn read_batch_keeping<E: QueueEvent>(
    status: reqwest::StatusCode,
    bytes: Vec<u8>,
    retry_after: Option<std::time::Duration>,
    context: &dyn Fn(Option<String>) -> crate::error::ErrorContext,
    spare: Option<&SpareBody>,
) -> Outcome<WebhookEventBatch<E>> {
    if !status.is_success() {
        return classify_then_decode(status, &bytes, retry_after, context);
    }
    let body = match String::from_utf8(bytes) {
        Ok(text) => Arc::new(text),
        Err(e) => return classify_then_decode(status, e.as_bytes(), retry_after, context),
    };
    if let Some(spare) = spare {
        spare.keep(&body);
    }
    let mut events = Vec::with_capacity(100);
    // An event the fast read is not sure of is decoded once the whole body has proved to be
    // of the usual shape: otherwise `decode_batch` reads every event again, and one that
    // does not decode would be reported (logged) twice. (Its place in the batch, its range.)
    let mut later: Vec<(usize, std::ops::Range<usize>)> = Vec::new();
    let split = walk_fetch_body(&body, |rest| {
        if let Some((event, len)) = E::read_fast_prefix(rest, &body) {
            events.push(event);
            return Some(len);
        }
        let len = value_end(rest.as_bytes(), 0)?;
        serde_json::from_str::<serde::de::IgnoredAny>(&rest[..len]).ok()?;
        let start = body.len() - rest.len();
        later.push((events.len() + later.len(), start..start + len));
        Some(len)
    });
    match split {
        Some(pending_count) if later.is_empty() => Outcome::Success(WebhookEventBatch { events, pending_count }),
        Some(pending_count) => {
            let mut fast = events.into_iter();
            let mut later = later.into_iter().peekable();
            let events = (0..fast.len() + later.len())
                .filter_map(|at| match later.next_if(|(place, _)| *place == at) {
                    Some((_, range)) => Some(E::read_checked(&body[range])),
                    None => fast.next(),
                })
                .collect();
            Outcome::Success(WebhookEventBatch { events, pending_count })
        }
        None => classify_then_decode(status, body.as_bytes(), retry_after, context),
    }
}

/// The reading in two passes that [`read_batch`] shortcuts: [`transport::classify`], then
/// [`decode_batch`] of its text.
fn classify_then_decode<E: QueueEvent>(
    status: reqwest::StatusCode,
    bytes: &[u8],
    retry_after: Option<std::time::Duration>,
    context: &dyn Fn(Option<String>) -> crate::error::ErrorContext,
) -> Outcome<WebhookEventBatch<E>> {
    transport::classify(status, bytes, retry_after, context).then_read(context, decode_batch)
}

/// Follows `{"events":[...],"pendingCount":<integer>}`, exactly that shape (JSON whitespace
/// allowed between tokens), and gives the count. Each event is left to `event`, which gets
/// the text from the event's first byte to the end of the body and says how long the event
/// is (or `None` to give up); the events themselves are not read here, so each is parsed
/// once, by its own decode. `None` for any other shape (other keys, another order, a count
/// that is not a plain non-negative integer); serde then reads the body and reports what
/// is wrong.
fn walk_fetch_body<'a>(text: &'a str, mut event: impl FnMut(&'a str) -> Option<usize>) -> Option<u64> {
    let b = text.as_bytes();
    let mut i = ws(b, 0);
    i = ws(b, literal(b, i, b"{")?);
    i = ws(b, literal(b, i, b"\"events\"")?);
    i = ws(b, literal(b, i, b":")?);
    i = ws(b, literal(b, i, b"[")?);
    if b.get(i) == Some(&b']') {
        i += 1;
    } else {
        loop {
            i = ws(b, i + event(&text[i..])?);
            match b.get(i)? {
                b',' => i = ws(b, i + 1),
                b']' => {
                    i += 1;
                    break;
                }
                _ => return None,
            }
        }
    }
    i = ws(b, i);
    i = ws(b, literal(b, i, b",")?);
    i = ws(b, literal(b, i, b"\"pendingCount\"")?);
    i = ws(b, literal(b, i, b":")?);
    let digits = b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    if digits > 1 && b[i] == b'0' {
        return None; // not JSON
    }
    let pending_count = text.get(i..i + digits)?.parse::<u64>().ok()?;
    i = ws(b, i + digits);
    i = ws(b, literal(b, i, b"}")?);
    (i == b.len()).then_some(pending_count)
}

fn ws(b: &[u8], mut i: usize) -> usize {
    while matches!(b.get(i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        i += 1;
    }
    i
}

fn literal(b: &[u8], i: usize, lit: &[u8]) -> Option<usize> {
    b.get(i..i + lit.len()).filter(|s| *s == lit).map(|_| i + lit.len())
}

/// Where the JSON value starting at `i` ends, in text known to be valid JSON.
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match b.get(i)? {
        b'"' => string_end(b, i),
        b'{' | b'[' => {
            let mut depth = 0usize;
            let mut j = i;
            loop {
                // Most of an event is string contents, which memchr skips fast.
                j += b.get(j..)?.iter().position(|c| matches!(c, b'"' | b'{' | b'}' | b'[' | b']'))?;
                match b[j] {
                    b'"' => {
                        j = string_end(b, j)?;
                        continue;
                    }
                    b'{' | b'[' => depth += 1,
                    _ => {
                        depth -= 1;
                        if depth == 0 {
                            return Some(j + 1);
                        }
                    }
                }
                j += 1;
            }
        }
        _ => {
            let len =
                b[i..].iter().take_while(|c| !matches!(c, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r')).count();
            (len > 0).then_some(i + len)
        }
    }
}

/// The index just past the string that opens at `i`.
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        j += memchr::memchr2(b'"', b'\\', b.get(j..)?)?;
        if b[j] == b'"' {
            return Some(j + 1);
        }
        j += 2;
    }
}

fn parse_value(text: &str) -> Result<Value> {
    serde_json::from_str(text).map_err(|e| Error::Decode {
        message: format!("expected JSON ({e}), got {}", validate::shorten(text, 120)),
        context: Default::default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The walk with each value's end found by [`value_end`], as [`decode_batch`] does it.
    fn split_fetch_body(text: &str) -> Option<(Vec<&str>, u64)> {
        let mut events = Vec::new();
        let count = walk_fetch_body(text, |rest| {
            let len = value_end(rest.as_bytes(), 0)?;
            events.push(&rest[..len]);
            Some(len)
        })?;
        Some((events, count))
    }

    fn by_serde(text: &str) -> Option<(Vec<&str>, u64)> {
        let data: FetchData = serde_json::from_str(text).ok()?;
        Some((data.events.into_iter().map(|e| e.get()).collect(), data.pending_count))
    }

    fn outcome(o: Outcome<WebhookEventBatch>) -> std::result::Result<WebhookEventBatch, String> {
        match o {
            Outcome::Success(batch) => Ok(batch),
            Outcome::Retry { error, .. } | Outcome::AuthFailed(error) | Outcome::Fail(error) => {
                Err(format!("{error:?}"))
            }
        }
    }

    fn context(status: reqwest::StatusCode) -> impl Fn(Option<String>) -> crate::error::ErrorContext {
        move |m| crate::error::ErrorContext {
            status: Some(status.as_u16()),
            request_id: Some("r".into()),
            server_message: m,
            retry_after: None,
        }
    }

    fn two_steps(status: reqwest::StatusCode, bytes: &[u8]) -> std::result::Result<WebhookEventBatch, String> {
        outcome(classify_then_decode(status, bytes, None, &context(status)))
    }

    fn one_step(status: reqwest::StatusCode, bytes: &[u8]) -> std::result::Result<WebhookEventBatch, String> {
        outcome(read_batch(status, bytes.to_vec(), None, &context(status)))
    }

    #[test]
    fn an_event_that_does_not_decode_is_reported_once_whatever_the_body_shape() {
        use std::sync::{Arc, Mutex};
        #[derive(Clone, Default)]
        struct Lines(Arc<Mutex<Vec<u8>>>);
        impl std::io::Write for Lines {
            fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(buf);
                Ok(buf.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        let bad = r#"{"eventId":"e1","event":"assessment.sent","assessmentId":"a","candidates":"nope","storedAt":"2026-06-09T10:31:00Z"}"#;
        let good = r#"{"eventId":"e2","event":"assessment.reviewed","storedAt":"2026-06-09T10:31:00Z"}"#;
        // The usual shape, then one with a key after pendingCount, which the fast walk does
        // not follow to the end: the whole body is then read again by serde.
        for body in [
            format!(r#"{{"events":[{good},{bad},{good}],"pendingCount":0}}"#),
            format!(r#"{{"events":[{good},{bad},{good}],"pendingCount":0,"hasMore":false}}"#),
        ] {
            let lines = Lines::default();
            let writer = lines.clone();
            let subscriber = tracing_subscriber::fmt().with_writer(move || writer.clone()).with_ansi(false).finish();
            let batch = tracing::subscriber::with_default(subscriber, || {
                one_step(reqwest::StatusCode::OK, body.as_bytes()).unwrap()
            });
            let ids: Vec<_> = batch.events.iter().map(|e| e.event_id()).collect();
            assert_eq!(ids, ["e2", "e1", "e2"], "{body}");
            assert!(batch.events[1].decode_error().is_some());
            let logged = String::from_utf8(lines.0.lock().unwrap().clone()).unwrap();
            assert_eq!(logged.matches("event did not decode").count(), 1, "{body}\n{logged}");
        }
    }

    #[test]
    fn reading_a_batch_in_one_step_gives_what_two_steps_give() {
        use rand::{Rng, SeedableRng};
        let event = r#"{"eventId":"evt_1","event":"assessment.completed","assessmentId":"a","candidateId":"c","candidateName":"Zoë","candidateEmail":"z@x","score":78,"totalMarks":100,"passMarks":60,"passed":true,"status":"completed","questionAnswers":[{"q":"\"}"}],"proctoring":{"score":88,"tabSwitches":2},"verification":{"imageUrl":"u"},"storedAt":"2026-06-09T10:31:00.000Z"}"#;
        let sent = r#"{"eventId":"e2","event":"assessment.sent","storedAt":"2026-06-09T10:31:00Z","assessmentId":"a","candidates":[{"id":"c","name":"Z","email":"z@x"}]}"#;
        let other = r#"{"eventId":"e3","event":"assessment.reviewed","storedAt":"2026-06-09T10:31:00Z"}"#;
        let body =
            format!(r#"{{"events":[{event},{sent},{other},7,{}],"pendingCount":3}}"#, event.replace("78", "\"x\""));
        let ok = reqwest::StatusCode::OK;
        assert!(one_step(ok, body.as_bytes()).is_ok());
        assert_eq!(one_step(ok, body.as_bytes()), two_steps(ok, body.as_bytes()));
        // Every single-byte change of the body (a deterministic sample), and some statuses.
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let alphabet = b"{}[]\",:0123456789 -.eE\\tnulrfa\x01\xc3";
        for _ in 0..4000 {
            let mut bytes = body.clone().into_bytes();
            let at = rng.random_range(0..bytes.len());
            match rng.random_range(0..3) {
                0 => bytes[at] = alphabet[rng.random_range(0..alphabet.len())],
                1 => {
                    bytes.remove(at);
                }
                _ => bytes.insert(at, alphabet[rng.random_range(0..alphabet.len())]),
            }
            assert_eq!(one_step(ok, &bytes), two_steps(ok, &bytes), "{}", String::from_utf8_lossy(&bytes));
        }
        for status in [201u16, 204, 400, 401, 429, 500, 503] {
            let status = reqwest::StatusCode::from_u16(status).unwrap();
            assert_eq!(one_step(status, body.as_bytes()), two_steps(status, body.as_bytes()));
        }
        for body in [r#"{"success":true,"data":{"events":[],"pendingCount":0}}"#, r#"{"events":[],"pendingCount":00}"#]
        {
            assert_eq!(one_step(ok, body.as_bytes()), two_steps(ok, body.as_bytes()), "{body}");
        }
    }

    #[test]
    fn the_events_of_a_batch_share_its_body() {
        use crate::raw_event::RawEvent;
        let sent = |id: &str| {
            format!(
                r#"{{"eventId":"{id}","event":"assessment.sent","storedAt":"2026-06-09T10:31:00Z","assessmentId":"a","candidates":[]}}"#
            )
        };
        let body = format!(r#"{{"events":[{},{}],"pendingCount":0}}"#, sent("e1"), sent(r"e\u0032"));
        let batch = match read_batch::<RawEvent>(
            reqwest::StatusCode::OK,
            body.clone().into_bytes(),
            None,
            &context(reqwest::StatusCode::OK),
        ) {
            Outcome::Success(batch) => batch,
            _ => panic!("the body reads as a batch"),
        };
        let [plain, escaped] = &batch.events[..] else { panic!("two events") };
        assert_eq!((plain.event_id(), escaped.event_id()), ("e1", "e2"));
        assert_eq!(plain.raw_json(), sent("e1"));
        assert_eq!(escaped.raw_json(), sent(r"e\u0032"));
        // Both texts and the plain ID point into one shared copy of the body; the escaped
        // ID, which is not a range of it, is a string of its own.
        let base = plain.raw_json().as_ptr() as usize - r#"{"events":["#.len();
        let shared = |text: &str| {
            let at = text.as_ptr() as usize;
            at >= base && at + text.len() <= base + body.len()
        };
        assert!(shared(plain.event_id()) && shared(escaped.raw_json()));
        assert!(!shared(escaped.event_id()));
        // Every event keeps the body alive on its own.
        let kept = batch.events.into_iter().next_back().unwrap();
        assert_eq!(kept.raw_json(), sent(r"e\u0032"));
    }

    #[test]
    fn the_structural_split_matches_serde_or_declines() {
        let bodies = [
            r#"{"events":[],"pendingCount":0}"#,
            r#"{"events":[{"eventId":"a","x":{"y":[1,{"z":"}"}]}},{"eventId":"b\"}]"}],"pendingCount":12}"#,
            " {\n \"events\" : [ {\"a\":\"\\\\\"} , 7 , \"s\" , null , [] , -1.5e3 , true ] ,\t\"pendingCount\" : 3 } ",
            r#"{"events":[{"n":"Zoë 王 😀","e":"\u00e9\ud83d\ude00"}],"pendingCount":18446744073709551615}"#,
        ];
        for body in bodies {
            assert_eq!(split_fetch_body(body), by_serde(body), "{body}");
            assert!(split_fetch_body(body).is_some(), "{body}");
        }
        // Other shapes are left to serde, which accepts some and explains the rest.
        for body in [
            r#"{"pendingCount":0,"events":[]}"#,
            r#"{"events":[],"pendingCount":0,"extra":1}"#,
            r#"{"events":[],"pendingCount":1.0}"#,
            r#"{"events":[],"pendingCount":-1}"#,
            r#"{"events":[],"pendingCount":18446744073709551616}"#,
            r#"{"events":{},"pendingCount":0}"#,
            r#"[{"events":[],"pendingCount":0}]"#,
        ] {
            assert_eq!(split_fetch_body(body), None, "{body}");
        }
    }

    /// A fetch reads into the memory of the body before it once no event holds that body,
    /// and into memory of its own while one does.
    #[tokio::test]
    async fn a_fetch_reuses_the_last_body_once_its_events_are_gone() {
        use crate::raw_event::RawEvent;
        use crate::{AssessmentClient, FetchOptions};
        let config = smartai_emulator::EmulatorConfig {
            rate_limit: smartai_emulator::RateLimitConfig::disabled(),
            ..Default::default()
        };
        let emu = smartai_emulator::Emulator::start(config).await.expect("emulator starts");
        emu.generate(120);
        let client = AssessmentClient::builder()
            .api_key(emu.api_key())
            .secret_key(emu.secret_key())
            .base_url(emu.url())
            .min_poll_interval(std::time::Duration::ZERO)
            .build()
            .unwrap();
        let fetch = || client.get_webhook_events_as::<RawEvent>(FetchOptions::new().limit(100));
        let body_of = |events: &[RawEvent]| {
            let body = events[0].body().expect("the event is a range of its body");
            (body.as_ptr(), body.capacity())
        };

        let first = fetch().await.unwrap();
        assert_eq!(first.events.len(), 100);
        let (first_at, first_capacity) = body_of(&first.events);
        let ids: Vec<&str> = first.events.iter().map(RawEvent::event_id).collect();
        client.acknowledge_webhook_events(&ids).await.unwrap();
        drop(first);

        // 20 events: a body a fifth the size, read into the first one's allocation.
        let second = fetch().await.unwrap();
        assert_eq!(second.events.len(), 20);
        assert_eq!(body_of(&second.events), (first_at, first_capacity));
        let expected: Vec<String> = second.events.iter().map(|e| e.raw_json().to_string()).collect();

        // `second` is held: the next body has memory of its own, and `second` is intact.
        let third = fetch().await.unwrap();
        assert_ne!(body_of(&third.events).0, first_at);
        let held: Vec<&str> = second.events.iter().map(RawEvent::raw_json).collect();
        assert_eq!(held, expected);
    }
}
