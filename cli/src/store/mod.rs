//! Where events land: SQLite or PostgreSQL, chosen by the URL scheme.
//!
//! Both backends share one contract: [`Store::save`] upserts a whole batch in ONE
//! transaction and returns only after the commit, so the caller can acknowledge. The
//! schema comes from migrations embedded in the binary, one set per backend
//! (`cli/migrations/{sqlite,postgres}`).

mod postgres;
mod sqlite;

use crate::exit::usage;
use serde::Serialize;
use smartai_events::WebhookEvent;
use std::borrow::Cow;
use std::future::Future;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

pub use postgres::{CONNECT_TIMEOUT, PgStore};

/// The connection options of a PostgreSQL URL (for the fleet's lock connection).
pub fn postgres_options(url: &str) -> anyhow::Result<sqlx::postgres::PgConnectOptions> {
    postgres::check_url(url)
}
pub use sqlite::SqliteStore;

/// A parsed `--db` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DbUrl {
    Sqlite(String),
    Postgres(String),
}

impl DbUrl {
    /// Accepts `sqlite://PATH`, `sqlite:PATH`, `postgres://...` and `postgresql://...`.
    /// Anything else, an in-memory SQLite database included, is a usage error that names the
    /// value (with any password masked).
    pub fn parse(raw: &str) -> anyhow::Result<DbUrl> {
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            return Err(usage(
                "the database URL is empty: give --db (or SMARTAI_EVENTS_DB) a sqlite://PATH or postgres://USER@HOST/DB, \
                 or leave both out for sqlite://smartai-events.db",
            ));
        }
        let lower = trimmed.to_ascii_lowercase();
        if lower.starts_with("sqlite:") {
            if trimmed.len() <= "sqlite:".len() || trimmed == "sqlite://" {
                return Err(usage(format!(
                    "invalid database URL {:?}: no file path; use e.g. sqlite://smartai-events.db",
                    redact(trimmed)
                )));
            }
            // The scheme in lower case: the driver strips only `sqlite:`, and would read
            // `SQLITE://x.db` as a file named `x.db` in a directory named `SQLITE:`.
            let url = format!("sqlite:{}", &trimmed["sqlite:".len()..]);
            let options = sqlite::check_url(&url)?;
            // A database in a directory that does not exist is a typo in the URL, not a
            // runtime failure: name the URL rather than the lock file it would need.
            let file = options.get_filename();
            if let Some(dir) = file.parent().filter(|d| !d.as_os_str().is_empty())
                && !dir.is_dir()
            {
                return Err(usage(format!(
                    "invalid database URL {url:?}: the directory {} does not exist",
                    dir.display()
                )));
            }
            return Ok(DbUrl::Sqlite(url));
        }
        if lower.starts_with("postgres://") || lower.starts_with("postgresql://") {
            postgres::check_url(trimmed)?;
            return Ok(DbUrl::Postgres(trimmed.to_string()));
        }
        Err(usage(format!(
            "unsupported database URL {:?}: use sqlite://PATH (e.g. sqlite://smartai-events.db) or postgres://USER@HOST/DB",
            redact(trimmed)
        )))
    }

    /// The file behind a `sqlite:` URL, as the user would type it for `sqlite3`; `None`
    /// for PostgreSQL.
    /// The path is the one the driver opens (percent-decoded, without the query), so that
    /// two spellings of one file (`my%20file.db`, `my file.db`) meet at one lock.
    pub fn sqlite_file(&self) -> Option<String> {
        let DbUrl::Sqlite(url) = self else { return None };
        let options = sqlite::check_url(url).ok()?;
        let path = options.get_filename().to_string_lossy().into_owned();
        if path.is_empty() || path.starts_with(':') {
            return None;
        }
        Some(path)
    }

    /// The URL with its password masked, for messages and logs.
    pub fn display(&self) -> String {
        match self {
            DbUrl::Sqlite(u) | DbUrl::Postgres(u) => redact(u).into_owned(),
        }
    }
}

/// Masks the password of `scheme://user:password@host` (also one with a `/`, `?` or `#`
/// left unencoded, and one after `scheme:/` or `scheme:`, where URL parsers find it too) and
/// of a `password=` query parameter. A SQLite URL is a file path and is left as it is.
pub fn redact(url: &str) -> Cow<'_, str> {
    if url.get(..7).is_some_and(|p| p.eq_ignore_ascii_case("sqlite:")) {
        return Cow::Borrowed(url);
    }
    let Some(colon) = url.find(':') else { return Cow::Borrowed(url) };
    let slashes = url[colon + 1..].bytes().take_while(|b| matches!(b, b'/' | b'\\')).count();
    let start = colon + 1 + slashes;
    let rest = &url[start..];
    let mut out = String::with_capacity(url.len());
    out.push_str(&url[..start]);
    // The user info ends at the last `@` before the query; failing that (a password with an
    // unencoded `?`), at the last `@` of all.
    let before_query = &rest[..rest.find('?').unwrap_or(rest.len())];
    let mut tail = rest;
    if let Some(at) = before_query.rfind('@').or_else(|| rest.rfind('@')) {
        let user_info = &rest[..at];
        match user_info.find(':') {
            Some(c) => {
                out.push_str(&user_info[..c]);
                out.push_str(":***");
            }
            // Without `//`, what comes before the `@` may be a password typed without its user.
            None if slashes == 0 => out.push_str("***"),
            None => out.push_str(user_info),
        }
        tail = &rest[at..];
    }
    match tail.split_once('?') {
        Some((before, query)) => {
            out.push_str(before);
            out.push('?');
            let (query, fragment) = query.split_once('#').map_or((query, None), |(q, f)| (q, Some(f)));
            let params: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                    _ => pair.to_string(),
                })
                .collect();
            out.push_str(&params.join("&"));
            if let Some(fragment) = fragment {
                out.push('#');
                out.push_str(fragment);
            }
        }
        None => out.push_str(tail),
    }
    if out == url { Cow::Borrowed(url) } else { Cow::Owned(out) }
}

