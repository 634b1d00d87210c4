//! `understudy record`: arguments into [`RecordOptions`], then the proxy
//! until Ctrl-C.

use super::args::RecordArgs;
use super::common::{EXIT_UNUSABLE, relative_to};
use crate::record::{RecordOptions, Recorder, RunningRecorder};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

pub fn record_command(args: RecordArgs) -> i32 {
    let options = match options(args.clone()) {
        Ok(options) => options,
        Err(message) => {
            eprint!("{message}");
            return EXIT_UNUSABLE;
        }
    };
    let Some(runtime) = super::common::runtime() else {
        return EXIT_UNUSABLE;
    };
    runtime.block_on(async {
        let out = options.out.clone();
        let upstream = options.upstream.clone();
        let running = match RunningRecorder::start(Recorder::new(options), &args.host, args.port).await {
            Ok(running) => running,
            Err(e) => {
                eprintln!("error: cannot listen on {}:{}: {e}", args.host, args.port);
                return EXIT_UNUSABLE;
            }
        };
        println!(
            "understudy recording: {} → {upstream}\nwriting {} after every exchange\nready; Ctrl-C to stop",
            running.url(),
            out.display()
        );
        let _ = tokio::signal::ctrl_c().await;
        println!(
            "recorded {} exchanges to {}",
            running.recorder.recorded(),
            out.display()
        );
        0
    })
}

fn options(args: RecordArgs) -> Result<RecordOptions, String> {
    let upstream = args.upstream.trim_end_matches('/').to_string();
    if !(upstream.starts_with("http://") || upstream.starts_with("https://")) {
        return Err(format!(
            "error: `--upstream {upstream}`: write the service's URL, e.g. https://api.example.com\n"
        ));
    }
    let mut mock_vars = serde_json::Map::new();
    for var in &args.mock_vars {
        let (name, value) = super::common::parse_var(var)?;
        mock_vars.insert(name, value);
    }
    let out = args.out.join(format!("{}.yaml", args.name));
    if out.exists() {
        return Err(format!(
            "error: {} exists; pick another --name, or move it away first (a recording never overwrites one)\n",
            out.display()
        ));
    }
    let (api, fixture, label, api_line) = match (&args.api, &args.spec) {
        (Some(_), None) if !args.overlays.is_empty() => {
            return Err(
                "error: `--overlay` applies to `--spec`; a bundled API's spec is fixed\n".into(),
            );
        }
        (Some(name), None) => {
            let bundled = crate::behaviour::bundled::find(name).ok_or_else(|| {
                format!(
                    "error: `--api {name}`: the bundled APIs are mittwald, waldur and datallog\n"
                )
            })?;
            let (api, fixture) = bundled.load().map_err(|e| format!("error: {e}\n"))?;
            (api, fixture, name.clone(), format!("api: {name}"))
        }
        (None, Some(spec)) => {
            let (_, api, fixture) = crate::mock::reload::Sources::open(
                Some(spec.clone()),
                args.fixture.clone(),
                &args.overlays,
                false,
            )
            .map_err(|e| super::common::render_error(&e, e.location().as_ref()))?;
            let label = spec
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "api".into());
            let quoted = |path: &Path| {
                serde_json::Value::String(relative_to(path, &args.out).display().to_string())
            };
            let mut line = format!("spec: {}", quoted(spec));
            // The replay checks against the spec as corrected here.
            if !args.overlays.is_empty() {
                let listed: Vec<String> = args
                    .overlays
                    .iter()
                    .map(|o| quoted(o).to_string())
                    .collect();
                line.push_str(&format!("\noverlays: [{}]", listed.join(", ")));
            }
            (api, fixture, label, line)
        }
        _ => return Err("error: give --spec FILE or --api NAME (one of them)\n".into()),
    };
    Ok(RecordOptions {
        upstream,
        api: Arc::new(api),
        label,
        api_line,
        out,
        scenario: args.name.clone(),
        snapshots: args.snapshots,
        volatile: fixture.model.volatile_fields(),
        timeout: record_timeout(&args.timeout)?,
        body_limit: 16 * 1024 * 1024,
        max_body: args.max_body,
        write_credentials: args.write_credentials,
        mock_vars,
    })
}

/// `--timeout`: a duration (`5s`, `500ms`), or a bare number of seconds as
/// the flag took before it took durations; at least 1ms.
fn record_timeout(text: &str) -> Result<Duration, String> {
    let timeout = match text.parse::<u64>() {
        Ok(seconds) => Duration::from_secs(seconds),
        Err(_) => super::common::duration_flag("timeout", text)?,
    };
    if timeout.is_zero() {
        return Err(format!("error: `--timeout {text}`: at least 1ms\n"));
    }
    Ok(timeout)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_timeout_is_a_duration_as_run_takes_it() {
        assert_eq!(record_timeout("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(record_timeout("250ms"), Ok(Duration::from_millis(250)));
        assert_eq!(record_timeout("30"), Ok(Duration::from_secs(30)));
        assert!(record_timeout("0s").is_err());
        assert!(record_timeout("soon").is_err_and(|e| e.contains("--timeout soon")));
    }
}
