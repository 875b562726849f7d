//! Loading stage, typed rows: turns the raw cells of each scenario CSV into typed rows, collecting
//! every problem of a file before failing.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use super::csv_table::{read_table, read_table_with, Cell, Columns, RawRow, Table};
use super::gpus::{self, Throughput, ThroughputRow, ThroughputTable};
use crate::error::{closest, list, Diagnostics, Location, Result};
use crate::scenario::{
    Demand, GpuCapacity, Origin, Outage, Route, Tranche, Workload, DEFAULT_WORKLOAD, GLOBAL_REGION,
};
use crate::units::{
    format_time, read_duration_minutes, read_fraction, read_limited, read_number, read_positive,
    read_time, read_whole, BadValue, Limit, COMMIT_PRICE_LIMIT, GPU_LIMIT, PRICE_LIMIT,
    THROUGHPUT_LIMIT, TIME_FORMS, TOKENS_PER_MINUTE_LIMIT,
};

pub const DEMAND_COLUMNS: Columns = Columns {
    required: &["period", "tokens_per_minute"],
    optional: &["region", "workload"],
};
/// capacity.csv: `capacity_tpm` or `gpus` (spec v3) is required, one of them on each row.
pub const CAPACITY_COLUMNS: Columns = Columns {
    required: &["provider"],
    optional: &[
        "capacity_tpm",
        "region",
        "tranche",
        "start",
        "end",
        "cost_per_million_tokens",
        "commit_cost_per_hour",
        "min_commit",
        "gpu",
        "gpus",
        "model",
        "tokens_per_second_per_gpu",
        "commit_cost_per_gpu_hour",
        "cost_per_gpu_hour",
        "block_gpus",
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
        row: &'a RawRow,
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

    fn text(&mut self, row: &RawRow, column: &'static str, default: &str) -> String {
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
                    .push_grouped(cell.location(), bad.message, bad.kind);
                None
            }
        }
    }

    /// An optional number within `limit`; `default` when the cell is blank.
    fn number(
        &mut self,
        row: &RawRow,
        column: &'static str,
        default: f64,
        limit: Limit,
    ) -> Option<f64> {
        match self.table.cell(row, column) {
            None => Some(default),
            c => self.parse(c, |t| read_limited(t, limit)),
        }
    }

    fn time(&mut self, row: &RawRow, column: &'static str) -> Option<Option<DateTime<Utc>>> {
        match self.table.cell(row, column) {
            None => Some(None),
            c => self.parse(c, read_time).map(Some),
        }
    }
}

fn origin(file: &Arc<Path>, line: u64) -> Option<Origin> {
    Some(Origin {
        file: Arc::clone(file),
        line,
    })
}

