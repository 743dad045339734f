//! Cross-checks the data written into this crate against the reference files in the reference
//! folder's `brp/` (read at test time, never copied; see `sluis_testkit::reference`): the
//! `fields` path lists, the municipality codes of Tabel 33, and the query types, parameters and
//! patterns of `openapi.yaml`. Without the folder those tests are skipped, saying so; the checks
//! of the embedded data alone always run.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers read fixed reference files"
)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use sluis_brp::{AutoField, ParamKind, QueryType, ResponseShape, gemeenten};
use sluis_testkit::require_reference;

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn csv_paths(path: &Path) -> BTreeSet<String> {
    let text = read(path);
    let mut lines = text
        .lines()
        .map(|l| l.trim_start_matches('\u{feff}').trim());
    assert_eq!(lines.next(), Some("pad"), "{}: header", path.display());
    lines.filter(|l| !l.is_empty()).map(str::to_owned).collect()
}

fn ours(paths: &[&str]) -> BTreeSet<String> {
    paths.iter().map(|p| (*p).to_owned()).collect()
}

#[test]
fn field_paths_match_the_reference_lists() {
    for shape in ResponseShape::ALL {
        let name = shape.name();
        let full = require_reference!(&format!("brp/fields-{name}.csv"));
        let filtered = require_reference!(&format!("brp/fields-filtered-{name}.csv"));
        assert_eq!(ours(shape.paths()), csv_paths(&full), "fields-{name}.csv");
        assert_eq!(
            ours(shape.filtered_paths()),
            csv_paths(&filtered),
            "fields-filtered-{name}.csv"
        );
    }
}

#[test]
fn embedded_path_lists_are_sorted_without_duplicates() {
    // The crate relies on sorted lists.
    for shape in ResponseShape::ALL {
        let name = shape.name();
        assert!(
            shape.paths().windows(2).all(|w| w[0] < w[1]),
            "{name} sorted"
        );
        assert!(
            shape.filtered_paths().windows(2).all(|w| w[0] < w[1]),
            "{name} filtered sorted"
        );
    }
}

#[test]
fn auto_delivered_fields_are_never_valid_paths() {
    for shape in ResponseShape::ALL {
        for p in shape.paths() {
            assert!(!sluis_brp::names_auto_field(p), "{p} in {}", shape.name());
        }
    }
}

#[test]
fn the_specification_names_the_auto_delivered_fields() {
    // The specification's `fields` description names five of them.
    let spec = read(&require_reference!("brp/openapi.yaml"));
    let line = spec
        .lines()
        .find(|l| l.contains("Velden die automatisch worden geleverd"))
        .expect("fields description");
    for name in [
        "inOnderzoek",
        "geheimhoudingPersoonsgegevens",
        "opschortingBijhouding",
        "rni",
        "verificatie",
    ] {
        assert!(line.contains(name), "{name}");
        assert!(AutoField::from_name(name).is_some(), "{name}");
    }
}

/// Tabel 33 is UTF-16 with a byte-order mark, quoted CSV: code, name, new code, start, end.
fn tabel33(path: &Path) -> Vec<Vec<String>> {
    let bytes = std::fs::read(path).unwrap();
    let units: Vec<u16> = bytes
        .chunks_exact(2)
        .map(|c| u16::from_le_bytes([c[0], c[1]]))
        .collect();
    let text = String::from_utf16(&units).unwrap();
    text.trim_start_matches('\u{feff}')
        .lines()
        .skip(1)
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let l = l.trim();
            let l = l.strip_prefix('"').unwrap_or(l);
            l.strip_suffix('"')
                .unwrap_or(l)
                .split("\",\"")
                .map(str::to_owned)
                .collect()
        })
        .collect()
}

#[test]
fn municipality_codes_match_tabel33() {
    let rows = tabel33(&require_reference!("brp/tabel33-gemeententabel.csv"));
    assert!(rows.len() > 1000);
    assert!(rows.iter().all(|r| r.len() == 5));
    let current: BTreeMap<&str, &str> = rows
        .iter()
        .filter(|r| r[4].is_empty())
        .map(|r| (r[0].as_str(), r[1].as_str()))
        .collect();
    let embedded: BTreeMap<&str, &str> = gemeenten::current_municipalities()
        .iter()
        .copied()
        .collect();
    assert_eq!(embedded, current);
    // Ended municipalities cannot be a policy's own municipality.
    let ended = rows.iter().find(|r| !r[4].is_empty()).unwrap();
    assert!(!gemeenten::is_current_municipality(&ended[0]));
}

#[test]
fn embedded_municipalities_are_sorted_and_current() {
    assert!(
        gemeenten::current_municipalities()
            .windows(2)
            .all(|w| w[0].0 < w[1].0)
    );
    assert_eq!(gemeenten::gemeente_name("0363"), Some("Amsterdam"));
    assert!(gemeenten::is_current_municipality("0363"));
    assert!(gemeenten::is_current_municipality("0384"));
    // The two pseudo-rows of Tabel 33 cannot be a policy's own municipality.
    assert!(!gemeenten::is_current_municipality("0000"));
    assert!(!gemeenten::is_current_municipality("1999"));
}

