//! Options as the Python and Node bindings receive them: one JSON object, validated here
//! so that both languages share every rule and every message.

use crate::batches::DrainOptions;
use crate::client::ClientBuilder;
use crate::error::{Error, Result};
use crate::queue_event::QueueEvent;
use crate::run::RunOptions;
use crate::types::options_object;
use crate::validate::{self, describe};
use serde_json::{Map, Value};
use std::time::Duration;

/// The options that are durations, by their seconds name. Each language gets its own unit:
/// Python passes seconds (`timeout=30.0`, as httpx does), Node milliseconds (`timeoutMs:
/// 30000`, as timers do). The other unit's name is refused with a hint rather than read:
/// `timeout: 5000` from Node would otherwise mean 83 minutes.
const DURATIONS: [&str; 4] = ["timeout", "connectTimeout", "minPollInterval", "interval"];

/// How a binding spells the options it passes: `maxEvents` (Node, and the JSON a Rust
/// caller may pass) or `max_events` (Python's keyword arguments). Each binding passes its own
/// names, only those are accepted, and messages name an option as its caller knows it.
///
/// ```
/// use serde_json::json;
/// use smartai_events::{DrainOptions, Spelling};
/// let err = DrainOptions::from_json_strict_spelled(&json!({"max_events": 0}), Spelling::SnakeCase).unwrap_err();
/// assert!(err.to_string().starts_with("max_events must be"));
/// assert!(DrainOptions::from_json_strict(&json!({"max_events": 5})).is_err());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Spelling {
    /// `maxEvents`, `intervalMs`.
    #[default]
    CamelCase,
    /// `max_events`, `interval_ms`.
    SnakeCase,
}

impl Spelling {
    /// The name of option `camel` (its camelCase name, durations by their seconds name) in
    /// this spelling, durations in this spelling's unit: `timeoutMs`, `timeout`.
    pub(crate) fn name(self, camel: &str) -> String {
        match (self, DURATIONS.contains(&camel)) {
            (Spelling::CamelCase, true) => format!("{camel}Ms"),
            _ => self.words(camel),
        }
    }

    /// The name a duration would have in the other unit (`timeout` for Node, `timeout_ms` for
    /// Python), and this spelling's unit.
    fn other_unit(self, camel: &str) -> Option<(String, &'static str)> {
        DURATIONS.contains(&camel).then(|| match self {
            Spelling::CamelCase => (camel.to_string(), "milliseconds"),
            Spelling::SnakeCase => (format!("{}_ms", self.words(camel)), "seconds"),
        })
    }

    /// The milliseconds in one unit of a duration option in this spelling.
    fn unit_ms(self) -> f64 {
        match self {
            Spelling::CamelCase => 1.0,
            Spelling::SnakeCase => 1000.0,
        }
    }

    fn words(self, camel: &str) -> String {
        match self {
            Spelling::CamelCase => camel.to_string(),
            Spelling::SnakeCase => {
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
        }
    }
}

/// The value of option `camel` as `spelling` names it (null counts as absent), and that name.
pub(crate) fn option<'a>(
    obj: Option<&'a Map<String, Value>>,
    camel: &str,
    spelling: Spelling,
) -> (String, Option<&'a Value>) {
    let name = spelling.name(camel);
    let value = obj.and_then(|o| o.get(&name)).filter(|v| !v.is_null());
    (name, value)
}

pub(crate) fn check_keys(obj: &Map<String, Value>, allowed: &[&str], what: &str, spelling: Spelling) -> Result<()> {
    let names: Vec<String> = allowed.iter().map(|a| spelling.name(a)).collect();
    let Some(key) = obj.keys().find(|key| !names.contains(key)) else { return Ok(()) };
    let in_other_unit = allowed.iter().find_map(|a| match spelling.other_unit(a) {
        Some((name, unit)) if &name == key => Some((spelling.name(a), unit)),
        _ => None,
    });
    Err(Error::invalid_argument(match in_other_unit {
        Some((name, unit)) => format!("unknown {what} option {key:?}: durations are in {unit} here, pass {name}"),
        None => format!("unknown {what} option {key:?}; expected one of {}", names.join(", ")),
    }))
}

