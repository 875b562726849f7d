//! Model stage: the planning LP of the scenario format, built by flat `define_*` steps from the
//! facts, for any subset of periods, with reservations decided or fixed; kept apart from any
//! solver (`solve` is the one module that names a backend) and read back into a `Plan`
//! (`extract`).
//!
//! One builder serves every kind of solve: `run` (all periods, z decided), a held plan (z fixed,
//! the scenario's policy or emergency rules), a stress test, and one period of a decomposition.
//! Without deferral, rows are built period by period, N-1 rows included, so one period's rows
//! given z are a self-contained subproblem; every row is addressable by its `RowKey`.
//!
//! With deferral (`Facts::defers`: some class's tokens may wait into a later period), the spec's
//! flows x(k,c,t,t′) from arrival t to service period t′ ∈ S(c,t) are written in their storage
//! form (`define_waiting`): flows x(k,c,t′) by service period as without deferral, a backlog
//! b(c,t) carried from each period into the next, and one row per period bounding the backlog by
//! what arrived and may still be served — the same optimum, the same never-served tokens per
//! arrival (the share base B(t′) = served in t′ + never-served arrivals of t′), about a window's
//! length fewer flows. Periods are then coupled by the backlog, so the model is built for the
//! whole horizon only: a subset of periods is valid only without deferral.
//!
//! Reformulations, each keeping the optimum of the spec's LP:
//! - workloads of one region are merged (every constraint treats them alike);
//! - flows exist only where the tranche is available (A(k,t) > 0) and the route is allowed;
//!   demand cells with zero demand get no variables;
//! - a tranche without a reservation decision (commit price · H(k) = 0) gets no `z` column:
//!   `z = 1` is optimal for it, since `z` only loosens its capacity rows.
//!
//! Scaling: flows are in units of `tokens_per_minute_per_unit` (a power of ten near the largest
//! demand cell) and the objective in units of `dollars_per_objective_unit` (one unit of flow over
//! a mean-length period at $1 per million tokens), so the solver sees coefficients near 1 whatever
//! the magnitudes. The scale is passed in, so LPs built for a subset share units with the whole.

pub mod branch;
pub mod decompose;
mod deferred;
pub mod extract;
pub mod flow;
pub mod held;
pub mod mcf;
pub mod robust;
pub mod solve;
mod waiting;

use std::collections::HashMap;

use crate::facts::{ClassId, Facts, PeriodId, ProviderId, RegionId, TrancheId};
use crate::scenario::{Policy, Scenario};
use crate::units::TOKENS_PER_MILLION;

/// A column (variable) of the LP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Col(pub usize);

#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub lower: f64,
    pub upper: Option<f64>,
    /// Objective coefficient, in objective units per column unit.
    pub cost: f64,
    /// A whole number (a count of reservation blocks): the LP becomes a mixed-integer program.
    pub integer: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sense {
    Eq,
    Le,
}

