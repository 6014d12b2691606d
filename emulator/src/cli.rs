//! The command line: flags, the ready line, and serving until a signal.
//!
//! The project's CLI reuses [`Args`] and [`run_cli`] for its `emulator` subcommand.

use crate::Emulator;
use crate::config::{ApiKey, DEFAULT_ACKNOWLEDGED_HISTORY, EmulatorConfig, RateLimitConfig, TokenBucket};
use crate::faults::realistic_mix;
use clap::Parser;
use std::future::Future;
use std::io::Write;
use std::net::IpAddr;
use std::time::Duration;

/// Run a local emulator of the SmartAI platform's event queue.
///
/// When ready it prints one JSON line to stdout,
/// `{"url":"http://127.0.0.1:PORT","apiKey":"…","secretKey":"…"}`, then serves until
/// SIGINT or SIGTERM. Logs go to stderr (filter with RUST_LOG). The admin API is at
/// `/_emulator/` (loopback clients only).
#[derive(Parser, Debug, Clone)]
#[command(name = "smartai-emulator", version)]
pub struct Args {
    /// TCP port to listen on; 0 picks a free port (read it from the ready line).
    #[arg(long, default_value_t = 0)]
    pub port: u16,

    /// Address to bind. Admin routes answer loopback clients only, whatever this is.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,

    /// Generated events to enqueue for the first key at start.
    #[arg(long = "events", default_value_t = 0, value_parser = parse_events, value_name = "N")]
    pub events: usize,

    /// Seed for the event generator and the fault dice; the same seed gives the same events.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,

    /// Turn off both rate limits (idle-poll gate and token bucket).
    #[arg(long)]
    pub no_rate_limit: bool,

    /// Minimum gap between fetches after a fetch that found the queue empty (e.g. 5s, 200ms).
    #[arg(long, default_value = "5s", value_parser = parse_duration, value_name = "DURATION")]
    pub idle_poll_interval: Duration,

    /// Token-bucket refill rate, requests per second per key (above 0).
    #[arg(long, default_value_t = 20.0, allow_hyphen_values = true, value_name = "RATE")]
    pub rate: f64,

    /// Token-bucket size: requests that may come back to back per key (at least 1).
    #[arg(long, default_value_t = 40, allow_hyphen_values = true)]
    pub burst: u32,

    /// Inject a realistic mix of transient faults (503, 500, 429, resets, truncated bodies,
    /// lost acknowledges, latency) into this fraction of requests, 0 to 1.
    #[arg(long, default_value_t = 0.0, value_parser = parse_fraction, value_name = "P")]
    pub fault_rate: f64,

    /// Number of API keys, each with its own queue. Keys 2..K are printed to stderr and
    /// listed by GET /_emulator/keys.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..), value_name = "K")]
    pub keys: u16,

    /// Unacknowledged events expire after this long (e.g. 72h, 30m, 10s).
    #[arg(long, default_value = "72h", value_parser = parse_duration, value_name = "DURATION")]
    pub retention: Duration,

    /// Accepted distance between a request's x-timestamp and the emulator's clock.
    #[arg(long, default_value = "5m", value_parser = parse_duration, value_name = "DURATION")]
    pub window: Duration,

    /// Shift the emulator's clock by this many milliseconds (negative allowed), to test
    /// client clock-skew handling.
    #[arg(long, default_value_t = 0, allow_hyphen_values = true, value_name = "MS")]
    pub clock_offset_ms: i64,

    /// How many of the latest acknowledged event IDs each queue remembers for
    /// GET /_emulator/events (the stats count all of them).
    #[arg(long, default_value_t = DEFAULT_ACKNOWLEDGED_HISTORY, value_name = "N")]
    pub acknowledged_history: usize,

    /// Serve the platform's endpoints under this path, as behind a gateway
    /// (`/gw` serves `/gw/api/v1/webhook/events`). Default: at the root, as the platform.
    #[arg(long, default_value = "", value_name = "PATH")]
    pub path_prefix: String,
}

impl Args {
    /// Checks the flags that parse but make no sense together or at all, such as a token
    /// bucket that would lock every client out (`--rate 0`, `--burst 0`); the message names
    /// the flag and its value.
    pub fn validate(&self) -> Result<(), String> {
        if !self.no_rate_limit {
            TokenBucket { per_second: self.rate, burst: self.burst }.check("--rate", "--burst")?;
        }
        Ok(())
    }

    /// The emulator configuration these flags describe.
    pub fn to_config(&self) -> EmulatorConfig {
        let rate_limit = if self.no_rate_limit {
            RateLimitConfig::disabled()
        } else {
            RateLimitConfig {
                idle_poll_interval: Some(self.idle_poll_interval),
                bucket: Some(TokenBucket { per_second: self.rate, burst: self.burst }),
            }
        };
        EmulatorConfig {
            host: self.host,
            port: self.port,
            keys: (0..usize::from(self.keys)).map(ApiKey::generate).collect(),
            initial_events: self.events,
            seed: self.seed,
            rate_limit,
            retention: self.retention,
            timestamp_window: self.window,
            clock_offset_ms: self.clock_offset_ms,
            acknowledged_history: self.acknowledged_history,
            path_prefix: crate::config::normal_prefix(&self.path_prefix),
        }
    }
}