/// Duration option `camel` in the unit of `spelling` (null counts as absent), with the name
/// it was given under.
fn duration(obj: &Map<String, Value>, camel: &str, spelling: Spelling) -> Result<(String, Option<Duration>)> {
    let (name, value) = option(Some(obj), camel, spelling);
    let duration = validate::duration_value(&name, value, spelling.unit_ms())?;
    Ok((name, duration))
}

fn positive_duration(obj: &Map<String, Value>, camel: &str, spelling: Spelling) -> Result<Option<Duration>> {
    match duration(obj, camel, spelling)? {
        (name, Some(v)) if v.is_zero() => Err(Error::invalid_argument(format!("{name} must be greater than 0"))),
        (_, v) => Ok(v),
    }
}

fn string(obj: &Map<String, Value>, key: &str, spelling: Spelling) -> Result<Option<String>> {
    match option(Some(obj), key, spelling) {
        (_, None) => Ok(None),
        (_, Some(Value::String(s))) => Ok(Some(s.clone())),
        (name, Some(other)) => {
            Err(Error::configuration(format!("{name} must be a string, got {}", validate::type_only(other))))
        }
    }
}

fn boolean(obj: &Map<String, Value>, key: &str, spelling: Spelling) -> Result<Option<bool>> {
    match option(Some(obj), key, spelling) {
        (_, None) => Ok(None),
        (_, Some(Value::Bool(b))) => Ok(Some(*b)),
        (name, Some(other)) => {
            Err(Error::invalid_argument(format!("{name} must be a boolean, got {}", describe(other))))
        }
    }
}

impl ClientBuilder {
    /// Reads client options from one JSON object: `apiKey`, `secretKey`, `baseUrl`,
    /// `timeoutMs`, `connectTimeoutMs`, `maxRetries`, `minPollIntervalMs`, `allowInsecureHttp`.
    /// Unknown keys are refused, so a typo does not pass silently, and so is a duration in
    /// seconds (`timeout`). For snake_case names and durations in seconds (`max_retries`,
    /// `timeout`), see [`ClientBuilder::from_json_spelled`].
    ///
    /// ```
    /// use serde_json::json;
    /// use smartai_events::ClientBuilder;
    /// let client = ClientBuilder::from_json(&json!({
    ///     "apiKey": "wc_ak_test_0123456789", "secretKey": "s", "timeoutMs": 5000, "maxRetries": 1
    /// })).unwrap().build().unwrap();
    /// assert_eq!(client.config().timeout().as_secs(), 5);
    /// assert!(ClientBuilder::from_json(&json!({"timeOut": 5})).is_err());
    /// let err = ClientBuilder::from_json(&json!({"timeout": 5000})).unwrap_err();
    /// assert!(err.to_string().contains("durations are in milliseconds here, pass timeoutMs"));
    /// ```
    pub fn from_json(options: &Value) -> Result<ClientBuilder> {
        Self::from_json_spelled(options, Spelling::CamelCase)
    }

    /// [`ClientBuilder::from_json`] with the option names in `spelling`.
    pub fn from_json_spelled(options: &Value, spelling: Spelling) -> Result<ClientBuilder> {
        if !matches!(options, Value::Object(_) | Value::Null) {
            // Not echoed: this is where a key lands when passed instead of the options
            // (`new AssessmentClient(process.env.ASSESSMENT_SECRET_KEY)`).
            let got = validate::type_only(options);
            return Err(Error::invalid_argument(format!("options must be an object, got {got}")));
        }
        let empty = Map::new();
        let obj = options_object(options)?.unwrap_or(&empty);
        check_keys(
            obj,
            &[
                "apiKey",
                "secretKey",
                "baseUrl",
                "timeout",
                "connectTimeout",
                "maxRetries",
                "minPollInterval",
                "allowInsecureHttp",
            ],
            "client",
            spelling,
        )?;
        let mut builder =
            ClientBuilder::default().insecure_http_hint(format!("set {}", spelling.name("allowInsecureHttp")));
        if let Some(v) = string(obj, "apiKey", spelling)? {
            builder = builder.api_key(v);
        }
        if let Some(v) = string(obj, "secretKey", spelling)? {
            builder = builder.secret_key(v);
        }
        if let Some(v) = string(obj, "baseUrl", spelling)? {
            builder = builder.base_url(v);
        }
        if let Some(v) = positive_duration(obj, "timeout", spelling)? {
            builder = builder.timeout(v);
        }
        if let Some(v) = positive_duration(obj, "connectTimeout", spelling)? {
            builder = builder.connect_timeout(v);
        }
        if let (name, Some(v)) = option(Some(obj), "maxRetries", spelling) {
            let n = validate::whole_number(v).filter(|n| (0..=100).contains(n)).ok_or_else(|| {
                Error::invalid_argument(format!("{name} must be an integer from 0 to 100, got {}", describe(v)))
            })?;
            builder = builder.max_retries(n as u32);
        }
        if let (_, Some(v)) = duration(obj, "minPollInterval", spelling)? {
            builder = builder.min_poll_interval(v);
        }
        if let Some(v) = boolean(obj, "allowInsecureHttp", spelling)? {
            builder = builder.allow_insecure_http(v);
        }
        Ok(builder)
    }
}

