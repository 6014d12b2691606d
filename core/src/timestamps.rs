//! Event timestamps (`storedAt`, `submittedAt`) read from JSON exactly as chrono's serde
//! reads a `DateTime<Utc>`, with the form the platform writes
//! (`2026-06-09T10:31:00.000Z`) read directly: chrono's general parser was about 4 % of
//! a drain's CPU samples. Anything else (an offset, a leap second, a lower-case `t`, ...)
//! goes to chrono, which stays the judge of what is accepted and of the error message.

use chrono::{DateTime, FixedOffset, NaiveDate, Utc};
use serde::de::{Deserialize, Deserializer, Error, Visitor};
use std::fmt;

/// `deserialize_with` for a `DateTime<Utc>` field.
pub(crate) fn utc<'de, D: Deserializer<'de>>(deserializer: D) -> Result<DateTime<Utc>, D::Error> {
    Timestamp::deserialize(deserializer).map(|t| t.0)
}

/// `deserialize_with` for an `Option<DateTime<Utc>>` field (with `#[serde(default)]`).
pub(crate) fn opt_utc<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    Option::<Timestamp>::deserialize(deserializer).map(|t| t.map(|t| t.0))
}

/// What `str::parse::<DateTime<FixedOffset>>` gives, in UTC.
pub(crate) fn parse(text: &str) -> Result<DateTime<Utc>, chrono::ParseError> {
    match platform_form(text.as_bytes()) {
        Some(t) => Ok(t),
        None => text.parse::<DateTime<FixedOffset>>().map(|t| t.with_timezone(&Utc)),
    }
}

const OUT_OF_RANGE: &str = "is outside the years 0001 to 9999 (UTC)";

/// `at` if its UTC year is one that every binding's date type holds: Python's `datetime`
/// stops at 1 and 9999, and RFC 3339 has four-digit years. An event stamped outside them
/// is malformed, rather than a typed event whose `stored_at` cannot be read in Python.
pub(crate) fn in_range(at: DateTime<Utc>) -> Option<DateTime<Utc>> {
    (1..=9999).contains(&chrono::Datelike::year(&at)).then_some(at)
}

struct Timestamp(DateTime<Utc>);

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Timestamp;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // chrono's words, so that a bad timestamp reads the same either way.
                f.write_str("an RFC 3339 formatted date and time string")
            }
            fn visit_str<E: Error>(self, v: &str) -> Result<Timestamp, E> {
                let at = parse(v).map_err(E::custom)?;
                in_range(at).map(Timestamp).ok_or_else(|| E::custom(format_args!("{v:?} {OUT_OF_RANGE}")))
            }
        }
        deserializer.deserialize_str(V)
    }
}

