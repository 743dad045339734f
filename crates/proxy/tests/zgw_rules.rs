//! Beyond the ZGW standard, end to end: the user's involvement (their rol on the zaak), field
//! levels per scope (a KCC employee sees the initiator's name, not the BSN; archive fields only
//! for archive staff), objects withheld within a zaak (natural persons for a public scope),
//! write limits — with the shipped example rules (`examples/zgw/rules.toml`) — and the
//! processing records naming the persons in rollen.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "tests fail on unexpected errors"
)]

mod zgw_support;

use serde_json::{Value, json};
use sluis_testkit::zgw::{Betrokkene, Va, ZaaktypeSpec};
use zgw_support::*;

const EXAMPLE_HR_ZAAKTYPE: &str =
    "https://catalogi.gemeente.example/api/v1/zaaktypen/0119dd4e-7be9-477e-bccf-75023b1453c1";

fn example_rules(hr_zaaktype: &str) -> String {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/zgw/rules.toml");
    std::fs::read_to_string(path)
        .unwrap()
        .replace(EXAMPLE_HR_ZAAKTYPE, hr_zaaktype)
}

struct Case {
    h: ZgwHarness,
    zt: String,
    hr: String,
}

/// A harness with the example rules, a general zaaktype and an HR zaaktype (behandelaar
/// only), and these applicaties.
async fn case(apps: impl FnOnce(&str, &str) -> Value) -> Case {
    let h = ZgwHarness::start(ZgwOpts {
        rules: Some(String::new()),
        ..ZgwOpts::default()
    })
    .await;
    let zt = h.fixture.add_zaaktype(ZaaktypeSpec {
        omschrijving: "Melding openbare ruimte".into(),
        ..ZaaktypeSpec::default()
    });
    let hr = h.fixture.add_zaaktype(ZaaktypeSpec {
        omschrijving: "Personeelsdossier".into(),
        default_va: Va::Vertrouwelijk,
        ..ZaaktypeSpec::default()
    });
    h.set_rules(&example_rules(&hr)).await;
    h.set_applicaties(&apps(&zt, &hr)).await;
    Case { h, zt, hr }
}

fn initiator(bsn: &str, naam: &str) -> Betrokkene {
    Betrokkene::NatuurlijkPersoon {
        bsn: bsn.into(),
        geslachtsnaam: naam.into(),
    }
}

fn medewerker(id: &str) -> Betrokkene {
    Betrokkene::Medewerker {
        identificatie: id.into(),
        achternaam: "Jansen".into(),
    }
}

const BSN: &str = "999993653";

#[tokio::test]
async fn a_kcc_employee_sees_the_initiators_name_but_not_the_bsn() {
    let c = case(|zt, _| {
        json!([
            applicatie("kcc-app", "KCC", vec![zrc(zt, "vertrouwelijk", &["kcc"])]),
            applicatie(
                APP_A,
                "Zaakbehandeling",
                vec![zrc(zt, "vertrouwelijk", &["zaken.lezen"])]
            ),
        ])
    })
    .await;
    let (_, z) = c.h.fixture.add_zaak(&c.zt, Va::Openbaar, false).unwrap();
    c.h.fixture
        .add_rol(&z, "initiator", initiator(BSN, "Vries"))
        .unwrap();
    let kcc = oidc_token("kcc-app", "kcc-medewerker@gemeente.invalid", &[]);
    let doc =
        c.h.get(&format!("{ZAKEN}/rollen?zaak={}", c.h.public(&z)), &kcc)
            .await
            .ok();
    let rol = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["betrokkeneType"] == json!("natuurlijk_persoon"))
        .expect("the initiator's rol is listed");
    assert_eq!(
        rol["betrokkeneIdentificatie"]["geslachtsnaam"],
        json!("Vries")
    );
    assert!(
        rol["betrokkeneIdentificatie"].get("inpBsn").is_none(),
        "the BSN is absent for the KCC: {rol}"
    );
    // A reader with zaken.lezen gets the BSN.
    let doc =
        c.h.get(
            &format!("{ZAKEN}/rollen?zaak={}", c.h.public(&z)),
            &token_a(),
        )
        .await
        .ok();
    assert!(doc.to_string().contains(BSN), "{doc}");
    // Both reads are processings of the initiator's data, under a pseudonym.
    let processing = c.h.processing();
    let with_subject: Vec<&Value> = processing
        .iter()
        .filter(|p| p["data_subject_id"].is_string())
        .collect();
    assert!(with_subject.len() >= 2, "{processing:?}");
    assert!(
        !c.h.audit_lines()
            .iter()
            .any(|l| l.to_string().contains(BSN))
    );
    c.h.shutdown().await;
}

