//! Shared helpers: an in-process emulator, the real binary as a child process, and
//! queries on the resulting database.
#![allow(dead_code)]

use smartai_emulator::{Emulator, EmulatorConfig};
use sqlx::Connection;
use std::collections::HashSet;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_smartai-events");

/// An emulator with `n` generated events and the rate limits off (the tests lower the
/// client's idle-poll gate, which production limits would then punish).
pub async fn emulator(n: usize) -> Emulator {
    Emulator::start(EmulatorConfig::default().with_initial_events(n).without_rate_limit().with_seed(rand::random()))
        .await
        .expect("emulator starts")
}

/// The binary with the emulator's credentials in the environment and nothing inherited
/// that could point elsewhere.
pub fn command(emu: &Emulator) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ASSESSMENT_API_KEY", emu.api_key())
        .env("ASSESSMENT_SECRET_KEY", emu.secret_key())
        .env("ASSESSMENT_BASE_URL", emu.url())
        .stdin(Stdio::null());
    cmd
}

/// A bare binary without credentials.
pub fn bare() -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default()).stdin(Stdio::null());
    cmd
}

/// Flags every test sync/forward run uses: no idle-poll gate, short interval, many retries.
pub const FAST: &[&str] = &["--min-poll-interval", "0", "--interval", "500ms", "--max-retries", "20", "--no-progress"];

pub fn sqlite_url(dir: &Path, name: &str) -> String {
    format!("sqlite://{}", dir.join(name).display())
}

/// A running child whose stdout lines are collected as they come.
pub struct Proc {
    pub child: Child,
    pub lines: Arc<Mutex<Vec<String>>>,
    pub stderr: Arc<Mutex<Vec<String>>>,
}

impl Proc {
    pub fn spawn(mut cmd: Command) -> Proc {
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("binary starts");
        let lines = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        collect(child.stdout.take().unwrap(), lines.clone());
        collect(child.stderr.take().unwrap(), stderr.clone());
        Proc { child, lines, stderr }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    pub fn has_line(&self, needle: &str) -> bool {
        self.lines.lock().unwrap().iter().any(|l| l.contains(needle))
    }

    pub fn stdout(&self) -> String {
        self.lines.lock().unwrap().join("\n")
    }

    pub fn stderr(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill").arg(format!("-{sig}")).arg(self.pid().to_string()).status().unwrap();
        assert!(ok.success(), "kill -{sig} {}", self.pid());
    }

    /// Waits for exit, with a generous bound that only catches hangs.
    pub async fn wait(&mut self, bound: Duration) -> ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                // Let the reader threads drain the pipes.
                tokio::time::sleep(Duration::from_millis(50)).await;
                return status;
            }
            if start.elapsed() > bound {
                let _ = self.child.kill();
                panic!(
                    "process {} did not exit within {bound:?}\nstdout:\n{}\nstderr:\n{}",
                    self.pid(),
                    self.stdout(),
                    self.stderr()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        if self.child.try_wait().ok().flatten().is_none() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn collect(pipe: impl std::io::Read + Send + 'static, into: Arc<Mutex<Vec<String>>>) {
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            match line {
                Ok(l) => into.lock().unwrap().push(l),
                Err(_) => break,
            }
        }
    });
}

/// Runs the binary to completion (bounded) and returns (status, stdout, stderr).
pub async fn run(cmd: Command, bound: Duration) -> (ExitStatus, String, String) {
    let mut p = Proc::spawn(cmd);
    let status = p.wait(bound).await;
    (status, p.stdout(), p.stderr())
}

/// Event IDs stored in a SQLite file, and the row count (which would exceed the set's size
/// if an ID were stored twice; the primary key forbids it, and this checks it).
pub async fn sqlite_ids(url: &str) -> (HashSet<String>, usize) {
    let mut conn = sqlx::SqliteConnection::connect(url).await.expect("open sqlite");
    let ids: Vec<String> =
        sqlx::query_scalar("SELECT event_id FROM webhook_events").fetch_all(&mut conn).await.unwrap();
    let n = ids.len();
    conn.close().await.ok();
    (ids.into_iter().collect(), n)
}

/// A count, or 0 while the file or the table does not exist yet.
pub async fn sqlite_count(url: &str, sql: &'static str) -> i64 {
    let Ok(mut conn) = sqlx::SqliteConnection::connect(url).await else { return 0 };
    let n: i64 = match sqlx::query_scalar(sql).fetch_one(&mut conn).await {
        Ok(n) => n,
        Err(e) if e.to_string().contains("no such table") => 0,
        Err(e) => panic!("{sql}: {e}"),
    };
    conn.close().await.ok();
    n
}

/// Polls `check` until it holds or `bound` passes (then panics with `what`).
pub async fn eventually<F, Fut>(bound: Duration, what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    while !check().await {
        assert!(start.elapsed() < bound, "timed out waiting for: {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
