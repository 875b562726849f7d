//! Report stage, building: turns a `Plan` and the facts of its scenario into the report tables
//! (token totals, costs per provider and period, allocation split back to workloads, shortfalls).
//! Reads the plan and the facts only, never the LP.

use serde::{Deserialize, Serialize};

use super::tables::{
    cost_per_million_tokens, AllocationRow, ChartTables, Name, ProviderPeriodRow, RegionPeriodRow,
    RunInfo,
};
use crate::facts::{Facts, PeriodId, RegionId, TrancheId};
use crate::load::flags::FlagValue;
use crate::plan::{HeldFrom, Plan};
use crate::scenario::Scenario;
use crate::units::format_time;

/// `summary.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
    /// Tokens served in a later period than they arrived in; present only when some workload can
    /// wait (not unique in general: equally good plans may defer different tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deferred_tokens: Option<f64>,
    pub policy: PolicySummary,
    pub solver: String,
    /// Wall-clock seconds in the solver; the only field that changes between identical runs.
    pub solve_seconds: f64,
    /// The signed plan this run was held to (`run --reservations-from`); absent for a plan.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_plan: Option<HeldPlanSummary>,
    /// With deferral (a plan, not a held run): the peak reservation and spend of this plan against
    /// the same scenario planned with every max_delay at 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deferral_effect: Option<DeferralEffect>,
    /// With whole blocks (a mixed-integer plan): the relative gap to the best bound when the
    /// search stopped (at most 1e-9) and the optimum without the whole-block rule (the LP
    /// relaxation, $, penalties included like `objective`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mip_gap: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relaxation_objective: Option<f64>,
    /// What the plan reserves in GPUs: one entry per provider, region, GPU type, block size and
    /// window, summed over its tranches; absent when no tranche is in GPUs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub gpu_reservations: Vec<GpuReservation>,
    /// The what-ifs given on the command line, in canonical order; absent when none.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub whatif_flags: Vec<FlagValue>,
    pub providers: Vec<ProviderSummary>,
}

/// The GPU columns of a tranche's commitments.csv row (the rest left default): its GPU type,
/// GPUs, GPUs reserved (z · gpus) and blocks (÷ block_gpus). In a whole-block plan the blocks are
/// whole by the model, so the read-back's rounding (z = n·b/gpus in floating point) is removed;
/// a relaxed plan's fractions are kept as they are.
fn gpu_columns(
    t: &crate::scenario::Tranche,
    reserved_fraction: f64,
    whole_blocks: bool,
) -> CommitmentRow {
    let Some(g) = &t.gpu else {
        return CommitmentRow::default();
    };
    let gpus = g.gpus as f64;
    let block = g.block_gpus.max(1) as f64;
    let exact_blocks = reserved_fraction * gpus / block;
    let blocks = if whole_blocks || (exact_blocks - exact_blocks.round()).abs() <= 1e-9 * block {
        exact_blocks.round()
    } else {
        exact_blocks
    };
    CommitmentRow {
        gpu: g.gpu_type.clone().unwrap_or_default(),
        gpus: Some(g.gpus),
        gpus_reserved: Some(blocks * block),
        blocks: Some(blocks),
        ..CommitmentRow::default()
    }
}

/// What letting workloads wait changes: the plan against the same scenario with no deferral.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DeferralEffect {
    /// Largest total reserved capacity in any period (over every provider), tokens/min.
    pub reserved_tpm_peak: f64,
    pub reserved_tpm_peak_without_deferral: f64,
    /// commit + usage + route, $.
    pub cost: f64,
    pub cost_without_deferral: f64,
}

/// The largest total reservation of a plan in any period, tokens/min: Σ over tranches with a
/// reservation decision of available capacity × reserved fraction.
pub fn peak_reserved_tpm(facts: &Facts, plan: &Plan) -> f64 {
    facts
        .all_periods()
        .into_iter()
        .map(|t| {
            plan.tranches
                .iter()
                .enumerate()
                .filter(|(k, _)| facts.tranches[*k].has_reservation_decision)
                .map(|(k, p)| facts.available_tpm[t.0][k] * p.reserved_fraction)
                .sum::<f64>()
        })
        .fold(0.0, f64::max)
}

