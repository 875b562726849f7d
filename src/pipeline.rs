//! The pipeline end to end (load → facts → model → solve → plan → report), timed stage by stage,
//! so every command, the tests and the benchmarks run exactly the same steps.
//!
//! A [`Planning`] is a scenario loaded once with its facts and warnings; every command plans
//! (`Planning::plan`: reservations decided) and holds (`Planning::hold`: a signed plan's
//! reservations fixed, `run --reservations-from`, compare's held columns, stress tests, risk
//! samples) through it, and gets a [`Solved`]: the plan, its report and the timings. The signed
//! plan of a solved run (`Solved::signed_plan`) is passed on in memory.

use std::path::{Path, PathBuf};
use std::time::Instant;

use crate::error::{Diagnostic, Error, Result};
use crate::facts::{Facts, RegionId};
use crate::load::flags::Flags;
use crate::load::signed::SignedPlan;
use crate::model::held::Held;
use crate::model::solve::{Method, Solve, SolverKind};
use crate::model::BuildOptions;
use crate::plan::{Plan, ShortfallCause, Unserved};
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
    /// The method the plan was solved by (`monolithic`, `decomposed`, or `min-cost flow` for a
    /// held dispatch), and how the decomposition converged.
    pub method: String,
    pub decomposition: Option<crate::model::decompose::Convergence>,
    /// Set when the method asked for could not be trusted and another solved the plan: why.
    pub fallback: Option<String>,
}

/// What to solve: the backend, and optionally a signed plan to hold.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOptions {
    pub solver: SolverKind,
    pub method: Method,
    /// The output folder of an earlier run whose reservations are held.
    pub reservations_from: Option<PathBuf>,
    /// With a held plan: drop the share cap and N-1 (the rules of a stress test).
    pub emergency: bool,
    /// What-ifs from the command line, one more level after the scenario's own.
    pub flags: Flags,
    /// Find each shortfall's cause (two more dispatches when there is a shortfall).
    pub explain_shortfalls: bool,
    /// Solve the LP relaxation: reservations in GPUs need not be whole blocks.
    pub relax: bool,
}

impl RunOptions {
    pub fn plan(solver: SolverKind) -> RunOptions {
        RunOptions {
            solver,
            method: Method::Auto,
            reservations_from: None,
            emergency: false,
            flags: Flags::default(),
            explain_shortfalls: false,
            relax: false,
        }
    }
}

/// A scenario solved as `run` solves it: the context, the plan, its report and the timings.
pub struct Outcome {
    pub scenario: Scenario,
    pub facts: Facts,
    pub warnings: Vec<Diagnostic>,
    pub plan: Plan,
    pub report: Report,
    pub timings: Timings,
}

/// Solves a loaded scenario: facts, model, solve, plan, report. With `held`, the reservations are
/// fixed to the held plan's (emergency rules as `held.from.emergency` says).
pub fn solve_scenario(
    scenario: &Scenario,
    facts: &Facts,
    how: impl Into<Solve>,
    held: Option<&Held>,
    timings: &mut Timings,
) -> Result<(Plan, Report)> {
    let plan = solve_plan(scenario, facts, how, held, timings)?;
    let t = Instant::now();
    let report = crate::report::build::build(scenario, facts, &plan);
    timings.report_seconds += t.elapsed().as_secs_f64();
    Ok((plan, report))
}

/// The most flow variables a model may have unless `CAPPLAN_MAX_FLOW_VARIABLES` raises it: 200
/// times the bundled frontier-2026-hourly (245,088 flow variables: 1.2 s and 49 MB on the 2-core
/// development machine, about 200 bytes a flow variable), so some 10 GB at that rate.
pub const MAX_FLOW_VARIABLES: u64 = 50_000_000;

/// The variable that raises (or lowers) [`MAX_FLOW_VARIABLES`].
pub const MAX_FLOW_VARIABLES_VAR: &str = "CAPPLAN_MAX_FLOW_VARIABLES";

