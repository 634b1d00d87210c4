//! mittwald's official TypeScript client against the bundled mittwald
//! mock (`tests/peers/mittwald_client.mjs`): a frontend's calls, from
//! listing servers to deleting a project, made by the code mittwald ships
//! to its users and answered as it expects. Skipped, with a notice, where
//! Node.js or the client is not installed (`.ci/run` installs it into
//! `target/peers`; `MITTWALD_CLIENT_MODULES` names another
//! `node_modules`).

mod common;

use std::path::PathBuf;
use std::process::Command;

#[test]
fn the_official_mittwald_client_gets_the_answers_it_expects() {
    let root = env!("CARGO_MANIFEST_DIR");
    let modules = std::env::var_os("MITTWALD_CLIENT_MODULES")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(root).join("target/peers/node_modules"));
    let has_node = Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !has_node || !modules.join("@mittwald/api-client/package.json").is_file() {
        eprintln!(
            "notice: node or @mittwald/api-client in {} is absent; skipping the client test",
            modules.display()
        );
        return;
    }
    let (mut server, addr) = common::spawn_mittwald(&["--quiet"]);
    let out = Command::new("node")
        .arg(format!("{root}/tests/peers/mittwald_client.mjs"))
        .arg(&modules)
        .arg(format!("http://{addr}"))
        .output()
        .expect("node runs");
    let _ = server.kill();
    let _ = server.wait();
    let printed = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "{printed}");
    assert!(printed.lines().any(|line| line == "ok"), "{printed}");
}
