//! One error type for every failure, with a stable code shared by all three languages.

use std::time::Duration;

/// The stable, language-independent error codes.
///
/// ```
/// use smartai_events::ErrorCode;
/// assert_eq!(ErrorCode::RateLimited.as_str(), "RATE_LIMITED");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorCode {
    /// `INVALID_ARGUMENT`: a value failed client-side validation; nothing was sent.
    InvalidArgument,
    /// `CONFIGURATION`: missing keys, a bad or insecure base URL.
    Configuration,
    /// `AUTHENTICATION`: 401 or 403.
    Authentication,
    /// `RATE_LIMITED`: 429 after the last retry.
    RateLimited,
    /// `INVALID_REQUEST`: 400 or 422.
    InvalidRequest,
    /// `NOT_FOUND`: 404 or 405, usually a wrong base URL.
    NotFound,
    /// `SERVER`: 5xx, or an unexpected status, after the last retry.
    Server,
    /// `TIMEOUT`: no complete response within the timeout.
    Timeout,
    /// `NETWORK`: refused, reset or truncated.
    Network,
    /// `DECODE`: a success whose body is not the documented JSON.
    Decode,
    /// `HANDLER`: the user's handler or dead-letter hook failed.
    Handler,
    /// `CANCELLED`: the call was cancelled or its client closed.
    Cancelled,
}

impl ErrorCode {
    /// The code as the upper-case string every binding exposes.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorCode::InvalidArgument => "INVALID_ARGUMENT",
            ErrorCode::Configuration => "CONFIGURATION",
            ErrorCode::Authentication => "AUTHENTICATION",
            ErrorCode::RateLimited => "RATE_LIMITED",
            ErrorCode::InvalidRequest => "INVALID_REQUEST",
            ErrorCode::NotFound => "NOT_FOUND",
            ErrorCode::Server => "SERVER",
            ErrorCode::Timeout => "TIMEOUT",
            ErrorCode::Network => "NETWORK",
            ErrorCode::Decode => "DECODE",
            ErrorCode::Handler => "HANDLER",
            ErrorCode::Cancelled => "CANCELLED",
        }
    }
}

impl std::fmt::Display for ErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What went wrong on the wire: the HTTP status (if a response came), the request ID
/// sent as `x-request-id`, and the server's own message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorContext {
    /// The HTTP status, when a response came.
    pub status: Option<u16>,
    /// The `x-request-id` the request was sent with (the same on every retry).
    pub request_id: Option<String>,
    /// The `error` or `message` of the server's JSON error body, if it had one.
    pub server_message: Option<String>,
    /// The server's `Retry-After` (on a 429 or 503), capped at five minutes.
    pub retry_after: Option<Duration>,
}

type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Every error this crate returns. Match on the variant, or use [`Error::code`].
///
/// ```
/// use smartai_events::{AssessmentClient, ErrorCode};
/// let err = AssessmentClient::builder().secret_key("s").build().unwrap_err();
/// assert_eq!(err.code(), ErrorCode::Configuration);
/// assert_eq!(err.to_string(), "Missing API key");
/// ```
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An argument failed client-side validation; nothing was sent.
    #[error("{message}")]
    InvalidArgument {
        /// What is wrong, naming the bad value.
        message: String,
    },
    /// Missing keys, a bad base URL, an insecure URL.
    #[error("{message}")]
    Configuration {
        /// What is wrong, naming the setting (never a secret).
        message: String,
    },
    /// 401 or 403: a wrong key, a wrong secret, or a clock the server does not accept.
    #[error("HTTP {} from SmartAI platform: {}", .context.status.unwrap_or(401), .message)]
    Authentication {
        /// The server's reason.
        message: String,
        /// The response it came with.
        context: ErrorContext,
    },
    /// 429 after the last retry. `retry_after` is the server's hint, if it gave one.
    #[error("rate limited by the SmartAI platform: {message}{}", fmt_retry_after(.retry_after))]
    RateLimited {
        /// The server's reason.
        message: String,
        /// How long the server asked to wait (`Retry-After`), capped at five minutes.
        retry_after: Option<Duration>,
        /// The response it came with.
        context: ErrorContext,
    },
    /// 400 or 422: the server refused the request.
    #[error("invalid request (HTTP {}): {message}", .context.status.unwrap_or(400))]
    InvalidRequest {
        /// The server's reason.
        message: String,
        /// The response it came with.
        context: ErrorContext,
    },
    /// 404 or 405, usually a wrong base URL.
    #[error("not found (HTTP {}): {message}; check the base URL", .context.status.unwrap_or(404))]
    NotFound {
        /// The server's reason.
        message: String,
        /// The response it came with.
        context: ErrorContext,
    },
    /// 5xx (or an unexpected status, a redirect included) after the last retry.
    #[error("server error (HTTP {}): {message}", .context.status.unwrap_or(500))]
    Server {
        /// The server's reason, or the status's.
        message: String,
        /// The response it came with.
        context: ErrorContext,
    },
    /// An attempt took longer than the timeout, after the last retry.
    #[error("timed out: {message}")]
    Timeout {
        /// How long was waited, and for what.
        message: String,
        /// The request (no status: no complete response came).
        context: ErrorContext,
    },
    /// Connection refused or reset, a truncated body, after the last retry.
    #[error("network error: {message}")]
    Network {
        /// The failure and its causes.
        message: String,
        /// The request, and the status if a response had begun.
        context: ErrorContext,
        /// `None` for the failures this crate reports: their whole cause chain is in
        /// `message` already (a chain printer would show it twice), and the HTTP client's
        /// own error type is not part of this API.
        #[source]
        source: Option<BoxError>,
    },
    /// A success status whose body is not the documented JSON.
    #[error("could not decode the response: {message}")]
    Decode {
        /// What was expected, quoting the start of the body (see [`Error::for_log`]).
        message: String,
        /// The response it came with.
        context: ErrorContext,
    },
    /// The user's handler failed; `source` is the handler's own error.
    #[error("handler failed: {source}")]
    Handler {
        /// The handler's error, as it returned it.
        #[source]
        source: BoxError,
    },
    /// The operation was cancelled (the stop signal fired).
    #[error("cancelled")]
    Cancelled,
    /// The operation was cancelled because the client was closed
    /// ([`AssessmentClient::close`](crate::AssessmentClient::close)); code `CANCELLED`, as
    /// for [`Error::Cancelled`], with a message that says why.
    #[error("cancelled: the client was closed")]
    Closed,
}

