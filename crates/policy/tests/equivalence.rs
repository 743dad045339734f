//! Property tests: the compiled, caching engine agrees with a naive reference evaluator written
//! straight from the rules, levels never drop when a scope is added, and projection never
//! delivers a field the plan hides.

// Integration-test helpers are test code too; this lets clippy's test allowances (unwrap,
// expect, panic, indexing) apply to them.
#![cfg(test)]

mod common;

use std::collections::{BTreeMap, HashMap};

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::{Map, Value};
use sluis_policy::{
    Decision, Denial, EncodingKey, FieldPlan, FilterVerdict, Level, Projector, Request,
};

use common::reference::{self, Evaluation};
use common::{REQUEST_POOL, Req, World, request, world};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    }
}

fn decide(world: &World, req: &Req) -> Decision {
    let scopes = world.policy.scope_set(&req.scopes);
    world
        .policy
        .decide(&Request {
            table: &req.table,
            scopes: &scopes,
            params: &req.params,
            detail: req.detail.as_deref(),
        })
        .unwrap()
}

/// The policy and request, for failure messages.
fn describe(world: &World, req: &Req) -> String {
    format!(
        "\ndatasets: {}\nprofiles: {}\nrequest: {req:?}",
        Value::Array(world.datasets.clone()),
        Value::Array(world.profiles.clone())
    )
}

fn engine_levels(d: &Decision) -> BTreeMap<String, Level> {
    d.plan
        .walk()
        .into_iter()
        .map(|f| (f.path.clone(), f.level))
        .collect()
}

fn compare(world: &World, req: &Req) -> Result<(), TestCaseError> {
    let d = decide(world, req);
    let e: Evaluation = reference::evaluate(
        world.model(),
        &req.scopes,
        &req.params,
        req.detail.as_deref(),
        &req.table,
    );
    let ctx = || describe(world, req);
    prop_assert_eq!(d.plan.access, e.access, "table access{}", ctx());
    let mut via: Vec<String> = d.plan.via.iter().map(ToString::to_string).collect();
    via.sort();
    prop_assert_eq!(&via, &e.via, "via{}", ctx());
    prop_assert_eq!(&engine_levels(&d), &e.fields, "field levels{}", ctx());
    let expandable: BTreeMap<String, bool> = d
        .plan
        .walk()
        .into_iter()
        .filter_map(|f| f.relation.as_ref().map(|r| (f.path.clone(), r.expandable)))
        .collect();
    prop_assert_eq!(&expandable, &e.expandable, "expandable relations{}", ctx());
    prop_assert_eq!(
        d.plan.fully_readable,
        e.fully_readable(),
        "fully readable{}",
        ctx()
    );
    if e.access {
        let filters: Vec<(String, FilterVerdict)> = d
            .filters
            .iter()
            .map(|f| (f.param.clone(), f.verdict))
            .collect();
        prop_assert_eq!(&filters, &e.filters, "filter verdicts{}", ctx());
    } else {
        prop_assert!(
            d.filters.is_empty(),
            "filters checked without access{}",
            ctx()
        );
        prop_assert_eq!(&d.denial, &Some(Denial::Table), "denial{}", ctx());
    }
    let allowed =
        e.access && e.expand_ok && e.filters.iter().all(|(_, v)| *v == FilterVerdict::Allowed);
    prop_assert_eq!(d.allowed(), allowed, "allowed ({:?}){}", d.denial, ctx());
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// The compiled engine and the reference agree on access, every field's level, every
    /// relation, and every filter and sort verdict. Several requests share one policy, and the
    /// first is asked again at the end, so cached plans are compared too.
    #[test]
    fn engine_agrees_with_reference(w in world(), reqs in prop::collection::vec(request(), 1..6)) {
        let world = w.build();
        let reqs: Vec<Req> = reqs.iter().map(|r| r.build(&world)).collect();
        for req in reqs.iter().chain(reqs.first()) {
            compare(&world, req)?;
        }
    }

    /// Adding a scope never lowers a field's level, never closes a table and never turns an
    /// allowed filter into a refused one.
    #[test]
    fn adding_a_scope_never_lowers_a_level(
        w in world(),
        r in request(),
        extra in 0..REQUEST_POOL.len(),
    ) {
        let world = w.build();
        let req = r.build(&world);
        let mut more = req.clone();
        more.scopes.push(REQUEST_POOL[extra].to_owned());
        more.scopes.sort();
        more.scopes.dedup();
        let before = decide(&world, &req);
        let after = decide(&world, &more);
        let ctx = || format!("{}\nadded scope: {}", describe(&world, &req), REQUEST_POOL[extra]);
        prop_assert!(!before.plan.access || after.plan.access, "access lost{}", ctx());
        let lower = engine_levels(&before);
        let higher = engine_levels(&after);
        for (path, l) in &lower {
            prop_assert!(higher[path] >= *l, "{path}: {l} became {}{}", higher[path], ctx());
        }
        if before.plan.access {
            for (b, a) in before.filters.iter().zip(&after.filters) {
                prop_assert_eq!(&b.param, &a.param);
                prop_assert!(
                    b.verdict != FilterVerdict::Allowed || a.verdict == FilterVerdict::Allowed,
                    "{} no longer allowed{}", b.param, ctx()
                );
            }
        }
    }

    /// Projecting random records through a plan: no hidden or unknown key survives at any
    /// depth, visible fields are delivered, `read` leaves are unchanged, `letters:N` keeps the
    /// first N characters, `encoded` is 32 hex digits and the same input in the same field gives
    /// the same code, and `random` is 32 hex digits.
    #[test]
    fn projection_follows_the_plan(
        w in world(),
        r in request(),
        seed in any::<u64>(),
        n in 1usize..4,
    ) {
        let world = w.build();
        let req = r.build(&world);
        let d = decide(&world, &req);
        let table = world.table(&req.table);
        let key = EncodingKey::new([7u8; 32]).unwrap();
        let mut projector = Projector::new(&key, [1u8; 32]);
        let mut dice = common::Dice::new(seed);
        let mut codes = Codes::default();
        for _ in 0..n {
            let original = dice.record(table);
            let mut out = original.clone();
            projector.project(&d.plan, &mut out);
            let ctx = || format!(
                "{}\nrecord: {}\nprojected: {}",
                describe(&world, &req),
                Value::Object(original.clone()),
                Value::Object(out.clone())
            );
            if !d.plan.access {
                prop_assert!(out.is_empty(), "record of an unreadable table{}", ctx());
                continue;
            }
            check_object(&d.plan.fields, &original, &out, &mut codes)
                .map_err(|e| TestCaseError::fail(format!("{e}{}", ctx())))?;
        }
    }
}

