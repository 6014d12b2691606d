//! `sync`: every event into SQLite or PostgreSQL. Save first, acknowledge second: the
//! handler given to the core returns `Ok` only after the batch's transaction committed,
//! and the core acknowledges only after an `Ok`.

use crate::args::SyncArgs;
use crate::fleet::{self, Ended};
use crate::output::Output;
use crate::store::{DbUrl, Store, write_patiently};
use crate::{client, once, signals, status};
use serde_json::json;
use smartai_events::{AssessmentClient, DrainOptions, RunOptions, RunSummary, STOP_GRACE, WebhookEvent};
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long `sync --once` waits for a fleet leader to step down before leaving the queue to it.
const ONCE_STANDBY_LIMIT: Duration = Duration::from_secs(10);

pub async fn run(args: SyncArgs, out: Output) -> anyhow::Result<()> {
    let db = DbUrl::parse(&args.db_url())?;
    let client = client::build(&args.client)?;
    if !args.once {
        // Now, not when this process becomes the leader: a standby with a bad --interval
        // would otherwise wait quietly and fail only when it is needed.
        client::check_run_options(&client, &run_options(&args), args.interval)?;
    }
    let stop = signals::stop_token(&out)?;
    let mode = if args.once { "once" } else { "poll" };
    out.status(
        None,
        if args.once {
            format!("draining into {}", db.display())
        } else {
            format!(
                "syncing into {} every {} (Ctrl-C to stop)",
                db.display(),
                humantime::format_duration(args.interval)
            )
        },
        json!({"type": "start", "db": db.display(), "mode": mode, "pid": std::process::id()}),
    );
    match &db {
        DbUrl::Sqlite(_) => {
            let give_up = args.once.then_some(ONCE_STANDBY_LIMIT);
            // One poller per file: a second `sync` on the same file stands by.
            let lock = match db.sqlite_file() {
                Some(file) => match fleet::lock_file(std::path::Path::new(&file), &stop, &out, give_up).await? {
                    Some(lock) => Some(lock),
                    None if stop.is_cancelled() => return Ok(()),
                    None => {
                        skipped(&out);
                        return Ok(());
                    }
                },
                None => None,
            };
            // Opened (and migrated) only once the lock is ours: two first runs on one file
            // would otherwise race in the migrations, and SQLite has no migration lock.
            let Some(store) = open_unless_stopped(&db, &stop).await? else { return Ok(()) };
            let result = work(&client, &store, &args, &out, stop.clone(), &stop).await;
            store.close().await;
            drop(lock);
            result
        }
        DbUrl::Postgres(url) => {
            let options = crate::store::postgres_options(url)?;
            // sqlx serialises concurrent PostgreSQL migrations with an advisory lock.
            let Some(store) = open_unless_stopped(&db, &stop).await? else { return Ok(()) };
            // The key the client uses, however it was given (--api-key or the environment),
            // so that every process polling one queue meets at one lock.
            let key = fleet::lock_key(client.config().api_key());
            let give_up = args.once.then_some(ONCE_STANDBY_LIMIT);
            let result = match fleet::lead(options, key, &stop, &out, give_up, |leading| {
                work(&client, &store, &args, &out, leading, &stop)
            })
            .await
            {
                Ok(Ended::Done(())) => Ok(()),
                Ok(Ended::OtherLeader) => {
                    skipped(&out);
                    Ok(())
                }
                Err(e) => Err(e),
            };
            store.close().await;
            result
        }
    }
}

/// Opens (and migrates) the store; `None` if stopped first. Nothing is in hand yet, so a
/// stop while the database does not answer, or a migration waits on a lock, ends at once.
async fn open_unless_stopped(db: &DbUrl, stop: &CancellationToken) -> anyhow::Result<Option<Store>> {
    tokio::select! {
        store = Store::open(db) => store.map(Some),
        () = stop.cancelled() => Ok(None),
    }
}

fn skipped(out: &Output) {
    out.status(
        None,
        "another sync process uses this database and drains the queue; nothing to do",
        json!({"type": "skipped", "reason": "another process is the leader"}),
    );
}

/// The work of whoever leads: one drain (`--once`) or the poller, until `stop`, which is
/// `process_stop` itself or, in fleet mode, also fires when the leader lock is lost.
async fn work(
    client: &AssessmentClient,
    store: &Store,
    args: &SyncArgs,
    out: &Output,
    stop: CancellationToken,
    process_stop: &CancellationToken,
) -> anyhow::Result<()> {
    if args.once {
        once::drain(
            client,
            DrainOptions::new().limit(args.limit),
            &stop,
            out,
            !args.no_progress,
            "stored",
            |events: Vec<WebhookEvent>| {
                let (store, stop) = (store.clone(), stop.clone());
                let slow = args.slow_store_warning;
                async move { write_patiently(store.save(&events), slow, &stop, STOP_GRACE).await }
            },
        )
        .await?;
        return Ok(());
    }
    let before = client.health();
    let summary = poll(client, store, args, out, stop).await?;
    if !process_stop.is_cancelled() {
        // Only the leader lock was lost: the process goes on (fleet prints `lost-leadership`
        // and stands by), so this is no `stopped` line.
        return Ok(());
    }
    status::stopped(out, client, &before, &summary, "stored");
    Ok(())
}

/// The long-running poller: the core's `run`, with a store as handler and dead-letter hook.
async fn poll(
    client: &AssessmentClient,
    store: &Store,
    args: &SyncArgs,
    out: &Output,
    stop: CancellationToken,
) -> anyhow::Result<RunSummary> {
    let slow = args.slow_store_warning;
    let handler = {
        let (store, stop) = (store.clone(), stop.clone());
        move |events: Vec<WebhookEvent>| {
            let (store, stop) = (store.clone(), stop.clone());
            // The whole chain as the message: the core keeps it as the dead-letter reason
            // and logs it, and the root cause (a constraint, a full disk) is the useful part.
            async move {
                write_patiently(store.save(&events), slow, &stop, STOP_GRACE)
                    .await
                    .map_err(|e| crate::output::message(&e))
            }
        }
    };
    let dead_letter = {
        let (store, stop) = (store.clone(), stop.clone());
        move |events: Vec<WebhookEvent>, reason: String| {
            let (store, stop) = (store.clone(), stop.clone());
            async move {
                tracing::warn!(events = events.len(), %reason, "parking events in webhook_dead_letters");
                write_patiently(store.dead_letter(&events, &reason), slow, &stop, STOP_GRACE).await
            }
        }
    };
    let bar = out.spinner(!args.no_progress);
    let options = run_options(args).dead_letter(dead_letter).on_cycle(status::cycle_hook(
        client.clone(),
        out.clone(),
        bar.clone(),
        "stored",
    ));
    let result = client.run(handler, options, stop.cancelled_owned()).await;
    bar.finish_and_clear();
    Ok(result?)
}

/// The poller's options from the flags.
fn run_options(args: &SyncArgs) -> RunOptions {
    RunOptions::new()
        .interval(args.interval)
        .max_attempts(args.max_attempts)
        .drain_options(DrainOptions::new().limit(args.limit))
}
