//! The state file's journal: what changed, appended as it changes, so that
//! a crash loses at most `--state-flush` whatever the size of the state.
//!
//! Writing the whole state after every burst of changes does not keep that
//! promise: a 30 MB state takes longer to serialise than the flush interval.
//! Instead, every quarter interval the changes since the last time (the items
//! written or removed, a session's clock and variables, sessions made,
//! replaced or forgotten) are taken from the live state and appended as
//! JSON lines to `<state>.journal.<n>`, then synced. Now and then, and at
//! shutdown, the whole state is written as the snapshot (`<state>` itself)
//! and older journals are deleted.
//!
//! A start reads the snapshot, then every journal from the one the snapshot
//! names, in order. Each line holds items as they were when taken, whole:
//! replaying a line twice, or over a snapshot that already holds it, gives
//! the same state, so a crash between any two steps recovers. A last line
//! cut short by a crash is skipped; any other bad line stops the start
//! with its file and line.

use crate::behaviour::store::{SessionChanges, SessionsChange, key_text, lock};
use crate::behaviour::uuid_text::index_form;
use serde_json::{Map, Value, json};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::server::MockService;

/// The journal file numbered `number` of the state file at `state`.
pub fn journal_path(state: &Path, number: u64) -> PathBuf {
    let mut name = state.file_name().unwrap_or_default().to_os_string();
    name.push(format!(".journal.{number}"));
    state.with_file_name(name)
}

/// The journals of the state file at `state`, by number, lowest first.
pub fn journals(state: &Path) -> Vec<(u64, PathBuf)> {
    let folder = match state.parent() {
        Some(folder) if !folder.as_os_str().is_empty() => folder,
        _ => Path::new("."),
    };
    let prefix = format!(
        "{}.journal.",
        state.file_name().unwrap_or_default().to_string_lossy()
    );
    let mut found: Vec<(u64, PathBuf)> = std::fs::read_dir(folder)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let number = name.strip_prefix(&prefix)?.parse::<u64>().ok()?;
            Some((number, entry.path()))
        })
        .collect();
    found.sort();
    found
}

