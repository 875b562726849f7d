//! CLI stage, `capplan sweep` and `capplan merge`: sweep file → sweep stage (points or samples in
//! parallel, with a progress bar; Ctrl-C leaves a checkpoint) → exporters and charts → output
//! stage; or shards → merge → the same files a single machine writes.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::{Format, MergeArgs, SweepArgs};
use crate::error::{Error, Result};
use crate::output::{OutputFile, Product};
use crate::sweep::shard::Shard;
use crate::sweep::write::Results;
use crate::sweep::write::SWEEP_CHECKPOINT;
use crate::sweep::Overrides;

/// Set by Ctrl-C: points not yet started are left for `--resume`.
static STOP: AtomicBool = AtomicBool::new(false);

/// Test hook: stop (as Ctrl-C would) once this many points have finished.
const STOP_AFTER_VAR: &str = "CAPPLAN_SWEEP_STOP_AFTER";

pub fn execute(args: &SweepArgs) -> Result<()> {
    let sweep = crate::sweep::spec::read(&args.file)?;
    let shard = match &args.shard {
        Some(text) => {
            let s = Shard::parse(text)?;
            if let Some(n) = args.shard_count {
                if n != s.count {
                    return Err(Error::Usage(format!(
                        "--shard {text} disagrees with --shard-count {n}"
                    )));
                }
            }
            Some(s)
        }
        None => crate::sweep::shard::from_env(&|k| std::env::var(k).ok(), args.shard_count)?,
    };
    if args.shard.is_none() && shard.is_none() && args.shard_count.is_some() {
        return Err(Error::Usage(
            "--shard-count needs a shard index: --shard I/N, or a batch engine's variable (JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID, AWS_BATCH_JOB_ARRAY_INDEX)".into(),
        ));
    }
    let overrides = Overrides {
        solver: args.solver.clone(),
        samples: args.samples,
        seed: args.seed,
    };
    let out_dir = crate::output::resolve(
        args.out.as_deref(),
        crate::output::sweep_folder(&sweep.name),
        &[sweep.scenario.as_path()],
    )?;
    let spinner = super::progress::start(None, args.report.quiet, "planning the base");
    let prepared = crate::sweep::prepare(sweep, &overrides);
    spinner.finish_and_clear();
    let prep = prepared?;
    let info = &prep.info;
    let ids: Vec<u64> = match shard {
        Some(s) => s.ids(info.points),
        None => (0..info.points).collect(),
    };
    let checkpoint_name = match shard {
        Some(s) => format!("{}.partial.csv", s.stem()),
        None => SWEEP_CHECKPOINT.to_string(),
    };
    let checkpoint = out_dir.join(&checkpoint_name);
    let mut records = Vec::new();
    if args.resume {
        if checkpoint.is_file() {
            records = crate::sweep::write::read_records(info, &checkpoint)?;
            records.retain(|r| ids.binary_search(&r.id).is_ok());
        } else if !args.report.quiet {
            eprintln!(
                "note: no checkpoint {} to resume; starting from the first point",
                checkpoint.display()
            );
        }
    }
    let todo: Vec<u64> = ids
        .iter()
        .copied()
        .filter(|id| records.binary_search_by_key(id, |r| r.id).is_err())
        .collect();

    // A second Ctrl-C ends at once.
    let _ = ctrlc::set_handler(|| {
        if STOP.swap(true, Ordering::SeqCst) {
            std::process::exit(130);
        }
    });
    let stop_after: Option<u64> = std::env::var(STOP_AFTER_VAR)
        .ok()
        .and_then(|v| v.parse().ok());
    let finished = AtomicU64::new(0);
    let what = if info.is_risk() { "samples" } else { "points" };
    let progress = super::progress::start(Some(todo.len() as u64), args.report.quiet, what);
    let ran = crate::sweep::run(&prep, &todo, &STOP, &|| {
        progress.inc(1);
        let n = finished.fetch_add(1, Ordering::SeqCst) + 1;
        if stop_after.is_some_and(|k| n >= k) {
            STOP.store(true, Ordering::SeqCst);
        }
    });
    progress.finish_and_clear();
    records.extend(ran.records);
    records.sort_by_key(|r| r.id);
    if ran.stopped || ran.error.is_some() {
        let file = OutputFile::new(
            checkpoint_name.clone(),
            crate::sweep::write::records_csv(info, &records),
        );
        crate::output::write(&out_dir, &Product::new(vec![file], Vec::<String>::new()))?;
        if let Some(e) = ran.error {
            eprintln!(
                "{} of {} {what} finished; checkpoint {} (continue with --resume)",
                records.len(),
                ids.len(),
                checkpoint.display()
            );
            return Err(e);
        }
        eprintln!(
            "interrupted: {} of {} {what} finished and saved in {}; no results written. Continue with: capplan sweep {} --resume{}",
            records.len(),
            ids.len(),
            checkpoint.display(),
            args.file.display(),
            args.out
                .as_ref()
                .map(|o| format!(" --out {}", o.display()))
                .unwrap_or_default()
        );
        std::process::exit(130);
    }
    let base = prep.base(&records)?;
    if let Some(s) = shard {
        // The shard's files, and its checkpoint removed; the other shards' files are theirs.
        let product = Product::new(
            crate::sweep::shard::shard_files(s, info, &base, &records),
            [checkpoint_name],
        );
        crate::output::write(&out_dir, &product)?;
        let files = &product.files;
        return super::print(format!(
            "shard {} of {}: {} {what} of {}; wrote {} files to {} (merge every shard with capplan merge)\n",
            s.index,
            s.count,
            records.len(),
            info.points,
            files.len(),
            out_dir.display()
        ));
    }
    let res = Results {
        info: info.clone(),
        base,
        records,
    };
    finish(
        &res,
        &out_dir,
        args.report.no_charts,
        args.report.chart_size,
        args.report.format,
    )
}

/// Renders every file of a finished sweep, writes them and prints the summary.
fn finish(
    res: &Results,
    out_dir: &std::path::Path,
    no_charts: bool,
    size: super::ChartSize,
    format: Format,
) -> Result<()> {
    let mut product = Product::new(
        crate::sweep::write::result_files(res),
        crate::sweep::write::FILE_NAMES,
    )
    .owning([SWEEP_CHECKPOINT])
    .owning(crate::output::chart_names(
        &crate::chart::sweep::SWEEP_CHART_STEMS,
    ));
    if !no_charts {
        let charts = crate::chart::sweep::render_all(res, &size.options())?;
        product.extend(crate::output::chart_files(charts));
    }
    crate::output::write(out_dir, &product)?;
    let files = &product.files;
    match format {
        Format::Text => super::print(format!(
            "{}\nwrote {} files to {}\n",
            crate::sweep::write::render_text(res),
            files.len(),
            out_dir.display()
        )),
        Format::Json => super::print(crate::sweep::write::sweep_json(res)),
    }
}

pub fn merge(args: &MergeArgs) -> Result<()> {
    let res = crate::sweep::shard::merge(&args.shards)?;
    let out_dir = args.out.clone().unwrap_or_else(|| args.shards[0].clone());
    finish(&res, &out_dir, args.no_charts, args.chart_size, args.format)
}
