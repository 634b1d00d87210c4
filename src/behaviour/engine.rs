//! Runs an operation's rules against the request's session: find the
//! target, pick the first rule whose `when` holds, do its action, render
//! its answer. Everything happens under the session's lock, so a check and
//! the write it guards are one step.

use super::Fixture;
use super::answer_cache::{AnswerKey, Hit, PendingAnswer};
use super::context::{Bound, LentItem, Scope, with_item, with_lent_item};
use super::fixture::ErrorKind;
use super::model::{Action, CollectionSpec, Generated, OperationBehaviour, Rule};
use super::store::{CollectionData, Record, Session, Store, into_key_text, key_text, lock};
use super::template::{Expr, RenderError, jinja_value};
use super::view::{StoredItem, is_ready, shown_with};

mod create;
use create::Created;
mod delete;
mod fit;
mod list;
mod read;
mod update;
use crate::generate::random_uuid;
use minijinja::Value as JinjaValue;
use serde_json::{Map, Value};
use std::sync::Arc;

pub use super::request::Request;

/// What the behaviour decided.
#[derive(Debug)]
pub enum Outcome {
    Answer(Answer),
    Refuse(Refusal),
    /// The item has not changed since this read was last answered: the
    /// answer kept with it is sent again.
    Kept(Hit),
    /// No rule's condition held: answer from the spec alone.
    NoRuleMatched,
    /// The target's key was never stored and the target says `unknown:
    /// spec`: answer from the spec alone, with this note for the log.
    Unknown(String),
    /// A template of the fixture failed while the rule ran: nothing it
    /// would have written is kept.
    Broken(RenderError),
}

/// Why a rule stopped before its answer: a refusal in the API's error
/// shape, or a fixture template that failed.
#[derive(Debug)]
enum Stop {
    Refuse(Refusal),
    Broken(RenderError),
}

impl From<Refusal> for Stop {
    fn from(refusal: Refusal) -> Self {
        Stop::Refuse(refusal)
    }
}

impl From<RenderError> for Stop {
    fn from(error: RenderError) -> Self {
        Stop::Broken(error)
    }
}

/// A write of the running rule, undone if a later template fails: the
/// item as it was before, `None` for one the rule created.
struct Undo {
    collection: String,
    key: String,
    before: Option<Record>,
}

#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// `None`: no body.
    pub body: Option<Value>,
    pub content_type: Option<String>,
    pub undocumented: bool,
    /// The rule that answered, as a pointer into the fixture, for the log.
    pub rule: String,
    /// Problems worth a log line (a condition that failed to evaluate).
    pub notes: Vec<String>,
    /// Where to keep the answer once it is built and checked, when it
    /// follows from the stored item alone (`answer_cache`).
    pub keep: Option<PendingAnswer>,
    /// Whether the answer shows items of a collection with `fit:`: one
    /// that breaks the spec is repaired as it is sent, not answered 500.
    pub fits: bool,
}

/// A refusal rendered in the API's error format by the mock.
#[derive(Debug)]
pub struct Refusal {
    pub kind: ErrorKind,
    pub detail: String,
    /// The values that clashed, for `conflict`.
    pub fields: Box<Map<String, Value>>,
    /// The collection of the item that was not found.
    pub collection: Option<String>,
    /// Said in the request log beside the refusal.
    pub note: Option<String>,
}

impl Refusal {
    fn new(kind: ErrorKind, detail: String) -> Self {
        Self {
            kind,
            detail,
            fields: Box::default(),
            collection: None,
            note: None,
        }
    }

    fn not_found(collection: &str, detail: String) -> Self {
        Self {
            collection: Some(collection.to_string()),
            ..Self::new(ErrorKind::NotFound, detail)
        }
    }
}

/// The session a request belongs to: its session header, else `default`.
pub fn session_name<'a>(fixture: &Fixture, headers: &'a hyper::HeaderMap) -> &'a str {
    fixture
        .model
        .session_header_name()
        .and_then(|name| headers.get(name))
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty())
        .unwrap_or("default")
}

/// Runs `behaviour` for `request`.
pub fn run(
    fixture: &Arc<Fixture>,
    store: &Store,
    behaviour: &OperationBehaviour,
    request: &Request<'_>,
) -> Outcome {
    if let Some(hit) = kept_answer(fixture, store, behaviour, request) {
        return Outcome::Kept(hit);
    }
    with_runner(fixture, store, request, |runner, session| {
        runner.run(session, behaviour, request)
    })
}

