//! Durations as people write them in fixtures, scenarios, flags and admin
//! calls: one reading everywhere.

use serde_json::Value;

/// `5s`, `500ms`, `2m`, `1h`, or a number of seconds, in milliseconds.
pub fn parse_duration(value: &Value) -> Option<u64> {
    if let Some(seconds) = value.as_f64() {
        return (seconds >= 0.0).then(|| (seconds * 1000.0).round() as u64);
    }
    let text = value.as_str()?.trim();
    let split = text.find(|c: char| !(c.is_ascii_digit() || c == '.'))?;
    let (number, unit) = text.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match unit.trim() {
        "ms" => 1.0,
        "s" => 1000.0,
        "m" | "min" => 60_000.0,
        "h" => 3_600_000.0,
        _ => return None,
    };
    Some((number * factor).round() as u64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn durations_read_as_milliseconds() {
        assert_eq!(parse_duration(&json!("5s")), Some(5000));
        assert_eq!(parse_duration(&json!("250ms")), Some(250));
        assert_eq!(parse_duration(&json!("2m")), Some(120_000));
        assert_eq!(parse_duration(&json!(1.5)), Some(1500));
        assert_eq!(parse_duration(&json!("soon")), None);
        assert_eq!(parse_duration(&json!("5 parsecs")), None);
    }
}
