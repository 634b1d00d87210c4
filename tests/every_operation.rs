//! Every operation of every spec answers a request built from the spec with
//! a response the same spec allows: documented status, valid body.

mod common;

use common::{real_spec, send_sample, start};
use understudy::behaviour::Fixture;
use understudy::contract::media;
use understudy::generate::request::sample_request;
use understudy::spec::Api;

/// Sends one sample request per operation; returns the failures, described.
async fn check_every_operation(api: Api, fixture: Fixture) -> (usize, Vec<String>) {
    let (mock, api) = start(api, fixture).await;
    let mut failures = Vec::new();
    for operation in &api.operations {
        let request = sample_request(&api, operation, 11);
        let answer = send_sample(mock.addr, &request).await;
        let what = format!("{} {} ({})", request.method, request.target, operation.id);
        let has_success = operation.responses.iter().any(|r| {
            r.status.code() / 100 == 2 && r.status != understudy::spec::StatusKey::Default
        });
        if has_success && !(200..300).contains(&answer.status) {
            failures.push(format!(
                "{what}: status {} for a valid request: {}",
                answer.status,
                String::from_utf8_lossy(&answer.body)
            ));
            continue;
        }
        let Some(spec) = operation.response_for(answer.status) else {
            failures.push(format!(
                "{what}: status {} is not documented",
                answer.status
            ));
            continue;
        };
        if answer.body.is_empty() {
            if !spec.media.is_empty() && !matches!(answer.status, 204 | 205 | 304) {
                failures.push(format!(
                    "{what}: empty body where the spec documents content"
                ));
            }
            continue;
        }
        let content_type = answer
            .header("content-type")
            .unwrap_or_default()
            .to_string();
        let Some(media) = media::documented(&spec.media, &content_type) else {
            failures.push(format!(
                "{what}: content type {content_type} is not documented"
            ));
            continue;
        };
        if let Some(slot) = &media.schema {
            let compiled = api.compiled(slot).expect("response schema compiles");
            let body = answer.json();
            let errors: Vec<String> = compiled
                .errors(&body)
                .into_iter()
                .map(|e| format!("{} at {}", e, e.pointer))
                .collect();
            if !errors.is_empty() {
                failures.push(format!(
                    "{what}: body does not fit the schema: {}",
                    errors.join("; ")
                ));
            }
        }
    }
    (api.operations.len(), failures)
}

#[tokio::test]
async fn every_bundled_operation_answers_within_its_spec() {
    for bundled in understudy::behaviour::bundled::BUNDLED.iter() {
        let (api, mut fixture) = bundled.load().expect("bundled API loads");
        // Requests made up from the spec name resources no session holds, so
        // the fixture's rules would rightly answer 404. This test is about the
        // spec-driven answers and error shapes; tests/behaviour_*.rs cover the
        // rules. Made-up credentials name no user either: the fixture's
        // users go too.
        fixture.model.operations.clear();
        fixture.model.access = None;
        let (count, failures) = check_every_operation(api, fixture).await;
        assert!(count > 0);
        assert!(
            failures.is_empty(),
            "{}: {} of {count} operations failed:\n{}",
            bundled.name,
            failures.len(),
            failures.join("\n")
        );
    }
}

async fn real(file: &str, expected_operations: usize) {
    let Some(path) = real_spec(file) else { return };
    let api = Api::load(&path).expect("the real spec loads");
    let (count, failures) = check_every_operation(api, Fixture::default()).await;
    assert_eq!(count, expected_operations);
    assert!(
        failures.is_empty(),
        "{file}: {} of {count} operations failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[tokio::test]
async fn every_mittwald_real_operation_answers_within_its_spec() {
    real("mittwald-v2.json", 670).await;
}

#[tokio::test]
async fn every_waldur_real_operation_answers_within_its_spec() {
    real("waldur-8.0.5.yaml", 2311).await;
}
