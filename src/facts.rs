//! Facts stage: numbers derived once from a validated `Scenario` and read by every later stage
//! (model, validation warnings, reports, charts), so no two stages can disagree about them.
//!
//! - a(k,t): the fraction of period t inside tranche k's window `[start, end)`;
//! - A(k,t): the fraction of period t in which k is available, each instant weighted by the
//!   capacity factor in force then (the smallest factor where outages overlap), so A ≤ a;
//! - H(k) = Σt a(k,t)·Δt/60, the hours of k's window inside the horizon (outages do not lower it);
//! - whether k has a reservation decision: commit_cost_per_hour · H(k) > 0 (the spec's one rule);
//! - demand per (period, region), workloads merged, and per workload for splitting flows back;
//! - allowed routes and their extra cost, per (tranche, demand region);
//! - the service window of every (demand class, arrival period): the periods its tokens may be
//!   served in (the spec's S(w,t)), and whether any window spans more than one period.
//!
//! Times are handled in whole milliseconds (the loader's resolution), so a period wholly inside a
//! window gets a(k,t) = 1 exactly.

use crate::scenario::{Scenario, Tranche};
use crate::units::{MINUTES_PER_HOUR, TOKENS_PER_MILLION};

/// Index of a tranche in `Scenario::tranches` (and in every per-tranche list of the facts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct TrancheId(pub usize);
/// Index into `Facts::providers` (sorted names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct ProviderId(pub usize);
/// Index into `Facts::regions` (sorted demand-region names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct RegionId(pub usize);
/// Index into `Scenario::periods`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct PeriodId(pub usize);
/// Index into `Facts::workloads` (sorted names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct WorkloadId(pub usize);
/// Index into `Facts::classes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct ClassId(pub usize);
/// Index into `Facts::models` (sorted names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub struct ModelId(pub usize);

/// A demand class: the workloads of one region that every constraint treats alike — the same
/// model, the same max_delay and the same unserved penalty — so the LP merges them (exact, as the
/// spec's settled details say). Without workloads.csv there is one class per region.
#[derive(Debug, Clone, PartialEq)]
pub struct DemandClass {
    pub region: RegionId,
    /// The model its tokens run on; None: served only by tranches without a model.
    pub model: Option<ModelId>,
    /// How long its tokens may wait, minutes (0: served in the period they arrive).
    pub max_delay_minutes: f64,
    /// $ per million tokens left unserved.
    pub unserved_penalty: f64,
}

const MILLIS_PER_MINUTE: f64 = 60_000.0;
const MILLIS_PER_HOUR: f64 = 3_600_000.0;

/// Per-tranche facts, in `Scenario::tranches` order.
#[derive(Debug, Clone, PartialEq)]
pub struct TrancheFacts {
    pub provider: ProviderId,
    /// H(k): hours of the window inside the horizon.
    pub window_hours: f64,
    /// commit_cost_per_hour · H(k) > 0: z is a decision; otherwise the tranche is on-demand.
    pub has_reservation_decision: bool,
    /// ρ(g(k), r) in $ per million tokens where the route is allowed, per demand region.
    pub route_cost_per_million_tokens: Vec<Option<f64>>,
    /// Usage price, $ per million tokens served (route cost apart).
    pub usage_cost_per_million_tokens: f64,
    /// Reservation price of the full tranche, $ per hour of its window.
    pub commit_cost_per_hour: f64,
    /// Least reserved fraction.
    pub min_commit: f64,
    /// The model the tranche serves; None: every workload.
    pub model: Option<ModelId>,
    /// Where reservations come in whole blocks (a tranche in GPUs with a reservation decision):
    /// the fraction one block is, block_gpus / gpus; z must be a whole multiple of it.
    pub reservation_step: Option<f64>,
}

impl TrancheFacts {
    /// The price of a token this tranche serves to demand region r: usage + route, $ per
    /// million tokens; None where the route is not allowed. The one definition of the flow
    /// price, read by the LP, the networks and the reports.
    pub fn flow_price(&self, r: RegionId) -> Option<f64> {
        self.route_cost_per_million_tokens[r.0]
            .map(|route| self.usage_cost_per_million_tokens + route)
    }

    /// Whether this tranche may serve a demand class: its route to the class's region is allowed
    /// and its model is blank or the class's (the one definition of the model filter).
    pub fn serves(&self, class: &DemandClass) -> bool {
        self.route_cost_per_million_tokens[class.region.0].is_some()
            && (self.model.is_none() || self.model == class.model)
    }