/// `encoded` outputs seen so far: (field path, input) → code, and code → (field path, input).
#[derive(Default)]
struct Codes {
    by_input: HashMap<(String, String), String>,
    by_code: HashMap<String, (String, String)>,
}

fn check_object(
    fields: &[FieldPlan],
    original: &Map<String, Value>,
    out: &Map<String, Value>,
    codes: &mut Codes,
) -> Result<(), String> {
    for (k, v) in out {
        let Some(f) = fields.iter().find(|f| *f.name == **k) else {
            return Err(format!("key {k:?} is not in the schema but was delivered"));
        };
        if !f.level.is_visible() {
            return Err(format!(
                "{} is planned {:?} but was delivered",
                f.path, f.level
            ));
        }
        let Some(o) = original.get(k) else {
            return Err(format!("{} appeared from nowhere", f.path));
        };
        check_value(f, o, v, codes)?;
    }
    for f in fields {
        if f.level.is_visible() && original.contains_key(&*f.name) && !out.contains_key(&*f.name) {
            return Err(format!("{} is planned {} but was dropped", f.path, f.level));
        }
    }
    Ok(())
}

fn all_read(f: &FieldPlan) -> bool {
    f.level == Level::Read && f.children.iter().all(all_read)
}

fn check_value(f: &FieldPlan, o: &Value, v: &Value, codes: &mut Codes) -> Result<(), String> {
    if f.children.is_empty() {
        return check_leaf(f, o, v, codes);
    }
    match (o, v) {
        (Value::Object(om), Value::Object(vm)) => check_object(&f.children, om, vm, codes),
        (Value::Array(oi), Value::Array(vi)) if oi.len() == vi.len() => {
            for (o, v) in oi.iter().zip(vi) {
                match (o, v) {
                    (Value::Object(om), Value::Object(vm)) => {
                        check_object(&f.children, om, vm, codes)?;
                    }
                    (_, Value::Null) => {}
                    _ => return Err(format!("{}: array item {o} became {v}", f.path)),
                }
            }
            Ok(())
        }
        (Value::Null, Value::Null) => Ok(()),
        // A scalar where the schema has sub-fields: it may only pass when all of them are read.
        (o, v) if !o.is_object() && !o.is_array() => {
            if v.is_null() || (all_read(f) && v == o) {
                Ok(())
            } else {
                Err(format!(
                    "{}: scalar {o} in place of an object with hidden or transformed sub-fields became {v}",
                    f.path
                ))
            }
        }
        _ => Err(format!("{}: {o} became {v}", f.path)),
    }
}

fn is_code(v: &Value) -> bool {
    v.as_str().is_some_and(|s| {
        s.len() == 32
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    })
}

