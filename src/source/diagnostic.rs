//! Errors as a person reads them: message, file and line, the line itself
//! and a caret under the column. Rendered once, at the CLI edge.

use crate::source::SourceLocation;
use std::fmt::Write;

pub fn render(message: &str, at: &SourceLocation) -> String {
    render_as("error", message, at)
}

/// A problem that does not stop the program, in the same form as an error.
pub fn warning(message: &str, at: &SourceLocation) -> String {
    render_as("warning", message, at)
}

/// Longest source line shown whole; minified JSON is one line of megabytes.
const SHOWN_LINE: usize = 160;

fn render_as(severity: &str, message: &str, at: &SourceLocation) -> String {
    let mut out = format!("{severity}: {}\n  --> {at}\n", strip_location(message, at));
    let Some(line_no) = at.line else { return out };
    let Ok(text) = std::fs::read_to_string(&at.file) else {
        return out;
    };
    let Some(line) = text.lines().nth(line_no.saturating_sub(1)) else {
        return out;
    };
    let gutter = line_no.to_string().len();
    let column = at
        .column
        .unwrap_or_else(|| line.len() - line.trim_start().len() + 1);
    // A window of the line around the column, cut on character boundaries.
    let start = column.saturating_sub(SHOWN_LINE / 2).min(line.len());
    let start = (0..=start)
        .rev()
        .find(|&i| line.is_char_boundary(i))
        .unwrap_or(0);
    let end = (start + SHOWN_LINE).min(line.len());
    let end = (end..=line.len())
        .find(|&i| line.is_char_boundary(i))
        .unwrap_or(line.len());
    let (before, after) = (
        if start > 0 { "…" } else { "" },
        if end < line.len() { "…" } else { "" },
    );
    let _ = writeln!(out, "{:gutter$} |", "");
    let _ = writeln!(out, "{line_no} | {before}{}{after}", &line[start..end]);
    let caret = column - start + before.chars().count();
    let _ = writeln!(out, "{:gutter$} | {:>caret$}", "", "^");
    out
}

/// Messages carry their location as a prefix for plain `Display`; the
/// rendered form shows it on its own line instead.
fn strip_location(message: &str, at: &SourceLocation) -> String {
    let prefix = format!("{at}: ");
    message.strip_prefix(&prefix).unwrap_or(message).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_line_is_shown_as_a_window_around_the_column() {
        let dir = std::env::temp_dir().join(format!("understudy-diag-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let file = dir.join("minified.json");
        let line = format!("{}\"ü\":{}{}", "a".repeat(500), "X", "b".repeat(500));
        std::fs::write(&file, &line).expect("write");
        let column = 500 + "\"ü\":".chars().count() + 1;
        let at = SourceLocation {
            file: file.clone(),
            line: Some(1),
            column: Some(column),
        };
        let out = render("here", &at);
        let shown = out.lines().nth(3).expect("the source line");
        let caret = out.lines().nth(4).expect("the caret line");
        assert!(shown.chars().count() < 200, "{shown}");
        assert!(
            shown.starts_with("1 | …") && shown.ends_with('…'),
            "{shown}"
        );
        // The caret stands under the X, counted in characters.
        let x = shown.chars().position(|c| c == 'X').expect("X shown");
        assert_eq!(caret.chars().count() - 1, x, "{shown}\n{caret}");
        let _ = std::fs::remove_dir_all(dir);
    }
}
