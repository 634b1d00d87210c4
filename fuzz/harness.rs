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
    // What `serve` does with a spec and no fixture: infer its resources,
    // write them as fixture text, load and bind that.
    let _ = understudy::behaviour::infer::checked(&api, "spec.yaml");
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
    let parts = std::sync::Arc::new(request.into_parts().0);
    let _ = service.answer(&service.current(), &parts, body);
    // State grows with every create; start again now and then.
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    if CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 2000 == 1999 {
        for service in services {
            service.store.reset_all();
        }
    }
}

/// Reads the fuzzer's bytes as choices; past the end every choice is 0.
struct Choices<'a>(&'a [u8]);

impl Choices<'_> {
    fn byte(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        let wide = usize::from(self.byte()) << 8 | usize::from(self.byte());
        wide % n
    }

    /// A short text: up to 64 of the next bytes, or one of the values that
    /// break parsers and schemas.
    fn text(&mut self) -> String {
        const TRICKY: [&str; 12] = [
            "",
            "0",
            "-1",
            "1e400",
            "null",
            "%00",
            "%zz",
            "../..",
            "\u{0}",
            "true",
            "00000000-0000-0000-0000-000000000000",
            "9223372036854775808",
        ];
        let pick = self.byte();
        if pick < 96 {
            return TRICKY[usize::from(pick) % TRICKY.len()].to_string();
        }
        let len = self.below(65).min(self.0.len());
        let (taken, rest) = self.0.split_at(len);
        self.0 = rest;
        String::from_utf8_lossy(taken).into_owned()
    }

    /// A JSON value to put where a valid one was: wrong types, extremes,
    /// deep nesting and wide objects (bounded, like a client could send).
    fn value(&mut self) -> serde_json::Value {
        use serde_json::{Value, json};
        match self.byte() % 10 {
            0 => Value::Null,
            1 => json!(-1),
            2 => json!(1.7976931348623157e308),
            3 => json!(self.text()),
            4 => json!("x".repeat(self.below(70_000))),
            5 => {
                let depth = self.below(300);
                let mut v = json!(1);
                for _ in 0..depth {
                    v = json!([v]);
                }
                v
            }
            6 => Value::Object(
                (0..self.below(2_000))
                    .map(|i| (format!("k{i}"), json!(i)))
                    .collect(),
            ),
            7 => json!(true),
            8 => json!({}),
            _ => json!([]),
        }
    }
}

/// The mutant services made so far, by API and mutant index.
type Mutants = std::sync::Mutex<std::collections::HashMap<(usize, usize), Arc<MockService>>>;
static MUTANTS: OnceLock<Mutants> = OnceLock::new();

/// Each bundled API with every mutant of it, each made on first use.
fn mutant_service(api: usize, mutant: usize) -> Option<Arc<MockService>> {
    use std::sync::Mutex;
    static COUNTS: OnceLock<Vec<usize>> = OnceLock::new();
    // One service per mutant, not per input byte: the cache is bounded by
    // the number of mutants (a few hundred).
    let counts = COUNTS.get_or_init(|| {
        understudy::behaviour::bundled::BUNDLED
            .iter()
            .map(|b| {
                b.load()
                    .map(|(spec, fixture)| {
                        understudy::mutate::derive::mutants(&spec, &fixture).len()
                    })
                    .unwrap_or(0)
            })
            .collect()
    });
    let mutant = mutant % counts.get(api).copied().unwrap_or(0).max(1);
    let made = MUTANTS.get_or_init(Mutex::default);
    if let Some(service) = made.lock().ok()?.get(&(api, mutant)) {
        return Some(service.clone());
    }
    let bundled = understudy::behaviour::bundled::BUNDLED.get(api)?;
    let (spec, mut fixture) = bundled.load().ok()?;
    let faults = understudy::mutate::derive::mutants(&spec, &fixture);
    let fault = faults.get(mutant)?.clone();
    fault.apply_to_fixture(&mut fixture);
    let service = Arc::new(MockService::new(
        Arc::new(spec),
        Arc::new(fixture),
        MockOptions {
            quiet: true,
            fault: Some(fault),
            // The request log of each of hundreds of mutants: small.
            journal_size: 16,
            ..MockOptions::default()
        },
    ));
    made.lock().ok()?.insert((api, mutant), service.clone());
    Some(service)
}

