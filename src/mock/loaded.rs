//! A spec and fixture as loaded, with what is derived from them once: the
//! answers built from the spec and the headers CORS exposes. Swapped whole
//! on hot reload.

use super::cors;
use super::respond::BodyCache;
use crate::behaviour::Fixture;
use crate::spec::Api;
use std::sync::Arc;

/// A spec and fixture as loaded, with what is derived from them.
pub struct Loaded {
    pub api: Arc<Api>,
    pub fixture: Arc<Fixture>,
    pub(super) cache: BodyCache,
    pub(super) exposed_headers: String,
}

impl Loaded {
    pub(super) fn new(api: Arc<Api>, fixture: Arc<Fixture>) -> Self {
        let exposed_headers = cors::exposed_headers(&api);
        Self {
            api,
            fixture,
            cache: BodyCache::default(),
            exposed_headers,
        }
    }

    /// Collection names and keys: state survives a reload only if these stay.
    pub(super) fn state_shape(&self) -> Vec<(String, String)> {
        self.fixture
            .model
            .collections
            .iter()
            .map(|c| (c.name.clone(), c.key.clone()))
            .collect()
    }
}
