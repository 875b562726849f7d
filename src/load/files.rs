//! Loading stage, typed rows: turns the raw cells of each scenario CSV into typed rows, collecting
//! every problem of a file before failing.

use std::collections::HashMap;
use std::path::Path;

use chrono::{DateTime, Utc};

use super::csv_table::{read_table, Cell, Columns, Table};
use crate::error::{Diagnostics, Location, Result};
use crate::scenario::{Demand, Origin, Outage, Route, Tranche, DEFAULT_WORKLOAD, GLOBAL_REGION};
use crate::units::{
    format_time, read_fraction, read_limited, read_time, BadValue, Limit, COMMIT_PRICE_LIMIT,
    PRICE_LIMIT, TIME_FORMS, TOKENS_PER_MINUTE_LIMIT,
};

pub const DEMAND_COLUMNS: Columns = Columns {
    required: &["period", "tokens_per_minute"],
    optional: &["region", "workload"],
};
pub const CAPACITY_COLUMNS: Columns = Columns {
    required: &["provider", "capacity_tpm"],
    optional: &[
        "region",
        "tranche",
        "start",
        "end",
        "cost_per_million_tokens",
        "commit_cost_per_hour",
        "min_commit",
    ],
};
pub const ROUTE_COLUMNS: Columns = Columns {
    required: &["demand_region", "supply_region"],
    optional: &["cost_per_million_tokens"],
};
pub const OUTAGE_COLUMNS: Columns = Columns {
    required: &["provider", "start", "end"],
    optional: &["region", "capacity_factor"],
};

/// Typed readers of one row's cells; each records its problem and returns None on failure.
struct RowReader<'t> {
    table: &'t Table,
    diags: Diagnostics,
}

impl<'t> RowReader<'t> {
    fn new(table: &'t Table) -> Self {
        RowReader {
            table,
            diags: Diagnostics::default(),
        }
    }

    fn required<'a>(
        &mut self,
        row: &'a super::csv_table::RawRow,
        column: &'static str,
        what: &str,
    ) -> Option<Cell<'a>>
    where
        't: 'a,
    {
        let cell = self.table.cell(row, column);
        if cell.is_none() {
            self.diags.push_grouped(
                self.table.location(row, column),
                format!("expected {what}, found an empty cell"),
                "empty",
            );
        }
        cell
    }

    fn text(
        &mut self,
        row: &super::csv_table::RawRow,
        column: &'static str,
        default: &str,
    ) -> String {
        self.table
            .cell(row, column)
            .map(|c| c.text.to_string())
            .unwrap_or_else(|| default.to_string())
    }

    fn parse<T>(
        &mut self,
        cell: Option<Cell<'_>>,
        parse: impl Fn(&str) -> Result<T, BadValue>,
    ) -> Option<T> {
        let cell = cell?;
        match parse(cell.text) {
            Ok(v) => Some(v),
            Err(bad) => {
                self.diags
                    .push_grouped(cell.location, bad.message, bad.kind);
                None
            }
        }
    }

    /// An optional number within `limit`; `default` when the cell is blank.
    fn number(
        &mut self,
        row: &super::csv_table::RawRow,
        column: &'static str,
        default: f64,
        limit: Limit,
    ) -> Option<f64> {
        match self.table.cell(row, column) {
            None => Some(default),
            c => self.parse(c, |t| read_limited(t, limit)),
        }
    }

    fn time(
        &mut self,
        row: &super::csv_table::RawRow,
        column: &'static str,
    ) -> Option<Option<DateTime<Utc>>> {
        match self.table.cell(row, column) {
            None => Some(None),
            c => self.parse(c, read_time).map(Some),
        }
    }
}

fn origin(table: &Table, line: u64) -> Option<Origin> {
    Some(Origin {
        file: table.path.clone(),
        line,
    })
}

/// demand.csv → demand rows. A second row for the same (period, region, workload) is an error at
/// the second occurrence.
pub fn read_demand(path: &Path) -> Result<Vec<Demand>> {
    let table = read_table(path, &DEMAND_COLUMNS)?;
    let mut r = RowReader::new(&table);
    let mut out = Vec::with_capacity(table.rows.len());
    let mut seen: HashMap<(DateTime<Utc>, String, String), u64> = HashMap::new();
    for row in &table.rows {
        let period = r.required(row, "period", TIME_FORMS);
        let period = r.parse(period, read_time);
        let tpm = r.required(
            row,
            "tokens_per_minute",
            "tokens per minute as a non-negative number",
        );
        let tpm = r.parse(tpm, |t| read_limited(t, TOKENS_PER_MINUTE_LIMIT));
        let region = r.text(row, "region", GLOBAL_REGION);
        let workload = r.text(row, "workload", DEFAULT_WORKLOAD);
        let (Some(period), Some(tokens_per_minute)) = (period, tpm) else {
            continue;
        };
        let key = (period, region.clone(), workload.clone());
        if let Some(first) = seen.get(&key) {
            r.diags.push(
                table.location(row, "period"),
                format!(
                    "duplicate demand row for period {}, region '{region}', workload '{workload}' (first at line {first}); expected one row per (period, region, workload)",
                    format_time(&period)
                ),
            );
            continue;
        }
        seen.insert(key, row.line);
        out.push(Demand {
            period,
            region,
            workload,
            tokens_per_minute,
            origin: origin(&table, row.line),
        });
    }
    if table.rows.is_empty() {
        r.diags.push(
            Location::at(path, 1, None),
            "no demand rows; expected at least one row after the header",
        );
    }
    r.diags.finish(out)
}

