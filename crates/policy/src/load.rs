//! Loading Amsterdam Schema datasets, scope files and profiles from in-memory sources.
//!
//! Three dataset layouts are read: a single file with a top-level `tables` array; a single file
//! with `versions: {vN: {tables: [...]}}`; and the split layout, `dataset.json` whose tables are
//! `$ref`s to `<table>/vN.json` beside it. Every problem is collected with its file and JSON
//! path, so a policy author sees all of them at once.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use crate::Level;
use crate::error::{Diagnostic, PolicyError};
use crate::model::{
    AuthSet, Dataset, Field, Model, Profile, ProfileDataset, ProfileTable, ScopeId, Shape, Table,
};

/// Largest source file accepted, in bytes.
pub const MAX_FILE_BYTES: usize = 16 * 1024 * 1024;
/// Deepest nesting of object and array fields accepted in a table schema.
pub const MAX_FIELD_DEPTH: usize = 16;

/// A set of source files held in memory, keyed by path. Split-layout datasets resolve their
/// table `$ref`s against the other paths in the same set.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: BTreeMap<PathBuf, Vec<u8>>,
}

impl Sources {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) one file.
    pub fn insert(&mut self, path: impl Into<PathBuf>, bytes: impl Into<Vec<u8>>) {
        self.files.insert(path.into(), bytes.into());
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    pub fn paths(&self) -> impl Iterator<Item = &Path> {
        self.files.keys().map(PathBuf::as_path)
    }

    /// The bytes of one file.
    pub fn get(&self, path: &Path) -> Option<&[u8]> {
        self.files.get(path).map(Vec::as_slice)
    }
}

/// Loads and validates datasets (with any scope files among them) and profiles.
pub fn load(schemas: &Sources, profiles: &Sources) -> Result<Model, PolicyError> {
    let mut l = Loader {
        model: Model::new(),
        diags: Vec::new(),
        scope_refs: HashMap::new(),
    };
    l.load_schemas(schemas);
    l.load_profiles(profiles);
    if l.diags.is_empty() {
        Ok(l.model)
    } else {
        Err(PolicyError::Invalid(l.diags))
    }
}

struct Loader {
    model: Model,
    diags: Vec<Diagnostic>,
    /// Scope file keys (path below a `scopes` folder, without `.json`) → scope id string.
    scope_refs: HashMap<String, String>,
}

/// A JSON path under construction, rendered `$.a.b[0]["odd key"]`.
#[derive(Clone)]
struct JPath(String);

impl JPath {
    fn root() -> Self {
        JPath("$".into())
    }
    fn key(&self, k: &str) -> Self {
        let simple = !k.is_empty()
            && k.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
            && !k.starts_with(|c: char| c.is_ascii_digit());
        if simple {
            JPath(format!("{}.{k}", self.0))
        } else {
            JPath(format!("{}[{}]", self.0, Value::String(k.to_owned())))
        }
    }
    fn idx(&self, i: usize) -> Self {
        JPath(format!("{}[{i}]", self.0))
    }
}

struct Ctx<'a> {
    file: &'a Path,
}

impl Loader {
    fn diag(&mut self, file: &Path, path: &JPath, message: impl Into<String>) {
        self.diags.push(Diagnostic {
            file: file.to_owned(),
            path: path.0.clone(),
            message: message.into(),
        });
    }

    fn parse(&mut self, file: &Path, bytes: &[u8]) -> Option<Value> {
        if bytes.len() > MAX_FILE_BYTES {
            self.diag(
                file,
                &JPath::root(),
                format!("file is larger than {MAX_FILE_BYTES} bytes"),
            );
            return None;
        }
        match serde_json::from_slice::<Value>(bytes) {
            Ok(v) => Some(v),
            Err(e) => {
                self.diag(file, &JPath::root(), format!("not valid JSON: {e}"));
                None
            }
        }
    }

