//! Model stage, robust plans: the reservations z chosen once for many sampled futures (a
//! two-stage stochastic program; spec, "Robust plans"). Sample s has its own scenario (the base
//! with the sample's what-ifs) and its own period networks; with z held, its total is
//!
//!   T_s(z) = C_s(z) + Q_s(z),
//!
//! C_s the commitment (linear in z) and Q_s the held dispatch's objective (usage, route, unserved
//! and, without emergency rules, resilience penalties), convex and piecewise linear in z. The
//! robust plan minimises R(z) = (1 − W)·mean_s T_s(z) + W·CVaR_α(T(z)) over the plan's z (bounds,
//! whole blocks). It is solved by cutting planes, with the decomposition's `Evaluator` per sample:
//!
//!   min  (1 − W)/N · Σs (C_s·z + Σb θ(s,b)) + W · (η + Σs u(s) / ((1 − α)·N))
//!   s.t. θ(s,b) ≥ F_sb(z_i) + g_sb(z_i)·(z − z_i)            for every point z_i evaluated
//!        u(s) ≥ C_s·z + Σb θ(s,b) − η,   u(s) ≥ 0,   θ ≥ 0,   η ≥ 0 (every T_s is ≥ 0)
//!
//! one cut per (sample, block of periods) and point, CVaR in its linear form. With more than a
//! few samples (`MAX_PER_BLOCK_VARIABLES`) a sample's blocks form one group: one θ(s) per sample,
//! above the sum of its block cuts (still exact: the sum of valid cuts is a valid cut of Σb Q_sb,
//! and at the point evaluated it is tight), so the master grows with the samples, not with
//! samples × blocks. Cuts slack at the master's vertex for `CUT_AGE_LIMIT` solves in a row are
//! retired, as in `decompose`. The master is a simplex (microlp, exact vertices), the steps in-out
//! stabilised as in `decompose`, and it stops at a relative gap ≤ 1e-9 between the best point
//! evaluated and the master's optimum (the bound). Samples are evaluated in parallel and
//! combined in sample order: the result does not depend on the number of threads.

use std::time::Instant;

use rayon::prelude::*;

use super::branch;
use super::decompose::{kinks_of, Convergence, Cut, Evaluator, RELATIVE_GAP};
use super::solve::{solve_lp, SolverKind};
use super::{BuildOptions, Col, Column, Reservations, Row, RowKey, Scale, Sense};
use crate::error::{Error, Result};
use crate::facts::{Facts, TrancheId};
use crate::scenario::{Policy, Scenario};

/// Iterations after which the robust search gives up (a solver error).
const MAX_ITERATIONS: usize = 1000;
/// The in-out step towards the master's point (as in `decompose`).
const IN_OUT_STEP: f64 = 0.5;
/// Below this relative gap every step is Kelley's (the master's vertex).
const KELLEY_BELOW_GAP: f64 = 1e-4;

/// How the samples are weighed and dispatched.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RobustOptions {
    /// W in [0, 1].
    pub risk_weight: f64,
    /// α in [0, 1).
    pub cvar_alpha: f64,
    /// Samples dispatched without the share cap and N-1.
    pub emergency: bool,
    /// Reservations in GPUs come in whole blocks (false: the relaxation).
    pub whole_blocks: bool,
    /// The master's cost variables: per block, per sample, or by the sizes (`Auto`).
    pub cuts: CutGroups,
}

/// How the master groups a sample's cuts (the multi-cut / aggregated-cut switch). Every choice
/// reaches the same optimum; they differ in master size and iterations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CutGroups {
    /// Per block up to `MAX_PER_BLOCK_VARIABLES` samples × blocks, per sample above.
    #[default]
    Auto,
    /// One θ per sample and block of periods (the most cuts, the fewest iterations).
    PerBlock,
    /// One θ per sample, above the sum of its block cuts.
    PerSample,
}

/// How the search went.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct RobustConvergence {
    pub iterations: usize,
    /// Points at which every sample was evaluated.
    pub evaluations: usize,
    /// Cuts in the master at the end (idle ones retired).
    pub cuts: usize,
    /// One cost variable per sample (each sample's block cuts summed) rather than per block.
    pub per_sample_cuts: bool,
    /// The master's optimum (a lower bound on R) and the best R evaluated, $.
    pub lower_bound: f64,
    pub upper_bound: f64,
    pub relative_gap: f64,
    /// With whole blocks: R at the relaxation's optimum, $.
    pub relaxation_objective: Option<f64>,
    /// The whole-block search after the relaxation, when reservations come in whole blocks.
    pub whole_blocks: Option<branch::Stats>,
    pub master_seconds: f64,
    pub subproblem_seconds: f64,
}

