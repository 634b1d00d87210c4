//! `understudy record`: a proxy in front of a real service that checks both
//! directions of every exchange against the spec, logs each mismatch, and
//! writes what it saw as a scenario (steps, id captures, snapshots) that
//! replays with `understudy run`.
//!
//! The scenario file and each snapshot are rewritten atomically after every
//! exchange, so stopping the proxy (or a crash) never loses what was seen.
//! Secret headers are never written: the scenario reads them from the
//! environment, and their values are hidden in snapshots too.

pub mod proxy;
pub mod recording;

use crate::runner::http::HttpClient;
use crate::spec::Api;
use recording::Recording;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub use proxy::RunningRecorder;

/// What a recording session is set up with.
#[derive(Debug, Clone)]
pub struct RecordOptions {
    /// The service recorded, `http(s)://host[:port]` with no trailing slash.
    pub upstream: String,
    pub api: Arc<Api>,
    /// The API's label as the runner names it (the bundled name, or the
    /// spec file's stem): snapshots go to `snapshots/<label>/`.
    pub label: String,
    /// The line naming the API in the scenario: `api: x` or `spec: path`.
    pub api_line: String,
    /// The scenario file written.
    pub out: PathBuf,
    /// The recorded scenario's name.
    pub scenario: String,
    pub snapshots: PathBuf,
    /// Fields the API's fixture generates, hidden in snapshots.
    pub volatile: Vec<String>,
    pub timeout: Duration,
    pub body_limit: usize,
    /// Bytes of the upstream's answer body read at most (`--max-body`).
    pub max_body: usize,
    /// Write credentials as fallbacks of their variables (`--write-credentials`).
    pub write_credentials: bool,
    /// The fixture variables the scenario's replay sets on a mock
    /// (`mock_vars:`): the version of the API that was recorded.
    pub mock_vars: serde_json::Map<String, serde_json::Value>,
}

/// A recording in progress.
pub struct Recorder {
    options: RecordOptions,
    client: HttpClient,
    recording: Mutex<Recording>,
    /// Header names the spec declares as API keys: secrets.
    spec_keys: Vec<String>,
}

impl Recorder {
    pub fn new(options: RecordOptions) -> Self {
        let spec_keys = options.api.api_key_headers();
        let mut recording = Recording::default();
        recording.write_credentials = options.write_credentials;
        recording.mock_vars = options.mock_vars.clone();
        recording.upstream = options.upstream.clone();
        Self {
            client: HttpClient::new(options.max_body),
            options,
            recording: Mutex::new(recording),
            spec_keys,
        }
    }

    pub fn options(&self) -> &RecordOptions {
        &self.options
    }

    /// Exchanges recorded so far.
    pub fn recorded(&self) -> usize {
        crate::behaviour::store::lock(&self.recording).len()
    }
}
