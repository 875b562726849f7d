//! CLI stage, `capplan compare`: arguments → compare stage (solve or read every column, with a
//! progress bar) → exporters and charts → output stage → the side-by-side table on stdout.

use super::{CompareArgs, Format};
use crate::compare::{Input, Request};
use crate::error::Result;
use crate::output::Product;

pub fn execute(args: &CompareArgs) -> Result<()> {
    let solver = super::solver(args.solver.as_deref())?;
    let mut inputs: Vec<Input> = args.inputs.iter().map(|p| Input::from_folder(p)).collect();
    for twin in &args.twin {
        inputs.push(Input::Twin(super::parse_twin(twin)?));
    }
    let request = Request {
        inputs,
        hold_reservations: args.hold_reservations,
        solver,
    };
    let progress = super::progress::start(
        Some(request.inputs.len() as u64),
        args.report.quiet,
        "solving",
    );
    let columns = crate::compare::gather(&request, &|label| {
        progress.set_message(label.to_string());
        progress.inc(1);
    });
    progress.finish_and_clear();
    let (columns, warnings) = columns?;
    super::warn(&warnings);
    let comparison = crate::compare::compare(&columns, args.hold_reservations);

    let inputs: Vec<crate::output::Input> = args
        .inputs
        .iter()
        .flat_map(|p| super::scenario_inputs(p, "compared folder"))
        .collect();
    let out_dir = crate::output::resolve(
        args.out.as_deref(),
        crate::output::compare_folder(&comparison.scenarios),
        &inputs,
        super::claim(args.report.force),
    )?;
    let mut product = Product::new(
        crate::compare::write::files(&comparison)?,
        crate::compare::write::FILE_NAMES,
    )
    .owning(super::chart_names(
        &crate::chart::compare::COMPARE_CHART_STEMS,
    ));
    if !args.report.no_charts {
        let charts = crate::chart::compare::render_all(
            &comparison,
            &columns,
            &args.report.chart_size.options(),
        )?;
        product.extend(super::chart_files(charts));
    }
    crate::output::write(&out_dir, &product)?;
    let files = &product.files;
    match args.report.format {
        Format::Text => super::print(format!(
            "{}\nwrote {} files to {}\n",
            crate::compare::write::render_text(&comparison),
            files.len(),
            out_dir.path().display()
        )),
        Format::Json => super::print(crate::compare::write::compare_json(&comparison)),
    }
}
