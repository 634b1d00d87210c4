//! Sending one request: a pooled HTTP/1.1 client shared by every scenario
//! of a run, with a time limit per request. `https://` targets use rustls
//! with the Mozilla root certificates (webpki-roots), so a run behaves the
//! same on every machine whatever its system certificate store holds.

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use std::time::Duration;

/// The largest answer body read by default (`--max-body`): 32 MiB.
pub const DEFAULT_MAX_BODY: usize = 32 * 1024 * 1024;

/// Shared by all scenarios; cloning is cheap.
#[derive(Clone)]
pub struct HttpClient {
    client: Client<HttpsConnector<HttpConnector>, Full<Bytes>>,
    /// Bytes of an answer's body read at most: a server that sends an
    /// endless or huge body is a failed step, not a run out of memory.
    max_body: usize,
}

/// A request ready to send.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub method: hyper::Method,
    /// The whole URL, query included.
    pub url: String,
    /// The path as the scenario wrote it (no query), for routing in the spec.
    pub path: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Bytes>,
}

/// A response read to the end.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub status: u16,
    pub headers: hyper::HeaderMap,
    pub body: Bytes,
    /// The body as JSON when it parses as JSON.
    pub json: Option<Value>,
}

impl Incoming {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// Every header as text, in order (bytes that are not UTF-8 replaced).
    pub fn header_pairs(&self) -> Vec<(String, String)> {
        self.headers
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect()
    }

    /// The response as a snapshot stores it; `chosen` headers are kept.
    pub fn as_snapshot(
        &self,
        chosen: &[String],
        redactions: &crate::snapshot::Redactions,
    ) -> String {
        crate::snapshot::render(
            self.status,
            &self.header_pairs(),
            chosen,
            self.json.as_ref(),
            Some(&String::from_utf8_lossy(&self.body)),
            redactions,
        )
    }
}

/// Why no response came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TransportError {
    /// The server could not be reached (refused, reset, DNS).
    Unreachable(String),
    /// It did not answer within the time limit.
    Timeout(Duration),
    /// The request could not be built from the scenario's values.
    Invalid(String),
    /// The answer's body is longer than the limit (`--max-body`) allows;
    /// what was read of it is dropped.
    TooLarge(usize),
}

impl std::fmt::Display for TransportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TransportError::Unreachable(e) => write!(f, "no connection: {e}"),
            TransportError::Timeout(d) => write!(f, "no answer within {} ms", d.as_millis()),
            TransportError::Invalid(e) => write!(f, "cannot build the request: {e}"),
            TransportError::TooLarge(limit) => write!(
                f,
                "the answer's body is over --max-body ({limit} bytes); the rest was not read"
            ),
        }
    }
}

impl Default for HttpClient {
    fn default() -> Self {
        Self::new(DEFAULT_MAX_BODY)
    }
}

impl HttpClient {
    /// A client that reads at most `max_body` bytes of an answer's body.
    pub fn new(max_body: usize) -> Self {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.set_connect_timeout(Some(Duration::from_secs(5)));
        http.enforce_http(false);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_webpki_roots()
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(30))
            .pool_max_idle_per_host(64)
            .build(connector);
        Self { client, max_body }
    }

    pub async fn send(
        &self,
        outgoing: &Outgoing,
        timeout: Duration,
    ) -> Result<Incoming, TransportError> {
        let mut builder = hyper::Request::builder()
            .method(outgoing.method.clone())
            .uri(&outgoing.url);
        for (name, value) in &outgoing.headers {
            if hyper::header::HeaderValue::from_str(value).is_err() {
                return Err(TransportError::Invalid(format!(
                    "the value of header `{name}` holds a line break or control character"
                )));
            }
            builder = builder.header(name.as_str(), value.as_str());
        }
        let request = builder
            .body(Full::new(outgoing.body.clone().unwrap_or_default()))
            .map_err(|e| TransportError::Invalid(e.to_string()))?;
        let exchange = async {
            let response = self
                .client
                .request(request)
                .await
                .map_err(|e| TransportError::Unreachable(error_chain(&e)))?;
            let status = response.status().as_u16();
            let headers = response.headers().clone();
            let body = http_body_util::Limited::new(response.into_body(), self.max_body)
                .collect()
                .await
                .map_err(|e| {
                    if e.is::<http_body_util::LengthLimitError>() {
                        TransportError::TooLarge(self.max_body)
                    } else {
                        TransportError::Unreachable(error_chain(&*e))
                    }
                })?
                .to_bytes();
            let json = if body.is_empty() {
                None
            } else {
                serde_json::from_slice(&body).ok()
            };
            Ok(Incoming {
                status,
                headers,
                body,
                json,
            })
        };
        match tokio::time::timeout(timeout, exchange).await {
            Ok(result) => result,
            Err(_) => Err(TransportError::Timeout(timeout)),
        }
    }
}

/// hyper's errors say "client error (Connect)"; the cause says why.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
