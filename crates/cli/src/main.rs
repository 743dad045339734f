//! The `sluis` binary: a thin shell over the library crates.

mod explain;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// sluis: a policy-enforcing facade for BRP, ZGW and dataset APIs.
#[derive(Debug, Parser)]
#[command(name = "sluis", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Show the policy decision for one request: table access, every field's level, filters.
    Explain(explain::Args),
}

/// Errors of the command-line tool; each becomes a message on stderr and exit status 2.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Policy(#[from] sluis_policy::PolicyError),
    #[error("{0}")]
    Usage(String),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Explain(args) => explain::run(&args),
    };
    match result {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("sluis: {e}");
            ExitCode::from(2)
        }
    }
}
