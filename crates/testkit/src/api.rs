//! The dataset API itself, independent of the socket: routing, paging, HAL rendering.
//!
//! URLs look like DSO-API's: `/v1/{dataset}/{table}` (list) and `/v1/{dataset}/{table}/{id}`
//! (detail), trailing slash optional. Absolute links are built from the request's `Host`, so a
//! proxy in front sees its upstream's host in them and can rewrite them.

use serde_json::{Map, Value, json};

use crate::data::{FixtureData, IdKind, Table, id_key};
use crate::problem::Problem;
use crate::query::{Pair, Params, percent_decode, sort};

/// Media type of successful responses (what DSO-API's HAL renderer sends).
pub(crate) const HAL_JSON: &str = "application/hal+json";
/// Media type of error responses.
pub(crate) const PROBLEM_JSON: &str = "application/problem+json";

/// A complete response, minus transport details.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) content_type: &'static str,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    pub(crate) fn json(status: u16, content_type: &'static str, value: &Value) -> Self {
        match serde_json::to_vec(value) {
            Ok(body) => Self {
                status,
                content_type,
                body,
            },
            Err(_) => Self {
                status: 500,
                content_type: PROBLEM_JSON,
                body: br#"{"type":"urn:apiexception:error","title":"Internal server error.","status":500}"#
                    .to_vec(),
            },
        }
    }

    pub(crate) fn problem(problem: &Problem, instance: &str) -> Self {
        Self::json(problem.status, PROBLEM_JSON, &problem.to_json(instance))
    }
}

/// Answers one GET: `path` is the request path, `query` the raw query string, `host` the
/// authority to put in absolute links.
pub(crate) fn handle(data: &FixtureData, path: &str, query: Option<&str>, host: &str) -> Reply {
    let base = format!("http://{host}");
    let result = route(data, path, query, &base);
    match result {
        Ok(value) => Reply::json(200, HAL_JSON, &value),
        Err(problem) => Reply::problem(&problem, path),
    }
}

fn route(
    data: &FixtureData,
    path: &str,
    query: Option<&str>,
    base: &str,
) -> Result<Value, Problem> {
    let rest = path
        .strip_prefix("/v1/")
        .ok_or_else(|| Problem::not_found("No dataset API at this path."))?;
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    let segments: Vec<&str> = rest.split('/').collect();
    let (dataset, table, id) = match segments.as_slice() {
        [d, t] => (*d, *t, None),
        [d, t, id] => (*d, *t, Some(*id)),
        _ => return Err(Problem::not_found("No dataset API at this path.")),
    };
    let table = data.table(dataset, table).ok_or_else(|| {
        Problem::not_found(&format!(
            "Table '{table}' of dataset '{dataset}' does not exist."
        ))
    })?;
    match id {
        None => list(data, table, path, query, base),
        Some(id) => detail(data, table, id, query, base),
    }
}

fn list(
    data: &FixtureData,
    table: &Table,
    path: &str,
    query: Option<&str>,
    base: &str,
) -> Result<Value, Problem> {
    let params = Params::parse(table, query, true)?;
    let records = table.records();
    let mut rows: Vec<usize> = records
        .iter()
        .enumerate()
        .filter(|(_, r)| params.filters.iter().all(|f| f.matches(r)))
        .map(|(i, _)| i)
        .collect();
    sort(records, &mut rows, &params.sort);

    let total = rows.len();
    let size = params.page_size;
    let total_pages = total.div_ceil(size).max(1);
    if params.page > total_pages {
        return Err(Problem::not_found("Invalid page."));
    }
    let page_rows: Vec<&Map<String, Value>> = rows
        .iter()
        .skip((params.page - 1) * size)
        .take(size)
        .filter_map(|&i| records.get(i))
        .collect();

    let mut embedded = Map::new();
    let items: Vec<Value> = page_rows
        .iter()
        .map(|r| Value::Object(render_record(table, r, base, &params)))
        .collect();
    embedded.insert(table.name().to_owned(), Value::Array(items));
    for name in &params.expand {
        let Some(relation) = table.relations().iter().find(|r| r.name == *name) else {
            continue;
        };
        let Some(target) = data.table(table.dataset(), relation.target_table) else {
            continue;
        };
        let mut seen: Vec<String> = Vec::new();
        for r in &page_rows {
            if let Some(key) = r.get(relation.key_field).and_then(id_key)
                && !seen.contains(&key)
            {
                seen.push(key);
            }
        }
        let related: Vec<Value> = seen
            .iter()
            .filter_map(|k| target.get(k))
            .map(|r| Value::Object(render_plain(target, r, base)))
            .collect();
        embedded.insert(relation.name.to_owned(), Value::Array(related));
    }

    let self_href = match query {
        Some(q) if !q.is_empty() => format!("{base}{path}?{q}"),
        _ => format!("{base}{path}"),
    };
    let mut links = Map::new();
    links.insert("self".to_owned(), json!({ "href": self_href }));
    if params.page < total_pages {
        let href = format!(
            "{base}{}",
            with_page(path, &params.pairs, Some(params.page + 1))
        );
        links.insert("next".to_owned(), json!({ "href": href }));
    }
    if params.page > 1 {
        // DRF drops `page` for the first page rather than writing `page=1`.
        let prev = Some(params.page - 1).filter(|&p| p > 1);
        let href = format!("{base}{}", with_page(path, &params.pairs, prev));
        links.insert("previous".to_owned(), json!({ "href": href }));
    }

    Ok(json!({
        "_links": links,
        "_embedded": embedded,
        "page": {
            "number": params.page,
            "size": size,
            "totalElements": total,
            "totalPages": total_pages,
        }
    }))
}

