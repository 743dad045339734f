//! Unit tests of `sluis.toml` parsing and validation, section by section.

use std::path::Path;

use super::*;

const KEY32: &str = "0123456789abcdef0123456789abcdef";

fn env(name: &str) -> Option<String> {
    match name {
        "ENC" | "SUBJECT" | "SECRET" => Some(KEY32.to_owned()),
        "SHORT" => Some("short".to_owned()),
        "PG" => Some("host=/tmp dbname=x".to_owned()),
        _ => None,
    }
}

const BASE: &str = r#"
[server]
listen = "127.0.0.1:8080"
admin_listen = "127.0.0.1:8081"

[policy]
schemas = ["datasets"]
encoding_key = { env = "ENC" }

[[issuers]]
name = "idp"
issuer = "https://idp.example"
jwks_url = "https://idp.example/jwks"

[[processing_activities]]
id = "bijstand"
name = "Bijstand"
purpose = "Recht op bijstand"
legal_basis = "Participatiewet"
retention_days = 3650
aliases = ["bijstand-aanvraag"]

[audit]
kind = "sqlite"
path = "audit.db"
subject_key = { env = "SUBJECT" }
"#;

const DATASET_API: &str = r#"
[[apis]]
name = "afval"
prefix = "/v1/afval/"
kind = "dataset"
dataset = "afvalwegingen"
upstream = { url = "http://127.0.0.1:9000/v1/afvalwegingen/" }
"#;

fn parse(extra: &str) -> Result<Config, Vec<ConfigProblem>> {
    let text = format!("{BASE}{extra}");
    Config::parse(&text, Path::new("/etc/sluis/sluis.toml"), &env)
}

fn problems(extra: &str) -> Vec<String> {
    match parse(extra) {
        Ok(_) => panic!("expected problems for {extra}"),
        Err(ps) => ps.iter().map(ToString::to_string).collect(),
    }
}

fn assert_problem(extra: &str, needle: &str) {
    let ps = problems(extra);
    assert!(
        ps.iter().any(|p| p.contains(needle)),
        "no problem containing {needle:?} in {ps:#?}"
    );
}

#[test]
fn a_dataset_mount_parses_into_its_kind() {
    let c = parse(DATASET_API).unwrap();
    let api = &c.apis[0];
    assert_eq!(api.prefix, "/v1/afval", "trailing slash removed");
    assert_eq!(api.upstream.base, "http://127.0.0.1:9000/v1/afvalwegingen");
    match &api.kind {
        ApiKind::Dataset(d) => assert_eq!(d.dataset, "afvalwegingen"),
        other => panic!("expected a dataset API, got {other:?}"),
    }
    assert!(!api.kind.records_subjects());
    assert_eq!(api.kind.name(), "dataset");
    // Relative paths are relative to the configuration file.
    assert_eq!(c.schemas, [Path::new("/etc/sluis/datasets")]);
}

#[test]
fn a_brp_mount_needs_its_policy_and_takes_no_dataset() {
    let brp = r#"
[[apis]]
name = "brp"
prefix = "/brp"
kind = "brp"
brp_policy = "brp-policy.toml"
purpose_header = "X-Task-Description"
upstream = { url = "http://127.0.0.1:9001" }
"#;
    let c = parse(brp).unwrap();
    match &c.apis[0].kind {
        ApiKind::Brp(b) => assert_eq!(b.policy, Path::new("/etc/sluis/brp-policy.toml")),
        other => panic!("expected a BRP API, got {other:?}"),
    }
    assert_problem(
        &brp.replace("brp_policy = \"brp-policy.toml\"\n", ""),
        "brp_policy",
    );
    assert_problem(
        &brp.replace("kind = \"brp\"", "kind = \"brp\"\ndataset = \"x\""),
        "dataset",
    );
}

#[test]
fn unknown_keys_and_kinds_are_refused() {
    assert_problem(&DATASET_API.replace("dataset = ", "datset = "), "datset");
    assert_problem(&DATASET_API.replace("\"dataset\"", "\"zgw2\""), "zgw2");
    assert_problem(
        &DATASET_API.replace(
            "kind = \"dataset\"",
            "kind = \"dataset\"\nbrp_policy = \"p\"",
        ),
        "brp_policy",
    );
}

