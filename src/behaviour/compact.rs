//! Stored items in a compact form: one allocation per item, field names
//! shared, UUIDs as their 16 bytes. A mittwald project encodes in about
//! 250 bytes (some 400 in the store, with its index) against some 4,500 as
//! a `serde_json` map, so a long load test holds ten times the items in the
//! same memory.
//!
//! The encoding is a tag byte per value, then its payload:
//! numbers as 8 bytes, text as a length and UTF-8, arrays and objects as a
//! count and their members; an object's field name is a shared name's
//! number or the name itself. Lengths and counts are LEB128.
//!
//! Field names are shared through one process-wide table, which only
//! grows; it takes at most [`MAX_SHARED_NAMES`] names of at most
//! [`MAX_SHARED_NAME_LEN`] bytes, so a client sending a new name with
//! every request cannot grow it without bound: names past either limit are
//! stored in each item that has them.

use super::uuid_text::lower_hyphenated_bytes;
use serde_json::{Map, Number, Value};
use std::collections::HashMap;
use std::sync::{OnceLock, RwLock};

/// Most field names shared between items (more are stored in each item).
pub const MAX_SHARED_NAMES: usize = 65_536;
/// Longest field name shared between items, in bytes.
pub const MAX_SHARED_NAME_LEN: usize = 64;

const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const UNSIGNED: u8 = 3;
const SIGNED: u8 = 4;
const FLOAT: u8 = 5;
const TEXT: u8 = 6;
const ARRAY: u8 = 7;
const OBJECT: u8 = 8;
/// A lower-case hyphenated UUID, as its 16 bytes.
const UUID: u8 = 9;
/// A small whole number in the tag's byte that follows (0 to 255).
const SMALL: u8 = 10;
/// A UTC time as the mock writes it to the microsecond
/// (`2026-11-30T09:03:53.682123Z`), as 8 bytes of microseconds.
const MICROS: u8 = 11;
/// A UTC time to the second (`2026-11-30T09:03:53Z`), as 8 bytes of
/// milliseconds.
const SECONDS: u8 = 12;

/// An item's fields, encoded. Decoding gives back exactly the map that was
/// encoded, field order included.
#[derive(Clone, PartialEq, Eq)]
pub struct CompactItem(Box<[u8]>);

impl std::fmt::Debug for CompactItem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.to_map().fmt(f)
    }
}

impl Default for CompactItem {
    fn default() -> Self {
        Self::new(&Map::new())
    }
}

impl From<&Map<String, Value>> for CompactItem {
    fn from(map: &Map<String, Value>) -> Self {
        Self::new(map)
    }
}

impl CompactItem {
    pub fn new(map: &Map<String, Value>) -> Self {
        Self::from_fields(map.iter().map(|(name, value)| (name.as_str(), value)))
    }

