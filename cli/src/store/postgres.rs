//! PostgreSQL: `payload` is JSONB, timestamps are TIMESTAMPTZ. The pool here serves the
//! stores; the fleet's leader lock uses its own dedicated connection (see `fleet.rs`).

use super::{Contents, Row};
use crate::exit::usage;
use anyhow::Context;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{ConnectOptions, Connection, SqlSafeStr};
use std::str::FromStr;
use std::time::Duration;

const UPSERT: &str = "INSERT INTO webhook_events (event_id, event_type, stored_at, payload, received_at, attempts) \
     VALUES ($1, $2, $3, $4::jsonb, now(), 1) \
     ON CONFLICT (event_id) DO UPDATE SET \
         event_type = EXCLUDED.event_type, stored_at = EXCLUDED.stored_at, payload = EXCLUDED.payload, \
         attempts = webhook_events.attempts + 1";

const DEAD_LETTER: &str = "INSERT INTO webhook_dead_letters (event_id, event_id_escaped, payload, reason, failed_at) \
     VALUES ($1, $2, $3, $4, now()) \
     ON CONFLICT (event_id, event_id_escaped) DO UPDATE SET payload = EXCLUDED.payload, reason = EXCLUDED.reason, failed_at = now()";

fn migrator() -> Migrator {
    let mut m = Migrator::with_migrations(vec![
        Migration::new(
            1,
            "webhook_events".into(),
            MigrationType::Simple,
            include_str!("../../migrations/postgres/0001_webhook_events.sql").into_sql_str(),
            false,
        ),
        Migration::new(
            2,
            "dead_letter_escaped_ids".into(),
            MigrationType::Simple,
            include_str!("../../migrations/postgres/0002_dead_letter_escaped_ids.sql").into_sql_str(),
            false,
        ),
    ]);
    // See sqlite.rs: keep clear of an app's own `_sqlx_migrations`.
    m.dangerous_set_table_name("_smartai_events_migrations");
    m
}

/// Parses a PostgreSQL URL. The error names the URL with its password masked.
pub(crate) fn check_url(url: &str) -> anyhow::Result<PgConnectOptions> {
    PgConnectOptions::from_str(url).map_err(|e| {
        let mut message = e.to_string();
        // The driver's message may quote the URL; never let a password through.
        if let Some(password) = url::Url::parse(url).ok().and_then(|u| u.password().map(str::to_string))
            && !password.is_empty()
        {
            message = message.replace(&password, "***");
        }
        usage(format!("invalid database URL {:?}: {message}", super::redact(url)))
    })
}

