//! How a mock behaves beyond its spec and fixture: the flags of `serve`
//! (and what `run` and `mutate` set for the mocks they start).

use std::sync::Arc;
use std::time::Duration;

/// Most JSON values a request body may hold by default (`--max-body-values`).
pub const DEFAULT_MAX_BODY_VALUES: usize = 1_000_000;

/// How a mock behaves beyond its spec and fixture.
#[derive(Debug, Clone)]
pub struct MockOptions {
    /// Name shown in the log, e.g. `mittwald`.
    pub label: String,
    pub cors: bool,
    pub quiet: bool,
    /// Seed for generated bodies: the same seed gives the same bodies.
    pub seed: u64,
    /// Largest request body accepted, in bytes (413 above).
    pub body_limit: usize,
    /// Most JSON values a request body may hold (`--max-body-values`).
    pub max_body_values: usize,
    /// How many recent requests the admin API remembers.
    pub journal_size: usize,
    /// How long a client may take to send its headers, and then its body;
    /// a slow client is cut off and nobody else waits for it.
    pub read_timeout: Duration,
    /// Connections served at once; more wait to be accepted.
    pub max_connections: usize,
    /// Told of every request that changed the state (for
    /// `--state-file`); shared by all the APIs of one server.
    pub changed: Option<Arc<tokio::sync::Notify>>,
    /// How far the state file's journal lags (with `--state-file`): an
    /// answer that changed the state waits while it lags too far.
    pub journal_lag: Option<Arc<super::journal_lag::JournalLag>>,
    /// The one contract-breaking fault of a mutant (`serve --mutant`).
    pub fault: Option<super::fault::Fault>,
    /// Random failures, resets and latency (`serve --fault`, `--latency`).
    pub chaos: super::fault::Chaos,
    /// Items per session and sessions kept (`--max-items`, `--max-sessions`).
    pub limits: crate::behaviour::store::StoreLimits,
    /// Bytes of answers kept for requests repeated while the state does not
    /// change (`--repeat-cache`); 0 builds every answer.
    pub repeat_cache: usize,
}

/// Bytes of repeated answers kept by default (`--repeat-cache`).
pub const DEFAULT_REPEAT_CACHE: usize = 16 * 1024 * 1024;

impl Default for MockOptions {
    fn default() -> Self {
        Self {
            label: "mock".into(),
            cors: true,
            quiet: true,
            seed: 0,
            body_limit: 10 * 1024 * 1024,
            max_body_values: DEFAULT_MAX_BODY_VALUES,
            journal_size: 1000,
            read_timeout: Duration::from_secs(10),
            max_connections: 1024,
            changed: None,
            journal_lag: None,
            fault: None,
            chaos: super::fault::Chaos::default(),
            limits: crate::behaviour::store::StoreLimits::default(),
            repeat_cache: DEFAULT_REPEAT_CACHE,
        }
    }
}
