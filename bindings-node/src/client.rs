//! `NativeClient`, `NativeBatches` and `StopToken`: the native half of `AssessmentClient`.
//!
//! Results leave Rust as JSON text (events exactly as the server sent them) and are
//! `JSON.parse`d by the facade; see the README for the measurements behind that choice.

use crate::convert::{Loose, Options};
use crate::error::{IntoNapi, JsCallbackError, coded, guard};
use crate::logging;
use napi::bindgen_prelude::{Function, Promise, PromiseRaw, Unknown};
use napi::threadsafe_function::ThreadsafeFunction;
use napi::{Env, Result, Status, ValueType};
use napi_derive::napi;
use smartai_events::{
    AssessmentClient, BoxError, BoxFuture, ClientBuilder, DeadLetterHook, DrainOptions, ErrorCode, FetchOptions,
    Handler, RawEvent, RunOptions, SessionRequest, Spelling, WebhookEvent, validate,
};
use std::fmt::Write as _;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// A JS callback: takes JSON text, returns a promise of `null` (success) or the message of
/// the error it failed with (the facade keeps the error object itself).
type Callback = ThreadsafeFunction<String, Promise<Option<String>>, String, Status, false>;

/// Events as they cross to JavaScript: `{"events":[...],"pendingCount":n,"reason":"...",
/// "decodeErrors":{...}}`, the optional keys only when set. The events are the server's JSON;
/// `decodeErrors` holds the decode problem of any event that did not decode (by index), which
/// the facade attaches as a non-enumerable `decodeError` so that `JSON.stringify(event)` still
/// gives exactly what the server sent.
fn events_json(events: &[RawEvent], pending_count: Option<u64>, reason: Option<&str>) -> Result<String> {
    let decode_errors: serde_json::Map<String, serde_json::Value> = events
        .iter()
        .enumerate()
        .filter_map(|(i, e)| e.decode_error().map(|r| (i.to_string(), serde_json::Value::String(r.to_string()))))
        .collect();
    // Each event's text was checked as JSON when its response was decoded, so it is copied
    // in as it is: a serializer would parse every event again only to write the same bytes.
    let mut out = String::with_capacity(64 + events.iter().map(|e| e.raw_json().len() + 1).sum::<usize>());
    out.push_str("{\"events\":[");
    for (i, event) in events.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        push_ascii_json(&mut out, event.raw_json());
    }
    out.push(']');
    if let Some(n) = pending_count {
        out.push_str(",\"pendingCount\":");
        out.push_str(&n.to_string());
    }
    if let Some(reason) = reason {
        out.push_str(",\"reason\":");
        push_ascii_json(&mut out, &to_json(&reason)?);
    }
    if !decode_errors.is_empty() {
        out.push_str(",\"decodeErrors\":");
        push_ascii_json(&mut out, &to_json(&decode_errors)?);
    }
    out.push('}');
    Ok(out)
}

/// Appends JSON text with every non-ASCII character written as a `\uXXXX` escape, which
/// `JSON.parse` reads back as the same character. V8 keeps an all-ASCII text as a one-byte
/// string: creating it skips UTF-8 decoding and parsing it takes V8's faster path, whereas a
/// single `é` would make the whole batch a two-byte string. Outside strings JSON is ASCII,
/// so only string contents change.
fn push_ascii_json(out: &mut String, json: &str) {
    let mut units = [0u16; 2];
    let mut rest = json;
    loop {
        // ASCII runs are copied whole (found 16 bytes at a time): an event is mostly
        // ASCII, and a character-by-character copy was most of this conversion's time.
        let ascii = ascii_prefix(rest.as_bytes());
        out.push_str(&rest[..ascii]);
        rest = &rest[ascii..];
        let Some(c) = rest.chars().next() else { return };
        for unit in c.encode_utf16(&mut units) {
            let _ = write!(out, "\\u{unit:04x}");
        }
        rest = &rest[c.len_utf8()..];
    }
}

/// The length of the all-ASCII start of `bytes`.
fn ascii_prefix(bytes: &[u8]) -> usize {
    let mut i = 0;
    while i + 16 <= bytes.len() && bytes[i..i + 16].is_ascii() {
        i += 16;
    }
    i + bytes[i..].iter().take_while(|b| b.is_ascii()).count()
}

