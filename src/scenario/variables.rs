//! `${…}` in scenario values: earlier captures, `vars`, `--var`, and
//! `${env.NAME}` (or `${env.NAME:-fallback}`) for secrets that must never
//! be written down. Values read from the environment are remembered so
//! that reports can blank them out.
//!
//! A string that is exactly one `${name}` takes the variable's JSON value
//! (a captured number stays a number); anywhere else the value is spliced
//! in as text. `$${` writes a literal `${`.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// One reference in a text, as written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reference {
    Var(String),
    Env {
        name: String,
        fallback: Option<String>,
    },
}

impl Reference {
    /// The variable a `Var` reference needs defined (`a.b` needs `a`).
    pub fn root(&self) -> Option<&str> {
        match self {
            Reference::Var(name) => Some(name.split('.').next().unwrap_or(name)),
            Reference::Env { .. } => None,
        }
    }
}

/// A `${…}` that is written wrong, or that has no value when filled in.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VarError {
    #[error("`${{` without a closing `}}` in {0:?}")]
    Unclosed(String),
    #[error("`${{env.{0}}}`: not an environment variable name")]
    BadEnvName(String),
    #[error("`${{{0}}}`: a variable is a name like `projectId` (or `project.uuid`)")]
    BadName(String),
    #[error("`${{{0}}}` is not defined at this step")]
    Undefined(String),
    #[error(
        "the environment variable {0} is not set (write `${{env.{0}:-fallback}}` for a default)"
    )]
    EnvUnset(String),
    #[error(
        "filling in `${{…}}` makes a text of more than {0} bytes (--max-filled-length); \
         do variables double each other?"
    )]
    TooLong(usize),
}

impl VarError {
    /// Whether the scenario or its environment is at fault (exit 2), not
    /// the server: a name undefined at run time is a capture the server's
    /// answer did not give, which is a check that failed (exit 1).
    pub fn is_unusable_input(&self) -> bool {
        !matches!(self, VarError::Undefined(_))
    }
}

/// The default of `--max-filled-length`.
pub const DEFAULT_MAX_FILLED_LENGTH: usize = 16 * 1024 * 1024;

static MAX_FILLED_LENGTH: std::sync::atomic::AtomicUsize =
    std::sync::atomic::AtomicUsize::new(DEFAULT_MAX_FILLED_LENGTH);

/// Sets the longest text filling in references may make (the CLI's
/// `--max-filled-length`, set once at start): `vars` that each repeat the
/// one before twice grow to 2^39 bytes in 40 lines.
pub fn set_max_filled_length(bytes: usize) {
    MAX_FILLED_LENGTH.store(bytes, std::sync::atomic::Ordering::Relaxed);
}

