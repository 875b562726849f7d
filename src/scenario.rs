//! Validated-scenario stage: the typed, checked scenario every later stage works from.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::error::Location;
use crate::units::{SECONDS_PER_HOUR, SECONDS_PER_MINUTE, TOKENS_PER_MILLION};

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

/// One capacity tranche (a row of capacity.csv). `Default` is an empty tranche, for tests and
/// builders (`..Tranche::default()`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Tranche {
    pub name: String,
    pub provider: String,
    pub region: String,
    /// First instant available; None = from the beginning.
    pub start: Option<DateTime<Utc>>,
    /// First instant no longer available; None = open.
    pub end: Option<DateTime<Utc>>,
    /// Tokens per minute at full commitment; for a tranche in GPUs, gpus · tokens per second per
    /// GPU · 60 (`GpuCapacity::capacity_tpm`).
    pub capacity_tpm: f64,
    /// $ per million tokens served; translated from `cost_per_gpu_hour` when that was given.
    pub cost_per_million_tokens: f64,
    /// $ per hour of the window for the whole tranche; translated from `commit_cost_per_gpu_hour`
    /// when that was given.
    pub commit_cost_per_hour: f64,
    pub min_commit: f64,
    /// The GPUs the tranche is written in (spec v3); None for a tranche in tokens per minute.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu: Option<GpuCapacity>,
    /// The model this capacity serves; None = it serves every workload without a model.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip)]
    pub origin: Option<Origin>,
}

/// A tranche written in GPUs (capacity.csv's `gpus`, spec v3): what was signed, and the
/// throughput and per-GPU-hour prices its tokens-per-minute figures are translated from.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct GpuCapacity {
    /// GPU type as the provider sells it (`H100`, `H200` …), the `gpu` column; None when not
    /// given (the throughput was then written on the row).
    pub gpu_type: Option<String>,
    /// GPUs offered, a whole number ≥ 1 (at most 1e9).
    pub gpus: u64,
    /// GPUs per block, the unit a reservation is signed in (1 when not given); divides `gpus`.
    pub block_gpus: u64,
    /// Sustained tokens per second of one GPU on the tranche's model (positive, at most 1e9).
    pub tokens_per_second_per_gpu: f64,
    /// Where `tokens_per_second_per_gpu` was looked up: the throughput.csv row; None when it was
    /// written on the capacity.csv row. A child scenario's throughput.csv looks it up again.
    #[serde(skip)]
    pub throughput_origin: Option<Origin>,
    /// $ per GPU-hour reserved, when the commitment was written so (times any price what-if).
    pub commit_cost_per_gpu_hour: Option<f64>,
    /// $ per GPU-hour used, when the usage price was written so (times any price what-if).
    pub cost_per_gpu_hour: Option<f64>,
}

impl GpuCapacity {
    /// capacity_tpm = gpus · tokens_per_second_per_gpu · 60.
    pub fn capacity_tpm(&self) -> f64 {
        self.gpus as f64 * self.tokens_per_second_per_gpu * SECONDS_PER_MINUTE
    }

    /// commit_cost_per_hour = commit_cost_per_gpu_hour · gpus, when the commitment is per GPU-hour.
    pub fn commit_cost_per_hour(&self) -> Option<f64> {
        self.commit_cost_per_gpu_hour.map(|c| c * self.gpus as f64)
    }

    /// cost_per_million_tokens = cost_per_gpu_hour · 1e6 / (tokens_per_second_per_gpu · 3600),
    /// when the usage price is per GPU-hour: a GPU-hour serves tps · 3600 tokens.
    pub fn cost_per_million_tokens(&self) -> Option<f64> {
        self.cost_per_gpu_hour
            .map(|c| c * TOKENS_PER_MILLION / (self.tokens_per_second_per_gpu * SECONDS_PER_HOUR))
    }
}

impl Tranche {
    /// Sets the tokens-per-minute capacity and the prices written per GPU-hour from the GPU facts
    /// (the one place the translation is made; nothing for a tranche in tokens per minute).
    pub fn translate_gpus(&mut self) {
        let Some(g) = &self.gpu else { return };
        self.capacity_tpm = g.capacity_tpm();
        if let Some(c) = g.commit_cost_per_hour() {
            self.commit_cost_per_hour = c;
        }
        if let Some(c) = g.cost_per_million_tokens() {
            self.cost_per_million_tokens = c;
        }
    }
}

/// A workload's row of workloads.csv (spec v3), or what a `max_delay` what-if set for it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workload {
    /// How long its tokens may wait to be served, minutes (0 = served in the period they arrive).
    pub max_delay_minutes: f64,
    /// $ per million tokens of it left unserved; None = the policy's `unserved_penalty`.
    pub unserved_penalty: Option<f64>,
    /// The model its tokens run on; None = only tranches without a model serve it.
    pub model: Option<String>,
    /// Where `max_delay` was last set: the workloads.csv cell, a `[[whatif.max_delay]]` key or a
    /// `--max-delay` flag (for messages about the delay); None when it is the default.
    #[serde(skip)]
    pub max_delay_at: Option<Location>,
    /// The workloads.csv row; None for a workload only a what-if named.
    #[serde(skip)]
    pub origin: Option<Origin>,
}

