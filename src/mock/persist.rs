//! `serve --state-file`: the mock's sessions kept on disk across restarts.
//!
//! Requests never touch the disk. Each one that changes the state bumps a
//! counter and wakes one saver task, which every quarter `flush` interval
//! appends what changed to the journal and syncs it (see
//! [`super::state_journal`]), so a crash loses at most the last interval
//! whatever the size of the state. Now and then, and after the last
//! request at shutdown, the whole state is written as the snapshot through
//! [`crate::source::atomic_file`] (temporary file, fsync, rename), so a
//! crash or `kill -9` at any moment leaves the previous snapshot or the
//! next one, never a torn one, and the journals that follow it.
//!
//! The file holds every served API by its label. An API in the file that
//! is not served this time is carried over untouched, so serving one API
//! of several does not erase the others' state.

use super::server::MockService;
use super::state_journal::{JournalWriter, ReplayError, journals, replay_journals};
use crate::behaviour::store::lock;
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
    #[error("its journal cannot be replayed: {0}")]
    Journal(ReplayError),
    #[error("cannot write its journal: {0}")]
    JournalNotWritable(std::io::Error),
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
    /// The journal this run appends to.
    writer: Arc<std::sync::Mutex<JournalWriter>>,
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
            writer: Arc::new(std::sync::Mutex::new(JournalWriter::new(path, 0))),
        };
        let text = match std::fs::read_to_string(path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(file.problem(StateProblem::Unreadable(e))),
        };
        let saved: Value = match text {
            Some(text) => crate::source::strict_json::from_str(&text)
                .map_err(|e| file.problem(StateProblem::NotJson(e)))?,
            None => json!({"understudy_state": FORMAT, "apis": {}}),
        };
        if saved.get("understudy_state").and_then(Value::as_u64) != Some(FORMAT) {
            return Err(file.problem(StateProblem::NotStateFile));
        }
        // A new file starts at generation 0; every start after adds one.
        file.generation = saved
            .get("generation")
            .and_then(Value::as_u64)
            .map_or(0, |g| g.wrapping_add(1));
        let Some(Value::Object(apis)) = saved.get("apis") else {
            return Err(file.problem(StateProblem::NotMapping("apis".into())));
        };
        // The journals the snapshot does not hold yet, in order.
        let mut apis = apis.clone();
        let from = saved.get("journal").and_then(Value::as_u64).unwrap_or(0);
        let replayed = replay_journals(path, &mut apis, from)
            .map_err(|e| file.problem(StateProblem::Journal(e)))?;
        file.generation = file
            .generation
            .max(replayed.generation.map_or(0, |g| g.wrapping_add(1)));
        let first_journal = replayed.last.map_or(from, |number| number + 1).max(from);
        // This run's generation is on disk before anything is served: a
        // crash before the first snapshot must not start the next run
        // with the same random sources, which would make the same ids.
        let mut writer = JournalWriter::new(path, first_journal);
        let mut line = json!({"generation": file.generation}).to_string();
        line.push('\n');
        writer
            .append(line.as_bytes())
            .map_err(|e| file.problem(StateProblem::JournalNotWritable(e)))?;
        file.writer = Arc::new(std::sync::Mutex::new(writer));
        for (label, state) in &apis {
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

    /// The whole state as the file holds it, the journals from `journal`
    /// on to be replayed over it.
    fn snapshot(&self, journal: u64) -> Value {
        let mut apis = self.carried.clone();
        for (label, service) in &self.services {
            apis.insert(label.clone(), json!({"sessions": service.store.dump_all()}));
        }
        json!({
            "understudy_state": FORMAT,
            "generation": self.generation,
            "journal": journal,
            "apis": apis,
        })
    }

    fn change_count(&self) -> u64 {
        self.services.iter().map(|(_, s)| s.change_count()).sum()
    }

    /// Appends the changes since the last call to the journal; returns
    /// the file to sync. On a blocking thread: never on one that serves
    /// requests.
    async fn journal(
        self: &Arc<Self>,
        writer: &Arc<std::sync::Mutex<JournalWriter>>,
        lag: &Arc<super::journal_lag::JournalLag>,
    ) -> Result<Option<std::fs::File>, SaveError> {
        let file = self.clone();
        let writer = writer.clone();
        let lag = lag.clone();
        tokio::task::spawn_blocking(move || {
            let started = std::time::Instant::now();
            // Taken and written under one lock, so lines taken before a
            // rotation never land in a journal after it.
            let mut writer = lock(&writer);
            let lines = super::state_journal::take_lines(&file.services);
            let written = writer.write(&lines).map_err(|error| SaveError::Write {
                path: super::state_journal::journal_path(&file.path, writer.number()),
                error,
            });
            if written.is_ok() {
                lag.journaled(started);
            }
            written
        })
        .await
        .map_err(SaveError::Writer)?
    }

    /// Starts a new journal, writes the whole state as the snapshot and
    /// deletes the journals it holds. On a blocking thread; returns the
    /// snapshot's size.
    async fn compact(
        self: &Arc<Self>,
        writer: &Arc<std::sync::Mutex<JournalWriter>>,
    ) -> Result<u64, SaveError> {
        let file = self.clone();
        let writer = writer.clone();
        tokio::task::spawn_blocking(move || {
            let from = lock(&writer).rotate();
            let bytes =
                serde_json::to_vec_pretty(&file.snapshot(from)).map_err(SaveError::Serialise)?;
            crate::source::atomic_file::write(&file.path, &bytes).map_err(|error| {
                SaveError::Write {
                    path: file.path.clone(),
                    error,
                }
            })?;
            for (number, journal) in journals(&file.path) {
                if number < from {
                    let _ = std::fs::remove_file(journal);
                }
            }
            Ok(bytes.len() as u64)
        })
        .await
        .map_err(SaveError::Writer)?
    }

    /// Journals changes every quarter `flush` until `stop` turns true, and
    /// writes a new snapshot when the journal has grown past the last
    /// snapshot's size (at least [`MIN_JOURNAL_BEFORE_SNAPSHOT`]); then
    /// journals what is left, writes the snapshot and returns. A failed
    /// journal write is reported and followed by a snapshot, which holds
    /// what the journal could not.
    /// `changed` is the notifier given to the services' options.
    pub async fn keep(
        self,
        changed: Arc<tokio::sync::Notify>,
        lag: Arc<super::journal_lag::JournalLag>,
        flush: Duration,
        mut stop: tokio::sync::watch::Receiver<bool>,
    ) {
        let this = Arc::new(self);
        let writer = this.writer.clone();
        let mut written = this.change_count();
        let mut snapshot_size = std::fs::metadata(&this.path).map_or(0, |m| m.len());
        // A snapshot at start: the generation is recorded, and the journals
        // replayed at start are folded into it. In the background, like
        // every snapshot, so changes are journaled from the first request.
        let mut compacting: Option<tokio::task::JoinHandle<Result<u64, SaveError>>> = {
            let file = this.clone();
            let writer = writer.clone();
            Some(tokio::spawn(async move { file.compact(&writer).await }))
        };
        // One sync of the journal at a time; a write while one runs asks
        // for another after it.
        let mut syncing: Option<tokio::task::JoinHandle<std::io::Result<()>>> = None;
        let mut unsynced: Option<std::fs::File> = None;
        // Ticks at a fixed rate while changes come, so a slow write or sync
        // does not push the next one later; waits for a change when idle.
        // A quarter: the rest of the interval is for taking and writing them
        // while the machine is busy.
        let mut ticker = tokio::time::interval((flush / 4).max(Duration::from_millis(1)));
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            if this.change_count() == written {
                // Idle: what was written last is synced before waiting.
                report_sync(syncing.take()).await;
                if let Some(file) = unsynced.take() {
                    report_sync(Some(tokio::task::spawn_blocking(move || file.sync_data()))).await;
                }
                lag.idle();
                tokio::select! {
                    () = changed.notified() => {}
                    _ = stop.wait_for(|stop| *stop) => break,
                }
                ticker.reset();
            }
            tokio::select! {
                _ = ticker.tick() => {}
                _ = stop.wait_for(|stop| *stop) => break,
            }
            if compacting.as_ref().is_some_and(|c| c.is_finished())
                && let Some(task) = compacting.take()
            {
                match task.await {
                    Ok(Ok(size)) => snapshot_size = size,
                    Ok(Err(e)) => eprintln!("error: state file: {e}"),
                    Err(e) => eprintln!("error: state file: {}", SaveError::Writer(e)),
                }
            }
            let count = this.change_count();
            if count == written {
                continue;
            }
            let journaled = this.journal(&writer, &lag).await;
            written = count;
            if let Ok(Some(file)) = &journaled {
                unsynced = file.try_clone().ok();
            }
            if syncing.as_ref().is_none_or(|s| s.is_finished()) {
                report_sync(syncing.take()).await;
                if let Some(file) = unsynced.take() {
                    syncing = Some(tokio::task::spawn_blocking(move || file.sync_data()));
                }
            }
            let grown = lock(&writer).bytes() > snapshot_size.max(MIN_JOURNAL_BEFORE_SNAPSHOT);
            if let Err(e) = &journaled {
                eprintln!("error: state file: {e}; writing a snapshot instead");
            }
            if (journaled.is_err() || grown) && compacting.is_none() {
                let file = this.clone();
                let writer = writer.clone();
                compacting = Some(tokio::spawn(async move { file.compact(&writer).await }));
            }
        }
        let snapshot_done = match compacting.take() {
            Some(task) => matches!(task.await, Ok(Ok(_))),
            None => false,
        };
        report_sync(syncing.take()).await;
        let journaled = match this.journal(&writer, &lag).await {
            Ok(Some(file)) => file.sync_data().map_err(|error| SaveError::Write {
                path: this.path.clone(),
                error,
            }),
            Ok(None) => Ok(()),
            Err(e) => Err(e),
        };
        // A snapshot that just finished with nothing journaled since is
        // the state: no second one (a large state takes seconds).
        if snapshot_done && journaled.is_ok() && lock(&writer).bytes() == 0 {
            eprintln!("state saved to {}", this.path.display());
            return;
        }
        match (this.compact(&writer).await, journaled) {
            (Ok(_), _) => eprintln!("state saved to {}", this.path.display()),
            (Err(e), Ok(())) => eprintln!(
                "error: state file: {e}; the last changes are in its journal and are \
                 replayed at the next start"
            ),
            (Err(e), Err(_)) => eprintln!("error: state file: {e}; the last changes are lost"),
        }
    }
}

/// Waits for a sync of the journal and reports its failure.
async fn report_sync(sync: Option<tokio::task::JoinHandle<std::io::Result<()>>>) {
    if let Some(sync) = sync
        && let Ok(Err(e)) = sync.await
    {
        eprintln!("error: state file: cannot sync its journal: {e}");
    }
}

/// The least a journal grows before the whole state is written again as
/// the snapshot: below it, replaying the journal at start costs less than
/// writing a large state often.
const MIN_JOURNAL_BEFORE_SNAPSHOT: u64 = 32 * 1024 * 1024;

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
