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
