//! Canonical JSON (protocol section 2) as properties over generated values.

mod properties;
mod strategies;

use proptest::prelude::*;
use serde_json::{Value, json};
use smartai_events::{canonical, signing};
use strategies::{double, json_value, reorder, tricky_string};

/// The secret key of the protocol's signature test vectors.
const SECRET: &str = "wc_sk_test_9e345f2b48dd318d301a2bdd";

/// The request bodies of the protocol's test vectors, with their path, timestamp and signature.
fn vectors() -> Vec<(Value, &'static str, i64, &'static str)> {
    vec![
        (
            json!({"users": [{"email": "a@b.com", "name": "A"}]}),
            "/api/v1/sessions",
            1717200000000,
            "af6ce817f34b81261657dede9077376cdfb61a8b1a3973d155876a3103c399af",
        ),
        (
            json!({"eventIds": ["evt_01J9XYZABC", "550e8400-e29b-41d4-a716-446655440000"]}),
            "/api/v1/webhook/events/acknowledge",
            1717200000000,
            "f7ec072ee0000e3e70bbdf97ffc8dabfa6684be12debed06aeccda16b8e93726",
        ),
        (
            json!({"eventIds": ["évt_ü\"\\\n/"]}),
            "/api/v1/webhook/events/acknowledge",
            1717200000123,
            "19f5ec03a695b511f60152c135dbdc7bc98044b604d976047524d002277b79a6",
        ),
    ]
}

proptest! {
    #[test]
    fn canonical_form_holds_for_any_value(value in json_value()) {
        if let Err(reason) = properties::check_canonical(&value) {
            prop_assert!(false, "{reason}");
        }
    }

    #[test]
    fn key_order_never_changes_the_canonical_string(value in json_value(), seed in any::<u64>()) {
        let shuffled = reorder(&value, seed);
        prop_assert_eq!(canonical::to_string(&shuffled), canonical::to_string(&value));
    }

    /// Whatever key order and whitespace a body arrives with, the signature over it is the
    /// documented one: what is signed depends on the JSON, not on how it was written.
    #[test]
    fn vector_bodies_sign_the_same_however_written(which in 0usize..3, seed in any::<u64>(), pretty in any::<bool>()) {
        let (body, path, timestamp, signature) = vectors().swap_remove(which);
        let shuffled = reorder(&body, seed);
        let text = if pretty { serde_json::to_string_pretty(&shuffled) } else { serde_json::to_string(&shuffled) };
        let reread: Value = serde_json::from_str(&text.unwrap()).unwrap();
        let payload = signing::payload("POST", path, timestamp, &canonical::to_string(&reread));
        prop_assert_eq!(signing::sign(SECRET, &payload), signature);
    }

    /// Adding a key to a vector body, anywhere in the insertion order, changes the signature:
    /// the signature really covers the canonical string.
    #[test]
    fn an_extra_key_changes_the_signature(which in 0usize..3, key in tricky_string(6), seed in any::<u64>()) {
        let (mut body, path, timestamp, signature) = vectors().swap_remove(which);
        prop_assume!(body.get(&key).is_none());
        body.as_object_mut().unwrap().insert(key, json!(1));
        let payload = signing::payload("POST", path, timestamp, &canonical::to_string(&reorder(&body, seed)));
        prop_assert_ne!(signing::sign(SECRET, &payload), signature);
    }

    #[test]
    fn strings_are_escaped_as_json_stringify_escapes_them(s in tricky_string(40)) {
        let text = canonical::to_string(&Value::String(s.clone()));
        if let Err(reason) = properties::check_canonical(&Value::String(s.clone())) {
            prop_assert!(false, "{reason}");
        }
        // For well-formed strings serde_json's escaping is JSON.stringify's; it is a second,
        // independent writer of the same rules.
        prop_assert_eq!(text, serde_json::to_string(&s).unwrap());
    }

    #[test]
    fn doubles_are_written_as_javascript_writes_them(f in double()) {
        let n = serde_json::Number::from_f64(f).unwrap();
        if let Err(reason) = properties::check_number(&n) {
            prop_assert!(false, "{reason}");
        }
    }
}

/// The checker must reject the mistakes it is there to catch, or the properties prove nothing.
/// Found by the fuzzer: a key serde_json reserves for its own types is written, sorted and
/// escaped like any other (only reading it back as a `Value` fails, in serde_json).
#[test]
fn a_key_serde_json_reserves_is_written_like_any_other() {
    let value: Value =
        serde_json::from_str(r#"{"b":{"z":1,"a":[true]},"$serde_json::private::RawValue":"s\u0001"}"#).unwrap();
    assert_eq!(canonical::to_string(&value), r#"{"$serde_json::private::RawValue":"s\u0001","b":{"a":[true],"z":1}}"#);
    properties::check_canonical(&value).unwrap();
}

#[test]
fn the_number_checker_rejects_what_javascript_would_not_print() {
    let number = |f: f64| serde_json::Number::from_f64(f).unwrap();
    for (f, wrong) in [
        (0.000001, "1e-6"),
        (1.2345678901234568e20, "123456789012345683968"),
        (0.5, "0.50"),
        (1e21, "1000000000000000000000"),
        (1e21, "1e21"),
        (2.0, "2.0"),
        (0.1, "0.1000000000000000055511151231257827"),
    ] {
        assert!(properties::check_number_text(&number(f), wrong).is_err(), "{wrong} accepted for {f:e}");
    }
    assert!(properties::check_number_text(&number(1e21), "1e+21").is_ok());
    assert!(properties::check_number_text(&number(0.000001), "0.000001").is_ok());
}

#[test]
fn the_json_comparison_tells_values_apart() {
    assert!(properties::same_json(&json!([2.0, {"a": "x"}]), &json!([2, {"a": "x"}])).is_ok());
    assert!(properties::same_json(&json!({"a": 1}), &json!({"a": 2})).is_err());
    assert!(properties::same_json(&json!({"a": 1}), &json!({"b": 1})).is_err());
    assert!(properties::same_json(&json!([u64::MAX]), &json!([u64::MAX - 1])).is_err());
}
