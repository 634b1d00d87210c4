//! Response templates: a YAML/JSON value whose strings are minijinja.
//!
//! A string that is one expression and nothing else (`"{{ missing }}"`)
//! becomes that expression's value with its type (a list stays a list); any
//! other string with `{{`/`{%` is rendered as text. Everything else is
//! copied. A mapping `{$each: <expr>, as: <name>, yield: <template>}` becomes
//! a list: `yield` rendered once per item of the expression's list, with the
//! item bound to `as` (default `item`). This keeps a body's shape readable in
//! the fixture while letting any part of it depend on the request.

use super::simple_expr::Simple;
use minijinja::{Environment, Expression, Value as JinjaValue};
use serde_json::{Map, Value};
use std::sync::{Arc, OnceLock};

/// A template compiled at load: rendering runs what was checked.
#[derive(Debug, Clone)]
pub struct Template {
    root: Node,
    /// What [`Template::item_fields`] answers, worked out on first use.
    item_fields: OnceLock<Option<Box<[String]>>>,
}

/// A template that failed to evaluate (out of fuel, a filter given the
/// wrong type, a loop over a number): a bug in the fixture, answered as
/// such rather than sent as if it were the API's data.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the template at {at} failed: {message}")]
pub struct RenderError {
    /// Where in the fixture the failing part is (a JSON pointer).
    pub at: String,
    pub message: String,
}

impl RenderError {
    fn new(at: &str, error: minijinja::Error) -> Self {
        Self {
            at: at.to_string(),
            message: error.to_string(),
        }
    }
}

/// A template taken apart and compiled once at load, so rendering never
/// looks at a string twice to learn what it is. Parts with no template in
/// them are kept whole as constants.
#[derive(Debug, Clone)]
enum Node {
    Constant(Value),
    /// `"{{ expr }}"`: the expression's value, with its type.
    Expression {
        expression: Expr,
        at: Arc<str>,
    },
    /// Any other string with `{{`/`{%`: rendered as text.
    Text {
        template: Arc<TextTemplate>,
        at: Arc<str>,
    },
    Array(Vec<Node>),
    Object(Vec<(String, Node)>),
    Each {
        expression: Expr,
        name: String,
        body: Box<Node>,
        at: Arc<str>,
    },
}

/// An entry of a mapping template, as [`Template::render_entries`] hands
/// it over.
pub enum Entry<'t> {
    /// The name path the entry only looks up, before it is looked up.
    Lookup(&'t [String]),
    Value(Value),
}

impl Template {
    /// Compiles every string of `value`, found at `at` in its fixture,
    /// against the one [`environment`]; an error names the pointer below
    /// `at` (its keys escaped, so a key with `/` still leads to its line)
    /// and says why.
    pub fn new(value: Value, at: &str) -> Result<Self, (String, String)> {
        Ok(Self {
            root: Node::compile(value, at, &mut String::new())?,
            item_fields: OnceLock::new(),
        })
    }

    /// Renders with `context`; an evaluation error names the part of the
    /// template that failed.
    pub fn render(&self, context: &JinjaValue) -> Result<Value, RenderError> {
        self.root.render(context)
    }

    /// [`Self::render`], reading each `{{ name.path }}` with `direct` first
    /// and building the template context (`context`) only for what it
    /// cannot answer: most templates of a create are such lookups
    /// (`{{ body.name }}`, `{{ item.id }}`, `{{ now }}`), and the context
    /// cost more than they do.
    pub fn render_direct(
        &self,
        direct: &dyn Fn(&[String]) -> Option<Value>,
        context: &dyn Fn() -> JinjaValue,
    ) -> Result<Value, RenderError> {
        let built = std::cell::OnceCell::new();
        self.root
            .render_direct(direct, &|| built.get_or_init(context).clone())
    }

    /// Whether the template is a mapping written out (`{a: …, b: …}`),
    /// whose entries [`Self::render_entries`] renders one by one.
    pub fn is_mapping(&self) -> bool {
        matches!(self.root, Node::Object(_))
    }

