//! `serve --fault` and `--latency`: chaos for trying a frontend against a
//! misbehaving backend, over real HTTP on loopback.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::{Duration, Instant};
use understudy::mock::fault::Chaos;
use understudy::mock::{MockOptions, MockService, RunningMock};

async fn datallog(chaos: Chaos) -> RunningMock {
    let (api, fixture) = understudy::behaviour::bundled::find("datallog")
        .expect("bundled")
        .load()
        .expect("loads");
    let options = MockOptions {
        chaos,
        ..MockOptions::default()
    };
    RunningMock::start(MockService::new(Arc::new(api), Arc::new(fixture), options))
        .await
        .expect("starts")
}

#[tokio::test]
async fn every_request_gets_the_chaos_status_at_one_hundred_percent() {
    let mut chaos = Chaos::default();
    chaos.add_fault("503=100%").expect("valid");
    let mock = datallog(chaos).await;
    for _ in 0..5 {
        let answer = common::send(mock.addr, "GET", "/api/create-project", &[], b"").await;
        assert_eq!(answer.status, 503);
        assert_eq!(answer.json()["status"], 503);
    }
    // The admin API is left alone, so tools can still reset and inspect.
    let admin = common::send(mock.addr, "GET", "/__understudy/sessions", &[], b"").await;
    assert_eq!(admin.status, 200);
}

#[tokio::test]
async fn a_share_of_requests_fails_and_the_rest_is_served() {
    let mut chaos = Chaos::default();
    chaos.add_fault("500=50%").expect("valid");
    let mock = datallog(chaos).await;
    let mut failed = 0;
    for _ in 0..200 {
        let answer = common::send(mock.addr, "POST", "/api/create-project", &[], b"{}").await;
        match answer.status {
            500 => failed += 1,
            // Served: no credentials.
            401 => {}
            other => panic!("status {other}"),
        }
    }
    // 200 draws at one half: 60..140 holds with overwhelming probability.
    assert!((60..=140).contains(&failed), "{failed} of 200 failed");
}

#[tokio::test]
async fn a_reset_closes_the_connection_without_an_answer() {
    let mut chaos = Chaos::default();
    chaos.add_fault("reset=100%").expect("valid");
    let mock = datallog(chaos).await;
    let addr = mock.addr;
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(addr).expect("connects");
        stream
            .set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        stream
            .write_all(b"GET /api/create-project HTTP/1.1\r\nhost: x\r\n\r\n")
            .expect("sent");
        let mut out = Vec::new();
        let _ = stream.read_to_end(&mut out);
        out
    })
    .await
    .expect("joined");
    assert!(answer.is_empty(), "{}", String::from_utf8_lossy(&answer));
}

#[tokio::test]
async fn latency_delays_every_answer() {
    let chaos = Chaos {
        latency: Some((Duration::from_millis(150), Duration::from_millis(150))),
        ..Chaos::default()
    };
    let mock = datallog(chaos).await;
    let started = Instant::now();
    let answer = common::send(mock.addr, "POST", "/api/create-project", &[], b"{}").await;
    assert_eq!(answer.status, 401);
    assert!(started.elapsed() >= Duration::from_millis(150));
}

/// Serves the bundled mittwald API with `extra` flags; the banner up to
/// `ready`, the status of one `GET /v2/servers`, and the log.
fn serve_and_ask(extra: &[&str]) -> (Vec<String>, String, String) {
    let args = common::mittwald_args(extra);
    let args: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_os_str()).collect();
    let (mut server, addr, banner) = common::spawn_binary_with_banner(&args);
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    stream
        .write_all(b"GET /v2/servers HTTP/1.1\r\nhost: 127.0.0.1\r\nx-access-token: mock-token\r\nconnection: close\r\n\r\n")
        .expect("sends");
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    let status_line = answer.lines().next().unwrap_or_default().to_string();
    let _ = server.kill();
    let _ = server.wait();
    let mut log = String::new();
    let _ = server.stderr.take().map(|mut e| e.read_to_string(&mut log));
    (banner, status_line, log)
}

#[test]
fn chaos_and_a_mutant_are_named_in_the_banner_and_marked_in_the_log() {
    let (banner, status, log) = serve_and_ask(&["--fault", "503=100%", "--latency", "5ms"]);
    assert!(
        banner.iter().any(|l| l
            == "chaos: status 503 for 100% of requests, 5ms of latency (--fault, --latency); the admin API is spared"),
        "{banner:#?}"
    );
    assert!(status.contains("503"), "{status}");
    assert!(
        log.contains("GET /v2/servers → 503")
            && log.contains("chaos: 503 answered by --fault; chaos: delayed 5 ms by --latency"),
        "{log}"
    );

    let (banner, status, log) = serve_and_ask(&["--mutant", "mittwald/no-auth"]);
    assert!(
        banner
            .iter()
            .any(|l| l.starts_with("mutant: mittwald/no-auth (")),
        "{banner:#?}"
    );
    assert!(status.contains("200"), "{status}");
    assert!(
        log.contains("mittwald [mutant no-auth] GET /v2/servers → 200"),
        "{log}"
    );
}
