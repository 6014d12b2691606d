//! The core's `tracing` records, handed to one JavaScript function per Node environment
//! (the facade's, which passes them to the logger set with `setLogger`, `console` by
//! default).
//!
//! Each environment (the main thread, each `Worker`) has its own route: its function and
//! level. A record goes to the environment whose call made it, so a `Worker` that loads the
//! package, or sets a logger of its own, neither takes the main thread's records nor loses
//! them when it exits. The calls carry their environment as a task-local (`scoped`);
//! records made outside any call (the embedded emulator's server) go to the oldest
//! environment that has a route.
//!
//! A record below every route's level costs one atomic load, with no formatting and no
//! call into JavaScript. The functions are weak thread-safe functions: they never keep a
//! finished script alive, and a record made after an environment began to exit is dropped.

use crate::error::coded;
use napi::bindgen_prelude::Function;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::{Env, Result, Status};
use napi_derive::napi;
use smartai_events::ErrorCode;
use smartai_events::log_bridge::{LogBridge, LogSink};
use std::cell::Cell;
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use tracing::{Level, Metadata};
use tracing_subscriber::prelude::*;

/// One record, which JavaScript receives as one array `[level, text]`, level one of `error`,
/// `warn`, `info`, `debug`.
type Sink = ThreadsafeFunction<(String, String), (), (String, String), Status, false, true>;

struct Route {
    sink: Arc<Sink>,
    /// 0 = off, then error, warn, info, debug, trace.
    threshold: u8,
}

/// The routes by environment; an environment's ID is given on its JavaScript thread.
static ROUTES: Mutex<BTreeMap<u64, Route>> = Mutex::new(BTreeMap::new());
/// The highest threshold of all routes: below it, no route wants a record.
static HIGHEST: AtomicU8 = AtomicU8::new(0);
static NEXT_ENV: AtomicU64 = AtomicU64::new(1);

thread_local! {
    /// This JavaScript thread's environment: each Node environment has a thread of its own.
    static THIS_ENV: u64 = NEXT_ENV.fetch_add(1, Ordering::Relaxed);
    /// Whether this environment's route is removed when the environment is torn down.
    static CLEANUP_HOOKED: Cell<bool> = const { Cell::new(false) };
}

tokio::task_local! {
    /// The environment whose call a task runs.
    static ORIGIN: u64;
}

const LEVELS: [&str; 6] = ["off", "error", "warn", "info", "debug", "trace"];

fn rank(level: &Level) -> u8 {
    match *level {
        Level::ERROR => 1,
        Level::WARN => 2,
        Level::INFO => 3,
        Level::DEBUG => 4,
        Level::TRACE => 5,
    }
}

fn routes() -> MutexGuard<'static, BTreeMap<u64, Route>> {
    ROUTES.lock().unwrap_or_else(|e| e.into_inner())
}

/// The environment of the current call: the task's, or, on a JavaScript thread, its own.
pub fn origin() -> u64 {
    ORIGIN.try_with(|origin| *origin).unwrap_or_else(|_| THIS_ENV.with(|id| *id))
}

/// Runs `future` as a call of the current environment (taken now, on the calling thread),
/// so that its records reach that environment's logger.
pub fn scoped<F: Future>(future: F) -> impl Future<Output = F::Output> {
    ORIGIN.scope(origin(), future)
}

/// [`scoped`] for an environment taken earlier, by an object that outlives the call that
/// made it.
pub fn scoped_in<F: Future>(origin: u64, future: F) -> impl Future<Output = F::Output> {
    ORIGIN.scope(origin, future)
}

fn set_route(env: u64, route: Option<Route>) {
    let mut routes = routes();
    match route {
        Some(route) => routes.insert(env, route),
        None => routes.remove(&env),
    };
    HIGHEST.store(routes.values().map(|r| r.threshold).max().unwrap_or(0), Ordering::Relaxed);
}

/// Where this environment's records go from now on, and from which level (`off` for
/// none). Replaces the environment's previous function; other environments keep theirs.
#[napi]
pub fn set_log_sink(env: Env, sink: Option<Function<(String, String), ()>>, level: String) -> Result<()> {
    let threshold = LEVELS.iter().position(|l| *l == level).ok_or_else(|| {
        coded(ErrorCode::InvalidArgument, format!("level must be one of {}, got {level:?}", LEVELS.join(", ")))
    })? as u8;
    let id = THIS_ENV.with(|id| *id);
    if !CLEANUP_HOOKED.with(Cell::get) {
        env.add_env_cleanup_hook(id, |id| set_route(id, None))?;
        CLEANUP_HOOKED.with(|hooked| hooked.set(true));
    }
    let route = match sink {
        Some(f) if threshold > 0 => Some(Route {
            sink: Arc::new(f.build_threadsafe_function().callee_handled::<false>().weak::<true>().build()?),
            threshold,
        }),
        _ => None,
    };
    set_route(id, route);
    Ok(())
}

/// The route of the current record: its call's environment, or for a record made outside
/// any call, the oldest environment with a route.
fn with_route<T>(f: impl FnOnce(&Route) -> T) -> Option<T> {
    let routes = routes();
    let route = match ORIGIN.try_with(|origin| *origin) {
        Ok(origin) => routes.get(&origin),
        Err(_) => routes.values().next(),
    };
    route.map(f)
}

/// Installs the bridge as the global subscriber, unless the process has one already.
pub fn install() {
    let _ = tracing::subscriber::set_global_default(tracing_subscriber::registry().with(LogBridge(JsLog)));
}

struct JsLog;

/// The package's own records (core, binding, emulator), not those of the HTTP stack.
fn ours(target: &str) -> bool {
    target.starts_with("smartai_")
}

impl LogSink for JsLog {
    fn may_want(&self, meta: &Metadata<'_>) -> bool {
        ours(meta.target())
    }

    fn wants(&self, level: &Level, target: &str) -> bool {
        let level = rank(level);
        ours(target) && level <= HIGHEST.load(Ordering::Relaxed) && with_route(|r| level <= r.threshold) == Some(true)
    }

    fn emit(&self, level: &Level, target: &str, mut text: String) {
        let Some(sink) = with_route(|r| r.sink.clone()) else { return };
        // `trace` goes to the logger's `debug`: `console.trace` would print a stack.
        let level = LEVELS[rank(level).min(4) as usize];
        if target.starts_with("smartai_emulator") {
            text.insert_str(0, "emulator: ");
        }
        // Non-blocking: a full queue or a closing Node drops the record rather than
        // stalling the poller.
        let _ = sink.call((level.to_string(), text), ThreadsafeFunctionCallMode::NonBlocking);
    }
}
