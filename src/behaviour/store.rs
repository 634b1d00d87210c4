//! Per-session state: the items of each collection, the session's clock
//! offset and its random source.
//!
//! Each session has its own lock, so parallel CI jobs (one session each)
//! never wait on each other, and everything one request does to a session
//! (check a name is free, then create) happens under that one lock, which
//! is what makes a unique create atomic. Collections sit behind `Arc`s so
//! templates can read them without copying; writes go through
//! `Arc::make_mut`, which copies only if a reader still holds the old one.

use super::answer_cache::{AnswerKey, AnswerSlot, PendingAnswer};
use super::clock::real_now_ms;
use super::compact::CompactItem;
use rand::SeedableRng;
use rand::rngs::StdRng;
use serde_json::{Map, Value, json};
use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, RwLockReadGuard, RwLockWriteGuard};

/// One stored item and what the mock knows about it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// The item's fields, compact (`compact`): read them with
    /// [`Record::fields`] or [`Record::field`].
    fields: CompactItem,
    /// Session clock at creation, for readiness.
    pub created_ms: i64,
    /// Retrieves and list appearances, for readiness by reads.
    pub reads: u32,
    /// Soft-deleted: hidden unless asked for.
    pub deleted: bool,
    /// The last answer of a plain read of this version of the item.
    pub answer: AnswerSlot,
}

impl Record {
    pub fn new(value: &Map<String, Value>, created_ms: i64, reads: u32, deleted: bool) -> Self {
        Self::encoded(CompactItem::new(value), created_ms, reads, deleted)
    }

    /// A record of fields already encoded.
    pub fn encoded(fields: CompactItem, created_ms: i64, reads: u32, deleted: bool) -> Self {
        Self {
            fields,
            created_ms,
            reads,
            deleted,
            answer: AnswerSlot::default(),
        }
    }

    /// The item's fields.
    pub fn fields(&self) -> Map<String, Value> {
        self.fields.to_map()
    }

    /// One field of the item.
    pub fn field(&self, name: &str) -> Option<Value> {
        self.fields.get(name)
    }

    /// Whether the field `name` is the text `text` (see
    /// [`CompactItem::holds_text`]).
    pub fn field_is_text(&self, name: &str, text: &str) -> bool {
        self.fields.holds_text(name, text)
    }

    /// One field as it is encoded, for copying into a new item.
    pub fn field_encoding(&self, name: &str) -> Option<super::compact::Encoded> {
        self.fields.field_encoding(name)
    }

    /// [`Self::field_encoding`] of several fields, found in one walk.
    pub fn field_encodings(&self, names: &[String]) -> Vec<Option<super::compact::Encoded>> {
        self.fields.field_encodings(names)
    }

    /// The item as a state dump holds it. A seed item, ready by any
    /// measure, says `"seed": true` rather than a count of reads no
    /// client made.
    pub fn dump(&self) -> Value {
        let mut entry = json!({
            "item": self.fields(),
            "created_ms": self.created_ms,
            "deleted": self.deleted,
        });
        entry[if self.reads == u32::MAX {
            "seed"
        } else {
            "reads"
        }] = match self.reads {
            u32::MAX => Value::Bool(true),
            reads => Value::from(reads),
        };
        entry
    }

    /// Replaces the item's fields.
    pub fn set_fields(&mut self, value: &Map<String, Value>) {
        self.fields = CompactItem::new(value);
        self.answer.clear();
    }
}

/// How an item's key is indexed: a UUID by its 16 bytes, whatever its
/// spelling and with no text kept, any other key as its text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum IndexKey {
    Uuid([u8; 16]),
    Text(Box<str>),
}

impl IndexKey {
    fn of(key: &str) -> Self {
        match super::uuid_text::uuid_bytes(key) {
            Some(bytes) => IndexKey::Uuid(bytes),
            None => IndexKey::Text(key.into()),
        }
    }

    /// A text that [`IndexKey::of`] turns back into this key.
    fn text(&self) -> String {
        match self {
            IndexKey::Uuid(bytes) => super::uuid_text::from_bytes(bytes),
            IndexKey::Text(text) => text.to_string(),
        }
    }
}

/// The items of one collection in one session, in creation order.
///
/// Items sit in a list of slots in the order they were made; a removed
/// item leaves an empty slot until more than half are empty, when the list
/// is closed up. The index maps each key to its slot.
#[derive(Debug, Clone, Default)]
pub struct CollectionData {
    slots: Vec<Option<Record>>,
    by_key: foldhash::HashMap<IndexKey, u32>,
    /// Slots emptied by removals.
    empty: usize,
    /// Changes so far (items written, removed, or read towards readiness):
    /// what tells a request that changed the state from one that did not.
    changes: u64,
    /// Last value handed out by a `sequence` generator.
    pub sequence: u64,
    /// With a state file: the keys of items changed since the journal
    /// last took them. Shared by the copies `Arc::make_mut` makes, so the
    /// journal takes them from the live copy without copying it, whoever
    /// else (a snapshot being written) still holds the old one.
    changed_keys: Option<Arc<Mutex<HashSet<IndexKey>>>>,
    /// Keys of items removed, up to `--max-deleted-keys`: what tells a
    /// deleted item (not found) from a key never stored (`unknown: spec`).
    /// Not kept in the state file.
    gone: foldhash::HashSet<IndexKey>,
}

