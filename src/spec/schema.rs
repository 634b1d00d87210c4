//! Schemas compiled on first use, each into a small self-contained document.
//!
//! Compiling every schema of a 2,311-operation spec at start-up, each
//! against the whole 4 MB document, would take seconds. Instead a
//! [`SchemaSlot`] keeps the raw schema and, the first time it is needed,
//! copies only the part of the spec it references (its transitive `$ref`
//! closure) next to it, normalises that copy for its dialect and direction,
//! and compiles it once. References keep their `#/components/...` form,
//! because each referenced node is placed at the same pointer in the copy.

use super::dialect::{Dialect, Direction, normalize};
use super::refs::resolve_pointer;
use serde_json::{Map, Value};
use std::collections::HashSet;
use std::sync::{Arc, OnceLock};

/// A schema as compiled: the validator and the document it was compiled
/// from (the generator walks the same document).
pub struct CompiledSchema {
    pub validator: jsonschema::Validator,
    pub document: Value,
}

impl std::fmt::Debug for CompiledSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledSchema")
            .field("document", &self.document)
            .finish()
    }
}

/// One place in the spec where a schema is used, in one direction.
#[derive(Debug)]
pub struct SchemaSlot {
    raw: Value,
    direction: Direction,
    compiled: OnceLock<Result<Arc<CompiledSchema>, String>>,
}

impl SchemaSlot {
    pub fn new(raw: Value, direction: Direction) -> Self {
        Self {
            raw,
            direction,
            compiled: OnceLock::new(),
        }
    }

    /// The schema as written in the spec.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    /// Compiles on first call; later calls (from any thread) share the result.
    pub fn compiled(&self, root: &Value, dialect: Dialect) -> Result<&Arc<CompiledSchema>, &str> {
        self.compiled
            .get_or_init(|| compile(&self.raw, root, dialect, self.direction).map(Arc::new))
            .as_ref()
            .map_err(String::as_str)
    }
}

/// Builds the self-contained document for `schema` and compiles it.
pub fn compile(
    schema: &Value,
    root: &Value,
    dialect: Dialect,
    direction: Direction,
) -> Result<CompiledSchema, String> {
    let document = self_contained(schema, root, dialect, direction)?;
    let validator = jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(&document)
        .map_err(|e| format!("the schema does not compile: {e}"))?;
    Ok(CompiledSchema {
        validator,
        document,
    })
}

fn self_contained(
    schema: &Value,
    root: &Value,
    dialect: Dialect,
    direction: Direction,
) -> Result<Value, String> {
    let mut document = schema.clone();
    normalize(&mut document, root, dialect, direction);
    if !document.is_object() {
        return Ok(document);
    }
    let mut pending = Vec::new();
    collect_refs(schema, &mut pending);
    let mut seen = HashSet::new();
    while let Some(reference) = pending.pop() {
        if !seen.insert(reference.clone()) || reference == "#" {
            continue;
        }
        let target = resolve_pointer(root, &reference)?;
        collect_refs(target, &mut pending);
        let mut copy = target.clone();
        normalize(&mut copy, root, dialect, direction);
        insert_at(&mut document, &reference[1..], copy);
    }
    Ok(document)
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("$ref", Value::String(r)) if r.starts_with('#') => out.push(r.clone()),
                    ("example" | "examples" | "default" | "const" | "enum", _) => {}
                    _ => collect_refs(child, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| collect_refs(i, out)),
        _ => {}
    }
}

/// Places `value` at `pointer` (`/a/b`) in `document`, creating objects on the way.
fn insert_at(document: &mut Value, pointer: &str, value: Value) {
    let segments: Vec<String> = pointer
        .split('/')
        .skip(1)
        .map(|s| {
            let s = percent_encoding::percent_decode_str(s).decode_utf8_lossy();
            s.replace("~1", "/").replace("~0", "~")
        })
        .collect();
    let Some((last, parents)) = segments.split_last() else {
        return;
    };
    let mut node = document;
    for segment in parents {
        let Value::Object(map) = node else { return };
        node = map
            .entry(segment.clone())
            .or_insert_with(|| Value::Object(Map::new()));
        if !node.is_object() {
            return;
        }
    }
    if let Value::Object(map) = node {
        // A node already copied as part of a larger one is the same content.
        map.entry(last.clone()).or_insert(value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn references_are_copied_with_their_closure() {
        let root = json!({"components": {"schemas": {
            "A": {"type": "object", "required": ["b"], "properties": {"b": {"$ref": "#/components/schemas/B"}}},
            "B": {"type": "string", "nullable": true},
            "Unused": {"type": "integer"}
        }}});
        let compiled = compile(
            &json!({"$ref": "#/components/schemas/A"}),
            &root,
            Dialect::OpenApi30,
            Direction::Response,
        )
        .expect("compiles");
        assert!(
            compiled.document["components"]["schemas"]
                .get("Unused")
                .is_none()
        );
        assert!(compiled.validator.is_valid(&json!({"b": null})));
        assert!(compiled.validator.is_valid(&json!({"b": "x"})));
        assert!(!compiled.validator.is_valid(&json!({"b": 1})));
        assert!(!compiled.validator.is_valid(&json!({})));
    }

    #[test]
    fn recursive_schemas_compile() {
        let root = json!({"components": {"schemas": {
            "Node": {"type": "object", "properties": {"children": {"type": "array", "items": {"$ref": "#/components/schemas/Node"}}}}
        }}});
        let compiled = compile(
            &json!({"$ref": "#/components/schemas/Node"}),
            &root,
            Dialect::OpenApi31,
            Direction::Response,
        )
        .expect("compiles");
        assert!(
            compiled
                .validator
                .is_valid(&json!({"children": [{"children": []}]}))
        );
        assert!(
            !compiled
                .validator
                .is_valid(&json!({"children": [{"children": 1}]}))
        );
    }

    #[test]
    fn formats_are_checked() {
        let compiled = compile(
            &json!({"type": "string", "format": "uuid"}),
            &json!({}),
            Dialect::OpenApi31,
            Direction::Response,
        )
        .expect("compiles");
        assert!(
            compiled
                .validator
                .is_valid(&json!("0b7b8a5e-4c0e-4d43-9a3f-1c2f6a3b9e10"))
        );
        assert!(!compiled.validator.is_valid(&json!("nope")));
    }
}
