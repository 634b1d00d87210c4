//! What a fixture declares about state: collections of resources and the
//! rules bound to operations. Read by [`super::parse_model`], checked against
//! the spec by [`super::bind`], run by [`super::engine`].

use super::template::{Expr, Template};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// The stateful part of a fixture; empty when it declares none.
#[derive(Debug, Default)]
pub struct Model {
    /// Lower-case request header that picks the session.
    pub session_header: String,
    /// `session_header` parsed once: looking a header up by text parses
    /// the name on every request.
    pub session_header_name: std::sync::OnceLock<Option<hyper::header::HeaderName>>,
    /// Constants the fixture names once (`vars.plan_limit`).
    pub vars: Map<String, Value>,
    pub collections: Vec<CollectionSpec>,
    pub operations: foldhash::HashMap<String, OperationBehaviour>,
    /// The users the API knows and how their credentials read.
    pub access: Option<super::access::Access>,
}

impl Model {
    pub const DEFAULT_SESSION_HEADER: &'static str = "x-understudy-session";

    /// The session header as a parsed name, made on first use.
    pub fn session_header_name(&self) -> Option<&hyper::header::HeaderName> {
        self.session_header_name
            .get_or_init(|| {
                hyper::header::HeaderName::from_bytes(self.session_header.as_bytes()).ok()
            })
            .as_ref()
    }

    pub fn collection(&self, name: &str) -> Option<&CollectionSpec> {
        self.collections.iter().find(|c| c.name == name)
    }

    /// Each collection's key field by collection name, as a state dump
    /// needs it to index the items it restores.
    pub fn keys(&self) -> HashMap<String, String> {
        self.collections
            .iter()
            .map(|c| (c.name.clone(), c.key.clone()))
            .collect()
    }

    /// Fields the mock makes anew for every item (ids, times): they differ
    /// between runs, so snapshots and drift reports hide them. Constants a
    /// fixture sets on every new item are not among them.
    pub fn volatile_fields(&self) -> Vec<String> {
        let mut fields: Vec<String> = self
            .collections
            .iter()
            .flat_map(|c| c.generated.iter())
            .filter(|(_, how)| !matches!(how, Generated::Constant { .. }))
            .map(|(field, _)| field.clone())
            .chain(
                self.collections
                    .iter()
                    .flat_map(|c| c.volatile.iter().cloned()),
            )
            .collect();
        fields.sort();
        fields.dedup();
        fields
    }
}

/// A kind of resource the mock stores, such as `projects`.
#[derive(Debug)]
pub struct CollectionSpec {
    pub name: String,
    /// The field that identifies an item (`id`, `uuid`).
    pub key: String,
    /// Values the server makes on create, in order: generated ids, then
    /// templates that may use them (`url`, `createdAt`).
    pub generated: Vec<(String, Generated)>,
    /// Values a new item takes for fields the create leaves out (the
    /// server's defaults). Unlike generated fields they are not volatile:
    /// snapshots and drift reports show them.
    pub defaults: Vec<(String, Template)>,
    /// Fields computed each time an item is shown (counters over other collections).
    pub computed: Vec<(String, Template)>,
    /// Whether the item alone decides how it is shown: no `omit`, and
    /// computed fields that read only `item`. Its plain reads can then be
    /// answered from the answer kept with it (`answer_cache`).
    pub answers_follow_from_item: bool,
    pub readiness: Option<Readiness>,
    pub soft_delete: Option<SoftDelete>,
    /// Sets of fields whose values no two live items share.
    pub unique: Vec<Vec<String>>,
    /// Expression with `item` and `user`: whether the request's user may
    /// see the item. Others are not found, listed or counted.
    pub visible: Option<Expr>,
    /// More fields that differ from run to run, such as computed copies of
    /// generated ones (a project's `customer_slug`): hidden in snapshots
    /// and drift reports like generated fields.
    pub volatile: Vec<String>,
    /// Fields left out whenever an item is shown: a template giving a list
    /// of names (usually from `vars`, to shape one version of an API).
    pub omit: Option<Template>,
    pub seed: Vec<Map<String, Value>>,
    /// `fit:`: the answers whose schemas stored items are held to; what a
    /// write leaves outside them is repaired before it is stored.
    pub fit: Vec<ItemFit>,
    /// JSON pointer of the declaration, for diagnostics.
    pub pointer: String,
}

