//! `NativeEmulator`: the in-process emulator (crate `smartai-emulator`) for users' own tests.
//!
//! Configuration, fault rules and the results (stats, request log) use the emulator's own
//! JSON shapes (its serde types), as its admin API does.

use crate::convert::{Loose, NumberArg, Options};
use crate::error::{coded, guard};
use napi::Result;
use napi_derive::napi;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use smartai_emulator::{Emulator, EmulatorConfig, FaultRule, RateLimitConfig, generator};
use smartai_events::ErrorCode;
use std::sync::Mutex;

fn from_json<T: DeserializeOwned>(value: Value, what: &str) -> Result<T> {
    serde_json::from_value(value).map_err(|e| coded(ErrorCode::InvalidArgument, format!("invalid {what}: {e}")))
}

fn to_json<T: Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| napi::Error::from_reason(e.to_string()))
}

/// A rate-limit config given as `null` (or not at all): refused, saying what to pass.
fn rate_limit_needed(what: &str, got: &str) -> napi::Error {
    coded(
        ErrorCode::InvalidArgument,
        format!(
            "{what} needs a rate-limit config, got {got}; pass {{ idle_poll_interval_ms: null, bucket: null }} \
             to turn both limits off, or {{}} for the defaults"
        ),
    )
}

fn rules(value: Value) -> Result<Vec<FaultRule>> {
    let rules: Vec<FaultRule> = match value {
        Value::Array(_) => from_json(value, "fault rules")?,
        other => vec![from_json(other, "fault rule")?],
    };
    for rule in &rules {
        rule.validate().map_err(|e| coded(ErrorCode::InvalidArgument, format!("invalid fault rule: {e}")))?;
    }
    Ok(rules)
}

/// Starts an emulator. `config` is the emulator's `EmulatorConfig` JSON (snake_case keys:
/// `initial_events`, `seed`, `rate_limit`, `keys`, `retention_ms`, `timestamp_window_ms`,
/// `clock_offset_ms`, `acknowledged_history`, `host`, `port`); `null` means the defaults.
#[napi(catch_unwind)]
pub async fn start_emulator(config: Options) -> Result<NativeEmulator> {
    guard(async move {
        let config: EmulatorConfig = match config.value()? {
            Value::Null => EmulatorConfig::default(),
            Value::Object(options) if options.get("rate_limit") == Some(&Value::Null) => {
                return Err(rate_limit_needed("rate_limit", "null"));
            }
            other => from_json(other, "emulator options")?,
        };
        // The emulator reports options it refuses (too many initial events, a token bucket
        // that would lock every client out) as `InvalidInput`; anything else is the socket's.
        let emulator = Emulator::start(config).await.map_err(|e| match e.kind() {
            std::io::ErrorKind::InvalidInput => {
                coded(ErrorCode::InvalidArgument, format!("invalid emulator options: {e}"))
            }
            _ => coded(ErrorCode::Network, format!("could not start the emulator: {e}")),
        })?;
        Ok(NativeEmulator { inner: Mutex::new(Some(emulator)) })
    })
    .await
}

#[napi]
pub struct NativeEmulator {
    inner: Mutex<Option<Emulator>>,
}

impl NativeEmulator {
    fn get(&self) -> Result<Emulator> {
        self.inner
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| coded(ErrorCode::Configuration, "the emulator is stopped"))
    }
}

#[napi]
impl NativeEmulator {
    #[napi(getter)]
    pub fn url(&self) -> Result<String> {
        Ok(self.get()?.url())
    }

    #[napi(getter)]
    pub fn api_key(&self) -> Result<String> {
        Ok(self.get()?.api_key().to_string())
    }

    #[napi(getter)]
    pub fn secret_key(&self) -> Result<String> {
        Ok(self.get()?.secret_key().to_string())
    }

