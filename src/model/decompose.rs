//! Model stage, decomposed solve of the planning LP over the reservations z. The reserved
//! fractions (a few dozen numbers) are all that couple the periods: given z, each period is a
//! small transportation network (plus its N-1 copies), solved exactly by `flow::period_value`,
//! which also returns the period cost's subgradient in z from the capacity arcs' duals. A
//! cutting-plane master over z and one cost variable per block of periods (multi-cut) closes the
//! gap between the best plan evaluated (an upper bound) and the master's optimum (a lower bound):
//!
//!   min Σk commit(k)·z(k) + Σb θ(b)   s.t.   θ(b) ≥ F_b(z_i) + g_b(z_i)·(z − z_i)  for every z_i
//!
//! The master is solved by a simplex (microlp, exact vertices; a few hundred rows), and stabilised
//! by in-out steps: the next point is halfway between the best point so far and the master's,
//! and the master's own point whenever the halfway cut fails to cut it off, so convergence
//! is that of Kelley's method, with far fewer iterations when many tranches are partly reserved.
//! Block sums are reduced in a fixed order, so results do not depend on the number of threads.

use std::time::Instant;

use rayon::prelude::*;

use super::flow::{LossNetwork, PlanNetwork};
use super::solve::{solve_lp, SolverKind};
use super::{BuildOptions, Col, Column, Reservations, Row, RowKey, Sense};
use crate::error::{Error, Result};
use crate::facts::{Facts, PeriodId, TrancheId};
use crate::scenario::Scenario;

/// The relative gap (upper − lower bound) / |upper| at which the decomposition stops.
pub const RELATIVE_GAP: f64 = 1e-9;

/// Iterations after which the decomposition gives up (reported as a solver error).
const MAX_ITERATIONS: usize = 1000;

/// At most this many cost variables (blocks of consecutive periods) in the master: more blocks
/// mean fewer iterations but a larger master.
const MAX_BLOCKS: usize = 64;

/// The in-out step: the next point is this far from the best point towards the master's (0.5
/// took the fewest iterations among 0.2–1.0 on the hourly benchmark cases).
const IN_OUT_STEP: f64 = 0.5;

/// Below this relative gap every step is Kelley's (the master's vertex).
const KELLEY_BELOW_GAP: f64 = 1e-4;

/// How the decomposition went, for `--timings` and the benchmark.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Convergence {
    pub iterations: usize,
    /// Points at which every period was evaluated.
    pub evaluations: usize,
    pub blocks: usize,
    pub cuts: usize,
    /// The master's optimum and the best plan's objective, $ (the whole objective).
    pub lower_bound: f64,
    pub upper_bound: f64,
    pub relative_gap: f64,
    pub master_seconds: f64,
    pub subproblem_seconds: f64,
}

/// The optimal reservations, per tranche in scenario order (1 for tranches without a decision),
/// and how they were found.
#[derive(Debug, Clone)]
pub struct Decomposed {
    pub z: Vec<f64>,
    pub convergence: Convergence,
}

/// One cut of a block: θ ≥ intercept + Σ slope(k)·z(k), in dollars.
#[derive(Debug, Clone, PartialEq)]
struct Cut {
    intercept: f64,
    slope: Vec<f64>,
}

/// The periods of the build split into consecutive blocks, one cost variable each.
pub(crate) fn blocks(periods: &[PeriodId]) -> Vec<&[PeriodId]> {
    if periods.is_empty() {
        return Vec::new();
    }
    let n = periods.len().min(MAX_BLOCKS);
    let size = periods.len().div_ceil(n);
    periods.chunks(size).collect()
}

