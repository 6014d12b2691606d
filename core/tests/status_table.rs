//! Every row of the status table, for fetch and for acknowledge: which errors are retried,
//! how often, and what the caller sees.

mod common;

use common::*;
use smartai_emulator::{Endpoint, FaultKind};
use smartai_events::{AssessmentClient, ErrorCode, FetchOptions, SessionRequest, SessionUser};
use std::time::Duration;

async fn call(client: &AssessmentClient, endpoint: Endpoint) -> smartai_events::Result<()> {
    match endpoint {
        Endpoint::Fetch => client.get_webhook_events(FetchOptions::new()).await.map(drop),
        _ => client.acknowledge_webhook_events(&["evt_x"]).await.map(drop),
    }
}

/// Makes every request to `endpoint` fail with `kind`, calls once, and returns the error and
/// the number of attempts the emulator saw.
async fn fail_with(endpoint: Endpoint, kind: FaultKind) -> (smartai_events::Error, usize) {
    let emu = emulator().await;
    let client = client(&emu);
    emu.add_fault(fault(endpoint, 100, kind));
    let err = within("call", call(&client, endpoint)).await.unwrap_err();
    (err, requests(&emu, endpoint).len())
}

#[tokio::test]
async fn non_retryable_statuses_are_attempted_once() {
    let cases = [
        (400, ErrorCode::InvalidRequest),
        (422, ErrorCode::InvalidRequest),
        (401, ErrorCode::Authentication),
        (403, ErrorCode::Authentication),
        (404, ErrorCode::NotFound),
        (405, ErrorCode::NotFound),
    ];
    for endpoint in [Endpoint::Fetch, Endpoint::Acknowledge] {
        for (code, expected) in cases {
            let (err, attempts) = fail_with(endpoint, status(code)).await;
            assert_eq!(err.code(), expected, "{endpoint:?} {code}: {err}");
            assert_eq!(err.status(), Some(code));
            assert!(err.request_id().is_some());
            assert_eq!(attempts, 1, "{endpoint:?} {code} must not be retried");
        }
    }
}

#[tokio::test]
async fn retryable_statuses_use_every_attempt() {
    let cases = [
        (408, ErrorCode::Timeout),
        (429, ErrorCode::RateLimited),
        (500, ErrorCode::Server),
        (502, ErrorCode::Server),
        (503, ErrorCode::Server),
        (504, ErrorCode::Server),
    ];
    for endpoint in [Endpoint::Fetch, Endpoint::Acknowledge] {
        for (code, expected) in cases {
            let (err, attempts) = fail_with(endpoint, status(code)).await;
            assert_eq!(err.code(), expected, "{endpoint:?} {code}: {err}");
            assert_eq!(attempts, 4, "{endpoint:?} {code}: 1 attempt + 3 retries");
        }
    }
}

#[tokio::test]
async fn a_redirect_is_not_followed_so_the_key_and_signature_stay_with_base_url() {
    let elsewhere = emulator().await;
    for endpoint in [Endpoint::Fetch, Endpoint::Acknowledge] {
        for code in [301, 302, 307, 308] {
            let path = match endpoint {
                Endpoint::Fetch => "/api/v1/webhook/events",
                _ => "/api/v1/webhook/events/acknowledge",
            };
            let location = format!("{}{path}", elsewhere.url());
            let (err, attempts) = fail_with(endpoint, FaultKind::Redirect { status: code, location }).await;
            assert_eq!(err.code(), ErrorCode::Server, "{endpoint:?} {code}: {err}");
            assert_eq!(err.status(), Some(code));
            assert!(err.to_string().contains("redirect, which is not followed"), "{err}");
            // The status once, and the option named as every language spells it.
            assert_eq!(err.to_string().matches(&code.to_string()).count(), 1, "{err}");
            assert!(err.to_string().ends_with("check the base URL"), "{err}");
            assert_eq!(attempts, 1, "{endpoint:?} {code} must not be retried");
        }
    }
    assert!(elsewhere.request_log().is_empty(), "the other server saw {:?}", elsewhere.request_log());
}

#[tokio::test]
async fn authentication_error_reads_like_the_official_sdk() {
    let (err, _) = fail_with(Endpoint::Fetch, status(401)).await;
    assert!(err.to_string().starts_with("HTTP 401 from SmartAI platform: "), "{err}");
}

