//! UUIDs compared by value, whatever their text: `4b2f6e1a-9c3d-…` and
//! `4b2f6e1a9c3d…` name the same item.
//!
//! Real services store UUIDs as numbers and print them one way (Waldur: 32
//! hex digits) while accepting any common spelling in paths, filters and
//! hyperlinks. Keys, filters and collection lookups therefore compare
//! UUID-shaped text by its 128 bits; any other text compares as it is.

/// The 32 lower-case hex digits of `text` when it is a UUID written with or
/// without hyphens (in either case, optionally in braces or as a `urn:uuid:`).
pub fn canonical(text: &str) -> Option<[u8; 32]> {
    let text = text.strip_prefix("urn:uuid:").unwrap_or(text);
    let text = text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(text);
    let bytes = text.as_bytes();
    let hyphenated = bytes.len() == 36
        && [8, 13, 18, 23].iter().all(|&i| bytes[i] == b'-')
        && bytes.iter().filter(|&&b| b == b'-').count() == 4;
    if !(hyphenated || bytes.len() == 32) {
        return None;
    }
    let mut out = [0u8; 32];
    let mut n = 0;
    for &b in bytes {
        if b == b'-' && hyphenated {
            continue;
        }
        if !b.is_ascii_hexdigit() {
            return None;
        }
        out[n] = b.to_ascii_lowercase();
        n += 1;
    }
    (n == 32).then_some(out)
}

/// The form a key is indexed under: the canonical hex digits of a UUID,
/// any other text unchanged.
pub fn index_form(text: &str) -> std::borrow::Cow<'_, str> {
    match canonical(text) {
        Some(hex) => std::borrow::Cow::Owned(String::from_utf8_lossy(&hex).into_owned()),
        None => std::borrow::Cow::Borrowed(text),
    }
}

/// Whether two texts are equal, UUIDs by value.
pub fn same_text(a: &str, b: &str) -> bool {
    a == b || matches!((canonical(a), canonical(b)), (Some(x), Some(y)) if x == y)
}

/// A UUID as 32 hex digits with hyphens put in: `8-4-4-4-12`.
pub fn hyphenated(hex: &str) -> String {
    match canonical(hex) {
        Some(h) => {
            let h = String::from_utf8_lossy(&h).into_owned();
            format!(
                "{}-{}-{}-{}-{}",
                &h[0..8],
                &h[8..12],
                &h[12..16],
                &h[16..20],
                &h[20..32]
            )
        }
        None => hex.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings_of_one_uuid_are_the_same() {
        let hex = "4b2f6e1a9c3d4e8fa1b2c3d4e5f60001";
        for other in [
            "4b2f6e1a-9c3d-4e8f-a1b2-c3d4e5f60001",
            "4B2F6E1A9C3D4E8FA1B2C3D4E5F60001",
            "{4b2f6e1a-9c3d-4e8f-a1b2-c3d4e5f60001}",
            "urn:uuid:4b2f6e1a-9c3d-4e8f-a1b2-c3d4e5f60001",
        ] {
            assert!(same_text(hex, other), "{other}");
        }
        assert_eq!(index_form("4B2F6E1A-9C3D-4E8F-A1B2-C3D4E5F60001"), hex);
        assert_eq!(
            hyphenated(hex),
            "4b2f6e1a-9c3d-4e8f-a1b2-c3d4e5f60001".to_string()
        );
    }

    #[test]
    fn other_text_is_compared_as_it_is() {
        assert!(!same_text("abc", "ABC"));
        assert!(!same_text(
            "4b2f6e1a9c3d4e8fa1b2c3d4e5f60001",
            "4b2f6e1a9c3d4e8fa1b2c3d4e5f60002"
        ));
        // Hyphens in the wrong places do not make a UUID.
        assert_eq!(canonical("4b2f6e1a9-c3d-4e8f-a1b2-c3d4e5f60001"), None);
        assert_eq!(canonical("4b2f6e1a9c3d4e8fa1b2c3d4e5f6000g"), None);
        assert_eq!(index_form("p-1"), "p-1");
    }
}
