//! The drain engine: fetch a batch, hand it out, acknowledge it when the next one is
//! asked for. `drain`, `run` and the `batches` stream are all built on [`Batches`].

use crate::client::AssessmentClient;
use crate::error::Result;
use crate::events::WebhookEvent;
use crate::queue_event::QueueEvent;
use crate::types::{FetchOptions, WebhookEventBatch};
use crate::validate;
use serde::Serialize;
use serde_json::Value;
use std::marker::PhantomData;

/// How many recently handled IDs a drain remembers to avoid handing an event out twice.
/// A correct server never returns an acknowledged event, so this only guards against a
/// server that is slow to apply acknowledgements; it bounds memory on huge drains.
pub const DEDUPE_WINDOW: usize = 50_000;

/// Options of a drain, a `batches` stream and each cycle of `run`.
///
/// ```
/// use smartai_events::DrainOptions;
/// let opts = DrainOptions::new().limit(100).max_events(1_000);
/// assert_eq!(opts.limit, 100);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DrainOptions {
    /// Events per fetch (default 100, the server's cap).
    pub limit: i64,
    /// Only events stored after this Unix time in ms.
    pub since: Option<i64>,
    /// Stop after handing out this many events.
    pub max_events: Option<u64>,
    /// Stop after this many batches.
    pub max_batches: Option<u64>,
}

impl Default for DrainOptions {
    fn default() -> Self {
        DrainOptions { limit: validate::MAX_LIMIT as i64, since: None, max_events: None, max_batches: None }
    }
}

impl DrainOptions {
    /// The defaults: batches of 100, no bounds.
    pub fn new() -> Self {
        Self::default()
    }

    /// Events per fetch.
    pub fn limit(mut self, limit: i64) -> Self {
        self.limit = limit;
        self
    }

    /// Only events stored after this Unix time in ms.
    pub fn since_ms(mut self, since: i64) -> Self {
        self.since = Some(since);
        self
    }

    /// Stop after this many events.
    pub fn max_events(mut self, n: u64) -> Self {
        self.max_events = Some(n);
        self
    }

    /// Stop after this many batches.
    pub fn max_batches(mut self, n: u64) -> Self {
        self.max_batches = Some(n);
        self
    }

    /// Reads `{ limit, since, maxEvents, maxBatches }` as a binding receives it.
    pub fn from_json(options: &Value) -> Result<Self> {
        Self::from_json_spelled(options, crate::Spelling::CamelCase)
    }

    /// [`DrainOptions::from_json`] with the option names in `spelling` (`max_events`).
    pub fn from_json_spelled(options: &Value, spelling: crate::Spelling) -> Result<Self> {
        let obj = crate::types::options_object(options)?;
        let get = |k: &str| obj.and_then(|o| o.get(k));
        let count = |camel: &str| {
            let (name, value) = crate::options::option(obj, camel, spelling);
            validate::count_value(&name, value)
        };
        let opts = DrainOptions {
            limit: validate::limit_value(get("limit"), validate::MAX_LIMIT)? as i64,
            since: validate::since_value(get("since"))?,
            max_events: count("maxEvents")?,
            max_batches: count("maxBatches")?,
        };
        Ok(opts)
    }

    pub(crate) fn validate(&self) -> Result<()> {
        validate::limit(self.limit)?;
        self.since.map(validate::since).transpose()?;
        for (name, v) in [("max_events", self.max_events), ("max_batches", self.max_batches)] {
            if v == Some(0) {
                return Err(crate::Error::invalid_argument(format!("{name} must be >= 1, got 0")));
            }
        }
        Ok(())
    }
}

/// What a drain did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DrainSummary {
    /// Batches fetched.
    pub batches: u64,
    /// Events handed out. Each once per drain, unless its batch was abandoned: then it is
    /// handed out, and counted, again.
    pub events: u64,
    /// Events the server confirmed as removed. An acknowledge the server applied but whose
    /// answer was lost is sent again, and that retry counts 0 for them: so this can be lower
    /// than what was handled, with nothing of it left in the queue.
    pub acknowledged: u64,
    /// `pendingCount` of the last fetch.
    pub pending_count: u64,
}

