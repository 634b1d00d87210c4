//! Schemas compiled once per spec and direction, shared by every operation.
//!
//! Each place in the spec where a schema is used is a [`SchemaSlot`] with
//! an id. The first time a schema of one direction is needed, every slot of
//! that direction is placed under one document (`properties/<id>`), next
//! to the part of the spec they reference (their transitive `$ref`
//! closure), normalised for the dialect and direction, and compiled as one
//! validator. A component referenced by a thousand operations is compiled
//! once, so memory follows the size of the spec, not operations × spec
//! (on Stripe's spec, compiling slot by slot cost 6 to 12 MB per operation).
//! A value is checked against slot `id` as `{"<id>": value}`.
//!
//! A schema the validator refuses to compile is cut out where it is broken
//! (the slot, or the keyword that breaks a shared component) and the rest
//! still compiles; `lint` has already named it as a load warning.

use super::dialect::{Dialect, Direction, normalize};
use super::refs::{PointerError, resolve_pointer};
use serde_json::{Map, Value};
use std::collections::{HashMap, HashSet};

/// A schema compiled on its own, with the document it was compiled from
/// (the generator walks the same document).
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
    /// Unique among the slots of one spec, counted from 0.
    id: usize,
    /// `id` as text: the key under `properties`.
    key: String,
}

impl SchemaSlot {
    pub fn new(raw: Value, direction: Direction, id: usize) -> Self {
        Self {
            raw,
            direction,
            id,
            key: id.to_string(),
        }
    }

    /// The schema as written in the spec.
    pub fn raw(&self) -> &Value {
        &self.raw
    }

    pub fn direction(&self) -> Direction {
        self.direction
    }
}

/// Every slot of one direction, compiled together.
#[derive(Default)]
pub struct SharedSchemas {
    validator: Option<jsonschema::Validator>,
    document: Value,
    /// Each slot's normalised schema, by slot id, moved out of the
    /// document's `properties` once compiled: a request finds its schema
    /// by index, without formatting or walking a pointer.
    slot_schemas: Vec<Option<Value>>,
    /// By slot id: whether the slot's schema takes any string and asserts
    /// nothing else (`{type: string}` with annotations), so a string holds
    /// without asking the validator. Most path parameters are such.
    any_string: Vec<bool>,
    /// Slots cut out because they do not compile, with the reason.
    broken: HashMap<String, String>,
}

impl std::fmt::Debug for SharedSchemas {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedSchemas")
            .field("broken", &self.broken)
            .finish()
    }
}

/// Most broken places cut out before giving up on a direction.
const MAX_CUTS: usize = 200;

impl SharedSchemas {
    /// Compiles `slots` (all of one direction) against the bundled `root`.
    pub fn build<'s>(
        slots: impl Iterator<Item = &'s SchemaSlot>,
        root: &Value,
        dialect: Dialect,
        direction: Direction,
    ) -> Self {
        let properties: Map<String, Value> = slots
            .map(|slot| (slot.key.clone(), slot.raw.clone()))
            .collect();
        let mut broken = HashMap::new();
        let mut document = match self_contained(
            &Value::Object(Map::from_iter([(
                "properties".to_string(),
                Value::Object(properties),
            )])),
            root,
            dialect,
            direction,
        ) {
            Ok(document) => document,
            Err(reason) => {
                return Self {
                    validator: None,
                    document: Value::Null,
                    slot_schemas: Vec::new(),
                    any_string: Vec::new(),
                    broken: HashMap::from([(String::new(), reason.to_string())]),
                };
            }
        };
        for _ in 0..MAX_CUTS {
            match build_validator(&document) {
                Ok(validator) => {
                    let slot_schemas = take_slot_schemas(&mut document);
                    let any_string = slot_schemas
                        .iter()
                        .map(|schema| schema.as_ref().is_some_and(takes_any_string))
                        .collect();
                    return Self {
                        validator: Some(validator),
                        slot_schemas,
                        any_string,
                        document,
                        broken,
                    };
                }
                Err((pointer, reason)) => {
                    let segments: Vec<&str> = pointer.split('/').skip(1).collect();
                    if let ["properties", key, ..] = segments.as_slice() {
                        let key = key.to_string();
                        if let Some(Value::Object(map)) = document.get_mut("properties") {
                            map.shift_remove(&key);
                        }
                        broken.insert(key, reason);
                    } else if !cut(&mut document, &pointer) {
                        break;
                    }
                }
            }
        }
        Self {
            validator: None,
            document,
            slot_schemas: Vec::new(),
            any_string: Vec::new(),
            broken: HashMap::from([(String::new(), "the schemas do not compile".into())]),
        }
    }

    /// The compiled schema of `slot`, or why it could not be compiled.
    pub fn get<'a, 's>(&'a self, slot: &'s SchemaSlot) -> Result<SlotSchema<'a, 's>, &'a str> {
        if !self.broken.is_empty()
            && let Some(reason) = self.broken.get(&slot.key).or_else(|| self.broken.get(""))
        {
            return Err(reason);
        }
        let schema = self.slot_schemas.get(slot.id).and_then(Option::as_ref);
        let (Some(validator), Some(schema)) = (&self.validator, schema) else {
            return Err("the schema was not compiled");
        };
        Ok(SlotSchema {
            validator,
            document: &self.document,
            schema,
            key: &slot.key,
            any_string: self.any_string.get(slot.id).copied().unwrap_or(false),
        })
    }
}

