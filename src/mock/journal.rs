//! The last requests the mock answered, for the admin API: a bounded ring,
//! so a long-running mock never grows without end.
//!
//! Every request writes here, so the ring has no lock of its own: a writer
//! takes a ticket from an atomic counter and locks only the slot the ticket
//! names. Two writers wait on each other only when the ring has wrapped
//! all the way round between them.

use crate::behaviour::clock::{format_datetime, real_now_ms};
use crate::behaviour::store::lock;
use serde::Serialize;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    /// When it was answered, in ms since the epoch; shown as RFC 3339. Kept
    /// as a number so that recording costs no formatting per request.
    #[serde(rename = "at", serialize_with = "as_datetime")]
    pub at_ms: i64,
    /// Shared with the answer a repeated request gets (`repeat`), as is
    /// `target`: journaling it copies no text.
    pub session: Arc<str>,
    #[serde(serialize_with = "as_text")]
    pub method: hyper::Method,
    /// Path and query as sent.
    pub target: Arc<str>,
    pub status: u16,
    pub millis: f64,
    /// Log notes (undocumented answers, fixture problems).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// Why the request was refused: each violation's message, as the log
    /// line lists them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub reasons: Vec<String>,
}

fn as_text<S: serde::Serializer>(method: &hyper::Method, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(method.as_str())
}

fn as_datetime<S: serde::Serializer>(ms: &i64, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&format_datetime(*ms))
}

/// An entry and the ticket it was written with.
type Ticketed = (u64, Entry);

#[derive(Debug)]
pub struct Journal {
    /// Entry `n` (counting from 0) lives in slot `n % len`, with its `n`.
    slots: Box<[Mutex<Option<Ticketed>>]>,
    tickets: AtomicU64,
}

impl Journal {
    pub fn new(capacity: usize) -> Self {
        Self {
            slots: (0..capacity).map(|_| Mutex::new(None)).collect(),
            tickets: AtomicU64::new(0),
        }
    }

    pub fn record(&self, mut entry: Entry) {
        if self.slots.is_empty() {
            return;
        }
        entry.at_ms = real_now_ms();
        entry.millis = (entry.millis * 1000.0).round() / 1000.0;
        let ticket = self.tickets.fetch_add(1, Ordering::Relaxed);
        let slot = &self.slots[(ticket % self.slots.len() as u64) as usize];
        let mut slot = lock(slot);
        // A writer that took its ticket a whole ring earlier and got here
        // late must not overwrite the newer entry.
        if slot.as_ref().is_none_or(|(held, _)| *held < ticket) {
            *slot = Some((ticket, entry));
        }
    }

    /// The newest `limit` entries, oldest first; only `session`'s when given.
    pub fn recent(&self, limit: usize, session: Option<&str>) -> Vec<Entry> {
        let mut picked: Vec<(u64, Entry)> = self
            .slots
            .iter()
            .filter_map(|slot| lock(slot).clone())
            .filter(|(_, e)| session.is_none_or(|s| &*e.session == s))
            .collect();
        picked.sort_by_key(|(ticket, _)| *ticket);
        let skip = picked.len().saturating_sub(limit);
        picked.into_iter().skip(skip).map(|(_, e)| e).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(target: &str) -> Entry {
        Entry {
            at_ms: 0,
            session: "s".into(),
            method: hyper::Method::GET,
            target: target.into(),
            status: 200,
            millis: 0.1,
            note: None,
            reasons: Vec::new(),
        }
    }

    #[test]
    fn keeps_only_the_newest() {
        let journal = Journal::new(2);
        for t in ["/a", "/b", "/c"] {
            journal.record(entry(t));
        }
        let targets: Vec<String> = journal
            .recent(10, None)
            .into_iter()
            .map(|e| e.target.to_string())
            .collect();
        assert_eq!(targets, ["/b", "/c"]);
        assert_eq!(&*journal.recent(1, Some("s"))[0].target, "/c");
        assert!(journal.recent(10, Some("other")).is_empty());
        assert!(Journal::new(0).recent(10, None).is_empty());
        let shown = serde_json::to_value(&journal.recent(1, None)[0]).expect("entry as JSON");
        let at = shown["at"].as_str().expect("`at` is a string");
        assert!(
            crate::behaviour::clock::parse_timestamp(at).is_some_and(|ms| ms > 0),
            "{at}"
        );
    }

    #[test]
    fn parallel_writers_keep_the_newest_in_order() {
        let journal = std::sync::Arc::new(Journal::new(64));
        let writers: Vec<_> = (0..4)
            .map(|w| {
                let journal = journal.clone();
                std::thread::spawn(move || {
                    for i in 0..500 {
                        journal.record(entry(&format!("/{w}/{i}")));
                    }
                })
            })
            .collect();
        for writer in writers {
            writer.join().expect("writer thread");
        }
        let recent = journal.recent(1000, None);
        assert_eq!(recent.len(), 64);
        // Each writer's own entries come out in the order it wrote them.
        for w in 0..4 {
            let mine: Vec<usize> = recent
                .iter()
                .filter_map(|e| e.target.strip_prefix(&format!("/{w}/")))
                .map(|i| i.parse().expect("index"))
                .collect();
            assert!(mine.windows(2).all(|p| p[0] < p[1]), "{mine:?}");
        }
    }
}