    /// The item with `fields`, in their order, as [`Self::new`] encodes a
    /// map of them: a create encodes its draft without making the map.
    pub fn from_fields<'v>(fields: impl ExactSizeIterator<Item = (&'v str, &'v Value)>) -> Self {
        Self::from_made(fields.map(|(name, value)| (name, FieldRef::Json(value))))
    }

    /// [`Self::from_fields`], where some values come already encoded.
    pub fn from_made<'v>(fields: impl ExactSizeIterator<Item = (&'v str, FieldRef<'v>)>) -> Self {
        ENCODER.with_borrow_mut(|Encoder { last, out }| {
            out.clear();
            let mut sharing = Sharing::new();
            out.push(OBJECT);
            write_length(out, fields.len());
            for (at, (name, value)) in fields.enumerate() {
                let number = match last.get(at) {
                    Some((known, number)) if **known == *name => Some(*number),
                    _ => {
                        let number = sharing.number(name);
                        if let Some(number) = number {
                            remember(last, at, name, number);
                        }
                        number
                    }
                };
                write_name(out, name, number);
                match value {
                    FieldRef::Json(value) => write_value(out, value, &mut sharing),
                    FieldRef::Encoded(encoded) => encoded.write(out),
                }
            }
            let item = Self(Box::from(out.as_slice()));
            if out.capacity() > SCRATCH_KEPT {
                *out = Vec::new();
            }
            item
        })
    }

    /// The fields as a map.
    pub fn to_map(&self) -> Map<String, Value> {
        let table = names().read().unwrap_or_else(|e| e.into_inner());
        let mut reader = Reader::new(&self.0, &table);
        match reader.value() {
            Some(Value::Object(map)) => map,
            _ => Map::new(),
        }
    }

    /// One field's value, decoded without decoding the others.
    pub fn get(&self, field: &str) -> Option<Value> {
        let table = names().read().unwrap_or_else(|e| e.into_inner());
        self.at_field(&table, field)?.value()
    }

    /// Whether `field` is the text `text`, as [`Self::get`] would give
    /// it: plain text is compared where it lies, without a copy (a
    /// credential is checked against every user this way).
    pub fn holds_text(&self, field: &str, text: &str) -> bool {
        let plain = {
            let table = names().read().unwrap_or_else(|e| e.into_inner());
            let Some(mut reader) = self.at_field(&table, field) else {
                return false;
            };
            match reader.byte() {
                Some(TEXT) => Some(
                    reader
                        .length()
                        .and_then(|n| reader.take(n))
                        .is_some_and(|bytes| bytes == text.as_bytes()),
                ),
                Some(UUID | MICROS | SECONDS) => None,
                _ => Some(false),
            }
        };
        // Text stored in another form (a UUID, a time) is written out to
        // compare; the table's lock is not held twice.
        plain.unwrap_or_else(|| self.get(field).as_ref().and_then(Value::as_str) == Some(text))
    }

    /// One field's value as it is encoded here, for copying into another
    /// item without decoding it and encoding it again.
    pub fn field_encoding(&self, field: &str) -> Option<Encoded> {
        let table = names().read().unwrap_or_else(|e| e.into_inner());
        let mut reader = self.at_field(&table, field)?;
        let start = reader.at;
        reader.skip()?;
        Some(Encoded::copied(&self.0[start..reader.at]))
    }

    /// [`Self::field_encoding`] of each of `fields`, in one walk over the
    /// item with the names' table read once: a create that copies several
    /// fields of its target finds them all at the cost of finding the last.
    pub fn field_encodings(&self, fields: &[String]) -> Vec<Option<Encoded>> {
        /// Most fields looked for in one walk; more are looked for one by one.
        const MOST: usize = 16;
        if fields.len() > MOST {
            return fields.iter().map(|f| self.field_encoding(f)).collect();
        }
        let mut found: Vec<Option<Encoded>> = fields.iter().map(|_| None).collect();
        let table = names().read().unwrap_or_else(|e| e.into_inner());
        let mut shared = [None; MOST];
        for (number, field) in shared.iter_mut().zip(fields) {
            *number = table
                .numbers
                .get(field.as_str())
                .map(|n| (*n as usize) << 1);
        }
        let shared = &shared[..fields.len()];
        let mut reader = Reader::new(&self.0, &table);
        if reader.byte() != Some(OBJECT) {
            return found;
        }
        let (Some(count), mut left) = (reader.length(), fields.len()) else {
            return found;
        };
        for _ in 0..count {
            let Some(n) = reader.length() else {
                break;
            };
            let text = match n & 1 {
                0 => None,
                _ => match reader.take(n >> 1) {
                    Some(text) => Some(text),
                    None => break,
                },
            };
            let start = reader.at;
            if reader.skip().is_none() {
                break;
            }
            // A field asked for twice is given twice; a name the item
            // has twice (it never should) is taken where it comes first.
            for at in 0..fields.len() {
                let wanted = match text {
                    None => shared[at] == Some(n),
                    Some(text) => fields[at].as_bytes() == text,
                };
                if wanted && found[at].is_none() {
                    found[at] = Some(Encoded::copied(&self.0[start..reader.at]));
                    left -= 1;
                }
            }
            if left == 0 {
                break;
            }
        }
        found
    }

    /// A reader at the start of `field`'s value, the fields before it
    /// skipped undecoded.
    fn at_field<'a>(&'a self, table: &'a Names, field: &str) -> Option<Reader<'a>> {
        let shared = table.numbers.get(field).map(|n| (*n as usize) << 1);
        let mut reader = Reader::new(&self.0, table);
        if reader.byte()? != OBJECT {
            return None;
        }
        for _ in 0..reader.length()? {
            let n = reader.length()?;
            let found = if n & 1 == 0 {
                Some(n) == shared
            } else {
                reader.take(n >> 1)? == field.as_bytes()
            };
            if found {
                return Some(reader);
            }
            reader.skip()?;
        }
        None
    }

    /// Bytes the encoding takes.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One value made straight in the encoding: a create's generated UUID
