//! The last requests the mock answered, for the admin API: a bounded ring,
//! so a long-running mock never grows without end.

use crate::behaviour::clock::{format_datetime, real_now_ms};
use crate::behaviour::store::lock;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Mutex;

#[derive(Debug, Clone, Serialize)]
pub struct Entry {
    pub at: String,
    pub session: String,
    pub method: String,
    /// Path and query as sent.
    pub target: String,
    pub status: u16,
    pub millis: f64,
    /// Log notes (undocumented answers, fixture problems).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug)]
pub struct Journal {
    entries: Mutex<VecDeque<Entry>>,
    capacity: usize,
}

impl Journal {
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(VecDeque::with_capacity(capacity.min(1024))),
            capacity,
        }
    }

    pub fn record(&self, mut entry: Entry) {
        if self.capacity == 0 {
            return;
        }
        entry.at = format_datetime(real_now_ms());
        entry.millis = (entry.millis * 1000.0).round() / 1000.0;
        let mut entries = lock(&self.entries);
        if entries.len() == self.capacity {
            entries.pop_front();
        }
        entries.push_back(entry);
    }

    /// The newest `limit` entries, oldest first; only `session`'s when given.
    pub fn recent(&self, limit: usize, session: Option<&str>) -> Vec<Entry> {
        let entries = lock(&self.entries);
        let mut picked: Vec<Entry> = entries
            .iter()
            .rev()
            .filter(|e| session.is_none_or(|s| e.session == s))
            .take(limit)
            .cloned()
            .collect();
        picked.reverse();
        picked
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(target: &str) -> Entry {
        Entry {
            at: String::new(),
            session: "s".into(),
            method: "GET".into(),
            target: target.into(),
            status: 200,
            millis: 0.1,
            note: None,
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
            .map(|e| e.target)
            .collect();
        assert_eq!(targets, ["/b", "/c"]);
        assert_eq!(journal.recent(1, Some("s"))[0].target, "/c");
        assert!(journal.recent(10, Some("other")).is_empty());
    }
}
