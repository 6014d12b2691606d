//! Conformance runner for Rust: runs every scenario in `scenarios/*.json` through the public
//! API of `smartai-events` against the in-process `smartai-emulator`.
//!
//! ```sh
//! cargo test -p smartai-conformance -- --nocapture
//! CONFORMANCE_FILTER=drain_ cargo test -p smartai-conformance -- --nocapture
//! ```
//!
//! Prints one line per difference and ends with `conformance rust: N passed, M failed[, K skipped]`.
//! All expectations live in the JSON files; this file only executes steps and reports outcomes.

use serde_json::{Map, Value, json};
use smartai_emulator::{Emulator, EmulatorConfig, FaultRule};
use smartai_events::{
    AssessmentClient, CancellationToken, DrainOptions, Error, FetchOptions, RunOptions, SessionRequest, SessionUser,
    WebhookEvent,
};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

const LANG: &str = "rust";
/// Catches hangs only; never a timing assertion.
const STEP_GUARD: Duration = Duration::from_secs(60);

type Out = Map<String, Value>;

// ------------------------------------------------------------------------------- helpers

/// Replaces runner placeholders in fault rules (computed when the rule is installed).
fn substitute(value: &Value) -> Value {
    match value {
        Value::String(s) if s == "$HTTP_DATE_PLUS_2S" => {
            Value::String(httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2)))
        }
        Value::Array(items) => Value::Array(items.iter().map(substitute).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), substitute(v))).collect()),
        other => other.clone(),
    }
}

fn fault_rules(value: &Value) -> Vec<FaultRule> {
    serde_json::from_value(substitute(value)).expect("fault rules in the scenario parse")
}

fn error_outcome(err: &Error) -> Value {
    json!({
        "code": err.code().as_str(),
        "message": err.to_string(),
        "status": err.status(),
        "retry_after_ms": err.retry_after().map(|d| d.as_millis() as u64),
    })
}

#[derive(Default)]
struct Tally {
    handler_calls: u64,
    handled_ok: u64,
    events: Vec<WebhookEvent>,
    dead_lettered_ids: Vec<String>,
}

fn classify(events: &[WebhookEvent]) -> Out {
    let mut out = Out::new();
    out.insert("unknown".into(), json!(events.iter().filter(|e| matches!(e, WebhookEvent::Unknown(_))).count()));
    out.insert("decode_errors".into(), json!(events.iter().filter(|e| e.decode_error().is_some()).count()));
    out.insert("event_ids".into(), json!(events.iter().map(|e| e.event_id()).collect::<Vec<_>>()));
    out
}

fn u64_of(step: &Value, key: &str) -> Option<u64> {
    step.get(key).and_then(Value::as_u64)
}

/// A handler that records what it saw, fails where the step says, and may request a stop.
fn make_handler(
    step: &Value,
    tally: Arc<Mutex<Tally>>,
    stop: Option<CancellationToken>,
) -> impl FnMut(Vec<WebhookEvent>) -> std::future::Ready<Result<(), std::io::Error>> + Send + 'static {
    let fail_on_batch = u64_of(step, "fail_on_batch");
    let stop_after_events = u64_of(step, "stop_after_events");
    let fail_ids: Vec<String> = step
        .get("fail_event_ids")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(String::from).collect())
        .unwrap_or_default();
    move |events: Vec<WebhookEvent>| {
        let mut t = tally.lock().unwrap();
        t.handler_calls += 1;
        let n = t.handler_calls;
        let poisoned = events.iter().any(|e| fail_ids.iter().any(|id| id == e.event_id()));
        let count = events.len() as u64;
        t.events.extend(events);
        if fail_on_batch == Some(n) || poisoned {
            return std::future::ready(Err(std::io::Error::other(format!("boom on batch {n}"))));
        }
        t.handled_ok += count;
        if let (Some(stop), Some(limit)) = (&stop, stop_after_events)
            && t.handled_ok >= limit
        {
            stop.cancel();
        }
        std::future::ready(Ok(()))
    }
}

// ------------------------------------------------------------------------------- steps

async fn op_fetch(client: &AssessmentClient, step: &Value) -> Result<Out, Error> {
    let mut opts = FetchOptions::new();
    if let Some(limit) = step.get("limit") {
        opts = opts.limit(limit.as_i64().expect("an integer limit (others are skipped for rust)"));
    }
    if let Some(since) = step.get("since") {
        opts = opts.since_ms(since.as_i64().expect("an integer since"));
    }
    let batch = client.get_webhook_events(opts).await?;
    let mut out = classify(&batch.events);
    out.insert("events".into(), json!(batch.events.len()));
    out.insert("pending_count".into(), json!(batch.pending_count));
    Ok(out)
}

