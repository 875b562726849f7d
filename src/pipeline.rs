//! The pipeline end to end (load → model → solve → plan → report), timed stage by stage, so the
//! CLI, tests and benchmarks run exactly the same steps.

use std::path::Path;
use std::time::Instant;

use crate::error::{Diagnostic, Result};
use crate::model::solve::SolverKind;
use crate::plan::Plan;
use crate::report::build::Report;
use crate::scenario::Scenario;

/// Seconds spent in each stage, and the LP's size.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Timings {
    pub load_seconds: f64,
    pub build_seconds: f64,
    pub solve_seconds: f64,
    pub report_seconds: f64,
    pub chart_seconds: f64,
    pub write_seconds: f64,
    pub variables: usize,
    pub constraints: usize,
    pub nonzeros: usize,
}

/// A solved scenario with its report.
pub struct Outcome {
    pub scenario: Scenario,
    pub warnings: Vec<Diagnostic>,
    pub plan: Plan,
    pub report: Report,
    pub timings: Timings,
}

/// Solves a loaded scenario: model, solve, plan, report.
pub fn solve_scenario(
    scenario: &Scenario,
    solver: SolverKind,
    timings: &mut Timings,
) -> Result<(Plan, Report)> {
    let t = Instant::now();
    let model = crate::model::build(scenario);
    timings.build_seconds = t.elapsed().as_secs_f64();
    timings.variables = model.columns.len();
    timings.constraints = model.rows.len();
    timings.nonzeros = model.nonzeros();
    let solved = crate::model::solve::solve(&model, solver)?;
    timings.solve_seconds = solved.seconds;
    let t = Instant::now();
    let min_commit: Vec<f64> = scenario.tranches.iter().map(|k| k.min_commit).collect();
    let plan = crate::plan::extract(&model, &min_commit, &solved);
    let report = crate::report::build::build(scenario, &plan);
    timings.report_seconds = t.elapsed().as_secs_f64();
    Ok((plan, report))
}

/// Loads and solves the scenario in `folder`.
pub fn run(folder: &Path, solver: SolverKind) -> Result<Outcome> {
    let mut timings = Timings::default();
    let t = Instant::now();
    let loaded = crate::load::load(folder)?;
    let mut warnings = loaded.warnings;
    warnings.extend(crate::validate::warnings(&loaded.scenario));
    timings.load_seconds = t.elapsed().as_secs_f64();
    let (plan, report) = solve_scenario(&loaded.scenario, solver, &mut timings)?;
    Ok(Outcome {
        scenario: loaded.scenario,
        warnings,
        plan,
        report,
        timings,
    })
}
