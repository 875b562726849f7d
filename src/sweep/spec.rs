//! Sweep stage, the sweep file: a TOML file naming a scenario (relative to the file) and either a
//! `[grid]` of what-if axes or a `[risk]` model of outages and demand. Checked key by key; every
//! problem names the file, the line and the key, and unknown keys are errors.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use toml::{Spanned, Value};

use crate::error::{Diagnostics, Error, Location, Result};
use crate::load::flags::{Flag, Flags};
use crate::load::toml_doc::{Doc, FileKind};
use crate::load::whatif_syntax::{AxisKey, AXIS_FORMS};

/// A checked sweep file.
#[derive(Debug, Clone, PartialEq)]
pub struct Sweep {
    /// `name`, or the file's stem.
    pub name: String,
    /// The sweep file.
    pub file: PathBuf,
    /// `scenario` as written in the file.
    pub scenario_text: String,
    /// The scenario folder, resolved against the file's folder.
    pub scenario: PathBuf,
    /// `solver`, when the file names one.
    pub solver: Option<String>,
    pub kind: Kind,
    /// `[robust]`: how `capplan robust` weighs the samples (None: the table is absent, the
    /// defaults apply; `sweep` ignores it).
    pub robust: Option<RobustSpec>,
}

/// The `[robust]` table of a sweep file (spec, "Robust plans"): each key None when absent.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RobustSpec {
    /// W in [0, 1]: 0 minimises the expected total, 1 its CVaR.
    pub risk_weight: Option<f64>,
    /// α in [0, 1): CVaR_α is the mean of the worst (1 − α) share of the samples' totals.
    pub cvar_alpha: Option<f64>,
    /// Further samples (the ids after the planning samples) that judge the plans.
    pub holdout: Option<u64>,
    /// Samples dispatched under emergency rules (no share cap, no N-1).
    pub emergency: Option<bool>,
    /// Each planning sample's re-planned optimum is computed (EVPI; N more searches).
    pub evpi: Option<bool>,
    /// Where the `holdout` key is, for an error about it (a grid has no further samples).
    pub holdout_location: Option<Location>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Grid(Grid),
    Risk(Risk),
}

/// The full product of what-if axes.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    /// Each point is a held dispatch of the base plan (under the scenario's policy), not a re-plan.
    pub hold_reservations: bool,
    /// In file order.
    pub axes: Vec<Axis>,
}

/// One axis: a what-if flag and its values as the flag would take them ("" = no change).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Axis {
    /// The key as written: `demand_scale`, `delay.aws`, `policy.loss_coverage`.
    pub key: String,
    pub values: Vec<String>,
    #[serde(skip)]
    pub location: Option<Location>,
    /// Each value read once as the flag it stands for (None for "" = no change); empty for an
    /// axis read back from a sweep's JSON, whose values are read when used.
    #[serde(skip)]
    pub read: Vec<Option<Flag>>,
}

impl Axis {
    /// The flag value `i` stands for, None for "" (no change).
    pub fn flag(&self, i: usize) -> Option<Flag> {
        match self.read.get(i) {
            Some(flag) => flag.clone(),
            None => axis_flag(&self.key, &self.values[i]),
        }
    }
}

/// Random outages and demand, dispatched against the base plan under emergency rules.
#[derive(Debug, Clone, PartialEq)]
pub struct Risk {
    pub samples: u64,
    pub seed: u64,
    pub outages: Vec<OutageRisk>,
    /// σ of ln(demand multiplier); 0 = demand as planned.
    pub demand_sigma: f64,
}

/// One `[[risk.outage]]` row.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutageRisk {
    pub provider: String,
    /// None = every region of the provider at once.
    pub region: Option<String>,
    pub per_year: f64,
    pub median_hours: f64,
    pub p95_hours: f64,
    pub capacity_factor: f64,
    #[serde(skip)]
    pub location: Option<Location>,
}

