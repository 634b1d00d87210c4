//! Media types: which documented entry a content type falls under, and
//! which documented entry answers an `Accept` header.

use crate::spec::operation::MediaType;

/// The essence of a `Content-Type` value: `type/subtype`, lower case,
/// without parameters.
pub fn essence(content_type: &str) -> String {
    essence_as_written(content_type).to_ascii_lowercase()
}

/// [`essence`] in the case it was written, without a copy.
fn essence_as_written(content_type: &str) -> &str {
    content_type.split(';').next().unwrap_or_default().trim()
}

/// The JSON media type of a request body or a response, if it has a schema.
pub fn json_with_schema(media: &[MediaType]) -> Option<&MediaType> {
    media.iter().find(|m| m.is_json() && m.schema.is_some())
}

/// The documented media type a concrete content type (a request's, a
/// response's, a fixture rule's) falls under: the exact name, then
/// `type/*`, then `*/*`.
pub fn documented<'a>(media: &'a [MediaType], content_type: &str) -> Option<&'a MediaType> {
    // Compared without case rather than lowered into a new string: a
    // request's body is checked this way on every request.
    let given = essence_as_written(content_type);
    let major = given.split('/').next().unwrap_or_default();
    media
        .iter()
        .find(|m| m.name.eq_ignore_ascii_case(given))
        .or_else(|| {
            media.iter().find(|m| {
                m.name
                    .strip_suffix("/*")
                    .is_some_and(|range| range.eq_ignore_ascii_case(major))
            })
        })
        .or_else(|| media.iter().find(|m| m.name == "*/*"))
}

/// The documented media type that answers `accept` (a list of ranges, in
/// the client's order); with no `Accept`, or `*/*`, the JSON one if any,
/// else the first. `None` when no range matches any.
pub fn negotiate<'a>(media: &'a [MediaType], accept: Option<&str>) -> Option<&'a MediaType> {
    let preferred = || media.iter().find(|m| m.is_json()).or(media.first());
    let Some(accept) = accept.filter(|a| !a.trim().is_empty()) else {
        return preferred();
    };
    for range in accept.split(',') {
        let range = essence(range);
        if range == "*/*" {
            return preferred();
        }
        if let Some(major) = range.strip_suffix("/*")
            && let Some(m) = media
                .iter()
                .find(|m| m.name.split('/').next() == Some(major))
        {
            return Some(m);
        }
        if let Some(m) = media.iter().find(|m| m.name == range) {
            return Some(m);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn media(names: &[&str]) -> Vec<MediaType> {
        names
            .iter()
            .map(|name| MediaType {
                name: name.to_string(),
                schema: None,
                example: None,
                examples: Vec::new(),
            })
            .collect()
    }

    #[test]
    fn a_content_type_falls_under_the_closest_documented_entry() {
        let listed = media(&["application/json", "text/*", "*/*"]);
        let name = |given: &str| documented(&listed, given).map(|m| m.name.as_str());
        assert_eq!(
            name("Application/JSON; charset=utf-8"),
            Some("application/json")
        );
        assert_eq!(name("text/csv"), Some("text/*"));
        assert_eq!(name("TEXT/csv"), Some("text/*"));
        assert_eq!(name("image/png"), Some("*/*"));
        assert_eq!(
            documented(&media(&["application/json"]), "text/plain").map(|m| m.name.as_str()),
            None
        );
    }

    #[test]
    fn accept_picks_in_the_clients_order() {
        let listed = media(&["text/csv", "application/json"]);
        let name = |accept: Option<&str>| negotiate(&listed, accept).map(|m| m.name.as_str());
        assert_eq!(name(None), Some("application/json"));
        assert_eq!(name(Some("*/*")), Some("application/json"));
        assert_eq!(name(Some("text/*, application/json")), Some("text/csv"));
        assert_eq!(name(Some("image/png")), None);
    }
}
