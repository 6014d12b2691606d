//! Fleet mode on PostgreSQL: several `sync` processes share one database, and a
//! session-level advisory lock elects the one that polls.
//!
//! Why a lock and not just idempotent upserts: the platform rate-limits polls that come
//! less than 5 s apart, and two pollers would also fetch the same batches. The lock lives
//! on a dedicated connection held for the leader's whole lifetime; if the leader dies its
//! session ends, PostgreSQL releases the lock, and a standby (retrying every second) takes
//! over. If the leader's own lock connection breaks, it can no longer prove it leads, so
//! it stops polling and goes back to the election.

use crate::output::Output;
use serde_json::json;
use sqlx::postgres::{PgConnectOptions, PgConnection};
use sqlx::{ConnectOptions, Connection};
use std::future::Future;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// How often a standby retries the lock, and how often the leader checks its connection.
const RETRY: Duration = Duration::from_secs(1);
/// A lock connection that does not answer a ping within this long counts as lost.
const PING_TIMEOUT: Duration = Duration::from_secs(3);
/// The server ends a lock session that has been silent this long (`idle_session_timeout`).
/// A live leader pings its lock every [`RETRY`]; one on a host that vanished sends nothing,
/// and without this its session, and so the lock, would last until TCP keepalive gives up
/// on it (two hours by default), with every standby waiting.
const LOCK_SESSION_IDLE_TIMEOUT: Duration = Duration::from_secs(15);
/// The longest wait between two attempts to reach PostgreSQL for the lock. A fleet outlives
/// a database outage or fail-over of any length: it never gives up, it only backs off.
const MAX_RECONNECT_WAIT: Duration = Duration::from_secs(10);

/// The wait after `failures` failed connection attempts in a row: 1 s, 2 s, 4 s, ... up to
/// [`MAX_RECONNECT_WAIT`].
fn reconnect_wait(failures: u32) -> Duration {
    RETRY.saturating_mul(1 << failures.saturating_sub(1).min(16)).min(MAX_RECONNECT_WAIT)
}

/// The advisory lock key: one leader per database and API key (each key has its own queue).
/// FNV-1a, so every build and every process computes the same number.
pub fn lock_key(api_key: &str) -> i64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in b"smartai-events:sync:".iter().chain(api_key.as_bytes()) {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    hash as i64
}

/// How the leadership ended.
pub enum Ended<T> {
    /// `work` returned (or the stop signal ended it).
    Done(T),
    /// `--once` found another leader for longer than `give_up_after`.
    OtherLeader,
}

/// Runs `work` only while this process holds the lock. `work` gets a token that is
/// cancelled when the lock is lost or `stop` fires; it should finish its batch and return.
/// When the lock is lost, the election starts again; when `stop` fires, this returns.
pub async fn lead<T, F, Fut>(
    options: PgConnectOptions,
    key: i64,
    stop: &CancellationToken,
    out: &Output,
    give_up_after: Option<Duration>,
    mut work: F,
) -> anyhow::Result<Ended<T>>
where
    F: FnMut(CancellationToken) -> Fut,
    Fut: Future<Output = anyhow::Result<T>>,
    T: Default,
{
    let options = options.application_name("smartai-events sync (leader lock)");
    let started = Instant::now();
    let mut said_standby = false;
    loop {
        if stop.is_cancelled() {
            return Ok(Ended::Done(T::default()));
        }
        let Some(mut conn) = acquire(&options, key, stop, out, &mut said_standby, started, give_up_after).await? else {
            return Ok(if stop.is_cancelled() { Ended::Done(T::default()) } else { Ended::OtherLeader });
        };
        said_standby = false;
        out.status(
            None,
            format!("leader: this process polls (pid {})", std::process::id()),
            json!({"type": "leader", "pid": std::process::id()}),
        );

        let leading = stop.child_token();
        let lost = CancellationToken::new();
        let watchdog = {
            let leading = leading.clone();
            let lost = lost.clone();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = leading.cancelled() => break,
                        _ = tokio::time::sleep(RETRY) => {}
                    }
                    let alive = matches!(tokio::time::timeout(PING_TIMEOUT, conn.ping()).await, Ok(Ok(())));
                    if !alive {
                        lost.cancel();
                        leading.cancel();
                        return None;
                    }
                }
                Some(conn)
            })
        };
        let result = work(leading.clone()).await;
        leading.cancel();
        let conn = watchdog.await.ok().flatten();
        if let Some(mut conn) = conn {
            // Hand over at once rather than when the connection closes.
            let _ = sqlx::query("SELECT pg_advisory_unlock($1)").bind(key).execute(&mut conn).await;
            let _ = conn.close().await;
        }
        if lost.is_cancelled() && !stop.is_cancelled() {
            tracing::error!(
                "lost the connection that holds the leader lock; stopped polling, standing for election again"
            );
            out.status(None, "lost the leader lock; stopped polling", json!({"type": "lost-leadership"}));
            tokio::select! {
                _ = stop.cancelled() => {}
                _ = tokio::time::sleep(RETRY) => {}
            }
            continue;
        }
        return result.map(Ended::Done);
    }
}

