//! Micro-benchmarks of the request pipeline's stages, one bundled API each:
//! routing, parameter parsing and body validation. `cargo bench` runs them;
//! `bench/run` measures the whole server. Each case reads the same request
//! every iteration, so what it times is the stage, not input generation.

use std::path::Path;
use std::sync::OnceLock;

use divan::{Bencher, black_box};
use hyper::{HeaderMap, Method};
use understudy::mock::params::{self, RawParameters};
use understudy::mock::{body, violation::Violation};
use understudy::spec::{Api, Route};

fn main() {
    divan::main();
}

fn bundled(name: &str) -> &'static Api {
    static APIS: OnceLock<Vec<(&'static str, Api)>> = OnceLock::new();
    let apis = APIS.get_or_init(|| {
        ["mittwald", "waldur", "datallog"]
            .into_iter()
            .map(|name| {
                let bundled = understudy::behaviour::bundled::find(name).expect("a bundled API");
                let (api, _) = bundled.load().expect("the bundled API loads");
                (name, api)
            })
            .collect()
    });
    &apis
        .iter()
        .find(|(n, _)| *n == name)
        .expect("a bundled API")
        .1
}

/// The real Waldur spec (2,311 operations), when `../shared` is here.
fn real_waldur() -> Option<&'static Api> {
    static API: OnceLock<Option<Api>> = OnceLock::new();
    API.get_or_init(|| {
        let folder = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/real-specs");
        let path = std::fs::read_dir(&folder).ok().and_then(|entries| {
            entries.filter_map(Result::ok).map(|e| e.path()).find(|p| {
                p.file_name()
                    .is_some_and(|n| n.to_string_lossy().starts_with("waldur"))
            })
        });
        let Some(path) = path else {
            eprintln!(
                "notice: no waldur spec in {}; the real-spec routing case measures nothing",
                folder.display()
            );
            return None;
        };
        Some(Api::load(&path).expect("the real Waldur spec loads"))
    })
    .as_ref()
}

fn found(route: Route<'_, '_>) -> bool {
    matches!(route, Route::Found { .. })
}

mod routing {
    use super::*;

    const SERVER: &str = "/v2/servers/8c6a0f5e-2b1d-4e3a-9f47-0d5c1b2a3e4f";

    #[divan::bench]
    fn mittwald_path_parameter() -> bool {
        found(bundled("mittwald").route(&Method::GET, black_box(SERVER)))
    }

    #[divan::bench]
    fn waldur_static_path() -> bool {
        found(bundled("waldur").route(&Method::GET, black_box("/api/projects/")))
    }

    #[divan::bench]
    fn not_found() -> bool {
        found(bundled("mittwald").route(&Method::GET, black_box("/v2/nothing/here")))
    }

    /// Routing among 2,311 operations: the cost should not grow with them.
    #[divan::bench]
    fn real_waldur_project(bencher: Bencher) {
        let Some(api) = real_waldur() else {
            return;
        };
        let path = "/api/projects/6f1c1d2e0f6a4a8e9d3c2b1a0f9e8d7c/";
        assert!(found(api.route(&Method::GET, path)), "{path} routes");
        bencher.bench(|| found(api.route(&Method::GET, black_box(path))));
    }
}

mod parameters {
    use super::*;

    fn parse(api: &Api, method: Method, path: &str, query: &str) -> usize {
        let Route::Found { operation, params } = api.route(&method, path) else {
            panic!("{method} {path} routes");
        };
        let query = params::parse_query(query);
        let headers = HeaderMap::new();
        let raw = RawParameters {
            path: &params,
            query: &query,
            headers: &headers,
            cookies: &[],
        };
        let mut violations: Vec<Violation> = Vec::new();
        let parsed = params::extract(api, operation, &raw, &mut violations);
        parsed.path.len() + parsed.query.len() + violations.len()
    }

    #[divan::bench]
    fn mittwald_path_uuid() -> usize {
        parse(
            bundled("mittwald"),
            Method::GET,
            "/v2/servers/8c6a0f5e-2b1d-4e3a-9f47-0d5c1b2a3e4f",
            "",
        )
    }

    /// Eight filters: booleans, a date-time, a comma list of uuids, an enum
    /// list and the page.
    #[divan::bench]
    fn waldur_list_filters() -> usize {
        parse(
            bundled("waldur"),
            Method::GET,
            "/api/projects/",
            black_box(
                "can_admin=true&is_removed=false&created=2026-01-01T00:00:00Z\
                 &customer=0b7f3d2a-6c1e-4d5f-8a9b-1c2d3e4f5a6b,1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f\
                 &o=-created,name&name=demo&page=2&page_size=20",
            ),
        )
    }
}

mod bodies {
    use super::*;

    fn check(api: &Api, path: &str, bytes: &[u8]) -> usize {
        let Route::Found { operation, .. } = api.route(&Method::POST, path) else {
            panic!("POST {path} routes");
        };
        let mut violations: Vec<Violation> = Vec::new();
        let parsed = body::check(
            api,
            operation,
            Some("application/json"),
            bytes,
            understudy::mock::options::DEFAULT_MAX_BODY_VALUES,
            &mut violations,
        );
        assert!(parsed.is_ok(), "the media type is accepted");
        violations.len()
    }

    const MITTWALD: &str = "/v2/servers/8c6a0f5e-2b1d-4e3a-9f47-0d5c1b2a3e4f/projects";
    const DATALLOG: &str = "/api/create-project";

    #[divan::bench]
    fn mittwald_valid() -> usize {
        check(
            bundled("mittwald"),
            MITTWALD,
            black_box(br#"{"description":"bench project"}"#),
        )
    }

    #[divan::bench]
    fn datallog_valid() -> usize {
        check(
            bundled("datallog"),
            DATALLOG,
            black_box(
                br#"{"region":"us-east-1","docker_version":"python-3.10","name":"my-new-project"}"#,
            ),
        )
    }

    /// Refused bodies cost more: every violation is described.
    #[divan::bench]
    fn datallog_three_violations() -> usize {
        let found = check(
            bundled("datallog"),
            DATALLOG,
            black_box(br#"{"region":7,"docker_version":"cobol","name":""}"#),
        );
        assert!(found > 0, "the body is refused");
        found
    }
}
