//! Sweep stage, shards: which ids one machine of a batch array runs (`--shard I/N`, or the batch
//! engine's variables), the shard files it writes, and the merge that turns every shard back into
//! what one machine would have written.
//!
//! Shard I of N runs the ids ≡ I (mod N) and writes `shard-I-of-N.csv` (its records, each row
//! carrying the sweep's fingerprint) and `shard-I-of-N.json` (the sweep's data, the base record
//! and the fingerprint). A merge refuses shards that are missing, given twice, or of another
//! sweep (fingerprint), naming them.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::write::{cells, parse_cells, read_records_at, records_csv, Results};
use super::{Info, Record};
use crate::error::{Error, Location, Result};
use crate::export::{json, OutputFile};

/// One shard of N.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u64,
    pub count: u64,
}

impl Shard {
    /// `I/N`, 0-based: `0/3`, `1/3`, `2/3`.
    pub fn parse(text: &str) -> Result<Shard> {
        let fail = || {
            Error::Usage(format!(
                "--shard {text}: expected INDEX/COUNT with 0 <= INDEX < COUNT, such as 0/3"
            ))
        };
        let (i, n) = text.split_once('/').ok_or_else(fail)?;
        let index: u64 = i.trim().parse().map_err(|_| fail())?;
        let count: u64 = n.trim().parse().map_err(|_| fail())?;
        if count == 0 || index >= count {
            return Err(fail());
        }
        Ok(Shard { index, count })
    }

    /// The ids of this shard among `0..points`.
    pub fn ids(&self, points: u64) -> Vec<u64> {
        (self.index..points).step_by(self.count as usize).collect()
    }

    pub fn stem(&self) -> String {
        format!("shard-{}-of-{}", self.index, self.count)
    }
}

/// The shard this machine runs: `--shard I/N` (checked against `--shard-count` when both are
/// given), else with `--shard-count` or `--shard-from-env` the one a batch engine's variables
/// select (`from_env`), else none. Shard mode is only ever asked for: an engine's variables alone
/// (a sweep run as one task of some other array) never make a sweep a shard.
pub fn select(
    flag: Option<&str>,
    shard_count: Option<u64>,
    from_env_asked: bool,
    var: &dyn Fn(&str) -> Option<String>,
) -> Result<Option<Shard>> {
    if flag.is_none() && shard_count.is_none() && !from_env_asked {
        return Ok(None);
    }
    let shard = match flag {
        Some(text) => {
            let s = Shard::parse(text)?;
            if let Some(n) = shard_count {
                if n != s.count {
                    return Err(Error::Usage(format!(
                        "--shard {text} disagrees with --shard-count {n}"
                    )));
                }
            }
            Some(s)
        }
        None => from_env(var, shard_count)?,
    };
    if flag.is_none() && shard.is_none() {
        let asked = if shard_count.is_some() {
            "--shard-count"
        } else {
            "--shard-from-env"
        };
        return Err(Error::Usage(format!(
            "{asked} needs a shard index: --shard I/N, or a batch engine's variable (JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID, AWS_BATCH_JOB_ARRAY_INDEX), and none is set"
        )));
    }
    Ok(shard)
}