fn ack_ids(emu: &Emulator, step: &Value) -> Vec<String> {
    let mut ids: Vec<String> = match step.get("ids") {
        None => emu.pending_ids(),
        Some(Value::String(s)) if s == "all_pending" => emu.pending_ids(),
        Some(Value::String(s)) if s == "acknowledged" => emu.acknowledged_ids(),
        Some(Value::Array(items)) => {
            items.iter().map(|v| v.as_str().expect("string IDs (others are skipped for rust)").to_string()).collect()
        }
        Some(other) => panic!("bad ids: {other}"),
    };
    if let Some(n) = u64_of(step, "count") {
        ids = emu.pending_ids().into_iter().take(n as usize).collect();
    }
    let repeat = u64_of(step, "repeat").unwrap_or(1) as usize;
    ids.iter().flat_map(|id| std::iter::repeat_n(id.clone(), repeat)).collect()
}

async fn op_ack(client: &AssessmentClient, emu: &Emulator, step: &Value) -> Result<Out, Error> {
    let result = client.acknowledge_webhook_events(&ack_ids(emu, step)).await?;
    let mut out = Out::new();
    out.insert("acknowledged".into(), json!(result.acknowledged));
    Ok(out)
}

async fn op_session(client: &AssessmentClient, step: &Value) -> Result<Out, Error> {
    let users = step
        .get("users")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|u| SessionUser {
            name: u["name"].as_str().expect("string names (others are skipped for rust)").into(),
            email: u["email"].as_str().expect("string emails (others are skipped for rust)").into(),
        })
        .collect();
    let mut request = SessionRequest::new(users);
    if let Some(id) = step.get("recruiter_id").and_then(Value::as_str) {
        request = request.recruiter_id(id);
    }
    if let Some(email) = step.get("recruiter_email").and_then(Value::as_str) {
        request = request.recruiter_email(email);
    }
    let token = client.create_session(request).await?;
    let mut out = Out::new();
    out.insert("token".into(), json!(!token.token.is_empty()));
    out.insert("expires_at".into(), json!(token.expires_at.is_some()));
    Ok(out)
}

fn drain_options(step: &Value) -> DrainOptions {
    let mut opts = DrainOptions::new();
    if let Some(limit) = step.get("limit") {
        opts = opts.limit(limit.as_i64().expect("an integer limit"));
    }
    if let Some(since) = step.get("since") {
        opts = opts.since_ms(since.as_i64().expect("an integer since"));
    }
    if let Some(n) = u64_of(step, "max_events") {
        opts = opts.max_events(n);
    }
    if let Some(n) = u64_of(step, "max_batches") {
        opts = opts.max_batches(n);
    }
    opts
}

async fn op_drain(client: &AssessmentClient, step: &Value, tally: Arc<Mutex<Tally>>) -> Result<Out, Error> {
    let s = client.drain(make_handler(step, tally, None), drain_options(step)).await?;
    let mut out = Out::new();
    out.insert("events".into(), json!(s.events));
    out.insert("batches".into(), json!(s.batches));
    out.insert("acknowledged".into(), json!(s.acknowledged));
    out.insert("pending_count".into(), json!(s.pending_count));
    Ok(out)
}

async fn op_batches(
    client: &AssessmentClient,
    emu: &Emulator,
    step: &Value,
    tally: Arc<Mutex<Tally>>,
) -> Result<Out, Error> {
    let mut batches = client.batches(drain_options(step));
    let after = step.get("faults_after_batch");
    while let Some(batch) = batches.next_batch().await? {
        let n = {
            let mut t = tally.lock().unwrap();
            t.handler_calls += 1;
            t.events.extend(batch.events);
            t.handler_calls
        };
        if let Some(after) = after
            && u64_of(after, "batch") == Some(n)
        {
            for rule in fault_rules(&after["faults"]) {
                emu.add_fault(rule);
            }
        }
        if u64_of(step, "break_after") == Some(n) {
            if step.get("commit_before_break").and_then(Value::as_bool).unwrap_or(false) {
                batches.commit().await?;
            }
            break;
        }
    }
    Ok(Out::new())
}