/// A pull-based drain: each [`Batches::next_batch`] first acknowledges the batch handed
/// out before it, then fetches the next.
///
/// So a batch is acknowledged exactly when the code that received it asks for more. Code
/// that stops early (an error, a `break`) leaves the batch it holds unacknowledged, and the
/// platform delivers it again: at-least-once. [`Batches::commit`] acknowledges the held
/// batch explicitly, for a loop that stops after finishing one.
///
/// ```no_run
/// # async fn demo(client: smartai_events::AssessmentClient) -> smartai_events::Result<()> {
/// let mut batches = client.batches(Default::default());
/// while let Some(batch) = batches.next_batch().await? {
///     for event in &batch.events {
///         println!("{}", event.event_id());
///     }
/// }
/// println!("{:?}", batches.summary());
/// # Ok(()) }
/// ```
pub struct Batches<E = WebhookEvent> {
    client: AssessmentClient,
    options: DrainOptions,
    owed: Vec<String>,
    /// The owed IDs that were not handed out with the batch in hand (the server returned
    /// them again after an earlier batch): abandoning the batch must not hand them out again.
    /// Almost always empty.
    repeated: Vec<String>,
    recent: RecentIds,
    summary: DrainSummary,
    done: bool,
    events: PhantomData<fn() -> E>,
}

impl<E: QueueEvent> Batches<E> {
    pub(crate) fn new(client: AssessmentClient, options: DrainOptions) -> Self {
        Batches {
            client,
            options,
            owed: Vec::new(),
            repeated: Vec::new(),
            recent: RecentIds::default(),
            summary: DrainSummary::default(),
            done: false,
            events: PhantomData,
        }
    }

    /// Acknowledges the batch handed out last, then fetches the next one. `None` when the
    /// queue is drained or a bound (`max_events`, `max_batches`) is reached.
    pub async fn next_batch(&mut self) -> Result<Option<WebhookEventBatch<E>>> {
        let client = self.client.clone();
        client.until_closed(self.advance()).await
    }

    /// [`Batches::next_batch`] as a drive uses it, which decides itself what closing ends.
    pub(crate) async fn advance(&mut self) -> Result<Option<WebhookEventBatch<E>>> {
        self.settle().await?;
        loop {
            if self.done || self.reached_bounds() {
                self.done = true;
                return Ok(None);
            }
            let batch = self.fetch().await?;
            if let Some(batch) = batch {
                return Ok(Some(batch));
            }
            // Every event of that batch was handed out already; acknowledge and go on.
            self.settle().await?;
        }
    }

    fn reached_bounds(&self) -> bool {
        self.options.max_batches.is_some_and(|n| self.summary.batches >= n)
            || self.options.max_events.is_some_and(|n| self.summary.events >= n)
    }

    async fn fetch(&mut self) -> Result<Option<WebhookEventBatch<E>>> {
        self.options.validate()?;
        let mut limit = self.options.limit.min(validate::MAX_LIMIT as i64);
        if let Some(max) = self.options.max_events {
            // Any u64 is a valid bound (u64::MAX for "no bound" included): what is left of it
            // may not fit an i64, and a plain cast would turn it negative.
            let left = max.saturating_sub(self.summary.events);
            limit = limit.min(i64::try_from(left).unwrap_or(i64::MAX));
        }
        let mut fetch = FetchOptions::new().limit(limit);
        if let Some(since) = self.options.since {
            fetch = fetch.since_ms(since);
        }
        let mut batch = self.client.fetch_as::<E>(fetch).await?;
        // A server that sends more than asked for must not take a drain past `max_events`:
        // the rest is neither handed out nor acknowledged, and comes back later.
        batch.events.truncate(limit.max(0) as usize);
        self.summary.batches += 1;
        self.summary.pending_count = batch.pending_count;
        if batch.pending_count == 0 || batch.events.is_empty() {
            // Nothing more to fetch after this batch; an empty batch with a positive count
            // (events hidden by `since`) must not spin.
            self.done = true;
        }
        let received = batch.events.len();
        let first_owed = self.owed.len();
        let mut fresh = 0usize;
        batch.events.retain(|e| {
            let id = e.event_id();
            if id.is_empty() {
                // Cannot be acknowledged: handed out, and it comes back with later fetches.
                return true;
            }
            if self.recent.insert(id) {
                self.owed.push(id.to_string());
                fresh += 1;
                return true;
            }
            // Twice in this very batch: handed out and owed once. Not a repeat of an earlier
            // batch, so abandoning this one makes it new again like the rest.
            if self.owed[first_owed..].iter().any(|owed| owed == id) {
                return false;
            }
            self.owed.push(id.to_string());
            self.repeated.push(id.to_string());
            false
        });
        if fresh == 0 && !batch.events.is_empty() {
            // Only events without an ID, which no acknowledgement removes: a server that
            // keeps returning them, saying more are pending, would otherwise be polled (and
            // the handler called) in a tight loop. They are handed out once; the drain ends.
            tracing::info!(received, "a fetch brought only events without an eventId; ending the drain after them");
            self.done = true;
        }
        if batch.events.is_empty() {
            // An empty queue, or a batch whose every event was handed out already in this
            // drain (the duplicates are still acknowledged). A server that returns the same
            // events again and again, saying more are pending, would otherwise be polled in
            // a tight loop: the drain ends here, and the next one picks up.
            if received > 0 {
                tracing::info!(received, "a fetch brought only events this drain handled already; ending the drain");
            }
            self.done = true;
            return Ok(None);
        }
        self.summary.events += batch.events.len() as u64;
        Ok(Some(batch))
    }

