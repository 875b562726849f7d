//! Resilience stage: what multi-cloud buys, measured as plans × lost providers.
//!
//! Each plan has its own plan scenario, in which it is planned *and* stressed:
//! - `multi-cloud`: the scenario itself, planned as `run` plans it;
//! - `single:<p>`: the scenario with only p's tranches, `max_provider_share = 1` and
//!   `survive_provider_loss = false` (one provider cannot satisfy them, so they are relaxed, and
//!   the report says so); a single-cloud lab has no account elsewhere to rescue it;
//! - extra plans: `all-but:<p>` (p excluded), another scenario folder (its own scenario and
//!   plan), or a run's output folder (its reservations held under this scenario).
//!
//! The stress test "lose q" sets every tranche of q to capacity factor 0 for the whole horizon
//! (or a window, prorated like any outage) in the plan scenario, then dispatches the plan's held
//! reservations under emergency rules — exactly `run <plan scenario> --reservations-from <plan>
//! --emergency --outage q@<start>..<end>`: no share cap, no N-1; the unserved penalty, routes and
//! route costs apply. With an on-demand availability F < 1, every surviving provider's on-demand
//! tranches keep only F of their capacity during the loss (everyone else rushes to the same
//! pools); where that meets an outage of the scenario, the smaller factor applies. The row with
//! nothing lost (`none`) is the same held dispatch under the same emergency rules without any
//! loss (and without the rush), so every loss row is comparable with it.

pub mod write;

use std::path::PathBuf;

use chrono::{DateTime, Utc};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{Diagnostic, Error, Result};
use crate::facts::Facts;
use crate::load::signed::{CommitmentRow, SignedPlan};
use crate::model::solve::SolverKind;
use crate::pipeline::Planning;
use crate::report::build::Report;
use crate::scenario::{Outage, Scenario};

/// One plan of the matrix, as requested.
#[derive(Debug, Clone, PartialEq)]
pub enum PlanSpec {
    MultiCloud,
    Single(String),
    AllBut(String),
    /// Another scenario folder: its own scenario, planned and stressed.
    Folder(PathBuf),
    /// A run's output folder: its reservations held under this scenario.
    Output(PathBuf),
}

impl PlanSpec {
    /// Parses a `--plans` item: `all-but:<p>`, `single:<p>`, `multi-cloud`, or a folder.
    pub fn parse(text: &str) -> PlanSpec {
        if text == "multi-cloud" {
            PlanSpec::MultiCloud
        } else if let Some(p) = text.strip_prefix("single:") {
            PlanSpec::Single(p.to_string())
        } else if let Some(p) = text.strip_prefix("all-but:") {
            PlanSpec::AllBut(p.to_string())
        } else {
            let path = PathBuf::from(text);
            if path.join("summary.json").is_file() && !path.join("demand.csv").is_file() {
                PlanSpec::Output(path)
            } else {
                PlanSpec::Folder(path)
            }
        }
    }
}

/// What to measure.
#[derive(Debug, Clone)]
pub struct Request {
    /// The scenario, what-ifs applied.
    pub scenario: Scenario,
    /// Extra plans besides multi-cloud and every single:<p>.
    pub extra_plans: Vec<PlanSpec>,
    /// The loss window; None = the whole horizon.
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// Losses are (provider, region) pairs instead of providers.
    pub by_region: bool,
    /// Also every pair of losses.
    pub lose_two: bool,
    /// Fraction of surviving providers' on-demand capacity left during a loss.
    pub on_demand_availability: f64,
    pub solver: SolverKind,
}

/// One thing lost: a provider, or a provider in one region.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Loss {
    pub provider: String,
    pub region: Option<String>,
}

impl Loss {
    fn name(&self) -> String {
        match &self.region {
            None => self.provider.clone(),
            Some(r) => format!("{}/{r}", self.provider),
        }
    }
}

/// The name of a set of losses: `none`, `aws`, `aws/us-east`, `aws+gcp` (sorted).
fn loss_name(losses: &[Loss]) -> String {
    if losses.is_empty() {
        "none".into()
    } else {
        losses.iter().map(Loss::name).collect::<Vec<_>>().join("+")
    }
}

/// One row of `resilience.csv`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Row {
    pub plan: String,
    pub lost_provider: String,
    /// served ÷ demand tokens over the horizon, % (100 without demand).
    pub served_pct: f64,
    /// The lowest period's served ÷ demand, %; None when no period has demand.
    pub worst_period_served_pct: Option<f64>,
    /// Label of that period.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub worst_period: Option<String>,
    pub unserved_tokens: f64,
    /// commit + usage + route of the stressed dispatch (no penalties), $.
    pub dispatch_cost: f64,
    /// The dispatch's objective (cost plus penalties), $.
    pub dispatch_objective: f64,
    /// The plan's own commit + usage + route under the normal policy, as `run` reports it, $.
    pub plan_cost: f64,
}

