//! Commands stage, `capplan robust`: reservations chosen once for the samples of a sweep file
//! (spec, "Robust plans"). The samples are exactly those `sweep` draws (`[risk]`) or every grid
//! point (`[grid]`); `model::robust` finds the z minimising R = (1 − W)·mean T + W·CVaR_α(T) over
//! the planning samples; then the robust plan and the scenario's own (deterministic) plan are
//! both held on every sample, planning and holdout, exactly as `run --reservations-from <plan>
//! [--emergency] <sample flags>` holds them, so every row replays.

pub mod write;

use std::time::Instant;

use rayon::prelude::*;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::facts::Facts;
use crate::load::signed::SignedPlan;
use crate::model::robust::{cvar, risk_objective, RobustConvergence, RobustOptions};
use crate::model::BuildOptions;
use crate::pipeline::Planning;
use crate::report::build::Report;
use crate::scenario::Scenario;
use crate::sweep::risk::{nearest_rank, round12, sorted};
use crate::sweep::spec::{Kind, Sweep};

/// The command line's overrides of the sweep file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    pub solver: Option<String>,
    pub samples: Option<u64>,
    pub seed: Option<u64>,
    pub holdout: Option<u64>,
    pub risk_weight: Option<f64>,
    pub cvar_alpha: Option<f64>,
}

/// The settings in force: the file's `[robust]` table, the flags over it, the defaults.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Settings {
    pub risk_weight: f64,
    pub cvar_alpha: f64,
    /// Planning samples: ids 0..samples.
    pub samples: u64,
    /// Holdout samples: ids samples..samples + holdout.
    pub holdout: u64,
    pub emergency: bool,
}

/// A sample held by both plans.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SampleRow {
    /// `in_sample` (the plan was chosen on it) or `holdout`.
    pub set: String,
    pub id: u64,
    /// The what-if flags of `run` that make this sample.
    pub flags: String,
    /// T_s at the robust plan: the held run's objective, $.
    pub robust_total: f64,
    /// commit + usage + route, $ (no penalties).
    pub robust_spend: f64,
    pub robust_unserved_tokens: f64,
    pub deterministic_total: f64,
    pub deterministic_spend: f64,
    pub deterministic_unserved_tokens: f64,
}

/// One plan's figures over one set of samples.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PlanFigures {
    /// `robust` or `deterministic`.
    pub plan: String,
    /// `in_sample` or `holdout`.
    pub set: String,
    pub samples: u64,
    /// R over these samples, $.
    pub objective: f64,
    pub mean_total: f64,
    pub p50_total: f64,
    pub p95_total: f64,
    pub p99_total: f64,
    pub cvar_total: f64,
    pub mean_spend: f64,
    pub p95_spend: f64,
    pub cvar_spend: f64,
    pub mean_unserved_tokens: f64,
    pub p95_unserved_tokens: f64,
    pub cvar_unserved_tokens: f64,
}

/// A tranche's reservation in each plan (the hedge).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HedgeRow {
    pub tranche: String,
    pub provider: String,
    pub region: String,
    pub robust_reserved_fraction: f64,
    pub deterministic_reserved_fraction: f64,
    pub robust_reserved_tpm: f64,
    pub deterministic_reserved_tpm: f64,
    /// robust − deterministic reserved tokens per minute.
    pub change_tpm: f64,
    /// robust − deterministic commitment, $.
    pub change_commit_cost: f64,
}

/// Wall-clock seconds of `robust`'s stages (`--timings`); never written to the files.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Timings {
    /// The deterministic plan (the scenario's own, as `run` plans it).
    pub deterministic_seconds: f64,
    /// Every sample's scenario and the planning samples' facts.
    pub samples_seconds: f64,
    /// The robust search (its master and evaluation seconds are in the convergence).
    pub solve_seconds: f64,
    /// Both plans held on every sample.
    pub hold_seconds: f64,
}