/// The address of a row: its constraint family and what it is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RowKey {
    /// Σk x(k,c,t) + u(c,t) = d(c,t), for demand class c (a region's workloads alike) in period
    /// t; with deferral, a class that waits adds its backlog: + (b(c,t) − b(c,t−1))·Δ̄/Δt.
    Demand(PeriodId, ClassId),
    /// With deferral, what class c carries waiting out of period t is at most what arrived and
    /// may still be served: b(c,t) + Σ(τ ∈ V(t)) u(c,τ)·Δτ/Δ̄ ≤ Σ(τ ∈ V(t)) d(c,τ)·Δτ/Δ̄.
    Waiting(PeriodId, ClassId),
    /// The same for lost provider q's flows y_q and shortfalls v_q.
    LossWaiting(ProviderId, PeriodId, ClassId),
    /// Σ(c, arrivals) x(k,c,·,t′) ≤ A(k,t′)·cap(k)·z(k), in service period t′.
    Capacity(PeriodId, TrancheId),
    /// Σ(k of p) x(k,·,·,t′) ≤ s · Σr d(r,t′) without deferral; with it, ≤ s · B(t′), B(t′) = all
    /// flows served in t′ + never-served arrivals of t′.
    Share(PeriodId, ProviderId),
    /// Σk Σt′ y_q(k,c,t,t′)·Δt′/Δt + v_q(c,t) = loss_coverage · d(c,t), for lost provider q.
    LossDemand(ProviderId, PeriodId, ClassId),
    /// Σ(c, arrivals) y_q(k,c,·,t′) ≤ A(k,t′)·cap(k)·z(k), for lost provider q.
    LossCapacity(ProviderId, PeriodId, TrancheId),
    /// A cut of the decomposition's master: θ(block) ≥ F + g·(z − z_i), the `cut`-th of its block.
    Cut { block: usize, cut: usize },
    /// A robust master's tail row: u(s) ≥ T_s − η, the CVaR excess of sample s (also in the
    /// extensive form).
    Tail { sample: usize },
    /// The extensive form of a robust plan: sample s's reservation column of tranche k equals the
    /// first sample's (one z for every sample).
    Shared { sample: usize, tranche: TrancheId },
    /// A whole-block search's limit on a sum of block counts (`branch`), the i-th of its node.
    Limit(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub key: RowKey,
    pub terms: Vec<(Col, f64)>,
    pub sense: Sense,
    pub rhs: f64,
}

/// A flow variable x(k, c, t) to demand class c (of region `region`): tokens per minute over
/// period t (`period`) served by tranche k. With deferral these are the tokens served in t,
/// whenever they arrived (the storage form; `deferred` assigns them to arrivals).
#[derive(Debug, Clone, PartialEq)]
pub struct Flow {
    pub tranche: TrancheId,
    pub class: ClassId,
    pub region: RegionId,
    pub period: PeriodId,
    pub col: Col,
}

/// A shortfall variable: u(c, t), or v_q(c, t) with `lost = Some(q)`, t the arrival period.
#[derive(Debug, Clone, PartialEq)]
pub struct Shortfall {
    pub lost: Option<ProviderId>,
    pub class: ClassId,
    pub region: RegionId,
    pub period: PeriodId,
    pub col: Col,
}

/// The units the solver sees.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scale {
    pub tokens_per_minute_per_unit: f64,
    pub dollars_per_objective_unit: f64,
}

impl Scale {
    /// The scale of a whole horizon: flows in a power of ten near the largest demand cell, dollars
    /// in one flow unit over a mean-length period at $1/M.
    pub fn of(facts: &Facts) -> Scale {
        let largest = facts
            .demand_tpm
            .iter()
            .flatten()
            .copied()
            .fold(0.0, f64::max);
        let tokens_per_minute_per_unit = if largest > 0.0 {
            10f64.powf(largest.log10().floor())
        } else {
            1.0
        };
        let n = facts.period_count().max(1) as f64;
        let mean_minutes = facts.period_minutes.iter().sum::<f64>() / n;
        Scale {
            tokens_per_minute_per_unit,
            dollars_per_objective_unit: tokens_per_minute_per_unit * mean_minutes.max(1.0)
                / TOKENS_PER_MILLION,
        }
    }
}

/// How the reserved fractions z enter the LP.
#[derive(Debug, Clone, PartialEq)]
pub enum Reservations {
    /// z(k) ∈ [min_commit, 1] is a variable of every tranche with a reservation decision, costing
    /// its commit price for the hours of its window inside the built periods.
    Decided,
    /// z(k) given per tranche (scenario order); the LP is the dispatch only, and its objective
    /// leaves out the commitment, a constant the plan adds. Tranches without a reservation
    /// decision are on-demand (z = 1) whatever is given.
    Fixed(Vec<f64>),
}

