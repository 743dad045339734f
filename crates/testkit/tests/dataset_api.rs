//! The dataset fixture over real HTTP: lists, paging, filters, sorting, fields, expansion,
//! errors, and the properties of the generated data.

// Integration-test helpers are test code too; this lets clippy's test allowances apply.
#![cfg(test)]

mod common;

use std::collections::{BTreeSet, HashSet};

use common::{assert_problem, get, get_with, ids};
use hyper::Method;
use serde_json::{Value, json};
use sluis_testkit::{DatasetFixture, FixtureConfig, FixtureHandle, bsn_is_valid};

async fn fixture() -> FixtureHandle {
    DatasetFixture::start(FixtureConfig::default())
        .await
        .unwrap()
}

fn count(body: &Value) -> u64 {
    body["page"]["totalElements"].as_u64().unwrap()
}

#[tokio::test]
async fn list_has_hal_shape_and_first_page() {
    let fx = fixture().await;
    let base = fx.base_url();
    assert!(base.starts_with("http://127.0.0.1:"));
    let resp = get(&format!("{base}/v1/afvalwegingen/containers")).await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.content_type(), "application/hal+json");
    assert_eq!(
        resp.headers["content-length"].to_str().unwrap(),
        resp.body.len().to_string()
    );
    let body = resp.json();
    assert_eq!(
        body["page"],
        json!({"number": 1, "size": 20, "totalElements": 200, "totalPages": 10})
    );
    assert_eq!(
        body["_links"]["self"]["href"],
        format!("{base}/v1/afvalwegingen/containers")
    );
    assert_eq!(
        body["_links"]["next"]["href"],
        format!("{base}/v1/afvalwegingen/containers?page=2")
    );
    assert!(body["_links"].get("previous").is_none());
    let keys: Vec<&String> = body.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["_links", "_embedded", "page"]);
    assert_eq!(
        ids(&body, "containers"),
        (1..=20).map(|i| json!(i)).collect::<Vec<_>>()
    );
    fx.shutdown().await.unwrap();
}

#[tokio::test]
async fn records_carry_dso_links_and_all_schema_fields() {
    let fx = fixture().await;
    let base = fx.base_url();
    let body = get(&format!("{base}/v1/afvalwegingen/containers?_pageSize=200"))
        .await
        .json();
    for c in body["_embedded"]["containers"].as_array().unwrap() {
        let keys: Vec<&String> = c.as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "_links",
                "id",
                "serienummer",
                "fractieOmschrijving",
                "eigenaarNaam",
                "datumCreatie",
                "clusterId"
            ]
        );
        let id = c["id"].as_u64().unwrap();
        let cluster = c["clusterId"].as_str().unwrap();
        assert_eq!(
            c["_links"],
            json!({
                "self": {"href": format!("{base}/v1/afvalwegingen/containers/{id}"), "title": id.to_string(), "id": id},
                "schema": "https://schemas.data.amsterdam.nl/datasets/afvalwegingen/dataset#containers",
                "cluster": {"href": format!("{base}/v1/afvalwegingen/clusters/{cluster}"), "title": cluster, "id": cluster},
            })
        );
        // The link points at a cluster that exists.
        assert_eq!(
            get(c["_links"]["cluster"]["href"].as_str().unwrap())
                .await
                .status,
            200
        );
    }

    let person = get(&format!("{base}/v1/brp/ingeschrevenpersonen/1"))
        .await
        .json();
    let keys: Vec<&String> = person.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "_links",
            "id",
            "bsn",
            "voornamen",
            "geslachtsnaam",
            "geboortedatum",
            "verblijfplaats",
            "nationaliteiten"
        ]
    );
    let vp: Vec<&String> = person["verblijfplaats"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(vp, ["straat", "huisnummer", "postcode", "woonplaats"]);
    let nat: Vec<&String> = person["nationaliteiten"][0]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(nat, ["code", "omschrijving"]);
    assert_eq!(
        person["_links"]["schema"],
        "https://schemas.data.amsterdam.nl/datasets/brp/dataset#ingeschrevenpersonen"
    );

    let cluster = get(&format!("{base}/v1/afvalwegingen/clusters/C0001"))
        .await
        .json();
    let keys: Vec<&String> = cluster.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["_links", "id", "status", "adres"]);
    assert_eq!(cluster["_links"]["self"]["id"], "C0001");

    let vak = get(&format!(
        "{base}/v1/parkeervakken/parkeervakken?_pageSize=1"
    ))
    .await
    .json();
    let vak = &vak["_embedded"]["parkeervakken"][0];
    let keys: Vec<&String> = vak.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "_links",
            "id",
            "buurtcode",
            "type",
            "soort",
            "aantal",
            "regimes"
        ]
    );
    assert!(vak["id"].is_string() && vak["aantal"].is_number());
    let reg: Vec<&String> = vak["regimes"][0].as_object().unwrap().keys().collect();
    assert_eq!(reg, ["eindtijd", "aantal"]);
}

