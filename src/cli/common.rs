//! What every subcommand shares: the exit code for unusable input, the
//! async runtime, the readers of `--var` and duration flags, and the
//! rendering of library errors.

use crate::mock::reload::ReloadEvent;
use crate::mock::server::Reloaded;
use crate::source::SourceLocation;
use std::time::Duration;

/// Exit code for unusable input (spec, fixture, arguments, ports).
pub const EXIT_UNUSABLE: i32 = 2;

/// The async runtime every subcommand runs on; `None` (after saying why)
/// when the system refuses threads.
pub fn runtime() -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => Some(rt),
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            None
        }
    }
}

/// The value of a duration flag (`--timeout 10s`); the error names the flag.
pub fn duration_flag(flag: &str, text: &str) -> Result<Duration, String> {
    crate::source::parse_duration(&serde_json::Value::String(text.into()))
        .map(Duration::from_millis)
        .ok_or_else(|| format!("error: `--{flag} {text}`: write a duration like 10s or 500ms\n"))
}

/// `NAME=VALUE`, the value read as JSON when it is JSON, else as text.
pub fn parse_var(var: &str) -> Result<(String, serde_json::Value), String> {
    let Some((name, text)) = var.split_once('=') else {
        return Err(format!(
            "error: `--var {var}` needs the form NAME=VALUE, e.g. --var plan_limit=10\n"
        ));
    };
    let value =
        serde_json::from_str(text).unwrap_or_else(|_| serde_json::Value::String(text.to_string()));
    Ok((name.to_string(), value))
}

/// An error as a person reads it: with the offending line when the error
/// knows its file and line, else on one line. The one place library errors
/// become text.
pub fn render_error(error: &dyn std::fmt::Display, at: Option<&SourceLocation>) -> String {
    match at {
        Some(at) => crate::source::diagnostic::render(&error.to_string(), at),
        None => format!("error: {error}\n"),
    }
}

/// The log line for a hot reload.
pub fn describe_reload(label: &str, event: &ReloadEvent) -> String {
    match event {
        ReloadEvent::Applied(Reloaded::StateKept) => {
            format!("{label}: reloaded the spec and fixture; state kept")
        }
        ReloadEvent::Applied(Reloaded::StateReset) => format!(
            "{label}: reloaded; the collections changed, so every session restarts from the seed data"
        ),
        ReloadEvent::Refused(error) => format!(
            "{label}: the edit does not load, still serving the last good version:\n{}",
            render_error(error, error.location().as_ref())
        ),
    }
}

/// A run that could not start, as a person reads it.
pub fn render_run_error(error: &crate::runner::RunError) -> String {
    render_error(error, error.location().as_ref())
}