/// Parses `72h`, `5m`, `30s`, `250ms`, `1d`; a bare number means seconds.
///
/// ```
/// use smartai_emulator::cli::parse_duration;
/// use std::time::Duration;
/// assert_eq!(parse_duration("250ms"), Ok(Duration::from_millis(250)));
/// assert_eq!(parse_duration("72h"), Ok(Duration::from_secs(72 * 3600)));
/// assert!(parse_duration("soon").is_err());
/// ```
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let t = s.trim();
    let split = t.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let value: f64 =
        number.parse().map_err(|_| format!("invalid duration {s:?}: expected e.g. 72h, 5m, 30s or 250ms"))?;
    let seconds = match unit.trim() {
        "" | "s" | "sec" | "secs" => value,
        "ms" => value / 1000.0,
        "m" | "min" | "mins" => value * 60.0,
        "h" | "hr" | "hrs" => value * 3600.0,
        "d" | "day" | "days" => value * 86_400.0,
        other => {
            return Err(format!("invalid duration {s:?}: unknown unit {other:?} (use ms, s, m, h or d)"));
        }
    };
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("invalid duration {s:?}: {e}"))
}

fn parse_fraction(s: &str) -> Result<f64, String> {
    match s.trim().parse::<f64>() {
        Ok(p) if (0.0..=1.0).contains(&p) => Ok(p),
        _ => Err(format!("expected a number between 0 and 1, got {s:?}")),
    }
}

fn parse_events(s: &str) -> Result<usize, String> {
    let n = s.trim().parse::<u64>().map_err(|_| format!("expected a number of events, got {s:?}"))?;
    crate::generator::generated_count("--events", n)
}

/// Starts the emulator, prints the ready line to stdout and serves until SIGINT/SIGTERM.
pub async fn run_cli(args: Args) -> std::io::Result<()> {
    let stop = wait_for_signal()?;
    run_until(args, &mut std::io::stdout(), stop).await
}

/// [`run_cli`] with the ready line written to `out` and `stop` in place of the signals.
pub async fn run_until<W, F>(args: Args, out: &mut W, stop: F) -> std::io::Result<()>
where
    W: Write,
    F: Future<Output = ()>,
{
    // Both binaries check the flags first (exit 2, naming the flag); `Emulator::start`
    // refuses a bucket that locks everyone out for any other caller.
    let emulator = Emulator::start(args.to_config()).await?;
    if args.fault_rate > 0.0 {
        emulator.set_faults(realistic_mix(args.fault_rate));
        tracing::info!(rate = args.fault_rate, "fault injection on");
    }
    for key in emulator.keys().iter().skip(1) {
        tracing::info!(api_key = %key.api_key, secret_key = %key.secret_key, "extra key");
    }
    let ready = serde_json::json!({
        "url": emulator.url(),
        "apiKey": emulator.api_key(),
        "secretKey": emulator.secret_key(),
    });
    writeln!(out, "{ready}")?;
    out.flush()?;
    stop.await;
    tracing::info!("shutting down");
    emulator.shutdown().await;
    Ok(())
}

/// Installs the handlers now, so a signal that arrives right after the ready line is
/// not lost to the default action, and returns a future that resolves on the first one.
fn wait_for_signal() -> std::io::Result<impl Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        Ok(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
        })
    }
}

/// Whether log lines on stderr may carry colour codes: only for a terminal, and not when
/// `NO_COLOR` is set to anything (no-color.org). A file or pipe gets plain text.
pub fn stderr_wants_colour() -> bool {
    std::io::IsTerminal::is_terminal(&std::io::stderr()) && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Logs to stderr, `info` unless `RUST_LOG` says otherwise. For the binary; a host CLI
/// sets up its own subscriber.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(stderr_wants_colour())
        // A stderr that cannot be written loses the record, not the server: by default the
        // fmt layer reports a failed write with `eprintln!`, which panics on that stderr.
        .log_internal_errors(false)
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_map_to_config() {
        let args = Args::try_parse_from([
            "smartai-emulator",
            "--events",
            "5",
            "--keys",
            "3",
            "--no-rate-limit",
            "--retention",
            "10s",
            "--clock-offset-ms",
            "-60000",
            "--acknowledged-history",
            "7",
        ])
        .unwrap();
        let c = args.to_config();
        assert_eq!(c.initial_events, 5);
        assert_eq!(c.keys.len(), 3);
        assert_eq!(c.rate_limit, RateLimitConfig::disabled());
        assert_eq!(c.retention, Duration::from_secs(10));
        assert_eq!(c.clock_offset_ms, -60_000);
        assert_eq!(c.acknowledged_history, 7);
        assert_eq!(Args::try_parse_from(["x"]).unwrap().to_config().acknowledged_history, 100_000);
        assert!(Args::try_parse_from(["x", "--acknowledged-history", "-1"]).is_err());
        assert!(Args::try_parse_from(["x", "--fault-rate", "1.5"]).is_err());
        assert!(Args::try_parse_from(["x", "--keys", "0"]).is_err());
    }

    #[test]
    fn a_bucket_that_locks_everyone_out_is_refused_naming_the_value() {
        for (flags, message) in [
            (&["--rate", "0"][..], "--rate must be a number of requests per second above 0, got 0"),
            (&["--rate", "-1"], "--rate must be a number of requests per second above 0, got -1"),
            (&["--rate", "NaN"], "--rate must be a number of requests per second above 0, got NaN"),
            (&["--rate", "inf"], "--rate must be a number of requests per second above 0, got inf"),
            (&["--burst", "0"], "--burst must be at least 1 (requests that may come back to back), got 0"),
        ] {
            let args = Args::try_parse_from(["x"].iter().chain(flags)).unwrap();
            assert_eq!(args.validate(), Err(message.to_string()), "{flags:?}");
        }
        // Off anyway: nothing to refuse.
        assert!(Args::try_parse_from(["x", "--rate", "0", "--no-rate-limit"]).unwrap().validate().is_ok());
        assert!(Args::try_parse_from(["x", "--rate", "0.5", "--burst", "1"]).unwrap().validate().is_ok());
    }
}
