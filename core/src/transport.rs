//! One logical call on the wire: sign, send, classify the response, retry.
//!
//! Every attempt is signed afresh (the timestamp moves on) while the `x-request-id` stays
//! the same across the retries of one call, so that server logs can tie them together.

use crate::clock::SkewClock;
use crate::config::Config;
use crate::error::{Error, ErrorContext, Result};
use crate::retry::{self, parse_retry_after};
use crate::signing;
use crate::spare_body::SpareBody;
use crate::validate::shorten;
use reqwest::{Method, StatusCode};
use serde_json::Value;
use std::time::{Duration, SystemTime};

/// A response body larger than this is refused rather than buffered.
pub const MAX_RESPONSE_BYTES: usize = 64 * 1024 * 1024;

/// How much of an unexpected body an error message quotes.
const EXCERPT_CHARS: usize = 120;

pub(crate) struct Transport {
    http: reqwest::Client,
    pub(crate) config: Config,
    pub(crate) clock: SkewClock,
    /// The proxy the environment sends requests to the base URL through, as
    /// `scheme://host:port` (no credentials), for the messages of connection errors.
    proxy: Option<String>,
}

/// One API call, before signing.
pub(crate) struct Call {
    pub method: Method,
    /// The path below the base URL, such as `/api/v1/webhook/events`.
    pub path: &'static str,
    pub query: Vec<(&'static str, String)>,
    /// The body as canonical JSON (`canonical`), the exact text that is signed and sent.
    pub body: Option<String>,
}

/// How one attempt ended. `T` is what a success carries: the response data as JSON text
/// ([`classify`]), or what a call-specific reading made of it.
pub(crate) enum Outcome<T = String> {
    /// The response data as JSON text, any success envelope removed.
    Success(T),
    /// Worth another attempt; the error is what the caller sees if none is left.
    Retry {
        error: Error,
        retry_after: Option<Duration>,
    },
    /// A 401 or 403; it may be retried once if the clock turns out to be skewed.
    AuthFailed(Error),
    Fail(Error),
}

impl Transport {
    pub(crate) fn new(config: Config) -> Result<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(config.connect_timeout)
            .pool_idle_timeout(Duration::from_secs(60))
            .user_agent(config.user_agent.clone())
            // A redirect would carry the API key and a replayable signature (custom headers,
            // which reqwest keeps across origins) to wherever `Location` points, and could
            // turn https into http. A 3xx is an error that names it instead.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|e| Error::configuration(format!("could not build the HTTP client: {e}")))?;
        let proxy = proxy_for(&config.base_url);
        if let Some(proxy) = &proxy {
            tracing::debug!(proxy, "requests go through the proxy the environment sets");
        }
        Ok(Transport { http, config, clock: SkewClock::default(), proxy })
    }

    /// Sends `call`, retrying as the protocol says, and returns what `read` makes of the
    /// response data: its JSON text, with any `{"success":true,"data":...}` envelope
    /// removed. A `DECODE` error from `read` carries the response's status and request ID.
    pub(crate) async fn execute<T>(&self, call: &Call, read: impl Fn(String) -> Result<T>) -> Result<T> {
        self.execute_as(call, None, |status, bytes, retry_after, context| {
            classify(status, &bytes, retry_after, context).then_read(context, &read)
        })
        .await
    }

