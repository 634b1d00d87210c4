//! `application/x-www-form-urlencoded` bodies into JSON, shaped by the
//! schema.
//!
//! Forms carry nested fields in brackets, as Stripe and PHP/Rails clients
//! send them (`address[country]=US`, `expand[]=a`, `items[0][price]=p`),
//! and lists as repeated keys (`tag=a&tag=b`). Every value arrives as text;
//! the schema says which are numbers, booleans, lists and objects, so the
//! decoded body is checked against the same schema a JSON body would be.

use super::params::{coerce, parse_query};
use crate::spec::schema::primary_type;
use crate::spec::{Api, Scalar};
use serde_json::{Map, Value};

/// Nesting deeper than this stays text: no real form nests further, and a
/// hostile key of a thousand brackets should not build a thousand levels.
const MAX_DEPTH: usize = 32;

/// Decodes `text`; `schema` is the media type's schema, when it has one.
pub fn decode(api: &Api, schema: Option<&Value>, text: &str) -> Value {
    let mut root = Map::new();
    for (key, value) in parse_query(text) {
        let (name, path) = split_brackets(&key);
        insert(&mut root, name, &path, value);
    }
    shape(api, Value::Object(root), schema, 0)
}

/// `a[b][]` → (`a`, [`b`, ``]); a key without well-formed brackets is a name.
fn split_brackets(key: &str) -> (String, Vec<String>) {
    let Some(open) = key.find('[').filter(|&i| i > 0 && key.ends_with(']')) else {
        return (key.to_string(), Vec::new());
    };
    let mut path = Vec::new();
    let mut rest = &key[open..];
    while let Some(inner) = rest.strip_prefix('[') {
        let Some(close) = inner.find(']') else {
            return (key.to_string(), Vec::new());
        };
        path.push(inner[..close].to_string());
        rest = &inner[close + 1..];
    }
    if !rest.is_empty() || path.len() > MAX_DEPTH {
        return (key.to_string(), Vec::new());
    }
    (key[..open].to_string(), path)
}

fn insert(map: &mut Map<String, Value>, name: String, path: &[String], value: String) {
    let Some((first, rest)) = path.split_first() else {
        // A repeated plain key is a list.
        match map.get_mut(&name) {
            Some(Value::Array(items)) => items.push(Value::String(value)),
            Some(existing) => {
                let earlier = existing.take();
                *existing = Value::Array(vec![earlier, Value::String(value)]);
            }
            None => {
                map.insert(name, Value::String(value));
            }
        }
        return;
    };
    let slot = map.entry(name).or_insert_with(|| {
        if first.is_empty() {
            Value::Array(Vec::new())
        } else {
            Value::Object(Map::new())
        }
    });
    match slot {
        // `a[]=x`: append; `a[][b]=x`: a new object each time.
        Value::Array(items) if first.is_empty() => {
            if rest.is_empty() {
                items.push(Value::String(value));
            } else {
                let mut inner = Map::new();
                let (next, deeper) = (rest[0].clone(), &rest[1..]);
                insert(&mut inner, next, deeper, value);
                items.push(Value::Object(inner));
            }
        }
        Value::Object(inner) if !first.is_empty() => {
            insert(inner, first.clone(), rest, value);
        }
        // Mixed forms (`a=1&a[b]=2`): the later one wins, as PHP has it.
        other => {
            let mut inner = Map::new();
            if first.is_empty() {
                *other = Value::Array(vec![Value::String(value)]);
            } else {
                insert(&mut inner, first.clone(), rest, value);
                *other = Value::Object(inner);
            }
        }
    }
}