#[tokio::test]
async fn pagination_links_walk_every_record_once() {
    let fx = fixture().await;
    let base = fx.base_url();
    let mut url = format!("{base}/v1/brp/ingeschrevenpersonen?_pageSize=70&_sort=-id");
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let body = get(&url).await.json();
        pages += 1;
        assert_eq!(body["page"]["number"], pages);
        assert_eq!(body["page"]["totalPages"], 8);
        assert_eq!(body["_links"]["self"]["href"], url.as_str());
        if pages > 1 {
            let prev = body["_links"]["previous"]["href"].as_str().unwrap();
            let prev_body = get(prev).await.json();
            assert_eq!(prev_body["page"]["number"], pages - 1);
        } else {
            assert!(body["_links"].get("previous").is_none());
        }
        seen.extend(ids(&body, "ingeschrevenpersonen"));
        match body["_links"].get("next") {
            Some(next) => url = next["href"].as_str().unwrap().to_owned(),
            None => break,
        }
    }
    assert_eq!(pages, 8);
    assert_eq!(seen, (1..=500).rev().map(|i| json!(i)).collect::<Vec<_>>());
    // previous of page 2 drops `page` entirely, as DRF does.
    let body = get(&format!(
        "{base}/v1/brp/ingeschrevenpersonen?page=2&_pageSize=5"
    ))
    .await
    .json();
    assert_eq!(
        body["_links"]["previous"]["href"],
        format!("{base}/v1/brp/ingeschrevenpersonen?_pageSize=5")
    );
}

#[tokio::test]
async fn page_size_is_clamped_and_validated() {
    let fx = fixture().await;
    let base = fx.base_url();
    let body = get(&format!(
        "{base}/v1/brp/ingeschrevenpersonen?_pageSize=5000"
    ))
    .await
    .json();
    assert_eq!(body["page"]["size"], 1000);
    assert_eq!(ids(&body, "ingeschrevenpersonen").len(), 500);
    assert!(body["_links"].get("next").is_none());

    let path = "/v1/brp/ingeschrevenpersonen";
    let resp = get(&format!("{base}{path}?_pageSize=0")).await;
    assert_problem(&resp, 400, path);
    let resp = get(&format!("{base}{path}?page=abc")).await;
    assert_problem(&resp, 400, path);
    let resp = get(&format!("{base}{path}?page=26")).await;
    assert_problem(&resp, 404, path);
}

#[tokio::test]
async fn links_use_the_request_host() {
    let fx = fixture().await;
    let url = format!(
        "{}/v1/afvalwegingen/containers/3?_expandScope=cluster",
        fx.base_url()
    );
    let body = get_with(&url, &[("host", "upstream.internal:8443")])
        .await
        .json();
    assert_eq!(
        body["_links"]["self"]["href"],
        "http://upstream.internal:8443/v1/afvalwegingen/containers/3"
    );
    assert!(
        body["_links"]["cluster"]["href"]
            .as_str()
            .unwrap()
            .starts_with("http://upstream.internal:8443/v1/afvalwegingen/clusters/")
    );
    assert!(
        body["_embedded"]["cluster"]["_links"]["self"]["href"]
            .as_str()
            .unwrap()
            .starts_with("http://upstream.internal:8443/")
    );
}

