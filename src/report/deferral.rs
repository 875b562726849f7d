//! Report stage, deferral: where the tokens that may wait were served. Per arrival period, demand
//! region and workload: the tokens that arrived, those served in the period they arrived, those
//! served later (with the token-weighted mean and the largest delay), and those never served.
//! Written as `deferral.csv` only when some workload can wait (`Facts::defers`), so a scenario
//! without deferral writes exactly what it wrote before.
//!
//! A class's flows and shortfall are split among its workloads in proportion to their demand in
//! the arrival period (they are alike to every constraint, as the allocation does). A delay is
//! measured from the start of the arrival period to the start of the service period: the grid's
//! own resolution (tokens served the next hour waited an hour).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::facts::{Facts, PeriodId};
use crate::plan::Plan;
use crate::scenario::Scenario;

/// One row of `deferral.csv`: one arrival period, demand region and workload with demand.
#[derive(Debug, Clone, PartialEq, Default, Serialize)]
pub struct DeferralRow {
    /// Start of the arrival period.
    #[serde(serialize_with = "crate::export::time")]
    pub period: DateTime<Utc>,
    pub region: String,
    pub workload: String,
    /// Tokens that arrived in the period.
    pub arrived_tokens: f64,
    /// Tokens served in the period they arrived in.
    pub served_in_period_tokens: f64,
    /// Tokens served in a later period.
    pub served_later_tokens: f64,
    /// Token-weighted mean delay of the tokens served later, hours (0 when none was).
    pub mean_delay_hours: f64,
    /// The largest delay of any token served later, hours (0 when none was).
    pub max_delay_hours: f64,
    /// Tokens never served.
    pub never_served_tokens: f64,
}

/// Tokens served in a later period than they arrived in: the summary's `deferred_tokens`. Not
/// unique in general (equally good plans may defer different tokens), so never a golden value on
/// its own.
pub fn deferred_tokens(facts: &Facts, plan: &Plan) -> f64 {
    plan.flows
        .iter()
        .filter(|x| x.period > x.arrival)
        .map(|x| facts.tokens(x.period, x.tokens_per_minute))
        .sum()
}

/// Per (arrival period, class) sums, tokens: served in the arrival period, served later, the
/// later tokens × their delay in hours, the largest delay, never served.
#[derive(Debug, Clone, Copy, Default)]
struct Cell {
    served_in_period: f64,
    served_later: f64,
    delay_token_hours: f64,
    max_delay_hours: f64,
    never_served: f64,
}

/// The rows of `deferral.csv`, sorted by (arrival period, region, workload); None when no
/// workload can wait.
pub fn rows(s: &Scenario, facts: &Facts, plan: &Plan) -> Option<Vec<DeferralRow>> {
    if !facts.defers() {
        return None;
    }
    let n_c = facts.classes.len();
    let mut cells = vec![vec![Cell::default(); n_c]; facts.period_count()];
    let hours_between = |a: PeriodId, b: PeriodId| {
        (s.periods[b.0].start - s.periods[a.0].start).num_milliseconds() as f64 / 3_600_000.0
    };
    for x in &plan.flows {
        let tokens = facts.tokens(x.period, x.tokens_per_minute);
        let cell = &mut cells[x.arrival.0][x.class.0];
        if x.period == x.arrival {
            cell.served_in_period += tokens;
        } else {
            let delay = hours_between(x.arrival, x.period);
            cell.served_later += tokens;
            cell.delay_token_hours += tokens * delay;
            cell.max_delay_hours = cell.max_delay_hours.max(delay);
        }
    }
    for u in &plan.unserved {
        cells[u.period.0][u.class.0].never_served += facts.tokens(u.period, u.tokens_per_minute);
    }
    let mut out = Vec::new();
    for t in facts.all_periods() {
        let period = s.periods[t.0].start;
        for (r, region) in facts.regions.iter().enumerate() {
            for &(w, d) in &facts.workload_demand_tpm[t.0][r] {
                if d <= 0.0 {
                    continue;
                }
                let c = facts.class_of[r][w.0].expect("a workload with demand has a class");
                let cell = cells[t.0][c.0];
                // d / class demand ≤ 1 keeps the products finite at any magnitude.
                let share = d / facts.class_demand_tpm[t.0][c.0];
                out.push(DeferralRow {
                    period,
                    region: region.clone(),
                    workload: facts.workloads[w.0].clone(),
                    arrived_tokens: facts.tokens(t, d),
                    served_in_period_tokens: cell.served_in_period * share,
                    served_later_tokens: cell.served_later * share,
                    mean_delay_hours: if cell.served_later > 0.0 {
                        cell.delay_token_hours / cell.served_later
                    } else {
                        0.0
                    },
                    max_delay_hours: cell.max_delay_hours,
                    never_served_tokens: cell.never_served * share,
                });
            }
        }
    }
    // Already in (period, region, workload) order: the facts' regions and each cell's
    // workloads are sorted by name.
    Some(out)
}