/// Types the decoded text by the schema: scalars coerced, `{"0": …}`
/// objects and single values turned into lists where a list is wanted.
fn shape(api: &Api, value: Value, schema: Option<&Value>, depth: usize) -> Value {
    let Some(schema) = schema.map(|s| pick(api, s, &value)) else {
        return value;
    };
    if depth > MAX_DEPTH {
        return value;
    }
    match (primary_type(schema), value) {
        (Some("array"), value) => {
            let items_schema = schema.get("items");
            let items = match value {
                Value::Array(items) => items,
                Value::Object(map) if map.keys().all(|k| k.parse::<usize>().is_ok()) => {
                    let mut indexed: Vec<(usize, Value)> = map
                        .into_iter()
                        .filter_map(|(k, v)| Some((k.parse().ok()?, v)))
                        .collect();
                    indexed.sort_by_key(|(i, _)| *i);
                    indexed.into_iter().map(|(_, v)| v).collect()
                }
                // `expand=a` for a list of one; an empty value for none.
                Value::String(text) if text.is_empty() => Vec::new(),
                other => vec![other],
            };
            Value::Array(
                items
                    .into_iter()
                    .map(|item| shape(api, item, items_schema, depth + 1))
                    .collect(),
            )
        }
        (Some("object"), Value::Object(map)) => {
            let properties = schema.get("properties").and_then(Value::as_object);
            let other = schema.get("additionalProperties").filter(|a| a.is_object());
            Value::Object(
                map.into_iter()
                    .map(|(k, v)| {
                        let child = properties.and_then(|p| p.get(&k)).or(other);
                        let shaped = shape(api, v, child, depth + 1);
                        (k, shaped)
                    })
                    .collect(),
            )
        }
        (Some(kind), Value::String(text)) => coerce(
            &text,
            match kind {
                "integer" => Scalar::Integer,
                "number" => Scalar::Number,
                "boolean" => Scalar::Boolean,
                _ => Scalar::String,
            },
        ),
        (_, value) => value,
    }
}

/// The schema to shape `value` by: through `$ref`, and for `anyOf`,
/// `oneOf` and `allOf` the first part whose type fits the value's form
/// (Stripe's `anyOf: [object, enum: [""]]`).
fn pick<'a>(api: &'a Api, schema: &'a Value, value: &Value) -> &'a Value {
    let mut node = api.deref(schema).unwrap_or(schema);
    for _ in 0..8 {
        if primary_type(node).is_some() {
            return node;
        }
        let parts = ["allOf", "anyOf", "oneOf"]
            .iter()
            .find_map(|k| node.get(*k).and_then(Value::as_array));
        let Some(parts) = parts else { return node };
        let resolved: Vec<&Value> = parts.iter().map(|p| api.deref(p).unwrap_or(p)).collect();
        let wanted = match value {
            Value::Object(map) if map.keys().all(|k| k.parse::<usize>().is_ok()) => {
                &["array", "object"][..]
            }
            Value::Object(_) => &["object"][..],
            Value::Array(_) => &["array"][..],
            _ => &["string", "integer", "number", "boolean", "array"][..],
        };
        let next = resolved
            .iter()
            .find(|p| primary_type(p).is_some_and(|k| wanted.contains(&k)))
            .or_else(|| resolved.iter().find(|p| primary_type(p).is_none()))
            .or(resolved.first());
        match next {
            Some(next) => node = next,
            None => return node,
        }
    }
    node
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn api() -> Api {
        Api::from_text(
            std::path::Path::new("form.yaml"),
            "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n",
        )
        .expect("loads")
    }

    #[test]
    fn brackets_nest_and_the_schema_types_the_leaves() {
        let schema = json!({"type": "object", "properties": {
            "amount": {"type": "integer"},
            "address": {"type": "object", "properties": {"country": {"type": "string"}}},
            "expand": {"type": "array", "items": {"type": "string"}},
            "items": {"type": "array", "items": {"type": "object", "properties": {"quantity": {"type": "integer"}}}},
            "metadata": {"anyOf": [{"type": "object", "additionalProperties": {"type": "string"}}, {"type": "string", "enum": [""]}]},
            "tags": {"type": "array", "items": {"type": "string"}},
            "live": {"type": "boolean"}
        }});
        let text = "amount=100&address[country]=US&expand[]=a&expand[]=b&items[0][quantity]=2\
                    &items[1][quantity]=3&metadata[k]=v&tags=x&tags=y&live=true";
        assert_eq!(
            decode(&api(), Some(&schema), text),
            json!({
                "amount": 100,
                "address": {"country": "US"},
                "expand": ["a", "b"],
                "items": [{"quantity": 2}, {"quantity": 3}],
                "metadata": {"k": "v"},
                "tags": ["x", "y"],
                "live": true
            })
        );
    }

    #[test]
    fn a_single_value_is_a_list_of_one_and_odd_keys_stay_names() {
        let schema = json!({"type": "object", "properties": {"expand": {"type": "array", "items": {"type": "string"}}}});
        assert_eq!(
            decode(&api(), Some(&schema), "expand=a&odd[x=1&[y]=2"),
            json!({"expand": ["a"], "odd[x": "1", "[y]": "2"})
        );
    }
}