/// How long a first connection may take: a server that accepts TCP and never answers would
/// otherwise hold `sync` silently for ever.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    pub async fn open(url: &str) -> anyhow::Result<Self> {
        let options = check_url(url)?;
        let shown = super::redact(url).into_owned();
        // One plain connection first: the pool would retry until its timeout and then say
        // only "timed out", hiding the cause (refused, unknown host, bad password).
        let probe = tokio::time::timeout(CONNECT_TIMEOUT, options.connect())
            .await
            .map_err(|_| anyhow::anyhow!("no answer within {} s", CONNECT_TIMEOUT.as_secs()))
            .and_then(|connected| connected.map_err(anyhow::Error::from))
            .with_context(|| format!("cannot connect to PostgreSQL at {shown}"))?;
        let _ = probe.close().await;
        let pool = PgPoolOptions::new()
            .max_connections(4)
            .acquire_timeout(Duration::from_secs(30))
            .connect_with(options)
            .await
            .with_context(|| format!("cannot connect to PostgreSQL at {shown}"))?;
        migrator().run(&pool).await.with_context(|| format!("cannot migrate the PostgreSQL database {shown}"))?;
        Ok(PgStore { pool })
    }

    pub(super) async fn save(&self, rows: &[Row<'_>]) -> anyhow::Result<()> {
        match self.save_batch(rows, false).await {
            // One event PostgreSQL can never hold failed the batch: again, one savepoint per
            // event, so that it is parked and the rest stored. The usual batch pays nothing.
            Err(e) if data_exception(&e).is_some() => self.save_batch(rows, true).await,
            other => other,
        }
    }

    /// Upserts the rows in one transaction. With `park_unstorable`, a row that fails with
    /// a data exception goes to `webhook_dead_letters` in the same transaction instead.
    async fn save_batch(&self, rows: &[Row<'_>], park_unstorable: bool) -> anyhow::Result<()> {
        let mut tx = self.pool.begin().await.context("cannot begin a transaction")?;
        for row in rows {
            if park_unstorable {
                sqlx::query("SAVEPOINT smartai_event").execute(&mut *tx).await?;
            }
            let stored = sqlx::query(UPSERT)
                .bind(row.event_id)
                .bind(row.event_type)
                .bind(row.stored_at)
                // The text as received, cast by PostgreSQL: jsonb keeps every number's
                // precision, where a serde_json::Value would round big ones to an f64.
                .bind(&row.payload_text)
                .execute(&mut *tx)
                .await
                .with_context(|| format!("cannot store event {}", row.event_id));
            match stored {
                Ok(_) => {}
                Err(e) if park_unstorable && data_exception(&e).is_some() => {
                    let reason = data_exception(&e).unwrap_or_default();
                    sqlx::query("ROLLBACK TO SAVEPOINT smartai_event").execute(&mut *tx).await?;
                    tracing::warn!(
                        event_id = %StoredId::of(row.event_id).text,
                        %reason,
                        "PostgreSQL cannot store this event, and retrying cannot change that; parking it in webhook_dead_letters"
                    );
                    insert_dead_letter(&mut tx, row, &reason).await?;
                }
                Err(e) => return Err(e),
            }
        }
        tx.commit().await.context("cannot commit the batch")?;
        Ok(())
    }

    pub(super) async fn dead_letter(&self, rows: &[Row<'_>], reason: &str) -> anyhow::Result<()> {
        let mut tx = self.pool.begin().await?;
        for row in rows {
            insert_dead_letter(&mut tx, row, reason).await?;
        }
        tx.commit().await.context("cannot commit the dead letters")?;
        Ok(())
    }

    pub(super) async fn contents(&self) -> anyhow::Result<Contents> {
        let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM webhook_events").fetch_one(&self.pool).await?;
        let by_type: Vec<(String, i64)> = sqlx::query_as(
            "SELECT event_type, COUNT(*) FROM webhook_events GROUP BY event_type ORDER BY COUNT(*) DESC, event_type",
        )
        .fetch_all(&self.pool)
        .await?;
        let (completed, passed): (i64, i64) = sqlx::query_as(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE payload->>'passed' = 'true') \
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

/// Parks one event in `webhook_dead_letters`.
async fn insert_dead_letter(tx: &mut sqlx::PgConnection, row: &Row<'_>, reason: &str) -> anyhow::Result<()> {
    let id = StoredId::of(row.event_id);
    sqlx::query(DEAD_LETTER)
        .bind(&*id.text)
        .bind(id.escaped)
        // The payload (TEXT) stays as sent: JSON text never holds a raw U+0000.
        .bind(&row.payload_text)
        // The reason only describes; it need not be reversible.
        .bind(reason.replace('\0', "\\u0000"))
        .execute(tx)
        .await
        .with_context(|| format!("cannot dead-letter event {}", id.text))?;
    Ok(())
}

/// An event ID as `webhook_dead_letters` keys it (see migration 0002). PostgreSQL text
/// cannot hold U+0000, and a NUL in the ID may be exactly why the event is parked, so such
/// an ID is escaped and flagged. The escaping is reversible and the flag sets it apart from
/// IDs kept as sent, so two different IDs never share a key (one dead letter would
/// overwrite the other, and both events are acknowledged).
struct StoredId<'a> {
    text: std::borrow::Cow<'a, str>,
    escaped: bool,
}

impl<'a> StoredId<'a> {
    fn of(id: &'a str) -> Self {
        if !id.contains('\0') {
            return StoredId { text: id.into(), escaped: false };
        }
        let text = id.replace('\\', "\\\\").replace('\0', "\\u0000");
        StoredId { text: text.into(), escaped: true }
    }
}

/// The reason to park an event whose store failed with a data exception (SQLSTATE class
/// 22): a value PostgreSQL refuses, such as U+0000 in text or JSONB. The same value fails every time, so it is no reason to hold back the queue.
/// Anything else (a lost connection, a lock, a full disk) may pass and is retried.
fn data_exception(error: &anyhow::Error) -> Option<String> {
    let db = error.chain().find_map(|c| c.downcast_ref::<sqlx::Error>())?.as_database_error()?;
    let code = db.code()?;
    code.starts_with("22").then(|| format!("PostgreSQL cannot store the event (SQLSTATE {code}: {})", db.message()))
}