async fn op_run(client: &AssessmentClient, step: &Value, tally: Arc<Mutex<Tally>>) -> Result<Out, Error> {
    let token = CancellationToken::new();
    let timer = u64_of(step, "stop_after_ms").map(|ms| {
        let t = token.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(ms)).await;
            t.cancel();
        })
    });
    let mut opts = RunOptions::new()
        .interval(Duration::from_millis(u64_of(step, "interval_ms").unwrap_or(100)))
        .max_attempts(u64_of(step, "max_attempts").unwrap_or(5) as u32)
        .ordered(step.get("ordered").and_then(Value::as_bool).unwrap_or(false))
        .drain_options(drain_options(step));
    if step.get("dead_letter").and_then(Value::as_bool).unwrap_or(false) {
        let tally = tally.clone();
        let token = token.clone();
        let limit = u64_of(step, "stop_after_dead_letters");
        opts = opts.dead_letter(move |events: Vec<WebhookEvent>, _reason: String| {
            let mut t = tally.lock().unwrap();
            t.dead_lettered_ids.extend(events.iter().map(|e| e.event_id().to_string()));
            if limit.is_some_and(|n| t.dead_lettered_ids.len() as u64 >= n) {
                token.cancel();
            }
            std::future::ready(Ok::<(), std::io::Error>(()))
        });
    }
    let stop = token.clone();
    let result =
        client.run(make_handler(step, tally, Some(token.clone())), opts, async move { stop.cancelled().await }).await;
    if let Some(timer) = timer {
        timer.abort();
    }
    let s = result?;
    let mut out = Out::new();
    out.insert("events".into(), json!(s.events));
    out.insert("acknowledged".into(), json!(s.acknowledged));
    Ok(out)
}

async fn run_step(client: &AssessmentClient, emu: &Emulator, step: &Value) -> Out {
    let op = step["op"].as_str().unwrap_or("");
    let tally = Arc::new(Mutex::new(Tally::default()));
    let result = match op {
        "fetch" if step.get("cancel_after_ms").is_some() => {
            // Cancelling a Rust future is dropping it.
            let after = Duration::from_millis(u64_of(step, "cancel_after_ms").unwrap_or(0));
            match tokio::time::timeout(after, op_fetch(client, step)).await {
                Ok(result) => result.map(|mut out| {
                    out.insert("cancelled".into(), json!(false));
                    out
                }),
                Err(_) => Ok(Out::from_iter([("cancelled".to_string(), json!(true))])),
            }
        }
        "fetch" => op_fetch(client, step).await,
        "sleep" => {
            tokio::time::sleep(Duration::from_millis(u64_of(step, "ms").unwrap_or(0))).await;
            Ok(Out::new())
        }
        "ack" => op_ack(client, emu, step).await,
        "session" => op_session(client, step).await,
        "drain" => op_drain(client, step, tally.clone()).await,
        "batches" => op_batches(client, emu, step, tally.clone()).await,
        "run" => op_run(client, step, tally.clone()).await,
        other => panic!("unknown op {other:?}"),
    };
    let mut out = match result {
        Ok(mut out) => {
            out.insert("error".into(), Value::Null);
            out
        }
        Err(err) => {
            let mut out = Out::new();
            out.insert("error".into(), error_outcome(&err));
            out
        }
    };
    if matches!(op, "drain" | "batches" | "run") {
        let t = tally.lock().unwrap();
        out.insert("handler_calls".into(), json!(t.handler_calls));
        out.entry("events").or_insert(json!(t.events.len()));
        if op == "batches" {
            out.insert("batches".into(), json!(t.handler_calls));
        }
        let c = classify(&t.events);
        out.insert("unknown".into(), c["unknown"].clone());
        out.insert("decode_errors".into(), c["decode_errors"].clone());
        out.insert("dead_lettered".into(), json!(t.dead_lettered_ids.len()));
        out.insert("dead_lettered_ids".into(), json!(t.dead_lettered_ids));
    }
    out
}

// ------------------------------------------------------------------------------- checks

