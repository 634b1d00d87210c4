//! Building an [`Api`] from a file: version, servers, security schemes and
//! operations. Structural mistakes that would make the spec unusable are
//! errors with their line; anything merely unknown is ignored, as OpenAPI
//! tooling is expected to tolerate extensions.

use super::operation::*;
use super::refs::{self, deref};
use super::schema::primary_type;
use super::security::SecurityScheme;
use super::{Api, Dialect, Direction, SchemaSlot, SpecError};
use crate::source::SourceDocument;
use hyper::Method;
use serde_json::Value;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

pub fn load(path: &Path) -> Result<Api, SpecError> {
    build(SourceDocument::read(path)?)
}

/// Loads `path` with `overlays` applied, in order, to the document as
/// written (before a Swagger 2.0 file is converted and before anything is
/// checked), so the corrected spec is the one that is checked and served.
pub fn load_with_overlays(path: &Path, overlays: &[super::Overlay]) -> Result<Api, SpecError> {
    let mut document = SourceDocument::read(path)?;
    for overlay in overlays {
        overlay.apply(&mut document.value)?;
    }
    build(document)
}

pub fn load_text(path: &Path, text: &str) -> Result<Api, SpecError> {
    build(SourceDocument::parse(path, Arc::from(text))?)
}

fn build(mut document: SourceDocument) -> Result<Api, SpecError> {
    let source = document.path.clone();
    if !document.value.is_object() {
        return Err(SpecError::Invalid {
            at: document.locate(""),
            message: "an OpenAPI document must be a mapping at the top level".into(),
        });
    }
    // Swagger 2.0 becomes 3.0 here; its notes point into the 2.0 text.
    let mut conversion_notes = Vec::new();
    if super::swagger2::is_swagger2(&document.value) {
        let (converted, notes) = super::swagger2::convert(&document.value);
        document.value = converted;
        conversion_notes = notes
            .into_iter()
            .map(|note| SpecError::Invalid {
                at: document.locate(&note.pointer),
                message: format!("Swagger 2.0: {}", note.message),
            })
            .collect();
    }
    let dialect = read_version(&document)?;
    let bundle = Arc::new(refs::bundle(document)?);
    let root = &bundle.root;
    let reader = Reader {
        root,
        bundle: &bundle,
        slot_ids: std::cell::Cell::new(0),
    };
    let title = root
        .pointer("/info/title")
        .and_then(Value::as_str)
        .unwrap_or("API")
        .to_string();
    let base_paths = base_paths(root);
    // A component that can only be infinite describes nothing a client
    // could send or a server answer: the spec is refused, with its line.
    if let Some((pointer, message)) = super::infinite::infinite_schemas(root).into_iter().next() {
        return Err(reader.invalid(&pointer, &message));
    }
    // Found now, located (a second parse of a large file) on a thread.
    let broken = super::lint::broken_schemas(root, MAX_WARNINGS);
    let warnings = match broken.is_empty() {
        true => super::warnings::Warnings::located(conversion_notes),
        false => {
            let bundle = bundle.clone();
            super::warnings::Warnings::later(conversion_notes, move || {
                broken
                    .into_iter()
                    .map(|(pointer, message)| SpecError::Invalid {
                        at: bundle.locate(&pointer),
                        message: format!("{message}\n  in {pointer}"),
                    })
                    .collect()
            })
        }
    };
    let security_schemes = reader.security_schemes()?;
    let global_security = reader.security(root.get("security"), "/security", &security_schemes)?;

    let mut router = super::router::Router::default();
    let mut operations = Vec::new();
    let mut operations_by_template: Vec<Vec<usize>> = Vec::new();
    let mut operation_ids: HashMap<String, String> = HashMap::new();
    if let Some(paths) = root.get("paths") {
        let Value::Object(paths) = paths else {
            return Err(reader.invalid("/paths", "`paths` must be a mapping"));
        };
        for (template, item) in paths {
            if !template.starts_with('/') {
                if template.starts_with("x-") {
                    continue;
                }
                return Err(reader.invalid(
                    &format!("/paths/{}", escape(template)),
                    &format!("path `{template}` must start with `/`"),
                ));
            }
            let item_pointer = format!("/paths/{}", escape(template));
            if let Some(problem) = super::router::template_problem(template) {
                return Err(reader.invalid(
                    &item_pointer,
                    &format!("path `{template}` is not a valid template: {problem}"),
                ));
            }
            let item = deref(root, item).ok_or_else(|| {
                reader.invalid(&item_pointer, "the path item `$ref` does not resolve")
            })?;
            let template_index = router.insert(template);
            if router.template(template_index) != template {
                return Err(reader.invalid(
                    &item_pointer,
                    &format!(
                        "`{template}` is the same path as `{}`: paths may not differ only in \
                         the names of their parameters",
                        router.template(template_index)
                    ),
                ));
            }
            if operations_by_template.len() <= template_index {
                operations_by_template.resize(template_index + 1, Vec::new());
            }
            for (method_name, method) in METHODS {
                let Some(op) = item.get(*method_name) else {
                    continue;
                };
                let pointer = format!("{item_pointer}/{method_name}");
                // Multi-file specs (DigitalOcean's) keep each operation in its own file.
                let op = deref(root, op).ok_or_else(|| {
                    reader.invalid(&pointer, "the operation `$ref` does not resolve")
                })?;
                let operation = reader.operation(
                    template,
                    method.clone(),
                    item,
                    op,
                    &pointer,
                    &global_security,
                    &security_schemes,
                )?;
                let here = format!("{} {template}", operation.method);
                if let Some(first) = operation_ids.insert(operation.id.clone(), here) {
                    return Err(reader.invalid(
                        &format!("{pointer}/operationId"),
                        &format!(
                            "operationId `{}` is already the id of {first}; each must be unique",
                            operation.id
                        ),
                    ));
                }
                operations_by_template[template_index].push(operations.len());
                operations.push(operation);
            }
        }
    }
    Ok(Api {
        warnings: Arc::new(warnings),
        title,
        source,
        dialect,
        operations,
        base_paths,
        security_schemes,
        router,
        operations_by_template,
        bundle,
        shared: Default::default(),
    })
}

