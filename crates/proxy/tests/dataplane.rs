//! The acceptance scenarios P1–P14 (domain/profiles.md §5) end to end: a client with a token,
//! sluis on loopback, the testkit fixture upstream, and response bodies checked key by key.
//! Each scenario is adapted to the fixture's tables with a policy of its own.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests: a failed expectation must abort the test loudly"
)]

mod common;

use common::*;
use hyper::Method;
use serde_json::{Map, Value, json};

async fn start(policy: PolicyFiles) -> Harness {
    Harness::start(Opts {
        policy,
        ..Opts::default()
    })
    .await
}

fn by_id(records: &[Map<String, Value>]) -> std::collections::HashMap<String, Map<String, Value>> {
    records
        .iter()
        .map(|r| {
            let id = match &r["id"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            (id, r.clone())
        })
        .collect()
}

fn id_of(v: &Value) -> String {
    match &v["id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn first_chars(s: &Value, n: usize) -> Value {
    json!(s.as_str().unwrap().chars().take(n).collect::<String>())
}

/// The body text holds no reference to the upstream's port.
#[track_caller]
fn no_upstream_address(h: &Harness, r: &Resp) {
    let needle = format!(":{}", h.upstream_port);
    assert!(
        !r.text().contains(&needle),
        "upstream address leaked: {}",
        r.text()
    );
}

// ---------------------------------------------------------------------------------------------

/// P1: table `auth` (on clusters); no scope hierarchy; OPTIONS is not protected.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p1_table_protected_by_auth() {
    let mut p = PolicyFiles::default();
    set(&mut p.afval, "/tables/1/auth", json!(["BAG/R"]));
    let h = start(p).await;
    let before = h.fixture().faults().requests();
    let r = h.get_as("/api/afval/clusters", &[]).await;
    let doc = r.problem(403, "forbidden");
    assert_eq!(
        doc["title"],
        json!("You do not have permission to perform this action.")
    );
    assert_eq!(
        h.fixture().faults().requests(),
        before,
        "a denied request must not reach the upstream"
    );
    h.get_as("/api/afval/clusters/C0001", &[])
        .await
        .problem(403, "forbidden");
    assert_eq!(
        items(
            &h.get_as("/api/afval/containers", &[]).await.ok(),
            "containers"
        )
        .len(),
        20
    );
    let body = h.get_as("/api/afval/clusters", &["BAG/R"]).await.ok();
    assert_eq!(items(&body, "clusters").len(), 8);
    h.get_as("/api/afval/clusters", &["BAG/RSN"])
        .await
        .problem(403, "forbidden");
    let d = h.get_as("/api/afval/clusters/C0002", &["BAG/R"]).await.ok();
    assert_eq!(d["id"], json!("C0002"));

    let r = try_send(
        &h.client,
        Method::OPTIONS,
        &format!("{}/api/afval/clusters", h.api),
        &[],
    )
    .await
    .unwrap();
    assert_eq!(r.status, 200);
    assert!(r.header("allow").unwrap().contains("GET"));
    h.shutdown().await;
}

/// P2: a field with `auth` is silently absent without the scope.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p2_field_protected_by_auth() {
    let mut p = PolicyFiles::default();
    set(
        &mut p.afval,
        "/tables/0/schema/properties/eigenaarNaam/auth",
        json!(["BAG/R"]),
    );
    let h = start(p).await;
    let fixture = by_id(&h.records("afvalwegingen", "containers"));
    let owners: Vec<String> = fixture
        .values()
        .map(|r| r["eigenaarNaam"].as_str().unwrap().to_owned())
        .collect();
    for scopes in [&[][..], &["BAG/NOT"][..]] {
        for path in [
            "/api/afval/containers?_pageSize=60",
            "/api/afval/containers/3",
        ] {
            let r = h.get_as(path, scopes).await;
            let body = r.ok();
            assert!(
                !has_key_anywhere(&body, "eigenaarNaam"),
                "{scopes:?} {path}"
            );
            let text = r.text();
            for o in &owners {
                assert!(!text.contains(o.as_str()), "owner value leaked: {o}");
            }
            // Everything else is there; nothing marks the hidden field.
            let rec = if path.ends_with('3') {
                body.clone()
            } else {
                items(&body, "containers")[0].clone()
            };
            assert_eq!(
                data_keys(&rec),
                [
                    "clusterId",
                    "datumCreatie",
                    "fractieOmschrijving",
                    "id",
                    "serienummer"
                ]
            );
        }
    }
    let body = h
        .get_as("/api/afval/containers?_pageSize=60", &["BAG/R"])
        .await
        .ok();
    for item in items(&body, "containers") {
        assert_eq!(item["eigenaarNaam"], fixture[&id_of(item)]["eigenaarNaam"]);
    }
    h.shutdown().await;
}

