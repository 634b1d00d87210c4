// Each fuzz target uses one of these functions.
#![allow(dead_code)]

//! What each fuzz target does with its input. Shared by the libFuzzer
//! targets (`fuzz/fuzz_targets`) and by `tests/fuzz_corpus.rs`, which runs
//! the seed corpus and every crash ever found through the same code on
//! stable Rust, in CI.
//!
//! Each function must return normally for any input: errors are expected
//! results, only panics, hangs and runaway memory are failures.

use std::path::Path;
use std::sync::{Arc, OnceLock};
use understudy::behaviour::Fixture;
use understudy::mock::{MockOptions, MockService};
use understudy::scenario::ScenarioFile;
use understudy::spec::Api;

/// A spec as bytes: loaded; if it loads, every route is tried and the
/// schemas of the first operations are compiled and sampled, which runs
/// the generator on whatever schemas the input holds.
pub fn spec_load(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // A folder with nothing in it, so relative `$ref`s find no files.
    let Ok(api) = Api::from_text(Path::new("/nonexistent/fuzz/spec.yaml"), text) else {
        return;
    };
    for operation in api.operations.iter().take(8) {
        let path = operation.path.replace(['{', '}'], "");
        let _ = api.route(&operation.method, &path);
        let _ = understudy::generate::request::sample_request(&api, operation, 1);
    }
}

/// The three bundled APIs, made once per fuzzing process.
fn bundled() -> &'static [Arc<MockService>] {
    static SERVICES: OnceLock<Vec<Arc<MockService>>> = OnceLock::new();
    SERVICES.get_or_init(|| {
        understudy::behaviour::bundled::BUNDLED
            .iter()
            .filter_map(|b| b.load().ok())
            .map(|(api, fixture)| {
                Arc::new(MockService::new(
                    Arc::new(api),
                    Arc::new(fixture),
                    MockOptions::default(),
                ))
            })
            .collect()
    })
}

/// A request as bytes: the first byte picks the bundled API, then a
/// request line (`METHOD TARGET`), header lines, an empty line and the
/// body. Whatever hyper would refuse on the wire is skipped; the rest goes
/// through the whole pipeline: routing, auth, parameters, body, rules,
/// state and response.
pub fn request(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let services = bundled();
    let Some(service) = services.get(usize::from(pick) % services.len().max(1)) else {
        return;
    };
    let (head, body) = match rest.windows(2).position(|w| w == b"\n\n") {
        Some(i) => (&rest[..i], &rest[i + 2..]),
        None => (rest, &[][..]),
    };
    let Ok(head) = std::str::from_utf8(head) else {
        return;
    };
    let mut lines = head.lines();
    let Some((method, target)) = lines.next().and_then(|l| l.split_once(' ')) else {
        return;
    };
    let mut builder = hyper::Request::builder().method(method).uri(target);
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            builder = builder.header(name.trim(), value.trim());
        }
    }
    let Ok(request) = builder.body(()) else {
        return;
    };
    let (parts, ()) = request.into_parts();
    let _ = service.answer(&service.current(), &parts, body);
    // State grows with every create; start again now and then.
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    if CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 2000 == 1999 {
        for service in services {
            service.store.reset_all();
        }
    }
}

/// A scenario file as bytes: parsed and its variables checked.
pub fn scenario_load(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(file) = ScenarioFile::from_text(Path::new("fuzz.yaml"), text) {
        let _ = file.check_variables(&["token".to_string()]);
    }
}

/// A fixture as bytes: parsed and bound to the bundled API the first byte
/// picks, as `serve --fixture` would.
pub fn fixture_load(data: &[u8]) {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    let Ok(mut fixture) = Fixture::from_text(Path::new("/nonexistent/fuzz/fixture.yaml"), text)
    else {
        return;
    };
    let services = bundled();
    if let Some(service) = services.get(usize::from(pick) % services.len().max(1)) {
        let _ = fixture.bind(&service.current().api);
    }
}
