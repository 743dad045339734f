//! BRP fixture errors over real HTTP: request validation as the API answers it, HTTP-level
//! errors, credentials (API key, bearer, OAuth2 client credentials) and injected faults.

#![cfg(test)]

mod brp_support;

use std::time::{Duration, Instant};

use brp_support::{assert_problem, fixture, fixture_with, invalid_params, post, post_with, send};
use hyper::Method;
use serde_json::{Value, json};
use sluis_testkit::brp::{BrpFixtureConfig, BrpOAuth2};

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

async fn problem_for(body: Value) -> Value {
    let fx = fixture().await;
    let resp = post(&fx.personen_url(), &body).await;
    assert_problem(&resp, 400, "paramsValidation")
}

#[tokio::test]
async fn params_validation_in_the_brp_shape() {
    let p = problem_for(json!({"type": "RaadpleegMetBurgerservicenummer",
        "burgerservicenummer": ["999993653"]}))
    .await;
    assert_eq!(
        p,
        json!({
            "type": "https://datatracker.ietf.org/doc/html/rfc7231#section-6.5.1",
            "title": "Een of meerdere parameters zijn niet correct.",
            "status": 400,
            "detail": "De foutieve parameter(s) zijn: fields.",
            "instance": "/haalcentraal/api/brp/personen",
            "code": "paramsValidation",
            "invalidParams": [{
                "type": "https://www.vng.nl/realisatie/api/validaties/required",
                "name": "fields",
                "code": "required",
                "reason": "Parameter is verplicht.",
            }],
        })
    );
    let p = problem_for(json!({"type": "RaadpleegMetBurgerservicenummer",
        "burgerservicenummer": ["1234567890", "999993653", "12345678a"],
        "fields": ["burgerservicenummer"]}))
    .await;
    assert_eq!(
        invalid_params(&p),
        pairs(&[
            ("burgerservicenummer[0]", "pattern"),
            ("burgerservicenummer[2]", "pattern")
        ])
    );
    assert_eq!(
        p["detail"],
        "De foutieve parameter(s) zijn: burgerservicenummer[0], burgerservicenummer[2]."
    );
    assert_eq!(
        p["invalidParams"][0]["reason"],
        "Waarde voldoet niet aan patroon ^[0-9]{9}$."
    );
    let many: Vec<String> = (0..21).map(|_| "999993653".to_owned()).collect();
    let p = problem_for(json!({"type": "RaadpleegMetBurgerservicenummer",
        "burgerservicenummer": many, "fields": ["burgerservicenummer"]}))
    .await;
    assert_eq!(
        invalid_params(&p),
        pairs(&[("burgerservicenummer", "maxItems")])
    );
    let p = problem_for(json!({"type": "RaadpleegMetBurgerservicenummer",
        "burgerservicenummer": "999993653,999993653", "fields": "burgerservicenummer"}))
    .await;
    assert_eq!(
        invalid_params(&p),
        pairs(&[("burgerservicenummer", "array"), ("fields", "array")])
    );
}

#[tokio::test]
async fn fields_errors() {
    let p = problem_for(json!({"type": "RaadpleegMetBurgerservicenummer",
        "burgerservicenummer": ["999993653"],
        "fields": ["burgerservicenummer", "a*nummer", "geheimhoudingPersoonsgegevens",
                   "naam.inOnderzoek.voornamen", "anummer", "verblijfplaats.indicatieVastgesteldVerblijftNietOpAdres"]}))
    .await;
    let reasons: Vec<(&str, &str)> = p["invalidParams"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| (i["name"].as_str().unwrap(), i["reason"].as_str().unwrap()))
        .collect();
    assert_eq!(
        reasons,
        [
            (
                "fields[1]",
                "Waarde voldoet niet aan patroon ^[a-zA-Z0-9\\._]{1,200}$."
            ),
            ("fields[2]", "Parameter bevat een niet toegestane veldnaam."),
            ("fields[3]", "Parameter bevat een niet toegestane veldnaam."),
            ("fields[4]", "Parameter bevat een niet bestaande veldnaam."),
            ("fields[5]", "Parameter bevat een niet toegestane veldnaam."),
        ]
    );
    let p = problem_for(json!({"type": "RaadpleegMetBurgerservicenummer",
        "burgerservicenummer": ["999993653"], "fields": []}))
    .await;
    assert_eq!(invalid_params(&p), pairs(&[("fields", "minItems")]));
    let too_many: Vec<&str> = (0..131).map(|_| "naam").collect();
    let p = problem_for(json!({"type": "RaadpleegMetBurgerservicenummer",
        "burgerservicenummer": ["999993653"], "fields": too_many}))
    .await;
    assert_eq!(invalid_params(&p), pairs(&[("fields", "maxItems")]));
}

