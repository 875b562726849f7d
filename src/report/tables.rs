//! Report stage: the plain tables a run writes (CSV/JSON) and charts are drawn from.
//!
//! These are the only inputs of the chart stage, so `capplan chart <output-dir>` can read them
//! back from the files a run wrote and draw the same pictures without solving again.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Scenario-level facts the charts need for titles and reference lines.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RunInfo {
    /// Scenario name (title of every chart).
    pub scenario: String,
    /// One line describing the policy, e.g. "max provider share 35% · N-1 at 80% coverage".
    pub policy: String,
    /// The share cap when one is set (< 1), as a fraction.
    pub max_provider_share: Option<f64>,
    /// Total cost of the plan, $.
    pub cost: f64,
    /// Tokens served over the horizon.
    pub served_tokens: f64,
    /// Set when the run was held to a signed plan: the scenario name of that plan. Its charts
    /// show only capacity the held plan can use (its reservations and on-demand offers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_to: Option<String>,
}

/// `cost` over the millions of `served_tokens`, $; None when nothing is served. The summary's
/// `cost_per_million_tokens` and the cost chart's subtitle both read it.
pub fn cost_per_million_tokens(cost: f64, served_tokens: f64) -> Option<f64> {
    (served_tokens > 0.0).then(|| cost / (served_tokens / crate::units::TOKENS_PER_MILLION))
}

/// One (period, provider) row of `provider_periods.csv`: supply side, summed over regions.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct ProviderPeriodRow {
    #[serde(serialize_with = "crate::export::time")]
    pub period: DateTime<Utc>,
    /// Length of the period in minutes.
    pub minutes: f64,
    pub provider: String,
    /// Capacity of the provider's tranches active in the period (after outages), tokens/min.
    pub available_tpm: f64,
    /// Reserved capacity (reserved fraction × capacity, after outages), tokens/min.
    pub reserved_tpm: f64,
    /// Tokens per minute served by this provider.
    pub served_tpm: f64,
    /// Of which served by on-demand tranches (no reservation decision).
    #[serde(default)]
    pub on_demand_tpm: f64,
    /// Reserved capacity not used: reserved minus what reserved tranches served.
    #[serde(default)]
    pub idle_reserved_tpm: f64,
    /// Of `available_tpm`, the capacity of on-demand tranches (no reservation decision): what a
    /// plan held to its reservations can still add.
    #[serde(default)]
    pub on_demand_available_tpm: f64,
    /// Commitment cost attributed to this period, $.
    pub commit_cost: f64,
    /// Usage cost in this period, $ (route cost excluded).
    pub usage_cost: f64,
    /// Cross-region route cost in this period, $.
    pub route_cost: f64,
}

/// One (period, demand region) row of `region_periods.csv`: demand side, summed over workloads.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct RegionPeriodRow {
    #[serde(serialize_with = "crate::export::time")]
    pub period: DateTime<Utc>,
    pub minutes: f64,
    pub region: String,
    pub demand_tpm: f64,
    pub served_tpm: f64,
    pub unserved_tpm: f64,
}

/// Demand and served tokens per minute of one period, all regions: what a run's periods add up to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeriodTotal {
    pub period: DateTime<Utc>,
    pub minutes: f64,
    pub demand_tpm: f64,
    /// Served in the period, whatever the tokens' arrival.
    pub served_tpm: f64,
    /// Arrived in the period and never served.
    pub unserved_tpm: f64,
}

impl PeriodTotal {
    /// The share of the period's demand that is served, in percent (at most 100), None without
    /// demand: served ÷ demand; where tokens wait into other periods (served + unserved ≠ demand
    /// beyond 1e-9), the share of its arrivals served at all, 1 − unserved ÷ demand.
    pub fn served_pct(&self) -> Option<f64> {
        (self.demand_tpm > 0.0).then(|| {
            let gap = self.served_tpm + self.unserved_tpm - self.demand_tpm;
            let served = if gap.abs() > 1e-9 * self.demand_tpm {
                self.demand_tpm - self.unserved_tpm
            } else {
                self.served_tpm
            };
            (served / self.demand_tpm).clamp(0.0, 1.0) * 100.0
        })
    }
}

