//! Regression snapshots: a step's normalised, redacted response, stored
//! under `snapshots/<api>/` and compared on every later run.
//!
//! The files are insta's, so the review tools people know work on them: a
//! new or changed snapshot is written beside the old one as `.snap.new`,
//! for `cargo insta review` or `understudy run --accept`. A changed
//! snapshot always fails the step; a new one fails only under CI (`CI`
//! set), where nobody is there to review it.

pub mod file;
pub mod normalize;
pub mod pending;

use std::path::{Path, PathBuf};

pub use normalize::{Redactions, render};

/// Where snapshots live and what to do with new ones.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The folder that holds one folder per API (`snapshots/`).
    pub dir: PathBuf,
    /// Write new and changed snapshots in place instead of as `.snap.new`.
    pub accept: bool,
    /// Write new snapshots in place (changed ones are still proposed).
    pub accept_new: bool,
    /// Running in CI: a new snapshot is a failure, not a proposal.
    pub ci: bool,
    /// Compare only, never write (mutants run the suite hundreds of times
    /// against broken mocks; their proposals are noise).
    pub read_only: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("snapshots"),
            accept: false,
            accept_new: false,
            ci: false,
            read_only: false,
        }
    }
}

impl Settings {
    /// Applies `INSTA_UPDATE`, read as insta reads it, so one switch works
    /// for both: `always` writes every snapshot in place (as `--accept`),
    /// `unseen` only new ones, `new` proposes `.snap.new` files (the
    /// default), `no` writes nothing; `auto` or unset keeps the default.
    pub fn with_update(mut self, value: Option<&str>) -> Result<Self, String> {
        match value.map(str::trim) {
            None | Some("" | "auto" | "new") => {}
            Some("always") => self.accept = true,
            Some("unseen") => self.accept_new = true,
            Some("no") => self.read_only = true,
            Some(other) => {
                return Err(format!(
                    "`INSTA_UPDATE={other}`: write always, unseen, new, no or auto"
                ));
            }
        }
        Ok(self)
    }
}

/// Whether the `CI` environment variable says this is a CI run.
pub fn ci_from(value: Option<&str>) -> bool {
    value.is_some_and(|v| !matches!(v.trim(), "" | "0" | "false" | "FALSE" | "False"))
}

/// What comparing a response with its snapshot found.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    Matched,
    /// No snapshot yet; the proposal was written to `pending`.
    New {
        pending: PathBuf,
    },
    /// Differs from the stored snapshot; the proposal was written to
    /// `pending`. `stored` is the stored text, for a diff.
    Changed {
        path: PathBuf,
        pending: PathBuf,
        stored: String,
    },
    /// New or changed, and written in place because of `--accept`.
    Accepted {
        path: PathBuf,
    },
    /// The snapshot could not be read or written.
    Broken(String),
}

/// The identity of one snapshot.
#[derive(Debug, Clone)]
pub struct Key<'a> {
    pub api: &'a str,
    /// The scenario file, shown as insta's `source`.
    pub file: &'a Path,
    pub scenario: &'a str,
    /// The step's snapshot name, or its number in the scenario.
    pub step: &'a str,
    /// The request, shown as insta's `expression`.
    pub request: &'a str,
}

impl Key<'_> {
    /// `snapshots/<api>/<file>__<scenario>__<step>.snap`, the flat
    /// `module__name` shape insta uses.
    pub fn path(&self, settings: &Settings) -> PathBuf {
        let stem = self
            .file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .unwrap_or_default();
        settings.dir.join(slug(self.api)).join(format!(
            "{}__{}__{}.snap",
            slug(&stem),
            slug(self.scenario),
            slug(self.step)
        ))
    }
}

/// Compares `contents` with the stored snapshot and stores what needs
/// storing.
pub fn check(settings: &Settings, key: &Key<'_>, contents: &str) -> Verdict {
    let path = key.path(settings);
    let pending = pending_path(&path);
    let contents = file::normalize(contents);
    let source = key.file.display().to_string();
    let stored = match file::read_contents(&path) {
        Ok(stored) => stored,
        Err(e) => return Verdict::Broken(e.to_string()),
    };
    if stored.as_deref() == Some(contents.as_str()) {
        // A proposal from an earlier run is out of date now.
        let _ = std::fs::remove_file(&pending);
        return Verdict::Matched;
    }
    if settings.read_only {
        return match stored {
            None => Verdict::New { pending },
            Some(stored) => Verdict::Changed {
                path,
                pending,
                stored,
            },
        };
    }
    let in_place = settings.accept || (settings.accept_new && stored.is_none());
    let (target, verdict) = match (in_place, stored) {
        (true, _) => (&path, Verdict::Accepted { path: path.clone() }),
        (false, None) => (
            &pending,
            Verdict::New {
                pending: pending.clone(),
            },
        ),
        (false, Some(stored)) => (
            &pending,
            Verdict::Changed {
                path: path.clone(),
                pending: pending.clone(),
                stored,
            },
        ),
    };
    if let Err(e) = file::write(target, &source, key.request, &contents) {
        return Verdict::Broken(format!("cannot write {}: {e}", target.display()));
    }
    if in_place {
        let _ = std::fs::remove_file(&pending);
    }
    verdict
}

