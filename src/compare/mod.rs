//! Compare stage: several runs side by side against a baseline, as plain long-format rows
//! (`scenario, metric, provider, value, delta_vs_baseline`) that every exporter writes and any
//! tool can pivot. Each run is a scenario folder solved here (several in parallel), an existing
//! run's output folder read back (never solved again), or a twin: the baseline with what-if flags.
//! With `hold`, every later run is also a held dispatch of the baseline's signed plan, re-planned
//! freely beside it, and the table reports the regret as extra spend and extra unserved tokens
//! (held − re-planned). Spend (commit + usage + route, money paid) and shortfall (tokens) are
//! separate rows; the LP objective, which prices shortfall at the policy's penalties, is its own
//! row and is never called cost.

pub mod write;

use std::path::{Path, PathBuf};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Diagnostic, Error, Location, Result};
use crate::load::flags::Flags;
use crate::load::signed::SignedPlan;
use crate::model::solve::SolverKind;
use crate::pipeline::{self, Planning};
use crate::report::build::Summary;
use crate::report::tables::ChartTables;
use crate::units::fixed;

/// One column of a comparison, as given on the command line.
#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    /// A scenario folder, solved.
    Scenario(PathBuf),
    /// The output folder of an earlier `capplan run`, read back.
    Output(PathBuf),
    /// The baseline scenario with what-if flags.
    Twin(Flags),
}

impl Input {
    /// A folder argument: an output folder when it holds a run's summary.json and no demand.csv,
    /// else a scenario folder.
    pub fn from_folder(path: &Path) -> Input {
        if path.join("summary.json").is_file() && !path.join("demand.csv").is_file() {
            Input::Output(path.to_path_buf())
        } else {
            Input::Scenario(path.to_path_buf())
        }
    }
}

/// A solved or read-back column: its summary and the per-period tables the charts draw.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub label: String,
    pub summary: Summary,
    pub tables: ChartTables,
    /// With hold: what re-planning this column's scenario freely gives.
    pub replanned: Option<Replanned>,
}

/// What a free re-plan of a held column's scenario gives: the yardstick of its regret.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Replanned {
    /// Commit + usage + route, $: money paid.
    pub spend: f64,
    pub unserved_tokens: f64,
    pub n1_shortfall_tokens: f64,
    /// The LP objective, $: spend plus the shortfall priced at the policy's penalties.
    pub objective: f64,
}

impl Replanned {
    pub fn of(s: &Summary) -> Replanned {
        Replanned {
            spend: s.cost,
            unserved_tokens: s.unserved_tokens,
            n1_shortfall_tokens: s.resilience_shortfall_tokens,
            objective: s.objective,
        }
    }
}

/// How a metric's values read: the unit its text and charts use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    Dollars,
    DollarsPerMillionTokens,
    Percent,
    Tokens,
    TokensPerMinute,
}

/// Scenario-wide metrics, in the order tables list them: spend (money paid), shortfall (tokens),
/// with hold the regret as extra spend and extra shortfall, and last the LP objective, which
/// prices shortfall at the penalties and is not money anyone pays.
pub const METRICS: &[(&str, Unit)] = &[
    ("spend", Unit::Dollars),
    ("commit_spend", Unit::Dollars),
    ("usage_spend", Unit::Dollars),
    ("route_spend", Unit::Dollars),
    ("spend_per_million_tokens", Unit::DollarsPerMillionTokens),
    ("served_pct", Unit::Percent),
    ("unserved_tokens", Unit::Tokens),
    ("worst_period_served_pct", Unit::Percent),
    ("n1_shortfall_tokens", Unit::Tokens),
    ("peak_provider_share_pct", Unit::Percent),
    ("replanned_spend", Unit::Dollars),
    ("extra_spend", Unit::Dollars),
    ("replanned_unserved_tokens", Unit::Tokens),
    ("extra_unserved_tokens", Unit::Tokens),
    ("extra_n1_shortfall_tokens", Unit::Tokens),
    ("objective", Unit::Dollars),
    ("unserved_penalty", Unit::DollarsPerMillionTokens),
    ("n1_penalty", Unit::DollarsPerMillionTokens),
    ("replanned_objective", Unit::Dollars),
    ("regret_at_penalty_prices", Unit::Dollars),
];

