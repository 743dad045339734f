//! `sluis demo`: sluis on its embedded defaults — an example policy, a fixture upstream with
//! fictional data, and a demo signing key — plus `sluis demo token` to mint tokens it accepts.
//!
//! The demo signing key is public knowledge (it is in this source tree): the demo issuer exists
//! only in the configuration `sluis demo` writes, never in a real deployment.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{SystemTime, UNIX_EPOCH};

use clap::{Args as ClapArgs, Subcommand};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;
use sluis_testkit::zgw::{Betrokkene, Va, ZgwFixture, ZgwFixtureConfig, ZgwFixtureHandle};
use sluis_testkit::{BrpFixture, BrpFixtureConfig, DatasetFixture, FixtureConfig, FixtureData};

use crate::CliError;

const DEMO_KEY: &str = include_str!("demo/demo-signing-key.pem");
const DEMO_JWKS: &str = include_str!("demo/demo-jwks.json");
const DEMO_KID: &str = "sluis-demo-1";
/// The demo issuer's `iss`.
pub const DEMO_ISSUER: &str = "https://demo.sluis.invalid";
/// The audience demo tokens carry.
pub const DEMO_AUDIENCE: &str = "sluis-demo";

/// The example policy, embedded so the demo runs from any directory.
const POLICY_FILES: &[(&str, &str)] = &[
    (
        "datasets/afvalwegingen/dataset.json",
        include_str!("../../../examples/policy/datasets/afvalwegingen/dataset.json"),
    ),
    (
        "datasets/afvalwegingen/containers/v1.json",
        include_str!("../../../examples/policy/datasets/afvalwegingen/containers/v1.json"),
    ),
    (
        "datasets/afvalwegingen/clusters/v1.json",
        include_str!("../../../examples/policy/datasets/afvalwegingen/clusters/v1.json"),
    ),
    (
        "datasets/brp.json",
        include_str!("../../../examples/policy/datasets/brp.json"),
    ),
    (
        "datasets/parkeervakken.json",
        include_str!("../../../examples/policy/datasets/parkeervakken.json"),
    ),
    (
        "datasets/scopes/brp_r.json",
        include_str!("../../../examples/policy/datasets/scopes/brp_r.json"),
    ),
    (
        "profiles/brp_naamzoeker.json",
        include_str!("../../../examples/policy/profiles/brp_naamzoeker.json"),
    ),
    (
        "profiles/handhaving.json",
        include_str!("../../../examples/policy/profiles/handhaving.json"),
    ),
    (
        "profiles/iedereen.json",
        include_str!("../../../examples/policy/profiles/iedereen.json"),
    ),
    (
        "brp.toml",
        include_str!("../../../examples/policy/brp.toml"),
    ),
    (
        "tests/demo.toml",
        include_str!("../../../examples/policy/tests/demo.toml"),
    ),
];

#[derive(Debug, ClapArgs)]
#[command(args_conflicts_with_subcommands = true)]
pub struct Args {
    #[command(subcommand)]
    command: Option<DemoCommand>,
    /// Address of the API listener.
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: SocketAddr,
    /// Address of the admin listener (health, readiness, metrics).
    #[arg(long, default_value = "127.0.0.1:9090")]
    admin_listen: SocketAddr,
    /// Where the demo writes its configuration, policy copy and audit log
    /// (default: a `sluis-demo` folder in the system's temporary directory).
    #[arg(long)]
    data_dir: Option<PathBuf>,
    /// Sign reviewers in to the pages (`/ui/`) at this OpenID provider instead of the demo's
    /// sign-in (its issuer URL; discovery is read from it).
    #[arg(long, value_name = "ISSUER_URL", requires_all = ["oidc_client_id", "oidc_client_secret_file"])]
    oidc_issuer: Option<String>,
    /// The pages' client at that provider (authorization code flow with PKCE).
    #[arg(long, value_name = "CLIENT_ID")]
    oidc_client_id: Option<String>,
    /// A file holding that client's secret.
    #[arg(long, value_name = "FILE")]
    oidc_client_secret_file: Option<PathBuf>,
}

/// The pages' sign-in at a real OpenID provider (`--oidc-issuer`).
pub struct DemoOidc<'a> {
    pub issuer: &'a str,
    pub client_id: &'a str,
    pub secret_file: &'a Path,
}

/// The user the demo's planted watch-list lookup names.
pub const CURIOUS_USER: &str = "mdw-nieuwsgierig";

#[derive(Debug, Subcommand)]
enum DemoCommand {
    /// Print a token the demo accepts.
    Token(TokenArgs),
}

