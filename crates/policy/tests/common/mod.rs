//! Generators of random but valid policies, requests and records for the property tests.

pub mod reference;

use proptest::prelude::*;
use proptest::sample::Index;
use serde_json::{Map, Value, json};
use sluis_policy::model::{Field, Shape, Table};
use sluis_policy::{Model, Policy, Sources, load};

/// Scopes that datasets, tables, fields and profiles mention.
pub const POOL: &[&str] = &["S0", "S1", "S2", "S3", "S4", "S5", "OPENBAAR"];
/// Scopes a request may hold: the pool plus one the policy never mentions.
pub const REQUEST_POOL: &[&str] = &["S0", "S1", "S2", "S3", "S4", "S5", "OPENBAAR", "X9"];

/// An `auth` or `filterAuth` value.
#[derive(Debug, Clone)]
pub enum AuthSpec {
    Absent,
    One(usize),
    List(Vec<usize>),
}

impl AuthSpec {
    fn json(&self) -> Option<Value> {
        match self {
            AuthSpec::Absent => None,
            AuthSpec::One(i) => Some(json!(POOL[*i])),
            AuthSpec::List(l) => Some(Value::Array(l.iter().map(|i| json!(POOL[*i])).collect())),
        }
    }
}

fn auth() -> impl Strategy<Value = AuthSpec> {
    prop_oneof![
        4 => Just(AuthSpec::Absent),
        3 => (0..POOL.len()).prop_map(AuthSpec::One),
        2 => prop::collection::vec(0..POOL.len(), 0..3).prop_map(AuthSpec::List),
    ]
}

#[derive(Debug, Clone)]
pub enum Kind {
    Scalar,
    Object(Vec<FieldSpec>),
    ArrayOfObjects(Vec<FieldSpec>),
    ArrayOfScalars,
    /// A relation to one of the generated tables.
    Relation(Index),
}

#[derive(Debug, Clone)]
pub struct FieldSpec {
    pub auth: AuthSpec,
    pub filter_auth: AuthSpec,
    pub kind: Kind,
    /// Name the field `id` (only below the top level, where it is not an identifier).
    pub nested_id: bool,
}

fn field(depth: u32) -> BoxedStrategy<FieldSpec> {
    let leaf = prop_oneof![
        4 => Just(Kind::Scalar),
        1 => Just(Kind::ArrayOfScalars),
        1 => any::<Index>().prop_map(Kind::Relation),
    ];
    let kind = if depth == 0 {
        leaf.boxed()
    } else {
        let sub = prop::collection::vec(field(depth - 1), 0..4);
        prop_oneof![
            5 => leaf,
            2 => sub.clone().prop_map(Kind::Object),
            1 => sub.prop_map(Kind::ArrayOfObjects),
        ]
        .boxed()
    };
    (auth(), auth(), kind, prop::bool::weighted(0.15))
        .prop_map(|(auth, filter_auth, kind, nested_id)| FieldSpec {
            auth,
            filter_auth,
            kind,
            nested_id,
        })
        .boxed()
}

#[derive(Debug, Clone)]
pub struct TableSpec {
    pub auth: AuthSpec,
    pub id_filter_auth: AuthSpec,
    pub fields: Vec<FieldSpec>,
}

#[derive(Debug, Clone)]
pub struct DatasetSpec {
    pub auth: AuthSpec,
    pub tables: Vec<TableSpec>,
}

fn table() -> impl Strategy<Value = TableSpec> {
    (auth(), auth(), prop::collection::vec(field(2), 1..5)).prop_map(
        |(auth, id_filter_auth, fields)| TableSpec {
            auth,
            id_filter_auth,
            fields,
        },
    )
}

fn dataset() -> impl Strategy<Value = DatasetSpec> {
    (auth(), prop::collection::vec(table(), 1..3))
        .prop_map(|(auth, tables)| DatasetSpec { auth, tables })
}

/// A permission level as a profile writes it.
#[derive(Debug, Clone)]
pub enum LevelSpec {
    Read,
    Encoded,
    Random,
    Letters(u32),
    None,
}

