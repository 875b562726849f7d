//! CLI stage, `capplan chart`: chart tables read back from a run's folder → charts written atomically.

use super::ChartArgs;
use crate::error::Result;
use crate::output::Product;

pub fn execute(args: &ChartArgs) -> Result<()> {
    let tables = crate::report::write::read_chart_tables(&args.output)?;
    let charts = crate::chart::render_all(&tables, &args.chart_size.options())?;
    // Only the charts: the run's data files, and charts this drawing leaves out, stay as they are.
    let product = Product::new(super::chart_files(charts), Vec::<String>::new());
    let written = crate::output::write(&args.output, &product)?;
    let list: String = written
        .iter()
        .map(|path| format!("{}\n", path.display()))
        .collect();
    super::print(list)
}
