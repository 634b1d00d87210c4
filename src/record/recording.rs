//! What a recording holds: the exchanges seen, turned into scenario steps.
//!
//! Ids the upstream hands out are captured where they first appear and
//! written as `${id_N}` wherever a later request uses them, so the
//! scenario replays against a fresh service that hands out other ids.
//! Secret headers are written as `${env.RECORDED_…}` references, never as
//! values: one variable per distinct value, the most used one sent with
//! every step, and a step that sent another value, or none, says so, so
//! the replay sends what the client sent (a request without a token, with
//! a wrong one, as another user).

use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One request and what came back, as the proxy saw them.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub method: String,
    pub path: String,
    /// Decoded query pairs, in order.
    pub query: Vec<(String, String)>,
    /// Lower-case names, as sent.
    pub headers: Vec<(String, String)>,
    pub body: Option<RequestBody>,
    pub status: u16,
    /// The response body as JSON, when it is JSON.
    pub response_json: Option<Value>,
    /// Where the exchange breaks the spec, in either direction.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone)]
pub enum RequestBody {
    Json(Value),
    Text(String),
}

/// Headers that belong to one connection or are set by any client.
const TRANSPORT_HEADERS: [&str; 12] = [
    "host",
    "content-length",
    "connection",
    "keep-alive",
    "transfer-encoding",
    "te",
    "upgrade",
    "accept-encoding",
    "user-agent",
    "proxy-connection",
    "proxy-authorization",
    "expect",
];

/// Whether a header carries a credential: by name, or because the spec
/// declares it as an API key.
pub fn is_secret(name: &str, spec_keys: &[String]) -> bool {
    let name = name.to_ascii_lowercase();
    matches!(name.as_str(), "authorization" | "cookie")
        || ["token", "secret", "key", "password", "session", "auth"]
            .iter()
            .any(|word| name.contains(word))
        || spec_keys.iter().any(|k| k.eq_ignore_ascii_case(&name))
}

/// The environment variable a secret header is read from on replay.
pub fn secret_variable(header: &str) -> String {
    let mut name = String::from("RECORDED_");
    for c in header.chars() {
        name.push(if c.is_ascii_alphanumeric() {
            c.to_ascii_uppercase()
        } else {
            '_'
        });
    }
    name
}

#[derive(Debug, Default)]
pub struct Recording {
    steps: Vec<Step>,
    /// Server-made values seen in responses, with their variable.
    captured: Vec<(String, String)>,
    /// Secret header → its distinct values, each with its variable, in the
    /// order they were first seen.
    secrets: BTreeMap<String, Vec<(String, String)>>,
    /// The values of secret headers, hidden from snapshots too.
    secret_values: Vec<String>,
    /// Write each secret's value as the fallback of its variable
    /// (`${env.RECORDED_X:-value}`): for test servers whose credentials are
    /// fixed and not secret, so the recording replays with no setup.
    pub write_credentials: bool,
    /// Written as the file's `mock_vars:` (see `record --mock-var`).
    pub mock_vars: Map<String, Value>,
    /// The upstream's base URL: links the client sends back (Waldur's
    /// hyperlinks) are written with `${base_url}`, so they name the
    /// replay's target.
    pub upstream: String,
    /// Captured ids the client also sent hyphenated: their five groups are
    /// captured too, so the replay sends the same spelling.
    dashed: std::cell::RefCell<std::collections::BTreeSet<String>>,
    /// Path segments, query values and body strings clients have sent: a
    /// response field holding one of these was not made by the server.
    sent: std::collections::HashSet<String>,
}

#[derive(Debug)]
struct Step {
    name: String,
    request: Map<String, Value>,
    /// The value each secret header had in this request (absent: none).
    secrets: BTreeMap<String, String>,
    status: u16,
    captures: Vec<(String, String)>,
    problems: Vec<String>,
}

