//! The mutation report: a summary per API, every survivor with what it
//! breaks and how to reproduce it, and the score; or the same as JSON.

use super::MutationReport;
use serde_json::{Value, json};
use std::fmt::Write;

/// The report as a person reads it.
pub fn terminal(report: &MutationReport) -> String {
    let mut out = String::new();
    let mut apis: Vec<&str> = Vec::new();
    for m in &report.mutants {
        if !apis.contains(&m.api.as_str()) {
            apis.push(&m.api);
        }
    }
    let _ = writeln!(
        out,
        "{} mutant{} of {} API{} in {:.1} s (the suite alone: {:.2} s per API)\n",
        report.mutants.len(),
        if report.mutants.len() == 1 { "" } else { "s" },
        apis.len(),
        if apis.len() == 1 { "" } else { "s" },
        report.duration.as_secs_f64(),
        report.baseline.as_secs_f64() / apis.len().max(1) as f64,
    );
    for api in &apis {
        let of_api: Vec<_> = report.mutants.iter().filter(|m| m.api == *api).collect();
        let killed = of_api.iter().filter(|m| m.killed_by.is_some()).count();
        let survived = of_api.len() - killed;
        let _ = write!(
            out,
            "  {api:<10} {:>4} mutants {killed:>4} killed",
            of_api.len()
        );
        if survived > 0 {
            let _ = write!(out, " {survived:>4} survived");
        }
        out.push('\n');
    }
    let survivors: Vec<_> = report
        .mutants
        .iter()
        .filter(|m| m.killed_by.is_none())
        .collect();
    if !survivors.is_empty() {
        out.push('\n');
        for m in &survivors {
            let _ = writeln!(
                out,
                "SURVIVED {}/{}\n  {}: no scenario failed\n  try it: understudy serve --mutant {}/{}",
                m.api,
                m.fault.id(),
                m.fault.describe(),
                m.api,
                m.fault.id()
            );
        }
    }
    let _ = writeln!(
        out,
        "\nscore {:.1}% ({} of {} killed)",
        floor_tenth(report.score()),
        report.killed(),
        report.mutants.len()
    );
    out
}

/// 99.96% is not 100.0%: round down, so only a perfect run shows 100.
fn floor_tenth(score: f64) -> f64 {
    (score * 10.0).floor() / 10.0
}

/// The report as JSON, one entry per mutant.
pub fn json(report: &MutationReport) -> Value {
    json!({
        "format": 1,
        "score": report.score(),
        "killed": report.killed(),
        "total": report.mutants.len(),
        "duration_ms": report.duration.as_millis() as u64,
        "mutants": report.mutants.iter().map(|m| json!({
            "api": m.api,
            "id": m.fault.id(),
            "kind": m.fault.kind(),
            "subject": m.fault.subject(),
            "fault": m.fault.describe(),
            "killed_by": m.killed_by,
        })).collect::<Vec<_>>(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::mock::fault::Fault;
    use crate::mutate::MutantResult;
    use std::time::Duration;

    #[test]
    fn survivors_are_named_with_a_way_to_reproduce_them() {
        let report = MutationReport {
            mutants: vec![
                MutantResult {
                    api: "waldur".into(),
                    fault: Fault::PageHeaders {
                        operation: "projects_list".into(),
                    },
                    killed_by: None,
                },
                MutantResult {
                    api: "waldur".into(),
                    fault: Fault::NoAuth,
                    killed_by: Some("waldur › auth".into()),
                },
                MutantResult {
                    api: "datallog".into(),
                    fault: Fault::ChangedMessage {
                        operation: "create-project".into(),
                    },
                    killed_by: Some("datallog › names".into()),
                },
            ],
            duration: Duration::from_millis(1500),
            baseline: Duration::from_millis(100),
        };
        insta::assert_snapshot!(terminal(&report));
        assert_eq!(json(&report)["killed"], 2);
    }
}
