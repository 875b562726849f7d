//! Compare stage, writing: a `Comparison` through the exporters — long-format CSV, JSON, the wide
//! table as Markdown, an xlsx workbook and the aligned text table on stdout. Every one is a pure
//! function of the comparison, so the files are deterministic.

use super::{unit_of, Comparison, MetricRow, Unit, METRICS, PROVIDER_METRICS};
use crate::error::Result;
use crate::export::markdown::{self, names_then_numbers};
use crate::export::{csv, json, OutputFile};
use crate::units::{fixed, human, human_dollars};

/// The files `capplan compare` writes besides its charts.
pub const FILE_NAMES: [&str; 4] = ["compare.csv", "compare.json", "compare.md", "compare.xlsx"];

/// Every file of a comparison (charts excluded): `compare.csv` (one row per value), `compare.json`
/// (the comparison as data), `compare.md` and `compare.xlsx` (the wide table).
pub fn files(c: &Comparison) -> Result<Vec<OutputFile>> {
    let mut files = vec![
        OutputFile::new("compare.csv", csv::table::<MetricRow>(&c.rows)),
        OutputFile::new("compare.json", compare_json(c)),
        OutputFile::new("compare.md", compare_md(c)),
    ];
    #[cfg(feature = "xlsx")]
    files.push(OutputFile::new("compare.xlsx", compare_xlsx(c)?));
    Ok(files)
}

/// `compare.json`, also what `compare --format json` prints.
pub fn compare_json(c: &Comparison) -> String {
    json::text(c)
}

/// A value in the human units of its metric.
pub fn human_value(unit: Unit, v: f64) -> String {
    match unit {
        Unit::Dollars => human_dollars(v),
        Unit::DollarsPerMillionTokens => format!("${v:.2}/M"),
        Unit::Percent => format!("{}%", fixed((v * 10.0).round() / 10.0)),
        Unit::Tokens => human(v),
        Unit::TokensPerMinute => format!("{} tok/min", human(v)),
    }
}

/// A delta in the human units of its metric, always signed ("+$1.2B", "−0.5 pp").
pub fn human_delta(unit: Unit, d: f64) -> String {
    let sign = if d < 0.0 { "−" } else { "+" };
    let a = d.abs();
    let body = match unit {
        Unit::Dollars => human_dollars(a),
        Unit::DollarsPerMillionTokens => format!("${a:.2}/M"),
        Unit::Percent => format!("{} pp", fixed((a * 10.0).round() / 10.0)),
        Unit::Tokens => human(a),
        Unit::TokensPerMinute => format!("{} tok/min", human(a)),
    };
    format!("{sign}{body}")
}

/// Human names of the metrics, with their unit.
fn metric_title(metric: &str, provider: &str) -> String {
    let name = match metric {
        "cost" if provider.is_empty() => "total cost",
        "cost" => "cost",
        "commit_cost" => "  commit",
        "usage_cost" => "  usage",
        "route_cost" => "  route",
        "objective" => "objective (cost + penalties)",
        "cost_per_million_tokens" => "$ per million tokens served",
        "served_pct" => "served",
        "unserved_tokens" => "unserved tokens",
        "worst_period_served_pct" => "worst period served",
        "n1_shortfall_tokens" => "N-1 shortfall tokens",
        "peak_provider_share_pct" => "peak provider share",
        "replanned_objective" => "re-planned objective",
        "regret" => "regret (held − re-planned)",
        "reserved_tpm_peak" => "reserved peak",
        "served_tokens" => "tokens served",
        other => other,
    };
    if provider.is_empty() {
        name.to_string()
    } else {
        format!("{provider} {name}")
    }
}

/// The wide table: one row per (metric, provider) present, one column per scenario; cells are
/// the value, and for later columns the delta against the baseline in brackets.
fn wide(c: &Comparison) -> (Vec<String>, Vec<Vec<String>>) {
    let mut header = vec!["metric".to_string()];
    header.extend(c.scenarios.iter().cloned());
    let mut keys: Vec<(String, String)> = Vec::new();
    for (m, _) in METRICS {
        if c.rows
            .iter()
            .any(|r| r.metric == *m && r.provider.is_empty())
        {
            keys.push((m.to_string(), String::new()));
        }
    }
    for p in &c.providers {
        for (m, _) in PROVIDER_METRICS {
            keys.push((m.to_string(), p.clone()));
        }
    }
    let rows = keys
        .iter()
        .map(|(metric, provider)| {
            let unit = unit_of(metric, provider);
            let mut row = vec![metric_title(metric, provider)];
            for (i, s) in c.scenarios.iter().enumerate() {
                row.push(match c.get(s, metric, provider) {
                    None => "—".into(),
                    Some(r) if i == 0 => human_value(unit, r.value),
                    Some(r) => {
                        // A delta within a millionth of the values is solver tolerance, not a
                        // difference a planner should read.
                        let base = r.value - r.delta_vs_baseline;
                        let noise = 1e-6 * r.value.abs().max(base.abs());
                        let delta = if r.delta_vs_baseline.abs() <= noise {
                            "±0".to_string()
                        } else {
                            human_delta(unit, r.delta_vs_baseline)
                        };
                        format!("{} ({delta})", human_value(unit, r.value))
                    }
                });
            }
            row
        })
        .collect();
    (header, rows)
}

