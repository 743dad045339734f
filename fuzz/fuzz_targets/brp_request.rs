//! Arbitrary bytes as a `POST /personen` body: `sluis_brp::validate` must answer a query or the
//! invalid parameters, never panic. A body that validates is decided on by the example policy
//! (`examples/policy/brp.toml`) for several callers; the decision must not panic either, and
//! the query and the body forwarded upstream must pass validation again.

#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use sluis_brp::{BrpPolicy, QueryType};

struct Fixture {
    policy: BrpPolicy,
    callers: Vec<Vec<String>>,
}

/// The example policy and scope sets taken from it: nobody, every scope the file names, and per
/// query type a caller with that type's scopes plus the basic field set, plus every field set,
/// and plus every field set and every special capability.
fn fixture() -> &'static Fixture {
    static FIXTURE: OnceLock<Fixture> = OnceLock::new();
    FIXTURE.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/policy/brp.toml");
        let policy = match BrpPolicy::load(&path) {
            Ok(p) => p,
            Err(e) => panic!("{}: {e}", path.display()),
        };
        let s = policy.special_scopes();
        let specials: Vec<String> = [
            &s.nationwide,
            &s.deceased,
            &s.geheim,
            &s.pseudonymous_bsn,
            &s.nationwide_postcode,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect();
        let field_sets: Vec<String> = policy.field_sets().keys().cloned().collect();
        let mut all: Vec<String> = specials.clone();
        all.extend(field_sets.iter().cloned());
        all.extend(policy.parameter_rules().iter().flat_map(rule_scopes));
        let mut callers = vec![Vec::new()];
        for t in QueryType::ALL {
            let Some(type_scopes) = policy.query_type_scopes(t) else {
                continue;
            };
            all.extend(type_scopes.iter().cloned());
            let mut narrow: Vec<String> = type_scopes.to_vec();
            narrow.extend(field_sets.iter().filter(|s| s.ends_with("/basis")).cloned());
            let mut every_set: Vec<String> = type_scopes.to_vec();
            every_set.extend(field_sets.iter().cloned());
            let mut special = every_set.clone();
            special.extend(specials.iter().cloned());
            callers.extend([narrow, every_set, special]);
        }
        all.sort();
        all.dedup();
        callers.push(all);
        Fixture { policy, callers }
    })
}

/// Every scope a parameter rule names (its default and per-value lists).
fn rule_scopes(rule: &sluis_brp::ParameterRule) -> Vec<String> {
    let mut out = Vec::new();
    for who in rule
        .default
        .iter()
        .chain(rule.values.iter().map(|(_, w)| w))
    {
        if let sluis_brp::Who::AnyOf(s) = who {
            out.extend(s.iter().cloned());
        }
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let Ok(body) = serde_json::from_slice::<serde_json::Value>(data) else {
        return;
    };
    let Ok(query) = sluis_brp::validate(&body) else {
        return;
    };
    assert_eq!(
        sluis_brp::validate(&query.to_body()).as_ref(),
        Ok(&query),
        "a validated query must validate again"
    );
    let f = fixture();
    for scopes in &f.callers {
        if let Ok(plan) = f.policy.decide(&query, scopes) {
            let upstream = plan.upstream_body();
            if let Err(invalid) = sluis_brp::validate(upstream) {
                panic!("upstream body {upstream} is invalid: {invalid:?}");
            }
        }
    }
});
