//! Client-side validation of arguments, before anything is sent.
//!
//! The typed Rust API and the Python and Node bindings all end here. The bindings hand
//! over their arguments as JSON values (a JavaScript number may be `1.5` or `NaN`, a Python
//! argument may be a string), so the rules are written once, for JSON.

use crate::error::{Error, Result};
use serde_json::Value;

/// The server's cap on one fetch.
pub const MAX_LIMIT: u32 = 100;
/// The default fetch size.
pub const DEFAULT_LIMIT: u32 = 50;
/// At most this many IDs go in one acknowledge request.
pub const ACK_CHUNK: usize = 100;
/// How deeply lists and objects may nest in an argument a binding converts to JSON:
/// serde_json's own recursion limit, so that whatever a binding takes the core can read.
/// It also stops a value that contains itself.
///
/// ```
/// assert_eq!(smartai_events::validate::MAX_NESTING, 128);
/// ```
pub const MAX_NESTING: usize = 128;
/// An argument (or a place in one) nested deeper than [`MAX_NESTING`]: the words both
/// bindings use when their conversion to JSON stops.
///
/// ```
/// let e = smartai_events::validate::nested_too_deep("users");
/// assert_eq!(e.to_string(), "users is nested more than 128 levels deep (or contains itself)");
/// ```
pub fn nested_too_deep(name: &str) -> Error {
    Error::invalid_argument(format!("{name} is nested more than {MAX_NESTING} levels deep (or contains itself)"))
}

/// A number JSON cannot hold (NaN, an infinity), `shown` as the caller's language writes it.
///
/// ```
/// let e = smartai_events::validate::not_finite("limit", "NaN");
/// assert!(e.to_string().ends_with("limit must be a finite number, got NaN"));
/// ```
pub fn not_finite(name: &str, shown: impl std::fmt::Display) -> Error {
    Error::invalid_argument(format!("{name} must be a finite number, got {shown}"))
}

/// A string no Rust string can hold (half of a UTF-16 surrogate pair): it would be sent
/// changed, as another ID or name.
///
/// ```
/// let e = smartai_events::validate::not_text("eventIds[0]");
/// assert!(e.to_string().ends_with("eventIds[0] is not valid text (a lone surrogate)"));
/// ```
pub fn not_text(name: &str) -> Error {
    Error::invalid_argument(format!("{name} is not valid text (a lone surrogate)"))
}

/// Below this a `since` is almost surely seconds, not milliseconds (it is March 1973 in ms).
pub const MIN_SINCE_MS: i64 = 100_000_000_000;

/// Checks a fetch `limit` and clamps it to the server cap.
///
/// ```
/// use smartai_events::validate::limit;
/// assert_eq!(limit(250).unwrap(), 100);
/// assert!(limit(0).unwrap_err().to_string().contains("got 0"));
/// ```
pub fn limit(value: i64) -> Result<u32> {
    if value < 1 {
        return Err(Error::invalid_argument(format!("limit must be an integer >= 1, got {value}")));
    }
    Ok(value.min(MAX_LIMIT as i64) as u32)
}

/// Checks a `since` in Unix milliseconds.
///
/// ```
/// use smartai_events::validate::since;
/// assert!(since(1_717_200_000_000).is_ok());
/// assert!(since(1_717_200_000).unwrap_err().to_string().contains("looks like seconds"));
/// assert!(since(0).unwrap_err().to_string().contains("leave since out"));
/// ```
pub fn since(value: i64) -> Result<i64> {
    if value < 0 {
        return Err(Error::invalid_argument(format!(
            "since must be a non-negative Unix timestamp in milliseconds, got {value}"
        )));
    }
    if value < MIN_SINCE_MS {
        // Also reached by a date before March 1973 (a Date or datetime arrives as ms): the
        // date it would be says which case it is.
        let as_date = chrono::DateTime::from_timestamp_millis(value)
            .map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default();
        if value.saturating_mul(1000) < MIN_SINCE_MS {
            // Not a date after 1973 in seconds either (0, a small count): multiplying would not help.
            return Err(Error::invalid_argument(format!(
                "since must be a Unix timestamp in milliseconds from {MIN_SINCE_MS} (March 1973) on, \
                 got {value} ({as_date}); no event is that old, so leave since out to fetch from the start"
            )));
        }
        return Err(Error::invalid_argument(format!(
            "since must be a Unix timestamp in milliseconds, got {value}, which looks like seconds; \
             multiply by 1000 (as milliseconds it is {as_date}; for a date that early, leave since out: \
             no event is older)"
        )));
    }
    Ok(value)
}

