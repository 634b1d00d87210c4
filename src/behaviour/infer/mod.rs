//! State from the spec alone: the resources a spec's paths describe
//! (`/servers` and `/servers/{id}`, nested ones such as
//! `/customers/{customer}/projects/{id}`), written as an ordinary fixture.
//!
//! The fixture is the one thing inference makes: `serve` and `run` load
//! it as they load a hand-written one, and `understudy init` writes the
//! same text to a file, with comments saying what was inferred from which
//! part of the spec. So a file `init` wrote behaves exactly as inference
//! does, and users start from it to add their business rules.
//!
//! Rules for ambiguous cases (also in the README):
//! - a collection is a path whose last segment is literal (`/servers`)
//!   with an item path below it that ends in a parameter
//!   (`/servers/{id}`); it is named by that literal segment;
//! - the item's schema is the item GET's success answer, else the PUT's
//!   or PATCH's, else the create's; the key is the first of the item
//!   path's parameter, `id`, `uuid`, `<singular>_id`, `name` that the item
//!   has;
//! - an answer carries the item bare or under one property whose object
//!   has the key (`{server: {…}}`); a list answer is a bare array, or an
//!   object with one array of such items (`{servers: […], meta: …}`);
//! - a create stores the request's fields whose type matches the item's
//!   field of the same name, over an example of the item the spec allows,
//!   with the key generated (a sequence for integers, a UUID, or the key's
//!   `pattern`) and read-only date-times set to now;
//! - an operation that fits none of this is left to the spec alone, and
//!   the start's log line says why.

mod emit;
mod shapes;

use crate::spec::{Api, Operation};
use serde_json::{Map, Value, json};
use shapes::{Place, item_place, list_place, properties, request_media, success, type_of};
use std::collections::BTreeMap;

pub use emit::render;

use super::Fixture;

/// What inference found in a spec.
#[derive(Debug, Clone, Default)]
pub struct Inference {
    pub resources: Vec<Resource>,
    /// Operations left to the spec alone, and why: `GET /pricing: …`.
    pub stateless: Vec<(String, String)>,
}

/// One collection and the operations that work on it.
#[derive(Debug, Clone)]
pub struct Resource {
    pub name: String,
    /// The collection's fixture entry (`key`, `generate`, `defaults`, …).
    pub collection: Value,
    pub operations: Vec<InferredOperation>,
    /// `GET /servers/{id}` … with the list's pagination, for the log.
    pub summary: String,
}

/// One operation's fixture entry and where it came from.
#[derive(Debug, Clone)]
pub struct InferredOperation {
    pub id: String,
    /// `create: POST /servers`, for the comment above it.
    pub comment: String,
    pub entry: Value,
}

/// The fixture inferred from `api`, bound to it, with the log lines that
/// say what was inferred and what was left to the spec. `name` names the
/// spec in the fixture's comments and errors.
pub fn fixture(api: &Api, name: &str) -> Fixture {
    let (inference, loaded) = checked_and_loaded(api, name);
    let mut lines = log_lines(&inference);
    // Each resource binds alone (`checked`); together they should too, and
    // if not, the spec is served as it is and the log says why.
    let mut fixture = loaded.unwrap_or_else(|why| {
        lines = vec![format!(
            "inferred nothing: the resources do not load together: {why}"
        )];
        Fixture::default()
    });
    fixture.inferred = lines;
    fixture
}

/// [`infer`], with every resource whose entries do not bind to the spec
/// (inference read the spec wrong) left to the spec alone, and why:
/// inference never stops a spec from serving. What `serve` loads and
/// what `init` writes.
pub fn checked(api: &Api, name: &str) -> Inference {
    checked_and_loaded(api, name).0
}