/// capacity.csv → tranches. Two rows with the same name, given or default, are an error at the
/// second: names identify a tranche across runs.
pub fn read_capacity(path: &Path) -> Result<Vec<Tranche>> {
    let table = read_table(path, &CAPACITY_COLUMNS)?;
    let mut r = RowReader::new(&table);
    let mut out = Vec::with_capacity(table.rows.len());
    let mut names: HashMap<String, u64> = HashMap::new();
    for (n, row) in table.rows.iter().enumerate() {
        let provider = r
            .required(row, "provider", "a provider name such as aws")
            .map(|c| c.text.to_string());
        let region = r.text(row, "region", GLOBAL_REGION);
        // The name is checked even when other cells are wrong, so one pass reports both.
        let name = match table.cell(row, "tranche") {
            Some(c) => Some(c.text.to_string()),
            None => provider
                .as_ref()
                .map(|p| format!("{p}/{region}/#{}", n + 1)),
        };
        if let Some(name) = &name {
            if let Some(first) = names.get(name) {
                r.diags.push(
                    table.location(row, "tranche"),
                    format!(
                        "duplicate tranche name '{name}' (first at line {first}); expected each name once, since names identify a tranche across runs"
                    ),
                );
            } else {
                names.insert(name.clone(), row.line);
            }
        }
        let cap = r.required(
            row,
            "capacity_tpm",
            "capacity in tokens per minute as a non-negative number",
        );
        let capacity_tpm = r.parse(cap, |t| read_limited(t, TOKENS_PER_MINUTE_LIMIT));
        let cost = r.number(row, "cost_per_million_tokens", 0.0, PRICE_LIMIT);
        let commit = r.number(row, "commit_cost_per_hour", 0.0, COMMIT_PRICE_LIMIT);
        let min_commit = match table.cell(row, "min_commit") {
            None => Some(0.0),
            c => r.parse(c, read_fraction),
        };
        let start = r.time(row, "start");
        let end = r.time(row, "end");
        if let (Some(Some(s)), Some(Some(e))) = (start, end) {
            if e <= s {
                r.diags.push(
                    table.location(row, "end"),
                    format!(
                        "expected an end after the start ({}), found {}",
                        format_time(&s),
                        format_time(&e)
                    ),
                );
                continue;
            }
        }
        let (
            Some(name),
            Some(provider),
            Some(capacity_tpm),
            Some(cost),
            Some(commit),
            Some(min_commit),
            Some(start),
            Some(end),
        ) = (
            name,
            provider,
            capacity_tpm,
            cost,
            commit,
            min_commit,
            start,
            end,
        )
        else {
            continue;
        };
        out.push(Tranche {
            name,
            provider,
            region,
            start,
            end,
            capacity_tpm,
            cost_per_million_tokens: cost,
            commit_cost_per_hour: commit,
            min_commit,
            origin: origin(&table, row.line),
        });
    }
    r.diags.finish(out)
}

/// routes.csv → routes. Same-region pairs are ignored (always allowed at no cost); a pair listed
/// twice is an error at the second.
pub fn read_routes(path: &Path) -> Result<Vec<Route>> {
    let table = read_table(path, &ROUTE_COLUMNS)?;
    let mut r = RowReader::new(&table);
    let mut out: Vec<Route> = Vec::new();
    let mut pairs: HashMap<(String, String), u64> = HashMap::new();
    for row in &table.rows {
        let demand_region = r
            .required(row, "demand_region", "a region name")
            .map(|c| c.text.to_string());
        let supply_region = r
            .required(row, "supply_region", "a region name")
            .map(|c| c.text.to_string());
        let cost = r.number(row, "cost_per_million_tokens", 0.0, PRICE_LIMIT);
        let (Some(demand_region), Some(supply_region)) = (demand_region, supply_region) else {
            continue;
        };
        if demand_region == supply_region {
            continue;
        }
        let key = (demand_region.clone(), supply_region.clone());
        if let Some(first) = pairs.get(&key) {
            r.diags.push(
                table.location(row, "demand_region"),
                format!(
                    "route (demand_region '{demand_region}', supply_region '{supply_region}') is listed twice (first at line {first}); expected each pair once"
                ),
            );
            continue;
        }
        pairs.insert(key, row.line);
        let Some(cost) = cost else {
            continue;
        };
        out.push(Route {
            demand_region,
            supply_region,
            cost_per_million_tokens: cost,
        });
    }
    r.diags.finish(out)
}

/// outages.csv → outages.
pub fn read_outages(path: &Path) -> Result<Vec<Outage>> {
    let table = read_table(path, &OUTAGE_COLUMNS)?;
    let mut r = RowReader::new(&table);
    let mut out = Vec::new();
    for row in &table.rows {
        let provider = r
            .required(row, "provider", "a provider name")
            .map(|c| c.text.to_string());
        let region = table.cell(row, "region").map(|c| c.text.to_string());
        let start = r.required(row, "start", TIME_FORMS);
        let start = r.parse(start, read_time);
        let end = r.required(row, "end", TIME_FORMS);
        let end = r.parse(end, read_time);
        let factor = match table.cell(row, "capacity_factor") {
            None => Some(0.0),
            c => r.parse(c, read_fraction),
        };
        let (Some(provider), Some(start), Some(end), Some(capacity_factor)) =
            (provider, start, end, factor)
        else {
            continue;
        };
        if end <= start {
            r.diags.push(
                table.location(row, "end"),
                format!(
                    "expected an end after the start ({}), found {}",
                    format_time(&start),
                    format_time(&end)
                ),
            );
            continue;
        }
        out.push(Outage {
            provider,
            region,
            tranche: None,
            start,
            end,
            capacity_factor,
        });
    }
    r.diags.finish(out)
}
