//! Canonical JSON: the exact bytes that are signed and sent.
//!
//! The platform verifies a signature over a re-serialisation of the body it parsed, made
//! the way JavaScript's `JSON.stringify` does it with sorted keys. Any difference in key
//! order, whitespace or string escaping makes the signature fail, so this module mirrors
//! those rules exactly rather than relying on `serde_json`'s own (different) escaping.

use serde_json::Value;
use std::fmt::Write as _;

/// Serialises `value` as canonical JSON: keys sorted at every depth by UTF-16 code
/// units, no whitespace, strings escaped as `JSON.stringify` escapes them.
///
/// ```
/// use serde_json::json;
/// let body = json!({"users": [{"name": "A", "email": "a@b.com"}]});
/// assert_eq!(
///     smartai_events::canonical::to_string(&body),
///     r#"{"users":[{"email":"a@b.com","name":"A"}]}"#
/// );
/// ```
pub fn to_string(value: &Value) -> String {
    let mut out = String::with_capacity(64);
    write_value(&mut out, value);
    out
}

/// The acknowledge body `{"eventIds":[...]}` as canonical JSON, written straight from the
/// IDs: the same text as [`to_string`] of that object, without building it first.
///
/// ```
/// use serde_json::json;
/// let ids = ["evt_1".to_string(), "evt_\"2\"".to_string()];
/// assert_eq!(
///     smartai_events::canonical::event_ids_body(&ids),
///     smartai_events::canonical::to_string(&json!({ "eventIds": ids }))
/// );
/// ```
pub fn event_ids_body(ids: &[String]) -> String {
    let mut out = String::with_capacity(16 + ids.iter().map(|id| id.len() + 3).sum::<usize>());
    out.push_str("{\"eventIds\":[");
    for (i, id) in ids.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        write_string(&mut out, id);
    }
    out.push_str("]}");
    out
}

fn write_value(out: &mut String, value: &Value) {
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(true) => out.push_str("true"),
        Value::Bool(false) => out.push_str("false"),
        Value::Number(n) => write_number(out, n),
        Value::String(s) => write_string(out, s),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item);
            }
            out.push(']');
        }
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            // JavaScript compares strings by UTF-16 code units, which differs from Rust's
            // byte (code point) order for characters above U+FFFF versus U+E000..U+FFFF.
            entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, item);
            }
            out.push('}');
        }
    }
}

fn write_number(out: &mut String, n: &serde_json::Number) {
    if let Some(i) = n.as_i64() {
        let _ = write!(out, "{i}");
    } else if let Some(u) = n.as_u64() {
        let _ = write!(out, "{u}");
    } else if let Some(f) = n.as_f64() {
        write_float(out, f);
    } else {
        out.push_str(&n.to_string());
    }
}

/// JavaScript's `Number.prototype.toString` for the finite values JSON can hold.
///
/// JavaScript prints the shortest digits that read back as the same double, laid out by
/// the decimal exponent: plain below 1e21 and down to 1e-6, with an exponent otherwise.
/// Printing a large whole double exactly (`123456789012345683968` rather than
/// `123456789012345680000`) or `1e-6` for `0.000001` would break the signature.
fn write_float(out: &mut String, f: f64) {
    if f == 0.0 {
        out.push('0');
        return;
    }
    // Rust's `{:e}` writes the shortest round-trip digits, as `d.ddde-7` or `de20`.
    let sci = format!("{:e}", f.abs());
    let Some((mantissa, exp)) = sci.split_once('e') else {
        out.push_str(&sci);
        return;
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let k = digits.len() as i64;
    // The position of the decimal point relative to the digits, `n` in ECMA-262's Number::toString.
    let n = exp.parse::<i64>().unwrap_or(0) + 1;
    if f < 0.0 {
        out.push('-');
    }
    if k <= n && n <= 21 {
        out.push_str(&digits);
        out.extend(std::iter::repeat_n('0', (n - k) as usize));
    } else if 0 < n && n <= 21 {
        let (int, frac) = digits.split_at(n as usize);
        let _ = write!(out, "{int}.{frac}");
    } else if -6 < n && n <= 0 {
        out.push_str("0.");
        out.extend(std::iter::repeat_n('0', (-n) as usize));
        out.push_str(&digits);
    } else {
        let (first, rest) = digits.split_at(1);
        out.push_str(first);
        if !rest.is_empty() {
            let _ = write!(out, ".{rest}");
        }
        let e = n - 1;
        let _ = write!(out, "e{}{}", if e < 0 { '-' } else { '+' }, e.abs());
    }
}

fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{08}' => out.push_str("\\b"),
            '\u{0C}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_nested_keys_and_drops_whitespace() {
        let v = json!({"b": {"z": 1, "a": [ {"y": true, "x": null} ]}, "a": "s"});
        assert_eq!(to_string(&v), r#"{"a":"s","b":{"a":[{"x":null,"y":true}],"z":1}}"#);
    }

    #[test]
    fn escapes_like_json_stringify() {
        let v = json!("évt_ü\"\\\n/\u{1}\u{8}\u{c}\r\t\u{1f}");
        assert_eq!(to_string(&v), "\"évt_ü\\\"\\\\\\n/\\u0001\\b\\f\\r\\t\\u001f\"");
    }

    #[test]
    fn sorts_by_utf16_code_units() {
        // U+FF21 (fullwidth A) is one code unit 0xFF21; U+1F600 is the pair 0xD83D 0xDE00.
        // By code point the emoji sorts last, by UTF-16 code unit it sorts first.
        let v = json!({"\u{FF21}": 1, "\u{1F600}": 2});
        assert_eq!(to_string(&v), "{\"\u{1F600}\":2,\"\u{FF21}\":1}");
    }

    #[test]
    fn numbers_match_javascript() {
        assert_eq!(to_string(&json!([1, -7, 1.5, 2.0, 1e21, 0.1, -0.0])), "[1,-7,1.5,2,1e+21,0.1,0]");
    }

    #[test]
    fn floats_are_laid_out_as_javascript_does() {
        // Expected strings are what Node's JSON.stringify prints for the same doubles.
        let cases: [(f64, &str); 12] = [
            (0.000001, "0.000001"),
            (0.0000012345, "0.0000012345"),
            (-0.000001, "-0.000001"),
            (1.5e-7, "1.5e-7"),
            (1.23e-18, "1.23e-18"),
            (1.2345678901234568e20, "123456789012345680000"),
            (1152921504606846976.0, "1152921504606847000"),
            (1e20, "100000000000000000000"),
            (-1.5e300, "-1.5e+300"),
            (5e-324, "5e-324"),
            (123.456, "123.456"),
            (f64::MAX, "1.7976931348623157e+308"),
        ];
        for (f, expected) in cases {
            let value = Value::Number(serde_json::Number::from_f64(f).unwrap());
            assert_eq!(to_string(&value), expected, "{f:e}");
        }
    }
}
