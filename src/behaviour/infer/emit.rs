//! The inferred fixture as YAML text, with a comment over each collection
//! and operation saying what was inferred from which part of the spec.
//! Block style for mappings and lists, JSON for every scalar (a JSON
//! string is a YAML double-quoted scalar), so any value writes safely.

use super::Inference;
use serde_json::Value;
use std::fmt::Write;

/// The fixture text; `spec` is the `spec:` line's path, when the file is
/// to name its spec.
pub fn render(inference: &Inference, spec: Option<&str>, source: &str) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Inferred from {source} by understudy: the resources its paths describe,\n\
         # each stored and answered within the spec. Edit freely: this is an\n\
         # ordinary fixture (the README's \"Fixtures\"); add the API's own rules\n\
         # (errors, limits, readiness) and remove what it does not do. A\n\
         # collection's `fit` lists the answers that show its items: an item\n\
         # written outside their schemas is repaired, and the log says how."
    );
    if let Some(spec) = spec {
        let _ = writeln!(out, "spec: {}", scalar(&Value::from(spec)));
    }
    if inference.resources.is_empty() {
        out.push_str("collections: {}\noperations: {}\n");
    } else {
        let declared: Vec<_> = inference
            .resources
            .iter()
            .filter(|r| r.joins.is_none())
            .collect();
        out.push_str(match declared.is_empty() {
            true => "\ncollections: {}\n",
            false => "\ncollections:\n",
        });
        for resource in declared {
            let _ = writeln!(out, "  # {}", resource.summary());
            let _ = write!(out, "  {}:", key(&resource.name));
            block(&mut out, &resource.collection, 4);
        }
        out.push_str("\noperations:\n");
        for resource in &inference.resources {
            for op in &resource.operations {
                let _ = writeln!(out, "  # {}", op.comment);
                if let Some(collection) = &resource.joins {
                    let _ = writeln!(out, "  # (on the fixture's collection `{collection}`)");
                }
                let _ = write!(out, "  {}:", key(&op.id));
                block(&mut out, &op.entry, 4);
            }
        }
    }
    if !inference.stateless.is_empty() {
        out.push_str("\n# Left to the spec alone (answered from its examples and schemas):\n");
        for (operation, why) in &inference.stateless {
            let _ = writeln!(out, "#   {operation}: {why}");
        }
    }
    out
}

/// The same fixture as [`render`] writes, as JSON without comments: what
/// a start loads (a large spec's inference is about 1 MB of text, which
/// the JSON reader takes in a tenth of the YAML reader's time).
pub fn json(inference: &Inference) -> String {
    let mut collections = serde_json::Map::new();
    let mut operations = serde_json::Map::new();
    for resource in &inference.resources {
        if resource.joins.is_none() {
            collections.insert(resource.name.clone(), resource.collection.clone());
        }
        for op in &resource.operations {
            operations.insert(op.id.clone(), op.entry.clone());
        }
    }
    let fixture = serde_json::json!({"collections": collections, "operations": operations});
    serde_json::to_string_pretty(&fixture).unwrap_or_else(|_| "{}".into())
}

/// `value` after a `key:` already written, at `indent`.
fn block(out: &mut String, value: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            for (k, v) in map {
                let _ = write!(out, "{pad}{}:", key(k));
                block(out, v, indent + 2);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            for item in items {
                let _ = write!(out, "{pad}-");
                match item {
                    Value::Object(map) if !map.is_empty() => {
                        // The first key on the dash's line, the rest below it.
                        let mut first = true;
                        for (k, v) in map {
                            if first {
                                let _ = write!(out, " {}:", key(k));
                                first = false;
                            } else {
                                let _ = write!(out, "{pad}  {}:", key(k));
                            }
                            block(out, v, indent + 4);
                        }
                    }
                    other => {
                        out.push(' ');
                        let _ = writeln!(out, "{}", scalar(other));
                    }
                }
            }
        }
        other => {
            let _ = writeln!(out, " {}", scalar(other));
        }
    }
}

/// A key, plain when that is safe, else JSON-quoted.
fn key(name: &str) -> String {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && !matches!(
            name.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n"
        );
    if plain {
        name.to_string()
    } else {
        scalar(&Value::from(name))
    }
}

/// A scalar or an empty mapping or list: a string plain where YAML reads
/// it back as the same string, anything else as JSON (valid YAML flow).
fn scalar(value: &Value) -> String {
    match value {
        Value::String(text) if plain(text) => text.clone(),
        other => serde_json::to_string(other).unwrap_or_else(|_| "null".into()),
    }
}

/// Whether `text` reads back as itself written plain: words, dots,
/// slashes and dashes, and not a word YAML reads as something else.
fn plain(text: &str) -> bool {
    !text.is_empty()
        && text.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_' || c == '/' || c == '.')
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '/'))
        && !matches!(
            text.to_ascii_lowercase().as_str(),
            "true" | "false" | "null" | "yes" | "no" | "on" | "off" | "y" | "n" | ".nan" | ".inf"
        )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn blocks_read_back_as_the_same_value() {
        let value = json!({
            "key": "id",
            "generate": {"id": "uuid", "created": "{{ now }}"},
            "defaults": {"name": "a: b # not a comment", "tags": [], "meta": {}, "n": 1.5, "word": "alpha",
                         "yes": "yes", "path": "/a/b", "number": "12", "dot": ".inf",
                         "true": false, "weird key": null, "list": [{"a": 1, "b": [1, 2]}, "x"]},
        });
        let mut text = String::from("collection:");
        block(&mut text, &value, 2);
        let read = crate::source::yaml::parse(&text).expect("valid YAML");
        assert_eq!(read, json!({"collection": value}), "{text}");
    }

    #[test]
    fn the_json_a_start_loads_is_the_yaml_init_writes() {
        let api = crate::spec::Api::from_text(
            std::path::Path::new("t.yaml"),
            &std::fs::read_to_string(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/tests/data/infer/notes.openapi.yaml"
            ))
            .expect("the spec"),
        )
        .expect("loads");
        let inference = super::super::infer(&api);
        let yaml = crate::source::yaml::parse(&render(&inference, None, "t.yaml")).expect("YAML");
        let json: Value = serde_json::from_str(&super::json(&inference)).expect("JSON");
        assert_eq!(yaml["collections"], json["collections"]);
        assert_eq!(yaml["operations"], json["operations"]);
        assert!(json["operations"].as_object().is_some_and(|o| o.len() > 5));
    }
}
