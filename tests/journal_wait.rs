//! The README's promise beside `--state-file`: while the state file's
//! journal lags too far behind, an answer that changed the state waits (for
//! at most two flush intervals) and is sent as soon as the journal catches
//! up; answers that change nothing never wait. Here the journal is one that
//! never writes unless the test says so: a real mock over HTTP, with the
//! journal's progress in the test's hands.

mod common;

use common::{send, send_json};
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use understudy::mock::journal_lag::JournalLag;
use understudy::mock::{MockOptions, RunningMock};

const SERVER: &str = "8c6a0f5e-2b1d-4e3a-9f47-0d5c1b2a3e4f";
const FLUSH: Duration = Duration::from_millis(200);
const TOKEN: (&str, &str) = ("x-access-token", "mock-token");

async fn mittwald_with(lag: Arc<JournalLag>) -> RunningMock {
    let (api, fixture) = common::bundled("mittwald");
    let options = MockOptions {
        changed: Some(Arc::new(tokio::sync::Notify::new())),
        journal_lag: Some(lag),
        ..MockOptions::default()
    };
    common::start_service(api, fixture, options).await.0
}

/// Creates a project; how long the answer took.
async fn timed_create(mock: &RunningMock) -> Duration {
    let started = Instant::now();
    let created = send_json(
        mock.addr,
        "POST",
        &format!("/v2/servers/{SERVER}/projects"),
        &[TOKEN],
        json!({"description": "waits"}),
    )
    .await;
    assert_eq!(created.status, 201);
    started.elapsed()
}

#[tokio::test]
async fn a_change_waits_while_the_journal_lags_and_goes_when_it_catches_up() {
    let lag = Arc::new(JournalLag::new(FLUSH));
    let mock = mittwald_with(lag.clone()).await;
    // A first change after an idle journal: the lag counts from now.
    let first = timed_create(&mock).await;
    assert!(first < Duration::from_millis(150), "{first:?}");
    // No journal pass for longer than 3/8 of the interval.
    tokio::time::sleep(FLUSH / 2).await;
    // A read changes nothing: it does not wait.
    let read = Instant::now();
    let server = send(
        mock.addr,
        "GET",
        &format!("/v2/servers/{SERVER}"),
        &[TOKEN],
        b"",
    )
    .await;
    assert_eq!(server.status, 200);
    assert!(
        read.elapsed() < Duration::from_millis(150),
        "{:?}",
        read.elapsed()
    );
    // A change waits, at most two intervals, for a journal that never
    // writes.
    let stalled = timed_create(&mock).await;
    assert!(
        stalled >= FLUSH * 2 - Duration::from_millis(20),
        "{stalled:?}"
    );
    assert!(stalled < FLUSH * 4, "{stalled:?}");
    // The journal catches up while a change waits: it is sent then.
    let catching_up = lag.clone();
    let journal = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(60)).await;
        catching_up.journaled(Instant::now());
    });
    let released = timed_create(&mock).await;
    journal.await.expect("journal pass");
    assert!(released >= Duration::from_millis(50), "{released:?}");
    assert!(
        released < FLUSH * 2 - Duration::from_millis(20),
        "{released:?}"
    );
}