/// Checks acknowledge IDs: a non-empty list of non-empty strings. Duplicates are dropped,
/// keeping the first occurrence's order.
///
/// ```
/// use smartai_events::validate::event_ids;
/// assert_eq!(event_ids(["a", "b", "a"]).unwrap(), vec!["a", "b"]);
/// assert_eq!(event_ids(Vec::<String>::new()).unwrap_err().to_string(), "eventIds must be a non-empty array");
/// ```
pub fn event_ids<I, S>(ids: I) -> Result<Vec<String>>
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::new();
    for (index, id) in ids.into_iter().enumerate() {
        let id = id.as_ref();
        if id.trim().is_empty() {
            return Err(Error::invalid_argument(format!(
                "eventIds[{index}] must be a non-empty string (not only whitespace), got {id:?}"
            )));
        }
        if seen.insert(id.to_string()) {
            out.push(id.to_string());
        }
    }
    if out.is_empty() {
        return Err(Error::invalid_argument(NON_EMPTY_IDS));
    }
    Ok(out)
}

pub(crate) const NON_EMPTY_IDS: &str = "eventIds must be a non-empty array";

/// [`limit`] for a loosely typed value from a binding: an integral number, or absent.
///
/// ```
/// use serde_json::json;
/// use smartai_events::validate::limit_value;
/// assert_eq!(limit_value(Some(&json!(10.0)), 50).unwrap(), 10);
/// assert!(limit_value(Some(&json!(1.5)), 50).is_err());
/// assert!(limit_value(Some(&json!("10")), 50).is_err());
/// assert_eq!(limit_value(None, 50).unwrap(), 50);
/// ```
pub fn limit_value(value: Option<&Value>, default: u32) -> Result<u32> {
    match value {
        None | Some(Value::Null) => Ok(default),
        // Any whole number above the cap is the cap, however large (2**63, 1e20), as 250 is:
        // precision does not matter there, and "must be an integer >= 1" would be untrue.
        Some(v) if v.as_f64().is_some_and(|f| f.is_finite() && f.fract() == 0.0 && f > f64::from(MAX_LIMIT)) => {
            Ok(MAX_LIMIT)
        }
        Some(v) => limit(integer("limit", v, "an integer >= 1")?),
    }
}

/// [`since`] for a loosely typed value from a binding: an integral number of milliseconds, or absent.
pub fn since_value(value: Option<&Value>) -> Result<Option<i64>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => since(integer("since", v, "a Unix timestamp in milliseconds")?).map(Some),
    }
}

/// [`event_ids`] for a loosely typed value from a binding.
pub fn event_ids_value(value: &Value) -> Result<Vec<String>> {
    let Value::Array(items) = value else {
        // The platform's own words, then what was given instead (a single ID, say).
        return Err(Error::invalid_argument(format!("{NON_EMPTY_IDS}, got {}", describe(value))));
    };
    let mut ids = Vec::with_capacity(items.len());
    for (index, item) in items.iter().enumerate() {
        match item {
            Value::String(s) => ids.push(s.as_str()),
            other => {
                return Err(Error::invalid_argument(format!(
                    "eventIds[{index}] must be a non-empty string, got {}",
                    describe(other)
                )));
            }
        }
    }
    event_ids(ids)
}

/// An optional non-negative count option (`maxEvents`, `maxBatches`...).
pub fn count_value(name: &str, value: Option<&Value>) -> Result<Option<u64>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(v) => {
            let n = integer(name, v, "an integer >= 1")?;
            if n < 1 {
                return Err(Error::invalid_argument(format!("{name} must be an integer >= 1, got {n}")));
            }
            Ok(Some(n as u64))
        }
    }
}

/// An optional duration option given in milliseconds (`intervalMs`...), or seconds when
/// `unit_ms` is 1000 (Python's `interval=`).
pub fn duration_value(name: &str, value: Option<&Value>, unit_ms: f64) -> Result<Option<std::time::Duration>> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => {
            let v = n.as_f64().unwrap_or(f64::NAN);
            if !v.is_finite() || v < 0.0 {
                return Err(Error::invalid_argument(format!("{name} must be a non-negative number, got {n}")));
            }
            // A finite number can still be beyond what a Duration holds (1e300 s), and the
            // plain conversion panics on that.
            std::time::Duration::try_from_secs_f64(v * unit_ms / 1000.0)
                .map(Some)
                .map_err(|_| Error::invalid_argument(format!("{name} is too large, got {n}")))
        }
        Some(other) => {
            Err(Error::invalid_argument(format!("{name} must be a non-negative number, got {}", describe(other))))
        }
    }
}

/// An integer from a JSON number; `2.0` is accepted (JavaScript has no integers), `2.5`,
/// strings and booleans are not.
fn integer(name: &str, value: &Value, expected: &str) -> Result<i64> {
    whole_number(value)
        .ok_or_else(|| Error::invalid_argument(format!("{name} must be {expected}, got {}", describe(value))))
}