/// What to build: which periods, reservations decided or fixed, which policy rows, which units.
#[derive(Debug, Clone, PartialEq)]
pub struct BuildOptions {
    pub periods: Vec<PeriodId>,
    pub reservations: Reservations,
    /// Build the N-1 blocks (when the policy asks for them).
    pub provider_loss: bool,
    /// Build the share-cap rows (when the policy sets a cap below 1).
    pub share_cap: bool,
    /// Reservations of tranches in GPUs come in whole blocks (a mixed-integer program); false
    /// solves the LP relaxation (`--relax`).
    pub whole_blocks: bool,
    pub scale: Scale,
}

impl BuildOptions {
    /// The plan `run` solves: every period, z decided, the policy's rows.
    pub fn plan(facts: &Facts, policy: &Policy) -> BuildOptions {
        BuildOptions {
            periods: facts.all_periods(),
            reservations: Reservations::Decided,
            provider_loss: policy.survive_provider_loss,
            share_cap: policy.max_provider_share < 1.0,
            whole_blocks: true,
            scale: Scale::of(facts),
        }
    }

    /// A held plan: every period, z fixed; the policy's rows, or none under emergency rules (in
    /// an outage, load goes wherever capacity is).
    pub fn held(facts: &Facts, policy: &Policy, z: Vec<f64>, emergency: bool) -> BuildOptions {
        BuildOptions {
            reservations: Reservations::Fixed(z),
            provider_loss: policy.survive_provider_loss && !emergency,
            share_cap: policy.max_provider_share < 1.0 && !emergency,
            ..BuildOptions::plan(facts, policy)
        }
    }
}

/// The LP, with the index needed to read a solution back.
#[derive(Debug, Clone)]
pub struct Model {
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    row_of: HashMap<RowKey, usize>,
    pub options: BuildOptions,
    /// The policy the rows were built with.
    pub policy: Policy,
    /// The reservation column of each tranche; None where z is fixed or has no decision. Its
    /// value is z(k), or with whole blocks the number of blocks n(k) (z = `reserve_step` × n).
    pub reserve: Vec<Option<Col>>,
    /// z per unit of each tranche's reservation column: 1, or the block step with whole blocks.
    pub reserve_step: Vec<f64>,
    pub flows: Vec<Flow>,
    pub unserved: Vec<Shortfall>,
    /// N-1 shortfalls v_q, for every lost provider q.
    pub loss_shortfalls: Vec<Shortfall>,
}

impl Model {
    fn add_column(&mut self, lower: f64, upper: Option<f64>, cost: f64) -> Col {
        self.columns.push(Column {
            lower,
            upper,
            cost,
            integer: false,
        });
        Col(self.columns.len() - 1)
    }

    fn add_row(&mut self, key: RowKey, terms: Vec<(Col, f64)>, sense: Sense, rhs: f64) {
        self.row_of.insert(key, self.rows.len());
        self.rows.push(Row {
            key,
            terms,
            sense,
            rhs,
        });
    }

    /// The index of a row in `rows`, if it was built.
    pub fn row(&self, key: RowKey) -> Option<usize> {
        self.row_of.get(&key).copied()
    }

    pub fn scale(&self) -> Scale {
        self.options.scale
    }

    /// Number of nonzero coefficients in the constraint matrix.
    pub fn nonzeros(&self) -> usize {
        self.rows.iter().map(|r| r.terms.len()).sum()
    }

    /// The fixed reservation of tranche k (1 for tranches without a decision), or None when z
    /// is decided by this LP.
    pub fn fixed_fraction(&self, facts: &Facts, k: TrancheId) -> Option<f64> {
        if !facts.tranches[k.0].has_reservation_decision {
            return Some(1.0);
        }
        match &self.options.reservations {
            Reservations::Decided => None,
            Reservations::Fixed(z) => Some(z[k.0]),
        }
    }
}

/// Builds the LP of a scenario (prices, bounds, policy) and its facts for the given options.
pub fn build(s: &Scenario, facts: &Facts, options: BuildOptions) -> Model {
    build_with(&s.policy, facts, options)
}

