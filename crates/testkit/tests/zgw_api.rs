//! The ZGW fixture over real HTTP: pagination, filters, `_zoek`, expand, authentication, CRS
//! headers and the Open Zaak behaviour of reads.

#![cfg(test)]

mod common;
mod zgw_support;

use serde_json::json;
use sluis_testkit::zgw::{Betrokkene, Va, ZaaktypeSpec, mint_token};
use zgw_support::{ZgwResp, fixture, get, post};

#[tokio::test]
async fn pagination_counts_links_and_the_page_beyond() {
    let fx = fixture().await;
    let url = format!("{}/zaken", fx.zaken_url());
    let first = get(&fx, &url).send().await;
    assert_eq!(first.status, 200);
    let body = first.json();
    assert_eq!(body["count"], 250);
    assert_eq!(body["results"].as_array().unwrap().len(), 100);
    assert_eq!(body["previous"], serde_json::Value::Null);
    assert_eq!(body["next"], format!("{url}?page=2"));
    assert_eq!(body["results"][0]["_expand"], json!({}));

    let third = get(&fx, &format!("{url}?page=3")).send().await.json();
    assert_eq!(third["results"].as_array().unwrap().len(), 50);
    assert_eq!(third["next"], serde_json::Value::Null);
    assert_eq!(third["previous"], format!("{url}?page=2"));
    // Page 2's previous link drops `page`, other parameters come sorted (DRF).
    let second = get(&fx, &format!("{url}?page=2&identificatie=x"))
        .send()
        .await;
    assert_eq!(second.status, 404, "only page 1 exists for an empty result");
    let second = get(&fx, &format!("{url}?page=2&bronorganisatie=002220647"))
        .send()
        .await
        .json();
    assert_eq!(
        second["previous"],
        format!("{url}?bronorganisatie=002220647")
    );
    assert_eq!(
        second["next"],
        format!("{url}?bronorganisatie=002220647&page=3")
    );

    let beyond = get(&fx, &format!("{url}?page=4")).send().await;
    assert_eq!(beyond.status, 404);
    assert_eq!(
        beyond.header("content-type"),
        Some("application/problem+json")
    );
    let p = beyond.json();
    assert_eq!(p["code"], "not_found");
    assert_eq!(p["detail"], "Ongeldige pagina.");
    assert!(p["instance"].as_str().unwrap().starts_with("urn:uuid:"));

    let sized = get(&fx, &format!("{url}?pageSize=30")).send().await.json();
    assert_eq!(sized["results"].as_array().unwrap().len(), 30);
    fx.shutdown().await.unwrap();
}

#[tokio::test]
async fn urls_follow_the_host_header() {
    let fx = fixture().await;
    let resp = get(&fx, &format!("{}/zaken?pageSize=1", fx.zaken_url()))
        .header("host", "zgw.upstream.test:8443")
        .send()
        .await
        .json();
    let zaak = &resp["results"][0];
    assert!(
        zaak["url"]
            .as_str()
            .unwrap()
            .starts_with("http://zgw.upstream.test:8443/zaken/api/v1/zaken/")
    );
    assert!(
        zaak["zaaktype"]
            .as_str()
            .unwrap()
            .starts_with("http://zgw.upstream.test:8443/catalogi/api/v1/zaaktypen/")
    );
    assert!(
        resp["next"]
            .as_str()
            .unwrap()
            .starts_with("http://zgw.upstream.test:8443/")
    );
    fx.shutdown().await.unwrap();
}

#[tokio::test]
async fn every_request_needs_a_valid_jwt() {
    let fx = fixture().await;
    let url = format!("{}/zaken", fx.zaken_url());
    let none = get(&fx, &url).token(None).send().await;
    assert_eq!(none.status, 403);
    assert_eq!(none.json()["code"], "permission_denied");
    let bad = get(&fx, &url)
        .token(Some(mint_token("sluis", "fout")))
        .send()
        .await;
    assert_eq!(bad.json()["code"], "invalid-jwt-signature");
    let unknown = get(&fx, &url)
        .token(Some(mint_token("wie", "x")))
        .send()
        .await;
    assert_eq!(unknown.json()["code"], "invalid-client-identifier");
    // A client with a registered secret is accepted.
    fx.set_secret("app-a", "S");
    let ok = get(&fx, &url)
        .token(Some(mint_token("app-a", "S")))
        .send()
        .await;
    assert_eq!(ok.status, 200);
    let cat = get(&fx, &format!("{}/zaaktypen", fx.catalogi_url()))
        .token(None)
        .send()
        .await;
    assert_eq!(cat.status, 403);
    fx.shutdown().await.unwrap();
}