    fn load_schemas(&mut self, sources: &Sources) {
        let mut parsed: Vec<(&Path, Value)> = Vec::new();
        for (path, bytes) in &sources.files {
            if let Some(v) = self.parse(path, bytes) {
                parsed.push((path, v));
            }
        }
        // Scope files first, so that `$ref` auth values can be resolved wherever they appear.
        for (path, v) in &parsed {
            if type_of(v) == Some("scope") {
                self.register_scope(path, v);
            }
        }
        let mut consumed: HashSet<PathBuf> = HashSet::new();
        let mut tables: Vec<&Path> = Vec::new();
        for (path, v) in &parsed {
            match type_of(v) {
                Some("scope") => {}
                Some("table") => tables.push(path),
                Some("dataset") => self.load_dataset(path, v, sources, &mut consumed),
                None if v.get("tables").is_some() && v.get("id").is_some() => {
                    self.load_dataset(path, v, sources, &mut consumed)
                }
                Some("profile") => self.diag(
                    path,
                    &JPath::root().key("type"),
                    "a profile among the dataset sources; pass profiles separately",
                ),
                Some(other) => self.diag(
                    path,
                    &JPath::root().key("type"),
                    format!("unexpected type {other:?}: expected a dataset, table or scope file"),
                ),
                None => self.diag(
                    path,
                    &JPath::root(),
                    "not an Amsterdam Schema dataset, table or scope file (no \"type\")",
                ),
            }
        }
        for path in tables {
            if !consumed.contains(path) {
                self.diag(
                    path,
                    &JPath::root(),
                    "table file not referenced by any dataset.json among the sources",
                );
            }
        }
        self.resolve_relations();
    }

    fn register_scope(&mut self, path: &Path, v: &Value) {
        let Some(id) = v
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
        else {
            self.diag(
                path,
                &JPath::root().key("id"),
                "scope file without a string \"id\"",
            );
            return;
        };
        let key = scope_key(path);
        if let Some(prev) = self.scope_refs.insert(key.clone(), id.to_owned())
            && prev != id
        {
            self.diag(
                path,
                &JPath::root().key("id"),
                format!("scope file key {key:?} defined twice"),
            );
        }
        self.model.intern(id);
    }

