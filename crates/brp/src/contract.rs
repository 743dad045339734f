//! Validation of a `POST /personen` body against the BRP Personen v2.7.0 contract.
//!
//! sluis validates before it authorizes, so that a malformed request gets the same 400
//! `paramsValidation` answer the BRP API would give, and so that the policy only ever sees
//! well-formed values. The query types, their parameters and the patterns are written out here
//! as data, from `openapi.yaml` (`components.schemas`); the reasons are the BRP API's own.
//!
//! One deliberate difference: `fields` is optional here, because sluis composes it from the
//! caller's field sets when a client sends none (see [`crate::BrpPolicy::decide`]).

use serde_json::{Map, Value};

use crate::error::InvalidParam;
use crate::paths::{ResponseShape, names_auto_field};

/// The maximum number of `fields` entries.
pub const MAX_FIELDS: usize = 130;
/// The maximum number of burgerservicenummers in one `RaadpleegMetBurgerservicenummer`.
pub const MAX_BSNS: usize = 20;

/// The pattern of a `fields` entry.
pub const FIELD_PATTERN: &str = r"^[a-zA-Z0-9\._]{1,200}$";
const BSN_PATTERN: &str = "^[0-9]{9}$";
const GESLACHTSNAAM_PATTERN: &str =
    r"^[a-zA-Z0-9À-ž \.\-\']{1,200}$|^[a-zA-Z0-9À-ž \.\-\']{3,199}\*{1}$";
const VOORNAMEN_OPTIONEEL_PATTERN: &str = r"^[a-zA-Z0-9À-ž \.\-\']{1,199}\*{0,1}$";
const VOORVOEGSEL_PATTERN: &str = r"^[a-zA-Z \']{1,10}$";
const GESLACHT_PATTERN: &str = "^([Mm]|[Vv]|[Oo])$";
const POSTCODE_PATTERN: &str = "^[1-9]{1}[0-9]{3}[ ]?[A-Za-z]{2}$";
const HUISLETTER_PATTERN: &str = "^[a-zA-Z]{1}$";
const HUISNUMMERTOEVOEGING_PATTERN: &str = r"^[a-zA-Z0-9 \-]{1,4}$";
const STRAAT_PATTERN: &str = r"^[a-zA-Z0-9À-ž \-\'\.]{1,80}$|^[a-zA-Z0-9À-ž \-\'\.]{7,79}\*{1}$|^\*{1}[a-zA-Z0-9À-ž \-\'\.]{7,79}$";
const BAG_ID_PATTERN: &str = "^(?!0{16})[0-9]{16}$";
const GEMEENTE_PATTERN: &str = "^[0-9]{4}$";
const HUISNUMMER_MIN: i64 = 1;
const HUISNUMMER_MAX: i64 = 99999;

const REQUIRED: &str = "Parameter is verplicht.";

/// The seven query types of `POST /personen`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum QueryType {
    /// Look up 1..20 persons by burgerservicenummer.
    RaadpleegMetBurgerservicenummer,
    /// Search by surname and date of birth.
    ZoekMetGeslachtsnaamEnGeboortedatum,
    /// Search by surname, first names and municipality.
    ZoekMetNaamEnGemeenteVanInschrijving,
    /// Search by postcode and house number.
    ZoekMetPostcodeEnHuisnummer,
    /// Search by street, house number and municipality.
    ZoekMetStraatHuisnummerEnGemeenteVanInschrijving,
    /// Search by BAG nummeraanduiding id.
    ZoekMetNummeraanduidingIdentificatie,
    /// Search by BAG adresseerbaar object id.
    ZoekMetAdresseerbaarObjectIdentificatie,
}

/// The kind of value a parameter takes, which decides its check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamKind {
    /// An array of 1..20 strings matching `^[0-9]{9}$`.
    BurgerservicenummerList,
    /// A name of 1..200 characters, or 3..199 followed by one `*`.
    NaamMetWildcard,
    /// First names of 1..199 characters with an optional trailing `*`.
    VoornamenOptioneel,
    /// `^[a-zA-Z \']{1,10}$`.
    Voorvoegsel,
    /// `M`, `V` or `O`, either case.
    Geslacht,
    /// A full date `YYYY-MM-DD`.
    Datum,
    /// A Dutch postcode.
    Postcode,
    /// An integer 1..99999.
    Huisnummer,
    /// One letter.
    Huisletter,
    /// 1..4 of letters, digits, space, hyphen.
    Huisnummertoevoeging,
    /// A street name of 1..80 characters, or a wildcard prefix or suffix with ≥7 characters.
    Straat,
    /// 16 digits, not all zeros.
    BagId,
    /// A boolean.
    Boolean,
    /// A four-digit municipality code.
    Gemeente,
}