/// Builds the LP of the facts under a policy (the scenario's, or one changed to explain a
/// shortfall) for the given options.
pub fn build_with(policy: &Policy, facts: &Facts, options: BuildOptions) -> Model {
    let mut m = Model {
        columns: Vec::new(),
        rows: Vec::new(),
        row_of: HashMap::new(),
        options,
        policy: policy.clone(),
        reserve: Vec::new(),
        reserve_step: Vec::new(),
        flows: Vec::new(),
        unserved: Vec::new(),
        loss_shortfalls: Vec::new(),
    };
    define_reservations(&mut m, facts);
    if facts.defers() {
        // Flows cross periods: the build is the whole horizon (a subset would cut windows).
        debug_assert_eq!(m.options.periods, facts.all_periods());
        define_deferred(&mut m, facts);
    } else {
        for t in m.options.periods.clone() {
            define_period(&mut m, facts, t);
        }
    }
    m
}

/// z(k) ∈ [min_commit, 1] with cost commit_cost_per_hour · (hours of k's window inside the built
/// periods), for tranches with a reservation decision when z is decided.
fn define_reservations(m: &mut Model, facts: &Facts) {
    for (k, tranche) in facts.tranches.iter().enumerate() {
        let decided = matches!(m.options.reservations, Reservations::Decided);
        let step = match tranche.reservation_step {
            Some(step) if m.options.whole_blocks => step,
            _ => 1.0,
        };
        let col = (decided && tranche.has_reservation_decision).then(|| {
            let commit_dollars = facts.commit_dollars_in(TrancheId(k), &m.options.periods);
            let cost = commit_dollars * step / m.options.scale.dollars_per_objective_unit;
            if m.options.whole_blocks && tranche.reservation_step.is_some() {
                // n(k) whole blocks between min_commit and the whole tranche.
                let col = m.add_column(
                    (tranche.min_commit / step - 1e-9).ceil(),
                    Some((1.0 / step + 1e-9).floor()),
                    cost,
                );
                m.columns[col.0].integer = true;
                col
            } else {
                m.add_column(tranche.min_commit, Some(1.0), cost)
            }
        });
        m.reserve_step.push(step);
        m.reserve.push(col);
    }
}

/// Objective units per (unit of flow held over period t) per ($ per million tokens).
fn objective_per_dollar_per_million(m: &Model, facts: &Facts, t: PeriodId) -> f64 {
    let scale = m.options.scale;
    scale.tokens_per_minute_per_unit * facts.period_minutes[t.0]
        / TOKENS_PER_MILLION
        / scale.dollars_per_objective_unit
}

/// One demand balance of class c in period t: Σ_k flow(k, c, t) + shortfall(c, t) = demand, the
/// columns of `balance_terms` and the row. Shared by the plan's own balance (x, u) and each N-1
/// balance (y_q, v_q).
#[allow(clippy::too_many_arguments)]
fn define_balance(
    m: &mut Model,
    facts: &Facts,
    key: RowKey,
    t: PeriodId,
    c: ClassId,
    demand_tpm: f64,
    serves: impl Fn(TrancheId) -> bool,
    flow_cost: impl Fn(TrancheId, f64) -> f64,
    penalty: f64,
) -> (Vec<Flow>, Col) {
    let (flows, terms, col) = balance_terms(m, facts, t, c, serves, flow_cost, Some(penalty));
    let unit = m.options.scale.tokens_per_minute_per_unit;
    m.add_row(key, terms, Sense::Eq, demand_tpm / unit);
    (flows, col.expect("a shortfall column was asked for"))
}