    /// The entries of a mapping template, each rendered as
    /// [`Self::render_direct`] renders it inside the mapping and handed to
    /// `each` in order, without collecting them into a map: a create
    /// writes them straight into the new item. An entry that only looks a
    /// name path up (`"{{ item.id }}"`) is offered to `each` as that path
    /// first, and rendered only if `each` declines it (returns `false`):
    /// a create copies such a field of a stored item as it is stored.
    /// Nothing, for a template that is not a mapping.
    pub fn render_entries<'t>(
        &'t self,
        direct: &dyn Fn(&[String]) -> Option<Value>,
        context: &dyn Fn() -> JinjaValue,
        each: &mut dyn FnMut(&'t str, Entry<'t>) -> bool,
    ) -> Result<(), RenderError> {
        let Node::Object(entries) = &self.root else {
            return Ok(());
        };
        let built = std::cell::OnceCell::new();
        let context = || built.get_or_init(context).clone();
        for (name, node) in entries {
            if let Some(path) = node.lookup_path()
                && each(name, Entry::Lookup(path))
            {
                continue;
            }
            each(name, Entry::Value(node.render_direct(direct, &context)?));
        }
        Ok(())
    }

    /// The name path the template only looks up (`"{{ now }}"`,
    /// `"{{ item.id }}"`), if that is all it is.
    pub fn lookup_path(&self) -> Option<&[String]> {
        self.root.lookup_path()
    }

    /// Whether every name the template reads is one of `allowed`: what
    /// decides if its value follows from those alone.
    pub fn reads_only(&self, allowed: &[&str]) -> bool {
        let mut names = std::collections::HashSet::new();
        self.root.names(&mut names);
        names.iter().all(|name| allowed.contains(&name.as_str()))
    }

    /// The fields of `item` the template reads, when it reads `item` only
    /// field by field (`item.id`, `item.owner.name` reads `owner`);
    /// `None` when it reads the whole item, or in a way names cannot tell
    /// (`item[key]`, `item.get(…)`, a `$each`).
    pub fn item_fields(&self) -> Option<&[String]> {
        self.item_fields
            .get_or_init(|| {
                let mut fields = Vec::new();
                self.root
                    .item_fields(&mut fields)
                    .then(|| fields.into_boxed_slice())
            })
            .as_deref()
    }

    /// The value, when nothing in it is a template: callers can skip
    /// building a context for it.
    pub fn constant(&self) -> Option<&Value> {
        match &self.root {
            Node::Constant(value) => Some(value),
            _ => None,
        }
    }
}

/// An expression compiled once, at load, against the one [`environment`]:
/// a fixture's conditions and keys (`when`, `id`, `filter`, `visible`) and
/// the `{{ … }}` of its templates.
#[derive(Clone)]
pub struct Expr {
    source: Arc<str>,
    /// The names, when the expression is only lookups by name: evaluated
    /// without starting the template machine.
    path: Option<Vec<String>>,
    /// The expression in the small grammar evaluated without minijinja
    /// (mapping literals, `~` joins), when it is in it and not a path.
    simple: Option<Arc<Simple>>,
    compiled: Arc<Expression<'static, 'static>>,
}

impl std::fmt::Debug for Expr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Expr({:?})", self.source)
    }
}

impl Expr {
    /// Compiles `source` (a bare expression, or one wrapped in `{{ }}`).
    pub fn compile(source: &str) -> Result<Self, minijinja::Error> {
        let inner = source.trim();
        let inner = inner
            .strip_prefix("{{")
            .and_then(|e| e.strip_suffix("}}"))
            .unwrap_or(inner)
            .trim();
        let compiled = environment().compile_expression_owned(inner.to_string())?;
        let path: Option<Vec<String>> =
            parse_path(inner).map(|names| names.into_iter().map(str::to_string).collect());
        let simple = match path {
            Some(_) => None,
            None => Simple::parse(inner).map(Arc::new),
        };
        Ok(Self {
            source: inner.into(),
            path,
            simple,
            compiled: Arc::new(compiled),
        })
    }

    /// The expression as written (without `{{ }}`).
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The names looked up, when the expression is only a name and
    /// lookups by name (`path.serverId` is `["path", "serverId"]`).
    pub fn lookup_names(&self) -> Option<&[String]> {
        self.path.as_deref()
    }

    fn eval(&self, context: &JinjaValue) -> Result<JinjaValue, minijinja::Error> {
        if let Some(value) = self
            .path
            .as_deref()
            .and_then(|names| lookup(names, context))
        {
            return Ok(value);
        }
        self.compiled.eval(context)
    }

    /// Whether the condition holds.
    pub fn holds(&self, context: &JinjaValue) -> Result<bool, minijinja::Error> {
        self.eval(context).map(|v| v.is_true())
    }

    /// The expression's value as JSON (`null` when undefined).
    pub fn evaluate(&self, context: &JinjaValue) -> Result<Value, minijinja::Error> {
        let value = self.eval(context)?;
        if value.is_undefined() || value.is_none() {
            return Ok(Value::Null);
        }
        serde_json::to_value(&value).map_err(|e| {
            minijinja::Error::new(minijinja::ErrorKind::BadSerialization, e.to_string())
        })
    }
}

