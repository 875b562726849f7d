//! Commands stage, `capplan robust`: reservations chosen once for the samples of a sweep file
//! (spec, "Robust plans"). The samples are exactly those `sweep` draws (`[risk]`) or every grid
//! point (`[grid]`); `model::robust` finds the z minimising R = (1 − W)·mean T + W·CVaR_α(T) over
//! the planning samples; then the robust plan and the scenario's own (deterministic) plan are
//! both held on every sample, planning and holdout, exactly as `run --reservations-from <plan>
//! [--emergency] <sample flags>` holds them, so every row replays. From those holds: the hedge
//! per tranche in words (how often the capacity one plan has and the other lacks is used, and
//! which sample feature those samples share), and, when asked (`--evpi`), each planning sample's
//! re-planned optimum and the EVPI.

pub mod write;

use std::time::Instant;

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::facts::Facts;
use crate::load::signed::SignedPlan;
use crate::model::robust::{cvar, risk_objective, RobustConvergence, RobustOptions};
use crate::model::BuildOptions;
use crate::pipeline::Planning;
use crate::report::build::Report;
use crate::scenario::Scenario;
use crate::sweep::risk::{mean, nearest_rank, round12, sorted};
use crate::sweep::spec::{Kind, Sweep};
use crate::units::{grouped, human};

/// The command line's overrides of the sweep file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    pub solver: Option<String>,
    pub samples: Option<u64>,
    pub seed: Option<u64>,
    pub holdout: Option<u64>,
    pub risk_weight: Option<f64>,
    pub cvar_alpha: Option<f64>,
    /// `--evpi`: re-plan every planning sample (on when the file's `[robust] evpi` is true).
    pub evpi: bool,
}

/// The settings in force: the file's `[robust]` table, the flags over it, the defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    pub risk_weight: f64,
    pub cvar_alpha: f64,
    /// Planning samples: ids 0..samples.
    pub samples: u64,
    /// Holdout samples: ids samples..samples + holdout.
    pub holdout: u64,
    pub emergency: bool,
    /// Each planning sample re-planned on its own (its optimum, for the EVPI).
    pub evpi: bool,
}

/// A sample held by both plans.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
    /// With `--evpi`, a planning sample's re-planned optimum: the least total any z of the plan's
    /// set (min_commit, whole blocks) gives this sample alone, $ (no column without `--evpi`,
    /// blank on holdout rows).
    #[serde(default)]
    pub replanned_total: Option<f64>,
}

impl SampleRow {
    /// The columns of `robust.csv`: `replanned_total` only when it was computed.
    pub fn columns(rows: &[SampleRow]) -> Vec<&'static str> {
        let replanned = rows.iter().any(|r| r.replanned_total.is_some());
        crate::export::csv::columns::<SampleRow>()
            .into_iter()
            .filter(|c| replanned || *c != "replanned_total")
            .collect()
    }
}

/// One plan's figures over one set of samples.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct HedgeRow {
    pub tranche: String,
    pub provider: String,
    pub region: String,
    /// Each plan's z, written as its shortest round-trip text (as commitments.csv writes it).
    #[serde(serialize_with = "crate::export::round_trip")]
    pub robust_reserved_fraction: f64,
    #[serde(serialize_with = "crate::export::round_trip")]
    pub deterministic_reserved_fraction: f64,
    pub robust_reserved_tpm: f64,
    pub deterministic_reserved_tpm: f64,
    /// robust − deterministic reserved tokens per minute.
    pub change_tpm: f64,
    /// robust − deterministic commitment, $.
    pub change_commit_cost: f64,
    /// Of the planning samples, the share in which the change is used, %: where the robust plan
    /// reserves more, its flow on the tranche above the deterministic plan's reservation in some
    /// period; where less, the deterministic plan's flow above the robust plan's reservation.
    /// None where both plans reserve the same.
    #[serde(default)]
    pub change_used_in_pct: Option<f64>,
    /// How much of the change's capacity-time (the difference of the reservations over the
    /// periods, in tokens) that flow uses, mean over the planning samples, %.
    #[serde(default)]
    pub change_capacity_used_pct: Option<f64>,
    /// The change in words, computed from the samples (empty where nothing changes).
    pub why: String,
    /// A tranche in GPUs: its GPU type, and the GPUs each plan reserves (no columns when no
    /// tranche is in GPUs).
    #[serde(default)]
    pub gpu: String,
    #[serde(default)]
    pub robust_gpus_reserved: Option<f64>,
    #[serde(default)]
    pub deterministic_gpus_reserved: Option<f64>,
}

