//! `sluis rights`: who can see what, derived from the register and the compiled policy by the
//! engine that decides requests.

use std::path::PathBuf;

use askama::Template;
use clap::{Args as ClapArgs, ValueEnum};
use sluis_proxy::rights::RightsSource;
use sluis_rights::{Cell, Filter, Glob};

use crate::CliError;

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Csv,
    Html,
}

/// Arguments of `sluis rights`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    /// The configuration file (TOML).
    #[arg(long)]
    config: PathBuf,
    /// Only these fields: `API.TABLE.FIELD` patterns, `*` for any run of characters
    /// (`brp.*.burgerservicenummer`, `*.bsn`); repeatable.
    #[arg(long = "field", value_name = "PATTERN")]
    fields: Vec<String>,
    /// Only this application (its register id; `*` for mounts without the register); repeatable.
    #[arg(long = "app", value_name = "ID")]
    apps: Vec<String>,
    /// Only cells that need this scope; repeatable.
    #[arg(long = "scope", value_name = "SCOPE")]
    scopes: Vec<String>,
    /// Assume tokens carry exactly these scopes (space-separated) instead of every scope the
    /// policies know; the activity's ceiling still applies.
    #[arg(long, value_name = "\"S1 S2\"")]
    token_scopes: Option<String>,
    /// Also list fields that stay absent.
    #[arg(long)]
    include_absent: bool,
    /// Output format.
    #[arg(long, value_enum, default_value = "text")]
    format: Format,
}

pub fn load(config: &std::path::Path) -> Result<RightsSource, CliError> {
    let cfg = sluis_proxy::Config::load(config).map_err(config_problems)?;
    RightsSource::load(cfg).map_err(config_problems)
}

pub fn config_problems(p: Vec<sluis_proxy::error::ConfigProblem>) -> CliError {
    CliError::Config(p.iter().map(ToString::to_string).collect())
}

pub fn run(args: &Args) -> Result<String, CliError> {
    let source = load(&args.config)?;
    let filter = Filter {
        fields: args.fields.iter().map(Glob::new).collect(),
        apps: args.apps.clone(),
        scopes: args.scopes.clone(),
        token_scopes: args
            .token_scopes
            .as_ref()
            .map(|s| s.split_whitespace().map(str::to_owned).collect()),
        include_absent: args.include_absent,
    };
    for a in &args.apps {
        if a != sluis_rights::ANY_APPLICATION && source.config.register.application(a).is_none() {
            return Err(CliError::Usage(format!(
                "--app {a:?}: not an application in the register"
            )));
        }
    }
    let cells = source.rights().matrix(&filter);
    render(&cells, args.format, None)
}

/// The matrix in a format.
pub fn render(cells: &[Cell], format: Format, at: Option<&str>) -> Result<String, CliError> {
    match format {
        Format::Json => serde_json::to_string_pretty(cells)
            .map(|s| s + "\n")
            .map_err(|e| CliError::Usage(e.to_string())),
        Format::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            let io = |e: csv::Error| CliError::Usage(format!("cannot write CSV: {e}"));
            w.write_record([
                "application",
                "application_name",
                "activity",
                "legal_basis",
                "api",
                "table",
                "field",
                "level",
                "scopes",
            ])
            .map_err(io)?;
            for c in cells {
                w.write_record([
                    &c.application,
                    &c.application_name,
                    &c.activity,
                    &c.legal_basis,
                    &c.api,
                    &c.table,
                    &c.field,
                    &c.level,
                    &c.scopes.join(" "),
                ])
                .map_err(io)?;
            }
            let bytes = w
                .into_inner()
                .map_err(|e| CliError::Usage(format!("cannot write CSV: {e}")))?;
            String::from_utf8(bytes).map_err(|e| CliError::Usage(e.to_string()))
        }
        Format::Html => {
            let page = RightsPage {
                at,
                rows: cells
                    .iter()
                    .map(|c| HtmlRow {
                        cell: c,
                        class: c.level.split(':').next().unwrap_or(""),
                        scopes: c.scopes.join(" "),
                    })
                    .collect(),
            };
            page.render()
                .map(|s| s + "\n")
                .map_err(|e| CliError::Usage(format!("cannot render the page: {e}")))
        }
        Format::Text => Ok(text(cells)),
    }
}

fn text(cells: &[Cell]) -> String {
    if cells.is_empty() {
        return "No application can see a field that matches.\n".into();
    }
    let mut out = String::new();
    let mut last: Option<(&str, &str)> = None;
    for c in cells {
        let head = (c.application.as_str(), c.activity.as_str());
        if last != Some(head) {
            if c.application == sluis_rights::ANY_APPLICATION {
                out.push_str("* (any application with a valid token; these APIs do not consult the register)\n");
            } else {
                out.push_str(&format!(
                    "{} ({}) / {} — {}\n",
                    c.application_name, c.application, c.activity, c.legal_basis
                ));
            }
            last = Some(head);
        }
        out.push_str(&format!(
            "  {}.{}.{}  {}  [{}]\n",
            c.api,
            c.table,
            c.field,
            c.level,
            c.scopes.join(" ")
        ));
    }
    out
}

#[derive(Template)]
#[template(path = "rights.html")]
struct RightsPage<'a> {
    at: Option<&'a str>,
    rows: Vec<HtmlRow<'a>>,
}

struct HtmlRow<'a> {
    cell: &'a Cell,
    class: &'a str,
    scopes: String,
}
