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
fn write_float(out: &mut String, f: f64) {
    if f == 0.0 {
        out.push('0');
    } else if f.fract() == 0.0 && f.abs() < 1e21 {
        let _ = write!(out, "{f:.0}");
    } else {
        // serde_json prints shortest round-trip digits; JS always writes the exponent's sign.
        let text = serde_json::Number::from_f64(f).map(|n| n.to_string()).unwrap_or_default();
        match text.split_once('e') {
            Some((mantissa, exp)) if !exp.starts_with(['-', '+']) => {
                let _ = write!(out, "{mantissa}e+{exp}");
            }
            _ => out.push_str(&text),
        }
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
}
