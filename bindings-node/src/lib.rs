//! Node.js bindings of `smartai-events` (the npm package `smartai-events`).
//!
//! The native module is deliberately thin: it converts JavaScript values to the JSON the
//! core's loose-input entry points take, hands results back as JSON text, and encodes
//! errors for the JavaScript facade (`index.js`), which rethrows them as typed
//! `SmartAIError`s. Every rule (validation, signing, retries, drain, run) lives in the core.

#![deny(clippy::all)]
// In the unit-test build nothing registers the exported functions with Node, so the ones
// only JavaScript calls look unused there.
#![cfg_attr(test, allow(dead_code))]

mod client;
mod convert;
#[cfg(feature = "emulator")]
mod emulator;
mod error;
mod logging;

// Decoding a batch makes many small allocations (every string of every event), and the
// system allocator was a large share of the addon's CPU time; JavaScript values are not
// affected (V8 has its own heap).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub use client::{NativeBatches, NativeClient, StopToken};
#[cfg(feature = "emulator")]
pub use emulator::NativeEmulator;

use napi_derive::napi;

/// The value that starts the message of every error the facade translates.
#[napi]
pub const ERROR_MARKER: &str = error::MARKER;

/// Masks an API key for display (`wc_ak_test_…1234`).
#[napi]
pub fn mask_api_key(api_key: String) -> String {
    smartai_events::mask_api_key(&api_key)
}

/// One worker thread for the addon's tokio runtime instead of one per core: a client makes
/// one request at a time, and with one worker the HTTP connection's task, the request and
/// the I/O driver never wake each other across threads. Half the context switches of a
/// drain and about a tenth more events/s than two workers (bench/RESULTS.md).
#[napi_derive::module_init]
fn init() {
    logging::install();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("smartai-events")
        .enable_all()
        .build();
    // Should this fail, napi-rs builds its default runtime on first use.
    if let Ok(rt) = rt {
        napi::bindgen_prelude::create_custom_tokio_runtime(rt);
    }
}