#[test]
fn mounts_are_checked() {
    let twice = format!(
        "{DATASET_API}{}",
        DATASET_API.replace("afval\"", "afval2\"")
    );
    assert_problem(&twice, "mounted twice");
    assert_problem(&DATASET_API.replace("/v1/afval/", "v1"), "must be a path");
    assert_problem(
        &DATASET_API.replace("kind =", "required_scopes = [\"a b\"]\nkind ="),
        "not a scope name",
    );
    assert_problem(
        &DATASET_API.replace("kind =", "activity = \"onbekend\"\nkind ="),
        "not a registered processing activity",
    );
    assert_problem(
        &DATASET_API.replace("kind =", "required_headers = [\"X User\"]\nkind ="),
        "not a valid header name",
    );
    let c = parse(&DATASET_API.replace("kind =", "required_scopes = [\"brp\"]\nkind =")).unwrap();
    assert_eq!(c.apis[0].required_scopes, ["brp"]);
}

#[test]
fn an_api_with_subjects_needs_a_purpose_and_a_subject_key() {
    let with_subjects =
        DATASET_API.to_owned() + "subjects = { containers = { field = \"bsn\" } }\n";
    assert_problem(
        &with_subjects,
        "needs a purpose_header or a default activity",
    );
    let with_purpose =
        with_subjects.replace("kind =", "purpose_header = \"X-Task-Description\"\nkind =");
    assert!(parse(&with_purpose).is_ok());
    let no_key = format!("{BASE}{with_purpose}").replace("subject_key = { env = \"SUBJECT\" }", "");
    let ps = Config::parse(&no_key, Path::new("sluis.toml"), &env).unwrap_err();
    assert!(ps.iter().any(|p| p.at == "audit.subject_key"), "{ps:?}");
}

#[test]
fn secrets_come_from_exactly_one_source_and_are_never_printed() {
    let ps = Config::parse(
        &BASE.replace("{ env = \"ENC\" }", "{ env = \"MISSING\" }"),
        Path::new("sluis.toml"),
        &env,
    )
    .unwrap_err();
    assert!(
        ps.iter()
            .any(|p| p.at == "policy.encoding_key" && p.message.contains("MISSING"))
    );
    let ps = Config::parse(
        &BASE.replace("{ env = \"ENC\" }", "{ env = \"ENC\", file = \"k\" }"),
        Path::new("sluis.toml"),
        &env,
    )
    .unwrap_err();
    assert!(ps.iter().any(|p| p.message.contains("exactly one")));
    let ps = Config::parse(
        &BASE.replace("{ env = \"ENC\" }", "{ env = \"SHORT\" }"),
        Path::new("sluis.toml"),
        &env,
    )
    .unwrap_err();
    assert!(ps.iter().any(|p| p.message.contains("at least 32 bytes")));
    let c = parse("").unwrap();
    assert_eq!(format!("{:?}", c.encoding_key), "Secret(..)");
    assert!(
        !format!("{c:?}").contains(KEY32),
        "a secret leaked into Debug output"
    );
}

#[test]
fn user_header_trust_is_per_issuer_or_client() {
    let c = parse("").unwrap();
    assert_eq!(c.issuers[0].user_header_trust, UserHeaderTrust::Nobody);
    let c = parse("").map(|_| ()).and_then(|_| {
        Config::parse(
            &BASE.replace(
                "jwks_url = \"https://idp.example/jwks\"",
                "jwks_url = \"https://idp.example/jwks\"\ntrusted_user_clients = [\"portal\"]",
            ),
            Path::new("sluis.toml"),
            &env,
        )
    });
    let trust = c.unwrap().issuers[0].user_header_trust.clone();
    assert!(trust.trusts(Some("portal")));
    assert!(!trust.trusts(Some("other")) && !trust.trusts(None));
    let both = BASE.replace(
        "jwks_url = \"https://idp.example/jwks\"",
        "jwks_url = \"https://idp.example/jwks\"\ntrust_user_header = true\ntrusted_user_clients = [\"portal\"]",
    );
    let ps = Config::parse(&both, Path::new("sluis.toml"), &env).unwrap_err();
    assert!(
        ps.iter().any(|p| p.at.ends_with("trusted_user_clients")),
        "{ps:?}"
    );
}

#[test]
fn the_register_finds_activities_by_id_and_alias() {
    let c = parse("").unwrap();
    assert_eq!(
        c.activity("bijstand-aanvraag").map(|a| a.id.as_str()),
        Some("bijstand")
    );
    assert_eq!(
        c.activity("bijstand").map(|a| a.id.as_str()),
        Some("bijstand")
    );
    assert!(c.activity("wmo").is_none());
    let dup = r#"
[[processing_activities]]
id = "bijstand-aanvraag"
name = "x"
purpose = "x"
legal_basis = "x"
retention_days = 0
"#;
    let ps = problems(dup);
    assert!(ps.iter().any(|p| p.contains("used twice")), "{ps:?}");
    assert!(ps.iter().any(|p| p.contains("at least 1 day")), "{ps:?}");
}