impl LevelSpec {
    fn json(&self) -> Value {
        match self {
            LevelSpec::Read => json!("read"),
            LevelSpec::Encoded => json!("encoded"),
            LevelSpec::Random => json!("random"),
            LevelSpec::Letters(n) => json!(format!("letters:{n}")),
            LevelSpec::None => json!("none"),
        }
    }
}

fn level() -> impl Strategy<Value = LevelSpec> {
    prop_oneof![
        3 => Just(LevelSpec::Read),
        2 => Just(LevelSpec::Encoded),
        1 => Just(LevelSpec::Random),
        2 => prop::sample::select(vec![1u32, 2, 3, 10, 12]).prop_map(LevelSpec::Letters),
        1 => Just(LevelSpec::None),
    ]
}

const OPS: &[&str] = &["gte", "like", "in", "not", "exact"];

fn op() -> impl Strategy<Value = Option<usize>> {
    prop_oneof![3 => Just(None), 1 => (0..OPS.len()).prop_map(Some)]
}

#[derive(Debug, Clone)]
pub struct ProfileTableSpec {
    pub permissions: Option<LevelSpec>,
    pub fields: Vec<(Index, LevelSpec)>,
    pub sets: Vec<Vec<(Index, Option<usize>)>>,
    /// `exactFilters`: leaf fields of the table.
    pub exact: Vec<Index>,
}

#[derive(Debug, Clone)]
pub struct ProfileDatasetSpec {
    pub permissions: Option<LevelSpec>,
    pub tables: Vec<(Index, ProfileTableSpec)>,
}

#[derive(Debug, Clone)]
pub struct ProfileSpec {
    /// `None`: no `scopes` key.
    pub scopes: Option<Vec<usize>>,
    pub datasets: Vec<(Index, ProfileDatasetSpec)>,
}

fn profile_table() -> impl Strategy<Value = ProfileTableSpec> {
    (
        prop::option::weighted(0.6, level()),
        prop::collection::vec((any::<Index>(), level()), 0..4),
        prop_oneof![
            1 => Just(Vec::new()),
            1 => prop::collection::vec(
                prop::collection::vec((any::<Index>(), op()), 1..3),
                1..3,
            ),
        ],
        prop::collection::vec(any::<Index>(), 0..3),
    )
        .prop_map(|(permissions, fields, sets, exact)| ProfileTableSpec {
            permissions,
            fields,
            sets,
            exact,
        })
}

fn profile() -> impl Strategy<Value = ProfileSpec> {
    let pds = (
        prop::option::weighted(0.4, level()),
        prop::collection::vec((any::<Index>(), profile_table()), 0..3),
    )
        .prop_map(|(permissions, tables)| ProfileDatasetSpec {
            permissions,
            tables,
        });
    (
        prop::option::weighted(0.85, prop::collection::vec(0..POOL.len(), 0..3)),
        prop::collection::vec((any::<Index>(), pds), 0..3),
    )
        .prop_map(|(scopes, datasets)| ProfileSpec { scopes, datasets })
}

/// One query parameter.
#[derive(Debug, Clone)]
pub enum ParamSpec {
    /// A filter on a field path of the table (or one hop past a relation).
    Field(Index, Option<usize>, bool),
    /// A name from one of the table's mandatory filter sets.
    SetName(Index, bool),
    /// A name that is no field, or a malformed one.
    Unknown(Index),
    /// `_sort` over field paths (descending when true), sometimes with an unknown one.
    Sort(Vec<(Index, bool)>, bool),
    /// A reserved parameter.
    Reserved(Index),
    /// `_expandScope` with a relation field, or an unknown name.
    Expand(Index, bool),
}

