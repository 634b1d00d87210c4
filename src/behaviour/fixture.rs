//! `fixtures/<api>.yaml`: what the spec cannot say about an API.
//!
//! ```yaml
//! spec: ../specs/datallog.yaml      # the spec this fixture belongs to
//! overlays: [fixes.overlay.yaml]    # optional: OpenAPI Overlays applied to it
//! messages:                         # optional: wording per failed keyword
//!   required: "This field is required."
//! errors:                           # the API's own error shapes, per kind
//!   validation:
//!     - when: "violations | rejectattr('keyword', 'eq', 'required') | list | length == 0"
//!       status: 400
//!       body: {error: "Missing required field(s): {{ missing | join(', ') }}"}
//!     - status: 400
//!       body: {message: "{{ violations[0].message }}"}
//! ```
//!
//! Every key is checked on load; an unknown key or a template that does not
//! compile is an error naming the file and line.

use super::model::Model;
pub use super::read::FixtureError;
use super::read::Reader;
use super::template::{Expr, Template};
use crate::source::SourceDocument;
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Kinds of failure the mock answers without reaching behaviour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    Validation,
    Unauthorized,
    NotFound,
    MethodNotAllowed,
    UnsupportedMediaType,
    NotAcceptable,
    PayloadTooLarge,
    /// A uniqueness constraint of a collection would break.
    Conflict,
    /// The session holds `--max-items` items: the mock's own limit.
    InsufficientStorage,
}

impl ErrorKind {
    const ALL: [(&'static str, ErrorKind); 9] = [
        ("validation", ErrorKind::Validation),
        ("unauthorized", ErrorKind::Unauthorized),
        ("not_found", ErrorKind::NotFound),
        ("method_not_allowed", ErrorKind::MethodNotAllowed),
        ("unsupported_media_type", ErrorKind::UnsupportedMediaType),
        ("not_acceptable", ErrorKind::NotAcceptable),
        ("payload_too_large", ErrorKind::PayloadTooLarge),
        ("conflict", ErrorKind::Conflict),
        ("insufficient_storage", ErrorKind::InsufficientStorage),
    ];

    pub fn default_status(self) -> u16 {
        match self {
            ErrorKind::Validation => 400,
            ErrorKind::Unauthorized => 401,
            ErrorKind::NotFound => 404,
            ErrorKind::MethodNotAllowed => 405,
            ErrorKind::NotAcceptable => 406,
            ErrorKind::PayloadTooLarge => 413,
            ErrorKind::UnsupportedMediaType => 415,
            ErrorKind::Conflict => 409,
            ErrorKind::InsufficientStorage => 507,
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            ErrorKind::Validation => "Request does not match the API contract",
            ErrorKind::Unauthorized => "Authentication required",
            ErrorKind::NotFound => "Not found",
            ErrorKind::MethodNotAllowed => "Method not allowed",
            ErrorKind::NotAcceptable => "Not acceptable",
            ErrorKind::PayloadTooLarge => "Payload too large",
            ErrorKind::UnsupportedMediaType => "Unsupported media type",
            ErrorKind::Conflict => "Conflict",
            ErrorKind::InsufficientStorage => "Insufficient storage",
        }
    }
}

/// One way of answering an error: used when `when` holds (or has none).
#[derive(Debug, Clone)]
pub struct ErrorRule {
    pub when: Option<Expr>,
    pub status: Option<u16>,
    pub content_type: String,
    pub headers: Vec<(String, String)>,
    pub body: Template,
    /// JSON pointer of the rule (`/errors/validation/0`), for diagnostics.
    pub pointer: String,
}

/// A loaded fixture.
pub struct Fixture {
    pub path: Option<PathBuf>,
    /// The spec named by the fixture, resolved against the fixture's folder.
    pub spec: Option<PathBuf>,
    /// OpenAPI Overlays applied to the spec before it is checked, in order
    /// (`overlays:`, relative to the fixture).
    pub overlays: Vec<PathBuf>,
    pub errors: HashMap<ErrorKind, Vec<ErrorRule>>,
    /// Message templates by keyword; `v` is the violation in scope.
    pub messages: HashMap<String, Template>,
    /// Collections, state and the rules bound to operations.
    pub model: Model,
    /// Headers, redirects and leniencies of the API's web framework.
    pub conventions: super::conventions::Conventions,
    /// The parsed file, kept to point at lines when binding to a spec fails.
    pub source: Option<std::sync::Arc<SourceDocument>>,
    /// For a fixture inferred from the spec: what was inferred and what
    /// was left to the spec alone, for the start's log.
    pub inferred: Vec<String>,
    /// `infer:` (default true): the spec's resources this fixture does
    /// not describe are inferred beside it.
    pub infer: bool,
}

impl std::fmt::Debug for Fixture {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fixture")
            .field("path", &self.path)
            .field("spec", &self.spec)
            .finish_non_exhaustive()
    }
}

impl Default for Fixture {
    /// No fixture: errors in the default RFC 9457 shape.
    fn default() -> Self {
        Self {
            path: None,
            spec: None,
            overlays: Vec::new(),
            errors: HashMap::new(),
            messages: HashMap::new(),
            model: Model {
                session_header: Model::DEFAULT_SESSION_HEADER.to_string(),
                ..Model::default()
            },
            conventions: Default::default(),
            source: None,
            inferred: Vec::new(),
            infer: true,
        }
    }
}