/// The robust reservations and how they were found.
#[derive(Debug, Clone)]
pub struct RobustSolved {
    /// z per tranche of the base scenario (1 for tranches without a decision).
    pub z: Vec<f64>,
    /// T_s at z per sample, by the evaluators, $.
    pub totals: Vec<f64>,
    pub convergence: RobustConvergence,
}

/// CVaR_α of totals: min over η of η + Σ max(0, T − η) / ((1 − α)·N). The minimum is at one of
/// the totals (the function is piecewise linear, convex, with its breakpoints there).
pub fn cvar(totals: &[f64], alpha: f64) -> f64 {
    let n = totals.len();
    if n == 0 {
        return 0.0;
    }
    let mut t = totals.to_vec();
    t.sort_by(|a, b| b.total_cmp(a));
    let tail = (1.0 - alpha) * n as f64;
    let mut above = 0.0; // Σ of the totals before j (the larger ones)
    let mut best = f64::INFINITY;
    for (j, &eta) in t.iter().enumerate() {
        let value = eta + (above - j as f64 * eta).max(0.0) / tail;
        best = best.min(value);
        above += eta;
    }
    best
}

/// R = (1 − W)·mean + W·CVaR_α of totals.
pub fn risk_objective(totals: &[f64], risk_weight: f64, alpha: f64) -> f64 {
    if totals.is_empty() {
        return 0.0;
    }
    let mean = totals.iter().sum::<f64>() / totals.len() as f64;
    let mut r = 0.0;
    if risk_weight < 1.0 {
        r += (1.0 - risk_weight) * mean;
    }
    if risk_weight > 0.0 {
        r += risk_weight * cvar(totals, alpha);
    }
    r
}

/// Master solves in a row after which a cut slack at the master's vertex is dropped (as in
/// `decompose`): the master keeps the cuts that hold it up, its optimum stays a lower bound (fewer
/// cuts only lower it), and a dropped cut that matters again is found again by evaluation.
const CUT_AGE_LIMIT: usize = 5;

/// Above this many cost variables (samples × blocks) the master has one per sample instead, each
/// above the sum of the sample's block cuts: a weaker model per point (a few more iterations),
/// but a master whose size grows with the samples alone. With per-block cuts 1,000 monthly
/// samples make 24,000 variables and that many rows per iteration, which the simplex did not
/// solve in minutes; one per sample, the whole search takes seconds (docs/performance.md,
/// "Robust plans"). Per block, up to two hourly samples (64 blocks each) or five monthly ones.
const MAX_PER_BLOCK_VARIABLES: usize = 128;

/// Every sample's cuts per group of blocks, with how many master solves in a row each has been
/// slack, and the commitment of each sample per decision.
struct Pool {
    /// [sample][group] → cuts and their ages. A group is one block, or every block of the sample.
    cuts: Vec<Vec<Vec<(Cut, usize)>>>,
    /// [sample][decision] → $ for z = 1.
    commit: Vec<Vec<f64>>,
    /// One cost variable per sample (the block cuts summed) rather than per block.
    per_sample: bool,
}

impl Pool {
    fn new(first: Vec<Vec<Cut>>, commit: Vec<Vec<f64>>, groups: CutGroups) -> Pool {
        let blocks: usize = first.iter().map(Vec::len).sum();
        let mut pool = Pool {
            cuts: vec![Vec::new(); first.len()],
            commit,
            per_sample: match groups {
                CutGroups::Auto => blocks > MAX_PER_BLOCK_VARIABLES,
                CutGroups::PerBlock => false,
                CutGroups::PerSample => true,
            },
        };
        pool.add(first);
        pool
    }

    /// One evaluation's cuts ([sample][block]) as the pool's groups: unchanged, or each sample's
    /// block cuts summed in block order.
    fn grouped(&self, cuts: Vec<Vec<Cut>>) -> Vec<Vec<Cut>> {
        if !self.per_sample {
            return cuts;
        }
        cuts.into_iter()
            .map(|blocks| {
                let mut sum = Cut {
                    intercept: 0.0,
                    slope: vec![0.0; blocks.first().map_or(0, |c| c.slope.len())],
                };
                for cut in blocks {
                    sum.intercept += cut.intercept;
                    for (a, b) in sum.slope.iter_mut().zip(&cut.slope) {
                        *a += b;
                    }
                }
                vec![sum]
            })
            .collect()
    }