impl RunOptions {
    /// Reads run options from one JSON object: `intervalMs`,
    /// `maxAttempts`, `ordered`, and the drain options `limit`, `since`, `maxEvents`, `maxBatches`.
    /// The dead-letter hook is set with [`RunOptions::dead_letter`].
    ///
    /// ```
    /// use serde_json::json;
    /// let opts = smartai_events::RunOptions::from_json(&json!({"intervalMs": 10000, "limit": 50})).unwrap();
    /// assert_eq!(opts.get_interval().as_secs(), 10);
    /// ```
    pub fn from_json(options: &Value) -> Result<RunOptions> {
        Self::from_json_spelled(options, Spelling::CamelCase)
    }
}

impl<E: QueueEvent> RunOptions<E> {
    /// [`RunOptions::from_json`] with the option names in `spelling`, for a handler that
    /// takes `Vec<E>`.
    pub fn from_json_spelled(options: &Value, spelling: Spelling) -> Result<Self> {
        let empty = Map::new();
        let obj = options_object(options)?.unwrap_or(&empty);
        check_keys(
            obj,
            &["interval", "maxAttempts", "ordered", "limit", "since", "maxEvents", "maxBatches"],
            "run",
            spelling,
        )?;
        let mut drain_obj = obj.clone();
        for k in ["interval", "maxAttempts", "ordered"] {
            drain_obj.remove(&spelling.name(k));
        }
        let drain = DrainOptions::from_json_spelled(&Value::Object(drain_obj), spelling)?;
        let mut opts = Self::for_events().drain_options(drain);
        opts.spelling = Some(spelling);
        if let (_, Some(v)) = duration(obj, "interval", spelling)? {
            opts = opts.interval(v);
        }
        let (name, value) = option(Some(obj), "maxAttempts", spelling);
        if let Some(n) = validate::count_value(&name, value)? {
            opts = opts.max_attempts(n.min(u32::MAX as u64) as u32);
        }
        if let Some(ordered) = boolean(obj, "ordered", spelling)? {
            opts = opts.ordered(ordered);
        }
        Ok(opts)
    }
}

impl DrainOptions {
    /// Like [`DrainOptions::from_json`], refusing unknown keys.
    pub fn from_json_strict(options: &Value) -> Result<DrainOptions> {
        Self::from_json_strict_spelled(options, Spelling::CamelCase)
    }

