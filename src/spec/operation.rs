//! The parts of an OpenAPI operation the mock and the runner act on, read
//! once at load with every `$ref` in parameters, bodies and responses
//! already followed. Schemas stay raw in [`SchemaSlot`]s until first use.

use super::schema::SchemaSlot;
use serde_json::Value;

/// One method on one path.
#[derive(Debug)]
pub struct Operation {
    /// `operationId`, or `METHOD /path` when the spec gives none.
    pub id: String,
    pub method: hyper::Method,
    /// The path template as written, e.g. `/v2/projects/{projectId}`.
    pub path: String,
    /// JSON pointer of the operation in the bundled spec, for diagnostics.
    pub pointer: String,
    pub parameters: Vec<Parameter>,
    pub request_body: Option<RequestBody>,
    /// In the order of [`StatusKey`]: codes ascending, then ranges, then `default`.
    pub responses: Vec<ResponseSpec>,
    /// Alternatives: satisfying any one requirement is enough. Empty: no auth.
    pub security: Vec<SecurityRequirement>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ParameterLocation {
    Path,
    Query,
    Header,
    Cookie,
}

impl ParameterLocation {
    pub fn as_str(self) -> &'static str {
        match self {
            ParameterLocation::Path => "path",
            ParameterLocation::Query => "query",
            ParameterLocation::Header => "header",
            ParameterLocation::Cookie => "cookie",
        }
    }
}

/// How a parameter value is serialised (OpenAPI `style`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Simple,
    Label,
    Matrix,
    Form,
    SpaceDelimited,
    PipeDelimited,
    DeepObject,
}

/// The JSON type a serialised parameter value is turned back into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scalar {
    String,
    Integer,
    Number,
    Boolean,
    /// No single type is declared: the value is kept as a string.
    Any,
}

/// What a parameter holds, which decides how its text is split.
#[derive(Debug, Clone, PartialEq)]
pub enum ParameterShape {
    Primitive(Scalar),
    Array(Scalar),
    Object {
        properties: Vec<(String, Scalar)>,
        other: Scalar,
    },
}

#[derive(Debug)]
pub struct Parameter {
    pub name: String,
    pub location: ParameterLocation,
    pub required: bool,
    pub style: Style,
    pub explode: bool,
    pub shape: ParameterShape,
    /// `content`-encoded parameters carry JSON rather than a style.
    pub json_content: bool,
    pub schema: Option<SchemaSlot>,
    pub example: Option<Value>,
}

#[derive(Debug)]
pub struct RequestBody {
    pub required: bool,
    pub media: Vec<MediaType>,
}

#[derive(Debug)]
pub struct MediaType {
    /// Lower-cased, without parameters, e.g. `application/json`.
    pub name: String,
    pub schema: Option<SchemaSlot>,
    pub example: Option<Value>,
    /// Named examples (`examples:`), their `value`s with `$ref` followed.
    pub examples: Vec<(String, Value)>,
}

impl MediaType {
    pub fn is_json(&self) -> bool {
        is_json_media_type(&self.name)
    }
}

/// `application/json`, `application/problem+json`, `*/*+json` and the like.
pub fn is_json_media_type(name: &str) -> bool {
    name == "application/json" || name.ends_with("+json") || name == "text/json"
}

/// A response key: an exact code, a range like `2XX`, or `default`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum StatusKey {
    Code(u16),
    Range(u16),
    Default,
}

impl StatusKey {
    pub fn parse(key: &str) -> Option<Self> {
        if key == "default" {
            return Some(StatusKey::Default);
        }
        let upper = key.to_ascii_uppercase();
        if upper.len() == 3 && upper.ends_with("XX") {
            return upper[..1]
                .parse::<u16>()
                .ok()
                .filter(|d| (1..=5).contains(d))
                .map(StatusKey::Range);
        }
        key.parse::<u16>()
            .ok()
            .filter(|c| (100..=599).contains(c))
            .map(StatusKey::Code)
    }

    /// Whether a status code sent on the wire falls under this key.
    pub fn covers(self, status: u16) -> bool {
        match self {
            StatusKey::Code(c) => c == status,
            StatusKey::Range(d) => status / 100 == d,
            StatusKey::Default => true,
        }
    }

    /// The code to send when this key is chosen.
    pub fn code(self) -> u16 {
        match self {
            StatusKey::Code(c) => c,
            StatusKey::Range(d) => d * 100,
            StatusKey::Default => 200,
        }
    }
}

#[derive(Debug)]
pub struct ResponseSpec {
    pub status: StatusKey,
    pub media: Vec<MediaType>,
    pub headers: Vec<HeaderSpec>,
}

#[derive(Debug)]
pub struct HeaderSpec {
    pub name: String,
    pub required: bool,
    pub schema: Option<SchemaSlot>,
    pub example: Option<Value>,
}

/// Every scheme named must be satisfied together.
#[derive(Debug, Clone)]
pub struct SecurityRequirement {
    pub schemes: Vec<String>,
}

impl Operation {
    /// The documented response for a status actually sent, most specific first.
    pub fn response_for(&self, status: u16) -> Option<&ResponseSpec> {
        self.response_keyed(StatusKey::Code(status))
            .or_else(|| {
                self.responses
                    .iter()
                    .find(|r| matches!(r.status, StatusKey::Range(_)) && r.status.covers(status))
            })
            .or_else(|| self.response_keyed(StatusKey::Default))
    }

    /// The response documented under exactly `key` (`404`, `4XX`, `default`).
    pub fn response_keyed(&self, key: StatusKey) -> Option<&ResponseSpec> {
        self.responses.iter().find(|r| r.status == key)
    }
}
