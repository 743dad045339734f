//! The ZGW fixture's writes over real HTTP: main-object validation, VA defaulting,
//! closing and reopening, the audit trail, documents, the Autorisaties API, the register
//! endpoint and notifications.

#![cfg(test)]

mod common;
mod zgw_support;

use std::time::Duration;

use hyper::Method;
use serde_json::{Value, json};
use sluis_testkit::zgw::{
    Betrokkene, Va, ZaaktypeSpec, ZgwData, ZgwFixture, ZgwFixtureConfig, ZgwNotify, mint_token,
};
use zgw_support::{ZgwResp, call, fixture, get, post, small};

fn zaak_body(zaaktype: &str) -> Value {
    json!({
        "bronorganisatie": "002220647",
        "verantwoordelijkeOrganisatie": "002220647",
        "startdatum": "2024-03-01",
        "zaaktype": zaaktype,
        "omschrijving": "Nieuwe zaak",
    })
}

#[tokio::test]
async fn nested_create_validates_the_main_object() {
    let fx = fixture().await;
    let zt = fx.add_zaaktype(ZaaktypeSpec::default());
    let (_, zaak) = fx.add_zaak(&zt, Va::Openbaar, false).unwrap();
    let st = fx.statustype_urls(&zt).unwrap()[0].clone();
    let url = format!("{}/statussen", fx.zaken_url());
    let body = |zaak: Option<&str>| {
        let mut b = json!({"statustype": st, "datumStatusGezet": "2024-03-02T10:00:00Z"});
        if let Some(z) = zaak {
            b["zaak"] = json!(z);
        }
        b
    };
    let missing = post(&fx, &url, body(None)).send().await;
    assert_eq!(missing.status, 400);
    assert_eq!(missing.invalid(), vec![("zaak".into(), "required".into())]);
    let p = missing.json();
    assert_eq!(p["code"], "invalid");
    assert!(
        p["type"]
            .as_str()
            .unwrap()
            .ends_with("/ref/fouten/ValidationError/")
    );
    for bad in [
        "http://example.com".to_owned(),
        format!(
            "{}/zaken/6b1a8d4c-0000-4000-8000-000000000000",
            fx.zaken_url()
        ),
        "geen-url".to_owned(),
    ] {
        let r = post(&fx, &url, body(Some(&bad))).send().await;
        assert_eq!(
            r.invalid(),
            vec![("zaak".into(), "object-does-not-exist".into())],
            "{bad}"
        );
    }
    let wrong = post(&fx, &url, body(Some(&zt))).send().await;
    assert_eq!(
        wrong.invalid(),
        vec![("zaak".into(), "incorrect_match".into())]
    );
    let ok = post(&fx, &url, body(Some(&zaak))).send().await;
    assert_eq!(ok.status, 201);
    assert_eq!(ok.json()["indicatieLaatstGezetteStatus"], true);
    // A statustype of another zaaktype.
    let other = fx.statustype_urls(&fx.zaaktype_urls()[0]).unwrap()[0].clone();
    let r = post(
        &fx,
        &url,
        json!({"zaak": zaak, "statustype": other, "datumStatusGezet": "2024-03-03T10:00:00Z"}),
    )
    .send()
    .await;
    assert_eq!(r.invalid()[0].1, "zaaktype-mismatch");
    fx.shutdown().await.unwrap();
}

