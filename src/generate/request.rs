//! A valid request for any operation, built from the spec alone.
//!
//! Used to prove every operation of a spec answers within its contract,
//! and by benchmarks that need a realistic request per operation.

use crate::generate::{Attempt, Patterns, generate};
use crate::spec::{
    Api, Direction, Operation, ParameterLocation, SecurityScheme, SlotSchema, Style,
};
use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct SampleRequest {
    pub method: hyper::Method,
    /// Path and query, ready for a request line.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Builds a request that satisfies `operation`'s parameters, security and body.
pub fn sample_request(api: &Api, operation: &Operation, seed: u64) -> SampleRequest {
    // The patterns of the values drawn here, compiled once for this request.
    let patterns = Patterns::default();
    let mut path = operation.path.clone();
    let mut query: Vec<(String, String)> = Vec::new();
    let mut headers: Vec<(String, String)> = Vec::new();
    let mut cookies: Vec<(String, String)> = Vec::new();
    for parameter in &operation.parameters {
        if !parameter.required {
            continue;
        }
        let value = parameter
            .example
            .clone()
            .unwrap_or_else(|| match &parameter.schema {
                Some(slot) => match api.compiled(slot) {
                    Ok(c) => valid_value(&c, &patterns, Direction::Request, seed),
                    Err(_) => Value::String("x".into()),
                },
                None => Value::String("x".into()),
            });
        match parameter.location {
            ParameterLocation::Path => {
                let text = utf8_percent_encode(&flat(&value, ","), NON_ALPHANUMERIC).to_string();
                path = path.replace(&format!("{{{}}}", parameter.name), &text);
            }
            ParameterLocation::Query => match (&value, parameter.style) {
                (Value::Object(map), Style::DeepObject) => {
                    for (k, v) in map {
                        query.push((format!("{}[{k}]", parameter.name), flat(v, ",")));
                    }
                }
                (Value::Object(map), _) if parameter.explode => {
                    for (k, v) in map {
                        query.push((k.clone(), flat(v, ",")));
                    }
                }
                (Value::Array(items), Style::Form) if parameter.explode => {
                    for item in items {
                        query.push((parameter.name.clone(), flat(item, ",")));
                    }
                }
                (_, Style::SpaceDelimited) => {
                    query.push((parameter.name.clone(), flat(&value, " ")))
                }
                (_, Style::PipeDelimited) => {
                    query.push((parameter.name.clone(), flat(&value, "|")))
                }
                _ => query.push((parameter.name.clone(), flat(&value, ","))),
            },
            ParameterLocation::Header => headers.push((parameter.name.clone(), flat(&value, ","))),
            ParameterLocation::Cookie => cookies.push((parameter.name.clone(), flat(&value, ","))),
        }
    }
    if let Some(requirement) = operation.security.first() {
        for name in &requirement.schemes {
            match api.security_schemes.get(name) {
                Some(SecurityScheme::ApiKey { name, location, .. }) => {
                    let value = if name.eq_ignore_ascii_case("authorization") {
                        "Token understudy"
                    } else {
                        "understudy"
                    };
                    match location {
                        ParameterLocation::Header => {
                            headers.push((name.to_ascii_lowercase(), value.into()))
                        }
                        ParameterLocation::Query => query.push((name.clone(), value.into())),
                        _ => cookies.push((name.clone(), value.into())),
                    }
                }
                Some(SecurityScheme::Http { scheme }) if scheme == "basic" => {
                    headers.push(("authorization".into(), "Basic dXNlcjpwYXNz".into()))
                }
                Some(SecurityScheme::Http { scheme }) => {
                    headers.push(("authorization".into(), format!("{scheme} understudy")))
                }
                Some(SecurityScheme::BearerToken) => {
                    headers.push(("authorization".into(), "Bearer understudy".into()))
                }
                Some(SecurityScheme::MutualTls) | None => {}
            }
        }
    }
    if !cookies.is_empty() {
        let text = cookies
            .iter()
            .map(|(k, v)| format!("{k}={}", utf8_percent_encode(v, NON_ALPHANUMERIC)))
            .collect::<Vec<_>>()
            .join("; ");
        headers.push(("cookie".into(), text));
    }
    let mut body = Vec::new();
    if let Some(spec) = &operation.request_body {
        let media = spec
            .media
            .iter()
            .find(|m| m.is_json())
            .or(spec.media.first());
        if let Some(media) = media {
            let value = match media.schema.as_ref().map(|s| api.compiled(s)) {
                // The spec's own examples first: they show what the service
                // expects where a schema alone cannot (a body whose shape
                // depends on a field, such as mittwald's `orderType`).
                Some(Ok(c)) => media
                    .example
                    .iter()
                    .chain(media.examples.iter().map(|(_, v)| v))
                    .find(|example| c.is_valid(example))
                    .cloned()
                    .unwrap_or_else(|| valid_value(&c, &patterns, Direction::Request, seed)),
                _ => media
                    .example
                    .clone()
                    .unwrap_or(Value::Object(Default::default())),
            };
            let content_type = if media.name.contains('*') {
                "application/json".to_string()
            } else {
                media.name.clone()
            };
            body = match content_type.as_str() {
                t if crate::spec::operation::is_json_media_type(t) => {
                    serde_json::to_vec(&value).unwrap_or_default()
                }
                "application/x-www-form-urlencoded" => form_encode(&value).into_bytes(),
                "multipart/form-data" => {
                    headers.push((
                        "content-type".into(),
                        "multipart/form-data; boundary=understudy".into(),
                    ));
                    b"--understudy--\r\n".to_vec()
                }
                _ => b"understudy".to_vec(),
            };
            if !headers.iter().any(|(k, _)| k == "content-type") {
                headers.push(("content-type".into(), content_type));
            }
        }
    }
    let mut target = path;
    if !query.is_empty() {
        target.push('?');
        let pairs: Vec<String> = query
            .iter()
            .map(|(k, v)| {
                format!(
                    "{}={}",
                    utf8_percent_encode(k, NON_ALPHANUMERIC),
                    utf8_percent_encode(v, NON_ALPHANUMERIC)
                )
            })
            .collect();
        target.push_str(&pairs.join("&"));
    }
    SampleRequest {
        method: operation.method.clone(),
        target,
        headers,
        body,
    }
}

fn valid_value(
    compiled: &SlotSchema<'_, '_>,
    patterns: &Patterns,
    direction: Direction,
    seed: u64,
) -> Value {
    let mut last = Value::Null;
    for attempt in Attempt::sequence(seed) {
        let value = generate(
            compiled.document(),
            compiled.schema(),
            patterns,
            direction,
            attempt,
        );
        if compiled.is_valid(&value) {
            return value;
        }
        last = value;
    }
    last
}

/// A value as parameter text: arrays joined, objects as `k,v` pairs.
fn flat(value: &Value, separator: &str) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Array(items) => items
            .iter()
            .map(|i| flat(i, separator))
            .collect::<Vec<_>>()
            .join(separator),
        Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| [k.clone(), flat(v, separator)])
            .collect::<Vec<_>>()
            .join(separator),
        other => other.to_string(),
    }
}

/// A form body as Stripe-style clients write it: nested fields in
/// brackets (`address[country]=US`), lists indexed (`expand[0]=a`).
fn form_encode(value: &Value) -> String {
    let mut pairs = Vec::new();
    if let Value::Object(map) = value {
        for (k, v) in map {
            form_pairs(k, v, &mut pairs);
        }
    }
    pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                utf8_percent_encode(k, NON_ALPHANUMERIC),
                utf8_percent_encode(v, NON_ALPHANUMERIC)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

fn form_pairs(key: &str, value: &Value, out: &mut Vec<(String, String)>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                form_pairs(&format!("{key}[{k}]"), v, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                form_pairs(&format!("{key}[{i}]"), v, out);
            }
        }
        other => out.push((key.to_string(), flat(other, ","))),
    }
}