#[tokio::test]
async fn filters_with_operators() {
    let fx = fixture().await;
    let base = fx.base_url();
    let list = |q: &str| format!("{base}/v1/afvalwegingen/containers?_pageSize=1000&{q}");

    let body = get(&list("id[gte]=10&id[lte]=19")).await.json();
    assert_eq!(
        ids(&body, "containers"),
        (10..=19).map(|i| json!(i)).collect::<Vec<_>>()
    );
    let body = get(&list("id[gt]=10&id[lt]=19")).await.json();
    assert_eq!(
        ids(&body, "containers"),
        (11..=18).map(|i| json!(i)).collect::<Vec<_>>()
    );
    let body = get(&list("id=7")).await.json();
    assert_eq!(ids(&body, "containers"), [json!(7)]);
    let body = get(&list("id[in]=3,5,400")).await.json();
    assert_eq!(ids(&body, "containers"), [json!(3), json!(5)]);
    let body = get(&list("id[not]=1")).await.json();
    assert_eq!(count(&body), 199);

    let containers = fx
        .data()
        .table("afvalwegingen", "containers")
        .unwrap()
        .records();
    // Equality on a string with spaces and a comma, percent-encoded.
    let owner = containers[0]["eigenaarNaam"].as_str().unwrap();
    let expected = containers
        .iter()
        .filter(|c| c["eigenaarNaam"] == owner)
        .count();
    let encoded = owner.replace(' ', "%20").replace(',', "%2C");
    let body = get(&list(&format!("eigenaarNaam={encoded}"))).await.json();
    assert_eq!(count(&body) as usize, expected);
    assert!(expected >= 1);

    let glass = containers
        .iter()
        .filter(|c| {
            c["fractieOmschrijving"]
                .as_str()
                .unwrap()
                .starts_with("Glas")
        })
        .count();
    let body = get(&list("fractieOmschrijving[like]=Glas*")).await.json();
    assert_eq!(count(&body) as usize, glass);
    assert!(glass > 0 && glass < 200);
    // Brackets may arrive percent-encoded.
    let body = get(&list("fractieOmschrijving%5Blike%5D=Glas*"))
        .await
        .json();
    assert_eq!(count(&body) as usize, glass);

    let in_two = containers
        .iter()
        .filter(|c| ["C0001", "C0002"].contains(&c["clusterId"].as_str().unwrap()))
        .count();
    let body = get(&list("clusterId[in]=C0001,C0002")).await.json();
    assert_eq!(count(&body) as usize, in_two);
    // The relation name filters on its key, as DSO allows.
    let body = get(&list("cluster=C0001")).await.json();
    for c in body["_embedded"]["containers"].as_array().unwrap() {
        assert_eq!(c["clusterId"], "C0001");
    }

    let since = containers
        .iter()
        .filter(|c| c["datumCreatie"].as_str().unwrap() >= "2020-01-01")
        .count();
    let body = get(&list("datumCreatie[gte]=2020-01-01")).await.json();
    assert_eq!(count(&body) as usize, since);

    let body = get(&list("datumCreatie[isnull]=true")).await.json();
    assert_eq!(count(&body), 0);
    let body = get(&list("datumCreatie[isnull]=false")).await.json();
    assert_eq!(count(&body), 200);
}