#[tokio::test]
async fn zaak_create_defaults_va_from_the_zaaktype_and_checks_the_zaaktype() {
    let fx = fixture().await;
    let zt = fx.add_zaaktype(ZaaktypeSpec {
        default_va: Va::Geheim,
        ..ZaaktypeSpec::default()
    });
    let url = format!("{}/zaken", fx.zaken_url());
    let r = post(&fx, &url, zaak_body(&zt)).send().await;
    assert_eq!(r.status, 201);
    assert_eq!(r.header("content-crs"), Some("EPSG:4326"));
    let z = r.json();
    assert_eq!(z["vertrouwelijkheidaanduiding"], "geheim");
    assert!(z["identificatie"].as_str().unwrap().starts_with("ZAAK-"));
    assert_eq!(z["_expand"], json!({}));
    let mut explicit = zaak_body(&zt);
    explicit["vertrouwelijkheidaanduiding"] = json!("openbaar");
    let r = post(&fx, &url, explicit).send().await.json();
    assert_eq!(r["vertrouwelijkheidaanduiding"], "openbaar");

    let gone = format!(
        "{}/zaaktypen/6b1a8d4c-0000-4000-8000-000000000000",
        fx.catalogi_url()
    );
    let r = post(&fx, &url, zaak_body(&gone)).send().await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.invalid(),
        vec![("zaaktype".into(), "invalid-resource".into())]
    );
    let r = post(&fx, &url, zaak_body("https://ztc.elders.test/zaaktypen/1"))
        .send()
        .await;
    assert_eq!(r.invalid(), vec![("zaaktype".into(), "bad-url".into())]);
    let r = post(&fx, &url, json!({"omschrijving": "x"})).send().await;
    let mut names: Vec<String> = r.invalid().into_iter().map(|(n, _)| n).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "bronorganisatie",
            "startdatum",
            "verantwoordelijkeOrganisatie",
            "zaaktype"
        ]
    );
    let concept = fx.add_zaaktype(ZaaktypeSpec {
        concept: true,
        ..ZaaktypeSpec::default()
    });
    let r = post(&fx, &url, zaak_body(&concept)).send().await;
    assert_eq!(r.invalid()[0].1, "not-published");
    fx.shutdown().await.unwrap();
}

