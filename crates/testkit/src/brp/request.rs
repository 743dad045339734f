//! The request body: the seven query types, their parameters and patterns (B2 of
//! `domain/brp.md`), validated as the API does, with every error in `invalidParams`.

use serde_json::{Map, Value};

use super::date::BrpDate;
use super::fields::{self, Selection};
use super::problem::InvalidParam;
use super::render::Shape;

/// The seven query types.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum QueryType {
    Raadpleeg,
    NaamGeboorte,
    NaamGemeente,
    Postcode,
    Straat,
    Nummeraanduiding,
    AdresseerbaarObject,
}

impl QueryType {
    pub(crate) const ALL: [Self; 7] = [
        Self::Raadpleeg,
        Self::NaamGeboorte,
        Self::NaamGemeente,
        Self::Postcode,
        Self::Straat,
        Self::Nummeraanduiding,
        Self::AdresseerbaarObject,
    ];

    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Raadpleeg => "RaadpleegMetBurgerservicenummer",
            Self::NaamGeboorte => "ZoekMetGeslachtsnaamEnGeboortedatum",
            Self::NaamGemeente => "ZoekMetNaamEnGemeenteVanInschrijving",
            Self::Postcode => "ZoekMetPostcodeEnHuisnummer",
            Self::Straat => "ZoekMetStraatHuisnummerEnGemeenteVanInschrijving",
            Self::Nummeraanduiding => "ZoekMetNummeraanduidingIdentificatie",
            Self::AdresseerbaarObject => "ZoekMetAdresseerbaarObjectIdentificatie",
        }
    }

    fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == s)
    }

    pub(crate) fn shape(self) -> Shape {
        match self {
            Self::Raadpleeg => Shape::Persoon,
            Self::AdresseerbaarObject => Shape::GezagPersoonBeperkt,
            _ => Shape::PersoonBeperkt,
        }
    }

    fn required(self) -> &'static [&'static str] {
        match self {
            Self::Raadpleeg => &["burgerservicenummer"],
            Self::NaamGeboorte => &["geslachtsnaam", "geboortedatum"],
            Self::NaamGemeente => &["geslachtsnaam", "voornamen", "gemeenteVanInschrijving"],
            Self::Postcode => &["postcode", "huisnummer"],
            Self::Straat => &["straat", "huisnummer", "gemeenteVanInschrijving"],
            Self::Nummeraanduiding => &["nummeraanduidingIdentificatie"],
            Self::AdresseerbaarObject => &["adresseerbaarObjectIdentificatie"],
        }
    }

    fn optional(self) -> &'static [&'static str] {
        match self {
            Self::Raadpleeg => &["gemeenteVanInschrijving"],
            Self::NaamGeboorte => &[
                "geslacht",
                "voorvoegsel",
                "voornamen",
                "inclusiefOverledenPersonen",
                "gemeenteVanInschrijving",
            ],
            Self::NaamGemeente => &["geslacht", "voorvoegsel", "inclusiefOverledenPersonen"],
            Self::Postcode => &[
                "huisletter",
                "huisnummertoevoeging",
                "geboortedatum",
                "geslachtsnaam",
                "inclusiefOverledenPersonen",
                "gemeenteVanInschrijving",
            ],
            Self::Straat => &[
                "huisletter",
                "huisnummertoevoeging",
                "inclusiefOverledenPersonen",
            ],
            Self::Nummeraanduiding | Self::AdresseerbaarObject => {
                &["inclusiefOverledenPersonen", "gemeenteVanInschrijving"]
            }
        }
    }

    fn allows(self, param: &str) -> bool {
        matches!(param, "type" | "fields")
            || self.required().contains(&param)
            || self.optional().contains(&param)
    }
}

/// A validated request.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct PersonenRequest {
    pub(crate) query_type: QueryType,
    pub(crate) fields: Selection,
    pub(crate) gemeente: Option<String>,
    pub(crate) inclusief_overleden: bool,
    pub(crate) params: Params,
}

/// The search parameters, all optional here; the query type decides which are present.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Params {
    pub(crate) burgerservicenummer: Vec<String>,
    pub(crate) geslachtsnaam: Option<String>,
    pub(crate) voornamen: Option<String>,
    pub(crate) voorvoegsel: Option<String>,
    pub(crate) geslacht: Option<String>,
    pub(crate) geboortedatum: Option<BrpDate>,
    pub(crate) postcode: Option<String>,
    pub(crate) huisnummer: Option<u32>,
    pub(crate) huisletter: Option<String>,
    pub(crate) huisnummertoevoeging: Option<String>,
    pub(crate) straat: Option<String>,
    pub(crate) nummeraanduiding: Option<String>,
    pub(crate) adresseerbaar_object: Option<String>,
}