fn to_json<T: serde::Serialize>(value: &T) -> Result<String> {
    serde_json::to_string(value).map_err(|e| napi::Error::new(Status::GenericFailure, e.to_string()))
}

fn type_name(value: &Unknown) -> Result<&'static str> {
    Ok(match value.get_type()? {
        ValueType::Undefined => "undefined",
        ValueType::Null => "null",
        ValueType::Boolean => "a boolean",
        ValueType::Number => "a number",
        ValueType::String => "a string",
        ValueType::Object => "an object",
        ValueType::Symbol => "a symbol",
        ValueType::BigInt => "a bigint",
        _ => "not a function",
    })
}

/// `last_success_at` → `lastSuccessAt` (a key conversion only).
fn camel_case(key: &str) -> String {
    let mut out = String::with_capacity(key.len());
    let mut upper = false;
    for c in key.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            out.extend(c.to_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Makes a thread-safe function of a JS function. It is strong on purpose: it lives only as
/// long as the `drain`/`run` call that owns it (whose promise keeps Node alive anyway) and
/// is released when that call ends, so it never keeps a finished script running.
fn callback(value: &Unknown, what: &str) -> Result<Arc<Callback>> {
    if value.get_type()? != ValueType::Function {
        return Err(coded(ErrorCode::InvalidArgument, format!("{what} must be a function, got {}", type_name(value)?)));
    }
    let function: Function<String, Promise<Option<String>>> = unsafe { value.cast()? };
    let tsfn = function.build_threadsafe_function::<String>().callee_handled::<false>().build()?;
    Ok(Arc::new(tsfn))
}

/// Calls into JS and awaits the returned promise. Never blocks the JS thread.
async fn invoke(callback: Arc<Callback>, argument: String) -> std::result::Result<(), BoxError> {
    let promise = callback.call_async_catch(argument).await.map_err(|e| Box::new(JsCallbackError(e.reason)))?;
    match promise.await {
        Ok(None) => Ok(()),
        Ok(Some(message)) => Err(Box::new(JsCallbackError(message))),
        Err(e) => Err(Box::new(JsCallbackError(e.reason))),
    }
}

struct JsHandler(Arc<Callback>);

impl Handler<RawEvent> for JsHandler {
    fn handle(&mut self, events: Vec<RawEvent>) -> BoxFuture<std::result::Result<(), BoxError>> {
        let callback = self.0.clone();
        Box::pin(async move {
            let text = events_json(&events, None, None)?;
            drop(events);
            invoke(callback, text).await
        })
    }
}

struct JsDeadLetter(Arc<Callback>);

impl DeadLetterHook<RawEvent> for JsDeadLetter {
    fn dead_letter(&mut self, events: Vec<RawEvent>, reason: String) -> BoxFuture<std::result::Result<(), BoxError>> {
        let callback = self.0.clone();
        Box::pin(async move {
            let text = events_json(&events, None, Some(&reason))?;
            invoke(callback, text).await
        })
    }
}

/// Runs `future` (panics caught) until it ends or `stop` is cancelled; a cancelled call is
/// dropped, so nothing more is sent, and rejects with the core's `Error::Cancelled`, as
/// does a call that failed once `stop` was already cancelled. Each method checks its
/// arguments before it gets here, synchronously: a bad argument is a programming error, so
/// it is reported as such even when `stop` was cancelled before the call.
async fn cancellable<T, F>(token: Option<CancellationToken>, future: F) -> Result<T>
where
    F: std::future::Future<Output = Result<T>>,
{
    let future = guard(future);
    let Some(token) = token else { return future.await };
    let cancelled = || crate::error::to_napi(smartai_events::Error::Cancelled);
    tokio::select! {
        biased;
        _ = token.cancelled() => Err(cancelled()),
        // A failure once the signal aborted is the abort's doing, even in the very poll in
        // which both arrive (a handler that aborts and then throws), as the core's close is.
        // A result that succeeded is the facade's to judge: it also knows whether the
        // signal aborted before that result reached JavaScript.
        result = future => result.map_err(|e| if token.is_cancelled() { cancelled() } else { e }),
    }
}

/// Cancels a `run`; the facade wires an `AbortSignal` to `cancel()`.
#[napi]
pub struct StopToken {
    token: CancellationToken,
}

#[napi]
impl StopToken {
    #[napi(constructor)]
    pub fn new() -> Self {
        StopToken { token: CancellationToken::new() }
    }

    #[napi]
    pub fn cancel(&self) {
        self.token.cancel();
    }

    #[napi(getter)]
    pub fn cancelled(&self) -> bool {
        self.token.is_cancelled()
    }
}

impl Default for StopToken {
    fn default() -> Self {
        Self::new()
    }
}

/// The native client. `close()` closes the core client and keeps it: a call made later
/// fails as the core fails it (`Error::Closed`, code `CANCELLED`), and `health()` still
/// reads its counters, as it does in Rust.
#[napi]
pub struct NativeClient {
    inner: AssessmentClient,
    masked_api_key: String,
    base_url: String,
    environment: String,
}

impl NativeClient {
    fn client(&self) -> AssessmentClient {
        self.inner.clone()
    }
}

/// The core's error for a call on a closed client, encoded as every error leaving Rust
/// is: the facade ends a call with it when the client was closed before that call's result
/// reached JavaScript, and gives it as the reason of a handler's aborted signal.
#[napi]
pub fn closed_error() -> String {
    crate::error::to_napi(smartai_events::Error::Closed).reason
}

#[napi]
impl NativeClient {
    /// Options as `ClientBuilder::from_json` takes them; unset keys come from `ASSESSMENT_*`.
    #[napi(constructor, catch_unwind)]
    pub fn new(options: Options) -> Result<Self> {
        let client = ClientBuilder::from_json(&options.value()?).napi()?.sdk_language("node").build().napi()?;
        let config = client.config();
        Ok(NativeClient {
            masked_api_key: config.api_key_masked(),
            base_url: config.base_url().to_string(),
            environment: client.environment().as_str().to_string(),
            inner: client,
        })
    }

    #[napi(getter)]
    pub fn environment(&self) -> String {
        self.environment.clone()
    }

    #[napi(getter)]
    pub fn masked_api_key(&self) -> String {
        self.masked_api_key.clone()
    }

    #[napi(getter)]
    pub fn base_url(&self) -> String {
        self.base_url.clone()
    }

    #[napi(getter)]
    pub fn closed(&self) -> bool {
        self.inner.is_closed()
    }

    /// Closes the core client: calls in flight and later ones reject with `CANCELLED`, a
    /// `run` stops, a `batches()` iterator ends; `health()` keeps working.
    #[napi(catch_unwind)]
    pub fn close(&self) {
        self.inner.close();
    }

    /// `{ events, pendingCount }` as JSON text. `stop` (from an `AbortSignal`) abandons the
    /// call, retries and backoff included, with a `CANCELLED` error.
    #[napi(catch_unwind, ts_return_type = "Promise<string>")]
    pub fn get_webhook_events<'env>(
        &self,
        env: &'env Env,
        options: Options,
        stop: Option<&StopToken>,
    ) -> Result<PromiseRaw<'env, String>> {
        let client = self.client();
        let options = FetchOptions::from_json(&options.value()?).napi()?;
        env.spawn_future(logging::scoped(cancellable(stop.map(|s| s.token.clone()), async move {
            let batch = client.get_webhook_events_as::<RawEvent>(options).await.napi()?;
            events_json(&batch.events, Some(batch.pending_count), None)
        })))
    }

    /// `{ acknowledged }` as JSON text.
    #[napi(catch_unwind, ts_return_type = "Promise<string>")]
    pub fn acknowledge_webhook_events<'env>(
        &self,
        env: &'env Env,
        event_ids: Loose,
        stop: Option<&StopToken>,
    ) -> Result<PromiseRaw<'env, String>> {
        let client = self.client();
        let ids = validate::event_ids_value(&event_ids.value("eventIds")?).napi()?;
        env.spawn_future(logging::scoped(cancellable(stop.map(|s| s.token.clone()), async move {
            let result = client.acknowledge_webhook_events(&ids).await.napi()?;
            to_json(&result)
        })))
    }

    /// `{ token, expiresAt }` as JSON text.
    #[napi(catch_unwind, ts_return_type = "Promise<string>")]
    pub fn create_session<'env>(
        &self,
        env: &'env Env,
        request: Loose,
        stop: Option<&StopToken>,
    ) -> Result<PromiseRaw<'env, String>> {
        let client = self.client();
        let request = SessionRequest::from_json(&request.value("request")?).napi()?;
        env.spawn_future(logging::scoped(cancellable(stop.map(|s| s.token.clone()), async move {
            let token = client.create_session(request).await.napi()?;
            to_json(&token)
        })))
    }

    /// A health snapshot as JSON text: the core's `Health` with camelCase keys (timestamps
    /// are RFC 3339 strings), so fields the core adds later appear without a change here.
    #[napi(catch_unwind)]
    pub fn health(&self) -> Result<String> {
        let health = serde_json::to_value(self.inner.health())
            .map_err(|e| napi::Error::new(Status::GenericFailure, e.to_string()))?;
        let camel = match health {
            serde_json::Value::Object(map) => map.into_iter().map(|(k, v)| (camel_case(&k), v)).collect(),
            other => other,
        };
        to_json(&camel)
    }

    /// Drains with a JS handler; resolves to the summary as JSON text. `stop` (from an
    /// `AbortSignal`) abandons the drain with a `CANCELLED` error: the batch in hand is not
    /// acknowledged.
    #[napi(catch_unwind, ts_return_type = "Promise<string>")]
    pub fn drain<'env>(
        &self,
        env: &'env Env,
        handler: Unknown,
        options: Options,
        stop: Option<&StopToken>,
    ) -> Result<PromiseRaw<'env, String>> {
        let client = self.client();
        // A value with no JSON form is refused first, as napi's conversion would refuse it.
        let options = options.value()?;
        let handler = JsHandler(callback(&handler, "handler")?);
        let options = DrainOptions::from_json_strict(&options).napi()?;
        env.spawn_future(logging::scoped(cancellable(stop.map(|s| s.token.clone()), async move {
            let summary = client.drain_as(handler, options).await.napi()?;
            to_json(&summary)
        })))
    }

    /// Runs the poller until `stop` is cancelled; resolves to the run summary as JSON text.
    #[napi(catch_unwind, ts_return_type = "Promise<string>")]
    pub fn run<'env>(
        &self,
        env: &'env Env,
        handler: Unknown,
        options: Options,
        stop: &StopToken,
        dead_letter: Option<Unknown>,
    ) -> Result<PromiseRaw<'env, String>> {
        let client = self.client();
        let options = options.value()?;
        let handler = JsHandler(callback(&handler, "handler")?);
        let dead_letter = match dead_letter {
            Some(value) if !matches!(value.get_type()?, ValueType::Undefined | ValueType::Null) => {
                Some(JsDeadLetter(callback(&value, "deadLetter")?))
            }
            _ => None,
        };
        let mut options = RunOptions::<RawEvent>::from_json_spelled(&options, Spelling::CamelCase).napi()?;
        if let Some(hook) = dead_letter {
            options = options.dead_letter(hook);
        }
        // With the hook: whether one may be given is a rule of its own (not with `ordered`).
        client.validate_run_options(&options).napi()?;
        let token = stop.token.clone();
        env.spawn_future(logging::scoped(guard(async move {
            let summary = client.run_as(handler, options, token.cancelled_owned()).await.napi()?;
            to_json(&summary)
        })))
    }

    /// A pull-based drain for `for await`. Options are validated here, synchronously.
    #[napi(catch_unwind)]
    pub fn batches(&self, options: Options) -> Result<NativeBatches> {
        let client = self.client();
        let options = DrainOptions::from_json_strict(&options.value()?).napi()?;
        Ok(NativeBatches {
            inner: Arc::new(tokio::sync::Mutex::new(client.batches_as::<RawEvent>(options))),
            origin: logging::origin(),
        })
    }
}