/// A text template with `{{ }}` and `{% %}` (a message built from parts):
/// compiled at load into an environment of its own that owns the text, so
/// it lives exactly as long as its fixture (minijinja's templates borrow
/// their source, which a process-wide environment could only do for text
/// kept for ever).
pub struct TextTemplate {
    env: Environment<'static>,
}

impl TextTemplate {
    /// minijinja's own name for a template read from a string, as errors show it.
    const NAME: &'static str = "<string>";

    fn compile(text: String) -> Result<Self, minijinja::Error> {
        let mut env = configured(Environment::new());
        env.add_template_owned(Self::NAME, text)?;
        Ok(Self { env })
    }

    fn render(&self, context: &JinjaValue) -> Result<String, minijinja::Error> {
        self.env.get_template(Self::NAME)?.render(context)
    }

    /// The names the template reads; with `nested`, dotted down to what
    /// is looked up in them (`item.id`).
    fn names(&self, nested: bool) -> Option<std::collections::HashSet<String>> {
        self.env
            .get_template(Self::NAME)
            .ok()
            .map(|t| t.undeclared_variables(nested))
    }
}

impl std::fmt::Debug for TextTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let source = self
            .env
            .get_template(Self::NAME)
            .map(|t| t.source().to_string());
        write!(f, "TextTemplate({source:?})")
    }
}

impl Node {
    /// Compiles `value`; `pointer` is where it is below `base`, the
    /// template's place in its fixture.
    fn compile(value: Value, base: &str, pointer: &mut String) -> Result<Node, (String, String)> {
        let fail = |pointer: &str, e: String| (pointer.to_string(), e);
        let at = |pointer: &str| Arc::from(format!("{base}{pointer}"));
        Ok(match value {
            Value::String(text) => match whole_expression(&text) {
                Some(expression) => Node::Expression {
                    expression: Expr::compile(expression)
                        .map_err(|e| fail(pointer, e.to_string()))?,
                    at: at(pointer),
                },
                None if is_template(&text) => Node::Text {
                    template: Arc::new(
                        TextTemplate::compile(text).map_err(|e| fail(pointer, e.to_string()))?,
                    ),
                    at: at(pointer),
                },
                None => Node::Constant(Value::String(text)),
            },
            Value::Array(items) => {
                let mut nodes = Vec::with_capacity(items.len());
                for (i, item) in items.into_iter().enumerate() {
                    let len = pointer.len();
                    pointer.push_str(&format!("/{i}"));
                    nodes.push(Node::compile(item, base, pointer)?);
                    pointer.truncate(len);
                }
                match nodes.iter().all(Node::is_constant) {
                    true => Node::Constant(Value::Array(
                        nodes.into_iter().map(Node::into_constant).collect(),
                    )),
                    false => Node::Array(nodes),
                }
            }
            Value::Object(map) if map.contains_key("$each") => {
                let each = each_parts(&map).map_err(|e| fail(pointer, e.to_string()))?;
                let expression = Expr::compile(each.expression)
                    .map_err(|e| fail(&format!("{pointer}/$each"), e.to_string()))?;
                let name = each.name.to_string();
                let len = pointer.len();
                pointer.push_str("/yield");
                let body = Node::compile(each.body.clone(), base, pointer)?;
                pointer.truncate(len);
                Node::Each {
                    expression,
                    name,
                    body: Box::new(body),
                    at: at(&format!("{pointer}/$each")),
                }
            }
            Value::Object(map) => {
                let mut nodes = Vec::with_capacity(map.len());
                for (key, value) in map {
                    let len = pointer.len();
                    pointer.push('/');
                    pointer.push_str(&crate::source::reader::escape(&key));
                    nodes.push((key, Node::compile(value, base, pointer)?));
                    pointer.truncate(len);
                }
                match nodes.iter().all(|(_, n)| n.is_constant()) {
                    true => Node::Constant(Value::Object(
                        nodes
                            .into_iter()
                            .map(|(k, n)| (k, n.into_constant()))
                            .collect(),
                    )),
                    false => Node::Object(nodes),
                }
            }
            other => Node::Constant(other),
        })
    }

    fn is_constant(&self) -> bool {
        matches!(self, Node::Constant(_))
    }