/// Everything `robust` found.
pub struct Robust {
    pub sweep: String,
    pub scenario: String,
    /// `grid` or `risk`.
    pub kind: String,
    pub seed: Option<u64>,
    pub settings: Settings,
    /// R at the robust plan over the planning samples (held runs), $.
    pub objective: f64,
    /// R at the deterministic plan over the planning samples, $.
    pub deterministic_objective: f64,
    /// The master's bound on R and (objective − bound) / |objective|.
    pub bound: f64,
    pub relative_gap: f64,
    pub convergence: RobustConvergence,
    pub timings: Timings,
    /// robust then deterministic; in sample, then holdout when there is one.
    pub figures: Vec<PlanFigures>,
    pub rows: Vec<SampleRow>,
    pub hedge: Vec<HedgeRow>,
    /// The robust plan on the base scenario under its policy (the plan folder).
    pub plan: Report,
}

impl Robust {
    /// Mean total of the deterministic plan − of the robust plan, in sample.
    pub fn vss(&self) -> f64 {
        self.figure("deterministic", "in_sample").mean_total
            - self.figure("robust", "in_sample").mean_total
    }

    pub fn figure(&self, plan: &str, set: &str) -> &PlanFigures {
        self.figures
            .iter()
            .find(|f| f.plan == plan && f.set == set)
            .expect("every plan has in-sample figures")
    }
}

/// The settings of a sweep file with the flags over them.
pub fn settings(sweep: &Sweep, o: &Overrides) -> Result<Settings> {
    let table = sweep.robust.clone().unwrap_or_default();
    let risk_weight = o.risk_weight.or(table.risk_weight).unwrap_or(0.0);
    if !(0.0..=1.0).contains(&risk_weight) {
        return Err(Error::Usage(format!(
            "--risk-weight {risk_weight}: expected a weight from 0 (expected cost) to 1 (CVaR)"
        )));
    }
    let cvar_alpha = o.cvar_alpha.or(table.cvar_alpha).unwrap_or(0.95);
    if !(0.0..1.0).contains(&cvar_alpha) {
        return Err(Error::Usage(format!(
            "--cvar-alpha {cvar_alpha}: expected a level from 0 up to but not including 1 (e.g. 0.95)"
        )));
    }
    let holdout = o.holdout.or(table.holdout).unwrap_or(0);
    let (samples, emergency_default) = match &sweep.kind {
        Kind::Risk(r) => (o.samples.unwrap_or(r.samples), true),
        Kind::Grid(g) => {
            if holdout > 0 {
                let message = format!(
                    "holdout {holdout}: a [grid] sweep has no further samples to hold out (its points are all planned on); expected 0, or a [risk] sweep"
                );
                return Err(match (o.holdout, &table.holdout_location) {
                    (None, Some(at)) => Error::input(at.clone(), message),
                    _ => Error::Usage(format!("--{message}")),
                });
            }
            if o.samples.is_some() || o.seed.is_some() {
                return Err(Error::Usage(format!(
                    "--samples and --seed apply to a [risk] sweep; {} is a [grid] sweep",
                    sweep.file.display()
                )));
            }
            (g.points(), false)
        }
    };
    if samples == 0 || samples.saturating_add(holdout) > crate::sweep::spec::MAX_POINTS {
        return Err(Error::Usage(format!(
            "{samples} samples and {holdout} held out: expected 1 to {} in all",
            crate::sweep::spec::MAX_POINTS
        )));
    }
    Ok(Settings {
        risk_weight,
        cvar_alpha,
        samples,
        holdout,
        emergency: table.emergency.unwrap_or(emergency_default),
    })
}

/// z per tranche of a plan (1 where there is no decision).
fn z_of(report: &Report, facts: &Facts, scenario: &Scenario) -> Vec<f64> {
    scenario
        .tranches
        .iter()
        .zip(&facts.tranches)
        .map(|(t, f)| {
            if !f.has_reservation_decision {
                return 1.0;
            }
            report
                .commitments
                .iter()
                .find(|c| c.tranche == t.name)
                .map_or(1.0, |c| c.reserved_fraction)
        })
        .collect()
}

/// The signed plan of a report, as `--reservations-from` would read it.
fn signed_of(report: &Report) -> SignedPlan {
    let bytes = crate::report::write::commitments_csv(&report.commitments);
    SignedPlan::of_run(&report.summary.scenario, &report.commitments, &bytes)
}

