//! Swagger 2.0 into OpenAPI 3.0, at load.
//!
//! Services still publish 2.0 (the real Waldur server's own schema
//! endpoint serves it), so a 2.0 file is converted in memory and then
//! loaded like any 3.0 spec: `serve`, `run`, `record`, `diff` and `mutate`
//! all see the same operations. What moves:
//!
//! - `host`, `basePath` and `schemes` → `servers`;
//! - `definitions`, `parameters`, `responses`, `securityDefinitions` →
//!   `components` (and every `$ref` to them is rewritten);
//! - `body` parameters → `requestBody`, one media type per `consumes`;
//!   `formData` parameters → one object schema, as `multipart/form-data`
//!   when a field is a `file` (or `consumes` says so), else a URL-encoded form;
//! - other parameters' type keywords → `schema`; `collectionFormat` → `style`/`explode`;
//! - a response's `schema` → `content`, one media type per `produces`,
//!   its `examples` by media type, its `headers`' type keywords → `schema`;
//! - `x-nullable` → `nullable`, `type: file` → binary strings,
//!   a `discriminator` name → `propertyName`.
//!
//! `x-` extensions are kept where they are. What cannot be carried over is
//! a warning with its pointer into the 2.0 file, so it names that file's line.

use crate::source::reader::escape;
use serde_json::{Map, Value, json};

/// A note on something the conversion could not carry over exactly.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    /// JSON pointer into the 2.0 document.
    pub pointer: String,
    pub message: String,
}

/// True for a Swagger 2.0 document.
pub fn is_swagger2(document: &Value) -> bool {
    document
        .get("swagger")
        .is_some_and(|v| v.as_str() == Some("2.0") || v.as_f64() == Some(2.0))
}

/// The OpenAPI 3.0 document equivalent to `source`, with notes.
pub fn convert(source: &Value) -> (Value, Vec<Note>) {
    let mut notes = Vec::new();
    let empty = Map::new();
    let root = source.as_object().unwrap_or(&empty);
    let consumes = media_list(root.get("consumes"));
    let produces = media_list(root.get("produces"));
    let mut out = Map::new();
    out.insert("openapi".into(), json!("3.0.3"));
    for (key, value) in root {
        match key.as_str() {
            "swagger"
            | "host"
            | "basePath"
            | "schemes"
            | "consumes"
            | "produces"
            | "paths"
            | "definitions"
            | "parameters"
            | "responses"
            | "securityDefinitions" => {}
            _ => {
                out.insert(key.clone(), rewrite_refs(value.clone()));
            }
        }
    }
    out.insert("servers".into(), servers(root));

    let mut components = Map::new();
    if let Some(Value::Object(definitions)) = root.get("definitions") {
        let schemas = definitions
            .iter()
            .map(|(name, schema)| (name.clone(), schema_of(schema)))
            .collect();
        components.insert("schemas".into(), Value::Object(schemas));
    }
    // Shared parameters are inlined where they are used (a body parameter
    // becomes a request body, not a parameter), so only plain ones stay shared.
    if let Some(Value::Object(parameters)) = root.get("parameters") {
        let plain: Map<String, Value> = parameters
            .iter()
            .filter(|(_, p)| {
                !matches!(
                    p.get("in").and_then(Value::as_str),
                    Some("body" | "formData")
                )
            })
            .map(|(name, p)| {
                let pointer = format!("/parameters/{}", escape(name));
                (name.clone(), parameter(p, &pointer, &mut notes))
            })
            .collect();
        if !plain.is_empty() {
            components.insert("parameters".into(), Value::Object(plain));
        }
    }
    if let Some(Value::Object(responses)) = root.get("responses") {
        let converted = responses
            .iter()
            .map(|(name, r)| {
                let pointer = format!("/responses/{}", escape(name));
                (name.clone(), response(r, &produces, &pointer, &mut notes))
            })
            .collect();
        components.insert("responses".into(), Value::Object(converted));
    }
    if let Some(Value::Object(schemes)) = root.get("securityDefinitions") {
        let converted = schemes
            .iter()
            .map(|(name, scheme)| {
                let pointer = format!("/securityDefinitions/{}", escape(name));
                (name.clone(), security_scheme(scheme, &pointer, &mut notes))
            })
            .collect();
        components.insert("securitySchemes".into(), Value::Object(converted));
    }
    if !components.is_empty() {
        out.insert("components".into(), Value::Object(components));
    }

    let mut paths = Map::new();
    if let Some(Value::Object(items)) = root.get("paths") {
        for (template, item) in items {
            let pointer = format!("/paths/{}", escape(template));
            let context = Context {
                root: source,
                consumes: &consumes,
                produces: &produces,
            };
            paths.insert(
                template.clone(),
                path_item(&context, item, &pointer, &mut notes),
            );
        }
    }
    out.insert("paths".into(), Value::Object(paths));
    (Value::Object(out), notes)
}

