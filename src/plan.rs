//! Plan stage: the solved plan as plain data (no solver types): reservations, flows, shortfalls,
//! cleaned of solver noise.

use serde::Serialize;

use crate::model::solve::Solved;
use crate::model::Model;

/// One tranche's reservation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Reservation {
    /// Index into `Scenario::tranches`.
    pub tranche: usize,
    /// z(k) in [min_commit, 1]. Tranches whose reservation costs nothing report `min_commit`:
    /// their capacity is there without reserving it.
    pub reserved_fraction: f64,
}

/// Tokens per minute a tranche serves to a demand region in a period (workloads merged).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlanFlow {
    pub period: usize,
    pub tranche: usize,
    pub region: usize,
    pub tokens_per_minute: f64,
}

/// Demand of a region left unserved in a period.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Unserved {
    pub period: usize,
    pub region: usize,
    pub tokens_per_minute: f64,
}

/// N-1 shortfall: demand (times loss_coverage) the reserved capacity could not carry if
/// `lost_provider` went down.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResilienceShortfall {
    pub lost_provider: usize,
    pub period: usize,
    pub region: usize,
    pub tokens_per_minute: f64,
}

/// The solved plan. Indices refer to the scenario's periods and tranches and the model's regions
/// and providers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub solver: String,
    pub solve_seconds: f64,
    /// The LP optimum, $.
    pub objective: f64,
    pub providers: Vec<String>,
    pub regions: Vec<String>,
    pub reservations: Vec<Reservation>,
    /// Nonzero flows, sorted by (period, tranche, region).
    pub flows: Vec<PlanFlow>,
    /// Nonzero unserved demand, sorted by (period, region).
    pub unserved: Vec<Unserved>,
    /// Nonzero N-1 shortfalls, sorted by (lost provider, period, region).
    pub resilience_shortfalls: Vec<ResilienceShortfall>,
}

/// Grid that flows are rounded to, in model units: a millionth of the flow unit (a power of ten
/// near the largest demand cell, so 1,000 tokens/min at 1e10 magnitudes). Interior-point solvers
/// leave noise around 1e-9 relative; rounding it away keeps reports readable and deterministic
/// across backends, while moving totals by under 1e-7 relative.
const FLOW_GRID: f64 = 1e-6;
/// Grid for reservation fractions: finer, since a fraction multiplies whole-horizon commit costs.
const FRACTION_GRID: f64 = 1e-9;

/// Rounds a value in model units to the noise grid and back to tokens per minute.
fn clean(value_units: f64, unit: f64) -> f64 {
    let v = (value_units / FLOW_GRID).round() * FLOW_GRID;
    if v <= 0.0 {
        0.0
    } else {
        v * unit
    }
}

/// Reads a solution back into a plan.
pub fn extract(model: &Model, min_commit: &[f64], solved: &Solved) -> Plan {
    let unit = model.scale.tokens_per_minute_per_unit;
    let value = |c: crate::model::Col| solved.values[c.0];
    let reservations = model
        .reserve
        .iter()
        .enumerate()
        .map(|(k, col)| {
            let z = match col {
                // z in [min_commit, 1]: snap interior-point noise to the bounds and the grid.
                Some(c) => {
                    ((value(*c) / FRACTION_GRID).round() * FRACTION_GRID).clamp(min_commit[k], 1.0)
                }
                None => min_commit[k],
            };
            Reservation {
                tranche: k,
                reserved_fraction: z,
            }
        })
        .collect();
    let mut flows: Vec<PlanFlow> = model
        .flows
        .iter()
        .map(|x| PlanFlow {
            period: x.period.0,
            tranche: x.tranche.0,
            region: x.region.0,
            tokens_per_minute: clean(value(x.col), unit),
        })
        .filter(|x| x.tokens_per_minute > 0.0)
        .collect();
    flows.sort_by_key(|x| (x.period, x.tranche, x.region));
    let mut unserved: Vec<Unserved> = model
        .unserved
        .iter()
        .map(|u| Unserved {
            period: u.period.0,
            region: u.region.0,
            tokens_per_minute: clean(value(u.col), unit),
        })
        .filter(|u| u.tokens_per_minute > 0.0)
        .collect();
    unserved.sort_by_key(|u| (u.period, u.region));
    let mut resilience_shortfalls: Vec<ResilienceShortfall> = model
        .backups
        .iter()
        .flat_map(|b| {
            b.shortfalls.iter().map(move |v| ResilienceShortfall {
                lost_provider: b.lost.0,
                period: v.period.0,
                region: v.region.0,
                tokens_per_minute: clean(value(v.col), unit),
            })
        })
        .filter(|v| v.tokens_per_minute > 0.0)
        .collect();
    resilience_shortfalls.sort_by_key(|v| (v.lost_provider, v.period, v.region));
    Plan {
        solver: solved.solver.name().to_string(),
        solve_seconds: solved.seconds,
        objective: solved.objective_units * model.scale.dollars_per_objective_unit,
        providers: model.providers.clone(),
        regions: model.regions.clone(),
        reservations,
        flows,
        unserved,
        resilience_shortfalls,
    }
}
