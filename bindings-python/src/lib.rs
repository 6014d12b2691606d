//! The native half of the `smartai_events` Python package. The Python facade in
//! `python/smartai_events/` wraps these classes; every rule lives in the core crate.

use pyo3::prelude::*;

mod client;
mod convert;
mod dispatch;
#[cfg(feature = "emulator")]
mod emulator;
mod errors;
mod logging;
mod loop_pump;
mod returned;
mod runtime;
mod thread_state;

// Decoding a batch makes many small allocations (every string of every event), and the
// system allocator was a fifth of the extension's CPU time; Python's own objects are not
// affected (they come from Python's allocator).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Called at interpreter exit: stop forwarding logs and stop the runtime's threads.
///
/// The wait happens with the GIL released: the runtime's thread may be in a call into
/// Python (forwarding a log record, or waking an event loop that has no `add_reader`) and
/// needs the GIL to finish it. Were the interpreter
/// to finalize under it, CPython would end that thread mid-unwind and abort the process.
#[pyfunction]
fn _shutdown(py: Python<'_>) {
    logging::stop();
    py.detach(runtime::shutdown);
}

/// Masks an API key as `wc_ak_test_…1234`.
#[pyfunction]
fn mask_api_key(api_key: &str) -> String {
    smartai_events::mask_api_key(api_key)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    logging::install();
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<client::NativeClient>()?;
    m.add_class::<client::NativeBatches>()?;
    m.add_class::<dispatch::Pending>()?;
    m.add_class::<convert::RawEvents>()?;
    #[cfg(feature = "emulator")]
    m.add_class::<emulator::NativeEmulator>()?;
    m.add_function(wrap_pyfunction!(_shutdown, m)?)?;
    m.add_function(wrap_pyfunction!(mask_api_key, m)?)?;
    m.add_function(wrap_pyfunction!(convert::_bench_convert, m)?)?;
    Ok(())
}
