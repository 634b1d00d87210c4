//! The README's commands are the ones a new user types: every `understudy`
//! command in it parses with the CLI's own grammar (a renamed flag fails
//! here before it fails a reader), and those that run offline and end by
//! themselves are run.

use clap::Parser;
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
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_understudy"))
            .args(&args[1..])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_remove("INSTA_UPDATE")
            .env("NO_COLOR", "1")
            .output()
            .expect("the binary runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert_eq!(
            output.status.code(),
            Some(0),
            "README.md:{line}: `{command}`:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
}
