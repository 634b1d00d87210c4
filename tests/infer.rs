//! Zero-config state: a spec served with no fixture remembers what clients
//! create, as inferred from its paths. Each round trip (create, read, list,
//! update, read, delete, then the spec's 404) runs with `understudy run
//! --spec`, which also checks every answer against the spec; the scenarios
//! and two small specs are in `tests/data/infer/`.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn understudy(args: &[&std::ffi::OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_understudy"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("INSTA_UPDATE")
        .output()
        .expect("the binary runs")
}

/// `run --spec SPEC SCENARIO` and extra flags; exit code and stdout.
fn run(spec: &Path, scenario: &str, extra: &[&str]) -> (Option<i32>, String) {
    let scenario = PathBuf::from("tests/data/infer").join(scenario);
    let mut args: Vec<&std::ffi::OsStr> = vec!["run".as_ref(), "--spec".as_ref(), spec.as_os_str()];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    args.push(scenario.as_os_str());
    let output = understudy(&args);
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned()
            + &String::from_utf8_lossy(&output.stderr),
    )
}

/// What `serve` with `args` logs by the time it is ready.
fn start_log(args: &[&str]) -> String {
    let mut all = vec!["serve"];
    all.extend_from_slice(args);
    all.extend(["--port", "0", "--no-reload"]);
    let (mut server, _, _) =
        common::spawn_binary_with_banner(&all.iter().map(std::ffi::OsStr::new).collect::<Vec<_>>());
    let _ = server.kill();
    let _ = server.wait();
    let mut log = String::new();
    let _ = std::io::Read::read_to_string(&mut server.stderr.take().expect("stderr"), &mut log);
    log
}

#[test]
fn small_specs_of_each_shape_round_trip_with_no_fixture() {
    for (spec, scenario, steps) in [
        // Envelopes, page pagination, a filter, a field that does not fit.
        ("pets.openapi.yaml", "pets.yaml", "12 steps"),
        // Bare items and lists, offset pagination, PUT, nested products.
        ("shop.openapi.yaml", "shop.yaml", "15 steps"),
        // Keys named by the client (PUT creates), JSON Merge Patch, cursor
        // pagination, errors documented only as `default`, a singleton.
        ("notes.openapi.yaml", "notes.yaml", "16 steps"),
    ] {
        let spec = PathBuf::from("tests/data/infer").join(spec);
        let (code, out) = run(&spec, scenario, &[]);
        assert_eq!(code, Some(0), "{scenario}: {out}");
        assert!(
            out.contains(&format!("passed; {steps}")) && !out.contains("failed"),
            "{out}"
        );
    }
}

#[test]
fn stateless_turns_inference_off() {
    let spec = PathBuf::from("tests/data/infer/pets.openapi.yaml");
    let (code, out) = run(&spec, "pets.yaml", &["--stateless"]);
    assert_eq!(code, Some(1), "a create is not remembered: {out}");
}

