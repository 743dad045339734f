//! Shared fixtures: a policy shaped like Amsterdam's haal-centraal-proxy (scenarios H1–H6 of
//! `domain/brp.md`), and small helpers.

#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the helpers"
)]
#![allow(clippy::expect_used, clippy::panic, reason = "test helpers")]

use serde_json::Value;
use sluis_brp::{BrpPolicy, Query, validate};

/// The scopes and rules of Amsterdam's BRP proxy, as a sluis policy.
pub const H_POLICY: &str = r#"
municipality = "0363"
own_municipality_only = [
    "ZoekMetStraatHuisnummerEnGemeenteVanInschrijving",
    "ZoekMetNummeraanduidingIdentificatie",
    "ZoekMetAdresseerbaarObjectIdentificatie",
    "ZoekMetNaamEnGemeenteVanInschrijving",
]

[scopes]
nationwide = "benk-brp-landelijk"
deceased = "benk-brp-inclusief-overledenen"
geheim = "benk-brp-inclusief-geheim"
pseudonymous_bsn = "benk-brp-encrypt-bsn"
nationwide_postcode = "benk-brp-zoekvraag-postcode-huisnummer-landelijk"

[query_types]
RaadpleegMetBurgerservicenummer = ["benk-brp-zoekvraag-bsn"]
ZoekMetGeslachtsnaamEnGeboortedatum = ["benk-brp-zoekvraag-geslachtsnaam-geboortedatum"]
ZoekMetNaamEnGemeenteVanInschrijving = ["benk-brp-zoekvraag-naam-gemeente"]
ZoekMetAdresseerbaarObjectIdentificatie = ["benk-brp-zoekvraag-adresseerbaar-object"]
ZoekMetNummeraanduidingIdentificatie = ["benk-brp-zoekvraag-nummeraanduiding"]
ZoekMetPostcodeEnHuisnummer = [
    "benk-brp-zoekvraag-postcode-huisnummer",
    "benk-brp-zoekvraag-postcode-huisnummer-landelijk",
]
ZoekMetStraatHuisnummerEnGemeenteVanInschrijving = ["benk-brp-zoekvraag-straatnaam-huisnummer"]

[parameters.burgerservicenummer]
default = ["benk-brp-zoekvraag-bsn"]

[parameters.geslacht]
default = "everyone"
values = { "O" = "never" }

[parameters."huis*"]
default = "everyone"
values = { "9999*" = ["benk-brp-hoge-nummers"] }

[parameters.voorvoegsel]
values = { "van" = "everyone", "de" = "everyone" }

[field_sets]
benk-brp-gegevensset-1 = [
    "naam.*",
    "geboorte.*",
    "geslacht",
    "leeftijd",
    "verblijfplaats.*",
    "adressering.*",
]
benk-brp-gegevensset-familie = ["partners", "ouders.*", "kinderen.burgerservicenummer", "kinderen.naam"]
benk-brp-gegevensset-ids = ["burgerservicenummer", "aNummer"]
benk-brp-gegevensset-gemeente = ["gemeenteVanInschrijving", "overlijden"]

[auto_delivered]
geheimhoudingPersoonsgegevens = ["benk-brp-inclusief-geheim"]
inOnderzoek = "everyone"
rni = ["benk-brp-rni"]
"#;

pub fn h_policy() -> BrpPolicy {
    BrpPolicy::from_toml_str(H_POLICY, "h-policy.toml").expect("H policy loads")
}

pub fn scopes(names: &[&str]) -> Vec<String> {
    names.iter().map(|s| (*s).to_owned()).collect()
}

pub fn query(body: Value) -> Query {
    validate(&body).unwrap_or_else(|e| panic!("valid request expected, got {e:?}"))
}