/// A plan of the matrix with what it costs under its normal policy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanSummary {
    pub plan: String,
    /// Spend (commit + usage + route) under the normal policy, $; no penalties.
    pub plan_cost: f64,
    /// $ per million tokens served under the normal policy.
    pub cost_per_million_tokens: f64,
    /// Policy rules relaxed for this plan (single-cloud plans), in words.
    pub relaxed: Vec<String>,
    /// The most of the demand its plan scenario can serve, %: every tranche of it reserved in
    /// full and dispatched under emergency rules with nothing lost. Measured only where serving
    /// a token always costs less than leaving it unserved (every flow price below the unserved
    /// penalty of the demand it may serve), so the dispatch serves all it can; None otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_served_pct: Option<f64>,
}

/// The matrix.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resilience {
    pub scenario: String,
    pub on_demand_availability: f64,
    /// Loss window as text, or empty for the whole horizon.
    pub window: String,
    pub plans: Vec<PlanSummary>,
    /// The loss names, `none` first.
    pub losses: Vec<String>,
    /// Sorted by plan (in plan order) and loss (in loss order).
    pub rows: Vec<Row>,
}

impl Resilience {
    /// Every number rounded to the 12 significant digits the files carry, so what is drawn and
    /// said from the matrix in memory is what its resilience.json gives back (`capplan chart`).
    fn round(&mut self) {
        let r = |x: &mut f64| *x = crate::units::fixed(*x).parse().unwrap_or(*x);
        r(&mut self.on_demand_availability);
        for p in &mut self.plans {
            r(&mut p.plan_cost);
            r(&mut p.cost_per_million_tokens);
            p.max_served_pct.as_mut().map(r);
        }
        for x in &mut self.rows {
            r(&mut x.served_pct);
            x.worst_period_served_pct.as_mut().map(r);
            r(&mut x.unserved_tokens);
            r(&mut x.dispatch_cost);
            r(&mut x.dispatch_objective);
            r(&mut x.plan_cost);
        }
    }

    pub fn row(&self, plan: &str, lost: &str) -> Option<&Row> {
        self.rows
            .iter()
            .find(|r| r.plan == plan && r.lost_provider == lost)
    }
}

/// A plan ready to stress: its name, plan scenario, signed reservations and the warnings of a
/// scenario folder loaded for it.
struct Planned {
    name: String,
    scenario: Scenario,
    signed: SignedPlan,
    summary: PlanSummary,
    warnings: Vec<Diagnostic>,
}

/// Plans every plan (in parallel), then runs every stress test (in parallel), calling `done`
/// after each solve. Returns the matrix and the warnings of the scenario folders of `--plans`.
pub fn measure(
    request: &Request,
    done: &(dyn Fn() + Sync),
) -> Result<(Resilience, Vec<Diagnostic>)> {
    let s = &request.scenario;
    let mut specs = vec![PlanSpec::MultiCloud];
    specs.extend(s.providers().into_iter().map(PlanSpec::Single));
    for extra in &request.extra_plans {
        if !specs.contains(extra) {
            specs.push(extra.clone());
        }
    }
    for spec in &specs {
        if let PlanSpec::Single(p) | PlanSpec::AllBut(p) = spec {
            if !s.providers().contains(p) {
                return Err(Error::Usage(format!(
                    "--plans: provider '{p}' matches no provider of the scenario; expected one of {}",
                    crate::error::list(&s.providers())
                )));
            }
        }
    }
    let planned: Vec<Result<Planned>> = specs
        .par_iter()
        .map(|spec| {
            let p = plan(s, spec, request.solver);
            done();
            p
        })
        .collect();
    let planned: Vec<Planned> = planned.into_iter().collect::<Result<_>>()?;

    let losses = losses(s, request.by_region, request.lose_two);
    let (start, end) = match request.window {
        Some(w) => w,
        None => (
            s.horizon_start().expect("a scenario has periods"),
            s.horizon_end().expect("a scenario has periods"),
        ),
    };
    let jobs: Vec<(usize, &Vec<Loss>)> = (0..planned.len())
        .flat_map(|i| losses.iter().map(move |l| (i, l)))
        .collect();
    let window = request.window;
    let rows: Vec<Result<Row>> = jobs
        .par_iter()
        .map(|&(i, lost)| {
            let p = &planned[i];
            let stressed = stress(
                &p.scenario,
                lost,
                start,
                end,
                request.on_demand_availability,
            );
            let stressed = Planning::of(stressed).hold(&p.signed, true, request.solver)?;
            done();
            Ok(row(p, lost, &stressed.report, window))
        })
        .collect();
    // The most each plan scenario can serve: its whole offer held, nothing lost.
    let most: Vec<Result<Option<f64>>> = planned
        .par_iter()
        .map(|p| {
            let most = max_served_pct(&p.scenario, request.solver);
            done();
            most
        })
        .collect();
    let mut planned = planned;
    for (p, most) in planned.iter_mut().zip(most) {
        p.summary.max_served_pct = most?;
    }
    let rows = rows.into_iter().collect::<Result<Vec<Row>>>()?;
    let warnings = planned.iter().flat_map(|p| p.warnings.clone()).collect();
    let mut matrix = Resilience {
        scenario: s.name.clone(),
        on_demand_availability: request.on_demand_availability,
        window: request
            .window
            .map(|(a, b)| {
                format!(
                    "{}..{}",
                    crate::units::format_time(&a),
                    crate::units::format_time(&b)
                )
            })
            .unwrap_or_default(),
        plans: planned.iter().map(|p| p.summary.clone()).collect(),
        losses: losses.iter().map(|l| loss_name(l)).collect(),
        rows,
    };
    matrix.round();
    Ok((matrix, warnings))
}

