//! Benchmark drivers used by `bench/run.sh` (see bench/README.md).
//!
//! ```text
//! smartai-bench core-drain --url U --api-key K --secret-key S --expect N
//! smartai-bench core-drain-raw --url U --api-key K --secret-key S --expect N
//! smartai-bench raw        --url U --api-key K --secret-key S --expect N
//! smartai-bench raw-json   --url U --api-key K --secret-key S --expect N
//! smartai-bench decode-cost --url U --api-key K --secret-key S --expect N
//! ```
//!
//! Each drains the emulator's queue (100 per fetch, acknowledging each batch) and prints
//! one JSON line `{"events":n,"seconds":s,"batches":b}` with the time of the drain alone
//! (process start-up excluded). It exits non-zero if it saw a number of events other than
//! `--expect`.
//!
//! * `core-drain`: the Rust core, `AssessmentClient::drain` with a handler that touches each
//!   event's ID.
//! * `core-drain-raw`: the same with `drain_as` and `RawEvent`s, the events the Python and
//!   Node packages hand on (checked by the typed rules, not built).
//! * `raw`: the ceiling. A tight GET+ACK loop with as little client work as possible: one
//!   keep-alive reqwest client, a pre-keyed HMAC, the GET signed once per minute (its
//!   payload has no body), the IDs picked out of the response by a byte scan (no JSON
//!   parse), and the acknowledge body written by hand.
//! * `raw-json`: the ceiling's loop with each response parsed by serde_json, reading
//!   `pendingCount` and each event's `eventId` and skipping the rest of each event (borrowed,
//!   no allocation per event). It is the least that any client reading the events as JSON
//!   does, so the distance from `raw` to here is what reading costs before a single rule is
//!   checked or an object is built.
//! * `decode-cost`: no drain. Fetches one page of `--expect` events (without acknowledging
//!   it) and prints the CPU time per event of reading each event's JSON in several ways, in
//!   a loop on this thread with the page in cache: a UTF-8 check, serde_json skipping
//!   everything (`IgnoredAny`, the least any validating reader does), the core's check by
//!   the typed rules (`RawEvent::from_json`), the typed decode
//!   (`WebhookEvent::from_raw_json`, which also copies the text) and a `serde_json::Value`.

use hmac::{Hmac, Mac};
use reqwest::header::{ACCEPT, CONTENT_TYPE, HeaderMap, HeaderValue};
use sha2::Sha256;
use smartai_events::{AssessmentClient, DrainOptions, FetchOptions, QueueEvent, RawEvent, WebhookEvent};
use std::borrow::Cow;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const FETCH_PATH: &str = "/api/v1/webhook/events";
const ACK_PATH: &str = "/api/v1/webhook/events/acknowledge";
/// Bounds the raw loop: never more than this many cycles, whatever the server says.
const MAX_CYCLES: u64 = 1_000_000;

struct Args {
    mode: String,
    url: String,
    api_key: String,
    secret_key: String,
    expect: u64,
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mode = it.next().ok_or(
        "usage: smartai-bench core-drain|core-drain-raw|raw|raw-json|decode-cost --url U --api-key K --secret-key S --expect N",
    )?;
    let (mut url, mut api_key, mut secret_key, mut expect) = (None, None, None, None);
    while let Some(flag) = it.next() {
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--url" => url = Some(value),
            "--api-key" => api_key = Some(value),
            "--secret-key" => secret_key = Some(value),
            "--expect" => expect = Some(value.parse::<u64>().map_err(|e| format!("--expect: {e}"))?),
            other => return Err(format!("unknown flag {other}")),
        }
    }
    Ok(Args {
        mode,
        url: url.ok_or("--url is required")?.trim_end_matches('/').to_string(),
        api_key: api_key.ok_or("--api-key is required")?,
        secret_key: secret_key.ok_or("--secret-key is required")?,
        expect: expect.ok_or("--expect is required")?,
    })
}

fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

struct Outcome {
    events: u64,
    batches: u64,
    seconds: f64,
}

/// A handler touching each event's ID, for typed and raw events alike.
fn touching<E: QueueEvent>(
    sink: Arc<AtomicU64>,
) -> impl FnMut(Vec<E>) -> std::future::Ready<Result<(), std::io::Error>> + Send {
    move |events: Vec<E>| {
        let bytes: u64 = events.iter().map(|e| e.event_id().len() as u64).sum();
        sink.fetch_add(bytes, Ordering::Relaxed);
        std::future::ready(Ok(()))
    }
}

