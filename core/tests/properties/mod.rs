//! The properties that the property tests in this directory and the fuzz targets in
//! `fuzz/` both check. The fuzz crate includes this file by path, so a rule is written once
//! and every input, generated or mutated, is held to it.
//!
//! Each check returns `Err(reason)` instead of panicking, so that a caller can report the
//! input next to the reason.
#![allow(dead_code)]

use serde_json::value::RawValue;
use serde_json::{Map, Value};
use smartai_events::fuzzing::{self, Classified};
use smartai_events::{ErrorCode, RawEvent, WebhookEvent, WebhookEventBatch, canonical, retry::parse_retry_after};
use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

/// The longest error message or decode reason accepted. A message quotes a bounded excerpt
/// of the body (a few hundred characters at most, some escaped), so it must never grow
/// with the body.
pub const MAX_MESSAGE_CHARS: usize = 2048;

/// The protocol's cap on a `Retry-After` floor.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

const KNOWN_TYPES: [&str; 3] = ["assessment.completed", "assessment.disqualified", "assessment.sent"];

macro_rules! ensure {
    ($cond:expr, $($fmt:tt)+) => {
        if !$cond {
            return Err(format!($($fmt)+));
        }
    };
}

// ---------------------------------------------------------------------------------------
// Canonical JSON (protocol section 2)
// ---------------------------------------------------------------------------------------

/// Every rule of canonical JSON for `value`: it reads back as the same JSON, has no
/// whitespace outside strings, sorts keys by UTF-16 code units at every depth, escapes
/// strings exactly as `JSON.stringify` does, writes numbers as JavaScript does, and is a
/// fixed point (the canonical form of the canonical form is itself).
pub fn check_canonical(value: &Value) -> Result<(), String> {
    let text = canonical::to_string(value);
    let tokens = scan(&text)?;
    if holds_reserved_key(value) {
        // serde_json cannot read it back (see SERDE_RESERVED); the scan has checked the text.
        return check_numbers(value);
    }
    let parsed: Value = serde_json::from_str(&text).map_err(|e| format!("{text:?} is not JSON: {e}"))?;
    // serde_json's default float parsing may be one unit off in the last place, so the
    // numbers are read again with the standard library's correctly rounded parser.
    let mut numbers = tokens.numbers.iter();
    let exact = renumber(&parsed, &mut numbers)?;
    ensure!(numbers.next().is_none(), "{text:?}: more number tokens than numbers");
    same_json(value, &exact).map_err(|e| format!("{text:?} does not read back as the input: {e}"))?;
    check_key_order(&exact)?;
    check_numbers(value)?;
    let again = canonical::to_string(&exact);
    ensure!(again == text, "not a fixed point: {text:?} became {again:?}");
    Ok(())
}

/// serde_json reserves object keys that start with this for its own types: its `Value`
/// reads an object whose first key is one as such a type, so a document holding one (the
/// fuzzer found `{"$serde_json::private::RawValue":"s"}`) cannot be read back to be compared.
const SERDE_RESERVED: &str = "$serde_json::private::";

fn holds_reserved_key(value: &Value) -> bool {
    match value {
        Value::Object(map) => map.iter().any(|(k, v)| k.starts_with(SERDE_RESERVED) || holds_reserved_key(v)),
        Value::Array(items) => items.iter().any(holds_reserved_key),
        _ => false,
    }
}

struct Tokens {
    numbers: Vec<String>,
}