fn param() -> impl Strategy<Value = ParamSpec> {
    prop_oneof![
        4 => (any::<Index>(), op(), prop::bool::weighted(0.15))
            .prop_map(|(i, o, e)| ParamSpec::Field(i, o, e)),
        4 => (any::<Index>(), prop::bool::weighted(0.15)).prop_map(|(i, e)| ParamSpec::SetName(i, e)),
        1 => any::<Index>().prop_map(ParamSpec::Unknown),
        2 => (
            prop::collection::vec((any::<Index>(), any::<bool>()), 1..3),
            prop::bool::weighted(0.1),
        )
            .prop_map(|(v, u)| ParamSpec::Sort(v, u)),
        1 => any::<Index>().prop_map(ParamSpec::Reserved),
        1 => (any::<Index>(), prop::bool::weighted(0.2)).prop_map(|(i, u)| ParamSpec::Expand(i, u)),
    ]
}

#[derive(Debug, Clone)]
pub struct RequestSpec {
    pub table: Index,
    pub scopes: Vec<usize>,
    pub params: Vec<ParamSpec>,
    pub detail: bool,
}

pub fn request() -> impl Strategy<Value = RequestSpec> {
    (
        any::<Index>(),
        prop::collection::vec(0..REQUEST_POOL.len(), 0..4),
        prop::collection::vec(param(), 0..5),
        prop::bool::weighted(0.25),
    )
        .prop_map(|(table, scopes, params, detail)| RequestSpec {
            table,
            scopes,
            params,
            detail,
        })
}

#[derive(Debug, Clone)]
pub struct WorldSpec {
    pub datasets: Vec<DatasetSpec>,
    pub profiles: Vec<ProfileSpec>,
}

pub fn world() -> impl Strategy<Value = WorldSpec> {
    (
        prop::collection::vec(dataset(), 1..3),
        prop::collection::vec(profile(), 0..5),
    )
        .prop_map(|(datasets, profiles)| WorldSpec { datasets, profiles })
}

/// A generated policy: its sources (for failure messages), the loaded model and the engine.
#[derive(Debug)]
pub struct World {
    pub datasets: Vec<Value>,
    pub profiles: Vec<Value>,
    pub policy: Policy,
}

impl World {
    pub fn model(&self) -> &Model {
        self.policy.model()
    }

    /// Every `dataset.table`.
    pub fn tables(&self) -> Vec<String> {
        let mut out = Vec::new();
        for ds in &self.model().datasets {
            for t in &ds.tables {
                out.push(t.qualified.clone());
            }
        }
        out
    }

    pub fn table(&self, qualified: &str) -> &Table {
        let idx = self.model().table_index(qualified).expect("table");
        self.model().table(idx).expect("table").1
    }
}

fn field_json(f: &FieldSpec, tables: &[(String, String)]) -> Value {
    let mut o = Map::new();
    match &f.kind {
        Kind::Scalar => {
            o.insert("type".into(), json!("string"));
        }
        Kind::ArrayOfScalars => {
            o.insert("type".into(), json!("array"));
            o.insert("items".into(), json!({"type": "string"}));
        }
        Kind::Relation(i) => {
            let (d, t) = i.get(tables);
            o.insert("type".into(), json!("string"));
            o.insert("relation".into(), json!(format!("{d}:{t}")));
        }
        Kind::Object(sub) => {
            o.insert("type".into(), json!("object"));
            o.insert("properties".into(), properties(sub, tables, false));
        }
        Kind::ArrayOfObjects(sub) => {
            o.insert("type".into(), json!("array"));
            o.insert(
                "items".into(),
                json!({"type": "object", "properties": properties(sub, tables, false)}),
            );
        }
    }
    if let Some(a) = f.auth.json() {
        o.insert("auth".into(), a);
    }
    if let Some(a) = f.filter_auth.json() {
        o.insert("filterAuth".into(), a);
    }
    Value::Object(o)
}

fn properties(fields: &[FieldSpec], tables: &[(String, String)], top: bool) -> Value {
    let mut props = Map::new();
    for (i, f) in fields.iter().enumerate() {
        let name = if !top && f.nested_id && !props.contains_key("id") {
            "id".to_owned()
        } else {
            format!("f{i}")
        };
        props.insert(name, field_json(f, tables));
    }
    Value::Object(props)
}