/// The plan with deferral against `baseline`, the same scenario planned with no deferral.
pub fn deferral_effect(
    facts: &Facts,
    plan: &Plan,
    baseline_facts: &Facts,
    baseline: &Plan,
) -> DeferralEffect {
    DeferralEffect {
        reserved_tpm_peak: peak_reserved_tpm(facts, plan),
        reserved_tpm_peak_without_deferral: peak_reserved_tpm(baseline_facts, baseline),
        cost: plan.costs.cost(),
        cost_without_deferral: baseline.costs.cost(),
    }
}

/// GPUs reserved of one type, in one provider's region and window, in blocks of one size: a line
/// of what to sign ("aws: 4,096 H200 (512 × 8) in us, 2026-01-01 → 2027-01-01").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GpuReservation {
    pub provider: String,
    pub region: String,
    /// GPU type (empty when the scenario does not name it).
    pub gpu: String,
    /// The window's ends as commitments.csv writes them (the horizon's edge when open).
    pub start: String,
    pub end: String,
    pub block_gpus: u64,
    /// Whole in a whole-block plan; a relaxed plan (`--relax`) may reserve fractions.
    pub blocks: f64,
    pub gpus_reserved: f64,
    /// Commitment over the window inside the horizon, $.
    pub commit_cost: f64,
}

/// The GPU reservations of a plan's commitments: rows with GPUs reserved, summed per provider,
/// region, GPU type, window and block size, sorted by provider, region, window, GPU type and block.
fn gpu_reservations(
    rows: &[CommitmentRow],
    block_of: impl Fn(&str) -> Option<u64>,
    horizon: (&str, &str),
) -> Vec<GpuReservation> {
    let mut out: Vec<GpuReservation> = Vec::new();
    for r in rows {
        let (Some(reserved), Some(blocks), Some(block_gpus)) =
            (r.gpus_reserved, r.blocks, block_of(&r.tranche))
        else {
            continue;
        };
        if reserved <= 0.0 {
            continue;
        }
        let or = |text: &str, edge: &str| {
            if text.is_empty() {
                edge.to_string()
            } else {
                text.to_string()
            }
        };
        let key = GpuReservation {
            provider: r.provider.clone(),
            region: r.region.clone(),
            gpu: r.gpu.clone(),
            start: or(&r.start, horizon.0),
            end: or(&r.end, horizon.1),
            block_gpus,
            blocks: 0.0,
            gpus_reserved: 0.0,
            commit_cost: 0.0,
        };
        let same = |g: &GpuReservation| {
            (
                &g.provider,
                &g.region,
                &g.gpu,
                &g.start,
                &g.end,
                g.block_gpus,
            ) == (
                &key.provider,
                &key.region,
                &key.gpu,
                &key.start,
                &key.end,
                key.block_gpus,
            )
        };
        let entry = match out.iter().position(same) {
            Some(i) => &mut out[i],
            None => {
                out.push(key);
                out.last_mut().expect("just pushed")
            }
        };
        entry.blocks += blocks;
        entry.gpus_reserved += reserved;
        entry.commit_cost += r.commit_cost;
    }
    out.sort_by(|a, b| {
        (
            &a.provider,
            &a.region,
            &a.start,
            &a.end,
            &a.gpu,
            a.block_gpus,
        )
            .cmp(&(
                &b.provider,
                &b.region,
                &b.start,
                &b.end,
                &b.gpu,
                b.block_gpus,
            ))
    });
    out
}

