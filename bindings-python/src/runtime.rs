//! The tokio runtime every call runs on, safe across `fork()`.
//!
//! A forked child inherits the parent's memory but none of its threads, so the parent's
//! runtime is dead there. The runtime is therefore keyed by process ID: a child that makes
//! its first call builds a fresh runtime (the parent's is forgotten, never dropped, since
//! dropping would wait for threads that do not exist in the child).

use std::sync::Mutex;
use tokio::runtime::{Handle, Runtime};

/// The shared runtime: a current-thread runtime that one thread of its own drives.
struct Shared {
    owner: u32,
    handle: Handle,
    stop: tokio::sync::oneshot::Sender<()>,
    thread: std::thread::JoinHandle<()>,
}

static RUNTIME: Mutex<Option<Shared>> = Mutex::new(None);

/// The runtime's handle for this process, building the runtime on first use.
pub fn handle() -> Handle {
    let pid = std::process::id();
    let mut guard = RUNTIME.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(shared) = guard.as_ref()
        && shared.owner == pid
    {
        return shared.handle.clone();
    }
    if let Some(old) = guard.take() {
        // Inherited from the parent through fork(): its thread is gone.
        std::mem::forget(old);
    }
    // One thread: a client makes one request at a time, and on one thread the HTTP
    // connection's task, the request and the I/O driver never wake each other across
    // threads. A current-thread runtime rather than a one-worker pool, since a pool's worker
    // still wakes its own driver through the eventfd whenever a task is woken from outside
    // (once a batch, for the handler's reply), and two workers cost a third more CPU per
    // drained event, most of it in the kernel switching threads (bench/RESULTS.md).
    // Nothing here blocks the thread: the calls that wait do so on the caller's thread,
    // without the GIL.
    let rt =
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("cannot start the tokio runtime");
    let handle = rt.handle().clone();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("smartai-events".into())
        .spawn(move || {
            rt.block_on(async {
                let _ = stopped.await;
            });
            // Gives the tasks still running a moment to finish what they are doing.
            rt.shutdown_timeout(std::time::Duration::from_secs(2));
        })
        .expect("cannot start the runtime's thread");
    *guard = Some(Shared { owner: pid, handle: handle.clone(), stop, thread });
    handle
}

/// Stops the runtime, giving its tasks a moment to finish what they are doing (called at
/// interpreter exit, without the GIL).
pub fn shutdown() {
    let taken = RUNTIME.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(shared) = taken {
        if shared.owner == std::process::id() {
            let _ = shared.stop.send(());
            let _ = shared.thread.join();
        } else {
            std::mem::forget(shared);
        }
    }
}

/// The runtime of one blocking client: a current-thread runtime that the calling thread
/// drives itself while it waits, so that a blocking drain never hands work between
/// threads (the fetch, the handler, which must run on the caller's thread, and the
/// acknowledge all happen on it). Its connections live on it, so one client keeps to one
/// such runtime; a forked child builds its own, as it builds its own client.
pub struct LocalRuntime {
    rt: Option<Runtime>,
}

impl LocalRuntime {
    pub fn new() -> std::io::Result<Self> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        Ok(LocalRuntime { rt: Some(rt) })
    }

    pub fn get(&self) -> &Runtime {
        self.rt.as_ref().expect("the runtime is only taken when dropped")
    }
}

impl Drop for LocalRuntime {
    fn drop(&mut self) {
        // Without waiting: the last reference may go away anywhere, even inside a task.
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

/// A blocking client's `LocalRuntime`, built on first use and again after `fork()`.
#[derive(Default)]
pub struct LocalCell(Mutex<Option<(u32, std::sync::Arc<LocalRuntime>)>>);

impl LocalCell {
    pub fn get(&self) -> std::io::Result<std::sync::Arc<LocalRuntime>> {
        let pid = std::process::id();
        let mut guard = self.0.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((owner, rt)) = guard.as_ref()
            && *owner == pid
        {
            return Ok(rt.clone());
        }
        if let Some((_, old)) = guard.take() {
            // The parent's: its sockets are shared with the parent, leave them alone.
            std::mem::forget(old);
        }
        let rt = std::sync::Arc::new(LocalRuntime::new()?);
        *guard = Some((pid, rt.clone()));
        Ok(rt)
    }
}