fn load_or_panic(datasets: &[Value], profiles: &[Value]) -> Model {
    let mut s = Sources::new();
    for (i, d) in datasets.iter().enumerate() {
        s.insert(
            format!("datasets/ds{i}.json"),
            serde_json::to_vec(d).unwrap(),
        );
    }
    let mut p = Sources::new();
    for (i, pr) in profiles.iter().enumerate() {
        p.insert(
            format!("profiles/p{i}.json"),
            serde_json::to_vec(pr).unwrap(),
        );
    }
    load(&s, &p).unwrap_or_else(|e| {
        panic!(
            "generated policy does not load: {e}\ndatasets: {}\nprofiles: {}",
            Value::Array(datasets.to_vec()),
            Value::Array(profiles.to_vec())
        )
    })
}

/// Filter paths of a table: every field path, plus one hop past each relation.
pub fn filter_paths(model: &Model, table: &Table) -> Vec<String> {
    let mut out = Vec::new();
    for f in table.all_fields() {
        out.push(f.path.clone());
        if let Some(target) = f.relation.as_deref().filter(|r| !r.starts_with('!')) {
            let (_, t) = model.table(model.table_index(target).unwrap()).unwrap();
            for g in t.all_fields() {
                out.push(format!("{}.{}", f.path, g.path));
            }
        }
    }
    out
}

impl WorldSpec {
    pub fn build(&self) -> World {
        let tables: Vec<(String, String)> = self
            .datasets
            .iter()
            .enumerate()
            .flat_map(|(di, d)| {
                (0..d.tables.len()).map(move |ti| (format!("ds{di}"), format!("t{ti}")))
            })
            .collect();
        let datasets: Vec<Value> = self
            .datasets
            .iter()
            .enumerate()
            .map(|(di, d)| {
                let ts: Vec<Value> = d
                    .tables
                    .iter()
                    .enumerate()
                    .map(|(ti, t)| {
                        let mut props = properties(&t.fields, &tables, true);
                        let mut id = Map::new();
                        id.insert("type".into(), json!("integer"));
                        if let Some(a) = t.id_filter_auth.json() {
                            id.insert("filterAuth".into(), a);
                        }
                        props
                            .as_object_mut()
                            .unwrap()
                            .insert("id".into(), Value::Object(id));
                        let mut o = Map::new();
                        o.insert("id".into(), json!(format!("t{ti}")));
                        o.insert("type".into(), json!("table"));
                        if let Some(a) = t.auth.json() {
                            o.insert("auth".into(), a);
                        }
                        o.insert(
                            "schema".into(),
                            json!({"identifier": ["id"], "properties": props}),
                        );
                        Value::Object(o)
                    })
                    .collect();
                let mut o = Map::new();
                o.insert("type".into(), json!("dataset"));
                o.insert("id".into(), json!(format!("ds{di}")));
                if let Some(a) = d.auth.json() {
                    o.insert("auth".into(), a);
                }
                o.insert("tables".into(), Value::Array(ts));
                Value::Object(o)
            })
            .collect();
        // Load the datasets alone first, to pick profile field and filter names from them.
        let bare = load_or_panic(&datasets, &[]);
        let profiles: Vec<Value> = self
            .profiles
            .iter()
            .enumerate()
            .map(|(pi, p)| profile_json(&bare, pi, p))
            .collect();
        let model = load_or_panic(&datasets, &profiles);
        World {
            datasets,
            profiles,
            policy: Policy::new(model, "v"),
        }
    }
}

