//! Model stage: the planning LP of the scenario format, built by flat `define_*` steps over typed
//! ids and kept apart from any solver (`solve` is the one module that names a backend).
//!
//! Reformulations, each keeping the optimum of the spec's LP:
//! - workloads of one region are merged (every constraint treats them alike);
//! - flows exist only where the tranche is active with capacity left and the route is allowed;
//!   demand cells with zero demand get no variables;
//! - a tranche whose reservation costs nothing (no commit price, or never active) gets no `z`
//!   variable: `z = 1` is optimal for it, since `z` only loosens its capacity rows.
//!
//! Scaling: flows are in units of `tokens_per_minute_per_unit` (a power of ten near the largest
//! demand cell) and the objective in units of `dollars_per_objective_unit` (one unit of flow over
//! a mean-length period at $1 per million tokens), so the solver sees coefficients near 1 whatever
//! the magnitudes of the scenario.

pub mod solve;

use crate::scenario::{Period, Scenario};
use crate::units::{MINUTES_PER_HOUR, TOKENS_PER_MILLION};

/// A column (variable) of the LP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Col(pub usize);

/// Typed indices into the model's lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct TrancheId(pub usize);
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ProviderId(pub usize);
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RegionId(pub usize);
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PeriodId(pub usize);

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub lower: f64,
    pub upper: Option<f64>,
    /// Objective coefficient, in objective units per column unit.
    pub cost: f64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sense {
    Eq,
    Le,
}

/// Which constraint family a row belongs to (for `--timings` LP size and debugging).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum RowKind {
    Demand,
    Capacity,
    Share,
    BackupDemand,
    BackupCapacity,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub kind: RowKind,
    pub terms: Vec<(Col, f64)>,
    pub sense: Sense,
    pub rhs: f64,
}

/// A flow variable x(k, r, t), or y_q(k, r, t) in the N-1 block.
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    pub tranche: TrancheId,
    pub region: RegionId,
    pub period: PeriodId,
    pub col: Col,
}

/// A shortfall variable u(r, t), or v_q(r, t).
#[derive(Debug, Clone, PartialEq)]
pub struct Shortfall {
    pub region: RegionId,
    pub period: PeriodId,
    pub col: Col,
}

/// The N-1 block of one lost provider q.
#[derive(Debug, Clone, PartialEq)]
pub struct Backup {
    pub lost: ProviderId,
    pub flows: Vec<Flow>,
    pub shortfalls: Vec<Shortfall>,
}

/// The units the solver sees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    pub tokens_per_minute_per_unit: f64,
    pub dollars_per_objective_unit: f64,
}

/// The LP of one scenario, with the index needed to read a solution back.
#[derive(Debug, Clone)]
pub struct Model {
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    pub scale: Scale,
    pub periods: Vec<Period>,
    pub providers: Vec<String>,
    /// Demand regions.
    pub regions: Vec<String>,
    pub tranche_provider: Vec<ProviderId>,
    /// Merged demand d(r, t), tokens per minute, indexed [period][region].
    pub demand_tpm: Vec<Vec<f64>>,
    /// The reservation column z(k) of each tranche; None where z = 1 is optimal at no cost.
    pub reserve: Vec<Option<Col>>,
    pub flows: Vec<Flow>,
    pub unserved: Vec<Shortfall>,
    pub backups: Vec<Backup>,
}

impl Model {
    fn add_column(&mut self, lower: f64, upper: Option<f64>, cost: f64) -> Col {
        self.columns.push(Column { lower, upper, cost });
        Col(self.columns.len() - 1)
    }

    fn add_row(&mut self, kind: RowKind, terms: Vec<(Col, f64)>, sense: Sense, rhs: f64) {
        self.rows.push(Row {
            kind,
            terms,
            sense,
            rhs,
        });
    }

    /// Number of nonzero coefficients in the constraint matrix.
    pub fn nonzeros(&self) -> usize {
        self.rows.iter().map(|r| r.terms.len()).sum()
    }
}

/// Facts about a scenario the define steps share: activity, capacity after outages, routes.
struct Facts {
    /// Hours tranche k is active over the horizon, H(k).
    active_hours: Vec<f64>,
    /// φ(k,t)·cap(k) where active, else 0: tokens per minute, indexed [period][tranche].
    capacity_tpm: Vec<Vec<f64>>,
    /// Route cost ρ(g(k), r) $/M where allowed, indexed [tranche][region].
    route: Vec<Vec<Option<f64>>>,
}

