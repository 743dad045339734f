//! Deterministic robustness test for the loaders: a few thousand malformed and mutated source
//! files go through `sluis_policy::load`, which must answer `Ok` or `Err` and never panic.
//!
//! Every input starts from one of two valid layouts (a single-file dataset with `versions`, and
//! the split layout: `dataset.json` with `$ref` tables, a table file and a scope file) and
//! replaces one file with a mutation of it: a wrong type, a removed key, a huge number or very
//! deep nesting at every key; byte flips; truncations; spliced tokens; random bytes. When the
//! mutated sources still load, the policy is compiled and every table planned, decided on and
//! projected, so an accepted model cannot crash the engine either.
//!
//! The same layouts are used by the cargo-fuzz target in `fuzz/fuzz_targets/load.rs`.

// Test-fixture helpers outside `#[test]` functions: a broken fixture must fail loudly.
#![allow(clippy::unwrap_used, clippy::indexing_slicing)]

use std::panic::{AssertUnwindSafe, catch_unwind};

use serde_json::{Map, Value, json};
use sluis_policy::model::{Field, Shape};
use sluis_policy::{EncodingKey, Model, Policy, Projector, Request, Sources, load};

/// A small deterministic generator (SplitMix64), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (0 when `n` is 0).
    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let i = self.below(items.len());
        &items[i]
    }
}

/// One source file: which set it goes in, its path, its bytes.
#[derive(Clone)]
struct File {
    profile: bool,
    path: &'static str,
    bytes: Vec<u8>,
}

type Layout = Vec<File>;

fn to_bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(v).unwrap()
}

/// A single-file dataset with `versions`, two tables, nested and array fields, field auth,
/// filterAuth and a relation; plus a profile with every kind of entry.
fn single_layout() -> Layout {
    let dataset = json!({
        "type": "dataset",
        "id": "afval",
        "title": "Afval",
        "auth": "OPENBAAR",
        "defaultVersion": "v1",
        "versions": {"v1": {"tables": [
            {
                "id": "containers",
                "type": "table",
                "auth": ["FP/MDW"],
                "schema": {
                    "type": "object",
                    "identifier": ["id"],
                    "display": "naam",
                    "properties": {
                        "schema": {"$ref": "https://schemas.data.amsterdam.nl/schema@v1.1.1#/definitions/schema"},
                        "id": {"type": "integer"},
                        "naam": {"type": "string"},
                        "eigenaar": {"type": "string", "auth": "FP/PRIV", "filterAuth": ["FP/FILTER"]},
                        "locatie": {"type": "object", "properties": {
                            "straat": {"type": "string"},
                            "huisnummer": {"type": "integer", "auth": "FP/PRIV"}
                        }},
                        "wegingen": {"type": "array", "items": {"type": "object", "properties": {
                            "datum": {"type": "string"},
                            "gewicht": {"type": "number", "auth": "FP/PRIV"}
                        }}},
                        "clusterId": {"type": "string", "relation": "afval:clusters"}
                    }
                }
            },
            {
                "id": "clusters",
                "type": "table",
                "schema": {"identifier": "id", "properties": {
                    "id": {"type": "string"},
                    "status": {"type": "string"}
                }}
            }
        ]}}
    });
    let profile = json!({
        "type": "profile",
        "id": "medewerker",
        "scopes": ["FP/PROF"],
        "datasets": {"afval": {
            "permissions": "letters:2",
            "tables": {"containers": {
                "permissions": "encoded",
                "fields": {"eigenaar": "letters:3", "locatie.huisnummer": "read", "wegingen": "random"},
                "mandatoryFilterSets": [["id"], ["locatie.straat", "naam[like]"], ["clusterId.status"]]
            }}
        }}
    });
    vec![
        File {
            profile: false,
            path: "datasets/afval/dataset.json",
            bytes: to_bytes(&dataset),
        },
        File {
            profile: true,
            path: "profiles/medewerker.json",
            bytes: to_bytes(&profile),
        },
    ]
}

