//! The platform endpoints: fetch, acknowledge and create session.

use crate::auth::{Authed, authenticate};
use crate::ratelimit::Limited;
use crate::reply::{ApiError, json_ok, json_text};
use crate::requestlog::Endpoint;
use crate::state::Shared;
use axum::extract::{Query, State};
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::{Extension, http::HeaderMap};
use bytes::Bytes;
use serde_json::Value;
use std::sync::Arc;
use std::time::Instant;

/// The request body, read once by the pipeline and handed to handlers.
#[derive(Clone, Default)]
pub(crate) struct RawBody(pub Bytes);

/// Server cap on a fetch's `limit`.
const MAX_LIMIT: usize = 100;
const DEFAULT_LIMIT: usize = 50;
const SESSION_TTL_MS: i64 = 60 * 60 * 1000;

/// Fallback handler: every path that is not an admin route comes here.
pub(crate) async fn handle(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    Extension(RawBody(body)): Extension<RawBody>,
) -> Response {
    let path = uri.path();
    let endpoint = Endpoint::classify_under(path, &shared.path_prefix);
    let allowed = match endpoint {
        Endpoint::Fetch => Method::GET,
        Endpoint::Acknowledge | Endpoint::Session => Method::POST,
        Endpoint::Admin | Endpoint::Other => {
            return ApiError::new(StatusCode::NOT_FOUND, format!("Not found: {path}")).into_response();
        }
    };
    if method != allowed {
        let mut resp = ApiError::new(
            StatusCode::METHOD_NOT_ALLOWED,
            format!("Method {method} is not allowed on {path}; use {allowed}"),
        )
        .into_response();
        if let Ok(v) = HeaderValue::from_str(allowed.as_str()) {
            resp.headers_mut().insert(header::ALLOW, v);
        }
        return resp;
    }
    // The bucket covers every request of a known key, those that then fail to authenticate
    // included: a client that retries a bad signature in a loop meets the limit too.
    let charged = match known_key(&shared, &headers) {
        Some(state) => take_token(&shared, state).map(drop),
        None => Ok(()),
    };
    let result =
        charged.and_then(|()| authenticate(&shared, &method, path, &headers, &body)).and_then(
            |authed| match endpoint {
                Endpoint::Fetch => fetch(&shared, &authed, &uri),
                Endpoint::Acknowledge => acknowledge(&shared, &authed),
                _ => create_session(&shared, &authed),
            },
        );
    result.unwrap_or_else(IntoResponse::into_response)
}

fn rate_limited(limited: Limited) -> ApiError {
    let retry_after = limited.retry_after_secs().to_string();
    ApiError::new(StatusCode::TOO_MANY_REQUESTS, limited.message).with_retry_after(retry_after)
}

/// The state of the key the request names, if the emulator knows it (a repeated or
/// non-ASCII header names none; authentication says why).
fn known_key(shared: &Shared, headers: &HeaderMap) -> Option<Arc<crate::state::KeyState>> {
    let mut values = headers.get_all("x-api-key").iter();
    let (Some(value), None) = (values.next(), values.next()) else { return None };
    shared.key_state(value.to_str().ok()?).cloned()
}

fn take_token(shared: &Shared, state: Arc<crate::state::KeyState>) -> Result<Arc<crate::state::KeyState>, ApiError> {
    let mut data = shared.lock_key(&state);
    match data.limiter.take_token(Instant::now()) {
        Ok(()) => {
            drop(data);
            Ok(state)
        }
        Err(limited) => {
            data.counters.rate_limited += 1;
            Err(rate_limited(limited))
        }
    }
}

/// `limit` and `since` from the query string, validated as the protocol requires.
fn fetch_params(uri: &Uri) -> Result<(usize, Option<i64>), ApiError> {
    let Query(pairs) = Query::<Vec<(String, String)>>::try_from_uri(uri)
        .map_err(|e| ApiError::bad_request(format!("Invalid query string: {e}")))?;
    let mut limit = DEFAULT_LIMIT;
    let mut since = None;
    for (name, value) in &pairs {
        match name.as_str() {
            "limit" => {
                limit = match value.trim().parse::<i64>() {
                    Ok(n) if n >= 1 => usize::try_from(n).unwrap_or(MAX_LIMIT).min(MAX_LIMIT),
                    // Too large for i64 but still a positive integer: clamp like any other.
                    Err(_) if !value.trim().is_empty() && value.trim().bytes().all(|b| b.is_ascii_digit()) => MAX_LIMIT,
                    _ => {
                        return Err(ApiError::bad_request(format!(
                            "limit must be an integer of at least 1, got {value:?}"
                        )));
                    }
                }
            }
            "since" => {
                since = match value.trim().parse::<i64>() {
                    Ok(n) => Some(n),
                    Err(_) => {
                        return Err(ApiError::bad_request(format!(
                            "since must be an integer Unix time in milliseconds, got {value:?}"
                        )));
                    }
                }
            }
            _ => {}
        }
    }
    Ok((limit, since))
}