/// The changes of every served API since the last call, as journal lines.
/// Each session is locked only to take its changes; they are turned into
/// JSON after.
pub fn take_lines(services: &[(String, Arc<MockService>)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (label, service) in services {
        let keys = service.current().fixture.model.keys();
        let (forgotten, sessions) = service.store.journal_view();
        for change in forgotten {
            let line = match change {
                SessionsChange::Forgot(name) => json!({"api": label, "forget": name}),
                SessionsChange::ForgotAll => json!({"api": label, "forget_all": true}),
            };
            push_line(&mut out, &line);
        }
        for (name, session) in sessions {
            let changes = lock(&session).take_changes();
            let line = match changes {
                None => continue,
                Some(SessionChanges::Whole(parts)) => {
                    json!({"api": label, "session": name, "whole": parts.dump()})
                }
                Some(SessionChanges::Some {
                    clock_offset_ms,
                    vars,
                    collections,
                }) => {
                    let collections: Map<String, Value> = collections
                        .into_iter()
                        .map(|(collection, changes)| {
                            let written: Vec<Value> =
                                changes.written.iter().map(|r| r.dump()).collect();
                            let entry = json!({
                                "key": keys.get(&collection),
                                "written": written,
                                "removed": changes.removed,
                            });
                            (collection, entry)
                        })
                        .collect();
                    json!({
                        "api": label,
                        "session": name,
                        "clock_offset_ms": clock_offset_ms,
                        "vars": vars,
                        "collections": collections,
                    })
                }
            };
            push_line(&mut out, &line);
        }
    }
    out
}

fn push_line(out: &mut Vec<u8>, line: &Value) {
    // A `Value` always serialises.
    let _ = serde_json::to_writer(&mut *out, line);
    out.push(b'\n');
}

/// The journal being appended to.
pub struct JournalWriter {
    state: PathBuf,
    number: u64,
    file: Option<std::fs::File>,
    bytes: u64,
}

impl JournalWriter {
    /// Appends to journal `number` (made on the first append).
    pub fn new(state: &Path, number: u64) -> Self {
        Self {
            state: state.to_path_buf(),
            number,
            file: None,
            bytes: 0,
        }
    }

    pub fn number(&self) -> u64 {
        self.number
    }

    /// Bytes appended to the current journal.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Appends `lines` and syncs them to disk.
    pub fn append(&mut self, lines: &[u8]) -> std::io::Result<()> {
        self.write(lines)?;
        match self.file.as_ref() {
            Some(file) => file.sync_data(),
            None => Ok(()),
        }
    }

    /// Appends `lines` without waiting for the disk: once written they
    /// survive the process being killed. Returns the file to sync, so the
    /// sync can run while the next changes are taken: a sync waits behind
    /// whatever else the disk is writing (a snapshot of 40 MB), and the
    /// next changes must not wait behind it.
    pub fn write(&mut self, lines: &[u8]) -> std::io::Result<Option<std::fs::File>> {
        if lines.is_empty() {
            return Ok(None);
        }
        if self.file.is_none() {
            let path = journal_path(&self.state, self.number);
            let file = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(&path)?;
            // The new name must last too, not only what is written to it.
            sync_folder(&path);
            self.file = Some(file);
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(None);
        };
        file.write_all(lines)?;
        self.bytes += lines.len() as u64;
        Ok(file.try_clone().ok())
    }

    /// Starts the next journal; returns its number. A snapshot taken from
    /// now on holds everything the earlier journals hold.
    pub fn rotate(&mut self) -> u64 {
        self.number += 1;
        self.file = None;
        self.bytes = 0;
        self.number
    }
}

fn sync_folder(path: &Path) {
    if let Some(folder) = path.parent() {
        let folder = if folder.as_os_str().is_empty() {
            Path::new(".")
        } else {
            folder
        };
        if let Ok(dir) = std::fs::File::open(folder) {
            let _ = dir.sync_all();
        }
    }
}

/// A journal line that cannot be replayed.
#[derive(Debug, thiserror::Error)]
#[error("{}:{line}: {problem}", path.display())]
pub struct JournalError {
    pub path: PathBuf,
    pub line: usize,
    pub problem: String,
}

/// What replaying the journals found.
#[derive(Debug, Default)]
pub struct Replayed {
    /// The number of the last journal replayed.
    pub last: Option<u64>,
    /// The highest generation a journal names.
    pub generation: Option<u64>,
}

/// A journal that cannot be read or replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    #[error("{}: cannot read it: {error}", path.display())]
    Unreadable {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error(transparent)]
    Line(#[from] JournalError),
}

/// Replays over the snapshot's `apis` every journal of `state` numbered
/// `from` or later, in order: what a start recovers.
pub fn replay_journals(
    state: &Path,
    apis: &mut Map<String, Value>,
    from: u64,
) -> Result<Replayed, ReplayError> {
    let pending: Vec<(u64, PathBuf)> = journals(state)
        .into_iter()
        .filter(|(number, _)| *number >= from)
        .collect();
    let mut replay = Replay::default();
    for (_, journal) in &pending {
        let text = std::fs::read_to_string(journal).map_err(|error| ReplayError::Unreadable {
            path: journal.clone(),
            error,
        })?;
        replay.apply(apis, journal, &text)?;
    }
    let generation = replay.generation;
    replay.finish(apis);
    Ok(Replayed {
        last: pending.last().map(|(number, _)| *number),
        generation,
    })
}

/// Replays journals over the snapshot's `apis`.
#[derive(Default)]
pub struct Replay {
    /// Per API and session, per collection: where each key's item is in
    /// its list (by the key's index form), built when first needed.
    places: HashMap<(String, String), HashMap<String, HashMap<String, usize>>>,
    /// Lines skipped because a crash cut them short.
    pub torn: usize,
    /// The highest generation a journal names (each run names its own
    /// before it serves, so ids made after a crash do not repeat).
    pub generation: Option<u64>,
}

impl Replay {
    /// Applies the journal at `path` (with text `text`) to `apis`. Its
    /// final line may have been cut by a crash, whichever journal it is:
    /// the run after a crash replays the cut journal and goes on in a new
    /// one, so after a second crash the cut line is no longer the newest
    /// journal's. Skipping it is what that run did too.
    pub fn apply(
        &mut self,
        apis: &mut Map<String, Value>,
        path: &Path,
        text: &str,
    ) -> Result<(), JournalError> {
        let lines: Vec<&str> = text.split_inclusive('\n').collect();
        for (i, raw) in lines.iter().enumerate() {
            let fail = |problem: String| JournalError {
                path: path.to_path_buf(),
                line: i + 1,
                problem,
            };
            let content = raw.trim_end_matches('\n');
            if content.trim().is_empty() {
                continue;
            }
            let parsed = crate::source::strict_json::from_str(content);
            let cut_short = i + 1 == lines.len() && !raw.ends_with('\n');
            let line = match parsed {
                Ok(line) => line,
                Err(_) if cut_short => {
                    self.torn += 1;
                    continue;
                }
                Err(e) => return Err(fail(format!("not a JSON journal line: {e}"))),
            };
            self.apply_line(apis, &line).map_err(fail)?;
        }
        Ok(())
    }

    /// Drops the places of removed items; call after the last journal.
    pub fn finish(self, apis: &mut Map<String, Value>) {
        for ((api, session), collections) in self.places {
            let Some(Value::Object(lists)) = apis
                .get_mut(&api)
                .and_then(|a| a.get_mut("sessions"))
                .and_then(|s| s.get_mut(&session))
                .and_then(|s| s.get_mut("collections"))
            else {
                continue;
            };
            for name in collections.keys() {
                if let Some(Value::Array(items)) = lists.get_mut(name) {
                    items.retain(|item| !item.is_null());
                }
            }
        }
    }

    fn apply_line(&mut self, apis: &mut Map<String, Value>, line: &Value) -> Result<(), String> {
        if let Some(generation) = line.get("generation") {
            let generation = generation
                .as_u64()
                .ok_or("`generation` must be a whole number")?;
            self.generation = Some(self.generation.map_or(generation, |g| g.max(generation)));
            return Ok(());
        }
        let text = |name: &str| line.get(name).and_then(Value::as_str);
        let api = text("api").ok_or("needs `api`, a string")?.to_string();
        let state = apis
            .entry(api.clone())
            .or_insert_with(|| json!({"sessions": {}}));
        if !state.get("sessions").is_some_and(Value::is_object) {
            state["sessions"] = json!({});
        }
        let Some(Value::Object(sessions)) = state.get_mut("sessions") else {
            return Err("`sessions` must be a mapping".into());
        };
        if line.get("forget_all") == Some(&Value::Bool(true)) {
            sessions.clear();
            self.places.retain(|(a, _), _| *a != api);
            return Ok(());
        }
        if let Some(name) = text("forget") {
            sessions.remove(name);
            self.places.remove(&(api, name.to_string()));
            return Ok(());
        }
        let name = text("session")
            .ok_or("needs `session`, `forget` or `forget_all`")?
            .to_string();
        if let Some(whole) = line.get("whole") {
            if !whole.is_object() {
                return Err("`whole` must be a session's dump".into());
            }
            sessions.insert(name.clone(), whole.clone());
            self.places.remove(&(api, name));
            return Ok(());
        }
        let session = sessions.entry(name.clone()).or_insert_with(
            || json!({"session": name, "clock_offset_ms": 0, "vars": {}, "collections": {}}),
        );
        let Value::Object(session) = session else {
            return Err(format!("session `{name}` is not a mapping"));
        };
        for field in ["clock_offset_ms", "vars"] {
            if let Some(value) = line.get(field) {
                session.insert(field.to_string(), value.clone());
            }
        }
        let Some(Value::Object(changes)) = line.get("collections") else {
            return Err("needs `collections`, a mapping".into());
        };
        let lists = session.entry("collections").or_insert_with(|| json!({}));
        let Value::Object(lists) = lists else {
            return Err(format!("session `{name}`: `collections` is not a mapping"));
        };
        let places = self.places.entry((api, name)).or_default();
        for (collection, change) in changes {
            let key_field = change
                .get("key")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("`collections.{collection}` needs `key`, a string"))?;
            let list = lists.entry(collection.clone()).or_insert_with(|| json!([]));
            let Value::Array(items) = list else {
                return Err(format!("collection `{collection}` is not a list"));
            };
            let place = places.entry(collection.clone()).or_insert_with(|| {
                items
                    .iter()
                    .enumerate()
                    .filter_map(|(i, entry)| Some((item_key(entry, key_field)?, i)))
                    .collect()
            });
            for entry in change
                .get("written")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let key = item_key(entry, key_field).ok_or_else(|| {
                    format!("an item written to `{collection}` has no `{key_field}`")
                })?;
                match place.get(&key) {
                    Some(&i) => items[i] = entry.clone(),
                    None => {
                        place.insert(key, items.len());
                        items.push(entry.clone());
                    }
                }
            }
            for key in change
                .get("removed")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if let Some(i) = place.remove(index_form(key).as_ref()) {
                    items[i] = Value::Null;
                }
            }
        }
        Ok(())
    }
}