impl HedgeRow {
    /// The columns of `robust_hedge.csv`: the GPU columns only when some tranche is in GPUs.
    pub fn columns(rows: &[HedgeRow]) -> Vec<&'static str> {
        let gpus = rows.iter().any(|r| r.robust_gpus_reserved.is_some());
        crate::export::csv::columns::<HedgeRow>()
            .into_iter()
            .filter(|c| {
                gpus || !matches!(
                    *c,
                    "gpu" | "robust_gpus_reserved" | "deterministic_gpus_reserved"
                )
            })
            .collect()
    }

    /// Whether the two plans reserve differently: z apart by more than 1e-9 (read-back noise;
    /// one block of 8 GPUs in 100,000 is 8e-5), and in GPUs by at least one GPU.
    pub fn differs(&self) -> bool {
        let z = (self.robust_reserved_fraction - self.deterministic_reserved_fraction).abs() > 1e-9;
        match (self.robust_gpus_reserved, self.deterministic_gpus_reserved) {
            (Some(r), Some(d)) => z && (r - d).abs() >= 0.5,
            _ => z,
        }
    }

    /// The change as procurement reads it: "+1,024 H100" for a tranche in GPUs, "−1.2B tok/min"
    /// otherwise ("no change" where the plans agree).
    pub fn change_text(&self) -> String {
        if !self.differs() {
            return "no change".into();
        }
        let sign = |v: f64| if v > 0.0 { "+" } else { "\u{2212}" };
        match (self.robust_gpus_reserved, self.deterministic_gpus_reserved) {
            (Some(r), Some(d)) => {
                let gpu = if self.gpu.is_empty() {
                    "GPUs"
                } else {
                    &self.gpu
                };
                format!("{}{} {gpu}", sign(r - d), grouped((r - d).abs()))
            }
            _ => format!(
                "{}{} tok/min",
                sign(self.change_tpm),
                human(self.change_tpm.abs())
            ),
        }
    }
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
    /// Every planning sample re-planned (`--evpi`; 0 without).
    pub evpi_seconds: f64,
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
    /// With `--evpi`: mean total of the robust plan − mean of the re-planned optima, in sample.
    pub evpi: Option<f64>,
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
        figure(&self.figures, plan, set)
    }

    /// What the charts are drawn from: every number as the files write it (12 significant
    /// digits), so `capplan chart` reading the files back draws the same bytes.
    pub fn tables(&self) -> Tables {
        let w = |x: f64| as_written(x);
        let o = |x: Option<f64>| x.map(as_written);
        let rows = (self.rows.iter())
            .map(|r| SampleRow {
                robust_total: w(r.robust_total),
                robust_spend: w(r.robust_spend),
                robust_unserved_tokens: w(r.robust_unserved_tokens),
                deterministic_total: w(r.deterministic_total),
                deterministic_spend: w(r.deterministic_spend),
                deterministic_unserved_tokens: w(r.deterministic_unserved_tokens),
                replanned_total: o(r.replanned_total),
                ..r.clone()
            })
            .collect();
        let hedge = (self.hedge.iter())
            .map(|h| HedgeRow {
                robust_reserved_tpm: w(h.robust_reserved_tpm),
                deterministic_reserved_tpm: w(h.deterministic_reserved_tpm),
                change_tpm: w(h.change_tpm),
                change_commit_cost: w(h.change_commit_cost),
                change_used_in_pct: o(h.change_used_in_pct),
                change_capacity_used_pct: o(h.change_capacity_used_pct),
                robust_gpus_reserved: o(h.robust_gpus_reserved),
                deterministic_gpus_reserved: o(h.deterministic_gpus_reserved),
                ..h.clone()
            })
            .collect();
        Tables {
            sweep: self.sweep.clone(),
            scenario: self.scenario.clone(),
            kind: self.kind.clone(),
            settings: self.settings.clone(),
            evpi: self.evpi.map(as_written),
            figures: self.figures.clone(),
            rows,
            hedge,
        }
    }
}