/// P3: dataset, table and field `auth` AND together; sub-fields inherit (nested BRP fields).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p3_levels_and_nested_fields() {
    let mut p = PolicyFiles::default();
    let props = "/tables/0/schema/properties";
    set(&mut p.brp, "/auth", json!("AUTH/DATASET"));
    set(&mut p.brp, "/tables/0/auth", json!("AUTH/TABLE"));
    set(
        &mut p.brp,
        &format!("{props}/verblijfplaats/auth"),
        json!("AUTH/FIELD"),
    );
    set(
        &mut p.brp,
        &format!("{props}/verblijfplaats/properties/postcode/auth"),
        json!("AUTH/POSTCODE"),
    );
    set(
        &mut p.brp,
        &format!("{props}/nationaliteiten/auth"),
        json!("AUTH/FIELD"),
    );
    let h = start(p).await;
    let fixture = by_id(&h.records("brp", "ingeschrevenpersonen"));
    let list = "/api/brp/ingeschrevenpersonen?_pageSize=10";

    let body = h.get_as(list, &["AUTH/DATASET", "AUTH/TABLE"]).await.ok();
    for k in [
        "verblijfplaats",
        "nationaliteiten",
        "postcode",
        "omschrijving",
        "woonplaats",
    ] {
        assert!(!has_key_anywhere(&body, k), "{k} leaked");
    }
    assert_eq!(
        data_keys(&items(&body, "ingeschrevenpersonen")[0]),
        ["bsn", "geboortedatum", "geslachtsnaam", "id", "voornamen"]
    );

    // The field scope opens the object and the array, but not the sub-field with its own auth.
    let body = h
        .get_as(list, &["AUTH/DATASET", "AUTH/TABLE", "AUTH/FIELD"])
        .await
        .ok();
    for item in items(&body, "ingeschrevenpersonen") {
        let want = &fixture[&id_of(item)];
        let mut vp = want["verblijfplaats"].clone();
        vp.as_object_mut().unwrap().remove("postcode");
        assert_eq!(item["verblijfplaats"], vp);
        assert_eq!(item["nationaliteiten"], want["nationaliteiten"]);
    }
    assert!(!has_key_anywhere(&body, "postcode"));

    let body = h
        .get_as(
            "/api/brp/ingeschrevenpersonen/4",
            &["AUTH/DATASET", "AUTH/TABLE", "AUTH/FIELD", "AUTH/POSTCODE"],
        )
        .await
        .ok();
    assert_eq!(body["verblijfplaats"], fixture["4"]["verblijfplaats"]);

    for scopes in [
        &["AUTH/FIELD"][..],
        &["AUTH/TABLE", "AUTH/FIELD"][..],
        &["AUTH/DATASET"][..],
    ] {
        h.get_as(list, scopes).await.problem(403, "forbidden");
    }
    h.shutdown().await;
}

/// P4: a readable table with one hidden field cannot be expanded or linked from another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p4_hidden_field_blocks_relations() {
    let mut p = PolicyFiles::default();
    set(&mut p.afval, "/tables/1/auth", json!("BASE"));
    set(
        &mut p.afval,
        "/tables/1/schema/properties/status/auth",
        json!("BASE/STATUS"),
    );
    let h = start(p).await;
    let body = h.get_as("/api/afval/clusters", &["BASE"]).await.ok();
    assert!(!has_key_anywhere(&body, "status"));
    assert!(has_key_anywhere(&body, "adres"));

    let r = h
        .get_as("/api/afval/containers?_expandScope=cluster", &["BASE"])
        .await;
    let doc = r.problem(403, "expandNotAllowed");
    assert_eq!(
        doc["title"],
        json!("Eager loading not allowed for field 'cluster'")
    );

    let body = h
        .get_as("/api/afval/containers?_expand=true", &["BASE"])
        .await
        .ok();
    assert!(body["_embedded"].get("cluster").is_none(), "{body}");
    for item in items(&body, "containers") {
        assert!(item["_links"].get("cluster").is_none(), "{item}");
    }

    let body = h
        .get_as(
            "/api/afval/containers?_expandScope=cluster",
            &["BASE", "BASE/STATUS"],
        )
        .await
        .ok();
    assert!(!items(&body, "cluster").is_empty());
    h.shutdown().await;
}