/// The columns of a balance of class c in period t: a flow column for every tranche available in
/// t that may serve class c (route and model) and that `serves` admits, costed by `flow_cost`
/// ($/M given the tranche and its flow price) over t, and with `penalty` a shortfall column
/// costing that $/M over t. Returns the flows, the row's terms and the shortfall column.
fn balance_terms(
    m: &mut Model,
    facts: &Facts,
    t: PeriodId,
    c: ClassId,
    serves: impl Fn(TrancheId) -> bool,
    flow_cost: impl Fn(TrancheId, f64) -> f64,
    penalty: Option<f64>,
) -> (Vec<Flow>, Vec<(Col, f64)>, Option<Col>) {
    let class = &facts.classes[c.0];
    let r = class.region;
    let per_dollar_per_million = objective_per_dollar_per_million(m, facts, t);
    let mut flows = Vec::new();
    let mut terms = Vec::new();
    for (k, tranche) in facts.tranches.iter().enumerate() {
        let k = TrancheId(k);
        let Some(price) = tranche.flow_price(r) else {
            continue;
        };
        if !tranche.serves(class) || !facts.is_available(t, k) || !serves(k) {
            continue;
        }
        let col = m.add_column(0.0, None, flow_cost(k, price) * per_dollar_per_million);
        flows.push(Flow {
            tranche: k,
            class: c,
            region: r,
            period: t,
            col,
        });
        terms.push((col, 1.0));
    }
    let shortfall = penalty.map(|penalty| {
        let col = m.add_column(0.0, None, penalty * per_dollar_per_million);
        terms.push((col, 1.0));
        col
    });
    (flows, terms, shortfall)
}

/// One period: flows, unserved demand, demand balances, capacity and share-cap rows, and (with
/// N-1) every lost provider's block. Periods are coupled only through z.
fn define_period(m: &mut Model, facts: &Facts, t: PeriodId) {
    let first_flow = m.flows.len();
    define_arrivals(m, facts, t);
    let flows = m.flows[first_flow..].to_vec();
    define_capacity_rows(m, facts, t, &flows, RowKey::Capacity);
    if m.options.share_cap {
        define_share_rows(m, facts, t, &flows);
    }
    if m.options.provider_loss {
        for q in 0..facts.providers.len() {
            define_provider_loss(m, facts, t, ProviderId(q));
        }
    }
}

/// Σ_r flow(k, r, t) ≤ A(k,t)·cap(k)·z(k) for every tranche with flows in period t: with z as a
/// column where it is decided, in the right-hand side where it is fixed.
fn define_capacity_rows(
    m: &mut Model,
    facts: &Facts,
    t: PeriodId,
    flows: &[Flow],
    key: impl Fn(PeriodId, TrancheId) -> RowKey,
) {
    let unit = m.options.scale.tokens_per_minute_per_unit;
    let mut by_tranche: Vec<Vec<(Col, f64)>> = vec![Vec::new(); facts.tranches.len()];
    for x in flows {
        by_tranche[x.tranche.0].push((x.col, 1.0));
    }
    for (k, mut terms) in by_tranche.into_iter().enumerate() {
        if terms.is_empty() {
            continue;
        }
        let k = TrancheId(k);
        let capacity = facts.available_tpm[t.0][k.0] / unit;
        match (m.reserve[k.0], m.fixed_fraction(facts, k)) {
            (Some(z), _) => {
                terms.push((z, -capacity * m.reserve_step[k.0]));
                m.add_row(key(t, k), terms, Sense::Le, 0.0);
            }
            (None, fraction) => {
                let z = fraction.unwrap_or(1.0);
                m.add_row(key(t, k), terms, Sense::Le, capacity * z);
            }
        }
    }
}

/// Σ(k of p) Σr x(k,r,t) ≤ s · Σr d(r,t) for every provider with flows in period t.
fn define_share_rows(m: &mut Model, facts: &Facts, t: PeriodId, flows: &[Flow]) {
    let unit = m.options.scale.tokens_per_minute_per_unit;
    let cap = m.policy.max_provider_share * facts.total_demand_tpm[t.0] / unit;
    for p in 0..facts.providers.len() {
        let terms: Vec<(Col, f64)> = flows
            .iter()
            .filter(|x| facts.tranches[x.tranche.0].provider.0 == p)
            .map(|x| (x.col, 1.0))
            .collect();
        if !terms.is_empty() {
            m.add_row(RowKey::Share(t, ProviderId(p)), terms, Sense::Le, cap);
        }
    }
}