/// The split layout: `dataset.json` with `$ref` tables (one of them absent), a table file, a
/// scope file referenced by `$ref`, and two profiles.
fn split_layout() -> Layout {
    let dataset = json!({
        "type": "dataset",
        "id": "fz",
        "auth": {"$ref": "/scopes/FZ/lezen"},
        "tables": [{"id": "t", "$ref": "t/v1"}, {"id": "u", "$ref": "u/v1"}]
    });
    let table = json!({
        "id": "t",
        "type": "table",
        "schema": {
            "type": "object",
            "identifier": "id",
            "display": "naam",
            "properties": {
                "id": {"type": "integer"},
                "naam": {"type": "string"},
                "geheim": {"type": "string", "auth": "FZ/EXTRA", "filterAuth": "FZ/FILTER"},
                "adres": {"type": "object", "properties": {
                    "straat": {"type": "string"},
                    "nr": {"type": "integer", "auth": {"$ref": "scopes/FZ/lezen.json"}}
                }},
                "rel": {"type": "string", "relation": "fz:t"}
            }
        }
    });
    let scope = json!({"type": "scope", "id": "FZ/LEZEN", "name": "lezen"});
    let profile = json!({
        "type": "profile",
        "name": "fzp",
        "scopes": [{"$ref": "scopes/FZ/lezen"}, "FZ/EXTRA"],
        "datasets": {"fz": {"tables": {"t": {
            "fields": {"adres.straat": "letters:3", "geheim": "read"},
            "mandatoryFilterSets": [["id"], ["rel.naam"]]
        }}}}
    });
    let empty = json!({"id": "leeg", "datasets": {}});
    vec![
        File {
            profile: false,
            path: "datasets/fz/dataset.json",
            bytes: to_bytes(&dataset),
        },
        File {
            profile: false,
            path: "datasets/fz/t/v1.json",
            bytes: to_bytes(&table),
        },
        File {
            profile: false,
            path: "datasets/scopes/FZ/lezen.json",
            bytes: to_bytes(&scope),
        },
        File {
            profile: true,
            path: "profiles/fzp.json",
            bytes: to_bytes(&profile),
        },
        File {
            profile: true,
            path: "profiles/leeg.json",
            bytes: to_bytes(&empty),
        },
    ]
}

fn sources(layout: &[File]) -> (Sources, Sources) {
    let (mut s, mut p) = (Sources::new(), Sources::new());
    for f in layout {
        let set = if f.profile { &mut p } else { &mut s };
        set.insert(f.path, f.bytes.clone());
    }
    (s, p)
}

/// A record with a value for every field of a table, shaped as the schema says.
fn record(fields: &[Field]) -> Map<String, Value> {
    fields
        .iter()
        .map(|f| {
            let v = match (f.shape, f.children.is_empty()) {
                (Shape::Object, false) => Value::Object(record(&f.children)),
                (Shape::Array, false) => json!([Value::Object(record(&f.children)), 7]),
                (Shape::Array, true) => json!(["a", 1, null]),
                _ => json!("waarde"),
            };
            (f.name.clone(), v)
        })
        .collect()
}

/// Compiles a loaded model and plans, decides on and projects every table.
fn exercise(model: Model) {
    let all: Vec<String> = model.scope_names().to_vec();
    let tables: Vec<(String, Vec<String>, Map<String, Value>)> = model
        .datasets
        .iter()
        .flat_map(|d| d.tables.iter())
        .map(|t| {
            let paths = t.all_fields().iter().map(|f| f.path.clone()).collect();
            (t.qualified.clone(), paths, record(&t.fields))
        })
        .collect();
    let policy = Policy::new(model, "robustness");
    let key = EncodingKey::new(vec![1; 32]).unwrap();
    let none: [&str; 0] = [];
    for scopes in [policy.scope_set(&all), policy.scope_set(&none)] {
        for (table, paths, rec) in &tables {
            let _ = policy.plan(table, &scopes);
            let mut params: Vec<(String, String)> = paths
                .iter()
                .take(4)
                .map(|f| (f.clone(), "1".to_owned()))
                .collect();
            params.push(("_sort".into(), paths.join(",")));
            params.push(("_expandScope".into(), paths.join(",")));
            for detail in [None, Some("1")] {
                let req = Request {
                    table,
                    scopes: &scopes,
                    params: &params,
                    detail,
                };
                if let Ok(d) = policy.decide(&req) {
                    let mut r = rec.clone();
                    Projector::new(&key, [3; 32]).project(&d.plan, &mut r);
                }
            }
        }
    }
}