/// `YYYY-MM-DDTHH:MM:SS[.f{1,9}]Z` with a valid date and a time before 24:00 without leap
/// second; `None` for anything else, which chrono then reads.
fn platform_form(b: &[u8]) -> Option<DateTime<Utc>> {
    if b.len() < 20 || b.len() > 30 || b[b.len() - 1] != b'Z' {
        return None;
    }
    let punctuation = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if punctuation.iter().any(|&(i, c)| b[i] != c) {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        b[from..to].iter().try_fold(0u32, |n, c| c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0')))
    };
    let nanos = match &b[19..b.len() - 1] {
        [] => 0,
        [b'.', digits @ ..] if !digits.is_empty() => num(20, b.len() - 1)? * 10u32.pow(9 - digits.len() as u32),
        _ => return None,
    };
    let (second, minute, hour) = (num(17, 19)?, num(14, 16)?, num(11, 13)?);
    if second >= 60 {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(num(0, 4)? as i32, num(5, 7)?, num(8, 10)?)?;
    Some(date.and_hms_nano_opt(hour, minute, second, nanos)?.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn by_chrono(text: &str) -> Result<DateTime<Utc>, String> {
        text.parse::<DateTime<FixedOffset>>().map(|t| t.with_timezone(&Utc)).map_err(|e| e.to_string())
    }

    #[test]
    fn the_platform_form_is_read_as_chrono_reads_it() {
        let read = [
            "2026-06-09T10:31:00Z",
            "2026-06-09T10:31:00.000Z",
            "2026-06-09T10:31:00.5Z",
            "2026-06-09T10:31:00.123456789Z",
            "2024-02-29T23:59:59.999Z",
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59.999999999Z",
        ];
        for text in read {
            assert!(platform_form(text.as_bytes()).is_some(), "{text}");
            assert_eq!(parse(text).map_err(|e| e.to_string()), by_chrono(text), "{text}");
        }
        assert_eq!(parse("2026-06-09T10:31:00.250Z").unwrap().timestamp_millis(), 1_781_001_060_250);
    }

    #[test]
    fn everything_else_is_left_to_chrono() {
        let left = [
            "2026-06-09T10:31:00.1234567891Z",
            "2026-06-09T10:31:60Z",
            "2026-06-09T23:59:60.5Z",
            "2026-06-09T24:00:00Z",
            "2025-02-29T10:31:00Z",
            "2026-13-09T10:31:00Z",
            "2026-06-00T10:31:00Z",
            "2026-06-09t10:31:00Z",
            "2026-06-09 10:31:00Z",
            "2026-06-09T10:31:00z",
            "2026-06-09T10:31:00+02:00",
            "2026-06-09T10:31:00.Z",
            "2026-06-09T10:31:00,5Z",
            "2026-06-09T10:31Z",
            "+2026-06-09T10:31:00Z",
            "2026-6-09T10:31:00.00Z",
            "2026-06-09T1a:31:00Z",
            "2026-06-09T10:31:00.5-Z",
            "",
            "soon",
        ];
        for text in left {
            assert!(platform_form(text.as_bytes()).is_none(), "{text}");
            assert_eq!(parse(text).map_err(|e| e.to_string()), by_chrono(text), "{text}");
        }
    }

    #[test]
    fn a_year_outside_0001_to_9999_in_utc_is_refused_by_name() {
        #[derive(serde::Deserialize, Debug)]
        struct Field {
            #[allow(dead_code)]
            #[serde(deserialize_with = "utc")]
            at: DateTime<Utc>,
        }
        let read = |text: &str| serde_json::from_value::<Field>(serde_json::json!({ "at": text }));
        for text in ["0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999Z", "0001-01-01T00:30:00-01:00"] {
            assert!(read(text).is_ok(), "{text}");
        }
        for text in
            ["0000-01-01T00:00:00Z", "+10000-01-01T00:00:00Z", "-0001-06-01T00:00:00Z", "0001-01-01T00:30:00+01:00"]
        {
            let err = read(text).unwrap_err().to_string();
            assert!(err.contains(&format!("{text:?} is outside the years 0001 to 9999 (UTC)")), "{err}");
        }
    }

    #[test]
    fn fields_read_through_serde_as_chrono_reads_them() {
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Fields {
            #[serde(deserialize_with = "utc")]
            at: DateTime<Utc>,
            #[serde(default, deserialize_with = "opt_utc")]
            maybe: Option<DateTime<Utc>>,
        }
        #[derive(serde::Deserialize, Debug, PartialEq)]
        struct Chrono {
            at: DateTime<Utc>,
            #[serde(default)]
            maybe: Option<DateTime<Utc>>,
        }
        for text in [
            r#"{"at":"2026-06-09T10:31:00.000Z"}"#,
            r#"{"at":"2026-06-09T10:31:00+02:00","maybe":null}"#,
            r#"{"at":"2026-06-09T10:31:00Z","maybe":"2026-06-09T10:30:00.1Z"}"#,
            r#"{"at":"2026-06-09T10:31:00Z","maybe":"later"}"#,
            r#"{"at":1781001060}"#,
            r#"{"at":null}"#,
            r#"{"maybe":"2026-06-09T10:31:00Z"}"#,
        ] {
            let ours = serde_json::from_str::<Fields>(text).map(|f| (f.at, f.maybe)).map_err(|e| e.to_string());
            let chrono = serde_json::from_str::<Chrono>(text).map(|f| (f.at, f.maybe)).map_err(|e| e.to_string());
            assert_eq!(ours, chrono, "{text}");
        }
    }
}
