//! Errors as a person reads them: message, file and line, the line itself
//! and a caret under the column. Rendered once, at the CLI edge.

use crate::source::SourceLocation;
use std::fmt::Write;

pub fn render(message: &str, at: &SourceLocation) -> String {
    let mut out = format!("error: {}\n  --> {at}\n", strip_location(message, at));
    let Some(line_no) = at.line else { return out };
    let Ok(text) = std::fs::read_to_string(&at.file) else {
        return out;
    };
    let Some(line) = text.lines().nth(line_no.saturating_sub(1)) else {
        return out;
    };
    let gutter = line_no.to_string().len();
    let _ = writeln!(out, "{:gutter$} |", "");
    let _ = writeln!(out, "{line_no} | {line}");
    let column = at
        .column
        .unwrap_or_else(|| line.len() - line.trim_start().len() + 1);
    let _ = writeln!(out, "{:gutter$} | {:>width$}", "", "^", width = column);
    out
}

/// Messages carry their location as a prefix for plain `Display`; the
/// rendered form shows it on its own line instead.
fn strip_location(message: &str, at: &SourceLocation) -> String {
    let prefix = format!("{at}: ");
    message.strip_prefix(&prefix).unwrap_or(message).to_string()
}