/// and instant, or a field copied from a stored item, go into the new
/// item without being written out as JSON text and parsed back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Encoded {
    Uuid([u8; 16]),
    /// A time to the second, in milliseconds, as the mock's clock writes
    /// `now` (`2026-11-30T09:03:53Z`).
    Seconds(i64),
    /// One value's bytes as another item encodes it.
    Copied(Box<[u8]>),
    /// [`Self::Copied`] when short (a UUID, a name, a number): kept in
    /// place, so copying a target's fields into a new item allocates
    /// nothing per field. The first byte is the length.
    Short([u8; SHORT_COPY + 1]),
}

/// Most bytes of a copied value kept in place ([`Encoded::Short`]).
const SHORT_COPY: usize = 30;

impl Encoded {
    /// `value` as an item would store it, for a value written to many
    /// items (a fixture's constant), encoded once.
    pub fn of(value: &Value) -> Self {
        let mut out = Vec::new();
        write_value(&mut out, value, &mut Sharing::new());
        Self::copied(&out)
    }

    /// `bytes`, one value's encoding, to write into another item.
    pub fn copied(bytes: &[u8]) -> Self {
        if bytes.len() <= SHORT_COPY {
            let mut short = [0; SHORT_COPY + 1];
            short[0] = bytes.len() as u8;
            short[1..=bytes.len()].copy_from_slice(bytes);
            Self::Short(short)
        } else {
            Self::Copied(bytes.into())
        }
    }

    /// The bytes of a copied value.
    fn copied_bytes(&self) -> Option<&[u8]> {
        match self {
            Self::Copied(bytes) => Some(bytes),
            Self::Short(short) => Some(&short[1..=usize::from(short[0])]),
            Self::Uuid(_) | Self::Seconds(_) => None,
        }
    }

    /// The instant `ms`, as `now` shows it: to the second.
    pub fn seconds(ms: i64) -> Self {
        Self::Seconds(ms.div_euclid(1000) * 1000)
    }

    /// The value as JSON, as decoding the item would give it.
    pub fn to_value(&self) -> Value {
        match self {
            Self::Uuid(bytes) => Value::String(super::uuid_text::from_bytes(bytes)),
            Self::Seconds(ms) => Value::String(super::clock::format_datetime(*ms)),
            Self::Copied(_) | Self::Short(_) => {
                let bytes = self.copied_bytes().unwrap_or_default();
                let table = names().read().unwrap_or_else(|e| e.into_inner());
                Reader::new(bytes, &table).value().unwrap_or(Value::Null)
            }
        }
    }

    fn write(&self, out: &mut Vec<u8>) {
        match self {
            Self::Uuid(bytes) => {
                out.push(UUID);
                out.extend_from_slice(bytes);
            }
            Self::Seconds(ms) => {
                out.push(SECONDS);
                out.extend_from_slice(&ms.to_le_bytes());
            }
            Self::Copied(_) | Self::Short(_) => {
                out.extend_from_slice(self.copied_bytes().unwrap_or_default())
            }
        }
    }
}

/// A field's value on its way into [`CompactItem::from_made`].
#[derive(Clone, Copy)]
pub enum FieldRef<'v> {
    Json(&'v Value),
    Encoded(&'v Encoded),
}

/// The process-wide table of shared field names.
struct Names {
    numbers: HashMap<Box<str>, u32, NameHashing>,
    names: Vec<Box<str>>,
}

/// A fast hash for field names, seeded per process: every item written
/// looks up each of its names, and SipHash cost more than the rest of
/// the encoding. The table is bounded, and the seed keeps a client from
/// choosing names that collide.
#[derive(Clone)]
struct NameHashing(u64);

impl Default for NameHashing {
    fn default() -> Self {
        static SEED: OnceLock<u64> = OnceLock::new();
        Self(*SEED.get_or_init(|| {
            use std::hash::{BuildHasher, RandomState};
            RandomState::new().hash_one(0x5eed_u64)
        }))
    }
}

impl std::hash::BuildHasher for NameHashing {
    type Hasher = NameHasher;
    fn build_hasher(&self) -> NameHasher {
        NameHasher(self.0)
    }
}

struct NameHasher(u64);

impl std::hash::Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        const K: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let word = u64::from_le_bytes(chunk.try_into().unwrap_or_default());
            self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(K);
        }
        for &byte in chunks.remainder() {
            self.0 = (self.0.rotate_left(5) ^ u64::from(byte)).wrapping_mul(K);
        }
    }

    fn finish(&self) -> u64 {
        // Mix the high bits down: hashbrown picks buckets with the low ones.
        self.0 ^ (self.0 >> 29)
    }
}