    /// Adds an evaluation's cuts, skipping any a group already has; returns the (sample, group,
    /// index) of those added.
    fn add(&mut self, cuts: Vec<Vec<Cut>>) -> Vec<(usize, usize, usize)> {
        let cuts = self.grouped(cuts);
        let mut added = Vec::new();
        for (s, (sample, new)) in self.cuts.iter_mut().zip(cuts).enumerate() {
            if sample.is_empty() {
                *sample = vec![Vec::new(); new.len()];
            }
            for (b, (group, cut)) in sample.iter_mut().zip(new).enumerate() {
                if !group.iter().any(|(c, _)| *c == cut) {
                    added.push((s, b, group.len()));
                    group.push((cut, 0));
                }
            }
        }
        added
    }

    /// A group's cutting-plane model at z: its highest cut, and at least 0 (θ ≥ 0).
    fn group_value(cuts: &[(Cut, usize)], z: &[f64]) -> f64 {
        cuts.iter().map(|(c, _)| c.value(z)).fold(0.0f64, f64::max)
    }

    /// T_s of the cutting-plane model at z.
    fn model_totals(&self, z: &[f64]) -> Vec<f64> {
        self.cuts
            .iter()
            .zip(&self.commit)
            .map(|(groups, commit)| {
                let c: f64 = commit.iter().zip(z).map(|(c, z)| c * z).sum();
                c + groups
                    .iter()
                    .map(|cuts| Pool::group_value(cuts, z))
                    .sum::<f64>()
            })
            .collect()
    }

    /// Ages every group's cuts at the master's vertex and drops those slack for `CUT_AGE_LIMIT`
    /// solves in a row (never a group's newest cut).
    fn retire_idle(&mut self, zm: &[f64]) {
        for cuts in self.cuts.iter_mut().flatten() {
            let top = Pool::group_value(cuts, zm);
            let tolerance = 1e-9 * top.abs().max(1.0);
            for (c, age) in cuts.iter_mut() {
                if c.value(zm) < top - tolerance {
                    *age += 1;
                } else {
                    *age = 0;
                }
            }
            let newest = cuts.len().saturating_sub(1);
            let mut i = 0;
            cuts.retain(|(_, age)| {
                let keep = *age < CUT_AGE_LIMIT || i == newest;
                i += 1;
                keep
            });
        }
    }

    fn len(&self) -> usize {
        self.cuts.iter().flatten().map(Vec::len).sum()
    }
}

/// T_s at z from one evaluation's cuts.
fn totals_of(cuts: &[Vec<Cut>], commit: &[Vec<f64>], z: &[f64]) -> Vec<f64> {
    cuts.iter()
        .zip(commit)
        .map(|(blocks, commit)| {
            commit.iter().zip(z).map(|(c, z)| c * z).sum::<f64>()
                + blocks.iter().map(|c| c.value(z)).sum::<f64>()
        })
        .collect()
}

/// The master over the decisions' bounds and block steps.
struct Master {
    lower: Vec<f64>,
    steps: Vec<Option<f64>>,
    options: RobustOptions,
    dollars_per_unit: f64,
}

impl Master {
    fn r(&self, totals: &[f64]) -> f64 {
        risk_objective(totals, self.options.risk_weight, self.options.cvar_alpha)
    }

