//! Report stage, writing: a run's tables as files through the exporters (CSV, JSON, xlsx; the
//! output stage writes them), and the chart tables read back from a run's folder.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::build::{CommitmentRow, Report, ShortfallKind};
use super::tables::{AllocationRow, ChartTables, ProviderPeriodRow, RegionPeriodRow, RunInfo};
use crate::error::{Error, Location, Result};
use crate::export::{csv, json, OutputFile};

/// What `run --format json` prints: summary.json's fields plus the shortfalls in plain words and
/// the warnings, each with its file, line and column.
pub fn run_json(report: &Report, warnings: &[crate::error::Diagnostic]) -> String {
    let mut v = json::value(&report.summary);
    let object = v.as_object_mut().expect("the summary is an object");
    object.insert(
        "shortfalls".into(),
        serde_json::json!(super::text::shortfall_sentences(report)),
    );
    object.insert(
        "warnings".into(),
        json::value(
            &warnings
                .iter()
                .map(crate::error::JsonProblem::from)
                .collect::<Vec<_>>(),
        ),
    );
    json::text(&v)
}

/// Every data file of a run (charts come separately; plan.xlsx on request).
pub fn report_files(report: &Report) -> Vec<OutputFile> {
    let shortfalls = report.shortfalls.iter().map(|r| ShortfallLine {
        kind: r.kind,
        period: report.period_starts[r.period],
        region: &r.region,
        lost_provider: &r.lost_provider,
        tokens_per_minute: r.tokens_per_minute,
        tokens: r.tokens,
        cause: &r.cause,
    });
    let mut files = vec![
        OutputFile::new(
            "allocation.csv",
            csv::table_of::<AllocationRow>(
                &AllocationRow::columns(&report.charts.allocation),
                &report.charts.allocation,
            ),
        ),
        OutputFile::new("chart_info.json", json::text(&report.charts.info)),
        OutputFile::new("commitments.csv", commitments_csv(&report.commitments)),
        OutputFile::new(
            "provider_periods.csv",
            csv::table::<ProviderPeriodRow>(&report.charts.provider_periods),
        ),
        OutputFile::new(
            "region_periods.csv",
            csv::table::<RegionPeriodRow>(&report.charts.region_periods),
        ),
        OutputFile::new("shortfalls.csv", csv::table::<ShortfallLine>(shortfalls)),
        OutputFile::new("summary.json", json::text(&report.summary)),
    ];
    // Only when some workload can wait: a run without deferral writes what it always wrote.
    if let Some(rows) = &report.deferral {
        files.push(OutputFile::new(
            "deferral.csv",
            csv::table::<super::deferral::DeferralRow>(rows),
        ));
    }
    files
}

/// `commitments.csv`: the signed plan, read back by `run --reservations-from`.
pub fn commitments_csv(rows: &[CommitmentRow]) -> Vec<u8> {
    csv::table_of::<CommitmentRow>(CommitmentRow::columns(rows), rows)
}

/// A row of `shortfalls.csv`: a `ShortfallRow` with its period's start.
#[derive(Serialize, Default)]
struct ShortfallLine<'a> {
    kind: ShortfallKind,
    #[serde(serialize_with = "crate::export::time")]
    period: DateTime<Utc>,
    region: &'a str,
    lost_provider: &'a str,
    tokens_per_minute: f64,
    tokens: f64,
    cause: &'a str,
}