#[tokio::test]
async fn search_parameter_errors() {
    let p = problem_for(json!({"type": "ZoekMetGeslachtsnaamEnGeboortedatum",
        "geslachtsnaam": "", "fields": ["burgerservicenummer"]}))
    .await;
    assert_eq!(
        invalid_params(&p),
        pairs(&[("geboortedatum", "required"), ("geslachtsnaam", "required")])
    );
    assert_eq!(
        p["detail"],
        "De foutieve parameter(s) zijn: geboortedatum, geslachtsnaam."
    );
    let p = problem_for(json!({"type": "ZoekMetGeslachtsnaamEnGeboortedatum",
        "geslachtsnaam": "*sen", "geboortedatum": "19830526", "geslacht": "X",
        "inclusiefOverledenPersonen": "ja", "fields": ["burgerservicenummer"]}))
    .await;
    assert_eq!(
        invalid_params(&p),
        pairs(&[
            ("geboortedatum", "date"),
            ("geslacht", "pattern"),
            ("geslachtsnaam", "pattern"),
            ("inclusiefOverledenPersonen", "boolean"),
        ])
    );
    let p = problem_for(json!({"type": "ZoekMetPostcodeEnHuisnummer",
        "postcode": "0123AB", "huisnummer": "12", "huisletter": "AB",
        "huisnummertoevoeging": "12345", "fields": ["burgerservicenummer"]}))
    .await;
    assert_eq!(
        invalid_params(&p),
        pairs(&[
            ("huisletter", "pattern"),
            ("huisnummer", "integer"),
            ("huisnummertoevoeging", "pattern"),
            ("postcode", "pattern"),
        ])
    );
    let p = problem_for(json!({"type": "ZoekMetPostcodeEnHuisnummer",
        "postcode": "1011AB", "huisnummer": 100000, "fields": ["burgerservicenummer"]}))
    .await;
    assert_eq!(invalid_params(&p), pairs(&[("huisnummer", "maximum")]));
    let p = problem_for(
        json!({"type": "ZoekMetStraatHuisnummerEnGemeenteVanInschrijving",
        "straat": "Linde*", "huisnummer": 1, "gemeenteVanInschrijving": "363",
        "fields": ["burgerservicenummer"]}),
    )
    .await;
    assert_eq!(
        invalid_params(&p),
        pairs(&[
            ("gemeenteVanInschrijving", "pattern"),
            ("straat", "pattern")
        ])
    );
    let p = problem_for(json!({"type": "ZoekMetNummeraanduidingIdentificatie",
        "nummeraanduidingIdentificatie": "0000000000000000", "fields": ["burgerservicenummer"]}))
    .await;
    assert_eq!(
        invalid_params(&p),
        pairs(&[("nummeraanduidingIdentificatie", "pattern")])
    );
    // Parameters of another query type, typos and inventions.
    let p = problem_for(json!({"type": "RaadpleegMetBurgerservicenummer",
        "burgerservicenummer": ["999993653"], "voornamen": "Pietje",
        "gemeenteVanInschijving": "0363", "bestaatNiet": 1, "fields": ["burgerservicenummer"]}))
    .await;
    assert_eq!(
        invalid_params(&p),
        pairs(&[
            ("bestaatNiet", "unknownParam"),
            ("gemeenteVanInschijving", "unknownParam"),
            ("voornamen", "unknownParam"),
        ])
    );
    // The straat type only searches one municipality: it is required there.
    let p = problem_for(
        json!({"type": "ZoekMetStraatHuisnummerEnGemeenteVanInschrijving",
        "straat": "Tulpenlaan", "huisnummer": 23, "fields": ["burgerservicenummer"]}),
    )
    .await;
    assert_eq!(
        invalid_params(&p),
        pairs(&[("gemeenteVanInschrijving", "required")])
    );
    let p = problem_for(json!({"type": "ZoekMetIets", "fields": ["burgerservicenummer"]})).await;
    assert_eq!(invalid_params(&p), pairs(&[("type", "value")]));
    let p = problem_for(json!({"fields": ["burgerservicenummer"]})).await;
    assert_eq!(invalid_params(&p), pairs(&[("type", "required")]));
}

