//! State from the spec alone: the resources a spec's paths describe
//! (`/servers` and `/servers/{id}`, nested ones such as
//! `/customers/{customer}/projects/{id}`), written as an ordinary fixture.
//!
//! The fixture is the one thing inference makes: `serve` and `run` load
//! it as they load a hand-written one (as JSON, the fast reader), and
//! `understudy init` writes the same entries to a file as YAML, with
//! comments saying what was inferred from which part of the spec. So a file `init` wrote behaves exactly as inference
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
//!   `pattern`) and read-only date-times set to now; a value the item's
//!   `enum` does not allow is refused by a `checks:` entry;
//! - PATCH merges (JSON Merge Patch when sent so), PUT replaces, and PUT
//!   creates under the path's key where the spec documents 201 for it or
//!   the collection has no POST;
//! - a list is paged by page, offset or cursor as its parameters say, and
//!   the envelope's page fields read `paging`;
//! - an item operation that documents no 404 answers a key never stored
//!   from the spec alone (`unknown: spec`);
//! - a singleton (`/settings`: GET and PUT or PATCH, no item path) keeps
//!   one item per session;
//! - every collection lists, under `fit`, the answers that show its items
//!   (the item's GET, the create's, PUT's, PATCH's; of several objects in
//!   an answer with the key, the one named as the item): what a write
//!   leaves outside their schemas is repaired before it is stored;
//! - an operation that fits none of this is left to the spec alone, and
//!   the start's log line says why.
//!
//! Beside a fixture, only what it leaves out is inferred (`compose`).

mod compose;
mod emit;
mod shapes;

use crate::spec::{Api, Operation};
use serde_json::{Map, Value, json};
use shapes::{
    Place, item_place, list_place, nullable, properties, request_media, success, type_of,
};
use std::collections::BTreeMap;

pub use compose::compose;
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
    /// Beside a fixture: the fixture's collection these operations work
    /// on, declared there (so `collection` is not written).
    pub joins: Option<String>,
    /// The item's properties and their schemas.
    pub item: Map<String, Value>,
    /// Whether the collection is nested (`/stores/{id}/products`).
    pub nested: bool,
}

impl Resource {
    /// `servers: POST /servers, GET/PUT/DELETE /servers/{id}, list GET
    /// /servers (page, per_page)`, for the log and the fixture's comment.
    pub fn summary(&self) -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut on_item: Vec<(&str, Vec<&str>)> = Vec::new();
        for op in &self.operations {
            match &op.part {
                Part::Create(text) => parts.push(text.clone()),
                Part::Item { method, path } => match on_item.iter_mut().find(|(p, _)| p == path) {
                    Some((_, methods)) => methods.push(method),
                    None => on_item.push((path, vec![method])),
                },
                Part::List(_) => {}
            }
        }
        for (path, methods) in on_item {
            parts.push(format!("{} {path}", methods.join("/")));
        }
        for op in &self.operations {
            if let Part::List(text) = &op.part {
                parts.push(text.clone());
            }
        }
        let owner = match &self.joins {
            Some(_) => " (the fixture's collection)",
            None => "",
        };
        format!("{}{owner}: {}", self.name, parts.join(", "))
    }
}

/// One operation's fixture entry and where it came from.
#[derive(Debug, Clone)]
pub struct InferredOperation {
    pub id: String,
    /// `create: POST /servers`, for the comment above it.
    pub comment: String,
    pub entry: Value,
    /// What it does, for the resource's summary.
    pub part: Part,
}

/// What an inferred operation does to its collection, as the log says it.
#[derive(Debug, Clone)]
pub enum Part {
    /// `POST /servers`.
    Create(String),
    /// `GET` (or `PUT (creates)`) on the item path.
    Item { method: String, path: String },
    /// `list GET /servers (page, per_page)`.
    List(String),
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
    let loaded = load_keeping(api, &mut inference, |part| load(api, name, part));
    (inference, loaded)
}

