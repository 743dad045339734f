//! Representation levels: how much of a field a caller may see.

use std::cmp::Ordering;
use std::fmt;

/// The representation a caller gets for a field, or whether it may open a table at all.
///
/// Ordered from least to most: `None` < `SubobjectsOnly` < `Letters(n)` (by `n`, numerically) <
/// `Random` < `Encoded` < `Read`. Merging across profiles takes the maximum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// Not delivered at all.
    None,
    /// Internal: a profile table that only lists `fields` opens the table but no unlisted field.
    SubobjectsOnly,
    /// The first `n` characters of the rendered value.
    Letters(u32),
    /// An unlinkable random value, fresh per response.
    Random,
    /// A deterministic keyed pseudonym: equal values stay linkable without being readable.
    Encoded,
    /// The value as is.
    Read,
}

/// Largest `N` accepted in `letters:N`; beyond this the representation is no longer a limit.
pub const MAX_LETTERS: u32 = 10_000;

impl Level {
    fn rank(self) -> (u8, u32) {
        match self {
            Level::None => (0, 0),
            Level::SubobjectsOnly => (1, 0),
            Level::Letters(n) => (2, n),
            Level::Random => (3, 0),
            Level::Encoded => (4, 0),
            Level::Read => (5, 0),
        }
    }

    /// Parses a permission string as written in a profile: `read`, `encoded`, `random`,
    /// `letters:N` (N from 1 to [`MAX_LETTERS`]) or `none`.
    pub fn parse(s: &str) -> Result<Level, String> {
        match s {
            "read" => Ok(Level::Read),
            "encoded" => Ok(Level::Encoded),
            "random" => Ok(Level::Random),
            "none" => Ok(Level::None),
            _ => {
                let Some(digits) = s.strip_prefix("letters:") else {
                    return Err(format!(
                        "invalid permission {s:?}: expected read, encoded, random, letters:N or none"
                    ));
                };
                match digits.parse::<u32>() {
                    Ok(n) if (1..=MAX_LETTERS).contains(&n) && n.to_string() == digits => {
                        Ok(Level::Letters(n))
                    }
                    _ => Err(format!(
                        "invalid permission {s:?}: N in letters:N must be a whole number from 1 to {MAX_LETTERS}"
                    )),
                }
            }
        }
    }

    /// True when the level lets a value (in some representation) be delivered.
    pub fn is_visible(self) -> bool {
        self > Level::SubobjectsOnly
    }

    /// True when the level opens a table.
    pub fn opens_table(self) -> bool {
        self > Level::None
    }
}

impl PartialOrd for Level {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Level {
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank().cmp(&other.rank())
    }
}

impl fmt::Display for Level {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Level::None | Level::SubobjectsOnly => f.write_str("none"),
            Level::Letters(n) => write!(f, "letters:{n}"),
            Level::Random => f.write_str("random"),
            Level::Encoded => f.write_str("encoded"),
            Level::Read => f.write_str("read"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters_compare_numerically() {
        assert!(Level::Letters(10) > Level::Letters(3));
        assert!(Level::Letters(1) < Level::Random);
        assert!(Level::Encoded < Level::Read);
        assert!(Level::SubobjectsOnly < Level::Letters(1));
    }

    #[test]
    fn parses_and_rejects() {
        assert_eq!(Level::parse("letters:10"), Ok(Level::Letters(10)));
        assert_eq!(Level::parse("read"), Ok(Level::Read));
        for bad in [
            "letters:0",
            "letters:",
            "letters:+3",
            "letters:03",
            "READ",
            "random+-15",
            "letters:99999999999",
        ] {
            assert!(Level::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn display_roundtrips() {
        for l in [
            Level::Read,
            Level::Encoded,
            Level::Random,
            Level::Letters(4),
            Level::None,
        ] {
            assert_eq!(Level::parse(&l.to_string()), Ok(l));
        }
    }
}