/// Builds the LP of a scenario.
pub fn build(s: &Scenario) -> Model {
    let providers = s.providers();
    let regions = s.demand_regions();
    let periods = s.periods.clone();
    let mut demand_tpm = vec![vec![0.0; regions.len()]; periods.len()];
    for d in &s.demand {
        let t = periods
            .binary_search_by(|p| p.start.cmp(&d.period))
            .expect("demand periods form the grid");
        let r = regions
            .binary_search(&d.region)
            .expect("demand regions listed");
        demand_tpm[t][r] += d.tokens_per_minute;
    }
    let largest = demand_tpm.iter().flatten().copied().fold(0.0, f64::max);
    let tokens_per_minute_per_unit = if largest > 0.0 {
        10f64.powf(largest.log10().floor())
    } else {
        1.0
    };
    let mean_minutes = periods.iter().map(|p| p.minutes).sum::<f64>() / periods.len().max(1) as f64;
    let dollars_per_objective_unit =
        tokens_per_minute_per_unit * mean_minutes.max(1.0) / TOKENS_PER_MILLION;

    let facts = Facts {
        active_hours: s
            .tranches
            .iter()
            .map(|k| {
                periods
                    .iter()
                    .filter(|p| k.active_at(p.start))
                    .map(|p| p.minutes / MINUTES_PER_HOUR)
                    .sum()
            })
            .collect(),
        capacity_tpm: periods
            .iter()
            .map(|p| {
                s.tranches
                    .iter()
                    .map(|k| {
                        if k.active_at(p.start) {
                            k.capacity_tpm * s.capacity_factor(k, p.start)
                        } else {
                            0.0
                        }
                    })
                    .collect()
            })
            .collect(),
        route: s
            .tranches
            .iter()
            .map(|k| regions.iter().map(|r| s.route(&k.region, r)).collect())
            .collect(),
    };

    let mut m = Model {
        columns: Vec::new(),
        rows: Vec::new(),
        scale: Scale {
            tokens_per_minute_per_unit,
            dollars_per_objective_unit,
        },
        periods,
        tranche_provider: s
            .tranches
            .iter()
            .map(|k| {
                ProviderId(
                    providers
                        .binary_search(&k.provider)
                        .expect("provider listed"),
                )
            })
            .collect(),
        providers,
        regions,
        demand_tpm,
        reserve: Vec::new(),
        flows: Vec::new(),
        unserved: Vec::new(),
        backups: Vec::new(),
    };
    define_reservations(&mut m, s, &facts);
    for t in 0..m.periods.len() {
        define_period(&mut m, s, &facts, PeriodId(t));
    }
    if s.policy.survive_provider_loss {
        for q in 0..m.providers.len() {
            define_provider_loss(&mut m, s, &facts, ProviderId(q));
        }
    }
    m
}

/// z(k) ∈ [min_commit, 1] with cost commit_cost_per_hour · H(k), for tranches whose reservation
/// costs something.
fn define_reservations(m: &mut Model, s: &Scenario, f: &Facts) {
    for (k, tranche) in s.tranches.iter().enumerate() {
        let commit_dollars = tranche.commit_cost_per_hour * f.active_hours[k];
        let col = (commit_dollars > 0.0).then(|| {
            m.add_column(
                tranche.min_commit,
                Some(1.0),
                commit_dollars / m.scale.dollars_per_objective_unit,
            )
        });
        m.reserve.push(col);
    }
}

/// Objective units per (unit of flow held over period t) per ($ per million tokens).
fn objective_per_dollar_per_million(m: &Model, t: PeriodId) -> f64 {
    m.scale.tokens_per_minute_per_unit * m.periods[t.0].minutes
        / TOKENS_PER_MILLION
        / m.scale.dollars_per_objective_unit
}

/// One demand balance Σ_k flow(k, r, t) + shortfall(r, t) = demand: a flow column for every
/// tranche `serves` allows (active with capacity, route allowed), costed by `flow_cost` ($/M given
/// the tranche and its route cost), and a shortfall column costing `penalty` $/M. Shared by the
/// plan's own balance (x, u) and each N-1 balance (y_q, v_q).
#[allow(clippy::too_many_arguments)]
fn define_balance(
    m: &mut Model,
    s: &Scenario,
    f: &Facts,
    t: PeriodId,
    r: RegionId,
    demand_tpm: f64,
    serves: impl Fn(usize) -> bool,
    flow_cost: impl Fn(usize, f64) -> f64,
    penalty: f64,
    kind: RowKind,
) -> (Vec<Flow>, Shortfall) {
    let per_dollar_per_million = objective_per_dollar_per_million(m, t);
    let mut flows = Vec::new();
    let mut terms = Vec::new();
    for k in 0..s.tranches.len() {
        let Some(route_cost) = f.route[k][r.0] else {
            continue;
        };
        if f.capacity_tpm[t.0][k] <= 0.0 || !serves(k) {
            continue;
        }
        let col = m.add_column(0.0, None, flow_cost(k, route_cost) * per_dollar_per_million);
        flows.push(Flow {
            tranche: TrancheId(k),
            region: r,
            period: t,
            col,
        });
        terms.push((col, 1.0));
    }
    let col = m.add_column(0.0, None, penalty * per_dollar_per_million);
    terms.push((col, 1.0));
    m.add_row(
        kind,
        terms,
        Sense::Eq,
        demand_tpm / m.scale.tokens_per_minute_per_unit,
    );
    (
        flows,
        Shortfall {
            region: r,
            period: t,
            col,
        },
    )
}

