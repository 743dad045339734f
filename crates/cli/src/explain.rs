//! `sluis explain`.

use std::path::PathBuf;

use clap::{Args as ClapArgs, ValueEnum};
use sluis_policy::{Request, explain, fs};

use crate::CliError;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Json,
    Text,
}

/// Arguments of `sluis explain`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// A dataset file or a folder of datasets (and scope files); repeatable.
    #[arg(
        long = "schemas",
        required_unless_present = "config",
        value_name = "PATH"
    )]
    schemas: Vec<PathBuf>,
    /// Explain as the server decides with this configuration: its policy, and the register's
    /// narrowing for `--app` and `--activity` on the mount `--api`.
    #[arg(long, conflicts_with_all = ["schemas", "profiles"], requires = "api")]
    config: Option<PathBuf>,
    /// With --config: the registered application that calls (its first client id).
    #[arg(long, value_name = "ID", requires = "config")]
    app: Option<String>,
    /// With --config: the processing activity the request states.
    #[arg(long, value_name = "ID", requires = "config")]
    activity: Option<String>,
    /// With --config: the dataset mount (`[[apis]] name`); --table is then the table id alone
    /// or DATASET.TABLE.
    #[arg(long, value_name = "NAME", requires = "config")]
    api: Option<String>,
    /// A folder of profile files, or one profile file; repeatable.
    #[arg(long = "profiles", value_name = "PATH")]
    profiles: Vec<PathBuf>,
    /// The caller's scopes, separated by spaces.
    #[arg(long, default_value = "", value_name = "\"S1 S2\"")]
    scopes: String,
    /// The table, as DATASET.TABLE.
    #[arg(long, value_name = "DATASET.TABLE")]
    table: String,
    /// A query parameter of the request, NAME=VALUE (NAME alone for a bare `?NAME`); repeatable.
    #[arg(long = "param", value_name = "NAME=VALUE")]
    params: Vec<String>,
    /// Explain a detail request for this object id (its identifier counts as a supplied filter).
    #[arg(long, value_name = "ID")]
    detail: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value = "json")]
    format: Format,
}

pub fn run(args: &Args) -> Result<String, CliError> {
    if let Some(config) = &args.config {
        return with_config(args, config);
    }
    let policy = fs::load_policy(&args.schemas, &args.profiles)?;
    if !args.table.contains('.') {
        return Err(CliError::Usage(format!(
            "--table {:?}: expected DATASET.TABLE",
            args.table
        )));
    }
    let params = params(args)?;
    let scopes: Vec<&str> = args.scopes.split_whitespace().collect();
    let scope_set = policy.scope_set(&scopes);
    let req = Request {
        table: &args.table,
        scopes: &scope_set,
        params: &params,
        detail: args.detail.as_deref(),
    };
    let e = explain::explain(&policy, &req)?;
    Ok(match args.format {
        Format::Json => format!("{}\n", e.to_json()),
        Format::Text => e.to_text(),
    })
}

fn params(args: &Args) -> Result<Vec<(String, String)>, CliError> {
    let mut params = Vec::new();
    for p in &args.params {
        let (k, v) = p.split_once('=').unwrap_or((p.as_str(), ""));
        if k.is_empty() {
            return Err(CliError::Usage(format!(
                "--param {p:?}: expected NAME=VALUE"
            )));
        }
        params.push((k.to_owned(), v.to_owned()));
    }
    Ok(params)
}

/// `sluis explain --config`: the register first (application, activity, ceiling), then the
/// engine with the effective scopes, as the server decides.
fn with_config(args: &Args, config: &std::path::Path) -> Result<String, CliError> {
    let source = crate::rights::load(config)?;
    let api = args.api.as_deref().unwrap_or_default();
    let mount = source
        .config
        .apis
        .iter()
        .find(|a| a.name == api)
        .ok_or_else(|| {
            CliError::Usage(format!("--api {api:?}: no [[apis]] entry has this name"))
        })?;
    let sluis_proxy::config::ApiKind::Dataset(d) = &mount.kind else {
        return Err(CliError::Usage(format!(
            "--api {api:?}: explain covers dataset mounts; for BRP use `sluis rights` or `sluis policy test`"
        )));
    };
    let table = match args.table.split_once('.') {
        Some((ds, _)) if ds == d.dataset => args.table.clone(),
        Some(_) => {
            return Err(CliError::Usage(format!(
                "--table {:?}: the mount {api:?} serves dataset {:?}",
                args.table, d.dataset
            )));
        }
        None => format!("{}.{}", d.dataset, args.table),
    };
    let register = &source.config.register;
    let (issuer, client) = match &args.app {
        Some(id) => {
            let app = register.application(id).ok_or_else(|| {
                CliError::Usage(format!("--app {id:?}: not an application in the register"))
            })?;
            let c = app.clients.first();
            (
                c.and_then(|c| c.issuer.clone()).unwrap_or_default(),
                c.map(|c| c.client_id.clone()),
            )
        }
        None => (String::new(), None),
    };
    let token: Vec<String> = args.scopes.split_whitespace().map(str::to_owned).collect();
    let activity = args.activity.clone().or_else(|| mount.activity.clone());
    let caller = sluis_rights::Caller {
        issuer: &issuer,
        client_id: client.as_deref(),
        activity: activity.as_deref(),
        api,
        scopes: &token,
    };
    let refused = |d: sluis_rights::RegisterDenial| match args.format {
        Format::Json => format!(
            "{}\n",
            serde_json::json!({"table": table, "access": false, "status": 403,
                "code": d.code(), "reasons": [d.to_string()]})
        ),
        Format::Text => format!("{table}: refused, 403 {}: {d}\n", d.code()),
    };
    let admission = match register.admit(&caller, mount.enforce_register) {
        Ok(a) => a,
        Err(d) => return Ok(refused(d)),
    };
    let op = format!(
        "dataset.{table}.{}",
        if args.detail.is_some() {
            "detail"
        } else {
            "list"
        }
    );
    if let Err(d) = admission.check_operation(&op) {
        return Ok(refused(d));
    }
    let params = params(args)?;
    let scope_set = source.policy.scope_set(&admission.scopes);
    let req = Request {
        table: &table,
        scopes: &scope_set,
        params: &params,
        detail: args.detail.as_deref(),
    };
    let e = explain::explain(&source.policy, &req)?;
    let register_part = serde_json::json!({
        "application": admission.application,
        "activity": activity,
        "effectiveScopes": admission.scopes,
        "scopesDropped": admission.dropped,
    });
    Ok(match args.format {
        Format::Json => {
            let mut v = serde_json::to_value(&e).map_err(|x| CliError::Usage(x.to_string()))?;
            if let serde_json::Value::Object(m) = &mut v {
                m.insert("register".into(), register_part);
            }
            format!("{v}\n")
        }
        Format::Text => format!(
            "register: application {}, activity {}, effective scopes [{}]{}\n{}",
            admission
                .application
                .as_deref()
                .unwrap_or("(not registered; the mount does not consult the register)"),
            activity.as_deref().unwrap_or("(none)"),
            admission.scopes.join(" "),
            if admission.dropped.is_empty() {
                String::new()
            } else {
                format!(", dropped by the ceiling [{}]", admission.dropped.join(" "))
            },
            e.to_text()
        ),
    })
}
