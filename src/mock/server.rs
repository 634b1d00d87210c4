//! The pipeline and the hyper plumbing around it.

use super::admin::{self, Admin};
use super::behave::behave;
use super::failure::{self, Failure};
use super::fault::ChaosAction;
use super::journal::{Entry, Journal};
use super::params::{self, RawParameters};
use super::reply::Reply;
use super::respond::{self, BodyCache, Prefer, respond};
use super::spec_error::Documented;
use super::violation::Violation;
use super::{auth, body, cors, log};
use crate::behaviour::engine::{
    Identity, Request as BehaviourRequest, check, identify, session_name,
};
use crate::behaviour::{ErrorKind, Fixture, Store};
use crate::spec::{Api, Route};
use arc_swap::ArcSwap;
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// How a mock behaves beyond its spec and fixture.
#[derive(Debug, Clone)]
pub struct MockOptions {
    /// Name shown in the log, e.g. `mittwald`.
    pub label: String,
    pub cors: bool,
    pub quiet: bool,
    /// Seed for generated bodies: the same seed gives the same bodies.
    pub seed: u64,
    /// Largest request body accepted, in bytes (413 above).
    pub body_limit: usize,
    /// How many recent requests the admin API remembers.
    pub journal_size: usize,
    /// How long a client may take to send its headers, and then its body;
    /// a slow client is cut off and nobody else waits for it.
    pub read_timeout: Duration,
    /// Connections served at once; more wait to be accepted.
    pub max_connections: usize,
    /// Told of every request that may have changed the state (for
    /// `--state-file`); shared by all the APIs of one server.
    pub changed: Option<Arc<tokio::sync::Notify>>,
    /// The one contract-breaking fault of a mutant (`serve --mutant`).
    pub fault: Option<super::fault::Fault>,
    /// Random failures, resets and latency (`serve --fault`, `--latency`).
    pub chaos: super::fault::Chaos,
    /// Items per session and sessions kept (`--max-items`, `--max-sessions`).
    pub limits: crate::behaviour::store::StoreLimits,
}

impl Default for MockOptions {
    fn default() -> Self {
        Self {
            label: "mock".into(),
            cors: true,
            quiet: true,
            seed: 0,
            body_limit: 10 * 1024 * 1024,
            journal_size: 1000,
            read_timeout: Duration::from_secs(10),
            max_connections: 1024,
            changed: None,
            fault: None,
            chaos: super::fault::Chaos::default(),
            limits: crate::behaviour::store::StoreLimits::default(),
        }
    }
}

/// One API served: what it was loaded from, its options and its state.
pub struct MockService {
    /// Swapped whole on hot reload; each request keeps the version it started with.
    /// Swapped whole on reload; read without a lock on every request.
    loaded: ArcSwap<Loaded>,
    pub options: MockOptions,
    /// Per-session state of the fixture's collections.
    pub store: Store,
    journal: Journal,
    /// Counts requests that may have changed the store, for `--state-file`.
    changes: std::sync::atomic::AtomicU64,
}

/// A spec and fixture as loaded, with what is derived from them.
pub struct Loaded {
    pub api: Arc<Api>,
    pub fixture: Arc<Fixture>,
    cache: BodyCache,
    exposed_headers: String,
}

impl Loaded {
    fn new(api: Arc<Api>, fixture: Arc<Fixture>) -> Self {
        let exposed_headers = cors::exposed_headers(&api);
        Self {
            api,
            fixture,
            cache: BodyCache::default(),
            exposed_headers,
        }
    }

    /// Collection names and keys: state survives a reload only if these stay.
    fn state_shape(&self) -> Vec<(String, String)> {
        self.fixture
            .model
            .collections
            .iter()
            .map(|c| (c.name.clone(), c.key.clone()))
            .collect()
    }
}

/// What a reload did to the stored state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reloaded {
    /// Same collections and keys: every session kept its items.
    StateKept,
    /// The collections changed: all sessions start again from the seed data.
    StateReset,
}