struct Context<'a> {
    root: &'a Value,
    consumes: &'a [String],
    produces: &'a [String],
}

const METHODS: [&str; 7] = ["get", "put", "post", "delete", "options", "head", "patch"];

fn path_item(context: &Context<'_>, item: &Value, pointer: &str, notes: &mut Vec<Note>) -> Value {
    let Value::Object(map) = item else {
        return item.clone();
    };
    if map.contains_key("$ref") {
        notes.push(Note {
            pointer: format!("{pointer}/$ref"),
            message:
                "a path item `$ref` in Swagger 2.0 is kept as it is; its target is not converted"
                    .into(),
        });
        return item.clone();
    }
    let shared: Vec<Value> = map
        .get("parameters")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut out = Map::new();
    for (key, value) in map {
        if METHODS.contains(&key.as_str()) {
            let op_pointer = format!("{pointer}/{key}");
            out.insert(
                key.clone(),
                operation(context, value, &shared, &op_pointer, notes),
            );
        } else if key != "parameters" {
            out.insert(key.clone(), rewrite_refs(value.clone()));
        }
    }
    Value::Object(out)
}

fn operation(
    context: &Context<'_>,
    op: &Value,
    shared: &[Value],
    pointer: &str,
    notes: &mut Vec<Note>,
) -> Value {
    let Value::Object(map) = op else {
        return op.clone();
    };
    let consumes = map
        .get("consumes")
        .map(|c| media_list(Some(c)))
        .unwrap_or_else(|| context.consumes.to_vec());
    let produces = map
        .get("produces")
        .map(|p| media_list(Some(p)))
        .unwrap_or_else(|| context.produces.to_vec());
    let mut out = Map::new();
    for (key, value) in map {
        match key.as_str() {
            "consumes" | "produces" | "parameters" | "responses" | "schemes" => {}
            _ => {
                out.insert(key.clone(), rewrite_refs(value.clone()));
            }
        }
    }
    // Path-level parameters first; the operation's own override them by name and place.
    let own: Vec<(Value, String)> = map
        .get("parameters")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .enumerate()
        .map(|(i, p)| (p.clone(), format!("{pointer}/parameters/{i}")))
        .collect();
    let mut all: Vec<(Value, String)> = Vec::new();
    for (i, p) in shared.iter().enumerate() {
        let parent = pointer.rsplit_once('/').map_or("", |(p, _)| p);
        all.push((p.clone(), format!("{parent}/parameters/{i}")));
    }
    for (p, at) in own {
        let key = identity(context.root, &p);
        all.retain(|(q, _)| identity(context.root, q) != key);
        all.push((p, at));
    }

    let mut parameters = Vec::new();
    let mut body: Option<(Value, bool)> = None;
    let mut form_fields = Map::new();
    let mut form_required = Vec::new();
    let mut has_file = false;
    for (raw, at) in all {
        let (resolved, shared_name) = resolve_parameter(context.root, &raw);
        match resolved.get("in").and_then(Value::as_str) {
            Some("body") => {
                let schema = resolved.get("schema").map(schema_of).unwrap_or(json!({}));
                let required = resolved.get("required") == Some(&Value::Bool(true));
                body = Some((schema, required));
            }
            Some("formData") => {
                let name = resolved
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                if resolved.get("type").and_then(Value::as_str) == Some("file") {
                    has_file = true;
                }
                if resolved.get("required") == Some(&Value::Bool(true)) {
                    form_required.push(Value::String(name.clone()));
                }
                form_fields.insert(name, type_schema(&resolved));
            }
            _ => match shared_name {
                Some(name) => {
                    parameters.push(json!({"$ref": format!("#/components/parameters/{name}")}))
                }
                None => parameters.push(parameter(&resolved, &at, notes)),
            },
        }
    }
    if !parameters.is_empty() {
        out.insert("parameters".into(), Value::Array(parameters));
    }
    let request_media = if consumes.is_empty() {
        vec!["application/json".to_string()]
    } else {
        consumes.clone()
    };
    if let Some((schema, required)) = body {
        let content: Map<String, Value> = request_media
            .iter()
            .filter(|m| !is_form(m))
            .map(|m| (m.clone(), json!({"schema": schema})))
            .collect();
        let content = if content.is_empty() {
            Map::from_iter([("application/json".to_string(), json!({"schema": schema}))])
        } else {
            content
        };
        out.insert(
            "requestBody".into(),
            json!({"required": required, "content": content}),
        );
    } else if !form_fields.is_empty() {
        let multipart = has_file || consumes.iter().any(|m| m == "multipart/form-data");
        let media = if multipart {
            "multipart/form-data"
        } else {
            "application/x-www-form-urlencoded"
        };
        let mut schema = json!({"type": "object", "properties": form_fields});
        if !form_required.is_empty() {
            schema["required"] = Value::Array(form_required.clone());
        }
        out.insert(
            "requestBody".into(),
            json!({"required": !form_required.is_empty(), "content": {media: {"schema": schema}}}),
        );
    }
    let response_media = if produces.is_empty() {
        vec!["application/json".to_string()]
    } else {
        produces
    };
    if let Some(Value::Object(responses)) = map.get("responses") {
        let converted = responses
            .iter()
            .map(|(status, r)| {
                let at = format!("{pointer}/responses/{}", escape(status));
                (status.clone(), response(r, &response_media, &at, notes))
            })
            .collect();
        out.insert("responses".into(), Value::Object(converted));
    }
    Value::Object(out)
}

