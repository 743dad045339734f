//! Autorisaties read live from an Autorisaties API (the fixture's), refreshed on a
//! Notificaties callback (kanaal `autorisaties`), with the last good copy kept while the API
//! is down; and document downloads streamed through without buffering.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail on unexpected errors"
)]

mod zgw_support;

use hyper::Method;
use serde_json::json;
use sluis_testkit::zgw::{Va, ZaaktypeSpec};
use zgw_support::*;

async fn notify(h: &ZgwHarness, auth: &str) -> Resp {
    let body = json!({
        "kanaal": "autorisaties",
        "hoofdObject": format!("{}/autorisaties/api/v1/applicaties/x", h.fixture.base_url()),
        "resource": "applicatie",
        "resourceUrl": format!("{}/autorisaties/api/v1/applicaties/x", h.fixture.base_url()),
        "actie": "update",
        "aanmaakdatum": "2026-12-02T10:00:00Z",
        "kenmerken": {},
    });
    h.send(
        Method::POST,
        &format!("{}/zgw/notificaties", h.admin),
        None,
        Some(&body),
        &[("authorization", auth)],
    )
    .await
}

#[tokio::test]
async fn applicaties_come_live_from_the_autorisaties_api_and_follow_its_notifications() {
    let h = ZgwHarness::start(ZgwOpts {
        live: true,
        ..ZgwOpts::default()
    })
    .await;
    let zt = h.fixture.add_zaaktype(ZaaktypeSpec::default());
    let (_, z) = h.fixture.add_zaak(&zt, Va::Openbaar, false).unwrap();
    let t = zgw_token(APP_A, SECRET_A, None);
    // Not yet registered: no Applicatie.
    h.get(&h.public(&z), &t)
        .await
        .problem(403, "permission_denied");
    h.fixture
        .set_applicaties(json!([applicatie(
            APP_A,
            "App A",
            vec![zrc(&zt, "openbaar", &["zaken.lezen"])]
        )]))
        .unwrap();
    // A callback without the configured Authorization changes nothing.
    let r = notify(&h, "Token wrong").await;
    assert_eq!(r.status, 401, "{}", r.text());
    h.get(&h.public(&z), &t)
        .await
        .problem(403, "permission_denied");
    let r = notify(&h, NRC_AUTH).await;
    assert_eq!(r.status, 204, "{}", r.text());
    h.get(&h.public(&z), &t).await.ok();
    // The Autorisaties API is down: the next refresh fails and the last good copy stays.
    h.fixture.faults().set_status(Some(503));
    notify(&h, NRC_AUTH).await.status(204);
    h.fixture.faults().set_status(None);
    h.get(&h.public(&z), &t).await.ok();
    let ready = h
        .send(Method::GET, &format!("{}/readyz", h.admin), None, None, &[])
        .await
        .json();
    assert!(
        ready["zgwAutorisaties"]["lastError"].is_string(),
        "the failure is reported: {ready}"
    );
    // Withdrawn: after the notification the client is refused.
    h.fixture.set_applicaties(json!([])).unwrap();
    notify(&h, NRC_AUTH).await.status(204);
    h.get(&h.public(&z), &t)
        .await
        .problem(403, "permission_denied");
    h.shutdown().await;
}

#[tokio::test]
async fn a_download_larger_than_the_body_limit_streams_through() {
    let h = ZgwHarness::start(ZgwOpts {
        upstream_extra: "max_body_bytes = 262144".into(),
        ..ZgwOpts::default()
    })
    .await;
    let iot = h.fixture.add_informatieobjecttype("Bijlage", Va::Openbaar);
    let bytes: Vec<u8> = (0..3 * 1024 * 1024u32).map(|i| (i % 251) as u8).collect();
    let doc = h
        .fixture
        .add_document_with(&iot, Va::Openbaar, true, Some(bytes.clone()))
        .unwrap();
    h.set_applicaties(&json!([applicatie(
        APP_A,
        "App A",
        vec![drc(&iot, "openbaar", &["documenten.lezen"])]
    )]))
    .await;
    let t = zgw_token(APP_A, SECRET_A, None);
    let r = h.get(&format!("{}/download", h.public(&doc)), &t).await;
    r.status(200);
    assert_eq!(
        r.body.len(),
        bytes.len(),
        "all of a 3 MiB document through a 256 KiB limit"
    );
    assert!(r.body.to_vec() == bytes, "the bytes pass unchanged");
    assert_eq!(r.header("content-type"), Some("application/octet-stream"));
    // The download is recorded before its bytes leave.
    assert!(h.access().iter().any(|a| a["operation"]
        == json!("enkelvoudiginformatieobject_download")
        && a["status"] == json!(200)));
    h.shutdown().await;
}
