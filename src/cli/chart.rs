//! CLI stage, `capplan chart`: chart tables read back from a run's folder → charts written atomically.

use super::ChartArgs;
use crate::error::Result;

pub fn execute(args: &ChartArgs) -> Result<()> {
    let tables = crate::report::write::read_chart_tables(&args.output)?;
    let files = crate::output::chart_files(&tables, args.chart_size.width, args.chart_size.height)?;
    crate::output::write_atomically(&args.output, &files)?;
    let list: String = files
        .iter()
        .map(|f| format!("{}\n", args.output.join(&f.name).display()))
        .collect();
    super::print(list)
}
