//! CLI stage, `capplan chart`: chart tables read back from a run's folder → charts written atomically.

use super::{ChartArgs, ChartSize};
use crate::error::Result;
use crate::report::tables::ChartTables;
use crate::report::write::OutputFile;

/// Renders every chart of a run as files (nothing is written here).
pub fn render(tables: &ChartTables, size: ChartSize) -> Result<Vec<OutputFile>> {
    let opts = crate::chart::ChartOptions {
        width: size.width,
        height: size.height,
    };
    Ok(crate::chart::render_all(tables, &opts)?
        .into_iter()
        .map(|c| OutputFile {
            name: c.file_name,
            bytes: c.bytes,
        })
        .collect())
}

pub fn execute(args: &ChartArgs) -> Result<()> {
    let tables = crate::report::write::read_chart_tables(&args.output)?;
    let files = render(&tables, args.chart_size)?;
    crate::report::write::write_atomically(&args.output, &files)?;
    let list: String = files
        .iter()
        .map(|f| format!("{}\n", args.output.join(&f.name).display()))
        .collect();
    super::print(list)
}
