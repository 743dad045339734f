//! `sluis check`: validates everything `serve` would load.

use std::path::Path;

use crate::CliError;

pub fn run(path: &Path) -> Result<String, CliError> {
    let summary = sluis_proxy::server::check(path)
        .map_err(|p| CliError::Config(p.iter().map(ToString::to_string).collect()))?;
    Ok(format!("{}: ok ({summary})\n", path.display()))
}