/// The answer kept with the target item, found without a template
/// context when the target is named by a path parameter and no collection
/// limits who sees what: the common read, a lookup.
fn kept_answer(
    fixture: &Arc<Fixture>,
    store: &Store,
    behaviour: &OperationBehaviour,
    request: &Request<'_>,
) -> Option<Hit> {
    if !store.keeps_answers() {
        return None;
    }
    let target = behaviour.target.as_ref()?;
    let spec = fixture.model.collection(&target.collection)?;
    let rule = plain_read(behaviour, spec)?;
    if fixture
        .model
        .collections
        .iter()
        .any(|c| c.visible.is_some())
    {
        return None;
    }
    let key = match target.id.as_ref()?.lookup_names()? {
        [root, name] if root == "path" => key_text(request.path_params.get(name)?)?,
        _ => return None,
    };
    let name = request.session;
    let session = seeded(store, name, |session| {
        seed(fixture, &Scope::new(fixture, request, name), session)
    });
    let mut session = lock(&session);
    let now_ms = session.now_ms();
    let data = session.collections.get_mut(&target.collection)?;
    let slot = data.slot(&key)?;
    let record = data
        .at(slot)
        .filter(|r| target.include_deleted || !r.deleted)?;
    let wanted = answer_key(rule, spec, record, now_ms, request);
    let kept = record.answer.hit(&wanted)?;
    // Only a read that moves the item towards ready changes the state.
    let moved = Arc::make_mut(data).count_read_at(slot, &key, spec.ready_after_reads());
    if moved {
        store.note_change();
    }
    // Time moves an item to ready without a change of state: only an
    // answer of a ready item stays the answer until the state changes
    // (or the request's credentials expire: `Request::credentials_good_until`).
    let settled = wanted.ready && !moved;
    Some(Hit::new(kept, settled))
}

/// Runs `f` on `session` and tells the store if it changed the state.
fn noting_changes<R>(store: &Store, session: &mut Session, f: impl FnOnce(&mut Session) -> R) -> R {
    let before = session.change_stamp();
    let result = f(session);
    if session.change_stamp() != before {
        store.note_change();
    }
    result
}

/// The operation's rule whose answers may be kept with the target item:
/// its only rule, a plain `read` of the target (no condition, no body or
/// header templates), of a collection whose items alone decide how they
/// are shown.
fn plain_read<'b>(behaviour: &'b OperationBehaviour, spec: &CollectionSpec) -> Option<&'b Rule> {
    let [rule] = behaviour.rules.as_slice() else {
        return None;
    };
    let plain = spec.answers_follow_from_item
        && rule.action == Action::Read
        && rule.when.is_none()
        && rule.id.is_none()
        && rule.collection.as_ref().is_none_or(|c| *c == spec.name)
        && rule.body.is_none()
        && rule.headers.is_empty();
    plain.then_some(rule)
}

/// Whether the operation's rule is a create that reads its target only in
/// `set`: its first rule, unconditional, with no `id` of its own. The
/// target is then read field by field from the store ([`StoredItem`]).
fn creates_from_target(behaviour: &OperationBehaviour) -> bool {
    behaviour.rules.first().is_some_and(|rule| {
        rule.action == Action::Create && rule.when.is_none() && rule.id.is_none()
    })
}

