//! What the baselines of `bench/run` share: one runtime and connection
//! setup, so they differ from each other and from the mock only in what
//! they answer.

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::future::Future;

/// The port given as the only argument; exits with the usage otherwise.
pub fn port_argument(program: &str) -> u16 {
    match std::env::args().nth(1).map(|p| p.parse()) {
        Some(Ok(port)) => port,
        _ => {
            eprintln!("usage: {program} PORT");
            std::process::exit(2);
        }
    }
}

/// Serves `answer` on `127.0.0.1:port` until the process is killed, with
/// the mock's hyper and tokio settings: a multi-threaded runtime, kept-alive
/// HTTP/1.1 connections, `TCP_NODELAY`.
pub fn serve<A, F>(port: u16, answer: A) -> std::io::Result<()>
where
    A: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Response<Full<Bytes>>> + Send + 'static,
{
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
            let answer = answer.clone();
            tokio::spawn(async move {
                let handler = service_fn(move |request| {
                    let answered = answer(request);
                    async move { Ok::<_, Infallible>(answered.await) }
                });
                let _ = http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(stream), handler)
                    .await;
            });
        }
    })
}