fn token_a() -> String {
    zgw_token(APP_A, SECRET_A, Some(("u1", "Jan")))
}

#[tokio::test]
async fn archive_fields_are_only_for_archive_staff_and_natural_persons_withheld_for_public_read() {
    let c = case(|zt, _| {
        json!([
            applicatie(
                APP_A,
                "Zaakbehandeling",
                vec![zrc(zt, "vertrouwelijk", &["zaken.lezen"])]
            ),
            applicatie(
                APP_B,
                "Archief",
                vec![zrc(zt, "vertrouwelijk", &["zaken.lezen", "zaken.archief"])]
            ),
            applicatie(
                "portaal",
                "Portaal",
                vec![zrc(zt, "openbaar", &["zaken.lezen.openbaar"])]
            ),
        ])
    })
    .await;
    let (_, z) = c.h.fixture.add_zaak(&c.zt, Va::Openbaar, true).unwrap();
    let pand =
        c.h.fixture
            .add_zaakobject(
                &z,
                "pand",
                "https://bag.example/panden/0363100012345678",
                json!({"identificatie": "0363100012345678"}),
            )
            .unwrap();
    let persoon =
        c.h.fixture
            .add_zaakobject(
                &z,
                "natuurlijk_persoon",
                "",
                json!({"inpBsn": BSN, "geslachtsnaam": "Vries"}),
            )
            .unwrap();
    let doc = c.h.get(&c.h.public(&z), &token_a()).await.ok();
    assert!(doc.get("archiefnominatie").is_none(), "{doc}");
    let tb = zgw_token(APP_B, SECRET_B, None);
    let doc = c.h.get(&c.h.public(&z), &tb).await.ok();
    assert!(doc.get("archiefnominatie").is_some(), "{doc}");
    // The public scope: the pand is delivered, the natural person withheld.
    let portal = oidc_token("portaal", "burger@example.invalid", &[]);
    let doc =
        c.h.get(
            &format!("{ZAKEN}/zaakobjecten?zaak={}", c.h.public(&z)),
            &portal,
        )
        .await
        .ok();
    let listed: Vec<&str> = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["url"].as_str().unwrap())
        .collect();
    assert!(listed.contains(&c.h.public(&pand).as_str()), "{doc}");
    assert!(!listed.contains(&c.h.public(&persoon).as_str()), "{doc}");
    assert!(!doc.to_string().contains(BSN));
    c.h.get(&c.h.public(&persoon), &portal)
        .await
        .problem(403, "permission_denied");
    c.h.shutdown().await;
}

