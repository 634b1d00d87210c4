//! The mock's answer before it becomes a hyper response.

use super::violation::Violation;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{HeaderMap, HeaderName, HeaderValue};
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    /// Lower-case names; `content-type` included when there is a body.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
    /// What was wrong with the request, for the log line.
    pub violations: Vec<Violation>,
    /// A note for the log (e.g. an example that did not fit its schema).
    pub note: Option<String>,
    /// Whether the same request may get this answer again, without being
    /// run, until the state changes (see `repeat`): set only by the
    /// behaviour stage, for answers that follow from the state alone.
    pub repeatable: bool,
    /// Until when, if not until the state changes: the request's
    /// credentials expire then. Boxed: it is rare, and a reply is moved
    /// through every stage.
    pub repeatable_until: Option<Box<std::time::Instant>>,
}

impl Reply {
    pub fn json(status: u16, content_type: &str, body: &Value) -> Self {
        // Most answers are a few hundred bytes: one allocation, no regrowth.
        let mut bytes = Vec::with_capacity(1024);
        if serde_json::to_writer(&mut bytes, body).is_err() {
            bytes.clear();
        }
        Self::bytes(status, content_type, Bytes::from(bytes))
    }

    /// An RFC 9457 problem+json answer of the mock's own (not the API's).
    pub fn problem(status: u16, title: &str, detail: &str) -> Self {
        Self::json(
            status,
            "application/problem+json",
            &serde_json::json!({
                "type": "about:blank",
                "title": title,
                "status": status,
                "detail": detail,
            }),
        )
    }

    /// A body in any media type: JSON types get the value serialised; for
    /// others (`text/html`, `text/plain`) a string value is the body as it
    /// is, so a fixture can answer a framework's HTML error page.
    pub fn of(status: u16, content_type: &str, body: &Value) -> Self {
        let essence = content_type.split(';').next().unwrap_or_default().trim();
        match body {
            Value::String(text) if !crate::spec::operation::is_json_media_type(essence) => {
                Self::bytes(status, content_type, Bytes::from(text.clone()))
            }
            _ => Self::json(status, content_type, body),
        }
    }

    pub fn bytes(status: u16, content_type: &str, body: Bytes) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), content_type.to_string())],
            body,
            violations: Vec::new(),
            note: None,
            repeatable: false,
            repeatable_until: None,
        }
    }

    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
            violations: Vec::new(),
            note: None,
            repeatable: false,
            repeatable_until: None,
        }
    }
}

impl Reply {
    /// Its headers as hyper sends them.
    pub fn header_map(&self) -> HeaderMap {
        header_map(self.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())))
    }

    /// The hyper response; `head` leaves the body out (a `HEAD` answer).
    pub fn into_response(self, head: bool) -> hyper::Response<Full<Bytes>> {
        let headers = header_map(self.headers);
        response(self.status, headers, self.body, head)
    }
}

/// `headers` as a hyper header map; one that is not a valid header is
/// left out, on every answer alike.
fn header_map<N, V>(headers: impl IntoIterator<Item = (N, V)>) -> HeaderMap
where
    HeaderName: TryFrom<N>,
    HeaderValue: TryFrom<V>,
{
    let headers = headers.into_iter();
    let mut map = HeaderMap::with_capacity(headers.size_hint().0);
    for (name, value) in headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            map.append(name, value);
        }
    }
    map
}

/// A hyper response of `status` (500 if it is no status), `headers` and
/// `body`, the body left out when `head`.
pub fn response(
    status: u16,
    headers: HeaderMap,
    body: Bytes,
    head: bool,
) -> hyper::Response<Full<Bytes>> {
    let body = if head { Bytes::new() } else { body };
    let mut response = hyper::Response::new(Full::new(body));
    *response.status_mut() =
        hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    *response.headers_mut() = headers;
    response
}
