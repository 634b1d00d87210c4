//! The JSONPath that OpenAPI Overlays target nodes with (RFC 9535), in the
//! part overlays use: names (`.paths`, `['/api/projects/']`), indexes,
//! wildcards, descendants (`..schema`) and filters on a member
//! (`[?@.name == 'page']`, `[?@.required]`, with `&&`, `||` and `!`).
//!
//! A path selects nodes as JSON pointers, so the overlay can then update or
//! remove exactly those nodes.

use serde_json::Value;

/// What is wrong with a JSONPath's text, and at which character (from 1).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{what} at character {at}")]
pub struct JsonPathError {
    pub what: &'static str,
    pub at: usize,
}

/// A parsed JSONPath.
#[derive(Debug, Clone, PartialEq)]
pub struct JsonPath {
    segments: Vec<Segment>,
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    /// Children by selector.
    Child(Selector),
    /// The node and all its descendants, then the selector on each.
    Descendant(Selector),
}

#[derive(Debug, Clone, PartialEq)]
enum Selector {
    Name(String),
    Index(i64),
    Wildcard,
    Filter(Filter),
}

#[derive(Debug, Clone, PartialEq)]
enum Filter {
    Or(Box<Filter>, Box<Filter>),
    And(Box<Filter>, Box<Filter>),
    Not(Box<Filter>),
    /// `@.a.b` exists.
    Exists(Vec<String>),
    Compare(Operand, Op, Operand),
}

#[derive(Debug, Clone, PartialEq)]
enum Operand {
    Member(Vec<String>),
    Literal(Value),
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl JsonPath {
    /// Parses `text`; the error says what is wrong and where.
    pub fn parse(text: &str) -> Result<Self, JsonPathError> {
        let mut parser = Parser {
            chars: text.chars().collect(),
            at: 0,
        };
        parser.skip_ws();
        if !parser.eat('$') {
            return Err(parser.error("a JSONPath starts with `$`"));
        }
        let mut segments = Vec::new();
        loop {
            parser.skip_ws();
            if parser.done() {
                break;
            }
            segments.push(parser.segment()?);
        }
        Ok(Self { segments })
    }

    /// The JSON pointers of the nodes of `root` the path selects, in
    /// document order, each once.
    pub fn select(&self, root: &Value) -> Vec<String> {
        let mut nodes = vec![String::new()];
        for segment in &self.segments {
            let mut next = Vec::new();
            for pointer in &nodes {
                let Some(node) = root.pointer(pointer) else {
                    continue;
                };
                match segment {
                    Segment::Child(selector) => apply(selector, node, pointer, &mut next),
                    Segment::Descendant(selector) => {
                        let mut all = Vec::new();
                        descendants(node, pointer, &mut all);
                        for (p, n) in all {
                            apply(selector, n, &p, &mut next);
                        }
                    }
                }
            }
            let mut seen = std::collections::HashSet::new();
            next.retain(|p| seen.insert(p.clone()));
            nodes = next;
        }
        nodes
    }
}

use crate::source::reader::escape;

/// `node` and every node under it, with their pointers.
fn descendants<'a>(node: &'a Value, pointer: &str, out: &mut Vec<(String, &'a Value)>) {
    out.push((pointer.to_string(), node));
    match node {
        Value::Object(map) => {
            for (k, v) in map {
                descendants(v, &format!("{pointer}/{}", escape(k)), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                descendants(v, &format!("{pointer}/{i}"), out);
            }
        }
        _ => {}
    }
}

fn apply(selector: &Selector, node: &Value, pointer: &str, out: &mut Vec<String>) {
    match (selector, node) {
        (Selector::Name(name), Value::Object(map)) if map.contains_key(name) => {
            out.push(format!("{pointer}/{}", escape(name)));
        }
        (Selector::Index(i), Value::Array(items)) => {
            let len = items.len() as i64;
            let index = if *i < 0 { len + i } else { *i };
            if (0..len).contains(&index) {
                out.push(format!("{pointer}/{index}"));
            }
        }
        (Selector::Wildcard, Value::Object(map)) => {
            out.extend(map.keys().map(|k| format!("{pointer}/{}", escape(k))));
        }
        (Selector::Wildcard, Value::Array(items)) => {
            out.extend((0..items.len()).map(|i| format!("{pointer}/{i}")));
        }
        (Selector::Filter(filter), Value::Object(map)) => {
            for (k, v) in map {
                if filter.holds(v) {
                    out.push(format!("{pointer}/{}", escape(k)));
                }
            }
        }
        (Selector::Filter(filter), Value::Array(items)) => {
            for (i, v) in items.iter().enumerate() {
                if filter.holds(v) {
                    out.push(format!("{pointer}/{i}"));
                }
            }
        }
        _ => {}
    }
}

fn member<'a>(node: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(node, |n, name| match n {
        Value::Object(map) => map.get(name),
        Value::Array(items) => name.parse::<usize>().ok().and_then(|i| items.get(i)),
        _ => None,
    })
}

