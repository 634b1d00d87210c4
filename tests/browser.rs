//! What only a browser can show, in a real headless Chromium: a frontend
//! page on another origin drives the mock through CORS, and the inspector
//! page shows that flow, moves the clock and resets a session. Screenshots
//! of both are written under `target/screenshots/` for a person to look at.

mod common;

use common::browser::{Browser, free_port};
use common::{send, send_json, spawn_mittwald};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

const SERVER: &str = "8c6a0f5e-2b1d-4e3a-9f47-0d5c1b2a3e4f";
const TOKEN: (&str, &str) = ("x-access-token", "mock-token");

/// A frontend as a team would write it against mittwald: create a
/// project, poll it until it is ready, delete it, and read it once more.
/// Each step is shown in `#log`; `#result` holds the outcome as JSON.
const FRONTEND: &str = r#"<!doctype html>
<html><head><meta charset="utf-8"><title>projects</title>
<style>body{font:15px system-ui;margin:24px} pre{background:#f3f4f6;padding:12px}</style></head>
<body><h1>My projects</h1><pre id="log"></pre><pre id="result"></pre>
<script>
const api = "MOCK_URL";
const headers = {"x-access-token": "mock-token", "content-type": "application/json"};
const log = (line) => document.getElementById("log").append(line + "\n");
async function flow() {
  const created = await fetch(api + "/v2/servers/SERVER_ID/projects", {
    method: "POST", headers, body: JSON.stringify({description: "Browser project"})});
  const {id} = await created.json();
  log("created " + id + ": " + created.status);
  let project = {};
  for (let i = 0; i < 80 && !project.isReady; i++) {
    if (i > 0) await new Promise((r) => setTimeout(r, 250));
    const read = await fetch(api + "/v2/projects/" + id, {headers});
    project = await read.json();
    log("read: " + read.status + ", readiness " + project.readiness);
  }
  const deleted = await fetch(api + "/v2/projects/" + id, {method: "DELETE", headers});
  log("deleted: " + deleted.status);
  const after = await fetch(api + "/v2/projects/" + id, {headers});
  log("read after delete: " + after.status);
  document.getElementById("result").textContent = JSON.stringify({
    id, created: created.status, ready: project.isReady === true,
    readiness: project.readiness, deleted: deleted.status, after: after.status});
}
flow().catch((e) => { document.getElementById("result").textContent = JSON.stringify({error: String(e)}); });
</script></body></html>"#;

/// Serves `page` at every path of `http://localhost:<port>/`: an origin of
/// its own, as a frontend's dev server is.
async fn serve_page(page: String) -> SocketAddr {
    use http_body_util::Full;
    use hyper::service::service_fn;
    let port = free_port();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("the page's port");
    let addr = listener.local_addr().expect("address");
    let page = bytes::Bytes::from(page);
    tokio::spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            let page = page.clone();
            tokio::spawn(async move {
                let service = service_fn(move |_| {
                    let page = page.clone();
                    async move {
                        hyper::Response::builder()
                            .header("content-type", "text/html; charset=utf-8")
                            .body(Full::new(page))
                    }
                });
                let io = hyper_util::rt::TokioIo::new(stream);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(io, service)
                    .await;
            });
        }
    });
    addr
}

fn screenshot_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("the target folder")
        .join("screenshots")
        .join(name)
}

/// The mock, stopped when the test ends however it ends.
struct Mock(std::process::Child, SocketAddr);

impl Drop for Mock {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frontend_on_another_origin_and_the_inspector_work_in_a_real_browser() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let (child, addr) = spawn_mittwald(&[]);
    let mock = Mock(child, addr);
    let mock_url = format!("http://127.0.0.1:{}", mock.1.port());