    /// The master LP within lower ≤ z ≤ upper: its columns (z, then θ per sample and group, then
    /// η and u per sample when the tail is weighed) and rows (every cut, then the tail rows).
    fn lp(&self, pool: &Pool, lower: &[f64], upper: &[f64]) -> (Vec<Column>, Vec<Row>) {
        let unit = self.dollars_per_unit;
        let n_z = self.lower.len();
        let n_s = pool.cuts.len();
        let n_b = pool.cuts.first().map_or(0, Vec::len);
        let w = self.options.risk_weight;
        let mean_weight = (1.0 - w) / n_s as f64;
        let tail_weight = w / ((1.0 - self.options.cvar_alpha) * n_s as f64);
        let mut columns: Vec<Column> = (0..n_z)
            .map(|i| {
                let commit: f64 = pool.commit.iter().map(|c| c[i]).sum::<f64>();
                Column {
                    lower: lower[i],
                    upper: Some(upper[i]),
                    cost: mean_weight * commit / unit,
                    integer: false,
                }
            })
            .collect();
        columns.extend((0..n_s * n_b).map(|_| Column {
            lower: 0.0,
            upper: None,
            cost: mean_weight,
            integer: false,
        }));
        let eta = Col(columns.len());
        let tail = w > 0.0;
        if tail {
            columns.push(Column {
                lower: 0.0,
                upper: None,
                cost: w,
                integer: false,
            });
            columns.extend((0..n_s).map(|_| Column {
                lower: 0.0,
                upper: None,
                cost: tail_weight,
                integer: false,
            }));
        }
        let mut rows = Vec::new();
        for (s, blocks) in pool.cuts.iter().enumerate() {
            for (b, cuts) in blocks.iter().enumerate() {
                for (i, (cut, _)) in cuts.iter().enumerate() {
                    rows.push(self.cut_row(n_b, s, b, i, cut));
                }
            }
            if tail {
                // C_s·z + Σb θ(s,b) − η − u(s) ≤ 0
                let mut terms: Vec<(Col, f64)> = pool.commit[s]
                    .iter()
                    .enumerate()
                    .filter(|(_, c)| **c != 0.0)
                    .map(|(k, c)| (Col(k), c / unit))
                    .collect();
                terms.extend((0..n_b).map(|b| (Col(n_z + s * n_b + b), 1.0)));
                terms.push((eta, -1.0));
                terms.push((Col(eta.0 + 1 + s), -1.0));
                rows.push(Row {
                    key: RowKey::Tail { sample: s },
                    terms,
                    sense: Sense::Le,
                    rhs: 0.0,
                });
            }
        }
        (columns, rows)
    }

    /// The row of cut `i` of sample `s`'s group `b` (of `n_b` groups a sample):
    /// Σ g·z − θ(s,b) ≤ −intercept.
    fn cut_row(&self, n_b: usize, s: usize, b: usize, i: usize, cut: &Cut) -> Row {
        let block = s * n_b + b;
        let key = RowKey::Cut { block, cut: i };
        cut.row(key, Col(self.lower.len() + block), self.dollars_per_unit)
    }

    /// The master's vertex within lower ≤ z ≤ upper and its optimum (R of the cutting-plane
    /// model there), $.
    fn solve(&self, pool: &Pool, lower: &[f64], upper: &[f64]) -> Result<(Vec<f64>, f64)> {
        let (columns, rows) = self.lp(pool, lower, upper);
        let (values, _) = solve_lp(&columns, &rows, SolverKind::Microlp)?;
        let zm: Vec<f64> = (0..self.lower.len())
            .map(|i| values[i].clamp(lower[i], upper[i]))
            .collect();
        let optimum = self.r(&pool.model_totals(&zm));
        Ok((zm, optimum))
    }
}

/// Evaluates every sample at a point: one cut per sample and block.
type Evaluate<'e> = dyn FnMut(&[f64], &mut RobustConvergence) -> Result<Vec<Vec<Cut>>> + 'e;

/// The robust master under the whole-block search: its LP, every sample's evaluation (whose new
/// cuts join the pool and the rows) and the model.
struct BlockSearch<'m, 'e> {
    master: &'m Master,
    pool: &'m mut Pool,
    /// The master LP's rows: every cut and the tail rows, new cuts last.
    rows: Vec<Row>,
    evaluate: &'m mut Evaluate<'e>,
    convergence: &'m mut RobustConvergence,
    /// T_s at every point evaluated.
    totals: Vec<(Vec<f64>, Vec<f64>)>,
}

impl branch::Master for BlockSearch<'_, '_> {
    fn lp(&self, lower: &[f64], upper: &[f64]) -> (Vec<Column>, Vec<Row>) {
        (self.master.lp(self.pool, lower, upper).0, self.rows.clone())
    }

    fn cut_count(&self) -> usize {
        self.rows.len()
    }

    fn cut_rows(&self, since: usize) -> Vec<Row> {
        self.rows[since..].to_vec()
    }

    fn evaluate(&mut self, z: &[f64]) -> Result<f64> {
        let cuts = (self.evaluate)(z, self.convergence)?;
        let totals = totals_of(&cuts, &self.pool.commit, z);
        let value = self.master.r(&totals);
        self.totals.push((z.to_vec(), totals));
        let n_b = self.pool.cuts.first().map_or(0, Vec::len);
        for (s, b, i) in self.pool.add(cuts) {
            let row = self
                .master
                .cut_row(n_b, s, b, i, &self.pool.cuts[s][b][i].0);
            self.rows.push(row);
        }
        Ok(value)
    }