    /// [`DrainOptions::from_json_strict`] with the option names in `spelling`.
    pub fn from_json_strict_spelled(options: &Value, spelling: Spelling) -> Result<DrainOptions> {
        if let Some(obj) = options_object(options)? {
            check_keys(obj, &["limit", "since", "maxEvents", "maxBatches"], "drain", spelling)?;
        }
        DrainOptions::from_json_spelled(options, spelling)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_insecure_url_error_names_the_option_as_the_caller_spells_it() {
        let options = json!({"apiKey": "wc_ak_test_0123456789", "secretKey": "s", "baseUrl": "http://example.com"});
        let err = ClientBuilder::from_json(&options).unwrap().build().unwrap_err();
        assert!(err.to_string().ends_with("or set allowInsecureHttp"), "{err}");
        let snake = json!({"api_key": "wc_ak_test_0123456789", "secret_key": "s", "base_url": "http://example.com"});
        let err = ClientBuilder::from_json_spelled(&snake, Spelling::SnakeCase).unwrap().build().unwrap_err();
        assert!(err.to_string().ends_with("or set allow_insecure_http"), "{err}");
        let err =
            ClientBuilder::default().api_key("wc_ak_test_0123456789").secret_key("s").base_url("http://example.com");
        assert!(err.build().unwrap_err().to_string().ends_with("or set allow_insecure_http"));
    }

    #[test]
    fn client_options_validate_and_never_echo_secrets() {
        let err = ClientBuilder::from_json(&json!({"secretKey": 12345})).unwrap_err();
        assert!(!err.to_string().contains("12345"), "{err}");
        // A key passed where the options object belongs is not echoed either.
        let err = ClientBuilder::from_json(&json!("wc_sk_live_not_for_logs")).unwrap_err();
        assert_eq!(err.to_string(), "options must be an object, got a string");
        let err = ClientBuilder::from_json(&json!({"timeoutMs": -1})).unwrap_err();
        assert!(err.to_string().contains("-1"), "{err}");
        let err = ClientBuilder::from_json(&json!({"maxRetries": 1.5})).unwrap_err();
        assert!(err.to_string().contains("1.5"), "{err}");
        // A whole float is that integer, as for every integer option (limit, maxAttempts...).
        let keys = json!({"apiKey": "wc_ak_test_0123456789", "secretKey": "s", "maxRetries": 3.0});
        assert_eq!(ClientBuilder::from_json(&keys).unwrap().build().unwrap().config().retry.max_retries, 3);
        let err = ClientBuilder::from_json(&json!({"allowInsecureHttp": "yes"})).unwrap_err();
        assert!(err.to_string().contains("yes"), "{err}");
        let b = ClientBuilder::from_json(
            &json!({"apiKey": "wc_ak_test_0123456789", "secretKey": "s", "minPollIntervalMs": 0}),
        )
        .unwrap()
        .build()
        .unwrap();
        assert_eq!(b.config().min_poll_interval(), Duration::ZERO);
    }

    #[test]
    fn run_options() {
        let o = RunOptions::from_json(&json!({"intervalMs": 7500, "maxAttempts": 2, "maxEvents": 10})).unwrap();
        assert_eq!(o.get_interval(), Duration::from_millis(7500));
        assert!(RunOptions::from_json(&json!({"intervall": 7})).unwrap_err().to_string().contains("intervall"));
        assert!(RunOptions::from_json(&json!({"limit": 0})).is_err());
        assert!(RunOptions::from_json(&json!({"ordered": "yes"})).is_err());
        assert!(format!("{:?}", RunOptions::from_json(&json!({"ordered": true})).unwrap()).contains("ordered: true"));
    }

    #[test]
    fn each_spelling_accepts_its_own_names_and_messages_use_them() {
        let snake = Spelling::SnakeCase;
        let err = ClientBuilder::from_json_spelled(&json!({"max_retries": -1}), snake).unwrap_err();
        assert!(err.to_string().starts_with("max_retries must be"), "{err}");
        let err = ClientBuilder::from_json(&json!({"maxRetries": -1})).unwrap_err();
        assert!(err.to_string().starts_with("maxRetries must be"), "{err}");
        let err = ClientBuilder::from_json_spelled(&json!({"connect_timeout": 0}), snake).unwrap_err();
        assert_eq!(err.to_string(), "connect_timeout must be greater than 0");
        let err = ClientBuilder::from_json_spelled(&json!({"min_poll_interval": -1}), snake).unwrap_err();
        assert!(err.to_string().starts_with("min_poll_interval must be"), "{err}");
        // The other spelling is an unknown option, listed in the caller's spelling.
        let err = ClientBuilder::from_json_spelled(&json!({"maxRetries": 1}), snake).unwrap_err();
        assert!(err.to_string().contains("max_retries, min_poll_interval"), "{err}");
        let err = ClientBuilder::from_json(&json!({"max_retries": 1})).unwrap_err();
        assert!(err.to_string().contains("maxRetries, minPollIntervalMs"), "{err}");
        let client = ClientBuilder::from_json_spelled(
            &json!({"api_key": "wc_ak_test_0123456789", "secret_key": "s", "min_poll_interval": 0, "allow_insecure_http": false}),
            snake,
        )
        .unwrap()
        .build()
        .unwrap();
        assert_eq!(client.config().min_poll_interval(), Duration::ZERO);

        let err = RunOptions::<crate::WebhookEvent>::from_json_spelled(&json!({"max_attempts": 0}), snake).unwrap_err();
        assert!(err.to_string().starts_with("max_attempts must be"), "{err}");
        assert!(RunOptions::from_json(&json!({"interval_ms": 5000})).is_err());
        let o = RunOptions::<crate::WebhookEvent>::from_json_spelled(&json!({"interval": 7.5}), snake).unwrap();
        assert_eq!(o.get_interval(), Duration::from_millis(7500));
        let err = DrainOptions::from_json_strict_spelled(&json!({"max_events": -1}), snake).unwrap_err();
        assert!(err.to_string().starts_with("max_events must be"), "{err}");
        let err = DrainOptions::from_json_strict(&json!({"maxBatches": 0})).unwrap_err();
        assert!(err.to_string().starts_with("maxBatches must be"), "{err}");
        let o = RunOptions::<crate::WebhookEvent>::from_json_spelled(
            &json!({"interval": 6, "max_attempts": 2, "max_events": 10, "max_batches": 3}),
            snake,
        )
        .unwrap();
        let shown = format!("{o:?}");
        for part in ["6s", "max_attempts: 2", "max_events: Some(10)", "max_batches: Some(3)"] {
            assert!(shown.contains(part), "{part} in {shown}");
        }
    }

    #[test]
    fn durations_take_the_unit_of_the_language_and_refuse_the_other() {
        // Node: milliseconds. A bare `timeout: 5000` would be 83 minutes if read as seconds.
        for (key, hint) in [
            ("timeout", "pass timeoutMs"),
            ("connectTimeout", "pass connectTimeoutMs"),
            ("minPollInterval", "pass minPollIntervalMs"),
        ] {
            let err = ClientBuilder::from_json(&json!({ key: 5000 })).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("unknown client option {key:?}: durations are in milliseconds here, {hint}")
            );
        }
        let err = RunOptions::from_json(&json!({"interval": 30000})).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"unknown run option "interval": durations are in milliseconds here, pass intervalMs"#
        );
        let keys = json!({"apiKey": "wc_ak_test_0123456789", "secretKey": "s"});
        let with = |more: serde_json::Value| {
            let mut all = keys.clone();
            all.as_object_mut().unwrap().extend(more.as_object().unwrap().clone());
            all
        };
        let c = ClientBuilder::from_json(&with(json!({"timeoutMs": 1500, "minPollIntervalMs": 250})))
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(c.config().timeout(), Duration::from_millis(1500));
        assert_eq!(c.config().min_poll_interval(), Duration::from_millis(250));

        // Python: seconds, as httpx.
        let snake = Spelling::SnakeCase;
        let err = ClientBuilder::from_json_spelled(&json!({"timeout_ms": 5000}), snake).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"unknown client option "timeout_ms": durations are in seconds here, pass timeout"#
        );
        let err =
            RunOptions::<crate::WebhookEvent>::from_json_spelled(&json!({"interval_ms": 6000}), snake).unwrap_err();
        assert_eq!(
            err.to_string(),
            r#"unknown run option "interval_ms": durations are in seconds here, pass interval"#
        );
        let c = ClientBuilder::from_json_spelled(
            &json!({"api_key": "wc_ak_test_0123456789", "secret_key": "s", "timeout": 1.5, "min_poll_interval": 0.25}),
            snake,
        )
        .unwrap()
        .build()
        .unwrap();
        assert_eq!(c.config().timeout(), Duration::from_millis(1500));
        assert_eq!(c.config().min_poll_interval(), Duration::from_millis(250));
    }

    #[test]
    fn fetch_options_refuse_unknown_keys() {
        let err = crate::FetchOptions::from_json(&json!({"limt": 5})).unwrap_err();
        assert!(err.to_string().contains("limt"), "{err}");
    }
}
