//! Waldur's official Python client against the bundled Waldur mock: its
//! generated models must parse every answer of a frontend's calls
//! (`tests/peers/waldur_client.py`). Skipped, with a notice, where the
//! client is not installed (`.ci/run` installs it).

use std::process::Command;

/// A first port with the next two free as well (the bundled APIs take
/// three), below the kernel's ephemeral range.
fn three_free_ports() -> u16 {
    let start = 20_000 + (std::process::id() % 10_000) as u16;
    (start..start + 2_000)
        .step_by(3)
        .find(|p| (0..3).all(|i| std::net::TcpListener::bind(("127.0.0.1", p + i)).is_ok()))
        .expect("three free ports")
}

#[test]
fn the_official_waldur_client_reads_the_mocks_answers() {
    let root = env!("CARGO_MANIFEST_DIR");
    let importable = Command::new("python3")
        .args(["-c", "import waldur_api_client"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !importable {
        eprintln!("notice: python3 with waldur-api-client is absent; skipping the client test");
        return;
    }
    let (mut server, addr) = {
        let mut child = Command::new(env!("CARGO_BIN_EXE_understudy"))
            .current_dir(root)
            .args(["serve", "--quiet", "--no-reload", "--port"])
            .arg(three_free_ports().to_string())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()
            .expect("the mock starts");
        let mut waldur = None;
        let stdout = child.stdout.take().expect("stdout");
        for line in std::io::BufRead::lines(std::io::BufReader::new(stdout)) {
            let line = line.expect("a line");
            if line.trim_start().starts_with("waldur") {
                waldur = line.split_whitespace().nth(1).map(str::to_string);
            }
            if line.starts_with("ready") {
                break;
            }
        }
        (child, waldur.expect("the waldur API's address"))
    };
    let out = Command::new("python3")
        .arg(format!("{root}/tests/peers/waldur_client.py"))
        .arg(&addr)
        .output()
        .expect("python runs");
    let _ = server.kill();
    let _ = server.wait();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("ok"));
}
