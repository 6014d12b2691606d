//! Client configuration: options, environment variables and their validation.

use crate::error::{Error, Result};
use crate::retry::RetryPolicy;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;
use url::Url;

/// The production base URL.
pub const DEFAULT_BASE_URL: &str = "https://platform.smartai.app";
/// Environment variable holding the API key.
pub const ENV_API_KEY: &str = "ASSESSMENT_API_KEY";
/// Environment variable holding the secret key.
pub const ENV_SECRET_KEY: &str = "ASSESSMENT_SECRET_KEY";
/// Environment variable holding the base URL.
pub const ENV_BASE_URL: &str = "ASSESSMENT_BASE_URL";

const TEST_KEY_PREFIX: &str = "wc_ak_test_";

/// Which platform environment a key belongs to.
///
/// ```
/// use smartai_events::Environment;
/// assert_eq!(Environment::of_api_key("wc_ak_test_123"), Environment::Test);
/// assert_eq!(Environment::of_api_key("wc_ak_abc"), Environment::Live);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Environment {
    /// A `wc_ak_test_` key: no real emails are sent.
    Test,
    /// Any other key.
    Live,
}

impl Environment {
    /// The environment a key belongs to, from its prefix.
    pub fn of_api_key(api_key: &str) -> Self {
        if api_key.starts_with(TEST_KEY_PREFIX) { Environment::Test } else { Environment::Live }
    }

    /// `"test"` or `"live"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Test => "test",
            Environment::Live => "live",
        }
    }
}

/// A secret that never shows itself in `Debug` or `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(String);

impl SecretString {
    /// Wraps a secret.
    pub fn new(secret: impl Into<String>) -> Self {
        SecretString(secret.into())
    }

    /// The secret itself; only for signing.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"[redacted]\"")
    }
}

/// Shows an API key as `wc_ak_test_…1234`: enough to tell keys apart, not enough to use one.
///
/// ```
/// assert_eq!(smartai_events::mask_api_key("wc_ak_test_abcdef1234"), "wc_ak_test_…1234");
/// assert_eq!(smartai_events::mask_api_key("short"), "…");
/// ```
pub fn mask_api_key(api_key: &str) -> String {
    let chars: Vec<char> = api_key.chars().collect();
    if chars.len() < 12 {
        return "…".to_string();
    }
    let prefix =
        if api_key.starts_with(TEST_KEY_PREFIX) { TEST_KEY_PREFIX.to_string() } else { chars[..4].iter().collect() };
    let suffix: String = chars[chars.len() - 4..].iter().collect();
    format!("{prefix}…{suffix}")
}

/// The validated settings of a client. Built by [`crate::ClientBuilder`].
#[derive(Clone)]
pub struct Config {
    pub(crate) api_key: String,
    pub(crate) secret_key: SecretString,
    pub(crate) base_url: Url,
    pub(crate) timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) retry: RetryPolicy,
    pub(crate) min_poll_interval: Duration,
    pub(crate) user_agent: String,
}

impl Config {
    /// The environment of the configured key.
    pub fn environment(&self) -> Environment {
        Environment::of_api_key(&self.api_key)
    }

    /// The base URL requests go to.
    pub fn base_url(&self) -> &Url {
        &self.base_url
    }

    /// The per-attempt timeout.
    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// The retry policy.
    pub fn retry(&self) -> &RetryPolicy {
        &self.retry
    }

    /// The idle-poll gate interval.
    pub fn min_poll_interval(&self) -> Duration {
        self.min_poll_interval
    }

    /// The API key. It identifies the organisation and is not secret like the secret key,
    /// but show [`Config::api_key_masked`] in logs and output.
    pub fn api_key(&self) -> &str {
        &self.api_key
    }

    /// The API key, masked.
    pub fn api_key_masked(&self) -> String {
        mask_api_key(&self.api_key)
    }
}

impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("api_key", &mask_api_key(&self.api_key))
            .field("secret_key", &self.secret_key)
            .field("base_url", &self.base_url.as_str())
            .field("environment", &self.environment())
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("retry", &self.retry)
            .field("min_poll_interval", &self.min_poll_interval)
            .finish()
    }
}

/// Resolves one key: an explicit option wins over the environment, where an empty variable
/// counts as unset. An explicit empty option is refused, not replaced by the environment's
/// key: a tenant whose key column is empty must not poll, and acknowledge, another account's
/// queue.
pub(crate) fn resolve_key(option: Option<String>, env_var: &str, what: &str) -> Result<Option<String>> {
    match option {
        Some(v) if v.trim().is_empty() => Err(Error::configuration(format!(
            "the {what} given is empty; pass the key, or leave the option out to read {env_var}"
        ))),
        Some(v) => Ok(Some(v)),
        None => Ok(env_value(env_var)),
    }
}

fn env_value(env_var: &str) -> Option<String> {
    std::env::var(env_var).ok().filter(|v| !v.trim().is_empty())
}

/// The base URL to use: an explicit option, else the environment, else production. An
/// explicit empty option is refused rather than silently replaced by production; an empty
/// environment variable counts as unset, as shells make that easy.
pub(crate) fn resolve_base_url(option: Option<String>) -> Result<String> {
    match option {
        Some(raw) if raw.trim().is_empty() => {
            Err(Error::configuration(format!("invalid base URL {raw:?}: it is empty")))
        }
        Some(url) => Ok(url),
        None => Ok(env_value(ENV_BASE_URL).unwrap_or_else(|| DEFAULT_BASE_URL.to_string())),
    }
}

