//! `$ref` resolution at load time.
//!
//! References to other files are bundled into the root document under
//! [`BUNDLE_KEY`] and rewritten to local pointers, so that everything later
//! (schema compilation, dereferencing) only ever sees `#/...` references and
//! cycles between files need no special care. Every reference is checked
//! once here, so a dangling one is a load error with its line, never a
//! surprise at request time. Remote (`http:`) references are refused.

use super::SpecError;
use crate::source::SourceDocument;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Where documents reached through file references live in the bundled root.
pub const BUNDLE_KEY: &str = "x-understudy-bundle";

/// The root document with every file it references, merged into one value.
#[derive(Debug)]
pub struct Bundle {
    pub root: Value,
    /// The source files in bundle order; index 0 is the root file.
    pub documents: Vec<SourceDocumentInfo>,
}

/// A file kept for locating errors after its value moved into the bundle.
#[derive(Debug)]
pub struct SourceDocumentInfo {
    pub document: SourceDocument,
}

impl Bundle {
    /// `text` with bundle pointers (`#/x-understudy-bundle/2/a`) written
    /// back as the file they stand for (`schemas/error.yaml#/a`), as the
    /// author wrote them.
    pub fn as_written(&self, text: &str) -> String {
        let marker = format!("#/{BUNDLE_KEY}/");
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find(&marker) {
            out.push_str(&rest[..at]);
            let after = &rest[at + marker.len()..];
            let digits = after.bytes().take_while(u8::is_ascii_digit).count();
            let file = after[..digits]
                .parse::<usize>()
                .ok()
                .and_then(|i| self.documents.get(i))
                .map(|info| {
                    let base = self.documents[0]
                        .document
                        .path
                        .parent()
                        .unwrap_or(Path::new(""));
                    let path = &info.document.path;
                    path.strip_prefix(base)
                        .unwrap_or(path)
                        .display()
                        .to_string()
                });
            match file {
                Some(file) => {
                    out.push_str(&file);
                    out.push('#');
                    rest = &after[digits..];
                }
                None => {
                    out.push_str(&marker);
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        out
    }

    /// The source location of a pointer into the bundled root.
    pub fn locate(&self, pointer: &str) -> crate::source::SourceLocation {
        let prefix = format!("/{BUNDLE_KEY}/");
        if let Some(rest) = pointer.strip_prefix(&prefix) {
            let (index, inner) = rest.split_once('/').map_or((rest, ""), |(i, r)| (i, r));
            if let Some(info) = index
                .parse::<usize>()
                .ok()
                .and_then(|i| self.documents.get(i))
            {
                let inner = if inner.is_empty() {
                    String::new()
                } else {
                    format!("/{inner}")
                };
                return info.document.locate(&inner);
            }
        }
        self.documents[0].document.locate(pointer)
    }
}

/// Loads `path`, follows its file references transitively and checks every
/// reference resolves.
pub fn bundle(root: SourceDocument) -> Result<Bundle, SpecError> {
    let mut loader = Loader {
        documents: vec![],
        index_by_path: HashMap::new(),
    };
    let root_path = canonical(&root.path);
    loader.index_by_path.insert(root_path, 0);
    loader.documents.push(root);
    let mut values = Vec::new();
    let mut next = 0;
    while next < loader.documents.len() {
        let mut value = std::mem::take(&mut loader.documents[next].value);
        let base = loader.documents[next].path.clone();
        let mut pointer = String::new();
        loader.rewrite(&mut value, next, &base, &mut pointer)?;
        values.push(value);
        next += 1;
    }
    let mut values = values.into_iter();
    let mut root = values.next().unwrap_or(Value::Null);
    let extra: Map<String, Value> = values
        .enumerate()
        .map(|(i, v)| ((i + 1).to_string(), v))
        .collect();
    if !extra.is_empty()
        && let Value::Object(map) = &mut root
    {
        map.insert(BUNDLE_KEY.to_string(), Value::Object(extra));
    }
    let bundle = Bundle {
        root,
        documents: loader
            .documents
            .into_iter()
            .map(|document| SourceDocumentInfo { document })
            .collect(),
    };
    check_references(&bundle)?;
    Ok(bundle)
}

struct Loader {
    documents: Vec<SourceDocument>,
    index_by_path: HashMap<PathBuf, usize>,
}

impl Loader {
    /// Rewrites references in document `doc` (its value is `value`) to point into the bundle.
    fn rewrite(
        &mut self,
        value: &mut Value,
        doc: usize,
        base: &Path,
        pointer: &mut String,
    ) -> Result<(), SpecError> {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(reference)) = map.get_mut("$ref") {
                    let rewritten = self.rewrite_reference(reference, doc, base, pointer)?;
                    *reference = rewritten;
                }
                for (key, child) in map.iter_mut() {
                    if key == "$ref" || is_literal_payload(key, child) {
                        continue;
                    }
                    let len = pointer.len();
                    push_segment(pointer, key);
                    self.rewrite(child, doc, base, pointer)?;
                    pointer.truncate(len);
                }
            }
            Value::Array(items) => {
                for (i, child) in items.iter_mut().enumerate() {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&i.to_string());
                    self.rewrite(child, doc, base, pointer)?;
                    pointer.truncate(len);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn rewrite_reference(
        &mut self,
        reference: &str,
        doc: usize,
        base: &Path,
        pointer: &str,
    ) -> Result<String, SpecError> {
        let (file, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let target_doc = if file.is_empty() {
            doc
        } else {
            if file.contains("://") {
                return Err(SpecError::DanglingRef {
                    at: self.documents[doc].locate(&format!("{pointer}/$ref")),
                    reference: reference.to_string(),
                    reason: "remote references are not fetched; download the file and refer to it by a relative path".into(),
                });
            }
            let path = base.parent().unwrap_or(Path::new(".")).join(file);
            let key = canonical(&path);
            match self.index_by_path.get(&key) {
                Some(i) => *i,
                None => {
                    // Only regular files: a `$ref` to a device or a pipe
                    // (`/dev/zero`, `/dev/stdin`) would never finish reading.
                    if std::fs::metadata(&path).is_ok_and(|m| !m.is_file()) {
                        return Err(SpecError::DanglingRef {
                            at: self.documents[doc].locate(&format!("{pointer}/$ref")),
                            reference: reference.to_string(),
                            reason: format!("{} is not a regular file", path.display()),
                        });
                    }
                    let document =
                        SourceDocument::read(&path).map_err(|e| SpecError::DanglingRef {
                            at: self.documents[doc].locate(&format!("{pointer}/$ref")),
                            reference: reference.to_string(),
                            reason: e.to_string(),
                        })?;
                    let index = self.documents.len();
                    self.documents.push(document);
                    self.index_by_path.insert(key, index);
                    index
                }
            }
        };
        if target_doc == 0 {
            Ok(format!("#{fragment}"))
        } else {
            Ok(format!("#/{BUNDLE_KEY}/{target_doc}{fragment}"))
        }
    }
}

/// Example payloads are data, not spec: a `$ref` key inside one is literal.
fn is_literal_payload(key: &str, child: &Value) -> bool {
    key == "example" || (key == "examples" && child.is_array())
}

fn push_segment(pointer: &mut String, key: &str) {
    pointer.push('/');
    if key.contains(['~', '/']) {
        pointer.push_str(&crate::source::reader::escape(key));
    } else {
        pointer.push_str(key);
    }
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// Checks that every `#/...` reference in the bundle resolves.
fn check_references(bundle: &Bundle) -> Result<(), SpecError> {
    let mut pointer = String::new();
    check_node(bundle, &bundle.root, &mut pointer)
}

fn check_node(bundle: &Bundle, value: &Value, pointer: &mut String) -> Result<(), SpecError> {
    match value {
        Value::Object(map) => {
            if let Some(reference) = map.get("$ref") {
                let Value::String(reference) = reference else {
                    return Err(SpecError::Invalid {
                        at: bundle.locate(&format!("{pointer}/$ref")),
                        message: "`$ref` must be a string".into(),
                    });
                };
                if let Err(reason) = resolve_pointer(&bundle.root, reference) {
                    return Err(SpecError::DanglingRef {
                        at: bundle.locate(&format!("{pointer}/$ref")),
                        reference: bundle.as_written(reference),
                        reason: bundle.as_written(&reason.to_string()),
                    });
                }
                if let Some(cycle) = reference_cycle(&bundle.root, reference) {
                    let cycle: Vec<String> = cycle.iter().map(|r| bundle.as_written(r)).collect();
                    return Err(SpecError::Invalid {
                        at: bundle.locate(&format!("{pointer}/$ref")),
                        message: format!(
                            "`$ref` cycle: {}; references that lead only to each other \
                             describe nothing",
                            cycle.join(" → ")
                        ),
                    });
                }
            }
            for (key, child) in map {
                if key == "$ref" || is_literal_payload(key, child) {
                    continue;
                }
                let len = pointer.len();
                push_segment(pointer, key);
                check_node(bundle, child, pointer)?;
                pointer.truncate(len);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                let len = pointer.len();
                pointer.push('/');
                pointer.push_str(&i.to_string());
                check_node(bundle, child, pointer)?;
                pointer.truncate(len);
            }
        }
        _ => {}
    }
    Ok(())
}

/// The chain of references from `reference` back to one already on it,
/// when following `$ref`s alone never reaches a node without one (`A` is
/// `$ref: B` and `B` is `$ref: A`, in one file or across files). Such a
/// chain has no schema at its end: validators and generators would follow
/// it forever.
fn reference_cycle(root: &Value, reference: &str) -> Option<Vec<String>> {
    let mut chain = vec![reference.to_string()];
    let mut node = resolve_pointer(root, reference).ok()?;
    while let Some(Value::String(next)) = node.get("$ref") {
        if let Some(start) = chain.iter().position(|seen| seen == next) {
            let mut cycle = chain.split_off(start);
            cycle.push(next.clone());
            return Some(cycle);
        }
        chain.push(next.clone());
        node = resolve_pointer(root, next).ok()?;
    }
    None
}

/// Why a local reference does not lead to a node.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PointerError {
    #[error("only references into the document (`#/...`) or to relative files are supported")]
    NotLocal,
    #[error("`#{0}` is an anchor; only JSON pointers (`#/...`) are supported")]
    Anchor(String),
    #[error("there is no `{segment}` in {parent}")]
    NoMember { segment: String, parent: String },
    #[error("index `{0}` is out of range")]
    OutOfRange(String),
    #[error("`{0}` is below a value that is not an object or array")]
    BelowScalar(String),
}

/// Resolves a local reference (`#/a/b`) in `root`.
pub fn resolve_pointer<'a>(root: &'a Value, reference: &str) -> Result<&'a Value, PointerError> {
    let Some(fragment) = reference.strip_prefix('#') else {
        return Err(PointerError::NotLocal);
    };
    let fragment = percent_encoding::percent_decode_str(fragment).decode_utf8_lossy();
    if fragment.is_empty() {
        return Ok(root);
    }
    if !fragment.starts_with('/') {
        return Err(PointerError::Anchor(fragment.into_owned()));
    }
    let mut node = root;
    for raw in fragment[1..].split('/') {
        let segment = raw.replace("~1", "/").replace("~0", "~");
        node = match node {
            Value::Object(map) => match map.get(&segment) {
                Some(child) => child,
                None => {
                    let parent = parent_name(&fragment, raw);
                    return Err(PointerError::NoMember { segment, parent });
                }
            },
            Value::Array(items) => match segment.parse::<usize>().ok().and_then(|i| items.get(i)) {
                Some(item) => item,
                None => return Err(PointerError::OutOfRange(segment)),
            },
            _ => return Err(PointerError::BelowScalar(segment)),
        };
    }
    Ok(node)
}

fn parent_name(fragment: &str, segment: &str) -> String {
    let end = fragment.rfind(&format!("/{segment}")).unwrap_or(0);
    if end == 0 {
        "the document".to_string()
    } else {
        format!("`#{}`", &fragment[..end])
    }
}

/// Follows `$ref` chains until a node without `$ref`; `None` on a cycle or a dangling reference.
pub fn deref<'a>(root: &'a Value, mut node: &'a Value) -> Option<&'a Value> {
    for _ in 0..32 {
        match node.get("$ref").and_then(Value::as_str) {
            Some(reference) => node = resolve_pointer(root, reference).ok()?,
            None => return Some(node),
        }
    }
    None
}
