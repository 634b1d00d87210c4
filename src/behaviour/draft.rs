//! A new item's fields while a create makes them: a short list in the
//! order the item will have them, names borrowed from the fixture.
//!
//! A create writes each field once or twice (the request's, then the
//! server's generated ones over them) and stores the item encoded
//! (`compact`). Building a `serde_json` map for that hashed and copied
//! every name, and cost more than making the values; an item has a few
//! dozen fields at most, so finding a name by comparing is cheaper.

use super::compact::{Encoded, FieldRef};
use serde_json::{Map, Value};
use std::borrow::Cow;

#[derive(Debug, Default)]
pub struct Draft<'a> {
    fields: Vec<(Cow<'a, str>, Made<'a>)>,
    /// One bit per name written ([`name_bit`]): most names a create
    /// writes are new to the draft, and this says so without a search.
    written: u64,
}

/// A bit standing for `name`, from its length and first and last bytes;
/// names that share a bit are told apart by the search.
fn name_bit(name: &str) -> u64 {
    let bytes = name.as_bytes();
    let (first, last) = (bytes.first(), bytes.last());
    let mixed = (bytes.len() as u64)
        .wrapping_mul(0x9e37)
        .wrapping_add(u64::from(*first.unwrap_or(&0)).wrapping_mul(31))
        .wrapping_add(u64::from(*last.unwrap_or(&0)).wrapping_mul(131));
    1 << (mixed % 64)
}

/// A field's value: JSON, or made straight in the store's encoding (a
/// generated UUID or instant, a field copied from a stored item, a
/// fixture's constant encoded at load and borrowed), which is decoded
/// only if something reads it before it is stored.
#[derive(Debug)]
enum Made<'a> {
    Json(Value),
    Encoded(Cow<'a, Encoded>),
}

impl Made<'_> {
    fn value(&self) -> Cow<'_, Value> {
        match self {
            Made::Json(value) => Cow::Borrowed(value),
            Made::Encoded(encoded) => Cow::Owned(encoded.to_value()),
        }
    }

    fn into_value(self) -> Value {
        match self {
            Made::Json(value) => value,
            Made::Encoded(encoded) => encoded.to_value(),
        }
    }
}