/// A parameter's name and place, through `$ref`, to let an operation's
/// own parameters replace the path's.
fn identity(root: &Value, parameter: &Value) -> (String, String) {
    let (p, _) = resolve_parameter(root, parameter);
    (
        p.get("name")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        p.get("in")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
    )
}

/// Follows `#/parameters/X`; the name comes back when the target is shared.
fn resolve_parameter(root: &Value, parameter: &Value) -> (Value, Option<String>) {
    if let Some(reference) = parameter.get("$ref").and_then(Value::as_str)
        && let Some(name) = reference.strip_prefix("#/parameters/")
    {
        let unescaped = name.replace("~1", "/").replace("~0", "~");
        if let Some(target) = root.get("parameters").and_then(|p| p.get(&unescaped)) {
            let shared = !matches!(
                target.get("in").and_then(Value::as_str),
                Some("body" | "formData")
            );
            return (target.clone(), shared.then(|| name.to_string()));
        }
    }
    (parameter.clone(), None)
}

/// A query, path, header or cookie parameter in 3.0 form.
fn parameter(p: &Value, pointer: &str, notes: &mut Vec<Note>) -> Value {
    let Value::Object(map) = p else {
        return p.clone();
    };
    if map.contains_key("$ref") {
        return rewrite_refs(p.clone());
    }
    let mut out = Map::new();
    for key in ["name", "in", "description", "required", "allowEmptyValue"] {
        if let Some(v) = map.get(key) {
            out.insert(key.into(), v.clone());
        }
    }
    for (key, value) in map.iter().filter(|(k, _)| k.starts_with("x-")) {
        out.insert(key.clone(), value.clone());
    }
    out.insert("schema".into(), type_schema(p));
    let location = map.get("in").and_then(Value::as_str).unwrap_or("");
    if map.get("type").and_then(Value::as_str) == Some("array") {
        let format = map
            .get("collectionFormat")
            .and_then(Value::as_str)
            .unwrap_or("csv");
        let (style, explode) = match (format, location) {
            ("multi", _) => ("form", true),
            ("ssv", _) => ("spaceDelimited", false),
            ("pipes", _) => ("pipeDelimited", false),
            ("csv", "query" | "cookie") => ("form", false),
            ("csv", _) => ("simple", false),
            (other, _) => {
                notes.push(Note {
                    pointer: format!("{pointer}/collectionFormat"),
                    message: format!(
                        "`collectionFormat: {other}` has no OpenAPI 3 style; read as comma-separated"
                    ),
                });
                if matches!(location, "query" | "cookie") {
                    ("form", false)
                } else {
                    ("simple", false)
                }
            }
        };
        out.insert("style".into(), json!(style));
        out.insert("explode".into(), json!(explode));
    }
    Value::Object(out)
}