/// The shard a batch engine's variables select, when any is set: Kubernetes Indexed Jobs
/// (`JOB_COMPLETION_INDEX`, count from `--shard-count`), Slurm job arrays (`SLURM_ARRAY_TASK_ID`,
/// `_MIN`, `_STEP`, `_COUNT`; I = (ID − MIN) / STEP) and AWS Batch array jobs
/// (`AWS_BATCH_JOB_ARRAY_INDEX`, count from `--shard-count`). `var` reads a variable.
pub fn from_env(
    var: &dyn Fn(&str) -> Option<String>,
    shard_count: Option<u64>,
) -> Result<Option<Shard>> {
    let set: Vec<&str> = [
        "JOB_COMPLETION_INDEX",
        "SLURM_ARRAY_TASK_ID",
        "AWS_BATCH_JOB_ARRAY_INDEX",
    ]
    .into_iter()
    .filter(|v| var(v).is_some())
    .collect();
    if set.len() > 1 {
        return Err(Error::Usage(format!(
            "the variables of more than one batch engine are set ({}); pass --shard I/N to choose",
            set.join(", ")
        )));
    }
    let int = |name: &str| -> Result<Option<u64>> {
        match var(name) {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse::<u64>()
                .map(Some)
                .map_err(|_| Error::Usage(format!("{name}={v}: expected a whole number"))),
        }
    };
    let need_count = |engine: &str, var_name: &str| -> Result<u64> {
        shard_count.ok_or_else(|| {
            Error::Usage(format!(
                "{var_name} is set ({engine}): pass --shard-count N, the number of array tasks"
            ))
        })
    };
    let checked = |index: u64, count: u64, var_name: &str| -> Result<Option<Shard>> {
        if count == 0 || index >= count {
            return Err(Error::Usage(format!(
                "{var_name} gives shard {index}, outside 0..{count} (--shard-count {count})"
            )));
        }
        Ok(Some(Shard { index, count }))
    };
    match set.first().copied() {
        None => Ok(None),
        Some("JOB_COMPLETION_INDEX") => {
            let count = need_count("a Kubernetes Indexed Job", "JOB_COMPLETION_INDEX")?;
            checked(
                int("JOB_COMPLETION_INDEX")?.unwrap_or(0),
                count,
                "JOB_COMPLETION_INDEX",
            )
        }
        Some("AWS_BATCH_JOB_ARRAY_INDEX") => {
            let count = need_count("an AWS Batch array job", "AWS_BATCH_JOB_ARRAY_INDEX")?;
            checked(
                int("AWS_BATCH_JOB_ARRAY_INDEX")?.unwrap_or(0),
                count,
                "AWS_BATCH_JOB_ARRAY_INDEX",
            )
        }
        Some(_) => {
            // The task id is the shard index, so any task can be resubmitted on its own
            // (`sbatch --array=3`) and a list (`--array=0-4:2,5,8`) cannot map a task to another
            // shard. The count is --shard-count, or a plain 0-(N-1) array's task count.
            let id = int("SLURM_ARRAY_TASK_ID")?.unwrap_or(0);
            let count = match shard_count {
                Some(n) => n,
                None => {
                    let min = int("SLURM_ARRAY_TASK_MIN")?;
                    let max = int("SLURM_ARRAY_TASK_MAX")?;
                    let count = int("SLURM_ARRAY_TASK_COUNT")?;
                    let step = int("SLURM_ARRAY_TASK_STEP")?.unwrap_or(1);
                    match (min, max, count) {
                        (Some(0), Some(max), Some(count)) if step == 1 && max + 1 == count => count,
                        _ => {
                            let show = |v: Option<u64>| v.map_or("unset".into(), |v| v.to_string());
                            return Err(Error::Usage(format!(
                                "SLURM_ARRAY_TASK_ID={id}: the job array is not 0-(N-1) (MIN {}, MAX {}, COUNT {}, STEP {step}), so the shard count is unknown; pass --shard-count N, submit the array as --array=0-(N-1) and resubmit one task as --array=I",
                                show(min),
                                show(max),
                                show(count)
                            )));
                        }
                    }
                }
            };
            checked(id, count, "SLURM_ARRAY_TASK_ID")
        }
    }
}

/// What `shard-I-of-N.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub shard: u64,
    pub shard_count: u64,
    pub fingerprint: String,
    pub info: Info,
    /// The base record's cells as in the records file.
    pub base: Vec<String>,
}

/// The files of one shard.
pub fn shard_files(
    shard: Shard,
    info: &Info,
    base: &Record,
    records: &[Record],
) -> Vec<OutputFile> {
    let manifest = Manifest {
        shard: shard.index,
        shard_count: shard.count,
        fingerprint: info.fingerprint.clone(),
        info: info.clone(),
        base: cells(info, base, true),
    };
    vec![
        OutputFile::new(format!("{}.csv", shard.stem()), records_csv(info, records)),
        // Exact: the manifest is read back by the merge.
        OutputFile::new(format!("{}.json", shard.stem()), json::exact(&manifest)),
    ]
}

/// `shard-I-of-N.json` files in a folder, with I and N from the name.
fn manifests_in(dir: &Path) -> Result<Vec<(PathBuf, u64, u64)>> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))?;
    let mut out = Vec::new();
    for e in entries {
        let e = e.map_err(|e| Error::io(dir, e))?;
        let name = e.file_name().to_string_lossy().into_owned();
        let Some(stem) = name
            .strip_prefix("shard-")
            .and_then(|s| s.strip_suffix(".json"))
        else {
            continue;
        };
        let Some((i, n)) = stem.split_once("-of-") else {
            continue;
        };
        if let (Ok(i), Ok(n)) = (i.parse::<u64>(), n.parse::<u64>()) {
            out.push((e.path(), i, n));
        }
    }
    out.sort();
    Ok(out)
}