#[tokio::test]
async fn nested_and_array_filters() {
    let fx = fixture().await;
    let base = fx.base_url();
    let persons = fx
        .data()
        .table("brp", "ingeschrevenpersonen")
        .unwrap()
        .records();
    let postcode = persons[41]["verblijfplaats"]["postcode"].as_str().unwrap();
    let body = get(&format!(
        "{base}/v1/brp/ingeschrevenpersonen?verblijfplaats.postcode={postcode}"
    ))
    .await
    .json();
    let found = body["_embedded"]["ingeschrevenpersonen"]
        .as_array()
        .unwrap();
    assert!(found.iter().any(|p| p["id"] == 42));
    for p in found {
        assert_eq!(p["verblijfplaats"]["postcode"], postcode);
    }

    let weesp = persons
        .iter()
        .filter(|p| {
            p["verblijfplaats"]["postcode"]
                .as_str()
                .unwrap()
                .starts_with("138")
        })
        .count();
    let body = get(&format!(
        "{base}/v1/brp/ingeschrevenpersonen?verblijfplaats.postcode[like]=138*&_pageSize=1000"
    ))
    .await
    .json();
    assert_eq!(count(&body) as usize, weesp);

    let belgian = persons
        .iter()
        .filter(|p| {
            p["nationaliteiten"]
                .as_array()
                .unwrap()
                .iter()
                .any(|n| n["code"] == "0052")
        })
        .count();
    let body = get(&format!(
        "{base}/v1/brp/ingeschrevenpersonen?nationaliteiten.code=0052"
    ))
    .await
    .json();
    assert_eq!(count(&body) as usize, belgian);

    let vakken = fx
        .data()
        .table("parkeervakken", "parkeervakken")
        .unwrap()
        .records();
    let late = vakken
        .iter()
        .filter(|v| {
            v["regimes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["eindtijd"].as_str().unwrap() >= "21:00")
        })
        .count();
    let body = get(&format!(
        "{base}/v1/parkeervakken/parkeervakken?regimes.eindtijd[gte]=21:00&_pageSize=1000"
    ))
    .await
    .json();
    assert_eq!(count(&body) as usize, late);
    assert!(late > 0 && late < 100);
    for v in body["_embedded"]["parkeervakken"].as_array().unwrap() {
        assert!(
            v["regimes"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r["eindtijd"].as_str().unwrap() >= "21:00")
        );
    }
}

#[tokio::test]
async fn sorting() {
    let fx = fixture().await;
    let base = fx.base_url();
    let body = get(&format!(
        "{base}/v1/afvalwegingen/containers?_sort=-id&_pageSize=3"
    ))
    .await
    .json();
    assert_eq!(
        ids(&body, "containers"),
        [json!(200), json!(199), json!(198)]
    );

    let body = get(&format!(
        "{base}/v1/brp/ingeschrevenpersonen?_sort=geslachtsnaam,-id&_pageSize=1000"
    ))
    .await
    .json();
    let rows = body["_embedded"]["ingeschrevenpersonen"]
        .as_array()
        .unwrap();
    for pair in rows.windows(2) {
        let (a, b) = (&pair[0], &pair[1]);
        let (na, nb) = (
            a["geslachtsnaam"].as_str().unwrap(),
            b["geslachtsnaam"].as_str().unwrap(),
        );
        assert!(
            na < nb || (na == nb && a["id"].as_u64() > b["id"].as_u64()),
            "{a} / {b}"
        );
    }

    let body = get(&format!(
        "{base}/v1/brp/ingeschrevenpersonen?_sort=verblijfplaats.postcode&_pageSize=1000"
    ))
    .await
    .json();
    let postcodes: Vec<&str> = body["_embedded"]["ingeschrevenpersonen"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["verblijfplaats"]["postcode"].as_str().unwrap())
        .collect();
    let mut sorted = postcodes.clone();
    sorted.sort_unstable();
    assert_eq!(postcodes, sorted);

    let path = "/v1/brp/ingeschrevenpersonen";
    let resp = get(&format!("{base}{path}?_sort=schoenmaat")).await;
    let problem = assert_problem(&resp, 400, path);
    assert_eq!(problem["invalidParams"][0]["name"], "_sort");
}

#[tokio::test]
async fn fields_selection() {
    let fx = fixture().await;
    let base = fx.base_url();
    let body = get(&format!(
        "{base}/v1/afvalwegingen/containers?_fields=serienummer,id&_pageSize=2"
    ))
    .await
    .json();
    for c in body["_embedded"]["containers"].as_array().unwrap() {
        let keys: Vec<&String> = c.as_object().unwrap().keys().collect();
        assert_eq!(keys, ["_links", "id", "serienummer"]);
        assert!(c["_links"]["cluster"].is_object());
    }

    let person = get(&format!(
        "{base}/v1/brp/ingeschrevenpersonen/9?_fields=bsn,verblijfplaats.postcode,nationaliteiten.code"
    ))
    .await
    .json();
    let keys: Vec<&String> = person.as_object().unwrap().keys().collect();
    assert_eq!(keys, ["_links", "bsn", "verblijfplaats", "nationaliteiten"]);
    let vp: Vec<&String> = person["verblijfplaats"]
        .as_object()
        .unwrap()
        .keys()
        .collect();
    assert_eq!(vp, ["postcode"]);
    for n in person["nationaliteiten"].as_array().unwrap() {
        let k: Vec<&String> = n.as_object().unwrap().keys().collect();
        assert_eq!(k, ["code"]);
    }

    let person = get(&format!(
        "{base}/v1/brp/ingeschrevenpersonen/9?_fields=-bsn,-verblijfplaats"
    ))
    .await
    .json();
    let keys: Vec<&String> = person.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "_links",
            "id",
            "voornamen",
            "geslachtsnaam",
            "geboortedatum",
            "nationaliteiten"
        ]
    );

    let path = "/v1/brp/ingeschrevenpersonen";
    let resp = get(&format!("{base}{path}?_fields=id,haarkleur")).await;
    let problem = assert_problem(&resp, 400, path);
    assert_eq!(problem["invalidParams"][0]["name"], "_fields");
}

