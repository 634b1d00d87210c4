//! Schemas with no finite value: a component every value of which must
//! hold another value of itself (`required: [child]`, `child: {$ref: '#/…/Node'}`).
//! No client can send one and no server can answer one; the mock could
//! only recurse for ever trying, so the load names them.
//!
//! A component *forces* another when every value of it must contain a
//! value of the other: through a required property whose schema is that
//! component (alone or within `allOf`), or by being an `allOf` of it. A
//! component on a cycle of forcing is infinite. Optional properties,
//! arrays (which may be empty), `oneOf`/`anyOf` and `nullable` are ways
//! out, so they force nothing.

use serde_json::{Map, Value};
use std::collections::HashMap;

const PREFIX: &str = "#/components/schemas/";

/// Each infinite component's pointer, with why.
pub fn infinite_schemas(root: &Value) -> Vec<(String, String)> {
    let Some(Value::Object(schemas)) = root.pointer("/components/schemas") else {
        return Vec::new();
    };
    let forces: HashMap<&str, Vec<(String, String)>> = schemas
        .iter()
        .map(|(name, schema)| (name.as_str(), forced(schemas, schema)))
        .collect();
    let mut found = Vec::new();
    for name in schemas.keys() {
        if let Some(path) = cycle_from(name, &forces) {
            found.push((
                format!("/components/schemas/{}", crate::source::reader::escape(name)),
                format!(
                    "every `{name}` must contain another ({}): no finite value satisfies this schema",
                    path.join(" → ")
                ),
            ));
        }
    }
    found
}

/// The components a value of `schema` must contain, each with the way
/// (`required child`, `allOf`).
fn forced(schemas: &Map<String, Value>, schema: &Value) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let Value::Object(map) = schema else {
        return out;
    };
    if map.get("nullable") == Some(&Value::Bool(true)) {
        return out;
    }
    if let Some(Value::Array(parts)) = map.get("allOf") {
        for part in parts {
            if let Some(target) = component(schemas, part) {
                out.push((target, "allOf".to_string()));
            } else {
                out.extend(forced(schemas, part));
            }
        }
    }
    let (Some(Value::Array(required)), Some(Value::Object(properties))) =
        (map.get("required"), map.get("properties"))
    else {
        return out;
    };
    for name in required.iter().filter_map(Value::as_str) {
        let Some(property) = properties.get(name) else {
            continue;
        };
        let targets = match component(schemas, property) {
            Some(target) => vec![target],
            None => property
                .get("allOf")
                .and_then(Value::as_array)
                .filter(|_| property.get("nullable") != Some(&Value::Bool(true)))
                .map(|parts| parts.iter().filter_map(|p| component(schemas, p)).collect())
                .unwrap_or_default(),
        };
        out.extend(
            targets
                .into_iter()
                .map(|target| (target, format!("required `{name}`"))),
        );
    }
    out
}

/// The component a schema is exactly a reference to, unless that
/// component lets `null` in.
fn component(schemas: &Map<String, Value>, schema: &Value) -> Option<String> {
    let name = schema.get("$ref")?.as_str()?.strip_prefix(PREFIX)?;
    let name = name.replace("~1", "/").replace("~0", "~");
    let target = schemas.get(&name)?;
    let nullable = target.get("nullable") == Some(&Value::Bool(true))
        || target
            .get("type")
            .and_then(Value::as_array)
            .is_some_and(|types| types.iter().any(|t| t == "null"));
    (!nullable).then_some(name)
}

/// A path of forcing from `start` back to itself, as `way to Name` steps.
fn cycle_from(start: &str, forces: &HashMap<&str, Vec<(String, String)>>) -> Option<Vec<String>> {
    let mut stack: Vec<(String, Vec<String>)> = vec![(start.to_string(), Vec::new())];
    let mut seen = std::collections::HashSet::new();
    while let Some((node, path)) = stack.pop() {
        for (target, way) in forces.get(node.as_str()).into_iter().flatten() {
            let mut next = path.clone();
            next.push(format!("{way} is a `{target}`"));
            if target == start {
                return Some(next);
            }
            if seen.insert(target.clone()) {
                stack.push((target.clone(), next));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(root: Value) -> Vec<String> {
        infinite_schemas(&root)
            .into_iter()
            .map(|(p, _)| p)
            .collect()
    }

    #[test]
    fn a_required_child_of_its_own_type_is_infinite() {
        let root = json!({"components": {"schemas": {
            "Node": {"type": "object", "required": ["child"], "properties": {"child": {"$ref": "#/components/schemas/Node"}}}
        }}});
        let found = infinite_schemas(&root);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "/components/schemas/Node");
        assert!(
            found[0].1.contains("required `child` is a `Node`"),
            "{}",
            found[0].1
        );
    }

    #[test]
    fn cycles_through_other_components_and_all_of_are_found() {
        let root = json!({"components": {"schemas": {
            "A": {"allOf": [{"$ref": "#/components/schemas/B"}]},
            "B": {"type": "object", "required": ["a"], "properties": {"a": {"allOf": [{"$ref": "#/components/schemas/A"}]}}},
            "C": {"type": "object", "required": ["b"], "properties": {"b": {"$ref": "#/components/schemas/B"}}}
        }}});
        assert_eq!(
            names(root),
            ["/components/schemas/A", "/components/schemas/B"]
        );
    }

    #[test]
    fn ways_out_are_not_infinite() {
        let root = json!({"components": {"schemas": {
            "Optional": {"type": "object", "properties": {"child": {"$ref": "#/components/schemas/Optional"}}},
            "List": {"type": "object", "required": ["children"], "properties": {"children": {"type": "array", "items": {"$ref": "#/components/schemas/List"}}}},
            "Nullable": {"type": "object", "nullable": true, "required": ["next"], "properties": {"next": {"$ref": "#/components/schemas/Nullable"}}},
            "Either": {"type": "object", "required": ["next"], "properties": {"next": {"oneOf": [{"$ref": "#/components/schemas/Either"}, {"type": "string"}]}}}
        }}});
        assert!(names(root).is_empty());
    }
}
