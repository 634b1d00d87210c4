//! `action: list`: query parameters become filters, an ordering and a page.

use super::clock::parse_timestamp;
use super::model::{FilterOp, LinkStyle, ListSpec, Paginate, QueryFilter};
use super::store::key_text;
use super::view::same;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Map, Value, json};
use std::cmp::Ordering;

/// One page of a list and the headers that describe it.
#[derive(Debug, PartialEq)]
pub struct Page {
    pub items: Vec<Map<String, Value>>,
    pub total: usize,
    pub headers: Vec<(String, String)>,
    /// Where the page stands, for the answer's envelope (`paging` in
    /// templates): `has_more`, and per style `page`, `pages`, `next_page`,
    /// `previous_page`, `size`; `offset`, `next_offset`; `next_cursor`.
    pub paging: Value,
}

/// The request a list answers, as far as paging links need it.
pub struct ListRequest<'a> {
    /// Typed query parameters.
    pub query: &'a Map<String, Value>,
    /// Query pairs as sent, to rebuild links.
    pub raw_query: &'a [(String, String)],
    /// `http://host/path` of the request, without the query.
    pub url: String,
    /// The collection's key field: a cursor names the item it follows.
    pub key: &'a str,
}

/// Keeps the items every present filter accepts.
pub fn apply_filters(
    items: Vec<Map<String, Value>>,
    filters: &[QueryFilter],
    query: &Map<String, Value>,
) -> Vec<Map<String, Value>> {
    let active: Vec<(&QueryFilter, &Value)> = filters
        .iter()
        .filter_map(|f| query.get(&f.param).map(|v| (f, v)))
        .collect();
    if active.is_empty() {
        return items;
    }
    items
        .into_iter()
        .filter(|item| {
            active.iter().all(|(filter, wanted)| {
                filter
                    .fields
                    .iter()
                    .any(|field| matches(filter.op, item.get(field), wanted))
            })
        })
        .collect()
}

fn matches(op: FilterOp, field: Option<&Value>, wanted: &Value) -> bool {
    let Some(field) = field else {
        return op == FilterOp::Ne;
    };
    match op {
        FilterOp::Eq => loosely_equal(field, wanted),
        FilterOp::Ne => !loosely_equal(field, wanted),
        FilterOp::Contains => text(field).contains(&text(wanted)),
        FilterOp::IContains => text(field)
            .to_lowercase()
            .contains(&text(wanted).to_lowercase()),
        FilterOp::StartsWith => text(field).starts_with(&text(wanted)),
        FilterOp::In => match wanted {
            Value::Array(options) => options.iter().any(|o| loosely_equal(field, o)),
            Value::String(s) => s
                .split(',')
                .any(|o| loosely_equal(field, &Value::String(o.trim().to_string()))),
            other => loosely_equal(field, other),
        },
        FilterOp::Gt => compare(field, wanted) == Ordering::Greater,
        FilterOp::Gte => compare(field, wanted) != Ordering::Less,
        FilterOp::Lt => compare(field, wanted) == Ordering::Less,
        FilterOp::Lte => compare(field, wanted) != Ordering::Greater,
    }
}

/// Query parameters arrive typed by the spec, fields are typed by the data;
/// when the two disagree, compare their text.
fn loosely_equal(a: &Value, b: &Value) -> bool {
    same(a, b)
        || (!a.is_array() && !a.is_object() && super::uuid_text::same_text(&text(a), &text(b)))
}

fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Orders JSON values: absent and null first, then booleans, numbers,
/// timestamps by time, other strings by text.
pub fn compare(a: &Value, b: &Value) -> Ordering {
    fn rank(v: &Value) -> u8 {
        match v {
            Value::Null => 0,
            Value::Bool(_) => 1,
            Value::Number(_) => 2,
            Value::String(_) => 3,
            Value::Array(_) => 4,
            Value::Object(_) => 5,
        }
    }
    match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x.cmp(y),
        (Value::Number(x), Value::Number(y)) => x
            .as_f64()
            .partial_cmp(&y.as_f64())
            .unwrap_or(Ordering::Equal),
        (Value::String(x), Value::String(y)) => match (parse_timestamp(x), parse_timestamp(y)) {
            // Same millisecond: finer digits (microseconds) still order them.
            (Some(tx), Some(ty)) => tx.cmp(&ty).then_with(|| x.cmp(y)),
            _ => x.cmp(y),
        },
        (Value::Number(x), Value::String(y)) | (Value::String(y), Value::Number(x))
            if y.parse::<f64>().is_ok() =>
        {
            let ordering = x
                .as_f64()
                .partial_cmp(&y.parse::<f64>().ok())
                .unwrap_or(Ordering::Equal);
            if matches!(a, Value::Number(_)) {
                ordering
            } else {
                ordering.reverse()
            }
        }
        _ => rank(a).cmp(&rank(b)),
    }
}

/// Sorts by the keys the request names (or the default), stable.
pub fn apply_order(items: &mut [Map<String, Value>], spec: &ListSpec, query: &Map<String, Value>) {
    let keys = order_keys(spec, query);
    if keys.is_empty() {
        return;
    }
    let null = Value::Null;
    items.sort_by(|a, b| {
        for (field, descending) in &keys {
            let ordering = compare(a.get(field).unwrap_or(&null), b.get(field).unwrap_or(&null));
            let ordering = if *descending {
                ordering.reverse()
            } else {
                ordering
            };
            if ordering != Ordering::Equal {
                return ordering;
            }
        }
        Ordering::Equal
    });
}

/// The fields a list is ordered by for `query` (the order parameter's,
/// else the default), each with whether it is descending.
pub fn order_keys(spec: &ListSpec, query: &Map<String, Value>) -> Vec<(String, bool)> {
    let Some(order) = &spec.order else {
        return Vec::new();
    };
    let keys: Vec<String> = match query.get(&order.param) {
        Some(Value::Array(keys)) => keys.iter().map(text).collect(),
        Some(Value::String(keys)) => keys.split(',').map(|k| k.trim().to_string()).collect(),
        _ => order.default.clone(),
    };
    keys.iter()
        .filter(|k| !k.is_empty())
        .map(|k| {
            let (descending, name) = match k.strip_prefix('-') {
                Some(name) => (true, name),
                None => (false, k.as_str()),
            };
            let field = order.fields.get(name).cloned().unwrap_or(name.to_string());
            (field, descending)
        })
        .collect()
}

/// Whether keeping, filtering and ordering the list for `query` reads
/// any of `fields`: the rule's `filter` (by its text: a field it reads is
/// named in it as a word, `item.url` or `item['url']`), the query's
/// filters that are given, the order.
pub fn reads_any(spec: &ListSpec, query: &Map<String, Value>, fields: &[&str]) -> bool {
    let in_filter = spec
        .filter
        .as_ref()
        .is_some_and(|filter| fields.iter().any(|f| names_word(filter.source(), f)));
    let in_filters = spec
        .filters
        .iter()
        .filter(|f| query.contains_key(&f.param))
        .flat_map(|f| &f.fields)
        .any(|field| fields.contains(&field.as_str()));
    let in_order = order_keys(spec, query)
        .iter()
        .any(|(field, _)| fields.contains(&field.as_str()));
    in_filter || in_filters || in_order
}

/// Whether `word` is in `text` with no letter, digit or `_` on either
/// side (`customer` is not in `customer_uuid`).
fn names_word(text: &str, word: &str) -> bool {
    let part = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(word).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + word.len()..].chars().next();
        !before.is_some_and(part) && !after.is_some_and(part)
    })
}

