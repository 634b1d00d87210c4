//! How stored items look from outside: readiness applied, soft-deleted
//! items hidden, and each collection offered to templates as an object
//! with `get`, `find`, `filter`, `count` and `exists`.

use super::compact::Encoded;
use super::model::{CollectionSpec, ReadyAfter};
use super::store::{CollectionData, Record};
use super::template::jinja_value;
use minijinja::value::{Kwargs, Object, from_args};
use minijinja::{Error, ErrorKind, State, Value as JinjaValue};
use serde_json::{Map, Value};
use std::sync::Arc;

/// Whether `record` has become ready at `now_ms`.
pub fn is_ready(spec: &CollectionSpec, record: &Record, now_ms: i64) -> bool {
    match spec.readiness.as_ref().map(|r| r.after) {
        None => true,
        Some(ReadyAfter::Millis(ms)) => now_ms.saturating_sub(record.created_ms) >= ms as i64,
        Some(ReadyAfter::Reads(n)) => record.reads >= n,
    }
}

/// The item as a client sees it now: stored fields plus readiness fields.
pub fn shown(spec: &CollectionSpec, record: &Record, now_ms: i64) -> Map<String, Value> {
    shown_with(spec, record, record.fields(), now_ms)
}

/// [`shown`] for `value`, the record's fields already at hand.
pub fn shown_with(
    spec: &CollectionSpec,
    record: &Record,
    mut value: Map<String, Value>,
    now_ms: i64,
) -> Map<String, Value> {
    if let Some(readiness) = &spec.readiness {
        let overlay = if is_ready(spec, record, now_ms) {
            &readiness.ready
        } else {
            &readiness.pending
        };
        for (k, v) in overlay {
            value.insert(k.clone(), v.clone());
        }
    }
    value
}

/// One field of the item as [`shown`] shows it (its readiness overlay
/// over what is stored), without decoding the others: what a lookup of a
/// few fields, or a filter over every item of a collection, needs.
pub fn shown_field(
    spec: &CollectionSpec,
    record: &Record,
    now_ms: i64,
    field: &str,
) -> Option<Value> {
    if let Some(readiness) = &spec.readiness {
        let overlay = if is_ready(spec, record, now_ms) {
            &readiness.ready
        } else {
            &readiness.pending
        };
        if let Some(value) = overlay.get(field) {
            return Some(value.clone());
        }
    }
    record.field(field)
}

/// A stored item read one field at a time, as [`shown`] shows it: for
/// templates that look up a few fields of an item (a create's `set`
/// reading the server it creates on), decoding the whole item cost more
/// than the rest of the create.
pub struct StoredItem<'a> {
    pub spec: &'a CollectionSpec,
    pub record: &'a Record,
    pub now_ms: i64,
}

impl StoredItem<'_> {
    /// The value at the name path `names` (a field, then names within
    /// it); `None` for the whole item, a computed field (only templates
    /// can make it) or a field the item does not have, which the caller
    /// then asks the item as a whole.
    pub fn lookup(&self, names: &[String]) -> Option<Value> {
        let (first, rest) = names.split_first()?;
        if self.spec.computed.iter().any(|(field, _)| field == first) {
            return None;
        }
        let value = shown_field(self.spec, self.record, self.now_ms, first)?;
        if rest.is_empty() {
            return Some(value);
        }
        super::context::walk(&value, rest).cloned()
    }

    /// A field as it is stored, still encoded, when it is shown as stored:
    /// `None` for a computed field, one a readiness overlay may show
    /// otherwise, or one the item lacks.
    pub fn encoded(&self, field: &str) -> Option<Encoded> {
        if !self.shown_as_stored(field) {
            return None;
        }
        self.record.field_encoding(field)
    }

    /// [`Self::encoded`] of each of `fields`, found in one walk over the
    /// item.
    pub fn encodings(&self, fields: &[String]) -> Vec<Option<Encoded>> {
        let mut found = self.record.field_encodings(fields);
        for (field, encoded) in fields.iter().zip(&mut found) {
            if encoded.is_some() && !self.shown_as_stored(field) {
                *encoded = None;
            }
        }
        found
    }

    /// Whether `field` is shown as it is stored: not computed, and not one
    /// a readiness overlay may show otherwise.
    fn shown_as_stored(&self, field: &str) -> bool {
        if self.spec.computed.iter().any(|(name, _)| name == field) {
            return false;
        }
        !self.spec.readiness.as_ref().is_some_and(|readiness| {
            readiness.ready.contains_key(field) || readiness.pending.contains_key(field)
        })
    }
}

