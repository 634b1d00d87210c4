//! The spec engine: an OpenAPI 3.0/3.1 document into an [`Api`] the mock and
//! the runner share. Loading reads and bundles files, checks references and
//! the version, indexes operations and builds the router; schemas compile
//! lazily (see [`schema`]). Nothing here does network or request I/O.

pub mod dialect;
mod error;
pub mod extract;
mod infinite;
pub mod jsonpath;
mod lint;
mod load;
pub mod operation;
pub mod overlay;
pub mod recipe;
pub mod refs;
pub mod router;
pub mod schema;
pub mod security;
pub mod swagger2;
pub mod warnings;

pub use dialect::{Dialect, Direction};
pub use error::SpecError;
pub use operation::{
    Operation, Parameter, ParameterLocation, ParameterShape, Scalar, StatusKey, Style,
};
pub use overlay::Overlay;
pub use schema::{CompiledSchema, SchemaError, SchemaSlot, SlotSchema};
pub use security::SecurityScheme;

use crate::source::SourceLocation;
use router::{RouteMatch, Router};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A loaded spec: immutable once built, shared behind an `Arc` by servers.
#[derive(Debug)]
pub struct Api {
    /// Mistakes that do not stop the spec from serving (schemas that will
    /// not compile, so nothing is validated against them); `--strict`
    /// refuses the spec instead.
    pub warnings: std::sync::Arc<warnings::Warnings>,
    pub title: String,
    pub source: PathBuf,
    pub dialect: Dialect,
    pub operations: Vec<Operation>,
    /// Path prefixes from `servers` (e.g. `/v1`), longest first; may be empty.
    pub base_paths: Vec<String>,
    pub security_schemes: foldhash::HashMap<String, SecurityScheme>,
    router: Router,
    /// For each router template: the operations on it, by index.
    operations_by_template: Vec<Vec<usize>>,
    bundle: std::sync::Arc<refs::Bundle>,
    /// Every schema slot compiled together, per direction (request,
    /// response), on first use.
    shared: [std::sync::OnceLock<schema::SharedSchemas>; 2],
}

/// Where a request path led.
#[derive(Debug)]
pub enum Route<'a, 'p> {
    Found {
        operation: &'a Operation,
        /// Path parameters by name, raw as the path has them.
        params: Vec<(&'a str, &'p str)>,
    },
    /// The path exists but not with this method; the methods it has.
    MethodNotAllowed {
        allowed: Vec<&'a hyper::Method>,
    },
    NotFound,
}

impl Api {
    /// Reads and loads a spec file (YAML or JSON).
    pub fn load(path: &Path) -> Result<Api, SpecError> {
        load::load(path)
    }

    /// Loads a spec from text already in memory; `path` names it in errors
    /// and anchors relative `$ref`s.
    /// Loads `path` with OpenAPI Overlays applied first (see [`load::load_with_overlays`]).
    pub fn load_with_overlays(path: &Path, overlays: &[Overlay]) -> Result<Api, SpecError> {
        load::load_with_overlays(path, overlays)
    }

    pub fn from_text(path: &Path, text: &str) -> Result<Api, SpecError> {
        load::load_text(path, text)
    }

    /// Finds the operation for a method and a path (with or without a base path).
    pub fn route<'a, 'p>(&'a self, method: &hyper::Method, path: &'p str) -> Route<'a, 'p> {
        let found = self.route_path(path);
        let Some(found) = found else {
            return Route::NotFound;
        };
        let candidates = &self.operations_by_template[found.template];
        let lookup = |m: &hyper::Method| {
            candidates
                .iter()
                .map(|&i| &self.operations[i])
                .find(|op| op.method == *m)
        };
        if let Some(operation) = lookup(method) {
            return Route::Found {
                operation,
                params: found.params,
            };
        }
        if *method == hyper::Method::HEAD
            && let Some(operation) = lookup(&hyper::Method::GET)
        {
            return Route::Found {
                operation,
                params: found.params,
            };
        }
        Route::MethodNotAllowed {
            allowed: candidates
                .iter()
                .map(|&i| &self.operations[i].method)
                .collect(),
        }
    }

    fn route_path<'a, 'p>(&'a self, path: &'p str) -> Option<RouteMatch<'a, 'p>> {
        for base in &self.base_paths {
            if let Some(rest) = path.strip_prefix(base.as_str())
                && rest.starts_with('/')
                && let Some(found) = self.router.find(rest)
            {
                return Some(found);
            }
        }
        self.router.find(path)
    }

    /// The header names of the spec's API-key schemes: credentials.
    pub fn api_key_headers(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .security_schemes
            .values()
            .filter_map(|scheme| match scheme {
                SecurityScheme::ApiKey {
                    name,
                    location: operation::ParameterLocation::Header,
                    ..
                } => Some(name.to_ascii_lowercase()),
                _ => None,
            })
            .collect();
        names.sort();
        names.dedup();
        names
    }

    pub fn operation(&self, id: &str) -> Option<&Operation> {
        self.operations.iter().find(|op| op.id == id)
    }

    /// The source file and line of a pointer into the bundled document.
    pub fn locate(&self, pointer: &str) -> SourceLocation {
        self.bundle.locate(pointer)
    }

    /// The bundled document: every `$ref` in it is local.
    pub fn root(&self) -> &Value {
        &self.bundle.root
    }

    /// Follows `$ref`s from `node` to the node they name.
    pub fn deref<'a>(&'a self, node: &'a Value) -> Option<&'a Value> {
        refs::deref(self.root(), node)
    }

    /// The compiled schema of `slot`; the first call for a direction
    /// compiles every schema of that direction at once.
    pub fn compiled<'a, 's>(&'a self, slot: &'s SchemaSlot) -> Result<SlotSchema<'a, 's>, &'a str> {
        let direction = slot.direction();
        let index = match direction {
            Direction::Request => 0,
            Direction::Response => 1,
        };
        self.shared[index]
            .get_or_init(|| {
                schema::SharedSchemas::build(
                    self.slots().filter(|s| s.direction() == direction),
                    self.root(),
                    self.dialect,
                    direction,
                )
            })
            .get(slot)
    }

    /// Every schema slot of every operation.
    fn slots(&self) -> impl Iterator<Item = &SchemaSlot> {
        self.operations.iter().flat_map(|operation| {
            let parameters = operation
                .parameters
                .iter()
                .filter_map(|p| p.schema.as_ref());
            let body = operation
                .request_body
                .iter()
                .flat_map(|b| b.media.iter().filter_map(|m| m.schema.as_ref()));
            let responses = operation.responses.iter().flat_map(|r| {
                r.media
                    .iter()
                    .filter_map(|m| m.schema.as_ref())
                    .chain(r.headers.iter().filter_map(|h| h.schema.as_ref()))
            });
            parameters.chain(body).chain(responses)
        })
    }
}
