//! Sweep stage: many runs of one scenario, as plain rows.
//!
//! A **grid** sweep is the full product of what-if axes (the `run` flags); each point is re-planned
//! exactly as `capplan run <scenario> <flags>` plans it, or with `hold_reservations` dispatched
//! with the base plan's reservations held (`run --reservations-from <base> <flags>`). A **risk**
//! sweep draws outages and a demand multiplier per sample (see `risk`) and dispatches the base
//! plan under emergency rules, exactly `run --reservations-from <base> --emergency --outage …
//! --demand-scale M`; a sample with outages is dispatched once more at the same demand without
//! them, so its shortfall splits into what the demand draw alone leaves unserved and what the
//! outages add. Points are solved in parallel and reduced in id order, every value rounded
//! to the 12 digits the files carry before anything is summed, so a run, any split into shards
//! and a merge of them give the same bytes.

pub mod risk;
pub mod runner;
pub mod shard;
pub mod spec;
pub mod write;

use std::sync::atomic::{AtomicBool, Ordering};

use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::error::{Diagnostic, Error, Location, Result};
use crate::load::flags::{Flags, WhatIfFlags};
use crate::load::signed::SignedPlan;
use crate::model::solve::SolverKind;
use crate::pipeline::{self, Planning};
use crate::report::build::Report;
use risk::round12;
use spec::{Axis, Kind, OutageRisk, Sweep};

/// What the command line overrides in the sweep file.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overrides {
    pub solver: Option<String>,
    pub samples: Option<u64>,
    pub seed: Option<u64>,
}

/// The sweep as data: what `sweep.json` and every shard manifest carry besides results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Info {
    pub sweep: String,
    /// `grid` or `risk`.
    pub kind: String,
    /// The scenario folder as the sweep file names it.
    pub scenario: String,
    pub scenario_name: String,
    pub solver: String,
    /// `sha256:<hex>` of the sweep file, the overrides and the loaded scenario.
    pub fingerprint: String,
    /// Points or samples.
    pub points: u64,
    pub horizon_start: String,
    pub horizon_end: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_reservations: Option<bool>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub axes: Vec<Axis>,
    /// Per axis, the index of the value held while another axis varies (the tornado's centre):
    /// its first value that leaves the scenario unchanged, else its first value.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub centre_indices: Vec<usize>,
    /// The point that is the unmodified scenario, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub centre_id: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outages: Vec<OutageRisk>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub demand_sigma: Option<f64>,
    /// Risk: period starts, for the per-period series.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub period_starts: Vec<String>,
}

impl Info {
    pub fn is_risk(&self) -> bool {
        self.kind == "risk"
    }
    /// The parameter columns of a record.
    pub fn param_columns(&self) -> Vec<String> {
        if self.is_risk() {
            vec!["outages".into(), "demand_scale".into()]
        } else {
            self.axes.iter().map(|a| a.key.clone()).collect()
        }
    }
}

/// One solved point or sample, every number rounded to the 12 digits the files carry.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    pub id: u64,
    /// Grid: the axis values; risk: the drawn outages as `--outage` values and the multiplier.
    pub params: Vec<String>,
    /// commit + usage + route, $.
    pub cost: f64,
    pub objective: f64,
    pub cost_per_million_tokens: f64,
    pub served_pct: f64,
    pub worst_period_served_pct: Option<f64>,
    pub unserved_tokens: f64,
    pub demand_tokens: f64,
    /// Risk: the unserved tokens of the same held dispatch at the sample's demand without its
    /// outages (what the demand draw alone leaves unserved); None for a grid point.
    pub unserved_tokens_demand_only: Option<f64>,
    /// Risk: demand and served tokens per minute by period (all regions).
    pub period_demand_tpm: Vec<f64>,
    pub period_served_tpm: Vec<f64>,
}

impl Record {
    /// Unserved above 1e-9 of demand.
    pub fn has_shortfall(&self) -> bool {
        self.is_shortfall(self.unserved_tokens)
    }

    /// Whether `tokens` unserved are a shortfall of this record's demand (above 1e-9 of it).
    pub fn is_shortfall(&self, tokens: f64) -> bool {
        tokens > 1e-9 * self.demand_tokens
    }

    /// Risk: whether the demand draw alone leaves demand unserved.
    pub fn has_demand_only_shortfall(&self) -> bool {
        self.unserved_tokens_demand_only
            .is_some_and(|u| self.is_shortfall(u))
    }

    /// Risk: what the outages add to the unserved tokens of the demand draw alone: the total
    /// less the demand-only dispatch's, rounded as written; a difference below zero by no more
    /// than 1e-9 of demand (the solvers' and the files' rounding) is 0. None for a grid point.
    pub fn unserved_tokens_from_outages(&self) -> Option<f64> {
        let alone = self.unserved_tokens_demand_only?;
        let added = round12(self.unserved_tokens - alone);
        Some(if added < 0.0 && !self.is_shortfall(-added) {
            0.0
        } else {
            added
        })
    }
}