    fn model(&self, z: &[f64]) -> f64 {
        self.master.r(&self.pool.model_totals(z))
    }

    fn kinks(&self, z: &[f64]) -> Vec<Vec<f64>> {
        self.pool
            .cuts
            .iter()
            .flatten()
            .flat_map(|cuts| kinks_of(cuts, z))
            .collect()
    }
}

fn relative_gap(upper: f64, lower: f64) -> f64 {
    (upper - lower) / upper.abs().max(1.0)
}

/// Tokens that wait couple a sample's periods: its dispatch is one network over the horizon
/// (`waiting`), which carries no share cap (the cap's base counts arrivals never served). A held
/// run that keeps the policy's share cap with waiting tokens is refused, before any solve.
pub fn check_waiting(facts: &Facts, policy: &Policy, emergency: bool) -> Result<()> {
    if facts.defers() && BuildOptions::held(facts, policy, Vec::new(), emergency).share_cap {
        return Err(Error::Usage(
            "a robust plan with waiting workloads (a max_delay spanning more than one period) is solved over networks that carry no share cap, and the held runs keep the scenario's max_provider_share; plan under emergency rules ([robust] emergency = true, the default), or set policy.max_provider_share = 1, or --max-delay W=0".into(),
        ));
    }
    Ok(())
}