    /// Adds the names the node reads from its context to `names`.
    fn names(&self, names: &mut std::collections::HashSet<String>) {
        match self {
            Node::Constant(_) => {}
            Node::Expression { expression, .. } => {
                names.extend(expression.compiled.undeclared_variables(false));
            }
            Node::Text { template, .. } => names.extend(template.names(false).unwrap_or_default()),
            Node::Array(nodes) => nodes.iter().for_each(|n| n.names(names)),
            Node::Object(nodes) => nodes.iter().for_each(|(_, n)| n.names(names)),
            Node::Each {
                expression,
                name,
                body,
                ..
            } => {
                names.extend(expression.compiled.undeclared_variables(false));
                let mut inner = std::collections::HashSet::new();
                body.names(&mut inner);
                inner.remove(name);
                names.extend(inner);
            }
        }
    }

    /// Adds the fields of `item` the node reads to `fields`; `false` when
    /// it reads `item` other than field by field.
    fn item_fields(&self, fields: &mut Vec<String>) -> bool {
        match self {
            Node::Constant(_) => true,
            Node::Expression { expression, .. } => match expression.path.as_deref() {
                Some([root, field, ..]) if root == "item" => {
                    fields.push(field.clone());
                    true
                }
                Some([root]) if root == "item" => false,
                Some(_) => true,
                None => item_fields_of(expression.compiled.undeclared_variables(true), fields),
            },
            Node::Text { template, .. } => template
                .names(true)
                .is_some_and(|names| item_fields_of(names, fields)),
            Node::Array(nodes) => nodes.iter().all(|n| n.item_fields(fields)),
            Node::Object(nodes) => nodes.iter().all(|(_, n)| n.item_fields(fields)),
            Node::Each { .. } => false,
        }
    }

    fn into_constant(self) -> Value {
        match self {
            Node::Constant(value) => value,
            _ => Value::Null,
        }
    }

    fn lookup_path(&self) -> Option<&[String]> {
        match self {
            Node::Expression { expression, .. } => expression.path.as_deref(),
            _ => None,
        }
    }

    fn render_direct(
        &self,
        direct: &dyn Fn(&[String]) -> Option<Value>,
        context: &dyn Fn() -> JinjaValue,
    ) -> Result<Value, RenderError> {
        Ok(match self {
            Node::Constant(value) => value.clone(),
            Node::Expression { expression, .. } => {
                let looked_up = match (&expression.path, &expression.simple) {
                    (Some(names), _) => direct(names),
                    (None, Some(simple)) => simple.evaluate(direct),
                    (None, None) => None,
                };
                match looked_up {
                    Some(value) => value,
                    None => self.render(&context())?,
                }
            }
            Node::Array(nodes) => Value::Array(
                nodes
                    .iter()
                    .map(|n| n.render_direct(direct, context))
                    .collect::<Result<_, _>>()?,
            ),
            Node::Object(nodes) => Value::Object(
                nodes
                    .iter()
                    .map(|(k, n)| Ok((k.clone(), n.render_direct(direct, context)?)))
                    .collect::<Result<_, RenderError>>()?,
            ),
            Node::Text { .. } | Node::Each { .. } => self.render(&context())?,
        })
    }

    fn render(&self, context: &JinjaValue) -> Result<Value, RenderError> {
        Ok(match self {
            Node::Constant(value) => value.clone(),
            Node::Expression { expression, at } => expression
                .eval(context)
                .map(|v| serde_json::to_value(&v).unwrap_or(Value::Null))
                .map_err(|e| RenderError::new(at, e))?,
            Node::Text { template, at } => Value::String(
                template
                    .render(context)
                    .map_err(|e| RenderError::new(at, e))?,
            ),
            Node::Array(nodes) => Value::Array(
                nodes
                    .iter()
                    .map(|n| n.render(context))
                    .collect::<Result<_, _>>()?,
            ),
            Node::Object(nodes) => Value::Object(
                nodes
                    .iter()
                    .map(|(k, n)| Ok((k.clone(), n.render(context)?)))
                    .collect::<Result<_, RenderError>>()?,
            ),
            Node::Each {
                expression,
                name,
                body,
                at,
            } => {
                let items: Vec<JinjaValue> = expression
                    .eval(context)
                    .and_then(|l| l.try_iter().map(|i| i.collect()))
                    .map_err(|e| RenderError::new(at, e))?;
                Value::Array(
                    items
                        .into_iter()
                        .map(|item| {
                            let binding = JinjaValue::from(std::collections::BTreeMap::from([(
                                name.clone(),
                                item,
                            )]));
                            let scope = minijinja::context! { ..binding, ..context.clone() };
                            body.render(&scope)
                        })
                        .collect::<Result<_, _>>()?,
                )
            }
        })
    }
}

