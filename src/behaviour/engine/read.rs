//! `action: read`: the target item as it is now; each read counts towards
//! readiness by reads.

use super::Runner;
use crate::behaviour::model::CollectionSpec;
use crate::behaviour::store::Session;
use crate::behaviour::template::RenderError;
use serde_json::Value;

impl Runner<'_> {
    /// Shows the target in `item` and counts the read. `reads_target`: the
    /// rule names no other item, so `item` may already show the target.
    pub(super) fn act_read(
        &self,
        session: &mut Session,
        spec: &CollectionSpec,
        key: Option<&str>,
        reads_target: bool,
        item: &mut Value,
    ) -> Result<(), RenderError> {
        let Some(key) = key else {
            return Ok(());
        };
        // Reading the target itself: `item` already shows it as it is
        // now, before this read is counted.
        if !(reads_target && item.is_object())
            && let Some(record) = session.collection(&spec.name).get(key)
        {
            *item = Value::Object(self.present(session, spec, record)?);
        }
        // No view of the collection is held here, so this write doesn't
        // copy it.
        session.count_read(&spec.name, key, spec.ready_after_reads());
        Ok(())
    }
}
