//! CORS, so a frontend dev server on another origin can call the mock.

use super::reply::Reply;
use crate::spec::Api;

/// Headers browsers may read from responses: every response header the spec
/// documents plus the pagination headers these APIs are known to send.
pub fn exposed_headers(api: &Api) -> String {
    let mut names: Vec<String> = ["link", "x-result-count", "location", "etag"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    for operation in &api.operations {
        for response in &operation.responses {
            for header in &response.headers {
                let name = header.name.to_ascii_lowercase();
                if !names.contains(&name) {
                    names.push(name);
                }
            }
        }
    }
    names.join(", ")
}

/// Whether a request is a CORS preflight.
pub fn is_preflight(method: &hyper::Method, headers: &hyper::HeaderMap) -> bool {
    method == hyper::Method::OPTIONS
        && headers.contains_key(hyper::header::ORIGIN)
        && headers.contains_key("access-control-request-method")
}

/// The answer to a preflight: the requested method and headers allowed.
pub fn preflight(headers: &hyper::HeaderMap, allowed_methods: &[String]) -> Reply {
    let mut reply = Reply::empty(204);
    let methods = if allowed_methods.is_empty() {
        "GET, POST, PUT, PATCH, DELETE, OPTIONS".to_string()
    } else {
        allowed_methods.join(", ")
    };
    reply
        .headers
        .push(("access-control-allow-methods".into(), methods));
    if let Some(requested) = headers
        .get("access-control-request-headers")
        .and_then(|v| v.to_str().ok())
    {
        reply
            .headers
            .push(("access-control-allow-headers".into(), requested.to_string()));
    }
    reply
        .headers
        .push(("access-control-max-age".into(), "600".into()));
    reply
}

/// Adds the allow-origin headers to any answer for a request with `Origin`.
pub fn decorate(reply: &mut Reply, headers: &hyper::HeaderMap, exposed: &str) {
    let Some(origin) = headers
        .get(hyper::header::ORIGIN)
        .and_then(|v| v.to_str().ok())
    else {
        return;
    };
    reply
        .headers
        .push(("access-control-allow-origin".into(), origin.to_string()));
    reply
        .headers
        .push(("access-control-allow-credentials".into(), "true".into()));
    reply.headers.push(("vary".into(), "Origin".into()));
    if !exposed.is_empty() {
        reply
            .headers
            .push(("access-control-expose-headers".into(), exposed.to_string()));
    }
}
