//! Clients that are slow, greedy or malicious, over loopback: each is cut
//! off or refused cleanly and nobody else waits for it. Every wait here is
//! bounded and generous; nothing measures speed.

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};
use understudy::mock::{MockOptions, MockService, RunningMock};

const SHORT: Duration = Duration::from_millis(300);

async fn datallog(options: MockOptions) -> RunningMock {
    let bundled = understudy::behaviour::bundled::find("datallog").expect("bundled");
    let (api, fixture) = bundled.load().expect("loads");
    let service = MockService::new(Arc::new(api), Arc::new(fixture), options);
    RunningMock::start(service).await.expect("starts")
}

fn options() -> MockOptions {
    MockOptions {
        read_timeout: SHORT,
        ..MockOptions::default()
    }
}

/// Reads what the server sends until it closes or `limit` passes.
fn read_all(stream: &mut TcpStream, limit: Duration) -> String {
    stream.set_read_timeout(Some(limit)).expect("timeout set");
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn post(path: &str, body: &str) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nx-api-key: mock-key\r\nauthorization: Token mock-token\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
}

/// POSTs `body` to the create endpoint on a raw connection; what came back.
async fn post_raw(addr: SocketAddr, body: String) -> String {
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).expect("connects");
        stream
            .write_all(post("/api/create-project", &body).as_bytes())
            .expect("written");
        read_all(&mut stream, Duration::from_secs(5))
    })
    .await
    .expect("joined")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_client_that_never_finishes_its_headers_is_cut_off_and_others_are_served() {
    let mock = datallog(options()).await;
    let addr = mock.addr;
    let slow = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).expect("connects");
        stream
            .write_all(b"GET /api/create-project HTTP/1.1\r\nhost: x\r\n")
            .expect("half the headers");
        let started = Instant::now();
        let answer = read_all(&mut stream, Duration::from_secs(5));
        (started.elapsed(), answer)
    });
    // Meanwhile a normal client is answered.
    let answer = common::send(addr, "GET", "/api/create-project", &[], b"").await;
    assert_eq!(answer.status, 405, "the other client is served");
    let (waited, _) = slow.await.expect("joined");
    assert!(
        waited < Duration::from_secs(5),
        "the slow client was cut off, not left hanging ({waited:?})"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_that_stops_arriving_gets_408() {
    let mock = datallog(options()).await;
    let addr = mock.addr;
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).expect("connects");
        let request = post("/api/create-project", &" ".repeat(100));
        // Headers and a tenth of the body, then nothing.
        let cut = request.len() - 90;
        stream
            .write_all(&request.as_bytes()[..cut])
            .expect("written");
        read_all(&mut stream, Duration::from_secs(5))
    })
    .await
    .expect("joined");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
}

#[tokio::test(flavor = "multi_thread")]
async fn bodies_too_large_too_deep_or_with_huge_numbers_are_refused_cleanly() {
    let mock = datallog(MockOptions {
        body_limit: 4096,
        ..options()
    })
    .await;
    let addr = mock.addr;
    let large = post_raw(addr, format!("{{\"name\": \"{}\"}}", "a".repeat(5000))).await;
    assert!(large.starts_with("HTTP/1.1 413"), "{large}");
    assert!(large.contains("4096"), "the limit is named: {large}");
    // Deep enough to overflow the stack of a parser without a limit.
    let roomy = datallog(options()).await;
    let deep = post_raw(
        roomy.addr,
        format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)),
    )
    .await;
    assert!(deep.starts_with("HTTP/1.1 400"), "{deep}");
    let huge = post_raw(
        addr,
        r#"{"name": 1e999, "region": "us-east-1"}"#.to_string(),
    )
    .await;
    assert!(huge.starts_with("HTTP/1.1 400"), "{huge}");
    // And the mock still answers.
    let answer = common::send(addr, "GET", "/api/create-project", &[], b"").await;
    assert_eq!(answer.status, 405);
}

