//! What a fixture's templates see: the request, the clock, the session's
//! collections and the values a rule binds (`item`, `items`, `total`).
//!
//! The context is an object that answers lookups as they come, not a map
//! built up front. A request is read by many templates (a key expression, a
//! `when`, computed fields, the answer) and most of them look at one or two
//! names; building every name for every template made context assembly
//! the largest cost of a mock request. Here the request's parts are made
//! template values once per request, and `request`, `vars`, `now` and the
//! collection views only when a template asks for them.

use super::Fixture;
use super::clock::{format_date, format_datetime, format_datetime_us};
use super::request::Request;
use super::store::{Record, Session, lock};
use super::template::jinja_value;
use super::view::{CollectionSpecRef, CollectionView, StoredItem};
use super::visibility::{Collections, Visibility};
use minijinja::Value as JinjaValue;
use minijinja::value::{Enumerator, Object};
use serde_json::{Map, Value};
use std::sync::{Arc, Mutex, OnceLock};

/// The names of a context that don't come from a collection or a rule.
const SCOPE_NAMES: [&str; 12] = [
    "request", "path", "query", "header", "cookie", "body", "vars", "base_url", "session", "now",
    "now_us", "user",
];

/// The request-wide part of every context of one request.
pub struct Scope {
    data: Arc<ScopeData>,
}

#[derive(Debug)]
struct ScopeData {
    fixture: Arc<Fixture>,
    /// Standard methods are kept without a copy of their name; `None`
    /// for a scope with no request (an empty method).
    method: Option<hyper::Method>,
    /// The request's path when it is not the head's (`None`: it is, and
    /// is read from there rather than copied).
    path: Option<String>,
    /// Given, or made from `headers` on first use.
    base_url: OnceLock<String>,
    session: String,
    /// The request's head, shared with the request: its headers are read
    /// for `request.headers` and the base URL, both on first use.
    head: Arc<hyper::http::request::Parts>,
    raw_query: Vec<(String, String)>,
    /// Path, query, header and cookie parameters, made template values on
    /// first use: a clone of a map with one or no entries costs less than
    /// converting it.
    params: [Lazy; 4],
    /// The body as JSON, for lookups that skip the template machine.
    body_json: Option<Arc<Value>>,
    body: OnceLock<JinjaValue>,
    /// `request`, made on first use: most rules never read raw headers.
    request: OnceLock<JinjaValue>,
    vars: OnceLock<JinjaValue>,
    /// The key of the user the credentials named.
    user: Option<String>,
    /// The user as templates see them, made on first use: conditions over
    /// every item of a collection ask for it once per item.
    user_value: OnceLock<JinjaValue>,
    /// The session's own values for fixture variables.
    session_vars: OnceLock<Map<String, Value>>,
    /// The request's instant in microseconds, set once the session is held:
    /// every `now` of one request is the same.
    stamp_us: OnceLock<i64>,
    /// `now` as text, made once: a create can write it to several fields.
    now_text: OnceLock<String>,
    /// Per collection (by index): who may see its items, for collections
    /// that declare `visible`.
    visible: OnceLock<Vec<Option<Arc<Visibility>>>>,
}

impl Scope {
    /// A scope with no request, for sessions made by the admin API.
    pub fn bare(fixture: &Arc<Fixture>, base_url: &str, session: &str) -> Self {
        let empty = Arc::new(Map::new());
        let head = Arc::new(hyper::Request::new(()).into_parts().0);
        let request = Request {
            method: "",
            path: "",
            raw_query: &[],
            head: &head,
            session,
            path_params: &empty,
            query: &empty,
            header_params: &empty,
            cookies: &empty,
            body: None,
            given_base_url: Some(base_url),
            default_status: 200,
            user: None,
            credentials_good_until: None,
            spec: None,
        };
        Self::new(fixture, &request, session)
    }

