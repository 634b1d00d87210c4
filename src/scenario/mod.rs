//! The file model of `scenarios/<api>/*.yaml`: what a conformance check
//! says, checked on load with file and line for every problem. Nothing here
//! sends a request; the [`crate::runner`] does.
//!
//! ```yaml
//! api: datallog                      # a bundled API, or `spec: path/to/openapi.yaml`
//! vars: {token: "${env.DATALLOG_TOKEN:-test-token}"}
//! headers: {Authorization: "Token ${token}"}
//! scenarios:
//!   - name: a project is created
//!     tags: [happy]
//!     steps:
//!       - request: {method: POST, path: /api/create-project, json: {name: "p-${run_id}"}}
//!         expect:
//!           status: 200
//!           json: {/message: Deploy created successfully}
//! ```
//!
//! A file is one scenario (`steps:` at the top) or several (`scenarios:`)
//! sharing the file's `vars`, `headers` and `tags`.

pub mod matcher;
mod parse;
pub mod variables;

pub use matcher::{Matcher, ValueType};

use crate::source::{SourceError, SourceLocation};
use serde_json::Value;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// One scenario file, read and checked.
#[derive(Debug, Clone)]
pub struct ScenarioFile {
    pub path: PathBuf,
    pub api: ApiChoice,
    pub scenarios: Vec<Scenario>,
}

/// Which API a file's scenarios speak to, as the file says it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiChoice {
    /// `api: <name>` or a folder named after a bundled API.
    Bundled(String),
    /// `spec: <path>`, resolved against the file's folder, with the
    /// file's `overlays:` (OpenAPI Overlays applied to it, in order).
    Spec {
        path: PathBuf,
        overlays: Vec<PathBuf>,
    },
    /// The file does not say; `--spec` must.
    Unstated,
}

/// A named list of steps run in order, in a session of its own.
#[derive(Debug, Clone)]
pub struct Scenario {
    pub name: String,
    pub at: SourceLocation,
    pub tags: Vec<String>,
    /// Defined in order; later ones may use earlier ones.
    pub vars: Vec<(String, Value)>,
    /// Sent with every request unless a step sets the same header.
    pub headers: Vec<(String, String)>,
    /// Values of the mock fixture's variables for this scenario's session
    /// (`mock_vars:`), set through the admin API when the target is an
    /// understudy mock and ignored by any other server: a scenario recorded
    /// from one version of a service replays against the mock of that version.
    pub mock_vars: serde_json::Map<String, serde_json::Value>,
    pub timeout: Option<Duration>,
    pub steps: Vec<Step>,
}

/// One request and what must be true of its response.
#[derive(Debug, Clone)]
pub struct Step {
    pub name: String,
    pub at: SourceLocation,
    pub request: RequestTemplate,
    /// Read once, at load; values holding `${…}` are filled in per run.
    pub expect: Expectation,
    pub until: Option<Poll>,
    pub captures: Vec<Capture>,
    pub retries: u32,
    pub timeout: Option<Duration>,
    /// Store the response as a regression snapshot (`snapshot:`).
    pub snapshot: Option<SnapshotStep>,
}

/// What a step's `snapshot:` asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SnapshotStep {
    /// The snapshot's name; the step's number when not given.
    pub name: Option<String>,
    /// Response headers to keep besides `content-type`, lower case.
    pub headers: Vec<String>,
    /// Field names whose values are hidden wherever they occur.
    pub redact_fields: Vec<String>,
    /// JSON pointers whose values are hidden.
    pub redact_pointers: Vec<String>,
}

/// A request with `${…}` still in it.
#[derive(Debug, Clone)]
pub struct RequestTemplate {
    pub method: String,
    pub path: String,
    /// Arrays become repeated parameters.
    pub query: Vec<(String, Value)>,
    /// `None` takes away a header the scenario sends by default.
    pub headers: Vec<(String, Option<String>)>,
    pub body: Option<RequestBody>,
}