/// demand.csv → demand rows. A second row for the same (period, region, workload) is an error at
/// the second occurrence.
pub fn read_demand(path: &Path) -> Result<Vec<Demand>> {
    let table = read_table(path, &DEMAND_COLUMNS)?;
    let file: Arc<Path> = Arc::from(table.path.as_path());
    let mut r = RowReader::new(&table);
    let mut out = Vec::with_capacity(table.rows.len());
    let mut seen = SeenDemand::Period {
        period: None,
        rows: Vec::new(),
    };
    for (i, row) in table.rows.iter().enumerate() {
        let period = r.required(row, "period", TIME_FORMS);
        let period = r.parse(period, read_time);
        let tpm = r.required(
            row,
            "tokens_per_minute",
            "tokens per minute as a non-negative number",
        );
        let tpm = r.parse(tpm, |t| read_limited(t, TOKENS_PER_MINUTE_LIMIT));
        let (region, workload) = demand_names(&table, row);
        let (Some(period), Some(tokens_per_minute)) = (period, tpm) else {
            continue;
        };
        let earlier = || demand_keys(&table, &table.rows[..i]);
        if let Some(first) = seen.first_line((period, region, workload), row.line, earlier) {
            r.diags.push(
                table.location(row, "period"),
                format!(
                    "duplicate demand row for period {}, region '{region}', workload '{workload}' (first at line {first}); expected one row per (period, region, workload)",
                    format_time(&period)
                ),
            );
            continue;
        }
        out.push(Demand {
            period,
            region: region.to_string(),
            workload: workload.to_string(),
            tokens_per_minute,
            origin: origin(&file, row.line),
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

/// A demand row's region and workload, defaults for blank cells.
fn demand_names<'t>(table: &'t Table, row: &'t RawRow) -> (&'t str, &'t str) {
    (
        table.cell(row, "region").map_or(GLOBAL_REGION, |c| c.text),
        table
            .cell(row, "workload")
            .map_or(DEFAULT_WORKLOAD, |c| c.text),
    )
}

type DemandKey<'t> = (DateTime<Utc>, &'t str, &'t str);

/// The duplicate check of demand rows, keyed by the table's own text. Files are written in period
/// order, and while a file is only the current period's rows are kept: a few (region, workload)
/// pairs, scanned, instead of a map of 79k rows on an hourly year. A row out of period order, or a
/// period of very many rows, switches to the map of every row.
enum SeenDemand<'t> {
    Period {
        period: Option<DateTime<Utc>>,
        /// (region, workload, line) of the period's rows so far.
        rows: Vec<(&'t str, &'t str, u64)>,
    },
    All(HashMap<DemandKey<'t>, u64>),
}

/// Rows of one period scanned one by one; past this many, a map is quicker.
const SCANNED_ROWS_PER_PERIOD: usize = 64;

impl<'t> SeenDemand<'t> {
    /// The line of the first earlier row of `key`, else None with this row recorded as the first.
    /// `earlier` gives the keys of every row before this one, for the switch to the map.
    fn first_line(
        &mut self,
        key: DemandKey<'t>,
        line: u64,
        earlier: impl FnOnce() -> HashMap<DemandKey<'t>, u64>,
    ) -> Option<u64> {
        if let SeenDemand::Period { period, rows } = self {
            if period.is_none_or(|p| key.0 > p) {
                *period = Some(key.0);
                rows.clear();
            }
            if *period == Some(key.0) {
                if let Some(&(_, _, first)) =
                    rows.iter().find(|(r, w, _)| (*r, *w) == (key.1, key.2))
                {
                    return Some(first);
                }
                if rows.len() < SCANNED_ROWS_PER_PERIOD {
                    rows.push((key.1, key.2, line));
                    return None;
                }
            }
            *self = SeenDemand::All(earlier());
        }
        let SeenDemand::All(map) = self else {
            unreachable!("switched above")
        };
        match map.get(&key) {
            Some(&first) => Some(first),
            None => {
                map.insert(key, line);
                None
            }
        }
    }
}

/// The first line of each key among `rows` (rows whose period or tokens do not read are no
/// demand rows): what the duplicate check has seen before the row that switches it to the map.
fn demand_keys<'t>(table: &'t Table, rows: &'t [RawRow]) -> HashMap<DemandKey<'t>, u64> {
    let mut keys = HashMap::new();
    for row in rows {
        let period = table
            .cell(row, "period")
            .and_then(|c| read_time(c.text).ok());
        let tokens = table
            .cell(row, "tokens_per_minute")
            .and_then(|c| read_limited(c.text, TOKENS_PER_MINUTE_LIMIT).ok());
        if let (Some(period), Some(_)) = (period, tokens) {
            let (region, workload) = demand_names(table, row);
            keys.entry((period, region, workload)).or_insert(row.line);
        }
    }
    keys
}

/// capacity.csv → tranches. Two rows with the same name, given or default, are an error at the
/// second: names identify a tranche across runs. A row in GPUs (spec v3) whose
/// `tokens_per_second_per_gpu` is blank is looked up in `throughput` by (model, gpu); its
/// capacity and per-GPU-hour prices are translated (`gpus::translate`) and checked against the
/// limits at the column they come from.
pub fn read_capacity(path: &Path, throughput: Throughput) -> Result<Vec<Tranche>> {
    let table = read_table_with(path, &CAPACITY_COLUMNS, Some(["capacity_tpm", "gpus"]))?;
    if table.rows.is_empty() {
        // A plan with no capacity at all serves nothing: almost surely a file saved empty.
        return Err(crate::error::Error::input(
            crate::error::Location::at(path, 1, None),
            "the file has a header but no tranches; expected at least one row of capacity (a provider and its capacity_tpm)",
        ));
    }
    let file: Arc<Path> = Arc::from(table.path.as_path());
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
        let in_gpus = table.cell(row, "gpus").is_some();
        let capacity_tpm = match table.cell(row, "capacity_tpm") {
            Some(_) if in_gpus => {
                r.diags.push(
                    table.location(row, "gpus"),
                    "expected exactly one of capacity_tpm and gpus, found both (capacity_tpm is gpus × tokens_per_second_per_gpu × 60); leave one empty",
                );
                None
            }
            None if in_gpus => Some(0.0),
            None if table.has_column("capacity_tpm") && table.has_column("gpus") => {
                r.diags.push_grouped(
                    table.location(row, "capacity_tpm"),
                    "expected capacity_tpm (tokens per minute) or gpus (a whole number of GPUs), found both cells empty",
                    "empty",
                );
                None
            }
            None if table.has_column("gpus") => {
                r.required(row, "gpus", "a positive whole number of GPUs");
                None
            }
            cap => {
                let cap = match cap {
                    Some(c) => Some(c),
                    None => r.required(
                        row,
                        "capacity_tpm",
                        "capacity in tokens per minute as a non-negative number",
                    ),
                };
                r.parse(cap, |t| read_limited(t, TOKENS_PER_MINUTE_LIMIT))
            }
        };
        let gpu = if in_gpus {
            r.gpus(row, throughput)
        } else {
            for column in GPU_ONLY_COLUMNS {
                if table.cell(row, column).is_some() {
                    r.diags.push(
                        table.location(row, column),
                        format!("{column} needs gpus: expected the number of GPUs in column gpus, or this cell empty (a tranche in capacity_tpm has no GPU facts)"),
                    );
                }
            }
            Some(None)
        };
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
            Some(gpu),
        ) = (
            name,
            provider,
            capacity_tpm,
            cost,
            commit,
            min_commit,
            start,
            end,
            gpu,
        )
        else {
            continue;
        };
        let mut tranche = Tranche {
            name,
            provider,
            region,
            start,
            end,
            capacity_tpm,
            cost_per_million_tokens: cost,
            commit_cost_per_hour: commit,
            min_commit,
            gpu,
            model: table.cell(row, "model").map(|c| c.text.to_string()),
            origin: origin(&file, row.line),
        };
        let problems = gpus::translate(&mut tranche);
        for (column, message) in &problems {
            r.diags.push(table.location(row, column), message.clone());
        }
        if problems.is_empty() {
            out.push(tranche);
        }
    }
    r.diags.finish(out)
}

/// The columns of capacity.csv that describe GPUs, and need `gpus` on the row.
const GPU_ONLY_COLUMNS: [&str; 5] = [
    "gpu",
    "tokens_per_second_per_gpu",
    "commit_cost_per_gpu_hour",
    "cost_per_gpu_hour",
    "block_gpus",
];

impl RowReader<'_> {
    /// The GPU facts of a capacity row with `gpus` (not yet translated): Some(None) never, None
    /// when a cell is wrong (recorded). The throughput is the row's or looked up in `throughput`.
    fn gpus(&mut self, row: &RawRow, throughput: Throughput) -> Option<Option<GpuCapacity>> {
        let table = self.table;
        let gpus = self.parse(table.cell(row, "gpus"), |t| {
            read_whole(t, GPU_LIMIT, "GPUs")
        });
        let block_gpus = match table.cell(row, "block_gpus") {
            None => Some(1),
            c => self.parse(c, |t| read_whole(t, GPU_LIMIT, "GPUs per block")),
        };
        if let (Some(g), Some(b)) = (gpus, block_gpus) {
            if g % b != 0 {
                let below = g / b * b;
                let near = if below == 0 {
                    format!("{}", b)
                } else {
                    format!("{below} or {}", below + b)
                };
                self.diags.push(
                    table.location(row, "gpus"),
                    format!("expected a whole number of blocks of block_gpus {b}, found gpus {g} ({near} would be)"),
                );
            }
        }
        let gpu_type = table.cell(row, "gpu").map(|c| c.text.to_string());
        let model = table.cell(row, "model").map(|c| c.text);
        let written = match table.cell(row, "tokens_per_second_per_gpu") {
            None => None,
            c => Some(self.parse(c, |t| read_positive(t, THROUGHPUT_LIMIT))),
        };
        let throughput = match written {
            Some(tps) => tps.map(|tps| Some((tps, None))),
            None => match gpus::look_up(throughput, model, gpu_type.as_deref()) {
                Ok(found) => found.map(|(tps, origin)| Some((tps, Some(origin)))),
                Err(m) => {
                    self.diags
                        .push(table.location(row, "tokens_per_second_per_gpu"), m);
                    None
                }
            },
        };
        let mut per_gpu_hour = |per_gpu: &'static str, per_tranche: &'static str, formula: &str| {
            let cell = table.cell(row, per_gpu)?;
            if table.cell(row, per_tranche).is_some() {
                self.diags.push(
                    table.location(row, per_gpu),
                    format!("expected at most one of {per_tranche} and {per_gpu}, found both ({per_tranche} = {formula}); leave one empty"),
                );
                return Some(None);
            }
            Some(self.parse(Some(cell), read_number))
        };
        let commit = per_gpu_hour(
            "commit_cost_per_gpu_hour",
            "commit_cost_per_hour",
            "commit_cost_per_gpu_hour × gpus",
        );
        let cost = per_gpu_hour(
            "cost_per_gpu_hour",
            "cost_per_million_tokens",
            "cost_per_gpu_hour × 1e6 / (tokens_per_second_per_gpu × 3600)",
        );
        // A price given with its per-tranche twin is an error (Some(None)); absent is None.
        let (commit, cost) = match (commit, cost) {
            (Some(None), _) | (_, Some(None)) => return None,
            (c, u) => (
                c.map(|c| c.expect("matched")),
                u.map(|u| u.expect("matched")),
            ),
        };
        let (Some(gpus), Some(block_gpus), Some(Some((tps, throughput_origin)))) =
            (gpus, block_gpus, throughput)
        else {
            return None;
        };
        if gpus % block_gpus != 0 {
            return None;
        }
        Some(Some(GpuCapacity {
            gpu_type,
            gpus,
            block_gpus,
            tokens_per_second_per_gpu: tps,
            throughput_origin,
            commit_cost_per_gpu_hour: commit,
            cost_per_gpu_hour: cost,
        }))
    }
}