/// How many removed keys a collection remembers per session by default
/// (`--max-deleted-keys`); past it, a removed key counts as never stored.
pub const DEFAULT_MAX_DELETED_KEYS: usize = 10_000;

/// The changes of one collection since the journal last took them.
#[derive(Debug, Default)]
pub struct CollectionChanges {
    /// Items written since, as they are now.
    pub written: Vec<Record>,
    /// Keys of items removed since.
    pub removed: Vec<String>,
}

impl CollectionChanges {
    pub fn is_empty(&self) -> bool {
        self.written.is_empty() && self.removed.is_empty()
    }
}

impl CollectionData {
    /// An empty collection that keeps the keys of changed items when
    /// `journaled` (see [`CollectionData::take_changes`]).
    pub fn journaled(journaled: bool) -> Self {
        Self {
            changed_keys: journaled.then(Arc::default),
            ..Self::default()
        }
    }

    fn mark_changed(&self, key: &IndexKey) {
        if let Some(keys) = &self.changed_keys {
            lock(keys).insert(key.clone());
        }
    }

    fn forget_changes(&self) {
        if let Some(keys) = &self.changed_keys {
            lock(keys).clear();
        }
    }

    /// The items written and removed since the last call, as they are now.
    /// Takes `&self`: see `changed_keys`.
    pub fn take_changes(&self) -> CollectionChanges {
        let Some(keys) = &self.changed_keys else {
            return CollectionChanges::default();
        };
        let keys = std::mem::take(&mut *lock(keys));
        let mut changes = CollectionChanges::default();
        for key in keys {
            match self
                .by_key
                .get(&key)
                .and_then(|slot| self.slots.get(*slot as usize))
            {
                Some(Some(record)) => changes.written.push(record.clone()),
                _ => changes.removed.push(key.text()),
            }
        }
        changes
    }

    /// The item under `key`; a UUID key is found by any of its spellings.
    pub fn get(&self, key: &str) -> Option<&Record> {
        self.at(self.slot(key)?)
    }

    fn slot_mut(&mut self, key: &str) -> Option<&mut Record> {
        let slot = self.slot(key)?;
        self.slots.get_mut(slot)?.as_mut()
    }

    /// The item under `key`, to change: the answer it kept is forgotten.
    pub fn get_mut(&mut self, key: &str) -> Option<&mut Record> {
        self.changes += 1;
        if self.changed_keys.is_some() {
            self.mark_changed(&IndexKey::of(key));
        }
        let record = self.slot_mut(key)?;
        record.answer.clear();
        Some(record)
    }

    /// Counts one more read of the item under `key`, which changes none
    /// of its fields. It is a change of state only while the item still
    /// waits for `ready_after` reads to become ready.
    pub fn count_read(&mut self, key: &str, ready_after: Option<u32>) {
        if let Some(slot) = self.slot(key) {
            self.count_read_at(slot, key, ready_after);
        }
    }

    /// Where the item under `key` is, for [`Self::at`] and
    /// [`Self::count_read_at`]: a read that also counts looks its key up
    /// once.
    pub fn slot(&self, key: &str) -> Option<usize> {
        self.by_key
            .get(&IndexKey::of(key))
            .map(|slot| *slot as usize)
    }

    /// The item at `slot` (from [`Self::slot`]).
    pub fn at(&self, slot: usize) -> Option<&Record> {
        self.slots.get(slot)?.as_ref()
    }

    /// [`Self::count_read`] of the item at `slot`, whose key is `key`;
    /// whether it changed the state (moved the item towards ready).
    pub fn count_read_at(&mut self, slot: usize, key: &str, ready_after: Option<u32>) -> bool {
        let Some(record) = self.slots.get_mut(slot).and_then(Option::as_mut) else {
            return false;
        };
        let moves_readiness = ready_after.is_some_and(|n| record.reads < n);
        record.reads = record.reads.saturating_add(1);
        if moves_readiness {
            self.changes += 1;
            self.mark_changed(&IndexKey::of(key));
        }
        moves_readiness
    }

    /// Changes so far; see [`Session::change_stamp`].
    pub fn changes(&self) -> u64 {
        self.changes
    }

    /// A place for the answer about to be built for the item under `key`.
    pub fn reserve_answer(&mut self, key: &str, answer: AnswerKey) -> Option<PendingAnswer> {
        Some(self.slot_mut(key)?.answer.reserve(answer))
    }

    /// Adds or replaces the item under `key`.
    pub fn insert(&mut self, key: String, record: Record) {
        self.changes += 1;
        let key = IndexKey::of(&key);
        self.mark_changed(&key);
        if !self.gone.is_empty() {
            self.gone.remove(&key);
        }
        if let Some(slot) = self.by_key.get(&key)
            && let Some(place) = self.slots.get_mut(*slot as usize)
        {
            *place = Some(record);
            return;
        }
        // More slots than a u32 counts cannot be filled: `--max-items`
        // stops far below.
        let slot = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
        self.slots.push(Some(record));
        self.by_key.insert(key, slot);
    }

