//! YAML 1.2 (and therefore JSON) text into `serde_json::Value`, with positions.
//!
//! Specs, fixtures and scenarios are all read through here so that every
//! syntax error names a line and column. The parser is event based
//! (`saphyr-parser`): building a `Value` directly from events avoids an
//! intermediate YAML tree, which matters for 4 MB specs.

use saphyr_parser::{Event, Parser, ScalarStyle, Span, SpannedEventReceiver, Tag};
use serde_json::{Map, Number, Value};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// Values one file may expand to, aliases counted each time they are
/// used: real specs hold a few hundred thousand; a 466-byte alias bomb
/// would otherwise expand to gigabytes (`--max-yaml-nodes`).
pub const DEFAULT_MAX_NODES: usize = 2_000_000;
/// Nesting depth one file may reach; deeper values could not even be
/// dropped without overflowing the stack (`--max-yaml-depth`).
pub const DEFAULT_MAX_DEPTH: usize = 256;

static MAX_NODES: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_NODES);
static MAX_DEPTH: AtomicUsize = AtomicUsize::new(DEFAULT_MAX_DEPTH);

/// Sets the limits every file read from now on is held to (the CLI's
/// `--max-yaml-nodes` and `--max-yaml-depth`, set once at start).
pub fn set_limits(max_nodes: usize, max_depth: usize) {
    MAX_NODES.store(max_nodes, Ordering::Relaxed);
    MAX_DEPTH.store(max_depth, Ordering::Relaxed);
}

/// Why a text could not be read as YAML, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SyntaxError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Parses one YAML document (JSON is accepted as YAML) into a JSON value.
///
/// Mapping keys must be scalars, duplicate keys are refused and values JSON
/// cannot hold (`.nan`, `.inf`) are errors rather than silently changed.
pub fn parse(text: &str) -> Result<Value, SyntaxError> {
    parse_within(
        text,
        MAX_NODES.load(Ordering::Relaxed),
        MAX_DEPTH.load(Ordering::Relaxed),
    )
}

/// [`parse`] with the limits given.
fn parse_within(text: &str, max_nodes: usize, max_depth: usize) -> Result<Value, SyntaxError> {
    let mut builder = ValueBuilder {
        max_nodes,
        max_depth,
        ..ValueBuilder::default()
    };
    let mut parser = Parser::new_from_str(text);
    if let Err(e) = parser.load(&mut builder, true) {
        return Err(SyntaxError {
            line: e.marker().line(),
            column: e.marker().col() + 1,
            message: e.info().to_string(),
        });
    }
    if let Some(err) = builder.error {
        return Err(err);
    }
    Ok(builder.root.unwrap_or(Value::Null))
}

/// Most closing brackets moved before giving up on a file.
const MAX_BRACKET_FIXES: usize = 1000;

/// Parses like [`parse`], reading one common shape leniently: a multi-line
/// flow collection whose closing `}` or `]` sits at its key's indentation
/// after a nested `{}` (`example: {` / `"80/tcp": {}` / `}`), which PyYAML
/// and most readers accept and the strict parser refuses. The bracket is
/// moved one column right and the file read again; when that happens the
/// text that was read is returned too (lines are unchanged), so positions
/// found later point at the same lines.
pub fn parse_lenient(text: &str) -> Result<(Value, Option<String>), SyntaxError> {
    let first = match parse(text) {
        Ok(value) => return Ok((value, None)),
        Err(e) => e,
    };
    let mut fixed = text.to_string();
    let mut error = first.clone();
    for _ in 0..MAX_BRACKET_FIXES {
        if error.message != "invalid indentation" {
            break;
        }
        let Some(offset) = offset_of(&fixed, error.line, error.column) else {
            break;
        };
        if !matches!(fixed.as_bytes().get(offset), Some(b'}' | b']')) {
            break;
        }
        fixed.insert(offset, ' ');
        match parse(&fixed) {
            Ok(value) => return Ok((value, Some(fixed))),
            Err(e) => error = e,
        }
    }
    Err(first)
}