    pub fn new(fixture: &Arc<Fixture>, request: &Request<'_>, session: &str) -> Self {
        Self {
            data: Arc::new(ScopeData {
                fixture: fixture.clone(),
                method: hyper::Method::from_bytes(request.method.as_bytes()).ok(),
                path: (request.path != request.head.uri.path()).then(|| request.path.to_string()),
                base_url: request
                    .given_base_url
                    .map_or_else(OnceLock::new, |given| OnceLock::from(given.to_string())),
                session: session.to_string(),
                head: request.head.clone(),
                raw_query: request.raw_query.to_vec(),
                params: [
                    Lazy::new(request.path_params),
                    Lazy::new(request.query),
                    Lazy::new(request.header_params),
                    Lazy::new(request.cookies),
                ],
                body_json: request.body.cloned(),
                body: OnceLock::new(),
                request: OnceLock::new(),
                vars: OnceLock::new(),
                user: request.user.clone(),
                user_value: OnceLock::new(),
                session_vars: OnceLock::new(),
                stamp_us: OnceLock::new(),
                now_text: OnceLock::new(),
                visible: OnceLock::new(),
            }),
        }
    }

    /// Takes the session's overrides of fixture variables (once, before
    /// any template reads `vars`).
    pub fn set_session_vars(&self, vars: &Map<String, Value>) {
        if !vars.is_empty() {
            let _ = self.data.session_vars.set(vars.clone());
        }
    }

    /// Fixes the request's instant (once; later calls change nothing).
    pub fn set_stamp(&self, stamp_us: i64) {
        let _ = self.data.stamp_us.set(stamp_us);
    }

    /// The key of the request's user, if its credentials named one.
    pub fn user(&self) -> Option<&str> {
        self.data.user.as_deref()
    }

    /// Fixes what the user may see (once), per collection index.
    pub fn set_visible(&self, visible: Vec<Option<Arc<Visibility>>>) {
        let _ = self.data.visible.set(visible);
    }

    /// Whether `record` of collection `index` may be seen.
    pub fn may_see(&self, index: usize, record: &Record, session: &Session) -> bool {
        match self.data.visible.get().and_then(|v| v.get(index)) {
            Some(Some(visibility)) => visibility.sees(record, || self.collections(session)),
            _ => true,
        }
    }

    /// Who may see the items of collection `index`, by its `visible`
    /// condition, judged item by item as the request asks. The condition
    /// sees every item of every collection, the stored fields of the one
    /// it judges as `item`, and the request's user.
    pub fn visibility(&self, session: &Session, index: usize) -> Option<Arc<Visibility>> {
        let spec = self.data.fixture.model.collections.get(index)?;
        spec.visible.as_ref()?;
        // Weak: the scope holds the visibility.
        let scope = Arc::downgrade(&self.data);
        let now_ms = self.now_ms(session);
        let shown_ms = session.now_ms();
        let condition = move |record: &Record, collections: &Collections| {
            let Some(scope) = scope.upgrade() else {
                return false;
            };
            let spec = &scope.fixture.model.collections[index];
            let Some(condition) = &spec.visible else {
                return true;
            };
            // Stored fields only: conditions name ids and owners, and
            // computed fields can cost more than the condition.
            let mut shown = super::view::shown(spec, record, shown_ms);
            LentItem::lend(&mut shown, |item| {
                let context = JinjaValue::from_object(Context {
                    scope: scope.clone(),
                    collections: collections.into(),
                    now_ms,
                    extra: vec![("item", item.value())],
                    filtered: false,
                });
                condition.holds(&context)
            })
            .unwrap_or(false)
        };
        Some(Arc::new(Visibility::new(
            spec.key.clone(),
            Box::new(condition),
        )))
    }

    /// The session's collections by the fixture's index, shared with
    /// the templates that read them.
    fn collections(&self, session: &Session) -> Arc<Collections> {
        self.data
            .fixture
            .model
            .collections
            .iter()
            .map(|spec| session.collections.get(&spec.name).cloned())
            .collect()
    }

    /// The request's instant in milliseconds (the session's clock when no
    /// request fixed one).
    pub fn now_ms(&self, session: &Session) -> i64 {
        match self.data.stamp_us.get() {
            Some(us) => us.div_euclid(1000),
            None => session.now_ms(),
        }
    }

