//! `action: create`: the request's fields (or the rule's `set`) become a
//! new item, with generated fields filled, unless the session is full, the
//! key is taken or a unique field clashes.
//!
//! Most creates write a mapping of lookups (`set: {name: "{{ body.name
//! }}"}`) or the request body, then the collection's defaults and
//! generated fields: those are made in a [`Draft`] and encoded straight
//! into the store. Generated UUIDs and `now`, and `set` entries that look
//! up a field of the stored target as stored, go in already encoded. A
//! `set` that is one expression, a rule that names the new key, and
//! collections with `unique` or `fit` go through a map, which those steps
//! read.

use super::{
    ErrorKind, Refusal, Request, Runner, Stop, check_unique, generate, random_uuid, singular,
};
use crate::behaviour::compact::{CompactItem, Encoded};
use crate::behaviour::context::{Bound, LentItem, with_lent_item};
use crate::behaviour::draft::Draft;
use crate::behaviour::model::{CollectionSpec, Generated, Rule};
use crate::behaviour::store::{Record, Session, key_text};
use crate::behaviour::template::{Entry, RenderError, Template, jinja_value};
use crate::generate::random_uuid_bytes;
use serde_json::{Map, Value};
use std::borrow::Cow;

/// What a create hands the answer.
pub(super) enum Created {
    /// The new item as the collection shows it, for the rule's body.
    Item(Value),
    /// The rule's body already rendered from the new item's draft: it read
    /// only stored fields of the item, so the item was never presented.
    Answered(Value),
}

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
    ) -> Result<Created, Stop> {
        // An answer that reads only stored fields of the new item (`{id:
        // "{{ item.id }}"}`) does not need it presented.
        let reads_stored_only = rule
            .body
            .as_ref()
            .and_then(|body| Some((body, body.item_fields()?)))
            .filter(|(_, read)| {
                rule.headers.is_empty() && read.iter().all(|field| !spec.shows_unstored(field))
            });
        if rule.id.is_none()
            && let Some(mut draft) = self.draft(session, rule, item, request)?
        {
            self.check_room(session)?;
            make_fields(&self.scope, session, spec, &mut draft)?;
            if spec.unique.is_empty() && (spec.fit.is_empty() || request.spec.is_none()) {
                return self.store_draft(session, spec, draft, reads_stored_only);
            }
            let fields = draft.into_map();
            let read = reads_stored_only.map(|(_, read)| read);
            return self.store(session, spec, fields, None, request, read);
        }
        let mut fields = self.input(session, rule, item, request)?;
        self.check_room(session)?;
        generate(&self.scope, session, spec, &mut fields, true)?;
        let read = reads_stored_only.map(|(_, read)| read);
        self.store(session, spec, fields, key, request, read)
    }

    /// The fields the rule writes, as a draft: `set` when it is a mapping
    /// written out, else the request body when it is a mapping or absent.
    /// `None` when the rule writes something else (a `set` expression, a
    /// body that is not a mapping), which [`Runner::input`] handles.
    fn draft<'r>(
        &self,
        session: &Session,
        rule: &'r Rule,
        item: &mut Value,
        request: &Request<'r>,
    ) -> Result<Option<Draft<'r>>, Stop> {
        let Some(template) = &rule.set else {
            let mut draft = Draft::default();
            match request.body.map(|body| &**body) {
                None | Some(Value::Null) => {}
                Some(Value::Object(body)) => {
                    draft = Draft::with_capacity(body.len() + 16);
                    for (name, value) in body {
                        draft.set(Cow::Borrowed(name), value.clone());
                    }
                }
                Some(_) => return Ok(None),
            }
            return Ok(Some(draft));
        };
        if !template.is_mapping() {
            return Ok(None);
        }
        let mut draft = Draft::with_capacity(24);
        if self.stored_target.is_some() {
            self.on_stored_target(session, |direct, context, target| {
                // `item.<field>` of the stored target is copied as stored;
                // the fields the template reads are found in one walk.
                let read = template.item_fields();
                let mut copies = read.map(|fields| target.encodings(fields));
                template.render_entries(direct, context, &mut |name, entry| match entry {
                    Entry::Lookup([root, field]) if root == "item" => {
                        let copied = read
                            .and_then(|fields| fields.iter().position(|f| f == field))
                            .zip(copies.as_mut())
                            .and_then(|(at, copies)| copies.get_mut(at).and_then(Option::take))
                            .or_else(|| target.encoded(field));
                        match copied {
                            Some(encoded) => {
                                draft.set_encoded(Cow::Borrowed(name), encoded);
                                true
                            }
                            None => false,
                        }
                    }
                    entry => write_rendered(&mut draft, name, entry),
                })
            })?;
        } else {
            with_lent_item(item, |lent, jinja_item| {
                let null = Value::Null;
                let bound = [("item", lent.map_or(Bound::Json(&null), Bound::Lent))];
                let direct = |names: &[String]| self.scope.direct(session, names, &bound);
                template.render_entries(
                    &direct,
                    &|| self.scope.context(session, &[("item", jinja_item.clone())]),
                    &mut |name, entry| write_rendered(&mut draft, name, entry),
                )
            })?;
        }
        Ok(Some(draft))
    }

    /// Refuses a create when the session holds `--max-items` items.
    fn check_room(&self, session: &mut Session) -> Result<(), Stop> {
        if session.item_count() < session.max_items {
            return Ok(());
        }
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
        Err(refusal.into())
    }

    /// Stores a draft that nothing else needs to see as a map: its key
    /// checked, its fields encoded as they are. `answer` is the rule's
    /// body with the fields it reads, when those are all stored: it is
    /// rendered from the draft.
    fn store_draft(
        &mut self,
        session: &mut Session,
        spec: &CollectionSpec,
        draft: Draft<'_>,
        answer: Option<(&Template, &[String])>,
    ) -> Result<Created, Stop> {
        let Some(key) = draft.key_text(&spec.key) else {
            return Err(no_key(spec).into());
        };
        let now_ms = session.now_ms();
        let record = Record::encoded(CompactItem::from_made(draft.iter()), now_ms, 0, false);
        let Some((body, read)) = answer else {
            self.store_new(session, spec, key, record.clone())?;
            let shown = self.present_with(session, spec, &record, draft.into_map(), now_ms)?;
            return Ok(Created::Item(Value::Object(shown)));
        };
        let key = self.store_new(session, spec, key, record)?;
        // The names an answer sees besides `item`; a create lists nothing.
        let null = Value::Null;
        let unlisted = [
            ("items", Bound::Json(&null)),
            ("total", Bound::Json(&null)),
            ("paging", Bound::Json(&null)),
        ];
        let rendered = body.render_direct(
            &|names| match names.split_first() {
                Some((root, rest)) if root == "item" => draft.lookup_keyed(rest, &spec.key, &key),
                _ => self.scope.direct(session, names, &unlisted),
            },
            &|| {
                let item = LentItem::owning(draft.select_keyed(read, &spec.key, &key));
                let extra = [
                    ("item", item.value()),
                    ("items", jinja_value(&null)),
                    ("total", jinja_value(&null)),
                    ("paging", jinja_value(&null)),
                ];
                self.scope.context(session, &extra)
            },
        )?;
        Ok(Created::Answered(rendered))
    }

    /// Stores a new record under `key` unless an item has it; gives the
    /// key back for the answer.
    fn store_new(
        &mut self,
        session: &mut Session,
        spec: &CollectionSpec,
        key: String,
        record: Record,
    ) -> Result<String, Refusal> {
        if session
            .collection_mut(&spec.name)
            .insert_new(&key, record)
            .is_err()
        {
            return Err(taken(spec, key));
        }
        self.wrote(&spec.name, &key, None);
        Ok(key)
    }

    /// Stores the new item `value` (under `named_key` when the rule names
    /// it) once it fits the collection's answers and clashes with nothing.
    fn store(
        &mut self,
        session: &mut Session,
        spec: &CollectionSpec,
        mut value: Map<String, Value>,
        named_key: Option<Value>,
        request: &Request<'_>,
        reads_stored_only: Option<&[String]>,
    ) -> Result<Created, Stop> {
        if let Some(named) = named_key {
            value.insert(spec.key.clone(), named);
        }
        self.fit(session, spec, &mut value, request)?;
        let Some(key) = value.get(&spec.key).and_then(key_text) else {
            return Err(no_key(spec).into());
        };
        let data = session.collection(&spec.name);
        check_unique(spec, &data, &value, None)?;
        if data.get(&key).is_some() {
            return Err(taken(spec, key).into());
        }
        drop(data);
        self.wrote(&spec.name, &key, None);
        let now_ms = session.now_ms();
        let record = Record::new(&value, now_ms, 0, false);
        session
            .collection_mut(&spec.name)
            .insert(key, record.clone());
        // The new item as stored, without reading it back: what is shown
        // of it depends only on its fields, age and reads.
        if reads_stored_only.is_some() {
            return Ok(Created::Item(Value::Object(value)));
        }
        let shown = self.present_with(session, spec, &record, value, now_ms)?;
        Ok(Created::Item(Value::Object(shown)))
    }
}

