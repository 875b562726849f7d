//! Loading stage, signed plans: the reservations of an earlier run (`commitments.csv` and the
//! scenario name in `summary.json` of its output folder), read back for a held dispatch
//! (`run --reservations-from`), or taken from a run in memory exactly as the file would carry
//! them (`compare --hold-reservations`, resilience, sweeps). `CommitmentRow` is the one type of a
//! `commitments.csv` row: the report writes it, this reads it. Matching the rows to a scenario's
//! tranches is the model stage's job.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::csv_table::{parse_table, Columns};
use crate::error::{Diagnostics, Error, Location, Result};
use crate::units::{fixed, parse_fraction, parse_number};

const COMMITMENT_COLUMNS: Columns = Columns {
    required: &[
        "tranche",
        "provider",
        "region",
        "reserved_fraction",
        "commit_cost",
    ],
    optional: &[
        "start",
        "end",
        "capacity_tpm",
        "reserved_tpm",
        "gpu",
        "gpus",
        "gpus_reserved",
        "blocks",
    ],
};

/// One row of `commitments.csv`: a tranche's reservation as the plan signs it. Window ends are
/// the CSV's text (`2026-02-01T00:00:00Z`), empty where the window is open (the horizon's edge).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct CommitmentRow {
    pub tranche: String,
    pub provider: String,
    pub region: String,
    pub start: String,
    pub end: String,
    pub capacity_tpm: f64,
    /// Written as its shortest round-trip text, so a plan read back is the plan.
    #[serde(serialize_with = "crate::export::round_trip")]
    pub reserved_fraction: f64,
    pub reserved_tpm: f64,
    /// Commitment cost over the window inside the horizon, $ (0 for on-demand tranches).
    pub commit_cost: f64,
    /// A tranche in GPUs (spec v3): its GPU type (empty when not given or not in GPUs).
    #[serde(default)]
    pub gpu: String,
    /// The tranche's GPUs; None for a tranche in tokens per minute.
    #[serde(default)]
    pub gpus: Option<u64>,
    /// GPUs reserved, z · gpus: a whole number of blocks in a whole-block plan.
    #[serde(default)]
    pub gpus_reserved: Option<f64>,
    /// Blocks signed, gpus_reserved ÷ block_gpus (n in the spec).
    #[serde(default)]
    pub blocks: Option<f64>,
}

impl CommitmentRow {
    /// The columns `commitments.csv` has: the GPU columns only when some row is in GPUs, so a
    /// plan in tokens per minute keeps the file it always had.
    pub fn columns(rows: &[CommitmentRow]) -> &'static [&'static str] {
        // The nine columns of a plan in tokens per minute, then the four of GPUs.
        const GPUS: &[&str] = &[
            "tranche",
            "provider",
            "region",
            "start",
            "end",
            "capacity_tpm",
            "reserved_fraction",
            "reserved_tpm",
            "commit_cost",
            "gpu",
            "gpus",
            "gpus_reserved",
            "blocks",
        ];
        const TPM: &[&str] = GPUS.split_at(9).0;
        if rows.iter().any(|r| r.gpus.is_some()) {
            GPUS
        } else {
            TPM
        }
    }
}

/// The plan an earlier run signed.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedPlan {
    /// The scenario name of the run that wrote it.
    pub scenario: String,
    /// `sha256:<hex>` of the `commitments.csv` bytes: which plan, without a path.
    pub commitments_sha256: String,
    pub path: PathBuf,
    pub commitments: Vec<CommitmentRow>,
    /// The line of each row in the file, for messages.
    lines: Vec<u64>,
}

impl SignedPlan {
    /// The signed plan of a run in memory: its commitments exactly as `commitments.csv` carries
    /// them (numbers at the file's 12 significant digits, the reserved fraction exact), `bytes`
    /// being that file (its hash names the plan), and the scenario name of the run. What
    /// `read_signed_plan` would read back from the run's folder, without the file.
    pub fn of_run(scenario: &str, rows: &[CommitmentRow], bytes: &[u8]) -> SignedPlan {
        let as_written = |x: f64| parse_number(&fixed(x)).unwrap_or(x);
        let mut lines = Vec::with_capacity(rows.len());
        let mut line = 2;
        for r in rows {
            lines.push(line);
            // A name holding a line break spans lines of the file.
            line += 1 + [&r.tranche, &r.provider, &r.region, &r.start, &r.end]
                .iter()
                .map(|t| t.bytes().filter(|&b| b == b'\n').count() as u64)
                .sum::<u64>();
        }
        SignedPlan {
            scenario: scenario.to_string(),
            commitments_sha256: sha256(bytes),
            path: PathBuf::from("commitments.csv"),
            commitments: rows
                .iter()
                .map(|r| CommitmentRow {
                    capacity_tpm: as_written(r.capacity_tpm),
                    reserved_tpm: as_written(r.reserved_tpm),
                    commit_cost: as_written(r.commit_cost),
                    ..r.clone()
                })
                .collect(),
            lines,
        }
    }

