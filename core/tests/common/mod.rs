//! Shared setup: a real emulator on an ephemeral port and a client pointed at it.
#![allow(dead_code)]

use smartai_emulator::{Emulator, EmulatorConfig, Endpoint, FaultKind, FaultRule, RateLimitConfig, RequestLogEntry};
use smartai_events::{AssessmentClient, ClientBuilder, RetryPolicy};
use std::time::Duration;

/// An emulator with rate limits off, so tests control every fault themselves.
pub async fn emulator() -> Emulator {
    let config = EmulatorConfig { rate_limit: RateLimitConfig::disabled(), ..Default::default() };
    Emulator::start(config).await.expect("emulator starts")
}

/// A builder for `emu` with a fast retry policy and the idle-poll gate off.
pub fn builder(emu: &Emulator) -> ClientBuilder {
    AssessmentClient::builder()
        .api_key(emu.api_key())
        .secret_key(emu.secret_key())
        .base_url(emu.url())
        .min_poll_interval(Duration::ZERO)
        .retry_policy(RetryPolicy {
            max_retries: 3,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(20),
        })
        .timeout(Duration::from_secs(5))
}

pub fn client(emu: &Emulator) -> AssessmentClient {
    builder(emu).build().expect("client builds")
}

/// A fault that hits the next `times` requests to `endpoint`.
pub fn fault(endpoint: Endpoint, times: u32, kind: FaultKind) -> FaultRule {
    FaultRule { endpoint: Some(endpoint), probability: 1.0, remaining: Some(times), kind }
}

pub fn status(code: u16) -> FaultKind {
    FaultKind::Status { status: code, retry_after: None, body: None }
}

/// The requests the emulator saw for one endpoint.
pub fn requests(emu: &Emulator, endpoint: Endpoint) -> Vec<RequestLogEntry> {
    emu.request_log().into_iter().filter(|r| r.endpoint == endpoint).collect()
}

/// Guards a test against a hang; never a performance assertion.
pub async fn within<T>(what: &str, fut: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(60), fut).await.unwrap_or_else(|_| panic!("{what} hung"))
}
