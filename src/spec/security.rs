//! Security schemes: what a request must carry to be let in.

/// A `components/securitySchemes` entry, reduced to what the mock checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecurityScheme {
    /// A named header, query parameter or cookie must be present.
    ApiKey {
        name: String,
        location: super::operation::ParameterLocation,
        /// `name` as a header name, parsed once at load, when the key is
        /// a header and the name is a valid one: every request reads it.
        header: Option<hyper::header::HeaderName>,
    },
    /// `Authorization: <scheme> <credentials>` (bearer, basic, or another scheme).
    Http { scheme: String },
    /// OAuth 2 and OpenID Connect: a bearer token.
    BearerToken,
    /// Mutual TLS is settled by the transport; the mock cannot check it.
    MutualTls,
}
