//! The `fields` parameter: which paths exist per response type (the path lists of `sluis-brp`,
//! [`ResponseShape::paths`]), which are delivered automatically and may not be asked for, and
//! cutting a rendered person down to what was asked (B3 of `domain/brp.md`).

use std::collections::HashMap;

use serde_json::{Map, Value};
use sluis_brp::ResponseShape;

use super::problem::InvalidParam;
use super::render::Shape;

/// Fields the API delivers by itself; asking for them is a 400.
const AUTO_TOP: &[&str] = &[
    "geheimhoudingPersoonsgegevens",
    "inOnderzoek",
    "opschortingBijhouding",
    "rni",
    "verificatie",
];

/// `^[a-zA-Z0-9\._]{1,200}$`
pub(crate) const FIELD_PATTERN: &str = r"^[a-zA-Z0-9\._]{1,200}$";

impl From<Shape> for ResponseShape {
    fn from(shape: Shape) -> Self {
        match shape {
            Shape::Persoon => Self::Persoon,
            Shape::PersoonBeperkt => Self::PersoonBeperkt,
            Shape::GezagPersoonBeperkt => Self::GezagPersoonBeperkt,
        }
    }
}

/// Whether `path` is a valid `fields` entry of a response type (the full RvIG list, with the
/// sub-fields of dates and waardetabellen).
pub(crate) fn allowed(shape: Shape, path: &str) -> bool {
    ResponseShape::from(shape).is_valid_path(path)
}

fn matches_pattern(path: &str) -> bool {
    (1..=200).contains(&path.len())
        && path
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_')
}

fn is_auto(path: &str) -> bool {
    let mut segments = path.split('.');
    let first = segments.next().unwrap_or("");
    AUTO_TOP.contains(&first)
        || path.split('.').any(|s| s == "inOnderzoek")
        || path.ends_with("indicatieVastgesteldVerblijftNietOpAdres")
}

/// A selection tree: everything below a node, or only some children.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Sel {
    All,
    Some(HashMap<String, Sel>),
}

impl Sel {
    fn add(&mut self, segments: &[&str]) {
        let Self::Some(children) = self else {
            return;
        };
        match segments {
            [] => *self = Self::All,
            [first, rest @ ..] => children
                .entry((*first).to_owned())
                .or_insert_with(|| Self::Some(HashMap::new()))
                .add(rest),
        }
    }

    fn child(&self, key: &str) -> Option<&Self> {
        match self {
            Self::All => Some(&Self::All),
            Self::Some(children) => children.get(key),
        }
    }

    fn selects(&self, key: &str) -> bool {
        self.child(key).is_some()
    }
}

/// The validated `fields` of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Selection {
    /// Paths as they are.
    main: Sel,
    /// `verblijfplaatsBinnenland.*` and `adresseringBinnenland.*`, re-rooted at
    /// `verblijfplaats` / `adressering`: delivered only for a Dutch verblijfplaats.
    binnenland: Option<Sel>,
}

/// Validates every entry of `fields` (strings already) for `shape`; errors carry the entry's
/// index as the API reports them (`fields[1]`).
pub(crate) fn validate(fields: &[&str], shape: Shape) -> Result<Selection, Vec<InvalidParam>> {
    let mut errors = Vec::new();
    let mut main = Sel::Some(HashMap::new());
    let mut binnenland = Sel::Some(HashMap::new());
    let mut any_binnenland = false;
    for (i, path) in fields.iter().enumerate() {
        let name = format!("fields[{i}]");
        if !matches_pattern(path) {
            errors.push(InvalidParam::pattern(&name, FIELD_PATTERN));
            continue;
        }
        if is_auto(path) {
            errors.push(InvalidParam::new(
                &name,
                "fields",
                "Parameter bevat een niet toegestane veldnaam.",
            ));
            continue;
        }
        if !allowed(shape, path) {
            errors.push(InvalidParam::new(
                &name,
                "fields",
                "Parameter bevat een niet bestaande veldnaam.",
            ));
            continue;
        }
        let segments: Vec<&str> = path.split('.').collect();
        match segments.as_slice() {
            // Any gezag field delivers all of gezag.
            ["gezag", ..] => main.add(&["gezag"]),
            ["verblijfplaatsBinnenland", rest @ ..] => {
                any_binnenland = true;
                let mut s = vec!["verblijfplaats"];
                s.extend_from_slice(rest);
                binnenland.add(&s);
            }
            ["adresseringBinnenland"] => {
                any_binnenland = true;
                for f in [
                    "adresregel1",
                    "adresregel2",
                    "aanhef",
                    "aanschrijfwijze",
                    "gebruikInLopendeTekst",
                ] {
                    binnenland.add(&["adressering", f]);
                }
            }
            ["adresseringBinnenland", rest @ ..] => {
                any_binnenland = true;
                let mut s = vec!["adressering"];
                s.extend_from_slice(rest);
                binnenland.add(&s);
            }
            _ => main.add(&segments),
        }
    }
    if errors.is_empty() {
        Ok(Selection {
            main,
            binnenland: any_binnenland.then_some(binnenland),
        })
    } else {
        Err(errors)
    }
}