/// The state of one `batches()` iteration.
#[napi]
pub struct NativeBatches {
    inner: Arc<tokio::sync::Mutex<smartai_events::Batches<RawEvent>>>,
    /// The environment that made it, whose logger gets its records.
    origin: u64,
}

#[napi]
impl NativeBatches {
    /// Acknowledges the batch handed out last, then fetches the next: `{ events,
    /// pendingCount }` as JSON text, or `null` at the end. `stop` (the iteration's signal)
    /// abandons it: nothing more is sent, and what it has not acknowledged stays owed.
    #[napi(catch_unwind)]
    pub async fn next(&self, stop: Option<&StopToken>) -> Result<Option<String>> {
        let inner = self.inner.clone();
        let token = stop.map(|s| s.token.clone());
        logging::scoped_in(
            self.origin,
            cancellable(token, async move {
                let mut batches = inner.lock().await;
                match batches.next_batch().await.napi()? {
                    Some(batch) => Ok(Some(events_json(&batch.events, Some(batch.pending_count), None)?)),
                    None => Ok(None),
                }
            }),
        )
        .await
    }

    /// Acknowledges the batch handed out last, if not done yet. `stop` (the iteration's
    /// signal) abandons it as it does `next`: what is not acknowledged stays owed.
    #[napi(catch_unwind)]
    pub async fn commit(&self, stop: Option<&StopToken>) -> Result<()> {
        let inner = self.inner.clone();
        let token = stop.map(|s| s.token.clone());
        logging::scoped_in(self.origin, cancellable(token, async move { inner.lock().await.commit().await.napi() }))
            .await
    }

