//! Output stage: where a command writes and how. Output-folder naming, the refusal to write
//! inside a scenario folder, atomic writes and removal of capplan's own stale files live here
//! once, so `run`, `chart` and the commands that compare plans all behave alike.

use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::load::flags::{cut_with_hash, WhatIfFlags};
use crate::report::tables::ChartTables;
use crate::report::write::{OutputFile, REPORT_FILE_NAMES};

/// The default output folder of a scenario: `output/<scenario name as a folder name>`.
pub fn default_folder(scenario_name: &str) -> PathBuf {
    PathBuf::from("output").join(folder_name(scenario_name))
}

/// The default output folder of a comparison: `output/compare-<names>`, cut to 80 characters
/// with a short hash of the full name when longer.
pub fn compare_folder(labels: &[String]) -> PathBuf {
    let names: Vec<String> = labels.iter().map(|l| folder_name(l)).collect();
    let name = format!("compare-{}", names.join("+"));
    PathBuf::from("output").join(cut_with_hash(&name, &name))
}

/// The default output folder of a scenario run with what-if flags:
/// `output/<scenario name><flags' folder suffix>` (`output/frontier-2026+demand-scale-1.3`), at most
/// 80 characters, cut with a hash of the flags' label when longer.
pub fn default_folder_with(scenario_name: &str, flags: &WhatIfFlags) -> PathBuf {
    if flags.is_empty() {
        return default_folder(scenario_name);
    }
    let name = format!("{}{}", folder_name(scenario_name), flags.folder_suffix());
    PathBuf::from("output").join(cut_with_hash(&name, &flags.label()))
}

/// A name as a folder name: letters, digits, `.`, `_`, `-`; anything else becomes `-`.
pub fn folder_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches(|c| c == '-' || c == '.').to_string();
    if s.is_empty() {
        "scenario".into()
    } else {
        s
    }
}

/// The folder to write: `out` when given, else the default; refused when it lies inside one of
/// the input folders (inputs are never modified).
pub fn resolve(out: Option<&Path>, default: PathBuf, inputs: &[&Path]) -> Result<PathBuf> {
    let dir = out.map(Path::to_path_buf).unwrap_or(default);
    for input in inputs {
        refuse_inside(input, &dir, out.is_some())?;
    }
    Ok(dir)
}

fn refuse_inside(input: &Path, out: &Path, given: bool) -> Result<()> {
    let Ok(input) = input.canonicalize() else {
        return Ok(());
    };
    let absolute = if out.is_absolute() {
        out.to_path_buf()
    } else {
        std::env::current_dir()
            .map_err(|e| Error::io(".", e))?
            .join(out)
    };
    // Canonicalise the deepest existing ancestor; the rest does not exist yet.
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    while !existing.exists() {
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name.to_os_string());
                existing = parent;
            }
            _ => break,
        }
    }
    let mut resolved = existing
        .canonicalize()
        .unwrap_or_else(|_| existing.to_path_buf());
    for name in rest.iter().rev() {
        resolved.push(name);
    }
    if resolved.starts_with(&input) {
        let hint = if given {
            "choose another --out"
        } else {
            "pass --out with a folder outside it, e.g. --out /tmp/capplan-run"
        };
        return Err(Error::Usage(format!(
            "output folder {} is inside the scenario folder {}; capplan never writes into its inputs ({hint})",
            out.display(),
            input.display()
        )));
    }
    Ok(())
}

/// Renders every chart of a run's tables as files (nothing is written here).
pub fn chart_files(tables: &ChartTables, width: u32, height: u32) -> Result<Vec<OutputFile>> {
    let opts = crate::chart::ChartOptions { width, height };
    Ok(crate::chart::render_all(tables, &opts)?
        .into_iter()
        .map(|c| OutputFile {
            name: c.file_name,
            bytes: c.bytes,
        })
        .collect())
}

/// Renders every compare chart as files (nothing is written here).
pub fn compare_chart_files(
    comparison: &crate::compare::Comparison,
    columns: &[crate::compare::Column],
    width: u32,
    height: u32,
) -> Result<Vec<OutputFile>> {
    let opts = crate::chart::ChartOptions { width, height };
    Ok(
        crate::chart::compare::render_all(comparison, columns, &opts)?
            .into_iter()
            .map(|c| OutputFile {
                name: c.file_name,
                bytes: c.bytes,
            })
            .collect(),
    )
}

/// Renders every resilience chart as files (nothing is written here).
pub fn resilience_chart_files(
    r: &crate::resilience::Resilience,
    width: u32,
    height: u32,
) -> Result<Vec<OutputFile>> {
    let opts = crate::chart::ChartOptions { width, height };
    Ok(crate::chart::resilience::render_all(r, &opts)?
        .into_iter()
        .map(|c| OutputFile {
            name: c.file_name,
            bytes: c.bytes,
        })
        .collect())
}

/// The default output folder of a sweep: `output/sweep-<sweep name>`.
pub fn sweep_folder(name: &str) -> PathBuf {
    PathBuf::from("output").join(format!("sweep-{}", folder_name(name)))
}

/// Renders every sweep chart as files (nothing is written here).
pub fn sweep_chart_files(
    res: &crate::sweep::write::Results,
    width: u32,
    height: u32,
) -> Result<Vec<OutputFile>> {
    let opts = crate::chart::ChartOptions { width, height };
    Ok(crate::chart::sweep::render_all(res, &opts)?
        .into_iter()
        .map(|c| OutputFile {
            name: c.file_name,
            bytes: c.bytes,
        })
        .collect())
}

