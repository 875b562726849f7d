//! CLI stage, `capplan validate`: load → checks → summary.

use super::{Format, ValidateArgs};
use crate::error::Result;

pub fn execute(args: &ValidateArgs) -> Result<()> {
    let loaded = crate::load::load(&args.scenario)?;
    let mut warnings = loaded.warnings;
    warnings.extend(crate::validate::warnings(&loaded.scenario));
    let summary = crate::validate::summary(&loaded.scenario, &warnings);
    match args.format {
        Format::Text => super::print(crate::validate::render_summary(&summary)),
        Format::Json => super::print(format!(
            "{}\n",
            serde_json::to_string_pretty(&summary).expect("summary serialises")
        )),
    }
}
