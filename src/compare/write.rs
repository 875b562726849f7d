//! Compare stage, writing: a `Comparison` through the exporters — long-format CSV, JSON, the wide
//! table as Markdown, an xlsx workbook and the aligned text table on stdout. Every one is a pure
//! function of the comparison, so the files are deterministic.

use super::{Comparison, MetricRow, Unit, DIFFERENCES, METRICS, PROVIDER_METRICS};
use crate::error::Result;
use crate::export::markdown::{self, names_then_numbers};
use crate::export::{csv, json, OutputFile};
use crate::units::{fixed, human, human_dollars, signed};

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

/// A delta in the human units of its metric, always signed ("+$1.2B", "−0.5 pp"); "±0" when it
/// rounds to zero at the precision shown (never "+$0.00/M").
pub fn human_delta(unit: Unit, d: f64) -> String {
    let a = d.abs();
    let body = match unit {
        Unit::Dollars => human_dollars(a),
        Unit::DollarsPerMillionTokens => format!("${a:.2}/M"),
        Unit::Percent => points(a),
        Unit::Tokens => human(a),
        Unit::TokensPerMinute => format!("{} tok/min", human(a)),
    };
    if !body.chars().any(|ch| ('1'..='9').contains(&ch)) {
        return "±0".into();
    }
    signed(d, &body, false)
}

/// A change of a percentage in points, to the one decimal the tables show: "1.1 pp".
fn points(a: f64) -> String {
    format!("{} pp", fixed((a * 10.0).round() / 10.0))
}

/// A change of served share with its sign, as the tables write it ("−1.1 pp", "+20 pp"), and
/// "±0 pp" where it rounds to zero: the delta chart's bar labels.
pub fn signed_points(v: f64) -> String {
    signed(v, &points(v.abs()), (v.abs() * 10.0).round() == 0.0)
}