/// [`checked`], and its fixture loaded: the load that tests the whole
/// inference is the one kept, so a start reads the text once when all
/// binds.
fn checked_and_loaded(api: &Api, name: &str) -> (Inference, Result<Fixture, String>) {
    let mut inference = infer(api);
    if let Ok(fixture) = load(api, name, &inference) {
        return (inference, Ok(fixture));
    }
    let mut kept = Vec::new();
    for resource in std::mem::take(&mut inference.resources) {
        let alone = Inference {
            resources: vec![resource.clone()],
            stateless: Vec::new(),
        };
        match load(api, name, &alone) {
            Ok(_) => kept.push(resource),
            Err(why) => {
                let why = why.lines().next().unwrap_or_default().to_string();
                for op in &resource.operations {
                    if let Some(o) = api.operation(&op.id) {
                        inference
                            .stateless
                            .push((format!("{} {}", o.method, o.path), why.clone()));
                    }
                }
            }
        }
    }
    inference.resources = kept;
    let loaded = load(api, name, &inference);
    (inference, loaded)
}

/// The inference's fixture, read from its text as a written one is.
fn load(api: &Api, name: &str, inference: &Inference) -> Result<Fixture, String> {
    let path = std::path::PathBuf::from(format!("(inferred from {name})"));
    let text = render(inference, None, name);
    let mut fixture = Fixture::from_text(&path, &text).map_err(|e| e.to_string())?;
    fixture.bind(api).map_err(|e| e.to_string())?;
    Ok(fixture)
}

/// What the start says of an inference: a line per collection, and the
/// operations left to the spec grouped by why (a few named, the rest
/// counted, so a spec of 500 operations does not flood the log).
fn log_lines(inference: &Inference) -> Vec<String> {
    let mut lines: Vec<String> = inference
        .resources
        .iter()
        .map(|r| format!("inferred {}", r.summary))
        .collect();
    let mut by_reason: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (operation, why) in &inference.stateless {
        by_reason.entry(why).or_default().push(operation);
    }
    for (why, operations) in by_reason {
        const SHOWN: usize = 4;
        let mut named = operations[..operations.len().min(SHOWN)].join(", ");
        if operations.len() > SHOWN {
            named.push_str(&format!(" and {} more", operations.len() - SHOWN));
        }
        lines.push(format!("left stateless: {named}: {why}"));
    }
    lines
}

/// Infers the resources of `api`.
pub fn infer(api: &Api) -> Inference {
    let mut by_path: BTreeMap<&str, Vec<&Operation>> = BTreeMap::new();
    for operation in &api.operations {
        by_path
            .entry(operation.path.as_str())
            .or_default()
            .push(operation);
    }
    let mut inference = Inference::default();
    let mut used = std::collections::HashSet::new();
    for (item_path, item_ops) in &by_path {
        // Django's paths end in a slash: `/api/customers/{uuid}/`.
        let slash = if item_path.ends_with('/') { "/" } else { "" };
        let Some((collection_path, last)) = item_path.trim_end_matches('/').rsplit_once('/') else {
            continue;
        };
        let Some(param) = last.strip_prefix('{').and_then(|l| l.strip_suffix('}')) else {
            continue;
        };
        let literal = collection_path.rsplit('/').next().unwrap_or_default();
        if literal.is_empty() || literal.starts_with('{') {
            continue;
        }
        let list_ops = by_path
            .get(format!("{collection_path}{slash}").as_str())
            .cloned()
            .unwrap_or_default();
        let name = collection_name(collection_path, literal, &used);
        match resource(api, collection_path, &name, param, item_ops, &list_ops) {
            Ok(resource) => {
                used.insert(name);
                inference.resources.push(resource);
            }
            Err(why) => {
                for op in item_ops.iter().chain(&list_ops) {
                    inference
                        .stateless
                        .push((format!("{} {}", op.method, op.path), why.clone()));
                }
            }
        }
    }
    let inferred: std::collections::HashSet<&str> = inference
        .resources
        .iter()
        .flat_map(|r| r.operations.iter().map(|o| o.id.as_str()))
        .collect();
    for operation in &api.operations {
        let named = format!("{} {}", operation.method, operation.path);
        if !inferred.contains(operation.id.as_str())
            && !inference.stateless.iter().any(|(n, _)| *n == named)
        {
            inference.stateless.push((
                named,
                "no collection path with an item path below it".into(),
            ));
        }
    }
    inference
}