/// Where a value sits in a JSON document.
#[derive(Clone, Debug)]
enum Seg {
    Key(String),
    Idx(usize),
}

/// Every path in a document, the root included, parents before children.
fn all_paths(v: &Value) -> Vec<Vec<Seg>> {
    fn walk(v: &Value, here: &mut Vec<Seg>, out: &mut Vec<Vec<Seg>>) {
        out.push(here.clone());
        match v {
            Value::Object(m) => {
                for (k, c) in m {
                    here.push(Seg::Key(k.clone()));
                    walk(c, here, out);
                    here.pop();
                }
            }
            Value::Array(a) => {
                for (i, c) in a.iter().enumerate() {
                    here.push(Seg::Idx(i));
                    walk(c, here, out);
                    here.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut Vec::new(), &mut out);
    out
}

/// A copy of `v` with the value at `path` replaced (or removed when `new` is `None`).
fn edit(v: &Value, path: &[Seg], new: Option<Value>) -> Value {
    let mut out = v.clone();
    let Some((last, parents)) = path.split_last() else {
        return new.unwrap_or(Value::Null);
    };
    let mut cur = &mut out;
    for seg in parents {
        cur = match (seg, cur) {
            (Seg::Key(k), Value::Object(m)) => m.get_mut(k).unwrap(),
            (Seg::Idx(i), Value::Array(a)) => &mut a[*i],
            _ => unreachable!("path does not fit the document"),
        };
    }
    match (last, cur, new) {
        (Seg::Key(k), Value::Object(m), Some(n)) => {
            m.insert(k.clone(), n);
        }
        (Seg::Key(k), Value::Object(m), None) => {
            m.shift_remove(k);
        }
        (Seg::Idx(i), Value::Array(a), Some(n)) => a[*i] = n,
        (Seg::Idx(i), Value::Array(a), None) => {
            a.remove(*i);
        }
        _ => unreachable!("path does not fit the document"),
    }
    out
}

const RAW_MARK: &str = "__sluis_raw_token__";

/// The document with raw JSON text (which a `Value` cannot hold) at `path`.
fn with_raw(v: &Value, path: &[Seg], raw: &str) -> Vec<u8> {
    let doc = edit(v, path, Some(Value::String(RAW_MARK.into())));
    let text = serde_json::to_string(&doc).unwrap();
    text.replacen(&format!("\"{RAW_MARK}\""), raw, 1)
        .into_bytes()
}

fn nested(open: &str, close: &str, depth: usize) -> String {
    let mut s = String::with_capacity((open.len() + close.len()) * depth);
    for _ in 0..depth {
        s.push_str(open);
    }
    for _ in 0..depth {
        s.push_str(close);
    }
    s
}

/// `depth` levels of object fields, each inside the previous one's `properties`.
fn deep_fields(depth: usize) -> Value {
    let mut v = json!({"type": "string"});
    for _ in 0..depth {
        v = json!({"type": "object", "properties": {"sub": v}});
    }
    v
}

/// Values of the wrong type (or shape) to put at every key.
fn wrong_values() -> Vec<Value> {
    vec![
        Value::Null,
        json!(true),
        json!(0),
        json!(-1),
        json!(1.5),
        json!(""),
        json!(" x"),
        json!("letters:4294967296"),
        json!("a.b[c"),
        json!([]),
        json!({}),
        json!([null, {"$ref": 1}]),
        json!({"$ref": "../../../../etc/passwd"}),
    ]
}

/// Raw JSON texts to put at every key: huge and tiny numbers, very deep nesting.
fn raw_tokens() -> Vec<String> {
    vec![
        "1e999999".into(),
        "-1e999999".into(),
        "18446744073709551616".into(),
        "-9223372036854775809".into(),
        "123456789012345678901234567890.123456789e-400".into(),
        nested("[", "]", 10_000),
        nested("{\"a\":", "}", 10_000).replacen("}", "1}", 1),
        nested("[", "]", 120),
        format!("\"{}\"", "x".repeat(100_000)),
        "\"\\ud800\"".into(),
    ]
}

/// Token soup for splicing and random documents.
const TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ":",
    ",",
    "\"",
    "null",
    "true",
    "0",
    "-0",
    "1e308",
    "\"type\"",
    "\"dataset\"",
    "\"table\"",
    "\"scope\"",
    "\"profile\"",
    "\"id\"",
    "\"tables\"",
    "\"$ref\"",
    "\"schema\"",
    "\"properties\"",
    "\"auth\"",
    "\"permissions\"",
    "\"fields\"",
    "\"read\"",
    "\"letters:3\"",
    "\"object\"",
    "\"array\"",
    "\"items\"",
    "\\u0000",
    "\u{feff}",
    "\u{1F600}",
];

struct Case {
    what: String,
    layout: Layout,
}

fn with_file(base: &Layout, idx: usize, bytes: Vec<u8>) -> Layout {
    let mut l = base.clone();
    if let Some(f) = l.get_mut(idx) {
        f.bytes = bytes;
    }
    l
}

fn cases() -> Vec<Case> {
    let layouts = [("single", single_layout()), ("split", split_layout())];
    let mut out = Vec::new();
    let mut rng = Rng(0x5eed_0000_0051_1500);
    for (lname, base) in &layouts {
        out.push(Case {
            what: format!("{lname}: unchanged"),
            layout: base.clone(),
        });
        for (fi, file) in base.iter().enumerate() {
            let doc: Value = serde_json::from_slice(&file.bytes).unwrap();
            let tag = format!("{lname}:{}", file.path);
            let wrong = wrong_values();
            let raw = raw_tokens();
            // Every key and element: one wrong type (cycled), removal, one raw token (cycled).
            for (k, path) in all_paths(&doc).iter().enumerate() {
                for w in [&wrong[k % wrong.len()], &wrong[(k * 7 + 3) % wrong.len()]] {
                    out.push(Case {
                        what: format!("{tag}: {path:?} = {w}"),
                        layout: with_file(base, fi, to_bytes(&edit(&doc, path, Some(w.clone())))),
                    });
                }
                if !path.is_empty() {
                    out.push(Case {
                        what: format!("{tag}: remove {path:?}"),
                        layout: with_file(base, fi, to_bytes(&edit(&doc, path, None))),
                    });
                }
                let t = &raw[k % raw.len()];
                out.push(Case {
                    what: format!("{tag}: {path:?} = raw {}", t.get(..40).unwrap_or(t)),
                    layout: with_file(base, fi, with_raw(&doc, path, t)),
                });
            }
            // Byte flips, truncations and spliced tokens.
            let len = file.bytes.len();
            for _ in 0..90 {
                let mut b = file.bytes.clone();
                let flips = 1 + rng.below(4);
                for _ in 0..flips {
                    let i = rng.below(len);
                    b[i] = if rng.below(2) == 0 {
                        b[i] ^ (1 << rng.below(8))
                    } else {
                        rng.next() as u8
                    };
                }
                out.push(Case {
                    what: format!("{tag}: {flips} byte flips"),
                    layout: with_file(base, fi, b),
                });
            }
            for _ in 0..40 {
                let at = rng.below(len);
                out.push(Case {
                    what: format!("{tag}: truncated at {at}"),
                    layout: with_file(base, fi, file.bytes[..at].to_vec()),
                });
            }
            for _ in 0..40 {
                let mut b = file.bytes.clone();
                let at = rng.below(len + 1);
                let tok = *rng.pick(TOKENS);
                b.splice(at..at, tok.bytes());
                out.push(Case {
                    what: format!("{tag}: {tok:?} spliced at {at}"),
                    layout: with_file(base, fi, b),
                });
            }
            // Whole-file oddities.
            let whole: Vec<(&str, Vec<u8>)> = vec![
                ("empty", Vec::new()),
                ("null", b"null".to_vec()),
                ("BOM", [b"\xef\xbb\xbf".as_slice(), &file.bytes].concat()),
                ("trailing garbage", [file.bytes.as_slice(), b"}{"].concat()),
                (
                    "10,000 nested arrays",
                    nested("[", "]", 10_000).into_bytes(),
                ),
                (
                    "10,000 nested objects",
                    nested("{\"a\":", "}", 10_000)
                        .replacen("}", "0}", 1)
                        .into_bytes(),
                ),
                ("invalid UTF-8", b"{\"id\": \"\xff\xfe\"}".to_vec()),
            ];
            for (name, b) in whole {
                out.push(Case {
                    what: format!("{tag}: {name}"),
                    layout: with_file(base, fi, b),
                });
            }
            // Random bytes and token soup.
            for _ in 0..15 {
                let n = rng.below(300);
                let b: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
                out.push(Case {
                    what: format!("{tag}: {n} random bytes"),
                    layout: with_file(base, fi, b),
                });
                let n = rng.below(60);
                let s: String = (0..n).map(|_| *rng.pick(TOKENS)).collect();
                out.push(Case {
                    what: format!("{tag}: token soup {s:?}"),
                    layout: with_file(base, fi, s.into_bytes()),
                });
            }
        }
    }
    // Schema-specific shapes that parse but stress the loader.
    let single = single_layout();
    let ds: Value = serde_json::from_slice(&single[0].bytes).unwrap();
    let props: Vec<Seg> = ["versions", "v1", "tables"]
        .iter()
        .map(|k| Seg::Key((*k).into()))
        .chain([Seg::Idx(0)])
        .chain(["schema", "properties", "locatie"].map(|k| Seg::Key(k.into())))
        .collect();
    for depth in [15, 16, 17, 40] {
        out.push(Case {
            what: format!("single: fields nested {depth} deep"),
            layout: with_file(
                &single,
                0,
                to_bytes(&edit(&ds, &props, Some(deep_fields(depth)))),
            ),
        });
    }
    let many: Map<String, Value> = (0..5_000)
        .map(|i| {
            (
                format!("f{i}"),
                json!({"type": "string", "auth": format!("S{}", i % 300)}),
            )
        })
        .collect();
    let mut many_path = props.clone();
    many_path.pop();
    out.push(Case {
        what: "single: 5,000 fields, 300 scopes".into(),
        layout: with_file(
            &single,
            0,
            to_bytes(&edit(&ds, &many_path, Some(Value::Object(many)))),
        ),
    });
    out.push(Case {
        what: "single: dataset larger than MAX_FILE_BYTES".into(),
        layout: with_file(
            &single,
            0,
            vec![b' '; sluis_policy::load::MAX_FILE_BYTES + 1],
        ),
    });
    out
}

#[test]
fn loaders_never_panic() {
    // Both layouts are valid as given; mutations start from a policy that loads.
    for base in [single_layout(), split_layout()] {
        let (s, p) = sources(&base);
        let model = load(&s, &p).unwrap();
        assert!(!model.profiles.is_empty());
    }
    let cases = cases();
    let (mut ok, mut err, mut failures) = (0usize, 0usize, Vec::new());
    for case in &cases {
        let (s, p) = sources(&case.layout);
        let res = catch_unwind(AssertUnwindSafe(|| match load(&s, &p) {
            Ok(model) => {
                exercise(model);
                true
            }
            Err(e) => {
                // Rendering the error must not panic either.
                let _ = e.to_string();
                false
            }
        }));
        match res {
            Ok(true) => ok += 1,
            Ok(false) => err += 1,
            Err(_) => failures.push(case.what.clone()),
        }
    }
    eprintln!(
        "{} inputs: {ok} loaded, {err} rejected, {} panicked",
        cases.len(),
        failures.len()
    );
    assert!(cases.len() >= 2_000, "only {} inputs", cases.len());
    // Mutations must reach past JSON parsing: both outcomes occur in numbers.
    assert!(ok >= 100 && err >= 500, "{ok} loaded, {err} rejected");
    assert!(
        failures.is_empty(),
        "{} inputs panicked:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