impl ParamKind {
    /// The specification's pattern, where the kind has one.
    pub fn pattern(self) -> Option<&'static str> {
        Some(match self {
            ParamKind::BurgerservicenummerList => BSN_PATTERN,
            ParamKind::NaamMetWildcard => GESLACHTSNAAM_PATTERN,
            ParamKind::VoornamenOptioneel => VOORNAMEN_OPTIONEEL_PATTERN,
            ParamKind::Voorvoegsel => VOORVOEGSEL_PATTERN,
            ParamKind::Geslacht => GESLACHT_PATTERN,
            ParamKind::Postcode => POSTCODE_PATTERN,
            ParamKind::Huisletter => HUISLETTER_PATTERN,
            ParamKind::Huisnummertoevoeging => HUISNUMMERTOEVOEGING_PATTERN,
            ParamKind::Straat => STRAAT_PATTERN,
            ParamKind::BagId => BAG_ID_PATTERN,
            ParamKind::Gemeente => GEMEENTE_PATTERN,
            ParamKind::Datum | ParamKind::Huisnummer | ParamKind::Boolean => return None,
        })
    }

    /// Whether the JSON value is valid for this kind (for a list kind: one element). Used by
    /// the policy loader to reject value rules that could never apply.
    pub(crate) fn accepts(self, value: &Value) -> bool {
        check_scalar(self, "", value).is_none()
    }
}

/// One parameter of one query type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ParamSpec {
    /// The JSON property name.
    pub name: &'static str,
    /// Its check.
    pub kind: ParamKind,
    /// Whether the query type requires it.
    pub required: bool,
}

const fn req(name: &'static str, kind: ParamKind) -> ParamSpec {
    ParamSpec {
        name,
        kind,
        required: true,
    }
}

const fn opt(name: &'static str, kind: ParamKind) -> ParamSpec {
    ParamSpec {
        name,
        kind,
        required: false,
    }
}

use ParamKind as K;

const RAADPLEEG_BSN: &[ParamSpec] = &[
    req("burgerservicenummer", K::BurgerservicenummerList),
    opt("gemeenteVanInschrijving", K::Gemeente),
];
const ZOEK_GESLACHTSNAAM_GEBOORTEDATUM: &[ParamSpec] = &[
    req("geslachtsnaam", K::NaamMetWildcard),
    req("geboortedatum", K::Datum),
    opt("geslacht", K::Geslacht),
    opt("voorvoegsel", K::Voorvoegsel),
    opt("voornamen", K::VoornamenOptioneel),
    opt("inclusiefOverledenPersonen", K::Boolean),
    opt("gemeenteVanInschrijving", K::Gemeente),
];
const ZOEK_NAAM_GEMEENTE: &[ParamSpec] = &[
    req("geslachtsnaam", K::NaamMetWildcard),
    req("voornamen", K::NaamMetWildcard),
    req("gemeenteVanInschrijving", K::Gemeente),
    opt("geslacht", K::Geslacht),
    opt("voorvoegsel", K::Voorvoegsel),
    opt("inclusiefOverledenPersonen", K::Boolean),
];
const ZOEK_POSTCODE_HUISNUMMER: &[ParamSpec] = &[
    req("postcode", K::Postcode),
    req("huisnummer", K::Huisnummer),
    opt("huisletter", K::Huisletter),
    opt("huisnummertoevoeging", K::Huisnummertoevoeging),
    opt("geboortedatum", K::Datum),
    opt("geslachtsnaam", K::NaamMetWildcard),
    opt("inclusiefOverledenPersonen", K::Boolean),
    opt("gemeenteVanInschrijving", K::Gemeente),
];
const ZOEK_STRAAT_HUISNUMMER_GEMEENTE: &[ParamSpec] = &[
    req("straat", K::Straat),
    req("huisnummer", K::Huisnummer),
    req("gemeenteVanInschrijving", K::Gemeente),
    opt("huisletter", K::Huisletter),
    opt("huisnummertoevoeging", K::Huisnummertoevoeging),
    opt("inclusiefOverledenPersonen", K::Boolean),
];
const ZOEK_NUMMERAANDUIDING: &[ParamSpec] = &[
    req("nummeraanduidingIdentificatie", K::BagId),
    opt("inclusiefOverledenPersonen", K::Boolean),
    opt("gemeenteVanInschrijving", K::Gemeente),
];
const ZOEK_ADRESSEERBAAR_OBJECT: &[ParamSpec] = &[
    req("adresseerbaarObjectIdentificatie", K::BagId),
    opt("inclusiefOverledenPersonen", K::Boolean),
    opt("gemeenteVanInschrijving", K::Gemeente),
];

