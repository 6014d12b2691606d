//! A fetch response body, as a 200 brings it, through the client's own decoding: envelope
//! unwrapping, then the batch. The input is used twice: whole, as the body, and split at
//! 0x00 bytes into events that are placed, verbatim, into a well-formed batch, which must
//! then decode with every one of them.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::value::RawValue;

#[path = "../../core/tests/properties/mod.rs"]
mod properties;

fuzz_target!(|data: &[u8]| {
    if let Err(reason) = properties::check_fetch_body(data) {
        panic!("{reason}\nbody: {:?}", String::from_utf8_lossy(data));
    }

    let events: Vec<&str> = data
        .split(|b| *b == 0)
        .filter_map(|part| std::str::from_utf8(part).ok())
        // serde_json's raw values accept what the client's batch decoding accepts.
        .filter(|text| serde_json::from_str::<&RawValue>(text).is_ok())
        .collect();
    if events.is_empty() {
        return;
    }
    let pending = data.len() as u64;
    let mut body = format!("{{\"events\":[{}],\"pendingCount\":{pending}}}", events.join(","));
    if data[0] & 1 == 1 {
        body = format!("{{\"success\":true,\"data\":{body}}}");
    }
    match properties::check_fetch_body(body.as_bytes()) {
        Ok(Some(n)) if n == events.len() => {}
        Ok(other) => panic!("{} events sent, {other:?} decoded\nbody: {body:?}", events.len()),
        Err(reason) => panic!("{reason}\nbody: {body:?}"),
    }
});
