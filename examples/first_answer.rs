//! Start-up time as a client sees it: from spawning a server to the first
//! complete HTTP answer on its port. `bench/run` uses it for the start-up
//! column; it is an example, not a test, because timings do not belong in
//! `cargo test`.
//!
//! Usage: `first_answer RUNS PORT PATH -- COMMAND [ARGS…]`
//! Prints the median, minimum and maximum in milliseconds.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const GIVE_UP: Duration = Duration::from_secs(30);

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(split) = args.iter().position(|a| a == "--") else {
        usage();
    };
    let (head, command) = (&args[..split], &args[split + 1..]);
    let (Some(runs), Some(port), Some(path), Some(program)) = (
        head.first().and_then(|r| r.parse::<usize>().ok()),
        head.get(1).and_then(|p| p.parse::<u16>().ok()),
        head.get(2),
        command.first(),
    ) else {
        usage();
    };
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs.max(1) {
        let started = Instant::now();
        let mut child = match Command::new(program)
            .args(&command[1..])
            .stdout(Stdio::null())
            .stderr(Stdio::inherit())
            .spawn()
        {
            Ok(child) => child,
            Err(e) => {
                eprintln!("first_answer: cannot start {program}: {e}");
                std::process::exit(2);
            }
        };
        let answered = loop {
            if started.elapsed() > GIVE_UP {
                break None;
            }
            if let Ok(Some(status)) = child.try_wait() {
                eprintln!("first_answer: {program} exited early with {status}");
                break None;
            }
            if answers(port, path) {
                break Some(started.elapsed());
            }
            std::thread::sleep(Duration::from_micros(200));
        };
        let _ = child.kill();
        let _ = child.wait();
        match answered {
            Some(elapsed) => times.push(elapsed.as_secs_f64() * 1000.0),
            None => {
                eprintln!("first_answer: no answer on port {port} within {GIVE_UP:?}");
                std::process::exit(1);
            }
        }
    }
    times.sort_by(f64::total_cmp);
    let median = times[times.len() / 2];
    println!("{median:.1} {:.1} {:.1}", times[0], times[times.len() - 1]);
}

/// True when a GET of `path` gets a complete status line back.
fn answers(port: u16, path: &str) -> bool {
    let Ok(mut stream) = TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    if stream.write_all(request.as_bytes()).is_err() {
        return false;
    }
    let mut head = [0u8; 12];
    stream.read_exact(&mut head).is_ok() && head.starts_with(b"HTTP/1.1 ")
}

fn usage() -> ! {
    eprintln!("usage: first_answer RUNS PORT PATH -- COMMAND [ARGS...]");
    std::process::exit(2);
}
