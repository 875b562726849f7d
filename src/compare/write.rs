//! Compare stage, writing: one exporter per format for a `Comparison` — long-format CSV, JSON,
//! a GitHub-flavoured Markdown table, an xlsx workbook and the aligned text table on stdout.
//! Every one is a pure function of the comparison, so the files are deterministic.

use rust_xlsxwriter::{Format, Workbook};

use super::{unit_of, Comparison, MetricRow, Unit, METRICS, PROVIDER_METRICS};
use crate::error::Result;
use crate::report::write::{csv_bytes, json_text};
use crate::report::xlsx::{fixed_properties, xlsx_error};
use crate::units::{fixed, human, human_dollars};

/// `compare.csv`: `scenario,metric,provider,value,delta_vs_baseline`, one row per value.
pub fn compare_csv(c: &Comparison) -> Vec<u8> {
    csv_bytes(
        &[
            "scenario",
            "metric",
            "provider",
            "value",
            "delta_vs_baseline",
        ],
        c.rows.iter().map(|r| {
            vec![
                r.scenario.clone(),
                r.metric.clone(),
                r.provider.clone(),
                fixed(r.value),
                fixed(r.delta_vs_baseline),
            ]
        }),
    )
}

/// `compare.json`: the comparison as data, floats at 12 significant digits.
pub fn compare_json(c: &Comparison) -> String {
    json_text(c)
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
    let n = header.len();
    let width = |i: usize| {
        std::iter::once(&header[i])
            .chain(rows.iter().map(|r| &r[i]))
            .map(|s| s.chars().count())
            .max()
            .unwrap_or(0)
            .min(60)
    };
    let widths: Vec<usize> = (0..n).map(width).collect();
    let line = |cells: &[String]| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let pad = widths[i].saturating_sub(cell.chars().count());
            if i == 0 {
                out.push_str(cell);
                out.push_str(&" ".repeat(pad));
            } else {
                out.push_str("  ");
                out.push_str(&" ".repeat(pad));
                out.push_str(cell);
            }
        }
        out.trim_end().to_string() + "\n"
    };
    let mut out = format!(
        "compared against the baseline '{}'{}; deltas in brackets\n\n",
        c.baseline,
        if c.hold_reservations {
            ", later columns held to its signed reservations"
        } else {
            ", every column re-planned"
        }
    );
    out.push_str(&line(&header));
    for r in &rows {
        out.push_str(&line(r));
    }
    out
}

/// `compare.md`: the wide table as GitHub-flavoured Markdown.
pub fn compare_md(c: &Comparison) -> String {
    let (header, rows) = wide(c);
    let esc = |s: &str| s.replace('|', "\\|");
    let mut out = format!(
        "Compared against the baseline **{}**{}; deltas in brackets.\n\n",
        esc(&c.baseline),
        if c.hold_reservations {
            ", later columns held to its signed reservations"
        } else {
            ""
        }
    );
    out.push_str(&format!(
        "| {} |\n",
        header
            .iter()
            .map(|h| esc(h))
            .collect::<Vec<_>>()
            .join(" | ")
    ));
    out.push_str(&format!(
        "|{}\n",
        std::iter::once("---|".to_string())
            .chain((1..header.len()).map(|_| "---:|".to_string()))
            .collect::<String>()
    ));
    for r in &rows {
        out.push_str(&format!(
            "| {} |\n",
            r.iter()
                .map(|h| esc(h.trim()))
                .collect::<Vec<_>>()
                .join(" | ")
        ));
    }
    out
}

/// The unit as a column-header suffix for the workbook.
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
/// one row per metric) and `providers` (one row per provider metric); its creation time is fixed
/// so the same comparison gives the same bytes.
pub fn compare_xlsx(c: &Comparison) -> Result<Vec<u8>> {
    let xlsx = xlsx_error("compare.xlsx");
    let mut wb = Workbook::new();
    fixed_properties(&mut wb).map_err(&xlsx)?;
    let bold = Format::new().set_bold();
    let sheet = wb.add_worksheet().set_name("summary").map_err(&xlsx)?;
    sheet
        .write_with_format(0, 0, "metric", &bold)
        .map_err(&xlsx)?;
    sheet
        .write_with_format(0, 1, "unit", &bold)
        .map_err(&xlsx)?;
    for (i, s) in c.scenarios.iter().enumerate() {
        let col = 2 + 2 * i as u16;
        sheet
            .write_with_format(0, col, s.as_str(), &bold)
            .map_err(&xlsx)?;
        sheet
            .write_with_format(0, col + 1, format!("{s} Δ vs baseline"), &bold)
            .map_err(&xlsx)?;
    }
    let mut row = 1u32;
    for (m, unit) in METRICS {
        if !c
            .rows
            .iter()
            .any(|r| r.metric == *m && r.provider.is_empty())
        {
            continue;
        }
        sheet.write(row, 0, *m).map_err(&xlsx)?;
        sheet.write(row, 1, unit_suffix(*unit)).map_err(&xlsx)?;
        for (i, s) in c.scenarios.iter().enumerate() {
            if let Some(r) = c.get(s, m, "") {
                write_pair(sheet, row, 2 + 2 * i as u16, r).map_err(&xlsx)?;
            }
        }
        row += 1;
    }
    let sheet = wb.add_worksheet().set_name("providers").map_err(&xlsx)?;
    for (i, h) in ["provider", "metric", "unit"].iter().enumerate() {
        sheet
            .write_with_format(0, i as u16, *h, &bold)
            .map_err(&xlsx)?;
    }
    for (i, s) in c.scenarios.iter().enumerate() {
        let col = 3 + 2 * i as u16;
        sheet
            .write_with_format(0, col, s.as_str(), &bold)
            .map_err(&xlsx)?;
        sheet
            .write_with_format(0, col + 1, format!("{s} Δ vs baseline"), &bold)
            .map_err(&xlsx)?;
    }
    let mut row = 1u32;
    for p in &c.providers {
        for (m, unit) in PROVIDER_METRICS {
            sheet.write(row, 0, p.as_str()).map_err(&xlsx)?;
            sheet.write(row, 1, *m).map_err(&xlsx)?;
            sheet.write(row, 2, unit_suffix(*unit)).map_err(&xlsx)?;
            for (i, s) in c.scenarios.iter().enumerate() {
                if let Some(r) = c.get(s, m, p) {
                    write_pair(sheet, row, 3 + 2 * i as u16, r).map_err(&xlsx)?;
                }
            }
            row += 1;
        }
    }
    wb.save_to_buffer().map_err(&xlsx)
}

fn write_pair(
    sheet: &mut rust_xlsxwriter::Worksheet,
    row: u32,
    col: u16,
    r: &MetricRow,
) -> std::result::Result<(), rust_xlsxwriter::XlsxError> {
    sheet.write_number(row, col, r.value)?;
    sheet.write_number(row, col + 1, r.delta_vs_baseline)?;
    Ok(())
}
