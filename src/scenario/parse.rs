//! A scenario document into a [`ScenarioFile`], with the line of every
//! mistake. Expectations are read here, once, into typed matchers; the
//! runner only fills in the `${…}` their values hold.

use super::matcher::{self, FillError, holds_reference, to_pointer};
use super::variables::{Reference, Variables, references};
use super::*;
use crate::source::SourceDocument;
use crate::source::parse_duration;
use crate::source::reader::escape;
use serde_json::{Map, Value};

/// Keys only a file has, besides those of a scenario (a file with
/// `steps` is one scenario).
const FILE_KEYS: [&str; 4] = ["api", "spec", "overlays", "scenarios"];
const SCENARIO_KEYS: [&str; 7] = [
    "name",
    "tags",
    "vars",
    "headers",
    "timeout",
    "steps",
    "mock_vars",
];
const STEP_KEYS: [&str; 8] = [
    "name", "request", "expect", "until", "capture", "retries", "timeout", "snapshot",
];
const SNAPSHOT_KEYS: [&str; 3] = ["name", "headers", "redact"];
const REQUEST_KEYS: [&str; 6] = ["method", "path", "query", "headers", "json", "body"];
const EXPECT_KEYS: [&str; 5] = ["status", "headers", "body", "body_contains", "json"];
const METHODS: [&str; 8] = [
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "TRACE",
];

/// Variables every scenario has without defining them.
pub const BUILTIN_VARS: [&str; 2] = ["run_id", "base_url"];

/// The scenario reader: the shared structured-file reader, with this
/// format's rules added as methods here.
type Reader<'a> = crate::source::reader::Reader<'a, ScenarioError>;

impl crate::source::reader::Invalid for ScenarioError {
    fn invalid(at: SourceLocation, message: String) -> Self {
        ScenarioError::Invalid { at, message }
    }
}

pub(super) fn file(document: &SourceDocument) -> Result<ScenarioFile, ScenarioError> {
    Reader::new(document).file()
}