    /// Where row `i` is, at `column`, for a message about it.
    pub fn location(&self, i: usize, column: &str) -> Location {
        Location::at(&self.path, self.lines[i], Some(column))
    }
}

fn sha256(bytes: &[u8]) -> String {
    format!("sha256:{:x}", Sha256::digest(bytes))
}

/// Reads the signed plan of an output folder of `capplan run`.
pub fn read_signed_plan(dir: &Path) -> Result<SignedPlan> {
    let path = dir.join("commitments.csv");
    let bytes = read(&path)?;
    let summary_path = dir.join("summary.json");
    let summary_text = String::from_utf8_lossy(&read(&summary_path)?).into_owned();
    let summary: serde_json::Value = serde_json::from_str(&summary_text).map_err(|e| {
        Error::input(
            Location::at(&summary_path, e.line() as u64, None),
            format!("expected summary.json as `capplan run` writes it: {e}"),
        )
    })?;
    let scenario = summary
        .get("scenario")
        .and_then(|v| v.as_str())
        .ok_or_else(|| {
            Error::input(
                Location::file(&summary_path),
                "expected a \"scenario\" name as `capplan run` writes it",
            )
        })?
        .to_string();
    parse_signed_plan(&path, &bytes, scenario)
}

/// A signed plan from the bytes of a `commitments.csv` (`path` names it in messages) and the
/// scenario name of the run that wrote it.
pub fn parse_signed_plan(path: &Path, bytes: &[u8], scenario: String) -> Result<SignedPlan> {
    let path = path.to_path_buf();
    let table = parse_table(&path, bytes, &COMMITMENT_COLUMNS)?;
    let mut diags = Diagnostics::default();
    let mut commitments = Vec::with_capacity(table.rows.len());
    let mut seen: std::collections::HashMap<String, u64> = std::collections::HashMap::new();
    let mut lines = Vec::with_capacity(table.rows.len());
    for row in &table.rows {
        // Names as the run had them (the CSV writer puts a `'` before a formula-like name).
        let text = |column: &'static str| {
            table
                .cell(row, column)
                .map(|c| crate::export::csv::read_cell(c.text).to_string())
                .unwrap_or_default()
        };
        // The GPU columns: read as written (blank where the row is not in GPUs).
        let mut optional = |column: &'static str| match table.cell(row, column) {
            Some(c) if !c.text.trim().is_empty() => match parse_number(c.text) {
                Ok(v) => Some(v),
                Err(m) => {
                    diags.push(c.location(), m);
                    None
                }
            },
            _ => None,
        };
        let gpus = optional("gpus").map(|g| g.max(0.0).round() as u64);
        let gpus_reserved = optional("gpus_reserved");
        let blocks = optional("blocks");
        let mut number =
            |column: &'static str, parse: fn(&str) -> std::result::Result<f64, String>| match table
                .cell(row, column)
            {
                None => Some(0.0),
                Some(c) => match parse(c.text) {
                    Ok(v) => Some(v),
                    Err(m) => {
                        diags.push(c.location(), m);
                        None
                    }
                },
            };
        let fraction = number("reserved_fraction", parse_fraction);
        let commit_cost = number("commit_cost", parse_number);
        let capacity_tpm = number("capacity_tpm", parse_number);
        let tranche = text("tranche");
        if tranche.is_empty() {
            diags.push(
                table.location(row, "tranche"),
                "expected the tranche name, found an empty cell",
            );
            continue;
        }
        // A tranche named twice would be held at whichever row came first: refuse it.
        if let Some(first) = seen.get(&tranche) {
            diags.push(
                table.location(row, "tranche"),
                format!(
                    "tranche '{tranche}' is listed twice (first on line {first}); expected one row per tranche — keep the row of the plan that was signed"
                ),
            );
            continue;
        }
        seen.insert(tranche.clone(), row.line);
        let (Some(reserved_fraction), Some(commit_cost), Some(capacity_tpm)) =
            (fraction, commit_cost, capacity_tpm)
        else {
            continue;
        };
        commitments.push(CommitmentRow {
            tranche,
            provider: text("provider"),
            region: text("region"),
            start: text("start"),
            end: text("end"),
            capacity_tpm,
            reserved_fraction,
            // Not read (an optional column a planner may have edited): what it stands for.
            reserved_tpm: reserved_fraction * capacity_tpm,
            commit_cost,
            gpu: text("gpu"),
            gpus,
            gpus_reserved,
            blocks,
        });
        lines.push(row.line);
    }
    let commitments = diags.finish(commitments)?;
    Ok(SignedPlan {
        scenario,
        commitments_sha256: sha256(bytes),
        path,
        commitments,
        lines,
    })
}

fn read(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::input(
            Location::file(path),
            "file not found; expected the output folder of `capplan run` (--reservations-from)",
        ),
        _ => Error::io(path, e),
    })
}
