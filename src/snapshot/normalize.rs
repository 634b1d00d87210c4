//! A response as a snapshot stores it: status, chosen headers and the body
//! as pretty JSON with keys in a stable order, with volatile values
//! replaced by placeholders that keep the shape (`[uuid]`, `[datetime]`),
//! so that a diff between two snapshots shows only real changes.

use crate::scenario::matcher::Format;
use serde_json::{Map, Value};

/// What to hide in a snapshot.
#[derive(Debug, Clone, Default)]
pub struct Redactions {
    /// Field names whose values are hidden wherever they occur (the
    /// step's `redact:` names and the fixture's generated fields).
    pub fields: Vec<String>,
    /// JSON pointers whose values are hidden.
    pub pointers: Vec<String>,
    /// Text replaced inside any string: `(value, placeholder)`, such as the
    /// run's id, the target's URL and secrets from the environment.
    pub literals: Vec<(String, String)>,
}

/// The response as snapshot text. `chosen` names the headers to keep
/// (lower case); `content-type` is always kept.
pub fn render(
    status: u16,
    headers: &[(String, String)],
    chosen: &[String],
    body: Option<&Value>,
    text_body: Option<&str>,
    redactions: &Redactions,
) -> String {
    let mut out = format!("status: {status}\n");
    let mut names: Vec<&str> = chosen.iter().map(String::as_str).collect();
    names.push("content-type");
    names.sort_unstable();
    names.dedup();
    for name in names {
        let values: Vec<&str> = headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
            .collect();
        match (values.is_empty(), name) {
            // A body without a content type says so only when asked.
            (true, "content-type") if !chosen.iter().any(|c| c == name) => {}
            (true, _) => out.push_str(&format!("{name}: (absent)\n")),
            (false, _) => {
                for value in values {
                    out.push_str(&format!(
                        "{name}: {}\n",
                        replace_literals(value, redactions)
                    ));
                }
            }
        }
    }
    match (body, text_body) {
        (Some(json), _) => {
            let shown = sorted(redact(json.clone(), "", redactions));
            out.push('\n');
            out.push_str(&serde_json::to_string_pretty(&shown).unwrap_or_default());
            out.push('\n');
        }
        (None, Some(text)) if !text.is_empty() => {
            out.push('\n');
            out.push_str(replace_literals(text, redactions).trim_end());
            out.push('\n');
        }
        _ => {}
    }
    out
}

/// `value` at `pointer` with its volatile parts replaced.
fn redact(value: Value, pointer: &str, redactions: &Redactions) -> Value {
    if redactions.pointers.iter().any(|p| p == pointer) {
        return placeholder(value);
    }
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(key, v)| {
                    let at = format!("{pointer}/{}", crate::source::reader::escape(&key));
                    let v = if redactions.fields.contains(&key) {
                        placeholder(v)
                    } else {
                        redact(v, &at, redactions)
                    };
                    // Ids are keys too (`{"<offering uuid>": 1}`).
                    (replace_uuids(&key), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .enumerate()
                .map(|(i, v)| redact(v, &format!("{pointer}/{i}"), redactions))
                .collect(),
        ),
        Value::String(text) => {
            let text = replace_literals(&text, redactions);
            // Ids and times a server makes differ on every run, also
            // inside links (`…/projects/<uuid>/`).
            if Format::DateTime.holds(&text) {
                Value::from("[datetime]")
            } else {
                Value::String(replace_uuids(&text))
            }
        }
        other => other,
    }
}

/// A stand-in with the value's shape: mappings and lists keep their keys
/// and length, so a field that appears or goes still shows in a diff.
fn placeholder(value: Value) -> Value {
    match value {
        Value::Null => Value::Null,
        Value::Bool(_) => Value::from("[bool]"),
        Value::Number(_) => Value::from("[number]"),
        Value::String(text) => Value::from(
            [
                (Format::Uuid, "[uuid]"),
                (Format::DateTime, "[datetime]"),
                (Format::Date, "[date]"),
                (Format::Email, "[email]"),
            ]
            .into_iter()
            .find(|(format, _)| format.holds(&text))
            .map(|(_, p)| p)
            .unwrap_or(
                if text.starts_with("http://") || text.starts_with("https://") {
                    "[url]"
                } else {
                    "[string]"
                },
            ),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(placeholder).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, placeholder(v))).collect())
        }
    }
}

fn replace_literals(text: &str, redactions: &Redactions) -> String {
    let mut text = text.to_string();
    for (literal, placeholder) in &redactions.literals {
        if !literal.is_empty() && text.contains(literal.as_str()) {
            text = text.replace(literal.as_str(), placeholder);
        }
    }
    text
}

