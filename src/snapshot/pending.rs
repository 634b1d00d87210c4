//! Proposed snapshots (`.snap.new` beside the `.snap` they would replace),
//! found, accepted and rejected without `cargo insta`, which works only
//! inside a Rust package: an API project has snapshots and no `Cargo.toml`.
//! Accepting renames the proposal over the snapshot, atomically, the way
//! `cargo insta accept` leaves it.

use super::file;
use std::io;
use std::path::{Path, PathBuf};

/// One proposal and the snapshot it would replace.
#[derive(Debug, Clone, PartialEq)]
pub struct Pending {
    /// The `.snap.new` file.
    pub proposal: PathBuf,
    /// The `.snap` file it becomes when accepted.
    pub snapshot: PathBuf,
    /// The stored contents; `None` for a new snapshot.
    pub stored: Option<String>,
    pub proposed: String,
}

/// Folders deep a walk goes: snapshots live at `<dir>/<api>/`, so this is
/// room to spare, and a bound however the folder was made.
const MAX_DEPTH: usize = 16;

/// Every proposal under `dir` whose path contains `filter`, in path order.
/// Links are not followed, so a link back up cannot make the walk endless.
pub fn find(dir: &Path, filter: Option<&str>) -> io::Result<Vec<Pending>> {
    let mut proposals = Vec::new();
    walk(dir, 0, &mut proposals)?;
    proposals.sort();
    let mut found = Vec::new();
    for proposal in proposals {
        if filter.is_some_and(|f| !proposal.to_string_lossy().contains(f)) {
            continue;
        }
        let snapshot = proposal.with_extension("");
        let proposed = file::read_contents(&proposal)?.unwrap_or_default();
        let stored = file::read_contents(&snapshot)?;
        found.push(Pending {
            proposal,
            snapshot,
            stored,
            proposed,
        });
    }
    Ok(found)
}

fn walk(dir: &Path, depth: usize, found: &mut Vec<PathBuf>) -> io::Result<()> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound && depth == 0 => {
            return Err(io::Error::new(
                io::ErrorKind::NotFound,
                format!("no snapshot folder {}", dir.display()),
            ));
        }
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let kind = entry.file_type()?;
        let path = entry.path();
        if kind.is_dir() && depth < MAX_DEPTH {
            walk(&path, depth + 1, found)?;
        } else if kind.is_file() && path.to_string_lossy().ends_with(".snap.new") {
            found.push(path);
        }
    }
    Ok(())
}

impl Pending {
    /// Makes the proposal the snapshot.
    pub fn accept(&self) -> io::Result<()> {
        std::fs::rename(&self.proposal, &self.snapshot)
    }

    /// Throws the proposal away; the snapshot stays as it was.
    pub fn reject(&self) -> io::Result<()> {
        std::fs::remove_file(&self.proposal)
    }

    /// The stored contents against the proposed, as a unified diff (every
    /// line added, for a new snapshot).
    pub fn diff(&self) -> String {
        let stored = self.stored.as_deref().unwrap_or("");
        similar::TextDiff::from_lines(stored, &self.proposed)
            .unified_diff()
            .context_radius(3)
            .header(
                &self.snapshot.display().to_string(),
                &self.proposal.display().to_string(),
            )
            .to_string()
    }

    /// `new` or `changed`.
    pub fn kind(&self) -> &'static str {
        if self.stored.is_some() {
            "changed"
        } else {
            "new"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proposals_are_found_accepted_and_rejected() {
        let dir = std::env::temp_dir().join(format!("understudy-pending-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let api = dir.join("mittwald");
        file::write(
            &api.join("a__x__1.snap"),
            "a.yaml",
            "GET /a",
            "status: 200\n",
        )
        .expect("writes");
        file::write(
            &api.join("a__x__1.snap.new"),
            "a.yaml",
            "GET /a",
            "status: 201\n",
        )
        .expect("writes");
        file::write(
            &api.join("b__y__1.snap.new"),
            "b.yaml",
            "GET /b",
            "status: 204\n",
        )
        .expect("writes");
        #[cfg(unix)]
        std::os::unix::fs::symlink(&dir, api.join("loop")).expect("a link back up");

        let found = find(&dir, None).expect("found");
        assert_eq!(found.len(), 2, "{found:?}");
        assert_eq!(found[0].kind(), "changed");
        assert!(
            found[0].diff().contains("-status: 200\n+status: 201\n"),
            "{}",
            found[0].diff()
        );
        assert_eq!(found[1].kind(), "new");
        assert_eq!(find(&dir, Some("b__")).expect("found").len(), 1);

        found[0].accept().expect("accepted");
        assert_eq!(
            file::read_contents(&api.join("a__x__1.snap")).expect("reads"),
            Some("status: 201\n".to_string())
        );
        found[1].reject().expect("rejected");
        assert!(find(&dir, None).expect("found").is_empty());
        assert!(!api.join("b__y__1.snap").exists());
        let missing = find(&dir.join("nowhere"), None).expect_err("no folder");
        assert!(
            missing.to_string().contains("no snapshot folder"),
            "{missing}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
