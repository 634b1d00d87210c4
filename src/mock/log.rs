//! The one-line request log.

use super::reply::Reply;
use std::io::{IsTerminal, Write};
use std::time::Duration;

/// Writes `label METHOD path → status time` and the violations, colored on a terminal.
pub fn request(label: &str, method: &str, path: &str, reply: &Reply, elapsed: Duration) {
    let color = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let paint = |code: &str, text: &str| {
        if color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    };
    let status_color = match reply.status {
        200..=299 => "32",
        300..=399 => "36",
        400..=499 => "33",
        _ => "31",
    };
    let mut line = format!(
        "{} {} {} {} → {} {}",
        paint("2", &clock()),
        paint("2", label),
        paint("1", method),
        path,
        paint(status_color, &reply.status.to_string()),
        paint("2", &format!("{:.1}ms", elapsed.as_secs_f64() * 1000.0)),
    );
    for v in &reply.violations {
        line.push_str(&format!("\n    {} {}", paint("33", "✗"), v.reason()));
    }
    if let Some(note) = &reply.note {
        line.push_str(&format!("\n    {} {}", paint("36", "note:"), note));
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{line}");
}

/// Writes `label what happened`: something the mock did on its own.
pub fn event(label: &str, line: &str) {
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{} {label} {line}", clock());
}

/// The time of day (UTC) to the millisecond, which starts every log line.
fn clock() -> String {
    let ms = crate::behaviour::clock::real_now_ms().rem_euclid(86_400_000);
    format!(
        "{:02}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}
