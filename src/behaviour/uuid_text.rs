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
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let bytes = uuid_bytes(text)?;
    let mut out = [0u8; 32];
    for (i, byte) in bytes.iter().enumerate() {
        out[2 * i] = DIGITS[usize::from(byte >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(byte & 0xf)];
    }
    Some(out)
}

/// The 128 bits of `text` when it is a UUID in any spelling
/// [`canonical`] reads, in one pass over the text: every stored-item
/// lookup by key reads one, so it is on every request's path.
pub fn uuid_bytes(text: &str) -> Option<[u8; 16]> {
    let text = text.strip_prefix("urn:uuid:").unwrap_or(text);
    let text = text
        .strip_prefix('{')
        .and_then(|t| t.strip_suffix('}'))
        .unwrap_or(text);
    let bytes = text.as_bytes();
    let hyphenated = match bytes.len() {
        36 => true,
        32 => false,
        _ => return None,
    };
    let nibble = |b: u8| -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            b'A'..=b'F' => Some(b - b'A' + 10),
            _ => None,
        }
    };
    let mut out = [0u8; 16];
    let mut at = 0;
    for byte in &mut out {
        // Hyphens sit before the 5th, 7th, 9th and 11th byte: 8-4-4-4-12.
        if hyphenated && matches!(at, 8 | 13 | 18 | 23) {
            if bytes[at] != b'-' {
                return None;
            }
            at += 1;
        }
        *byte = (nibble(bytes[at])? << 4) | nibble(bytes[at + 1])?;
        at += 2;
    }
    Some(out)
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

/// Bytes as lower-case hyphenated hex (`8c6a0f5e-2b1d-…` for 16 bytes).
pub fn from_bytes(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // Bytes first: pushing `char`s into a `String` costs more than the rest.
    let mut text = Vec::with_capacity(bytes.len() * 2 + 4);
    for (i, byte) in bytes.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            text.push(b'-');
        }
        text.push(HEX[(byte >> 4) as usize]);
        text.push(HEX[(byte & 15) as usize]);
    }
    String::from_utf8(text).unwrap_or_default()
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
    fn bytes_read_back_as_the_uuid_they_came_from() {
        let text = "8c6a0f5e-2b1d-4e3a-9f47-0d5c1b2a3e4f";
        let bytes = uuid_bytes(text).expect("a uuid");
        assert_eq!(from_bytes(&bytes), text);
        assert_eq!(hyphenated(&text.replace('-', "")), text);
    }

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
        assert_eq!(uuid_bytes("4b2f6e1a-9c3d-4e8f-a1b2-c3d4e5f6000"), None);
        assert_eq!(uuid_bytes("4b2f6e1a-9c3d-4e8f-a1b2-c3d4e5f6000-"), None);
    }

    #[test]
    fn every_spelling_reads_as_the_same_bytes() {
        let bytes = uuid_bytes("4b2f6e1a9c3d4e8fa1b2c3d4e5f60001").expect("a UUID");
        assert_eq!(bytes[0], 0x4b);
        assert_eq!(bytes[15], 0x01);
        for other in [
            "4b2f6e1a-9c3d-4e8f-a1b2-c3d4e5f60001",
            "4B2F6E1A-9C3D-4E8F-A1B2-C3D4E5F60001",
            "{4b2f6e1a-9c3d-4e8f-a1b2-c3d4e5f60001}",
            "urn:uuid:4b2f6e1a9c3d4e8fa1b2c3d4e5f60001",
        ] {
            assert_eq!(uuid_bytes(other), Some(bytes), "{other}");
        }
    }
}