/// One entry of a collection's `fit:` (inference writes them for every
/// collection it finds, one per operation whose answer shows an item):
/// stored items are shown by `operation`'s success answer, at `at` in it,
/// and a create or update that would store one that does not fit that
/// schema has it repaired (`contract::fit`) instead of making every
/// answer that shows it a 500.
#[derive(Debug, Clone)]
pub struct ItemFit {
    pub operation: String,
    /// Where the item is in the answer: property names from the top
    /// (`[firewall]` for `{"firewall": {…}}`); empty when the answer is
    /// the item.
    pub at: Vec<String>,
    /// The documented success status whose schema it is, found when the
    /// fixture is bound to the spec.
    pub status: u16,
    /// JSON pointer of the declaration, for diagnostics.
    pub pointer: String,
}

impl CollectionSpec {
    /// The reads an item needs to become ready, when readiness goes by reads.
    pub fn ready_after_reads(&self) -> Option<u32> {
        match self.readiness.as_ref()?.after {
            ReadyAfter::Reads(n) => Some(n),
            ReadyAfter::Millis(_) => None,
        }
    }

    /// Whether answers show `field` other than as stored: a computed
    /// field, or one readiness sets.
    pub fn shows_unstored(&self, field: &str) -> bool {
        self.computed.iter().any(|(name, _)| name == field)
            || self.readiness.as_ref().is_some_and(|readiness| {
                readiness.pending.contains_key(field) || readiness.ready.contains_key(field)
            })
    }
}

/// How a server-set field gets its value.
#[derive(Debug)]
pub enum Generated {
    Uuid,
    /// A random UUID as 32 hex digits without hyphens (Django's `uuid.hex`).
    UuidHex,
    /// 1, 2, 3… per collection and session.
    Sequence,
    /// A random string matching the regular expression, compiled at load.
    Pattern(crate::generate::PatternGenerator),
    /// The same value on every item (`enabled: true`), encoded once at
    /// load as the store keeps it, so a create copies its bytes.
    Constant {
        value: Value,
        stored: super::compact::Encoded,
    },
    Template(Template),
}