#[tokio::test]
async fn connection_failures_are_retried_then_network_errors() {
    for endpoint in [Endpoint::Fetch, Endpoint::Acknowledge] {
        for kind in [FaultKind::Reset, FaultKind::Truncate] {
            let (err, attempts) = fail_with(endpoint, kind.clone()).await;
            assert_eq!(err.code(), ErrorCode::Network, "{endpoint:?} {kind:?}: {err}");
            assert_eq!(attempts, 4, "{endpoint:?} {kind:?}");
        }
    }
}

#[tokio::test]
async fn connection_refused_is_a_network_error() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let client = AssessmentClient::builder()
        .api_key("wc_ak_test_0123456789")
        .secret_key("wc_sk_test_x")
        .base_url(url)
        .max_retries(1)
        .build()
        .unwrap();
    let err = within("refused", client.get_webhook_events(FetchOptions::new())).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Network);
    assert!(err.to_string().to_lowercase().contains("connect"), "{err}");
}

#[tokio::test]
async fn malformed_success_body_is_a_decode_error_that_quotes_it() {
    for endpoint in [Endpoint::Fetch, Endpoint::Acknowledge] {
        let (err, attempts) = fail_with(endpoint, FaultKind::MalformedJson).await;
        assert_eq!(err.code(), ErrorCode::Decode, "{err}");
        assert!(err.to_string().contains("body starts with"), "{err}");
        assert_eq!(attempts, 1, "a decode error is not retried");
    }
}

