//! OpenAPI schema dialects into plain JSON Schema 2020-12.
//!
//! OpenAPI 3.1 schemas already are JSON Schema 2020-12. OpenAPI 3.0 uses a
//! variant: `nullable`, boolean `exclusiveMinimum`/`exclusiveMaximum` and a
//! single `example`. Both versions give `readOnly` and `writeOnly` a meaning
//! for `required` that plain JSON Schema does not: a read-only property is
//! required only in responses, a write-only one only in requests. This
//! module rewrites one schema (never the whole spec) for one direction.

use super::refs::deref;
use serde_json::{Map, Value};

/// Which OpenAPI schema dialect a document is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// OpenAPI 3.0.x: the 3.0 "extended subset" of JSON Schema draft 4/5.
    OpenApi30,
    /// OpenAPI 3.1.x: JSON Schema 2020-12.
    OpenApi31,
}

/// Whether a schema describes what a client sends or what a server answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    Request,
    Response,
}

/// Rewrites `schema` in place; `root` is the bundled spec, used to see
/// through `$ref` when a property's `readOnly` lives in a referenced schema.
pub fn normalize(schema: &mut Value, root: &Value, dialect: Dialect, direction: Direction) {
    let Value::Object(map) = schema else { return };
    if dialect == Dialect::OpenApi30 {
        normalize_30_keywords(map);
    }
    drop_unknown_types(map);
    dedup_required(map);
    close_all_of_leniently(map, root);
    drop_direction_required(map, root, direction);
    for (key, child) in map.iter_mut() {
        match key.as_str() {
            "properties" | "patternProperties" | "$defs" | "definitions" | "dependentSchemas" => {
                if let Value::Object(children) = child {
                    for grandchild in children.values_mut() {
                        normalize(grandchild, root, dialect, direction);
                    }
                }
            }
            "allOf" | "anyOf" | "oneOf" | "prefixItems" => {
                if let Value::Array(children) = child {
                    for grandchild in children {
                        normalize(grandchild, root, dialect, direction);
                    }
                }
            }
            "items" => match child {
                Value::Array(children) => {
                    for grandchild in children {
                        normalize(grandchild, root, dialect, direction);
                    }
                }
                other => normalize(other, root, dialect, direction),
            },
            "additionalProperties"
            | "additionalItems"
            | "not"
            | "if"
            | "then"
            | "else"
            | "contains"
            | "propertyNames"
            | "unevaluatedProperties"
            | "unevaluatedItems"
            | "contentSchema" => normalize(child, root, dialect, direction),
            _ => {}
        }
    }
}

fn normalize_30_keywords(map: &mut Map<String, Value>) {
    for (bound, exclusive) in [
        ("minimum", "exclusiveMinimum"),
        ("maximum", "exclusiveMaximum"),
    ] {
        match map.get(exclusive) {
            Some(Value::Bool(true)) => match map.remove(bound) {
                Some(limit) => {
                    map.insert(exclusive.to_string(), limit);
                }
                None => {
                    map.remove(exclusive);
                }
            },
            Some(Value::Bool(false)) => {
                map.remove(exclusive);
            }
            _ => {}
        }
    }
    if let Some(example) = map.remove("example") {
        map.entry("examples")
            .or_insert_with(|| Value::Array(vec![example]));
    }
    if map.remove("nullable") == Some(Value::Bool(true)) {
        make_nullable(map);
    }
}

