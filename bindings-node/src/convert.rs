//! JavaScript values to JSON, for the core's loose-input entry points.
//!
//! napi's own `serde_json::Value` conversion refuses `undefined` and `NaN`, so an options
//! object such as `{ limit: NaN }` or `{ since: undefined }` would fail with napi's
//! `InvalidArg` instead of the core's validation error. This conversion only changes the
//! representation: `undefined` properties are left out, a `Date` becomes its Unix time in
//! milliseconds, and a `BigInt` that fits 64 bits becomes that integer. What has no JSON
//! form is refused with its place in the argument: a number JSON cannot hold (`NaN`,
//! `±Infinity`, an invalid `Date`) as `limit must be a finite number, got NaN`, as Python
//! says it, a `BigInt` beyond 64 bits as one, `undefined` in a list rather than as `null`,
//! a function or a symbol rather than being sent as a string such as an event ID, a string
//! (or a key) that is not well-formed UTF-16 (a lone surrogate) rather than being sent with
//! U+FFFD in its place, and nesting deeper than the core's
//! [`validate::MAX_NESTING`](smartai_events::validate::MAX_NESTING). No rule lives here.
//!
//! A place is named as the core and Python name it: a field of an options object or a
//! request by its own path (`users[0].name`), anything else from the argument's name
//! (`eventIds[1]`), which the method gives when it takes the value ([`Loose::value`]).

use crate::error::{coded, to_napi};
use napi::bindgen_prelude::{FromNapiValue, TypeName, ValidateNapiValue};
use napi::{Error, Result, Status, ValueType, sys};
use serde_json::{Map, Number, Value};
use smartai_events::{ErrorCode, validate};
use std::ptr;

/// Nesting deeper than this is refused: the core's limit, the same in every binding. It
/// also stops a value that contains itself.
const MAX_DEPTH: usize = validate::MAX_NESTING;

/// The argument types below take any JavaScript value and check it themselves: napi's own
/// type check would refuse it first, with its internal wording.
macro_rules! any_js_value {
    ($($name:ty),*) => {$(
        impl TypeName for $name {
            fn type_name() -> &'static str {
                "unknown"
            }

            fn value_type() -> ValueType {
                ValueType::Unknown
            }
        }

        impl ValidateNapiValue for $name {}
    )*};
}

any_js_value!(Loose, Options, NumberArg);

/// Any JavaScript value, converted to JSON, or why it could not be: the method that takes
/// it names the argument ([`Loose::value`]), so that the message can say where the problem is.
pub struct Loose(std::result::Result<Option<Value>, Failure>);

impl Loose {
    /// The value (a top-level `undefined` is `null`), or an `InvalidArgumentError` naming
    /// the place in the argument `arg` that could not be converted.
    pub fn value(self, arg: &str) -> Result<Value> {
        Ok(self.given(arg)?.unwrap_or(Value::Null))
    }

    /// [`Loose::value`], with `None` for a top-level `undefined`.
    pub fn given(self, arg: &str) -> Result<Option<Value>> {
        self.0.map_err(|failure| failure.into_error(arg))
    }
}

impl FromNapiValue for Loose {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        Ok(Loose(unsafe { convert(env, value, MAX_DEPTH) }))
    }
}

/// The place `path` in the argument `arg`: a field of an object argument by its own path,
/// as the core names the fields it checks (`users[0].email`), anything else from the
/// argument's name (`eventIds[1]`, or `eventIds` itself).
fn place(arg: &str, path: &str) -> String {
    match path.strip_prefix('.') {
        Some(field) => field.to_string(),
        None => format!("{arg}{path}"),
    }
}

/// An options object: `undefined` or `null` (none), or a plain object (a literal,
/// `Object.create(null)`). A `Map`, a class instance or another built-in object is refused
/// naming its class: converted, it would read as `{}` or as its own fields, and a `Map`'s
/// entries would be lost without a word. Anything else goes to the core as [`Loose`] does,
/// and the core says what it expected (`options must be an object, got an array`).
pub struct Options(Loose);

impl Options {
    /// As [`Loose::value`], for the argument named `options`.
    pub fn value(self) -> Result<Value> {
        self.0.value("options")
    }
}

impl FromNapiValue for Options {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        if type_of(env, value)? == sys::ValueType::napi_object
            && let Some(class) = unsafe { class_name(env, value)? }
        {
            return Err(coded(
                ErrorCode::InvalidArgument,
                format!("options must be a plain object, got an instance of {class}"),
            ));
        }
        Ok(Options(unsafe { Loose::from_napi_value(env, value)? }))
    }
}