impl Recording {
    /// Adds an exchange; returns its step number (from 1).
    pub fn add(&mut self, exchange: Exchange, spec_keys: &[String]) -> usize {
        let number = self.steps.len() + 1;
        let mut request = Map::new();
        request.insert("method".into(), Value::from(exchange.method.clone()));
        let path = self.template_path(&exchange.path);
        request.insert("path".into(), Value::from(path.clone()));
        if !exchange.query.is_empty() {
            let mut query = Map::new();
            for (name, value) in &exchange.query {
                let value = self.template_text(value);
                match query.get_mut(name) {
                    Some(Value::Array(values)) => values.push(Value::from(value)),
                    Some(first) => *first = Value::Array(vec![first.take(), Value::from(value)]),
                    None => {
                        query.insert(name.clone(), Value::from(value));
                    }
                }
            }
            request.insert("query".into(), Value::Object(query));
        }
        let mut headers = Map::new();
        let mut secrets = BTreeMap::new();
        for (name, value) in &exchange.headers {
            let skip = TRANSPORT_HEADERS.contains(&name.as_str())
                || (name == "content-type" && matches!(exchange.body, Some(RequestBody::Json(_))));
            if skip {
                continue;
            }
            if is_secret(name, spec_keys) {
                let values = self.secrets.entry(name.clone()).or_default();
                if !values.iter().any(|(v, _)| v == value) {
                    let variable = match values.len() {
                        0 => secret_variable(name),
                        n => format!("{}_{}", secret_variable(name), n + 1),
                    };
                    values.push((value.clone(), variable));
                }
                if !self.secret_values.contains(value) {
                    self.secret_values.push(value.clone());
                }
                secrets.insert(name.clone(), value.clone());
                continue;
            }
            headers.insert(name.clone(), Value::from(self.template_text(value)));
        }
        if !headers.is_empty() {
            request.insert("headers".into(), Value::Object(headers));
        }
        match &exchange.body {
            Some(RequestBody::Json(json)) => {
                request.insert("json".into(), self.template_value(json));
            }
            Some(RequestBody::Text(text)) => {
                request.insert("body".into(), Value::from(self.template_text(text)));
            }
            None => {}
        }
        let captures = self.capture_ids(number, &exchange);
        self.remember_sent(&exchange);
        self.steps.push(Step {
            name: format!("{} {path}", exchange.method),
            request,
            secrets,
            status: exchange.status,
            captures,
            problems: exchange.problems,
        });
        number
    }

    /// Secret values seen so far, for redaction.
    pub fn secret_values(&self) -> &[String] {
        &self.secret_values
    }

    pub fn len(&self) -> usize {
        self.steps.len()
    }

    pub fn is_empty(&self) -> bool {
        self.steps.is_empty()
    }

    /// Server-made ids in a response's top-level fields, new to this
    /// recording: each becomes `<field>_<step>`.
    fn capture_ids(&mut self, number: usize, exchange: &Exchange) -> Vec<(String, String)> {
        let Some(Value::Object(map)) = &exchange.response_json else {
            return Vec::new();
        };
        let mut captures = Vec::new();
        for (field, value) in map {
            let looks_like_id = field == "id"
                || field == "uuid"
                || field.ends_with("Id")
                || field.ends_with("_id")
                || field.ends_with("_uuid");
            let Some(text) = value.as_str().filter(|t| looks_like_id && t.len() >= 4) else {
                continue;
            };
            let known = self.sent.contains(text)
                || exchange.path.split('/').any(|segment| segment == text)
                || self.captured.iter().any(|(v, _)| v == text);
            if known {
                continue;
            }
            let variable: String = format!("{field}_{number}")
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            let pointer = format!("/{}", crate::source::reader::escape(field));
            self.captured.push((text.to_string(), variable.clone()));
            captures.push((variable, pointer));
        }
        captures
    }

    fn remember_sent(&mut self, exchange: &Exchange) {
        fn strings(value: &Value, out: &mut std::collections::HashSet<String>) {
            match value {
                Value::String(text) => {
                    out.insert(text.clone());
                }
                Value::Array(items) => items.iter().for_each(|v| strings(v, out)),
                Value::Object(map) => map.values().for_each(|v| strings(v, out)),
                _ => {}
            }
        }
        self.sent.extend(
            exchange
                .path
                .split('/')
                .filter(|s| !s.is_empty())
                .map(str::to_string),
        );
        self.sent
            .extend(exchange.query.iter().map(|(_, v)| v.clone()));
        if let Some(RequestBody::Json(json)) = &exchange.body {
            strings(json, &mut self.sent);
        }
    }

    fn template_path(&self, path: &str) -> String {
        path.split('/')
            .map(|segment| self.template_text(segment))
            .collect::<Vec<_>>()
            .join("/")
    }

