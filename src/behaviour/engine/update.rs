//! `action: update`: the request's fields (or the rule's `set`) merged into
//! the target item; its key never moves and unique fields stay unique.

use super::{ErrorKind, Refusal, Request, Runner, Stop, check_unique, merge, singular};
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
        self.update(session, spec, &key, patch)?;
        Ok(self.present_stored(session, spec, &key)?)
    }

    fn update(
        &mut self,
        session: &mut Session,
        spec: &CollectionSpec,
        key: &str,
        patch: Map<String, Value>,
    ) -> Result<(), Refusal> {
        let data = session.collection(&spec.name);
        let Some(mut record) = data.get(key).cloned() else {
            return Err(Refusal::new(
                ErrorKind::NotFound,
                format!("no {} `{key}`", singular(&spec.name)),
            ));
        };
        let mut fields = record.fields();
        for (field, value) in patch {
            // The key is the item's identity: an update never moves it.
            if field == spec.key {
                continue;
            }
            merge(&mut fields, field, value);
        }
        check_unique(spec, &data, &fields, Some(key))?;
        let before = record.clone();
        record.set_fields(&fields);
        drop(data);
        self.wrote(&spec.name, key, Some(before));
        session
            .collection_mut(&spec.name)
            .insert(key.to_string(), record);
        Ok(())
    }
}
