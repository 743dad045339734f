//! The ZGW scenarios D1–D20 of `domain/zgw.md`, end to end: a client with a ZGW HS256 token
//! (or an OIDC token) calls sluis over real HTTP; sluis decides with the compiled Applicaties
//! and forwards to the ZGW fixture upstream (Open Zaak-like) with its own credentials.
//!
//! Setup data is made through the fixture's own API as sluis's superuser client there, so the
//! tests exercise what a real Open Zaak would hold.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail on unexpected errors"
)]

mod zgw_support;

use hyper::Method;
use serde_json::{Value, json};
use sluis_testkit::zgw::{Betrokkene, Va, ZaaktypeSpec};
use zgw_support::*;

fn va(s: &str) -> Va {
    Va::parse(s).unwrap()
}

/// Data made for one scenario: two fresh zaaktypen (no other zaken of them exist, so counts
/// are exact) and an informatieobjecttype, as upstream URLs.
struct World {
    h: ZgwHarness,
    zt1: String,
    zt2: String,
    iot1: String,
}

/// sluis's own token at the fixture (superuser there), for reading the upstream directly.
fn upstream_token() -> String {
    zgw_token(SLUIS_CLIENT, SLUIS_SECRET, Some(("setup", "Setup")))
}

async fn upstream(h: &ZgwHarness, method: Method, url: &str, body: Option<&Value>) -> Resp {
    let t = upstream_token();
    h.send(method, url, Some(&t), body, &[]).await
}

async fn world(applicaties: impl FnOnce(&str, &str, &str) -> Value) -> World {
    world_with(applicaties, None, Va::Openbaar).await
}

async fn world_with(
    applicaties: impl FnOnce(&str, &str, &str) -> Value,
    rules: Option<String>,
    zt1_default: Va,
) -> World {
    let h = ZgwHarness::start(ZgwOpts {
        rules,
        ..ZgwOpts::default()
    })
    .await;
    let zt1 = h.fixture.add_zaaktype(ZaaktypeSpec {
        omschrijving: "Scenario ZT1".into(),
        default_va: zt1_default,
        ..ZaaktypeSpec::default()
    });
    let zt2 = h.fixture.add_zaaktype(ZaaktypeSpec {
        omschrijving: "Scenario ZT2".into(),
        ..ZaaktypeSpec::default()
    });
    let iot1 = h
        .fixture
        .add_informatieobjecttype("Scenario IOT1", Va::Openbaar);
    h.set_applicaties(&applicaties(&zt1, &zt2, &iot1)).await;
    World { h, zt1, zt2, iot1 }
}

/// Adds a zaak at the fixture; returns its upstream URL.
fn zaak(w: &World, zaaktype: &str, va: Va) -> String {
    w.h.fixture.add_zaak(zaaktype, va, false).unwrap().1
}

fn closed_zaak(w: &World, zaaktype: &str, va: Va) -> String {
    w.h.fixture.add_zaak(zaaktype, va, true).unwrap().1
}

fn uuid_of(url: &str) -> &str {
    url.rsplit('/').next().unwrap()
}

fn token_a() -> String {
    zgw_token(APP_A, SECRET_A, Some(("u1", "Jan")))
}

/// The applicaties of D4: app-a reads ZT1 up to openbaar.
fn d4(zt1: &str, _zt2: &str, _iot: &str) -> Value {
    json!([applicatie(
        APP_A,
        "App A",
        vec![zrc(zt1, "openbaar", &["zaken.lezen"])]
    )])
}

fn ids(doc: &Value) -> Vec<String> {
    doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| z["url"].as_str().unwrap().to_owned())
        .collect()
}

/// Every zaak URL of a list, following `next` (asserting a stable, true count).
async fn collect(w: &World, path: &str, token: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut url = format!("{}{path}", w.h.api);
    let mut count = None;
    loop {
        let doc = w.h.get(&url, token).await.ok();
        let c = doc["count"].as_u64().unwrap();
        assert_eq!(*count.get_or_insert(c), c, "count changes between pages");
        out.extend(ids(&doc));
        match doc["next"].as_str() {
            Some(n) => {
                assert!(n.starts_with(&w.h.api), "next link is public: {n}");
                url = n.to_owned();
            }
            None => break,
        }
    }
    assert_eq!(
        out.len() as u64,
        count.unwrap_or(0),
        "count matches the results"
    );
    out
}

