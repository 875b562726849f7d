//! Validated-scenario stage, checks across files: warnings for suspicious but legal input, and the
//! summary `capplan validate` prints.

use serde::Serialize;

use crate::error::{Diagnostic, Location};
use crate::facts::Facts;
use crate::load::flags::{label_of, FlagValue};
use crate::scenario::Scenario;
use crate::units::human;

/// Warnings about a loaded scenario, from its facts: tranches never available, periods short of
/// capacity, outages of unknown providers.
pub fn warnings(s: &Scenario, facts: &Facts) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (t, f) in s.tranches.iter().zip(&facts.tranches) {
        if f.window_hours <= 0.0 {
            let loc = match &t.origin {
                Some(o) => Location::at(&o.file, o.line, Some("start")),
                None => Location::file(s.folder.join("capacity.csv")),
            };
            out.push(Diagnostic::new(
                loc,
                format!("tranche '{}' is never active in the horizon (its window does not overlap any period): it serves nothing and costs nothing", t.name),
            ));
        }
    }
    for o in &s.outages {
        if facts.provider_id(&o.provider).is_none() {
            out.push(Diagnostic::new(
                Location::file(&s.folder),
                format!("outage of provider '{}' matches no tranche", o.provider),
            ));
        }
    }
    let short: Vec<(usize, f64, f64)> = facts
        .all_periods()
        .into_iter()
        .filter_map(|t| {
            let demand = facts.total_demand_tpm[t.0];
            let available = facts.available_tpm_total(t);
            (available < demand * (1.0 - 1e-12)).then_some((t.0, demand, available))
        })
        .collect();
    if !short.is_empty() {
        let label = |i: usize| period_label(s, i);
        let mut lines: Vec<String> = short
            .iter()
            .take(6)
            .map(|&(i, d, a)| {
                format!(
                    "{}: capacity {} below demand {} tokens/min by {}",
                    label(i),
                    human(a),
                    human(d),
                    human(d - a)
                )
            })
            .collect();
        if short.len() > 6 {
            lines.push(format!("… and {} more periods", short.len() - 6));
        }
        out.push(Diagnostic::new(
            Location::file(&s.folder),
            format!(
                "total available capacity is below demand in {} of {} periods, so some demand will go unserved whatever the plan:\n  {}",
                short.len(),
                s.periods.len(),
                lines.join("\n  ")
            ),
        ));
    }
    out
}

/// A period label: `2026-03` on monthly grids, else the start time.
pub fn period_label(s: &Scenario, i: usize) -> String {
    crate::units::period_label(&s.periods[i].start, s.periods[i].minutes)
}

/// What `capplan validate` reports about a scenario.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub scenario: String,
    pub description: String,
    pub horizon_start: String,
    pub horizon_end: String,
    pub periods: usize,
    /// Shortest and longest period, minutes.
    pub period_minutes_min: f64,
    pub period_minutes_max: f64,
    pub regions: Vec<String>,
    pub workloads: Vec<String>,
    pub providers: Vec<String>,
    pub tranches: usize,
    pub routes: usize,
    pub outages: usize,
    /// Smallest and largest total demand of a period, tokens per minute.
    pub demand_tpm_min: f64,
    pub demand_tpm_max: f64,
    pub policy: String,
    /// The what-ifs given on the command line, in canonical order; absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub whatif_flags: Vec<FlagValue>,
    pub warnings: Vec<String>,
}

pub fn summary(s: &Scenario, facts: &Facts, warnings: &[Diagnostic]) -> Summary {
    let totals = &facts.total_demand_tpm;
    let minutes = s.periods.iter().map(|p| p.minutes);
    Summary {
        scenario: s.name.clone(),
        description: s.description.clone(),
        horizon_start: s.horizon_start_text(),
        horizon_end: s.horizon_end_text(),
        periods: s.periods.len(),
        period_minutes_min: minutes.clone().fold(f64::INFINITY, f64::min),
        period_minutes_max: minutes.fold(0.0, f64::max),
        regions: s.demand_regions(),
        workloads: s.workloads(),
        providers: s.providers(),
        tranches: s.tranches.len(),
        routes: s.routes.as_ref().map_or(0, Vec::len),
        outages: s.outages.len(),
        demand_tpm_min: totals.iter().copied().fold(f64::INFINITY, f64::min),
        demand_tpm_max: totals.iter().copied().fold(0.0, f64::max),
        policy: s.policy_line(),
        whatif_flags: Vec::new(),
        warnings: warnings.iter().map(|w| w.to_string()).collect(),
    }
}

/// Human-readable rendering of a summary.
pub fn render_summary(x: &Summary) -> String {
    let days = |m: f64| {
        if m >= 1440.0 {
            format!(
                "{} days",
                crate::units::fixed((m / 1440.0 * 100.0).round() / 100.0)
            )
        } else {
            format!("{} minutes", crate::units::fixed(m))
        }
    };
    let length = if x.period_minutes_min == x.period_minutes_max {
        days(x.period_minutes_min)
    } else {
        format!(
            "{} to {}",
            days(x.period_minutes_min),
            days(x.period_minutes_max)
        )
    };
    let mut out = format!(
        "scenario   {}\nhorizon    {} → {}\nperiods    {} of {}\nregions    {}\nworkloads  {}\nproviders  {} ({} tranches, {} routes, {} outages)\ndemand     {} to {} tokens/min\npolicy     {}\n",
        x.scenario,
        x.horizon_start,
        x.horizon_end,
        x.periods,
        length,
        x.regions.join(", "),
        x.workloads.join(", "),
        x.providers.join(", "),
        x.tranches,
        x.routes,
        x.outages,
        human(x.demand_tpm_min),
        human(x.demand_tpm_max),
        x.policy,
    );
    if !x.whatif_flags.is_empty() {
        out.push_str(&format!("what-ifs   {}\n", label_of(&x.whatif_flags)));
    }
    if x.warnings.is_empty() {
        out.push_str("ok: no problems found\n");
    } else {
        for w in &x.warnings {
            out.push_str(&format!("warning: {w}\n"));
        }
    }
    out
}