/// The collection's name: the collection path's last literal segment
/// (`ssh_keys`), else all its literal segments but a version
/// (`servers_actions` for `/servers/{id}/actions`), else that with a count.
fn collection_name(
    collection_path: &str,
    literal: &str,
    used: &std::collections::HashSet<String>,
) -> String {
    // A collection's name is a template name: letters, digits and `_`,
    // not starting with a digit (Stripe's `/v1/3d_secure`).
    let clean = |s: &str| {
        let name: String = s
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
            .collect();
        match name.starts_with(|c: char| c.is_ascii_digit()) {
            true => format!("x_{name}"),
            false => name,
        }
    };
    let last = clean(literal);
    if !used.contains(&last) {
        return last;
    }
    let literals: Vec<String> = collection_path
        .split('/')
        .filter(|s| !s.is_empty() && !s.starts_with('{'))
        .filter(|s| {
            !(s.starts_with('v') && s[1..].chars().all(|c| c.is_ascii_digit()) && s.len() > 1)
        })
        .map(clean)
        .collect();
    let joined = literals.join("_");
    if !used.contains(&joined) {
        return joined;
    }
    (2..)
        .map(|n| format!("{joined}_{n}"))
        .find(|name| !used.contains(name))
        .unwrap_or(joined)
}

/// The parameters of a path template, in order.
fn path_params(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
        .collect()
}

/// The field a nested item keeps its parent's key in (never answered).
fn parent_field(param: &str) -> String {
    format!("_parent_{param}")
}

/// The operation of `ops` with `method`.
fn find<'a>(ops: &[&'a Operation], method: &str) -> Option<&'a Operation> {
    ops.iter().find(|o| o.method.as_str() == method).copied()
}

