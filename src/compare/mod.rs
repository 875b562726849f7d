//! Compare stage: several runs side by side against a baseline, as plain long-format rows
//! (`scenario, metric, provider, value, delta_vs_baseline`) that every exporter writes and any
//! tool can pivot. Each run is a scenario folder solved here (several in parallel), an existing
//! run's output folder read back (never solved again), or a twin: the baseline with what-if flags.
//! With `hold`, every later run is also a held dispatch of the baseline's signed plan and the
//! table reports the regret (held objective − re-planned objective).

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
    /// With hold: the objective of re-planning this column's scenario freely.
    pub replanned_objective: Option<f64>,
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

/// Scenario-wide metrics, in the order tables list them.
pub const METRICS: &[(&str, Unit)] = &[
    ("cost", Unit::Dollars),
    ("commit_cost", Unit::Dollars),
    ("usage_cost", Unit::Dollars),
    ("route_cost", Unit::Dollars),
    ("objective", Unit::Dollars),
    ("cost_per_million_tokens", Unit::DollarsPerMillionTokens),
    ("served_pct", Unit::Percent),
    ("unserved_tokens", Unit::Tokens),
    ("worst_period_served_pct", Unit::Percent),
    ("n1_shortfall_tokens", Unit::Tokens),
    ("peak_provider_share_pct", Unit::Percent),
    ("replanned_objective", Unit::Dollars),
    ("regret", Unit::Dollars),
];

/// Per-provider metrics.
pub const PROVIDER_METRICS: &[(&str, Unit)] = &[
    ("reserved_tpm_peak", Unit::TokensPerMinute),
    ("served_tokens", Unit::Tokens),
    ("cost", Unit::Dollars),
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

/// A comparison: the columns in order (the first is the baseline) and every value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    pub baseline: String,
    pub scenarios: Vec<String>,
    /// Later columns are held dispatches of the baseline's plan.
    pub hold_reservations: bool,
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

    /// A column's change against the baseline by cost component — commit, usage, route and
    /// penalties (objective − cost) — and the net change of the objective; 0 for a missing row.
    pub fn cost_change(&self, scenario: &str) -> ([f64; 4], f64) {
        let d = |m: &str| {
            self.get(scenario, m, "")
                .map_or(0.0, |r| r.delta_vs_baseline)
        };
        let net = d("objective");
        (
            [
                d("commit_cost"),
                d("usage_cost"),
                d("route_cost"),
                net - d("cost"),
            ],
            net,
        )
    }
}

/// The lowest period's served ÷ demand in percent, periods without demand skipped.
fn worst_period_served_pct(tables: &ChartTables) -> Option<f64> {
    let totals = crate::report::tables::period_totals(&tables.region_periods);
    crate::report::tables::worst_period(&totals).map(|(_, pct)| pct)
}

/// The scenario-wide values of a column, by metric name.
fn scenario_values(c: &Column, baseline_objective: Option<f64>) -> Vec<(&'static str, f64)> {
    let s = &c.summary;
    let mut v = vec![
        ("cost", s.cost),
        ("commit_cost", s.commit_cost),
        ("usage_cost", s.usage_cost),
        ("route_cost", s.route_cost),
        ("objective", s.objective),
        ("cost_per_million_tokens", s.cost_per_million_tokens),
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
    if let Some(replanned) = c.replanned_objective.or(baseline_objective) {
        v.push(("replanned_objective", replanned));
        v.push(("regret", s.objective - replanned));
    }
    v
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
    // The baseline of a held comparison is its own re-plan: regret 0.
    let base_objective = hold_reservations.then_some(base.summary.objective);
    let base_values = scenario_values(base, base_objective);
    let mut rows = Vec::new();
    for (i, c) in columns.iter().enumerate() {
        let own = if i == 0 { base_objective } else { None };
        for (metric, value) in scenario_values(c, own) {
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
    Comparison {
        baseline: base.label.clone(),
        scenarios: columns.iter().map(|c| c.label.clone()).collect(),
        hold_reservations,
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
/// dispatch of the signed plan (the column) and a free re-plan (its `replanned_objective`). A free
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
            let replanned_objective = planned.report.summary.objective;
            let held = planning.hold(signed, false, request.solver)?;
            (column(label, held, Some(replanned_objective)), None)
        }
    };
    Ok(Solved {
        column,
        signed,
        warnings: planning.warnings,
    })
}

fn column(label: String, solved: pipeline::Solved, replanned_objective: Option<f64>) -> Column {
    Column {
        label,
        summary: solved.report.summary,
        tables: solved.report.charts,
        replanned_objective,
    }
}

/// An earlier run's output folder read back: summary.json and the chart tables.
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
        label: summary.scenario.clone(),
        summary,
        tables,
        replanned_objective: None,
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