impl Reader<'_> {
    fn file(&self) -> Result<ScenarioFile, ScenarioError> {
        let root = &self.document.value;
        let known = [FILE_KEYS.as_slice(), SCENARIO_KEYS.as_slice()].concat();
        let map = self.mapping(root, "", &known, "a scenario file")?;
        let api = match (map.get("api"), map.get("spec")) {
            (Some(_), Some(_)) => {
                return Err(self.invalid("/spec", "give `api` or `spec`, not both"));
            }
            (Some(Value::String(name)), None) => {
                if crate::behaviour::bundled::find(name).is_none() {
                    return Err(self.invalid(
                        "/api",
                        format!(
                            "no bundled API `{name}`; the bundled ones are {} (for your own API, write `spec: path/to/openapi.yaml`)",
                            bundled_names()
                        ),
                    ));
                }
                ApiChoice::Bundled(name.clone())
            }
            (Some(_), None) => return Err(self.invalid("/api", "`api` must be a name")),
            (None, Some(Value::String(spec))) => {
                let base = self.document.path.parent().unwrap_or(Path::new("."));
                let overlays = match map.get("overlays") {
                    None => Vec::new(),
                    Some(list) => {
                        crate::spec::overlay::listed(list, base).map_err(|(at, message)| {
                            self.invalid(&format!("/overlays{at}"), message)
                        })?
                    }
                };
                ApiChoice::Spec {
                    path: base.join(spec),
                    overlays,
                }
            }
            (None, Some(_)) => return Err(self.invalid("/spec", "`spec` must be a path")),
            (None, None) => self
                .document
                .path
                .parent()
                .and_then(|p| p.file_name())
                .and_then(|n| n.to_str())
                .filter(|n| crate::behaviour::bundled::find(n).is_some())
                .map(|n| ApiChoice::Bundled(n.to_string()))
                .unwrap_or(ApiChoice::Unstated),
        };
        if map.contains_key("overlays") && !matches!(api, ApiChoice::Spec { .. }) {
            return Err(self.invalid(
                "/overlays",
                "`overlays` apply to a `spec:`; a bundled API's spec is fixed",
            ));
        }
        let shared = self.scenario_parts(map, "")?;
        let scenarios = match (map.get("steps"), map.get("scenarios")) {
            (Some(_), Some(_)) => {
                return Err(self.invalid(
                    "/scenarios",
                    "a file has `steps` (one scenario) or `scenarios` (several), not both",
                ));
            }
            (Some(steps), None) => {
                let name = match map.get("name") {
                    Some(_) => shared.name.clone(),
                    None => self
                        .document
                        .path
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                };
                vec![Scenario {
                    name,
                    steps: self.steps(steps, "/steps")?,
                    ..shared
                }]
            }
            (None, Some(Value::Array(items))) => {
                if map.contains_key("name") {
                    return Err(self.invalid(
                        "/name",
                        "with `scenarios`, each scenario has its own `name`",
                    ));
                }
                let mut out = Vec::new();
                for (i, item) in items.iter().enumerate() {
                    let pointer = format!("/scenarios/{i}");
                    let map = self.mapping(item, &pointer, &SCENARIO_KEYS, "a scenario")?;
                    let own = self.scenario_parts(map, &pointer)?;
                    if !map.contains_key("name") {
                        return Err(self.invalid(&pointer, "a scenario needs a `name`"));
                    }
                    let Some(steps) = map.get("steps") else {
                        return Err(self.invalid(&pointer, "a scenario needs `steps`"));
                    };
                    let mut tags = shared.tags.clone();
                    tags.extend(own.tags);
                    let mut vars = shared.vars.clone();
                    vars.extend(own.vars);
                    let mut mock_vars = shared.mock_vars.clone();
                    mock_vars.extend(own.mock_vars);
                    let mut headers = shared.headers.clone();
                    for (name, value) in own.headers {
                        headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
                        headers.push((name, value));
                    }
                    out.push(Scenario {
                        name: own.name,
                        at: own.at,
                        tags,
                        vars,
                        headers,
                        mock_vars,
                        timeout: own.timeout.or(shared.timeout),
                        steps: self.steps(steps, &format!("{pointer}/steps"))?,
                    });
                }
                let mut seen = std::collections::HashSet::new();
                for (i, s) in out.iter().enumerate() {
                    if !seen.insert(s.name.as_str()) {
                        return Err(self.invalid(
                            &format!("/scenarios/{i}/name"),
                            format!("two scenarios are named `{}` in this file", s.name),
                        ));
                    }
                }
                out
            }
            (None, Some(_)) => {
                return Err(self.invalid("/scenarios", "`scenarios` must be a list"));
            }
            (None, None) => {
                return Err(self.invalid(
                    "",
                    "a scenario file needs `steps` (one scenario) or `scenarios` (a list)",
                ));
            }
        };
        for scenario in &scenarios {
            if scenario.steps.is_empty() {
                return Err(ScenarioError::Invalid {
                    at: scenario.at.clone(),
                    message: format!("scenario `{}` has no steps", scenario.name),
                });
            }
        }
        Ok(ScenarioFile {
            path: self.document.path.clone(),
            api,
            scenarios,
        })
    }

    /// The keys a file and a scenario share; `steps` is left to the caller.
    fn scenario_parts(
        &self,
        map: &Map<String, Value>,
        pointer: &str,
    ) -> Result<Scenario, ScenarioError> {
        let name = match map.get("name") {
            None => String::new(),
            Some(Value::String(s)) if !s.trim().is_empty() => s.clone(),
            Some(_) => return Err(self.invalid(&format!("{pointer}/name"), "a name is text")),
        };
        let tags = self.read_items(
            map.get("tags"),
            &format!("{pointer}/tags"),
            "`tags` is a list",
            |tag, at| {
                tag.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| self.invalid(&at, "a tag is text"))
            },
        )?;
        let vars = self.read_entries(
            map.get("vars"),
            &format!("{pointer}/vars"),
            "`vars` is a mapping of names to values",
            |entry| {
                let name = entry.key;
                if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                    || name.starts_with(|c: char| c.is_ascii_digit())
                {
                    return Err(
                        self.invalid(&entry.pointer, format!("`{name}` is not a variable name"))
                    );
                }
                let mut refs = Vec::new();
                references(entry.value, &mut refs)
                    .map_err(|e| self.invalid(&entry.pointer, e.to_string()))?;
                Ok((name.to_string(), entry.value.clone()))
            },
        )?;
        let headers = self.headers(map.get("headers"), &format!("{pointer}/headers"))?;
        let timeout = self.duration(map.get("timeout"), &format!("{pointer}/timeout"))?;
        let mock_vars = self.object(
            map.get("mock_vars"),
            &format!("{pointer}/mock_vars"),
            "`mock_vars` is a mapping of the fixture's variable names to values",
        )?;
        Ok(Scenario {
            name,
            at: self.document.locate(pointer),
            tags,
            vars,
            headers,
            mock_vars,
            timeout,
            steps: Vec::new(),
        })
    }

    /// A request's headers: `null` takes away one the scenario sends by default.
    fn request_headers(
        &self,
        value: Option<&Value>,
        pointer: &str,
    ) -> Result<Vec<(String, Option<String>)>, ScenarioError> {
        let Some(Value::Object(map)) = value else {
            return Ok(self
                .headers(value, pointer)?
                .into_iter()
                .map(|(k, v)| (k, Some(v)))
                .collect());
        };
        let (removed, kept): (Map<String, Value>, Map<String, Value>) =
            map.clone().into_iter().partition(|(_, v)| v.is_null());
        let mut out: Vec<(String, Option<String>)> = self
            .headers(Some(&Value::Object(kept)), pointer)?
            .into_iter()
            .map(|(k, v)| (k, Some(v)))
            .collect();
        out.extend(removed.into_iter().map(|(k, _)| (k, None)));
        Ok(out)
    }

    fn headers(
        &self,
        value: Option<&Value>,
        pointer: &str,
    ) -> Result<Vec<(String, String)>, ScenarioError> {
        let entries = self.entries(value, pointer, "`headers` is a mapping of names to values")?;
        let mut out = Vec::new();
        for crate::source::reader::Entry {
            key: name,
            value,
            pointer: at,
        } in entries
        {
            if hyper::header::HeaderName::from_bytes(name.as_bytes()).is_err() {
                return Err(self.invalid(&at, format!("`{name}` is not a header name")));
            }
            let text = match value {
                Value::String(s) => s.clone(),
                Value::Number(_) | Value::Bool(_) => value.to_string(),
                _ => return Err(self.invalid(&at, "a header value is text")),
            };
            if hyper::header::HeaderValue::from_str(&text).is_err() {
                return Err(self.invalid(
                    &at,
                    "a header value cannot hold a line break or control character",
                ));
            }
            let mut refs = Vec::new();
            references(&Value::String(text.clone()), &mut refs)
                .map_err(|e| self.invalid(&at, e.to_string()))?;
            out.push((name.to_string(), text));
        }
        Ok(out)
    }

    fn duration(
        &self,
        value: Option<&Value>,
        pointer: &str,
    ) -> Result<Option<std::time::Duration>, ScenarioError> {
        match value {
            None => Ok(None),
            Some(v) => parse_duration(v)
                .map(|ms| Some(std::time::Duration::from_millis(ms)))
                .ok_or_else(|| {
                    self.invalid(
                        pointer,
                        "a duration is a number of seconds or text like `500ms`, `30s`, `2m`",
                    )
                }),
        }
    }

    fn steps(&self, value: &Value, pointer: &str) -> Result<Vec<Step>, ScenarioError> {
        let Value::Array(items) = value else {
            return Err(self.invalid(pointer, "`steps` is a list"));
        };
        items
            .iter()
            .enumerate()
            .map(|(i, item)| self.step(item, &format!("{pointer}/{i}")))
            .collect()
    }

    fn step(&self, value: &Value, pointer: &str) -> Result<Step, ScenarioError> {
        let map = self.mapping(value, pointer, &STEP_KEYS, "a step")?;
        let Some(request) = map.get("request") else {
            return Err(self.invalid(pointer, "a step needs a `request`"));
        };
        let request = self.request(request, &format!("{pointer}/request"))?;
        let expect = match map.get("expect") {
            None | Some(Value::Null) => Expectation::default(),
            Some(expect) => self.expectation(expect, &format!("{pointer}/expect"), &[])?,
        };
        let until = match map.get("until") {
            None => None,
            Some(value) => {
                let at = format!("{pointer}/until");
                let mut known = EXPECT_KEYS.to_vec();
                known.extend(["timeout", "interval"]);
                let until = self.mapping(value, &at, &known, "`until`")?;
                if until
                    .keys()
                    .all(|k| matches!(k.as_str(), "timeout" | "interval"))
                {
                    return Err(self.invalid(&at, "`until` needs a condition (status, json, …)"));
                }
                let condition = self.expectation(value, &at, &["timeout", "interval"])?;
                Some(Poll {
                    condition,
                    timeout: self
                        .duration(until.get("timeout"), &format!("{at}/timeout"))?
                        .unwrap_or(std::time::Duration::from_secs(30)),
                    interval: self
                        .duration(until.get("interval"), &format!("{at}/interval"))?
                        .unwrap_or(std::time::Duration::from_secs(1))
                        .max(std::time::Duration::from_millis(10)),
                })
            }
        };
        let captures = self.captures(map.get("capture"), &format!("{pointer}/capture"))?;
        let retries = match map.get("retries") {
            None => 0,
            Some(v) => v
                .as_u64()
                .filter(|n| *n <= 100)
                .map(|n| n as u32)
                .ok_or_else(|| {
                    self.invalid(&format!("{pointer}/retries"), "`retries` is 0 to 100")
                })?,
        };
        let name = match map.get("name") {
            None => format!("{} {}", request.method, request.path),
            Some(Value::String(s)) => s.clone(),
            Some(_) => return Err(self.invalid(&format!("{pointer}/name"), "a name is text")),
        };
        Ok(Step {
            name,
            at: self.document.locate(pointer),
            request,
            expect,
            until,
            captures,
            retries,
            timeout: self.duration(map.get("timeout"), &format!("{pointer}/timeout"))?,
            snapshot: self.snapshot(map.get("snapshot"), &format!("{pointer}/snapshot"))?,
        })
    }

    /// `snapshot: true`, `snapshot: name` or `snapshot: {name, headers, redact}`.
    fn snapshot(
        &self,
        value: Option<&Value>,
        pointer: &str,
    ) -> Result<Option<SnapshotStep>, ScenarioError> {
        let named = |name: &str| -> Result<Option<String>, ScenarioError> {
            match name.trim() {
                "" => Err(self.invalid(pointer, "a snapshot name is not empty")),
                name => Ok(Some(name.to_string())),
            }
        };
        let map = match value {
            None | Some(Value::Bool(false)) => return Ok(None),
            Some(Value::Bool(true)) => return Ok(Some(SnapshotStep::default())),
            Some(Value::String(name)) => {
                return Ok(Some(SnapshotStep {
                    name: named(name)?,
                    ..SnapshotStep::default()
                }));
            }
            Some(value @ Value::Object(_)) => {
                self.mapping(value, pointer, &SNAPSHOT_KEYS, "`snapshot`")?
            }
            Some(_) => {
                return Err(self.invalid(
                    pointer,
                    "`snapshot` is true, a name, or a mapping with `name`, `headers` and `redact`",
                ));
            }
        };
        let mut step = SnapshotStep::default();
        match map.get("name") {
            None => {}
            Some(Value::String(name)) => step.name = named(name)?,
            Some(_) => return Err(self.invalid(&format!("{pointer}/name"), "a name is text")),
        }
        step.headers = self
            .string_list(
                map.get("headers"),
                &format!("{pointer}/headers"),
                "header names",
            )?
            .into_iter()
            .map(|h| h.to_ascii_lowercase())
            .collect();
        let redact_at = format!("{pointer}/redact");
        for (i, item) in self
            .string_list(
                map.get("redact"),
                &redact_at,
                "field names or JSON pointers",
            )?
            .into_iter()
            .enumerate()
        {
            if item.starts_with('/') || item.starts_with('$') {
                let pointer = to_pointer(&item).ok_or_else(|| {
                    self.invalid(
                        &format!("{redact_at}/{i}"),
                        format!("`{item}` is neither a JSON pointer (/a/0) nor a path ($.a[0])"),
                    )
                })?;
                step.redact_pointers.push(pointer);
            } else if item.is_empty() {
                return Err(self.invalid(&format!("{redact_at}/{i}"), "a field name is not empty"));
            } else {
                step.redact_fields.push(item);
            }
        }
        Ok(Some(step))
    }

    /// A list of strings (or one string) at `pointer`; `what` names them.
    fn string_list(
        &self,
        value: Option<&Value>,
        pointer: &str,
        what: &str,
    ) -> Result<Vec<String>, ScenarioError> {
        match value {
            None => Ok(Vec::new()),
            Some(Value::String(one)) => Ok(vec![one.clone()]),
            other => self.read_items(other, pointer, &format!("a list of {what}"), |item, at| {
                item.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| self.invalid(&at, format!("a list of {what}")))
            }),
        }
    }

    fn request(&self, value: &Value, pointer: &str) -> Result<RequestTemplate, ScenarioError> {
        if let Value::String(line) = value {
            let Some((method, path)) = line.trim().split_once(char::is_whitespace) else {
                return Err(self.invalid(pointer, "write `METHOD /path`, e.g. `GET /v2/servers`"));
            };
            return Ok(RequestTemplate {
                method: self.method(method, pointer)?,
                path: self.path(path.trim(), pointer)?,
                query: Vec::new(),
                headers: Vec::new(),
                body: None,
            });
        }
        let map = self.mapping(value, pointer, &REQUEST_KEYS, "a request")?;
        let method = match map.get("method") {
            Some(Value::String(m)) => self.method(m, &format!("{pointer}/method"))?,
            _ => return Err(self.invalid(pointer, "a request needs a `method` such as GET")),
        };
        let path = match map.get("path") {
            Some(Value::String(p)) => self.path(p, &format!("{pointer}/path"))?,
            _ => return Err(self.invalid(pointer, "a request needs a `path` starting with /")),
        };
        let query = self.read_entries(
            map.get("query"),
            &format!("{pointer}/query"),
            "`query` is a mapping of names to values",
            |entry| {
                let ok = match entry.value {
                    Value::Array(items) => items.iter().all(is_scalar),
                    other => is_scalar(other),
                };
                if !ok {
                    return Err(self.invalid(
                        &entry.pointer,
                        "a query value is a scalar or a list of scalars",
                    ));
                }
                Ok((entry.key.to_string(), entry.value.clone()))
            },
        )?;
        let headers = self.request_headers(map.get("headers"), &format!("{pointer}/headers"))?;
        let body = match (map.get("json"), map.get("body")) {
            (Some(_), Some(_)) => {
                return Err(self.invalid(
                    &format!("{pointer}/body"),
                    "a request has `json` or a text `body`, not both",
                ));
            }
            (Some(json), None) => Some(RequestBody::Json(json.clone())),
            (None, Some(Value::String(text))) => Some(RequestBody::Text(text.clone())),
            (None, Some(_)) => {
                return Err(self.invalid(
                    &format!("{pointer}/body"),
                    "`body` is text; for a JSON body write `json:`",
                ));
            }
            (None, None) => None,
        };
        let mut refs = Vec::new();
        if let Some(RequestBody::Json(json)) = &body {
            references(json, &mut refs)
                .map_err(|e| self.invalid(&format!("{pointer}/json"), e.to_string()))?;
        }
        Ok(RequestTemplate {
            method,
            path,
            query,
            headers,
            body,
        })
    }

    fn method(&self, method: &str, pointer: &str) -> Result<String, ScenarioError> {
        let upper = method.to_ascii_uppercase();
        if METHODS.contains(&upper.as_str()) {
            Ok(upper)
        } else {
            Err(self.invalid(
                pointer,
                format!(
                    "`{method}` is not an HTTP method; expected one of {}",
                    METHODS.join(", ")
                ),
            ))
        }
    }

    fn path(&self, path: &str, pointer: &str) -> Result<String, ScenarioError> {
        if !path.starts_with('/') {
            return Err(self.invalid(
                pointer,
                format!(
                    "the path `{path}` must start with `/` (the target URL comes from --target)"
                ),
            ));
        }
        super::variables::parse(path).map_err(|e| self.invalid(pointer, e.to_string()))?;
        Ok(path.to_string())
    }

    /// Reads an `expect` block (or an `until` condition; `extra` keys are
    /// the poll's own).
    fn expectation(
        &self,
        value: &Value,
        pointer: &str,
        extra: &[&str],
    ) -> Result<Expectation, ScenarioError> {
        let mut known = EXPECT_KEYS.to_vec();
        known.extend_from_slice(extra);
        let map = self.mapping(value, pointer, &known, "`expect`")?;
        let mut refs = Vec::new();
        references(value, &mut refs).map_err(|e| self.invalid(pointer, e.to_string()))?;
        let condition: Map<String, Value> = map
            .iter()
            .filter(|(k, _)| !extra.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let mut expectation = Expectation::parse(&Value::Object(condition))
            .map_err(|(inner, message)| self.invalid(&format!("{pointer}{inner}"), message))?;
        expectation.references = refs;
        expectation.lines = self.expectation_lines(map, pointer);
        Ok(expectation)
    }

    /// The line of each expectation in the block at `pointer`, keyed as
    /// its failures name their check.
    fn expectation_lines(
        &self,
        block: &Map<String, Value>,
        pointer: &str,
    ) -> std::collections::HashMap<String, usize> {
        let mut places = Vec::new();
        for key in ["status", "body", "body_contains"] {
            if block.contains_key(key) {
                places.push((key.to_string(), format!("{pointer}/{key}")));
            }
        }
        for (group, check) in [("headers", "header"), ("json", "json")] {
            if let Some(Value::Object(entries)) = block.get(group) {
                for name in entries.keys() {
                    let shown = if group == "headers" {
                        name.to_ascii_lowercase()
                    } else {
                        name.clone()
                    };
                    places.push((
                        format!("{check} {shown}"),
                        format!("{pointer}/{group}/{}", escape(name)),
                    ));
                }
            }
        }
        places
            .into_iter()
            .filter_map(|(check, at)| Some((check, self.document.locate(&at).line?)))
            .collect()
    }

    fn captures(
        &self,
        value: Option<&Value>,
        pointer: &str,
    ) -> Result<Vec<Capture>, ScenarioError> {
        let entries = self.entries(value, pointer, "`capture` is a mapping of variable names")?;
        let mut out = Vec::new();
        for crate::source::reader::Entry {
            key: name,
            value: how,
            pointer: at,
        } in entries
        {
            if crate::scenario::variables::parse(&format!("${{{name}}}")).is_err()
                || name.contains('.')
            {
                return Err(self.invalid(&at, format!("`{name}` is not a variable name")));
            }
            let (source, regex) = match how {
                Value::String(path) => (self.body_pointer(path, &at)?, None),
                Value::Object(spec) => {
                    if let Some(key) =
                        crate::source::unknown_key(spec, &["json", "header", "status", "regex"])
                    {
                        return Err(self.invalid(
                            &format!("{at}/{}", escape(key)),
                            format!("unknown key `{key}`; a capture takes json, header or status, and regex"),
                        ));
                    }
                    let source = match (spec.get("json"), spec.get("header"), spec.get("status")) {
                        (Some(Value::String(p)), None, None) => {
                            self.body_pointer(p, &format!("{at}/json"))?
                        }
                        (None, Some(Value::String(h)), None) => CaptureSource::Header(h.clone()),
                        (None, None, Some(Value::Bool(true))) => CaptureSource::Status,
                        _ => {
                            return Err(self.invalid(
                                &at,
                                "a capture takes one of `json: /pointer`, `header: Name` or `status: true`",
                            ));
                        }
                    };
                    let regex = match spec.get("regex") {
                        None => None,
                        Some(Value::String(r)) => Some(regex::Regex::new(r).map_err(|e| {
                            self.invalid(
                                &format!("{at}/regex"),
                                format!("the regex does not compile: {e}"),
                            )
                        })?),
                        Some(_) => {
                            return Err(self.invalid(&format!("{at}/regex"), "`regex` is text"));
                        }
                    };
                    (source, regex)
                }
                _ => {
                    return Err(self.invalid(
                        &at,
                        "a capture is a JSON pointer (`/id`), a path (`$.id`) or a mapping",
                    ));
                }
            };
            out.push(Capture {
                name: name.to_string(),
                source,
                regex,
            });
        }
        Ok(out)
    }

    fn body_pointer(&self, path: &str, pointer: &str) -> Result<CaptureSource, ScenarioError> {
        to_pointer(path).map(CaptureSource::Body).ok_or_else(|| {
            self.invalid(
                pointer,
                format!("`{path}` is neither a JSON pointer (`/a/0`) nor a path (`$.a[0]`)"),
            )
        })
    }
}

