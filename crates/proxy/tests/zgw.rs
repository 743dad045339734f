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
use zgw_support::*;

/// Data made for one scenario: zaaktypen, zaken and their upstream URLs.
struct World {
    h: ZgwHarness,
    zt1: String,
    zt2: String,
    iot1: String,
}

/// sluis's own token at the fixture (superuser there), for setting up data directly.
fn upstream_token() -> String {
    zgw_token(SLUIS_CLIENT, SLUIS_SECRET, Some(("setup", "Setup")))
}

async fn upstream(h: &ZgwHarness, method: Method, url: &str, body: Option<&Value>) -> Resp {
    let t = upstream_token();
    h.send(method, url, Some(&t), body, &[]).await
}

/// Two zaaktypen of the fixture (with their default confidentiality) and an
/// informatieobjecttype.
async fn types(h: &ZgwHarness) -> (Vec<Value>, String) {
    let base = h.fixture.base_url();
    let zts = upstream(h, Method::GET, &format!("{base}{CATALOGI}/zaaktypen"), None)
        .await
        .ok();
    let iots = upstream(
        h,
        Method::GET,
        &format!("{base}{CATALOGI}/informatieobjecttypen"),
        None,
    )
    .await
    .ok();
    let iot = iots["results"][0]["url"].as_str().unwrap().to_owned();
    (zts["results"].as_array().unwrap().clone(), iot)
}

async fn world(applicaties: impl FnOnce(&str, &str, &str) -> Value) -> World {
    world_with(applicaties, None).await
}

async fn world_with(
    applicaties: impl FnOnce(&str, &str, &str) -> Value,
    rules: Option<String>,
) -> World {
    let h = ZgwHarness::start(ZgwOpts {
        rules,
        ..ZgwOpts::default()
    })
    .await;
    let (zts, iot) = types(&h).await;
    let zt1 = zts[0]["url"].as_str().unwrap().to_owned();
    let zt2 = zts[1]["url"].as_str().unwrap().to_owned();
    h.set_applicaties(&applicaties(&zt1, &zt2, &iot)).await;
    World {
        zt1,
        zt2,
        iot1: iot,
        h,
    }
}

/// Creates a zaak directly at the fixture; returns its upstream URL.
async fn zaak(w: &World, zaaktype: &str, va: &str) -> String {
    let body = json!({
        "bronorganisatie": "002220647", "verantwoordelijkeOrganisatie": "002220647",
        "zaaktype": zaaktype, "vertrouwelijkheidaanduiding": va,
        "startdatum": "2026-11-01", "omschrijving": "scenario",
    });
    let r = upstream(
        &w.h,
        Method::POST,
        &format!("{}{ZAKEN}/zaken", w.h.fixture.base_url()),
        Some(&body),
    )
    .await;
    r.status(201);
    r.json()["url"].as_str().unwrap().to_owned()
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

#[tokio::test]
async fn d1_d2_d3_tokens_are_checked_and_answered_401() {
    let w = world(d4).await;
    // D1: no token.
    w.h.send(Method::GET, &format!("{ZAKEN}/zaken"), None, None, &[])
        .await
        .problem(401, "notAuthenticated");
    // D2: wrong secret, unknown client, no client_id, no iat.
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
            applicatie(
                APP_A,
                "App A",
                vec![zrc(zt1, "openbaar", &["zaken.lezen"]),]
            ),
            applicatie(
                APP_B,
                "App B",
                vec![
                    zrc(zt1, "openbaar", &["zaken.lezen"]),
                    zrc(zt2, "geheim", &["zaken.lezen"]),
                ]
            )
        ])
    })
    .await;
    // Only the scenario's zaken count: filter on a fresh bronorganisatie? The fixture's own
    // zaken of ZT1/ZT2 are there too, so compare against the fixture's truth.
    let a = zaak(&w, &w.zt1, "openbaar").await;
    let b = zaak(&w, &w.zt2, "openbaar").await;
    let c = zaak(&w, &w.zt1, "zeer_geheim").await;
    let d = zaak(&w, &w.zt2, "geheim").await;
    let e = zaak(&w, &w.zt2, "zeer_geheim").await;
    // D4: app-a sees (ZT1, openbaar) only.
    let all = collect(&w, &format!("{ZAKEN}/zaken"), &token_a()).await;
    assert!(all.contains(&w.h.public(&a)));
    for x in [&b, &c, &d, &e] {
        assert!(!all.contains(&w.h.public(x)), "{x} leaked");
    }
    let truth = truth(&w, &[(&w.zt1, "openbaar")]).await;
    assert_eq!(all.len(), truth, "count must be the authorized total");
    // D5: app-b also sees ZT2 up to geheim.
    let tb = zgw_token(APP_B, SECRET_B, None);
    let all_b = collect(&w, &format!("{ZAKEN}/zaken"), &tb).await;
    for x in [&a, &b, &d] {
        assert!(all_b.contains(&w.h.public(x)), "{x} missing");
    }
    for x in [&c, &e] {
        assert!(!all_b.contains(&w.h.public(x)), "{x} leaked");
    }
    let truth_b = truth(&w, &[(&w.zt1, "openbaar"), (&w.zt2, "geheim")]).await;
    assert_eq!(all_b.len(), truth_b);
    w.h.shutdown().await;
}

