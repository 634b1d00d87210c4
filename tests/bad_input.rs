//! The bad-input corpus: every broken spec, fixture and scenario under
//! `tests/bad-input/` makes the binary exit 2 with a diagnostic that names
//! the file, the line (where the problem has one) and what is wrong, and
//! never a panic. Each diagnostic is an insta snapshot, so a change of
//! wording is reviewed like any other. A new case is a new file: the
//! globs pick it up.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Problems of a whole file, which have no line to point at.
const WHOLE_FILE: [&str; 3] = ["empty", "not-utf8", "no-api"];

/// Runs the binary on one case; `None` if it is still running after the
/// deadline, i.e. it accepted the input and started serving.
fn understudy(args: &[&str]) -> Option<(i32, String)> {
    let mut child = Command::new(env!("CARGO_BIN_EXE_understudy"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            let output = child.wait_with_output().expect("stderr");
            let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
            return Some((status.code().unwrap_or(-1), stderr));
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The path of a case as the binary is given it and prints it.
fn relative(path: &Path) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    path.strip_prefix(root)
        .expect("a case inside the crate")
        .to_string_lossy()
        .into_owned()
}

fn check(path: &Path, args: &[&str]) -> String {
    let file = relative(path);
    let mut all: Vec<&str> = args.to_vec();
    all.push(&file);
    let Some((code, stderr)) = understudy(&all) else {
        panic!(
            "{file} was accepted: `understudy {}` kept running",
            all.join(" ")
        );
    };
    assert_eq!(code, 2, "{file}: exit code {code}\n{stderr}");
    assert!(!stderr.contains("panicked"), "{file} panicked:\n{stderr}");
    assert!(stderr.starts_with("error: "), "{file}:\n{stderr}");
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("");
    let names_file = stderr.contains(&format!("--> {file}"));
    let names_line = stderr
        .split(&format!("--> {file}:"))
        .nth(1)
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
    if WHOLE_FILE.contains(&stem) {
        assert!(
            names_file,
            "{file}: the diagnostic does not name the file\n{stderr}"
        );
    } else {
        assert!(
            names_line,
            "{file}: the diagnostic does not name file and line\n{stderr}"
        );
    }
    stderr
}

/// `serve` with `flag` (`--spec` or `--fixture`) before the case's path:
/// strict, so warnings count, and on an ephemeral port in case it starts.
fn serve(flag: &str) -> [&str; 7] {
    [
        "serve",
        "--quiet",
        "--strict",
        "--no-reload",
        "--port",
        "0",
        flag,
    ]
}

#[test]
fn broken_specs() {
    insta::glob!("bad-input/specs/*", |path| {
        let stderr = check(path, &serve("--spec"));
        insta::assert_snapshot!(stderr);
    });
}

#[test]
fn broken_fixtures() {
    insta::glob!("bad-input/fixtures/*", |path| {
        let stderr = check(path, &serve("--fixture"));
        insta::assert_snapshot!(stderr);
    });
}

#[test]
fn broken_scenarios() {
    insta::glob!("bad-input/scenarios/*", |path| {
        let stderr = check(path, &["run", "--color", "never"]);
        insta::assert_snapshot!(stderr);
    });
}

#[test]
fn the_corpus_has_at_least_fifty_cases() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/bad-input");
    let count: usize = ["specs", "fixtures", "scenarios"]
        .iter()
        .map(|dir| {
            std::fs::read_dir(root.join(dir))
                .map(|entries| entries.count())
                .unwrap_or(0)
        })
        .sum();
    assert!(count >= 50, "only {count} cases under tests/bad-input");
}

/// A FIFO given as a spec, fixture or scenario is refused at once: reading
/// it would wait for a writer for ever.
#[cfg(unix)]
#[test]
fn a_fifo_given_as_an_input_file_is_refused_without_hanging() {
    let dir = std::env::temp_dir().join(format!("understudy-fifo-input-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let fifo = dir.join("input.yaml");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success());
    let fifo = fifo.to_string_lossy().into_owned();
    for args in [
        vec![
            "serve",
            "--port",
            "0",
            "--no-reload",
            "--spec",
            fifo.as_str(),
        ],
        vec![
            "serve",
            "--port",
            "0",
            "--no-reload",
            "--fixture",
            fifo.as_str(),
        ],
        vec!["run", fifo.as_str()],
    ] {
        let Some((code, stderr)) = understudy(&args) else {
            panic!("`understudy {}` hung on a FIFO", args.join(" "));
        };
        assert_eq!(code, 2, "{stderr}");
        assert!(
            stderr.contains("not a regular file") && stderr.contains(&fifo),
            "{stderr}"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}
