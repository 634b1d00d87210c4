//! Parameters out of a request, by their `style` and `explode`, and back
//! into JSON values of their schema's type, then validated.

use super::violation::Violation;
use crate::spec::{Api, Operation, Parameter, ParameterLocation, ParameterShape, Scalar, Style};
use percent_encoding::percent_decode_str;
use serde_json::{Map, Value};

/// What parameter values a request carried, as text, before parsing.
pub struct RawParameters<'a> {
    /// Path parameters by name, as the path has them.
    pub path: &'a [(&'a str, &'a str)],
    /// Decoded `name=value` pairs of the query string, in order.
    pub query: &'a [(String, String)],
    pub headers: &'a hyper::HeaderMap,
    /// Decoded cookie pairs.
    pub cookies: &'a [(String, String)],
}

/// Parameter values by location and name, typed.
#[derive(Debug, Default, Clone, serde::Serialize)]
pub struct ParsedParameters {
    pub path: Map<String, Value>,
    pub query: Map<String, Value>,
    pub header: Map<String, Value>,
    pub cookie: Map<String, Value>,
}

/// Splits a query string into decoded pairs (`+` is a space, as in forms).
pub fn parse_query(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            (decode(&k.replace('+', " ")), decode(&v.replace('+', " ")))
        })
        .collect()
}

/// Splits `Cookie` headers into decoded pairs.
pub fn parse_cookies(headers: &hyper::HeaderMap) -> Vec<(String, String)> {
    headers
        .get_all(hyper::header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|c| {
            let (k, v) = c.trim().split_once('=')?;
            Some((k.to_string(), decode(v)))
        })
        .collect()
}

pub fn decode(text: &str) -> String {
    percent_decode_str(text).decode_utf8_lossy().into_owned()
}

/// Drops the violations of parameters the fixture reads leniently
/// (`ignore_invalid`), and their values: the API uses its default instead.
pub fn drop_ignored(
    conventions: &crate::behaviour::conventions::Conventions,
    parsed: &mut ParsedParameters,
    violations: &mut Vec<Violation>,
) {
    violations.retain(|v| {
        let Some(name) = &v.name else {
            return true;
        };
        if !conventions.ignores(v.location, name) {
            return true;
        }
        let values = match v.location {
            "path" => &mut parsed.path,
            "query" => &mut parsed.query,
            "header" => &mut parsed.header,
            _ => &mut parsed.cookie,
        };
        values.shift_remove(name);
        false
    });
}

/// Reads every declared parameter, reporting missing and invalid ones.
pub fn extract(
    api: &Api,
    operation: &Operation,
    raw: &RawParameters<'_>,
    violations: &mut Vec<Violation>,
) -> ParsedParameters {
    let mut parsed = ParsedParameters::default();
    for parameter in &operation.parameters {
        let value = match parameter.location {
            ParameterLocation::Path => raw
                .path
                .iter()
                .find(|(n, _)| *n == parameter.name)
                .map(|(_, v)| read_path(parameter, v)),
            ParameterLocation::Query => read_pairs(parameter, raw.query, operation),
            ParameterLocation::Header => {
                let values: Vec<&str> = raw
                    .headers
                    .get_all(parameter.name.as_str())
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .collect();
                (!values.is_empty()).then(|| read_delimited(parameter, &values.join(","), ','))
            }
            ParameterLocation::Cookie => read_pairs(parameter, raw.cookies, operation),
        };
        let Some(mut value) = value else {
            if parameter.required {
                violations.push(Violation::new(
                    parameter.location.as_str(),
                    Some(parameter.name.clone()),
                    String::new(),
                    parameter.name.clone(),
                    "required".into(),
                    format!(
                        "{} parameter `{}` is required",
                        parameter.location.as_str(),
                        parameter.name
                    ),
                ));
            }
            continue;
        };
        if let Some(slot) = &parameter.schema
            && let Ok(compiled) = api.compiled(slot)
            && !compiled.holds(&mut value)
        {
            for error in compiled.errors(&value) {
                violations.push(
                    Violation::new(
                        parameter.location.as_str(),
                        Some(parameter.name.clone()),
                        error.pointer.clone(),
                        parameter.name.clone(),
                        error.error.kind().keyword().to_string(),
                        format!(
                            "{} parameter `{}`: {}",
                            parameter.location.as_str(),
                            parameter.name,
                            error
                        ),
                    )
                    .with_error(&error.error),
                );
            }
        }
        let target = match parameter.location {
            ParameterLocation::Path => &mut parsed.path,
            ParameterLocation::Query => &mut parsed.query,
            ParameterLocation::Header => &mut parsed.header,
            ParameterLocation::Cookie => &mut parsed.cookie,
        };
        target.insert(parameter.name.clone(), value);
    }
    parsed
}