fn profile_json(model: &Model, pi: usize, p: &ProfileSpec) -> Value {
    let mut o = Map::new();
    o.insert("type".into(), json!("profile"));
    o.insert("id".into(), json!(format!("p{pi}")));
    if let Some(s) = &p.scopes {
        o.insert(
            "scopes".into(),
            Value::Array(s.iter().map(|i| json!(POOL[*i])).collect()),
        );
    }
    let mut dss = Map::new();
    for (di, pd) in &p.datasets {
        let ds = di.get(&model.datasets);
        let mut d = Map::new();
        if let Some(l) = &pd.permissions {
            d.insert("permissions".into(), l.json());
        }
        let mut ts = Map::new();
        for (ti, pt) in &pd.tables {
            let t = ti.get(&ds.tables);
            let paths: Vec<String> = t.all_fields().iter().map(|f| f.path.clone()).collect();
            let fpaths = filter_paths(model, t);
            let mut e = Map::new();
            if let Some(l) = &pt.permissions {
                e.insert("permissions".into(), l.json());
            }
            // A table entry needs permissions or fields; `fields` may be empty.
            if pt.permissions.is_none() || !pt.fields.is_empty() {
                let mut fs = Map::new();
                for (fi, l) in &pt.fields {
                    fs.insert(fi.get(&paths).clone(), l.json());
                }
                e.insert("fields".into(), Value::Object(fs));
            }
            if !pt.sets.is_empty() {
                let sets: Vec<Value> = pt
                    .sets
                    .iter()
                    .map(|set| {
                        Value::Array(
                            set.iter()
                                .map(|(ni, op)| {
                                    let base = ni.get(&fpaths);
                                    match op {
                                        Some(o) => json!(format!("{base}[{}]", OPS[*o])),
                                        None => json!(base),
                                    }
                                })
                                .collect(),
                        )
                    })
                    .collect();
                e.insert("mandatoryFilterSets".into(), Value::Array(sets));
            }
            let leaves: Vec<String> = t
                .all_fields()
                .iter()
                .filter(|f| f.children.is_empty())
                .map(|f| f.path.clone())
                .collect();
            if !leaves.is_empty() && !pt.exact.is_empty() {
                let mut ex: Vec<String> = pt.exact.iter().map(|i| i.get(&leaves).clone()).collect();
                ex.sort();
                ex.dedup();
                e.insert("exactFilters".into(), json!(ex));
            }
            ts.insert(t.id.clone(), Value::Object(e));
        }
        // An empty entry still mentions the dataset (rule 5).
        if !ts.is_empty() || pi.is_multiple_of(2) {
            d.insert("tables".into(), Value::Object(ts));
        }
        dss.insert(ds.id.clone(), Value::Object(d));
    }
    o.insert("datasets".into(), Value::Object(dss));
    Value::Object(o)
}

/// A concrete request.
#[derive(Debug, Clone)]
pub struct Req {
    pub table: String,
    pub scopes: Vec<String>,
    pub params: Vec<(String, String)>,
    pub detail: Option<String>,
}

const UNKNOWN_NAMES: &[&str] = &[
    "nope", "f0.nope", "id.x", "a[", "[x]", "f0[gte", "f0[]", "f0]", "f0[g-e]", "f0[gte]x",
];
const RESERVED: &[(&str, &str)] = &[
    ("page", "2"),
    ("page_size", "10"),
    ("format", "json"),
    ("_fields", "id"),
    ("_expand", "true"),
    ("_format", "csv"),
];