/// [`Node::item_fields`] from minijinja's names, nested ones dotted
/// (`item.id`): a bare `item`, or a name of a mapping's own methods, is not
/// a field read.
fn item_fields_of(names: std::collections::HashSet<String>, fields: &mut Vec<String>) -> bool {
    for name in names {
        if name == "item" {
            return false;
        }
        if let Some(rest) = name.strip_prefix("item.") {
            let field = rest.split('.').next().unwrap_or(rest);
            if matches!(field, "get" | "items" | "keys" | "values") {
                return false;
            }
            fields.push(field.to_string());
        }
    }
    true
}

/// The expression of a string that is exactly `{{ expr }}`.
fn whole_expression(text: &str) -> Option<&str> {
    let inner = text.trim().strip_prefix("{{")?.strip_suffix("}}")?;
    (!inner.contains("{{") && !inner.contains("}}")).then_some(inner.trim())
}

fn is_template(text: &str) -> bool {
    text.contains("{{") || text.contains("{%")
}

struct Each<'a> {
    expression: &'a str,
    name: &'a str,
    body: &'a Value,
}

/// What is wrong with a `$each` block.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
enum EachError {
    #[error("unknown key `{0}` next to `$each`; expected `as` and `yield`")]
    UnknownKey(String),
    #[error("`$each` must be an expression string")]
    NotExpression,
    #[error("`as` must be a name")]
    NotName,
    #[error("`$each` needs a `yield` template")]
    NoYield,
}

fn each_parts(map: &Map<String, Value>) -> Result<Each<'_>, EachError> {
    if let Some(key) = map
        .keys()
        .find(|key| !matches!(key.as_str(), "$each" | "as" | "yield"))
    {
        return Err(EachError::UnknownKey(key.clone()));
    }
    let expression = map
        .get("$each")
        .and_then(Value::as_str)
        .ok_or(EachError::NotExpression)?;
    let name = match map.get("as") {
        None => "item",
        Some(Value::String(n)) => n.as_str(),
        Some(_) => return Err(EachError::NotName),
    };
    let body = map.get("yield").ok_or(EachError::NoYield)?;
    Ok(Each {
        expression,
        name,
        body,
    })
}

/// Any serialisable value as a template value (context, filter results).
pub fn jinja_value<T: serde::Serialize>(value: T) -> JinjaValue {
    JinjaValue::from(minijinja::value::Serde(value))
}

/// The one template environment: builtins plus understudy's filters. It
/// holds nothing of any fixture, so every fixture shares it, and templates
/// compiled against it can be kept for the life of the process.
pub fn environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| configured(Environment::new()))
}

/// The work one evaluation of a fixture's expression or template may do:
/// about one unit per instruction and per 64 bytes it creates, so a
/// million is a second or so of work and some 64 MB at most. A template
/// that loops over `range(100000)` twice runs out instead of holding a
/// worker thread for ever (`--template-fuel`).
pub const DEFAULT_FUEL: u64 = 1_000_000;

static FUEL: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(DEFAULT_FUEL);

/// Sets the fuel of every template compiled from now on (the CLI's
/// `--template-fuel`, set once at start).
pub fn set_fuel(fuel: u64) {
    FUEL.store(fuel, std::sync::atomic::Ordering::Relaxed);
}

