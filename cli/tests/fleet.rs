//! Fleet mode: several `sync` processes on one PostgreSQL database, one leader at a time.
//!
//! Runs when SMARTAI_TEST_POSTGRES_URL is set (e.g. postgres://postgres@127.0.0.1:5432/postgres);
//! each run creates its own database `smartai_test_<random>` and drops it afterwards.

mod common;

use common::*;
use sqlx::{AssertSqlSafe, Connection, PgConnection};
use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

struct TestDb {
    admin: String,
    name: String,
    url: String,
}

impl TestDb {
    async fn create() -> Option<TestDb> {
        let Ok(admin) = std::env::var("SMARTAI_TEST_POSTGRES_URL") else {
            // Straight to the stderr handle: the test harness captures eprintln!, and this
            // notice should be seen.
            use std::io::Write;
            let _ = writeln!(
                std::io::stderr(),
                "SKIPPED: set SMARTAI_TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres) to run the PostgreSQL tests"
            );
            return None;
        };
        let name = format!("smartai_test_{:016x}", rand::random::<u64>());
        let mut conn = PgConnection::connect(&admin).await.expect("connect to SMARTAI_TEST_POSTGRES_URL");
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE {name}"))).execute(&mut conn).await.unwrap();
        conn.close().await.ok();
        let mut url = url::Url::parse(&admin).unwrap();
        url.set_path(&format!("/{name}"));
        Some(TestDb { admin, name, url: url.to_string() })
    }

    async fn count(&self, sql: &'static str) -> i64 {
        let Ok(mut conn) = PgConnection::connect(&self.url).await else { return 0 };
        let n = match sqlx::query_scalar::<_, i64>(sql).fetch_one(&mut conn).await {
            Ok(n) => n,
            Err(e) if e.to_string().contains("does not exist") => 0,
            Err(e) => panic!("{sql}: {e}"),
        };
        conn.close().await.ok();
        n
    }

    async fn ids(&self) -> HashSet<String> {
        let mut conn = PgConnection::connect(&self.url).await.unwrap();
        let ids: Vec<String> =
            sqlx::query_scalar("SELECT event_id FROM webhook_events").fetch_all(&mut conn).await.unwrap();
        ids.into_iter().collect()
    }

    async fn drop_db(&self) {
        let mut conn = PgConnection::connect(&self.admin).await.unwrap();
        let _ = sqlx::query(AssertSqlSafe(format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name)))
            .execute(&mut conn)
            .await;
    }
}

