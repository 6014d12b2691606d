//! Decoding of the structs that keep undocumented keys in an `extra` map: [`Verification`],
//! [`Proctoring`] and [`Candidate`].
//!
//! `#[serde(flatten)]` would do it, but it buffers every key and value of the object and
//! then reads them a second time: about 7 % of decoding an `assessment.completed` event.
//! These read each key once, by flatten's rules: the object must be a JSON object, a
//! typed key given twice or a required one missing is an error, and every other key goes
//! to `extra` (of two equal ones the last value wins, as a map insert keeps it).

use crate::event_check::Key;
use crate::events::{Candidate, Proctoring, Verification};
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// Reads an object's keys: `typed` reads the value of a key it knows and says so; the
/// others are collected as the `extra` map.
fn read_object<'de, A, F>(mut map: A, mut typed: F) -> Result<Map<String, Value>, A::Error>
where
    A: MapAccess<'de>,
    F: FnMut(&str, &mut A) -> Result<bool, A::Error>,
{
    let mut extra = Map::new();
    while let Some(key) = map.next_key::<Key<'de>>()? {
        if !typed(&key.0, &mut map)? {
            let value = map.next_value::<Value>()?;
            extra.insert(key.0.into_owned(), value);
        }
    }
    Ok(extra)
}

/// Reads a typed key's value into its slot, refusing a second one before reading it (where
/// flatten's error points).
fn once<T, E: de::Error>(
    slot: &mut Option<T>,
    name: &'static str,
    read: impl FnOnce() -> Result<T, E>,
) -> Result<bool, E> {
    if slot.is_some() {
        return Err(E::duplicate_field(name));
    }
    *slot = Some(read()?);
    Ok(true)
}

impl<'de> Deserialize<'de> for Verification {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Verification;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("struct Verification")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Verification, A::Error> {
                let mut image_url = None;
                let extra = read_object(map, |key, map| match key {
                    "imageUrl" => once(&mut image_url, "imageUrl", || map.next_value::<Option<String>>()),
                    _ => Ok(false),
                })?;
                Ok(Verification { image_url: image_url.flatten(), extra })
            }
        }
        deserializer.deserialize_map(V)
    }
}

impl<'de> Deserialize<'de> for Proctoring {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Proctoring;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("struct Proctoring")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Proctoring, A::Error> {
                let (mut score, mut violation_count) = (None, None);
                let extra = read_object(map, |key, map| match key {
                    "score" => once(&mut score, "score", || map.next_value::<Option<f64>>()),
                    "violationCount" => {
                        once(&mut violation_count, "violationCount", || map.next_value::<Option<u32>>())
                    }
                    _ => Ok(false),
                })?;
                Ok(Proctoring { score: score.flatten(), violation_count: violation_count.flatten(), extra })
            }
        }
        deserializer.deserialize_map(V)
    }
}

