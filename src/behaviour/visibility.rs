//! Who may see which items of a collection with `visible:`, worked out
//! item by item as a request asks, once per item per request.
//!
//! It used to be worked out for every item of every such collection at
//! the start of every request: on the Waldur fixture, with a thousand
//! projects stored, each request evaluated the condition a thousand times
//! before doing anything, and a load test slowed with every project it
//! made (creates went from 5 ms to 12 ms over their first 800). A read
//! of one item now evaluates the condition for that item; a list, for
//! what it lists.

use super::store::{CollectionData, Record, key_text};
use super::uuid_text::index_form;
use std::sync::{Arc, Mutex};

/// The session's collections as a request sees them, by the fixture's
/// collection index (`None`: nothing stored).
pub type Collections = [Option<Arc<CollectionData>>];

/// Whether a stored record passes its collection's `visible` condition,
/// with the state's collections at hand for conditions that look at
/// others (`permissions.exists(…)`).
pub type Condition = dyn Fn(&Record, &Collections) -> bool + Send + Sync;

/// One collection's visibility for one request.
pub struct Visibility {
    /// The collection's key field.
    key: String,
    condition: Box<Condition>,
    /// What was found, by the key's index form: an item is judged once
    /// per request, as it was stored when first asked about.
    seen: Mutex<foldhash::HashMap<String, bool>>,
}

impl std::fmt::Debug for Visibility {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Visibility")
            .field("key", &self.key)
            .finish_non_exhaustive()
    }
}

impl Visibility {
    pub fn new(key: String, condition: Box<Condition>) -> Self {
        Self {
            key,
            condition,
            seen: Mutex::default(),
        }
    }

    /// Whether the request's user may see `record`; `collections` is
    /// asked for only when the record has not been judged yet.
    pub fn sees<C: AsRef<Collections>>(
        &self,
        record: &Record,
        collections: impl FnOnce() -> C,
    ) -> bool {
        let Some(key) = record.field(&self.key).as_ref().and_then(key_text) else {
            return false;
        };
        let key = index_form(&key).into_owned();
        if let Some(known) = self.known(&key) {
            return known;
        }
        // Judged without the lock held: a condition reads other
        // collections, never this visibility.
        let seen = (self.condition)(record, collections().as_ref());
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key, seen);
        seen
    }

    fn known(&self, key: &str) -> Option<bool> {
        self.seen
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(key)
            .copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn record(fields: serde_json::Value) -> Record {
        let serde_json::Value::Object(map) = fields else {
            unreachable!()
        };
        Record::new(&map, 0, 0, false)
    }

    #[test]
    fn each_item_is_judged_once_and_only_when_asked_about() {
        let judged = Arc::new(AtomicUsize::new(0));
        let counter = judged.clone();
        let visibility = Visibility::new(
            "uuid".into(),
            Box::new(move |record: &Record, _: &Collections| {
                counter.fetch_add(1, Ordering::Relaxed);
                record.field("owner") == Some(json!("alice"))
            }),
        );
        let none = || Vec::<Option<Arc<CollectionData>>>::new();
        let mine =
            record(json!({"uuid": "8C6A0F5E-2B1D-4E3A-9F47-0D5C1B2A3E4F", "owner": "alice"}));
        let theirs = record(json!({"uuid": "p2", "owner": "bob"}));
        assert!(visibility.sees(&mine, none));
        assert!(!visibility.sees(&theirs, none));
        assert_eq!(judged.load(Ordering::Relaxed), 2);
        // Asked again, in another spelling of the same UUID: not judged again.
        let again = record(json!({"uuid": "8c6a0f5e2b1d4e3a9f470d5c1b2a3e4f", "owner": "bob"}));
        assert!(visibility.sees(&again, none));
        assert!(
            !visibility.sees(&theirs, || -> Vec<Option<Arc<CollectionData>>> {
                panic!("the collections are not needed for an item judged before")
            })
        );
        assert_eq!(judged.load(Ordering::Relaxed), 2);
        // An item without a key is seen by nobody.
        assert!(!visibility.sees(&record(json!({"owner": "alice"})), none));
    }
}
