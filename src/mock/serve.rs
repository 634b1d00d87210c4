//! `serve` as one library call: bind a listener per API, restore the state
//! file, then serve until told to stop (watching the files for hot reload
//! and saving state alongside), and save once more after the last request.
//!
//! Everything is set up before anything is announced: a port that cannot
//! be bound or a state file that cannot be used stops the start with an
//! error, and no "serving" line is printed for a server that never served.
//! What a person reads is the caller's: it is told of each step through
//! [`Event`]s.

use super::persist::{StateFile, StateFileError};
use super::reload::{ReloadEvent, Sources, watch};
use super::server::serve_until;
use super::{MockOptions, MockService};
use crate::behaviour::Fixture;
use crate::spec::Api;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// One API to serve.
pub struct Served {
    pub label: String,
    pub api: Api,
    pub fixture: Fixture,
    pub port: u16,
    /// Where it comes from, as the banner shows it.
    pub source: String,
    /// Files to watch for hot reload; `None` for the bundled APIs.
    pub sources: Option<Sources>,
}

/// How to serve: the options every API's mock shares (each gets its own
/// label), and the server-wide features.
pub struct Settings {
    pub host: String,
    pub options: MockOptions,
    /// `--mutant`: the API it applies to and its fault.
    pub mutant: Option<(String, super::fault::Fault)>,
    /// `--state-file` and `--state-flush`.
    pub state: Option<(PathBuf, Duration)>,
    /// How often to look for edits (`None`: `--no-reload`).
    pub reload: Option<Duration>,
}

/// What the server does, for the caller to show.
pub enum Event<'a> {
    /// Every API is bound and its state restored; about to serve.
    Serving {
        apis: usize,
    },
    Listening {
        label: &'a str,
        url: &'a str,
        source: &'a str,
        operations: usize,
    },
    StateRestored {
        path: &'a Path,
        sessions: usize,
    },
    Ready,
    Reload {
        label: &'a str,
        event: &'a ReloadEvent,
    },
    Stopped,
}

/// Why the server did not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot listen on {host}:{port} for {label}: {error}")]
    Bind {
        label: String,
        host: String,
        port: u16,
        error: std::io::Error,
    },
    #[error(transparent)]
    State(#[from] StateFileError),
}

/// Serves `served` until `stop` completes; `on` hears of each step.
pub async fn serve(
    served: Vec<Served>,
    settings: Settings,
    stop: impl std::future::Future<Output = ()>,
    on: Arc<dyn Fn(Event<'_>) + Send + Sync>,
) -> Result<(), ServeError> {
    let changed = Arc::new(tokio::sync::Notify::new());
    let journal_lag = settings
        .state
        .as_ref()
        .map(|(_, flush)| Arc::new(super::journal_lag::JournalLag::new(*flush)));
    let mut ready = Vec::new();
    for s in served {
        let listener = tokio::net::TcpListener::bind((settings.host.as_str(), s.port))
            .await
            .map_err(|error| ServeError::Bind {
                label: s.label.clone(),
                host: settings.host.clone(),
                port: s.port,
                error,
            })?;
        let url = match listener.local_addr() {
            Ok(addr) => format!("http://{addr}"),
            Err(_) => format!("http://{}:{}", settings.host, s.port),
        };
        let options = MockOptions {
            label: s.label.clone(),
            changed: settings.state.as_ref().map(|_| changed.clone()),
            journal_lag: journal_lag.clone(),
            limits: crate::behaviour::store::StoreLimits {
                journal: settings.state.is_some(),
                ..settings.options.limits
            },
            fault: settings
                .mutant
                .as_ref()
                .filter(|(label, _)| *label == s.label)
                .map(|(_, fault)| fault.clone()),
            ..settings.options.clone()
        };
        let operations = s.api.operations.len();
        let service = Arc::new(MockService::new(
            Arc::new(s.api),
            Arc::new(s.fixture),
            options,
        ));
        let sources = s.sources.filter(|_| settings.reload.is_some());
        ready.push((
            s.label, url, s.source, operations, listener, service, sources,
        ));
    }
    let state = match &settings.state {
        None => None,
        Some((path, flush)) => {
            let services = ready
                .iter()
                .map(|(label, _, _, _, _, service, _)| (label.clone(), service.clone()))
                .collect();
            Some((StateFile::open(path, services)?, *flush))
        }
    };
    on(Event::Serving { apis: ready.len() });
    for (label, url, source, operations, ..) in &ready {
        on(Event::Listening {
            label,
            url,
            source,
            operations: *operations,
        });
    }
    let (stop_saving, saving_stopped) = tokio::sync::watch::channel(false);
    let saver = state.map(|(file, flush)| {
        on(Event::StateRestored {
            path: file.path(),
            sessions: file.restored_sessions(),
        });
        let lag = journal_lag
            .clone()
            .unwrap_or_else(|| Arc::new(super::journal_lag::JournalLag::new(flush)));
        tokio::spawn(file.keep(changed.clone(), lag, flush, saving_stopped))
    });
    let mut watchers = Vec::new();
    let mut servers = Vec::new();
    let (stop_serving, serving_stopped) = tokio::sync::watch::channel(false);
    for (label, _, _, _, listener, service, sources) in ready {
        if let (Some(sources), Some(interval)) = (sources, settings.reload) {
            let on = on.clone();
            watchers.push(tokio::spawn(watch(
                service.clone(),
                sources,
                interval,
                move |event| {
                    on(Event::Reload {
                        label: &label,
                        event,
                    })
                },
            )));
        }
        let mut stopped = serving_stopped.clone();
        servers.push(tokio::spawn(serve_until(listener, service, async move {
            let _ = stopped.wait_for(|stop| *stop).await;
        })));
    }
    on(Event::Ready);
    stop.await;
    // Stop accepting; let the requests in flight finish; then save.
    let _ = stop_serving.send(true);
    for watcher in watchers {
        watcher.abort();
    }
    for server in servers {
        let _ = server.await;
    }
    if let Some(saver) = saver {
        let _ = stop_saving.send(true);
        let _ = saver.await;
    }
    on(Event::Stopped);
    Ok(())
}
