//! What `drain` and `run` call with each batch.

use crate::events::WebhookEvent;
use crate::queue_event::QueueEvent;
use std::future::Future;
use std::pin::Pin;

/// A boxed error from user code.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;
/// A boxed, sendable future.
pub type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send + 'static>>;

/// Handles one batch of events. The batch is acknowledged only after the returned future
/// resolves to `Ok`.
///
/// Any `FnMut(Vec<WebhookEvent>) -> impl Future<Output = Result<(), E>>` is a handler, and
/// so is one taking `Vec<RawEvent>` (events checked but not built; see
/// [`RawEvent`](crate::RawEvent)):
///
/// ```
/// use smartai_events::{Handler, WebhookEvent};
/// fn takes_handler(_: impl Handler) {}
/// takes_handler(|events: Vec<WebhookEvent>| async move {
///     for event in &events {
///         println!("{}", event.event_id());
///     }
///     Ok::<(), std::io::Error>(())
/// });
/// ```
pub trait Handler<Ev: QueueEvent = WebhookEvent>: Send {
    /// Handles one batch.
    fn handle(&mut self, events: Vec<Ev>) -> BoxFuture<Result<(), BoxError>>;
}

impl<Ev, F, Fut, E> Handler<Ev> for F
where
    Ev: QueueEvent,
    F: FnMut(Vec<Ev>) -> Fut + Send,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Into<BoxError> + 'static,
{
    fn handle(&mut self, events: Vec<Ev>) -> BoxFuture<Result<(), BoxError>> {
        let fut = self(events);
        Box::pin(async move { fut.await.map_err(Into::into) })
    }
}

/// Receives events that failed `max_attempts` times. They are acknowledged only after the
/// hook returns `Ok`, so a failing hook loses nothing.
///
/// ```
/// use smartai_events::{DeadLetterHook, WebhookEvent};
/// fn takes_hook(_: impl DeadLetterHook) {}
/// takes_hook(|events: Vec<WebhookEvent>, reason: String| async move {
///     eprintln!("giving up on {} events: {reason}", events.len());
///     Ok::<(), std::io::Error>(())
/// });
/// ```
pub trait DeadLetterHook<Ev: QueueEvent = WebhookEvent>: Send {
    /// Takes the events and the last handler error.
    fn dead_letter(&mut self, events: Vec<Ev>, reason: String) -> BoxFuture<Result<(), BoxError>>;
}

impl<Ev, F, Fut, E> DeadLetterHook<Ev> for F
where
    Ev: QueueEvent,
    F: FnMut(Vec<Ev>, String) -> Fut + Send,
    Fut: Future<Output = Result<(), E>> + Send + 'static,
    E: Into<BoxError> + 'static,
{
    fn dead_letter(&mut self, events: Vec<Ev>, reason: String) -> BoxFuture<Result<(), BoxError>> {
        let fut = self(events, reason);
        Box::pin(async move { fut.await.map_err(Into::into) })
    }
}
