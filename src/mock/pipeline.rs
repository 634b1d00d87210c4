//! The request pipeline, as stages composed in one place ([`run`]):
//!
//! route → authenticate → parameters → body → fixture checks → behaviour →
//! respond from the spec
//!
//! Each stage hands the next what it found, or ends the request with a
//! refusal, rendered in the API's own error shape once the operation is
//! known. CORS, chaos, the journal and the log are layers around the
//! pipeline (`server`), and a mutant's fault is configuration of it
//! ([`Stages`]) or of the finished answer, not a check inside a stage.

use super::MockOptions;
use super::behave::{Behaved, behave};
use super::failure::Failure;
use super::fault::Fault;
use super::loaded::Loaded;
use super::params::{self, ParsedParameters, RawParameters};
use super::refuse;
use super::reply::Reply;
use super::respond::{self, Prefer, respond};
use super::spec_error::Documented;
use super::violation::Violation;
use super::{auth, body, cors};
use crate::behaviour::ErrorKind;
use crate::behaviour::engine::{
    Identity, Request as BehaviourRequest, check, identify, session_name,
};
use crate::behaviour::request::Checked;
use crate::behaviour::template::RenderError;
use crate::spec::{Api, Operation, Route};
use hyper::http::request::Parts;
use serde_json::Value;
use std::sync::Arc;

/// What the stages are set to do. A mutant (`serve --mutant`) that breaks
/// a stage is set here once, so the stages never ask which mutant runs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stages {
    /// Nobody is asked for credentials and no user is looked up (the
    /// `no-auth` mutant).
    pub skip_auth: bool,
    /// The operation that answers invalid requests as if they were valid
    /// (the `accept-invalid` mutant).
    pub accept_invalid: Option<String>,
}

impl Stages {
    pub fn for_fault(fault: Option<&Fault>) -> Self {
        match fault {
            Some(Fault::NoAuth) => Stages {
                skip_auth: true,
                ..Stages::default()
            },
            Some(Fault::AcceptInvalid { operation }) => Stages {
                accept_invalid: Some(operation.clone()),
                ..Stages::default()
            },
            _ => Stages::default(),
        }
    }
}

/// The operation a request is for, and its path parameters as written.
type Routed<'a> = (&'a Operation, Vec<(&'a str, &'a str)>);

/// What the pipeline works with besides the request: the mock's options,
/// its store and how its stages are set.
pub struct Setup<'a> {
    pub options: &'a MockOptions,
    pub store: &'a crate::behaviour::Store,
    pub stages: &'a Stages,
}

/// One request on its way through the stages.
struct Call<'a> {
    setup: &'a Setup<'a>,
    loaded: &'a Loaded,
    parts: &'a Parts,
    path: &'a str,
    /// The session the request belongs to, read from its head once, by
    /// what needs it (a spec-only answer does not).
    session: std::cell::OnceCell<&'a str>,
}