/// What the answer of `rule` for `record` at `now_ms` depends on besides
/// the item's fields.
fn answer_key(
    rule: &Rule,
    spec: &CollectionSpec,
    record: &Record,
    now_ms: i64,
    request: &Request<'_>,
) -> AnswerKey {
    AnswerKey {
        rule: rule.serial,
        ready: is_ready(spec, record, now_ms),
        accept: request
            .head
            .headers
            .get(hyper::header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .map(Into::into),
    }
}

/// The checks of `behaviour` that fail for `request`: `(field, message)`
/// pairs, for fields without a violation yet (`already`).
pub fn check(
    fixture: &Arc<Fixture>,
    store: &Store,
    behaviour: &OperationBehaviour,
    request: &Request<'_>,
    already: &[String],
) -> Result<Vec<(String, Value)>, RenderError> {
    if behaviour.checks.is_empty() {
        return Ok(Vec::new());
    }
    with_runner(fixture, store, request, |runner, session| {
        let mut failed: Vec<(String, Value)> = Vec::new();
        for check in &behaviour.checks {
            if already.contains(&check.field) || failed.iter().any(|(f, _)| *f == check.field) {
                continue;
            }
            let context = runner.scope.context(session, &[]);
            if check.when.holds(&context).unwrap_or(false) {
                failed.push((check.field.clone(), check.message.render(&context)?));
            }
        }
        Ok(failed)
    })
}

/// Runs `f` with the request's session held and a runner whose scope has
/// the session's variables, the request's instant and what its user may see.
fn with_runner<R>(
    fixture: &Arc<Fixture>,
    store: &Store,
    request: &Request<'_>,
    f: impl FnOnce(&mut Runner<'_>, &mut Session) -> R,
) -> R {
    let name = request.session;
    let scope = Scope::new(fixture, request, name);
    let session = seeded(store, name, |session| seed(fixture, &scope, session));
    let mut session = lock(&session);
    scope.set_session_vars(&session.vars);
    scope.set_stamp(session.stamp_us());
    let mut runner = Runner {
        fixture,
        scope,
        notes: Vec::new(),
        omitted: Default::default(),
        keep_answers: store.keeps_answers(),
        undo: Vec::new(),
        stored_target: None,
    };
    runner.limit_visibility(&session);
    noting_changes(store, &mut session, |session| f(&mut runner, session))
}

/// Who the request's credentials name, by the fixture's `auth`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    /// The fixture declares no users, or the operation needs no credentials.
    Anyone,
    User {
        key: String,
        /// When the credentials stop being good (`auth: lifetime:`), as
        /// a real instant a little before it; `None` when they last.
        good_until: Option<std::time::Instant>,
    },
    Denied {
        reason: super::access::Denial,
        /// The credential as read (after its prefix); `""` when none was.
        credential: String,
    },
}

/// The credentials offered for one security requirement: each scheme's
/// name and raw value (`None` when the request carries none for it).
pub type Offered<'a> = Vec<(&'a str, Option<&'a str>)>;

/// Finds the user named by the credentials offered for any one of the
/// operation's security requirements (the alternatives), among the users
/// of the session `name`.
pub fn identify(
    fixture: &Arc<Fixture>,
    store: &Store,
    name: &str,
    alternatives: &[Offered<'_>],
) -> Identity {
    use super::access::Denial;
    let Some(access) = &fixture.model.access else {
        return Identity::Anyone;
    };
    if alternatives.is_empty() {
        return Identity::Anyone;
    }
    // A template scope is made only if one is needed (a new session's
    // seed, `accept_any_as`): most requests name a known user.
    let session = seeded(store, name, |session| {
        seed(fixture, &Scope::bare(fixture, "", name), session)
    });
    let session = lock(&session);
    let users = session.collection(&access.users);
    let key_field = fixture
        .model
        .collection(&access.users)
        .map_or("id", |c| c.key.as_str());
    let mut worst: Option<(Denial, String)> = None;
    let mut deny = |reason: Denial, credential: &str| {
        if worst.as_ref().is_none_or(|(r, _)| reason > *r) {
            worst = Some((reason, credential.to_string()));
        }
    };
    'alternatives: for offered in alternatives {
        // `security: [{}]`: this alternative needs no credentials.
        if offered.is_empty() {
            return Identity::Anyone;
        }
        let mut named: Option<&super::store::Record> = None;
        for (scheme, raw) in offered {
            // With `auth`, only the schemes it declares name users.
            let Some(how) = access.scheme(scheme) else {
                match raw {
                    Some(raw) => deny(Denial::OtherScheme, raw),
                    None => deny(Denial::Missing, ""),
                }
                continue 'alternatives;
            };
            let Some(raw) = raw else {
                deny(Denial::Missing, "");
                continue 'alternatives;
            };
            let Some(credential) = how.read(raw) else {
                deny(Denial::OtherScheme, raw);
                continue 'alternatives;
            };
            let found = users
                .iter()
                .find(|r| !r.deleted && r.field_is_text(&how.field, credential));
            match (found, named) {
                (Some(user), None) => named = Some(user),
                (Some(user), Some(before)) if std::ptr::eq(user, before) => {}
                _ => {
                    deny(Denial::Unknown, credential);
                    continue 'alternatives;
                }
            }
        }
        let Some(user) = named else { continue };
        // Read before the session's clock, so the instant errs early.
        let checked_at = std::time::Instant::now();
        let left_ms = access
            .lifetime_ms
            .map(|lifetime| lifetime as i64 - session.age_ms(user));
        if left_ms.is_some_and(|left| left < 0) {
            let credential = offered
                .iter()
                .find_map(|(s, raw)| access.scheme(s).zip(raw.as_deref()))
                .and_then(|(how, raw)| how.read(raw))
                .unwrap_or_default();
            deny(Denial::Expired, credential);
            continue;
        }
        if let Some(key) = user.field(key_field).and_then(into_key_text) {
            let good_until = left_ms
                .map(|left| checked_at + std::time::Duration::from_millis(left.unsigned_abs()));
            return Identity::User { key, good_until };
        }
    }
    let (reason, credential) = worst.unwrap_or((Denial::Missing, String::new()));
    if reason == Denial::Unknown
        && let Some(expression) = &access.accept_any_as
        && let Ok(value) = expression.evaluate(&{
            let scope = Scope::bare(fixture, "", name);
            scope.set_session_vars(&session.vars);
            scope.context(&session, &[])
        })
        && let Some(key) = key_text(&value).filter(|k| users.get(k).is_some())
    {
        // Accepted whatever the credential: nothing about it expires.
        return Identity::User {
            key,
            good_until: None,
        };
    }
    Identity::Denied { reason, credential }
}

/// The session `name`, seeded on first use (for the admin API).
pub fn session(
    fixture: &Arc<Fixture>,
    store: &Store,
    name: &str,
    base_url: &str,
) -> Arc<std::sync::Mutex<Session>> {
    let scope = Scope::bare(fixture, base_url, name);
    seeded(store, name, |session| seed(fixture, &scope, session))
}

/// The session `name`, filled by `init` when it is new. A seed item whose
/// template failed is left out of it, and the log says why.
fn seeded(
    store: &Store,
    name: &str,
    init: impl FnOnce(&mut Session) -> Vec<RenderError>,
) -> Arc<std::sync::Mutex<Session>> {
    let mut failed = Vec::new();
    let session = store.session(name, |session| failed = init(session));
    for error in failed {
        store.event(format!(
            "session `{name}` was seeded without an item: {error}"
        ));
    }
    session
}

/// Fills a new session with each collection's seed items; those whose
/// templates fail are left out, and returned.
fn seed(fixture: &Arc<Fixture>, scope: &Scope, session: &mut Session) -> Vec<RenderError> {
    let mut failed = Vec::new();
    for spec in &fixture.model.collections {
        for item in &spec.seed {
            let mut value = item.clone();
            if let Err(error) = generate(scope, session, spec, &mut value, false) {
                failed.push(error);
                continue;
            }
            let Some(key) = value.get(&spec.key).and_then(key_text) else {
                continue;
            };
            // Seed items exist "from the start": ready by any measure.
            let record = Record::new(&value, 0, u32::MAX, false);
            session.collection_mut(&spec.name).insert(key, record);
        }
    }
    failed
}

/// Sets the server-made fields of a new item. `overwrite: false` keeps
/// values already given (seed items may fix their ids).
fn generate(
    scope: &Scope,
    session: &mut Session,
    spec: &CollectionSpec,
    value: &mut Map<String, Value>,
    overwrite: bool,
) -> Result<(), RenderError> {
    if !spec.defaults.is_empty() {
        let missing = spec
            .defaults
            .iter()
            .any(|(field, _)| !value.contains_key(field));
        if missing {
            LentItem::lend(value, |item| {
                let context = std::cell::OnceCell::new();
                for (field, template) in &spec.defaults {
                    if item.contains(field) {
                        continue;
                    }
                    let made = render_for_item(scope, session, template, item, &context)?;
                    item.insert(field.clone(), made);
                }
                Ok(())
            })?;
        }
    }
    LentItem::lend(value, |item| {
        // One context for all the templates: the item is lent, so each one
        // sees the fields made before it, and all share one `now`. It is
        // dropped before a sequence writes the collection, which would
        // otherwise copy the collection the context still holds.
        let mut context: std::cell::OnceCell<JinjaValue> = std::cell::OnceCell::new();
        for (field, how) in &spec.generated {
            if !overwrite && item.contains(field) {
                continue;
            }
            let made = match how {
                Generated::Uuid => Value::String(random_uuid(&mut session.rng)),
                Generated::UuidHex => Value::String(random_uuid(&mut session.rng).replace('-', "")),
                Generated::Sequence => {
                    context.take();
                    let data = session.collection_mut(&spec.name);
                    data.sequence += 1;
                    Value::from(data.sequence)
                }
                Generated::Pattern(generator) => Value::String(generator.any(&mut session.rng)),
                Generated::Constant { value, .. } => value.clone(),
                Generated::Template(template) => {
                    render_for_item(scope, session, template, item, &context)?
                }
            };
            item.insert(field.clone(), made);
        }
        Ok(())
    })
}

/// A template of a new item's field, with the item lent as `item`: its
/// value when constant, else rendered with lookups first and the shared
/// `context` built only if they cannot answer.
fn render_for_item(
    scope: &Scope,
    session: &Session,
    template: &super::Template,
    item: &LentItem,
    context: &std::cell::OnceCell<JinjaValue>,
) -> Result<Value, RenderError> {
    if let Some(value) = template.constant() {
        return Ok(value.clone());
    }
    template.render_direct(
        &|names| scope.direct(session, names, &[("item", Bound::Lent(item))]),
        &|| {
            context
                .get_or_init(|| scope.context(session, &[("item", item.value())]))
                .clone()
        },
    )
}

struct Runner<'f> {
    fixture: &'f Arc<Fixture>,
    scope: Scope,
    notes: Vec<String>,
    /// Each collection's `omit` list, worked out once per request.
    omitted: std::cell::RefCell<foldhash::HashMap<String, Arc<Vec<String>>>>,
    /// Whether answers of unchanged items are kept and sent again
    /// (off with `--check-every-answer`).
    keep_answers: bool,
    /// The rule's writes so far, newest last.
    undo: Vec<Undo>,
    /// The target of a create, left in the store rather than presented:
    /// its `set` reads a few of its fields.
    stored_target: Option<StoredTarget<'f>>,
}