/// Solves the robust plan over `samples` (each a scenario and its facts, with the base's tranches
/// in the same order), from `start` (z per base tranche, e.g. the deterministic plan's) or from
/// full reservations.
pub fn solve(
    base: &Facts,
    samples: &[(&Scenario, &Facts)],
    options: RobustOptions,
    start: Option<&[f64]>,
) -> Result<RobustSolved> {
    if samples.is_empty() {
        return Err(Error::Usage(
            "a robust plan needs at least one sample".into(),
        ));
    }
    let decisions: Vec<usize> = (0..base.tranches.len())
        .filter(|&k| base.tranches[k].has_reservation_decision)
        .collect();
    for (s, (scenario, facts)) in samples.iter().enumerate() {
        let same = facts.tranches.len() == base.tranches.len()
            && facts
                .tranches
                .iter()
                .zip(&base.tranches)
                .all(|(a, b)| a.has_reservation_decision == b.has_reservation_decision);
        if !same {
            return Err(Error::Usage(format!(
                "sample {s} ({}) changes which tranches have a reservation decision; a robust plan needs every sample to keep the scenario's tranches (what-ifs that remove or empty a tranche are not supported yet)",
                scenario.name
            )));
        }
    }
    let build: Vec<BuildOptions> = samples
        .iter()
        .map(|(s, f)| BuildOptions {
            reservations: Reservations::Decided,
            ..BuildOptions::held(f, &s.policy, Vec::new(), options.emergency)
        })
        .collect();
    for (scenario, facts) in samples {
        check_waiting(facts, &scenario.policy, options.emergency)?;
    }
    let commit: Vec<Vec<f64>> = samples
        .iter()
        .zip(&build)
        .map(|((_, f), b)| {
            decisions
                .iter()
                .map(|&k| f.commit_dollars_in(TrancheId(k), &b.periods))
                .collect()
        })
        .collect();
    let mut evaluators: Vec<Evaluator> = samples
        .iter()
        .zip(&build)
        .map(|((s, f), b)| Evaluator::new(s, f, b, false))
        .collect();
    let mut convergence = RobustConvergence::default();
    let mut evaluate = |zd: &[f64], conv: &mut RobustConvergence| -> Result<Vec<Vec<Cut>>> {
        let started = Instant::now();
        let cuts = evaluators
            .par_iter_mut()
            .map(|e| e.evaluate(zd, &mut Convergence::default()))
            .collect::<Result<Vec<_>>>()?;
        conv.evaluations += 1;
        conv.subproblem_seconds += started.elapsed().as_secs_f64();
        Ok(cuts)
    };
    let mut master = Master {
        lower: decisions
            .iter()
            .map(|&k| base.tranches[k].min_commit)
            .collect(),
        steps: decisions
            .iter()
            .map(|&k| base.tranches[k].reservation_step)
            .collect(),
        options,
        dollars_per_unit: 1.0,
    };
    let full_z = |zd: &[f64]| {
        let mut z = vec![1.0; base.tranches.len()];
        for (i, &k) in decisions.iter().enumerate() {
            z[k] = zd[i];
        }
        z
    };
    let mut center: Vec<f64> = match start {
        Some(z) => decisions
            .iter()
            .zip(&master.lower)
            .map(|(&k, &l)| {
                if z[k].is_nan() {
                    1.0
                } else {
                    z[k].clamp(l, 1.0)
                }
            })
            .collect(),
        None => vec![1.0; decisions.len()],
    };
    let first = evaluate(&center, &mut convergence)?;
    let mut center_totals = totals_of(&first, &commit, &center);
    let mut upper = master.r(&center_totals);
    let mut pool = Pool::new(first, commit, options.cuts);
    if decisions.is_empty() {
        convergence.upper_bound = upper;
        convergence.lower_bound = upper;
        convergence.cuts = pool.len();
        return Ok(RobustSolved {
            z: full_z(&center),
            totals: center_totals,
            convergence,
        });
    }
    master.dollars_per_unit = upper.abs().max(1.0);
    let too_many = |gap: f64, what: &str| {
        Error::Solver(format!(
            "the robust {what} did not reach a relative gap of {RELATIVE_GAP:e} in {MAX_ITERATIONS} iterations (gap {gap:.2e})"
        ))
    };
    let ones = vec![1.0; decisions.len()];
    let mut step = IN_OUT_STEP;
    let mut lower_bound = f64::NEG_INFINITY;
    let last_master = loop {
        convergence.iterations += 1;
        if convergence.iterations > MAX_ITERATIONS {
            return Err(too_many(relative_gap(upper, lower_bound), "search"));
        }
        let started = Instant::now();
        let (zm, master_value) = master.solve(&pool, &master.lower, &ones)?;
        convergence.master_seconds += started.elapsed().as_secs_f64();
        lower_bound = lower_bound.max(master_value);
        let gap = relative_gap(upper, lower_bound);
        pool.retire_idle(&zm);
        if gap <= RELATIVE_GAP {
            break zm;
        }
        if gap < KELLEY_BELOW_GAP {
            step = 1.0;
        }
        let query: Vec<f64> = center
            .iter()
            .zip(&zm)
            .map(|(c, m)| c + step * (m - c))
            .collect();
        let cuts = evaluate(&query, &mut convergence)?;
        let totals = totals_of(&cuts, &pool.commit, &query);
        let at_query = master.r(&totals);
        pool.add(cuts);
        let separates =
            master.r(&pool.model_totals(&zm)) > master_value + RELATIVE_GAP * upper.abs().max(1.0);
        if at_query < upper {
            upper = at_query;
            center = query;
            center_totals = totals;
        }
        step = if separates { IN_OUT_STEP } else { 1.0 };
    };
    // The master's vertex when it is as good as the best point (exact reservations).
    if last_master != center {
        let cuts = evaluate(&last_master, &mut convergence)?;
        let totals = totals_of(&cuts, &pool.commit, &last_master);
        let at_master = master.r(&totals);
        pool.add(cuts);
        if at_master <= upper + RELATIVE_GAP * upper.abs().max(1.0) {
            upper = upper.min(at_master);
            center = last_master;
            center_totals = totals;
        }
    }
    if options.whole_blocks && master.steps.iter().any(Option::is_some) {
        // Whole blocks: the decomposition's branch and bound (`branch`) over this master, from
        // the relaxation's cuts, optimum and point.
        convergence.relaxation_objective = Some(upper);
        let decisions = branch::Decisions {
            lower: &master.lower,
            steps: &master.steps,
        };
        let rows = master.lp(&pool, &master.lower, &ones).1;
        let mut search = BlockSearch {
            master: &master,
            pool: &mut pool,
            rows,
            evaluate: &mut evaluate,
            convergence: &mut convergence,
            totals: Vec::new(),
        };
        let found = branch::search(
            &mut search,
            &decisions,
            &center,
            lower_bound.min(upper),
            RELATIVE_GAP,
            branch::Start::MicrolpFirst,
        )?;
        // T_s at the plan, as its evaluation found them.
        center_totals = search
            .totals
            .into_iter()
            .find(|(z, _)| *z == found.z)
            .map(|(_, totals)| totals)
            .expect("the plan was evaluated");
        convergence.master_seconds += found.stats.master_seconds;
        convergence.iterations += found.stats.master_lps;
        center = found.z;
        upper = found.value;
        lower_bound = found.bound;
        convergence.whole_blocks = Some(found.stats);
    }
    convergence.cuts = pool.len();
    convergence.per_sample_cuts = pool.per_sample;
    convergence.upper_bound = upper;
    convergence.lower_bound = lower_bound;
    convergence.relative_gap = relative_gap(upper, lower_bound).max(0.0);
    Ok(RobustSolved {
        z: full_z(&center),
        totals: center_totals,
        convergence,
    })
}