#[tokio::test]
async fn expand_on_list_embeds_unique_clusters_of_the_page() {
    let fx = fixture().await;
    let base = fx.base_url();
    for q in ["_expandScope=cluster", "_expand=true"] {
        let body = get(&format!(
            "{base}/v1/afvalwegingen/containers?_pageSize=50&page=2&{q}"
        ))
        .await
        .json();
        let containers = body["_embedded"]["containers"].as_array().unwrap();
        assert_eq!(containers.len(), 50);
        let referenced: BTreeSet<&str> = containers
            .iter()
            .map(|c| c["clusterId"].as_str().unwrap())
            .collect();
        let embedded = body["_embedded"]["cluster"].as_array().unwrap();
        let embedded_ids: Vec<&str> = embedded.iter().map(|c| c["id"].as_str().unwrap()).collect();
        let unique: BTreeSet<&str> = embedded_ids.iter().copied().collect();
        assert_eq!(
            unique.len(),
            embedded_ids.len(),
            "duplicates in {embedded_ids:?}"
        );
        assert_eq!(unique, referenced);
        for c in embedded {
            assert!(c["status"].is_string() && c["adres"]["postcode"].is_string());
            assert_eq!(
                c["_links"]["self"]["href"],
                format!(
                    "{base}/v1/afvalwegingen/clusters/{}",
                    c["id"].as_str().unwrap()
                )
            );
        }
        let keys: Vec<&String> = body["_embedded"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["containers", "cluster"]);
    }
    // Without expansion there is no sibling array.
    let body = get(&format!("{base}/v1/afvalwegingen/containers"))
        .await
        .json();
    assert!(body["_embedded"].get("cluster").is_none());
    // `_expand=true` on a table without relations is harmless.
    let body = get(&format!("{base}/v1/brp/ingeschrevenpersonen?_expand=true"))
        .await
        .json();
    let keys: Vec<&String> = body["_embedded"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["ingeschrevenpersonen"]);
}

#[tokio::test]
async fn expand_on_detail_embeds_the_cluster() {
    let fx = fixture().await;
    let base = fx.base_url();
    let body = get(&format!(
        "{base}/v1/afvalwegingen/containers/5?_expandScope=cluster"
    ))
    .await
    .json();
    let cluster_id = body["clusterId"].as_str().unwrap();
    let embedded = &body["_embedded"]["cluster"];
    assert_eq!(embedded["id"], cluster_id);
    let direct = get(&format!("{base}/v1/afvalwegingen/clusters/{cluster_id}"))
        .await
        .json();
    assert_eq!(embedded, &direct);
    let plain = get(&format!("{base}/v1/afvalwegingen/containers/5"))
        .await
        .json();
    assert!(plain.get("_embedded").is_none());

    let path = "/v1/afvalwegingen/containers/5";
    let resp = get(&format!("{base}{path}?_expandScope=eigenaar")).await;
    let problem = assert_problem(&resp, 400, path);
    assert_eq!(problem["invalidParams"][0]["name"], "_expandScope");
}