/// `plan.xlsx`: sheets `summary` (one row per figure), `providers` and `commitments`.
#[cfg(feature = "xlsx")]
pub fn plan_xlsx(report: &Report) -> Result<Vec<u8>> {
    use crate::export::xlsx::{workbook, Cell, Sheet};
    let s = &report.summary;
    let figures: [(&str, f64, &str); 14] = [
        ("objective", s.objective, "$"),
        ("cost", s.cost, "$"),
        ("commit_cost", s.commit_cost, "$"),
        ("usage_cost", s.usage_cost, "$"),
        ("route_cost", s.route_cost, "$"),
        ("unserved_penalty_cost", s.unserved_penalty_cost, "$"),
        ("resilience_penalty_cost", s.resilience_penalty_cost, "$"),
        (
            "cost_per_million_tokens",
            s.cost_per_million_tokens,
            "$/M tokens",
        ),
        ("demand_tokens", s.demand_tokens, "tokens"),
        ("served_tokens", s.served_tokens, "tokens"),
        ("unserved_tokens", s.unserved_tokens, "tokens"),
        ("served_pct", s.served_fraction * 100.0, "%"),
        (
            "resilience_shortfall_tokens",
            s.resilience_shortfall_tokens,
            "tokens",
        ),
        ("periods", s.periods as f64, "periods"),
    ];
    let header = |names: &[&str]| names.iter().map(|n| n.to_string()).collect();
    let summary = Sheet {
        name: "summary".into(),
        header: header(&["figure", "value", "unit"]),
        rows: std::iter::once(vec!["scenario".into(), s.scenario.as_str().into()])
            .chain(figures.iter().map(|&(name, value, unit)| {
                let value = match unit {
                    "$" => Cell::Dollars(value),
                    "$/M tokens" => Cell::DollarsPerMillion(value),
                    "%" => Cell::Percent(value),
                    _ => Cell::Count(value),
                };
                vec![name.into(), value, unit.into()]
            }))
            .collect(),
    };
    let providers = Sheet {
        name: "providers".into(),
        header: header(&[
            "provider",
            "reserved_tpm_peak (tokens/min)",
            "served_tokens (tokens)",
            "cost ($)",
            "commit_cost ($)",
            "usage_cost ($)",
            "route_cost ($)",
            "peak_share (%)",
        ]),
        rows: s
            .providers
            .iter()
            .map(|p| {
                let mut row: Vec<Cell> = vec![p.provider.as_str().into()];
                row.extend([
                    Cell::Count(p.reserved_tpm_peak),
                    Cell::Count(p.served_tokens),
                    Cell::Dollars(p.cost),
                    Cell::Dollars(p.commit_cost),
                    Cell::Dollars(p.usage_cost),
                    Cell::Dollars(p.route_cost),
                    Cell::Percent(p.peak_share * 100.0),
                ]);
                row
            })
            .collect(),
    };
    let commitments = Sheet {
        name: "commitments".into(),
        header: header(&[
            "tranche",
            "provider",
            "region",
            "start",
            "end",
            "capacity_tpm (tokens/min)",
            "reserved_fraction",
            "reserved_tpm (tokens/min)",
            "commit_cost ($)",
            "gpu",
            "gpus",
            "gpus_reserved",
            "blocks",
        ]),
        rows: report
            .commitments
            .iter()
            .map(|c| {
                let mut row: Vec<Cell> = [&c.tranche, &c.provider, &c.region, &c.start, &c.end]
                    .map(|t| t.as_str().into())
                    .to_vec();
                row.extend([
                    Cell::Count(c.capacity_tpm),
                    Cell::Fraction(c.reserved_fraction),
                    Cell::Count(c.reserved_tpm),
                    Cell::Dollars(c.commit_cost),
                    c.gpu.as_str().into(),
                    c.gpus.map_or(Cell::Empty, |g| Cell::Count(g as f64)),
                    // General format: a relaxed plan's fractions of blocks stay visible.
                    c.gpus_reserved.map_or(Cell::Empty, Cell::Number),
                    c.blocks.map_or(Cell::Empty, Cell::Number),
                ]);
                row
            })
            .collect(),
    };
    workbook("plan.xlsx", &[summary, providers, commitments])
}

/// The data files a run writes (plan.xlsx only with `--xlsx`, deferral.csv only when some
/// workload can wait).
pub const REPORT_FILE_NAMES: [&str; 9] = [
    "allocation.csv",
    "chart_info.json",
    "commitments.csv",
    "deferral.csv",
    "plan.xlsx",
    "provider_periods.csv",
    "region_periods.csv",
    "shortfalls.csv",
    "summary.json",
];

fn read_csv<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    read_rows(path, "capplan run")
}

/// The rows of a CSV file `command` (e.g. `capplan run`) wrote, each read back into its row
/// type; an error names the file and line.
pub fn read_rows<T: serde::de::DeserializeOwned>(path: &Path, command: &str) -> Result<Vec<T>> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::input(
            Location::file(path),
            format!("file not found; expected the output folder of `{command}`"),
        ),
        _ => Error::io(path, e),
    })?;
    let mut reader = ::csv::Reader::from_reader(bytes.as_slice());
    let fail = |line: u64, e: ::csv::Error| {
        Error::input(
            Location::at(path, line, None),
            format!("expected a row as `{command}` writes it: {e}"),
        )
    };
    let header = reader.headers().map_err(|e| fail(1, e))?.clone();
    let mut out = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let line = i as u64 + 2;
        // Names as the run had them (the CSV writer puts a `'` before a formula-like name).
        let record: ::csv::StringRecord = record
            .map_err(|e| fail(line, e))?
            .iter()
            .map(crate::export::csv::read_cell)
            .collect();
        out.push(
            record
                .deserialize(Some(&header))
                .map_err(|e| fail(line, e))?,
        );
    }
    Ok(out)
}

/// Reads the chart tables back from a run's output folder.
pub fn read_chart_tables(dir: &Path) -> Result<ChartTables> {
    let info_path = dir.join("chart_info.json");
    let text = std::fs::read_to_string(&info_path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::input(
            Location::file(&info_path),
            "file not found; expected the output folder of `capplan run`",
        ),
        _ => Error::io(&info_path, e),
    })?;
    let info: RunInfo = serde_json::from_str(&text).map_err(|e| {
        Error::input(
            Location::at(&info_path, e.line() as u64, None),
            format!("expected chart info as `capplan run` writes it: {e}"),
        )
    })?;
    Ok(ChartTables {
        info,
        provider_periods: read_csv(&dir.join("provider_periods.csv"))?,
        region_periods: read_csv(&dir.join("region_periods.csv"))?,
        allocation: read_csv(&dir.join("allocation.csv"))?,
        commitments: read_csv(&dir.join("commitments.csv"))?,
    })
}