impl Fixture {
    pub fn load(path: &Path) -> Result<Fixture, FixtureError> {
        Self::read(SourceDocument::read(path)?)
    }

    /// Loads a fixture from text in memory; `path` names it in errors.
    pub fn from_text(path: &Path, text: &str) -> Result<Fixture, FixtureError> {
        Self::read(SourceDocument::parse(path, std::sync::Arc::from(text))?)
    }

    /// Reads a fixture from a parsed document (one composed from several
    /// files names each part's own file in errors).
    pub fn from_document(document: SourceDocument) -> Result<Fixture, FixtureError> {
        Self::read(document)
    }

    fn read(document: SourceDocument) -> Result<Fixture, FixtureError> {
        let document = std::sync::Arc::new(document);
        let mut fixture = Reader::new(&document).fixture()?;
        fixture.source = Some(document);
        Ok(fixture)
    }
}

impl Reader<'_> {
    fn fixture(&self) -> Result<Fixture, FixtureError> {
        let root = &self.document.value;
        self.keys_known(
            root,
            "",
            &[
                "spec",
                "overlays",
                "errors",
                "messages",
                "session_header",
                "vars",
                "collections",
                "operations",
                "auth",
                "headers",
                "trailing_slash",
                "ignore_invalid",
                "infer",
            ],
        )?;
        let infer = match root.get("infer") {
            None => true,
            Some(Value::Bool(b)) => *b,
            Some(_) => {
                return Err(self.invalid(
                    "/infer",
                    "`infer` is true (the default: operations the fixture does not name are inferred from the spec) or false",
                ));
            }
        };
        let spec = match root.get("spec") {
            None => None,
            Some(Value::String(s)) => Some(
                self.document
                    .path
                    .parent()
                    .unwrap_or(Path::new("."))
                    .join(s),
            ),
            Some(_) => {
                return Err(self.invalid("/spec", "`spec` must be a path to the OpenAPI file"));
            }
        };
        let base = self.document.path.parent().unwrap_or(Path::new("."));
        let overlays = match root.get("overlays") {
            None => Vec::new(),
            Some(list) => crate::spec::overlay::listed(list, base)
                .map_err(|(at, message)| self.invalid(&format!("/overlays{at}"), message))?,
        };
        let mut messages = HashMap::new();
        if let Some(map) = root.get("messages") {
            let Value::Object(map) = map else {
                return Err(self.invalid("/messages", "expected a mapping of keyword to message"));
            };
            for (keyword, template) in map {
                let pointer = format!("/messages/{keyword}");
                if !template.is_string() {
                    return Err(self.invalid(&pointer, "a message must be a string (a template)"));
                }
                let template =
                    Template::new(template.clone(), &pointer).map_err(|(inner, e)| {
                        self.invalid(&format!("{pointer}{inner}"), format!("template error: {e}"))
                    })?;
                messages.insert(keyword.clone(), template);
            }
        }
        let mut errors = HashMap::new();
        if let Some(map) = root.get("errors") {
            let names: Vec<&str> = ErrorKind::ALL.iter().map(|(n, _)| *n).collect();
            self.keys_known(map, "/errors", &names)?;
            for (name, kind) in ErrorKind::ALL {
                if let Some(rules) = map.get(name) {
                    errors.insert(kind, self.rules(rules, &format!("/errors/{name}"))?);
                }
            }
        }
        let model = self.model()?;
        let conventions = self.conventions()?;
        Ok(Fixture {
            path: Some(self.document.path.clone()),
            spec,
            overlays,
            errors,
            messages,
            model,
            conventions,
            source: None,
            inferred: Vec::new(),
            infer,
        })
    }

    fn rules(&self, value: &Value, pointer: &str) -> Result<Vec<ErrorRule>, FixtureError> {
        let Value::Array(items) = value else {
            return Err(self.invalid(pointer, "expected a list of error rules"));
        };
        let mut rules = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let pointer = format!("{pointer}/{i}");
            self.keys_known(
                item,
                &pointer,
                &["when", "status", "content_type", "headers", "body"],
            )?;
            let when = self.expression(item.get("when"), &format!("{pointer}/when"))?;
            let status = self.status(item, &pointer)?;
            let content_type = match item.get("content_type") {
                None => "application/json".to_string(),
                Some(Value::String(s)) => s.clone(),
                Some(_) => {
                    return Err(self.invalid(
                        &format!("{pointer}/content_type"),
                        "`content_type` must be a string",
                    ));
                }
            };
            let headers = self.string_map(
                item.get("headers"),
                &format!("{pointer}/headers"),
                "`headers` must be a mapping",
                "header values must be strings",
            )?;
            let Some(body) = item.get("body") else {
                return Err(self.invalid(&pointer, "an error rule needs a `body`"));
            };
            let body =
                Template::new(body.clone(), &format!("{pointer}/body")).map_err(|(inner, e)| {
                    self.invalid(
                        &format!("{pointer}/body{inner}"),
                        format!("template error: {e}"),
                    )
                })?;
            rules.push(ErrorRule {
                when,
                status,
                content_type,
                headers,
                body,
                pointer,
            });
        }
        Ok(rules)
    }
}