/// Metrics that are themselves a difference (held − re-planned): tables print them signed, with
/// no delta against the baseline beside them.
pub const DIFFERENCES: &[&str] = &[
    "extra_spend",
    "extra_unserved_tokens",
    "extra_n1_shortfall_tokens",
    "regret_at_penalty_prices",
];

/// Per-provider metrics.
pub const PROVIDER_METRICS: &[(&str, Unit)] = &[
    ("reserved_tpm_peak", Unit::TokensPerMinute),
    ("served_tokens", Unit::Tokens),
    ("spend", Unit::Dollars),
];

/// The unit of a metric (scenario-wide when `provider` is empty).
pub fn unit_of(metric: &str, provider: &str) -> Unit {
    let list = if provider.is_empty() {
        METRICS
    } else {
        PROVIDER_METRICS
    };
    list.iter()
        .find(|(m, _)| *m == metric)
        .map(|(_, u)| *u)
        .unwrap_or(Unit::Dollars)
}

/// One value of the long-format table (a row of compare.csv).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct MetricRow {
    /// The column's label.
    pub scenario: String,
    pub metric: String,
    /// Empty for scenario-wide metrics.
    pub provider: String,
    pub value: f64,
    /// value − the baseline's value of the same metric and provider (0 where the baseline has
    /// no such provider: it reserves, serves and costs nothing there).
    pub delta_vs_baseline: f64,
}

/// A column that is a held dispatch of a signed plan (`--hold-reservations`, or an output folder
/// of `run --reservations-from`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldColumn {
    /// The column's label.
    pub scenario: String,
    /// The scenario whose signed plan it is held to.
    pub plan: String,
    /// Held under emergency rules: no share cap, no N-1.
    pub emergency: bool,
}

/// A comparison: the columns in order (the first is the baseline) and every value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub baseline: String,
    pub scenarios: Vec<String>,
    /// Later columns are held dispatches of the baseline's plan.
    pub hold_reservations: bool,
    /// Every column that is a held dispatch, in column order; the others are plans.
    #[serde(default)]
    pub held: Vec<HeldColumn>,
    pub providers: Vec<String>,
    /// Sorted by column (baseline first), scenario-wide metrics before per-provider ones, then
    /// metric order, then provider.
    pub rows: Vec<MetricRow>,
}

impl Comparison {
    /// The row of a metric in a column.
    pub fn get(&self, scenario: &str, metric: &str, provider: &str) -> Option<&MetricRow> {
        self.rows
            .iter()
            .find(|r| r.scenario == scenario && r.metric == metric && r.provider == provider)
    }

    /// A column's change of spend against the baseline by component — commit, usage, route —
    /// and the net change of spend; 0 for a missing row. Penalties are no part of it.
    pub fn spend_change(&self, scenario: &str) -> ([f64; 3], f64) {
        let d = |m: &str| {
            self.get(scenario, m, "")
                .map_or(0.0, |r| r.delta_vs_baseline)
        };
        let parts = [d("commit_spend"), d("usage_spend"), d("route_spend")];
        (parts, d("spend"))
    }

    /// The column's held dispatch, if it is one.
    pub fn held_column(&self, scenario: &str) -> Option<&HeldColumn> {
        self.held.iter().find(|h| h.scenario == scenario)
    }

    /// What the columns are, for a table's heading: "later columns held to its signed
    /// reservations", "every column re-planned", or which columns are held, to which plan and
    /// under which rules.
    pub fn held_note(&self) -> String {
        let base_held = self.held_column(&self.baseline);
        let baseline_held = |h: &HeldColumn| {
            format!(
                "the baseline itself is held to {}'s signed plan{}",
                h.plan,
                if h.emergency {
                    " under emergency rules (no share cap, no N-1)"
                } else {
                    ""
                }
            )
        };
        if self.hold_reservations {
            let mut note = "later columns held to its signed reservations".to_string();
            if let Some(h) = base_held {
                note += &format!(" ({})", baseline_held(h));
            }
            return note;
        }
        if self.held.is_empty() {
            return "every column re-planned".into();
        }
        let mut parts: Vec<String> = self
            .held
            .iter()
            .map(|h| {
                if h.scenario == self.baseline {
                    baseline_held(h)
                } else {
                    format!(
                        "'{}' is held to {}'s signed plan{}",
                        h.scenario,
                        h.plan,
                        if h.emergency {
                            " under emergency rules (no share cap, no N-1)"
                        } else {
                            ""
                        }
                    )
                }
            })
            .collect();
        parts.push(if self.held.len() == self.scenarios.len() {
            "no column re-planned".into()
        } else {
            "every other column re-planned".into()
        });
        parts.join("; ")
    }

