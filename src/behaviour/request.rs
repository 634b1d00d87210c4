//! A request as the fixture's rules see it: validated by the spec, its
//! parameters typed. Shared by the engine that runs the rules and the
//! template context that shows the request to them.

use serde_json::{Map, Value};
use std::sync::Arc;

/// The parts of a validated request that rules can see.
pub struct Request<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub raw_query: &'a [(String, String)],
    /// The request's head (its headers above all), shared: the template
    /// scope keeps it for the length of the request instead of copying
    /// the headers.
    pub head: &'a Arc<hyper::http::request::Parts>,
    /// The session the request belongs to ([`super::engine::session_name`]),
    /// read from its head once.
    pub session: &'a str,
    /// Parameters typed by the spec, per location. Shared rather than
    /// borrowed, as is the body: the template scope of the request keeps
    /// them for its length, and copying them cost more than the lookups
    /// that read them.
    pub path_params: &'a Arc<Map<String, Value>>,
    pub query: &'a Arc<Map<String, Value>>,
    pub header_params: &'a Arc<Map<String, Value>>,
    pub cookies: &'a Arc<Map<String, Value>>,
    pub body: Option<&'a Arc<Value>>,
    /// `http://host` for links and URLs in bodies, when it is given (the
    /// admin API's sessions); else it is read from the `Host` header, and
    /// only by a rule that uses it ([`Request::base_url`]).
    pub given_base_url: Option<&'a str>,
    /// The status to answer when a rule names none: the lowest documented 2xx.
    pub default_status: u16,
    /// The key of the user the request's credentials named (see `auth`).
    pub user: Option<String>,
    /// When those credentials stop being good (`auth: lifetime:`), a
    /// little early; `None` when they do not expire. An answer that
    /// depends on nothing else may be repeated until then.
    pub credentials_good_until: Option<std::time::Instant>,
    /// The spec the request was checked against: a collection with `fit:`
    /// holds what it stores to that spec's schemas. `None` where no spec
    /// is at hand (template checks at load).
    pub spec: Option<Checked<'a>>,
}

/// The spec and operation a request was checked against.
#[derive(Clone, Copy)]
pub struct Checked<'a> {
    pub api: &'a crate::spec::Api,
    pub operation: &'a crate::spec::Operation,
}

impl Request<'_> {
    /// `http://host` as the client addressed the mock.
    pub fn base_url(&self) -> String {
        self.given_base_url
            .map_or_else(|| base_url_of(&self.head.headers), str::to_string)
    }
}

/// `http://host` as the client addressed the mock, from its `Host` header.
pub fn base_url_of(headers: &hyper::HeaderMap) -> String {
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