#[test]
fn audit_settings_are_validated() {
    let pg = BASE.replace(
        "kind = \"sqlite\"\npath = \"audit.db\"",
        "kind = \"postgres\"",
    );
    let ps = Config::parse(&pg, Path::new("sluis.toml"), &env).unwrap_err();
    assert!(ps.iter().any(|p| p.at == "audit.url"), "{ps:?}");
    let pg = pg.replace(
        "kind = \"postgres\"",
        "kind = \"postgres\"\nurl = { env = \"PG\" }",
    );
    let c = Config::parse(&pg, Path::new("sluis.toml"), &env).unwrap();
    assert_eq!(c.audit.kind, AuditKind::Postgres);
    let bad = BASE.replace(
        "path = \"audit.db\"",
        "path = \"audit.db\"\ncheckpoint_key = { env = \"SECRET\" }",
    );
    let ps = Config::parse(&bad, Path::new("sluis.toml"), &env).unwrap_err();
    assert!(
        ps.iter().any(|p| p.message.contains("64 hex digits")),
        "{ps:?}"
    );
}

#[test]
fn the_witness_and_the_chain_are_validated() {
    let witness = BASE.replace(
        "path = \"audit.db\"",
        "path = \"audit.db\"\nwitness = \"/mnt/witness/sluis.jsonl\"",
    );
    let ps = Config::parse(&witness, Path::new("sluis.toml"), &env).unwrap_err();
    assert!(
        ps.iter()
            .any(|p| p.at == "audit.witness" && p.message.contains("checkpoint_key")),
        "{ps:?}"
    );
    let chain = BASE.replace(
        "path = \"audit.db\"",
        "path = \"audit.db\"\nchain = \"a b\"",
    );
    let ps = Config::parse(&chain, Path::new("sluis.toml"), &env).unwrap_err();
    let at: Vec<&str> = ps
        .iter()
        .filter(|p| p.at == "audit.chain")
        .map(|p| p.message.as_str())
        .collect();
    assert!(
        at.iter().any(|m| m.contains("only in a postgres")),
        "{ps:?}"
    );
    assert!(at.iter().any(|m| m.contains("1 to 64 letters")), "{ps:?}");
    let pg = BASE.replace(
        "kind = \"sqlite\"\npath = \"audit.db\"",
        "kind = \"postgres\"\nurl = { env = \"PG\" }\nchain = \"sluis-2.prod\"",
    );
    let c = Config::parse(&pg, Path::new("sluis.toml"), &env).unwrap();
    assert_eq!(c.audit.chain, "sluis-2.prod");
    assert_eq!(c.audit.checkpoint_interval_ms, 10_000);
    assert_eq!(c.audit.witness, None);
}

#[test]
fn issuers_are_validated() {
    let none = BASE.replace("jwks_url = \"https://idp.example/jwks\"", "");
    let ps = Config::parse(&none, Path::new("sluis.toml"), &env).unwrap_err();
    assert!(
        ps.iter()
            .any(|p| p.message.contains("exactly one of discovery_url")),
        "{ps:?}"
    );
    let alg = BASE.replace(
        "jwks_url = \"https://idp.example/jwks\"",
        "jwks_url = \"https://idp.example/jwks\"\nalgorithms = [\"none\"]",
    );
    let ps = Config::parse(&alg, Path::new("sluis.toml"), &env).unwrap_err();
    assert!(
        ps.iter()
            .any(|p| p.message.contains("none is never allowed")),
        "{ps:?}"
    );
    let hmac = r#"
[[issuers]]
name = "zgw"
kind = "hmac"
algorithms = ["RS256"]
clients = [{ client_id = "app", secret = { env = "SHORT" } }]
"#;
    let ps = problems(hmac);
    assert!(ps.iter().any(|p| p.contains("at least 32 bytes")), "{ps:?}");
    assert!(ps.iter().any(|p| p.contains("does not fit")), "{ps:?}");
}

#[test]
fn syntax_errors_name_line_and_column() {
    let ps = Config::parse("[server\nlisten = 1", Path::new("s.toml"), &env).unwrap_err();
    assert_eq!(ps.len(), 1);
    assert!(ps[0].at.starts_with("line 1, column"), "{ps:?}");
}

