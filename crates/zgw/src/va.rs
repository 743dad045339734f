//! Vertrouwelijkheidaanduiding (confidentiality level), domain B4.
//!
//! The eight levels are ordered from least to most confidential; `Ord` follows that order, so
//! "an object is allowed when its level ≤ the autorisatie's max" is `va <= max` (inclusive).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A confidentiality level. Serialized as the API value (`"beperkt_openbaar"`, `"zeer_geheim"`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Vertrouwelijkheid {
    /// `openbaar` (0).
    Openbaar,
    /// `beperkt_openbaar` (1).
    BeperktOpenbaar,
    /// `intern` (2).
    Intern,
    /// `zaakvertrouwelijk` (3).
    Zaakvertrouwelijk,
    /// `vertrouwelijk` (4).
    Vertrouwelijk,
    /// `confidentieel` (5).
    Confidentieel,
    /// `geheim` (6).
    Geheim,
    /// `zeer_geheim` (7).
    ZeerGeheim,
}

impl Vertrouwelijkheid {
    /// Every level, least confidential first.
    pub const ALL: [Self; 8] = [
        Self::Openbaar,
        Self::BeperktOpenbaar,
        Self::Intern,
        Self::Zaakvertrouwelijk,
        Self::Vertrouwelijk,
        Self::Confidentieel,
        Self::Geheim,
        Self::ZeerGeheim,
    ];

    /// The level for an API value. Exact match only: `"Geheim"`, `" geheim"` and `""` are
    /// `None` (a caller must not guess a level).
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s)
    }

    /// The API value, e.g. `"zeer_geheim"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Openbaar => "openbaar",
            Self::BeperktOpenbaar => "beperkt_openbaar",
            Self::Intern => "intern",
            Self::Zaakvertrouwelijk => "zaakvertrouwelijk",
            Self::Vertrouwelijk => "vertrouwelijk",
            Self::Confidentieel => "confidentieel",
            Self::Geheim => "geheim",
            Self::ZeerGeheim => "zeer_geheim",
        }
    }

    /// The position in the order, 0 (`openbaar`) to 7 (`zeer_geheim`).
    pub fn rank(self) -> usize {
        self as usize
    }
}

impl fmt::Display for Vertrouwelijkheid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_the_standard_order() {
        let names: Vec<&str> = Vertrouwelijkheid::ALL.iter().map(|v| v.as_str()).collect();
        assert_eq!(
            names,
            [
                "openbaar",
                "beperkt_openbaar",
                "intern",
                "zaakvertrouwelijk",
                "vertrouwelijk",
                "confidentieel",
                "geheim",
                "zeer_geheim"
            ]
        );
        assert!(Vertrouwelijkheid::ALL.windows(2).all(|w| w[0] < w[1]));
        for (i, v) in Vertrouwelijkheid::ALL.iter().enumerate() {
            assert_eq!(v.rank(), i);
        }
    }

    #[test]
    fn comparison_is_inclusive() {
        let max = Vertrouwelijkheid::Zaakvertrouwelijk;
        assert!(Vertrouwelijkheid::Zaakvertrouwelijk <= max);
        assert!(Vertrouwelijkheid::Intern <= max);
        assert!(Vertrouwelijkheid::Vertrouwelijk > max);
    }

    #[test]
    fn parse_and_serde_use_the_api_values() {
        for v in Vertrouwelijkheid::ALL {
            assert_eq!(Vertrouwelijkheid::parse(v.as_str()), Some(v));
            let json = serde_json::to_string(&v).unwrap();
            assert_eq!(json, format!("\"{}\"", v.as_str()));
            let back: Vertrouwelijkheid = serde_json::from_str(&json).unwrap();
            assert_eq!(back, v);
            assert_eq!(v.to_string(), v.as_str());
        }
        for bad in [
            "",
            "Geheim",
            " geheim",
            "zeer geheim",
            "zeerGeheim",
            "beperkt-openbaar",
        ] {
            assert_eq!(Vertrouwelijkheid::parse(bad), None, "{bad:?}");
        }
        assert!(serde_json::from_str::<Vertrouwelijkheid>("\"zeerGeheim\"").is_err());
    }
}
