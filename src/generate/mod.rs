//! JSON values that satisfy a schema: the mock's bodies when a spec gives no
//! example, and the requests tests build from a spec.
//!
//! Generation is deterministic for a seed, so a mock answers the same way on
//! every run and snapshots stay stable. It is best effort for the keywords
//! that make it hard (`oneOf`, `not`, interacting bounds): callers validate
//! the result and try again with another [`Attempt`].

pub mod pattern;
pub mod request;

pub use pattern::{PatternGenerator, Patterns};

use crate::spec::Direction;
use crate::spec::schema::NON_CONSTRAINING;
use rand::rngs::StdRng;
use rand::{RngExt, SeedableRng};
use serde_json::{Map, Number, Value};

/// What varies between tries at one schema.
#[derive(Debug, Clone, Copy)]
pub struct Attempt {
    pub seed: u64,
    /// Which `anyOf`/`oneOf` branch to prefer (rotates through the branches).
    pub branch: usize,
    /// Whether `examples`/`default` found in the schema may be used.
    pub use_examples: bool,
    /// Only required properties: the last resort for schemas whose
    /// optional properties exclude each other (`oneOf` of `required` lists).
    pub minimal: bool,
}

impl Attempt {
    /// The attempts a caller makes before giving up, in order.
    pub fn sequence(seed: u64) -> impl Iterator<Item = Attempt> {
        (0..8).map(move |i| Attempt {
            seed: seed.wrapping_add(i as u64),
            branch: i / 2,
            use_examples: i % 2 == 0,
            minimal: i >= 6,
        })
    }
}

/// Generates a value for `schema`, whose `$ref`s resolve in `document`
/// and whose `pattern`s are drawn by `patterns`.
pub fn generate(
    document: &Value,
    schema: &Value,
    patterns: &Patterns,
    direction: Direction,
    attempt: Attempt,
) -> Value {
    let mut generator = Generator {
        document,
        patterns,
        direction,
        attempt,
        rng: StdRng::seed_from_u64(attempt.seed),
        anchors: Default::default(),
    };
    generator.value(schema, 0)
}

const MAX_DEPTH: usize = 12;

/// Depth past which nothing more is generated, required or not: a schema
/// that requires a child of its own type has no finite value, and
/// following it would never end (the load warns of such schemas; the
/// caller validates what comes back and says it does not fit).
const HARD_DEPTH: usize = 48;

/// Whether `value` has a JSON type the schema's `type` allows (any, when
/// the schema names none).
fn fits_type(map: &Map<String, Value>, value: &Value) -> bool {
    let name = crate::spec::schema::json_type(value);
    let allows = |t: &str| t == name || (t == "number" && name == "integer");
    match map.get("type") {
        Some(Value::String(t)) => allows(t),
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).any(allows),
        _ => true,
    }
}

struct Generator<'a> {
    document: &'a Value,
    patterns: &'a Patterns,
    direction: Direction,
    attempt: Attempt,
    rng: StdRng,
    anchors: std::cell::RefCell<std::collections::HashMap<String, Option<&'a Value>>>,
}

fn find_anchor<'v>(value: &'v Value, name: &str) -> Option<&'v Value> {
    match value {
        Value::Object(map) => {
            let names = |key: &str| map.get(key).and_then(Value::as_str) == Some(name);
            if names("$dynamicAnchor") || names("$anchor") {
                return Some(value);
            }
            map.values().find_map(|child| find_anchor(child, name))
        }
        Value::Array(items) => items.iter().find_map(|item| find_anchor(item, name)),
        _ => None,
    }
}

