//! Report stage, building: turns a `Scenario` and its `Plan` into the report tables (token totals,
//! costs per provider and period, allocation split back to workloads, shortfalls).

use serde::Serialize;

use super::tables::{AllocationRow, ChartTables, ProviderPeriodRow, RegionPeriodRow, RunInfo};
use crate::plan::Plan;
use crate::scenario::Scenario;
use crate::units::{format_time, MINUTES_PER_HOUR, TOKENS_PER_MILLION};

/// `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub scenario: String,
    pub description: String,
    pub horizon_start: String,
    pub horizon_end: String,
    pub periods: usize,
    /// The LP optimum, $: cost plus unserved and resilience penalties.
    pub objective: f64,
    /// commit_cost + usage_cost + route_cost, $.
    pub cost: f64,
    pub commit_cost: f64,
    /// Usage cost, $, route cost excluded.
    pub usage_cost: f64,
    pub route_cost: f64,
    /// unserved_penalty × unserved tokens / 1e6, $.
    pub unserved_penalty_cost: f64,
    /// resilience_penalty × resilience shortfall tokens / 1e6, $.
    pub resilience_penalty_cost: f64,
    /// cost per million tokens served, $.
    pub cost_per_million_tokens: f64,
    pub demand_tokens: f64,
    pub served_tokens: f64,
    pub unserved_tokens: f64,
    /// served_tokens / demand_tokens (1 when there is no demand).
    pub served_fraction: f64,
    /// Tokens of N-1 shortfall, summed over periods and lost providers.
    pub resilience_shortfall_tokens: f64,
    pub policy: PolicySummary,
    pub solver: String,
    /// Wall-clock seconds in the solver; the only field that changes between identical runs.
    pub solve_seconds: f64,
    pub providers: Vec<ProviderSummary>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PolicySummary {
    pub unserved_penalty: f64,
    pub max_provider_share: f64,
    pub survive_provider_loss: bool,
    pub loss_coverage: f64,
    pub resilience_penalty: f64,
    /// The policy in one line.
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProviderSummary {
    pub provider: String,
    /// Largest reserved capacity held in any period (reserved fraction × capacity, after outages), tokens/min.
    pub reserved_tpm_peak: f64,
    pub served_tokens: f64,
    /// Commit + usage + route cost of the provider's tranches, $.
    pub cost: f64,
    pub commit_cost: f64,
    pub usage_cost: f64,
    pub route_cost: f64,
    /// Largest share of a period's total demand served by this provider.
    pub peak_share: f64,
}

/// One row of `commitments.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct CommitmentRow {
    pub tranche: String,
    pub provider: String,
    pub region: String,
    pub start: String,
    pub end: String,
    pub capacity_tpm: f64,
    pub reserved_fraction: f64,
    pub reserved_tpm: f64,
    pub commit_cost: f64,
}

/// What a shortfall row is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ShortfallKind {
    /// Demand left unserved by the plan.
    Unserved,
    /// Demand × loss_coverage that could not be carried if `lost_provider` went down.
    ProviderLoss,
}

impl ShortfallKind {
    pub fn name(self) -> &'static str {
        match self {
            ShortfallKind::Unserved => "unserved",
            ShortfallKind::ProviderLoss => "provider_loss",
        }
    }
}

/// One row of `shortfalls.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct ShortfallRow {
    pub kind: ShortfallKind,
    pub period: usize,
    pub region: String,
    /// Empty for unserved rows.
    pub lost_provider: String,
    pub tokens_per_minute: f64,
    /// tokens_per_minute × period minutes.
    pub tokens: f64,
}

/// Every table of a run.
#[derive(Debug, Clone, PartialEq)]
pub struct Report {
    pub summary: Summary,
    pub commitments: Vec<CommitmentRow>,
    pub shortfalls: Vec<ShortfallRow>,
    pub charts: ChartTables,
    /// Period starts, for labels.
    pub period_starts: Vec<chrono::DateTime<chrono::Utc>>,
    pub period_minutes: Vec<f64>,
}