fn resource(
    api: &Api,
    collection_path: &str,
    name: &str,
    param: &str,
    item_ops: &[&Operation],
    list_ops: &[&Operation],
) -> Result<Resource, String> {
    let get = find(item_ops, "GET");
    let put = find(item_ops, "PUT");
    let patch = find(item_ops, "PATCH");
    // Stripe's way: POST to the item updates it.
    let post_item = find(item_ops, "POST").filter(|_| put.is_none() && patch.is_none());
    let delete = find(item_ops, "DELETE");
    let create = find(list_ops, "POST");
    let list = find(list_ops, "GET");
    let name = name.to_string();
    let singular = shapes::singular(&name);
    // The answer that shows one item, and the property naming it.
    let shown_by = [get, put, patch, create]
        .into_iter()
        .flatten()
        .find_map(|op| success(op).and_then(|(_, media)| media).map(|m| (op, m)));
    let Some((shown_op, shown_media)) = shown_by else {
        return Err("no answer of the item path or the create describes the item".into());
    };
    let shown_schema = shown_media
        .schema
        .as_ref()
        .map(|s| s.raw().clone())
        .unwrap_or_default();
    let candidates = [
        param.to_string(),
        "id".into(),
        "uuid".into(),
        format!("{singular}_id"),
        format!("{singular}Id"),
        // `{username}`, `{pool_name}`, `{tag_id}` of items keyed by name.
        "name".into(),
    ];
    // An answer that is the item itself wins over one with an object
    // inside that happens to have such a property (Stripe's customer has
    // `id`, and its `discount` has a `customer`).
    let placed = |bare: bool| {
        candidates.iter().find_map(|c| {
            item_place(api, &shown_schema, c)
                .filter(|p| (*p == Place::Bare) == bare)
                .map(|p| (c.clone(), p))
        })
    };
    let Some((key, place)) = placed(true).or_else(|| placed(false)) else {
        return Err(format!(
            "the answer of {} {} has no property naming the item (looked for {})",
            shown_op.method,
            shown_op.path,
            candidates.join(", ")
        ));
    };
    let item_schema = match &place {
        Place::Bare => shown_schema.clone(),
        Place::Under(env) => properties(api, &shown_schema)
            .0
            .get(env)
            .cloned()
            .unwrap_or_default(),
    };
    let (item_props, _) = properties(api, &item_schema);
    let example = shapes::example(api, shown_media, 7).ok_or_else(|| {
        format!(
            "no example of the answer of {} {} fits its schema",
            shown_op.method, shown_op.path
        )
    })?;
    let item_example = match &place {
        Place::Bare => example.clone(),
        Place::Under(env) => example.get(env).cloned().unwrap_or_default(),
    };
    let Value::Object(mut defaults) = item_example else {
        return Err("the item is not an object".into());
    };
    let parents: Vec<&str> = path_params(collection_path);
    // Server-made fields: the key, and read-only (or conventionally named)
    // creation and change times.
    let mut generate = Map::new();
    let key_schema = item_props.get(&key).cloned().unwrap_or_default();
    generate.insert(key.clone(), key_generator(api, &key_schema));
    for (field, schema) in &item_props {
        let time_name = matches!(
            field.as_str(),
            "created" | "created_at" | "createdAt" | "updated" | "updated_at" | "updatedAt"
        );
        let is_time = shapes::format_of(api, schema) == Some("date-time");
        if field != &key && is_time && (time_name || shapes::read_only(api, schema)) {
            generate.insert(field.clone(), Value::from("{{ now }}"));
        }
        if field != &key && type_of(api, schema).as_deref() == Some("integer") && time_name {
            generate.insert(field.clone(), Value::from("{{ now_unix }}"));
        }
    }
    defaults.shift_remove(&key);
    for field in generate.keys() {
        defaults.shift_remove(field);
    }
    let mut collection = json!({"key": key, "generate": generate, "defaults": defaults});
    if !parents.is_empty() {
        collection["omit"] =
            Value::from(parents.iter().map(|p| parent_field(p)).collect::<Vec<_>>());
    }
    let target = json!({"collection": name, "id": format!("path.{param}")});
    let shown = Shown::new(&item_props, &parents);
    let mut operations = Vec::new();
    let mut summary = Vec::new();
    if let Some(op) = create {
        operations.push(create_entry(
            api,
            op,
            &name,
            &key,
            &item_props,
            &parents,
            &shown,
        )?);
        summary.push(format!("POST {}", op.path));
    }
    let mut on_item = Vec::new();
    if let Some(op) = get {
        operations.push(InferredOperation {
            id: op.id.clone(),
            comment: format!("read: GET {}", op.path),
            entry: json!({"target": target, "rules": [rule(api, op, "read", None, &key, &shown, None)?]}),
        });
        on_item.push("GET");
    }
    for op in [put, patch, post_item].into_iter().flatten() {
        let set = fitting_set(api, op, &item_props, &[]);
        let entry = with_set(rule(api, op, "update", None, &key, &shown, None)?, set);
        operations.push(InferredOperation {
            id: op.id.clone(),
            comment: format!(
                "update: {} {} merges the fields of the item it names",
                op.method, op.path
            ),
            entry: json!({"target": target, "rules": [entry]}),
        });
        on_item.push(op.method.as_str());
    }
    if let Some(op) = delete {
        operations.push(InferredOperation {
            id: op.id.clone(),
            comment: format!("delete: DELETE {}; a later read gets the spec's 404", op.path),
            entry: json!({"target": target, "rules": [rule(api, op, "delete", None, &key, &shown, None)?]}),
        });
        on_item.push("DELETE");
    }
    if !on_item.is_empty() {
        summary.push(format!("{} {}", on_item.join("/"), item_ops[0].path));
    }
    if let Some(op) = list {
        let (entry, paging) = list_entry(api, op, &name, &key, &item_props, &parents, &shown)?;
        summary.push(format!("list GET {}{paging}", op.path));
        operations.push(InferredOperation {
            id: op.id.clone(),
            comment: format!("list: GET {}{paging}", op.path),
            entry,
        });
    }
    Ok(Resource {
        summary: format!("{name}: {}", summary.join(", ")),
        name,
        collection,
        operations,
    })
}

/// How the key is made: a sequence for integers, the key's own pattern,
/// else a UUID.
fn key_generator(api: &Api, schema: &Value) -> Value {
    match type_of(api, schema).as_deref() {
        Some("integer" | "number") => Value::from("sequence"),
        _ => match api
            .deref(schema)
            .and_then(|s| s.get("pattern"))
            .and_then(Value::as_str)
        {
            Some(pattern) => {
                json!({"pattern": pattern.trim_start_matches('^').trim_end_matches('$')})
            }
            None => Value::from("uuid"),
        },
    }
}