/// How many zaken the fixture holds of these (zaaktype, max) pairs.
fn truth(w: &World, pairs: &[(&String, &str)]) -> usize {
    w.h.fixture
        .zaken_where(|z| {
            pairs
                .iter()
                .any(|(zt, max)| &z.zaaktype == *zt && z.va <= va(max))
        })
        .len()
}

#[tokio::test]
async fn d1_d2_d3_tokens_are_checked_and_answered_401() {
    let w = world(d4).await;
    // D1: no token (sluis answers 401, not Open Zaak's 403: docs/zgw.md).
    w.h.send(Method::GET, &format!("{ZAKEN}/zaken"), None, None, &[])
        .await
        .problem(401, "notAuthenticated");
    // D2: wrong secret, unknown client.
    let bad = zgw_token(APP_A, "another-secret-0123456789abcdef", None);
    w.h.get(&format!("{ZAKEN}/zaken"), &bad)
        .await
        .problem(401, "invalidToken");
    let unknown = zgw_token("nobody", SECRET_A, None);
    w.h.get(&format!("{ZAKEN}/zaken"), &unknown)
        .await
        .problem(401, "invalidToken");
    // D3: expiry by iat (3600 s, leeway 0).
    let old = zgw_token_at(APP_A, SECRET_A, None, now() - 3600);
    w.h.get(&format!("{ZAKEN}/zaken"), &old)
        .await
        .problem(401, "invalidToken");
    let fresh = zgw_token_at(APP_A, SECRET_A, None, now() - 3590);
    w.h.get(&format!("{ZAKEN}/zaken"), &fresh).await.ok();
    w.h.shutdown().await;
}

#[tokio::test]
async fn d4_d5_lists_are_filtered_per_zaaktype_and_maximum() {
    let w = world(|zt1, zt2, _| {
        json!([
            applicatie(APP_A, "App A", vec![zrc(zt1, "openbaar", &["zaken.lezen"])]),
            applicatie(
                APP_B,
                "App B",
                vec![
                    zrc(zt1, "openbaar", &["zaken.lezen"]),
                    zrc(zt2, "geheim", &["zaken.lezen"]),
                ]
            ),
        ])
    })
    .await;
    let a = zaak(&w, &w.zt1, va("openbaar"));
    let b = zaak(&w, &w.zt2, va("openbaar"));
    let c = zaak(&w, &w.zt1, va("zeer_geheim"));
    let d = zaak(&w, &w.zt2, va("geheim"));
    let e = zaak(&w, &w.zt2, va("zeer_geheim"));
    // D4: app-a sees (ZT1, openbaar) only, count 1.
    let doc = w.h.get(&format!("{ZAKEN}/zaken"), &token_a()).await.ok();
    assert_eq!(doc["count"], json!(1), "{doc}");
    assert_eq!(ids(&doc), vec![w.h.public(&a)]);
    // The upstream was asked for exactly that (filtered at the source).
    let asked = w.h.fixture.requests();
    assert!(
        asked.iter().any(|r| r.uri.contains("/zaken/_zoek")),
        "a _zoek was sent: {asked:?}"
    );
    // D5: app-b sees ZT1 up to openbaar and ZT2 up to geheim, over two groups.
    let tb = zgw_token(APP_B, SECRET_B, None);
    let all_b = collect(&w, &format!("{ZAKEN}/zaken"), &tb).await;
    assert_eq!(all_b.len(), 3, "{all_b:?}");
    for x in [&a, &b, &d] {
        assert!(all_b.contains(&w.h.public(x)), "{x} missing");
    }
    for x in [&c, &e] {
        assert!(!all_b.contains(&w.h.public(x)), "{x} leaked");
    }
    assert_eq!(
        all_b.len(),
        truth(&w, &[(&w.zt1, "openbaar"), (&w.zt2, "geheim")])
    );
    w.h.shutdown().await;
}