#[test]
fn upstream_settings_are_validated() {
    assert_problem(
        &DATASET_API.replace("http://127.0.0.1:9000", "ftp://x"),
        "not an http(s) URL",
    );
    assert_problem(
        &DATASET_API.replace(
            "/v1/afvalwegingen/\" }",
            "/v1/afvalwegingen/\", timeout_ms = 0 }",
        ),
        "timeouts must be above 0 ms",
    );
    let safe = DATASET_API.replace(
        "/v1/afvalwegingen/\" }",
        "/v1/afvalwegingen/\", problem_detail_safe = true }",
    );
    assert!(parse(&safe).unwrap().apis[0].upstream.problem_detail_safe);
    assert!(
        !parse(DATASET_API).unwrap().apis[0]
            .upstream
            .problem_detail_safe
    );
}

#[test]
fn limits_default_to_production_values_and_are_validated() {
    let c = parse("").unwrap();
    assert_eq!(c.limits, crate::listener::Limits::default());
    assert_eq!(c.limits.max_connections, 4096);
    let c = parse("\n[limits]\nheader_read_timeout_ms = 500\nadmin_max_connections = 8\n").unwrap();
    assert_eq!(c.limits.header_read_timeout_ms, 500);
    assert_eq!(c.limits.admin_max_connections, 8);
    assert_eq!(
        c.limits.body_read_timeout_ms, 30_000,
        "unset keys keep their default"
    );
    for key in [
        "header_read_timeout_ms",
        "body_read_timeout_ms",
        "idle_timeout_ms",
        "max_connections",
        "admin_max_connections",
        "backlog",
    ] {
        assert_problem(
            &format!("\n[limits]\n{key} = 0\n"),
            &format!("limits.{key}"),
        );
    }
    assert_problem("\n[limits]\nmax_conns = 5\n", "max_conns");
}

const ZGW_MOUNT: &str = r#"
[[apis]]
name = "zaken"
prefix = "/zaken/api/v1"
kind = "zgw"
component = "zaken"
activity = "bijstand"
[apis.upstream]
url = "http://openzaak:8000/zaken/api/v1"
zgw_jwt = { client_id = "sluis", secret = { env = "SECRET" } }
"#;

#[test]
fn a_zgw_mount_needs_the_zgw_section_and_a_known_component() {
    assert_problem(ZGW_MOUNT, "needs the [zgw] section");
    assert_problem(
        &ZGW_MOUNT.replace("component = \"zaken\"", "component = \"zaak\""),
        "not a ZGW component",
    );
    // Both sources, or neither, is a problem.
    assert_problem(&format!("{ZGW_MOUNT}\n[zgw]\n"), "exactly one of");
    let both = format!(
        "{ZGW_MOUNT}\n[zgw]\nautorisaties_file = \"/etc/hosts\"\n[zgw.autorisaties_api]\n[zgw.autorisaties_api.upstream]\nurl = \"http://ac/autorisaties/api/v1\"\n"
    );
    assert_problem(&both, "exactly one of");
    let live = format!(
        "{ZGW_MOUNT}\n[zgw]\nmax_scan_pages = 5\n[zgw.autorisaties_api]\nrefresh_secs = 60\n[zgw.autorisaties_api.upstream]\nurl = \"http://ac/autorisaties/api/v1\"\nzgw_jwt = {{ client_id = \"sluis\", secret = {{ env = \"SECRET\" }} }}\n"
    );
    let c = parse(&live).unwrap();
    let z = c.zgw.unwrap();
    assert_eq!(z.max_scan_pages, 5);
    assert!(
        matches!(z.autorisaties, AutorisatiesSource::Api { refresh, .. } if refresh.as_secs() == 60)
    );
    assert!(matches!(&c.apis[0].kind, ApiKind::Zgw(m) if m.component == "zaken"));
    assert!(c.apis[0].upstream.zgw_jwt.is_some());
    // A mounted component twice is refused.
    let twice = format!(
        "{live}{}",
        ZGW_MOUNT
            .replace("name = \"zaken\"", "name = \"zaken2\"")
            .replace("prefix = \"/zaken/api/v1\"", "prefix = \"/zaken2/api/v1\"")
    );
    assert_problem(&twice, "mounted twice");
}

#[test]
fn sluis_uses_one_kind_of_upstream_credentials() {
    let both = ZGW_MOUNT.replace(
        "zgw_jwt =",
        "api_key = { header = \"x-api-key\", value = { env = \"SECRET\" } }\nzgw_jwt =",
    );
    assert_problem(
        &format!("{both}\n[zgw]\nautorisaties_file = \"/etc/hosts\"\n"),
        "choose one of",
    );
}