#[test]
fn init_writes_the_fixture_serve_infers_and_it_behaves_the_same() {
    let dir = std::env::temp_dir().join(format!("understudy-init-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let out = dir.join("fixtures/pets.yaml");
    let spec = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/infer/pets.openapi.yaml");
    let written = understudy(&[
        "init".as_ref(),
        "--spec".as_ref(),
        spec.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    let stderr = String::from_utf8_lossy(&written.stderr);
    assert_eq!(written.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("inferred pets: POST /pets, GET/PATCH/DELETE /pets/{id}, list GET /pets (page, per_page)"),
        "{stderr}"
    );
    let text = std::fs::read_to_string(&out).expect("the fixture is written");
    // It says where each part came from, and names its spec from its folder.
    assert!(
        text.contains("# create: POST /pets stores the request's fields"),
        "{text}"
    );
    assert!(
        text.contains("# pets: POST /pets, GET/PATCH/DELETE /pets/{id}"),
        "{text}"
    );
    let named = text
        .lines()
        .find_map(|l| l.strip_prefix("spec: "))
        .expect("a spec line");
    let named = out
        .parent()
        .expect("a folder")
        .join(named.trim_matches('"'));
    assert_eq!(
        named.canonicalize().expect("the spec it names exists"),
        spec.canonicalize().expect("the spec")
    );
    // The printed fixture is the same text.
    let printed = understudy(&["init".as_ref(), "--spec".as_ref(), spec.as_os_str()]);
    let printed = String::from_utf8_lossy(&printed.stdout);
    let body = |t: &str| {
        t.lines()
            .filter(|l| !l.starts_with("spec:"))
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(body(&printed), body(&text));
    // Loaded as an ordinary fixture, it passes the same round trip.
    let (code, out_text) = run(
        &spec,
        "pets.yaml",
        &["--fixture", out.to_str().expect("utf-8")],
    );
    assert_eq!(code, Some(0), "{out_text}");
    // An existing file is not replaced without --force.
    let again = understudy(&[
        "init".as_ref(),
        "--spec".as_ref(),
        spec.as_os_str(),
        "--out".as_ref(),
        out.as_os_str(),
    ]);
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("--force replaces it"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn serve_quiet_logs_nothing_of_what_it_inferred() {
    let log = start_log(&["tests/data/infer/pets.openapi.yaml", "--quiet"]);
    assert!(!log.contains("inferred"), "{log}");
}

#[test]
fn serve_says_what_it_inferred_and_what_it_left_to_the_spec() {
    let log = start_log(&["tests/data/infer/pets.openapi.yaml"]);
    assert!(
        log.contains(
            "pets.openapi inferred pets: POST /pets, GET/PATCH/DELETE /pets/{id}, list GET /pets (page, per_page)"
        ),
        "{log}"
    );
}

#[test]
fn real_specs_round_trip_with_no_fixture() {
    let Some(hetzner) = common::real_spec("hetzner-cloud.json") else {
        return;
    };
    let Some(stripe) = common::real_spec("stripe-spec3-2020-03-02.json") else {
        return;
    };
    let Some(tarball) = common::real_spec("digitalocean-v2-multifile.tar.gz") else {
        return;
    };
    let unpacked = std::env::temp_dir().join(format!("understudy-infer-do-{}", std::process::id()));
    std::fs::create_dir_all(&unpacked).expect("scratch folder");
    let untar = Command::new("tar")
        .arg("-xzf")
        .arg(&tarball)
        .arg("-C")
        .arg(&unpacked)
        .status()
        .expect("tar runs");
    assert!(untar.success());
    let digitalocean =
        unpacked.join("digitalocean-openapi/specification/DigitalOcean-public.v2.yaml");
    for (spec, scenario, expected) in [
        (
            &hetzner,
            "hetzner-cloud.yaml",
            "2 scenarios: 2 passed; 14 steps",
        ),
        (
            &digitalocean,
            "digitalocean.yaml",
            "2 scenarios: 2 passed; 12 steps",
        ),
        (
            &stripe,
            "stripe-spec3-2020-03-02.yaml",
            "1 scenario: 1 passed; 10 steps",
        ),
    ] {
        let (code, out) = run(spec, scenario, &[]);
        assert_eq!(code, Some(0), "{scenario}: {out}");
        assert!(out.contains(expected), "{scenario}: {out}");
    }
    let _ = std::fs::remove_dir_all(&unpacked);
}

#[test]
fn a_fixture_composes_with_inference_and_only_what_it_names_follows_it() {
    let spec = PathBuf::from("tests/data/infer/shop.openapi.yaml");
    let fixture = "tests/data/infer/shop-fixture.yaml";
    let (code, out) = run(&spec, "shop-composed.yaml", &["--fixture", fixture]);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("1 scenario: 1 passed; 8 steps"), "{out}");

    // Without inference only the fixture's create remembers: the read of
    // the new store is the spec's example.
    let (code, out) = run(
        &spec,
        "shop-composed.yaml",
        &["--fixture", fixture, "--stateless"],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("expected \"Berlin\""), "{out}");

    // `infer: false` in the fixture does the same.
    let dir = std::env::temp_dir().join(format!("understudy-compose-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    let off = dir.join("shop-fixture.yaml");
    let text = std::fs::read_to_string(fixture).expect("fixture") + "infer: false\n";
    std::fs::write(&off, text).expect("written");
    let (code, out) = run(
        &spec,
        "shop-composed.yaml",
        &["--fixture", off.to_str().expect("utf-8 path")],
    );
    assert_eq!(code, Some(1), "{out}");
    let _ = std::fs::remove_dir_all(&dir);

    // The start says what was inferred beside the fixture, and on which
    // collection.
    let log = start_log(&["--fixture", fixture]);
    assert!(
        log.contains(
            "inferred stores (the fixture's collection): GET/PUT/DELETE /v1/stores/{store_id}, list GET /v1/stores (limit, offset)"
        ),
        "{log}"
    );
    assert!(
        log.contains("inferred products: POST /v1/stores/{store_id}/products"),
        "{log}"
    );
}

#[tokio::test]
async fn a_key_never_stored_gets_the_spec_answer_where_the_spec_documents_no_404() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/infer/things.openapi.yaml");
    let api = understudy::spec::Api::load(&path).expect("loads");
    let fixture = understudy::behaviour::infer::fixture(&api, "things.openapi.yaml");
    let (mock, _) = common::start(api, fixture).await;
    let addr = mock.addr;

    // The spec's own example id: the spec's example, as with no fixture.
    let example = common::send(addr, "GET", "/things/ex-1", &[], b"").await;
    assert_eq!(example.status, 200);
    assert_eq!(example.json()["name"], "Example");

    let made = common::send_json(
        addr,
        "POST",
        "/things",
        &[],
        serde_json::json!({"name": "a"}),
    )
    .await;
    assert_eq!(made.status, 201);
    let id = made.json()["id"].as_str().expect("an id").to_string();
    let read = common::send(addr, "GET", &format!("/things/{id}"), &[], b"").await;
    assert_eq!(read.json()["name"], "a");

    // Deleted: gone, even though the spec lists no 404 (problem+json).
    let gone = common::send(addr, "DELETE", &format!("/things/{id}"), &[], b"").await;
    assert_eq!(gone.status, 204);
    let after = common::send(addr, "GET", &format!("/things/{id}"), &[], b"").await;
    assert_eq!(after.status, 404);
    assert_eq!(
        after.header("content-type"),
        Some("application/problem+json")
    );

    // The request journal says why each was answered so.
    let notes = common::journal_notes(addr).await;
    assert!(
        notes
            .iter()
            .any(|n| n.contains("no thing `ex-1` was ever stored")
                && n.contains("answered from the spec alone")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("undocumented 404: the spec documents no 404")),
        "{notes:?}"
    );
}

#[tokio::test]
async fn deleted_keys_past_max_deleted_keys_count_as_never_stored() {
    use understudy::behaviour::store::StoreLimits;
    use understudy::mock::MockOptions;
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/infer/things.openapi.yaml");
    let api = understudy::spec::Api::load(&path).expect("loads");
    let fixture = understudy::behaviour::infer::fixture(&api, "things.openapi.yaml");
    let options = MockOptions {
        limits: StoreLimits {
            max_deleted_keys: 1,
            ..StoreLimits::default()
        },
        ..MockOptions::default()
    };
    let (mock, _) = common::start_service(api, fixture, options).await;
    let addr = mock.addr;
    let mut ids = Vec::new();
    for name in ["a", "b"] {
        let made = common::send_json(
            addr,
            "POST",
            "/things",
            &[],
            serde_json::json!({"name": name}),
        )
        .await;
        assert_eq!(made.status, 201);
        ids.push(made.json()["id"].as_str().expect("an id").to_string());
    }
    for id in &ids {
        let gone = common::send(addr, "DELETE", &format!("/things/{id}"), &[], b"").await;
        assert_eq!(gone.status, 204);
    }
    // The first is remembered as deleted; the second, past the limit, is
    // answered as a key never stored: from the spec.
    let first = common::send(addr, "GET", &format!("/things/{}", ids[0]), &[], b"").await;
    assert_eq!(first.status, 404);
    let second = common::send(addr, "GET", &format!("/things/{}", ids[1]), &[], b"").await;
    assert_eq!(second.status, 200, "{:?}", second.body);
}

/// What a client sends under the request's schema is stored as the
/// answer's schema has it (a number the answer shows as text is stored as
/// text, a field the answer always has is made), and an answer that shows
/// the items otherwise than the read (the list's `summary`) is repaired
/// as it is sent. Both are said in the journal's notes.
#[tokio::test]
async fn items_written_under_the_request_schema_are_stored_and_shown_as_the_answers_have_them() {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/infer/firewalls.openapi.yaml");
    let api = understudy::spec::Api::load(&path).expect("loads");
    let fixture = understudy::behaviour::infer::fixture(&api, "firewalls.openapi.yaml");
    let (mock, api) = common::start(api, fixture).await;
    let addr = mock.addr;
    let fits = |operation: &str, status: u16, body: &serde_json::Value| {
        let operation = api.operation(operation).expect("operation");
        let media = &operation.response_for(status).expect("documented").media;
        let slot = media[0].schema.as_ref().expect("a schema");
        let errors = api.compiled(slot).expect("compiles").errors(body);
        assert!(
            errors.is_empty(),
            "{}: {body}",
            errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; ")
        );
    };

    let made = common::send_json(
        addr,
        "POST",
        "/firewalls",
        &[],
        serde_json::json!({"name": "web", "rules": [{"direction": "in", "port": 80}]}),
    )
    .await;
    assert_eq!(made.status, 201, "{}", String::from_utf8_lossy(&made.body));
    let made = made.json();
    fits("create_firewall", 201, &made);
    let rule = &made["firewall"]["rules"][0];
    assert_eq!(rule["direction"], "in", "what was sent is kept: {made}");
    assert_eq!(rule["port"], "80", "{made}");
    assert!(rule["destination_ips"].is_array(), "{made}");

    let id = made["firewall"]["id"].as_i64().expect("an id");
    let read = common::send(addr, "GET", &format!("/firewalls/{id}"), &[], b"").await;
    assert_eq!(read.status, 200);
    fits("get_firewall", 200, &read.json());
    assert_eq!(read.json()["firewall"], made["firewall"]);

    // Stored repaired, not only shown so.
    let state = common::send(addr, "GET", "/__understudy/state", &[], b"").await;
    let text = state.json().to_string();
    assert!(text.contains(r#""port":"80""#), "{text}");
    assert!(!text.contains(r#""port":80"#), "{text}");

    let listed = common::send(addr, "GET", "/firewalls", &[], b"").await;
    assert_eq!(
        listed.status,
        200,
        "{}",
        String::from_utf8_lossy(&listed.body)
    );
    fits("list_firewalls", 200, &listed.json());
    assert_eq!(listed.json()["firewalls"][0]["name"], "web");

    let notes = common::journal_notes(addr).await;
    assert!(
        notes
            .iter()
            .any(|n| n.contains("did not fit the answer of `get_firewall`")
                && n.contains("/rules/0/port: 80 converted to \"80\"")
                && n.contains("/rules/0/destination_ips: made from the schema")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n
                .starts_with("the answer did not fit the spec; repaired: /firewalls/0/summary")),
        "{notes:?}"
    );
}