/// An open store. Cheap to clone (a connection pool inside).
#[derive(Clone)]
pub enum Store {
    Sqlite(SqliteStore),
    Postgres(PgStore),
}

/// What the demo prints: rows per type and the pass rate of completed assessments.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Contents {
    pub total: u64,
    pub by_type: Vec<(String, u64)>,
    pub completed: u64,
    pub passed: u64,
    pub dead_letters: u64,
}

impl Store {
    /// Connects (creating a SQLite file if missing) and applies the migrations.
    pub async fn open(url: &DbUrl) -> anyhow::Result<Store> {
        Ok(match url {
            DbUrl::Sqlite(u) => Store::Sqlite(SqliteStore::open(u).await?),
            DbUrl::Postgres(u) => Store::Postgres(PgStore::open(u).await?),
        })
    }

    /// Upserts the batch in one transaction; returns after the commit.
    pub async fn save(&self, events: &[WebhookEvent]) -> anyhow::Result<()> {
        let rows: Vec<Row<'_>> = events.iter().filter_map(Row::of).collect();
        if rows.is_empty() {
            return Ok(());
        }
        match self {
            Store::Sqlite(s) => s.save(&rows).await,
            Store::Postgres(s) => s.save(&rows).await,
        }
    }

    /// Parks events in `webhook_dead_letters` (one transaction).
    pub async fn dead_letter(&self, events: &[WebhookEvent], reason: &str) -> anyhow::Result<()> {
        let rows: Vec<Row<'_>> = events.iter().filter_map(Row::of).collect();
        if rows.is_empty() {
            return Ok(());
        }
        match self {
            Store::Sqlite(s) => s.dead_letter(&rows, reason).await,
            Store::Postgres(s) => s.dead_letter(&rows, reason).await,
        }
    }

    /// Counts for summaries.
    pub async fn contents(&self) -> anyhow::Result<Contents> {
        match self {
            Store::Sqlite(s) => s.contents().await,
            Store::Postgres(s) => s.contents().await,
        }
    }

    /// Closes the connections, waiting at most [`CLOSE_LIMIT`]: a connection whose write was
    /// given up at a stop may still be waiting on the lock that held it, and the server
    /// rolls its transaction back once the process is gone.
    pub async fn close(&self) {
        let close = async {
            match self {
                Store::Sqlite(s) => s.close().await,
                Store::Postgres(s) => s.close().await,
            }
        };
        if tokio::time::timeout(CLOSE_LIMIT, close).await.is_err() {
            tracing::debug!(
                limit_ms = CLOSE_LIMIT.as_millis() as u64,
                "the database connections did not close in time; exiting without waiting for them"
            );
        }
    }
}

/// How long closing the store may take at exit.
const CLOSE_LIMIT: Duration = Duration::from_secs(2);

/// Runs a database write, warning every `every` while it has not finished. A write that
/// waits on a lock held by another session, or on a server that stopped answering, waits
/// as long as that lasts (its events stay unacknowledged and nothing is lost), and the
/// operator should hear of it rather than see a silent poller.
///
/// Once `stop` has fired, the write gets `grace` more and is then given up, so that a
/// stop is not held for as long as somebody else's lock: its transaction is dropped
/// before it committed (or, at worst, commits without being acknowledged, which the
/// upsert makes harmless), and its events come back on the next run.
pub async fn write_patiently<T>(
    write: impl Future<Output = anyhow::Result<T>>,
    every: Duration,
    stop: &CancellationToken,
    grace: Duration,
) -> anyhow::Result<T> {
    let started = Instant::now();
    let mut write = std::pin::pin!(write);
    let mut give_up = std::pin::pin!(async {
        stop.cancelled().await;
        tokio::time::sleep(grace).await;
    });
    loop {
        tokio::select! {
            done = &mut write => return done,
            () = &mut give_up => {
                tracing::warn!(
                    waited_s = started.elapsed().as_secs(),
                    grace_ms = grace.as_millis() as u64,
                    "stopping with a database write unfinished; its events stay unacknowledged and come back"
                );
                anyhow::bail!("stopped while the database write was still waiting; its events stay unacknowledged");
            }
            () = tokio::time::sleep(every) => tracing::warn!(
                waited_s = started.elapsed().as_secs(),
                "still waiting for the database to take a batch (a lock held by another session, or a \
                 server that stopped answering?); its events stay unacknowledged until it does"
            ),
        }
    }
}