impl QueryType {
    /// All seven, in the order of the specification's description.
    pub const ALL: [QueryType; 7] = [
        QueryType::RaadpleegMetBurgerservicenummer,
        QueryType::ZoekMetGeslachtsnaamEnGeboortedatum,
        QueryType::ZoekMetNaamEnGemeenteVanInschrijving,
        QueryType::ZoekMetPostcodeEnHuisnummer,
        QueryType::ZoekMetStraatHuisnummerEnGemeenteVanInschrijving,
        QueryType::ZoekMetNummeraanduidingIdentificatie,
        QueryType::ZoekMetAdresseerbaarObjectIdentificatie,
    ];

    /// The `type` value.
    pub fn as_str(self) -> &'static str {
        match self {
            QueryType::RaadpleegMetBurgerservicenummer => "RaadpleegMetBurgerservicenummer",
            QueryType::ZoekMetGeslachtsnaamEnGeboortedatum => "ZoekMetGeslachtsnaamEnGeboortedatum",
            QueryType::ZoekMetNaamEnGemeenteVanInschrijving => {
                "ZoekMetNaamEnGemeenteVanInschrijving"
            }
            QueryType::ZoekMetPostcodeEnHuisnummer => "ZoekMetPostcodeEnHuisnummer",
            QueryType::ZoekMetStraatHuisnummerEnGemeenteVanInschrijving => {
                "ZoekMetStraatHuisnummerEnGemeenteVanInschrijving"
            }
            QueryType::ZoekMetNummeraanduidingIdentificatie => {
                "ZoekMetNummeraanduidingIdentificatie"
            }
            QueryType::ZoekMetAdresseerbaarObjectIdentificatie => {
                "ZoekMetAdresseerbaarObjectIdentificatie"
            }
        }
    }

    /// The query type with this exact (case-sensitive) `type` value.
    pub fn from_name(name: &str) -> Option<QueryType> {
        QueryType::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// Its parameters besides `type` and `fields`, required ones first.
    pub fn parameters(self) -> &'static [ParamSpec] {
        match self {
            QueryType::RaadpleegMetBurgerservicenummer => RAADPLEEG_BSN,
            QueryType::ZoekMetGeslachtsnaamEnGeboortedatum => ZOEK_GESLACHTSNAAM_GEBOORTEDATUM,
            QueryType::ZoekMetNaamEnGemeenteVanInschrijving => ZOEK_NAAM_GEMEENTE,
            QueryType::ZoekMetPostcodeEnHuisnummer => ZOEK_POSTCODE_HUISNUMMER,
            QueryType::ZoekMetStraatHuisnummerEnGemeenteVanInschrijving => {
                ZOEK_STRAAT_HUISNUMMER_GEMEENTE
            }
            QueryType::ZoekMetNummeraanduidingIdentificatie => ZOEK_NUMMERAANDUIDING,
            QueryType::ZoekMetAdresseerbaarObjectIdentificatie => ZOEK_ADRESSEERBAAR_OBJECT,
        }
    }

    /// The specification of one of its parameters.
    pub fn parameter(self, name: &str) -> Option<&'static ParamSpec> {
        self.parameters().iter().find(|p| p.name == name)
    }

    /// The shape of the persons in its answer.
    pub fn response_shape(self) -> ResponseShape {
        match self {
            QueryType::RaadpleegMetBurgerservicenummer => ResponseShape::Persoon,
            QueryType::ZoekMetAdresseerbaarObjectIdentificatie => {
                ResponseShape::GezagPersoonBeperkt
            }
            _ => ResponseShape::PersoonBeperkt,
        }
    }

    /// Whether it is a search (`Zoek*`) rather than a lookup by BSN.
    pub fn is_search(self) -> bool {
        self != QueryType::RaadpleegMetBurgerservicenummer
    }

    /// Whether it takes `inclusiefOverledenPersonen` (every search does; a BSN lookup returns
    /// deceased persons regardless).
    pub fn supports_deceased(self) -> bool {
        self.parameter("inclusiefOverledenPersonen").is_some()
    }
}