    /// [`Transport::execute`] with the response read by `read` instead of [`classify`], so a
    /// call can decode its body as part of reading it (and keep it: `read` owns the bytes);
    /// failures are retried alike. A body is read into the allocation that `spare` holds,
    /// when it holds one.
    pub(crate) async fn execute_as<T, R>(&self, call: &Call, spare: Option<&SpareBody>, read: R) -> Result<T>
    where
        R: Fn(StatusCode, Vec<u8>, Option<Duration>, &dyn Fn(Option<String>) -> ErrorContext) -> Outcome<T>,
    {
        // A v4 UUID from the thread's RNG: `Uuid::new_v4` asks the kernel for its bytes, a
        // system call on every request.
        let request_id = uuid::Builder::from_random_bytes(rand::random()).into_uuid().to_string();
        let body = call.body.as_deref();
        let mut url = self.config.base_url.clone();
        url.set_path(&format!("{}{}", self.config.base_url.path().trim_end_matches('/'), call.path));
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(call.query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        let policy = self.config.retry;
        let mut attempt: u32 = 0;
        let mut skew_retry_used = false;
        loop {
            let outcome = self.attempt(call, &url, body, &request_id, spare, &read).await;
            match outcome {
                Outcome::Success(value) => return Ok(value),
                Outcome::Fail(error) => return Err(error),
                Outcome::AuthFailed(error) => {
                    if !skew_retry_used && self.clock.correct_after_auth_failure() {
                        skew_retry_used = true;
                        tracing::info!(request_id, "retrying once with the corrected clock");
                        continue;
                    }
                    return Err(error);
                }
                Outcome::Retry { error, retry_after } => {
                    if attempt >= policy.max_retries {
                        return Err(error);
                    }
                    let sleep = policy.backoff(attempt, retry_after);
                    if error.code() == crate::ErrorCode::RateLimited {
                        tracing::warn!(
                            request_id,
                            path = call.path,
                            sleep_ms = sleep.as_millis() as u64,
                            "rate limited; backing off"
                        );
                    } else {
                        tracing::warn!(request_id, path = call.path, attempt = attempt + 1, sleep_ms = sleep.as_millis() as u64, error = %error, "retrying");
                    }
                    tokio::time::sleep(sleep).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn attempt<T, R>(
        &self,
        call: &Call,
        url: &url::Url,
        body: Option<&str>,
        request_id: &str,
        spare: Option<&SpareBody>,
        read: &R,
    ) -> Outcome<T>
    where
        R: Fn(StatusCode, Vec<u8>, Option<Duration>, &dyn Fn(Option<String>) -> ErrorContext) -> Outcome<T>,
    {
        let timestamp = self.clock.now_ms();
        let payload = signing::payload(call.method.as_str(), url.path(), timestamp, body.unwrap_or(""));
        let signature = signing::sign(self.config.secret_key.expose(), &payload);
        let mut request = self
            .http
            .request(call.method.clone(), url.clone())
            .timeout(self.config.timeout)
            .header("accept", "application/json")
            .header("x-api-key", &self.config.api_key)
            .header("x-timestamp", timestamp.to_string())
            .header("x-signature", signature)
            .header("x-request-id", request_id);
        if let Some(body) = body {
            request = request.header("content-type", "application/json").body(body.to_string());
        }
        let context = |status: Option<u16>, server_message: Option<String>| ErrorContext {
            status,
            request_id: Some(request_id.to_string()),
            server_message,
            retry_after: None,
        };

        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => return transport_failure(&e, context(None, None), self.config.timeout, self.proxy.as_deref()),
        };
        let status = response.status();
        if let Some(date) = response.headers().get("date").and_then(|v| v.to_str().ok()) {
            self.clock.observe_date(date);
        }
        let retry_after = response
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| parse_retry_after(v, SystemTime::now()));
        let buffer = spare.map(SpareBody::take).unwrap_or_default();
        let bytes = match read_body(response, buffer).await {
            Ok(bytes) => bytes,
            Err(BodyError::TooLarge) => {
                return Outcome::Fail(Error::Decode {
                    message: format!("the response body is larger than {MAX_RESPONSE_BYTES} bytes"),
                    context: context(Some(status.as_u16()), None),
                });
            }
            Err(BodyError::Transport(e)) => {
                return transport_failure(
                    &e,
                    context(Some(status.as_u16()), None),
                    self.config.timeout,
                    self.proxy.as_deref(),
                );
            }
        };
        read(status, bytes, retry_after, &|msg| context(Some(status.as_u16()), msg))
    }
}

enum BodyError {
    TooLarge,
    Transport(reqwest::Error),
}

/// Reads the body into `bytes` (empty, but maybe with room already).
async fn read_body(mut response: reqwest::Response, mut bytes: Vec<u8>) -> Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|n| n as usize > MAX_RESPONSE_BYTES) {
        return Err(BodyError::TooLarge);
    }
    bytes.reserve(response.content_length().unwrap_or(1024).min(1 << 20) as usize);
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Transport)? {
        if bytes.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(BodyError::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

impl Outcome<String> {
    /// The success's text read by `read`, whose error is a `DECODE` of this response.
    pub(crate) fn then_read<T>(
        self,
        context: &dyn Fn(Option<String>) -> ErrorContext,
        read: impl FnOnce(String) -> Result<T>,
    ) -> Outcome<T> {
        match self {
            Outcome::Success(text) => match read(text) {
                Ok(value) => Outcome::Success(value),
                Err(error) => Outcome::Fail(error.of_response(context(None))),
            },
            Outcome::Retry { error, retry_after } => Outcome::Retry { error, retry_after },
            Outcome::AuthFailed(error) => Outcome::AuthFailed(error),
            Outcome::Fail(error) => Outcome::Fail(error),
        }
    }
}

pub(crate) fn classify(
    status: StatusCode,
    bytes: &[u8],
    retry_after: Option<Duration>,
    context: impl Fn(Option<String>) -> ErrorContext,
) -> Outcome {
    let code = status.as_u16();
    if status.is_success() {
        return unwrap_envelope(bytes, &context);
    }
    let server_message = error_message(bytes);
    let message = server_message
        .clone()
        .unwrap_or_else(|| status.canonical_reason().map(str::to_string).unwrap_or_else(|| format!("HTTP {code}")));
    // Retry-After means something on 429 and 503 only.
    let retry_after = if code == 429 || code == 503 { retry_after } else { None };
    let ctx = ErrorContext { retry_after, ..context(server_message) };
    match code {
        400 | 422 => Outcome::Fail(Error::InvalidRequest { message, context: ctx }),
        401 | 403 => Outcome::AuthFailed(Error::Authentication { message, context: ctx }),
        404 | 405 => Outcome::Fail(Error::NotFound { message, context: ctx }),
        429 => Outcome::Retry { error: Error::RateLimited { message, retry_after, context: ctx }, retry_after },
        408 => Outcome::Retry {
            error: Error::Timeout { message: format!("HTTP 408: {message}"), context: ctx },
            retry_after,
        },
        c if retry::is_retryable_status(c) => {
            Outcome::Retry { error: Error::Server { message, context: ctx }, retry_after }
        }
        c if (400..500).contains(&c) => Outcome::Fail(Error::InvalidRequest { message, context: ctx }),
        c if (300..400).contains(&c) => Outcome::Fail(Error::Server {
            message: format!(
                "{message}: the server answered with a redirect, which is not followed \
                 (it would take the API key and signature elsewhere); check the base URL"
            ),
            context: ctx,
        }),
        _ => Outcome::Fail(Error::Server { message, context: ctx }),
    }
}

/// The parts of a success body that tell a bare body from an envelope. Deserialising it
/// checks the whole body's syntax without building a tree of it.
#[derive(serde::Deserialize)]
struct Envelope<'a> {
    #[serde(default)]
    success: Option<Value>,
    #[serde(borrow, default)]
    data: Option<&'a serde_json::value::RawValue>,
}

fn unwrap_envelope(bytes: &[u8], context: &impl Fn(Option<String>) -> ErrorContext) -> Outcome {
    let decode_error = |message: String| Outcome::Fail(Error::Decode { message, context: context(None) });
    let text = match std::str::from_utf8(bytes) {
        Ok(text) => text,
        Err(e) => return decode_error(format!("expected JSON ({e}); the body starts with {:?}", excerpt(bytes))),
    };
    let envelope = match serde_json::from_str::<Envelope>(text) {
        // serde also reads a struct from an array, field by position; every documented body is an object.
        Ok(_) if !text.trim_start().starts_with('{') => {
            return decode_error(format!(
                "expected a JSON object, got an array; the body starts with {:?}",
                excerpt(bytes)
            ));
        }
        Ok(envelope) => envelope,
        Err(e) => {
            return decode_error(format!("expected a JSON object ({e}); the body starts with {:?}", excerpt(bytes)));
        }
    };
    match envelope.success {
        Some(Value::Bool(true)) => match envelope.data {
            Some(data) if data.get().starts_with('{') => Outcome::Success(data.get().to_string()),
            Some(data) => decode_error(format!("expected \"data\" to be an object, got {}", shorten(data.get(), 120))),
            None => decode_error("a success envelope without \"data\"".to_string()),
        },
        Some(Value::Bool(false)) => {
            let message = error_message(bytes).unwrap_or_else(|| "the request failed".to_string());
            Outcome::Fail(Error::InvalidRequest { message: message.clone(), context: context(Some(message)) })
        }
        _ => Outcome::Success(text.to_string()),
    }
}

/// The server's message from `{"error":...}`, `{"message":...}` or `{"success":false,"error":...}`.
pub(crate) fn error_message(bytes: &[u8]) -> Option<String> {
    match serde_json::from_slice::<Value>(bytes) {
        Ok(value) => message_field(&value),
        Err(_) if bytes.is_empty() => None,
        Err(_) => Some(excerpt(bytes)),
    }
}

fn message_field(value: &Value) -> Option<String> {
    let field = value.get("error").or_else(|| value.get("message"))?;
    match field {
        Value::String(s) => Some(shorten(s, 500)),
        Value::Object(_) => field.get("message").and_then(Value::as_str).map(|s| shorten(s, 500)),
        _ => None,
    }
}

fn excerpt(bytes: &[u8]) -> String {
    let head = &bytes[..bytes.len().min(EXCERPT_CHARS * 4)];
    shorten(&String::from_utf8_lossy(head), EXCERPT_CHARS)
}

fn transport_failure<T>(
    error: &reqwest::Error,
    context: ErrorContext,
    timeout: Duration,
    proxy: Option<&str>,
) -> Outcome<T> {
    let mut message = error_chain(error);
    if let Some(proxy) = proxy {
        // reqwest names the URL asked for, not the proxy it connected to: without this, a
        // dead proxy reads as a dead platform.
        message.push_str(&format!(
            " (through the proxy {proxy} that HTTPS_PROXY, HTTP_PROXY or ALL_PROXY sets; NO_PROXY exempts a host)"
        ));
    }
    let error = if error.is_timeout() {
        Error::Timeout {
            message: format!("no complete response within {} s ({message})", timeout.as_secs_f64()),
            context,
        }
    } else if error.is_builder() || error.is_request() && error.url().is_none() {
        return Outcome::Fail(Error::configuration(format!("could not build the request: {message}")));
    } else {
        Error::Network { message, context, source: None }
    };
    Outcome::Retry { error, retry_after: None }
}

/// The proxy that reqwest will use for `base_url`, read from the environment by the same
/// matcher reqwest uses, shown without credentials.
fn proxy_for(base_url: &url::Url) -> Option<String> {
    let uri: http::Uri = base_url.as_str().parse().ok()?;
    let intercept = hyper_util::client::proxy::matcher::Matcher::from_system().intercept(&uri)?;
    let proxy = intercept.uri();
    let host = proxy.host()?;
    Some(match proxy.port_u16() {
        Some(port) => format!("{}://{host}:{port}", proxy.scheme_str().unwrap_or("http")),
        None => format!("{}://{host}", proxy.scheme_str().unwrap_or("http")),
    })
}

/// reqwest's own message is terse ("error sending request"); the cause chain says why.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = e.source();
    }
    parts.join(": ")
}