/// Most points or samples one sweep may have.
pub const MAX_POINTS: u64 = 10_000_000;
const MAX_PER_YEAR: f64 = 10_000.0;
const MAX_HOURS: f64 = 100_000.0;
const MAX_SIGMA: f64 = 3.0;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSweep {
    name: Option<Spanned<Value>>,
    scenario: Option<Spanned<Value>>,
    solver: Option<Spanned<Value>>,
    hold_reservations: Option<Spanned<Value>>,
    grid: Option<Spanned<RawAxes>>,
    risk: Option<Spanned<RawRisk>>,
    robust: Option<Spanned<RawRobust>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRobust {
    risk_weight: Option<Spanned<Value>>,
    cvar_alpha: Option<Spanned<Value>>,
    holdout: Option<Spanned<Value>>,
    emergency: Option<Spanned<Value>>,
    evpi: Option<Spanned<Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRisk {
    samples: Option<Spanned<Value>>,
    seed: Option<Spanned<Value>>,
    outage: Option<Vec<Spanned<RawOutage>>>,
    demand: Option<RawDemand>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutage {
    provider: Option<Spanned<Value>>,
    region: Option<Spanned<Value>>,
    per_year: Option<Spanned<Value>>,
    median_hours: Option<Spanned<Value>>,
    p95_hours: Option<Spanned<Value>>,
    capacity_factor: Option<Spanned<Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDemand {
    sigma: Option<Spanned<Value>>,
}

/// `[grid]` keys in file order (a map would sort them).
struct RawAxes(Vec<(Spanned<String>, Spanned<Value>)>);

impl<'de> Deserialize<'de> for RawAxes {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<RawAxes, D::Error> {
        struct Ordered;
        impl<'de> Visitor<'de> for Ordered {
            type Value = RawAxes;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a table of axes")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<RawAxes, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = m.next_entry()? {
                    out.push(entry);
                }
                Ok(RawAxes(out))
            }
        }
        d.deserialize_map(Ordered)
    }
}

/// Reads and checks a sweep file.
pub fn read(path: &Path) -> Result<Sweep> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = String::from_utf8(bytes).map_err(|_| {
        Error::input(
            Location::file(path),
            "expected UTF-8 text, found bytes that are not",
        )
    })?;
    parse(path, &text)
}

struct Checker<'a> {
    doc: Doc<'a>,
    diags: Diagnostics,
}

impl Checker<'_> {
    /// The line of a key; sweep files have always named their keys as columns.
    fn loc(&self, start: usize, key: &str) -> Location {
        Location::at(self.doc.path, self.doc.line(start), Some(key))
    }
    fn fail<T>(&mut self, start: usize, key: &str, message: String) -> Option<T> {
        let loc = self.loc(start, key);
        self.diags.push(loc, message);
        None
    }
    /// A key's line and the character column of its value.
    fn loc_column(&self, start: usize, key: &str) -> Location {
        self.loc(start, key)
            .with_char_column(self.doc.char_column(start))
    }
    fn string(&mut self, v: Spanned<Value>, key: &str) -> Option<String> {
        let start = v.span().start;
        match v.into_inner() {
            Value::String(s) if !s.trim().is_empty() => Some(s),
            Value::String(_) => self.fail(start, key, "expected a non-empty string".into()),
            other => self.fail(
                start,
                key,
                format!("expected a string, found {}", other.type_str()),
            ),
        }
    }
    fn number(&mut self, v: Spanned<Value>, key: &str, min: f64, max: f64) -> Option<f64> {
        let start = v.span().start;
        let x = match v.into_inner() {
            Value::Integer(i) => i as f64,
            Value::Float(f) => f,
            other => {
                return self.fail(
                    start,
                    key,
                    format!("expected a number, found {}", other.type_str()),
                )
            }
        };
        if !x.is_finite() || x < min || x > max {
            return self.fail(
                start,
                key,
                format!("expected a number from {min} to {max}, found {x}"),
            );
        }
        Some(if x == 0.0 { 0.0 } else { x })
    }
    fn integer(&mut self, v: Spanned<Value>, key: &str, min: i64, max: i64) -> Option<u64> {
        let start = v.span().start;
        match v.into_inner() {
            Value::Integer(i) if (min..=max).contains(&i) => Some(i as u64),
            Value::Integer(i) => self.fail(
                start,
                key,
                format!("expected a whole number from {min} to {max}, found {i}"),
            ),
            other => self.fail(
                start,
                key,
                format!("expected a whole number, found {}", other.type_str()),
            ),
        }
    }
}

