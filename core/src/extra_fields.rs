//! Decoding of the structs that keep undocumented keys in an `extra` map: [`Verification`],
//! [`Proctoring`] and [`Candidate`].
//!
//! `#[serde(flatten)]` would do it, but it buffers every key and value of the object and
//! then reads them a second time: about 4 % of the typed decode (2.22 -> 2.14 µs per
//! event without it, bench/RESULTS.md).
//! These read each key once, by flatten's rules: the object must be a JSON object, a
//! typed key given twice or a required one missing is an error, and every other key goes
//! to `extra` (of two equal ones the last value wins, as a map insert keeps it).

use crate::event_check::Key;
use crate::events::{Candidate, Proctoring, Verification};
use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};
use std::fmt;
use std::marker::PhantomData;

/// A struct with typed keys and an `extra` map for the rest.
trait WithExtra: Sized {
    /// serde's name of the struct, for "expected struct …".
    const NAME: &'static str;
    /// The typed keys' values read so far.
    type Typed: Default;

    /// Reads the value of `key` into `typed` if it is a typed key, and says whether it was.
    fn read_typed<'de, A: MapAccess<'de>>(typed: &mut Self::Typed, key: &str, map: &mut A) -> Result<bool, A::Error>;

    /// The struct, once the object is read; a required key missing is an error.
    fn build<E: de::Error>(typed: Self::Typed, extra: Map<String, Value>) -> Result<Self, E>;
}

/// Reads an object as a [`WithExtra`] struct: typed keys through the struct, the others
/// collected as `extra`. Only an object is accepted, as with flatten.
fn read<'de, T: WithExtra, D: Deserializer<'de>>(deserializer: D) -> Result<T, D::Error> {
    struct V<T>(PhantomData<T>);
    impl<'de, T: WithExtra> Visitor<'de> for V<T> {
        type Value = T;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            write!(f, "struct {}", T::NAME)
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<T, A::Error> {
            let mut typed = T::Typed::default();
            let mut extra = Map::new();
            while let Some(key) = map.next_key::<Key<'de>>()? {
                if !T::read_typed(&mut typed, &key.0, &mut map)? {
                    let value = map.next_value::<Value>()?;
                    extra.insert(key.0.into_owned(), value);
                }
            }
            T::build(typed, extra)
        }
    }
    deserializer.deserialize_map(V(PhantomData))
}

/// Reads a typed key's value into its slot, refusing a second one before reading it (where
/// flatten's error points).
fn once<'de, T: Deserialize<'de>, A: MapAccess<'de>>(
    slot: &mut Option<T>,
    name: &'static str,
    map: &mut A,
) -> Result<bool, A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(true)
}

fn required<T, E: de::Error>(slot: Option<T>, name: &'static str) -> Result<T, E> {
    slot.ok_or_else(|| E::missing_field(name))
}

impl WithExtra for Verification {
    const NAME: &'static str = "Verification";
    type Typed = Option<Option<String>>;

    fn read_typed<'de, A: MapAccess<'de>>(
        image_url: &mut Self::Typed,
        key: &str,
        map: &mut A,
    ) -> Result<bool, A::Error> {
        match key {
            "imageUrl" => once(image_url, "imageUrl", map),
            _ => Ok(false),
        }
    }

    fn build<E: de::Error>(image_url: Self::Typed, extra: Map<String, Value>) -> Result<Self, E> {
        Ok(Verification { image_url: image_url.flatten(), extra })
    }
}

impl WithExtra for Proctoring {
    const NAME: &'static str = "Proctoring";
    type Typed = (Option<Option<f64>>, Option<Option<u32>>);

    fn read_typed<'de, A: MapAccess<'de>>(typed: &mut Self::Typed, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "score" => once(&mut typed.0, "score", map),
            "violationCount" => once(&mut typed.1, "violationCount", map),
            _ => Ok(false),
        }
    }

    fn build<E: de::Error>((score, violation_count): Self::Typed, extra: Map<String, Value>) -> Result<Self, E> {
        Ok(Proctoring { score: score.flatten(), violation_count: violation_count.flatten(), extra })
    }
}

impl WithExtra for Candidate {
    const NAME: &'static str = "Candidate";
    type Typed = (Option<String>, Option<String>, Option<String>);

    fn read_typed<'de, A: MapAccess<'de>>(typed: &mut Self::Typed, key: &str, map: &mut A) -> Result<bool, A::Error> {
        match key {
            "id" => once(&mut typed.0, "id", map),
            "name" => once(&mut typed.1, "name", map),
            "email" => once(&mut typed.2, "email", map),
            _ => Ok(false),
        }
    }

    fn build<E: de::Error>((id, name, email): Self::Typed, extra: Map<String, Value>) -> Result<Self, E> {
        Ok(Candidate {
            id: required(id, "id")?,
            name: required(name, "name")?,
            email: required(email, "email")?,
            extra,
        })
    }
}

impl<'de> Deserialize<'de> for Verification {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        read(deserializer)
    }
}

impl<'de> Deserialize<'de> for Proctoring {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        read(deserializer)
    }
}

impl<'de> Deserialize<'de> for Candidate {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        read(deserializer)
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
