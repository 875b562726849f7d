//! Model stage, reading back: a solved LP → `Plan`, with solver noise removed so that every
//! reported number obeys the model exactly (to 1e-9 relative):
//!
//! - z is clamped to [min_commit, 1] and snapped to a bound where the capacity between z and the
//!   bound is below 1e-9 of the peak demand the tranche can reach (noise, not a contract: a
//!   1e-9 reservation of a tranche the size of demand is 0), and otherwise rounded to 12
//!   significant digits (relative to z: never an absolute grid, which would cut capacity the
//!   plan uses);
//! - every period is dispatched given z by exact min-cost flow (a crossover); where an interior point's
//!   z sat a hair below what it meant, leaving a noise-sized shortfall (≤ 1e-7 of a cell), the
//!   binding tranches are raised by what is missing and the period dispatched again;
//! - flows are clipped at zero and scaled down wherever they exceed a tranche's capacity A·cap·z,
//!   a provider's share cap, or a cell's demand;
//! - unserved demand is recomputed as demand − served, so served + unserved = demand in every
//!   cell; an unserved remainder below 1e-9 of the cell's demand goes to the cell's largest flow
//!   with room for it (capacity and share cap both, each within 1e-9 of its bound), so
//!   "unserved" never shows solver noise;
//! - the costs are recomputed from those numbers and the objective is their sum.
//!
//! With deferral the periods are coupled and no period network applies: the dispatch given z is
//! the whole horizon's LP, cleaned per arrival cell by `deferred`.

use super::held::Held;
use super::solve::{Solved, SolverKind};
use super::{BuildOptions, Model, Reservations};
use crate::error::Result;
use crate::facts::{ClassId, Facts, PeriodId, TrancheId};
use crate::plan::{CostParts, Plan, PlanFlow, ResilienceShortfall, TranchePlan, Unserved};
use crate::scenario::Scenario;

/// Relative size below which a solver's value is noise.
const NOISE: f64 = 1e-9;

/// A reservation adding less capacity than this share of the peak demand its tranche can reach
/// is solver noise (a 1e-9 reservation of a tranche the size of demand is 0): it is snapped to
/// its bound. Judged in capacity, not in z, so a 1e15-token tranche keeps a z of 1e-9 that serves
/// a million tokens a minute.
const CAPACITY_NOISE: f64 = 1e-9;

/// The peak over periods of the demand each tranche's routes reach, tokens per minute (0 for a
/// tranche that reaches none).
fn reachable_peak_demand(facts: &Facts) -> Vec<f64> {
    facts
        .tranches
        .iter()
        .map(|f| {
            facts
                .demand_tpm
                .iter()
                .map(|row| {
                    row.iter()
                        .enumerate()
                        .filter(|(r, _)| f.route_cost_per_million_tokens[*r].is_some())
                        .map(|(_, d)| d)
                        .sum::<f64>()
                })
                .fold(0.0, f64::max)
        })
        .collect()
}

/// A solver's reserved fraction made exact: clamped to [min_commit, 1], and snapped to a bound
/// when the capacity between it and the bound is noise next to the demand the tranche can reach.
/// Otherwise rounded to 12 significant digits, relative to z: rounding on an absolute grid cuts
/// capacity the plan uses (on a 1e12-token tranche a 1e-9 grid step is 1,000 tokens a minute).
fn clean_fraction(facts: &Facts, k: TrancheId, v: f64, reach_tpm: f64) -> f64 {
    let min_commit = facts.tranches[k.0].min_commit;
    let z = if v.is_nan() {
        min_commit
    } else {
        v.clamp(min_commit, 1.0)
    };
    let peak_tpm = facts
        .available_tpm
        .iter()
        .map(|row| row[k.0])
        .fold(0.0, f64::max);
    let noise_tpm = CAPACITY_NOISE * reach_tpm;
    if reach_tpm <= 0.0 || (z - min_commit) * peak_tpm <= noise_tpm {
        min_commit
    } else if (1.0 - z) * peak_tpm <= noise_tpm {
        1.0
    } else {
        significant(z, SIGNIFICANT_DIGITS).clamp(min_commit, 1.0)
    }
}

/// Significant digits a reported fraction keeps: a simplex vertex carries rounding noise in its
/// last bits (0.3750000000000001); 12 digits drop it and move the capacity by at most 5e-13 of
/// what the tranche serves, which the read-back's noise rule absorbs.
const SIGNIFICANT_DIGITS: i32 = 12;

