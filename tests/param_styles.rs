//! Property: any value a parameter's schema allows, serialised the way the
//! OpenAPI style table says for its `style` and `explode`, is read back by
//! the mock as the same value. The serialiser here is written from the
//! table, independently of the parser under test.
//!
//! Values are percent-encoded and carry the characters that URLs and
//! delimiters make tricky (space, `;`, `=`, `&`, `%`, `|`, `.`, `,`), except
//! the delimiters of their own style: like the web frameworks behind real
//! APIs (Django, Rails, Express), the mock decodes a value before splitting
//! it, so `a%2Cb` and `a,b` are the same two-item list. The scenario runner
//! relies on that, and so do clients that encode every comma.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use std::path::Path;
use understudy::mock::params::{self, RawParameters};
use understudy::spec::{Api, Route};

/// RFC 3986 unreserved characters stay; everything else is encoded.
const ENCODE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn enc(text: &str) -> String {
    utf8_percent_encode(text, ENCODE).to_string()
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum In {
    Path,
    Query,
    Header,
    Cookie,
}

#[derive(Debug, Clone)]
enum Shape {
    Text,
    Integer,
    Boolean,
    TextList,
    IntegerList,
    Object,
}

impl Shape {
    fn schema(&self) -> Value {
        match self {
            Shape::Text => json!({"type": "string"}),
            Shape::Integer => json!({"type": "integer"}),
            Shape::Boolean => json!({"type": "boolean"}),
            Shape::TextList => json!({"type": "array", "items": {"type": "string"}}),
            Shape::IntegerList => json!({"type": "array", "items": {"type": "integer"}}),
            Shape::Object => json!({"type": "object", "properties": {
                "role": {"type": "string"}, "level": {"type": "integer"}, "note": {"type": "string"}
            }}),
        }
    }
}

/// Text of 1 to 12 characters from a set with no `forbidden` character.
fn text(forbidden: &'static str) -> BoxedStrategy<String> {
    let allowed: Vec<char> = "abcXYZ019 ,;=.|&%_~-"
        .chars()
        .filter(|c| !forbidden.contains(*c))
        .collect();
    proptest::collection::vec(proptest::sample::select(allowed), 1..=12)
        .prop_map(|chars| chars.into_iter().collect())
        .boxed()
}

/// Characters that delimit items in a style, which a value cannot carry.
fn delimiters(location: In, style: &str, explode: bool) -> &'static str {
    match (location, style, explode) {
        // Headers are not percent-encoded at all: a space at an end would be
        // trimmed as whitespace, so spaces are left out too.
        (In::Header, _, _) => ",= ",
        (_, "label", true) => ".,=",
        (_, "matrix", _) => ";=,",
        (_, "spaceDelimited", _) => " ,",
        (_, "pipeDelimited", _) => "|,",
        (In::Cookie, _, _) => ",;=",
        _ => ",=",
    }
}

fn value(shape: &Shape, forbidden: &'static str) -> BoxedStrategy<Value> {
    let text = || text(forbidden);
    match shape {
        Shape::Text => text().prop_map(Value::from).boxed(),
        Shape::Integer => any::<i32>().prop_map(Value::from).boxed(),
        Shape::Boolean => any::<bool>().prop_map(Value::from).boxed(),
        Shape::TextList => proptest::collection::vec(text(), 1..4)
            .prop_map(|v| json!(v))
            .boxed(),
        Shape::IntegerList => proptest::collection::vec(any::<i32>(), 1..4)
            .prop_map(|v| json!(v))
            .boxed(),
        Shape::Object => (text(), any::<i32>(), proptest::option::of(text()))
            .prop_map(|(role, level, note)| {
                let mut map = Map::new();
                map.insert("role".into(), json!(role));
                map.insert("level".into(), json!(level));
                if let Some(note) = note {
                    map.insert("note".into(), json!(note));
                }
                Value::Object(map)
            })
            .boxed(),
    }
}