#[tokio::test]
async fn eindstatus_closes_and_a_later_status_reopens() {
    let fx = fixture().await;
    let zt = fx.add_zaaktype(ZaaktypeSpec::default());
    let (_, zaak) = fx.add_zaak(&zt, Va::Openbaar, false).unwrap();
    let st = fx.statustype_urls(&zt).unwrap();
    let statussen = format!("{}/statussen", fx.zaken_url());
    let eind =
        json!({"zaak": zaak, "statustype": st[2], "datumStatusGezet": "2024-05-01T12:00:00Z"});
    // OZ needs a resultaat before the eindstatus.
    let r = post(&fx, &statussen, eind.clone()).send().await;
    assert_eq!(r.invalid()[0].1, "resultaat-does-not-exist");
    let catalog = get(
        &fx,
        &format!("{}/resultaattypen?zaaktype={zt}", fx.catalogi_url()),
    )
    .send()
    .await
    .json();
    let rt = catalog["results"][0]["url"].as_str().unwrap().to_owned();
    let r = post(
        &fx,
        &format!("{}/resultaten", fx.zaken_url()),
        json!({"zaak": zaak, "resultaattype": rt}),
    )
    .send()
    .await;
    assert_eq!(r.status, 201);
    assert_eq!(post(&fx, &statussen, eind).send().await.status, 201);
    let z = get(&fx, &zaak).send().await.json();
    assert_eq!(z["einddatum"], "2024-05-01");
    assert!(z["archiefnominatie"].is_string());
    assert!(z["archiefactiedatum"].is_string());
    let types = get(
        &fx,
        &format!("{}/statustypen?zaaktype={zt}", fx.catalogi_url()),
    )
    .send()
    .await
    .json();
    let finals: Vec<bool> = types["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["isEindstatus"].as_bool().unwrap())
        .collect();
    assert_eq!(finals, [false, false, true]);

    let reopen =
        json!({"zaak": zaak, "statustype": st[1], "datumStatusGezet": "2024-05-02T12:00:00Z"});
    assert_eq!(post(&fx, &statussen, reopen).send().await.status, 201);
    let z = get(&fx, &zaak).send().await.json();
    assert_eq!(z["einddatum"], Value::Null);
    assert_eq!(z["archiefnominatie"], Value::Null);
    assert_eq!(z["archiefactiedatum"], Value::Null);
    // The handle's view agrees.
    assert_eq!(fx.zaak(&zaak).unwrap().einddatum, None);
    fx.shutdown().await.unwrap();
}

#[tokio::test]
async fn writes_leave_an_audit_trail_that_goes_with_the_zaak() {
    let fx = fixture().await;
    let zt = fx.add_zaaktype(ZaaktypeSpec::default());
    let (_, zaak) = fx.add_zaak(&zt, Va::Openbaar, false).unwrap();
    let trail = format!("{zaak}/audittrail");
    assert_eq!(get(&fx, &trail).send().await.status, 404, "no writes yet");

    let r = call(&fx, Method::PATCH, &zaak)
        .json(json!({"omschrijving": "Gecorrigeerd"}))
        .header("x-audit-toelichting", "correctie")
        .send()
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["omschrijving"], "Gecorrigeerd");
    fx.add_rol(
        &zaak,
        "behandelaar",
        Betrokkene::Medewerker {
            identificatie: "mdw-001".into(),
            achternaam: "Jansen".into(),
        },
    )
    .unwrap();
    let rollen = get(&fx, &format!("{}/rollen?zaak={zaak}", fx.zaken_url()))
        .send()
        .await
        .json();
    let rol = rollen["results"][0]["url"].as_str().unwrap().to_owned();
    assert_eq!(call(&fx, Method::DELETE, &rol).send().await.status, 204);

    let records = get(&fx, &trail).send().await.json();
    let records = records.as_array().unwrap();
    assert_eq!(records.len(), 2);
    let patch = &records[0];
    assert_eq!(patch["bron"], "zrc");
    assert_eq!(patch["actie"], "partial_update");
    assert_eq!(patch["resultaat"], 200);
    assert_eq!(patch["hoofdObject"], zaak.as_str());
    assert_eq!(patch["resourceUrl"], zaak.as_str());
    assert_eq!(patch["resource"], "zaak");
    assert_eq!(patch["applicatieWeergave"], "sluis");
    assert_eq!(patch["toelichting"], "correctie");
    assert_eq!(patch["wijzigingen"]["oud"]["omschrijving"], "Testzaaktype");
    assert_eq!(
        patch["wijzigingen"]["nieuw"]["omschrijving"],
        "Gecorrigeerd"
    );
    assert_eq!(records[1]["actie"], "destroy");
    assert_eq!(records[1]["resource"], "rol");
    assert_eq!(records[1]["wijzigingen"]["nieuw"], Value::Null);
    let one = get(&fx, &format!("{trail}/{}", patch["uuid"].as_str().unwrap()))
        .send()
        .await;
    assert_eq!(one.json()["actie"], "partial_update");

    // Deleting the zaak deletes its nested objects and its trail.
    fx.add_rol(
        &zaak,
        "initiator",
        Betrokkene::NatuurlijkPersoon {
            bsn: "999993653".into(),
            geslachtsnaam: "Moulin".into(),
        },
    )
    .unwrap();
    assert_eq!(call(&fx, Method::DELETE, &zaak).send().await.status, 204);
    assert_eq!(get(&fx, &zaak).send().await.status, 404);
    assert_eq!(get(&fx, &trail).send().await.status, 404);
    let left = get(
        &fx,
        &format!(
            "{}/rollen?betrokkeneIdentificatie__natuurlijkPersoon__inpBsn=999993653",
            fx.zaken_url()
        ),
    )
    .send()
    .await
    .json();
    assert_eq!(left["count"], 0);
    assert!(fx.audit_trail(&zaak).is_empty());
    fx.shutdown().await.unwrap();
}