#[tokio::test]
async fn merged_groups_paginate_with_true_counts_and_links() {
    let w = world(|zt1, zt2, _| {
        json!([applicatie(
            APP_B,
            "App B",
            vec![
                zrc(zt1, "openbaar", &["zaken.lezen"]),
                zrc(zt2, "geheim", &["zaken.lezen"]),
            ]
        )])
    })
    .await;
    let mut made = Vec::new();
    for i in 0..130 {
        made.push(zaak(
            &w,
            &w.zt1,
            if i % 3 == 0 {
                va("intern")
            } else {
                va("openbaar")
            },
        ));
        made.push(zaak(
            &w,
            &w.zt2,
            if i % 4 == 0 {
                va("zeer_geheim")
            } else {
                va("geheim")
            },
        ));
    }
    let tb = zgw_token(APP_B, SECRET_B, None);
    let seen = collect(&w, &format!("{ZAKEN}/zaken"), &tb).await;
    let expected = truth(&w, &[(&w.zt1, "openbaar"), (&w.zt2, "geheim")]);
    assert_eq!(seen.len(), expected);
    let unique: std::collections::BTreeSet<_> = seen.iter().collect();
    assert_eq!(unique.len(), seen.len(), "no zaak twice across pages");
    // Page 2's previous link leads back to page 1.
    let p2 = w.h.get(&format!("{ZAKEN}/zaken?page=2"), &tb).await.ok();
    let prev = p2["previous"].as_str().unwrap().to_owned();
    assert!(prev.ends_with("page=1"), "{prev}");
    w.h.get(&format!("{ZAKEN}/zaken?page=99"), &tb)
        .await
        .status(400);
    w.h.shutdown().await;
}

#[tokio::test]
async fn d6_a_list_without_the_read_scope_is_403() {
    let w = world(|zt1, _, _| {
        json!([applicatie(
            APP_A,
            "App A",
            vec![zrc(zt1, "openbaar", &["zaken.bijwerken"])]
        )])
    })
    .await;
    w.h.get(&format!("{ZAKEN}/zaken"), &token_a())
        .await
        .problem(403, "permission_denied");
    w.h.shutdown().await;
}

#[tokio::test]
async fn d7_detail_is_403_when_it_exists_404_when_not() {
    let w = world(d4).await;
    let ok = zaak(&w, &w.zt1, va("openbaar"));
    let secret = zaak(&w, &w.zt1, va("zeer_geheim"));
    let other = zaak(&w, &w.zt2, va("openbaar"));
    let t = token_a();
    let doc = w.h.get(&w.h.public(&ok), &t).await.ok();
    assert_eq!(doc["url"], json!(w.h.public(&ok)), "URLs are sluis's");
    assert_eq!(
        doc["zaaktype"],
        json!(w.h.public(&w.zt1)),
        "zaaktype URL mapped"
    );
    // The upstream got its own authority as Host.
    let last = w.h.fixture.last_request().unwrap();
    assert_eq!(
        last.header("host"),
        Some(w.h.fixture.addr().to_string().as_str())
    );
    w.h.get(&w.h.public(&secret), &t)
        .await
        .problem(403, "permission_denied");
    w.h.get(&w.h.public(&other), &t)
        .await
        .problem(403, "permission_denied");
    w.h.get(
        &format!("{ZAKEN}/zaken/6f2b1c3e-0000-4000-8000-000000000000"),
        &t,
    )
    .await
    .status(404);
    w.h.shutdown().await;
}

fn zaak_body(zt: &str, va: Option<&str>) -> Value {
    let mut b = json!({
        "bronorganisatie": "002220647", "verantwoordelijkeOrganisatie": "002220647",
        "zaaktype": zt, "startdatum": "2026-11-02",
    });
    if let Some(v) = va {
        b["vertrouwelijkheidaanduiding"] = json!(v);
    }
    b
}