/// A sweep ready to run: the checked file, its data, and the base plan.
pub struct Prepared {
    pub sweep: Sweep,
    pub info: Info,
    solver: SolverKind,
    /// The base plan's signed reservations (risk, and grid with hold_reservations).
    signed: Option<SignedPlan>,
    /// Risk: the base plan under its normal policy.
    base: Option<Record>,
    /// The scenario folder loaded once; every point or sample applies its own flags to it,
    /// exactly as `run` would after reading the folder.
    loaded: crate::load::Base,
    /// The scenario's warnings (loader and facts).
    pub warnings: Vec<Diagnostic>,
    horizon: (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>),
}

/// Loads the scenario, checks the sweep against it, fingerprints it and (risk, hold) plans the base.
pub fn prepare(sweep: Sweep, overrides: &Overrides) -> Result<Prepared> {
    let solver_name = overrides.solver.clone().or(sweep.solver.clone());
    let solver = match &solver_name {
        Some(n) => SolverKind::parse(n)?,
        None => SolverKind::default_kind(),
    };
    let mut sweep = sweep;
    if let Kind::Risk(r) = &mut sweep.kind {
        if let Some(n) = overrides.samples {
            if n == 0 || n > spec::MAX_POINTS {
                return Err(Error::Usage(format!(
                    "--samples {n}: expected 1 to {}",
                    spec::MAX_POINTS
                )));
            }
            r.samples = n;
        }
        if let Some(s) = overrides.seed {
            r.seed = s;
        }
    } else if overrides.samples.is_some() || overrides.seed.is_some() {
        return Err(Error::Usage(format!(
            "--samples and --seed apply to a [risk] sweep; {} is a [grid] sweep",
            sweep.file.display()
        )));
    }
    if !sweep.scenario.is_dir() {
        return Err(Error::input(
            Location::file(&sweep.file),
            format!(
                "scenario '{}' is not a folder ({} does not exist); the path is relative to the sweep file",
                sweep.scenario_text,
                sweep.scenario.display()
            ),
        ));
    }
    let planning = Planning::load(&sweep.scenario, &Flags::default())?;
    let scenario = &planning.scenario;
    let (start, end) = match (scenario.horizon_start(), scenario.horizon_end()) {
        (Some(a), Some(b)) => (a, b),
        _ => {
            return Err(Error::input(
                Location::file(&sweep.scenario),
                "expected a scenario with at least one period",
            ))
        }
    };
    let bytes = std::fs::read(&sweep.file).map_err(|e| Error::io(&sweep.file, e))?;
    let mut h = Sha256::new();
    h.update(b"capplan sweep 1\n");
    // Another capplan may draw or solve differently: its shards are not this sweep's.
    h.update(concat!("capplan ", env!("CARGO_PKG_VERSION"), "\n").as_bytes());
    h.update(&bytes);
    h.update(format!("\nsolver={}\n", solver.name()).as_bytes());
    if let Kind::Risk(r) = &sweep.kind {
        h.update(format!("samples={} seed={}\n", r.samples, r.seed).as_bytes());
    }
    let mut canonical = scenario.clone();
    canonical.folder = Default::default();
    h.update(serde_json::to_vec(&canonical).expect("a scenario serialises"));
    let fingerprint = format!(
        "sha256:{}",
        h.finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    );
    let mut info = Info {
        sweep: sweep.name.clone(),
        kind: String::new(),
        scenario: sweep.scenario_text.clone(),
        scenario_name: scenario.name.clone(),
        solver: solver.name().to_string(),
        fingerprint,
        points: 0,
        horizon_start: crate::units::format_time(&start),
        horizon_end: crate::units::format_time(&end),
        hold_reservations: None,
        axes: vec![],
        centre_indices: vec![],
        centre_id: None,
        samples: None,
        seed: None,
        outages: vec![],
        demand_sigma: None,
        period_starts: vec![],
    };
    let needs_plan;
    match &sweep.kind {
        Kind::Grid(g) => {
            info.kind = "grid".into();
            info.points = g.points();
            info.hold_reservations = Some(g.hold_reservations);
            info.axes = g.axes.clone();
            // Each value alone, loaded: a wrong provider or region is reported at the axis.
            let mut identity = Vec::new();
            for a in &g.axes {
                let mut first = None;
                for i in 0..a.values.len() {
                    let flags: Flags = a.flag(i).into_iter().collect();
                    let loaded = crate::load::load_with(&sweep.scenario, &flags).map_err(|e| {
                        at_axis(
                            e,
                            a.location.as_ref().unwrap_or(&Location::file(&sweep.file)),
                        )
                    })?;
                    if first.is_none() && loaded.scenario == *scenario {
                        first = Some(i);
                    }
                }
                identity.push(first);
            }
            info.centre_indices = identity.iter().map(|i| i.unwrap_or(0)).collect();
            info.centre_id = identity
                .iter()
                .all(Option::is_some)
                .then(|| g.id_of(&info.centre_indices));
            needs_plan = g.hold_reservations;
        }
        Kind::Risk(r) => {
            info.kind = "risk".into();
            info.points = r.samples;
            info.samples = Some(r.samples);
            info.seed = Some(r.seed);
            info.outages = r.outages.clone();
            info.demand_sigma = Some(r.demand_sigma);
            info.period_starts = scenario
                .periods
                .iter()
                .map(|p| crate::units::format_time(&p.start))
                .collect();
            let providers = scenario.providers();
            for o in &r.outages {
                let loc = o
                    .location
                    .clone()
                    .unwrap_or_else(|| Location::file(&sweep.file));
                if !providers.contains(&o.provider) {
                    return Err(Error::input(
                        loc,
                        format!(
                            "provider '{}' is not in the scenario; expected one of {}",
                            o.provider,
                            crate::error::list(&providers)
                        ),
                    ));
                }
                if let Some(region) = &o.region {
                    let mut regions: Vec<String> = scenario
                        .tranches
                        .iter()
                        .filter(|t| t.provider == o.provider)
                        .map(|t| t.region.clone())
                        .collect();
                    regions.sort();
                    regions.dedup();
                    if !regions.contains(region) {
                        return Err(Error::input(
                            loc,
                            format!(
                                "provider '{}' has no region '{region}'; expected one of {}",
                                o.provider,
                                crate::error::list(&regions)
                            ),
                        ));
                    }
                }
            }
            needs_plan = true;
        }
    }
    let (signed, base) = if needs_plan {
        let planned = planning.plan(solver)?;
        // The base plan has no outages: all it leaves unserved is the demand's.
        let base = matches!(sweep.kind, Kind::Risk(_)).then(|| {
            let mut r = record_of(0, vec![String::new(), "1".into()], &planned.report, true);
            r.unserved_tokens_demand_only = Some(r.unserved_tokens);
            r
        });
        (Some(planned.signed_plan()), base)
    } else {
        (None, None)
    };
    let loaded = crate::load::load_base(&sweep.scenario)?;
    Ok(Prepared {
        sweep,
        info,
        solver,
        signed,
        base,
        loaded,
        warnings: planning.warnings,
        horizon: (start, end),
    })
}

