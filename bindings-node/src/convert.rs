//! JavaScript values to JSON, for the core's loose-input entry points.
//!
//! napi's own `serde_json::Value` conversion refuses `undefined` and `NaN`, so an options
//! object such as `{ limit: NaN }` or `{ since: undefined }` would fail with napi's
//! `InvalidArg` instead of the core's validation error. This conversion only changes the
//! representation: `undefined` properties are left out, a `Date` becomes its Unix time in
//! milliseconds, and a number JSON cannot hold (`NaN`, `±Infinity`) becomes the string
//! `"NaN"` / `"Infinity"` so that the core's message still names it. No rule lives here.

use napi::bindgen_prelude::{FromNapiValue, TypeName, ValidateNapiValue};
use napi::{Error, Result, Status, ValueType, sys};
use serde_json::{Map, Number, Value};
use std::ptr;

/// Nesting deeper than this is refused (an options object or an event list is shallow).
const MAX_DEPTH: u32 = 64;

/// Any JavaScript value, converted to JSON. A top-level `undefined` is `null`.
pub struct Loose(pub Value);

impl TypeName for Loose {
    fn type_name() -> &'static str {
        "unknown"
    }

    fn value_type() -> ValueType {
        ValueType::Unknown
    }
}

impl ValidateNapiValue for Loose {}

impl FromNapiValue for Loose {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        Ok(Loose(unsafe { convert(env, value, MAX_DEPTH)? }.unwrap_or(Value::Null)))
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

/// `None` for `undefined` (left out of objects).
unsafe fn convert(env: sys::napi_env, value: sys::napi_value, depth: u32) -> Result<Option<Value>> {
    let ty = type_of(env, value)?;
    let converted = match ty {
        sys::ValueType::napi_undefined => return Ok(None),
        sys::ValueType::napi_null => Value::Null,
        sys::ValueType::napi_boolean => Value::Bool(unsafe { bool::from_napi_value(env, value)? }),
        sys::ValueType::napi_number => number(unsafe { f64::from_napi_value(env, value)? }),
        sys::ValueType::napi_string => Value::String(unsafe { String::from_napi_value(env, value)? }),
        sys::ValueType::napi_bigint => Value::String(unsafe { coerce_to_string(env, value)? }),
        sys::ValueType::napi_function => Value::String("[function]".into()),
        sys::ValueType::napi_symbol => Value::String("[symbol]".into()),
        sys::ValueType::napi_object => {
            if depth == 0 {
                return Err(Error::new(Status::InvalidArg, "the argument is nested too deeply".to_owned()));
            }
            let mut is_date = false;
            check(unsafe { sys::napi_is_date(env, value, &mut is_date) }, "is_date")?;
            if is_date {
                let mut ms = 0.0;
                check(unsafe { sys::napi_get_date_value(env, value, &mut ms) }, "date value")?;
                return Ok(Some(number(ms)));
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
                    items.push(unsafe { convert(env, item, depth - 1)? }.unwrap_or(Value::Null));
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
                    let name = unsafe { String::from_napi_value(env, key)? };
                    let mut item = ptr::null_mut();
                    check(unsafe { sys::napi_get_property(env, value, key, &mut item) }, "property")?;
                    if let Some(v) = unsafe { convert(env, item, depth - 1)? } {
                        map.insert(name, v);
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
fn number(n: f64) -> Value {
    if n.is_nan() {
        return Value::String("NaN".into());
    }
    if n.is_infinite() {
        return Value::String(if n > 0.0 { "Infinity" } else { "-Infinity" }.into());
    }
    if n.fract() == 0.0 && n.abs() < 9.007_199_254_740_992e15 {
        return Value::Number(Number::from(n as i64));
    }
    Number::from_f64(n).map(Value::Number).unwrap_or(Value::Null)
}

unsafe fn coerce_to_string(env: sys::napi_env, value: sys::napi_value) -> Result<String> {
    let mut s = ptr::null_mut();
    check(unsafe { sys::napi_coerce_to_string(env, value, &mut s) }, "coerce to string")?;
    unsafe { String::from_napi_value(env, s) }
}