const P_GESLACHTSNAAM: &str = r"^[a-zA-Z0-9À-ž \.\-\']{1,200}$|^[a-zA-Z0-9À-ž \.\-\']{3,199}\*{1}$";
const P_VOORNAMEN_OPTIONEEL: &str = r"^[a-zA-Z0-9À-ž \.\-\']{1,199}\*{0,1}$";
const P_VOORVOEGSEL: &str = r"^[a-zA-Z \']{1,10}$";
const P_GESLACHT: &str = r"^([Mm]|[Vv]|[Oo])$";
const P_BSN: &str = r"^[0-9]{9}$";
const P_GEMEENTE: &str = r"^[0-9]{4}$";
const P_POSTCODE: &str = r"^[1-9]{1}[0-9]{3}[ ]?[A-Za-z]{2}$";
const P_HUISLETTER: &str = r"^[a-zA-Z]{1}$";
const P_TOEVOEGING: &str = r"^[a-zA-Z0-9 \-]{1,4}$";
const P_STRAAT: &str = r"^[a-zA-Z0-9À-ž \-\'\.]{1,80}$|^[a-zA-Z0-9À-ž \-\'\.]{7,79}\*{1}$|^\*{1}[a-zA-Z0-9À-ž \-\'\.]{7,79}$";
const P_ID16: &str = r"^(?!0{16})[0-9]{16}$";

fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || ('\u{C0}'..='\u{17E}').contains(&c) || " .-'".contains(c)
}

fn all_of(s: &str, min: usize, max: usize, ok: fn(char) -> bool) -> bool {
    let n = s.chars().count();
    (min..=max).contains(&n) && s.chars().all(ok)
}

/// `geslachtsnaam` and the required `voornamen`: 1..200, or 3..199 followed by one `*`.
fn naam_filter_ok(s: &str) -> bool {
    all_of(s, 1, 200, name_char)
        || s.strip_suffix('*')
            .is_some_and(|r| all_of(r, 3, 199, name_char))
}

fn voornamen_optioneel_ok(s: &str) -> bool {
    all_of(s.strip_suffix('*').unwrap_or(s), 1, 199, name_char)
}

fn straat_ok(s: &str) -> bool {
    all_of(s, 1, 80, name_char)
        || s.strip_suffix('*')
            .is_some_and(|r| all_of(r, 7, 79, name_char))
        || s.strip_prefix('*')
            .is_some_and(|r| all_of(r, 7, 79, name_char))
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

fn postcode_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let (num, rest) = (b.get(..4), b.get(4..));
    let (Some(num), Some(rest)) = (num, rest) else {
        return false;
    };
    let letters = rest.strip_prefix(b" ").unwrap_or(rest);
    num.first().is_some_and(|d| (b'1'..=b'9').contains(d))
        && num.iter().all(u8::is_ascii_digit)
        && letters.len() == 2
        && letters.iter().all(u8::is_ascii_alphabetic)
}

