//! Report stage, writing: renders report tables as CSV/JSON bytes with fixed float formatting
//! (the output stage writes them), and reads the chart tables back from a run's folder.

use std::path::Path;

use chrono::{DateTime, Utc};

use super::build::{CommitmentRow, Report, ShortfallRow, Summary};
use super::tables::{AllocationRow, ChartTables, ProviderPeriodRow, RegionPeriodRow, RunInfo};
use crate::error::{Error, Location, Result};
use crate::units::{fixed, format_time, push_fixed};

/// A file to write: its name inside the output folder and its bytes.
pub struct OutputFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// CSV bytes with `\n` line ends: the one CSV writer of every capplan output.
pub fn csv_bytes(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> Vec<u8> {
    let mut w = CsvWriter::new(header, 0);
    for row in rows {
        for field in &row {
            w.text(field);
        }
        w.end_record();
    }
    w.into_bytes()
}

/// CSV text built in memory field by field, byte for byte as the csv crate writes it with `\n`
/// line ends: a field is quoted only when it holds `,`, `"`, `\r` or `\n` (quotes doubled
/// inside), a record of one empty field is `""`, and every record has the header's width. Rows
/// need no `Vec<String>` of their own and numbers are printed straight into the text: an hourly
/// year's allocation.csv has a quarter million rows.
pub struct CsvWriter {
    text: Vec<u8>,
    width: usize,
    /// Fields of the record being written, and where it starts in `text`.
    fields: usize,
    record_start: usize,
}

impl CsvWriter {
    /// A writer whose first record is `header`, with room for about `capacity_bytes`.
    pub fn new(header: &[&str], capacity_bytes: usize) -> CsvWriter {
        let mut w = CsvWriter {
            text: Vec::with_capacity(capacity_bytes),
            width: header.len(),
            fields: 0,
            record_start: 0,
        };
        for name in header {
            w.text(name);
        }
        w.end_record();
        w
    }

    fn delimit(&mut self) {
        if self.fields > 0 {
            self.text.push(b',');
        }
        self.fields += 1;
    }

    /// A text field, quoted when it must be.
    pub fn text(&mut self, field: &str) {
        self.delimit();
        if needs_quotes(field.as_bytes()) {
            self.text.push(b'"');
            for (i, part) in field.split('"').enumerate() {
                if i > 0 {
                    self.text.extend_from_slice(b"\"\"");
                }
                self.text.extend_from_slice(part.as_bytes());
            }
            self.text.push(b'"');
        } else {
            self.text.extend_from_slice(field.as_bytes());
        }
    }

    /// A period label as `units::format_time` writes it (digits, `-`, `+`, `:`, `T` and `Z`:
    /// never quoted, so not looked through).
    fn time_label(&mut self, label: &str) {
        debug_assert!(!needs_quotes(label.as_bytes()), "{label}");
        self.delimit();
        self.text.extend_from_slice(label.as_bytes());
    }

    /// A number as `units::fixed` prints it (digits, `-` and `.`: never quoted).
    pub fn fixed(&mut self, value: f64) {
        self.delimit();
        push_fixed(&mut self.text, value);
    }

    /// Ends the record; panics on a record not as wide as the header, as the csv crate refuses one.
    pub fn end_record(&mut self) {
        assert_eq!(
            self.fields, self.width,
            "a CSV record has the header's width"
        );
        if self.text.len() == self.record_start {
            // One empty field: quoted, or the line would read as no record at all.
            self.text.extend_from_slice(b"\"\"");
        }
        self.text.push(b'\n');
        self.fields = 0;
        self.record_start = self.text.len();
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.text
    }
}

/// Whether the csv crate quotes a field: when it holds a byte of `QUOTED`.
fn needs_quotes(field: &[u8]) -> bool {
    // Every such byte is at most b',' and most names have no byte that low: a pass over them
    // without a branch a byte comes first.
    if field.iter().fold(false, |low, &b| low | (b <= b',')) {
        field.iter().any(|&b| QUOTED[b as usize])
    } else {
        false
    }
}

/// The bytes that make the csv crate quote a field: delimiter, quote and line ends.
const QUOTED: [bool; 256] = {
    let mut t = [false; 256];
    t[b',' as usize] = true;
    t[b'"' as usize] = true;
    t[b'\r' as usize] = true;
    t[b'\n' as usize] = true;
    t
};

/// Each row's period label, formatted once per period: rows come sorted by period, so a label is
/// reused for every row of its period instead of formatted again.
#[derive(Default)]
struct PeriodLabel {
    period: Option<DateTime<Utc>>,
    text: String,
}

impl PeriodLabel {
    fn of(&mut self, period: &DateTime<Utc>) -> &str {
        if self.period != Some(*period) {
            self.text = format_time(period);
            self.period = Some(*period);
        }
        &self.text
    }
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
    let mut w = CsvWriter::new(
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
        rows.len() * ALLOCATION_ROW_BYTES,
    );
    let mut period = PeriodLabel::default();
    for r in rows {
        w.time_label(period.of(&r.period));
        w.text(&r.provider);
        w.text(&r.tranche);
        w.text(&r.supply_region);
        w.text(&r.demand_region);
        w.text(&r.workload);
        w.fixed(r.tokens_per_minute);
        w.fixed(r.cost);
        w.end_record();
    }
    w.into_bytes()
}

/// About the length of an allocation.csv row (77 bytes on the synthetic hourly year), so its text
/// is sized once instead of regrown and copied through 19 MB.
const ALLOCATION_ROW_BYTES: usize = 80;
/// The same for provider_periods.csv (150 bytes) and region_periods.csv (52 bytes).
const PROVIDER_PERIOD_ROW_BYTES: usize = 160;
const REGION_PERIOD_ROW_BYTES: usize = 60;

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
    let mut w = CsvWriter::new(
        &PROVIDER_PERIODS_HEADER,
        rows.len() * PROVIDER_PERIOD_ROW_BYTES,
    );
    let mut period = PeriodLabel::default();
    for r in rows {
        w.time_label(period.of(&r.period));
        w.fixed(r.minutes);
        w.text(&r.provider);
        w.fixed(r.available_tpm);
        w.fixed(r.reserved_tpm);
        w.fixed(r.served_tpm);
        w.fixed(r.on_demand_tpm);
        w.fixed(r.idle_reserved_tpm);
        w.fixed(r.commit_cost);
        w.fixed(r.usage_cost);
        w.fixed(r.route_cost);
        w.end_record();
    }
    w.into_bytes()
}