/// Losing provider q in period t: free flows y_q over the other providers' reserved capacity must
/// cover `loss_coverage` of demand, or pay the resilience penalty on v_q.
fn define_provider_loss(m: &mut Model, facts: &Facts, t: PeriodId, q: ProviderId) {
    let flows = define_loss_arrivals(m, facts, t, q);
    define_capacity_rows(m, facts, t, &flows, |t, k| RowKey::LossCapacity(q, t, k));
}

/// The demand balances of every class arriving in period t (served in t: no deferral): flows x
/// into `m.flows`, shortfalls u into `m.unserved`.
fn define_arrivals(m: &mut Model, facts: &Facts, t: PeriodId) {
    for (c, class) in facts.classes.iter().enumerate() {
        let c = ClassId(c);
        let demand = facts.class_demand_tpm[t.0][c.0];
        if demand <= 0.0 {
            continue;
        }
        let (flows, col) = define_balance(
            m,
            facts,
            RowKey::Demand(t, c),
            t,
            c,
            demand,
            |_| true,
            |_, price| price,
            class.unserved_penalty,
        );
        m.flows.extend(flows);
        m.unserved.push(Shortfall {
            lost: None,
            class: c,
            region: class.region,
            period: t,
            col,
        });
    }
}

/// Losing provider q, the balances of every class arriving in period t (no deferral): free flows y_q over the other providers' reserved capacity must cover
/// `loss_coverage` of demand, or pay the resilience penalty on v_q (into `m.loss_shortfalls`).
/// Returns the flows y_q, for the capacity rows.
fn define_loss_arrivals(m: &mut Model, facts: &Facts, t: PeriodId, q: ProviderId) -> Vec<Flow> {
    let coverage = m.policy.loss_coverage;
    let penalty = m.policy.resilience_penalty;
    let mut flows = Vec::new();
    for (c, class) in facts.classes.iter().enumerate() {
        let c = ClassId(c);
        let demand = facts.class_demand_tpm[t.0][c.0] * coverage;
        if demand <= 0.0 {
            continue;
        }
        let (y, col) = define_balance(
            m,
            facts,
            RowKey::LossDemand(q, t, c),
            t,
            c,
            demand,
            |k| facts.tranches[k.0].provider != q,
            |_, _| 0.0,
            penalty,
        );
        flows.extend(y);
        m.loss_shortfalls.push(Shortfall {
            lost: Some(q),
            class: c,
            region: class.region,
            period: t,
            col,
        });
    }
    flows
}

/// The whole horizon with deferral, in its storage form (docs/solving.md, "Deferral"): flows
/// x(k,c,t′) by service period as without deferral, and for each class that may wait a backlog
/// b(c,t) of tokens carried from t into t + 1. Then the capacity rows and share rows of every
/// service period, and (with N-1) each lost provider's balances and capacity rows likewise.
fn define_deferred(m: &mut Model, facts: &Facts) {
    let periods = m.options.periods.clone();
    let served_in = define_waiting(m, facts, None);
    for &t in &periods {
        define_capacity_rows(m, facts, t, &served_in[t.0], RowKey::Capacity);
    }
    if m.options.share_cap {
        let n_t = facts.period_count();
        let mut never_served = vec![Vec::new(); n_t];
        for u in &m.unserved {
            never_served[u.period.0].push(u.col);
        }
        for &t in &periods {
            define_deferred_share_rows(m, facts, t, &served_in[t.0], &never_served[t.0]);
        }
    }
    if m.options.provider_loss {
        for q in 0..facts.providers.len() {
            define_deferred_provider_loss(m, facts, ProviderId(q));
        }
    }
}