/// A target item the running rule reads from the store.
struct StoredTarget<'f> {
    spec: &'f CollectionSpec,
    key: String,
    /// Its slot, good while the collection's change count is the one kept
    /// beside it: the item is not looked up by its key a second time.
    place: (usize, u64),
    now_ms: i64,
}

impl<'f> Runner<'f> {
    fn run(
        &mut self,
        session: &mut Session,
        behaviour: &OperationBehaviour,
        request: &Request<'_>,
    ) -> Outcome {
        // The target: the item the operation is about.
        let mut target_key = None;
        let mut item = Value::Null;
        // The key its answer is kept under, when the answer follows from
        // the item alone.
        let mut keep_under = None;
        if let Some(target) = &behaviour.target {
            let spec = self.collection_spec(&target.collection);
            let key = match &target.id {
                Some(expression) => self.key(session, expression, &[]),
                None => None,
            };
            // Where the item lies, with the collection's change count:
            // until the collection changes, the item is found there again.
            let found = key.as_ref().and_then(|k| {
                let data = session.collections.get(&target.collection)?;
                let slot = data.slot(k)?;
                let record = data
                    .at(slot)
                    .filter(|r| target.include_deleted || !r.deleted)
                    .filter(|r| self.may_see(session, &target.collection, r))?;
                Some((record, (slot, data.changes())))
            });
            match (found, spec) {
                (Some((record, place)), Some(spec)) => {
                    let now_ms = session.now_ms();
                    if let Some(rule) = plain_read(behaviour, spec).filter(|_| self.keep_answers) {
                        let wanted = answer_key(rule, spec, record, now_ms, request);
                        if let Some(kept) = record.answer.hit(&wanted) {
                            if let Some(key) = &key {
                                session.count_read(
                                    &target.collection,
                                    key,
                                    spec.ready_after_reads(),
                                );
                            }
                            return Outcome::Kept(Hit::new(kept, false));
                        }
                        keep_under = Some(wanted);
                    }
                    match (&key, creates_from_target(behaviour)) {
                        (Some(key), true) => {
                            self.stored_target = Some(StoredTarget {
                                spec,
                                key: key.clone(),
                                place,
                                now_ms,
                            });
                        }
                        _ => {
                            item = match self.present_at(session, spec, record, now_ms) {
                                Ok(shown) => Value::Object(shown),
                                Err(error) => return Outcome::Broken(error),
                            };
                        }
                    }
                    target_key = key;
                }
                _ if target.required => {
                    let removed = || {
                        key.as_ref().is_some_and(|k| {
                            session
                                .collections
                                .get(&target.collection)
                                .is_some_and(|c| c.was_removed(k))
                        })
                    };
                    if target.unknown_from_spec && !removed() {
                        return Outcome::Unknown(format!(
                            "no {} `{}` was ever stored in session `{}`: answered from the spec alone (`unknown: spec`)",
                            singular(&target.collection),
                            key.unwrap_or_default(),
                            session.name
                        ));
                    }
                    let mut refusal = Refusal::not_found(
                        &target.collection,
                        format!(
                            "no {} `{}` in session `{}`",
                            singular(&target.collection),
                            key.unwrap_or_default(),
                            session.name
                        ),
                    );
                    if target.unknown_from_spec {
                        refusal.note = Some(format!(
                            "undocumented 404: the spec documents no 404 for this operation, but {}",
                            refusal.detail
                        ));
                    }
                    return Outcome::Refuse(refusal);
                }
                _ => {}
            }
        }
        for rule in &behaviour.rules {
            if let Some(when) = &rule.when {
                let scope = &self.scope;
                let held = with_item(&mut item, |item| {
                    when.holds(&scope.context(session, &[("item", item)]))
                });
                match held {
                    Ok(true) => {}
                    Ok(false) => continue,
                    Err(e) => {
                        self.notes
                            .push(format!("{}/when did not evaluate: {e}", rule.pointer));
                        continue;
                    }
                }
            }
            let collection = rule
                .collection
                .clone()
                .or_else(|| behaviour.target.as_ref().map(|t| t.collection.clone()));
            return match self.act(session, rule, collection, target_key.clone(), item, request) {
                Ok(mut answer) => {
                    if let (Some(wanted), Some(key), Some(target)) =
                        (keep_under, &target_key, &behaviour.target)
                        && answer.notes.is_empty()
                    {
                        answer.keep = session
                            .collection_mut(&target.collection)
                            .reserve_answer(key, wanted);
                    }
                    Outcome::Answer(answer)
                }
                Err(Stop::Refuse(refusal)) => Outcome::Refuse(refusal),
                Err(Stop::Broken(error)) => {
                    self.undo_writes(session);
                    Outcome::Broken(error)
                }
            };
        }
        Outcome::NoRuleMatched
    }