/// Parses sweep-file text (see `read`).
pub fn parse(path: &Path, text: &str) -> Result<Sweep> {
    let doc = Doc::new(path, text, FileKind::Sweep);
    let raw: RawSweep = doc.typed()?;
    let mut c = Checker {
        doc,
        diags: Diagnostics::default(),
    };
    let name = raw
        .name
        .and_then(|v| c.string(v, "name"))
        .unwrap_or_else(|| {
            path.file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "sweep".into())
        });
    let scenario_text = match raw.scenario {
        Some(v) => c.string(v, "scenario"),
        None => {
            c.diags.push(
                Location::at(path, 1, Some("scenario")),
                "missing key 'scenario': expected the scenario folder, relative to this file, e.g. scenario = \"../frontier-2026\"",
            );
            None
        }
    };
    let solver = raw.solver.and_then(|v| c.string(v, "solver"));
    let hold = match raw.hold_reservations {
        Some(v) => {
            let start = v.span().start;
            match v.into_inner() {
                Value::Boolean(b) => Some((b, start)),
                other => c.fail(
                    start,
                    "hold_reservations",
                    format!("expected true or false, found {}", other.type_str()),
                ),
            }
        }
        None => None,
    };
    let kind = match (raw.grid, raw.risk) {
        (Some(_), Some(r)) => {
            let start = r.span().start;
            c.fail(
                start,
                "risk",
                "a sweep file has [grid] or [risk], not both; split it into two files".into(),
            )
        }
        (None, None) => {
            c.diags.push(
                Location::file(path),
                "expected a [grid] table of what-if axes or a [risk] table, found neither",
            );
            None
        }
        (Some(g), None) => Some(Kind::Grid(Grid {
            hold_reservations: hold.map(|(b, _)| b).unwrap_or(false),
            axes: axes(&mut c, g),
        })),
        (None, Some(r)) => {
            if let Some((_, start)) = hold {
                c.fail::<()>(
                    start,
                    "hold_reservations",
                    "hold_reservations belongs to a [grid] sweep; a risk sample is always a held dispatch of the base plan".into(),
                );
            }
            risk(&mut c, r).map(Kind::Risk)
        }
    };
    let robust = raw.robust.map(|r| robust(&mut c, r));
    let base = path.parent().unwrap_or(Path::new("."));
    let sweep = match (scenario_text, kind) {
        (Some(s), Some(kind)) => Some(Sweep {
            name,
            file: path.to_path_buf(),
            scenario: base.join(&s),
            scenario_text: s,
            solver,
            kind,
            robust,
        }),
        _ => None,
    };
    c.diags.finish(())?;
    Ok(sweep.expect("no problem means every part was read"))
}

/// The flag an axis value stands for, read by the one what-if syntax: `90d` of `delay.aws` is
/// `--delay aws=90d`. None for "" (no change) and for a key that names no axis.
pub fn axis_flag(key: &str, value: &str) -> Option<Flag> {
    if value.is_empty() {
        return None;
    }
    let axis = AxisKey::parse(key)?;
    Some(Flag::read(axis.kind, &axis.flag_value(value)))
}

fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Integer(i) => Some(i.to_string()),
        Value::Float(f) if f.is_finite() => Some(format!("{f}")),
        Value::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn axes(c: &mut Checker, g: Spanned<RawAxes>) -> Vec<Axis> {
    let table_start = g.span().start;
    let raw = g.into_inner();
    if raw.0.is_empty() {
        c.fail::<()>(
            table_start,
            "grid",
            format!("expected at least one axis: {AXIS_FORMS}"),
        );
    }
    let mut out: Vec<Axis> = Vec::new();
    let mut product: u64 = 1;
    for (key, value) in raw.0 {
        let key_start = key.span().start;
        let key = key.into_inner();
        let full = format!("grid.{key}");
        if AxisKey::parse(&key).is_none() {
            c.fail::<()>(
                key_start,
                &full,
                format!("unknown axis '{key}'; expected {AXIS_FORMS}"),
            );
            continue;
        }
        let v_start = value.span().start;
        let Value::Array(items) = value.into_inner() else {
            c.fail::<()>(
                v_start,
                &full,
                "expected an array of values such as [1.0, 1.3] (\"\" = no change)".into(),
            );
            continue;
        };
        if items.is_empty() {
            c.fail::<()>(v_start, &full, "expected at least one value".into());
            continue;
        }
        let mut values: Vec<String> = Vec::new();
        let mut read: Vec<Option<Flag>> = Vec::new();
        let mut ok = true;
        for item in &items {
            let Some(text) = value_text(item) else {
                c.fail::<()>(
                    v_start,
                    &full,
                    format!(
                        "expected strings, numbers or booleans, found {}",
                        item.type_str()
                    ),
                );
                ok = false;
                break;
            };
            if values.contains(&text) {
                c.fail::<()>(v_start, &full, format!("value '{text}' is listed twice"));
                ok = false;
                break;
            }
            // Each value read as the flag would read it.
            let flag = axis_flag(&key, &text);
            if let Some(Flag { change: Err(m), .. }) = &flag {
                let at = flag.as_ref().map(Flag::location).expect("a flag");
                c.fail::<()>(v_start, &full, format!("{at}: {m}"));
                ok = false;
            }
            values.push(text);
            read.push(flag);
        }
        if out.iter().any(|a| a.key == key) {
            c.fail::<()>(key_start, &full, "axis given twice".into());
            continue;
        }
        if ok {
            product = product.saturating_mul(values.len() as u64);
            out.push(Axis {
                location: Some(c.loc(key_start, &full)),
                key,
                values,
                read,
            });
        }
    }
    if product > MAX_POINTS {
        c.fail::<()>(
            table_start,
            "grid",
            format!("the grid has {product} points; at most {MAX_POINTS}"),
        );
    }
    out
}

fn risk(c: &mut Checker, r: Spanned<RawRisk>) -> Option<Risk> {
    let start = r.span().start;
    let r = r.into_inner();
    let samples = match r.samples {
        Some(v) => c.integer(v, "risk.samples", 1, MAX_POINTS as i64),
        None => c.fail(
            start,
            "risk.samples",
            "missing key 'samples': expected the number of samples, e.g. samples = 1000".into(),
        ),
    };
    let seed = match r.seed {
        Some(v) => c.integer(v, "risk.seed", 0, i64::MAX),
        None => Some(0),
    };
    let mut outages = Vec::new();
    for row in r.outage.unwrap_or_default() {
        let row_start = row.span().start;
        let row = row.into_inner();
        let req =
            |c: &mut Checker, v: Option<Spanned<Value>>, key: &str| -> Option<Spanned<Value>> {
                if v.is_none() {
                    c.fail::<()>(
                        row_start,
                        key,
                        format!("missing key '{key}' in [[risk.outage]]"),
                    );
                }
                v
            };
        let provider = req(c, row.provider, "risk.outage.provider").and_then(|v| {
            let start = v.span().start;
            let name = c.string(v, "risk.outage.provider")?;
            // A drawn outage is replayed as `--outage PROVIDER[/REGION]@…`: a `/` in the provider
            // would be read as a region, and the samples would be another provider's.
            match name.split_once('/') {
                Some((p, r)) => c.fail(
                    start,
                    "risk.outage.provider",
                    format!(
                        "expected a provider name without '/', found '{name}'; give the region on its own: provider = \"{p}\" and region = \"{r}\""
                    ),
                ),
                None => Some(name),
            }
        });
        let region = match row.region {
            Some(v) => c.string(v, "risk.outage.region").map(Some),
            None => Some(None),
        };
        let per_year = req(c, row.per_year, "risk.outage.per_year")
            .and_then(|v| c.number(v, "risk.outage.per_year", 0.0, MAX_PER_YEAR));
        let median = req(c, row.median_hours, "risk.outage.median_hours")
            .and_then(|v| c.number(v, "risk.outage.median_hours", 0.0, MAX_HOURS));
        let p95 = req(c, row.p95_hours, "risk.outage.p95_hours")
            .and_then(|v| c.number(v, "risk.outage.p95_hours", 0.0, MAX_HOURS));
        let factor = match row.capacity_factor {
            Some(v) => c.number(v, "risk.outage.capacity_factor", 0.0, 1.0),
            None => Some(0.0),
        };
        if let (Some(m), Some(p)) = (median, p95) {
            if m <= 0.0 || p < m {
                c.fail::<()>(
                    row_start,
                    "risk.outage.p95_hours",
                    format!("expected 0 < median_hours <= p95_hours, found median {m} and p95 {p}"),
                );
                continue;
            }
        }
        if let (Some(provider), Some(region), Some(per_year), Some(m), Some(p), Some(f)) =
            (provider, region, per_year, median, p95, factor)
        {
            outages.push(OutageRisk {
                provider,
                region,
                per_year,
                median_hours: m,
                p95_hours: p,
                capacity_factor: f,
                location: Some(c.loc(row_start, "risk.outage")),
            });
        }
    }
    let demand_sigma = match r.demand.and_then(|d| d.sigma) {
        Some(v) => c.number(v, "risk.demand.sigma", 0.0, MAX_SIGMA),
        None => Some(0.0),
    };
    Some(Risk {
        samples: samples?,
        seed: seed?,
        outages,
        demand_sigma: demand_sigma?,
    })
}

