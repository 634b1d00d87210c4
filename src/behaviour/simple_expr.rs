//! Expressions simple enough to evaluate without the template machine:
//! text literals, lookups by name, mapping literals and `~` joins, as in
//! `{'Home': '/home/' ~ item.shortId}` or `{'id': item.customerId}`.
//!
//! Fixtures write such expressions for the fields a create makes, and
//! starting minijinja for each cost more than the rest of the field. An
//! expression is recognised once, at load; anything outside this small
//! grammar, and any value it cannot be sure to join the way minijinja
//! would (not text or a whole number), is left to minijinja.

use serde_json::{Map, Value};

/// Deepest nesting of mapping literals recognised.
const MAX_DEPTH: usize = 16;

#[derive(Debug, Clone, PartialEq)]
pub enum Simple {
    Text(String),
    Lookup(Vec<String>),
    Mapping(Vec<(String, Simple)>),
    /// Two or more parts joined with `~`.
    Join(Vec<Simple>),
}

/// Names that are words of the expression language, not lookups.
const KEYWORDS: [&str; 15] = [
    "true", "false", "none", "True", "False", "None", "and", "or", "not", "in", "is", "if", "else",
    "loop", "self",
];

impl Simple {
    /// The expression `source`, when it is in the simple grammar.
    pub fn parse(source: &str) -> Option<Simple> {
        let mut parser = Parser {
            text: source.as_bytes(),
            at: 0,
        };
        let simple = parser.join(0)?;
        parser.space();
        (parser.at == parser.text.len()).then_some(simple)
    }

    /// The value, with each lookup answered by `lookup`; `None` when a
    /// lookup has no answer or a joined part is neither text nor a whole
    /// number: the caller then asks minijinja.
    pub fn evaluate(&self, lookup: &dyn Fn(&[String]) -> Option<Value>) -> Option<Value> {
        Some(match self {
            Simple::Text(text) => Value::String(text.clone()),
            Simple::Lookup(names) => lookup(names)?,
            Simple::Mapping(entries) => {
                let mut map = Map::with_capacity(entries.len());
                for (key, value) in entries {
                    map.insert(key.clone(), value.evaluate(lookup)?);
                }
                Value::Object(map)
            }
            Simple::Join(parts) => {
                let mut joined = String::with_capacity(32);
                for part in parts {
                    // Literal text is copied in, not made a value first.
                    if let Simple::Text(text) = part {
                        joined.push_str(text);
                        continue;
                    }
                    match part.evaluate(lookup)? {
                        Value::String(text) => joined.push_str(&text),
                        Value::Number(n) if n.is_i64() || n.is_u64() => {
                            joined.push_str(&n.to_string())
                        }
                        _ => return None,
                    }
                }
                Value::String(joined)
            }
        })
    }
}

struct Parser<'a> {
    text: &'a [u8],
    at: usize,
}

