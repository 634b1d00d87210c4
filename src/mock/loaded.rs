//! A spec and fixture as loaded, with what is derived from them once: the
//! answers built from the spec and the headers CORS exposes. Swapped whole
//! on hot reload.

use super::cors;
use super::repeat::RepeatedAnswers;
use super::respond::BodyCache;
use crate::behaviour::Fixture;
use crate::spec::Api;
use std::sync::Arc;

/// What the fixture's `headers:` templates are given (`server`), all of
/// which stay the same while the state does.
pub(super) const CONVENTION_HEADER_NAMES: &[&str] =
    &["allowed", "status", "method", "path", "vars"];

/// A spec and fixture as loaded, with what is derived from them.
pub struct Loaded {
    pub api: Arc<Api>,
    pub fixture: Arc<Fixture>,
    pub(super) cache: BodyCache,
    pub(super) exposed_headers: String,
    /// Answers to requests repeated while the state does not change; a
    /// reload starts without any. `None` when turned off, or when an
    /// answer's headers could differ each time (a fixture `headers:`
    /// template reading more than the answer and the variables, `uuid()`).
    pub(super) repeats: Option<RepeatedAnswers>,
}

impl Loaded {
    /// `repeat_cache`: bytes of repeated answers kept (0 for none).
    pub(super) fn new(api: Arc<Api>, fixture: Arc<Fixture>, repeat_cache: usize) -> Self {
        let exposed_headers = cors::exposed_headers(&api);
        let headers_repeat = fixture
            .conventions
            .headers
            .iter()
            .all(|(_, template)| template.reads_only(CONVENTION_HEADER_NAMES));
        Self {
            api,
            fixture,
            cache: BodyCache::default(),
            exposed_headers,
            repeats: RepeatedAnswers::new(if headers_repeat { repeat_cache } else { 0 }),
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn loaded_with_headers(headers: &str) -> Loaded {
        let spec = r#"{"openapi": "3.1.0", "info": {"title": "t", "version": "1"},
            "paths": {"/a": {"get": {"responses": {"200": {"description": "ok"}}}}}}"#;
        let api = Api::from_text(Path::new("t.json"), spec).expect("spec loads");
        let mut fixture =
            Fixture::from_text(Path::new("f.yaml"), &format!("headers:\n{headers}\n"))
                .expect("fixture loads");
        fixture.bind(&api).expect("fixture fits");
        Loaded::new(Arc::new(api), Arc::new(fixture), 1 << 20)
    }

    #[test]
    fn answers_repeat_only_when_the_fixture_headers_stay_the_same() {
        let allow = loaded_with_headers("  Allow: \"{{ (allowed + ['OPTIONS']) | join(', ') }}\"");
        assert!(allow.repeats.is_some());
        let varied = loaded_with_headers("  X-Request-Id: \"{{ uuid() }}\"");
        assert!(varied.repeats.is_none());
        let text = loaded_with_headers("  X-Request-Id: \"req-{{ uuid() }}\"");
        assert!(text.repeats.is_none());
    }
}