impl Filter {
    fn holds(&self, node: &Value) -> bool {
        match self {
            Filter::Or(a, b) => a.holds(node) || b.holds(node),
            Filter::And(a, b) => a.holds(node) && b.holds(node),
            Filter::Not(f) => !f.holds(node),
            Filter::Exists(path) => member(node, path).is_some(),
            Filter::Compare(a, op, b) => {
                let value = |o: &Operand| match o {
                    Operand::Member(path) => member(node, path).cloned(),
                    Operand::Literal(v) => Some(v.clone()),
                };
                let (a, b) = (value(a), value(b));
                match op {
                    Op::Eq => a == b,
                    Op::Ne => a != b,
                    _ => match (a, b) {
                        (Some(Value::Number(x)), Some(Value::Number(y))) => {
                            let (x, y) = (x.as_f64().unwrap_or(0.0), y.as_f64().unwrap_or(0.0));
                            match op {
                                Op::Lt => x < y,
                                Op::Le => x <= y,
                                Op::Gt => x > y,
                                _ => x >= y,
                            }
                        }
                        (Some(Value::String(x)), Some(Value::String(y))) => match op {
                            Op::Lt => x < y,
                            Op::Le => x <= y,
                            Op::Gt => x > y,
                            _ => x >= y,
                        },
                        _ => false,
                    },
                }
            }
        }
    }
}

struct Parser {
    chars: Vec<char>,
    at: usize,
}