    /// The value of the name path `names` (`item.id`, `body.name`, `now`)
    /// as a template would see it with `extra` bound, read straight from
    /// the JSON; `None` when only the template machine can tell (a
    /// collection, `request`, `vars`, `user`, something not a mapping on
    /// the way, or nothing there), and the caller asks it.
    pub fn direct(
        &self,
        session: &Session,
        names: &[String],
        extra: &[(&'static str, Bound<'_>)],
    ) -> Option<Value> {
        let (root, rest) = names.split_first()?;
        if let Some((_, bound)) = extra.iter().find(|(name, _)| *name == root.as_str()) {
            return match bound {
                Bound::Lent(item) => item.lookup(rest),
                Bound::Json(value) => walk(value, rest).cloned(),
                Bound::Stored(item) => item.lookup(rest),
            };
        }
        let data = &self.data;
        // Any other name (a collection, `vars`, `user`) is the template
        // engine's to answer: `None`.
        let value = match root.as_str() {
            "now" if rest.is_empty() => {
                return Some(Value::String(data.now_text(self.now_ms(session))));
            }
            "path" => &data.params[0].map,
            "query" => &data.params[1].map,
            "header" => &data.params[2].map,
            "cookie" => &data.params[3].map,
            "body" => {
                return walk(data.body_json.as_deref().unwrap_or(&Value::Null), rest).cloned();
            }
            "base_url" if rest.is_empty() => return Some(Value::String(data.base_url().clone())),
            "session" if rest.is_empty() => return Some(Value::String(data.session.clone())),
            _ => return None,
        };
        let (first, rest) = rest.split_first()?;
        walk(value.get(first)?, rest).cloned()
    }