#[tokio::test]
async fn d8_create_checks_the_body_and_the_effective_confidentiality() {
    let w = world_with(
        |zt1, zt2, _| {
            json!([applicatie(
                APP_A,
                "App A",
                vec![
                    zrc(zt1, "intern", &["zaken.aanmaken", "zaken.lezen"]),
                    zrc(zt2, "intern", &["zaken.aanmaken"]),
                ]
            )])
        },
        None,
        Va::Geheim,
    )
    .await;
    let t = token_a();
    let zt1 = w.h.public(&w.zt1);
    let zt2 = w.h.public(&w.zt2);
    let r =
        w.h.post(
            &format!("{ZAKEN}/zaken"),
            &t,
            &zaak_body(&zt1, Some("openbaar")),
        )
        .await;
    r.status(201);
    let created = r.json();
    assert!(
        created["url"].as_str().unwrap().starts_with(&w.h.api),
        "{created}"
    );
    // The body reached the upstream with its URLs mapped in.
    let sent = w.h.fixture.requests();
    let post = sent.iter().rev().find(|r| r.method == "POST").unwrap();
    let body: Value = serde_json::from_slice(&post.body).unwrap();
    assert_eq!(body["zaaktype"], json!(w.zt1));
    w.h.post(
        &format!("{ZAKEN}/zaken"),
        &t,
        &zaak_body(&zt1, Some("geheim")),
    )
    .await
    .problem(403, "permission_denied");
    // ZT2 is allowed up to intern; a third, unauthorized zaaktype is refused.
    let zt3 = w.h.fixture.add_zaaktype(ZaaktypeSpec::default());
    w.h.post(
        &format!("{ZAKEN}/zaken"),
        &t,
        &zaak_body(&w.h.public(&zt3), Some("openbaar")),
    )
    .await
    .problem(403, "permission_denied");
    w.h.post(
        &format!("{ZAKEN}/zaken"),
        &t,
        &zaak_body(&zt2, Some("openbaar")),
    )
    .await
    .status(201);
    // A zaaktype that does not exist: 400.
    let missing = format!(
        "{}{CATALOGI}/zaaktypen/6f2b1c3e-0000-4000-8000-000000000000",
        w.h.api
    );
    w.h.post(&format!("{ZAKEN}/zaken"), &t, &zaak_body(&missing, None))
        .await
        .problem(400, "invalid");
    // VA left out: ZT1's default is geheim, above the maximum (C6 rule 26).
    w.h.post(&format!("{ZAKEN}/zaken"), &t, &zaak_body(&zt1, None))
        .await
        .problem(403, "permission_denied");
    w.h.shutdown().await;
}

