//! Property tests: URL mapping round-trips and leaves non-URLs alone; scope expressions
//! print as text that parses back to an equivalent expression; routing never panics and
//! only returns normalized ids.
#![allow(
    clippy::unwrap_used,
    clippy::indexing_slicing,
    reason = "test helpers on generated data"
)]

use proptest::prelude::*;
use serde_json::{Value, json};
use sluis_zgw::{Component, ScopeExpr, UrlMap, route};

fn map() -> UrlMap {
    UrlMap::new(vec![
        (
            "https://sluis.example/zaken/api/v1".into(),
            "http://zrc:8000/zaken/api/v1".into(),
        ),
        (
            "https://sluis.example/documenten/api/v1".into(),
            "http://drc/api/v1".into(),
        ),
        (
            "https://sluis.example/catalogi/api/v1".into(),
            "http://ztc/catalogi/api/v1".into(),
        ),
        // Nested the same way on both sides.
        (
            "https://sluis.example/catalogi/api/v1/extern".into(),
            "http://ztc/catalogi/api/v1/extern".into(),
        ),
        // A whole host. (`https://sluis.example` itself could not be a base here: the bases
        // above lie under it publicly but not upstream, which UrlMap::new rejects.)
        ("https://other.example".into(), "http://root".into()),
    ])
    .unwrap()
}

const PUBLIC: [&str; 5] = [
    "https://sluis.example/zaken/api/v1",
    "https://sluis.example/documenten/api/v1",
    "https://sluis.example/catalogi/api/v1",
    "https://sluis.example/catalogi/api/v1/extern",
    "https://other.example",
];
const UPSTREAM: [&str; 5] = [
    "http://zrc:8000/zaken/api/v1",
    "http://drc/api/v1",
    "http://ztc/catalogi/api/v1",
    "http://ztc/catalogi/api/v1/extern",
    "http://root",
];

/// A path, query and fragment tail: `(/seg)*` (maybe a trailing `/`), `?k=v`, `#f`.
fn tail() -> impl Strategy<Value = String> {
    (
        prop::collection::vec("[A-Za-z0-9._~-]{1,8}", 0..4),
        any::<bool>(),
        prop::option::of("[a-z]{1,4}=[A-Za-z0-9%/:]{0,8}"),
        prop::option::of("[a-z]{1,4}"),
    )
        .prop_map(|(segs, slash, query, frag)| {
            let mut s: String = segs.iter().map(|x| format!("/{x}")).collect();
            if slash {
                s.push('/');
            }
            if let Some(q) = query {
                s.push('?');
                s.push_str(&q);
            }
            if let Some(f) = frag {
                s.push('#');
                s.push_str(&f);
            }
            s
        })
}

/// `base` with its scheme and host in a random case and maybe the default port spelled out.
fn spelled(base: &str, upper: u8, port: bool) -> String {
    let (scheme, rest) = base.split_once("://").unwrap();
    let cut = rest.find('/').unwrap_or(rest.len());
    let (host, path) = rest.split_at(cut);
    let flip = |s: &str, on: bool| if on { s.to_uppercase() } else { s.to_owned() };
    let default = if scheme == "https" { ":443" } else { ":80" };
    let port = if port && !host.contains(':') {
        default
    } else {
        ""
    };
    format!(
        "{}://{}{port}{path}",
        flip(scheme, upper & 1 != 0),
        flip(host, upper & 2 != 0)
    )
}

/// JSON built from upstream URLs, plain strings, numbers, nested arrays and objects.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        (0..UPSTREAM.len(), tail()).prop_map(|(i, t)| Value::String(format!("{}{t}", UPSTREAM[i]))),
        "[a-z :/.]{0,20}".prop_map(Value::String),
        any::<i64>().prop_map(|n| json!(n)),
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
    ];
    leaf.prop_recursive(4, 64, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map("[a-z]{1,6}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn scope_expr() -> impl Strategy<Value = ScopeExpr> {
    let leaf = prop_oneof![
        Just("a"),
        Just("b"),
        Just("zaken.lezen"),
        Just("zaken.geforceerd-bijwerken"),
        Just("x:y/z_1")
    ]
    .prop_map(ScopeExpr::scope);
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(ScopeExpr::Any),
            prop::collection::vec(inner, 0..4).prop_map(ScopeExpr::All),
        ]
    })
}