/// `v` rounded to `digits` significant decimal digits.
fn significant(v: f64, digits: i32) -> f64 {
    if v == 0.0 || !v.is_finite() {
        return v;
    }
    let exponent = digits - 1 - v.abs().log10().floor() as i32;
    if exponent > 300 {
        return v;
    }
    let scale = 10f64.powi(exponent);
    (v * scale).round() / scale
}

/// The reserved fraction of every tranche in a solved LP (scenario order; the fixed z where z
/// is fixed, 1 where it has no decision).
pub fn solver_fractions(facts: &Facts, model: &Model, solved: &Solved) -> Vec<f64> {
    (0..facts.tranches.len())
        .map(|k| match (&model.options.reservations, model.reserve[k]) {
            (Reservations::Fixed(z), _) => z[k],
            (Reservations::Decided, Some(col)) => solved.values[col.0] * model.reserve_step[k],
            (Reservations::Decided, None) => 1.0,
        })
        .collect()
}

/// Reads a solution back into a plan: z is cleaned (1e-9 grid, bounds) and every period (and N-1 block) is re-dispatched given that z by exact min-cost flow,
/// so flows are exact vertex values whatever the backend (a crossover).
pub fn plan(
    s: &Scenario,
    facts: &Facts,
    model: &Model,
    solved: &Solved,
    held: Option<&Held>,
) -> Result<Plan> {
    let z = solver_fractions(facts, model, solved);
    plan_from_z(
        s,
        facts,
        &model.options,
        &model.policy,
        z,
        held,
        (solved.solver.name(), solved.solver),
        solved.seconds,
    )
}

/// A plan from reservations found by a solver (z per tranche in scenario order; decided or
/// fixed as `options` says): z is cleaned (1e-9 grid, bounds, noise-sized reservations) and
/// every period (and N-1 block) is re-dispatched given that z by exact min-cost flow, so flows
/// are exact vertex values whatever the method and backend (a crossover). With deferral the
/// dispatch given z is the whole horizon's LP, solved by `backend` (see `deferred`).
#[allow(clippy::too_many_arguments)]
pub fn plan_from_z(
    s: &Scenario,
    facts: &Facts,
    options: &BuildOptions,
    policy: &crate::scenario::Policy,
    solver_z: Vec<f64>,
    held: Option<&Held>,
    (solver, backend): (&str, SolverKind),
    seconds: f64,
) -> Result<Plan> {
    let decided = matches!(options.reservations, Reservations::Decided);
    let reach = if decided {
        reachable_peak_demand(facts)
    } else {
        Vec::new()
    };
    let mut z: Vec<f64> = solver_z
        .into_iter()
        .enumerate()
        .map(|(k, v)| {
            if !decided || !facts.tranches[k].has_reservation_decision {
                return v;
            }
            match facts.tranches[k].reservation_step {
                // Whole blocks: exactly a whole number of them (the solver's rounding removed).
                Some(step) if options.whole_blocks => {
                    let lower = (facts.tranches[k].min_commit / step - 1e-9).ceil();
                    let top = (1.0 / step + 1e-9).floor();
                    ((v / step).round().clamp(lower, top) * step).min(1.0)
                }
                _ => clean_fraction(facts, TrancheId(k), v, reach[k]),
            }
        })
        .collect();
    // Tranches without a reservation decision bring all their capacity, whatever was given.
    for (k, f) in facts.tranches.iter().enumerate() {
        if !f.has_reservation_decision {
            z[k] = 1.0;
        }
    }
    // Every plan is re-dispatched exactly given its cleaned z (a crossover): an interior point
    // is no vertex, and a vertex's z may have been snapped.
    let (mut raw_flows, mut raw_losses) = dispatch(facts, options, policy, &z, backend)?;
    if decided {
        // An interior point's z can sit a hair below the breakpoint it means (capacity exactly
        // meeting a period's need), which shows as a few tokens per minute unserved where the LP
        // serves everything. Raise the binding tranches of those periods by what is missing, on
        // the 1e-9 grid, and dispatch again: a vertex cleanup of z.
        let raised = if facts.defers() {
            super::deferred::raise_binding(facts, &raw_flows, &mut z)
        } else {
            raise_binding(facts, &raw_flows, &mut z)
        };
        if raised {
            (raw_flows, raw_losses) = dispatch(facts, options, policy, &z, backend)?;
        }
    }
    let (capacity_fraction, tranches) = reservations(s, facts, |k| z[k]);
    Ok(finish(
        facts,
        options,
        policy,
        Parts {
            capacity_fraction,
            tranches,
            raw_flows,
            raw_losses,
        },
        held,
        solver,
        seconds,
    ))
}