#[tokio::test]
async fn http_level_errors() {
    let fx = fixture().await;
    let url = fx.personen_url();
    let resp = send(
        Method::POST,
        &url,
        &[("content-type", "application/json")],
        "{niet json",
    )
    .await;
    assert_problem(&resp, 400, "paramsValidation");
    let resp = send(Method::POST, &url, &[("content-type", "text/plain")], "{}").await;
    assert_problem(&resp, 415, "unsupported");
    let resp = send(Method::GET, &url, &[], "").await;
    assert_problem(&resp, 405, "methodNotAllowed");
    assert_eq!(resp.headers["allow"], "POST");
    let resp = post_with(&url, &json!({}), &[("accept", "text/html")]).await;
    assert_problem(&resp, 406, "notAcceptable");
    let resp = post(&format!("{}/bestaat-niet", fx.base_url()), &json!({})).await;
    let p = assert_problem(&resp, 404, "notFound");
    assert_eq!(p["instance"], "/bestaat-niet");
    // The trailing slash is tolerated.
    let body = json!({"type": "RaadpleegMetBurgerservicenummer",
        "burgerservicenummer": ["999993653"], "fields": ["burgerservicenummer"]});
    assert_eq!(post(&format!("{url}/"), &body).await.status, 200);
}

#[tokio::test]
async fn configurable_base_path() {
    let fx = fixture_with(BrpFixtureConfig {
        base_path: "/brp/v2/".into(),
        ..BrpFixtureConfig::default()
    })
    .await;
    let body = json!({"type": "RaadpleegMetBurgerservicenummer",
        "burgerservicenummer": ["999993653"], "fields": ["burgerservicenummer"]});
    assert!(fx.personen_url().ends_with("/brp/v2/personen"));
    assert_eq!(post(&fx.personen_url(), &body).await.bsns(), ["999993653"]);
    let rvig = format!("{}/haalcentraal/api/brp/personen", fx.base_url());
    assert_eq!(post(&rvig, &body).await.bsns(), ["999993653"]);
    let bad = sluis_testkit::brp::BrpFixture::start_with_data(
        brp_support::data(),
        BrpFixtureConfig {
            base_path: "brp".into(),
            ..BrpFixtureConfig::default()
        },
    )
    .await;
    assert!(matches!(bad, Err(sluis_testkit::TestkitError::Config(_))));
}

const BODY: &str = r#"{"type":"RaadpleegMetBurgerservicenummer","burgerservicenummer":["999993653"],"fields":["burgerservicenummer"]}"#;

#[tokio::test]
async fn api_key_is_required_when_configured() {
    let fx = fixture_with(BrpFixtureConfig {
        api_key: Some(("X-API-KEY".into(), "proef-sleutel".into())),
        ..BrpFixtureConfig::default()
    })
    .await;
    let url = fx.personen_url();
    let json_ct = ("content-type", "application/json");
    let missing = send(Method::POST, &url, &[json_ct], BODY).await;
    let p = assert_problem(&missing, 401, "authentication");
    assert_eq!(p["title"], "Niet correct geauthenticeerd.");
    assert!(!String::from_utf8_lossy(&missing.body).contains("proef-sleutel"));
    let wrong = send(Method::POST, &url, &[json_ct, ("x-api-key", "fout")], BODY).await;
    assert_problem(&wrong, 401, "authentication");
    let ok = send(
        Method::POST,
        &url,
        &[json_ct, ("x-api-key", "proef-sleutel")],
        BODY,
    )
    .await;
    assert_eq!(ok.status, 200);
    assert_eq!(
        fx.faults().last_request().unwrap().header("X-Api-Key"),
        Some("proef-sleutel")
    );
}

