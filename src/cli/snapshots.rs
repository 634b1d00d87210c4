//! `understudy snapshots`: the proposals a run left (`.snap.new`), listed,
//! reviewed one by one, accepted or rejected.

use super::args::{SnapshotAction, SnapshotSelection, SnapshotsArgs};
use super::common::EXIT_UNUSABLE;
use crate::snapshot::pending::{self, Pending};
use std::io::{BufRead, IsTerminal, Write};

pub fn snapshots_command(args: SnapshotsArgs) -> i32 {
    let selection = match &args.action {
        SnapshotAction::List(s)
        | SnapshotAction::Review(s)
        | SnapshotAction::Accept(s)
        | SnapshotAction::Reject(s) => s,
    };
    let found = match find(selection) {
        Ok(found) => found,
        Err(code) => return code,
    };
    if found.is_empty() {
        println!(
            "no proposed snapshots under {}{}",
            selection.snapshots.display(),
            selection
                .filter
                .as_ref()
                .map(|f| format!(" matching `{f}`"))
                .unwrap_or_default()
        );
        return 0;
    }
    match &args.action {
        SnapshotAction::List(_) => {
            for p in &found {
                println!("{:<8} {}", p.kind(), p.snapshot.display());
            }
            println!("{} proposed", found.len());
            0
        }
        SnapshotAction::Accept(_) => settle(&found, Pending::accept, "accepted"),
        SnapshotAction::Reject(_) => settle(&found, Pending::reject, "rejected"),
        SnapshotAction::Review(_) => review(&found),
    }
}

fn find(selection: &SnapshotSelection) -> Result<Vec<Pending>, i32> {
    pending::find(&selection.snapshots, selection.filter.as_deref()).map_err(|e| {
        eprintln!("error: {e}");
        EXIT_UNUSABLE
    })
}

/// Applies `action` to every proposal; exit 2 if any could not be.
fn settle(found: &[Pending], action: fn(&Pending) -> std::io::Result<()>, done: &str) -> i32 {
    let mut code = 0;
    for p in found {
        match action(p) {
            Ok(()) => println!("{done} {}", p.snapshot.display()),
            Err(e) => {
                eprintln!("error: {}: {e}", p.proposal.display());
                code = EXIT_UNUSABLE;
            }
        }
    }
    code
}

/// Each proposal's diff, then a choice read from standard input (a line
/// per proposal, so a script can answer too); the end of input skips
/// the rest.
fn review(found: &[Pending]) -> i32 {
    let color = std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let paint = |code: &str, line: &str| {
        if color {
            format!("\x1b[{code}m{line}\x1b[0m")
        } else {
            line.to_string()
        }
    };
    let mut lines = std::io::stdin().lock().lines();
    let (mut accepted, mut rejected, mut skipped) = (0, 0, 0);
    let mut code = 0;
    for (index, p) in found.iter().enumerate() {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(
            out,
            "\n[{}/{}] {} {}",
            index + 1,
            found.len(),
            p.kind(),
            p.snapshot.display()
        );
        for line in p.diff().lines() {
            let shown = crate::report::visible(line);
            let _ = match line.as_bytes().first() {
                Some(b'+') if !line.starts_with("+++") => writeln!(out, "{}", paint("32", &shown)),
                Some(b'-') if !line.starts_with("---") => writeln!(out, "{}", paint("31", &shown)),
                _ => writeln!(out, "{shown}"),
            };
        }
        let _ = write!(out, "a accept, r reject, s skip, q quit > ");
        let _ = out.flush();
        drop(out);
        let answer = loop {
            match lines.next() {
                None => break "q".to_string(),
                Some(Ok(line)) => {
                    let line = line.trim().to_ascii_lowercase();
                    if matches!(line.as_str(), "a" | "r" | "s" | "q") {
                        break line;
                    }
                    print!("a, r, s or q > ");
                    let _ = std::io::stdout().flush();
                }
                Some(Err(_)) => break "q".to_string(),
            }
        };
        let result = match answer.as_str() {
            "a" => p.accept().map(|()| accepted += 1),
            "r" => p.reject().map(|()| rejected += 1),
            "s" => {
                skipped += 1;
                Ok(())
            }
            _ => {
                skipped += found.len() - index;
                break;
            }
        };
        if let Err(e) = result {
            eprintln!("error: {}: {e}", p.proposal.display());
            code = EXIT_UNUSABLE;
        }
    }
    println!("\naccepted {accepted}, rejected {rejected}, skipped {skipped}");
    code
}
