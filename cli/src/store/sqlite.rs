//! SQLite: one file, created if missing, in WAL mode so readers (`sqlite3`) never block
//! the poller. `payload` is TEXT holding the JSON as received.

use super::{Contents, Row};
use crate::exit::usage;
use anyhow::Context;
use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous};
use std::str::FromStr;
use std::time::Duration;

const UPSERT: &str = "INSERT INTO webhook_events (event_id, event_type, stored_at, payload, received_at, attempts) \
     VALUES (?1, ?2, ?3, ?4, ?5, 1) \
     ON CONFLICT (event_id) DO UPDATE SET \
         event_type = excluded.event_type, stored_at = excluded.stored_at, payload = excluded.payload, \
         attempts = webhook_events.attempts + 1";

const DEAD_LETTER: &str = "INSERT INTO webhook_dead_letters (event_id, payload, reason, failed_at) VALUES (?1, ?2, ?3, ?4) \
     ON CONFLICT (event_id) DO UPDATE SET payload = excluded.payload, reason = excluded.reason, failed_at = excluded.failed_at";

fn migrator() -> Migrator {
    let mut m = Migrator::with_migrations(vec![Migration::new(
        1,
        "webhook_events".into(),
        MigrationType::Simple,
        include_str!("../../migrations/sqlite/0001_webhook_events.sql").into_sql_str(),
        false,
    )]);
    // Our own bookkeeping table, so a database that an app also migrates with sqlx
    // (`_sqlx_migrations`) is not confused by our versions, nor we by theirs.
    m.dangerous_set_table_name("_smartai_events_migrations");
    m
}

/// Parses a `sqlite:` URL and refuses a database that does not outlive the process: `sync`
/// acknowledges what it stored, and an acknowledged event exists nowhere else.
pub(super) fn check_url(url: &str) -> anyhow::Result<SqliteConnectOptions> {
    let options = SqliteConnectOptions::from_str(url)
        .map_err(|e| usage(format!("invalid database URL {url:?}: {e}; use e.g. sqlite://smartai-events.db")))?;
    // sqlx keeps its `in_memory` flag private: read the URL the way it does (`sqlite::memory:`,
    // `sqlite://:memory:`, `?mode=memory`), and SQLite's own in-memory VFS.
    let (database, params) = split_url(url);
    // SQLite reads the name as a URI (`file::memory:`) and percent-decoded (`%3Amemory%3A`).
    let decoded: String = url::form_urlencoded::parse(format!("d={}", database.replace('+', "%2B")).as_bytes())
        .map(|(_, v)| v.into_owned())
        .collect();
    let in_memory = decoded.strip_prefix("file:").unwrap_or(&decoded).starts_with(":memory:")
        || url::form_urlencoded::parse(params.as_bytes())
            .any(|(key, value)| (key == "mode" && value == "memory") || (key == "vfs" && value == "memdb"));
    if in_memory || options.get_filename().as_os_str().is_empty() {
        return Err(usage(in_memory_message(url)));
    }
    Ok(options)
}

fn in_memory_message(url: &str) -> String {
    format!(
        "invalid database URL {url:?}: an in-memory or temporary SQLite database is lost when the process \
         exits, and acknowledged events exist nowhere else; use a file, e.g. sqlite://smartai-events.db"
    )
}

/// The database and the query of a `sqlite:` URL, split as sqlx splits them.
fn split_url(url: &str) -> (&str, &str) {
    let rest = url.trim_start_matches("sqlite://").trim_start_matches("sqlite:");
    rest.split_once('?').unwrap_or((rest, ""))
}

