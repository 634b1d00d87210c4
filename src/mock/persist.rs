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

    /// Writes the state now, on a blocking thread; `Err` says why not.
    async fn save(&self, last: &mut Vec<u8>) -> Result<(), SaveError> {
        let bytes = serde_json::to_vec_pretty(&self.snapshot()).map_err(SaveError::Serialise)?;
        if bytes == *last {
            return Ok(());
        }
        let path = self.path.clone();
        let written = bytes.clone();
        tokio::task::spawn_blocking(move || crate::source::atomic_file::write(&path, &written))
            .await
            .map_err(SaveError::Writer)?
            .map_err(|error| SaveError::Write {
                path: self.path.clone(),
                error,
            })?;
        *last = bytes;
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
        let mut last = Vec::new();
        let mut written = self.change_count();
        // The file is written at start too, so the generation is recorded.
        if let Err(e) = self.save(&mut last).await {
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
            let count = self.change_count();
            if count != written {
                match self.save(&mut last).await {
                    Ok(()) => written = count,
                    Err(e) => eprintln!("error: state file: {e}"),
                }
            }
        }
        match self.save(&mut last).await {
            Ok(()) => eprintln!("state saved to {}", self.path.display()),
            Err(e) => eprintln!("error: state file: {e}; the last changes are lost"),
        }
    }
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
