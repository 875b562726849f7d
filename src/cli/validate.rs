//! CLI stage, `capplan validate`: load → checks → summary.

use super::{Format, ValidateArgs};
use crate::error::Result;

pub fn execute(args: &ValidateArgs) -> Result<()> {
    let flags = args.whatif.flags();
    let p = crate::pipeline::Planning::load(&args.scenario, &flags)?;
    let mut summary = crate::validate::summary(&p.scenario, &p.facts, &p.warnings);
    summary.whatif_flags = flags.values();
    match args.format {
        Format::Text => super::print(crate::validate::render_summary(&summary)),
        Format::Json => super::print(crate::export::json::exact(&summary)),
    }
}