/// Every period's totals from `region_periods` rows (sorted by period), in period order.
pub fn period_totals(rows: &[RegionPeriodRow]) -> Vec<PeriodTotal> {
    let mut totals: Vec<PeriodTotal> = Vec::new();
    for row in rows {
        match totals.last_mut() {
            Some(t) if t.period == row.period => {
                t.demand_tpm += row.demand_tpm;
                t.served_tpm += row.served_tpm;
                t.unserved_tpm += row.unserved_tpm;
            }
            _ => totals.push(PeriodTotal {
                period: row.period,
                minutes: row.minutes,
                demand_tpm: row.demand_tpm,
                served_tpm: row.served_tpm,
                unserved_tpm: row.unserved_tpm,
            }),
        }
    }
    totals
}

/// The worst period: the lowest served ÷ demand (%), periods without demand skipped, the first
/// of equals. The one definition of "worst-period served %", read by run, compare, resilience
/// and sweep.
pub fn worst_period(totals: &[PeriodTotal]) -> Option<(PeriodTotal, f64)> {
    let mut worst: Option<(PeriodTotal, f64)> = None;
    for t in totals {
        if let Some(pct) = t.served_pct() {
            if worst.is_none_or(|(_, w)| pct < w) {
                worst = Some((*t, pct));
            }
        }
    }
    worst
}

/// A name in a table of many rows (provider, tranche, region, workload), shared rather than copied
/// into each row: an hourly year's allocation has millions of rows naming a few hundred things.
/// Reads as a `&str`; written and read back as text.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Name(Arc<str>);

impl Serialize for Name {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Name, D::Error> {
        String::deserialize(d).map(Name::from)
    }
}

impl std::ops::Deref for Name {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Name {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Name {
    fn from(s: &str) -> Name {
        Name(Arc::from(s))
    }
}

impl From<String> for Name {
    fn from(s: String) -> Name {
        Name(Arc::from(s))
    }
}

impl From<&String> for Name {
    fn from(s: &String) -> Name {
        Name::from(s.as_str())
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        &*self.0 == other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        &*self.0 == *other
    }
}

impl PartialEq<String> for Name {
    fn eq(&self, other: &String) -> bool {
        *self.0 == **other
    }
}

impl PartialEq<Name> for String {
    fn eq(&self, other: &Name) -> bool {
        **self == *other.0
    }
}

impl PartialEq<Name> for &str {
    fn eq(&self, other: &Name) -> bool {
        **self == *other.0
    }
}

/// One row of `allocation.csv`: tokens per minute a tranche serves to a demand cell in a period.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AllocationRow {
    #[serde(serialize_with = "crate::export::time")]
    pub period: DateTime<Utc>,
    pub provider: Name,
    pub tranche: Name,
    pub supply_region: Name,
    pub demand_region: Name,
    pub workload: Name,
    pub tokens_per_minute: f64,
    /// Usage plus route cost of this flow over the period, $.
    pub cost: f64,
    /// GPU-hours the flow keeps busy (tokens ÷ tokens per second per GPU ÷ 3,600) on a tranche
    /// in GPUs; None on a tranche in tokens per minute (and no column when no tranche is in GPUs).
    #[serde(default)]
    pub gpu_hours: Option<f64>,
}

impl AllocationRow {
    /// The columns of `allocation.csv`: `gpu_hours` only when some tranche is in GPUs.
    pub fn columns(rows: &[AllocationRow]) -> Vec<&'static str> {
        let gpus = rows.iter().any(|r| r.gpu_hours.is_some());
        crate::export::csv::columns::<AllocationRow>()
            .into_iter()
            .filter(|c| gpus || *c != "gpu_hours")
            .collect()
    }
}

/// One row of `commitments.csv` (the one type: the signed-plan reader reads it back).
pub use crate::load::signed::CommitmentRow;

/// Everything the chart stage draws from.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ChartTables {
    pub info: RunInfo,
    /// Sorted by (period, provider).
    pub provider_periods: Vec<ProviderPeriodRow>,
    /// Sorted by (period, region).
    pub region_periods: Vec<RegionPeriodRow>,
    /// Sorted by (period, provider, tranche, demand_region, workload).
    pub allocation: Vec<AllocationRow>,
    /// `commitments.csv`: every tranche, sorted by (provider, region, tranche).
    pub commitments: Vec<CommitmentRow>,
}