/// The byte offset of a 1-based line and column, when both exist.
fn offset_of(text: &str, line: usize, column: usize) -> Option<usize> {
    let start: usize = text
        .split_inclusive('\n')
        .take(line.checked_sub(1)?)
        .map(str::len)
        .sum();
    let line_text = text.get(start..)?.split('\n').next()?;
    let within = line_text.char_indices().nth(column.checked_sub(1)?)?.0;
    Some(start + within)
}

/// The 1-based line at which the node at `pointer` (RFC 6901) starts, if the
/// text parses and the node exists. For a mapping entry this is the line of
/// its key, which is what a person looks for.
pub fn line_of_pointer(text: &str, pointer: &str) -> Option<usize> {
    let target: Vec<String> = if pointer.is_empty() {
        Vec::new()
    } else {
        pointer
            .strip_prefix('/')?
            .split('/')
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .collect()
    };
    let mut finder = PointerFinder {
        target,
        path: Vec::new(),
        frames: Vec::new(),
        found: None,
        all: None,
    };
    let mut parser = Parser::new_from_str(text);
    // A parse error after the node was seen still leaves a useful answer.
    let _ = parser.load(&mut finder, false);
    finder.found
}

/// The line of every node of `text`, by JSON pointer, in one pass: for
/// files that need many lines (a scenario's every step), where asking
/// [`line_of_pointer`] for each would read the file again each time.
pub fn lines_of_pointers(text: &str) -> PointerLines {
    let mut finder = PointerFinder {
        target: Vec::new(),
        path: Vec::new(),
        frames: Vec::new(),
        found: None,
        all: Some(Vec::new()),
    };
    let mut parser = Parser::new_from_str(text);
    let _ = parser.load(&mut finder, false);
    let mut lines = finder.all.unwrap_or_default();
    // The first entry of a pointer wins: `dedup_by_key` keeps the first,
    // and a stable sort keeps reading order among equal keys.
    lines.sort_by_key(|&(hash, _)| hash);
    lines.dedup_by_key(|&mut (hash, _)| hash);
    lines.shrink_to_fit();
    PointerLines(lines)
}

/// Every node's line, keyed by a 64-bit hash of its JSON pointer: twelve
/// bytes a node where a map of pointer strings took about sixty (24 MB for
/// Waldur's 4 MB spec). Two pointers of one file sharing a hash is a one in
/// 10^8 chance on the largest specs, and costs only a wrong line number.
#[derive(Debug, Default)]
pub struct PointerLines(Vec<(u64, u32)>);

impl PointerLines {
    pub fn get(&self, pointer: &str) -> Option<usize> {
        let hash = pointer_hash(pointer);
        self.0
            .binary_search_by_key(&hash, |&(h, _)| h)
            .ok()
            .map(|i| self.0[i].1 as usize)
    }
}

/// A hash that is the same in every run (std's default hasher with fixed keys).
fn pointer_hash(pointer: &str) -> u64 {
    use std::hash::{Hash, Hasher};
    #[allow(deprecated)]
    let mut hasher = std::hash::SipHasher::new();
    pointer.hash(&mut hasher);
    hasher.finish()
}

enum Frame {
    Seq {
        items: Vec<Value>,
        anchor: usize,
        /// `nodes` when the collection began, to size an anchored one.
        nodes_before: usize,
    },
    Map {
        entries: Map<String, Value>,
        key: Option<String>,
        anchor: usize,
        /// Entries merged in with `<<`, applied where the mapping does not set them.
        merged: Vec<Map<String, Value>>,
        nodes_before: usize,
    },
}

#[derive(Default)]
struct ValueBuilder {
    frames: Vec<Frame>,
    /// Each anchored value, with how many values it holds.
    anchors: HashMap<usize, (Value, usize)>,
    /// Values built so far, aliases counted each time they are used.
    nodes: usize,
    max_nodes: usize,
    max_depth: usize,
    root: Option<Value>,
    error: Option<SyntaxError>,
    /// Set once the first document is complete: a second document is an error.
    documents: usize,
}