    /// A literal with `${` escaped, with the upstream's URL written
    /// `${base_url}` and captured ids written as their variables, also
    /// inside links (`${base_url}/api/customers/${uuid_1}/`).
    fn template_text(&self, text: &str) -> String {
        if let Some((_, variable)) = self.captured.iter().find(|(v, _)| v == text) {
            return format!("${{{variable}}}");
        }
        // The hyphenated spelling of an id the server wrote as 32 digits.
        if text.len() == 36
            && let Some(hex) = crate::behaviour::uuid_text::canonical(text)
            && let Some((_, variable)) = self
                .captured
                .iter()
                .find(|(v, _)| v.len() == 32 && v.as_bytes().eq_ignore_ascii_case(&hex))
        {
            self.dashed.borrow_mut().insert(variable.clone());
            return (1..=5)
                .map(|i| format!("${{{variable}_p{i}}}"))
                .collect::<Vec<_>>()
                .join("-");
        }
        let mut out = text.replace("${", "$${");
        if !self.upstream.is_empty() && out.contains(self.upstream.as_str()) {
            out = out.replace(self.upstream.as_str(), "${base_url}");
        }
        for (value, variable) in &self.captured {
            // Short values could be parts of other words; ids are long.
            if value.len() >= 8 && out.contains(value.as_str()) {
                out = out.replace(value.as_str(), &format!("${{{variable}}}"));
            }
        }
        out
    }

    fn template_value(&self, value: &Value) -> Value {
        match value {
            Value::String(text) => Value::from(self.template_text(text)),
            Value::Array(items) => {
                Value::Array(items.iter().map(|v| self.template_value(v)).collect())
            }
            Value::Object(map) => Value::Object(
                map.iter()
                    .map(|(k, v)| (k.replace("${", "$${"), self.template_value(v)))
                    .collect(),
            ),
            other => other.clone(),
        }
    }

    /// Each secret header's value sent most often (the first of equals):
    /// the scenario sends it with every step that does not say otherwise.
    fn usual_secrets(&self) -> BTreeMap<&str, &str> {
        let mut usual = BTreeMap::new();
        for (header, values) in &self.secrets {
            let count = |value: &str| {
                self.steps
                    .iter()
                    .filter(|s| s.secrets.get(header).map(String::as_str) == Some(value))
                    .count()
            };
            let mut best: Option<(&str, usize)> = None;
            for (value, _) in values {
                let n = count(value);
                if best.is_none_or(|(_, m)| n > m) {
                    best = Some((value, n));
                }
            }
            if let Some((value, n)) = best
                && n > 0
            {
                usual.insert(header.as_str(), value);
            }
        }
        usual
    }

    /// `${env.VARIABLE}` for a secret value, with the value as fallback
    /// when credentials are written.
    fn secret_reference(&self, header: &str, value: &str) -> String {
        let variable = self
            .secrets
            .get(header)
            .and_then(|values| values.iter().find(|(v, _)| v == value))
            .map(|(_, variable)| variable.as_str())
            .unwrap_or("RECORDED_SECRET");
        if self.write_credentials {
            format!("${{env.{variable}:-{}}}", value.replace('}', "%7D"))
        } else {
            format!("${{env.{variable}}}")
        }
    }