#[tokio::test]
async fn a_success_body_of_the_wrong_shape_is_a_decode_error_of_that_response() {
    let cases = [
        (Endpoint::Fetch, r#"{"events":"nope","pendingCount":0}"#, "pendingCount"),
        (Endpoint::Acknowledge, r#"{"ok":true}"#, "acknowledged"),
        // The excerpt, not only "an object": the count is there, but not an integer.
        (Endpoint::Acknowledge, r#"{"acknowledged":1.0}"#, r#"got {"acknowledged":1.0}"#),
        (Endpoint::Session, r#"{"ok":true}"#, "token"),
    ];
    for (endpoint, body, named) in cases {
        let emu = emulator().await;
        let client = client(&emu);
        emu.add_fault(fault(
            endpoint,
            1,
            FaultKind::Status { status: 200, retry_after: None, body: Some(body.into()) },
        ));
        let err = within("call", async {
            match endpoint {
                Endpoint::Session => {
                    let user = SessionUser { name: "Ada".into(), email: "ada@example.com".into() };
                    client.create_session(SessionRequest::new(vec![user]).recruiter_id("r1")).await.map(drop)
                }
                _ => call(&client, endpoint).await,
            }
        })
        .await
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::Decode, "{endpoint:?}: {err}");
        assert!(err.to_string().contains(named), "{endpoint:?}: {err}");
        assert_eq!(err.status(), Some(200), "{endpoint:?}: {err}");
        let sent = requests(&emu, endpoint);
        assert_eq!(err.request_id(), sent[0].request_id.as_deref(), "{endpoint:?}: the request ID that was sent");
        assert!(err.request_id().is_some());
    }
}

#[tokio::test]
async fn a_hanging_server_times_out_and_is_retried() {
    let emu = emulator().await;
    let client = builder(&emu).timeout(Duration::from_millis(300)).max_retries(1).build().unwrap();
    emu.add_fault(fault(Endpoint::Fetch, 10, FaultKind::Hang));
    let err = within("hang", client.get_webhook_events(FetchOptions::new())).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Timeout, "{err}");
    assert_eq!(requests(&emu, Endpoint::Fetch).len(), 2);
}

#[tokio::test]
async fn a_transient_failure_then_success_succeeds() {
    let emu = emulator().await;
    emu.generate(5);
    let client = client(&emu);
    emu.add_fault(fault(Endpoint::Fetch, 1, FaultKind::Reset));
    emu.add_fault(fault(Endpoint::Acknowledge, 1, status(502)));
    let batch = client.get_webhook_events(FetchOptions::new()).await.unwrap();
    assert_eq!(batch.events.len(), 5);
    let ids: Vec<&str> = batch.events.iter().map(|e| e.event_id()).collect();
    assert_eq!(client.acknowledge_webhook_events(&ids).await.unwrap().acknowledged, 5);
}

#[tokio::test]
async fn applied_but_lost_acknowledge_is_retried_safely() {
    let emu = emulator().await;
    emu.generate(5);
    let client = client(&emu);
    emu.add_fault(fault(Endpoint::Acknowledge, 1, FaultKind::AppliedButLost));
    let ids = emu.pending_ids();
    let ack = client.acknowledge_webhook_events(&ids).await.unwrap();
    // The first attempt removed them; the retry finds nothing left to remove.
    assert_eq!(ack.acknowledged, 0);
    assert!(emu.pending_ids().is_empty());
    assert_eq!(requests(&emu, Endpoint::Acknowledge).len(), 2);
}

#[tokio::test]
async fn retry_after_seconds_is_a_floor_for_the_next_attempt() {
    let emu = emulator().await;
    let client = client(&emu);
    emu.add_fault(fault(
        Endpoint::Fetch,
        1,
        FaultKind::Status { status: 429, retry_after: Some("1".into()), body: None },
    ));
    client.get_webhook_events(FetchOptions::new()).await.unwrap();
    let log = requests(&emu, Endpoint::Fetch);
    assert_eq!(log.len(), 2);
    assert!(log[1].at_ms - log[0].at_ms >= 1000, "waited {} ms", log[1].at_ms - log[0].at_ms);
}

#[tokio::test]
async fn retry_after_http_date_is_a_floor_for_the_next_attempt() {
    let emu = emulator().await;
    let client = client(&emu);
    let at = std::time::SystemTime::now() + Duration::from_secs(2);
    let date = httpdate::fmt_http_date(at);
    emu.add_fault(fault(Endpoint::Fetch, 1, FaultKind::Status { status: 503, retry_after: Some(date), body: None }));
    client.get_webhook_events(FetchOptions::new()).await.unwrap();
    let log = requests(&emu, Endpoint::Fetch);
    assert_eq!(log.len(), 2);
    // An HTTP-date has whole seconds, so 2 s ahead is at least 1 s ahead.
    assert!(log[1].at_ms - log[0].at_ms >= 1000, "waited {} ms", log[1].at_ms - log[0].at_ms);
}

#[tokio::test]
async fn rate_limited_error_carries_retry_after() {
    let emu = emulator().await;
    let client = builder(&emu).max_retries(0).build().unwrap();
    emu.add_fault(fault(
        Endpoint::Fetch,
        1,
        FaultKind::Status { status: 429, retry_after: Some("7".into()), body: None },
    ));
    let err = client.get_webhook_events(FetchOptions::new()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::RateLimited);
    assert_eq!(err.retry_after(), Some(Duration::from_secs(7)));
}

#[tokio::test]
async fn server_message_is_surfaced() {
    let emu = emulator().await;
    let client = client(&emu);
    let body = r#"{"success":false,"error":"limit is odd"}"#.to_string();
    emu.add_fault(fault(Endpoint::Fetch, 1, FaultKind::Status { status: 400, retry_after: None, body: Some(body) }));
    let err = client.get_webhook_events(FetchOptions::new()).await.unwrap_err();
    assert_eq!(err.server_message(), Some("limit is odd"));
    assert!(err.to_string().contains("limit is odd"));
}

#[tokio::test]
async fn clock_skew_is_corrected_once_and_remembered() {
    let emu = emulator().await;
    emu.generate(2);
    emu.set_clock_offset_ms(15 * 60 * 1000); // the server is 15 minutes ahead
    let client = client(&emu);
    let batch = client.get_webhook_events(FetchOptions::new()).await.unwrap();
    assert_eq!(batch.events.len(), 2);
    let statuses: Vec<u16> = emu.request_log().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![401, 200], "one refusal, then a re-signed success");

    emu.clear_request_log();
    client.get_webhook_events(FetchOptions::new()).await.unwrap();
    let statuses: Vec<u16> = emu.request_log().iter().map(|r| r.status).collect();
    assert_eq!(statuses, vec![200], "later requests use the corrected clock");
}

#[tokio::test]
async fn a_wrong_secret_is_not_retried_even_after_a_skew_check() {
    let emu = emulator().await;
    let client = builder(&emu).secret_key("wc_sk_test_wrong").build().unwrap();
    let err = client.get_webhook_events(FetchOptions::new()).await.unwrap_err();
    assert_eq!(err.code(), ErrorCode::Authentication);
    assert_eq!(emu.request_log().len(), 1);
    assert!(!err.to_string().contains("wc_sk_test_wrong"));
}
