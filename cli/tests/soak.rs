//! The soak: `sync` into SQLite while 30 % of all requests fail (5xx, 429 with Retry-After,
//! resets, truncated bodies, acknowledges that are applied but whose response is lost,
//! latency). It must end with one row per event, no duplicates and an empty queue.
//!
//! The test command runs it with 10,000 events. The full size is opt-in:
//!
//! ```sh
//! SMARTAI_SOAK_EVENTS=100000 cargo test --release -p smartai-events-cli --test soak -- --nocapture
//! ```

mod common;

use common::*;
use smartai_emulator::faults::realistic_mix;
use smartai_emulator::{Emulator, EmulatorConfig};
use std::collections::HashSet;
use std::time::{Duration, Instant};

const DEFAULT_EVENTS: usize = 10_000;
const FAULT_RATE: f64 = 0.30;

fn soak_size() -> usize {
    match std::env::var("SMARTAI_SOAK_EVENTS") {
        Err(_) => DEFAULT_EVENTS,
        Ok(v) => match v.trim().parse::<usize>() {
            Ok(n) if n > 0 => n,
            _ => panic!("SMARTAI_SOAK_EVENTS must be a positive whole number of events, not {v:?}"),
        },
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_under_a_30_percent_fault_mix_stores_every_event_once() {
    let n = soak_size();
    // Remember every acknowledged ID, however large the soak, to compare them below.
    let config = EmulatorConfig::default()
        .with_initial_events(n)
        .without_rate_limit()
        .with_seed(rand::random())
        .with_acknowledged_history(n);
    let emu = Emulator::start(config).await.expect("emulator starts");
    let expected: HashSet<String> = emu.pending_ids().into_iter().collect();
    assert_eq!(expected.len(), n, "the emulator generated {n} distinct events");
    emu.set_faults(realistic_mix(FAULT_RATE));
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path(), "events.db");

    let started = Instant::now();
    let mut cmd = command(&emu);
    cmd.args(["sync", "--once", "--db", &db]).args(FAST);
    // A bound that only catches a hang: about 30 ms per event, far above any normal run.
    let bound = Duration::from_secs(120 + (n as u64 * 30) / 1000);
    let (status, out, err) = run(cmd, bound).await;
    assert!(status.success(), "exit {status:?}\nstdout:\n{out}\nstderr:\n{err}");

    let (ids, rows) = sqlite_ids(&db).await;
    assert_eq!(rows, n, "one row per event, no duplicates");
    assert_eq!(ids, expected, "exactly the generated events");
    let stats = emu.stats();
    assert_eq!(stats.pending, 0, "the queue is empty");
    let acknowledged: HashSet<String> = emu.acknowledged_ids().into_iter().collect();
    assert_eq!(acknowledged, expected, "every event acknowledged, nothing else");

    // Redeliveries are expected (a lost acknowledge response means the batch comes back) and
    // the store's upsert absorbs them; they are reported, not asserted.
    let deliveries = sqlite_count(&db, "SELECT COALESCE(SUM(attempts), 0) FROM webhook_events").await;
    // The log keeps the last 10,000 requests: enough to see the mix at work.
    let log = emu.request_log();
    let faulted = log.iter().filter(|r| r.fault.is_some()).count();
    println!(
        "soak: {n} events in {:.1} s; {} fetches delivered {} events, {} acknowledges; \
         {deliveries} stores for {rows} rows; {faulted} of the last {} requests faulted ({:.0} %)",
        started.elapsed().as_secs_f64(),
        stats.fetches,
        stats.events_delivered,
        stats.acks,
        log.len(),
        100.0 * faulted as f64 / log.len().max(1) as f64,
    );
    assert!(faulted > 0, "the fault mix was applied");
}