impl ValueBuilder {
    fn fail(&mut self, span: Span, message: impl Into<String>) {
        if self.error.is_none() {
            self.error = Some(SyntaxError {
                line: span.start.line(),
                column: span.start.col() + 1,
                message: message.into(),
            });
        }
    }

    /// Counts `added` values; `false` (after failing) past the limit.
    fn count(&mut self, added: usize, span: Span) -> bool {
        self.nodes = self.nodes.saturating_add(added);
        if self.nodes > self.max_nodes {
            self.fail(
                span,
                format!(
                    "the file expands to more than {} values (an alias counts each time it is used); --max-yaml-nodes raises the limit",
                    self.max_nodes
                ),
            );
            return false;
        }
        true
    }

    /// Opens a collection; `false` (after failing) past the depth limit.
    fn deeper(&mut self, span: Span) -> bool {
        if self.frames.len() >= self.max_depth {
            self.fail(
                span,
                format!(
                    "values nested more than {} levels deep; --max-yaml-depth raises the limit",
                    self.max_depth
                ),
            );
            return false;
        }
        true
    }

    /// Places a finished node into its parent (or as the root); `size` is
    /// how many values it holds, for an anchor's later aliases.
    fn push_value(
        &mut self,
        value: Value,
        anchor: usize,
        size: usize,
        span: Span,
        key_allowed: bool,
    ) {
        if anchor != 0 {
            self.anchors.insert(anchor, (value.clone(), size));
        }
        match self.frames.last_mut() {
            None => self.root = Some(value),
            Some(Frame::Seq { items, .. }) => items.push(value),
            Some(Frame::Map {
                entries,
                key,
                merged,
                ..
            }) => match key.take() {
                None => {
                    let name = match value {
                        Value::String(s) => s,
                        Value::Number(n) => n.to_string(),
                        Value::Bool(b) => b.to_string(),
                        Value::Null => "null".to_string(),
                        _ => {
                            let _ = key_allowed;
                            return self.fail(span, "a mapping key must be a scalar");
                        }
                    };
                    if entries.contains_key(&name) {
                        return self.fail(span, format!("duplicate key `{name}`"));
                    }
                    *key = Some(name);
                }
                Some(name) if name == "<<" => match value {
                    Value::Object(map) => merged.push(map),
                    Value::Array(maps) if maps.iter().all(Value::is_object) => {
                        merged.extend(maps.into_iter().filter_map(|m| match m {
                            Value::Object(m) => Some(m),
                            _ => None,
                        }))
                    }
                    _ => self.fail(
                        span,
                        "a merge key `<<` needs a mapping or a list of mappings",
                    ),
                },
                Some(name) => {
                    entries.insert(name, value);
                }
            },
        }
    }
}

impl<'input> SpannedEventReceiver<'input> for ValueBuilder {
    fn on_event(&mut self, event: Event<'input>, span: Span) {
        if self.error.is_some() {
            return;
        }
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    self.fail(span, "only one YAML document is allowed per file");
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let in_key_position =
                    matches!(self.frames.last(), Some(Frame::Map { key: None, .. }));
                if !self.count(1, span) {
                    return;
                }
                let value = if in_key_position {
                    Value::String(owned(text))
                } else {
                    match resolve_scalar(text, style, tag) {
                        Ok(v) => v,
                        Err(error) => return self.fail(span, error.to_string()),
                    }
                };
                self.push_value(value, anchor, 1, span, true);
            }
            Event::Alias(id) => {
                let Some(size) = self.anchors.get(&id).map(|(_, size)| *size) else {
                    return self.fail(span, "alias to an unknown anchor");
                };
                // Counted before it is copied: the copy is what a bomb multiplies.
                if !self.count(size, span) {
                    return;
                }
                if let Some((value, _)) = self.anchors.get(&id).cloned() {
                    self.push_value(value, 0, size, span, false);
                }
            }
            Event::SequenceStart(anchor, _) => {
                if self.deeper(span) && self.count(1, span) {
                    self.frames.push(Frame::Seq {
                        items: Vec::new(),
                        anchor,
                        nodes_before: self.nodes - 1,
                    });
                }
            }
            Event::MappingStart(anchor, _) => {
                if self.deeper(span) && self.count(1, span) {
                    self.frames.push(Frame::Map {
                        entries: Map::new(),
                        key: None,
                        anchor,
                        merged: Vec::new(),
                        nodes_before: self.nodes - 1,
                    });
                }
            }
            Event::SequenceEnd => {
                if let Some(Frame::Seq {
                    mut items,
                    anchor,
                    nodes_before,
                }) = self.frames.pop()
                {
                    items.shrink_to_fit();
                    let size = self.nodes - nodes_before;
                    self.push_value(Value::Array(items), anchor, size, span, false);
                }
            }
            Event::MappingEnd => {
                if let Some(Frame::Map {
                    mut entries,
                    anchor,
                    merged,
                    nodes_before,
                    ..
                }) = self.frames.pop()
                {
                    let size = self.nodes - nodes_before;
                    for map in merged {
                        for (k, v) in map {
                            entries.entry(k).or_insert(v);
                        }
                    }
                    // Grown by insertion; collected again at its exact size
                    // (serde_json's map has no shrink_to_fit).
                    let entries: Map<String, Value> = entries.into_iter().collect();
                    self.push_value(Value::Object(entries), anchor, size, span, false);
                }
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
    }
}

