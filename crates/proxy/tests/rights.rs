//! Purpose binding end to end: the register lets in registered applications for their
//! registered activities only, narrows the token's scopes to the activity's ceiling, records
//! the decision, and `sluis rights` (the matrix) agrees with what the server answers.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code fails the test on unexpected errors"
)]

mod brp_support;

use brp_support::*;
use serde_json::{Value, json};
use sluis_audit::Decision;
use sluis_rights::{Filter, Glob};

/// The register under test: the Wmo application (client `wmo-app`) for the Wmo activity, whose
/// ceiling allows BSN lookups and postcode searches with basic and address data; a second
/// activity nobody is registered for.
fn register() -> String {
    format!(
        r#"
[processing_activities.ceiling]
apis = ["brp-personen"]
operations = ["brp.personen.RaadpleegMetBurgerservicenummer", "brp.personen.ZoekMetPostcodeEnHuisnummer"]
scopes = ["BRP/zoek-*", "BRP/basis", "BRP/adres"]

[[processing_activities]]
id = "jeugd"
name = "Jeugdhulp"
purpose = "Toeleiding jeugdhulp"
legal_basis = "Jeugdwet art. 2.3"
retention_days = 3650

[[applications]]
id = "wmo"
name = "Wmo-toepassing"
owner = "Zorg"
clients = [{{ issuer = "demo", client_id = "{CLIENT}" }}]
activities = ["{ACTIVITY}"]
"#
    )
}

async fn env() -> Env {
    Env::start_with(Options {
        extra_toml: register(),
        ..Options::default()
    })
    .await
}

fn lookup(bsn: &str, fields: &[&str]) -> Value {
    json!({"type": "RaadpleegMetBurgerservicenummer", "burgerservicenummer": [bsn], "fields": fields})
}

fn headers_for(purpose: &str) -> Vec<(&'static str, String)> {
    vec![
        ("X-User", "medewerker-7@gemeente.example".to_owned()),
        ("X-Correlation-ID", "corr-r".to_owned()),
        ("X-Task-Description", purpose.to_owned()),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registered_purpose_gets_data_and_others_are_refused() {
    let env = env().await;
    let bsn = data().known().family.parents[0].clone();
    let t = token(&[ZOEK_BSN, BASIS]);

    // Registered application, registered activity (named by its alias): data.
    let r = env.post(&t, &lookup(&bsn, &["naam"])).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let a = env.access(&r.trace_id());
    assert_eq!(a.application.as_deref(), Some("wmo"));
    assert_eq!(a.processing_activity.as_deref(), Some(ACTIVITY));
    assert!(a.scopes_dropped.is_empty());
    let p = env.processing(&r.trace_id());
    assert_eq!(p[0].client_app_id.as_deref(), Some("wmo"));

    // The same token for a registered activity the application is not registered for.
    let r = env
        .post_as(Some(&t), &headers_for("jeugd"), &lookup(&bsn, &["naam"]))
        .await;
    let body = r.assert_problem(403, "purposeNotAllowed");
    assert!(body["detail"].as_str().unwrap().contains("jeugd"), "{body}");
    let a = env.access(&r.trace_id());
    assert_eq!(a.decision, Decision::Deny);
    assert_eq!(a.code.as_deref(), Some("purposeNotAllowed"));
    assert_eq!(a.application.as_deref(), Some("wmo"));
    assert!(env.processing(&r.trace_id()).is_empty());

    // An application outside the register.
    let other = token_for("onbekende-app", &[ZOEK_BSN, BASIS]);
    let r = env.post(&other, &lookup(&bsn, &["naam"])).await;
    r.assert_problem(403, "applicationNotRegistered");
    assert_eq!(env.access(&r.trace_id()).application, None);

    // A query type outside the activity's operations, although the token has its scope.
    let r = env
        .post(
            &token(&["BRP/zoek-naam-geb", BASIS]),
            &json!({"type": "ZoekMetGeslachtsnaamEnGeboortedatum", "geslachtsnaam": "Jansen",
                    "geboortedatum": "1980-01-01", "fields": ["naam"]}),
        )
        .await;
    let body = r.assert_problem(403, "purposeNotAllowed");
    assert!(
        body["detail"].as_str().unwrap().contains("operation"),
        "{body}"
    );
    assert_eq!(
        env.upstream_requests(),
        1,
        "only the first request reached the BRP"
    );
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scopes_outside_the_ceiling_are_dropped_and_recorded() {
    let env = env().await;
    let bsn = data().known().family.parents[0].clone();
    let t = token(&[ZOEK_BSN, BASIS, "BRP/nationaliteit", FAMILIE]);

    // nationaliteiten needs BRP/nationaliteit, which the activity's ceiling does not include.
    let r = env
        .post(&t, &lookup(&bsn, &["naam", "nationaliteiten"]))
        .await;
    r.assert_problem(403, "authorization");
    let a = env.access(&r.trace_id());
    assert_eq!(a.scopes_dropped, vec!["BRP/nationaliteit", FAMILIE]);
    assert!(
        a.scopes.contains(&"BRP/nationaliteit".to_owned()),
        "the token's scopes stay recorded"
    );

    // Without the field the request passes, still narrowed (and recorded as such).
    let r = env.post(&t, &lookup(&bsn, &["naam"])).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let a = env.access(&r.trace_id());
    assert_eq!(a.scopes_dropped, vec!["BRP/nationaliteit", FAMILIE]);
    assert!(
        a.reasons.iter().any(|x| x.contains("ceiling")),
        "{:?}",
        a.reasons
    );
    env.stop().await;
}

/// A small deterministic generator (xorshift), so a failing case can be replayed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The matrix is what the server does: for random token scopes and random fields of a BSN
/// lookup, a field the matrix lists for the application is delivered (200), one it leaves out is
/// refused (403) — through the register's narrowing, over real HTTP.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_rights_matrix_agrees_with_the_server_on_random_cases() {
    let env = env().await;
    let dir = tempfile::tempdir().unwrap();
    let path = write_config(
        dir.path(),
        "http://127.0.0.1:9",
        &Options {
            extra_toml: register(),
            ..Options::default()
        },
    );
    let config = sluis_proxy::Config::load(&path).unwrap();
    let source = sluis_proxy::rights::RightsSource::load(config).unwrap();
    let rights = source.rights();
    let known = rights.known_scopes();
    let bsn = data().known().family.parents[0].clone();
    let t = sluis_brp::QueryType::RaadpleegMetBurgerservicenummer;
    let paths = t.response_shape().filtered_paths();
    // Fields the application can see at all (with every scope), to draw from half the time: most
    // fields lie outside the activity's ceiling.
    let visible: Vec<String> = rights
        .matrix(&Filter {
            fields: vec![Glob::new(format!("brp-personen.{}.*", t.as_str()))],
            apps: vec!["wmo".into()],
            ..Filter::default()
        })
        .into_iter()
        .map(|c| c.field)
        .collect();
    assert!(visible.iter().any(|f| f == "naam.voornamen"), "{visible:?}");
    assert!(
        !visible.iter().any(|f| f.starts_with("nationaliteiten")),
        "{visible:?}"
    );
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let (mut delivered, mut refused) = (0, 0);
    for _ in 0..60 {
        let mut scopes: Vec<String> = vec![ZOEK_BSN.to_owned()];
        // Not the pseudonymous scope: its callers must send sealed BSNs, a different request.
        for s in known.iter().filter(|s| s.as_str() != ENCRYPT_BSN) {
            if rng.below(3) == 0 && !scopes.contains(s) {
                scopes.push(s.clone());
            }
        }
        let field = if rng.below(2) == 0 {
            visible[rng.below(visible.len())].as_str()
        } else {
            paths[rng.below(paths.len())]
        };
        let cells = rights.matrix(&Filter {
            fields: vec![Glob::new(format!("brp-personen.{}.{field}", t.as_str()))],
            apps: vec!["wmo".into()],
            token_scopes: Some(scopes.clone()),
            ..Filter::default()
        });
        let refs: Vec<&str> = scopes.iter().map(String::as_str).collect();
        let r = env.post(&token(&refs), &lookup(&bsn, &[field])).await;
        let listed = cells
            .iter()
            .any(|c| c.field == field && c.level != "absent");
        assert_eq!(
            listed,
            r.status == 200,
            "matrix {cells:?} vs server {} for {field} with {scopes:?}: {}",
            r.status,
            r.body
        );
        if listed {
            delivered += 1;
        } else {
            refused += 1;
        }
    }
    assert!(
        delivered > 0 && refused > 0,
        "both outcomes covered: {delivered} / {refused}"
    );
    env.stop().await;
}

async fn admin_get(env: &Env, token: Option<&str>, path_and_query: &str) -> (u16, Value) {
    use http_body_util::BodyExt;
    let mut req = hyper::Request::get(format!(
        "http://{}{path_and_query}",
        env.server.admin_addr()
    ));
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    let resp = env
        .client
        .request(
            req.body(http_body_util::Full::new(bytes::Bytes::new()))
                .unwrap(),
        )
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&body).unwrap())
}

