//! The admin API under `/_emulator/`: loopback only, unsigned, JSON in and out.
//!
//! Every route calls the same operation as the matching [`Emulator`](crate::Emulator)
//! method.

use crate::api::RawBody;
use crate::config::RateLimitConfig;
use crate::faults::FaultRule;
use crate::reply::{ApiError, json_ok};
use crate::state::Shared;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use axum::routing::{get, post};
use axum::{Extension, Router};
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Value, json};
use std::net::IpAddr;
use std::sync::Arc;

/// Whether a peer may use the admin API: loopback addresses only, including IPv4 loopback
/// seen through an IPv6 socket (`::ffff:127.0.0.1`).
///
/// ```
/// use smartai_emulator::admin::is_loopback;
/// assert!(is_loopback("127.0.0.1".parse().unwrap()));
/// assert!(is_loopback("::ffff:127.0.0.2".parse().unwrap()));
/// assert!(!is_loopback("192.168.1.10".parse().unwrap()));
/// ```
pub fn is_loopback(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
    }
}

pub(crate) fn router() -> Router<Arc<Shared>> {
    Router::new()
        .route("/events", post(enqueue).get(list_events))
        .route("/stats", get(stats))
        .route("/requests", get(requests).delete(clear_requests))
        .route("/faults", get(faults).post(set_faults).delete(clear_faults))
        .route("/clock", get(clock).post(set_clock))
        .route("/rate-limit", get(rate_limit).post(set_rate_limit))
        .route("/reset", post(reset))
        .route("/keys", get(keys))
}

type AppState = State<Arc<Shared>>;
type Result<T = Response> = std::result::Result<T, ApiError>;

#[derive(Deserialize, Default)]
struct KeyQuery {
    #[serde(rename = "apiKey")]
    api_key: Option<String>,
}

fn parse_body(body: &RawBody) -> Result<Value> {
    if body.0.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&body.0).map_err(|e| ApiError::bad_request(format!("Request body is not valid JSON: {e}")))
}

/// The key named by `?apiKey=` or the body's `apiKey`, else the first key; unknown keys are
/// an error rather than silently ignored.
fn resolve_key(shared: &Shared, query: &KeyQuery, body: &Value) -> Result<String> {
    let named = query.api_key.clone().or_else(|| body.get("apiKey").and_then(Value::as_str).map(str::to_string));
    match named {
        None => Ok(shared.first_api_key().to_string()),
        Some(k) if shared.key_state(&k).is_some() => Ok(k),
        Some(k) => Err(ApiError::new(StatusCode::NOT_FOUND, format!("Unknown API key {k:?}"))),
    }
}

fn objects(events: &[Value]) -> Result<()> {
    check_events(events).map_err(ApiError::bad_request)
}

/// Refuses events that are not JSON objects, naming the first one: a queue holds objects,
/// and one left out in silence would make a test count the wrong events.
///
/// ```
/// let events = [serde_json::json!({"eventId": "e1"}), serde_json::json!(1)];
/// let err = smartai_emulator::admin::check_events(&events).unwrap_err();
/// assert_eq!(err, "events[1] must be a JSON object, got 1");
/// ```
pub fn check_events<'a>(events: impl IntoIterator<Item = &'a Value>) -> std::result::Result<(), String> {
    match events.into_iter().enumerate().find(|(_, e)| !e.is_object()) {
        None => Ok(()),
        Some((i, e)) => Err(format!("events[{i}] must be a JSON object, got {e}")),
    }
}

async fn enqueue(
    State(shared): AppState,
    Query(query): Query<KeyQuery>,
    Extension(body): Extension<RawBody>,
) -> Result {
    let raw = body;
    let body = parse_body(&raw)?;
    let key = resolve_key(&shared, &query, &body)?;
    let expected = "Expected a JSON array of events, {\"events\":[...]} or {\"generate\":n}";
    // Large batches take seconds to build and serialise; keep them off the async workers.
    let work = shared.clone();
    let target = key.clone();
    let enqueued = match body {
        Value::Array(events) => {
            objects(&events)?;
            let given = given_texts(serde_json::from_slice::<Vec<&RawValue>>(&raw.0).ok(), events);
            blocking(move || work.enqueue_given_for(&target, given)).await?
        }
        Value::Object(mut map) => {
            if let Some(n) = map.get("generate") {
                let n = n
                    .as_u64()
                    .ok_or_else(|| format!("generate must be a non-negative integer, got {n}"))
                    .and_then(|n| crate::generator::generated_count("generate", n))
                    .map_err(ApiError::bad_request)?;
                blocking(move || work.generate_for(&target, n)).await?
            } else if let Some(Value::Array(events)) = map.remove("events") {
                objects(&events)?;
                let texts = serde_json::from_slice::<GivenEvents<'_>>(&raw.0).ok().map(|g| g.events);
                let given = given_texts(texts, events);
                blocking(move || work.enqueue_given_for(&target, given)).await?
            } else {
                return Err(ApiError::bad_request(expected));
            }
        }
        other => return Err(ApiError::bad_request(format!("{expected}, got {other}"))),
    };
    let pending = shared.stats_for(&key).pending;
    Ok(json_ok(&json!({ "enqueued": enqueued, "pending": pending })))
}

