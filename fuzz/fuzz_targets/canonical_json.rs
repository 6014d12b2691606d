//! Any JSON document through canonical JSON: every rule of protocol section 2 must hold.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

#[path = "../../core/tests/properties/mod.rs"]
mod properties;

fuzz_target!(|data: &[u8]| {
    let Ok(value) = serde_json::from_slice::<Value>(data) else { return };
    if let Err(reason) = properties::check_canonical(&value) {
        panic!("{reason}\ninput: {:?}", String::from_utf8_lossy(data));
    }
});
