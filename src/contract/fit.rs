//! Repairs an item the mock is about to store so that it fits the schema
//! it is shown under, by the validator's own errors.
//!
//! Inference writes a create as "the request's fields over an example of
//! the item". It checks each field's type, but what is inside a field
//! comes from the client under the *request's* schema, and requests and
//! answers differ: Discord takes a permission as an integer or a string
//! and answers a string; Hetzner's firewall rule may leave out
//! `destination_ips`, its answer always has them. Without repair such an
//! item is stored, and every answer that shows it is a 500. A real
//! server normalises what it stores; so does a collection with `fit:`.
//!
//! The repair reads each error the answer's schema reports inside the
//! item and does the least that clears it: a missing required property is
//! made from its schema, a property the schema does not allow is dropped,
//! a value of the wrong type is converted when nothing is lost (`9` to
//! `"9"`, `"9"` to `9`), anything else is made from the schema at that
//! place. Then it checks again, a bounded number of rounds.

use crate::generate::{Attempt, Patterns, generate};
use crate::source::reader::{escape, unescape};
use crate::spec::refs::resolve_pointer;
use crate::spec::{Direction, SchemaError, SlotSchema};
use jsonschema::error::ValidationErrorKind;
use serde_json::{Map, Value};

/// Rounds of check-and-repair before what is left is given up on: a
/// repair can uncover errors below it (a made object whose `oneOf` the
/// generator missed), each round goes one level further or tries another
/// branch.
const ROUNDS: usize = 8;

/// Errors read per round: an answer with more wrong in it is repaired
/// over the next rounds. A list of a thousand items that each show one
/// field otherwise than their read fits in one round.
const ERRORS_PER_ROUND: usize = 4096;

/// Repairs named one by one in a log line; the rest are counted.
const REPAIRS_NAMED: usize = 5;

/// What [`fit_item`] did.
#[derive(Debug, Default)]
pub struct Fitted {
    /// What was repaired, one line each: `/rules/0/destination_ips: made
    /// from the schema (required)`.
    pub repairs: Vec<String>,
    /// The errors no repair cleared, worded as the contract words them.
    pub left: Vec<String>,
}

impl Fitted {
    /// The repairs for a log line: the first few, and how many more.
    pub fn summary(&self) -> String {
        let mut text = self
            .repairs
            .iter()
            .take(REPAIRS_NAMED)
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("; ");
        if self.repairs.len() > REPAIRS_NAMED {
            text.push_str(&format!(
                "; and {} more",
                self.repairs.len() - REPAIRS_NAMED
            ));
        }
        text
    }
}

/// Repairs `item` so that, shown at `at` (the property path of the item
/// in the answer, empty when the answer is the item) with `hidden` fields
/// left out, it fits `schema`. Errors outside the item (the answer's
/// other properties) are not the item's and are left alone.
pub fn fit_item(
    schema: &SlotSchema<'_, '_>,
    at: &[String],
    hidden: &[String],
    item: &mut Map<String, Value>,
) -> Fitted {
    let shown: Map<String, Value> = item
        .iter()
        .filter(|(field, _)| !hidden.contains(field))
        .map(|(field, value)| (field.clone(), value.clone()))
        .collect();
    let mut answer = Value::Object(shown);
    for segment in at.iter().rev() {
        answer = Value::Object(Map::from_iter([(segment.clone(), answer)]));
    }
    let prefix: String = at.iter().map(|s| format!("/{}", escape(s))).collect();
    let fitted = fit_at(schema, &mut answer, &prefix);
    if fitted.repairs.is_empty() {
        return fitted;
    }
    let Some(Value::Object(shown)) = at.iter().try_fold(answer, |node, s| match node {
        Value::Object(mut map) => map.shift_remove(s),
        _ => None,
    }) else {
        return fitted;
    };
    item.retain(|field, _| hidden.contains(field) || shown.contains_key(field));
    for (field, value) in shown {
        item.insert(field, value);
    }
    fitted
}

/// Repairs a whole answer so that it fits `schema`: for answers built
/// from inferred state that show items otherwise than the item's own
/// answer does (a list that shows a link as an object; a spec whose read
/// and create answers contradict each other), repaired as they are sent.
pub fn fit_answer(schema: &SlotSchema<'_, '_>, answer: &mut Value) -> Fitted {
    fit_at(schema, answer, "")
}

/// [`fit_answer`] against the schema of the documented `media` type the
/// answer is sent as; `None` when it has none.
pub fn fit_media(
    api: &crate::spec::Api,
    media: Option<&crate::spec::operation::MediaType>,
    answer: &mut Value,
) -> Option<Fitted> {
    let schema = super::media_schema(api, media)?;
    Some(fit_answer(&schema, answer))
}

