//! One API key's event queue.
//!
//! Events are kept as their serialised JSON text, ordered by `(storedAt ms, insertion
//! sequence)` in a B-tree, with a hash index from event ID to tree key. A fetch without
//! `since` walks the first `limit` entries and an acknowledge does one lookup per ID, so
//! both cost O(batch · log n) however long the queue is. The IDs it has acknowledged are
//! remembered only up to a bound, so a soak of millions of events does not grow without end.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::ops::Bound;
use std::sync::Arc;

type Slot = (i64, u64);

struct Stored {
    id: Arc<str>,
    json: Box<str>,
}

/// The result of a fetch: how many events were written and how many remain matching.
pub(crate) struct FetchOutcome {
    pub returned: usize,
    pub pending: usize,
}

pub(crate) struct Queue {
    entries: BTreeMap<Slot, Stored>,
    index: HashMap<Arc<str>, Slot>,
    next_seq: u64,
    /// The latest acknowledged IDs, oldest first, at most `history` of them.
    acknowledged: VecDeque<Arc<str>>,
    history: usize,
    pub enqueued_total: u64,
    pub acknowledged_total: u64,
    pub expired_total: u64,
}

impl Queue {
    /// An empty queue that remembers the last `history` acknowledged IDs.
    pub fn new(history: usize) -> Self {
        Self {
            entries: BTreeMap::new(),
            index: HashMap::new(),
            next_seq: 0,
            acknowledged: VecDeque::new(),
            history,
            enqueued_total: 0,
            acknowledged_total: 0,
            expired_total: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether an event with this ID is pending.
    pub fn contains(&self, id: &str) -> bool {
        self.index.contains_key(id)
    }

    /// Adds an event. Returns false (and adds nothing) when an event with this ID is
    /// already pending, because one ID must name one event for acknowledge to make sense.
    pub fn push(&mut self, id: &str, stored_at_ms: i64, json: String) -> bool {
        if self.index.contains_key(id) {
            return false;
        }
        let id: Arc<str> = Arc::from(id);
        let slot = (stored_at_ms, self.next_seq);
        self.next_seq += 1;
        self.index.insert(id.clone(), slot);
        self.entries.insert(slot, Stored { id, json: json.into_boxed_str() });
        self.enqueued_total += 1;
        true
    }

    /// Drops events stored before `cutoff_ms`. They sit at the front of the tree, so this
    /// costs O(expired).
    pub fn expire_before(&mut self, cutoff_ms: i64) -> usize {
        let mut n = 0;
        while let Some(entry) = self.entries.first_entry() {
            if entry.key().0 >= cutoff_ms {
                break;
            }
            let stored = entry.remove();
            self.index.remove(&stored.id);
            n += 1;
        }
        self.expired_total += n as u64;
        n
    }

    /// Appends up to `limit` events with `storedAt > since` to `out` as a comma-separated
    /// list of JSON objects.
    pub fn write_fetch(&self, limit: usize, since: Option<i64>, out: &mut String) -> FetchOutcome {
        let range = match since {
            // `since` below every stored event (the usual case) matches the whole queue.
            Some(s) if self.entries.first_key_value().is_some_and(|(k, _)| k.0 <= s) => {
                self.entries.range((Bound::Excluded((s, u64::MAX)), Bound::Unbounded))
            }
            _ => self.entries.range(..),
        };
        let mut iter = range;
        let picked: Vec<&Stored> = iter.by_ref().take(limit).map(|(_, stored)| stored).collect();
        // One allocation of the exact size: growing a ~100 kB buffer copies it each time.
        out.reserve(picked.iter().map(|stored| stored.json.len() + 1).sum::<usize>() + 32);
        for (i, stored) in picked.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push_str(&stored.json);
        }
        let returned = picked.len();
        let pending = match since {
            Some(s) if self.entries.first_key_value().is_some_and(|(k, _)| k.0 <= s) => {
                if self.entries.last_key_value().is_some_and(|(k, _)| k.0 <= s) { 0 } else { iter.count() }
            }
            _ => self.entries.len() - returned,
        };
        FetchOutcome { returned, pending }
    }

    /// Removes the listed events; unknown or already removed IDs are skipped.
    pub fn acknowledge<'a>(&mut self, ids: impl IntoIterator<Item = &'a str>) -> usize {
        let mut n = 0;
        for id in ids {
            if let Some((key, slot)) = self.index.remove_entry(id) {
                self.entries.remove(&slot);
                if self.history > 0 {
                    if self.acknowledged.len() == self.history {
                        self.acknowledged.pop_front();
                    }
                    self.acknowledged.push_back(key);
                }
                n += 1;
            }
        }
        self.acknowledged_total += n as u64;
        n
    }