impl MockService {
    pub fn new(api: Arc<Api>, fixture: Arc<Fixture>, options: MockOptions) -> Self {
        Self {
            loaded: ArcSwap::from_pointee(Loaded::new(api, fixture)),
            // Each API gets its own ids, even with the same seed.
            store: Store::with_limits(
                options.seed ^ crate::behaviour::store::fnv(&options.label),
                options.limits,
            ),
            journal: Journal::new(options.journal_size),
            options,
            changes: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// How many times the state may have changed; a saver compares it with
    /// the count it last wrote.
    pub fn change_count(&self) -> u64 {
        self.changes.load(std::sync::atomic::Ordering::Acquire)
    }

    /// [`MockService::handle`], unless `--fault` or `--latency` chaos
    /// decides otherwise (never for the admin API); `Err` closes the
    /// connection without an answer.
    pub async fn handle_with_chaos(
        &self,
        request: Request<Incoming>,
        peer: Option<SocketAddr>,
    ) -> Result<Response<Full<Bytes>>, ChaosReset> {
        // The admin API is the control plane: it stays reliable.
        if self.options.chaos.is_off() || admin::is_admin_path(request.uri().path()) {
            return Ok(self.handle(request, peer).await);
        }
        let action = self.options.chaos.decide(chaos_roll(), chaos_roll());
        let delay = match action {
            ChaosAction::Serve { delay }
            | ChaosAction::Status { delay, .. }
            | ChaosAction::Reset { delay } => delay,
        };
        if let Some(delay) = delay {
            tokio::time::sleep(delay).await;
        }
        match action {
            ChaosAction::Serve { .. } => Ok(self.handle(request, peer).await),
            ChaosAction::Reset { .. } => Err(ChaosReset),
            ChaosAction::Status { status, .. } => {
                let title = hyper::StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("Error");
                let mut reply = Reply::json(
                    status,
                    "application/problem+json",
                    &serde_json::json!({
                        "type": "about:blank",
                        "title": title,
                        "status": status,
                        "detail": "chaos: answered by `serve --fault`",
                    }),
                );
                if self.options.cors {
                    cors::decorate(
                        &mut reply,
                        request.headers(),
                        &self.current().exposed_headers,
                    );
                }
                Ok(into_response(
                    reply,
                    request.method() == hyper::Method::HEAD,
                ))
            }
        }
    }

    /// Counted only when someone listens, so the hot path stays free of a
    /// shared counter otherwise.
    fn note_change(&self) {
        if let Some(changed) = &self.options.changed {
            self.changes
                .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
            changed.notify_one();
        }
    }

    /// The spec and fixture now in force.
    pub fn current(&self) -> Arc<Loaded> {
        self.loaded.load_full()
    }

    /// Puts a new spec and fixture in force (hot reload). Requests already
    /// running finish with the old ones.
    pub fn replace(&self, api: Arc<Api>, fixture: Arc<Fixture>) -> Reloaded {
        let next = Arc::new(Loaded::new(api, fixture));
        let previous = self.loaded.swap(next.clone());
        if previous.state_shape() == next.state_shape() {
            Reloaded::StateKept
        } else {
            self.store.reset_all();
            self.note_change();
            Reloaded::StateReset
        }
    }

    /// Answers one request; never fails (every problem becomes a response).
    pub async fn handle(
        &self,
        request: Request<Incoming>,
        peer: Option<SocketAddr>,
    ) -> Response<Full<Bytes>> {
        let started = Instant::now();
        let (parts, incoming) = request.into_parts();
        let read = Limited::new(incoming, self.options.body_limit).collect();
        let body = match tokio::time::timeout(self.options.read_timeout, read).await {
            Ok(Ok(collected)) => Ok(collected.to_bytes()),
            Ok(Err(_)) => Err(BodyProblem::TooLarge),
            Err(_) => Err(BodyProblem::TooSlow),
        };
        let loaded = self.current();
        let path = parts.uri.path().to_string();
        let is_admin = admin::is_admin_path(&path);
        let mut reply = match body {
            Ok(bytes) if is_admin => {
                let admin = Admin {
                    fixture: &loaded.fixture,
                    store: &self.store,
                    journal: &self.journal,
                    base_url: base_url(&parts.headers),
                };
                let query = params::parse_query(parts.uri.query().unwrap_or(""));
                let rest = &path[admin::PREFIX.len()..];
                admin::handle(
                    &admin,
                    &parts.method,
                    rest,
                    &query,
                    &parts.headers,
                    &bytes,
                    peer,
                )
            }
            Ok(bytes) => self.answer(&loaded, &parts, &bytes),
            Err(BodyProblem::TooLarge) => failure::render(
                &loaded.fixture,
                Failure::new(
                    ErrorKind::PayloadTooLarge,
                    format!("the body is larger than {} bytes", self.options.body_limit),
                ),
                parts.method.as_str(),
                &path,
                None,
            ),
            Err(BodyProblem::TooSlow) => {
                let mut reply = Reply::json(
                    408,
                    "application/problem+json",
                    &serde_json::json!({
                        "type": "about:blank",
                        "title": "Request Timeout",
                        "status": 408,
                        "detail": format!(
                            "the body did not arrive within {} ms",
                            self.options.read_timeout.as_millis()
                        ),
                    }),
                );
                reply.headers.push(("connection".into(), "close".into()));
                reply
            }
        };
        // Reads count too: readiness may go by the number of reads.
        if !is_admin || parts.method != hyper::Method::GET {
            self.note_change();
        }
        if self.options.cors {
            cors::decorate(&mut reply, &parts.headers, &loaded.exposed_headers);
        }
        if !is_admin {
            self.journal.record(Entry {
                at_ms: 0,
                session: session_name(&loaded.fixture, &parts.headers).to_string(),
                method: parts.method.to_string(),
                target: parts
                    .uri
                    .path_and_query()
                    .map_or_else(|| path.clone(), |p| p.to_string()),
                status: reply.status,
                millis: started.elapsed().as_secs_f64() * 1000.0,
                note: reply.note.clone(),
            });
        }
        let events = self.store.take_events();
        if !self.options.quiet {
            log::request(
                &self.options.label,
                parts.method.as_str(),
                &path,
                &reply,
                started.elapsed(),
            );
            for event in events {
                log::event(&self.options.label, &event);
            }
        }
        into_response(reply, parts.method == hyper::Method::HEAD)
    }

    /// The pipeline over a fully read request.
    pub fn answer(
        &self,
        loaded: &Loaded,
        parts: &hyper::http::request::Parts,
        bytes: &[u8],
    ) -> Reply {
        let mut reply = self.pipeline(loaded, parts, bytes);
        if let Some(fault) = &self.options.fault
            && let Route::Found { operation, .. } =
                loaded.api.route(&parts.method, parts.uri.path())
        {
            fault.apply_to_reply(&operation.id, &loaded.fixture, &mut reply);
        }
        if !loaded.fixture.conventions.headers.is_empty() {
            add_convention_headers(loaded, parts, &mut reply);
        }
        reply
    }

    fn pipeline(
        &self,
        loaded: &Loaded,
        parts: &hyper::http::request::Parts,
        bytes: &[u8],
    ) -> Reply {
        let api = &loaded.api;
        let fixture = &loaded.fixture;
        let method = &parts.method;
        let path = parts.uri.path();
        let headers = &parts.headers;
        let refuse =
            |failure: Failure| failure::render(fixture, failure, method.as_str(), path, None);

        let route = api.route(method, path);
        if self.options.cors
            && cors::is_preflight(method, headers)
            && !matches!(route, Route::Found { .. })
        {
            let allowed = match api.route(&hyper::Method::GET, path) {
                Route::Found { .. } => all_methods(api, path),
                Route::MethodNotAllowed { allowed } => {
                    allowed.iter().map(|m| m.to_string()).collect()
                }
                Route::NotFound => Vec::new(),
            };
            return cors::preflight(headers, &allowed);
        }
        let (operation, path_params) = match route {
            Route::Found { operation, params } => (operation, params),
            Route::MethodNotAllowed { allowed } => {
                let mut failure = Failure::new(
                    ErrorKind::MethodNotAllowed,
                    format!("`{method} {path}` is not an operation of this API"),
                );
                failure.allowed = allowed.iter().map(|m| m.to_string()).collect();
                return refuse(failure);
            }
            Route::NotFound => {
                if let Some(reply) = redirect_to_slash(loaded, parts) {
                    return reply;
                }
                return refuse(Failure::new(
                    ErrorKind::NotFound,
                    format!("no path of this API matches `{path}`"),
                ));
            }
        };

        // From here on, refusals take the operation's documented error shape.
        let documented = Documented {
            api,
            operation,
            cache: &loaded.cache,
            seed: self.options.seed,
        };
        let refuse = |failure: Failure| {
            failure::render(fixture, failure, method.as_str(), path, Some(&documented))
        };
        let query = params::parse_query(parts.uri.query().unwrap_or(""));
        let cookies = params::parse_cookies(headers);
        let fault = self.options.fault.as_ref();
        if let Some(Err(wanted)) = (!fault.is_some_and(|f| f.skips_auth()))
            .then(|| auth::check(api, operation, headers, &query, &cookies))
        {
            let mut failure = Failure::new(
                ErrorKind::Unauthorized,
                format!(
                    "`{}` needs credentials: {}",
                    operation.id,
                    wanted.join(", or ")
                ),
            );
            failure.schemes = wanted;
            return refuse(failure);
        }
        // The `no-auth` mutant serves everyone: no user is looked up either.
        let checks_credentials = !fault.is_some_and(|f| f.skips_auth());
        let user = match fixture
            .model
            .access
            .as_ref()
            .filter(|_| checks_credentials)
            .map(|_| {
                let offered = auth::offered(api, operation, headers, &query, &cookies);
                identify(fixture, &self.store, headers, &offered)
            }) {
            None | Some(Identity::Anyone) => None,
            Some(Identity::User(key)) => Some(key),
            Some(Identity::Denied { reason, credential }) => {
                let mut failure = Failure::new(
                    ErrorKind::Unauthorized,
                    format!(
                        "`{}`: the credentials name no user ({})",
                        operation.id,
                        reason.as_str()
                    ),
                );
                failure
                    .extra
                    .insert("reason".into(), reason.as_str().into());
                failure.extra.insert("credential".into(), credential.into());
                return refuse(failure);
            }
        };

        let mut violations = Vec::new();
        let raw = RawParameters {
            path: &path_params,
            query: &query,
            headers,
            cookies: &cookies,
        };
        let mut parameters = params::extract(api, operation, &raw, &mut violations);
        if !fixture.conventions.ignore_invalid.is_empty() {
            params::drop_ignored(&fixture.conventions, &mut parameters, &mut violations);
        }
        let content_type = headers
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        let body = match body::check(api, operation, content_type, bytes, &mut violations) {
            Ok(body) => body,
            Err(failure) => return refuse(failure),
        };
        let behaviour = fixture.model.operations.get(&operation.id);
        // Built only for an operation with rules: the spec-only path stays lean.
        let request = behaviour.map(|_| BehaviourRequest {
            method: method.as_str(),
            path,
            raw_query: &query,
            headers,
            path_params: &parameters.path,
            query: &parameters.query,
            header_params: &parameters.header,
            cookies: &parameters.cookie,
            body: body.as_ref(),
            base_url: base_url(headers),
            default_status: respond::default_response(operation).map_or(200, |r| r.status.code()),
            user,
        });
        if let Some(behaviour) = behaviour.filter(|b| !b.checks.is_empty())
            && let Some(request) = &request
            && body.is_some()
            && !violations
                .iter()
                .any(|v| v.location == "body" && v.field.is_empty())
        {
            let already: Vec<String> = violations
                .iter()
                .filter(|v| v.location == "body")
                .map(|v| v.field.clone())
                .collect();
            for (field, message) in check(fixture, &self.store, behaviour, request, &already) {
                violations.push(Violation::checked(field, message));
            }
        }
        if !violations.is_empty() && !fault.is_some_and(|f| f.accepts_invalid(&operation.id)) {
            return refuse(Failure::invalid(violations));
        }

        let prefer = Prefer::parse(headers);
        // `Prefer: code=…` asks the spec, not the fixture, for an answer.
        if prefer.code.is_none()
            && let (Some(behaviour), Some(request)) = (behaviour, &request)
            && let Some(reply) = behave(fixture, &self.store, &documented, behaviour, request)
        {
            return reply;
        }
        // 101 switches protocols, which only a request asking to upgrade may get.
        if prefer.code.is_none()
            && respond::default_response(operation).is_some_and(|r| r.status.code() == 101)
            && !headers.contains_key(hyper::header::UPGRADE)
        {
            return refuse(Failure::invalid(vec![Violation::new(
                "header",
                Some("upgrade".into()),
                String::new(),
                "upgrade".into(),
                "required".into(),
                format!(
                    "`{}` switches protocols (101): the request needs an `Upgrade` header",
                    operation.id
                ),
            )]));
        }
        let accept = headers
            .get(hyper::header::ACCEPT)
            .and_then(|v| v.to_str().ok());
        match respond(
            api,
            operation,
            &prefer,
            accept,
            &loaded.cache,
            self.options.seed,
        ) {
            Ok(reply) => reply,
            Err(failure) => refuse(failure),
        }
    }
}

/// The answer to `/a/b` when only `/a/b/` is a path of the API and the
/// fixture asks for a redirect: `Location` is the slashed path, with the
/// query kept, as Django's `APPEND_SLASH` writes it.
fn redirect_to_slash(loaded: &Loaded, parts: &hyper::http::request::Parts) -> Option<Reply> {
    let redirect = loaded.fixture.conventions.trailing_slash.as_ref()?;
    let path = parts.uri.path();
    if path.ends_with('/') {
        return None;
    }
    let slashed = format!("{path}/");
    if matches!(loaded.api.route(&parts.method, &slashed), Route::NotFound) {
        return None;
    }
    let mut location = slashed;
    if let Some(query) = parts.uri.query() {
        location.push('?');
        location.push_str(query);
    }
    let mut reply = Reply::empty(redirect.status);
    reply.headers.push(("location".into(), location));
    for (name, value) in &redirect.headers {
        reply
            .headers
            .push((name.to_ascii_lowercase(), value.clone()));
    }
    Some(reply)
}

/// The fixture's `headers`, on every answer of a path the API has.
fn add_convention_headers(loaded: &Loaded, parts: &hyper::http::request::Parts, reply: &mut Reply) {
    let path = parts.uri.path();
    let mut allowed = all_methods(&loaded.api, path);
    if allowed.is_empty() {
        return;
    }
    if allowed.iter().any(|m| m == "GET") {
        allowed.push("HEAD".into());
    }
    let context = crate::behaviour::template::jinja_value(serde_json::json!({
        "allowed": allowed,
        "status": reply.status,
        "method": parts.method.as_str(),
        "path": path,
        "vars": loaded.fixture.model.vars,
    }));
    for (name, template) in &loaded.fixture.conventions.headers {
        // A rule that sets the header empty means "not on this answer".
        if reply
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case(name))
        {
            reply
                .headers
                .retain(|(n, v)| !(n.eq_ignore_ascii_case(name) && v.is_empty()));
            continue;
        }
        let value = match template.render(&context) {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        };
        if !value.is_empty() {
            reply.headers.push((name.clone(), value));
        }
    }
}

/// `http://host` as the client addressed the mock.
fn base_url(headers: &hyper::HeaderMap) -> String {
    let host = headers
        .get(hyper::header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && !h.contains(['/', ' ']))
        .unwrap_or("localhost");
    let mut url = String::with_capacity("http://".len() + host.len());
    url.push_str("http://");
    url.push_str(host);
    url
}

fn all_methods(api: &Api, path: &str) -> Vec<String> {
    [
        hyper::Method::GET,
        hyper::Method::POST,
        hyper::Method::PUT,
        hyper::Method::PATCH,
        hyper::Method::DELETE,
    ]
    .into_iter()
    .filter(
        |m| matches!(api.route(m, path), Route::Found { operation, .. } if operation.method == m),
    )
    .map(|m| m.to_string())
    .collect()
}

fn into_response(reply: Reply, head: bool) -> Response<Full<Bytes>> {
    let body = if head { Bytes::new() } else { reply.body };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = hyper::StatusCode::from_u16(reply.status)
        .unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    let headers = response.headers_mut();
    for (name, value) in reply.headers {
        if let (Ok(name), Ok(value)) = (
            hyper::header::HeaderName::try_from(name),
            hyper::header::HeaderValue::try_from(value),
        ) {
            headers.append(name, value);
        }
    }
    response
}

/// Chaos decided to drop the connection; hyper closes it unanswered.
#[derive(Debug)]
pub struct ChaosReset;

impl std::fmt::Display for ChaosReset {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("connection reset by `serve --fault reset=…`")
    }
}