/// A tiny reader for the parts of `openapi.yaml` this test needs: a schema's block under
/// `components.schemas` (indent 4), found by name.
fn schema_block<'a>(spec: &'a str, name: &str) -> Vec<&'a str> {
    let header = format!("    {name}:");
    let mut lines = spec.lines().skip_while(|l| *l != header);
    assert!(lines.next().is_some(), "schema {name} not found");
    lines
        .take_while(|l| l.trim().is_empty() || l.starts_with("     "))
        .collect()
}

fn indent(l: &str) -> usize {
    l.len() - l.trim_start().len()
}

/// `required:` names of a schema block.
fn required(block: &[&str]) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut it = block.iter().skip_while(|l| l.trim() != "required:").skip(1);
    while let Some(l) = it.next().filter(|l| l.trim_start().starts_with("- ")) {
        out.insert(l.trim_start().trim_start_matches("- ").to_owned());
    }
    out
}

/// Properties of a query schema: name → referenced schema (for arrays, the items' schema).
fn properties(block: &[&str]) -> BTreeMap<String, String> {
    let start = block
        .iter()
        .position(|l| l.trim() == "properties:")
        .expect("properties");
    let prop_indent = indent(block[start + 1]);
    let mut out = BTreeMap::new();
    let mut current: Option<String> = None;
    for l in &block[start + 1..] {
        if l.trim().is_empty() {
            continue;
        }
        if indent(l) < prop_indent {
            break;
        }
        if indent(l) == prop_indent {
            current = Some(l.trim().trim_end_matches(':').to_owned());
        } else if let (Some(name), Some(r)) = (&current, l.trim().strip_prefix("$ref: ")) {
            let target = r
                .trim_matches('\'')
                .trim_start_matches("#/components/schemas/");
            out.insert(name.clone(), target.to_owned());
        }
    }
    out
}

fn scalar(block: &[&str], key: &str) -> Option<String> {
    block.iter().find_map(|l| {
        l.trim()
            .strip_prefix(&format!("{key}: "))
            .map(str::to_owned)
    })
}

#[test]
fn query_types_parameters_and_patterns_match_the_specification() {
    let spec = read(&require_reference!("brp/openapi.yaml"));
    // The discriminator names exactly our seven types.
    let base = schema_block(&spec, "PersonenQuery");
    let mapped: BTreeSet<&str> = base
        .iter()
        .filter_map(|l| {
            l.trim()
                .split_once(": '#/components/schemas/")
                .map(|(k, _)| k)
        })
        .filter(|k| !k.starts_with('$'))
        .collect();
    let ours: BTreeSet<&str> = QueryType::ALL.iter().map(|t| t.as_str()).collect();
    assert_eq!(mapped, ours);
    // fields: 1..130 of the field pattern; gemeenteVanInschrijving on every type.
    assert_eq!(scalar(&base, "maxItems").as_deref(), Some("130"));
    assert_eq!(sluis_brp::MAX_FIELDS, 130);
    assert_eq!(
        scalar(&schema_block(&spec, "Field"), "pattern").as_deref(),
        Some(sluis_brp::FIELD_PATTERN)
    );
    let gemeente_pattern = scalar(&schema_block(&spec, "GemeenteVanInschrijving"), "pattern");

    for t in QueryType::ALL {
        let block = schema_block(&spec, t.as_str());
        let spec_required = required(&block);
        let mut spec_props = properties(&block);
        spec_props.insert(
            "gemeenteVanInschrijving".to_owned(),
            "GemeenteVanInschrijving".to_owned(),
        );

        let our_required: BTreeSet<String> = t
            .parameters()
            .iter()
            .filter(|p| p.required)
            .map(|p| p.name.to_owned())
            .collect();
        assert_eq!(our_required, spec_required, "{} required", t.as_str());
        let our_names: BTreeSet<&str> = t.parameters().iter().map(|p| p.name).collect();
        let spec_names: BTreeSet<&str> = spec_props.keys().map(String::as_str).collect();
        assert_eq!(our_names, spec_names, "{} parameters", t.as_str());

        for p in t.parameters() {
            let target = &spec_props[p.name];
            let target_block = schema_block(&spec, target);
            match p.kind {
                ParamKind::Boolean => {
                    assert_eq!(scalar(&target_block, "type").as_deref(), Some("boolean"))
                }
                ParamKind::Datum => {
                    assert_eq!(scalar(&target_block, "format").as_deref(), Some("date"))
                }
                ParamKind::Huisnummer => {
                    assert_eq!(scalar(&target_block, "minimum").as_deref(), Some("1"));
                    assert_eq!(scalar(&target_block, "maximum").as_deref(), Some("99999"));
                }
                kind => {
                    let spec_pattern = if p.name == "gemeenteVanInschrijving" {
                        gemeente_pattern.clone()
                    } else {
                        scalar(&target_block, "pattern")
                    };
                    assert_eq!(
                        kind.pattern().map(str::to_owned),
                        spec_pattern,
                        "{}.{}",
                        t.as_str(),
                        p.name
                    );
                }
            }
        }
    }
    // The burgerservicenummer array: 1..20 items.
    let raadpleeg = schema_block(&spec, "RaadpleegMetBurgerservicenummer");
    assert_eq!(scalar(&raadpleeg, "minItems").as_deref(), Some("1"));
    assert_eq!(scalar(&raadpleeg, "maxItems").as_deref(), Some("20"));
    assert_eq!(sluis_brp::MAX_BSNS, 20);
}