pub const THROUGHPUT_COLUMNS: Columns = Columns {
    required: &["model", "gpu", "tokens_per_second_per_gpu"],
    optional: &[],
};

/// throughput.csv → the table of tokens per second per GPU. A (model, gpu) pair listed twice is
/// an error at the second naming the first.
pub fn read_throughput(path: &Path) -> Result<ThroughputTable> {
    let table = read_table(path, &THROUGHPUT_COLUMNS)?;
    let mut r = RowReader::new(&table);
    let mut rows: Vec<ThroughputRow> = Vec::new();
    let mut pairs: HashMap<(String, String), u64> = HashMap::new();
    for row in &table.rows {
        let model = r
            .required(row, "model", "a model name")
            .map(|c| c.text.to_string());
        let gpu = r
            .required(row, "gpu", "a GPU type such as H100")
            .map(|c| c.text.to_string());
        let tps = r.required(
            row,
            "tokens_per_second_per_gpu",
            "tokens per second per GPU as a positive number",
        );
        let tps = r.parse(tps, |t| read_positive(t, THROUGHPUT_LIMIT));
        let (Some(model), Some(gpu)) = (model, gpu) else {
            continue;
        };
        let key = (model.clone(), gpu.clone());
        if let Some(first) = pairs.get(&key) {
            r.diags.push(
                table.location(row, "model"),
                format!(
                    "model '{model}' with gpu '{gpu}' is listed twice (first at line {first}); expected each (model, gpu) pair once"
                ),
            );
            continue;
        }
        pairs.insert(key, row.line);
        let Some(tokens_per_second_per_gpu) = tps else {
            continue;
        };
        rows.push(ThroughputRow {
            model,
            gpu,
            tokens_per_second_per_gpu,
            line: row.line,
        });
    }
    r.diags.finish(ThroughputTable {
        path: path.to_path_buf(),
        rows,
    })
}

