//! The README's commands are the ones a new user types: every `understudy`
//! command in it parses with the CLI's own grammar (a renamed flag fails
//! here before it fails a reader), and those that run offline and end by
//! themselves are run.

mod common;

use clap::Parser;
use std::ffi::OsStr;
use understudy::cli::Cli;

/// Every `understudy …` command in the README: the lines of its `sh`
/// blocks (continuations joined, comments and a trailing `&` dropped) and
/// its inline code, as argument lists.
fn readme_commands() -> Vec<(usize, Vec<String>)> {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"))
        .expect("the README");
    let mut commands = Vec::new();
    let mut in_sh = false;
    let mut pending = String::new();
    let mut pending_line = 0;
    for (index, line) in readme.lines().enumerate() {
        let number = index + 1;
        if line.starts_with("```") {
            in_sh = line.trim() == "```sh";
            continue;
        }
        if in_sh {
            if pending.is_empty() {
                pending_line = number;
            }
            let code = strip_comment(line);
            match code.strip_suffix('\\') {
                Some(head) => {
                    pending.push_str(head);
                    pending.push(' ');
                    continue;
                }
                None => pending.push_str(&code),
            }
            let text = std::mem::take(&mut pending);
            let text = text.trim().trim_end_matches('&').trim();
            let text = text
                .strip_prefix("cargo run --release -- ")
                .map(|rest| format!("understudy {rest}"))
                .unwrap_or_else(|| text.to_string());
            if text.starts_with("understudy ") {
                commands.push((pending_line, words(&text)));
            }
        } else {
            // Inline code that is a whole command, not a mention of one
            // (`understudy run --spec`) or a pattern (`--target URL`).
            for (i, span) in line.split('`').enumerate() {
                let args = words(span);
                let whole = args.len() >= 3
                    && !args.last().is_some_and(|a| a.starts_with("--"))
                    && !args
                        .iter()
                        .any(|a| a.contains("NAME") || a == "URL" || a.contains('…'));
                if i % 2 == 1 && span.starts_with("understudy ") && whole {
                    commands.push((number, args));
                }
            }
        }
    }
    commands
}

/// The binary with `args`, from the crate's folder as the README's
/// commands are typed, with no snapshot switch from the environment.
fn understudy(args: &[String]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_understudy"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("INSTA_UPDATE")
        .env("NO_COLOR", "1")
        .output()
        .expect("the binary runs")
}

/// `line` without a `#` comment (one after a space, outside quotes).
fn strip_comment(line: &str) -> String {
    let mut quote = None;
    let mut previous = ' ';
    for (at, c) in line.char_indices() {
        match (quote, c) {
            (None, '\'' | '"') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '#') if previous.is_whitespace() => return line[..at].trim_end().to_string(),
            _ => {}
        }
        previous = c;
    }
    line.to_string()
}

/// Shell words, with single and double quotes.
fn words(text: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quote = None;
    let mut started = false;
    for c in text.chars() {
        match (quote, c) {
            (None, '\'' | '"') => {
                quote = Some(c);
                started = true;
            }
            (Some(q), c) if c == q => quote = None,
            (None, c) if c.is_whitespace() => {
                if started {
                    words.push(std::mem::take(&mut word));
                    started = false;
                }
            }
            (_, c) => {
                word.push(c);
                started = true;
            }
        }
    }
    if started {
        words.push(word);
    }
    words
}

