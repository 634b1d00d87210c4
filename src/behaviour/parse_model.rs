//! Reads the stateful sections of a fixture (`session_header`, `vars`,
//! `collections`, `operations`) into a [`Model`], naming the line of
//! anything wrong.

use super::model::*;
use super::read::{FixtureError, Reader};
use super::template::{Expr, Template};
use crate::source::parse_duration;
use crate::source::reader::{one_or_more_names, string_list};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Names every template sees; a collection may not take one of them.
pub const RESERVED_NAMES: [&str; 18] = [
    "request", "path", "query", "header", "cookie", "body", "vars", "now", "now_us", "now_unix",
    "today", "base_url", "session", "item", "items", "total", "paging", "user",
];

impl Reader<'_> {
    pub(super) fn model(&self) -> Result<Model, FixtureError> {
        let root = &self.document.value;
        let session_header = match root.get("session_header") {
            None => Model::DEFAULT_SESSION_HEADER.to_string(),
            Some(Value::String(h)) if is_token(h) => h.to_ascii_lowercase(),
            Some(_) => {
                return Err(
                    self.invalid("/session_header", "`session_header` must be a header name")
                );
            }
        };
        let vars = match root.get("vars") {
            None => Map::new(),
            Some(Value::Object(map)) => map.clone(),
            Some(_) => {
                return Err(self.invalid("/vars", "`vars` must be a mapping of names to values"));
            }
        };
        let mut collections = Vec::new();
        if let Some(map) = root.get("collections") {
            let Value::Object(map) = map else {
                return Err(self.invalid("/collections", "expected a mapping of collection names"));
            };
            for (name, spec) in map {
                collections.push(self.collection(name, spec)?);
            }
        }
        let mut operations = foldhash::HashMap::default();
        if let Some(map) = root.get("operations") {
            let Value::Object(map) = map else {
                return Err(self.invalid(
                    "/operations",
                    "expected a mapping of operationId to behaviour",
                ));
            };
            for (id, spec) in map {
                let behaviour = self.operation(id, spec, &collections)?;
                operations.insert(id.clone(), behaviour);
            }
        }
        let access = match root.get("auth") {
            None => None,
            Some(value) => {
                let access = self.access(value)?;
                if !collections.iter().any(|c| c.name == access.users) {
                    return Err(self.invalid(
                        "/auth/users",
                        format!("no collection `{}` holds the users", access.users),
                    ));
                }
                Some(access)
            }
        };
        Ok(Model {
            session_header,
            session_header_name: Default::default(),
            vars,
            collections,
            operations,
            access,
        })
    }

    fn collection(&self, name: &str, spec: &Value) -> Result<CollectionSpec, FixtureError> {
        let pointer = format!("/collections/{}", escape(name));
        if !is_identifier(name) || RESERVED_NAMES.contains(&name) {
            return Err(self.invalid(
                &pointer,
                format!(
                    "`{name}` cannot name a collection: use letters, digits and `_`, and none of: {}",
                    RESERVED_NAMES.join(", ")
                ),
            ));
        }
        self.keys_known(
            spec,
            &pointer,
            &[
                "key",
                "generate",
                "computed",
                "ready",
                "soft_delete",
                "unique",
                "seed",
                "visible",
                "omit",
                "defaults",
                "volatile",
                "fit",
            ],
        )?;
        let key = match spec.get("key") {
            None => "id".to_string(),
            Some(Value::String(k)) => k.clone(),
            Some(_) => {
                return Err(self.invalid(&format!("{pointer}/key"), "`key` must be a field name"));
            }
        };
        let generated = self.read_entries(
            spec.get("generate"),
            &format!("{pointer}/generate"),
            "expected a mapping of field to generator",
            |e| Ok((e.key.to_string(), self.generator(e.value, &e.pointer)?)),
        )?;
        let defaults = self.templates(
            spec.get("defaults"),
            &format!("{pointer}/defaults"),
            "expected a mapping of field to value (or template)",
        )?;
        let computed = self.templates(
            spec.get("computed"),
            &format!("{pointer}/computed"),
            "expected a mapping of field to template",
        )?;
        let readiness = match spec.get("ready") {
            None => None,
            Some(ready) => Some(self.readiness(ready, &format!("{pointer}/ready"))?),
        };
        let soft_delete = match spec.get("soft_delete") {
            None => None,
            Some(soft) => {
                let at = format!("{pointer}/soft_delete");
                self.keys_known(soft, &at, &["deleted", "restored"])?;
                Some(SoftDelete {
                    deleted: self.plain_map(soft.get("deleted"), &format!("{at}/deleted"))?,
                    restored: self.plain_map(soft.get("restored"), &format!("{at}/restored"))?,
                })
            }
        };
        let unique = self.read_items(
            spec.get("unique"),
            &format!("{pointer}/unique"),
            "`unique` must be a list",
            |set, at| {
                one_or_more_names(set).ok_or_else(|| {
                    self.invalid(
                        &at,
                        "each entry of `unique` is a field name or a list of field names",
                    )
                })
            },
        )?;
        let seed = self.read_items(
            spec.get("seed"),
            &format!("{pointer}/seed"),
            "`seed` must be a list of items",
            |item, at| match item {
                Value::Object(map) => Ok(map.clone()),
                _ => Err(self.invalid(&at, "a seed item must be a mapping")),
            },
        )?;
        self.seed_keys(&seed, &key, &generated, &pointer)?;
        let volatile = match spec.get("volatile") {
            None => Vec::new(),
            Some(fields) => string_list(fields).ok_or_else(|| {
                self.invalid(
                    &format!("{pointer}/volatile"),
                    "`volatile` is a list of field names",
                )
            })?,
        };
        let visible = self.expression(spec.get("visible"), &format!("{pointer}/visible"))?;
        let omit = match spec.get("omit") {
            None => None,
            Some(omit) => Some(self.template(omit, &format!("{pointer}/omit"))?),
        };
        let fit = match spec.get("fit") {
            None => Vec::new(),
            Some(Value::Array(entries)) => entries
                .iter()
                .enumerate()
                .map(|(i, entry)| self.item_fit(entry, &format!("{pointer}/fit/{i}")))
                .collect::<Result<_, _>>()?,
            Some(entry) => vec![self.item_fit(entry, &format!("{pointer}/fit"))?],
        };
        let answers_follow_from_item =
            omit.is_none() && computed.iter().all(|(_, t)| t.reads_only(&["item"]));
        Ok(CollectionSpec {
            name: name.to_string(),
            key,
            generated,
            defaults,
            answers_follow_from_item,
            computed,
            readiness,
            soft_delete,
            unique,
            visible,
            volatile,
            omit,
            seed,
            fit,
            pointer,
        })
    }

    /// `fit: {operation: get_firewall, at: /firewall}`, or a list of them.
    fn item_fit(&self, fit: &Value, at: &str) -> Result<ItemFit, FixtureError> {
        self.keys_known(fit, at, &["operation", "at"])?;
        let Some(Value::String(operation)) = fit.get("operation") else {
            return Err(self.invalid(
                at,
                "`fit` needs `operation`: the operation whose answer shows an item",
            ));
        };
        let place = match fit.get("at") {
            None => Vec::new(),
            Some(Value::String(p)) if p.is_empty() => Vec::new(),
            Some(Value::String(p)) if p.starts_with('/') => p[1..]
                .split('/')
                .map(crate::source::reader::unescape)
                .collect(),
            Some(_) => {
                return Err(self.invalid(
                    &format!("{at}/at"),
                    "`at` is a JSON pointer to the item in the answer, such as `/firewall` (empty when the answer is the item)",
                ));
            }
        };
        Ok(ItemFit {
            operation: operation.clone(),
            at: place,
            status: 0,
            pointer: at.to_string(),
        })
    }

    fn generator(&self, how: &Value, at: &str) -> Result<Generated, FixtureError> {
        Ok(match how {
            Value::String(s) if s == "uuid" => Generated::Uuid,
            Value::String(s) if s == "uuid_hex" => Generated::UuidHex,
            Value::String(s) if s == "sequence" => Generated::Sequence,
            Value::Object(map) if map.contains_key("pattern") => {
                self.keys_known(how, at, &["pattern"])?;
                let Some(Value::String(pattern)) = map.get("pattern") else {
                    return Err(self.invalid(
                        &format!("{at}/pattern"),
                        "`pattern` must be a regular expression",
                    ));
                };
                let generator =
                    crate::generate::PatternGenerator::compile(pattern).map_err(|why| {
                        self.invalid(&format!("{at}/pattern"), format!("`pattern`: {why}"))
                    })?;
                Generated::Pattern(generator)
            }
            other => {
                let template = self.template(other, at)?;
                match template.constant() {
                    Some(value) => Generated::Constant {
                        value: value.clone(),
                        stored: crate::behaviour::compact::Encoded::of(value),
                    },
                    None => Generated::Template(template),
                }
            }
        })
    }

    fn readiness(&self, ready: &Value, at: &str) -> Result<Readiness, FixtureError> {
        self.keys_known(ready, at, &["after", "reads", "pending", "ready"])?;
        let after = match (ready.get("after"), ready.get("reads")) {
            (Some(after), None) => ReadyAfter::Millis(parse_duration(after).ok_or_else(|| {
                self.invalid(
                    &format!("{at}/after"),
                    "`after` must be a duration such as `5s`, `500ms` or `2m`",
                )
            })?),
            (None, Some(reads)) => ReadyAfter::Reads(
                reads
                    .as_u64()
                    .and_then(|n| u32::try_from(n).ok())
                    .ok_or_else(|| {
                        self.invalid(&format!("{at}/reads"), "`reads` must be a whole number")
                    })?,
            ),
            _ => {
                return Err(self.invalid(
                    at,
                    "`ready` needs exactly one of `after` (a duration) or `reads` (a count)",
                ));
            }
        };
        Ok(Readiness {
            after,
            pending: self.plain_map(ready.get("pending"), &format!("{at}/pending"))?,
            ready: self.plain_map(ready.get("ready"), &format!("{at}/ready"))?,
        })
    }

    /// Every seed item must be reachable by its key: one without it (and
    /// without a generator for it) or with a key already taken would be
    /// silently dropped from the store.
    fn seed_keys(
        &self,
        seed: &[Map<String, Value>],
        key: &str,
        generated: &[(String, Generated)],
        pointer: &str,
    ) -> Result<(), FixtureError> {
        let key_generated = generated.iter().any(|(field, _)| field == key);
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, item) in seed.iter().enumerate() {
            let at = format!("{pointer}/seed/{i}");
            let text = match item.get(key) {
                None if key_generated => continue,
                None => {
                    return Err(self.invalid(
                        &at,
                        format!("this seed item has no `{key}`, the collection's key"),
                    ));
                }
                Some(value) => super::store::key_text(value).ok_or_else(|| {
                    self.invalid(
                        &format!("{at}/{}", escape(key)),
                        format!("the key `{key}` must be a string or a number"),
                    )
                })?,
            };
            if let Some(first) = seen.insert(text.clone(), i) {
                return Err(self.invalid(
                    &format!("{at}/{}", escape(key)),
                    format!("`{key}: {text}` is already the key of seed item {first}"),
                ));
            }
        }
        Ok(())
    }

    fn operation(
        &self,
        id: &str,
        spec: &Value,
        collections: &[CollectionSpec],
    ) -> Result<OperationBehaviour, FixtureError> {
        let pointer = format!("/operations/{}", escape(id));
        self.keys_known(spec, &pointer, &["target", "checks", "rules"])?;
        let known = |name: &str, at: &str| -> Result<(), FixtureError> {
            if collections.iter().any(|c| c.name == name) {
                Ok(())
            } else {
                let names: Vec<&str> = collections.iter().map(|c| c.name.as_str()).collect();
                Err(self.invalid(
                    at,
                    if names.is_empty() {
                        format!("no collection `{name}`: the fixture declares no `collections`")
                    } else {
                        format!("no collection `{name}`; declared: {}", names.join(", "))
                    },
                ))
            }
        };
        let target = match spec.get("target") {
            None => None,
            Some(Value::String(collection)) => {
                known(collection, &format!("{pointer}/target"))?;
                Some(Target {
                    collection: collection.clone(),
                    id: None,
                    include_deleted: false,
                    required: true,
                    unknown_from_spec: false,
                })
            }
            Some(map @ Value::Object(_)) => {
                let at = format!("{pointer}/target");
                self.keys_known(
                    map,
                    &at,
                    &["collection", "id", "include_deleted", "required", "unknown"],
                )?;
                let Some(Value::String(collection)) = map.get("collection") else {
                    return Err(self.invalid(&at, "`target` needs a `collection`"));
                };
                known(collection, &format!("{at}/collection"))?;
                Some(Target {
                    collection: collection.clone(),
                    id: self.expression(map.get("id"), &format!("{at}/id"))?,
                    include_deleted: self
                        .flag(map.get("include_deleted"), &format!("{at}/include_deleted"))?,
                    required: match map.get("required") {
                        None => true,
                        Some(v) => self.flag(Some(v), &format!("{at}/required"))?,
                    },
                    unknown_from_spec: match map.get("unknown").map(|v| v.as_str()) {
                        None | Some(Some("not_found")) => false,
                        Some(Some("spec")) => true,
                        Some(_) => {
                            return Err(self.invalid(
                                &format!("{at}/unknown"),
                                "`unknown` is `not_found` (the default: a key never stored is not found) or `spec` (answered from the spec alone, as with no fixture)",
                            ));
                        }
                    },
                })
            }
            Some(_) => {
                return Err(self.invalid(
                    &format!("{pointer}/target"),
                    "`target` is a collection name or a mapping with `collection` and `id`",
                ));
            }
        };
        let Some(Value::Array(items)) = spec.get("rules") else {
            return Err(self.invalid(&pointer, "an operation needs `rules`, a list"));
        };
        let mut rules = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let rule = self.rule(item, &format!("{pointer}/rules/{i}"))?;
            if let Some(collection) = &rule.collection {
                known(collection, &format!("{}/collection", rule.pointer))?;
            }
            if rule.action.needs_collection() && rule.collection.is_none() && target.is_none() {
                return Err(self.invalid(
                    &rule.pointer,
                    "this action needs a collection: give the rule a `collection` or the operation a `target`",
                ));
            }
            rules.push(rule);
        }
        let checks = self.checks(spec.get("checks"), &format!("{pointer}/checks"))?;
        Ok(OperationBehaviour {
            operation_id: id.to_string(),
            target,
            checks,
            rules,
            pointer,
        })
    }

    fn checks(&self, value: Option<&Value>, at: &str) -> Result<Vec<Check>, FixtureError> {
        let items = match value {
            None => return Ok(Vec::new()),
            Some(Value::Array(items)) => items,
            Some(_) => return Err(self.invalid(at, "`checks` must be a list")),
        };
        let mut checks = Vec::new();
        for (i, item) in items.iter().enumerate() {
            let pointer = format!("{at}/{i}");
            self.keys_known(item, &pointer, &["field", "when", "message"])?;
            let field = match item.get("field") {
                None => String::new(),
                Some(Value::String(f)) => f.clone(),
                Some(_) => {
                    return Err(self.invalid(
                        &format!("{pointer}/field"),
                        "`field` must be the name of a body field",
                    ));
                }
            };
            let Some(when) = self.expression(item.get("when"), &format!("{pointer}/when"))? else {
                return Err(self.invalid(
                    &pointer,
                    "a check needs `when`: when the request is invalid",
                ));
            };
            let Some(message) = item.get("message") else {
                return Err(self.invalid(&pointer, "a check needs `message`"));
            };
            let message = self.template(message, &format!("{pointer}/message"))?;
            checks.push(Check {
                field,
                when,
                message,
                pointer,
            });
        }
        Ok(checks)
    }

    fn rule(&self, item: &Value, pointer: &str) -> Result<Rule, FixtureError> {
        self.keys_known(
            item,
            pointer,
            &[
                "when",
                "action",
                "collection",
                "id",
                "set",
                "filter",
                "filters",
                "include_deleted",
                "order",
                "paginate",
                "status",
                "headers",
                "body",
                "content_type",
                "undocumented",
                "replace",
            ],
        )?;
        let action = self
            .choice(
                item.get("action"),
                &format!("{pointer}/action"),
                &Action::ALL,
                "action",
            )?
            .unwrap_or(Action::Respond);
        let collection = self.text(
            item.get("collection"),
            &format!("{pointer}/collection"),
            "`collection` must be a name",
        )?;
        let list_keys = ["filter", "filters", "include_deleted", "order", "paginate"];
        if action != Action::List
            && let Some(key) = list_keys.iter().find(|k| item.get(**k).is_some())
        {
            return Err(self.invalid(
                &format!("{pointer}/{key}"),
                format!("`{key}` only applies to `action: list`"),
            ));
        }
        let replace = self.flag(item.get("replace"), &format!("{pointer}/replace"))?;
        if replace && action != Action::Update {
            return Err(self.invalid(
                &format!("{pointer}/replace"),
                "`replace` only applies to `action: update`",
            ));
        }
        let status = self.status(item, pointer)?;
        let headers = self.header_templates(
            item.get("headers"),
            &format!("{pointer}/headers"),
            "`headers` must be a mapping",
        )?;
        let content_type = self.text(
            item.get("content_type"),
            &format!("{pointer}/content_type"),
            "`content_type` must be a string",
        )?;
        Ok(Rule {
            when: self.expression(item.get("when"), &format!("{pointer}/when"))?,
            action,
            collection,
            id: self.expression(item.get("id"), &format!("{pointer}/id"))?,
            replace,
            set: match item.get("set") {
                None => None,
                Some(set) => Some(self.template(set, &format!("{pointer}/set"))?),
            },
            list: self.list_spec(item, pointer)?,
            status,
            headers,
            body: match item.get("body") {
                None => None,
                Some(body) => Some(self.template(body, &format!("{pointer}/body"))?),
            },
            content_type,
            undocumented: self
                .flag(item.get("undocumented"), &format!("{pointer}/undocumented"))?,
            pointer: pointer.to_string(),
            serial: crate::behaviour::answer_cache::next_rule_serial(),
        })
    }

    fn list_spec(&self, item: &Value, pointer: &str) -> Result<ListSpec, FixtureError> {
        let mut filters = Vec::new();
        if let Some(map) = item.get("filters") {
            let Value::Object(map) = map else {
                return Err(self.invalid(
                    &format!("{pointer}/filters"),
                    "expected a mapping of query parameter to field",
                ));
            };
            for (param, how) in map {
                let at = format!("{pointer}/filters/{}", escape(param));
                filters.push(self.query_filter(param, how, &at)?);
            }
        }
        let order = match item.get("order") {
            None => None,
            Some(order) => {
                let at = format!("{pointer}/order");
                self.keys_known(order, &at, &["param", "default", "fields"])?;
                let param = self.string_or(order.get("param"), "o", &format!("{at}/param"))?;
                let default = match order.get("default") {
                    None => Vec::new(),
                    Some(Value::String(s)) => s.split(',').map(|k| k.trim().to_string()).collect(),
                    Some(keys) => string_list(keys).ok_or_else(|| {
                        self.invalid(
                            &format!("{at}/default"),
                            "`default` is a sort key or a list of them",
                        )
                    })?,
                };
                let fields = self
                    .string_map(
                        order.get("fields"),
                        &format!("{at}/fields"),
                        "`fields` maps sort keys to fields",
                        "expected a field name",
                    )?
                    .into_iter()
                    .collect();
                Some(Ordering {
                    param,
                    default,
                    fields,
                })
            }
        };
        let paginate = match item.get("paginate") {
            None => None,
            Some(p) => Some(self.paginate(p, &format!("{pointer}/paginate"))?),
        };
        Ok(ListSpec {
            filter: self.expression(item.get("filter"), &format!("{pointer}/filter"))?,
            filters,
            include_deleted: self.expression(
                item.get("include_deleted"),
                &format!("{pointer}/include_deleted"),
            )?,
            order,
            paginate,
        })
    }

    fn query_filter(
        &self,
        param: &str,
        how: &Value,
        at: &str,
    ) -> Result<QueryFilter, FixtureError> {
        match how {
            Value::String(field) => Ok(QueryFilter {
                param: param.to_string(),
                fields: vec![field.clone()],
                op: FilterOp::Eq,
            }),
            Value::Object(map) => {
                self.keys_known(how, at, &["field", "fields", "op"])?;
                let fields = match (map.get("field"), map.get("fields")) {
                    (Some(Value::String(f)), None) => Some(vec![f.clone()]),
                    (None, Some(fields)) => string_list(fields).filter(|f| !f.is_empty()),
                    _ => None,
                };
                let Some(fields) = fields else {
                    return Err(self.invalid(
                        at,
                        "a filter needs `field` (a name) or `fields` (a list of names)",
                    ));
                };
                let op = self
                    .choice(map.get("op"), &format!("{at}/op"), &FilterOp::ALL, "filter")?
                    .unwrap_or(FilterOp::Eq);
                Ok(QueryFilter {
                    param: param.to_string(),
                    fields,
                    op,
                })
            }
            _ => Err(self.invalid(
                at,
                "a filter is a field name or a mapping with `field` and `op`",
            )),
        }
    }

    fn paginate(&self, p: &Value, at: &str) -> Result<Paginate, FixtureError> {
        let style = p.get("style").and_then(Value::as_str).unwrap_or("page");
        let count_header = match p.get("count_header") {
            None => None,
            Some(Value::String(h)) if is_token(h) => Some(h.clone()),
            Some(_) => {
                return Err(self.invalid(
                    &format!("{at}/count_header"),
                    "`count_header` must be a header name",
                ));
            }
        };
        match style {
            "page" => {
                self.keys_known(
                    p,
                    at,
                    &[
                        "style",
                        "page",
                        "size",
                        "default_size",
                        "max_size",
                        "count_header",
                        "link",
                        "past_end",
                    ],
                )?;
                Ok(Paginate::Page {
                    page_param: self.string_or(p.get("page"), "page", &format!("{at}/page"))?,
                    size_param: self.string_or(
                        p.get("size"),
                        "page_size",
                        &format!("{at}/size"),
                    )?,
                    default_size: self.count_or(
                        p.get("default_size"),
                        10,
                        &format!("{at}/default_size"),
                    )?,
                    max_size: self.count_or(p.get("max_size"), 1000, &format!("{at}/max_size"))?,
                    count_header,
                    empty_past_end: match p.get("past_end").and_then(Value::as_str) {
                        None if p.get("past_end").is_none() => false,
                        Some("not_found") => false,
                        Some("empty") => true,
                        _ => {
                            return Err(self.invalid(
                                &format!("{at}/past_end"),
                                "`past_end` is `not_found` (a 404, the default) or `empty`",
                            ));
                        }
                    },
                    link: match p.get("link") {
                        None | Some(Value::Bool(true)) => LinkStyle::Plain,
                        Some(Value::Bool(false)) => LinkStyle::None,
                        Some(Value::String(s)) if s == "django" => LinkStyle::Django,
                        Some(_) => {
                            return Err(self.invalid(
                                &format!("{at}/link"),
                                "`link` is true, false or `django`",
                            ));
                        }
                    },
                })
            }
            "offset" => {
                self.keys_known(
                    p,
                    at,
                    &["style", "limit", "skip", "default_limit", "count_header"],
                )?;
                Ok(Paginate::Offset {
                    limit_param: self.string_or(p.get("limit"), "limit", &format!("{at}/limit"))?,
                    skip_param: self.string_or(p.get("skip"), "skip", &format!("{at}/skip"))?,
                    default_limit: match p.get("default_limit") {
                        None => None,
                        v => Some(self.count_or(v, 0, &format!("{at}/default_limit"))?),
                    },
                    count_header,
                })
            }
            "cursor" => {
                self.keys_known(
                    p,
                    at,
                    &["style", "cursor", "limit", "default_limit", "max_limit"],
                )?;
                Ok(Paginate::Cursor {
                    cursor_param: self.string_or(
                        p.get("cursor"),
                        "starting_after",
                        &format!("{at}/cursor"),
                    )?,
                    limit_param: self.string_or(p.get("limit"), "limit", &format!("{at}/limit"))?,
                    default_limit: self.count_or(
                        p.get("default_limit"),
                        10,
                        &format!("{at}/default_limit"),
                    )?,
                    max_limit: self.count_or(
                        p.get("max_limit"),
                        1000,
                        &format!("{at}/max_limit"),
                    )?,
                })
            }
            other => Err(self.invalid(
                &format!("{at}/style"),
                format!(
                    "unknown pagination style `{other}`; expected `page`, `offset` or `cursor`"
                ),
            )),
        }
    }

    pub(super) fn template(&self, value: &Value, at: &str) -> Result<Template, FixtureError> {
        Template::new(value.clone(), at).map_err(|(inner, e)| {
            self.invalid(&format!("{at}{inner}"), format!("template error: {e}"))
        })
    }

    /// An optional expression string, compiled once to check it.
    pub(super) fn expression(
        &self,
        value: Option<&Value>,
        at: &str,
    ) -> Result<Option<Expr>, FixtureError> {
        match value {
            None => Ok(None),
            Some(Value::String(source)) => Expr::compile(source)
                .map(Some)
                .map_err(|e| self.invalid(at, format!("expression does not compile: {e}"))),
            Some(_) => Err(self.invalid(at, "expected an expression (a string)")),
        }
    }

    fn flag(&self, value: Option<&Value>, at: &str) -> Result<bool, FixtureError> {
        match value {
            None => Ok(false),
            Some(Value::Bool(b)) => Ok(*b),
            Some(_) => Err(self.invalid(at, "expected `true` or `false`")),
        }
    }

    fn string_or(
        &self,
        value: Option<&Value>,
        default: &str,
        at: &str,
    ) -> Result<String, FixtureError> {
        match value {
            None => Ok(default.to_string()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(_) => Err(self.invalid(at, "expected a name")),
        }
    }

    fn count_or(
        &self,
        value: Option<&Value>,
        default: usize,
        at: &str,
    ) -> Result<usize, FixtureError> {
        match value {
            None => Ok(default),
            Some(v) => v
                .as_u64()
                .filter(|n| *n > 0)
                .and_then(|n| usize::try_from(n).ok())
                .ok_or_else(|| self.invalid(at, "expected a whole number above 0")),
        }
    }

    fn plain_map(
        &self,
        value: Option<&Value>,
        at: &str,
    ) -> Result<Map<String, Value>, FixtureError> {
        match value {
            None => Ok(Map::new()),
            Some(Value::Object(map)) => Ok(map.clone()),
            Some(_) => Err(self.invalid(at, "expected a mapping of fields to values")),
        }
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_token(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

impl Reader<'_> {
    /// The optional mapping at `pointer` of header names (lower-cased) to
    /// templates, in file order.
    pub(super) fn header_templates(
        &self,
        value: Option<&Value>,
        pointer: &str,
        not_a_mapping: &str,
    ) -> Result<Vec<(String, Template)>, FixtureError> {
        let mut headers = self.templates(value, pointer, not_a_mapping)?;
        for (name, _) in &mut headers {
            name.make_ascii_lowercase();
        }
        Ok(headers)
    }

    /// The optional name at `pointer`, one of `choices` (`what` names
    /// them in the complaint: "unknown action `x`").
    fn choice<T: Copy>(
        &self,
        value: Option<&Value>,
        pointer: &str,
        choices: &[(&str, T)],
        what: &str,
    ) -> Result<Option<T>, FixtureError> {
        let name = match value {
            None => return Ok(None),
            Some(Value::String(name)) => name,
            Some(_) => {
                let key = pointer.rsplit('/').next().unwrap_or(what);
                return Err(self.invalid(pointer, format!("`{key}` must be a name")));
            }
        };
        match choices.iter().find(|(n, _)| n == name) {
            Some((_, chosen)) => Ok(Some(*chosen)),
            None => {
                let names: Vec<&str> = choices.iter().map(|(n, _)| *n).collect();
                Err(self.invalid(
                    pointer,
                    format!(
                        "unknown {what} `{name}`; expected one of: {}",
                        names.join(", ")
                    ),
                ))
            }
        }
    }

    /// The optional mapping at `pointer` of names to templates, in file order.
    pub(super) fn templates(
        &self,
        value: Option<&Value>,
        pointer: &str,
        not_a_mapping: &str,
    ) -> Result<Vec<(String, Template)>, FixtureError> {
        self.read_entries(value, pointer, not_a_mapping, |e| {
            Ok((e.key.to_string(), self.template(e.value, &e.pointer)?))
        })
    }
}

use crate::source::reader::escape;
