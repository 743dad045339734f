//! Benchmarks of the policy engine: plan compilation (a cache miss), a cached decision, and
//! projecting records through a compiled plan.
//!
//! The dataset (one table of 200 fields, some nested, field-level `auth` on a subset) and 20
//! profiles are generated here as JSON and loaded through `sluis_policy::load`, so the benches
//! exercise the same path as real policy sources.
//!
//! Run with `cargo bench -p sluis-policy --bench engine`.

// Setup code in a bench may fail loudly: a broken fixture must stop the run, not be measured.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::hint::black_box;
use std::time::Duration;

use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use serde_json::{Map, Value, json};
use sluis_policy::{
    Decision, EncodingKey, Level, Model, Policy, Projector, Request, ScopeSet, Sources, TablePlan,
};

const DATASET: &str = "bench";
const TABLE: &str = "groot";
const QUALIFIED: &str = "bench.groot";
const N_FIELDS: usize = 200;
const N_PROFILES: usize = 20;
const N_RECORDS: usize = 1_000;
/// The scopes of the benchmarked request; `BENCH/S3` .. `BENCH/S9` are never held.
const REQUEST_SCOPES: [&str; 3] = ["BENCH/S0", "BENCH/S1", "BENCH/S2"];

fn scope(n: usize) -> String {
    format!("BENCH/S{n}")
}

fn field_name(i: usize) -> String {
    format!("f_{i:03}")
}

/// Every 20th field (10, 30, ...) is an object with sub-fields `a`..`d`.
fn is_object(i: usize) -> bool {
    i % 20 == 10
}

/// Every 40th field (25, 65, ...) is an array of objects with sub-fields `x`..`z`.
fn is_array(i: usize) -> bool {
    i % 40 == 25
}

/// Field-level auth on half the fields: `i % 10 == 1` needs a held scope, `2..=6` one that the
/// request does not hold (so those fields are decided by the profiles).
fn field_auth(i: usize) -> Option<String> {
    match i % 10 {
        1 => Some(scope(1)),
        2..=6 => Some(scope(3 + i % 7)),
        _ => None,
    }
}

fn table_schema() -> Value {
    let mut props = Map::new();
    props.insert(
        "schema".into(),
        json!({"$ref": "https://schemas.data.amsterdam.nl/schema@v1.1.1#/definitions/schema"}),
    );
    for i in 0..N_FIELDS {
        let mut f = Map::new();
        if is_object(i) {
            f.insert("type".into(), json!("object"));
            f.insert(
                "properties".into(),
                json!({
                    "a": {"type": "string"},
                    "b": {"type": "integer", "auth": scope(4)},
                    "c": {"type": "string"},
                    "d": {"type": "string", "auth": scope(1)},
                }),
            );
        } else if is_array(i) {
            f.insert("type".into(), json!("array"));
            f.insert(
                "items".into(),
                json!({
                    "type": "object",
                    "properties": {
                        "x": {"type": "string"},
                        "y": {"type": "number"},
                        "z": {"type": "string", "auth": scope(5)},
                    }
                }),
            );
        } else {
            f.insert(
                "type".into(),
                json!(if i % 3 == 1 { "integer" } else { "string" }),
            );
        }
        if let Some(a) = field_auth(i) {
            f.insert("auth".into(), json!(a));
        }
        props.insert(field_name(i), Value::Object(f));
    }
    json!({
        "type": "dataset",
        "id": DATASET,
        "title": "generated benchmark dataset",
        "status": "beschikbaar",
        "version": "1.0.0",
        "crs": "EPSG:28992",
        "tables": [{
            "id": TABLE,
            "type": "table",
            "version": "1.0.0",
            "auth": scope(0),
            "schema": {
                "$schema": "http://json-schema.org/draft-07/schema#",
                "type": "object",
                "additionalProperties": false,
                "identifier": field_name(0),
                "display": field_name(7),
                "required": ["schema", field_name(0)],
                "properties": Value::Object(props),
            }
        }]
    })
}

