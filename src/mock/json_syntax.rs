//! Where a request body stops being JSON, described the way the service's
//! own parser would describe it.
//!
//! APIs built on Python (Django REST framework, FastAPI, Flask) answer a
//! broken body with the message of Python's `json` module, position
//! included ("Expecting ',' delimiter: line 1 column 9 (char 8)"). A mock
//! that is to answer with the same words needs the same reading: this is a
//! scanner that follows the decisions of CPython's `json` decoder (3.11)
//! and stops where it stops. Positions count characters, not bytes, as
//! Python's do.

use serde::Serialize;

/// The first syntax error of a body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SyntaxError {
    /// 1-based line and column, and the 0-based character offset.
    pub line: usize,
    pub column: usize,
    pub offset: usize,
    /// Python's wording without the position: `Expecting value`.
    pub reason: String,
    /// Python's whole message: `Expecting value: line 1 column 1 (char 0)`.
    pub python: String,
}

/// Nesting followed before giving up: deeper bodies are refused for their
/// depth anyway, and the scanner must not run out of stack on them.
const MAX_DEPTH: usize = 256;

/// The first syntax error in `bytes` by Python's reading, or `None` when
/// Python would parse it (or the body is too deep to read here).
pub fn first_error(bytes: &[u8]) -> Option<SyntaxError> {
    let text: Vec<char> = String::from_utf8_lossy(bytes).chars().collect();
    let mut scanner = Scanner { s: &text, depth: 0 };
    let result = (|| {
        let start = scanner.skip_ws(0);
        let end = scanner.value(start)?;
        let end = scanner.skip_ws(end);
        if end != text.len() {
            return Err(("Extra data".to_string(), end));
        }
        Ok(())
    })();
    result
        .err()
        .filter(|(reason, _)| reason != TOO_DEEP)
        .map(|(reason, at)| locate(&text, reason, at))
}

fn locate(text: &[char], reason: String, offset: usize) -> SyntaxError {
    let before = &text[..offset.min(text.len())];
    let line = before.iter().filter(|&&c| c == '\n').count() + 1;
    let column = match before.iter().rposition(|&c| c == '\n') {
        Some(newline) => offset - newline,
        None => offset + 1,
    };
    let python = format!("{reason}: line {line} column {column} (char {offset})");
    SyntaxError {
        line,
        column,
        offset,
        reason,
        python,
    }
}

