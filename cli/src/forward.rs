//! `forward`: the pull-to-push bridge. Each event is POSTed, in queue order, to the
//! user's endpoint; the batch is acknowledged only after every event in it got a 2xx.
//!
//! Signature (with `--secret`): `x-smartai-signature: t=<unix ms>,v1=<hex>` where `<hex>` is
//! HMAC-SHA256 keyed by the secret over `"<t>.<body>"`. The timestamp is inside the signed
//! string so a receiver can refuse replays older than a few minutes.

use crate::args::ForwardArgs;
use crate::exit::usage;
use crate::output::Output;
use crate::{client, once, signals, status};
use anyhow::Context;
use serde_json::json;
use smartai_events::{DrainOptions, RetryPolicy, RunOptions, WebhookEvent};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// The header that carries the signature.
pub const SIGNATURE_HEADER: &str = "x-smartai-signature";

/// Builds the header value for `body` signed at `t_ms`.
pub fn signature(secret: &str, t_ms: i64, body: &str) -> String {
    let mac = smartai_events::signing::sign(secret, &format!("{t_ms}.{body}"));
    format!("t={t_ms},v1={mac}")
}

struct Forwarder {
    http: reqwest::Client,
    to: reqwest::Url,
    secret: Option<String>,
    retry: RetryPolicy,
    stop: CancellationToken,
}

/// The stop signal came while an event was still undelivered; its batch stays in the queue.
#[derive(Debug)]
struct Stopped(String);

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "stopped before event {} was delivered; it stays in the queue", self.0)
    }
}

impl std::error::Error for Stopped {}

/// Warn on every failure up to here, then only every tenth, for an endpoint that is down.
const QUIET_AFTER: u32 = 5;

impl Forwarder {
    /// Delivers one event, retrying with the core's backoff until a 2xx or a stop.
    ///
    /// Why not give up after N attempts: a failed handler makes the core retry the
    /// batch's events one by one after the fresh ones of the next batch, which would break
    /// the queue's order at the receiver. Waiting here keeps the order; the platform keeps
    /// the queue meanwhile, so nothing is lost.
    async fn deliver(&self, event: &WebhookEvent) -> anyhow::Result<()> {
        let body = event.raw_json().to_string();
        let mut attempt: u32 = 0;
        loop {
            // A stop ends delivery before the next event and during a send: the batch stays
            // unacknowledged, and the receiver sees those events again (at-least-once).
            if self.stop.is_cancelled() {
                return Err(Stopped(event.event_id().to_string()).into());
            }
            let mut request = self
                .http
                .post(self.to.clone())
                .header("content-type", "application/json")
                .header("user-agent", concat!("smartai-events-forward/", env!("CARGO_PKG_VERSION")))
                .header("x-smartai-event-id", header_text(event.event_id()).as_ref())
                .header("x-smartai-event-type", header_text(event.event_type()).as_ref());
            if let Some(secret) = &self.secret {
                let t = chrono::Utc::now().timestamp_millis();
                request = request.header(SIGNATURE_HEADER, signature(secret, t, &body));
            }
            let sent = tokio::select! {
                biased;
                sent = request.body(body.clone()).send() => sent,
                _ = self.stop.cancelled() => return Err(Stopped(event.event_id().to_string()).into()),
            };
            let failure = match sent {
                Ok(response) if response.status().is_success() => {
                    tracing::debug!(event_id = event.event_id(), attempt, "delivered");
                    return Ok(());
                }
                Ok(response) => format!("HTTP {}", response.status()),
                Err(e) => without_url(e),
            };
            attempt = attempt.saturating_add(1);
            if attempt <= QUIET_AFTER || attempt.is_multiple_of(10) {
                tracing::warn!(event_id = event.event_id(), attempt, error = %failure, "delivery failed; retrying");
            }
            let wait = self.retry.backoff(attempt - 1, None);
            tokio::select! {
                _ = tokio::time::sleep(wait) => {}
                _ = self.stop.cancelled() => return Err(Stopped(event.event_id().to_string()).into()),
            }
        }
    }
}

/// An event ID or type as a header value. A header can carry only visible ASCII, and an
/// event whose ID held, say, a newline would fail every send and block the queue behind
/// it; so every byte of the UTF-8 text outside `!`..`~`, and `%` itself, is written as
/// `%XX` (percent-encoding, as in URLs). Ordinary IDs such as `evt_01J9XYZ` are unchanged;
/// the body always carries the exact values.
pub fn header_text(value: &str) -> std::borrow::Cow<'_, str> {
    let plain = |b: u8| b.is_ascii_graphic() && b != b'%';
    if value.bytes().all(plain) {
        return std::borrow::Cow::Borrowed(value);
    }
    let mut out = String::with_capacity(value.len() + 8);
    for b in value.bytes() {
        if plain(b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    std::borrow::Cow::Owned(out)
}

/// reqwest's errors quote the URL, which may carry credentials; keep the kind only.
fn without_url(e: reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "connection failed"
    } else if e.is_body() || e.is_decode() {
        "bad response body"
    } else {
        "request failed"
    };
    let detail = std::error::Error::source(&e).map(|s| s.to_string()).unwrap_or_default();
    if detail.is_empty() { kind.to_string() } else { format!("{kind}: {detail}") }
}

