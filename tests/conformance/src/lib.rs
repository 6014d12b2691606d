//! The conformance scenarios live in `scenarios/`; the Rust runner is `tests/conformance.rs`.