/// Keywords that describe a schema without constraining its values
/// (besides every `x-` extension).
pub const NON_CONSTRAINING: &[&str] = &[
    "description",
    "title",
    "example",
    "examples",
    "default",
    "deprecated",
    "discriminator",
    "externalDocs",
];

/// Whether `schema` is `{type: string}` and nothing else that asserts:
/// only annotations beside it, which no validator checks.
fn takes_any_string(schema: &Value) -> bool {
    let Value::Object(map) = schema else {
        return false;
    };
    map.get("type").and_then(Value::as_str) == Some("string")
        && map
            .keys()
            .all(|k| k == "type" || NON_CONSTRAINING.contains(&k.as_str()) || k.starts_with("x-"))
}

/// Moves each slot's schema out of the compiled document's `properties`
/// into a list by slot id. The validator keeps its own compiled form, and
/// `$ref`s resolve in the spec's parts the document keeps, never in
/// `properties`.
fn take_slot_schemas(document: &mut Value) -> Vec<Option<Value>> {
    let mut schemas = Vec::new();
    let Some(Value::Object(properties)) = document.get_mut("properties") else {
        return schemas;
    };
    for (key, schema) in std::mem::take(properties) {
        if let Ok(id) = key.parse::<usize>() {
            if schemas.len() <= id {
                schemas.resize(id + 1, None);
            }
            schemas[id] = Some(schema);
        }
    }
    schemas
}

/// One slot's schema within its direction's shared validator.
pub struct SlotSchema<'a, 's> {
    validator: &'a jsonschema::Validator,
    document: &'a Value,
    schema: &'a Value,
    key: &'s str,
    any_string: bool,
}

/// A schema error, owned, with its place in the value that was checked.
pub struct SchemaError {
    /// JSON pointer into the checked value (`""` is the value itself).
    pub pointer: String,
    pub error: jsonschema::ValidationError<'static>,
}

/// The default of `--max-quoted-length`.
pub const DEFAULT_QUOTE_LIMIT: usize = 200;

static QUOTE_LIMIT: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(DEFAULT_QUOTE_LIMIT);

/// Sets the longest text of a checked value an error quotes (the CLI's
/// `--max-quoted-length`, set once at start): the value is a client's,
/// and echoing a megabyte of it into an answer and a log line helps nobody.
pub fn set_quote_limit(bytes: usize) {
    QUOTE_LIMIT.store(bytes, std::sync::atomic::Ordering::Relaxed);
}

/// The longest text of a checked value an error quotes.
pub fn quote_limit() -> usize {
    QUOTE_LIMIT.load(std::sync::atomic::Ordering::Relaxed)
}

