//! Schema mistakes found at load time rather than on the first request.
//!
//! Schemas compile lazily (see [`super::schema`]), so a typo such as
//! `type: strnig` or a `pattern` that is not a regular expression would
//! otherwise surface only when a request reaches that schema, and then
//! only as validation that silently does not happen. This pass walks every
//! schema position of the document once, which is cheap next to compiling,
//! and names the first mistake with its pointer.

use crate::source::reader::escape;
use serde_json::{Map, Value};

const TYPES: [&str; 7] = [
    "string", "number", "integer", "boolean", "array", "object", "null",
];

/// Keywords whose value is one schema.
const ONE_SCHEMA: [&str; 10] = [
    "items",
    "additionalProperties",
    "not",
    "if",
    "then",
    "else",
    "contains",
    "propertyNames",
    "unevaluatedProperties",
    "unevaluatedItems",
];

/// Keywords whose value is a list of schemas.
const SCHEMA_LISTS: [&str; 4] = ["allOf", "anyOf", "oneOf", "prefixItems"];

/// Keywords whose value maps names to schemas.
const SCHEMA_MAPS: [&str; 5] = [
    "properties",
    "patternProperties",
    "$defs",
    "definitions",
    "dependentSchemas",
];

/// The broken schemas of `root`, at most `limit`: each one's JSON pointer
/// and what is wrong with it.
pub fn broken_schemas(root: &Value, limit: usize) -> Vec<(String, String)> {
    let mut walk = Walk {
        found: Vec::new(),
        limit,
        patterns: PatternCheck::default(),
        root,
    };
    if let Some(Value::Object(schemas)) = root.pointer("/components/schemas") {
        for (name, schema) in schemas {
            walk.schema(schema, &format!("/components/schemas/{}", escape(name)));
        }
    }
    for (key, child) in root.as_object().into_iter().flatten() {
        match (key.as_str(), child) {
            ("components", Value::Object(components)) => {
                for (key, child) in components {
                    if key != "schemas" {
                        walk.containers(child, &format!("/components/{}", escape(key)));
                    }
                }
            }
            _ => walk.containers(child, &format!("/{}", escape(key))),
        }
    }
    // Infinite components are refused by the load, before this runs.
    let mut found = walk.found;
    found.truncate(limit);
    found
}

struct Walk<'r> {
    found: Vec<(String, String)>,
    limit: usize,
    patterns: PatternCheck,
    /// The bundled spec, to see through `$ref` in `allOf` parts.
    root: &'r Value,
}

impl Walk<'_> {
    fn full(&self) -> bool {
        self.found.len() >= self.limit
    }

    /// Walks the parts of the document that are not schemas (paths,
    /// parameters, media types, headers) looking for `schema` keys.
    fn containers(&mut self, value: &Value, at: &str) {
        match value {
            Value::Object(map) => {
                for (key, child) in map {
                    let here = format!("{at}/{}", escape(key));
                    match key.as_str() {
                        "schema" => self.schema(child, &here),
                        // Values, not structure: an example may well hold a `schema` key.
                        "example" | "examples" | "default" => {}
                        k if k.starts_with("x-") => {}
                        _ => self.containers(child, &here),
                    }
                }
            }
            Value::Array(items) => {
                for (i, item) in items.iter().enumerate() {
                    self.containers(item, &format!("{at}/{i}"));
                }
            }
            _ => {}
        }
    }

    fn schema(&mut self, value: &Value, at: &str) {
        let Value::Object(map) = value else {
            return;
        };
        if self.full() {
            return;
        }
        if let Some(found) = own_keywords(map, at, &mut self.patterns) {
            self.found.push(found);
        }
        if let Some(Value::Array(parts)) = map.get("allOf") {
            for i in super::dialect::all_of_closed_too_early(self.root, parts) {
                self.found.push((
                    format!("{at}/allOf/{i}"),
                    "`additionalProperties: false` in one part of an `allOf` whose other parts \
                     define properties refuses every object when read literally; it is read as \
                     `unevaluatedProperties: false` over the whole `allOf`"
                        .to_string(),
                ));
            }
        }
        for (key, child) in map {
            let here = format!("{at}/{}", escape(key));
            let key = key.as_str();
            match child {
                // `items` may be a list of schemas before 2020-12.
                Value::Array(items) if SCHEMA_LISTS.contains(&key) || key == "items" => {
                    for (i, s) in items.iter().enumerate() {
                        self.schema(s, &format!("{here}/{i}"));
                    }
                }
                Value::Object(schemas) if SCHEMA_MAPS.contains(&key) => {
                    for (name, s) in schemas {
                        self.schema(s, &format!("{here}/{}", escape(name)));
                    }
                }
                _ if ONE_SCHEMA.contains(&key) => self.schema(child, &here),
                _ => {}
            }
        }
    }
}

