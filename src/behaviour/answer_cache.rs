//! Answers of unchanged items, kept with the item: a read of an item that
//! has not changed since it was last answered sends the bytes sent then,
//! without presenting, checking against the schema or serialising again.
//!
//! Only reads whose answer follows from the stored item alone are kept
//! (see `Runner::cacheable`): the rule is a plain `read` with no
//! condition, body or header templates, and the collection's computed
//! fields read nothing but the item. Such an answer changes only when the
//! item changes, when it becomes ready, or when the client asks for
//! another media type, so those make the key. Anything that writes an
//! item's fields (`CollectionData::get_mut`, a replacing insert, a clone)
//! starts it with an empty slot: a stale answer cannot outlive its item.
//!
//! The answer is built and checked against the response schema the first
//! time, so every answer sent has been checked once for its item's
//! version; `--check-every-answer` turns the cache off to check them all.

use bytes::Bytes;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

/// An answer as sent: what a cache hit replies with.
#[derive(Debug)]
pub struct CachedAnswer {
    key: AnswerKey,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

/// What a kept answer depends on besides the item's fields.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerKey {
    /// The rule that answered ([`next_rule_serial`]): a reloaded fixture's
    /// rules never match answers of the one before.
    pub rule: u64,
    /// Whether the item was ready when answered.
    pub ready: bool,
    /// The request's `Accept` header, which chose the media type.
    pub accept: Option<Box<str>>,
}

/// A number unique to each rule loaded in this process.
pub fn next_rule_serial() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    NEXT.fetch_add(1, Ordering::Relaxed)
}

type Cell = Arc<OnceLock<CachedAnswer>>;

/// The answer kept with one stored item, if any. A copy of the item is a
/// new version of it, so a clone starts empty.
#[derive(Default)]
pub struct AnswerSlot(Option<Cell>);

impl Clone for AnswerSlot {
    fn clone(&self) -> Self {
        Self(None)
    }
}

/// Two items are equal by their fields whatever answers they keep.
impl PartialEq for AnswerSlot {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl std::fmt::Debug for AnswerSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kept = self.0.as_ref().is_some_and(|cell| cell.get().is_some());
        write!(f, "AnswerSlot({})", if kept { "kept" } else { "empty" })
    }
}

impl AnswerSlot {
    /// The kept answer, when it was made under `key`.
    pub fn hit(&self, key: &AnswerKey) -> Option<Cell> {
        let cell = self.0.as_ref()?;
        (cell.get()?.key == *key).then(|| cell.clone())
    }

    /// Forgets the kept answer: the item is about to change.
    pub fn clear(&mut self) {
        self.0 = None;
    }

    /// An empty place for the answer about to be built under `key`,
    /// replacing what was kept.
    pub fn reserve(&mut self, key: AnswerKey) -> PendingAnswer {
        let cell = Cell::default();
        self.0 = Some(cell.clone());
        PendingAnswer { cell, key }
    }
}

/// Where an answer goes once the reply stage has built and checked it.
/// Filling it after the item changed is harmless: the change replaced the
/// item's slot, so nothing reads this one any more.
#[derive(Debug)]
pub struct PendingAnswer {
    cell: Cell,
    key: AnswerKey,
}

impl PendingAnswer {
    pub fn keep(self, status: u16, headers: Vec<(String, String)>, body: Bytes) {
        let _ = self.cell.set(CachedAnswer {
            key: self.key,
            status,
            headers,
            body,
        });
    }
}

/// A kept answer found for a request.
#[derive(Debug)]
pub struct Hit {
    cell: Cell,
    settled: bool,
}

impl Hit {
    /// `settled`: nothing but a change of state can change the answer (no
    /// readiness still to come with time), so the same request may be
    /// answered the same until the state changes (or its credentials
    /// expire, which the request knows).
    pub fn new(cell: Cell, settled: bool) -> Self {
        Self { cell, settled }
    }

    pub fn answer(&self) -> Option<&CachedAnswer> {
        self.cell.get()
    }

    pub fn settled(&self) -> bool {
        self.settled
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(ready: bool) -> AnswerKey {
        AnswerKey {
            rule: 7,
            ready,
            accept: None,
        }
    }

    #[test]
    fn an_answer_is_found_only_under_the_key_it_was_kept_with() {
        let mut slot = AnswerSlot::default();
        assert!(slot.hit(&key(false)).is_none());
        slot.reserve(key(false))
            .keep(200, Vec::new(), Bytes::from_static(b"{}"));
        assert!(slot.hit(&key(false)).is_some());
        assert!(
            slot.hit(&key(true)).is_none(),
            "readiness is part of the key"
        );
        let other_accept = AnswerKey {
            accept: Some("application/xml".into()),
            ..key(false)
        };
        assert!(slot.hit(&other_accept).is_none());
    }

    #[test]
    fn a_copy_or_a_cleared_slot_keeps_nothing() {
        let mut slot = AnswerSlot::default();
        slot.reserve(key(true))
            .keep(200, Vec::new(), Bytes::from_static(b"{}"));
        assert!(slot.clone().hit(&key(true)).is_none());
        slot.clear();
        assert!(slot.hit(&key(true)).is_none());
    }

    #[test]
    fn an_answer_kept_after_the_slot_was_replaced_is_not_found() {
        let mut slot = AnswerSlot::default();
        let late = slot.reserve(key(true));
        slot.clear();
        late.keep(200, Vec::new(), Bytes::from_static(b"{}"));
        assert!(slot.hit(&key(true)).is_none());
    }
}
