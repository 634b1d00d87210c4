//! State from the spec alone, held to the spec: each real spec in
//! `../shared/real-specs` is served with the fixture inference makes of
//! it, and a request built from the spec is sent to every operation, as a
//! client would use them: creates first, then reads and lists (which see
//! what was created), then changes, deletes last. Every answer must be
//! within the spec's contract as the runner judges it (a documented
//! status and media type, a body that fits its schema). A stored item
//! that does not fit the spec's answers (the request's fields under a
//! schema that is not the answer's) used to be answered 500 by 1 to 13
//! creates per spec.

mod common;

use common::{real_spec, send_sample, start};
use std::path::{Path, PathBuf};
use understudy::generate::request::sample_request;
use understudy::runner::conformance;
use understudy::runner::http::Incoming;
use understudy::spec::Api;

/// The answers of `spec`'s operations that are outside its contract.
async fn outside_the_contract(spec: &Path) -> (usize, Vec<String>) {
    let api = Api::load(spec).expect("the real spec loads");
    let name = spec.file_name().unwrap_or_default().to_string_lossy();
    let fixture = understudy::behaviour::infer::fixture(&api, &name);
    let (mock, api) = start(api, fixture).await;
    let mut outside = Vec::new();
    let mut sent = 0;
    let mut in_order: Vec<_> = api.operations.iter().collect();
    in_order.sort_by_key(|operation| match operation.method.as_str() {
        "PUT" | "POST" => 0,
        "GET" | "HEAD" => 1,
        "DELETE" => 3,
        _ => 2,
    });
    {
        for operation in in_order {
            let request = sample_request(&api, operation, 7);
            // DigitalOcean documents `PUT /<upload_url>`: a URL a client
            // is given, which no client can send as written.
            if request.target.parse::<hyper::Uri>().is_err() {
                eprintln!(
                    "notice: {} {} is no request target; not sent",
                    request.method, request.target
                );
                continue;
            }
            let answer = send_sample(mock.addr, &request).await;
            sent += 1;
            let what = format!("{} {}", request.method, request.target);
            if operation.response_for(answer.status).is_none() {
                outside.push(format!(
                    "{what}: status {} is not documented: {}",
                    answer.status,
                    String::from_utf8_lossy(&answer.body)
                ));
                continue;
            }
            let incoming = Incoming {
                status: answer.status,
                json: serde_json::from_slice(&answer.body).ok(),
                headers: answer.headers,
                body: answer.body,
            };
            let path = request.target.split('?').next().unwrap_or_default();
            let verdict = conformance::check(&api, &request.method, path, &incoming);
            for failure in verdict.failures {
                outside.push(format!("{what}: {}", failure.message));
            }
        }
    }
    (sent, outside)
}

async fn holds(spec: Option<PathBuf>) {
    let Some(spec) = spec else { return };
    let (sent, outside) = outside_the_contract(&spec).await;
    assert!(sent > 0);
    assert!(
        outside.is_empty(),
        "{}: {} of {sent} answers outside the contract:\n{}",
        spec.display(),
        outside.len(),
        outside.join("\n")
    );
}

#[tokio::test]
async fn hetzners_inferred_mock_stays_within_its_contract() {
    holds(real_spec("hetzner-cloud.json")).await;
}

#[tokio::test]
async fn discords_inferred_mock_stays_within_its_contract() {
    holds(real_spec("discord-openapi.json")).await;
}

#[tokio::test]
async fn mittwalds_inferred_mock_stays_within_its_contract() {
    holds(real_spec("mittwald-v2.json")).await;
}

#[tokio::test]
async fn stripes_inferred_mock_stays_within_its_contract() {
    holds(real_spec("stripe-spec3-2020-03-02.json")).await;
}

#[tokio::test]
async fn openais_inferred_mock_stays_within_its_contract() {
    holds(real_spec("openai-openapi.yaml")).await;
}

#[tokio::test]
async fn waldur_8s_inferred_mock_stays_within_its_contract() {
    holds(real_spec("waldur-8.0.5.yaml")).await;
}

#[tokio::test]
async fn the_2024_waldur_servers_inferred_mock_stays_within_its_contract() {
    holds(real_spec("waldur-2024-10-server-generated.yaml")).await;
}

#[tokio::test]
async fn digitaloceans_inferred_mock_stays_within_its_contract() {
    let Some(archive) = real_spec("digitalocean-v2-multifile.tar.gz") else {
        return;
    };
    let unpacked = std::env::temp_dir().join(format!("understudy-do-fit-{}", std::process::id()));
    std::fs::create_dir_all(&unpacked).expect("temp dir");
    let untarred = std::process::Command::new("tar")
        .arg("-xzf")
        .arg(&archive)
        .arg("-C")
        .arg(&unpacked)
        .status()
        .expect("tar runs");
    assert!(untarred.success());
    holds(Some(unpacked.join(
        "digitalocean-openapi/specification/DigitalOcean-public.v2.yaml",
    )))
    .await;
    let _ = std::fs::remove_dir_all(&unpacked);
}