#[tokio::test]
async fn details_on_every_table_with_and_without_trailing_slash() {
    let fx = fixture().await;
    let base = fx.base_url();
    let vak_id = fx
        .data()
        .table("parkeervakken", "parkeervakken")
        .unwrap()
        .records()[3]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    for (path, id) in [
        ("/v1/afvalwegingen/containers/17".to_owned(), json!(17)),
        (
            "/v1/afvalwegingen/clusters/C0020".to_owned(),
            json!("C0020"),
        ),
        ("/v1/brp/ingeschrevenpersonen/500".to_owned(), json!(500)),
        (
            format!("/v1/parkeervakken/parkeervakken/{vak_id}"),
            json!(vak_id),
        ),
    ] {
        for p in [path.clone(), format!("{path}/")] {
            let resp = get(&format!("{base}{p}")).await;
            assert_eq!(resp.status, 200, "{p}");
            let body = resp.json();
            assert_eq!(body["id"], id);
            assert_eq!(body["_links"]["self"]["id"], id);
            assert_eq!(body["_links"]["self"]["href"], format!("{base}{path}"));
        }
    }
    // Lists accept the trailing slash too.
    let body = get(&format!("{base}/v1/afvalwegingen/clusters/"))
        .await
        .json();
    assert_eq!(count(&body), 20);
}

#[tokio::test]
async fn unknown_things_are_404_problems() {
    let fx = fixture().await;
    let base = fx.base_url();
    for path in [
        "/",
        "/v1/onbekend/containers",
        "/v1/afvalwegingen/onbekend",
        "/v1/afvalwegingen/containers/99999",
        "/v1/afvalwegingen/containers/abc",
        "/v1/afvalwegingen/clusters/C9999",
        "/v1/brp/ingeschrevenpersonen/0",
        "/v1/parkeervakken/parkeervakken/nope",
        "/v1/afvalwegingen/containers/1/extra",
    ] {
        let resp = get(&format!("{base}{path}")).await;
        let problem = assert_problem(&resp, 404, path);
        assert_eq!(problem["type"], "urn:apiexception:not_found");
    }
}

#[tokio::test]
async fn unknown_filter_is_400_with_invalid_params() {
    let fx = fixture().await;
    let base = fx.base_url();
    let path = "/v1/afvalwegingen/containers";
    let resp = get(&format!("{base}{path}?kleur=rood&id[gte]=1")).await;
    let problem = assert_problem(&resp, 400, path);
    assert_eq!(problem["type"], "urn:apiexception:invalid");
    assert_eq!(
        problem["invalidParams"],
        json!([{"name": "kleur", "code": "unknown_field", "reason": "Field 'kleur' does not exist in table 'containers'."}])
    );
    let resp = get(&format!("{base}{path}?id[between]=1")).await;
    let problem = assert_problem(&resp, 400, path);
    assert_eq!(problem["invalidParams"][0]["code"], "unknown_operator");
    let resp = get(&format!("{base}{path}?verblijfplaats.postcode=1011AB")).await;
    assert_problem(&resp, 400, path);
    let resp = get(&format!("{base}{path}?datumCreatie[isnull]=misschien")).await;
    assert_problem(&resp, 400, path);
}

#[tokio::test]
async fn head_and_other_methods() {
    let fx = fixture().await;
    let url = format!("{}/v1/afvalwegingen/containers/1", fx.base_url());
    let client = common::client();
    let head = common::send(&client, Method::HEAD, &url, &[]).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    let post = common::send(&client, Method::POST, &url, &[]).await;
    assert_problem(&post, 405, "/v1/afvalwegingen/containers/1");
    assert_eq!(post.headers["allow"], "GET, HEAD");
}

#[tokio::test]
async fn same_seed_same_bodies_other_seed_other_data() {
    let a = fixture().await;
    let b = fixture().await;
    let c = DatasetFixture::start(FixtureConfig {
        seed: 99,
        ..FixtureConfig::default()
    })
    .await
    .unwrap();
    let host = [("host", "upstream.test")];
    for path in [
        "/v1/afvalwegingen/containers?_pageSize=1000&_expand=true",
        "/v1/afvalwegingen/clusters",
        "/v1/brp/ingeschrevenpersonen?_pageSize=1000",
        "/v1/parkeervakken/parkeervakken?_pageSize=1000",
        "/v1/afvalwegingen/containers/42?_expandScope=cluster",
    ] {
        let ra = get_with(&format!("{}{path}", a.base_url()), &host).await;
        let rb = get_with(&format!("{}{path}", b.base_url()), &host).await;
        let rc = get_with(&format!("{}{path}", c.base_url()), &host).await;
        assert_eq!(ra.status, 200);
        assert_eq!(ra.body, rb.body, "{path}");
        assert_ne!(ra.body, rc.body, "{path}");
    }
}

