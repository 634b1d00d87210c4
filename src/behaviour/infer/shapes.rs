//! What inference reads off a spec's schemas: the object a schema
//! describes (through `$ref`, `allOf` and the branches of `oneOf`/`anyOf`),
//! its properties and their types, an envelope around an item, the
//! property that names an item, and a valid example of any schema.

use crate::generate::{Attempt, Patterns, generate};
use crate::spec::operation::MediaType;
use crate::spec::{Api, Direction, Operation};
use serde_json::{Map, Value};

/// The request body's media type with a schema: JSON, else a form
/// (Stripe's), whose fields the mock reads into the same JSON shape.
pub fn request_media(operation: &Operation) -> Option<&MediaType> {
    let media = &operation.request_body.as_ref()?.media;
    crate::contract::media::json_with_schema(media).or_else(|| {
        media.iter().find(|m| {
            m.schema.is_some()
                && matches!(
                    m.name.as_str(),
                    "application/x-www-form-urlencoded" | "multipart/form-data"
                )
        })
    })
}

/// The lowest documented 2xx and its JSON media type (`None` for a body
/// the spec does not describe).
pub fn success(operation: &Operation) -> Option<(u16, Option<&MediaType>)> {
    let response = crate::contract::success_response(operation)?;
    match response.status {
        crate::spec::StatusKey::Code(code) => Some((
            code,
            crate::contract::media::json_with_schema(&response.media),
        )),
        _ => None,
    }
}

/// The properties of the object `schema` describes, merged through
/// `$ref`, `allOf`, and every branch of `oneOf`/`anyOf` (a field of any
/// branch is a field the object may have), with the names it requires.
pub fn properties(api: &Api, schema: &Value) -> (Map<String, Value>, Vec<String>) {
    let mut found = Map::new();
    let mut required = Vec::new();
    collect(api, schema, &mut found, &mut required, 0);
    (found, required)
}

fn collect(
    api: &Api,
    schema: &Value,
    found: &mut Map<String, Value>,
    required: &mut Vec<String>,
    depth: usize,
) {
    if depth > 16 {
        return;
    }
    let Some(schema) = api.deref(schema) else {
        return;
    };
    if let Some(Value::Object(props)) = schema.get("properties") {
        for (name, property) in props {
            found
                .entry(name.clone())
                .or_insert_with(|| property.clone());
        }
    }
    if let Some(Value::Array(names)) = schema.get("required") {
        for name in names.iter().filter_map(Value::as_str) {
            if !required.iter().any(|r| r == name) {
                required.push(name.to_string());
            }
        }
    }
    for key in ["allOf", "oneOf", "anyOf"] {
        if let Some(Value::Array(parts)) = schema.get(key) {
            for part in parts {
                // Only `allOf` makes every branch's requirements the object's.
                let mut ignored = Vec::new();
                let into = if key == "allOf" {
                    &mut *required
                } else {
                    &mut ignored
                };
                collect(api, part, found, into, depth + 1);
            }
        }
    }
}

/// The JSON type a property's schema names (`string`, `integer`, …), with
/// `$ref`s followed and a nullable type list read for its first non-null.
pub fn type_of(api: &Api, schema: &Value) -> Option<String> {
    type_at(api, schema, 0)
}

/// [`type_of`] `depth` compositions down: a schema that is `allOf` itself
/// (cycles through `$ref` load) stops at the bound instead of recursing.
fn type_at(api: &Api, schema: &Value, depth: usize) -> Option<String> {
    if depth > 16 {
        return None;
    }
    let schema = api.deref(schema)?;
    match schema.get("type") {
        Some(Value::String(t)) => Some(t.clone()),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null")
            .map(String::from),
        _ if schema.get("properties").is_some() => Some("object".into()),
        _ => {
            for key in ["allOf", "oneOf", "anyOf"] {
                if let Some(Value::Array(parts)) = schema.get(key)
                    && let Some(t) = parts.iter().find_map(|p| type_at(api, p, depth + 1))
                {
                    return Some(t);
                }
            }
            None
        }
    }
}