impl Parser<'_> {
    fn space(&mut self) {
        while self.text.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    /// Skips spaces, then takes `byte` if it is next.
    fn eat(&mut self, byte: u8) -> bool {
        self.space();
        if self.text.get(self.at) == Some(&byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn join(&mut self, depth: usize) -> Option<Simple> {
        let mut parts = vec![self.primary(depth)?];
        while self.eat(b'~') {
            parts.push(self.primary(depth)?);
        }
        Some(match parts.len() {
            1 => parts.pop()?,
            _ => Simple::Join(parts),
        })
    }

    fn primary(&mut self, depth: usize) -> Option<Simple> {
        self.space();
        match *self.text.get(self.at)? {
            b'\'' | b'"' => self.text_literal().map(Simple::Text),
            b'{' if depth < MAX_DEPTH => self.mapping(depth + 1),
            b if b.is_ascii_alphabetic() || b == b'_' => self.lookup(),
            _ => None,
        }
    }

    /// A quoted text without escapes (text with a backslash is left to
    /// minijinja).
    fn text_literal(&mut self) -> Option<String> {
        let quote = self.text[self.at];
        let start = self.at + 1;
        let length = self.text.get(start..)?.iter().position(|&b| b == quote)?;
        let body = &self.text[start..start + length];
        if body.contains(&b'\\') {
            return None;
        }
        self.at = start + length + 1;
        String::from_utf8(body.to_vec()).ok()
    }

    fn name(&mut self) -> Option<String> {
        let start = self.at;
        while self
            .text
            .get(self.at)
            .is_some_and(|b| b.is_ascii_alphanumeric() || *b == b'_')
        {
            self.at += 1;
        }
        let name = std::str::from_utf8(&self.text[start..self.at]).ok()?;
        let first = name.bytes().next()?;
        (first.is_ascii_alphabetic() || first == b'_').then(|| name.to_string())
    }

    fn lookup(&mut self) -> Option<Simple> {
        let mut names = vec![self.name()?];
        if KEYWORDS.contains(&names[0].as_str()) {
            return None;
        }
        while self.text.get(self.at) == Some(&b'.') {
            self.at += 1;
            names.push(self.name()?);
        }
        // A call, an index or a filter is minijinja's.
        self.space();
        if matches!(self.text.get(self.at), Some(b'(' | b'[' | b'|')) {
            return None;
        }
        Some(Simple::Lookup(names))
    }

    fn mapping(&mut self, depth: usize) -> Option<Simple> {
        self.at += 1; // `{`
        let mut entries = Vec::new();
        loop {
            if self.eat(b'}') {
                return Some(Simple::Mapping(entries));
            }
            self.space();
            if !matches!(self.text.get(self.at), Some(b'\'' | b'"')) {
                return None;
            }
            let key = self.text_literal()?;
            if !self.eat(b':') {
                return None;
            }
            entries.push((key, self.join(depth)?));
            if !self.eat(b',') {
                return self.eat(b'}').then_some(Simple::Mapping(entries));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::behaviour::template::Expr;
    use serde_json::json;

    fn item() -> Value {
        json!({"item": {"shortId": "p-abc123", "customerId": "c-1", "n": 7, "f": 1.5, "gone": null}})
    }

    fn lookup(names: &[String]) -> Option<Value> {
        let mut value = item();
        for name in names {
            value = value.as_object()?.get(name)?.clone();
        }
        Some(value)
    }

    #[test]
    fn what_it_evaluates_equals_what_minijinja_gives() {
        for source in [
            "{'Home': '/home/' ~ item.shortId}",
            "{'id': item.customerId}",
            "{ \"a\" : 'x' ~ item.n ~ \"y\", 'b': {'c': item.shortId}, }",
            "{}",
            "'p-' ~ item.n",
        ] {
            let simple = Simple::parse(source).expect(source);
            let ours = simple.evaluate(&lookup).expect(source);
            let theirs = Expr::compile(source)
                .expect(source)
                .evaluate(&crate::behaviour::template::jinja_value(item()))
                .expect(source);
            assert_eq!(ours, theirs, "{source}");
        }
    }

    #[test]
    fn values_it_cannot_join_as_minijinja_would_are_left_to_it() {
        for source in [
            "'x' ~ item.f",
            "'x' ~ item.gone",
            "'x' ~ item.missing",
            "{'a': item.missing}",
        ] {
            let simple = Simple::parse(source).expect(source);
            assert_eq!(simple.evaluate(&lookup), None, "{source}");
        }
    }

    #[test]
    fn anything_else_is_not_simple() {
        for source in [
            "item.id if item else none",
            "item.tags[0]",
            "item.name | upper",
            "uuid()",
            "{'a': 1}",
            "'it\\'s'",
            "none",
            "{'a' 'b'}",
            "{'a': 'b'} ~",
            "1 + 2",
            "{item.id: 'x'}",
        ] {
            assert_eq!(Simple::parse(source), None, "{source}");
        }
        let deep = format!("{}'x'{}", "{'a': ".repeat(40), "}".repeat(40));
        assert_eq!(Simple::parse(&deep), None);
    }
}
