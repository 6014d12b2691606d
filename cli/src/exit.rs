//! Exit codes, documented in `--help` and the README.

use smartai_events::ErrorCode;

/// Success, including a stop by SIGINT/SIGTERM after the acknowledgements were flushed.
pub const OK: u8 = 0;
/// Network, server, database or handler failure.
pub const RUNTIME: u8 = 1;
/// A bad flag, a bad database URL, missing keys, a bad base URL.
pub const USAGE: u8 = 2;
/// The platform refused the keys (or the clock).
pub const AUTH: u8 = 3;

/// A usage or configuration error found by the CLI itself (exit 2).
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Shorthand for an `anyhow::Error` that exits 2.
pub fn usage(message: impl Into<String>) -> anyhow::Error {
    UsageError(message.into()).into()
}

/// The exit code for an error: looks through the whole chain, so context added on the way
/// up does not change the code.
pub fn code_of(error: &anyhow::Error) -> u8 {
    for cause in error.chain() {
        if cause.downcast_ref::<UsageError>().is_some() {
            return USAGE;
        }
        if let Some(e) = cause.downcast_ref::<smartai_events::Error>() {
            return match e.code() {
                ErrorCode::Authentication => AUTH,
                ErrorCode::Configuration | ErrorCode::InvalidArgument => USAGE,
                // A handler error wraps our own (database) error; keep looking.
                ErrorCode::Handler => continue,
                _ => RUNTIME,
            };
        }
    }
    RUNTIME
}

/// The error code name for `--json` output.
pub fn code_name(error: &anyhow::Error) -> &'static str {
    for cause in error.chain() {
        if cause.downcast_ref::<UsageError>().is_some() {
            return "USAGE";
        }
        if cause.downcast_ref::<crate::signals::Interrupted>().is_some() {
            return "INTERRUPTED";
        }
        if let Some(e) = cause.downcast_ref::<smartai_events::Error>()
            && e.code() != ErrorCode::Handler
        {
            return e.code().as_str();
        }
    }
    "RUNTIME"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes() {
        assert_eq!(code_of(&usage("bad")), USAGE);
        assert_eq!(code_of(&anyhow::anyhow!("x")), RUNTIME);
        let missing =
            smartai_events::AssessmentClient::builder().api_key("a").secret_key("s").base_url("ftp://x").build();
        assert_eq!(code_of(&anyhow::Error::from(missing.unwrap_err()).context("building")), USAGE);
    }
}