#[derive(Debug, ClapArgs)]
pub struct TokenArgs {
    /// Scopes, separated by spaces.
    #[arg(long, default_value = "")]
    scopes: String,
    /// The user the token names (claim `email`; for `--zgw`, `user_id`).
    #[arg(long, default_value = "medewerker@demo.sluis.invalid")]
    user: String,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    ttl: u64,
    /// The client application (`azp`) of an OIDC token.
    #[arg(long, default_value = DEMO_CLIENT)]
    client: String,
    /// Mint a ZGW token instead (HS256, `client_id`, `iat`) for this demo ZGW client.
    #[arg(long, value_name = "CLIENT_ID")]
    zgw: Option<String>,
}

/// The demo's OIDC client that may name its users in `X-User`.
pub const DEMO_CLIENT: &str = "sluis-demo-client";
/// The demo's ZGW clients (HS256) and their secret: public knowledge, demo only.
pub const DEMO_ZGW_CLIENTS: [&str; 1] = [DEMO_ZGW_OPENBAAR];
pub const DEMO_ZGW_OPENBAAR: &str = "demo-zaakportaal";
const DEMO_ZGW_SECRET: &str = "sluis-demo-zgw-secret-public-knowledge-demo-only";
/// sluis's own ZGW client at the demo's ZGW fixture.
const DEMO_SLUIS_ZGW: (&str, &str) = ("sluis-demo", "sluis-demo-upstream-secret-demo-only");

/// Signs a demo ZGW token (HS256, `iat`-based expiry as ZGW does).
pub fn zgw_token(client: &str, user: &str) -> Result<String, CliError> {
    if !DEMO_ZGW_CLIENTS.contains(&client) {
        return Err(CliError::Usage(format!(
            "{client:?} is not a demo ZGW client; the demo has {}",
            DEMO_ZGW_CLIENTS.join(", ")
        )));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let claims = json!({"iss": client, "client_id": client, "iat": now,
        "user_id": user, "user_representation": user});
    jsonwebtoken::encode(
        &Header::new(Algorithm::HS256),
        &claims,
        &EncodingKey::from_secret(DEMO_ZGW_SECRET.as_bytes()),
    )
    .map_err(|e| CliError::Usage(format!("signing: {e}")))
}

/// Signs a demo token for the demo client.
pub fn token(scopes: &str, user: &str, ttl: u64) -> Result<String, CliError> {
    token_for(DEMO_CLIENT, scopes, user, ttl)
}

/// Signs a demo token for client application `client`.
pub fn token_for(client: &str, scopes: &str, user: &str, ttl: u64) -> Result<String, CliError> {
    if ttl == 0 || ttl > 30 * 24 * 3600 {
        return Err(CliError::Usage(
            "--ttl must be between 1 second and 30 days".into(),
        ));
    }
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let claims = json!({
        "iss": DEMO_ISSUER, "aud": DEMO_AUDIENCE, "sub": user, "email": user,
        "azp": client, "scope": scopes.split_whitespace().collect::<Vec<_>>().join(" "),
        "iat": now, "nbf": now, "exp": now + ttl,
    });
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some(DEMO_KID.into());
    let key = EncodingKey::from_ec_pem(DEMO_KEY.as_bytes())
        .map_err(|e| CliError::Usage(format!("demo key: {e}")))?;
    jsonwebtoken::encode(&header, &claims, &key)
        .map_err(|e| CliError::Usage(format!("signing: {e}")))
}

/// Unpadded base64url, for the seal key file.
fn base64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, b)| acc | (u32::from(*b) << (16 - 8 * i)));
        for i in 0..=chunk.len() {
            let idx = ((n >> (18 - 6 * i)) & 63) as usize;
            out.extend(A.get(idx).map(|c| char::from(*c)));
        }
    }
    out
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay as they are).
fn query_value(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

fn write(path: &Path, contents: &str) -> Result<(), CliError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| CliError::Usage(format!("{}: {e}", dir.display())))?;
    }
    std::fs::write(path, contents).map_err(|e| CliError::Usage(format!("{}: {e}", path.display())))
}