fn pending_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".new");
    PathBuf::from(name)
}

/// A file-name-safe form: lower case letters, digits and single dashes.
fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') && !out.is_empty() {
            out.push('-');
        }
    }
    let trimmed = out.trim_end_matches('-');
    let mut cut = trimmed.len().min(80);
    while !trimmed.is_char_boundary(cut) {
        cut -= 1;
    }
    match &trimmed[..cut] {
        "" => "unnamed".to_string(),
        s => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(name: &str, accept: bool) -> Settings {
        let dir = std::env::temp_dir().join(format!(
            "understudy-snapshots-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        Settings {
            dir,
            accept,
            accept_new: false,
            ci: false,
            read_only: false,
        }
    }

    fn key() -> Key<'static> {
        Key {
            api: "mittwald",
            file: Path::new("scenarios/mittwald/projects.yaml"),
            scenario: "Creates a project, then reads it",
            step: "2",
            request: "GET /v2/projects/${id}",
        }
    }

    #[test]
    fn names_are_flat_and_safe() {
        let path = key().path(&settings("names", false));
        assert!(
            path.ends_with("mittwald/projects__creates-a-project-then-reads-it__2.snap"),
            "{}",
            path.display()
        );
        assert_eq!(slug("../../etc"), "etc");
        assert_eq!(slug("¿?"), "unnamed");
    }

    #[test]
    fn unseen_writes_new_snapshots_in_place_and_proposes_changes() {
        let settings = settings("unseen", false)
            .with_update(Some("unseen"))
            .expect("a known value");
        let key = key();
        let path = key.path(&settings);
        assert_eq!(
            check(&settings, &key, "status: 200\n"),
            Verdict::Accepted { path: path.clone() }
        );
        assert!(matches!(
            check(&settings, &key, "status: 201\n"),
            Verdict::Changed { .. }
        ));
        assert!(pending_path(&path).exists());
        assert!(settings.clone().with_update(Some("auto")).is_ok());
        assert!(settings.with_update(Some("yes")).is_err());
    }

    #[test]
    fn new_then_matched_then_changed_then_accepted() {
        let settings = settings("lifecycle", false);
        let key = key();
        let path = key.path(&settings);
        let pending = pending_path(&path);

        assert_eq!(
            check(&settings, &key, "status: 200\n"),
            Verdict::New {
                pending: pending.clone()
            }
        );
        assert!(pending.exists() && !path.exists());

        // What `cargo insta accept` does: the proposal becomes the snapshot.
        std::fs::rename(&pending, &path).expect("accepted by hand");
        assert_eq!(
            check(&settings, &key, "status: 200\r\n\n"),
            Verdict::Matched
        );

        match check(&settings, &key, "status: 201\n") {
            Verdict::Changed { stored, .. } => assert_eq!(stored, "status: 200\n"),
            other => panic!("expected a change, got {other:?}"),
        }
        assert_eq!(
            file::read_contents(&pending).expect("pending").as_deref(),
            Some("status: 201\n")
        );
        // The stored snapshot is untouched until accepted.
        assert_eq!(
            file::read_contents(&path).expect("stored").as_deref(),
            Some("status: 200\n")
        );

        let accepting = Settings {
            accept: true,
            ..settings.clone()
        };
        assert_eq!(
            check(&accepting, &key, "status: 201\n"),
            Verdict::Accepted { path: path.clone() }
        );
        assert!(!pending.exists(), "the proposal is gone once accepted");
        assert_eq!(check(&settings, &key, "status: 201\n"), Verdict::Matched);
        let _ = std::fs::remove_dir_all(&settings.dir);
    }

    #[test]
    fn read_only_compares_and_never_writes() {
        let mut settings = settings("read-only", false);
        let key = key();
        assert!(matches!(
            check(&settings, &key, "first"),
            Verdict::New { .. }
        ));
        settings.read_only = true;
        // Still no stored snapshot, and the proposal is not overwritten.
        assert!(matches!(
            check(&settings, &key, "second"),
            Verdict::New { .. }
        ));
        let pending = pending_path(&key.path(&settings));
        let proposal = std::fs::read_to_string(&pending).expect("the first proposal");
        assert!(proposal.contains("first") && !proposal.contains("second"));
        let _ = std::fs::remove_dir_all(&settings.dir);
    }

    #[test]
    fn ci_is_read_like_ci_systems_set_it() {
        assert!(ci_from(Some("true")) && ci_from(Some("1")));
        assert!(!ci_from(None) && !ci_from(Some("")) && !ci_from(Some("false")));
    }
}