fn names() -> &'static RwLock<Names> {
    static NAMES: OnceLock<RwLock<Names>> = OnceLock::new();
    NAMES.get_or_init(|| {
        RwLock::new(Names {
            numbers: HashMap::default(),
            names: Vec::new(),
        })
    })
}

/// The shared names, read under one lock while an item is written: an
/// item has a few dozen names, almost always all shared already.
struct Sharing {
    read: Option<std::sync::RwLockReadGuard<'static, Names>>,
}

impl Sharing {
    fn new() -> Self {
        Self { read: None }
    }

    /// The shared number of `name`, sharing it now if there is room.
    fn number(&mut self, name: &str) -> Option<u32> {
        if name.len() > MAX_SHARED_NAME_LEN {
            return None;
        }
        let table = self
            .read
            .get_or_insert_with(|| names().read().unwrap_or_else(|e| e.into_inner()));
        if let Some(number) = table.numbers.get(name) {
            return Some(*number);
        }
        // A new name: the read lock goes before the write lock is taken.
        self.read = None;
        share(name)
    }
}

/// The shared number of `name`, sharing it now if there is room.
fn share(name: &str) -> Option<u32> {
    let table = names();
    let mut table = table.write().unwrap_or_else(|e| e.into_inner());
    if let Some(number) = table.numbers.get(name) {
        return Some(*number);
    }
    if table.names.len() >= MAX_SHARED_NAMES {
        return None;
    }
    let number = table.names.len() as u32;
    table.names.push(name.into());
    table.numbers.insert(name.into(), number);
    Some(number)
}

fn write_length(out: &mut Vec<u8>, mut n: usize) {
    while n >= 0x80 {
        out.push((n as u8) | 0x80);
        n >>= 7;
    }
    out.push(n as u8);
}

fn write_object(out: &mut Vec<u8>, map: &Map<String, Value>, sharing: &mut Sharing) {
    write_fields(
        out,
        map.iter().map(|(name, value)| (name.as_str(), value)),
        sharing,
    );
}

fn write_fields<'v>(
    out: &mut Vec<u8>,
    fields: impl ExactSizeIterator<Item = (&'v str, &'v Value)>,
    sharing: &mut Sharing,
) {
    out.push(OBJECT);
    write_length(out, fields.len());
    for (name, value) in fields {
        let number = sharing.number(name);
        write_name(out, name, number);
        write_value(out, value, sharing);
    }
}

/// A name as its shared number (even) or its length (odd) and text.
fn write_name(out: &mut Vec<u8>, name: &str, number: Option<u32>) {
    match number {
        Some(number) => write_length(out, (number as usize) << 1),
        None => {
            write_length(out, (name.len() << 1) | 1);
            out.extend_from_slice(name.as_bytes());
        }
    }
}

/// Most top-level names of the last item kept per thread.
const LAST_NAMES_KEPT: usize = 64;
/// Largest encoding buffer a thread keeps between items, in bytes.
const SCRATCH_KEPT: usize = 64 * 1024;

/// What a thread keeps from one item's encoding to the next.
struct Encoder {
    /// The top-level names of the item this thread encoded last, with
    /// their shared numbers, by position. Items of a collection have
    /// mostly the same names in the same order, so the next one finds
    /// its names here by comparing them, without hashing them or taking
    /// the table's lock; a shared name's number never changes.
    last: Vec<(Box<str>, u32)>,
    /// The buffer an item is encoded in before it is copied out at its
    /// exact size: one allocation per item, not a growing one and a
    /// shrinking one.
    out: Vec<u8>,
}

thread_local! {
    static ENCODER: std::cell::RefCell<Encoder> = const {
        std::cell::RefCell::new(Encoder {
            last: Vec::new(),
            out: Vec::new(),
        })
    };
}

