//! Shared fixtures: a policy shaped like Amsterdam's haal-centraal-proxy (scenarios H1–H6 of
//! `domain/brp.md`), and small helpers.

#![allow(
    dead_code,
    reason = "each test binary uses a different subset of the helpers"
)]
#![allow(clippy::expect_used, clippy::panic, reason = "test helpers")]

use serde_json::Value;
use sluis_brp::doc::Node;
use sluis_brp::{
    BrpError, BrpPolicy, Keyring, NONCE_LEN, Plan, Query, ResponseSummary, filter_response,
    seal_response, validate,
};

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

/// Runs `f` on `body` as the adapter does: `body`'s text read into a [`Node`], changed there,
/// and the node read back into `body`.
fn on_node<T>(body: &mut Value, f: impl FnOnce(&mut Node<'_>) -> T) -> T {
    let text = serde_json::to_vec(body).expect("a value has a text");
    let mut doc = Node::parse(&text).expect("that text reads");
    let out = f(&mut doc);
    *body = serde_json::from_slice(&doc.to_vec().expect("a node writes")).expect("and reads");
    out
}

/// [`filter_response`] on the answer `body`.
pub fn filter(plan: &Plan, body: &mut Value) -> ResponseSummary {
    on_node(body, |doc| filter_response(plan, doc))
}

/// [`seal_response`] on the answer `body`.
pub fn seal(
    body: &mut Value,
    keyring: &Keyring,
    context: &str,
    next_nonce: &mut dyn FnMut() -> [u8; NONCE_LEN],
) -> Result<usize, BrpError> {
    on_node(body, |doc| seal_response(doc, keyring, context, next_nonce))
}
