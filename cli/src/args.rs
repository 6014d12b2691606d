//! The command line, as clap sees it. Every command's `--help` ends with examples.

use clap::{Args, Parser, Subcommand};
use std::time::Duration;

const TOP_HELP: &str = "\
Examples:
  # Try it on a fresh machine: a local emulator, 500 sample events, into SQLite
  smartai-events demo

  # Keep every event in SQLite, polling every 30 s
  export ASSESSMENT_API_KEY=wc_ak_... ASSESSMENT_SECRET_KEY=wc_sk_...
  smartai-events sync

  # PostgreSQL; run several for fail-over, one leader polls
  smartai-events sync --db postgres://app@db.internal/hiring

  # Push each event to your own HTTP endpoint, signed
  smartai-events forward --to http://localhost:3000/hooks/smartai --secret whsec_local

Exit codes:
  0    success (also after SIGINT/SIGTERM, once the batch in hand is stored and acknowledged)
  1    runtime error (network, server, database)
  2    usage or configuration error (bad flag, bad database URL, missing keys)
  3    authentication error (wrong API key or secret key, clock far off)

Credentials come from ASSESSMENT_API_KEY, ASSESSMENT_SECRET_KEY and ASSESSMENT_BASE_URL,
or from --api-key, --secret-key and --base-url. Secrets are never printed.
Logs go to stderr: -v for debug, -vv for trace, or RUST_LOG=... for full control.";

/// The SmartAI event poller: every assessment event in your database, none lost.
#[derive(Parser, Debug)]
#[command(name = "smartai-events", version, after_help = TOP_HELP, propagate_version = true)]
pub struct Cli {
    /// More logging on stderr (-v debug, -vv trace). RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,

    /// Machine-readable output: one JSON object per line on stdout, JSON logs on stderr.
    #[arg(long, global = true)]
    pub json: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Store every event in SQLite or PostgreSQL, acknowledging only after the commit.
    Sync(SyncArgs),
    /// Push every event to an HTTP endpoint (a pull-to-push bridge), signed with a secret.
    Forward(ForwardArgs),
    /// Peek at pending events without acknowledging them.
    Events(EventsArgs),
    /// Acknowledge events by ID, removing them from the queue.
    Ack(AckArgs),
    /// Try it out: a local emulator with sample events, synced into a SQLite file.
    Demo(DemoArgs),
    /// Run a local emulator of the SmartAI platform (same flags as `smartai-emulator`).
    #[command(after_help = EMULATOR_HELP)]
    Emulator(smartai_emulator::cli::Args),
}

const EMULATOR_HELP: &str = "\
Examples:
  smartai-events emulator --port 8080 --events 1000
  smartai-events emulator --fault-rate 0.2 --no-rate-limit

It prints one JSON line with url, apiKey and secretKey, then serves until Ctrl-C.";

/// How to reach the platform. Flags win over the environment.
#[derive(Args, Clone)]
pub struct ClientArgs {
    // The three variables are not read by clap but by the core, where an empty variable
    // means unset, while an explicitly empty flag is refused: an empty --api-key must not
    // quietly become the environment's key, nor an empty --base-url production.
    /// API key (wc_ak_...) [env: ASSESSMENT_API_KEY].
    #[arg(long, value_name = "KEY")]
    pub api_key: Option<String>,

    /// Secret key (wc_sk_...) that signs requests. Never printed [env: ASSESSMENT_SECRET_KEY].
    #[arg(long, value_name = "SECRET")]
    pub secret_key: Option<String>,

    /// Platform base URL [env: ASSESSMENT_BASE_URL] [default: https://platform.smartai.app].
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,

    /// Allow plain http:// to a host that is not loopback (the API key travels in clear text).
    #[arg(long)]
    pub allow_insecure_http: bool,