    // (a) The frontend, served from another origin, through CORS: the
    // token header and the JSON body make every call preflighted.
    let page = FRONTEND
        .replace("MOCK_URL", &mock_url)
        .replace("SERVER_ID", SERVER);
    let frontend = serve_page(page).await;
    browser
        .goto(&format!("http://localhost:{}/", frontend.port()))
        .await;
    let result = browser
        .wait_for(
            "const r = document.getElementById('result').textContent; return r ? JSON.parse(r) : null;",
            Duration::from_secs(30),
            "the frontend's flow to end",
        )
        .await;
    browser
        .screenshot(&screenshot_path("frontend-flow.png"))
        .await;
    assert_eq!(result.get("error"), None, "the flow failed: {result}");
    assert_eq!(result["created"], 201, "{result}");
    assert_eq!(result["ready"], true, "polled until ready: {result}");
    assert_eq!(result["readiness"], "ready", "{result}");
    assert_eq!(result["deleted"], 204, "{result}");
    // mittwald documents 403, not 404, for a project one cannot reach.
    assert_eq!(result["after"], 403, "{result}");
    let id = result["id"]
        .as_str()
        .expect("the new project's id")
        .to_string();

    // A refused request, for the inspector to give its reasons.
    let refused = send_json(
        addr,
        "POST",
        &format!("/v2/servers/{SERVER}/projects"),
        &[TOKEN],
        json!({"description": 42}),
    )
    .await;
    assert_eq!(refused.status, 400);
    // A project in the default session, for the reset to take away.
    let kept = send_json(
        addr,
        "POST",
        &format!("/v2/servers/{SERVER}/projects"),
        &[TOKEN],
        json!({"description": "Inspector probe"}),
    )
    .await;
    assert_eq!(kept.status, 201);

    // (b) The inspector shows the flow's requests, refusal reasons included.
    browser.goto(&format!("{mock_url}/__understudy/")).await;
    let rows = browser
        .wait_for(
            &format!(
                "const rows = [...document.querySelectorAll('#requests tr')].map((r) => r.textContent);
                 return rows.some((r) => r.includes('/v2/projects/{id}') && r.includes('DELETE') && r.includes('204'))
                     && rows.some((r) => r.includes('400'))
                     ? rows : null;"
            ),
            Duration::from_secs(10),
            "the flow's requests in the inspector",
        )
        .await;
    let rows: Vec<&str> = rows
        .as_array()
        .expect("rows")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(
        rows.iter()
            .any(|r| r.contains("POST") && r.contains("/projects") && r.contains("201")),
        "{rows:#?}"
    );
    let refusal = rows
        .iter()
        .find(|r| r.contains("400"))
        .expect("the refused create");
    assert!(
        refusal.contains("description"),
        "the reason names the field: {refusal}"
    );
    let operations = browser
        .eval("return document.querySelectorAll('#operations tr').length")
        .await;
    assert!(operations.as_u64().is_some_and(|n| n >= 5), "{operations}");
    browser
        .wait_for(
            "return document.getElementById('state-tree').textContent.includes('Inspector probe')",
            Duration::from_secs(10),
            "the new project in the state tree",
        )
        .await;
    // An item of the tree opens where it is clicked, and stays open.
    let item = "#state-tree details[data-path^='$/collections/projects/']";
    browser.click(&format!("{item} > summary")).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let opened = browser
        .eval(&format!("return document.querySelector(\"{item}\").open"))
        .await;
    assert_eq!(opened, true, "the item stays open across refreshes");

    // The clock moves by the button.
    browser.type_into("#advance-input", "2h").await;
    browser.click("#advance-button").await;
    browser
        .wait_for(
            "return document.getElementById('clock-offset').textContent.includes('7200000')",
            Duration::from_secs(10),
            "the clock to show the move",
        )
        .await;
    let clock = send(addr, "GET", "/__understudy/clock", &[], b"")
        .await
        .json();
    assert_eq!(
        clock["offset_ms"], 7_200_000,
        "the server's clock moved: {clock}"
    );
    browser.screenshot(&screenshot_path("inspector.png")).await;

