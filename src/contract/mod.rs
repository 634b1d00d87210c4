//! The contract: what the spec allows, checked one way by every part that
//! checks it. The mock (requests, and every answer it sends, fixture rules
//! and error rules included), the runner and the recorder call these, so
//! that they agree on which statuses carry no body, which documented media
//! type a content type falls under, and how a schema error reads.

pub mod fit;
pub mod media;

use crate::spec::{Api, Operation, SlotSchema};
use serde_json::Value;

/// Statuses that carry no body whatever the spec documents: HTTP forbids
/// content on 1xx, 204 and 304, and a server must not send any with 205.
pub fn has_no_body(status: u16) -> bool {
    matches!(status, 100..=199 | 204 | 205 | 304)
}

/// The lowest documented 2xx answer of `operation`: the one that shows
/// what the operation is about.
pub fn success_response(operation: &Operation) -> Option<&crate::spec::operation::ResponseSpec> {
    operation.responses.iter().find(
        |r| matches!(r.status, crate::spec::StatusKey::Code(code) if (200..300).contains(&code)),
    )
}

/// The schema errors of a body sent with `status` as `content_type` for
/// `operation`, at most `limit`: what the mock checks every answer of its
/// own with (fixture rules and error rules alike). Empty when there is
/// nothing to hold it to: a bodiless status, a response or media type the
/// spec does not document, or one documented without a schema.
pub fn body_errors(
    api: &Api,
    operation: &Operation,
    status: u16,
    content_type: &str,
    body: &Value,
    limit: usize,
) -> Vec<String> {
    if has_no_body(status) {
        return Vec::new();
    }
    let media = operation
        .response_for(status)
        .and_then(|response| media::documented(&response.media, content_type));
    media_errors(api, media, body, limit)
}

/// The schema errors of `body` against the documented `media` type (none
/// when there is no such type or it has no schema), for a caller that has
/// already found the media type its answer is sent as.
pub fn media_errors(
    api: &Api,
    media: Option<&crate::spec::operation::MediaType>,
    body: &Value,
    limit: usize,
) -> Vec<String> {
    match media_schema(api, media) {
        Some(schema) => schema_errors(&schema, body, limit),
        None => Vec::new(),
    }
}

/// The compiled schema of a documented media type, if it has one.
pub(crate) fn media_schema<'a>(
    api: &'a Api,
    media: Option<&'a crate::spec::operation::MediaType>,
) -> Option<SlotSchema<'a, 'a>> {
    api.compiled(media?.schema.as_ref()?).ok()
}

/// [`media_errors`] for a body the caller owns and is about to send: the
/// common case, a valid body, is checked without copying it.
pub fn owned_media_errors(
    api: &Api,
    media: Option<&crate::spec::operation::MediaType>,
    body: &mut Value,
    limit: usize,
) -> Vec<String> {
    match media_schema(api, media) {
        Some(schema) if !schema.holds(body) => worded_errors(&schema, body, limit),
        _ => Vec::new(),
    }
}

/// The schema errors of `value`, at most `limit`, each worded one way:
/// what is wrong, then where (`… at `/name``, `/` for the value itself).
pub fn schema_errors(schema: &SlotSchema<'_, '_>, value: &Value, limit: usize) -> Vec<String> {
    if schema.is_valid(value) {
        return Vec::new();
    }
    worded_errors(schema, value, limit)
}

/// The errors of a value already found invalid, worded as
/// [`schema_errors`] says.
fn worded_errors(schema: &SlotSchema<'_, '_>, value: &Value, limit: usize) -> Vec<String> {
    schema
        .errors(value)
        .into_iter()
        .take(limit)
        .map(|e| {
            let at = if e.pointer.is_empty() {
                "/"
            } else {
                e.pointer.as_str()
            };
            format!("{e} at `{at}`")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_without_a_body() {
        for status in [100, 101, 204, 205, 304] {
            assert!(has_no_body(status), "{status}");
        }
        for status in [200, 201, 206, 301, 400, 404, 500] {
            assert!(!has_no_body(status), "{status}");
        }
    }
}