    fn load_dataset(
        &mut self,
        file: &Path,
        v: &Value,
        sources: &Sources,
        consumed: &mut HashSet<PathBuf>,
    ) {
        let root = JPath::root();
        let Some(obj) = v.as_object() else {
            self.diag(file, &root, "a dataset must be a JSON object");
            return;
        };
        let Some(id) = obj
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| valid_name(s))
        else {
            self.diag(
                file,
                &root.key("id"),
                "dataset needs an \"id\" of letters, digits or _",
            );
            return;
        };
        if self.model.datasets.iter().any(|d| d.id == id) {
            self.diag(
                file,
                &root.key("id"),
                format!("duplicate dataset id {id:?}"),
            );
            return;
        }
        let ctx = Ctx { file };
        let auth = self.auth(&ctx, obj.get("auth"), &root.key("auth"));
        let (tables_val, tables_path) = match self.dataset_tables(&ctx, obj, &root) {
            Some(t) => t,
            None => return,
        };
        let dir = file.parent().unwrap_or(Path::new(""));
        let mut tables: Vec<Table> = Vec::new();
        for (i, entry) in tables_val.iter().enumerate() {
            let tp = tables_path.idx(i);
            let Some(eobj) = entry.as_object() else {
                self.diag(file, &tp, "a table entry must be an object");
                continue;
            };
            let table = match (eobj.get("$ref").and_then(Value::as_str), eobj.get("schema")) {
                (Some(r), None) => {
                    let tfile = dir.join(format!("{}.json", r.trim_start_matches("./")));
                    consumed.insert(tfile.clone());
                    let listed_id = eobj.get("id").and_then(Value::as_str);
                    match sources.files.get(&tfile) {
                        None => {
                            let tid = listed_id
                                .map(str::to_owned)
                                .unwrap_or_else(|| r.split('/').next().unwrap_or(r).to_owned());
                            self.model.warnings.push(Diagnostic {
                                file: file.to_owned(),
                                path: tp.key("$ref").0,
                                message: format!(
                                    "table file {} not found; table {id}.{tid} is unavailable",
                                    tfile.display()
                                ),
                            });
                            Some(Table {
                                id: tid.clone(),
                                qualified: format!("{id}.{tid}"),
                                auth: AuthSet::public(),
                                identifier: Vec::new(),
                                display: None,
                                fields: Vec::new(),
                                available: false,
                                file: tfile,
                            })
                        }
                        Some(bytes) => {
                            let tv = self.parse(&tfile, bytes);
                            tv.and_then(|tv| {
                                let tctx = Ctx { file: &tfile };
                                let t = self.table(&tctx, id, &tv, &JPath::root());
                                if let (Some(t), Some(lid)) = (&t, listed_id)
                                    && t.id != lid
                                {
                                    self.diag(
                                        file,
                                        &tp.key("id"),
                                        format!(
                                            "listed as {lid:?} but the table file says {:?}",
                                            t.id
                                        ),
                                    );
                                }
                                t
                            })
                        }
                    }
                }
                (_, Some(_)) => self.table(&ctx, id, entry, &tp),
                (None, None) => {
                    self.diag(file, &tp, "a table entry needs a \"schema\" or a \"$ref\"");
                    None
                }
            };
            if let Some(t) = table {
                if tables.iter().any(|o| o.id == t.id) {
                    self.diag(
                        file,
                        &tp.key("id"),
                        format!("duplicate table id {:?}", t.id),
                    );
                    continue;
                }
                tables.push(t);
            }
        }
        let di = self.model.datasets.len();
        for (ti, t) in tables.iter().enumerate() {
            self.model.table_index.insert(t.qualified.clone(), (di, ti));
        }
        self.model.datasets.push(Dataset {
            id: id.to_owned(),
            auth,
            tables,
            file: file.to_owned(),
        });
    }

    /// Finds the tables array of a dataset: top-level `tables`, or `versions[defaultVersion]`.
    fn dataset_tables<'v>(
        &mut self,
        ctx: &Ctx<'_>,
        obj: &'v Map<String, Value>,
        root: &JPath,
    ) -> Option<(&'v Vec<Value>, JPath)> {
        if let Some(t) = obj.get("tables") {
            return match t.as_array() {
                Some(a) => Some((a, root.key("tables"))),
                None => {
                    self.diag(ctx.file, &root.key("tables"), "\"tables\" must be an array");
                    None
                }
            };
        }
        let Some(versions) = obj.get("versions").and_then(Value::as_object) else {
            self.diag(
                ctx.file,
                root,
                "dataset has neither \"tables\" nor \"versions\"",
            );
            return None;
        };
        let version = match obj.get("defaultVersion").and_then(Value::as_str) {
            Some(v) => v.to_owned(),
            None if versions.len() == 1 => versions.keys().next().cloned().unwrap_or_default(),
            None => {
                self.diag(
                    ctx.file,
                    &root.key("defaultVersion"),
                    "several versions but no \"defaultVersion\" to choose one",
                );
                return None;
            }
        };
        let vp = root.key("versions").key(&version);
        match versions
            .get(&version)
            .and_then(|v| v.get("tables"))
            .and_then(Value::as_array)
        {
            Some(a) => Some((a, vp.key("tables"))),
            None => {
                self.diag(
                    ctx.file,
                    &vp,
                    format!("version {version:?} has no \"tables\" array"),
                );
                None
            }
        }
    }

    fn table(&mut self, ctx: &Ctx<'_>, dataset: &str, v: &Value, p: &JPath) -> Option<Table> {
        let Some(obj) = v.as_object() else {
            self.diag(ctx.file, p, "a table must be a JSON object");
            return None;
        };
        let Some(id) = obj
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| valid_name(s))
        else {
            self.diag(
                ctx.file,
                &p.key("id"),
                "table needs an \"id\" of letters, digits or _",
            );
            return None;
        };
        let auth = self.auth(ctx, obj.get("auth"), &p.key("auth"));
        let sp = p.key("schema");
        let Some(schema) = obj.get("schema").and_then(Value::as_object) else {
            self.diag(ctx.file, &sp, "table needs a \"schema\" object");
            return None;
        };
        if schema.contains_key("rowLevelAuth") || obj.contains_key("rowLevelAuth") {
            self.diag(
                ctx.file,
                &sp.key("rowLevelAuth"),
                "rowLevelAuth is not supported; refusing the table rather than delivering rows unchecked",
            );
        }
        let identifier: Vec<String> = match schema.get("identifier") {
            None => Vec::new(),
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(a)) if a.iter().all(Value::is_string) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            Some(_) => {
                self.diag(
                    ctx.file,
                    &sp.key("identifier"),
                    "must be a field name or a list of them",
                );
                Vec::new()
            }
        };
        let display = match schema.get("display") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.diag(ctx.file, &sp.key("display"), "must be a field name");
                None
            }
        };
        let pp = sp.key("properties");
        let fields = match schema.get("properties") {
            Some(Value::Object(props)) => self.fields(ctx, props, &pp, "", 1),
            _ => {
                self.diag(ctx.file, &pp, "table schema needs a \"properties\" object");
                Vec::new()
            }
        };
        let table = Table {
            id: id.to_owned(),
            qualified: format!("{dataset}.{id}"),
            auth,
            identifier,
            display,
            fields,
            available: true,
            file: ctx.file.to_owned(),
        };
        let named: Vec<(&str, &str)> = table
            .identifier
            .iter()
            .map(|n| (n.as_str(), "identifier"))
            .chain(table.display.iter().map(|d| (d.as_str(), "display")))
            .collect();
        for (name, role) in named {
            match table.field(name) {
                None => self.diag(
                    ctx.file,
                    &sp.key(role),
                    format!("{role} names {name:?}, which is not a field of the table"),
                ),
                Some(f) if !f.auth.is_public() => self.diag(
                    ctx.file,
                    &pp.key(name).key("auth"),
                    format!("field {name:?} is named in {role} and may not carry its own auth"),
                ),
                Some(_) => {}
            }
        }
        Some(table)
    }

    fn fields(
        &mut self,
        ctx: &Ctx<'_>,
        props: &Map<String, Value>,
        p: &JPath,
        prefix: &str,
        depth: usize,
    ) -> Vec<Field> {
        let mut out = Vec::new();
        if depth > MAX_FIELD_DEPTH {
            self.diag(
                ctx.file,
                p,
                format!("fields nested deeper than {MAX_FIELD_DEPTH} levels"),
            );
            return out;
        }
        for (name, prop) in props {
            let fp = p.key(name);
            if name.is_empty() || name.contains('.') || name.contains('[') {
                self.diag(
                    ctx.file,
                    &fp,
                    "field names may not be empty or contain '.' or '['",
                );
                continue;
            }
            let Some(pobj) = prop.as_object() else {
                self.diag(ctx.file, &fp, "a field must be a JSON object");
                continue;
            };
            // The `schema` property refers to the meta-schema; it is metadata, not data.
            if prefix.is_empty() && name == "schema" && pobj.contains_key("$ref") {
                continue;
            }
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            let auth = self.auth(ctx, pobj.get("auth"), &fp.key("auth"));
            let filter_auth = self.auth(ctx, pobj.get("filterAuth"), &fp.key("filterAuth"));
            let relation = match pobj.get("relation") {
                None => None,
                Some(Value::String(r)) if !r.is_empty() => Some(r.clone()),
                Some(_) => {
                    self.diag(
                        ctx.file,
                        &fp.key("relation"),
                        "relation must be \"dataset:table\"",
                    );
                    None
                }
            };
            let ty = pobj.get("type").and_then(Value::as_str);
            let (shape, children) = match ty {
                Some("object") => match pobj.get("properties") {
                    Some(Value::Object(sub)) => (
                        Shape::Object,
                        self.fields(ctx, sub, &fp.key("properties"), &path, depth + 1),
                    ),
                    _ => (Shape::Scalar, Vec::new()),
                },
                Some("array") => match pobj.get("items").and_then(|i| i.get("properties")) {
                    Some(Value::Object(sub)) => (
                        Shape::Array,
                        self.fields(
                            ctx,
                            sub,
                            &fp.key("items").key("properties"),
                            &path,
                            depth + 1,
                        ),
                    ),
                    _ => (Shape::Array, Vec::new()),
                },
                _ => (Shape::Scalar, Vec::new()),
            };
            out.push(Field {
                name: name.clone(),
                path,
                auth,
                filter_auth,
                relation,
                shape,
                children,
            });
        }
        out
    }

    /// Parses an `auth`-like value: absent/null, a string, a `$ref` object, or a list of those.
    fn auth(&mut self, ctx: &Ctx<'_>, v: Option<&Value>, p: &JPath) -> AuthSet {
        let mut ids: Vec<ScopeId> = Vec::new();
        match v {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    if let Some(id) = self.scope_item(ctx, item, &p.idx(i)) {
                        ids.push(id);
                    }
                }
            }
            Some(item) => {
                if let Some(id) = self.scope_item(ctx, item, p) {
                    ids.push(id);
                }
            }
        }
        ids.sort_unstable();
        ids.dedup();
        AuthSet(ids)
    }

    fn scope_item(&mut self, ctx: &Ctx<'_>, v: &Value, p: &JPath) -> Option<ScopeId> {
        match v {
            Value::String(s) if !s.trim().is_empty() && s.trim() == s => Some(self.model.intern(s)),
            Value::Object(o) => match o.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    let key = ref_key(r);
                    let resolved = self.scope_refs.get(&key).cloned().or_else(|| {
                        // A flat scopes folder: match on the last path segment when unique.
                        let last = key.rsplit('/').next().unwrap_or(&key);
                        let mut hits = self
                            .scope_refs
                            .iter()
                            .filter(|(k, _)| k.rsplit('/').next() == Some(last))
                            .map(|(_, v)| v.clone());
                        match (hits.next(), hits.next()) {
                            (Some(one), None) => Some(one),
                            _ => None,
                        }
                    });
                    match resolved {
                        Some(id) => Some(self.model.intern(&id)),
                        None => {
                            self.diag(
                                ctx.file,
                                &p.key("$ref"),
                                format!(
                                    "scope reference {r:?} does not match any loaded scope file"
                                ),
                            );
                            None
                        }
                    }
                }
                None => {
                    self.diag(ctx.file, p, "a scope object needs a \"$ref\" string");
                    None
                }
            },
            _ => {
                self.diag(
                    ctx.file,
                    p,
                    "a scope must be a non-empty string or a {\"$ref\": ...}",
                );
                None
            }
        }
    }

    /// Normalises relation targets to `dataset.table`; unresolvable ones become warnings and the
    /// relation is never expanded or linked.
    fn resolve_relations(&mut self) {
        let index = self.model.table_index.clone();
        let mut warnings = Vec::new();
        for ds in &mut self.model.datasets {
            let ds_id = ds.id.clone();
            for t in &mut ds.tables {
                let file = t.file.clone();
                let mut stack: Vec<&mut Field> = t.fields.iter_mut().collect();
                while let Some(f) = stack.pop() {
                    if let Some(r) = &f.relation {
                        let q = match r.split_once(':') {
                            Some((d, t)) => format!("{d}.{t}"),
                            None => format!("{ds_id}.{r}"),
                        };
                        if index.contains_key(&q) {
                            f.relation = Some(q);
                        } else {
                            warnings.push(Diagnostic {
                                file: file.clone(),
                                path: format!("field {}", f.path),
                                message: format!(
                                    "relation target {r:?} is not loaded; the relation is never expanded or linked"
                                ),
                            });
                            f.relation = Some(format!("!{q}"));
                        }
                    }
                    stack.extend(f.children.iter_mut());
                }
            }
        }
        self.model.warnings.extend(warnings);
    }

    fn load_profiles(&mut self, sources: &Sources) {
        for (path, bytes) in &sources.files {
            let Some(v) = self.parse(path, bytes) else {
                continue;
            };
            self.profile(path, &v);
        }
    }

    fn profile(&mut self, file: &Path, v: &Value) {
        let root = JPath::root();
        let ctx = Ctx { file };
        let Some(obj) = v.as_object() else {
            self.diag(file, &root, "a profile must be a JSON object");
            return;
        };
        if let Some(t) = obj.get("type")
            && t.as_str() != Some("profile")
        {
            self.diag(file, &root.key("type"), "expected \"type\": \"profile\"");
            return;
        }
        let id = match obj.get("id").or_else(|| obj.get("name")) {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            Some(_) => {
                self.diag(
                    file,
                    &root.key("id"),
                    "profile id must be a non-empty string",
                );
                return;
            }
            None => file
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        };
        if let Some(prev) = self.model.profiles.iter().find(|p| p.id == id) {
            let prev = prev.file.display().to_string();
            self.diag(
                file,
                &root.key("id"),
                format!("duplicate profile id {id:?} (also in {prev})"),
            );
            return;
        }
        let scopes = match obj.get("scopes") {
            None | Some(Value::Null) => Vec::new(),
            Some(v @ Value::Array(_)) => self.auth(&ctx, Some(v), &root.key("scopes")).0,
            Some(_) => {
                self.diag(
                    file,
                    &root.key("scopes"),
                    "\"scopes\" must be a list of scopes",
                );
                Vec::new()
            }
        };
        // An OPENBAAR entry is always satisfied; keep only the real requirements.
        let scopes = scopes
            .into_iter()
            .filter(|s| *s != crate::model::OPENBAAR)
            .collect();
        let dp = root.key("datasets");
        let mut datasets = Vec::new();
        match obj.get("datasets") {
            None => {}
            Some(Value::Object(dsmap)) => {
                for (ds_id, dsv) in dsmap {
                    if let Some(d) = self.profile_dataset(&ctx, ds_id, dsv, &dp.key(ds_id)) {
                        datasets.push(d);
                    }
                }
            }
            Some(_) => self.diag(file, &dp, "\"datasets\" must be an object"),
        }
        self.model.profiles.push(Profile {
            id,
            scopes,
            datasets,
            file: file.to_owned(),
        });
    }

    fn permission(&mut self, ctx: &Ctx<'_>, v: Option<&Value>, p: &JPath) -> Option<Level> {
        match v {
            None | Some(Value::Null) => None,
            Some(Value::String(s)) => match Level::parse(s) {
                Ok(l) => Some(l),
                Err(e) => {
                    self.diag(ctx.file, p, e);
                    None
                }
            },
            Some(_) => {
                self.diag(
                    ctx.file,
                    p,
                    "a permission must be a string such as \"read\"",
                );
                None
            }
        }
    }

    fn profile_dataset(
        &mut self,
        ctx: &Ctx<'_>,
        ds_id: &str,
        v: &Value,
        p: &JPath,
    ) -> Option<ProfileDataset> {
        let Some(di) = self.model.datasets.iter().position(|d| d.id == ds_id) else {
            self.diag(ctx.file, p, format!("unknown dataset {ds_id:?}"));
            return None;
        };
        let Some(obj) = v.as_object() else {
            self.diag(ctx.file, p, "a profile dataset entry must be an object");
            return None;
        };
        let permissions = self.permission(ctx, obj.get("permissions"), &p.key("permissions"));
        let tp = p.key("tables");
        let mut tables = Vec::new();
        match obj.get("tables") {
            None => {}
            Some(Value::Object(tmap)) => {
                for (t_id, tv) in tmap {
                    if let Some(t) = self.profile_table(ctx, di, t_id, tv, &tp.key(t_id)) {
                        tables.push(t);
                    }
                }
            }
            Some(_) => self.diag(ctx.file, &tp, "\"tables\" must be an object"),
        }
        Some(ProfileDataset {
            dataset: di,
            permissions,
            tables,
        })
    }

    fn profile_table(
        &mut self,
        ctx: &Ctx<'_>,
        di: usize,
        t_id: &str,
        v: &Value,
        p: &JPath,
    ) -> Option<ProfileTable> {
        let ds = self.model.datasets.get(di)?;
        let Some(ti) = ds.tables.iter().position(|t| t.id == t_id) else {
            let msg = format!("unknown table {:?} in dataset {:?}", t_id, ds.id);
            self.diag(ctx.file, p, msg);
            return None;
        };
        let table = ds.tables.get(ti)?.clone();
        if !table.available {
            let msg = format!(
                "table {} is listed by its dataset but its file was not loaded",
                table.qualified
            );
            self.diag(ctx.file, p, msg);
            return None;
        }
        let Some(obj) = v.as_object() else {
            self.diag(ctx.file, p, "a profile table entry must be an object");
            return None;
        };
        let permissions = self.permission(ctx, obj.get("permissions"), &p.key("permissions"));
        let fp = p.key("fields");
        let mut fields = Vec::new();
        match obj.get("fields") {
            None => {}
            Some(Value::Object(fmap)) => {
                for (fname, lv) in fmap {
                    let lp = fp.key(fname);
                    if table.field(fname).is_none() {
                        self.diag(
                            ctx.file,
                            &lp,
                            format!("unknown field {fname:?} in table {}", table.qualified),
                        );
                        continue;
                    }
                    if let Some(l) = self.permission(ctx, Some(lv), &lp) {
                        fields.push((fname.clone(), l));
                    }
                }
            }
            Some(_) => self.diag(ctx.file, &fp, "\"fields\" must be an object"),
        }
        if obj.get("permissions").is_none() && obj.get("fields").is_none() {
            self.diag(
                ctx.file,
                p,
                "a profile table needs \"permissions\" or \"fields\"",
            );
            return None;
        }
        let mp = p.key("mandatoryFilterSets");
        let mut sets: Vec<Vec<String>> = Vec::new();
        match obj.get("mandatoryFilterSets") {
            None | Some(Value::Null) => {}
            Some(Value::Array(list)) => {
                for (i, set) in list.iter().enumerate() {
                    let sp = mp.idx(i);
                    let Some(names) = set.as_array().filter(|a| !a.is_empty()) else {
                        self.diag(
                            ctx.file,
                            &sp,
                            "a filter set must be a non-empty list of names",
                        );
                        continue;
                    };
                    let mut out = Vec::new();
                    for (j, n) in names.iter().enumerate() {
                        let Some(n) = n.as_str().filter(|s| !s.is_empty()) else {
                            self.diag(
                                ctx.file,
                                &sp.idx(j),
                                "a filter name must be a non-empty string",
                            );
                            continue;
                        };
                        match crate::params::split_filter_name(n) {
                            Some((base, _)) if resolves(&self.model, &table, base) => {
                                out.push(n.to_owned())
                            }
                            _ => self.diag(
                                ctx.file,
                                &sp.idx(j),
                                format!(
                                    "filter {n:?} does not name a field of {}",
                                    table.qualified
                                ),
                            ),
                        }
                    }
                    sets.push(out);
                }
            }
            Some(_) => self.diag(
                ctx.file,
                &mp,
                "\"mandatoryFilterSets\" must be a list of lists",
            ),
        }
        let exact_filters = self.exact_filters(ctx, &table, obj.get("exactFilters"), p);
        Some(ProfileTable {
            table: ti,
            permissions,
            fields,
            mandatory_filter_sets: sets,
            exact_filters,
        })
    }

    /// The sluis extension `exactFilters`: a list of leaf field paths of the table itself. A path
    /// through a relation or naming a container is refused, because the allowance is meant for
    /// one value the caller already holds (a BSN, a postcode), not for probing structures.
    fn exact_filters(
        &mut self,
        ctx: &Ctx<'_>,
        table: &Table,
        v: Option<&Value>,
        p: &JPath,
    ) -> Vec<String> {
        let ep = p.key("exactFilters");
        let mut out = Vec::new();
        match v {
            None | Some(Value::Null) => {}
            Some(Value::Array(list)) => {
                for (i, n) in list.iter().enumerate() {
                    let np = ep.idx(i);
                    let Some(n) = n.as_str() else {
                        self.diag(ctx.file, &np, "an exact filter must be a field path string");
                        continue;
                    };
                    match table.field(n) {
                        None => self.diag(
                            ctx.file,
                            &np,
                            format!("unknown field {n:?} in table {}", table.qualified),
                        ),
                        Some(f) if !f.children.is_empty() => self.diag(
                            ctx.file,
                            &np,
                            format!("exact filter {n:?} names an object, not a value"),
                        ),
                        Some(_) if out.iter().any(|o| o == n) => {
                            self.diag(ctx.file, &np, format!("duplicate exact filter {n:?}"))
                        }
                        Some(_) => out.push(n.to_owned()),
                    }
                }
            }
            Some(_) => self.diag(
                ctx.file,
                &ep,
                "\"exactFilters\" must be a list of field paths",
            ),
        }
        out
    }
}