impl std::error::Error for ChaosReset {}

/// A uniform number in [0, 1) from a shared xorshift state: chaos needs
/// spread, not quality, and no lock.
fn chaos_roll() -> f64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static STATE: AtomicU64 = AtomicU64::new(0);
    let mut x = STATE.load(Ordering::Relaxed);
    if x == 0 {
        x = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0x9e37_79b9_7f4a_7c15, |d| d.as_nanos() as u64)
            | 1;
    }
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    STATE.store(x, Ordering::Relaxed);
    (x >> 11) as f64 / (1u64 << 53) as f64
}

/// Why a request body was not read.
enum BodyProblem {
    TooLarge,
    TooSlow,
}

/// Accepts connections on `listener` and serves them until the task is dropped.
pub async fn serve(listener: TcpListener, service: Arc<MockService>) {
    serve_until(listener, service, std::future::pending()).await;
}

/// How long requests in flight may take to finish after a shutdown.
pub const DRAIN: Duration = Duration::from_secs(10);

/// Serves until `shutdown` completes, then stops accepting, lets the
/// requests in flight finish (up to [`DRAIN`]) and returns.
///
/// Hostile or broken clients cannot starve the others: headers must arrive
/// within the read timeout (then the connection is closed), bodies too
/// (408), and at most `max_connections` are served at once; the rest wait
/// in the listen queue.
pub async fn serve_until(
    listener: TcpListener,
    service: Arc<MockService>,
    shutdown: impl std::future::Future<Output = ()>,
) {
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    let permits = Arc::new(tokio::sync::Semaphore::new(
        service.options.max_connections.max(1),
    ));
    let mut builder = http1::Builder::new();
    builder
        .timer(hyper_util::rt::TokioTimer::new())
        .header_read_timeout(service.options.read_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(conn) => conn,
                Err(_) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let handler_service = service.clone();
        let handler = service_fn(move |request| {
            let service = handler_service.clone();
            async move { service.handle_with_chaos(request, Some(peer)).await }
        });
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), handler));
        tokio::spawn(async move {
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    let _ = tokio::time::timeout(DRAIN, graceful.shutdown()).await;
}

/// A mock running on a background task, for tests and the runner.
pub struct RunningMock {
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<()>,
}

impl RunningMock {
    /// Serves `service` on `127.0.0.1` at an ephemeral port.
    pub async fn start(service: MockService) -> std::io::Result<RunningMock> {
        Self::start_shared(Arc::new(service)).await
    }

    /// Serves a service the caller keeps a handle on (to reload it, say).
    pub async fn start_shared(service: Arc<MockService>) -> std::io::Result<RunningMock> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let task = tokio::spawn(serve(listener, service));
        Ok(RunningMock { addr, task })
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RunningMock {
    fn drop(&mut self) {
        self.task.abort();
    }
}
