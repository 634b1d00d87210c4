//! The mock's answer to a valid request: which status, which media type,
//! which body.
//!
//! Status: the one asked for with `Prefer: code=…`, else the lowest 2xx.
//! Body: the named example (`Prefer: example=…`), then the media type's
//! `example`/`examples`, then one generated from the schema. Every candidate
//! is validated against the response schema and skipped if it does not
//! fit, so the mock never sends what its own spec forbids. Bodies are
//! deterministic, so each is built once and cached.

use super::failure::Failure;
use super::reply::Reply;
use crate::behaviour::ErrorKind;
use crate::contract::media::negotiate;
use crate::generate::{Attempt, Patterns, generate};
use crate::spec::operation::{MediaType, ResponseSpec, StatusKey};
use crate::spec::{Api, Direction, Operation};
use bytes::Bytes;
use serde_json::Value;
use std::sync::RwLock;

/// What the client asked for in `Prefer` (the Prism convention).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Prefer {
    pub code: Option<u16>,
    pub example: Option<String>,
}

impl Prefer {
    pub fn parse(headers: &hyper::HeaderMap) -> Self {
        // A header name made once: looking one up by its text parses it.
        static PREFER: hyper::header::HeaderName = hyper::header::HeaderName::from_static("prefer");
        let mut prefer = Prefer::default();
        for value in headers
            .get_all(&PREFER)
            .iter()
            .filter_map(|v| v.to_str().ok())
        {
            for part in value.split([',', ';']) {
                let Some((key, val)) = part.trim().split_once('=') else {
                    continue;
                };
                let val = val.trim().trim_matches('"');
                match key.trim() {
                    "code" => prefer.code = val.parse().ok(),
                    "example" => prefer.example = Some(val.to_string()),
                    _ => {}
                }
            }
        }
        prefer
    }
}

/// Built bodies, by operation, status, media type and example, and the
/// generators of the spec's patterns they were drawn with: what the loaded
/// spec's answers are built from, kept until a reload replaces it.
#[derive(Default)]
pub struct BodyCache {
    bodies: RwLock<foldhash::HashMap<String, CachedBody>>,
    pub(super) patterns: Patterns,
}

impl BodyCache {
    /// The body cached under `key`, built (once) when there is none.
    fn get_or_build(&self, key: String, build: impl FnOnce() -> CachedBody) -> CachedBody {
        if let Some(body) = self.bodies.read().ok().and_then(|c| c.get(&key).cloned()) {
            return body;
        }
        let body = build();
        if let Ok(mut c) = self.bodies.write() {
            c.insert(key, body.clone());
        }
        body
    }
}

#[derive(Clone)]
struct CachedBody {
    bytes: Bytes,
    note: Option<String>,
}

pub fn respond(
    api: &Api,
    operation: &Operation,
    prefer: &Prefer,
    accept: Option<&str>,
    cache: &BodyCache,
    seed: u64,
) -> Result<Reply, Failure> {
    let response = match prefer.code {
        Some(code) => operation.response_for(code).map(|r| (code, r)).ok_or_else(|| {
            Failure::new(
                ErrorKind::NotFound,
                format!("`Prefer: code={code}` asks for a status the spec does not document for `{}`", operation.id),
            )
        })?,
        None => match default_response(operation) {
            Some(r) => (r.status.code(), r),
            None => return Ok(Reply::empty(204)),
        },
    };
    let (status, spec) = response;
    // HTTP forbids a body on these, whatever the spec documents.
    if spec.media.is_empty() || crate::contract::has_no_body(status) {
        let mut reply = Reply::empty(status);
        add_headers(api, spec, &mut reply, &cache.patterns, seed);
        return Ok(reply);
    }
    let media = negotiate(&spec.media, accept).ok_or_else(|| {
        let offered: Vec<&str> = spec.media.iter().map(|m| m.name.as_str()).collect();
        Failure::new(
            ErrorKind::NotAcceptable,
            format!(
                "`Accept: {}` matches none of: {}",
                accept.unwrap_or(""),
                offered.join(", ")
            ),
        )
    })?;
    let key = format!(
        "{}\u{0}{status}\u{0}{}\u{0}{}",
        operation.pointer,
        media.name,
        prefer.example.as_deref().unwrap_or("")
    );
    let body = cache.get_or_build(key, || {
        build_body(
            api,
            operation,
            media,
            prefer.example.as_deref(),
            cache,
            seed,
        )
    });
    let content_type = if media.name.contains('*') {
        "application/json"
    } else {
        media.name.as_str()
    };
    let mut reply = Reply::bytes(status, content_type, body.bytes);
    reply.note = body.note;
    add_headers(api, spec, &mut reply, &cache.patterns, seed);
    Ok(reply)
}

