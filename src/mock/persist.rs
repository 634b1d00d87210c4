//! `serve --state-file`: the mock's sessions kept on disk across restarts.
//!
//! Requests never touch the disk. Each one that may change state bumps a
//! counter; one saver task writes the whole state at most once per
//! `flush` interval, and once more after the last request at shutdown.
//! Writes go through [`crate::source::atomic_file`] (temporary file, fsync,
//! rename), so a crash or `kill -9` at any moment leaves the previous file
//! or the next one, never a torn one. What a crash can lose is the last
//! interval's changes, which is the price of not writing on every request.
//!
//! The file holds every served API by its label. An API in the file that
//! is not served this time is carried over untouched, so serving one API
//! of several does not erase the others' state.

use super::server::MockService;
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The format marker, so a future layout can be told apart.
const FORMAT: u64 = 1;

/// A state file that cannot be used, and why.
#[derive(Debug, thiserror::Error)]
#[error("the state file {} cannot be used: {problem}", path.display())]
pub struct StateFileError {
    pub path: PathBuf,
    pub problem: StateProblem,
}

/// What is wrong with a state file.
#[derive(Debug, thiserror::Error)]
pub enum StateProblem {
    #[error("cannot read it: {0}")]
    Unreadable(std::io::Error),
    #[error("it is not valid JSON: {0}")]
    NotJson(serde_json::Error),
    #[error("it is not an understudy state file (`\"understudy_state\": {FORMAT}` is missing)")]
    NotStateFile,
    #[error("`{0}` must be a mapping")]
    NotMapping(String),
    #[error("it is {0}, not a regular file")]
    NotRegular(&'static str),
    #[error("its symbolic links go round in a loop")]
    SymlinkLoop,
    #[error("cannot make files in its folder {}: {error}", folder.display())]
    FolderNotWritable {
        folder: PathBuf,
        error: std::io::Error,
    },
    #[error("API `{api}`, {error}")]
    Session {
        api: String,
        error: crate::behaviour::store::DumpError,
    },
}

/// Why the state could not be written.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("cannot serialise the state: {0}")]
    Serialise(serde_json::Error),
    #[error("the writer stopped: {0}")]
    Writer(tokio::task::JoinError),
    #[error("cannot write {}: {error}", path.display())]
    Write {
        path: PathBuf,
        error: std::io::Error,
    },
}

/// A state file and the APIs whose state it holds.
pub struct StateFile {
    path: PathBuf,
    services: Vec<(String, Arc<MockService>)>,
    /// Restarts so far, mixed into random sources (see [`crate::behaviour::Store::restore`]).
    generation: u64,
    /// APIs in the file that are not served now, written back unchanged.
    carried: Map<String, Value>,
}

impl StateFile {
    /// Reads `path` if it exists and puts each served API's sessions back.
    /// A file that cannot be used is an error (the server does not start),
    /// never silently replaced: it may hold the only copy of someone's data.
    pub fn open(
        path: &Path,
        services: Vec<(String, Arc<MockService>)>,
    ) -> Result<Self, StateFileError> {
        let refuse = |problem| StateFileError {
            path: path.to_path_buf(),
            problem,
        };
        // Saves replace the file the path leads to: through a symbolic
        // link, the link stays and its target is replaced.
        let path = &followed(path).map_err(refuse)?;
        can_write_beside(path).map_err(refuse)?;
        remove_stale_temporaries(path);
        let mut file = StateFile {
            path: path.to_path_buf(),
            services,
            generation: 0,
            carried: Map::new(),
        };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(file),
            Err(e) => return Err(file.problem(StateProblem::Unreadable(e))),
        };
        let saved: Value =
            serde_json::from_str(&text).map_err(|e| file.problem(StateProblem::NotJson(e)))?;
        if saved.get("understudy_state").and_then(Value::as_u64) != Some(FORMAT) {
            return Err(file.problem(StateProblem::NotStateFile));
        }
        file.generation = saved
            .get("generation")
            .and_then(Value::as_u64)
            .unwrap_or(0)
            .wrapping_add(1);
        let Some(Value::Object(apis)) = saved.get("apis") else {
            return Err(file.problem(StateProblem::NotMapping("apis".into())));
        };
        for (label, state) in apis {
            let Some((_, service)) = file.services.iter().find(|(l, _)| l == label) else {
                file.carried.insert(label.clone(), state.clone());
                continue;
            };
            let Some(Value::Object(sessions)) = state.get("sessions") else {
                return Err(
                    file.problem(StateProblem::NotMapping(format!("apis.{label}.sessions")))
                );
            };
            let keys = service.current().fixture.model.keys();
            service
                .store
                .restore(sessions, &keys, file.generation)
                .map_err(|error| {
                    file.problem(StateProblem::Session {
                        api: label.clone(),
                        error,
                    })
                })?;
        }
        Ok(file)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sessions restored, over all APIs.
    pub fn restored_sessions(&self) -> usize {
        self.services
            .iter()
            .map(|(_, s)| s.store.names().len())
            .sum()
    }

