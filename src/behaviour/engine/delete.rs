//! `action: delete` and `action: restore`: an item removed, or with a
//! `soft_delete` marked deleted (and back again on restore, provided its
//! unique fields are still free).

use super::{ErrorKind, Refusal, Runner, Stop, check_unique};
use crate::behaviour::model::CollectionSpec;
use crate::behaviour::store::Session;
use serde_json::Value;

impl Runner<'_> {
    /// Deletes (or restores) the target; `item` shows it afterwards while
    /// it is still stored (soft deletes).
    pub(super) fn act_delete(
        &mut self,
        session: &mut Session,
        spec: &CollectionSpec,
        key: Option<String>,
        restore: bool,
        item: &mut Value,
    ) -> Result<(), Stop> {
        let Some(key) = key else {
            return Err(Refusal::new(ErrorKind::NotFound, "no such item".into()).into());
        };
        let name = spec.name.as_str();
        if let (Some(soft), true) = (&spec.soft_delete, restore)
            && let Some(record) = session.collection(name).get(&key)
        {
            // Back among the live items, it must not share a unique field
            // with one made while it was deleted.
            let mut value = record.fields();
            for (k, v) in &soft.restored {
                value.insert(k.clone(), v.clone());
            }
            check_unique(spec, &session.collection(name), &value, Some(&key))?;
        }
        if let Some(before) = session.collection(name).get(&key).cloned() {
            self.wrote(name, &key, Some(before));
        }
        let remember = session.max_deleted_keys;
        let data = session.collection_mut(name);
        match (&spec.soft_delete, restore) {
            (Some(soft), _) => {
                if let Some(record) = data.get_mut(&key) {
                    record.deleted = !restore;
                    let fields = if restore {
                        &soft.restored
                    } else {
                        &soft.deleted
                    };
                    let mut value = record.fields();
                    for (k, v) in fields {
                        value.insert(k.clone(), v.clone());
                    }
                    record.set_fields(&value);
                }
            }
            (None, false) => {
                data.remove(&key, remember);
            }
            (None, true) => {}
        }
        if let Some(record) = session.collection(name).get(&key) {
            *item = Value::Object(self.present(session, spec, record)?);
        }
        Ok(())
    }
}