/// The robust problem solved as one LP (the deterministic equivalent, or extensive form): one
/// copy of each sample's held dispatch LP as `build` makes it (z decided, the sample's what-ifs,
/// the held rules), every copy's reservation columns tied to the first's (one z), and CVaR in its
/// linear form:
///
///   min (1 − W)/N · Σs T_s + W · (η + Σs u(s) / ((1 − α)·N)),   u(s) ≥ T_s − η,   u, η ≥ 0,
///
/// T_s the objective of copy s (its commitment and dispatch). Every copy is built in the base's
/// units (`Scale::of(base)`). The reference `solve` is tested against on small cases: it holds
/// every sample's every period at once. Returns R ($, the LP's optimum) and z per base tranche
/// (1 where there is no decision).
pub fn extensive_form(
    base: &Facts,
    samples: &[(&Scenario, &Facts)],
    options: RobustOptions,
    kind: SolverKind,
) -> Result<(f64, Vec<f64>)> {
    ExtensiveForm::build(base, samples, options)?.solve(kind)
}

/// The size of a linear program.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LpSize {
    pub columns: usize,
    pub rows: usize,
    pub nonzeros: usize,
}

/// The extensive form (`extensive_form`) built and not yet solved, so that its size can be read
/// before a solve that may not fit the machine (`cargo bench`, the robust cases).
pub struct ExtensiveForm {
    columns: Vec<Column>,
    rows: Vec<Row>,
    /// The first copy's reservation columns (one per base tranche with a decision) and steps.
    first: Vec<Option<Col>>,
    steps: Vec<f64>,
    scale: Scale,
}

impl ExtensiveForm {
    /// The LP of `extensive_form`: every sample's held dispatch LP, the copies' z tied, CVaR.
    pub fn build(
        base: &Facts,
        samples: &[(&Scenario, &Facts)],
        options: RobustOptions,
    ) -> Result<ExtensiveForm> {
        build_extensive(base, samples, options)
    }

    pub fn size(&self) -> LpSize {
        LpSize {
            columns: self.columns.len(),
            rows: self.rows.len(),
            nonzeros: self.rows.iter().map(|r| r.terms.len()).sum(),
        }
    }

    /// Solves the LP whole with one backend: R ($, the optimum) and z per base tranche (1 where
    /// there is no decision).
    pub fn solve(&self, kind: SolverKind) -> Result<(f64, Vec<f64>)> {
        let (values, _) = solve_lp(&self.columns, &self.rows, kind)?;
        let objective: f64 = self
            .columns
            .iter()
            .zip(&values)
            .map(|(c, v)| c.cost * v)
            .sum::<f64>()
            * self.scale.dollars_per_objective_unit;
        let z = self
            .first
            .iter()
            .zip(&self.steps)
            .map(|(col, step)| col.map_or(1.0, |c| values[c.0] * step))
            .collect();
        Ok((objective, z))
    }
}