/// Repairs what is at `prefix` (a JSON pointer) in `answer`, rounds of
/// check and repair until it fits or no repair helps.
fn fit_at(schema: &SlotSchema<'_, '_>, answer: &mut Value, prefix: &str) -> Fitted {
    let mut fitted = Fitted::default();
    let mut errors = item_errors(schema, answer, prefix);
    let patterns = Patterns::default();
    for round in 0..ROUNDS {
        if errors.is_empty() {
            break;
        }
        let attempt = Attempt {
            seed: 0x5eed ^ round as u64,
            branch: round,
            use_examples: round % 2 == 0,
            minimal: true,
        };
        let Some(shown) = answer.pointer_mut(prefix) else {
            break;
        };
        let mut repairer = Repairer {
            schema,
            patterns: &patterns,
            attempt,
            replaced: Default::default(),
            repairs: &mut fitted.repairs,
        };
        let mut repaired = false;
        for error in errors.iter().take(ERRORS_PER_ROUND) {
            repaired |= repairer.repair(shown, &error.pointer[prefix.len()..], error);
        }
        if !repaired {
            break;
        }
        errors = item_errors(schema, answer, prefix);
    }
    fitted.left = errors
        .iter()
        .map(|e| format!("{e} at `{}`", e.pointer))
        .collect();
    fitted
}

/// The schema's errors at or below `prefix` in `answer`.
fn item_errors(schema: &SlotSchema<'_, '_>, answer: &Value, prefix: &str) -> Vec<SchemaError> {
    if schema.is_valid(answer) {
        return Vec::new();
    }
    schema
        .errors(answer)
        .into_iter()
        .filter(|e| {
            e.pointer
                .strip_prefix(prefix)
                .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
        })
        .collect()
}

struct Repairer<'r, 'a, 's> {
    schema: &'r SlotSchema<'a, 's>,
    patterns: &'r Patterns,
    attempt: Attempt,
    /// Places replaced this round: an error below one is already gone.
    replaced: std::collections::HashSet<String>,
    repairs: &'r mut Vec<String>,
}

impl<'a> Repairer<'_, 'a, '_> {
    /// Clears one error at `pointer` (relative to the item); whether
    /// anything changed.
    fn repair(&mut self, item: &mut Value, pointer: &str, error: &SchemaError) -> bool {
        // The pointer itself or any place above it.
        let above = std::iter::successors(Some(pointer), |p| p.rsplit_once('/').map(|(up, _)| up));
        if above.into_iter().any(|place| self.replaced.contains(place)) {
            return false;
        }
        let Some(keyword_at) = self.keyword_schema(error) else {
            return false;
        };
        let Some(value) = item.pointer_mut(pointer) else {
            return false;
        };
        let shown_at = if pointer.is_empty() { "/" } else { pointer };
        match error.error.kind() {
            ValidationErrorKind::Required { property } => {
                let (Some(name), Value::Object(map)) = (property.as_str(), &mut *value) else {
                    return false;
                };
                let Some(property_schema) = self.property_schema(keyword_at, name) else {
                    return false;
                };
                map.insert(name.to_string(), self.made(property_schema));
                self.repairs.push(format!(
                    "{}/{}: made from the schema (required, the write left it out)",
                    pointer,
                    escape(name)
                ));
                true
            }
            ValidationErrorKind::AdditionalProperties { unexpected }
            | ValidationErrorKind::UnevaluatedProperties { unexpected } => {
                let Value::Object(map) = value else {
                    return false;
                };
                for name in unexpected {
                    map.shift_remove(name);
                }
                self.repairs.push(format!(
                    "{shown_at}: dropped {} (the schema does not allow {})",
                    unexpected.join(", "),
                    if unexpected.len() == 1 { "it" } else { "them" }
                ));
                true
            }
            // The item itself is never replaced: its key and the rest of
            // what the client sent would go with it.
            _ if pointer.is_empty() => false,
            ValidationErrorKind::Type { .. } => {
                let schema = self.resolve(keyword_at);
                let replacement = match converted(value, schema) {
                    Some(converted) => {
                        self.repairs.push(format!(
                            "{shown_at}: {value} converted to {converted} ({})",
                            error.error
                        ));
                        converted
                    }
                    None => self.replacement(schema, shown_at, error),
                };
                *value = replacement;
                self.replaced.insert(pointer.to_string());
                true
            }
            _ => {
                *value = self.replacement(keyword_at, shown_at, error);
                self.replaced.insert(pointer.to_string());
                true
            }
        }
    }

    fn replacement(&mut self, schema: &Value, shown_at: &str, error: &SchemaError) -> Value {
        self.repairs.push(format!(
            "{shown_at}: made from the schema ({})",
            error.error
        ));
        self.made(schema)
    }

