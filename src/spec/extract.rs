//! A smaller spec cut out of a vendor's: the operations asked for, with
//! every component they reach, nothing rewritten.
//!
//! The bundled specs are such extracts of the real ones plus an overlay
//! (`specs/<api>.recipe.yaml` says which): what the mock serves is, field
//! for field, what the vendor publishes, except for the overlay's
//! corrections, each with its reason. A test re-extracts them from the
//! vendor's files and compares.

use serde_json::{Map, Value};
use std::collections::BTreeSet;

/// Operations that `extract` could not find.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the spec has no operation {}", .0.join(", "))]
pub struct MissingOperations(pub Vec<String>);

const METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];

/// The document `root` cut down to `operation_ids`: `openapi`, `info`,
/// `servers`, `security`, the paths that hold those operations (other
/// methods dropped, path-level fields kept) and every component they
/// reference, directly or through other components, in the order the
/// vendor wrote them. Security schemes named by security requirements
/// are kept too.
pub fn extract(root: &Value, operation_ids: &[String]) -> Result<Value, MissingOperations> {
    let mut out = Map::new();
    for key in ["openapi", "info", "servers", "security", "tags"] {
        if let Some(value) = root.get(key) {
            out.insert(key.to_string(), value.clone());
        }
    }
    let mut found: BTreeSet<&str> = BTreeSet::new();
    let mut paths = Map::new();
    if let Some(Value::Object(upstream)) = root.get("paths") {
        for (template, item) in upstream {
            let Value::Object(item) = item else { continue };
            let mut kept = Map::new();
            let mut any = false;
            for (key, value) in item {
                if METHODS.contains(&key.as_str()) {
                    let id = value.get("operationId").and_then(Value::as_str);
                    if let Some(id) = id.filter(|id| operation_ids.iter().any(|o| o == id)) {
                        found.insert(id);
                        kept.insert(key.clone(), value.clone());
                        any = true;
                    }
                } else {
                    kept.insert(key.clone(), value.clone());
                }
            }
            if any {
                paths.insert(template.clone(), Value::Object(kept));
            }
        }
    }
    let missing: Vec<String> = operation_ids
        .iter()
        .filter(|id| !found.contains(id.as_str()))
        .cloned()
        .collect();
    if !missing.is_empty() {
        return Err(MissingOperations(missing));
    }
    out.insert("paths".into(), Value::Object(paths));

    // The components the kept parts reach, followed to a fixed point.
    let mut reached: BTreeSet<(String, String)> = BTreeSet::new();
    let mut todo: Vec<(String, String)> = Vec::new();
    references(&Value::Object(out.clone()), &mut todo);
    let mut schemes: BTreeSet<String> = BTreeSet::new();
    security_schemes(&out, &mut schemes);
    while let Some(reference) = todo.pop() {
        if !reached.insert(reference.clone()) {
            continue;
        }
        if let Some(node) = root
            .get("components")
            .and_then(|c| c.get(&reference.0))
            .and_then(|k| k.get(&reference.1))
        {
            references(node, &mut todo);
        }
    }
    for name in schemes {
        reached.insert(("securitySchemes".into(), name));
    }
    let mut components = Map::new();
    if let Some(Value::Object(upstream)) = root.get("components") {
        for (kind, entries) in upstream {
            let Value::Object(entries) = entries else {
                continue;
            };
            let kept: Map<String, Value> = entries
                .iter()
                .filter(|(name, _)| reached.contains(&(kind.clone(), (*name).clone())))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect();
            if !kept.is_empty() {
                components.insert(kind.clone(), Value::Object(kept));
            }
        }
    }
    if !components.is_empty() {
        out.insert("components".into(), Value::Object(components));
    }
    Ok(Value::Object(out))
}

/// Every `#/components/<kind>/<name>` reference under `node`.
fn references(node: &Value, out: &mut Vec<(String, String)>) {
    match node {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref")
                && let Some(rest) = target.strip_prefix("#/components/")
            {
                let mut parts = rest.splitn(3, '/');
                if let (Some(kind), Some(name)) = (parts.next(), parts.next()) {
                    let unescape = |s: &str| s.replace("~1", "/").replace("~0", "~");
                    out.push((unescape(kind), unescape(name)));
                }
            }
            for value in map.values() {
                references(value, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}

/// The scheme names of every security requirement in the kept document.
fn security_schemes(document: &Map<String, Value>, out: &mut BTreeSet<String>) {
    let mut requirements: Vec<&Value> = Vec::new();
    if let Some(global) = document.get("security") {
        requirements.push(global);
    }
    if let Some(Value::Object(paths)) = document.get("paths") {
        for item in paths.values() {
            for method in METHODS {
                if let Some(security) = item.get(method).and_then(|o| o.get("security")) {
                    requirements.push(security);
                }
            }
        }
    }
    for list in requirements {
        for requirement in list.as_array().into_iter().flatten() {
            if let Value::Object(map) = requirement {
                out.extend(map.keys().cloned());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn upstream() -> Value {
        json!({
            "openapi": "3.0.3",
            "info": {"title": "Vendor", "version": "1"},
            "paths": {
                "/a": {
                    "parameters": [{"$ref": "#/components/parameters/P"}],
                    "get": {"operationId": "getA", "responses": {"200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/A"}}}}}},
                    "post": {"operationId": "postA", "security": [{"key": []}], "responses": {"201": {"description": ""}}}
                },
                "/b": {"get": {"operationId": "getB", "responses": {"200": {"description": ""}}}}
            },
            "components": {
                "parameters": {"P": {"name": "p", "in": "query", "schema": {"type": "string"}}},
                "schemas": {
                    "A": {"properties": {"b": {"$ref": "#/components/schemas/B"}}},
                    "B": {"type": "string"},
                    "Unused": {"type": "integer"}
                },
                "securitySchemes": {"key": {"type": "apiKey", "in": "header", "name": "k"}, "other": {"type": "http", "scheme": "basic"}}
            }
        })
    }

    #[test]
    fn keeps_the_operations_and_what_they_reach() {
        let cut = extract(&upstream(), &["getA".to_string()]).expect("extract");
        assert_eq!(cut["paths"].as_object().map(|p| p.len()), Some(1));
        assert!(cut["paths"]["/a"].get("post").is_none());
        assert!(cut["paths"]["/a"].get("parameters").is_some());
        let schemas = cut["components"]["schemas"].as_object().expect("schemas");
        assert_eq!(schemas.keys().collect::<Vec<_>>(), ["A", "B"]);
        assert!(cut["components"].get("securitySchemes").is_none());
        let with_post = extract(&upstream(), &["getA".into(), "postA".into()]).expect("extract");
        assert_eq!(
            with_post["components"]["securitySchemes"]
                .as_object()
                .map(|s| s.keys().cloned().collect::<Vec<_>>()),
            Some(vec!["key".to_string()])
        );
    }

    #[test]
    fn an_unknown_operation_is_named() {
        let error =
            extract(&upstream(), &["getA".into(), "nope".into(), "gone".into()]).unwrap_err();
        assert_eq!(error.to_string(), "the spec has no operation nope, gone");
    }
}
