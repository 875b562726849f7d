//! Loading stage, signed plans: the reservations of an earlier run (`commitments.csv` and the
//! scenario name in `summary.json` of its output folder), read back for a held dispatch
//! (`run --reservations-from`). Matching them to a scenario's tranches is the model stage's job.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::csv_table::{parse_table, Columns};
use crate::error::{Diagnostics, Error, Location, Result};
use crate::units::{parse_fraction, parse_number};

const COMMITMENT_COLUMNS: Columns = Columns {
    required: &[
        "tranche",
        "provider",
        "region",
        "reserved_fraction",
        "commit_cost",
    ],
    optional: &["start", "end", "capacity_tpm", "reserved_tpm"],
};

/// One row of an earlier run's `commitments.csv`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SignedCommitment {
    pub tranche: String,
    pub provider: String,
    pub region: String,
    pub start: String,
    pub end: String,
    pub capacity_tpm: f64,
    pub reserved_fraction: f64,
    pub commit_cost: f64,
    /// Where the row is, for messages.
    #[serde(skip)]
    pub location: Location,
}

/// The plan an earlier run signed.
#[derive(Debug, Clone, PartialEq)]
pub struct SignedPlan {
    /// The scenario name of the run that wrote it.
    pub scenario: String,
    /// `sha256:<hex>` of the `commitments.csv` bytes: which plan, without a path.
    pub commitments_sha256: String,
    pub path: PathBuf,
    pub commitments: Vec<SignedCommitment>,
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
    for row in &table.rows {
        let text = |column: &'static str| {
            table
                .cell(row, column)
                .map(|c| c.text.to_string())
                .unwrap_or_default()
        };
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
        commitments.push(SignedCommitment {
            tranche,
            provider: text("provider"),
            region: text("region"),
            start: text("start"),
            end: text("end"),
            capacity_tpm,
            reserved_fraction,
            commit_cost,
            location: table.location(row, "tranche"),
        });
    }
    let commitments = diags.finish(commitments)?;
    Ok(SignedPlan {
        scenario,
        commitments_sha256: format!("sha256:{:x}", Sha256::digest(bytes)),
        path,
        commitments,
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