/// Why a scalar has no JSON value.
#[derive(Debug, thiserror::Error)]
enum ScalarError {
    #[error("`{0}` is not a boolean")]
    NotBoolean(String),
    #[error("`{0}` is not a number")]
    NotNumber(String),
    #[error("unsupported tag `{0}`")]
    UnsupportedTag(String),
    #[error("`{0}` cannot be represented in JSON")]
    NotJson(String),
}

/// YAML 1.2 core schema resolution for a scalar in value position.
fn resolve_scalar(
    text: Cow<'_, str>,
    style: ScalarStyle,
    tag: Option<Cow<'_, Tag>>,
) -> Result<Value, ScalarError> {
    if let Some(tag) = tag {
        if tag.is_yaml_core_schema() {
            return match tag.suffix.as_str() {
                "str" => Ok(Value::String(owned(text))),
                "null" => Ok(Value::Null),
                "bool" => parse_bool(&text)
                    .map(Value::Bool)
                    .ok_or_else(|| ScalarError::NotBoolean(text.to_string())),
                "int" | "float" => {
                    parse_number(&text)?.ok_or_else(|| ScalarError::NotNumber(text.to_string()))
                }
                other => Err(ScalarError::UnsupportedTag(format!("!!{other}"))),
            };
        }
        return Err(ScalarError::UnsupportedTag(tag.to_string()));
    }
    if style != ScalarStyle::Plain {
        return Ok(Value::String(owned(text)));
    }
    match text.as_ref() {
        "" | "~" | "null" | "Null" | "NULL" => return Ok(Value::Null),
        _ => {}
    }
    if let Some(b) = parse_bool(&text) {
        return Ok(Value::Bool(b));
    }
    if let Some(n) = parse_number(&text)? {
        return Ok(n);
    }
    Ok(Value::String(owned(text)))
}

/// The scalar's text with no spare capacity: the parser grows its buffers
/// as it reads, and a 4 MB spec holds about 100,000 scalars and keys, which
/// would otherwise keep up to twice their size.
fn owned(text: Cow<'_, str>) -> String {
    let mut text = text.into_owned();
    text.shrink_to_fit();
    text
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// `Ok(None)` when the text is not a number at all; `Err` when it is one JSON cannot hold.
fn parse_number(text: &str) -> Result<Option<Value>, ScalarError> {
    let first = match text.as_bytes().first() {
        Some(b) => *b,
        None => return Ok(None),
    };
    if !(first.is_ascii_digit() || matches!(first, b'-' | b'+' | b'.')) {
        return Ok(None);
    }
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" | "-.inf" | "-.Inf" | "-.INF"
        | ".nan" | ".NaN" | ".NAN" => {
            return Err(ScalarError::NotJson(text.to_string()));
        }
        _ => {}
    }
    if let Some(hex) = text.strip_prefix("0x") {
        return Ok(i64::from_str_radix(hex, 16)
            .ok()
            .map(|n| Value::Number(n.into())));
    }
    if let Some(oct) = text.strip_prefix("0o") {
        return Ok(i64::from_str_radix(oct, 8)
            .ok()
            .map(|n| Value::Number(n.into())));
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        let unsigned = text.strip_prefix('+').unwrap_or(text);
        if let Ok(n) = unsigned.parse::<i64>() {
            return Ok(Some(Value::Number(n.into())));
        }
        if let Ok(n) = unsigned.parse::<u64>() {
            return Ok(Some(Value::Number(n.into())));
        }
    }
    let is_float_syntax = digits
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'-' | b'+'))
        && digits.bytes().any(|b| b.is_ascii_digit());
    if is_float_syntax && let Ok(f) = text.parse::<f64>() {
        return match Number::from_f64(f) {
            Some(n) if f.is_finite() => Ok(Some(Value::Number(n))),
            _ => Err(ScalarError::NotJson(text.to_string())),
        };
    }
    Ok(None)
}

