//! The generated data set and its lookups, for the server and for tests' expected values.

use serde_json::Value;

use super::date::BrpDate;
use super::generate::{self, BrpKnown};
use super::model::{BrpAddress, BrpPerson, BrpStatus, Indexes, Relative};
use super::render::Shape;
use super::tables;
use crate::TestkitError;

/// The persons a BRP fixture serves: seeded, reproducible, read-only.
#[derive(Debug)]
pub struct BrpData {
    pub(crate) persons: Vec<BrpPerson>,
    pub(crate) addresses: Vec<BrpAddress>,
    pub(crate) index: Indexes,
    pub(crate) known: BrpKnown,
    pub(crate) peildatum: BrpDate,
    pub(crate) own_gemeente: String,
}

impl BrpData {
    /// Generates `persons` persons from `seed`; `own_gemeente` (a current Tabel 33 code) is
    /// where most of them live; ages (`leeftijd`, gezag over minors) are computed on
    /// `peildatum`.
    ///
    /// # Errors
    /// [`TestkitError::Config`] for an unknown municipality code.
    pub fn generate(
        seed: u64,
        persons: usize,
        own_gemeente: &str,
        peildatum: BrpDate,
    ) -> Result<Self, TestkitError> {
        let own = tables::gemeente(own_gemeente)
            .filter(|g| g.code != tables::RNI_GEMEENTE.0)
            .ok_or_else(|| {
                TestkitError::Config(format!(
                    "own_gemeente {own_gemeente:?} is not a current municipality of Tabel 33"
                ))
            })?;
        let g = generate::generate(seed, persons, own);
        let mut index = Indexes::default();
        for (i, p) in g.persons.iter().enumerate() {
            index.by_bsn.insert(p.bsn.clone(), i);
            index
                .folded_geslachtsnaam
                .push(super::api::fold(&p.naam.geslachtsnaam));
        }
        for (i, a) in g.addresses.iter().enumerate() {
            if a.residents.is_empty() {
                continue;
            }
            index
                .by_postcode
                .entry(a.postcode.clone())
                .or_default()
                .push(i);
            index
                .by_nummeraanduiding
                .insert(a.nummeraanduiding_identificatie.clone(), i);
            index
                .by_adresseerbaar_object
                .insert(a.adresseerbaar_object_identificatie.clone(), i);
        }
        Ok(Self {
            persons: g.persons,
            addresses: g.addresses,
            index,
            known: g.known,
            peildatum,
            own_gemeente: own.code.to_owned(),
        })
    }

    /// Number of persons.
    pub fn len(&self) -> usize {
        self.persons.len()
    }

    /// Whether there are no persons.
    pub fn is_empty(&self) -> bool {
        self.persons.is_empty()
    }

    /// All persons, in generation order.
    pub fn persons(&self) -> &[BrpPerson] {
        &self.persons
    }

    /// The person with this BSN.
    pub fn person(&self, bsn: &str) -> Option<&BrpPerson> {
        self.index
            .by_bsn
            .get(bsn)
            .and_then(|&i| self.persons.get(i))
    }

    /// Every address someone lives or lived at (empty ones included).
    pub fn addresses(&self) -> &[BrpAddress] {
        &self.addresses
    }

    /// The Dutch address of the person with this BSN (for the deceased: their last one).
    pub fn address_of(&self, bsn: &str) -> Option<&BrpAddress> {
        self.person(bsn)
            .and_then(BrpPerson::addr)
            .and_then(|a| self.addresses.get(a))
    }

    /// Everyone registered at this postcode (with or without space, any case) and huisnummer,
    /// living or deceased, over all huisletters and toevoegingen.
    pub fn residents(&self, postcode: &str, huisnummer: u32) -> Vec<&BrpPerson> {
        let pc = normalize_postcode(postcode);
        self.index
            .by_postcode
            .get(&pc)
            .into_iter()
            .flatten()
            .filter_map(|&a| self.addresses.get(a))
            .filter(|a| a.huisnummer == huisnummer)
            .flat_map(|a| a.residents.iter())
            .filter_map(|&i| self.persons.get(i))
            .collect()
    }

    /// Named persons and addresses for tests.
    pub fn known(&self) -> &BrpKnown {
        &self.known
    }

    /// The date `leeftijd` and gezag are computed on.
    pub fn peildatum(&self) -> BrpDate {
        self.peildatum
    }

    /// The municipality most persons live in.
    pub fn own_gemeente(&self) -> &str {
        &self.own_gemeente
    }

    /// Number of persons with this status.
    pub fn count(&self, status: BrpStatus) -> usize {
        self.persons.iter().filter(|p| p.status == status).count()
    }

    /// The complete `Persoon` (every field filled) as `RaadpleegMetBurgerservicenummer` would
    /// deliver it when all fields are asked for.
    pub fn persoon_json(&self, bsn: &str) -> Option<Value> {
        self.person(bsn).map(|p| self.render(p, Shape::Persoon))
    }

    /// The complete `PersoonBeperkt` (what the Zoek types deliver with all their fields).
    pub fn persoon_beperkt_json(&self, bsn: &str) -> Option<Value> {
        self.person(bsn)
            .map(|p| self.render(p, Shape::PersoonBeperkt))
    }

    pub(crate) fn relative_bsns<'a, 'r>(
        &'a self,
        relatives: impl Iterator<Item = &'r Relative>,
    ) -> Vec<&'a str> {
        relatives
            .filter_map(|r| match r {
                Relative::Person(i) => self.persons.get(*i).map(|p| p.bsn.as_str()),
                Relative::External(_) => None,
            })
            .collect()
    }
}

/// `1011 ab` → `1011AB`.
pub(crate) fn normalize_postcode(pc: &str) -> String {
    pc.chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}
