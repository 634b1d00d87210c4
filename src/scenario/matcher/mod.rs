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
//!
//! Each predicate keeps its reading, its evaluation and its description in
//! one file (`equality`, `contains`, `regex`, `kind`, `length`, `presence`,
//! `compare`, `every`); this one dispatches to them, and holds the
//! combinators (`not`, several predicates together) and what is shared.

mod compare;
mod contains;
mod equality;
mod every;
mod kind;
mod length;
mod presence;
mod regex;

pub use compare::Comparison;
pub use kind::{Format, ValueType};

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
    Regex(::regex::Regex),
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
        let read = match key.as_str() {
            "equals" | "one_of" => equality::parse(key, arg),
            "contains" => Ok(contains::parse(arg)),
            "regex" => regex::parse(arg),
            "type" | "format" => kind::parse(key, arg),
            "length" => length::parse(arg),
            "every" => every::parse(arg),
            "absent" | "present" => presence::parse(key, arg),
            "gt" | "gte" | "lt" | "lte" => compare::parse(key, arg),
            "not" => parse(arg).map(|inner| Matcher::Not(Box::new(inner))),
            other => Err((
                String::new(),
                format!(
                    "unknown predicate `{other}`; expected one of: {}, not (to compare with an object, write `equals: {{…}}`)",
                    KEYWORDS.join(", ")
                ),
            )),
        };
        all.push(read.map_err(|(pointer, message)| (format!("/{key}{pointer}"), message))?);
    }
    Ok(if all.len() == 1 {
        all.remove(0)
    } else {
        Matcher::All(all)
    })
}

/// Why a matcher does not hold, in words for the report.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct Unmet(pub String);

/// Whether `matcher` holds for `actual` (`None`: absent); `Err` says why not.
pub fn holds(matcher: &Matcher, actual: Option<&Value>) -> Result<(), Unmet> {
    match matcher {
        Matcher::Absent | Matcher::Present => presence::holds(matcher, actual),
        Matcher::All(all) => all.iter().try_for_each(|m| holds(m, actual)),
        Matcher::Not(inner) => match holds(inner, actual) {
            Ok(()) => Err(Unmet(format!(
                "expected not {}, got {}",
                describe(inner),
                actual.map(show).unwrap_or_else(|| "nothing".into())
            ))),
            Err(_) => Ok(()),
        },
        _ => {
            let Some(actual) = actual else {
                return Err(Unmet(format!(
                    "expected {}, got nothing",
                    describe(matcher)
                )));
            };
            holds_present(matcher, actual)
        }
    }
}

/// A predicate over a value that is there.
fn holds_present(matcher: &Matcher, actual: &Value) -> Result<(), Unmet> {
    let held = match matcher {
        Matcher::Equals(_) | Matcher::OneOf(_) => equality::holds(matcher, actual),
        Matcher::Contains(expected) => return contains::holds(actual, expected),
        Matcher::Regex(_) | Matcher::RegexTemplate(_) => regex::holds(matcher, actual),
        Matcher::Type(_) | Matcher::Format(_) => kind::holds(matcher, actual),
        Matcher::Length(inner) => return length::holds(inner, actual),
        Matcher::Compare(op, bound) => compare::holds(*op, *bound, actual),
        Matcher::Every(inner) => return every::holds(inner, actual),
        Matcher::Absent | Matcher::Present | Matcher::All(_) | Matcher::Not(_) => {
            return holds(matcher, Some(actual));
        }
    };
    if held {
        Ok(())
    } else {
        Err(Unmet(format!(
            "expected {}, got {}",
            describe(matcher),
            show(actual)
        )))
    }
}

/// What `matcher` asks for, in words ("a value of type string").
pub fn describe(matcher: &Matcher) -> String {
    match matcher {
        Matcher::Equals(_) | Matcher::OneOf(_) => equality::describe(matcher),
        Matcher::Contains(expected) => contains::describe(expected),
        Matcher::Regex(_) | Matcher::RegexTemplate(_) => regex::describe(matcher),
        Matcher::Type(_) | Matcher::Format(_) => kind::describe(matcher),
        Matcher::Length(inner) => length::describe(inner),
        Matcher::Absent | Matcher::Present => presence::describe(matcher),
        Matcher::Compare(op, bound) => compare::describe(*op, *bound),
        Matcher::Every(inner) => every::describe(inner),
        Matcher::Not(inner) => format!("not {}", describe(inner)),
        Matcher::All(all) => all.iter().map(describe).collect::<Vec<_>>().join(" and "),
    }
}

/// JSON equality where `1` and `1.0` are the same number.
pub fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