/// A level for an explicit profile field entry.
fn entry_level(n: usize) -> String {
    match n % 5 {
        0 => "read".into(),
        1 | 4 => "encoded".into(),
        2 => format!("letters:{}", 1 + n % 8),
        _ => "none".into(),
    }
}

/// Profile `p`: `p % 4 == 0` grants `encoded` but needs `BENCH/S3` (never active);
/// `p % 4 == 1` grants `letters:4` behind a filter set the request does not meet; `p % 4 == 2`
/// lists fields only; `p % 4 == 3` lists fields behind a filter set the request meets.
fn profile(p: usize) -> Value {
    let mut fields = Map::new();
    for k in 0..12 {
        let i = (p * 17 + k * 11) % N_FIELDS;
        let path = if is_object(i) {
            format!("{}.b", field_name(i))
        } else if is_array(i) {
            format!("{}.z", field_name(i))
        } else {
            field_name(i)
        };
        fields.insert(path, json!(entry_level(p + k)));
    }
    let mut table = Map::new();
    let scopes = match p % 4 {
        0 => {
            table.insert("permissions".into(), json!("encoded"));
            vec![scope(p % 3), scope(3)]
        }
        1 => {
            table.insert("permissions".into(), json!("letters:4"));
            table.insert("mandatoryFilterSets".into(), json!([[field_name(199)]]));
            vec![scope(p % 3)]
        }
        2 => vec![scope(p % 3)],
        _ => {
            table.insert(
                "mandatoryFilterSets".into(),
                json!([[field_name(1)], [field_name(2), field_name(3)]]),
            );
            vec![scope(p % 3), scope((p + 1) % 3)]
        }
    };
    table.insert("fields".into(), Value::Object(fields));
    json!({
        "type": "profile",
        "id": format!("profiel_{p:02}"),
        "scopes": scopes,
        "datasets": { DATASET: { "tables": { TABLE: Value::Object(table) } } }
    })
}

fn load_model() -> Model {
    let mut schemas = Sources::new();
    schemas.insert(
        format!("datasets/{DATASET}/dataset.json"),
        serde_json::to_vec(&table_schema()).unwrap(),
    );
    let mut profiles = Sources::new();
    for p in 0..N_PROFILES {
        profiles.insert(
            format!("profiles/profiel_{p:02}.json"),
            serde_json::to_vec(&profile(p)).unwrap(),
        );
    }
    match sluis_policy::load(&schemas, &profiles) {
        Ok(m) => m,
        Err(e) => panic!("generated policy does not load: {e}"),
    }
}

/// Two query parameters: a filter on a readable field and a sort.
fn request_params() -> Vec<(String, String)> {
    vec![
        (field_name(1), "abc".into()),
        ("_sort".into(), format!("-{}", field_name(20))),
    ]
}

fn decide(policy: &Policy, scopes: &ScopeSet, params: &[(String, String)]) -> Decision {
    policy
        .decide(&Request {
            table: QUALIFIED,
            scopes,
            params,
            detail: None,
        })
        .expect("decide")
}

fn scalar_value(i: usize, r: usize) -> Value {
    match i % 3 {
        1 => json!(i * 1_000 + r),
        2 => json!(format!("2024-{:02}-{:02}", 1 + r % 12, 1 + i % 28)),
        _ => json!(format!("waarde {i} van record {r}, iets langere tekst")),
    }
}

fn record(r: usize) -> Map<String, Value> {
    let mut m = Map::new();
    for i in 0..N_FIELDS {
        let v = if is_object(i) {
            json!({"a": format!("a{r}"), "b": r, "c": "straatnaam 12", "d": format!("d{i}")})
        } else if is_array(i) {
            json!([
                {"x": format!("x{r}"), "y": 1.5, "z": "geheim"},
                {"x": format!("x{i}"), "y": 2.5, "z": "nog geheimer"},
            ])
        } else {
            scalar_value(i, r)
        };
        m.insert(field_name(i), v);
    }
    m
}

