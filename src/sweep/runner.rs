//! Sweep stage, the runner: which ids this machine solves (every one, or one shard of a batch
//! array), the checkpoint an interrupted run leaves and `--resume` continues from, stopping between
//! points (Ctrl-C, or the test hook), and what a finished run or shard makes. The CLI only shows
//! progress, and writes what comes back.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::shard::Shard;
use super::write::{read_records, records_csv, Results, SWEEP_CHECKPOINT};
use super::{Prepared, Record};
use crate::error::{Error, Result};
use crate::export::{OutputFile, Product};
use crate::output::Folder;

/// One run of a prepared sweep on this machine: its ids, and the records a checkpoint already
/// holds (`--resume`).
pub struct Runner<'f> {
    pub prep: Prepared,
    shard: Option<Shard>,
    /// The ids this machine solves, in order.
    ids: Vec<u64>,
    out_dir: &'f Folder,
    /// The checkpoint's file name in `out_dir` (one per shard).
    checkpoint: String,
    /// Records finished earlier (read back from the checkpoint), sorted by id.
    records: Vec<Record>,
    /// A note for the user (a batch log's reader): what `--resume` found.
    pub note: Option<String>,
}

/// What a run that was not stopped comes to.
pub enum Finished {
    /// Every point or sample: the results (files and charts are made from them).
    Sweep(Box<Results>),
    /// One shard: its files (its checkpoint removed), and a line saying what it ran.
    Shard { product: Product, summary: String },
}

impl<'f> Runner<'f> {
    /// The ids of `shard` (every id without one), and with `resume` the records of the checkpoint
    /// an interrupted run left in `out_dir`.
    pub fn new(
        prep: Prepared,
        shard: Option<Shard>,
        out_dir: &'f Folder,
        resume: bool,
    ) -> Result<Runner<'f>> {
        let ids: Vec<u64> = match shard {
            Some(s) => s.ids(prep.info.points),
            None => (0..prep.info.points).collect(),
        };
        let checkpoint = match shard {
            Some(s) => format!("{}.partial.csv", s.stem()),
            None => SWEEP_CHECKPOINT.to_string(),
        };
        let path = out_dir.path().join(&checkpoint);
        let mut records = Vec::new();
        let mut note = None;
        if resume {
            if path.is_file() {
                records = read_records(&prep.info, &path)?;
                records.retain(|r| ids.binary_search(&r.id).is_ok());
                note = Some(format!(
                    "note: resuming from {}: {} of {} {} already finished",
                    path.display(),
                    records.len(),
                    ids.len(),
                    what(&prep.info)
                ));
            } else {
                note = Some(format!(
                    "note: no checkpoint {} to resume; starting from the first point",
                    path.display()
                ));
            }
        }
        Ok(Runner {
            prep,
            shard,
            ids,
            out_dir,
            checkpoint,
            records,
            note,
        })
    }

    /// What the ids are: `samples` (risk) or `points` (grid).
    pub fn what(&self) -> &'static str {
        what(&self.prep.info)
    }

    /// The ids still to solve.
    pub fn todo(&self) -> Vec<u64> {
        self.ids
            .iter()
            .copied()
            .filter(|id| self.records.binary_search_by_key(id, |r| r.id).is_err())
            .collect()
    }

    /// Solves every id still to solve (in parallel), calling `done` after each. Stops between
    /// points when `stop` is set (Ctrl-C) or, with `stop_after`, once that many have finished.
    /// A stopped or failed run writes its checkpoint and returns `Error::Interrupted` (telling how
    /// to continue: `continue_with`, the command plus `--resume`) or the error of the lowest
    /// failing id, after `note` says what was saved.
    pub fn run(
        mut self,
        stop: &AtomicBool,
        stop_after: Option<u64>,
        done: &(dyn Fn() + Sync),
        note: &dyn Fn(&str),
        continue_with: &str,
    ) -> Result<Finished> {
        let todo = self.todo();
        let finished = AtomicU64::new(0);
        let ran = super::run(&self.prep, &todo, stop, &|| {
            done();
            let n = finished.fetch_add(1, Ordering::SeqCst) + 1;
            if stop_after.is_some_and(|k| n >= k) {
                stop.store(true, Ordering::SeqCst);
            }
        });
        self.records.extend(ran.records);
        self.records.sort_by_key(|r| r.id);
        let what = self.what();
        if ran.stopped || ran.error.is_some() {
            let info = &self.prep.info;
            let file = OutputFile::new(self.checkpoint.clone(), records_csv(info, &self.records));
            crate::output::write_in_place(
                self.out_dir,
                &Product::new(vec![file], Vec::<String>::new()),
            )?;
            let path = self.out_dir.path().join(&self.checkpoint);
            let (n, of) = (self.records.len(), self.ids.len());
            if let Some(e) = ran.error {
                note(&format!(
                    "{n} of {of} {what} finished; checkpoint {} (continue with --resume)",
                    path.display()
                ));
                return Err(e);
            }
            return Err(Error::Interrupted(format!(
                "interrupted: {n} of {of} {what} finished and saved in {}; no results written. Continue with: {continue_with}",
                path.display()
            )));
        }
        let base = self.prep.base(&self.records)?;
        let info = self.prep.info.clone();
        match self.shard {
            Some(s) => {
                let summary = format!(
                    "shard {} of {}: {} {what} of {}",
                    s.index,
                    s.count,
                    self.records.len(),
                    info.points
                );
                // The shard's files, and its checkpoint removed; the other shards' files are theirs.
                let product = Product::new(
                    super::shard::shard_files(s, &info, &base, &self.records),
                    [self.checkpoint],
                );
                Ok(Finished::Shard { product, summary })
            }
            None => Ok(Finished::Sweep(Box::new(Results {
                info,
                base,
                records: self.records,
            }))),
        }
    }
}

/// What a sweep's ids are: `samples` (risk) or `points` (grid).
fn what(info: &super::Info) -> &'static str {
    if info.is_risk() {
        "samples"
    } else {
        "points"
    }
}