fn read_path(parameter: &Parameter, raw: &str) -> Value {
    // The common case, a plain `{id}`: nothing to split or decode.
    if parameter.style == Style::Simple
        && !parameter.json_content
        && matches!(parameter.shape, ParameterShape::Primitive(_))
        && !raw.contains(['%', ','])
    {
        return read_delimited(parameter, raw, ',');
    }
    let (text, separator) = match parameter.style {
        Style::Label => {
            let rest = raw.strip_prefix('.').unwrap_or(raw);
            (rest.to_string(), if parameter.explode { '.' } else { ',' })
        }
        Style::Matrix => {
            // `;id=5`, `;id=3,4,5`, exploded `;id=3;id=4`, or `;role=admin;name=x` for objects.
            let prefix = format!(";{}=", parameter.name);
            let text =
                if parameter.explode && !matches!(parameter.shape, ParameterShape::Object { .. }) {
                    raw.split(';')
                        .filter_map(|p| p.strip_prefix(&prefix[1..]))
                        .collect::<Vec<_>>()
                        .join(",")
                } else if parameter.explode {
                    raw.trim_start_matches(';').replace(';', ",")
                } else {
                    raw.strip_prefix(&prefix).unwrap_or(raw).to_string()
                };
            (text, ',')
        }
        _ => (raw.to_string(), ','),
    };
    let decoded: Vec<String> = text.split(separator).map(decode).collect();
    let joined = decoded.join(",");
    if parameter.json_content {
        return serde_json::from_str(&joined).unwrap_or(Value::String(joined));
    }
    read_delimited(parameter, &joined, ',')
}

/// A value serialised as one delimited string (`simple` style and friends).
fn read_delimited(parameter: &Parameter, text: &str, separator: char) -> Value {
    if parameter.json_content {
        return serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()));
    }
    match &parameter.shape {
        ParameterShape::Primitive(scalar) => coerce(text, *scalar),
        ParameterShape::Array(scalar) => {
            if text.is_empty() {
                return Value::Array(Vec::new());
            }
            Value::Array(text.split(separator).map(|t| coerce(t, *scalar)).collect())
        }
        ParameterShape::Object { properties, other } => {
            let mut map = Map::new();
            if parameter.explode {
                for pair in text.split(separator) {
                    if let Some((k, v)) = pair.split_once('=') {
                        map.insert(
                            k.to_string(),
                            coerce(v, property_scalar(properties, *other, k)),
                        );
                    }
                }
            } else {
                let parts: Vec<&str> = text.split(separator).collect();
                for chunk in parts.chunks(2) {
                    if let [k, v] = chunk {
                        map.insert(
                            k.to_string(),
                            coerce(v, property_scalar(properties, *other, k)),
                        );
                    }
                }
            }
            Value::Object(map)
        }
    }
}