#[tokio::test(flavor = "multi_thread")]
async fn past_the_connection_cap_a_client_waits_for_a_free_slot() {
    let mock = datallog(MockOptions {
        max_connections: 1,
        ..options()
    })
    .await;
    let addr: SocketAddr = mock.addr;
    // Takes the only slot and sends nothing: cut off after SHORT.
    let idle = TcpStream::connect(addr).expect("connects");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let waiting = tokio::spawn(common::send(addr, "GET", "/api/create-project", &[], b""));
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!waiting.is_finished(), "served while the cap was taken");
    let answer = tokio::time::timeout(Duration::from_secs(5), waiting)
        .await
        .expect("served once the idle client was cut off")
        .expect("joined");
    assert_eq!(answer.status, 405);
    drop(idle);
}

#[test]
fn sigterm_lets_the_request_in_flight_finish_then_exits_0() {
    let args: Vec<&std::ffi::OsStr> = [
        "serve",
        "--spec",
        "specs/datallog.yaml",
        "--fixture",
        "fixtures/datallog.yaml",
        "--port",
        "0",
        "--no-reload",
        "--quiet",
    ]
    .iter()
    .map(std::ffi::OsStr::new)
    .collect();
    let (mut server, addr) = common::spawn_binary(&args);

    // A request in flight: headers and half the body.
    let body = r#"{"region": "us-east-1", "docker_version": "python-3.10", "name": "in-flight"}"#;
    let request = post("/api/create-project", body);
    let (head, rest) = request.split_at(request.len() - 20);
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream.write_all(head.as_bytes()).expect("first part");
    std::thread::sleep(Duration::from_millis(50));

    let killed = Command::new("kill")
        .args(["-TERM", &server.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(killed.success());
    std::thread::sleep(Duration::from_millis(50));
    stream.write_all(rest.as_bytes()).expect("the rest");
    let answer = read_all(&mut stream, Duration::from_secs(5));
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.try_wait().expect("waits") {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "the server did not stop"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    assert_eq!(status.code(), Some(0));
    let mut stderr = String::new();
    let _ = server
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut stderr);
    assert!(stderr.contains("stopped"), "{stderr}");
    // Nothing is accepted any more.
    assert!(TcpStream::connect(addr).is_err());
}

/// Sends `raw` on a fresh connection (half-closing it when `close_write`);
/// what came back within a few seconds.
async fn exchange(addr: SocketAddr, raw: Vec<u8>, close_write: bool) -> String {
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).expect("connects");
        stream.write_all(&raw).expect("written");
        if close_write {
            let _ = stream.shutdown(std::net::Shutdown::Write);
        }
        read_all(&mut stream, Duration::from_secs(3))
    })
    .await
    .expect("joined")
}