    /// Inserts a new item under `key`, unless an item has that key: then
    /// the record comes back. [`Self::get`] and [`Self::insert`] in one,
    /// with the key read and hashed once.
    pub fn insert_new(&mut self, key: &str, record: Record) -> Result<(), Record> {
        let key = IndexKey::of(key);
        // Kept only where the journal or the removed keys need it.
        let noted = (self.changed_keys.is_some() || !self.gone.is_empty()).then(|| key.clone());
        let slot = u32::try_from(self.slots.len()).unwrap_or(u32::MAX);
        match self.by_key.entry(key) {
            std::collections::hash_map::Entry::Occupied(taken) => {
                match self.slots.get_mut(*taken.get() as usize) {
                    Some(place @ None) => *place = Some(record),
                    _ => return Err(record),
                }
            }
            std::collections::hash_map::Entry::Vacant(free) => {
                // More slots than a u32 counts cannot be filled:
                // `--max-items` stops far below.
                free.insert(slot);
                self.slots.push(Some(record));
            }
        }
        self.changes += 1;
        if let Some(key) = noted {
            self.mark_changed(&key);
            self.gone.remove(&key);
        }
        Ok(())
    }

    /// Whether an item of this key was removed (and not made again).
    pub fn was_removed(&self, key: &str) -> bool {
        !self.gone.is_empty() && self.gone.contains(&IndexKey::of(key))
    }

    /// Removes the item under `key`, remembering the key as deleted while
    /// fewer than `remember` keys are (0 for an item taken back, never
    /// deleted as far as clients know).
    pub fn remove(&mut self, key: &str, remember: usize) -> Option<Record> {
        self.changes += 1;
        let key = IndexKey::of(key);
        self.mark_changed(&key);
        let slot = self.by_key.remove(&key)?;
        let record = self.slots.get_mut(slot as usize)?.take()?;
        if self.gone.len() < remember {
            self.gone.insert(key);
        }
        self.empty += 1;
        if self.empty > self.slots.len() / 2 {
            self.close_up();
        }
        Some(record)
    }

    /// Drops the empty slots, keeping the order, and renumbers the index.
    fn close_up(&mut self) {
        self.slots.retain(Option::is_some);
        self.empty = 0;
        // The keys in the order of their old slots are the order of the
        // items that remain, so the n-th of them is now in slot n.
        let mut keys: Vec<(u32, IndexKey)> = self.by_key.drain().map(|(k, s)| (s, k)).collect();
        keys.sort_unstable_by_key(|(slot, _)| *slot);
        self.by_key = keys
            .into_iter()
            .enumerate()
            .map(|(new, (_, key))| (key, new as u32))
            .collect();
    }

    /// Items in creation order.
    pub fn iter(&self) -> impl Iterator<Item = &Record> {
        self.slots.iter().flatten()
    }

    pub fn len(&self) -> usize {
        self.slots.len() - self.empty
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// [`key_text`] of a value no longer needed: a string is moved, not
/// copied.
pub fn into_key_text(value: Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s),
        other => key_text(&other),
    }
}

/// The text form of a key value: strings as they are, numbers printed.
pub fn key_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// One session's state.
#[derive(Debug)]
pub struct Session {
    pub name: String,
    pub collections: foldhash::HashMap<String, Arc<CollectionData>>,
    /// Added to the real clock; moved forward by the admin API.
    pub clock_offset_ms: i64,
    pub rng: StdRng,
    /// Real time the session began: seed items, and the credentials of
    /// seeded users, date from then.
    pub started_ms: i64,
    /// Fixture variables this session overrides (`PUT /__understudy/vars`):
    /// one mock serves a test run in one version of an API and another
    /// run in another.
    pub vars: Map<String, Value>,
    /// The last timestamp handed out, in microseconds: each request gets a
    /// later one, so items made in the same millisecond still sort by age.
    last_stamp_us: i64,
    /// Most items this session may hold (`--max-items`); a create past it
    /// is refused.
    pub max_items: usize,
    /// Whether the refusal at `max_items` has been logged (once a session).
    pub full_reported: bool,
    /// Deleted keys each collection remembers (`--max-deleted-keys`).
    pub max_deleted_keys: usize,
    /// With a state file, what the journal has yet to take (see
    /// [`Session::take_changes`]).
    journal: SessionJournal,
}

/// What a session's journal has taken and has yet to take.
#[derive(Debug, Default)]
struct SessionJournal {
    /// Changes are kept for a state file's journal.
    on: bool,
    /// The whole session is to be written: it is new, or was replaced.
    whole: bool,
    /// Clock offset and variables as last taken.
    taken_clock_offset_ms: i64,
    taken_vars: Map<String, Value>,
}

/// A session's state, with its collections shared rather than copied:
/// taken under the session's lock, turned into JSON outside it.
#[derive(Debug)]
pub struct SessionParts {
    pub name: String,
    pub clock_offset_ms: i64,
    pub vars: Map<String, Value>,
    pub collections: Vec<(String, Arc<CollectionData>)>,
}

impl SessionParts {
    /// The session as [`Session::dump`] gives it.
    pub fn dump(&self) -> Value {
        let mut collections: Vec<&(String, Arc<CollectionData>)> =
            self.collections.iter().collect();
        collections.sort_by(|a, b| a.0.cmp(&b.0));
        let collections: Map<String, Value> = collections
            .into_iter()
            .map(|(name, data)| (name.clone(), data.iter().map(Record::dump).collect()))
            .collect();
        json!({
            "session": self.name,
            "clock_offset_ms": self.clock_offset_ms,
            "vars": self.vars,
            "collections": collections,
        })
    }
}

