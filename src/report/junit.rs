//! JUnit XML, which every CI system reads: a test suite per API, a test
//! case per scenario (its class name is the file), the failure text the
//! same as the terminal shows, without colour.

use super::terminal::describe_scenario;
use super::{Outcome, Report};
use quick_junit::{NonSuccessKind, TestCase, TestCaseStatus, TestSuite};
use std::time::Duration;

pub fn render(report: &Report) -> Result<String, quick_junit::SerializeError> {
    let mut junit = quick_junit::Report::new("understudy");
    junit.set_time(Duration::from_millis(report.duration_ms));
    let started = report
        .started_at
        .as_deref()
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok());
    if let Some(started) = started {
        junit.set_timestamp(started);
    }
    let mut apis: Vec<&str> = report.scenarios.iter().map(|s| s.api.as_str()).collect();
    apis.sort_unstable();
    apis.dedup();
    for api in apis {
        let mut suite = TestSuite::new(api);
        if let Some(started) = started {
            suite.set_timestamp(started);
        }
        let mut time = 0;
        for scenario in report.scenarios.iter().filter(|s| s.api == api) {
            time += scenario.duration_ms;
            let status = match scenario.outcome {
                Outcome::Passed => TestCaseStatus::success(),
                Outcome::Skipped => TestCaseStatus::skipped(),
                Outcome::Failed | Outcome::Error => {
                    let kind = if scenario.outcome == Outcome::Failed {
                        NonSuccessKind::Failure
                    } else {
                        NonSuccessKind::Error
                    };
                    let mut status = TestCaseStatus::non_success(kind);
                    let first = scenario
                        .steps
                        .iter()
                        .flat_map(|s| s.failures.iter())
                        .next()
                        .map(|f| format!("{}: {}", f.check, f.message))
                        .or_else(|| scenario.error.clone())
                        .unwrap_or_else(|| "failed".into());
                    status.set_message(first);
                    status.set_type(if kind == NonSuccessKind::Failure {
                        "contract"
                    } else {
                        "transport"
                    });
                    status.set_description(describe_scenario(scenario, false));
                    status
                }
            };
            let mut case = TestCase::new(scenario.name.as_str(), status);
            case.set_classname(scenario.file.as_str());
            // Where the scenario is written, as annotation actions read it.
            if !scenario.file.is_empty() {
                case.extra
                    .insert("file".into(), scenario.file.as_str().into());
            }
            if let Some(line) = scenario.line {
                case.extra.insert("line".into(), line.to_string().into());
            }
            case.set_time(Duration::from_millis(scenario.duration_ms));
            let notes: Vec<&str> = scenario
                .steps
                .iter()
                .flat_map(|s| s.notes.iter().map(String::as_str))
                .collect();
            if !notes.is_empty() {
                case.set_system_out(notes.join("\n"));
            }
            suite.add_test_case(case);
        }
        suite.set_time(Duration::from_millis(time));
        junit.add_test_suite(suite);
    }
    junit.to_string()
}
