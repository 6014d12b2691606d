//! The `smartai-events` command line: `sync` (events into SQLite or PostgreSQL), `forward`
//! (events to an HTTP endpoint), `events` / `ack`, `demo` and `emulator`.
//!
//! Every rule about the platform (signing, retries, the idle-poll gate, drain, run, dead
//! letters) lives in the core crate `smartai-events`; this crate only wires it to a
//! database, an HTTP endpoint and a terminal.

pub mod args;
mod client;
mod demo;
pub mod exit;
mod fleet;
mod forward;
mod once;
mod output;
mod peek;
mod signals;
mod status;
pub mod store;
mod sync;

use args::{Cli, Command};
use clap::Parser;
use output::Output;
use std::process::ExitCode;

/// Parses the command line, runs the command, and maps the outcome to the documented exit code.
pub fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // clap prints help/version to stdout with exit 0, and usage errors with exit 2.
            let _ = e.print();
            // The command line did not parse, so whether --json was asked for is read off it:
            // a usage error is then also the promised JSON line on stdout.
            if e.use_stderr() && std::env::args_os().skip(1).any(|a| a == "--json") {
                let message = e.render().to_string();
                // The first paragraph: the rest is clap's hint to try --help.
                let message = message.trim().trim_start_matches("error: ");
                let message = message.split("\n\n").next().unwrap_or(message);
                Output::new(true).error(&exit::usage(message.to_string()), e.exit_code() as u8);
            }
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    // The emulator's own info lines (its URL, extra keys) are its output; keep them.
    let emulator = matches!(cli.command, Command::Emulator(_));
    init_tracing(cli.verbose, cli.json, emulator);
    let out = Output::new(cli.json);
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            out.error(&anyhow::anyhow!("cannot start the async runtime: {e}"), exit::RUNTIME);
            return ExitCode::from(exit::RUNTIME);
        }
    };
    let result = runtime.block_on(run(cli.command, out.clone()));
    // Do not wait for stray blocking tasks (a stdin reader, a hung socket) at exit.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            let code = exit::code_of(&e);
            out.error(&e, code);
            ExitCode::from(code)
        }
    }
}

async fn run(command: Command, out: Output) -> anyhow::Result<()> {
    match command {
        Command::Sync(args) => sync::run(args, out).await,
        Command::Forward(args) => forward::run(args, out).await,
        Command::Events(args) => peek::events(args, out).await,
        Command::Ack(args) => peek::ack(args, out).await,
        Command::Demo(args) => demo::run(args, out).await,
        Command::Emulator(args) => {
            args.validate().map_err(crate::exit::usage)?;
            smartai_emulator::cli::run_cli(args).await.map_err(Into::into)
        }
    }
}

/// Logs to stderr. By default only this CLI's own info lines and everyone's warnings: the
/// core's per-cycle info lines would repeat the CLI's status lines. Payloads are never
/// logged at info.
fn init_tracing(verbose: u8, json: bool, emulator: bool) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 if emulator => "info",
        0 => "warn,smartai_events_cli=info",
        1 => "info,smartai_events=debug,smartai_events_cli=debug,smartai_emulator=debug",
        _ => "debug,smartai_events=trace,smartai_events_cli=trace,smartai_emulator=trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    // A stderr that cannot be written loses the record, not the run: by default the fmt
    // layer reports a failed write with `eprintln!`, which panics on that same stderr.
    let builder =
        tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).log_internal_errors(false);
    let builder = builder.with_ansi(smartai_emulator::cli::stderr_wants_colour());
    let _ = if json { builder.json().try_init() } else { builder.with_target(verbose > 0).try_init() };
}