/// A page the request asked for that the list does not have.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NoSuchPage {
    #[error("page {page} does not exist: there are {last} pages of {size}")]
    Number { page: i64, last: usize, size: usize },
    /// A cursor that names no listed item: the client made it up.
    #[error("`{param}` names no item of this list: `{cursor}`")]
    Cursor { param: String, cursor: String },
}

/// Cuts the page the request asks for; `Err` names a page that does not exist.
pub fn paginate(
    items: Vec<Map<String, Value>>,
    spec: &ListSpec,
    request: &ListRequest<'_>,
) -> Result<Page, NoSuchPage> {
    let total = items.len();
    let Some(paginate) = &spec.paginate else {
        return Ok(Page {
            items,
            total,
            headers: Vec::new(),
            paging: json!({"has_more": false}),
        });
    };
    let number = |name: &str| request.query.get(name).and_then(Value::as_i64);
    match paginate {
        Paginate::Page {
            page_param,
            size_param,
            default_size,
            max_size,
            count_header,
            link,
            empty_past_end,
        } => {
            let size = number(size_param)
                .filter(|s| *s > 0)
                .map_or(*default_size, |s| (s as usize).min(*max_size));
            let last = total.div_ceil(size).max(1);
            let page = number(page_param).unwrap_or(1);
            if page < 1 || (page as usize > last && !empty_past_end) {
                return Err(NoSuchPage::Number { page, last, size });
            }
            let page = page as usize;
            let items: Vec<_> = items
                .into_iter()
                .skip((page - 1) * size)
                .take(size)
                .collect();
            let mut headers = Vec::new();
            if let Some(name) = count_header {
                headers.push((name.to_ascii_lowercase(), total.to_string()));
            }
            if *link != LinkStyle::None {
                let href = |p: usize| page_url(request, page_param, p, *link);
                let mut links = vec![format!("<{}>; rel=\"first\"", href(1))];
                if page > 1 {
                    links.push(format!("<{}>; rel=\"prev\"", href(page - 1)));
                }
                if page < last {
                    links.push(format!("<{}>; rel=\"next\"", href(page + 1)));
                }
                links.push(format!("<{}>; rel=\"last\"", href(last)));
                headers.push(("link".into(), links.join(", ")));
            }
            let paging = json!({
                "page": page,
                "size": size,
                "pages": last,
                "has_more": page < last,
                "next_page": (page < last).then_some(page + 1),
                "previous_page": (page > 1).then(|| (page - 1).min(last)),
            });
            Ok(Page {
                items,
                total,
                headers,
                paging,
            })
        }
        Paginate::Offset {
            limit_param,
            skip_param,
            default_limit,
            count_header,
        } => {
            let skip = number(skip_param).filter(|s| *s > 0).unwrap_or(0) as usize;
            let limit = number(limit_param)
                .filter(|l| *l > 0)
                .map(|l| l as usize)
                .or(*default_limit)
                .unwrap_or(usize::MAX);
            let items: Vec<_> = items.into_iter().skip(skip).take(limit).collect();
            let headers = count_header
                .iter()
                .map(|name| (name.to_ascii_lowercase(), total.to_string()))
                .collect();
            let next = skip.saturating_add(items.len());
            let paging = json!({
                "offset": skip,
                "size": items.len(),
                "has_more": next < total,
                "next_offset": (next < total).then_some(next),
            });
            Ok(Page {
                items,
                total,
                headers,
                paging,
            })
        }
        Paginate::Cursor {
            cursor_param,
            limit_param,
            default_limit,
            max_limit,
        } => {
            let limit = number(limit_param)
                .filter(|l| *l > 0)
                .map_or(*default_limit, |l| (l as usize).min(*max_limit));
            let start = match request.query.get(cursor_param) {
                None => 0,
                Some(cursor) => {
                    let cursor = key_text(cursor).unwrap_or_else(|| cursor.to_string());
                    let at = items.iter().position(|item| {
                        item.get(request.key).and_then(key_text).as_deref() == Some(&cursor)
                    });
                    match at {
                        Some(at) => at + 1,
                        None => {
                            return Err(NoSuchPage::Cursor {
                                param: cursor_param.clone(),
                                cursor,
                            });
                        }
                    }
                }
            };
            let items: Vec<_> = items.into_iter().skip(start).take(limit).collect();
            let has_more = start + items.len() < total;
            let next_cursor = match has_more {
                true => items
                    .last()
                    .and_then(|item| item.get(request.key))
                    .and_then(key_text),
                false => None,
            };
            Ok(Page {
                items,
                total,
                headers: Vec::new(),
                paging: json!({"size": limit, "has_more": has_more, "next_cursor": next_cursor}),
            })
        }
    }
}