/// Enough to act on; a spec with hundreds of broken schemas needs a
/// different fix than reading each one.
const MAX_WARNINGS: usize = 20;

const METHODS: &[(&str, Method)] = &[
    ("get", Method::GET),
    ("put", Method::PUT),
    ("post", Method::POST),
    ("delete", Method::DELETE),
    ("options", Method::OPTIONS),
    ("head", Method::HEAD),
    ("patch", Method::PATCH),
    ("trace", Method::TRACE),
];

fn read_version(document: &SourceDocument) -> Result<Dialect, SpecError> {
    let found = match document.value.get("openapi") {
        Some(Value::String(v)) => v.clone(),
        Some(other) => other.to_string(),
        None => {
            let message = if document.value.get("swagger").is_some() {
                "only Swagger 2.0 and OpenAPI 3.0/3.1 are read; this `swagger` version is neither"
            } else {
                "missing `openapi` version field: not an OpenAPI 3 (or Swagger 2.0) document"
            };
            return Err(SpecError::Invalid {
                at: document.locate(""),
                message: message.into(),
            });
        }
    };
    if found.starts_with("3.0.") || found == "3.0" {
        Ok(Dialect::OpenApi30)
    } else if found.starts_with("3.1.") || found == "3.1" {
        Ok(Dialect::OpenApi31)
    } else {
        Err(SpecError::UnsupportedVersion {
            at: document.locate("/openapi"),
            found,
        })
    }
}

/// Path prefixes from `servers[].url` (`https://api.example.com/v1` gives `/v1`).
fn base_paths(root: &Value) -> Vec<String> {
    let mut bases: Vec<String> = root
        .get("servers")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|server| {
            let url = server.get("url")?.as_str()?;
            let url = substitute_defaults(url, server.get("variables"));
            let path = match url.find("://") {
                Some(i) => url[i + 3..].find('/').map_or("", |p| &url[i + 3 + p..]),
                None => url.as_str(),
            };
            let path = path.trim_end_matches('/');
            (path.starts_with('/') && path.len() > 1).then(|| path.to_string())
        })
        .collect();
    bases.sort_by_key(|b| std::cmp::Reverse(b.len()));
    bases.dedup();
    bases
}

fn substitute_defaults(url: &str, variables: Option<&Value>) -> String {
    let mut out = url.to_string();
    if let Some(Value::Object(vars)) = variables {
        for (name, var) in vars {
            if let Some(default) = var.get("default").and_then(Value::as_str) {
                out = out.replace(&format!("{{{name}}}"), default);
            }
        }
    }
    out
}

use crate::source::reader::escape;

struct Reader<'a> {
    root: &'a Value,
    bundle: &'a refs::Bundle,
    /// The next schema slot's id.
    slot_ids: std::cell::Cell<usize>,
}

