//! The BRP adapter end to end over real HTTP: a BRP Personen fixture upstream that requires an
//! API key (which sluis sends from its `upstream.api_key`), sluis started from a `sluis.toml`
//! with the example BRP policy (`examples/policy/brp.toml`), a SQLite audit store with subject
//! and checkpoint keys, and tokens signed with the demo key.
//!
//! Covered: scenarios H1–H6 of `shared/domain/brp.md`, contract validation, denied fields,
//! deceased persons, and the BRP protocollering scenarios E1, E2, E3–E7, E11 and E13 of
//! `shared/domain/protocollering.md`. Every 200 answer sluis gives in these tests is checked
//! against `PersonenQueryResponse` of the reference folder's `brp/openapi.yaml` (sealed BSNs of
//! pseudonymous callers cannot match the BSN pattern; they are replaced by a placeholder before
//! the check, so the rest of such answers is still checked). Without that file the contract
//! checks are skipped, saying so, and everything else still runs.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code fails the test on unexpected errors"
)]

mod brp_support;

use std::time::Duration;

use brp_support::*;
use serde_json::{Value, json};
use sluis_audit::{Decision, SpanStatus, SubjectRole};
use sluis_testkit::brp::{BrpData, BrpStatus};

/// A postcode + huisnummer in the own municipality where exactly three living, non-geheim
/// residents are found (over all units), none deceased.
fn three_hit_address(d: &BrpData) -> (String, u32, Vec<String>) {
    for a in d.addresses() {
        if a.gemeente_code != "0363" {
            continue;
        }
        let all = d.residents(&a.postcode, a.huisnummer);
        if all.len() == 3
            && all
                .iter()
                .all(|p| p.status() == BrpStatus::Resident && !p.is_geheim())
            && all.iter().all(|p| p.gemeente_van_inschrijving() == "0363")
        {
            return (
                a.postcode.clone(),
                a.huisnummer,
                sorted(all.iter().map(|p| p.bsn())),
            );
        }
    }
    panic!("no address with three residents in the data set");
}

fn postcode_search(postcode: &str, huisnummer: u32) -> Value {
    json!({"type": "ZoekMetPostcodeEnHuisnummer", "postcode": postcode, "huisnummer": huisnummer})
}

fn bsn_lookup(bsns: &[&str], fields: &[&str]) -> Value {
    json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": bsns,
           "fields": fields})
}

/// Checks a problem document against the contract's error schema, except the patterns of
/// `detail`, `invalidParams[].name` and `invalidParams[].reason`: the BRP API's own answers
/// break those ("De foutieve parameter(s) zijn: fields[1]." has a colon, `fields[1]` brackets,
/// "Waarde voldoet niet aan patroon ^[0-9]{9}$." a pattern), and sluis words its answers as the
/// BRP API does.
fn check_problem_shape(schema: &str, body: &Value) {
    let Some(spec) = spec() else { return };
    if let Err(errors) = spec.check(schema, body) {
        let real: Vec<&String> = errors
            .iter()
            .filter(|e| {
                !(e.contains("does not match")
                    && (e.starts_with("$.detail:")
                        || e.contains("].name:")
                        || e.contains("].reason:")))
            })
            .collect();
        assert!(real.is_empty(), "{real:#?}\n{body}");
    }
}

fn subjects(lines: &[sluis_audit::ProcessingRecord]) -> Vec<String> {
    sorted(lines.iter().filter_map(|l| l.data_subject_id.clone()))
}

fn pseudonyms(env: &Env, bsns: &[String]) -> Vec<String> {
    sorted(bsns.iter().map(|b| env.pseudonym(b)))
}

// ---------------------------------------------------------------------------------------------
// H1

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h1_token_headers_and_query_type_scope() {
    let env = Env::start().await;
    let d = data();
    let p = d.known().family.parents[0].clone();
    let body = bsn_lookup(&[&p], &["naam"]);
    let t = token(&[ZOEK_BSN, BASIS]);

    // No token: 401 with a challenge.
    let r = env.post_as(None, &std_headers("c-h1"), &body).await;
    r.assert_problem(401, "notAuthenticated");
    assert!(r.header("www-authenticate").unwrap().starts_with("Bearer"));

    // A valid token without one of the three headers (or without all): 403 missingHeaders.
    for missing in ["X-User", "X-Correlation-ID", "X-Task-Description"] {
        let headers: Vec<(&str, String)> = std_headers("c-h1")
            .into_iter()
            .filter(|(k, _)| *k != missing)
            .collect();
        let r = env.post_as(Some(&t), &headers, &body).await;
        r.assert_problem(403, "missingHeaders");
        assert!(
            r.body["detail"]
                .as_str()
                .unwrap()
                .contains(&missing.to_ascii_lowercase()),
            "{}",
            r.body
        );
    }
    let r = env.post_as(Some(&t), &[], &body).await;
    r.assert_problem(403, "missingHeaders");
    assert_eq!(r.invalid_params().len(), 3, "{}", r.body);
    // An empty header counts as missing; a task description that names no registered activity
    // is refused as well.
    let mut headers = std_headers("c-h1");
    headers[0].1 = " ".into();
    env.post_as(Some(&t), &headers, &body)
        .await
        .assert_problem(403, "missingHeaders");
    let mut headers = std_headers("c-h1");
    headers[2].1 = "nieuwsgierigheid".into();
    env.post_as(Some(&t), &headers, &body)
        .await
        .assert_problem(403, "unknownPurpose");

    // A token without the query type's scope.
    let (pc, nr, _) = three_hit_address(&d);
    let r = env.post(&t, &postcode_search(&pc, nr)).await;
    r.assert_problem(403, "permissionDenied");
    assert_eq!(
        r.body["detail"],
        "U bent niet geautoriseerd voor zoekvraag ZoekMetPostcodeEnHuisnummer."
    );
    assert_eq!(r.body["instance"], PERSONEN_PATH);
    let trace = r.trace_id();
    let access = env.access(&trace);
    assert_eq!(access.decision, Decision::Deny);
    assert_eq!(access.status, 403);
    assert_eq!(access.operation, "brp.personen.ZoekMetPostcodeEnHuisnummer");
    assert!(
        access
            .reasons
            .iter()
            .any(|r| r.contains("BRP/zoek-postcode")),
        "the audit names the scopes needed: {:?}",
        access.reasons
    );
    // Scope names never reach the client.
    assert!(!r.body.to_string().contains("BRP/"), "{}", r.body);

    // Nothing reached the upstream, and nothing was processed.
    assert_eq!(env.upstream_requests(), 0);
    assert!(
        env.entries()
            .iter()
            .all(|e| matches!(e, sluis_audit::Entry::Access(_))),
        "refused requests leave no processing records"
    );
    env.stop().await;
}