/// The validator's message, with the value it quotes cut to
/// [`quote_limit`] bytes and its length said.
impl std::fmt::Display for SchemaError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let text = self.error.to_string();
        let instance = self.error.instance().to_string();
        let limit = quote_limit();
        if instance.len() <= limit {
            return f.write_str(&text);
        }
        let mut end = limit;
        while !instance.is_char_boundary(end) {
            end -= 1;
        }
        let cut = format!("{}… ({} bytes)", &instance[..end], instance.len());
        f.write_str(&text.replacen(&instance, &cut, 1))
    }
}

impl<'a> SlotSchema<'a, '_> {
    /// The document the schema's `$ref`s resolve in.
    pub fn document(&self) -> &'a Value {
        self.document
    }

    /// The slot's own schema, normalised.
    pub fn schema(&self) -> &'a Value {
        self.schema
    }

    pub fn is_valid(&self, value: &Value) -> bool {
        if self.any_string && value.is_string() {
            return true;
        }
        self.validator.is_valid(&self.wrap(value.clone()))
    }

    /// [`Self::is_valid`] for a value the caller owns: it is moved under
    /// the slot's key and back instead of copied, which on a hot path is
    /// most of the check's cost.
    pub fn holds(&self, value: &mut Value) -> bool {
        if self.any_string && value.is_string() {
            return true;
        }
        let mut wrapped = WRAPPERS
            .with_borrow_mut(|kept| {
                let at = kept.iter().position(|w| wrapper_key(w) == Some(self.key))?;
                Some(kept.swap_remove(at))
            })
            .unwrap_or_else(|| self.wrap(Value::Null));
        let Some(slot) = only_value(&mut wrapped) else {
            return false;
        };
        *slot = std::mem::take(value);
        let valid = self.validator.is_valid(&wrapped);
        if let Some(slot) = only_value(&mut wrapped) {
            *value = std::mem::take(slot);
        }
        WRAPPERS.with_borrow_mut(|kept| {
            if kept.len() == KEPT_WRAPPERS {
                kept.remove(0);
            }
            kept.push(wrapped);
        });
        valid
    }

    /// Every error, in the order the validator finds them.
    pub fn errors(&self, value: &Value) -> Vec<SchemaError> {
        let wrapped = self.wrap(value.clone());
        let prefix_len = self.key.len() + 1;
        self.validator
            .iter_errors(&wrapped)
            .map(|error| {
                let path = error.instance_path().as_str();
                SchemaError {
                    pointer: path.get(prefix_len..).unwrap_or_default().to_string(),
                    error: error.to_owned(),
                }
            })
            .collect()
    }

    fn wrap(&self, value: Value) -> Value {
        Value::Object(Map::from_iter([(self.key.to_string(), value)]))
    }
}

/// How many `{"<id>": …}` wrappers a thread keeps for [`SlotSchema::holds`].
const KEPT_WRAPPERS: usize = 8;