pub async fn run(args: ForwardArgs, out: Output) -> anyhow::Result<()> {
    let to = reqwest::Url::parse(&args.to)
        .ok()
        .filter(|u| matches!(u.scheme(), "http" | "https") && u.host().is_some())
        .ok_or_else(|| {
            usage(format!("invalid --to {:?}: expected an http:// or https:// URL", crate::store::redact(&args.to)))
        })?;
    // Whitespace alone is no secret either: an unset shell variable inside quotes, most likely.
    if args.secret.as_deref().is_some_and(|s| s.trim().is_empty()) {
        return Err(usage("--secret (or SMARTAI_FORWARD_SECRET) is empty or only whitespace"));
    }
    let client = client::build(&args.client)?;
    if !args.once {
        // Before the start line, as in `sync`: a bad --interval is a usage error, not a
        // forwarder that started and then failed.
        client::check_run_options(&client, &RunOptions::new().interval(args.interval).ordered(true), args.interval)?;
    }
    let stop = signals::stop_token(&out)?;
    let http = reqwest::Client::builder()
        // A redirect is not a delivery: following one would turn the POST into a GET of
        // another page (301-303) or send the event and its signature elsewhere (307, 308),
        // and its 2xx would get the event acknowledged. A 3xx is retried like any non-2xx.
        .redirect(reqwest::redirect::Policy::none())
        .timeout(args.timeout)
        .connect_timeout(args.timeout.min(Duration::from_secs(10)))
        .build()
        .context("cannot build the HTTP client")?;
    let forwarder = Arc::new(Forwarder {
        http,
        to,
        secret: args.secret.clone(),
        retry: *client.config().retry(),
        stop: stop.clone(),
    });
    let shown = crate::store::redact(&args.to).into_owned();
    out.status(
        None,
        format!(
            "forwarding to {shown}{}",
            if args.secret.is_some() { " (signed: x-smartai-signature)" } else { " (unsigned; pass --secret to sign)" }
        ),
        json!({"type": "start", "to": shown, "signed": args.secret.is_some(), "mode": if args.once { "once" } else { "poll" }}),
    );
    let handler = {
        let forwarder = forwarder.clone();
        move |events: Vec<WebhookEvent>| {
            let forwarder = forwarder.clone();
            async move {
                // In order, one at a time: a receiver sees the queue's order within a batch.
                for event in &events {
                    forwarder.deliver(event).await?;
                }
                Ok::<(), anyhow::Error>(())
            }
        }
    };
    if args.once {
        let drained = once::drain(
            &client,
            DrainOptions::new().limit(args.limit),
            &stop,
            &out,
            !args.no_progress,
            "forwarded",
            handler,
        )
        .await;
        return match drained {
            // A stop during a retry is a stop, not a failure: exit 0 like any other stop.
            Err(e) if e.downcast_ref::<Stopped>().is_some() => {
                tracing::info!("{e}");
                Ok(())
            }
            other => other.map(|_| ()),
        };
    }
    // Ordered: a batch is retried whole and in queue order, and nothing is dead-lettered, so
    // an event that cannot be delivered stays in the queue (the platform keeps it) instead
    // of being acknowledged undelivered.
    let bar = out.spinner(!args.no_progress);
    let options = RunOptions::new()
        .interval(args.interval)
        .ordered(true)
        .drain_options(DrainOptions::new().limit(args.limit))
        .on_cycle(status::cycle_hook(client.clone(), out.clone(), bar.clone(), "forwarded"));
    let before = client.health();
    let result = client.run(handler, options, stop.clone().cancelled_owned()).await;
    bar.finish_and_clear();
    status::stopped(&out, &client, &before, &result?, "forwarded");
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn header_text_percent_encodes_what_a_header_cannot_carry() {
        assert_eq!(super::header_text("evt_01J9XYZ-abc.1"), "evt_01J9XYZ-abc.1");
        assert_eq!(super::header_text("evt_a\nb"), "evt_a%0Ab");
        assert_eq!(super::header_text("a b%c\u{7f}é"), "a%20b%25c%7F%C3%A9");
        for text in ["evt_a\r\nb", "\0", "x\ty"] {
            assert!(reqwest::header::HeaderValue::from_str(&super::header_text(text)).is_ok(), "{text:?}");
        }
    }

    #[test]
    fn signature_format() {
        let s = super::signature("whsec", 1_717_200_000_000, "{}");
        let mac = smartai_events::signing::sign("whsec", "1717200000000.{}");
        assert_eq!(s, format!("t=1717200000000,v1={mac}"));
    }
}