#[tokio::test]
async fn zaken_need_accept_crs_and_echo_content_crs() {
    let fx = fixture().await;
    let url = format!("{}/zaken", fx.zaken_url());
    let missing = get(&fx, &url).without("accept-crs").send().await;
    assert_eq!(missing.status, 412);
    assert_eq!(missing.json()["code"], "precondition_failed");
    let ok = get(&fx, &url).send().await;
    assert_eq!(ok.header("content-crs"), Some("EPSG:4326"));
    let post_missing = post(&fx, &url, json!({}))
        .without("content-crs")
        .send()
        .await;
    assert_eq!(post_missing.status, 412);
    // Nested resources do not need it.
    let rollen = get(&fx, &format!("{}/rollen", fx.zaken_url()))
        .without("accept-crs")
        .send()
        .await;
    assert_eq!(rollen.status, 200);
    assert_eq!(rollen.header("content-crs"), None);
    fx.shutdown().await.unwrap();
}

#[tokio::test]
async fn unknown_query_parameters_are_refused() {
    let fx = fixture().await;
    let resp = get(&fx, &format!("{}/zaken?zaaktypee=x", fx.zaken_url()))
        .send()
        .await;
    assert_eq!(resp.status, 400);
    assert_eq!(
        resp.invalid(),
        vec![("nonFieldErrors".to_owned(), "unknown-parameters".to_owned())]
    );
    fx.shutdown().await.unwrap();
}

#[tokio::test]
async fn zoek_filters_by_zaaktype_set_and_max_va() {
    let fx = fixture().await;
    let types = fx.zaaktype_urls();
    let chosen = vec![types[0].clone(), types[3].clone()];
    let expected = fx.zaken_where(|z| chosen.contains(&z.zaaktype) && z.va <= Va::Intern);
    assert!(!expected.is_empty());
    let resp = post(
        &fx,
        &format!("{}/zaken/_zoek", fx.zaken_url()),
        json!({"zaaktype__in": chosen, "maximaleVertrouwelijkheidaanduiding": "intern"}),
    )
    .send()
    .await;
    assert_eq!(resp.status, 200);
    let body = resp.json();
    assert_eq!(body["count"], expected.len());
    let urls: Vec<&str> = body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| z["url"].as_str().unwrap())
        .collect();
    let want: Vec<&str> = expected.iter().map(|z| z.url.as_str()).collect();
    assert_eq!(urls, want);

    let empty = post(&fx, &format!("{}/zaken/_zoek", fx.zaken_url()), json!({}))
        .send()
        .await;
    assert_eq!(empty.invalid()[0].1, "empty_search_body");

    // The list's single-zaaktype filter agrees.
    let list = get(
        &fx,
        &format!(
            "{}/zaken?zaaktype={}&maximaleVertrouwelijkheidaanduiding=intern",
            fx.zaken_url(),
            types[0]
        ),
    )
    .send()
    .await
    .json();
    let n = fx
        .zaken_where(|z| z.zaaktype == types[0] && z.va <= Va::Intern)
        .len();
    assert_eq!(list["count"], n);
    fx.shutdown().await.unwrap();
}

