//! The Datallog scenarios against an implementation of Datallog's
//! documentation that shares nothing with understudy (`tests/peers/
//! datallog.py`), where every scenario uses the same account, as they do
//! against the real service: they must pass there as against the mock.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// A free port on loopback, found by binding and letting go.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

struct Peer(std::process::Child);

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_datallog_scenarios_pass_against_an_independent_implementation() {
    let root = env!("CARGO_MANIFEST_DIR");
    let port = free_port();
    let child = match Command::new("python3")
        .arg(format!("{root}/tests/peers/datallog.py"))
        .arg(port.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
    {
        Ok(child) => child,
        Err(e) => {
            eprintln!("notice: python3 cannot be started ({e}); skipping the peer test");
            return;
        }
    };
    let mut peer = Peer(child);
    let mut ready = String::new();
    let stdout = peer.0.stdout.take().expect("stdout");
    BufReader::new(stdout)
        .read_line(&mut ready)
        .expect("the peer says it is ready");
    assert_eq!(ready.trim(), "ready");
    let out = Command::new(env!("CARGO_BIN_EXE_understudy"))
        .current_dir(root)
        .args(["run", "--color", "never", "--target"])
        .arg(format!("datallog=http://127.0.0.1:{port}"))
        .arg("scenarios/datallog")
        .env_remove("DATALLOG_TOKEN")
        .env_remove("DATALLOG_LIMIT_TOKEN")
        .output()
        .expect("the runner runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("passed"), "{text}");
    drop(peer);
}
