//! OpenAPI Overlay 1.0: corrections to a spec kept in a file of their own,
//! so a vendor's spec is used as published and every change is written
//! down with its reason.
//!
//! ```yaml
//! overlay: 1.0.0
//! info: {title: Waldur as it runs, version: 1.0.0}
//! actions:
//!   - target: $.components.schemas.Project.properties.uuid
//!     description: The server writes UUIDs as 32 hex digits, without hyphens.
//!     update: {pattern: "^[0-9a-f]{32}$"}
//!   - target: $.paths['/api/projects/{uuid}/recover/']
//!     description: This version of the server has no such route.
//!     remove: true
//! ```
//!
//! Actions apply in order to the nodes their JSONPath `target` selects:
//! `update` merges a mapping into mappings (recursively; other values are
//! replaced) and appends to lists; `remove` deletes the nodes. A target
//! that selects nothing is an error, because an overlay that silently
//! stops applying (after the vendor renamed a schema, say) is a
//! correction lost.

use super::SpecError;
use super::jsonpath::JsonPath;
use crate::source::SourceDocument;
use crate::source::reader::{Reader, child};
use serde_json::{Map, Value};
use std::path::Path;
use std::sync::Arc;

/// A loaded overlay.
#[derive(Debug)]
pub struct Overlay {
    document: Arc<SourceDocument>,
    actions: Vec<Action>,
}

#[derive(Debug)]
struct Action {
    target_text: String,
    target: JsonPath,
    update: Option<Value>,
    remove: bool,
    /// Why: overlays that change a vendor's spec should say.
    description: Option<String>,
    pointer: String,
}