/// Writes the demo configuration for an upstream at `upstream` into `dir`; returns its path.
pub fn write_config(
    dir: &Path,
    listen: SocketAddr,
    admin: SocketAddr,
    upstream: &str,
    brp_upstream: &str,
    zgw_upstream: &str,
    oidc: Option<&DemoOidc<'_>>,
) -> Result<PathBuf, CliError> {
    for (rel, text) in POLICY_FILES {
        write(&dir.join("policy").join(rel), text)?;
    }
    write(&dir.join("demo-jwks.json"), DEMO_JWKS)?;
    write(&dir.join("zgw-clients.secret"), DEMO_ZGW_SECRET)?;
    write(&dir.join("zgw-upstream.secret"), DEMO_SLUIS_ZGW.1)?;
    // Keys made once per data directory and kept, so pseudonyms stay stable across runs.
    for (name, hex) in [
        ("encoding.key", true),
        ("subject.key", true),
        ("checkpoint.key", true),
        ("seal.key", false),
    ] {
        let key_path = dir.join(name);
        if !key_path.exists() {
            let mut key = [0u8; 32];
            getrandom::fill(&mut key).map_err(|e| CliError::Usage(format!("randomness: {e}")))?;
            let text = if hex {
                key.iter().map(|b| format!("{b:02x}")).collect()
            } else {
                base64url(&key)
            };
            write(&key_path, &text)?;
        }
    }
    let config = format!(
        r#"# Written by `sluis demo`. See docs/configuration.md for every setting.
[server]
listen = "{listen}"
admin_listen = "{admin}"

[policy]
schemas = ["policy/datasets"]
profiles = ["policy/profiles"]
encoding_key = {{ file = "encoding.key" }}

[[issuers]]
name = "demo"
issuer = "{DEMO_ISSUER}"
jwks_file = "demo-jwks.json"
audiences = ["{DEMO_AUDIENCE}"]
algorithms = ["ES256"]
scopes = "scope"
# The demo client authenticates its users itself and names them in X-User; other clients
# of this issuer are recorded as their token says.
trusted_user_clients = ["sluis-demo-client"]

[[apis]]
name = "afvalwegingen"
prefix = "/v1/afvalwegingen"
kind = "dataset"
dataset = "afvalwegingen"
upstream = {{ url = "{upstream}/v1/afvalwegingen", timeout_ms = 5000 }}
# Open data about containers: any client with a valid token, registered or not.
register = "off"

[[apis]]
name = "parkeervakken"
prefix = "/v1/parkeervakken"
kind = "dataset"
dataset = "parkeervakken"
upstream = {{ url = "{upstream}/v1/parkeervakken", timeout_ms = 5000 }}
register = "off"

[[apis]]
name = "brp"
prefix = "/v1/brp"
kind = "dataset"
dataset = "brp"
upstream = {{ url = "{upstream}/v1/brp", timeout_ms = 5000 }}
required_headers = ["X-User", "X-Correlation-ID", "X-Task-Description"]
user_header = "X-User"
purpose_header = "X-Task-Description"
correlation_header = "X-Correlation-ID"
subjects = {{ ingeschrevenpersonen = {{ field = "bsn", type = "BSN" }} }}

[[processing_activities]]
id = "bijstand-aanvraag"
name = "Behandelen aanvraag bijstandsuitkering"
purpose = "Vaststellen recht op bijstand"
legal_basis = "Participatiewet art. 43"
retention_days = 3650
# The most this activity may use: BRP by BSN and postcode, basic data, address and family.
# A token scope outside these is dropped for requests of this activity.
[processing_activities.ceiling]
apis = ["brp", "brp-personen"]
scopes = ["BRP/R", "BRP/RNAME", "BRP/zoek-bsn", "BRP/zoek-postcode", "BRP/basis", "BRP/adres", "BRP/familie"]

[[processing_activities]]
id = "parkeervergunning"
name = "Behandelen aanvraag parkeervergunning"
purpose = "Vaststellen woonadres aanvrager"
legal_basis = "Verordening parkeerbelastingen"
retention_days = 730
[processing_activities.ceiling]
apis = ["brp-personen"]
operations = ["brp.personen.RaadpleegMetBurgerservicenummer"]
scopes = ["BRP/zoek-bsn", "BRP/basis", "BRP/adres"]

# The register: which task applications exist and for which activities (docs/rights.md).
# Only registered applications reach the BRP and ZGW mounts below.
[[applications]]
id = "sociaal-domein"
name = "Suite Sociaal Domein"
owner = "Werk en Inkomen"
clients = [{{ issuer = "demo", client_id = "{DEMO_CLIENT}" }}]
activities = ["bijstand-aanvraag"]

[[applications]]
id = "parkeren"
name = "Parkeervergunningen"
owner = "Parkeren"
clients = [{{ issuer = "demo", client_id = "sluis-demo-parkeren" }}]
activities = ["parkeervergunning"]

[[applications]]
id = "zaakbehandeling"
name = "Zaakbehandelcomponent"
clients = [{{ issuer = "demo", client_id = "{DEMO_ZAAKBEHANDELING}" }}]
activities = ["zaakafhandeling"]

[[applications]]
id = "kcc"
name = "Klantcontactcentrum"
clients = [{{ issuer = "demo", client_id = "{DEMO_KCC}" }}]
activities = ["zaakafhandeling"]

[[applications]]
id = "zaakportaal"
name = "Zaakportaal"
clients = [{{ issuer = "demo-zgw", client_id = "{DEMO_ZGW_OPENBAAR}" }}]
activities = ["zaakafhandeling"]

[[apis]]
name = "brp-personen"
prefix = "/haalcentraal/api/brp"
kind = "brp"
brp_policy = "policy/brp.toml"
upstream = {{ url = "{brp_upstream}", timeout_ms = 5000 }}
seal_keys = [{{ id = "demo1", key = {{ file = "seal.key" }} }}]
required_headers = ["X-User", "X-Correlation-ID", "X-Task-Description"]
user_header = "X-User"
purpose_header = "X-Task-Description"
correlation_header = "X-Correlation-ID"

[[issuers]]
name = "demo-zgw"
kind = "hmac"
scopes = "none"
user_claims = ["user_id"]
max_age_secs = 3600
clients = [{{ client_id = "{DEMO_ZGW_OPENBAAR}", secret = {{ file = "zgw-clients.secret" }} }}]

[[processing_activities]]
id = "zaakafhandeling"
name = "Behandelen van zaken"
purpose = "Afhandelen van aanvragen en meldingen"
legal_basis = "Awb; de wet van het zaaktype"
retention_days = 3650
[processing_activities.ceiling]
apis = ["zaken", "documenten", "catalogi"]

[[apis]]
name = "zaken"
prefix = "/zaken/api/v1"
kind = "zgw"
component = "zaken"
activity = "zaakafhandeling"
[apis.upstream]
url = "{zgw_upstream}/zaken/api/v1"
timeout_ms = 5000
zgw_jwt = {{ client_id = "{zgw_client}", secret = {{ file = "zgw-upstream.secret" }} }}

[[apis]]
name = "documenten"
prefix = "/documenten/api/v1"
kind = "zgw"
component = "documenten"
activity = "zaakafhandeling"
[apis.upstream]
url = "{zgw_upstream}/documenten/api/v1"
timeout_ms = 5000
zgw_jwt = {{ client_id = "{zgw_client}", secret = {{ file = "zgw-upstream.secret" }} }}

[[apis]]
name = "catalogi"
prefix = "/catalogi/api/v1"
kind = "zgw"
component = "catalogi"
activity = "zaakafhandeling"
[apis.upstream]
url = "{zgw_upstream}/catalogi/api/v1"
timeout_ms = 5000
zgw_jwt = {{ client_id = "{zgw_client}", secret = {{ file = "zgw-upstream.secret" }} }}

[zgw]
autorisaties_file = "zgw-autorisaties.json"
rules = "zgw-rules.toml"

[audit]
kind = "sqlite"
path = "audit.db"
subject_key = {{ file = "subject.key" }}
checkpoint_key = {{ file = "checkpoint.key" }}
checkpoint_every = 100
controller = "Gemeente Demostad"
reader_scope = "SLUIS/AUDIT"

# Misuse detection as records commit (docs/supervision.md); the rules file holds the watch list.
[detection]
rules = "detection.toml"
"#,
        zgw_client = DEMO_SLUIS_ZGW.0,
    );
    let config = match oidc {
        None => config,
        Some(o) => format!(
            r#"{config}
# The privacy officer's pages, signed in at the municipality's OpenID provider.
[[issuers]]
name = "idp"
issuer = "{issuer}"
discovery_url = "{issuer}"
audiences = ["sluis"]
algorithms = ["RS256"]

[ui]
issuer = "idp"
client_id = "{client}"
client_secret = {{ file = "{secret}" }}
redirect_url = "http://{admin}/ui/callback"
scopes = ["openid", "profile", "roles"]
roles_claim = "roles"
reviewer_roles = ["privacy-officer", "security-officer"]
identity_roles = ["privacy-officer"]
"#,
            issuer = o.issuer,
            client = o.client_id,
            secret = o.secret_file.display(),
        ),
    };
    let path = dir.join("sluis.toml");
    write(&path, &config)?;
    Ok(path)
}

