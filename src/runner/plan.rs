//! Which scenarios run, against which API: files are found and checked,
//! each is tied to a spec, and `--filter`, `--tag` and `--shard` select.
//! Everything that can be wrong with the input is found here, before a
//! single request is sent.

use super::{RunError, RunOptions};
use crate::behaviour::Fixture;
use crate::mock::reload::Sources;
use crate::scenario::{ApiChoice, Scenario, ScenarioFile};
use crate::spec::Api;
use std::path::PathBuf;
use std::sync::Arc;

/// A spec the run checks responses against, and the fixture its
/// in-process mock would serve.
pub struct PlannedApi {
    /// The bundled API's name, or the spec file's stem.
    pub label: String,
    pub api: Arc<Api>,
    pub fixture: Arc<Fixture>,
}

/// One scenario to run.
pub struct Planned {
    pub api: usize,
    pub file: PathBuf,
    pub scenario: Scenario,
}

pub struct Plan {
    pub apis: Vec<PlannedApi>,
    pub scenarios: Vec<Planned>,
}

/// `i/n`: the i-th of n shares (1-based), for CI matrices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl std::str::FromStr for Shard {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let bad = || format!("`--shard {text}`: write i/n with 1 <= i <= n, e.g. --shard 2/4");
        let (i, n) = text.split_once('/').ok_or_else(bad)?;
        let index: usize = i.trim().parse().map_err(|_| bad())?;
        let count: usize = n.trim().parse().map_err(|_| bad())?;
        if index == 0 || count == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

pub fn plan(options: &RunOptions) -> Result<Plan, RunError> {
    let paths = crate::scenario::discover(&options.paths)?;
    if paths.is_empty() {
        return Err(RunError::unusable(
            "no scenario files (*.yaml, *.yml, *.json) under the paths given",
        ));
    }
    let var_names: Vec<String> = options.vars.iter().map(|(k, _)| k.clone()).collect();
    let mut apis: Vec<PlannedApi> = Vec::new();
    let mut keys: Vec<ApiChoice> = Vec::new();
    let mut all = Vec::new();
    for path in paths {
        let file =
            ScenarioFile::load(&path).and_then(|f| f.check_variables(&var_names).map(|()| f))?;
        let choice = match (&options.spec, &file.api) {
            (Some(spec), _) => ApiChoice::Spec {
                path: spec.clone(),
                overlays: Vec::new(),
            },
            (None, ApiChoice::Unstated) => {
                return Err(RunError::with_file(
                    "which API is this for? Add `api: <bundled name>` or \
                     `spec: <openapi file>` to the file, or pass --spec",
                    &path,
                ));
            }
            (None, choice) => choice.clone(),
        };
        let index = match keys.iter().position(|k| *k == choice) {
            Some(i) => i,
            None => {
                apis.push(load_api(&choice, options)?);
                keys.push(choice);
                apis.len() - 1
            }
        };
        for scenario in file.scenarios {
            all.push(Planned {
                api: index,
                file: path.clone(),
                scenario,
            });
        }
    }
    let selected = select(all, options)?;
    Ok(Plan {
        apis,
        scenarios: selected,
    })
}

fn load_api(choice: &ApiChoice, options: &RunOptions) -> Result<PlannedApi, RunError> {
    match choice {
        ApiChoice::Bundled(name) => {
            let bundled = crate::behaviour::bundled::find(name)
                .ok_or_else(|| RunError::unusable(format!("no bundled API `{name}`")))?;
            let (api, mut fixture) = bundled
                .load_shared()
                .map_err(|e| RunError::unusable(format!("bundled API {name}: {e}")))?;
            for (k, v) in &options.vars {
                fixture.model.vars.insert(k.clone(), v.clone());
            }
            Ok(PlannedApi {
                label: name.clone(),
                api,
                fixture: Arc::new(fixture),
            })
        }
        ApiChoice::Spec {
            path: spec,
            overlays,
        } => {
            let overlays = [options.overlays.as_slice(), overlays].concat();
            let (_, api, fixture) = Sources::open(
                Some(spec.clone()),
                options.fixture.clone(),
                &overlays,
                options.stateless,
            )?;
            let label = spec
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "api".into());
            Ok(PlannedApi {
                label,
                api: Arc::new(api),
                fixture: Arc::new(fixture),
            })
        }
        ApiChoice::Unstated => Err(RunError::unusable(
            "a scenario file does not say which API it is for",
        )),
    }
}

/// Applies `--filter`, `--tag` and then `--shard` (over what is left, so
/// shards split the selected scenarios evenly). A selection that leaves
/// nothing is an error listing what there is: a typo must not pass as a
/// run with nothing to fail. (An empty shard is fine: a CI matrix may have
/// more shards than scenarios.)
fn select(all: Vec<Planned>, options: &RunOptions) -> Result<Vec<Planned>, RunError> {
    let filter = options.filter.as_ref().map(|f| f.to_lowercase());
    let wanted = |p: &Planned| {
        filter.as_ref().is_none_or(|f| {
            p.scenario.name.to_lowercase().contains(f)
                || p.file.to_string_lossy().to_lowercase().contains(f)
        }) && (options.tags.is_empty() || p.scenario.tags.iter().any(|t| options.tags.contains(t)))
            && !p
                .scenario
                .tags
                .iter()
                .any(|t| options.skip_tags.contains(t))
    };
    if !all.is_empty() && !all.iter().any(wanted) {
        return Err(RunError::unusable(nothing_selected(&all, options)));
    }
    let picked = all.into_iter().filter(|p| wanted(p));
    Ok(match options.shard {
        None => picked.collect(),
        Some(shard) => picked
            .enumerate()
            .filter(|(i, _)| i % shard.count == shard.index - 1)
            .map(|(_, p)| p)
            .collect(),
    })
}

/// Says which selection matched nothing, and what there is to select.
fn nothing_selected(all: &[Planned], options: &RunOptions) -> String {
    let mut asked = Vec::new();
    if let Some(filter) = &options.filter {
        asked.push(format!("--filter {filter}"));
    }
    asked.extend(options.tags.iter().map(|t| format!("--tag {t}")));
    asked.extend(options.skip_tags.iter().map(|t| format!("--skip-tag {t}")));
    let mut tags: Vec<&str> = all
        .iter()
        .flat_map(|p| p.scenario.tags.iter().map(String::as_str))
        .collect();
    tags.sort_unstable();
    tags.dedup();
    let names: Vec<&str> = all.iter().map(|p| p.scenario.name.as_str()).collect();
    const SHOWN: usize = 20;
    let mut listed = names[..names.len().min(SHOWN)].join(", ");
    if names.len() > SHOWN {
        listed.push_str(&format!(", … ({} in all)", names.len()));
    }
    format!(
        "no scenario matches {}\n  tags: {}\n  scenarios: {listed}",
        asked.join(" "),
        if tags.is_empty() {
            "(none)".to_string()
        } else {
            tags.join(", ")
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_read_strictly() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "1/0", "x/2", "3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }
}
