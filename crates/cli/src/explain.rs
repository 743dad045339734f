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
    #[arg(long = "schemas", required = true, value_name = "PATH")]
    schemas: Vec<PathBuf>,
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
    let policy = fs::load_policy(&args.schemas, &args.profiles)?;
    if !args.table.contains('.') {
        return Err(CliError::Usage(format!(
            "--table {:?}: expected DATASET.TABLE",
            args.table
        )));
    }
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