/// What changed in a session since its journal last took its changes.
#[derive(Debug)]
pub enum SessionChanges {
    /// The session is new or was replaced: all of it.
    Whole(SessionParts),
    /// Some items, the clock or the variables.
    Some {
        clock_offset_ms: i64,
        vars: Map<String, Value>,
        collections: Vec<(String, CollectionChanges)>,
    },
}

impl Session {
    pub fn new(name: &str, seed: u64) -> Self {
        Self {
            name: name.to_string(),
            collections: Default::default(),
            clock_offset_ms: 0,
            rng: StdRng::seed_from_u64(seed ^ fnv(name)),
            started_ms: real_now_ms(),
            vars: Map::new(),
            last_stamp_us: i64::MIN,
            max_items: usize::MAX,
            full_reported: false,
            max_deleted_keys: DEFAULT_MAX_DELETED_KEYS,
            journal: SessionJournal::default(),
        }
    }

    /// Keeps what changes for a state file's journal from now on, starting
    /// with the whole session when `whole`.
    pub fn journal_changes(&mut self, whole: bool) {
        self.journal = SessionJournal {
            on: true,
            whole,
            taken_clock_offset_ms: self.clock_offset_ms,
            taken_vars: self.vars.clone(),
        };
        // What is there now is taken whole or already on disk.
        for data in self.collections.values_mut() {
            match &data.changed_keys {
                Some(_) => data.forget_changes(),
                None => Arc::make_mut(data).changed_keys = Some(Arc::default()),
            }
        }
    }

    /// The session's state with its collections shared, not copied.
    pub fn parts(&self) -> SessionParts {
        SessionParts {
            name: self.name.clone(),
            clock_offset_ms: self.clock_offset_ms,
            vars: self.vars.clone(),
            collections: self
                .collections
                .iter()
                .map(|(name, data)| (name.clone(), data.clone()))
                .collect(),
        }
    }

    /// What changed since the last call, `None` when nothing did (or no
    /// journal is kept).
    pub fn take_changes(&mut self) -> Option<SessionChanges> {
        if !self.journal.on {
            return None;
        }
        if self.journal.whole {
            self.journal.whole = false;
            for data in self.collections.values() {
                data.forget_changes();
            }
            self.journal.taken_clock_offset_ms = self.clock_offset_ms;
            self.journal.taken_vars = self.vars.clone();
            return Some(SessionChanges::Whole(self.parts()));
        }
        let mut collections: Vec<(String, CollectionChanges)> = self
            .collections
            .iter()
            .map(|(name, data)| (name.clone(), data.take_changes()))
            .filter(|(_, changes)| !changes.is_empty())
            .collect();
        collections.sort_by(|a, b| a.0.cmp(&b.0));
        let meta_changed = self.journal.taken_clock_offset_ms != self.clock_offset_ms
            || self.journal.taken_vars != self.vars;
        if collections.is_empty() && !meta_changed {
            return None;
        }
        if meta_changed {
            self.journal.taken_clock_offset_ms = self.clock_offset_ms;
            self.journal.taken_vars = self.vars.clone();
        }
        Some(SessionChanges::Some {
            clock_offset_ms: self.clock_offset_ms,
            vars: self.vars.clone(),
            collections,
        })
    }

    /// Items stored in every collection, deleted ones included (they are
    /// kept, so they take room).
    pub fn item_count(&self) -> usize {
        self.collections.values().map(|c| c.len()).sum()
    }

    pub fn now_ms(&self) -> i64 {
        real_now_ms() + self.clock_offset_ms
    }

    /// The session's time in microseconds, later than any handed out before.
    pub fn stamp_us(&mut self) -> i64 {
        let now =
            super::clock::real_now_us().saturating_add(self.clock_offset_ms.saturating_mul(1000));
        let stamp = now.max(self.last_stamp_us.saturating_add(1));
        self.last_stamp_us = stamp;
        stamp
    }

    /// Milliseconds of the session clock since `record` was made (seed
    /// items: since the session began).
    pub fn age_ms(&self, record: &Record) -> i64 {
        let made = if record.created_ms == 0 {
            self.started_ms
        } else {
            record.created_ms
        };
        self.now_ms().saturating_sub(made)
    }

    pub fn collection(&self, name: &str) -> Arc<CollectionData> {
        self.collections.get(name).cloned().unwrap_or_default()
    }

    pub fn collection_mut(&mut self, name: &str) -> &mut CollectionData {
        let journaled = self.journal.on;
        // Looked up before the entry API, which would copy the name into
        // a key on every write to a collection that exists.
        if !self.collections.contains_key(name) {
            let data = Arc::new(CollectionData::journaled(journaled));
            self.collections.insert(name.to_string(), data);
        }
        let data = self.collections.get_mut(name);
        Arc::make_mut(data.expect("the collection was just made"))
    }

    /// Counts one more read of the item `key` of `collection` (see
    /// [`CollectionData::count_read`]): done on every read, so without
    /// making the collection's name a key.
    pub fn count_read(&mut self, collection: &str, key: &str, ready_after: Option<u32>) {
        if let Some(data) = self.collections.get_mut(collection) {
            Arc::make_mut(data).count_read(key, ready_after);
        }
    }