/// The JSON Schema keywords of a 2.0 parameter, header or items object.
fn type_schema(p: &Value) -> Value {
    const KEYWORDS: [&str; 16] = [
        "type",
        "format",
        "default",
        "maximum",
        "exclusiveMaximum",
        "minimum",
        "exclusiveMinimum",
        "maxLength",
        "minLength",
        "pattern",
        "maxItems",
        "minItems",
        "uniqueItems",
        "enum",
        "multipleOf",
        "x-nullable",
    ];
    let mut schema = Map::new();
    for key in KEYWORDS {
        if let Some(v) = p.get(key) {
            schema.insert(key.into(), v.clone());
        }
    }
    if let Some(items) = p.get("items") {
        schema.insert("items".into(), type_schema(items));
    }
    schema_of(&Value::Object(schema))
}

fn response(r: &Value, produces: &[String], pointer: &str, notes: &mut Vec<Note>) -> Value {
    let Value::Object(map) = r else {
        return r.clone();
    };
    if map.contains_key("$ref") {
        return rewrite_refs(r.clone());
    }
    let mut out = Map::new();
    out.insert(
        "description".into(),
        map.get("description").cloned().unwrap_or(json!("")),
    );
    for (key, value) in map.iter().filter(|(k, _)| k.starts_with("x-")) {
        out.insert(key.clone(), value.clone());
    }
    let examples = map.get("examples").and_then(Value::as_object);
    if let Some(schema) = map.get("schema") {
        let schema = schema_of(schema);
        let media: Vec<String> = if produces.is_empty() {
            vec!["application/json".into()]
        } else {
            produces.to_vec()
        };
        let content: Map<String, Value> = media
            .iter()
            .map(|m| {
                let mut entry = json!({"schema": schema});
                if let Some(example) = examples.and_then(|e| e.get(m)) {
                    entry["example"] = example.clone();
                }
                (m.clone(), entry)
            })
            .collect();
        out.insert("content".into(), Value::Object(content));
    } else if let Some(examples) = examples {
        notes.push(Note {
            pointer: format!("{pointer}/examples"),
            message: format!(
                "examples for {} without a `schema` are left out",
                examples.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        });
    }
    if let Some(Value::Object(headers)) = map.get("headers") {
        let converted: Map<String, Value> = headers
            .iter()
            .map(|(name, h)| {
                let mut header = Map::new();
                if let Some(d) = h.get("description") {
                    header.insert("description".into(), d.clone());
                }
                header.insert("schema".into(), type_schema(h));
                (name.clone(), Value::Object(header))
            })
            .collect();
        out.insert("headers".into(), Value::Object(converted));
    }
    Value::Object(out)
}

fn security_scheme(scheme: &Value, pointer: &str, notes: &mut Vec<Note>) -> Value {
    let kind = scheme.get("type").and_then(Value::as_str).unwrap_or("");
    let description = scheme.get("description").cloned();
    let mut out = match kind {
        "basic" => json!({"type": "http", "scheme": "basic"}),
        "apiKey" => json!({"type": "apiKey", "name": scheme.get("name"), "in": scheme.get("in")}),
        "oauth2" => {
            let flow = match scheme.get("flow").and_then(Value::as_str) {
                Some("implicit") => "implicit",
                Some("password") => "password",
                Some("application") => "clientCredentials",
                _ => "authorizationCode",
            };
            let mut details = Map::new();
            if let Some(url) = scheme.get("authorizationUrl") {
                details.insert("authorizationUrl".into(), url.clone());
            }
            if let Some(url) = scheme.get("tokenUrl") {
                details.insert("tokenUrl".into(), url.clone());
            }
            details.insert(
                "scopes".into(),
                scheme.get("scopes").cloned().unwrap_or(json!({})),
            );
            json!({"type": "oauth2", "flows": {flow: details}})
        }
        other => {
            notes.push(Note {
                pointer: format!("{pointer}/type"),
                message: format!("unknown security scheme type `{other}`"),
            });
            scheme.clone()
        }
    };
    if let (Some(d), Value::Object(map)) = (description, &mut out) {
        map.insert("description".into(), d);
    }
    out
}

/// A 2.0 schema as a 3.0 one: references rewritten, `x-nullable`,
/// `type: file` and string discriminators translated, at every depth.
fn schema_of(schema: &Value) -> Value {
    match schema {
        Value::Object(map) => {
            let mut out = Map::new();
            for (key, value) in map {
                match key.as_str() {
                    "$ref" => {
                        out.insert(key.clone(), rewrite_ref(value));
                    }
                    "x-nullable" => {
                        out.insert("nullable".into(), value.clone());
                    }
                    "type" if value == "file" => {
                        out.insert("type".into(), json!("string"));
                        out.insert("format".into(), json!("binary"));
                    }
                    "discriminator" if value.is_string() => {
                        out.insert(key.clone(), json!({"propertyName": value}));
                    }
                    "example" | "default" | "enum" => {
                        out.insert(key.clone(), value.clone());
                    }
                    _ => {
                        out.insert(key.clone(), schema_of(value));
                    }
                }
            }
            Value::Object(out)
        }
        Value::Array(items) => Value::Array(items.iter().map(schema_of).collect()),
        other => other.clone(),
    }
}

/// Every `$ref` to a 2.0 section, anywhere in `value`, to its 3.0 place.
fn rewrite_refs(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| {
                    let v = if k == "$ref" {
                        rewrite_ref(&v)
                    } else {
                        rewrite_refs(v)
                    };
                    (k, v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(rewrite_refs).collect()),
        other => other,
    }
}

fn rewrite_ref(reference: &Value) -> Value {
    let Some(text) = reference.as_str() else {
        return reference.clone();
    };
    let (file, fragment) = text.split_once('#').unwrap_or((text, ""));
    let fragment = [
        ("/definitions/", "/components/schemas/"),
        ("/parameters/", "/components/parameters/"),
        ("/responses/", "/components/responses/"),
    ]
    .iter()
    .find_map(|(from, to)| {
        fragment
            .strip_prefix(from)
            .map(|rest| format!("{to}{rest}"))
    })
    .unwrap_or_else(|| fragment.to_string());
    if text.contains('#') {
        Value::String(format!("{file}#{fragment}"))
    } else {
        Value::String(text.to_string())
    }
}

fn servers(root: &Map<String, Value>) -> Value {
    let base = root.get("basePath").and_then(Value::as_str).unwrap_or("");
    match root.get("host").and_then(Value::as_str) {
        Some(host) => {
            let schemes: Vec<&str> = root
                .get("schemes")
                .and_then(Value::as_array)
                .map(|s| s.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let schemes = if schemes.is_empty() {
                vec!["https"]
            } else {
                schemes
            };
            Value::Array(
                schemes
                    .into_iter()
                    .map(|scheme| json!({"url": format!("{scheme}://{host}{base}")}))
                    .collect(),
            )
        }
        None if !base.is_empty() && base != "/" => json!([{"url": base}]),
        None => json!([]),
    }
}

fn media_list(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|list| {
            list.iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

fn is_form(media: &str) -> bool {
    media == "application/x-www-form-urlencoded" || media == "multipart/form-data"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_forms_responses_and_references_move_to_their_3_0_places() {
        let source = json!({
            "swagger": "2.0",
            "info": {"title": "t", "version": "1"},
            "host": "api.example.com",
            "basePath": "/v1",
            "produces": ["application/json", "application/xml"],
            "x-logo": "kept",
            "securityDefinitions": {"basic": {"type": "basic"}},
            "definitions": {"Pet": {"type": "object", "properties": {"tag": {"type": "string", "x-nullable": true}}}},
            "paths": {"/pets": {
                "post": {
                    "parameters": [{"in": "body", "name": "pet", "required": true, "schema": {"$ref": "#/definitions/Pet"}}],
                    "responses": {"201": {"description": "made", "schema": {"$ref": "#/definitions/Pet"}, "headers": {"X-Id": {"type": "integer"}}}}
                },
                "put": {
                    "parameters": [
                        {"in": "formData", "name": "photo", "type": "file", "required": true},
                        {"in": "query", "name": "tags", "type": "array", "items": {"type": "string"}, "collectionFormat": "multi"}
                    ],
                    "responses": {"204": {"description": "stored"}}
                }
            }}
        });
        let (converted, notes) = convert(&source);
        assert!(notes.is_empty(), "{notes:?}");
        assert_eq!(converted["openapi"], "3.0.3");
        assert_eq!(converted["servers"][0]["url"], "https://api.example.com/v1");
        assert_eq!(converted["x-logo"], "kept");
        assert_eq!(
            converted["components"]["securitySchemes"]["basic"]["scheme"],
            "basic"
        );
        assert_eq!(
            converted["components"]["schemas"]["Pet"]["properties"]["tag"]["nullable"],
            true
        );
        let post = &converted["paths"]["/pets"]["post"];
        assert_eq!(
            post["requestBody"]["content"]["application/json"]["schema"]["$ref"],
            "#/components/schemas/Pet"
        );
        assert_eq!(post["requestBody"]["required"], true);
        let made = &post["responses"]["201"];
        assert!(made["content"]["application/xml"]["schema"].is_object());
        assert_eq!(made["headers"]["X-Id"]["schema"]["type"], "integer");
        let put = &converted["paths"]["/pets"]["put"];
        let form = &put["requestBody"]["content"]["multipart/form-data"]["schema"];
        assert_eq!(form["properties"]["photo"]["format"], "binary");
        assert_eq!(form["required"], json!(["photo"]));
        assert_eq!(put["parameters"][0]["style"], "form");
        assert_eq!(put["parameters"][0]["explode"], true);
    }

    #[test]
    fn what_cannot_be_carried_over_is_noted_with_its_pointer() {
        let source = json!({
            "swagger": "2.0",
            "info": {"title": "t", "version": "1"},
            "paths": {"/a": {"get": {
                "parameters": [{"in": "query", "name": "ids", "type": "array", "items": {"type": "integer"}, "collectionFormat": "tsv"}],
                "responses": {"200": {"description": "ok"}}
            }}}
        });
        let (_, notes) = convert(&source);
        assert_eq!(notes.len(), 1);
        assert_eq!(
            notes[0].pointer,
            "/paths/~1a/get/parameters/0/collectionFormat"
        );
    }
}
