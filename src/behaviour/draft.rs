//! A new item's fields while a create makes them: a short list in the
//! order the item will have them, names borrowed from the fixture.
//!
//! A create writes each field once or twice (the request's, then the
//! server's generated ones over them) and stores the item encoded
//! (`compact`). Building a `serde_json` map for that hashed and copied
//! every name, and cost more than making the values; an item has a few
//! dozen fields at most, so finding a name by comparing is cheaper.

use serde_json::{Map, Value};
use std::borrow::Cow;

#[derive(Debug, Default)]
pub struct Draft<'a> {
    fields: Vec<(Cow<'a, str>, Value)>,
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
        match self.position(&name) {
            Some(at) => self.fields[at].1 = value,
            None => self.fields.push((name, value)),
        }
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        self.position(name).map(|at| &self.fields[at].1)
    }

    pub fn contains(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    /// The value at the name path `names` under the item, as a template's
    /// lookup finds it; `None` for the whole item (an empty path), as for
    /// an item lent to templates.
    pub fn lookup(&self, names: &[String]) -> Option<Value> {
        let (first, rest) = names.split_first()?;
        super::context::walk(self.get(first)?, rest).cloned()
    }

    /// The fields in order, for encoding.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Value)> {
        self.fields
            .iter()
            .map(|(name, value)| (name.as_ref(), value))
    }

    pub fn to_map(&self) -> Map<String, Value> {
        self.iter()
            .map(|(name, value)| (name.to_string(), value.clone()))
            .collect()
    }

    pub fn into_map(self) -> Map<String, Value> {
        self.fields
            .into_iter()
            .map(|(name, value)| (name.into_owned(), value))
            .collect()
    }

    /// Only `names` of the item, those it has, in the item's order: what an
    /// answer that reads a few fields of the new item needs of it.
    pub fn select(&self, names: &[String]) -> Map<String, Value> {
        self.iter()
            .filter(|(name, _)| names.iter().any(|wanted| wanted == name))
            .map(|(name, value)| (name.to_string(), value.clone()))
            .collect()
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.fields.iter().position(|(have, _)| have == name)
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