impl std::fmt::Display for QueryType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Every parameter name of any query type, with its kind, without duplicates.
pub fn all_parameters() -> Vec<&'static ParamSpec> {
    let mut out: Vec<&'static ParamSpec> = Vec::new();
    for t in QueryType::ALL {
        for p in t.parameters() {
            if !out.iter().any(|o| o.name == p.name) {
                out.push(p);
            }
        }
    }
    out
}

/// A valid request body of a query type asking for `fields`, with an example value for each
/// required parameter (`gemeenteVanInschrijving` = `municipality`). It lets rights be derived by
/// deciding a real request of each type (`sluis rights`), never by a second reading of the policy.
pub fn sample_body(t: QueryType, fields: &[&str], municipality: &str) -> Value {
    let mut body = Map::new();
    body.insert("type".into(), Value::from(t.as_str()));
    body.insert(
        "fields".into(),
        Value::Array(fields.iter().map(|f| Value::from(*f)).collect()),
    );
    for p in t.parameters().iter().filter(|p| p.required) {
        let v = match p.kind {
            ParamKind::BurgerservicenummerList => Value::from(vec!["999993653"]),
            ParamKind::NaamMetWildcard | ParamKind::VoornamenOptioneel => Value::from("Jansen"),
            ParamKind::Voorvoegsel => Value::from("van"),
            ParamKind::Geslacht => Value::from("V"),
            ParamKind::Datum => Value::from("1980-01-01"),
            ParamKind::Postcode => Value::from("1011AB"),
            ParamKind::Huisnummer => Value::from(1),
            ParamKind::Huisletter => Value::from("A"),
            ParamKind::Huisnummertoevoeging => Value::from("2"),
            ParamKind::Straat => Value::from("Dam"),
            ParamKind::BagId => Value::from("0363200000000001"),
            ParamKind::Boolean => Value::Bool(false),
            ParamKind::Gemeente => Value::from(municipality),
        };
        body.insert(p.name.into(), v);
    }
    Value::Object(body)
}

/// A request that passed [`validate`]: a known query type with valid parameters.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    query_type: QueryType,
    fields: Option<Vec<String>>,
    parameters: Map<String, Value>,
}

impl Query {
    /// The query type.
    pub fn query_type(&self) -> QueryType {
        self.query_type
    }

    /// The client's `fields`, if it sent any.
    pub fn fields(&self) -> Option<&[String]> {
        self.fields.as_deref()
    }

    /// The parameters besides `type` and `fields`, in the order the client sent them.
    pub fn parameters(&self) -> &Map<String, Value> {
        &self.parameters
    }

    /// One parameter's value.
    pub fn parameter(&self, name: &str) -> Option<&Value> {
        self.parameters.get(name)
    }

    /// A string parameter's value.
    pub fn str_parameter(&self, name: &str) -> Option<&str> {
        self.parameters.get(name).and_then(Value::as_str)
    }

    /// A boolean parameter's value.
    pub fn bool_parameter(&self, name: &str) -> Option<bool> {
        self.parameters.get(name).and_then(Value::as_bool)
    }

    /// The burgerservicenummers of a `RaadpleegMetBurgerservicenummer`; empty for searches.
    pub fn burgerservicenummers(&self) -> Vec<&str> {
        match self.parameters.get("burgerservicenummer") {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        }
    }

    /// The request body again: `type`, the parameters, and `fields` when present.
    pub fn to_body(&self) -> Value {
        let mut body = Map::new();
        body.insert("type".to_owned(), Value::from(self.query_type.as_str()));
        for (k, v) in &self.parameters {
            body.insert(k.clone(), v.clone());
        }
        if let Some(fields) = &self.fields {
            body.insert("fields".to_owned(), Value::from(fields.clone()));
        }
        Value::Object(body)
    }
}