impl Expectation {
    /// Reads an `expect` block, once, at load; its `${…}` stay in the
    /// values until [`Expectation::filled`]. The error is `(pointer below
    /// the block, message)`.
    pub fn parse(value: &Value) -> Result<Expectation, (String, String)> {
        let mut out = Expectation::default();
        let Value::Object(map) = value else {
            if value.is_null() {
                return Ok(out);
            }
            return Err((String::new(), "`expect` must be a mapping".into()));
        };
        for (key, arg) in map {
            let at = |inner: &str, message: String| (format!("/{key}{inner}"), message);
            match key.as_str() {
                "status" => {
                    let codes: Vec<&Value> = match arg {
                        Value::Array(items) => items.iter().collect(),
                        other => vec![other],
                    };
                    for code in codes {
                        let code = code
                            .as_u64()
                            .filter(|c| (100..=599).contains(c))
                            .ok_or_else(|| {
                                at("", "`status` is a status code or a list of them".into())
                            })?;
                        out.status.push(code as u16);
                    }
                }
                "headers" => {
                    let Value::Object(headers) = arg else {
                        return Err(at("", "`headers` is a mapping of names to matchers".into()));
                    };
                    for (name, m) in headers {
                        let inner = format!("/{}", escape(name));
                        let m = matcher::parse(m)
                            .map_err(|(p, msg)| at(&format!("{inner}{p}"), msg))?;
                        out.templated |= name.contains('$') || m.is_template();
                        out.headers.push((name.to_ascii_lowercase(), m));
                    }
                }
                "body" => {
                    out.templated |= holds_reference(arg);
                    out.body = Some(arg.clone());
                }
                "body_contains" => {
                    out.templated |= holds_reference(arg);
                    out.body_contains = Some(arg.clone());
                }
                "json" => {
                    let Value::Object(paths) = arg else {
                        return Err(at(
                            "",
                            "`json` is a mapping of JSON pointers (`/id`) or paths (`$.id`) to matchers"
                                .into(),
                        ));
                    };
                    for (path, m) in paths {
                        let inner = format!("/{}", escape(path));
                        let Some(pointer) = to_pointer(path) else {
                            return Err(at(
                                &inner,
                                format!(
                                    "`{path}` is neither a JSON pointer (`/a/0`) nor a path (`$.a[0]`)"
                                ),
                            ));
                        };
                        let m = matcher::parse(m)
                            .map_err(|(p, msg)| at(&format!("{inner}{p}"), msg))?;
                        out.templated |= path.contains('$') || m.is_template();
                        out.json.push((path.clone(), pointer, m));
                    }
                }
                other => {
                    return Err((
                        format!("/{other}"),
                        format!(
                            "unknown key `{other}` in `expect`; expected one of: {}",
                            EXPECT_KEYS.join(", ")
                        ),
                    ));
                }
            }
        }
        Ok(out)
    }