impl Parser {
    fn done(&self) -> bool {
        self.at >= self.chars.len()
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn eat(&mut self, c: char) -> bool {
        if self.peek() == Some(c) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn eat_str(&mut self, s: &str) -> bool {
        let n = s.chars().count();
        if self.chars[self.at.min(self.chars.len())..]
            .iter()
            .take(n)
            .copied()
            .eq(s.chars())
        {
            self.at += n;
            true
        } else {
            false
        }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    fn error(&self, what: &'static str) -> JsonPathError {
        JsonPathError {
            what,
            at: self.at + 1,
        }
    }

    fn segment(&mut self) -> Result<Segment, JsonPathError> {
        if self.eat_str("..") {
            let selector = if self.peek() == Some('[') {
                self.bracket()?
            } else if self.eat('*') {
                Selector::Wildcard
            } else {
                Selector::Name(self.name()?)
            };
            return Ok(Segment::Descendant(selector));
        }
        if self.eat('.') {
            if self.eat('*') {
                return Ok(Segment::Child(Selector::Wildcard));
            }
            return Ok(Segment::Child(Selector::Name(self.name()?)));
        }
        if self.peek() == Some('[') {
            return Ok(Segment::Child(self.bracket()?));
        }
        Err(self.error("expected `.`, `..` or `[`"))
    }

    fn name(&mut self) -> Result<String, JsonPathError> {
        let start = self.at;
        while self
            .peek()
            .is_some_and(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '$'))
        {
            self.at += 1;
        }
        if self.at == start {
            return Err(self.error("expected a member name"));
        }
        Ok(self.chars[start..self.at].iter().collect())
    }

    fn bracket(&mut self) -> Result<Selector, JsonPathError> {
        self.eat('[');
        self.skip_ws();
        let selector = if self.eat('*') {
            Selector::Wildcard
        } else if self.eat('?') {
            self.skip_ws();
            let parenthesised = self.eat('(');
            let filter = self.or()?;
            self.skip_ws();
            if parenthesised && !self.eat(')') {
                return Err(self.error("expected `)`"));
            }
            Selector::Filter(filter)
        } else if matches!(self.peek(), Some('\'' | '"')) {
            Selector::Name(self.string()?)
        } else {
            Selector::Index(self.integer()?)
        };
        self.skip_ws();
        if !self.eat(']') {
            return Err(self.error("expected `]`"));
        }
        Ok(selector)
    }

    fn string(&mut self) -> Result<String, JsonPathError> {
        let quote = self.peek().ok_or_else(|| self.error("expected a string"))?;
        self.at += 1;
        let mut text = String::new();
        loop {
            match self.peek() {
                None => return Err(self.error("unterminated string")),
                Some(c) if c == quote => {
                    self.at += 1;
                    return Ok(text);
                }
                Some('\\') => {
                    self.at += 1;
                    let c = self
                        .peek()
                        .ok_or_else(|| self.error("unterminated string"))?;
                    text.push(match c {
                        'n' => '\n',
                        't' => '\t',
                        other => other,
                    });
                    self.at += 1;
                }
                Some(c) => {
                    text.push(c);
                    self.at += 1;
                }
            }
        }
    }

    fn integer(&mut self) -> Result<i64, JsonPathError> {
        let start = self.at;
        self.eat('-');
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            self.at += 1;
        }
        let text: String = self.chars[start..self.at].iter().collect();
        text.parse()
            .map_err(|_| self.error("expected a name in quotes, an index, `*` or `?`"))
    }

    fn or(&mut self) -> Result<Filter, JsonPathError> {
        let mut left = self.and()?;
        loop {
            self.skip_ws();
            if !self.eat_str("||") {
                return Ok(left);
            }
            let right = self.and()?;
            left = Filter::Or(Box::new(left), Box::new(right));
        }
    }

    fn and(&mut self) -> Result<Filter, JsonPathError> {
        let mut left = self.unary()?;
        loop {
            self.skip_ws();
            if !self.eat_str("&&") {
                return Ok(left);
            }
            let right = self.unary()?;
            left = Filter::And(Box::new(left), Box::new(right));
        }
    }

    fn unary(&mut self) -> Result<Filter, JsonPathError> {
        self.skip_ws();
        if self.eat('!') {
            return Ok(Filter::Not(Box::new(self.unary()?)));
        }
        if self.eat('(') {
            let inner = self.or()?;
            self.skip_ws();
            if !self.eat(')') {
                return Err(self.error("expected `)`"));
            }
            return Ok(inner);
        }
        let left = self.operand()?;
        self.skip_ws();
        let op = [
            ("==", Op::Eq),
            ("!=", Op::Ne),
            ("<=", Op::Le),
            (">=", Op::Ge),
            ("<", Op::Lt),
            (">", Op::Gt),
        ]
        .into_iter()
        .find(|(text, _)| self.eat_str(text))
        .map(|(_, op)| op);
        match (op, left) {
            (None, Operand::Member(path)) => Ok(Filter::Exists(path)),
            (None, Operand::Literal(_)) => Err(self.error("expected a comparison")),
            (Some(op), left) => {
                self.skip_ws();
                let right = self.operand()?;
                Ok(Filter::Compare(left, op, right))
            }
        }
    }

    fn operand(&mut self) -> Result<Operand, JsonPathError> {
        self.skip_ws();
        if self.eat('@') {
            let mut path = Vec::new();
            loop {
                if self.eat('.') {
                    path.push(self.name()?);
                } else if self.peek() == Some('[') {
                    self.at += 1;
                    self.skip_ws();
                    let name = if matches!(self.peek(), Some('\'' | '"')) {
                        self.string()?
                    } else {
                        self.integer()?.to_string()
                    };
                    self.skip_ws();
                    if !self.eat(']') {
                        return Err(self.error("expected `]`"));
                    }
                    path.push(name);
                } else {
                    return Ok(Operand::Member(path));
                }
            }
        }
        if matches!(self.peek(), Some('\'' | '"')) {
            return Ok(Operand::Literal(Value::String(self.string()?)));
        }
        for (word, value) in [
            ("true", Value::Bool(true)),
            ("false", Value::Bool(false)),
            ("null", Value::Null),
        ] {
            if self.eat_str(word) {
                return Ok(Operand::Literal(value));
            }
        }
        let start = self.at;
        while self
            .peek()
            .is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '.' | 'e' | 'E' | '+'))
        {
            self.at += 1;
        }
        let text: String = self.chars[start..self.at].iter().collect();
        serde_json::from_str::<serde_json::Number>(&text)
            .map(|n| Operand::Literal(Value::Number(n)))
            .map_err(|_| self.error("expected `@`, a string, a number, true, false or null"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn doc() -> Value {
        json!({
            "paths": {
                "/api/projects/": {"get": {"parameters": [
                    {"name": "page", "in": "query", "schema": {"type": "integer"}},
                    {"name": "o", "in": "query", "schema": {"type": "array"}}
                ]}},
                "/api/projects/{uuid}/": {"get": {"parameters": [
                    {"name": "uuid", "in": "path", "schema": {"type": "string", "format": "uuid"}}
                ]}}
            },
            "components": {"schemas": {"Project": {"properties": {
                "uuid": {"type": "string", "format": "uuid"},
                "url": {"type": "string", "format": "uri"}
            }}}}
        })
    }

    fn select(path: &str) -> Vec<String> {
        JsonPath::parse(path).expect(path).select(&doc())
    }

    #[test]
    fn names_indexes_and_wildcards() {
        assert_eq!(
            select("$.paths['/api/projects/'].get.parameters[0].name"),
            ["/paths/~1api~1projects~1/get/parameters/0/name"]
        );
        assert_eq!(
            select("$.paths[\"/api/projects/\"].get.parameters[-1]"),
            ["/paths/~1api~1projects~1/get/parameters/1"]
        );
        assert_eq!(select("$.paths.*.get").len(), 2);
        assert_eq!(
            select("$.components.schemas.Project.properties[*]").len(),
            2
        );
        assert!(select("$.nothing.here").is_empty());
    }

    #[test]
    fn filters_and_descendants() {
        assert_eq!(
            select("$.paths.*.get.parameters[?@.name == 'page']"),
            ["/paths/~1api~1projects~1/get/parameters/0"]
        );
        assert_eq!(
            select("$.paths.*.get.parameters[?(@.in=='path' && @.schema.format)]"),
            ["/paths/~1api~1projects~1{uuid}~1/get/parameters/0"]
        );
        assert_eq!(select("$..[?@.format == 'uuid']").len(), 2);
        assert_eq!(select("$..parameters[?!(@.in == 'query')]").len(), 1);
    }

    #[test]
    fn broken_paths_say_where() {
        assert_eq!(
            JsonPath::parse("paths").unwrap_err().to_string(),
            "a JSONPath starts with `$` at character 1"
        );
        let error = JsonPath::parse("$.paths[?@.a ==]").unwrap_err();
        assert_eq!(
            error.what,
            "expected `@`, a string, a number, true, false or null"
        );
        assert_eq!(error.at, 16);
        assert!(JsonPath::parse("$['unterminated").is_err());
    }
}