/// The admin API: the register and the matrix as JSON for the admin scope only, every read
/// recorded.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_serves_register_and_rights_and_records_each_read() {
    let env = env().await;
    let (status, _) = admin_get(&env, None, "/admin/register").await;
    assert_eq!(status, 401);
    let (status, body) = admin_get(&env, Some(&token(&[ZOEK_BSN])), "/admin/register").await;
    assert_eq!(status, 403, "{body}");
    let admin = token(&["SLUIS/ADMIN"]);
    let (status, body) = admin_get(&env, Some(&admin), "/admin/register").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["register"]["applications"][0]["id"], "wmo");
    assert_eq!(
        body["register"]["activities"][0]["legal_basis"],
        "Wmo 2015 art. 2.3.2"
    );
    let (status, body) = admin_get(
        &env,
        Some(&admin),
        "/admin/rights?app=wmo&field=*.burgerservicenummer",
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let cells = body["rights"].as_array().unwrap();
    assert!(!cells.is_empty());
    assert!(cells.iter().all(|c| {
        c["application"] == "wmo"
            && c["field"]
                .as_str()
                .unwrap()
                .ends_with("burgerservicenummer")
    }));
    // Family BSNs need BRP/familie, outside the Wmo ceiling.
    assert!(
        !cells
            .iter()
            .any(|c| c["field"] == "partners.burgerservicenummer"),
        "{cells:?}"
    );
    let (status, _) = admin_get(&env, Some(&admin), "/admin/rights?bsn=1").await;
    assert_eq!(status, 400);
    let ops: Vec<(String, u16)> = env
        .entries()
        .into_iter()
        .filter_map(|e| match e {
            sluis_audit::Entry::Access(a) if a.api == "admin" => Some((a.operation, a.status)),
            _ => None,
        })
        .collect();
    assert_eq!(
        ops,
        vec![
            ("admin.register".to_owned(), 401),
            ("admin.register".to_owned(), 403),
            ("admin.register".to_owned(), 200),
            ("admin.rights".to_owned(), 200),
            ("admin.rights".to_owned(), 400),
        ]
    );
    env.stop().await;
}