/// Solves the planning LP of `options` (z decided) by decomposition over z, starting from full
/// reservations, or from `start` (z per tranche, e.g. a monolithic LP's optimum to polish into an
/// exact vertex).
pub fn solve(
    s: &Scenario,
    facts: &Facts,
    options: &BuildOptions,
    start: Option<&[f64]>,
) -> Result<Decomposed> {
    debug_assert!(matches!(options.reservations, Reservations::Decided));
    let n_k = facts.tranches.len();
    // The decision tranches, and the commitment each costs per unit of z over the built periods.
    let decisions: Vec<usize> = (0..n_k)
        .filter(|&k| facts.tranches[k].has_reservation_decision)
        .collect();
    let commit_dollars: Vec<f64> = decisions
        .iter()
        .map(|&k| facts.commit_dollars_in(TrancheId(k), &options.periods))
        .collect();
    let lower: Vec<f64> = decisions
        .iter()
        .map(|&k| facts.tranches[k].min_commit)
        .collect();
    let blocks = blocks(&options.periods);

    let mut convergence = Convergence {
        blocks: blocks.len(),
        ..Convergence::default()
    };
    // Every period's cost given the decision fractions, summed per block in period order, with
    // the block's subgradient over the decision tranches.
    let full_z = |zd: &[f64]| {
        let mut z = vec![1.0; n_k];
        for (i, &k) in decisions.iter().enumerate() {
            z[k] = zd[i];
        }
        z
    };
    // One plan network (and N-1 network) per block, kept across evaluations: each period starts
    // from the one before it in the block (the same on any number of threads: blocks are fixed).
    let mut networks: Vec<(PlanNetwork, Option<LossNetwork>)> = blocks
        .iter()
        .map(|_| {
            (
                PlanNetwork::new(facts, &s.policy, options.share_cap),
                options
                    .provider_loss
                    .then(|| LossNetwork::new(facts, &s.policy)),
            )
        })
        .collect();
    // Every period's cost given the decision fractions, summed per block in period order, with
    // the block's subgradient over the decision tranches.
    let mut evaluate = |zd: &[f64], convergence: &mut Convergence| -> Result<Vec<Cut>> {
        let started = Instant::now();
        let z = full_z(zd);
        let cuts = networks
            .par_iter_mut()
            .zip(blocks.par_iter())
            .map(|((plan, loss), periods)| {
                let mut slope = vec![0.0; n_k];
                let mut dollars = 0.0;
                for &t in periods.iter() {
                    dollars += super::flow::period_value(plan, loss.as_mut(), t, &z, &mut slope)?;
                }
                let slope: Vec<f64> = decisions.iter().map(|&k| slope[k]).collect();
                let intercept = dollars - slope.iter().zip(zd).map(|(g, z)| g * z).sum::<f64>();
                Ok(Cut { intercept, slope })
            })
            .collect::<Result<Vec<Cut>>>()?;
        convergence.evaluations += 1;
        convergence.subproblem_seconds += started.elapsed().as_secs_f64();
        Ok(cuts)
    };
    let objective_at = |zd: &[f64], cuts: &[Cut]| -> f64 {
        commitment(&commit_dollars, zd) + cuts.iter().map(|c| value(c, zd)).sum::<f64>()
    };

    // Start with every decision fully reserved (the cuts there price capacity everywhere), or
    // at the given point.
    let mut center: Vec<f64> = match start {
        Some(z) => decisions
            .iter()
            .zip(&lower)
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
    let mut upper = objective_at(&center, &first);
    if decisions.is_empty() {
        convergence.upper_bound = upper;
        convergence.lower_bound = upper;
        return Ok(Decomposed {
            z: full_z(&center),
            convergence,
        });
    }
    let mut pool: Vec<Vec<Cut>> = first.into_iter().map(|c| vec![c]).collect();
    // Master solves in a row each cut has been slack at the master's vertex.
    let mut ages: Vec<Vec<usize>> = pool.iter().map(|b| vec![0; b.len()]).collect();
    // Master units: dollars over the first upper bound, so the simplex sees numbers near 1.
    let dollars_per_unit = upper.abs().max(1.0);
    let mut step = IN_OUT_STEP;
    let mut lower_bound = f64::NEG_INFINITY;
    let last_master = loop {
        convergence.iterations += 1;
        if convergence.iterations > MAX_ITERATIONS {
            return Err(Error::Solver(format!(
                "the decomposition did not reach a relative gap of {RELATIVE_GAP:e} in {MAX_ITERATIONS} iterations (gap {:.2e}); use --method monolithic",
                (upper - lower_bound) / upper.abs().max(1.0)
            )));
        }
        let started = Instant::now();
        let (zm, master_value) = master(&commit_dollars, &lower, &pool, dollars_per_unit)?;
        convergence.master_seconds += started.elapsed().as_secs_f64();
        lower_bound = lower_bound.max(master_value);
        retire_idle_cuts(&mut pool, &mut ages, &zm);
        let gap = (upper - lower_bound) / upper.abs().max(1.0);
        if gap <= RELATIVE_GAP {
            break zm;
        }
        // In-out: a point between the best so far and the master's. Close to the optimum the
        // master's cutting-plane model is exact around it, and halving the distance would only
        // converge geometrically: evaluate the master's vertex itself (Kelley), which ends it.
        if gap < KELLEY_BELOW_GAP {
            step = 1.0;
        }
        let query: Vec<f64> = center
            .iter()
            .zip(&zm)
            .map(|(c, m)| c + step * (m - c))
            .collect();
        let cuts = evaluate(&query, &mut convergence)?;
        let at_query = objective_at(&query, &cuts);
        for ((block, age), cut) in pool.iter_mut().zip(ages.iter_mut()).zip(cuts) {
            if !block.contains(&cut) {
                block.push(cut);
                age.push(0);
            }
        }
        // Do the new cuts raise the master's model at its own point (separating cuts)?
        let model_at_master = commitment(&commit_dollars, &zm) + model_value(&pool, &zm);
        let separates = model_at_master > master_value + RELATIVE_GAP * upper.abs().max(1.0);
        if at_query < upper {
            upper = at_query;
            center = query;
        }
        // A cut that misses the master's point leaves the lower bound where it is: evaluate the
        // master's point itself next time (Kelley's step), which always separates.
        step = if separates { IN_OUT_STEP } else { 1.0 };
    };
    // Prefer the master's vertex when it is as good as the best point (exact reservations).
    let mut z = center;
    if last_master != z {
        let cuts = evaluate(&last_master, &mut convergence)?;
        let at_master = objective_at(&last_master, &cuts);
        if at_master <= upper + RELATIVE_GAP * upper.abs().max(1.0) {
            upper = upper.min(at_master);
            z = last_master;
        }
    }
    convergence.cuts = pool.iter().map(Vec::len).sum();
    convergence.upper_bound = upper;
    convergence.lower_bound = lower_bound;
    convergence.relative_gap = ((upper - lower_bound) / upper.abs().max(1.0)).max(0.0);
    Ok(Decomposed {
        z: full_z(&z),
        convergence,
    })
}

/// Master solves in a row after which a cut slack at the master's vertex is dropped. The master
/// then has fewer rows; its optimum stays a lower bound (fewer cuts only lower it), so the gap
/// test is unchanged, and a dropped cut that matters again is found again by evaluation.
const CUT_AGE_LIMIT: usize = 5;

/// Ages every block's cuts at the master's vertex and drops those slack for `CUT_AGE_LIMIT`
/// solves (never a block's newest cut).
fn retire_idle_cuts(pool: &mut [Vec<Cut>], ages: &mut [Vec<usize>], zm: &[f64]) {
    for (cuts, age) in pool.iter_mut().zip(ages.iter_mut()) {
        let top = block_value(cuts, zm);
        let tolerance = 1e-9 * top.abs().max(1.0);
        for (c, a) in cuts.iter().zip(age.iter_mut()) {
            if value(c, zm) < top - tolerance {
                *a += 1;
            } else {
                *a = 0;
            }
        }
        let newest = cuts.len().saturating_sub(1);
        let mut i = 0;
        cuts.retain(|_| {
            let keep = age[i] < CUT_AGE_LIMIT || i == newest;
            i += 1;
            keep
        });
        let mut i = 0;
        age.retain(|&a| {
            let keep = a < CUT_AGE_LIMIT || i == newest;
            i += 1;
            keep
        });
    }
}

/// The commitment of decision fractions z, in dollars.
fn commitment(commit_dollars: &[f64], z: &[f64]) -> f64 {
    commit_dollars.iter().zip(z).map(|(c, z)| c * z).sum()
}

/// A block's cutting-plane model at z: its highest cut, and at least 0 (θ ≥ 0 in the master).
fn block_value(cuts: &[Cut], z: &[f64]) -> f64 {
    cuts.iter().map(|c| value(c, z)).fold(0.0f64, f64::max)
}

/// The master's cutting-plane model of the dispatch cost at z: every block's model, summed.
fn model_value(pool: &[Vec<Cut>], z: &[f64]) -> f64 {
    pool.iter().map(|cuts| block_value(cuts, z)).sum()
}

/// A cut's value at z.
fn value(cut: &Cut, z: &[f64]) -> f64 {
    cut.intercept + cut.slope.iter().zip(z).map(|(g, z)| g * z).sum::<f64>()
}

/// The master LP over the decision fractions and one cost variable per block: its vertex and
/// optimum, in dollars.
fn master(
    commit_dollars: &[f64],
    lower: &[f64],
    pool: &[Vec<Cut>],
    dollars_per_unit: f64,
) -> Result<(Vec<f64>, f64)> {
    let n_z = commit_dollars.len();
    let mut columns: Vec<Column> = commit_dollars
        .iter()
        .zip(lower)
        .map(|(&c, &l)| Column {
            lower: l,
            upper: Some(1.0),
            cost: c / dollars_per_unit,
        })
        .collect();
    // Every period's dispatch cost is ≥ 0 (prices and penalties are), so θ ≥ 0.
    columns.extend(pool.iter().map(|_| Column {
        lower: 0.0,
        upper: None,
        cost: 1.0,
    }));
    let mut rows = Vec::new();
    for (b, cuts) in pool.iter().enumerate() {
        for (i, cut) in cuts.iter().enumerate() {
            // Σ g·z − θ ≤ −intercept
            let mut terms: Vec<(Col, f64)> = cut
                .slope
                .iter()
                .enumerate()
                .filter(|(_, g)| **g != 0.0)
                .map(|(k, g)| (Col(k), g / dollars_per_unit))
                .collect();
            terms.push((Col(n_z + b), -1.0));
            rows.push(Row {
                key: RowKey::Cut { block: b, cut: i },
                terms,
                sense: Sense::Le,
                rhs: -cut.intercept / dollars_per_unit,
            });
        }
    }
    let (values, _) = solve_lp(&columns, &rows, SolverKind::Microlp)?;
    let zm: Vec<f64> = values[..n_z]
        .iter()
        .zip(lower)
        .map(|(v, l)| v.clamp(*l, 1.0))
        .collect();
    // The master's optimum, recomputed in dollars from its vertex: the commitment plus each
    // block's cutting-plane model there.
    let optimum = commitment(commit_dollars, &zm) + model_value(pool, &zm);
    Ok((zm, optimum))
}
