//! CLI stage, `capplan chart`: chart tables read back from a run's folder → charts written atomically.

use super::ChartArgs;
use crate::error::Result;
use crate::output::Product;

pub fn execute(args: &ChartArgs) -> Result<()> {
    // Claimed before it is read, so no other capplan changes it between the read and the write.
    let folder = crate::output::resolve(
        Some(&args.output),
        args.output.clone(),
        &[],
        super::claim(args.force),
    )?;
    let tables = crate::report::write::read_chart_tables(folder.path())?;
    let charts = crate::chart::render_all(&tables, &args.chart_size.options())?;
    // Only the charts: the run's data files, and charts this drawing leaves out, stay as they are.
    let product = Product::new(super::chart_files(charts), Vec::<String>::new());
    let written = crate::output::write(&folder, &product)?;
    let list: String = written
        .iter()
        .map(|path| format!("{}\n", path.display()))
        .collect();
    super::print(list)
}
