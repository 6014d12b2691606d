//! Flags, errors, exit codes, `events`, `ack` and `demo`, through the real binary.

mod common;

use common::*;
use std::process::Stdio;
use std::time::Duration;

const BOUND: Duration = Duration::from_secs(60);

#[tokio::test]
async fn bad_flags_exit_2_and_name_the_value() {
    for (args, needle) in [
        (vec!["sync", "--interval", "soon"], "soon"),
        (vec!["sync", "--limit", "0"], "0"),
        (vec!["sync", "--limit", "500"], "500"),
        (vec!["sync", "--max-attempts", "0"], "0"),
        (vec!["sync", "--bogus"], "--bogus"),
        (vec!["nonsense"], "nonsense"),
        (vec!["forward", "--to", "http://127.0.0.1:9/hook", "--timeout", "0"], "'0' for '--timeout"),
        (vec!["emulator", "--burst", "0"], "--burst must be at least 1"),
        (vec!["emulator", "--rate", "0"], "--rate must be a number of requests per second above 0, got 0"),
    ] {
        let mut cmd = bare();
        cmd.args(&args).env("ASSESSMENT_API_KEY", "wc_ak_test_x").env("ASSESSMENT_SECRET_KEY", "s");
        let (status, out, err) = run(cmd, BOUND).await;
        assert_eq!(status.code(), Some(2), "{args:?}\n{out}\n{err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[tokio::test]
async fn bad_database_urls_exit_2_without_the_password() {
    for (url, shown) in [
        ("mysql://root:hunter2@localhost/app", "mysql://root:***@localhost/app"),
        ("postgres://app:hunter2@localhost:notaport/app", "postgres://app:***@localhost:notaport/app"),
        ("events.db", "events.db"),
        ("sqlite://", "sqlite://"),
        // In RAM, acknowledged events would vanish with the process.
        ("sqlite::memory:", "sqlite::memory:"),
        ("sqlite:///tmp/smartai-test.db?mode=memory", "sqlite:///tmp/smartai-test.db?mode=memory"),
    ] {
        let mut cmd = bare();
        cmd.args(["sync", "--once", "--db", url])
            .env("ASSESSMENT_API_KEY", "wc_ak_test_x")
            .env("ASSESSMENT_SECRET_KEY", "s");
        let (status, out, err) = run(cmd, BOUND).await;
        assert_eq!(status.code(), Some(2), "{url}\n{out}\n{err}");
        assert!(err.contains(shown), "{url}: {err}");
        assert!(!err.contains("hunter2") && !out.contains("hunter2"), "{err}");
    }
}

#[tokio::test]
async fn missing_keys_exit_2_and_secrets_are_never_echoed() {
    let (status, _, err) = run(
        {
            let mut c = bare();
            c.args(["events"]);
            c
        },
        BOUND,
    )
    .await;
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("Missing API key") && err.contains("ASSESSMENT_API_KEY"), "{err}");

    let mut cmd = bare();
    cmd.args([
        "--json",
        "events",
        "--api-key",
        "wc_ak_test_abcdef1234",
        "--secret-key",
        "TOPSECRET-123",
        "--base-url",
        "ftp://nowhere",
    ]);
    let (status, out, err) = run(cmd, BOUND).await;
    assert_eq!(status.code(), Some(2), "{out}\n{err}");
    assert!(out.contains(r#""type":"error""#), "{out}");
    assert!(!out.contains("TOPSECRET") && !err.contains("TOPSECRET"), "{out}\n{err}");

    let mut cmd = bare();
    cmd.args(["forward", "--to", "ftp://x", "--secret", "FWDSECRET"])
        .env("ASSESSMENT_API_KEY", "wc_ak_test_x")
        .env("ASSESSMENT_SECRET_KEY", "s");
    let (status, out, err) = run(cmd, BOUND).await;
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("ftp://x") && !err.contains("FWDSECRET") && !out.contains("FWDSECRET"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_smartai_events_db_counts_as_unset_and_the_flag_wins_over_the_variable() {
    let emu = emulator(2).await;
    let dir = tempfile::tempdir().unwrap();
    // docker-compose's `SMARTAI_EVENTS_DB=`: the default file in the working directory.
    let mut cmd = command(&emu);
    cmd.current_dir(dir.path()).env("SMARTAI_EVENTS_DB", "").args(["sync", "--once", "--no-progress"]);
    let (status, out, err) = run(cmd, BOUND).await;
    assert!(status.success(), "{out}\n{err}");
    assert!(dir.path().join("smartai-events.db").exists(), "{err}");
    // A variable that says where is used; a flag wins over it.
    emu.generate(1);
    let mut cmd = command(&emu);
    cmd.current_dir(dir.path()).env("SMARTAI_EVENTS_DB", "sqlite://from-env.db").args(["sync", "--once"]);
    let (status, _, err) = run(cmd, BOUND).await;
    assert!(status.success() && dir.path().join("from-env.db").exists(), "{err}");
    emu.generate(1);
    let mut cmd = command(&emu);
    cmd.current_dir(dir.path()).env("SMARTAI_EVENTS_DB", "sqlite://from-env.db").args([
        "sync",
        "--once",
        "--db",
        "sqlite://flag.db",
    ]);
    let (status, _, err) = run(cmd, BOUND).await;
    assert!(status.success() && dir.path().join("flag.db").exists(), "{err}");
    assert_eq!(emu.stats().pending, 0);
    // An empty flag is still refused.
    let mut cmd = command(&emu);
    cmd.current_dir(dir.path()).args(["sync", "--once", "--db", ""]);
    let (status, _, err) = run(cmd, BOUND).await;
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("the database URL is empty"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_secret_exits_3() {
    let emu = emulator(3).await;
    let mut cmd = command(&emu);
    cmd.args(["sync", "--once", "--no-progress", "--secret-key", "wc_sk_test_wrong_secret"]);
    let dir = tempfile::tempdir().unwrap();
    cmd.args(["--db", &sqlite_url(dir.path(), "x.db")]);
    let (status, out, err) = run(cmd, BOUND).await;
    assert_eq!(status.code(), Some(3), "{out}\n{err}");
    assert!(!err.contains("wc_sk_test_wrong_secret"), "{err}");
    assert_eq!(emu.stats().pending, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_shows_control_characters_of_an_id_escaped_not_raw() {
    let emu = emulator(0).await;
    emu.enqueue(vec![serde_json::json!({"eventId": "evt\u{1b}[31mred\r\nFAKE ROW", "event": "x\u{7}y"})]);
    let mut cmd = command(&emu);
    cmd.args(["events", "--min-poll-interval", "0"]);
    let (status, out, err) = run(cmd, BOUND).await;
    assert!(status.success(), "{err}");
    assert!(!out.contains('\u{1b}') && !out.contains('\u{7}') && !out.contains('\r'), "{out:?}");
    assert!(out.contains(r"evt\u{1b}[31mred\r\nFAKE ROW") && out.contains(r"x\u{7}y"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_peeks_and_ack_acknowledges() {
    let emu = emulator(7).await;
    let ids = emu.pending_ids();
    let mut cmd = command(&emu);
    cmd.args(["events", "--limit", "5", "--json", "--min-poll-interval", "0"]);
    let (status, out, err) = run(cmd, BOUND).await;
    assert!(status.success(), "{err}");
    let lines: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 6, "{out}");
    assert_eq!(lines[0]["eventId"], ids[0].as_str());
    assert_eq!(lines[5]["pendingCount"], 2);
    assert_eq!(emu.stats().pending, 7, "peeking acknowledges nothing");

    let mut cmd = command(&emu);
    cmd.args(["events", "--min-poll-interval", "0"]);
    let (status, out, _) = run(cmd, BOUND).await;
    assert!(status.success());
    assert!(out.contains(&ids[0]) && out.contains("nothing was acknowledged"), "{out}");

    let mut cmd = command(&emu);
    cmd.args(["ack", &ids[0], &ids[1], "evt_unknown", &ids[0]]);
    let (status, out, err) = run(cmd, BOUND).await;
    assert!(status.success(), "{err}");
    assert!(out.contains("acknowledged 2 of 3"), "an ID given twice counts once: {out}");
    assert_eq!(emu.stats().pending, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_explicitly_empty_base_url_or_key_is_refused_not_read_as_production_or_the_variable() {
    let emu = emulator(1).await;
    let mut cmd = command(&emu);
    cmd.args(["events", "--base-url", ""]);
    let (status, _, err) = run(cmd, BOUND).await;
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains(r#"invalid base URL "": it is empty"#), "{err}");
    // Plain http to another host names the flag that allows it.
    let mut cmd = command(&emu);
    cmd.args(["events", "--base-url", "http://example.com"]);
    let (status, _, err) = run(cmd, BOUND).await;
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.trim_end().ends_with("a loopback host, or pass --allow-insecure-http"), "{err}");
    // An explicitly empty key is refused, not replaced by the variable's key.
    for (flag, var) in [("--api-key", "ASSESSMENT_API_KEY"), ("--secret-key", "ASSESSMENT_SECRET_KEY")] {
        let mut cmd = command(&emu);
        cmd.args(["events", flag, ""]);
        let (status, _, err) = run(cmd, BOUND).await;
        assert_eq!(status.code(), Some(2), "{err}");
        assert!(err.contains(&format!("given is empty; pass the key, or leave the option out to read {var}")), "{err}");
    }
    // An empty variable is unset: a missing key, told as such.
    let mut cmd = command(&emu);
    cmd.env("ASSESSMENT_API_KEY", " ").args(["events"]);
    let (status, _, err) = run(cmd, BOUND).await;
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(err.contains("Missing API key: set ASSESSMENT_API_KEY"), "{err}");
    // An empty variable is unset, and the flag wins over it.
    let mut cmd = command(&emu);
    cmd.env("ASSESSMENT_BASE_URL", "").args(["events", "--base-url", &emu.url(), "--min-poll-interval", "0"]);
    let (status, out, err) = run(cmd, BOUND).await;
    assert!(status.success(), "{err}");
    assert!(out.contains("1 shown"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flag_that_does_not_parse_is_an_error_line_under_json() {
    let mut cmd = bare();
    cmd.args(["--json", "sync", "--interval", "abc"]);
    let (status, out, err) = run(cmd, BOUND).await;
    assert_eq!(status.code(), Some(2), "{err}");
    let line: serde_json::Value = serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("{e}: {out}"));
    assert_eq!(
        (line["type"].as_str(), line["code"].as_str(), line["exitCode"].as_u64()),
        (Some("error"), Some("USAGE"), Some(2))
    );
    assert!(line["message"].as_str().is_some_and(|m| m.starts_with("invalid value 'abc' for '--interval")), "{line}");
    assert!(err.contains("invalid value 'abc'"), "clap's own text stays on stderr: {err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_json_prints_each_event_as_the_server_sent_it() {
    let emu = emulator(0).await;
    let sent = "{\"eventId\":\"exact\",\"event\":\"x.y\",\"score\":1.50,\n  \"big\":12345678901234567890123}";
    assert_eq!(emu.enqueue_json(&format!("[{sent}]")).unwrap(), 1);
    let mut cmd = command(&emu);
    cmd.args(["events", "--json", "--min-poll-interval", "0"]);
    let (status, out, err) = run(cmd, BOUND).await;
    assert!(status.success(), "{err}");
    let first = out.lines().next().unwrap();
    // The text as sent, its line break dropped so that each event stays one line (the
    // emulator appends the storedAt it filled in before the closing brace).
    let as_sent = sent.replace('\n', "");
    assert!(first.starts_with(as_sent.strip_suffix('}').unwrap()), "{first}");
    assert!(first.contains("\"score\":1.50,") && first.contains(":12345678901234567890123"), "{first}");
    assert_eq!(out.lines().count(), 2, "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_runs_end_to_end_and_prints_the_summary() {
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path(), "demo.db");
    let mut cmd = bare();
    cmd.args(["demo", "--db", &db, "--events", "250"]);
    let (status, out, err) = run(cmd, Duration::from_secs(120)).await;
    assert!(status.success(), "{out}\n{err}");
    for needle in ["assessment.completed", "pass rate", "sqlite3", "demo.db", "250 events"] {
        assert!(out.contains(needle), "missing {needle:?} in:\n{out}");
    }
    assert_eq!(sqlite_count(&db, "SELECT COUNT(*) FROM webhook_events").await, 250);

    let mut cmd = bare();
    cmd.args(["demo", "--json", "--db", &db, "--events", "20", "--seed", "7"]);
    let (status, out, _) = run(cmd, Duration::from_secs(120)).await;
    assert!(status.success());
    let summary: serde_json::Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(summary["type"], "summary");
    assert_eq!(summary["stored"], 20);
    assert_eq!(summary["pendingCount"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_stderr_does_not_end_the_run() {
    // `smartai-events demo 2>&1 | head -1`, or a log reader that went away: the status
    // lines for people go to stderr, and a failed write there must not stop the work.
    let dir = tempfile::tempdir().unwrap();
    let db = sqlite_url(dir.path(), "demo.db");
    let mut cmd = bare();
    cmd.args(["demo", "--db", &db, "--events", "20"]).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("binary starts");
    drop(child.stderr.take());
    let out = tokio::task::spawn_blocking(move || child.wait_with_output().unwrap()).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("SmartAI events demo"), "{stdout}");
    assert_eq!(sqlite_count(&db, "SELECT COUNT(*) FROM webhook_events").await, 20);

    // Logs (here a warning per failed poll) go to stderr as well, in both output modes.
    for json in [false, true] {
        let mut cmd = bare();
        if json {
            cmd.arg("--json");
        }
        cmd.args(["sync", "--db", &db, "--base-url", "http://127.0.0.1:9", "--max-retries", "0"])
            .env("ASSESSMENT_API_KEY", "wc_ak_test_x")
            .env("ASSESSMENT_SECRET_KEY", "s")
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("binary starts");
        drop(child.stderr.take());
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(child.try_wait().unwrap(), None, "sync (json: {json}) ended while polling");
        let killed = std::process::Command::new("kill").arg("-TERM").arg(child.id().to_string()).status().unwrap();
        assert!(killed.success());
        let status = tokio::task::spawn_blocking(move || child.wait().unwrap()).await.unwrap();
        assert_eq!(status.code(), Some(0), "json: {json}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_prints_what_the_readme_shows() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    // The sample summary: from its title to the database line.
    let start = readme.find("\nSmartAI events demo\n").expect("the README shows the demo's summary");
    let sample: Vec<&str> = readme[start..]
        .lines()
        .map(str::trim)
        .skip(1)
        .take_while(|l| !l.starts_with("database"))
        .filter(|l| !l.is_empty())
        .collect();
    assert!(sample.len() >= 5, "{sample:?}");
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = bare();
    cmd.current_dir(dir.path()).arg("demo");
    let (status, out, err) = run(cmd, Duration::from_secs(120)).await;
    assert!(status.success(), "{out}\n{err}");
    let shown: Vec<String> = out.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect();
    for line in sample {
        let line = line.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(shown.contains(&line), "the README shows {line:?}, the demo printed:\n{out}");
    }
}

#[tokio::test]
async fn every_command_has_examples_in_help() {
    for sub in ["sync", "forward", "events", "ack", "demo", "emulator"] {
        let mut cmd = bare();
        cmd.args([sub, "--help"]);
        let (status, out, _) = run(cmd, BOUND).await;
        assert!(status.success(), "{sub}");
        assert!(out.contains("Examples:"), "{sub}: {out}");
    }
    let mut cmd = bare();
    cmd.arg("--help");
    let (_, out, _) = run(cmd, BOUND).await;
    assert!(out.contains("Exit codes:"), "{out}");
}

#[tokio::test]
async fn a_database_in_a_missing_directory_exits_2_and_names_it() {
    let dir = tempfile::tempdir().unwrap();
    let url = sqlite_url(&dir.path().join("no-such-dir"), "events.db");
    for command in ["sync", "demo"] {
        let mut cmd = bare();
        cmd.args([command, "--db", &url, "--no-progress"]);
        if command == "sync" {
            cmd.arg("--once").env("ASSESSMENT_API_KEY", "wc_ak_test_x").env("ASSESSMENT_SECRET_KEY", "s");
        }
        let (status, out, err) = run(cmd, BOUND).await;
        assert_eq!(status.code(), Some(2), "{command}\n{out}\n{err}");
        assert!(err.contains(&url) && err.contains("does not exist"), "{command}: {err}");
        assert!(!err.contains(".lock"), "{command}: {err}");
    }
}

#[tokio::test]
async fn a_sqlite_scheme_in_capitals_opens_the_file_it_names() {
    let emu = emulator(3).await;
    let dir = tempfile::tempdir().unwrap();
    for (n, scheme) in ["SQLITE://", "Sqlite:"].into_iter().enumerate() {
        let file = dir.path().join(format!("caps{n}.db"));
        let mut cmd = command(&emu);
        cmd.current_dir(dir.path()).args(["sync", "--once", "--db", &format!("{scheme}{}", file.display())]).args(FAST);
        let (status, out, err) = run(cmd, BOUND).await;
        assert_eq!(status.code(), Some(0), "{scheme}\n{out}\n{err}");
        assert!(file.exists(), "{scheme}: no {}; {err}", file.display());
        assert!(dir.path().join(format!("caps{n}.db.lock")).exists(), "{scheme}: no lock file");
    }
}

#[tokio::test]
async fn a_percent_encoded_sqlite_path_takes_the_lock_of_the_file_it_opens() {
    let emu = emulator(0).await;
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = command(&emu);
    cmd.args(["sync", "--once", "--db", &format!("sqlite://{}/my%20events.db", dir.path().display())]).args(FAST);
    let (status, out, err) = run(cmd, BOUND).await;
    assert_eq!(status.code(), Some(0), "{out}\n{err}");
    assert!(dir.path().join("my events.db").exists(), "{err}");
    // The same lock as `sqlite://.../my events.db`, so that the two spellings do not both poll.
    assert!(dir.path().join("my events.db.lock").exists(), "{err}");
    assert!(!dir.path().join("my%20events.db.lock").exists(), "{err}");
}

#[tokio::test]
async fn odd_client_flags_exit_2_and_name_the_flag() {
    let emu = emulator(0).await;
    for (args, needle) in [
        (vec!["events", "--max-retries", "101"], "'101' for '--max-retries"),
        (vec!["forward", "--once", "--to", "http://127.0.0.1:9/hook", "--secret", "  "], "--secret"),
        // A negative duration reaches the flag's own check, not "unexpected argument '-5s'".
        (vec!["sync", "--interval", "-5s"], "'-5s' for '--interval <DURATION>': expected a non-negative duration"),
        (vec!["forward", "--to", "http://127.0.0.1:9/hook", "--timeout", "-1"], "'-1' for '--timeout"),
    ] {
        let mut cmd = command(&emu);
        cmd.args(&args);
        let (status, out, err) = run(cmd, BOUND).await;
        assert_eq!(status.code(), Some(2), "{args:?}\n{out}\n{err}");
        assert!(err.contains(needle), "{args:?}: {err}");
    }
    // Below the floor: the flag and its value are named, as clap names them for the rest.
    for (command_args, typed) in
        [(vec!["sync"], "1ns"), (vec!["forward", "--to", "http://127.0.0.1:9/hook"], "4s 900ms")]
    {
        let mut cmd = command(&emu);
        cmd.args(&command_args).args(["--interval", typed]);
        let (status, out, err) = run(cmd, BOUND).await;
        assert_eq!(status.code(), Some(2), "{out}\n{err}");
        let needle = format!("invalid value '{typed}' for '--interval': interval must be at least 5s");
        assert!(err.contains(&needle), "{command_args:?}: {err}");
    }
    // A bad --interval is refused before anything starts, as in `sync`.
    let mut cmd = command(&emu);
    cmd.args(["--json", "forward", "--to", "http://127.0.0.1:9/hook", "--interval", "1s"]);
    let (status, out, err) = run(cmd, BOUND).await;
    assert_eq!(status.code(), Some(2), "{out}\n{err}");
    assert!(!out.contains("\"start\""), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_to_a_pipe_carry_no_colour_codes() {
    let emu = emulator(2).await;
    let unavailable = smartai_emulator::FaultKind::Status { status: 503, retry_after: None, body: None };
    emu.add_fault(smartai_emulator::FaultRule::new(unavailable).on(smartai_emulator::Endpoint::Fetch).times(1));
    let mut cmd = command(&emu);
    cmd.args(["-v", "events", "--min-poll-interval", "0"]);
    let (status, out, err) = run(cmd, BOUND).await;
    assert!(status.success(), "{out}\n{err}");
    // The retried 503 is logged as a warning: the log is there, only without escapes.
    assert!(err.contains("WARN") && err.contains("retrying"), "{err}");
    assert!(!err.contains('\u{1b}'), "{err:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connection_error_through_a_proxy_names_the_proxy_and_no_proxy_exempts_the_host() {
    let emu = emulator(2).await;
    // Port 1 on loopback: nothing listens, so the proxy refuses the connection.
    let mut cmd = command(&emu);
    cmd.env("HTTP_PROXY", "http://user:pw@127.0.0.1:1").args(["events", "--max-retries", "0"]);
    let (status, out, err) = run(cmd, BOUND).await;
    assert_eq!(status.code(), Some(1), "{out}\n{err}");
    assert!(err.contains("through the proxy http://127.0.0.1:1 that"), "{err}");
    assert!(!err.contains("pw@"), "the proxy's credentials are not shown: {err}");

    let mut cmd = command(&emu);
    cmd.env("HTTP_PROXY", "http://127.0.0.1:1").env("NO_PROXY", "127.0.0.1").args(["events"]);
    let (status, out, err) = run(cmd, BOUND).await;
    assert!(status.success(), "{out}\n{err}");
    assert!(out.contains("2 shown"), "{out}");
}
