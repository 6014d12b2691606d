//! Bad input, one table: every row must end in a clear typed error (its code, a message
//! naming the bad value) or, where the input is merely unusual, in success. Never a panic,
//! a crash or a hang. Rows that need a server talk to the real emulator over real HTTP.

mod common;

use common::{emulator, fault, status};
use serde_json::{Value, json};
use smartai_emulator::{Emulator, Endpoint, FaultKind, FaultRule};
use smartai_events::{
    AssessmentClient, ClientBuilder, DrainOptions, ErrorCode, FetchOptions, Result, RetryPolicy, RunOptions,
    SessionRequest, SessionUser, validate,
};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

type Outcome = Pin<Box<dyn Future<Output = Result<()>> + Send>>;

/// What a row expects.
enum Expect {
    /// This code, and a message containing every fragment.
    Error(ErrorCode, &'static [&'static str]),
    /// Success; the row's closure checks what it got.
    Ok,
}

struct Case {
    name: &'static str,
    run: Box<dyn Fn(Arc<Emulator>) -> Outcome>,
    expect: Expect,
    /// The row means nothing while this variable is set (the client would read it).
    needs_unset: Option<&'static str>,
}

fn case<F, Fut>(name: &'static str, expect: Expect, run: F) -> Case
where
    F: Fn(Arc<Emulator>) -> Fut + 'static,
    Fut: Future<Output = Result<()>> + Send + 'static,
{
    Case { name, run: Box::new(move |emu| Box::pin(run(emu))), expect, needs_unset: None }
}

impl Case {
    fn unless_set(mut self, var: &'static str) -> Case {
        self.needs_unset = Some(var);
        self
    }
}

fn err(code: ErrorCode, fragments: &'static [&'static str]) -> Expect {
    Expect::Error(code, fragments)
}

use ErrorCode::{Authentication, Configuration, Decode, InvalidArgument, Network, Timeout};

/// The shared test client, with one retry: every row that fails, fails fast.
fn builder(emu: &Emulator) -> ClientBuilder {
    common::builder(emu)
        .retry_policy(RetryPolicy {
            max_retries: 1,
            base_delay: Duration::from_millis(1),
            max_delay: Duration::from_millis(5),
        })
        .timeout(Duration::from_secs(10))
}

async fn fetch_with(emu: &Emulator, options: FetchOptions) -> Result<()> {
    builder(emu).build()?.get_webhook_events(options).await.map(drop)
}

/// A fetch whose options arrive as JSON, as the Python and Node bindings hand them over.
async fn fetch_json(emu: &Emulator, options: Value) -> Result<()> {
    fetch_with(emu, FetchOptions::from_json(&options)?).await
}

async fn ack_json(emu: &Emulator, ids: Value) -> Result<()> {
    let ids = validate::event_ids_value(&ids)?;
    builder(emu).build()?.acknowledge_webhook_events(&ids).await.map(drop)
}

fn keys(api: Option<&str>, secret: Option<&str>) -> ClientBuilder {
    let mut b = AssessmentClient::builder().base_url("http://127.0.0.1:1");
    if let Some(k) = api {
        b = b.api_key(k);
    }
    if let Some(s) = secret {
        b = b.secret_key(s);
    }
    b
}

fn user(name: &str, email: &str) -> SessionUser {
    SessionUser { name: name.into(), email: email.into() }
}

/// A port nothing listens on: bound once by us, then released.
fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