    /// A number that moves whenever the session's items change: compared
    /// before and after a request, it says whether the request changed
    /// the state (and a state file has something to save).
    pub fn change_stamp(&self) -> u64 {
        self.collections
            .values()
            .map(|data| data.changes())
            .fold(self.collections.len() as u64, u64::wrapping_add)
    }

    /// The session as JSON, for the admin API's dump.
    pub fn dump(&self) -> Value {
        self.parts().dump()
    }

    /// Replaces the state with a dump; `keys` gives each collection's key
    /// field. Nothing changes when the dump is refused.
    pub fn load(&mut self, dump: &Value, keys: &HashMap<String, String>) -> Result<(), DumpError> {
        let offset = match dump.get("clock_offset_ms") {
            None => 0,
            Some(v) => v
                .as_i64()
                .filter(|ms| ms.unsigned_abs() <= MAX_CLOCK_OFFSET_MS)
                .ok_or_else(|| {
                    DumpError::new(
                        "clock_offset_ms",
                        format!(
                            "must be a whole number of milliseconds within ±{MAX_CLOCK_OFFSET_MS}"
                        ),
                    )
                })?,
        };
        let Some(Value::Object(map)) = dump.get("collections") else {
            return Err(DumpError::new(
                "collections",
                "is needed: a mapping of collection to items",
            ));
        };
        let mut collections = foldhash::HashMap::default();
        for (name, items) in map {
            let at = format!("collections.{name}");
            let key_field = keys
                .get(name)
                .ok_or_else(|| DumpError::new(&at, "is no collection the fixture declares"))?;
            let Value::Array(items) = items else {
                return Err(DumpError::new(&at, "must be a list"));
            };
            let mut data = CollectionData::journaled(self.journal.on);
            for (i, entry) in items.iter().enumerate() {
                let at = format!("{at}[{i}]");
                let record = self.record(entry, &at)?;
                let Some(key) = record.field(key_field).as_ref().and_then(key_text) else {
                    return Err(DumpError::new(
                        &at,
                        format!("has an item with no `{key_field}`"),
                    ));
                };
                if data.get(&key).is_some() {
                    return Err(DumpError::new(&at, format!("repeats `{key_field}` {key}")));
                }
                if let Some(n) = record.field(key_field).as_ref().and_then(Value::as_u64) {
                    data.sequence = data.sequence.max(n);
                }
                data.insert(key, record);
            }
            collections.insert(name.clone(), Arc::new(data));
        }
        let vars = match dump.get("vars") {
            None | Some(Value::Null) => Map::new(),
            Some(Value::Object(vars)) => vars.clone(),
            Some(_) => {
                return Err(DumpError::new(
                    "vars",
                    "must be a mapping of names to values",
                ));
            }
        };
        self.collections = collections;
        self.clock_offset_ms = offset;
        self.vars = vars;
        // Replaced whole: the journal writes it whole.
        self.journal.whole = self.journal.on;
        Ok(())
    }

    /// One entry of a dumped collection, each field range-checked: a state
    /// file edited by hand must not load values the mock never writes.
    fn record(&self, entry: &Value, at: &str) -> Result<Record, DumpError> {
        let Some(Value::Object(value)) = entry.get("item") else {
            return Err(DumpError::new(at, "needs `item`, a mapping"));
        };
        let created_ms = match entry.get("created_ms") {
            None => self.now_ms(),
            Some(v) => v
                .as_i64()
                .filter(|ms| (0..=MAX_TIME_MS).contains(ms))
                .ok_or_else(|| {
                    DumpError::new(
                        format!("{at}.created_ms"),
                        format!("must be a time in milliseconds from 0 to {MAX_TIME_MS}"),
                    )
                })?,
        };
        let reads = match (entry.get("reads"), entry.get("seed")) {
            (None, Some(Value::Bool(true))) => u32::MAX,
            (None, None | Some(Value::Bool(false))) => 0,
            (Some(_), Some(_)) | (None, Some(_)) => {
                return Err(DumpError::new(
                    format!("{at}.seed"),
                    "must be true (a seed item, ready by any measure), without `reads`",
                ));
            }
            (Some(v), None) => v
                .as_u64()
                .and_then(|r| u32::try_from(r).ok())
                .ok_or_else(|| {
                    DumpError::new(
                        format!("{at}.reads"),
                        format!("must be a whole number from 0 to {}", u32::MAX),
                    )
                })?,
        };
        let deleted = match entry.get("deleted") {
            None => false,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(DumpError::new(
                    format!("{at}.deleted"),
                    "must be true or false",
                ));
            }
        };
        Ok(Record::new(value, created_ms, reads, deleted))
    }
}

/// The furthest a session clock may be moved, about 300 years: far enough
/// for any readiness delay, and far from where millisecond arithmetic wraps.
pub const MAX_CLOCK_OFFSET_MS: u64 = 10_000_000_000_000;

/// The latest creation time a dump may hold (about the year 5138).
const MAX_TIME_MS: i64 = 100_000_000_000_000;

/// What is wrong in a state dump, and where (a dotted path into it).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}`{at}` {problem}", session.as_ref().map(|s| format!("session `{s}`: ")).unwrap_or_default())]
pub struct DumpError {
    /// The session, when the dump held several.
    pub session: Option<String>,
    pub at: String,
    pub problem: String,
}

