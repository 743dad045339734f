//! The validated policy model: datasets, tables, fields and profiles, with scopes interned.
//!
//! A [`Model`] is produced by [`crate::load`] and never changes afterwards; the compiled engine
//! ([`crate::Policy`]) is built from it.

use std::collections::HashMap;
use std::path::PathBuf;

use crate::Level;
use crate::error::Diagnostic;

/// Index of an interned scope; [`OPENBAAR`] is always index 0.
pub type ScopeId = u32;

/// The implicit public scope every request holds.
pub const OPENBAAR: ScopeId = 0;
/// The name of the implicit public scope.
pub const OPENBAAR_NAME: &str = "OPENBAAR";

/// An `auth` value on one level: any one of the scopes suffices. Empty means public.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct AuthSet(pub(crate) Vec<ScopeId>);

impl AuthSet {
    /// The public auth (`OPENBAAR`, or no `auth` at all).
    pub fn public() -> Self {
        AuthSet(Vec::new())
    }

    /// True when every request satisfies this auth.
    pub fn is_public(&self) -> bool {
        self.0.is_empty() || self.0.contains(&OPENBAAR)
    }

    /// True when the request holds at least one of the scopes (OR within a level).
    pub fn satisfied_by(&self, scopes: &ScopeSet) -> bool {
        self.is_public() || self.0.iter().any(|s| scopes.contains(*s))
    }

    /// The interned scopes, sorted.
    pub fn scopes(&self) -> &[ScopeId] {
        &self.0
    }
}

/// The scopes of one request, as a bit set over the policy's interned scopes.
///
/// Scopes the policy never mentions are dropped: they cannot change any decision.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ScopeSet {
    bits: Vec<u64>,
}

impl ScopeSet {
    pub(crate) fn with_public(n_scopes: usize) -> Self {
        let mut bits = vec![0u64; n_scopes.div_ceil(64).max(1)];
        if let Some(w) = bits.first_mut() {
            *w |= 1;
        }
        ScopeSet { bits }
    }

    pub(crate) fn insert(&mut self, s: ScopeId) {
        let (w, b) = ((s / 64) as usize, s % 64);
        if let Some(word) = self.bits.get_mut(w) {
            *word |= 1 << b;
        }
    }

    /// True when the set holds the scope.
    pub fn contains(&self, s: ScopeId) -> bool {
        let (w, b) = ((s / 64) as usize, s % 64);
        self.bits.get(w).is_some_and(|word| word & (1 << b) != 0)
    }

    /// True when every scope of `required` is in the set.
    pub fn contains_all(&self, required: &[ScopeId]) -> bool {
        required.iter().all(|s| self.contains(*s))
    }

    /// The interned scopes in the set, ascending.
    pub fn iter(&self) -> impl Iterator<Item = ScopeId> + '_ {
        self.bits.iter().enumerate().flat_map(|(w, word)| {
            (0..64u32)
                .filter(move |b| word & (1u64 << b) != 0)
                .map(move |b| w as u32 * 64 + b)
        })
    }
}

/// How a field's value is shaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// A string, number, boolean, geometry or other value transformed as a whole.
    Scalar,
    /// An object whose properties are the field's children.
    Object,
    /// An array; its items are objects with the field's children, or scalars when there are none.
    Array,
}

/// One field of a table; nested fields are children.
#[derive(Debug, Clone)]
pub struct Field {
    /// The JSON key.
    pub name: String,
    /// The dotted path from the table root, e.g. `woonadres.postcode`.
    pub path: String,
    /// The field's own `auth` (its ancestors' auth applies too).
    pub auth: AuthSet,
    /// The field's own `filterAuth` (its ancestors' applies too).
    pub filter_auth: AuthSet,
    /// Target `dataset.table` of a relation, when the field is one.
    pub relation: Option<String>,
    pub shape: Shape,
    pub children: Vec<Field>,
}

/// One table of a dataset.
#[derive(Debug, Clone)]
pub struct Table {
    pub id: String,
    /// `dataset.table`.
    pub qualified: String,
    pub auth: AuthSet,
    /// The identifier field names; always delivered when the table is readable.
    pub identifier: Vec<String>,
    pub display: Option<String>,
    pub fields: Vec<Field>,
    /// False when the dataset lists the table but its file was not among the sources.
    pub available: bool,
    pub file: PathBuf,
}

impl Table {
    /// Finds a (possibly nested) field by dotted path.
    pub fn field(&self, path: &str) -> Option<&Field> {
        let mut fields = &self.fields;
        let mut found = None;
        for part in path.split('.') {
            let f = fields.iter().find(|f| f.name == part)?;
            fields = &f.children;
            found = Some(f);
        }
        found
    }

    /// The chain of fields from the root to the field at `path`, or `None` when a part is unknown.
    pub fn field_chain(&self, path: &str) -> Option<Vec<&Field>> {
        let mut fields = &self.fields;
        let mut chain = Vec::new();
        for part in path.split('.') {
            let f = fields.iter().find(|f| f.name == part)?;
            fields = &f.children;
            chain.push(f);
        }
        Some(chain)
    }