/// The `[robust]` table, each key checked (file, line and column of a bad value).
fn robust(c: &mut Checker, r: Spanned<RawRobust>) -> RobustSpec {
    let r = r.into_inner();
    let mut out = RobustSpec::default();
    let fail = |c: &mut Checker, start: usize, key: &str, message: String| {
        let loc = c.loc_column(start, key);
        c.diags.push(loc, message);
    };
    let number = |c: &mut Checker, v: Spanned<Value>, key: &str| -> Option<(f64, usize)> {
        let start = v.span().start;
        match v.into_inner() {
            Value::Integer(i) => Some((i as f64, start)),
            Value::Float(f) => Some((f, start)),
            other => {
                let loc = c.loc_column(start, key);
                c.diags.push(
                    loc,
                    format!("expected a number, found {}", other.type_str()),
                );
                None
            }
        }
    };
    if let Some((w, start)) = r
        .risk_weight
        .and_then(|v| number(c, v, "robust.risk_weight"))
    {
        if (0.0..=1.0).contains(&w) {
            out.risk_weight = Some(w + 0.0);
        } else {
            fail(
                c,
                start,
                "robust.risk_weight",
                format!("expected a weight from 0 (expected cost) to 1 (CVaR), found {w}"),
            );
        }
    }
    if let Some((a, start)) = r.cvar_alpha.and_then(|v| number(c, v, "robust.cvar_alpha")) {
        if (0.0..1.0).contains(&a) {
            out.cvar_alpha = Some(a + 0.0);
        } else {
            fail(
                c,
                start,
                "robust.cvar_alpha",
                format!("expected a level from 0 up to but not including 1 (e.g. 0.95), found {a}"),
            );
        }
    }
    if let Some(v) = r.holdout {
        let start = v.span().start;
        out.holdout_location = Some(c.loc_column(start, "robust.holdout"));
        match v.into_inner() {
            Value::Integer(i) if (0..=MAX_POINTS as i64).contains(&i) => {
                out.holdout = Some(i as u64)
            }
            Value::Integer(i) => fail(
                c,
                start,
                "robust.holdout",
                format!("expected a whole number of samples from 0 to {MAX_POINTS}, found {i}"),
            ),
            other => fail(
                c,
                start,
                "robust.holdout",
                format!(
                    "expected a whole number of samples, found {}",
                    other.type_str()
                ),
            ),
        }
    }
    let boolean = |c: &mut Checker, v: Option<Spanned<Value>>, key: &str| {
        let v = v?;
        let start = v.span().start;
        match v.into_inner() {
            Value::Boolean(b) => Some(b),
            other => {
                fail(
                    c,
                    start,
                    key,
                    format!("expected true or false, found {}", other.type_str()),
                );
                None
            }
        }
    };
    out.emergency = boolean(c, r.emergency, "robust.emergency");
    out.evpi = boolean(c, r.evpi, "robust.evpi");
    out
}