// ---------------------------------------------------------------------------------------------
// H2

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h2_automatic_fields_identifiers_and_no_gegevensset() {
    let env = Env::start().await;
    let d = data();
    let (pc, nr, residents) = three_hit_address(&d);

    // No fields: the caller's sets ∩ the PersoonBeperkt paths, compacted.
    let r = env
        .post(
            &token(&[ZOEK_POSTCODE, BASIS, ADRES]),
            &postcode_search(&pc, nr),
        )
        .await;
    assert_eq!(r.personen().len(), 3);
    let up = env.upstream_body();
    assert_eq!(
        upstream_fields(&up),
        sorted([
            "adresseringBinnenland",
            "burgerservicenummer",
            "geboorte",
            "geslacht",
            "leeftijd",
            "naam"
        ]),
        "{up}"
    );
    assert_eq!(up["gemeenteVanInschrijving"], "0363");
    let delivered = sorted(
        r.personen()
            .iter()
            .map(|p| p["burgerservicenummer"].as_str().unwrap()),
    );
    assert_eq!(delivered, residents);

    // Only an address set: the BSN is added upstream for the record and stripped again.
    let r = env
        .post(&token(&[ZOEK_POSTCODE, ADRES]), &postcode_search(&pc, nr))
        .await;
    let up = env.upstream_body();
    assert_eq!(
        upstream_fields(&up),
        sorted(["adresseringBinnenland", "burgerservicenummer"])
    );
    assert_eq!(r.personen().len(), 3);
    for p in r.personen() {
        assert!(p.get("burgerservicenummer").is_none(), "{p}");
        assert!(p.get("adressering").is_some(), "{p}");
    }
    let lines = env.processing(&r.trace_id());
    assert_eq!(lines.len(), 3);
    assert_eq!(subjects(&lines), pseudonyms(&env, &residents));
    assert!(
        lines
            .iter()
            .all(|l| l.fields_requested[..] == ["adresseringBinnenland"]),
        "the record lists what the client asked for: {:?}",
        lines[0].fields_requested
    );

    // A lookup by BSN with fields but no identifiers: burgerservicenummer and aNummer are added
    // upstream and removed from the answer.
    let p = d.known().family.parents[0].clone();
    let r = env
        .post(
            &token(&[ZOEK_BSN, BASIS]),
            &bsn_lookup(&[&p], &["naam.voornamen", "geboorte.datum"]),
        )
        .await;
    let up = env.upstream_body();
    assert_eq!(
        upstream_fields(&up),
        sorted([
            "aNummer",
            "burgerservicenummer",
            "geboorte.datum",
            "naam.voornamen"
        ])
    );
    let person = &r.personen()[0];
    assert!(person.get("burgerservicenummer").is_none(), "{person}");
    assert!(person.get("aNummer").is_none(), "{person}");
    assert_eq!(
        person["naam"]["voornamen"],
        d.person(&p).unwrap().voornamen()
    );
    let lines = env.processing(&r.trace_id());
    assert_eq!(subjects(&lines), vec![env.pseudonym(&p)]);

    // No gegevensset at all: 403 with the detail text, nothing forwarded.
    let before = env.upstream_requests();
    let r = env
        .post(
            &token(&[ZOEK_BSN, "BRP/gegevensset-foobar"]),
            &json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": [p]}),
        )
        .await;
    r.assert_problem(403, "permissionDenied");
    assert_eq!(
        r.body["detail"],
        "U bent niet geautoriseerd voor een gegevensset bij deze operatie."
    );
    assert_eq!(env.upstream_requests(), before);
    env.stop().await;
}