/// How many solves `measure` makes (for a progress bar).
pub fn solve_count(request: &Request) -> usize {
    let s = &request.scenario;
    let plans = 1 + s.providers().len() + request.extra_plans.len();
    // Each plan, its whole offer, and each loss.
    2 * plans + plans * losses(s, request.by_region, request.lose_two).len()
}

/// Every set of losses: none, each single loss, and with `lose_two` each pair.
fn losses(s: &Scenario, by_region: bool, lose_two: bool) -> Vec<Vec<Loss>> {
    let mut singles: Vec<Loss> = s
        .tranches
        .iter()
        .map(|k| Loss {
            provider: k.provider.clone(),
            region: by_region.then(|| k.region.clone()),
        })
        .collect();
    singles.sort();
    singles.dedup();
    let mut out = vec![Vec::new()];
    out.extend(singles.iter().map(|l| vec![l.clone()]));
    if lose_two {
        for i in 0..singles.len() {
            for j in i + 1..singles.len() {
                out.push(vec![singles[i].clone(), singles[j].clone()]);
            }
        }
    }
    out
}

/// The plan scenario of a spec, planned (or held, for an output folder) under its normal policy.
fn plan(s: &Scenario, spec: &PlanSpec, solver: SolverKind) -> Result<Planned> {
    let mut warnings = Vec::new();
    let (name, scenario, relaxed, held): (String, Scenario, Vec<String>, Option<SignedPlan>) =
        match spec {
            PlanSpec::MultiCloud => ("multi-cloud".into(), s.clone(), vec![], None),
            PlanSpec::Single(p) => {
                let mut one = crate::whatif::only_providers(s.clone(), std::slice::from_ref(p));
                let mut relaxed = Vec::new();
                if one.policy.max_provider_share < 1.0 {
                    relaxed.push(format!(
                        "max provider share {}% relaxed to 100%",
                        crate::units::fixed(one.policy.max_provider_share * 100.0)
                    ));
                    one.policy.max_provider_share = 1.0;
                }
                if one.policy.survive_provider_loss {
                    relaxed.push("N-1 dropped".into());
                    one.policy.survive_provider_loss = false;
                }
                (format!("single:{p}"), one, relaxed, None)
            }
            PlanSpec::AllBut(p) => (
                format!("all-but:{p}"),
                crate::whatif::exclude_providers(s.clone(), std::slice::from_ref(p)),
                vec![],
                None,
            ),
            PlanSpec::Folder(dir) => {
                let other = Planning::load(dir, &Default::default())?;
                warnings = other.warnings;
                (other.scenario.name.clone(), other.scenario, vec![], None)
            }
            PlanSpec::Output(dir) => {
                let signed = crate::load::signed::read_signed_plan(dir)?;
                (
                    format!("{} (held)", signed.scenario),
                    s.clone(),
                    vec![],
                    Some(signed),
                )
            }
        };
    let planning = Planning::of(scenario);
    let (solved, signed) = match held {
        None => {
            let solved = planning.plan(solver)?;
            let signed = solved.signed_plan();
            (solved, signed)
        }
        Some(signed) => (planning.hold(&signed, false, solver)?, signed),
    };
    let report = &solved.report;
    Ok(Planned {
        summary: PlanSummary {
            plan: name.clone(),
            plan_cost: report.summary.cost,
            cost_per_million_tokens: report.summary.cost_per_million_tokens,
            relaxed,
            max_served_pct: None,
        },
        name,
        scenario: planning.scenario,
        signed,
        warnings,
    })
}

