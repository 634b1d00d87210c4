//! What a value must be: the predicates a scenario writes under `json:`
//! and `headers:` in an `expect` block.
//!
//! A scalar or a list means "equals". A mapping is a set of predicates that
//! must all hold, so comparing with an object literal needs `equals:`:
//!
//! ```yaml
//! /uuid: {type: string, format: uuid}
//! /name: {regex: "^p-"}
//! /results: {length: {gte: 1}, every: {contains: {is_removed: false}}}
//! /deleted_at: {absent: true}
//! ```

use super::variables::{VarError, Variables};
use serde_json::Value;

/// One predicate over a JSON value (or a header's text). Its values may
/// hold `${…}`, filled in at run time by [`Matcher::filled`]; the structure
/// is read once, at load.
#[derive(Debug, Clone)]
pub enum Matcher {
    Equals(Value),
    /// Strings: a substring; objects: these keys match; arrays: each
    /// expected item matches some item.
    Contains(Value),
    Regex(regex::Regex),
    /// A pattern with `${…}` in it: compiled once its variables are known.
    RegexTemplate(String),
    Type(ValueType),
    Format(Format),
    Length(Box<Matcher>),
    Absent,
    Present,
    OneOf(Vec<Value>),
    Compare(Comparison, f64),
    /// Every item of an array matches.
    Every(Box<Matcher>),
    Not(Box<Matcher>),
    All(Vec<Matcher>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueType {
    String,
    Number,
    Integer,
    Boolean,
    Object,
    Array,
    Null,
}

impl ValueType {
    pub fn name(self) -> &'static str {
        match self {
            ValueType::String => "string",
            ValueType::Number => "number",
            ValueType::Integer => "integer",
            ValueType::Boolean => "boolean",
            ValueType::Object => "object",
            ValueType::Array => "array",
            ValueType::Null => "null",
        }
    }

    pub fn of(value: &Value) -> ValueType {
        match value {
            Value::String(_) => ValueType::String,
            Value::Number(n) if n.is_i64() || n.is_u64() => ValueType::Integer,
            Value::Number(_) => ValueType::Number,
            Value::Bool(_) => ValueType::Boolean,
            Value::Object(_) => ValueType::Object,
            Value::Array(_) => ValueType::Array,
            Value::Null => ValueType::Null,
        }
    }

    fn parse(name: &str) -> Option<ValueType> {
        Some(match name {
            "string" => ValueType::String,
            "number" => ValueType::Number,
            "integer" => ValueType::Integer,
            "boolean" => ValueType::Boolean,
            "object" => ValueType::Object,
            "array" => ValueType::Array,
            "null" => ValueType::Null,
            _ => return None,
        })
    }
}

/// String formats worth asserting on across implementations (ids and
/// timestamps differ between a mock and the real service; their form does not).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Uuid,
    DateTime,
    Date,
    Uri,
    Email,
}

impl Format {
    /// Whether `text` has this format.
    pub fn holds(self, text: &str) -> bool {
        match self {
            // With or without hyphens: services print UUIDs both ways
            // (Waldur writes 32 hex digits).
            Format::Uuid => {
                matches!(text.len(), 32 | 36)
                    && crate::behaviour::uuid_text::canonical(text).is_some()
            }
            Format::DateTime => {
                crate::behaviour::clock::parse_timestamp(text).is_some() && text.contains('T')
            }
            Format::Date => {
                text.len() == 10
                    && crate::behaviour::clock::parse_timestamp(&format!("{text}T00:00:00Z"))
                        .is_some()
            }
            Format::Uri => {
                let Some((scheme, rest)) = text.split_once(':') else {
                    return false;
                };
                !rest.is_empty()
                    && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                    && scheme
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            }
            Format::Email => text.split_once('@').is_some_and(|(user, host)| {
                !user.is_empty() && host.contains('.') && !host.starts_with('.')
            }),
        }
    }

    const ALL: [(&'static str, Format); 5] = [
        ("uuid", Format::Uuid),
        ("date-time", Format::DateTime),
        ("date", Format::Date),
        ("uri", Format::Uri),
        ("email", Format::Email),
    ];

    pub fn name(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, f)| *f == self)
            .map(|(n, _)| *n)
            .unwrap_or("?")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Gt,
    Gte,
    Lt,
    Lte,
}

impl Comparison {
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Gt => ">",
            Comparison::Gte => ">=",
            Comparison::Lt => "<",
            Comparison::Lte => "<=",
        }
    }
}

const KEYWORDS: [&str; 14] = [
    "equals", "contains", "regex", "type", "format", "length", "absent", "present", "one_of", "gt",
    "gte", "lt", "lte", "every",
];