#[tokio::test]
async fn d9_d10_nested_objects_go_through_their_zaak() {
    let w = world(|zt1, _, _| {
        json!([applicatie(
            APP_A,
            "App A",
            vec![zrc(
                zt1,
                "openbaar",
                &["zaken.lezen", "zaken.aanmaken", "zaken.bijwerken"]
            )]
        )])
    })
    .await;
    let t = token_a();
    let mine = zaak(&w, &w.zt1, va("openbaar"));
    let theirs = zaak(&w, &w.zt2, va("openbaar"));
    let my_rol =
        w.h.fixture
            .add_rol(
                &mine,
                "behandelaar",
                Betrokkene::Medewerker {
                    identificatie: "mdw-001".into(),
                    achternaam: "Jansen".into(),
                },
            )
            .unwrap();
    let their_rol =
        w.h.fixture
            .add_rol(
                &theirs,
                "behandelaar",
                Betrokkene::Medewerker {
                    identificatie: "mdw-002".into(),
                    achternaam: "Pietersen".into(),
                },
            )
            .unwrap();
    // D9: rollen of an unauthorized zaak: an empty page; of an authorized one: its rollen.
    let doc =
        w.h.get(&format!("{ZAKEN}/rollen?zaak={}", w.h.public(&theirs)), &t)
            .await
            .ok();
    assert_eq!(doc["count"], json!(0), "{doc}");
    let doc =
        w.h.get(&format!("{ZAKEN}/rollen?zaak={}", w.h.public(&mine)), &t)
            .await
            .ok();
    assert!(ids(&doc).contains(&w.h.public(&my_rol)), "{doc}");
    w.h.get(&w.h.public(&their_rol), &t)
        .await
        .problem(403, "permission_denied");
    w.h.get(&w.h.public(&my_rol), &t).await.ok();
    // Without a zaak filter the list is read and filtered here.
    let doc = w.h.get(&format!("{ZAKEN}/rollen"), &t).await.ok();
    let listed = ids(&doc);
    assert!(listed.contains(&w.h.public(&my_rol)));
    assert!(!listed.contains(&w.h.public(&their_rol)));
    assert_eq!(doc["count"].as_u64().unwrap() as usize, listed.len());
    w.h.get(
        &format!("{ZAKEN}/zaken/{}/zaakeigenschappen", uuid_of(&theirs)),
        &t,
    )
    .await
    .problem(403, "permission_denied");
    // D10: creating a status needs a zaak that resolves, is a zaak, and is authorized.
    let statustype = w.h.fixture.statustype_urls(&w.zt1).unwrap()[0].clone();
    let st = |zaak: Option<String>| {
        let mut b = json!({"statustype": w.h.public(&statustype), "datumStatusGezet": "2026-11-02T10:00:00Z"});
        if let Some(z) = zaak {
            b["zaak"] = json!(z);
        }
        b
    };
    let doc =
        w.h.post(&format!("{ZAKEN}/statussen"), &t, &st(None))
            .await
            .problem(400, "invalid");
    assert_eq!(doc["invalidParams"][0]["name"], json!("zaak"));
    assert_eq!(doc["invalidParams"][0]["code"], json!("required"));
    let nowhere = format!(
        "{}{ZAKEN}/zaken/6f2b1c3e-0000-4000-8000-000000000000",
        w.h.api
    );
    let doc =
        w.h.post(&format!("{ZAKEN}/statussen"), &t, &st(Some(nowhere)))
            .await
            .problem(400, "invalid");
    assert_eq!(
        doc["invalidParams"][0]["code"],
        json!("object-does-not-exist")
    );
    let doc =
        w.h.post(
            &format!("{ZAKEN}/statussen"),
            &t,
            &st(Some(w.h.public(&my_rol))),
        )
        .await
        .problem(400, "invalid");
    assert_eq!(doc["invalidParams"][0]["code"], json!("incorrect_match"));
    w.h.post(
        &format!("{ZAKEN}/statussen"),
        &t,
        &st(Some(w.h.public(&theirs))),
    )
    .await
    .problem(403, "permission_denied");
    w.h.shutdown().await;
}

#[tokio::test]
async fn d11_with_aanmaken_only_the_first_status() {
    let w = world(|zt1, _, _| {
        json!([
            applicatie(
                APP_A,
                "App A",
                vec![zrc(zt1, "openbaar", &["zaken.aanmaken", "zaken.lezen"])]
            ),
            applicatie(
                APP_B,
                "App B",
                vec![zrc(
                    zt1,
                    "openbaar",
                    &["zaken.aanmaken", "zaken.statussen.toevoegen"]
                )]
            ),
        ])
    })
    .await;
    let t = token_a();
    let types = w.h.fixture.statustype_urls(&w.zt1).unwrap();
    let z = zaak(&w, &w.zt1, va("openbaar"));
    let st = |i: usize| json!({"zaak": w.h.public(&z), "statustype": w.h.public(&types[i]), "datumStatusGezet": "2026-11-02T10:00:00Z"});
    w.h.post(&format!("{ZAKEN}/statussen"), &t, &st(0))
        .await
        .status(201);
    let doc =
        w.h.post(&format!("{ZAKEN}/statussen"), &t, &st(1))
            .await
            .problem(403, "permission_denied");
    assert!(
        doc["detail"].as_str().unwrap().contains("slechts 1 status"),
        "{doc}"
    );
    let tb = zgw_token(APP_B, SECRET_B, None);
    w.h.post(&format!("{ZAKEN}/statussen"), &tb, &st(1))
        .await
        .status(201);
    w.h.shutdown().await;
}

