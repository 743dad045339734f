//! Dotted paths into JSON records. A path is split once when the rules load; walking it steps
//! into every element of an array it meets, so `rollen.betrokkeneIdentificatie.inpBsn` reaches
//! the BSN of each rol in an embedded `rollen` list.

use serde_json::Value;

/// A validated dotted path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FieldPath {
    segments: Box<[String]>,
    dotted: String,
}

impl FieldPath {
    /// Splits and checks a path as written in a rules file.
    pub(crate) fn parse(text: &str) -> Result<FieldPath, String> {
        if text.is_empty() {
            return Err("empty path".to_owned());
        }
        let mut segments = Vec::new();
        for segment in text.split('.') {
            if segment.is_empty() {
                return Err(format!(
                    "{text:?} has an empty segment: write attribute names joined by single dots"
                ));
            }
            if let Some(bad) = segment
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '-'))
            {
                return Err(format!(
                    "{text:?} contains {bad:?}: a segment is an attribute name (letters, digits, `_`, `-`); arrays are walked without an index"
                ));
            }
            segments.push(segment.to_owned());
        }
        Ok(FieldPath {
            segments: segments.into_boxed_slice(),
            dotted: text.to_owned(),
        })
    }

    pub(crate) fn dotted(&self) -> &str {
        &self.dotted
    }

    pub(crate) fn segments(&self) -> &[String] {
        &self.segments
    }

    /// True when `self` is `other` or lies inside it (`a.b` inside `a`).
    pub(crate) fn within(&self, other: &FieldPath) -> bool {
        self.segments.starts_with(&other.segments)
    }
}

/// Calls `f` with every non-array value the path reaches; arrays, also at the end, are walked.
pub(crate) fn leaves<'v>(value: &'v Value, segments: &[String], f: &mut impl FnMut(&'v Value)) {
    match (value, segments.split_first()) {
        (Value::Array(items), _) => {
            for item in items {
                leaves(item, segments, f);
            }
        }
        (_, None) => f(value),
        (Value::Object(map), Some((first, rest))) => {
            if let Some(next) = map.get(first.as_str()) {
                leaves(next, rest, f);
            }
        }
        (_, Some(_)) => {}
    }
}

/// The values stored under the path's last key, in document order; an object that lacks the key
/// contributes nothing, a key holding `null` contributes `null`.
pub(crate) fn values_at<'v>(value: &'v Value, segments: &[String], out: &mut Vec<&'v Value>) {
    let Some((first, rest)) = segments.split_first() else {
        return;
    };
    match value {
        Value::Array(items) => {
            for item in items {
                values_at(item, segments, out);
            }
        }
        Value::Object(map) => {
            if let Some(next) = map.get(first.as_str()) {
                if rest.is_empty() {
                    out.push(next);
                } else {
                    values_at(next, rest, out);
                }
            }
        }
        _ => {}
    }
}

/// Removes the path's last key from every object the path reaches. True when a key was removed.
pub(crate) fn remove(value: &mut Value, segments: &[String]) -> bool {
    let Some((first, rest)) = segments.split_first() else {
        return false;
    };
    match value {
        Value::Array(items) => {
            let mut removed = false;
            for item in items {
                removed |= remove(item, segments);
            }
            removed
        }
        Value::Object(map) => {
            if rest.is_empty() {
                map.shift_remove(first.as_str()).is_some()
            } else {
                map.get_mut(first.as_str())
                    .is_some_and(|next| remove(next, rest))
            }
        }
        _ => false,
    }
}

/// Calls `f` with every value stored under the path's last key (not walking into it: `f` gets an
/// array as it is). True when some call of `f` returned true.
pub(crate) fn update(
    value: &mut Value,
    segments: &[String],
    f: &mut impl FnMut(&mut Value) -> bool,
) -> bool {
    let Some((first, rest)) = segments.split_first() else {
        return false;
    };
    match value {
        Value::Array(items) => {
            let mut changed = false;
            for item in items {
                changed |= update(item, segments, f);
            }
            changed
        }
        Value::Object(map) => match map.get_mut(first.as_str()) {
            Some(next) if rest.is_empty() => f(next),
            Some(next) => update(next, rest, f),
            None => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(text: &str) -> FieldPath {
        FieldPath::parse(text).unwrap()
    }

    #[test]
    fn parse_rejects_malformed_paths() {
        for bad in ["", "a..b", ".a", "a.", "a[0]", "a b", "a.*"] {
            assert!(FieldPath::parse(bad).is_err(), "{bad:?} should be rejected");
        }
        assert_eq!(p("_expand.rollen.inpA_nummer").segments().len(), 3);
    }

    #[test]
    fn within_is_segment_wise() {
        assert!(p("a.b").within(&p("a")));
        assert!(p("a").within(&p("a")));
        assert!(!p("ab").within(&p("a")));
        assert!(!p("a").within(&p("a.b")));
    }

    #[test]
    fn walks_arrays_at_every_step() {
        let v = json!({"r": [{"b": {"x": 1}}, {"b": [{"x": 2}, {"x": [3, 4]}]}, {"c": 5}]});
        let mut seen = Vec::new();
        leaves(&v, p("r.b.x").segments(), &mut |v| seen.push(v.clone()));
        assert_eq!(seen, vec![json!(1), json!(2), json!(3), json!(4)]);

        let mut at = Vec::new();
        values_at(&v, p("r.b.x").segments(), &mut at);
        assert_eq!(at, vec![&json!(1), &json!(2), &json!([3, 4])]);

        let mut v = v;
        assert!(remove(&mut v, p("r.b.x").segments()));
        assert_eq!(v, json!({"r": [{"b": {}}, {"b": [{}, {}]}, {"c": 5}]}));
        assert!(!remove(&mut v, p("r.b.x").segments()));
    }
}
