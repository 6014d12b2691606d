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

/// `maxEvents` as Python spells it: `max_events`. Every option is known by its camelCase
/// name and may be given in either spelling, so that each binding passes its own names and
/// a message names the option as the caller wrote it.
fn snake_case(camel: &str) -> String {
    let mut out = String::with_capacity(camel.len() + 4);
    for c in camel.chars() {
        if c.is_ascii_uppercase() {
            out.push('_');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// The value of option `camel` (null counts as absent) and the name the caller gave it under.
pub(crate) fn option<'a>(obj: Option<&'a Map<String, Value>>, camel: &str) -> Result<(String, Option<&'a Value>)> {
    let Some(obj) = obj else { return Ok((camel.to_string(), None)) };
    let snake = snake_case(camel);
    let present = |k: &str| obj.get(k).filter(|v| !v.is_null());
    match (present(camel), present(&snake)) {
        (Some(_), Some(_)) if snake != camel => {
            Err(Error::invalid_argument(format!("pass {camel} or {snake}, not both")))
        }
        (Some(v), _) => Ok((camel.to_string(), Some(v))),
        (None, Some(v)) => Ok((snake, Some(v))),
        (None, None) => Ok((camel.to_string(), None)),
    }
}

pub(crate) fn check_keys(obj: &Map<String, Value>, allowed: &[&str], what: &str) -> Result<()> {
    for key in obj.keys() {
        if !allowed.iter().any(|a| a == key || snake_case(a) == *key) {
            // Listed in the spelling the caller uses.
            let snake = obj.keys().any(|k| k.contains('_'));
            let names: Vec<String> =
                allowed.iter().map(|a| if snake { snake_case(a) } else { a.to_string() }).collect();
            return Err(Error::invalid_argument(format!(
                "unknown {what} option {key:?}; expected one of {}",
                names.join(", ")
            )));
        }
    }
    Ok(())
}

/// A duration given in seconds (`seconds_key`) or in milliseconds (`millis_key`), with the
/// name it was given under.
fn duration(obj: &Map<String, Value>, seconds_key: &str, millis_key: &str) -> Result<(String, Option<Duration>)> {
    let (seconds_name, seconds) = option(Some(obj), seconds_key)?;
    let (millis_name, millis) = option(Some(obj), millis_key)?;
    match (seconds, millis) {
        (Some(_), Some(_)) => Err(Error::invalid_argument(format!("pass {seconds_name} or {millis_name}, not both"))),
        (Some(v), None) => Ok((seconds_name.clone(), validate::duration_value(&seconds_name, Some(v), SECONDS)?)),
        (None, Some(v)) => Ok((millis_name.clone(), validate::duration_value(&millis_name, Some(v), MILLIS)?)),
        (None, None) => Ok((seconds_name, None)),
    }
}

fn positive_duration(obj: &Map<String, Value>, seconds_key: &str, millis_key: &str) -> Result<Option<Duration>> {
    match duration(obj, seconds_key, millis_key)? {
        (name, Some(v)) if v.is_zero() => Err(Error::invalid_argument(format!("{name} must be greater than 0"))),
        (_, v) => Ok(v),
    }
}

fn string(obj: &Map<String, Value>, key: &str) -> Result<Option<String>> {
    match option(Some(obj), key)? {
        (_, None) => Ok(None),
        (_, Some(Value::String(s))) => Ok(Some(s.clone())),
        (name, Some(other)) => Err(Error::configuration(format!("{name} must be a string, got {}", type_only(other)))),
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
    match option(Some(obj), key)? {
        (_, None) => Ok(None),
        (_, Some(Value::Bool(b))) => Ok(Some(*b)),
        (name, Some(other)) => {
            Err(Error::invalid_argument(format!("{name} must be a boolean, got {}", describe(other))))
        }
    }
}

impl ClientBuilder {
    /// Reads client options from one JSON object: `apiKey`, `secretKey`, `baseUrl`,
    /// `timeout` (s) or `timeoutMs`, `connectTimeout` (s) or `connectTimeoutMs`,
    /// `maxRetries`, `minPollInterval` (s) or `minPollIntervalMs`, `allowInsecureHttp`.
    /// Each may also be spelled in snake_case (`max_retries`), and messages name an option
    /// as it was spelled. Unknown keys are refused, so a typo does not pass silently.
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
        if let Some(v) = positive_duration(obj, "timeout", "timeoutMs")? {
            builder = builder.timeout(v);
        }
        if let Some(v) = positive_duration(obj, "connectTimeout", "connectTimeoutMs")? {
            builder = builder.connect_timeout(v);
        }
        if let (name, Some(v)) = option(Some(obj), "maxRetries")? {
            let n = v.as_u64().filter(|n| *n <= 100).ok_or_else(|| {
                Error::invalid_argument(format!("{name} must be an integer from 0 to 100, got {}", describe(v)))
            })?;
            builder = builder.max_retries(n as u32);
        }
        if let (_, Some(v)) = duration(obj, "minPollInterval", "minPollIntervalMs")? {
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
        for k in ["interval", "intervalMs", "interval_ms", "maxAttempts", "max_attempts", "ordered"] {
            drain_obj.remove(k);
        }
        let mut opts = RunOptions::new().drain_options(DrainOptions::from_json(&Value::Object(drain_obj))?);
        if let (_, Some(v)) = duration(obj, "interval", "intervalMs")? {
            opts = opts.interval(v);
        }
        let (name, value) = option(Some(obj), "maxAttempts")?;
        if let Some(n) = validate::count_value(&name, value)? {
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
    fn options_may_be_spelled_in_snake_case_and_messages_follow_the_spelling() {
        let err = ClientBuilder::from_json(&json!({"max_retries": -1})).unwrap_err();
        assert!(err.to_string().starts_with("max_retries must be"), "{err}");
        let err = ClientBuilder::from_json(&json!({"maxRetries": -1})).unwrap_err();
        assert!(err.to_string().starts_with("maxRetries must be"), "{err}");
        let err = ClientBuilder::from_json(&json!({"connect_timeout": 0})).unwrap_err();
        assert_eq!(err.to_string(), "connect_timeout must be greater than 0");
        let err = ClientBuilder::from_json(&json!({"min_poll_interval": -1})).unwrap_err();
        assert!(err.to_string().starts_with("min_poll_interval must be"), "{err}");
        let err = ClientBuilder::from_json(&json!({"max_retries": 1, "maxRetries": 1})).unwrap_err();
        assert!(err.to_string().contains("not both"), "{err}");
        let err = ClientBuilder::from_json(&json!({"max_retrys": 1})).unwrap_err();
        assert!(err.to_string().contains("max_retries, min_poll_interval"), "listed as spelled: {err}");
        let client = ClientBuilder::from_json(&json!({
            "api_key": "wc_ak_test_0123456789", "secret_key": "s", "min_poll_interval": 0, "allow_insecure_http": false
        }))
        .unwrap()
        .build()
        .unwrap();
        assert_eq!(client.config().min_poll_interval(), Duration::ZERO);

        let err = RunOptions::from_json(&json!({"max_attempts": 0})).unwrap_err();
        assert!(err.to_string().starts_with("max_attempts must be"), "{err}");
        let err = DrainOptions::from_json_strict(&json!({"max_events": -1})).unwrap_err();
        assert!(err.to_string().starts_with("max_events must be"), "{err}");
        let err = DrainOptions::from_json_strict(&json!({"maxBatches": 0})).unwrap_err();
        assert!(err.to_string().starts_with("maxBatches must be"), "{err}");
        let o = RunOptions::from_json(&json!({"max_attempts": 2, "max_events": 10, "max_batches": 3})).unwrap();
        let shown = format!("{o:?}");
        for part in ["max_attempts: 2", "max_events: Some(10)", "max_batches: Some(3)"] {
            assert!(shown.contains(part), "{part} in {shown}");
        }
    }

    #[test]
    fn fetch_options_refuse_unknown_keys() {
        let err = crate::FetchOptions::from_json(&json!({"limt": 5})).unwrap_err();
        assert!(err.to_string().contains("limt"), "{err}");
    }
}
