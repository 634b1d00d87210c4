//! `gt`, `gte`, `lt` and `lte`: a number on the right side of a bound.

use super::Matcher;
use serde_json::Value;

pub(super) fn parse(key: &str, arg: &Value) -> Result<Matcher, (String, String)> {
    let Some(bound) = arg.as_f64() else {
        return Err((String::new(), format!("`{key}` takes a number")));
    };
    let op = match key {
        "gt" => Comparison::Gt,
        "gte" => Comparison::Gte,
        "lt" => Comparison::Lt,
        _ => Comparison::Lte,
    };
    Ok(Matcher::Compare(op, bound))
}

pub(super) fn holds(op: Comparison, bound: f64, actual: &Value) -> bool {
    let Some(n) = actual.as_f64() else {
        return false;
    };
    match op {
        Comparison::Gt => n > bound,
        Comparison::Gte => n >= bound,
        Comparison::Lt => n < bound,
        Comparison::Lte => n <= bound,
    }
}

pub(super) fn describe(op: Comparison, bound: f64) -> String {
    format!("a number {} {bound}", op.symbol())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Gt,
    Gte,
    Lt,
    Lte,
}

impl Comparison {
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Gt => ">",
            Comparison::Gte => ">=",
            Comparison::Lt => "<",
            Comparison::Lte => "<=",
        }
    }
}
