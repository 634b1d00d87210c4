//! `action: create`: the request's fields (or the rule's `set`) become a
//! new item, with generated fields filled, unless the session is full, the
//! key is taken or a unique field clashes.

use super::{ErrorKind, Refusal, Request, Runner, Stop, check_unique, generate, singular};
use crate::behaviour::model::{CollectionSpec, Rule};
use crate::behaviour::store::{Record, Session, key_text};
use serde_json::{Map, Value};

impl Runner<'_> {
    /// Creates the item and answers it as stored.
    pub(super) fn act_create(
        &mut self,
        session: &mut Session,
        spec: &CollectionSpec,
        rule: &Rule,
        key: Option<Value>,
        item: &mut Value,
        request: &Request<'_>,
    ) -> Result<Value, Stop> {
        let input = self.input(session, rule, item, request)?;
        let (record, fields) = self.create(session, spec, input, key, request)?;
        // An answer that reads only stored fields of the new item (`{id:
        // "{{ item.id }}"}`) does not need it presented.
        let reads_stored_only = rule.headers.is_empty()
            && rule
                .body
                .as_ref()
                .and_then(|body| body.item_fields())
                .is_some_and(|read| read.iter().all(|field| !spec.shows_unstored(field)));
        if reads_stored_only {
            return Ok(Value::Object(fields));
        }
        let now_ms = session.now_ms();
        Ok(Value::Object(
            self.present_with(session, spec, &record, fields, now_ms)?,
        ))
    }

    fn create(
        &mut self,
        session: &mut Session,
        spec: &CollectionSpec,
        mut value: Map<String, Value>,
        named_key: Option<Value>,
        request: &Request<'_>,
    ) -> Result<(Record, Map<String, Value>), Stop> {
        if session.item_count() >= session.max_items {
            let mut refusal = Refusal::new(
                ErrorKind::InsufficientStorage,
                format!(
                    "the mock keeps at most {} items per session (--max-items); delete some or reset the session",
                    session.max_items
                ),
            );
            if !session.full_reported {
                session.full_reported = true;
                refusal.note = Some(format!(
                    "session `{}` holds {} items, the most --max-items allows: creates are refused with 507 until items are deleted or the session is reset",
                    session.name, session.max_items
                ));
            }
            return Err(refusal.into());
        }
        generate(&self.scope, session, spec, &mut value, true)?;
        if let Some(named) = named_key {
            value.insert(spec.key.clone(), named);
        }
        self.fit(session, spec, &mut value, request)?;
        let Some(key) = value.get(&spec.key).and_then(key_text) else {
            return Err(Stop::Refuse(Refusal::new(
                ErrorKind::Validation,
                format!(
                    "a new {} has no `{}`: give the collection `generate: {{{}: uuid}}`",
                    singular(&spec.name),
                    spec.key,
                    spec.key
                ),
            )));
        };
        let data = session.collection(&spec.name);
        check_unique(spec, &data, &value, None)?;
        if data.get(&key).is_some() {
            let mut refusal = Refusal::new(
                ErrorKind::Conflict,
                format!(
                    "a {} with {} `{key}` exists",
                    singular(&spec.name),
                    spec.key
                ),
            );
            refusal.fields.insert(spec.key.clone(), Value::String(key));
            return Err(refusal.into());
        }
        drop(data);
        self.wrote(&spec.name, &key, None);
        let record = Record::new(&value, session.now_ms(), 0, false);
        session
            .collection_mut(&spec.name)
            .insert(key, record.clone());
        // The new item as stored, without reading it back: what is shown
        // of it depends only on its fields, age and reads.
        Ok((record, value))
    }
}
