//! Checks a fixture against the spec it belongs to, once at start-up:
//! every operation it names exists, every status a rule answers is
//! documented (or the rule says `undocumented: true`), and every target
//! knows which path parameter holds its key.

use super::fixture::{Fixture, FixtureError};
use super::model::Action;
use super::template::Expr;
use crate::source::SourceLocation;
use crate::spec::{Api, ParameterLocation};

impl Fixture {
    /// Fills in defaults that need the spec and refuses what the spec contradicts.
    pub fn bind(&mut self, api: &Api) -> Result<(), FixtureError> {
        let source = self.source.clone();
        let path = self.path.clone().unwrap_or_default();
        let invalid = |pointer: &str, message: String| FixtureError::Invalid {
            at: match &source {
                Some(document) => document.locate(pointer),
                None => SourceLocation::file(&path),
            },
            message,
        };
        if let Some(access) = &self.model.access {
            for (scheme, _) in &access.schemes {
                if !api.security_schemes.contains_key(scheme) {
                    let mut known: Vec<&String> = api.security_schemes.keys().collect();
                    known.sort();
                    return Err(invalid(
                        &format!(
                            "{}/schemes/{}",
                            access.pointer,
                            crate::source::reader::escape(scheme)
                        ),
                        format!(
                            "the spec has no security scheme `{scheme}`; it has: {}",
                            if known.is_empty() {
                                "none".to_string()
                            } else {
                                known
                                    .iter()
                                    .map(|k| k.as_str())
                                    .collect::<Vec<_>>()
                                    .join(", ")
                            }
                        ),
                    ));
                }
            }
        }
        let mut ids: Vec<&String> = self.model.operations.keys().collect();
        ids.sort();
        for id in ids {
            let behaviour = &self.model.operations[id];
            let Some(operation) = api.operation(id) else {
                return Err(invalid(
                    &behaviour.pointer,
                    format!("the spec has no operation `{id}`"),
                ));
            };
            for rule in &behaviour.rules {
                if let Some(status) = rule.status
                    && !rule.undocumented
                    && operation.response_for(status).is_none()
                {
                    return Err(invalid(
                        &format!("{}/status", rule.pointer),
                        format!(
                            "`{id}` does not document status {status}; document it in the spec, or mark the rule `undocumented: true` if the real service answers it anyway"
                        ),
                    ));
                }
                let uses_target = rule.action.needs_item() && rule.id.is_none();
                if uses_target && behaviour.target.is_none() {
                    return Err(invalid(
                        &rule.pointer,
                        format!(
                            "`action: {}` needs an item: give the rule an `id` or the operation a `target`",
                            action_name(rule.action)
                        ),
                    ));
                }
            }
        }
        for behaviour in self.model.operations.values_mut() {
            let Some(target) = &mut behaviour.target else {
                continue;
            };
            if target.id.is_some() {
                continue;
            }
            let Some(operation) = api.operation(&behaviour.operation_id) else {
                continue;
            };
            let path_params: Vec<&str> = operation
                .parameters
                .iter()
                .filter(|p| p.location == ParameterLocation::Path)
                .map(|p| p.name.as_str())
                .collect();
            match path_params.as_slice() {
                [only] => {
                    let key = format!("path[{}]", quote(only));
                    target.id = Some(Expr::compile(&key).map_err(|e| {
                        invalid(&format!("{}/target", behaviour.pointer), e.to_string())
                    })?);
                }
                _ => {
                    return Err(invalid(
                        &format!("{}/target", behaviour.pointer),
                        format!(
                            "`{}` has {} path parameters ({}); say which holds the key with `target: {{collection: …, id: \"path.name\"}}`",
                            behaviour.operation_id,
                            path_params.len(),
                            path_params.join(", ")
                        ),
                    ));
                }
            }
        }
        for collection in &mut self.model.collections {
            for fit in &mut collection.fit {
                fit.status = shown_status(api, &fit.operation)
                    .map_err(|why| invalid(&format!("{}/operation", fit.pointer), why))?;
            }
        }
        Ok(())
    }
}

/// The status whose JSON schema shows an item for a collection's `fit`:
/// `operation`'s lowest documented 2xx, which must have one.
fn shown_status(api: &Api, operation: &str) -> Result<u16, String> {
    let Some(found) = api.operation(operation) else {
        return Err(format!("the spec has no operation `{operation}`"));
    };
    let response = crate::contract::success_response(found)
        .ok_or_else(|| format!("`{operation}` documents no 2xx answer to fit items to"))?;
    let crate::spec::StatusKey::Code(code) = response.status else {
        return Err(format!(
            "`{operation}` documents no 2xx answer to fit items to"
        ));
    };
    if crate::contract::media::json_with_schema(&response.media).is_none() {
        return Err(format!(
            "`{operation}`'s {code} answer has no JSON schema to fit items to"
        ));
    }
    Ok(code)
}

fn action_name(action: Action) -> &'static str {
    Action::ALL
        .iter()
        .find(|(_, a)| *a == action)
        .map(|(n, _)| *n)
        .unwrap_or("respond")
}

/// A string literal for a template expression.
fn quote(text: &str) -> String {
    serde_json::Value::String(text.to_string()).to_string()
}