fn fmt_retry_after(retry_after: &Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!(" (retry after {:.3} s)", d.as_secs_f64()),
        None => String::new(),
    }
}

impl Error {
    /// A `DECODE` error given the status and request ID of the response it is about.
    pub(crate) fn of_response(mut self, response: ErrorContext) -> Self {
        if let Error::Decode { context, .. } = &mut self {
            *context = response;
        }
        self
    }

    /// This error for a log line at the default level, for `health()` and for `run`'s cycle
    /// reports. A `DECODE` error quotes the response it could not read, and a fetch
    /// response holds candidates' names and emails, so its message is left out (`run` logs
    /// it at debug level); other errors are their `Display`.
    ///
    /// ```
    /// use smartai_events::Error;
    /// let error = Error::Configuration { message: "Missing API key".into() };
    /// assert_eq!(error.for_log(), "Missing API key");
    /// let error = Error::Decode { message: r#"got {"candidateEmail":"ada@example.com"}"#.into(), context: Default::default() };
    /// assert!(!error.for_log().contains("ada@example.com"));
    /// ```
    pub fn for_log(&self) -> String {
        match self {
            Error::Decode { context, .. } => format!(
                "could not decode the response (HTTP {}, request {}); its text is logged at debug level only",
                context.status.map_or_else(|| "-".to_string(), |s| s.to_string()),
                context.request_id.as_deref().unwrap_or("-"),
            ),
            _ => self.to_string(),
        }
    }

    /// The stable code of this error.
    pub fn code(&self) -> ErrorCode {
        match self {
            Error::InvalidArgument { .. } => ErrorCode::InvalidArgument,
            Error::Configuration { .. } => ErrorCode::Configuration,
            Error::Authentication { .. } => ErrorCode::Authentication,
            Error::RateLimited { .. } => ErrorCode::RateLimited,
            Error::InvalidRequest { .. } => ErrorCode::InvalidRequest,
            Error::NotFound { .. } => ErrorCode::NotFound,
            Error::Server { .. } => ErrorCode::Server,
            Error::Timeout { .. } => ErrorCode::Timeout,
            Error::Network { .. } => ErrorCode::Network,
            Error::Decode { .. } => ErrorCode::Decode,
            Error::Handler { .. } => ErrorCode::Handler,
            Error::Cancelled | Error::Closed => ErrorCode::Cancelled,
        }
    }

    fn context(&self) -> Option<&ErrorContext> {
        match self {
            Error::Authentication { context, .. }
            | Error::RateLimited { context, .. }
            | Error::InvalidRequest { context, .. }
            | Error::NotFound { context, .. }
            | Error::Server { context, .. }
            | Error::Timeout { context, .. }
            | Error::Network { context, .. }
            | Error::Decode { context, .. } => Some(context),
            _ => None,
        }
    }

    /// The HTTP status of the response that caused this error, if there was one.
    pub fn status(&self) -> Option<u16> {
        self.context().and_then(|c| c.status)
    }

    /// The `x-request-id` of the call, the same across its retries.
    pub fn request_id(&self) -> Option<&str> {
        self.context().and_then(|c| c.request_id.as_deref())
    }

    /// The message the server put in its error body, if any.
    pub fn server_message(&self) -> Option<&str> {
        self.context().and_then(|c| c.server_message.as_deref())
    }

    /// The server's `Retry-After` hint (on a rate-limited or unavailable error).
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::RateLimited { retry_after, .. } => *retry_after,
            _ => self.context().and_then(|c| c.retry_after),
        }
    }

    /// Whether a later attempt may succeed (the run loop retries these).
    pub fn is_transient(&self) -> bool {
        matches!(self.code(), ErrorCode::RateLimited | ErrorCode::Server | ErrorCode::Timeout | ErrorCode::Network)
    }

    /// Wraps a handler's error; the binding recovers it with `source()` and downcasting.
    pub fn handler(source: impl Into<BoxError>) -> Self {
        Error::Handler { source: source.into() }
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> Self {
        Error::InvalidArgument { message: message.into() }
    }

    pub(crate) fn configuration(message: impl Into<String>) -> Self {
        Error::Configuration { message: message.into() }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
