//! Validated-scenario stage, checks across files: warnings for suspicious but legal input, and the
//! summary `capplan validate` prints.

use chrono::{DateTime, Datelike, Months, Utc};
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
    out.extend(irregular_grid(s));
    out.extend(unreachable_regions(s, facts));
    out.extend(unsatisfiable_share_cap(s, facts));
    out.extend(delays_below_the_grain(s, facts));
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
            // Tokens that may wait can be served later: only what cannot wait must fit in t.
            let demand = if facts.defers() {
                facts.class_demand_tpm[t.0]
                    .iter()
                    .enumerate()
                    .filter(|&(c, _)| facts.service_last[c][t.0] == t.0)
                    .map(|(_, d)| d)
                    .sum()
            } else {
                facts.total_demand_tpm[t.0]
            };
            let available = facts.available_tpm_total(t);
            (available < demand * (1.0 - 1e-12)).then_some((t.0, demand, available))
        })
        .collect();
    if !short.is_empty() {
        let label = |i: usize| period_label(s, i);
        let what = if facts.defers() {
            "the demand that cannot wait"
        } else {
            "demand"
        };
        let mut lines: Vec<String> = short
            .iter()
            .take(6)
            .map(|&(i, d, a)| {
                format!(
                    "{}: capacity {} below {} {} tokens/min by {}",
                    label(i),
                    human(a),
                    what,
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

/// The step from one period start to the next: whole calendar months when it is, else minutes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Step {
    Months(u32),
    Minutes(f64),
}

impl Step {
    fn between(a: DateTime<Utc>, b: DateTime<Utc>) -> Step {
        let months = (b.year() * 12 + b.month0() as i32) - (a.year() * 12 + a.month0() as i32);
        if months >= 1 && a.checked_add_months(Months::new(months as u32)) == Some(b) {
            Step::Months(months as u32)
        } else {
            Step::Minutes((b - a).num_milliseconds() as f64 / 60_000.0)
        }
    }

    fn words(self) -> String {
        match self {
            Step::Months(1) => "monthly".into(),
            Step::Months(m) => format!("{m}-monthly"),
            Step::Minutes(60.0) => "hourly".into(),
            Step::Minutes(1440.0) => "daily".into(),
            Step::Minutes(10080.0) => "weekly".into(),
            Step::Minutes(m) => format!("{}-minute", crate::units::fixed(m)),
        }
    }
}

/// The most common step between period starts and how often it occurs (the last of equals,
/// as `max_by_key` picks), None without steps.
fn dominant_step(steps: &[Step]) -> Option<(Step, usize)> {
    let mut counts: Vec<(Step, usize)> = Vec::new();
    for st in steps {
        match counts.iter_mut().find(|(x, _)| x == st) {
            Some((_, n)) => *n += 1,
            None => counts.push((*st, 1)),
        }
    }
    counts.iter().copied().max_by_key(|(_, n)| *n)
}

/// The first demand row of a period (or of a region), for pointing at it.
fn demand_row(
    s: &Scenario,
    keep: impl Fn(&crate::scenario::Demand) -> bool,
    column: &str,
) -> Location {
    s.demand
        .iter()
        .filter(|d| keep(d))
        .filter_map(|d| d.origin.as_ref())
        .min_by_key(|o| (o.file.clone(), o.line))
        .map(|o| Location::at(&o.file, o.line, Some(column)))
        .unwrap_or_else(|| Location::file(s.folder.join("demand.csv")))
}

/// A period that breaks an otherwise regular grid (a mistyped date in a monthly file adds a
/// 13th period): the steps of most periods agree and this one's do not.
fn irregular_grid(s: &Scenario) -> Vec<Diagnostic> {
    let starts: Vec<DateTime<Utc>> = s.periods.iter().map(|p| p.start).collect();
    if starts.len() < 4 {
        return Vec::new();
    }
    let steps: Vec<Step> = starts
        .windows(2)
        .map(|w| Step::between(w[0], w[1]))
        .collect();
    let (dominant, n) = dominant_step(&steps).expect("at least three steps");
    // Only a grid that is regular but for a few slips; a deliberately uneven grid is left alone.
    if n * 5 < steps.len() * 3 || n == steps.len() {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut i = 0;
    while i < steps.len() {
        if steps[i] == dominant {
            i += 1;
            continue;
        }
        // An extra period: the steps into and out of it are off, and skipping it is regular.
        let extra = i + 1 < steps.len()
            && steps[i + 1] != dominant
            && Step::between(starts[i], starts[i + 2]) == dominant;
        let label = |t: usize| crate::units::format_time(&starts[t]);
        if extra {
            let p = starts[i + 1];
            out.push(Diagnostic::new(
                demand_row(s, |d| d.period == p, "period"),
                format!(
                    "period {} breaks the {} grid of the other periods ({} → {} → {}); if it is a typo, fix the date: it adds a period of its own",
                    label(i + 1),
                    dominant.words(),
                    label(i),
                    label(i + 1),
                    label(i + 2)
                ),
            ));
            i += 2;
        } else {
            let p = starts[i + 1];
            out.push(Diagnostic::new(
                demand_row(s, |d| d.period == p, "period"),
                format!(
                    "the step from {} to {} breaks the {} grid of the other periods (a missing or mistyped period?)",
                    label(i),
                    label(i + 1),
                    dominant.words()
                ),
            ));
            i += 1;
        }
    }
    out
}

/// The grid in a word: the step every period start takes ("monthly"), "mostly …" when a few
/// differ, "irregular" when no step dominates, empty for a single period.
fn grid_words(s: &Scenario) -> String {
    let starts: Vec<DateTime<Utc>> = s.periods.iter().map(|p| p.start).collect();
    let steps: Vec<Step> = starts
        .windows(2)
        .map(|w| Step::between(w[0], w[1]))
        .collect();
    let Some((dominant, n)) = dominant_step(&steps) else {
        return String::new();
    };
    if n == steps.len() {
        dominant.words()
    } else if n * 4 >= steps.len() * 3 {
        format!("mostly {}", dominant.words())
    } else {
        "irregular".into()
    }
}

/// A demand region no tranche can serve (no capacity there and no route to it): its demand goes
/// unserved whatever the plan. A capacity region spelled alike is offered as the likely meaning.
fn unreachable_regions(s: &Scenario, facts: &Facts) -> Vec<Diagnostic> {
    let mut supply: Vec<&str> = s.tranches.iter().map(|k| k.region.as_str()).collect();
    supply.sort();
    supply.dedup();
    let mut out = Vec::new();
    for (r, region) in facts.regions.iter().enumerate() {
        let served = facts
            .tranches
            .iter()
            .any(|k| k.window_hours > 0.0 && k.route_cost_per_million_tokens[r].is_some());
        let demand: f64 = facts.demand_tpm.iter().map(|row| row[r]).sum();
        if served || demand <= 0.0 {
            continue;
        }
        let hint = supply
            .iter()
            .find(|c| c.eq_ignore_ascii_case(region))
            .copied()
            .or_else(|| crate::error::closest(region, &supply))
            .map(|c| format!("; did you mean '{c}'?"))
            .unwrap_or_default();
        out.push(Diagnostic::new(
            demand_row(s, |d| d.region == *region, "region"),
            format!(
                "demand region '{region}' has no tranche that can serve it (no capacity in '{region}' and no route to it), so all its demand goes unserved{hint}"
            ),
        ));
    }
    out
}

/// A share cap the providers present cannot satisfy: with n providers able to serve in a period
/// and cap s, at most n·s of its demand can be served (a single-cloud child that keeps its
/// parent's 35% cap serves exactly 35%).
fn unsatisfiable_share_cap(s: &Scenario, facts: &Facts) -> Vec<Diagnostic> {
    let share = s.policy.max_provider_share;
    if share >= 1.0 {
        return Vec::new();
    }
    let short: Vec<(usize, usize)> = facts
        .all_periods()
        .into_iter()
        .filter(|t| facts.total_demand_tpm[t.0] > 0.0)
        .filter_map(|t| {
            let mut providers: Vec<usize> = (0..facts.tranches.len())
                .filter(|&k| facts.available_tpm[t.0][k] > 0.0)
                .map(|k| facts.tranches[k].provider.0)
                .collect();
            providers.sort();
            providers.dedup();
            ((providers.len() as f64) * share < 1.0 - 1e-12).then_some((t.0, providers.len()))
        })
        .collect();
    let Some(&(first, n)) = short.first() else {
        return Vec::new();
    };
    let pct = |x: f64| format!("{}%", crate::units::fixed((x * 1000.0).round() / 10.0));
    let when = if short.len() == facts.period_count() {
        "in every period".to_string()
    } else {
        format!(
            "in {} of {} periods (first {})",
            short.len(),
            facts.period_count(),
            period_label(s, first)
        )
    };
    // How many providers the cap needs; a share of 0 (or one so small no estate has that many
    // providers) needs a higher share, not a count.
    let needed = (1.0 / share).ceil();
    let fix = if needed <= 1e6 {
        format!("expected at least {needed} providers, or a higher max_provider_share")
    } else {
        "expected a higher max_provider_share".to_string()
    };
    vec![Diagnostic::new(
        Location::file(s.folder.join("scenario.toml")),
        format!(
            "max_provider_share {} with {n} provider{} able to serve lets at most {} of demand be served {when}; {fix} (set it to 1 for a single-cloud plan)",
            pct(share),
            if n == 1 { "" } else { "s" },
            pct((n as f64 * share).min(1.0)),
        ),
    )]
}

/// A workload whose max_delay > 0 lets none of its tokens move: no later period ends within
/// max_delay of the start of any period it arrives in (a 2 h delay on a daily grid), so it is
/// served as if it could not wait. Says the least delay that would let it wait one period.
fn delays_below_the_grain(s: &Scenario, facts: &Facts) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for (name, settings) in &s.workload_settings {
        if settings.max_delay_minutes <= 0.0 {
            continue;
        }
        let Ok(w) = facts.workloads.binary_search(name) else {
            continue;
        };
        let classes: Vec<usize> = facts
            .class_of
            .iter()
            .filter_map(|row| row[w].map(|c| c.0))
            .collect();
        let shifts = classes.iter().any(|&c| {
            let last = &facts.service_last[c];
            last.iter().enumerate().any(|(t, &l)| l > t)
        });
        if classes.is_empty() || shifts {
            continue;
        }
        // The least delay that reaches a later period: a period and the next, end to start.
        let least_minutes = facts
            .period_minutes
            .windows(2)
            .map(|pair| pair[0] + pair[1])
            .fold(f64::INFINITY, f64::min);
        let at = match (&settings.max_delay_at, &settings.origin) {
            (Some(at), _) => at.clone(),
            (None, Some(o)) => Location::at(&o.file, o.line, Some("max_delay")),
            (None, None) => Location::file(s.folder.join("workloads.csv")),
        };
        let delay = crate::units::format_duration(settings.max_delay_minutes);
        let grid = grid_words(s);
        let grid = if grid.is_empty() {
            String::new()
        } else {
            format!(" on this {grid} grid")
        };
        let hint = if least_minutes.is_finite() {
            format!(
                "; expected a max_delay of at least {} for its tokens to wait a period",
                crate::units::format_duration(least_minutes)
            )
        } else {
            "; the horizon has one period, so no token can wait".to_string()
        };
        out.push(Diagnostic::new(
            at,
            format!(
                "workload '{name}' has max_delay {delay}, shorter than every period it could be served in{grid}: no later period ends within {delay} of the start of the period its tokens arrive in, so they are served as they arrive, as with max_delay 0{hint}"
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
    /// The grid in a word: "monthly", "hourly", "mostly daily", or empty for one period.
    pub grid: String,
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
    /// Tranches written in GPUs or for one model (spec v3), in file order; absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub gpu_tranches: Vec<TrancheGpus>,
    /// Workloads with settings (workloads.csv or a `max_delay` what-if), by name; absent when
    /// none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub workload_settings: Vec<WorkloadSummary>,
    /// The what-ifs given on the command line, in canonical order; absent when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub whatif_flags: Vec<FlagValue>,
    pub warnings: Vec<String>,
    /// The same warnings as data: file, line, column or key, message.
    pub warning_details: Vec<crate::error::JsonProblem>,
}

/// A tranche's GPU facts and model, as `validate` reports them.
#[derive(Debug, Clone, Serialize)]
pub struct TrancheGpus {
    pub tranche: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpus: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_gpus: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tokens_per_second_per_gpu: Option<f64>,
    /// `throughput.csv:LINE` when the throughput was looked up there.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub throughput_from: Option<String>,
    pub capacity_tpm: f64,
}

/// A workload's settings, as `validate` reports them.
#[derive(Debug, Clone, Serialize)]
pub struct WorkloadSummary {
    pub workload: String,
    /// As the format writes durations: `0`, `90m`, `36h`, `2d`, `1w`.
    pub max_delay: String,
    pub max_delay_minutes: f64,
    /// $ per million tokens; absent = the policy's.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unserved_penalty: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
}

fn gpu_tranches(s: &Scenario) -> Vec<TrancheGpus> {
    s.tranches
        .iter()
        .filter(|t| t.gpu.is_some() || t.model.is_some())
        .map(|t| {
            let g = t.gpu.as_ref();
            TrancheGpus {
                tranche: t.name.clone(),
                model: t.model.clone(),
                gpu: g.and_then(|g| g.gpu_type.clone()),
                gpus: g.map(|g| g.gpus),
                block_gpus: g.map(|g| g.block_gpus),
                tokens_per_second_per_gpu: g.map(|g| g.tokens_per_second_per_gpu),
                throughput_from: g.and_then(|g| g.throughput_origin.as_ref()).map(|o| {
                    let file = o.file.file_name().unwrap_or(o.file.as_os_str());
                    format!("{}:{}", file.to_string_lossy(), o.line)
                }),
                capacity_tpm: t.capacity_tpm,
            }
        })
        .collect()
}

fn workload_settings(s: &Scenario) -> Vec<WorkloadSummary> {
    s.workload_settings
        .iter()
        .map(|(name, w)| WorkloadSummary {
            workload: name.clone(),
            max_delay: crate::units::format_duration(w.max_delay_minutes),
            max_delay_minutes: w.max_delay_minutes,
            unserved_penalty: w.unserved_penalty,
            model: w.model.clone(),
        })
        .collect()
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
        grid: grid_words(s),
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
        gpu_tranches: gpu_tranches(s),
        workload_settings: workload_settings(s),
        whatif_flags: Vec::new(),
        warnings: warnings.iter().map(|w| w.to_string()).collect(),
        warning_details: warnings
            .iter()
            .map(crate::error::JsonProblem::from)
            .collect(),
    }
}

/// The workloads, each with its settings when it has any: `batch (max_delay 24h, model m), chat`.
fn workloads_line(x: &Summary) -> String {
    x.workloads
        .iter()
        .map(|name| {
            let Some(w) = x.workload_settings.iter().find(|w| w.workload == *name) else {
                return name.clone();
            };
            let mut parts = Vec::new();
            if w.max_delay_minutes > 0.0 {
                parts.push(format!("max_delay {}", w.max_delay));
            }
            if let Some(m) = &w.model {
                parts.push(format!("model {m}"));
            }
            if let Some(p) = w.unserved_penalty {
                parts.push(format!("unserved penalty ${}/M", crate::units::fixed(p)));
            }
            if parts.is_empty() {
                name.clone()
            } else {
                format!("{name} ({})", parts.join(", "))
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// `h200: 64 × H200 (blocks of 8) at 1.5K tokens/s per GPU (throughput.csv:3) = 5.8M tokens/min;
/// model llama-70b`.
fn tranche_line(t: &TrancheGpus) -> String {
    let mut line = format!("{}: ", t.tranche);
    if let (Some(gpus), Some(tps)) = (t.gpus, t.tokens_per_second_per_gpu) {
        line.push_str(&format!("{gpus} × {}", t.gpu.as_deref().unwrap_or("GPU")));
        if let Some(b) = t.block_gpus.filter(|&b| b > 1) {
            line.push_str(&format!(" (blocks of {b})"));
        }
        line.push_str(&format!(" at {} tokens/s per GPU", human(tps)));
        if let Some(from) = &t.throughput_from {
            line.push_str(&format!(" ({from})"));
        }
        line.push_str(&format!(" = {} tokens/min", human(t.capacity_tpm)));
        if t.model.is_some() {
            line.push_str("; ");
        }
    }
    if let Some(m) = &t.model {
        line.push_str(&format!("model {m}"));
    }
    line
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
    } else if x.period_minutes_min >= 1440.0 {
        format!(
            "{} to {}",
            crate::units::fixed((x.period_minutes_min / 1440.0 * 100.0).round() / 100.0),
            days(x.period_minutes_max)
        )
    } else {
        format!(
            "{} to {}",
            days(x.period_minutes_min),
            days(x.period_minutes_max)
        )
    };
    let grid = if x.grid.is_empty() {
        String::new()
    } else {
        format!("{} ", x.grid)
    };
    let length = if x.period_minutes_min == x.period_minutes_max {
        length
    } else {
        format!("{length} long")
    };
    let mut out = format!(
        "scenario   {}\nhorizon    {} → {}\nperiods    {} {grid}periods of {}\nregions    {}\nworkloads  {}\nproviders  {} ({} tranches, {} routes, {} outages)\ndemand     {} to {} tokens/min\npolicy     {}\n",
        x.scenario,
        x.horizon_start,
        x.horizon_end,
        x.periods,
        length,
        x.regions.join(", "),
        workloads_line(x),
        x.providers.join(", "),
        x.tranches,
        x.routes,
        x.outages,
        human(x.demand_tpm_min),
        human(x.demand_tpm_max),
        x.policy,
    );
    for (i, t) in x.gpu_tranches.iter().enumerate() {
        let label = if i == 0 { "capacity" } else { "" };
        out.push_str(&format!("{label:<11}{}\n", tranche_line(t)));
    }
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
