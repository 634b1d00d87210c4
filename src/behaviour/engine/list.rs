//! `action: list`: the items the request may see, kept by the rule's
//! filter and the query's filters, ordered and cut into the asked page.

use super::{ErrorKind, Refusal, Request, Runner, Stop};
use crate::behaviour::context::LentItem;
use crate::behaviour::list::{
    ListRequest, NoSuchPage, Page, apply_filters, apply_order, paginate, reads_any,
};
use crate::behaviour::model::{CollectionSpec, Rule};
use crate::behaviour::store::{Session, key_text};
use crate::behaviour::view::shown;
use serde_json::{Map, Value};

impl Runner<'_> {
    pub(super) fn list(
        &mut self,
        session: &mut Session,
        spec: &CollectionSpec,
        rule: &Rule,
        request: &Request<'_>,
    ) -> Result<Page, Stop> {
        let include_deleted = match &rule.list.include_deleted {
            Some(expression) => {
                let context = self.scope.context(session, &[]);
                expression.holds(&context).unwrap_or(false)
            }
            None => false,
        };
        // Computed fields cost more than the rest of a list (Waldur's
        // project reads six fields of its customer): where nothing that
        // keeps or orders the items reads them, they are worked out for
        // the page's items only.
        let computed: Vec<&str> = spec.computed.iter().map(|(f, _)| f.as_str()).collect();
        let page_only = !computed.is_empty() && !reads_any(&rule.list, request.query, &computed);
        let now_ms = session.now_ms();
        let data = session.collection(&spec.name);
        let mut items: Vec<Map<String, Value>> = Vec::new();
        for record in data.iter() {
            if record.deleted && !include_deleted {
                continue;
            }
            if !self.may_see(session, &spec.name, record) {
                continue;
            }
            let mut shown = if page_only {
                shown(spec, record, now_ms)
            } else {
                self.present(session, spec, record)?
            };
            if let Some(filter) = &rule.list.filter {
                let scope = &self.scope;
                let held = LentItem::lend(&mut shown, |item| {
                    filter.holds(&scope.context(session, &[("item", item.value())]))
                });
                match held {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(e) => {
                        self.notes
                            .push(format!("{}/filter did not evaluate: {e}", rule.pointer));
                        continue;
                    }
                }
            }
            items.push(shown);
        }
        drop(data);
        let mut kept = apply_filters(items, &rule.list.filters, request.query);
        apply_order(&mut kept, &rule.list, request.query);
        let list_request = ListRequest {
            query: request.query,
            raw_query: request.raw_query,
            url: format!("{}{}", request.base_url(), request.path),
            key: &spec.key,
        };
        let mut page = paginate(kept, &rule.list, &list_request).map_err(|no_page| {
            let kind = match no_page {
                NoSuchPage::Number { .. } => ErrorKind::NotFound,
                NoSuchPage::Cursor { .. } => ErrorKind::Validation,
            };
            Refusal::new(kind, no_page.to_string())
        })?;
        if page_only {
            for item in &mut page.items {
                self.add_computed(session, spec, item)?;
            }
        }
        // Each listed item has been seen once more (readiness by reads).
        if spec.readiness.is_some() && !page.items.is_empty() {
            let data = session.collection_mut(&spec.name);
            for key in page
                .items
                .iter()
                .filter_map(|i| i.get(&spec.key).and_then(key_text))
            {
                data.count_read(&key, spec.ready_after_reads());
            }
        }
        Ok(page)
    }
}