    /// The context of one template: this scope, the session's collections
    /// and clock as they are now, and `extra` bindings, which shadow the rest.
    pub fn context(&self, session: &Session, extra: &[(&'static str, JinjaValue)]) -> JinjaValue {
        let now_ms = self.now_ms(session);
        JinjaValue::from_object(Context {
            scope: self.data.clone(),
            collections: self.collections(session),
            now_ms,
            extra: extra.to_vec(),
            filtered: true,
        })
    }
}

impl ScopeData {
    fn base_url(&self) -> &String {
        self.base_url
            .get_or_init(|| super::request::base_url_of(&self.head.headers))
    }

    /// `now_ms` as `now` is written: formatted once per request when it is
    /// the request's own instant.
    fn now_text(&self, now_ms: i64) -> String {
        match self.stamp_us.get() {
            Some(us) if us.div_euclid(1000) == now_ms => self
                .now_text
                .get_or_init(|| format_datetime(now_ms))
                .clone(),
            _ => format_datetime(now_ms),
        }
    }

    fn get(&self, name: &str) -> Option<JinjaValue> {
        Some(match name {
            "request" => self.request.get_or_init(|| self.request_value()).clone(),
            "path" => self.params[0].get(),
            "query" => self.params[1].get(),
            "header" => self.params[2].get(),
            "cookie" => self.params[3].get(),
            "body" => self
                .body
                .get_or_init(|| jinja_value(self.body_json.as_deref().unwrap_or(&Value::Null)))
                .clone(),
            "vars" => self
                .vars
                .get_or_init(|| match self.session_vars.get() {
                    Some(overrides) if !overrides.is_empty() => {
                        let mut vars = self.fixture.model.vars.clone();
                        vars.extend(overrides.iter().map(|(k, v)| (k.clone(), v.clone())));
                        jinja_value(vars)
                    }
                    _ => jinja_value(&self.fixture.model.vars),
                })
                .clone(),
            "base_url" => JinjaValue::from(self.base_url().as_str()),
            "session" => JinjaValue::from(self.session.as_str()),
            _ => return None,
        })
    }

    fn request_value(&self) -> JinjaValue {
        let headers: Map<String, Value> = self
            .head
            .headers
            .iter()
            .filter_map(|(k, v)| {
                let v = v.to_str().ok()?;
                Some((k.as_str().to_string(), Value::String(v.to_string())))
            })
            .collect();
        let raw_query: Map<String, Value> = self
            .raw_query
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect();
        let path = self.path.as_deref().unwrap_or(self.head.uri.path());
        jinja_value(serde_json::json!({
            "method": self.method.as_ref().map_or("", hyper::Method::as_str),
            "path": path,
            "url": format!("{}{}", self.base_url(), path),
            "headers": headers,
            "query": raw_query,
        }))
    }
}

/// A mapping that becomes a template value when first read.
#[derive(Debug)]
struct Lazy {
    map: Arc<Map<String, Value>>,
    value: OnceLock<JinjaValue>,
}

impl Lazy {
    fn new(map: &Arc<Map<String, Value>>) -> Self {
        Self {
            map: map.clone(),
            value: OnceLock::new(),
        }
    }

    fn get(&self) -> JinjaValue {
        self.value.get_or_init(|| jinja_value(&self.map)).clone()
    }
}

/// One template's view of the world. Lookups go: `extra`, then the
/// collections, then the clock, then the request.
#[derive(Debug)]
struct Context {
    scope: Arc<ScopeData>,
    /// Each of the fixture's collections, by index; `None` when empty.
    collections: Arc<Collections>,
    now_ms: i64,
    extra: Vec<(&'static str, JinjaValue)>,
    /// Whether its collections show only what the user may see (`false`
    /// for the `visible` conditions themselves, which see every item).
    filtered: bool,
}

impl Context {
    fn collection(&self, index: usize) -> JinjaValue {
        JinjaValue::from_object(self.view(index))
    }

    fn view(&self, index: usize) -> CollectionView {
        CollectionView {
            spec: Arc::new(CollectionSpecRef {
                fixture: self.scope.fixture.clone(),
                index,
            }),
            data: self.collections[index].clone().unwrap_or_default(),
            now_ms: self.now_ms,
            visible: self
                .scope
                .visible
                .get()
                .filter(|_| self.filtered)
                .and_then(|v| v.get(index).cloned().flatten()),
            collections: self.collections.clone(),
        }
    }

    /// The request's user as stored, or none.
    fn user(&self) -> JinjaValue {
        let (Some(key), Some(access)) = (&self.scope.user, &self.scope.fixture.model.access) else {
            return JinjaValue::from(());
        };
        let collections = &self.scope.fixture.model.collections;
        match collections.iter().position(|c| c.name == access.users) {
            Some(index) => self.view(index).get_unfiltered(key),
            None => JinjaValue::from(()),
        }
    }
}

impl Object for Context {
    fn get_value(self: &Arc<Self>, key: &JinjaValue) -> Option<JinjaValue> {
        let name = key.as_str()?;
        if let Some((_, value)) = self.extra.iter().find(|(n, _)| *n == name) {
            return Some(value.clone());
        }
        let collections = &self.scope.fixture.model.collections;
        if let Some(index) = collections.iter().position(|c| c.name == name) {
            return Some(self.collection(index));
        }
        match name {
            "now" => Some(JinjaValue::from(self.scope.now_text(self.now_ms))),
            "now_us" => Some(JinjaValue::from(format_datetime_us(
                self.scope
                    .stamp_us
                    .get()
                    .copied()
                    .unwrap_or(self.now_ms.saturating_mul(1000)),
            ))),
            "today" => Some(JinjaValue::from(format_date(self.now_ms))),
            // Seconds since 1970, for APIs whose times are numbers (Stripe's `created`).
            "now_unix" => Some(JinjaValue::from(self.now_ms.div_euclid(1000))),
            "user" => Some(self.scope.user_value.get_or_init(|| self.user()).clone()),
            _ => self.scope.get(name),
        }
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        let mut names: Vec<JinjaValue> = self
            .extra
            .iter()
            .map(|(n, _)| *n)
            .chain(SCOPE_NAMES)
            .chain(["today", "now_unix"])
            .map(JinjaValue::from)
            .collect();
        names.extend(
            self.scope
                .fixture
                .model
                .collections
                .iter()
                .map(|c| JinjaValue::from(c.name.as_str())),
        );
        names.sort();
        names.dedup();
        Enumerator::Values(names)
    }
}

/// A value bound for one template, as [`Scope::direct`] reads it.
pub enum Bound<'a> {
    Lent(&'a LentItem),
    Json(&'a Value),
    /// An item still in the store, read field by field.
    Stored(&'a StoredItem<'a>),
}

/// The value at the name path `names` under `value`, through mappings only
/// (what a template's lookup by name finds); `None` when something on the
/// way is not a mapping or the name is not there.
pub(super) fn walk<'v>(value: &'v Value, names: &[String]) -> Option<&'v Value> {
    let mut value = value;
    for name in names {
        value = value.as_object()?.get(name)?;
    }
    Some(value)
}

/// An item lent to templates while the engine keeps working on it. A field
/// becomes a template value only when a template reads it, where converting
/// the whole item for every template (a computed field, a generated one, a
/// list filter per listed item) used to be most of a create's cost.
#[derive(Debug)]
pub struct LentItem(Arc<ItemFields>);

#[derive(Debug)]
struct ItemFields(Mutex<Map<String, Value>>);

impl LentItem {
    /// Lends `map` for the length of `f`, then takes it back with whatever
    /// `f` inserted.
    pub fn lend<R>(map: &mut Map<String, Value>, f: impl FnOnce(&LentItem) -> R) -> R {
        let lent = LentItem(Arc::new(ItemFields(Mutex::new(std::mem::take(map)))));
        let result = f(&lent);
        *map = std::mem::take(&mut *lock(&lent.0.0));
        result
    }

    /// An item lent for good: `map` is not taken back.
    pub fn owning(map: Map<String, Value>) -> Self {
        LentItem(Arc::new(ItemFields(Mutex::new(map))))
    }

    /// The item as templates see it.
    pub fn value(&self) -> JinjaValue {
        JinjaValue::from_dyn_object(self.0.clone())
    }

    pub fn contains(&self, field: &str) -> bool {
        lock(&self.0.0).contains_key(field)
    }

    pub fn insert(&self, field: String, value: Value) {
        lock(&self.0.0).insert(field, value);
    }

    /// The value at the name path `names` in the item (itself when empty).
    fn lookup(&self, names: &[String]) -> Option<Value> {
        let fields = lock(&self.0.0);
        let (first, rest) = names.split_first()?;
        walk(fields.get(first)?, rest).cloned()
    }
}

/// [`with_item`] that also gives the lent item itself, for lookups that
/// skip the template machine (`None` when `item` is not a mapping).
pub fn with_lent_item<R>(
    item: &mut Value,
    f: impl FnOnce(Option<&LentItem>, JinjaValue) -> R,
) -> R {
    match item {
        Value::Object(map) => LentItem::lend(map, |lent| f(Some(lent), lent.value())),
        other => f(None, jinja_value(&*other)),
    }
}

/// Runs `f` with `item` as a template value: lent when it is a mapping,
/// converted when it is anything else (usually `null`: no item).
pub fn with_item<R>(item: &mut Value, f: impl FnOnce(JinjaValue) -> R) -> R {
    match item {
        Value::Object(map) => LentItem::lend(map, |lent| f(lent.value())),
        other => f(jinja_value(&*other)),
    }
}

impl Object for ItemFields {
    fn get_value(self: &Arc<Self>, key: &JinjaValue) -> Option<JinjaValue> {
        lock(&self.0).get(key.as_str()?).map(jinja_value)
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Values(
            lock(&self.0)
                .keys()
                .map(|k| JinjaValue::from(k.as_str()))
                .collect(),
        )
    }

    fn enumerator_len(self: &Arc<Self>) -> Option<usize> {
        Some(lock(&self.0).len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::behaviour::template::{Expr, environment};

    fn evaluate(expression: &str, context: &JinjaValue) -> Result<Value, minijinja::Error> {
        Expr::compile(expression)?.evaluate(context)
    }

    fn fixture() -> Arc<Fixture> {
        let mut fixture = Fixture::default();
        fixture.model.vars.insert("limit".into(), Value::from(3));
        Arc::new(fixture)
    }

    fn request_scope(fixture: &Arc<Fixture>, headers: &hyper::HeaderMap) -> Scope {
        let path: Arc<Map<String, Value>> = Arc::new(
            [("id".to_string(), Value::from("p1"))]
                .into_iter()
                .collect(),
        );
        let body = Arc::new(serde_json::json!({"name": "demo"}));
        let empty = Arc::new(Map::new());
        let (mut head, ()) = hyper::Request::new(()).into_parts();
        head.headers = headers.clone();
        let head = Arc::new(head);
        let request = Request {
            method: "POST",
            path: "/projects/p1",
            raw_query: &[("page".to_string(), "2".to_string())],
            head: &head,
            session: "s1",
            path_params: &path,
            query: &empty,
            header_params: &empty,
            cookies: &empty,
            body: Some(&body),
            given_base_url: Some("http://127.0.0.1:4010"),
            default_status: 200,
            user: None,
            credentials_good_until: None,
            spec: None,
        };
        Scope::new(fixture, &request, "s1")
    }

    #[test]
    fn every_name_resolves_and_extra_shadows_the_request() {
        let _ = environment();
        let fixture = fixture();
        let mut headers = hyper::HeaderMap::new();
        headers.insert("x-api-key", "k".parse().expect("header value"));
        let scope = request_scope(&fixture, &headers);
        let mut session = Session::new("s1", 1);
        session.clock_offset_ms = -super::super::clock::real_now_ms();
        let context = scope.context(&session, &[("body", JinjaValue::from("shadowed"))]);
        let read = |expression: &str| evaluate(expression, &context).expect(expression);
        assert_eq!(read("path.id"), Value::from("p1"));
        assert_eq!(read("vars.limit"), Value::from(3));
        assert_eq!(read("request.method"), Value::from("POST"));
        assert_eq!(
            read("request.url"),
            Value::from("http://127.0.0.1:4010/projects/p1")
        );
        assert_eq!(read("request.headers['x-api-key']"), Value::from("k"));
        assert_eq!(read("request.query.page"), Value::from("2"));
        assert_eq!(read("session"), Value::from("s1"));
        assert_eq!(read("body"), Value::from("shadowed"));
        assert_eq!(read("now"), Value::from("1970-01-01T00:00:00Z"));
        assert_eq!(read("today"), Value::from("1970-01-01"));
        assert_eq!(read("missing is undefined"), Value::from(true));
    }

    #[test]
    fn the_body_is_there_when_not_shadowed() {
        let fixture = fixture();
        let scope = request_scope(&fixture, &hyper::HeaderMap::new());
        let session = Session::new("s1", 1);
        let context = scope.context(&session, &[]);
        assert_eq!(
            evaluate("body.name", &context).expect("body.name"),
            Value::from("demo")
        );
    }

    #[test]
    fn a_lent_item_reads_like_the_mapping_and_comes_back_with_inserts() {
        let mut map: Map<String, Value> = serde_json::from_value(serde_json::json!({
            "id": "p1", "tags": ["a", "b"], "owner": {"name": "ann"}, "gone": null
        }))
        .expect("a mapping");
        let before = map.clone();
        let (read, whole) = LentItem::lend(&mut map, |lent| {
            let context = minijinja::context! { item => lent.value() };
            let read = evaluate(
                "[item.id, item.tags[1], item.owner.name, item.gone is none, item.nope is undefined, item | length]",
                &context,
            )
            .expect("reads");
            lent.insert("made".into(), Value::from(7));
            let whole = evaluate("item", &context).expect("whole item");
            (read, whole)
        });
        assert_eq!(read, serde_json::json!(["p1", "b", "ann", true, true, 4]));
        let mut expected = before;
        expected.insert("made".into(), Value::from(7));
        assert_eq!(whole, Value::Object(expected.clone()));
        assert_eq!(map, expected);
    }
}
