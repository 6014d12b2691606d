//! Python thread states for the runtime's own threads.
//!
//! A thread that Python did not start has no thread state, so every `Python::attach` on
//! it creates one and deletes it again (an allocation and a release of its frame stack,
//! that is `mmap`, page faults and `munmap`). An asyncio drain attaches several times per
//! batch on the worker, and those faults were a tenth of the process's CPU.

use pyo3::prelude::*;
use std::cell::Cell;

thread_local! {
    static KEPT: Cell<bool> = const { Cell::new(false) };
}

/// Keeps this thread's Python thread state for the life of the thread. Called with the
/// GIL held (inside an attach, so never while the interpreter is finalizing): one extra
/// `PyGILState_Ensure` that is never released keeps the state's count above zero, so
/// later attaches reuse it. Python clears the states of threads still around at exit.
pub fn keep(_py: Python<'_>) {
    KEPT.with(|kept| {
        if !kept.get() {
            // SAFETY: the GIL is held (the `Python` token proves it); the matching release
            // is deliberately never made.
            unsafe {
                pyo3::ffi::PyGILState_Ensure();
            }
            kept.set(true);
        }
    });
}
