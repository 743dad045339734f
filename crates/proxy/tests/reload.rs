//! Hot reload under load: a profile file rewritten while requests keep coming — none fails,
//! and the new policy applies afterwards; a broken policy file keeps the running one and is
//! counted in `sluis_reloads_total{result="error"}`.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "integration tests: a failed expectation must abort the test loudly"
)]

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::*;
use hyper::Method;
use serde_json::{Value, json};

fn policy(letters: u32) -> PolicyFiles {
    let mut p = PolicyFiles::default();
    set(
        &mut p.afval,
        "/tables/0/schema/properties/eigenaarNaam/auth",
        json!("FOO/BAR"),
    );
    p.profiles.push(profile(
        "iedereen",
        None,
        json!({"afvalwegingen": {"tables": {"containers": {
            "fields": {"eigenaarNaam": format!("letters:{letters}")}}}}}),
    ));
    p
}

/// The number of characters of `eigenaarNaam` in a list body (all items agree).
fn letters(body: &Value) -> usize {
    let lens: HashSet<usize> = items(body, "containers")
        .iter()
        .map(|i| i["eigenaarNaam"].as_str().unwrap().chars().count())
        .collect();
    assert_eq!(
        lens.len(),
        1,
        "mixed representations in one response: {body}"
    );
    lens.into_iter().next().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hot_reload_under_load_and_a_bad_file_keeps_the_old_policy() {
    let h = Harness::start(Opts {
        policy: policy(1),
        ..Opts::default()
    })
    .await;
    let v1 = h
        .server()
        .shared()
        .runtime
        .load()
        .policy
        .version()
        .to_owned();
    let url = format!("{}/api/afval/containers?_pageSize=5", h.api);
    let auth = format!("Bearer {}", token(&[]));
    let stop = Arc::new(AtomicBool::new(false));

    // Three clients hammer sluis while the policy changes under them.
    let mut loops = Vec::new();
    for _ in 0..3 {
        let (url, auth, stop) = (url.clone(), auth.clone(), Arc::clone(&stop));
        loops.push(tokio::spawn(async move {
            let client = client();
            let mut seen: Vec<Result<usize, String>> = Vec::new();
            while !stop.load(Ordering::Relaxed) {
                let r = try_send(
                    &client,
                    Method::GET,
                    &url,
                    &[("authorization", auth.as_str())],
                )
                .await;
                seen.push(match r {
                    Ok(r) if r.status == 200 => Ok(letters(&r.json())),
                    Ok(r) => Err(format!("{}: {}", r.status, r.text())),
                    Err(e) => Err(e),
                });
            }
            seen
        }));
    }
    tokio::time::sleep(Duration::from_millis(300)).await;

    // The file watcher picks up the rewritten profile.
    h.write_policy(&policy(3));
    let t = token(&[]);
    let switched = eventually(Duration::from_secs(10), || async {
        letters(
            &h.get("/api/afval/containers?_pageSize=5", Some(&t), &[])
                .await
                .ok(),
        ) == 3
    })
    .await;
    assert!(switched, "the new profile was not applied");
    let v2 = h
        .server()
        .shared()
        .runtime
        .load()
        .policy
        .version()
        .to_owned();
    assert_ne!(v1, v2);
    tokio::time::sleep(Duration::from_millis(300)).await;

    // A broken profile file: the running policy stays, the failure is counted.
    let errors = |m: &str| metric(m, "sluis_reloads_total", &[("result", "error")]);
    let before = errors(&h.admin_get("/metrics").await.text());
    write_atomic(
        h.root(),
        &h.path("policy/profiles/iedereen.json"),
        br#"{"type": "profile", "id": "iedereen", "datasets": {"afvalwegingen": "#,
    );
    let err = h.server().reload().await;
    assert!(err.is_err(), "a broken file must not load");
    let after = errors(&h.admin_get("/metrics").await.text());
    assert!(
        after > before,
        "reload errors not counted: {before} -> {after}"
    );
    assert!(
        metric(
            &h.admin_get("/metrics").await.text(),
            "sluis_reloads_total",
            &[("result", "ok")]
        ) >= 1.0
    );
    // A profile naming an unknown field is refused as well.
    write_atomic(
        h.root(),
        &h.path("policy/profiles/iedereen.json"),
        serde_json::to_vec(&profile(
            "iedereen",
            None,
            json!({"afvalwegingen": {"tables": {"containers": {"fields": {"bestaatNiet": "read"}}}}}),
        ))
        .unwrap()
        .as_slice(),
    );
    assert!(h.server().reload().await.is_err());
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        h.server().shared().runtime.load().policy.version(),
        v2,
        "the watcher swapped in a broken policy"
    );
    let body = h
        .get("/api/afval/containers?_pageSize=5", Some(&t), &[])
        .await
        .ok();
    assert_eq!(letters(&body), 3, "the old policy must stay in force");
    assert_eq!(
        h.admin_get("/readyz").await.json()["policyVersion"],
        json!(v2)
    );

    stop.store(true, Ordering::Relaxed);
    let mut total = 0;
    for l in loops {
        let seen = l.await.unwrap();
        total += seen.len();
        let mut switched = false;
        for s in &seen {
            match s {
                Ok(3) => switched = true,
                Ok(1) => assert!(!switched, "an old-policy answer after the new one"),
                Ok(n) => panic!("unexpected representation letters:{n}"),
                Err(e) => panic!("a request failed during reload: {e}"),
            }
        }
        assert!(switched, "a client never saw the new policy");
    }
    assert!(total >= 30, "too little load: {total} requests");

    // Every request was recorded under exactly one of the two policy versions.
    let versions: HashSet<String> = h
        .audit_lines()
        .iter()
        .map(|l| l["policy_version"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(versions, HashSet::from([v1, v2]));
    h.shutdown().await;
}
