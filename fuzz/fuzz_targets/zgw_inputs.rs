//! Arbitrary text through every ZGW parser sluis exposes to callers and operators: scope
//! expressions (what is printed parses back to an equivalent expression), routing of a method
//! and path (an operation or a clean refusal; ids are UUIDs), applicaties JSON (parsed and
//! compiled, or refused with problems), query rewriting (only mapped values change), and the
//! rules file. None may panic.

#![no_main]

use libfuzzer_sys::fuzz_target;
use sluis_zgw::rules::Rules;
use sluis_zgw::{Component, ScopeExpr, UrlMap, compile, parse_applicaties, route};

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let Ok(text) = std::str::from_utf8(rest) else {
        return;
    };
    match mode % 5 {
        0 => {
            if let Ok(e) = ScopeExpr::parse(text) {
                let printed = e.to_string();
                let again = ScopeExpr::parse(&printed)
                    .unwrap_or_else(|err| panic!("{printed:?} does not parse back: {err}"));
                assert!(e.equivalent(&again), "{text:?} → {printed:?}");
            }
        }
        1 => {
            let (method, path) = text.split_once(' ').unwrap_or(("GET", text));
            for c in Component::ALL {
                if let Ok(op) = route(c, method, path) {
                    for id in [&op.id, &op.parent].into_iter().flatten() {
                        assert!(sluis_zgw::ops::is_uuid(id), "{id:?}");
                        assert_eq!(id, &id.to_lowercase());
                    }
                }
            }
        }
        2 => {
            if let Ok(apps) = parse_applicaties(text.as_bytes()) {
                let urls = UrlMap::new(vec![(
                    "https://sluis.example/catalogi/api/v1".into(),
                    "http://ztc:8000/catalogi/api/v1".into(),
                )])
                .unwrap_or_else(|e| panic!("{e}"));
                let _ = compile(&apps, &urls);
            }
        }
        3 => {
            let urls = UrlMap::new(vec![(
                "https://sluis.example/zaken/api/v1".into(),
                "http://zrc:8000/zaken/api/v1".into(),
            )])
            .unwrap_or_else(|e| panic!("{e}"));
            let out = urls.rewrite_query_in(text);
            if !text.contains("sluis.example") && !text.contains('%') {
                assert_eq!(out, text, "a query without public URLs is kept");
            }
        }
        _ => {
            let _ = Rules::from_toml(text);
        }
    }
});
