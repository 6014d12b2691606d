//! What the user sees: human lines on stderr (around an optional progress bar) or, with
//! `--json`, one JSON object per line on stdout.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde_json::{Value, json};
use std::io::{IsTerminal, Write};
use std::time::Duration;

#[derive(Clone)]
pub struct Output {
    json: bool,
    /// Whether stderr is a terminal: progress bars only make sense there.
    tty: bool,
}

/// One line for people on stderr. A stderr that cannot be written (closed, or a pipe whose
/// reader went away, as in `2>&1 | head -1`) loses the line, not the run: `eprintln!`
/// would panic there and end the process with 101, a batch possibly in hand.
fn to_stderr(line: &str) {
    let mut stderr = std::io::stderr().lock();
    let _ = writeln!(stderr, "{line}");
}

impl Output {
    pub fn new(json: bool) -> Self {
        Output { json, tty: std::io::stderr().is_terminal() }
    }

    pub fn is_json(&self) -> bool {
        self.json
    }

    /// One status line: `human` for people (stderr), `machine` for `--json` (stdout; a
    /// `"type"` field and a timestamp are expected in it, `ts` is added).
    pub fn status(&self, bar: Option<&ProgressBar>, human: impl AsRef<str>, mut machine: Value) {
        if self.json {
            if let Value::Object(map) = &mut machine {
                map.insert("ts".into(), json!(chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)));
            }
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{machine}");
            let _ = stdout.flush();
            return;
        }
        let line = format!("{} {}", chrono::Local::now().format("%H:%M:%S"), human.as_ref());
        match bar {
            Some(bar) if !bar.is_hidden() => bar.suspend(|| to_stderr(&line)),
            _ => to_stderr(&line),
        }
    }

    /// A final result: plain text on stdout, or one JSON line with `--json`.
    pub fn result(&self, human: impl AsRef<str>, machine: Value) {
        let mut stdout = std::io::stdout().lock();
        if self.json {
            let _ = writeln!(stdout, "{machine}");
        } else {
            let _ = writeln!(stdout, "{}", human.as_ref());
        }
        let _ = stdout.flush();
    }

    /// Writes `json`, a JSON text known to be valid, as one line of `--json` output,
    /// keeping its exact text (numbers beyond a double's precision included). A raw newline
    /// can only be whitespace between tokens in valid JSON, so dropping it keeps the value.
    pub fn json_text_line(&self, json: &str) {
        let mut stdout = std::io::stdout().lock();
        if json.contains(['\n', '\r']) {
            let _ = writeln!(stdout, "{}", json.replace(['\n', '\r'], ""));
        } else {
            let _ = writeln!(stdout, "{json}");
        }
        let _ = stdout.flush();
    }

    /// Reports a failure. The message is the error chain; secrets never enter errors.
    pub fn error(&self, error: &anyhow::Error, code: u8) {
        if self.json {
            let line = json!({
                "type": "error",
                "code": crate::exit::code_name(error),
                "exitCode": code,
                "message": message(error),
            });
            let mut stdout = std::io::stdout().lock();
            let _ = writeln!(stdout, "{line}");
            let _ = stdout.flush();
        } else {
            to_stderr(&format!("error: {}", message(error)));
        }
    }

    /// A progress bar with a known total, on stderr; hidden unless stderr is a terminal
    /// and the output is for people.
    pub fn progress_bar(&self, enabled: bool) -> ProgressBar {
        if self.json || !self.tty || !enabled {
            return ProgressBar::hidden();
        }
        // No length until the first batch says how many are pending.
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} [{elapsed_precise}] {wide_bar} {pos}/{len} events ({rate}) {msg}")
                .map(|s| s.with_key("rate", rate))
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }

    /// A counter without a total, for the long-running poller, whose core loop does not
    /// report the queue length.
    pub fn spinner(&self, enabled: bool) -> ProgressBar {
        if self.json || !self.tty || !enabled {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {pos} events {msg} ({rate})")
                .map(|s| s.with_key("rate", rate))
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar
    }
}

/// Events per second without decimals ("1093/s" rather than "1,093.2099/s").
fn rate(state: &indicatif::ProgressState, w: &mut dyn std::fmt::Write) {
    let _ = write!(w, "{:.0}/s", state.per_sec());
}

/// The error chain joined with ": ", skipping a cause whose text the previous message
/// already quotes (database drivers repeat their source in their own message).
pub fn message(error: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in error.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
}