/// The class of an object that is not a plain object, an array or a `Date` (which the
/// conversion reads as what they are); `None` for those. A plain object from another realm
/// (a `vm` context) is plain too: its prototype is an `Object.prototype`, whose own
/// prototype is `null`.
unsafe fn class_name(env: sys::napi_env, value: sys::napi_value) -> Result<Option<String>> {
    let mut is = false;
    check(unsafe { sys::napi_is_array(env, value, &mut is) }, "is_array")?;
    if !is {
        check(unsafe { sys::napi_is_date(env, value, &mut is) }, "is_date")?;
    }
    if is {
        return Ok(None);
    }
    let mut proto = ptr::null_mut();
    check(unsafe { sys::napi_get_prototype(env, value, &mut proto) }, "prototype")?;
    if type_of(env, proto)? == sys::ValueType::napi_null {
        return Ok(None);
    }
    let mut constructor = ptr::null_mut();
    check(
        unsafe { sys::napi_get_named_property(env, proto, c"constructor".as_ptr(), &mut constructor) },
        "constructor",
    )?;
    let mut name = None;
    if type_of(env, constructor)? == sys::ValueType::napi_function {
        let mut text = ptr::null_mut();
        check(unsafe { sys::napi_get_named_property(env, constructor, c"name".as_ptr(), &mut text) }, "name")?;
        if type_of(env, text)? == sys::ValueType::napi_string {
            name = Some(unsafe { String::from_napi_value(env, text)? }).filter(|n| !n.is_empty());
        }
    }
    let mut grand = ptr::null_mut();
    check(unsafe { sys::napi_get_prototype(env, proto, &mut grand) }, "prototype")?;
    if name.as_deref() == Some("Object") && type_of(env, grand)? == sys::ValueType::napi_null {
        return Ok(None);
    }
    Ok(Some(name.unwrap_or_else(|| "a class without a name".to_string())))
}

/// A number argument, or what was passed instead, named for a message (`"5" (a string)`,
/// `undefined`, `5n (a BigInt)`). napi's own `f64` conversion would refuse anything else
/// with its internal wording and no error code; the callee names the value in its own
/// message instead.
pub struct NumberArg(pub std::result::Result<f64, String>);

impl FromNapiValue for NumberArg {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        if type_of(env, value)? == sys::ValueType::napi_number {
            return Ok(NumberArg(Ok(unsafe { f64::from_napi_value(env, value)? })));
        }
        Ok(NumberArg(Err(unsafe { describe(env, value)? })))
    }
}

/// A JavaScript value named for a message: what JSON can hold as the core's
/// `validate::describe` names it, anything else by its JavaScript type.
pub unsafe fn describe(env: sys::napi_env, value: sys::napi_value) -> Result<String> {
    Ok(match type_of(env, value)? {
        sys::ValueType::napi_undefined => "undefined".into(),
        sys::ValueType::napi_number => {
            let n = unsafe { f64::from_napi_value(env, value)? };
            match number(n) {
                Ok(v) => validate::describe(&v),
                Err(Failure::NotFinite { shown, .. }) => shown.into(),
                Err(_) => n.to_string(),
            }
        }
        sys::ValueType::napi_bigint => describe_bigint(&unsafe { coerce_to_string(env, value)? }),
        sys::ValueType::napi_function => "a function".into(),
        sys::ValueType::napi_symbol => "a symbol".into(),
        sys::ValueType::napi_object => {
            let mut is_array = false;
            check(unsafe { sys::napi_is_array(env, value, &mut is_array) }, "is_array")?;
            if is_array { "an array".into() } else { "an object".into() }
        }
        _ => match unsafe { convert(env, value, 1) } {
            Ok(Some(v)) => validate::describe(&v),
            _ => "a value".into(),
        },
    })
}

/// `5n (a BigInt)`; the digits of a huge one are not all repeated.
fn describe_bigint(digits: &str) -> String {
    if digits.len() <= 40 {
        format!("{digits}n (a BigInt)")
    } else {
        format!("a BigInt of {} digits", digits.trim_start_matches('-').len())
    }
}

/// Why a value could not be converted. The path of a refused value is built while
/// unwinding, so a successful conversion allocates nothing for it.
enum Failure {
    Napi(Error),
    Refused {
        what: &'static str,
        path: String,
    },
    NotFinite {
        shown: &'static str,
        path: String,
    },
    BeyondI64 {
        shown: String,
        path: String,
    },
    /// A string that is not well-formed UTF-16 (a lone surrogate).
    NotText {
        path: String,
    },
    /// A key of the object at `path` that is not well-formed UTF-16.
    KeyNotText {
        path: String,
    },
    /// Nested deeper than [`MAX_DEPTH`]; `top` is the outermost segment of its path only,
    /// as Python names it: the argument, or the field of an options object.
    TooDeep {
        top: String,
    },
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        Failure::Napi(e)
    }
}

