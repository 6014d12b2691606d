//! The tokio runtime every call runs on, safe across `fork()`.
//!
//! A forked child inherits the parent's memory but none of its threads, so the parent's
//! runtime is dead there. The runtime is therefore keyed by process ID: a child that makes
//! its first call builds a fresh runtime (the parent's is forgotten, never dropped, since
//! dropping would wait for threads that do not exist in the child).

use std::sync::Mutex;
use tokio::runtime::{Handle, Runtime};

static RUNTIME: Mutex<Option<(u32, Runtime)>> = Mutex::new(None);

/// The runtime's handle for this process, building the runtime on first use.
pub fn handle() -> Handle {
    let pid = std::process::id();
    let mut guard = RUNTIME.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((owner, rt)) = guard.as_ref()
        && *owner == pid
    {
        return rt.handle().clone();
    }
    if let Some(old) = guard.take() {
        // Inherited from the parent through fork(): its worker threads are gone.
        std::mem::forget(old);
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("smartai-events")
        .enable_all()
        .build()
        .expect("cannot start the tokio runtime");
    let handle = rt.handle().clone();
    *guard = Some((pid, rt));
    handle
}

/// Stops the runtime, giving its workers a moment to finish what they are doing (called at
/// interpreter exit, without the GIL).
pub fn shutdown() {
    let taken = RUNTIME.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some((owner, rt)) = taken {
        if owner == std::process::id() {
            rt.shutdown_timeout(std::time::Duration::from_secs(2));
        } else {
            std::mem::forget(rt);
        }
    }
}
