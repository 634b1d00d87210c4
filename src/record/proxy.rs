//! The recording proxy's server: forward, check both directions against
//! the spec, answer the client with what the upstream said, then record.

use super::Recorder;
use super::recording::{Exchange, RequestBody, step_name};
use crate::mock::params::{self, RawParameters};
use crate::mock::{body, violation::Violation};
use crate::runner::conformance;
use crate::runner::http::{Incoming, Outgoing};
use crate::snapshot::{self, Redactions};
use crate::spec::Route;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// Response headers that belong to the upstream connection.
const HOP_BY_HOP: [&str; 5] = [
    "connection",
    "keep-alive",
    "transfer-encoding",
    "content-length",
    "upgrade",
];

/// A recorder serving on a background task.
pub struct RunningRecorder {
    pub addr: SocketAddr,
    pub recorder: Arc<Recorder>,
    task: tokio::task::JoinHandle<()>,
}

impl RunningRecorder {
    /// Serves on `host:port` (port 0: an ephemeral one).
    pub async fn start(recorder: Recorder, host: &str, port: u16) -> std::io::Result<Self> {
        let listener = TcpListener::bind((host, port)).await?;
        let addr = listener.local_addr()?;
        let recorder = Arc::new(recorder);
        let task = tokio::spawn(serve(listener, recorder.clone()));
        Ok(Self {
            addr,
            recorder,
            task,
        })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RunningRecorder {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn serve(listener: TcpListener, recorder: Arc<Recorder>) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            continue;
        };
        let recorder = recorder.clone();
        tokio::spawn(async move {
            let handler = service_fn(move |request| {
                let recorder = recorder.clone();
                async move { Ok::<_, Infallible>(recorder.handle(request).await) }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), handler)
                .await;
        });
    }
}

fn plain(status: u16, text: String) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(text)));
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

impl Recorder {
    async fn handle(&self, request: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
        let (parts, incoming) = request.into_parts();
        let bytes = match Limited::new(incoming, self.options.body_limit)
            .collect()
            .await
        {
            Ok(collected) => collected.to_bytes(),
            Err(_) => {
                return plain(
                    413,
                    format!(
                        "understudy record: the body is larger than {} bytes",
                        self.options.body_limit
                    ),
                );
            }
        };
        let path = parts.uri.path().to_string();
        let target = parts
            .uri
            .path_and_query()
            .map_or(path.clone(), |p| p.to_string());
        let headers: Vec<(String, String)> = parts
            .headers
            .iter()
            .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
            .collect();
        let outgoing = Outgoing {
            method: parts.method.clone(),
            url: format!("{}{target}", self.options.upstream),
            path: path.clone(),
            headers: headers
                .iter()
                // The client connection's framing is not the upstream's:
                // the forwarded body is whole and hyper frames it anew.
                .filter(|(k, _)| {
                    !matches!(
                        k.as_str(),
                        "host"
                            | "connection"
                            | "keep-alive"
                            | "content-length"
                            | "transfer-encoding"
                            | "te"
                            | "upgrade"
                    )
                })
                .cloned()
                .collect(),
            body: (!bytes.is_empty()).then(|| bytes.clone()),
        };
        let response = match self.client.send(&outgoing, self.options.timeout).await {
            Ok(response) => response,
            Err(e) => {
                eprintln!(
                    "record: {} {target}: no usable answer from the upstream: {e}",
                    parts.method
                );
                return plain(
                    502,
                    format!("understudy record: no usable answer from the upstream: {e}"),
                );
            }
        };
        let mut problems = self.check_request(&parts, &bytes);
        let conformance = conformance::check(&self.options.api, &parts.method, &path, &response);
        problems.extend(
            conformance
                .failures
                .iter()
                .map(|f| format!("response {}: {}", f.check, f.message)),
        );
        problems.extend(conformance.notes.iter().map(|n| format!("response: {n}")));
        let query = params::parse_query(parts.uri.query().unwrap_or(""));
        let exchange = Exchange {
            method: parts.method.to_string(),
            path,
            query,
            headers,
            body: request_body(&parts.headers, &bytes),
            status: response.status,
            response_json: response.json.clone(),
            problems,
        };
        self.record(exchange, &response);
        answer(&response)
    }