    /// What reserving all of it costs over its whole window in the horizon: commit price × H(k),
    /// $ (0 without a reservation decision). The one definition of the commitment, read by the
    /// LP, the decomposition's master, the plan and the reports.
    pub fn commit_dollars(&self) -> f64 {
        if self.has_reservation_decision {
            self.commit_cost_per_hour * self.window_hours
        } else {
            0.0
        }
    }
}

/// Everything later stages derive from a scenario, computed once.
#[derive(Debug, Clone, PartialEq)]
pub struct Facts {
    /// Period lengths Δt, minutes (a copy of `Scenario::periods`' lengths).
    pub period_minutes: Vec<f64>,
    /// Distinct providers with at least one tranche, sorted.
    pub providers: Vec<String>,
    /// Distinct demand regions, sorted.
    pub regions: Vec<String>,
    /// Distinct workloads, sorted.
    pub workloads: Vec<String>,
    pub tranches: Vec<TrancheFacts>,
    /// a(k,t), indexed [period][tranche].
    pub window_fraction: Vec<Vec<f64>>,
    /// A(k,t), indexed [period][tranche].
    pub available_fraction: Vec<Vec<f64>>,
    /// A(k,t)·cap(k): tokens per minute available at full commitment, indexed [period][tranche].
    pub available_tpm: Vec<Vec<f64>>,
    /// d(r,t), workloads merged, tokens per minute, indexed [period][region].
    pub demand_tpm: Vec<Vec<f64>>,
    /// Demand per workload, sorted by workload, indexed [period][region].
    pub workload_demand_tpm: Vec<Vec<Vec<(WorkloadId, f64)>>>,
    /// Distinct model names of tranches and workloads, sorted.
    pub models: Vec<String>,
    /// Demand classes, sorted by (region, model, max delay, penalty).
    pub classes: Vec<DemandClass>,
    /// The class of each (region, workload), indexed [region][workload]; None where the region
    /// has no demand of that workload.
    pub class_of: Vec<Vec<Option<ClassId>>>,
    /// d(c,t), tokens per minute, indexed [period][class].
    pub class_demand_tpm: Vec<Vec<f64>>,
    /// Σr d(r,t), tokens per minute, indexed [period].
    pub total_demand_tpm: Vec<f64>,
    /// The last period (inclusive) in which tokens of class c arriving in period t may be served,
    /// indexed [class][period]: S(c,t) = t ..= service_last[c][t] (the spec's S(w,t)); t itself
    /// when the class cannot wait, or when no later period ends by start(t) + max_delay.
    pub service_last: Vec<Vec<usize>>,
    /// Some window spans more than one period (see `defers`).
    defers: bool,
}