    /// Puts back what the rule wrote, newest first: a rule whose template
    /// failed leaves the session as it found it.
    fn undo_writes(&mut self, session: &mut Session) {
        while let Some(undo) = self.undo.pop() {
            let data = session.collection_mut(&undo.collection);
            match undo.before {
                Some(record) => data.insert(undo.key, record),
                // Taken back: never deleted as far as clients know.
                None => {
                    data.remove(&undo.key, 0);
                }
            }
        }
    }

    /// Notes a write of `key` in `collection`, to undo if the rule fails
    /// later; `before` is the item as it was (`None`: new).
    fn wrote(&mut self, collection: &str, key: &str, before: Option<Record>) {
        self.undo.push(Undo {
            collection: collection.to_string(),
            key: key.to_string(),
            before,
        });
    }

    /// Works out, once per request, which items of each collection with a
    /// `visible` condition the user may see. The conditions themselves see
    /// every item.
    fn limit_visibility(&self, session: &Session) {
        let collections = &self.fixture.model.collections;
        if collections.iter().all(|c| c.visible.is_none()) {
            return;
        }
        let visible = (0..collections.len())
            .map(|index| self.scope.visibility(session, index))
            .collect();
        self.scope.set_visible(visible);
    }

    fn may_see(&self, session: &Session, collection: &str, record: &Record) -> bool {
        self.fixture
            .model
            .collections
            .iter()
            .position(|c| c.name == collection)
            .is_none_or(|index| self.scope.may_see(index, record, session))
    }

