//! # smartai-events
//!
//! Fetch, acknowledge and drain the event queue of the SmartAI hiring platform
//! (`assessment.completed`, `assessment.sent`, `assessment.disqualified`), with request
//! signing, retries, rate-limit handling, typed events and a long-running poller.
//!
//! The platform does not push webhooks: events wait in a queue until acknowledged. The
//! safe pattern is *save first, acknowledge second*; [`AssessmentClient::drain`] and
//! [`AssessmentClient::run`] implement it, so an event is acknowledged only after your
//! handler succeeded (at-least-once delivery; make your save idempotent on the event ID).
//!
//! ```no_run
//! use smartai_events::{AssessmentClient, DrainOptions, WebhookEvent};
//!
//! # async fn demo() -> smartai_events::Result<()> {
//! let client = AssessmentClient::from_env()?;
//! let summary = client
//!     .drain(|events: Vec<WebhookEvent>| async move {
//!         for event in events {
//!             if let WebhookEvent::AssessmentCompleted(result) = &event {
//!                 println!("{} scored {}", result.candidate_name, result.score);
//!             }
//!         }
//!         Ok::<(), std::io::Error>(())
//!     }, DrainOptions::default())
//!     .await?;
//! println!("handled {} events", summary.events);
//! # Ok(()) }
//! ```
//!
//! A handler that stores or forwards the JSON as it came does not need the typed fields:
//! [`AssessmentClient::drain_as`], [`AssessmentClient::run_as`] and
//! [`AssessmentClient::batches_as`] hand out [`RawEvent`]s instead, decided by exactly the
//! same rules (the same variant, ID, timestamps and decode error) but not built, at a
//! fraction of the CPU. The Python and Node packages read events this way.
//!
//! Typed events own what they hold: a `String` per text field, and the JSON text of each
//! question answer (a [`QuestionAnswer`], read as a `serde_json::Value` when first used),
//! so a drain at high rates spends much of its time in the allocator.
//! Measured against the emulator (the project's bench/RESULTS.md), a faster global
//! allocator (`mimalloc`, for one) cut the typed drain's client CPU by about a quarter,
//! and left raw events, which allocate little, as they were.

// Every public item is documented; a build with one undocumented fails.
#![deny(missing_docs)]

mod batches;
pub mod canonical;
mod client;
pub mod clock;
mod config;
mod drain;
mod error;
mod event_check;
pub mod events;
mod extra_fields;
#[doc(hidden)]
pub mod fuzzing;
mod gate;
mod handler;
mod health;
mod json_text;
#[cfg(feature = "log-bridge")]
pub mod log_bridge;
mod options;
mod question_answer;
mod queue_event;
mod raw_event;
pub mod retry;
mod run;
pub mod signing;
mod spare_body;
mod stop;
mod timestamps;
mod transport;
mod types;
pub mod validate;

pub use batches::{Batches, DEDUPE_WINDOW, DrainOptions, DrainSummary};
pub use client::{AssessmentClient, ClientBuilder};
pub use config::{
    Config, DEFAULT_BASE_URL, ENV_API_KEY, ENV_BASE_URL, ENV_SECRET_KEY, Environment, SecretString, mask_api_key,
};
pub use error::{Error, ErrorCode, ErrorContext, Result};
pub use events::{
    AssessmentResult, AssessmentSent, Candidate, Proctoring, QuestionAnswer, UnknownEvent, Verification, WebhookEvent,
};
pub use handler::{BoxError, BoxFuture, DeadLetterHook, Handler};
pub use health::Health;
pub use options::Spelling;
pub use queue_event::QueueEvent;
pub use raw_event::{EventKind, RawEvent};
pub use retry::RetryPolicy;
pub use run::{CycleReport, MIN_INTERVAL, RunOptions, RunSummary, STOP_GRACE};
pub use tokio_util::sync::CancellationToken;
pub use transport::MAX_RESPONSE_BYTES;
pub use types::{AcknowledgeResult, FetchOptions, SessionRequest, SessionToken, SessionUser, WebhookEventBatch};