fn own_keywords(
    map: &Map<String, Value>,
    at: &str,
    patterns: &mut PatternCheck,
) -> Option<(String, String)> {
    if let Some(kind) = map.get("type") {
        let known = |t: &Value| t.as_str().is_some_and(|t| TYPES.contains(&t));
        let fine = match kind {
            Value::Array(kinds) => kinds.iter().all(known),
            other => known(other),
        };
        if !fine {
            return Some((
                format!("{at}/type"),
                format!(
                    "`type: {}` is not a JSON Schema type; expected one of: {}",
                    compact(kind),
                    TYPES.join(", ")
                ),
            ));
        }
    }
    if let Some(pattern) = map.get("pattern") {
        let Value::String(pattern) = pattern else {
            return Some((format!("{at}/pattern"), "`pattern` must be a string".into()));
        };
        if let Err(reason) = patterns.check(pattern) {
            return Some((
                format!("{at}/pattern"),
                format!("`pattern` is not a regular expression: {reason}"),
            ));
        }
    }
    if let Some(required) = map.get("required")
        && !matches!(required, Value::Array(names) if names.iter().all(Value::is_string))
    {
        return Some((
            format!("{at}/required"),
            "`required` must be a list of property names".into(),
        ));
    }
    unsatisfiable(map, at)
}

/// Bounds and lists no value can meet: the mock could not answer such a
/// schema with a valid body, nor a client send one, so it is said at load.
fn unsatisfiable(map: &Map<String, Value>, at: &str) -> Option<(String, String)> {
    for (low, high) in [
        ("minimum", "maximum"),
        ("minLength", "maxLength"),
        ("minItems", "maxItems"),
        ("minProperties", "maxProperties"),
    ] {
        if let (Some(l), Some(h)) = (
            map.get(low).and_then(Value::as_f64),
            map.get(high).and_then(Value::as_f64),
        ) && l > h
        {
            return Some((
                format!("{at}/{low}"),
                format!("`{low}: {l}` is above `{high}: {h}`: no value can satisfy this schema"),
            ));
        }
    }
    if let Some(Value::Array(values)) = map.get("enum") {
        let declared: Vec<&str> = match map.get("type") {
            Some(Value::String(t)) => vec![t.as_str()],
            Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let fits = |v: &Value| {
            let kind = super::schema::json_type(v);
            declared
                .iter()
                .any(|t| *t == kind || (*t == "number" && kind == "integer"))
                // 3.0's `nullable` lets `null` in beside the type.
                || (v.is_null() && map.get("nullable") == Some(&Value::Bool(true)))
        };
        if values.is_empty() || (!declared.is_empty() && !values.iter().any(fits)) {
            return Some((
                format!("{at}/enum"),
                "no value of `enum` has the schema's `type`: no value can satisfy this schema"
                    .into(),
            ));
        }
    }
    if let (Some(Value::Array(required)), Some(Value::Object(properties))) =
        (map.get("required"), map.get("properties"))
    {
        for name in required.iter().filter_map(Value::as_str) {
            let Some(schema) = properties.get(name) else {
                continue;
            };
            let refuses_all = schema == &Value::Bool(false)
                || schema.get("not").is_some_and(|not| {
                    not == &Value::Bool(true) || not.as_object().is_some_and(Map::is_empty)
                });
            if refuses_all {
                return Some((
                    format!("{at}/properties/{}", crate::source::reader::escape(name)),
                    format!(
                        "`{name}` is required, and its schema refuses every value: no object can satisfy this schema"
                    ),
                ));
            }
        }
    }
    if let Some(Value::Array(parts)) = map.get("allOf") {
        // The types each inline part allows, with the schema's own: parts
        // that are `$ref`s or name no type allow every type.
        let mut allowed = declared_types(map);
        for part in parts.iter().filter_map(Value::as_object) {
            let Some(types) = declared_types(part) else {
                continue;
            };
            allowed = Some(match allowed {
                None => types,
                Some(before) => before
                    .into_iter()
                    .filter_map(|t| {
                        if types.contains(&t) {
                            Some(t)
                        } else if t == "number" && types.contains(&"integer") {
                            Some("integer")
                        } else if t == "integer" && types.contains(&"number") {
                            Some(t)
                        } else {
                            None
                        }
                    })
                    .collect(),
            });
        }
        if allowed.is_some_and(|types| types.is_empty()) {
            return Some((
                format!("{at}/allOf"),
                "the parts of `allOf` allow no type in common: no value can satisfy this schema"
                    .into(),
            ));
        }
    }
    None
}

/// The JSON types a schema's `type` allows (3.0's `nullable` adds `null`);
/// `None` when it names none.
fn declared_types(map: &Map<String, Value>) -> Option<Vec<&'static str>> {
    let named: Vec<&str> = match map.get("type")? {
        Value::String(t) => vec![t.as_str()],
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect(),
        _ => return None,
    };
    let mut types: Vec<&'static str> = TYPES
        .iter()
        .copied()
        .filter(|t| named.contains(t))
        .collect();
    if map.get("nullable") == Some(&Value::Bool(true)) && !types.contains(&"null") {
        types.push("null");
    }
    Some(types)
}

