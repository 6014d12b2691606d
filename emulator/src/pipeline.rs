//! What happens around every request: body reading, the request log, the `Date` header,
//! the admin loopback gate and fault injection.

use crate::admin::is_loopback;
use crate::api::RawBody;
use crate::faults::FaultKind;
use crate::reply::{ApiError, error_body};
use crate::requestlog::{Endpoint, LogDraft, RequestLogEntry, mask_key};
use crate::server::{ConnInfo, KillMode};
use crate::state::{Shared, real_now_ms};
use axum::body::{Body, to_bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use futures::StreamExt;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

const X_REQUEST_ID: header::HeaderName = header::HeaderName::from_static("x-request-id");
const API_BODY_LIMIT: usize = 10 * 1024 * 1024;
const ADMIN_BODY_LIMIT: usize = 1024 * 1024 * 1024;
/// How long a request whose connection was killed may linger if it is not dropped with it.
const ORPHAN_STREAM_LIMIT: Duration = Duration::from_secs(60);
/// Long enough for the first part of a truncated body to be flushed before the close.
const TRUNCATE_FLUSH_DELAY: Duration = Duration::from_millis(30);

fn header_string(headers: &HeaderMap, name: header::HeaderName) -> Option<String> {
    headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_string)
}

pub(crate) async fn around(State(shared): State<Arc<Shared>>, req: Request, next: Next) -> Response {
    let conn = req.extensions().get::<ConnInfo>().cloned();
    let (mut parts, body) = req.into_parts();
    let request_id = parts.headers.get(X_REQUEST_ID).cloned();
    let endpoint = Endpoint::classify_under(parts.uri.path(), &shared.path_prefix);
    let h = &parts.headers;
    let mut draft = LogDraft::new(
        shared.log.clone(),
        request_id,
        RequestLogEntry {
            at_ms: real_now_ms(),
            method: parts.method.to_string(),
            path: parts.uri.path().to_string(),
            query: parts.uri.query().map(str::to_string),
            endpoint,
            status: 0,
            fault: None,
            request_id: header_string(h, X_REQUEST_ID),
            api_key: header_string(h, header::HeaderName::from_static("x-api-key")).map(|k| mask_key(&k)),
            user_agent: header_string(h, header::USER_AGENT),
            duration_ms: 0,
            body: None,
        },
    );

    let limit = if endpoint == Endpoint::Admin { ADMIN_BODY_LIMIT } else { API_BODY_LIMIT };
    let bytes = match to_bytes(body, limit).await {
        Ok(b) => b,
        Err(e) => {
            // Only a body over the limit is too large; one cut short or broken is a bad request.
            let over_limit = std::iter::successors(Some(&e as &(dyn std::error::Error + 'static)), |e| e.source())
                .any(|e| e.is::<http_body_util::LengthLimitError>());
            let err = if over_limit {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, format!("Request body is larger than {limit} bytes"))
            } else {
                ApiError::new(StatusCode::BAD_REQUEST, format!("Request body could not be read: {e}"))
            };
            return finish(&shared, &mut draft, err.into_response());
        }
    };
    draft.set_body(&bytes);
    parts.extensions.insert(RawBody(bytes));
    let req = Request::from_parts(parts, Body::empty());

    if endpoint == Endpoint::Admin {
        if !conn.as_ref().is_some_and(|c| is_loopback(c.peer.ip())) {
            let err = ApiError::new(StatusCode::FORBIDDEN, "The emulator admin API only accepts loopback connections");
            return finish(&shared, &mut draft, err.into_response());
        }
        let resp = jsonify_error(next.run(req).await).await;
        return finish(&shared, &mut draft, resp);
    }

    let fault = shared.faults().pick(endpoint);
    let Some(fault) = fault else {
        let resp = jsonify_error(next.run(req).await).await;
        return finish(&shared, &mut draft, resp);
    };
    draft.set_fault(fault.label());
    tracing::debug!(fault = %fault.label(), path = %req.uri().path(), "injecting fault");
    match fault {
        FaultKind::Status { status, retry_after, body } => {
            let resp = status_fault(status, retry_after, body);
            finish(&shared, &mut draft, resp)
        }
        FaultKind::Latency { ms } => {
            tokio::select! {
                _ = tokio::time::sleep(Duration::from_millis(ms)) => {}
                _ = shared.wait_shutdown() => return drop_connection(&shared, &mut draft, conn, KillMode::Close).await,
            }
            let resp = jsonify_error(next.run(req).await).await;
            finish(&shared, &mut draft, resp)
        }
        FaultKind::Hang => {
            // Logged now: the entry would otherwise only appear when the client gives up.
            draft.finish(0);
            shared.wait_shutdown().await;
            drop_connection(&shared, &mut draft, conn, KillMode::Close).await
        }
        FaultKind::Reset => drop_connection(&shared, &mut draft, conn, KillMode::Reset).await,
        FaultKind::AppliedButLost => {
            let _applied = next.run(req).await;
            drop_connection(&shared, &mut draft, conn, KillMode::Reset).await
        }
        FaultKind::MalformedJson => {
            let resp = malformed(endpoint);
            finish(&shared, &mut draft, resp)
        }
        FaultKind::Truncate => {
            let resp = jsonify_error(next.run(req).await).await;
            let resp = truncate(resp, conn).await;
            finish(&shared, &mut draft, resp)
        }
        FaultKind::Envelope => {
            let resp = jsonify_error(next.run(req).await).await;
            let resp = envelope(resp).await;
            finish(&shared, &mut draft, resp)
        }
        FaultKind::OversizedBody { bytes } => finish(&shared, &mut draft, oversized(bytes)),
        FaultKind::Redirect { status, location } => finish(&shared, &mut draft, redirect(status, &location)),
    }
}

/// Adds the `Date` header from the emulator's clock and writes the log entry.
fn finish(shared: &Shared, draft: &mut LogDraft, mut resp: Response) -> Response {
    let date = httpdate::fmt_http_date(shared.now_system_time());
    if let Ok(v) = HeaderValue::from_str(&date) {
        resp.headers_mut().insert(header::DATE, v);
    }
    if let Some(id) = draft.request_id_header() {
        resp.headers_mut().insert(X_REQUEST_ID, id);
    }
    draft.finish(resp.status().as_u16());
    resp
}

/// Makes the connection task drop the connection, then waits to be dropped with it.
async fn drop_connection(shared: &Shared, draft: &mut LogDraft, conn: Option<ConnInfo>, mode: KillMode) -> Response {
    draft.finish(0);
    match conn {
        Some(conn) => {
            conn.kill.fire(mode);
            // The connection task drops this future with the connection; answering here
            // instead would let a response slip out. The bound only matters for HTTP/2
            // streams, which run in their own tasks.
            tokio::time::sleep(ORPHAN_STREAM_LIMIT).await;
        }
        None => shared.wait_shutdown().await,
    }
    StatusCode::SERVICE_UNAVAILABLE.into_response()
}

fn status_fault(status: u16, retry_after: Option<String>, body: Option<String>) -> Response {
    // An informational status cannot end an exchange; treat it as a server error.
    let status = StatusCode::from_u16(status)
        .ok()
        .filter(|s| !s.is_informational())
        .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    if status == StatusCode::NO_CONTENT || status == StatusCode::NOT_MODIFIED {
        // These statuses have no body (RFC 9110), whatever the rule gives.
        let mut resp = Response::new(Body::empty());
        *resp.status_mut() = status;
        return resp;
    }
    let body = body
        .unwrap_or_else(|| error_body(&format!("{} (injected fault)", status.canonical_reason().unwrap_or("Error"))));
    let content_type = if serde_json::from_str::<serde_json::Value>(&body).is_ok() {
        "application/json"
    } else if body.trim_start().starts_with('<') {
        "text/html"
    } else {
        "text/plain; charset=utf-8"
    };
    let mut resp = Response::new(Body::from(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    if let Some(v) = retry_after.and_then(|v| HeaderValue::from_str(&v).ok()) {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

fn redirect(status: u16, location: &str) -> Response {
    let status = StatusCode::from_u16(status).ok().filter(StatusCode::is_redirection).unwrap_or(StatusCode::FOUND);
    let mut resp = Response::new(Body::empty());
    *resp.status_mut() = status;
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert(header::LOCATION, v);
    }
    resp
}

fn malformed(endpoint: Endpoint) -> Response {
    let (body, content_type) = match endpoint {
        Endpoint::Fetch => ("{\"events\":[{\"eventId\":\"evt_", "application/json"),
        Endpoint::Acknowledge => ("{\"acknowledged\":", "application/json"),
        _ => ("<html><body><h1>502 Bad Gateway</h1></body></html>", "text/html"),
    };
    let mut resp = Response::new(Body::from(body));
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    resp
}

/// `bytes` bytes that start like a fetch answer and never become JSON, so a client that
/// reads them all still has to give a decode error.
fn oversized(bytes: u64) -> Response {
    let len = bytes.min(crate::faults::MAX_OVERSIZED_BYTES) as usize;
    let mut body = b"{\"events\":[".to_vec();
    body.resize(len.max(body.len()), b'x');
    body.truncate(len);
    let mut resp = Response::new(Body::from(body));
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    resp
}

/// Splits a response into its head and full body bytes.
async fn collect(resp: Response) -> (axum::http::response::Parts, Bytes) {
    let (mut parts, body) = resp.into_parts();
    // The body changes size from here on; hyper must compute the length itself.
    parts.headers.remove(header::CONTENT_LENGTH);
    let bytes = to_bytes(body, usize::MAX).await.unwrap_or_default();
    (parts, bytes)
}

/// Turns non-JSON error bodies (from the router itself, e.g. a 405 on an admin route)
/// into `{"error":"…"}`.
async fn jsonify_error(resp: Response) -> Response {
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/json"));
    if resp.status().as_u16() < 400 || is_json {
        return resp;
    }
    let status = resp.status();
    let (mut parts, bytes) = collect(resp).await;
    let text = String::from_utf8_lossy(&bytes);
    let message = if text.trim().is_empty() {
        status.canonical_reason().unwrap_or("Error").to_string()
    } else {
        text.trim().to_string()
    };
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, Body::from(error_body(&message)))
}

/// `{"success":true,"data":…}` around a success, `{"success":false,"error":…}` around an error.
async fn envelope(resp: Response) -> Response {
    let status = resp.status();
    let (mut parts, bytes) = collect(resp).await;
    let text = String::from_utf8_lossy(&bytes);
    let body = if status.is_success() {
        format!("{{\"success\":true,\"data\":{text}}}")
    } else {
        let message = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string))
            .unwrap_or_else(|| text.into_owned());
        serde_json::json!({ "success": false, "error": message }).to_string()
    };
    parts.headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    Response::from_parts(parts, Body::from(body))
}

/// Declares the full length, sends about half of the body, then closes the connection.
async fn truncate(resp: Response, conn: Option<ConnInfo>) -> Response {
    let (mut parts, bytes) = collect(resp).await;
    let declared = bytes.len().max(1);
    let cut = bytes.len() / 2;
    parts.headers.insert(header::CONTENT_LENGTH, HeaderValue::from(declared));
    let first = bytes.slice(..cut);
    let head = futures::stream::iter([Ok::<Bytes, Infallible>(first)]);
    let tail = futures::stream::once(async move {
        tokio::time::sleep(TRUNCATE_FLUSH_DELAY).await;
        if let Some(conn) = conn {
            conn.kill.fire(KillMode::Close);
            // The connection task drops this body along with the connection.
            std::future::pending::<()>().await;
        }
        // Without a kill switch, ending early still makes hyper close the connection.
        Ok::<Bytes, Infallible>(Bytes::new())
    })
    .filter(|chunk: &Result<Bytes, Infallible>| std::future::ready(chunk.as_ref().is_ok_and(|c| !c.is_empty())));
    Response::from_parts(parts, Body::from_stream(head.chain(tail)))
}
