//! What every subcommand shares: the exit code for unusable input, the
//! async runtime, the readers of `--var` and duration flags, and the
//! rendering of library errors.

use crate::mock::reload::ReloadEvent;
use crate::mock::server::Reloaded;
use crate::source::SourceLocation;
use std::path::{Component, Path, PathBuf};
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

/// `path` as seen from `folder` (the scenario's `spec:` is read from its
/// own folder); absolute when the two share nothing.
pub fn relative_to(path: &Path, folder: &Path) -> PathBuf {
    let absolute = |p: &Path| {
        let p = if p.is_absolute() {
            p.to_path_buf()
        } else {
            std::env::current_dir().unwrap_or_default().join(p)
        };
        p.components().fold(PathBuf::new(), |mut acc, c| {
            match c {
                Component::ParentDir => {
                    acc.pop();
                }
                Component::CurDir => {}
                other => acc.push(other),
            }
            acc
        })
    };
    let (path, folder) = (absolute(path), absolute(folder));
    let common = path
        .components()
        .zip(folder.components())
        .take_while(|(a, b)| a == b)
        .count();
    if common <= 1 {
        return path;
    }
    let mut relative = PathBuf::new();
    for _ in folder.components().skip(common) {
        relative.push("..");
    }
    for part in path.components().skip(common) {
        relative.push(part);
    }
    relative
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_paths_are_written_from_the_scenario_folder() {
        assert_eq!(
            relative_to(
                Path::new("/w/p/specs/api.yaml"),
                Path::new("/w/p/scenarios/recorded")
            ),
            PathBuf::from("../../specs/api.yaml")
        );
        assert_eq!(
            relative_to(Path::new("/w/p/a.yaml"), Path::new("/w/p")),
            PathBuf::from("a.yaml")
        );
        assert_eq!(
            relative_to(Path::new("/x/a.yaml"), Path::new("/y")),
            PathBuf::from("/x/a.yaml")
        );
        // A fixture written by `init` names its spec from its own folder.
        assert_eq!(
            relative_to(Path::new("/p/a.yaml"), Path::new("/p/x/./y/..")),
            PathBuf::from("../a.yaml")
        );
    }
}