fn detail(
    data: &FixtureData,
    table: &Table,
    raw_id: &str,
    query: Option<&str>,
    base: &str,
) -> Result<Value, Problem> {
    let params = Params::parse(table, query, false)?;
    let decoded = percent_decode(raw_id);
    let key = match table.id_kind() {
        IdKind::Integer => decoded.parse::<i64>().ok().map(|n| n.to_string()),
        IdKind::String => Some(decoded),
    };
    let record = key
        .as_deref()
        .and_then(|k| table.get(k))
        .ok_or_else(|| Problem::not_found(&format!("No {} with this identifier.", table.name())))?;
    let mut out = render_record(table, record, base, &params);
    if !params.expand.is_empty() {
        let mut embedded = Map::new();
        for name in &params.expand {
            let Some(relation) = table.relations().iter().find(|r| r.name == *name) else {
                continue;
            };
            let related = data
                .table(table.dataset(), relation.target_table)
                .and_then(|target| {
                    let k = record.get(relation.key_field).and_then(id_key)?;
                    target
                        .get(&k)
                        .map(|r| Value::Object(render_plain(target, r, base)))
                })
                .unwrap_or(Value::Null);
            embedded.insert(relation.name.to_owned(), related);
        }
        out.insert("_embedded".to_owned(), Value::Object(embedded));
    }
    Ok(Value::Object(out))
}

/// A record with `_links` first, then its fields (after `_fields`).
fn render_record(
    table: &Table,
    record: &Map<String, Value>,
    base: &str,
    params: &Params,
) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("_links".to_owned(), links(table, record, base));
    match &params.fields {
        Some(fields) => out.extend(fields.apply(record)),
        None => out.extend(record.iter().map(|(k, v)| (k.clone(), v.clone()))),
    }
    out
}

/// An embedded record: all fields, its own `_links`.
fn render_plain(table: &Table, record: &Map<String, Value>, base: &str) -> Map<String, Value> {
    let mut out = Map::new();
    out.insert("_links".to_owned(), links(table, record, base));
    out.extend(record.iter().map(|(k, v)| (k.clone(), v.clone())));
    out
}

fn links(table: &Table, record: &Map<String, Value>, base: &str) -> Value {
    let id = record.get("id").cloned().unwrap_or(Value::Null);
    let key = id_key(&id).unwrap_or_default();
    let mut links = Map::new();
    links.insert(
        "self".to_owned(),
        json!({
            "href": format!("{base}/v1/{}/{}/{key}", table.dataset(), table.name()),
            "title": key,
            "id": id,
        }),
    );
    links.insert("schema".to_owned(), Value::String(table.schema_url()));
    for relation in table.relations() {
        if let Some(target) = record.get(relation.key_field).and_then(id_key) {
            links.insert(
                relation.name.to_owned(),
                json!({
                    "href": format!(
                        "{base}/v1/{}/{}/{target}",
                        table.dataset(),
                        relation.target_table
                    ),
                    "title": target,
                    "id": target,
                }),
            );
        }
    }
    Value::Object(links)
}

/// `path?query` with `page` set to `page` (or removed for `None`), other parameters kept in
/// their original order and encoding.
fn with_page(path: &str, pairs: &[Pair], page: Option<usize>) -> String {
    let mut parts: Vec<String> = Vec::with_capacity(pairs.len() + 1);
    let mut placed = false;
    for pair in pairs {
        if pair.key == "page" {
            if !placed && let Some(n) = page {
                parts.push(format!("page={n}"));
            }
            placed = true;
        } else {
            parts.push(pair.raw.clone());
        }
    }
    if !placed && let Some(n) = page {
        parts.push(format!("page={n}"));
    }
    if parts.is_empty() {
        path.to_owned()
    } else {
        format!("{path}?{}", parts.join("&"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::FixtureConfig;

    fn get(path: &str, query: Option<&str>) -> (u16, Value) {
        let data = FixtureData::generate(&FixtureConfig::default()).unwrap();
        let reply = handle(&data, path, query, "upstream.test:8000");
        (reply.status, serde_json::from_slice(&reply.body).unwrap())
    }

    #[test]
    fn page_links_keep_other_parameters() {
        let (status, body) = get(
            "/v1/afvalwegingen/containers",
            Some("_pageSize=10&page=2&_sort=-id"),
        );
        assert_eq!(status, 200);
        assert_eq!(
            body["_links"]["next"]["href"],
            "http://upstream.test:8000/v1/afvalwegingen/containers?_pageSize=10&page=3&_sort=-id"
        );
        assert_eq!(
            body["_links"]["previous"]["href"],
            "http://upstream.test:8000/v1/afvalwegingen/containers?_pageSize=10&_sort=-id"
        );
        assert_eq!(body["_embedded"]["containers"][0]["id"], 190);
    }

    #[test]
    fn page_past_the_end_is_404() {
        let (status, body) = get("/v1/parkeervakken/parkeervakken", Some("page=99"));
        assert_eq!(status, 404);
        assert_eq!(body["detail"], "Invalid page.");
    }

    #[test]
    fn bad_paths_are_404() {
        for p in [
            "/",
            "/v1",
            "/v1/",
            "/v1/x",
            "/v1/brp/x",
            "/v1/brp/ingeschrevenpersonen/1/x",
        ] {
            assert_eq!(get(p, None).0, 404, "{p}");
        }
    }
}
