//! Errors as the JavaScript facade receives them.
//!
//! napi cannot reject with a custom `error.code` from an `async fn` (it always says
//! `GenericFailure`), so every error leaves Rust as a napi error whose message is
//! [`MARKER`] followed by a JSON payload `{code, message, status, requestId, retryAfterMs,
//! serverMessage}`. `index.js` decodes it into the matching `SmartAIError` subclass.

use serde_json::{Value, json};
use smartai_events::{Error, ErrorCode};
use std::fmt;

/// Starts the message of every error the facade must translate.
pub const MARKER: &str = "\u{1}smartai-events-error:";

/// The error a JavaScript handler or dead-letter hook failed with. The facade keeps the
/// original JS error object and attaches it as the `cause`; Rust only carries its message.
#[derive(Debug)]
pub struct JsCallbackError(pub String);

impl fmt::Display for JsCallbackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for JsCallbackError {}

/// The payload for a core error.
pub fn payload(error: &Error) -> Value {
    json!({
        "code": error.code().as_str(),
        "message": error.to_string(),
        "status": error.status(),
        "requestId": error.request_id(),
        "retryAfterMs": error.retry_after().map(|d| d.as_millis() as f64),
        "serverMessage": error.server_message(),
    })
}

/// A core error as a napi error the facade decodes.
pub fn to_napi(error: Error) -> napi::Error {
    encode(payload(&error))
}

/// A binding-level error with one of the core's codes (for the emulator's own errors and
/// JavaScript type checks the core cannot see).
pub fn coded(code: ErrorCode, message: impl Into<String>) -> napi::Error {
    encode(json!({ "code": code.as_str(), "message": message.into() }))
}

fn encode(payload: Value) -> napi::Error {
    napi::Error::new(napi::Status::GenericFailure, format!("{MARKER}{payload}"))
}

/// `Result<T, smartai_events::Error>` to `napi::Result<T>`.
pub trait IntoNapi<T> {
    fn napi(self) -> napi::Result<T>;
}

impl<T> IntoNapi<T> for Result<T, Error> {
    fn napi(self) -> napi::Result<T> {
        self.map_err(to_napi)
    }
}

/// A panic's message, so that it reaches JavaScript as an error instead of aborting.
pub fn panic_error(panic: Box<dyn std::any::Any + Send>) -> napi::Error {
    let text = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".into());
    napi::Error::new(napi::Status::GenericFailure, format!("internal error in smartai-events (a Rust panic): {text}"))
}

/// Runs a future, turning a panic inside it into an error.
pub async fn guard<T, F>(future: F) -> napi::Result<T>
where
    F: std::future::Future<Output = napi::Result<T>>,
{
    use futures::FutureExt;
    match std::panic::AssertUnwindSafe(future).catch_unwind().await {
        Ok(result) => result,
        Err(panic) => Err(panic_error(panic)),
    }
}