fn core_client(args: &Args) -> Result<AssessmentClient, String> {
    AssessmentClient::builder()
        .api_key(&args.api_key)
        .secret_key(&args.secret_key)
        .base_url(&args.url)
        .min_poll_interval(Duration::ZERO)
        .build()
        .map_err(|e| e.to_string())
}

async fn core_drain<E: QueueEvent>(args: &Args) -> Result<Outcome, String> {
    let client = core_client(args)?;
    let touched = Arc::new(AtomicU64::new(0));
    let sink = touched.clone();
    let started = Instant::now();
    let summary = client
        .drain_as::<E, _>(touching::<E>(sink), DrainOptions::new().limit(100))
        .await
        .map_err(|e| e.to_string())?;
    let seconds = started.elapsed().as_secs_f64();
    if touched.load(Ordering::Relaxed) == 0 && summary.events > 0 {
        return Err("handler saw no IDs".into());
    }
    Ok(Outcome { events: summary.events, batches: summary.batches, seconds })
}

/// The per-event CPU time of each way of reading one page's events, as a JSON line.
async fn decode_cost(args: &Args) -> Result<String, String> {
    let page = core_client(args)?
        .get_webhook_events_as::<RawEvent>(FetchOptions::new().limit(100))
        .await
        .map_err(|e| e.to_string())?;
    let texts: Vec<String> = page.events.iter().map(|e| e.raw_json().to_string()).collect();
    if texts.len() as u64 != args.expect {
        return Err(format!("expected a page of {} events, got {}", args.expect, texts.len()));
    }
    let raws = texts
        .iter()
        .map(|t| serde_json::value::RawValue::from_string(t.clone()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())?;
    let bytes: usize = texts.iter().map(String::len).sum();
    // Each reading repeated over the page for about half a second; the µs per event read.
    let per_event = |read: &dyn Fn(usize) -> bool| -> Result<f64, String> {
        let started = Instant::now();
        let mut events = 0u64;
        while started.elapsed() < Duration::from_millis(500) {
            for i in 0..texts.len() {
                if !std::hint::black_box(read(i)) {
                    return Err(format!("event {i} did not read"));
                }
            }
            events += texts.len() as u64;
        }
        Ok(started.elapsed().as_secs_f64() * 1e6 / events as f64)
    };
    let utf8 = per_event(&|i| std::str::from_utf8(texts[i].as_bytes()).is_ok())?;
    let ignored_any = per_event(&|i| serde_json::from_str::<serde::de::IgnoredAny>(&texts[i]).is_ok())?;
    let raw_event = per_event(&|i| RawEvent::from_json(&texts[i]).is_ok_and(|e| e.decode_error().is_none()))?;
    let typed = per_event(&|i| WebhookEvent::from_raw_json(&raws[i]).decode_error().is_none())?;
    let value = per_event(&|i| serde_json::from_str::<serde_json::Value>(&texts[i]).is_ok())?;
    Ok(format!(
        r#"{{"events":{},"bytes_per_event":{:.0},"us_per_event":{{"utf8":{utf8:.3},"ignored_any":{ignored_any:.3},"raw_event":{raw_event:.3},"typed":{typed:.3},"value":{value:.3}}}}}"#,
        texts.len(),
        bytes as f64 / texts.len() as f64
    ))
}

/// How a raw loop finds the IDs and `pendingCount` in a fetch response.
type PickIds = for<'a> fn(&'a [u8]) -> Result<(Vec<Cow<'a, str>>, u64), String>;

async fn raw(args: &Args, pick: PickIds) -> Result<Outcome, String> {
    let http =
        reqwest::Client::builder().pool_max_idle_per_host(4).tcp_nodelay(true).build().map_err(|e| e.to_string())?;
    let mac = Hmac::<Sha256>::new_from_slice(args.secret_key.as_bytes()).map_err(|e| e.to_string())?;
    let sign = |payload: &str| -> String {
        let mut m = mac.clone();
        m.update(payload.as_bytes());
        hex::encode(m.finalize().into_bytes())
    };
    let api_key = HeaderValue::from_str(&args.api_key).map_err(|e| e.to_string())?;
    let json = HeaderValue::from_static("application/json");
    let fetch_url = format!("{}{FETCH_PATH}?limit=100", args.url);
    let ack_url = format!("{}{ACK_PATH}", args.url);

    let get_headers = |ts: i64| -> HeaderMap {
        let mut h = HeaderMap::with_capacity(4);
        h.insert("x-api-key", api_key.clone());
        h.insert("x-timestamp", HeaderValue::from(ts));
        h.insert("x-signature", HeaderValue::from_str(&sign(&format!("GET:{FETCH_PATH}:{ts}:"))).expect("hex"));
        h.insert(ACCEPT, json.clone());
        h
    };
    let mut get_signed_at = now_ms();
    let mut get = get_headers(get_signed_at);

    let started = Instant::now();
    let (mut events, mut batches) = (0u64, 0u64);
    let mut body = String::with_capacity(64 * 100);
    for _ in 0..MAX_CYCLES {
        if now_ms() - get_signed_at > 60_000 {
            get_signed_at = now_ms();
            get = get_headers(get_signed_at);
        }
        let response = http.get(&fetch_url).headers(get.clone()).send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("fetch: HTTP {}", response.status()));
        }
        let bytes = response.bytes().await.map_err(|e| e.to_string())?;
        let (ids, pending) = pick(&bytes)?;
        if !ids.is_empty() {
            batches += 1;
            events += ids.len() as u64;
            body.clear();
            body.push_str("{\"eventIds\":[");
            for (i, id) in ids.iter().enumerate() {
                if i > 0 {
                    body.push(',');
                }
                body.push('"');
                body.push_str(id.as_ref());
                body.push('"');
            }
            body.push_str("]}");
            let ts = now_ms();
            let mut h = HeaderMap::with_capacity(5);
            h.insert("x-api-key", api_key.clone());
            h.insert("x-timestamp", HeaderValue::from(ts));
            h.insert(
                "x-signature",
                HeaderValue::from_str(&sign(&format!("POST:{ACK_PATH}:{ts}:{body}"))).expect("hex"),
            );
            h.insert(ACCEPT, json.clone());
            h.insert(CONTENT_TYPE, json.clone());
            let response = http.post(&ack_url).headers(h).body(body.clone()).send().await.map_err(|e| e.to_string())?;
            if !response.status().is_success() {
                return Err(format!("acknowledge: HTTP {}", response.status()));
            }
            response.bytes().await.map_err(|e| e.to_string())?;
        }
        if pending == 0 || ids.is_empty() {
            break;
        }
    }
    Ok(Outcome { events, batches, seconds: started.elapsed().as_secs_f64() })
}