    fn made(&self, schema: &Value) -> Value {
        generate(
            self.schema.document(),
            schema,
            self.patterns,
            Direction::Response,
            self.attempt,
        )
    }

    /// The schema whose keyword failed: the error's evaluation path
    /// (through `$ref`s) without its last segment, the keyword.
    fn keyword_schema(&self, error: &SchemaError) -> Option<&'a Value> {
        let path = error.error.evaluation_path().as_str();
        let mut segments = path.split('/').skip(1).map(unescape);
        // The slot's own schema is kept apart from the shared document.
        if segments.next().as_deref() != Some("properties") {
            return None;
        }
        segments.next()?;
        let segments: Vec<String> = segments.collect();
        let (_, parents) = segments.split_last()?;
        let mut node = self.schema.schema();
        for segment in parents {
            node = match segment.as_str() {
                "$ref" => self.referenced(node)?,
                _ => match node {
                    Value::Object(map) => map.get(segment)?,
                    Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
                    _ => return None,
                },
            };
        }
        Some(node)
    }

    fn referenced(&self, node: &'a Value) -> Option<&'a Value> {
        let reference = node.get("$ref")?.as_str()?;
        resolve_pointer(self.schema.document(), reference).ok()
    }

    /// `node` with its `$ref` chain followed.
    fn resolve(&self, mut node: &'a Value) -> &'a Value {
        for _ in 0..32 {
            match self.referenced(node) {
                Some(target) => node = target,
                None => break,
            }
        }
        node
    }

    /// The schema of property `name` of the object `schema` describes:
    /// its own `properties`, else those of its `allOf` parts.
    fn property_schema(&self, schema: &'a Value, name: &str) -> Option<&'a Value> {
        let schema = self.resolve(schema);
        if let Some(found) = schema.get("properties").and_then(|p| p.get(name)) {
            return Some(found);
        }
        schema
            .get("allOf")?
            .as_array()?
            .iter()
            .find_map(|part| self.property_schema(part, name))
    }
}

/// `value` as the type `schema` names, when converting loses nothing: a
/// number or boolean written as text, text that is a number read as one.
fn converted(value: &Value, schema: &Value) -> Option<Value> {
    let wants = |name: &str| match schema.get("type") {
        Some(Value::String(t)) => t == name,
        Some(Value::Array(ts)) => ts.iter().any(|t| t == name),
        _ => false,
    };
    match value {
        Value::Number(n) if wants("string") => Some(Value::String(n.to_string())),
        Value::Bool(b) if wants("string") => Some(Value::String(b.to_string())),
        Value::String(text) if wants("integer") => text.parse::<i64>().ok().map(Value::from),
        Value::String(text) if wants("number") => text
            .parse::<f64>()
            .ok()
            .and_then(serde_json::Number::from_f64)
            .map(Value::Number),
        Value::String(text) if wants("boolean") => text.parse::<bool>().ok().map(Value::Bool),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Api;
    use serde_json::json;

    /// A spec whose `GET /firewalls/{id}` answers `{firewall: Firewall}`.
    fn api() -> Api {
        let spec = json!({
            "openapi": "3.0.3",
            "info": {"title": "t", "version": "1"},
            "paths": {"/firewalls/{id}": {"get": {
                "operationId": "get_firewall",
                "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "integer"}}],
                "responses": {"200": {"description": "ok", "content": {"application/json": {"schema": {
                    "type": "object",
                    "required": ["firewall"],
                    "properties": {"firewall": {"$ref": "#/components/schemas/Firewall"}}
                }}}}}
            }}},
            "components": {"schemas": {
                "Firewall": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["id", "name", "rules"],
                    "properties": {
                        "id": {"type": "integer"},
                        "name": {"type": "string"},
                        "rules": {"type": "array", "items": {"$ref": "#/components/schemas/Rule"}}
                    }
                },
                "Rule": {
                    "type": "object",
                    "required": ["direction", "destination_ips", "port"],
                    "properties": {
                        "direction": {"type": "string", "enum": ["in", "out"]},
                        "destination_ips": {"type": "array", "items": {"type": "string"}},
                        "port": {"type": "string"},
                        "kind": {"oneOf": [
                            {"type": "object", "required": ["a"], "properties": {"a": {"type": "integer"}}, "additionalProperties": false},
                            {"type": "object", "required": ["b"], "properties": {"b": {"type": "string"}}, "additionalProperties": false}
                        ]}
                    }
                }
            }}
        });
        Api::from_text(std::path::Path::new("firewalls.json"), &spec.to_string()).expect("loads")
    }

    /// `f` with the schema of `get_firewall`'s answer.
    fn with_schema<R>(f: impl FnOnce(&SlotSchema<'_, '_>) -> R) -> R {
        let api = api();
        let operation = api.operation("get_firewall").expect("operation");
        let slot = operation.responses[0].media[0]
            .schema
            .as_ref()
            .expect("schema");
        f(&api.compiled(slot).expect("compiles"))
    }

    fn fit(item: Value, hidden: &[&str]) -> (Value, Fitted) {
        with_schema(|schema| fit_with(schema, item, hidden))
    }

    fn fit_with(schema: &SlotSchema<'_, '_>, item: Value, hidden: &[&str]) -> (Value, Fitted) {
        let Value::Object(mut item) = item else {
            unreachable!()
        };
        let hidden: Vec<String> = hidden.iter().map(|h| h.to_string()).collect();
        let fitted = fit_item(schema, &["firewall".to_string()], &hidden, &mut item);
        let check = json!({"firewall": Value::Object(item.clone())});
        if hidden.is_empty() {
            assert_eq!(
                schema.is_valid(&check),
                fitted.left.is_empty(),
                "{fitted:?}"
            );
        }
        (Value::Object(item), fitted)
    }

    #[test]
    fn an_item_that_fits_is_left_as_it_is() {
        let item = json!({"id": 1, "name": "web", "rules": []});
        let (after, fitted) = fit(item.clone(), &[]);
        assert_eq!(after, item);
        assert!(fitted.repairs.is_empty() && fitted.left.is_empty());
    }

    #[test]
    fn what_the_write_left_out_is_made_and_what_it_sent_is_kept() {
        let (after, fitted) = fit(
            json!({"id": 1, "name": "web", "rules": [{"direction": "in", "port": 80}]}),
            &[],
        );
        assert!(fitted.left.is_empty(), "{fitted:?}");
        let rule = &after["rules"][0];
        assert_eq!(rule["direction"], "in");
        assert_eq!(
            rule["port"], "80",
            "a number the schema wants as text is converted"
        );
        assert!(rule["destination_ips"].is_array(), "{after}");
        assert_eq!(fitted.repairs.len(), 2, "{:?}", fitted.repairs);
        assert!(
            fitted
                .repairs
                .iter()
                .any(|r| r.starts_with("/rules/0/destination_ips: made")),
            "{:?}",
            fitted.repairs
        );
    }

    #[test]
    fn a_value_outside_an_enum_or_every_branch_is_made_from_its_schema() {
        let (after, fitted) = fit(
            json!({"id": 1, "name": "web", "rules": [
                {"direction": "sideways", "destination_ips": [], "port": "1", "kind": {"c": 1}}
            ]}),
            &[],
        );
        assert!(fitted.left.is_empty(), "{fitted:?}");
        let rule = &after["rules"][0];
        assert!(
            ["in", "out"].contains(&rule["direction"].as_str().unwrap()),
            "{after}"
        );
        let kind = rule["kind"].as_object().expect("an object");
        assert!(kind.contains_key("a") != kind.contains_key("b"), "{after}");
    }

    #[test]
    fn fields_the_schema_does_not_allow_are_dropped_but_hidden_ones_stay() {
        let (after, fitted) = fit(
            json!({"id": 1, "name": "web", "rules": [], "extra": true, "_parent_id": "7"}),
            &["_parent_id"],
        );
        assert!(fitted.left.is_empty(), "{fitted:?}");
        assert_eq!(
            after,
            json!({"id": 1, "name": "web", "rules": [], "_parent_id": "7"})
        );
    }

    /// A list whose thousand items each show a field otherwise than the
    /// schema has it is repaired whole, and its log line stays short.
    #[test]
    fn a_long_list_is_repaired_whole_and_summed_up() {
        let rules: Vec<Value> = (0..1000)
            .map(|port| json!({"direction": "in", "destination_ips": [], "port": port}))
            .collect();
        let mut answer = json!({"firewall": {"id": 1, "name": "web", "rules": rules}});
        let fitted = with_schema(|schema| fit_answer(schema, &mut answer));
        assert!(fitted.left.is_empty(), "{:?}", fitted.left);
        assert_eq!(fitted.repairs.len(), 1000);
        assert_eq!(answer["firewall"]["rules"][999]["port"], "999");
        let summary = fitted.summary();
        assert!(summary.ends_with("; and 995 more"), "{summary}");
        assert_eq!(summary.matches("converted").count(), 5, "{summary}");
    }

    #[test]
    fn the_item_itself_is_never_replaced() {
        // `"one"` is no number: it is made from the schema, and the item
        // around it stays.
        let (after, fitted) = fit(json!({"id": "one", "name": "web", "rules": []}), &[]);
        assert!(after["id"].is_i64(), "{after}");
        assert_eq!(after["name"], "web");
        assert!(fitted.left.is_empty(), "{fitted:?}");
    }
}