    fn collection_spec(&self, name: &str) -> Option<&'f CollectionSpec> {
        let fixture: &'f Arc<Fixture> = self.fixture;
        fixture.model.collection(name)
    }

    /// Evaluates a key expression to the text of a key.
    fn key(
        &mut self,
        session: &Session,
        expression: &Expr,
        extra: &[(&'static str, JinjaValue)],
    ) -> Option<String> {
        // `path.id` and the like are read without a template context.
        if extra.is_empty()
            && let Some(value) = expression
                .lookup_names()
                .and_then(|names| self.scope.direct(session, names, &[]))
        {
            return into_key_text(value);
        }
        let context = self.scope.context(session, extra);
        match expression.evaluate(&context) {
            Ok(value) => into_key_text(value),
            Err(e) => {
                self.notes.push(format!(
                    "key expression `{}` failed: {e}",
                    expression.source()
                ));
                None
            }
        }
    }

    /// [`Self::key`] as the value the expression gives (a number stays a
    /// number), for the key of a new item.
    fn key_value(
        &mut self,
        session: &Session,
        expression: &Expr,
        extra: &[(&'static str, JinjaValue)],
    ) -> Option<Value> {
        let context = self.scope.context(session, extra);
        match expression.evaluate(&context) {
            Ok(value) if key_text(&value).is_some() => Some(value),
            Ok(value) => {
                self.notes.push(format!(
                    "key expression `{}` gave {value}, not a key; the key was generated",
                    expression.source()
                ));
                None
            }
            Err(e) => {
                self.notes.push(format!(
                    "key expression `{}` failed: {e}; the key was generated",
                    expression.source()
                ));
                None
            }
        }
    }

    /// An item as answered: readiness applied, computed fields added.
    fn present(
        &self,
        session: &Session,
        spec: &CollectionSpec,
        record: &Record,
    ) -> Result<Map<String, Value>, RenderError> {
        self.present_at(session, spec, record, session.now_ms())
    }

    /// [`Self::present`] as of the session time `now_ms`.
    fn present_at(
        &self,
        session: &Session,
        spec: &CollectionSpec,
        record: &Record,
        now_ms: i64,
    ) -> Result<Map<String, Value>, RenderError> {
        self.present_with(session, spec, record, record.fields(), now_ms)
    }

    /// [`Self::present_at`] for `fields`, the record's fields already at
    /// hand (a create has just stored them).
    fn present_with(
        &self,
        session: &Session,
        spec: &CollectionSpec,
        record: &Record,
        fields: Map<String, Value>,
        now_ms: i64,
    ) -> Result<Map<String, Value>, RenderError> {
        let mut value = shown_with(spec, record, fields, now_ms);
        self.add_computed(session, spec, &mut value)?;
        Ok(value)
    }

    /// Adds the collection's computed fields to an item as stored
    /// (readiness applied): the last step of presenting it.
    fn add_computed(
        &self,
        session: &Session,
        spec: &CollectionSpec,
        value: &mut Map<String, Value>,
    ) -> Result<(), RenderError> {
        if spec.computed.is_empty() {
            return Ok(());
        }
        // A field never answered is not worth computing.
        let omitted = self.omitted(session, spec)?;
        LentItem::lend(value, |item| {
            let context = std::cell::OnceCell::new();
            for (field, template) in &spec.computed {
                if !omitted.contains(field) {
                    let made = render_for_item(&self.scope, session, template, item, &context)?;
                    item.insert(field.clone(), made);
                }
            }
            Ok::<_, RenderError>(())
        })
    }

    /// The fields the collection leaves out of answers (`omit`).
    fn omitted(
        &self,
        session: &Session,
        spec: &CollectionSpec,
    ) -> Result<Arc<Vec<String>>, RenderError> {
        if spec.omit.is_none() {
            // Shared: most collections omit nothing, and a new empty list
            // per answer would be an allocation each.
            static NOTHING: std::sync::LazyLock<Arc<Vec<String>>> =
                std::sync::LazyLock::new(Arc::default);
            return Ok(NOTHING.clone());
        }
        if let Some(known) = self.omitted.borrow().get(&spec.name) {
            return Ok(known.clone());
        }
        let list = Arc::new(self.omit_list(session, spec)?);
        self.omitted
            .borrow_mut()
            .insert(spec.name.clone(), list.clone());
        Ok(list)
    }

    fn omit_list(
        &self,
        session: &Session,
        spec: &CollectionSpec,
    ) -> Result<Vec<String>, RenderError> {
        let Some(template) = &spec.omit else {
            return Ok(Vec::new());
        };
        let rendered = match template.constant() {
            Some(value) => value.clone(),
            None => template.render(&self.scope.context(session, &[]))?,
        };
        Ok(match rendered {
            Value::Array(names) => names
                .into_iter()
                .filter_map(|n| n.as_str().map(String::from))
                .collect(),
            Value::String(name) if !name.is_empty() => vec![name],
            _ => Vec::new(),
        })
    }

    /// The stored item under `key` as answered; `null` if there is none.
    fn present_stored(
        &self,
        session: &Session,
        spec: &CollectionSpec,
        key: &str,
    ) -> Result<Value, RenderError> {
        let data = session.collection(&spec.name);
        Ok(match data.get(key) {
            Some(record) => Value::Object(self.present(session, spec, record)?),
            None => Value::Null,
        })
    }

    fn act(
        &mut self,
        session: &mut Session,
        rule: &Rule,
        collection: Option<String>,
        target_key: Option<String>,
        mut item: Value,
        request: &Request<'_>,
    ) -> Result<Answer, Stop> {
        let mut items = Value::Null;
        let mut total = Value::Null;
        let mut paging = Value::Null;
        let mut headers = Vec::new();
        let mut answered = None;
        let spec = collection.as_deref().and_then(|c| self.collection_spec(c));
        if let (Some(spec), Some(name)) = (spec, collection.as_deref()) {
            // Which existing item the action works on.
            let reads_target = rule.id.is_none();
            let key = match (&rule.id, rule.action.needs_item()) {
                (Some(expression), true) => {
                    let key = with_item(&mut item, |item| {
                        self.key(session, expression, &[("item", item)])
                    });
                    let deleted = key
                        .as_ref()
                        .and_then(|k| session.collection(name).get(k).map(|r| r.deleted));
                    match deleted {
                        Some(deleted) if !deleted || rule.action == Action::Restore => key,
                        _ => {
                            return Err(Refusal::not_found(
                                name,
                                format!("no {} `{}`", singular(name), key.unwrap_or_default()),
                            )
                            .into());
                        }
                    }
                }
                (None, true) => target_key,
                _ => None,
            };
            match rule.action {
                Action::Respond => {}
                Action::Create => {
                    // `id` on a create names the new item's key.
                    let key = match &rule.id {
                        Some(expression) => with_item(&mut item, |item| {
                            self.key_value(session, expression, &[("item", item)])
                        }),
                        None => None,
                    };
                    match self.act_create(session, spec, rule, key, &mut item, request)? {
                        Created::Item(created) => item = created,
                        Created::Answered(body) => answered = Some(body),
                    }
                }
                Action::Read => {
                    self.act_read(session, spec, key.as_deref(), reads_target, &mut item)?
                }
                Action::Update => {
                    item = self.act_update(session, spec, rule, key, &mut item, request)?;
                }
                Action::Delete | Action::Restore => {
                    let restore = rule.action == Action::Restore;
                    self.act_delete(session, spec, key, restore, &mut item)?;
                }
                Action::List => {
                    let page = self.list(session, spec, rule, request)?;
                    total = Value::from(page.total);
                    paging = page.paging;
                    headers = page.headers;
                    items = Value::Array(page.items.into_iter().map(Value::Object).collect());
                }
            }
        }
        // The answer. Fields a collection never answers (`omit`) are not
        // in the list a body template sees either.
        let omitted = match spec {
            Some(spec) => self.omitted(session, spec)?,
            None => Arc::default(),
        };
        if rule.body.is_some() && !omitted.is_empty() {
            items = without(items, &omitted);
        }
        let status = rule.status.unwrap_or(request.default_status);
        // Most rules answer the item as it is, or with lookups into it: the
        // template context is built only for what lookups cannot answer.
        let scope = &self.scope;
        let rendered = match answered {
            Some(body) => Some(body),
            None => with_lent_item(&mut item, |lent, jinja_item| {
                let null = Value::Null;
                let bound = [
                    ("item", lent.map_or(Bound::Json(&null), Bound::Lent)),
                    ("items", Bound::Json(&items)),
                    ("total", Bound::Json(&total)),
                    ("paging", Bound::Json(&paging)),
                ];
                let direct = |names: &[String]| scope.direct(session, names, &bound);
                let built = std::cell::OnceCell::new();
                let context = || {
                    built
                        .get_or_init(|| {
                            let extra = [
                                ("item", jinja_item.clone()),
                                ("items", jinja_value(&items)),
                                ("total", jinja_value(&total)),
                                ("paging", jinja_value(&paging)),
                            ];
                            scope.context(session, &extra)
                        })
                        .clone()
                };
                for (name, template) in &rule.headers {
                    let value = match template.render_direct(&direct, &context)? {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    headers.push((name.clone(), value));
                }
                rule.body
                    .as_ref()
                    .map(|template| template.render_direct(&direct, &context))
                    .transpose()
            })?,
        };
        let body = match (rendered, rule.action) {
            (Some(body), _) => Some(body),
            (None, Action::List) => Some(without(items, &omitted)),
            (None, Action::Create | Action::Read | Action::Update | Action::Restore) => {
                Some(without(item, &omitted))
            }
            (None, Action::Delete | Action::Respond) => None,
        };
        Ok(Answer {
            status,
            headers,
            body,
            content_type: rule.content_type.clone(),
            undocumented: rule.undocumented,
            rule: rule.pointer.clone(),
            notes: std::mem::take(&mut self.notes),
            keep: None,
            fits: spec.is_some_and(|spec| !spec.fit.is_empty()),
        })
    }

    /// The fields a create or update writes: `set`, else the request body.
    fn input(
        &self,
        session: &Session,
        rule: &Rule,
        item: &mut Value,
        request: &Request<'_>,
    ) -> Result<Map<String, Value>, Stop> {
        let value = match &rule.set {
            Some(template) if self.stored_target.is_some() => self
                .on_stored_target(session, |direct, context, _| {
                    template.render_direct(direct, context)
                })?
                .unwrap_or(Value::Null),
            Some(template) => with_lent_item(item, |lent, jinja_item| {
                let null = Value::Null;
                let bound = [("item", lent.map_or(Bound::Json(&null), Bound::Lent))];
                let direct = |names: &[String]| self.scope.direct(session, names, &bound);
                template.render_direct(&direct, &|| {
                    self.scope.context(session, &[("item", jinja_item.clone())])
                })
            })?,
            None => request
                .body
                .map_or_else(|| Value::Object(Map::new()), |body| (**body).clone()),
        };
        // A `set` that is not a mapping is the fixture's mistake.
        if rule.set.is_some() && !matches!(value, Value::Object(_) | Value::Null) {
            return Err(Stop::Broken(RenderError {
                at: format!("{}/set", rule.pointer),
                message: format!("the fields to write must be a mapping, got {value}"),
            }));
        }
        match value {
            Value::Object(map) => Ok(map),
            Value::Null => Ok(Map::new()),
            other => Err(Stop::Refuse(Refusal::new(
                ErrorKind::Validation,
                format!(
                    "{}: the fields to write must be a mapping, got {other}",
                    rule.pointer
                ),
            ))),
        }
    }

    /// Runs `render` with the stored target as `item`: lookups read its
    /// fields from the store, and only a template that needs more (a
    /// filter, the whole item, a computed field) gets it presented whole.
    /// `None` when there is no stored target or it is gone. `render` also
    /// gets the target itself, to copy fields from as they are stored.
    fn on_stored_target<R>(
        &self,
        session: &Session,
        render: impl FnOnce(
            &dyn Fn(&[String]) -> Option<Value>,
            &dyn Fn() -> JinjaValue,
            &StoredItem<'_>,
        ) -> Result<R, RenderError>,
    ) -> Result<Option<R>, RenderError> {
        let Some(target) = &self.stored_target else {
            return Ok(None);
        };
        let data = session.collection(&target.spec.name);
        let (slot, changes) = target.place;
        let record = match data.changes() == changes {
            true => data.at(slot),
            false => data.get(&target.key),
        };
        let Some(record) = record else {
            return Ok(None);
        };
        let stored = StoredItem {
            spec: target.spec,
            record,
            now_ms: target.now_ms,
        };
        let failed = std::cell::Cell::new(None);
        let value = render(
            &|names| {
                self.scope
                    .direct(session, names, &[("item", Bound::Stored(&stored))])
            },
            &|| {
                let item = match self.present_at(session, target.spec, record, target.now_ms) {
                    Ok(shown) => LentItem::owning(shown).value(),
                    Err(error) => {
                        failed.set(Some(error));
                        JinjaValue::from(())
                    }
                };
                self.scope.context(session, &[("item", item)])
            },
            &stored,
        );
        match failed.into_inner() {
            Some(error) => Err(error),
            None => value.map(Some),
        }
    }
}

/// An answered item, or each item of a list, without the `omitted` fields.
fn without(mut value: Value, omitted: &[String]) -> Value {
    if omitted.is_empty() {
        return value;
    }
    match &mut value {
        Value::Object(map) => {
            for field in omitted {
                map.shift_remove(field);
            }
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                if let Value::Object(map) = item {
                    for field in omitted {
                        map.shift_remove(field);
                    }
                }
            }
        }
        _ => {}
    }
    value
}

/// Writes `value` at `field`: mappings merge into mappings, anything else
/// (null included) replaces.
fn merge(target: &mut Map<String, Value>, field: String, value: Value) {
    match (target.get_mut(&field), value) {
        (Some(Value::Object(existing)), Value::Object(patch)) => {
            for (k, v) in patch {
                merge(existing, k, v);
            }
        }
        (_, value) => {
            target.insert(field, value);
        }
    }
}

/// Refuses a value that would share a unique field set with a live item.
fn check_unique(
    spec: &CollectionSpec,
    data: &CollectionData,
    value: &Map<String, Value>,
    except: Option<&str>,
) -> Result<(), Refusal> {
    for fields in &spec.unique {
        let Some(wanted) = fields
            .iter()
            .map(|f| value.get(f))
            .collect::<Option<Vec<&Value>>>()
        else {
            continue;
        };
        let clash = data.iter().any(|record| {
            !record.deleted
                && except.is_none_or(|k| {
                    !record
                        .field(&spec.key)
                        .as_ref()
                        .and_then(key_text)
                        .is_some_and(|own| super::uuid_text::same_text(&own, k))
                })
                && fields
                    .iter()
                    .zip(&wanted)
                    .all(|(f, w)| record.field(f).as_ref() == Some(*w))
        });
        if clash {
            let mut refusal = Refusal::new(
                ErrorKind::Conflict,
                format!(
                    "a {} with this {} exists",
                    singular(&spec.name),
                    fields.join(" and ")
                ),
            );
            for (f, w) in fields.iter().zip(wanted) {
                refusal.fields.insert(f.clone(), w.clone());
            }
            return Err(refusal);
        }
    }
    Ok(())
}

/// `projects` → `project`, for messages.
fn singular(name: &str) -> &str {
    name.strip_suffix('s').unwrap_or(name)
}