/// The flow variables of a scenario's model: one per tranche, demand class and period where the
/// tranche is available and may serve the class (its route and model allow it). The LP and the
/// period networks have one flow each; deferral adds more.
pub fn flow_variables(facts: &Facts) -> u64 {
    let serves: Vec<u64> = facts
        .tranches
        .iter()
        .map(|k| facts.classes.iter().filter(|c| k.serves(c)).count() as u64)
        .collect();
    facts
        .available_tpm
        .iter()
        .map(|period| {
            period
                .iter()
                .zip(&serves)
                .filter(|(a, _)| **a > 0.0)
                .map(|(_, n)| n)
                .sum::<u64>()
        })
        .sum()
}

/// Refuses, before anything is built, a model too large to solve in a machine's memory and time,
/// naming its sizes and how to make it smaller or raise the limit.
pub fn check_size(facts: &Facts) -> Result<()> {
    let limit = match std::env::var(MAX_FLOW_VARIABLES_VAR) {
        Err(_) => MAX_FLOW_VARIABLES,
        Ok(v) => v.trim().parse::<u64>().map_err(|_| {
            Error::Usage(format!(
                "{MAX_FLOW_VARIABLES_VAR}={v}: expected a whole number of flow variables, such as {MAX_FLOW_VARIABLES}"
            ))
        })?,
    };
    let flows = flow_variables(facts);
    if flows <= limit {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "the model would have {flows} flow variables (up to {} periods × {} tranches × {} demand classes, where a tranche is available and may serve the class), more than the limit of {limit} (at about 200 bytes each, some {} of memory; the bundled frontier-2026-hourly has 245,088). Use longer periods (hourly → daily), fewer tranches or demand regions, or raise the limit with {MAX_FLOW_VARIABLES_VAR}={}",
        facts.available_tpm.len(),
        facts.tranches.len(),
        facts.classes.len(),
        memory_of(flows),
        flows
    )))
}

/// The memory of `flows` flow variables at about 200 bytes each, for messages (`12.0 GB`).
fn memory_of(flows: u64) -> String {
    let bytes = flows as f64 * 200.0;
    if bytes >= 1e9 {
        format!("{:.1} GB", bytes / 1e9)
    } else if bytes >= 1e6 {
        format!("{:.0} MB", bytes / 1e6)
    } else {
        format!("{:.0} KB", (bytes / 1e3).ceil())
    }
}

/// Model, solve and plan (no report).
pub fn solve_plan(
    scenario: &Scenario,
    facts: &Facts,
    how: impl Into<Solve>,
    held: Option<&Held>,
    timings: &mut Timings,
) -> Result<Plan> {
    check_size(facts)?;
    let how: Solve = how.into();
    let options = match held {
        None => BuildOptions {
            whole_blocks: !how.relax,
            ..BuildOptions::plan(facts, &scenario.policy)
        },
        Some(h) => BuildOptions::held(facts, &scenario.policy, h.z.clone(), h.from.emergency),
    };
    let method = how.method.resolve(facts.defers() && options.share_cap)?;
    if crate::model::extract::is_network(&options) {
        // A held dispatch: every period is exactly a min-cost flow, no LP needed (the same plan,
        // tested against the LP); with deferral, one LP of the whole horizon.
        let plan = crate::model::extract::dispatch_plan(
            scenario,
            facts,
            &options,
            &scenario.policy,
            held,
            how.solver,
        )?;
        timings.solve_seconds = plan.solve_seconds;
        timings.method = if facts.defers() && options.share_cap {
            Method::Monolithic.name().into()
        } else {
            "min-cost flow".into()
        };
        return Ok(plan);
    }
    timings.method = method.name().into();
    if facts.defers() && method == Method::Monolithic {
        // The monolithic LP with deferral is the plan, and microlp's simplex its only fallback
        // (the decomposition carries deferral only without a share cap: `Method::resolve`). Clarabel solves no mixed-integer program, so
        // whole blocks go to the simplex's branch and bound (exact, slow beyond a few thousand
        // columns).
        let mixed_integer =
            options.whole_blocks && facts.tranches.iter().any(|f| f.reservation_step.is_some());
        let solver = if mixed_integer && how.solver == SolverKind::Clarabel {
            timings.fallback = Some(
                "clarabel solves linear programs only, and whole blocks make this one mixed-integer; solved by microlp's branch and bound instead".into(),
            );
            SolverKind::Microlp
        } else {
            how.solver
        };
        return match solve_monolithic(scenario, facts, &options, solver, held, timings) {
            // A backend that stops short of an optimum (an interior point's AlmostSolved): the
            // simplex, exact and slower, is the one method left.
            Err(crate::Error::Solver(why)) if solver != SolverKind::Microlp => {
                timings.fallback = Some(format!(
                    "monolithic {}: {why}; solved by microlp instead",
                    solver.name()
                ));
                let microlp = SolverKind::Microlp;
                solve_monolithic(scenario, facts, &options, microlp, held, timings)
            }
            other => other,
        };
    }
    if method == Method::Monolithic {
        match solve_monolithic(scenario, facts, &options, how.solver, held, timings) {
            Ok(plan) => return Ok(plan),
            // A backend that fails numerically, or returns a plan that is not its optimum, is
            // not the end of the run: the decomposition solves every valid input exactly.
            Err(crate::Error::Solver(why)) => {
                timings.fallback = Some(format!(
                    "monolithic {}: {why}; solved by decomposition instead",
                    how.solver.name()
                ));
                timings.method = Method::Decomposed.name().into();
            }
            Err(e) => return Err(e),
        }
    }
    solve_decomposed(scenario, facts, &options, None, held, "decomposed", timings)
}

