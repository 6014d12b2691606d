//! Request authentication: API key, timestamp window and HMAC signature.
//!
//! The canonical body and the signed payload come from the core crate
//! (`smartai_events::canonical`, `smartai_events::signing`), so client and emulator can
//! never disagree on the rules.

use crate::reply::ApiError;
use crate::state::{KeyState, Shared, lock};
use axum::http::{HeaderMap, Method};
use serde_json::Value;
use smartai_events::{canonical, signing};
use std::sync::Arc;

/// A request that passed authentication, with its parsed body.
pub(crate) struct Authed {
    pub state: Arc<KeyState>,
    pub body: Option<Value>,
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Result<&'a str, ApiError> {
    let mut values = headers.get_all(name).iter();
    match (values.next(), values.count()) {
        (None, _) => Err(ApiError::unauthorized(format!("Missing {name} header"))),
        // A server that joins repeated headers ("a, b") can never verify them; refused
        // here too, so that a client that adds a header again on a retry finds out.
        (Some(_), more) if more > 0 => {
            Err(ApiError::unauthorized(format!("Invalid {name} header: sent {} times, expected once", more + 1)))
        }
        (Some(v), _) => v.to_str().map_err(|_| ApiError::unauthorized(format!("Invalid {name} header: not ASCII"))),
    }
}

/// Checks key, headers, timestamp and signature, in that order, so the message names the
/// first thing that is wrong.
pub(crate) fn authenticate(
    shared: &Shared,
    method: &Method,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Authed, ApiError> {
    let api_key = header(headers, "x-api-key")?;
    let Some(state) = shared.key_state(api_key).cloned() else {
        return Err(ApiError::unauthorized("Invalid API key"));
    };
    let fail = |e: ApiError| {
        lock(&state.data).counters.auth_failures += 1;
        e
    };
    let timestamp = header(headers, "x-timestamp").map_err(fail)?;
    let signature = header(headers, "x-signature").map_err(fail)?;
    // Decimal digits only: the header string itself is what is signed, so `+17…`, ` 17…` or
    // `017…` would be signed as written by one client and read as a number by another.
    let decimal = !timestamp.is_empty()
        && timestamp.bytes().all(|b| b.is_ascii_digit())
        && (timestamp == "0" || !timestamp.starts_with('0'));
    let Some(ts) = timestamp.parse::<i64>().ok().filter(|_| decimal) else {
        return Err(fail(ApiError::unauthorized(format!(
            "Invalid x-timestamp header {timestamp:?}: expected Unix time in milliseconds, as decimal digits"
        ))));
    };
    let now = shared.now_ms();
    let window = i64::try_from(shared.timestamp_window.as_millis()).unwrap_or(i64::MAX);
    let skew = ts.saturating_sub(now);
    if skew.saturating_abs() > window {
        return Err(fail(ApiError::unauthorized(format!(
            "Request timestamp is stale or outside the allowed window of ±{}s: x-timestamp {ts} is {}s {} server time {now} ({})",
            window / 1000,
            skew.saturating_abs() / 1000,
            if skew < 0 { "behind" } else { "ahead of" },
            crate::generator::iso_ms(now),
        ))));
    }
    let parsed = if body.is_empty() {
        None
    } else {
        match serde_json::from_slice::<Value>(body) {
            Ok(v) => Some(v),
            Err(e) => {
                // Not JSON, so it has no canonical form: a signature of its bytes as sent is
                // the only one that can be right, and without it the refusal is a 401.
                let as_sent = String::from_utf8_lossy(body);
                if !signing::verify(
                    &state.key.secret_key,
                    &signing::payload(method.as_str(), path, ts, &as_sent),
                    signature,
                ) {
                    return Err(fail(ApiError::unauthorized("Invalid signature")));
                }
                return Err(ApiError::bad_request(format!("Request body is not valid JSON: {e}")));
            }
        }
    };
    let canonical_body = parsed.as_ref().map(canonical::to_string).unwrap_or_default();
    // The protocol signs the canonical JSON and sends exactly those bytes. A client that
    // signs one text and sends another is caught here, not by the platform.
    if canonical_body.as_bytes() != body {
        return Err(fail(ApiError::unauthorized(
            "Invalid signature: the body sent is not the canonical JSON that is signed (keys sorted, no whitespace)",
        )));
    }
    let payload = signing::payload(method.as_str(), path, ts, &canonical_body);
    if !signing::verify(&state.key.secret_key, &payload, signature) {
        return Err(fail(ApiError::unauthorized("Invalid signature")));
    }
    Ok(Authed { state, body: parsed })
}
