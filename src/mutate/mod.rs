//! `understudy mutate`: does the conformance suite notice a broken
//! implementation? Each mutant is the mock with one contract-breaking
//! fault ([`crate::mock::fault::Fault`], derived in [`derive`]); the suite
//! runs against each, and a mutant is killed when at least one scenario
//! fails. Survivors name the fault and the operation, i.e. the test the
//! suite is missing.
//!
//! Every mutant is its own mock on its own port, so mutants run in
//! parallel without sharing state; the suite is first run against the
//! unmutated mock, because a suite that fails there kills everything and
//! proves nothing.

pub mod derive;
pub mod report;

use crate::behaviour::Fixture;
use crate::behaviour::bundled::BundledApi;
use crate::mock::fault::Fault;
use crate::mock::reload::{LoadError, Sources};
use crate::mock::{MockOptions, MockService, RunningMock};
use crate::report::Outcome;
use crate::runner::{RunError, RunOptions, TargetArg};
use crate::scenario::{ApiChoice, ScenarioFile};
use crate::spec::Api;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// What `understudy mutate` was asked to do.
#[derive(Debug, Clone)]
pub struct MutateOptions {
    pub paths: Vec<PathBuf>,
    /// One spec (and fixture) for every scenario, instead of their `api:`.
    pub spec: Option<PathBuf>,
    pub fixture: Option<PathBuf>,
    /// Overlays applied to `spec` first.
    pub overlays: Vec<PathBuf>,
    /// Mutants run at once.
    pub jobs: usize,
    /// The snapshots the suite compares with (never written here).
    pub snapshots: PathBuf,
    /// Only mutants whose id contains this text.
    pub only: Option<String>,
}

/// How far a mutation run has got, for a progress line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// The suite runs against the unmutated mock of `api` first.
    Baseline { api: String },
    /// `mutants` are about to be tried.
    Trying { mutants: usize, jobs: usize },
    /// One more mutant was tried.
    Tried { killed: bool },
}

/// One mutant's fate.
#[derive(Debug, Clone)]
pub struct MutantResult {
    pub api: String,
    pub fault: Fault,
    /// The first scenario that failed against it; `None`: it survived.
    pub killed_by: Option<String>,
}

/// Everything a mutation run found.
#[derive(Debug, Clone)]
pub struct MutationReport {
    pub mutants: Vec<MutantResult>,
    pub duration: Duration,
    /// The suite's own time against the unmutated mocks.
    pub baseline: Duration,
}

impl MutationReport {
    pub fn killed(&self) -> usize {
        self.mutants
            .iter()
            .filter(|m| m.killed_by.is_some())
            .count()
    }

    /// Killed mutants in percent; 100 when there are none.
    pub fn score(&self) -> f64 {
        if self.mutants.is_empty() {
            return 100.0;
        }
        self.killed() as f64 * 100.0 / self.mutants.len() as f64
    }
}

