//! Shared by the HTTP-level tests: start a mock, send real requests over loopback.
#![allow(dead_code)]

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use understudy::behaviour::Fixture;
use understudy::mock::{MockOptions, MockService, RunningMock};
use understudy::spec::Api;

pub mod browser;

pub struct Answer {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
}

impl Answer {
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// Sends one request on a fresh connection.
pub async fn send(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Answer {
    KeptAlive::open(addr)
        .await
        .send(method, target, headers, body)
        .await
}

/// One kept-alive connection to a mock: requests sent on it in turn.
pub struct KeptAlive {
    addr: SocketAddr,
    sender: hyper::client::conn::http1::SendRequest<Full<Bytes>>,
}

impl KeptAlive {
    pub async fn open(addr: SocketAddr) -> Self {
        let stream = tokio::net::TcpStream::connect(addr)
            .await
            .expect("connect to the mock");
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .expect("handshake");
        tokio::spawn(connection);
        Self { addr, sender }
    }

    pub async fn send(
        &mut self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Answer {
        let mut builder = Request::builder()
            .method(method)
            .uri(target)
            .header("host", self.addr.to_string());
        for (k, v) in headers {
            builder = builder.header(*k, *v);
        }
        let request = builder
            .body(Full::new(Bytes::copy_from_slice(body)))
            .expect("request");
        let response = self.sender.send_request(request).await.expect("response");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = response
            .into_body()
            .collect()
            .await
            .expect("body")
            .to_bytes();
        Answer {
            status,
            headers,
            body,
        }
    }
}

/// A running mock and the spec it serves.
pub type RunningPair = (RunningMock, Arc<Api>);

/// Sends `body` as JSON (`Value::Null`: no body) with `headers`.
pub async fn send_json(
    addr: SocketAddr,
    method: &str,
    target: &str,
    headers: &[(&str, &str)],
    body: serde_json::Value,
) -> Answer {
    let bytes = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    let mut all = headers.to_vec();
    all.push(("content-type", "application/json"));
    send(addr, method, target, &all, &bytes).await
}

/// Sends a request built from the spec (`sample_request`) as it is.
pub async fn send_sample(
    addr: SocketAddr,
    request: &understudy::generate::request::SampleRequest,
) -> Answer {
    let headers: Vec<(&str, &str)> = request
        .headers
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    send(
        addr,
        request.method.as_str(),
        &request.target,
        &headers,
        &request.body,
    )
    .await
}

/// The notes of the request journal (`GET /__understudy/requests`): why
/// each answer was given as it was, where the log says more than a status.
pub async fn journal_notes(addr: SocketAddr) -> Vec<String> {
    let journal = send(addr, "GET", "/__understudy/requests", &[], b"").await;
    journal.json()["requests"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|e| e["note"].as_str().map(str::to_string))
        .collect()
}

/// A mock of `api` and `fixture` with `options`, and the service it runs
/// (for what only the service tells, such as its kept answers).
pub async fn start_service(
    api: Api,
    fixture: Fixture,
    options: MockOptions,
) -> (RunningMock, Arc<MockService>) {
    let service = Arc::new(MockService::new(Arc::new(api), Arc::new(fixture), options));
    let mock = RunningMock::start_shared(service.clone())
        .await
        .expect("mock starts");
    (mock, service)
}

/// The bundled API `name`'s spec and fixture.
pub fn bundled(name: &str) -> (Api, Fixture) {
    let bundled = understudy::behaviour::bundled::find(name).expect("bundled API");
    bundled.load().expect("bundled API loads")
}

pub async fn start(api: Api, fixture: Fixture) -> RunningPair {
    let api = Arc::new(api);
    let service = MockService::new(api.clone(), Arc::new(fixture), MockOptions::default());
    (RunningMock::start(service).await.expect("mock starts"), api)
}

pub async fn start_bundled(name: &str) -> (RunningMock, Arc<Api>) {
    let bundled = understudy::behaviour::bundled::find(name).expect("bundled API");
    let (api, fixture) = bundled.load().expect("bundled API loads");
    start(api, fixture).await
}

/// `../shared/real-specs/<file>`, or `None` (with a notice) when absent.
pub fn real_spec(file: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../shared/real-specs")
        .join(file);
    if path.exists() {
        Some(path)
    } else {
        eprintln!(
            "notice: {} is absent; skipping the real-spec test",
            path.display()
        );
        None
    }
}

/// Starts the `understudy` binary with `args` (from the crate's folder),
/// waits for its `ready` line and returns it with the first API's address.
/// Its stderr stays piped for the test to read.
pub fn spawn_binary(args: &[&std::ffi::OsStr]) -> (std::process::Child, SocketAddr) {
    let (child, addr, _) = spawn_binary_with_banner(args);
    (child, addr)
}

/// [`spawn_binary`], with the lines it printed up to `ready` included.
pub fn spawn_binary_with_banner(
    args: &[&std::ffi::OsStr],
) -> (std::process::Child, SocketAddr, Vec<String>) {
    use std::io::{BufRead, Read};
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_understudy"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("the server starts");
    let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout"));
    let mut url = None;
    let mut banner = Vec::new();
    for _ in 0..10 {
        let mut line = String::new();
        if lines.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        banner.push(line.trim_end().to_string());
        if url.is_none()
            && let Some(at) = line.find("http://127.0.0.1:")
        {
            url = line[at + 7..].split_whitespace().next().map(str::to_string);
        }
        if line.starts_with("ready") {
            break;
        }
    }
    let Some(url) = url else {
        let mut stderr = String::new();
        let _ = child.kill();
        let _ = child
            .stderr
            .take()
            .map(|mut e| e.read_to_string(&mut stderr));
        panic!("the server did not start: {stderr}");
    };
    (child, url.parse().expect("an address"), banner)
}

/// The arguments that serve the bundled mittwald spec and fixture on a
/// free port, with `extra` flags.
pub fn mittwald_args(extra: &[&str]) -> Vec<std::ffi::OsString> {
    [
        "serve",
        "--spec",
        "specs/mittwald.json",
        "--fixture",
        "fixtures/mittwald.yaml",
        "--port",
        "0",
        "--no-reload",
    ]
    .iter()
    .chain(extra)
    .map(std::ffi::OsString::from)
    .collect()
}

/// The binary serving [`mittwald_args`]; `wait_within` or `kill` ends it.
pub fn spawn_mittwald(extra: &[&str]) -> (std::process::Child, SocketAddr) {
    let args = mittwald_args(extra);
    spawn_binary(&args.iter().map(|a| a.as_os_str()).collect::<Vec<_>>())
}

/// Waits for `child` to exit, at most `limit`; past it the child is killed
/// and `None` returned, so a process that should have stopped cannot hang
/// the test.
pub fn wait_within(
    child: &mut std::process::Child,
    limit: std::time::Duration,
) -> Option<std::process::ExitStatus> {
    let deadline = std::time::Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("waits") {
            return Some(status);
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}