    /// Where the request breaks the spec: unknown operation, parameters,
    /// body.
    fn check_request(&self, parts: &hyper::http::request::Parts, bytes: &[u8]) -> Vec<String> {
        let api = &self.options.api;
        let path = parts.uri.path();
        let (operation, path_params) = match api.route(&parts.method, path) {
            Route::Found { operation, params } => (operation, params),
            _ => {
                return vec![format!(
                    "request: `{} {path}` is no operation of the spec",
                    parts.method
                )];
            }
        };
        let query = params::parse_query(parts.uri.query().unwrap_or(""));
        let cookies = params::parse_cookies(&parts.headers);
        let raw = RawParameters {
            path: &path_params,
            query: &query,
            headers: &parts.headers,
            cookies: &cookies,
        };
        let mut violations: Vec<Violation> = Vec::new();
        params::extract(api, operation, &raw, &mut violations);
        let content_type = parts
            .headers
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let mut problems: Vec<String> = Vec::new();
        if let Err(failure) = body::check(
            api,
            operation,
            content_type,
            bytes,
            crate::mock::options::DEFAULT_MAX_BODY_VALUES,
            &mut violations,
        ) {
            problems.push(format!("request: {}", failure.detail));
        }
        problems.extend(violations.iter().map(|v| format!("request: {}", v.message)));
        problems
    }

    /// Adds the exchange and rewrites the scenario and the step's snapshot.
    fn record(&self, mut exchange: Exchange, response: &Incoming) {
        let mut recording = crate::behaviour::store::lock(&self.recording);
        // Nothing secret reaches the disk, the log included.
        let secrets: Vec<String> = exchange
            .headers
            .iter()
            .filter(|(k, _)| super::recording::is_secret(k, &self.spec_keys))
            .map(|(_, v)| v.clone())
            .filter(|v| !v.is_empty())
            .collect();
        for problem in &mut exchange.problems {
            for secret in secrets.iter().chain(recording.secret_values()) {
                *problem = problem.replace(secret.as_str(), "[secret]");
            }
        }
        let request = format!("{} {}", exchange.method, exchange.path);
        let (status, problems) = (exchange.status, exchange.problems.len());
        let number = recording.add(exchange.clone(), &self.spec_keys);
        // One line per exchange, as the mock logs a request, then what in
        // it breaks the spec.
        crate::mock::log::event(
            &self.options.label,
            &format!(
                "recorded step {number}: {request} → {status}{}",
                match problems {
                    0 => String::new(),
                    1 => " (1 problem)".to_string(),
                    n => format!(" ({n} problems)"),
                }
            ),
        );
        for problem in &exchange.problems {
            eprintln!("record: {request}: {problem}");
        }
        let text = recording.to_yaml(
            &self.options.api_line,
            &self.options.upstream,
            &self.options.scenario,
        );
        if let Err(e) = crate::source::atomic_file::write(&self.options.out, text.as_bytes()) {
            eprintln!("record: cannot write {}: {e}", self.options.out.display());
        }
        let mut literals = vec![(self.options.upstream.clone(), "[base_url]".to_string())];
        literals.extend(
            recording
                .secret_values()
                .iter()
                .map(|s| (s.clone(), "[secret]".to_string())),
        );
        let redactions = Redactions {
            fields: self.options.volatile.clone(),
            pointers: Vec::new(),
            literals,
        };
        let contents = response.as_snapshot(&[], &redactions);
        let step = step_name(number);
        let key = snapshot::Key {
            api: &self.options.label,
            file: &self.options.out,
            scenario: &self.options.scenario,
            step: &step,
            request: &request,
        };
        let settings = snapshot::Settings {
            dir: self.options.snapshots.clone(),
            accept: true,
            accept_new: false,
            ci: false,
            read_only: false,
        };
        if let snapshot::Verdict::Broken(why) = snapshot::check(&settings, &key, &contents) {
            eprintln!("record: {why}");
        }
    }
}

fn request_body(headers: &hyper::HeaderMap, bytes: &[u8]) -> Option<RequestBody> {
    if bytes.is_empty() {
        return None;
    }
    let json_type = headers
        .get(hyper::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.contains("json"));
    match serde_json::from_slice(bytes) {
        Ok(json) if json_type => Some(RequestBody::Json(json)),
        _ => Some(RequestBody::Text(
            String::from_utf8_lossy(bytes).into_owned(),
        )),
    }
}

/// The upstream's answer, for the client.
fn answer(response: &Incoming) -> Response<Full<Bytes>> {
    let mut out = Response::new(Full::new(response.body.clone()));
    *out.status_mut() =
        hyper::StatusCode::from_u16(response.status).unwrap_or(hyper::StatusCode::BAD_GATEWAY);
    for (name, value) in &response.headers {
        if !HOP_BY_HOP.contains(&name.as_str()) {
            out.headers_mut().append(name.clone(), value.clone());
        }
    }
    out
}