/// Whether the JSON text `bytes` holds more than `limit` values (every
/// object, array, string, number and literal counts), found by one pass
/// over the bytes without parsing: a small body of `[{},{},…]` parses
/// into dozens of times its size, so it is refused before it is parsed.
/// Text that is not JSON is counted as far as it goes; the parser then
/// names its mistake.
pub fn more_values_than(bytes: &[u8], limit: usize) -> bool {
    // Each value starts a container, follows a `,` or `:`, or is the first
    // of the text; counting those (outside strings) over-counts only by
    // keys, which are strings and values too.
    let mut count: usize = 1;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in bytes {
        if in_string {
            match (escaped, byte) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' | b',' | b':' => {
                count += 1;
                if count > limit {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

type Scan = Result<usize, (String, usize)>;

const TOO_DEEP: &str = "too deep";

struct Scanner<'a> {
    s: &'a [char],
    depth: usize,
}

impl Scanner<'_> {
    fn at(&self, i: usize) -> Option<char> {
        self.s.get(i).copied()
    }

    fn is_ws(c: Option<char>) -> bool {
        matches!(c, Some(' ' | '\t' | '\n' | '\r'))
    }

    fn skip_ws(&self, mut i: usize) -> usize {
        while Self::is_ws(self.at(i)) {
            i += 1;
        }
        i
    }

    fn expecting_value(i: usize) -> (String, usize) {
        ("Expecting value".to_string(), i)
    }

    fn starts_with(&self, i: usize, word: &str) -> bool {
        word.chars()
            .enumerate()
            .all(|(k, c)| self.at(i + k) == Some(c))
    }

    /// One value starting exactly at `i` (no whitespace skipped), as
    /// Python's `scan_once`.
    fn value(&mut self, i: usize) -> Scan {
        self.depth += 1;
        let result = self.value_at_depth(i);
        self.depth -= 1;
        result
    }

    fn value_at_depth(&mut self, i: usize) -> Scan {
        if self.depth > MAX_DEPTH {
            return Err((TOO_DEEP.to_string(), i));
        }
        match self.at(i) {
            None => Err(Self::expecting_value(i)),
            Some('"') => self.string(i + 1),
            Some('{') => self.object(i + 1),
            Some('[') => self.array(i + 1),
            Some('n') if self.starts_with(i, "null") => Ok(i + 4),
            Some('t') if self.starts_with(i, "true") => Ok(i + 4),
            Some('f') if self.starts_with(i, "false") => Ok(i + 5),
            Some('N') if self.starts_with(i, "NaN") => Ok(i + 3),
            Some('I') if self.starts_with(i, "Infinity") => Ok(i + 8),
            Some('-') if self.starts_with(i, "-Infinity") => Ok(i + 9),
            Some(_) => self.number(i).ok_or_else(|| Self::expecting_value(i)),
        }
    }

    /// `-?(0|[1-9]\d*)(\.\d+)?([eE][-+]?\d+)?`, or `None` when it does not match.
    fn number(&self, i: usize) -> Option<usize> {
        let digits = |mut j: usize| {
            let start = j;
            while self.at(j).is_some_and(|c| c.is_ascii_digit()) {
                j += 1;
            }
            (j > start).then_some(j)
        };
        let mut j = i;
        if self.at(j) == Some('-') {
            j += 1;
        }
        j = match self.at(j) {
            Some('0') => j + 1,
            Some('1'..='9') => digits(j)?,
            _ => return None,
        };
        if self.at(j) == Some('.')
            && let Some(after) = digits(j + 1)
        {
            j = after;
        }
        if matches!(self.at(j), Some('e' | 'E')) {
            let mut k = j + 1;
            if matches!(self.at(k), Some('+' | '-')) {
                k += 1;
            }
            if let Some(after) = digits(k) {
                j = after;
            }
        }
        Some(j)
    }

    /// The rest of a string whose opening quote is at `i - 1`.
    fn string(&mut self, mut i: usize) -> Scan {
        let begin = i - 1;
        let unterminated = || ("Unterminated string starting at".to_string(), begin);
        loop {
            match self.at(i) {
                None => return Err(unterminated()),
                Some('"') => return Ok(i + 1),
                Some('\\') => match self.at(i + 1) {
                    None => return Err(unterminated()),
                    Some('"' | '\\' | '/' | 'b' | 'f' | 'n' | 'r' | 't') => i += 2,
                    Some('u') => {
                        let hex = (i + 2..i + 6)
                            .all(|j| self.at(j).is_some_and(|c| c.is_ascii_hexdigit()));
                        if !hex {
                            return Err(("Invalid \\uXXXX escape".to_string(), i + 1));
                        }
                        i += 6;
                    }
                    Some(_) => return Err(("Invalid \\escape".to_string(), i)),
                },
                Some(c) if (c as u32) < 0x20 => {
                    return Err(("Invalid control character at".to_string(), i));
                }
                Some(_) => i += 1,
            }
        }
    }

    /// The rest of an object whose `{` is at `i - 1`.
    fn object(&mut self, mut i: usize) -> Scan {
        let property = |at: usize| {
            (
                "Expecting property name enclosed in double quotes".to_string(),
                at,
            )
        };
        i = self.skip_ws(i);
        match self.at(i) {
            Some('}') => return Ok(i + 1),
            Some('"') => {}
            _ => return Err(property(i)),
        }
        i += 1;
        loop {
            i = self.string(i)?;
            i = self.skip_ws(i);
            if self.at(i) != Some(':') {
                return Err(("Expecting ':' delimiter".to_string(), i));
            }
            i = self.skip_ws(i + 1);
            i = self.value(i)?;
            i = self.skip_ws(i);
            match self.at(i) {
                Some('}') => return Ok(i + 1),
                Some(',') => {}
                _ => return Err(("Expecting ',' delimiter".to_string(), i)),
            }
            i = self.skip_ws(i + 1);
            if self.at(i) != Some('"') {
                return Err(property(i));
            }
            i += 1;
        }
    }

    /// The rest of an array whose `[` is at `i - 1`.
    fn array(&mut self, mut i: usize) -> Scan {
        i = self.skip_ws(i);
        if self.at(i) == Some(']') {
            return Ok(i + 1);
        }
        loop {
            i = self.value(i)?;
            i = self.skip_ws(i);
            match self.at(i) {
                Some(']') => return Ok(i + 1),
                Some(',') => {}
                _ => return Err(("Expecting ',' delimiter".to_string(), i)),
            }
            i = self.skip_ws(i + 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Each message was read off CPython 3.11's `json.loads`.
    #[test]
    fn broken_bodies_get_pythons_words() {
        for (body, message) in [
            ("", "Expecting value: line 1 column 1 (char 0)"),
            ("not json", "Expecting value: line 1 column 1 (char 0)"),
            (
                "{bad",
                "Expecting property name enclosed in double quotes: line 1 column 2 (char 1)",
            ),
            (
                "{\"a\": 1,}",
                "Expecting property name enclosed in double quotes: line 1 column 9 (char 8)",
            ),
            (
                "{\"a\" 1}",
                "Expecting ':' delimiter: line 1 column 6 (char 5)",
            ),
            (
                "{\"a\": 1 \"b\": 2}",
                "Expecting ',' delimiter: line 1 column 9 (char 8)",
            ),
            ("[1, 2", "Expecting ',' delimiter: line 1 column 6 (char 5)"),
            ("[1,]", "Expecting value: line 1 column 4 (char 3)"),
            ("{\"a\": }", "Expecting value: line 1 column 7 (char 6)"),
            (
                "{\"a\": \"x",
                "Unterminated string starting at: line 1 column 7 (char 6)",
            ),
            ("{}\n{}", "Extra data: line 2 column 1 (char 3)"),
            ("01", "Extra data: line 1 column 2 (char 1)"),
            ("\"a\\qb\"", "Invalid \\escape: line 1 column 3 (char 2)"),
            (
                "\"a\u{1}\"",
                "Invalid control character at: line 1 column 3 (char 2)",
            ),
            (
                "{\n  \"é\": tru\n}",
                "Expecting value: line 2 column 8 (char 9)",
            ),
        ] {
            let error = first_error(body.as_bytes()).expect(body);
            assert_eq!(error.python, message, "{body:?}");
        }
    }

    #[test]
    fn values_are_counted_outside_strings_only() {
        // The object, two keys, the array, its two items and "x".
        assert!(!more_values_than(br#"{"a": [1, 2], "b": "x"}"#, 7));
        assert!(more_values_than(br#"{"a": [1, 2], "b": "x"}"#, 6));
        // An escaped quote does not end the string; its commas don't count.
        assert!(!more_values_than(br#"["a\",[,,:{", "b"]"#, 3));
        assert!(more_values_than(b"[{},{},{}]", 3));
    }

    #[test]
    fn a_body_too_deep_to_follow_is_left_to_the_depth_limit() {
        let deep = "[".repeat(100_000);
        assert_eq!(first_error(deep.as_bytes()), None);
    }

    #[test]
    fn what_python_reads_is_not_an_error() {
        for body in [
            "{}",
            " [1, 2.5e3, -0, true, false, null] ",
            "{\"a\": {\"b\": [\"\\u00e9\\n\"]}}",
            "NaN",
            "-Infinity",
        ] {
            assert_eq!(first_error(body.as_bytes()), None, "{body:?}");
        }
    }
}