/// Builtins plus understudy's filters and functions, with the fuel budget.
fn configured(mut env: Environment<'static>) -> Environment<'static> {
    env.set_fuel(Some(FUEL.load(std::sync::atomic::Ordering::Relaxed)));
    env.add_filter("group_by_field", group_by_field);
    env.add_filter("last_segment", last_segment);
    env.add_filter("flatten", flatten);
    env.add_filter("merge", merge);
    env.add_filter("slugify", slugify);
    env.add_filter("pick", pick);
    env.add_function("uuid", new_uuid);
    env
}

/// The names of a name-and-lookups expression, or `None` for any other.
fn parse_path(source: &str) -> Option<Vec<&str>> {
    const LITERALS: [&str; 6] = ["true", "false", "none", "True", "False", "None"];
    let (first, mut rest) = split_name(source.trim())?;
    if LITERALS.contains(&first) {
        return None;
    }
    let mut names = vec![first];
    while !rest.is_empty() {
        let name;
        (name, rest) = match rest.strip_prefix('.') {
            Some(after) => split_name(after)?,
            None => split_subscript(rest)?,
        };
        names.push(name);
    }
    Some(names)
}

/// The value of an expression that is only a name and lookups by name
/// (`item.id`, `path["serverId"]`, `now`), found without starting the
/// template machine. Most fixture expressions are like that, and the
/// machine costs more than the lookup. `None` hands anything else, and any
/// path through something that is not a mapping or that ends undefined, to
/// minijinja, so results and errors are minijinja's own.
fn lookup<S: AsRef<str>>(names: &[S], context: &JinjaValue) -> Option<JinjaValue> {
    let mut value = context.clone();
    for name in names {
        if value.kind() != minijinja::value::ValueKind::Map {
            return None;
        }
        value = value.get_attr(name.as_ref()).ok()?;
    }
    // Undefined here may still be a global (`range`) or a method: ask minijinja.
    (!value.is_undefined()).then_some(value)
}

/// An identifier at the start of `text`, and what follows it.
fn split_name(text: &str) -> Option<(&str, &str)> {
    let end = text
        .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    let name = &text[..end];
    name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        .then_some((name, &text[end..]))
}

/// A `["key"]` or `['key']` subscript with a plain string at the start of
/// `text`, and what follows it.
fn split_subscript(text: &str) -> Option<(&str, &str)> {
    let inner = text.strip_prefix('[')?;
    let quote = inner.chars().next().filter(|c| matches!(c, '"' | '\''))?;
    let inner = &inner[1..];
    let end = inner.find(quote)?;
    let key = &inner[..end];
    let after = inner[end + 1..].strip_prefix(']')?;
    (!key.contains(['\\', '"', '\''])).then_some((key, after))
}

/// `[[1, 2], [3]] | flatten` is `[1, 2, 3]`: lists of lists, one level.
fn flatten(lists: JinjaValue) -> Result<JinjaValue, minijinja::Error> {
    let mut flat = Vec::new();
    for item in lists.try_iter()? {
        match item.try_iter() {
            Ok(inner) if item.kind() == minijinja::value::ValueKind::Seq => flat.extend(inner),
            _ => flat.push(item),
        }
    }
    Ok(JinjaValue::from(flat))
}

/// `body | merge({'modified': now})`: the first mapping with the second's
/// keys written over it, for "the request body plus server-set fields".
fn merge(base: JinjaValue, over: JinjaValue) -> Result<JinjaValue, minijinja::Error> {
    let as_map = |v: &JinjaValue| -> Result<Map<String, Value>, minijinja::Error> {
        match serde_json::to_value(v) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(Value::Null) => Ok(Map::new()),
            _ => Err(minijinja::Error::new(
                minijinja::ErrorKind::InvalidOperation,
                "merge works on mappings",
            )),
        }
    };
    let mut merged = as_map(&base)?;
    merged.extend(as_map(&over)?);
    Ok(jinja_value(merged))
}

/// `uuid()`: a fresh random UUID, for ids a template makes itself.
fn new_uuid() -> String {
    use rand::SeedableRng;
    thread_local! {
        static RNG: std::cell::RefCell<rand::rngs::StdRng> = std::cell::RefCell::new(
            rand::rngs::StdRng::seed_from_u64(
                crate::behaviour::clock::real_now_ms() as u64
                    ^ (std::process::id() as u64) << 32
            ),
        );
    }
    RNG.with(|rng| crate::generate::random_uuid(&mut *rng.borrow_mut()))
}

/// `user | pick(['uuid', 'username'])`: the mapping with only those keys,
/// in that order (a field selection, such as Waldur's `?field=uuid`).
fn pick(value: JinjaValue, keys: JinjaValue) -> Result<JinjaValue, minijinja::Error> {
    let Ok(Value::Object(map)) = serde_json::to_value(&value) else {
        return Err(minijinja::Error::new(
            minijinja::ErrorKind::InvalidOperation,
            "pick works on a mapping",
        ));
    };
    let keys: Vec<String> = match serde_json::to_value(&keys) {
        Ok(Value::Array(keys)) => keys
            .into_iter()
            .filter_map(|k| k.as_str().map(String::from))
            .collect(),
        Ok(Value::String(key)) => vec![key],
        _ => Vec::new(),
    };
    let picked: Map<String, Value> = keys
        .iter()
        .filter_map(|k| map.get(k).map(|v| (k.clone(), v.clone())))
        .collect();
    Ok(jinja_value(picked))
}

