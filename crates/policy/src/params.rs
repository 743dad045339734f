//! Query parameters of a dataset request: which are filters, how their names split into a field
//! path and an operator, and how a dotted path resolves across nested fields and relations.

use crate::model::{Field, Model, Table};

/// Query parameters that steer the response rather than filter rows.
const RESERVED: &[&str] = &["page", "page_size", "pageSize", "format"];

/// True for parameters that are not filters (`_fields`, `_sort`, `_expand`, `page`, ...).
pub fn is_reserved(name: &str) -> bool {
    name.starts_with('_') || RESERVED.contains(&name)
}

/// Splits `regimes.aantal[gte]` into (`regimes.aantal`, `Some("gte")`). `None` for malformed
/// names such as `a[`, `[x]` or `a[x]y`.
pub fn split_filter_name(name: &str) -> Option<(&str, Option<&str>)> {
    match name.find('[') {
        None => (!name.is_empty() && !name.contains(']')).then_some((name, None)),
        Some(i) => {
            let base = name.get(..i)?;
            let rest = name.get(i + 1..)?;
            let op = rest.strip_suffix(']')?;
            let ok = !base.is_empty()
                && !op.is_empty()
                && op.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            ok.then_some((base, Some(op)))
        }
    }
}

/// One hop of a resolved path: the table it is in and the field.
pub type Hop<'m> = (&'m Table, &'m Field);

/// Resolves a dotted path to one field per part, following a relation into its target table when
/// the path continues past it. `None` when a part is unknown.
pub fn resolve_path<'m>(model: &'m Model, table: &'m Table, path: &str) -> Option<Vec<Hop<'m>>> {
    let mut hops = Vec::new();
    let mut current_table = table;
    let mut fields: &'m [Field] = &table.fields;
    let mut parts = path.split('.').peekable();
    while let Some(part) = parts.next() {
        let f = fields.iter().find(|f| f.name == part)?;
        hops.push((current_table, f));
        if parts.peek().is_none() {
            break;
        }
        if !f.children.is_empty() {
            fields = &f.children;
        } else if let Some(target) = f.relation.as_deref().filter(|r| !r.starts_with('!')) {
            let (_, t) = model.table(model.table_index(target)?)?;
            current_table = t;
            fields = &t.fields;
        } else {
            return None;
        }
    }
    Some(hops)
}

/// Splits a `_sort` value (`-a,b`) into field paths.
pub fn sort_fields(value: &str) -> impl Iterator<Item = &str> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| s.trim_start_matches('-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_names() {
        assert_eq!(split_filter_name("buurtcode"), Some(("buurtcode", None)));
        assert_eq!(
            split_filter_name("regimes.aantal[gte]"),
            Some(("regimes.aantal", Some("gte")))
        );
        for bad in ["", "a[", "[x]", "a[x]y", "a]", "a[]"] {
            assert_eq!(split_filter_name(bad), None, "{bad}");
        }
    }

    #[test]
    fn sorts() {
        assert_eq!(sort_fields("-a, b,,").collect::<Vec<_>>(), vec!["a", "b"]);
    }
}