fn leaders(procs: &[Proc]) -> Vec<usize> {
    (0..procs.len()).filter(|&i| procs[i].has_line(r#""type":"leader""#)).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_syncs_one_leader_takeover_on_kill_and_on_lost_lock() {
    let Some(db) = TestDb::create().await else { return };
    let emu = emulator(0).await;
    let spawn = || {
        let mut cmd = command(&emu);
        cmd.args(["sync", "--json", "--db", &db.url]).args(FAST);
        Proc::spawn(cmd)
    };
    let mut procs: Vec<Proc> = (0..3).map(|_| spawn()).collect();

    eventually(Duration::from_secs(60), "one leader and two standbys", || {
        let ok = leaders(&procs).len() == 1 && procs.iter().filter(|p| p.has_line(r#""type":"standby""#)).count() == 2;
        async move { ok }
    })
    .await;
    let first = leaders(&procs)[0];

    emu.generate(500);
    eventually(Duration::from_secs(60), "500 rows, queue empty", || async {
        emu.stats().pending == 0 && db.count("SELECT COUNT(*) FROM webhook_events").await == 500
    })
    .await;
    for (i, p) in procs.iter().enumerate() {
        if i != first {
            assert!(!p.has_line(r#""type":"cycle""#), "standby {i} polled:\n{}", p.stdout());
        }
    }

    // The leader dies; its session ends, the lock is released, a standby takes over.
    procs[first].signal("KILL");
    procs[first].wait(Duration::from_secs(10)).await;
    emu.generate(500);
    eventually(Duration::from_secs(60), "a new leader stored the next 500", || async {
        emu.stats().pending == 0 && db.count("SELECT COUNT(*) FROM webhook_events").await == 1_000
    })
    .await;
    let second: Vec<usize> = leaders(&procs).into_iter().filter(|&i| i != first).collect();
    assert_eq!(second.len(), 1, "exactly one standby took over");

    // The leader's lock connection is cut: it must stop polling and stand again.
    let mut admin = PgConnection::connect(&db.url).await.unwrap();
    let cut: Vec<i32> = sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity WHERE application_name = 'smartai-events sync (leader lock)' \
         AND datname = current_database() AND pid <> pg_backend_pid()",
    )
    .fetch_all(&mut admin)
    .await
    .unwrap();
    assert!(!cut.is_empty(), "the lock connections are visible");
    sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'smartai-events sync (leader lock)' AND datname = current_database()")
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.ok();
    eventually(Duration::from_secs(30), "the leader noticed the lost lock", || {
        let ok = procs.iter().any(|p| p.has_line(r#""type":"lost-leadership""#));
        async move { ok }
    })
    .await;
    emu.generate(200);
    eventually(Duration::from_secs(60), "someone leads again and stores the next 200", || async {
        emu.stats().pending == 0 && db.count("SELECT COUNT(*) FROM webhook_events").await == 1_200
    })
    .await;

    let stored = db.ids().await;
    let acknowledged: HashSet<String> = emu.acknowledged_ids().into_iter().collect();
    assert_eq!(stored.len(), 1_200);
    assert_eq!(stored, acknowledged, "every event stored once, and only stored events acknowledged");

    for (i, p) in procs.iter_mut().enumerate() {
        if i != first {
            p.signal("TERM");
            let status = p.wait(Duration::from_secs(15)).await;
            assert!(status.success(), "process {i}: {status:?}\n{}", p.stderr());
        }
    }
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn processes_that_give_the_api_key_differently_meet_at_one_lock() {
    let Some(db) = TestDb::create().await else { return };
    let emu = emulator(0).await;
    let mut first = command(&emu);
    first.args(["sync", "--json", "--db", &db.url]).args(FAST);
    let mut first = Proc::spawn(first);
    eventually(Duration::from_secs(60), "the first leads", || {
        let ok = first.has_line(r#""type":"leader""#) || first.has_line(r#""type":"cycle""#);
        async move { ok }
    })
    .await;
    // The same key, from --api-key with an empty variable behind it.
    let mut second = command(&emu);
    second
        .env("ASSESSMENT_API_KEY", "")
        .args(["sync", "--json", "--db", &db.url, "--api-key", emu.api_key()])
        .args(FAST);
    let mut second = Proc::spawn(second);
    eventually(Duration::from_secs(60), "the second stands by", || {
        let ok = second.has_line(r#""type":"standby""#);
        async move { ok }
    })
    .await;
    for p in [&mut second, &mut first] {
        p.signal("TERM");
        assert!(p.wait(Duration::from_secs(30)).await.success(), "{}", p.stderr());
    }
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sync_once_into_postgres_keeps_the_whole_json() {
    let Some(db) = TestDb::create().await else { return };
    let emu = emulator(300).await;
    emu.enqueue(vec![serde_json::json!({
        "eventId": "evt_extra", "event": "assessment.reviewed",
        "brandNewField": {"nested": [1, 2, 3]}, "name": "Zoë Ünal"
    })]);
    sync_once(&emu, &db.url).await;
    assert_eq!(db.count("SELECT COUNT(*) FROM webhook_events").await, 301);
    assert_eq!(
        db.count("SELECT COUNT(*) FROM webhook_events WHERE event_id = 'evt_extra' AND payload->'brandNewField'->'nested'->>2 = '3' AND payload->>'name' = 'Zoë Ünal'").await,
        1
    );
    // A second run finds nothing new and changes nothing.
    sync_once(&emu, &db.url).await;
    assert_eq!(db.count("SELECT COUNT(*) FROM webhook_events").await, 301);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_keeps_numbers_exactly_as_received() {
    let Some(db) = TestDb::create().await else { return };
    let emu = emulator(0).await;
    // Through the admin API as text: a serde_json Value would round the number itself.
    let big = "12345678901234567890123";
    let body = format!(r#"[{{"eventId":"evt_big","event":"assessment.reviewed","score":{big},"ratio":1.10}}]"#);
    let resp = reqwest::Client::new()
        .post(format!("{}/_emulator/events", emu.url()))
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.text().await.unwrap());
    sync_once(&emu, &db.url).await;
    let mut conn = PgConnection::connect(&db.url).await.unwrap();
    let (score, ratio): (String, String) =
        sqlx::query_as("SELECT payload->>'score', payload->>'ratio' FROM webhook_events WHERE event_id = 'evt_big'")
            .fetch_one(&mut conn)
            .await
            .unwrap();
    conn.close().await.ok();
    assert_eq!(score, big, "the integer was rounded");
    assert_eq!(ratio, "1.10");
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_id_postgres_cannot_hold_is_dead_lettered_and_holds_back_nothing() {
    let Some(db) = TestDb::create().await else { return };
    let emu = emulator(0).await;
    // The ID holds U+0000, which PostgreSQL text refuses.
    assert_eq!(emu.enqueue_json(r#"[{"eventId":"poison\u0000id","event":"assessment.reviewed"}]"#).unwrap(), 1);
    emu.generate(5);
    let mut cmd = command(&emu);
    cmd.args(["sync", "--db", &db.url, "--max-attempts", "1"]).args(FAST);
    let mut p = Proc::spawn(cmd);
    eventually(Duration::from_secs(60), "queue empty", || {
        let pending = emu.stats().pending;
        async move { pending == 0 }
    })
    .await;
    p.signal("TERM");
    assert!(p.wait(Duration::from_secs(30)).await.success(), "{}", p.stderr());
    assert_eq!(db.count("SELECT COUNT(*) FROM webhook_events").await, 5);
    assert_eq!(
        db.count(r"SELECT COUNT(*) FROM webhook_dead_letters WHERE event_id = 'poison\u0000id' AND event_id_escaped")
            .await,
        1
    );
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn once_parks_what_postgres_can_never_hold_and_stores_the_rest_of_the_batch() {
    let Some(db) = TestDb::create().await else { return };
    let emu = emulator(0).await;
    // Valid JSON that PostgreSQL refuses however often it is retried: U+0000 in the ID
    // (text) and in a string (JSONB). `--once` counts no attempts, so before, each run
    // failed on the batch and the queue behind it stalled.
    let body = r#"[{"eventId":"poison\u0000id","event":"assessment.reviewed"},
        {"eventId":"evt_nul_text","event":"assessment.reviewed","note":"a\u0000b"}]"#;
    assert_eq!(emu.enqueue_json(body).unwrap(), 2);
    emu.generate(5);
    let err = sync_once(&emu, &db.url).await;
    assert_eq!(emu.stats().pending, 0);
    assert_eq!(db.count("SELECT COUNT(*) FROM webhook_events").await, 5);
    assert_eq!(db.count("SELECT COUNT(*) FROM webhook_dead_letters WHERE reason LIKE '%SQLSTATE 22%'").await, 2);
    assert_eq!(
        db.count(r"SELECT COUNT(*) FROM webhook_dead_letters WHERE event_id = 'poison\u0000id' AND event_id_escaped")
            .await,
        1
    );
    assert_eq!(
        db.count(r#"SELECT COUNT(*) FROM webhook_dead_letters WHERE event_id = 'evt_nul_text' AND starts_with(payload, '{"eventId":"evt_nul_text","event":"assessment.reviewed","note":"a\u0000b",')"#).await,
        1,
        "the payload is kept as sent"
    );
    assert!(err.contains("parking it in webhook_dead_letters"), "{err}");
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_escaped_nul_id_and_an_id_that_reads_like_it_are_two_dead_letters() {
    let Some(db) = TestDb::create().await else { return };
    let emu = emulator(0).await;
    // The first ID holds U+0000, which PostgreSQL text cannot hold; the second literally
    // reads backslash-u0000 and is parked for the U+0000 in its payload. Keyed by the same
    // text, the second dead letter overwrote the first, and both events were acknowledged.
    let body = r#"[{"eventId":"poison\u0000id","event":"assessment.reviewed","n":1},
        {"eventId":"poison\\u0000id","event":"assessment.reviewed","n":2,"note":"a\u0000b"},
        {"eventId":"p\\\u0000","event":"assessment.reviewed","n":3},
        {"eventId":"p\u0000\\","event":"assessment.reviewed","n":4}]"#;
    assert_eq!(emu.enqueue_json(body).unwrap(), 4);
    sync_once(&emu, &db.url).await;
    assert_eq!(emu.stats().pending, 0);
    assert_eq!(db.count("SELECT COUNT(*) FROM webhook_dead_letters").await, 4, "a dead letter was overwritten");
    assert_eq!(
        db.count(r#"SELECT COUNT(*) FROM webhook_dead_letters WHERE event_id = 'poison\u0000id' AND event_id_escaped AND payload LIKE '%"n":1%'"#).await,
        1
    );
    assert_eq!(
        db.count(r#"SELECT COUNT(*) FROM webhook_dead_letters WHERE event_id = 'poison\u0000id' AND NOT event_id_escaped AND payload LIKE '%"n":2%'"#).await,
        1
    );
    // A backslash next to the NUL is escaped too, so that these two stay apart.
    assert_eq!(
        db.count(r#"SELECT COUNT(*) FROM webhook_dead_letters WHERE event_id = 'p\\\u0000' AND event_id_escaped AND payload LIKE '%"n":3%'"#).await,
        1
    );
    assert_eq!(
        db.count(r#"SELECT COUNT(*) FROM webhook_dead_letters WHERE event_id = 'p\u0000\\' AND event_id_escaped AND payload LIKE '%"n":4%'"#).await,
        1
    );
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_database_from_the_first_schema_is_migrated_and_keeps_its_dead_letters() {
    let Some(db) = TestDb::create().await else { return };
    // The first schema, as an earlier release left it, with a dead letter in it.
    let first = first_schema();
    let mut conn = PgConnection::connect(&db.url).await.unwrap();
    first.run(&mut conn).await.unwrap();
    sqlx::query("INSERT INTO webhook_dead_letters (event_id, payload, reason) VALUES ('evt_old', '{}', 'old')")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();

    let emu = emulator(3).await;
    assert_eq!(emu.enqueue_json(r#"[{"eventId":"evt_old\u0000","event":"assessment.reviewed"}]"#).unwrap(), 1);
    sync_once(&emu, &db.url).await;
    assert_eq!(emu.stats().pending, 0);
    assert_eq!(db.count("SELECT COUNT(*) FROM webhook_events").await, 3);
    assert_eq!(db.count("SELECT COUNT(*) FROM webhook_dead_letters WHERE event_id = 'evt_old' AND NOT event_id_escaped AND reason = 'old'").await, 1);
    assert_eq!(
        db.count(r"SELECT COUNT(*) FROM webhook_dead_letters WHERE event_id = 'evt_old\u0000' AND event_id_escaped")
            .await,
        1
    );
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_that_knows_only_the_first_schema_refuses_a_database_migrated_further() {
    // What the README says of upgrades: every sync of one database is upgraded together.
    let Some(db) = TestDb::create().await else { return };
    let emu = emulator(1).await;
    sync_once(&emu, &db.url).await;
    let first = first_schema();
    let mut conn = PgConnection::connect(&db.url).await.unwrap();
    let err = first.run(&mut conn).await.unwrap_err().to_string();
    assert!(err.contains("migration 2 was previously applied but is missing"), "{err}");
    conn.close().await.unwrap();
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_waiting_on_a_lock_says_so_and_finishes_when_the_lock_goes() {
    let Some(db) = TestDb::create().await else { return };
    let emu = emulator(0).await;
    // A first run creates the tables.
    sync_once(&emu, &db.url).await;
    let mut holder = lock_events_table(&db.url).await;
    emu.generate(5);
    let mut cmd = command(&emu);
    cmd.args(["sync", "--once", "--db", &db.url, "--slow-store-warning", "200ms"]).args(FAST);
    let mut p = Proc::spawn(cmd);
    slow_store_warned(&p).await;
    assert_eq!(emu.stats().pending, 5, "nothing is acknowledged while the batch waits");
    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    holder.close().await.ok();
    assert!(p.wait(Duration::from_secs(60)).await.success(), "{}", p.stderr());
    assert_eq!(emu.stats().pending, 0);
    assert_eq!(db.count("SELECT COUNT(*) FROM webhook_events").await, 5);
    db.drop_db().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_gives_up_a_store_waiting_on_a_lock_after_the_grace_and_loses_nothing() {
    let Some(db) = TestDb::create().await else { return };
    let emu = emulator(0).await;
    sync_once(&emu, &db.url).await;
    let mut holder = lock_events_table(&db.url).await;
    emu.generate(5);
    // The poller and `--once` alike: one TERM, and each exits 0 within the grace (10 s)
    // though the lock is still held, with nothing acknowledged.
    for once in [false, true] {
        let mut cmd = command(&emu);
        cmd.args(["sync", "--db", &db.url, "--slow-store-warning", "200ms"]).args(FAST);
        if once {
            cmd.arg("--once");
        }
        let mut p = Proc::spawn(cmd);
        slow_store_warned(&p).await;
        p.signal("TERM");
        let status = p.wait(Duration::from_secs(40)).await;
        assert!(status.success(), "once={once}: {status:?}\n{}", p.stderr());
        assert!(p.stderr().contains("stopping with a database write unfinished"), "{}", p.stderr());
        assert_eq!(emu.stats().pending, 5, "once={once}: nothing is acknowledged");
        let said = if once {
            "stored 0 of 5 events in 1 batches; 0 acknowledged; stopped by signal"
        } else {
            "5 events received, 0 stored, 0 acknowledged"
        };
        assert!(p.stderr().contains(said), "once={once}: {}", p.stderr());
    }
    sqlx::query("ROLLBACK").execute(&mut holder).await.unwrap();
    holder.close().await.ok();
    assert_eq!(db.count("SELECT COUNT(*) FROM webhook_events").await, 0, "no write of a given-up batch committed");
    sync_once(&emu, &db.url).await;
    assert_eq!(emu.stats().pending, 0);
    assert_eq!(db.count("SELECT COUNT(*) FROM webhook_events").await, 5);
    db.drop_db().await;
}

/// A session that holds `webhook_events` locked until it rolls back, as a long migration or
/// a `LOCK TABLE` would.
async fn lock_events_table(url: &str) -> PgConnection {
    let mut holder = PgConnection::connect(url).await.unwrap();
    sqlx::query("BEGIN").execute(&mut holder).await.unwrap();
    sqlx::query("LOCK TABLE webhook_events IN ACCESS EXCLUSIVE MODE").execute(&mut holder).await.unwrap();
    holder
}

/// Waits until `sync` has warned that its database write is waiting.
async fn slow_store_warned(p: &Proc) {
    eventually(Duration::from_secs(60), "the slow-store warning", || {
        let ok = p.stderr().contains("still waiting for the database to take a batch");
        async move { ok }
    })
    .await;
}

/// `sync --once` into the database; its stderr, once it exited 0.
/// The migrations of the first release only, as its binary ran them.
fn first_schema() -> sqlx::migrate::Migrator {
    let mut first = sqlx::migrate::Migrator::with_migrations(vec![sqlx::migrate::Migration::new(
        1,
        "webhook_events".into(),
        sqlx::migrate::MigrationType::Simple,
        sqlx::SqlSafeStr::into_sql_str(include_str!("../migrations/postgres/0001_webhook_events.sql")),
        false,
    )]);
    first.dangerous_set_table_name("_smartai_events_migrations");
    first
}

async fn sync_once(emu: &smartai_emulator::Emulator, db: &str) -> String {
    let mut cmd = command(emu);
    cmd.args(["sync", "--once", "--db", db]).args(FAST);
    let (status, out, err) = run(cmd, Duration::from_secs(120)).await;
    assert!(status.success(), "{out}\n{err}");
    err
}

/// A TCP proxy to `target` that can be frozen: it then forwards nothing more in either
/// direction and keeps every connection open, as a host that vanished from the network
/// would look to the server (no FIN, no RST).
async fn freezable_proxy(target: String) -> (String, Arc<AtomicBool>) {
    let frozen = Arc::new(AtomicBool::new(false));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let flag = frozen.clone();
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let Ok(server) = tokio::net::TcpStream::connect(&target).await else { continue };
            let (cr, cw) = client.into_split();
            let (sr, sw) = server.into_split();
            tokio::spawn(pump(cr, sw, flag.clone()));
            tokio::spawn(pump(sr, cw, flag.clone()));
        }
    });
    (addr, frozen)
}

async fn pump(
    mut from: tokio::net::tcp::OwnedReadHalf,
    mut to: tokio::net::tcp::OwnedWriteHalf,
    frozen: Arc<AtomicBool>,
) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match tokio::time::timeout(Duration::from_millis(100), from.read(&mut buf)).await {
            Err(_) => continue,
            Ok(Ok(0) | Err(_)) => return,
            Ok(Ok(n)) => n,
        };
        while frozen.load(Ordering::SeqCst) {
            // Held, with both sockets open: what was read is never delivered.
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        if to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_standby_takes_over_from_a_leader_whose_host_vanished() {
    let Some(db) = TestDb::create().await else { return };
    let emu = emulator(0).await;
    let mut url = url::Url::parse(&db.url).unwrap();
    let target = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap_or(5432));
    let (proxy, frozen) = freezable_proxy(target).await;
    let (host, port) = proxy.rsplit_once(':').unwrap();
    url.set_host(Some(host)).unwrap();
    url.set_port(Some(port.parse().unwrap())).unwrap();

    let mut a = command(&emu);
    a.args(["sync", "--json", "--db", url.as_str()]).args(FAST);
    let a = Proc::spawn(a);
    eventually(Duration::from_secs(60), "A leads", || {
        let ok = a.has_line(r#""type":"leader""#);
        async move { ok }
    })
    .await;
    let mut b = command(&emu);
    b.args(["sync", "--json", "--db", &db.url]).args(FAST);
    let mut b = Proc::spawn(b);
    eventually(Duration::from_secs(60), "B stands by", || {
        let ok = b.has_line(r#""type":"standby""#);
        async move { ok }
    })
    .await;
    // A live leader keeps its lock past the server's idle limit for lock sessions.
    tokio::time::sleep(Duration::from_secs(20)).await;
    assert!(!b.has_line(r#""type":"leader""#), "B took over from a live leader:\n{}", b.stdout());
    assert!(!a.has_line(r#""type":"lost-leadership""#), "{}", a.stderr());

    frozen.store(true, Ordering::SeqCst);
    // Without the idle limit, the server keeps A's session (and the lock) for two hours.
    eventually(Duration::from_secs(60), "B leads once A's host is gone", || {
        let ok = b.has_line(r#""type":"leader""#);
        async move { ok }
    })
    .await;
    emu.generate(20);
    eventually(Duration::from_secs(60), "B stores what comes", || async {
        emu.stats().pending == 0 && db.count("SELECT COUNT(*) FROM webhook_events").await == 20
    })
    .await;
    a.signal("KILL");
    b.signal("TERM");
    assert!(b.wait(Duration::from_secs(15)).await.success(), "{}", b.stderr());
    db.drop_db().await;
}

/// Refuses (or allows again) new connections to the test database, and with `false` also
/// cuts the open ones: to its clients, a database outage.
async fn set_db_reachable(db: &TestDb, reachable: bool) {
    let mut conn = PgConnection::connect(&db.admin).await.unwrap();
    sqlx::query(AssertSqlSafe(format!("ALTER DATABASE {} ALLOW_CONNECTIONS {reachable}", db.name)))
        .execute(&mut conn)
        .await
        .unwrap();
    if !reachable {
        sqlx::query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1")
            .bind(&db.name)
            .execute(&mut conn)
            .await
            .unwrap();
    }
    conn.close().await.ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_outlives_a_database_outage_of_40_seconds() {
    let Some(db) = TestDb::create().await else { return };
    let emu = emulator(50).await;
    let mut cmd = command(&emu);
    cmd.args(["sync", "--json", "--db", &db.url]).args(FAST);
    let mut p = Proc::spawn(cmd);
    eventually(Duration::from_secs(60), "the first 50 stored", || async {
        emu.stats().pending == 0 && db.count("SELECT COUNT(*) FROM webhook_events").await == 50
    })
    .await;

    set_db_reachable(&db, false).await;
    eventually(Duration::from_secs(30), "the leader noticed the outage", || {
        let ok = p.has_line(r#""type":"lost-leadership""#);
        async move { ok }
    })
    .await;
    assert!(!p.has_line(r#""type":"stopped""#), "losing the lock is not stopping:\n{}", p.stdout());
    // Longer than the 30 attempts after which it used to give up and exit 1.
    tokio::time::sleep(Duration::from_secs(40)).await;
    assert!(p.child.try_wait().unwrap().is_none(), "it gave up during the outage:\n{}", p.stderr());
    assert!(p.stderr().contains("cannot connect to PostgreSQL for the leader lock"), "{}", p.stderr());
    set_db_reachable(&db, true).await;

    emu.generate(50);
    eventually(Duration::from_secs(60), "leading again, the next 50 stored", || async {
        emu.stats().pending == 0 && db.count("SELECT COUNT(*) FROM webhook_events").await == 100
    })
    .await;
    p.signal("TERM");
    let status = p.wait(Duration::from_secs(15)).await;
    assert!(status.success(), "{status:?}\n{}", p.stderr());
    assert!(p.has_line(r#""type":"stopped""#), "a real stop says so:\n{}", p.stdout());
    db.drop_db().await;
}