/// The demo's detection rules: office hours, a small user directory and, once the subject key
/// exists, a watch list with one public figure's pseudonym.
fn detection_rules(watched: Option<&str>) -> String {
    let watch = match watched {
        Some(p) => format!(
            "[[watch_lists]]\nname = \"publieke-personen\"\nseverity = \"high\"\n# Pseudonyms (`sluis audit pseudonymize`), never BSNs.\nsubjects = [\"{p}\"]\n"
        ),
        None => String::new(),
    };
    format!(
        r#"# Written by `sluis demo`: the misuse-detection rules (docs/supervision.md).
timezone = "Europe/Amsterdam"

[office_hours]
start = "08:00"
end = "18:00"

{watch}
[[users]]
id = "medewerker1"
unit = "Werk en Inkomen"
applications = ["sociaal-domein"]

[[users]]
id = "{CURIOUS_USER}"
unit = "Werk en Inkomen"
applications = ["sociaal-domein"]
"#
    )
}

/// One BRP lookup by BSN through the demo's own API, as [`CURIOUS_USER`]; returns the status.
async fn plant_watch_list_lookup(api: SocketAddr, bsn: &str) -> Result<u16, CliError> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let t = token(
        "BRP/zoek-bsn BRP/basis",
        "medewerker@demo.sluis.invalid",
        600,
    )?;
    let body =
        format!(r#"{{"type":"RaadpleegMetBurgerservicenummer","burgerservicenummer":["{bsn}"]}}"#);
    let req = format!(
        "POST /haalcentraal/api/brp/personen HTTP/1.1\r\nHost: {api}\r\nAuthorization: Bearer {t}\r\nX-User: {CURIOUS_USER}\r\nX-Correlation-ID: nieuwsgierig-1\r\nX-Task-Description: bijstand-aanvraag\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let io = |e: std::io::Error| CliError::Usage(format!("the demo's own API: {e}"));
    let mut s = tokio::net::TcpStream::connect(api).await.map_err(io)?;
    s.write_all(req.as_bytes()).await.map_err(io)?;
    let mut answer = Vec::new();
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        s.read_to_end(&mut answer),
    )
    .await
    .map_err(|_| CliError::Usage("the demo's own API did not answer in 10 s".into()))?
    .map_err(io)?;
    let text = String::from_utf8_lossy(&answer);
    text.split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| CliError::Usage("the demo's own API gave no HTTP answer".into()))
}