/// Validates a `POST /personen` body. On failure, every invalid parameter is listed (for an
/// unknown or missing `type` only that), ready for [`crate::Denial::params_validation`].
pub fn validate(body: &Value) -> Result<Query, Vec<InvalidParam>> {
    let Some(obj) = body.as_object() else {
        return Err(vec![InvalidParam::new("type", "required", REQUIRED)]);
    };
    let query_type = match obj.get("type") {
        None | Some(Value::Null) => {
            return Err(vec![InvalidParam::new("type", "required", REQUIRED)]);
        }
        Some(v) => match v.as_str().and_then(QueryType::from_name) {
            Some(t) => t,
            None => {
                return Err(vec![InvalidParam::new(
                    "type",
                    "value",
                    "Waarde is geen geldig zoek type.",
                )]);
            }
        },
    };

    let mut invalid = Vec::new();
    let mut fields = None;
    let mut parameters = Map::new();
    for (name, value) in obj {
        if name == "type" {
            continue;
        }
        if name == "fields" {
            fields = check_fields(query_type.response_shape(), value, &mut invalid);
            continue;
        }
        let Some(spec) = query_type.parameter(name) else {
            invalid.push(InvalidParam::new(
                name.as_str(),
                "unknownParam",
                "Parameter is niet verwacht.",
            ));
            continue;
        };
        if is_absent(spec, value) {
            // Reported below when required; an optional `null` is as if not sent.
            continue;
        }
        if check_value(spec, value, &mut invalid) {
            parameters.insert(name.clone(), value.clone());
        }
    }
    for spec in query_type.parameters().iter().filter(|p| p.required) {
        if obj.get(spec.name).is_none_or(|v| is_absent(spec, v)) {
            invalid.push(InvalidParam::new(spec.name, "required", REQUIRED));
        }
    }

    if invalid.is_empty() {
        Ok(Query {
            query_type,
            fields,
            parameters,
        })
    } else {
        sort_invalid(&mut invalid);
        Err(invalid)
    }
}

/// `null`, and the empty string for a required string parameter, count as not given (the BRP
/// API answers "Parameter is verplicht." for both).
fn is_absent(spec: &ParamSpec, value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::String(s) => spec.required && s.is_empty(),
        _ => false,
    }
}

/// Orders by parameter name, array items by index, so answers are deterministic.
fn sort_invalid(invalid: &mut [InvalidParam]) {
    fn key(name: &str) -> (&str, usize) {
        match name.split_once('[') {
            Some((base, rest)) => (
                base,
                rest.trim_end_matches(']').parse().unwrap_or(usize::MAX),
            ),
            None => (name, 0),
        }
    }
    invalid.sort_by(|a, b| key(&a.name).cmp(&key(&b.name)));
}

fn check_fields(
    shape: ResponseShape,
    value: &Value,
    invalid: &mut Vec<InvalidParam>,
) -> Option<Vec<String>> {
    let items = match value {
        Value::Null => return None,
        Value::Array(items) => items,
        _ => {
            invalid.push(InvalidParam::new(
                "fields",
                "array",
                "Parameter is geen array.",
            ));
            return None;
        }
    };
    if items.is_empty() {
        invalid.push(min_items("fields", 1));
        return None;
    }
    if items.len() > MAX_FIELDS {
        invalid.push(max_items("fields", MAX_FIELDS));
        return None;
    }
    let mut out = Vec::with_capacity(items.len());
    let mut ok = true;
    for (i, item) in items.iter().enumerate() {
        let name = format!("fields[{i}]");
        let problem = match item {
            Value::Null => Some(InvalidParam::new(name, "required", REQUIRED)),
            Value::String(path) if !is_field_path(path) => Some(pattern(name, FIELD_PATTERN)),
            Value::String(path) if names_auto_field(path) => Some(InvalidParam::new(
                name,
                "fields",
                "Parameter bevat een niet toegestane veldnaam.",
            )),
            Value::String(path) if !shape.is_valid_path(path) => Some(InvalidParam::new(
                name,
                "fields",
                "Parameter bevat een niet bestaande veldnaam.",
            )),
            Value::String(path) => {
                out.push(path.clone());
                None
            }
            _ => Some(pattern(name, FIELD_PATTERN)),
        };
        if let Some(p) = problem {
            ok = false;
            invalid.push(p);
        }
    }
    ok.then_some(out)
}