impl<'a> Draft<'a> {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            fields: Vec::with_capacity(capacity),
            written: 0,
        }
    }

    /// Sets `name`, in its place when the item has it already, else last:
    /// what inserting into a map that keeps order does.
    pub fn set(&mut self, name: Cow<'a, str>, value: Value) {
        self.put(name, Made::Json(value));
    }

    /// [`Self::set`] with a value already encoded.
    pub fn set_encoded(&mut self, name: Cow<'a, str>, value: Encoded) {
        self.put(name, Made::Encoded(Cow::Owned(value)));
    }

    /// [`Self::set_encoded`] with bytes encoded once for many items.
    pub fn set_shared(&mut self, name: Cow<'a, str>, value: &'a Encoded) {
        self.put(name, Made::Encoded(Cow::Borrowed(value)));
    }

    fn put(&mut self, name: Cow<'a, str>, made: Made<'a>) {
        match self.position(&name) {
            Some(at) => self.fields[at].1 = made,
            None => {
                self.written |= name_bit(&name);
                self.fields.push((name, made));
            }
        }
    }

    pub fn get(&self, name: &str) -> Option<Cow<'_, Value>> {
        self.position(name).map(|at| self.fields[at].1.value())
    }

    /// The field `name` as a key's text ([`super::store::key_text`]); a
    /// generated UUID is written out once, not made a JSON value first.
    pub fn key_text(&self, name: &str) -> Option<String> {
        match &self.fields[self.position(name)?].1 {
            Made::Encoded(encoded) => match encoded.as_ref() {
                Encoded::Uuid(bytes) => Some(super::uuid_text::from_bytes(bytes)),
                other => super::store::key_text(&other.to_value()),
            },
            Made::Json(value) => super::store::key_text(value),
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    /// The value at the name path `names` under the item, as a template's
    /// lookup finds it; `None` for the whole item (an empty path), as for
    /// an item lent to templates.
    pub fn lookup(&self, names: &[String]) -> Option<Value> {
        let (first, rest) = names.split_first()?;
        let value = self.get(first)?;
        super::context::walk(&value, rest).cloned()
    }

    /// The fields in order, for encoding.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, FieldRef<'_>)> {
        self.fields.iter().map(|(name, made)| {
            let value = match made {
                Made::Json(value) => FieldRef::Json(value),
                Made::Encoded(encoded) => FieldRef::Encoded(encoded),
            };
            (name.as_ref(), value)
        })
    }

    pub fn to_map(&self) -> Map<String, Value> {
        self.fields
            .iter()
            .map(|(name, made)| (name.to_string(), made.value().into_owned()))
            .collect()
    }

    pub fn into_map(self) -> Map<String, Value> {
        self.fields
            .into_iter()
            .map(|(name, made)| (name.into_owned(), made.into_value()))
            .collect()
    }

    /// Only `names` of the item, those it has, in the item's order: what an
    /// answer that reads a few fields of the new item needs of it. The
    /// key field `key` is read as [`Self::lookup_keyed`] reads it.
    pub fn select_keyed(&self, names: &[String], key: &str, key_text: &str) -> Map<String, Value> {
        self.fields
            .iter()
            .filter(|(name, _)| names.iter().any(|wanted| wanted == name))
            .map(|(name, made)| {
                let value = keyed_value(name, made, key, key_text).into_owned();
                (name.to_string(), value)
            })
            .collect()
    }

    /// [`Self::lookup`], with the key field `key`, when it was made as a
    /// UUID, given as its text `key_text` ([`Self::key_text`]): the text
    /// is written once, for the store and for the answer.
    pub fn lookup_keyed(&self, names: &[String], key: &str, key_text: &str) -> Option<Value> {
        let (first, rest) = names.split_first()?;
        let made = &self.fields[self.position(first)?].1;
        let value = keyed_value(first, made, key, key_text);
        super::context::walk(&value, rest).cloned()
    }

    /// Where `name` is. Names are compared by length and first byte
    /// before their text: most differ there, and a draft is searched on
    /// every field written.
    fn position(&self, name: &str) -> Option<usize> {
        if self.written & name_bit(name) == 0 {
            return None;
        }
        let (len, first) = (name.len(), name.as_bytes().first());
        self.fields.iter().position(|(have, _)| {
            have.len() == len && have.as_bytes().first() == first && have.as_ref() == name
        })
    }
}