/// Validates a JSON body. `Err` carries the `invalidParams`.
pub(crate) fn parse(body: &Value) -> Result<PersonenRequest, Vec<InvalidParam>> {
    let Value::Object(m) = body else {
        return Err(vec![InvalidParam::required("type")]);
    };
    let query_type = match m.get("type") {
        None | Some(Value::Null) => return Err(vec![InvalidParam::required("type")]),
        Some(Value::String(s)) if s.is_empty() => {
            return Err(vec![InvalidParam::required("type")]);
        }
        Some(Value::String(s)) => QueryType::from_name(s).ok_or_else(|| {
            vec![InvalidParam::new(
                "type",
                "value",
                "Waarde is geen geldige zoek type.",
            )]
        })?,
        Some(_) => {
            return Err(vec![InvalidParam::new(
                "type",
                "value",
                "Waarde is geen geldige zoek type.",
            )]);
        }
    };
    let mut errors = Vec::new();
    for key in m.keys() {
        if !query_type.allows(key) {
            errors.push(InvalidParam::unknown(key));
        }
    }
    let selection = parse_fields(m, query_type.shape(), &mut errors);
    for name in query_type.required() {
        let missing = match m.get(*name) {
            None | Some(Value::Null) => true,
            Some(Value::String(s)) => s.is_empty(),
            _ => false,
        };
        if missing {
            errors.push(InvalidParam::required(name));
        }
    }
    let mut p = Params::default();
    let mut gemeente = None;
    let mut inclusief = false;
    for (key, value) in m {
        if !query_type.allows(key) || matches!(key.as_str(), "type" | "fields") {
            continue;
        }
        if value.is_null() || value.as_str() == Some("") {
            continue;
        }
        match key.as_str() {
            "burgerservicenummer" => p.burgerservicenummer = bsns(value, &mut errors),
            "geslachtsnaam" => {
                p.geslachtsnaam = string(key, value, P_GESLACHTSNAAM, naam_filter_ok, &mut errors);
            }
            "voornamen" => {
                p.voornamen = if query_type == QueryType::NaamGemeente {
                    string(key, value, P_GESLACHTSNAAM, naam_filter_ok, &mut errors)
                } else {
                    string(
                        key,
                        value,
                        P_VOORNAMEN_OPTIONEEL,
                        voornamen_optioneel_ok,
                        &mut errors,
                    )
                };
            }
            "voorvoegsel" => {
                p.voorvoegsel = string(
                    key,
                    value,
                    P_VOORVOEGSEL,
                    |s| {
                        all_of(s, 1, 10, |c| {
                            c.is_ascii_alphabetic() || c == ' ' || c == '\''
                        })
                    },
                    &mut errors,
                );
            }
            "geslacht" => {
                p.geslacht = string(
                    key,
                    value,
                    P_GESLACHT,
                    |s| matches!(s, "M" | "m" | "V" | "v" | "O" | "o"),
                    &mut errors,
                );
            }
            "geboortedatum" => match value.as_str().and_then(BrpDate::parse_iso) {
                Some(d) => p.geboortedatum = Some(d),
                None => errors.push(InvalidParam::new(
                    key,
                    "date",
                    "Waarde is geen geldige datum.",
                )),
            },
            "gemeenteVanInschrijving" => {
                gemeente = string(key, value, P_GEMEENTE, |s| digits(s, 4), &mut errors);
            }
            "inclusiefOverledenPersonen" => match value {
                Value::Bool(b) => inclusief = *b,
                _ => errors.push(InvalidParam::new(key, "boolean", "Waarde is geen boolean.")),
            },
            "postcode" => p.postcode = string(key, value, P_POSTCODE, postcode_ok, &mut errors),
            "huisnummer" => p.huisnummer = huisnummer(value, &mut errors),
            "huisletter" => {
                p.huisletter = string(
                    key,
                    value,
                    P_HUISLETTER,
                    |s| all_of(s, 1, 1, |c| c.is_ascii_alphabetic()),
                    &mut errors,
                );
            }
            "huisnummertoevoeging" => {
                p.huisnummertoevoeging = string(
                    key,
                    value,
                    P_TOEVOEGING,
                    |s| {
                        all_of(s, 1, 4, |c| {
                            c.is_ascii_alphanumeric() || c == ' ' || c == '-'
                        })
                    },
                    &mut errors,
                );
            }
            "straat" => p.straat = string(key, value, P_STRAAT, straat_ok, &mut errors),
            "nummeraanduidingIdentificatie" => {
                p.nummeraanduiding = string(key, value, P_ID16, id16_ok, &mut errors);
            }
            "adresseerbaarObjectIdentificatie" => {
                p.adresseerbaar_object = string(key, value, P_ID16, id16_ok, &mut errors);
            }
            _ => {}
        }
    }
    match selection {
        Some(fields) if errors.is_empty() => Ok(PersonenRequest {
            query_type,
            fields,
            gemeente,
            inclusief_overleden: inclusief,
            params: p,
        }),
        _ => {
            errors.sort_by_key(InvalidParam::sort_key);
            Err(errors)
        }
    }
}

fn id16_ok(s: &str) -> bool {
    digits(s, 16) && s.bytes().any(|b| b != b'0')
}

fn string(
    name: &str,
    value: &Value,
    pattern: &str,
    ok: fn(&str) -> bool,
    errors: &mut Vec<InvalidParam>,
) -> Option<String> {
    match value {
        Value::String(s) if ok(s) => Some(s.clone()),
        _ => {
            errors.push(InvalidParam::pattern(name, pattern));
            None
        }
    }
}

fn huisnummer(value: &Value, errors: &mut Vec<InvalidParam>) -> Option<u32> {
    let Some(n) = value
        .as_u64()
        .or_else(|| value.as_i64().filter(|n| *n < 1).map(|_| 0))
    else {
        errors.push(InvalidParam::new(
            "huisnummer",
            "integer",
            "Waarde is geen geldig getal.",
        ));
        return None;
    };
    if n < 1 {
        errors.push(InvalidParam::new(
            "huisnummer",
            "minimum",
            "Waarde is lager dan minimum 1.",
        ));
        return None;
    }
    if n > 99_999 {
        errors.push(InvalidParam::new(
            "huisnummer",
            "maximum",
            "Waarde is hoger dan maximum 99999.",
        ));
        return None;
    }
    u32::try_from(n).ok()
}