fn scalar_text(value: &Value) -> String {
    match value {
        Value::String(s) if ENCODING.get() => enc(s),
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

thread_local! {
    /// Off while serialising a header value.
    static ENCODING: std::cell::Cell<bool> = const { std::cell::Cell::new(true) };
}

/// The items of a value as encoded text: list items, or an object's keys
/// and values (or `k=v` when exploded).
fn parts(value: &Value, explode_pairs: bool) -> Vec<String> {
    match value {
        Value::Array(items) => items.iter().map(scalar_text).collect(),
        Value::Object(map) if explode_pairs => map
            .iter()
            .map(|(k, v)| format!("{k}={}", scalar_text(v)))
            .collect(),
        Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| [k.clone(), scalar_text(v)])
            .collect(),
        other => vec![scalar_text(other)],
    }
}

/// Serialises per the OpenAPI 3.1 style table (§4.8.12.4): the path
/// segment, query string, header value or cookie value.
fn serialise(name: &str, style: &str, explode: bool, value: &Value) -> String {
    let is_object = value.is_object();
    let is_list = value.is_array();
    match style {
        "simple" => parts(value, explode && is_object).join(","),
        "label" => {
            let separator = if explode { "." } else { "," };
            format!(".{}", parts(value, explode && is_object).join(separator))
        }
        "matrix" => match (is_list, is_object, explode) {
            (true, _, true) => parts(value, false)
                .iter()
                .map(|p| format!(";{name}={p}"))
                .collect(),
            (_, true, true) => parts(value, true).iter().map(|p| format!(";{p}")).collect(),
            _ => format!(";{name}={}", parts(value, false).join(",")),
        },
        "form" => match (is_list, is_object, explode) {
            (true, _, true) => parts(value, false)
                .iter()
                .map(|p| format!("{name}={p}"))
                .collect::<Vec<_>>()
                .join("&"),
            (_, true, true) => parts(value, true).join("&"),
            _ => format!("{name}={}", parts(value, false).join(",")),
        },
        "spaceDelimited" => format!("{name}={}", parts(value, false).join("%20")),
        "pipeDelimited" => format!("{name}={}", parts(value, false).join("|")),
        "deepObject" => value
            .as_object()
            .map(|map| {
                map.iter()
                    .map(|(k, v)| format!("{name}[{k}]={}", scalar_text(v)))
                    .collect::<Vec<_>>()
                    .join("&")
            })
            .unwrap_or_default(),
        other => panic!("no style {other}"),
    }
}

/// Styles that each location and shape may use (the table's rows).
fn styles(location: In, shape: &Shape) -> Vec<(&'static str, bool)> {
    let both = |style| vec![(style, false), (style, true)];
    let list = matches!(shape, Shape::TextList | Shape::IntegerList);
    let object = matches!(shape, Shape::Object);
    match location {
        In::Path => [both("simple"), both("label"), both("matrix")].concat(),
        In::Header => both("simple"),
        // Exploded cookie lists and objects have no defined form.
        In::Cookie if list || object => vec![("form", false)],
        In::Cookie => both("form"),
        In::Query => {
            let mut out = both("form");
            if list {
                out.push(("spaceDelimited", false));
                out.push(("pipeDelimited", false));
            }
            if object {
                out.push(("deepObject", true));
            }
            out
        }
    }
}

#[derive(Debug, Clone)]
struct Case {
    location: In,
    shape: Shape,
    style: &'static str,
    explode: bool,
    value: Value,
}

fn case() -> impl Strategy<Value = Case> {
    let location = prop_oneof![
        Just(In::Path),
        Just(In::Query),
        Just(In::Header),
        Just(In::Cookie)
    ];
    let shape = prop_oneof![
        Just(Shape::Text),
        Just(Shape::Integer),
        Just(Shape::Boolean),
        Just(Shape::TextList),
        Just(Shape::IntegerList),
        Just(Shape::Object),
    ];
    (location, shape)
        .prop_flat_map(|(location, shape)| {
            let choices = styles(location, &shape);
            (
                Just(location),
                Just(shape),
                proptest::sample::select(choices),
            )
        })
        .prop_flat_map(|(location, shape, (style, explode))| {
            let value = value(&shape, delimiters(location, style, explode));
            (Just(location), Just(shape), Just((style, explode)), value)
        })
        .prop_map(|(location, shape, (style, explode), value)| Case {
            location,
            shape,
            style,
            explode,
            value,
        })
}

/// The value the mock reads for the case's one parameter.
fn read_back(case: &Case) -> Value {
    let location = match case.location {
        In::Path => "path",
        In::Query => "query",
        In::Header => "header",
        In::Cookie => "cookie",
    };
    // A path parameter is the template's own; in any other place, the
    // template's `{x}` is declared as a plain path parameter.
    let mut parameters = vec![json!({
        "name": "p", "in": location, "required": true,
        "style": case.style, "explode": case.explode,
        "schema": case.shape.schema(),
    })];
    let template = if case.location == In::Path {
        "/t/{p}"
    } else {
        parameters.push(
            json!({"name": "x", "in": "path", "required": true, "schema": {"type": "string"}}),
        );
        "/t/{x}"
    };
    let spec = json!({
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {template: {"get": {
            "parameters": parameters,
            "responses": {"200": {"description": "ok"}},
        }}},
    });
    let api = Api::from_text(Path::new("styles.json"), &spec.to_string()).expect("spec loads");
    ENCODING.set(case.location != In::Header);
    let text = serialise("p", case.style, case.explode, &case.value);
    let (path, query, mut headers) = (
        match case.location {
            In::Path => format!("/t/{text}"),
            _ => "/t/x".to_string(),
        },
        match case.location {
            In::Query => text.clone(),
            _ => String::new(),
        },
        hyper::HeaderMap::new(),
    );
    match case.location {
        In::Header => {
            headers.insert("p", text.parse().expect("a header value"));
        }
        In::Cookie => {
            headers.insert("cookie", text.parse().expect("a cookie header"));
        }
        _ => {}
    }
    let Route::Found { operation, params } = api.route(&hyper::Method::GET, &path) else {
        panic!("{path} does not route");
    };
    let query = params::parse_query(&query);
    let cookies = params::parse_cookies(&headers);
    let raw = RawParameters {
        path: &params,
        query: &query,
        headers: &headers,
        cookies: &cookies,
    };
    let mut violations = Vec::new();
    let parsed = params::extract(&api, operation, &raw, &mut violations);
    assert!(
        violations.is_empty(),
        "{text:?}: {:?}",
        violations.iter().map(|v| &v.message).collect::<Vec<_>>()
    );
    let side = match case.location {
        In::Path => &parsed.path,
        In::Query => &parsed.query,
        In::Header => &parsed.header,
        In::Cookie => &parsed.cookie,
    };
    side.get("p").cloned().unwrap_or(Value::Null)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn every_style_round_trips(case in case()) {
        let sent = read_back(&case);
        let text = serialise("p", case.style, case.explode, &case.value);
        prop_assert_eq!(sent, case.value.clone(), "sent as {:?}", text);
    }
}