    pub fn pending_ids(&self) -> Vec<String> {
        self.entries.values().map(|s| s.id.to_string()).collect()
    }

    /// The remembered acknowledged IDs, in the order they were acknowledged.
    pub fn acknowledged_ids(&self) -> Vec<String> {
        self.acknowledged.iter().map(|id| id.to_string()).collect()
    }

    pub fn oldest_stored_at_ms(&self) -> Option<i64> {
        self.entries.first_key_value().map(|(k, _)| k.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn queue(stamps: &[(&str, i64)]) -> Queue {
        let mut q = Queue::new(100);
        for (id, at) in stamps {
            assert!(q.push(id, *at, format!("{{\"eventId\":\"{id}\"}}")));
        }
        q
    }

    #[test]
    fn orders_by_stored_at_then_insertion() {
        let q = queue(&[("c", 30), ("a", 10), ("b", 10)]);
        assert_eq!(q.pending_ids(), ["a", "b", "c"]);
    }

    #[test]
    fn fetch_counts_pending_with_and_without_since() {
        let q = queue(&[("a", 10), ("b", 20), ("c", 30), ("d", 40)]);
        let mut out = String::new();
        let r = q.write_fetch(1, None, &mut out);
        assert_eq!((r.returned, r.pending), (1, 3));
        assert_eq!(out, r#"{"eventId":"a"}"#);

        out.clear();
        let r = q.write_fetch(1, Some(20), &mut out);
        assert_eq!((r.returned, r.pending), (1, 1));
        assert_eq!(out, r#"{"eventId":"c"}"#);

        out.clear();
        let r = q.write_fetch(10, Some(40), &mut out);
        assert_eq!((r.returned, r.pending), (0, 0));
        let r = q.write_fetch(10, Some(5), &mut out);
        assert_eq!((r.returned, r.pending), (4, 0));
    }

    #[test]
    fn acknowledge_skips_unknown_and_duplicates() {
        let mut q = queue(&[("a", 1), ("b", 2)]);
        assert_eq!(q.acknowledge(["a", "a", "zz"]), 1);
        assert_eq!(q.pending_ids(), ["b"]);
        assert_eq!(q.acknowledged_ids(), ["a"]);
        assert!(!q.push("b", 3, "{}".into()));
        assert!(q.push("a", 3, "{}".into()));
    }

    #[test]
    fn acknowledged_history_keeps_the_latest_ids_and_counts_all() {
        let mut q = Queue::new(2);
        for (i, id) in ["a", "b", "c", "d"].into_iter().enumerate() {
            assert!(q.push(id, i as i64, "{}".into()));
        }
        assert_eq!(q.acknowledge(["a", "b", "c"]), 3);
        assert_eq!(q.acknowledged_ids(), ["b", "c"]);
        assert_eq!(q.acknowledge(["d"]), 1);
        assert_eq!(q.acknowledged_ids(), ["c", "d"]);
        assert_eq!(q.acknowledged_total, 4);

        let mut none = Queue::new(0);
        assert!(none.push("a", 1, "{}".into()));
        assert_eq!(none.acknowledge(["a"]), 1);
        assert!(none.acknowledged_ids().is_empty());
        assert_eq!(none.acknowledged_total, 1);
    }

    #[test]
    fn expires_from_the_front() {
        let mut q = queue(&[("a", 1), ("b", 2), ("c", 3)]);
        assert_eq!(q.expire_before(3), 2);
        assert_eq!(q.pending_ids(), ["c"]);
        assert!(!q.contains("a"));
        assert_eq!(q.expired_total, 2);
    }
}