/// The plan by decomposition (from `start` when given), read back exactly.
fn solve_decomposed(
    scenario: &Scenario,
    facts: &Facts,
    options: &BuildOptions,
    start: Option<&[f64]>,
    held: Option<&Held>,
    solver: &str,
    timings: &mut Timings,
) -> Result<Plan> {
    let t = Instant::now();
    let decomposed = crate::model::decompose::solve(scenario, facts, options, start)?;
    let seconds = t.elapsed().as_secs_f64();
    timings.solve_seconds += seconds;
    let whole_blocks =
        decomposed
            .relaxation_objective
            .map(|relaxation_objective| crate::plan::WholeBlocks {
                relaxation_objective,
                mip_gap: decomposed.convergence.relative_gap,
            });
    timings.decomposition = Some(decomposed.convergence);
    let t = Instant::now();
    let mut plan = crate::model::extract::plan_from_z(
        scenario,
        facts,
        options,
        &scenario.policy,
        decomposed.z,
        held,
        // The networks read z back: no LP backend is used.
        (solver, SolverKind::default_kind()),
        timings.solve_seconds,
    )?;
    plan.whole_blocks = whole_blocks;
    timings.report_seconds += t.elapsed().as_secs_f64();
    Ok(plan)
}

/// Relative difference between a backend's reported optimum and the exact one above which the
/// backend is not trusted.
const MONOLITHIC_TOLERANCE: f64 = 1e-6;

/// The monolithic LP solved by one backend and read back without the decomposition's polish:
/// the backend's reported optimum ($) and its plan. The independent reference the tests hold the
/// decomposition to.
pub fn lp_reference(scenario: &Scenario, facts: &Facts, solver: SolverKind) -> Result<(f64, Plan)> {
    let model = crate::model::build(scenario, facts, BuildOptions::plan(facts, &scenario.policy));
    let solved = crate::model::solve::solve(&model, solver)?;
    let optimum = solved.objective_units * model.scale().dollars_per_objective_unit;
    let plan = crate::model::extract::plan(scenario, facts, &model, &solved, None)?;
    Ok((optimum, plan))
}