/// Which plan a held dispatch was held to, and what it still pays for.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldPlanSummary {
    /// Scenario name of the run that wrote the plan.
    pub scenario: String,
    /// `sha256:<hex>` of its commitments.csv.
    pub commitments_sha256: String,
    /// Emergency rules: share cap and N-1 dropped.
    pub emergency: bool,
    /// Commitments of the held plan for tranches this scenario does not have: paid, serving
    /// nothing (included in `commit_cost`).
    pub orphaned_commit_cost: f64,
    pub orphaned_tranches: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicySummary {
    pub unserved_penalty: f64,
    pub max_provider_share: f64,
    pub survive_provider_loss: bool,
    pub loss_coverage: f64,
    pub resilience_penalty: f64,
    /// Workloads with an unserved penalty of their own (workloads.csv), $ per million tokens;
    /// absent when none has.
    #[serde(default, skip_serializing_if = "std::collections::BTreeMap::is_empty")]
    pub workload_unserved_penalties: std::collections::BTreeMap<String, f64>,
    /// The policy in one line.
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderSummary {
    pub provider: String,
    /// Largest reserved capacity there in any period (A(k,t) × capacity × reserved fraction,
    /// tranches with a reservation decision), tokens/min.
    pub reserved_tpm_peak: f64,
    pub served_tokens: f64,
    /// Commit + usage + route cost of the provider's tranches, $.
    pub cost: f64,
    pub commit_cost: f64,
    pub usage_cost: f64,
    pub route_cost: f64,
    /// Largest share of a period's total demand served by this provider (with deferral, of the
    /// share cap's base B: all tokens served in the period plus its arrivals never served).
    pub peak_share: f64,
}

pub use crate::load::signed::CommitmentRow;

/// What a shortfall row is about (named in shortfalls.csv as serde names it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ShortfallKind {
    /// Demand left unserved by the plan.
    #[default]
    Unserved,
    /// Demand × loss_coverage that could not be carried if `lost_provider` went down.
    ProviderLoss,
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
    /// Why demand went unserved (`capacity`, `share cap`, `penalty below price`), when known;
    /// empty for N-1 rows.
    pub cause: String,
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
    /// Commitments of a held plan this scenario no longer has, by tranche, for the text report.
    pub orphaned: Vec<CommitmentRow>,
    /// `deferral.csv`: where the tokens that may wait were served; None when none may.
    pub deferral: Option<Vec<super::deferral::DeferralRow>>,
}

/// Per (period, provider) sums, indexed [period][provider].
struct ProviderGrid {
    available: Vec<Vec<f64>>,
    reserved: Vec<Vec<f64>>,
    served: Vec<Vec<f64>>,
    /// Served by tranches without a reservation decision.
    on_demand: Vec<Vec<f64>>,
    /// Capacity of tranches without a reservation decision.
    on_demand_available: Vec<Vec<f64>>,
    commit: Vec<Vec<f64>>,
    usage: Vec<Vec<f64>>,
    route: Vec<Vec<f64>>,
}

/// For each value, the rank of its value among the distinct values: equal values share a rank and
/// ranks order as the values do.
fn ranks<T: Ord>(values: &[T]) -> Vec<u32> {
    let mut by_value: Vec<usize> = (0..values.len()).collect();
    by_value.sort_by(|&a, &b| values[a].cmp(&values[b]));
    let mut rank = vec![0u32; values.len()];
    let mut current = 0u32;
    for (n, pair) in by_value.windows(2).enumerate() {
        if values[pair[0]] != values[pair[1]] {
            current += 1;
        }
        rank[by_value[n + 1]] = current;
    }
    rank
}