/// One period's flows, unserved demand, demand balance, capacity and share-cap rows. Periods are
/// coupled only through z, so this step is the per-period subproblem of a decomposition.
fn define_period(m: &mut Model, s: &Scenario, f: &Facts, t: PeriodId) {
    let unit = m.scale.tokens_per_minute_per_unit;
    let first_flow = m.flows.len();
    for r in 0..m.regions.len() {
        let demand = m.demand_tpm[t.0][r];
        if demand <= 0.0 {
            continue;
        }
        let (flows, unserved) = define_balance(
            m,
            s,
            f,
            t,
            RegionId(r),
            demand,
            |_| true,
            |k, route_cost| s.tranches[k].cost_per_million_tokens + route_cost,
            s.policy.unserved_penalty,
            RowKind::Demand,
        );
        m.flows.extend(flows);
        m.unserved.push(unserved);
    }
    let flows = m.flows[first_flow..].to_vec();
    define_capacity_rows(m, f, t, &flows, RowKind::Capacity);
    let share = s.policy.max_provider_share;
    if share < 1.0 {
        let total: f64 = m.demand_tpm[t.0].iter().sum();
        for p in 0..m.providers.len() {
            let terms: Vec<(Col, f64)> = flows
                .iter()
                .filter(|x| m.tranche_provider[x.tranche.0].0 == p)
                .map(|x| (x.col, 1.0))
                .collect();
            if !terms.is_empty() {
                m.add_row(RowKind::Share, terms, Sense::Le, share * total / unit);
            }
        }
    }
}

/// Σ_r flow(k, r, t) ≤ φ(k,t)·cap(k)·z(k) for every tranche with flows in period t.
fn define_capacity_rows(m: &mut Model, f: &Facts, t: PeriodId, flows: &[Flow], kind: RowKind) {
    let unit = m.scale.tokens_per_minute_per_unit;
    let mut by_tranche: Vec<Vec<(Col, f64)>> = vec![Vec::new(); m.reserve.len()];
    for x in flows {
        by_tranche[x.tranche.0].push((x.col, 1.0));
    }
    for (k, mut terms) in by_tranche.into_iter().enumerate() {
        if terms.is_empty() {
            continue;
        }
        let capacity = f.capacity_tpm[t.0][k] / unit;
        match m.reserve[k] {
            Some(z) => {
                terms.push((z, -capacity));
                m.add_row(kind, terms, Sense::Le, 0.0);
            }
            None => m.add_row(kind, terms, Sense::Le, capacity),
        }
    }
}

/// The N-1 block for losing provider q: free flows y_q over the other providers' reserved
/// capacity must cover `loss_coverage` of demand, or pay the resilience penalty on v_q.
fn define_provider_loss(m: &mut Model, s: &Scenario, f: &Facts, q: ProviderId) {
    let coverage = s.policy.loss_coverage;
    // The balances below borrow the model mutably; the tranche → provider map is read alongside.
    let provider_of = m.tranche_provider.clone();
    let mut backup = Backup {
        lost: q,
        flows: Vec::new(),
        shortfalls: Vec::new(),
    };
    for t in 0..m.periods.len() {
        let first = backup.flows.len();
        for r in 0..m.regions.len() {
            let demand = m.demand_tpm[t][r] * coverage;
            if demand <= 0.0 {
                continue;
            }
            let (flows, shortfall) = define_balance(
                m,
                s,
                f,
                PeriodId(t),
                RegionId(r),
                demand,
                |k| provider_of[k] != q,
                |_, _| 0.0,
                s.policy.resilience_penalty,
                RowKind::BackupDemand,
            );
            backup.flows.extend(flows);
            backup.shortfalls.push(shortfall);
        }
        let flows = backup.flows[first..].to_vec();
        define_capacity_rows(m, f, PeriodId(t), &flows, RowKind::BackupCapacity);
    }
    m.backups.push(backup);
}
