//! Arbitrary bytes as the BRP's answer to a lookup: `sluis_brp::doc::Node` must read them as
//! serde_json reads them (the same verdict, and the same text written back), and
//! `sluis_brp::filter_response` must filter what reads, for several callers of the example
//! policy (`examples/policy/brp.toml`), without panicking. What it delivers must be JSON again,
//! hold no person it withheld, and list each delivered path once, sorted.

#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use serde_json::json;
use sluis_brp::doc::Node;
use sluis_brp::{BrpPolicy, Plan, filter_response, validate};

/// Plans for a lookup by BSN: the basic field set only, every field set, and every field set
/// with every special scope (geheim persons, the deceased, nationwide).
fn plans() -> &'static [Plan] {
    static PLANS: OnceLock<Vec<Plan>> = OnceLock::new();
    PLANS.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/policy/brp.toml");
        let policy = match BrpPolicy::load(&path) {
            Ok(p) => p,
            Err(e) => panic!("{}: {e}", path.display()),
        };
        let query = match validate(&json!({
            "type": "RaadpleegMetBurgerservicenummer",
            "burgerservicenummer": ["999993653"],
            "fields": ["burgerservicenummer", "naam", "geboorte", "partners", "kinderen",
                       "ouders", "verblijfplaats", "overlijden", "nationaliteiten"],
        })) {
            Ok(q) => q,
            Err(e) => panic!("the lookup does not validate: {e:?}"),
        };
        let s = policy.special_scopes();
        let field_sets: Vec<String> = policy.field_sets().keys().cloned().collect();
        let mut base: Vec<String> = policy
            .query_type_scopes(sluis_brp::QueryType::RaadpleegMetBurgerservicenummer)
            .map(<[String]>::to_vec)
            .unwrap_or_default();
        base.extend(field_sets.iter().filter(|f| f.ends_with("/basis")).cloned());
        let mut every = base.clone();
        every.extend(field_sets.iter().cloned());
        let mut special = every.clone();
        special.extend(
            [&s.nationwide, &s.deceased, &s.geheim]
                .into_iter()
                .flatten()
                .cloned(),
        );
        [base, every, special]
            .iter()
            .filter_map(|scopes| policy.decide(&query, scopes).ok())
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let value = serde_json::from_slice::<serde_json::Value>(data);
    let node = Node::parse(data);
    assert_eq!(
        value.is_ok(),
        node.is_ok(),
        "serde_json and Node disagree on the text"
    );
    let (Ok(value), Ok(node)) = (value, node) else {
        return;
    };
    assert_eq!(
        node.to_vec().ok(),
        serde_json::to_vec(&value).ok(),
        "Node writes another text than Value"
    );
    let persons_in = value
        .get("personen")
        .and_then(serde_json::Value::as_array)
        .map_or(0, |p| p.iter().filter(|p| p.is_object()).count());
    for plan in plans() {
        let mut doc = node.clone();
        let summary = filter_response(plan, &mut doc);
        let out = match doc.to_vec() {
            Ok(out) => out,
            Err(e) => panic!("the filtered answer does not write: {e}"),
        };
        let delivered: serde_json::Value = match serde_json::from_slice(&out) {
            Ok(v) => v,
            Err(e) => panic!("the filtered answer is not JSON: {e}"),
        };
        let persons_out = delivered
            .get("personen")
            .and_then(serde_json::Value::as_array)
            .map_or(0, Vec::len);
        assert_eq!(
            persons_out,
            summary.persons.len(),
            "persons delivered and summarised"
        );
        assert_eq!(
            persons_out + summary.withheld,
            persons_in,
            "every person delivered or withheld"
        );
        assert!(
            summary.fields_delivered.windows(2).all(|w| w[0] < w[1]),
            "delivered paths sorted and unique: {:?}",
            summary.fields_delivered
        );
    }
});