/// A held run of one sample: (objective, spend, unserved tokens), each as the files write it.
type Held = (f64, f64, f64);

fn hold_all(
    scenarios: &[Scenario],
    signed: &SignedPlan,
    emergency: bool,
    solver: crate::model::solve::SolverKind,
) -> Result<Vec<Held>> {
    scenarios
        .par_iter()
        .map(|s| {
            let solved = Planning::of(s.clone()).hold(signed, emergency, solver)?;
            let m = &solved.report.summary;
            Ok((
                round12(m.objective),
                round12(m.cost),
                round12(m.unserved_tokens),
            ))
        })
        .collect()
}

fn figures(plan: &str, set: &str, held: &[Held], s: &Settings) -> PlanFigures {
    let total: Vec<f64> = held.iter().map(|h| h.0).collect();
    let spend: Vec<f64> = held.iter().map(|h| h.1).collect();
    let unserved: Vec<f64> = held.iter().map(|h| h.2).collect();
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len().max(1) as f64;
    let pct = |v: &[f64], p| nearest_rank(&sorted(v.iter().copied()), p).unwrap_or(0.0);
    PlanFigures {
        plan: plan.into(),
        set: set.into(),
        samples: held.len() as u64,
        objective: risk_objective(&total, s.risk_weight, s.cvar_alpha),
        mean_total: mean(&total),
        p50_total: pct(&total, 50),
        p95_total: pct(&total, 95),
        p99_total: pct(&total, 99),
        cvar_total: cvar(&total, s.cvar_alpha),
        mean_spend: mean(&spend),
        p95_spend: pct(&spend, 95),
        cvar_spend: cvar(&spend, s.cvar_alpha),
        mean_unserved_tokens: mean(&unserved),
        p95_unserved_tokens: pct(&unserved, 95),
        cvar_unserved_tokens: cvar(&unserved, s.cvar_alpha),
    }
}