fn cases() -> Vec<Case> {
    vec![
        // --- limit: ranges and types -------------------------------------------------------
        case("limit 0", err(InvalidArgument, &["limit must be an integer >= 1", "got 0"]), |emu| async move {
            fetch_with(&emu, FetchOptions::new().limit(0)).await
        }),
        case("limit negative", err(InvalidArgument, &["got -7"]), |emu| async move {
            fetch_with(&emu, FetchOptions::new().limit(-7)).await
        }),
        case("limit i64::MIN", err(InvalidArgument, &["got -9223372036854775808"]), |emu| async move {
            fetch_with(&emu, FetchOptions::new().limit(i64::MIN)).await
        }),
        case("limit a string", err(InvalidArgument, &[r#""5" (a string)"#]), |emu| async move {
            fetch_json(&emu, json!({"limit": "5"})).await
        }),
        case("limit a fraction", err(InvalidArgument, &["got 1.5"]), |emu| async move {
            fetch_json(&emu, json!({"limit": 1.5})).await
        }),
        case("limit a boolean", err(InvalidArgument, &["true (a boolean)"]), |emu| async move {
            fetch_json(&emu, json!({"limit": true})).await
        }),
        case("limit an object", err(InvalidArgument, &["limit must be", "an object"]), |emu| async move {
            fetch_json(&emu, json!({"limit": {"n": 5}})).await
        }),
        case("limit above the cap is clamped, not refused", Expect::Ok, |emu| async move {
            emu.generate(150);
            let batch = builder(&emu).build()?.get_webhook_events(FetchOptions::new().limit(i64::MAX)).await?;
            assert_eq!(batch.events.len(), 100);
            // Beyond i64 too, as a binding may pass it (2**63, 1e20): still a whole number above 100.
            for huge in [json!(9_223_372_036_854_775_808u64), json!(1e20)] {
                let batch = builder(&emu)
                    .build()?
                    .get_webhook_events(FetchOptions::from_json(&json!({"limit": huge}))?)
                    .await?;
                assert_eq!(batch.events.len(), 100);
            }
            Ok(())
        }),
        // --- since -----------------------------------------------------------------------------
        case("since in seconds", err(InvalidArgument, &["1717200000", "looks like seconds"]), |emu| async move {
            fetch_with(&emu, FetchOptions::new().since_ms(1_717_200_000)).await
        }),
        case("since zero", err(InvalidArgument, &["got 0 (1970-01-01", "leave since out"]), |emu| async move {
            fetch_with(&emu, FetchOptions::new().since_ms(0)).await
        }),
        case("since negative", err(InvalidArgument, &["non-negative", "got -5"]), |emu| async move {
            fetch_with(&emu, FetchOptions::new().since_ms(-5)).await
        }),
        case("since a string", err(InvalidArgument, &[r#""yesterday" (a string)"#]), |emu| async move {
            fetch_json(&emu, json!({"since": "yesterday"})).await
        }),
        case("since a fraction", err(InvalidArgument, &["since must be", "1717200000000.5"]), |emu| async move {
            fetch_json(&emu, json!({"since": 1_717_200_000_000.5})).await
        }),
        case("since a boolean", err(InvalidArgument, &["false (a boolean)"]), |emu| async move {
            fetch_json(&emu, json!({"since": false})).await
        }),
        case("fetch option misspelt", err(InvalidArgument, &[r#""limt""#]), |emu| async move {
            fetch_json(&emu, json!({"limt": 5})).await
        }),
        // --- acknowledge IDs -----------------------------------------------------------------
        case("no IDs", err(InvalidArgument, &["eventIds must be a non-empty array"]), |emu| async move {
            builder(&emu).build()?.acknowledge_webhook_events::<&str>(&[]).await.map(drop)
        }),
        case("an empty-string ID", err(InvalidArgument, &["eventIds[1]", r#""""#]), |emu| async move {
            builder(&emu).build()?.acknowledge_webhook_events(&["evt_1", ""]).await.map(drop)
        }),
        case("a blank ID", err(InvalidArgument, &["eventIds[0]", r#""   ""#]), |emu| async move {
            builder(&emu).build()?.acknowledge_webhook_events(&["   "]).await.map(drop)
        }),
        case("a number among the IDs", err(InvalidArgument, &["eventIds[1]", "got 7"]), |emu| async move {
            ack_json(&emu, json!(["evt_1", 7])).await
        }),
        case("a null ID", err(InvalidArgument, &["eventIds[0]", "got null"]), |emu| async move {
            ack_json(&emu, json!([null])).await
        }),
        case("IDs as one string", err(InvalidArgument, &["eventIds must be a non-empty array"]), |emu| async move {
            ack_json(&emu, json!("evt_1")).await
        }),
        case("10,000 IDs go in chunks of 100", Expect::Ok, |emu| async move {
            emu.generate(150);
            let mut ids = emu.pending_ids();
            ids.extend((0..9_850).map(|i| format!("evt_unknown_{i}")));
            let result = builder(&emu).build()?.acknowledge_webhook_events(&ids).await?;
            assert_eq!(result.acknowledged, 150);
            let acks = emu.request_log().iter().filter(|r| r.endpoint == Endpoint::Acknowledge).count();
            assert_eq!(acks, 100);
            assert!(emu.pending_ids().is_empty());
            Ok(())
        }),
        case(
            "an ID of 11 MB",
            err(ErrorCode::InvalidRequest, &["HTTP 413", "larger than 10485760 bytes"]),
            |emu| async move { builder(&emu).build()?.acknowledge_webhook_events(&["x".repeat(11 << 20)]).await.map(drop) },
        ),
        case("IDs with quotes, controls and non-ASCII are sent and signed as they are", Expect::Ok, |emu| async move {
            let odd = "évt_ü\"\\\n/\u{2028}\u{1}";
            emu.enqueue(vec![json!({"eventId": odd, "event": "assessment.completed"})]);
            assert_eq!(builder(&emu).build()?.acknowledge_webhook_events(&[odd]).await?.acknowledged, 1);
            Ok(())
        }),
        // --- base URL --------------------------------------------------------------------------
        case("base URL not a URL", err(Configuration, &["invalid base URL", r#""not a url""#]), |_| async move {
            keys(Some("wc_ak_test_0123456789"), Some("s")).base_url("not a url").build().map(drop)
        }),
        case("base URL ftp", err(Configuration, &[r#""ftp://example.com""#, "ftp"]), |_| async move {
            keys(Some("wc_ak_test_0123456789"), Some("s")).base_url("ftp://example.com").build().map(drop)
        }),
        case(
            "base URL plain http to a remote host",
            err(Configuration, &["insecure", "http://example.com"]),
            |_| async move {
                keys(Some("wc_ak_test_0123456789"), Some("s")).base_url("http://example.com").build().map(drop)
            },
        ),
        case("base URL empty", err(Configuration, &["invalid base URL", r#""""#, "empty"]), |_| async move {
            keys(Some("wc_ak_test_0123456789"), Some("s")).base_url("").build().map(drop)
        }),
        case("base URL with a query", err(Configuration, &["https://h/?q=1"]), |_| async move {
            keys(Some("wc_ak_test_0123456789"), Some("s")).base_url("https://h/?q=1").build().map(drop)
        }),
        // --- keys ----------------------------------------------------------------------------
        case("API key empty", err(Configuration, &["API key given is empty", "ASSESSMENT_API_KEY"]), |_| async move {
            keys(Some(""), Some("s")).build().map(drop)
        }),
        case("secret key blank", err(Configuration, &["secret key given is empty"]), |_| async move {
            keys(Some("wc_ak_test_0123456789"), Some("  ")).build().map(drop)
        }),
        case("missing API key", err(Configuration, &["Missing API key"]), |_| async move {
            keys(None, Some("s")).build().map(drop)
        })
        .unless_set("ASSESSMENT_API_KEY"),
        case("missing secret key", err(Configuration, &["Missing secret key"]), |_| async move {
            keys(Some("wc_ak_test_0123456789"), None).build().map(drop)
        })
        .unless_set("ASSESSMENT_SECRET_KEY"),
        case("API key with a newline", err(Configuration, &["API key", "whitespace"]), |_| async move {
            keys(Some("wc_ak_test_01234\n56789"), Some("s")).build().map(drop)
        }),
        case("wrong API key", err(Authentication, &["HTTP 401", "Invalid API key"]), |emu| async move {
            builder(&emu)
                .api_key("wc_ak_test_not_a_real_key_0000")
                .build()?
                .get_webhook_events(FetchOptions::new())
                .await
                .map(drop)
        }),
        case("wrong secret key", err(Authentication, &["HTTP 401", "Invalid signature"]), |emu| async move {
            builder(&emu)
                .secret_key("wc_sk_test_wrong")
                .build()?
                .get_webhook_events(FetchOptions::new())
                .await
                .map(drop)
        }),
        // --- what the server sends back --------------------------------------------------------
        case(
            "a body that is not JSON",
            err(Decode, &["expected a JSON object", "the body starts with"]),
            |emu| async move {
                emu.add_fault(fault(Endpoint::Fetch, 1, FaultKind::MalformedJson));
                fetch_with(&emu, FetchOptions::new()).await
            },
        ),
        case(
            "a 10 MB body that is not JSON",
            err(Decode, &["the body starts with", r#"{\"events\":[xxx"#]),
            |emu| async move {
                emu.add_fault(fault(Endpoint::Fetch, 1, FaultKind::OversizedBody { bytes: 10 << 20 }));
                fetch_with(&emu, FetchOptions::new()).await
            },
        ),
        case("a body above 64 MiB", err(Decode, &["larger than 67108864 bytes"]), |emu| async move {
            emu.add_fault(fault(Endpoint::Fetch, 1, FaultKind::OversizedBody { bytes: 70 << 20 }));
            fetch_with(&emu, FetchOptions::new()).await
        }),
        case("one event of 10 MB decodes", Expect::Ok, |emu| async move {
            let padding = "é".repeat(5 << 20);
            emu.enqueue(vec![
                json!({"eventId": "evt_big", "event": "assessment.completed", "score": 1, "padding": padding}),
            ]);
            let batch = builder(&emu).build()?.get_webhook_events(FetchOptions::new()).await?;
            assert_eq!(batch.events.len(), 1);
            assert_eq!(batch.events[0].event_id(), "evt_big");
            assert_eq!(batch.events[0].raw()["padding"].as_str().map(str::len), Some(10 << 20));
            Ok(())
        }),
        case("a truncated body", err(Network, &["network error", "body"]), |emu| async move {
            emu.add_fault(FaultRule::new(FaultKind::Truncate).on(Endpoint::Fetch));
            fetch_with(&emu, FetchOptions::new()).await
        }),
        case("a 500 with a 1 MB body is quoted short", Expect::Ok, |emu| async move {
            let body = format!("<html>{}", "x".repeat(1 << 20));
            emu.add_fault(FaultRule::new(FaultKind::Status { status: 500, retry_after: None, body: Some(body) }));
            let e = fetch_with(&emu, FetchOptions::new()).await.unwrap_err();
            assert_eq!(e.code(), ErrorCode::Server);
            assert!(e.to_string().starts_with("server error (HTTP 500): <html>xxx"), "{e}");
            assert!(e.to_string().len() < 1_000, "{} chars", e.to_string().len());
            Ok(())
        }),
        // Not rounded to 0.0 s.
        case(
            "a server that hangs past 20 ms",
            err(Timeout, &["no complete response within 0.02 s"]),
            |emu| async move {
                emu.add_fault(FaultRule::new(FaultKind::Hang).on(Endpoint::Fetch));
                builder(&emu)
                    .timeout(Duration::from_millis(20))
                    .max_retries(0)
                    .build()?
                    .get_webhook_events(FetchOptions::new())
                    .await
                    .map(drop)
            },
        ),
        case("a server that hangs", err(Timeout, &["no complete response within 0.3 s"]), |emu| async move {
            emu.add_fault(FaultRule::new(FaultKind::Hang).on(Endpoint::Fetch));
            builder(&emu)
                .timeout(Duration::from_millis(300))
                .build()?
                .get_webhook_events(FetchOptions::new())
                .await
                .map(drop)
        }),
        case("connection refused", err(Network, &["network error"]), |_| async move {
            let url = format!("http://127.0.0.1:{}", closed_port());
            let client = keys(Some("wc_ak_test_0123456789"), Some("s"))
                .base_url(url)
                .retry_policy(RetryPolicy {
                    max_retries: 2,
                    base_delay: Duration::from_millis(1),
                    max_delay: Duration::from_millis(5),
                })
                .build()?;
            client.get_webhook_events(FetchOptions::new()).await.map(drop)
        }),
        case("a 503 that never ends", err(ErrorCode::Server, &["HTTP 503"]), |emu| async move {
            emu.add_fault(FaultRule::new(status(503)).on(Endpoint::Fetch));
            fetch_with(&emu, FetchOptions::new()).await
        }),
        // --- sessions --------------------------------------------------------------------------
        case("session without users", err(InvalidArgument, &["users must be a non-empty array"]), |emu| async move {
            builder(&emu).build()?.create_session(SessionRequest::new(vec![]).recruiter_id("r")).await.map(drop)
        }),
        case("session without recruiter", err(InvalidArgument, &["recruiterId or recruiterEmail"]), |emu| async move {
            builder(&emu).build()?.create_session(SessionRequest::new(vec![user("A", "a@b.com")])).await.map(drop)
        }),
        case(
            "session user without email",
            err(InvalidArgument, &["email is required", "users[1]"]),
            |emu| async move {
                let req = SessionRequest::new(vec![user("A", "a@b.com"), user("B", " ")]).recruiter_id("r");
                builder(&emu).build()?.create_session(req).await.map(drop)
            },
        ),
        case(
            "session user name a number",
            err(InvalidArgument, &["users[0].name must be a string, got 5"]),
            |emu| async move {
                let req = SessionRequest::from_json(
                    &json!({"users": [{"name": 5, "email": "a@b.com"}], "recruiterId": "r"}),
                )?;
                builder(&emu).build()?.create_session(req).await.map(drop)
            },
        ),
        case(
            "session recruiterId a number",
            err(InvalidArgument, &["recruiterId must be a string", "got 42"]),
            |emu| async move {
                let req = SessionRequest::from_json(
                    &json!({"users": [{"name": "A", "email": "a@b.com"}], "recruiterId": 42}),
                )?;
                builder(&emu).build()?.create_session(req).await.map(drop)
            },
        ),
        case(
            "session option misspelt",
            err(InvalidArgument, &[r#"unknown session option "recruiterID""#, "recruiterId"]),
            |emu| async move {
                let req = SessionRequest::from_json(
                    &json!({"users": [{"name": "A", "email": "a@b.com"}], "recruiterEmail": "r@b.com", "recruiterID": "r"}),
                )?;
                builder(&emu).build()?.create_session(req).await.map(drop)
            },
        ),
        case(
            "session user with a field the platform does not take",
            err(InvalidArgument, &[r#"unknown field "phone" in users[0]; expected name, email"#]),
            |emu| async move {
                let req = SessionRequest::from_json(
                    &json!({"users": [{"name": "A", "email": "a@b.com", "phone": "1"}], "recruiterId": "r"}),
                )?;
                builder(&emu).build()?.create_session(req).await.map(drop)
            },
        ),
        // --- run -------------------------------------------------------------------------------
        case(
            "run interval below 5 s",
            err(InvalidArgument, &["interval must be at least 5s", "got 1s"]),
            |emu| async move {
                let client = builder(&emu).min_poll_interval(Duration::from_secs(5)).build()?;
                let opts = RunOptions::new().interval(Duration::from_secs(1));
                client
                    .run(|_events| async { Ok::<(), std::io::Error>(()) }, opts, std::future::pending())
                    .await
                    .map(drop)
            },
        ),
        case("run max_attempts 0", err(InvalidArgument, &["max_attempts must be >= 1, got 0"]), |emu| async move {
            let opts = RunOptions::new().interval(Duration::from_millis(10)).max_attempts(0);
            builder(&emu)
                .build()?
                .run(|_events| async { Ok::<(), std::io::Error>(()) }, opts, std::future::pending())
                .await
                .map(drop)
        }),
        case(
            "run ordered with a dead-letter hook",
            err(InvalidArgument, &["dead_letter is never called when ordered is true"]),
            |emu| async move {
                let opts = RunOptions::new().interval(Duration::from_millis(10)).ordered(true).dead_letter(
                    |_: Vec<smartai_events::WebhookEvent>, _: String| async { Ok::<(), std::io::Error>(()) },
                );
                builder(&emu)
                    .build()?
                    .run(|_events| async { Ok::<(), std::io::Error>(()) }, opts, std::future::pending())
                    .await
                    .map(drop)
            },
        ),
        case("drain max_events 0", err(InvalidArgument, &["got 0"]), |emu| async move {
            let opts = DrainOptions::new().max_events(0);
            builder(&emu).build()?.drain(|_events| async { Ok::<(), std::io::Error>(()) }, opts).await.map(drop)
        }),
        // --- client options --------------------------------------------------------------------
        case("timeoutMs negative", err(InvalidArgument, &["timeoutMs", "got -1"]), |_| async move {
            ClientBuilder::from_json(&json!({"apiKey": "wc_ak_test_0123456789", "secretKey": "s", "timeoutMs": -1}))
                .map(drop)
        }),
        case(
            "timeout in seconds where milliseconds are the unit",
            err(InvalidArgument, &["\"timeout\"", "milliseconds", "pass timeoutMs"]),
            |_| async move {
                ClientBuilder::from_json(&json!({"apiKey": "wc_ak_test_0123456789", "secretKey": "s", "timeout": 30}))
                    .map(drop)
            },
        ),
        case(
            "timeoutMs zero names the option given",
            err(InvalidArgument, &["timeoutMs must be greater than 0"]),
            |_| async move {
                ClientBuilder::from_json(&json!({"apiKey": "wc_ak_test_0123456789", "secretKey": "s", "timeoutMs": 0}))
                    .map(drop)
            },
        ),
        case(
            "timeout beyond what a duration holds",
            err(InvalidArgument, &["timeoutMs is too large", "1e+300"]),
            |_| async move {
                ClientBuilder::from_json(
                    &json!({"apiKey": "wc_ak_test_0123456789", "secretKey": "s", "timeoutMs": 1e300}),
                )
                .map(drop)
            },
        ),
        case(
            "run interval beyond what a duration holds",
            err(InvalidArgument, &["intervalMs is too large", "1e+300"]),
            |_| async move { RunOptions::from_json(&json!({"intervalMs": 1e300})).map(drop) },
        ),
        case("timeout zero", err(InvalidArgument, &["timeout must be greater than 0"]), |_| async move {
            keys(Some("wc_ak_test_0123456789"), Some("s")).timeout(Duration::ZERO).build().map(drop)
        }),
        case("maxRetries negative", err(InvalidArgument, &["maxRetries", "got -1"]), |_| async move {
            ClientBuilder::from_json(&json!({"apiKey": "wc_ak_test_0123456789", "secretKey": "s", "maxRetries": -1}))
                .map(drop)
        }),
        case("maxRetries huge (JSON)", err(InvalidArgument, &["maxRetries", "got 1000000"]), |_| async move {
            ClientBuilder::from_json(
                &json!({"apiKey": "wc_ak_test_0123456789", "secretKey": "s", "maxRetries": 1_000_000}),
            )
            .map(drop)
        }),
        case("max_retries huge (typed)", err(InvalidArgument, &["max_retries", "got 4294967295"]), |_| async move {
            keys(Some("wc_ak_test_0123456789"), Some("s")).max_retries(u32::MAX).build().map(drop)
        }),
        case(
            "retry policy with its delays swapped",
            err(InvalidArgument, &["retry_policy.max_delay (250ms)", "base_delay (30s)"]),
            |_| async move {
                let swapped = RetryPolicy {
                    max_retries: 3,
                    base_delay: Duration::from_secs(30),
                    max_delay: Duration::from_millis(250),
                };
                keys(Some("wc_ak_test_0123456789"), Some("s")).retry_policy(swapped).build().map(drop)
            },
        ),
        case("client option misspelt", err(InvalidArgument, &[r#""timeOut""#]), |_| async move {
            ClientBuilder::from_json(&json!({"timeOut": 5})).map(drop)
        }),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_bad_input_gets_a_clear_typed_error() {
    let table = cases();
    assert!(table.len() >= 20, "{} rows", table.len());
    let mut failures = Vec::new();
    for row in &table {
        if let Some(var) = row.needs_unset.filter(|v| std::env::var_os(v).is_some()) {
            eprintln!("skipped {}: {var} is set", row.name);
            continue;
        }
        // A fresh emulator per row: faults and queues never leak between rows.
        let emu = Arc::new(emulator().await);
        let run = (row.run)(emu.clone());
        // A spawned task: a panic in the SDK is reported as this row's failure, not a crash.
        let outcome = tokio::time::timeout(Duration::from_secs(60), tokio::spawn(run)).await;
        let problem = match (outcome, &row.expect) {
            (Err(_), _) => Some("hung for 60 s".to_string()),
            (Ok(Err(join)), _) => Some(format!("panicked: {join}")),
            (Ok(Ok(Ok(()))), Expect::Ok) => None,
            (Ok(Ok(Ok(()))), Expect::Error(code, _)) => Some(format!("succeeded, expected {code:?}")),
            (Ok(Ok(Err(e))), Expect::Ok) => Some(format!("failed: {} {e}", e.code().as_str())),
            (Ok(Ok(Err(e))), Expect::Error(code, fragments)) => {
                let message = e.to_string();
                if e.code() != *code {
                    Some(format!("code {:?}, expected {code:?}: {message}", e.code()))
                } else {
                    fragments
                        .iter()
                        .find(|f| !message.contains(**f))
                        .map(|f| format!("message {message:?} does not contain {f:?}"))
                }
            }
        };
        if let Some(problem) = problem {
            failures.push(format!("{}: {problem}", row.name));
        }
        if let Ok(emu) = Arc::try_unwrap(emu) {
            emu.shutdown().await;
        }
    }
    eprintln!("{} rows, {} failed", table.len(), failures.len());
    assert!(failures.is_empty(), "{} of {} rows failed:\n{}", failures.len(), table.len(), failures.join("\n"));
}
