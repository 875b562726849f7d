//! CLI stage, `capplan run`: pipeline → report files (and charts) → output stage → text report.

use std::time::Instant;

use super::{Format, RunArgs};
use crate::error::Result;
use crate::model::solve::{Method, Solve};
use crate::output::{OutputFile, Product};
use crate::pipeline::{How, Planning};

pub fn execute(args: &RunArgs) -> Result<()> {
    let solver = super::solver(args.solver.as_deref())?;
    // --solver names the backend of the monolithic LP: asking for one means that method, and
    // with the decomposition (which uses none) it would be silently ignored.
    let method = match (args.solver.is_some(), args.method.method()) {
        (true, Method::Auto) => Method::Monolithic,
        (true, Method::Decomposed) => {
            return Err(crate::Error::Usage(format!(
                "--solver {} names the backend of the monolithic LP, and --method decomposed uses none (its subproblems are networks); drop --solver, or use --method monolithic",
                solver.name()
            )))
        }
        (_, method) => method,
    };
    let how = How {
        solve: Solve {
            solver,
            method,
            relax: args.relax,
        },
        explain_shortfalls: true,
        compare_without_deferral: true,
    };
    let flags = args.whatif.flags();
    let signed = match &args.reservations_from {
        Some(dir) => Some(crate::load::signed::read_signed_plan(dir)?),
        None => None,
    };
    let spinner = super::progress::start(None, args.quiet, "solving");
    // A long decomposition shows its iterations and gap on the spinner.
    let bar = spinner.clone();
    let report = Box::new(move |at: &str| bar.set_message(format!("solving: {at}")));
    let solved = crate::model::decompose::with_progress(report, || {
        Planning::load(&args.scenario, &flags).and_then(|planning| {
            // Claimed (checked and locked) before solving: a folder another capplan is writing, or
            // one the run may not write, fails at once rather than after the solve.
            let out_dir = out_folder(args, &planning.scenario.name, &flags)?;
            let solved = match &signed {
                Some(signed) => planning.hold(signed, args.emergency, how)?,
                None => planning.plan(how)?,
            };
            Ok((planning.into_outcome(solved), out_dir))
        })
    });
    spinner.finish_and_clear();
    let (mut outcome, out_dir) = solved?;
    super::warn(&outcome.warnings);

    let t = Instant::now();
    let mut product = Product::new(
        crate::report::write::report_files(&outcome.report),
        crate::report::write::REPORT_FILE_NAMES,
    )
    .owning(super::chart_names(&crate::chart::CHART_STEMS));
    if args.xlsx {
        product.extend([OutputFile::new("plan.xlsx", plan_xlsx(&outcome.report)?)]);
    }
    if !args.no_charts {
        let charts = crate::chart::render_all(&outcome.report.charts, &args.chart_size.options())?;
        product.extend(super::chart_files(charts));
    }
    outcome.timings.chart_seconds = t.elapsed().as_secs_f64();
    let t = Instant::now();
    crate::output::write(&out_dir, &product)?;
    outcome.timings.write_seconds = t.elapsed().as_secs_f64();
    let files = &product.files;

    match args.format {
        Format::Text => {
            super::print(crate::report::text::render(&outcome.report))?;
            super::print(format!(
                "\nwrote {} files to {}\n",
                files.len(),
                out_dir.path().display()
            ))?;
        }
        Format::Json => super::print(crate::report::write::run_json(
            &outcome.report,
            &outcome.warnings,
        ))?,
    }
    if args.timings {
        let t = &outcome.timings;
        eprintln!(
            "timings: load {:.3}s · build {:.3}s · solve {:.3}s ({}) · report {:.3}s · render {:.3}s · write {:.3}s",
            t.load_seconds,
            t.build_seconds,
            t.solve_seconds,
            outcome.plan.solver,
            t.report_seconds,
            t.chart_seconds,
            t.write_seconds,
        );
        if let Some(why) = &t.fallback {
            eprintln!("fallback: {why}");
        }
        if t.variables > 0 {
            eprintln!(
                "LP size: {} variables, {} constraints, {} nonzeros",
                t.variables, t.constraints, t.nonzeros
            );
        }
        if let Some(d) = &t.decomposition {
            eprintln!(
                "decomposed: {} iterations ({} evaluations of every period, {} blocks, {} cuts) · gap {:.1e} (bound ${:.2}, plan ${:.2}) · master {:.3}s · subproblems {:.3}s",
                d.iterations,
                d.evaluations,
                d.blocks,
                d.cuts,
                d.relative_gap,
                d.lower_bound,
                d.upper_bound,
                d.master_seconds,
                d.subproblem_seconds
            );
            if let Some(w) = &d.whole_blocks {
                eprintln!(
                    "whole blocks: {} mixed-integer masters · {} nodes · {} master LPs · {:.3}s in the masters · {} evaluations · {:.3}s of the solve",
                    w.mip_solves, w.nodes, w.master_lps, w.master_seconds, w.evaluations, w.seconds
                );
            }
        }
    }
    Ok(())
}

/// The output folder of a run, claimed: `--out`, else `output/<scenario name and flags>` (and
/// `+held-<plan>` for a held dispatch); never the scenario's folders.
fn out_folder(
    args: &RunArgs,
    scenario_name: &str,
    flags: &crate::load::flags::Flags,
) -> Result<crate::output::Folder> {
    let mut default_out = crate::output::default_folder_with(scenario_name, &flags.written());
    if let Some(plan_dir) = &args.reservations_from {
        default_out = crate::output::held_folder(&default_out, plan_dir, args.emergency);
    }
    crate::output::resolve(
        args.out.as_deref(),
        default_out,
        &super::scenario_inputs(&args.scenario, "scenario folder"),
        super::claim(args.force),
    )
}

/// `plan.xlsx` (`--xlsx`), or why it cannot be written.
fn plan_xlsx(report: &crate::report::build::Report) -> Result<Vec<u8>> {
    #[cfg(feature = "xlsx")]
    return crate::report::write::plan_xlsx(report);
    #[cfg(not(feature = "xlsx"))]
    {
        let _ = report;
        Err(crate::error::Error::Usage(
            "--xlsx: this capplan was built without the `xlsx` feature".into(),
        ))
    }
}