impl Reader<'_> {
    fn slot(&self, schema: Value, direction: Direction) -> SchemaSlot {
        let id = self.slot_ids.get();
        self.slot_ids.set(id + 1);
        SchemaSlot::new(schema, direction, id)
    }

    fn invalid(&self, pointer: &str, message: &str) -> SpecError {
        SpecError::Invalid {
            at: self.bundle.locate(pointer),
            message: message.to_string(),
        }
    }

    fn security_schemes(&self) -> Result<foldhash::HashMap<String, SecurityScheme>, SpecError> {
        let mut schemes = foldhash::HashMap::default();
        let Some(Value::Object(map)) = self.root.pointer("/components/securitySchemes") else {
            return Ok(schemes);
        };
        for (name, scheme) in map {
            let pointer = format!("/components/securitySchemes/{}", escape(name));
            let scheme = deref(self.root, scheme)
                .ok_or_else(|| self.invalid(&pointer, "the `$ref` does not resolve"))?;
            let kind = scheme
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let parsed = match kind {
                "apiKey" => {
                    let key_name = scheme.get("name").and_then(Value::as_str);
                    let location = match scheme.get("in").and_then(Value::as_str) {
                        Some("header") => ParameterLocation::Header,
                        Some("query") => ParameterLocation::Query,
                        Some("cookie") => ParameterLocation::Cookie,
                        _ => {
                            return Err(self.invalid(
                                &pointer,
                                "an apiKey scheme needs `in: header|query|cookie`",
                            ));
                        }
                    };
                    let Some(key_name) = key_name else {
                        return Err(self.invalid(&pointer, "an apiKey scheme needs a `name`"));
                    };
                    SecurityScheme::ApiKey {
                        name: key_name.to_string(),
                        header: match location {
                            ParameterLocation::Header => {
                                hyper::header::HeaderName::from_bytes(key_name.as_bytes()).ok()
                            }
                            _ => None,
                        },
                        location,
                    }
                }
                "http" => SecurityScheme::Http {
                    scheme: scheme
                        .get("scheme")
                        .and_then(Value::as_str)
                        .unwrap_or("bearer")
                        .to_ascii_lowercase(),
                },
                "oauth2" | "openIdConnect" => SecurityScheme::BearerToken,
                "mutualTLS" => SecurityScheme::MutualTls,
                other => {
                    return Err(
                        self.invalid(&pointer, &format!("unknown security scheme type `{other}`"))
                    );
                }
            };
            schemes.insert(name.clone(), parsed);
        }
        Ok(schemes)
    }

    fn security(
        &self,
        value: Option<&Value>,
        pointer: &str,
        schemes: &foldhash::HashMap<String, SecurityScheme>,
    ) -> Result<Option<Vec<SecurityRequirement>>, SpecError> {
        let Some(value) = value else { return Ok(None) };
        let Value::Array(alternatives) = value else {
            return Err(self.invalid(pointer, "`security` must be a list of requirement objects"));
        };
        let mut out = Vec::new();
        for (i, requirement) in alternatives.iter().enumerate() {
            let Value::Object(map) = requirement else {
                return Err(self.invalid(
                    &format!("{pointer}/{i}"),
                    "a security requirement must be a mapping",
                ));
            };
            for name in map.keys() {
                if !schemes.contains_key(name) {
                    return Err(self.invalid(
                        &format!("{pointer}/{i}/{}", escape(name)),
                        &format!(
                            "security scheme `{name}` is not defined in components/securitySchemes"
                        ),
                    ));
                }
            }
            out.push(SecurityRequirement {
                schemes: map.keys().cloned().collect(),
            });
        }
        Ok(Some(out))
    }

    #[allow(clippy::too_many_arguments)]
    fn operation(
        &self,
        template: &str,
        method: Method,
        item: &Value,
        op: &Value,
        pointer: &str,
        global_security: &Option<Vec<SecurityRequirement>>,
        schemes: &foldhash::HashMap<String, SecurityScheme>,
    ) -> Result<Operation, SpecError> {
        if !op.is_object() {
            return Err(self.invalid(pointer, "an operation must be a mapping"));
        }
        let id = op
            .get("operationId")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| format!("{} {template}", method.as_str()));

        let mut parameters: Vec<Parameter> = Vec::new();
        for (source, base) in [
            (
                item.get("parameters"),
                pointer.rsplit_once('/').map_or("", |p| p.0),
            ),
            (op.get("parameters"), pointer),
        ] {
            let Some(list) = source else { continue };
            let Value::Array(list) = list else {
                return Err(
                    self.invalid(&format!("{base}/parameters"), "`parameters` must be a list")
                );
            };
            for (i, raw) in list.iter().enumerate() {
                let p = self.parameter(raw, &format!("{base}/parameters/{i}"))?;
                // OpenAPI: header parameters named Accept, Content-Type or
                // Authorization "SHALL be ignored"; media types and
                // security schemes say those.
                if p.location == ParameterLocation::Header
                    && matches!(p.name.as_str(), "accept" | "content-type" | "authorization")
                {
                    continue;
                }
                parameters.retain(|q| !(q.name == p.name && q.location == p.location));
                parameters.push(p);
            }
        }
        for name in super::router::template_names(template) {
            if !parameters
                .iter()
                .any(|p| p.location == ParameterLocation::Path && p.name == name)
            {
                // OpenAPI: every template parameter "MUST" be declared;
                // an undeclared one has no type to check or generate.
                return Err(self.invalid(
                    pointer,
                    &format!(
                        "path parameter `{name}` of `{template}` is not declared: add \
                         `{{name: {name}, in: path, required: true, schema: {{type: string}}}}` \
                         to the operation's or the path's `parameters`"
                    ),
                ));
            }
        }

        let request_body = match op.get("requestBody") {
            None => None,
            Some(raw) => {
                let body_pointer = format!("{pointer}/requestBody");
                let body = deref(self.root, raw)
                    .ok_or_else(|| self.invalid(&body_pointer, "the `$ref` does not resolve"))?;
                Some(RequestBody {
                    required: body.get("required") == Some(&Value::Bool(true)),
                    media: self.media_types(body.get("content"), Direction::Request),
                })
            }
        };

        let mut responses = Vec::new();
        if let Some(Value::Object(map)) = op.get("responses") {
            for (key, raw) in map {
                if key.starts_with("x-") {
                    continue;
                }
                let response_pointer = format!("{pointer}/responses/{}", escape(key));
                let Some(status) = StatusKey::parse(key) else {
                    return Err(self.invalid(
                        &response_pointer,
                        &format!("`{key}` is not a status code, a range like `2XX`, or `default`"),
                    ));
                };
                let response = deref(self.root, raw).ok_or_else(|| {
                    self.invalid(&response_pointer, "the `$ref` does not resolve")
                })?;
                responses.push(ResponseSpec {
                    status,
                    media: self.media_types(response.get("content"), Direction::Response),
                    headers: self.headers(response.get("headers")),
                });
            }
        }
        responses.sort_by_key(|r| r.status);

        let security =
            match self.security(op.get("security"), &format!("{pointer}/security"), schemes)? {
                Some(own) => own,
                None => global_security.clone().unwrap_or_default(),
            };
        Ok(Operation {
            id,
            method,
            path: template.to_string(),
            pointer: pointer.to_string(),
            parameters,
            request_body,
            responses,
            security,
        })
    }

    fn parameter(&self, raw: &Value, pointer: &str) -> Result<Parameter, SpecError> {
        let p = deref(self.root, raw)
            .ok_or_else(|| self.invalid(pointer, "the parameter `$ref` does not resolve"))?;
        let name = p
            .get("name")
            .and_then(Value::as_str)
            .ok_or_else(|| self.invalid(pointer, "a parameter needs a `name`"))?;
        let location = match p.get("in").and_then(Value::as_str) {
            Some("path") => ParameterLocation::Path,
            Some("query") => ParameterLocation::Query,
            Some("header") => ParameterLocation::Header,
            Some("cookie") => ParameterLocation::Cookie,
            other => {
                return Err(self.invalid(
                    pointer,
                    &format!(
                        "parameter `{name}` has `in: {}`; expected path, query, header or cookie",
                        other.unwrap_or("(missing)")
                    ),
                ));
            }
        };
        let default_style = match location {
            ParameterLocation::Path | ParameterLocation::Header => Style::Simple,
            ParameterLocation::Query | ParameterLocation::Cookie => Style::Form,
        };
        let style = match p.get("style").and_then(Value::as_str) {
            None => default_style,
            Some("simple") => Style::Simple,
            Some("label") => Style::Label,
            Some("matrix") => Style::Matrix,
            Some("form") => Style::Form,
            Some("spaceDelimited") => Style::SpaceDelimited,
            Some("pipeDelimited") => Style::PipeDelimited,
            Some("deepObject") => Style::DeepObject,
            Some(other) => {
                return Err(self.invalid(pointer, &format!("unknown parameter style `{other}`")));
            }
        };
        let explode = p
            .get("explode")
            .and_then(Value::as_bool)
            .unwrap_or(style == Style::Form);
        let (schema_value, json_content, content_example) =
            match (p.get("schema"), p.get("content")) {
                (Some(s), _) => (Some(s.clone()), false, None),
                (None, Some(Value::Object(content))) => {
                    let media = content.values().next();
                    (
                        media.and_then(|m| m.get("schema")).cloned(),
                        true,
                        media.and_then(|m| m.get("example")).cloned(),
                    )
                }
                _ => (None, false, None),
            };
        let shape = schema_value
            .as_ref()
            .map_or(ParameterShape::Primitive(Scalar::Any), |s| self.shape(s));
        // HTTP header names are case-insensitive; keep them in one case to compare.
        let name = if location == ParameterLocation::Header {
            name.to_ascii_lowercase()
        } else {
            name.to_string()
        };
        Ok(Parameter {
            name,
            location,
            required: location == ParameterLocation::Path
                || p.get("required") == Some(&Value::Bool(true)),
            style,
            explode,
            shape,
            json_content,
            example: p.get("example").cloned().or(content_example),
            schema: schema_value.map(|s| self.slot(s, Direction::Request)),
        })
    }

    fn shape(&self, schema: &Value) -> ParameterShape {
        let schema = resolve_composed(self.root, schema);
        match primary_type(schema) {
            Some("array") => {
                let items = schema.get("items").map(|i| resolve_composed(self.root, i));
                ParameterShape::Array(items.map_or(Scalar::Any, |i| scalar(primary_type(i))))
            }
            Some("object") => {
                let properties = match schema.get("properties") {
                    Some(Value::Object(props)) => props
                        .iter()
                        .map(|(k, v)| {
                            (
                                k.clone(),
                                scalar(primary_type(resolve_composed(self.root, v))),
                            )
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                let other = match schema.get("additionalProperties") {
                    Some(v) if v.is_object() => {
                        scalar(primary_type(resolve_composed(self.root, v)))
                    }
                    _ => Scalar::Any,
                };
                ParameterShape::Object { properties, other }
            }
            other => ParameterShape::Primitive(scalar(other)),
        }
    }

    fn media_types(&self, content: Option<&Value>, direction: Direction) -> Vec<MediaType> {
        let Some(Value::Object(content)) = content else {
            return Vec::new();
        };
        content
            .iter()
            .map(|(name, media)| {
                let examples = match media.get("examples") {
                    Some(Value::Object(map)) => map
                        .iter()
                        .filter_map(|(k, ex)| {
                            let ex = deref(self.root, ex)?;
                            Some((k.clone(), ex.get("value")?.clone()))
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                MediaType {
                    name: name
                        .split(';')
                        .next()
                        .unwrap_or(name)
                        .trim()
                        .to_ascii_lowercase(),
                    // `schema: null` occurs in real specs; it documents nothing.
                    schema: media
                        .get("schema")
                        .filter(|s| !s.is_null())
                        .map(|s| self.slot(s.clone(), direction)),
                    example: media.get("example").cloned(),
                    examples,
                }
            })
            .collect()
    }

    fn headers(&self, headers: Option<&Value>) -> Vec<HeaderSpec> {
        let Some(Value::Object(map)) = headers else {
            return Vec::new();
        };
        map.iter()
            .filter_map(|(name, h)| {
                let h = deref(self.root, h)?;
                Some(HeaderSpec {
                    name: name.clone(),
                    required: h.get("required") == Some(&Value::Bool(true)),
                    schema: h
                        .get("schema")
                        .map(|s| self.slot(s.clone(), Direction::Response)),
                    example: h.get("example").cloned(),
                })
            })
            .collect()
    }
}

/// Follows `$ref` and a single-element `allOf` to the schema that carries the type.
fn resolve_composed<'a>(root: &'a Value, schema: &'a Value) -> &'a Value {
    let mut node = deref(root, schema).unwrap_or(schema);
    for _ in 0..8 {
        if node.get("type").is_some() {
            break;
        }
        match node
            .get("allOf")
            .or_else(|| node.get("anyOf"))
            .or_else(|| node.get("oneOf"))
        {
            Some(Value::Array(parts)) if !parts.is_empty() => {
                node = deref(root, &parts[0]).unwrap_or(&parts[0])
            }
            _ => break,
        }
    }
    node
}

fn scalar(kind: Option<&str>) -> Scalar {
    match kind {
        Some("string") => Scalar::String,
        Some("integer") => Scalar::Integer,
        Some("number") => Scalar::Number,
        Some("boolean") => Scalar::Boolean,
        _ => Scalar::Any,
    }
}