/// Human names of the metrics, with their unit; the objective's names the penalty prices it
/// holds (`prices`: see `Comparison::penalty_prices`).
fn metric_title(metric: &str, provider: &str, prices: Option<&str>) -> String {
    let name = match metric {
        "spend" if provider.is_empty() => "spend (commit + usage + route)",
        "spend" => "spend",
        "commit_spend" => "  commit",
        "usage_spend" => "  usage",
        "route_spend" => "  route",
        "spend_per_million_tokens" => "spend per million tokens served",
        "served_pct" => "served",
        "unserved_tokens" => "unserved tokens",
        "worst_period_served_pct" => "worst period served",
        "n1_shortfall_tokens" => "N-1 shortfall tokens",
        "peak_provider_share_pct" => "peak provider share",
        "replanned_spend" => "re-planned spend",
        "extra_spend" => "extra spend (held − re-planned)",
        "replanned_unserved_tokens" => "re-planned unserved tokens",
        "extra_unserved_tokens" => "extra unserved tokens (held − re-planned)",
        "extra_n1_shortfall_tokens" => "extra N-1 shortfall tokens (held − re-planned)",
        "objective" => {
            return match prices {
                Some(p) => format!("objective incl. penalties {p}"),
                None => "objective incl. penalties at each column's prices".into(),
            }
        }
        "unserved_penalty" => "  unserved penalty",
        "n1_penalty" => "  N-1 penalty",
        "replanned_objective" => "re-planned objective incl. penalties",
        "regret_at_penalty_prices" => "regret at penalty prices (held − re-planned objective)",
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

/// The rows a table shows for a comparison: every (metric, provider) present, except the penalty
/// prices when the objective's title already names them.
fn keys(c: &Comparison) -> Vec<(&'static str, Unit, String)> {
    let prices = c.penalty_prices();
    let mut keys = Vec::new();
    for (m, unit) in METRICS {
        let own_row = !matches!(*m, "unserved_penalty" | "n1_penalty") || prices.is_none();
        let present = c
            .rows
            .iter()
            .any(|r| r.metric == *m && r.provider.is_empty());
        if present && own_row {
            keys.push((*m, *unit, String::new()));
        }
    }
    for p in &c.providers {
        for (m, unit) in PROVIDER_METRICS {
            keys.push((*m, *unit, p.clone()));
        }
    }
    keys
}

/// The wide table: one row per (metric, provider) present, one column per scenario; cells are
/// the value, and for later columns the delta against the baseline in brackets (a difference
/// itself, such as extra spend, is written signed and alone).
fn wide(c: &Comparison) -> (Vec<String>, Vec<Vec<String>>) {
    let mut header = vec!["metric".to_string()];
    header.extend(c.scenarios.iter().cloned());
    let prices = c.penalty_prices();
    let rows = keys(c)
        .iter()
        .map(|(metric, unit, provider)| {
            let unit = *unit;
            let mut row = vec![metric_title(metric, provider, prices.as_deref())];
            for (i, s) in c.scenarios.iter().enumerate() {
                row.push(match c.get(s, metric, provider) {
                    None => "—".into(),
                    Some(r) if DIFFERENCES.contains(metric) => human_delta(unit, r.value),
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
        "compared against the baseline '{}', {}; deltas in brackets\n\n",
        c.baseline,
        c.held_note()
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
        "Compared against the baseline **{}**, {}; deltas in brackets.\n\n{}",
        markdown::escape(&c.baseline),
        markdown::escape(&c.held_note()),
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

/// A workbook of numbers (units in a column) with sheets `summary` (scenarios side by side: one
/// row per metric, with what it is in words) and `providers` (one row per provider metric).
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
                Some(r) => {
                    // Shown in the metric's unit: dollars, counts, percents.
                    let cell = |v: f64| match super::unit_of(metric, provider) {
                        Unit::Dollars => Cell::Dollars(v),
                        Unit::DollarsPerMillionTokens => Cell::DollarsPerMillion(v),
                        Unit::Percent => Cell::Percent(v),
                        Unit::Tokens | Unit::TokensPerMinute => Cell::Count(v),
                    };
                    [cell(r.value), cell(r.delta_vs_baseline)]
                }
                None => [Cell::Empty, Cell::Empty],
            })
            .collect()
    };
    let prices = c.penalty_prices();
    let summary = Sheet {
        name: "summary".into(),
        header: header(&["metric", "what it is", "unit"]),
        rows: METRICS
            .iter()
            .filter(|(m, _)| {
                c.rows
                    .iter()
                    .any(|r| r.metric == *m && r.provider.is_empty())
            })
            .map(|(m, unit)| {
                let title = metric_title(m, "", prices.as_deref());
                let mut row = vec![
                    Cell::from(*m),
                    Cell::from(title.trim()),
                    Cell::from(unit_suffix(*unit)),
                ];
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Issue 18: a delta that rounds to zero where it is shown reads "±0", never "+$0.00/M".
    #[test]
    fn a_delta_that_rounds_to_zero_reads_plus_minus_zero() {
        assert_eq!(human_delta(Unit::DollarsPerMillionTokens, 0.004), "±0");
        assert_eq!(human_delta(Unit::DollarsPerMillionTokens, -0.004), "±0");
        assert_eq!(human_delta(Unit::DollarsPerMillionTokens, 0.02), "+$0.02/M");
        assert_eq!(human_delta(Unit::Percent, -0.04), "±0");
        assert_eq!(human_delta(Unit::Percent, -1.06), "−1.1 pp");
        assert_eq!(human_delta(Unit::Tokens, 0.04), "±0");
        assert_eq!(human_delta(Unit::Dollars, -6.05e9), "−$6.0B");
        // The chart's bar labels: the same points, and a change of none says its unit.
        assert_eq!(signed_points(-1.1), "\u{2212}1.1 pp");
        assert_eq!(signed_points(0.04), "\u{b1}0 pp");
        assert_eq!(signed_points(20.0), "+20 pp");
        // In the table: $1.5910/M against $1.5935/M is above solver noise, and still ±0 at the
        // two decimals shown.
        let row = |scenario: &str, value: f64, delta: f64| MetricRow {
            scenario: scenario.into(),
            metric: "spend_per_million_tokens".into(),
            provider: String::new(),
            value,
            delta_vs_baseline: delta,
        };
        let c = Comparison {
            baseline: "a".into(),
            scenarios: vec!["a".into(), "b".into()],
            hold_reservations: false,
            held: Vec::new(),
            providers: Vec::new(),
            rows: vec![row("a", 1.591, 0.0), row("b", 1.5935, 0.0025)],
        };
        let (_, rows) = wide(&c);
        assert_eq!(
            rows[0],
            ["spend per million tokens served", "$1.59/M", "$1.59/M (±0)"]
        );
    }
}