#[tokio::test]
async fn d12_d13_closed_zaken_change_only_when_forced_and_reopen_with_heropenen() {
    let w = world(|zt1, _, _| {
        json!([
            applicatie(
                APP_A,
                "App A",
                vec![zrc(
                    zt1,
                    "openbaar",
                    &[
                        "zaken.lezen",
                        "zaken.bijwerken",
                        "zaken.statussen.toevoegen"
                    ]
                )]
            ),
            applicatie(
                APP_B,
                "App B",
                vec![zrc(
                    zt1,
                    "openbaar",
                    &[
                        "zaken.lezen",
                        "zaken.geforceerd-bijwerken",
                        "zaken.heropenen"
                    ]
                )]
            ),
        ])
    })
    .await;
    let z = closed_zaak(&w, &w.zt1, va("openbaar"));
    let t = token_a();
    let tb = zgw_token(APP_B, SECRET_B, None);
    let doc =
        w.h.patch(&w.h.public(&z), &t, &json!({"omschrijving": "later"}))
            .await
            .problem(403, "permission_denied");
    assert!(doc["detail"].as_str().unwrap().contains("closed"), "{doc}");
    w.h.patch(&w.h.public(&z), &tb, &json!({"omschrijving": "forced"}))
        .await
        .ok();
    // D13: a non-final status on the closed zaak reopens it only with heropenen.
    let types = w.h.fixture.statustype_urls(&w.zt1).unwrap();
    let st = json!({"zaak": w.h.public(&z), "statustype": w.h.public(&types[0]), "datumStatusGezet": "2026-11-03T10:00:00Z"});
    w.h.post(&format!("{ZAKEN}/statussen"), &t, &st)
        .await
        .problem(403, "permission_denied");
    let r = w.h.post(&format!("{ZAKEN}/statussen"), &tb, &st).await;
    r.status(201);
    let info = w.h.fixture.zaak(&z).unwrap();
    assert!(info.einddatum.is_none(), "reopened");
    assert!(info.archiefnominatie.is_none());
    w.h.shutdown().await;
}

#[tokio::test]
async fn d14_a_superuser_sees_everything_and_d15_search_is_filtered() {
    let w = world(|zt1, _, _| {
        json!([
            applicatie(APP_A, "App A", vec![zrc(zt1, "openbaar", &["zaken.lezen"])]),
            superuser(APP_B, "Beheer"),
        ])
    })
    .await;
    let open1 = zaak(&w, &w.zt1, va("openbaar"));
    let _ = zaak(&w, &w.zt1, va("geheim"));
    let secret = zaak(&w, &w.zt2, va("zeer_geheim"));
    let tb = zgw_token(APP_B, SECRET_B, None);
    w.h.get(&w.h.public(&secret), &tb).await.ok();
    // D15 (CVE-2026-54657): _zoek with both zaaktypen only returns what app-a may see.
    let body = json!({"zaaktype__in": [w.h.public(&w.zt1), w.h.public(&w.zt2)]});
    let doc =
        w.h.post(&format!("{ZAKEN}/zaken/_zoek"), &token_a(), &body)
            .await
            .ok();
    assert_eq!(doc["count"], json!(1), "{doc}");
    assert_eq!(ids(&doc), vec![w.h.public(&open1)]);
    // A superuser's search is not narrowed.
    let doc =
        w.h.post(&format!("{ZAKEN}/zaken/_zoek"), &tb, &body)
            .await
            .ok();
    assert_eq!(doc["count"], json!(3), "{doc}");
    w.h.shutdown().await;
}