/// `set:` for a create or update: the request's fields whose type matches
/// the item's field of the same name (`{name: "x"}` fits, `server_type:
/// "cx11"` does not fit an object), from the body or its envelope, with
/// the parents' keys of a nested item. `None`: the body as it is.
fn fitting_set(
    api: &Api,
    op: &Operation,
    item_props: &Map<String, Value>,
    parents: &[&str],
) -> Option<Value> {
    let media = request_media(op)?;
    let schema = media.schema.as_ref()?.raw();
    let (mut body_props, _) = properties(api, schema);
    let mut source = "(body or {})".to_string();
    // A request that wraps the item as the answer does (`{server: {…}}`).
    if body_props.len() == 1
        && let Some((env, inner)) = body_props
            .iter()
            .next()
            .map(|(k, v)| (k.clone(), v.clone()))
        && !item_props.contains_key(&env)
        && type_of(api, &inner).as_deref() == Some("object")
    {
        source = format!("((body or {{}}).{env} or {{}})");
        body_props = properties(api, &inner).0;
    }
    let fitting: Vec<&String> = body_props
        .iter()
        .filter(|(name, schema)| {
            item_props
                .get(*name)
                .is_some_and(|item| type_of(api, item) == type_of(api, schema))
        })
        .map(|(name, _)| name)
        .collect();
    let names: Vec<String> = fitting.iter().map(|n| format!("'{n}'")).collect();
    let mut text = format!("{source} | pick([{}])", names.join(", "));
    if !parents.is_empty() {
        let fields: Vec<String> = parents
            .iter()
            .map(|p| format!("'{}': path.{p}", parent_field(p)))
            .collect();
        text = format!("{text} | merge({{{}}})", fields.join(", "));
    }
    Some(Value::from(format!("{{{{ {text} }}}}")))
}

/// A rule doing `action`, answering the operation's lowest 2xx with the
/// item where its answer has it (bare: the default answer; under a
/// property: that property, the rest an example the spec allows).
fn rule(
    api: &Api,
    op: &Operation,
    action: &str,
    collection: Option<&str>,
    key: &str,
    shown: &Shown,
    items: Option<&str>,
) -> Result<Value, String> {
    let Some((status, media)) = success(op) else {
        return Err(format!(
            "{} {} documents no success answer",
            op.method, op.path
        ));
    };
    let mut rule = json!({"action": action});
    if let Some(collection) = collection {
        rule["collection"] = Value::from(collection);
    }
    rule["status"] = Value::from(status);
    let Some(media) = media else {
        return Ok(rule);
    };
    let schema = media
        .schema
        .as_ref()
        .map(|s| s.raw().clone())
        .unwrap_or_default();
    let example = shapes::example(api, media, 11);
    let body = match items {
        Some(items) => match list_place(api, &schema, key) {
            Some(Place::Bare) => None,
            Some(Place::Under(env)) => {
                let mut body = example.unwrap_or_else(|| json!({}));
                body[&env] = Value::from(items);
                totals(&mut body);
                Some(body)
            }
            None => {
                return Err(format!(
                    "the answer of {} {} holds no list of the items",
                    op.method, op.path
                ));
            }
        },
        None => match item_place(api, &schema, key) {
            Some(Place::Bare) if action != "delete" => None,
            Some(Place::Under(env)) if action != "delete" => {
                let mut body = example.unwrap_or_else(|| json!({}));
                body[&env] = Value::from(shown.item.as_str());
                Some(body)
            }
            // An answer without the item (an action, a receipt): as the
            // spec's example, naming the item where it has the key
            // (Stripe's `{"deleted": true, "id": …}`).
            _ => {
                let mut body = example.ok_or_else(|| {
                    format!(
                        "no example of the answer of {} {} fits its schema",
                        op.method, op.path
                    )
                })?;
                if let Some(slot) = body.get_mut(key) {
                    *slot = Value::from(format!("{{{{ item.{key} }}}}"));
                }
                Some(body)
            }
        },
    };
    if let Some(body) = body {
        rule["body"] = body;
    }
    Ok(rule)
}