/// `"Genomics Lab!" | slugify` is `"genomics-lab"`, as Django's `slugify`
/// writes it: accents folded to ASCII, anything but letters, digits,
/// `_`, `-` and spaces dropped, runs of spaces and dashes made one dash.
fn slugify(text: String) -> String {
    use unicode_normalization::UnicodeNormalization;
    let folded: String = text
        .nfkd()
        .filter(char::is_ascii)
        .collect::<String>()
        .to_lowercase();
    let kept: String = folded
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-') || c.is_whitespace())
        .collect();
    let mut slug = String::with_capacity(kept.len());
    let mut in_run = false;
    for c in kept.chars() {
        if c == '-' || c.is_whitespace() {
            in_run = true;
            continue;
        }
        if in_run && !slug.is_empty() {
            slug.push('-');
        }
        in_run = false;
        slug.push(c);
    }
    slug.trim_matches(['-', '_']).to_string()
}

/// `"https://h/api/customers/4f1c/" | last_segment` is `"4f1c"`: the id at
/// the end of a hyperlink, for APIs that reference resources by URL.
fn last_segment(text: String) -> String {
    let path = text.split(['?', '#']).next().unwrap_or("");
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_string()
}

/// `violations | group_by_field("non_field_errors")`: messages keyed by their
/// field, those about the whole body under the given key (DRF's shape).
fn group_by_field(
    violations: JinjaValue,
    root_key: Option<String>,
) -> Result<JinjaValue, minijinja::Error> {
    let root_key = root_key.unwrap_or_else(|| "non_field_errors".to_string());
    let mut grouped: Map<String, Value> = Map::new();
    let list: Vec<Value> = serde_json::to_value(&violations)
        .ok()
        .and_then(|v| v.as_array().cloned())
        .unwrap_or_default();
    for violation in list {
        let field = violation
            .get("field")
            .and_then(Value::as_str)
            .filter(|f| !f.is_empty())
            .unwrap_or(&root_key)
            .to_string();
        let message = violation.get("message").cloned().unwrap_or(Value::Null);
        if let Value::Array(messages) = grouped
            .entry(field)
            .or_insert_with(|| Value::Array(Vec::new()))
        {
            messages.push(message);
        }
    }
    Ok(jinja_value(&grouped))
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_fields_of_item_a_template_reads_are_known_unless_it_reads_the_whole() {
        let fields = |value: serde_json::Value| {
            let template = super::Template::new(value, "/t").expect("compiles");
            template.item_fields().map(|f| {
                let mut f = f.to_vec();
                f.sort();
                f
            })
        };
        use serde_json::json;
        assert_eq!(
            fields(
                json!({"id": "{{ item.id }}", "n": "{{ item.owner.name }}", "b": "{{ body.x }}"})
            ),
            Some(vec!["id".to_string(), "owner".to_string()])
        );
        assert_eq!(
            fields(json!({"m": "{{ {'a': 'x' ~ item.code} }}", "t": "#{{ item.seq }}"})),
            Some(vec!["code".to_string(), "seq".to_string()])
        );
        for whole in [
            json!("{{ item }}"),
            json!("{{ item | tojson }}"),
            json!("{{ item.get('phase') }}"),
            json!("{{ item[body.key] }}"),
            json!({"$each": "items", "yield": "{{ item.id }}"}),
        ] {
            assert_eq!(fields(whole.clone()), None, "{whole}");
        }
    }

    /// The shortcut [`Expr`] takes for name-and-lookups expressions.
    fn lookup_path(source: &str, context: &JinjaValue) -> Option<JinjaValue> {
        lookup(&parse_path(source)?, context)
    }

    #[test]
    fn a_dotted_name_reads_the_same_with_and_without_the_shortcut() {
        let context = minijinja::context! {
            item => jinja_value(serde_json::json!({"id": "p1", "owner": {"name": "ann"}, "n": null, "list": [1]})),
            flag => true,
        };
        for source in [
            "item.id",
            " item.owner.name ",
            "item.n",
            "item.missing",
            "flag",
            "item",
            "true",
            "none",
            "range",
            "item.list.0",
            "item.id.upper",
            "item.missing.deeper",
            "item.list",
            "nothing",
            "item['id']",
            "item[\"owner\"].name",
            "item['owner']['name']",
            "item['missing']",
            "item[0]",
            "item['id'",
            "item.",
            "item..id",
            "item['a\\'b']",
            "item.id + 'x'",
            "item ['id']",
        ] {
            let quick = lookup_path(source, &context);
            let full = environment()
                .compile_expression(source)
                .and_then(|e| e.eval(&context));
            match (quick, full) {
                (Some(quick), Ok(full)) => assert_eq!(quick, full, "{source}"),
                (Some(quick), Err(e)) => panic!("{source}: shortcut gave {quick}, minijinja {e}"),
                (None, _) => {}
            }
        }
        assert!(lookup_path("item.id", &context).is_some());
        assert!(lookup_path("range", &context).is_none());
        assert!(lookup_path("true", &context).is_none());
        assert!(lookup_path("item.id.upper", &context).is_none());
        assert!(lookup_path("item[\"owner\"].name", &context).is_some());
        assert!(lookup_path("item['owner']['name']", &context).is_some());
        for refused in ["item['id'", "item.", "item..id", "item.id + 'x'", "item[0]"] {
            assert!(lookup_path(refused, &context).is_none(), "{refused}");
        }
        assert!(lookup_path("item[\"owner\"].name", &context).is_some());
        assert!(lookup_path("item.id + 'x'", &context).is_none());
    }

    use super::*;
    use serde_json::json;

    #[test]
    fn whole_expressions_keep_their_type_and_text_is_rendered() {
        let t = Template::new(
            json!({"list": "{{ names }}", "text": "Missing: {{ names | join(', ') }}", "n": 1}),
            "",
        )
        .expect("valid");
        let ctx = jinja_value(json!({"names": ["a", "b"]}));
        assert_eq!(
            t.render(&ctx).expect("renders"),
            json!({"list": ["a", "b"], "text": "Missing: a, b", "n": 1})
        );
    }

    #[test]
    fn each_yields_one_item_per_element() {
        let t = Template::new(json!({"errors": {"$each": "violations", "as": "v", "yield": {"type": "{{ v.keyword }}", "at": "{{ v.field }}", "api": "{{ api }}"}}}), "")
            .expect("valid");
        let ctx = jinja_value(
            json!({"api": "x", "violations": [{"keyword": "required", "field": "a"}, {"keyword": "type", "field": "b"}]}),
        );
        assert_eq!(
            t.render(&ctx).expect("renders"),
            json!({"errors": [{"type": "required", "at": "a", "api": "x"}, {"type": "type", "at": "b", "api": "x"}]})
        );
    }

    #[test]
    fn a_failing_part_is_named_by_its_place_in_the_fixture() {
        let t = Template::new(
            json!({"ok": "{{ 1 }}", "list": [{"$each": "5", "yield": "{{ item }}"}], "x": "a {{ 'b' | int + [] }}"}),
            "/operations/op/rules/0/body",
        )
        .expect("valid");
        let error = t.render(&jinja_value(json!({}))).expect_err("fails");
        assert_eq!(error.at, "/operations/op/rules/0/body/list/0/$each");
        let t = Template::new(json!({"x": "a {{ 'b' | int + [] }}"}), "/r").expect("valid");
        let error = t.render(&jinja_value(json!({}))).expect_err("fails");
        assert_eq!(error.at, "/r/x");
        let direct = t.render_direct(&|_| None, &|| jinja_value(json!({})));
        assert_eq!(direct.expect_err("fails too").at, "/r/x");
    }

    #[test]
    fn broken_templates_are_refused_with_their_pointer() {
        let (pointer, _) =
            Template::new(json!({"a": {"b": "{{ x | }}"}}), "").expect_err("syntax error");
        assert_eq!(pointer, "/a/b");
    }

    #[test]
    fn slugify_writes_what_django_writes() {
        // Read off Django 4.2's `django.utils.text.slugify`.
        for (text, slug) in [
            ("Genomics Probe", "genomics-probe"),
            ("  Alpha Universität!  ", "alpha-universitat"),
            ("a -- b__c", "a-b__c"),
            ("_x_", "x"),
            ("Ünïcödé & Co.", "unicode-co"),
            ("", ""),
        ] {
            assert_eq!(slugify(text.to_string()), slug, "{text:?}");
        }
    }

    #[test]
    fn last_segment_takes_the_id_from_a_hyperlink() {
        assert_eq!(last_segment("https://h/api/customers/4f1c/".into()), "4f1c");
        assert_eq!(
            last_segment("https://h/api/customers/4f1c?x=1".into()),
            "4f1c"
        );
        assert_eq!(last_segment("4f1c".into()), "4f1c");
    }

    #[test]
    fn group_by_field_shapes_drf_errors() {
        let t = Template::new(
            json!("{{ violations | group_by_field('non_field_errors') }}"),
            "",
        )
        .expect("valid");
        let ctx = jinja_value(json!({"violations": [
            {"field": "name", "message": "This field is required."},
            {"field": "", "message": "Invalid data."}
        ]}));
        assert_eq!(
            t.render(&ctx).expect("renders"),
            json!({"name": ["This field is required."], "non_field_errors": ["Invalid data."]})
        );
    }
}