    /// The expectation with its `${…}` filled in from `vars`; itself when
    /// it has none, which is most of them.
    pub fn filled(
        &self,
        vars: &mut Variables,
    ) -> Result<std::borrow::Cow<'_, Expectation>, FillError> {
        if !self.templated {
            return Ok(std::borrow::Cow::Borrowed(self));
        }
        let mut out = self.clone();
        for (name, m) in &mut out.headers {
            if name.contains('$') {
                let filled = vars.fill_string(name)?.to_ascii_lowercase();
                rekey(
                    &mut out.lines,
                    &format!("header {name}"),
                    &format!("header {filled}"),
                );
                *name = filled;
            }
            *m = m.filled(vars)?;
        }
        for value in out.body.iter_mut().chain(out.body_contains.iter_mut()) {
            *value = vars.fill(value)?;
        }
        for (path, pointer, m) in &mut out.json {
            if path.contains('$') {
                let filled = vars.fill_string(path)?;
                *pointer = to_pointer(&filled).ok_or_else(|| FillError::Path(filled.clone()))?;
                rekey(
                    &mut out.lines,
                    &format!("json {path}"),
                    &format!("json {filled}"),
                );
                *path = filled;
            }
            *m = m.filled(vars)?;
        }
        out.templated = false;
        Ok(std::borrow::Cow::Owned(out))
    }
}