impl Facts {
    /// Derives every fact of a validated scenario.
    pub fn of(s: &Scenario) -> Facts {
        let providers = s.providers();
        let regions = s.demand_regions();
        let workloads = s.workloads();
        let bounds: Vec<(i64, i64)> = s
            .periods
            .iter()
            .map(|p| {
                let start = p.start.timestamp_millis();
                (
                    start,
                    start + (p.minutes * MILLIS_PER_MINUTE).round() as i64,
                )
            })
            .collect();
        let n_t = s.periods.len();
        let n_k = s.tranches.len();
        let mut window_fraction = vec![vec![0.0; n_k]; n_t];
        let mut available_fraction = vec![vec![0.0; n_k]; n_t];
        let mut tranches = Vec::with_capacity(n_k);
        for (k, tranche) in s.tranches.iter().enumerate() {
            let outages = outage_segments(s, tranche);
            let mut window_millis: i64 = 0;
            for (t, &(p_start, p_end)) in bounds.iter().enumerate() {
                let lo = tranche
                    .start
                    .map_or(p_start, |w| p_start.max(w.timestamp_millis()));
                let hi = tranche
                    .end
                    .map_or(p_end, |w| p_end.min(w.timestamp_millis()));
                if hi <= lo {
                    continue;
                }
                let length = (p_end - p_start) as f64;
                window_millis += hi - lo;
                window_fraction[t][k] = (hi - lo) as f64 / length;
                available_fraction[t][k] = available_millis(&outages, lo, hi) / length;
            }
            let window_hours = window_millis as f64 / MILLIS_PER_HOUR;
            tranches.push(TrancheFacts {
                provider: ProviderId(
                    providers
                        .binary_search(&tranche.provider)
                        .expect("providers are listed from the tranches"),
                ),
                window_hours,
                has_reservation_decision: tranche.commit_cost_per_hour * window_hours > 0.0,
                route_cost_per_million_tokens: regions
                    .iter()
                    .map(|r| s.route(&tranche.region, r))
                    .collect(),
                usage_cost_per_million_tokens: tranche.cost_per_million_tokens,
                commit_cost_per_hour: tranche.commit_cost_per_hour,
                min_commit: tranche.min_commit,
                model: None,
                // GPUs are reserved in whole blocks (whole GPUs when block_gpus is blank); a
                // tranche without a reservation decision ignores its blocks.
                reservation_step: tranche.gpu.as_ref().and_then(|g| {
                    (tranche.commit_cost_per_hour * window_hours > 0.0)
                        .then(|| g.block_gpus as f64 / g.gpus as f64)
                }),
            });
        }
        let available_tpm = available_fraction
            .iter()
            .map(|row| {
                row.iter()
                    .zip(&s.tranches)
                    .map(|(f, k)| f * k.capacity_tpm)
                    .collect()
            })
            .collect();

        let mut demand_tpm = vec![vec![0.0; regions.len()]; n_t];
        let mut workload_demand_tpm = vec![vec![Vec::new(); regions.len()]; n_t];
        // Demand rows come in period order as files are written: the last row's period, or the
        // next, is tried before a search of the grid.
        let mut last_t = 0;
        for d in &s.demand {
            let t = [last_t, last_t + 1]
                .into_iter()
                .find(|&t| s.periods.get(t).is_some_and(|p| p.start == d.period))
                .unwrap_or_else(|| {
                    s.periods
                        .binary_search_by(|p| p.start.cmp(&d.period))
                        .expect("demand periods form the grid")
                });
            last_t = t;
            let r = regions
                .binary_search(&d.region)
                .expect("demand regions are listed from the demand");
            let w = workloads
                .binary_search(&d.workload)
                .expect("workloads are listed from the demand");
            demand_tpm[t][r] += d.tokens_per_minute;
            workload_demand_tpm[t][r].push((WorkloadId(w), d.tokens_per_minute));
        }
        for cell in workload_demand_tpm.iter_mut().flatten() {
            cell.sort_by_key(|(w, _)| *w);
        }
        let total_demand_tpm = demand_tpm.iter().map(|row| row.iter().sum()).collect();
        let models = {
            let mut m: Vec<String> = s
                .tranches
                .iter()
                .filter_map(|k| k.model.clone())
                .chain(s.workload_settings.values().filter_map(|w| w.model.clone()))
                .collect();
            m.sort();
            m.dedup();
            m
        };
        let model_id = |name: &Option<String>| {
            name.as_ref().map(|n| {
                ModelId(
                    models
                        .binary_search(n)
                        .expect("models are listed from tranches and workloads"),
                )
            })
        };
        for (k, tranche) in s.tranches.iter().enumerate() {
            tranches[k].model = model_id(&tranche.model);
        }
        // Classes: the (region, model, max delay, penalty) of every (region, workload) with
        // demand, in that order; workloads alike to every constraint share one.
        let alike = |w: usize| {
            let settings = s.workload(&workloads[w]);
            (
                model_id(&settings.model),
                settings.max_delay_minutes,
                s.unserved_penalty(&workloads[w]),
            )
        };
        let mut present = vec![vec![false; workloads.len()]; regions.len()];
        for row in &workload_demand_tpm {
            for (r, cell) in row.iter().enumerate() {
                for &(w, _) in cell {
                    present[r][w.0] = true;
                }
            }
        }
        let mut classes: Vec<DemandClass> = Vec::new();
        let mut class_of = vec![vec![None; workloads.len()]; regions.len()];
        for (r, row) in present.iter().enumerate() {
            for (w, &here) in row.iter().enumerate() {
                if !here {
                    continue;
                }
                let (model, max_delay_minutes, unserved_penalty) = alike(w);
                let class = DemandClass {
                    region: RegionId(r),
                    model,
                    max_delay_minutes,
                    unserved_penalty,
                };
                let at = classes.iter().position(|c| *c == class).unwrap_or_else(|| {
                    classes.push(class);
                    classes.len() - 1
                });
                class_of[r][w] = Some(at);
            }
        }
        // Sorted by (region, model, delay, penalty), and the class ids renumbered to match.
        let mut order: Vec<usize> = (0..classes.len()).collect();
        order.sort_by(|&a, &b| {
            let (x, y) = (&classes[a], &classes[b]);
            (x.region, x.model)
                .cmp(&(y.region, y.model))
                .then(x.max_delay_minutes.total_cmp(&y.max_delay_minutes))
                .then(x.unserved_penalty.total_cmp(&y.unserved_penalty))
        });
        let mut rank = vec![0; classes.len()];
        for (new, &old) in order.iter().enumerate() {
            rank[old] = new;
        }
        let classes: Vec<DemandClass> = order.iter().map(|&i| classes[i].clone()).collect();
        let class_of: Vec<Vec<Option<ClassId>>> = class_of
            .into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|c| c.map(|c| ClassId(rank[c])))
                    .collect()
            })
            .collect();
        let mut class_demand_tpm = vec![vec![0.0; classes.len()]; n_t];
        for (t, row) in workload_demand_tpm.iter().enumerate() {
            for (r, cell) in row.iter().enumerate() {
                for &(w, d) in cell {
                    if let Some(c) = class_of[r][w.0] {
                        class_demand_tpm[t][c.0] += d;
                    }
                }
            }
        }
        let service_last: Vec<Vec<usize>> = classes
            .iter()
            .map(|c| service_windows(&bounds, c.max_delay_minutes))
            .collect();
        let defers = service_last
            .iter()
            .any(|row| row.iter().enumerate().any(|(t, &last)| last > t));
        Facts {
            period_minutes: s.periods.iter().map(|p| p.minutes).collect(),
            providers,
            regions,
            workloads,
            tranches,
            window_fraction,
            available_fraction,
            available_tpm,
            demand_tpm,
            workload_demand_tpm,
            total_demand_tpm,
            models,
            classes,
            class_of,
            class_demand_tpm,
            service_last,
            defers,
        }
    }

    /// Whether some tokens may be served in a later period than they arrive: a class's service
    /// window spans more than one period. False for every v2 scenario and for delays shorter than
    /// the grid allows, so the model, solve and reports keep their v2 form exactly.
    pub fn defers(&self) -> bool {
        self.defers
    }

    /// The periods in which tokens of class c arriving in period t may be served, in order: t and
    /// the later periods that end by start(t) + max_delay.
    pub fn service_periods(&self, c: ClassId, t: PeriodId) -> impl Iterator<Item = PeriodId> {
        (t.0..=self.service_last[c.0][t.0]).map(PeriodId)
    }

    /// The workloads of class c in period t with their demand, tokens per minute (the flows of a
    /// class are split among them in proportion to demand).
    pub fn class_workloads(
        &self,
        t: PeriodId,
        c: ClassId,
    ) -> impl Iterator<Item = (WorkloadId, f64)> + '_ {
        let r = self.classes[c.0].region.0;
        self.workload_demand_tpm[t.0][r]
            .iter()
            .copied()
            .filter(move |&(w, _)| self.class_of[r][w.0] == Some(c))
    }

    pub fn period_count(&self) -> usize {
        self.period_minutes.len()
    }

    /// Every period of the horizon, in order.
    pub fn all_periods(&self) -> Vec<PeriodId> {
        (0..self.period_count()).map(PeriodId).collect()
    }

    /// Hours of period t.
    pub fn period_hours(&self, t: PeriodId) -> f64 {
        self.period_minutes[t.0] / MINUTES_PER_HOUR
    }

    /// Hours of k's window inside period t: a(k,t)·Δt/60 (what a commitment pays for there).
    pub fn window_hours_in(&self, t: PeriodId, k: TrancheId) -> f64 {
        self.window_fraction[t.0][k.0] * self.period_hours(t)
    }

    /// What reserving all of tranche k costs over the given periods: commit price × the hours of
    /// its window inside them, $ (0 without a reservation decision).
    pub fn commit_dollars_in(&self, k: TrancheId, periods: &[PeriodId]) -> f64 {
        let f = &self.tranches[k.0];
        if !f.has_reservation_decision {
            return 0.0;
        }
        let hours: f64 = periods.iter().map(|&t| self.window_hours_in(t, k)).sum();
        f.commit_cost_per_hour * hours
    }

    /// Millions of tokens at `tokens_per_minute` over period t (what $/M prices multiply).
    pub fn million_tokens(&self, t: PeriodId, tokens_per_minute: f64) -> f64 {
        tokens_per_minute * self.period_minutes[t.0] / TOKENS_PER_MILLION
    }

    /// Tokens at `tokens_per_minute` over period t.
    pub fn tokens(&self, t: PeriodId, tokens_per_minute: f64) -> f64 {
        tokens_per_minute * self.period_minutes[t.0]
    }

    /// Whether tranche k can serve anything in period t.
    pub fn is_available(&self, t: PeriodId, k: TrancheId) -> bool {
        self.available_fraction[t.0][k.0] > 0.0
    }

    /// Tokens per minute available at full commitment in period t, all tranches (routes ignored).
    pub fn available_tpm_total(&self, t: PeriodId) -> f64 {
        self.available_tpm[t.0].iter().sum()
    }

    /// The tranche of a name.
    pub fn tranche_by_name(s: &Scenario, name: &str) -> Option<TrancheId> {
        s.tranches
            .iter()
            .position(|k| k.name == name)
            .map(TrancheId)
    }

    pub fn provider_id(&self, name: &str) -> Option<ProviderId> {
        self.providers
            .binary_search_by(|p| p.as_str().cmp(name))
            .ok()
            .map(ProviderId)
    }
}