impl<'a> Generator<'a> {
    fn resolve<'s>(&self, schema: &'s Value) -> &'s Value
    where
        'a: 's,
    {
        let mut node = schema;
        for _ in 0..32 {
            let reference = node
                .get("$ref")
                .or_else(|| node.get("$dynamicRef"))
                .and_then(Value::as_str);
            let Some(reference) = reference else { break };
            let target = match reference.strip_prefix('#') {
                Some(name) if !name.is_empty() && !name.starts_with('/') => self.anchor(name),
                _ => crate::spec::refs::resolve_pointer(self.document, reference).ok(),
            };
            match target {
                Some(target) => node = target,
                None => return node,
            }
        }
        node
    }

    /// The schema that names `name` as its `$dynamicAnchor` or `$anchor`,
    /// found once per generator. A `$dynamicRef` goes to the first such
    /// schema in the document: generation follows the static resolution,
    /// which is what the dynamic one gives unless a spec extends a
    /// recursive schema under the same anchor name.
    fn anchor(&self, name: &str) -> Option<&'a Value> {
        let mut anchors = self.anchors.borrow_mut();
        if let Some(found) = anchors.get(name) {
            return *found;
        }
        let found = find_anchor(self.document, name);
        anchors.insert(name.to_string(), found);
        found
    }

    fn value(&mut self, schema: &Value, depth: usize) -> Value {
        if depth > HARD_DEPTH {
            return Value::Null;
        }
        let schema = self.resolve(schema);
        let Value::Object(map) = schema else {
            return Value::Null;
        };
        if let Some(c) = map.get("const") {
            return c.clone();
        }
        if let Some(Value::Array(options)) = map.get("enum")
            && let Some(first) = options
                .iter()
                .find(|v| !v.is_null() && fits_type(map, v))
                .or_else(|| options.iter().find(|v| fits_type(map, v)))
                .or(options.first())
        {
            return first.clone();
        }
        if self.attempt.use_examples {
            if let Some(Value::Array(examples)) = map.get("examples")
                && let Some(first) = examples.first()
            {
                return first.clone();
            }
            if let Some(default) = map.get("default") {
                return default.clone();
            }
        }
        if let Some(Value::Array(parts)) = map.get("allOf") {
            let merged = self.merge_all_of(schema, parts);
            // One level deeper: an `allOf` that names its own schema merges
            // into another `allOf` for ever.
            return self.value(&merged, depth + 1);
        }
        for keyword in ["oneOf", "anyOf"] {
            if let Some(Value::Array(branches)) = map.get(keyword) {
                let non_null: Vec<&Value> = branches
                    .iter()
                    .filter(|b| self.resolve(b).get("type") != Some(&Value::String("null".into())))
                    .collect();
                let pool: Vec<&Value> = if non_null.is_empty() {
                    branches.iter().collect()
                } else {
                    non_null
                };
                if let Some(branch) = pool.get(self.attempt.branch % pool.len().max(1)) {
                    // The branch narrows the schema around it (OpenAI's
                    // `type: object, properties: …, anyOf: [{required: [a]}, …]`):
                    // both apply, as one merged schema.
                    let mut rest = map.clone();
                    rest.remove(keyword);
                    if rest
                        .keys()
                        .all(|k| k.starts_with("x-") || NON_CONSTRAINING.contains(&k.as_str()))
                    {
                        return self.value(branch, depth + 1);
                    }
                    let merged =
                        self.merge_all_of(&Value::Object(rest), std::slice::from_ref(branch));
                    return self.value(&merged, depth + 1);
                }
            }
        }
        match self.primary_type(map) {
            "object" => self.object(map, depth),
            "array" => self.array(map, depth),
            "string" => self.string(map),
            "integer" => self.integer(map),
            "number" => self.number(map),
            "boolean" => Value::Bool(self.rng.random_bool(0.5)),
            "null" => Value::Null,
            _ => Value::String("string".into()),
        }
    }

    /// One schema with the properties, required lists and bounds of all parts.
    fn merge_all_of(&self, schema: &Value, parts: &[Value]) -> Value {
        let mut merged = Map::new();
        let mut properties = Map::new();
        let mut required: Vec<Value> = Vec::new();
        let mut sources: Vec<&Value> = vec![schema];
        sources.extend(parts.iter().map(|p| self.resolve(p)));
        for source in sources {
            let Value::Object(map) = source else { continue };
            for (key, value) in map {
                match key.as_str() {
                    "allOf" if std::ptr::eq(source, schema) => {}
                    "allOf" => {
                        if let Value::Array(inner) = value
                            && let Value::Object(nested) = self.merge_all_of(source, inner)
                        {
                            for (k, v) in nested {
                                match k.as_str() {
                                    "properties" => {
                                        if let Value::Object(p) = v {
                                            for (pk, pv) in p {
                                                properties.entry(pk).or_insert(pv);
                                            }
                                        }
                                    }
                                    "required" => {
                                        if let Value::Array(r) = v {
                                            required.extend(r);
                                        }
                                    }
                                    _ => {
                                        merged.entry(k).or_insert(v);
                                    }
                                }
                            }
                        }
                    }
                    "properties" => {
                        if let Value::Object(p) = value {
                            for (pk, pv) in p {
                                properties.entry(pk.clone()).or_insert_with(|| pv.clone());
                            }
                        }
                    }
                    "required" => {
                        if let Value::Array(r) = value {
                            required.extend(r.iter().cloned());
                        }
                    }
                    "examples" | "default" if !std::ptr::eq(source, schema) => {}
                    _ => {
                        merged.entry(key.clone()).or_insert_with(|| value.clone());
                    }
                }
            }
        }
        // Every part's `type` holds: the value's type is in all of them.
        let mut types: Option<Vec<String>> = None;
        for source in std::iter::once(schema).chain(parts.iter().map(|p| self.resolve(p))) {
            let listed: Vec<String> = match source.get("type") {
                Some(Value::String(t)) => vec![t.clone()],
                Some(Value::Array(ts)) => ts
                    .iter()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect(),
                _ => continue,
            };
            types = Some(match types {
                None => listed,
                Some(earlier) => earlier
                    .into_iter()
                    .filter(|t| {
                        listed.contains(t)
                            || (t == "integer" && listed.iter().any(|l| l == "number"))
                    })
                    .chain(listed.iter().filter(|l| *l == "integer").cloned())
                    .fold(Vec::new(), |mut out, t| {
                        if !out.contains(&t) {
                            out.push(t);
                        }
                        out
                    }),
            });
        }
        if let Some(types) = types
            && !types.is_empty()
        {
            merged.insert(
                "type".into(),
                match types.as_slice() {
                    [one] => Value::String(one.clone()),
                    _ => Value::Array(types.into_iter().map(Value::String).collect()),
                },
            );
        }
        if !properties.is_empty() {
            merged.insert("properties".into(), Value::Object(properties));
            merged.entry("type").or_insert_with(|| "object".into());
        }
        if !required.is_empty() {
            required.dedup();
            merged.insert("required".into(), Value::Array(required));
        }
        Value::Object(merged)
    }

    fn primary_type(&self, map: &Map<String, Value>) -> &'static str {
        let name = match map.get("type") {
            Some(Value::String(t)) => Some(t.as_str()),
            Some(Value::Array(types)) => types
                .iter()
                .filter_map(Value::as_str)
                .find(|t| *t != "null")
                .or(Some("null")),
            _ => None,
        };
        match name {
            Some("object") => "object",
            Some("array") => "array",
            Some("string") => "string",
            Some("integer") => "integer",
            Some("number") => "number",
            Some("boolean") => "boolean",
            Some("null") => "null",
            _ if map.contains_key("properties") || map.contains_key("additionalProperties") => {
                "object"
            }
            _ if map.contains_key("items") => "array",
            _ if map.contains_key("minimum") || map.contains_key("maximum") => "number",
            _ => "string",
        }
    }

    fn object(&mut self, map: &Map<String, Value>, depth: usize) -> Value {
        let required: Vec<&str> = map
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let hidden_flag = match self.direction {
            Direction::Request => "readOnly",
            Direction::Response => "writeOnly",
        };
        let mut out = Map::new();
        if let Some(Value::Object(properties)) = map.get("properties") {
            for (name, property) in properties {
                let is_required = required.contains(&name.as_str());
                if !is_required {
                    if depth >= MAX_DEPTH / 2 || self.attempt.minimal {
                        continue;
                    }
                    let resolved = self.resolve(property);
                    if resolved.get(hidden_flag) == Some(&Value::Bool(true))
                        || property.get(hidden_flag) == Some(&Value::Bool(true))
                    {
                        continue;
                    }
                }
                if depth >= MAX_DEPTH && !is_required {
                    continue;
                }
                let value = self.value(property, depth + 1);
                out.insert(name.clone(), value);
            }
        }
        for name in required {
            if !out.contains_key(name) {
                let value = match map.get("additionalProperties") {
                    Some(extra @ Value::Object(_)) => self.value(extra, depth + 1),
                    _ => Value::String("string".into()),
                };
                out.insert(name.to_string(), value);
            }
        }
        let min = map
            .get("minProperties")
            .and_then(Value::as_u64)
            .unwrap_or(0) as usize;
        let mut n = 0;
        while out.len() < min && n < 64 {
            let value = match map.get("additionalProperties") {
                Some(extra @ Value::Object(_)) => self.value(extra, depth + 1),
                _ => Value::String("string".into()),
            };
            out.insert(format!("key{n}"), value);
            n += 1;
        }
        Value::Object(out)
    }

    fn array(&mut self, map: &Map<String, Value>, depth: usize) -> Value {
        let min = map.get("minItems").and_then(Value::as_u64).unwrap_or(0) as usize;
        let max = map
            .get("maxItems")
            .and_then(Value::as_u64)
            .map(|m| m as usize)
            .unwrap_or(usize::MAX);
        if depth >= MAX_DEPTH && min == 0 {
            return Value::Array(Vec::new());
        }
        let count = min.max(1).min(max);
        let mut items = Vec::with_capacity(count);
        if let Some(Value::Array(prefix)) = map.get("prefixItems") {
            for p in prefix.iter().take(count) {
                items.push(self.value(p, depth + 1));
            }
        }
        let item_schema = map.get("items").filter(|i| i.is_object());
        let unique = map.get("uniqueItems") == Some(&Value::Bool(true));
        let mut tries = 0;
        while items.len() < count && tries < count * 8 + 8 {
            tries += 1;
            let item = match item_schema {
                Some(schema) => self.value(schema, depth + 1),
                None => Value::String(format!("item{}", items.len())),
            };
            if unique && items.contains(&item) {
                continue;
            }
            items.push(item);
        }
        Value::Array(items)
    }

    fn string(&mut self, map: &Map<String, Value>) -> Value {
        let min = map.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
        let max = map
            .get("maxLength")
            .and_then(Value::as_u64)
            .map(|m| m as usize);
        let format = map.get("format").and_then(Value::as_str).unwrap_or("");
        let mut text = match format {
            "uuid" => self.uuid(),
            "date-time" => self.date_time(),
            "date" => self.date_time()[..10].to_string(),
            "time" => self.date_time()[11..].to_string(),
            "email" | "idn-email" => {
                format!("user{}@example.com", self.rng.random_range(1..1000u32))
            }
            "uri" | "url" | "iri" => {
                format!("https://example.com/{}", self.rng.random_range(1..1000u32))
            }
            "uri-reference" | "iri-reference" => {
                format!("/resources/{}", self.rng.random_range(1..1000u32))
            }
            "hostname" | "idn-hostname" => {
                format!("host{}.example.com", self.rng.random_range(1..100u32))
            }
            "ipv4" => format!("192.0.2.{}", self.rng.random_range(1..255u32)),
            "ipv6" => format!("2001:db8::{:x}", self.rng.random_range(1..0xffffu32)),
            "byte" => "ZXhhbXBsZQ==".to_string(),
            "duration" => "P1D".to_string(),
            "decimal" => format!(
                "{}.{:02}",
                self.rng.random_range(0..1000u32),
                self.rng.random_range(0..100u32)
            ),
            _ => String::new(),
        };
        if let Some(pattern) = map.get("pattern").and_then(Value::as_str)
            && let Some(sample) = self.matching_pattern(pattern, min, max)
        {
            return Value::String(sample);
        }
        if text.is_empty() {
            const WORDS: [&str; 6] = ["alpha", "bravo", "charlie", "delta", "echo", "foxtrot"];
            text = WORDS[self.rng.random_range(0..WORDS.len())].to_string();
        }
        while text.chars().count() < min {
            text.push('x');
        }
        if let Some(max) = max
            && text.chars().count() > max
        {
            text = text.chars().take(max).collect();
        }
        Value::String(text)
    }

    fn matching_pattern(
        &mut self,
        pattern: &str,
        min: usize,
        max: Option<usize>,
    ) -> Option<String> {
        self.patterns
            .random_matching(&mut self.rng, pattern, min, max)
    }

    fn uuid(&mut self) -> String {
        random_uuid(&mut self.rng)
    }

    fn date_time(&mut self) -> String {
        let day = self.rng.random_range(1..=28u32);
        let month = self.rng.random_range(1..=12u32);
        let hour = self.rng.random_range(0..24u32);
        let minute = self.rng.random_range(0..60u32);
        format!("2025-{month:02}-{day:02}T{hour:02}:{minute:02}:00Z")
    }

    fn integer(&mut self, map: &Map<String, Value>) -> Value {
        let (lo, hi) = bounds(map);
        let lo = lo.map(|l| l.ceil() as i64).unwrap_or(1).max(i64::MIN / 2);
        let hi = hi
            .map(|h| h.floor() as i64)
            .unwrap_or(lo.saturating_add(100))
            .min(i64::MAX / 2);
        let mut value = if hi >= lo {
            self.rng.random_range(lo..=hi.min(lo.saturating_add(100)))
        } else {
            lo
        };
        if let Some(step) = map
            .get("multipleOf")
            .and_then(Value::as_f64)
            .filter(|s| *s >= 1.0)
        {
            let step = step as i64;
            value = ((value + step - 1) / step) * step;
            if value > hi {
                value = (hi / step) * step;
            }
        }
        Value::Number(value.into())
    }

    fn number(&mut self, map: &Map<String, Value>) -> Value {
        if map.get("multipleOf").is_some() {
            return self.integer(map);
        }
        let (lo, hi) = bounds(map);
        let lo = lo.unwrap_or(0.0);
        let hi = hi.unwrap_or(lo + 100.0);
        let value = if hi > lo { lo + (hi - lo) * 0.5 } else { lo };
        Number::from_f64((value * 100.0).round() / 100.0)
            .map(Value::Number)
            .unwrap_or(Value::Null)
    }
}

