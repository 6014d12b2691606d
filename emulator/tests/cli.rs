//! The `smartai-emulator` binary: ready line, serving, clean exit on SIGTERM.

mod common;

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_smartai-emulator");

#[test]
fn help_explains_every_flag() {
    let out = Command::new(BIN).arg("--help").output().unwrap();
    assert!(out.status.success());
    let help = String::from_utf8(out.stdout).unwrap();
    for flag in [
        "--port",
        "--host",
        "--events",
        "--seed",
        "--no-rate-limit",
        "--fault-rate",
        "--keys",
        "--retention",
        "--window",
        "--clock-offset-ms",
    ] {
        assert!(help.contains(flag), "{flag} missing from --help");
    }
}

#[test]
fn an_events_count_beyond_the_limit_is_a_usage_error_not_hours_of_work() {
    let out = Command::new(BIN).args(["--port", "0", "--events", "18446744073709551615"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("--events must be at most 10000000 events, got 18446744073709551615"), "{err}");
}

#[tokio::test]
async fn a_config_with_too_many_initial_events_does_not_start() {
    let config = smartai_emulator::EmulatorConfig::default().with_initial_events(10_000_001);
    let err = smartai_emulator::Emulator::start(config).await.expect_err("refused");
    assert!(err.to_string().contains("initial_events must be at most 10000000 events, got 10000001"), "{err}");
}

#[cfg(unix)]
#[tokio::test]
async fn prints_one_json_line_serves_and_exits_zero_on_sigterm() {
    let mut child = Command::new(BIN)
        .args(["--port", "0", "--events", "7", "--seed", "3", "--keys", "2"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let ready: serde_json::Value = serde_json::from_str(&line).expect("one JSON line");
    let url = ready["url"].as_str().unwrap().to_string();
    assert!(url.starts_with("http://127.0.0.1:"));
    assert_eq!(ready["apiKey"], "wc_ak_test_emulator0001");
    assert_eq!(ready["secretKey"], "wc_sk_test_emulator_secret_0001");

    // It really serves: a signed fetch with the printed credentials sees the 7 events.
    let caller = common::Caller {
        http: reqwest::Client::new(),
        base: url.clone(),
        api_key: ready["apiKey"].as_str().unwrap().into(),
        secret: ready["secretKey"].as_str().unwrap().into(),
    };
    let r = caller.fetch("?limit=10").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(common::ids(&r).len(), 7);
    let keys = caller.admin("GET", "/_emulator/keys", None).await.json();
    assert_eq!(keys.as_array().unwrap().len(), 2);

    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "exit status {exit:?}");
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    assert_eq!(rest, "", "only one line goes to stdout");
}

/// A test harness that reads the ready line and closes the emulator's stderr (or a pipe
/// whose reader went away) must still get an emulator that serves: its log lines are lost,
/// not the process.
#[cfg(unix)]
#[tokio::test]
async fn a_closed_stderr_still_serves_and_exits_zero_on_sigterm() {
    let mut child = Command::new(BIN)
        .args(["--port", "0", "--events", "3", "--no-rate-limit"])
        .env("RUST_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    stdout.read_line(&mut line).unwrap();
    let ready: serde_json::Value = serde_json::from_str(&line).expect("the ready line");
    let caller = common::Caller {
        http: reqwest::Client::new(),
        base: ready["url"].as_str().unwrap().into(),
        api_key: ready["apiKey"].as_str().unwrap().into(),
        secret: ready["secretKey"].as_str().unwrap().into(),
    };
    // Each request is logged at debug, to the closed stderr.
    for _ in 0..3 {
        let r = caller.fetch("?limit=10").await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "exit status {exit:?}");
}

#[test]
fn bad_flags_are_refused() {
    let out = Command::new(BIN).args(["--retention", "forever"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("forever"));
}

#[test]
fn a_rate_limit_that_locks_every_client_out_is_refused() {
    for (flags, needle) in [
        (&["--burst", "0"][..], "--burst must be at least 1"),
        (&["--rate", "0"], "--rate must be a number of requests per second above 0, got 0"),
        (&["--rate", "-2"], "got -2"),
        (&["--rate=-2"], "got -2"),
        (&["--rate", "NaN"], "got NaN"),
    ] {
        let mut child = Command::new(BIN)
            .args(["--port", "0"])
            .args(flags)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        // Before the check it served (and refused every request) until killed.
        let start = std::time::Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            if start.elapsed() > std::time::Duration::from_secs(10) {
                child.kill().unwrap();
                child.wait().unwrap();
                panic!("{flags:?} was accepted: the emulator kept running");
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        };
        let mut err = String::new();
        child.stderr.take().unwrap().read_to_string(&mut err).unwrap();
        assert_eq!(status.code(), Some(2), "{flags:?}: {err}");
        assert!(err.contains(needle), "{flags:?}: {err}");
    }
}