/// The collection's defaults for fields the draft lacks, then its
/// generated fields over what the request wrote, in the fixture's order:
/// each template sees the fields made before it as `item`.
fn make_fields<'s>(
    scope: &crate::behaviour::context::Scope,
    session: &mut Session,
    spec: &'s CollectionSpec,
    draft: &mut Draft<'s>,
) -> Result<(), RenderError> {
    for (field, template) in &spec.defaults {
        if !draft.contains(field) {
            let made = render_on_draft(scope, session, template, draft)?;
            draft.set(Cow::Borrowed(field), made);
        }
    }
    for (field, how) in &spec.generated {
        let field = Cow::Borrowed(field.as_str());
        let made = match how {
            // UUIDs and `now` go in encoded, as the store keeps them.
            Generated::Uuid => {
                draft.set_encoded(field, Encoded::Uuid(random_uuid_bytes(&mut session.rng)));
                continue;
            }
            Generated::Template(template) if is_now(template) => {
                draft.set_encoded(field, Encoded::seconds(scope.now_ms(session)));
                continue;
            }
            Generated::UuidHex => Value::String(random_uuid(&mut session.rng).replace('-', "")),
            Generated::Sequence => {
                let data = session.collection_mut(&spec.name);
                data.sequence += 1;
                Value::from(data.sequence)
            }
            Generated::Pattern(generator) => Value::String(generator.any(&mut session.rng)),
            Generated::Constant { stored, .. } => {
                draft.set_shared(field, stored);
                continue;
            }
            Generated::Template(template) => render_on_draft(scope, session, template, draft)?,
        };
        draft.set(field, made);
    }
    Ok(())
}