    /// Acknowledges the batch handed out last, if it is not acknowledged yet. On failure the
    /// IDs stay owed, so a later call tries again.
    pub async fn commit(&mut self) -> Result<()> {
        let client = self.client.clone();
        client.until_closed(self.settle()).await
    }

    /// [`Batches::commit`] bounded by a stop: once `stop` resolves, the acknowledgement in
    /// progress gets `grace` more ([`STOP_GRACE`](crate::STOP_GRACE), as in `run`), and is
    /// then given up: `None`, its IDs still owed and its events delivered again later.
    ///
    /// ```no_run
    /// # async fn demo(client: smartai_events::AssessmentClient, stop: smartai_events::CancellationToken) {
    /// let mut batches = client.batches(Default::default());
    /// match batches.commit_or_stop(stop.cancelled(), smartai_events::STOP_GRACE).await {
    ///     Some(result) => result.unwrap(),
    ///     None => eprintln!("stopped; the last batch comes back later"),
    /// }
    /// # }
    /// ```
    pub async fn commit_or_stop(
        &mut self,
        stop: impl std::future::Future<Output = ()>,
        grace: std::time::Duration,
    ) -> Option<Result<()>> {
        let client = self.client.clone();
        within_grace(client.until_closed(self.settle()), stop, grace).await
    }

    /// [`Batches::commit`] as a drive uses it: a `run` stopped by closing still sends the
    /// acknowledgement it owes.
    ///
    /// The IDs stay owed until the server confirms them, so that an acknowledgement dropped
    /// half way (its caller cancelled) is sent again by the next call.
    pub(crate) async fn settle(&mut self) -> Result<()> {
        if self.owed.is_empty() {
            return Ok(());
        }
        let result = self.client.acknowledge_validated(&self.owed).await?;
        self.summary.acknowledged += result.acknowledged;
        self.owed.clear();
        self.repeated.clear();
        Ok(())
    }

    /// Forgets the batch handed out last without acknowledging it; the platform delivers it
    /// again, and so does this drain if it goes on. A drain whose last batch was abandoned
    /// (the queue held no more, or a bound was reached) ends: those events wait in the
    /// queue for the next poll rather than come back at once.
    ///
    /// ```no_run
    /// # async fn save(_: &[smartai_events::WebhookEvent]) -> Result<(), std::io::Error> { Ok(()) }
    /// # async fn demo(client: smartai_events::AssessmentClient) -> smartai_events::Result<()> {
    /// let mut batches = client.batches(Default::default());
    /// while let Some(batch) = batches.next_batch().await? {
    ///     if save(&batch.events).await.is_err() {
    ///         batches.abandon(); // not acknowledged; handed out again when the server returns it
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub fn abandon(&mut self) {
        for id in self.owed.iter().filter(|id| !self.repeated.contains(id)) {
            self.recent.remove(id);
        }
        self.owed.clear();
        self.repeated.clear();
    }

    /// Takes IDs handed out with the batch in hand back out of it: not acknowledged, and new
    /// again to this drain. Returns how many it took out.
    fn forget_handed(&mut self, ids: &[String]) -> usize {
        let back: std::collections::HashSet<&str> = ids.iter().map(String::as_str).collect();
        let before = self.owed.len();
        self.owed.retain(|id| !back.contains(id.as_str()));
        for id in &back {
            self.recent.remove(id);
        }
        before - self.owed.len()
    }