/// The value of the field `name`, with a UUID made for the key field
/// `key` given as the text `key_text` already written for it.
fn keyed_value<'v>(name: &str, made: &'v Made<'_>, key: &str, key_text: &str) -> Cow<'v, Value> {
    match made {
        Made::Encoded(encoded) if name == key && matches!(**encoded, Encoded::Uuid(_)) => {
            Cow::Owned(Value::String(key_text.to_string()))
        }
        made => made.value(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(path: &[&str]) -> Vec<String> {
        path.iter().map(|name| name.to_string()).collect()
    }

    #[test]
    fn setting_a_field_again_keeps_its_place_as_a_map_would() {
        let mut draft = Draft::default();
        let mut map = Map::new();
        for (name, value) in [("a", 1), ("b", 2), ("a", 3), ("c", 4), ("b", 5)] {
            draft.set(Cow::Borrowed(name), json!(value));
            map.insert(name.to_string(), json!(value));
        }
        assert_eq!(draft.to_map(), map);
        assert_eq!(
            serde_json::to_string(&draft.into_map()).unwrap(),
            r#"{"a":3,"b":5,"c":4}"#
        );
    }

    #[test]
    fn names_sharing_a_bit_are_still_told_apart() {
        // 300 names on 64 bits: many share one, and each is still found,
        // set again in its place and never mistaken for another.
        let names: Vec<String> = (0..300).map(|n| format!("f{n}x")).collect();
        let mut draft = Draft::default();
        let mut map = Map::new();
        for round in 0..2 {
            for (n, name) in names.iter().enumerate() {
                draft.set(Cow::Owned(name.clone()), json!(n * 10 + round));
                map.insert(name.clone(), json!(n * 10 + round));
            }
        }
        assert_eq!(draft.to_map(), map);
        assert!(names.iter().all(|name| draft.contains(name)));
        assert!(!draft.contains("f300x") && !draft.contains("f1y"));
    }

    #[test]
    fn lookups_walk_mappings_and_never_answer_the_whole_item() {
        let mut draft = Draft::default();
        draft.set(Cow::Borrowed("owner"), json!({"name": "ada", "age": 36}));
        draft.set(Cow::Borrowed("id"), json!("p-1"));
        assert_eq!(draft.lookup(&names(&["owner", "name"])), Some(json!("ada")));
        assert_eq!(draft.lookup(&names(&["id"])), Some(json!("p-1")));
        assert_eq!(draft.lookup(&names(&["id", "x"])), None);
        assert_eq!(draft.lookup(&names(&["missing"])), None);
        assert_eq!(draft.lookup(&[]), None);
    }

    #[test]
    fn a_key_reads_as_the_stored_item_would_give_it() {
        let uuid = "8c6a0f5e-2b1d-4e3a-9f47-0d5c1b2a3e4f";
        let mut draft = Draft::default();
        let bytes = super::super::uuid_text::uuid_bytes(uuid).expect("a uuid");
        draft.set_encoded(Cow::Borrowed("id"), Encoded::Uuid(bytes));
        draft.set(Cow::Borrowed("n"), json!(7));
        draft.set(Cow::Borrowed("name"), json!("p-1"));
        draft.set(Cow::Borrowed("list"), json!([1]));
        draft.set_encoded(Cow::Borrowed("at"), Encoded::seconds(1_764_493_433_000));
        assert_eq!(draft.key_text("id").as_deref(), Some(uuid));
        assert_eq!(draft.key_text("n").as_deref(), Some("7"));
        assert_eq!(draft.key_text("name").as_deref(), Some("p-1"));
        assert_eq!(draft.key_text("list"), None);
        assert_eq!(draft.key_text("absent"), None);
        for name in ["id", "n", "name", "list", "at"] {
            let by_value = draft
                .get(name)
                .and_then(|v| super::super::store::key_text(&v));
            assert_eq!(draft.key_text(name), by_value, "{name}");
        }
    }

    #[test]
    fn select_keeps_the_items_order_and_skips_what_it_lacks() {
        let mut draft = Draft::default();
        for name in ["id", "name", "createdAt"] {
            draft.set(Cow::Borrowed(name), json!(name));
        }
        let picked = draft.select_keyed(&names(&["createdAt", "id", "absent"]), "none", "");
        assert_eq!(
            serde_json::to_string(&picked).unwrap(),
            r#"{"id":"id","createdAt":"createdAt"}"#
        );
    }

    #[test]
    fn a_selected_uuid_key_is_its_text_as_the_store_writes_it() {
        let uuid = "8c6a0f5e-2b1d-4e3a-9f47-0d5c1b2a3e4f";
        let bytes = super::super::uuid_text::uuid_bytes(uuid).expect("a uuid");
        let mut draft = Draft::default();
        draft.set_encoded(Cow::Borrowed("id"), Encoded::Uuid(bytes));
        draft.set_encoded(Cow::Borrowed("other"), Encoded::Uuid(bytes));
        draft.set(Cow::Borrowed("n"), json!(7));
        let key = draft.key_text("id").expect("a key");
        let picked = draft.select_keyed(&names(&["id", "other", "n"]), "id", &key);
        let by_value: Map<String, Value> = ["id", "other", "n"]
            .into_iter()
            .map(|name| (name.to_string(), draft.get(name).expect(name).into_owned()))
            .collect();
        assert_eq!(picked, by_value);
        assert_eq!(picked["id"], json!(uuid));
        // A lookup reads each field as the map would hold it.
        for path in [
            &["id"][..],
            &["other"],
            &["n"],
            &["id", "x"],
            &["absent"],
            &[],
        ] {
            let path = names(path);
            let from_map = path
                .split_first()
                .and_then(|(first, rest)| {
                    crate::behaviour::context::walk(by_value.get(first)?, rest)
                })
                .cloned();
            assert_eq!(draft.lookup_keyed(&path, "id", &key), from_map, "{path:?}");
        }
    }
}