    /// Retries of each request after the first attempt (transient errors only; 0 to 100).
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(0..=100), value_name = "N")]
    pub max_retries: u32,

    /// The idle-poll gate (the platform rate-limits polls < 5 s apart). For tests only.
    #[arg(long, hide = true, default_value = "5s", value_parser = parse_duration)]
    pub min_poll_interval: Duration,
}

const SYNC_HELP: &str = "\
Examples:
  smartai-events sync                                   # SQLite file ./smartai-events.db, every 30 s
  smartai-events sync --once                            # drain until the queue is empty, then exit
  smartai-events sync --db sqlite:///var/lib/smartai/events.db --interval 10s
  smartai-events sync --db postgres://app@localhost/hiring --json

Each batch is upserted in one transaction (ON CONFLICT (event_id)), and acknowledged only
after the commit: at-least-once, never lost, stored once. Events the database keeps refusing
go to webhook_dead_letters after --max-attempts, then are acknowledged.
With PostgreSQL, several sync processes may share one database: an advisory lock elects one
leader that polls; the others stand by and take over within seconds if it dies.
SIGINT/SIGTERM: the batch in hand is stored and acknowledged, then the process exits 0.

Exit codes: 0 ok, 1 runtime error, 2 usage/config error, 3 authentication error.";

#[derive(Args, Debug, Clone)]
#[command(after_help = SYNC_HELP)]
pub struct SyncArgs {
    #[command(flatten)]
    pub client: ClientArgs,

    /// Database URL: sqlite://PATH (created if missing) or postgres://USER@HOST/DB
    /// [env: SMARTAI_EVENTS_DB] [default: sqlite://smartai-events.db].
    // Not read by clap, which would take an empty variable (docker-compose's `X=`) as an
    // explicitly empty flag: see `SyncArgs::db_url`.
    #[arg(long, value_name = "URL")]
    pub db: Option<String>,

    /// Wait between drains (at least 5s; e.g. 10s, 30s, 5m).
    #[arg(long, default_value = "30s", value_parser = parse_duration, value_name = "DURATION", allow_hyphen_values = true)]
    pub interval: Duration,

    /// Drain until the queue is empty, then exit.
    #[arg(long)]
    pub once: bool,

    /// Events per fetch (1 to 100).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(i64).range(1..=100), value_name = "N")]
    pub limit: i64,

    /// Failed stores of an event before it goes to webhook_dead_letters.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..), value_name = "N")]
    pub max_attempts: u32,

    /// No progress bar (it is hidden anyway when stderr is not a terminal).
    #[arg(long)]
    pub no_progress: bool,

    /// How long a database write may take before `sync` warns that it is still waiting
    /// (then again each time as long). For tests only.
    #[arg(long, hide = true, default_value = "30s", value_parser = parse_warning_interval)]
    pub slow_store_warning: Duration,
}

/// Where `sync` stores events when neither `--db` nor `SMARTAI_EVENTS_DB` says.
pub const DEFAULT_DB: &str = "sqlite://smartai-events.db";

impl SyncArgs {
    /// `--db`, else a non-empty `SMARTAI_EVENTS_DB`, else [`DEFAULT_DB`]: an empty variable
    /// counts as unset, as the ASSESSMENT_* ones do, while an empty flag is left for
    /// `DbUrl::parse` to refuse.
    pub fn db_url(&self) -> String {
        self.db.clone().unwrap_or_else(|| {
            std::env::var("SMARTAI_EVENTS_DB")
                .ok()
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| DEFAULT_DB.to_string())
        })
    }
}

const FORWARD_HELP: &str = "\
Examples:
  smartai-events forward --to http://localhost:3000/webhooks/smartai
  smartai-events forward --to https://hooks.example.com/smartai --secret \"$FORWARD_SECRET\" --interval 10s