#[tokio::test]
async fn table_sizes_follow_the_config() {
    let fx = DatasetFixture::start(FixtureConfig {
        containers: 7,
        clusters: 2,
        persons: 1234,
        parkeervakken: 0,
        ..FixtureConfig::default()
    })
    .await
    .unwrap();
    let base = fx.base_url();
    for (path, n) in [
        ("/v1/afvalwegingen/containers", 7),
        ("/v1/afvalwegingen/clusters", 2),
        ("/v1/brp/ingeschrevenpersonen", 1234),
        ("/v1/parkeervakken/parkeervakken", 0),
    ] {
        let body = get(&format!("{base}{path}")).await.json();
        assert_eq!(count(&body), n, "{path}");
    }
    let empty = get(&format!("{base}/v1/parkeervakken/parkeervakken"))
        .await
        .json();
    assert_eq!(empty["page"]["totalPages"], 1);
    assert_eq!(empty["_embedded"]["parkeervakken"], json!([]));
}

#[tokio::test]
async fn every_bsn_passes_the_11_proef_and_is_unique() {
    let fx = DatasetFixture::start(FixtureConfig {
        persons: 3000,
        ..FixtureConfig::default()
    })
    .await
    .unwrap();
    let mut seen = HashSet::new();
    for page in 1..=3 {
        let body = get(&format!(
            "{}/v1/brp/ingeschrevenpersonen?_pageSize=1000&page={page}",
            fx.base_url()
        ))
        .await
        .json();
        for p in body["_embedded"]["ingeschrevenpersonen"]
            .as_array()
            .unwrap()
        {
            let bsn = p["bsn"].as_str().unwrap();
            assert!(bsn_is_valid(bsn), "{bsn}");
            assert!(seen.insert(bsn.to_owned()), "duplicate {bsn}");
        }
    }
    assert_eq!(seen.len(), 3000);
}

#[tokio::test]
async fn a_container_list_item_is_about_one_kilobyte() {
    let fx = fixture().await;
    let body = get(&format!(
        "{}/v1/afvalwegingen/containers?_pageSize=1000",
        fx.base_url()
    ))
    .await
    .json();
    let sizes: Vec<usize> = body["_embedded"]["containers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| serde_json::to_vec(c).unwrap().len())
        .collect();
    let avg = sizes.iter().sum::<usize>() / sizes.len();
    let (min, max) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
    assert!((900..=1150).contains(&avg), "average {avg}");
    assert!(*min >= 750 && *max <= 1350, "min {min} max {max}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn many_concurrent_connections() {
    let fx = fixture().await;
    let base = fx.base_url();
    let mut tasks = Vec::new();
    for i in 0..64 {
        let url = format!("{base}/v1/afvalwegingen/containers/{}", i % 200 + 1);
        // A fresh client per task means a fresh connection per task.
        tasks.push(tokio::spawn(async move {
            let client = common::client();
            let mut statuses = Vec::new();
            for _ in 0..5 {
                statuses.push(common::send(&client, Method::GET, &url, &[]).await.status);
            }
            statuses
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap(), [200; 5]);
    }
    assert_eq!(fx.faults().requests(), 64 * 5);
}

#[tokio::test]
async fn shutdown_stops_the_listener() {
    let fx = fixture().await;
    let addr = fx.addr();
    assert_eq!(
        get(&format!("{}/v1/afvalwegingen/clusters", fx.base_url()))
            .await
            .status,
        200
    );
    fx.shutdown().await.unwrap();
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[test]
fn start_on_an_existing_runtime_from_sync_code() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let fx = DatasetFixture::start_on(rt.handle(), FixtureConfig::default()).unwrap();
    let url = format!("{}/v1/afvalwegingen/clusters/C0003", fx.base_url());
    let resp = rt.block_on(get(&url));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.json()["id"], "C0003");
    rt.block_on(fx.shutdown()).unwrap();
}

#[tokio::test]
async fn bind_conflict_is_a_bind_error() {
    let fx = fixture().await;
    let err = DatasetFixture::start(FixtureConfig {
        listen: fx.addr(),
        ..FixtureConfig::default()
    })
    .await
    .unwrap_err();
    assert!(
        matches!(err, sluis_testkit::TestkitError::Bind { .. }),
        "{err:?}"
    );
}