impl Default for Workload {
    /// A workload without a row: no delay, the policy's penalty, no model.
    fn default() -> Workload {
        Workload {
            max_delay_minutes: 0.0,
            unserved_penalty: None,
            model: None,
            max_delay_at: None,
            origin: None,
        }
    }
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

/// A validated scenario: every table parsed, inherited and transformed by its what-ifs. `Default`
/// is an empty scenario, for tests and builders (`..Scenario::default()`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
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
    /// workloads.csv (spec v3) by workload name, with what the `max_delay` what-ifs set: only the
    /// workloads written there or named by a what-if (empty for a v2 scenario). Every name is a
    /// workload of `demand`. A workload of demand without an entry has `Workload::default()`; see
    /// `Scenario::workload`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub workload_settings: BTreeMap<String, Workload>,
}

impl Scenario {
    /// The settings of a workload, defaults for one without a row.
    pub fn workload(&self, name: &str) -> Workload {
        self.workload_settings
            .get(name)
            .cloned()
            .unwrap_or_default()
    }

    /// $ per million unserved tokens of a workload: its own penalty, else the policy's.
    pub fn unserved_penalty(&self, workload: &str) -> f64 {
        self.workload_settings
            .get(workload)
            .and_then(|w| w.unserved_penalty)
            .unwrap_or(self.policy.unserved_penalty)
    }

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
        // Workloads with a penalty of their own say so: the policy's is not theirs.
        let own: Vec<String> = self
            .workload_settings
            .iter()
            .filter_map(|(name, w)| {
                w.unserved_penalty
                    .map(|v| format!("{name} ${}/M", crate::units::fixed(v)))
            })
            .collect();
        let own = match own.len() {
            0 => String::new(),
            1..=3 => format!(" ({})", own.join(", ")),
            n => format!(
                " ({}, and {} more workloads their own)",
                own[..2].join(", "),
                n - 2
            ),
        };
        parts.push(format!(
            "unserved penalty ${}/M tokens{own}",
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

#[cfg(test)]
mod tests {
    use super::*;

    fn h200() -> GpuCapacity {
        GpuCapacity {
            gpu_type: Some("H200".into()),
            gpus: 8,
            block_gpus: 8,
            tokens_per_second_per_gpu: 1500.0,
            throughput_origin: None,
            commit_cost_per_gpu_hour: Some(2.5),
            cost_per_gpu_hour: Some(3.2),
        }
    }

    /// 8 H200 at 1,500 tokens/s per GPU serve 8 × 1,500 × 60 = 720,000 tokens/min; $2.50 per
    /// GPU-hour reserved is 8 × 2.50 = $20 per hour; $3.20 per GPU-hour used, a GPU-hour serving
    /// 1,500 × 3,600 = 5.4M tokens, is 3.20 / 5.4 = $0.5926 per million tokens.
    #[test]
    fn gpu_translations_worked_by_hand() {
        let g = h200();
        assert_eq!(g.capacity_tpm(), 720_000.0);
        assert_eq!(g.commit_cost_per_hour(), Some(20.0));
        let usage = g.cost_per_million_tokens().unwrap();
        assert_eq!(format!("{usage:.4}"), "0.5926");
        assert!((usage - 3.2 / 5.4).abs() < 1e-15);
    }

    #[test]
    fn translate_gpus_keeps_prices_written_per_tranche() {
        let mut t = Tranche {
            cost_per_million_tokens: 0.4,
            commit_cost_per_hour: 0.0,
            gpu: Some(GpuCapacity {
                commit_cost_per_gpu_hour: None,
                ..h200()
            }),
            ..Tranche::default()
        };
        t.translate_gpus();
        assert_eq!(t.capacity_tpm, 720_000.0);
        assert_eq!(t.commit_cost_per_hour, 0.0, "no commitment per GPU-hour");
        assert_eq!(format!("{:.4}", t.cost_per_million_tokens), "0.5926");
        t.gpu.as_mut().unwrap().cost_per_gpu_hour = None;
        t.cost_per_million_tokens = 0.4;
        t.translate_gpus();
        assert_eq!(t.cost_per_million_tokens, 0.4, "written per million tokens");
    }

    #[test]
    fn a_workload_without_settings_takes_the_defaults_and_the_policy_penalty() {
        let mut s = Scenario::default();
        s.workload_settings.insert(
            "batch".into(),
            Workload {
                max_delay_minutes: 1440.0,
                unserved_penalty: Some(500.0),
                ..Workload::default()
            },
        );
        assert_eq!(s.workload("chat"), Workload::default());
        assert_eq!(s.workload("batch").max_delay_minutes, 1440.0);
        assert_eq!(s.unserved_penalty("batch"), 500.0);
        assert_eq!(s.unserved_penalty("chat"), 10000.0);
    }
}