/// A number as the CSV and JSON files write it and a reader gets it back.
fn as_written(x: f64) -> f64 {
    crate::units::fixed(x).parse().unwrap_or(x)
}

fn figure<'a>(figures: &'a [PlanFigures], plan: &str, set: &str) -> &'a PlanFigures {
    figures
        .iter()
        .find(|f| f.plan == plan && f.set == set)
        .expect("every plan has in-sample figures")
}

/// The tables of a robust folder the charts are drawn from: what `robust.json`, `robust.csv` and
/// `robust_hedge.csv` carry.
#[derive(Debug, Clone, PartialEq)]
pub struct Tables {
    pub sweep: String,
    pub scenario: String,
    pub kind: String,
    pub settings: Settings,
    pub evpi: Option<f64>,
    /// robust then deterministic; in sample, then holdout when there is one.
    pub figures: Vec<PlanFigures>,
    pub rows: Vec<SampleRow>,
    pub hedge: Vec<HedgeRow>,
}

impl Tables {
    pub fn figure(&self, plan: &str, set: &str) -> Option<&PlanFigures> {
        self.figures.iter().find(|f| f.plan == plan && f.set == set)
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
        evpi: o.evpi || table.evpi.unwrap_or(false),
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

/// A held run of one sample, each figure as the files write it.
struct Held {
    total: f64,
    spend: f64,
    unserved: f64,
    /// Per tranche of the base scenario (planning samples only; empty on the holdout): where
    /// this plan reserves more than the other, the share of the difference's capacity-time its
    /// flow uses (0 to 1; 0 where it reserves no more).
    extra_used: Vec<f64>,
}

/// Flow within this much of a reservation is at it (solver noise), tokens per minute: a
/// millionth of the tranche's capacity in the period, and at least one token per minute.
fn noise(available: f64) -> f64 {
    (available * 1e-6).max(1.0)
}

/// Of the capacity one plan reserves on a tranche beyond the other's, the share its flow uses
/// over the periods: Σt Δt·min(flow − z_other·A, (z − z_other)·A)⁺ / Σt Δt·(z − z_other)·A, each
/// period's use counted beyond solver noise. 0 where there is no such capacity.
fn extra_used(flow: &[f64], available: &[f64], minutes: &[f64], z: f64, z_other: f64) -> f64 {
    if z <= z_other {
        return 0.0;
    }
    let (mut used, mut extra) = (0.0, 0.0);
    for ((&f, &a), &dt) in flow.iter().zip(available).zip(minutes) {
        let beyond = f - z_other * a;
        if beyond > noise(a) {
            used += dt * beyond.min((z - z_other) * a);
        }
        extra += dt * (z - z_other) * a;
    }
    if extra > 0.0 {
        (used / extra).clamp(0.0, 1.0)
    } else {
        0.0
    }
}

/// Both plans' reservations per tranche of the base scenario, for `Held::extra_used`.
struct Other<'a> {
    names: &'a [String],
    /// This plan's and the other plan's z per base tranche.
    z: &'a [f64],
    other_z: &'a [f64],
    /// Planning samples: ids below this.
    planning: usize,
}

fn hold_all(
    scenarios: &[Scenario],
    signed: &SignedPlan,
    emergency: bool,
    solver: crate::model::solve::SolverKind,
    other: &Other,
) -> Result<Vec<Held>> {
    scenarios
        .par_iter()
        .enumerate()
        .map(|(i, s)| {
            let planning = Planning::of(s.clone());
            let solved = planning.hold(signed, emergency, solver)?;
            let m = &solved.report.summary;
            let mut used = Vec::new();
            if i < other.planning {
                // Flow per (tranche of this sample, period), then each base tranche by name.
                let facts = &planning.facts;
                let mut flow = vec![vec![0.0; facts.period_count()]; s.tranches.len()];
                for f in &solved.plan.flows {
                    flow[f.tranche.0][f.period.0] += f.tokens_per_minute;
                }
                used = (other.names.iter().zip(other.z).zip(other.other_z))
                    .map(|((name, &z), &z_other)| {
                        let Some(k) = s.tranches.iter().position(|t| t.name == *name) else {
                            return 0.0;
                        };
                        let available: Vec<f64> =
                            facts.available_tpm.iter().map(|row| row[k]).collect();
                        let minutes = &facts.period_minutes;
                        extra_used(&flow[k], &available, minutes, z, z_other)
                    })
                    .collect();
            }
            Ok(Held {
                total: round12(m.objective),
                spend: round12(m.cost),
                unserved: round12(m.unserved_tokens),
                extra_used: used,
            })
        })
        .collect()
}

fn figures(plan: &str, set: &str, held: &[Held], s: &Settings) -> PlanFigures {
    let total: Vec<f64> = held.iter().map(|h| h.total).collect();
    let spend: Vec<f64> = held.iter().map(|h| h.spend).collect();
    let unserved: Vec<f64> = held.iter().map(|h| h.unserved).collect();
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
    // Refused before the base is planned (minutes, with waiting tokens under a share cap).
    let base = crate::pipeline::Planning::load(&sweep.scenario, &Default::default())?;
    crate::model::robust::check_waiting(&base.facts, &base.scenario.policy, settings.emergency)?;
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
    let names: Vec<String> = base
        .scenario
        .tranches
        .iter()
        .map(|t| t.name.clone())
        .collect();
    let robust_z = z_of(&report, &base.facts, &base.scenario);
    let hold = |signed: &SignedPlan, z: &[f64], other_z: &[f64]| {
        let other = Other {
            names: &names,
            z,
            other_z,
            planning: n,
        };
        hold_all(&scenarios, signed, settings.emergency, solver, &other)
    };
    let robust_held = hold(&robust_signed, &robust_z, &det_z)?;
    let det_held = hold(&det_signed, &det_z, &robust_z)?;
    timings.hold_seconds = lap(&mut clock);

    // Each planning sample re-planned on its own: the robust problem with that one sample (its
    // R is its total whatever W), from the robust plan's z. The search stops within a relative
    // gap of 1e-9, so where it ends above the sample's total under the robust plan (which the
    // same z set holds) the lower of the two is the optimum found: EVPI ≥ 0 by construction.
    let replanned: Option<Vec<f64>> = if settings.evpi {
        progress("re-planning every sample on its own (EVPI)");
        let options = RobustOptions {
            risk_weight: 0.0,
            cvar_alpha: settings.cvar_alpha,
            emergency: settings.emergency,
            whole_blocks: true,
            cuts: Default::default(),
        };
        let optima = scenarios[..n]
            .par_iter()
            .zip(&robust_held[..n])
            .map(|(s, held)| {
                let facts = Facts::of(s);
                let one = crate::model::robust::solve(
                    &base.facts,
                    &[(s, &facts)],
                    options,
                    Some(&robust_z),
                )?;
                Ok(round12(one.totals[0]).min(held.total))
            })
            .collect::<Result<Vec<f64>>>()?;
        Some(optima)
    } else {
        None
    };
    timings.evpi_seconds = lap(&mut clock);

    let rows: Vec<SampleRow> = (0..all as usize)
        .map(|i| SampleRow {
            set: if i < n { "in_sample" } else { "holdout" }.into(),
            id: i as u64,
            flags: flags[i].clone(),
            robust_total: robust_held[i].total,
            robust_spend: robust_held[i].spend,
            robust_unserved_tokens: robust_held[i].unserved,
            deterministic_total: det_held[i].total,
            deterministic_spend: det_held[i].spend,
            deterministic_unserved_tokens: det_held[i].unserved,
            replanned_total: replanned.as_ref().and_then(|r| r.get(i).copied()),
        })
        .collect();
    let evpi = replanned.as_ref().map(|r| {
        let mean = |v: &mut dyn Iterator<Item = f64>| v.sum::<f64>() / n as f64;
        mean(&mut robust_held[..n].iter().map(|h| h.total)) - mean(&mut r.iter().copied())
    });
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
    let features = Features::of(
        &(0..n as u64)
            .map(|id| prep.flags_of(id))
            .collect::<Vec<_>>(),
        kind,
    );
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
            let mut row = HedgeRow {
                tranche: c.tranche.clone(),
                provider: c.provider.clone(),
                region: c.region.clone(),
                robust_reserved_fraction: c.reserved_fraction,
                deterministic_reserved_fraction: d.reserved_fraction,
                robust_reserved_tpm: c.reserved_tpm,
                deterministic_reserved_tpm: d.reserved_tpm,
                change_tpm: round12(c.reserved_tpm - d.reserved_tpm),
                change_commit_cost: round12(c.commit_cost - d.commit_cost),
                change_used_in_pct: None,
                change_capacity_used_pct: None,
                why: String::new(),
                gpu: c.gpu.clone(),
                robust_gpus_reserved: c.gpus_reserved,
                deterministic_gpus_reserved: d.gpus_reserved,
            };
            if !row.differs() {
                // Read-back noise only: the same reservation.
                (row.change_tpm, row.change_commit_cost) = (0.0, 0.0);
            } else {
                // Where the robust plan reserves more, the samples whose robust dispatch uses the
                // extra; where less, those whose deterministic dispatch uses what it cut.
                let k = names.iter().position(|t| *t == c.tranche)?;
                let more = c.reserved_fraction > d.reserved_fraction;
                let held = if more { &robust_held } else { &det_held };
                let used: Vec<f64> = held[..n].iter().map(|h| h.extra_used[k]).collect();
                let pct = |v: f64| round12(v / n as f64 * 100.0);
                row.change_used_in_pct =
                    Some(pct(used.iter().filter(|u| **u > 0.0).count() as f64));
                row.change_capacity_used_pct = Some(pct(used.iter().sum::<f64>()));
                row.why = hedge_words(&row, more, &used, &features);
            }
            Some(row)
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
        evpi,
        plan: report,
    })
}