fn fetch(shared: &Shared, authed: &Authed, uri: &Uri) -> Result<Response, ApiError> {
    let (limit, since) = fetch_params(uri)?;
    let now = Instant::now();
    let mut data = shared.lock_key(&authed.state);
    if let Err(limited) = data.limiter.check_idle_poll(now) {
        data.counters.rate_limited += 1;
        return Err(rate_limited(limited));
    }
    let mut body = String::with_capacity(64);
    body.push_str("{\"events\":[");
    let outcome = data.queue.write_fetch(limit, since, &mut body);
    data.limiter.record_fetch(outcome.pending, now);
    data.counters.fetches += 1;
    data.counters.events_delivered += outcome.returned as u64;
    drop(data);
    body.push_str("],\"pendingCount\":");
    body.push_str(&outcome.pending.to_string());
    body.push('}');
    Ok(json_text(StatusCode::OK, body))
}

const EVENT_IDS_ERROR: &str = "eventIds must be a non-empty array";

fn acknowledge(shared: &Shared, authed: &Authed) -> Result<Response, ApiError> {
    let ids = match authed.body.as_ref().and_then(|b| b.get("eventIds")) {
        Some(Value::Array(ids)) if !ids.is_empty() => ids,
        _ => return Err(ApiError::bad_request(EVENT_IDS_ERROR)),
    };
    let mut strs = Vec::with_capacity(ids.len());
    for (i, id) in ids.iter().enumerate() {
        match id {
            Value::String(s) => strs.push(s.as_str()),
            other => {
                return Err(ApiError::bad_request(format!("eventIds[{i}] must be a string, got {other}")));
            }
        }
    }
    let mut data = shared.lock_key(&authed.state);
    let n = data.queue.acknowledge(strs);
    data.counters.acks += 1;
    drop(data);
    Ok(json_text(StatusCode::OK, format!("{{\"acknowledged\":{n}}}")))
}

fn non_empty_str<'a>(v: &'a Value, field: &str) -> Option<&'a str> {
    v.get(field).and_then(Value::as_str).filter(|s| !s.trim().is_empty())
}

fn create_session(shared: &Shared, authed: &Authed) -> Result<Response, ApiError> {
    let body = authed.body.as_ref().unwrap_or(&Value::Null);
    let users = match body.get("users") {
        Some(Value::Array(users)) if !users.is_empty() => users,
        _ => return Err(ApiError::bad_request("users must be a non-empty array")),
    };
    for user in users {
        if non_empty_str(user, "name").is_none() {
            return Err(ApiError::bad_request("name is required"));
        }
        if non_empty_str(user, "email").is_none() {
            return Err(ApiError::bad_request("email is required"));
        }
    }
    let recruiter_id = non_empty_str(body, "recruiterId");
    let recruiter_email = non_empty_str(body, "recruiterEmail");
    if recruiter_id.is_none() && recruiter_email.is_none() {
        return Err(ApiError::bad_request("Provide at least one of recruiterId or recruiterEmail — pass one or both"));
    }
    let now = shared.now_ms();
    let expires = now + SESSION_TTL_MS;
    let claims = serde_json::json!({
        "sub": recruiter_id.or(recruiter_email),
        "users": users.iter().filter_map(|u| non_empty_str(u, "email")).collect::<Vec<_>>(),
        "iat": now / 1000,
        "exp": expires / 1000,
        "iss": "smartai-emulator",
    });
    let token = jwt(&authed.state.key.secret_key, &claims);
    shared.lock_key(&authed.state).counters.sessions += 1;
    Ok(json_ok(&serde_json::json!({
        "token": token,
        "expiresAt": crate::generator::iso_ms(expires),
    })))
}

/// A JWT-shaped token (HS256 header, claims, signature). Nothing verifies it; it only has
/// to look and parse like the platform's.
fn jwt(secret: &str, claims: &Value) -> String {
    let header = base64url(br#"{"alg":"HS256","typ":"JWT"}"#);
    let claims = base64url(claims.to_string().as_bytes());
    let signing_input = format!("{header}.{claims}");
    let mac = smartai_events::signing::sign(secret, &signing_input);
    let mac_bytes: Vec<u8> =
        (0..mac.len() / 2).filter_map(|i| u8::from_str_radix(&mac[2 * i..2 * i + 2], 16).ok()).collect();
    format!("{signing_input}.{}", base64url(&mac_bytes))
}

fn base64url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = chunk.len() + 1;
        for i in 0..chars {
            out.push(char::from(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64url_without_padding() {
        assert_eq!(base64url(b"f"), "Zg");
        assert_eq!(base64url(b"fo"), "Zm8");
        assert_eq!(base64url(b"foo"), "Zm9v");
        assert_eq!(base64url(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn limit_and_since_validation() {
        let p = |q: &str| fetch_params(&format!("/x?{q}").parse::<Uri>().unwrap());
        assert_eq!(p("limit=500").unwrap(), (100, None));
        assert_eq!(p("limit=99999999999999999999999").unwrap(), (100, None));
        assert_eq!(p("since=5").unwrap(), (50, Some(5)));
        assert!(p("limit=0").unwrap_err().message.contains("\"0\""));
        assert!(p("limit=abc").unwrap_err().message.contains("\"abc\""));
        assert!(p("limit=2.5").is_err());
        assert!(p("since=yesterday").unwrap_err().message.contains("yesterday"));
    }
}
