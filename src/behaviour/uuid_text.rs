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
    match text.len() {
        36 => hyphenated_bytes(text.as_bytes(), &ANY_CASE),
        32 => digits_at::<32>(text.as_bytes().try_into().ok()?, &PLAIN_PAIRS, &ANY_CASE),
        _ => None,
    }
}

/// The 128 bits of `text` when it is a UUID exactly as [`from_bytes`]
/// writes one: 36 characters, lower case, hyphens in place. What the
/// compact store keeps as 16 bytes, because it reads back as it was.
pub fn lower_hyphenated_bytes(text: &str) -> Option<[u8; 16]> {
    hyphenated_bytes(text.as_bytes(), &LOWER_CASE)
}

/// Where each byte's two digits start in the hyphenated form, 8-4-4-4-12.
const HYPHENATED_PAIRS: [usize; 16] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];
/// The same in the form without hyphens.
const PLAIN_PAIRS: [usize; 16] = [0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30];

/// What each byte is worth as a hex digit; anything else has its high
/// bit set, so one test over all the digits finds a stray character.
const fn digit_values(upper_too: bool) -> [u8; 256] {
    let mut table = [0x80u8; 256];
    let mut i = 0;
    while i < 10 {
        table[b'0' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'a' as usize + i] = 10 + i as u8;
        if upper_too {
            table[b'A' as usize + i] = 10 + i as u8;
        }
        i += 1;
    }
    table
}
const ANY_CASE: [u8; 256] = digit_values(true);
const LOWER_CASE: [u8; 256] = digit_values(false);

fn hyphenated_bytes(text: &[u8], digits: &[u8; 256]) -> Option<[u8; 16]> {
    let text: &[u8; 36] = text.try_into().ok()?;
    if [text[8], text[13], text[18], text[23]] != [b'-'; 4] {
        return None;
    }
    digits_at(text, &HYPHENATED_PAIRS, digits)
}

/// The 16 bytes whose digits start at `pairs` in `text`, each worth what
/// `digits` says; `None` if one is not a digit. Always inlined: with
/// `pairs` a constant and `text` of a known length, every index is
/// checked at compile time (a call cost 340 instructions, most of them
/// bounds checks, and the compact store makes several per create).
#[inline(always)]
fn digits_at<const N: usize>(
    text: &[u8; N],
    pairs: &[usize; 16],
    digits: &[u8; 256],
) -> Option<[u8; 16]> {
    let mut out = [0u8; 16];
    let mut stray = 0u8;
    for (byte, &at) in out.iter_mut().zip(pairs) {
        let (high, low) = (
            digits[usize::from(text[at])],
            digits[usize::from(text[at + 1])],
        );
        stray |= high | low;
        *byte = (high << 4) | low;
    }
    (stray & 0x80 == 0).then_some(out)
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

/// A UUID's 16 bytes as lower-case hyphenated hex (`8c6a0f5e-2b1d-…`),
/// each digit written into place.
pub fn from_bytes(bytes: &[u8; 16]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut text = [b'-'; 36];
    for (byte, &at) in bytes.iter().zip(&HYPHENATED_PAIRS) {
        text[at] = HEX[usize::from(byte >> 4)];
        text[at + 1] = HEX[usize::from(byte & 15)];
    }
    String::from_utf8(text.to_vec()).unwrap_or_default()
}

/// A UUID in any spelling [`canonical`] reads, written with hyphens in
/// lower case: `8-4-4-4-12`; other text as it is.
pub fn hyphenated(text: &str) -> String {
    match uuid_bytes(text) {
        Some(bytes) => from_bytes(&bytes),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_spelling_written_back_is_read_as_compact_bytes() {
        let text = "8c6a0f5e-2b1d-4e3a-9f47-0d5c1b2a3e4f";
        let bytes = lower_hyphenated_bytes(text).expect("a uuid");
        assert_eq!(Some(bytes), uuid_bytes(text));
        for other in [
            "8C6A0F5E-2B1D-4E3A-9F47-0D5C1B2A3E4F",
            "8c6a0f5e2b1d4e3a9f470d5c1b2a3e4f",
            "8c6a0f5e-2b1d-4e3a-9f47-0d5c1b2a3e4g",
            "8c6a0f5e-2b1d-4e3a-9f47_0d5c1b2a3e4f",
            "8c6a0f5e-2b1d-4e3a-9f47-0d5c1b2a3e4",
            "",
        ] {
            assert_eq!(lower_hyphenated_bytes(other), None, "{other}");
        }
    }

    #[test]
    fn a_stray_character_anywhere_is_no_uuid() {
        let text = "8c6a0f5e-2b1d-4e3a-9f47-0d5c1b2a3e4f";
        for at in (0..36).filter(|at| !matches!(at, 8 | 13 | 18 | 23)) {
            for stray in ["g", "-", " ", "é"] {
                let mut other = text.to_string();
                other.replace_range(at..at + 1, stray);
                assert_eq!(uuid_bytes(&other), None, "{other}");
            }
        }
        let plain = text.replace('-', "");
        for at in 0..32 {
            let mut other = plain.clone();
            other.replace_range(at..at + 1, "x");
            assert_eq!(uuid_bytes(&other), None, "{other}");
        }
    }

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
