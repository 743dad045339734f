//! Name patterns of the register and the rights filters: `*` stands for any run of characters
//! (dots included), everything else matches itself.

use std::fmt;

/// A pattern such as `BRP/zoek-*`, `dataset.parkeervakken.*` or `*.burgerservicenummer`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(transparent)]
pub struct Glob(String);

impl Glob {
    /// A pattern from its text; `*` is the only special character.
    pub fn new(text: impl Into<String>) -> Glob {
        Glob(text.into())
    }

    /// The pattern as written.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether the pattern has a `*`.
    pub fn is_wildcard(&self) -> bool {
        self.0.contains('*')
    }

    /// Whether `text` matches the whole pattern.
    pub fn matches(&self, text: &str) -> bool {
        let mut parts = self.0.split('*');
        let Some(first) = parts.next() else {
            return text.is_empty();
        };
        let Some(mut rest) = text.strip_prefix(first) else {
            return false;
        };
        let parts: Vec<&str> = parts.collect();
        let Some((last, middle)) = parts.split_last() else {
            // No `*` at all: the prefix had to be the whole text.
            return rest.is_empty();
        };
        for part in middle {
            match rest.find(part) {
                Some(at) => rest = rest.get(at + part.len()..).unwrap_or(""),
                None => return false,
            }
        }
        rest.len() >= last.len() && rest.ends_with(last)
    }
}

impl fmt::Display for Glob {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Whether any pattern of the list matches `text`.
pub fn any_matches(globs: &[Glob], text: &str) -> bool {
    globs.iter().any(|g| g.matches(text))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn patterns() {
        let g = Glob::new("BRP/zoek-*");
        assert!(g.matches("BRP/zoek-bsn"));
        assert!(g.matches("BRP/zoek-"));
        assert!(!g.matches("BRP/basis"));
        assert!(Glob::new("*.burgerservicenummer").matches("brp.Raadpleeg.burgerservicenummer"));
        assert!(!Glob::new("*.burgerservicenummer").matches("brp.x.partners.burgerservicenummerX"));
        assert!(Glob::new("a*b*c").matches("a-b-b-c"));
        assert!(!Glob::new("a*b*c").matches("a-c"));
        assert!(Glob::new("exact").matches("exact"));
        assert!(!Glob::new("exact").matches("exactly"));
        assert!(Glob::new("*").matches(""));
        assert!(!Glob::new("ab*ba").matches("aba"));
    }

    proptest! {
        /// A pattern without `*` matches exactly itself; `*` alone matches everything; a text
        /// always matches a pattern built from it by replacing a slice with `*`.
        #[test]
        fn star_replaces_any_slice(text in "[a-z./]{0,12}", a in 0usize..13, b in 0usize..13) {
            prop_assert!(Glob::new(text.clone()).matches(&text));
            prop_assert!(Glob::new("*").matches(&text));
            let (lo, hi) = (a.min(b).min(text.len()), a.max(b).min(text.len()));
            let pattern = format!("{}*{}", text.get(..lo).unwrap_or(""), text.get(hi..).unwrap_or(""));
            prop_assert!(Glob::new(pattern).matches(&text));
        }
    }
}