pub fn region_periods_csv(rows: &[RegionPeriodRow]) -> Vec<u8> {
    let mut w = CsvWriter::new(
        &[
            "period",
            "minutes",
            "region",
            "demand_tpm",
            "served_tpm",
            "unserved_tpm",
        ],
        rows.len() * REGION_PERIOD_ROW_BYTES,
    );
    let mut period = PeriodLabel::default();
    for r in rows {
        w.time_label(period.of(&r.period));
        w.fixed(r.minutes);
        w.text(&r.region);
        w.fixed(r.demand_tpm);
        w.fixed(r.served_tpm);
        w.fixed(r.unserved_tpm);
        w.end_record();
    }
    w.into_bytes()
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
    let mut files = vec![
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
    ];
    // Only when some workload can wait: a run without deferral writes what it always wrote.
    if let Some(rows) = &report.deferral {
        files.push(file("deferral.csv", super::deferral::csv(rows)));
    }
    files
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

#[cfg(test)]
mod tests {
    use super::*;

    /// The csv crate's writer as every output used it before `CsvWriter`.
    fn csv_crate_bytes(header: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        w.write_record(header).expect("writing to memory");
        for row in rows {
            w.write_record(row).expect("writing to memory");
        }
        w.into_inner().expect("writing to memory")
    }

    #[test]
    fn quoting_as_the_csv_crate_quotes() {
        let rows: Vec<Vec<String>> = [
            vec!["", "a,b"],
            vec!["say \"hi\"", "line\nbreak"],
            vec!["cr\r", "\""],
            vec!["", ""],
            vec!["plain", " spaced "],
        ]
        .iter()
        .map(|r| r.iter().map(|f| f.to_string()).collect())
        .collect();
        let header = ["x", "y"];
        assert_eq!(
            csv_bytes(&header, rows.iter().cloned()),
            csv_crate_bytes(&header, &rows)
        );
        // A record of one empty field is quoted, a header of one as well.
        let one = vec![vec![String::new()], vec!["a".to_string()]];
        assert_eq!(
            csv_bytes(&[""], one.iter().cloned()),
            csv_crate_bytes(&[""], &one)
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 2_000,
            ..proptest::prelude::ProptestConfig::default()
        })]

        #[test]
        fn csv_writer_writes_the_csv_crate_bytes(
            width in 1usize..4,
            cells in proptest::collection::vec("[a-c,\"\r\n é#]{0,6}", 0..24),
        ) {
            let header: Vec<&str> = ["h1", "h,2", "h\"3"][..width].to_vec();
            let rows: Vec<Vec<String>> = cells.chunks_exact(width).map(|c| c.to_vec()).collect();
            proptest::prop_assert_eq!(
                csv_bytes(&header, rows.iter().cloned()),
                csv_crate_bytes(&header, &rows)
            );
        }
    }
}