/// Whether the property's schema says the server owns it.
pub fn read_only(api: &Api, schema: &Value) -> bool {
    api.deref(schema)
        .and_then(|s| s.get("readOnly"))
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

/// The values a property's schema lists in `enum`.
pub fn enum_values(api: &Api, schema: &Value) -> Option<Vec<Value>> {
    api.deref(schema)?.get("enum")?.as_array().cloned()
}

/// Whether every value the request's property allows is one the item's
/// allows, as far as their `enum`s say: a request that may send `purple`
/// can give an item whose `color` is one of `red`, `green`, `blue` a value
/// it cannot hold.
pub fn values_fit(api: &Api, request: &Value, item: &Value) -> bool {
    match (enum_values(api, request), enum_values(api, item)) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(sent), Some(kept)) => sent.iter().all(|v| v.is_null() || kept.contains(v)),
    }
}

/// Whether the property's schema allows `null` (`nullable: true`, a type
/// list with `null`, or a `oneOf`/`anyOf` branch of type `null`).
pub fn nullable(api: &Api, schema: &Value) -> bool {
    let Some(schema) = api.deref(schema) else {
        return false;
    };
    if schema.get("nullable").and_then(Value::as_bool) == Some(true) {
        return true;
    }
    if let Some(Value::Array(types)) = schema.get("type") {
        return types.iter().any(|t| t == "null");
    }
    ["oneOf", "anyOf"].iter().any(|key| {
        schema
            .get(*key)
            .and_then(Value::as_array)
            .is_some_and(|parts| {
                parts.iter().any(|p| {
                    api.deref(p)
                        .and_then(|p| p.get("type"))
                        .is_some_and(|t| t == "null")
                })
            })
    })
}

/// The `format` a property's schema names.
pub fn format_of<'a>(api: &'a Api, schema: &'a Value) -> Option<&'a str> {
    api.deref(schema)?.get("format")?.as_str()
}

/// Where an item sits in an answer: the answer itself, or one property
/// of it (`{server: {…}}`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Place {
    Bare,
    Under(String),
}

/// Where the item with property `id` sits in the answer `schema`. Of
/// several objects with that property, the one named `singular` (the
/// collection's item: OpenAI answers a role assignment as `{group: …,
/// role: …}`, both with an `id`), else the first.
pub fn item_place(api: &Api, schema: &Value, id: &str, singular: &str) -> Option<Place> {
    let (props, _) = properties(api, schema);
    if props.contains_key(id) {
        return Some(Place::Bare);
    }
    let mut holding = props.iter().filter_map(|(name, property)| {
        let (inner, _) = properties(api, property);
        (type_of(api, property).as_deref() == Some("object") && inner.contains_key(id))
            .then_some(name)
    });
    let first = holding.next()?;
    let named = if first == singular {
        first
    } else {
        holding.find(|name| *name == singular).unwrap_or(first)
    };
    Some(Place::Under(named.clone()))
}

/// The property of an array of items with property `id` in the list
/// answer `schema`: `None` for a bare array, `Some(name)` for an envelope
/// such as `{servers: […], meta: …}`.
pub fn list_place(api: &Api, schema: &Value, id: &str) -> Option<Place> {
    let is_items = |schema: &Value| {
        let schema = api.deref(schema)?;
        (type_of(api, schema).as_deref() == Some("array"))
            .then(|| schema.get("items"))
            .flatten()
            .map(|items| properties(api, items).0.contains_key(id))
    };
    if is_items(schema) == Some(true) {
        return Some(Place::Bare);
    }
    let (props, _) = properties(api, schema);
    props
        .iter()
        .find(|(_, property)| is_items(property) == Some(true))
        .map(|(name, _)| Place::Under(name.clone()))
}

/// A valid example of `media`'s schema, as the mock would answer it.
pub fn example(api: &Api, media: &MediaType, seed: u64) -> Option<Value> {
    let slot = media.schema.as_ref()?;
    let compiled = api.compiled(slot).ok()?;
    let fits = |v: &Value| compiled.is_valid(v);
    if let Some(v) = media.example.as_ref().filter(|v| fits(v)) {
        return Some(v.clone());
    }
    let patterns = Patterns::default();
    Attempt::sequence(seed).find_map(|attempt| {
        let value = generate(
            compiled.document(),
            compiled.schema(),
            &patterns,
            Direction::Response,
            attempt,
        );
        fits(&value).then_some(value)
    })
}

/// `projects` → `project`, `policies` → `policy`, for property names
/// such as `project_id`.
pub fn singular(name: &str) -> String {
    match name.strip_suffix("ies") {
        Some(stem) if !stem.is_empty() => format!("{stem}y"),
        _ => name.strip_suffix('s').unwrap_or(name).to_string(),
    }
}