/// Builds every report table from a scenario and its plan.
pub fn build(s: &Scenario, plan: &Plan) -> Report {
    let periods = &s.periods;
    let n_t = periods.len();
    let providers = &plan.providers;
    let regions = &plan.regions;
    let provider_of: Vec<usize> = s
        .tranches
        .iter()
        .map(|k| {
            providers
                .binary_search(&k.provider)
                .expect("provider listed")
        })
        .collect();
    let z: Vec<f64> = plan
        .reservations
        .iter()
        .map(|r| r.reserved_fraction)
        .collect();

    // Demand per (period, region) and per (period, region, workload), tokens/min.
    let mut demand_rt = vec![vec![0.0; regions.len()]; n_t];
    let mut cells: Vec<Vec<Vec<(String, f64)>>> = vec![vec![Vec::new(); regions.len()]; n_t];
    for d in &s.demand {
        let t = periods
            .binary_search_by(|p| p.start.cmp(&d.period))
            .expect("period on grid");
        let r = regions.binary_search(&d.region).expect("region listed");
        demand_rt[t][r] += d.tokens_per_minute;
        cells[t][r].push((d.workload.clone(), d.tokens_per_minute));
    }
    for row in cells.iter_mut().flatten() {
        row.sort_by(|a, b| a.0.cmp(&b.0));
    }

    // Per provider and period.
    let n_p = providers.len();
    let mut available = vec![vec![0.0; n_p]; n_t];
    let mut reserved = vec![vec![0.0; n_p]; n_t];
    let mut served = vec![vec![0.0; n_p]; n_t];
    let mut commit = vec![vec![0.0; n_p]; n_t];
    let mut usage = vec![vec![0.0; n_p]; n_t];
    let mut route = vec![vec![0.0; n_p]; n_t];
    for (t, p) in periods.iter().enumerate() {
        for (k, tranche) in s.tranches.iter().enumerate() {
            if !tranche.active_at(p.start) {
                continue;
            }
            let cap = tranche.capacity_tpm * s.capacity_factor(tranche, p.start);
            let pr = provider_of[k];
            available[t][pr] += cap;
            if tranche.commit_cost_per_hour > 0.0 || tranche.min_commit > 0.0 {
                reserved[t][pr] += z[k] * cap;
            }
            commit[t][pr] += tranche.commit_cost_per_hour * z[k] * p.minutes / MINUTES_PER_HOUR;
        }
    }
    let mut allocation = Vec::new();
    let mut served_rt = vec![vec![0.0; regions.len()]; n_t];
    for x in &plan.flows {
        let tranche = &s.tranches[x.tranche];
        let pr = provider_of[x.tranche];
        let minutes = periods[x.period].minutes;
        let route_per_million = s.route(&tranche.region, &regions[x.region]).unwrap_or(0.0);
        let million_tokens = x.tokens_per_minute * minutes / TOKENS_PER_MILLION;
        served[x.period][pr] += x.tokens_per_minute;
        served_rt[x.period][x.region] += x.tokens_per_minute;
        usage[x.period][pr] += million_tokens * tranche.cost_per_million_tokens;
        route[x.period][pr] += million_tokens * route_per_million;
        // Workloads of a region are alike to every constraint: split in proportion to demand.
        let total = demand_rt[x.period][x.region];
        for (workload, d) in &cells[x.period][x.region] {
            if *d <= 0.0 {
                continue;
            }
            let tpm = x.tokens_per_minute * (d / total);
            allocation.push(AllocationRow {
                period: periods[x.period].start,
                provider: tranche.provider.clone(),
                tranche: tranche.name.clone(),
                supply_region: tranche.region.clone(),
                demand_region: regions[x.region].clone(),
                workload: workload.clone(),
                tokens_per_minute: tpm,
                cost: tpm * minutes / TOKENS_PER_MILLION
                    * (tranche.cost_per_million_tokens + route_per_million),
            });
        }
    }
    allocation.sort_by(|a, b| {
        (
            a.period,
            &a.provider,
            &a.tranche,
            &a.demand_region,
            &a.workload,
        )
            .cmp(&(
                b.period,
                &b.provider,
                &b.tranche,
                &b.demand_region,
                &b.workload,
            ))
    });

    let mut provider_periods = Vec::with_capacity(n_t * n_p);
    let mut region_periods = Vec::with_capacity(n_t * regions.len());
    for (t, p) in periods.iter().enumerate() {
        for (pr, name) in providers.iter().enumerate() {
            provider_periods.push(ProviderPeriodRow {
                period: p.start,
                minutes: p.minutes,
                provider: name.clone(),
                available_tpm: available[t][pr],
                reserved_tpm: reserved[t][pr],
                served_tpm: served[t][pr],
                commit_cost: commit[t][pr],
                usage_cost: usage[t][pr],
                route_cost: route[t][pr],
            });
        }
        for (r, name) in regions.iter().enumerate() {
            region_periods.push(RegionPeriodRow {
                period: p.start,
                minutes: p.minutes,
                region: name.clone(),
                demand_tpm: demand_rt[t][r],
                served_tpm: served_rt[t][r],
                unserved_tpm: (demand_rt[t][r] - served_rt[t][r]).max(0.0),
            });
        }
    }

    let mut shortfalls: Vec<ShortfallRow> = plan
        .unserved
        .iter()
        .map(|u| ShortfallRow {
            kind: ShortfallKind::Unserved,
            period: u.period,
            region: regions[u.region].clone(),
            lost_provider: String::new(),
            tokens_per_minute: u.tokens_per_minute,
            tokens: u.tokens_per_minute * periods[u.period].minutes,
        })
        .chain(plan.resilience_shortfalls.iter().map(|v| ShortfallRow {
            kind: ShortfallKind::ProviderLoss,
            period: v.period,
            region: regions[v.region].clone(),
            lost_provider: providers[v.lost_provider].clone(),
            tokens_per_minute: v.tokens_per_minute,
            tokens: v.tokens_per_minute * periods[v.period].minutes,
        }))
        .collect();
    shortfalls.sort_by(|a, b| {
        (a.kind, &a.lost_provider, a.period, &a.region).cmp(&(
            b.kind,
            &b.lost_provider,
            b.period,
            &b.region,
        ))
    });

    let commitments: Vec<CommitmentRow> = {
        let mut rows: Vec<CommitmentRow> = s
            .tranches
            .iter()
            .enumerate()
            .map(|(k, t)| {
                let hours: f64 = periods
                    .iter()
                    .filter(|p| t.active_at(p.start))
                    .map(|p| p.minutes / MINUTES_PER_HOUR)
                    .sum();
                CommitmentRow {
                    tranche: t.name.clone(),
                    provider: t.provider.clone(),
                    region: t.region.clone(),
                    start: t.start.map(|x| format_time(&x)).unwrap_or_default(),
                    end: t.end.map(|x| format_time(&x)).unwrap_or_default(),
                    capacity_tpm: t.capacity_tpm,
                    reserved_fraction: z[k],
                    reserved_tpm: z[k] * t.capacity_tpm,
                    commit_cost: t.commit_cost_per_hour * z[k] * hours,
                }
            })
            .collect();
        rows.sort_by(|a, b| {
            (&a.provider, &a.region, &a.tranche).cmp(&(&b.provider, &b.region, &b.tranche))
        });
        rows
    };

    let sum = |m: &Vec<Vec<f64>>| m.iter().flatten().sum::<f64>();
    let commit_cost = sum(&commit);
    let usage_cost = sum(&usage);
    let route_cost = sum(&route);
    let cost = commit_cost + usage_cost + route_cost;
    let demand_tokens: f64 = (0..n_t)
        .map(|t| demand_rt[t].iter().sum::<f64>() * periods[t].minutes)
        .sum();
    let served_tokens: f64 = (0..n_t)
        .map(|t| served[t].iter().sum::<f64>() * periods[t].minutes)
        .sum();
    let unserved_tokens: f64 = plan
        .unserved
        .iter()
        .map(|u| u.tokens_per_minute * periods[u.period].minutes)
        .sum();
    let resilience_shortfall_tokens: f64 = plan
        .resilience_shortfalls
        .iter()
        .map(|v| v.tokens_per_minute * periods[v.period].minutes)
        .sum();
    let providers_summary = (0..n_p)
        .map(|pr| {
            let col = |m: &Vec<Vec<f64>>| (0..n_t).map(|t| m[t][pr]).sum::<f64>();
            ProviderSummary {
                provider: providers[pr].clone(),
                reserved_tpm_peak: (0..n_t).map(|t| reserved[t][pr]).fold(0.0, f64::max),
                served_tokens: (0..n_t).map(|t| served[t][pr] * periods[t].minutes).sum(),
                cost: col(&commit) + col(&usage) + col(&route),
                commit_cost: col(&commit),
                usage_cost: col(&usage),
                route_cost: col(&route),
                peak_share: (0..n_t)
                    .map(|t| {
                        let d: f64 = demand_rt[t].iter().sum();
                        if d > 0.0 {
                            served[t][pr] / d
                        } else {
                            0.0
                        }
                    })
                    .fold(0.0, f64::max),
            }
        })
        .collect();
    let policy = &s.policy;
    let summary = Summary {
        scenario: s.name.clone(),
        description: s.description.clone(),
        horizon_start: s.horizon_start_text(),
        horizon_end: s.horizon_end_text(),
        periods: n_t,
        objective: plan.objective,
        cost,
        commit_cost,
        usage_cost,
        route_cost,
        unserved_penalty_cost: unserved_tokens / TOKENS_PER_MILLION * policy.unserved_penalty,
        resilience_penalty_cost: resilience_shortfall_tokens / TOKENS_PER_MILLION
            * policy.resilience_penalty,
        cost_per_million_tokens: if served_tokens > 0.0 {
            cost / (served_tokens / TOKENS_PER_MILLION)
        } else {
            0.0
        },
        demand_tokens,
        served_tokens,
        unserved_tokens,
        served_fraction: if demand_tokens > 0.0 {
            served_tokens / demand_tokens
        } else {
            1.0
        },
        resilience_shortfall_tokens,
        policy: PolicySummary {
            unserved_penalty: policy.unserved_penalty,
            max_provider_share: policy.max_provider_share,
            survive_provider_loss: policy.survive_provider_loss,
            loss_coverage: policy.loss_coverage,
            resilience_penalty: policy.resilience_penalty,
            text: s.policy_line(),
        },
        solver: plan.solver.clone(),
        solve_seconds: plan.solve_seconds,
        providers: providers_summary,
    };
    let charts = ChartTables {
        info: RunInfo {
            scenario: s.name.clone(),
            policy: s.policy_line(),
            max_provider_share: (policy.max_provider_share < 1.0)
                .then_some(policy.max_provider_share),
            cost,
            served_tokens,
        },
        provider_periods,
        region_periods,
        allocation,
    };
    Report {
        summary,
        commitments,
        shortfalls,
        charts,
        period_starts: periods.iter().map(|p| p.start).collect(),
        period_minutes: periods.iter().map(|p| p.minutes).collect(),
    }
}
