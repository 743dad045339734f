//! Change impact: what a new policy (register included) gives and takes, per application,
//! activity and scope, as the difference of two rights matrices.

use std::collections::BTreeMap;

use serde::Serialize;

use crate::matrix::Cell;

/// One field whose best representation changed for one application and activity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, PartialOrd, Ord)]
pub struct Change {
    pub application: String,
    pub activity: String,
    pub api: String,
    pub table: String,
    pub field: String,
    /// `absent` when the field was not visible before.
    pub before: String,
    /// `absent` when the field is no longer visible.
    pub after: String,
    /// The scopes that reach the new level (or reached the old one, for a loss).
    pub scopes: Vec<String>,
}

impl Change {
    /// Gained: absent before, or a higher representation now.
    pub fn is_gain(&self) -> bool {
        rank(&self.after) > rank(&self.before)
    }
}

fn rank(level: &str) -> (u8, u32) {
    match level {
        "read" => (5, 0),
        "encoded" => (4, 0),
        "random" => (3, 0),
        l => match l.strip_prefix("letters:").and_then(|n| n.parse().ok()) {
            Some(n) => (2, n),
            None => (0, 0),
        },
    }
}

/// The difference of two matrices.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Diff {
    pub gained: Vec<Change>,
    pub lost: Vec<Change>,
    /// Operations (api and table or query type) an application and activity can now reach at
    /// all, and those it no longer can: `application/activity api.table`.
    pub operations_gained: Vec<String>,
    pub operations_lost: Vec<String>,
}

type Key = (String, String, String, String, String);

fn key(c: &Cell) -> Key {
    (
        c.application.clone(),
        c.activity.clone(),
        c.api.clone(),
        c.table.clone(),
        c.field.clone(),
    )
}

/// Compares the matrix before with the matrix after.
pub fn diff(before: &[Cell], after: &[Cell]) -> Diff {
    let visible = |cells: &[Cell]| -> BTreeMap<Key, Cell> {
        cells
            .iter()
            .filter(|c| c.level != "absent")
            .map(|c| (key(c), c.clone()))
            .collect()
    };
    let old = visible(before);
    let new = visible(after);
    let mut out = Diff::default();
    let change = |k: &Key, before: &str, after: &str, scopes: &[String]| Change {
        application: k.0.clone(),
        activity: k.1.clone(),
        api: k.2.clone(),
        table: k.3.clone(),
        field: k.4.clone(),
        before: before.to_owned(),
        after: after.to_owned(),
        scopes: scopes.to_vec(),
    };
    for (k, n) in &new {
        match old.get(k) {
            None => out.gained.push(change(k, "absent", &n.level, &n.scopes)),
            Some(o) if o.level != n.level => {
                let c = change(k, &o.level, &n.level, &n.scopes);
                if c.is_gain() {
                    out.gained.push(c);
                } else {
                    out.lost.push(c);
                }
            }
            Some(_) => {}
        }
    }
    for (k, o) in &old {
        if !new.contains_key(k) {
            out.lost.push(change(k, &o.level, "absent", &o.scopes));
        }
    }
    let ops = |m: &BTreeMap<Key, Cell>| -> std::collections::BTreeSet<String> {
        m.keys()
            .map(|k| format!("{}/{} {}.{}", k.0, k.1, k.2, k.3))
            .collect()
    };
    let (oo, no) = (ops(&old), ops(&new));
    out.operations_gained = no.difference(&oo).cloned().collect();
    out.operations_lost = oo.difference(&no).cloned().collect();
    out.gained.sort();
    out.lost.sort();
    out
}

impl Diff {
    /// Whether nothing changed.
    pub fn is_empty(&self) -> bool {
        self.gained.is_empty() && self.lost.is_empty()
    }

    /// A summary in one line, for the log: counts per application and activity.
    pub fn summary(&self) -> String {
        if self.is_empty() {
            return "no change in who can see what".into();
        }
        let mut per: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for c in &self.gained {
            per.entry(format!("{}/{}", c.application, c.activity))
                .or_default()
                .0 += 1;
        }
        for c in &self.lost {
            per.entry(format!("{}/{}", c.application, c.activity))
                .or_default()
                .1 += 1;
        }
        let parts: Vec<String> = per
            .iter()
            .map(|(k, (g, l))| format!("{k}: +{g} -{l} fields"))
            .collect();
        parts.join("; ")
    }

    /// The change as text: one line per field.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        if self.is_empty() {
            out.push_str("No change in who can see what.\n");
            return out;
        }
        for (title, list) in [("Gained", &self.gained), ("Lost", &self.lost)] {
            if list.is_empty() {
                continue;
            }
            out.push_str(&format!("{title} ({}):\n", list.len()));
            for c in list {
                out.push_str(&format!(
                    "  {}/{}  {}.{}.{}  {} -> {}  [{}]\n",
                    c.application,
                    c.activity,
                    c.api,
                    c.table,
                    c.field,
                    c.before,
                    c.after,
                    c.scopes.join(" ")
                ));
            }
        }
        for (title, list) in [
            ("Operations gained", &self.operations_gained),
            ("Operations lost", &self.operations_lost),
        ] {
            if !list.is_empty() {
                out.push_str(&format!("{title}:\n"));
                for o in list {
                    out.push_str(&format!("  {o}\n"));
                }
            }
        }
        out
    }
}