/// Writes a rendered `set` entry into the draft; a lookup not yet made is
/// declined (`false`), so that it is rendered and handed over as a value.
fn write_rendered<'t>(draft: &mut Draft<'t>, name: &'t str, entry: Entry<'t>) -> bool {
    match entry {
        Entry::Lookup(_) => false,
        Entry::Value(value) => {
            draft.set(Cow::Borrowed(name), value);
            true
        }
    }
}

/// Whether the template is `"{{ now }}"`, the request's instant.
fn is_now(template: &Template) -> bool {
    matches!(template.lookup_path(), Some([name]) if name == "now")
}

/// A template of a new item's field with the draft as `item`: lookups
/// first, the template context (the draft copied into a map) only for
/// what they cannot answer.
fn render_on_draft(
    scope: &crate::behaviour::context::Scope,
    session: &Session,
    template: &Template,
    draft: &Draft<'_>,
) -> Result<Value, RenderError> {
    if let Some(value) = template.constant() {
        return Ok(value.clone());
    }
    template.render_direct(
        &|names| match names.split_first() {
            Some((root, rest)) if root == "item" => draft.lookup(rest),
            _ => scope.direct(session, names, &[]),
        },
        &|| {
            let item = LentItem::owning(draft.to_map());
            scope.context(session, &[("item", item.value())])
        },
    )
}

fn no_key(spec: &CollectionSpec) -> Refusal {
    Refusal::new(
        ErrorKind::Validation,
        format!(
            "a new {} has no `{}`: give the collection `generate: {{{}: uuid}}`",
            singular(&spec.name),
            spec.key,
            spec.key
        ),
    )
}

fn taken(spec: &CollectionSpec, key: String) -> Refusal {
    let mut refusal = Refusal::new(
        ErrorKind::Conflict,
        format!(
            "a {} with {} `{key}` exists",
            singular(&spec.name),
            spec.key
        ),
    );
    refusal.fields.insert(spec.key.clone(), Value::String(key));
    refusal
}