/// The overlay files an `overlays:` list (in a fixture or a scenario file)
/// names, relative to `base`, the folder of that file. On a mistake: the
/// pointer under the list's own, and what is wrong.
pub fn listed(
    value: &Value,
    base: &Path,
) -> Result<Vec<std::path::PathBuf>, (String, &'static str)> {
    let Value::Array(items) = value else {
        return Err((
            String::new(),
            "`overlays` must be a list of paths to OpenAPI Overlay files",
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| match item {
            Value::String(path) => Ok(base.join(path)),
            _ => Err((
                format!("/{i}"),
                "an overlay is a path to an OpenAPI Overlay file",
            )),
        })
        .collect()
}

impl Overlay {
    pub fn load(path: &Path) -> Result<Self, SpecError> {
        Self::read(Arc::new(SourceDocument::read(path)?))
    }

    pub fn from_text(path: &Path, text: &str) -> Result<Self, SpecError> {
        Self::read(Arc::new(SourceDocument::parse(path, Arc::from(text))?))
    }

    fn read(document: Arc<SourceDocument>) -> Result<Self, SpecError> {
        let reader = Reader::<SpecError>::new(&document);
        let invalid = |pointer: &str, message: &str| reader.invalid(pointer, message);
        let root = &document.value;
        match root.get("overlay").and_then(Value::as_str) {
            Some(version) if version.starts_with("1.") => {}
            Some(_) => {
                return Err(invalid(
                    "/overlay",
                    "unsupported overlay version: understudy reads Overlay 1.x",
                ));
            }
            None => {
                return Err(invalid(
                    "",
                    "not an OpenAPI Overlay: `overlay: 1.0.0` is missing",
                ));
            }
        }
        let Some(Value::Array(items)) = root.get("actions") else {
            return Err(invalid("", "an overlay needs `actions`, a list"));
        };
        let mut actions = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let pointer = format!("/actions/{i}");
            let Value::Object(map) = item else {
                return Err(invalid(&pointer, "an action is a mapping"));
            };
            if let Some(key) =
                crate::source::unknown_key(map, &["target", "description", "update", "remove"])
                && !key.starts_with("x-")
            {
                return Err(invalid(
                    &child(&pointer, key),
                    &format!(
                        "unknown key `{key}`; an action has target, description, update and remove"
                    ),
                ));
            }
            let Some(Value::String(target_text)) = map.get("target") else {
                return Err(invalid(&pointer, "an action needs `target`, a JSONPath"));
            };
            let target = JsonPath::parse(target_text).map_err(|e| {
                invalid(
                    &format!("{pointer}/target"),
                    &format!("`{target_text}` is not a JSONPath: {e}"),
                )
            })?;
            let remove = match map.get("remove") {
                None => false,
                Some(Value::Bool(b)) => *b,
                Some(_) => {
                    return Err(invalid(
                        &format!("{pointer}/remove"),
                        "`remove` is true or false",
                    ));
                }
            };
            let update = map.get("update").cloned();
            if !remove && update.is_none() {
                return Err(invalid(
                    &pointer,
                    "an action needs `update` (a value to merge) or `remove: true`",
                ));
            }
            let description = reader.text(
                map.get("description"),
                &format!("{pointer}/description"),
                "`description` is text",
            )?;
            actions.push(Action {
                target_text: target_text.clone(),
                target,
                update,
                remove,
                description,
                pointer,
            });
        }
        Ok(Self { document, actions })
    }

    /// The file the overlay was read from.
    pub fn path(&self) -> &Path {
        &self.document.path
    }

    /// Actions that do not say why they change the spec, by line.
    pub fn undescribed(&self) -> Vec<crate::source::SourceLocation> {
        self.actions
            .iter()
            .filter(|a| a.description.as_deref().is_none_or(|d| d.trim().is_empty()))
            .map(|a| self.document.locate(&a.pointer))
            .collect()
    }

    /// Applies every action to `document`, in order.
    pub fn apply(&self, document: &mut Value) -> Result<(), SpecError> {
        for action in &self.actions {
            let targets = action.target.select(document);
            if targets.is_empty() {
                return Err(SpecError::Invalid {
                    at: self.document.locate(&format!("{}/target", action.pointer)),
                    message: format!(
                        "the target `{}` selects nothing in the spec",
                        action.target_text
                    ),
                });
            }
            if action.remove {
                // Deepest and last first, so earlier pointers stay valid.
                let mut targets = targets;
                targets.sort_by(|a, b| b.cmp(a));
                for pointer in targets {
                    remove(document, &pointer);
                }
            } else if let Some(update) = &action.update {
                for pointer in &targets {
                    if let Some(node) = document.pointer_mut(pointer) {
                        merge(node, update);
                    }
                }
            }
        }
        Ok(())
    }
}

/// Overlay 1.0's update: mappings merge key by key, lists get the update
/// appended, anything else is replaced.
fn merge(target: &mut Value, update: &Value) {
    match (target, update) {
        (Value::Object(target), Value::Object(update)) => merge_maps(target, update),
        (Value::Array(items), Value::Array(more)) => items.extend(more.iter().cloned()),
        (Value::Array(items), one) => items.push(one.clone()),
        (target, update) => *target = update.clone(),
    }
}

fn merge_maps(target: &mut Map<String, Value>, update: &Map<String, Value>) {
    for (k, v) in update {
        match target.get_mut(k) {
            Some(existing @ Value::Object(_)) if v.is_object() => merge(existing, v),
            _ => {
                target.insert(k.clone(), v.clone());
            }
        }
    }
}

fn remove(document: &mut Value, pointer: &str) {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return;
    };
    let key = last.replace("~1", "/").replace("~0", "~");
    match document.pointer_mut(parent) {
        Some(Value::Object(map)) => {
            map.shift_remove(&key);
        }
        Some(Value::Array(items)) => {
            if let Ok(i) = key.parse::<usize>()
                && i < items.len()
            {
                items.remove(i);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn overlay(text: &str) -> Result<Overlay, SpecError> {
        Overlay::from_text(Path::new("fix.overlay.yaml"), text)
    }

    #[test]
    fn updates_merge_and_removes_delete() {
        let mut spec = json!({
            "paths": {"/a": {"get": {"parameters": [{"name": "x"}, {"name": "y"}]}}},
            "components": {"schemas": {"Id": {"type": "string", "format": "uuid"}}}
        });
        overlay(
            "overlay: 1.0.0\nactions:\n\
             - target: $.components.schemas.Id\n  description: hex ids\n  update: {pattern: '^[0-9a-f]{32}$'}\n\
             - target: $.paths['/a'].get.parameters[?@.name == 'x']\n  description: gone\n  remove: true\n\
             - target: $.paths['/a'].get.parameters\n  description: one more\n  update: {name: z}\n",
        )
        .expect("overlay")
        .apply(&mut spec)
        .expect("applies");
        assert_eq!(
            spec["components"]["schemas"]["Id"],
            json!({"type": "string", "format": "uuid", "pattern": "^[0-9a-f]{32}$"})
        );
        assert_eq!(
            spec["paths"]["/a"]["get"]["parameters"],
            json!([{"name": "y"}, {"name": "z"}])
        );
    }

    #[test]
    fn a_target_that_selects_nothing_is_an_error_with_its_line() {
        let broken = overlay("overlay: 1.0.0\nactions:\n  - target: $.nope\n    update: {}\n")
            .expect("loads");
        let error = broken.apply(&mut json!({})).unwrap_err().to_string();
        assert!(error.contains("fix.overlay.yaml:3"), "{error}");
        assert!(error.contains("selects nothing"), "{error}");
        assert_eq!(broken.undescribed().len(), 1);
    }

    #[test]
    fn malformed_overlays_are_refused() {
        for (text, wanted) in [
            ("actions: []\n", "`overlay: 1.0.0` is missing"),
            (
                "overlay: 2.0.0\nactions: []\n",
                "unsupported overlay version",
            ),
            (
                "overlay: 1.0.0\nactions:\n  - target: paths\n    remove: true\n",
                "not a JSONPath",
            ),
            (
                "overlay: 1.0.0\nactions:\n  - target: $.a\n",
                "needs `update`",
            ),
            (
                "overlay: 1.0.0\nactions:\n  - target: $.a\n    remove: true\n    updte: {}\n",
                "unknown key `updte`",
            ),
        ] {
            let error = overlay(text).unwrap_err().to_string();
            assert!(error.contains(wanted), "{text}: {error}");
        }
    }
}