fn compare(where_: &str, expect: &Value, out: &Out) -> Vec<String> {
    let mut diffs = Vec::new();
    let err = out.get("error").filter(|e| !e.is_null());
    let want = expect.get("error");
    match (want, err) {
        (None, Some(err)) => return vec![format!("{where_}: unexpected error {}: {}", err["code"], err["message"])],
        (Some(want), None) => {
            diffs.push(format!("{where_}: expected error {}, got success {}", want["code"], Value::Object(out.clone())))
        }
        (Some(want), Some(err)) => {
            if err["code"] != want["code"] {
                diffs.push(format!(
                    "{where_}: error code {} ({}), expected {}",
                    err["code"], err["message"], want["code"]
                ));
            }
            if let Some(m) = want.get("message").and_then(Value::as_str)
                && !err["message"].as_str().unwrap_or("").contains(m)
            {
                diffs.push(format!("{where_}: error message {} lacks {m:?}", err["message"]));
            }
            for k in ["status", "retry_after_ms"] {
                if let Some(w) = want.get(k)
                    && &err[k] != w
                {
                    diffs.push(format!("{where_}: error {k} {}, expected {w}", err[k]));
                }
            }
        }
        (None, None) => {}
    }
    for (key, value) in expect.as_object().into_iter().flatten() {
        if key == "error" {
            continue;
        }
        let got = out.get(key).cloned().unwrap_or(Value::Null);
        if !same(&got, value) {
            diffs.push(format!("{where_}: {key} = {got}, expected {value}"));
        }
    }
    diffs
}

/// JSON equality where 3 and 3.0 are the same number.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        _ => a == b,
    }
}

fn final_checks(emu: &Emulator, expect: &Value) -> Vec<String> {
    let mut diffs = Vec::new();
    let log: Vec<Value> =
        emu.request_log().into_iter().map(|e| serde_json::to_value(e).expect("log entry serialises")).collect();
    let by = |ep: &str| log.iter().filter(|r| r["endpoint"] == ep).collect::<Vec<_>>();
    if let Some(want) = expect.get("pending") {
        let got = emu.pending_ids().len();
        if !same(&json!(got), want) {
            diffs.push(format!("final: pending = {got}, expected {want}"));
        }
    }
    for (ep, n) in expect.get("requests").and_then(Value::as_object).into_iter().flatten() {
        let got = by(ep).len();
        if !same(&json!(got), n) {
            diffs.push(format!("final: {ep} requests = {got}, expected {n}"));
        }
    }
    for (field, name) in [("status", "statuses"), ("query", "queries"), ("path", "paths")] {
        for (ep, want) in expect.get(name).and_then(Value::as_object).into_iter().flatten() {
            let got = Value::Array(by(ep).iter().map(|r| r[field].clone()).collect());
            if !same(&got, want) {
                diffs.push(format!("final: {ep} {name} = {got}, expected {want}"));
            }
        }
    }
    if let Some(want) = expect.get("ack_ids_sent") {
        let sent: usize = by("acknowledge")
            .iter()
            .filter_map(|r| r["body"].as_str())
            .map(|b| {
                serde_json::from_str::<Value>(b).ok().and_then(|v| v["eventIds"].as_array().map(Vec::len)).unwrap_or(0)
            })
            .sum();
        if !same(&json!(sent), want) {
            diffs.push(format!("final: IDs sent in acknowledge bodies = {sent}, expected {want}"));
        }
    }
    for gap in expect.get("min_gap_ms").and_then(Value::as_array).into_iter().flatten() {
        let ep = gap["endpoint"].as_str().unwrap_or("");
        let (from, to, ms) = (
            gap["from"].as_u64().unwrap_or(0) as usize,
            gap["to"].as_u64().unwrap_or(0) as usize,
            gap["ms"].as_i64().unwrap_or(0),
        );
        let entries = by(ep);
        if entries.len() <= from.max(to) {
            diffs.push(format!("final: min_gap_ms needs {ep} request #{to}, only {} logged", entries.len()));
            continue;
        }
        let got = entries[to]["at_ms"].as_i64().unwrap_or(0) - entries[from]["at_ms"].as_i64().unwrap_or(0);
        if got < ms {
            diffs.push(format!("final: gap between {ep} requests #{from} and #{to} = {got} ms, expected >= {ms} ms"));
        }
    }
    diffs
}

// ------------------------------------------------------------------------------- scenario

/// With `CONFORMANCE_DUMP=<file>`, appends every step outcome as a JSON line (to diff languages).
fn dump(name: &str, i: usize, out: Out) {
    use std::io::Write;
    if let Ok(path) = std::env::var("CONFORMANCE_DUMP") {
        // serde_json's preserve_order keeps insertion order; sort the keys for a stable diff.
        let sorted = |m: Out| -> Value {
            Value::Object(m.into_iter().collect::<std::collections::BTreeMap<_, _>>().into_iter().collect())
        };
        let mut out = out;
        if let Some(Value::Object(e)) = out.get("error").cloned() {
            out.insert("error".into(), sorted(e));
        }
        let line = json!({"out": sorted(out), "scenario": name, "step": i + 1});
        let mut f = std::fs::OpenOptions::new().create(true).append(true).open(path).expect("dump file opens");
        writeln!(f, "{line}").expect("dump file writes");
    }
}

