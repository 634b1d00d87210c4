//! The admin API under `/__understudy/`, on the mock's own port. The prefix
//! is checked before routing, so no spec can shadow it, and only loopback
//! peers are answered: state and the clock are for the developer's own
//! machine and its test runs.
//!
//! | request | does |
//! |---|---|
//! | `POST /__understudy/reset` (`?all=true`) | forgets the session (or all): it starts again from the seed data |
//! | `GET /__understudy/state` | the session's state as JSON |
//! | `PUT /__understudy/state` | replaces the session's state with a dump |
//! | `GET`/`POST /__understudy/clock` | reads / moves the session's clock: `{"advance": "10s"}` |
//! | `GET /__understudy/requests` (`?limit=N`) | the last requests answered |
//! | `GET /__understudy/sessions` | the sessions that exist |
//! | `GET`/`PUT /__understudy/vars` | reads / sets the session's own values of fixture variables |
//! | `GET /__understudy/operations` | the spec's operations, and which the fixture gives rules |
//! | `GET /__understudy/` from a browser | the inspector page ([`super::inspector`]) |
//!
//! The session is the `?session=` parameter, else the session header, else `default`.

use super::journal::Journal;
use super::reply::Reply;
use crate::behaviour::clock::format_datetime;
use crate::behaviour::engine::{self, session_name};
use crate::behaviour::store::{MAX_CLOCK_OFFSET_MS, lock};
use crate::behaviour::{Fixture, Store};
use crate::source::parse_duration;
use crate::spec::Api;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;

pub const PREFIX: &str = "/__understudy";

/// Whether `path` belongs to the admin API rather than the spec.
pub fn is_admin_path(path: &str) -> bool {
    path.strip_prefix(PREFIX)
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
}

/// Whether a `Host` header names this machine: `localhost` (or a name
/// under `.localhost`), a 127.x.x.x address or `[::1]`, with any port.
pub fn is_loopback_host(host: &str) -> bool {
    let name = match host.strip_prefix('[') {
        Some(rest) => rest.split(']').next().unwrap_or_default(),
        None => host.rsplit_once(':').map_or(host, |(name, _)| name),
    };
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    name == "localhost"
        || name.ends_with(".localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// What the admin API needs from the mock.
pub struct Admin<'a> {
    pub api: &'a Api,
    /// The name the mock's log gives the API.
    pub label: &'a str,
    pub fixture: &'a Arc<Fixture>,
    pub store: &'a Store,
    pub journal: &'a Journal,
    pub base_url: String,
}

/// Answers an admin request; `rest` is the path after [`PREFIX`].
pub fn handle(
    admin: &Admin<'_>,
    method: &hyper::Method,
    rest: &str,
    query: &[(String, String)],
    headers: &hyper::HeaderMap,
    body: &[u8],
    peer: Option<SocketAddr>,
) -> Reply {
    if !peer.is_some_and(|p| p.ip().is_loopback() || p.ip().to_canonical().is_loopback()) {
        return error(403, "the admin API answers loopback clients only");
    }
    // A web page the developer has open may be served from a name that
    // resolves to this machine (DNS rebinding): its requests carry that
    // name, not a loopback one.
    let host = headers
        .get(hyper::header::HOST)
        .and_then(|v| v.to_str().ok());
    if !host.is_some_and(is_loopback_host) {
        return error(
            403,
            "the admin API answers requests addressed to localhost or a loopback address only",
        );
    }
    // A page may post a form or text to any address without asking first;
    // a JSON body it may only send after a CORS preflight, which the admin
    // API never grants. So whatever changes state must say it sends JSON.
    let reads = *method == hyper::Method::GET || *method == hyper::Method::HEAD;
    let sends_json = headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| crate::contract::media::essence(t) == "application/json");
    if !reads && !sends_json {
        return error(
            415,
            "admin calls that change state need `Content-Type: application/json`",
        );
    }
    let param = |name: &str| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let session = param("session")
        .unwrap_or_else(|| session_name(admin.fixture, headers))
        .to_string();
    let get = *method == hyper::Method::GET;
    let post = *method == hyper::Method::POST;
    match rest.trim_end_matches('/') {
        "" if get && super::inspector::wanted(headers) => super::inspector::page(),
        "" if get => ok(json!({
            "endpoints": ["POST /reset", "GET /state", "PUT /state", "GET /clock", "POST /clock", "GET /requests", "GET /sessions", "GET /vars", "PUT /vars", "GET /operations"],
            "session_header": admin.fixture.model.session_header,
        })),
        "/operations" if get => ok(super::inspector::operations(admin)),
        "/reset" if post => {
            if param("all") == Some("true") {
                let n = admin.store.reset_all();
                ok(json!({"reset": "all", "sessions": n}))
            } else {
                admin.store.reset(&session);
                ok(json!({"reset": session}))
            }
        }
        "/state" if get => {
            let state = engine::session(admin.fixture, admin.store, &session, &admin.base_url);
            let dump = lock(&state).dump();
            ok(dump)
        }
        "/state" if *method == hyper::Method::PUT => {
            let Ok(dump) = serde_json::from_slice::<Value>(body) else {
                return error(
                    400,
                    "the body must be a JSON state dump (as GET /__understudy/state gives)",
                );
            };
            let keys = admin.fixture.model.keys();
            let state = engine::session(admin.fixture, admin.store, &session, &admin.base_url);
            let mut state = lock(&state);
            match state.load(&dump, &keys) {
                Ok(()) => ok(state.dump()),
                Err(problem) => error(400, &problem.to_string()),
            }
        }
        "/clock" if get || post => {
            let state = engine::session(admin.fixture, admin.store, &session, &admin.base_url);
            let mut state = lock(&state);
            if post {
                let advance = serde_json::from_slice::<Value>(body)
                    .ok()
                    .and_then(|b| b.get("advance").cloned());
                let Some(ms) = advance.as_ref().and_then(parse_duration) else {
                    return error(
                        400,
                        "send {\"advance\": \"10s\"} (or ms, m, h, or a number of seconds)",
                    );
                };
                let moved = i64::try_from(ms)
                    .ok()
                    .and_then(|ms| state.clock_offset_ms.checked_add(ms))
                    .filter(|offset| offset.unsigned_abs() <= MAX_CLOCK_OFFSET_MS);
                let Some(offset) = moved else {
                    return error(
                        400,
                        &format!(
                            "the clock moves at most {MAX_CLOCK_OFFSET_MS} ms (about 300 years) from now"
                        ),
                    );
                };
                state.clock_offset_ms = offset;
            }
            ok(json!({
                "session": session,
                "now": format_datetime(state.now_ms()),
                "offset_ms": state.clock_offset_ms,
            }))
        }
        "/vars" if get || *method == hyper::Method::PUT => {
            let state = engine::session(admin.fixture, admin.store, &session, &admin.base_url);
            let mut state = lock(&state);
            if !get {
                let Ok(Value::Object(vars)) = serde_json::from_slice::<Value>(body) else {
                    return error(
                        400,
                        "send a JSON mapping of variable names to values, e.g. {\"waldur_server\": 2024}",
                    );
                };
                if let Some(unknown) = vars
                    .keys()
                    .find(|k| !admin.fixture.model.vars.contains_key(*k))
                {
                    return error(400, &format!("the fixture has no variable `{unknown}`"));
                }
                state.vars = vars;
            }
            let mut effective = admin.fixture.model.vars.clone();
            effective.extend(state.vars.iter().map(|(k, v)| (k.clone(), v.clone())));
            ok(json!({"session": session, "overrides": state.vars, "vars": effective}))
        }
        "/requests" if get => {
            let limit = param("limit").and_then(|l| l.parse().ok()).unwrap_or(100);
            let only = param("session");
            ok(json!({"requests": admin.journal.recent(limit, only)}))
        }
        "/sessions" if get => ok(json!({"sessions": admin.store.names()})),
        "" | "/reset" | "/state" | "/clock" | "/requests" | "/sessions" | "/vars"
        | "/operations" => error(
            405,
            &format!("`{method}` is not an admin operation on this path"),
        ),
        other => error(
            404,
            &format!("no admin endpoint `{PREFIX}{other}`; GET {PREFIX}/ lists them"),
        ),
    }
}