/// Where an API's spec and fixture come from; loaded afresh per mutant,
/// so a fault applied to one fixture never leaks into another.
#[derive(Clone)]
enum Source {
    Bundled(&'static BundledApi),
    Files(Sources),
}

impl Source {
    fn load(&self) -> Result<(Arc<Api>, Fixture), LoadError> {
        match self {
            Source::Bundled(bundled) => bundled.load_shared().map_err(|error| LoadError::Bundled {
                name: bundled.name.to_string(),
                error: Box::new(error),
            }),
            Source::Files(sources) => sources
                .load()
                .map(|(api, fixture)| (Arc::new(api), fixture)),
        }
    }
}

/// The scenario files of one API.
#[derive(Clone)]
struct Group {
    label: String,
    source: Source,
    files: Vec<PathBuf>,
}

/// Runs the suite against every mutant of every API its scenarios use.
pub async fn run(
    options: &MutateOptions,
    progress: &(dyn Fn(Progress) + Sync),
) -> Result<MutationReport, RunError> {
    let started = Instant::now();
    let groups = groups(options)?;
    // Mutants first: `--only` is checked before any suite runs, and with
    // it only the groups with a mutant to try run their suite unmutated.
    let mut work = Vec::new();
    let mut every_id = Vec::new();
    for group in &groups {
        let (api, fixture) = group.source.load()?;
        for fault in derive::mutants(&api, &fixture) {
            // The id as the report prints it (`waldur/drop-field:…`) or without its API.
            let full_id = format!("{}/{}", group.label, fault.id());
            if options.only.as_deref().is_none_or(|o| full_id.contains(o)) {
                work.push((group, fault));
            }
            every_id.push(full_id);
        }
    }
    if let Some(only) = &options.only
        && work.is_empty()
    {
        const SHOWN: usize = 15;
        let mut listed = every_id[..every_id.len().min(SHOWN)].join("\n    ");
        if every_id.len() > SHOWN {
            listed.push_str(&format!("\n    … ({} in all)", every_id.len()));
        }
        return Err(RunError::unusable(format!(
            "`--only {only}` matches no mutant; the mutants are:\n    {listed}"
        )));
    }
    let mut baseline = Duration::ZERO;
    for group in &groups {
        let selected = work.iter().any(|(g, _)| std::ptr::eq(*g, group));
        if options.only.is_some() && !selected {
            continue;
        }
        let before = Instant::now();
        progress(Progress::Baseline {
            api: group.label.clone(),
        });
        if let Some(failed) = run_suite(options, group, None).await? {
            return Err(RunError::unusable(format!(
                "the suite fails against the unmutated {} mock (scenario `{failed}`); \
                 fix it with `understudy run` first: a failing suite kills every mutant and \
                 proves nothing",
                group.label
            )));
        }
        baseline += before.elapsed();
    }
    progress(Progress::Trying {
        mutants: work.len(),
        jobs: options.jobs.clamp(1, work.len().max(1)),
    });
    let gate = Arc::new(tokio::sync::Semaphore::new(options.jobs.max(1)));
    let mut results = Vec::new();
    let mut running = tokio::task::JoinSet::new();
    for (index, (group, fault)) in work.into_iter().enumerate() {
        let gate = gate.clone();
        let options = options.clone();
        let group = group.clone();
        running.spawn(async move {
            let _permit = gate.acquire_owned().await;
            let outcome = run_suite(&options, &group, Some(&fault)).await;
            (index, group.label, fault, outcome)
        });
    }
    while let Some(joined) = running.join_next().await {
        let (index, api, fault, outcome) = joined
            .map_err(|e| RunError::unusable(format!("a mutant's run stopped unexpectedly: {e}")))?;
        let killed_by = outcome?;
        progress(Progress::Tried {
            killed: killed_by.is_some(),
        });
        results.push((
            index,
            MutantResult {
                api,
                fault,
                killed_by,
            },
        ));
    }
    results.sort_by_key(|(index, _)| *index);
    Ok(MutationReport {
        mutants: results.into_iter().map(|(_, r)| r).collect(),
        duration: started.elapsed(),
        baseline,
    })
}

/// The scenario files grouped by the API they are for.
fn groups(options: &MutateOptions) -> Result<Vec<Group>, RunError> {
    let files = crate::scenario::discover(&options.paths)?;
    if files.is_empty() {
        return Err(RunError::unusable(
            "no scenario files (*.yaml, *.yml, *.json) under the paths given",
        ));
    }
    let mut groups: Vec<Group> = Vec::new();
    for path in files {
        let file = ScenarioFile::load(&path)?;
        let (label, source) = match (&options.spec, &file.api) {
            (Some(spec), _)
            | (
                None,
                ApiChoice::Spec {
                    path: spec,
                    overlays: _,
                },
            ) => {
                let own: &[std::path::PathBuf] = match (&options.spec, &file.api) {
                    (None, ApiChoice::Spec { overlays, .. }) => overlays,
                    _ => &[],
                };
                let overlays = [options.overlays.as_slice(), own].concat();
                let (sources, _, _) = Sources::open(
                    Some(spec.clone()),
                    options.fixture.clone(),
                    &overlays,
                    false,
                )?;
                let label = spec
                    .file_stem()
                    .map_or_else(|| "api".into(), |s| s.to_string_lossy().into_owned());
                (label, Source::Files(sources))
            }
            (None, ApiChoice::Bundled(name)) => {
                let bundled = crate::behaviour::bundled::find(name)
                    .ok_or_else(|| RunError::unusable(format!("no bundled API `{name}`")))?;
                (name.clone(), Source::Bundled(bundled))
            }
            (None, ApiChoice::Unstated) => {
                return Err(RunError::with_file(
                    "which API is this for? Add `api: <bundled name>` or \
                     `spec: <openapi file>` to the file, or pass --spec",
                    &path,
                ));
            }
        };
        match groups.iter_mut().find(|g| g.label == label) {
            Some(group) => group.files.push(path),
            None => groups.push(Group {
                label,
                source,
                files: vec![path],
            }),
        }
    }
    Ok(groups)
}

/// Runs a group's scenarios against its mock with `fault`; the first
/// scenario that did not pass, or `None` when all passed.
async fn run_suite(
    options: &MutateOptions,
    group: &Group,
    fault: Option<&Fault>,
) -> Result<Option<String>, RunError> {
    let (api, mut fixture) = group.source.load()?;
    if let Some(fault) = fault {
        fault.apply_to_fixture(&mut fixture);
    }
    let service = MockService::new(
        api,
        Arc::new(fixture),
        MockOptions {
            label: group.label.clone(),
            quiet: true,
            fault: fault.cloned(),
            ..MockOptions::default()
        },
    );
    let mock = RunningMock::start(service)
        .await
        .map_err(|e| RunError::unusable(format!("cannot start a mock on 127.0.0.1: {e}")))?;
    let run = RunOptions {
        paths: group.files.clone(),
        targets: vec![TargetArg {
            api: None,
            url: mock.url(),
        }],
        spec: options.spec.clone(),
        fixture: options.fixture.clone(),
        overlays: options.overlays.clone(),
        jobs: 8,
        request_timeout: Duration::from_secs(10),
        scenario_timeout: Duration::from_secs(60),
        snapshots: crate::snapshot::Settings {
            dir: options.snapshots.clone(),
            accept: false,
            accept_new: false,
            ci: true,
            read_only: true,
        },
        ..RunOptions::default()
    };
    let report = crate::runner::run(&run, Arc::new(|_| {})).await?;
    drop(mock);
    Ok(report
        .scenarios
        .iter()
        .find(|s| s.outcome != Outcome::Passed)
        .map(|s| format!("{} › {}", s.api, s.name)))
}
