//! `sluis demo` as a process: it starts on its embedded defaults, prints ready curl lines, and
//! the ZGW callers it prints see different zaken and fields (a behandelaar only the HR zaak
//! they handle, a KCC employee names without BSNs, the zaakportaal only its one zaaktype at
//! openbaar).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "test code fails the test on unexpected errors"
)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::time::Duration;

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A plain HTTP/1.1 GET of an absolute `http://host:port/path` URL with the demo's headers.
fn get(url: &str, token: &str) -> (u16, String) {
    let rest = url.strip_prefix("http://").unwrap();
    let (addr, path) = rest.split_at(rest.find('/').unwrap());
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nAccept-Crs: EPSG:4326\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut text = String::new();
    s.read_to_string(&mut text).unwrap();
    let status = text
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let (_, body) = text.split_once("\r\n\r\n").unwrap_or(("", ""));
    // The demo answers with Content-Length bodies (no chunking) for JSON.
    (status, body.to_owned())
}

#[test]
fn the_demo_serves_three_zgw_callers_differently() {
    let dir = tempfile::tempdir().unwrap();
    let (api, admin) = (free_port(), free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_sluis"))
        .args([
            "demo",
            "--listen",
            &format!("127.0.0.1:{api}"),
            "--admin-listen",
            &format!("127.0.0.1:{admin}"),
            "--data-dir",
            dir.path().to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut zgw: Vec<(String, String, String)> = Vec::new();
    let mut what = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.starts_with("Press Ctrl-C") {
            break;
        }
        if let Some(w) = line.strip_prefix("# ZGW") {
            what = Some(w.to_owned());
        } else if let (Some(w), Some(rest)) = (
            what.take(),
            line.strip_prefix("curl -s -H 'Authorization: Bearer "),
        ) {
            let (token, rest) = rest.split_once('\'').unwrap();
            let url = rest.rsplit('\'').nth(1).unwrap();
            zgw.push((w, token.to_owned(), url.to_owned()));
        }
    }
    assert_eq!(zgw.len(), 4, "four ZGW examples printed: {zgw:?}");
    let answers: Vec<(u16, serde_json::Value)> = zgw
        .iter()
        .map(|(_, t, u)| {
            let (status, body) = get(u, t);
            (
                status,
                serde_json::from_str(&body).unwrap_or(serde_json::Value::Null),
            )
        })
        .collect();
    // The behandelaar: their zaak, not a colleague's.
    assert_eq!(answers[0].0, 200, "{:?}", answers[0]);
    assert_eq!(answers[1].0, 403, "{:?}", answers[1]);
    assert_eq!(answers[1].1["code"], "not_involved");
    // The KCC: the initiator's name, no BSN.
    assert_eq!(answers[2].0, 200, "{:?}", answers[2]);
    let rollen = answers[2].1["results"].as_array().unwrap();
    let person = rollen
        .iter()
        .find(|r| r["betrokkeneType"] == "natuurlijk_persoon")
        .expect("an initiator");
    assert!(person["betrokkeneIdentificatie"]["geslachtsnaam"].is_string());
    assert!(
        person["betrokkeneIdentificatie"].get("inpBsn").is_none(),
        "{person}"
    );
    // The portal: only openbaar zaken of one zaaktype.
    assert_eq!(answers[3].0, 200, "{:?}", answers[3]);
    let zaken = answers[3].1["results"].as_array().unwrap();
    assert!(!zaken.is_empty());
    let types: std::collections::BTreeSet<String> =
        zaken.iter().map(|z| z["zaaktype"].to_string()).collect();
    assert_eq!(types.len(), 1);
    assert!(
        zaken
            .iter()
            .all(|z| z["vertrouwelijkheidaanduiding"] == "openbaar")
    );
    let _ = child.kill();
    let _ = child.wait();
    rights_of_the_demo(dir.path());
}

fn sluis(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_sluis"))
        .args(args)
        .output()
        .unwrap();
    (
        out.status.success(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        ),
    )
}

/// The demo's register and policy: its policy tests pass, `sluis rights` names exactly the
/// applications that can see BSNs, and `sluis explain` agrees for each application.
fn rights_of_the_demo(dir: &std::path::Path) {
    let config = dir.join("sluis.toml");
    let config = config.to_str().unwrap();
    let tests = dir.join("policy/tests");
    let (ok, out) = sluis(&[
        "policy",
        "test",
        "--config",
        config,
        tests.to_str().unwrap(),
    ]);
    assert!(ok, "{out}");
    assert!(out.contains("0 failed"), "{out}");

    let apps = |field: &str| -> std::collections::BTreeSet<String> {
        let (ok, out) = sluis(&[
            "rights", "--config", config, "--field", field, "--format", "json",
        ]);
        assert!(ok, "{out}");
        let cells: Vec<serde_json::Value> = serde_json::from_str(&out).unwrap();
        cells
            .iter()
            .map(|c| c["application"].as_str().unwrap().to_owned())
            .collect()
    };
    // The dataset BRP's bsn needs BRP/R, within the ceiling of bijstand-aanvraag only; the BRP
    // Personen BSN is also open to parkeren (by BSN lookup); the ZGW applications' activity
    // reaches no BRP mount.
    assert_eq!(apps("*.bsn"), ["sociaal-domein".to_owned()].into());
    assert_eq!(
        apps("*.burgerservicenummer"),
        ["parkeren".to_owned(), "sociaal-domein".to_owned()].into()
    );
    // explain, per registered application, on the dataset BRP with every scope it could hold.
    let all = "BRP/R BRP/RNAME BAG/R HANDHAVING";
    for (app, activity, sees) in [
        ("sociaal-domein", "bijstand-aanvraag", true),
        ("parkeren", "parkeervergunning", false),
        ("zaakbehandeling", "zaakafhandeling", false),
        ("kcc", "zaakafhandeling", false),
    ] {
        let (ok, out) = sluis(&[
            "explain",
            "--config",
            config,
            "--api",
            "brp",
            "--app",
            app,
            "--activity",
            activity,
            "--table",
            "ingeschrevenpersonen",
            "--scopes",
            all,
            "--format",
            "json",
        ]);
        assert!(ok, "{out}");
        let e: serde_json::Value = serde_json::from_str(&out).unwrap();
        let bsn_visible =
            e["access"] == true && e["fields"]["bsn"].as_str().is_some_and(|l| l != "none");
        assert_eq!(bsn_visible, sees, "{app}: {e}");
        if !sees {
            assert_eq!(e["code"], "purposeNotAllowed", "{app}: {e}");
        }
    }
}
