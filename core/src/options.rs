//! Options as the Python and Node bindings receive them: one JSON object, validated here
//! so that both languages share every rule and every message.

use crate::batches::DrainOptions;
use crate::client::ClientBuilder;
use crate::error::{Error, Result};
use crate::run::RunOptions;
use crate::types::options_object;
use crate::validate::{self, describe};
use serde_json::{Map, Value};
use std::time::Duration;

/// Durations in an options object: `timeout` is in seconds (Python's convention) and
/// `timeoutMs` in milliseconds (Node's). Both spellings are accepted everywhere.
const SECONDS: f64 = 1000.0;
const MILLIS: f64 = 1.0;

pub(crate) fn check_keys(obj: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<()> {
    for key in obj.keys() {
        if !allowed.contains(&key.as_str()) {
            return Err(Error::invalid_argument(format!(
                "unknown {what} option {key:?}; expected one of {}",
                allowed.join(", ")
            )));
        }
    }
    Ok(())
}

fn duration(obj: &Map<String, Value>, seconds_key: &str, millis_key: &str) -> Result<Option<Duration>> {
    match (obj.get(seconds_key).filter(|v| !v.is_null()), obj.get(millis_key).filter(|v| !v.is_null())) {
        (Some(_), Some(_)) => Err(Error::invalid_argument(format!("pass {seconds_key} or {millis_key}, not both"))),
        (Some(v), None) => validate::duration_value(seconds_key, Some(v), SECONDS),
        (None, Some(v)) => validate::duration_value(millis_key, Some(v), MILLIS),
        (None, None) => Ok(None),
    }
}

/// Which spelling of a duration option the caller used, so that a message names it.
fn given<'a>(obj: &Map<String, Value>, seconds_key: &'a str, millis_key: &'a str) -> &'a str {
    if obj.get(millis_key).is_some_and(|v| !v.is_null()) { millis_key } else { seconds_key }
}

fn string(obj: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(other) => Err(Error::configuration(format!("{key} must be a string, got {}", type_only(other)))),
    }
}

/// Names the type of a value without echoing it: option values may be secrets.
fn type_only(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn boolean(obj: &Map<String, Value>, key: &str) -> Result<Option<bool>> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(other) => Err(Error::invalid_argument(format!("{key} must be a boolean, got {}", describe(other)))),
    }
}

impl ClientBuilder {
    /// Reads client options from one JSON object: `apiKey`, `secretKey`, `baseUrl`,
    /// `timeout` (s) or `timeoutMs`, `connectTimeout` (s) or `connectTimeoutMs`,
    /// `maxRetries`, `minPollInterval` (s) or `minPollIntervalMs`, `allowInsecureHttp`.
    /// Unknown keys are refused, so a typo does not pass silently.
    ///
    /// ```
    /// use serde_json::json;
    /// use smartai_events::ClientBuilder;
    /// let client = ClientBuilder::from_json(&json!({
    ///     "apiKey": "wc_ak_test_0123456789", "secretKey": "s", "timeoutMs": 5000, "maxRetries": 1
    /// })).unwrap().build().unwrap();
    /// assert_eq!(client.config().timeout().as_secs(), 5);
    /// assert!(ClientBuilder::from_json(&json!({"timeOut": 5})).is_err());
    /// ```
    pub fn from_json(options: &Value) -> Result<ClientBuilder> {
        let empty = Map::new();
        let obj = options_object(options)?.unwrap_or(&empty);
        check_keys(
            obj,
            &[
                "apiKey",
                "secretKey",
                "baseUrl",
                "timeout",
                "timeoutMs",
                "connectTimeout",
                "connectTimeoutMs",
                "maxRetries",
                "minPollInterval",
                "minPollIntervalMs",
                "allowInsecureHttp",
            ],
            "client",
        )?;
        let mut builder = ClientBuilder::default();
        if let Some(v) = string(obj, "apiKey")? {
            builder = builder.api_key(v);
        }
        if let Some(v) = string(obj, "secretKey")? {
            builder = builder.secret_key(v);
        }
        if let Some(v) = string(obj, "baseUrl")? {
            builder = builder.base_url(v);
        }
        if let Some(v) = duration(obj, "timeout", "timeoutMs")? {
            if v.is_zero() {
                return Err(Error::invalid_argument(format!(
                    "{} must be greater than 0",
                    given(obj, "timeout", "timeoutMs")
                )));
            }
            builder = builder.timeout(v);
        }
        if let Some(v) = duration(obj, "connectTimeout", "connectTimeoutMs")? {
            if v.is_zero() {
                return Err(Error::invalid_argument(format!(
                    "{} must be greater than 0",
                    given(obj, "connectTimeout", "connectTimeoutMs")
                )));
            }
            builder = builder.connect_timeout(v);
        }
        if let Some(v) = obj.get("maxRetries").filter(|v| !v.is_null()) {
            let n = v.as_u64().filter(|n| *n <= 100).ok_or_else(|| {
                Error::invalid_argument(format!("maxRetries must be an integer from 0 to 100, got {}", describe(v)))
            })?;
            builder = builder.max_retries(n as u32);
        }
        if let Some(v) = duration(obj, "minPollInterval", "minPollIntervalMs")? {
            builder = builder.min_poll_interval(v);
        }
        if let Some(v) = boolean(obj, "allowInsecureHttp")? {
            builder = builder.allow_insecure_http(v);
        }
        Ok(builder)
    }
}