/// The whole LP by one backend, its reservations polished into an exact vertex by the
/// decomposition started from them (a crossover: an interior point's z carries noise near 1e-8,
/// a simplex's near 1e-12), read back exactly; an error when the backend fails, or when the
/// exact optimum is below the optimum the backend reported by more than the tolerance (the
/// backend stopped off its optimum).
fn solve_monolithic(
    scenario: &Scenario,
    facts: &Facts,
    options: &BuildOptions,
    solver: SolverKind,
    held: Option<&Held>,
    timings: &mut Timings,
) -> Result<Plan> {
    let t = Instant::now();
    let model = crate::model::build(scenario, facts, options.clone());
    timings.build_seconds = t.elapsed().as_secs_f64();
    timings.variables = model.columns.len();
    timings.constraints = model.rows.len();
    timings.nonzeros = model.nonzeros();
    let solved = crate::model::solve::solve(&model, solver)?;
    timings.solve_seconds = solved.seconds;
    let optimum = solved.objective_units * model.scale().dollars_per_objective_unit;
    if crate::model::extract::is_network(options) {
        return crate::model::extract::plan(scenario, facts, &model, &solved, held);
    }
    let z = crate::model::extract::solver_fractions(facts, &model, &solved);
    let plan = if facts.defers() {
        // No decomposition to polish z with: z is cleaned and the dispatch given it re-solved as
        // the whole horizon's LP by the same backend (`extract::plan_from_z`).
        let t = Instant::now();
        let mut plan = crate::model::extract::plan_from_z(
            scenario,
            facts,
            options,
            &scenario.policy,
            z,
            held,
            (solver.name(), solver),
            solved.seconds,
        )?;
        plan.whole_blocks = whole_blocks_of(scenario, facts, options, &model, solver)?;
        timings.report_seconds += t.elapsed().as_secs_f64();
        plan
    } else {
        solve_decomposed(
            scenario,
            facts,
            options,
            Some(&z),
            held,
            solver.name(),
            timings,
        )?
    };
    let below = (optimum - plan.objective) / plan.objective.abs().max(1.0);
    // NaN (a backend's NaN optimum) fails too.
    let trusted = below <= MONOLITHIC_TOLERANCE;
    if !trusted {
        return Err(crate::Error::Solver(format!(
            "its reported optimum {optimum} is above the exact optimum {}",
            plan.objective
        )));
    }
    Ok(plan)
}

/// With deferral and whole blocks (a mixed-integer LP solved whole): the LP relaxation's optimum
/// (one more solve, fractional reservations) and the search's gap, which the backends close to
/// 0 (microlp proves optimality) or to at most 1e-9 (HiGHS, `solve::solve_lp`). None without
/// whole blocks.
fn whole_blocks_of(
    scenario: &Scenario,
    facts: &Facts,
    options: &BuildOptions,
    model: &crate::model::Model,
    solver: SolverKind,
) -> Result<Option<crate::plan::WholeBlocks>> {
    if !model.columns.iter().any(|c| c.integer) {
        return Ok(None);
    }
    let relaxed = crate::model::build(
        scenario,
        facts,
        BuildOptions {
            whole_blocks: false,
            ..options.clone()
        },
    );
    // The relaxation is a plain LP: the run's backend, Clarabel included, solves it.
    let backend = if solver == SolverKind::Microlp {
        SolverKind::default_kind()
    } else {
        solver
    };
    let solved = crate::model::solve::solve(&relaxed, backend)?;
    Ok(Some(crate::plan::WholeBlocks {
        relaxation_objective: solved.objective_units * relaxed.scale().dollars_per_objective_unit,
        mip_gap: if solver == SolverKind::Highs {
            1e-9
        } else {
            0.0
        },
    }))
}