/// `text` with every uuid in it written `[uuid]`: hyphenated, or as 32
/// hex digits standing alone (Waldur's ids, in bodies and in links).
pub fn replace_uuids(text: &str) -> String {
    const HYPHENATED: usize = 36;
    const HEX: usize = 32;
    let bytes = text.as_bytes();
    if bytes.len() < HEX {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut start = 0;
    let mut i = 0;
    while i + HEX <= bytes.len() {
        let before_ok = i == 0 || !is_id_char(bytes[i - 1]);
        let found = [HYPHENATED, HEX].into_iter().find(|&len| {
            i + len <= bytes.len()
                && bytes.get(i + len).is_none_or(|b| !is_id_char(*b))
                && is_uuid(&bytes[i..i + len])
        });
        // Uuids are ASCII, so a match starts and ends on char boundaries.
        match found {
            Some(len) if before_ok => {
                out.push_str(&text[start..i]);
                out.push_str("[uuid]");
                i += len;
                start = i;
            }
            _ => i += 1,
        }
    }
    out.push_str(&text[start..]);
    out
}

/// Characters that continue an id: a 32-digit run inside a longer one
/// (a 40-digit token) is not a UUID.
fn is_id_char(b: u8) -> bool {
    b.is_ascii_hexdigit() || b == b'-'
}

fn is_uuid(bytes: &[u8]) -> bool {
    match bytes.len() {
        36 => bytes.iter().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => *b == b'-',
            _ => b.is_ascii_hexdigit(),
        }),
        32 => bytes.iter().all(u8::is_ascii_hexdigit),
        _ => false,
    }
}

/// Keys in byte order at every level: servers need not keep an order.
fn sorted(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sorted(v)))
                    .collect::<Map<String, Value>>(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(sorted).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn redactions() -> Redactions {
        Redactions {
            fields: vec!["shortId".into(), "owner".into()],
            pointers: vec!["/items/0/size".into()],
            literals: vec![
                ("r4nd0m".into(), "[run_id]".into()),
                ("http://127.0.0.1:4010".into(), "[base_url]".into()),
            ],
        }
    }

    #[test]
    fn keeps_shape_and_hides_what_varies() {
        let body = json!({
            "name": "demo-r4nd0m",
            "id": "0b7b8a5e-4c0e-4d43-9a3f-1c2f6a3b9e10",
            "createdAt": "2026-11-22T10:00:00Z",
            "shortId": "p-abc123",
            "owner": {"email": "a@b.example", "since": "2026-01-01", "admin": true, "n": 3, "gone": null},
            "link": "http://127.0.0.1:4010/v2/projects/0b7b8a5e-4c0e-4d43-9a3f-1c2f6a3b9e10/",
            "note": "ids 0b7b8a5e-4c0e-4d43-9a3f-1c2f6a3b9e10,1b7b8a5e-4c0e-4d43-9a3f-1c2f6a3b9e1 ü",
            "items": [{"size": 10, "kind": "disk"}],
            "isReady": false
        });
        let headers = vec![
            ("Content-Type".to_string(), "application/json".to_string()),
            ("X-Total".to_string(), "1".to_string()),
            (
                "Date".to_string(),
                "Sun, 22 Nov 2026 10:00:00 GMT".to_string(),
            ),
        ];
        let text = render(
            201,
            &headers,
            &["x-total".into(), "x-missing".into()],
            Some(&body),
            None,
            &redactions(),
        );
        insta::assert_snapshot!(text, @r#"
        status: 201
        content-type: application/json
        x-missing: (absent)
        x-total: 1

        {
          "createdAt": "[datetime]",
          "id": "[uuid]",
          "isReady": false,
          "items": [
            {
              "kind": "disk",
              "size": "[number]"
            }
          ],
          "link": "[base_url]/v2/projects/[uuid]/",
          "name": "demo-[run_id]",
          "note": "ids [uuid],1b7b8a5e-4c0e-4d43-9a3f-1c2f6a3b9e1 ü",
          "owner": {
            "admin": "[bool]",
            "email": "[email]",
            "gone": null,
            "n": "[number]",
            "since": "[date]"
          },
          "shortId": "[string]"
        }
        "#);
    }

    #[test]
    fn hex_ids_are_ids_in_values_links_and_keys() {
        let hex = "4b2f6e1a9c3d4e8fa1b2c3d4e5f60001";
        assert_eq!(replace_uuids(hex), "[uuid]");
        assert_eq!(
            replace_uuids(&format!("http://h/api/projects/{hex}/?customer={hex}")),
            "http://h/api/projects/[uuid]/?customer=[uuid]"
        );
        // A longer run of hex digits (a 40-digit token) is not an id.
        let token = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(replace_uuids(token), token);
        let redacted = redact(json!({"counts": {hex: 1}}), "", &Redactions::default());
        assert_eq!(redacted, json!({"counts": {"[uuid]": 1}}));
    }

    #[test]
    fn text_bodies_and_empty_ones() {
        let text = render(
            200,
            &[("content-type".into(), "text/plain".into())],
            &[],
            None,
            Some("run r4nd0m done\n\n"),
            &redactions(),
        );
        assert_eq!(
            text,
            "status: 200\ncontent-type: text/plain\n\nrun [run_id] done\n"
        );
        assert_eq!(
            render(204, &[], &[], None, None, &redactions()),
            "status: 204\n"
        );
    }
}