/// Every class's balances over the horizon in the storage form, for the plan's own flows
/// (`lost` None: x, u into `m.flows`, `m.unserved`) or lost provider q's (y_q, v_q into
/// `m.loss_shortfalls`); returns the flows by service period, for the capacity rows.
///
/// A class that waits has, per period t, the balance (tokens, over Δt)
///   Σk x(k,c,t) + u(c,t) + (b(c,t) − b(c,t−1)) · Δ̄/Δt = d(c,t)
/// with u(c,t) the never-served part of t's arrivals, and the row
///   b(c,t) + Σ(τ ∈ V(t)) u(c,τ)·Δτ/Δ̄ ≤ Σ(τ ∈ V(t)) d(c,τ)·Δτ/Δ̄,
/// V(t) = the arrivals τ ≤ t whose window reaches past t: what waits after t is at most what
/// arrived and may still be served; and u(c,t) ≤ d(c,t). Windows end in arrival order, so these rows are exactly the
/// intervals' Hall conditions and serving earliest arrival first meets every deadline: the
/// storage form has the optimum of the spec's x(k,c,t,t′) form, with the same never-served
/// tokens per arrival (the share base), and about a window's length fewer flows. b is in units
/// of flow × the mean period (Δ̄), so its coefficients are near 1 at any grain. A class that
/// never waits keeps the v2 balance, row for row.
fn define_waiting(m: &mut Model, facts: &Facts, lost: Option<ProviderId>) -> Vec<Vec<Flow>> {
    let n_t = facts.period_count();
    let unit = m.options.scale.tokens_per_minute_per_unit;
    let coverage = if lost.is_some() {
        m.policy.loss_coverage
    } else {
        1.0
    };
    let resilience_penalty = m.policy.resilience_penalty;
    let mean_minutes = facts.period_minutes.iter().sum::<f64>() / n_t.max(1) as f64;
    // A lost provider's tranches serve nothing in its block, and the block's flows are free.
    let serves = |k: TrancheId| lost.is_none_or(|q| facts.tranches[k.0].provider != q);
    let flow_cost = |_: TrancheId, price: f64| if lost.is_some() { 0.0 } else { price };
    let mut served_in = vec![Vec::new(); n_t];
    for (c, class) in facts.classes.iter().enumerate() {
        let c = ClassId(c);
        let last = &facts.service_last[c.0];
        let waits = last.iter().enumerate().any(|(t, &l)| l > t);
        let penalty = match lost {
            Some(_) => resilience_penalty,
            None => class.unserved_penalty,
        };
        // The backlog column carried out of the previous period, if any.
        let mut carried: Option<Col> = None;
        // Arrivals with demand whose window has not ended: (τ, their shortfall column).
        let mut open: std::collections::VecDeque<(usize, Col)> = Default::default();
        for t in 0..n_t {
            let period = PeriodId(t);
            let demand = facts.class_demand_tpm[t][c.0] * coverage;
            let key = match lost {
                Some(q) => RowKey::LossDemand(q, period, c),
                None => RowKey::Demand(period, c),
            };
            if !waits {
                if demand > 0.0 {
                    let (flows, col) = define_balance(
                        m, facts, key, period, c, demand, serves, flow_cost, penalty,
                    );
                    record_balance(
                        m,
                        lost,
                        (period, c, class.region),
                        (flows, Some(col)),
                        &mut served_in,
                    );
                }
                continue;
            }
            while open.front().is_some_and(|&(tau, _)| last[tau] < t) {
                open.pop_front();
            }
            if demand <= 0.0 && carried.is_none() {
                continue;
            }
            let (flows, mut terms, shortfall) = balance_terms(
                m,
                facts,
                period,
                c,
                serves,
                flow_cost,
                (demand > 0.0).then_some(penalty),
            );
            let weight = mean_minutes / facts.period_minutes[t];
            if let Some(b) = carried {
                terms.push((b, -weight));
            }
            if let Some(u) = shortfall {
                // Never served of t's arrivals: at most they (implied by x ≥ 0 in the spec's
                // form; here a tardy backlog could otherwise be written off as t's).
                m.columns[u.0].upper = Some(demand / unit);
                open.push_back((t, u));
            }
            // What may wait after t: the open arrivals whose window reaches past t.
            let may_wait: Vec<(usize, Col)> = open
                .iter()
                .copied()
                .filter(|&(tau, _)| last[tau] > t)
                .collect();
            carried = (!may_wait.is_empty()).then(|| {
                let b = m.add_column(0.0, None, 0.0);
                terms.push((b, weight));
                let mut row = vec![(b, 1.0)];
                let mut room = 0.0;
                for &(tau, u) in &may_wait {
                    let share = facts.period_minutes[tau] / mean_minutes;
                    row.push((u, share));
                    room += facts.class_demand_tpm[tau][c.0] * coverage / unit * share;
                }
                let key = match lost {
                    Some(q) => RowKey::LossWaiting(q, period, c),
                    None => RowKey::Waiting(period, c),
                };
                m.add_row(key, row, Sense::Le, room);
                b
            });
            m.add_row(key, terms, Sense::Eq, demand / unit);
            record_balance(
                m,
                lost,
                (period, c, class.region),
                (flows, shortfall),
                &mut served_in,
            );
        }
    }
    served_in
}

