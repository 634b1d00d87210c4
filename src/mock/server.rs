//! The mock service: the layers around the pipeline (admin API, CORS,
//! chaos, journal, log, a mutant's answer fault), hot swapping of what is
//! loaded, and the hyper plumbing. The pipeline itself is `pipeline`.

use super::admin::{self, Admin};
use super::failure::Failure;
use super::fault::ChaosAction;
use super::journal::{Entry, Journal};
use super::loaded::Loaded;
use super::options::MockOptions;
use super::params;
use super::pipeline::{self, Stages, all_methods};
use super::refuse;
use super::repeat::{Head, LastRepeat, Lookup, Repeat, target};
use super::reply::{Reply, response};
use super::violation::Violation;
use super::{cors, log};
use crate::behaviour::engine::session_name;
use crate::behaviour::request::base_url_of;
use crate::behaviour::{ErrorKind, Fixture, Store};
use crate::spec::{Api, Route};
use arc_swap::ArcSwap;
use bytes::Bytes;
use futures_util::future::Either;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Body as _, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::TcpListener;

/// One API served: what it was loaded from, its options and its state.
pub struct MockService {
    /// Swapped whole on hot reload, read without a lock on every request;
    /// each request keeps the version it started with.
    loaded: ArcSwap<Loaded>,
    pub options: MockOptions,
    /// Per-session state of the fixture's collections.
    pub store: Store,
    journal: Journal,
    /// The pipeline's stages as a mutant sets them.
    pub(super) stages: Stages,
    /// The API's name in log lines, marked when a mutant is served.
    log_label: String,
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
            loaded: ArcSwap::from_pointee(Loaded::new(api, fixture, repeat_cache(&options))),
            // Each API gets its own ids, even with the same seed.
            store: Store::with_limits(
                options.seed ^ crate::behaviour::store::fnv(&options.label),
                options.limits,
            ),
            journal: Journal::new(options.journal_size),
            stages: Stages::for_fault(options.fault.as_ref()),
            log_label: match &options.fault {
                Some(fault) => format!("{} [mutant {}]", options.label, fault.id()),
                None => options.label.clone(),
            },
            options,
        }
    }

    /// How many times the state has changed; a saver compares it with the
    /// count it last wrote.
    pub fn change_count(&self) -> u64 {
        self.store.change_count()
    }

    /// [`MockService::handle`], unless `--fault` or `--latency` chaos
    /// decides otherwise (never for the admin API); `Err` closes the
    /// connection without an answer.
    /// `last`: the answer last repeated on the request's connection;
    /// `lookup`: what [`Self::repeat_at_once`] found.
    pub async fn handle_with_chaos(
        &self,
        request: Request<Incoming>,
        peer: Option<SocketAddr>,
        last: Option<&LastRepeat>,
        lookup: Lookup,
    ) -> Result<Response<Full<Bytes>>, ChaosReset> {
        // The admin API is the control plane: it stays reliable.
        if self.options.chaos.is_off() || admin::is_admin_path(request.uri().path()) {
            return Ok(self.handle_noted(request, peer, None, last, lookup).await);
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
        let delayed = delay.map(|d| format!("chaos: delayed {} ms by --latency", d.as_millis()));
        match action {
            ChaosAction::Serve { .. } => Ok(self
                .handle_noted(request, peer, delayed, last, Lookup::NotDone)
                .await),
            ChaosAction::Reset { .. } => {
                if !self.options.quiet {
                    log::event(
                        &self.log_label,
                        &format!(
                            "{} {} → closed without an answer (chaos: --fault reset)",
                            request.method(),
                            request.uri().path()
                        ),
                    );
                }
                Err(ChaosReset)
            }
            ChaosAction::Status { status, .. } => {
                let started = Instant::now();
                let title = hyper::StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("Error");
                let mut reply = Reply::problem(status, title, "chaos: answered by `serve --fault`");
                let loaded = self.current();
                if self.options.cors {
                    cors::decorate(&mut reply, request.headers(), &loaded.exposed_headers);
                }
                let mut note = format!("chaos: {status} answered by --fault");
                if let Some(delayed) = delayed {
                    note = format!("{note}; {delayed}");
                }
                reply.note = Some(note);
                let (parts, _) = request.into_parts();
                self.tell(&loaded, &parts, &reply, started);
                Ok(reply.into_response(parts.method == hyper::Method::HEAD))
            }
        }
    }

    /// Wakes the state saver, if there is one, when the state changed
    /// since `before` (a change count); whether it woke it.
    fn tell_saver(&self, before: u64) -> bool {
        let Some(saver) = &self.options.changed else {
            return false;
        };
        if self.store.change_count() == before {
            return false;
        }
        saver.notify_one();
        true
    }

    /// Holds back an answer that changed the state while the state file's
    /// journal lags too far behind (see `journal_lag`).
    async fn wait_for_journal(&self) {
        if let Some(lag) = &self.options.journal_lag {
            lag.changed();
            lag.wait().await;
        }
    }

    /// How many answers are kept for requests that may repeat: what tells
    /// a test, from outside, that repeated requests were answered again.
    pub fn repeated_answers(&self) -> usize {
        self.current().repeats.as_ref().map_or(0, |r| r.kept())
    }

    /// The spec and fixture now in force.
    pub fn current(&self) -> Arc<Loaded> {
        self.loaded.load_full()
    }

    /// Puts a new spec and fixture in force (hot reload). Requests already
    /// running finish with the old ones.
    pub fn replace(&self, api: Arc<Api>, fixture: Arc<Fixture>) -> Reloaded {
        let next = Arc::new(Loaded::new(api, fixture, repeat_cache(&self.options)));
        let previous = self.loaded.swap(next.clone());
        if previous.state_shape() == next.state_shape() {
            Reloaded::StateKept
        } else {
            let before = self.store.change_count();
            self.store.reset_all();
            self.tell_saver(before);
            Reloaded::StateReset
        }
    }

    /// Answers one request; never fails (every problem becomes a response).
    pub async fn handle(
        &self,
        request: Request<Incoming>,
        peer: Option<SocketAddr>,
    ) -> Response<Full<Bytes>> {
        self.handle_noted(request, peer, None, None, Lookup::NotDone)
            .await
    }

    /// The answer `request` got before, when it may get it again (see
    /// `repeat`): found and sent without taking the request apart or
    /// making a future, which is all a client polling an unchanged item
    /// costs. Otherwise what the lookup found, for the handler to go on
    /// from. `last`: the answer last repeated on the request's connection.
    pub fn repeat_at_once(
        &self,
        request: &Request<Incoming>,
        last: &LastRepeat,
    ) -> Result<Response<Full<Bytes>>, Lookup> {
        let started = Instant::now();
        // Chaos decides per request, in the handler.
        if !self.options.chaos.is_off() {
            return Err(Lookup::NotDone);
        }
        let loaded = self.loaded.load();
        let Some(repeats) = &loaded.repeats else {
            return Err(Lookup::Missed(None));
        };
        if !may_repeat(request.method(), request.uri().path(), request.body()) {
            return Err(Lookup::Missed(None));
        }
        let head = Head::from(request);
        let at = (self.store.change_count(), started);
        match repeats.lookup(&loaded, head, at, Some(last)) {
            Ok(repeat) => Ok(self.answer_again(head, &repeat, started)),
            Err(key) => Err(Lookup::Missed(key)),
        }
    }

    /// [`Self::handle`], with `chaos` (what chaos did to the request) in
    /// front of the answer's log note, and the answer last repeated on its
    /// connection (`last`).
    /// `lookup`: what looking for a repeated answer found already.
    async fn handle_noted(
        &self,
        request: Request<Incoming>,
        peer: Option<SocketAddr>,
        chaos: Option<String>,
        last: Option<&LastRepeat>,
        lookup: Lookup,
    ) -> Response<Full<Bytes>> {
        let started = Instant::now();
        let changes_before = self.store.change_count();
        let (parts, incoming) = request.into_parts();
        let loaded = self.current();
        let is_admin = admin::is_admin_path(parts.uri.path());
        let repeat_key = match lookup {
            Lookup::Missed(key) => key,
            Lookup::NotDone => match &loaded.repeats {
                Some(repeats)
                    if chaos.is_none()
                        && may_repeat(&parts.method, parts.uri.path(), &incoming) =>
                {
                    let head = Head::from(&parts);
                    match repeats.lookup(&loaded, head, (changes_before, started), last) {
                        Ok(repeat) => return self.answer_again(head, &repeat, started),
                        Err(key) => key,
                    }
                }
                _ => None,
            },
        };
        // Made only once a repeated answer is ruled out: shared with the
        // rules' template scope, which keeps the headers.
        let parts = Arc::new(parts);
        let declared = parts
            .headers
            .get(hyper::header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok());
        let body = if parts.version == hyper::Version::HTTP_11
            && !parts.headers.contains_key(hyper::header::HOST)
        {
            Err(BodyProblem::NoHost)
        } else if declared.is_some_and(|length| length > self.options.body_limit as u64) {
            // Refused before reading: a client that sent `Expect:
            // 100-continue` gets 413 instead of being asked to send it.
            Err(BodyProblem::TooLarge)
        } else {
            let read = Limited::new(incoming, self.options.body_limit).collect();
            match tokio::time::timeout(self.options.read_timeout, read).await {
                Ok(Ok(collected)) => Ok(collected.to_bytes()),
                Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => {
                    Err(BodyProblem::TooLarge)
                }
                // Bad chunk sizes, oversized chunk extensions or trailers,
                // a connection that ends mid-chunk.
                Ok(Err(_)) => Err(BodyProblem::Malformed),
                Err(_) => Err(BodyProblem::TooSlow),
            }
        };
        let path = parts.uri.path().to_string();
        let mut reply = match body {
            Ok(bytes) if is_admin => {
                let admin = Admin {
                    api: &loaded.api,
                    label: &self.options.label,
                    fixture: &loaded.fixture,
                    store: &self.store,
                    journal: &self.journal,
                    base_url: base_url_of(&parts.headers),
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
            Err(BodyProblem::TooLarge) => refuse::render(
                &loaded.fixture,
                Failure::new(
                    ErrorKind::PayloadTooLarge,
                    format!("the body is larger than {} bytes", self.options.body_limit),
                ),
                parts.method.as_str(),
                &path,
                None,
            ),
            Err(BodyProblem::TooSlow) => protocol_error(
                408,
                "Request Timeout",
                format!(
                    "the body did not arrive within {} ms",
                    self.options.read_timeout.as_millis()
                ),
            ),
            Err(BodyProblem::Malformed) => protocol_error(
                400,
                "Bad Request",
                "the body is not well-formed HTTP/1.1 (chunked encoding)".into(),
            ),
            Err(BodyProblem::NoHost) => protocol_error(
                400,
                "Bad Request",
                "an HTTP/1.1 request needs a `Host` header".into(),
            ),
        };
        // The store counts what requests change; the admin API's writes
        // (clock, variables, state) change sessions beside it.
        if is_admin && parts.method != hyper::Method::GET {
            self.store.note_change();
        }
        if self.tell_saver(changes_before) {
            self.wait_for_journal().await;
        }
        // The admin API is for this machine's tools, never for a page in a
        // browser: it gets no CORS headers, so no other origin reads it.
        if self.options.cors && !is_admin {
            cors::decorate(&mut reply, &parts.headers, &loaded.exposed_headers);
        }
        if let Some(chaos) = chaos {
            reply.note = Some(match reply.note.take() {
                Some(note) => format!("{chaos}; {note}"),
                None => chaos,
            });
        }
        if is_admin {
            // Not journaled: the journal is the API's requests.
            if !self.options.quiet {
                log::request(
                    &self.log_label,
                    parts.method.as_str(),
                    &path,
                    &reply,
                    started.elapsed(),
                );
            }
            self.tell_events();
        } else {
            if reply.repeatable
                && let (Some(repeats), Some(key)) = (&loaded.repeats, repeat_key)
                && self.store.change_count() == changes_before
            {
                let session = session_name(&loaded.fixture, &parts.headers);
                let about = (session, self.store.usage(session));
                repeats.keep(key, (&*parts).into(), changes_before, &reply, about);
            }
            self.tell(&loaded, &parts, &reply, started);
        }
        reply.into_response(parts.method == hyper::Method::HEAD)
    }

    /// Answers a request with what the same request got before, the state
    /// unchanged since (see `repeat`): journaled and logged as any answer.
    fn answer_again(
        &self,
        head: Head<'_>,
        repeat: &Repeat,
        started: Instant,
    ) -> Response<Full<Bytes>> {
        if let Some(usage) = &repeat.usage {
            self.store.mark_used(usage);
        }
        let (session, target) = (repeat.session.clone(), repeat.target());
        self.tell_as(session, target, head, &repeat.reply, started);
        response(
            repeat.reply.status,
            repeat.headers.clone(),
            repeat.body(),
            *head.method == hyper::Method::HEAD,
        )
    }

    /// Journals the answer of an API request and logs it, with what the
    /// store did on its own meanwhile.
    fn tell(
        &self,
        loaded: &Loaded,
        parts: &hyper::http::request::Parts,
        reply: &Reply,
        started: Instant,
    ) {
        let session = session_name(&loaded.fixture, &parts.headers).into();
        self.tell_as(session, target(parts).into(), parts.into(), reply, started);
    }

    /// [`Self::tell`], the request's session and target at hand.
    fn tell_as(
        &self,
        session: Arc<str>,
        target: Arc<str>,
        head: Head<'_>,
        reply: &Reply,
        started: Instant,
    ) {
        let path = head.uri.path();
        self.journal.record(Entry {
            at_ms: 0,
            session,
            method: head.method.clone(),
            target,
            status: reply.status,
            millis: started.elapsed().as_secs_f64() * 1000.0,
            note: reply.note.clone(),
            reasons: reply.violations.iter().map(Violation::reason).collect(),
        });
        if !self.options.quiet {
            log::request(
                &self.log_label,
                head.method.as_str(),
                path,
                reply,
                started.elapsed(),
            );
        }
        self.tell_events();
    }

    /// Logs what the store did on its own (a session dropped, a seed item
    /// left out).
    fn tell_events(&self) {
        // Taken even when quiet, so they never pile up.
        let events = self.store.take_events();
        if !self.options.quiet {
            for event in events {
                log::event(&self.log_label, &event);
            }
        }
    }

    /// The pipeline over a fully read request.
    pub fn answer(
        &self,
        loaded: &Loaded,
        parts: &Arc<hyper::http::request::Parts>,
        bytes: &[u8],
    ) -> Reply {
        let setup = pipeline::Setup {
            options: &self.options,
            store: &self.store,
            stages: &self.stages,
        };
        let mut reply = pipeline::run(&setup, loaded, parts, bytes);
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
            Ok(serde_json::Value::String(s)) => s,
            Ok(other) => other.to_string(),
            Err(error) => {
                *reply = super::refuse::fixture_template_failed(&loaded.fixture, &error, "");
                return;
            }
        };
        if !value.is_empty() {
            reply.headers.push((name.clone(), value));
        }
    }
}

/// Whether a request may get an answer it got before: read only, no body,
/// not for the admin API.
fn may_repeat(method: &hyper::Method, path: &str, body: &Incoming) -> bool {
    matches!(*method, hyper::Method::GET | hyper::Method::HEAD)
        && body.is_end_stream()
        && !admin::is_admin_path(path)
}

/// Bytes of repeated answers each loaded spec and fixture keeps: none for
/// a mutant, whose point is to be run.
fn repeat_cache(options: &MockOptions) -> usize {
    if options.fault.is_some() {
        0
    } else {
        options.repeat_cache
    }
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
    Malformed,
    NoHost,
}

/// An answer to a request HTTP itself refuses, before any API sees it; the
/// connection is closed, since what follows on it cannot be trusted.
fn protocol_error(status: u16, title: &str, detail: String) -> Reply {
    let mut reply = Reply::problem(status, title, &detail);
    reply.headers.push(("connection".into(), "close".into()));
    reply
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
        let last = Arc::new(LastRepeat::default());
        let handler = service_fn(move |request| {
            let lookup = match handler_service.repeat_at_once(&request, &last) {
                Ok(answer) => return Either::Left(std::future::ready(Ok(answer))),
                Err(lookup) => lookup,
            };
            let (service, last) = (handler_service.clone(), last.clone());
            Either::Right(async move {
                service
                    .handle_with_chaos(request, Some(peer), Some(&last), lookup)
                    .await
            })
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