/// The event IDs and `pendingCount` of a fetch response, found by scanning for their keys
/// rather than by parsing the JSON: the emulator writes `"eventId":"…"` once per event, at
/// the top level, with plain ASCII IDs. Anything else is refused, so a change in the
/// emulator cannot make the ceiling quietly wrong.
fn scan_ids(body: &[u8]) -> Result<(Vec<Cow<'_, str>>, u64), String> {
    const KEY: &[u8] = b"\"eventId\":\"";
    const PENDING: &[u8] = b"\"pendingCount\":";
    let text = std::str::from_utf8(body).map_err(|e| e.to_string())?;
    let mut ids = Vec::with_capacity(100);
    for start in memchr::memmem::find_iter(body, KEY) {
        let from = start + KEY.len();
        let len = memchr::memchr(b'"', &body[from..]).ok_or("fetch: unterminated eventId")?;
        let id = &text[from..from + len];
        if id.is_empty() || !id.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b'-') {
            return Err(format!("fetch: unexpected eventId {id:?}"));
        }
        ids.push(Cow::Borrowed(id));
    }
    let at = memchr::memmem::rfind(body, PENDING).ok_or("fetch: no pendingCount")? + PENDING.len();
    let digits = body[at..].iter().take_while(|c| c.is_ascii_digit()).count();
    let pending = text[at..at + digits].parse::<u64>().map_err(|e| format!("fetch: pendingCount: {e}"))?;
    Ok((ids, pending))
}