// ---------------------------------------------------------------------------------------------
// H3

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h3_municipality_table() {
    let env = Env::start().await;
    let d = data();
    let p = d.known().family.parents[0].clone();
    let k = d.known().mixed_geheim_address.clone();

    // 1. zoekvraag-bsn, no municipality: the own code is injected upstream.
    let r = env
        .post(&token(&[ZOEK_BSN, BASIS]), &bsn_lookup(&[&p], &["naam"]))
        .await;
    assert_eq!(r.personen().len(), 1);
    assert_eq!(env.upstream_body()["gemeenteVanInschrijving"], "0363");
    let access = env.access(&r.trace_id());
    assert!(
        access
            .reasons
            .iter()
            .any(|x| x.contains("gemeenteVanInschrijving = 0363 added")),
        "{:?}",
        access.reasons
    );

    // 2. zoekvraag-bsn + landelijk: nothing injected.
    let r = env
        .post(
            &token(&[ZOEK_BSN, BASIS, LANDELIJK]),
            &bsn_lookup(&[&p], &["naam"]),
        )
        .await;
    assert_eq!(r.personen().len(), 1);
    let up = env.upstream_body();
    assert!(up.get("gemeenteVanInschrijving").is_none(), "{up}");

    // 3. zoekvraag-postcode-huisnummer + landelijk, another municipality: 403.
    let mut other = postcode_search(&k.postcode, k.huisnummer);
    other["gemeenteVanInschrijving"] = json!("0384");
    let before = env.upstream_requests();
    let r = env
        .post(&token(&[ZOEK_POSTCODE, LANDELIJK, BASIS]), &other)
        .await;
    r.assert_problem(403, "permissionDenied");
    assert_eq!(
        r.body["title"],
        "U bent niet geautoriseerd voor gemeenteVanInschrijving = 0384."
    );
    assert_eq!(
        r.invalid_params(),
        vec![("gemeenteVanInschrijving".to_owned(), "denied".to_owned())]
    );
    assert_eq!(env.upstream_requests(), before);

    // 4. zoekvraag-postcode-huisnummer-landelijk + landelijk: 200, the code as sent.
    let r = env
        .post(&token(&[ZOEK_POSTCODE_LANDELIJK, LANDELIJK, BASIS]), &other)
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(env.upstream_body()["gemeenteVanInschrijving"], "0384");
    // The people at that address live in 0363, so a search in 0384 finds nobody.
    assert_eq!(r.personen().len(), 0);

    // 5. landelijk + the street search's scope, another municipality: 400 (own municipality
    // only), even with the nationwide scope.
    let before = env.upstream_requests();
    let r = env
        .post(
            &token(&[LANDELIJK, ZOEK_STRAAT, BASIS]),
            &json!({"type": "ZoekMetStraatHuisnummerEnGemeenteVanInschrijving",
                    "straat": k.straat, "huisnummer": k.huisnummer,
                    "gemeenteVanInschrijving": "0384"}),
        )
        .await;
    r.assert_problem(400, "paramsValidation");
    assert_eq!(
        r.body["detail"],
        "Het veld 'gemeenteVanInschrijving' ondersteunt niet de waarde(s): 0384."
    );
    assert_eq!(env.upstream_requests(), before);
    env.stop().await;
}

// ---------------------------------------------------------------------------------------------
// H4

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h4_geheimhouding_withheld_counted_and_recorded() {
    let env = Env::start().await;
    let d = data();
    let k = d.known().mixed_geheim_address.clone();
    assert_eq!(k.living.len(), 2);
    let (geheim, open): (Vec<String>, Vec<String>) = k
        .living
        .iter()
        .cloned()
        .partition(|b| d.person(b).unwrap().is_geheim());
    assert_eq!((geheim.len(), open.len()), (1, 1));
    let search = postcode_search(&k.postcode, k.huisnummer);

    // Without the geheim scope: only the other person, and the header says one was withheld.
    let r = env.post(&token(&[ZOEK_POSTCODE, BASIS]), &search).await;
    assert_eq!(r.personen().len(), 1);
    assert_eq!(r.personen()[0]["burgerservicenummer"], open[0].as_str());
    assert_eq!(r.header("x-sluis-withheld"), Some("1"));
    assert!(!r.body.to_string().contains("geheimhouding"), "{}", r.body);
    let trace = r.trace_id();
    let access = env.access(&trace);
    assert_eq!(access.records, 1);
    assert!(
        access
            .reasons
            .iter()
            .any(|x| x.contains("1 person(s) withheld")),
        "{:?}",
        access.reasons
    );
    // The processing log knows which persons: the delivered one, and the withheld one (sluis
    // did receive its data from the BRP) flagged `geheim` and `withheld`.
    let lines = env.processing(&trace);
    assert_eq!(lines.len(), 2, "{lines:#?}");
    let line_of = |bsn: &str| {
        let id = env.pseudonym(bsn);
        lines
            .iter()
            .find(|l| l.data_subject_id.as_deref() == Some(id.as_str()))
            .unwrap_or_else(|| panic!("no line for {bsn}"))
            .clone()
    };
    let delivered = line_of(&open[0]);
    assert!(delivered.flags.is_empty(), "{:?}", delivered.flags);
    let withheld = line_of(&geheim[0]);
    assert_eq!(withheld.flags, ["geheim", "withheld"]);
    assert!(
        lines
            .iter()
            .all(|l| l.subject_role == Some(SubjectRole::GevondenInZoekresultaat))
    );

    // With the scope: both, flag included, header 0; the record flags the geheim person.
    let r = env
        .post(&token(&[ZOEK_POSTCODE, BASIS, GEHEIM]), &search)
        .await;
    assert_eq!(r.personen().len(), 2);
    assert_eq!(r.header("x-sluis-withheld"), Some("0"));
    let flagged: Vec<&Value> = r
        .personen()
        .iter()
        .filter(|p| p["geheimhoudingPersoonsgegevens"] == json!(true))
        .collect();
    assert_eq!(flagged.len(), 1);
    assert_eq!(flagged[0]["burgerservicenummer"], geheim[0].as_str());
    let lines = env.processing(&r.trace_id());
    assert_eq!(lines.len(), 2);
    let g = env.pseudonym(&geheim[0]);
    for l in &lines {
        let is_geheim = l.data_subject_id.as_deref() == Some(g.as_str());
        assert_eq!(l.flags.contains(&"geheim".to_owned()), is_geheim, "{l:?}");
        assert!(!l.flags.contains(&"withheld".to_owned()), "{l:?}");
    }

    // A lookup of only the geheim person: "nobody" and "withheld" differ by the header.
    let r = env
        .post(
            &token(&[ZOEK_BSN, BASIS]),
            &bsn_lookup(&[&geheim[0]], &["naam"]),
        )
        .await;
    assert!(r.personen().is_empty());
    assert_eq!(r.header("x-sluis-withheld"), Some("1"));
    let r = env
        .post(
            &token(&[ZOEK_BSN, BASIS]),
            &bsn_lookup(&["123456782"], &["naam"]),
        )
        .await;
    assert!(r.personen().is_empty());
    assert_eq!(r.header("x-sluis-withheld"), Some("0"));
    env.verify_chain();
    env.stop().await;
}