    /// Takes these IDs out of the batch in hand, so that they are not acknowledged.
    pub(crate) fn release(&mut self, ids: &[String]) {
        self.owed.retain(|id| !ids.contains(id));
    }

    /// Takes back the events of a batch that [`Batches::next_batch`] returned but that never
    /// reached the code meant to handle it: a binding whose caller was cancelled while the
    /// batch was on its way. They are not acknowledged, and this drain hands them out again
    /// when the server returns them (it does, since they are not acknowledged).
    ///
    /// ```no_run
    /// # async fn demo(client: smartai_events::AssessmentClient) -> smartai_events::Result<()> {
    /// let mut batches = client.batches(Default::default());
    /// if let Some(batch) = batches.next_batch().await? {
    ///     let ids: Vec<String> = batch.events.iter().map(|e| e.event_id().to_string()).collect();
    ///     batches.put_back(&ids); // say the batch could not be passed on
    /// }
    /// let again = batches.next_batch().await?; // the same events, none acknowledged
    /// # Ok(()) }
    /// ```
    pub fn put_back(&mut self, ids: &[String]) {
        if ids.is_empty() {
            return;
        }
        // Never handed to the code meant to handle them: not counted as handed out.
        let taken = self.forget_handed(ids);
        self.summary.events = self.summary.events.saturating_sub(taken as u64);
        // The fetch that brought them may have found the queue otherwise empty.
        self.done = false;
    }

    /// The IDs that the next advance will acknowledge.
    pub fn owed(&self) -> &[String] {
        &self.owed
    }

    /// What the drain did so far.
    pub fn summary(&self) -> DrainSummary {
        self.summary
    }

    /// The batches as a `futures::Stream`. The stream ends after the first error.
    ///
    /// ```no_run
    /// # async fn demo(client: smartai_events::AssessmentClient) -> smartai_events::Result<()> {
    /// use futures::StreamExt;
    /// let mut stream = std::pin::pin!(client.batches(Default::default()).into_stream());
    /// while let Some(batch) = stream.next().await {
    ///     let batch = batch?;
    ///     println!("{} events", batch.events.len());
    /// }
    /// # Ok(()) }
    /// ```
    pub fn into_stream(self) -> impl futures::Stream<Item = Result<WebhookEventBatch<E>>> + Send {
        futures::stream::unfold(Some(self), |state| async move {
            let mut batches = state?;
            match batches.next_batch().await {
                Ok(Some(batch)) => Some((Ok(batch), Some(batches))),
                Ok(None) => None,
                Err(e) => Some((Err(e), None)),
            }
        })
    }
}

/// `work` to its end, unless `stop` resolves first: then `grace` more, and `None` if that
/// is not enough. The one rule for an acknowledgement in progress when a poller stops.
pub(crate) async fn within_grace<T>(
    work: impl std::future::Future<Output = T>,
    stop: impl std::future::Future<Output = ()>,
    grace: std::time::Duration,
) -> Option<T> {
    tokio::pin!(work);
    tokio::select! {
        biased;
        result = &mut work => Some(result),
        () = stop => tokio::time::timeout(grace, &mut work).await.ok(),
    }
}

/// The most recent handled IDs, first in, first out.
///
/// A ring of the last [`DEDUPE_WINDOW`] IDs with their hashes, and a table of
/// `(hash, sequence number)` pointing into it: each ID is hashed once, a lookup compares
/// hashes and reads an ID's text only when they match, and evicting the oldest ID finds its
/// entry by hash and number without reading any text. A `HashSet` of the IDs with their
/// own order queue hashed each ID two or three times and followed a pointer into cold memory
/// to evict one, 8 % of a raw-event drain's CPU samples.
struct RecentIds<S = foldhash::fast::RandomState> {
    table: hashbrown::HashTable<(u64, u64)>,
    /// `ring[seq % window]` holds the ID numbered `seq`; the oldest is `next - len`.
    ring: Vec<(u64, Box<str>)>,
    next: u64,
    window: usize,
    // Seeded per process, so that IDs chosen by others cannot aim at one bucket.
    hasher: S,
}

impl Default for RecentIds {
    fn default() -> Self {
        RecentIds::with_window(DEDUPE_WINDOW, foldhash::fast::RandomState::default())
    }
}

