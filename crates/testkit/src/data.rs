//! Seeded, reproducible fictional records for the fixture datasets.
//!
//! The shapes follow `examples/policy/datasets/` exactly (same field names and nesting, every
//! field present on every record), but are built here in code: the fixture must not depend on
//! the example files at run time. Each table draws from its own PRNG stream, so changing the
//! size of one table leaves the others' records unchanged.

use std::collections::{HashMap, HashSet};

use serde_json::{Map, Value, json};

use crate::TestkitError;
use crate::config::FixtureConfig;
use crate::rng::{SplitMix64, random_date};

/// How a table's identifier appears in paths and in `_links.self.id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdKind {
    /// `/containers/17`, `"id": 17`.
    Integer,
    /// `/clusters/C0001`, `"id": "C0001"`.
    String,
}

/// A relation from one table to another in the same dataset (DSO renders it as a `_links`
/// entry; the local key stays an ordinary field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Relation {
    /// Name of the relation field (`cluster`): the `_links` key and the `_expandScope` name.
    pub name: &'static str,
    /// The local field holding the target's identifier (`clusterId`).
    pub key_field: &'static str,
    /// Target table in the same dataset (`clusters`).
    pub target_table: &'static str,
}

/// One table of fictional records.
#[derive(Debug, Clone)]
pub struct Table {
    dataset: &'static str,
    name: &'static str,
    id_kind: IdKind,
    relations: &'static [Relation],
    field_paths: &'static [&'static str],
    records: Vec<Map<String, Value>>,
    by_id: HashMap<String, usize>,
}

impl Table {
    fn new(
        dataset: &'static str,
        name: &'static str,
        id_kind: IdKind,
        relations: &'static [Relation],
        field_paths: &'static [&'static str],
        records: Vec<Map<String, Value>>,
    ) -> Self {
        let by_id = records
            .iter()
            .enumerate()
            .filter_map(|(i, r)| r.get("id").and_then(id_key).map(|k| (k, i)))
            .collect();
        Self {
            dataset,
            name,
            id_kind,
            relations,
            field_paths,
            records,
            by_id,
        }
    }

    /// Dataset id (`afvalwegingen`).
    pub fn dataset(&self) -> &'static str {
        self.dataset
    }

    /// Table id (`containers`).
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Kind of the `id` field.
    pub fn id_kind(&self) -> IdKind {
        self.id_kind
    }

    /// Relations to other tables of the same dataset.
    pub fn relations(&self) -> &'static [Relation] {
        self.relations
    }

    /// Every leaf field as a dotted path (`verblijfplaats.postcode`, `regimes.eindtijd`), in
    /// schema order. These are the filterable and sortable names.
    pub fn field_paths(&self) -> &'static [&'static str] {
        self.field_paths
    }

    /// The records (fields only; `_links` are added when rendered), in identifier order.
    pub fn records(&self) -> &[Map<String, Value>] {
        &self.records
    }

    /// Number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether the table has no records.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The record whose `id` renders as `id` (`"17"`, `"C0001"`).
    pub fn get(&self, id: &str) -> Option<&Map<String, Value>> {
        self.by_id.get(id).and_then(|&i| self.records.get(i))
    }

    /// URL of the Amsterdam Schema table definition, as DSO puts it in `_links.schema`.
    pub fn schema_url(&self) -> String {
        format!(
            "https://schemas.data.amsterdam.nl/datasets/{}/dataset#{}",
            self.dataset, self.name
        )
    }
}