/// The plan scenario with `lost` at factor 0 over [start, end), and the rush on the surviving
/// providers' on-demand tranches.
pub fn stress(
    s: &Scenario,
    lost: &[Loss],
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    on_demand_availability: f64,
) -> Scenario {
    let mut out = s.clone();
    for l in lost {
        out = crate::whatif::add_outage(
            out,
            Outage {
                provider: l.provider.clone(),
                region: l.region.clone(),
                tranche: None,
                start,
                end,
                capacity_factor: 0.0,
            },
        );
    }
    if !lost.is_empty() && on_demand_availability < 1.0 {
        let facts = Facts::of(s);
        for (k, tranche) in s.tranches.iter().enumerate() {
            let is_lost = lost.iter().any(|l| {
                l.provider == tranche.provider
                    && l.region.as_ref().is_none_or(|r| *r == tranche.region)
            });
            if !is_lost && !facts.tranches[k].has_reservation_decision {
                out = crate::whatif::add_outage(
                    out,
                    Outage {
                        provider: tranche.provider.clone(),
                        region: Some(tranche.region.clone()),
                        tranche: Some(tranche.name.clone()),
                        start,
                        end,
                        capacity_factor: on_demand_availability,
                    },
                );
            }
        }
    }
    out
}

/// What the plan scenario `s` can serve at most, %: every tranche with a reservation decision
/// held in full (on-demand tranches are there anyway) and dispatched under emergency rules with
/// nothing lost. None unless every flow price is below the unserved penalty of each demand class
/// the tranche may serve: only then does the dispatch serve every token it can.
fn max_served_pct(s: &Scenario, solver: SolverKind) -> Result<Option<f64>> {
    let planning = Planning::of(s.clone());
    let facts = &planning.facts;
    let pays = facts.classes.iter().all(|c| {
        let serving = facts.tranches.iter().filter(|k| k.serves(c));
        serving
            .filter_map(|k| k.flow_price(c.region))
            .all(|price| price < c.unserved_penalty)
    });
    if !pays {
        return Ok(None);
    }
    let rows: Vec<CommitmentRow> = s
        .tranches
        .iter()
        .zip(&facts.tranches)
        .filter(|(_, f)| f.has_reservation_decision)
        .map(|(t, _)| CommitmentRow {
            tranche: t.name.clone(),
            provider: t.provider.clone(),
            region: t.region.clone(),
            reserved_fraction: 1.0,
            ..CommitmentRow::default()
        })
        .collect();
    let bytes = crate::report::write::commitments_csv(&rows);
    let whole = SignedPlan::of_run(&s.name, &rows, &bytes);
    let solved = planning.hold(&whole, true, solver)?;
    Ok(Some(solved.report.summary.served_fraction * 100.0))
}

fn row(p: &Planned, lost: &[Loss], report: &Report, window: Option<Window>) -> Row {
    let s = &report.summary;
    let worst = worst_period(report, window);
    Row {
        plan: p.name.clone(),
        lost_provider: loss_name(lost),
        served_pct: s.served_fraction * 100.0,
        worst_period_served_pct: worst.as_ref().map(|(_, pct)| *pct),
        worst_period: worst.map(|(label, _)| label),
        unserved_tokens: s.unserved_tokens,
        dispatch_cost: s.cost,
        dispatch_objective: s.objective,
        plan_cost: p.summary.plan_cost,
    }
}

/// A loss window: [start, end).
type Window = (DateTime<Utc>, DateTime<Utc>);

/// The lowest period's served ÷ demand (%) with its label; periods without demand skipped, and
/// with a loss window only the periods that overlap it (the loss is nowhere else).
fn worst_period(report: &Report, window: Option<Window>) -> Option<(String, f64)> {
    let mut totals = crate::report::tables::period_totals(&report.charts.region_periods);
    if let Some((start, end)) = window {
        totals.retain(|t| {
            let until = t.period + chrono::Duration::seconds((t.minutes * 60.0).round() as i64);
            t.period < end && until > start
        });
    }
    crate::report::tables::worst_period(&totals)
        .map(|(t, pct)| (crate::units::period_label(&t.period, t.minutes), pct))
}
