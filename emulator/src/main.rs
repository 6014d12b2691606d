//! `smartai-emulator`: see `smartai-emulator --help`.

use clap::Parser;
use smartai_emulator::cli::{Args, init_tracing, run_cli};
use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    init_tracing();
    match run_cli(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("smartai-emulator: {e}");
            ExitCode::FAILURE
        }
    }
}