    /// Enqueues events given as JSON objects (for the first key); returns how many were new.
    #[napi(catch_unwind)]
    pub fn enqueue(&self, events: Loose) -> Result<u32> {
        let events = match events.value("events")? {
            Value::Array(items) => items,
            other => vec![other],
        };
        smartai_emulator::admin::check_events(&events).map_err(|e| coded(ErrorCode::InvalidArgument, e))?;
        Ok(self.get()?.enqueue(events) as u32)
    }

    /// Enqueues `n` generated events; returns how many.
    #[napi(catch_unwind)]
    pub fn generate(&self, n: NumberArg) -> Result<u32> {
        let needs = |got: String| coded(ErrorCode::InvalidArgument, generator::not_a_count("generate", got));
        let n = n.0.map_err(needs)?;
        // Taken as a number: napi would wrap -1 into 4294967295 and generate for ever.
        if !(n.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&n)) {
            return Err(needs(n.to_string()));
        }
        let n = generator::generated_count("generate", n as u64).map_err(|e| coded(ErrorCode::InvalidArgument, e))?;
        Ok(self.get()?.generate(n) as u32)
    }

    #[napi(catch_unwind)]
    pub fn set_faults(&self, rules_json: Loose) -> Result<()> {
        self.get()?.set_faults(rules(rules_json.value("rules")?)?);
        Ok(())
    }

    #[napi(catch_unwind)]
    pub fn add_fault(&self, rule: Loose) -> Result<()> {
        let emulator = self.get()?;
        for rule in rules(rule.value("rule")?)? {
            emulator.add_fault(rule);
        }
        Ok(())
    }

    #[napi(catch_unwind)]
    pub fn clear_faults(&self) -> Result<()> {
        self.get()?.clear_faults();
        Ok(())
    }

    #[napi(catch_unwind)]
    pub fn faults(&self) -> Result<String> {
        to_json(&self.get()?.faults())
    }

    #[napi(catch_unwind)]
    pub fn set_clock_offset_ms(&self, ms: f64) -> Result<()> {
        self.get()?.set_clock_offset_ms(ms as i64);
        Ok(())
    }

    /// The emulator's `RateLimitConfig` JSON. `null` is refused: it could mean both limits
    /// off or the defaults, and the Python package refuses `None` the same way.
    #[napi(catch_unwind)]
    pub fn set_rate_limit(&self, config: Loose) -> Result<()> {
        let config: RateLimitConfig = match config.given("config")? {
            None => return Err(rate_limit_needed("setRateLimit", "undefined")),
            Some(Value::Null) => return Err(rate_limit_needed("setRateLimit", "null")),
            Some(other) => from_json(other, "rate limit")?,
        };
        self.get()?.set_rate_limit(config);
        Ok(())
    }

    /// Queue statistics (`QueueStats` JSON).
    #[napi(catch_unwind)]
    pub fn stats(&self) -> Result<String> {
        to_json(&self.get()?.stats())
    }

    #[napi(catch_unwind)]
    pub fn pending_ids(&self) -> Result<Vec<String>> {
        Ok(self.get()?.pending_ids())
    }

    #[napi(catch_unwind)]
    pub fn acknowledged_ids(&self) -> Result<Vec<String>> {
        Ok(self.get()?.acknowledged_ids())
    }

    /// The request log (`RequestLogEntry` JSON list).
    #[napi(catch_unwind)]
    pub fn request_log(&self) -> Result<String> {
        to_json(&self.get()?.request_log())
    }

    #[napi(catch_unwind)]
    pub fn clear_request_log(&self) -> Result<()> {
        self.get()?.clear_request_log();
        Ok(())
    }

    #[napi(catch_unwind)]
    pub fn reset(&self) -> Result<()> {
        self.get()?.reset();
        Ok(())
    }

    /// Stops the server; later calls fail. Stopping twice is fine.
    #[napi(catch_unwind)]
    pub async fn stop(&self) -> Result<()> {
        let emulator = self.inner.lock().unwrap_or_else(|p| p.into_inner()).take();
        if let Some(emulator) = emulator {
            guard(async move {
                emulator.shutdown().await;
                Ok(())
            })
            .await?;
        }
        Ok(())
    }
}
