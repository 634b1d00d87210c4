//! `type` and `format`: a value of a JSON type (an integer is a number
//! too), or text of a format worth asserting across implementations.

use super::Matcher;
use serde_json::Value;

pub(super) fn parse(key: &str, arg: &Value) -> Result<Matcher, (String, String)> {
    if key == "type" {
        return arg
            .as_str()
            .and_then(ValueType::parse)
            .map(Matcher::Type)
            .ok_or_else(|| {
                (
                    String::new(),
                    "`type` is one of string, number, integer, boolean, object, array, null".into(),
                )
            });
    }
    arg.as_str()
        .and_then(|n| Format::ALL.iter().find(|(name, _)| *name == n))
        .map(|(_, f)| Matcher::Format(*f))
        .ok_or_else(|| {
            (
                String::new(),
                "`format` is one of uuid, date-time, date, uri, email".into(),
            )
        })
}

pub(super) fn holds(matcher: &Matcher, actual: &Value) -> bool {
    match matcher {
        Matcher::Type(kind) => {
            let is = ValueType::of(actual);
            is == *kind || (*kind == ValueType::Number && is == ValueType::Integer)
        }
        Matcher::Format(format) => matches!(actual, Value::String(s) if format.holds(s)),
        _ => false,
    }
}

pub(super) fn describe(matcher: &Matcher) -> String {
    match matcher {
        Matcher::Type(t) => format!("a value of type {}", t.name()),
        Matcher::Format(f) => format!("a {} string", f.name()),
        _ => String::new(),
    }
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