fn describe_plan(plan: &TablePlan) {
    let (mut read, mut hidden, mut letters, mut encoded, mut other) = (0, 0, 0, 0, 0);
    for f in plan.walk() {
        if !f.children.is_empty() {
            continue;
        }
        match f.level {
            Level::Read => read += 1,
            Level::None | Level::SubobjectsOnly => hidden += 1,
            Level::Letters(_) => letters += 1,
            Level::Encoded => encoded += 1,
            Level::Random => other += 1,
        }
    }
    eprintln!(
        "plan {}: access={} via={:?}; leaf fields: {read} read, {hidden} hidden, \
         {letters} letters:N, {encoded} encoded, {other} random",
        plan.table, plan.access, plan.via
    );
}

fn benches(c: &mut Criterion) {
    let model = load_model();
    let scopes = model.scope_set(&REQUEST_SCOPES);
    let params = request_params();

    // Sanity: the request is allowed and goes through the profiles, not only auth.
    let warm = Policy::new(model.clone(), "bench");
    let d = decide(&warm, &scopes, &params);
    assert!(d.allowed(), "benchmark request denied: {:?}", d.reasons);
    describe_plan(&d.plan);

    let mut g = c.benchmark_group("compile");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(30);
    let id = "200_fields_20_profiles";
    // A cache miss: a fresh Policy per iteration, built outside the timing.
    g.bench_function(BenchmarkId::new(id, "decide_cold"), |b| {
        b.iter_batched(
            || Policy::new(model.clone(), "bench"),
            |policy| {
                let d = decide(&policy, &scopes, &params);
                (policy, d)
            },
            BatchSize::SmallInput,
        )
    });
    // Policy::new alone (the Model clone is setup), and Policy::new plus the cold decide:
    // their difference is the compile cost.
    g.bench_function(BenchmarkId::new(id, "policy_new"), |b| {
        b.iter_batched(
            || model.clone(),
            |m| Policy::new(m, "bench"),
            BatchSize::SmallInput,
        )
    });
    g.bench_function(BenchmarkId::new(id, "policy_new+decide_cold"), |b| {
        b.iter_batched(
            || model.clone(),
            |m| {
                let policy = Policy::new(m, "bench");
                let d = decide(&policy, &scopes, &params);
                (policy, d)
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();

    let mut g = c.benchmark_group("decide");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(30);
    g.bench_function("cached", |b| {
        b.iter(|| decide(black_box(&warm), black_box(&scopes), black_box(&params)))
    });
    g.finish();

    let plan = d.plan;
    let key = EncodingKey::new(vec![0x5a; 32]).expect("key");
    let records: Vec<Map<String, Value>> = (0..N_RECORDS).map(record).collect();
    let mut g = c.benchmark_group("project");
    g.measurement_time(Duration::from_secs(3))
        .warm_up_time(Duration::from_secs(1))
        .sample_size(30)
        .throughput(Throughput::Elements(N_RECORDS as u64));
    g.bench_function("1000_records", |b| {
        b.iter_batched(
            || records.clone(),
            |mut recs| {
                let mut projector = Projector::new(&key, [7; 32]);
                for r in &mut recs {
                    projector.project(&plan, r);
                }
                recs
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("1000_records/baseline_retain_all", |b| {
        b.iter_batched(
            || records.clone(),
            |mut recs| {
                for r in &mut recs {
                    r.retain(|_, v| {
                        black_box(v);
                        true
                    });
                }
                recs
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("1000_records/baseline_json_roundtrip", |b| {
        b.iter(|| {
            let bytes = serde_json::to_vec(black_box(&records)).expect("serialize");
            serde_json::from_slice::<Vec<Map<String, Value>>>(&bytes).expect("parse")
        })
    });
    // One `encoded` value on its own, to see how much of the projection is HMAC work.
    g.throughput(Throughput::Elements(1));
    let projector = Projector::new(&key, [7; 32]);
    let value = json!("waarde 12 van record 34, iets langere tekst");
    g.bench_function("encode_one_value", |b| {
        b.iter(|| projector.encode(black_box("bench.groot.f_012"), black_box(&value)))
    });
    g.finish();
}

criterion_group!(engine, benches);
criterion_main!(engine);