    /// The scenario file: `api_line` names the API (`api: x` or `spec: y`).
    pub fn to_yaml(&self, api_line: &str, upstream: &str, name: &str) -> String {
        let json = |value: &Value| serde_json::to_string(value).unwrap_or_default();
        let mut out = String::new();
        let _ = writeln!(out, "# Recorded by `understudy record` from {upstream}.");
        if !self.secrets.is_empty() {
            let _ = writeln!(
                out,
                "{}",
                if self.write_credentials {
                    "# Credentials are read from these variables, with the recorded values as fallbacks:"
                } else {
                    "# Secret headers were not written; set these before replaying:"
                }
            );
            for (header, values) in &self.secrets {
                for (_, variable) in values {
                    let _ = writeln!(out, "#   {variable}  (header {header})");
                }
            }
        }
        let _ = writeln!(out, "{api_line}");
        if !self.mock_vars.is_empty() {
            let _ = writeln!(
                out,
                "mock_vars: {}",
                json(&Value::Object(self.mock_vars.clone()))
            );
        }
        let usual = self.usual_secrets();
        if !usual.is_empty() {
            let headers: Map<String, Value> = usual
                .iter()
                .map(|(h, v)| (h.to_string(), Value::from(self.secret_reference(h, v))))
                .collect();
            let _ = writeln!(out, "headers: {}", json(&Value::Object(headers)));
        }
        let _ = writeln!(out, "scenarios:");
        let _ = writeln!(out, "  - name: {}", json(&Value::from(name)));
        let _ = writeln!(out, "    steps:");
        for (i, step) in self.steps.iter().enumerate() {
            for problem in &step.problems {
                let _ = writeln!(out, "      # spec: {}", problem.replace('\n', " "));
            }
            let _ = writeln!(
                out,
                "      - name: {}",
                json(&Value::from(step.name.clone()))
            );
            let mut request = step.request.clone();
            // Where this step's credentials differ from the usual ones.
            let mut differ = Map::new();
            for header in self.secrets.keys() {
                match (step.secrets.get(header), usual.get(header.as_str())) {
                    (Some(mine), Some(usual)) if mine == usual => {}
                    (Some(mine), _) => {
                        differ.insert(
                            header.clone(),
                            Value::from(self.secret_reference(header, mine)),
                        );
                    }
                    (None, Some(_)) => {
                        differ.insert(header.clone(), Value::Null);
                    }
                    (None, None) => {}
                }
            }
            if !differ.is_empty() {
                let headers = request
                    .entry("headers")
                    .or_insert_with(|| Value::Object(Map::new()));
                if let Value::Object(headers) = headers {
                    headers.extend(differ);
                }
            }
            let _ = writeln!(out, "        request: {}", json(&Value::Object(request)));
            let _ = writeln!(out, "        expect: {{\"status\": {}}}", step.status);
            if !step.captures.is_empty() {
                let dashed = self.dashed.borrow();
                let mut captures = Map::new();
                for (variable, pointer) in &step.captures {
                    captures.insert(variable.clone(), Value::from(pointer.clone()));
                    if dashed.contains(variable) {
                        // 8-4-4-4-12 digits, one group per variable.
                        for (i, (skip, take)) in [(0, 8), (8, 4), (12, 4), (16, 4), (20, 12)]
                            .iter()
                            .enumerate()
                        {
                            captures.insert(
                                format!("{variable}_p{}", i + 1),
                                serde_json::json!({
                                    "json": pointer,
                                    "regex": format!("^.{{{skip}}}(.{{{take}}})"),
                                }),
                            );
                        }
                    }
                }
                let _ = writeln!(out, "        capture: {}", json(&Value::Object(captures)));
            }
            let _ = writeln!(out, "        snapshot: \"{}\"", step_name(i + 1));
        }
        out
    }
}