    fn problem(&self, problem: StateProblem) -> StateFileError {
        StateFileError {
            path: self.path.clone(),
            problem,
        }
    }

    /// The whole state as the file holds it.
    fn snapshot(&self) -> Value {
        let mut apis = self.carried.clone();
        for (label, service) in &self.services {
            apis.insert(label.clone(), json!({"sessions": service.store.dump_all()}));
        }
        json!({
            "understudy_state": FORMAT,
            "generation": self.generation,
            "apis": apis,
        })
    }

    fn change_count(&self) -> u64 {
        self.services.iter().map(|(_, s)| s.change_count()).sum()
    }

    /// Writes the state now; `Err` says why not. The state is gathered,
    /// serialised and written on a blocking thread, never on one that
    /// serves requests: a large state takes a while to serialise.
    async fn save(self: &Arc<Self>, last: &mut Arc<Vec<u8>>) -> Result<(), SaveError> {
        let file = self.clone();
        let previous = last.clone();
        let written = tokio::task::spawn_blocking(move || {
            let bytes =
                serde_json::to_vec_pretty(&file.snapshot()).map_err(SaveError::Serialise)?;
            if bytes == *previous {
                return Ok(previous);
            }
            crate::source::atomic_file::write(&file.path, &bytes).map_err(|error| {
                SaveError::Write {
                    path: file.path.clone(),
                    error,
                }
            })?;
            Ok(Arc::new(bytes))
        })
        .await
        .map_err(SaveError::Writer)??;
        *last = written;
        Ok(())
    }

    /// Saves after changes, at most once per `flush`, until `stop` turns
    /// true; then saves what is left and returns. Failed writes are
    /// reported and retried with the next change.
    /// `changed` is the notifier given to the services' options.
    pub async fn keep(
        self,
        changed: Arc<tokio::sync::Notify>,
        flush: Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let this = Arc::new(self);
        let mut last = Arc::new(Vec::new());
        let mut written = this.change_count();
        // The file is written at start too, so the generation is recorded.
        if let Err(e) = this.save(&mut last).await {
            eprintln!("error: state file: {e}");
        }
        loop {
            tokio::select! {
                () = changed.notified() => {}
                _ = stop.wait_for(|stop| *stop) => break,
            }
            tokio::select! {
                () = tokio::time::sleep(flush) => {}
                _ = stop.wait_for(|stop| *stop) => break,
            }
            let count = this.change_count();
            if count != written {
                match this.save(&mut last).await {
                    Ok(()) => written = count,
                    Err(e) => eprintln!("error: state file: {e}"),
                }
            }
        }
        match this.save(&mut last).await {
            Ok(()) => eprintln!("state saved to {}", this.path.display()),
            Err(e) => eprintln!("error: state file: {e}; the last changes are lost"),
        }
    }
}

/// Most symbolic links followed from the state file's path.
const MAX_LINKS: usize = 40;

/// The path of the file `path` leads to through symbolic links (itself
/// when it is no link); what is there must be a regular file or nothing
/// yet. A FIFO, device or folder is refused before anything reads it: a
/// FIFO would hold the start for ever, a device feed it without end.
fn followed(path: &Path) -> Result<PathBuf, StateProblem> {
    let mut path = path.to_path_buf();
    for _ in 0..MAX_LINKS {
        let meta = match std::fs::symlink_metadata(&path) {
            Ok(meta) => meta,
            // Nothing there yet; whether it can be made is checked next.
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
                ) =>
            {
                return Ok(path);
            }
            Err(e) => return Err(StateProblem::Unreadable(e)),
        };
        let kind = meta.file_type();
        if kind.is_symlink() {
            let target = std::fs::read_link(&path).map_err(StateProblem::Unreadable)?;
            path = match path.parent() {
                Some(folder) => folder.join(target),
                None => target,
            };
            continue;
        }
        if kind.is_file() {
            return Ok(path);
        }
        return Err(StateProblem::NotRegular(if kind.is_dir() {
            "a folder"
        } else {
            "a device, FIFO or socket"
        }));
    }
    Err(StateProblem::SymlinkLoop)
}

/// Whether the folder of `path` takes new files (each save is a new file
/// renamed into place): found out at start, not at the first save after
/// the server has already accepted changes it cannot keep.
fn can_write_beside(path: &Path) -> Result<(), StateProblem> {
    let folder = match path.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    let fail = |error| StateProblem::FolderNotWritable {
        folder: folder.to_path_buf(),
        error,
    };
    std::fs::create_dir_all(folder).map_err(fail)?;
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Named like a save's temporary file, so a crash right here leaves
    // one that the next start removes.
    let probe = folder.join(format!(".{name}.{}.probe.tmp", std::process::id()));
    std::fs::File::create(&probe).map_err(fail)?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}

/// A temporary file left by a write that a crash interrupted is never the
/// state (the rename did not happen); it is removed at start.
fn remove_stale_temporaries(path: &Path) {
    let (Some(folder), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let folder = if folder.as_os_str().is_empty() {
        Path::new(".")
    } else {
        folder
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if file_name.starts_with(&prefix) && file_name.ends_with(".tmp") {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}