/// A body for `status` of `operation` in `media` that fits its schema (the
/// spec's example, else a generated one), passed through `shape` and then
/// cached apart from success bodies; error answers start from it. `None`
/// when the media type has no schema.
pub fn body_for(
    api: &Api,
    operation: &Operation,
    status: u16,
    media: &MediaType,
    cache: &BodyCache,
    seed: u64,
    shape: impl FnOnce(Value) -> Value,
) -> Option<Value> {
    media.schema.as_ref()?;
    let key = format!(
        "{}\u{0}{status}\u{0}{}\u{0}\u{0}error",
        operation.pointer, media.name
    );
    let body = cache.get_or_build(key, || {
        let built = build_body(api, operation, media, None, cache, seed);
        let bytes = match serde_json::from_slice(&built.bytes) {
            Ok(value) => to_bytes(&shape(value)),
            Err(_) => built.bytes,
        };
        CachedBody {
            bytes,
            note: built.note,
        }
    });
    let bytes = body.bytes;
    serde_json::from_slice(&bytes).ok()
}

/// The lowest documented 2xx, a `2XX` range, or `default`.
pub fn default_response(operation: &Operation) -> Option<&ResponseSpec> {
    let success =
        |r: &&ResponseSpec| matches!(r.status, StatusKey::Code(c) if (200..300).contains(&c));
    operation
        .responses
        .iter()
        .find(success)
        .or_else(|| operation.response_keyed(StatusKey::Range(2)))
        .or_else(|| operation.response_keyed(StatusKey::Default))
        .or_else(|| operation.responses.first())
}

fn build_body(
    api: &Api,
    operation: &Operation,
    media: &MediaType,
    example: Option<&str>,
    cache: &BodyCache,
    seed: u64,
) -> CachedBody {
    let compiled = media.schema.as_ref().map(|slot| api.compiled(slot));
    let fits = |value: &Value| match &compiled {
        Some(Ok(c)) => c.is_valid(value),
        _ => true,
    };
    let mut note = None;
    let mut candidates: Vec<(&str, &Value)> = Vec::new();
    if let Some(name) = example {
        match media.examples.iter().find(|(n, _)| n == name) {
            Some((_, v)) => candidates.push(("named example", v)),
            None => note = Some(format!("no example named `{name}`")),
        }
    }
    if let Some(v) = &media.example {
        candidates.push(("example", v));
    }
    for (_, v) in &media.examples {
        candidates.push(("examples", v));
    }
    for (source, value) in candidates {
        if fits(value) {
            return CachedBody {
                bytes: to_bytes(value),
                note,
            };
        }
        note = Some(format!(
            "the spec's {source} for `{}` does not fit its schema; generated one instead",
            operation.id
        ));
    }
    let Some(Ok(compiled)) = compiled else {
        return CachedBody {
            bytes: Bytes::from_static(b"{}"),
            note,
        };
    };
    let op_seed = seed ^ fnv(operation.pointer.as_bytes());
    let mut last = Value::Null;
    for attempt in Attempt::sequence(op_seed) {
        let value = generate(
            compiled.document(),
            compiled.schema(),
            &cache.patterns,
            Direction::Response,
            attempt,
        );
        if compiled.is_valid(&value) {
            return CachedBody {
                bytes: to_bytes(&value),
                note,
            };
        }
        last = value;
    }
    CachedBody {
        bytes: to_bytes(&last),
        note: Some(format!(
            "could not generate a body for `{}` that fits its schema",
            operation.id
        )),
    }
}

pub(super) fn add_headers(
    api: &Api,
    spec: &ResponseSpec,
    reply: &mut Reply,
    patterns: &Patterns,
    seed: u64,
) {
    // A redirect is only followed with its `Location`, documented as
    // optional or not.
    let redirect = (300..400).contains(&reply.status);
    for header in spec
        .headers
        .iter()
        .filter(|h| h.required || (redirect && h.name.eq_ignore_ascii_case("location")))
    {
        let value = match (&header.example, &header.schema) {
            (Some(v), _) => v.clone(),
            (None, Some(slot)) => match api.compiled(slot) {
                Ok(c) => generate(
                    c.document(),
                    c.schema(),
                    patterns,
                    Direction::Response,
                    Attempt {
                        seed,
                        branch: 0,
                        use_examples: true,
                        minimal: false,
                    },
                ),
                Err(_) => Value::String(String::new()),
            },
            (None, None) => Value::String(String::new()),
        };
        let text = match value {
            Value::String(s) => s,
            other => other.to_string(),
        };
        reply.headers.push((header.name.to_ascii_lowercase(), text));
    }
}

fn to_bytes(value: &Value) -> Bytes {
    Bytes::from(serde_json::to_vec(value).unwrap_or_default())
}

/// A stable hash so each operation gets its own seed without a dependency.
fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ *b as u64).wrapping_mul(0x100000001b3)
    })
}