/// Equality as a filter means it: numbers by value, UUIDs by value
/// whatever their spelling, everything else exactly.
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::String(x), Value::String(y)) => super::uuid_text::same_text(x, y),
        _ => a == b,
    }
}

/// A collection as templates see it.
#[derive(Debug)]
pub struct CollectionView {
    pub spec: Arc<CollectionSpecRef>,
    pub data: Arc<CollectionData>,
    pub now_ms: i64,
    /// Who may see the items, when the collection limits it.
    pub visible: Option<Arc<super::visibility::Visibility>>,
    /// Every collection, for the `visible` condition.
    pub collections: Arc<super::visibility::Collections>,
}

/// Which collection of which fixture a view shows.
#[derive(Debug)]
pub struct CollectionSpecRef {
    pub fixture: Arc<super::Fixture>,
    pub index: usize,
}

impl CollectionSpecRef {
    pub fn get(&self) -> &CollectionSpec {
        &self.fixture.model.collections[self.index]
    }
}

impl CollectionView {
    fn may_see(&self, record: &Record) -> bool {
        self.visible
            .as_ref()
            .is_none_or(|visibility| visibility.sees(record, || self.collections.clone()))
    }

    /// The live item under `key` whoever asks (the request's own user).
    pub fn get_unfiltered(&self, key: &str) -> JinjaValue {
        self.data
            .get(key)
            .filter(|r| !r.deleted)
            .map(|r| self.show(r))
            .unwrap_or(JinjaValue::from(()))
    }

    fn matching(&self, kwargs: &Kwargs) -> Result<Vec<&Record>, Error> {
        let mut wanted: Vec<(String, Value)> = Vec::new();
        for name in kwargs.args() {
            let value: JinjaValue = kwargs.get(name)?;
            let value = serde_json::to_value(&value).unwrap_or(Value::Null);
            wanted.push((name.to_string(), value));
        }
        let spec = self.spec.get();
        // Each asked field is read alone, and only an item whose fields
        // match is judged for visibility: `permissions.exists(…)` in a
        // `visible` condition runs once per item judged, over every
        // permission, and decoding each whole made it cost more than the
        // rest of the request.
        Ok(self
            .data
            .iter()
            .filter(|record| {
                !record.deleted
                    && wanted.iter().all(|(field, value)| {
                        shown_field(spec, record, self.now_ms, field)
                            .is_some_and(|v| same(&v, value))
                    })
                    && self.may_see(record)
            })
            .collect())
    }

    fn show(&self, record: &Record) -> JinjaValue {
        jinja_value(shown(self.spec.get(), record, self.now_ms))
    }
}

impl Object for CollectionView {
    fn call_method(
        self: &Arc<Self>,
        _state: &mut State<'_, '_>,
        method: &str,
        args: &[JinjaValue],
    ) -> Result<JinjaValue, Error> {
        match method {
            "get" => {
                let (key,): (JinjaValue,) = from_args(args)?;
                let key = serde_json::to_value(&key)
                    .ok()
                    .and_then(|k| super::store::key_text(&k));
                Ok(key
                    .and_then(|k| self.data.get(&k))
                    .filter(|r| !r.deleted && self.may_see(r))
                    .map(|r| self.show(r))
                    .unwrap_or(JinjaValue::from(())))
            }
            "find" | "filter" | "count" | "exists" => {
                let (kwargs,): (Kwargs,) = from_args(args)?;
                let found = self.matching(&kwargs)?;
                kwargs.assert_all_used()?;
                Ok(match method {
                    "find" => found
                        .first()
                        .map(|r| self.show(r))
                        .unwrap_or(JinjaValue::from(())),
                    "filter" => {
                        JinjaValue::from(found.iter().map(|r| self.show(r)).collect::<Vec<_>>())
                    }
                    "count" => JinjaValue::from(found.len()),
                    _ => JinjaValue::from(!found.is_empty()),
                })
            }
            _ => Err(Error::new(
                ErrorKind::UnknownMethod,
                format!(
                    "collections have get(key), find(field=value…), filter(…), count(…) and exists(…), not `{method}`"
                ),
            )),
        }
    }
}