/// The integer a JSON number stands for: an integer, or a float with no fraction that a
/// double holds exactly (JavaScript has no other numbers, and Python's `3.0` is taken the
/// same way for every integer option).
pub(crate) fn whole_number(value: &Value) -> Option<i64> {
    let Value::Number(n) = value else { return None };
    n.as_i64().or_else(|| {
        n.as_f64().filter(|f| f.is_finite() && f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15).map(|f| f as i64)
    })
}

/// Names a bad value for an error message, shortened so that a huge argument cannot flood logs.
pub fn describe(value: &Value) -> String {
    let text = match value {
        Value::Null => "null".to_string(),
        Value::Bool(b) => format!("{b} (a boolean)"),
        // A whole float is shown as JavaScript and Python show it: 9007199254740994, not
        // 9007199254740994.0.
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() && f.fract() == 0.0 && f.abs() < 1e21 => format!("{f:.0}"),
            _ => n.to_string(),
        },
        Value::String(s) => format!("{s:?} (a string)"),
        Value::Array(_) => "an array".to_string(),
        Value::Object(_) => "an object".to_string(),
    };
    shorten(&text, 80)
}

/// Names the type of a value without echoing it, where the value may be a secret (a key
/// passed where an options object belongs, say).
pub(crate) fn type_only(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(crate) fn shorten(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max_chars).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn limit_rules() {
        assert_eq!(limit(1).unwrap(), 1);
        assert_eq!(limit(100).unwrap(), 100);
        assert_eq!(limit(101).unwrap(), 100);
        for bad in [0, -1, i64::MIN] {
            assert!(limit(bad).unwrap_err().to_string().contains(&bad.to_string()));
        }
        assert_eq!(describe(&json!(-9_007_199_254_740_994.0)), "-9007199254740994");
        assert_eq!(describe(&json!(1.5)), "1.5");
        for huge in [json!(9_223_372_036_854_775_808u64), json!(1e20), json!(9_007_199_254_740_994.0)] {
            assert_eq!(limit_value(Some(&huge), 50).unwrap(), 100, "{huge}");
        }
        for bad in [json!(1.5), json!(100.5), json!("5"), json!(true), json!([1]), json!({})] {
            let err = limit_value(Some(&bad), 50).unwrap_err();
            assert_eq!(err.code(), crate::ErrorCode::InvalidArgument, "{bad}");
            assert!(err.to_string().starts_with("limit must be"), "{err}");
        }
    }

    #[test]
    fn since_rules() {
        assert_eq!(since_value(Some(&json!(1_717_200_000_000u64))).unwrap(), Some(1_717_200_000_000));
        assert!(since_value(Some(&json!(-5))).unwrap_err().to_string().contains("-5"));
        assert!(since_value(Some(&json!(1.5e12 + 0.5))).is_err());
        assert!(since_value(Some(&json!("yesterday"))).unwrap_err().to_string().contains("yesterday"));
    }

    #[test]
    fn id_rules() {
        assert_eq!(
            event_ids_value(&json!("a")).unwrap_err().to_string(),
            format!(r#"{NON_EMPTY_IDS}, got "a" (a string)"#)
        );
        assert_eq!(event_ids_value(&json!(null)).unwrap_err().to_string(), format!("{NON_EMPTY_IDS}, got null"));
        assert_eq!(event_ids_value(&json!([])).unwrap_err().to_string(), NON_EMPTY_IDS);
        assert!(event_ids_value(&json!(["a", 7])).unwrap_err().to_string().contains("eventIds[1]"));
        assert!(event_ids_value(&json!(["a", ""])).unwrap_err().to_string().contains("eventIds[1]"));
        assert_eq!(event_ids_value(&json!(["x", "x", "y"])).unwrap(), vec!["x", "y"]);
    }

    #[test]
    fn duration_rules() {
        assert_eq!(
            duration_value("t", Some(&json!(1.5)), 1000.0).unwrap(),
            Some(std::time::Duration::from_millis(1500))
        );
        for (bad, fragment) in [(json!(-1), "got -1"), (json!(1e300), "too large, got 1e+300"), (json!("5"), "\"5\"")] {
            let err = duration_value("timeout", Some(&bad), 1000.0).unwrap_err();
            assert_eq!(err.code(), crate::ErrorCode::InvalidArgument);
            assert!(err.to_string().contains(fragment), "{err}");
        }
    }

    #[test]
    fn describe_is_short() {
        let long = "x".repeat(10_000);
        assert!(describe(&json!(long)).chars().count() < 100);
    }
}