impl DumpError {
    fn new(at: impl Into<String>, problem: impl Into<String>) -> Self {
        Self {
            session: None,
            at: at.into(),
            problem: problem.into(),
        }
    }
}

/// How much one mock keeps: a load test that makes a new session or item
/// per request must not grow the process without bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoreLimits {
    /// Items per session (`--max-items`).
    pub max_items: usize,
    /// Sessions kept (`--max-sessions`); past it the session idle longest
    /// is dropped.
    pub max_sessions: usize,
    /// Deleted keys remembered per collection and session
    /// (`--max-deleted-keys`).
    pub max_deleted_keys: usize,
    /// Build and check every answer, never sending one kept with an
    /// unchanged item (`--check-every-answer`).
    pub check_every_answer: bool,
    /// Keep what changes for a state file's journal (`--state-file`).
    pub journal: bool,
}

/// A session and its name.
pub type NamedSession = (String, Arc<Mutex<Session>>);

/// A change to a store's set of sessions, for a state file's journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionsChange {
    /// The session was reset or dropped.
    Forgot(String),
    /// Every session was reset.
    ForgotAll,
}

impl Default for StoreLimits {
    fn default() -> Self {
        Self {
            max_items: 1_000_000,
            max_sessions: 10_000,
            max_deleted_keys: DEFAULT_MAX_DELETED_KEYS,
            check_every_answer: false,
            journal: false,
        }
    }
}

/// A session and when a request last asked for it.
#[derive(Debug)]
struct Entry {
    session: Arc<Mutex<Session>>,
    /// The store's use count at the last request for it: a strict order,
    /// where clock times tie within a millisecond.
    last_used: Usage,
}

/// Where a session's last use is counted: a repeated answer holds it, and
/// marks the use without looking the session up by name.
#[derive(Debug, Clone)]
pub struct Usage(Arc<AtomicU64>);

impl Usage {
    fn new(at: u64) -> Self {
        Usage(Arc::new(AtomicU64::new(at)))
    }

    fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// All sessions of one mock. Requests share a read lock on the map to find
/// their session and then lock just that session; the map is locked for
/// writing only to make or forget a session.
#[derive(Debug, Default)]
pub struct Store {
    sessions: RwLock<foldhash::HashMap<String, Entry>>,
    /// Mixed with each session's name to seed its random source.
    seed: AtomicU64,
    limits: StoreLimits,
    /// Counts requests for sessions, to order them by last use.
    uses: AtomicU64,
    /// What the store did on its own (a session dropped), for the log.
    events: Mutex<Vec<String>>,
    has_events: AtomicBool,
    /// Changes of state so far (see [`Store::note_change`]).
    changes: AtomicU64,
    /// Sessions forgotten since the journal last asked, in order; kept
    /// only with `limits.journal`. Written under the sessions' write lock,
    /// so they and the sessions a journal finds agree.
    forgotten: Mutex<Vec<SessionsChange>>,
}

impl Store {
    pub fn new(seed: u64) -> Self {
        Self::with_limits(seed, StoreLimits::default())
    }

    pub fn with_limits(seed: u64, limits: StoreLimits) -> Self {
        Self {
            sessions: RwLock::default(),
            seed: AtomicU64::new(seed),
            limits,
            uses: AtomicU64::new(0),
            events: Mutex::default(),
            has_events: AtomicBool::new(false),
            changes: AtomicU64::new(0),
            forgotten: Mutex::default(),
        }
    }

    fn forgot(&self, change: SessionsChange) {
        if self.limits.journal {
            lock(&self.forgotten).push(change);
        }
    }

    /// For a state file's journal: the sessions forgotten since the last
    /// call, and every session now, taken at one moment.
    pub fn journal_view(&self) -> (Vec<SessionsChange>, Vec<NamedSession>) {
        let sessions = read(&self.sessions);
        let forgotten = std::mem::take(&mut *lock(&self.forgotten));
        let mut now: Vec<NamedSession> = sessions
            .iter()
            .map(|(name, entry)| (name.clone(), entry.session.clone()))
            .collect();
        now.sort_by(|a, b| a.0.cmp(&b.0));
        (forgotten, now)
    }

    /// Counts one change of state: an item written or removed, a read
    /// that moves readiness, a session made, dropped or reset. Reads that
    /// change nothing are not counted, so a state file is not rewritten
    /// for them.
    pub fn note_change(&self) {
        self.changes.fetch_add(1, Ordering::Release);
    }

    /// Changes of state so far.
    pub fn change_count(&self) -> u64 {
        self.changes.load(Ordering::Acquire)
    }

    /// Whether answers of unchanged items are kept and sent again.
    pub fn keeps_answers(&self) -> bool {
        !self.limits.check_every_answer
    }

    /// Takes the lines the store has to log since the last call (cheap
    /// when there are none: one atomic load).
    pub fn take_events(&self) -> Vec<String> {
        if !self.has_events.swap(false, Ordering::AcqRel) {
            return Vec::new();
        }
        std::mem::take(&mut *lock(&self.events))
    }

    fn tick(&self) -> u64 {
        self.uses.fetch_add(1, Ordering::Relaxed)
    }

    pub fn event(&self, line: String) {
        lock(&self.events).push(line);
        self.has_events.store(true, Ordering::Release);
    }