#[test]
fn every_command_in_the_readme_parses() {
    let commands = readme_commands();
    assert!(
        commands.len() >= 20,
        "the README's commands were not found: {commands:?}"
    );
    let mut wrong = Vec::new();
    for (line, args) in &commands {
        let parsed = Cli::try_parse_from(args)
            .map(|_| ())
            .or_else(|e| match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    Ok(())
                }
                _ => Err(e),
            });
        if let Err(e) = parsed {
            wrong.push(format!(
                "README.md:{line}: `{}`: {}",
                args.join(" "),
                e.to_string().lines().next().unwrap_or_default()
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    // Every subcommand is shown at least once.
    for subcommand in [
        "serve",
        "run",
        "diff",
        "record",
        "mutate",
        "extract",
        "snapshots",
    ] {
        assert!(
            commands
                .iter()
                .any(|(_, a)| a.get(1).map(String::as_str) == Some(subcommand)),
            "no README example of `understudy {subcommand}`"
        );
    }
}

#[test]
fn the_readme_commands_that_run_offline_do_what_it_says() {
    let wanted = ["understudy run scenarios/", "understudy snapshots list"];
    let commands = readme_commands();
    for command in wanted {
        let (line, args) = commands
            .iter()
            .find(|(_, a)| a.join(" ") == command)
            .unwrap_or_else(|| panic!("the README no longer shows `{command}`"));
        let output = understudy(&args[1..]);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(0),
            "README.md:{line}: `{command}`:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

/// The README's command `command`, with each `(from, to)` replaced in its
/// arguments (a port the test's own server listens on).
fn readme_command(command: &str, replace: &[(&str, &str)]) -> (usize, Vec<String>) {
    let (line, args) = readme_commands()
        .into_iter()
        .find(|(_, a)| a.join(" ") == command)
        .unwrap_or_else(|| panic!("the README no longer shows `{command}`"));
    let args = args
        .into_iter()
        .skip(1)
        .map(|a| replace.iter().fold(a, |a, (from, to)| a.replace(from, to)))
        .collect();
    (line, args)
}

/// The bundled `api` served by the binary on a free port.
fn serve_bundled(api: &str) -> (std::process::Child, std::net::SocketAddr) {
    let spec = match api {
        "datallog" => "specs/datallog.yaml".to_string(),
        other => format!("specs/{other}.json"),
    };
    let fixture = format!("fixtures/{api}.yaml");
    let args = [
        "serve",
        "--spec",
        &spec,
        "--fixture",
        &fixture,
        "--port",
        "0",
        "--no-reload",
        "--quiet",
    ];
    common::spawn_binary(&args.iter().map(OsStr::new).collect::<Vec<_>>())
}

#[test]
fn the_readme_commands_against_local_servers_do_what_it_says() {
    let (mut datallog, at) = serve_bundled("datallog");
    let (line, args) = readme_command(
        "understudy run --target http://127.0.0.1:8080 scenarios/datallog",
        &[("127.0.0.1:8080", &at.to_string())],
    );
    let run = understudy(&args);
    let _ = datallog.kill();
    let _ = datallog.wait();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(0), "README.md:{line}: {stdout}");
    assert!(stdout.contains("10 scenarios: 10 passed"), "{stdout}");

    // The mock against another instance of itself: no drift.
    let (mut left, l) = serve_bundled("mittwald");
    let (mut right, r) = serve_bundled("mittwald");
    let (line, args) = readme_command(
        "understudy diff --target http://127.0.0.1:4010 --against http://127.0.0.1:5010 scenarios/mittwald",
        &[
            ("127.0.0.1:4010", &l.to_string()),
            ("127.0.0.1:5010", &r.to_string()),
        ],
    );
    let diff = understudy(&args);
    for server in [&mut left, &mut right] {
        let _ = server.kill();
        let _ = server.wait();
    }
    let stdout = String::from_utf8_lossy(&diff.stdout);
    assert_eq!(diff.status.code(), Some(0), "README.md:{line}: {stdout}");
    assert!(stdout.contains("no drift"), "{stdout}");

    // Recording through the proxy into a scratch folder, from a local
    // upstream, on a free port.
    let (mut upstream, up) = serve_bundled("mittwald");
    let scratch =
        std::env::temp_dir().join(format!("understudy-readme-rec-{}", std::process::id()));
    let port = common::browser::free_port().to_string();
    let (line, mut args) = readme_command(
        "understudy record --upstream http://127.0.0.1:8000 --spec openapi.yaml --port 4020",
        &[
            ("http://127.0.0.1:8000", &format!("http://{up}")),
            ("openapi.yaml", "specs/mittwald.json"),
            ("4020", &port),
        ],
    );
    let out = scratch.join("recorded");
    let snapshots = scratch.join("snapshots");
    args.extend([
        "--out".into(),
        out.display().to_string(),
        "--snapshots".into(),
        snapshots.display().to_string(),
    ]);
    let (mut proxy, at) = common::spawn_binary(&args.iter().map(OsStr::new).collect::<Vec<_>>());
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let answer = runtime.block_on(common::send(
        at,
        "GET",
        "/v2/servers",
        &[("x-access-token", "mock-token")],
        b"",
    ));
    for server in [&mut proxy, &mut upstream] {
        let _ = server.kill();
        let _ = server.wait();
    }
    assert_eq!(answer.status, 200, "README.md:{line}");
    let recorded = std::fs::read_to_string(out.join("recording.yaml")).unwrap_or_default();
    let _ = std::fs::remove_dir_all(&scratch);
    assert!(
        recorded.contains(r#""path":"/v2/servers""#),
        "README.md:{line}: {recorded}"
    );

    // Chaos: named in the banner; the port moved off the default.
    let (line, mut args) = readme_command(
        "understudy serve --fault 500=10% --fault reset=2% --latency 100ms..800ms",
        &[],
    );
    args.extend([
        "--port".into(),
        "0".into(),
        "--spec".into(),
        "specs/datallog.yaml".into(),
    ]);
    let (mut chaos, _, banner) =
        common::spawn_binary_with_banner(&args.iter().map(OsStr::new).collect::<Vec<_>>());
    let _ = chaos.kill();
    let _ = chaos.wait();
    assert!(
        banner.iter().any(|l| l.starts_with(
            "chaos: status 500 for 10% of requests, no answer (connection closed) for 2%, 100ms to 800ms of latency"
        )),
        "README.md:{line}: {banner:#?}"
    );
}