/// Moves the line of the check named `from` to the name `to`.
fn rekey(lines: &mut std::collections::HashMap<String, usize>, from: &str, to: &str) {
    if let Some(line) = lines.remove(from) {
        lines.insert(to.to_string(), line);
    }
}

impl ScenarioFile {
    /// Checks that every `${name}` a scenario uses is defined before it is
    /// used: by `vars`, `extra` (`--var`), a built-in, or an earlier capture.
    pub fn check_variables(&self, extra: &[String]) -> Result<(), ScenarioError> {
        for scenario in &self.scenarios {
            let mut defined: Vec<String> = BUILTIN_VARS.iter().map(|s| s.to_string()).collect();
            defined.extend(extra.iter().cloned());
            let undefined = |refs: &[Reference], defined: &[String]| {
                refs.iter()
                    .filter_map(Reference::root)
                    .find(|root| !defined.iter().any(|d| d == root))
                    .map(str::to_string)
            };
            for (name, value) in &scenario.vars {
                let mut refs = Vec::new();
                let _ = references(value, &mut refs);
                if let Some(missing) = undefined(&refs, &defined) {
                    return Err(ScenarioError::Invalid {
                        at: scenario.at.clone(),
                        message: format!(
                            "scenario `{}`: var `{name}` uses `${{{missing}}}`, which is not defined before it",
                            scenario.name
                        ),
                    });
                }
                defined.push(name.clone());
            }
            let mut header_refs = Vec::new();
            for (_, value) in &scenario.headers {
                let _ = references(&Value::String(value.clone()), &mut header_refs);
            }
            for step in &scenario.steps {
                let mut refs = header_refs.clone();
                let _ = references(&step_strings(step), &mut refs);
                refs.extend(step.expect.references.iter().cloned());
                if let Some(until) = &step.until {
                    refs.extend(until.condition.references.iter().cloned());
                }
                if let Some(missing) = undefined(&refs, &defined) {
                    return Err(ScenarioError::Invalid {
                        at: step.at.clone(),
                        message: format!(
                            "step `{}` uses `${{{missing}}}`, which no `vars`, `--var` or earlier `capture` defines",
                            step.name
                        ),
                    });
                }
                defined.extend(step.captures.iter().map(|c| c.name.clone()));
            }
        }
        Ok(())
    }
}

