//! `smartai-emulator`: see `smartai-emulator --help`.

use clap::Parser;
use smartai_emulator::cli::{Args, init_tracing, run_cli};
use std::io::Write;
use std::process::ExitCode;

// A queue of many ~1 kB event texts, freed in bursts of a hundred by each acknowledge
// while every fetch asks for one ~100 kB response buffer: the system allocator spent a
// fifth of the server's CPU walking its fragmented free lists (bench/RESULTS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

// One thread: requests are short and mostly I/O, and on a current-thread runtime a
// connection's tasks never wake each other across threads; a multi-threaded runtime cost
// a third more CPU per served event (bench/RESULTS.md). Blocking work (generating many
// events) goes to the blocking pool.
#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    if let Err(e) = args.validate() {
        // Exit 2 with clap's usage line, like any other bad flag.
        <Args as clap::CommandFactory>::command().error(clap::error::ErrorKind::ValueValidation, e).exit();
    }
    init_tracing();
    match run_cli(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // Not eprintln!, which panics (exit 101) when stderr is closed.
            let _ = writeln!(std::io::stderr(), "smartai-emulator: {e}");
            ExitCode::FAILURE
        }
    }
}
