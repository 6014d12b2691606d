//! Response classification (protocol section 5) as properties: any status, body and
//! `Retry-After` text is classified as the status table says, without panicking, and every
//! error message stays short.

mod properties;
mod strategies;

use proptest::prelude::*;
use serde_json::json;
use smartai_events::retry::parse_retry_after;
use std::time::{Duration, SystemTime};
use strategies::{json_value, tricky_string};

fn status() -> impl Strategy<Value = u16> {
    prop_oneof![
        4 => prop_oneof![
            Just(200u16), Just(204), Just(400), Just(401), Just(403), Just(404), Just(405), Just(408),
            Just(422), Just(429), Just(500), Just(502), Just(503), Just(504)
        ],
        2 => 100u16..1000,
        1 => any::<u16>(),
    ]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    let message = prop_oneof![3 => tricky_string(30), 1 => (400usize..700).prop_map(|n| "m".repeat(n) + "é")];
    prop_oneof![
        message.clone().prop_map(|m| json!({"error": m}).to_string().into_bytes()),
        message.clone().prop_map(|m| json!({"message": m}).to_string().into_bytes()),
        message.clone().prop_map(|m| json!({"success": false, "error": m}).to_string().into_bytes()),
        message.clone().prop_map(|m| json!({"error": {"message": m, "code": 7}}).to_string().into_bytes()),
        json_value().prop_map(|v| json!({"success": true, "data": v}).to_string().into_bytes()),
        json_value().prop_map(|v| v.to_string().into_bytes()),
        proptest::collection::vec(any::<u8>(), 0..200),
        (1000usize..20_000).prop_map(|n| vec![b'<'; n]),
        message.prop_map(String::into_bytes),
    ]
}

fn retry_after() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        (0u64..1000).prop_map(|n| format!(" {n} ")),
        any::<f64>().prop_map(|f| f.to_string()),
        (0u64..1000).prop_map(|n| httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(n))),
        tricky_string(12),
    ])
}

proptest! {
    #[test]
    fn responses_are_classified_as_the_status_table_says(
        status in status(),
        body in body(),
        retry_after in retry_after(),
    ) {
        if let Err(reason) = properties::check_response(status, &body, retry_after.as_deref(), SystemTime::now()) {
            prop_assert!(false, "{reason}");
        }
    }

    #[test]
    fn delta_seconds_are_a_floor_capped_at_five_minutes(secs in any::<u64>(), pad in "[ \t]{0,2}") {
        let header = format!("{pad}{secs}{pad}");
        let expected = Duration::from_secs(secs.min(300));
        prop_assert_eq!(parse_retry_after(&header, SystemTime::now()), Some(expected));
    }

    #[test]
    fn http_dates_count_from_now(secs in 0u64..100_000) {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_780_000_000);
        let header = httpdate::fmt_http_date(now + Duration::from_secs(secs));
        prop_assert_eq!(parse_retry_after(&header, now), Some(Duration::from_secs(secs.min(300))));
        let past = httpdate::fmt_http_date(now - Duration::from_secs(secs));
        prop_assert_eq!(parse_retry_after(&past, now), Some(Duration::ZERO));
    }
}
