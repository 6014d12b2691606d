//! SIGINT/SIGTERM → a cancellation token. The first signal asks for a graceful stop (the
//! batch in hand is finished and acknowledged); a second one exits at once with 130.

use tokio_util::sync::CancellationToken;

/// Installs the handlers now (so an early signal is not lost to the default action) and
/// returns the token they cancel.
pub fn stop_token() -> anyhow::Result<CancellationToken> {
    let token = CancellationToken::new();
    let cancel = token.clone();
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
            eprintln!("second signal: exiting now; unacknowledged events will be delivered again");
            std::process::exit(130);
        });
    }
    #[cfg(not(unix))]
    {
        tokio::spawn(async move {
            let _ = tokio::signal::ctrl_c().await;
            cancel.cancel();
            let _ = tokio::signal::ctrl_c().await;
            std::process::exit(130);
        });
    }
    Ok(token)
}
