//! `events` (look without acknowledging) and `ack`.

use crate::args::{AckArgs, EventsArgs};
use crate::client;
use crate::output::Output;
use serde_json::json;
use smartai_events::FetchOptions;

pub async fn events(args: EventsArgs, out: Output) -> anyhow::Result<()> {
    let client = client::build(&args.client)?;
    let batch = client.get_webhook_events(FetchOptions::new().limit(args.limit)).await?;
    if out.is_json() {
        // The events exactly as the platform sent them, one per line (jq-friendly).
        for event in &batch.events {
            out.json_text_line(event.raw_json());
        }
        out.result("", json!({"type": "pending", "shown": batch.events.len(), "pendingCount": batch.pending_count}));
        return Ok(());
    }
    if batch.events.is_empty() {
        out.result("no pending events", json!(null));
        return Ok(());
    }
    let mut text = format!("{:<38} {:<26} {}\n", "EVENT ID", "TYPE", "STORED AT");
    for event in &batch.events {
        let stored =
            event.stored_at().map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)).unwrap_or_default();
        text.push_str(&format!("{:<38} {:<26} {stored}\n", shown(event.event_id()), shown(event.event_type())));
    }
    text.push_str(&format!(
        "{} shown, {} more pending (nothing was acknowledged)",
        batch.events.len(),
        batch.pending_count
    ));
    out.result(text, json!(null));
    Ok(())
}

/// `text` for a terminal: control characters escaped (`\u{1b}`, `\r`, `\n`), so that an ID
/// from the server cannot recolour the terminal or fake rows of the table.
fn shown(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return text.into();
    }
    text.chars().map(|c| if c.is_control() { c.escape_default().to_string() } else { c.to_string() }).collect()
}

pub async fn ack(args: AckArgs, out: Output) -> anyhow::Result<()> {
    let client = client::build(&args.client)?;
    // An ID given twice is sent, and counted, once.
    let ids = smartai_events::validate::event_ids(&args.ids)?;
    let result = client.acknowledge_webhook_events(&ids).await?;
    out.result(
        format!(
            "acknowledged {} of {} events (unknown or already acknowledged IDs are skipped)",
            result.acknowledged,
            ids.len()
        ),
        json!({"type": "acknowledged", "requested": ids.len(), "acknowledged": result.acknowledged}),
    );
    Ok(())
}