#[test]
fn the_register_of_applications_is_validated() {
    let ok = format!(
        r#"{DATASET_API}
[processing_activities.ceiling]
apis = ["afval"]
operations = ["dataset.afvalwegingen.*"]
scopes = ["BAG/*"]

[[applications]]
id = "sd"
name = "Sociaal domein"
clients = [{{ issuer = "idp", client_id = "suite" }}]
activities = ["bijstand"]
"#
    );
    let cfg = parse(&ok).unwrap();
    let app = cfg.register.application_of("idp", Some("suite")).unwrap();
    assert_eq!(app.id, "sd");
    assert!(
        cfg.register
            .application_of("other-issuer", Some("suite"))
            .is_none()
    );
    let act = cfg.register.activity("bijstand").unwrap();
    assert!(act.ceiling.allows_scope("BAG/R") && !act.ceiling.allows_scope("BRP/R"));
    assert_eq!(
        cfg.register
            .resolve("bijstand-aanvraag")
            .map(|a| a.id.as_str()),
        Some("bijstand")
    );
    // Applications registered: mounts enforce the register unless they say otherwise.
    assert!(cfg.apis[0].enforce_register);
    let off = parse(&ok.replace(
        "dataset = \"afvalwegingen\"",
        "dataset = \"afvalwegingen\"\nregister = \"off\"",
    ))
    .unwrap();
    assert!(!off.apis[0].enforce_register);

    assert_problem(
        &ok.replace("activities = [\"bijstand\"]", "activities = [\"jeugd\"]"),
        "\"jeugd\" is not the id of a [[processing_activities]] entry",
    );
    assert_problem(
        &ok.replace("apis = [\"afval\"]", "apis = [\"brp\"]"),
        "\"brp\" is not the name of an [[apis]] entry",
    );
    assert_problem(
        &ok.replace(
            "issuer = \"idp\", client_id",
            "issuer = \"nope\", client_id",
        ),
        "\"nope\" is not the name of an [[issuers]] entry",
    );
    assert_problem(
        &format!(
            "{ok}\n[[applications]]\nid = \"other\"\nname = \"Other\"\nclients = [{{ client_id = \"suite\" }}]\n"
        ),
        "client id \"suite\" is already registered for application \"sd\"",
    );
    assert_problem(
        &ok.replace(
            "dataset = \"afvalwegingen\"",
            "dataset = \"afvalwegingen\"\nregister = \"maybe\"",
        ),
        "expected \"enforce\" or \"off\"",
    );
    assert_problem(
        &DATASET_API.replace(
            "dataset = \"afvalwegingen\"",
            "dataset = \"afvalwegingen\"\nregister = \"enforce\"",
        ),
        "registers no application",
    );
    // Without applications nothing changes: no mount enforces.
    assert!(!parse(DATASET_API).unwrap().apis[0].enforce_register);
}

#[test]
fn the_register_may_live_in_its_own_file() {
    let dir = std::env::temp_dir().join(format!("sluis-register-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("register.toml");
    std::fs::write(
        &file,
        "[[applications]]\nid = \"sd\"\nname = \"SD\"\nclients = [{ client_id = \"suite\" }]\nactivities = [\"bijstand\", \"extra\"]\n\n[[processing_activities]]\nid = \"extra\"\nname = \"Extra\"\npurpose = \"p\"\nlegal_basis = \"b\"\nretention_days = 10\n",
    )
    .unwrap();
    let text = format!(
        "{DATASET_API}\n[register]\nfile = {:?}\n",
        file.display().to_string()
    );
    let cfg = parse(&text).unwrap();
    assert_eq!(cfg.register_file.as_deref(), Some(file.as_path()));
    assert!(cfg.activity("extra").is_some());
    assert_eq!(cfg.register.application("sd").unwrap().activities.len(), 2);
    std::fs::write(&file, "[[applications]\n").unwrap();
    assert_problem(&text, "register.toml (line 1");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn issuer_roles_map_to_scopes() {
    let cfg = parse(&format!(
        "{DATASET_API}\n[issuers.roles]\nclaims = [\"realm_access.roles\"]\nmapping = {{ \"wmo\" = [\"BRP/zoek-bsn\", \"BRP/basis\"] }}\n"
    ))
    .unwrap();
    let roles = &cfg.issuers[0].roles;
    assert_eq!(roles.claims, vec!["realm_access.roles"]);
    assert_eq!(roles.mapping["wmo"], vec!["BRP/zoek-bsn", "BRP/basis"]);
    assert_problem(
        &format!(
            "{DATASET_API}\n[issuers.roles]\nclaims = []\nmapping = {{ \"wmo\" = [\"x\"] }}\n"
        ),
        "name the claims that hold roles",
    );
    assert_problem(
        &format!(
            "{DATASET_API}\n[issuers.roles]\nclaims = [\"groups\"]\nmapping = {{ \"wmo\" = [] }}\n"
        ),
        "map a role to one or more scope names",
    );
}