    /// The penalty prices the objective row holds, for its title: "at $100/M unserved, $50/M
    /// N-1" when every column prices shortfall alike, else None (the table then shows each
    /// column's prices in rows of their own).
    pub fn penalty_prices(&self) -> Option<String> {
        let price = |s: &str, m: &str| self.get(s, m, "").map(|r| r.value);
        let first = &self.scenarios.first()?;
        let (unserved, n1) = (price(first, "unserved_penalty"), price(first, "n1_penalty"));
        let same =
            |s: &String| price(s, "unserved_penalty") == unserved && price(s, "n1_penalty") == n1;
        if !self.scenarios.iter().all(same) {
            return None;
        }
        let mut text = format!("at ${}/M unserved", fixed(unserved?));
        let any_n1 = self.scenarios.iter().any(|s| {
            self.get(s, "n1_shortfall_tokens", "")
                .is_some_and(|r| r.value > 0.0)
        });
        match n1 {
            Some(p) if p > 0.0 => text += &format!(", ${}/M N-1", fixed(p)),
            _ if any_n1 => text += ", N-1 not priced",
            _ => {}
        }
        Some(text)
    }
}

/// The column's own label: the scenario's name, its what-if flags, and the plan it is held to.
fn label_of(s: &Summary) -> String {
    let mut label = s.scenario.clone();
    if !s.whatif_flags.is_empty() {
        label = format!("{label} {}", crate::load::flags::label_of(&s.whatif_flags));
    }
    if let Some(h) = &s.held_plan {
        label += &format!(" held to {}", h.scenario);
        if h.emergency {
            label += " (emergency rules)";
        }
    }
    label
}

/// The lowest period's served ÷ demand in percent, periods without demand skipped.
fn worst_period_served_pct(tables: &ChartTables) -> Option<f64> {
    let totals = crate::report::tables::period_totals(&tables.region_periods);
    crate::report::tables::worst_period(&totals).map(|(_, pct)| pct)
}

/// The scenario-wide values of a column, by metric name. `replanned`: the column's free re-plan
/// (with hold; the baseline is its own).
fn scenario_values(c: &Column, replanned: Option<Replanned>) -> Vec<(&'static str, f64)> {
    let s = &c.summary;
    let mut v = vec![
        ("spend", s.cost),
        ("commit_spend", s.commit_cost),
        ("usage_spend", s.usage_cost),
        ("route_spend", s.route_cost),
        ("spend_per_million_tokens", s.cost_per_million_tokens),
        ("served_pct", s.served_fraction * 100.0),
        ("unserved_tokens", s.unserved_tokens),
    ];
    if let Some(w) = worst_period_served_pct(&c.tables) {
        v.push(("worst_period_served_pct", w));
    }
    v.push(("n1_shortfall_tokens", s.resilience_shortfall_tokens));
    v.push((
        "peak_provider_share_pct",
        s.providers.iter().map(|p| p.peak_share).fold(0.0, f64::max) * 100.0,
    ));
    if let Some(r) = replanned {
        v.push(("replanned_spend", r.spend));
        v.push(("extra_spend", s.cost - r.spend));
        v.push(("replanned_unserved_tokens", r.unserved_tokens));
        v.push((
            "extra_unserved_tokens",
            s.unserved_tokens - r.unserved_tokens,
        ));
        v.push((
            "extra_n1_shortfall_tokens",
            s.resilience_shortfall_tokens - r.n1_shortfall_tokens,
        ));
    }
    v.push(("objective", s.objective));
    v.push(("unserved_penalty", s.policy.unserved_penalty));
    v.push(("n1_penalty", n1_penalty(s)));
    if let Some(r) = replanned {
        v.push(("replanned_objective", r.objective));
        v.push(("regret_at_penalty_prices", s.objective - r.objective));
    }
    v
}