/// The example rules (`examples/zgw/rules.toml`); its HR zaaktype becomes one of the demo's.
const ZGW_RULES: &str = include_str!("../../../examples/zgw/rules.toml");
const EXAMPLE_HR_ZAAKTYPE: &str =
    "https://catalogi.gemeente.example/api/v1/zaaktypen/0119dd4e-7be9-477e-bccf-75023b1453c1";
/// The demo's OIDC clients with ZGW Applicaties.
const DEMO_ZAAKBEHANDELING: &str = "sluis-demo-zaakbehandeling";
const DEMO_KCC: &str = "sluis-demo-kcc";
/// The behandelaar the demo names.
const DEMO_BEHANDELAAR: &str = "mdw-demo-01";

/// What the demo's ZGW examples point at (upstream URLs).
struct ZgwExamples {
    /// An HR zaak the behandelaar handles, and one of the same zaaktype they do not.
    mine: String,
    not_mine: String,
    /// A zaak with a natural person as initiator.
    with_person: String,
    /// The zaaktype the portal may read at openbaar.
    public_zaaktype: String,
}

fn autorisatie(zaaktype: &str, max: &str, scopes: &[&str]) -> serde_json::Value {
    json!({"component": "zrc", "scopes": scopes, "zaaktype": zaaktype,
        "maxVertrouwelijkheidaanduiding": max})
}