// ---------------------------------------------------------------------------------------------
// H5

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h5_pseudonymous_bsn_round_trip() {
    let env = Env::start().await;
    let d = data();
    let fam = d.known().family.clone();
    let residents = sorted(fam.address.living.iter());
    let t = token(&[ENCRYPT_BSN, ZOEK_POSTCODE, ZOEK_BSN, BASIS]);

    // A postcode search under C1: sealed tokens instead of BSNs.
    let r = env
        .post_corr(
            &t,
            "C1",
            &postcode_search(&fam.address.postcode, fam.address.huisnummer),
        )
        .await;
    let personen = r.personen().clone();
    assert_eq!(personen.len(), residents.len());
    let mut sealed = Vec::new();
    all_bsn_values(&r.body, &mut sealed);
    assert_eq!(sealed.len(), residents.len());
    for s in &sealed {
        assert!(
            s.starts_with("bsn1.k2."),
            "sealed with the current key: {s}"
        );
        assert!(!residents.contains(s));
    }
    assert_eq!(
        subjects(&env.processing(&r.trace_id())),
        pseudonyms(&env, &residents),
        "the processing log holds pseudonyms of the real BSNs"
    );

    // The follow-up lookup with a token under C1: the upstream receives the real BSN.
    let first = &sealed[0];
    let r = env
        .post_corr(
            &t,
            "C1",
            &bsn_lookup(&[first], &["naam", "geboorte", "burgerservicenummer"]),
        )
        .await;
    assert_eq!(r.personen().len(), 1);
    let up = env.upstream_body();
    let real = up["burgerservicenummer"][0].as_str().unwrap().to_owned();
    assert!(residents.contains(&real), "{up}");
    assert_eq!(
        personen[0]["geboorte"]["datum"]["datum"],
        d.person(&real).unwrap().geboortedatum().unwrap().iso(),
        "the token opens to the person it was sealed for"
    );
    let again = r.personen()[0]["burgerservicenummer"].as_str().unwrap();
    assert!(again.starts_with("bsn1."), "the answer is sealed again");
    assert_eq!(
        subjects(&env.processing(&r.trace_id())),
        vec![env.pseudonym(&real)]
    );

    // Another correlation id, another client, a tampered token, a plaintext BSN: 403, nothing
    // forwarded.
    let before = env.upstream_requests();
    let r = env
        .post_corr(&t, "C2", &bsn_lookup(&[first], &["naam"]))
        .await;
    r.assert_problem(403, "permissionDenied");
    assert_eq!(r.body["title"], "Geen toegang tot versleutelde waarde.");
    let other_app = token_for("andere-app", &[ENCRYPT_BSN, ZOEK_BSN, BASIS]);
    env.post_corr(&other_app, "C1", &bsn_lookup(&[first], &["naam"]))
        .await
        .assert_problem(403, "permissionDenied");
    let mut tampered = first.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    env.post_corr(&t, "C1", &bsn_lookup(&[&tampered], &["naam"]))
        .await
        .assert_problem(403, "permissionDenied");
    let r = env
        .post_corr(&t, "C1", &bsn_lookup(&[&real], &["naam"]))
        .await;
    r.assert_problem(403, "permissionDenied");
    assert_eq!(
        r.body["title"],
        "U bent niet geautoriseerd voor niet versleutelde burgerservicenummers."
    );
    assert!(!r.body.to_string().contains(&real));
    assert_eq!(env.upstream_requests(), before);

    // The log never holds a BSN in clear nor a sealed token.
    let dump = serde_json::to_string(&env.entries()).unwrap();
    for b in &residents {
        assert!(!dump.contains(b.as_str()), "BSN {b} in clear in the log");
    }
    for s in sealed.iter().chain([&again.to_owned(), &tampered]) {
        assert!(!dump.contains(s.as_str()), "a sealed token in the log");
    }
    assert!(!dump.contains("bsn1."), "a sealed token in the log");
    let (checked, checked_sealed) = env.stop().await;
    assert!(spec().is_none() || (checked >= 2 && checked_sealed >= 2));
}

