//! How an API's web framework answers around its operations, beyond the
//! spec: headers on every answer, a redirect to the path with its trailing
//! slash, and parameters it reads leniently.
//!
//! ```yaml
//! headers:                        # on every answer of a path the API has
//!   Allow: "{{ allowed | join(', ') }}"
//! trailing_slash:                 # `/api/projects` → 301 to `/api/projects/`
//!   status: 301
//! ignore_invalid: [query.page_size]   # a bad value is dropped, not refused
//! ```
//!
//! Django answers every view with `Allow`, redirects a path missing its
//! slash (`APPEND_SLASH`), and Django REST framework falls back to the
//! default page size when `page_size` is not a number. None of that is in
//! a spec; all of it is what a client meets.

use super::read::{FixtureError, Reader};
use super::template::Template;

/// The conventions a fixture declares; empty by default.
#[derive(Debug, Default)]
pub struct Conventions {
    /// Added to every answer of a path the API has (unless the answer has
    /// the header already). Templates see `allowed`, `status`, `method`
    /// and `path`.
    pub headers: Vec<(String, Template)>,
    pub trailing_slash: Option<TrailingSlash>,
    /// Parameters whose invalid values are dropped, as `(in, name)`.
    pub ignore_invalid: Vec<(String, String)>,
}

/// A request for `/a/b` answered with a redirect to `/a/b/`, when only
/// the latter is a path of the API.
#[derive(Debug)]
pub struct TrailingSlash {
    pub status: u16,
    /// Extra headers of the redirect (`Location` is always set).
    pub headers: Vec<(String, String)>,
}

impl Conventions {
    /// Whether an invalid value of this parameter is to be dropped.
    pub fn ignores(&self, location: &str, name: &str) -> bool {
        self.ignore_invalid
            .iter()
            .any(|(l, n)| l == location && n == name)
    }
}

const LOCATIONS: [&str; 4] = ["path", "query", "header", "cookie"];

impl Reader<'_> {
    pub(super) fn conventions(&self) -> Result<Conventions, FixtureError> {
        let root = &self.document.value;
        let headers = self.header_templates(
            root.get("headers"),
            "/headers",
            "`headers` must map header names to templates",
        )?;
        let trailing_slash = match root.get("trailing_slash") {
            None => None,
            Some(value) => {
                let at = "/trailing_slash";
                self.keys_known(value, at, &["status", "headers"])?;
                let status = self
                    .status(value, at)?
                    .filter(|s| matches!(s, 301 | 302 | 303 | 307 | 308))
                    .ok_or_else(|| {
                        self.invalid(
                            &format!("{at}/status"),
                            "`trailing_slash` needs `status`: 301, 302, 303, 307 or 308",
                        )
                    })?;
                let headers = self.string_map(
                    value.get("headers"),
                    &format!("{at}/headers"),
                    "`headers` must be a mapping",
                    "header values must be strings",
                )?;
                Some(TrailingSlash { status, headers })
            }
        };
        let ignore_invalid = self.read_items(
            root.get("ignore_invalid"),
            "/ignore_invalid",
            "`ignore_invalid` must be a list",
            |item, at| {
                item.as_str()
                    .and_then(|s| s.split_once('.'))
                    .filter(|(l, n)| LOCATIONS.contains(l) && !n.is_empty())
                    .map(|(l, n)| (l.to_string(), n.to_string()))
                    .ok_or_else(|| {
                        self.invalid(&at, "each entry is `in.name`, such as `query.page_size`")
                    })
            },
        )?;
        Ok(Conventions {
            headers,
            trailing_slash,
            ignore_invalid,
        })
    }
}
