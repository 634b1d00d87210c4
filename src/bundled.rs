//! The three APIs understudy ships with, compiled into the binary so that
//! `understudy serve` works from any folder. Each is a spec plus a fixture,
//! the same files a user writes for their own API.

use crate::behaviour::{Fixture, FixtureError};
use crate::spec::{Api, SpecError};
use std::path::Path;

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
        spec_path: "specs/mittwald.yaml",
        spec: include_str!("../specs/mittwald.yaml"),
        fixture_path: "fixtures/mittwald.yaml",
        fixture: include_str!("../fixtures/mittwald.yaml"),
    },
    BundledApi {
        name: "waldur",
        spec_path: "specs/waldur.yaml",
        spec: include_str!("../specs/waldur.yaml"),
        fixture_path: "fixtures/waldur.yaml",
        fixture: include_str!("../fixtures/waldur.yaml"),
    },
    BundledApi {
        name: "datallog",
        spec_path: "specs/datallog.yaml",
        spec: include_str!("../specs/datallog.yaml"),
        fixture_path: "fixtures/datallog.yaml",
        fixture: include_str!("../fixtures/datallog.yaml"),
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
}

/// Finds a bundled API by name.
pub fn find(name: &str) -> Option<&'static BundledApi> {
    BUNDLED.iter().find(|b| b.name == name)
}
