//! How a bundled spec is made from its vendor's: a recipe names the
//! vendor's file, the operations to keep and the overlay that corrects it.
//!
//! ```yaml
//! upstream: waldur-8.0.5.yaml      # looked up in the folder of vendor specs
//! overlay: waldur.overlay.yaml     # beside the recipe; every action says why
//! output: waldur.json              # beside the recipe
//! operations: [projects_list, projects_create]
//! ```
//!
//! `understudy extract RECIPE --upstream DIR` writes the output; the test
//! suite builds it again and compares, so the committed spec cannot drift
//! from "the vendor's spec plus these reasoned changes".

use super::SpecError;
use super::extract::extract;
use super::overlay::Overlay;
use crate::source::SourceDocument;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// A loaded recipe.
#[derive(Debug)]
pub struct Recipe {
    pub path: PathBuf,
    /// The vendor's file name, in the folder of vendor specs.
    pub upstream: String,
    pub overlay: Option<PathBuf>,
    /// Where the extract is written.
    pub output: PathBuf,
    pub operations: Vec<String>,
    document: SourceDocument,
}

impl Recipe {
    pub fn load(path: &Path) -> Result<Self, SpecError> {
        let document = SourceDocument::read(path)?;
        let invalid = |pointer: &str, message: &str| SpecError::Invalid {
            at: document.locate(pointer),
            message: message.to_string(),
        };
        let root = &document.value;
        let Value::Object(map) = root else {
            return Err(invalid("", "a recipe is a mapping"));
        };
        if let Some(key) =
            crate::source::unknown_key(map, &["upstream", "overlay", "output", "operations"])
        {
            return Err(invalid(
                &format!("/{key}"),
                &format!(
                    "unknown key `{key}`; a recipe has upstream, overlay, output and operations"
                ),
            ));
        }
        let folder = path.parent().unwrap_or(Path::new("."));
        let text = |key: &str| -> Result<String, SpecError> {
            match root.get(key) {
                Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
                _ => Err(invalid(
                    &format!("/{key}"),
                    &format!("a recipe needs `{key}`, a file name"),
                )),
            }
        };
        let upstream = text("upstream")?;
        let output = folder.join(text("output")?);
        let overlay = match root.get("overlay") {
            None => None,
            Some(_) => Some(folder.join(text("overlay")?)),
        };
        let operations: Vec<String> = match root.get("operations") {
            Some(Value::Array(ids)) if !ids.is_empty() && ids.iter().all(Value::is_string) => ids
                .iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect(),
            _ => {
                return Err(invalid(
                    "/operations",
                    "a recipe needs `operations`, a list of operationIds",
                ));
            }
        };
        Ok(Self {
            path: path.to_path_buf(),
            upstream,
            overlay,
            output,
            operations,
            document,
        })
    }

    /// The vendor's file, in `upstream_dir`.
    pub fn upstream_path(&self, upstream_dir: &Path) -> PathBuf {
        upstream_dir.join(&self.upstream)
    }

    /// The overlay, loaded.
    pub fn load_overlay(&self) -> Result<Option<Overlay>, SpecError> {
        self.overlay.as_deref().map(Overlay::load).transpose()
    }

    /// The spec the recipe makes: the vendor's file with the overlay
    /// applied, cut down to the operations.
    pub fn build(&self, upstream_dir: &Path) -> Result<Value, SpecError> {
        let mut upstream = SourceDocument::read(&self.upstream_path(upstream_dir))?.value;
        if let Some(overlay) = self.load_overlay()? {
            overlay.apply(&mut upstream)?;
        }
        extract(&upstream, &self.operations).map_err(|e| SpecError::Invalid {
            at: self.document.locate("/operations"),
            message: e.to_string(),
        })
    }

    /// The text written for `spec`: pretty JSON, keys in the vendor's order.
    pub fn render(spec: &Value) -> String {
        let mut text = serde_json::to_string_pretty(spec).unwrap_or_default();
        text.push('\n');
        text
    }
}