fn check_leaf(f: &FieldPlan, o: &Value, v: &Value, codes: &mut Codes) -> Result<(), String> {
    if f.level == Level::Read {
        return if o == v {
            Ok(())
        } else {
            Err(format!("{} is read but {o} became {v}", f.path))
        };
    }
    match (o, v) {
        (Value::Null, Value::Null) => return Ok(()),
        (Value::Array(oi), Value::Array(vi)) if oi.len() == vi.len() => {
            for (o, v) in oi.iter().zip(vi) {
                check_leaf(f, o, v, codes)?;
            }
            return Ok(());
        }
        _ => {}
    }
    match f.level {
        Level::Letters(n) => {
            let rendered = match o {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let want: String = rendered.chars().take(n as usize).collect();
            let Some(s) = v.as_str() else {
                return Err(format!("{} is letters:{n} but {o} became {v}", f.path));
            };
            if s.chars().count() > n as usize || s != want {
                return Err(format!("{} is letters:{n} but {o} became {v}", f.path));
            }
        }
        Level::Encoded => {
            if !is_code(v) {
                return Err(format!("{} is encoded but {o} became {v}", f.path));
            }
            let code = v.as_str().unwrap_or_default().to_owned();
            let input = (f.path.clone(), o.to_string());
            if let Some(prev) = codes.by_input.insert(input.clone(), code.clone())
                && prev != code
            {
                return Err(format!(
                    "{}: equal inputs {o} encoded as {prev} and {code}",
                    f.path
                ));
            }
            if let Some(prev) = codes.by_code.insert(code.clone(), input.clone())
                && prev != input
            {
                return Err(format!("code {code} for both {prev:?} and {input:?}"));
            }
        }
        Level::Random => {
            if !is_code(v) {
                return Err(format!("{} is random but {o} became {v}", f.path));
            }
        }
        Level::Read | Level::None | Level::SubobjectsOnly => {
            return Err(format!("{} is {:?} but {o} became {v}", f.path, f.level));
        }
    }
    Ok(())
}

fn policy_of(dataset: &Value) -> World {
    let mut s = sluis_policy::Sources::new();
    s.insert("datasets/ds0.json", serde_json::to_vec(dataset).unwrap());
    let model = sluis_policy::load(&s, &sluis_policy::Sources::new()).unwrap();
    World {
        datasets: vec![dataset.clone()],
        profiles: Vec::new(),
        policy: sluis_policy::Policy::new(model, "v"),
    }
}

/// Rule 15 across a relation to the table itself: `parent.name` has two visible hops, so the
/// filter is allowed, exactly as it is for a relation to another table.
#[test]
fn filter_through_a_relation_to_the_same_table() {
    let world = policy_of(&serde_json::json!({
        "type": "dataset", "id": "ds0",
        "tables": [{"id": "t0", "type": "table", "schema": {"identifier": ["id"], "properties": {
            "id": {"type": "integer"},
            "name": {"type": "string"},
            "parent": {"type": "string", "relation": "ds0:t0"}
        }}}]
    }));
    let req = Req {
        table: "ds0.t0".into(),
        scopes: Vec::new(),
        params: vec![("parent.name".into(), "x".into())],
        detail: None,
    };
    let d = decide(&world, &req);
    assert_eq!(
        d.filters[0].verdict,
        FilterVerdict::Allowed,
        "{:?}",
        d.reasons
    );
    compare(&world, &req).unwrap();
}

/// A scalar where the schema has an object is delivered only when every sub-field, at any
/// depth, is read; `a.b.secret` is hidden here, so `"a": "text"` must not pass unchanged.
#[test]
fn scalar_in_place_of_an_object_with_a_hidden_grandchild() {
    let world = policy_of(&serde_json::json!({
        "type": "dataset", "id": "ds0",
        "tables": [{"id": "t0", "type": "table", "schema": {"identifier": ["id"], "properties": {
            "id": {"type": "integer"},
            "a": {"type": "object", "properties": {
                "b": {"type": "object", "properties": {
                    "open": {"type": "string"},
                    "secret": {"type": "string", "auth": "S1"}
                }}
            }}
        }}}]
    }));
    let req = Req {
        table: "ds0.t0".into(),
        scopes: Vec::new(),
        params: Vec::new(),
        detail: None,
    };
    let d = decide(&world, &req);
    assert_eq!(d.plan.field("a.b.secret").unwrap().level, Level::None);
    let key = EncodingKey::new([7u8; 32]).unwrap();
    let mut record = serde_json::json!({"id": 1, "a": "text"})
        .as_object()
        .unwrap()
        .clone();
    Projector::new(&key, [1u8; 32]).project(&d.plan, &mut record);
    assert_eq!(record.get("a"), Some(&Value::Null), "{record:?}");
}
