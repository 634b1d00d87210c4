//! Hot reload: the files a mock was started from are polled, and an edit
//! puts the new spec and fixture in force without a restart. State is kept
//! when the collections keep their names and keys; otherwise every session
//! restarts from the seed data, and the log says which. A broken edit is
//! reported and the last good version keeps serving.
//!
//! Polling (not inotify) keeps this portable and dependency-free; files a
//! spec pulls in through `$ref` are not watched, only the spec and fixture.

use super::server::{MockService, Reloaded};
use crate::behaviour::Fixture;
use crate::behaviour::FixtureError;
use crate::behaviour::bundled::BundledError;
use crate::source::{SourceError, SourceLocation};
use crate::spec::{Api, Overlay, SpecError};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

/// Why an API (spec, overlays and fixture) does not load.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Spec(Box<SpecError>),
    #[error(transparent)]
    Fixture(Box<FixtureError>),
    /// The spec a fixture's `spec:` names cannot be read; `at` is that line.
    #[error("the spec `{}` cannot be read: {reason}", path.display())]
    NamedSpecUnreadable {
        path: PathBuf,
        reason: String,
        at: SourceLocation,
    },
    #[error("this fixture names no spec: add `spec: PATH` to it, or give --spec FILE")]
    FixtureNamesNoSpec { at: SourceLocation },
    #[error("give --spec FILE, or a fixture with a `spec:` path")]
    NoSpec,
    #[error("bundled API {name}: {error}")]
    Bundled {
        name: String,
        error: Box<BundledError>,
    },
}

impl From<SpecError> for LoadError {
    fn from(error: SpecError) -> Self {
        LoadError::Spec(Box::new(error))
    }
}

impl From<FixtureError> for LoadError {
    fn from(error: FixtureError) -> Self {
        LoadError::Fixture(Box::new(error))
    }
}

impl LoadError {
    /// The file and line to show, when the problem has one.
    pub fn location(&self) -> Option<SourceLocation> {
        match self {
            LoadError::Spec(e) => Some(e.location()),
            LoadError::Fixture(e) => Some(e.location()),
            LoadError::NamedSpecUnreadable { at, .. } | LoadError::FixtureNamesNoSpec { at } => {
                Some(at.clone())
            }
            LoadError::NoSpec | LoadError::Bundled { .. } => None,
        }
    }
}

/// Where a served API comes from, so it can be loaded again.
#[derive(Debug, Clone)]
pub struct Sources {
    pub spec: PathBuf,
    pub fixture: Option<PathBuf>,
    /// `--var` overrides, applied after every load.
    pub vars: Vec<(String, Value)>,
    /// `--overlay` files, applied to the spec before the fixture's own `overlays:`.
    pub overlays: Vec<PathBuf>,
    /// `--stateless`: with no fixture, answer from the spec alone instead
    /// of inferring resources from it.
    pub stateless: bool,
}

impl Sources {
    /// The first load: the spec is `spec`, else the one the fixture names
    /// with `spec:`. Each file is read once.
    pub fn open(
        spec: Option<PathBuf>,
        fixture: Option<PathBuf>,
        overlays: &[PathBuf],
        stateless: bool,
    ) -> Result<(Sources, Api, Fixture), LoadError> {
        let loaded = read_fixture(fixture.as_deref())?;
        let Some(spec) = spec.or_else(|| loaded.spec.clone()) else {
            return Err(match &loaded.source {
                Some(document) => LoadError::FixtureNamesNoSpec {
                    at: document.locate(""),
                },
                None => LoadError::NoSpec,
            });
        };
        let sources = Sources {
            spec,
            fixture,
            vars: Vec::new(),
            overlays: overlays.to_vec(),
            stateless,
        };
        let (api, loaded) = sources.finish(loaded)?;
        Ok((sources, api, loaded))
    }

    /// Loads and binds both files.
    pub fn load(&self) -> Result<(Api, Fixture), LoadError> {
        self.finish(read_fixture(self.fixture.as_deref())?)
    }

    /// Loads the spec, binds `fixture` to it and applies the `--var`s.
    fn finish(&self, mut fixture: Fixture) -> Result<(Api, Fixture), LoadError> {
        let mut overlays = Vec::new();
        for path in self.overlays.iter().chain(&fixture.overlays) {
            overlays.push(Overlay::load(path)?);
        }
        let api = Api::load_with_overlays(&self.spec, &overlays).map_err(|e| {
            match (e, &fixture.source) {
                // A spec the fixture names but that cannot be read: point at
                // the fixture's `spec:` line, where the path was written.
                (SpecError::Source(SourceError::Read { path, reason }), Some(document))
                    if fixture.spec.as_deref() == Some(path.as_path()) =>
                {
                    LoadError::NamedSpecUnreadable {
                        path,
                        reason,
                        at: document.locate("/spec"),
                    }
                }
                (e, _) => LoadError::from(e),
            }
        })?;
        if self.fixture.is_none() && !self.stateless {
            // No fixture: resources inferred from the spec, as `init` writes them.
            fixture = crate::behaviour::infer::fixture(&api, &self.spec_name());
        } else {
            fixture.bind(&api)?;
            if !self.stateless {
                // Operations the fixture does not name: inferred beside it.
                fixture = crate::behaviour::infer::compose(&api, &self.spec_name(), fixture);
            }
        }
        for (name, value) in &self.vars {
            fixture.model.vars.insert(name.clone(), value.clone());
        }
        Ok((api, fixture))
    }

    /// The spec's file name, naming it in inferred entries.
    fn spec_name(&self) -> String {
        self.spec.file_name().map_or_else(
            || self.spec.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    fn stamps(&self) -> Vec<Option<(SystemTime, u64)>> {
        std::iter::once(&self.spec)
            .chain(self.fixture.as_ref())
            .chain(&self.overlays)
            .map(|path| {
                std::fs::metadata(path)
                    .ok()
                    .and_then(|m| m.modified().ok().map(|t| (t, m.len())))
            })
            .collect()
    }
}

fn read_fixture(path: Option<&std::path::Path>) -> Result<Fixture, LoadError> {
    match path {
        Some(path) => Ok(Fixture::load(path)?),
        None => Ok(Fixture::default()),
    }
}

/// What one reload attempt did, for the log and for tests.
#[derive(Debug)]
pub enum ReloadEvent {
    Applied(Reloaded),
    /// The edit does not load; the previous version keeps serving.
    Refused(LoadError),
}

/// Polls `sources` every `interval` until the task is dropped, reporting
/// each reload through `report`.
pub async fn watch(
    service: Arc<MockService>,
    sources: Sources,
    interval: Duration,
    report: impl Fn(&ReloadEvent) + Send + 'static,
) {
    let mut seen = sources.stamps();
    loop {
        tokio::time::sleep(interval).await;
        let now = sources.stamps();
        if now == seen {
            continue;
        }
        // Editors write in steps; let the file settle before reading it.
        tokio::time::sleep(Duration::from_millis(50)).await;
        seen = sources.stamps();
        let event = match sources.load() {
            Ok((api, fixture)) => {
                ReloadEvent::Applied(service.replace(Arc::new(api), Arc::new(fixture)))
            }
            Err(error) => ReloadEvent::Refused(error),
        };
        report(&event);
    }
}