    /// Every field in depth-first order, parents before children.
    pub fn all_fields(&self) -> Vec<&Field> {
        fn walk<'a>(fs: &'a [Field], out: &mut Vec<&'a Field>) {
            for f in fs {
                out.push(f);
                walk(&f.children, out);
            }
        }
        let mut out = Vec::new();
        walk(&self.fields, &mut out);
        out
    }
}

/// One Amsterdam Schema dataset.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub id: String,
    pub auth: AuthSet,
    pub tables: Vec<Table>,
    pub file: PathBuf,
}

/// What one profile says about one table.
#[derive(Debug, Clone)]
pub struct ProfileTable {
    /// Index of the table in its dataset.
    pub table: usize,
    pub permissions: Option<Level>,
    /// Explicit field entries: dotted path → level.
    pub fields: Vec<(String, Level)>,
    /// OR of ANDs of literal query-parameter names; empty means no condition.
    pub mandatory_filter_sets: Vec<Vec<String>>,
    /// sluis extension `exactFilters`: leaf field paths this profile lets its callers filter on
    /// by exact match (plain `name=` or `name[exact]=`) although they see them below `read`.
    pub exact_filters: Vec<String>,
}

impl ProfileTable {
    /// The table's level in this profile: its `permissions`, or "subobjects only" when it lists
    /// only fields.
    pub fn level(&self) -> Level {
        self.permissions.unwrap_or(Level::SubobjectsOnly)
    }

    /// The level of the explicit entry for `path` or its nearest listed ancestor.
    pub fn field_entry(&self, path: &str) -> Option<Level> {
        let mut best: Option<(usize, Level)> = None;
        for (p, l) in &self.fields {
            let covers = path == p
                || (path.len() > p.len()
                    && path.starts_with(p.as_str())
                    && path.as_bytes().get(p.len()) == Some(&b'.'));
            if covers && best.is_none_or(|(len, _)| p.len() > len) {
                best = Some((p.len(), *l));
            }
        }
        best.map(|(_, l)| l)
    }
}

/// What one profile says about one dataset.
#[derive(Debug, Clone)]
pub struct ProfileDataset {
    /// Index of the dataset in the model.
    pub dataset: usize,
    pub permissions: Option<Level>,
    pub tables: Vec<ProfileTable>,
}

/// A profile: extra access for requests holding all of its scopes.
#[derive(Debug, Clone)]
pub struct Profile {
    pub id: String,
    /// All of these must be present; empty means every request.
    pub scopes: Vec<ScopeId>,
    pub datasets: Vec<ProfileDataset>,
    pub file: PathBuf,
}

/// The loaded, validated policy sources.
#[derive(Debug, Clone)]
pub struct Model {
    pub(crate) scope_names: Vec<String>,
    pub(crate) scope_index: HashMap<String, ScopeId>,
    pub datasets: Vec<Dataset>,
    pub profiles: Vec<Profile>,
    pub(crate) table_index: HashMap<String, (usize, usize)>,
    /// Problems that did not stop loading, such as table files absent from the sources.
    pub warnings: Vec<Diagnostic>,
}

impl Model {
    pub(crate) fn new() -> Self {
        let mut m = Model {
            scope_names: Vec::new(),
            scope_index: HashMap::new(),
            datasets: Vec::new(),
            profiles: Vec::new(),
            table_index: HashMap::new(),
            warnings: Vec::new(),
        };
        m.intern(OPENBAAR_NAME);
        m
    }

    pub(crate) fn intern(&mut self, name: &str) -> ScopeId {
        if let Some(id) = self.scope_index.get(name) {
            return *id;
        }
        let id = self.scope_names.len() as ScopeId;
        self.scope_names.push(name.to_owned());
        self.scope_index.insert(name.to_owned(), id);
        id
    }

    /// The name of an interned scope.
    pub fn scope_name(&self, id: ScopeId) -> &str {
        self.scope_names
            .get(id as usize)
            .map_or("?", String::as_str)
    }

    /// Every scope the policy mentions, `OPENBAAR` first.
    pub fn scope_names(&self) -> &[String] {
        &self.scope_names
    }

    /// Builds the scope set of a request from its token scopes; `OPENBAAR` is always in it.
    pub fn scope_set<S: AsRef<str>>(&self, scopes: &[S]) -> ScopeSet {
        let mut set = ScopeSet::with_public(self.scope_names.len());
        for s in scopes {
            if let Some(id) = self.scope_index.get(s.as_ref()) {
                set.insert(*id);
            }
        }
        set
    }

    /// Looks a table up by `dataset.table`: (dataset index, table index).
    pub fn table_index(&self, qualified: &str) -> Option<(usize, usize)> {
        self.table_index.get(qualified).copied()
    }

    /// The dataset and table at an index pair.
    pub fn table(&self, idx: (usize, usize)) -> Option<(&Dataset, &Table)> {
        let ds = self.datasets.get(idx.0)?;
        Some((ds, ds.tables.get(idx.1)?))
    }
}