/// Shortfalls of at most this share of a cell's demand are an interior point's noise in z.
const Z_NOISE: f64 = 1e-7;

/// Raises z of decision tranches whose capacity is used up in a period with a noise-sized
/// shortfall, by that shortfall over their capacity there (at most 1). Returns whether any z moved.
fn raise_binding(facts: &Facts, flows: &[PlanFlow], z: &mut [f64]) -> bool {
    let n_t = facts.period_count();
    let n_k = facts.tranches.len();
    let mut served = vec![vec![0.0; facts.classes.len()]; n_t];
    let mut used = vec![vec![0.0; n_k]; n_t];
    for x in flows {
        served[x.period.0][x.class.0] += x.tokens_per_minute;
        used[x.period.0][x.tranche.0] += x.tokens_per_minute;
    }
    let mut raise = vec![0.0f64; n_k];
    for t in 0..n_t {
        let short: f64 = facts.class_demand_tpm[t]
            .iter()
            .zip(&served[t])
            .map(|(&d, &got)| {
                let left = d - got;
                if left > 0.0 && left <= Z_NOISE * d {
                    left
                } else {
                    0.0
                }
            })
            .sum();
        if short <= 0.0 {
            continue;
        }
        for k in 0..n_k {
            let cap = facts.available_tpm[t][k] * z[k];
            // Binding: reserved (a tranche left at 0 was not part of the plan), used up, and
            // able to take more.
            let binding = facts.tranches[k].has_reservation_decision
                && z[k] < 1.0
                && cap > 0.0
                && used[t][k] >= cap * (1.0 - 1e-12);
            if binding {
                raise[k] = raise[k].max(short / facts.available_tpm[t][k]);
            }
        }
    }
    apply_raise(facts, &raise, z)
}

/// Raises each z(k) by `raise[k]` (within [min_commit, 1]); returns whether any z moved.
pub(super) fn apply_raise(facts: &Facts, raise: &[f64], z: &mut [f64]) -> bool {
    let mut moved = false;
    for (k, &by) in raise.iter().enumerate() {
        if by > 0.0 {
            let up = (z[k] + by).min(1.0).max(facts.tranches[k].min_commit);
            if up > z[k] {
                z[k] = up;
                moved = true;
            }
        }
    }
    moved
}

/// What a plan is made of before it is made to obey the model.
struct Parts {
    /// The z each tranche brings to its capacity rows (1 without a decision).
    capacity_fraction: Vec<f64>,
    tranches: Vec<TranchePlan>,
    /// Flows in period order.
    raw_flows: Vec<PlanFlow>,
    raw_losses: Vec<ResilienceShortfall>,
}

/// The reserved fraction of every tranche — the z it brings to capacity (`z_of` for tranches
/// with a reservation decision, 1 otherwise) — and its plan row (on-demand tranches report their
/// `min_commit`; only decision tranches pay a commitment).
fn reservations(
    s: &Scenario,
    facts: &Facts,
    z_of: impl Fn(usize) -> f64,
) -> (Vec<f64>, Vec<TranchePlan>) {
    let mut capacity_fraction = Vec::with_capacity(s.tranches.len());
    let mut tranches = Vec::with_capacity(s.tranches.len());
    for (k, tranche) in s.tranches.iter().enumerate() {
        let f = &facts.tranches[k];
        let z = if f.has_reservation_decision {
            z_of(k)
        } else {
            1.0
        };
        capacity_fraction.push(z);
        tranches.push(TranchePlan {
            name: tranche.name.clone(),
            provider: tranche.provider.clone(),
            region: tranche.region.clone(),
            reserved_fraction: if f.has_reservation_decision {
                z
            } else {
                f.min_commit
            },
            has_reservation_decision: f.has_reservation_decision,
            commit_cost: f.commit_dollars() * z,
        });
    }
    (capacity_fraction, tranches)
}