/// Reads a matcher. The error is `(pointer below value, message)`.
///
/// A regex holding `${…}` is only checked to be text: its pattern is known
/// at run time.
pub fn parse(value: &Value) -> Result<Matcher, (String, String)> {
    let Value::Object(map) = value else {
        return Ok(Matcher::Equals(value.clone()));
    };
    if map.is_empty() {
        return Err((
            String::new(),
            "an empty mapping is no predicate; to compare with `{}` write `equals: {}`".into(),
        ));
    }
    let mut all = Vec::new();
    for (key, arg) in map {
        let at = |message: String| (format!("/{key}"), message);
        let matcher = match key.as_str() {
            "equals" => Matcher::Equals(arg.clone()),
            "contains" => Matcher::Contains(arg.clone()),
            "regex" => {
                let Value::String(pattern) = arg else {
                    return Err(at("`regex` takes a string".into()));
                };
                if pattern.contains("${") {
                    Matcher::RegexTemplate(pattern.clone())
                } else {
                    Matcher::Regex(
                        regex::Regex::new(pattern)
                            .map_err(|e| at(format!("the regex does not compile: {e}")))?,
                    )
                }
            }
            "type" => {
                let kind =
                    arg.as_str().and_then(ValueType::parse).ok_or_else(|| {
                        at("`type` is one of string, number, integer, boolean, object, array, null"
                        .into())
                    })?;
                Matcher::Type(kind)
            }
            "format" => {
                let format = arg
                    .as_str()
                    .and_then(|n| Format::ALL.iter().find(|(name, _)| *name == n))
                    .map(|(_, f)| *f)
                    .ok_or_else(|| {
                        at("`format` is one of uuid, date-time, date, uri, email".into())
                    })?;
                Matcher::Format(format)
            }
            "length" => {
                Matcher::Length(Box::new(parse(arg).map_err(|(p, m)| at_inner(key, p, m))?))
            }
            "every" => Matcher::Every(Box::new(parse(arg).map_err(|(p, m)| at_inner(key, p, m))?)),
            "absent" | "present" => {
                let Value::Bool(flag) = arg else {
                    return Err(at(format!("`{key}` takes true or false")));
                };
                let absent = (key == "absent") == *flag;
                if absent {
                    Matcher::Absent
                } else {
                    Matcher::Present
                }
            }
            "one_of" => {
                let Value::Array(items) = arg else {
                    return Err(at("`one_of` takes a list of values".into()));
                };
                Matcher::OneOf(items.clone())
            }
            "gt" | "gte" | "lt" | "lte" => {
                let Some(bound) = arg.as_f64() else {
                    return Err(at(format!("`{key}` takes a number")));
                };
                let op = match key.as_str() {
                    "gt" => Comparison::Gt,
                    "gte" => Comparison::Gte,
                    "lt" => Comparison::Lt,
                    _ => Comparison::Lte,
                };
                Matcher::Compare(op, bound)
            }
            "not" => Matcher::Not(Box::new(parse(arg).map_err(|(p, m)| at_inner(key, p, m))?)),
            other => {
                return Err(at(format!(
                    "unknown predicate `{other}`; expected one of: {}, not (to compare with an object, write `equals: {{…}}`)",
                    KEYWORDS.join(", ")
                )));
            }
        };
        all.push(matcher);
    }
    Ok(if all.len() == 1 {
        all.remove(0)
    } else {
        Matcher::All(all)
    })
}

/// Why an expectation could not be filled in at run time.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FillError {
    #[error(transparent)]
    Var(#[from] VarError),
    #[error("the regex /{pattern}/ does not compile: {error}")]
    Regex {
        pattern: String,
        error: regex::Error,
    },
    #[error("`{0}` is neither a JSON pointer (`/a/0`) nor a path (`$.a[0]`)")]
    Path(String),
}

impl Matcher {
    /// Whether any value in it holds `${…}` (else it is used as read).
    pub fn is_template(&self) -> bool {
        match self {
            Matcher::Equals(v) | Matcher::Contains(v) => holds_reference(v),
            Matcher::OneOf(items) => items.iter().any(holds_reference),
            Matcher::RegexTemplate(_) => true,
            Matcher::Length(inner) | Matcher::Every(inner) | Matcher::Not(inner) => {
                inner.is_template()
            }
            Matcher::All(all) => all.iter().any(Matcher::is_template),
            Matcher::Regex(_)
            | Matcher::Type(_)
            | Matcher::Format(_)
            | Matcher::Absent
            | Matcher::Present
            | Matcher::Compare(..) => false,
        }
    }

