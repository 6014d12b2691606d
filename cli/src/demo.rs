//! `demo`: the main job on a fresh machine, with nothing to configure. An emulator of the
//! platform runs in this process with realistic sample events and production rate limits,
//! and the very code path of `sync --once` stores them in a local SQLite file.

use crate::args::DemoArgs;
use crate::output::Output;
use crate::store::{DbUrl, Store};
use crate::{once, signals};
use anyhow::Context;
use serde_json::json;
use smartai_emulator::{Emulator, EmulatorConfig};
use smartai_events::{AssessmentClient, DrainOptions, WebhookEvent};

pub async fn run(args: DemoArgs, out: Output) -> anyhow::Result<()> {
    let db = DbUrl::parse(&args.db)?;
    let stop = signals::stop_token(&out)?;
    let emulator =
        Emulator::start(EmulatorConfig::default().with_seed(args.seed).with_initial_events(args.events as usize))
            .await
            .context("cannot start the embedded emulator")?;
    // The client keeps its production settings too (5 s idle-poll gate): a drain never
    // waits on it, because it stops as soon as the platform says nothing is pending.
    let client = AssessmentClient::builder()
        .api_key(emulator.api_key())
        .secret_key(emulator.secret_key())
        .base_url(emulator.url())
        .build()?;
    out.status(
        None,
        format!(
            "demo: emulator at {} with {} sample events; draining into {}",
            emulator.url(),
            args.events,
            db.display()
        ),
        json!({"type": "start", "emulator": emulator.url(), "events": args.events, "db": db.display()}),
    );
    let store = Store::open(&db).await?;
    let drained = once::drain(
        &client,
        DrainOptions::new(),
        &stop,
        &out,
        !args.no_progress,
        "stored",
        |events: Vec<WebhookEvent>| {
            let store = store.clone();
            async move { store.save(&events).await }
        },
    )
    .await?;
    let contents = store.contents().await?;
    let left = emulator.stats().pending;
    store.close().await;
    emulator.shutdown().await;

    let path = db.sqlite_file();
    let pass_rate =
        if contents.completed > 0 { 100.0 * contents.passed as f64 / contents.completed as f64 } else { 0.0 };
    let mut human = String::from("\nSmartAI events demo\n");
    human.push_str(&format!(
        "  stored this run     {} events in {} batches ({} left in the queue)\n",
        drained.summary.events, drained.summary.batches, left
    ));
    human.push_str(&format!("  rows in the table   {}\n", contents.total));
    for (kind, n) in &contents.by_type {
        human.push_str(&format!("    {kind:<26} {n}\n"));
    }
    human.push_str(&format!(
        "  pass rate           {pass_rate:.1}% ({} of {} completed assessments passed)\n",
        contents.passed, contents.completed
    ));
    match &path {
        Some(p) => {
            human.push_str(&format!("  database            {p}\n\nLook inside:\n"));
            human.push_str(&format!("  sqlite3 {p} \"SELECT event_type, COUNT(*) FROM webhook_events GROUP BY 1;\"\n"));
            human.push_str(&format!(
                "  sqlite3 {p} \"SELECT json_extract(payload, '$.candidateName'), json_extract(payload, '$.score') FROM webhook_events WHERE event_type = 'assessment.completed' LIMIT 5;\"\n"
            ));
        }
        None => human.push_str(&format!("  database            {}\n", db.display())),
    }
    human.push_str("\nNext: smartai-events sync (with ASSESSMENT_API_KEY and ASSESSMENT_SECRET_KEY set) does the same against the platform, every 30 s.");
    out.result(
        human,
        json!({
            "type": "summary",
            "stored": drained.summary.events,
            "batches": drained.summary.batches,
            "pendingCount": left,
            "rows": contents.total,
            "byType": contents.by_type.iter().map(|(k, n)| (k.clone(), json!(n))).collect::<serde_json::Map<_, _>>(),
            "completed": contents.completed,
            "passed": contents.passed,
            "passRate": pass_rate / 100.0,
            "database": path.clone().unwrap_or_else(|| db.display()),
        }),
    );
    Ok(())
}
