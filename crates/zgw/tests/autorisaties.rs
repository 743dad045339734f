//! Applicaties: parsing, validation (ac-001..003, rule 20) and the compiled grants (rules 12,
//! 15, 16, scenarios D4–D6, D14), through the public API.
#![allow(
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test helpers on fixed fixtures"
)]

use serde_json::json;
use sluis_zgw::autorisaties::{ListScope, TypeGroup, parse_applicatie_page};
use sluis_zgw::{
    Applicatie, Component, Grants, Problem, ScopeExpr, UrlMap, Vertrouwelijkheid, compile,
    parse_applicaties, validate,
};

use Vertrouwelijkheid as V;

const ZT1: &str = "http://ztc/catalogi/api/v1/zaaktypen/1";
const ZT2: &str = "http://ztc/catalogi/api/v1/zaaktypen/2";
const IOT1: &str = "http://ztc/catalogi/api/v1/informatieobjecttypen/1";
const BT1: &str = "http://ztc/catalogi/api/v1/besluittypen/1";

fn apps(v: serde_json::Value) -> Vec<Applicatie> {
    parse_applicaties(v.to_string().as_bytes()).unwrap()
}

fn grants(v: serde_json::Value) -> Grants {
    compile(&apps(v), &UrlMap::default()).unwrap()
}

fn zrc(scopes: &[&str], zaaktype: &str, max: &str) -> serde_json::Value {
    json!({"component": "zrc", "scopes": scopes, "zaaktype": zaaktype, "maxVertrouwelijkheidaanduiding": max})
}

fn app_a(autorisaties: Vec<serde_json::Value>) -> serde_json::Value {
    json!([{
        "url": "http://ac/api/v1/applicaties/5b3c1a1e-1111-4222-8333-444444444444",
        "clientIds": ["app-a", "app-a-2"],
        "label": "Applicatie A",
        "autorisaties": autorisaties,
    }])
}

fn e(s: &str) -> ScopeExpr {
    ScopeExpr::parse(s).unwrap()
}

fn problems(v: serde_json::Value) -> Vec<Problem> {
    validate(&apps(v))
}

fn has_problem(ps: &[Problem], at: &str, words: &str) -> bool {
    ps.iter().any(|p| p.at == at && p.message.contains(words))
}

// --- parsing ---------------------------------------------------------------------------------

#[test]
fn parses_array_object_and_single_page() {
    let one = json!({"clientIds": ["a"], "label": "A", "heeftAlleAutorisaties": true, "extra": 1});
    assert_eq!(apps(json!([one.clone()])).len(), 1);
    let single = apps(one.clone());
    assert_eq!(single.len(), 1);
    assert!(single[0].heeft_alle_autorisaties);
    assert!(!single[0].alleen_is_gereed_voor_publicatie);
    assert!(single[0].autorisaties.is_empty());
    let page = json!({"count": 1, "next": null, "previous": null, "results": [one]});
    assert_eq!(apps(page.clone()).len(), 1);
    let p = parse_applicatie_page(page.to_string().as_bytes()).unwrap();
    assert_eq!((p.count, p.next, p.results.len()), (Some(1), None, 1));
}

#[test]
fn unknown_fields_are_ignored() {
    let a = apps(json!({
        "clientIds": ["a"], "label": "A", "alleenIsGereedVoorPublicatie": true,
        "autorisaties": [{"component": "zrc", "componentWeergave": "Zaken API", "scopes": ["zaken.lezen"],
                          "zaaktype": ZT1, "maxVertrouwelijkheidaanduiding": "openbaar", "x": [1]}]
    }));
    assert!(a[0].alleen_is_gereed_voor_publicatie);
    assert_eq!(a[0].autorisaties[0].zaaktype.as_deref(), Some(ZT1));
}

