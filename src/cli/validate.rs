//! CLI stage, `capplan validate`: load → checks → summary.

use super::{Format, ValidateArgs};
use crate::error::Result;

pub fn execute(args: &ValidateArgs) -> Result<()> {
    let flags = args.whatif.flags();
    let (scenario, facts, warnings) = crate::pipeline::load(&args.scenario, &flags)?;
    let mut summary = crate::validate::summary(&scenario, &facts, &warnings);
    summary.whatif_flags = flags.values();
    match args.format {
        Format::Text => super::print(crate::validate::render_summary(&summary)),
        Format::Json => super::print(format!(
            "{}\n",
            serde_json::to_string_pretty(&summary).expect("summary serialises")
        )),
    }
}