/// Inclusive numeric bounds, with exclusive ones nudged inwards.
/// A random version 4 UUID.
pub fn random_uuid<R: rand::Rng>(rng: &mut R) -> String {
    crate::behaviour::uuid_text::from_bytes(&random_uuid_bytes(rng))
}

/// [`random_uuid`]'s 16 bytes, for storing without the text.
pub fn random_uuid_bytes<R: rand::Rng>(rng: &mut R) -> [u8; 16] {
    let a: u128 = rng.random();
    // Version 4, variant 1: the bits a validator and a reader expect.
    let a = (a & !(0xf << 76) | (0x4 << 76)) & !(0x3 << 62) | (0x2 << 62);
    a.to_be_bytes()
}

fn bounds(map: &Map<String, Value>) -> (Option<f64>, Option<f64>) {
    let mut lo = map.get("minimum").and_then(Value::as_f64);
    let mut hi = map.get("maximum").and_then(Value::as_f64);
    if let Some(x) = map.get("exclusiveMinimum").and_then(Value::as_f64) {
        lo = Some(lo.map_or(x + 1.0, |l| l.max(x + 1.0)));
    }
    if let Some(x) = map.get("exclusiveMaximum").and_then(Value::as_f64) {
        hi = Some(hi.map_or(x - 1.0, |h| h.min(x - 1.0)));
    }
    (lo, hi)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::{Dialect, schema::compile};
    use serde_json::json;

    fn generate_valid(root: Value, schema: Value, direction: Direction) -> Value {
        let compiled = compile(&schema, &root, Dialect::OpenApi31, direction).expect("compiles");
        for attempt in Attempt::sequence(7) {
            let value = generate(
                &compiled.document,
                &compiled.document,
                &Patterns::default(),
                direction,
                attempt,
            );
            if compiled.validator.is_valid(&value) {
                return value;
            }
        }
        panic!("no valid value for {schema}");
    }

    #[test]
    fn a_dynamic_reference_generates_the_schema_its_anchor_names() {
        let root = json!({"components": {"schemas": {
            "Forest": {"type": "array", "minItems": 2, "items": {"$dynamicRef": "#node"}},
            "Tree": {"$dynamicAnchor": "node", "type": "object", "required": ["name"],
                "properties": {"name": {"type": "string"},
                    "children": {"type": "array", "items": {"$dynamicRef": "#node"}}}}
        }}});
        // Only the anchor leads to `Tree`: no `$ref` names it.
        let schema = json!({"$ref": "#/components/schemas/Forest"});
        let value = generate_valid(root, schema, Direction::Response);
        let forest = value.as_array().expect("an array");
        assert!(
            forest.iter().all(|tree| tree["name"].is_string()),
            "{value}"
        );
    }

    #[test]
    fn formats_bounds_and_patterns_are_respected() {
        let schema = json!({"type": "object", "required": ["id", "at", "mail", "n", "name", "disk"], "properties": {
            "id": {"type": "string", "format": "uuid"},
            "at": {"type": "string", "format": "date-time"},
            "mail": {"type": "string", "format": "email"},
            "n": {"type": "integer", "minimum": 20, "multipleOf": 20},
            "name": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]*$"},
            "disk": {"type": "number", "exclusiveMinimum": 0, "maximum": 1}
        }});
        let value = generate_valid(json!({}), schema, Direction::Response);
        assert_eq!(value["n"].as_i64().map(|n| n % 20), Some(0));
    }

    #[test]
    fn a_pattern_with_a_bare_dot_is_followed() {
        // From the issue: `foxtrot` was generated for this pattern.
        let schema = json!({"type": "string", "pattern": "^[0-9]+.?[0-9]*$"});
        let value = generate_valid(json!({}), schema, Direction::Response);
        let text = value.as_str().expect("a string");
        assert!(
            text.chars().next().is_some_and(|c| c.is_ascii_digit()),
            "{text}"
        );
    }

    #[test]
    fn same_seed_same_value() {
        let schema = json!({"type": "object", "properties": {"id": {"type": "string", "format": "uuid"}, "x": {"type": "integer"}}});
        let a = generate(
            &json!({}),
            &schema,
            &Patterns::default(),
            Direction::Response,
            Attempt {
                seed: 1,
                branch: 0,
                use_examples: true,
                minimal: false,
            },
        );
        let b = generate(
            &json!({}),
            &schema,
            &Patterns::default(),
            Direction::Response,
            Attempt {
                seed: 1,
                branch: 0,
                use_examples: true,
                minimal: false,
            },
        );
        assert_eq!(a, b);
    }

    #[test]
    fn all_of_and_refs_merge() {
        let root = json!({"components": {"schemas": {"Base": {"type": "object", "required": ["id"], "properties": {"id": {"type": "integer"}}}}}});
        let schema = json!({"allOf": [{"$ref": "#/components/schemas/Base"}, {"type": "object", "required": ["name"], "properties": {"name": {"type": "string"}}}]});
        let value = generate_valid(root, schema, Direction::Response);
        assert!(value["id"].is_i64() && value["name"].is_string(), "{value}");
    }

    #[test]
    fn read_only_properties_are_left_out_of_requests() {
        let schema = json!({"type": "object", "properties": {"id": {"type": "string", "readOnly": true}, "name": {"type": "string"}}});
        let value = generate_valid(json!({}), schema, Direction::Request);
        assert!(
            value.get("id").is_none() && value.get("name").is_some(),
            "{value}"
        );
    }
}