/// $ per million tokens of N-1 shortfall in the column's objective: 0 where N-1 is not part of
/// it (no N-1 policy, or held under emergency rules).
fn n1_penalty(s: &Summary) -> f64 {
    let emergency = s.held_plan.as_ref().is_some_and(|h| h.emergency);
    if s.policy.survive_provider_loss && !emergency {
        s.policy.resilience_penalty
    } else {
        0.0
    }
}

/// Builds the long-format table of columns (the first is the baseline).
pub fn compare(columns: &[Column], hold_reservations: bool) -> Comparison {
    let mut providers: Vec<String> = columns
        .iter()
        .flat_map(|c| c.summary.providers.iter().map(|p| p.provider.clone()))
        .collect();
    providers.sort();
    providers.dedup();
    let provider_value = |c: &Column, provider: &str, metric: &str| {
        c.summary
            .providers
            .iter()
            .find(|p| p.provider == provider)
            .map_or(0.0, |p| match metric {
                "reserved_tpm_peak" => p.reserved_tpm_peak,
                "served_tokens" => p.served_tokens,
                _ => p.cost,
            })
    };
    let base = &columns[0];
    // The baseline of a held comparison is its own re-plan: no extra spend, no regret.
    let base_replanned = hold_reservations.then(|| Replanned::of(&base.summary));
    let base_values = scenario_values(base, base_replanned);
    let mut rows = Vec::new();
    for (i, c) in columns.iter().enumerate() {
        let replanned = if i == 0 { base_replanned } else { c.replanned };
        for (metric, value) in scenario_values(c, replanned) {
            let base_value = base_values
                .iter()
                .find(|(m, _)| *m == metric)
                .map_or(0.0, |(_, v)| *v);
            rows.push(MetricRow {
                scenario: c.label.clone(),
                metric: metric.to_string(),
                provider: String::new(),
                value,
                delta_vs_baseline: value - base_value,
            });
        }
        for (metric, _) in PROVIDER_METRICS {
            for p in &providers {
                let value = provider_value(c, p, metric);
                rows.push(MetricRow {
                    scenario: c.label.clone(),
                    metric: metric.to_string(),
                    provider: p.clone(),
                    value,
                    delta_vs_baseline: value - provider_value(base, p, metric),
                });
            }
        }
    }
    let held = columns
        .iter()
        .filter_map(|c| {
            let h = c.summary.held_plan.as_ref()?;
            Some(HeldColumn {
                scenario: c.label.clone(),
                plan: h.scenario.clone(),
                emergency: h.emergency,
            })
        })
        .collect();
    Comparison {
        baseline: base.label.clone(),
        scenarios: columns.iter().map(|c| c.label.clone()).collect(),
        hold_reservations,
        held,
        providers,
        rows,
    }
}

/// What to compare, and how.
#[derive(Debug, Clone)]
pub struct Request {
    /// The first is the baseline (a scenario or an output folder); twins need a scenario baseline.
    pub inputs: Vec<Input>,
    pub hold_reservations: bool,
    pub solver: SolverKind,
}