/// The checkpoint of an interrupted sweep, the one file allowed to be partial.
pub const SWEEP_CHECKPOINT: &str = "sweep.partial.csv";

/// Writes a finished sweep's files into `dir` atomically, removes sweep files an earlier sweep left
/// there that this one did not write, and the checkpoint it has now completed.
pub fn write_sweep(dir: &Path, files: &[OutputFile]) -> Result<Vec<PathBuf>> {
    let written = write_atomically(dir, files)?;
    let ours = crate::sweep::write::SWEEP_FILE_NAMES
        .iter()
        .map(|n| n.to_string())
        .chain(std::iter::once(SWEEP_CHECKPOINT.to_string()))
        .chain(
            crate::chart::sweep::SWEEP_CHART_STEMS
                .iter()
                .flat_map(|stem| [format!("{stem}.png"), format!("{stem}.svg")]),
        );
    remove_unwritten(dir, files, ours)?;
    Ok(written)
}

/// Writes one shard's files into `dir` atomically and removes its own checkpoint; no other file
/// is touched (the other shards write into the same folder).
pub fn write_shard(dir: &Path, files: &[OutputFile], checkpoint: &str) -> Result<Vec<PathBuf>> {
    let written = write_atomically(dir, files)?;
    let path = dir.join(checkpoint);
    if path.is_file() {
        std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
    }
    Ok(written)
}

/// The files `capplan resilience` writes besides its charts.
pub const RESILIENCE_FILE_NAMES: [&str; 3] = ["resilience.csv", "resilience.json", "resilience.md"];

/// Writes a resilience matrix's files into `dir` atomically and removes resilience files an
/// earlier run left there that this one did not write.
pub fn write_resilience(dir: &Path, files: &[OutputFile]) -> Result<Vec<PathBuf>> {
    let written = write_atomically(dir, files)?;
    let ours = RESILIENCE_FILE_NAMES.iter().map(|n| n.to_string()).chain(
        crate::chart::resilience::RESILIENCE_CHART_STEMS
            .iter()
            .flat_map(|stem| [format!("{stem}.png"), format!("{stem}.svg")]),
    );
    remove_unwritten(dir, files, ours)?;
    Ok(written)
}

/// The files `capplan compare` writes besides its charts.
pub const COMPARE_FILE_NAMES: [&str; 4] =
    ["compare.csv", "compare.json", "compare.md", "compare.xlsx"];

/// Writes a comparison's files into `dir` atomically and removes compare files an earlier
/// comparison left there that this one did not write.
pub fn write_compare(dir: &Path, files: &[OutputFile]) -> Result<Vec<PathBuf>> {
    let written = write_atomically(dir, files)?;
    let ours = COMPARE_FILE_NAMES.iter().map(|n| n.to_string()).chain(
        crate::chart::compare::COMPARE_CHART_STEMS
            .iter()
            .flat_map(|stem| [format!("{stem}.png"), format!("{stem}.svg")]),
    );
    remove_unwritten(dir, files, ours)?;
    Ok(written)
}

/// Writes a run's files into `dir` atomically, then removes capplan's own files an earlier run
/// left there that this one did not write, so a folder never mixes two runs.
pub fn write_run(dir: &Path, files: &[OutputFile]) -> Result<Vec<PathBuf>> {
    let written = write_atomically(dir, files)?;
    remove_stale(dir, files)?;
    Ok(written)
}

/// Writes files into `dir` (created if needed), each through a temporary file renamed into place,
/// so a reader never sees a half-written file. Callers render every file before calling this, so a
/// failed run writes nothing.
pub fn write_atomically(dir: &Path, files: &[OutputFile]) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut written = Vec::with_capacity(files.len());
    let mut temps = Vec::with_capacity(files.len());
    for f in files {
        let tmp = dir.join(format!(".{}.tmp-{}", f.name, std::process::id()));
        if let Err(e) = std::fs::write(&tmp, &f.bytes) {
            for t in &temps {
                let _ = std::fs::remove_file(t);
            }
            let _ = std::fs::remove_file(&tmp);
            return Err(Error::io(&tmp, e));
        }
        temps.push(tmp);
    }
    for (f, tmp) in files.iter().zip(&temps) {
        let path = dir.join(&f.name);
        std::fs::rename(tmp, &path).map_err(|e| Error::io(&path, e))?;
        written.push(path);
    }
    Ok(written)
}

/// Removes files an earlier run wrote into `dir` that this run did not (charts skipped with
/// `--no-charts`, a per-region chart no longer drawn). Only capplan's own file names are touched.
fn remove_stale(dir: &Path, written: &[OutputFile]) -> Result<()> {
    let ours = REPORT_FILE_NAMES.iter().map(|n| n.to_string()).chain(
        crate::chart::CHART_STEMS
            .iter()
            .flat_map(|stem| [format!("{stem}.png"), format!("{stem}.svg")]),
    );
    remove_unwritten(dir, written, ours)
}

/// Removes the files named in `ours` that exist in `dir` but are not among `written`.
fn remove_unwritten(
    dir: &Path,
    written: &[OutputFile],
    ours: impl Iterator<Item = String>,
) -> Result<()> {
    for name in ours {
        let path = dir.join(&name);
        if !written.iter().any(|f| f.name == name) && path.is_file() {
            std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::folder_name;

    #[test]
    fn folder_names_are_safe() {
        assert_eq!(folder_name("Base plan 2026/2027"), "Base-plan-2026-2027");
        assert_eq!(folder_name("../x"), "x");
        assert_eq!(folder_name("///"), "scenario");
    }
}
