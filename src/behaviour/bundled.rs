//! The three APIs understudy ships with, compiled into the binary so that
//! `understudy serve` works from any folder. Each is a spec plus a fixture,
//! the same files a user writes for their own API.

use crate::behaviour::{Fixture, FixtureError};
use crate::spec::{Api, SpecError};
use std::path::Path;
use std::sync::{Arc, Mutex};

/// A bundled API: its name and the text of its files.
pub struct BundledApi {
    pub name: &'static str,
    pub spec_path: &'static str,
    pub spec: &'static str,
    pub fixture_path: &'static str,
    pub fixture: &'static str,
}

pub const BUNDLED: [BundledApi; 3] = [
    BundledApi {
        name: "mittwald",
        spec_path: "specs/mittwald.json",
        spec: include_str!("../../specs/mittwald.json"),
        fixture_path: "fixtures/mittwald.yaml",
        fixture: include_str!("../../fixtures/mittwald.yaml"),
    },
    BundledApi {
        name: "waldur",
        spec_path: "specs/waldur.json",
        spec: include_str!("../../specs/waldur.json"),
        fixture_path: "fixtures/waldur.yaml",
        fixture: include_str!("../../fixtures/waldur.yaml"),
    },
    BundledApi {
        name: "datallog",
        spec_path: "specs/datallog.yaml",
        spec: include_str!("../../specs/datallog.yaml"),
        fixture_path: "fixtures/datallog.yaml",
        fixture: include_str!("../../fixtures/datallog.yaml"),
    },
];

/// Why a bundled API did not load (a bug in the shipped files, caught by tests).
#[derive(Debug, thiserror::Error)]
pub enum BundledError {
    #[error(transparent)]
    Spec(#[from] SpecError),
    #[error(transparent)]
    Fixture(#[from] FixtureError),
}

impl BundledApi {
    pub fn load(&self) -> Result<(Api, Fixture), BundledError> {
        let api = Api::from_text(Path::new(self.spec_path), self.spec)?;
        let mut fixture = Fixture::from_text(Path::new(self.fixture_path), self.fixture)?;
        fixture.bind(&api)?;
        Ok((api, fixture))
    }

    /// The spec loaded once per process and shared, with a fixture of its
    /// own: the spec never changes, and sharing it means its schemas are
    /// compiled once for every mock and run that uses it (`mutate` starts
    /// a mock per mutant). The fixture is fresh, so a fault applied to one
    /// never reaches another.
    pub fn load_shared(&self) -> Result<(Arc<Api>, Fixture), BundledError> {
        static LOADED: Mutex<Vec<(&'static str, Arc<Api>)>> = Mutex::new(Vec::new());
        let api = {
            let mut loaded = LOADED.lock().unwrap_or_else(|e| e.into_inner());
            match loaded.iter().find(|(name, _)| *name == self.name) {
                Some((_, api)) => api.clone(),
                None => {
                    let api = Arc::new(Api::from_text(Path::new(self.spec_path), self.spec)?);
                    loaded.push((self.name, api.clone()));
                    api
                }
            }
        };
        let mut fixture = Fixture::from_text(Path::new(self.fixture_path), self.fixture)?;
        fixture.bind(&api)?;
        Ok((api, fixture))
    }
}

/// Finds a bundled API by name.
pub fn find(name: &str) -> Option<&'static BundledApi> {
    BUNDLED.iter().find(|b| b.name == name)
}