/// The last service period of each arrival period for a delay of `max_delay_minutes`, given the
/// periods' `(start ms, end ms)`: the last t′ ≥ t with end(t′) ≤ start(t) + max_delay, else t
/// (the spec's S(w,t); the last period ends at the horizon's end). Ends and deadlines both grow
/// with t, so one pointer walks the grid once.
fn service_windows(bounds: &[(i64, i64)], max_delay_minutes: f64) -> Vec<usize> {
    let delay_millis = (max_delay_minutes * MILLIS_PER_MINUTE).round() as i64;
    let mut last = 0;
    bounds
        .iter()
        .enumerate()
        .map(|(t, &(start, _))| {
            if delay_millis <= 0 {
                return t;
            }
            let deadline = start.saturating_add(delay_millis);
            last = last.max(t);
            while last + 1 < bounds.len() && bounds[last + 1].1 <= deadline {
                last += 1;
            }
            last
        })
        .collect()
}

/// Stretches of time in which outages leave a tranche a factor below 1: sorted, disjoint
/// `(start ms, end ms, factor)`, the smallest factor where outages overlap.
fn outage_segments(s: &Scenario, tranche: &Tranche) -> Vec<(i64, i64, f64)> {
    let relevant: Vec<(i64, i64, f64)> = s
        .outages
        .iter()
        .filter(|o| {
            o.provider == tranche.provider
                && o.region.as_ref().is_none_or(|r| *r == tranche.region)
                && o.tranche.as_ref().is_none_or(|k| *k == tranche.name)
        })
        .filter(|o| o.capacity_factor < 1.0)
        .map(|o| {
            (
                o.start.timestamp_millis(),
                o.end.timestamp_millis(),
                o.capacity_factor,
            )
        })
        .collect();
    let mut cuts: Vec<i64> = relevant.iter().flat_map(|&(a, b, _)| [a, b]).collect();
    cuts.sort_unstable();
    cuts.dedup();
    let mut segments: Vec<(i64, i64, f64)> = Vec::new();
    for w in cuts.windows(2) {
        let (a, b) = (w[0], w[1]);
        let factor = relevant
            .iter()
            .filter(|&&(s, e, _)| s <= a && b <= e)
            .map(|&(_, _, f)| f)
            .fold(1.0, f64::min);
        if factor >= 1.0 {
            continue;
        }
        match segments.last_mut() {
            Some(last) if last.1 == a && last.2 == factor => last.1 = b,
            _ => segments.push((a, b, factor)),
        }
    }
    segments
}