/// Query and cookie parameters: a value from the pairs named for it.
fn read_pairs(
    parameter: &Parameter,
    pairs: &[(String, String)],
    operation: &Operation,
) -> Option<Value> {
    let name = parameter.name.as_str();
    let named = || {
        pairs
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    if parameter.json_content {
        let text = named().next_back()?;
        return Some(
            serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string())),
        );
    }
    match (&parameter.shape, parameter.style) {
        (ParameterShape::Object { properties, other }, Style::DeepObject) => {
            let prefix = format!("{name}[");
            let mut map = Map::new();
            for (k, v) in pairs {
                if let Some(key) = k.strip_prefix(&prefix).and_then(|r| r.strip_suffix(']')) {
                    map.insert(
                        key.to_string(),
                        coerce(v, property_scalar(properties, *other, key)),
                    );
                }
            }
            (!map.is_empty()).then_some(Value::Object(map))
        }
        (ParameterShape::Object { properties, other }, Style::Form) if parameter.explode => {
            // Each property is its own pair; pairs that belong to other
            // parameters are not this object's.
            let others: Vec<&str> = operation
                .parameters
                .iter()
                .filter(|p| p.name != name)
                .map(|p| p.name.as_str())
                .collect();
            let mut map = Map::new();
            for (k, v) in pairs {
                let declared = properties.iter().any(|(p, _)| p == k);
                if declared || (properties.is_empty() && !others.contains(&k.as_str())) {
                    map.insert(k.clone(), coerce(v, property_scalar(properties, *other, k)));
                }
            }
            (!map.is_empty()).then_some(Value::Object(map))
        }
        (ParameterShape::Array(scalar), style) => {
            let values: Vec<&str> = named().collect();
            if values.is_empty() {
                return None;
            }
            let separator = match style {
                Style::SpaceDelimited => Some(' '),
                Style::PipeDelimited => Some('|'),
                _ if parameter.explode => None,
                _ => Some(','),
            };
            let items = match separator {
                None => values.iter().map(|v| coerce(v, *scalar)).collect(),
                Some(sep) => values
                    .iter()
                    .flat_map(|v| v.split(sep))
                    .filter(|v| !v.is_empty())
                    .map(|v| coerce(v, *scalar))
                    .collect(),
            };
            Some(Value::Array(items))
        }
        _ => {
            let text = named().next_back()?;
            Some(read_delimited(parameter, text, ','))
        }
    }
}

fn property_scalar(properties: &[(String, Scalar)], other: Scalar, key: &str) -> Scalar {
    properties
        .iter()
        .find(|(k, _)| k == key)
        .map_or(other, |(_, s)| *s)
}

/// Text into the declared type; text that does not parse stays text, so
/// schema validation reports it against the type the spec asks for.
/// Digits beyond 64 bits, as a JSON number (a float with no fraction).
fn big_integer(text: &str) -> Option<Value> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    if digits.is_empty() || digits.len() > 400 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse::<f64>()
        .ok()
        .filter(|f| f.is_finite())
        .and_then(serde_json::Number::from_f64)
        .map(Value::Number)
}