pub const WORKLOAD_COLUMNS: Columns = Columns {
    required: &["workload"],
    optional: &["max_delay", "unserved_penalty", "model"],
};

/// workloads.csv → each workload's settings, defaults for blank cells. A workload listed twice is
/// an error at the second naming the first; whether demand.csv uses each is checked once the
/// scenario's demand is known (`check_workloads`).
pub fn read_workloads(path: &Path) -> Result<BTreeMap<String, Workload>> {
    let table = read_table(path, &WORKLOAD_COLUMNS)?;
    let file: Arc<Path> = Arc::from(table.path.as_path());
    let mut r = RowReader::new(&table);
    let mut out: BTreeMap<String, Workload> = BTreeMap::new();
    for row in &table.rows {
        let name = r
            .required(row, "workload", "a workload of demand.csv")
            .map(|c| c.text.to_string());
        let max_delay = match table.cell(row, "max_delay") {
            None => Some(0.0),
            c => r.parse(c, read_duration_minutes),
        };
        let penalty = match table.cell(row, "unserved_penalty") {
            None => Some(None),
            c => r.parse(c, |t| read_limited(t, PRICE_LIMIT)).map(Some),
        };
        let Some(name) = name else { continue };
        if let Some(first) = out.get(&name) {
            let first = first.origin.as_ref().map_or(0, |o| o.line);
            r.diags.push(
                table.location(row, "workload"),
                format!(
                    "workload '{name}' is listed twice (first at line {first}); expected each workload once"
                ),
            );
            continue;
        }
        let (Some(max_delay_minutes), Some(unserved_penalty)) = (max_delay, penalty) else {
            continue;
        };
        let workload = Workload {
            max_delay_minutes,
            unserved_penalty,
            model: table.cell(row, "model").map(|c| c.text.to_string()),
            max_delay_at: table
                .cell(row, "max_delay")
                .map(|_| table.location(row, "max_delay")),
            origin: origin(&file, row.line),
        };
        out.insert(name, workload);
    }
    r.diags.finish(out)
}