/// ∫ over [lo, hi) of the capacity factor, in milliseconds (hi − lo where nothing is out).
fn available_millis(segments: &[(i64, i64, f64)], lo: i64, hi: i64) -> f64 {
    let first = segments.partition_point(|&(_, end, _)| end <= lo);
    let mut lost = 0.0;
    for &(start, end, factor) in &segments[first..] {
        if start >= hi {
            break;
        }
        let overlap = (end.min(hi) - start.max(lo)) as f64;
        lost += overlap * (1.0 - factor);
    }
    (hi - lo) as f64 - lost
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Demand, Outage, Period, Policy};
    use crate::units::parse_time;

    fn tranche(name: &str, provider: &str, start: Option<&str>, end: Option<&str>) -> Tranche {
        Tranche {
            name: name.into(),
            provider: provider.into(),
            region: "us".into(),
            start: start.map(|s| parse_time(s).unwrap()),
            end: end.map(|s| parse_time(s).unwrap()),
            capacity_tpm: 100.0,
            cost_per_million_tokens: 1.0,
            commit_cost_per_hour: 10.0,
            min_commit: 0.0,
            origin: None,
            ..Tranche::default()
        }
    }

    /// February 2026 (28 days) and March (31 days), one region.
    fn scenario(tranches: Vec<Tranche>, outages: Vec<Outage>) -> Scenario {
        let feb = parse_time("2026-02-01").unwrap();
        let mar = parse_time("2026-03-01").unwrap();
        Scenario {
            name: "s".into(),
            description: String::new(),
            folder: "s".into(),
            policy: Policy::default(),
            periods: vec![
                Period {
                    start: feb,
                    minutes: 28.0 * 1440.0,
                },
                Period {
                    start: mar,
                    minutes: 31.0 * 1440.0,
                },
            ],
            demand: vec![Demand {
                period: feb,
                region: "us".into(),
                workload: "chat".into(),
                tokens_per_minute: 50.0,
                origin: None,
            }],
            tranches,
            routes: None,
            outages,
            ..Scenario::default()
        }
    }

    fn outage(start: &str, end: &str, factor: f64) -> Outage {
        Outage {
            provider: "aws".into(),
            region: None,
            tranche: None,
            start: parse_time(start).unwrap(),
            end: parse_time(end).unwrap(),
            capacity_factor: factor,
        }
    }

    #[test]
    fn a_window_starting_mid_period_is_prorated() {
        // Arrives on 15 Feb 00:00: 14 of Feb's 28 days are inside the window → a = 0.5; all of
        // March → 1. H = (14 + 31) days × 24 h = 1080 h.
        let f = Facts::of(&scenario(
            vec![tranche("k", "aws", Some("2026-02-15"), None)],
            vec![],
        ));
        assert_eq!(f.window_fraction[0][0], 0.5);
        assert_eq!(f.window_fraction[1][0], 1.0);
        assert_eq!(f.available_fraction[0][0], 0.5);
        assert_eq!(f.tranches[0].window_hours, 1080.0);
        assert!(f.tranches[0].has_reservation_decision);
    }

    #[test]
    fn a_one_week_outage_takes_a_quarter_of_february() {
        // 7 of 28 days at factor 0 → A = 0.75, a stays 1, H is not lowered.
        let f = Facts::of(&scenario(
            vec![tranche("k", "aws", None, None)],
            vec![outage("2026-02-08", "2026-02-15", 0.0)],
        ));
        assert_eq!(f.window_fraction[0][0], 1.0);
        assert_eq!(f.available_fraction[0][0], 0.75);
        assert_eq!(f.available_tpm[0][0], 75.0);
        assert_eq!(f.available_fraction[1][0], 1.0);
        assert_eq!(f.tranches[0].window_hours, 59.0 * 24.0);
    }

    #[test]
    fn overlapping_outages_take_the_smaller_factor_where_they_overlap() {
        // Feb 1–15 at 0.5 and Feb 8–22 at 0.2: days 1–7 at 0.5, 8–14 at 0.2 (overlap, the
        // smaller), 15–21 at 0.2, 22–28 at 1. ∫ = 7·0.5 + 7·0.2 + 7·0.2 + 7·1 = 13.3 days of 28.
        let f = Facts::of(&scenario(
            vec![tranche("k", "aws", None, None)],
            vec![
                outage("2026-02-01", "2026-02-15", 0.5),
                outage("2026-02-08", "2026-02-22", 0.2),
            ],
        ));
        assert!((f.available_fraction[0][0] - 13.3 / 28.0).abs() < 1e-15);
    }

    #[test]
    fn an_outage_inside_a_partial_window_counts_only_inside_the_window() {
        // Window from Feb 15; outage Feb 8–22 at 0: inside the window only Feb 15–22 is out, so
        // available 7 days of 28 (Feb 22 – Mar 1) → A = 0.25, a = 0.5.
        let f = Facts::of(&scenario(
            vec![tranche("k", "aws", Some("2026-02-15"), None)],
            vec![outage("2026-02-08", "2026-02-22", 0.0)],
        ));
        assert_eq!(f.window_fraction[0][0], 0.5);
        assert_eq!(f.available_fraction[0][0], 0.25);
    }

    #[test]
    fn other_providers_and_regions_are_untouched() {
        let mut o = outage("2026-02-01", "2026-03-01", 0.0);
        o.region = Some("eu".into());
        let f = Facts::of(&scenario(
            vec![
                tranche("k", "aws", None, None),
                tranche("g", "gcp", None, None),
            ],
            vec![o, outage("2026-02-01", "2026-03-01", 1.0)],
        ));
        assert_eq!(f.available_fraction[0], vec![1.0, 1.0]);
    }

    /// `n` periods of `minutes` from 2026-01-01 (the last lasting as long), demand of `chat` and
    /// `batch` in every period, batch waiting up to `batch_delay_minutes`.
    fn grid(n: usize, minutes: f64, batch_delay_minutes: f64) -> Scenario {
        let start = parse_time("2026-01-01").unwrap();
        let periods: Vec<Period> = (0..n)
            .map(|i| Period {
                start: start + chrono::Duration::minutes((i as f64 * minutes) as i64),
                minutes,
            })
            .collect();
        let demand = periods
            .iter()
            .flat_map(|p| {
                ["batch", "chat"].map(|w| Demand {
                    period: p.start,
                    region: "us".into(),
                    workload: w.into(),
                    tokens_per_minute: 10.0,
                    origin: None,
                })
            })
            .collect();
        let mut s = Scenario {
            periods,
            demand,
            tranches: vec![tranche("k", "aws", None, None)],
            ..Scenario::default()
        };
        s.workload_settings.insert(
            "batch".into(),
            crate::scenario::Workload {
                max_delay_minutes: batch_delay_minutes,
                ..Default::default()
            },
        );
        s
    }

    #[test]
    fn a_24_hour_delay_on_an_hourly_grid_serves_in_the_next_23_hours_too() {
        // Hour t's batch tokens may be served in hours t … t+23: hour t+23 ends at start(t) + 24h.
        // Near the horizon's end the window stops at the last hour. Chat cannot wait.
        let f = Facts::of(&grid(48, 60.0, 1440.0));
        let batch = f
            .classes
            .iter()
            .position(|c| c.max_delay_minutes > 0.0)
            .unwrap();
        let chat = 1 - batch;
        assert_eq!(f.service_last[batch][0], 23);
        assert_eq!(f.service_last[batch][10], 33);
        assert_eq!(f.service_last[batch][30], 47);
        assert!(f.service_last[chat]
            .iter()
            .enumerate()
            .all(|(t, &l)| l == t));
        assert!(f.defers());
        let s: Vec<usize> = f
            .service_periods(ClassId(batch), PeriodId(45))
            .map(|t| t.0)
            .collect();
        assert_eq!(s, vec![45, 46, 47]);
    }

    #[test]
    fn a_delay_shorter_than_two_periods_allows_no_shift() {
        // Daily periods and a 2 h delay: the next day ends 48 h after the arrival's start. A
        // delay of 47 h still reaches no later day; 48 h reaches exactly one.
        assert!(!Facts::of(&grid(5, 1440.0, 120.0)).defers());
        assert!(!Facts::of(&grid(5, 1440.0, 47.0 * 60.0)).defers());
        let f = Facts::of(&grid(5, 1440.0, 48.0 * 60.0));
        let batch = f
            .classes
            .iter()
            .position(|c| c.max_delay_minutes > 0.0)
            .unwrap();
        assert_eq!(f.service_last[batch], vec![1, 2, 3, 4, 4]);
        assert!(!Facts::of(&grid(5, 1440.0, 0.0)).defers());
    }

    #[test]
    fn a_tranche_without_commit_price_or_window_has_no_reservation_decision() {
        let mut free = tranche("free", "aws", None, None);
        free.commit_cost_per_hour = 0.0;
        let gone = tranche("gone", "aws", Some("2027-01-01"), None);
        let f = Facts::of(&scenario(vec![free, gone], vec![]));
        assert!(!f.tranches[0].has_reservation_decision);
        assert!(!f.tranches[1].has_reservation_decision);
        assert_eq!(f.tranches[1].window_hours, 0.0);
    }
}
