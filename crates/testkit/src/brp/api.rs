//! Answering one `POST /personen`, independent of the socket: validation, the seven searches,
//! the search limit, `fields`.

use serde_json::{Value, json};

use super::data::{BrpData, normalize_postcode};
use super::model::{BrpPerson, BrpStatus};
use super::problem::BrpProblem;
use super::request::{self, PersonenRequest, QueryType};

/// The response for a request body, or a problem.
pub(crate) fn personen(
    data: &BrpData,
    body: &[u8],
    max_results: usize,
) -> Result<Value, BrpProblem> {
    let value: Value = serde_json::from_slice(body).map_err(|_| {
        BrpProblem::new(
            400,
            "paramsValidation",
            "Een of meerdere parameters zijn niet correct.",
            Some("De request body is geen geldig JSON document."),
        )
    })?;
    let req = request::parse(&value).map_err(BrpProblem::params)?;
    let found = find(data, &req);
    if req.query_type != QueryType::Raadpleeg && found.len() > max_results {
        return Err(BrpProblem::too_many_results(max_results));
    }
    let shape = req.query_type.shape();
    let personen: Vec<Value> = found
        .iter()
        .map(|p| req.fields.apply(&data.render(p, shape), p.binnenland()))
        .collect();
    Ok(json!({"type": req.query_type.name(), "personen": personen}))
}

/// Case- and diacritic-insensitive form of a name: "Çelik" and "celik" compare equal.
pub(crate) fn fold(s: &str) -> String {
    s.chars()
        .flat_map(char::to_lowercase)
        .filter(|c| !('\u{300}'..='\u{36F}').contains(c))
        .map(|c| match c {
            'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'ă' | 'ą' | 'æ' => 'a',
            'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => 'c',
            'ď' | 'đ' => 'd',
            'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => 'e',
            'ĝ' | 'ğ' | 'ġ' | 'ģ' => 'g',
            'ĥ' | 'ħ' => 'h',
            'ì' | 'í' | 'î' | 'ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' => 'i',
            'ĵ' => 'j',
            'ķ' => 'k',
            'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => 'l',
            'ñ' | 'ń' | 'ņ' | 'ň' => 'n',
            'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'ō' | 'ŏ' | 'ő' | 'œ' => 'o',
            'ŕ' | 'ŗ' | 'ř' => 'r',
            'ś' | 'ŝ' | 'ş' | 'š' | 'ß' => 's',
            'ţ' | 'ť' | 'ŧ' => 't',
            'ù' | 'ú' | 'û' | 'ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' => 'u',
            'ŵ' => 'w',
            'ý' | 'ÿ' | 'ŷ' => 'y',
            'ź' | 'ż' | 'ž' => 'z',
            other => other,
        })
        .collect()
}

/// A name filter: exact (folded), or a prefix when it ends with `*`.
fn name_matches(filter: &str, value: &str) -> bool {
    match filter.strip_suffix('*') {
        Some(prefix) => fold(value).starts_with(&fold(prefix)),
        None => fold(value) == fold(filter),
    }
}

/// The persons whose geslachtsnaam matches `filter` (as [`name_matches`]), using the names
/// folded once at generation.
fn by_geslachtsnaam<'a>(
    data: &'a BrpData,
    filter: Option<&str>,
) -> impl Iterator<Item = &'a BrpPerson> {
    let wanted = filter.map(|f| match f.strip_suffix('*') {
        Some(prefix) => (fold(prefix), true),
        None => (fold(f), false),
    });
    data.persons
        .iter()
        .zip(&data.index.folded_geslachtsnaam)
        .filter(move |(_, folded)| match &wanted {
            Some((w, true)) => folded.starts_with(w.as_str()),
            Some((w, false)) => *folded == w,
            None => false,
        })
        .map(|(p, _)| p)
}

/// A street filter: exact, `prefix*` or `*suffix`, against the official or the short name.
fn straat_matches(filter: &str, officieel: &str, kort: &str) -> bool {
    let test = |name: &str| {
        let name = fold(name);
        if let Some(prefix) = filter.strip_suffix('*') {
            name.starts_with(&fold(prefix))
        } else if let Some(suffix) = filter.strip_prefix('*') {
            name.ends_with(&fold(suffix))
        } else {
            name == fold(filter)
        }
    };
    test(officieel) || test(kort)
}

fn eq_ci(a: Option<&String>, b: Option<&String>) -> bool {
    match (a, b) {
        (None, _) => true,
        (Some(f), Some(v)) => f.eq_ignore_ascii_case(v),
        (Some(_), None) => false,
    }
}