/// A field that reads "not ready" until a delay passes or it is read N times.
#[derive(Debug)]
pub struct Readiness {
    pub after: ReadyAfter,
    /// Fields shown while pending, e.g. `{isReady: false, status: pending}`.
    pub pending: Map<String, Value>,
    /// Fields shown once ready.
    pub ready: Map<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadyAfter {
    /// Milliseconds of the session's clock since creation.
    Millis(u64),
    /// Reads (retrieve or list) since creation.
    Reads(u32),
}

/// Delete marks the item instead of removing it; restore unmarks it.
#[derive(Debug)]
pub struct SoftDelete {
    pub deleted: Map<String, Value>,
    pub restored: Map<String, Value>,
}

/// The rules of one operation.
#[derive(Debug)]
pub struct OperationBehaviour {
    pub operation_id: String,
    pub target: Option<Target>,
    /// Checks of the request the spec cannot express, reported together
    /// with the spec's own violations.
    pub checks: Vec<Check>,
    pub rules: Vec<Rule>,
    pub pointer: String,
}

/// A field check beyond the schema (`name` may not be blank, a hyperlink
/// must name an existing item): when `when` holds, the request is invalid
/// with `message` for `field`.
#[derive(Debug)]
pub struct Check {
    /// The body field concerned; `""` for the body as a whole.
    pub field: String,
    pub when: Expr,
    pub message: Template,
    pub pointer: String,
}

/// The item an operation is about, looked up before any rule runs.
#[derive(Debug)]
pub struct Target {
    pub collection: String,
    /// Expression for the item's key; `None` until bound, when it becomes
    /// the operation's only path parameter.
    pub id: Option<Expr>,
    /// Soft-deleted items count as found (for recover).
    pub include_deleted: bool,
    /// Answer 404 when missing (default); otherwise `item` is none.
    pub required: bool,
    /// `unknown: spec`: a key the session never stored (nor deleted) is
    /// answered from the spec alone, as with no fixture, so requests built
    /// from the spec's examples keep getting answers the spec allows where
    /// it documents no 404. A deleted item is still not found.
    pub unknown_from_spec: bool,
}

/// One rule: when its condition holds, do its action and answer.
#[derive(Debug)]
pub struct Rule {
    pub when: Option<Expr>,
    pub action: Action,
    /// Collection acted on; default: the target's.
    pub collection: Option<String>,
    /// Expression for the key of the item acted on; default: the target.
    /// On a create, the new item's key instead of a generated one (a PUT
    /// to `/things/{name}` creates `name`).
    pub id: Option<Expr>,
    /// On an update: the written fields replace the item's (PUT) instead
    /// of merging into them; the server's generated fields stay, and
    /// defaults fill what the request leaves out.
    pub replace: bool,
    /// Fields to write (create, update); default: the request body.
    pub set: Option<Template>,
    pub list: ListSpec,
    pub status: Option<u16>,
    pub headers: Vec<(String, Template)>,
    pub body: Option<Template>,
    pub content_type: Option<String>,
    /// The real service answers this but the spec does not document it.
    pub undocumented: bool,
    pub pointer: String,
    /// Unique to this rule in this process (`answer_cache::next_rule_serial`).
    pub serial: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Only answer.
    Respond,
    Create,
    Read,
    Update,
    Delete,
    Restore,
    List,
}

impl Action {
    pub const ALL: [(&'static str, Action); 7] = [
        ("respond", Action::Respond),
        ("create", Action::Create),
        ("read", Action::Read),
        ("update", Action::Update),
        ("delete", Action::Delete),
        ("restore", Action::Restore),
        ("list", Action::List),
    ];

    pub fn needs_collection(self) -> bool {
        self != Action::Respond
    }

    /// Whether the action works on one existing item.
    pub fn needs_item(self) -> bool {
        matches!(
            self,
            Action::Read | Action::Update | Action::Delete | Action::Restore
        )
    }
}

/// How `list` picks, orders and pages items.
#[derive(Debug, Default)]
pub struct ListSpec {
    /// Per-item condition, with `item` in scope.
    pub filter: Option<Expr>,
    /// Query parameters mapped to field comparisons.
    pub filters: Vec<QueryFilter>,
    /// Expression: include soft-deleted items.
    pub include_deleted: Option<Expr>,
    pub order: Option<Ordering>,
    pub paginate: Option<Paginate>,
}

#[derive(Debug)]
pub struct QueryFilter {
    pub param: String,
    /// Any of these fields may match.
    pub fields: Vec<String>,
    pub op: FilterOp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterOp {
    Eq,
    Ne,
    Contains,
    IContains,
    StartsWith,
    In,
    Gt,
    Gte,
    Lt,
    Lte,
}

impl FilterOp {
    pub const ALL: [(&'static str, FilterOp); 10] = [
        ("eq", FilterOp::Eq),
        ("ne", FilterOp::Ne),
        ("contains", FilterOp::Contains),
        ("icontains", FilterOp::IContains),
        ("startswith", FilterOp::StartsWith),
        ("in", FilterOp::In),
        ("gt", FilterOp::Gt),
        ("gte", FilterOp::Gte),
        ("lt", FilterOp::Lt),
        ("lte", FilterOp::Lte),
    ];
}

/// `o=name,-created`: a parameter naming sort keys, `-` for descending.
#[derive(Debug)]
pub struct Ordering {
    pub param: String,
    /// Sort keys when the parameter is absent.
    pub default: Vec<String>,
    /// Sort key → field, where they differ.
    pub fields: HashMap<String, String>,
}

/// How page links are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkStyle {
    /// No `Link` header.
    None,
    /// The request's parameters as they came, `page` set on every link.
    Plain,
    /// As Django REST framework writes them: parameters sorted by name,
    /// spaces as `+`, and the first page without a page number.
    Django,
}

#[derive(Debug)]
pub enum Paginate {
    /// `?page=2&page_size=10`, with `Link` and a count header (Django REST framework).
    Page {
        page_param: String,
        size_param: String,
        default_size: usize,
        max_size: usize,
        count_header: Option<String>,
        link: LinkStyle,
        /// A page past the last is an empty page (`past_end: empty`)
        /// instead of a 404, as Django answers it.
        empty_past_end: bool,
    },
    /// `?limit=10&skip=20` with a total-count header.
    Offset {
        limit_param: String,
        skip_param: String,
        default_limit: Option<usize>,
        count_header: Option<String>,
    },
    /// `?starting_after=<key>&limit=10`: a page starts after the item the
    /// cursor names (the key of the last item of the page before), as
    /// Stripe pages; `paging.next_cursor` and `paging.has_more` say where
    /// the next page starts.
    Cursor {
        cursor_param: String,
        limit_param: String,
        default_limit: usize,
        max_limit: usize,
    },
}

impl Paginate {
    /// The header that carries the total, if the list sends one.
    pub fn count_header(&self) -> Option<&str> {
        match self {
            Paginate::Page { count_header, .. } | Paginate::Offset { count_header, .. } => {
                count_header.as_deref()
            }
            Paginate::Cursor { .. } => None,
        }
    }

    /// Whether pages point to each other with a `Link` header.
    pub fn links(&self) -> bool {
        matches!(self, Paginate::Page { link, .. } if *link != LinkStyle::None)
    }
}