impl RunOptions {
    /// Reads run options from one JSON object: `interval` (s) or `intervalMs`,
    /// `maxAttempts`, `ordered`, and the drain options `limit`, `since`, `maxEvents`, `maxBatches`.
    /// The dead-letter hook is set with [`RunOptions::dead_letter`].
    ///
    /// ```
    /// use serde_json::json;
    /// let opts = smartai_events::RunOptions::from_json(&json!({"intervalMs": 10000, "limit": 50})).unwrap();
    /// assert_eq!(opts.get_interval().as_secs(), 10);
    /// ```
    pub fn from_json(options: &Value) -> Result<RunOptions> {
        let empty = Map::new();
        let obj = options_object(options)?.unwrap_or(&empty);
        check_keys(
            obj,
            &["interval", "intervalMs", "maxAttempts", "ordered", "limit", "since", "maxEvents", "maxBatches"],
            "run",
        )?;
        let mut drain_obj = obj.clone();
        for k in ["interval", "intervalMs", "maxAttempts", "ordered"] {
            drain_obj.remove(k);
        }
        let mut opts = RunOptions::new().drain_options(DrainOptions::from_json(&Value::Object(drain_obj))?);
        if let Some(v) = duration(obj, "interval", "intervalMs")? {
            opts = opts.interval(v);
        }
        if let Some(n) = validate::count_value("maxAttempts", obj.get("maxAttempts"))? {
            opts = opts.max_attempts(n.min(u32::MAX as u64) as u32);
        }
        if let Some(ordered) = boolean(obj, "ordered")? {
            opts = opts.ordered(ordered);
        }
        Ok(opts)
    }
}

impl DrainOptions {
    /// Like [`DrainOptions::from_json`], refusing unknown keys.
    pub fn from_json_strict(options: &Value) -> Result<DrainOptions> {
        if let Some(obj) = options_object(options)? {
            check_keys(obj, &["limit", "since", "maxEvents", "maxBatches"], "drain")?;
        }
        DrainOptions::from_json(options)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn client_options_validate_and_never_echo_secrets() {
        let err = ClientBuilder::from_json(&json!({"secretKey": 12345})).unwrap_err();
        assert!(!err.to_string().contains("12345"), "{err}");
        let err = ClientBuilder::from_json(&json!({"timeout": -1})).unwrap_err();
        assert!(err.to_string().contains("-1"), "{err}");
        let err = ClientBuilder::from_json(&json!({"timeout": 1, "timeoutMs": 1000})).unwrap_err();
        assert!(err.to_string().contains("not both"), "{err}");
        let err = ClientBuilder::from_json(&json!({"maxRetries": 1.5})).unwrap_err();
        assert!(err.to_string().contains("1.5"), "{err}");
        let err = ClientBuilder::from_json(&json!({"allowInsecureHttp": "yes"})).unwrap_err();
        assert!(err.to_string().contains("yes"), "{err}");
        let b = ClientBuilder::from_json(
            &json!({"apiKey": "wc_ak_test_0123456789", "secretKey": "s", "minPollInterval": 0}),
        )
        .unwrap()
        .build()
        .unwrap();
        assert_eq!(b.config().min_poll_interval(), Duration::ZERO);
    }

    #[test]
    fn run_options() {
        let o = RunOptions::from_json(&json!({"interval": 7.5, "maxAttempts": 2, "maxEvents": 10})).unwrap();
        assert_eq!(o.get_interval(), Duration::from_millis(7500));
        assert!(RunOptions::from_json(&json!({"intervall": 7})).unwrap_err().to_string().contains("intervall"));
        assert!(RunOptions::from_json(&json!({"limit": 0})).is_err());
        assert!(RunOptions::from_json(&json!({"ordered": "yes"})).is_err());
        assert!(format!("{:?}", RunOptions::from_json(&json!({"ordered": true})).unwrap()).contains("ordered: true"));
    }

    #[test]
    fn fetch_options_refuse_unknown_keys() {
        let err = crate::FetchOptions::from_json(&json!({"limt": 5})).unwrap_err();
        assert!(err.to_string().contains("limt"), "{err}");
    }
}