/// A scenario error met while checking one axis value, located at the axis.
fn at_axis(e: Error, at: &Location) -> Error {
    match e {
        Error::Input(ds) => Error::Input(
            ds.into_iter()
                .map(|d| {
                    crate::error::Diagnostic::new(
                        at.clone(),
                        d.to_string().replacen("error: ", "", 1),
                    )
                })
                .collect(),
        ),
        other => other,
    }
}

/// A report as a record (every number rounded as written).
fn record_of(id: u64, params: Vec<String>, report: &Report, periods: bool) -> Record {
    let s = &report.summary;
    let totals = crate::report::tables::period_totals(&report.charts.region_periods);
    let worst = crate::report::tables::worst_period(&totals).map(|(_, pct)| pct);
    // Every period of the grid, in order (a period without rows has no demand): both sorted.
    let mut next = totals.iter().peekable();
    let (demand, served): (Vec<f64>, Vec<f64>) = report
        .period_starts
        .iter()
        .map(|start| match next.next_if(|t| t.period == *start) {
            Some(t) => (t.demand_tpm, t.served_tpm),
            None => (0.0, 0.0),
        })
        .unzip();
    Record {
        id,
        params,
        cost: round12(s.cost),
        objective: round12(s.objective),
        cost_per_million_tokens: round12(s.cost_per_million_tokens),
        served_pct: round12(s.served_fraction * 100.0),
        worst_period_served_pct: worst.map(round12),
        unserved_tokens: round12(s.unserved_tokens),
        demand_tokens: round12(s.demand_tokens),
        unserved_tokens_demand_only: None,
        period_demand_tpm: if periods {
            demand.into_iter().map(round12).collect()
        } else {
            vec![]
        },
        period_served_tpm: if periods {
            served.into_iter().map(round12).collect()
        } else {
            vec![]
        },
    }
}

