//! JSON text into a value, refusing a key given twice in one object.
//!
//! serde_json keeps the last of two equal keys without a word, so a spec
//! with `"paths"` twice would load with the first one silently gone. The
//! YAML reader already refuses duplicates; this gives JSON files the same
//! rule, with the position of the second key.

use serde::de::{DeserializeSeed, Deserializer, Error, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Number, Value};
use std::fmt;

/// Parses `text` as one JSON value; a duplicate key is a syntax error.
pub fn from_str(text: &str) -> Result<Value, serde_json::Error> {
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let value = StrictValue.deserialize(&mut deserializer)?;
    deserializer.end()?;
    Ok(value)
}

/// A [`Value`] seed whose objects refuse duplicate keys.
struct StrictValue;

impl<'de> DeserializeSeed<'de> for StrictValue {
    type Value = Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Value, D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictValue {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: Error>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }

    fn visit_i64<E: Error>(self, v: i64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_u64<E: Error>(self, v: u64) -> Result<Value, E> {
        Ok(Value::Number(v.into()))
    }

    fn visit_f64<E: Error>(self, v: f64) -> Result<Value, E> {
        Ok(Number::from_f64(v).map_or(Value::Null, Value::Number))
    }

    fn visit_str<E: Error>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_string()))
    }

    fn visit_string<E: Error>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }

    fn visit_unit<E: Error>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(item) = seq.next_element_seed(StrictValue)? {
            items.push(item);
        }
        Ok(Value::Array(items))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Value, A::Error> {
        let mut map = Map::new();
        while let Some(key) = access.next_key::<String>()? {
            if map.contains_key(&key) {
                return Err(A::Error::custom(format_args!("duplicate key `{key}`")));
            }
            let value = access.next_value_seed(StrictValue)?;
            map.insert(key, value);
        }
        Ok(Value::Object(map))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn gives_the_same_value_as_serde_json() {
        let text = r#"{"a": [1, -2, 3.5, 1e400, true, null, "x\n"], "b": {"c": {}}, "d": []}"#;
        let strict = from_str(r#"{"a": [1, -2, 3.5, true, null, "x\n"], "b": {"c": {}}, "d": []}"#);
        assert_eq!(
            strict.expect("valid"),
            json!({"a": [1, -2, 3.5, true, null, "x\n"], "b": {"c": {}}, "d": []})
        );
        // Out-of-range numbers are refused as serde_json refuses them.
        assert!(from_str(text).is_err());
    }

    #[test]
    fn a_key_given_twice_in_one_object_is_refused_where_it_is_repeated() {
        let err = from_str("{\"a\": 1,\n \"b\": {\"x\": 1, \"x\": 2}}").expect_err("duplicate");
        assert!(err.to_string().contains("duplicate key `x`"), "{err}");
        assert_eq!(err.line(), 2);
        // The same key in two different objects is fine.
        assert!(from_str(r#"{"a": {"x": 1}, "b": {"x": 2}}"#).is_ok());
    }

    #[test]
    fn trailing_text_is_refused() {
        assert!(from_str("{} {}").is_err());
    }
}