/// Solves or reads every column, in parallel where they are independent, calling `done` with
/// each column's label as it finishes (for a progress bar). Returns the columns and the warnings
/// of every scenario loaded.
pub fn gather(
    request: &Request,
    done: &(dyn Fn(&str) + Sync),
) -> Result<(Vec<Column>, Vec<Diagnostic>)> {
    let Some(first) = request.inputs.first() else {
        return Err(Error::Usage("compare needs at least one scenario".into()));
    };
    let baseline_folder = match first {
        Input::Scenario(p) => Some(p.clone()),
        Input::Output(_) => None,
        Input::Twin(_) => {
            return Err(Error::Usage(
                "the first argument of compare is the baseline: a scenario or output folder, not a --twin".into(),
            ))
        }
    };
    for input in &request.inputs[1..] {
        match input {
            Input::Twin(_) if baseline_folder.is_none() => {
                return Err(Error::Usage(
                    "--twin needs a baseline scenario folder (the baseline here is an output folder, which is already solved)".into(),
                ))
            }
            Input::Output(p) if request.hold_reservations => {
                return Err(Error::Usage(format!(
                    "{} is an output folder: it is already solved and cannot be held to the baseline's reservations (pass its scenario folder, or leave out --hold-reservations)",
                    p.display()
                )))
            }
            _ => {}
        }
    }
    let plan = |input: &Input| -> Result<Solved> {
        match input {
            Input::Output(dir) => Ok(Solved {
                column: read_output(dir)?,
                signed: if request.hold_reservations {
                    Some(crate::load::signed::read_signed_plan(dir)?)
                } else {
                    None
                },
                warnings: Vec::new(),
            }),
            Input::Scenario(folder) => solved(folder, &Flags::default(), request, None),
            Input::Twin(flags) => solved(
                baseline_folder.as_ref().expect("checked above"),
                flags,
                request,
                None,
            ),
        }
    };
    // The baseline first: with hold, every other column needs its signed plan.
    let base = plan(first)?;
    done(&base.column.label);
    let signed = base.signed;
    let rest: Vec<Result<Solved>> = request.inputs[1..]
        .par_iter()
        .map(|input| {
            let solved = match (&signed, input) {
                (Some(signed), Input::Scenario(folder)) => {
                    solved(folder, &Flags::default(), request, Some(signed))?
                }
                (Some(signed), Input::Twin(flags)) => solved(
                    baseline_folder.as_ref().expect("checked above"),
                    flags,
                    request,
                    Some(signed),
                )?,
                _ => plan(input)?,
            };
            done(&solved.column.label);
            Ok(solved)
        })
        .collect();
    let mut columns = vec![base.column];
    let mut warnings = base.warnings;
    for c in rest {
        let c = c?;
        columns.push(c.column);
        warnings.extend(c.warnings);
    }
    unique_labels(&mut columns);
    Ok((columns, warnings))
}

/// A column solved or read, the signed plan of a free plan (the baseline's, with hold) and the
/// warnings of its scenario.
struct Solved {
    column: Column,
    signed: Option<SignedPlan>,
    warnings: Vec<Diagnostic>,
}

/// Solves a scenario (with what-if flags), loaded once: a plan, or with `hold` both the held
/// dispatch of the signed plan (the column) and a free re-plan (its `replanned`). A free
/// plan's signed plan is kept when the comparison holds (the baseline's).
fn solved(
    folder: &Path,
    flags: &Flags,
    request: &Request,
    hold: Option<&SignedPlan>,
) -> Result<Solved> {
    let planning = Planning::load(folder, flags)?;
    let planned = planning.plan(request.solver)?;
    let label = if flags.is_empty() {
        planning.scenario.name.clone()
    } else {
        format!("{} {}", planning.scenario.name, flags.label())
    };
    let (column, signed) = match hold {
        None => {
            let signed = request.hold_reservations.then(|| planned.signed_plan());
            (column(label, planned, None), signed)
        }
        Some(signed) => {
            let replanned = Replanned::of(&planned.report.summary);
            let held = planning.hold(signed, false, request.solver)?;
            (column(label, held, Some(replanned)), None)
        }
    };
    Ok(Solved {
        column,
        signed,
        warnings: planning.warnings,
    })
}

fn column(label: String, solved: pipeline::Solved, replanned: Option<Replanned>) -> Column {
    Column {
        label,
        summary: solved.report.summary,
        tables: solved.report.charts,
        replanned,
    }
}

/// An earlier run's output folder read back: summary.json and the chart tables; labelled by what
/// it holds (its what-ifs, and the plan a held run is held to).
fn read_output(dir: &Path) -> Result<Column> {
    let path = dir.join("summary.json");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let summary: Summary = serde_json::from_str(&text).map_err(|e| {
        Error::input(
            Location::at(&path, e.line() as u64, None),
            format!("expected summary.json as `capplan run` writes it: {e}"),
        )
    })?;
    let tables = crate::report::write::read_chart_tables(dir)?;
    Ok(Column {
        label: label_of(&summary),
        summary,
        tables,
        replanned: None,
    })
}

/// Two columns of the same name (a scenario given twice, a run of it beside it) are numbered.
fn unique_labels(columns: &mut [Column]) {
    for i in 1..columns.len() {
        let taken = |l: &str, cols: &[Column]| cols.iter().any(|c| c.label == l);
        if taken(&columns[i].label, &columns[..i]) {
            let mut n = 2;
            while taken(&format!("{} ({n})", columns[i].label), &columns[..i]) {
                n += 1;
            }
            columns[i].label = format!("{} ({n})", columns[i].label);
        }
    }
}