Each event is POSTed alone, as its JSON, in queue order, with headers
  content-type: application/json
  x-smartai-event-id: <eventId>
  x-smartai-event-type: <event>
  x-smartai-signature: t=<unix ms>,v1=<hex HMAC-SHA256(secret, \"<t>.<body>\")>   (with --secret)
In the ID and type headers, bytes outside visible ASCII, and '%', are percent-encoded (%XX).
A non-2xx answer or a network error is retried with backoff (up to 30 s apart) until it
succeeds, so the order holds; a batch is acknowledged only after every event in it got a
2xx. Delivery is at-least-once: dedupe on x-smartai-event-id.

Exit codes: 0 ok, 1 runtime error, 2 usage/config error, 3 authentication error.";

#[derive(Args, Clone)]
#[command(after_help = FORWARD_HELP)]
pub struct ForwardArgs {
    #[command(flatten)]
    pub client: ClientArgs,

    /// Your endpoint (http:// or https://).
    #[arg(long, value_name = "URL")]
    pub to: String,

    /// Signs each delivery (x-smartai-signature). Never printed.
    #[arg(long, env = "SMARTAI_FORWARD_SECRET", hide_env_values = true, value_name = "SECRET")]
    pub secret: Option<String>,

    /// Wait between drains (at least 5s).
    #[arg(long, default_value = "30s", value_parser = parse_duration, value_name = "DURATION", allow_hyphen_values = true)]
    pub interval: Duration,

    /// Forward until the queue is empty, then exit.
    #[arg(long)]
    pub once: bool,

    /// Events per fetch (1 to 100).
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(i64).range(1..=100), value_name = "N")]
    pub limit: i64,

    /// Timeout of one delivery (at least 1ms).
    #[arg(long, default_value = "10s", value_parser = parse_timeout, value_name = "DURATION", allow_hyphen_values = true)]
    pub timeout: Duration,

    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

// Hand-written Debug: the secrets must not reach a log line through `{:?}`.
impl std::fmt::Debug for ClientArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientArgs")
            .field("api_key", &self.api_key.as_deref().map(smartai_events::mask_api_key))
            .field("secret_key", &self.secret_key.as_ref().map(|_| "***"))
            .field("base_url", &self.base_url)
            .field("allow_insecure_http", &self.allow_insecure_http)
            .field("max_retries", &self.max_retries)
            .field("min_poll_interval", &self.min_poll_interval)
            .finish()
    }
}

impl std::fmt::Debug for ForwardArgs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ForwardArgs")
            .field("client", &self.client)
            .field("to", &crate::store::redact(&self.to))
            .field("secret", &self.secret.as_ref().map(|_| "***"))
            .field("interval", &self.interval)
            .field("once", &self.once)
            .field("limit", &self.limit)
            .field("timeout", &self.timeout)
            .finish()
    }
}

const EVENTS_HELP: &str = "\
Examples:
  smartai-events events                 # a table of the next 10 pending events
  smartai-events events --limit 100 --json | jq .candidateEmail

Nothing is acknowledged: the events stay in the queue.";

#[derive(Args, Debug, Clone)]
#[command(after_help = EVENTS_HELP)]
pub struct EventsArgs {
    #[command(flatten)]
    pub client: ClientArgs,

    /// How many events to show (1 to 100).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(i64).range(1..=100), value_name = "N")]
    pub limit: i64,
}

const ACK_HELP: &str = "\
Examples:
  smartai-events ack evt_01J9XYZABC
  smartai-events events --json | jq -r '.eventId // empty' | xargs smartai-events ack

IDs that are unknown or already acknowledged are skipped without error.";

#[derive(Args, Debug, Clone)]
#[command(after_help = ACK_HELP)]
pub struct AckArgs {
    #[command(flatten)]
    pub client: ClientArgs,

    /// Event IDs to acknowledge.
    #[arg(required = true, value_name = "ID")]
    pub ids: Vec<String>,
}

const DEMO_HELP: &str = "\
Examples:
  smartai-events demo
  smartai-events demo --events 2000 --db sqlite://demo.db

