//! Serves one spec with no fixture and sends one request to each of its
//! operations, as a new user would; prints one table row saying whether
//! every answer stayed within the spec's contract. `bench/specs` runs it
//! over `../shared/real-specs`.
//!
//! Usage: `spec_survey UNDERSTUDY SPEC PORT [MAX_OPERATIONS]`
//!
//! The row: spec, operations sent, time to first answer (ms), answers by
//! status class, answers outside the contract (undocumented status, media
//! type or an invalid body, judged by the runner's own conformance check),
//! 5xx, connection errors or hangs, and the server's RSS after the run.
//! With `SURVEY_VERBOSE=1` each answer outside the contract (with the body
//! that was sent), and each refusal of a request built to be valid, is
//! printed.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use understudy::generate::request::sample_request;
use understudy::runner::conformance;
use understudy::runner::http::Incoming;
use understudy::spec::Api;

/// Longest wait for one answer before it counts as a hang.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest wait for the server's first answer.
const START_TIMEOUT: Duration = Duration::from_secs(60);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(bin), Some(spec), Some(port)) = (
        args.first(),
        args.get(1),
        args.get(2).and_then(|p| p.parse::<u16>().ok()),
    ) else {
        eprintln!("usage: spec_survey UNDERSTUDY SPEC PORT [MAX_OPERATIONS]");
        std::process::exit(2);
    };
    let max: usize = args.get(3).and_then(|m| m.parse().ok()).unwrap_or(300);
    let verbose = std::env::var_os("SURVEY_VERBOSE").is_some();
    let api = match Api::load(Path::new(spec)) {
        Ok(api) => api,
        Err(e) => {
            eprintln!("spec_survey: {spec}: {e}");
            std::process::exit(1);
        }
    };
    let started = Instant::now();
    let mut server = Server(
        Command::new(bin)
            .args(["serve", spec, "--quiet", "--no-reload", "--port"])
            .arg(port.to_string())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| {
                eprintln!("spec_survey: cannot start {bin}: {e}");
                std::process::exit(2);
            }),
    );
    let first_answer = loop {
        if started.elapsed() > START_TIMEOUT {
            eprintln!("spec_survey: {spec}: no answer within {START_TIMEOUT:?}");
            std::process::exit(1);
        }
        if let Ok(Some(status)) = server.0.try_wait() {
            eprintln!("spec_survey: {spec}: the server exited with {status}");
            std::process::exit(1);
        }
        if send(port, "GET", "/__understudy/sessions", &[], &[]).is_ok() {
            break started.elapsed();
        }
        std::thread::sleep(Duration::from_millis(2));
    };
    let mut by_class: BTreeMap<u16, usize> = BTreeMap::new();
    let (mut outside, mut server_errors, mut broken, mut sent) = (0, 0, 0, 0);
    for operation in api.operations.iter().take(max) {
        sent += 1;
        let request = sample_request(&api, operation, 7);
        let what = format!("{} {}", request.method, request.target);
        let answer = match send(
            port,
            request.method.as_str(),
            &request.target,
            &request.headers,
            &request.body,
        ) {
            Ok(answer) => answer,
            Err(e) => {
                broken += 1;
                if verbose {
                    eprintln!("CONNECTION {what}: {e}");
                }
                continue;
            }
        };
        *by_class.entry(answer.status / 100).or_default() += 1;
        if answer.status >= 500 {
            server_errors += 1;
        }
        if verbose && answer.status >= 400 {
            eprintln!(
                "REFUSED {what} → {}: {}",
                answer.status,
                String::from_utf8_lossy(&answer.body[..answer.body.len().min(300)])
            );
        }
        let path = request.target.split('?').next().unwrap_or_default();
        let verdict = conformance::check(&api, &request.method, path, &answer);
        let undocumented = operation.response_for(answer.status).is_none();
        if undocumented || !verdict.failures.is_empty() {
            outside += 1;
            if verbose {
                let why: Vec<String> = if undocumented {
                    vec![format!("status {} is not documented", answer.status)]
                } else {
                    verdict.failures.iter().map(|f| f.message.clone()).collect()
                };
                eprintln!(
                    "OUTSIDE {what} → {}: {} {}\n  sent: {}",
                    answer.status,
                    why.join("; "),
                    String::from_utf8_lossy(&answer.body[..answer.body.len().min(300)]),
                    String::from_utf8_lossy(&request.body[..request.body.len().min(2000)])
                );
            }
        }
    }
    let rss = rss_mb(server.0.id()).unwrap_or(f64::NAN);
    let classes: Vec<String> = by_class
        .iter()
        .map(|(class, n)| format!("{class}xx:{n}"))
        .collect();
    let name = Path::new(spec)
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    println!(
        "| {name} | {sent} | {:.0} | {} | {outside} | {server_errors} | {broken} | {rss:.0} |",
        first_answer.as_secs_f64() * 1000.0,
        classes.join(" "),
    );
}

/// Kills the server however the survey ends.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// One HTTP/1.1 exchange on a fresh connection, read to its end.
fn send(
    port: u16,
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
) -> Result<Incoming, String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    stream
        .set_read_timeout(Some(ANSWER_TIMEOUT))
        .map_err(|e| e.to_string())?;
    let mut head =
        format!("{method} {target} HTTP/1.1\r\nhost: 127.0.0.1:{port}\r\nconnection: close\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || matches!(method, "POST" | "PUT" | "PATCH") {
        head.push_str(&format!("content-length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    stream
        .write_all(head.as_bytes())
        .and_then(|_| stream.write_all(body))
        .map_err(|e| e.to_string())?;
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .map_err(|e| format!("no complete answer: {e}"))?;
    parse(&raw, method == "HEAD")
}

fn parse(raw: &[u8], head_only: bool) -> Result<Incoming, String> {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .ok_or("the answer has no complete head")?;
    let text = String::from_utf8_lossy(&raw[..end]);
    let mut lines = text.split("\r\n");
    let status: u16 = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or("no status line")?;
    let mut headers = hyper::HeaderMap::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':')
            && let (Ok(name), Ok(value)) = (
                hyper::header::HeaderName::from_bytes(name.trim().as_bytes()),
                hyper::header::HeaderValue::from_str(value.trim()),
            )
        {
            headers.append(name, value);
        }
    }
    let mut body = raw[end + 4..].to_vec();
    if head_only {
        body.clear();
    } else if headers
        .get("transfer-encoding")
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"chunked"))
    {
        body = dechunk(&body)?;
    }
    let json = serde_json::from_slice(&body).ok();
    Ok(Incoming {
        status,
        headers,
        body: body.into(),
        json,
    })
}

fn dechunk(mut raw: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = raw
            .windows(2)
            .position(|w| w == b"\r\n")
            .ok_or("a chunk size line is cut off")?;
        let size_text = String::from_utf8_lossy(&raw[..line_end]);
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
        raw = &raw[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = raw.get(..size).ok_or("a chunk is cut off")?;
        out.extend_from_slice(chunk);
        raw = raw.get(size + 2..).unwrap_or_default();
    }
}

fn rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}