#[tokio::test]
async fn documents_download_lock_and_default_va() {
    let config = ZgwFixtureConfig {
        download_bytes: 3 * 1024 * 1024 + 17,
        ..small()
    };
    let fx = ZgwFixture::start(config).await.unwrap();
    let doc = fx.document_urls()[0].clone();
    let d = get(&fx, &doc).send().await.json();
    assert_eq!(d["bestandsomvang"], 3 * 1024 * 1024 + 17);
    let download = get(&fx, d["inhoud"].as_str().unwrap()).send().await;
    assert_eq!(download.status, 200);
    assert_eq!(
        download.header("content-type"),
        Some("application/octet-stream")
    );
    assert!(
        download
            .header("content-disposition")
            .unwrap()
            .starts_with("attachment")
    );
    assert_eq!(
        download.body.as_ref(),
        fx.document_bytes(&doc).unwrap().as_slice()
    );
    assert!(download.body.starts_with(b"%PDF-"));

    let iot = fx.add_informatieobjecttype("Geheim stuk", Va::Geheim);
    let own = fx
        .add_document_with(&iot, Va::Intern, true, Some(b"hallo".to_vec()))
        .unwrap();
    let body = get(&fx, &format!("{own}/download")).send().await.body;
    assert_eq!(body.as_ref(), b"hallo");

    // drc-007: the informatieobjecttype's VA when none is sent.
    let created = post(
        &fx,
        &format!("{}/enkelvoudiginformatieobjecten", fx.documenten_url()),
        json!({
            "bronorganisatie": "002220647",
            "creatiedatum": "2024-01-01",
            "titel": "Brief",
            "auteur": "Jan",
            "taal": "dut",
            "informatieobjecttype": iot,
            "inhoud": "ZGF0YQ==",
            "bestandsnaam": "brief.txt",
        }),
    )
    .send()
    .await;
    assert_eq!(created.status, 201);
    let created = created.json();
    assert_eq!(created["vertrouwelijkheidaanduiding"], "geheim");
    assert_eq!(created["bestandsomvang"], 4);
    let url = created["url"].as_str().unwrap().to_owned();
    let patch = call(&fx, Method::PATCH, &url)
        .json(json!({"titel": "x"}))
        .send()
        .await;
    assert_eq!(patch.invalid()[0].1, "unlocked");
    let lock = post(&fx, &format!("{url}/lock"), json!({}))
        .send()
        .await
        .json();
    let lock = lock["lock"].as_str().unwrap().to_owned();
    let again = post(&fx, &format!("{url}/lock"), json!({})).send().await;
    assert_eq!(again.invalid()[0].1, "existing-lock");
    let patch = call(&fx, Method::PATCH, &url)
        .json(json!({"titel": "Nieuwe titel", "lock": lock}))
        .send()
        .await;
    assert_eq!(patch.status, 200);
    assert_eq!(patch.json()["versie"], 2);
    let wrong = post(&fx, &format!("{url}/unlock"), json!({"lock": "fout"}))
        .send()
        .await;
    assert_eq!(wrong.invalid()[0].1, "incorrect-lock-id");
    let unlock = post(&fx, &format!("{url}/unlock"), json!({"lock": lock}))
        .send()
        .await;
    assert_eq!(unlock.status, 204);
    let trail = get(&fx, &format!("{url}/audittrail")).send().await.json();
    assert_eq!(trail.as_array().unwrap().len(), 2);
    assert_eq!(trail[0]["bron"], "drc");

    let by_type = get(
        &fx,
        &format!(
            "{}/enkelvoudiginformatieobjecten?informatieobjecttype={iot}",
            fx.documenten_url()
        ),
    )
    .send()
    .await
    .json();
    assert_eq!(by_type["count"], 2);
    let zoek = post(
        &fx,
        &format!(
            "{}/enkelvoudiginformatieobjecten/_zoek",
            fx.documenten_url()
        ),
        json!({"uuid__in": [url.rsplit('/').next().unwrap()]}),
    )
    .send()
    .await
    .json();
    assert_eq!(zoek["count"], 1);
    fx.shutdown().await.unwrap();
}

#[tokio::test]
async fn zaakinformatieobjecten_and_objectinformatieobjecten() {
    let fx = fixture().await;
    let zt = fx.add_zaaktype(ZaaktypeSpec::default());
    let (_, zaak) = fx.add_zaak(&zt, Va::Openbaar, false).unwrap();
    let doc = fx.document_urls()[1].clone();
    let oio_url = format!("{}/objectinformatieobjecten", fx.documenten_url());
    let early = post(
        &fx,
        &oio_url,
        json!({"informatieobject": doc, "object": zaak, "objectType": "zaak"}),
    )
    .send()
    .await;
    assert_eq!(early.invalid()[0].1, "inconsistent-relation");
    let zio = post(
        &fx,
        &format!("{}/zaakinformatieobjecten", fx.zaken_url()),
        json!({"zaak": zaak, "informatieobject": doc}),
    )
    .send()
    .await;
    assert_eq!(zio.status, 201);
    let list = get(
        &fx,
        &format!("{}/zaakinformatieobjecten?zaak={zaak}", fx.zaken_url()),
    )
    .send()
    .await
    .json();
    assert_eq!(list.as_array().unwrap().len(), 1, "not paginated");
    let oios = get(&fx, &format!("{oio_url}?object={zaak}"))
        .send()
        .await
        .json();
    assert_eq!(oios.as_array().unwrap().len(), 1);
    assert_eq!(oios[0]["informatieobject"], doc.as_str());
    fx.shutdown().await.unwrap();
}