fn remember(last: &mut Vec<(Box<str>, u32)>, at: usize, name: &str, number: u32) {
    if at < last.len() {
        last[at] = (name.into(), number);
    } else if at == last.len() && at < LAST_NAMES_KEPT {
        last.push((name.into(), number));
    }
}

fn write_value(out: &mut Vec<u8>, value: &Value, sharing: &mut Sharing) {
    match value {
        Value::Null => out.push(NULL),
        Value::Bool(false) => out.push(FALSE),
        Value::Bool(true) => out.push(TRUE),
        Value::Number(n) => {
            if let Some(small) = n.as_u64().filter(|u| *u <= 255) {
                out.extend_from_slice(&[SMALL, small as u8]);
            } else if let Some(u) = n.as_u64() {
                out.push(UNSIGNED);
                out.extend_from_slice(&u.to_le_bytes());
            } else if let Some(i) = n.as_i64() {
                out.push(SIGNED);
                out.extend_from_slice(&i.to_le_bytes());
            } else {
                out.push(FLOAT);
                out.extend_from_slice(&n.as_f64().unwrap_or_default().to_le_bytes());
            }
        }
        Value::String(text) => {
            if let Some(bytes) = lower_hyphenated_bytes(text) {
                out.push(UUID);
                out.extend_from_slice(&bytes);
            } else if let Some((tag, number)) = time(text) {
                out.push(tag);
                out.extend_from_slice(&number.to_le_bytes());
            } else {
                out.push(TEXT);
                write_length(out, text.len());
                out.extend_from_slice(text.as_bytes());
            }
        }
        Value::Array(items) => {
            out.push(ARRAY);
            write_length(out, items.len());
            items
                .iter()
                .for_each(|item| write_value(out, item, sharing));
        }
        Value::Object(map) => write_object(out, map, sharing),
    }
}

/// A time written exactly as the mock's clock writes one, as its tag and
/// number; any other spelling stays text, so it decodes as it was.
fn time(text: &str) -> Option<(u8, i64)> {
    use std::cell::RefCell;
    // A create writes its instant to several fields (`createdAt`,
    // `statusSetAt`, …): the last time read is kept, per thread, and the
    // same text is not parsed and checked again.
    thread_local! {
        static LAST: RefCell<(String, Option<(u8, i64)>)> = const { RefCell::new((String::new(), None)) };
    }
    if !matches!(text.len(), 20 | 27) {
        return None;
    }
    if let Some(known) = LAST.with_borrow(|(last, known)| (last == text).then_some(*known)) {
        return known;
    }
    let found = time_of(text);
    LAST.with_borrow_mut(|(last, known)| {
        last.clear();
        last.push_str(text);
        *known = found;
    });
    found
}

/// [`time`], worked out.
fn time_of(text: &str) -> Option<(u8, i64)> {
    use super::clock::{format_datetime, format_datetime_us, parse_timestamp};
    let bytes = text.as_bytes();
    let (tag, number) = match bytes.len() {
        20 if bytes[19] == b'Z' => (SECONDS, parse_timestamp(text)?),
        27 if bytes[19] == b'.' && bytes[26] == b'Z' => {
            let micros: i64 = text.get(20..26)?.parse().ok()?;
            let seconds = parse_timestamp(text)?.div_euclid(1000);
            (MICROS, seconds.checked_mul(1_000_000)?.checked_add(micros)?)
        }
        _ => return None,
    };
    let again = match tag {
        SECONDS => format_datetime(number),
        _ => format_datetime_us(number),
    };
    (again == text).then_some((tag, number))
}