/// The IDs and `pendingCount` of a fetch response read by serde_json, everything else in
/// each event skipped. The IDs are borrowed unless they hold an escape; one that would need
/// escaping again in the acknowledge body is refused, as in [`scan_ids`].
fn parse_ids(body: &[u8]) -> Result<(Vec<Cow<'_, str>>, u64), String> {
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Page<'a> {
        #[serde(borrow)]
        events: Vec<IdOnly<'a>>,
        pending_count: u64,
    }
    #[derive(serde::Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct IdOnly<'a> {
        #[serde(borrow)]
        event_id: Cow<'a, str>,
    }
    let page: Page<'_> = serde_json::from_slice(body).map_err(|e| format!("fetch: {e}"))?;
    let ids: Vec<Cow<'_, str>> = page.events.into_iter().map(|e| e.event_id).collect();
    if let Some(id) = ids.iter().find(|id| id.is_empty() || id.bytes().any(|c| c == b'"' || c == b'\\' || c < 0x20)) {
        return Err(format!("fetch: unexpected eventId {id:?}"));
    }
    Ok((ids, page.pending_count))
}

// A poller makes one request at a time: on a current-thread runtime the connection's
// task, the request and the I/O driver never wake each other across threads (a
// multi-threaded runtime costs about a third more CPU per event here). Every Rust driver
// below runs on it, the ceiling included.
#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("smartai-bench: {e}");
            std::process::exit(2);
        }
    };
    if args.mode == "decode-cost" {
        match decode_cost(&args).await {
            Ok(line) => println!("{line}"),
            Err(e) => {
                eprintln!("smartai-bench: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    let outcome = match args.mode.as_str() {
        "core-drain" => core_drain::<WebhookEvent>(&args).await,
        "core-drain-raw" => core_drain::<RawEvent>(&args).await,
        "raw" => raw(&args, scan_ids).await,
        "raw-json" => raw(&args, parse_ids).await,
        other => Err(format!("unknown mode {other}")),
    };
    match outcome {
        Ok(o) => {
            println!(r#"{{"events":{},"batches":{},"seconds":{}}}"#, o.events, o.batches, o.seconds);
            if o.events != args.expect {
                eprintln!("smartai-bench: expected {} events, saw {}", args.expect, o.events);
                std::process::exit(1);
            }
        }
        Err(e) => {
            eprintln!("smartai-bench: {e}");
            std::process::exit(1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{parse_ids, scan_ids};

    #[test]
    fn scan_ids_and_parse_ids_pick_the_ids_and_pending_count() {
        let body = br#"{"events":[{"eventId":"evt_A1","event":"assessment.sent","x":{"eventIdx":"no"}},
            {"event":"assessment.completed","eventId":"evt-B2","score":3}],"pendingCount":41}"#;
        for pick in [scan_ids, parse_ids] {
            assert_eq!(pick(body).unwrap(), (vec!["evt_A1".into(), "evt-B2".into()], 41));
            assert_eq!(pick(br#"{"events":[],"pendingCount":0}"#).unwrap(), (vec![], 0));
        }
    }

    #[test]
    fn parse_ids_reads_escapes_and_refuses_what_the_ack_body_cannot_hold() {
        let escaped = br#"{"events":[{"eventId":"evt_\u00e9"}],"pendingCount":0}"#;
        assert_eq!(parse_ids(escaped).unwrap(), (vec!["evt_é".into()], 0));
        assert!(parse_ids(br#"{"events":[{"eventId":"a\"b"}],"pendingCount":0}"#).is_err());
        assert!(parse_ids(br#"{"events":[{"eventId":""}],"pendingCount":0}"#).is_err());
        assert!(parse_ids(br#"{"events":[{"eventId":"a"}]}"#).unwrap_err().contains("pendingCount"));
    }

    #[test]
    fn scan_ids_refuses_what_it_cannot_read_exactly() {
        let escaped = br#"{"events":[{"eventId":"evt_\u00e9"}],"pendingCount":0}"#;
        assert!(scan_ids(escaped).unwrap_err().contains("unexpected eventId"));
        assert!(scan_ids(br#"{"events":[{"eventId":""}],"pendingCount":0}"#).is_err());
        assert!(scan_ids(br#"{"events":[{"eventId":"a"}]}"#).unwrap_err().contains("pendingCount"));
        assert!(scan_ids(br#"{"events":[{"eventId":"a"#).is_err());
    }
}
