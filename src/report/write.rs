//! Report stage, writing: renders report tables as CSV/JSON bytes with fixed float formatting
//! (the output stage writes them), and reads the chart tables back from a run's folder.

use std::path::Path;

use super::build::{CommitmentRow, Report, ShortfallRow, Summary};
use super::tables::{AllocationRow, ChartTables, ProviderPeriodRow, RegionPeriodRow, RunInfo};
use crate::error::{Error, Location, Result};
use crate::units::{fixed, format_time};

/// A file to write: its name inside the output folder and its bytes.
pub struct OutputFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// CSV bytes with `\n` line ends: the one CSV writer of every capplan output.
pub fn csv_bytes(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Vec<u8> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(header).expect("writing to memory");
    for row in rows {
        w.write_record(&row).expect("writing to memory");
    }
    w.into_inner().expect("writing to memory")
}

/// Rounds every float of a JSON value to 12 significant digits so noise never reaches golden files.
pub fn round_json(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n) if n.is_f64() => {
            let x: f64 = fixed(n.as_f64().unwrap_or(0.0)).parse().unwrap_or(0.0);
            *v = if x.fract() == 0.0 && x.abs() < 9e15 {
                serde_json::Value::from(x as i64)
            } else {
                serde_json::Number::from_f64(x)
                    .map(serde_json::Value::Number)
                    .unwrap_or(serde_json::Value::Null)
            };
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(round_json),
        serde_json::Value::Object(o) => o.values_mut().for_each(round_json),
        _ => {}
    }
}

/// What `run --format json` prints: summary.json's fields plus the shortfalls in plain words and
/// the warnings, each with its file, line and column.
pub fn run_json(report: &Report, warnings: &[crate::error::Diagnostic]) -> String {
    let mut v = serde_json::to_value(&report.summary).expect("summary serialises");
    round_json(&mut v);
    let object = v.as_object_mut().expect("the summary is an object");
    object.insert(
        "shortfalls".into(),
        serde_json::json!(super::text::shortfall_sentences(report)),
    );
    object.insert(
        "warnings".into(),
        serde_json::to_value(
            warnings
                .iter()
                .map(crate::error::JsonProblem::from)
                .collect::<Vec<_>>(),
        )
        .expect("warnings serialise"),
    );
    let mut s = serde_json::to_string_pretty(&v).expect("json value serialises");
    s.push('\n');
    s
}

/// `summary.json` text (pretty, fixed digits, trailing newline).
pub fn summary_json(summary: &Summary) -> String {
    json_text(summary)
}

/// Pretty JSON of any output with every float at 12 significant digits and a trailing newline:
/// the one JSON writer of every capplan output, so no solver noise reaches a file.
pub fn json_text<T: serde::Serialize>(value: &T) -> String {
    let mut v = serde_json::to_value(value).expect("outputs serialise");
    round_json(&mut v);
    let mut s = serde_json::to_string_pretty(&v).expect("json value serialises");
    s.push('\n');
    s
}

pub fn allocation_csv(rows: &[AllocationRow]) -> Vec<u8> {
    csv_bytes(
        &[
            "period",
            "provider",
            "tranche",
            "supply_region",
            "demand_region",
            "workload",
            "tokens_per_minute",
            "cost",
        ],
        rows.iter().map(|r| {
            vec![
                format_time(&r.period),
                r.provider.clone(),
                r.tranche.clone(),
                r.supply_region.clone(),
                r.demand_region.clone(),
                r.workload.clone(),
                fixed(r.tokens_per_minute),
                fixed(r.cost),
            ]
        }),
    )
}

/// A float as its shortest text that parses back to the same value (never `-0`).
fn round_trip(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else {
        format!("{v}")
    }
}

pub fn commitments_csv(rows: &[CommitmentRow]) -> Vec<u8> {
    csv_bytes(
        &[
            "tranche",
            "provider",
            "region",
            "start",
            "end",
            "capacity_tpm",
            "reserved_fraction",
            "reserved_tpm",
            "commit_cost",
        ],
        rows.iter().map(|r| {
            vec![
                r.tranche.clone(),
                r.provider.clone(),
                r.region.clone(),
                r.start.clone(),
                r.end.clone(),
                fixed(r.capacity_tpm),
                // Shortest round-trip text, so a plan read back (`--reservations-from`) is the plan.
                round_trip(r.reserved_fraction),
                fixed(r.reserved_tpm),
                fixed(r.commit_cost),
            ]
        }),
    )
}