impl Prepared {
    /// Solves point or sample `id`.
    pub fn solve(&self, id: u64) -> Result<Record> {
        match &self.sweep.kind {
            Kind::Grid(g) => {
                let solved = self.solve_with(&g.flags(id), false)?;
                Ok(record_of(id, g.values(id), &solved.report, false))
            }
            Kind::Risk(r) => {
                let d = risk::draw(r, id, self.horizon.0, self.horizon.1);
                let solved = self.solve_with(&self.risk_flags(&d), true)?;
                let params = vec![d.outages_text(), crate::units::fixed(d.demand_scale)];
                let mut record = record_of(id, params, &solved.report, true);
                // The same dispatch at the same demand without the outages: what the demand
                // draw alone leaves unserved. A sample without outages is that dispatch already.
                let alone = if d.outages.is_empty() {
                    record.unserved_tokens
                } else {
                    let demand_only = risk::Draw {
                        outages: Vec::new(),
                        demand_scale: d.demand_scale,
                    };
                    let solved = self.solve_with(&self.risk_flags(&demand_only), true)?;
                    round12(solved.report.summary.unserved_tokens)
                };
                record.unserved_tokens_demand_only = Some(alone);
                Ok(record)
            }
        }
    }

    /// The scenario with `flags`, planned, or held to the base plan when there is one (under
    /// emergency rules when asked), exactly as `run` with the same flags.
    fn solve_with(&self, flags: &Flags, emergency: bool) -> Result<pipeline::Solved> {
        let planning = Planning::of(self.loaded.with_flags(flags)?);
        match &self.signed {
            Some(signed) => planning.hold(signed, emergency, self.solver),
            None => planning.plan(self.solver),
        }
    }

    /// The what-if flags of point or sample `id`, exactly as `solve` applies them.
    pub fn flags_of(&self, id: u64) -> Flags {
        match &self.sweep.kind {
            Kind::Grid(g) => g.flags(id),
            Kind::Risk(r) => self.risk_flags(&risk::draw(r, id, self.horizon.0, self.horizon.1)),
        }
    }

    /// The scenario of point or sample `id`: the folder loaded once with its flags.
    pub fn scenario_of(&self, id: u64) -> Result<crate::scenario::Scenario> {
        self.loaded.with_flags(&self.flags_of(id))
    }

    /// The base plan's signed reservations, when the sweep planned the base (risk, and a grid
    /// with hold_reservations).
    pub fn base_signed(&self) -> Option<&SignedPlan> {
        self.signed.as_ref()
    }

    /// The backend the sweep plans and holds with.
    pub fn solver(&self) -> SolverKind {
        self.solver
    }

    /// The what-if flags of a risk draw: one `--outage` per drawn outage, and `--demand-scale M`.
    pub fn risk_flags(&self, d: &risk::Draw) -> Flags {
        WhatIfFlags {
            outage: d.outages.iter().map(risk::DrawnOutage::flag).collect(),
            demand_scale: vec![crate::units::fixed(d.demand_scale)],
            ..WhatIfFlags::default()
        }
        .read()
    }

    /// The record the summaries compare against: risk, the base plan under its normal policy;
    /// grid, the unmodified scenario (the centre point when the grid has it, else solved here).
    pub fn base(&self, records: &[Record]) -> Result<Record> {
        if let Some(b) = &self.base {
            return Ok(b.clone());
        }
        if let Some(c) = self.info.centre_id {
            if let Some(r) = records.iter().find(|r| r.id == c) {
                return Ok(r.clone());
            }
        }
        let solved = self.solve_with(&Flags::default(), false)?;
        let params = match &self.sweep.kind {
            Kind::Grid(g) => g
                .axes
                .iter()
                .zip(&self.info.centre_indices)
                .map(|(a, &i)| a.values[i].clone())
                .collect(),
            Kind::Risk(_) => vec![String::new(), "1".into()],
        };
        let mut r = record_of(0, params, &solved.report, false);
        r.id = self.info.centre_id.unwrap_or(0);
        Ok(r)
    }
}

/// What a run of some ids came to: the records finished (sorted by id), and why it ended early.
pub struct Ran {
    pub records: Vec<Record>,
    /// Stopped by `stop` (Ctrl-C) before every id was solved.
    pub stopped: bool,
    /// The error of the lowest failing id.
    pub error: Option<Error>,
}

/// Solves `ids` in parallel (rayon), checking `stop` before each and calling `done` after each;
/// the records come back in id order whatever the thread count.
pub fn run(prep: &Prepared, ids: &[u64], stop: &AtomicBool, done: &(dyn Fn() + Sync)) -> Ran {
    let results: Vec<Option<Result<Record>>> = ids
        .par_iter()
        .map(|&id| {
            if stop.load(Ordering::SeqCst) {
                return None;
            }
            let r = prep.solve(id);
            done();
            Some(r)
        })
        .collect();
    let mut records = Vec::new();
    let mut stopped = false;
    let mut error = None;
    for r in results {
        match r {
            None => stopped = true,
            Some(Ok(rec)) => records.push(rec),
            Some(Err(e)) => {
                if error.is_none() {
                    error = Some(e);
                }
            }
        }
    }
    Ran {
        records,
        stopped,
        error,
    }
}