fn bsns(value: &Value, errors: &mut Vec<InvalidParam>) -> Vec<String> {
    let name = "burgerservicenummer";
    let Value::Array(items) = value else {
        errors.push(InvalidParam::new(name, "array", "Parameter is geen array."));
        return Vec::new();
    };
    if items.is_empty() {
        errors.push(InvalidParam::new(
            name,
            "minItems",
            "Array bevat minder dan 1 items.",
        ));
        return Vec::new();
    }
    if items.len() > 20 {
        errors.push(InvalidParam::new(
            name,
            "maxItems",
            "Array bevat meer dan 20 items.",
        ));
        return Vec::new();
    }
    let mut out = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match item.as_str() {
            Some(s) if digits(s, 9) => out.push(s.to_owned()),
            _ => errors.push(InvalidParam::pattern(&format!("{name}[{i}]"), P_BSN)),
        }
    }
    out
}

fn parse_fields(
    m: &Map<String, Value>,
    shape: Shape,
    errors: &mut Vec<InvalidParam>,
) -> Option<Selection> {
    let items = match m.get("fields") {
        None | Some(Value::Null) => {
            errors.push(InvalidParam::required("fields"));
            return None;
        }
        Some(Value::Array(items)) => items,
        Some(_) => {
            errors.push(InvalidParam::new(
                "fields",
                "array",
                "Parameter is geen array.",
            ));
            return None;
        }
    };
    if items.is_empty() {
        errors.push(InvalidParam::new(
            "fields",
            "minItems",
            "Array bevat minder dan 1 items.",
        ));
        return None;
    }
    if items.len() > 130 {
        errors.push(InvalidParam::new(
            "fields",
            "maxItems",
            "Array bevat meer dan 130 items.",
        ));
        return None;
    }
    // A non-string entry fails the pattern like an invalid string does.
    let strings: Vec<&str> = items.iter().map(|v| v.as_str().unwrap_or("*")).collect();
    match fields::validate(&strings, shape) {
        Ok(sel) => Some(sel),
        Err(mut e) => {
            errors.append(&mut e);
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn codes(body: Value) -> Vec<(String, String)> {
        parse(&body)
            .unwrap_err()
            .into_iter()
            .map(|p| (p.name, p.code))
            .collect()
    }

    #[test]
    fn patterns() {
        assert!(naam_filter_ok("Vries"));
        assert!(naam_filter_ok("Çelik"));
        assert!(naam_filter_ok("Vri*"));
        assert!(!naam_filter_ok("Vr*"));
        assert!(!naam_filter_ok("*sen"));
        assert!(!naam_filter_ok("<script>"));
        assert!(voornamen_optioneel_ok("J*"));
        assert!(straat_ok("Lindenstraat"));
        assert!(straat_ok("Lindens*"));
        assert!(straat_ok("*denstraat"));
        assert!(!straat_ok("Linden*"));
        assert!(postcode_ok("1011AB"));
        assert!(postcode_ok("1011 ab"));
        assert!(!postcode_ok("0111AB"));
        assert!(!postcode_ok("1011  AB"));
        assert!(!id16_ok("0000000000000000"));
        assert!(id16_ok("0363200000000001"));
    }

    #[test]
    fn validation_errors() {
        assert_eq!(
            codes(json!({"type": "ZoekMetGeslachtsnaamEnGeboortedatum", "fields": ["naam"]})),
            [
                ("geboortedatum".to_owned(), "required".to_owned()),
                ("geslachtsnaam".to_owned(), "required".to_owned())
            ]
        );
        assert_eq!(
            codes(
                json!({"type": "RaadpleegMetBurgerservicenummer", "fields": ["naam"],
                         "burgerservicenummer": ["1", "999993653", 5], "voornamen": "x"})
            ),
            [
                ("burgerservicenummer[0]".to_owned(), "pattern".to_owned()),
                ("burgerservicenummer[2]".to_owned(), "pattern".to_owned()),
                ("voornamen".to_owned(), "unknownParam".to_owned())
            ]
        );
        assert_eq!(
            codes(
                json!({"type": "ZoekMetPostcodeEnHuisnummer", "fields": ["naam"],
                         "postcode": "1011AB", "huisnummer": 0})
            ),
            [("huisnummer".to_owned(), "minimum".to_owned())]
        );
        assert_eq!(
            codes(json!({"type": "Bestaat niet", "fields": ["naam"]})),
            [("type".to_owned(), "value".to_owned())]
        );
    }
}