/// Every zaak URL of a list, following `next` (asserting count on every page).
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
async fn truth(w: &World, pairs: &[(&String, &str)]) -> usize {
    let mut n = 0;
    for (zt, max) in pairs {
        let body = json!({"zaaktype": zt, "maximaleVertrouwelijkheidaanduiding": max});
        let r = upstream(
            &w.h,
            Method::POST,
            &format!("{}{ZAKEN}/zaken/_zoek", w.h.fixture.base_url()),
            Some(&body),
        )
        .await;
        n += r.ok()["count"].as_u64().unwrap() as usize;
    }
    n
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
    let ok = zaak(&w, &w.zt1, "openbaar").await;
    let secret = zaak(&w, &w.zt1, "zeer_geheim").await;
    let other = zaak(&w, &w.zt2, "openbaar").await;
    let t = token_a();
    let doc = w.h.get(&w.h.public(&ok), &t).await.ok();
    assert_eq!(doc["url"], json!(w.h.public(&ok)), "URLs are sluis's");
    assert!(
        doc["zaaktype"].as_str().unwrap().starts_with(&w.h.api),
        "zaaktype URL mapped: {doc}"
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

#[tokio::test]
async fn d8_create_checks_the_body_and_the_effective_confidentiality() {
    let w = world(|zt1, _, _| {
        json!([applicatie(
            APP_A,
            "App A",
            vec![zrc(zt1, "intern", &["zaken.aanmaken", "zaken.lezen"])]
        )])
    })
    .await;
    let t = token_a();
    let body = |zt: &str, va: Option<&str>| {
        let mut b = json!({
            "bronorganisatie": "002220647", "verantwoordelijkeOrganisatie": "002220647",
            "zaaktype": zt, "startdatum": "2026-11-02",
        });
        if let Some(v) = va {
            b["vertrouwelijkheidaanduiding"] = json!(v);
        }
        b
    };
    let zt1 = w.h.public(&w.zt1);
    let zt2 = w.h.public(&w.zt2);
    let r =
        w.h.post(&format!("{ZAKEN}/zaken"), &t, &body(&zt1, Some("openbaar")))
            .await;
    r.status(201);
    assert!(r.json()["url"].as_str().unwrap().starts_with(&w.h.api));
    w.h.post(&format!("{ZAKEN}/zaken"), &t, &body(&zt2, Some("openbaar")))
        .await
        .problem(403, "permission_denied");
    w.h.post(&format!("{ZAKEN}/zaken"), &t, &body(&zt1, Some("geheim")))
        .await
        .problem(403, "permission_denied");
    let missing = format!("{CATALOGI}/zaaktypen/6f2b1c3e-0000-4000-8000-000000000000");
    let r =
        w.h.post(
            &format!("{ZAKEN}/zaken"),
            &t,
            &body(&format!("{}{missing}", w.h.api), None),
        )
        .await;
    assert_eq!(r.status, 400, "{}", r.text());
    // VA omitted: the zaaktype's default decides.
    let default = w.h.get(&zt1, &zgw_token(APP_A, SECRET_A, None)).await;
    let default_va = if default.status == 200 {
        default.json()["vertrouwelijkheidaanduiding"]
            .as_str()
            .unwrap()
            .to_owned()
    } else {
        let up = upstream(&w.h, Method::GET, &w.zt1, None).await.ok();
        up["vertrouwelijkheidaanduiding"]
            .as_str()
            .unwrap()
            .to_owned()
    };
    let r =
        w.h.post(&format!("{ZAKEN}/zaken"), &t, &body(&zt1, None))
            .await;
    let rank = |v: &str| {
        [
            "openbaar",
            "beperkt_openbaar",
            "intern",
            "zaakvertrouwelijk",
            "vertrouwelijk",
            "confidentieel",
            "geheim",
            "zeer_geheim",
        ]
        .iter()
        .position(|x| *x == v)
        .unwrap()
    };
    if rank(&default_va) <= rank("intern") {
        r.status(201);
    } else {
        r.problem(403, "permission_denied");
    }
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
    let mine = zaak(&w, &w.zt1, "openbaar").await;
    let theirs = zaak(&w, &w.zt2, "openbaar").await;
    // A rol on the unauthorized zaak, made upstream.
    let roltypen = upstream(
        &w.h,
        Method::GET,
        &format!(
            "{}{CATALOGI}/roltypen?zaaktype={}",
            w.h.fixture.base_url(),
            w.zt2
        ),
        None,
    )
    .await
    .ok();
    let roltype = roltypen["results"][0]["url"].as_str().unwrap().to_owned();
    let rol = upstream(
        &w.h,
        Method::POST,
        &format!("{}{ZAKEN}/rollen", w.h.fixture.base_url()),
        Some(
            &json!({"zaak": theirs, "betrokkeneType": "medewerker", "roltype": roltype,
            "roltoelichting": "x", "betrokkeneIdentificatie": {"identificatie": "mdw-900"}}),
        ),
    )
    .await;
    rol.status(201);
    let rol_url = rol.json()["url"].as_str().unwrap().to_owned();
    // D9: rollen of an unauthorized zaak: empty page; its rol: 403.
    let doc =
        w.h.get(&format!("{ZAKEN}/rollen?zaak={}", w.h.public(&theirs)), &t)
            .await
            .ok();
    assert_eq!(doc["count"], json!(0), "{doc}");
    w.h.get(&w.h.public(&rol_url), &t)
        .await
        .problem(403, "permission_denied");
    w.h.get(
        &format!("{ZAKEN}/zaken/{}/zaakeigenschappen", uuid_of(&theirs)),
        &t,
    )
    .await
    .problem(403, "permission_denied");
    // D10: creating a status needs a zaak that resolves and is authorized.
    let st = |zaak: Option<String>| {
        let mut b = json!({"statustype": "http://x.invalid/st", "datumStatusGezet": "2026-11-02T10:00:00Z"});
        if let Some(z) = zaak {
            b["zaak"] = json!(z);
        }
        b
    };
    let r = w.h.post(&format!("{ZAKEN}/statussen"), &t, &st(None)).await;
    let doc = r.problem(400, "invalid");
    assert_eq!(doc["invalidParams"][0]["name"], json!("zaak"));
    assert_eq!(doc["invalidParams"][0]["code"], json!("required"));
    let r =
        w.h.post(
            &format!("{ZAKEN}/statussen"),
            &t,
            &st(Some(format!(
                "{}{ZAKEN}/zaken/6f2b1c3e-0000-4000-8000-000000000000",
                w.h.api
            ))),
        )
        .await;
    assert_eq!(
        r.problem(400, "invalid")["invalidParams"][0]["code"],
        json!("object-does-not-exist")
    );
    let r =
        w.h.post(
            &format!("{ZAKEN}/statussen"),
            &t,
            &st(Some(w.h.public(&rol_url))),
        )
        .await;
    assert_eq!(
        r.problem(400, "invalid")["invalidParams"][0]["code"],
        json!("incorrect_match")
    );
    w.h.post(
        &format!("{ZAKEN}/statussen"),
        &t,
        &st(Some(w.h.public(&theirs))),
    )
    .await
    .problem(403, "permission_denied");
    let _ = mine;
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
    let secret = zaak(&w, &w.zt2, "zeer_geheim").await;
    let tb = zgw_token(APP_B, SECRET_B, None);
    w.h.get(&w.h.public(&secret), &tb).await.ok();
    // D15: _zoek with both zaaktypen only returns what app-a may see.
    let body = json!({"zaaktype__in": [w.h.public(&w.zt1), w.h.public(&w.zt2)]});
    let r =
        w.h.post(&format!("{ZAKEN}/zaken/_zoek"), &token_a(), &body)
            .await;
    let doc = r.ok();
    for z in doc["results"].as_array().unwrap() {
        assert_eq!(z["zaaktype"], json!(w.h.public(&w.zt1)), "{z}");
        assert_eq!(z["vertrouwelijkheidaanduiding"], json!("openbaar"));
    }
    assert_eq!(
        doc["count"].as_u64().unwrap() as usize,
        truth(&w, &[(&w.zt1, "openbaar")]).await
    );
    w.h.shutdown().await;
}

#[tokio::test]
async fn d19_reads_and_denials_are_recorded_with_client_user_and_case() {
    let w = world(d4).await;
    let ok = zaak(&w, &w.zt1, "openbaar").await;
    let secret = zaak(&w, &w.zt1, "zeer_geheim").await;
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
    assert_eq!(denied["operation"], json!("zaak_read"));
    let listed = access
        .iter()
        .find(|a| a["operation"] == json!("zaak_list"))
        .expect("the list is recorded");
    assert_eq!(listed["status"], json!(200));
    assert!(listed["records"].as_u64().unwrap() >= 1);
    w.h.shutdown().await;
}

#[tokio::test]
async fn d20_the_audit_trail_needs_read_access_to_its_zaak() {
    let w = world(|zt1, _, _| {
        json!([applicatie(
            APP_A,
            "App A",
            vec![
                zrc(zt1, "openbaar", &["zaken.lezen", "zaken.bijwerken"]),
                json!({"component": "zrc", "scopes": ["audittrails.lezen"]}),
            ]
        )])
    })
    .await;
    let t = token_a();
    let mine = zaak(&w, &w.zt1, "openbaar").await;
    let theirs = zaak(&w, &w.zt2, "openbaar").await;
    // A write so the trail has an entry.
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