#[test]
fn a_page_with_a_next_page_is_refused() {
    let page = json!({"count": 2, "next": "http://ac/api/v1/applicaties?page=2", "results": []});
    let err = parse_applicaties(page.to_string().as_bytes())
        .unwrap_err()
        .to_string();
    assert!(err.contains("next page"), "{err}");
    let p = parse_applicatie_page(page.to_string().as_bytes()).unwrap();
    assert_eq!(
        p.next.as_deref(),
        Some("http://ac/api/v1/applicaties?page=2")
    );
}

#[test]
fn bad_json_names_the_item() {
    let err = parse_applicaties(br#"[{"clientIds": ["a"], "label": "A"}, {"label": "B"}]"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("[1]") && err.contains("clientIds"), "{err}");
    let err = parse_applicaties(br#"{"results": [{"clientIds": "a", "label": "A"}]}"#)
        .unwrap_err()
        .to_string();
    assert!(err.contains("results[0]"), "{err}");
    assert!(parse_applicaties(b"42").is_err());
    assert!(parse_applicaties(b"{").is_err());
}

// --- validation ------------------------------------------------------------------------------

#[test]
fn ac_001_client_ids() {
    let ps = problems(json!([
        {"clientIds": ["a", "b"], "label": "A", "heeftAlleAutorisaties": true},
        {"clientIds": ["b"], "label": "B", "heeftAlleAutorisaties": true},
        {"clientIds": [], "label": "C", "heeftAlleAutorisaties": true},
        {"clientIds": ["", "x".repeat(51), "y".repeat(50)], "label": "D", "heeftAlleAutorisaties": true},
    ]));
    assert!(
        ps.iter().any(|p| p.applicatie == "B"
            && p.at == "clientIds[0]"
            && p.message.contains("\"b\" also belongs to applicatie \"A\"")),
        "{ps:?}"
    );
    assert!(has_problem(&ps, "clientIds", "no client ids"), "{ps:?}");
    // The first owner is named even without a label.
    let unlabelled = problems(json!([
        {"clientIds": ["a"], "label": "", "heeftAlleAutorisaties": true},
        {"clientIds": ["a"], "label": "B", "heeftAlleAutorisaties": true},
    ]));
    assert!(
        has_problem(
            &unlabelled,
            "clientIds[0]",
            "also belongs to applicatie \"applicaties[0]\""
        ),
        "{unlabelled:?}"
    );
    assert!(
        has_problem(&ps, "clientIds[0]", "1 to 50 characters (has 0)"),
        "{ps:?}"
    );
    assert!(
        has_problem(&ps, "clientIds[1]", "1 to 50 characters (has 51)"),
        "{ps:?}"
    );
    assert_eq!(ps.len(), 4, "{ps:?}");
    // Several client ids in one applicatie are fine (GPT ac-001a).
    assert!(
        problems(
            json!({"clientIds": ["a", "b", "c"], "label": "A", "heeftAlleAutorisaties": true})
        )
        .is_empty()
    );
}

#[test]
fn ac_002_superuser_xor_autorisaties() {
    let ps = problems(json!([
        {"clientIds": ["a"], "label": "A", "heeftAlleAutorisaties": true,
         "autorisaties": [zrc(&["zaken.lezen"], ZT1, "openbaar")]},
        {"clientIds": ["b"], "label": "B"},
    ]));
    assert!(
        ps.iter().any(|p| p.applicatie == "A"
            && p.at == "autorisaties"
            && p.message.contains("must be empty")),
        "{ps:?}"
    );
    assert!(
        ps.iter()
            .any(|p| p.applicatie == "B" && p.at == "autorisaties" && p.message.contains("ac-002")),
        "{ps:?}"
    );
    assert_eq!(ps.len(), 2);
}

#[test]
fn ac_003_required_fields_per_component() {
    let ps = problems(app_a(vec![
        json!({"component": "zrc", "scopes": ["zaken.lezen"], "maxVertrouwelijkheidaanduiding": "openbaar"}),
        json!({"component": "zrc", "scopes": ["zaken.lezen"], "zaaktype": ZT1}),
        json!({"component": "drc", "scopes": ["documenten.lezen"], "informatieobjecttype": "", "maxVertrouwelijkheidaanduiding": "geheim"}),
        json!({"component": "drc", "scopes": ["documenten.lezen"], "informatieobjecttype": IOT1}),
        json!({"component": "brc", "scopes": ["besluiten.lezen"]}),
    ]));
    assert!(
        has_problem(&ps, "autorisaties[0].zaaktype", "ac-003"),
        "{ps:?}"
    );
    assert!(
        has_problem(
            &ps,
            "autorisaties[1].maxVertrouwelijkheidaanduiding",
            "ac-003"
        ),
        "{ps:?}"
    );
    assert!(
        has_problem(&ps, "autorisaties[2].informatieobjecttype", "ac-003"),
        "{ps:?}"
    );
    assert!(
        has_problem(
            &ps,
            "autorisaties[3].maxVertrouwelijkheidaanduiding",
            "ac-003"
        ),
        "{ps:?}"
    );
    assert!(
        has_problem(&ps, "autorisaties[4].besluittype", "ac-003"),
        "{ps:?}"
    );
    assert_eq!(ps.len(), 5, "{ps:?}");
    // Without the component's own scopes the type and max may be left out (GPT ac-003b/d/f).
    assert!(
        problems(app_a(vec![
            json!({"component": "zrc", "scopes": ["audittrails.lezen", "notificaties.consumeren"]}),
            json!({"component": "drc", "scopes": ["audittrails.lezen"]}),
            json!({"component": "brc", "scopes": ["audittrails.lezen"]}),
            json!({"component": "ztc", "scopes": ["catalogi.lezen"]}),
            json!({"component": "nrc", "scopes": ["notificaties.consumeren"]}),
        ]))
        .is_empty()
    );
}

#[test]
fn rule_20_a_blank_max_is_a_problem() {
    for blank in [json!(""), json!(null)] {
        let ps = problems(app_a(vec![json!({
            "component": "zrc", "scopes": ["zaken.lezen"], "zaaktype": ZT1,
            "maxVertrouwelijkheidaanduiding": blank,
        })]));
        assert!(
            has_problem(
                &ps,
                "autorisaties[0].maxVertrouwelijkheidaanduiding",
                "denies"
            ),
            "{ps:?}"
        );
        assert!(
            compile(
                &apps(app_a(vec![json!({
                    "component": "zrc", "scopes": ["zaken.lezen"], "zaaktype": ZT1,
                    "maxVertrouwelijkheidaanduiding": blank,
                })])),
                &UrlMap::default()
            )
            .is_err()
        );
    }
}

#[test]
fn other_validation_rules() {
    let ps = problems(json!([
        {"clientIds": ["a"], "label": "", "autorisaties": [
            {"component": "xyz", "scopes": ["zaken.lezen"]},
            {"component": "zrc", "scopes": [], "zaaktype": ZT1, "maxVertrouwelijkheidaanduiding": "openbaar"},
            zrc(&["zaken.lezen"], ZT1, "Geheim"),
            zrc(&["zaken.lezn", "zaken lezen", "custom.scope"], ZT1, "geheim"),
            zrc(&["zaken.lezen"], "zaaktypen/1", "geheim"),
        ]},
        {"clientIds": ["b"], "label": "L".repeat(101), "heeftAlleAutorisaties": true},
    ]));
    let first = "applicaties[0]";
    assert!(
        ps.iter()
            .all(|p| p.applicatie == first || p.applicatie == "L".repeat(101))
    );
    assert!(
        has_problem(&ps, "label", "1 to 100 characters (has 0)"),
        "{ps:?}"
    );
    assert!(has_problem(&ps, "label", "(has 101)"), "{ps:?}");
    assert!(
        has_problem(
            &ps,
            "autorisaties[0].component",
            "unknown component \"xyz\""
        ),
        "{ps:?}"
    );
    assert!(
        has_problem(&ps, "autorisaties[1].scopes", "no scopes"),
        "{ps:?}"
    );
    assert!(
        has_problem(
            &ps,
            "autorisaties[2].maxVertrouwelijkheidaanduiding",
            "unknown vertrouwelijkheidaanduiding \"Geheim\""
        ),
        "{ps:?}"
    );
    assert!(
        has_problem(
            &ps,
            "autorisaties[3].scopes[0]",
            "unknown scope \"zaken.lezn\""
        ),
        "{ps:?}"
    );
    assert!(
        has_problem(&ps, "autorisaties[3].scopes[1]", "1 to 100 characters"),
        "{ps:?}"
    );
    assert!(
        !ps.iter().any(|p| p.at == "autorisaties[3].scopes[2]"),
        "{ps:?}"
    );
    assert!(
        has_problem(&ps, "autorisaties[4].zaaktype", "absolute http(s) URL"),
        "{ps:?}"
    );
    assert_eq!(ps.len(), 8, "{ps:?}");
    let shown = ps[0].to_string();
    assert!(
        shown.starts_with("applicatie \"applicaties[0]\": "),
        "{shown}"
    );
}

#[test]
fn compile_reports_every_problem() {
    let err = compile(
        &apps(json!([{"clientIds": [], "label": ""}])),
        &UrlMap::default(),
    )
    .unwrap_err();
    assert_eq!(err.len(), 3, "{err:?}");
    let text = sluis_zgw::ZgwError::from(err).to_string();
    assert!(
        text.starts_with("invalid autorisaties (3 problems):\n  applicatie"),
        "{text}"
    );
}

// --- grants ----------------------------------------------------------------------------------

#[test]
fn grants_can_be_shared_across_threads() {
    fn shared<T: Send + Sync + Clone + 'static>() {}
    shared::<Grants>();
    shared::<UrlMap>();
}

#[test]
fn clients_share_their_applicatie() {
    let g = grants(app_a(vec![zrc(&["zaken.lezen"], ZT1, "openbaar")]));
    assert_eq!(g.len(), 2);
    assert!(!g.is_empty());
    for id in ["app-a", "app-a-2"] {
        let c = g.client(id).unwrap();
        assert_eq!(c.label(), "Applicatie A");
        assert_eq!(c.applicatie_id(), "5b3c1a1e-1111-4222-8333-444444444444");
        assert!(!c.superuser());
        assert!(!c.alleen_gereed_voor_publicatie());
    }
    assert!(g.client("app-b").is_none());
    assert!(g.client("APP-A").is_none());
    let no_url = grants(json!({"clientIds": ["x"], "label": "X", "heeftAlleAutorisaties": true}));
    assert_eq!(no_url.client("x").unwrap().applicatie_id(), "");
    assert!(Grants::default().is_empty());
}

#[test]
fn d14_superuser_passes_everything() {
    let g = grants(
        json!({"clientIds": ["su"], "label": "SU", "heeftAlleAutorisaties": true, "alleenIsGereedVoorPublicatie": true}),
    );
    let c = g.client("su").unwrap();
    assert!(c.superuser());
    assert!(c.alleen_gereed_voor_publicatie());
    assert!(c.any(Component::Zaken, &e("zaken.verwijderen")));
    assert!(c.allows(
        Component::Zaken,
        &e("zaken.lezen"),
        ZT2,
        Some(V::ZeerGeheim)
    ));
    assert!(c.allows(Component::Documenten, &ScopeExpr::never(), IOT1, None));
    assert_eq!(
        c.list_scope(Component::Zaken, &e("zaken.lezen")),
        ListScope::All
    );
    assert!(
        c.scopes_for(Component::Zaken, ZT1, Some(V::Openbaar))
            .is_empty()
    );
}

#[test]
fn rule_12_type_and_inclusive_max() {
    let g = grants(app_a(vec![zrc(&["zaken.lezen"], ZT1, "zaakvertrouwelijk")]));
    let c = g.client("app-a").unwrap();
    let lezen = e("zaken.lezen");
    for v in V::ALL {
        assert_eq!(
            c.allows(Component::Zaken, &lezen, ZT1, Some(v)),
            v <= V::Zaakvertrouwelijk,
            "{v}"
        );
        assert!(!c.allows(Component::Zaken, &lezen, ZT2, Some(v)));
    }
    assert!(!c.allows(
        Component::Zaken,
        &e("zaken.bijwerken"),
        ZT1,
        Some(V::Openbaar)
    ));
    assert!(!c.allows(Component::Documenten, &lezen, ZT1, Some(V::Openbaar)));
    // No level given for zrc: denied, never "null matches all".
    assert!(!c.allows(Component::Zaken, &lezen, ZT1, None));
    assert!(c.scopes_for(Component::Zaken, ZT1, None).is_empty());
    assert_eq!(
        c.scopes_for(Component::Zaken, ZT1, Some(V::Intern)),
        ["zaken.lezen"]
    );
    assert!(
        c.scopes_for(Component::Zaken, ZT1, Some(V::Geheim))
            .is_empty()
    );
}

#[test]
fn rule_12_union_across_autorisaties_satisfies_and() {
    let g = grants(app_a(vec![
        zrc(&["zaken.lezen"], ZT1, "geheim"),
        zrc(&["zaken.bijwerken"], ZT1, "intern"),
        zrc(&["zaken.aanmaken"], ZT2, "geheim"),
    ]));
    let c = g.client("app-a").unwrap();
    let both = e("zaken.lezen & zaken.bijwerken");
    assert!(c.allows(Component::Zaken, &both, ZT1, Some(V::Intern)));
    assert!(!c.allows(Component::Zaken, &both, ZT1, Some(V::Zaakvertrouwelijk)));
    assert!(c.allows(Component::Zaken, &e("zaken.lezen"), ZT1, Some(V::Geheim)));
    // The union is per type: ZT2's aanmaken does not help ZT1.
    assert!(!c.allows(
        Component::Zaken,
        &e("zaken.lezen & zaken.aanmaken"),
        ZT1,
        Some(V::Openbaar)
    ));
    assert_eq!(
        c.scopes_for(Component::Zaken, ZT1, Some(V::Openbaar)),
        ["zaken.bijwerken", "zaken.lezen"]
    );
    // list_scope agrees with allows for the compound expression.
    assert_eq!(
        c.list_scope(Component::Zaken, &both),
        ListScope::Groups(vec![TypeGroup {
            max: Some(V::Intern),
            types: vec![ZT1.into()]
        }])
    );
}

#[test]
fn rule_15_scope_gate_ignores_types() {
    let g = grants(app_a(vec![
        zrc(&["zaken.lezen"], ZT2, "openbaar"),
        json!({"component": "zrc", "scopes": ["audittrails.lezen"]}),
    ]));
    let c = g.client("app-a").unwrap();
    assert!(c.any(Component::Zaken, &e("zaken.lezen")));
    assert!(c.any(Component::Zaken, &e("audittrails.lezen")));
    assert!(c.any(Component::Zaken, &e("zaken.lezen & audittrails.lezen")));
    assert!(!c.any(Component::Zaken, &e("zaken.bijwerken")));
    assert!(!c.any(Component::Documenten, &e("zaken.lezen")));
    // An autorisatie without a type counts for the gate only.
    assert!(!c.allows(
        Component::Zaken,
        &e("audittrails.lezen"),
        ZT2,
        Some(V::Openbaar)
    ));
    assert_eq!(
        c.list_scope(Component::Zaken, &e("audittrails.lezen")),
        ListScope::Nothing
    );
}

#[test]
fn d6_missing_list_scope() {
    let g = grants(app_a(vec![zrc(&["zaken.bijwerken"], ZT1, "geheim")]));
    let c = g.client("app-a").unwrap();
    assert!(!c.any(Component::Zaken, &e("zaken.lezen")));
    assert_eq!(
        c.list_scope(Component::Zaken, &e("zaken.lezen")),
        ListScope::Nothing
    );
}

fn admitted(scope: &ListScope, zaken: &[(&str, V)]) -> Vec<(String, V)> {
    zaken
        .iter()
        .filter(|(t, v)| scope.admits(t, Some(*v)))
        .map(|(t, v)| ((*t).to_owned(), *v))
        .collect()
}

#[test]
fn d4_list_filtered_by_type_and_max() {
    let g = grants(app_a(vec![zrc(&["zaken.lezen"], ZT1, "openbaar")]));
    let scope = g
        .client("app-a")
        .unwrap()
        .list_scope(Component::Zaken, &e("zaken.lezen"));
    assert_eq!(
        scope,
        ListScope::Groups(vec![TypeGroup {
            max: Some(V::Openbaar),
            types: vec![ZT1.into()]
        }])
    );
    let zaken = [
        (ZT1, V::Openbaar),
        (ZT2, V::Openbaar),
        (ZT1, V::ZeerGeheim),
        (ZT2, V::ZeerGeheim),
    ];
    assert_eq!(admitted(&scope, &zaken), [(ZT1.to_owned(), V::Openbaar)]);
    assert!(!scope.admits(ZT1, None));
}

#[test]
fn d5_max_per_zaaktype() {
    let g = grants(app_a(vec![
        zrc(&["zaken.lezen"], ZT1, "openbaar"),
        zrc(&["zaken.lezen"], ZT2, "geheim"),
    ]));
    let scope = g
        .client("app-a")
        .unwrap()
        .list_scope(Component::Zaken, &e("zaken.lezen"));
    assert_eq!(
        scope,
        ListScope::Groups(vec![
            TypeGroup {
                max: Some(V::Openbaar),
                types: vec![ZT1.into()]
            },
            TypeGroup {
                max: Some(V::Geheim),
                types: vec![ZT2.into()]
            },
        ])
    );
    let zaken = [
        (ZT1, V::Openbaar),
        (ZT2, V::Geheim),
        (ZT1, V::ZeerGeheim),
        (ZT2, V::ZeerGeheim),
    ];
    assert_eq!(
        admitted(&scope, &zaken),
        [(ZT1.to_owned(), V::Openbaar), (ZT2.to_owned(), V::Geheim)]
    );
}

#[test]
fn rule_16_highest_max_among_autorisaties_holding_the_scope() {
    let zt3 = "http://ztc/catalogi/api/v1/zaaktypen/3";
    let g = grants(app_a(vec![
        zrc(&["zaken.lezen"], ZT1, "intern"),
        zrc(&["zaken.lezen", "zaken.bijwerken"], ZT1, "vertrouwelijk"),
        zrc(&["zaken.bijwerken"], ZT1, "zeer_geheim"),
        zrc(&["zaken.lezen"], ZT2, "intern"),
        zrc(&["zaken.lezen"], zt3, "openbaar"),
    ]));
    let c = g.client("app-a").unwrap();
    // ZT1: the bijwerken-only autorisatie's zeer_geheim does not count for lezen.
    assert_eq!(
        c.list_scope(Component::Zaken, &e("zaken.lezen")),
        ListScope::Groups(vec![
            TypeGroup {
                max: Some(V::Openbaar),
                types: vec![zt3.into()]
            },
            TypeGroup {
                max: Some(V::Intern),
                types: vec![ZT2.into()]
            },
            TypeGroup {
                max: Some(V::Vertrouwelijk),
                types: vec![ZT1.into()]
            },
        ])
    );
    // Groups hold sorted types.
    let g = grants(app_a(vec![
        zrc(&["zaken.lezen"], ZT2, "intern"),
        zrc(&["zaken.lezen"], ZT1, "intern"),
    ]));
    assert_eq!(
        g.client("app-a")
            .unwrap()
            .list_scope(Component::Zaken, &e("zaken.lezen")),
        ListScope::Groups(vec![TypeGroup {
            max: Some(V::Intern),
            types: vec![ZT1.into(), ZT2.into()]
        }])
    );
}

#[test]
fn documenten_and_besluiten() {
    let g = grants(app_a(vec![
        json!({"component": "drc", "scopes": ["documenten.lezen"], "informatieobjecttype": IOT1, "maxVertrouwelijkheidaanduiding": "zaakvertrouwelijk"}),
        json!({"component": "brc", "scopes": ["besluiten.lezen"], "besluittype": BT1}),
    ]));
    let c = g.client("app-a").unwrap();
    // D17
    assert!(!c.allows(
        Component::Documenten,
        &e("documenten.lezen"),
        IOT1,
        Some(V::Geheim)
    ));
    assert!(c.allows(
        Component::Documenten,
        &e("documenten.lezen"),
        IOT1,
        Some(V::Intern)
    ));
    // Besluiten: no confidentiality.
    assert!(c.allows(Component::Besluiten, &e("besluiten.lezen"), BT1, None));
    assert!(!c.allows(
        Component::Besluiten,
        &e("besluiten.lezen"),
        BT1,
        Some(V::Openbaar)
    ));
    assert!(!c.allows(Component::Besluiten, &e("besluiten.verwijderen"), BT1, None));
    let scope = c.list_scope(Component::Besluiten, &e("besluiten.lezen"));
    assert_eq!(
        scope,
        ListScope::Groups(vec![TypeGroup {
            max: None,
            types: vec![BT1.into()]
        }])
    );
    assert!(scope.admits(BT1, None));
    assert!(!scope.admits(BT1, Some(V::Openbaar)));
    assert!(!scope.admits(IOT1, None));
    assert_eq!(
        c.scopes_for(Component::Besluiten, BT1, None),
        ["besluiten.lezen"]
    );
}

#[test]
fn catalogi_are_scope_only_and_ztc_014() {
    let g = grants(app_a(vec![
        zrc(&["zaken.lezen", "zaken.bijwerken"], ZT1, "openbaar"),
        json!({"component": "ztc", "scopes": ["catalogi.lezen"]}),
    ]));
    let c = g.client("app-a").unwrap();
    let zaaktype_read = e("catalogi.lezen | documenten.lezen | zaken.lezen");
    assert!(c.any(Component::Catalogi, &zaaktype_read));
    assert!(c.any(Component::Catalogi, &e("catalogi.lezen")));
    assert!(!c.any(Component::Catalogi, &e("catalogi.schrijven")));
    assert!(!c.any(Component::Catalogi, &e("zaken.bijwerken")));
    assert_eq!(
        c.list_scope(Component::Catalogi, &e("catalogi.lezen")),
        ListScope::All
    );
    assert_eq!(
        c.list_scope(Component::Catalogi, &e("catalogi.schrijven")),
        ListScope::Nothing
    );
    assert!(!c.allows(Component::Catalogi, &e("catalogi.lezen"), ZT1, None));
    // A Zaken client without any ztc autorisatie reads zaaktypen, not other catalogi.
    let g = grants(app_a(vec![zrc(&["zaken.lezen"], ZT1, "openbaar")]));
    let c = g.client("app-a").unwrap();
    assert!(c.any(Component::Catalogi, &zaaktype_read));
    assert!(!c.any(Component::Catalogi, &e("catalogi.lezen")));
}

#[test]
fn type_urls_compare_in_upstream_form() {
    let urls = UrlMap::new(vec![(
        "https://sluis.example/catalogi/api/v1".into(),
        "http://ztc:8000/catalogi/api/v1".into(),
    )])
    .unwrap();
    let v = app_a(vec![zrc(
        &["zaken.lezen"],
        "https://SLUIS.example/catalogi/api/v1/zaaktypen/1/",
        "geheim",
    )]);
    let g = compile(&apps(v), &urls).unwrap();
    let c = g.client("app-a").unwrap();
    let up = "http://ztc:8000/catalogi/api/v1/zaaktypen/1";
    for form in [
        up,
        "HTTP://ZTC:8000/catalogi/api/v1/zaaktypen/1/",
        "https://sluis.example/catalogi/api/v1/zaaktypen/1",
    ] {
        assert!(
            c.allows(Component::Zaken, &e("zaken.lezen"), form, Some(V::Geheim)),
            "{form}"
        );
    }
    assert!(!c.allows(
        Component::Zaken,
        &e("zaken.lezen"),
        "http://ztc:8000/catalogi/api/v1/zaaktypen/10",
        Some(V::Openbaar)
    ));
    assert!(!c.allows(
        Component::Zaken,
        &e("zaken.lezen"),
        "http://ztc:8000/catalogi/api/v1/Zaaktypen/1",
        Some(V::Openbaar)
    ));
    let scope = c.list_scope(Component::Zaken, &e("zaken.lezen"));
    assert_eq!(
        scope,
        ListScope::Groups(vec![TypeGroup {
            max: Some(V::Geheim),
            types: vec![up.into()]
        }])
    );
    assert!(scope.admits(
        "http://ZTC:8000/catalogi/api/v1/zaaktypen/1/",
        Some(V::Intern)
    ));
}

#[test]
fn digest_is_stable_and_content_bound() {
    let a = app_a(vec![
        zrc(&["zaken.lezen", "zaken.bijwerken"], ZT1, "openbaar"),
        zrc(&["zaken.lezen"], ZT2, "geheim"),
    ]);
    let b = app_a(vec![
        zrc(&["zaken.lezen"], ZT2, "geheim"),
        zrc(&["zaken.bijwerken", "zaken.lezen"], ZT1, "openbaar"),
    ]);
    let c = app_a(vec![
        zrc(&["zaken.lezen", "zaken.bijwerken"], ZT1, "openbaar"),
        zrc(&["zaken.lezen"], ZT2, "zeer_geheim"),
    ]);
    let (da, db, dc) = (grants(a).digest(), grants(b).digest(), grants(c).digest());
    assert!(da.starts_with("sha256:") && da.len() == 7 + 64, "{da}");
    assert_eq!(da, db);
    assert_ne!(da, dc);
    assert_ne!(da, Grants::default().digest());
}

#[test]
fn debug_is_a_summary() {
    let g = grants(app_a(vec![zrc(&["zaken.lezen"], ZT1, "openbaar")]));
    let text = format!("{g:?}");
    assert!(
        text.starts_with("Grants { clients: 2, digest: \"sha256:"),
        "{text}"
    );
    let text = format!("{:?}", g.client("app-a").unwrap());
    assert!(
        text.contains("zaaktypen: 1") && !text.contains(ZT1),
        "{text}"
    );
}

#[test]
fn many_types_compile_once_and_answer_correctly() {
    // 170 zaaktypen (the size of open-zaak #1057), 3 autorisaties each, 10 applicaties.
    let mut list = Vec::new();
    for app in 0..10 {
        let mut autorisaties = Vec::new();
        for t in 0..170 {
            let zt = format!("http://ztc/catalogi/api/v1/zaaktypen/{t}");
            autorisaties.push(zrc(&["zaken.lezen"], &zt, V::ALL[t % 8].as_str()));
            autorisaties.push(zrc(&["zaken.bijwerken"], &zt, "openbaar"));
            autorisaties.push(zrc(&["zaken.aanmaken"], &zt, "zeer_geheim"));
        }
        list.push(json!({"clientIds": [format!("c{app}")], "label": format!("A{app}"), "autorisaties": autorisaties}));
    }
    let g = grants(json!(list));
    assert_eq!(g.len(), 10);
    let c = g.client("c9").unwrap();
    let lezen = e("zaken.lezen");
    for t in 0..170 {
        let zt = format!("http://ztc/catalogi/api/v1/zaaktypen/{t}");
        let max = V::ALL[t % 8];
        assert!(c.allows(Component::Zaken, &lezen, &zt, Some(max)));
        if let Some(above) = V::ALL.get(max.rank() + 1) {
            assert!(!c.allows(Component::Zaken, &lezen, &zt, Some(*above)));
        }
    }
    match c.list_scope(Component::Zaken, &lezen) {
        ListScope::Groups(groups) => {
            assert_eq!(groups.len(), 8);
            assert_eq!(groups.iter().map(|g| g.types.len()).sum::<usize>(), 170);
            assert!(groups.windows(2).all(|w| w[0].max < w[1].max));
        }
        other => panic!("{other:?}"),
    }
}