/// P5: a profile opens a protected field without the field's scope.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p5_profile_opens_field() {
    let mut p = PolicyFiles::default();
    set(
        &mut p.afval,
        "/tables/0/schema/properties/eigenaarNaam/auth",
        json!("BAG/R"),
    );
    p.profiles.push(profile(
        "p5",
        Some(&["BRK/RSN"]),
        json!({"afvalwegingen": {"tables": {"containers": {"fields": {"eigenaarNaam": "read"}}}}}),
    ));
    let h = start(p).await;
    let fixture = by_id(&h.records("afvalwegingen", "containers"));
    let body = h
        .get_as("/api/afval/containers", &["BRK/RO", "BRK/RSN"])
        .await
        .ok();
    for item in items(&body, "containers") {
        assert_eq!(item["eigenaarNaam"], fixture[&id_of(item)]["eigenaarNaam"]);
        assert_eq!(item["serienummer"], fixture[&id_of(item)]["serienummer"]);
    }
    for scopes in [&[][..], &["BRK/RO"][..]] {
        let body = h.get_as("/api/afval/containers", scopes).await.ok();
        assert!(!has_key_anywhere(&body, "eigenaarNaam"));
    }
    h.shutdown().await;
}

/// P6: a profile without scopes applies to everyone; `letters:1` in list and detail.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p6_profile_for_everyone_letters() {
    let mut p = PolicyFiles::default();
    set(
        &mut p.afval,
        "/tables/0/schema/properties/eigenaarNaam/auth",
        json!("FOO/BAR"),
    );
    p.profiles.push(profile(
        "iedereen",
        None,
        json!({"afvalwegingen": {"tables": {"containers": {"fields": {"eigenaarNaam": "letters:1"}}}}}),
    ));
    let h = start(p).await;
    let fixture = by_id(&h.records("afvalwegingen", "containers"));
    let body = h
        .get_as("/api/afval/containers?_pageSize=60", &[])
        .await
        .ok();
    for item in items(&body, "containers") {
        let want = first_chars(&fixture[&id_of(item)]["eigenaarNaam"], 1);
        assert_eq!(item["eigenaarNaam"], want);
    }
    let d = h.get_as("/api/afval/containers/7", &[]).await.ok();
    assert_eq!(
        d["eigenaarNaam"],
        first_chars(&fixture["7"]["eigenaarNaam"], 1)
    );
    // The field's own scope reads it in full.
    let d = h.get_as("/api/afval/containers/7", &["FOO/BAR"]).await.ok();
    assert_eq!(d["eigenaarNaam"], fixture["7"]["eigenaarNaam"]);
    h.shutdown().await;
}

fn p7_policy() -> PolicyFiles {
    let mut p = PolicyFiles::default();
    set(&mut p.parkeren, "/tables/0/auth", json!("DATASET/SCOPE"));
    p.profiles.push(profile(
        "profiel-a",
        Some(&["PROFIEL/SCOPE"]),
        json!({"parkeervakken": {"tables": {"parkeervakken": {
            "permissions": "read",
            "fields": {"soort": "letters:1"},
            "mandatoryFilterSets": [["buurtcode", "type"], ["regimes.eindtijd"]]
        }}}}),
    ));
    p.profiles.push(profile(
        "profiel-b",
        Some(&["PROFIEL2/SCOPE"]),
        json!({"parkeervakken": {"tables": {"parkeervakken": {
            "permissions": "read",
            "mandatoryFilterSets": [["regimes.aantal[gte]"]]
        }}}}),
    ));
    p
}