thread_local! {
    /// Wrappers of the slots a thread checked last, emptied. Making one
    /// (a map, its hash state and the key's text) cost more than checking
    /// a small body against its schema; a request checks two slots, its
    /// body's and its answer's, again and again.
    static WRAPPERS: std::cell::RefCell<Vec<Value>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// The key of a one-entry wrapper.
fn wrapper_key(wrapper: &Value) -> Option<&str> {
    match wrapper {
        Value::Object(map) if map.len() == 1 => map.keys().next().map(String::as_str),
        _ => None,
    }
}

/// The value of a one-entry wrapper, reached without hashing its key.
fn only_value(wrapper: &mut Value) -> Option<&mut Value> {
    match wrapper {
        Value::Object(map) if map.len() == 1 => map.values_mut().next(),
        _ => None,
    }
}

/// A schema's first non-null `type`, or the one implied by
/// `items`/`properties`; `None` when it names none.
pub fn primary_type(schema: &Value) -> Option<&str> {
    match schema.get("type") {
        Some(Value::String(t)) => Some(t.as_str()),
        Some(Value::Array(types)) => types
            .iter()
            .filter_map(Value::as_str)
            .find(|t| *t != "null"),
        _ if schema.get("items").is_some() => Some("array"),
        _ if schema.get("properties").is_some() => Some("object"),
        _ => None,
    }
}

/// The JSON Schema type name of a value (`integer` for whole numbers).
pub fn json_type(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_i64() || n.is_u64() => "integer",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// Cuts the keyword at `pointer` (where the validator says the document is
/// broken) out of its parent; `false` when there is nothing to cut.
fn cut(document: &mut Value, pointer: &str) -> bool {
    let Some((parent, key)) = pointer.rsplit_once('/') else {
        return false;
    };
    let key = key.replace("~1", "/").replace("~0", "~");
    match document.pointer_mut(parent) {
        Some(Value::Object(map)) => map.shift_remove(&key).is_some(),
        Some(Value::Array(items)) => match key.parse::<usize>() {
            Ok(i) if i < items.len() => {
                items[i] = Value::Bool(true);
                true
            }
            _ => false,
        },
        _ => false,
    }
}

fn build_validator(document: &Value) -> Result<jsonschema::Validator, (String, String)> {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(document)
        .map_err(|e| {
            (
                e.instance_path().as_str().to_string(),
                format!("the schema does not compile: {e}"),
            )
        })
}

/// Why a schema could not be compiled.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CompileError {
    /// A `$ref` inside it leads nowhere.
    #[error("{0}")]
    Reference(#[from] PointerError),
    /// The validator refused it; the text is the validator's.
    #[error("{0}")]
    Refused(String),
}

/// Builds the self-contained document for `schema` and compiles it.
pub fn compile(
    schema: &Value,
    root: &Value,
    dialect: Dialect,
    direction: Direction,
) -> Result<CompiledSchema, CompileError> {
    let document = self_contained(schema, root, dialect, direction)?;
    let validator =
        build_validator(&document).map_err(|(_, reason)| CompileError::Refused(reason))?;
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
) -> Result<Value, PointerError> {
    let mut document = schema.clone();
    normalize(&mut document, root, dialect, direction);
    if !document.is_object() {
        return Ok(document);
    }
    let mut pending = Vec::new();
    collect_refs(schema, &mut pending);
    let mut seen = HashSet::new();
    let mut anchored = 0usize;
    while let Some(reference) = pending.pop() {
        if !seen.insert(reference.clone()) || reference == "#" {
            continue;
        }
        // `#name` names an anchor: the schema that defines it is copied
        // like any other, from where it is in the spec.
        let reference = match reference.strip_prefix('#') {
            Some(name) if !name.starts_with('/') => match anchor_pointer(root, name) {
                Some(pointer) => format!("#{pointer}"),
                None => continue,
            },
            _ => reference,
        };
        let target = resolve_pointer(root, &reference)?;
        collect_refs(target, &mut pending);
        let mut copy = target.clone();
        normalize(&mut copy, root, dialect, direction);
        if defines_anchor(&copy) {
            // The validator finds `$anchor`s and `$dynamicAnchor`s only where
            // JSON Schema keeps subschemas, and `components/schemas` is not
            // such a place: the copy goes under `$defs`, and its own place
            // refers to it there.
            let key = format!("understudy-anchored-{anchored}");
            anchored += 1;
            insert_at(&mut document, &format!("/$defs/{key}"), copy);
            insert_at(
                &mut document,
                &reference[1..],
                serde_json::json!({"$ref": format!("#/$defs/{key}")}),
            );
        } else {
            insert_at(&mut document, &reference[1..], copy);
        }
    }
    Ok(document)
}

/// The JSON pointer of the first schema in `root` that defines the anchor
/// `name` (as `$dynamicAnchor` or `$anchor`).
fn anchor_pointer(root: &Value, name: &str) -> Option<String> {
    fn walk(value: &Value, name: &str, pointer: &mut String) -> bool {
        match value {
            Value::Object(map) => {
                let names = |key: &str| map.get(key).and_then(Value::as_str) == Some(name);
                if names("$dynamicAnchor") || names("$anchor") {
                    return true;
                }
                for (key, child) in map {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&key.replace('~', "~0").replace('/', "~1"));
                    if walk(child, name, pointer) {
                        return true;
                    }
                    pointer.truncate(len);
                }
                false
            }
            Value::Array(items) => {
                for (i, child) in items.iter().enumerate() {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&i.to_string());
                    if walk(child, name, pointer) {
                        return true;
                    }
                    pointer.truncate(len);
                }
                false
            }
            _ => false,
        }
    }
    let mut pointer = String::new();
    walk(root, name, &mut pointer).then_some(pointer)
}

