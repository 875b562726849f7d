//! Output stage: where a command writes and how. Output-folder naming, the refusal to write
//! inside a scenario folder, atomic writes and removal of capplan's own stale files live here
//! once: every command makes a [`Product`] (its files and their manifest) and [`write`] writes
//! it, so `run`, `chart`, `compare`, `resilience` and `sweep` all behave alike.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
pub use crate::export::{OutputFile, Product};
use crate::load::flags::{cut_with_hash, WhatIfFlags};

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

/// The default output folder of a held run (`--reservations-from PLAN`): the re-plan's folder
/// name plus `+held-<plan folder>` (and `+emergency` under emergency rules), so a held dispatch
/// never overwrites the re-planned run of the same scenario and flags, and says what it holds.
pub fn held_folder(replanned: &Path, plan_dir: &Path, emergency: bool) -> PathBuf {
    let base = replanned
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let plan = plan_dir
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "plan".to_string());
    let rules = if emergency { "+emergency" } else { "" };
    let name = format!("{base}+held-{}{rules}", folder_name(&plan));
    replanned.with_file_name(cut_with_hash(&name, &name))
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

/// The default output folder of a sweep: `output/sweep-<sweep name>`.
pub fn sweep_folder(name: &str) -> PathBuf {
    PathBuf::from("output").join(format!("sweep-{}", folder_name(name)))
}

/// The default output folder of a robust plan: `output/robust-<sweep name>`.
pub fn robust_folder(name: &str) -> PathBuf {
    PathBuf::from("output").join(format!("robust-{}", folder_name(name)))
}

/// The default output folder of a resilience matrix: `output/resilience-<scenario name>`.
pub fn resilience_folder(scenario_name: &str) -> PathBuf {
    PathBuf::from("output").join(format!("resilience-{}", folder_name(scenario_name)))
}

/// Writes a product into `dir` (created if needed) — the one way every command writes files.
///
/// Each file goes through a temporary file in `dir`, written and synced, and is renamed into
/// place only once every file is written, so a reader never sees a half-written file and a failed
/// write leaves the earlier files (a temporary file is removed when it is dropped). Then the files
/// of the product's manifest that an earlier command left in `dir` and this one did not write are
/// removed, so a folder never mixes two runs; no other file is touched.
pub fn write(dir: &Path, product: &Product) -> Result<Vec<PathBuf>> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut temps = Vec::with_capacity(product.files.len());
    for f in &product.files {
        let prefix = format!(".{}.", f.name);
        let mut builder = tempfile::Builder::new();
        builder.prefix(&prefix).suffix(".tmp");
        // As any file a program creates (0666 less the umask), not a temporary file's 0600.
        #[cfg(unix)]
        builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o666));
        let mut tmp = builder
            .tempfile_in(dir)
            .map_err(|e| Error::io(dir.join(&f.name), e))?;
        tmp.write_all(&f.bytes)
            .and_then(|()| tmp.as_file().sync_all())
            .map_err(|e| Error::io(tmp.path(), e))?;
        temps.push(tmp);
    }
    let mut written = Vec::with_capacity(temps.len());
    for (f, tmp) in product.files.iter().zip(temps) {
        let path = dir.join(&f.name);
        tmp.persist(&path).map_err(|e| Error::io(&path, e.error))?;
        written.push(path);
    }
    sync_folder(dir)?;
    for name in &product.manifest {
        let path = dir.join(name);
        if !product.files.iter().any(|f| &f.name == name) && path.is_file() {
            std::fs::remove_file(&path).map_err(|e| Error::io(&path, e))?;
        }
    }
    Ok(written)
}

/// Makes the renames of a folder durable (a no-op where folders cannot be opened as files).
fn sync_folder(dir: &Path) -> Result<()> {
    #[cfg(unix)]
    std::fs::File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| Error::io(dir, e))?;
    #[cfg(not(unix))]
    let _ = dir;
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