impl<S: std::hash::BuildHasher> RecentIds<S> {
    fn with_window(window: usize, hasher: S) -> Self {
        RecentIds { table: hashbrown::HashTable::new(), ring: Vec::new(), next: 0, window, hasher }
    }

    /// Returns `false` if the ID was seen already.
    fn insert(&mut self, id: &str) -> bool {
        let hash = self.hasher.hash_one(id);
        let window = self.window as u64;
        let ring = &self.ring;
        if self.table.find(hash, |&(h, seq)| h == hash && *ring[(seq % window) as usize].1 == *id).is_some() {
            return false;
        }
        let slot = (self.next % window) as usize;
        if self.ring.len() == self.window {
            let oldest = self.next - window;
            let old_hash = self.ring[slot].0;
            if let Ok(entry) = self.table.find_entry(old_hash, |&(h, seq)| h == old_hash && seq == oldest) {
                entry.remove();
            }
            self.ring[slot] = (hash, id.into());
        } else {
            self.ring.push((hash, id.into()));
        }
        self.table.insert_unique(hash, (hash, self.next), |&(h, _)| h);
        self.next += 1;
        true
    }

    /// Forgets the ID, so that it counts as new again. Its text stays in the ring until the
    /// ring comes round to it, where nothing points at it any more.
    fn remove(&mut self, id: &str) {
        let hash = self.hasher.hash_one(id);
        let window = self.window as u64;
        let ring = &self.ring;
        if let Ok(entry) = self.table.find_entry(hash, |&(h, seq)| h == hash && *ring[(seq % window) as usize].1 == *id)
        {
            entry.remove();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::hash::BuildHasherDefault;

    /// Every ID gets the same hash, so only the texts tell them apart.
    #[derive(Default)]
    struct SameHash;
    impl std::hash::Hasher for SameHash {
        fn finish(&self) -> u64 {
            7
        }
        fn write(&mut self, _: &[u8]) {}
    }

    fn ids(recent: &mut RecentIds<impl std::hash::BuildHasher>, ids: &[&str]) -> Vec<bool> {
        ids.iter().map(|id| recent.insert(id)).collect()
    }

    #[test]
    fn recent_ids_forget_the_oldest_beyond_the_window() {
        let mut recent = RecentIds::with_window(3, foldhash::fast::RandomState::default());
        assert_eq!(ids(&mut recent, &["a", "b", "a", "c", "b"]), [true, true, false, true, false]);
        // "d" pushes "a" out; "b", "c" and "d" are still known.
        assert_eq!(ids(&mut recent, &["d", "b", "c", "d", "a"]), [true, false, false, false, true]);
        // "a" came back in and pushed "b" out, so "b" is new again (and pushes "c" out).
        assert_eq!(ids(&mut recent, &["b", "d"]), [true, false]);
        assert_eq!(recent.table.len(), 3);
    }

    #[test]
    fn a_removed_id_counts_as_new_and_eviction_still_finds_the_rest() {
        let mut recent = RecentIds::with_window(3, foldhash::fast::RandomState::default());
        assert_eq!(ids(&mut recent, &["a", "b", "c"]), [true, true, true]);
        recent.remove("b");
        recent.remove("zzz");
        assert_eq!(ids(&mut recent, &["a", "c", "b"]), [false, false, true]);
        // "b" took the slot of "a", the oldest; "c" and "b" remain.
        assert_eq!(ids(&mut recent, &["a", "c", "b"]), [true, false, false]);
        assert_eq!(recent.table.len(), 3);
    }

    #[test]
    fn recent_ids_compare_texts_when_hashes_collide() {
        let mut recent = RecentIds::with_window(2, BuildHasherDefault::<SameHash>::default());
        assert_eq!(ids(&mut recent, &["a", "b", "a", "b", "c"]), [true, true, false, false, true]);
        // "b" and "c" are known; "a" pushes "b" out, which then pushes "c" out.
        assert_eq!(ids(&mut recent, &["c", "a", "b", "a", "c"]), [false, true, true, false, true]);
        assert_eq!(recent.table.len(), 2);
        let mut many = RecentIds::default();
        let n = DEDUPE_WINDOW + 10;
        assert!((0..n).all(|i| many.insert(&format!("evt_{i}"))));
        assert!((10..n).all(|i| !many.insert(&format!("evt_{i}"))));
        assert!((0..10).all(|i| many.insert(&format!("evt_{i}"))));
        assert_eq!(many.table.len(), DEDUPE_WINDOW);
    }
}