/// Every workload of workloads.csv (and of the `max_delay` what-ifs) must be a workload of the
/// demand, as the scenario stands: a name demand.csv does not use is a typo.
pub fn check_workloads(
    settings: &BTreeMap<String, Workload>,
    demand: &[Demand],
    folder: &Path,
) -> Result<()> {
    if settings.is_empty() {
        return Ok(());
    }
    let used: BTreeSet<&str> = demand.iter().map(|d| d.workload.as_str()).collect();
    let used: Vec<&str> = used.into_iter().collect();
    let mut diags = Diagnostics::default();
    for (name, w) in settings {
        if used.contains(&name.as_str()) {
            continue;
        }
        let at = match (&w.origin, &w.max_delay_at) {
            (Some(o), _) => Location::at(&o.file, o.line, Some("workload")),
            (None, Some(at)) => at.clone(),
            (None, None) => Location::file(folder.join("workloads.csv")),
        };
        let hint = closest(name, &used)
            .map(|c| format!(" (did you mean '{c}'?)"))
            .unwrap_or_default();
        diags.push(
            at,
            format!(
                "workload '{name}' is not a workload of demand.csv{hint}; expected one of {}",
                list(&used)
            ),
        );
    }
    diags.finish(())
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;
    use proptest::prelude::*;

    /// (line, first line) of each duplicate demand row by one map of every row: the rule the
    /// check keeps however it finds them. A row is (period, region, workload, tokens readable).
    fn duplicates_by_map(rows: &[(u8, u8, u8, bool)]) -> Vec<(u64, u64)> {
        let mut first = HashMap::new();
        let mut duplicates = Vec::new();
        for (i, &(p, r, w, readable)) in rows.iter().enumerate() {
            let line = i as u64 + 2;
            if !readable {
                continue;
            }
            match first.get(&(p, r, w)) {
                Some(&f) => duplicates.push((line, f)),
                None => {
                    first.insert((p, r, w), line);
                }
            }
        }
        duplicates
    }

    fn duplicates_read(rows: &[(u8, u8, u8, bool)]) -> Vec<(u64, u64)> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("demand.csv");
        let mut text = String::from("period,region,workload,tokens_per_minute\n");
        for &(p, r, w, readable) in rows {
            let tokens = if readable { "1" } else { "x" };
            text += &format!("2026-01-{:02},r{r},w{w},{tokens}\n", p + 1);
        }
        std::fs::write(&path, text).unwrap();
        let diagnostics = match read_demand(&path) {
            Ok(_) => Vec::new(),
            Err(Error::Input(d)) => d,
            Err(e) => panic!("{e}"),
        };
        diagnostics
            .iter()
            .filter(|d| d.message.starts_with("duplicate"))
            .map(|d| {
                let first = d.message.split("first at line ").nth(1).unwrap();
                let first = first.split(')').next().unwrap().parse().unwrap();
                (d.location.line.unwrap(), first)
            })
            .collect()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        /// In period order, out of it, and with periods of more rows than are scanned.
        #[test]
        fn duplicate_demand_rows_as_one_map_finds_them(
            rows in prop::collection::vec((0u8..3, 0u8..10, 0u8..10, prop::bool::weighted(0.9)), 0..300),
            in_period_order in any::<bool>(),
        ) {
            let mut rows = rows;
            if in_period_order {
                rows.sort_by_key(|r| r.0);
            }
            prop_assert_eq!(duplicates_read(&rows), duplicates_by_map(&rows));
        }
    }
}
