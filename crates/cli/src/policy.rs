//! `sluis policy test` (expectation files) and `sluis policy diff` (change impact).

use std::path::{Path, PathBuf};

use clap::{Args as ClapArgs, Subcommand};

use crate::CliError;
use crate::rights::load;

/// Arguments of `sluis policy`.
#[derive(Debug, ClapArgs)]
pub struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run policy tests: TOML files (or folders of them) of `[[case]]` expectations.
    Test {
        /// The configuration file (TOML).
        #[arg(long)]
        config: PathBuf,
        /// Test files or folders.
        #[arg(required = true, value_name = "TESTS")]
        tests: Vec<PathBuf>,
    },
    /// What a new configuration gives and takes: fields and operations gained and lost per
    /// application and activity. Exit 0 either way.
    Diff {
        /// The old and the new configuration, in that order.
        #[arg(long = "config", required = true, num_args = 1, value_name = "FILE")]
        configs: Vec<PathBuf>,
        /// Output as JSON.
        #[arg(long)]
        json: bool,
    },
}

pub fn run(args: &Args) -> Result<String, CliError> {
    match &args.command {
        Command::Test { config, tests } => test(config, tests),
        Command::Diff { configs, json } => {
            let [old, new] = configs.as_slice() else {
                return Err(CliError::Usage(
                    "name two configurations: --config OLD --config NEW".into(),
                ));
            };
            let all = sluis_rights::Filter::default();
            let before = load(old)?.rights().matrix(&all);
            let after = load(new)?.rights().matrix(&all);
            let d = sluis_rights::diff(&before, &after);
            if *json {
                serde_json::to_string_pretty(&d)
                    .map(|s| s + "\n")
                    .map_err(|e| CliError::Usage(e.to_string()))
            } else {
                Ok(d.to_text())
            }
        }
    }
}

fn files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let rd = std::fs::read_dir(p)
                .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", p.display())))?;
            let mut found: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == "toml"))
                .collect();
            found.sort();
            if found.is_empty() {
                return Err(CliError::Usage(format!(
                    "{}: no .toml test files",
                    p.display()
                )));
            }
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn test(config: &Path, tests: &[PathBuf]) -> Result<String, CliError> {
    let source = load(config)?;
    let rights = source.rights();
    let mut report = String::new();
    let (mut passed, mut failed) = (0usize, 0usize);
    for f in files(tests)? {
        let text = std::fs::read_to_string(&f)
            .map_err(|e| CliError::Usage(format!("cannot read {}: {e}", f.display())))?;
        let file = sluis_rights::parse(&text)
            .map_err(|e| CliError::Usage(format!("{}: {e}", f.display())))?;
        if file.cases.is_empty() {
            return Err(CliError::Usage(format!(
                "{}: no [[case]] in the file",
                f.display()
            )));
        }
        for case in &file.cases {
            let r = rights.run_case(case);
            if r.passed() {
                passed += 1;
                report.push_str(&format!("ok    {}: {}\n", f.display(), r.name));
            } else {
                failed += 1;
                report.push_str(&format!("FAIL  {}: {}\n", f.display(), r.name));
                for m in &r.mismatches {
                    report.push_str(&format!("        - {m}\n"));
                }
                if let Some(o) = &r.outcome {
                    for why in &o.reasons {
                        report.push_str(&format!("        why: {why}\n"));
                    }
                }
            }
        }
    }
    report.push_str(&format!("{passed} passed, {failed} failed\n"));
    if failed > 0 {
        return Err(CliError::Failed {
            report,
            message: format!(
                "{failed} policy test{} failed",
                if failed == 1 { "" } else { "s" }
            ),
        });
    }
    Ok(report)
}