    /// Every session as its dump, by name.
    pub fn dump_all(&self) -> Map<String, Value> {
        let sessions: Vec<(String, Arc<Mutex<Session>>)> = read(&self.sessions)
            .iter()
            .map(|(name, entry)| (name.clone(), entry.session.clone()))
            .collect();
        let mut dumps: Vec<(String, Value)> = sessions
            .into_iter()
            .map(|(name, session)| {
                // The collections are shared under the lock and turned
                // into JSON after it, so requests wait only for the former.
                let parts = lock(&session).parts();
                (name, parts.dump())
            })
            .collect();
        dumps.sort_by(|a, b| a.0.cmp(&b.0));
        dumps.into_iter().collect()
    }

    /// Puts sessions saved by [`Store::dump_all`] back. `generation` counts
    /// the restarts: it is mixed into every random source, so ids made
    /// after a restart do not repeat the ones made before it. Nothing
    /// changes when a session is refused.
    pub fn restore(
        &self,
        dumps: &Map<String, Value>,
        keys: &HashMap<String, String>,
        generation: u64,
    ) -> Result<(), DumpError> {
        let seed = self.seed.load(Ordering::Relaxed) ^ fnv(&format!("generation {generation}"));
        let mut restored = foldhash::HashMap::default();
        for (name, dump) in dumps {
            let mut session = Session::new(name, seed);
            session.max_items = self.limits.max_items;
            session.max_deleted_keys = self.limits.max_deleted_keys;
            if self.limits.journal {
                session.journal_changes(false);
            }
            session.load(dump, keys).map_err(|e| DumpError {
                session: Some(name.clone()),
                ..e
            })?;
            if self.limits.journal {
                // What was restored is in the file already.
                session.journal_changes(false);
            }
            restored.insert(
                name.clone(),
                Entry {
                    session: Arc::new(Mutex::new(session)),
                    last_used: Usage::new(self.tick()),
                },
            );
        }
        self.seed.store(seed, Ordering::Relaxed);
        *write(&self.sessions) = restored;
        Ok(())
    }

    /// The session named `name`, made (and seeded by `init`) on first use.
    pub fn session(&self, name: &str, init: impl FnOnce(&mut Session)) -> Arc<Mutex<Session>> {
        if let Some(entry) = read(&self.sessions).get(name) {
            self.mark_used(&entry.last_used);
            return entry.session.clone();
        }
        let mut sessions = write(&self.sessions);
        // Another request may have made it while this one waited.
        if let Some(entry) = sessions.get(name) {
            return entry.session.clone();
        }
        if sessions.len() >= self.limits.max_sessions
            && let Some(dropped) = idle_longest(&sessions)
        {
            sessions.remove(&dropped);
            self.forgot(SessionsChange::Forgot(dropped.clone()));
            self.event(format!(
                "dropped session `{dropped}`, idle longest, to keep --max-sessions {}",
                self.limits.max_sessions
            ));
        }
        let mut session = Session::new(name, self.seed.load(Ordering::Relaxed));
        session.max_items = self.limits.max_items;
        session.max_deleted_keys = self.limits.max_deleted_keys;
        if self.limits.journal {
            session.journal_changes(true);
        }
        init(&mut session);
        self.note_change();
        let session = Arc::new(Mutex::new(session));
        sessions.insert(
            name.to_string(),
            Entry {
                session: session.clone(),
                last_used: Usage::new(self.tick()),
            },
        );
        session
    }

    /// Where the use of the session named `name` is counted, if it is
    /// there.
    pub fn usage(&self, name: &str) -> Option<Usage> {
        read(&self.sessions)
            .get(name)
            .map(|entry| entry.last_used.clone())
    }

    /// Counts a request for the session whose use is counted at `usage`,
    /// as [`Self::session`] does, for a request answered without it (a
    /// repeated answer).
    pub fn mark_used(&self, usage: &Usage) {
        usage.0.store(self.tick(), Ordering::Relaxed);
    }

    /// Forgets one session; it starts from the seed data on its next request.
    pub fn reset(&self, name: &str) -> bool {
        self.note_change();
        let mut sessions = write(&self.sessions);
        self.forgot(SessionsChange::Forgot(name.to_string()));
        sessions.remove(name).is_some()
    }

    pub fn reset_all(&self) -> usize {
        self.note_change();
        let mut sessions = write(&self.sessions);
        self.forgot(SessionsChange::ForgotAll);
        let n = sessions.len();
        sessions.clear();
        n
    }

