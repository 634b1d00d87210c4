//! Security requirements: is the request carrying credentials?
//!
//! The mock checks presence and form (a bearer token needs `Bearer `) here.
//! Whether a credential names a user is the fixture's `auth` (see
//! [`crate::behaviour::access`]); without it any credential is accepted.

use crate::spec::{Api, Operation, ParameterLocation, SecurityScheme};

/// `Ok` when any one of the operation's requirements is satisfied;
/// otherwise what each unsatisfied requirement asked for.
pub fn check(
    api: &Api,
    operation: &Operation,
    headers: &hyper::HeaderMap,
    query: &[(String, String)],
    cookies: &[(String, String)],
) -> Result<(), Vec<String>> {
    if operation.security.is_empty() {
        return Ok(());
    }
    let mut wanted = Vec::new();
    for requirement in &operation.security {
        let missing: Vec<String> = requirement
            .schemes
            .iter()
            .filter_map(|name| {
                let scheme = api.security_schemes.get(name)?;
                (!satisfied(scheme, headers, query, cookies)).then(|| describe(scheme))
            })
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        wanted.push(missing.join(" and "));
    }
    Err(wanted)
}

/// The raw credentials the request offers, per security requirement of the
/// operation: each scheme's name and the value found where it looks
/// (`None` when absent).
pub fn offered<'a>(
    api: &'a Api,
    operation: &'a Operation,
    headers: &'a hyper::HeaderMap,
    query: &'a [(String, String)],
    cookies: &'a [(String, String)],
) -> Vec<crate::behaviour::engine::Offered<'a>> {
    operation
        .security
        .iter()
        .map(|requirement| {
            requirement
                .schemes
                .iter()
                .map(|name| {
                    let raw = api
                        .security_schemes
                        .get(name)
                        .and_then(|scheme| raw_value(scheme, headers, query, cookies));
                    (name.as_str(), raw)
                })
                .collect()
        })
        .collect()
}

fn raw_value<'a>(
    scheme: &SecurityScheme,
    headers: &'a hyper::HeaderMap,
    query: &'a [(String, String)],
    cookies: &'a [(String, String)],
) -> Option<&'a str> {
    let header = |value: Option<&'a hyper::header::HeaderValue>| {
        value
            .and_then(|v| v.to_str().ok())
            .filter(|v| !v.trim().is_empty())
    };
    match scheme {
        SecurityScheme::ApiKey {
            name,
            location,
            header: parsed,
        } => match location {
            ParameterLocation::Header => header(api_key_header(headers, name, parsed.as_ref())),
            ParameterLocation::Query => query
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str()),
            ParameterLocation::Cookie => cookies
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.as_str()),
            ParameterLocation::Path => None,
        },
        SecurityScheme::Http { .. } | SecurityScheme::BearerToken => {
            header(headers.get(hyper::header::AUTHORIZATION))
        }
        SecurityScheme::MutualTls => None,
    }
}

fn satisfied(
    scheme: &SecurityScheme,
    headers: &hyper::HeaderMap,
    query: &[(String, String)],
    cookies: &[(String, String)],
) -> bool {
    let non_empty = |v: &str| !v.trim().is_empty();
    match scheme {
        SecurityScheme::ApiKey {
            name,
            location,
            header,
        } => match location {
            ParameterLocation::Header => api_key_header(headers, name, header.as_ref())
                .and_then(|v| v.to_str().ok())
                .is_some_and(non_empty),
            ParameterLocation::Query => query.iter().any(|(k, v)| k == name && non_empty(v)),
            ParameterLocation::Cookie => cookies.iter().any(|(k, v)| k == name && non_empty(v)),
            ParameterLocation::Path => false,
        },
        SecurityScheme::Http { scheme } => authorization_has(headers, scheme),
        SecurityScheme::BearerToken => authorization_has(headers, "bearer"),
        SecurityScheme::MutualTls => true,
    }
}

/// An API key's header: by the name parsed at load, or by its text when it
/// is no valid header name (then no request carries it).
fn api_key_header<'h>(
    headers: &'h hyper::HeaderMap,
    name: &str,
    parsed: Option<&hyper::header::HeaderName>,
) -> Option<&'h hyper::header::HeaderValue> {
    match parsed {
        Some(parsed) => headers.get(parsed),
        None => headers.get(name),
    }
}

/// `Authorization: <scheme> <credentials>` with the scheme compared case-insensitively.
fn authorization_has(headers: &hyper::HeaderMap, scheme: &str) -> bool {
    headers
        .get_all(hyper::header::AUTHORIZATION)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| {
            let mut parts = v.trim().splitn(2, ' ');
            let given = parts.next().unwrap_or_default();
            let credentials = parts.next().unwrap_or_default();
            given.eq_ignore_ascii_case(scheme) && !credentials.trim().is_empty()
        })
}

fn describe(scheme: &SecurityScheme) -> String {
    match scheme {
        SecurityScheme::ApiKey { name, location, .. } => format!("{} `{name}`", location.as_str()),
        SecurityScheme::Http { scheme } => format!("`Authorization: {} …`", capitalise(scheme)),
        SecurityScheme::BearerToken => "`Authorization: Bearer …`".to_string(),
        SecurityScheme::MutualTls => "a client certificate".to_string(),
    }
}

fn capitalise(s: &str) -> String {
    let mut chars = s.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().collect::<String>() + chars.as_str())
        .unwrap_or_default()
}