#[tokio::test]
async fn rol_filters_on_zaken_and_rollen() {
    let fx = fixture().await;
    let z = &fx.zaken_where(|z| !z.bsns.is_empty())[0];
    let bsn = z.bsns[0].clone();
    assert!(sluis_testkit::bsn_is_valid(&bsn));
    let expected = fx.zaken_where(|x| x.bsns.contains(&bsn)).len();
    let resp = get(
        &fx,
        &format!(
            "{}/zaken?rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn={bsn}",
            fx.zaken_url()
        ),
    )
    .send()
    .await
    .json();
    assert_eq!(resp["count"], expected);

    let mdw = "mdw-007";
    let expected = fx
        .zaken_where(|x| x.medewerkers.iter().any(|m| m == mdw))
        .len();
    let resp = get(
        &fx,
        &format!(
            "{}/zaken?rol__betrokkeneIdentificatie__medewerker__identificatie={mdw}&rol__omschrijvingGeneriek=behandelaar",
            fx.zaken_url()
        ),
    )
    .send()
    .await
    .json();
    assert_eq!(resp["count"], expected);

    let rollen = get(
        &fx,
        &format!(
            "{}/rollen?betrokkeneIdentificatie__medewerker__identificatie={mdw}",
            fx.zaken_url()
        ),
    )
    .send()
    .await
    .json();
    let n: usize = fx
        .zaken_where(|_| true)
        .iter()
        .map(|x| x.medewerkers.iter().filter(|m| *m == mdw).count())
        .sum();
    assert_eq!(rollen["count"], n);
    for r in rollen["results"].as_array().unwrap() {
        assert_eq!(r["betrokkeneType"], "medewerker");
        assert_eq!(r["omschrijvingGeneriek"], "behandelaar");
    }

    let by_zaak = get(
        &fx,
        &format!(
            "{}/rollen?zaak={}&omschrijvingGeneriek=initiator",
            fx.zaken_url(),
            z.url
        ),
    )
    .send()
    .await
    .json();
    assert_eq!(by_zaak["count"], 1);
    assert_eq!(
        by_zaak["results"][0]["betrokkeneIdentificatie"]["inpBsn"],
        bsn.as_str()
    );
    // A zaak URL of another host matches nothing; a non-URL is a 400.
    let foreign = z.url.replace("127.0.0.1", "localhost");
    let other = get(&fx, &format!("{}/rollen?zaak={foreign}", fx.zaken_url()))
        .send()
        .await
        .json();
    assert_eq!(other["count"], 0);
    let bad = get(&fx, &format!("{}/rollen?zaak=zaak-1", fx.zaken_url()))
        .send()
        .await;
    assert_eq!(bad.status, 400);
    fx.shutdown().await.unwrap();
}

#[tokio::test]
async fn detail_expand_inlines_related_objects() {
    let fx = fixture().await;
    let z = &fx.zaken_where(|z| z.statussen > 0 && z.documenten > 0)[0];
    let resp = get(
        &fx,
        &format!(
            "{}?expand=rollen,status,status.statustype,zaakinformatieobjecten,zaaktype",
            z.url
        ),
    )
    .send()
    .await;
    assert_eq!(resp.status, 200);
    let body = resp.json();
    let e = &body["_expand"];
    assert_eq!(
        e["rollen"].as_array().unwrap().len(),
        body["rollen"].as_array().unwrap().len()
    );
    assert_eq!(e["status"]["url"], body["status"]);
    assert_eq!(
        e["status"]["_expand"]["statustype"]["url"],
        e["status"]["statustype"]
    );
    assert_eq!(e["zaaktype"]["url"], body["zaaktype"]);
    assert_eq!(
        e["zaakinformatieobjecten"][0]["url"],
        body["zaakinformatieobjecten"][0]
    );
    let bad = get(
        &fx,
        &format!("{}?expand=zaakinformatieobjecten.informatieobject", z.url),
    )
    .send()
    .await;
    assert_eq!(bad.status, 400);
    assert_eq!(
        bad.invalid()[0],
        ("expand".to_owned(), "invalid_choice".to_owned())
    );
    let missing = get(
        &fx,
        &format!(
            "{}/zaken/6b1a8d4c-0000-4000-8000-000000000000",
            fx.zaken_url()
        ),
    )
    .send()
    .await;
    assert_eq!(missing.status, 404);
    fx.shutdown().await.unwrap();
}