impl Grid {
    /// Number of points: the product of the axis lengths.
    pub fn points(&self) -> u64 {
        self.axes.iter().map(|a| a.values.len() as u64).product()
    }

    /// The value index on each axis of point `id`: row-major, the last axis fastest.
    pub fn indices(&self, id: u64) -> Vec<usize> {
        let mut rest = id;
        let mut out = vec![0; self.axes.len()];
        for (i, a) in self.axes.iter().enumerate().rev() {
            let n = a.values.len() as u64;
            out[i] = (rest % n) as usize;
            rest /= n;
        }
        out
    }

    /// The point with these value indices.
    pub fn id_of(&self, indices: &[usize]) -> u64 {
        self.axes
            .iter()
            .zip(indices)
            .fold(0, |id, (a, &i)| id * a.values.len() as u64 + i as u64)
    }

    /// The axis values of point `id`.
    pub fn values(&self, id: u64) -> Vec<String> {
        self.indices(id)
            .iter()
            .zip(&self.axes)
            .map(|(&i, a)| a.values[i].clone())
            .collect()
    }

    /// The what-if flags of point `id`.
    pub fn flags(&self, id: u64) -> Flags {
        self.indices(id)
            .into_iter()
            .zip(&self.axes)
            .filter_map(|(i, a)| a.flag(i))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        parse(Path::new("s.toml"), text).unwrap_err().to_string()
    }