/// Every string of a step's request that may hold a reference, as one value.
fn step_strings(step: &Step) -> Value {
    let mut all = vec![Value::String(step.request.path.clone())];
    all.extend(step.request.query.iter().map(|(_, v)| v.clone()));
    all.extend(
        step.request
            .headers
            .iter()
            .filter_map(|(_, v)| v.clone().map(Value::String)),
    );
    match &step.request.body {
        Some(RequestBody::Json(v)) => all.push(v.clone()),
        Some(RequestBody::Text(t)) => all.push(Value::String(t.clone())),
        None => {}
    }
    Value::Array(all)
}

fn is_scalar(value: &Value) -> bool {
    matches!(value, Value::String(_) | Value::Number(_) | Value::Bool(_))
}

fn bundled_names() -> String {
    crate::behaviour::bundled::BUNDLED
        .iter()
        .map(|b| b.name)
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use std::borrow::Cow;
    use std::collections::HashMap;
    use std::sync::Arc;

    fn vars(pairs: &[(&str, Value)]) -> Variables {
        let mut vars = Variables::new(Arc::new(HashMap::new()));
        for (name, value) in pairs {
            vars.set(name, value.clone());
        }
        vars
    }

    #[test]
    fn an_expectation_without_variables_is_used_as_read() {
        let expect =
            Expectation::parse(&json!({"status": 200, "json": {"/id": {"type": "string"}}}))
                .expect("parses");
        assert!(!expect.templated);
        let filled = expect.filled(&mut vars(&[])).expect("fills");
        assert!(matches!(filled, Cow::Borrowed(_)));
    }

    #[test]
    fn variables_are_filled_into_the_structure_read_at_load() {
        let expect = Expectation::parse(&json!({
            "headers": {"location": {"regex": "/projects/${id}$"}},
            "body_contains": {"name": "${name}"},
            "json": {
                "/items/${index}/id": "${id}",
                "/state": {"one_of": ["${ready}", "failed"]}
            }
        }))
        .expect("parses");
        assert!(expect.templated);
        let mut vars = vars(&[
            ("id", json!("p-1")),
            ("name", json!("demo")),
            ("index", json!(2)),
            ("ready", json!("ready")),
        ]);
        let filled = expect.filled(&mut vars).expect("fills");
        let Matcher::Regex(regex) = &filled.headers[0].1 else {
            panic!(
                "the regex template becomes a regex: {:?}",
                filled.headers[0].1
            );
        };
        assert_eq!(regex.as_str(), "/projects/p-1$");
        assert_eq!(filled.body_contains, Some(json!({"name": "demo"})));
        assert_eq!(filled.json[0].0, "/items/2/id");
        assert_eq!(filled.json[0].1, "/items/2/id");
        assert!(matches!(&filled.json[0].2, Matcher::Equals(v) if *v == json!("p-1")));
        assert!(
            matches!(&filled.json[1].2, Matcher::OneOf(v) if *v == vec![json!("ready"), json!("failed")])
        );
    }

    #[test]
    fn what_cannot_be_filled_in_is_a_typed_error() {
        let expect = Expectation::parse(&json!({"json": {"/a": "${missing}"}})).expect("parses");
        let error = expect.filled(&mut vars(&[])).expect_err("undefined");
        assert!(matches!(
            error,
            FillError::Var(crate::scenario::variables::VarError::Undefined(ref name)) if name == "missing"
        ));
        let expect =
            Expectation::parse(&json!({"json": {"/a": {"regex": "${open}"}}})).expect("parses");
        let error = expect
            .filled(&mut vars(&[("open", json!("(unclosed"))]))
            .expect_err("a broken pattern");
        assert!(matches!(error, FillError::Regex { ref pattern, .. } if pattern == "(unclosed"));
    }
}