    /// Forgets the batch handed out last without acknowledging it.
    #[napi(catch_unwind)]
    pub async fn abandon(&self) -> Result<()> {
        let inner = self.inner.clone();
        logging::scoped_in(
            self.origin,
            guard(async move {
                inner.lock().await.abandon();
                Ok(())
            }),
        )
        .await
    }

    /// The drain summary so far, as JSON text.
    #[napi(catch_unwind)]
    pub async fn summary(&self) -> Result<String> {
        let inner = self.inner.clone();
        logging::scoped_in(self.origin, guard(async move { to_json(&inner.lock().await.summary()) })).await
    }
}

/// For the panic test only: panics synchronously, or inside a future.
#[napi(js_name = "__panicForTests", catch_unwind, ts_return_type = "Promise<void> | void")]
pub fn panic_for_tests<'env>(env: &'env Env, asynchronous: bool) -> Result<Option<PromiseRaw<'env, ()>>> {
    if !asynchronous {
        panic!("a deliberate panic (synchronous)");
    }
    let promise = env.spawn_future(guard(async move {
        if asynchronous {
            panic!("a deliberate panic (in a future)");
        }
        Ok(())
    }))?;
    Ok(Some(promise))
}

/// For the hand-over benchmark only: decodes a JSON list of events as the client does, then
/// hands them to JS as napi objects (`objects = true`) or as JSON text to `JSON.parse`.
#[napi(js_name = "__benchHandover", catch_unwind, ts_return_type = "unknown")]
pub fn bench_handover(text: String, objects: bool) -> Result<napi::Either<Vec<serde_json::Value>, String>> {
    let raw: Vec<serde_json::Value> =
        serde_json::from_str(&text).map_err(|e| napi::Error::from_reason(e.to_string()))?;
    let events: Vec<WebhookEvent> = raw.into_iter().map(WebhookEvent::from_value).collect();
    if objects {
        Ok(napi::Either::A(events.into_iter().map(WebhookEvent::into_raw).collect()))
    } else {
        let events: Vec<RawEvent> = events.into_iter().map(RawEvent::from).collect();
        Ok(napi::Either::B(events_json(&events, None, None)?))
    }
}