/// P7 and P8: mandatory filter sets (OR of ANDs, literal names, non-empty values); `auth`
/// beats profiles and makes filters optional.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p7_p8_mandatory_filter_sets() {
    let h = start(p7_policy()).await;
    let vak = h.records("parkeervakken", "parkeervakken")[0].clone();
    let (buurt, typ) = (
        vak["buurtcode"].as_str().unwrap().to_owned(),
        vak["type"].as_str().unwrap().to_owned(),
    );
    let real = format!("?buurtcode={}&type={}", q(&buurt), q(&typ));
    let a = &["PROFIEL/SCOPE"][..];
    let b = &["PROFIEL2/SCOPE"][..];
    let both = &["PROFIEL/SCOPE", "PROFIEL2/SCOPE"][..];
    let cases: Vec<(&[&str], String, u16)> = vec![
        (&[], String::new(), 403),
        (a, "?buurtcode=A05d".into(), 403),
        (a, "?buurtcode=A05d&type=E9".into(), 200),
        (a, real.clone(), 200),
        (a, "?buurtcode[like]=*&type[like]=*".into(), 403),
        (a, "?regimes.eindtijd=20:05".into(), 200),
        (a, "?regimes.eindtijd=".into(), 403),
        (a, "?regimes.eindtijd".into(), 403),
        (b, "?regimes.aantal[gte]=2".into(), 200),
        (b, "?regimes.aantal=2".into(), 403),
        (both, String::new(), 403),
        (both, "?regimes.eindtijd=20:05".into(), 200),
        (both, "?regimes.aantal[gte]=2".into(), 200),
    ];
    for (scopes, query, status) in cases {
        let r = h
            .get_as(&format!("/api/parkeren/parkeervakken{query}"), scopes)
            .await;
        assert_eq!(r.status, status, "{scopes:?} {query}: {}", r.text());
        if status == 403 {
            r.problem(403, "forbidden");
        }
    }

    // Profile A's own limit applies on its path...
    let body = h
        .get_as(&format!("/api/parkeren/parkeervakken{real}"), a)
        .await
        .ok();
    let found = items(&body, "parkeervakken");
    assert!(found.iter().any(|i| i["id"] == vak["id"]), "{body}");
    for item in found {
        assert_eq!(item["soort"].as_str().unwrap().chars().count(), 1, "{item}");
    }

    // P8: the auth path gives every field in full, with or without an active profile.
    let all = ["aantal", "buurtcode", "id", "regimes", "soort", "type"];
    let fixture = by_id(&h.records("parkeervakken", "parkeervakken"));
    let body = h
        .get_as("/api/parkeren/parkeervakken", &["DATASET/SCOPE"])
        .await
        .ok();
    for item in items(&body, "parkeervakken") {
        assert_eq!(data_keys(item), all);
        assert_eq!(item["soort"], fixture[&id_of(item)]["soort"]);
    }
    let body = h
        .get_as(
            &format!("/api/parkeren/parkeervakken{real}"),
            &["DATASET/SCOPE", "PROFIEL/SCOPE"],
        )
        .await
        .ok();
    for item in items(&body, "parkeervakken") {
        assert_eq!(data_keys(item), all);
        assert_eq!(
            item["soort"],
            fixture[&id_of(item)]["soort"],
            "letters:1 applied"
        );
    }
    let r = h
        .get_as(
            "/api/parkeren/parkeervakken?regimes.noSuchField=x",
            &["DATASET/SCOPE"],
        )
        .await;
    let doc = r.problem(400, "paramsValidation");
    assert_eq!(
        doc["invalidParams"][0]["name"],
        json!("regimes.noSuchField")
    );
    h.get_as("/api/parkeren/parkeervakken?regimes.noSuchField=x", both)
        .await
        .problem(403, "forbidden");
    h.shutdown().await;
}

fn p9_profile() -> Value {
    profile(
        "p9",
        Some(&["PROFIEL/SCOPE"]),
        json!({"parkeervakken": {"tables": {"parkeervakken": {
            "mandatoryFilterSets": [["id"]],
            "fields": {"type": "read", "soort": "letters:1"}
        }}}}),
    )
}

/// P9 and P10: field-only profiles; the detail URL satisfies `id`; a second profile joins
/// when its filter set is met and the maximum per field wins.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p9_p10_field_only_profiles() {
    let mut p = PolicyFiles::default();
    set(&mut p.parkeren, "/auth", json!("DATASET/SCOPE"));
    p.profiles.push(p9_profile());
    let h = start(p).await;
    let vak = h.records("parkeervakken", "parkeervakken")[3].clone();
    let id = vak["id"].as_str().unwrap().to_owned();
    let path = format!("/api/parkeren/parkeervakken/{id}");
    let r = h.get_as(&path, &["PROFIEL/SCOPE"]).await;
    no_upstream_address(&h, &r);
    let body = r.ok();
    // sluis delivers the identifier with the table (DESIGN: identifiers travel with the table).
    assert_eq!(data_keys(&body), ["id", "soort", "type"], "{body}");
    assert_eq!(body["type"], vak["type"]);
    assert_eq!(body["soort"], first_chars(&vak["soort"], 1));
    assert_eq!(body["id"], json!(id));
    assert_eq!(
        body["_links"]["self"]["href"],
        json!(format!("{}{path}", h.api))
    );
    assert_eq!(body["_links"]["self"]["id"], json!(id));
    // The list does not satisfy the `id` set.
    h.get_as("/api/parkeren/parkeervakken", &["PROFIEL/SCOPE"])
        .await
        .problem(403, "forbidden");

    // P10: add profile B, reload.
    let mut p = PolicyFiles::default();
    set(&mut p.parkeren, "/auth", json!("DATASET/SCOPE"));
    p.profiles.push(p9_profile());
    p.profiles.push(profile(
        "p10b",
        Some(&["PROFIEL2/SCOPE"]),
        json!({"parkeervakken": {"tables": {"parkeervakken": {
            "mandatoryFilterSets": [["id", "type"]],
            "fields": {"type": "letters:1", "soort": "read"}
        }}}}),
    ));
    h.write_policy(&p);
    h.server().reload().await.unwrap();
    let s = &["PROFIEL/SCOPE", "PROFIEL2/SCOPE"][..];
    let body = h.get_as(&path, s).await.ok();
    assert_eq!(body["type"], vak["type"]);
    assert_eq!(body["soort"], first_chars(&vak["soort"], 1));
    let typ = vak["type"].as_str().unwrap();
    let body = h.get_as(&format!("{path}?type={}", q(typ)), s).await.ok();
    assert_eq!(body["type"], vak["type"]);
    assert_eq!(body["soort"], vak["soort"]);
    // A filter that excludes the object: 404, and nothing of it.
    let other = ["Langs", "Haaks", "Schuin", "Vork"]
        .into_iter()
        .find(|t| *t != typ)
        .unwrap();
    let r = h.get_as(&format!("{path}?type={other}"), s).await;
    let doc = r.problem(404, "notFound");
    assert_eq!(doc["instance"], json!(path));
    assert!(!has_key_anywhere(&doc, "soort") && !has_key_anywhere(&doc, "_links"));
    h.shutdown().await;
}

