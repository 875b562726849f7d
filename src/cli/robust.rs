//! CLI stage, `capplan robust`: sweep file → robust stage (samples, the robust plan, both plans
//! held on every sample) → exporters and charts → output stage (the folder, and the robust
//! plan's `plan/`).

use super::{Format, RobustArgs};
use crate::error::{Error, Result};
use crate::output::Product;
use crate::robust::write::{FILE_NAMES, PLAN_FOLDER};
use crate::robust::Overrides;

/// Why `robust` takes no shard, and what to do instead.
/// (No apostrophes: the error renderer reads text between two as a quote, and clips it.)
pub const NO_SHARD: &str = "`capplan robust` does not run as shards: its search is one master over every planning sample (each iteration needs the cuts of every sample), so it runs on one machine, in parallel over its cores (RAYON_NUM_THREADS sets how many); holding both plans on the holdout is the cheaper part (--timings shows each stage). To spread more futures over machines, run `capplan sweep` of the same file with --shard (the same sample ids and values, the deterministic plan held on each), and replay the robust plan on any sample with `capplan run <scenario> --reservations-from <out>/plan --emergency <flags of the sample>` (docs/cluster.md)";

pub fn execute(args: &RobustArgs) -> Result<()> {
    if let Some(flag) = args
        .shard
        .as_ref()
        .map(|s| format!("--shard {s}"))
        .or(args.shard_count.map(|n| format!("--shard-count {n}")))
    {
        return Err(Error::Usage(format!("{flag}: {NO_SHARD}")));
    }
    let sweep = crate::sweep::spec::read(&args.file)?;
    let overrides = Overrides {
        solver: args.solver.clone(),
        samples: args.samples,
        seed: args.seed,
        holdout: args.holdout,
        risk_weight: args.risk_weight,
        cvar_alpha: args.cvar_alpha,
        evpi: args.evpi,
    };
    let inputs = super::sweep_inputs(&args.file, &sweep.scenario);
    let out_dir = crate::output::resolve(
        args.out.as_deref(),
        crate::output::robust_folder(&sweep.name),
        &inputs,
        super::claim(args.report.force),
    )?;
    let spinner = super::progress::start(None, args.report.quiet, "robust");
    let robust = crate::robust::run(sweep, &overrides, &|stage| {
        spinner.set_message(stage.to_string())
    });
    spinner.finish_and_clear();
    let robust = robust?;
    let plan = Product::new(
        crate::report::write::report_files(&robust.plan),
        crate::report::write::REPORT_FILE_NAMES,
    );
    let mut product = Product::new(crate::robust::write::files(&robust), FILE_NAMES).owning(
        super::chart_names(&crate::chart::robust::ROBUST_CHART_STEMS),
    );
    if !args.report.no_charts {
        let opts = args.report.chart_size.options();
        let charts = crate::chart::robust::render_all(&robust.tables(), &opts)?;
        product.extend(super::chart_files(charts));
    }
    // The robust plan's folder first, each written as a whole; the outer folder's swap then
    // carries the new plan/ (two swaps: a kill between them leaves the new plan/ in the old
    // folder).
    let plan_dir = out_dir.path().join(PLAN_FOLDER);
    {
        let plan_folder = crate::output::resolve(
            Some(&plan_dir),
            plan_dir.clone(),
            &inputs,
            super::claim(args.report.force),
        )?;
        crate::output::write(&plan_folder, &plan)?;
    }
    crate::output::write(&out_dir, &product)?;
    if args.timings {
        let (t, c) = (&robust.timings, &robust.convergence);
        eprintln!(
            "timings: deterministic plan {:.3}s · samples {:.3}s · robust solve {:.3}s (master {:.3}s, evaluations {:.3}s) · holding both plans {:.3}s · re-planning each sample (EVPI) {:.3}s",
            t.deterministic_seconds,
            t.samples_seconds,
            t.solve_seconds,
            c.master_seconds,
            c.subproblem_seconds,
            t.hold_seconds,
            t.evpi_seconds,
        );
        eprintln!(
            "robust search: {} iterations, {} evaluations of every sample, {} cuts in the master at the end ({}), relative gap {:.1e}",
            c.iterations,
            c.evaluations,
            c.cuts,
            if c.per_sample_cuts {
                "one cost variable per sample"
            } else {
                "one cost variable per sample and block"
            },
            c.relative_gap,
        );
        if let Some(w) = &c.whole_blocks {
            eprintln!(
                "whole blocks: {} mixed-integer masters · {} nodes · {} master LPs · {:.3}s in the masters · {} evaluations · {:.3}s of the search",
                w.mip_solves, w.nodes, w.master_lps, w.master_seconds, w.evaluations, w.seconds
            );
        }
    }
    match args.report.format {
        Format::Text => super::print(format!(
            "{}wrote {} files to {} and the robust plan to {}\n",
            crate::robust::write::render_text(&robust),
            product.files.len(),
            out_dir.path().display(),
            plan_dir.display()
        )),
        Format::Json => super::print(crate::robust::write::robust_json(&robust)),
    }
}