impl RequestSpec {
    pub fn build(&self, world: &World) -> Req {
        let tables = world.tables();
        let table = self.table.get(&tables).clone();
        let t = world.table(&table);
        let model = world.model();
        let fpaths = filter_paths(model, t);
        let (di, ti) = model.table_index(&table).unwrap();
        let mut set_names: Vec<String> = Vec::new();
        for p in &model.profiles {
            for pd in p.datasets.iter().filter(|pd| pd.dataset == di) {
                for pt in pd.tables.iter().filter(|pt| pt.table == ti) {
                    set_names.extend(pt.mandatory_filter_sets.iter().flatten().cloned());
                }
            }
        }
        if set_names.is_empty() {
            set_names.clone_from(&fpaths);
        }
        let relations: Vec<String> = t
            .all_fields()
            .iter()
            .filter(|f| f.relation.is_some())
            .map(|f| f.path.clone())
            .collect();
        let value = |empty: bool| if empty { String::new() } else { "x".to_owned() };
        let params = self
            .params
            .iter()
            .map(|p| match p {
                ParamSpec::Field(i, op, empty) => {
                    let base = i.get(&fpaths);
                    let name = match op {
                        Some(o) => format!("{base}[{}]", OPS[*o]),
                        None => base.clone(),
                    };
                    (name, value(*empty))
                }
                ParamSpec::SetName(i, empty) => (i.get(&set_names).clone(), value(*empty)),
                ParamSpec::Unknown(i) => ((*i.get(UNKNOWN_NAMES)).to_owned(), "x".to_owned()),
                ParamSpec::Sort(fields, unknown) => {
                    let mut parts: Vec<String> = fields
                        .iter()
                        .map(|(i, desc)| {
                            format!("{}{}", if *desc { "-" } else { "" }, i.get(&fpaths))
                        })
                        .collect();
                    if *unknown {
                        parts.push(" nope".to_owned());
                        parts.push(String::new());
                    }
                    ("_sort".to_owned(), parts.join(","))
                }
                ParamSpec::Reserved(i) => {
                    let (k, v) = i.get(RESERVED);
                    ((*k).to_owned(), (*v).to_owned())
                }
                ParamSpec::Expand(i, unknown) => {
                    let v = if *unknown || relations.is_empty() {
                        "nope".to_owned()
                    } else {
                        i.get(&relations).clone()
                    };
                    ("_expandScope".to_owned(), v)
                }
            })
            .collect();
        let mut scopes: Vec<String> = self
            .scopes
            .iter()
            .map(|i| REQUEST_POOL[*i].to_owned())
            .collect();
        scopes.sort();
        scopes.dedup();
        Req {
            table,
            scopes,
            params,
            detail: self.detail.then(|| "1".to_owned()),
        }
    }
}

/// A small pool of values, so that equal inputs recur within a field.
const VALUES: &[&str] = &[
    "\"Langs\"",
    "\"NIET FISCA\"",
    "\"a\"",
    "\"\"",
    "\"Ωmega straat 12\"",
    "1",
    "2.5",
    "true",
    "null",
    "{\"x\": 1}",
];

/// A deterministic stream of choices, so records can follow a schema known only at run time.
#[derive(Debug)]
pub struct Dice(u64);

impl Dice {
    pub fn new(seed: u64) -> Self {
        Dice(seed)
    }

    fn next(&mut self, n: usize) -> usize {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z % n as u64) as usize
    }

    fn scalar(&mut self) -> Value {
        serde_json::from_str(VALUES[self.next(VALUES.len())]).unwrap()
    }

    fn object(&mut self, fields: &[Field]) -> Value {
        let mut m = Map::new();
        for f in fields {
            // Most fields present; some absent.
            if self.next(8) == 0 {
                continue;
            }
            m.insert(f.name.clone(), self.value(f));
        }
        if self.next(4) == 0 {
            m.insert("zz".into(), self.scalar());
        }
        if self.next(6) == 0 {
            m.insert("extra".into(), json!({"secret": "s", "id": 3}));
        }
        Value::Object(m)
    }

    fn value(&mut self, f: &Field) -> Value {
        if self.next(12) == 0 {
            return Value::Null;
        }
        match (f.shape, f.children.is_empty()) {
            (Shape::Scalar, _) => self.scalar(),
            (Shape::Object, false) => {
                if self.next(10) == 0 {
                    // A scalar where the schema says object.
                    self.scalar()
                } else {
                    self.object(&f.children)
                }
            }
            (Shape::Object, true) => self.scalar(),
            (Shape::Array, children_empty) => {
                let n = self.next(4);
                let items = (0..n)
                    .map(|_| {
                        if children_empty || self.next(10) == 0 {
                            self.scalar()
                        } else {
                            self.object(&f.children)
                        }
                    })
                    .collect();
                Value::Array(items)
            }
        }
    }

    /// A record of the table, with some keys the schema does not know.
    pub fn record(&mut self, table: &Table) -> Map<String, Value> {
        match self.object(&table.fields) {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }
}