/// `rule` with `set:` after its action and collection, where a reader
/// looks for what is written.
fn with_set(rule: Value, set: Option<Value>) -> Value {
    let (Value::Object(rule), Some(set)) = (&rule, &set) else {
        return rule;
    };
    let mut ordered = Map::new();
    for (k, v) in rule {
        if k == "status" {
            ordered.insert("set".into(), set.clone());
        }
        ordered.insert(k.clone(), v.clone());
    }
    Value::Object(ordered)
}

/// How an item is written into an answer's envelope: `{{ item }}`, or
/// for a nested item only the item's own fields (not its parent's key).
struct Shown {
    item: String,
}

impl Shown {
    fn new(item_props: &Map<String, Value>, parents: &[&str]) -> Self {
        let item = if parents.is_empty() {
            "{{ item }}".to_string()
        } else {
            let names: Vec<String> = item_props.keys().map(|k| format!("'{k}'")).collect();
            format!("{{{{ item | pick([{}]) }}}}", names.join(", "))
        };
        Self { item }
    }
}

/// Counts named as totals in a list's envelope answer the count kept.
fn totals(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for (name, v) in map.iter_mut() {
                let total = matches!(
                    name.as_str(),
                    "total" | "total_count" | "total_entries" | "totalCount" | "count"
                );
                if total && v.is_number() {
                    *v = Value::from("{{ total }}");
                } else {
                    totals(v);
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(totals),
        _ => {}
    }
}

fn create_entry(
    api: &Api,
    op: &Operation,
    name: &str,
    key: &str,
    item_props: &Map<String, Value>,
    parents: &[&str],
    shown: &Shown,
) -> Result<InferredOperation, String> {
    let entry = with_set(
        rule(api, op, "create", Some(name), key, shown, None)?,
        fitting_set(api, op, item_props, parents),
    );
    Ok(InferredOperation {
        id: op.id.clone(),
        comment: format!(
            "create: POST {} stores the request's fields that fit the item, over an example the spec allows",
            op.path
        ),
        entry: json!({"rules": [entry]}),
    })
}

/// The list rule, and its pagination in words for the log.
fn list_entry(
    api: &Api,
    op: &Operation,
    name: &str,
    key: &str,
    item_props: &Map<String, Value>,
    parents: &[&str],
    shown: &Shown,
) -> Result<(Value, String), String> {
    let mut entry = rule(api, op, "list", Some(name), key, shown, Some("{{ items }}"))?;
    let query: Vec<&str> = op
        .parameters
        .iter()
        .filter(|p| p.location == crate::spec::ParameterLocation::Query)
        .map(|p| p.name.as_str())
        .collect();
    let has = |n: &str| query.contains(&n);
    let size = ["per_page", "page_size", "size", "limit"]
        .into_iter()
        .find(|n| has(n));
    let mut paging_params = Vec::new();
    let mut paging = String::new();
    if let (true, Some(size)) = (has("page"), size) {
        entry["paginate"] =
            json!({"style": "page", "page": "page", "size": size, "past_end": "empty"});
        paging = format!(" (page, {size})");
        paging_params = vec!["page", size];
    } else if let (Some(skip), true) = (
        ["offset", "skip"].into_iter().find(|n| has(n)),
        has("limit"),
    ) {
        entry["paginate"] = json!({"style": "offset", "limit": "limit", "skip": skip});
        paging = format!(" (limit, {skip})");
        paging_params = vec!["limit", skip];
    }
    let mut filters = Map::new();
    for param in &query {
        let simple = item_props.get(*param).and_then(|s| type_of(api, s));
        if !paging_params.contains(param)
            && matches!(
                simple.as_deref(),
                Some("string" | "integer" | "boolean" | "number")
            )
        {
            filters.insert(param.to_string(), json!({"field": param, "op": "eq"}));
        }
    }
    if !filters.is_empty() {
        entry["filters"] = Value::Object(filters);
    }
    if !parents.is_empty() {
        let conditions: Vec<String> = parents
            .iter()
            .map(|p| format!("item.{} == path.{p}", parent_field(p)))
            .collect();
        entry["filter"] = Value::from(conditions.join(" and "));
    }
    Ok((json!({"rules": [entry]}), paging))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collections_are_named_by_their_last_segment_then_by_their_path() {
        let mut used = std::collections::HashSet::new();
        assert_eq!(collection_name("/v2/account/keys", "keys", &used), "keys");
        used.insert("actions".to_string());
        assert_eq!(
            collection_name("/servers/{id}/actions", "actions", &used),
            "servers_actions"
        );
        used.insert("servers_actions".to_string());
        assert_eq!(
            collection_name("/v1/servers/actions", "actions", &used),
            "servers_actions_2"
        );
        assert_eq!(
            collection_name("/load-balancers", "load-balancers", &used),
            "load_balancers"
        );
    }

    #[test]
    fn django_paths_with_a_trailing_slash_are_collections_too() {
        let api = Api::from_text(
            std::path::Path::new("t.yaml"),
            r#"
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /api/things/:
    get:
      responses: {'200': {description: ok, content: {application/json: {schema: {type: array, items: {$ref: '#/components/schemas/Thing'}}}}}}
    post:
      requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/Thing'}}}}
      responses: {'201': {description: made, content: {application/json: {schema: {$ref: '#/components/schemas/Thing'}}}}}
  /api/things/{uuid}/:
    get:
      parameters: [{name: uuid, in: path, required: true, schema: {type: string}}]
      responses: {'200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Thing'}}}}}