/// Datum and waardetabel objects are delivered whole when any of their fields is asked for.
fn is_atomic(m: &Map<String, Value>) -> bool {
    m.contains_key("langFormaat")
        || (!m.is_empty()
            && m.keys()
                .all(|k| matches!(k.as_str(), "code" | "omschrijving" | "soort")))
}

fn project(v: &Value, sel: &Sel) -> Option<Value> {
    if *sel == Sel::All {
        return Some(v.clone());
    }
    match v {
        Value::Array(items) => {
            let out: Vec<Value> = items.iter().filter_map(|i| project(i, sel)).collect();
            (!out.is_empty()).then_some(Value::Array(out))
        }
        Value::Object(m) if is_atomic(m) => Some(v.clone()),
        Value::Object(m) => project_object(m, sel, false).map(Value::Object),
        _ => Some(v.clone()),
    }
}

fn project_object(m: &Map<String, Value>, sel: &Sel, top: bool) -> Option<Map<String, Value>> {
    let mut out = Map::new();
    for (k, val) in m {
        let key = k.as_str();
        if key == "inOnderzoek" || key == "indicatieVastgesteldVerblijftNietOpAdres" {
            continue;
        }
        let auto = top && AUTO_TOP.contains(&key);
        let child = if auto {
            Some(&Sel::All)
        } else {
            sel.child(key)
        };
        if let Some(child) = child
            && let Some(p) = project(val, child)
        {
            out.insert(k.clone(), p);
        }
    }
    if out.is_empty() && !top {
        return None;
    }
    // Polymorphic objects always carry their type when anything of them is delivered.
    if !out.is_empty()
        && let Some(t) = m.get("type")
        && !out.contains_key("type")
    {
        out.shift_insert(0, "type".to_owned(), t.clone());
    }
    if let Some(x) = m.get("indicatieVastgesteldVerblijftNietOpAdres")
        && !out.is_empty()
    {
        out.insert(
            "indicatieVastgesteldVerblijftNietOpAdres".to_owned(),
            x.clone(),
        );
    }
    if let Some(Value::Object(io)) = m.get("inOnderzoek") {
        let mut kept = Map::new();
        for (k, v) in io {
            if !k.starts_with("datumIngangOnderzoek") && sel.selects(k) {
                kept.insert(k.clone(), v.clone());
            }
        }
        if !kept.is_empty() {
            for (k, v) in io {
                if k.starts_with("datumIngangOnderzoek") {
                    kept.insert(k.clone(), v.clone());
                }
            }
            out.insert("inOnderzoek".to_owned(), Value::Object(kept));
        }
    }
    Some(out)
}

/// Adds `b` into `a`: objects key by key, anything else replaced.
fn merge(a: &mut Value, b: Value) {
    match (a, b) {
        (Value::Object(am), Value::Object(bm)) => {
            for (k, v) in bm {
                match am.get_mut(&k) {
                    Some(existing) => merge(existing, v),
                    None => {
                        am.insert(k, v);
                    }
                }
            }
        }
        (a, b) => *a = b,
    }
}

