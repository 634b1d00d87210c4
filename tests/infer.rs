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

#[test]
fn small_specs_of_each_shape_round_trip_with_no_fixture() {
    for (spec, scenario, steps) in [
        // Envelopes, page pagination, a filter, a field that does not fit.
        ("pets.openapi.yaml", "pets.yaml", "9 steps"),
        // Bare items and lists, offset pagination, PUT, nested products.
        ("shop.openapi.yaml", "shop.yaml", "13 steps"),
    ] {
        let spec = PathBuf::from("tests/data/infer").join(spec);
        let (code, out) = run(&spec, scenario, &[]);
        assert_eq!(code, Some(0), "{scenario}: {out}");
        assert!(
            out.contains(&format!("1 scenario: 1 passed; {steps}")),
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
fn serve_says_what_it_inferred_and_what_it_left_to_the_spec() {
    let spec = "tests/data/infer/pets.openapi.yaml";
    let args = ["serve", spec, "--port", "0", "--no-reload"];
    let (mut server, _, _) = common::spawn_binary_with_banner(
        &args.iter().map(std::ffi::OsStr::new).collect::<Vec<_>>(),
    );
    let _ = server.kill();
    let _ = server.wait();
    let mut log = String::new();
    let _ = std::io::Read::read_to_string(&mut server.stderr.take().expect("stderr"), &mut log);
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
            "1 scenario: 1 passed; 7 steps",
        ),
    ] {
        let (code, out) = run(spec, scenario, &[]);
        assert_eq!(code, Some(0), "{scenario}: {out}");
        assert!(out.contains(expected), "{scenario}: {out}");
    }
    let _ = std::fs::remove_dir_all(&unpacked);
}