    /// The matcher with its `${…}` filled in from `vars`.
    pub fn filled(&self, vars: &mut Variables) -> Result<Matcher, FillError> {
        Ok(match self {
            Matcher::Equals(v) => Matcher::Equals(vars.fill(v)?),
            Matcher::Contains(v) => Matcher::Contains(vars.fill(v)?),
            Matcher::OneOf(items) => Matcher::OneOf(
                items
                    .iter()
                    .map(|i| vars.fill(i))
                    .collect::<Result<_, _>>()?,
            ),
            Matcher::RegexTemplate(pattern) => {
                let pattern = vars.fill_string(pattern)?;
                match regex::Regex::new(&pattern) {
                    Ok(regex) => Matcher::Regex(regex),
                    Err(error) => return Err(FillError::Regex { pattern, error }),
                }
            }
            Matcher::Length(inner) => Matcher::Length(Box::new(inner.filled(vars)?)),
            Matcher::Every(inner) => Matcher::Every(Box::new(inner.filled(vars)?)),
            Matcher::Not(inner) => Matcher::Not(Box::new(inner.filled(vars)?)),
            Matcher::All(all) => Matcher::All(
                all.iter()
                    .map(|m| m.filled(vars))
                    .collect::<Result<_, _>>()?,
            ),
            other => other.clone(),
        })
    }
}

/// Whether a string anywhere in `value` (keys included) may hold a `${…}`.
pub fn holds_reference(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('$'),
        Value::Array(items) => items.iter().any(holds_reference),
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| k.contains('$') || holds_reference(v)),
        _ => false,
    }
}

fn at_inner(key: &str, pointer: String, message: String) -> (String, String) {
    (format!("/{key}{pointer}"), message)
}

/// `$.a.b[0]` or `/a/b/0` as a JSON pointer; `None` for anything else.
pub fn to_pointer(path: &str) -> Option<String> {
    if path.is_empty() || path.starts_with('/') {
        return Some(path.to_string());
    }
    let rest = path.strip_prefix('$')?;
    let mut pointer = String::new();
    let mut chars = rest.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                let mut name = String::new();
                while let Some(&n) = chars.peek() {
                    if n == '.' || n == '[' {
                        break;
                    }
                    name.push(n);
                    chars.next();
                }
                if name.is_empty() {
                    return None;
                }
                pointer.push('/');
                pointer.push_str(&crate::source::reader::escape(&name));
            }
            '[' => {
                let mut index = String::new();
                let mut closed = false;
                for n in chars.by_ref() {
                    if n == ']' {
                        closed = true;
                        break;
                    }
                    index.push(n);
                }
                let index = index.trim_matches(|c| c == '\'' || c == '"');
                if index.is_empty() || !closed {
                    return None;
                }
                pointer.push('/');
                pointer.push_str(&crate::source::reader::escape(index));
            }
            _ => return None,
        }
    }
    Some(pointer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse_filled(value: &Value) -> Result<Matcher, (String, String)> {
        parse(value)
    }

    #[test]
    fn paths_become_pointers() {
        assert_eq!(to_pointer("$").as_deref(), Some(""));
        assert_eq!(to_pointer("$.a.b[0]").as_deref(), Some("/a/b/0"));
        assert_eq!(to_pointer("$['x/y'].z").as_deref(), Some("/x~1y/z"));
        assert_eq!(to_pointer("/a/0").as_deref(), Some("/a/0"));
        assert_eq!(to_pointer("a.b"), None);
        assert_eq!(to_pointer("$..a"), None);
        assert_eq!(to_pointer("$.a[x"), None);
        assert_eq!(to_pointer("$.a[]"), None);
    }

    #[test]
    fn mappings_are_predicates_and_scalars_are_equality() {
        assert!(matches!(parse_filled(&json!(3)), Ok(Matcher::Equals(_))));
        assert!(matches!(
            parse_filled(&json!({"type": "string", "format": "uuid"})),
            Ok(Matcher::All(v)) if v.len() == 2
        ));
        assert!(matches!(
            parse_filled(&json!({"absent": true})),
            Ok(Matcher::Absent)
        ));
        assert!(matches!(
            parse_filled(&json!({"absent": false})),
            Ok(Matcher::Present)
        ));
        let (pointer, message) =
            parse_filled(&json!({"length": {"gte": "x"}})).expect_err("refused");
        assert_eq!(pointer, "/length/gte");
        assert!(message.contains("takes a number"), "{message}");
        let (pointer, message) = parse_filled(&json!({"name": "x"})).expect_err("refused");
        assert_eq!(pointer, "/name");
        assert!(message.contains("equals:"), "{message}");
    }
}