    pub fn names(&self) -> Vec<String> {
        let mut names: Vec<String> = read(&self.sessions).keys().cloned().collect();
        names.sort();
        names
    }
}

/// The session asked for least recently that no request holds now; `None`
/// when every session is in use (the cap is then passed for a moment
/// rather than a request waited on).
fn idle_longest(sessions: &foldhash::HashMap<String, Entry>) -> Option<String> {
    sessions
        .iter()
        .filter(|(_, entry)| Arc::strong_count(&entry.session) == 1)
        .min_by_key(|(_, entry)| entry.last_used.get())
        .map(|(name, _)| name.clone())
}

/// Locks a mutex, recovering the data if a thread panicked while holding it:
/// a mock that stops answering after one bug is worse than one that goes on.
pub fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A stable hash of the session name, so each session's ids differ but repeat.
pub fn fnv(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(id: &str) -> Record {
        Record::new(
            json!({"id": id}).as_object().unwrap_or(&Map::new()),
            0,
            0,
            false,
        )
    }

    #[test]
    fn keeps_creation_order_and_finds_by_key() {
        let mut data = CollectionData::default();
        for id in ["b", "a", "c"] {
            data.insert(id.into(), record(id));
        }
        data.remove("a", DEFAULT_MAX_DELETED_KEYS);
        data.insert("d".into(), record("d"));
        let order: Vec<Value> = data.iter().map(|r| r.fields()["id"].clone()).collect();
        assert_eq!(order, [json!("b"), json!("c"), json!("d")]);
        assert!(data.get("a").is_none());
        assert_eq!(data.get("c").and_then(|r| r.field("id")), Some(json!("c")));
    }

    #[test]
    fn removed_keys_are_remembered_up_to_the_limit() {
        let mut data = CollectionData::default();
        for id in ["a", "b", "c", "d"] {
            data.insert(id.into(), record(id));
        }
        for id in ["a", "b", "c"] {
            data.remove(id, 2);
        }
        assert!(data.was_removed("a") && data.was_removed("b"));
        assert!(!data.was_removed("c"), "past the limit: as never stored");
        // Taken back (a create undone): never deleted as far as clients know.
        data.remove("d", 0);
        assert!(!data.was_removed("d"));
        // Stored again, a key is no longer a deleted one.
        data.insert("a".into(), record("a"));
        assert!(!data.was_removed("a"));
    }

    #[test]
    fn dump_and_load_round_trip() {
        let mut session = Session::new("s", 1);
        session
            .collection_mut("projects")
            .insert("p1".into(), record("p1"));
        session.clock_offset_ms = 5000;
        let dump = session.dump();
        let keys = HashMap::from([("projects".to_string(), "id".to_string())]);
        let mut other = Session::new("t", 1);
        other.load(&dump, &keys).expect("a dump loads");
        assert_eq!(other.clock_offset_ms, 5000);
        assert_eq!(other.collection("projects").get("p1"), Some(&record("p1")));
    }

    #[test]
    fn a_bad_dump_changes_nothing() {
        let mut session = Session::new("s", 1);
        session
            .collection_mut("projects")
            .insert("p1".into(), record("p1"));
        let keys = HashMap::from([("projects".to_string(), "id".to_string())]);
        let bad = json!({"collections": {"projects": [{"item": {"name": "no id"}}]}});
        let error = session.load(&bad, &keys).expect_err("no key");
        assert_eq!(
            error.to_string(),
            "`collections.projects[0]` has an item with no `id`"
        );
        assert_eq!(session.collection("projects").len(), 1);
    }

    #[test]
    fn values_the_mock_never_writes_are_refused_with_their_place() {
        let keys = HashMap::from([("projects".to_string(), "id".to_string())]);
        let entry = |extra: Value| {
            let mut entry = json!({"item": {"id": "p1"}});
            if let (Value::Object(entry), Value::Object(extra)) = (&mut entry, extra) {
                entry.extend(extra);
            }
            json!({"collections": {"projects": [entry]}})
        };
        for (dump, at) in [
            (entry(json!({"reads": -1})), "collections.projects[0].reads"),
            (
                entry(json!({"reads": 5_000_000_000u64})),
                "collections.projects[0].reads",
            ),
            (
                entry(json!({"deleted": "yes"})),
                "collections.projects[0].deleted",
            ),
            (
                entry(json!({"created_ms": -5})),
                "collections.projects[0].created_ms",
            ),
            (
                json!({"clock_offset_ms": i64::MAX, "collections": {}}),
                "clock_offset_ms",
            ),
            (
                entry(json!({"seed": "yes"})),
                "collections.projects[0].seed",
            ),
            (
                entry(json!({"seed": true, "reads": 2})),
                "collections.projects[0].seed",
            ),
        ] {
            let mut session = Session::new("s", 1);
            let error = session.load(&dump, &keys).expect_err("out of range");
            assert_eq!(error.at, at, "{error}");
        }
        let mut session = Session::new("s", 1);
        session
            .load(
                &entry(json!({"reads": 3, "deleted": true, "created_ms": 10})),
                &keys,
            )
            .expect("in range");
        let record = session.collection("projects").get("p1").cloned();
        assert_eq!(
            record.map(|r| (r.reads, r.deleted, r.created_ms)),
            Some((3, true, 10))
        );
    }

    #[test]
    fn a_seed_item_is_dumped_as_one_and_loads_back_ready() {
        let seeded = Record::new(
            &Map::from_iter([("id".into(), json!("s1"))]),
            0,
            u32::MAX,
            false,
        );
        let dumped = seeded.dump();
        assert_eq!(dumped["seed"], true, "{dumped}");
        assert!(
            dumped.get("reads").is_none(),
            "no count of reads nobody made: {dumped}"
        );
        let keys = HashMap::from([("servers".to_string(), "id".to_string())]);
        let mut session = Session::new("s", 1);
        session
            .load(&json!({"collections": {"servers": [dumped]}}), &keys)
            .expect("loads");
        let back = session.collection("servers").get("s1").map(|r| r.reads);
        assert_eq!(back, Some(u32::MAX));
        let made = Record::new(&Map::from_iter([("id".into(), json!("p1"))]), 0, 2, false);
        assert_eq!(made.dump()["reads"], 2);
    }
}