/// Writes the ZGW Applicaties and rules of the demo into `dir`, from the fixture's data.
fn zgw_demo(dir: &Path, fixture: &ZgwFixtureHandle) -> Result<ZgwExamples, CliError> {
    let fail = |what: &str| CliError::Usage(format!("ZGW fixture data: {what}"));
    let with_person = fixture
        .zaken_where(|z| !z.bsns.is_empty() && z.va <= Va::Vertrouwelijk)
        .first()
        .cloned()
        .ok_or_else(|| fail("no zaak with a natural person"))?;
    let hr = fixture
        .zaken_where(|z| z.zaaktype != with_person.zaaktype)
        .first()
        .map(|z| z.zaaktype.clone())
        .ok_or_else(|| fail("no second zaaktype"))?;
    let of_hr = fixture.zaken_where(|z| z.zaaktype == hr);
    let (mine, not_mine) = match of_hr.as_slice() {
        [a, b, ..] => (a.url.clone(), b.url.clone()),
        _ => return Err(fail("too few zaken of one zaaktype")),
    };
    fixture
        .add_rol(
            &mine,
            "behandelaar",
            Betrokkene::Medewerker {
                identificatie: DEMO_BEHANDELAAR.into(),
                achternaam: "de Wit".into(),
            },
        )
        .map_err(|e| fail(&e.to_string()))?;
    let public_zaaktype = fixture
        .zaken_where(|z| z.va == Va::Openbaar && z.zaaktype != hr)
        .first()
        .map(|z| z.zaaktype.clone())
        .ok_or_else(|| fail("no openbaar zaak"))?;
    let all = fixture.zaaktype_urls();
    let zaken_app: Vec<_> = all
        .iter()
        .map(|zt| autorisatie(zt, "zeer_geheim", &["zaken.lezen", "zaken.bijwerken"]))
        .collect();
    let kcc: Vec<_> = all
        .iter()
        .map(|zt| autorisatie(zt, "vertrouwelijk", &["kcc"]))
        .collect();
    let docs: Vec<_> = fixture
        .informatieobjecttype_urls()
        .iter()
        .map(|t| {
            json!({"component": "drc", "scopes": ["documenten.lezen"],
            "informatieobjecttype": t, "maxVertrouwelijkheidaanduiding": "zeer_geheim"})
        })
        .collect();
    let mut zaken_all = zaken_app;
    zaken_all.extend(docs);
    let applicaties = json!([
        {"clientIds": [DEMO_ZAAKBEHANDELING], "label": "Zaakbehandelcomponent",
         "heeftAlleAutorisaties": false, "autorisaties": zaken_all},
        {"clientIds": [DEMO_KCC], "label": "Klantcontactcentrum",
         "heeftAlleAutorisaties": false, "autorisaties": kcc},
        {"clientIds": [DEMO_ZGW_OPENBAAR], "label": "Zaakportaal",
         "heeftAlleAutorisaties": false,
         "autorisaties": [autorisatie(&public_zaaktype, "openbaar", &["zaken.lezen.openbaar"])]},
    ]);
    let text = serde_json::to_string_pretty(&applicaties)
        .map_err(|e| CliError::Usage(format!("autorisaties: {e}")))?;
    write(&dir.join("zgw-autorisaties.json"), &text)?;
    write(
        &dir.join("zgw-rules.toml"),
        &ZGW_RULES.replace(EXAMPLE_HR_ZAAKTYPE, &hr),
    )?;
    Ok(ZgwExamples {
        mine,
        not_mine,
        with_person: with_person.url,
        public_zaaktype,
    })
}