/// One event as the tables see it.
pub(crate) struct Row<'a> {
    pub event_id: &'a str,
    pub event_type: &'a str,
    pub stored_at: Option<chrono::DateTime<chrono::Utc>>,
    pub payload: &'a serde_json::Value,
    /// The JSON text exactly as the platform's field order gave it (serde_json keeps order).
    pub payload_text: String,
}

impl<'a> Row<'a> {
    fn of(event: &'a WebhookEvent) -> Option<Row<'a>> {
        let event_id = event.event_id();
        if event_id.is_empty() {
            // It could never be acknowledged either; the core keeps handing it out.
            tracing::warn!("skipping an event without an eventId");
            return None;
        }
        Some(Row {
            event_id,
            event_type: event.event_type(),
            stored_at: event.stored_at(),
            payload: event.raw(),
            payload_text: event.raw_json().to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_and_redact() {
        assert!(matches!(DbUrl::parse("sqlite://x.db").unwrap(), DbUrl::Sqlite(_)));
        // A database that vanishes with the process would lose acknowledged events.
        for url in [
            "sqlite::memory:",
            "sqlite://:memory:",
            "sqlite://events.db?mode=memory",
            "sqlite:events.db?vfs=memdb",
            "sqlite:?mode=rwc",
            "sqlite:file::memory:",
            "sqlite://file::memory:?cache=shared",
            "sqlite:%3Amemory%3A",
        ] {
            let err = DbUrl::parse(url).unwrap_err();
            assert_eq!(crate::exit::code_of(&err), crate::exit::USAGE, "{url}");
            let err = err.to_string();
            assert!(err.contains(&format!("{url:?}")) && err.contains("in-memory"), "{url}: {err}");
        }
        assert!(matches!(DbUrl::parse("sqlite://events.db?mode=rwc").unwrap(), DbUrl::Sqlite(_)));
        assert!(matches!(DbUrl::parse("postgres://u@localhost/db").unwrap(), DbUrl::Postgres(_)));
        for url in [
            "postgres:/u:hunter2@localhost/x",
            "postgresql:u:hunter2@h/x",
            "mysql:\\\\root:hunter2@h",
            "postgres:hunter2@h/x",
            "postgres:/app@db/hiring?password=hunter2",
            "postgres:/app:hunter2@db/hiring?sslrootcert=file:///etc/ca.pem",
        ] {
            let err = DbUrl::parse(url).unwrap_err().to_string();
            assert!(!err.contains("hunter2") && err.contains("***"), "{err}");
        }
        let err = DbUrl::parse("mysql://root:hunter2@localhost/x").unwrap_err().to_string();
        assert!(err.contains("mysql://root:***@localhost/x"), "{err}");
        assert!(!err.contains("hunter2"));
        let err = DbUrl::parse("postgres://u:hunter2@localhost:notaport/db").unwrap_err().to_string();
        assert!(!err.contains("hunter2"), "{err}");
        assert!(err.contains("notaport"), "{err}");
        assert_eq!(redact("postgres://a@h/db"), "postgres://a@h/db");
        assert_eq!(redact("postgres://u:pa/ss@h/x"), "postgres://u:***@h/x");
        assert_eq!(redact("postgres://u:p?w#d@h:5432/x?sslmode=require"), "postgres://u:***@h:5432/x?sslmode=require");
        assert_eq!(
            redact("postgres://u@h/x?sslmode=require&Password=TOPSECRET#f"),
            "postgres://u@h/x?sslmode=require&Password=***#f"
        );
        assert_eq!(redact("sqlite:///tmp/a@b.db"), "sqlite:///tmp/a@b.db");
        assert_eq!(redact("postgres://u:pw@h/x?application_name=a@b"), "postgres://u:***@h/x?application_name=a@b");
        let err = DbUrl::parse("postgres://u@127.0.0.1:notaport/x?password=TOPSECRET").unwrap_err().to_string();
        assert!(!err.contains("TOPSECRET"), "{err}");
        assert!(DbUrl::parse("sqlite://").is_err());
        let file = |u: &str| DbUrl::parse(u).unwrap().sqlite_file();
        assert_eq!(file("sqlite://demo.db").as_deref(), Some("demo.db"));
        assert_eq!(file("sqlite:///tmp/x.db?mode=rwc").as_deref(), Some("/tmp/x.db"));
        assert_eq!(file("SQLite:///tmp/x.db").as_deref(), Some("/tmp/x.db"));
        assert_eq!(file("sqlite:///tmp/my%20x.db").as_deref(), Some("/tmp/my x.db"));
        let err = DbUrl::parse("sqlite:///no/such/dir/x.db").unwrap_err();
        assert_eq!(crate::exit::code_of(&err), crate::exit::USAGE);
        assert!(err.to_string().contains("\"sqlite:///no/such/dir/x.db\": the directory /no/such/dir does not exist"));
    }
}
