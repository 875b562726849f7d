//! CLI stage, `capplan chart`: an earlier command's output folder read back (a run's chart
//! tables, a sweep's sweep.json and CSV files, a robust folder's robust.json and CSV files, a
//! resilience matrix's resilience.json) → its
//! charts drawn again → written atomically. No solving.

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
    let dir = folder.path();
    let opts = args.chart_size.options();
    let charts = if dir.join("sweep.json").is_file() {
        let res = crate::sweep::write::read_results(dir)?;
        crate::chart::sweep::render_all(&res, &opts)?
    } else if dir.join("robust.json").is_file() {
        let tables = crate::robust::write::read_tables(dir)?;
        crate::chart::robust::render_all(&tables, &opts)?
    } else if dir.join("resilience.json").is_file() {
        let r = crate::resilience::write::read_json(dir)?;
        crate::chart::resilience::render_all(&r, &opts)?
    } else {
        let tables = crate::report::write::read_chart_tables(dir)?;
        crate::chart::render_all(&tables, &opts)?
    };
    // Only the charts: the folder's data files, and charts this drawing leaves out, stay as
    // they are.
    let product = Product::new(super::chart_files(charts), Vec::<String>::new());
    let written = crate::output::write(&folder, &product)?;
    let list: String = written
        .iter()
        .map(|path| format!("{}\n", path.display()))
        .collect();
    super::print(list)
}