#[tokio::test]
async fn an_hr_zaak_needs_the_user_to_be_its_behandelaar() {
    let c = case(|_, hr| {
        json!([
            applicatie(
                APP_TRUSTED,
                "Zaakbehandeling",
                vec![zrc(hr, "geheim", &["zaken.lezen", "zaken.bijwerken"])]
            ),
            applicatie(
                APP_A,
                "Ongecontroleerd",
                vec![zrc(hr, "geheim", &["zaken.lezen"])]
            ),
            applicatie("hr-app", "HR", vec![zrc(hr, "geheim", &["zaken.lezen"])]),
        ])
    })
    .await;
    let (_, mine) =
        c.h.fixture
            .add_zaak(&c.hr, Va::Vertrouwelijk, false)
            .unwrap();
    let (_, other) =
        c.h.fixture
            .add_zaak(&c.hr, Va::Vertrouwelijk, false)
            .unwrap();
    c.h.fixture
        .add_rol(&mine, "behandelaar", medewerker("mdw-001"))
        .unwrap();
    c.h.fixture
        .add_rol(&other, "behandelaar", medewerker("mdw-002"))
        .unwrap();
    c.h.fixture
        .add_rol(&other, "adviseur", medewerker("mdw-001"))
        .unwrap();
    // A client trusted to assert its users: user_id counts.
    let t = zgw_token(APP_TRUSTED, SECRET_TRUSTED, Some(("mdw-001", "M. de Wit")));
    c.h.get(&c.h.public(&mine), &t).await.ok();
    c.h.get(&c.h.public(&other), &t)
        .await
        .problem(403, "not_involved");
    // The list holds only the user's zaken as behandelaar (pushed upstream as uuid__in).
    let doc = c.h.get(&format!("{ZAKEN}/zaken"), &t).await.ok();
    let listed: Vec<&str> = doc["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| z["url"].as_str().unwrap())
        .collect();
    assert_eq!(listed, vec![c.h.public(&mine).as_str()], "{doc}");
    assert_eq!(doc["count"], json!(1));
    // The rollen lookup is recorded with the request.
    let access = c.h.access();
    assert!(
        access
            .iter()
            .any(|a| a["reasons"].to_string().contains("lookup: GET /rollen")),
        "{access:?}"
    );
    // A client that signs whatever user_id it likes is not trusted for involvement.
    let untrusted = zgw_token(APP_A, SECRET_A, Some(("mdw-001", "M. de Wit")));
    c.h.get(&c.h.public(&mine), &untrusted)
        .await
        .problem(403, "user_unknown");
    // An IdP token names a verified user.
    let idp = oidc_token("hr-app", "mdw-001", &[]);
    c.h.get(&c.h.public(&mine), &idp).await.ok();
    c.h.get(&c.h.public(&other), &idp)
        .await
        .problem(403, "not_involved");
    c.h.shutdown().await;
}

#[tokio::test]
async fn bijwerken_may_not_change_the_zaaks_identity() {
    let c = case(|zt, _| {
        json!([applicatie(
            APP_A,
            "Zaakbehandeling",
            vec![zrc(
                zt,
                "vertrouwelijk",
                &["zaken.lezen", "zaken.bijwerken"]
            )]
        )])
    })
    .await;
    let (_, z) = c.h.fixture.add_zaak(&c.zt, Va::Openbaar, false).unwrap();
    let doc =
        c.h.patch(
            &c.h.public(&z),
            &token_a(),
            &json!({"identificatie": "ZAAK-X", "omschrijving": "y"}),
        )
        .await
        .problem(403, "immutable_attributes");
    assert_eq!(doc["invalidParams"][0]["name"], json!("identificatie"));
    c.h.patch(&c.h.public(&z), &token_a(), &json!({"omschrijving": "y"}))
        .await
        .ok();
    c.h.shutdown().await;
}

#[tokio::test]
async fn lookups_are_recorded_without_their_values() {
    let c = case(|zt, _| {
        json!([applicatie(
            APP_A,
            "Zaakbehandeling",
            vec![zrc(zt, "vertrouwelijk", &["zaken.lezen"])]
        )])
    })
    .await;
    let (_, z) = c.h.fixture.add_zaak(&c.zt, Va::Openbaar, false).unwrap();
    c.h.fixture
        .add_rol(&z, "initiator", initiator(BSN, "Vries"))
        .unwrap();
    // A scanned list filtered on a BSN: sluis reads the rollen and their zaken.
    c.h.get(
        &format!("{ZAKEN}/rollen?betrokkeneIdentificatie__natuurlijkPersoon__inpBsn={BSN}"),
        &token_a(),
    )
    .await
    .ok();
    let text: String = c.h.audit_lines().iter().map(|l| l.to_string()).collect();
    assert!(
        text.contains("lookup: GET /rollen?betrokkeneIdentificatie__natuurlijkPersoon__inpBsn"),
        "{text}"
    );
    assert!(!text.contains(BSN), "no BSN in clear in the audit log");
    c.h.shutdown().await;
}
