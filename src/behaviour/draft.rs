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
    fields: Vec<(Cow<'a, str>, Made)>,
}

/// A field's value: JSON, or made straight in the store's encoding (a
/// generated UUID or instant, a field copied from a stored item), which
/// is decoded only if something reads it before it is stored.
#[derive(Debug)]
enum Made {
    Json(Value),
    Encoded(Encoded),
}

impl Made {
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
        }
    }

    /// Sets `name`, in its place when the item has it already, else last:
    /// what inserting into a map that keeps order does.
    pub fn set(&mut self, name: Cow<'a, str>, value: Value) {
        self.put(name, Made::Json(value));
    }

    /// [`Self::set`] with a value already encoded.
    pub fn set_encoded(&mut self, name: Cow<'a, str>, value: Encoded) {
        self.put(name, Made::Encoded(value));
    }

    fn put(&mut self, name: Cow<'a, str>, made: Made) {
        match self.position(&name) {
            Some(at) => self.fields[at].1 = made,
            None => self.fields.push((name, made)),
        }
    }

    pub fn get(&self, name: &str) -> Option<Cow<'_, Value>> {
        self.position(name).map(|at| self.fields[at].1.value())
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
    /// answer that reads a few fields of the new item needs of it.
    pub fn select(&self, names: &[String]) -> Map<String, Value> {
        self.fields
            .iter()
            .filter(|(name, _)| names.iter().any(|wanted| wanted == name))
            .map(|(name, made)| (name.to_string(), made.value().into_owned()))
            .collect()
    }

    /// Where `name` is. Names are compared by length and first byte
    /// before their text: most differ there, and a draft is searched on
    /// every field written.
    fn position(&self, name: &str) -> Option<usize> {
        let (len, first) = (name.len(), name.as_bytes().first());
        self.fields.iter().position(|(have, _)| {
            have.len() == len && have.as_bytes().first() == first && have.as_ref() == name
        })
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
    fn select_keeps_the_items_order_and_skips_what_it_lacks() {
        let mut draft = Draft::default();
        for name in ["id", "name", "createdAt"] {
            draft.set(Cow::Borrowed(name), json!(name));
        }
        let picked = draft.select(&names(&["createdAt", "id", "absent"]));
        assert_eq!(
            serde_json::to_string(&picked).unwrap(),
            r#"{"id":"id","createdAt":"createdAt"}"#
        );
    }
}