components:
  schemas:
    Thing: {type: object, required: [uuid, name], properties: {uuid: {type: string, readOnly: true}, name: {type: string}}}
"#,
        )
        .expect("loads");
        let inference = checked(&api, "t.yaml");
        assert_eq!(inference.resources.len(), 1, "{:?}", inference.stateless);
        assert_eq!(
            inference.resources[0].summary,
            "things: POST /api/things/, GET /api/things/{uuid}/, list GET /api/things/"
        );
        assert_eq!(inference.resources[0].collection["key"], "uuid");
    }

    #[test]
    fn a_schema_made_of_itself_ends() {
        // `$ref` cycles load; reading their type must not recurse for ever.
        let api = Api::from_text(
            std::path::Path::new("t.yaml"),
            r#"
openapi: 3.0.3
info: {title: t, version: '1'}
paths:
  /loops:
    post:
      requestBody: {content: {application/json: {schema: {$ref: '#/components/schemas/Loop'}}}}
      responses: {'201': {description: made, content: {application/json: {schema: {$ref: '#/components/schemas/Thing'}}}}}
  /loops/{id}:
    get:
      parameters: [{name: id, in: path, required: true, schema: {type: string}}]
      responses: {'200': {description: ok, content: {application/json: {schema: {$ref: '#/components/schemas/Thing'}}}}}
components:
  schemas:
    Loop: {oneOf: [{$ref: '#/components/schemas/Loop'}, {type: string}]}
    Thing: {type: object, required: [id], properties: {id: {type: string}, loop: {$ref: '#/components/schemas/Loop'}}}
"#,
        )
        .expect("loads");
        let inference = checked(&api, "t.yaml");
        assert_eq!(inference.resources.len(), 1, "{:?}", inference.stateless);
    }

    #[test]
    fn singulars_name_key_fields() {
        assert_eq!(shapes::singular("projects"), "project");
        assert_eq!(shapes::singular("policies"), "policy");
        assert_eq!(shapes::singular("ssh_keys"), "ssh_key");
        assert_eq!(shapes::singular("data"), "data");
    }

    #[test]
    fn a_spec_with_no_collection_says_why_for_each_operation() {
        let api = Api::from_text(
            std::path::Path::new("t.yaml"),
            "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths:\n  /health:\n    get:\n      responses: {'200': {description: ok}}\n",
        )
        .expect("loads");
        let inference = infer(&api);
        assert!(inference.resources.is_empty());
        assert_eq!(
            inference.stateless,
            vec![(
                "GET /health".to_string(),
                "no collection path with an item path below it".to_string()
            )]
        );
        let text = render(&inference, None, "t.yaml");
        assert!(text.contains("#   GET /health: no collection path with an item path below it"));
        let fixture = Fixture::from_text(std::path::Path::new("t"), &text).expect("loads");
        assert!(fixture.model.collections.is_empty());
    }
}