/// Walks the canonical text: whitespace outside strings, control characters and escapes
/// inside them, and the number tokens, in document order.
fn scan(text: &str) -> Result<Tokens, String> {
    let mut numbers = Vec::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '"' => loop {
                let Some((j, c)) = chars.next() else { return Err(format!("{text:?}: unterminated string")) };
                match c {
                    '"' => break,
                    '\\' => {
                        let Some((_, e)) = chars.next() else { return Err(format!("{text:?}: dangling escape")) };
                        match e {
                            '"' | '\\' | 'b' | 'f' | 'n' | 'r' | 't' => {}
                            'u' => {
                                let hex: String = (0..4).filter_map(|_| chars.next().map(|(_, h)| h)).collect();
                                let code = u32::from_str_radix(&hex, 16).map_err(|_| format!("bad \\u{hex}"))?;
                                ensure!(
                                    hex.len() == 4 && hex == hex.to_ascii_lowercase(),
                                    "{text:?} at {j}: \\u{hex} is not four lower-case hex digits"
                                );
                                ensure!(
                                    code < 0x20,
                                    "{text:?} at {j}: \\u{hex} escapes a character JSON.stringify keeps"
                                );
                                ensure!(
                                    ![0x08, 0x09, 0x0a, 0x0c, 0x0d].contains(&code),
                                    "{text:?} at {j}: \\u{hex} has a short escape in JSON.stringify"
                                );
                            }
                            other => return Err(format!("{text:?} at {j}: escape \\{other} is not JSON.stringify's")),
                        }
                    }
                    c if (c as u32) < 0x20 => return Err(format!("{text:?} at {j}: raw control character {c:?}")),
                    _ => {}
                }
            },
            '-' | '0'..='9' => {
                let mut end = i + c.len_utf8();
                while let Some(&(j, d)) = chars.peek() {
                    if !matches!(d, '0'..='9' | '.' | 'e' | 'E' | '+' | '-') {
                        break;
                    }
                    end = j + d.len_utf8();
                    chars.next();
                }
                numbers.push(text[i..end].to_string());
            }
            c if c.is_whitespace() => return Err(format!("{text:?} at {i}: whitespace outside a string")),
            _ => {}
        }
    }
    Ok(Tokens { numbers })
}

/// `value` with each number replaced by its token read with the standard library.
fn renumber<'a>(value: &Value, numbers: &mut impl Iterator<Item = &'a String>) -> Result<Value, String> {
    Ok(match value {
        Value::Number(_) => {
            let token = numbers.next().ok_or("fewer number tokens than numbers")?;
            if let Ok(i) = token.parse::<i64>() {
                Value::from(i)
            } else if let Ok(u) = token.parse::<u64>() {
                Value::from(u)
            } else {
                let f = token.parse::<f64>().map_err(|e| format!("number {token:?}: {e}"))?;
                Value::from(f)
            }
        }
        Value::Array(items) => Value::Array(items.iter().map(|v| renumber(v, numbers)).collect::<Result<_, _>>()?),
        Value::Object(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                out.insert(k.clone(), renumber(v, numbers)?);
            }
            Value::Object(out)
        }
        other => other.clone(),
    })
}

/// JSON equality where a number is compared by value, not by representation (`2.0` is `2`).
pub fn same_json(a: &Value, b: &Value) -> Result<(), String> {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let equal = match (x.as_i128(), y.as_i128()) {
                (Some(i), Some(j)) => i == j,
                _ => x.as_f64() == y.as_f64(),
            };
            ensure!(equal, "{x} != {y}");
        }
        (Value::Array(x), Value::Array(y)) => {
            ensure!(x.len() == y.len(), "array lengths {} != {}", x.len(), y.len());
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                same_json(p, q).map_err(|e| format!("[{i}]: {e}"))?;
            }
        }
        (Value::Object(x), Value::Object(y)) => {
            ensure!(x.len() == y.len(), "object sizes {} != {}", x.len(), y.len());
            for (k, p) in x {
                let q = y.get(k).ok_or_else(|| format!("key {k:?} lost"))?;
                same_json(p, q).map_err(|e| format!("{k:?}: {e}"))?;
            }
        }
        _ => ensure!(a == b, "{a} != {b}"),
    }
    Ok(())
}

/// Keys strictly ascending by UTF-16 code units, at every depth, in text order.
fn check_key_order(value: &Value) -> Result<(), String> {
    match value {
        Value::Array(items) => items.iter().try_for_each(check_key_order),
        Value::Object(map) => {
            let keys: Vec<&String> = map.keys().collect();
            for pair in keys.windows(2) {
                ensure!(
                    pair[0].encode_utf16().lt(pair[1].encode_utf16()),
                    "keys {:?} and {:?} are not in UTF-16 order",
                    pair[0],
                    pair[1]
                );
            }
            map.values().try_for_each(check_key_order)
        }
        _ => Ok(()),
    }
}

/// Every number of `value`, written alone, follows JavaScript's `Number.prototype.toString`.
fn check_numbers(value: &Value) -> Result<(), String> {
    match value {
        Value::Number(n) => check_number(n),
        Value::Array(items) => items.iter().try_for_each(check_numbers),
        Value::Object(map) => map.values().try_for_each(check_numbers),
        _ => Ok(()),
    }
}