// ---------------------------------------------------------------------------------------------
// H6, E5, E13

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn h6_upstream_failures_e5_e13() {
    let env = Env::start().await;
    let d = data();
    let p = d.known().family.parents[0].clone();
    let t = token(&[ZOEK_BSN, ZOEK_POSTCODE, BASIS]);
    let lookup = bsn_lookup(&[&p], &["naam"]);

    // sluis sends its API key: a normal request works and carries it.
    let r = env.post(&t, &lookup).await;
    assert_eq!(r.personen().len(), 1);
    let sent = env.fixture.faults().last_request().unwrap();
    assert_eq!(sent.header(UPSTREAM_KEY_HEADER), Some(UPSTREAM_KEY));
    assert!(
        sent.header("authorization").is_none(),
        "the caller's token is not forwarded"
    );

    // Upstream 401 → 502 backendConfig; the access is still recorded.
    env.fixture.faults().set_status(Some(401));
    let r = env.post(&t, &lookup).await;
    r.assert_problem(502, "backendConfig");
    assert!(!r.body.to_string().contains(UPSTREAM_KEY));
    let access = env.access(&r.trace_id());
    assert_eq!(access.upstream_status, Some(401));
    assert_eq!(access.decision, Decision::Error);
    env.fixture.faults().reset();

    // E5: a real tooManyResults (crowded address): 400 passed on, instance rewritten; the
    // processing line has status Unset, no subject.
    let crowded = d.known().crowded_address.clone();
    let r = env
        .post(&t, &postcode_search(&crowded.postcode, crowded.huisnummer))
        .await;
    r.assert_problem(400, "tooManyResults");
    assert_eq!(r.body["instance"], PERSONEN_PATH);
    let upstream_doc = {
        // What the BRP itself answers to the same upstream request.
        let body = env.upstream_body();
        let resp = env
            .client
            .request(
                hyper::Request::post(env.fixture.personen_url())
                    .header("content-type", "application/json")
                    .header(UPSTREAM_KEY_HEADER, UPSTREAM_KEY)
                    .body(http_body_util::Full::new(bytes::Bytes::from(
                        serde_json::to_vec(&body).unwrap(),
                    )))
                    .unwrap(),
            )
            .await
            .unwrap();
        assert_eq!(resp.status(), 400);
        let bytes = http_body_util::BodyExt::collect(resp.into_body())
            .await
            .unwrap()
            .to_bytes();
        serde_json::from_slice::<Value>(&bytes).unwrap()
    };
    for key in ["type", "title", "detail", "code", "status"] {
        assert_eq!(r.body[key], upstream_doc[key], "{key}");
    }
    assert_ne!(upstream_doc["instance"], PERSONEN_PATH);
    if let Some(spec) = spec() {
        spec.check("Foutbericht", &r.body).unwrap();
    }
    check_problem_shape("Foutbericht", &r.body);
    let lines = env.processing(&r.trace_id());
    assert_eq!(lines.len(), 1, "{lines:#?}");
    assert_eq!(lines[0].status, SpanStatus::Unset);
    assert_eq!(lines[0].http_status, 400);
    assert_eq!(
        lines[0].upstream_error_code.as_deref(),
        Some("tooManyResults")
    );
    assert!(lines[0].data_subject_id.is_none());

    // An upstream 400 problem (forced): passed on with its code, instance rewritten.
    env.fixture.faults().set_status(Some(400));
    let r = env.post(&t, &lookup).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.body["instance"], PERSONEN_PATH);
    env.fixture.faults().reset();

    // E13: upstream 503 → 503 problem+json; the line has status Error and no subject.
    env.fixture.faults().set_status(Some(503));
    let r = env.post(&t, &lookup).await;
    assert_eq!(r.status, 503, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/problem+json"));
    let lines = env.processing(&r.trace_id());
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].status, SpanStatus::Error);
    assert_eq!(lines[0].http_status, 503);
    assert!(lines[0].data_subject_id.is_none());
    env.fixture.faults().reset();

    // E13: a timeout → 504, status Error, no subject.
    env.fixture.faults().set_delay(Duration::from_millis(1500));
    let r = env.post(&t, &lookup).await;
    r.assert_problem(504, "upstreamTimeout");
    let lines = env.processing(&r.trace_id());
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].status, SpanStatus::Error);
    assert!(lines[0].data_subject_id.is_none());
    env.fixture.faults().reset();

    // A non-JSON answer → 502.
    env.fixture.faults().set_non_json(true);
    let r = env.post(&t, &lookup).await;
    r.assert_problem(502, "badUpstream");
    assert!(!r.body.to_string().contains("onderhoud"));
    env.fixture.faults().reset();

    // And it recovers.
    let r = env.post(&t, &lookup).await;
    assert_eq!(r.personen().len(), 1);
    env.verify_chain();
    env.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Contract validation, denied fields (E2), deceased persons (E11)

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contract_validation_rejects_before_forwarding() {
    let env = Env::start().await;
    let d = data();
    let p = d.known().family.parents[0].clone();
    let t = token(&[ZOEK_BSN, ZOEK_POSTCODE, BASIS, ADRES, FAMILIE, LANDELIJK]);
    let many_bsns: Vec<String> = (0..21).map(|i| format!("99999{i:04}")).collect();
    let many_fields: Vec<&str> = std::iter::repeat_n("naam", 131).collect();
    /// What is wrong, the body, the expected `(name, code)` invalid parameters.
    type Case<'a> = (&'a str, Value, Vec<(&'a str, &'a str)>);
    let cases: Vec<Case> = vec![
        (
            "unknown parameter",
            json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": [p],
                   "fields": ["naam"], "geslachtsnaam": "Jansen"}),
            vec![("geslachtsnaam", "unknownParam")],
        ),
        (
            "21 BSNs",
            json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": many_bsns,
                   "fields": ["naam"]}),
            vec![("burgerservicenummer", "maxItems")],
        ),
        (
            "bad postcode",
            json!({"type": "ZoekMetPostcodeEnHuisnummer", "postcode": "0123AB",
                   "huisnummer": 1, "fields": ["naam"]}),
            vec![("postcode", "pattern")],
        ),
        (
            "131 fields",
            json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": [p],
                   "fields": many_fields}),
            vec![("fields", "maxItems")],
        ),
        (
            "unknown field path",
            json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": [p],
                   "fields": ["naam", "naam.bijnaam"]}),
            vec![("fields[1]", "fields")],
        ),
        (
            "unknown parameter and missing huisnummer",
            json!({"type": "ZoekMetPostcodeEnHuisnummer", "postcode": "1011AB",
                   "fields": ["naam"], "foo": true}),
            vec![("foo", "unknownParam"), ("huisnummer", "required")],
        ),
        (
            "unknown type",
            json!({"type": "ZoekMetHuisdier", "fields": ["naam"]}),
            vec![("type", "value")],
        ),
    ];
    let before = env.upstream_requests();
    for (what, body, expected) in cases {
        let r = env.post(&t, &body).await;
        r.assert_problem(400, "paramsValidation");
        assert_eq!(
            r.body["title"], "Een of meerdere parameters zijn niet correct.",
            "{what}"
        );
        let expected: Vec<(String, String)> = expected
            .into_iter()
            .map(|(n, c)| (n.to_owned(), c.to_owned()))
            .collect();
        assert_eq!(r.invalid_params(), expected, "{what}: {}", r.body);
        check_problem_shape("BadRequestFoutbericht", &r.body);
        assert!(env.processing(&r.trace_id()).is_empty(), "{what}");
    }
    // A body that is not a JSON object.
    let r = env
        .post_as(
            Some(&t),
            &std_headers("c"),
            &Value::String("{not json".into()),
        )
        .await;
    r.assert_problem(400, "paramsValidation");
    assert_eq!(env.upstream_requests(), before, "nothing was forwarded");
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e2_fields_beyond_the_callers_sets_are_named() {
    let env = Env::start().await;
    let d = data();
    let p = d.known().family.parents[0].clone();
    let before = env.upstream_requests();
    let r = env
        .post(
            &token(&[ZOEK_BSN, BASIS]),
            &bsn_lookup(
                &[&p],
                &[
                    "naam",
                    "nationaliteiten",
                    "geboorte.datum",
                    "verblijfplaats.verblijfadres.huisnummer",
                    "partners.naam.voornamen",
                ],
            ),
        )
        .await;
    r.assert_problem(403, "authorization");
    assert_eq!(
        r.body["title"],
        "U bent niet geautoriseerd voor één of meerdere opgegeven field waarden."
    );
    assert_eq!(
        r.body["detail"],
        "De foutieve fields waarden zijn: nationaliteiten, verblijfplaats.verblijfadres.huisnummer, partners.naam.voornamen."
    );
    assert_eq!(
        r.invalid_params(),
        [1, 3, 4]
            .iter()
            .map(|i| (format!("fields[{i}]"), "authorization".to_owned()))
            .collect::<Vec<_>>()
    );
    assert_eq!(env.upstream_requests(), before, "no upstream call");
    let trace = r.trace_id();
    assert!(env.processing(&trace).is_empty(), "no processing line");
    let access = env.access(&trace);
    assert_eq!(access.decision, Decision::Deny);
    assert_eq!(
        access.denied_params,
        ["fields[1]", "fields[3]", "fields[4]"]
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn e11_deceased_persons_need_their_scope() {
    let env = Env::start().await;
    let d = data();
    let widow = d.known().widow.clone();
    let partner = d.known().widow_partner.clone();
    let a = d.address_of(&partner).unwrap().clone();
    assert_eq!(d.address_of(&widow).unwrap(), &a);
    let search = postcode_search(&a.postcode, a.huisnummer);

    // Explicitly asking for deceased persons without the scope: 403, nothing forwarded.
    let mut explicit = search.clone();
    explicit["inclusiefOverledenPersonen"] = json!(true);
    let before = env.upstream_requests();
    let r = env.post(&token(&[ZOEK_POSTCODE, BASIS]), &explicit).await;
    r.assert_problem(403, "permissionDenied");
    assert_eq!(
        r.body["title"],
        "U bent niet geautoriseerd voor inclusiefOverledenPersonen = true."
    );
    assert_eq!(env.upstream_requests(), before);
    // `false` is always allowed; without the scope only the living are found.
    let mut living_only = search.clone();
    living_only["inclusiefOverledenPersonen"] = json!(false);
    let r = env
        .post(&token(&[ZOEK_POSTCODE, BASIS]), &living_only)
        .await;
    assert_eq!(r.personen().len(), 1);
    let r = env.post(&token(&[ZOEK_POSTCODE, BASIS]), &search).await;
    assert_eq!(r.personen().len(), 1);
    assert!(
        env.upstream_body()
            .get("inclusiefOverledenPersonen")
            .is_none()
    );

    // With the scope, sluis adds the parameter; the deceased partner's line is flagged.
    let r = env
        .post(&token(&[ZOEK_POSTCODE, BASIS, OVERLEDEN]), &search)
        .await;
    assert_eq!(r.personen().len(), 2);
    assert_eq!(env.upstream_body()["inclusiefOverledenPersonen"], true);
    let lines = env.processing(&r.trace_id());
    let dead = env.pseudonym(&partner);
    for l in &lines {
        let is_dead = l.data_subject_id.as_deref() == Some(dead.as_str());
        assert_eq!(l.flags.contains(&"overleden".to_owned()), is_dead, "{l:?}");
    }
    // Explicit `true` with the scope is fine too.
    let r = env
        .post(&token(&[ZOEK_POSTCODE, BASIS, OVERLEDEN]), &explicit)
        .await;
    assert_eq!(r.personen().len(), 2);

    // The boundary address: 10 living (200) — with the deceased injected 12 (tooManyResults).
    let b = d.known().boundary_address.clone();
    let r = env
        .post(
            &token(&[ZOEK_POSTCODE, BASIS]),
            &postcode_search(&b.postcode, b.huisnummer),
        )
        .await;
    assert_eq!(r.personen().len(), 10);
    env.post(
        &token(&[ZOEK_POSTCODE, BASIS, OVERLEDEN]),
        &postcode_search(&b.postcode, b.huisnummer),
    )
    .await
    .assert_problem(400, "tooManyResults");
    env.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Protocollering E1, E3, E4, E6, E7

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn protocollering_scenarios() {
    let env = Env::start().await;
    let d = data();
    let fam = d.known().family.clone();
    let p = fam.parents[0].clone();

    // E1: one lookup: one line, role geraadpleegd, the activity the task description names.
    let t = token(&[ZOEK_BSN, BASIS, ADRES]);
    let r = env
        .post_corr(
            &t,
            "zaak-2024-0042",
            &bsn_lookup(&[&p], &["naam", "adresseringBinnenland"]),
        )
        .await;
    assert_eq!(r.personen().len(), 1);
    assert_eq!(
        upstream_fields(&env.upstream_body()),
        sorted([
            "aNummer",
            "adresseringBinnenland",
            "burgerservicenummer",
            "naam"
        ])
    );
    let trace = r.trace_id();
    let lines = env.processing(&trace);
    assert_eq!(lines.len(), 1);
    let l = &lines[0];
    assert_eq!(l.subject_role, Some(SubjectRole::Geraadpleegd));
    assert_eq!(l.processing_activity_id, ACTIVITY);
    assert_eq!(l.data_subject_id, Some(env.pseudonym(&p)));
    assert_eq!(l.data_subject_id_type.as_deref(), Some("BSN"));
    assert_eq!(l.status, SpanStatus::Ok);
    assert_eq!(l.http_status, 200);
    assert_eq!(l.case_ref.as_deref(), Some("zaak-2024-0042"));
    assert_eq!(l.client_app_id.as_deref(), Some(CLIENT));
    assert_eq!(l.name, "brp.personen.RaadpleegMetBurgerservicenummer");
    assert_eq!(
        sorted(l.fields_requested.iter()),
        sorted(["adresseringBinnenland", "naam"])
    );
    assert!(l.fields_delivered.iter().any(|f| f.starts_with("naam.")));
    assert!(
        !l.fields_delivered
            .iter()
            .any(|f| f == "burgerservicenummer" || f == "aNummer"),
        "{:?}",
        l.fields_delivered
    );
    let access = env.access(&trace);
    assert_eq!(access.decision, Decision::Permit);
    assert_eq!(
        access.user.as_deref(),
        Some("medewerker-7@gemeente.example")
    );
    assert_eq!(access.purpose.as_deref(), Some(ACTIVITY_ALIAS));
    assert_eq!(access.processing_activity.as_deref(), Some(ACTIVITY));
    assert_eq!(l.parent_span_id, access.span_id);

    // E3: a search with three hits: three lines under one trace, gevonden in zoekresultaat.
    let (pc, nr, residents) = three_hit_address(&d);
    let r = env
        .post(&token(&[ZOEK_POSTCODE, BASIS]), &postcode_search(&pc, nr))
        .await;
    assert_eq!(r.personen().len(), 3);
    let trace = r.trace_id();
    let lines = env.processing(&trace);
    assert_eq!(lines.len(), 3);
    assert!(lines.iter().all(
        |l| l.trace_id == trace && l.subject_role == Some(SubjectRole::GevondenInZoekresultaat)
    ));
    assert_eq!(subjects(&lines), pseudonyms(&env, &residents));
    let spans: std::collections::HashSet<&str> = lines.iter().map(|l| l.span_id.as_str()).collect();
    assert_eq!(spans.len(), 3, "a child span per subject");
    // Search parameter names are recorded, never their values.
    assert!(
        ["postcode", "huisnummer"]
            .iter()
            .all(|n| lines[0].search_params.iter().any(|p| p == n)),
        "{:?}",
        lines[0].search_params
    );
    assert!(!serde_json::to_string(&lines).unwrap().contains(&pc));

    // E4: zero hits: one line without a subject.
    let r = env
        .post(
            &token(&[ZOEK_POSTCODE, BASIS]),
            &postcode_search("9999ZZ", 1),
        )
        .await;
    assert!(r.personen().is_empty());
    let lines = env.processing(&r.trace_id());
    assert_eq!(lines.len(), 1);
    assert!(lines[0].data_subject_id.is_none() && lines[0].subject_role.is_none());
    assert_eq!(lines[0].status, SpanStatus::Ok);
    let access = env.access(&r.trace_id());
    assert!(
        !serde_json::to_string(&access).unwrap().contains("9999ZZ"),
        "parameter names, not values"
    );

    // E6: five BSNs, four found: four lines. 21 BSNs: 400 before any upstream call.
    let b = d.known().boundary_address.clone();
    let four: Vec<&str> = b.living.iter().take(4).map(String::as_str).collect();
    assert!(d.person("123456782").is_none());
    let mut five = four.clone();
    five.insert(2, "123456782");
    let r = env
        .post(&token(&[ZOEK_BSN, BASIS]), &bsn_lookup(&five, &["naam"]))
        .await;
    assert_eq!(r.personen().len(), 4);
    let lines = env.processing(&r.trace_id());
    assert_eq!(lines.len(), 4);
    assert_eq!(
        subjects(&lines),
        pseudonyms(
            &env,
            &four.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>()
        )
    );
    assert!(
        lines
            .iter()
            .all(|l| l.subject_role == Some(SubjectRole::Geraadpleegd))
    );
    let before = env.upstream_requests();
    let many: Vec<String> = (0..21).map(|i| format!("99999{i:04}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let r = env
        .post(&token(&[ZOEK_BSN, BASIS]), &bsn_lookup(&many, &["naam"]))
        .await;
    r.assert_problem(400, "paramsValidation");
    assert_eq!(
        r.invalid_params(),
        vec![("burgerservicenummer".to_owned(), "maxItems".to_owned())]
    );
    assert_eq!(env.upstream_requests(), before);
    assert!(env.processing(&r.trace_id()).is_empty());

    // E7: related persons whose BSN is delivered get `gerelateerd` lines.
    let t = token(&[ZOEK_BSN, BASIS, FAMILIE]);
    let r = env
        .post(
            &t,
            &bsn_lookup(
                &[&p],
                &[
                    "naam",
                    "partners.burgerservicenummer",
                    "partners.naam",
                    "kinderen.burgerservicenummer",
                ],
            ),
        )
        .await;
    let person = &r.personen()[0];
    let mut related = Vec::new();
    for group in ["partners", "kinderen"] {
        for x in person[group].as_array().unwrap() {
            related.push(x["burgerservicenummer"].as_str().unwrap().to_owned());
        }
    }
    assert!(related.contains(&fam.parents[1]), "{person}");
    for c in &fam.children {
        assert!(related.contains(c), "{person}");
    }
    let lines = env.processing(&r.trace_id());
    assert_eq!(lines.len(), 1 + related.len(), "{lines:#?}");
    let consulted: Vec<_> = lines
        .iter()
        .filter(|l| l.subject_role == Some(SubjectRole::Geraadpleegd))
        .collect();
    assert_eq!(consulted.len(), 1);
    assert_eq!(consulted[0].data_subject_id, Some(env.pseudonym(&p)));
    let gerelateerd: Vec<_> = lines
        .iter()
        .filter(|l| l.subject_role == Some(SubjectRole::Gerelateerd))
        .cloned()
        .collect();
    assert_eq!(subjects(&gerelateerd), pseudonyms(&env, &related));
    // Without the related persons' BSNs in the answer, no `gerelateerd` lines.
    let r = env
        .post(&t, &bsn_lookup(&[&p], &["naam", "partners.naam"]))
        .await;
    assert!(r.personen()[0]["partners"].is_array());
    let lines = env.processing(&r.trace_id());
    assert_eq!(lines.len(), 1);
    assert_eq!(lines[0].subject_role, Some(SubjectRole::Geraadpleegd));

    // No BSN of any of these persons is in clear anywhere in the log; the chain verifies.
    let dump = serde_json::to_string(&env.entries()).unwrap();
    for b in residents.iter().chain(&related).chain([&p]) {
        assert!(!dump.contains(b.as_str()), "BSN {b} in clear in the log");
    }
    env.verify_chain();
    let (checked, _) = env.stop().await;
    assert!(
        spec().is_none() || checked >= 6,
        "{checked} answers checked against the contract"
    );
}