pub fn shortfalls_csv(
    rows: &[ShortfallRow],
    period_starts: &[chrono::DateTime<chrono::Utc>],
) -> Vec<u8> {
    csv_bytes(
        &[
            "kind",
            "period",
            "region",
            "lost_provider",
            "tokens_per_minute",
            "tokens",
            "cause",
        ],
        rows.iter().map(|r| {
            vec![
                r.kind.name().to_string(),
                format_time(&period_starts[r.period]),
                r.region.clone(),
                r.lost_provider.clone(),
                fixed(r.tokens_per_minute),
                fixed(r.tokens),
                r.cause.clone(),
            ]
        }),
    )
}

const PROVIDER_PERIODS_HEADER: [&str; 11] = [
    "period",
    "minutes",
    "provider",
    "available_tpm",
    "reserved_tpm",
    "served_tpm",
    "on_demand_tpm",
    "idle_reserved_tpm",
    "commit_cost",
    "usage_cost",
    "route_cost",
];

pub fn provider_periods_csv(rows: &[ProviderPeriodRow]) -> Vec<u8> {
    csv_bytes(
        &PROVIDER_PERIODS_HEADER,
        rows.iter().map(|r| {
            vec![
                format_time(&r.period),
                fixed(r.minutes),
                r.provider.clone(),
                fixed(r.available_tpm),
                fixed(r.reserved_tpm),
                fixed(r.served_tpm),
                fixed(r.on_demand_tpm),
                fixed(r.idle_reserved_tpm),
                fixed(r.commit_cost),
                fixed(r.usage_cost),
                fixed(r.route_cost),
            ]
        }),
    )
}

pub fn region_periods_csv(rows: &[RegionPeriodRow]) -> Vec<u8> {
    csv_bytes(
        &[
            "period",
            "minutes",
            "region",
            "demand_tpm",
            "served_tpm",
            "unserved_tpm",
        ],
        rows.iter().map(|r| {
            vec![
                format_time(&r.period),
                fixed(r.minutes),
                r.region.clone(),
                fixed(r.demand_tpm),
                fixed(r.served_tpm),
                fixed(r.unserved_tpm),
            ]
        }),
    )
}

/// The chart inputs as a file of their own, so `capplan chart` can redraw without the scenario.
pub fn run_info_json(info: &RunInfo) -> String {
    json_text(info)
}

/// Every data file of a run (charts come separately).
pub fn report_files(report: &Report) -> Vec<OutputFile> {
    let file = |name: &str, bytes: Vec<u8>| OutputFile {
        name: name.to_string(),
        bytes,
    };
    vec![
        file("allocation.csv", allocation_csv(&report.charts.allocation)),
        file(
            "chart_info.json",
            run_info_json(&report.charts.info).into_bytes(),
        ),
        file("commitments.csv", commitments_csv(&report.commitments)),
        file(
            "provider_periods.csv",
            provider_periods_csv(&report.charts.provider_periods),
        ),
        file(
            "region_periods.csv",
            region_periods_csv(&report.charts.region_periods),
        ),
        file(
            "shortfalls.csv",
            shortfalls_csv(&report.shortfalls, &report.period_starts),
        ),
        file("summary.json", summary_json(&report.summary).into_bytes()),
    ]
}

/// The data files a run writes (plan.xlsx only with `--xlsx`).
pub const REPORT_FILE_NAMES: [&str; 8] = [
    "allocation.csv",
    "chart_info.json",
    "commitments.csv",
    "plan.xlsx",
    "provider_periods.csv",
    "region_periods.csv",
    "shortfalls.csv",
    "summary.json",
];

fn read_csv<T: serde::de::DeserializeOwned>(path: &Path) -> Result<Vec<T>> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::input(
            Location::file(path),
            "file not found; expected the output folder of `capplan run`",
        ),
        _ => Error::io(path, e),
    })?;
    let mut reader = csv::Reader::from_reader(bytes.as_slice());
    let mut out = Vec::new();
    for (i, row) in reader.deserialize().enumerate() {
        out.push(row.map_err(|e| {
            Error::input(
                Location::at(path, i as u64 + 2, None),
                format!("expected a row as `capplan run` writes it: {e}"),
            )
        })?);
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
