//! The baseline of `bench/run`: a hyper server that answers every request
//! with one fixed JSON body, built with the same hyper, tokio and connection
//! settings as the mock, and the same allocator. The mock's throughput is
//! quoted as a ratio to this, measured in the same run, because absolute
//! numbers on a shared machine mean little.
//!
//! Usage: `cargo run --release --example bare_hyper -- PORT`

mod baseline;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Response, header};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const BODY: &[u8] =
    br#"{"id":"3f1f5b4e-8a3c-4c39-9d0b-5b0b1f2e0a11","description":"bench","isReady":true}"#;

fn main() -> std::io::Result<()> {
    let port = baseline::port_argument("bare_hyper");
    baseline::serve(port, |_request| async {
        Response::builder()
            .status(200)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from_static(BODY)))
            .unwrap_or_default()
    })
}
