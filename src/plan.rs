//! Plan stage: the solved plan as plain data, no solver types. Tranches, providers and regions are
//! named (the plan carries its own name tables; the ids index them), so two plans can be matched
//! by name. Built from a solved LP by `model::extract`; read by the reports.

use serde::Serialize;

use crate::facts::{ClassId, PeriodId, ProviderId, RegionId, TrancheId};
use crate::load::signed::CommitmentRow;

/// One tranche's reservation, in the scenario's tranche order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TranchePlan {
    pub name: String,
    pub provider: String,
    pub region: String,
    /// z(k) in [min_commit, 1]. A tranche without a reservation decision is on-demand and reports
    /// its `min_commit`: its capacity is there without reserving it.
    pub reserved_fraction: f64,
    /// commit price · H(k) > 0 (the spec's one rule).
    pub has_reservation_decision: bool,
    /// commit_cost_per_hour · z · H(k), $.
    pub commit_cost: f64,
}

/// Which signed plan a held dispatch was held to.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldFrom {
    /// The scenario name of the run that wrote the plan.
    pub scenario: String,
    /// `sha256:<hex>` of that run's `commitments.csv` bytes.
    pub commitments_sha256: String,
    /// Emergency rules: share cap and N-1 dropped.
    pub emergency: bool,
}

/// Tokens per minute a tranche serves to a demand class (a region's workloads alike) in a period,
/// averaged over that period, of the class's tokens that arrived in `arrival` (the same period
/// without deferral).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PlanFlow {
    /// The service period: the tokens are served (and paid for) in it.
    pub period: PeriodId,
    /// The period the tokens arrived in (≤ `period`).
    pub arrival: PeriodId,
    pub tranche: TrancheId,
    pub class: ClassId,
    /// The class's region.
    pub region: RegionId,
    pub tokens_per_minute: f64,
}

/// Demand of a class (of a region) that arrived in a period and is never served, tokens per minute
/// averaged over that period.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Unserved {
    /// The arrival period.
    pub period: PeriodId,
    pub class: ClassId,
    /// The class's region.
    pub region: RegionId,
    pub tokens_per_minute: f64,
    /// Why, when it was asked (`run`): found by re-dispatching the plan's reservations.
    pub cause: Option<ShortfallCause>,
}

/// Why demand went unserved, found by rule: re-dispatch the held plan with the share cap off,
/// then with the unserved penalty raised above every price; the cause is the first change that
/// removes the shortfall, and capacity when neither does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ShortfallCause {
    /// Not enough capacity can reach the cell (reserved and on-demand).
    Capacity,
    /// `max_provider_share` keeps capacity that is there from serving.
    ShareCap,
    /// The unserved penalty is below the price of the capacity that could serve.
    Penalty,
}

impl ShortfallCause {
    pub fn name(self) -> &'static str {
        match self {
            ShortfallCause::Capacity => "capacity",
            ShortfallCause::ShareCap => "share cap",
            ShortfallCause::Penalty => "penalty below price",
        }
    }
}

/// N-1 shortfall: demand × loss_coverage the reserved capacity could not carry if `lost` went
/// down.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ResilienceShortfall {
    pub lost: ProviderId,
    /// The arrival period of the demand not covered.
    pub period: PeriodId,
    pub class: ClassId,
    /// The class's region.
    pub region: RegionId,
    pub tokens_per_minute: f64,
}

/// The objective's parts, $.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize)]
pub struct CostParts {
    /// Commitments of this plan's tranches plus any orphaned commitments of a held plan.
    pub commit: f64,
    /// Usage, route cost excluded.
    pub usage: f64,
    pub route: f64,
    pub unserved_penalty: f64,
    pub resilience_penalty: f64,
}

impl CostParts {
    /// commit + usage + route.
    pub fn cost(&self) -> f64 {
        self.commit + self.usage + self.route
    }

    /// cost + penalties: the objective of the plan.
    pub fn objective(&self) -> f64 {
        self.cost() + self.unserved_penalty + self.resilience_penalty
    }
}

/// Reservations in whole blocks (a mixed-integer plan): the optimum without the whole-block rule
/// and the gap the search closed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct WholeBlocks {
    /// The LP relaxation's optimum (fractional reservations), $.
    pub relaxation_objective: f64,
    /// (plan − best bound) / |plan| when the search stopped (at most 1e-9).
    pub mip_gap: f64,
}

/// The solved plan. Every number obeys the model: per (arrival period, class), served (in any
/// period of its window) + unserved = demand; per (service period, tranche), served ≤ A·cap·z; per
/// (service period, provider), served ≤ the share cap.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Plan {
    pub solver: String,
    pub solve_seconds: f64,
    /// cost + penalties, $, from the reported numbers (equal to the LP optimum up to solver
    /// tolerance).
    pub objective: f64,
    pub costs: CostParts,
    /// Set when the reservations were held to an earlier plan.
    pub held: Option<HeldFrom>,
    pub providers: Vec<String>,
    /// Demand regions.
    pub regions: Vec<String>,
    /// Every tranche of the scenario, in its order (`TrancheId` indexes this list).
    pub tranches: Vec<TranchePlan>,
    /// Commitments of a held plan for tranches this scenario no longer has (e.g. its provider is
    /// excluded): still paid, serving nothing.
    pub orphaned: Vec<CommitmentRow>,
    /// Nonzero flows, sorted by (service period, tranche, class, arrival period).
    pub flows: Vec<PlanFlow>,
    /// Nonzero unserved demand, sorted by (arrival period, class).
    pub unserved: Vec<Unserved>,
    /// Nonzero N-1 shortfalls, sorted by (lost provider, period, region).
    pub resilience_shortfalls: Vec<ResilienceShortfall>,
    /// Set when reservations had to be whole blocks (some tranche in GPUs has a decision).
    pub whole_blocks: Option<WholeBlocks>,
}

impl Plan {
    /// The tranche of a name.
    pub fn tranche(&self, name: &str) -> Option<&TranchePlan> {
        self.tranches.iter().find(|t| t.name == name)
    }
}