/// `^[a-zA-Z0-9\._]{1,200}$`
fn is_field_path(s: &str) -> bool {
    (1..=200).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_')
}

/// Checks one parameter; returns whether it is valid (problems are pushed).
fn check_value(spec: &ParamSpec, value: &Value, invalid: &mut Vec<InvalidParam>) -> bool {
    if spec.kind == ParamKind::BurgerservicenummerList {
        let Value::Array(items) = value else {
            invalid.push(InvalidParam::new(
                spec.name,
                "array",
                "Parameter is geen array.",
            ));
            return false;
        };
        if items.is_empty() {
            invalid.push(min_items(spec.name, 1));
            return false;
        }
        if items.len() > MAX_BSNS {
            invalid.push(max_items(spec.name, MAX_BSNS));
            return false;
        }
        let before = invalid.len();
        for (i, item) in items.iter().enumerate() {
            let name = format!("{}[{i}]", spec.name);
            if item.is_null() {
                invalid.push(InvalidParam::new(name, "required", REQUIRED));
            } else if let Some(p) = check_scalar(spec.kind, &name, item) {
                invalid.push(p);
            }
        }
        return invalid.len() == before;
    }
    match check_scalar(spec.kind, spec.name, value) {
        Some(p) => {
            invalid.push(p);
            false
        }
        None => true,
    }
}

/// The problem with one scalar value, if any.
fn check_scalar(kind: ParamKind, name: &str, value: &Value) -> Option<InvalidParam> {
    match kind {
        ParamKind::Boolean => (!value.is_boolean())
            .then(|| InvalidParam::new(name, "boolean", "Waarde is geen geldige boolean.")),
        ParamKind::Huisnummer => match value.as_i64() {
            None => Some(InvalidParam::new(
                name,
                "integer",
                "Waarde is geen geldige integer.",
            )),
            Some(n) if n < HUISNUMMER_MIN => Some(InvalidParam::new(
                name,
                "minimum",
                format!("Waarde is lager dan minimum {HUISNUMMER_MIN}."),
            )),
            Some(n) if n > HUISNUMMER_MAX => Some(InvalidParam::new(
                name,
                "maximum",
                format!("Waarde is hoger dan maximum {HUISNUMMER_MAX}."),
            )),
            Some(_) => None,
        },
        ParamKind::Datum => match value.as_str() {
            Some(s) if is_date(s) => None,
            _ => Some(InvalidParam::new(
                name,
                "date",
                "Waarde is geen geldige datum.",
            )),
        },
        _ => {
            let ok = value.as_str().is_some_and(|s| matches_kind(kind, s));
            if ok {
                None
            } else {
                kind.pattern().map(|p| pattern(name, p))
            }
        }
    }
}

fn matches_kind(kind: ParamKind, s: &str) -> bool {
    match kind {
        ParamKind::BurgerservicenummerList => digits(s, 9),
        ParamKind::NaamMetWildcard => naam_met_wildcard(s),
        ParamKind::VoornamenOptioneel => {
            let body = s.strip_suffix('*').unwrap_or(s);
            run_of(body, is_naam_char, 1, 199)
        }
        ParamKind::Voorvoegsel => run_of(
            s,
            |c| c.is_ascii_alphabetic() || c == ' ' || c == '\'',
            1,
            10,
        ),
        ParamKind::Geslacht => matches!(s, "M" | "m" | "V" | "v" | "O" | "o"),
        ParamKind::Postcode => is_postcode(s),
        ParamKind::Huisletter => run_of(s, |c| c.is_ascii_alphabetic(), 1, 1),
        ParamKind::Huisnummertoevoeging => run_of(
            s,
            |c| c.is_ascii_alphanumeric() || c == ' ' || c == '-',
            1,
            4,
        ),
        ParamKind::Straat => straat(s),
        ParamKind::BagId => digits(s, 16) && s.bytes().any(|b| b != b'0'),
        ParamKind::Gemeente => digits(s, 4),
        ParamKind::Datum | ParamKind::Huisnummer | ParamKind::Boolean => false,
    }
}

/// `[a-zA-Z0-9À-ž \.\-\']`: ASCII letters and digits, U+00C0..=U+017E, space, `.`, `-`, `'`.
fn is_naam_char(c: char) -> bool {
    c.is_ascii_alphanumeric()
        || ('\u{C0}'..='\u{17E}').contains(&c)
        || matches!(c, ' ' | '.' | '-' | '\'')
}

