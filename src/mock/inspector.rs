//! The inspector: one page, embedded in the binary, that shows a developer
//! what the mock is doing (the live request log with each refusal's
//! reasons, the sessions, a session's state as a tree, its clock and the
//! spec's operations) and lets them move the clock or reset a session.
//!
//! It is served at `/__understudy/` to a browser (an `Accept` naming
//! `text/html`), under the admin API's rules: loopback clients and
//! loopback `Host` names only. The page reads and writes through the admin
//! API from its own origin, so it needs no CORS, and it forbids being
//! framed, so another page cannot trick a click on its reset button.

use super::admin::Admin;
use super::reply::Reply;
use bytes::Bytes;
use serde_json::{Value, json};

/// The page: HTML, CSS and script in one file, nothing fetched from
/// elsewhere, no build step.
const PAGE: &str = include_str!("inspector.html");

/// Whether the request is a browser's asking for a page.
pub fn wanted(headers: &hyper::HeaderMap) -> bool {
    headers
        .get_all(hyper::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|media| crate::contract::media::essence(media) == "text/html")
}

/// The inspector page, with headers that keep it to itself: its own
/// scripts and styles only, requests to its own origin only, never framed.
pub fn page() -> Reply {
    let mut reply = Reply::bytes(
        200,
        "text/html; charset=utf-8",
        Bytes::from_static(PAGE.as_bytes()),
    );
    reply.headers.extend(
        [
            (
                "content-security-policy",
                "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
            ),
            ("x-frame-options", "DENY"),
            ("x-content-type-options", "nosniff"),
            ("referrer-policy", "no-referrer"),
            ("cache-control", "no-store"),
        ]
        .map(|(name, value)| (name.to_string(), value.to_string())),
    );
    reply
}

/// The spec's operations in the order it lists them, each with whether
/// the fixture gives it rules (state) or the spec alone answers it.
pub fn operations(admin: &Admin<'_>) -> Value {
    let operations: Vec<Value> = admin
        .api
        .operations
        .iter()
        .map(|operation| {
            let behaviour = admin.fixture.model.operations.get(&operation.id);
            json!({
                "method": operation.method.as_str(),
                "path": operation.path,
                "id": operation.id,
                "rules": behaviour.map_or(0, |b| b.rules.len()),
            })
        })
        .collect();
    json!({
        "api": admin.label,
        "title": admin.api.title,
        "session_header": admin.fixture.model.session_header,
        "operations": operations,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> hyper::HeaderMap {
        let mut headers = hyper::HeaderMap::new();
        headers.insert(hyper::header::ACCEPT, value.parse().expect("header"));
        headers
    }

    #[test]
    fn browsers_get_the_page_and_tools_the_json() {
        assert!(wanted(&accept(
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
        )));
        assert!(!wanted(&accept("*/*")));
        assert!(!wanted(&accept("application/json")));
        assert!(!wanted(&hyper::HeaderMap::new()));
    }

    #[test]
    fn the_page_loads_nothing_from_elsewhere() {
        // Self-contained: no address outside the page's own origin.
        for outside in ["http://", "https://", "//cdn", "@import"] {
            assert!(!PAGE.contains(outside), "the page names {outside}");
        }
        // Text a client sent is never parsed as HTML.
        assert!(!PAGE.contains("innerHTML"), "the page sets innerHTML");
        let reply = page();
        assert!(
            reply.headers.iter().any(
                |(n, v)| n == "content-security-policy" && v.contains("frame-ancestors 'none'")
            )
        );
    }
}