Starts an emulator of the platform in this process (rate limits on, as in production), fills
it with realistic sample events, runs the same code path as `sync --once` into SQLite, and
prints what landed where, with a sqlite3 command to look inside.";

#[derive(Args, Debug, Clone)]
#[command(after_help = DEMO_HELP)]
pub struct DemoArgs {
    /// Database URL to fill.
    #[arg(long, default_value = "sqlite://smartai-events-demo.db", value_name = "URL")]
    pub db: String,

    /// Sample events to generate.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u64).range(1..=1_000_000), value_name = "N")]
    pub events: u64,

    /// Seed of the sample generator.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// No progress bar.
    #[arg(long)]
    pub no_progress: bool,
}

/// `30s`, `5m`, `250ms`, `1h 30m` (humantime), or a bare number of seconds.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    // humantime would say "expected number at 0" about the sign.
    if t.starts_with('-') {
        return Err(format!("expected a non-negative duration, e.g. 30s; got {t:?}"));
    }
    if let Ok(secs) = t.parse::<f64>() {
        return Duration::try_from_secs_f64(secs).map_err(|_| {
            if secs.is_nan() || secs < 0.0 {
                "expected a non-negative duration, e.g. 30s".to_string()
            } else {
                format!("{t} seconds is too long a duration; expected e.g. 30s, 5m or 1h")
            }
        });
    }
    humantime::parse_duration(t).map_err(|e| format!("{e}; expected e.g. 30s, 5m or 250ms"))
}

/// [`parse_duration`] for a repeated warning's interval: at least 1 ms, or it would repeat
/// without pause.
pub fn parse_warning_interval(s: &str) -> Result<Duration, String> {
    let every = parse_duration(s)?;
    if every < Duration::from_millis(1) {
        return Err(format!("a warning interval must be at least 1ms, got {:?}", s.trim()));
    }
    Ok(every)
}

/// A delivery timeout: a [`parse_duration`] of at least 1 ms. Below that every delivery
/// would time out and be retried for ever.
pub fn parse_timeout(s: &str) -> Result<Duration, String> {
    let timeout = parse_duration(s)?;
    if timeout < Duration::from_millis(1) {
        return Err(format!("a delivery timeout must be at least 1ms, got {:?}", s.trim()));
    }
    Ok(timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_warning_interval_of_zero_is_refused() {
        assert_eq!(parse_warning_interval("200ms"), Ok(Duration::from_millis(200)));
        assert!(parse_warning_interval("0s").unwrap_err().contains("at least 1ms, got \"0s\""));
    }
    use clap::CommandFactory;

    #[test]
    fn cli_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn debug_hides_secrets() {
        let cli = Cli::try_parse_from([
            "smartai-events",
            "forward",
            "--to",
            "http://u:pw@x/h",
            "--secret",
            "FWD",
            "--secret-key",
            "SK",
            "--api-key",
            "wc_ak_test_0123456789",
        ])
        .unwrap();
        let shown = format!("{cli:?}");
        assert!(!shown.contains("FWD") && !shown.contains("SK\"") && !shown.contains(":pw@"), "{shown}");
        assert!(!shown.contains("wc_ak_test_0123456789"), "{shown}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(parse_duration("2"), Ok(Duration::from_secs(2)));
        assert!(parse_duration("soon").is_err());
        assert!(parse_duration("-1").unwrap_err().contains("non-negative"));
        assert!(parse_duration(" -5s").unwrap_err().contains("non-negative duration, e.g. 30s; got \"-5s\""));
        assert!(parse_duration("1e400").unwrap_err().contains("1e400 seconds is too long"));
        assert_eq!(parse_timeout("250ms"), Ok(Duration::from_millis(250)));
        for zero in ["0", "0s", "0ms", "500us"] {
            let err = parse_timeout(zero).unwrap_err();
            assert!(err.contains(&format!("{zero:?}")), "{zero}: {err}");
        }
    }
}