/// The pipeline over a fully read request.
pub fn run(setup: &Setup<'_>, loaded: &Loaded, parts: &Arc<Parts>, bytes: &[u8]) -> Reply {
    let call = Call {
        setup,
        loaded,
        parts,
        path: parts.uri.path(),
        session: std::cell::OnceCell::new(),
    };
    let (operation, path_params) = match call.route() {
        Ok(found) => found,
        Err(reply) => return reply,
    };
    // From here on, refusals take the operation's documented error shape.
    let documented = Documented {
        api: &loaded.api,
        operation,
        cache: &loaded.cache,
        seed: setup.options.seed,
    };
    let refuse = |failure: Failure| {
        refuse::render(
            &loaded.fixture,
            failure,
            parts.method.as_str(),
            call.path,
            Some(&documented),
        )
    };
    let query = params::parse_query(parts.uri.query().unwrap_or(""));
    let cookies = params::parse_cookies(&parts.headers);
    let (user, credentials_good_until) = match call.authenticate(operation, &query, &cookies) {
        Ok(Some((user, good_until))) => (Some(user), good_until),
        Ok(None) => (None, None),
        Err(failure) => return refuse(failure),
    };
    let mut violations = Vec::new();
    let raw = RawParameters {
        path: &path_params,
        query: &query,
        headers: &parts.headers,
        cookies: &cookies,
    };
    let parameters = call.parameters(operation, &raw, &mut violations);
    let body = match call.body(operation, bytes, &mut violations) {
        Ok(body) => body.map(Arc::new),
        Err(failure) => return refuse(failure),
    };
    // Shared with the rules' template scope, which keeps them.
    let [path_values, query_values, header_values, cookie_values] = [
        parameters.path,
        parameters.query,
        parameters.header,
        parameters.cookie,
    ]
    .map(shared_map);
    let behaviour = loaded.fixture.model.operations.get(&operation.id);
    // Built only for an operation with rules: the spec-only path stays lean.
    let request = behaviour.map(|_| BehaviourRequest {
        method: parts.method.as_str(),
        path: call.path,
        raw_query: &query,
        head: parts,
        session: call.session(),
        path_params: &path_values,
        query: &query_values,
        header_params: &header_values,
        cookies: &cookie_values,
        body: body.as_ref(),
        given_base_url: None,
        default_status: respond::default_response(operation).map_or(200, |r| r.status.code()),
        user,
        credentials_good_until,
        spec: Some(Checked {
            api: &loaded.api,
            operation,
        }),
    });
    if let (Some(behaviour), Some(request)) = (behaviour, &request)
        && let Err(error) = call.fixture_checks(behaviour, request, &mut violations)
    {
        return refuse::fixture_template_failed(&loaded.fixture, &error, &operation.id);
    }
    if !violations.is_empty()
        && setup.stages.accept_invalid.as_deref() != Some(operation.id.as_str())
    {
        return refuse(Failure::invalid(violations));
    }
    let prefer = Prefer::parse(&parts.headers);
    let mut note = None;
    // `Prefer: code=…` asks the spec, not the fixture, for an answer.
    if prefer.code.is_none()
        && let (Some(behaviour), Some(request)) = (behaviour, &request)
    {
        match behave(
            &loaded.fixture,
            setup.store,
            &documented,
            behaviour,
            request,
        ) {
            Behaved::Reply(reply) => return reply,
            Behaved::Spec(why) => note = why,
        }
    }
    let mut reply = match call.respond(operation, &prefer) {
        Ok(reply) => reply,
        Err(failure) => refuse(failure),
    };
    if note.is_some() {
        reply.note = note;
    }
    reply
}

/// A request's parameters of one location, shared with the template
/// scope: most locations have none, and those share one empty map rather
/// than each request allocating its own.
fn shared_map(map: serde_json::Map<String, Value>) -> Arc<serde_json::Map<String, Value>> {
    static EMPTY: std::sync::LazyLock<Arc<serde_json::Map<String, Value>>> =
        std::sync::LazyLock::new(Arc::default);
    if map.is_empty() {
        EMPTY.clone()
    } else {
        Arc::new(map)
    }
}