/// `load`s the whole inference; where that fails, keeps the resources
/// that load alone, leaves the others to the spec with why, and loads
/// what is kept. Shared by inference alone and inference beside a fixture.
pub(super) fn load_keeping(
    api: &Api,
    inference: &mut Inference,
    load: impl Fn(&Inference) -> Result<Fixture, String>,
) -> Result<Fixture, String> {
    if let Ok(fixture) = load(inference) {
        return Ok(fixture);
    }
    let mut kept = Vec::new();
    for resource in std::mem::take(&mut inference.resources) {
        let alone = Inference {
            resources: vec![resource.clone()],
            stateless: Vec::new(),
        };
        match load(&alone) {
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
    load(inference)
}

/// The inference's fixture, read from its text as a written one is.
fn load(api: &Api, name: &str, inference: &Inference) -> Result<Fixture, String> {
    let path = std::path::PathBuf::from(format!("(inferred from {name})"));
    let text = emit::json(inference);
    let mut fixture = Fixture::from_text(&path, &text).map_err(|e| e.to_string())?;
    fixture.bind(api).map_err(|e| e.to_string())?;
    Ok(fixture)
}

/// What the start says of an inference: a line per collection, and the
/// operations left to the spec grouped by why (a few named, the rest
/// counted, so a spec of 500 operations does not flood the log).
pub(super) fn log_lines(inference: &Inference) -> Vec<String> {
    let mut lines: Vec<String> = inference
        .resources
        .iter()
        .map(|r| format!("inferred {}", r.summary()))
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
    // A create under another resource's path into a flat collection:
    // mittwald's `POST /v2/servers/{serverId}/projects` makes a project
    // read at `/v2/projects/{projectId}`, its `serverId` from the path.
    let taken: std::collections::HashSet<String> = inference
        .resources
        .iter()
        .flat_map(|r| r.operations.iter().map(|o| o.id.clone()))
        .collect();
    for (path, ops) in &by_path {
        let Some(create) = find(ops, "POST").filter(|op| !taken.contains(&op.id)) else {
            continue;
        };
        let literal = path
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default();
        let params = path_params(path);
        if params.is_empty() || literal.starts_with('{') {
            continue;
        }
        let Some(resource) = inference.resources.iter_mut().find(|r| {
            !r.nested && r.name == collection_name(literal, literal, &Default::default())
        }) else {
            continue;
        };
        match flat_create(api, create, resource, &params) {
            Ok(op) => {
                inference
                    .stateless
                    .retain(|(n, _)| *n != format!("POST {path}"));
                resource.operations.insert(0, op);
                let key = resource.collection["key"].as_str().unwrap_or("id");
                let more = fits(api, [Some(create)], key, &shapes::singular(&resource.name));
                if let Some(Value::Array(fit)) = resource.collection.get_mut("fit") {
                    fit.extend(more);
                }
            }
            Err(why) => inference.stateless.push((format!("POST {path}"), why)),
        }
    }
    // Singletons: a path with no parameter and no item path below it,
    // whose GET answers an object that a PUT or PATCH changes (`/account`).
    // The paths with an item path right below them, found once (a spec
    // has hundreds of paths).
    let with_items: std::collections::HashSet<&str> = by_path
        .keys()
        .filter_map(|path| path.rsplit_once("/{").map(|(parent, _)| parent))
        .collect();
    for (path, ops) in &by_path {
        let trimmed = path.trim_end_matches('/');
        let literal = trimmed.rsplit('/').next().unwrap_or_default();
        let has_items = with_items.contains(trimmed);
        let changed = find(ops, "PUT").is_some() || find(ops, "PATCH").is_some();
        if path.contains('{') || literal.is_empty() || has_items || !changed {
            continue;
        }
        let Some(get) = find(ops, "GET") else {
            continue;
        };
        let name = collection_name(trimmed, literal, &used);
        match singleton(api, &name, get, ops) {
            Ok(resource) => {
                used.insert(name);
                inference.resources.push(resource);
            }
            Err(why) => {
                for op in ops {
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

/// The one item a singleton path (`/account`) keeps per session: seeded
/// from an example of its GET's answer, read by GET, replaced by PUT and
/// merged by PATCH. Its key is a field never answered.
fn singleton(
    api: &Api,
    name: &str,
    get: &Operation,
    ops: &[&Operation],
) -> Result<Resource, String> {
    const KEY: &str = "_singleton";
    let Some((status, Some(media))) = success(get) else {
        return Err(format!("GET {} answers no JSON body", get.path));
    };
    let schema = media
        .schema
        .as_ref()
        .map(|s| s.raw().clone())
        .unwrap_or_default();
    if type_of(api, &schema).as_deref() != Some("object") {
        return Err(format!("GET {} answers no object", get.path));
    }
    let Some(Value::Object(example)) = shapes::example(api, media, 7) else {
        return Err(format!(
            "no example of the answer of GET {} fits its schema",
            get.path
        ));
    };
    let (item_props, _) = properties(api, &schema);
    let mut seed = example.clone();
    seed.insert(KEY.into(), Value::from("the"));
    let collection = json!({
        "key": KEY,
        "omit": [KEY],
        "defaults": example,
        "seed": [seed],
        // PUT and PATCH answer as GET does (checked below).
        "fit": [{"operation": get.id, "at": ""}],
    });
    let target = json!({"collection": name, "id": "'the'"});
    let mut operations = vec![InferredOperation {
        id: get.id.clone(),
        comment: format!("read: GET {} answers the one item it keeps", get.path),
        entry: json!({"target": target, "rules": [{"action": "read", "status": status}]}),
        part: Part::Item {
            method: "GET".into(),
            path: get.path.clone(),
        },
    }];
    for (method, replace) in [("PUT", true), ("PATCH", false)] {
        let Some(op) = find(ops, method) else {
            continue;
        };
        // The change answers the item as GET does, or nothing.
        let Some((status, answer)) = success(op) else {
            return Err(format!("{method} {} documents no success answer", op.path));
        };
        let same = answer.is_none_or(|m| m.schema.as_ref().map(|s| s.raw()) == Some(&schema));
        if !same {
            return Err(format!(
                "{method} {} answers another shape than GET",
                op.path
            ));
        }
        let mut rule = json!({"action": "update"});
        if replace {
            rule["replace"] = Value::from(true);
        }
        if let Some(set) = fitting_set(api, op, &item_props, &[]) {
            rule["set"] = set;
        }
        rule["status"] = Value::from(status);
        operations.push(InferredOperation {
            id: op.id.clone(),
            comment: format!(
                "{}: {method} {} {} the one item",
                if replace { "replace" } else { "update" },
                op.path,
                if replace {
                    "replaces the fields of"
                } else {
                    "merges the fields of"
                }
            ),
            entry: with_value_checks(
                api,
                op,
                &item_props,
                json!({"target": target, "rules": [rule]}),
            ),
            part: Part::Item {
                method: method.into(),
                path: op.path.clone(),
            },
        });
    }
    Ok(Resource {
        name: name.to_string(),
        collection,
        operations,
        joins: None,
        item: item_props,
        nested: false,
    })
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
        // `@me` is `me`, not `_me`.
        let name = match name.trim_matches('_') {
            "" => "items_".to_string(),
            trimmed => trimmed.to_string(),
        };
        match name.starts_with(|c: char| c.is_ascii_digit()) {
            true => format!("x_{name}"),
            false => name,
        }
    };
    // A name every template sees (`items`, `session`) cannot name a collection.
    let free = |name: &String| {
        !used.contains(name)
            && !crate::behaviour::parse_model::RESERVED_NAMES.contains(&name.as_str())
    };
    let last = clean(literal);
    if free(&last) {
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
    if free(&joined) {
        return joined;
    }
    (2..)
        .map(|n| format!("{joined}_{n}"))
        .find(free)
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
            item_place(api, &shown_schema, c, &singular)
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
    // With no create but a PUT to the item, the client names every key.
    let client_names_keys = create.is_none() && put.is_some();
    if !client_names_keys {
        generate.insert(key.clone(), key_generator(api, &key_schema));
    }
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
    let fit = fits(api, [get, create, put, patch, post_item], &key, &singular);
    let mut collection = json!({
        "key": key,
        "generate": generate,
        "defaults": defaults,
        "fit": fit,
    });
    if !parents.is_empty() {
        collection["omit"] =
            Value::from(parents.iter().map(|p| parent_field(p)).collect::<Vec<_>>());
    }
    let target = |op: &Operation| target_of(op, &name, param);
    let shown = Shown::new(&item_props, &parents, singular.clone());
    let mut operations = Vec::new();
    let on_item = |method: &str, op: &Operation| Part::Item {
        method: method.to_string(),
        path: op.path.clone(),
    };
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
    }
    if let Some(op) = get {
        operations.push(InferredOperation {
            id: op.id.clone(),
            comment: format!("read: GET {}", op.path),
            entry: json!({"target": target(op), "rules": [rule(api, op, "read", None, &key, &shown, None)?]}),
            part: on_item("GET", op),
        });
    }
    if let Some(op) = put {
        let entry = put_entry(
            api,
            op,
            &name,
            param,
            &key,
            &item_props,
            &parents,
            &shown,
            create.is_none(),
        )?;
        let creates = entry
            .get("rules")
            .and_then(Value::as_array)
            .is_some_and(|r| r.len() > 1);
        operations.push(InferredOperation {
            id: op.id.clone(),
            comment: match creates {
                true => format!(
                    "replace or create: PUT {} replaces the fields of the item it names, or creates it with that key",
                    op.path
                ),
                false => format!("replace: PUT {} replaces the fields of the item it names", op.path),
            },
            entry,
            part: on_item(if creates { "PUT (creates)" } else { "PUT" }, op),
        });
    }
    for op in [patch, post_item].into_iter().flatten() {
        let set = fitting_set(api, op, &item_props, &[]);
        let entry = with_set(rule(api, op, "update", None, &key, &shown, None)?, set);
        let merge_patch = op.request_body.as_ref().is_some_and(|body| {
            body.media
                .iter()
                .any(|m| m.name.eq_ignore_ascii_case("application/merge-patch+json"))
        });
        operations.push(InferredOperation {
            id: op.id.clone(),
            comment: format!(
                "update: {} {} merges the fields of the item it names{}",
                op.method,
                op.path,
                if merge_patch {
                    " (sent as application/merge-patch+json, `null` removes a field)"
                } else {
                    ""
                }
            ),
            entry: with_value_checks(
                api,
                op,
                &item_props,
                json!({"target": target(op), "rules": [entry]}),
            ),
            part: on_item(op.method.as_str(), op),
        });
    }
    if let Some(op) = delete {
        operations.push(InferredOperation {
            id: op.id.clone(),
            comment: format!("delete: DELETE {}; a later read gets the spec's 404", op.path),
            entry: json!({"target": target(op), "rules": [rule(api, op, "delete", None, &key, &shown, None)?]}),
            part: on_item("DELETE", op),
        });
    }
    if let Some(op) = list {
        let (entry, paging) = list_entry(api, op, &name, &key, &item_props, &parents, &shown)?;
        operations.push(InferredOperation {
            id: op.id.clone(),
            comment: format!("list: GET {}{paging}", op.path),
            entry,
            part: Part::List(format!("list GET {}{paging}", op.path)),
        });
    }
    Ok(Resource {
        name,
        collection,
        operations,
        joins: None,
        nested: !parents.is_empty(),
        item: item_props,
    })
}

/// The item an operation on `/things/{param}` works on. Where the spec
/// documents no 404 (nor `default`) for it, a key never stored is
/// answered from the spec alone (`unknown: spec`): the spec's own
/// examples then keep getting answers it allows.
fn target_of(op: &Operation, name: &str, param: &str) -> Value {
    let mut target = json!({"collection": name, "id": format!("path.{param}")});
    let documents_not_found = op.responses.iter().any(|r| {
        matches!(
            r.status,
            crate::spec::StatusKey::Code(404) | crate::spec::StatusKey::Default
        ) || (matches!(r.status, crate::spec::StatusKey::Range(_)) && r.status.covers(404))
    });
    if !documents_not_found {
        target["unknown"] = Value::from("spec");
    }
    target
}

/// PUT on an item: it replaces the item's fields (the server's own stay,
/// defaults fill the rest). It also creates the item under the path's key
/// where the spec says so: it documents 201, or the collection has no
/// other create.
#[allow(clippy::too_many_arguments)]
fn put_entry(
    api: &Api,
    op: &Operation,
    name: &str,
    param: &str,
    key: &str,
    item_props: &Map<String, Value>,
    parents: &[&str],
    shown: &Shown,
    no_other_create: bool,
) -> Result<Value, String> {
    let target = target_of(op, name, param);
    let replace = with_set(
        rule(api, op, "update", None, key, shown, None)?,
        fitting_set(api, op, item_props, &[]),
    );
    let mut replace = after_action(replace, "replace", Value::from(true));
    let documents_201 = op
        .responses
        .iter()
        .any(|r| matches!(r.status, crate::spec::StatusKey::Code(201)));
    if !(documents_201 || no_other_create) {
        let entry = json!({"target": target, "rules": [replace]});
        return Ok(with_value_checks(api, op, item_props, entry));
    }
    let create = with_set(
        rule(api, op, "create", Some(name), key, shown, None)?,
        fitting_set(api, op, item_props, parents),
    );
    let mut create = after_action(create, "id", Value::from(format!("path.{param}")));
    if documents_201 {
        create["status"] = Value::from(201);
        // The replace answers the lowest other 2xx, where there is one.
        let other = op.responses.iter().find_map(|r| match r.status {
            crate::spec::StatusKey::Code(code) if (200..300).contains(&code) && code != 201 => {
                Some(code)
            }
            _ => None,
        });
        if let Some(code) = other {
            replace["status"] = Value::from(code);
        }
    }
    let mut target = target;
    target["required"] = Value::from(false);
    let mut when = Map::new();
    when.insert("when".into(), Value::from("item"));
    if let Value::Object(rest) = replace {
        when.extend(rest);
    }
    let entry = json!({"target": target, "rules": [Value::Object(when), create]});
    Ok(with_value_checks(api, op, item_props, entry))
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

/// The request body's fields (from the body or its envelope, as
/// `{server: {…}}` wraps them) whose type matches the item's field of the
/// same name (`{name: "x"}` fits, `server_type: "cx11"` does not fit an
/// object), with the expression that reads them.
fn fitting_fields(
    api: &Api,
    op: &Operation,
    item_props: &Map<String, Value>,
) -> Option<(String, Vec<(String, Value)>)> {
    let media = request_media(op)?;
    let schema = media.schema.as_ref()?.raw();
    let (mut body_props, _) = properties(api, schema);
    let mut source = "(body or {})".to_string();
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
    let fitting = body_props
        .into_iter()
        .filter(|(name, schema)| {
            item_props
                .get(name)
                .is_some_and(|item| type_of(api, item) == type_of(api, schema))
        })
        .collect();
    Some((source, fitting))
}

/// `set:` for a create or update: the [`fitting_fields`], with the
/// parents' keys of a nested item. `None`: the body as it is.
fn fitting_set(
    api: &Api,
    op: &Operation,
    item_props: &Map<String, Value>,
    parents: &[&str],
) -> Option<Value> {
    let from_path: Vec<(String, &str)> = parents.iter().map(|p| (parent_field(p), *p)).collect();
    fitting_set_with(api, op, item_props, &from_path)
}

/// [`fitting_set`], with `(field, path parameter)` pairs written from the
/// path.
fn fitting_set_with(
    api: &Api,
    op: &Operation,
    item_props: &Map<String, Value>,
    from_path: &[(String, &str)],
) -> Option<Value> {
    let (source, fitting) = match fitting_fields(api, op, item_props) {
        Some(found) => found,
        // No body the spec describes: only what the path says.
        None if !from_path.is_empty() => ("{}".to_string(), Vec::new()),
        None => return None,
    };
    let names: Vec<String> = fitting.iter().map(|(n, _)| format!("'{n}'")).collect();
    let mut text = format!("{source} | pick([{}])", names.join(", "));
    if !from_path.is_empty() {
        let fields: Vec<String> = from_path
            .iter()
            .map(|(field, param)| format!("'{field}': path.{param}"))
            .collect();
        text = format!("{text} | merge({{{}}})", fields.join(", "));
    }
    Some(Value::from(format!("{{{{ {text} }}}}")))
}

/// `entry` with `checks:` refusing a fitting field whose value the item
/// cannot hold: the request allows any string for `kind`, the item only
/// `cat` or `dog`. Stored, `bird` would break every later answer; refused,
/// it gets the API's validation error, as a real server refuses it.
fn with_value_checks(
    api: &Api,
    op: &Operation,
    item_props: &Map<String, Value>,
    entry: Value,
) -> Value {
    let Some((source, fitting)) = fitting_fields(api, op, item_props) else {
        return entry;
    };
    let checks: Vec<Value> = fitting
        .iter()
        .filter_map(|(name, schema)| {
            let kept = shapes::enum_values(api, item_props.get(name)?)?;
            if shapes::values_fit(api, schema, item_props.get(name)?) {
                return None;
            }
            let listed: Vec<String> = kept.iter().map(Value::to_string).collect();
            let shown: Vec<String> = kept
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect();
            let value = format!("{source}.{name}");
            Some(json!({
                "field": name,
                "when": format!(
                    "{value} is defined and {value} is not none and {value} not in [{}]",
                    listed.join(", ")
                ),
                "message": format!("must be one of: {}", shown.join(", ")),
            }))
        })
        .collect();
    let (Value::Object(map), false) = (&entry, checks.is_empty()) else {
        return entry;
    };
    let mut ordered = Map::new();
    for (k, v) in map {
        if k == "rules" {
            ordered.insert("checks".into(), Value::Array(checks.clone()));
        }
        ordered.insert(k.clone(), v.clone());
    }
    Value::Object(ordered)
}

/// The collection's `fit:`: each of `ops` whose success answer shows an
/// item (bare, or under a property), and where. An item is held to all of
/// them: a create's answer may allow less than the read's (Discord
/// answers a new webhook as `type: 1` only) or require more (OpenAI's
/// admin key shows its `value` once, on create).
fn fits<'o>(
    api: &Api,
    ops: impl IntoIterator<Item = Option<&'o Operation>>,
    key: &str,
    singular: &str,
) -> Vec<Value> {
    let mut fits = Vec::new();
    for op in ops.into_iter().flatten() {
        let Some((_, Some(media))) = success(op) else {
            continue;
        };
        let Some(schema) = media.schema.as_ref().map(|s| s.raw()) else {
            continue;
        };
        let at = match item_place(api, schema, key, singular) {
            Some(Place::Bare) => String::new(),
            Some(Place::Under(env)) => format!("/{}", crate::source::reader::escape(&env)),
            None => continue,
        };
        fits.push(json!({"operation": op.id, "at": at}));
    }
    fits
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
    // Made only for an answer that is more than the item (an example is a
    // schema compiled and values generated until one fits).
    let example = || shapes::example(api, media, 11);
    let body = match items {
        Some(items) => match list_place(api, &schema, key) {
            Some(Place::Bare) => None,
            Some(Place::Under(env)) => {
                let mut body = example().unwrap_or_else(|| json!({}));
                body[&env] = Value::from(items);
                Some(body)
            }
            None => {
                return Err(format!(
                    "the answer of {} {} holds no list of the items",
                    op.method, op.path
                ));
            }
        },
        None => match item_place(api, &schema, key, &shown.singular) {
            Some(Place::Bare) if action != "delete" => None,
            Some(Place::Under(env)) if action != "delete" => {
                let mut body = example().unwrap_or_else(|| json!({}));
                let held = properties(api, &schema).0.get(&env).cloned();
                let props = held.map(|h| properties(api, &h).0).unwrap_or_default();
                body[&env] = Value::from(shown.under(&props));
                Some(body)
            }
            // An answer without the item (an action, a receipt): as the
            // spec's example, naming the item where it has the key
            // (Stripe's `{"deleted": true, "id": …}`).
            _ => {
                let mut body = example().ok_or_else(|| {
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

/// `rule` with `name: value` just after its `action` (and `collection`),
/// where a reader looks for how the action works.
fn after_action(rule: Value, name: &str, value: Value) -> Value {
    let Value::Object(rule) = rule else {
        return rule;
    };
    let mut ordered = Map::new();
    let mut placed = false;
    for (k, v) in rule {
        let past = !matches!(k.as_str(), "when" | "action" | "collection");
        if past && !placed {
            ordered.insert(name.into(), value.clone());
            placed = true;
        }
        ordered.insert(k, v);
    }
    if !placed {
        ordered.insert(name.into(), value);
    }
    Value::Object(ordered)
}

/// How an item is written into an answer's envelope: `{{ item }}`, or
/// for a nested item only the item's own fields (not its parent's key).
struct Shown {
    item: String,
    /// Whether the item is shown picked (it has fields from the path that
    /// no answer shows).
    picked: bool,
    /// The collection's item (`role` of `roles`): of several objects in
    /// an answer with the key, the one so named is the item.
    singular: String,
}

impl Shown {
    fn new(item_props: &Map<String, Value>, parents: &[&str], singular: String) -> Self {
        let picked = !parents.is_empty();
        Self {
            item: Self::picking(picked, item_props),
            picked,
            singular,
        }
    }

    /// The item as an answer shows it under a property whose object has
    /// `props`: picked by them where the item is picked at all, so that
    /// what that answer shows beyond the read's fields is shown too.
    fn under(&self, props: &Map<String, Value>) -> String {
        if props.is_empty() {
            return self.item.clone();
        }
        Self::picking(self.picked, props)
    }

    fn picking(picked: bool, props: &Map<String, Value>) -> String {
        if !picked {
            return "{{ item }}".to_string();
        }
        let names: Vec<String> = props.keys().map(|k| format!("'{k}'")).collect();
        format!("{{{{ item | pick([{}]) }}}}", names.join(", "))
    }
}

/// How a list is paged, as inference recognised it from the parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Paging {
    None,
    Page,
    Offset,
    Cursor,
}

/// The list envelope's own fields (`{items: […], meta: {…}}` past the
/// items) written from the list: counts named as totals are the count
/// kept, and where the list is paged, the fields that say where the page
/// stands (`has_more`, `next_page`, `next_cursor`, …) read `paging`. A
/// field that can say "no next page" only with `null` is set only where
/// its schema allows `null`.
fn envelope_fields(api: &Api, schema: &Value, value: &mut Value, paging: Paging, depth: usize) {
    let Value::Object(map) = value else {
        return;
    };
    if depth > 8 {
        return;
    }
    let (props, _) = properties(api, schema);
    for (name, v) in map.iter_mut() {
        let property = props.get(name).cloned().unwrap_or_default();
        let kind = type_of(api, &property);
        let null_ok = nullable(api, &property);
        let set: Option<&str> = match (name.as_str(), kind.as_deref(), paging) {
            ("total" | "total_count" | "total_entries" | "totalCount" | "count", _, _)
                if v.is_number() =>
            {
                Some("{{ total }}")
            }
            ("has_more" | "hasMore", Some("boolean"), p) if p != Paging::None => {
                Some("{{ paging.has_more }}")
            }
            ("page" | "current_page" | "currentPage", Some("integer"), Paging::Page) => {
                Some("{{ paging.page }}")
            }
            ("per_page" | "page_size" | "perPage" | "pageSize", Some("integer"), Paging::Page) => {
                Some("{{ paging.size }}")
            }
            (
                "last_page" | "lastPage" | "total_pages" | "totalPages" | "pages",
                Some("integer"),
                Paging::Page,
            ) => Some("{{ paging.pages }}"),
            ("next_page" | "nextPage", Some("integer"), Paging::Page) if null_ok => {
                Some("{{ paging.next_page }}")
            }
            ("previous_page" | "prev_page" | "previousPage", Some("integer"), Paging::Page)
                if null_ok =>
            {
                Some("{{ paging.previous_page }}")
            }
            ("offset", Some("integer"), Paging::Offset) => Some("{{ paging.offset }}"),
            (
                "next_cursor" | "nextCursor" | "next_page_token" | "nextPageToken" | "next_token"
                | "nextToken",
                Some("string"),
                Paging::Cursor,
            ) => Some(match null_ok {
                true => "{{ paging.next_cursor }}",
                false => "{{ paging.next_cursor or '' }}",
            }),
            _ => None,
        };
        match set {
            Some(template) => *v = Value::from(template),
            None => envelope_fields(api, &property, v, paging, depth + 1),
        }
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
        entry: with_value_checks(api, op, item_props, json!({"rules": [entry]})),
        part: Part::Create(format!("POST {}", op.path)),
    })
}

/// A create at a nested path into `resource`'s flat collection: the
/// path's parameters that name item fields (`serverId`) are written from
/// the path. Only where every parameter names one, so the item says
/// where it was made.
fn flat_create(
    api: &Api,
    op: &Operation,
    resource: &Resource,
    params: &[&str],
) -> Result<InferredOperation, String> {
    if let Some(missing) = params.iter().find(|p| !resource.item.contains_key(**p)) {
        return Err(format!(
            "creates {} under `{missing}`, which no field of the item names",
            resource.name
        ));
    }
    let key = resource
        .collection
        .get("key")
        .and_then(Value::as_str)
        .unwrap_or("id");
    let from_path: Vec<(String, &str)> = params.iter().map(|p| (p.to_string(), *p)).collect();
    let shown = Shown::new(&resource.item, &[], shapes::singular(&resource.name));
    let entry = with_set(
        rule(api, op, "create", Some(&resource.name), key, &shown, None)?,
        fitting_set_with(api, op, &resource.item, &from_path),
    );
    Ok(InferredOperation {
        id: op.id.clone(),
        comment: format!(
            "create: POST {} stores the request's fields that fit the item, and {} from the path",
            op.path,
            params.join(", ")
        ),
        entry: with_value_checks(api, op, &resource.item, json!({"rules": [entry]})),
        part: Part::Create(format!("POST {}", op.path)),
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
    let size = ["per_page", "page_size", "pageSize", "size", "limit"]
        .into_iter()
        .find(|n| has(n));
    let mut paging_params = Vec::new();
    let mut paging = String::new();
    let mut style = Paging::None;
    let cursor = [
        "starting_after",
        "after",
        "cursor",
        "page_token",
        "pageToken",
        "next_token",
    ]
    .into_iter()
    .find(|n| has(n));
    if let (true, Some(size)) = (has("page"), size) {
        entry["paginate"] =
            json!({"style": "page", "page": "page", "size": size, "past_end": "empty"});
        paging = format!(" (page, {size})");
        paging_params = vec!["page", size];
        style = Paging::Page;
    } else if let (Some(skip), true) = (
        ["offset", "skip"].into_iter().find(|n| has(n)),
        has("limit"),
    ) {
        entry["paginate"] = json!({"style": "offset", "limit": "limit", "skip": skip});
        paging = format!(" (limit, {skip})");
        paging_params = vec!["limit", skip];
        style = Paging::Offset;
    } else if let (Some(cursor), Some(size)) = (cursor, size) {
        entry["paginate"] = json!({"style": "cursor", "cursor": cursor, "limit": size});
        paging = format!(" (cursor {cursor}, {size})");
        paging_params = vec![cursor, size];
        style = Paging::Cursor;
    }
    // A total the list's answer documents as a header (mittwald's
    // `X-Pagination-TotalCount`) is the count kept.
    let count_header = crate::contract::success_response(op).and_then(|r| {
        r.headers
            .iter()
            .find(|h| h.name.to_ascii_lowercase().contains("total"))
            .map(|h| h.name.clone())
    });
    if let (Some(header), Some(Value::Object(paginate))) = (count_header, entry.get_mut("paginate"))
        && matches!(
            paginate.get("style").and_then(Value::as_str),
            Some("page" | "offset")
        )
    {
        paginate.insert("count_header".into(), Value::from(header));
    }
    if let (Some(body), Some((_, Some(media)))) = (entry.get_mut("body"), success(op))
        && let Some(schema) = &media.schema
    {
        envelope_fields(api, schema.raw(), body, style, 0);
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
        assert_eq!(collection_name("/users/@me", "@me", &used), "me");
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
            inference.resources[0].summary(),
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