#[tokio::test]
async fn autorisaties_api_validates_applicaties() {
    let fx = fixture().await;
    let url = format!("{}/applicaties", fx.autorisaties_url());
    let zt = fx.zaaktype_urls()[0].clone();
    let both = post(
        &fx,
        &url,
        json!({"clientIds": ["a"], "label": "A", "heeftAlleAutorisaties": true,
               "autorisaties": [{"component": "ztc", "scopes": ["catalogi.lezen"]}]}),
    )
    .send()
    .await;
    assert_eq!(both.invalid()[0].1, "ambiguous-authorizations-specified");
    let neither = post(&fx, &url, json!({"clientIds": ["a"], "label": "A"}))
        .send()
        .await;
    assert_eq!(neither.invalid()[0].1, "missing-authorizations");
    let incomplete = post(
        &fx,
        &url,
        json!({"clientIds": ["a"], "label": "A",
               "autorisaties": [{"component": "zrc", "scopes": ["zaken.lezen"]}]}),
    )
    .send()
    .await;
    let mut inv = incomplete.invalid();
    inv.sort();
    assert_eq!(
        inv,
        vec![
            (
                "autorisaties.0.maxVertrouwelijkheidaanduiding".to_owned(),
                "required".to_owned()
            ),
            ("autorisaties.0.zaaktype".to_owned(), "required".to_owned()),
        ]
    );
    // ac-003: a zrc autorisatie without zaken scopes needs no type.
    let audit_only = post(
        &fx,
        &url,
        json!({"clientIds": ["b"], "label": "B",
               "autorisaties": [{"component": "zrc", "scopes": ["audittrails.lezen"]}]}),
    )
    .send()
    .await;
    assert_eq!(audit_only.status, 201);
    let ok = post(
        &fx,
        &url,
        json!({"clientIds": ["app-a", "app-a2"], "label": "App A",
               "autorisaties": [{"component": "zrc", "scopes": ["zaken.lezen"],
                                 "zaaktype": zt, "maxVertrouwelijkheidaanduiding": "openbaar"}]}),
    )
    .send()
    .await;
    assert_eq!(ok.status, 201);
    let app = ok.json();
    assert_eq!(
        app["autorisaties"][0]["componentWeergave"],
        "Zaakregistratiecomponent"
    );
    let dup = post(
        &fx,
        &url,
        json!({"clientIds": ["app-a"], "label": "Dubbel", "heeftAlleAutorisaties": true}),
    )
    .send()
    .await;
    assert_eq!(
        dup.invalid()[0],
        ("clientIds".to_owned(), "clientId-exists".to_owned())
    );

    let listed = get(&fx, &format!("{url}?clientIds=app-a"))
        .send()
        .await
        .json();
    assert_eq!(listed["count"], 1);
    assert_eq!(listed["results"][0]["url"], app["url"]);
    let consumer = get(&fx, &format!("{url}/consumer?clientId=app-a2"))
        .send()
        .await
        .json();
    assert_eq!(consumer["label"], "App A");
    let app_url = app["url"].as_str().unwrap().to_owned();
    let patched = call(&fx, Method::PATCH, &app_url)
        .json(json!({"label": "App A2"}))
        .send()
        .await;
    assert_eq!(patched.json()["label"], "App A2");
    assert_eq!(call(&fx, Method::DELETE, &app_url).send().await.status, 204);
    assert_eq!(get(&fx, &app_url).send().await.status, 404);
    fx.shutdown().await.unwrap();
}

