//! CLI stage, `capplan sweep` and `capplan merge`: sweep file → sweep stage (prepared, then run by
//! `sweep::runner` with a progress bar; Ctrl-C stops it between points) → exporters and charts →
//! output stage; or shards → merge → the same files a single machine writes.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::{Format, MergeArgs, SweepArgs};
use crate::error::Result;
use crate::output::Product;
use crate::sweep::runner::{Finished, Runner};
use crate::sweep::write::{Results, SWEEP_CHECKPOINT};
use crate::sweep::Overrides;

/// Set by Ctrl-C: points not yet started are left for `--resume`.
static STOP: AtomicBool = AtomicBool::new(false);

/// Test hook: stop (as Ctrl-C would) once this many points have finished.
const STOP_AFTER_VAR: &str = "CAPPLAN_SWEEP_STOP_AFTER";

/// Test hook: once this many points have finished, start no more and wait for a signal, saying
/// so once on stderr (a task that an operator cancels while it runs, at a moment a test can wait
/// for instead of guessing). With `CAPPLAN_SWEEP_PAUSE_SHARD=I`, only shard I pauses: the
/// end-to-end Slurm test (tests/slurm/e2e.sh) cancels one task of an array this way.
const PAUSE_AFTER_VAR: &str = "CAPPLAN_SWEEP_PAUSE_AFTER";
const PAUSE_SHARD_VAR: &str = "CAPPLAN_SWEEP_PAUSE_SHARD";

pub fn execute(args: &SweepArgs) -> Result<()> {
    let sweep = crate::sweep::spec::read(&args.file)?;
    let shard = crate::sweep::shard::select(
        args.shard.as_deref(),
        args.shard_count,
        args.shard_from_env,
        &|k| std::env::var(k).ok(),
    )?;
    let overrides = Overrides {
        solver: args.solver.clone(),
        samples: args.samples,
        seed: args.seed,
    };
    let inputs = super::sweep_inputs(&args.file, &sweep.scenario);
    // A shard shares its folder with the other shards of the sweep, each writing its own files:
    // locked only while it writes, and written in place.
    let claim = crate::output::Claim {
        force: args.report.force,
        shared: shard.is_some(),
    };
    let out_dir = crate::output::resolve(
        args.out.as_deref(),
        crate::output::sweep_folder(&sweep.name),
        &inputs,
        claim,
    )?;
    let spinner = super::progress::start(None, args.report.quiet, "planning the base");
    let prepared = crate::sweep::prepare(sweep, &overrides);
    spinner.finish_and_clear();
    let prep = prepared?;
    super::warn(&prep.warnings);
    let runner = Runner::new(prep, shard, &out_dir, args.resume)?;
    if let (Some(note), false) = (&runner.note, args.report.quiet) {
        eprintln!("{note}");
    }

    // Ctrl-C, SIGTERM (scancel, Kubernetes, docker stop) and SIGHUP all stop between points
    // and save the checkpoint (exit 130); a second one ends at once. Handling SIGTERM also makes
    // it stop capplan when it runs as PID 1 in a container, where an unhandled SIGTERM is ignored.
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
    let stop_after: Option<u64> = std::env::var(STOP_AFTER_VAR)
        .ok()
        .and_then(|v| v.parse().ok());
    // The resume command runs the same shard: its index and count as `--shard I/N`, whatever
    // selected it (a flag or an engine's variables).
    let continue_with = format!(
        "capplan sweep {} --resume{}{}",
        args.file.display(),
        shard
            .map(|s| format!(" --shard {}/{}", s.index, s.count))
            .unwrap_or_default(),
        args.out
            .as_ref()
            .map(|o| format!(" --out {}", o.display()))
            .unwrap_or_default()
    );
    let pause_after: Option<u64> = std::env::var(PAUSE_AFTER_VAR)
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|_| match std::env::var(PAUSE_SHARD_VAR) {
            Ok(index) => shard.is_some_and(|s| s.index.to_string() == index.trim()),
            Err(_) => true,
        });
    let what = runner.what();
    let progress =
        super::progress::start(Some(runner.todo().len() as u64), args.report.quiet, what);
    let done = AtomicU64::new(0);
    let paused = AtomicBool::new(false);
    let finished = runner.run(
        &STOP,
        stop_after,
        &|| {
            progress.inc(1);
            let n = done.fetch_add(1, Ordering::SeqCst) + 1;
            if let Some(k) = pause_after.filter(|&k| n >= k) {
                if !paused.swap(true, Ordering::SeqCst) {
                    progress.suspend(|| {
                        eprintln!(
                            "paused after {k} {what} ({PAUSE_AFTER_VAR}); waiting for a signal"
                        )
                    });
                }
                while !STOP.load(Ordering::SeqCst) {
                    std::thread::sleep(std::time::Duration::from_millis(20));
                }
            }
        },
        &|note| {
            progress.suspend(|| eprintln!("{note}"));
        },
        &continue_with,
    );
    progress.finish_and_clear();
    match finished? {
        Finished::Shard { product, summary } => {
            crate::output::write_in_place(&out_dir, &product)?;
            super::print(format!(
                "{summary}; wrote {} files to {} (merge every shard with capplan merge)\n",
                product.files.len(),
                out_dir.path().display()
            ))
        }
        Finished::Sweep(res) => finish(
            &res,
            &out_dir,
            args.report.no_charts,
            args.report.chart_size,
            args.report.format,
        ),
    }
}

/// Renders every file of a finished sweep, writes them and prints the summary.
fn finish(
    res: &Results,
    out_dir: &crate::output::Folder,
    no_charts: bool,
    size: super::ChartSize,
    format: Format,
) -> Result<()> {
    let mut product = results_product(crate::sweep::write::result_files(res));
    if !no_charts {
        let charts = crate::chart::sweep::render_all(res, &size.options())?;
        product.extend(super::chart_files(charts));
    }
    crate::output::write(out_dir, &product)?;
    match format {
        Format::Text => super::print(format!(
            "{}\nwrote {} files to {}\n",
            crate::sweep::write::render_text(res),
            product.files.len(),
            out_dir.path().display()
        )),
        Format::Json => super::print(crate::sweep::write::sweep_json(res)),
    }
}

/// A sweep's result files as a product, owning every name a sweep's results have (the
/// checkpoint, every chart's), so new results replace all of earlier ones.
fn results_product(files: Vec<crate::export::OutputFile>) -> Product {
    Product::new(files, crate::sweep::write::FILE_NAMES)
        .owning([SWEEP_CHECKPOINT])
        .owning(super::chart_names(&crate::chart::sweep::SWEEP_CHART_STEMS))
}

pub fn merge(args: &MergeArgs) -> Result<()> {
    // Claimed before the shards are read: no shard or other capplan writes it meanwhile.
    let out_dir = crate::output::resolve(
        args.out.as_deref(),
        args.shards[0].clone(),
        &[],
        super::claim(args.force),
    )?;
    // An earlier merge's results are removed first (in one swap), so a merge that refuses a
    // missing or bad shard leaves no results that look current.
    crate::output::clear(&out_dir, &results_product(Vec::new()))?;
    let res = crate::sweep::shard::merge(&args.shards)?;
    finish(&res, &out_dir, args.no_charts, args.chart_size, args.format)
}