/// Why each unserved cell of a plan is unserved, by the rule of `ShortfallCause`: the plan's
/// reservations are re-dispatched with the share cap off, then with the unserved penalty raised
/// above every price (share cap on); a cell whose shortfall the first removes is the share cap's,
/// the second the penalty's, else capacity's.
fn explain_shortfalls(
    scenario: &Scenario,
    facts: &Facts,
    plan: &mut Plan,
    emergency: bool,
    backend: SolverKind,
) -> Result<()> {
    if plan.unserved.is_empty() {
        return Ok(());
    }
    let z: Vec<f64> = plan
        .tranches
        .iter()
        .map(|t| {
            if t.has_reservation_decision {
                t.reserved_fraction
            } else {
                1.0
            }
        })
        .collect();
    // z is fixed: each re-dispatch is exact min-cost flow, no LP (with deferral, one LP by
    // `backend`).
    let redispatch = |s: &Scenario, facts: &Facts| -> Result<Plan> {
        let options = BuildOptions::held(facts, &s.policy, z.clone(), emergency);
        crate::model::extract::dispatch_plan(s, facts, &options, &s.policy, None, backend)
    };
    let still_unserved = |p: &Plan, u: &Unserved| {
        p.unserved
            .iter()
            .any(|v| v.period == u.period && v.class == u.class)
    };
    let cap_off = if scenario.policy.max_provider_share < 1.0 && !emergency {
        let mut s = scenario.clone();
        s.policy.max_provider_share = 1.0;
        Some(redispatch(&s, facts)?)
    } else {
        None
    };
    // Above every usage + route price a tranche can charge.
    let top_price = facts
        .tranches
        .iter()
        .flat_map(|f| (0..facts.regions.len()).filter_map(|r| f.flow_price(RegionId(r))))
        .fold(0.0, f64::max);
    let cheapest_penalty = facts
        .classes
        .iter()
        .map(|c| c.unserved_penalty)
        .fold(scenario.policy.unserved_penalty, f64::min);
    let penalty_up = if cheapest_penalty <= top_price {
        // Every demand class's penalty (a workload's own included) raised above every price.
        let raised = (top_price * 2.0).max(1.0);
        let mut s = scenario.clone();
        s.policy.unserved_penalty = s.policy.unserved_penalty.max(raised);
        let mut raised_facts = facts.clone();
        for class in &mut raised_facts.classes {
            class.unserved_penalty = class.unserved_penalty.max(raised);
        }
        Some(redispatch(&s, &raised_facts)?)
    } else {
        None
    };
    for u in &mut plan.unserved {
        let cause = if cap_off.as_ref().is_some_and(|p| !still_unserved(p, u)) {
            ShortfallCause::ShareCap
        } else if penalty_up.as_ref().is_some_and(|p| !still_unserved(p, u)) {
            ShortfallCause::Penalty
        } else {
            ShortfallCause::Capacity
        };
        u.cause = Some(cause);
    }
    Ok(())
}

/// A scenario ready to plan: loaded once (with the command line's what-ifs), its facts computed
/// once, and the warnings of both. Every command plans and holds through one.
pub struct Planning {
    pub scenario: Scenario,
    pub facts: Facts,
    /// The loader's warnings, then the facts' (empty for a scenario made in memory).
    pub warnings: Vec<Diagnostic>,
    /// The what-ifs from the command line, recorded in the report's summary.
    pub flags: Flags,
    load_seconds: f64,
}

/// How to solve: the backend and method, and whether to find each shortfall's cause (two more
/// dispatches when there is a shortfall; `run` does).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct How {
    pub solve: Solve,
    pub explain_shortfalls: bool,
    /// With deferral, plan the scenario once more with every max_delay at 0 and report the peak
    /// reservation and spend of both (`run` does; one extra solve).
    pub compare_without_deferral: bool,
}

impl<T: Into<Solve>> From<T> for How {
    fn from(solve: T) -> How {
        How {
            solve: solve.into(),
            explain_shortfalls: false,
            compare_without_deferral: false,
        }
    }
}

/// A plan with its report and the seconds each stage took.
pub struct Solved {
    pub plan: Plan,
    pub report: Report,
    pub timings: Timings,
}

impl Solved {
    /// The signed plan of this run, in memory, exactly as `--reservations-from` would read it back
    /// from the run's `commitments.csv`.
    pub fn signed_plan(&self) -> SignedPlan {
        let bytes = crate::report::write::commitments_csv(&self.report.commitments);
        SignedPlan::of_run(
            &self.report.summary.scenario,
            &self.report.commitments,
            &bytes,
        )
    }
}

impl Planning {
    /// Loads a scenario folder with the command line's what-if flags as one more level.
    pub fn load(folder: &Path, flags: &Flags) -> Result<Planning> {
        let t = Instant::now();
        let loaded = crate::load::load_with(folder, flags)?;
        let facts = Facts::of(&loaded.scenario);
        let mut warnings = loaded.warnings;
        warnings.extend(crate::validate::warnings(&loaded.scenario, &facts));
        Ok(Planning {
            scenario: loaded.scenario,
            facts,
            warnings,
            flags: flags.clone(),
            load_seconds: t.elapsed().as_secs_f64(),
        })
    }

    /// A scenario made in memory (a resilience plan, a stress test, a risk sample): its facts,
    /// no warnings.
    pub fn of(scenario: Scenario) -> Planning {
        let t = Instant::now();
        let facts = Facts::of(&scenario);
        Planning {
            scenario,
            facts,
            warnings: Vec::new(),
            flags: Flags::default(),
            load_seconds: t.elapsed().as_secs_f64(),
        }
    }