/// Reads every shard in `dirs` and checks that they are exactly shards 0..N of one sweep.
pub fn merge(dirs: &[PathBuf]) -> Result<Results> {
    let mut found: Vec<(PathBuf, Manifest)> = Vec::new();
    for dir in dirs {
        for (path, i, n) in manifests_in(dir)? {
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
            let m: Manifest = serde_json::from_str(&text).map_err(|e| {
                Error::input(
                    Location::at(&path, e.line() as u64, None),
                    format!("expected a shard manifest as `capplan sweep --shard` writes it: {e}"),
                )
            })?;
            if m.shard != i || m.shard_count != n {
                return Err(Error::input(
                    Location::file(&path),
                    format!(
                        "the file is named shard {i} of {n} but says shard {} of {}",
                        m.shard, m.shard_count
                    ),
                ));
            }
            found.push((path, m));
        }
    }
    let Some((first_path, first)) = found.first().cloned() else {
        return Err(Error::Usage(format!(
            "no shard files (shard-I-of-N.json) in {}",
            dirs.iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        )));
    };
    for (path, m) in &found {
        if m.fingerprint != first.fingerprint {
            return Err(Error::Usage(format!(
                "{} has fingerprint {} but {} has {}: they are shards of different sweeps or scenarios",
                path.display(),
                m.fingerprint,
                first_path.display(),
                first.fingerprint
            )));
        }
        if m.shard_count != first.shard_count {
            return Err(Error::Usage(format!(
                "{} is a shard of {} but {} is a shard of {}",
                path.display(),
                m.shard_count,
                first_path.display(),
                first.shard_count
            )));
        }
    }
    let n = first.shard_count;
    for i in 0..n {
        let with: Vec<&PathBuf> = found
            .iter()
            .filter(|(_, m)| m.shard == i)
            .map(|(p, _)| p)
            .collect();
        match with.len() {
            0 => {
                return Err(Error::Usage(format!(
                    "shard {i} of {n} is missing (no shard-{i}-of-{n}.json in {}); run it with --shard {i}/{n}",
                    dirs.iter().map(|d| d.display().to_string()).collect::<Vec<_>>().join(", ")
                )))
            }
            1 => {}
            _ => {
                return Err(Error::Usage(format!(
                    "shard {i} of {n} is given twice: {}",
                    with.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(" and ")
                )))
            }
        }
    }
    let info = first.info.clone();
    let base = parse_cells(&info, &first_path, 1, &first.base)?;
    let mut records = Vec::new();
    for (path, m) in &found {
        let csv = path.with_extension("csv");
        let shard = Shard {
            index: m.shard,
            count: n,
        };
        let rerun = format!(
            "run the shard again (capplan sweep SWEEP_FILE --shard {}/{n}) or copy its files from the machine that ran it",
            m.shard
        );
        if std::fs::symlink_metadata(&csv).is_err() {
            return Err(Error::input(
                Location::file(&csv),
                format!(
                    "file not found: the records of shard {} of {n}, which belong beside {}; {rerun}",
                    m.shard,
                    path.display()
                ),
            ));
        }
        let recs = read_records_at(&info, &csv)?;
        // Ids are each of the sweep's and none twice (read_records_at); each must be this
        // shard's, and every one of this shard's there.
        for (line, r) in &recs {
            if r.id % n != m.shard {
                return Err(Error::input(
                    Location::at(&csv, *line, Some("id")),
                    format!(
                        "id {} is not one of shard {} of {n} (its ids leave remainder {} when divided by {n}); the row is another shard's — delete it",
                        r.id, m.shard, m.shard
                    ),
                ));
            }
        }
        let got: std::collections::BTreeSet<u64> = recs.iter().map(|(_, r)| r.id).collect();
        let missing: Vec<String> = shard
            .ids(info.points)
            .into_iter()
            .filter(|id| !got.contains(id))
            .map(|id| id.to_string())
            .collect();
        if !missing.is_empty() {
            let shown: Vec<&str> = missing.iter().take(10).map(String::as_str).collect();
            return Err(Error::input(
                Location::file(&csv),
                format!(
                    "incomplete shard: ids {}{} are missing; {rerun}",
                    shown.join(", "),
                    if missing.len() > 10 {
                        format!(" and {} more", missing.len() - 10)
                    } else {
                        String::new()
                    }
                ),
            ));
        }
        records.extend(recs.into_iter().map(|(_, r)| r));
    }
    records.sort_by_key(|r| r.id);
    Ok(Results {
        info,
        base,
        records,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(pairs: &[(&str, &str)], count: Option<u64>) -> Result<Option<Shard>> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        from_env(&|k| m.get(k).cloned(), count)
    }

    #[test]
    fn shard_mode_is_only_ever_asked_for() {
        let slurm = |k: &str| (k == "SLURM_ARRAY_TASK_ID").then(|| "2".to_string());
        // Inside some array, a sweep that asks for nothing is the whole sweep.
        assert_eq!(select(None, None, false, &slurm).unwrap(), None);
        assert_eq!(
            select(None, Some(4), false, &slurm).unwrap(),
            Some(Shard { index: 2, count: 4 })
        );
        let none = |_: &str| None;
        let e = select(None, None, true, &none).unwrap_err().to_string();
        assert!(e.contains("--shard-from-env needs a shard index"), "{e}");
        assert_eq!(
            select(Some("1/3"), None, false, &slurm).unwrap(),
            Some(Shard { index: 1, count: 3 })
        );
    }

    #[test]
    fn batch_engines_select_shards() {
        assert_eq!(env(&[], None).unwrap(), None);
        assert_eq!(
            env(&[("JOB_COMPLETION_INDEX", "2")], Some(3)).unwrap(),
            Some(Shard { index: 2, count: 3 })
        );
        assert!(env(&[("JOB_COMPLETION_INDEX", "2")], None)
            .unwrap_err()
            .to_string()
            .contains("--shard-count"));
        assert!(env(&[("JOB_COMPLETION_INDEX", "3")], Some(3)).is_err());
        assert_eq!(
            env(&[("AWS_BATCH_JOB_ARRAY_INDEX", "0")], Some(2)).unwrap(),
            Some(Shard { index: 0, count: 2 })
        );
        // Slurm: the task id is the shard index. A plain 0-(N-1) array gives the count...
        let plain = |id: &str| {
            env(
                &[
                    ("SLURM_ARRAY_TASK_ID", id),
                    ("SLURM_ARRAY_TASK_MIN", "0"),
                    ("SLURM_ARRAY_TASK_STEP", "1"),
                    ("SLURM_ARRAY_TASK_COUNT", "4"),
                    ("SLURM_ARRAY_TASK_MAX", "3"),
                ],
                None,
            )
        };
        assert_eq!(plain("2").unwrap(), Some(Shard { index: 2, count: 4 }));
        // ... one task resubmitted alone (`sbatch --array=3`) is shard 3 of --shard-count 4,
        // never "shard 0 of 1", and without --shard-count it is refused, saying what to pass.
        let resubmitted = |count: Option<u64>| {
            env(
                &[
                    ("SLURM_ARRAY_TASK_ID", "3"),
                    ("SLURM_ARRAY_TASK_MIN", "3"),
                    ("SLURM_ARRAY_TASK_COUNT", "1"),
                    ("SLURM_ARRAY_TASK_MAX", "3"),
                ],
                count,
            )
        };
        assert_eq!(
            resubmitted(Some(4)).unwrap(),
            Some(Shard { index: 3, count: 4 })
        );
        let e = resubmitted(None).unwrap_err().to_string();
        assert!(e.contains("pass --shard-count N"), "{e}");
        // A list (`--array=0-4:2,5,8`: MIN 0, MAX 8, STEP 2, COUNT 5, which Slurm reports as an
        // arithmetic range) cannot map a task to another shard: task 5 is shard 5, and task 8 of
        // --shard-count 5 is refused; without --shard-count the array is refused.
        let list = |id: &str, count: Option<u64>| {
            env(
                &[
                    ("SLURM_ARRAY_TASK_ID", id),
                    ("SLURM_ARRAY_TASK_MIN", "0"),
                    ("SLURM_ARRAY_TASK_STEP", "2"),
                    ("SLURM_ARRAY_TASK_COUNT", "5"),
                    ("SLURM_ARRAY_TASK_MAX", "8"),
                ],
                count,
            )
        };
        assert_eq!(
            list("4", Some(6)).unwrap(),
            Some(Shard { index: 4, count: 6 })
        );
        assert!(list("8", Some(5)).is_err());
        assert!(list("4", None)
            .unwrap_err()
            .to_string()
            .contains("not 0-(N-1)"));
        assert!(env(
            &[
                ("JOB_COMPLETION_INDEX", "0"),
                ("AWS_BATCH_JOB_ARRAY_INDEX", "0")
            ],
            Some(2)
        )
        .is_err());
        assert_eq!(Shard::parse("1/3").unwrap().ids(8), vec![1, 4, 7]);
        for bad in ["3/3", "1", "a/3", "0/0"] {
            assert!(Shard::parse(bad)
                .unwrap_err()
                .to_string()
                .starts_with(&format!("error: --shard {bad}:")));
        }
    }
}