#[tokio::test]
async fn register_mints_a_token_the_fixture_accepts() {
    let fx = fixture().await;
    let resp = post(
        &fx,
        &fx.register_url(),
        json!({"clientIds": ["gpt-tests"], "secret": "pst", "label": "GPT",
               "heeftAlleAutorisaties": true, "autorisaties": []}),
    )
    .token(None)
    .send()
    .await;
    assert_eq!(resp.status, 201);
    let token = resp
        .header("authorization")
        .unwrap()
        .strip_prefix("Bearer ")
        .unwrap()
        .to_owned();
    let ok = get(&fx, &format!("{}/zaken", fx.zaken_url()))
        .token(Some(token))
        .send()
        .await;
    assert_eq!(ok.status, 200);
    let listed = get(
        &fx,
        &format!("{}/applicaties?clientIds=gpt-tests", fx.autorisaties_url()),
    )
    .send()
    .await
    .json();
    assert_eq!(listed["count"], 1);
    // Registering again replaces the applicatie instead of clashing (ac-001).
    let again = post(
        &fx,
        &fx.register_url(),
        json!({"clientIds": ["gpt-tests"], "secret": "pst2", "heeftAlleAutorisaties": true}),
    )
    .token(None)
    .send()
    .await;
    assert_eq!(again.status, 201);
    let old = get(&fx, &format!("{}/zaken", fx.zaken_url()))
        .token(Some(mint_token("gpt-tests", "pst")))
        .send()
        .await;
    assert_eq!(old.json()["code"], "invalid-jwt-signature");
    fx.shutdown().await.unwrap();
}

#[tokio::test]
async fn applicatie_changes_are_notified() {
    // A webhook that records what it receives.
    let hook = sluis_testkit::DatasetFixture::start(sluis_testkit::FixtureConfig {
        containers: 1,
        clusters: 1,
        persons: 1,
        parkeervakken: 1,
        ..sluis_testkit::FixtureConfig::default()
    })
    .await
    .unwrap();
    let config = ZgwFixtureConfig {
        notify: Some(ZgwNotify {
            webhook_url: format!("{}/callback", hook.base_url()),
            authorization: "Bearer nrc-token".into(),
        }),
        ..small()
    };
    let fx = ZgwFixture::start(config).await.unwrap();
    fx.set_applicaties(json!([
        {"clientIds": ["app-a"], "label": "A", "heeftAlleAutorisaties": true}
    ]))
    .unwrap();
    let mut sent = fx.notifications();
    for _ in 0..100 {
        if sent.iter().all(|n| n.status.is_some()) && !sent.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        sent = fx.notifications();
    }
    let actions: Vec<&str> = sent
        .iter()
        .map(|n| n.body["actie"].as_str().unwrap())
        .collect();
    assert!(
        actions.contains(&"create") && actions.contains(&"destroy"),
        "{actions:?}"
    );
    let create = sent.iter().find(|n| n.body["actie"] == "create").unwrap();
    assert_eq!(create.body["kanaal"], "autorisaties");
    assert_eq!(create.body["resource"], "applicatie");
    assert_eq!(create.body["hoofdObject"], create.body["resourceUrl"]);
    assert!(create.status.is_some(), "delivered");
    let got = hook.faults().last_request().unwrap();
    assert_eq!(got.method, "POST");
    assert_eq!(got.header("authorization"), Some("Bearer nrc-token"));
    fx.shutdown().await.unwrap();
    hook.shutdown().await.unwrap();
}

#[test]
fn generating_100k_zaken_reports_its_time() {
    let config = ZgwFixtureConfig {
        zaken: 100_000,
        ..ZgwFixtureConfig::default()
    };
    let before = resident_kib();
    let data = ZgwData::generate(&config);
    assert_eq!(data.zaken(), 100_000);
    eprintln!(
        "generated 100,000 zaken in {:?} (debug builds are several times slower), \
         resident memory +{} MiB",
        data.generated_in(),
        resident_kib().saturating_sub(before) / 1024
    );
    let again = ZgwData::generate(&ZgwFixtureConfig {
        zaken: 50,
        ..ZgwFixtureConfig::default()
    });
    assert_eq!(again.zaken(), 50);
}