impl Failure {
    fn at(self, segment: impl FnOnce() -> String) -> Self {
        match self {
            Failure::Refused { what, path } => Failure::Refused { what, path: segment() + &path },
            Failure::NotFinite { shown, path } => Failure::NotFinite { shown, path: segment() + &path },
            Failure::BeyondI64 { shown, path } => Failure::BeyondI64 { shown, path: segment() + &path },
            Failure::NotText { path } => Failure::NotText { path: segment() + &path },
            Failure::KeyNotText { path } => Failure::KeyNotText { path: segment() + &path },
            Failure::TooDeep { .. } => Failure::TooDeep { top: segment() },
            other => other,
        }
    }

    /// The error, naming the place in the argument `arg`. The words for what no binding can
    /// turn into JSON are the core's; those for JavaScript's own values are here.
    fn into_error(self, arg: &str) -> Error {
        let message = match self {
            Failure::Napi(e) => return e,
            Failure::NotFinite { shown, path } => return to_napi(validate::not_finite(&place(arg, &path), shown)),
            Failure::NotText { path } => return to_napi(validate::not_text(&place(arg, &path))),
            Failure::TooDeep { top } => {
                let root = if top.starts_with('.') { place(arg, &top) } else { arg.to_string() };
                return to_napi(validate::nested_too_deep(&root));
            }
            Failure::Refused { what, path } if path.is_empty() => format!("{what} cannot be passed here"),
            Failure::Refused { what, path } => format!("{what} cannot be passed here (at {})", place(arg, &path)),
            Failure::BeyondI64 { shown, path } => format!("{} must fit in 64 bits, got {shown}", place(arg, &path)),
            Failure::KeyNotText { path } => {
                format!("{} has a key that is not valid text (a lone surrogate)", place(arg, &path))
            }
        };
        coded(ErrorCode::InvalidArgument, message)
    }
}

fn check(status: sys::napi_status, what: &str) -> Result<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(Error::new(Status::from(status), format!("could not read the argument: {what}")))
    }
}

fn type_of(env: sys::napi_env, value: sys::napi_value) -> Result<sys::napi_valuetype> {
    let mut ty = 0;
    check(unsafe { sys::napi_typeof(env, value, &mut ty) }, "typeof")?;
    Ok(ty)
}

/// A string, refused if it is not well-formed UTF-16: napi would give a lone surrogate as
/// U+FFFD, and a different text (an event ID) would be signed and sent. Only a string
/// that came out with a U+FFFD is read again, as UTF-16, to tell which it was.
unsafe fn text(env: sys::napi_env, value: sys::napi_value) -> std::result::Result<String, Failure> {
    let s = unsafe { String::from_napi_value(env, value)? };
    if s.contains('\u{FFFD}') {
        let mut len = 0;
        check(unsafe { sys::napi_get_value_string_utf16(env, value, ptr::null_mut(), 0, &mut len) }, "string length")?;
        let mut units = vec![0u16; len + 1];
        let mut written = 0;
        check(
            unsafe { sys::napi_get_value_string_utf16(env, value, units.as_mut_ptr(), units.len(), &mut written) },
            "string",
        )?;
        units.truncate(written);
        if char::decode_utf16(units).any(|c| c.is_err()) {
            return Err(Failure::NotText { path: String::new() });
        }
    }
    Ok(s)
}