/// What each planning sample has, for the hedge in words: its outages (by provider), its demand
/// multiplier above the samples' median, and (a grid) its other what-ifs.
struct Features {
    /// Every feature's words, e.g. "an outage at azure", in a fixed order (demand first, then by
    /// name).
    names: Vec<String>,
    /// [sample][feature]
    has: Vec<Vec<bool>>,
    /// "outage or demand draw" (risk) or "what-if" (grid): what the features are.
    what: &'static str,
}

impl Features {
    fn of(flags: &[crate::load::flags::Flags], kind: &str) -> Features {
        let per_sample: Vec<(Option<f64>, Vec<String>)> = flags
            .iter()
            .map(|f| {
                let mut scale = None;
                let mut named = Vec::new();
                for v in f.values() {
                    match v.flag.as_str() {
                        "--demand-scale" => scale = v.value.parse::<f64>().ok(),
                        "--outage" => {
                            let who = v.value.split('@').next().unwrap_or_default();
                            let provider = who.split('/').next().unwrap_or_default();
                            named.push(format!("an outage at {provider}"));
                        }
                        _ => named.push(format!("`{} {}`", v.flag, v.value)),
                    }
                }
                (scale, named)
            })
            .collect();
        let mut names: Vec<String> = per_sample.iter().flat_map(|s| s.1.clone()).collect();
        names.sort();
        names.dedup();
        // Demand above the median: only where the samples' demand differs.
        let scales: Vec<f64> = per_sample.iter().map(|s| s.0.unwrap_or(1.0)).collect();
        let median = nearest_rank(&sorted(scales.iter().copied()), 50).unwrap_or(1.0);
        let demand = scales.iter().any(|s| *s > median);
        if demand {
            names.insert(0, "demand above the samples' median".into());
        }
        let has = per_sample
            .iter()
            .zip(&scales)
            .map(|((_, named), scale)| {
                let mut row = Vec::with_capacity(names.len());
                if demand {
                    row.push(*scale > median);
                }
                row.extend(
                    names[usize::from(demand)..]
                        .iter()
                        .map(|f| named.contains(f)),
                );
                row
            })
            .collect();
        Features {
            names,
            has,
            what: if kind == "risk" {
                "outage or demand draw"
            } else {
                "what-if"
            },
        }
    }
}