/// `nullable: true` adds `null` to the allowed types (and to an `enum`);
/// without a `type` it wraps the schema in `anyOf [schema, null]`.
fn make_nullable(map: &mut Map<String, Value>) {
    match map.get_mut("type") {
        Some(Value::String(t)) => {
            let t = std::mem::take(t);
            map.insert(
                "type".into(),
                Value::Array(vec![Value::String(t), "null".into()]),
            );
        }
        Some(Value::Array(types)) => {
            if !types.iter().any(|t| t == "null") {
                types.push("null".into());
            }
        }
        _ => {
            let inner = std::mem::take(map);
            let (annotations, rest): (Map<String, Value>, Map<String, Value>) =
                inner.into_iter().partition(|(k, _)| is_annotation(k));
            *map = annotations;
            map.insert(
                "anyOf".into(),
                Value::Array(vec![
                    Value::Object(rest),
                    serde_json::json!({"type": "null"}),
                ]),
            );
            return;
        }
    }
    if let Some(Value::Array(options)) = map.get_mut("enum")
        && !options.iter().any(Value::is_null)
    {
        options.push(Value::Null);
    }
}

/// Real specs contain `type: unknown` and the like, which no validator
/// accepts. Such a name constrains nothing the author could have meant, so
/// it is dropped rather than failing the whole operation.
/// A common defect read as its author meant it: `additionalProperties:
/// false` in one part of an `allOf` whose other parts define properties.
/// Read literally, each part sees the others' properties as additional and
/// no object can pass; the author meant "no properties beyond all the
/// parts'", which JSON Schema 2020-12 says as `unevaluatedProperties: false`
/// over the whole `allOf`. That is what the part's closing becomes.
/// [`all_of_closed_too_early`] finds these for the load-time warning.
fn close_all_of_leniently(map: &mut Map<String, Value>, root: &Value) {
    let Some(Value::Array(parts)) = map.get("allOf") else {
        return;
    };
    let early = all_of_closed_too_early(root, parts);
    if early.is_empty() {
        return;
    }
    let Some(Value::Array(parts)) = map.get_mut("allOf") else {
        return;
    };
    for index in early {
        let part = &mut parts[index];
        let mut open = deref(root, part).cloned().unwrap_or_else(|| part.clone());
        if let Value::Object(inner) = &mut open {
            inner.remove("additionalProperties");
        }
        *part = open;
    }
    map.insert("unevaluatedProperties".into(), Value::Bool(false));
}

/// The parts of an `allOf` that say `additionalProperties: false` while
/// another part defines properties they do not list.
pub fn all_of_closed_too_early(root: &Value, parts: &[Value]) -> Vec<usize> {
    let resolved: Vec<&Value> = parts.iter().map(|p| deref(root, p).unwrap_or(p)).collect();
    let names = |schema: &Value| -> Vec<String> {
        schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    };
    resolved
        .iter()
        .enumerate()
        .filter(|(_, part)| part.get("additionalProperties") == Some(&Value::Bool(false)))
        .filter(|(i, part)| {
            let own = names(part);
            resolved
                .iter()
                .enumerate()
                .filter(|(j, _)| j != i)
                .flat_map(|(_, other)| names(other))
                .any(|name| !own.contains(&name))
        })
        .map(|(i, _)| i)
        .collect()
}

/// `required: [id, name, id]` (in OpenAI's spec) names each property once
/// in meaning; JSON Schema's meta-schema refuses the repeat, so it is
/// dropped rather than failing the schema.
fn dedup_required(map: &mut Map<String, Value>) {
    if let Some(Value::Array(names)) = map.get_mut("required") {
        let mut seen = std::collections::HashSet::new();
        names.retain(|name| seen.insert(name.to_string()));
    }
}

fn drop_unknown_types(map: &mut Map<String, Value>) {
    const KNOWN: [&str; 7] = [
        "string", "integer", "number", "boolean", "object", "array", "null",
    ];
    match map.get_mut("type") {
        Some(Value::String(t)) if !KNOWN.contains(&t.as_str()) => {
            map.remove("type");
        }
        Some(Value::Array(types)) => {
            types.retain(|t| t.as_str().is_some_and(|t| KNOWN.contains(&t)));
            if types.is_empty() {
                map.remove("type");
            }
        }
        _ => {}
    }
}

fn is_annotation(key: &str) -> bool {
    matches!(
        key,
        "title" | "description" | "readOnly" | "writeOnly" | "deprecated" | "examples" | "default"
    ) || key.starts_with("x-")
}