#[tokio::test]
async fn handle_builds_scenarios() {
    let fx = fixture().await;
    let zt1 = fx.add_zaaktype(ZaaktypeSpec::default());
    let zt2 = fx.add_zaaktype(ZaaktypeSpec::default());
    let (_, a) = fx.add_zaak(&zt1, Va::Openbaar, false).unwrap();
    fx.add_zaak(&zt2, Va::Openbaar, false).unwrap();
    fx.add_zaak(&zt1, Va::ZeerGeheim, false).unwrap();
    let (_, closed) = fx.add_zaak(&zt2, Va::ZeerGeheim, true).unwrap();
    fx.add_rol(
        &a,
        "initiator",
        Betrokkene::NatuurlijkPersoon {
            bsn: "999993653".into(),
            geslachtsnaam: "Moulin".into(),
        },
    )
    .unwrap();
    let info = fx.zaak(&closed).unwrap();
    assert!(info.einddatum.is_some());
    assert!(info.archiefnominatie.is_some());
    let list = get(&fx, &format!("{}/zaken?zaaktype={zt1}", fx.zaken_url()))
        .send()
        .await
        .json();
    assert_eq!(list["count"], 2);
    let rol = get(
        &fx,
        &format!(
            "{}/zaken?rol__betrokkeneIdentificatie__natuurlijkPersoon__inpBsn=999993653",
            fx.zaken_url()
        ),
    )
    .send()
    .await
    .json();
    assert_eq!(rol["count"], 1);
    assert_eq!(rol["results"][0]["url"], a.as_str());
    // Recorded requests carry Host and Authorization.
    let last = fx.last_request().unwrap();
    assert_eq!(last.header("host"), Some(fx.addr().to_string().as_str()));
    assert!(last.header("authorization").unwrap().starts_with("Bearer "));
    fx.shutdown().await.unwrap();
}

#[tokio::test]
async fn faults_apply_before_authentication() {
    let fx = fixture().await;
    fx.faults().set_status(Some(503));
    let r = get(&fx, &format!("{}/zaken", fx.zaken_url()))
        .token(None)
        .send()
        .await;
    assert_eq!(r.status, 503);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    fx.faults().reset();
    let r = get(&fx, &format!("{}/zaken", fx.zaken_url())).send().await;
    assert_eq!(r.status, 200);
    assert_eq!(fx.faults().requests(), 2);
    fx.shutdown().await.unwrap();
}

#[tokio::test]
async fn expand_of_documents_only_when_configured() {
    let fx = sluis_testkit::zgw::ZgwFixture::start(sluis_testkit::zgw::ZgwFixtureConfig {
        expand_informatieobject: true,
        ..zgw_support::small()
    })
    .await
    .unwrap();
    let z = &fx.zaken_where(|z| z.documenten > 0)[0];
    let r = get(
        &fx,
        &format!("{}?expand=zaakinformatieobjecten.informatieobject", z.url),
    )
    .send()
    .await
    .json();
    let zio = &r["_expand"]["zaakinformatieobjecten"][0];
    assert_eq!(
        zio["_expand"]["informatieobject"]["url"],
        zio["informatieobject"]
    );
    fx.shutdown().await.unwrap();
}

#[tokio::test]
async fn zoek_refuses_zaaktypen_of_unknown_services() {
    let fx = fixture().await;
    let r = post(
        &fx,
        &format!("{}/zaken/_zoek", fx.zaken_url()),
        json!({"zaaktype__in": ["https://ztc.elders.test/catalogi/api/v1/zaaktypen/1"]}),
    )
    .send()
    .await;
    assert_eq!(
        r.invalid(),
        vec![("zaaktype__in.0".to_owned(), "unknown-service".to_owned())]
    );
    fx.shutdown().await.unwrap();
}

#[tokio::test]
async fn zoek_within_a_polygon() {
    let fx = fixture().await;
    // The generated points lie in 4.85..4.95 E, 52.33..52.40 N; take the western half.
    let polygon = json!({"type": "Polygon", "coordinates": [[
        [4.80, 52.30], [4.90, 52.30], [4.90, 52.45], [4.80, 52.45], [4.80, 52.30]
    ]]});
    let r = post(
        &fx,
        &format!("{}/zaken/_zoek?pageSize=500", fx.zaken_url()),
        json!({"zaakgeometrie": {"within": polygon}}),
    )
    .send()
    .await
    .json();
    let count = r["count"].as_u64().unwrap();
    assert!(count > 0 && count < 250, "{count}");
    for z in r["results"].as_array().unwrap() {
        let lon = z["zaakgeometrie"]["coordinates"][0].as_f64().unwrap();
        assert!(lon < 4.90);
    }
    fx.shutdown().await.unwrap();
}
