//! `action: update`: the request's fields (or the rule's `set`) merged into
//! the target item; its key never moves and unique fields stay unique.

use super::{ErrorKind, Refusal, Request, Runner, Stop, check_unique, generate, merge, singular};
use crate::behaviour::model::{CollectionSpec, Rule};
use crate::behaviour::store::Session;
use serde_json::{Map, Value};

impl Runner<'_> {
    /// Updates the target and answers it as stored.
    pub(super) fn act_update(
        &mut self,
        session: &mut Session,
        spec: &CollectionSpec,
        rule: &Rule,
        key: Option<String>,
        item: &mut Value,
        request: &Request<'_>,
    ) -> Result<Value, Stop> {
        let patch = self.input(session, rule, item, request)?;
        let Some(key) = key else {
            return Err(Refusal::new(ErrorKind::NotFound, "nothing to update".into()).into());
        };
        let how = match (rule.replace, merge_patch(request)) {
            (true, _) => Write::Replace,
            (false, true) => Write::MergePatch,
            (false, false) => Write::Merge,
        };
        self.update(session, spec, &key, patch, how, request)?;
        Ok(self.present_stored(session, spec, &key)?)
    }

    fn update(
        &mut self,
        session: &mut Session,
        spec: &CollectionSpec,
        key: &str,
        patch: Map<String, Value>,
        how: Write,
        request: &Request<'_>,
    ) -> Result<(), Stop> {
        let Some(mut record) = session.collection(&spec.name).get(key).cloned() else {
            return Err(Refusal::new(
                ErrorKind::NotFound,
                format!("no {} `{key}`", singular(&spec.name)),
            )
            .into());
        };
        let old = record.fields();
        let mut fields = match how {
            // What the server made stays (the key among it); the rest is
            // what was sent, with the server's defaults for what was not.
            Write::Replace => std::iter::once(&spec.key)
                .chain(spec.generated.iter().map(|(field, _)| field))
                .filter_map(|field| old.get(field).map(|v| (field.clone(), v.clone())))
                .collect(),
            Write::Merge | Write::MergePatch => old,
        };
        for (field, value) in patch {
            // The key is the item's identity: an update never moves it.
            if field == spec.key {
                continue;
            }
            match how {
                Write::MergePatch => merge_patch_field(&mut fields, field, value),
                Write::Merge | Write::Replace => merge(&mut fields, field, value),
            }
        }
        if how == Write::Replace {
            generate(&self.scope, session, spec, &mut fields, false)?;
        }
        self.fit(session, spec, &mut fields, request)?;
        check_unique(spec, &session.collection(&spec.name), &fields, Some(key))?;
        let before = record.clone();
        record.set_fields(&fields);
        self.wrote(&spec.name, key, Some(before));
        session
            .collection_mut(&spec.name)
            .insert(key.to_string(), record);
        Ok(())
    }
}

/// How an update writes its fields.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    /// Into the item, objects merged field by field.
    Merge,
    /// As JSON Merge Patch (RFC 7396): `null` removes a field.
    MergePatch,
    /// Instead of the item's fields (`replace: true`).
    Replace,
}

/// Whether the request body is a JSON Merge Patch, by its media type.
fn merge_patch(request: &Request<'_>) -> bool {
    request
        .head
        .headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|media| {
            media
                .trim()
                .eq_ignore_ascii_case("application/merge-patch+json")
        })
}

/// RFC 7396 for one field: `null` removes it, an object merges into an
/// object, anything else replaces it.
fn merge_patch_field(target: &mut Map<String, Value>, field: String, value: Value) {
    match value {
        Value::Null => {
            target.shift_remove(&field);
        }
        Value::Object(patch) => {
            let slot = target
                .entry(field)
                .or_insert_with(|| Value::Object(Map::new()));
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(existing) = slot {
                for (k, v) in patch {
                    merge_patch_field(existing, k, v);
                }
            }
        }
        other => {
            target.insert(field, other);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_merge_patch_removes_nulls_and_merges_objects() {
        let Value::Object(mut item) = json!({"a": 1, "b": {"c": 2, "d": 3}, "e": [1]}) else {
            unreachable!()
        };
        let Value::Object(patch) = json!({"a": null, "b": {"c": null, "x": 4}, "e": {"f": 5}})
        else {
            unreachable!()
        };
        for (k, v) in patch {
            merge_patch_field(&mut item, k, v);
        }
        assert_eq!(
            Value::Object(item),
            json!({"b": {"d": 3, "x": 4}, "e": {"f": 5}})
        );
    }
}