/// Removes from `required` the properties that do not travel in `direction`.
fn drop_direction_required(map: &mut Map<String, Value>, root: &Value, direction: Direction) {
    let skip_flag = match direction {
        Direction::Request => "readOnly",
        Direction::Response => "writeOnly",
    };
    let Some(Value::Object(properties)) = map.get("properties") else {
        return;
    };
    let hidden: Vec<String> = properties
        .iter()
        .filter(|(_, schema)| has_flag(root, schema, skip_flag))
        .map(|(name, _)| name.clone())
        .collect();
    if hidden.is_empty() {
        return;
    }
    if let Some(Value::Array(required)) = map.get_mut("required") {
        required.retain(|name| !hidden.iter().any(|h| name == h.as_str()));
    }
}

/// Whether `schema` (or a schema it references or is made of with `allOf`) sets `flag: true`.
pub fn has_flag(root: &Value, schema: &Value, flag: &str) -> bool {
    if schema.get(flag) == Some(&Value::Bool(true)) {
        return true;
    }
    if schema.get("$ref").is_some()
        && let Some(target) = deref(root, schema)
        && target.get(flag) == Some(&Value::Bool(true))
    {
        return true;
    }
    match schema.get("allOf") {
        Some(Value::Array(parts)) => parts
            .iter()
            .any(|p| deref(root, p).is_some_and(|p| p.get(flag) == Some(&Value::Bool(true)))),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn norm(schema: Value, direction: Direction) -> Value {
        let mut s = schema;
        normalize(&mut s, &json!({}), Dialect::OpenApi30, direction);
        s
    }

    #[test]
    fn nullable_with_type_adds_null() {
        assert_eq!(
            norm(
                json!({"type": "string", "nullable": true, "enum": ["a"]}),
                Direction::Response
            ),
            json!({"type": ["string", "null"], "enum": ["a", null]})
        );
    }

    #[test]
    fn nullable_without_type_wraps() {
        assert_eq!(
            norm(
                json!({"allOf": [{"$ref": "#/x"}], "nullable": true, "readOnly": true}),
                Direction::Response
            ),
            json!({"readOnly": true, "anyOf": [{"allOf": [{"$ref": "#/x"}]}, {"type": "null"}]})
        );
    }

    #[test]
    fn boolean_exclusive_bounds_become_numbers() {
        assert_eq!(
            norm(
                json!({"type": "integer", "minimum": 0, "exclusiveMinimum": true, "maximum": 9, "exclusiveMaximum": false}),
                Direction::Request
            ),
            json!({"type": "integer", "exclusiveMinimum": 0, "maximum": 9})
        );
    }

    #[test]
    fn example_becomes_examples_and_nesting_is_followed() {
        assert_eq!(
            norm(
                json!({"properties": {"a": {"type": "integer", "example": 3, "nullable": true}}}),
                Direction::Request
            ),
            json!({"properties": {"a": {"type": ["integer", "null"], "examples": [3]}}})
        );
    }

    #[test]
    fn read_only_is_not_required_in_requests() {
        let schema = json!({"required": ["id", "name"], "properties": {"id": {"readOnly": true}, "name": {}}});
        assert_eq!(
            norm(schema.clone(), Direction::Request)["required"],
            json!(["name"])
        );
        assert_eq!(
            norm(schema, Direction::Response)["required"],
            json!(["id", "name"])
        );
    }

    #[test]
    fn unknown_type_names_are_dropped() {
        assert_eq!(
            norm(
                json!({"type": "unknown", "description": "d"}),
                Direction::Response
            ),
            json!({"description": "d"})
        );
    }

    #[test]
    fn a_property_named_like_a_keyword_is_left_alone() {
        let schema = json!({"properties": {"nullable": {"type": "boolean"}}});
        assert_eq!(norm(schema.clone(), Direction::Request), schema);
    }
}