/// P9, the part sluis does not do yet: DSO also drops `_links.schema` for a field-only profile.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p9_schema_link_absent() {
    let mut p = PolicyFiles::default();
    set(&mut p.parkeren, "/auth", json!("DATASET/SCOPE"));
    p.profiles.push(p9_profile());
    let h = start(p).await;
    let id = h.records("parkeervakken", "parkeervakken")[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = h
        .get_as(
            &format!("/api/parkeren/parkeervakken/{id}"),
            &["PROFIEL/SCOPE"],
        )
        .await
        .ok();
    assert!(body["_links"].get("schema").is_none(), "{body}");
    h.shutdown().await;
}

/// P11: detail view and mandatory filters: 403 without a met set, 404 when an applied filter
/// excludes the object.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p11_detail_view_and_mandatory_filters() {
    let mut p = PolicyFiles::default();
    set(&mut p.parkeren, "/tables/0/auth", json!("DATASET/SCOPE"));
    let read = |id: &str, scope: &str, sets: Value| {
        profile(
            id,
            Some(&[scope]),
            json!({"parkeervakken": {"tables": {"parkeervakken": {
                "permissions": "read", "mandatoryFilterSets": sets}}}}),
        )
    };
    p.profiles
        .push(read("may-not", "MAY/NOT", json!([["buurtcode", "type"]])));
    p.profiles.push(read(
        "may-enter",
        "MAY/ENTER",
        json!([["buurtcode", "type"], ["id"]]),
    ));
    p.profiles.push(read(
        "only-buurt",
        "ONLY/BUURT",
        json!([["id", "buurtcode"]]),
    ));
    let h = start(p).await;
    let vak = h.records("parkeervakken", "parkeervakken")[5].clone();
    let id = vak["id"].as_str().unwrap();
    let buurt = vak["buurtcode"].as_str().unwrap();
    let path = format!("/api/parkeren/parkeervakken/{id}");
    let cases: Vec<(&str, String, u16)> = vec![
        ("MAY/NOT", String::new(), 403),
        ("MAY/NOT", "?soort=FISCAAL".into(), 403),
        ("MAY/NOT", "?buurtcode=1&type=1".into(), 404),
        ("MAY/ENTER", String::new(), 200),
        ("MAY/ENTER", "?buurtcode=Z99z".into(), 404),
        ("ONLY/BUURT", String::new(), 403),
        ("ONLY/BUURT", format!("?buurtcode={buurt}"), 200),
        ("ONLY/BUURT", "?buurtcode=Z99z".into(), 404),
        ("DATASET/SCOPE", String::new(), 200),
    ];
    for (scope, query, status) in cases {
        let r = h.get_as(&format!("{path}{query}"), &[scope]).await;
        assert_eq!(r.status, status, "{scope} {query}: {}", r.text());
        match status {
            200 => assert_eq!(r.json()["id"], vak["id"]),
            404 => {
                r.problem(404, "notFound");
                assert!(!r.text().contains(buurt), "the excluded object leaked");
            }
            _ => {
                r.problem(403, "forbidden");
            }
        }
    }
    h.shutdown().await;
}

