//! Credentials as data: which users an API knows, how their credentials
//! read, how long they last, and who the request is.
//!
//! ```yaml
//! auth:
//!   users: users                      # the collection whose items are the API's users
//!   schemes:                          # security scheme (by its name in the spec) →
//!     tokenAuth: {field: token, prefix: Token}   # the user field its credential must equal
//!   lifetime: 1h                      # credentials expire this long after the user was made
//!   accept_any_as: "vars.any_token_user"         # unknown credentials act as this user, if set
//! ```
//!
//! Without `auth` the mock checks that credentials are present and well
//! formed, and accepts any. With it, a credential names a user or the
//! request is refused with the API's `unauthorized` error, whose rules see
//! why (`reason`: `missing`, `other_scheme`, `unknown`, `expired`). Only
//! the schemes `auth` declares can name a user: a credential for another
//! of the spec's schemes is `other_scheme`, as a server that does not
//! accept that scheme answers. The user is `user` in every template of
//! the request.

use super::read::{FixtureError, Reader};
use crate::source::reader::escape;
use serde_json::Value;

/// The `auth` section of a fixture.
#[derive(Debug)]
pub struct Access {
    /// The collection holding the users.
    pub users: String,
    /// Per security scheme: where a user's credential is.
    pub schemes: Vec<(String, SchemeCredential)>,
    /// Milliseconds of the session clock a credential lasts.
    pub lifetime_ms: Option<u64>,
    /// Expression: the key of the user an unknown credential acts as.
    pub accept_any_as: Option<super::template::Expr>,
    pub pointer: String,
}

/// How one scheme's credential matches a user.
#[derive(Debug)]
pub struct SchemeCredential {
    /// The user field the credential must equal.
    pub field: String,
    /// A word before the credential (`Token` in `Authorization: Token abc`),
    /// compared without case. A value without it is another scheme's.
    pub prefix: Option<String>,
}

impl Access {
    pub fn scheme(&self, name: &str) -> Option<&SchemeCredential> {
        self.schemes.iter().find(|(n, _)| n == name).map(|(_, s)| s)
    }
}

/// Why a request's credentials name no user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Denial {
    /// None were sent.
    Missing,
    /// Sent for another scheme (`Bearer x` where `Token x` is expected).
    OtherScheme,
    /// No user has this credential.
    Unknown,
    /// The user's credential is past its lifetime.
    Expired,
}

impl Denial {
    pub fn as_str(self) -> &'static str {
        match self {
            Denial::Missing => "missing",
            Denial::OtherScheme => "other_scheme",
            Denial::Unknown => "unknown",
            Denial::Expired => "expired",
        }
    }
}

impl SchemeCredential {
    /// The credential in a raw value, or `None` when the value belongs to
    /// another scheme.
    pub fn read<'a>(&self, raw: &'a str) -> Option<&'a str> {
        let raw = raw.trim();
        match &self.prefix {
            None => Some(raw),
            Some(prefix) => {
                let (word, rest) = raw.split_once(' ').unwrap_or((raw, ""));
                word.eq_ignore_ascii_case(prefix).then(|| rest.trim())
            }
        }
    }
}

impl Reader<'_> {
    pub(super) fn access(&self, value: &Value) -> Result<Access, FixtureError> {
        let at = "/auth";
        self.keys_known(
            value,
            at,
            &["users", "schemes", "lifetime", "accept_any_as"],
        )?;
        let Some(Value::String(users)) = value.get("users") else {
            return Err(self.invalid(
                at,
                "`auth` needs `users`: the collection whose items are the API's users",
            ));
        };
        let Some(Value::Object(map)) = value.get("schemes") else {
            return Err(self.invalid(
                at,
                "`auth` needs `schemes`: security scheme names mapped to `{field, prefix}`",
            ));
        };
        let mut schemes = Vec::new();
        for (name, how) in map {
            let pointer = format!("{at}/schemes/{}", escape(name));
            let how = match how {
                Value::String(field) => SchemeCredential {
                    field: field.clone(),
                    prefix: None,
                },
                Value::Object(fields) => {
                    self.keys_known(how, &pointer, &["field", "prefix"])?;
                    let Some(Value::String(field)) = fields.get("field") else {
                        return Err(self.invalid(
                            &pointer,
                            "a scheme needs `field`: the user field its credential must equal",
                        ));
                    };
                    let prefix = match fields.get("prefix") {
                        None => None,
                        Some(Value::String(p)) if !p.trim().is_empty() && !p.contains(' ') => {
                            Some(p.clone())
                        }
                        Some(_) => {
                            return Err(self.invalid(
                                &format!("{pointer}/prefix"),
                                "`prefix` is one word, such as `Token` or `Bearer`",
                            ));
                        }
                    };
                    SchemeCredential {
                        field: field.clone(),
                        prefix,
                    }
                }
                _ => {
                    return Err(self.invalid(
                        &pointer,
                        "a scheme is a user field name or a mapping with `field` and `prefix`",
                    ));
                }
            };
            schemes.push((name.clone(), how));
        }
        let lifetime_ms = match value.get("lifetime") {
            None => None,
            Some(v) => Some(crate::source::parse_duration(v).ok_or_else(|| {
                self.invalid(
                    &format!("{at}/lifetime"),
                    "`lifetime` must be a duration such as `1h` or `30m`",
                )
            })?),
        };
        Ok(Access {
            users: users.clone(),
            schemes,
            lifetime_ms,
            accept_any_as: self
                .expression(value.get("accept_any_as"), &format!("{at}/accept_any_as"))?,
            pointer: at.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_is_one_word_compared_without_case() {
        let token = SchemeCredential {
            field: "token".into(),
            prefix: Some("Token".into()),
        };
        assert_eq!(token.read("Token abc"), Some("abc"));
        assert_eq!(token.read("token abc"), Some("abc"));
        assert_eq!(token.read("Token"), Some(""));
        assert_eq!(token.read("Token a b"), Some("a b"));
        assert_eq!(token.read("Bearer abc"), None);
        let bare = SchemeCredential {
            field: "key".into(),
            prefix: None,
        };
        assert_eq!(bare.read(" k1 "), Some("k1"));
    }
}