#[derive(Debug, Clone)]
pub enum RequestBody {
    Json(Value),
    Text(String),
}

/// Repeat the request until `condition` holds (readiness, say).
#[derive(Debug, Clone)]
pub struct Poll {
    /// An `expect` block, like [`Step::expect`].
    pub condition: Expectation,
    pub timeout: Duration,
    pub interval: Duration,
}

/// A value taken from a response into a variable for later steps.
#[derive(Debug, Clone)]
pub struct Capture {
    pub name: String,
    pub source: CaptureSource,
    /// When set, the first group of the match (or the whole match) is kept.
    pub regex: Option<regex::Regex>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureSource {
    /// A JSON pointer into the body.
    Body(String),
    Header(String),
    Status,
}

/// The parsed form of an `expect` block (or an `until` condition).
#[derive(Debug, Clone, Default)]
pub struct Expectation {
    /// Any of these; empty means "any".
    pub status: Vec<u16>,
    pub headers: Vec<(String, Matcher)>,
    /// The whole body, equal.
    pub body: Option<Value>,
    /// The body contains this (objects: these keys; arrays: these items).
    pub body_contains: Option<Value>,
    /// `(as written, JSON pointer, matcher)`.
    pub json: Vec<(String, String, Matcher)>,
    /// Whether any value (or header name or path) holds a `${…}`.
    pub templated: bool,
    /// The `${…}` it uses, for the check that each is defined before use.
    pub references: Vec<variables::Reference>,
    /// The file's line of each expectation, by what a failure of it names
    /// as its check (`status`, `header location`, `json /id`, `body`).
    pub lines: std::collections::HashMap<String, usize>,
}

/// A scenario file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ScenarioError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("{at}: {message}")]
    Invalid { at: SourceLocation, message: String },
}

impl ScenarioError {
    pub fn location(&self) -> SourceLocation {
        match self {
            ScenarioError::Source(e) => e.location(),
            ScenarioError::Invalid { at, .. } => at.clone(),
        }
    }
}

impl ScenarioFile {
    pub fn load(path: &Path) -> Result<ScenarioFile, ScenarioError> {
        let document = crate::source::SourceDocument::read(path)?;
        parse::file(&document)
    }

    /// Reads a scenario from text in memory; `path` names it in errors.
    pub fn from_text(path: &Path, text: &str) -> Result<ScenarioFile, ScenarioError> {
        let document = crate::source::SourceDocument::parse(path, text.into())?;
        parse::file(&document)
    }
}

/// Scenario paths that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum DiscoverError {
    #[error("{}: cannot read the folder: {error}", path.display())]
    Unreadable {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{}: no such file or folder of scenarios", .0.display())]
    Missing(PathBuf),
}

/// Every `*.yaml`/`*.yml`/`*.json` file under `paths` (files named directly
/// are taken whatever their extension), sorted so runs are repeatable.
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, DiscoverError> {
    let mut found = Vec::new();
    for path in paths {
        if path.is_dir() {
            walk(path, &mut found, &mut HashSet::new()).map_err(|error| {
                DiscoverError::Unreadable {
                    path: path.clone(),
                    error,
                }
            })?;
        } else if path.exists() {
            // A file, or something that is no regular file (a FIFO), which
            // reading it refuses with the reason.
            found.push(path.clone());
        } else {
            return Err(DiscoverError::Missing(path.clone()));
        }
    }
    found.sort();
    found.dedup();
    Ok(found)
}

/// Collects the scenario files under `dir`. Each folder is read once, by
/// its real path: a symbolic link back to a parent (a loop) or to a
/// folder already read adds nothing instead of walking for ever.
fn walk(dir: &Path, found: &mut Vec<PathBuf>, seen: &mut HashSet<PathBuf>) -> std::io::Result<()> {
    if !seen.insert(std::fs::canonicalize(dir)?) {
        return Ok(());
    }
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.is_dir() {
            walk(&path, found, seen)?;
        } else if path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
        {
            found.push(path);
        }
    }
    Ok(())
}