/// A value in a message: short, JSON-quoted.
fn show(value: &Value) -> String {
    let text = value.to_string();
    if text.len() > 120 {
        let mut cut = 117;
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        format!("{}…", &text[..cut])
    } else {
        text
    }
}

/// Why an expectation could not be filled in at run time.
#[derive(Debug, Clone, thiserror::Error)]
pub enum FillError {
    #[error(transparent)]
    Var(#[from] VarError),
    #[error("the regex /{pattern}/ does not compile: {error}")]
    Regex {
        pattern: String,
        error: ::regex::Error,
    },
    #[error("`{0}` is neither a JSON pointer (`/a/0`) nor a path (`$.a[0]`)")]
    Path(String),
}

impl FillError {
    /// See [`VarError::is_unusable_input`]; a regex or path made from a
    /// captured value depends on the server's answer.
    pub fn is_unusable_input(&self) -> bool {
        matches!(self, FillError::Var(e) if e.is_unusable_input())
    }
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
                match ::regex::Regex::new(&pattern) {
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
    use rstest::rstest;
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

    fn check_one(matcher: Value, actual: Option<Value>) -> Result<(), Unmet> {
        let matcher = parse(&matcher).expect("a matcher");
        holds(&matcher, actual.as_ref())
    }

    #[rstest]
    #[case(json!(3), Some(json!(3.0)), true)]
    #[case(json!("a"), Some(json!("b")), false)]
    #[case(json!({"type": "integer"}), Some(json!(3)), true)]
    #[case(json!({"type": "number"}), Some(json!(3)), true)]
    #[case(json!({"type": "integer"}), Some(json!(3.5)), false)]
    #[case(json!({"format": "uuid"}), Some(json!("0b7b8a5e-4c0e-4d43-9a3f-1c2f6a3b9e10")), true)]
    #[case(json!({"format": "uuid"}), Some(json!("0b7b8a5e")), false)]
    #[case(json!({"format": "date-time"}), Some(json!("2026-01-02T03:04:05Z")), true)]
    #[case(json!({"format": "date-time"}), Some(json!("yesterday")), false)]
    #[case(json!({"format": "uri"}), Some(json!("http://x/api/")), true)]
    #[case(json!({"regex": "^p-[a-z0-9]{6}$"}), Some(json!("p-abc123")), true)]
    #[case(json!({"regex": "^p-"}), Some(json!("q-1")), false)]
    #[case(json!({"length": 2}), Some(json!([1, 2])), true)]
    #[case(json!({"length": {"gte": 3}}), Some(json!([1, 2])), false)]
    #[case(json!({"absent": true}), None, true)]
    #[case(json!({"absent": true}), Some(json!(null)), false)]
    #[case(json!({"present": true}), None, false)]
    #[case(json!({"one_of": ["a", "b"]}), Some(json!("b")), true)]
    #[case(json!({"gt": 1, "lte": 2}), Some(json!(2)), true)]
    #[case(json!({"gt": 1, "lte": 2}), Some(json!(3)), false)]
    #[case(json!({"every": {"contains": {"a": 1}}}), Some(json!([{"a": 1, "b": 2}, {"a": 1}])), true)]
    #[case(json!({"every": {"contains": {"a": 1}}}), Some(json!([{"a": 1}, {"a": 2}])), false)]
    #[case(json!({"contains": [{"id": "x"}]}), Some(json!([{"id": "y"}, {"id": "x", "n": 1}])), true)]
    #[case(json!({"contains": "ready"}), Some(json!("not ready yet")), true)]
    #[case(json!({"not": {"equals": "x"}}), Some(json!("y")), true)]
    #[case(json!({"not": {"equals": "x"}}), Some(json!("x")), false)]
    fn matchers(#[case] matcher: Value, #[case] actual: Option<Value>, #[case] ok: bool) {
        let result = check_one(matcher.clone(), actual.clone());
        assert_eq!(result.is_ok(), ok, "{matcher} on {actual:?}: {result:?}");
    }

    #[test]
    fn failures_say_what_was_expected_and_what_came() {
        let why = check_one(json!({"type": "string"}), Some(json!(3))).expect_err("fails");
        assert_eq!(why.0, "expected a value of type string, got 3");
        let why = check_one(json!({"length": 1}), Some(json!([1, 2]))).expect_err("fails");
        assert_eq!(why.0, "length 2: expected 1, got 2");
        let why = check_one(
            json!({"contains": {"a": {"b": 1}}}),
            Some(json!({"a": {"b": 2}})),
        )
        .expect_err("fails");
        assert_eq!(why.0, "`a`: `b`: expected 1, got 2");
    }
}