/// Splits `text` into literal parts and references; `Err` names the problem.
pub fn parse(text: &str) -> Result<Vec<Piece>, VarError> {
    let mut pieces = Vec::new();
    let mut literal = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('$') {
        literal.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(escaped) = after.strip_prefix("${") {
            literal.push_str("${");
            rest = escaped;
            continue;
        }
        let Some(inner) = after.strip_prefix('{') else {
            literal.push('$');
            rest = after;
            continue;
        };
        let Some(end) = inner.find('}') else {
            return Err(VarError::Unclosed(text.to_string()));
        };
        let body = inner[..end].trim();
        let reference = if let Some(env) = body.strip_prefix("env.") {
            let (name, fallback) = match env.split_once(":-") {
                Some((n, f)) => (n, Some(f.to_string())),
                None => (env, None),
            };
            if !is_name(name) {
                return Err(VarError::BadEnvName(name.to_string()));
            }
            Reference::Env {
                name: name.to_string(),
                fallback,
            }
        } else {
            let mut segments = body.split('.');
            let first_ok = segments.next().is_some_and(is_name);
            let rest_ok = segments
                .all(|s| is_name(s) || (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())));
            if !(first_ok && rest_ok) {
                return Err(VarError::BadName(body.to_string()));
            }
            Reference::Var(body.to_string())
        };
        if !literal.is_empty() {
            pieces.push(Piece::Text(std::mem::take(&mut literal)));
        }
        pieces.push(Piece::Ref(reference));
        rest = &inner[end + 1..];
    }
    literal.push_str(rest);
    if !literal.is_empty() {
        pieces.push(Piece::Text(literal));
    }
    Ok(pieces)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    Text(String),
    Ref(Reference),
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// Every reference in the strings of `value` (keys included), for checks
/// at load time.
pub fn references(value: &Value, out: &mut Vec<Reference>) -> Result<(), VarError> {
    match value {
        Value::String(s) => {
            for piece in parse(s)? {
                if let Piece::Ref(r) = piece {
                    out.push(r);
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                references(item, out)?;
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                references(&Value::String(k.clone()), out)?;
                references(v, out)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// The variables of one scenario run.
#[derive(Debug, Clone)]
pub struct Variables {
    values: HashMap<String, Value>,
    env: Arc<HashMap<String, String>>,
    secrets: Vec<String>,
    /// Longest text (and largest value) filling in may make.
    limit: usize,
}

impl Variables {
    /// `env` is the process environment, read once per run.
    pub fn new(env: Arc<HashMap<String, String>>) -> Self {
        Self {
            values: HashMap::new(),
            env,
            secrets: Vec::new(),
            limit: MAX_FILLED_LENGTH.load(std::sync::atomic::Ordering::Relaxed),
        }
    }

    pub fn set(&mut self, name: &str, value: Value) {
        self.values.insert(name.to_string(), value);
    }

    pub fn get(&self, name: &str) -> Option<&Value> {
        if let Some(v) = self.values.get(name) {
            return Some(v);
        }
        let mut segments = name.split('.');
        let mut node = self.values.get(segments.next()?)?;
        for segment in segments {
            node = match node {
                Value::Object(map) => map.get(segment)?,
                Value::Array(items) => items.get(segment.parse::<usize>().ok()?)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// Values read from the environment in this run: never to be printed.
    pub fn secrets(&self) -> &[String] {
        &self.secrets
    }

    /// `value` with every `${…}` in its strings (and keys) filled in.
    pub fn fill(&mut self, value: &Value) -> Result<Value, VarError> {
        let limit = self.limit;
        Ok(self.fill_weighed(value, limit)?.0)
    }

    /// [`Variables::fill`], with the filled value's size in bytes (its
    /// texts, and one per value): a list of references to a list doubles
    /// as surely as a text does.
    fn fill_weighed(&mut self, value: &Value, limit: usize) -> Result<(Value, usize), VarError> {
        let (filled, weight) = match value {
            Value::String(s) => {
                let filled = self.fill_text(s)?;
                let weight = weight(&filled, limit);
                (filled, weight)
            }
            Value::Array(items) => {
                let mut out = Vec::with_capacity(items.len());
                let mut total = 1usize;
                for item in items {
                    let (filled, weight) = self.fill_weighed(item, limit)?;
                    total = total.saturating_add(weight);
                    if total > limit {
                        return Err(VarError::TooLong(limit));
                    }
                    out.push(filled);
                }
                (Value::Array(out), total)
            }
            Value::Object(map) => {
                let mut out = serde_json::Map::new();
                let mut total = 1usize;
                for (k, v) in map {
                    let key = match self.fill_text(k)? {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    let (filled, weight) = self.fill_weighed(v, limit)?;
                    total = total.saturating_add(weight).saturating_add(key.len());
                    if total > limit {
                        return Err(VarError::TooLong(limit));
                    }
                    out.insert(key, filled);
                }
                (Value::Object(out), total)
            }
            other => (other.clone(), 1),
        };
        if weight > limit {
            return Err(VarError::TooLong(limit));
        }
        Ok((filled, weight))
    }

    /// A string with its references filled in, as text.
    pub fn fill_string(&mut self, text: &str) -> Result<String, VarError> {
        Ok(match self.fill_text(text)? {
            Value::String(s) => s,
            other => other.to_string(),
        })
    }

    fn fill_text(&mut self, text: &str) -> Result<Value, VarError> {
        if !text.contains('$') {
            return Ok(Value::String(text.to_string()));
        }
        let pieces = parse(text)?;
        if let [Piece::Ref(reference)] = pieces.as_slice() {
            return self.resolve(reference);
        }
        let limit = self.limit;
        let mut out = String::new();
        for piece in &pieces {
            let resolved;
            let text = match piece {
                Piece::Text(t) => t.as_str(),
                Piece::Ref(r) => {
                    resolved = match self.resolve(r)? {
                        Value::String(s) => s,
                        other => other.to_string(),
                    };
                    resolved.as_str()
                }
            };
            if out.len().saturating_add(text.len()) > limit {
                return Err(VarError::TooLong(limit));
            }
            out.push_str(text);
        }
        Ok(Value::String(out))
    }

    fn resolve(&mut self, reference: &Reference) -> Result<Value, VarError> {
        match reference {
            Reference::Var(name) => self
                .get(name)
                .cloned()
                .ok_or_else(|| VarError::Undefined(name.clone())),
            Reference::Env { name, fallback } => match self.env.get(name) {
                Some(value) => {
                    if !value.is_empty() && !self.secrets.contains(value) {
                        self.secrets.push(value.clone());
                    }
                    Ok(Value::String(value.clone()))
                }
                None => fallback
                    .clone()
                    .map(Value::String)
                    .ok_or_else(|| VarError::EnvUnset(name.clone())),
            },
        }
    }
}

/// The size of `value` in bytes (its texts, and one per value), counted
/// only up to just past `limit`.
fn weight(value: &Value, limit: usize) -> usize {
    match value {
        Value::String(s) => s.len().saturating_add(1),
        Value::Array(items) => {
            let mut total = 1usize;
            for item in items {
                total = total.saturating_add(weight(item, limit));
                if total > limit {
                    break;
                }
            }
            total
        }
        Value::Object(map) => {
            let mut total = 1usize;
            for (key, item) in map {
                total = total
                    .saturating_add(key.len())
                    .saturating_add(weight(item, limit));
                if total > limit {
                    break;
                }
            }
            total
        }
        _ => 1,
    }
}

/// `text` with every secret replaced by `***`.
pub fn redact(text: &str, secrets: &[String]) -> String {
    let mut out = text.to_string();
    for secret in secrets {
        if !secret.is_empty() {
            out = out.replace(secret.as_str(), "***");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars(env: &[(&str, &str)]) -> Variables {
        Variables::new(Arc::new(
            env.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        ))
    }

    #[test]
    fn a_lone_reference_keeps_its_type_and_text_splices() {
        let mut v = vars(&[]);
        v.set("n", json!(3));
        v.set("p", json!({"uuid": "u-1", "tags": ["a", "b"]}));
        assert_eq!(v.fill(&json!("${n}")).expect("fills"), json!(3));
        assert_eq!(v.fill(&json!("n=${n}")).expect("fills"), json!("n=3"));
        assert_eq!(
            v.fill(&json!({"/x/${p.uuid}": "${p.tags.1}"}))
                .expect("fills"),
            json!({"/x/u-1": "b"})
        );
        assert_eq!(
            v.fill(&json!("cost $5, $${literal}")).expect("fills"),
            json!("cost $5, ${literal}")
        );
        let err = v.fill(&json!("${missing}")).expect_err("undefined");
        assert_eq!(err.to_string(), "`${missing}` is not defined at this step");
    }

    #[test]
    fn environment_values_are_secrets() {
        let mut v = vars(&[("TOKEN", "s3cr3t")]);
        assert_eq!(
            v.fill_string("Token ${env.TOKEN}").expect("fills"),
            "Token s3cr3t"
        );
        assert_eq!(v.fill_string("${env.OTHER:-dev}").expect("fills"), "dev");
        assert_eq!(v.secrets(), ["s3cr3t".to_string()]);
        assert_eq!(redact("Token s3cr3t", v.secrets()), "Token ***");
        let err = v.fill_string("${env.ABSENT}").expect_err("unset");
        assert_eq!(err, VarError::EnvUnset("ABSENT".into()));
        assert!(err.to_string().contains("ABSENT is not set"), "{err}");
    }

    #[test]
    fn texts_and_lists_that_double_stop_at_the_limit() {
        let mut v = vars(&[]);
        v.limit = 1 << 16;
        v.set("t0", json!("xx"));
        v.set("l0", json!(["xx"]));
        let mut failed = (None, None);
        for i in 1..40 {
            let text = v.fill(&json!(format!("${{t{}}}${{t{}}}", i - 1, i - 1)));
            match text {
                Ok(value) => v.set(&format!("t{i}"), value),
                Err(e) => {
                    failed.0.get_or_insert((i, e));
                }
            }
            let list = v.fill(&json!([
                format!("${{l{}}}", i - 1),
                format!("${{l{}}}", i - 1)
            ]));
            match list {
                Ok(value) => v.set(&format!("l{i}"), value),
                Err(e) => {
                    failed.1.get_or_insert((i, e));
                }
            }
        }
        // 2 bytes doubled 15 times is 64 KiB: the 15th text is refused.
        assert_eq!(failed.0, Some((15, VarError::TooLong(1 << 16))));
        let (at, error) = failed.1.expect("the list is refused");
        assert!(at < 20, "refused only at {at}");
        assert_eq!(error, VarError::TooLong(1 << 16));
    }

    #[test]
    fn malformed_references_are_named() {
        assert!(parse("${").is_err());
        assert!(parse("${a b}").is_err());
        assert!(parse("${env.}").is_err());
        let mut refs = Vec::new();
        references(&json!({"a": ["${x.y}", "${env.T}"]}), &mut refs).expect("parses");
        assert_eq!(refs[0].root(), Some("x"));
        assert_eq!(refs[1].root(), None);
    }
}