/// The dispatch given z: every period by its networks, or with deferral the whole horizon's LP
/// by `backend` (raw flows and N-1 shortfalls, cleaned by `finish`).
fn dispatch(
    facts: &Facts,
    options: &BuildOptions,
    policy: &crate::scenario::Policy,
    capacity_fraction: &[f64],
    backend: SolverKind,
) -> Result<(Vec<PlanFlow>, Vec<ResilienceShortfall>)> {
    if facts.defers() {
        super::deferred::dispatch(facts, options, policy, capacity_fraction, backend)
    } else {
        dispatch_periods(facts, options, policy, capacity_fraction)
    }
}

/// Every period dispatched exactly by min-cost flow given z, in parallel over fixed blocks of
/// consecutive periods (each period warm-started from the one before it in its block, so the
/// result does not depend on the number of threads), in period order: the flows (with the share
/// cap when the build has one) and the N-1 shortfalls of every lost provider (when the build has
/// N-1).
fn dispatch_periods(
    facts: &Facts,
    options: &BuildOptions,
    policy: &crate::scenario::Policy,
    capacity_fraction: &[f64],
) -> Result<(Vec<PlanFlow>, Vec<ResilienceShortfall>)> {
    use super::flow::{LossNetwork, PlanNetwork};
    use rayon::prelude::*;
    let blocks = super::decompose::blocks(&options.periods);
    let per_block: Vec<(Vec<PlanFlow>, Vec<ResilienceShortfall>)> = blocks
        .par_iter()
        .map(|periods| {
            let mut plan = PlanNetwork::new(facts, policy, options.share_cap);
            let mut loss = options
                .provider_loss
                .then(|| LossNetwork::new(facts, policy));
            let mut flows = Vec::new();
            let mut losses = Vec::new();
            let mut split = Vec::new();
            for &t in periods.iter() {
                flows.extend(super::flow::dispatch_period(
                    &mut plan,
                    t,
                    capacity_fraction,
                )?);
                if let Some(loss) = loss.as_mut() {
                    for q in 0..facts.providers.len() {
                        let q = crate::facts::ProviderId(q);
                        loss.solve(t, capacity_fraction, q, Some(&mut split));
                        for &(c, tpm) in &split {
                            losses.push(ResilienceShortfall {
                                lost: q,
                                period: t,
                                class: c,
                                region: facts.classes[c.0].region,
                                tokens_per_minute: tpm,
                            });
                        }
                    }
                }
            }
            Ok((flows, losses))
        })
        .collect::<Result<_>>()?;
    let mut flows = Vec::new();
    let mut losses = Vec::new();
    for (f, l) in per_block {
        flows.extend(f);
        losses.extend(l);
    }
    Ok((flows, losses))
}

/// A held dispatch (z fixed), solved without an LP: every period, and every N-1 block, by exact
/// min-cost flow. The same plan as the LP's (a property test checks it on every backend). With
/// deferral the periods are coupled and the dispatch is the whole horizon's LP, by `backend`.
pub fn dispatch_plan(
    s: &Scenario,
    facts: &Facts,
    options: &BuildOptions,
    policy: &crate::scenario::Policy,
    held: Option<&Held>,
    backend: SolverKind,
) -> Result<Plan> {
    let started = std::time::Instant::now();
    let Reservations::Fixed(z) = &options.reservations else {
        panic!("dispatch_plan needs fixed reservations");
    };
    let (capacity_fraction, tranches) = reservations(s, facts, |k| z[k]);
    let (raw_flows, raw_losses) = dispatch(facts, options, policy, &capacity_fraction, backend)?;
    let solver = if facts.defers() && options.share_cap {
        backend.name()
    } else {
        "min-cost flow"
    };
    Ok(finish(
        facts,
        options,
        policy,
        Parts {
            capacity_fraction,
            tranches,
            raw_flows,
            raw_losses,
        },
        held,
        solver,
        started.elapsed().as_secs_f64(),
    ))
}

/// Whether a build is a dispatch only (z fixed), which `dispatch_plan` solves: exactly by min-cost
/// flow per period, or with deferral as one LP.
pub fn is_network(options: &BuildOptions) -> bool {
    matches!(options.reservations, Reservations::Fixed(_))
}