fn build_extensive(
    base: &Facts,
    samples: &[(&Scenario, &Facts)],
    options: RobustOptions,
) -> Result<ExtensiveForm> {
    if samples.is_empty() {
        return Err(Error::Usage(
            "a robust plan needs at least one sample".into(),
        ));
    }
    let scale = Scale::of(base);
    let n = samples.len() as f64;
    let w = options.risk_weight;
    let mean_weight = (1.0 - w) / n;
    let mut columns: Vec<Column> = Vec::new();
    let mut rows: Vec<Row> = Vec::new();
    // Each copy's objective terms (T_s in objective units), and the first copy's z columns.
    let mut totals: Vec<Vec<(Col, f64)>> = Vec::new();
    let mut first: Vec<Option<Col>> = Vec::new();
    let mut steps: Vec<f64> = Vec::new();
    for (s, (scenario, facts)) in samples.iter().enumerate() {
        let model = super::build(
            scenario,
            facts,
            BuildOptions {
                reservations: Reservations::Decided,
                whole_blocks: options.whole_blocks,
                scale,
                ..BuildOptions::held(facts, &scenario.policy, Vec::new(), options.emergency)
            },
        );
        let offset = columns.len();
        let shift = |c: Col| Col(c.0 + offset);
        totals.push(
            model
                .columns
                .iter()
                .enumerate()
                .filter(|(_, c)| c.cost != 0.0)
                .map(|(j, c)| (Col(offset + j), c.cost))
                .collect(),
        );
        columns.extend(model.columns.iter().map(|c| Column {
            cost: mean_weight * c.cost,
            ..c.clone()
        }));
        rows.extend(model.rows.iter().map(|r| Row {
            terms: r.terms.iter().map(|&(c, a)| (shift(c), a)).collect(),
            ..r.clone()
        }));
        if s == 0 {
            first = model.reserve.iter().map(|c| c.map(shift)).collect();
            steps = model.reserve_step.clone();
            continue;
        }
        if model.reserve.len() != first.len()
            || model
                .reserve
                .iter()
                .zip(&first)
                .any(|(a, b)| a.is_some() != b.is_some())
        {
            return Err(Error::Usage(format!(
                "sample {s} ({}) changes which tranches have a reservation decision",
                scenario.name
            )));
        }
        for (k, (mine, shared)) in model.reserve.iter().zip(&first).enumerate() {
            if let (Some(mine), Some(shared)) = (mine, shared) {
                rows.push(Row {
                    key: RowKey::Shared {
                        sample: s,
                        tranche: TrancheId(k),
                    },
                    terms: vec![(shift(*mine), 1.0), (*shared, -1.0)],
                    sense: Sense::Eq,
                    rhs: 0.0,
                });
            }
        }
    }
    if w > 0.0 {
        // Every T_s ≥ 0, so its α-quantile η is too.
        let eta = Col(columns.len());
        columns.push(Column {
            lower: 0.0,
            upper: None,
            cost: w,
            integer: false,
        });
        let tail_weight = w / ((1.0 - options.cvar_alpha) * n);
        for (s, terms) in totals.iter().enumerate() {
            let u = Col(columns.len());
            columns.push(Column {
                lower: 0.0,
                upper: None,
                cost: tail_weight,
                integer: false,
            });
            // T_s − η − u(s) ≤ 0
            let mut row = terms.clone();
            row.push((eta, -1.0));
            row.push((u, -1.0));
            rows.push(Row {
                key: RowKey::Tail { sample: s },
                terms: row,
                sense: Sense::Le,
                rhs: 0.0,
            });
        }
    }
    Ok(ExtensiveForm {
        columns,
        rows,
        first,
        steps,
        scale,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cvar_is_the_mean_of_the_worst_share() {
        // Four totals, α = 0.5: the worst two, 30 and 40, mean 35.
        assert!((cvar(&[10.0, 40.0, 20.0, 30.0], 0.5) - 35.0).abs() < 1e-12);
        // α = 0: the mean.
        assert!((cvar(&[10.0, 40.0, 20.0, 30.0], 0.0) - 25.0).abs() < 1e-12);
        // α = 0.75 of four: the worst one.
        assert!((cvar(&[10.0, 40.0, 20.0, 30.0], 0.75) - 40.0).abs() < 1e-12);
        // α = 0.9 of four: a tail of 0.4 samples, still the worst.
        assert!((cvar(&[10.0, 40.0, 20.0, 30.0], 0.9) - 40.0).abs() < 1e-12);
        // α = 0.6 of five (tail 2 samples): the worst two, 50 and 40.
        assert!((cvar(&[10.0, 20.0, 30.0, 40.0, 50.0], 0.6) - 45.0).abs() < 1e-12);
        // A fractional tail: α = 0.5 of three (1.5 samples): (30 + 0.5·20) / 1.5.
        assert!((cvar(&[10.0, 20.0, 30.0], 0.5) - 40.0 / 1.5).abs() < 1e-12);
    }

    #[test]
    fn risk_objective_weighs_mean_and_cvar() {
        let t = [10.0, 40.0, 20.0, 30.0];
        assert!((risk_objective(&t, 0.0, 0.5) - 25.0).abs() < 1e-12);
        assert!((risk_objective(&t, 1.0, 0.5) - 35.0).abs() < 1e-12);
        assert!((risk_objective(&t, 0.5, 0.5) - 30.0).abs() < 1e-12);
    }
}