enum FinderFrame {
    Seq { index: usize },
    Map { expecting_key: bool },
}

struct PointerFinder {
    target: Vec<String>,
    /// Path of the node about to be read.
    path: Vec<String>,
    frames: Vec<FinderFrame>,
    found: Option<usize>,
    /// When set, every node's line is recorded here instead of one found.
    all: Option<Vec<(u64, u32)>>,
}

impl PointerFinder {
    /// Called when a node starts in value position; returns whether it was the target.
    fn node_starts(&mut self, span: Span) {
        if self.all.is_some() {
            self.record(span);
        } else if self.found.is_none() && self.path == self.target {
            self.found = Some(span.start.line());
        }
    }

    fn record(&mut self, span: Span) {
        if let Some(all) = &mut self.all {
            let mut pointer = String::new();
            for segment in &self.path {
                pointer.push('/');
                pointer.push_str(&crate::source::reader::escape(segment));
            }
            let line = u32::try_from(span.start.line()).unwrap_or(u32::MAX);
            all.push((pointer_hash(&pointer), line));
        }
    }

    /// Called after a node in value position is complete.
    fn node_ends(&mut self) {
        match self.frames.last_mut() {
            Some(FinderFrame::Seq { index }) => {
                *index += 1;
                self.path.pop();
                self.path.push(index.to_string());
            }
            Some(FinderFrame::Map { expecting_key }) => {
                *expecting_key = true;
                self.path.pop();
            }
            None => {}
        }
    }
}