    /// Plans the scenario: reservations decided, load dispatched, the report.
    pub fn plan(&self, how: impl Into<How>) -> Result<Solved> {
        self.solve(how.into(), None, false)
    }

    /// Holds the reservations of a signed plan and dispatches this scenario with them; under
    /// `emergency` rules, without the share cap and N-1 (a stress test).
    pub fn hold(
        &self,
        signed: &SignedPlan,
        emergency: bool,
        how: impl Into<How>,
    ) -> Result<Solved> {
        self.solve(how.into(), Some(signed), emergency)
    }

    /// This context and a solve of it as one outcome.
    pub fn into_outcome(self, solved: Solved) -> Outcome {
        Outcome {
            scenario: self.scenario,
            facts: self.facts,
            warnings: self.warnings,
            plan: solved.plan,
            report: solved.report,
            timings: solved.timings,
        }
    }

    fn solve(&self, how: How, signed: Option<&SignedPlan>, emergency: bool) -> Result<Solved> {
        let (scenario, facts) = (&self.scenario, &self.facts);
        let mut timings = Timings {
            load_seconds: self.load_seconds,
            ..Timings::default()
        };
        let t = Instant::now();
        let held = match signed {
            Some(signed) => Some(crate::model::held::resolve(
                scenario, facts, signed, emergency,
            )?),
            None => None,
        };
        timings.load_seconds += t.elapsed().as_secs_f64();
        let mut plan = solve_plan(scenario, facts, how.solve, held.as_ref(), &mut timings)?;
        // Reading the plan back, explaining its shortfalls and building the report all count as
        // the report stage, so the stages add up to the run.
        let t = Instant::now();
        if how.explain_shortfalls {
            explain_shortfalls(scenario, facts, &mut plan, emergency, how.solve.solver)?;
        }
        let mut report = crate::report::build::build(scenario, facts, &plan);
        timings.report_seconds += t.elapsed().as_secs_f64();
        if how.compare_without_deferral && signed.is_none() && facts.defers() {
            // The same plan with nothing waiting: its own solve, timed as one.
            let without = crate::whatif::without_deferral(scenario.clone());
            let without_facts = Facts::of(&without);
            let mut without_timings = Timings::default();
            let baseline = solve_plan(
                &without,
                &without_facts,
                how.solve,
                None,
                &mut without_timings,
            )?;
            timings.solve_seconds += without_timings.solve_seconds;
            report.summary.deferral_effect = Some(crate::report::build::deferral_effect(
                facts,
                &plan,
                &without_facts,
                &baseline,
            ));
        }
        // The applied what-ifs are data of the run, not of the scenario.
        report.summary.whatif_flags = self.flags.values();
        Ok(Solved {
            plan,
            report,
            timings,
        })
    }
}

/// Loads a scenario folder with the what-if flags (`Planning::load`), as its parts.
pub fn load(folder: &Path, flags: &Flags) -> Result<(Scenario, Facts, Vec<Diagnostic>)> {
    let p = Planning::load(folder, flags)?;
    Ok((p.scenario, p.facts, p.warnings))
}

/// Loads and plans the scenario in `folder` as `run` plans it.
pub fn run(folder: &Path, solver: SolverKind) -> Result<Outcome> {
    run_with(folder, &RunOptions::plan(solver))
}

/// Loads and solves the scenario in `folder` as `run` does with these options: a plan, or a held
/// dispatch of the signed plan in `reservations_from`.
pub fn run_with(folder: &Path, options: &RunOptions) -> Result<Outcome> {
    let signed = match &options.reservations_from {
        Some(dir) => Some(crate::load::signed::read_signed_plan(dir)?),
        None => None,
    };
    let planning = Planning::load(folder, &options.flags)?;
    let how = How {
        solve: Solve {
            solver: options.solver,
            method: options.method,
            relax: options.relax,
        },
        explain_shortfalls: options.explain_shortfalls,
        compare_without_deferral: options.explain_shortfalls,
    };
    let solved = match &signed {
        Some(signed) => planning.hold(signed, options.emergency, how)?,
        None => planning.plan(how)?,
    };
    Ok(planning.into_outcome(solved))
}
