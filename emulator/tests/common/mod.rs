//! Helpers shared by the integration tests: start an emulator and send signed requests
//! with the core crate's signing rules.
#![allow(dead_code)]

use serde_json::Value;
use smartai_emulator::{Emulator, EmulatorConfig};
use smartai_events::{canonical, signing};
use std::time::{SystemTime, UNIX_EPOCH};

pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as i64
}

pub async fn start(config: EmulatorConfig) -> Emulator {
    Emulator::start(config).await.expect("emulator starts")
}

/// An emulator with rate limits off, which most functional tests want.
pub async fn start_plain() -> Emulator {
    start(EmulatorConfig::default().without_rate_limit()).await
}

/// A signed request builder.
#[derive(Clone)]
pub struct Caller {
    pub http: reqwest::Client,
    pub base: String,
    pub api_key: String,
    pub secret: String,
}

pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub text: String,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.text).unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", self.text))
    }

    pub fn error(&self) -> String {
        self.json()["error"].as_str().unwrap_or_default().to_string()
    }

    pub fn header(&self, name: &str) -> Option<String> {
        self.headers.get(name).map(|v| v.to_str().unwrap().to_string())
    }
}

impl Caller {
    pub fn new(emu: &Emulator) -> Self {
        Self::for_key(emu, emu.api_key(), emu.secret_key())
    }

    pub fn for_key(emu: &Emulator, api_key: &str, secret: &str) -> Self {
        Self {
            http: reqwest::Client::builder().pool_max_idle_per_host(0).build().unwrap(),
            base: emu.url(),
            api_key: api_key.to_string(),
            secret: secret.to_string(),
        }
    }

    /// Builds a signed request; `path_and_query` may carry a query, which is not signed.
    pub fn request(
        &self,
        method: &str,
        path_and_query: &str,
        body: Option<&Value>,
        timestamp_ms: i64,
    ) -> reqwest::RequestBuilder {
        let path = path_and_query.split('?').next().unwrap();
        let body_text = body.map(canonical::to_string).unwrap_or_default();
        let signature = signing::sign(&self.secret, &signing::payload(method, path, timestamp_ms, &body_text));
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .http
            .request(method, format!("{}{}", self.base, path_and_query))
            .header("x-api-key", &self.api_key)
            .header("x-timestamp", timestamp_ms.to_string())
            .header("x-signature", signature)
            .header("x-request-id", "req-test-1")
            .header("user-agent", "smartai-events/0.1.0 (rust)");
        if body.is_some() {
            req = req.header("content-type", "application/json").body(body_text);
        }
        req
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Reply {
        let resp = req.send().await.expect("request sent");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body read");
        Reply { status, headers, text }
    }

    /// Sends `req` with header `name` replaced by `value` (reqwest's builder only appends).
    pub async fn send_replacing(&self, req: reqwest::RequestBuilder, name: &'static str, value: &str) -> Reply {
        let mut req = req.build().unwrap();
        req.headers_mut().insert(name, value.parse().unwrap());
        let resp = self.http.execute(req).await.expect("request sent");
        let status = resp.status().as_u16();
        let headers = resp.headers().clone();
        let text = resp.text().await.expect("body read");
        Reply { status, headers, text }
    }

    pub async fn call(&self, method: &str, path_and_query: &str, body: Option<&Value>) -> Reply {
        self.send(self.request(method, path_and_query, body, now_ms())).await
    }

    pub async fn fetch(&self, query: &str) -> Reply {
        self.call("GET", &format!("/api/v1/webhook/events{query}"), None).await
    }

    pub async fn ack(&self, ids: &[&str]) -> Reply {
        let body = serde_json::json!({ "eventIds": ids });
        self.call("POST", "/api/v1/webhook/events/acknowledge", Some(&body)).await
    }

    /// Unsigned admin call.
    pub async fn admin(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        self.send(req).await
    }
}

/// A minimal event with a chosen ID and storedAt (Unix ms).
pub fn event(id: &str, stored_at_ms: i64) -> Value {
    serde_json::json!({
        "eventId": id,
        "event": "assessment.completed",
        "storedAt": iso(stored_at_ms),
        "score": 70,
    })
}

pub fn iso(ms: i64) -> String {
    chrono::DateTime::<chrono::Utc>::from_timestamp_millis(ms)
        .unwrap()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

pub fn ids(reply: &Reply) -> Vec<String> {
    reply.json()["events"].as_array().unwrap().iter().map(|e| e["eventId"].as_str().unwrap().to_string()).collect()
}