pub fn coerce(text: &str, scalar: Scalar) -> Value {
    match scalar {
        // Integers of any size: past 64 bits they are kept as numbers
        // (JSON has no width), not refused as text.
        Scalar::Integer => text
            .parse::<i64>()
            .map(Value::from)
            .or_else(|_| text.parse::<u64>().map(Value::from))
            .unwrap_or_else(|_| {
                big_integer(text).unwrap_or_else(|| Value::String(text.to_string()))
            }),
        Scalar::Number => text
            .parse::<f64>()
            .ok()
            .filter(|f| f.is_finite())
            .and_then(serde_json::Number::from_f64)
            .map(|n| {
                // `3` stays an integer so `type: integer` alternatives still match.
                text.parse::<i64>()
                    .map(Value::from)
                    .unwrap_or(Value::Number(n))
            })
            .unwrap_or_else(|| Value::String(text.to_string())),
        Scalar::Boolean => match text {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => Value::String(text.to_string()),
        },
        Scalar::String | Scalar::Any => Value::String(text.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;
    use serde_json::json;

    fn parameter(
        location: ParameterLocation,
        style: Style,
        explode: bool,
        shape: ParameterShape,
    ) -> Parameter {
        Parameter {
            name: "id".into(),
            location,
            required: false,
            style,
            explode,
            shape,
            json_content: false,
            schema: None,
            example: None,
        }
    }

    fn object() -> ParameterShape {
        ParameterShape::Object {
            properties: vec![
                ("role".into(), Scalar::String),
                ("n".into(), Scalar::Integer),
            ],
            other: Scalar::Any,
        }
    }

    #[rstest]
    #[case(Style::Simple, false, ParameterShape::Primitive(Scalar::Integer), "5", json!(5))]
    #[case(Style::Simple, false, ParameterShape::Primitive(Scalar::String), "p-1", json!("p-1"))]
    #[case(Style::Simple, false, ParameterShape::Primitive(Scalar::String), "a%2Cb,c", json!("a,b,c"))]
    #[case(Style::Simple, false, ParameterShape::Array(Scalar::Integer), "3,4,5", json!([3, 4, 5]))]
    #[case(Style::Simple, false, object(), "role,admin,n,5", json!({"role": "admin", "n": 5}))]
    #[case(Style::Simple, true, object(), "role=admin,n=5", json!({"role": "admin", "n": 5}))]
    #[case(Style::Label, false, ParameterShape::Array(Scalar::Integer), ".3,4,5", json!([3, 4, 5]))]
    #[case(Style::Label, true, ParameterShape::Array(Scalar::Integer), ".3.4.5", json!([3, 4, 5]))]
    #[case(Style::Matrix, false, ParameterShape::Primitive(Scalar::Integer), ";id=5", json!(5))]
    #[case(Style::Matrix, false, ParameterShape::Array(Scalar::Integer), ";id=3,4,5", json!([3, 4, 5]))]
    #[case(Style::Matrix, true, ParameterShape::Array(Scalar::Integer), ";id=3;id=4;id=5", json!([3, 4, 5]))]
    #[case(Style::Matrix, true, object(), ";role=admin;n=5", json!({"role": "admin", "n": 5}))]
    #[case(Style::Simple, false, ParameterShape::Primitive(Scalar::String), "a%20b", json!("a b"))]
    #[case(Style::Simple, false, ParameterShape::Primitive(Scalar::Integer), "abc", json!("abc"))]
    fn path_styles(
        #[case] style: Style,
        #[case] explode: bool,
        #[case] shape: ParameterShape,
        #[case] raw: &str,
        #[case] expected: Value,
    ) {
        assert_eq!(
            read_path(
                &parameter(ParameterLocation::Path, style, explode, shape),
                raw
            ),
            expected
        );
    }

    #[rstest]
    #[case(Style::Form, true, ParameterShape::Array(Scalar::Integer), "id=3&id=4", json!([3, 4]))]
    #[case(Style::Form, false, ParameterShape::Array(Scalar::Integer), "id=3,4", json!([3, 4]))]
    #[case(Style::SpaceDelimited, false, ParameterShape::Array(Scalar::Integer), "id=3%204", json!([3, 4]))]
    #[case(Style::PipeDelimited, false, ParameterShape::Array(Scalar::Integer), "id=3|4", json!([3, 4]))]
    #[case(Style::DeepObject, true, object(), "id[role]=admin&id[n]=2", json!({"role": "admin", "n": 2}))]
    #[case(Style::Form, true, object(), "role=admin&n=2&other=1", json!({"role": "admin", "n": 2}))]
    #[case(Style::Form, false, object(), "id=role,admin,n,2", json!({"role": "admin", "n": 2}))]
    #[case(Style::Form, true, ParameterShape::Primitive(Scalar::Boolean), "id=true", json!(true))]
    #[case(Style::Form, true, ParameterShape::Primitive(Scalar::String), "id=a+b", json!("a b"))]
    fn query_styles(
        #[case] style: Style,
        #[case] explode: bool,
        #[case] shape: ParameterShape,
        #[case] query: &str,
        #[case] expected: Value,
    ) {
        let p = parameter(ParameterLocation::Query, style, explode, shape);
        let operation = Operation {
            id: "op".into(),
            method: hyper::Method::GET,
            path: "/".into(),
            pointer: String::new(),
            parameters: vec![],
            request_body: None,
            responses: vec![],
            security: vec![],
        };
        assert_eq!(
            read_pairs(&p, &parse_query(query), &operation),
            Some(expected)
        );
    }
}
