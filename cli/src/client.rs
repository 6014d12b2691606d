//! Builds the core client from flags and environment.

use crate::args::ClientArgs;
use smartai_events::{AssessmentClient, ErrorCode};

/// The configured client. A missing key or a bad base URL is a usage error (exit 2), with
/// a hint where to put the keys; no secret is ever part of the message.
pub fn build(args: &ClientArgs) -> anyhow::Result<AssessmentClient> {
    let mut builder = AssessmentClient::builder()
        .max_retries(args.max_retries)
        .min_poll_interval(args.min_poll_interval)
        .allow_insecure_http(args.allow_insecure_http)
        .insecure_http_hint("pass --allow-insecure-http");
    if let Some(v) = &args.api_key {
        builder = builder.api_key(v.clone());
    }
    if let Some(v) = &args.secret_key {
        builder = builder.secret_key(v.clone());
    }
    // The ASSESSMENT_* variables are left to the core, which counts an empty one as unset;
    // an empty flag is refused there, as an explicitly empty option is in every SDK.
    if let Some(v) = &args.base_url {
        builder = builder.base_url(v.clone());
    }
    let client = match builder.build() {
        Ok(c) => c,
        Err(e) if e.code() == ErrorCode::Configuration && e.to_string().starts_with("Missing") => {
            return Err(crate::exit::usage(format!(
                "{e}: set ASSESSMENT_API_KEY and ASSESSMENT_SECRET_KEY, or pass --api-key and --secret-key"
            )));
        }
        Err(e) => return Err(e.into()),
    };
    tracing::debug!(api_key = %client.config().api_key_masked(), base_url = %client.config().base_url(), "client ready");
    Ok(client)
}

/// Checks `options` as `run` will, before anything starts. Every other flag that reaches
/// these options is bounded by clap already, so a failure here is `--interval`'s, and the
/// message names the flag and its value: the core's words alone say "got 0.000 s" for `1ns`.
pub fn check_run_options<E: smartai_events::QueueEvent>(
    client: &AssessmentClient,
    options: &smartai_events::RunOptions<E>,
    interval: std::time::Duration,
) -> anyhow::Result<()> {
    client.validate_run_options(options).map_err(|e| {
        let typed = humantime::format_duration(interval);
        anyhow::Error::from(e).context(format!("invalid value '{typed}' for '--interval'"))
    })
}