proptest! {
    #[test]
    fn to_public_undoes_to_upstream(i in 0..PUBLIC.len(), t in tail(), upper in 0u8..4, port in any::<bool>()) {
        let m = map();
        let url = format!("{}{t}", spelled(PUBLIC[i], upper, port));
        let up = m.to_upstream(&url);
        prop_assert!(up.is_some(), "{url}");
        let up = up.unwrap();
        prop_assert!(UPSTREAM.iter().any(|b| up.starts_with(b)), "{url} -> {up}");
        prop_assert_eq!(m.to_public(&up), Some(UrlMap::normalize(&url)));
        prop_assert_eq!(m.upstream_form(&url), up.clone());
        prop_assert_eq!(m.upstream_form(&up), up);
    }

    #[test]
    fn normalize_is_idempotent(i in 0..PUBLIC.len(), t in tail(), upper in 0u8..4, port in any::<bool>()) {
        let url = format!("{}{t}", spelled(PUBLIC[i], upper, port));
        let once = UrlMap::normalize(&url);
        prop_assert_eq!(UrlMap::normalize(&once), once);
    }

    #[test]
    fn rewrite_out_then_in_restores_the_json(v in json_value()) {
        let m = map();
        let mut w = v.clone();
        let out = m.rewrite_out(&mut w);
        let back = m.rewrite_in(&mut w);
        prop_assert_eq!(out, back);
        prop_assert_eq!(w, v);
    }

    #[test]
    fn non_url_strings_are_never_changed(s in "[^:]{0,40}", pre in "[a-z ]{1,5}", i in 0..PUBLIC.len()) {
        let m = map();
        // No "://" at all.
        let mut v = json!([s.clone(), {"k": s.clone()}]);
        let before = v.clone();
        prop_assert_eq!(m.rewrite_out(&mut v), 0);
        prop_assert_eq!(m.rewrite_in(&mut v), 0);
        prop_assert_eq!(&v, &before);
        prop_assert_eq!(m.to_upstream(&s), None);
        // A base in the middle of a string.
        let mid = format!("{pre}{}{s}", PUBLIC[i]);
        let mut v = json!(mid.clone());
        prop_assert_eq!(m.rewrite_in(&mut v), 0);
        prop_assert_eq!(v, json!(mid));
        // Query values that are not URLs are kept byte for byte.
        let q = format!("a={}&b", s.replace(['&', '=', '%', '+', ',', '#'], ""));
        prop_assert_eq!(m.rewrite_query_in(&q), q);
    }

    #[test]
    fn query_values_are_mapped_like_urls(i in 0..PUBLIC.len(), segs in prop::collection::vec("[A-Za-z0-9._~-]{1,8}", 0..4)) {
        let m = map();
        let path: String = segs.iter().map(|x| format!("/{x}")).collect();
        let public = format!("{}{path}", PUBLIC[i]);
        let encoded: String = public.bytes().map(|b| format!("%{b:02X}")).collect();
        let q = format!("x=1&zaak={encoded}&y=2");
        prop_assert_eq!(m.rewrite_query_in(&q), format!("x=1&zaak={}&y=2", m.to_upstream(&public).unwrap()));
    }

    #[test]
    fn scope_display_parses_back_equivalent(e in scope_expr()) {
        let text = e.to_string();
        let parsed = ScopeExpr::parse(&text);
        prop_assert!(parsed.is_ok(), "{text:?}: {parsed:?}");
        let parsed = parsed.unwrap();
        prop_assert!(e.equivalent(&parsed), "{text:?}");
        prop_assert_eq!(parsed.to_string(), ScopeExpr::parse(&parsed.to_string()).unwrap().to_string());
    }

    #[test]
    fn route_never_panics_and_ids_are_lowercase_uuids(
        c in 0usize..4,
        m in "(GET|HEAD|POST|PUT|PATCH|DELETE|[A-Za-z]{1,7})",
        path in prop_oneof![
            "(/[a-z_{}-]{0,12}){0,4}/?",
            "/(zaken|rollen|enkelvoudiginformatieobjecten|zaaktypen|besluiten)(/[0-9a-fA-F-]{36})?(/(audittrail|download|lock))?/?",
            ".{0,40}",
        ],
    ) {
        if let Ok(op) = route(Component::ALL[c], &m, &path) {
            for id in [op.id.as_deref(), op.parent.as_deref()].into_iter().flatten() {
                prop_assert!(sluis_zgw::ops::is_uuid(id));
                prop_assert_eq!(id.to_ascii_lowercase(), id);
            }
        }
    }
}