impl<'a> Call<'a> {
    /// The session the request belongs to: its session header, else `default`.
    fn session(&self) -> &'a str {
        self.session
            .get_or_init(|| session_name(&self.loaded.fixture, &self.parts.headers))
    }

    /// A refusal before the operation is known: in the fixture's shape, or
    /// problem+json.
    fn refuse_unrouted(&self, failure: Failure) -> Reply {
        refuse::render(
            &self.loaded.fixture,
            failure,
            self.parts.method.as_str(),
            self.path,
            None,
        )
    }

    /// The operation and its path parameters; a CORS preflight of a path
    /// the API has, a redirect to the slashed path, 404 or 405 end here.
    fn route(&self) -> Result<Routed<'a>, Reply> {
        let api = &self.loaded.api;
        let (method, path, headers) = (&self.parts.method, self.path, &self.parts.headers);
        let route = api.route(method, path);
        if self.setup.options.cors
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
            return Err(cors::preflight(headers, &allowed));
        }
        match route {
            Route::Found { operation, params } => Ok((operation, params)),
            Route::MethodNotAllowed { allowed } => {
                let mut failure = Failure::new(
                    ErrorKind::MethodNotAllowed,
                    format!("`{method} {path}` is not an operation of this API"),
                );
                failure.allowed = allowed.iter().map(|m| m.to_string()).collect();
                Err(self.refuse_unrouted(failure))
            }
            Route::NotFound => Err(redirect_to_slash(self.loaded, self.parts).unwrap_or_else(
                || {
                    self.refuse_unrouted(Failure::new(
                        ErrorKind::NotFound,
                        format!("no path of this API matches `{path}`"),
                    ))
                },
            )),
        }
    }

    /// The spec's security requirements, then the fixture's users: the
    /// user the credentials name, if the fixture has users, and when the
    /// credentials stop being good, if they expire.
    fn authenticate(
        &self,
        operation: &Operation,
        query: &[(String, String)],
        cookies: &[(String, String)],
    ) -> Result<Option<(String, Option<std::time::Instant>)>, Failure> {
        if self.setup.stages.skip_auth {
            return Ok(None);
        }
        let (api, fixture, headers) = (&self.loaded.api, &self.loaded.fixture, &self.parts.headers);
        if let Err(wanted) = auth::check(api, operation, headers, query, cookies) {
            let mut failure = Failure::new(
                ErrorKind::Unauthorized,
                format!(
                    "`{}` needs credentials: {}",
                    operation.id,
                    wanted.join(", or ")
                ),
            );
            failure.schemes = wanted;
            return Err(failure);
        }
        if fixture.model.access.is_none() {
            return Ok(None);
        }
        let offered = auth::offered(api, operation, headers, query, cookies);
        match identify(fixture, self.setup.store, self.session(), &offered) {
            Identity::Anyone => Ok(None),
            Identity::User { key, good_until } => Ok(Some((key, good_until))),
            Identity::Denied { reason, credential } => {
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
                Err(failure)
            }
        }
    }

    /// The operation's parameters, typed; what does not fit the spec (and
    /// the fixture does not ignore) is a violation.
    fn parameters(
        &self,
        operation: &Operation,
        raw: &RawParameters<'_>,
        violations: &mut Vec<Violation>,
    ) -> ParsedParameters {
        let conventions = &self.loaded.fixture.conventions;
        let mut parameters = params::extract(&self.loaded.api, operation, raw, violations);
        if !conventions.ignore_invalid.is_empty() {
            params::drop_ignored(conventions, &mut parameters, violations);
        }
        parameters
    }

    /// The request body, parsed and checked against the operation's schema.
    fn body(
        &self,
        operation: &Operation,
        bytes: &[u8],
        violations: &mut Vec<Violation>,
    ) -> Result<Option<Value>, Failure> {
        let content_type = self
            .parts
            .headers
            .get(hyper::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok());
        body::check(
            &self.loaded.api,
            operation,
            content_type,
            bytes,
            self.setup.options.max_body_values,
            violations,
        )
    }

    /// The fixture's own `checks` of a body the spec accepts as a whole,
    /// joined to the spec's violations.
    fn fixture_checks(
        &self,
        behaviour: &crate::behaviour::model::OperationBehaviour,
        request: &BehaviourRequest<'_>,
        violations: &mut Vec<Violation>,
    ) -> Result<(), RenderError> {
        if behaviour.checks.is_empty()
            || request.body.is_none()
            || violations
                .iter()
                .any(|v| v.location == "body" && v.field.is_empty())
        {
            return Ok(());
        }
        let already: Vec<String> = violations
            .iter()
            .filter(|v| v.location == "body")
            .map(|v| v.field.clone())
            .collect();
        let fixture = &self.loaded.fixture;
        for (field, message) in check(fixture, self.setup.store, behaviour, request, &already)? {
            violations.push(Violation::checked(field, message));
        }
        Ok(())
    }

    /// The spec's answer: its example, or a body generated from its schema.
    fn respond(&self, operation: &Operation, prefer: &Prefer) -> Result<Reply, Failure> {
        let headers = &self.parts.headers;
        // 101 switches protocols, which only a request asking to upgrade may get.
        if prefer.code.is_none()
            && respond::default_response(operation).is_some_and(|r| r.status.code() == 101)
            && !headers.contains_key(hyper::header::UPGRADE)
        {
            return Err(Failure::invalid(vec![Violation::new(
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
        respond(
            &self.loaded.api,
            operation,
            prefer,
            accept,
            &self.loaded.cache,
            self.setup.options.seed,
        )
    }
}

/// Every method the API serves at `path`.
pub(super) fn all_methods(api: &Api, path: &str) -> Vec<String> {
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
