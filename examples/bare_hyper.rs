//! The baseline of `bench/run`: a hyper server that answers every request
//! with one fixed JSON body, built with the same hyper, tokio and connection
//! settings as the mock, and the same allocator. The mock's throughput is
//! quoted as a ratio to this, measured in the same run, because absolute
//! numbers on a shared machine mean little.
//!
//! Usage: `cargo run --release --example bare_hyper -- PORT`

use bytes::Bytes;
use http_body_util::Full;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Response, header};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BODY: &[u8] =
    br#"{"id":"3f1f5b4e-8a3c-4c39-9d0b-5b0b1f2e0a11","description":"bench","isReady":true}"#;

fn main() -> std::io::Result<()> {
    let port: u16 = match std::env::args().nth(1).map(|p| p.parse()) {
        Some(Ok(port)) => port,
        _ => {
            eprintln!("usage: bare_hyper PORT");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
        println!("ready on http://127.0.0.1:{port}");
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                continue;
            };
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                let handler = service_fn(|_request| async {
                    Ok::<_, Infallible>(
                        Response::builder()
                            .status(200)
                            .header(header::CONTENT_TYPE, "application/json")
                            .body(Full::new(Bytes::from_static(BODY)))
                            .unwrap_or_default(),
                    )
                });
                let _ = http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), handler)
                    .await;
            });
        }
    })
}