#[tokio::test]
async fn rollen_klantcontacten_and_zaakeigenschappen_through_the_api() {
    let fx = fixture().await;
    let zt = fx.add_zaaktype(ZaaktypeSpec::default());
    let (_, zaak) = fx.add_zaak(&zt, Va::Openbaar, false).unwrap();
    let roltypen = get(
        &fx,
        &format!("{}/roltypen?zaaktype={zt}", fx.catalogi_url()),
    )
    .send()
    .await
    .json();
    let behandelaar = roltypen["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["omschrijvingGeneriek"] == "behandelaar")
        .unwrap()["url"]
        .clone();
    let rol = post(
        &fx,
        &format!("{}/rollen", fx.zaken_url()),
        json!({"zaak": zaak, "betrokkeneType": "medewerker", "roltype": behandelaar,
               "roltoelichting": "behandelt",
               "betrokkeneIdentificatie": {"identificatie": "mdw-999"}}),
    )
    .send()
    .await;
    assert_eq!(rol.status, 201);
    let rol = rol.json();
    assert_eq!(rol["omschrijvingGeneriek"], "behandelaar");
    assert_eq!(rol["betrokkeneIdentificatie"]["identificatie"], "mdw-999");
    assert_eq!(rol["betrokkeneIdentificatie"]["achternaam"], "");
    let found = get(
        &fx,
        &format!(
            "{}/zaken?rol__betrokkeneIdentificatie__medewerker__identificatie=mdw-999",
            fx.zaken_url()
        ),
    )
    .send()
    .await
    .json();
    assert_eq!(found["count"], 1);
    let put = call(&fx, Method::PUT, rol["url"].as_str().unwrap())
        .json(json!({}))
        .send()
        .await;
    assert_eq!(put.status, 405, "rollen cannot be updated in Zaken 1.x");

    let kc = post(
        &fx,
        &format!("{}/klantcontacten", fx.zaken_url()),
        json!({"zaak": zaak, "datumtijd": "2024-02-01T09:30:00+01:00", "kanaal": "telefoon"}),
    )
    .send()
    .await;
    assert_eq!(kc.status, 201);
    assert_eq!(kc.json()["datumtijd"], "2024-02-01T08:30:00Z");

    let eigenschappen = get(
        &fx,
        &format!("{}/eigenschappen?zaaktype={zt}", fx.catalogi_url()),
    )
    .send()
    .await
    .json();
    let eigenschap = eigenschappen["results"][0]["url"].clone();
    let nested = format!("{zaak}/zaakeigenschappen");
    let ze = post(
        &fx,
        &nested,
        json!({"zaak": zaak, "eigenschap": eigenschap, "waarde": "K-1"}),
    )
    .send()
    .await;
    assert_eq!(ze.status, 201);
    let ze = ze.json();
    assert_eq!(ze["naam"], "kenmerk");
    let list = get(&fx, &nested).send().await.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    let z = get(
        &fx,
        &format!("{zaak}?expand=eigenschappen,eigenschappen.eigenschap"),
    )
    .send()
    .await
    .json();
    assert_eq!(z["_expand"]["eigenschappen"][0]["url"], ze["url"]);
    assert_eq!(
        z["_expand"]["eigenschappen"][0]["_expand"]["eigenschap"]["url"],
        eigenschap
    );
    let missing = get(
        &fx,
        &format!(
            "{}/zaken/6b1a8d4c-0000-4000-8000-000000000000/zaakeigenschappen",
            fx.zaken_url()
        ),
    )
    .send()
    .await;
    assert_eq!(missing.status, 404);
    let trail = fx.audit_trail(&zaak);
    let resources: Vec<&str> = trail
        .iter()
        .map(|r| r["resource"].as_str().unwrap())
        .collect();
    assert_eq!(resources, ["rol", "klantcontact", "zaakeigenschap"]);
    fx.shutdown().await.unwrap();
}

/// Resident set size in KiB (Linux; 0 elsewhere).
fn resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|n| n.parse().ok())
        })
        .unwrap_or(0)
}
