//! `sync` into SQLite against the in-process emulator, through the real binary.

mod common;

use common::*;
use rand::Rng;
use serde_json::json;
use smartai_emulator::faults::realistic_mix;
use smartai_emulator::{FaultKind, FaultRule};
use std::collections::HashSet;
use std::process::Stdio;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_at_random_points_loses_nothing() {
    let emu = emulator(3_000).await;
    let expected: HashSet<String> = emu.pending_ids().into_iter().collect();
    // Slow every request a little so that kills land in the middle of drains, stores and
    // acknowledges; and lose some acknowledges on the way.
    emu.set_faults(vec![
        FaultRule::new(FaultKind::Latency { ms: 25 }),
        FaultRule::new(FaultKind::AppliedButLost).on(smartai_emulator::Endpoint::Acknowledge).with_probability(0.1),
    ]);
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path(), "events.db");

    for round in 0..6 {
        let mut cmd = command(&emu);
        cmd.args(["sync", "--db", &db]).args(FAST);
        let mut p = Proc::spawn(cmd);
        let delay = rand::rng().random_range(150..900);
        tokio::time::sleep(Duration::from_millis(delay)).await;
        p.signal("KILL");
        let status = p.wait(Duration::from_secs(10)).await;
        assert!(!status.success(), "round {round}: killed");
        // Some new events arrive between crashes too.
        emu.generate(100);
    }
    let expected: HashSet<String> =
        expected.into_iter().chain(emu.pending_ids()).chain(emu.acknowledged_ids()).collect();
    assert_eq!(expected.len(), 3_600);

    let mut cmd = command(&emu);
    cmd.args(["sync", "--once", "--db", &db]).args(FAST);
    let (status, out, err) = run(cmd, Duration::from_secs(120)).await;
    assert!(status.success(), "exit {status:?}\nstdout:\n{out}\nstderr:\n{err}");

    let (ids, rows) = sqlite_ids(&db).await;
    assert_eq!(rows, expected.len(), "each event stored exactly once");
    assert_eq!(ids, expected, "nothing lost");
    assert_eq!(emu.stats().pending, 0, "queue empty");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_during_a_cycle_exits_0_with_acks_flushed() {
    let emu = emulator(5_000).await;
    emu.set_faults(vec![FaultRule::new(FaultKind::Latency { ms: 30 })]);
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path(), "events.db");

    let mut cmd = command(&emu);
    cmd.args(["sync", "--json", "--db", &db]).args(FAST);
    let mut p = Proc::spawn(cmd);
    eventually(Duration::from_secs(30), "some events stored", || {
        let db = db.clone();
        async move { sqlite_count(&db, "SELECT COUNT(*) FROM webhook_events").await > 0 }
    })
    .await;
    p.signal("TERM");
    let status = p.wait(Duration::from_secs(15)).await;
    assert!(status.success(), "exit {status:?}\nstdout:\n{}\nstderr:\n{}", p.stdout(), p.stderr());
    assert!(p.has_line(r#""type":"stopped""#), "{}", p.stdout());

    // Every stored event was acknowledged before exit, and only stored events were.
    let (stored, _) = sqlite_ids(&db).await;
    let pending: HashSet<String> = emu.pending_ids().into_iter().collect();
    let acknowledged: HashSet<String> = emu.acknowledged_ids().into_iter().collect();
    assert!(stored.is_disjoint(&pending), "a stored event is still pending: acks not flushed");
    assert!(acknowledged.is_subset(&stored), "an event was acknowledged without being stored");
    assert!(!pending.is_empty(), "the stop came mid-drain (the test wants a partial drain)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_the_store_keeps_refusing_go_to_dead_letters() {
    let emu = emulator(0).await;
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path(), "events.db");
    // Create the schema, then make the database refuse one kind of event.
    let mut cmd = command(&emu);
    cmd.args(["sync", "--once", "--db", &db]).args(FAST);
    let (status, _, err) = run(cmd, Duration::from_secs(30)).await;
    assert!(status.success(), "{err}");
    {
        use sqlx::Connection;
        let mut conn = sqlx::SqliteConnection::connect(&db).await.unwrap();
        sqlx::query(
            "CREATE TRIGGER refuse_poison BEFORE INSERT ON webhook_events WHEN NEW.event_type = 'test.poison' \
             BEGIN SELECT RAISE(ABORT, 'poison refused'); END",
        )
        .execute(&mut conn)
        .await
        .unwrap();
        conn.close().await.unwrap();
    }
    emu.generate(5);
    emu.enqueue(vec![json!({"eventId": "evt_poison", "event": "test.poison", "secret": "x"})]);
    emu.generate(5);

    let mut cmd = command(&emu);
    cmd.args(["sync", "--db", &db, "--max-attempts", "2", "--limit", "1"]).args(FAST);
    let mut p = Proc::spawn(cmd);
    eventually(Duration::from_secs(60), "queue empty and one dead letter", || {
        let db = db.clone();
        let pending = emu.stats().pending;
        async move { pending == 0 && sqlite_count(&db, "SELECT COUNT(*) FROM webhook_dead_letters").await == 1 }
    })
    .await;
    p.signal("TERM");
    assert!(p.wait(Duration::from_secs(15)).await.success());
    // The cycle lines count the refused event as failed, not as stored.
    assert!(p.stderr().contains("stored 0 events, 1 failed and stay queued"), "{}", p.stderr());
    assert_eq!(sqlite_count(&db, "SELECT COUNT(*) FROM webhook_events").await, 10);
    assert_eq!(
        sqlite_count(
            &db,
            "SELECT COUNT(*) FROM webhook_dead_letters WHERE event_id = 'evt_poison' AND reason LIKE '%poison refused%'"
        )
        .await,
        1
    );
    // The driver's text once, not once per link of the error chain.
    assert_eq!(
        sqlite_count(
            &db,
            "SELECT COUNT(*) FROM webhook_dead_letters WHERE reason LIKE '%poison refused%poison refused%'"
        )
        .await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_sync_on_the_same_sqlite_file_stands_by_then_takes_over() {
    let emu = emulator(200).await;
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path(), "events.db");
    let spawn = || {
        let mut cmd = command(&emu);
        cmd.args(["sync", "--json", "--db", &db]).args(FAST);
        Proc::spawn(cmd)
    };
    let mut first = spawn();
    eventually(Duration::from_secs(30), "the first drains", || async { emu.stats().pending == 0 }).await;
    let mut second = spawn();
    eventually(Duration::from_secs(30), "the second stands by", || {
        let ok = second.has_line(r#""type":"standby""#);
        async move { ok }
    })
    .await;
    first.signal("KILL");
    first.wait(Duration::from_secs(10)).await;
    emu.generate(100);
    eventually(Duration::from_secs(30), "the second took over", || {
        let db = db.clone();
        let pending = emu.stats().pending;
        async move { pending == 0 && sqlite_count(&db, "SELECT COUNT(*) FROM webhook_events").await == 300 }
    })
    .await;
    assert!(second.has_line(r#""type":"leader""#), "{}", second.stdout());
    second.signal("TERM");
    assert!(second.wait(Duration::from_secs(15)).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_long_running_poller_under_faults_stores_everything_and_keeps_going() {
    let emu = emulator(2_000).await;
    emu.set_faults(realistic_mix(0.2));
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path(), "events.db");
    let mut cmd = command(&emu);
    cmd.args(["sync", "--json", "--db", &db]).args(FAST);
    let mut p = Proc::spawn(cmd);
    eventually(Duration::from_secs(120), "2,000 stored", || async {
        emu.stats().pending == 0 && sqlite_count(&db, "SELECT COUNT(*) FROM webhook_events").await == 2_000
    })
    .await;
    // New events keep arriving while it runs.
    emu.generate(500);
    eventually(Duration::from_secs(120), "2,500 stored", || async {
        emu.stats().pending == 0 && sqlite_count(&db, "SELECT COUNT(*) FROM webhook_events").await == 2_500
    })
    .await;
    p.signal("TERM");
    assert!(p.wait(Duration::from_secs(15)).await.success(), "{}", p.stderr());
    assert!(p.has_line(r#""type":"cycle""#), "{}", p.stdout());
    let (ids, rows) = sqlite_ids(&db).await;
    assert_eq!(rows, 2_500);
    assert_eq!(ids, emu.acknowledged_ids().into_iter().collect::<HashSet<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_runs_started_together_on_a_new_file_all_succeed() {
    let emu = emulator(20).await;
    let dir = tempfile::tempdir().unwrap();
    // Each round a new file, and four first runs at once: they used to race in the migrations.
    for round in 0..5 {
        let db = sqlite_url(dir.path(), &format!("race-{round}.db"));
        let mut procs: Vec<Proc> = (0..4)
            .map(|_| {
                let mut cmd = command(&emu);
                cmd.args(["sync", "--once", "--db", &db]).args(FAST);
                Proc::spawn(cmd)
            })
            .collect();
        for p in &mut procs {
            let status = p.wait(Duration::from_secs(60)).await;
            assert!(status.success(), "round {round}: {status:?}\n{}", p.stderr());
        }
        emu.generate(20);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_with_a_bad_interval_exits_2_at_start_not_at_takeover() {
    let emu = emulator(10).await;
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path(), "events.db");
    let mut leader = command(&emu);
    leader.args(["sync", "--json", "--db", &db]).args(FAST);
    let mut leader = Proc::spawn(leader);
    eventually(Duration::from_secs(30), "the leader drains", || async { emu.stats().pending == 0 }).await;
    // The lock is held, so this process would stand by; its flags are refused first.
    let mut standby = command(&emu);
    standby.args(["sync", "--json", "--db", &db, "--interval", "2s"]);
    let (status, stdout, stderr) = run(standby, Duration::from_secs(20)).await;
    assert_eq!(status.code(), Some(2), "stdout: {stdout}\nstderr: {stderr}");
    assert!(format!("{stdout}{stderr}").contains("interval must be at least 5s"), "{stdout}{stderr}");
    assert!(!stdout.contains(r#""type":"standby""#), "{stdout}");
    leader.signal("TERM");
    assert!(leader.wait(Duration::from_secs(15)).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_file_deleted_while_sync_runs_gets_nothing_acknowledged() {
    let emu = emulator(0).await;
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path(), "events.db");
    let mut cmd = command(&emu);
    cmd.args(["sync", "--json", "--db", &db, "--max-attempts", "2"]).args(FAST);
    let mut p = Proc::spawn(cmd);
    eventually(Duration::from_secs(30), "the first cycle", || {
        let started = p.has_line(r#""type":"cycle""#);
        async move { started }
    })
    .await;
    for name in ["events.db", "events.db-wal", "events.db-shm"] {
        let _ = std::fs::remove_file(dir.path().join(name));
    }
    emu.generate(20);
    eventually(Duration::from_secs(60), "the store to notice", || {
        let noticed = p.stderr().contains("was deleted or replaced") || p.stdout().contains("was deleted or replaced");
        async move { noticed }
    })
    .await;
    // Several cycles, dead-letter attempts included, and still nothing acknowledged.
    tokio::time::sleep(Duration::from_secs(3)).await;
    p.signal("TERM");
    assert!(p.wait(Duration::from_secs(15)).await.success(), "{}\n{}", p.stdout(), p.stderr());
    assert_eq!(emu.stats().pending, 20, "events stored into the deleted file were not acknowledged");
    assert!(emu.acknowledged_ids().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sync_on_a_symlink_to_the_file_stands_by_too() {
    let emu = emulator(20).await;
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path(), "events.db");
    let spawn = |url: &str| {
        let mut cmd = command(&emu);
        cmd.args(["sync", "--json", "--db", url]).args(FAST);
        Proc::spawn(cmd)
    };
    let mut first = spawn(&db);
    eventually(Duration::from_secs(30), "the first drains", || async { emu.stats().pending == 0 }).await;
    std::os::unix::fs::symlink(dir.path().join("events.db"), dir.path().join("link.db")).unwrap();
    let mut second = spawn(&sqlite_url(dir.path(), "link.db"));
    eventually(Duration::from_secs(30), "the second stands by", || {
        let ok = second.has_line(r#""type":"standby""#);
        async move { ok }
    })
    .await;
    for p in [&mut second, &mut first] {
        p.signal("TERM");
        assert!(p.wait(Duration::from_secs(15)).await.success());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_while_acknowledges_hang_ends_once_after_a_grace_period_not_the_retries() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path(), "events.db");
    // With these flags (and the 30 s request timeout) the acknowledge would be retried for 20 × 30 s.
    let (emu, mut p) = sync_with_an_acknowledge_hanging(&db, &["--once"]).await;
    p.signal("TERM");
    // The bound only catches the old behaviour (minutes of retries); the grace is 10 s.
    let status = p.wait(Duration::from_secs(45)).await;
    assert!(status.success(), "{}\n{}", p.stdout(), p.stderr());
    assert!(p.stderr().contains("stopped before the last batch was acknowledged"), "{}", p.stderr());
    assert_eq!(sqlite_count(&db, "SELECT COUNT(*) FROM webhook_events").await, 10, "stored");
    assert_eq!(emu.stats().pending, 10, "not acknowledged: delivered again later");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_exits_130_with_an_error_line_under_json() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path(), "events.db");
    let (emu, mut p) = sync_with_an_acknowledge_hanging(&db, &[]).await;
    p.signal("TERM");
    eventually(Duration::from_secs(10), "the first signal taken", || {
        let err = p.stderr();
        async move { err.contains("stopping: finishing the batch in hand") }
    })
    .await;
    p.signal("TERM");
    let status = p.wait(Duration::from_secs(10)).await;
    assert_eq!(status.code(), Some(130), "{}", p.stderr());
    let line = p.stdout().lines().last().unwrap_or_default().to_string();
    let error: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(
        (error["type"].as_str(), error["code"].as_str(), error["exitCode"].as_u64()),
        (Some("error"), Some("INTERRUPTED"), Some(130))
    );
    assert_eq!(emu.stats().pending, 10, "not acknowledged: delivered again later");
}

// Linux: a blocked write is seen in /proc/<pid>/task/*/wchan.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_signal_exits_130_even_while_stdout_is_a_full_pipe() {
    let dir = tempfile::tempdir().unwrap();
    let emu = emulator(0).await;
    let mut cmd = command(&emu);
    cmd.args(["sync", "--json", "--db", &sqlite_url(dir.path(), "events.db")])
        .args(["--min-poll-interval", "0", "--interval", "1ms", "--no-progress"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null());
    // Nobody reads its stdout: a cycle line per millisecond fills the pipe, and the poller
    // then blocks writing the next one, holding the stdout lock.
    let mut child = cmd.spawn().unwrap();
    let pid = child.id();
    let writing_to_a_full_pipe = move || {
        std::fs::read_dir(format!("/proc/{pid}/task"))
            .into_iter()
            .flatten()
            .flatten()
            .any(|task| std::fs::read_to_string(task.path().join("wchan")).is_ok_and(|w| w.contains("pipe_write")))
    };
    eventually(Duration::from_secs(60), "the poller blocked on its stdout", || {
        let blocked = writing_to_a_full_pipe();
        async move { blocked }
    })
    .await;
    for _ in 0..2 {
        let ok = std::process::Command::new("kill").args(["-TERM", &pid.to_string()]).status().unwrap();
        assert!(ok.success());
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    // Bounded only to catch a hang: before, the process never exited.
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().ok();
            panic!("still running after the second signal");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(status.code(), Some(130));
}

/// `sync --json` of 10 events into `db` with `extra` flags, against a platform whose
/// acknowledges hang; returns once an acknowledge is in flight.
async fn sync_with_an_acknowledge_hanging(db: &str, extra: &[&str]) -> (smartai_emulator::Emulator, Proc) {
    let emu = emulator(10).await;
    emu.set_faults(vec![FaultRule::new(FaultKind::Hang).on(smartai_emulator::Endpoint::Acknowledge)]);
    let mut cmd = command(&emu);
    cmd.args(["sync", "--json", "--db", db]).args(extra).args(FAST);
    let p = Proc::spawn(cmd);
    eventually(Duration::from_secs(30), "an acknowledge in flight", || {
        let acks = requests_to(&emu, "acknowledge");
        async move { acks > 0 }
    })
    .await;
    (emu, p)
}

fn requests_to(emu: &smartai_emulator::Emulator, endpoint: &str) -> usize {
    emu.request_log().iter().filter(|r| format!("{:?}", r.endpoint).eq_ignore_ascii_case(endpoint)).count()
}

/// A small tmpfs, unmounted on drop; `None` where mounting is not allowed (not root).
struct Tmpfs(std::path::PathBuf);

impl Tmpfs {
    fn mount(dir: &std::path::Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(dir).unwrap();
        let ok = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        ok.then(|| Tmpfs(dir.to_path_buf()))
    }

    fn resize(&self, size: &str) {
        let ok =
            std::process::Command::new("mount").args(["-o", &format!("remount,size={size}")]).arg(&self.0).status();
        assert!(ok.unwrap().success(), "remount {}", self.0.display());
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg(&self.0).status();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_does_not_wedge_the_store_once_space_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let Some(disk) = Tmpfs::mount(&dir.path().join("disk"), "300k") else {
        eprintln!("skipped: mounting a small tmpfs needs root");
        return;
    };
    let emu = emulator(1_000).await;
    let db = sqlite_url(&disk.0, "events.db");
    let mut cmd = command(&emu);
    cmd.args(["sync", "--db", &db]).args(FAST);
    let mut p = Proc::spawn(cmd);
    eventually(Duration::from_secs(30), "the disk to fill up", || {
        let full = p.stderr().contains("database or disk is full");
        async move { full }
    })
    .await;
    // Some cycles on the full disk: retries of the failed batch's events one by one.
    tokio::time::sleep(Duration::from_secs(5)).await;
    disk.resize("50M");
    // A failed COMMIT used to leave its connection holding the write lock: every later
    // store waited out the busy timeout and failed, and nothing moved again.
    eventually(Duration::from_secs(60), "the queue to drain once space is back", || async { emu.stats().pending == 0 })
        .await;
    p.signal("TERM");
    assert!(p.wait(Duration::from_secs(15)).await.success(), "{}", p.stderr());
    let stored = sqlite_count(&db, "SELECT COUNT(*) FROM webhook_events").await;
    let dead = sqlite_count(&db, "SELECT COUNT(*) FROM webhook_dead_letters").await;
    assert_eq!(stored + dead, 1_000, "every acknowledged event is in the database");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_while_the_database_does_not_answer_exits_0_at_once() {
    use std::sync::{Arc, Mutex};
    let emu = emulator(3).await;
    // A "database" that accepts connections and never says a word.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let db = format!("postgres://postgres@{}/nothing", listener.local_addr().unwrap());
    let held = Arc::new(Mutex::new(Vec::new()));
    let holder = held.clone();
    std::thread::spawn(move || {
        for conn in listener.incoming().flatten() {
            holder.lock().unwrap().push(conn);
        }
    });
    for once in [false, true] {
        let before = held.lock().unwrap().len();
        let mut cmd = command(&emu);
        cmd.args(["sync", "--db", &db]).args(FAST);
        if once {
            cmd.arg("--once");
        }
        let mut p = Proc::spawn(cmd);
        eventually(Duration::from_secs(30), "a connection to the silent database", || {
            let n = held.lock().unwrap().len();
            async move { n > before }
        })
        .await;
        p.signal("TERM");
        // Nothing is in hand: without the stop racing the connect, this waits for ever.
        let status = p.wait(Duration::from_secs(10)).await;
        assert!(status.success(), "once={once}: {}", p.stderr());
        assert_eq!(emu.stats().pending, 3);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_that_never_answers_is_an_error_after_the_connect_timeout_not_a_hang() {
    let emu = emulator(3).await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let db = format!("postgres://postgres:pw@{}/nothing", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        let held: Vec<_> = listener.incoming().flatten().collect();
        drop(held);
    });
    let mut cmd = command(&emu);
    cmd.args(["sync", "--once", "--db", &db]).args(FAST);
    let (status, _, err) = run(cmd, Duration::from_secs(60)).await;
    assert_eq!(status.code(), Some(1), "{err}");
    assert!(err.contains("cannot connect to PostgreSQL at") && err.contains("no answer within 30 s"), "{err}");
    assert!(!err.contains(":pw@"), "{err}");
    assert_eq!(emu.stats().pending, 3);
}