/// `None` for `undefined` (left out of objects). `depth`: how many more levels of lists
/// and objects may nest.
unsafe fn convert(
    env: sys::napi_env,
    value: sys::napi_value,
    depth: usize,
) -> std::result::Result<Option<Value>, Failure> {
    let ty = type_of(env, value)?;
    let converted = match ty {
        sys::ValueType::napi_undefined => return Ok(None),
        sys::ValueType::napi_null => Value::Null,
        sys::ValueType::napi_boolean => Value::Bool(unsafe { bool::from_napi_value(env, value)? }),
        sys::ValueType::napi_number => number(unsafe { f64::from_napi_value(env, value)? })?,
        sys::ValueType::napi_string => Value::String(unsafe { text(env, value)? }),
        sys::ValueType::napi_bigint => unsafe { bigint(env, value)? },
        sys::ValueType::napi_function => return Err(Failure::Refused { what: "a function", path: String::new() }),
        sys::ValueType::napi_symbol => return Err(Failure::Refused { what: "a symbol", path: String::new() }),
        sys::ValueType::napi_object => {
            if depth == 0 {
                return Err(Failure::TooDeep { top: String::new() });
            }
            let mut is_date = false;
            check(unsafe { sys::napi_is_date(env, value, &mut is_date) }, "is_date")?;
            if is_date {
                let mut ms = 0.0;
                check(unsafe { sys::napi_get_date_value(env, value, &mut ms) }, "date value")?;
                return Ok(Some(number(ms)?));
            }
            let mut is_array = false;
            check(unsafe { sys::napi_is_array(env, value, &mut is_array) }, "is_array")?;
            if is_array {
                let mut len = 0;
                check(unsafe { sys::napi_get_array_length(env, value, &mut len) }, "array length")?;
                let mut items = Vec::with_capacity(len as usize);
                for i in 0..len {
                    let mut item = ptr::null_mut();
                    check(unsafe { sys::napi_get_element(env, value, i, &mut item) }, "array element")?;
                    // `undefined` has no JSON form in a list (JSON.stringify would write null,
                    // and the core would then say `got null`).
                    let v = unsafe { convert(env, item, depth - 1) }
                        .and_then(|v| v.ok_or(Failure::Refused { what: "undefined", path: String::new() }))
                        .map_err(|e| e.at(|| format!("[{i}]")))?;
                    items.push(v);
                }
                Value::Array(items)
            } else {
                let mut keys = ptr::null_mut();
                check(
                    unsafe {
                        sys::napi_get_all_property_names(
                            env,
                            value,
                            sys::KeyCollectionMode::own_only,
                            sys::KeyFilter::enumerable | sys::KeyFilter::skip_symbols,
                            sys::KeyConversion::numbers_to_strings,
                            &mut keys,
                        )
                    },
                    "property names",
                )?;
                let mut len = 0;
                check(unsafe { sys::napi_get_array_length(env, keys, &mut len) }, "key count")?;
                let mut map = Map::new();
                for i in 0..len {
                    let mut key = ptr::null_mut();
                    check(unsafe { sys::napi_get_element(env, keys, i, &mut key) }, "key")?;
                    let name = match unsafe { text(env, key) } {
                        Ok(name) => name,
                        Err(Failure::NotText { .. }) => return Err(Failure::KeyNotText { path: String::new() }),
                        Err(e) => return Err(e),
                    };
                    let mut item = ptr::null_mut();
                    check(unsafe { sys::napi_get_property(env, value, key, &mut item) }, "property")?;
                    match unsafe { convert(env, item, depth - 1) } {
                        Ok(Some(v)) => {
                            map.insert(name, v);
                        }
                        Ok(None) => {}
                        Err(e) => return Err(e.at(|| format!(".{name}"))),
                    }
                }
                Value::Object(map)
            }
        }
        _ => Value::String("[external]".into()),
    };
    Ok(Some(converted))
}

/// Integral values become JSON integers (so messages read `got 0`, not `got 0.0`).
fn number(n: f64) -> std::result::Result<Value, Failure> {
    if !n.is_finite() {
        let shown = if n.is_nan() {
            "NaN"
        } else if n > 0.0 {
            "Infinity"
        } else {
            "-Infinity"
        };
        return Err(Failure::NotFinite { shown, path: String::new() });
    }
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        return Ok(Value::Number(Number::from(n as i64)));
    }
    Ok(Number::from_f64(n).map(Value::Number).unwrap_or(Value::Null))
}

/// A `BigInt` as an integer when it fits 64 bits; beyond, it is refused naming it as a
/// `BigInt` (as its digits in a string, the core would call it a string).
unsafe fn bigint(env: sys::napi_env, value: sys::napi_value) -> std::result::Result<Value, Failure> {
    let mut lossless = false;
    let mut i = 0i64;
    check(unsafe { sys::napi_get_value_bigint_int64(env, value, &mut i, &mut lossless) }, "bigint")?;
    if lossless {
        return Ok(Value::from(i));
    }
    let mut u = 0u64;
    check(unsafe { sys::napi_get_value_bigint_uint64(env, value, &mut u, &mut lossless) }, "bigint")?;
    if lossless {
        return Ok(Value::from(u));
    }
    let shown = describe_bigint(&unsafe { coerce_to_string(env, value)? });
    Err(Failure::BeyondI64 { shown, path: String::new() })
}

unsafe fn coerce_to_string(env: sys::napi_env, value: sys::napi_value) -> Result<String> {
    let mut s = ptr::null_mut();
    check(unsafe { sys::napi_coerce_to_string(env, value, &mut s) }, "coerce to string")?;
    unsafe { String::from_napi_value(env, s) }
}
