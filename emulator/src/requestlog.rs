//! The request log: what each request looked like and how it was answered.

use axum::http::HeaderValue;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Oldest entries are dropped beyond this, so a long benchmark cannot exhaust memory.
pub(crate) const MAX_ENTRIES: usize = 10_000;
/// Logged request bodies are cut to this many bytes.
const MAX_BODY_BYTES: usize = 8 * 1024;

/// Which part of the API a request was for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Endpoint {
    /// `GET …/api/v1/webhook/events`
    Fetch,
    /// `POST …/api/v1/webhook/events/acknowledge`
    Acknowledge,
    /// `POST …/api/v1/sessions`
    Session,
    /// `/_emulator/…`
    Admin,
    /// Anything else (answered 404).
    Other,
}

impl Endpoint {
    /// Classifies a request path: the platform's paths exactly, the admin API by its
    /// `/_emulator` root.
    ///
    /// ```
    /// use smartai_emulator::Endpoint;
    /// assert_eq!(Endpoint::classify("/api/v1/webhook/events"), Endpoint::Fetch);
    /// assert_eq!(Endpoint::classify("/prefix/api/v1/webhook/events"), Endpoint::Other);
    /// assert_eq!(Endpoint::classify("/_emulator/stats"), Endpoint::Admin);
    /// ```
    pub fn classify(path: &str) -> Endpoint {
        Endpoint::classify_under(path, "")
    }

    /// [`Endpoint::classify`] with the platform's paths under `prefix` (`""` or `/a/b`; see
    /// [`EmulatorConfig::path_prefix`](crate::EmulatorConfig::path_prefix)).
    ///
    /// ```
    /// use smartai_emulator::Endpoint;
    /// assert_eq!(Endpoint::classify_under("/gw/api/v1/webhook/events", "/gw"), Endpoint::Fetch);
    /// assert_eq!(Endpoint::classify_under("/api/v1/webhook/events", "/gw"), Endpoint::Other);
    /// ```
    pub fn classify_under(path: &str, prefix: &str) -> Endpoint {
        if path == "/_emulator" || path.starts_with("/_emulator/") {
            return Endpoint::Admin;
        }
        match path.strip_prefix(prefix) {
            Some("/api/v1/webhook/events/acknowledge") => Endpoint::Acknowledge,
            Some("/api/v1/webhook/events") => Endpoint::Fetch,
            Some("/api/v1/sessions") => Endpoint::Session,
            _ => Endpoint::Other,
        }
    }
}

/// One received request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestLogEntry {
    /// Real Unix time in ms when the request arrived (not shifted by the clock offset).
    pub at_ms: i64,
    /// HTTP method.
    pub method: String,
    /// Path as received, without the query.
    pub path: String,
    /// Raw query string, if any.
    pub query: Option<String>,
    /// Which endpoint the path maps to.
    pub endpoint: Endpoint,
    /// Response status; 0 when the connection was dropped without a response.
    pub status: u16,
    /// The injected fault, e.g. `"status:503"` or `"reset"`.
    pub fault: Option<String>,
    /// The `x-request-id` header.
    pub request_id: Option<String>,
    /// The `x-api-key` header, masked.
    pub api_key: Option<String>,
    /// The `user-agent` header.
    pub user_agent: Option<String>,
    /// Time from arrival to the response (or to the drop).
    pub duration_ms: u64,
    /// Request body (first 8 KiB), if not empty.
    pub body: Option<String>,
}

/// A bounded, thread-safe list of entries.
#[derive(Default)]
pub(crate) struct RequestLog {
    entries: Mutex<VecDeque<RequestLogEntry>>,
}

impl RequestLog {
    pub fn push(&self, entry: RequestLogEntry) {
        let mut entries = crate::state::lock(&self.entries);
        if entries.len() >= MAX_ENTRIES {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    pub fn snapshot(&self) -> Vec<RequestLogEntry> {
        crate::state::lock(&self.entries).iter().cloned().collect()
    }

    pub fn clear(&self) {
        crate::state::lock(&self.entries).clear();
    }
}

/// An entry being filled while the request is handled. It is written to the log when
/// finished, or when dropped unfinished (the connection went away), then with status 0.
pub(crate) struct LogDraft {
    log: Arc<RequestLog>,
    request_id: Option<HeaderValue>,
    entry: Option<RequestLogEntry>,
    started: Instant,
}

impl LogDraft {
    pub fn new(log: Arc<RequestLog>, request_id: Option<HeaderValue>, entry: RequestLogEntry) -> Self {
        Self { log, request_id, entry: Some(entry), started: Instant::now() }
    }

    /// The request's `x-request-id`, echoed on the response so client logs can be matched.
    pub fn request_id_header(&self) -> Option<HeaderValue> {
        self.request_id.clone()
    }

    pub fn set_body(&mut self, body: &[u8]) {
        if let Some(e) = self.entry.as_mut()
            && !body.is_empty()
        {
            let cut = &body[..body.len().min(MAX_BODY_BYTES)];
            e.body = Some(String::from_utf8_lossy(cut).into_owned());
        }
    }

    pub fn set_fault(&mut self, label: String) {
        if let Some(e) = self.entry.as_mut() {
            e.fault = Some(label);
        }
    }

    /// Writes the entry with `status` (0 = no response). Later calls do nothing.
    pub fn finish(&mut self, status: u16) {
        if let Some(mut e) = self.entry.take() {
            e.status = status;
            e.duration_ms = u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            tracing::debug!(
                method = %e.method,
                path = %e.path,
                status,
                fault = e.fault.as_deref().unwrap_or(""),
                duration_ms = e.duration_ms,
                "request"
            );
            self.log.push(e);
        }
    }
}

impl Drop for LogDraft {
    fn drop(&mut self) {
        self.finish(0);
    }
}

/// Keeps enough of a key to tell keys apart in a log without printing it whole.
pub(crate) fn mask_key(key: &str) -> String {
    let chars: Vec<char> = key.chars().collect();
    if chars.len() <= 8 {
        return "…".to_string();
    }
    let head_len = if chars.len() > 15 { 11 } else { 4 };
    let head: String = chars[..head_len].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}…{tail}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_keys() {
        assert_eq!(mask_key("wc_ak_test_emulator0001"), "wc_ak_test_…0001");
        assert_eq!(mask_key("short"), "…");
    }

    #[test]
    fn classifies_paths() {
        assert_eq!(Endpoint::classify("/api/v1/webhook/events/acknowledge"), Endpoint::Acknowledge);
        assert_eq!(Endpoint::classify("/api/v1/sessions"), Endpoint::Session);
        assert_eq!(Endpoint::classify("/api/v1/webhook/events/"), Endpoint::Other);
        assert_eq!(Endpoint::classify("/_emulatorx"), Endpoint::Other);
        assert_eq!(Endpoint::classify("/api/v1/api/v1/webhook/events"), Endpoint::Other);
        assert_eq!(Endpoint::classify_under("/a/b/api/v1/sessions", "/a/b"), Endpoint::Session);
        assert_eq!(Endpoint::classify_under("/a/bapi/v1/sessions", "/a/b"), Endpoint::Other);
    }
}