#[tokio::test(flavor = "multi_thread")]
async fn protocol_mistakes_get_400_and_an_oversized_body_413_before_it_is_sent() {
    let mock = datallog(MockOptions {
        body_limit: 4096,
        ..options()
    })
    .await;
    let addr = mock.addr;
    let no_host = exchange(
        addr,
        b"GET /api/list-regions HTTP/1.1\r\nconnection: close\r\n\r\n".to_vec(),
        false,
    )
    .await;
    assert!(no_host.starts_with("HTTP/1.1 400"), "{no_host}");
    assert!(no_host.contains("Host"), "{no_host}");
    let chunked = |body: &str| {
        format!(
            "POST /api/create-project HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\nconnection: close\r\n\r\n{body}"
        )
        .into_bytes()
    };
    for (what, body, close_write) in [
        (
            "a chunk size that is no number",
            "zz\r\n{}\r\n0\r\n\r\n",
            false,
        ),
        ("a connection that ends mid-chunk", "10\r\n{\"na", true),
    ] {
        let answer = exchange(addr, chunked(body), close_write).await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{what}: {answer}");
    }
    // Asked to confirm first, the mock refuses at once: no `100 Continue`
    // for a body it would refuse anyway.
    let expecting = exchange(
        addr,
        b"POST /api/create-project HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nexpect: 100-continue\r\ncontent-length: 5000\r\nconnection: close\r\n\r\n".to_vec(),
        false,
    )
    .await;
    assert!(expecting.starts_with("HTTP/1.1 413"), "{expecting}");
    assert!(!expecting.contains("100 Continue"), "{expecting}");
    // And the mock still answers.
    let answer = common::send(addr, "GET", "/api/create-project", &[], b"").await;
    assert_eq!(answer.status, 405);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_web_page_can_neither_read_nor_change_the_admin_api() {
    let mock = datallog(options()).await;
    let addr = mock.addr;
    // Read from another origin: answered (curl is not a page), but with no
    // CORS headers, so a browser keeps the answer from the page.
    let read = exchange(
        addr,
        b"GET /__understudy/sessions HTTP/1.1\r\nhost: 127.0.0.1\r\norigin: http://evil.example\r\nconnection: close\r\n\r\n".to_vec(),
        false,
    )
    .await;
    assert!(read.starts_with("HTTP/1.1 200"), "{read}");
    assert!(
        !read.to_ascii_lowercase().contains("access-control-allow"),
        "{read}"
    );
    // A name that resolves here (DNS rebinding) is not a loopback name.
    let rebound = exchange(
        addr,
        b"GET /__understudy/state HTTP/1.1\r\nhost: evil.example:4010\r\nconnection: close\r\n\r\n"
            .to_vec(),
        false,
    )
    .await;
    assert!(rebound.starts_with("HTTP/1.1 403"), "{rebound}");
    // A form or text post, which a page may send without asking first.
    let reset = exchange(
        addr,
        b"POST /__understudy/reset?all=true HTTP/1.1\r\nhost: localhost\r\ncontent-type: text/plain\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".to_vec(),
        false,
    )
    .await;
    assert!(reset.starts_with("HTTP/1.1 415"), "{reset}");
    let json_reset = common::send_json(
        addr,
        "POST",
        "/__understudy/reset?all=true",
        &[],
        serde_json::Value::Null,
    )
    .await;
    assert_eq!(json_reset.status, 200, "the tools' own calls still work");
    // The API itself keeps its CORS answers for pages.
    let api = common::send(
        addr,
        "GET",
        "/api/create-project",
        &[("origin", "http://localhost:3000")],
        b"",
    )
    .await;
    assert_eq!(
        api.header("access-control-allow-origin"),
        Some("http://localhost:3000")
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_small_body_of_many_values_is_refused_before_it_is_parsed() {
    // `[{},{},…]` parses into dozens of times its size: counted first.
    let mock = datallog(MockOptions {
        max_body_values: 1000,
        ..options()
    })
    .await;
    let many = format!("[{}{{}}]", "{},".repeat(2000));
    let refused = post_raw(mock.addr, many).await;
    assert!(refused.starts_with("HTTP/1.1 413"), "{refused}");
    assert!(
        refused.contains("more than 1000 JSON values (--max-body-values)"),
        "{refused}"
    );
    // Strings holding the counted characters are not counted.
    let commas = format!(
        "{{\"name\": \"{}\", \"region\": \"us-east-1\"}}",
        ",:[{".repeat(1000)
    );
    let counted_right = post_raw(mock.addr, commas).await;
    assert!(
        !counted_right.starts_with("HTTP/1.1 413"),
        "{counted_right}"
    );
    // The default lets a body of a few hundred thousand values through
    // to the schema, and refuses 3 million.
    let roomy = datallog(options()).await;
    let within = post_raw(roomy.addr, format!("[{}1]", "1,".repeat(300_000))).await;
    assert!(
        within.starts_with("HTTP/1.1 400"),
        "{}",
        &within[..within.len().min(300)]
    );
    let beyond = post_raw(roomy.addr, format!("[{}{{}}]", "{},".repeat(3_000_000))).await;
    assert!(
        beyond.starts_with("HTTP/1.1 413"),
        "{}",
        &beyond[..beyond.len().min(300)]
    );
}