/// The snapshot name of step `number`.
pub fn step_name(number: usize) -> String {
    format!("step-{number}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn exchange(
        method: &str,
        path: &str,
        body: Option<Value>,
        status: u16,
        response: Value,
    ) -> Exchange {
        Exchange {
            method: method.into(),
            path: path.into(),
            query: Vec::new(),
            headers: vec![
                ("host".into(), "127.0.0.1:1".into()),
                ("x-access-token".into(), "s3cret".into()),
                ("accept".into(), "application/json".into()),
                ("content-type".into(), "application/json".into()),
            ],
            body: body.map(RequestBody::Json),
            status,
            response_json: Some(response),
            problems: Vec::new(),
        }
    }

    #[test]
    fn ids_become_captures_and_secrets_become_variables() {
        let mut recording = Recording::default();
        recording.add(
            exchange(
                "POST",
                "/v2/servers/s1/projects",
                Some(json!({"description": "cost ${x}"})),
                201,
                json!({"id": "p-1234", "serverId": "s1"}),
            ),
            &[],
        );
        let mut second = exchange(
            "GET",
            "/v2/projects/p-1234",
            None,
            200,
            json!({"id": "p-1234"}),
        );
        second.query = vec![
            ("page".into(), "2".into()),
            ("tag".into(), "a".into()),
            ("tag".into(), "p-1234".into()),
        ];
        second
            .problems
            .push("response: undocumented status 200".into());
        recording.add(second, &[]);
        let yaml = recording.to_yaml("api: mittwald", "http://up", "recorded");
        assert!(!yaml.contains("s3cret"), "{yaml}");
        insta::assert_snapshot!(yaml, @r#"
        # Recorded by `understudy record` from http://up.
        # Secret headers were not written; set these before replaying:
        #   RECORDED_X_ACCESS_TOKEN  (header x-access-token)
        api: mittwald
        headers: {"x-access-token":"${env.RECORDED_X_ACCESS_TOKEN}"}
        scenarios:
          - name: "recorded"
            steps:
              - name: "POST /v2/servers/s1/projects"
                request: {"method":"POST","path":"/v2/servers/s1/projects","headers":{"accept":"application/json"},"json":{"description":"cost $${x}"}}
                expect: {"status": 201}
                capture: {"id_1":"/id"}
                snapshot: "step-1"
              # spec: response: undocumented status 200
              - name: "GET /v2/projects/${id_1}"
                request: {"method":"GET","path":"/v2/projects/${id_1}","query":{"page":"2","tag":["a","${id_1}"]},"headers":{"accept":"application/json","content-type":"application/json"}}
                expect: {"status": 200}
                snapshot: "step-2"
        "#);
        assert_eq!(recording.secret_values(), ["s3cret"]);
    }

    #[test]
    fn each_step_replays_with_the_credential_it_was_sent_with() {
        let mut recording = Recording::default();
        let with = |token: Option<&str>| {
            let mut e = exchange("GET", "/v2/projects", None, 200, json!([]));
            e.headers.retain(|(n, _)| n != "x-access-token");
            if let Some(token) = token {
                e.headers.push(("x-access-token".into(), token.into()));
            }
            e
        };
        for token in [Some("good"), None, Some("wrong"), Some("good")] {
            recording.add(with(token), &[]);
        }
        let yaml = recording.to_yaml("api: mittwald", "http://up", "creds");
        assert!(!yaml.contains("good") && !yaml.contains("wrong"), "{yaml}");
        assert!(
            yaml.contains(r#"headers: {"x-access-token":"${env.RECORDED_X_ACCESS_TOKEN}"}"#),
            "{yaml}"
        );
        let steps: Vec<&str> = yaml.lines().filter(|l| l.contains("request:")).collect();
        assert!(!steps[0].contains("x-access-token"), "{}", steps[0]);
        assert!(
            steps[1].contains(r#""x-access-token":null"#),
            "{}",
            steps[1]
        );
        assert!(
            steps[2].contains(r#""x-access-token":"${env.RECORDED_X_ACCESS_TOKEN_2}""#),
            "{}",
            steps[2]
        );
        recording.write_credentials = true;
        let open = recording.to_yaml("api: mittwald", "http://up", "creds");
        assert!(
            open.contains("${env.RECORDED_X_ACCESS_TOKEN_2:-wrong}"),
            "{open}"
        );
    }

    #[test]
    fn links_sent_back_name_the_replays_target_and_its_ids() {
        let mut recording = Recording {
            upstream: "http://up:8000".into(),
            ..Recording::default()
        };
        recording.add(
            exchange(
                "POST",
                "/api/customers/",
                Some(json!({"name": "c"})),
                201,
                json!({"uuid": "4b2f6e1a9c3d4e8fa1b2c3d4e5f60001"}),
            ),
            &[],
        );
        recording.add(
            exchange(
                "POST",
                "/api/projects/",
                Some(json!({"customer": "http://up:8000/api/customers/4b2f6e1a9c3d4e8fa1b2c3d4e5f60001/"})),
                201,
                json!({}),
            ),
            &[],
        );
        let yaml = recording.to_yaml("api: waldur", "http://up:8000", "links");
        assert!(
            yaml.contains(r#""customer":"${base_url}/api/customers/${uuid_1}/""#),
            "{yaml}"
        );
    }

    #[test]
    fn an_id_sent_hyphenated_replays_hyphenated() {
        let mut recording = Recording::default();
        recording.add(
            exchange(
                "POST",
                "/api/projects/",
                None,
                201,
                json!({"uuid": "4b2f6e1a9c3d4e8fa1b2c3d4e5f60001"}),
            ),
            &[],
        );
        recording.add(
            exchange(
                "GET",
                "/api/projects/4b2f6e1a-9c3d-4e8f-a1b2-c3d4e5f60001/",
                None,
                200,
                json!({}),
            ),
            &[],
        );
        let yaml = recording.to_yaml("api: waldur", "http://up", "dashes");
        assert!(
            yaml.contains(r#""path":"/api/projects/${uuid_1_p1}-${uuid_1_p2}-${uuid_1_p3}-${uuid_1_p4}-${uuid_1_p5}/""#),
            "{yaml}"
        );
        assert!(
            yaml.contains(r#""uuid_1_p5":{"json":"/uuid","regex":"^.{20}(.{12})"}"#),
            "{yaml}"
        );
    }

    #[test]
    fn secrets_are_found_by_name_and_by_the_spec() {
        for name in [
            "Authorization",
            "cookie",
            "x-api-key",
            "X-Access-Token",
            "x-session-id",
        ] {
            assert!(is_secret(name, &[]), "{name}");
        }
        assert!(!is_secret("accept", &[]));
        assert!(is_secret("x-tenant", &["X-Tenant".into()]));
        assert_eq!(secret_variable("x-api-key"), "RECORDED_X_API_KEY");
    }
}