impl<'de> Deserialize<'de> for Candidate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Candidate;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("struct Candidate")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Candidate, A::Error> {
                let (mut id, mut name, mut email) = (None, None, None);
                let extra = read_object(map, |key, map| match key {
                    "id" => once(&mut id, "id", || map.next_value::<String>()),
                    "name" => once(&mut name, "name", || map.next_value::<String>()),
                    "email" => once(&mut email, "email", || map.next_value::<String>()),
                    _ => Ok(false),
                })?;
                Ok(Candidate {
                    id: id.ok_or_else(|| de::Error::missing_field("id"))?,
                    name: name.ok_or_else(|| de::Error::missing_field("name"))?,
                    email: email.ok_or_else(|| de::Error::missing_field("email"))?,
                    extra,
                })
            }
        }
        deserializer.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What `#[serde(flatten)]` makes of the same structs: the reference these decoders
    /// must agree with.
    mod flattened {
        use serde_json::{Map, Value};

        #[derive(Debug, PartialEq, serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct Verification {
            #[serde(default)]
            pub image_url: Option<String>,
            #[serde(flatten)]
            pub extra: Map<String, Value>,
        }

        #[derive(Debug, PartialEq, serde::Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct Proctoring {
            #[serde(default)]
            pub score: Option<f64>,
            #[serde(default)]
            pub violation_count: Option<u32>,
            #[serde(flatten)]
            pub extra: Map<String, Value>,
        }

        #[derive(Debug, PartialEq, serde::Deserialize)]
        pub struct Candidate {
            pub id: String,
            pub name: String,
            pub email: String,
            #[serde(flatten)]
            pub extra: Map<String, Value>,
        }
    }

    /// Objects (and non-objects) that every typed key's rules meet.
    const TEXTS: &[&str] = &[
        "{}",
        "[]",
        "null",
        "\"text\"",
        r#"{"imageUrl":"u"}"#,
        r#"{"imageUrl":null}"#,
        r#"{"imageUrl":1}"#,
        r#"{"imageUrl":"u","imageUrl":"v"}"#,
        r#"{"imageUrl":null,"imageUrl":null}"#,
        r#"{"image\u0055rl":"escaped key"}"#,
        r#"{"imageUrl":"u","liveness":0.9,"nested":{"a":[1,{"b":null}]},"liveness":1}"#,
        r#"{"score":88,"violationCount":2,"tabSwitches":3}"#,
        r#"{"score":null,"violationCount":null}"#,
        r#"{"score":"high"}"#,
        r#"{"violationCount":-1}"#,
        r#"{"violationCount":4294967296}"#,
        r#"{"violationCount":1.5}"#,
        r#"{"score":1e400}"#,
        r#"{"score":1,"score":2}"#,
        r#"{"x":1e400}"#,
        r#"{"x":"\ud800"}"#,
        r#"{"id":"c","name":"Zoë","email":"z@x"}"#,
        r#"{"id":"c","name":"n","email":"e","phone":"1","id2":[]}"#,
        r#"{"id":"c","name":"n"}"#,
        r#"{"id":"c","id":"d","name":"n","email":"e"}"#,
        r#"{"\u0069d":"c","name":"n","email":"e"}"#,
        r#"{"id":null,"name":"n","email":"e"}"#,
        r#"{"id":"c","name":"n","email":"e","imageUrl":"u","score":1}"#,
    ];

    fn same<Ours, Theirs>(text: &str, convert: impl Fn(Ours) -> Theirs)
    where
        Ours: for<'de> Deserialize<'de>,
        Theirs: for<'de> Deserialize<'de> + PartialEq + fmt::Debug,
    {
        let ours = serde_json::from_str::<Ours>(text).map(convert);
        let theirs = serde_json::from_str::<Theirs>(text);
        match (&ours, &theirs) {
            (Ok(a), Ok(b)) => assert_eq!(a, b, "{text}"),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string(), "{text}"),
            _ => panic!("{text}: ours {ours:?}, flatten's {theirs:?}"),
        }
    }

    #[test]
    fn they_decode_what_flatten_decodes_and_refuse_what_it_refuses() {
        for text in TEXTS {
            same(text, |v: Verification| flattened::Verification { image_url: v.image_url, extra: v.extra });
            same(text, |p: Proctoring| flattened::Proctoring {
                score: p.score,
                violation_count: p.violation_count,
                extra: p.extra,
            });
            same(text, |c: Candidate| flattened::Candidate { id: c.id, name: c.name, email: c.email, extra: c.extra });
        }
    }

    #[test]
    fn unknown_keys_keep_their_order_and_the_last_of_two_wins() {
        let v: Verification = serde_json::from_str(r#"{"z":1,"imageUrl":"u","a":2,"z":3}"#).unwrap();
        assert_eq!(v.image_url.as_deref(), Some("u"));
        assert_eq!(serde_json::to_string(&v.extra).unwrap(), r#"{"z":3,"a":2}"#);
    }
}