#[tokio::test]
async fn bearer_token_is_required_when_configured() {
    let fx = fixture_with(BrpFixtureConfig {
        bearer_token: Some("statisch-token".into()),
        ..BrpFixtureConfig::default()
    })
    .await;
    let url = fx.personen_url();
    let json_ct = ("content-type", "application/json");
    let missing = send(Method::POST, &url, &[json_ct], BODY).await;
    assert_problem(&missing, 401, "authentication");
    assert!(
        missing.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    let ok = send(
        Method::POST,
        &url,
        &[json_ct, ("authorization", "Bearer statisch-token")],
        BODY,
    )
    .await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn oauth2_client_credentials() {
    let fx = fixture_with(BrpFixtureConfig {
        oauth2: Some(BrpOAuth2 {
            client_id: "sluis".into(),
            client_secret: "client-geheim".into(),
            access_token: "uitgegeven-token".into(),
            expires_in: 3600,
        }),
        ..BrpFixtureConfig::default()
    })
    .await;
    let form = ("content-type", "application/x-www-form-urlencoded");
    let token = send(
        Method::POST,
        &fx.token_url(),
        &[form],
        "grant_type=client_credentials&client_id=sluis&client_secret=client-geheim",
    )
    .await;
    assert_eq!(
        token.status,
        200,
        "{}",
        String::from_utf8_lossy(&token.body)
    );
    let t = token.json();
    assert_eq!(t["access_token"], "uitgegeven-token");
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["expires_in"], 3600);
    // HTTP Basic client authentication (c2x1aXM6Y2xpZW50LWdlaGVpbQ== is sluis:client-geheim).
    let basic = send(
        Method::POST,
        &fx.token_url(),
        &[
            form,
            ("authorization", "Basic c2x1aXM6Y2xpZW50LWdlaGVpbQ=="),
        ],
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(basic.status, 200);
    let bad = send(
        Method::POST,
        &fx.token_url(),
        &[form],
        "grant_type=client_credentials&client_id=sluis&client_secret=fout",
    )
    .await;
    assert_eq!(bad.status, 401);
    assert_eq!(bad.json()["error"], "invalid_client");
    let grant = send(
        Method::POST,
        &fx.token_url(),
        &[form],
        "grant_type=password&client_id=sluis&client_secret=client-geheim",
    )
    .await;
    assert_eq!(grant.json()["error"], "unsupported_grant_type");
    assert_eq!(fx.token_requests(), 4);
    let json_ct = ("content-type", "application/json");
    let url = fx.personen_url();
    assert_eq!(send(Method::POST, &url, &[json_ct], BODY).await.status, 401);
    let ok = send(
        Method::POST,
        &url,
        &[json_ct, ("authorization", "Bearer uitgegeven-token")],
        BODY,
    )
    .await;
    assert_eq!(ok.status, 200);
}

#[tokio::test]
async fn faults_and_recording() {
    let fx = fixture().await;
    let url = fx.personen_url();
    let json_ct = ("content-type", "application/json");
    let ok = send(
        Method::POST,
        &url,
        &[json_ct, ("x-correlation-id", "abc-123")],
        BODY,
    )
    .await;
    assert_eq!(ok.status, 200);
    assert_eq!(fx.last_body().unwrap(), BODY.as_bytes());
    assert_eq!(
        fx.last_body_json().unwrap()["type"],
        "RaadpleegMetBurgerservicenummer"
    );
    assert!(
        fx.faults()
            .last_headers()
            .contains(&("x-correlation-id".to_owned(), "abc-123".to_owned()))
    );
    assert_eq!(fx.faults().last_request().unwrap().method, "POST");

    fx.faults().set_delay(Duration::from_millis(200));
    let started = Instant::now();
    assert_eq!(send(Method::POST, &url, &[json_ct], BODY).await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(200));
    fx.faults().reset();

    fx.faults().set_status(Some(503));
    let resp = send(Method::POST, &url, &[json_ct], BODY).await;
    assert_problem(&resp, 503, "notAvailable");
    fx.faults().set_status(Some(500));
    assert_problem(
        &send(Method::POST, &url, &[json_ct], BODY).await,
        500,
        "serverError",
    );
    fx.faults().reset();

    fx.faults().set_non_json(true);
    let resp = send(Method::POST, &url, &[json_ct], BODY).await;
    assert_eq!(resp.status, 200);
    assert!(resp.content_type().starts_with("text/html"));
    fx.faults().reset();

    fx.faults().set_oversized(Some(300_000));
    let resp = send(Method::POST, &url, &[json_ct], BODY).await;
    assert_eq!(resp.status, 200);
    assert!(resp.body.len() >= 300_000);
    let _: Value = resp.json();
    fx.faults().reset();

    assert_eq!(send(Method::POST, &url, &[json_ct], BODY).await.status, 200);
    assert_eq!(fx.faults().requests(), 7);
    fx.shutdown().await.unwrap();
}