fn timestamp(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[derive(Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
    file: DbFile,
}

/// The database file as opened: its path, and which file that path named then.
#[derive(Clone)]
struct DbFile {
    path: std::path::PathBuf,
    #[cfg(unix)]
    id: (u64, u64),
}

impl DbFile {
    fn of(path: &str) -> anyhow::Result<Self> {
        let path = std::path::PathBuf::from(path);
        #[cfg(unix)]
        let id = {
            use std::os::unix::fs::MetadataExt;
            let meta = std::fs::metadata(&path).with_context(|| format!("cannot read {}", path.display()))?;
            (meta.dev(), meta.ino())
        };
        Ok(DbFile {
            path,
            #[cfg(unix)]
            id,
        })
    }

    /// Fails if the path no longer names the file that was opened (deleted, or replaced by
    /// another): what was just committed went to a file nobody will read, and acknowledging
    /// it would lose the events.
    fn still_there(&self) -> anyhow::Result<()> {
        #[cfg(unix)]
        {
            use std::os::unix::fs::MetadataExt;
            let now = std::fs::metadata(&self.path).map(|m| (m.dev(), m.ino())).ok();
            if now != Some(self.id) {
                anyhow::bail!(
                    "the SQLite database {} was deleted or replaced while sync ran; what was stored since is \
                     not acknowledged (restart sync to use the file now at that path)",
                    self.path.display()
                );
            }
        }
        Ok(())
    }
}

impl SqliteStore {
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let options = check_url(url)?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            // FULL: a commit is on disk before we acknowledge, even across a power cut.
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(Duration::from_secs(30));
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_with(options)
            .await
            .with_context(|| format!("cannot open the SQLite database {url}"))?;
        // The backstop of `check_url`: whatever the URL said, the main database must be a file.
        let file: String = sqlx::query_scalar("SELECT file FROM pragma_database_list WHERE name = 'main'")
            .fetch_one(&pool)
            .await
            .with_context(|| format!("cannot read the SQLite database {url}"))?;
        if file.is_empty() {
            pool.close().await;
            return Err(usage(in_memory_message(url)));
        }
        let file = DbFile::of(&file)?;
        migrator().run(&pool).await.with_context(|| format!("cannot migrate the SQLite database {url}"))?;
        Ok(SqliteStore { pool, file })
    }

    pub(super) async fn save(&self, rows: &[Row<'_>]) -> anyhow::Result<()> {
        let now = timestamp(chrono::Utc::now());
        self.in_transaction("the batch", async |conn| {
            for row in rows {
                let stored_at = row
                    .stored_at
                    .map(timestamp)
                    .or_else(|| row.payload.get("storedAt").and_then(|v| v.as_str()).map(str::to_string));
                sqlx::query(UPSERT)
                    .bind(row.event_id)
                    .bind(row.event_type)
                    .bind(stored_at)
                    .bind(&row.payload_text)
                    .bind(&now)
                    .execute(&mut *conn)
                    .await
                    .with_context(|| format!("cannot store event {}", row.event_id))?;
            }
            Ok(())
        })
        .await
    }

    pub(super) async fn dead_letter(&self, rows: &[Row<'_>], reason: &str) -> anyhow::Result<()> {
        let now = timestamp(chrono::Utc::now());
        self.in_transaction("the dead letters", async |conn| {
            for row in rows {
                sqlx::query(DEAD_LETTER)
                    .bind(row.event_id)
                    .bind(&row.payload_text)
                    .bind(reason)
                    .bind(&now)
                    .execute(&mut *conn)
                    .await
                    .with_context(|| format!("cannot dead-letter event {}", row.event_id))?;
            }
            Ok(())
        })
        .await
    }

    /// Runs `work` in one transaction and commits it, then checks that the file is still the
    /// one opened. A connection whose transaction failed is closed rather than returned to
    /// the pool: after a COMMIT that failed (a full disk), it may still hold the write lock,
    /// and every later write, of this process or another, would wait on it.
    async fn in_transaction(
        &self,
        what: &str,
        work: impl AsyncFnOnce(&mut sqlx::SqliteConnection) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        use sqlx::Connection;
        let mut conn = self.pool.acquire().await.context("cannot reach the SQLite database")?;
        let result = async {
            let mut tx = conn.begin().await.context("cannot begin a transaction")?;
            work(&mut tx).await?;
            tx.commit().await.with_context(|| format!("cannot commit {what}"))
        }
        .await;
        if result.is_err() {
            conn.close_on_drop();
        }
        result?;
        self.file.still_there()
    }

    pub(super) async fn contents(&self) -> anyhow::Result<Contents> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events").fetch_one(&self.pool).await?;
        let by_type: Vec<(String, i64)> = sqlx::query_as(
            "SELECT event_type, COUNT(*) FROM webhook_events GROUP BY event_type ORDER BY COUNT(*) DESC, event_type",
        )
        .fetch_all(&self.pool)
        .await?;
        let (completed, passed): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COALESCE(SUM(CASE WHEN json_extract(payload, '$.passed') = 1 THEN 1 ELSE 0 END), 0) \
             FROM webhook_events WHERE event_type = 'assessment.completed'",
        )
        .fetch_one(&self.pool)
        .await?;
        let dead_letters: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM webhook_dead_letters").fetch_one(&self.pool).await?;
        Ok(Contents {
            total: total as u64,
            by_type: by_type.into_iter().map(|(t, n)| (t, n as u64)).collect(),
            completed: completed as u64,
            passed: passed as u64,
            dead_letters: dead_letters as u64,
        })
    }

    pub(super) async fn close(&self) {
        self.pool.close().await;
    }
}