/// The request's URL with `page` set to `number`, other parameters kept.
fn page_url(
    request: &ListRequest<'_>,
    page_param: &str,
    number: usize,
    style: LinkStyle,
) -> String {
    let mut pairs: Vec<(String, String)> = request
        .raw_query
        .iter()
        .filter(|(k, _)| k != page_param)
        .cloned()
        .collect();
    if !(style == LinkStyle::Django && number == 1) {
        pairs.push((page_param.to_string(), number.to_string()));
    }
    let encode_part = |text: &str| match style {
        LinkStyle::Django => encode(text).replace("%20", "+"),
        _ => encode(text),
    };
    if style == LinkStyle::Django {
        // Stable: repeated parameters keep their order.
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
    }
    let query: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode_part(k), encode_part(v)))
        .collect();
    if query.is_empty() {
        return request.url.clone();
    }
    format!("{}?{}", request.url, query.join("&"))
}

/// Everything but RFC 3986's unreserved characters.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

fn encode(text: &str) -> String {
    utf8_percent_encode(text, QUERY_VALUE).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::behaviour::model::Ordering as Order;
    use serde_json::json;
    use std::collections::HashMap;

    #[test]
    fn a_field_is_read_where_it_is_named_as_a_word() {
        assert!(names_word("item.customer == 1", "customer"));
        assert!(names_word("item['customer']", "customer"));
        assert!(!names_word("item.customer_uuid == user.uuid", "customer"));
        assert!(!names_word("item.url_name", "url"));
        assert!(names_word("url", "url"));
    }

    fn items() -> Vec<Map<String, Value>> {
        [
            json!({"name": "Alpha", "created": "2026-01-02T00:00:00Z", "n": 3, "on": true}),
            json!({"name": "beta", "created": "2026-01-01T00:00:00Z", "n": 1, "on": false}),
            json!({"name": "Gamma", "created": "2026-01-03T00:00:00Z", "n": 2, "on": true}),
        ]
        .into_iter()
        .filter_map(|v| v.as_object().cloned())
        .collect()
    }

    fn names(items: &[Map<String, Value>]) -> Vec<&str> {
        items.iter().filter_map(|i| i["name"].as_str()).collect()
    }

    fn filter(param: &str, field: &str, op: FilterOp) -> QueryFilter {
        QueryFilter {
            param: param.into(),
            fields: vec![field.into()],
            op,
        }
    }

    fn query(value: Value) -> Map<String, Value> {
        value.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn filters_compare_text_numbers_times_and_sets() {
        let cases = [
            (
                filter("q", "name", FilterOp::IContains),
                json!({"q": "A"}),
                vec!["Alpha", "beta", "Gamma"],
            ),
            (
                filter("q", "name", FilterOp::Contains),
                json!({"q": "mm"}),
                vec!["Gamma"],
            ),
            (
                filter("q", "name", FilterOp::Eq),
                json!({"q": "beta"}),
                vec!["beta"],
            ),
            (
                filter("q", "on", FilterOp::Eq),
                json!({"q": false}),
                vec!["beta"],
            ),
            (
                filter("q", "n", FilterOp::Gte),
                json!({"q": 2}),
                vec!["Alpha", "Gamma"],
            ),
            (
                filter("q", "created", FilterOp::Gt),
                json!({"q": "2026-01-01T12:00:00+00:00"}),
                vec!["Alpha", "Gamma"],
            ),
            (
                filter("q", "created", FilterOp::Lt),
                json!({"q": "2026-01-02"}),
                vec!["beta"],
            ),
            (
                filter("q", "name", FilterOp::In),
                json!({"q": ["beta", "Gamma"]}),
                vec!["beta", "Gamma"],
            ),
            (
                filter("q", "name", FilterOp::In),
                json!({"other": 1}),
                vec!["Alpha", "beta", "Gamma"],
            ),
        ];
        for (filter, q, expected) in cases {
            let kept = apply_filters(items(), std::slice::from_ref(&filter), &query(q.clone()));
            assert_eq!(names(&kept), expected, "{filter:?} with {q}");
        }
    }

    fn ordered(default: &[&str]) -> ListSpec {
        ListSpec {
            order: Some(Order {
                param: "o".into(),
                default: default.iter().map(|s| s.to_string()).collect(),
                fields: HashMap::from([("when".to_string(), "created".to_string())]),
            }),
            ..ListSpec::default()
        }
    }

    #[test]
    fn orders_by_named_keys_with_descending_and_aliases() {
        let spec = ordered(&["-when"]);
        let mut list = items();
        apply_order(&mut list, &spec, &Map::new());
        assert_eq!(names(&list), ["Gamma", "Alpha", "beta"]);
        apply_order(&mut list, &spec, &query(json!({"o": ["on", "-n"]})));
        assert_eq!(names(&list), ["beta", "Alpha", "Gamma"]);
    }

    #[test]
    fn pages_carry_links_and_counts() {
        let spec = ListSpec {
            paginate: Some(Paginate::Page {
                page_param: "page".into(),
                size_param: "page_size".into(),
                default_size: 10,
                max_size: 100,
                count_header: Some("X-Result-Count".into()),
                link: LinkStyle::Plain,
                empty_past_end: false,
            }),
            ..ListSpec::default()
        };
        let q = query(json!({"page": 2, "page_size": 2}));
        let raw = [
            ("page_size".to_string(), "2".to_string()),
            ("page".to_string(), "2".to_string()),
        ];
        let request = ListRequest {
            query: &q,
            raw_query: &raw,
            url: "http://h/api/projects/".into(),
            key: "id",
        };
        let page = paginate(items(), &spec, &request).expect("page 2 exists");
        assert_eq!(names(&page.items), ["Gamma"]);
        assert_eq!(page.total, 3);
        assert_eq!(
            page.headers[0],
            ("x-result-count".to_string(), "3".to_string())
        );
        assert_eq!(
            page.headers[1].1,
            "<http://h/api/projects/?page_size=2&page=1>; rel=\"first\", <http://h/api/projects/?page_size=2&page=1>; rel=\"prev\", <http://h/api/projects/?page_size=2&page=2>; rel=\"last\""
        );
        let q = query(json!({"page": 3, "page_size": 2}));
        let request = ListRequest {
            query: &q,
            ..request
        };
        assert!(paginate(items(), &spec, &request).is_err());
    }

    #[test]
    fn offsets_skip_and_limit() {
        let spec = ListSpec {
            paginate: Some(Paginate::Offset {
                limit_param: "limit".into(),
                skip_param: "skip".into(),
                default_limit: None,
                count_header: Some("X-Pagination-TotalCount".into()),
            }),
            ..ListSpec::default()
        };
        let q = query(json!({"limit": 1, "skip": 1}));
        let request = ListRequest {
            query: &q,
            raw_query: &[],
            url: String::new(),
            key: "id",
        };
        let page = paginate(items(), &spec, &request).expect("offsets always work");
        assert_eq!(names(&page.items), ["beta"]);
        assert_eq!(
            page.headers,
            [("x-pagination-totalcount".to_string(), "3".to_string())]
        );
    }
}