/// A feature is named when the change's capacity is used at least this much more (10 percentage
/// points of its capacity-time) in the samples with it (or without it) than in the rest.
const MIN_LIFT: f64 = 0.1;

/// A share in percent as a sentence says it: whole percents, except that some is never "0%"
/// ("0.1%") and less than all never "100%" ("99.9%").
fn share(pct: f64) -> String {
    let whole = pct.round();
    if pct > 0.0 && whole == 0.0 {
        format!("{:.1}%", ((pct * 10.0).ceil() / 10.0).max(0.1))
    } else if pct < 100.0 && whole == 100.0 {
        format!("{:.1}%", (pct * 10.0).floor() / 10.0)
    } else {
        format!("{whole:.0}%")
    }
}

/// The hedge of one tranche in words: what the robust plan changes, in how many planning
/// samples and how much of it the plan that has it uses (`used`: the share of the change's
/// capacity-time used, per sample), and the feature (an outage, demand above the median, a
/// what-if) whose presence or absence goes with the most more use than in the rest of the
/// samples, when that is `MIN_LIFT` or more.
fn hedge_words(row: &HedgeRow, more: bool, used: &[f64], f: &Features) -> String {
    let amount = row.change_text();
    let amount = amount.trim_start_matches(['+', '\u{2212}']);
    let at = format!("{}/{}", row.provider, row.region);
    let n = used.len();
    let mean = |v: &mut dyn Iterator<Item = f64>| {
        let (sum, count) = v.fold((0.0, 0usize), |(s, c), x| (s + x, c + 1));
        sum / count.max(1) as f64
    };
    let mut out = if more {
        format!("adds {amount} at {at}: the extra is used in ")
    } else {
        format!("cuts {amount} at {at}: the deterministic plan uses that capacity in ")
    };
    let u = used.iter().filter(|x| **x > 0.0).count();
    match u {
        0 => {
            out.push_str("no planning sample");
            return out;
        }
        u if u == n => out.push_str("every planning sample"),
        u => out.push_str(&format!(
            "{} of the planning samples",
            share(u as f64 / n as f64 * 100.0)
        )),
    }
    let all = mean(&mut used.iter().copied());
    out.push_str(&format!(
        ", {} of its capacity-time on average",
        share(all * 100.0)
    ));
    // The feature whose presence (or absence) goes with the most more use than the rest has:
    // (feature, "with" or "without", use there, use in the rest).
    let mut best: Option<(usize, &str, f64, f64)> = None;
    for j in 0..f.names.len() {
        let with = f.has.iter().filter(|h| h[j]).count();
        if with == 0 || with == n {
            continue;
        }
        let of = |want: bool| {
            let mut v = (f.has.iter().zip(used))
                .filter(|(h, _)| h[j] == want)
                .map(|x| *x.1);
            mean(&mut v)
        };
        let (yes, no) = (of(true), of(false));
        for c in [(j, "with", yes, no), (j, "without", no, yes)] {
            if best.is_none_or(|b| c.2 - c.3 > b.2 - b.3) {
                best = Some(c);
            }
        }
    }
    match best {
        Some((j, how, there, rest)) if there - rest >= MIN_LIFT => out.push_str(&format!(
            "; {} in samples {how} {} against {} in the rest",
            share(there * 100.0),
            f.names[j],
            share(rest * 100.0),
        )),
        _ => out.push_str(&format!(
            "; no single {} changes that by 10 points or more",
            f.what
        )),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shares_never_round_to_none_or_all() {
        assert_eq!(share(31.2), "31%");
        assert_eq!(share(0.04), "0.1%");
        assert_eq!(share(0.0), "0%");
        assert_eq!(share(99.97), "99.9%");
        assert_eq!(share(100.0), "100%");
    }

    /// Whole-block z read back differ in the 16th digit (frontier-2026-gpus: 0.800000000000001
    /// and 0.8000000000000017 of 1,280 H100, both 1,024): no change. One block of 8 more is one.
    #[test]
    fn read_back_noise_is_no_change() {
        let row = HedgeRow {
            robust_reserved_fraction: 0.800000000000001,
            deterministic_reserved_fraction: 0.8000000000000017,
            gpu: "H100".into(),
            robust_gpus_reserved: Some(1024.0),
            deterministic_gpus_reserved: Some(1024.0),
            ..HedgeRow::default()
        };
        assert!(!row.differs());
        assert_eq!(row.change_text(), "no change");
        let more = HedgeRow {
            robust_reserved_fraction: 0.80625,
            robust_gpus_reserved: Some(1032.0),
            ..row
        };
        assert!(more.differs());
        assert_eq!(more.change_text(), "+8 H100");
    }

    /// Two periods of 60 and 120 minutes; 10M tok/min available in each. This plan reserves 0.8,
    /// the other 0.5: 3M tok/min more in each period, 3M·60 + 3M·120 = 540M tokens of
    /// capacity-time. Flow 6M (1M above the other's 5M) in the first, 9M (all 3M above) in the
    /// second: (1M·60 + 3M·120) / 540M = 420 / 540.
    #[test]
    fn the_extra_capacity_time_used_by_hand() {
        let (available, minutes) = ([10e6, 10e6], [60.0, 120.0]);
        let used = extra_used(&[6e6, 9e6], &available, &minutes, 0.8, 0.5);
        assert!((used - 420.0 / 540.0).abs() < 1e-12, "{used}");
        // Flow at the other plan's reservation, or within noise of it (10 tok/min, a millionth
        // of the capacity), uses none of it.
        assert_eq!(extra_used(&[5e6, 5e6], &available, &minutes, 0.8, 0.5), 0.0);
        let noise = extra_used(&[5e6 + 9.0, 5e6], &available, &minutes, 0.8, 0.5);
        assert_eq!(noise, 0.0);
        // A plan that reserves no more has no extra.
        assert_eq!(extra_used(&[9e6, 9e6], &available, &minutes, 0.5, 0.8), 0.0);
    }

    /// Four samples; the extra is used (fully) in the two with an azure outage and a little in
    /// one more: 100% with it, 25% without (a lift of 75 points), 62.5% on average.
    #[test]
    fn the_hedge_names_the_feature_its_use_goes_with() {
        let f = Features {
            names: vec!["an outage at aws".into(), "an outage at azure".into()],
            has: vec![
                vec![false, true],
                vec![true, true],
                vec![false, false],
                vec![true, false],
            ],
            what: "outage or demand draw",
        };
        let row = HedgeRow {
            provider: "oracle".into(),
            region: "us".into(),
            robust_reserved_fraction: 1.0,
            deterministic_reserved_fraction: 0.5,
            change_tpm: 2e9,
            gpu: "H100".into(),
            robust_gpus_reserved: Some(2048.0),
            deterministic_gpus_reserved: Some(1024.0),
            ..HedgeRow::default()
        };
        let words = hedge_words(&row, true, &[1.0, 1.0, 0.0, 0.5], &f);
        assert_eq!(
            words,
            "adds 1,024 H100 at oracle/us: the extra is used in 75% of the planning samples, 63% of its capacity-time on average; 100% in samples with an outage at azure against 25% in the rest"
        );
        // Used only where aws has no outage: named by the feature's absence.
        let words = hedge_words(&row, false, &[1.0, 0.0, 1.0, 0.0], &f);
        assert!(
            words.ends_with("; 100% in samples without an outage at aws against 0% in the rest"),
            "{words}"
        );
        assert!(words.starts_with("cuts 1,024 H100 at oracle/us: the deterministic plan uses"));
        // Used alike everywhere: no feature is named.
        let words = hedge_words(&row, true, &[0.5; 4], &f);
        assert!(
            words.ends_with("every planning sample, 50% of its capacity-time on average; no single outage or demand draw changes that by 10 points or more"),
            "{words}"
        );
        assert!(hedge_words(&row, true, &[0.0; 4], &f).ends_with("used in no planning sample"));
    }
}
