//! The `smartai-events` binary; everything lives in the library so tests can reach it.

fn main() -> std::process::ExitCode {
    smartai_events_cli::main()
}