    // The reset takes the session back to its seed data.
    browser.click("#reset-button").await;
    browser
        .wait_for(
            "const t = document.getElementById('state-tree').textContent; return t.length > 0 && !t.includes('Inspector probe')",
            Duration::from_secs(10),
            "the state tree without the project",
        )
        .await;
    let state = send(addr, "GET", "/__understudy/state", &[], b"").await;
    assert!(
        !String::from_utf8_lossy(&state.body).contains("Inspector probe"),
        "the server's session was reset"
    );
    let clock = send(addr, "GET", "/__understudy/clock", &[], b"")
        .await
        .json();
    assert_eq!(clock["offset_ms"], 0, "the reset session's clock: {clock}");
    browser.close().await;
}

#[tokio::test]
async fn the_inspector_page_is_for_this_machine_and_never_framed() {
    let (child, addr) = spawn_mittwald(&[]);
    let _mock = Mock(child, addr);
    let browser_accept = ("accept", "text/html,application/xhtml+xml,*/*;q=0.8");
    let page = send(addr, "GET", "/__understudy/", &[browser_accept], b"").await;
    assert_eq!(page.status, 200);
    assert!(
        page.header("content-type")
            .is_some_and(|t| t.starts_with("text/html"))
    );
    assert_eq!(page.header("x-frame-options"), Some("DENY"));
    assert!(
        page.header("content-security-policy").is_some_and(|p| p
            .contains("frame-ancestors 'none'")
            && p.contains("connect-src 'self'"))
    );
    // Tools still get the JSON list of endpoints.
    let listing = send(addr, "GET", "/__understudy/", &[], b"").await;
    assert!(listing.json()["endpoints"].is_array());
    let operations = send(addr, "GET", "/__understudy/operations", &[], b"")
        .await
        .json();
    let create = operations["operations"]
        .as_array()
        .expect("operations")
        .iter()
        .find(|o| o["id"] == "project-create-project")
        .expect("the create operation")
        .clone();
    assert_eq!(create["method"], "POST");
    assert!(create["rules"].as_u64().is_some_and(|n| n >= 1), "{create}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_html_report_reads_from_disk_with_the_failure_open() {
    let Some(browser) = Browser::start().await else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("understudy-html-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch folder");
    let scenario = dir.join("wrong.yaml");
    std::fs::write(
        &scenario,
        "api: datallog\nheaders: {Authorization: Token mock-token, x-api-key: mock-key}\nscenarios:\n  - name: a create expected to fail\n    steps:\n      - name: create without a name\n        request: {method: POST, path: /api/create-project, json: {region: us-east-1, docker_version: python-3.10}}\n        expect: {status: 200}\n  - name: a passing create\n    steps:\n      - name: create\n        request: {method: POST, path: /api/create-project, json: {region: us-east-1, docker_version: python-3.10, name: html-report}}\n        expect: {status: 200}\n",
    )
    .expect("scenario written");
    let html = dir.join("run.html");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_understudy"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["run", "--color", "never", "--report"])
        .arg(format!("html={}", html.display()))
        .arg(&scenario)
        .output()
        .expect("the binary runs");
    assert_eq!(
        output.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    browser.goto(&format!("file://{}", html.display())).await;
    let shown = browser
        .wait_for(
            "const found = [...document.querySelectorAll('details.scenario')].map((d) => ({
                 open: d.open, failed: d.classList.contains('failed'),
                 text: d.innerText }));
             return found.length ? found : null;",
            Duration::from_secs(10),
            "the report's scenarios",
        )
        .await;
    browser
        .screenshot(&screenshot_path("html-report.png"))
        .await;
    let shown = shown.as_array().expect("scenarios").clone();
    assert_eq!(shown.len(), 2, "{shown:?}");
    let failed = shown
        .iter()
        .find(|s| s["failed"] == true)
        .expect("the failure");
    assert_eq!(failed["open"], true, "a failure is open");
    let text = failed["text"].as_str().unwrap_or_default();
    assert!(text.contains("expected 200, got 400"), "{text}");
    assert!(
        text.contains("Missing required field(s): name"),
        "the response: {text}"
    );
    let passed = shown
        .iter()
        .find(|s| s["failed"] == false)
        .expect("the pass");
    assert_eq!(passed["open"], false, "a pass is folded");
    browser.close().await;
    let _ = std::fs::remove_dir_all(&dir);
}