/// Builds every report table from a scenario's facts and its plan.
pub fn build(s: &Scenario, facts: &Facts, plan: &Plan) -> Report {
    let n_t = facts.period_count();
    let n_p = facts.providers.len();
    let regions = &facts.regions;
    let zero = || vec![vec![0.0; n_p]; n_t];
    let mut g = ProviderGrid {
        available: zero(),
        reserved: zero(),
        served: zero(),
        on_demand: zero(),
        on_demand_available: zero(),
        commit: zero(),
        usage: zero(),
        route: zero(),
    };
    for t in facts.all_periods() {
        for (k, tranche) in plan.tranches.iter().enumerate() {
            let f = &facts.tranches[k];
            let p = f.provider.0;
            let available = facts.available_tpm[t.0][k];
            g.available[t.0][p] += available;
            if f.has_reservation_decision {
                g.reserved[t.0][p] += available * tranche.reserved_fraction;
                g.commit[t.0][p] +=
                    facts.commit_dollars_in(TrancheId(k), &[t]) * tranche.reserved_fraction;
            } else {
                g.on_demand_available[t.0][p] += available;
            }
        }
    }
    // Allocation rows are sorted by (period, provider, tranche, demand region, workload). Each
    // row is first an entry of integer ranks, which order exactly as the values do, and its
    // index in plan order, which keeps equal keys in plan order as a stable sort would; the rows
    // are made once sorted, their names shared (not a String each: two million rows on an hourly
    // year of 16 regions). (Sorting the 248k rows of an hourly year by their text was most of the
    // report stage.)
    let period_rank = ranks(&s.periods.iter().map(|p| p.start).collect::<Vec<_>>());
    let provider_rank = ranks(&s.tranches.iter().map(|k| &k.provider).collect::<Vec<_>>());
    let tranche_rank = ranks(&s.tranches.iter().map(|k| &k.name).collect::<Vec<_>>());
    let region_rank = ranks(regions);
    let workload_rank = ranks(&facts.workloads);
    // (ranks, flow, entry of the flow's demand cell): the flow and entry also order rows of
    // equal ranks as they are made (flows in plan order, each cell's workloads in order).
    let mut order: Vec<([u32; 5], u32, u32)> = Vec::with_capacity(plan.flows.len());
    let mut served_rt = vec![vec![0.0; regions.len()]; n_t];
    for (i, x) in plan.flows.iter().enumerate() {
        let (t, k, r) = (x.period, x.tranche.0, x.region.0);
        let p = facts.tranches[k].provider.0;
        let route_per_million = facts.tranches[k].route_cost_per_million_tokens[r]
            .expect("flows exist only on allowed routes");
        let million_tokens = facts.million_tokens(t, x.tokens_per_minute);
        g.served[t.0][p] += x.tokens_per_minute;
        if !facts.tranches[k].has_reservation_decision {
            g.on_demand[t.0][p] += x.tokens_per_minute;
        }
        served_rt[t.0][r] += x.tokens_per_minute;
        g.usage[t.0][p] += million_tokens * facts.tranches[k].usage_cost_per_million_tokens;
        g.route[t.0][p] += million_tokens * route_per_million;
        // The class's workloads only (a tranche of one model serves only that model's), as they
        // arrived (the same period without deferral).
        for (j, &(w, d)) in facts.workload_demand_tpm[x.arrival.0][r].iter().enumerate() {
            if d <= 0.0 || facts.class_of[r][w.0] != Some(x.class) {
                continue;
            }
            let key = [
                period_rank[t.0],
                provider_rank[k],
                tranche_rank[k],
                region_rank[r],
                workload_rank[w.0],
            ];
            order.push((key, i as u32, j as u32));
        }
    }
    order.sort_unstable();
    // Each name once, shared by every row that names it.
    let providers: Vec<Name> = s.tranches.iter().map(|k| (&k.provider).into()).collect();
    let tranches: Vec<Name> = s.tranches.iter().map(|k| (&k.name).into()).collect();
    let supply_regions: Vec<Name> = s.tranches.iter().map(|k| (&k.region).into()).collect();
    let demand_regions: Vec<Name> = regions.iter().map(Name::from).collect();
    let workloads: Vec<Name> = facts.workloads.iter().map(Name::from).collect();
    // Tokens per GPU-hour of each tranche in GPUs (tokens per second per GPU × 3,600).
    let tokens_per_gpu_hour: Vec<Option<f64>> = s
        .tranches
        .iter()
        .map(|k| k.gpu.as_ref().map(|g| g.tokens_per_second_per_gpu * 3600.0))
        .collect();
    let mut allocation: Vec<AllocationRow> = Vec::with_capacity(order.len());
    let mut last_key = None;
    for &(key, i, j) in &order {
        let x = &plan.flows[i as usize];
        let (t, k, r) = (x.period, x.tranche.0, x.region.0);
        // Workloads of a class are alike to every constraint: split in proportion to demand as
        // it arrived.
        let a = x.arrival.0;
        let (w, d) = facts.workload_demand_tpm[a][r][j as usize];
        // d / total ≤ 1 keeps the product finite at any magnitude.
        let tpm = x.tokens_per_minute * (d / facts.class_demand_tpm[a][x.class.0]);
        let price = facts.tranches[k]
            .flow_price(RegionId(r))
            .expect("flows exist only on allowed routes");
        // With deferral a row (service period, tranche, region, workload) gathers the flows of
        // every arrival it serves; without it each key is one flow.
        if last_key == Some(key) {
            let row = allocation.last_mut().expect("a row of this key");
            row.tokens_per_minute += tpm;
            row.cost = facts.million_tokens(t, row.tokens_per_minute) * price;
            row.gpu_hours =
                tokens_per_gpu_hour[k].map(|rate| facts.tokens(t, row.tokens_per_minute) / rate);
            continue;
        }
        last_key = Some(key);
        allocation.push(AllocationRow {
            period: s.periods[t.0].start,
            provider: providers[k].clone(),
            tranche: tranches[k].clone(),
            supply_region: supply_regions[k].clone(),
            demand_region: demand_regions[r].clone(),
            workload: workloads[w.0].clone(),
            tokens_per_minute: tpm,
            cost: facts.million_tokens(t, tpm) * price,
            gpu_hours: tokens_per_gpu_hour[k].map(|rate| facts.tokens(t, tpm) / rate),
        });
    }
    let mut unserved_rt = vec![vec![0.0; regions.len()]; n_t];
    for u in &plan.unserved {
        unserved_rt[u.period.0][u.region.0] += u.tokens_per_minute;
    }

    let mut provider_periods = Vec::with_capacity(n_t * n_p);
    let mut region_periods = Vec::with_capacity(n_t * regions.len());
    for (t, period) in s.periods.iter().enumerate() {
        for (p, name) in facts.providers.iter().enumerate() {
            provider_periods.push(ProviderPeriodRow {
                period: period.start,
                minutes: period.minutes,
                provider: name.clone(),
                available_tpm: g.available[t][p],
                reserved_tpm: g.reserved[t][p],
                served_tpm: g.served[t][p],
                on_demand_tpm: g.on_demand[t][p],
                // Reserved capacity paid for but not used; never below 0 (noise).
                idle_reserved_tpm: (g.reserved[t][p] - (g.served[t][p] - g.on_demand[t][p]))
                    .max(0.0),
                on_demand_available_tpm: g.on_demand_available[t][p],
                commit_cost: g.commit[t][p],
                usage_cost: g.usage[t][p],
                route_cost: g.route[t][p],
            });
        }
        for (r, name) in regions.iter().enumerate() {
            region_periods.push(RegionPeriodRow {
                period: period.start,
                minutes: period.minutes,
                region: name.clone(),
                demand_tpm: facts.demand_tpm[t][r],
                served_tpm: served_rt[t][r],
                unserved_tpm: unserved_rt[t][r],
            });
        }
    }

    let mut shortfalls: Vec<ShortfallRow> = plan
        .unserved
        .iter()
        .map(|u| ShortfallRow {
            kind: ShortfallKind::Unserved,
            period: u.period.0,
            region: regions[u.region.0].clone(),
            lost_provider: String::new(),
            tokens_per_minute: u.tokens_per_minute,
            tokens: facts.tokens(u.period, u.tokens_per_minute),
            cause: u.cause.map(|c| c.name().to_string()).unwrap_or_default(),
        })
        .chain(plan.resilience_shortfalls.iter().map(|v| ShortfallRow {
            kind: ShortfallKind::ProviderLoss,
            period: v.period.0,
            region: regions[v.region.0].clone(),
            lost_provider: facts.providers[v.lost.0].clone(),
            tokens_per_minute: v.tokens_per_minute,
            tokens: facts.tokens(v.period, v.tokens_per_minute),
            cause: String::new(),
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

    let window_text =
        |t: Option<chrono::DateTime<chrono::Utc>>| t.map(|x| format_time(&x)).unwrap_or_default();
    let orphaned: Vec<CommitmentRow> = plan
        .orphaned
        .iter()
        .map(|o| CommitmentRow {
            reserved_tpm: o.reserved_fraction * o.capacity_tpm,
            ..o.clone()
        })
        .collect();
    let mut commitments: Vec<CommitmentRow> = plan
        .tranches
        .iter()
        .zip(&s.tranches)
        .map(|(p, t)| CommitmentRow {
            tranche: p.name.clone(),
            provider: p.provider.clone(),
            region: p.region.clone(),
            start: window_text(t.start),
            end: window_text(t.end),
            capacity_tpm: t.capacity_tpm,
            reserved_fraction: p.reserved_fraction,
            reserved_tpm: p.reserved_fraction * t.capacity_tpm,
            commit_cost: p.commit_cost,
            ..gpu_columns(
                t,
                p.reserved_fraction,
                plan.whole_blocks.is_some() && p.has_reservation_decision,
            )
        })
        .chain(orphaned.iter().cloned())
        .collect();
    commitments.sort_by(|a, b| {
        (&a.provider, &a.region, &a.tranche).cmp(&(&b.provider, &b.region, &b.tranche))
    });

    let costs = &plan.costs;
    let cost = costs.cost();
    let demand_tokens: f64 = facts
        .all_periods()
        .into_iter()
        .map(|t| facts.tokens(t, facts.total_demand_tpm[t.0]))
        .sum();
    let served_tokens: f64 = plan
        .flows
        .iter()
        .map(|x| facts.tokens(x.period, x.tokens_per_minute))
        .sum();
    let unserved_tokens: f64 = plan
        .unserved
        .iter()
        .map(|u| facts.tokens(u.period, u.tokens_per_minute))
        .sum();
    let resilience_shortfall_tokens: f64 = plan
        .resilience_shortfalls
        .iter()
        .map(|v| facts.tokens(v.period, v.tokens_per_minute))
        .sum();
    let providers_summary = (0..n_p)
        .map(|p| {
            let total = |m: &Vec<Vec<f64>>| (0..n_t).map(|t| m[t][p]).sum::<f64>();
            ProviderSummary {
                provider: facts.providers[p].clone(),
                reserved_tpm_peak: (0..n_t).map(|t| g.reserved[t][p]).fold(0.0, f64::max),
                served_tokens: (0..n_t)
                    .map(|t| facts.tokens(PeriodId(t), g.served[t][p]))
                    .sum(),
                cost: total(&g.commit) + total(&g.usage) + total(&g.route),
                commit_cost: total(&g.commit),
                usage_cost: total(&g.usage),
                route_cost: total(&g.route),
                peak_share: (0..n_t)
                    .map(|t| {
                        let d = if facts.defers() {
                            served_rt[t].iter().sum::<f64>() + unserved_rt[t].iter().sum::<f64>()
                        } else {
                            facts.total_demand_tpm[t]
                        };
                        if d > 0.0 {
                            g.served[t][p] / d
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
        commit_cost: costs.commit,
        usage_cost: costs.usage,
        route_cost: costs.route,
        unserved_penalty_cost: costs.unserved_penalty,
        resilience_penalty_cost: costs.resilience_penalty,
        cost_per_million_tokens: cost_per_million_tokens(cost, served_tokens).unwrap_or(0.0),
        demand_tokens,
        served_tokens,
        unserved_tokens,
        served_fraction: if demand_tokens > 0.0 {
            (served_tokens / demand_tokens).min(1.0)
        } else {
            1.0
        },
        resilience_shortfall_tokens,
        deferred_tokens: facts
            .defers()
            .then(|| super::deferral::deferred_tokens(facts, plan)),
        policy: PolicySummary {
            unserved_penalty: policy.unserved_penalty,
            max_provider_share: policy.max_provider_share,
            survive_provider_loss: policy.survive_provider_loss,
            loss_coverage: policy.loss_coverage,
            resilience_penalty: policy.resilience_penalty,
            workload_unserved_penalties: s
                .workload_settings
                .iter()
                .filter_map(|(name, w)| w.unserved_penalty.map(|v| (name.clone(), v)))
                .collect(),
            text: s.policy_line(),
        },
        solver: plan.solver.clone(),
        solve_seconds: plan.solve_seconds,
        held_plan: plan.held.as_ref().map(|h: &HeldFrom| HeldPlanSummary {
            scenario: h.scenario.clone(),
            commitments_sha256: h.commitments_sha256.clone(),
            emergency: h.emergency,
            orphaned_commit_cost: plan.orphaned.iter().map(|o| o.commit_cost).sum(),
            orphaned_tranches: plan.orphaned.iter().map(|o| o.tranche.clone()).collect(),
        }),
        deferral_effect: None,
        mip_gap: plan.whole_blocks.map(|w| w.mip_gap),
        relaxation_objective: plan.whole_blocks.map(|w| w.relaxation_objective),
        gpu_reservations: gpu_reservations(
            &commitments,
            |name| {
                s.tranches
                    .iter()
                    .find(|t| t.name == name)
                    .and_then(|t| t.gpu.as_ref())
                    .map(|g| g.block_gpus.max(1))
            },
            (&s.horizon_start_text(), &s.horizon_end_text()),
        ),
        whatif_flags: Vec::new(),
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
            held_to: plan.held.as_ref().map(|h| h.scenario.clone()),
        },
        provider_periods,
        region_periods,
        allocation,
        commitments: commitments.clone(),
    };
    Report {
        summary,
        commitments,
        shortfalls,
        charts,
        period_starts: s.periods.iter().map(|p| p.start).collect(),
        period_minutes: facts.period_minutes.clone(),
        orphaned,
        deferral: super::deferral::rows(s, facts, plan),
    }
}