fn compact(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Compiles each distinct pattern once, with the engine and options that
/// validation uses, so that what passes here compiles there.
#[derive(Default)]
struct PatternCheck {
    seen: std::collections::HashSet<String>,
}

impl PatternCheck {
    fn check(&mut self, pattern: &str) -> Result<(), jsonschema::ValidationError<'static>> {
        if self.seen.contains(pattern) {
            return Ok(());
        }
        jsonschema::options()
            .with_draft(jsonschema::Draft::Draft202012)
            .build(&serde_json::json!({ "pattern": pattern }))?;
        self.seen.insert(pattern.to_string());
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_misspelt_type_deep_in_a_component_is_found() {
        let root = json!({"components": {"schemas": {"P": {
            "type": "object",
            "properties": {"tags": {"type": "array", "items": {"type": "strnig"}}}
        }}}});
        let [(at, message)] = &broken_schemas(&root, 10)[..] else {
            panic!("one finding expected")
        };
        assert_eq!(at, "/components/schemas/P/properties/tags/items/type");
        assert!(message.contains("`type: strnig`"), "{message}");
    }

    #[test]
    fn a_pattern_that_does_not_compile_is_found_under_paths() {
        let root = json!({"paths": {"/a": {"post": {"requestBody": {"content": {
            "application/json": {"schema": {"properties": {"n": {"pattern": "([a-z"}}}}
        }}}}}});
        let [(at, _)] = &broken_schemas(&root, 10)[..] else {
            panic!("one finding expected")
        };
        assert_eq!(
            at,
            "/paths/~1a/post/requestBody/content/application~1json/schema/properties/n/pattern"
        );
    }

    #[test]
    fn security_scheme_types_and_examples_are_not_schemas() {
        let root = json!({
            "components": {"securitySchemes": {"t": {"type": "apiKey", "in": "header", "name": "t"}}},
            "paths": {"/a": {"get": {"responses": {"200": {"content": {"application/json": {
                "schema": {"type": ["string", "null"], "pattern": "^(?=a)a$"},
                "example": {"schema": {"type": "nonsense"}}
            }}}}}}}
        });
        assert_eq!(broken_schemas(&root, 10), Vec::new());
    }

    #[test]
    fn schemas_no_value_can_satisfy_are_named() {
        let root = json!({"components": {"schemas": {
            "Bounds": {"type": "integer", "minimum": 10, "maximum": 1},
            "Enum": {"type": "string", "enum": [true, 3]},
            "Nullable": {"type": "string", "nullable": true, "enum": [null]},
            "Fine": {"type": "number", "enum": [1, 2.5], "minLength": 1},
            "NoCommonType": {"type": "string", "allOf": [{"type": "integer"}]},
            "NullPart": {"allOf": [{"type": "string", "format": "uuid"}, {"type": "null"}]},
            "CommonType": {"type": "number", "nullable": true, "allOf": [
                {"type": ["integer", "string"]}, {"$ref": "#/components/schemas/Fine"}, {"minimum": 0}
            ]},
            "RequiredFalse": {"type": "object", "required": ["a/b"], "properties": {"a/b": false}},
            "RequiredNot": {"type": "object", "required": ["c"], "properties": {"c": {"not": {}}}},
            "OptionalFalse": {"type": "object", "properties": {"d": false}}
        }}});
        let found = broken_schemas(&root, 10);
        let pointers: Vec<&str> = found.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/components/schemas/Bounds/minimum",
                "/components/schemas/Enum/enum",
                "/components/schemas/NoCommonType/allOf",
                "/components/schemas/NullPart/allOf",
                "/components/schemas/RequiredFalse/properties/a~1b",
                "/components/schemas/RequiredNot/properties/c"
            ],
            "{found:?}"
        );
    }
}