/// Whether `s` is `min..=max` characters all satisfying `ok`.
fn run_of(s: &str, ok: impl Fn(char) -> bool, min: usize, max: usize) -> bool {
    let mut n = 0;
    for c in s.chars() {
        if !ok(c) {
            return false;
        }
        n += 1;
    }
    (min..=max).contains(&n)
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

/// `^[cls]{1,200}$|^[cls]{3,199}\*{1}$`: a wildcard only after at least three characters.
fn naam_met_wildcard(s: &str) -> bool {
    match s.strip_suffix('*') {
        Some(body) => run_of(body, is_naam_char, 3, 199),
        None => run_of(s, is_naam_char, 1, 200),
    }
}

/// `^[c]{1,80}$|^[c]{7,79}\*{1}$|^\*{1}[c]{7,79}$`: a wildcard as prefix or suffix, after at
/// least seven characters.
fn straat(s: &str) -> bool {
    if let Some(body) = s.strip_suffix('*') {
        return run_of(body, is_naam_char, 7, 79);
    }
    if let Some(body) = s.strip_prefix('*') {
        return run_of(body, is_naam_char, 7, 79);
    }
    run_of(s, is_naam_char, 1, 80)
}

/// `^[1-9]{1}[0-9]{3}[ ]?[A-Za-z]{2}$`
fn is_postcode(s: &str) -> bool {
    let b = s.as_bytes();
    let (digits, letters) = match b.len() {
        6 => (b.get(..4), b.get(4..)),
        7 if b.get(4) == Some(&b' ') => (b.get(..4), b.get(5..)),
        _ => return false,
    };
    let (Some(digits), Some(letters)) = (digits, letters) else {
        return false;
    };
    digits.first().is_some_and(|d| (b'1'..=b'9').contains(d))
        && digits.iter().all(u8::is_ascii_digit)
        && letters.iter().all(u8::is_ascii_alphabetic)
}

/// A full calendar date `YYYY-MM-DD` (year 0001..9999).
pub(crate) fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = s.get(r)?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    y >= 1 && (1..=days).contains(&d)
}

fn pattern(name: impl Into<String>, pattern: &str) -> InvalidParam {
    InvalidParam::new(
        name,
        "pattern",
        format!("Waarde voldoet niet aan patroon {pattern}."),
    )
}

fn min_items(name: &str, n: usize) -> InvalidParam {
    InvalidParam::new(
        name,
        "minItems",
        format!("Array bevat minder dan {n} items."),
    )
}

pub(crate) fn max_items(name: &str, n: usize) -> InvalidParam {
    InvalidParam::new(name, "maxItems", format!("Array bevat meer dan {n} items."))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        assert!(is_date("2024-02-29"));
        assert!(!is_date("2023-02-29"));
        assert!(!is_date("1983-05-00"));
        assert!(!is_date("19830526"));
        assert!(!is_date("0000-01-01"));
        assert!(is_date("2000-02-29"));
        assert!(!is_date("1900-02-29"));
        assert!(!is_date("2020-13-01"));
        assert!(!is_date("2020-1-011"));
    }

    #[test]
    fn names() {
        assert!(naam_met_wildcard("Jansen"));
        assert!(naam_met_wildcard("Jan*"));
        assert!(!naam_met_wildcard("Ja*"));
        assert!(!naam_met_wildcard("*sen"));
        assert!(!naam_met_wildcard("gr*t"));
        assert!(!naam_met_wildcard("gr**"));
        assert!(naam_met_wildcard("Čapek-d'Ölçer"));
        assert!(!naam_met_wildcard("<script>"));
        assert!(!naam_met_wildcard(""));
    }

    #[test]
    fn postcodes() {
        assert!(is_postcode("1234AB"));
        assert!(is_postcode("1234 ab"));
        assert!(!is_postcode("0234AB"));
        assert!(!is_postcode("1234  AB"));
        assert!(!is_postcode("123AB"));
        assert!(!is_postcode("1234A1"));
    }

    #[test]
    fn streets() {
        assert!(straat("Spui"));
        assert!(straat("Kalverst*"));
        assert!(straat("*straat1"));
        assert!(!straat("Kalver*"));
        assert!(!straat("*traat"));
        assert!(!straat("*Kalverstraat*"));
    }
}