async fn run_scenario(name: &str, sc: &Value) -> Vec<String> {
    let setup = sc.get("emulator").cloned().unwrap_or(json!({}));
    let mut config = Map::new();
    for k in ["retention_ms", "timestamp_window_ms", "seed"] {
        if let Some(v) = setup.get(k) {
            config.insert(k.into(), v.clone());
        }
    }
    match setup.get("rate_limit").unwrap_or(&Value::Bool(false)) {
        Value::Bool(false) => {
            config.insert("rate_limit".into(), json!({"idle_poll_interval_ms": null, "bucket": null}));
        }
        Value::Bool(true) => {}
        other => {
            config.insert("rate_limit".into(), other.clone());
        }
    }
    let config: EmulatorConfig = serde_json::from_value(Value::Object(config)).expect("emulator config parses");
    let emu = match Emulator::start(config).await {
        Ok(emu) => emu,
        Err(e) => return vec![format!("setup: emulator did not start: {e}")],
    };
    if let Some(n) = u64_of(&setup, "generate") {
        emu.generate(n as usize);
    }
    if let Some(events) = setup.get("events").and_then(Value::as_array) {
        emu.enqueue(events.clone());
    }
    if let Some(ms) = setup.get("clock_offset_ms").and_then(Value::as_i64) {
        emu.set_clock_offset_ms(ms);
    }
    if let Some(faults) = setup.get("faults") {
        emu.set_faults(fault_rules(faults));
    }
    let c = sc.get("client").cloned().unwrap_or(json!({}));
    let client = AssessmentClient::builder()
        .api_key(emu.api_key())
        .secret_key(emu.secret_key())
        .base_url(emu.url())
        .timeout(Duration::from_millis(u64_of(&c, "timeoutMs").unwrap_or(30_000)))
        .max_retries(u64_of(&c, "maxRetries").unwrap_or(3) as u32)
        .min_poll_interval(Duration::from_millis(u64_of(&c, "minPollIntervalMs").unwrap_or(0)))
        .build();
    let client = match client {
        Ok(client) => client,
        Err(e) => return vec![format!("setup: client did not build: {e}")],
    };
    let mut diffs = Vec::new();
    for (i, step) in sc["steps"].as_array().into_iter().flatten().enumerate() {
        let where_ = format!("step {} ({})", i + 1, step["op"].as_str().unwrap_or("?"));
        match tokio::time::timeout(STEP_GUARD, run_step(&client, &emu, step)).await {
            Ok(out) => {
                diffs.extend(compare(&where_, step.get("expect").unwrap_or(&json!({})), &out));
                dump(name, i, out);
            }
            Err(_) => {
                diffs.push(format!("{where_}: did not finish within {} s (hang)", STEP_GUARD.as_secs()));
                break;
            }
        }
    }
    tokio::time::sleep(Duration::from_millis(50)).await; // let the emulator log a dropped connection
    diffs.extend(final_checks(&emu, sc.get("expect").unwrap_or(&json!({}))));
    emu.shutdown().await;
    diffs
}

fn scenario_files() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("scenarios/ exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    files.sort();
    files
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conformance() {
    let filter = std::env::var("CONFORMANCE_FILTER").unwrap_or_default();
    let (mut passed, mut failed, mut skipped) = (0, 0, 0);
    let mut report = Vec::new();
    for path in scenario_files() {
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if !filter.is_empty() && !filter.split(',').any(|f| name.contains(f)) {
            continue;
        }
        let sc: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap())
            .unwrap_or_else(|e| panic!("{name}: invalid JSON: {e}"));
        if let Some(reason) = sc.get("skip").and_then(|s| s.get(LANG)).and_then(Value::as_str) {
            skipped += 1;
            report.push(format!("SKIP {name}: {reason}"));
            continue;
        }
        let diffs = run_scenario(&name, &sc).await;
        if diffs.is_empty() {
            passed += 1;
        } else {
            failed += 1;
            report.extend(diffs.iter().map(|d| format!("FAIL {name}: {d}")));
        }
    }
    let mut summary = format!("conformance {LANG}: {passed} passed, {failed} failed");
    if skipped > 0 {
        summary.push_str(&format!(", {skipped} skipped"));
    }
    println!();
    for line in &report {
        println!("{line}");
    }
    println!("{summary}");
    assert_eq!(failed, 0, "{summary}");
}
