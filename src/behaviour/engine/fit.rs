//! A collection's `fit:` on write: the item a create or update is about
//! to store is held to the schema of the answer that shows it, and
//! repaired where it falls outside (`contract::fit`). The log line of the
//! request says what was repaired, so a user sees what the mock changed.

use super::{Request, Runner, Stop, singular};
use crate::behaviour::model::CollectionSpec;
use crate::behaviour::store::Session;
use serde_json::{Map, Value};

impl Runner<'_> {
    /// Repairs `fields` (the item as it will be stored) to fit each
    /// answer of the collection's `fit:`, when the spec is at hand.
    pub(super) fn fit(
        &mut self,
        session: &Session,
        spec: &CollectionSpec,
        fields: &mut Map<String, Value>,
        request: &Request<'_>,
    ) -> Result<(), Stop> {
        let Some(checked) = request.spec else {
            return Ok(());
        };
        let api = checked.api;
        // The answer being sent is fitted last: where a spec's answers
        // contradict each other (Waldur 8.0.5 shows a mapping's
        // `settings` as a URL when read, a UUID when created), it wins.
        let hidden = self.omitted(session, spec)?;
        let (others, running): (Vec<_>, Vec<_>) = spec
            .fit
            .iter()
            .partition(|fit| fit.operation != checked.operation.id);
        for fit in others.into_iter().chain(running) {
            let slot = api
                .operation(&fit.operation)
                .and_then(|operation| operation.response_for(fit.status))
                .and_then(|response| crate::contract::media::json_with_schema(&response.media))
                .and_then(|media| media.schema.as_ref());
            // A schema that did not compile validates nothing: the load
            // has warned of it, and there is nothing to fit to.
            let Some(schema) = slot.and_then(|slot| api.compiled(slot).ok()) else {
                continue;
            };
            let fitted = crate::contract::fit::fit_item(&schema, &fit.at, &hidden, fields);
            if !fitted.repairs.is_empty() {
                self.notes.push(format!(
                    "the {} as written did not fit the answer of `{}`; repaired: {}",
                    singular(&spec.name),
                    fit.operation,
                    fitted.summary()
                ));
            }
        }
        Ok(())
    }
}