fn find<'a>(data: &'a BrpData, req: &PersonenRequest) -> Vec<&'a BrpPerson> {
    let p = &req.params;
    let in_gemeente = |person: &BrpPerson| {
        req.gemeente
            .as_deref()
            .is_none_or(|g| person.gemeente.code == g)
    };
    if req.query_type == QueryType::Raadpleeg {
        let mut out: Vec<&BrpPerson> = Vec::new();
        for bsn in &p.burgerservicenummer {
            if let Some(person) = data.person(bsn)
                && in_gemeente(person)
                && !out.iter().any(|o| o.bsn == person.bsn)
            {
                out.push(person);
            }
        }
        return out;
    }
    let alive =
        |person: &BrpPerson| req.inclusief_overleden || person.status != BrpStatus::Deceased;
    let keep = |person: &&BrpPerson| alive(person) && in_gemeente(person);
    let residents = |addrs: Vec<usize>| -> Vec<&'a BrpPerson> {
        addrs
            .into_iter()
            .filter_map(|a| data.addresses.get(a))
            .flat_map(|a| a.residents.iter())
            .filter_map(|&i| data.persons.get(i))
            .collect()
    };
    match req.query_type {
        QueryType::Raadpleeg => Vec::new(),
        QueryType::NaamGeboorte => by_geslachtsnaam(data, p.geslachtsnaam.as_deref())
            .filter(|person| {
                p.geboortedatum.is_some()
                    && person.geboorte.datum.full() == p.geboortedatum
                    && names_optional(req, person)
            })
            .filter(keep)
            .collect(),
        QueryType::NaamGemeente => by_geslachtsnaam(data, p.geslachtsnaam.as_deref())
            .filter(|person| names_optional(req, person))
            .filter(keep)
            .collect(),
        QueryType::Postcode => {
            let pc = p
                .postcode
                .as_deref()
                .map(normalize_postcode)
                .unwrap_or_default();
            let addrs: Vec<usize> = data
                .index
                .by_postcode
                .get(&pc)
                .into_iter()
                .flatten()
                .copied()
                .filter(|&a| {
                    data.addresses.get(a).is_some_and(|a| {
                        Some(a.huisnummer) == p.huisnummer
                            && eq_ci(p.huisletter.as_ref(), a.huisletter.as_ref())
                            && eq_ci(
                                p.huisnummertoevoeging.as_ref(),
                                a.huisnummertoevoeging.as_ref(),
                            )
                    })
                })
                .collect();
            residents(addrs)
                .into_iter()
                .filter(|person| {
                    p.geboortedatum
                        .is_none_or(|d| person.geboorte.datum.full() == Some(d))
                        && p.geslachtsnaam
                            .as_deref()
                            .is_none_or(|f| name_matches(f, &person.naam.geslachtsnaam))
                })
                .filter(keep)
                .collect()
        }
        QueryType::Straat => {
            let straat = p.straat.as_deref().unwrap_or_default();
            let addrs: Vec<usize> = data
                .addresses
                .iter()
                .enumerate()
                .filter(|(_, a)| {
                    Some(a.huisnummer) == p.huisnummer
                        && req.gemeente.as_deref() == Some(a.gemeente_code.as_str())
                        && eq_ci(p.huisletter.as_ref(), a.huisletter.as_ref())
                        && eq_ci(
                            p.huisnummertoevoeging.as_ref(),
                            a.huisnummertoevoeging.as_ref(),
                        )
                        && straat_matches(straat, &a.officiele_straatnaam, &a.korte_straatnaam)
                })
                .map(|(i, _)| i)
                .collect();
            residents(addrs).into_iter().filter(keep).collect()
        }
        QueryType::Nummeraanduiding => {
            let addr = p
                .nummeraanduiding
                .as_ref()
                .and_then(|id| data.index.by_nummeraanduiding.get(id))
                .copied();
            residents(addr.into_iter().collect())
                .into_iter()
                .filter(keep)
                .collect()
        }
        QueryType::AdresseerbaarObject => {
            let addr = p
                .adresseerbaar_object
                .as_ref()
                .and_then(|id| data.index.by_adresseerbaar_object.get(id))
                .copied();
            residents(addr.into_iter().collect())
                .into_iter()
                .filter(keep)
                .collect()
        }
    }
}

/// The optional name filters (voornamen, voorvoegsel, geslacht) of the name searches.
fn names_optional(req: &PersonenRequest, person: &BrpPerson) -> bool {
    let p = &req.params;
    p.voornamen
        .as_deref()
        .is_none_or(|f| name_matches(f, &person.naam.voornamen))
        && p.voorvoegsel
            .as_deref()
            .is_none_or(|f| fold(f) == fold(person.naam.voorvoegsel))
        && p.geslacht
            .as_deref()
            .is_none_or(|g| g.eq_ignore_ascii_case(person.geslacht.code()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding() {
        assert_eq!(fold("Çelik"), "celik");
        assert_eq!(fold("Yılmaz"), "yilmaz");
        assert_eq!(fold("Öztürk"), "ozturk");
        assert!(name_matches("celik", "Çelik"));
        assert!(name_matches("VRI*", "Vries"));
        assert!(!name_matches("Vri", "Vries"));
        assert!(straat_matches("*denstraat", "Lindenstraat", "Lindenstraat"));
    }
}
