//! Entry points for the fuzz targets (`fuzz/`) and the property tests (`core/tests/`).
//!
//! Not part of the public API: no stability promise. Each function is a thin door onto the
//! code path the client itself runs, so that what is fuzzed is what ships.

use crate::error::{Error, ErrorContext, Result};
use crate::queue_event::QueueEvent;
use crate::retry::parse_retry_after;
use crate::transport::{self, Outcome};
use crate::types::WebhookEventBatch;
use reqwest::StatusCode;
use std::time::{Duration, SystemTime};

/// The `x-request-id` the errors made here carry, as a real call's errors carry its own.
pub const REQUEST_ID: &str = "fuzz-request";

/// How the client would treat one response.
#[derive(Debug)]
pub enum Classified {
    /// A 2xx with a usable body: the data as JSON text, any success envelope removed.
    Success(String),
    /// Worth another attempt (408, 429, 5xx that may pass); `retry_after` is the floor of the next sleep.
    Retry { error: Error, retry_after: Option<Duration> },
    /// A 401 or 403: retried at most once, after a clock-skew correction.
    AuthFailed(Error),
    /// Final: not retried.
    Fail(Error),
}

/// Turns a fetch response body, as a 200 would bring it, into a batch: the same envelope
/// unwrapping and batch decoding as [`crate::AssessmentClient::get_webhook_events`].
pub fn decode_fetch_body(body: &[u8]) -> Result<WebhookEventBatch> {
    decode_fetch_body_as(body)
}

/// [`decode_fetch_body`] with the events as `E`, as `get_webhook_events_as` reads them.
pub fn decode_fetch_body_as<E: QueueEvent>(body: &[u8]) -> Result<WebhookEventBatch<E>> {
    let context = |server_message: Option<String>| ErrorContext {
        status: Some(200),
        request_id: Some(REQUEST_ID.to_string()),
        server_message,
        retry_after: None,
    };
    match crate::client::read_batch(StatusCode::OK, body.to_vec(), None, &context) {
        Outcome::Success(batch) => Ok(batch),
        Outcome::Fail(error) | Outcome::AuthFailed(error) | Outcome::Retry { error, .. } => Err(error),
    }
}

/// Classifies a response as one attempt of a call does: `status`, the body bytes and the
/// `Retry-After` header text (read relative to `now`). `None` for a status outside 100..=999,
/// which no HTTP response can carry.
pub fn classify_response(
    status: u16,
    body: &[u8],
    retry_after_header: Option<&str>,
    now: SystemTime,
) -> Option<Classified> {
    let status = StatusCode::from_u16(status).ok()?;
    let retry_after = retry_after_header.and_then(|v| parse_retry_after(v, now));
    let context = |server_message: Option<String>| ErrorContext {
        status: Some(status.as_u16()),
        request_id: Some(REQUEST_ID.to_string()),
        server_message,
        retry_after: None,
    };
    Some(match transport::classify(status, body, retry_after, context) {
        Outcome::Success(text) => Classified::Success(text),
        Outcome::Retry { error, retry_after } => Classified::Retry { error, retry_after },
        Outcome::AuthFailed(error) => Classified::AuthFailed(error),
        Outcome::Fail(error) => Classified::Fail(error),
    })
}

/// The server's message from an error body, as an error surfaces it.
pub fn error_message(body: &[u8]) -> Option<String> {
    transport::error_message(body)
}
