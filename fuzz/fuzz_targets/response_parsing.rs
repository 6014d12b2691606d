//! A response (status, `Retry-After` text, body) through the client's classification: the
//! status table, the retry floor, the server's message and its length.
//!
//! Input layout: two bytes of status (big-endian), one byte of header length `n` (0xff
//! means no header), `n` bytes of header text, then the body.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::time::{Duration, SystemTime};

#[path = "../../core/tests/properties/mod.rs"]
mod properties;

fuzz_target!(|data: &[u8]| {
    let [hi, lo, len, rest @ ..] = data else { return };
    let status = u16::from_be_bytes([*hi, *lo]);
    let (header, body) = if *len == 0xff {
        (None, rest)
    } else {
        let n = (*len as usize).min(rest.len());
        (Some(String::from_utf8_lossy(&rest[..n]).into_owned()), &rest[n..])
    };
    // A fixed clock, so that a crash found with an HTTP-date replays the same way.
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_000_000);
    if let Err(reason) = properties::check_response(status, body, header.as_deref(), now) {
        panic!("{reason}\nstatus {status}, retry-after {header:?}, body {:?}", String::from_utf8_lossy(body));
    }
});
