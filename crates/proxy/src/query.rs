//! Query strings: decoding into ordered pairs, and evaluating dataset filters against an object
//! (for detail requests, where a filter that excludes the object means 404).

use percent_encoding::percent_decode_str;
use serde_json::Value;

/// Decodes `a=1&b=x%20y&c` into ordered pairs (`+` is a space). `None` for invalid UTF-8.
pub fn parse(query: Option<&str>) -> Option<Vec<(String, String)>> {
    let mut out = Vec::new();
    let Some(q) = query else { return Some(out) };
    for part in q.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap_or((part, ""));
        let dec = |s: &str| {
            percent_decode_str(&s.replace('+', " "))
                .decode_utf8()
                .ok()
                .map(|c| c.into_owned())
        };
        out.push((dec(k)?, dec(v)?));
    }
    Some(out)
}

fn values_at<'a>(v: &'a Value, path: &[&str], out: &mut Vec<&'a Value>) {
    match (v, path.split_first()) {
        (Value::Array(items), _) => items.iter().for_each(|i| values_at(i, path, out)),
        (_, None) => out.push(v),
        (Value::Object(m), Some((first, rest))) => {
            if let Some(child) = m.get(*first) {
                values_at(child, rest, out);
            }
        }
        _ => {}
    }
}

fn rendered(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn like(pattern: &str, text: &str) -> bool {
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut pos = 0;
    for (i, part) in parts.iter().enumerate() {
        if part.is_empty() {
            continue;
        }
        let Some(rest) = text.get(pos..) else {
            return false;
        };
        match rest.find(part) {
            Some(found) if i > 0 || found == 0 => pos += found + part.len(),
            _ => return false,
        }
    }
    parts.last().is_none_or(|l| l.is_empty()) || pos == text.len()
}

fn compare(a: &str, b: &str) -> std::cmp::Ordering {
    match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.partial_cmp(&y).unwrap_or(std::cmp::Ordering::Equal),
        _ => a.cmp(b),
    }
}

/// True when `obj` satisfies the filter `base[op]=value` (any element of an array matches).
/// Unknown operators count as satisfied: the upstream has applied them to its query.
pub fn matches(obj: &Value, base: &str, op: Option<&str>, value: &str) -> bool {
    let path: Vec<&str> = base.split('.').collect();
    let mut found = Vec::new();
    values_at(obj, &path, &mut found);
    if op == Some("isnull") {
        let want_null = matches!(value, "true" | "1");
        let is_null = found.iter().all(|v| v.is_null());
        return is_null == want_null;
    }
    let found: Vec<String> = found
        .into_iter()
        .filter(|v| !v.is_null())
        .map(rendered)
        .collect();
    use std::cmp::Ordering::*;
    found.iter().any(|f| match op {
        None | Some("exact") => f == value,
        Some("in") => value.split(',').any(|x| x == f),
        Some("not") => f != value,
        Some("like") => like(value, f),
        Some("gt") => compare(f, value) == Greater,
        Some("gte") => compare(f, value) != Less,
        Some("lt") => compare(f, value) == Less,
        Some("lte") => compare(f, value) != Greater,
        Some(_) => true,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses() {
        assert_eq!(
            parse(Some("a=1&b=x%20y&c&d=e+f")),
            Some(vec![
                ("a".into(), "1".into()),
                ("b".into(), "x y".into()),
                ("c".into(), "".into()),
                ("d".into(), "e f".into())
            ])
        );
        assert_eq!(parse(Some("a=%ff")), None);
    }

    #[test]
    fn filters() {
        let o = json!({"id": 1, "volgnummer": 1, "naam": "Langs", "regimes": [{"aantal": 2}, {"aantal": 5}], "x": null});
        assert!(matches(&o, "volgnummer", None, "1"));
        assert!(!matches(&o, "volgnummer", None, "3"));
        assert!(matches(&o, "regimes.aantal", Some("gte"), "4"));
        assert!(!matches(&o, "regimes.aantal", Some("gt"), "5"));
        assert!(matches(&o, "naam", Some("like"), "La*"));
        assert!(!matches(&o, "naam", Some("like"), "*x*"));
        assert!(matches(&o, "naam", Some("in"), "A,Langs"));
        assert!(matches(&o, "x", Some("isnull"), "true"));
    }

    #[test]
    fn like_patterns() {
        assert!(like("*", "anything"));
        assert!(like("a*c", "abc"));
        assert!(!like("a*c", "abcd"));
        assert!(like("*cd", "abcd"));
        assert!(like("abcd", "abcd"));
    }
}