#[tokio::test]
async fn d16_expanded_documents_are_checked_one_by_one() {
    let w = world(|zt1, _, iot| {
        json!([applicatie(
            APP_A,
            "App A",
            vec![
                zrc(zt1, "openbaar", &["zaken.lezen"]),
                drc(iot, "openbaar", &["documenten.lezen"]),
            ]
        )])
    })
    .await;
    let z = zaak(&w, &w.zt1, va("openbaar"));
    let open =
        w.h.fixture
            .add_document(&w.iot1, va("openbaar"), true)
            .unwrap();
    let secret =
        w.h.fixture
            .add_document(&w.iot1, va("geheim"), true)
            .unwrap();
    w.h.fixture.link_document(&z, &open).unwrap();
    w.h.fixture.link_document(&z, &secret).unwrap();
    let doc =
        w.h.get(
            &format!(
                "{}?expand=zaakinformatieobjecten,zaakinformatieobjecten.informatieobject",
                w.h.public(&z)
            ),
            &token_a(),
        )
        .await
        .ok();
    let zios = doc["_expand"]["zaakinformatieobjecten"].as_array().unwrap();
    assert_eq!(zios.len(), 2, "both links belong to the zaak: {doc}");
    let inlined: Vec<String> = zios
        .iter()
        .filter_map(|zio| zio["_expand"]["informatieobject"]["url"].as_str())
        .map(str::to_owned)
        .collect();
    assert_eq!(
        inlined,
        vec![w.h.public(&open)],
        "only the openbaar document is inlined: {doc}"
    );
    assert!(!doc.to_string().contains("\"geheim\""), "{doc}");
    w.h.shutdown().await;
}

#[tokio::test]
async fn d17_documents_download_only_within_the_grant() {
    let w = world(|_, _, iot| {
        json!([
            applicatie(
                APP_A,
                "App A",
                vec![drc(iot, "zaakvertrouwelijk", &["documenten.lezen"])]
            ),
            json!({"clientIds": [APP_B], "label": "Publicatie", "heeftAlleAutorisaties": false,
                "alleenIsGereedVoorPublicatie": true,
                "autorisaties": [drc(iot, "geheim", &["documenten.lezen"])]}),
        ])
    })
    .await;
    let t = token_a();
    let secret =
        w.h.fixture
            .add_document(&w.iot1, va("geheim"), true)
            .unwrap();
    let intern =
        w.h.fixture
            .add_document(&w.iot1, va("intern"), false)
            .unwrap();
    w.h.get(&format!("{}/download", w.h.public(&secret)), &t)
        .await
        .problem(403, "permission_denied");
    let r =
        w.h.get(&format!("{}/download", w.h.public(&intern)), &t)
            .await;
    r.status(200);
    assert_eq!(
        r.body.to_vec(),
        w.h.fixture.document_bytes(&intern).unwrap(),
        "the bytes pass unchanged"
    );
    // alleenIsGereedVoorPublicatie: a document not ready for publication is refused.
    let tb = zgw_token(APP_B, SECRET_B, None);
    w.h.get(&w.h.public(&intern), &tb)
        .await
        .problem(403, "permission_denied");
    w.h.get(&w.h.public(&secret), &tb).await.ok();
    // The list is filtered here (the Documenten API cannot filter on type or level).
    let doc =
        w.h.get(&format!("{DOCUMENTEN}/enkelvoudiginformatieobjecten"), &t)
            .await
            .ok();
    let listed = ids(&doc);
    assert!(listed.contains(&w.h.public(&intern)));
    assert!(!listed.contains(&w.h.public(&secret)));
    // The documents' search goes through the same decisions.
    let body = json!({"uuid__in": [uuid_of(&intern), uuid_of(&secret)]});
    let doc =
        w.h.post(
            &format!("{DOCUMENTEN}/enkelvoudiginformatieobjecten/_zoek"),
            &t,
            &body,
        )
        .await
        .ok();
    assert_eq!(ids(&doc), vec![w.h.public(&intern)], "{doc}");
    assert_eq!(doc["count"], json!(1));
    w.h.shutdown().await;
}