/// P12: profiles merge by maximum (read > encoded); `encoded` is 32 hex digits, deterministic
/// and linkable; the auth path overrides a profile's `encoded`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p12_merging_and_encoded() {
    let profiles = vec![
        profile(
            "brk-rid",
            Some(&["BRK/RID"]),
            json!({"afvalwegingen": {"tables": {"containers": {"fields": {
                "id": "read", "serienummer": "read"}}}}}),
        ),
        profile(
            "brk-encoded",
            Some(&["BRK/ENCODED"]),
            json!({"afvalwegingen": {"tables": {"containers": {"fields": {
                "serienummer": "encoded", "eigenaarNaam": "encoded"}}}}}),
        ),
    ];
    let mut p = PolicyFiles::default();
    set(&mut p.afval, "/auth", json!("MAG/NIET"));
    p.profiles = profiles.clone();
    let h = start(p).await;
    let fixture = by_id(&h.records("afvalwegingen", "containers"));
    let list = "/api/afval/containers?_pageSize=60";
    let both = &["BRK/RID", "BRK/ENCODED"][..];

    let first = h.get_as(list, both).await.ok();
    let second = h.get_as(list, both).await.ok();
    let mut code_of_owner: std::collections::HashMap<String, String> = Default::default();
    for item in items(&first, "containers") {
        let want = &fixture[&id_of(item)];
        assert_eq!(data_keys(item), ["eigenaarNaam", "id", "serienummer"]);
        assert_eq!(
            item["serienummer"], want["serienummer"],
            "read beats encoded"
        );
        let code = item["eigenaarNaam"].as_str().unwrap();
        assert!(is_hex32(code), "{code}");
        assert_eq!(
            code,
            encoded(
                "afvalwegingen.containers.eigenaarNaam",
                &want["eigenaarNaam"]
            )
        );
        let owner = want["eigenaarNaam"].as_str().unwrap().to_owned();
        // Linkable: the same owner always gets the same code, another owner another code.
        if let Some(prev) = code_of_owner.insert(owner.clone(), code.to_owned()) {
            assert_eq!(prev, code);
        }
        assert!(!first.to_string().contains(&owner));
    }
    let distinct: std::collections::HashSet<&String> = code_of_owner.values().collect();
    assert_eq!(distinct.len(), code_of_owner.len());
    assert!(code_of_owner.len() > 1);
    assert_eq!(first["_embedded"], second["_embedded"], "codes are stable");

    let body = h.get_as(list, &["BRK/RID"]).await.ok();
    for item in items(&body, "containers") {
        assert_eq!(data_keys(item), ["id", "serienummer"]);
    }
    h.get_as(list, &["MAG/NIET-NIET"])
        .await
        .problem(403, "forbidden");

    // The auth path wins over the profile's `encoded`.
    let mut p = PolicyFiles::default();
    set(&mut p.afval, "/auth", json!("DATASET/SCOPE"));
    p.profiles = profiles;
    h.write_policy(&p);
    h.server().reload().await.unwrap();
    let body = h.get_as(list, &["BRK/ENCODED", "DATASET/SCOPE"]).await.ok();
    for item in items(&body, "containers") {
        let want = &fixture[&id_of(item)];
        assert_eq!(item["eigenaarNaam"], want["eigenaarNaam"]);
        assert_eq!(item["serienummer"], want["serienummer"]);
        assert_eq!(item["datumCreatie"], want["datumCreatie"]);
    }
    h.shutdown().await;
}

/// P13: table read plus a field downgrade within one profile, with need-to-know filters.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p13_encoded_bsn_with_need_to_know() {
    let mut p = PolicyFiles::default();
    p.profiles.push(profile(
        "brp-rname",
        Some(&["BRP/RNAME"]),
        json!({"brp": {"tables": {"ingeschrevenpersonen": {
            "permissions": "read",
            "fields": {"bsn": "encoded"},
            "mandatoryFilterSets": [["bsn", "geslachtsnaam"], ["verblijfplaats.postcode", "geslachtsnaam"]],
            "exactFilters": ["bsn"]
        }}}}),
    ));
    let h = start(p).await;
    let person = h.record("brp", "ingeschrevenpersonen", "9");
    let pc = person["verblijfplaats"]["postcode"].as_str().unwrap();
    let naam = person["geslachtsnaam"].as_str().unwrap();
    let bsn = person["bsn"].as_str().unwrap();
    let base = "/api/brp/ingeschrevenpersonen";
    let rname = &["BRP/RNAME"][..];

    h.get_as(&format!("{base}?verblijfplaats.postcode={pc}"), rname)
        .await
        .problem(403, "forbidden");
    h.get_as(&format!("{base}/9"), rname)
        .await
        .problem(403, "forbidden");

    let mut codes = Vec::new();
    for query in [
        format!("?verblijfplaats.postcode={pc}&geslachtsnaam={}", q(naam)),
        format!("?bsn={bsn}&geslachtsnaam={}", q(naam)),
    ] {
        let r = h.get_as(&format!("{base}{query}"), rname).await;
        let body = r.ok();
        // The caller's own query comes back in the list's self link; nowhere else.
        let mut rest = body.clone();
        rest["_links"].as_object_mut().unwrap().remove("self");
        assert!(
            !rest.to_string().contains(bsn),
            "the BSN leaked: {query} {body}"
        );
        let found = items(&body, "ingeschrevenpersonen");
        let item = found
            .iter()
            .find(|i| i["id"] == json!(9))
            .expect("person 9");
        let code = item["bsn"].as_str().unwrap();
        assert!(is_hex32(code));
        assert_eq!(code, encoded("brp.ingeschrevenpersonen.bsn", &json!(bsn)));
        codes.push(code.to_owned());
        for k in [
            "voornamen",
            "geslachtsnaam",
            "geboortedatum",
            "verblijfplaats",
            "nationaliteiten",
        ] {
            assert_eq!(item[k], person[k], "{k}");
        }
    }
    assert_eq!(codes[0], codes[1], "encoded is stable across requests");

    let body = h
        .get_as(&format!("{base}?_pageSize=5"), &["BRP/R"])
        .await
        .ok();
    let people = by_id(&h.records("brp", "ingeschrevenpersonen"));
    for item in items(&body, "ingeschrevenpersonen") {
        assert_eq!(item["bsn"], people[&id_of(item)]["bsn"]);
    }
    h.shutdown().await;
}