/// The aligned text table for stdout, with a heading saying what the deltas are against.
pub fn render_text(c: &Comparison) -> String {
    let (header, rows) = wide(c);
    let mut out = format!(
        "compared against the baseline '{}'{}; deltas in brackets\n\n",
        c.baseline,
        if c.hold_reservations {
            ", later columns held to its signed reservations"
        } else {
            ", every column re-planned"
        }
    );
    out.push_str(&crate::export::text::aligned(&header, &rows, 60));
    out
}

/// `compare.md`: the wide table as GitHub-flavoured Markdown.
fn compare_md(c: &Comparison) -> String {
    let (header, rows) = wide(c);
    // Metric titles are indented for the text table; a Markdown cell is not.
    let rows: Vec<Vec<&str>> = rows
        .iter()
        .map(|r| r.iter().map(|cell| cell.trim()).collect())
        .collect();
    format!(
        "Compared against the baseline **{}**{}; deltas in brackets.\n\n{}",
        markdown::escape(&c.baseline),
        if c.hold_reservations {
            ", later columns held to its signed reservations"
        } else {
            ""
        },
        markdown::table(&header, &names_then_numbers(header.len()), &rows)
    )
}

/// The unit as a column-header suffix for the workbook.
#[cfg(feature = "xlsx")]
fn unit_suffix(unit: Unit) -> &'static str {
    match unit {
        Unit::Dollars => "$",
        Unit::DollarsPerMillionTokens => "$/M tokens",
        Unit::Percent => "%",
        Unit::Tokens => "tokens",
        Unit::TokensPerMinute => "tokens/min",
    }
}

/// A workbook of numbers (units in the headers) with sheets `summary` (scenarios side by side:
/// one row per metric) and `providers` (one row per provider metric).
#[cfg(feature = "xlsx")]
fn compare_xlsx(c: &Comparison) -> Result<Vec<u8>> {
    use crate::export::xlsx::{workbook, Cell, Sheet};
    let header = |first: &[&str]| -> Vec<String> {
        let mut h: Vec<String> = first.iter().map(|s| s.to_string()).collect();
        for s in &c.scenarios {
            h.push(s.clone());
            h.push(format!("{s} Δ vs baseline"));
        }
        h
    };
    // The value and delta of a metric in every column (empty where a column has none).
    let pairs = |metric: &str, provider: &str| -> Vec<Cell> {
        c.scenarios
            .iter()
            .flat_map(|s| match c.get(s, metric, provider) {
                Some(r) => [Cell::Number(r.value), Cell::Number(r.delta_vs_baseline)],
                None => [Cell::Empty, Cell::Empty],
            })
            .collect()
    };
    let summary = Sheet {
        name: "summary".into(),
        header: header(&["metric", "unit"]),
        rows: METRICS
            .iter()
            .filter(|(m, _)| {
                c.rows
                    .iter()
                    .any(|r| r.metric == *m && r.provider.is_empty())
            })
            .map(|(m, unit)| {
                let mut row = vec![Cell::from(*m), Cell::from(unit_suffix(*unit))];
                row.extend(pairs(m, ""));
                row
            })
            .collect(),
    };
    let providers = Sheet {
        name: "providers".into(),
        header: header(&["provider", "metric", "unit"]),
        rows: c
            .providers
            .iter()
            .flat_map(|p| {
                PROVIDER_METRICS.iter().map(move |(m, unit)| {
                    let mut row = vec![
                        Cell::from(p.as_str()),
                        Cell::from(*m),
                        Cell::from(unit_suffix(*unit)),
                    ];
                    row.extend(pairs(m, p));
                    row
                })
            })
            .collect(),
    };
    workbook("compare.xlsx", &[summary, providers])
}