#[tokio::test]
async fn d18_writes_reach_the_upstream_trail_naming_the_user() {
    let w = world(|zt1, _, _| {
        json!([applicatie(
            APP_A,
            "App A",
            vec![zrc(zt1, "openbaar", &["zaken.lezen", "zaken.bijwerken"])]
        )])
    })
    .await;
    let z = zaak(&w, &w.zt1, va("openbaar"));
    let r =
        w.h.send(
            Method::PATCH,
            &w.h.public(&z),
            Some(&token_a()),
            Some(&json!({"omschrijving": "correctie"})),
            &[("X-Audit-Toelichting", "correctie")],
        )
        .await;
    r.ok();
    let trail = w.h.fixture.audit_trail(&z);
    let last = trail.last().expect("the upstream recorded the write");
    assert_eq!(last["actie"], json!("partial_update"));
    assert_eq!(last["resultaat"], json!(200));
    assert_eq!(last["toelichting"], json!("correctie"));
    assert_eq!(last["gebruikersId"], json!("u1"));
    assert_eq!(last["gebruikersWeergave"], json!("Jan"));
    assert!(last["wijzigingen"]["nieuw"].is_object());
    w.h.shutdown().await;
}

#[tokio::test]
async fn d19_reads_and_denials_are_recorded_with_client_user_and_case() {
    let w = world(d4).await;
    let ok = zaak(&w, &w.zt1, va("openbaar"));
    let secret = zaak(&w, &w.zt1, va("zeer_geheim"));
    let t = token_a();
    w.h.get(&w.h.public(&secret), &t).await.status(403);
    w.h.get(&format!("{ZAKEN}/zaken"), &t).await.ok();
    w.h.get(&w.h.public(&ok), &t).await.ok();
    let access = w.h.access();
    let denied = access
        .iter()
        .find(|a| a["status"] == json!(403))
        .expect("the denial is recorded");
    assert_eq!(denied["client_id"], json!(APP_A));
    assert_eq!(denied["user"], json!("u1"));
    assert_eq!(denied["operation"], json!("zaak_retrieve"));
    let listed = access
        .iter()
        .find(|a| a["operation"] == json!("zaak_list"))
        .expect("the list is recorded");
    assert_eq!(listed["status"], json!(200));
    assert_eq!(listed["records"], json!(1));
    let ident = w.h.fixture.zaak(&ok).unwrap().identificatie;
    let processing = w.h.processing();
    assert!(
        processing.iter().any(|p| p["case_ref"] == json!(ident)),
        "the zaak identificatie is the case reference: {processing:?}"
    );
    // Deleting the zaak upstream leaves sluis's records.
    let before = w.h.audit_lines().len();
    upstream(&w.h, Method::DELETE, &ok, None).await.status(204);
    assert!(w.h.audit_lines().len() >= before);
    w.h.shutdown().await;
}

#[tokio::test]
async fn d20_the_audit_trail_needs_read_access_to_its_zaak() {
    let w = world(|zt1, zt2, _| {
        json!([applicatie(
            APP_A,
            "App A",
            vec![
                zrc(
                    zt1,
                    "openbaar",
                    &["zaken.lezen", "zaken.bijwerken", "audittrails.lezen"]
                ),
                zrc(zt2, "openbaar", &["audittrails.lezen"]),
            ]
        )])
    })
    .await;
    let t = token_a();
    let mine = zaak(&w, &w.zt1, va("openbaar"));
    let theirs = zaak(&w, &w.zt2, va("openbaar"));
    w.h.patch(
        &w.h.public(&mine),
        &t,
        &json!({"omschrijving": "bijgewerkt"}),
    )
    .await
    .ok();
    let trail =
        w.h.get(&format!("{ZAKEN}/zaken/{}/audittrail", uuid_of(&mine)), &t)
            .await;
    assert_eq!(trail.status, 200, "{}", trail.text());
    w.h.get(
        &format!("{ZAKEN}/zaken/{}/audittrail", uuid_of(&theirs)),
        &t,
    )
    .await
    .problem(403, "permission_denied");
    w.h.shutdown().await;
}