/// Runs `capplan robust` on a read sweep file: samples, the robust plan, both plans held on
/// every sample. `progress` is told each stage.
pub fn run(sweep: Sweep, overrides: &Overrides, progress: &dyn Fn(&str)) -> Result<Robust> {
    let settings = settings(&sweep, overrides)?;
    let kind = match &sweep.kind {
        Kind::Risk(_) => "risk",
        Kind::Grid(_) => "grid",
    };
    let seed = match &sweep.kind {
        Kind::Risk(r) => Some(overrides.seed.unwrap_or(r.seed)),
        Kind::Grid(_) => None,
    };
    let (sweep_name, scenario_text) = (sweep.name.clone(), sweep.scenario_text.clone());
    let all = settings.samples + settings.holdout;
    let mut timings = Timings::default();
    let mut clock = Instant::now();
    let lap = |clock: &mut Instant| {
        let seconds = clock.elapsed().as_secs_f64();
        *clock = Instant::now();
        seconds
    };
    progress("planning the base");
    let prep = crate::sweep::prepare(
        sweep.clone(),
        &crate::sweep::Overrides {
            solver: overrides.solver.clone(),
            samples: (kind == "risk").then_some(all),
            seed: overrides.seed,
        },
    )?;
    let solver = prep.solver();
    let base = Planning::load(&sweep.scenario, &Default::default())?;
    // The deterministic plan: the scenario's own, as `run` plans it.
    let deterministic = base.plan(solver)?;
    let det_z = z_of(&deterministic.report, &base.facts, &base.scenario);
    timings.deterministic_seconds = lap(&mut clock);

    progress("loading the samples");
    let scenarios: Vec<Scenario> = (0..all)
        .into_par_iter()
        .map(|id| prep.scenario_of(id))
        .collect::<Result<_>>()?;
    let flags: Vec<String> = (0..all).map(|id| prep.flags_of(id).label()).collect();
    let n = settings.samples as usize;
    let facts: Vec<Facts> = scenarios[..n].par_iter().map(Facts::of).collect();
    let samples: Vec<(&Scenario, &Facts)> = scenarios[..n].iter().zip(&facts).collect();
    timings.samples_seconds = lap(&mut clock);

    progress("solving the robust plan");
    let solved = crate::model::robust::solve(
        &base.facts,
        &samples,
        RobustOptions {
            risk_weight: settings.risk_weight,
            cvar_alpha: settings.cvar_alpha,
            emergency: settings.emergency,
            whole_blocks: true,
            cuts: Default::default(),
        },
        Some(&det_z),
    )?;
    drop(samples);
    drop(facts);

    // The robust plan as a plan of the base scenario under its policy (its folder): z read back
    // exactly as `run` reads a solved z back (12 significant digits, whole blocks exact), so the
    // plan held on the samples below is the one written.
    let options = BuildOptions::plan(&base.facts, &base.scenario.policy);
    let plan = crate::model::extract::plan_from_z(
        &base.scenario,
        &base.facts,
        &options,
        &base.scenario.policy,
        solved.z.clone(),
        None,
        ("robust", solver),
        solved.convergence.master_seconds + solved.convergence.subproblem_seconds,
    )?;
    let report = crate::report::build::build(&base.scenario, &base.facts, &plan);
    let robust_signed = signed_of(&report);
    timings.solve_seconds = lap(&mut clock);
    let det_signed = deterministic.signed_plan();

    progress("holding both plans on every sample");
    let robust_held = hold_all(&scenarios, &robust_signed, settings.emergency, solver)?;
    let det_held = hold_all(&scenarios, &det_signed, settings.emergency, solver)?;
    timings.hold_seconds = lap(&mut clock);

    let rows: Vec<SampleRow> = (0..all as usize)
        .map(|i| SampleRow {
            set: if i < n { "in_sample" } else { "holdout" }.into(),
            id: i as u64,
            flags: flags[i].clone(),
            robust_total: robust_held[i].0,
            robust_spend: robust_held[i].1,
            robust_unserved_tokens: robust_held[i].2,
            deterministic_total: det_held[i].0,
            deterministic_spend: det_held[i].1,
            deterministic_unserved_tokens: det_held[i].2,
        })
        .collect();
    let mut figs = vec![
        figures("robust", "in_sample", &robust_held[..n], &settings),
        figures("deterministic", "in_sample", &det_held[..n], &settings),
    ];
    if settings.holdout > 0 {
        figs.push(figures("robust", "holdout", &robust_held[n..], &settings));
        figs.push(figures(
            "deterministic",
            "holdout",
            &det_held[n..],
            &settings,
        ));
    }
    let objective = figs[0].objective;
    let bound = solved.convergence.lower_bound;
    let decisions: Vec<&str> = base
        .scenario
        .tranches
        .iter()
        .zip(&base.facts.tranches)
        .filter(|(_, f)| f.has_reservation_decision)
        .map(|(t, _)| t.name.as_str())
        .collect();
    let hedge = report
        .commitments
        .iter()
        .filter(|c| decisions.contains(&c.tranche.as_str()))
        .filter_map(|c| {
            let d = deterministic
                .report
                .commitments
                .iter()
                .find(|d| d.tranche == c.tranche)?;
            Some(HedgeRow {
                tranche: c.tranche.clone(),
                provider: c.provider.clone(),
                region: c.region.clone(),
                robust_reserved_fraction: c.reserved_fraction,
                deterministic_reserved_fraction: d.reserved_fraction,
                robust_reserved_tpm: c.reserved_tpm,
                deterministic_reserved_tpm: d.reserved_tpm,
                change_tpm: round12(c.reserved_tpm - d.reserved_tpm),
                change_commit_cost: round12(c.commit_cost - d.commit_cost),
            })
        })
        .collect();
    Ok(Robust {
        sweep: sweep_name,
        scenario: scenario_text,
        kind: kind.into(),
        seed,
        objective,
        deterministic_objective: figs[1].objective,
        bound,
        relative_gap: ((objective - bound) / objective.abs().max(1.0)).max(0.0),
        convergence: solved.convergence,
        timings,
        settings,
        figures: figs,
        rows,
        hedge,
        plan: report,
    })
}