/// P14: filterAuth, sorting on a protected field, and expansion across protection boundaries.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn p14_filter_sort_expand() {
    let mut p = PolicyFiles::default();
    let props = "/tables/0/schema/properties";
    set(
        &mut p.afval,
        &format!("{props}/eigenaarNaam/filterAuth"),
        json!(["SEE/CREATION"]),
    );
    set(
        &mut p.afval,
        &format!("{props}/datumCreatie/auth"),
        json!("SEE/CREATION"),
    );
    set(&mut p.afval, "/tables/1/auth", json!("BAG/R"));
    let h = start(p).await;
    let fixture = by_id(&h.records("afvalwegingen", "containers"));
    let base = "/api/afval/containers";

    let doc = h
        .get_as(&format!("{base}?eigenaarNaam=FOOBAR"), &[])
        .await
        .problem(403, "filterNotAllowed");
    assert_eq!(
        doc["title"],
        json!("Access denied to filter on: eigenaarNaam")
    );
    assert_eq!(doc["invalidParams"][0]["name"], json!("eigenaarNaam"));
    let body = h.get_as(base, &[]).await.ok();
    for item in items(&body, "containers") {
        assert_eq!(item["eigenaarNaam"], fixture[&id_of(item)]["eigenaarNaam"]);
        assert!(item.get("datumCreatie").is_none());
    }
    let owner = fixture["1"]["eigenaarNaam"].as_str().unwrap();
    let body = h
        .get_as(
            &format!("{base}?eigenaarNaam={}", q(owner)),
            &["SEE/CREATION"],
        )
        .await
        .ok();
    assert!(
        items(&body, "containers")
            .iter()
            .all(|i| i["eigenaarNaam"] == json!(owner))
    );

    let doc = h
        .get_as(&format!("{base}?_sort=datumCreatie"), &[])
        .await
        .problem(403, "filterNotAllowed");
    assert_eq!(
        doc["title"],
        json!("Access denied to filter on: datumCreatie")
    );
    let body = h
        .get_as(
            &format!("{base}?_sort=-datumCreatie&_pageSize=60"),
            &["SEE/CREATION"],
        )
        .await
        .ok();
    let dates: Vec<&str> = items(&body, "containers")
        .iter()
        .map(|i| i["datumCreatie"].as_str().unwrap())
        .collect();
    let mut sorted = dates.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(dates, sorted);

    let doc = h
        .get_as(&format!("{base}?_expandScope=cluster"), &[])
        .await
        .problem(403, "expandNotAllowed");
    assert_eq!(
        doc["title"],
        json!("Eager loading not allowed for field 'cluster'")
    );

    let r = h
        .get_as(&format!("{base}?_expand=true"), &["BAG/NOPE"])
        .await;
    let body = r.ok();
    assert!(body["_embedded"].get("cluster").is_none(), "{body}");
    for item in items(&body, "containers") {
        assert!(item["_links"].get("cluster").is_none(), "{item}");
        assert_eq!(item["clusterId"], fixture[&id_of(item)]["clusterId"]);
    }
    assert!(!r.text().contains("/clusters/"), "a cluster link leaked");

    for query in ["?_expand=true", "?_expandScope=cluster"] {
        let r = h.get_as(&format!("{base}{query}"), &["BAG/R"]).await;
        no_upstream_address(&h, &r);
        let body = r.ok();
        let embedded = items(&body, "cluster");
        assert!(!embedded.is_empty());
        for c in embedded {
            assert_eq!(data_keys(c), ["adres", "id", "status"]);
        }
        for item in items(&body, "containers") {
            let cid = fixture[&id_of(item)]["clusterId"]
                .as_str()
                .unwrap()
                .to_owned();
            assert_eq!(
                item["_links"]["cluster"]["href"],
                json!(format!("{}/api/afval/clusters/{cid}", h.api))
            );
        }
    }
    let body = h
        .get_as(&format!("{base}/2?_expandScope=cluster"), &["BAG/R"])
        .await
        .ok();
    assert_eq!(
        body["_embedded"]["cluster"]["id"],
        fixture["2"]["clusterId"]
    );
    h.shutdown().await;
}

