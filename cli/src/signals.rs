//! SIGINT/SIGTERM → a cancellation token. The first signal asks for a graceful stop (the
//! batch in hand is finished and acknowledged); a second one exits at once with 130.

use crate::output::Output;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// A second signal ended the process before the stop finished.
#[derive(Debug)]
pub struct Interrupted;

impl std::fmt::Display for Interrupted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("second signal: exiting now; unacknowledged events will be delivered again")
    }
}

impl std::error::Error for Interrupted {}

/// Installs the handlers now (so an early signal is not lost to the default action) and
/// returns the token they cancel. A second signal is reported on `out` (an `error` line
/// with code `INTERRUPTED` under `--json`), then the process exits with 130.
pub fn stop_token(out: &Output) -> anyhow::Result<CancellationToken> {
    let token = CancellationToken::new();
    let cancel = token.clone();
    let out = out.clone();
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate())?;
        let mut int = signal(SignalKind::interrupt())?;
        tokio::spawn(async move {
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            tracing::info!("stopping: finishing the batch in hand and flushing acknowledgements");
            cancel.cancel();
            tokio::select! {
                _ = term.recv() => {}
                _ = int.recv() => {}
            }
            exit_interrupted(&out);
        });
    }
    #[cfg(not(unix))]
    {
        tokio::spawn(async move {
            let _ = tokio::signal::ctrl_c().await;
            cancel.cancel();
            let _ = tokio::signal::ctrl_c().await;
            exit_interrupted(&out);
        });
    }
    Ok(token)
}

/// How long the report of a second signal may take before the process exits without it.
const REPORT_WAIT: Duration = Duration::from_millis(500);

/// Reports the second signal, then exits with 130 whether or not the report got out. The
/// process may be stuck writing to a pipe that nobody reads, holding the stdout lock; the
/// report then waits for ever on a thread of its own, and the exit does not.
fn exit_interrupted(out: &Output) -> ! {
    let out = out.clone();
    let (reported, wait) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        out.error(&anyhow::Error::new(Interrupted), 130);
        let _ = reported.send(());
    });
    let _ = wait.recv_timeout(REPORT_WAIT);
    // `exit` flushes stdout only if it can take the lock without waiting.
    std::process::exit(130);
}
