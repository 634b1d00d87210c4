//! The mock's own limits under runaway load: `--max-items` refuses a create
//! past it with 507, `--max-sessions` drops the session idle longest, and
//! each says so in the log.

mod common;

use common::{send, send_json, spawn_mittwald as serve_mittwald};
use serde_json::json;
use std::io::Read;

const SERVER: &str = "/v2/servers/8c6a0f5e-2b1d-4e3a-9f47-0d5c1b2a3e4f";
const TOKEN: (&str, &str) = ("x-access-token", "mock-token");

/// Stops the server and returns what it logged.
fn stop(mut server: std::process::Child) -> String {
    let _ = server.kill();
    let _ = server.wait();
    let mut log = String::new();
    let _ = server.stderr.take().map(|mut e| e.read_to_string(&mut log));
    log
}

/// Items the session `session` holds, by the admin API's dump.
async fn stored(addr: std::net::SocketAddr, session: &str) -> usize {
    let dump = send(
        addr,
        "GET",
        "/__understudy/state",
        &[("x-understudy-session", session)],
        b"",
    )
    .await
    .json();
    dump["collections"].as_object().map_or(0, |c| {
        c.values().filter_map(|v| v.as_array()).map(Vec::len).sum()
    })
}

#[tokio::test]
async fn the_item_past_max_items_is_refused_with_507_in_the_apis_error_shape() {
    let (server, addr) = serve_mittwald(&["--max-items", "100"]);
    let mut created = 0;
    let mut refused = None;
    for i in 0..200 {
        let answer = send_json(
            addr,
            "POST",
            &format!("{SERVER}/projects"),
            &[TOKEN],
            json!({"description": format!("project {i}")}),
        )
        .await;
        if answer.status == 201 {
            created += 1;
            continue;
        }
        refused = Some(answer);
        break;
    }
    let refused = refused.expect("a create is refused before 200");
    assert_eq!(
        refused.status,
        507,
        "{}",
        String::from_utf8_lossy(&refused.body)
    );
    assert_eq!(
        stored(addr, "default").await,
        100,
        "full at exactly --max-items"
    );
    assert!(
        created > 0 && created < 100,
        "seed items count too: {created}"
    );
    // The spec documents no 507 but a `default` error: the refusal takes
    // its shape, and its message names the flag.
    let api = understudy::spec::Api::load(std::path::Path::new("specs/mittwald.json"))
        .expect("the spec loads");
    let operation = match api.route(&hyper::Method::POST, &format!("{SERVER}/projects")) {
        understudy::spec::Route::Found { operation, .. } => operation,
        _ => panic!("the create is an operation of the spec"),
    };
    let documented = operation.response_for(507).expect("`default` covers 507");
    let media = understudy::contract::media::documented(
        &documented.media,
        refused.header("content-type").unwrap_or_default(),
    )
    .expect("a documented media type");
    let schema = api
        .compiled(media.schema.as_ref().expect("a schema"))
        .expect("compiles");
    let body = refused.json();
    assert!(schema.is_valid(&body), "{body}");
    assert!(body.to_string().contains("--max-items"), "{body}");
    // Still refused, and another session is not affected.
    let again = send_json(
        addr,
        "POST",
        &format!("{SERVER}/projects"),
        &[TOKEN],
        json!({"description": "x"}),
    )
    .await;
    assert_eq!(again.status, 507);
    let other = send_json(
        addr,
        "POST",
        &format!("{SERVER}/projects"),
        &[TOKEN, ("x-understudy-session", "other")],
        json!({"description": "x"}),
    )
    .await;
    assert_eq!(other.status, 201);
    let log = stop(server);
    assert_eq!(
        log.matches("the most --max-items allows").count(),
        1,
        "logged once per session:\n{log}"
    );
}

#[tokio::test]
async fn an_eleventh_session_under_max_sessions_10_drops_the_one_idle_longest() {
    let (server, addr) = serve_mittwald(&["--max-sessions", "10"]);
    for i in 0..10 {
        let session = format!("s{i}");
        let answer = send(
            addr,
            "GET",
            SERVER,
            &[TOKEN, ("x-understudy-session", &session)],
            b"",
        )
        .await;
        assert_eq!(answer.status, 200);
    }
    // s0 was used first; use it again, so s1 is now the one idle longest.
    send(
        addr,
        "GET",
        SERVER,
        &[TOKEN, ("x-understudy-session", "s0")],
        b"",
    )
    .await;
    send(
        addr,
        "GET",
        SERVER,
        &[TOKEN, ("x-understudy-session", "s10")],
        b"",
    )
    .await;
    let sessions = send(addr, "GET", "/__understudy/sessions", &[], b"")
        .await
        .json();
    let names: Vec<&str> = sessions["sessions"]
        .as_array()
        .map(|a| a.iter().filter_map(|s| s.as_str()).collect())
        .unwrap_or_default();
    assert_eq!(names.len(), 10, "{names:?}");
    assert!(names.contains(&"s0") && names.contains(&"s10"), "{names:?}");
    assert!(!names.contains(&"s1"), "{names:?}");
    let log = stop(server);
    assert!(
        log.contains("dropped session `s1`, idle longest, to keep --max-sessions 10"),
        "{log}"
    );
}

#[test]
fn zero_limits_are_refused() {
    for flag in ["--max-items", "--max-sessions"] {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_understudy"))
            .args(["serve", "--port", "0", flag, "0"])
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .output()
            .expect("runs");
        assert_eq!(output.status.code(), Some(2), "{flag}");
        assert!(String::from_utf8_lossy(&output.stderr).contains("at least 1"));
    }
}

#[tokio::test]
async fn every_log_line_has_the_time_and_a_refusal_its_reason() {
    let (server, addr) = serve_mittwald(&[]);
    let missing = send(
        addr,
        "GET",
        "/v2/projects/00000000-0000-4000-8000-000000000000",
        &[TOKEN],
        b"",
    )
    .await;
    // mittwald answers a project the token cannot reach with 403 (its spec documents no 404).
    assert_eq!(missing.status, 403);
    let log = stop(server);
    let lines: Vec<&str> = log.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.contains("→ 403"))
        .unwrap_or_else(|| panic!("a 403 line:\n{log}"));
    // `HH:MM:SS.mmm mittwald GET … → 403`
    let time = lines[at].split(' ').next().unwrap_or_default();
    assert!(
        time.len() == 12 && time.as_bytes()[2] == b':' && time.as_bytes()[8] == b'.',
        "{}",
        lines[at]
    );
    let reason = lines.get(at + 1).copied().unwrap_or_default();
    assert!(reason.contains("note:") && reason.len() > 12, "{log}");
}

#[tokio::test]
async fn max_quoted_length_cuts_the_invalid_value_an_answer_and_the_log_quote() {
    let (server, addr) = serve_mittwald(&["--max-quoted-length", "16"]);
    let long = "x".repeat(5_000);
    let answer = send_json(
        addr,
        "POST",
        &format!("{SERVER}/projects"),
        &[TOKEN],
        json!({"description": [long]}),
    )
    .await;
    assert_eq!(answer.status, 400);
    let message = answer.json()["validationErrors"][0]["message"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    // The quote is cut at 16 bytes (`["xxxxxxxxxxxxxx`) and its length said.
    assert!(
        message.starts_with("[\"xxxxxxxxxxxxxx… (5004 bytes)"),
        "{message}"
    );
    let log = stop(server);
    assert!(
        !log.contains(&"x".repeat(17)),
        "the log quotes more:\n{log}"
    );
}