    #[test]
    fn grid_axes_keep_file_order_and_map_to_flags() {
        let s = parse(
            Path::new("dir/s.toml"),
            "scenario = \"../x\"\n[grid]\n\"delay.aws\" = [\"\", \"90d\"]\ndemand_scale = [1.0, 1.3, 2]\n\"policy.loss_coverage\" = [0.6]\n\"outage.azure/eu\" = [\"2026-07-01..2026-07-02=0.5\"]\n",
        )
        .unwrap();
        assert_eq!(s.scenario, Path::new("dir/../x"));
        let Kind::Grid(g) = &s.kind else { panic!() };
        let keys: Vec<&str> = g.axes.iter().map(|a| a.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "delay.aws",
                "demand_scale",
                "policy.loss_coverage",
                "outage.azure/eu"
            ]
        );
        assert_eq!(g.points(), 6);
        assert_eq!(
            g.values(4),
            ["90d", "1.3", "0.6", "2026-07-01..2026-07-02=0.5"]
        );
        assert_eq!(g.id_of(&g.indices(4)), 4);
        let f = g.flags(4);
        assert_eq!(
            f.label(),
            "--demand-scale 1.3 --delay aws=90d --outage azure/eu@2026-07-01..2026-07-02=0.5 --set policy.loss_coverage=0.6"
        );
        assert_eq!(g.flags(0).written().demand_scale, ["1"]);
    }

    #[test]
    fn a_max_delay_axis_stands_for_the_max_delay_flag() {
        let s = parse(
            Path::new("s.toml"),
            "scenario = \"x\"\n[grid]\n\"max_delay.batch\" = [0, \"24h\", \"1w\"]\n",
        )
        .unwrap();
        let Kind::Grid(g) = &s.kind else { panic!() };
        assert_eq!(g.flags(1).label(), "--max-delay batch=24h");
        assert_eq!(g.flags(0).label(), "--max-delay batch=0");
        assert_eq!(
            err("scenario = \"x\"\n[grid]\n\"max_delay.batch\" = [24]\n"),
            "error: s.toml:3: column 'grid.max_delay.batch': --max-delay batch=24: expected a duration: 0, or a number and one unit m, h, d or w (minutes, hours, days of 24 h, weeks) such as 90m, 36h, 2d or 1w, found '24'; add a unit: 24m, 24h, 24d or 24w"
        );
    }

    #[test]
    fn bundled_sweep_files_parse() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweeps");
        let grid = read(&root.join("frontier-sensitivity.toml")).unwrap();
        let Kind::Grid(g) = &grid.kind else { panic!() };
        assert_eq!(g.points(), 36);
        let risk = read(&root.join("frontier-risk.toml")).unwrap();
        let Kind::Risk(r) = &risk.kind else { panic!() };
        assert_eq!((r.samples, r.seed, r.outages.len()), (1000, 2026, 13));
        assert!(risk.scenario.join("scenario.toml").is_file());
        // The hourly sweep draws from the same outage rows and demand sigma, fewer samples.
        let hourly = read(&root.join("frontier-hourly-risk.toml")).unwrap();
        let Kind::Risk(h) = &hourly.kind else {
            panic!()
        };
        assert_eq!((h.samples, h.seed), (200, 2026));
        // Row by row without `location`, which names each file's own lines.
        let rows = |x: &Risk| {
            x.outages
                .iter()
                .map(|o| OutageRisk {
                    location: None,
                    ..o.clone()
                })
                .collect::<Vec<_>>()
        };
        assert_eq!((rows(h), h.demand_sigma), (rows(r), r.demand_sigma));
        assert!(hourly.scenario.join("demand.csv").is_file());
    }

    #[test]
    fn errors_name_file_line_and_key() {
        assert_eq!(
            err("scenario = \"x\"\n[grid]\ndemand_scale = [1.0]\n[risk]\nsamples = 3\n"),
            "error: s.toml:4: column 'risk': a sweep file has [grid] or [risk], not both; split it into two files"
        );
        let e = err("scenario = \"x\"\n[grid]\n\"delay.aws\" = [\"ninety\"]\n");
        assert!(
            e.starts_with(
                "error: s.toml:3: column 'grid.delay.aws': --delay aws=ninety: expected a duration"
            ),
            "{e}"
        );
        let e = err("scenario = \"x\"\n[grid]\nnope = [1]\n");
        assert!(
            e.starts_with("error: s.toml:3: column 'grid.nope': unknown axis 'nope'"),
            "{e}"
        );
        let e = err("scenario = \"x\"\nsamples = 3\n[grid]\ndemand_scale = [1]\n");
        assert!(
            e.contains("s.toml:2") && e.contains("unknown field `samples`"),
            "{e}"
        );
        // The parser's errors give the column too.
        assert!(
            e.starts_with("error: s.toml:2:1: unknown field `samples`"),
            "{e}"
        );
        // Axis values read as the flags read them, percentages included.
        assert_eq!(
            err("scenario = \"x\"\n[grid]\n\"policy.max_provider_share\" = [\"40%\"]\n"),
            "error: s.toml:3: column 'grid.policy.max_provider_share': --set policy.max_provider_share=40%: expected a fraction in [0, 1], found '40%'; write fractions as decimals: 0.4"
        );
        let e = err("scenario = \"x\"\n[risk]\nsamples = 0\n");
        assert!(
            e.starts_with("error: s.toml:3: column 'risk.samples'"),
            "{e}"
        );
        let e = err("scenario = \"x\"\n[risk]\nsamples = 3\n[[risk.outage]]\nprovider = \"aws\"\nper_year = 2\nmedian_hours = 3\np95_hours = 1\n");
        assert!(
            e.contains("s.toml:4") && e.contains("median_hours <= p95_hours"),
            "{e}"
        );
        // A `/` in a risk outage's provider would be replayed as a region (issue 19).
        assert_eq!(
            err("scenario = \"x\"\n[risk]\nsamples = 3\n[[risk.outage]]\nprovider = \"aws/gov\"\nper_year = 2\nmedian_hours = 3\np95_hours = 4\n"),
            "error: s.toml:5: column 'risk.outage.provider': expected a provider name without '/', found 'aws/gov'; give the region on its own: provider = \"aws\" and region = \"gov\""
        );
        let e = err("[grid]\ndemand_scale = [1]\n");
        assert!(e.contains("missing key 'scenario'"), "{e}");
        let e = err("scenario = \"x\"\n[risk]\nsamples = 3\n[[risk.outage]]\nprovider = \"aws\"\nperyear = 2\n");
        assert!(
            e.contains("s.toml:6") && e.contains("unknown field `peryear`"),
            "{e}"
        );
    }
}