#[cfg(test)]
mod tests {
    use super::push_ascii_json;

    #[test]
    fn push_ascii_json_escapes_exactly_the_non_ascii_characters() {
        let samples = [
            String::new(),
            r#"{"name":"Priya Sharma"}"#.to_string(),
            r#"{"name":"Zoë","city":"Zürich"}"#.to_string(),
            r#"{"note":"😀 at the start"}"#.to_string(),
            // Non-ASCII right at, before and after a 16-byte boundary, and at the very end.
            format!(r#"{{"a":"{}é{}ü"}}"#, "x".repeat(8), "y".repeat(16)),
            format!(r#"{{"a":"{}"}}"#, "é".repeat(40)),
            format!("\"{}\u{10FFFF}\"", "z".repeat(31)),
        ];
        for json in &samples {
            let mut out = String::from("[");
            push_ascii_json(&mut out, json);
            let out = &out[1..];
            assert!(out.is_ascii(), "{out}");
            if json.is_ascii() {
                assert_eq!(out, json);
            } else {
                let read: serde_json::Value = serde_json::from_str(out).unwrap();
                assert_eq!(read, serde_json::from_str::<serde_json::Value>(json).unwrap(), "{json}");
            }
        }
        let mut out = String::new();
        push_ascii_json(&mut out, "\"é😀\"");
        assert_eq!(out, r#""\u00e9\ud83d\ude00""#);
    }
}