/// Makes the parts obey the model and adds up the costs.
#[allow(clippy::too_many_arguments)]
fn finish(
    facts: &Facts,
    options: &BuildOptions,
    policy: &crate::scenario::Policy,
    parts: Parts,
    held: Option<&Held>,
    solver: &str,
    seconds: f64,
) -> Plan {
    let Parts {
        capacity_fraction,
        tranches,
        raw_flows,
        raw_losses,
    } = parts;
    // Flows and unserved demand, period by period, made to obey the model.
    let share_cap = options.share_cap.then_some(policy.max_provider_share);
    let (flows, unserved) = if facts.defers() {
        super::deferred::clean(
            facts,
            &raw_flows,
            &capacity_fraction,
            share_cap,
            options.scale.tokens_per_minute_per_unit,
        )
    } else {
        let mut flows: Vec<PlanFlow> = Vec::with_capacity(raw_flows.len());
        let mut unserved = Vec::new();
        let mut start = 0;
        for &t in &options.periods {
            let end = start + raw_flows[start..].partition_point(|x| x.period == t);
            let (period_flows, period_unserved) = clean_period(
                facts,
                t,
                raw_flows[start..end].to_vec(),
                &capacity_fraction,
                share_cap,
            );
            flows.extend(period_flows);
            unserved.extend(period_unserved);
            start = end;
        }
        flows.sort_by_key(|x| (x.period, x.tranche, x.class));
        unserved.sort_by_key(|u| (u.period, u.class));
        (flows, unserved)
    };

    let coverage = policy.loss_coverage;
    let mut resilience_shortfalls: Vec<ResilienceShortfall> = raw_losses
        .into_iter()
        .map(|v| {
            let need = facts.class_demand_tpm[v.period.0][v.class.0] * coverage;
            // An LP's noise (deferral) is relative to the whole problem: judged against the
            // scale's flow unit too, as the deferred read-back judges flows.
            let width = if facts.defers() {
                need.max(options.scale.tokens_per_minute_per_unit)
            } else {
                need
            };
            ResilienceShortfall {
                tokens_per_minute: snap(v.tokens_per_minute, 0.0, need, width),
                ..v
            }
        })
        .filter(|v| v.tokens_per_minute > 0.0)
        .collect();
    resilience_shortfalls.sort_by_key(|v| (v.lost, v.period, v.class));

    let mut costs = CostParts {
        commit: tranches.iter().map(|t| t.commit_cost).sum(),
        ..CostParts::default()
    };
    for x in &flows {
        let million = facts.million_tokens(x.period, x.tokens_per_minute);
        let f = &facts.tranches[x.tranche.0];
        let route = f.route_cost_per_million_tokens[x.region.0]
            .expect("flows exist only on allowed routes");
        costs.usage += million * f.usage_cost_per_million_tokens;
        costs.route += million * route;
    }
    // Each class at its own penalty (the workload's, else the policy's).
    costs.unserved_penalty = unserved
        .iter()
        .map(|u| {
            facts.million_tokens(u.period, u.tokens_per_minute)
                * facts.classes[u.class.0].unserved_penalty
        })
        .sum::<f64>();
    costs.resilience_penalty = resilience_shortfalls
        .iter()
        .map(|v| facts.million_tokens(v.period, v.tokens_per_minute))
        .sum::<f64>()
        * policy.resilience_penalty;
    let mut orphaned = Vec::new();
    let mut held_from = None;
    if let Some(h) = held {
        costs.commit += h.orphaned.iter().map(|o| o.commit_cost).sum::<f64>();
        orphaned = h.orphaned.clone();
        held_from = Some(h.from.clone());
    }
    Plan {
        solver: solver.to_string(),
        solve_seconds: seconds,
        objective: costs.objective(),
        costs,
        held: held_from,
        providers: facts.providers.clone(),
        regions: facts.regions.clone(),
        tranches,
        orphaned,
        flows,
        unserved,
        resilience_shortfalls,
        whole_blocks: None,
    }
}

/// A value clamped to [lower, upper] and snapped to a bound within NOISE × `width`.
fn snap(v: f64, lower: f64, upper: f64, width: f64) -> f64 {
    let v = v.clamp(lower, upper.max(lower));
    if v - lower <= NOISE * width {
        lower
    } else if upper - v <= NOISE * width {
        upper
    } else {
        v
    }
}

/// Scales `values[i]` for i in `members` down so their sum is at most `limit`.
fn cap_sum(values: &mut [f64], members: &[usize], limit: f64) {
    let sum: f64 = members.iter().map(|&i| values[i]).sum();
    if sum > limit {
        let factor = if sum > 0.0 { limit.max(0.0) / sum } else { 0.0 };
        for &i in members {
            values[i] *= factor;
        }
    }
}