/// `_fields` narrowing, unknown and hidden `_fields`, unknown and protected filters, and link
/// rewriting (no upstream address anywhere in a body).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fields_filters_and_links() {
    let mut p = PolicyFiles::default();
    set(
        &mut p.afval,
        "/tables/0/schema/properties/eigenaarNaam/auth",
        json!(["BAG/R"]),
    );
    let h = start(p).await;
    let base = "/api/afval/containers";
    let fixture = by_id(&h.records("afvalwegingen", "containers"));

    let body = h
        .get_as(&format!("{base}?_fields=id,serienummer"), &[])
        .await
        .ok();
    for item in items(&body, "containers") {
        assert_eq!(data_keys(item), ["id", "serienummer"]);
    }
    let body = h
        .get_as(&format!("{base}/5?_fields=serienummer"), &[])
        .await
        .ok();
    assert_eq!(data_keys(&body), ["serienummer"]);
    let body = h
        .get_as(&format!("{base}?_fields=eigenaarNaam"), &["BAG/R"])
        .await
        .ok();
    for item in items(&body, "containers") {
        assert_eq!(data_keys(item), ["eigenaarNaam"]);
    }

    let doc = h
        .get_as(&format!("{base}?_fields=id,nope"), &[])
        .await
        .problem(400, "paramsValidation");
    assert_eq!(doc["invalidParams"][0]["name"], json!("nope"));
    let doc = h
        .get_as(&format!("{base}?_fields=id,eigenaarNaam"), &[])
        .await
        .problem(403, "fieldsNotAllowed");
    assert_eq!(doc["invalidParams"][0]["name"], json!("eigenaarNaam"));

    let doc = h
        .get_as(&format!("{base}?noSuchField=1"), &[])
        .await
        .problem(400, "paramsValidation");
    assert_eq!(doc["invalidParams"][0]["name"], json!("noSuchField"));
    let doc = h
        .get_as(&format!("{base}?eigenaarNaam=x"), &[])
        .await
        .problem(403, "filterNotAllowed");
    assert_eq!(
        doc["title"],
        json!("Access denied to filter on: eigenaarNaam")
    );

    let serie = fixture["12"]["serienummer"].as_str().unwrap();
    let body = h
        .get_as(&format!("{base}?serienummer={serie}"), &[])
        .await
        .ok();
    assert_eq!(items(&body, "containers").len(), 1);
    assert_eq!(items(&body, "containers")[0]["id"], json!(12));

    // Links point at sluis, with the mount's prefix, and keep the query.
    let r = h
        .get_as(&format!("{base}?_pageSize=5&_expand=true"), &["BAG/R"])
        .await;
    no_upstream_address(&h, &r);
    let body = r.ok();
    assert_eq!(
        body["_links"]["self"]["href"],
        json!(format!("{}{base}?_pageSize=5&_expand=true", h.api))
    );
    assert_eq!(
        body["_links"]["next"]["href"],
        json!(format!("{}{base}?_pageSize=5&_expand=true&page=2", h.api))
    );
    for item in items(&body, "containers") {
        assert_eq!(
            item["_links"]["self"]["href"],
            json!(format!("{}{base}/{}", h.api, id_of(item)))
        );
    }
    for href in hrefs(&body) {
        assert!(
            href.starts_with(&h.api) || href.starts_with("https://schemas.data.amsterdam.nl/"),
            "{href}"
        );
    }
    let body = h
        .get_as(&format!("{base}?_pageSize=5&page=3"), &[])
        .await
        .ok();
    assert_eq!(
        body["_links"]["previous"]["href"],
        json!(format!("{}{base}?_pageSize=5&page=2", h.api))
    );
    assert_eq!(body["page"]["number"], json!(3));

    // An unknown table or path under a mount is a 404 of sluis's own; other paths too.
    h.get_as("/api/afval/nope", &[])
        .await
        .problem(404, "notFound");
    h.get_as("/elsewhere", &[]).await.problem(404, "notFound");
    h.shutdown().await;
}