pub async fn run(args: &Args) -> Result<String, CliError> {
    if let Some(DemoCommand::Token(t)) = &args.command {
        return Ok(match &t.zgw {
            Some(client) => format!("{}\n", zgw_token(client, &t.user)?),
            None => format!("{}\n", token_for(&t.client, &t.scopes, &t.user, t.ttl)?),
        });
    }
    let dir = args
        .data_dir
        .clone()
        .unwrap_or_else(|| std::env::temp_dir().join("sluis-demo"));
    let fixture_config = FixtureConfig {
        listen: SocketAddr::from(([127, 0, 0, 1], 0)),
        ..FixtureConfig::default()
    };
    // Real values from the fixture's data make the example requests find something.
    let data = FixtureData::generate(&fixture_config)
        .map_err(|e| CliError::Usage(format!("fixture data: {e}")))?;
    let first = |dataset: &str, table: &str| {
        data.table(dataset, table)
            .and_then(|t| t.records().first().cloned())
    };
    let vak = first("parkeervakken", "parkeervakken")
        .and_then(|r| r.get("id").and_then(|v| v.as_str()).map(str::to_owned))
        .unwrap_or_default();
    let person = first("brp", "ingeschrevenpersonen").unwrap_or_default();
    let naam = person
        .get("geslachtsnaam")
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_owned();
    let postcode = person
        .get("verblijfplaats")
        .and_then(|v| v.get("postcode"))
        .and_then(|v| v.as_str())
        .unwrap_or("")
        .to_owned();
    let fixture = DatasetFixture::start(fixture_config)
        .await
        .map_err(|e| CliError::Usage(format!("fixture upstream: {e}")))?;
    let brp = BrpFixture::start(BrpFixtureConfig::default())
        .await
        .map_err(|e| CliError::Usage(format!("BRP fixture upstream: {e}")))?;
    let zgw = ZgwFixture::start(ZgwFixtureConfig {
        client_id: DEMO_SLUIS_ZGW.0.into(),
        secret: DEMO_SLUIS_ZGW.1.into(),
        ..ZgwFixtureConfig::default()
    })
    .await
    .map_err(|e| CliError::Usage(format!("ZGW fixture upstream: {e}")))?;
    let known = brp.data().known().clone();
    // A resident of the demo municipality (0363), so the own-municipality rule lets them through.
    let resident = known.family.parents.first().cloned().unwrap_or_default();
    let oidc = match (
        &args.oidc_issuer,
        &args.oidc_client_id,
        &args.oidc_client_secret_file,
    ) {
        (Some(issuer), Some(client_id), Some(secret_file)) => Some(DemoOidc {
            issuer: issuer.trim_end_matches('/'),
            client_id,
            secret_file,
        }),
        _ => None,
    };
    write(&dir.join("detection.toml"), &detection_rules(None))?;
    let path = write_config(
        &dir,
        args.listen,
        args.admin_listen,
        &fixture.base_url(),
        &brp.api_url(),
        &zgw.base_url(),
        oidc.as_ref(),
    )?;
    let zgw_ex = zgw_demo(&dir, &zgw)?;
    let load = || {
        sluis_proxy::Config::load(&path)
            .map_err(|p| CliError::Config(p.iter().map(ToString::to_string).collect()))
    };
    // The watch list holds the pseudonym of a public figure under this data directory's subject
    // key, never the BSN itself.
    let vip = known
        .family
        .parents
        .get(1)
        .cloned()
        .unwrap_or_else(|| resident.clone());
    let keys = sluis_proxy::auditing::subject_keys(&load()?.audit)
        .map_err(|e| CliError::Usage(format!("audit.subject_key: {e}")))?
        .ok_or_else(|| CliError::Usage("the demo configuration has no subject key".into()))?;
    write(
        &dir.join("detection.toml"),
        &detection_rules(Some(&keys.pseudonym("BSN", &vip))),
    )?;
    let mut config = load()?;
    // The demo's own sign-in for the pages, unless a real OpenID provider was named.
    config.demo_sign_in = oidc.is_none();
    let server = sluis_stores::start(config)
        .await
        .map_err(|e| CliError::Usage(e.to_string()))?;
    let base = format!("http://{}", server.api_addr());
    println!("sluis demo listening on {base}");
    println!(
        "admin (health, readiness, metrics) on http://{}",
        server.admin_addr()
    );
    println!(
        "configuration, policy copy and audit log in {}\n",
        dir.display()
    );
    // A planted misuse: an employee looks up the public figure on the watch list. Detection
    // raises a D5 alert within seconds; the inbox shows it.
    let planted = plant_watch_list_lookup(server.api_addr(), &vip).await;
    println!(
        "the privacy officer's pages: http://{}/ui/ ({})",
        server.admin_addr(),
        if oidc.is_some() {
            "sign in at the OpenID provider"
        } else {
            "demo sign-in; it exists only in the demo"
        }
    );
    match planted {
        Ok(status) => println!(
            "  planted: {CURIOUS_USER} looked up a person on the watch list (BSN {vip}, answered {status}); the alert is in the inbox at /ui/meldingen\n"
        ),
        Err(e) => println!("  the planted watch-list lookup failed: {e}\n"),
    }
    let vak_path = format!("/v1/parkeervakken/parkeervakken/{vak}");
    let brp_path = format!(
        "/v1/brp/ingeschrevenpersonen?verblijfplaats.postcode={}&geslachtsnaam={}",
        query_value(&postcode),
        query_value(&naam)
    );
    let examples = [
        (
            "anyone with a token: containers, owner's name cut to one letter",
            "",
            "/v1/afvalwegingen/containers?_pageSize=2",
            "",
        ),
        (
            "BAG/R: containers with owner names and their clusters",
            "BAG/R",
            "/v1/afvalwegingen/containers?_pageSize=2&_expandScope=cluster",
            "",
        ),
        (
            "a handhaver: one parkeervak, type and first letter of soort",
            "HANDHAVING",
            vak_path.as_str(),
            "",
        ),
        (
            "a handhaver without a need-to-know query: 403",
            "HANDHAVING",
            "/v1/parkeervakken/parkeervakken",
            "",
        ),
        (
            "BRP/RNAME: persons by postcode and name, BSN pseudonymised",
            "BRP/RNAME",
            brp_path.as_str(),
            " -H 'X-User: medewerker1' -H 'X-Correlation-ID: demo-1' -H 'X-Task-Description: bijstand-aanvraag'",
        ),
        (
            "BRP/R: full access to persons, for the registered activity bijstand-aanvraag",
            "BRP/R",
            "/v1/brp/ingeschrevenpersonen?_pageSize=1",
            " -H 'X-User: medewerker1' -H 'X-Correlation-ID: demo-2' -H 'X-Task-Description: bijstand-aanvraag'",
        ),
        (
            "the same token for a purpose its application is not registered for: 403 purposeNotAllowed",
            "BRP/R",
            "/v1/brp/ingeschrevenpersonen?_pageSize=1",
            " -H 'X-User: medewerker1' -H 'X-Correlation-ID: demo-3' -H 'X-Task-Description: parkeervergunning'",
        ),
    ];
    println!("Try (tokens valid for one hour; `sluis demo token --scopes \"...\"` makes more):\n");
    for (what, scopes, path, extra) in examples {
        let t = token(scopes, "medewerker@demo.sluis.invalid", 3600)?;
        println!("# {what}\ncurl -s -H 'Authorization: Bearer {t}'{extra} '{base}{path}'\n");
    }
    let why = "-H 'X-User: medewerker1' -H 'X-Correlation-ID: zaak-42' -H 'X-Task-Description: bijstand-aanvraag' -H 'Content-Type: application/json'";
    let brp_examples = [
        (
            "BRP: one person by BSN, fields from the caller's gegevensset (basis); own municipality injected",
            "BRP/zoek-bsn BRP/basis",
            format!(
                r#"{{"type":"RaadpleegMetBurgerservicenummer","burgerservicenummer":["{}"]}}"#,
                resident
            ),
        ),
        (
            "BRP: a postcode search; a person under geheimhouding is withheld (see the X-Sluis-Withheld header)",
            "BRP/zoek-postcode BRP/basis",
            format!(
                r#"{{"type":"ZoekMetPostcodeEnHuisnummer","postcode":"{}","huisnummer":{}}}"#,
                known.mixed_geheim_address.postcode, known.mixed_geheim_address.huisnummer
            ),
        ),
        (
            "BRP: a field outside the caller's gegevenssets: 403 naming it",
            "BRP/zoek-bsn BRP/basis",
            format!(
                r#"{{"type":"RaadpleegMetBurgerservicenummer","burgerservicenummer":["{}"],"fields":["naam","nationaliteiten"]}}"#,
                resident
            ),
        ),
    ];
    for (what, scopes, body) in brp_examples {
        let t = token(scopes, "medewerker@demo.sluis.invalid", 3600)?;
        println!(
            "# {what}\ncurl -s -i -H 'Authorization: Bearer {t}' {why} -d '{body}' '{base}/haalcentraal/api/brp/personen'\n"
        );
    }
    // ZGW: three callers see different zaken and fields.
    let public = |url: &str| url.replace(&zgw.base_url(), &base);
    let crs = "-H 'Accept-Crs: EPSG:4326'";
    let behandelaar = token_for(DEMO_ZAAKBEHANDELING, "", DEMO_BEHANDELAAR, 3600)?;
    let kcc = token_for(DEMO_KCC, "", "kcc-medewerker@demo.sluis.invalid", 3600)?;
    let portaal = zgw_token(DEMO_ZGW_OPENBAAR, "zaakportaal")?;
    let zgw_examples = [
        (
            "ZGW, a behandelaar: the HR zaak they handle (their rol is checked upstream)",
            &behandelaar,
            public(&zgw_ex.mine),
        ),
        (
            "ZGW, the same behandelaar: an HR zaak of a colleague: 403 not_involved",
            &behandelaar,
            public(&zgw_ex.not_mine),
        ),
        (
            "ZGW, a KCC employee: the initiator's name, never the BSN",
            &kcc,
            format!(
                "{base}/zaken/api/v1/rollen?zaak={}",
                public(&zgw_ex.with_person)
            ),
        ),
        (
            "ZGW, the zaakportaal (one zaaktype at openbaar, a ZGW HS256 token): only those zaken",
            &portaal,
            format!("{base}/zaken/api/v1/zaken"),
        ),
    ];
    for (what, t, url) in zgw_examples {
        println!("# {what}\ncurl -s -H 'Authorization: Bearer {t}' {crs} '{url}'\n");
    }
    let _ = &zgw_ex.public_zaaktype;
    println!(
        "# more ZGW tokens: sluis demo token --client {DEMO_KCC} | sluis demo token --zgw {DEMO_ZGW_OPENBAAR}\n"
    );
    let reader = token("SLUIS/AUDIT", "fg@demo.sluis.invalid", 3600)?;
    println!(
        "# every request is recorded before its response leaves; the privacy officer reads the log:\ncurl -s -H 'Authorization: Bearer {reader}' 'http://{}/audit/entries?limit=5'\n",
        server.admin_addr()
    );
    println!(
        "# a citizen's overview (AVG art. 15) and the log's integrity:\nsluis audit --config {} subject --bsn {} --format html > overzicht.html\nsluis audit --config {} verify\n",
        path.display(),
        resident,
        path.display()
    );
    println!(
        "# who can see what, from the register and the policy (also --format json|csv|html):\nsluis rights --config {0} --field '*.burgerservicenummer'\nsluis rights --config {0} --app sociaal-domein --field 'brp-personen.RaadpleegMetBurgerservicenummer.*'\n# the policy's own tests:\nsluis policy test --config {0} {1}\n",
        path.display(),
        dir.join("policy/tests").display()
    );
    println!("Press Ctrl-C to stop.");
    let _ = tokio::signal::ctrl_c().await;
    server.shutdown().await;
    let _ = fixture.shutdown().await;
    let _ = brp.shutdown().await;
    let _ = zgw.shutdown().await;
    Ok(String::new())
}