impl<'input> SpannedEventReceiver<'input> for PointerFinder {
    fn on_event(&mut self, event: Event<'input>, span: Span) {
        if self.found.is_some() {
            return;
        }
        match event {
            Event::Scalar(text, ..) => {
                if let Some(FinderFrame::Map { expecting_key }) = self.frames.last_mut()
                    && *expecting_key
                {
                    *expecting_key = false;
                    self.path.push(text.into_owned());
                    // The key's own line is where a reader looks for the entry.
                    if self.all.is_some() {
                        self.record(span);
                    } else if self.path == self.target {
                        self.found = Some(span.start.line());
                    }
                    return;
                }
                self.node_starts(span);
                self.node_ends();
            }
            Event::Alias(_) => {
                self.node_starts(span);
                self.node_ends();
            }
            Event::SequenceStart(..) => {
                self.node_starts(span);
                self.frames.push(FinderFrame::Seq { index: 0 });
                self.path.push("0".to_string());
            }
            Event::MappingStart(..) => {
                self.node_starts(span);
                self.frames.push(FinderFrame::Map {
                    expecting_key: true,
                });
            }
            Event::SequenceEnd => {
                self.frames.pop();
                self.path.pop();
                self.node_ends();
            }
            Event::MappingEnd => {
                self.frames.pop();
                self.node_ends();
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scalars_follow_the_core_schema() {
        let v = parse("a: 1\nb: 1.5\nc: true\nd: ~\ne: '1'\nf: yes\ng: -3\nh: 0x1F\n")
            .expect("valid yaml");
        assert_eq!(
            v,
            json!({"a": 1, "b": 1.5, "c": true, "d": null, "e": "1", "f": "yes", "g": -3, "h": 31})
        );
    }

    #[test]
    fn anchors_aliases_and_merge_keys() {
        let v = parse("base: &b {x: 1, y: 2}\ncopy: *b\nmerged:\n  <<: *b\n  y: 3\n")
            .expect("valid yaml");
        assert_eq!(v["copy"], json!({"x": 1, "y": 2}));
        assert_eq!(v["merged"], json!({"x": 1, "y": 3}));
    }

    #[test]
    fn json_is_read_too() {
        let v = parse(r#"{"a": [1, 2, {"b": null}], "c": "d"}"#).expect("valid json");
        assert_eq!(v, json!({"a": [1, 2, {"b": null}], "c": "d"}));
    }

    #[test]
    fn duplicate_keys_are_refused_with_their_line() {
        let err = parse("a: 1\nb: 2\na: 3\n").expect_err("duplicate key");
        assert_eq!(err.line, 3);
        assert!(err.message.contains("duplicate key `a`"), "{}", err.message);
    }

    #[test]
    fn syntax_errors_carry_a_position() {
        let err = parse("a: [1, 2\nb: 3\n").expect_err("unclosed flow sequence");
        assert!(err.line >= 1);
    }

    #[test]
    fn aliases_count_each_time_they_are_used_and_depth_is_bounded() {
        let bomb = "a: &a [x, x, x]\nb: &b [*a, *a, *a]\nc: [*b, *b, *b]\n";
        // 1 root + a (1+3) + b (1 + 3×4) + c (1 + 3×13) + 3 keys = 61.
        assert!(parse_within(bomb, 61, 10).is_ok());
        let refused = parse_within(bomb, 60, 10).expect_err("past the limit");
        assert!(refused.message.contains("--max-yaml-nodes"), "{refused:?}");
        assert_eq!(refused.line, 3);
        let deep = "a:\n b:\n  c:\n   d: 1\n";
        assert!(parse_within(deep, 100, 4).is_ok());
        let refused = parse_within(deep, 100, 3).expect_err("too deep");
        assert!(refused.message.contains("--max-yaml-depth"), "{refused:?}");
    }

    #[test]
    fn nan_is_refused() {
        assert!(parse("a: .nan\n").is_err());
    }

    #[test]
    fn pointer_lines() {
        let text = "openapi: 3.0.0\npaths:\n  /a:\n    get:\n      responses:\n        '200':\n          $ref: '#/x'\nlist:\n  - one\n  - two\n";
        assert_eq!(line_of_pointer(text, "/paths/~1a/get"), Some(4));
        assert_eq!(
            line_of_pointer(text, "/paths/~1a/get/responses/200/$ref"),
            Some(7)
        );
        assert_eq!(line_of_pointer(text, "/list/1"), Some(10));
        assert_eq!(line_of_pointer(text, "/nope"), None);
        let all = lines_of_pointers(text);
        for pointer in [
            "/paths/~1a/get",
            "/paths/~1a/get/responses/200/$ref",
            "/list/1",
            "",
        ] {
            assert_eq!(
                all.get(pointer),
                line_of_pointer(text, pointer),
                "{pointer}"
            );
        }
    }

    #[test]
    fn a_closing_bracket_at_its_keys_indentation_is_read_leniently() {
        let text = "a:\n  b: {\n    \"80/tcp\": {}\n  }\n  c: 1\n";
        assert!(parse(text).is_err(), "the strict reading refuses it");
        let (value, fixed) = parse_lenient(text).expect("read leniently");
        assert_eq!(
            value,
            serde_json::json!({"a": {"b": {"80/tcp": {}}, "c": 1}})
        );
        let fixed = fixed.expect("the text was adjusted");
        assert_eq!(fixed.lines().count(), text.lines().count());
        assert_eq!(line_of_pointer(&fixed, "/a/c"), Some(5));
        // Other syntax errors are still errors, with their place.
        let broken = "a: [1, 2\nb: 3\n";
        assert!(parse_lenient(broken).is_err());
    }
}