/// One number: integers exactly, doubles with their shortest round-trip digits, plain from
/// 1e-6 up to (not including) 1e21 and with a signed exponent outside that range.
pub fn check_number(n: &serde_json::Number) -> Result<(), String> {
    check_number_text(n, &canonical::to_string(&Value::Number(n.clone())))
}

/// [`check_number`] for a given text, so that the rules themselves can be tested.
pub fn check_number_text(n: &serde_json::Number, text: &str) -> Result<(), String> {
    let text = text.to_string();
    if let Some(i) = n.as_i128() {
        ensure!(text == i.to_string(), "integer {i} written as {text:?}");
        return Ok(());
    }
    let f = n.as_f64().ok_or("a number that is neither integer nor double")?;
    let back: f64 = text.parse().map_err(|e| format!("{text:?} for {f:e}: {e}"))?;
    ensure!(back == f, "{text:?} reads back as {back:e}, not {f:e}");
    if f == 0.0 {
        ensure!(text == "0", "zero written as {text:?}");
        return Ok(());
    }
    let magnitude = f.abs();
    let (mantissa, exponent) = match text.split_once('e') {
        Some((m, e)) => (m, Some(e)),
        None => (text.as_str(), None),
    };
    if !(1e-6..1e21).contains(&magnitude) {
        let e = exponent.ok_or_else(|| format!("{f:e} written as {text:?}, without an exponent"))?;
        ensure!(e.starts_with(['+', '-']), "{text:?}: the exponent has no sign");
        ensure!(!e[1..].starts_with('0'), "{text:?}: the exponent has a leading zero");
        let m = mantissa.trim_start_matches('-');
        ensure!(m.len() == 1 || m.as_bytes()[1] == b'.', "{text:?}: not one digit before the point");
    } else {
        ensure!(exponent.is_none(), "{f:e} written as {text:?}, with an exponent");
        if f.fract() == 0.0 {
            ensure!(!text.contains('.'), "whole number {f:e} written as {text:?}");
        }
    }
    ensure!(!text.contains('+') || exponent.is_some_and(|e| e.starts_with('+')), "{text:?}: stray '+'");
    if mantissa.contains('.') {
        ensure!(!mantissa.ends_with('0') && !mantissa.ends_with('.'), "{text:?}: trailing zero in the fraction");
    }
    // The significant digits must be the shortest that read back as `f`: the standard
    // library's `{:e}` writes exactly those.
    let shortest = format!("{magnitude:e}");
    let shortest_digits: String = shortest.split('e').next().unwrap_or("").replace('.', "");
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let significant = digits.trim_start_matches('0').trim_end_matches('0');
    ensure!(
        significant == shortest_digits.trim_end_matches('0'),
        "{text:?}: digits {significant} are not the shortest round-trip digits {shortest_digits}"
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Event decoding
// ---------------------------------------------------------------------------------------

/// Decodes `body` as the client decodes a 200 fetch response and checks the result.
///
/// When it decodes, the batch holds one event per element of `events`, in order, each
/// keeping its JSON, and `pendingCount` as sent. When it does not, the error is a decode
/// error (or the refusal a `{"success":false}` body asks for) with a bounded message.
pub fn check_fetch_body(body: &[u8]) -> Result<Option<usize>, String> {
    let batch = fuzzing::decode_fetch_body(body);
    check_raw_events_agree(body, &batch)?;
    let batch = match batch {
        Ok(batch) => batch,
        Err(error) => {
            ensure!(
                matches!(error.code(), ErrorCode::Decode | ErrorCode::InvalidRequest),
                "a 200 body gave a {} error: {error}",
                error.code()
            );
            check_message_length(&error.to_string())?;
            return Ok(None);
        }
    };
    // The oracle reads the body with serde_json's raw values, which, like the client, keep
    // each event's text, and let through what a `Value` cannot hold (lone surrogates).
    let text = std::str::from_utf8(body).map_err(|e| format!("decoded a body that is not UTF-8: {e}"))?;
    let top = raw_object(text)?;
    let data = match top.get("success").map(|v| v.get()) {
        Some("true") => raw_object(top.get("data").ok_or("decoded a success envelope without data")?.get())?,
        _ => top,
    };
    let events: Vec<&RawValue> = data
        .get("events")
        .and_then(|v| serde_json::from_str(v.get()).ok())
        .ok_or("decoded a batch without an events array")?;
    ensure!(events.len() == batch.events.len(), "{} events sent, {} decoded", events.len(), batch.events.len());
    let pending = data.get("pendingCount").and_then(|v| serde_json::from_str::<u64>(v.get()).ok());
    ensure!(pending == Some(batch.pending_count), "pendingCount {pending:?} decoded as {}", batch.pending_count);
    for (i, (event, sent)) in batch.events.iter().zip(events).enumerate() {
        ensure!(event.raw_json() == sent.get(), "event {i}: raw_json {:?} is not the text sent", event.raw_json());
        let checked = match serde_json::from_str::<Value>(sent.get()) {
            Ok(expected) => check_event(event, &expected),
            Err(_) => check_event_without_value(event),
        };
        checked.map_err(|e| format!("event {i}: {e}"))?;
    }
    Ok(Some(batch.events.len()))
}

/// The same body read as `RawEvent`s (checked, not built) gives what the typed events
/// give: the same error, or per event the same kind, ID, type, timestamps, decode error
/// and text.
fn check_raw_events_agree(body: &[u8], typed: &smartai_events::Result<WebhookEventBatch>) -> Result<(), String> {
    let raw = fuzzing::decode_fetch_body_as::<RawEvent>(body);
    match (typed, raw) {
        (Ok(typed), Ok(raw)) => {
            ensure!(raw.pending_count == typed.pending_count, "raw pendingCount {}", raw.pending_count);
            ensure!(raw.events.len() == typed.events.len(), "{} raw events", raw.events.len());
            for (i, (event, raw)) in typed.events.iter().zip(raw.events).enumerate() {
                let expected = RawEvent::from(event.clone());
                ensure!(raw == expected, "event {i}: read raw as {raw:?}, typed as {expected:?}");
            }
            Ok(())
        }
        (Err(typed), Err(raw)) => {
            ensure!(typed.to_string() == raw.to_string(), "typed error {typed}, raw error {raw}");
            Ok(())
        }
        (Ok(_), Err(raw)) => Err(format!("typed events decoded, raw events failed: {raw}")),
        (Err(typed), Ok(_)) => Err(format!("typed events failed ({typed}), raw events decoded")),
    }
}

/// The members of a JSON object, each kept as its text.
fn raw_object(text: &str) -> Result<BTreeMap<String, &RawValue>, String> {
    ensure!(text.trim_start().starts_with('{'), "decoded a batch from {text:?}, not an object");
    serde_json::from_str(text).map_err(|e| format!("decoded a body that is not a JSON object: {e}"))
}

/// Whether JSON `text` holds a number beyond the range of a double, or nests deeper than
/// serde_json's recursion limit of 128.
fn beyond_value_limits(text: &str) -> bool {
    let bytes = text.as_bytes();
    let (mut depth, mut i) = (0usize, 0);
    while i < bytes.len() {
        match bytes[i] {
            b'"' => {
                i += 1;
                while i < bytes.len() && bytes[i] != b'"' {
                    i += if bytes[i] == b'\\' { 2 } else { 1 };
                }
            }
            b'[' | b'{' => {
                depth += 1;
                if depth > 127 {
                    return true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b'-' | b'0'..=b'9' => {
                let start = i;
                while i + 1 < bytes.len() && matches!(bytes[i + 1], b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-') {
                    i += 1;
                }
                if text[start..=i].parse::<f64>().is_ok_and(f64::is_infinite) {
                    return true;
                }
            }
            _ => {}
        }
        i += 1;
    }
    false
}

/// An event whose text a `Value` cannot hold as it is (a lone surrogate): it must still be
/// delivered, serialise as sent, and have a JSON value, not `null`.
fn check_event_without_value(event: &WebhookEvent) -> Result<(), String> {
    // Beyond what a `Value` holds at all, `null` is the only answer. JavaScript cannot send
    // such a number (JSON.stringify writes an infinite one as null), nor would an event nest
    // 128 levels deep.
    if !beyond_value_limits(event.raw_json()) {
        ensure!(!event.raw().is_null(), "raw() of {:?} is null", event.raw_json());
        ensure!(!event.clone().into_raw().is_null(), "into_raw() of {:?} is null", event.raw_json());
    }
    let serialised = serde_json::to_string(event).map_err(|e| format!("serialising failed: {e}"))?;
    ensure!(serialised == event.raw_json(), "the event serialises as {serialised:?}, not as sent");
    let _ = (event.event_id(), event.event_type(), event.stored_at());
    if let Some(reason) = event.decode_error() {
        check_message_length(reason)?;
    }
    if matches!(event, WebhookEvent::Unknown(_)) && KNOWN_TYPES.contains(&event.event_type()) {
        ensure!(event.decode_error().is_some(), "a {} event that did not decode has no reason", event.event_type());
    }
    Ok(())
}

/// One decoded event against the JSON it came from.
pub fn check_event(event: &WebhookEvent, expected: &Value) -> Result<(), String> {
    let text = event.raw_json();
    let reparsed: Value = serde_json::from_str(text).map_err(|e| format!("raw_json {text:?} is not JSON: {e}"))?;
    ensure!(&reparsed == expected, "raw_json {text:?} is not the event sent");
    ensure!(event.raw() == expected, "raw() is not the event sent");
    ensure!(&event.clone().into_raw() == expected, "into_raw() is not the event sent");
    let serialised = serde_json::to_value(event).map_err(|e| format!("serialising failed: {e}"))?;
    ensure!(&serialised == expected, "the event serialises as {serialised}, not as sent");
    let (id, ty, stored_at, reason) = (event.event_id(), event.event_type(), event.stored_at(), event.decode_error());
    let field = |name: &str| expected.get(name).and_then(Value::as_str).unwrap_or("");
    if let Some(reason) = reason {
        check_message_length(reason)?;
    }
    match event {
        WebhookEvent::AssessmentCompleted(_)
        | WebhookEvent::AssessmentDisqualified(_)
        | WebhookEvent::AssessmentSent(_) => {
            ensure!(ty == field("event"), "typed as {ty} but the event says {:?}", field("event"));
            ensure!(id == field("eventId"), "event_id {id:?} but the event says {:?}", field("eventId"));
            ensure!(stored_at.is_some(), "a typed event without stored_at");
            ensure!(reason.is_none(), "a typed event with a decode error");
        }
        WebhookEvent::Unknown(_) => {
            if !expected.is_object() {
                ensure!(reason.is_some(), "{} decoded as an unknown event without a reason", kind(expected));
                ensure!(id.is_empty() && ty.is_empty(), "{} has an id or a type", kind(expected));
            }
            if KNOWN_TYPES.contains(&ty) {
                ensure!(reason.is_some(), "a {ty} event that did not decode has no reason");
            }
            if reason.is_none() {
                ensure!(id == field("eventId"), "event_id {id:?} but the event says {:?}", field("eventId"));
                ensure!(ty == field("event"), "event_type {ty:?} but the event says {:?}", field("event"));
                ensure!(!KNOWN_TYPES.contains(&ty), "a {ty} event left unknown without a reason");
            }
        }
    }
    Ok(())
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn check_message_length(message: &str) -> Result<(), String> {
    let n = message.chars().count();
    ensure!(
        n <= MAX_MESSAGE_CHARS,
        "a message of {n} characters: {:?}…",
        message.chars().take(200).collect::<String>()
    );
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Response classification (protocol section 5)
// ---------------------------------------------------------------------------------------

/// What protocol section 5 says a status leads to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// 2xx: the data, or a decode error (or a refusal) for a body that is not the documented JSON.
    Success,
    Retry(ErrorCode),
    AuthFailed,
    Fail(ErrorCode),
}

/// The status table of protocol section 5.
pub fn expected_for(status: u16) -> Expected {
    match status {
        200..=299 => Expected::Success,
        400 | 422 => Expected::Fail(ErrorCode::InvalidRequest),
        401 | 403 => Expected::AuthFailed,
        404 | 405 => Expected::Fail(ErrorCode::NotFound),
        408 => Expected::Retry(ErrorCode::Timeout),
        429 => Expected::Retry(ErrorCode::RateLimited),
        500 | 502 | 503 | 504 => Expected::Retry(ErrorCode::Server),
        400..=499 => Expected::Fail(ErrorCode::InvalidRequest),
        _ => Expected::Fail(ErrorCode::Server),
    }
}

/// Classifies one response and checks it against the status table, the `Retry-After`
/// rules and the message rules.
pub fn check_response(status: u16, body: &[u8], retry_after: Option<&str>, now: SystemTime) -> Result<(), String> {
    let parsed_retry_after = retry_after.and_then(|v| parse_retry_after(v, now));
    if let Some(d) = parsed_retry_after {
        ensure!(d <= MAX_RETRY_AFTER, "Retry-After {retry_after:?} read as {d:?}, above the cap");
    }
    let server_message = fuzzing::error_message(body);
    if let Some(m) = &server_message {
        check_message_length(m)?;
    }
    let Some(classified) = fuzzing::classify_response(status, body, retry_after, now) else {
        ensure!(!(100..=999).contains(&status), "status {status} was refused");
        return Ok(());
    };
    ensure!((100..=999).contains(&status), "status {status} was accepted");
    let expected = expected_for(status);
    let error = match (&classified, expected) {
        (Classified::Success(text), Expected::Success) => {
            let _: &RawValue =
                serde_json::from_str(text).map_err(|e| format!("success data {text:?} is not JSON: {e}"))?;
            return Ok(());
        }
        (Classified::Fail(error), Expected::Success) => {
            ensure!(
                matches!(error.code(), ErrorCode::Decode | ErrorCode::InvalidRequest),
                "a {status} gave a {} error",
                error.code()
            );
            error
        }
        (Classified::Retry { error, retry_after: floor }, Expected::Retry(code)) => {
            ensure!(error.code() == code, "a {status} gave a {} error, not {code}", error.code());
            let expected_floor = if status == 429 || status == 503 { parsed_retry_after } else { None };
            ensure!(*floor == expected_floor, "a {status} with Retry-After {retry_after:?} gave the floor {floor:?}");
            ensure!(error.retry_after() == expected_floor, "the error carries retry_after {:?}", error.retry_after());
            error
        }
        (Classified::AuthFailed(error), Expected::AuthFailed) => {
            ensure!(error.code() == ErrorCode::Authentication, "a {status} gave a {} error", error.code());
            error
        }
        (Classified::Fail(error), Expected::Fail(code)) => {
            ensure!(error.code() == code, "a {status} gave a {} error, not {code}", error.code());
            ensure!(error.retry_after().is_none(), "a final {status} carries a retry_after");
            error
        }
        (other, expected) => return Err(format!("a {status} was classified as {other:?}, expected {expected:?}")),
    };
    check_message_length(&error.to_string())?;
    ensure!(error.request_id() == Some(fuzzing::REQUEST_ID), "the error lost its request id");
    if expected != Expected::Success {
        ensure!(error.status() == Some(status), "the error carries status {:?}", error.status());
        ensure!(
            error.server_message() == server_message.as_deref(),
            "server_message {:?}, but the body's message is {server_message:?}",
            error.server_message()
        );
        if let Some(m) = &server_message {
            ensure!(error.to_string().contains(m.as_str()), "the error {error} does not show the server's message");
        }
        check_message_source(body, server_message.as_deref())?;
    }
    Ok(())
}

/// Where the server's message comes from: the `error` (or `message`) field of a JSON body,
/// shortened, or an excerpt of a body that is not JSON.
fn check_message_source(body: &[u8], message: Option<&str>) -> Result<(), String> {
    let Ok(value) = serde_json::from_slice::<Value>(body) else {
        ensure!(body.is_empty() == message.is_none(), "body {body:?} gave the message {message:?}");
        return Ok(());
    };
    let field = value.get("error").or_else(|| value.get("message"));
    let source = match field {
        Some(Value::String(s)) => Some(s.as_str()),
        Some(Value::Object(o)) => o.get("message").and_then(Value::as_str),
        _ => None,
    };
    match (source, message) {
        (None, None) => Ok(()),
        (Some(s), Some(m)) => {
            if m != s {
                // Shortened: the first 500 characters and an ellipsis.
                let kept = m.strip_suffix('…').unwrap_or(m);
                ensure!(
                    m.ends_with('…') && kept.chars().count() == 500 && s.starts_with(kept),
                    "message {m:?} is neither the body's {s:?} nor its first 500 characters"
                );
            }
            Ok(())
        }
        (s, m) => Err(format!("the body's message {s:?} surfaced as {m:?}")),
    }
}