/// Records one balance's flows and shortfall column: the plan's (x into `m.flows`, u into
/// `m.unserved`) or a lost provider's (v_q into `m.loss_shortfalls`); the flows also by service
/// period, for the capacity rows.
fn record_balance(
    m: &mut Model,
    lost: Option<ProviderId>,
    (period, class, region): (PeriodId, ClassId, RegionId),
    (flows, shortfall): (Vec<Flow>, Option<Col>),
    served_in: &mut [Vec<Flow>],
) {
    for x in &flows {
        served_in[x.period.0].push(x.clone());
    }
    let shortfall = shortfall.map(|col| Shortfall {
        lost,
        class,
        region,
        period,
        col,
    });
    match lost {
        Some(_) => m.loss_shortfalls.extend(shortfall),
        None => {
            m.flows.extend(flows);
            m.unserved.extend(shortfall);
        }
    }
}

/// Σ(k of p) x(k,·,·,t′) ≤ s · B(t′) with B(t′) = Σ(all k) x(k,·,·,t′) + Σ u(·,t′) (what is
/// served in t′ plus what arrived in t′ and is never served), written as
/// (1 − s)·Σ(k of p) x − s·Σ(k of others) x − s·Σ u ≤ 0, for every provider with flows in t′.
fn define_deferred_share_rows(
    m: &mut Model,
    facts: &Facts,
    t: PeriodId,
    flows: &[Flow],
    never_served: &[Col],
) {
    let s = m.policy.max_provider_share;
    for p in 0..facts.providers.len() {
        let of_p = |x: &Flow| facts.tranches[x.tranche.0].provider.0 == p;
        if !flows.iter().any(of_p) {
            continue;
        }
        let terms: Vec<(Col, f64)> = flows
            .iter()
            .map(|x| (x.col, if of_p(x) { 1.0 - s } else { -s }))
            .chain(never_served.iter().map(|&u| (u, -s)))
            .collect();
        m.add_row(RowKey::Share(t, ProviderId(p)), terms, Sense::Le, 0.0);
    }
}

/// Losing provider q with deferral: free flows y_q over the other providers' reserved capacity,
/// with the same service windows as x (the same storage form), must cover `loss_coverage` of each
/// arrival's demand, or pay the resilience penalty on v_q.
fn define_deferred_provider_loss(m: &mut Model, facts: &Facts, q: ProviderId) {
    let periods = m.options.periods.clone();
    let served_in = define_waiting(m, facts, Some(q));
    for &t in &periods {
        define_capacity_rows(m, facts, t, &served_in[t.0], |t, k| {
            RowKey::LossCapacity(q, t, k)
        });
    }
}
