//! Validated-scenario stage: the typed, checked scenario every later stage works from.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

/// Default name of demand cells and tranches without a region.
pub const GLOBAL_REGION: &str = "global";
/// Default workload label.
pub const DEFAULT_WORKLOAD: &str = "default";

/// Where a row came from, so later checks (and what-ifs) can still point at a file line. The
/// file is shared by every row of it (79k demand rows on an hourly year).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: Arc<Path>,
    pub line: u64,
}

/// One period of the time grid: `[start, start + minutes)`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Period {
    pub start: DateTime<Utc>,
    pub minutes: f64,
}

/// Policy knobs of `[policy]`, with the spec's defaults applied.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Policy {
    /// $ per million tokens left unserved.
    pub unserved_penalty: f64,
    /// Largest fraction of a period's demand one provider may serve (1 = no cap).
    pub max_provider_share: f64,
    /// N-1: losing any one provider still leaves `loss_coverage` of demand servable.
    pub survive_provider_loss: bool,
    pub loss_coverage: f64,
    /// $ per million tokens of N-1 shortfall.
    pub resilience_penalty: f64,
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            unserved_penalty: 10000.0,
            max_provider_share: 1.0,
            survive_provider_loss: false,
            loss_coverage: 1.0,
            resilience_penalty: 10000.0,
        }
    }
}

/// One row of demand.csv.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Demand {
    pub period: DateTime<Utc>,
    pub region: String,
    pub workload: String,
    pub tokens_per_minute: f64,
    #[serde(skip)]
    pub origin: Option<Origin>,
}

/// One capacity tranche (a row of capacity.csv).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tranche {
    pub name: String,
    pub provider: String,
    pub region: String,
    /// First instant available; None = from the beginning.
    pub start: Option<DateTime<Utc>>,
    /// First instant no longer available; None = open.
    pub end: Option<DateTime<Utc>>,
    pub capacity_tpm: f64,
    pub cost_per_million_tokens: f64,
    pub commit_cost_per_hour: f64,
    pub min_commit: f64,
    #[serde(skip)]
    pub origin: Option<Origin>,
}

/// A cross-region route of routes.csv.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Route {
    pub demand_region: String,
    pub supply_region: String,
    pub cost_per_million_tokens: f64,
}

/// A known capacity loss (outages.csv or `[[whatif.outage]]`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outage {
    pub provider: String,
    /// None = all regions of the provider.
    pub region: Option<String>,
    /// None = every tranche of the provider (and region). Set only by what-ifs capplan derives
    /// itself (a stress test's on-demand availability); files and `[whatif]` never name one.
    pub tranche: Option<String>,
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// Fraction of capacity left during [start, end), prorated over the periods it touches (see
    /// `facts`).
    pub capacity_factor: f64,
}

/// A validated scenario: every table parsed, inherited and transformed by its what-ifs.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scenario {
    pub name: String,
    pub description: String,
    /// The folder the scenario was loaded from.
    pub folder: PathBuf,
    pub policy: Policy,
    /// The time grid: sorted distinct demand periods with their lengths.
    pub periods: Vec<Period>,
    pub demand: Vec<Demand>,
    pub tranches: Vec<Tranche>,
    /// None = no routes.csv (same region or `global` on either side serves).
    pub routes: Option<Vec<Route>>,
    pub outages: Vec<Outage>,
}

impl Scenario {
    /// First instant of the horizon.
    pub fn horizon_start(&self) -> Option<DateTime<Utc>> {
        self.periods.first().map(|p| p.start)
    }

    /// End of the horizon (end of the last period).
    pub fn horizon_end(&self) -> Option<DateTime<Utc>> {
        self.periods
            .last()
            .map(|p| p.start + minutes_duration(p.minutes))
    }

    /// Horizon start as the outputs write times (empty without periods).
    pub fn horizon_start_text(&self) -> String {
        self.horizon_start()
            .map(|t| crate::units::format_time(&t))
            .unwrap_or_default()
    }

    /// Horizon end as the outputs write times (empty without periods).
    pub fn horizon_end_text(&self) -> String {
        self.horizon_end()
            .map(|t| crate::units::format_time(&t))
            .unwrap_or_default()
    }

    /// Distinct providers, sorted.
    pub fn providers(&self) -> Vec<String> {
        let mut v: Vec<String> = self.tranches.iter().map(|t| t.provider.clone()).collect();
        v.sort();
        v.dedup();
        v
    }

    /// Distinct demand regions, sorted.
    pub fn demand_regions(&self) -> Vec<String> {
        distinct_sorted(self.demand.iter().map(|d| d.region.as_str()))
    }

    /// Distinct workloads, sorted.
    pub fn workloads(&self) -> Vec<String> {
        distinct_sorted(self.demand.iter().map(|d| d.workload.as_str()))
    }

    /// Whether capacity in `supply_region` may serve demand in `demand_region`, and at what extra $/M.
    pub fn route(&self, supply_region: &str, demand_region: &str) -> Option<f64> {
        if supply_region == demand_region {
            return Some(0.0);
        }
        match &self.routes {
            None => {
                (supply_region == GLOBAL_REGION || demand_region == GLOBAL_REGION).then_some(0.0)
            }
            Some(routes) => routes
                .iter()
                .find(|r| r.supply_region == supply_region && r.demand_region == demand_region)
                .map(|r| r.cost_per_million_tokens),
        }
    }

    /// One line describing the policy, for report headers and chart subtitles.
    pub fn policy_line(&self) -> String {
        let p = &self.policy;
        let mut parts = Vec::new();
        if p.max_provider_share < 1.0 {
            parts.push(format!(
                "max provider share {}%",
                crate::units::fixed(p.max_provider_share * 100.0)
            ));
        }
        if p.survive_provider_loss {
            parts.push(format!(
                "N-1 at {}% coverage",
                crate::units::fixed(p.loss_coverage * 100.0)
            ));
        }
        parts.push(format!(
            "unserved penalty ${}/M tokens",
            crate::units::fixed(p.unserved_penalty)
        ));
        parts.join(" · ")
    }
}

/// The distinct names, sorted, each copied once: demand has a row per (period, region,
/// workload), 79k on an hourly year, and only a few names.
fn distinct_sorted<'a>(names: impl Iterator<Item = &'a str>) -> Vec<String> {
    // Inserted one by one (collecting would sort every row's name first), skipping a name that
    // repeats the row before's, as a region does over its workloads.
    let mut set = std::collections::BTreeSet::new();
    let mut last = None;
    for name in names {
        if last != Some(name) {
            set.insert(name);
            last = Some(name);
        }
    }
    set.into_iter().map(str::to_string).collect()
}

/// A whole number of minutes as a chrono duration (sub-millisecond parts are dropped).
pub fn minutes_duration(minutes: f64) -> chrono::Duration {
    chrono::Duration::milliseconds((minutes * 60_000.0).round() as i64)
}