/// True when a dotted filter path names a field, following relations into their target table.
fn resolves(model: &Model, table: &Table, path: &str) -> bool {
    crate::params::resolve_path(model, table, path).is_some()
}

fn type_of(v: &Value) -> Option<&str> {
    v.get("type").and_then(Value::as_str)
}

fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The key of a scope file: its path below the nearest `scopes` folder, without `.json`.
fn scope_key(path: &Path) -> String {
    let parts: Vec<String> = path
        .with_extension("")
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    match parts.iter().rposition(|p| p == "scopes") {
        Some(i) => parts.get(i + 1..).unwrap_or_default().join("/"),
        None => parts.last().cloned().unwrap_or_default(),
    }
}

/// The key a `$ref` to a scope file names: the part after the last `scopes/`, without `.json`.
fn ref_key(r: &str) -> String {
    let r = r.split('#').next().unwrap_or(r);
    let r = r.strip_suffix(".json").unwrap_or(r);
    match r.rfind("scopes/") {
        Some(i) => r.get(i + "scopes/".len()..).unwrap_or("").to_owned(),
        None => r.trim_start_matches('/').to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_keys() {
        assert_eq!(
            scope_key(Path::new("/x/scopes/BRK/brk_rsn.json")),
            "BRK/brk_rsn"
        );
        assert_eq!(ref_key("/scopes/BRK/brk_rsn"), "BRK/brk_rsn");
        assert_eq!(
            ref_key("https://schemas.example/scopes/BRK/brk_rsn.json"),
            "BRK/brk_rsn"
        );
    }
}