/// One period's flows made to obey the model, and the unserved demand they leave.
fn clean_period(
    facts: &Facts,
    t: PeriodId,
    raw: Vec<PlanFlow>,
    capacity_fraction: &[f64],
    share_cap: Option<f64>,
) -> (Vec<PlanFlow>, Vec<Unserved>) {
    let demand = &facts.class_demand_tpm[t.0];
    // Flows come from the exact network dispatch: small ones are real (a small reservation's
    // capacity), not noise to drop.
    let mut tpm: Vec<f64> = raw.iter().map(|x| x.tokens_per_minute.max(0.0)).collect();
    let group = |key: &dyn Fn(&PlanFlow) -> usize, n: usize| {
        let mut members = vec![Vec::new(); n];
        for (i, x) in raw.iter().enumerate() {
            members[key(x)].push(i);
        }
        members
    };
    let by_tranche = group(&|x| x.tranche.0, facts.tranches.len());
    let by_provider = group(
        &|x| facts.tranches[x.tranche.0].provider.0,
        facts.providers.len(),
    );
    let by_class = group(&|x| x.class.0, facts.classes.len());
    let capacity = |k: usize| facts.available_tpm[t.0][k] * capacity_fraction[k];
    let share_limit = share_cap.map(|s| s * facts.total_demand_tpm[t.0]);
    for (k, members) in by_tranche.iter().enumerate() {
        cap_sum(&mut tpm, members, capacity(k));
    }
    if let Some(limit) = share_limit {
        for members in &by_provider {
            cap_sum(&mut tpm, members, limit);
        }
    }
    for (c, members) in by_class.iter().enumerate() {
        cap_sum(&mut tpm, members, demand[c]);
    }

    let mut unserved = Vec::new();
    for (c, members) in by_class.iter().enumerate() {
        let d = demand[c];
        if d <= 0.0 {
            continue;
        }
        let served: f64 = members.iter().map(|&i| tpm[i]).sum();
        let mut left = (d - served).max(0.0);
        if left > 0.0 && left <= NOISE * d {
            // Noise: give it to the largest flow whose tranche and provider have room for it.
            let room = |i: usize, tpm: &[f64]| {
                let x = &raw[i];
                let k = x.tranche.0;
                let p = facts.tranches[k].provider.0;
                let used_k: f64 = by_tranche[k].iter().map(|&j| tpm[j]).sum();
                let used_p: f64 = by_provider[p].iter().map(|&j| tpm[j]).sum();
                // Within NOISE of a bound counts as room: z on its reporting grid can sit that
                // far below the solver's z.
                let room_p = share_limit.map_or(f64::INFINITY, |l| l * (1.0 + NOISE) - used_p);
                (capacity(k) * (1.0 + NOISE) - used_k).min(room_p)
            };
            let best = members
                .iter()
                .copied()
                .filter(|&i| room(i, &tpm) >= left)
                .max_by(|&a, &b| tpm[a].total_cmp(&tpm[b]));
            if let Some(i) = best {
                tpm[i] += left;
                left = 0.0;
            }
        }
        if left > 0.0 {
            unserved.push(Unserved {
                period: t,
                class: ClassId(c),
                region: facts.classes[c].region,
                tokens_per_minute: left,
                cause: None,
            });
        }
    }
    let flows = raw
        .into_iter()
        .zip(tpm)
        .filter(|(_, v)| *v > 0.0)
        .map(|(x, v)| PlanFlow {
            tokens_per_minute: v,
            ..x
        })
        .collect();
    (flows, unserved)
}

/// The value, in dollars per token per minute of capacity in period t, of one more unit of
/// tranche k's capacity there (≥ 0): minus the dual of its capacity row, in dollars. None when the
/// backend gives no duals or the row was not built (the tranche cannot serve in t).
pub fn capacity_value(model: &Model, solved: &Solved, t: PeriodId, k: TrancheId) -> Option<f64> {
    let row = model.row(super::RowKey::Capacity(t, k))?;
    let dual = solved.duals.as_ref()?.get(row)?;
    let scale = model.scale();
    Some((-dual * scale.dollars_per_objective_unit / scale.tokens_per_minute_per_unit).max(0.0))
}
