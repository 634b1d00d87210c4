//! The JSON report: the [`Report`] model as it is, for tools and dashboards.

use super::Report;

pub fn render(report: &Report) -> String {
    // A report is plain data (strings, numbers, JSON values): it always serialises.
    serde_json::to_string_pretty(report).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// Reads a report written by [`render`].
pub fn parse(text: &str) -> Result<Report, serde_json::Error> {
    serde_json::from_str(text)
}
