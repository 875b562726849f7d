//! CLI stage, `capplan resilience`: scenario (with what-if flags) → resilience stage (every plan
//! × every loss, in parallel, with a progress bar) → exporters and charts → output stage → the
//! verdict and tables on stdout.

use super::{Format, LossUnit, ResilienceArgs};
use crate::error::{Error, Result};
use crate::output::Product;
use crate::resilience::{PlanSpec, Request};

pub fn execute(args: &ResilienceArgs) -> Result<()> {
    let solver = super::solver(args.solver.as_deref())?;
    if !(0.0..=1.0).contains(&args.on_demand_availability) {
        return Err(Error::Usage(format!(
            "--on-demand-availability {}: expected a fraction in [0, 1]",
            args.on_demand_availability
        )));
    }
    let window = match &args.window {
        Some(text) => Some(parse_window(text)?),
        None => None,
    };
    let planning = crate::pipeline::Planning::load(&args.scenario, &args.whatif.flags())?;
    super::warn(&planning.warnings);
    let request = Request {
        scenario: planning.scenario,
        extra_plans: args
            .plans
            .iter()
            .flat_map(|p| p.split(','))
            .filter(|p| !p.trim().is_empty())
            .map(|p| PlanSpec::parse(p.trim()))
            .collect(),
        window,
        by_region: args.by == LossUnit::Region,
        lose_two: args.lose == 2,
        on_demand_availability: args.on_demand_availability,
        solver,
    };
    let mut inputs = super::scenario_inputs(&args.scenario, "scenario folder");
    for p in &request.extra_plans {
        if let PlanSpec::Folder(f) | PlanSpec::Output(f) = p {
            inputs.extend(super::scenario_inputs(f, "folder of a plan"));
        }
    }
    let out_dir = crate::output::resolve(
        args.out.as_deref(),
        crate::output::resilience_folder(&request.scenario.name),
        &inputs,
        super::claim(args.report.force),
    )?;
    let progress = super::progress::start(
        Some(crate::resilience::solve_count(&request) as u64),
        args.report.quiet,
        "stress tests",
    );
    let measured = crate::resilience::measure(&request, &|| progress.inc(1));
    progress.finish_and_clear();
    let (r, warnings) = measured?;
    super::warn(&warnings);

    use crate::resilience::write::{files, render_text, resilience_json, FILE_NAMES};
    let mut product = Product::new(files(&r), FILE_NAMES).owning(super::chart_names(
        &crate::chart::resilience::RESILIENCE_CHART_STEMS,
    ));
    if !args.report.no_charts {
        let charts = crate::chart::resilience::render_all(&r, &args.report.chart_size.options())?;
        product.extend(super::chart_files(charts));
    }
    crate::output::write(&out_dir, &product)?;
    let files = &product.files;
    match args.report.format {
        Format::Text => super::print(format!(
            "{}\nwrote {} files to {}\n",
            render_text(&r),
            files.len(),
            out_dir.path().display()
        )),
        Format::Json => super::print(resilience_json(&r)),
    }
}

/// `START..END`, split on the last `..`, each a time in the scenario file forms.
fn parse_window(
    text: &str,
) -> Result<(chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>)> {
    let fail = |why: String| Error::Usage(format!("--window {text}: {why}"));
    let (a, b) = text
        .rsplit_once("..")
        .ok_or_else(|| fail("expected START..END such as 2026-07-01..2026-08-01".into()))?;
    let start = crate::units::parse_time(a).map_err(fail)?;
    let end = crate::units::parse_time(b).map_err(fail)?;
    if end <= start {
        return Err(fail("expected the end after the start".into()));
    }
    Ok((start, end))
}