/// Connects and retries `pg_try_advisory_lock` until it is ours. `None` if stopped first,
/// or if `give_up_after` passed while another process held the lock.
async fn acquire(
    options: &PgConnectOptions,
    key: i64,
    stop: &CancellationToken,
    out: &Output,
    said_standby: &mut bool,
    started: Instant,
    give_up_after: Option<Duration>,
) -> anyhow::Result<Option<PgConnection>> {
    let mut conn: Option<PgConnection> = None;
    let mut connect_failures = 0u32;
    loop {
        let mut wait = RETRY;
        if stop.is_cancelled() {
            return Ok(None);
        }
        if conn.is_none() {
            let connected = tokio::select! {
                connected = tokio::time::timeout(crate::store::CONNECT_TIMEOUT, options.connect()) => connected,
                () = stop.cancelled() => return Ok(None),
            };
            match connected
                .map_err(|_| anyhow::anyhow!("no answer within {} s", crate::store::CONNECT_TIMEOUT.as_secs()))
                .and_then(|c| c.map_err(anyhow::Error::from))
            {
                Ok(mut c) => {
                    // PostgreSQL 14 and later; an older server keeps its default, which is
                    // only slower to hand the lock over after a lost host.
                    let timeout_ms = LOCK_SESSION_IDLE_TIMEOUT.as_millis().to_string();
                    if let Err(e) = sqlx::query("SELECT set_config('idle_session_timeout', $1, false)")
                        .bind(timeout_ms)
                        .execute(&mut c)
                        .await
                    {
                        tracing::debug!(error = %e, "idle_session_timeout not set on the lock connection");
                    }
                    conn = Some(c);
                    connect_failures = 0;
                }
                Err(e) => {
                    connect_failures = connect_failures.saturating_add(1);
                    wait = reconnect_wait(connect_failures);
                    tracing::warn!(
                        error = %e,
                        attempt = connect_failures,
                        retry_in_ms = wait.as_millis() as u64,
                        "cannot connect to PostgreSQL for the leader lock; retrying"
                    );
                }
            }
        }
        if let Some(c) = conn.as_mut() {
            match sqlx::query_scalar::<_, bool>("SELECT pg_try_advisory_lock($1)").bind(key).fetch_one(&mut *c).await {
                Ok(true) => return Ok(conn),
                Ok(false) => {
                    if !*said_standby {
                        *said_standby = true;
                        out.status(
                            None,
                            "standby: another sync process is the leader; taking over if it stops",
                            json!({"type": "standby", "pid": std::process::id()}),
                        );
                    }
                    if give_up_after.is_some_and(|d| started.elapsed() >= d) {
                        return Ok(None);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "leader lock query failed; reconnecting");
                    conn = None;
                }
            }
        }
        tokio::select! {
            _ = stop.cancelled() => return Ok(None),
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// SQLite's counterpart of the leader lock: an exclusive lock on `<database file>.lock`,
/// held for the life of the process, so that two `sync` processes on one file do not both
/// poll. The OS releases it when the process dies. `None` if stopped first, or if
/// `give_up_after` passed while another process held it.
/// `path` with every symlink resolved, also when the file does not exist yet (then its
/// directory is resolved); as given when even that fails.
fn real_path(path: &std::path::Path) -> std::path::PathBuf {
    if let Ok(real) = std::fs::canonicalize(path) {
        return real;
    }
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => std::path::Path::new("."),
    };
    match (std::fs::canonicalize(dir), path.file_name()) {
        (Ok(dir), Some(name)) => dir.join(name),
        _ => path.to_path_buf(),
    }
}

pub async fn lock_file(
    db_file: &std::path::Path,
    stop: &CancellationToken,
    out: &Output,
    give_up_after: Option<Duration>,
) -> anyhow::Result<Option<std::fs::File>> {
    use anyhow::Context;
    // Keyed by the file itself, not by how the path was typed: two paths to one file (a
    // symlink, `./x.db` and `/abs/x.db`) must find the same lock.
    let db_file = &real_path(db_file);
    let mut name = db_file.as_os_str().to_owned();
    name.push(".lock");
    let path = std::path::PathBuf::from(name);
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .with_context(|| format!("cannot open the lock file {}", path.display()))?;
    let started = Instant::now();
    let mut said_standby = false;
    loop {
        match file.try_lock() {
            Ok(()) => {
                if said_standby {
                    out.status(
                        None,
                        format!("leader: the other sync process stopped; this one polls (pid {})", std::process::id()),
                        json!({"type": "leader", "pid": std::process::id()}),
                    );
                }
                return Ok(Some(file));
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                if !said_standby {
                    said_standby = true;
                    out.status(
                        None,
                        format!("standby: another sync process uses {}; taking over if it stops", db_file.display()),
                        json!({"type": "standby", "pid": std::process::id()}),
                    );
                }
                if give_up_after.is_some_and(|d| started.elapsed() >= d) {
                    return Ok(None);
                }
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(anyhow::Error::new(e).context(format!("cannot lock {}", path.display())));
            }
        }
        tokio::select! {
            _ = stop.cancelled() => return Ok(None),
            _ = tokio::time::sleep(RETRY) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn reconnecting_backs_off_to_a_cap_and_never_gives_up() {
        use std::time::Duration;
        let waits: Vec<Duration> = [1, 2, 3, 4, 5, 30, u32::MAX].into_iter().map(super::reconnect_wait).collect();
        let secs = |s| Duration::from_secs(s);
        assert_eq!(waits, [secs(1), secs(2), secs(4), secs(8), secs(10), secs(10), secs(10)]);
    }

    #[test]
    fn lock_key_is_stable() {
        assert_eq!(super::lock_key("wc_ak_test_a"), super::lock_key("wc_ak_test_a"));
        assert_ne!(super::lock_key("wc_ak_test_a"), super::lock_key("wc_ak_test_b"));
    }
}