/// The key of a dumped item, in the form that finds it whatever its
/// spelling (a UUID in any case, with or without hyphens).
fn item_key(entry: &Value, key_field: &str) -> Option<String> {
    let key = key_text(entry.get("item")?.get(key_field)?)?;
    Some(index_form(&key).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replay(snapshot: Value, journal: &str) -> Result<(Value, usize), JournalError> {
        let Value::Object(mut apis) = snapshot else {
            panic!("a mapping")
        };
        let mut replay = Replay::default();
        replay.apply(&mut apis, Path::new("s.json.journal.1"), journal)?;
        let torn = replay.torn;
        replay.finish(&mut apis);
        Ok((Value::Object(apis), torn))
    }

    fn entry(id: &str, name: &str) -> Value {
        json!({"item": {"id": id, "name": name}, "created_ms": 1, "reads": 0, "deleted": false})
    }

    #[test]
    fn written_items_replace_by_key_and_removed_ones_go() {
        let snapshot = json!({"a": {"sessions": {"default": {"session": "default",
            "clock_offset_ms": 0, "vars": {},
            "collections": {"p": [entry("1", "one"), entry("2", "two")]}}}}});
        let journal = [
            json!({"api": "a", "session": "default", "clock_offset_ms": 5, "vars": {},
                "collections": {"p": {"key": "id", "written": [entry("1", "uno"), entry("3", "three")], "removed": []}}}),
            json!({"api": "a", "session": "default", "clock_offset_ms": 5, "vars": {},
                "collections": {"p": {"key": "id", "written": [], "removed": ["2"]}}}),
        ]
        .iter()
        .map(|l| format!("{l}\n"))
        .collect::<String>();
        let (state, _) = replay(snapshot.clone(), &journal).expect("replays");
        let session = &state["a"]["sessions"]["default"];
        assert_eq!(session["clock_offset_ms"], 5);
        assert_eq!(
            session["collections"]["p"],
            json!([entry("1", "uno"), entry("3", "three")])
        );
        // Twice gives the same: a crash between journal and snapshot is safe.
        let (again, _) = replay(state.clone(), &journal).expect("replays");
        assert_eq!(again, state);
    }

    /// Two crashes in a row: the first cut journal 1's last line, the run
    /// after it replayed journal 1 and wrote journal 2 before the second.
    /// The state still replays, without the cut line.
    #[test]
    fn a_line_cut_by_an_earlier_crash_does_not_stop_a_later_replay() {
        let dir =
            std::env::temp_dir().join(format!("understudy-journal-cut-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        let state = dir.join("s.json");
        let whole = |id: &str| {
            json!({"api": "a", "session": "s", "whole": {"session": "s", "collections": {"p": [entry(id, "one")]}}})
                .to_string()
        };
        std::fs::write(
            dir.join("s.json.journal.1"),
            format!("{}\n{{\"api\": \"a\", \"ses", whole("1")),
        )
        .expect("journal 1");
        std::fs::write(dir.join("s.json.journal.2"), "{\"generation\": 2}\n").expect("journal 2");
        let Value::Object(mut apis) = json!({}) else {
            unreachable!()
        };
        let replayed = replay_journals(&state, &mut apis, 0).expect("replays");
        assert_eq!(replayed.last, Some(2));
        assert_eq!(
            apis["a"]["sessions"]["s"]["collections"]["p"][0]["item"]["id"],
            "1"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_highest_generation_named_is_kept() {
        let journal = "{\"generation\": 4}\n{\"generation\": 6}\n{\"generation\": 5}\n";
        let Value::Object(mut apis) = json!({}) else {
            unreachable!()
        };
        let mut replay = Replay::default();
        replay
            .apply(&mut apis, Path::new("j"), journal)
            .expect("replays");
        assert_eq!(replay.generation, Some(6));
    }

    #[test]
    fn uuid_keys_match_in_any_spelling() {
        let upper = "8F2E3B9C-1D4A-4C5B-9E6F-7A8B9C0D1E2F";
        let lower = "8f2e3b9c-1d4a-4c5b-9e6f-7a8b9c0d1e2f";
        let snapshot =
            json!({"a": {"sessions": {"s": {"collections": {"p": [entry(upper, "x")]}}}}});
        let journal = format!(
            "{}\n",
            json!({"api": "a", "session": "s", "collections": {"p": {"key": "id", "written": [], "removed": [lower]}}})
        );
        let (state, _) = replay(snapshot, &journal).expect("replays");
        assert_eq!(state["a"]["sessions"]["s"]["collections"]["p"], json!([]));
    }

    #[test]
    fn sessions_are_replaced_and_forgotten_in_order() {
        let journal = [
            json!({"api": "a", "session": "s", "whole": {"session": "s", "collections": {"p": [entry("1", "one")]}}}),
            json!({"api": "a", "forget": "s"}),
            json!({"api": "a", "session": "t", "whole": {"session": "t", "collections": {}}}),
            json!({"api": "b", "session": "u", "whole": {"session": "u", "collections": {}}}),
            json!({"api": "b", "forget_all": true}),
        ]
        .iter()
        .map(|l| format!("{l}\n"))
        .collect::<String>();
        let (state, _) = replay(json!({}), &journal).expect("replays");
        let names = |api: &str| {
            state[api]["sessions"]
                .as_object()
                .map(|s| s.keys().cloned().collect::<Vec<_>>())
        };
        assert_eq!(names("a"), Some(vec!["t".to_string()]));
        assert_eq!(names("b"), Some(vec![]));
    }

    #[test]
    fn a_last_line_cut_short_is_skipped_and_any_other_bad_line_is_an_error() {
        let good = json!({"api": "a", "forget_all": true}).to_string();
        let (_, torn) =
            replay(json!({}), &format!("{good}\n{{\"api\": \"a\", \"ses")).expect("replays");
        assert_eq!(torn, 1);
        let err = replay(
            json!({}),
            &format!("{good}\n{{\"api\": \"a\", \"ses\n{good}\n"),
        )
        .expect_err("a bad middle line");
        assert_eq!(err.line, 2);
        assert!(err.to_string().starts_with("s.json.journal.1:2: "), "{err}");
        let err = replay(json!({}), "{\"api\": \"a\"}\n").expect_err("no session");
        assert!(err.problem.contains("needs `session`"), "{err}");
    }
}