/// Walks an encoding. Every read is checked, so a short or damaged buffer
/// ends in `None`, never a panic.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
    /// The shared names, read under one lock for the whole walk.
    names: &'a Names,
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8], names: &'a Names) -> Self {
        Self {
            bytes,
            at: 0,
            names,
        }
    }

    fn byte(&mut self) -> Option<u8> {
        let byte = *self.bytes.get(self.at)?;
        self.at += 1;
        Some(byte)
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.at.checked_add(n)?;
        let slice = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(slice)
    }

    fn length(&mut self) -> Option<usize> {
        let mut n = 0usize;
        for shift in (0..64).step_by(7) {
            let byte = self.byte()?;
            n |= ((byte & 0x7f) as usize) << shift;
            if byte & 0x80 == 0 {
                return Some(n);
            }
        }
        None
    }

    fn eight(&mut self) -> Option<[u8; 8]> {
        self.take(8)?.try_into().ok()
    }

    fn text(&mut self) -> Option<String> {
        let n = self.length()?;
        String::from_utf8(self.take(n)?.to_vec()).ok()
    }

    fn name(&mut self) -> Option<String> {
        let n = self.length()?;
        if n & 1 == 0 {
            self.names.names.get(n >> 1).map(|name| name.to_string())
        } else {
            String::from_utf8(self.take(n >> 1)?.to_vec()).ok()
        }
    }

    fn value(&mut self) -> Option<Value> {
        Some(match self.byte()? {
            NULL => Value::Null,
            FALSE => Value::Bool(false),
            TRUE => Value::Bool(true),
            SMALL => Value::from(self.byte()?),
            UNSIGNED => Value::from(u64::from_le_bytes(self.eight()?)),
            SIGNED => Value::from(i64::from_le_bytes(self.eight()?)),
            FLOAT => Number::from_f64(f64::from_le_bytes(self.eight()?))
                .map_or(Value::Null, Value::Number),
            TEXT => Value::String(self.text()?),
            UUID => Value::String(super::uuid_text::from_bytes(
                self.take(16)?.try_into().ok()?,
            )),
            MICROS => Value::String(super::clock::format_datetime_us(i64::from_le_bytes(
                self.eight()?,
            ))),
            SECONDS => Value::String(super::clock::format_datetime(i64::from_le_bytes(
                self.eight()?,
            ))),
            ARRAY => {
                let n = self.length()?;
                let mut items = Vec::with_capacity(n.min(self.bytes.len()));
                for _ in 0..n {
                    items.push(self.value()?);
                }
                Value::Array(items)
            }
            OBJECT => {
                let n = self.length()?;
                let mut map = Map::with_capacity(n.min(self.bytes.len()));
                for _ in 0..n {
                    let name = self.name()?;
                    let value = self.value()?;
                    map.insert(name, value);
                }
                Value::Object(map)
            }
            _ => return None,
        })
    }

    /// Steps over one value.
    fn skip(&mut self) -> Option<()> {
        match self.byte()? {
            NULL | FALSE | TRUE => {}
            SMALL => {
                self.take(1)?;
            }
            UNSIGNED | SIGNED | FLOAT | MICROS | SECONDS => {
                self.take(8)?;
            }
            TEXT => {
                let n = self.length()?;
                self.take(n)?;
            }
            UUID => {
                self.take(16)?;
            }
            ARRAY => {
                for _ in 0..self.length()? {
                    self.skip()?;
                }
            }
            OBJECT => {
                for _ in 0..self.length()? {
                    let n = self.length()?;
                    if n & 1 == 1 {
                        self.take(n >> 1)?;
                    }
                    self.skip()?;
                }
            }
            _ => return None,
        }
        Some(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn round_trip(value: Value) {
        let map = value.as_object().cloned().unwrap_or_default();
        let item = CompactItem::new(&map);
        assert_eq!(Value::Object(item.to_map()), value);
        for (field, expected) in &map {
            assert_eq!(item.get(field).as_ref(), Some(expected), "field {field}");
        }
        assert_eq!(item.get("no such field"), None);
    }

    #[test]
    fn every_kind_of_value_comes_back_as_it_went_in() {
        round_trip(json!({
            "id": "1c61d9bb-2863-4368-8052-34495a0d7a61",
            "upper": "1C61D9BB-2863-4368-8052-34495A0D7A61",
            "almost": "1c61d9bb-2863-4368-8052-34495a0d7a6g",
            "nested": {"Home": "/home/p-1", "deeper": {"list": [1, [2, {}], []]}},
            "small": 0, "byte": 255, "big": 256, "huge": u64::MAX, "negative": -5,
            "fraction": 0.25, "null": null, "yes": true, "no": false,
            "text": "grüße \" \\ \n", "empty": "",
            "micros": "2026-11-30T09:03:53.682123Z", "seconds": "2026-11-30T09:03:53Z",
            "offset": "2026-11-30T09:03:53+01:00", "lower": "2026-11-30t09:03:53z",
            "millis": "2026-11-30T09:03:53.682Z", "not a date": "2026-13-30T09:03:53Z",
            "ancient": "0001-01-01T00:00:00Z",
        }));
        round_trip(json!({}));
    }

    #[test]
    fn values_made_encoded_store_as_their_json_would() {
        let long = "a description longer than a short copy keeps in place";
        let source = CompactItem::new(
            json!({"nested": {"Home": "/home/p-1", "list": [1, "a"]}, "id": "1c61d9bb-2863-4368-8052-34495a0d7a61", "long": long})
                .as_object()
                .expect("a map"),
        );
        let uuid = crate::behaviour::uuid_text::uuid_bytes("8c6a0f5e-2b1d-4e3a-9f47-0d5c1b2a3e4f")
            .expect("a uuid");
        let ms = 1_764_493_433_682;
        let made = [
            ("id", Encoded::Uuid(uuid)),
            ("createdAt", Encoded::seconds(ms)),
            (
                "copied",
                source.field_encoding("nested").expect("has nested"),
            ),
            ("copiedId", source.field_encoding("id").expect("has id")),
            (
                "copiedLong",
                source.field_encoding("long").expect("has long"),
            ),
            (
                "constant",
                Encoded::of(&json!(["redis", "node", "runtimeApps", "container"])),
            ),
            ("constantShort", Encoded::of(&json!(true))),
        ];
        // Both ways a copy is kept, in place and on the heap, are here.
        assert!(matches!(made[3].1, Encoded::Short(_)));
        assert!(matches!(made[4].1, Encoded::Copied(_)));
        let json = json!({
            "id": "8c6a0f5e-2b1d-4e3a-9f47-0d5c1b2a3e4f",
            "createdAt": crate::behaviour::clock::format_datetime(ms),
            "copied": {"Home": "/home/p-1", "list": [1, "a"]},
            "copiedId": "1c61d9bb-2863-4368-8052-34495a0d7a61",
            "copiedLong": long,
            "constant": ["redis", "node", "runtimeApps", "container"],
            "constantShort": true,
        });
        for (name, encoded) in &made {
            assert_eq!(&encoded.to_value(), &json[name], "{name}");
        }
        let item = CompactItem::from_made(
            made.iter()
                .map(|(name, encoded)| (*name, FieldRef::Encoded(encoded))),
        );
        let map = json.as_object().expect("a map");
        assert_eq!(item, CompactItem::new(map));
        assert_eq!(Value::Object(item.to_map()), json);
        assert_eq!(source.field_encoding("absent"), None);
    }

    #[test]
    fn field_order_is_kept() {
        let item = CompactItem::new(json!({"z": 1, "a": 2, "m": 3}).as_object().unwrap());
        let names: Vec<String> = item.to_map().keys().cloned().collect();
        assert_eq!(names, ["z", "a", "m"]);
    }

    #[test]
    fn names_remembered_from_the_last_item_never_stand_for_others() {
        // Same names in the same places, then others in those places,
        // then some of the first ones moved: each item reads back as it
        // was, whatever the last one left behind.
        let items = [
            json!({"id": 1, "name": "a", "zone": 2}),
            json!({"id": 3, "name": "b", "zone": 4}),
            json!({"zone": 5, "id": 6}),
            json!({"name": "c", "other": 7, "id": 8, "long": 9}),
            json!({"id": 10, "name": "d", "zone": 11}),
        ];
        for item in items.iter().chain(items.iter().rev()) {
            round_trip(item.clone());
        }
    }

    #[test]
    fn fields_found_in_one_walk_are_those_found_one_by_one() {
        let long = "n".repeat(MAX_SHARED_NAME_LEN + 1);
        let item = CompactItem::new(
            json!({"id": "1c61d9bb-2863-4368-8052-34495a0d7a61", "nested": {"a": [1, 2]},
                   long.clone(): "kept in the item", "n": 7, "late": "last"})
            .as_object()
            .expect("a map"),
        );
        let wanted: Vec<String> = ["late", "absent", &long, "id", "nested", "id", "n"]
            .into_iter()
            .map(String::from)
            .collect();
        let one_by_one: Vec<Option<Encoded>> =
            wanted.iter().map(|f| item.field_encoding(f)).collect();
        assert_eq!(item.field_encodings(&wanted), one_by_one);
        assert!(one_by_one.iter().filter(|e| e.is_some()).count() == 6);
        let many: Vec<String> = (0..20)
            .map(|i| format!("f{i}"))
            .chain(["n".into()])
            .collect();
        let by_one: Vec<Option<Encoded>> = many.iter().map(|f| item.field_encoding(f)).collect();
        assert_eq!(item.field_encodings(&many), by_one);
        assert_eq!(item.field_encodings(&[]), Vec::new());
    }

    #[test]
    fn long_names_are_stored_in_the_item() {
        let long = "n".repeat(MAX_SHARED_NAME_LEN + 1);
        round_trip(json!({ long: "v", "short": 1 }));
    }

    #[test]
    fn a_project_takes_a_few_hundred_bytes() {
        let project = json!({"description":"bench project","serverId":"8c6a0f5e-2b1d-4e3a-9f47-0d5c1b2a3e4f","serverShortId":"s-4e7tz3","serverGroupId":"2d6f8b3e-7a1c-4b9e-8d2f-5c3a1e9b7f40","customerId":"673c107f-75e1-451c-8eaa-5bf101bd2b2c","clusterId":"espelkamp","clusterDomain":"project.host","id":"1c61d9bb-2863-4368-8052-34495a0d7a61","shortId":"p-abc123","createdAt":"2026-11-30T09:03:53.682123Z","statusSetAt":"2026-11-30T09:03:53.682123Z","enabled":true,"directories":{"Home":"/home/p-abc123"},"webStorageUsageInBytes":0,"webStorageUsageInBytesSetAt":"2026-11-30T09:03:53.682123Z","backupStorageUsageInBytes":0,"backupStorageUsageInBytesSetAt":"2026-11-30T09:03:53.682123Z","supportedFeatures":["redis","node","runtimeApps","container"],"deletionRequested":false});
        let item = CompactItem::new(project.as_object().unwrap());
        assert!(item.len() < 320, "{} bytes", item.len());
        assert_eq!(Value::Object(item.to_map()), project);
    }

    fn any_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let text = prop_oneof![
            any::<String>(),
            Just("1c61d9bb-2863-4368-8052-34495a0d7a61".to_string()),
            Just("1C61D9BB-2863-4368-8052-34495A0D7A61".to_string()),
            (0i64..4_000_000_000_000_000).prop_map(crate::behaviour::clock::format_datetime_us),
            (0i64..200_000_000_000_000).prop_map(crate::behaviour::clock::format_datetime),
        ];
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>()
                .prop_filter("finite", |f| f.is_finite())
                .prop_map(Value::from),
            text.prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 64, 8, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..8).prop_map(Value::Array),
                proptest::collection::vec((any::<String>(), inner), 0..8)
                    .prop_map(|fields| Value::Object(fields.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn any_item_comes_back_as_it_went_in(value in any_json()) {
            let map: Map<String, Value> = [("v".to_string(), value)].into_iter().collect();
            let item = CompactItem::new(&map);
            proptest::prop_assert_eq!(item.to_map(), map.clone());
            proptest::prop_assert_eq!(item.get("v"), map.get("v").cloned());
        }
    }

    #[test]
    fn holds_text_answers_as_comparing_the_decoded_field_would() {
        let item = CompactItem::new(
            json!({
                "token": "mock-token",
                "id": "8c6a0f5e-2b1d-4e3a-9f47-0d5c1b2a3e4f",
                "at": "2026-11-30T09:03:53Z",
                "n": 5,
                "longer": "mock-token-2",
            })
            .as_object()
            .expect("a map"),
        );
        for field in ["token", "id", "at", "n", "longer", "absent"] {
            for text in [
                "mock-token",
                "mock-toke",
                "8c6a0f5e-2b1d-4e3a-9f47-0d5c1b2a3e4f",
                "2026-11-30T09:03:53Z",
                "5",
                "",
            ] {
                let decoded = item.get(field);
                assert_eq!(
                    item.holds_text(field, text),
                    decoded.as_ref().and_then(Value::as_str) == Some(text),
                    "{field} against {text:?}"
                );
            }
        }
        assert!(item.holds_text("token", "mock-token"));
        assert!(item.holds_text("id", "8c6a0f5e-2b1d-4e3a-9f47-0d5c1b2a3e4f"));
    }

    #[test]
    fn a_damaged_encoding_reads_as_nothing() {
        let item = CompactItem::new(json!({"a": "text", "b": [1, 2]}).as_object().unwrap());
        for cut in 0..item.0.len() {
            let short = CompactItem(item.0[..cut].to_vec().into_boxed_slice());
            let _ = short.to_map();
            let _ = short.get("b");
        }
    }
}