/// Parses and checks a base URL: http(s) only, no query or fragment, and plain http only
/// to a loopback host unless `allow_insecure_http` is set, because `x-api-key` would
/// otherwise cross the network in clear text.
///
/// `insecure_hint` says how the caller allows plain http (`set allow_insecure_http`).
pub(crate) fn parse_base_url(raw: &str, allow_insecure_http: bool, insecure_hint: &str) -> Result<Url> {
    let shown = shown_url(raw);
    let mut url = Url::parse(raw.trim()).map_err(|e| Error::configuration(format!("invalid base URL {shown}: {e}")))?;
    match url.scheme() {
        "https" => {}
        "http" => {
            if !allow_insecure_http && !is_loopback(&url) {
                return Err(Error::configuration(format!(
                    "refusing insecure base URL {shown}: plain http would send the API key in clear \
                     text; use https, a loopback host, or {insecure_hint}"
                )));
            }
        }
        other => {
            return Err(Error::configuration(format!(
                "invalid base URL {shown}: scheme {other:?} is not http or https"
            )));
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::configuration(format!("invalid base URL {shown}: it has no host")));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(Error::configuration(format!(
            "invalid base URL {shown}: it must not carry a query string or fragment"
        )));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Error::configuration(format!("invalid base URL {shown}: it must not carry credentials")));
    }
    // A prefix path is kept; the trailing slash goes so that joining stays predictable.
    let trimmed = url.path().trim_end_matches('/').to_string();
    url.set_path(&trimmed);
    Ok(url)
}

/// `raw`, quoted, with its credentials masked ([`mask_url_credentials`]).
fn shown_url(raw: &str) -> String {
    format!("{:?}", mask_url_credentials(raw))
}

/// A URL with anything between its scheme and its last `@` replaced by `***`, for messages
/// and logs: whatever else is wrong with the text, a password in it is never shown. The
/// last `@` is taken because a password may hold an unencoded `/`, `?` or `#`; and since URL
/// parsers find credentials after `http:/`, `https:` or `http:\\` as well as after `http://`,
/// the mask starts after the first `:` and the slashes that follow it.
fn mask_url_credentials(raw: &str) -> std::borrow::Cow<'_, str> {
    if let (Some(colon), Some(at)) = (raw.find(':'), raw.rfind('@')) {
        let start = colon + 1 + raw[colon + 1..].bytes().take_while(|b| matches!(b, b'/' | b'\\')).count();
        if at >= start {
            return format!("{}***{}", &raw[..start], &raw[at..]).into();
        }
    }
    raw.into()
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_base_url_error_shows_a_password() {
        let bad = [
            "ftp://u:hunter2@host/x",
            "http://u:hunter2@example.com/x",
            "https://u:hunter2@host/?q=1",
            "https://u:hunter2@host/#f",
            "https://u:hun/ter2@host",
            "https://u:hunter2@",
            "https://u:hunter2@host",
            "https://hunter2@host",
            // Credentials that URL parsers find without `://`.
            "http:/u:hunter2@example.com",
            "https:u:hunter2@example.com",
            "http:\\\\u:hunter2@example.com",
            "https:/u:hunter2@",
            "u:hunter2@example.com",
        ];
        for raw in bad {
            let err = parse_base_url(raw, false, "set allow_insecure_http").unwrap_err().to_string();
            assert!(!err.contains("hunter2") && !err.contains("ter2"), "{err}");
            assert!(err.contains("***@"), "{err}");
        }
    }

    #[test]
    fn loopback_http_is_allowed_and_remote_http_refused() {
        assert!(parse_base_url("http://127.0.0.1:8080", false, "set allow_insecure_http").is_ok());
        assert!(parse_base_url("http://127.5.0.1:8080", false, "set allow_insecure_http").is_ok());
        assert!(parse_base_url("http://[::1]:8080", false, "set allow_insecure_http").is_ok());
        assert!(parse_base_url("http://localhost:1", false, "set allow_insecure_http").is_ok());
        let err = parse_base_url("http://example.com", false, "set allow_insecure_http").unwrap_err();
        assert!(err.to_string().contains("http://example.com"), "{err}");
        assert!(parse_base_url("http://example.com", true, "set allow_insecure_http").is_ok());
    }

    #[test]
    fn bad_urls_are_named() {
        for bad in ["ftp://x", "not a url", "https://h/?q=1", "https://u:p@h"] {
            let err = parse_base_url(bad, false, "set allow_insecure_http").unwrap_err();
            assert_eq!(err.code(), crate::ErrorCode::Configuration);
            assert!(!err.to_string().contains(":p@"), "{err}");
        }
    }

    #[test]
    fn prefix_path_is_kept_without_trailing_slash() {
        let url = parse_base_url("https://host/prefix/", false, "set allow_insecure_http").unwrap();
        assert_eq!(url.path(), "/prefix");
    }

    #[test]
    fn secret_debug_is_redacted() {
        assert_eq!(format!("{:?}", SecretString::new("wc_sk_x")), "\"[redacted]\"");
    }
}
