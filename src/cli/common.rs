//! What every subcommand shares: the exit code for unusable input, the
//! async runtime, and the readers of `--var` and duration flags.

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
    crate::behaviour::parse_model::parse_duration(&serde_json::Value::String(text.into()))
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