/// Requests built from the spec, then broken: the bytes choose the API,
/// the operation, a mutant of the mock (the faults `mutate` injects) or
/// none, the session, and what to break (a path or query value, a field
/// of a valid body, the whole body, the credentials, the content type,
/// the method), so that most inputs reach the rules and state behind
/// validation, which random bytes rarely do. The bytes also set chaos
/// (`--fault` values and the rolls that decide each request), whose
/// decision must stay within what was asked.
pub fn request_structured(data: &[u8]) {
    use understudy::mock::fault::{Chaos, ChaosAction};
    let mut choices = Choices(data);
    let services = bundled();
    let api = choices.below(services.len());
    let mutant = choices.byte();
    let service = if mutant < 128 {
        match services.get(api) {
            Some(service) => service.clone(),
            None => return,
        }
    } else {
        match mutant_service(api, choices.below(4096)) {
            Some(service) => service,
            None => return,
        }
    };
    let loaded = service.current();
    let spec = &loaded.api;
    let Some(operation) = spec.operations.get(choices.below(spec.operations.len())) else {
        return;
    };
    let sample =
        understudy::generate::request::sample_request(spec, operation, u64::from(choices.byte()));
    let breaks = choices.byte();
    let mut target = sample.target.clone();
    if breaks & 1 != 0 {
        // One path segment replaced by fuzz text, percent-encoded or not.
        let segments: Vec<&str> = target.split('/').collect();
        let at = choices.below(segments.len());
        let text = choices.text();
        let text = if choices.byte() & 1 == 0 {
            percent_encoding::utf8_percent_encode(&text, percent_encoding::NON_ALPHANUMERIC)
                .to_string()
        } else {
            text.chars()
                .filter(|c| c.is_ascii_graphic() && *c != '?' && *c != '#')
                .collect()
        };
        target = segments
            .iter()
            .enumerate()
            .map(|(i, s)| if i == at { text.as_str() } else { s })
            .collect::<Vec<_>>()
            .join("/");
    }
    if breaks & 2 != 0 {
        let query: String = choices
            .text()
            .chars()
            .filter(|c| c.is_ascii_graphic() && *c != '#')
            .collect();
        target.push(if target.contains('?') { '&' } else { '?' });
        target.push_str(&query);
    }
    let mut body = sample.body.clone();
    if breaks & 4 != 0
        && let Ok(mut json) = serde_json::from_slice::<serde_json::Value>(&body)
    {
        // A field of the valid body, at some depth, given a bad value.
        let mut pointer = String::new();
        for _ in 0..choices.below(4) {
            let step = match json.pointer(&pointer) {
                Some(serde_json::Value::Object(map)) if !map.is_empty() => map
                    .keys()
                    .nth(choices.below(map.len()))
                    .map(|k| k.replace('~', "~0").replace('/', "~1")),
                Some(serde_json::Value::Array(items)) if !items.is_empty() => {
                    Some(choices.below(items.len()).to_string())
                }
                _ => None,
            };
            match step {
                Some(step) => {
                    pointer.push('/');
                    pointer.push_str(&step);
                }
                None => break,
            }
        }
        if let Some(node) = json.pointer_mut(&pointer) {
            *node = choices.value();
        }
        body = serde_json::to_vec(&json).unwrap_or_default();
    }
    if breaks & 8 != 0 {
        body = choices.0.to_vec();
    }
    let methods = ["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"];
    let method = if breaks & 16 != 0 {
        methods[choices.below(methods.len())].to_string()
    } else {
        sample.method.to_string()
    };
    let Ok(uri) = target.parse::<hyper::Uri>() else {
        return;
    };
    let mut builder = hyper::Request::builder().method(method.as_str()).uri(uri);
    for (name, value) in &sample.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    if breaks & 32 == 0 {
        builder = builder
            .header("x-access-token", "mock-token")
            .header(
                "authorization",
                "Token 0123456789abcdef0123456789abcdef01234567",
            )
            .header("x-api-key", "mock-key");
    }
    if breaks & 64 != 0 {
        let types = [
            "application/json",
            "text/plain",
            "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=x",
            "application/json; charset=latin1",
            "application/merge-patch+json",
        ];
        builder = builder.header("content-type", types[choices.below(types.len())]);
    }
    let sessions = ["default", "a", "b", "c"];
    builder = builder.header(
        "x-understudy-session",
        sessions[choices.below(sessions.len())],
    );
    let Ok(request) = builder.body(()) else {
        return;
    };
    let parts = std::sync::Arc::new(request.into_parts().0);
    let reply = service.answer(&loaded, &parts, &body);
    assert!(
        (100..=599).contains(&reply.status),
        "status {}",
        reply.status
    );

    // Chaos: whatever `--fault` values are accepted, a decision stays
    // within them.
    let mut chaos = Chaos::default();
    for _ in 0..choices.below(4) {
        let _ = chaos.add_fault(&choices.text());
    }
    let shares: f64 = chaos.reset + chaos.statuses.iter().map(|(_, p)| p).sum::<f64>();
    assert!(shares <= 1.0 + 1e-9, "chaos shares {shares}");
    let roll = f64::from(choices.byte()) / 256.0;
    match chaos.decide(roll, f64::from(choices.byte()) / 255.0) {
        ChaosAction::Status { status, .. } => {
            assert!(chaos.statuses.iter().any(|(s, _)| *s == status))
        }
        ChaosAction::Reset { .. } => assert!(chaos.reset > 0.0),
        ChaosAction::Serve { .. } => {}
    }

    // State grows with every create, in every mutant's store too; start
    // them all again now and then.
    static CALLS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    if CALLS.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 2000 == 1999 {
        for service in services.iter().chain(made_mutants().iter()) {
            service.store.reset_all();
        }
    }
}

/// Every mutant service made so far.
fn made_mutants() -> Vec<Arc<MockService>> {
    MUTANTS
        .get()
        .and_then(|made| made.lock().ok().map(|m| m.values().cloned().collect()))
        .unwrap_or_default()
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