fn ok(body: Value) -> Reply {
    Reply::json(200, "application/json", &body)
}

fn error(status: u16, detail: &str) -> Reply {
    Reply::json(
        status,
        "application/problem+json",
        &json!({"type": "about:blank", "status": status, "detail": detail}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_loopback_peers_are_answered() {
        let fixture = Arc::new(Fixture::default());
        let store = Store::default();
        let journal = Journal::new(10);
        let api = Api::from_text(
            std::path::Path::new("empty.yaml"),
            "openapi: 3.0.3\ninfo: {title: t, version: '1'}\npaths: {}\n",
        )
        .expect("spec loads");
        let admin = Admin {
            api: &api,
            label: "t",
            fixture: &fixture,
            store: &store,
            journal: &journal,
            base_url: "http://localhost".into(),
        };
        let mut headers = hyper::HeaderMap::new();
        headers.insert(hyper::header::HOST, "127.0.0.1:4010".parse().expect("host"));
        let ask = |peer: Option<SocketAddr>| {
            handle(
                &admin,
                &hyper::Method::GET,
                "/sessions",
                &[],
                &headers,
                b"",
                peer,
            )
            .status
        };
        let remote: SocketAddr = "10.1.2.3:5000".parse().expect("address");
        let mapped: SocketAddr = "[::ffff:127.0.0.1]:5000".parse().expect("address");
        let local: SocketAddr = "127.0.0.1:5000".parse().expect("address");
        assert_eq!(ask(Some(remote)), 403);
        assert_eq!(ask(None), 403);
        assert_eq!(ask(Some(mapped)), 200);
        assert_eq!(ask(Some(local)), 200);
    }

    #[test]
    fn only_names_of_this_machine_may_address_it() {
        for host in [
            "localhost",
            "localhost:4010",
            "LOCALHOST.",
            "app.localhost:3000",
            "127.0.0.1",
            "127.1.2.3:80",
            "[::1]:4010",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "evil.example",
            "evil.example:4010",
            "localhost.evil.example",
            "0.0.0.0:4010",
            "10.0.0.1",
            "[::2]:80",
            "",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
    }
}
