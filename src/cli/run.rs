//! CLI stage, `capplan run`: pipeline → report files (and charts) written atomically → text report.

use std::path::{Path, PathBuf};
use std::time::Instant;

use super::{Format, RunArgs};
use crate::error::{Error, Result};
use crate::model::solve::SolverKind;

pub fn execute(args: &RunArgs) -> Result<()> {
    let solver = match &args.solver {
        Some(name) => SolverKind::parse(name)?,
        None => SolverKind::default_kind(),
    };
    let mut outcome = crate::pipeline::run(&args.scenario, solver)?;
    for w in &outcome.warnings {
        eprintln!("warning: {w}");
    }
    let out_dir = match &args.out {
        Some(d) => d.clone(),
        None => PathBuf::from("output").join(folder_name(&outcome.scenario.name)),
    };
    refuse_inside(&args.scenario, &out_dir)?;

    let t = Instant::now();
    let mut files = crate::report::write::report_files(&outcome.report);
    if !args.no_charts {
        files.extend(super::chart::render(
            &outcome.report.charts,
            args.chart_size,
        )?);
    }
    outcome.timings.chart_seconds = t.elapsed().as_secs_f64();
    let t = Instant::now();
    crate::report::write::write_atomically(&out_dir, &files)?;
    crate::report::write::remove_stale(&out_dir, &files)?;
    outcome.timings.write_seconds = t.elapsed().as_secs_f64();

    match args.format {
        Format::Text => {
            super::print(crate::report::text::render(&outcome.report))?;
            super::print(format!(
                "\nwrote {} files to {}\n",
                files.len(),
                out_dir.display()
            ))?;
        }
        Format::Json => super::print(crate::report::write::summary_json(&outcome.report.summary))?,
    }
    if args.timings {
        let t = &outcome.timings;
        eprintln!(
            "timings: load {:.3}s · build {:.3}s · solve {:.3}s ({}) · report {:.3}s · render {:.3}s · write {:.3}s\nLP size: {} variables, {} constraints, {} nonzeros",
            t.load_seconds,
            t.build_seconds,
            t.solve_seconds,
            solver.name(),
            t.report_seconds,
            t.chart_seconds,
            t.write_seconds,
            t.variables,
            t.constraints,
            t.nonzeros
        );
    }
    Ok(())
}

/// A scenario name as a folder name: letters, digits, `.`, `_`, `-`; anything else becomes `-`.
fn folder_name(name: &str) -> String {
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

/// Inputs are never modified: refuse an output folder inside the scenario folder.
fn refuse_inside(scenario: &Path, out: &Path) -> Result<()> {
    let Ok(scenario) = scenario.canonicalize() else {
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
    if resolved.starts_with(&scenario) {
        return Err(Error::Usage(format!(
            "output folder {} is inside the scenario folder {}; capplan never writes into its inputs (choose another --out)",
            out.display(),
            scenario.display()
        )));
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