/// The identifier of a record as it appears in a path and as a map key.
pub(crate) fn id_key(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// All fixture tables.
#[derive(Debug, Clone)]
pub struct FixtureData {
    tables: Vec<Table>,
}

const CONTAINER_RELATIONS: &[Relation] = &[Relation {
    name: "cluster",
    key_field: "clusterId",
    target_table: "clusters",
}];

const CONTAINER_FIELDS: &[&str] = &[
    "id",
    "serienummer",
    "fractieOmschrijving",
    "eigenaarNaam",
    "datumCreatie",
    "clusterId",
];

const CLUSTER_FIELDS: &[&str] = &[
    "id",
    "status",
    "adres.straatnaam",
    "adres.huisnummer",
    "adres.postcode",
];

const PERSON_FIELDS: &[&str] = &[
    "id",
    "bsn",
    "voornamen",
    "geslachtsnaam",
    "geboortedatum",
    "verblijfplaats.straat",
    "verblijfplaats.huisnummer",
    "verblijfplaats.postcode",
    "verblijfplaats.woonplaats",
    "nationaliteiten.code",
    "nationaliteiten.omschrijving",
];

const PARKEERVAK_FIELDS: &[&str] = &[
    "id",
    "buurtcode",
    "type",
    "soort",
    "aantal",
    "regimes.eindtijd",
    "regimes.aantal",
];

impl FixtureData {
    /// Builds all tables from the configuration's seed and sizes.
    ///
    /// # Errors
    /// [`TestkitError::Config`] when containers are requested without any cluster to refer to.
    pub fn generate(config: &FixtureConfig) -> Result<Self, TestkitError> {
        if config.containers > 0 && config.clusters == 0 {
            return Err(TestkitError::Config(
                "containers need at least one cluster to refer to".to_owned(),
            ));
        }
        let clusters = gen_clusters(config.seed, config.clusters);
        let cluster_ids: Vec<String> = clusters
            .iter()
            .filter_map(|c| c.get("id").and_then(id_key))
            .collect();
        let containers = gen_containers(config.seed, config.containers, &cluster_ids);
        let persons = gen_persons(config.seed, config.persons);
        let vakken = gen_parkeervakken(config.seed, config.parkeervakken);
        Ok(Self {
            tables: vec![
                Table::new(
                    "afvalwegingen",
                    "containers",
                    IdKind::Integer,
                    CONTAINER_RELATIONS,
                    CONTAINER_FIELDS,
                    containers,
                ),
                Table::new(
                    "afvalwegingen",
                    "clusters",
                    IdKind::String,
                    &[],
                    CLUSTER_FIELDS,
                    clusters,
                ),
                Table::new(
                    "brp",
                    "ingeschrevenpersonen",
                    IdKind::Integer,
                    &[],
                    PERSON_FIELDS,
                    persons,
                ),
                Table::new(
                    "parkeervakken",
                    "parkeervakken",
                    IdKind::String,
                    &[],
                    PARKEERVAK_FIELDS,
                    vakken,
                ),
            ],
        })
    }

    /// The table `dataset`/`table`, if the fixture serves it.
    pub fn table(&self, dataset: &str, table: &str) -> Option<&Table> {
        self.tables
            .iter()
            .find(|t| t.dataset == dataset && t.name == table)
    }

    /// All tables, in a fixed order.
    pub fn tables(&self) -> &[Table] {
        &self.tables
    }
}

/// Whether `bsn` is nine digits passing the 11-proef (weights 9..2 and −1, sum divisible by 11,
/// not all zeros).
pub fn bsn_is_valid(bsn: &str) -> bool {
    let digits: Vec<i64> = bsn
        .chars()
        .filter_map(|c| c.to_digit(10).map(i64::from))
        .collect();
    if bsn.len() != 9 || digits.len() != 9 {
        return false;
    }
    let weights = [9, 8, 7, 6, 5, 4, 3, 2, -1];
    let sum: i64 = digits.iter().zip(weights).map(|(d, w)| d * w).sum();
    sum != 0 && sum % 11 == 0
}

// ---------------------------------------------------------------------------------------------
// Word lists (fictional; any resemblance to real addresses or people is coincidental).

const STREET_PREFIXES: &[&str] = &[
    "Linden",
    "Eiken",
    "Beuken",
    "Kastanje",
    "Meeuwen",
    "Reiger",
    "Zwanen",
    "Tulpen",
    "Rozen",
    "Irissen",
    "Molen",
    "Sluis",
    "Dijk",
    "Haven",
    "Vondel",
    "Rembrandt",
    "Spinoza",
    "Erasmus",
    "Huygens",
    "Wilgen",
    "Berken",
    "Lijster",
    "Merel",
    "Zeil",
    "Anker",
];
const STREET_SUFFIXES: &[&str] = &[
    "straat",
    "laan",
    "gracht",
    "weg",
    "plein",
    "kade",
    "hof",
    "singel",
    "dwarsstraat",
    "pad",
];
const FIRST_NAMES: &[&str] = &[
    "Jan", "Pieter", "Kees", "Willem", "Daan", "Sem", "Lucas", "Mohammed", "Noah", "Ahmet",
    "Sanne", "Emma", "Julia", "Fatima", "Anna", "Zoë", "Chloë", "Noël", "Maria", "Johanna",
    "Lotte", "Yasmina", "Sophie", "Thijs", "Bram", "Femke", "Ilse", "Ömer", "Anouk", "Ruben",
];
const LAST_NAMES: &[&str] = &[
    "de Vries",
    "Jansen",
    "Bakker",
    "van den Berg",
    "Visser",
    "Smit",
    "Meijer",
    "de Boer",
    "Mulder",
    "de Groot",
    "Bos",
    "Vos",
    "Peters",
    "Hendriks",
    "van Leeuwen",
    "Dekker",
    "El Amrani",
    "Yılmaz",
    "Çelik",
    "Brouwer",
    "van Dijk",
    "Kramer",
    "Verhoeven",
    "Hoekstra",
    "Bouzid",
    "Postma",
    "van der Linden",
    "Koster",
    "Prins",
    "Huisman",
];
/// (woonplaats, lowest postcode digits, highest postcode digits)
const PLACES: &[(&str, u64, u64)] = &[
    ("Amsterdam", 1011, 1109),
    ("Amsterdam", 1011, 1109),
    ("Amsterdam", 1011, 1109),
    ("Weesp", 1381, 1384),
    ("Amstelveen", 1181, 1189),
    ("Diemen", 1111, 1115),
    ("Zaandam", 1501, 1509),
    ("Haarlem", 2011, 2037),
];
const NATIONALITIES: &[(&str, &str)] = &[
    ("0001", "Nederlandse"),
    ("0052", "Belgische"),
    ("0055", "Duitse"),
    ("0058", "Franse"),
    ("0263", "Marokkaanse"),
    ("0268", "Turkse"),
    ("0331", "Surinaamse"),
    ("0306", "Poolse"),
];
const CLUSTER_STATUSES: &[&str] = &["in gebruik", "in gebruik", "buiten gebruik", "gepland"];
const FRACTIONS: &[(&str, &str)] = &[
    ("Rest", "Restafval"),
    ("Papier", "Papier en karton"),
    ("Glas", "Glas (wit en gekleurd)"),
    ("Textiel", "Textiel en schoenen"),
    ("Plastic", "Plastic, metaal en drankenkartons"),
    ("GFT", "Groente-, fruit- en tuinafval"),
];
const CONTAINER_KINDS: &[&str] = &[
    "ondergrondse container",
    "bovengrondse container",
    "semi-ondergrondse container",
    "rolcontainer",
];
const OWNERS: &[&str] = &[
    "Gemeente Amsterdam, Stadsdeel Centrum",
    "Gemeente Amsterdam, Stadsdeel Noord",
    "Gemeente Amsterdam, Stadsdeel Oost",
    "Gemeente Amsterdam, Stadsdeel Nieuw-West",
    "Gemeente Amsterdam, Stadsdeel Zuidoost",
    "Afvalbeheer Amstelland B.V.",
    "Woningstichting De Wilgenhof",
    "Inzamelcoöperatie Noordkade U.A.",
];
const WEEKDAYS: &[&str] = &[
    "maandag",
    "dinsdag",
    "woensdag",
    "donderdag",
    "vrijdag",
    "zaterdag",
];
const SENSORS: &[&str] = &["VS-200", "FillMeter 3", "ultrasoon type B", "geen sensor"];
const BUURT_LETTERS: &[&str] = &["A", "E", "F", "K", "M", "N", "T"];
const VAK_TYPES: &[&str] = &["Langs", "Haaks", "Schuin", "Vork"];
const VAK_SOORTEN: &[&str] = &[
    "FISCAAL",
    "FISCAAL",
    "VERGUNNING",
    "MINDERVALIDE",
    "LAADPLEK",
    "ELEKTRISCH OPLADEN",
];
const END_TIMES: &[&str] = &[
    "07:00", "09:00", "12:00", "16:00", "19:00", "21:00", "23:59",
];

fn street(rng: &mut SplitMix64) -> String {
    format!(
        "{}{}",
        rng.pick_str(STREET_PREFIXES),
        rng.pick_str(STREET_SUFFIXES)
    )
}

/// A Dutch-style postcode (`1011AB`); letter pairs SA, SD and SS are not issued.
fn postcode(rng: &mut SplitMix64, lo: u64, hi: u64) -> String {
    let digits = rng.range(lo, hi);
    loop {
        let a = letter(rng);
        let b = letter(rng);
        if !(a == 'S' && matches!(b, 'A' | 'D' | 'S')) {
            return format!("{digits}{a}{b}");
        }
    }
}

fn letter(rng: &mut SplitMix64) -> char {
    let n = u8::try_from(rng.below(26)).unwrap_or(0);
    char::from(b'A' + n)
}

fn gen_clusters(seed: u64, n: usize) -> Vec<Map<String, Value>> {
    let mut rng = SplitMix64::for_stream(seed, "afvalwegingen.clusters");
    (1..=n)
        .map(|i| {
            let (_, lo, hi) = PLACES.first().copied().unwrap_or(("Amsterdam", 1011, 1109));
            let record = json!({
                "id": format!("C{i:04}"),
                "status": rng.pick_str(CLUSTER_STATUSES),
                "adres": {
                    "straatnaam": street(&mut rng),
                    "huisnummer": rng.range(1, 250),
                    "postcode": postcode(&mut rng, lo, hi),
                }
            });
            into_map(record)
        })
        .collect()
}

/// A long, plausible description; containers are padded to about 1 KB of JSON with it.
fn fractie_omschrijving(rng: &mut SplitMix64) -> String {
    let (short, long) = rng
        .pick(FRACTIONS)
        .copied()
        .unwrap_or(("Rest", "Restafval"));
    let kind = rng.pick_str(CONTAINER_KINDS);
    let volume = rng.range(2, 5);
    let mut text = format!("{long} ({short}): {kind} van {volume} m³.");
    let target = 450 + usize::try_from(rng.below(60)).unwrap_or(0);
    while text.len() < target {
        let sentence = match rng.below(6) {
            0 => format!(
                " Wordt op {} geleegd volgens inzamelroute {}-{:02}.",
                rng.pick_str(WEEKDAYS),
                short.to_uppercase(),
                rng.range(1, 40)
            ),
            1 => format!(
                " Inwerpopening {} cm, vulgraadmeting met {}.",
                rng.range(30, 60),
                rng.pick_str(SENSORS)
            ),
            2 => format!(
                " Geplaatst aan de {} ter hoogte van huisnummer {}, bereikbaar voor zijlader.",
                street(rng),
                rng.range(1, 300)
            ),
            3 => format!(
                " Laatste inspectie op {} zonder gebreken afgerond.",
                random_date(rng, (2022, 1, 1), (2024, 12, 31))
            ),
            4 => format!(
                " Onderhoudscontract OC-{}-{:03}; bij storing melden via het meldpunt openbare ruimte.",
                rng.range(2018, 2024),
                rng.range(1, 999)
            ),
            _ => format!(
                " Gemiddeld {} kg per lediging gewogen in het afgelopen kwartaal.",
                rng.range(40, 900)
            ),
        };
        text.push_str(&sentence);
    }
    text
}

fn gen_containers(seed: u64, n: usize, cluster_ids: &[String]) -> Vec<Map<String, Value>> {
    let mut rng = SplitMix64::for_stream(seed, "afvalwegingen.containers");
    (1..=n)
        .map(|i| {
            let cluster = rng.pick(cluster_ids).cloned().unwrap_or_default();
            let datum = random_date(&mut rng, (2005, 1, 1), (2023, 12, 31));
            let year = datum.get(..4).unwrap_or("2005").to_owned();
            let record = json!({
                "id": i,
                "serienummer": format!("AFV-{year}-{:06}", rng.below(1_000_000)),
                "fractieOmschrijving": fractie_omschrijving(&mut rng),
                "eigenaarNaam": rng.pick_str(OWNERS),
                "datumCreatie": datum,
                "clusterId": cluster,
            });
            into_map(record)
        })
        .collect()
}

/// A fresh BSN passing the 11-proef; the first digit is never 0 so it reads as a number too.
pub(crate) fn bsn(rng: &mut SplitMix64, used: &mut HashSet<String>) -> String {
    loop {
        let mut digits = [0u64; 9];
        let mut sum: u64 = 0;
        for (i, d) in digits.iter_mut().take(8).enumerate() {
            *d = if i == 0 {
                rng.range(1, 9)
            } else {
                rng.below(10)
            };
            sum += *d * (9 - i as u64);
        }
        let check = sum % 11;
        if check == 10 {
            continue;
        }
        if let Some(last) = digits.get_mut(8) {
            *last = check;
        }
        let s: String = digits.iter().map(|d| d.to_string()).collect();
        if used.insert(s.clone()) {
            return s;
        }
    }
}

fn gen_persons(seed: u64, n: usize) -> Vec<Map<String, Value>> {
    let mut rng = SplitMix64::for_stream(seed, "brp.ingeschrevenpersonen");
    let mut used = HashSet::new();
    (1..=n)
        .map(|i| {
            let names: Vec<&str> = (0..rng.range(1, 3))
                .map(|_| rng.pick_str(FIRST_NAMES))
                .collect();
            let (place, lo, hi) = rng
                .pick(PLACES)
                .copied()
                .unwrap_or(("Amsterdam", 1011, 1109));
            let mut nationaliteiten = vec![nationality(&mut rng, true)];
            if rng.chance(15) {
                nationaliteiten.push(nationality(&mut rng, false));
            }
            let record = json!({
                "id": i,
                "bsn": bsn(&mut rng, &mut used),
                "voornamen": names.join(" "),
                "geslachtsnaam": rng.pick_str(LAST_NAMES),
                "geboortedatum": random_date(&mut rng, (1930, 1, 1), (2023, 12, 31)),
                "verblijfplaats": {
                    "straat": street(&mut rng),
                    "huisnummer": rng.range(1, 350),
                    "postcode": postcode(&mut rng, lo, hi),
                    "woonplaats": place,
                },
                "nationaliteiten": nationaliteiten,
            });
            into_map(record)
        })
        .collect()
}

fn nationality(rng: &mut SplitMix64, first: bool) -> Value {
    // Most people are Dutch; a second nationality never repeats the Dutch one.
    let (code, omschrijving) = if first && rng.chance(80) {
        ("0001", "Nederlandse")
    } else {
        rng.pick(NATIONALITIES.get(1..).unwrap_or(NATIONALITIES))
            .copied()
            .unwrap_or(("0001", "Nederlandse"))
    };
    json!({ "code": code, "omschrijving": omschrijving })
}

fn gen_parkeervakken(seed: u64, n: usize) -> Vec<Map<String, Value>> {
    let mut rng = SplitMix64::for_stream(seed, "parkeervakken.parkeervakken");
    let mut used = HashSet::new();
    (1..=n)
        .map(|_| {
            let id = loop {
                let candidate = format!("1{:011}", rng.below(100_000_000_000));
                if used.insert(candidate.clone()) {
                    break candidate;
                }
            };
            let regimes: Vec<Value> = (0..rng.range(1, 3))
                .map(|_| json!({ "eindtijd": rng.pick_str(END_TIMES), "aantal": rng.range(1, 4) }))
                .collect();
            let aantal = rng.range(1, 6) as f64 / if rng.chance(10) { 2.0 } else { 1.0 };
            let record = json!({
                "id": id,
                "buurtcode": format!(
                    "{}{:02}{}",
                    rng.pick_str(BUURT_LETTERS),
                    rng.range(1, 99),
                    char::from(b'a' + u8::try_from(rng.below(8)).unwrap_or(0))
                ),
                "type": rng.pick_str(VAK_TYPES),
                "soort": rng.pick_str(VAK_SOORTEN),
                "aantal": aantal,
                "regimes": regimes,
            });
            into_map(record)
        })
        .collect()
}

fn into_map(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data() -> FixtureData {
        FixtureData::generate(&FixtureConfig::default()).unwrap()
    }

    /// Every leaf path of a record, arrays of objects flattened into their element paths.
    fn leaf_paths(prefix: &str, v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    let p = if prefix.is_empty() {
                        k.clone()
                    } else {
                        format!("{prefix}.{k}")
                    };
                    leaf_paths(&p, child, out);
                }
            }
            Value::Array(items) => {
                let mut seen = Vec::new();
                for item in items {
                    let mut sub = Vec::new();
                    leaf_paths(prefix, item, &mut sub);
                    for s in sub {
                        if !seen.contains(&s) {
                            seen.push(s);
                        }
                    }
                }
                out.extend(seen);
            }
            _ => out.push(prefix.to_owned()),
        }
    }

    #[test]
    fn every_record_has_exactly_the_declared_fields() {
        for table in data().tables() {
            assert!(!table.is_empty(), "{}", table.name());
            for record in table.records() {
                let mut paths = Vec::new();
                leaf_paths("", &Value::Object(record.clone()), &mut paths);
                assert_eq!(paths, table.field_paths(), "{}", table.name());
            }
        }
    }

    #[test]
    fn containers_refer_to_existing_clusters() {
        let d = data();
        let clusters = d.table("afvalwegingen", "clusters").unwrap();
        for c in d.table("afvalwegingen", "containers").unwrap().records() {
            let id = c["clusterId"].as_str().unwrap();
            assert!(clusters.get(id).is_some(), "{id}");
        }
    }

    #[test]
    fn ids_are_unique_and_indexed() {
        for table in data().tables() {
            assert_eq!(table.by_id.len(), table.len(), "{}", table.name());
        }
    }

    #[test]
    fn bsn_check() {
        assert!(bsn_is_valid("111222333"));
        assert!(bsn_is_valid("123456782"));
        assert!(!bsn_is_valid("123456789"));
        assert!(!bsn_is_valid("000000000"));
        assert!(!bsn_is_valid("12345678"));
        assert!(!bsn_is_valid("12345678a"));
    }

    #[test]
    fn postcodes_look_dutch() {
        let d = data();
        for p in d.table("brp", "ingeschrevenpersonen").unwrap().records() {
            let pc = p["verblijfplaats"]["postcode"].as_str().unwrap();
            assert_eq!(pc.len(), 6);
            assert!(pc[..4].chars().all(|c| c.is_ascii_digit()) && !pc.starts_with('0'));
            assert!(pc[4..].chars().all(|c| c.is_ascii_uppercase()));
            assert!(!["SA", "SD", "SS"].contains(&&pc[4..]));
        }
    }

    #[test]
    fn no_clusters_for_containers_is_a_config_error() {
        let cfg = FixtureConfig {
            clusters: 0,
            ..FixtureConfig::default()
        };
        assert!(matches!(
            FixtureData::generate(&cfg),
            Err(TestkitError::Config(_))
        ));
    }
}