/// Whether `schema` names an anchor a `$dynamicRef` or `$ref` (`#name`) may
/// lead to.
fn defines_anchor(schema: &Value) -> bool {
    match schema {
        Value::Object(map) => {
            map.contains_key("$dynamicAnchor")
                || map.contains_key("$anchor")
                || map.values().any(defines_anchor)
        }
        Value::Array(items) => items.iter().any(defines_anchor),
        _ => false,
    }
}

fn collect_refs(value: &Value, out: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                match (key.as_str(), child) {
                    ("$ref" | "$dynamicRef", Value::String(r)) if r.starts_with('#') => {
                        out.push(r.clone())
                    }
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
    fn only_a_bare_string_type_takes_any_string() {
        assert!(takes_any_string(&json!({"type": "string"})));
        assert!(takes_any_string(
            &json!({"type": "string", "description": "ID", "example": "x", "x-order": 1})
        ));
        for asserting in [
            json!({"type": "string", "format": "uuid"}),
            json!({"type": "string", "minLength": 1}),
            json!({"type": "string", "enum": ["a"]}),
            json!({"type": ["string", "null"]}),
            json!({"type": "integer"}),
            json!({"$ref": "#/components/schemas/Id"}),
            json!(true),
        ] {
            assert!(!takes_any_string(&asserting), "{asserting}");
        }
    }

    #[test]
    fn a_kept_wrapper_checks_its_own_slot_and_gives_the_value_back() {
        let slots: Vec<SchemaSlot> = (0..12)
            .map(|id| {
                let schema = if id % 2 == 0 {
                    json!({"type": "integer"})
                } else {
                    json!({"type": "object", "required": ["a"]})
                };
                SchemaSlot::new(schema, Direction::Request, id)
            })
            .collect();
        let shared = SharedSchemas::build(
            slots.iter(),
            &json!({}),
            Dialect::OpenApi31,
            Direction::Request,
        );
        // More slots than the thread keeps wrappers for, twice round, so
        // wrappers are reused, replaced and made again.
        for round in 0..2 {
            for slot in &slots {
                let schema = shared.get(slot).expect("compiled");
                let mut number = json!(7);
                let mut object = json!({"a": round});
                let even = slot.id % 2 == 0;
                assert_eq!(schema.holds(&mut number), even, "slot {}", slot.id);
                assert_eq!(schema.holds(&mut object), !even, "slot {}", slot.id);
                assert_eq!(number, json!(7));
                assert_eq!(object, json!({"a": round}));
            }
        }
    }

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
    fn dynamic_references_validate() {
        let root = json!({"components": {"schemas": {
            "Tree": {"$dynamicAnchor": "node", "type": "object", "required": ["name", "children"],
                "properties": {"name": {"type": "string"},
                    "children": {"type": "array", "items": {"$dynamicRef": "#node"}}}}
        }}});
        let compiled = compile(
            &json!({"$ref": "#/components/schemas/Tree"}),
            &root,
            Dialect::OpenApi31,
            Direction::Response,
        )
        .expect("compiles");
        assert!(!compiled.validator.is_valid(&json!({})));
        assert!(
            compiled
                .validator
                .is_valid(&json!({"name": "a", "children": [{"name": "b", "children": []}]}))
        );
        assert!(
            !compiled
                .validator
                .is_valid(&json!({"name": "a", "children": [{"name": "b"}]}))
        );
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