impl Selection {
    /// The requested part of a fully rendered person (plus what the API always delivers).
    pub(crate) fn apply(&self, person: &Value, binnenland: bool) -> Value {
        let Value::Object(m) = person else {
            return person.clone();
        };
        let mut out = Value::Object(project_object(m, &self.main, true).unwrap_or_default());
        if binnenland
            && let Some(sel) = &self.binnenland
            && let Some(extra) = project_object(m, sel, false)
        {
            // The auto-delivered fields are in `out` already; the alias adds its groups only.
            let mut extra = extra;
            extra.retain(|k, _| k == "verblijfplaats" || k == "adressering");
            merge(&mut out, Value::Object(extra));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sel(paths: &[&str]) -> Selection {
        validate(paths, Shape::Persoon).unwrap()
    }

    #[test]
    fn lists_are_loaded() {
        assert!(allowed(
            Shape::Persoon,
            "verblijfplaats.verblijfadres.postcode"
        ));
        assert!(allowed(Shape::Persoon, "geboorte.datum.jaar"));
        assert!(allowed(
            Shape::Persoon,
            "naam.adellijkeTitelPredicaat.soort"
        ));
        assert!(allowed(Shape::PersoonBeperkt, "naam.voorletters"));
        assert!(!allowed(Shape::PersoonBeperkt, "aNummer"));
        assert!(allowed(Shape::GezagPersoonBeperkt, "gezag"));
        assert!(!allowed(Shape::PersoonBeperkt, "gezag"));
        let counts: Vec<usize> = ResponseShape::ALL.iter().map(|s| s.paths().len()).collect();
        assert_eq!(counts, [352, 33, 45]);
    }

    #[test]
    fn errors_name_the_entry() {
        let err = validate(
            &[
                "burgerservicenummer",
                "a*nummer",
                "rni",
                "bestaatNiet",
                "naam.inOnderzoek",
            ],
            Shape::Persoon,
        )
        .unwrap_err();
        let names: Vec<_> = err
            .iter()
            .map(|e| (e.name.as_str(), e.code.as_str()))
            .collect();
        assert_eq!(
            names,
            [
                ("fields[1]", "pattern"),
                ("fields[2]", "fields"),
                ("fields[3]", "fields"),
                ("fields[4]", "fields")
            ]
        );
    }

    #[test]
    fn datum_and_waardetabel_are_whole() {
        let p = json!({
            "burgerservicenummer": "1",
            "geboorte": {"datum": {"type": "Datum", "datum": "2000-01-02", "langFormaat": "2 januari 2000"},
                         "land": {"code": "6030", "omschrijving": "Nederland"}},
            "opschortingBijhouding": {"reden": {"code": "O", "omschrijving": "overlijden"}},
        });
        let out = sel(&["geboorte.datum.jaar", "geboorte.land.code"]).apply(&p, true);
        assert_eq!(
            out,
            json!({
                "geboorte": p["geboorte"],
                "opschortingBijhouding": p["opschortingBijhouding"],
            })
        );
    }

    #[test]
    fn in_onderzoek_follows_the_selection() {
        let p = json!({
            "naam": {"voornamen": "A", "geslachtsnaam": "B",
                     "inOnderzoek": {"geslachtsnaam": true, "datumIngangOnderzoek": {"type": "Datum"}}}
        });
        assert_eq!(
            sel(&["naam.voornamen"]).apply(&p, true),
            json!({"naam": {"voornamen": "A"}})
        );
        assert_eq!(
            sel(&["naam.geslachtsnaam"]).apply(&p, true),
            json!({"naam": {"geslachtsnaam": "B",
                "inOnderzoek": {"geslachtsnaam": true, "datumIngangOnderzoek": {"type": "Datum"}}}})
        );
    }

    #[test]
    fn polymorphic_type_and_aliases() {
        let p = json!({
            "verblijfplaats": {"type": "VerblijfplaatsBuitenland", "datumVan": {"langFormaat": "x"},
                               "verblijfadres": {"regel1": "r1", "land": {"code": "5010"}}}
        });
        assert_eq!(
            sel(&["verblijfplaats.verblijfadres.land"]).apply(&p, false),
            json!({"verblijfplaats": {"type": "VerblijfplaatsBuitenland",
                                      "verblijfadres": {"land": {"code": "5010"}}}})
        );
        assert_eq!(
            sel(&["verblijfplaatsBinnenland.datumVan"]).apply(&p, false),
            json!({})
        );
        let a = json!({"verblijfplaats": {"type": "Adres", "datumVan": {"langFormaat": "x"}}});
        assert_eq!(
            sel(&["verblijfplaatsBinnenland.datumVan"]).apply(&a, true),
            json!({"verblijfplaats": {"type": "Adres", "datumVan": {"langFormaat": "x"}}})
        );
    }
}