/// The `events` of `{"events":[...]}` as their JSON texts.
#[derive(Deserialize)]
struct GivenEvents<'a> {
    #[serde(borrow)]
    events: Vec<&'a RawValue>,
}

/// Pairs each parsed event with its text as given, so the queue serves the event exactly
/// as it was enqueued (a serde_json `Value` would round a number beyond an f64's
/// precision). Without the texts, the events are serialised from their values.
fn given_texts(texts: Option<Vec<&RawValue>>, events: Vec<Value>) -> Vec<(Value, Option<String>)> {
    match texts {
        Some(texts) if texts.len() == events.len() => {
            events.into_iter().zip(texts).map(|(event, text)| (event, Some(text.get().to_string()))).collect()
        }
        _ => events.into_iter().map(|event| (event, None)).collect(),
    }
}

/// Runs CPU-heavy work on the blocking pool.
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("enqueue failed: {e}")))
}

async fn list_events(State(shared): AppState, Query(query): Query<KeyQuery>) -> Result {
    let key = resolve_key(&shared, &query, &Value::Null)?;
    Ok(json_ok(&json!({
        "pending": shared.pending_ids_for(&key),
        "acknowledged": shared.acknowledged_ids_for(&key),
    })))
}

async fn stats(State(shared): AppState, Query(query): Query<KeyQuery>) -> Result {
    let key = resolve_key(&shared, &query, &Value::Null)?;
    Ok(json_ok(&shared.stats_for(&key)))
}

async fn requests(State(shared): AppState) -> Response {
    json_ok(&shared.request_log())
}

async fn clear_requests(State(shared): AppState) -> Response {
    shared.clear_request_log();
    json_ok(&json!({ "cleared": true }))
}

async fn faults(State(shared): AppState) -> Response {
    json_ok(&shared.fault_rules())
}

fn parse_rule(v: &Value) -> Result<FaultRule> {
    let rule: FaultRule =
        serde_json::from_value(v.clone()).map_err(|e| ApiError::bad_request(format!("Invalid fault rule {v}: {e}")))?;
    rule.validate().map_err(ApiError::bad_request)?;
    Ok(rule)
}

async fn set_faults(State(shared): AppState, Extension(body): Extension<RawBody>) -> Result {
    let body = parse_body(&body)?;
    match &body {
        Value::Array(items) => {
            let rules = items.iter().map(parse_rule).collect::<Result<Vec<_>>>()?;
            shared.set_faults(rules);
        }
        Value::Object(map) => {
            let rule = parse_rule(map.get("add").unwrap_or(&body))?;
            shared.add_fault(rule);
        }
        other => {
            return Err(ApiError::bad_request(format!(
                "Expected a list of fault rules or {{\"add\": rule}}, got {other}"
            )));
        }
    }
    Ok(json_ok(&shared.fault_rules()))
}

async fn clear_faults(State(shared): AppState) -> Response {
    shared.set_faults(Vec::new());
    json_ok(&shared.fault_rules())
}

fn clock_json(shared: &Shared) -> Value {
    json!({ "offsetMs": shared.clock_offset_ms(), "nowMs": shared.now_ms() })
}

async fn clock(State(shared): AppState) -> Response {
    json_ok(&clock_json(&shared))
}

async fn set_clock(State(shared): AppState, Extension(body): Extension<RawBody>) -> Result {
    let body = parse_body(&body)?;
    let offset = body
        .get("offsetMs")
        .ok_or_else(|| ApiError::bad_request(format!("Expected {{\"offsetMs\": <integer>}}, got {body}")))?;
    let ms =
        offset.as_i64().ok_or_else(|| ApiError::bad_request(format!("offsetMs must be an integer, got {offset}")))?;
    shared.set_clock_offset_ms(ms);
    Ok(json_ok(&clock_json(&shared)))
}

async fn rate_limit(State(shared): AppState) -> Response {
    json_ok(&shared.rate_limit())
}

async fn set_rate_limit(State(shared): AppState, Extension(body): Extension<RawBody>) -> Result {
    let body = parse_body(&body)?;
    let body = if body.is_null() { json!({}) } else { body };
    let config: RateLimitConfig = serde_json::from_value(body.clone())
        .map_err(|e| ApiError::bad_request(format!("Invalid rate-limit settings {body}: {e}")))?;
    if let Some(b) = config.bucket {
        b.check("bucket.per_second", "bucket.burst").map_err(ApiError::bad_request)?;
    }
    shared.set_rate_limit(config);
    Ok(json_ok(&shared.rate_limit()))
}

async fn reset(State(shared): AppState) -> Response {
    shared.reset();
    json_ok(&json!({ "reset": true }))
}

async fn keys(State(shared): AppState) -> Response {
    json_ok(&shared.keys)
}
