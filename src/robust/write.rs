//! Commands stage, `capplan robust`'s files: `robust.csv` (one row per sample, both plans),
//! `robust_figures.csv` and `robust_hedge.csv`, `robust.json` and `robust.md` (the objective, the
//! bound and gap, both plans' figures in sample and on the holdout, VSS and EVPI, the hedge in
//! words), through the one exporter; the robust plan's own folder (`plan/`) is a run's files.
//! `read_tables` reads a robust folder back for `capplan chart`.

use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{HedgeRow, PlanFigures, Robust, SampleRow, Settings, Tables};
use crate::error::{Error, Location, Result};
use crate::export::markdown::{self, Align};
use crate::export::{csv, json, OutputFile};
use crate::units::{fixed, human, human_dollars};

/// Every file `robust` writes in its folder (the plan folder is written apart).
pub const FILE_NAMES: [&str; 5] = [
    "robust.csv",
    "robust_figures.csv",
    "robust_hedge.csv",
    "robust.json",
    "robust.md",
];

/// The folder of the robust plan inside the output folder.
pub const PLAN_FOLDER: &str = "plan";

#[derive(Serialize)]
struct Json<'a> {
    sweep: &'a str,
    scenario: &'a str,
    kind: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    seed: Option<u64>,
    samples: u64,
    holdout: u64,
    risk_weight: f64,
    cvar_alpha: f64,
    emergency: bool,
    /// R at the robust plan, in sample, $.
    objective: f64,
    /// R at the deterministic plan, in sample, $.
    deterministic_objective: f64,
    /// The robust plan's mean and CVaR of the total, in sample, $.
    mean_total: f64,
    cvar_total: f64,
    /// The robust plan's mean spend (commit + usage + route, no penalties), in sample, $.
    mean_spend: f64,
    /// Mean total of the deterministic plan − of the robust plan, in sample, $.
    vss: f64,
    /// With `--evpi`: mean total of the robust plan − mean of the samples' re-planned optima, in
    /// sample, $; and that mean of the optima.
    #[serde(skip_serializing_if = "Option::is_none")]
    evpi: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    replanned_mean_total: Option<f64>,
    bound: f64,
    relative_gap: f64,
    iterations: usize,
    evaluations: usize,
    cuts: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    relaxation_objective: Option<f64>,
    plans: &'a [PlanFigures],
    /// Where the robust plan's folder is, relative to this file.
    plan_folder: &'a str,
}

pub fn robust_json(r: &Robust) -> String {
    let robust = r.figure("robust", "in_sample");
    json::text(&Json {
        sweep: &r.sweep,
        scenario: &r.scenario,
        kind: &r.kind,
        seed: r.seed,
        samples: r.settings.samples,
        holdout: r.settings.holdout,
        risk_weight: r.settings.risk_weight,
        cvar_alpha: r.settings.cvar_alpha,
        emergency: r.settings.emergency,
        objective: r.objective,
        deterministic_objective: r.deterministic_objective,
        mean_total: robust.mean_total,
        cvar_total: robust.cvar_total,
        mean_spend: robust.mean_spend,
        vss: r.vss(),
        evpi: r.evpi,
        replanned_mean_total: r.evpi.map(|e| robust.mean_total - e),
        bound: r.bound,
        relative_gap: r.relative_gap,
        iterations: r.convergence.iterations,
        evaluations: r.convergence.evaluations,
        cuts: r.convergence.cuts,
        relaxation_objective: r.convergence.relaxation_objective,
        plans: &r.figures,
        plan_folder: PLAN_FOLDER,
    })
}

/// `robust.md`: what was solved, both plans side by side, the hedge.
pub fn robust_md(r: &Robust) -> String {
    let s = &r.settings;
    let mut out = format!("# Robust plan: {}\n\n", r.sweep);
    out.push_str(&format!(
        "Scenario `{}`, {} {} sample(s) planned on{}; R = (1 − {w})·mean + {w}·CVaR_{a} of the total; samples {} emergency rules.\n\n",
        r.scenario,
        s.samples,
        r.kind,
        if s.holdout > 0 {
            format!(", {} held out", s.holdout)
        } else {
            String::new()
        },
        if s.emergency { "under" } else { "without" },
        w = fixed(s.risk_weight),
        a = fixed(s.cvar_alpha),
    ));
    out.push_str(&format!(
        "Robust objective {} (bound {}, relative gap {:.1e}); the deterministic plan's {}. VSS (mean total saved) {}.\n\n",
        human_dollars(r.objective),
        human_dollars(r.bound),
        r.relative_gap,
        human_dollars(r.deterministic_objective),
        human_dollars(r.vss()),
    ));
    out.push_str(&evpi_words(
        r.evpi,
        r.figure("robust", "in_sample").mean_total,
        s,
    ));
    out.push_str("Total = spend + penalties; spend = commit + usage + route.\n\n");
    let header = [
        "plan",
        "samples",
        "objective",
        "mean total",
        "P50 total",
        "P95 total",
        "P99 total",
        "CVaR total",
        "mean spend",
        "mean unserved tokens",
        "P95 unserved tokens",
    ];
    let rows: Vec<Vec<String>> = r
        .figures
        .iter()
        .map(|f| {
            vec![
                format!("{} ({})", f.plan, f.set.replace('_', " ")),
                f.samples.to_string(),
                human_dollars(f.objective),
                human_dollars(f.mean_total),
                human_dollars(f.p50_total),
                human_dollars(f.p95_total),
                human_dollars(f.p99_total),
                human_dollars(f.cvar_total),
                human_dollars(f.mean_spend),
                human(f.mean_unserved_tokens),
                human(f.p95_unserved_tokens),
            ]
        })
        .collect();
    out.push_str(&markdown::table(
        &header,
        &markdown::names_then_numbers(header.len()),
        &rows,
    ));
    out.push_str("\n## The hedge\n\n");
    let header = [
        "tranche",
        "provider",
        "region",
        "robust reserved",
        "deterministic reserved",
        "change tok/min",
        "change commitment",
    ];
    let mut align = vec![Align::Left; 3];
    align.extend([Align::Right; 4]);
    let rows: Vec<Vec<String>> = r
        .hedge
        .iter()
        .map(|h| {
            vec![
                h.tranche.clone(),
                h.provider.clone(),
                h.region.clone(),
                fixed(h.robust_reserved_fraction),
                fixed(h.deterministic_reserved_fraction),
                human(h.change_tpm),
                human_dollars(h.change_commit_cost),
            ]
        })
        .collect();
    out.push_str(&markdown::table(&header, &align, &rows));
    let words: Vec<&HedgeRow> = r.hedge.iter().filter(|h| !h.why.is_empty()).collect();
    if words.is_empty() {
        out.push_str("\nBoth plans reserve the same on every tranche.\n");
    } else {
        out.push_str(&format!(
            "\nIn words (over the {} planning samples; a change is used in a sample when the plan that has it dispatches more on the tranche, in some period, than the other plan reserved):\n\n",
            s.samples
        ));
        for h in words {
            out.push_str(&format!("- `{}` {}\n", h.tranche, h.why));
        }
    }
    out.push_str(&format!(
        "\nThe robust plan is the folder `{PLAN_FOLDER}/`; each row of `robust.csv` replays with `capplan run {} --reservations-from {PLAN_FOLDER}{} <flags>`.\n",
        r.scenario,
        if s.emergency { " --emergency" } else { "" },
    ));
    out
}

/// The files of the robust folder.
pub fn files(r: &Robust) -> Vec<OutputFile> {
    vec![
        OutputFile::new(
            "robust.csv",
            csv::table_of::<SampleRow>(&SampleRow::columns(&r.rows), &r.rows),
        ),
        OutputFile::new("robust_figures.csv", csv::table::<PlanFigures>(&r.figures)),
        OutputFile::new(
            "robust_hedge.csv",
            csv::table_of::<HedgeRow>(&HedgeRow::columns(&r.hedge), &r.hedge),
        ),
        OutputFile::new("robust.json", robust_json(r)),
        OutputFile::new("robust.md", robust_md(r)),
    ]
}

/// The text on stdout.
pub fn render_text(r: &Robust) -> String {
    // Spend (what someone pays) and unserved tokens first; the objective, which prices unserved
    // tokens at the penalty, only in its own clearly named line.
    let mut out = format!(
        "robust plan for {} ({} samples, W {}, α {}), robust vs deterministic plan:\n",
        r.sweep,
        r.settings.samples,
        fixed(r.settings.risk_weight),
        fixed(r.settings.cvar_alpha),
    );
    let mut set = |name: &str, label: String| {
        let rb = r.figure("robust", name);
        let det = r.figure("deterministic", name);
        out.push_str(&format!(
            "  {label}: mean spend {} vs {}; mean unserved {} vs {} tokens (CVaR {} vs {}); objective incl. penalties: mean {} vs {}, CVaR {} vs {}\n",
            human_dollars(rb.mean_spend),
            human_dollars(det.mean_spend),
            human(rb.mean_unserved_tokens),
            human(det.mean_unserved_tokens),
            human(rb.cvar_unserved_tokens),
            human(det.cvar_unserved_tokens),
            human_dollars(rb.mean_total),
            human_dollars(det.mean_total),
            human_dollars(rb.cvar_total),
            human_dollars(det.cvar_total),
        ));
    };
    set("in_sample", "in sample".to_string());
    if r.settings.holdout > 0 {
        set(
            "holdout",
            format!("holdout ({})", r.figure("robust", "holdout").samples),
        );
    }
    out.push_str(&format!(
        "  robust objective R incl. penalties {} (bound {}, gap {:.1e}); the deterministic plan's {}\n",
        human_dollars(r.objective),
        human_dollars(r.bound),
        r.relative_gap,
        human_dollars(r.deterministic_objective),
    ));
    out.push_str(&format!(
        "  VSS {} (mean total incl. penalties the robust plan saves in sample)",
        human_dollars(r.vss())
    ));
    match r.evpi {
        Some(e) => out.push_str(&format!(
            "; EVPI {} (mean total above each sample's own re-planned optimum)\n",
            human_dollars(e)
        )),
        None => out.push_str("; EVPI not computed (--evpi)\n"),
    }
    // The hedge in words, largest changes of commitment first.
    let mut words: Vec<&HedgeRow> = r.hedge.iter().filter(|h| !h.why.is_empty()).collect();
    words.sort_by(|a, b| {
        b.change_commit_cost
            .abs()
            .total_cmp(&a.change_commit_cost.abs())
            .then_with(|| a.tranche.cmp(&b.tranche))
    });
    match words.len() {
        0 => out.push_str("  the hedge: both plans reserve the same on every tranche\n"),
        count => {
            out.push_str("  the hedge:\n");
            for h in words.iter().take(TEXT_HEDGE_LINES) {
                out.push_str(&format!("    {} {}\n", h.tranche, h.why));
            }
            if count > TEXT_HEDGE_LINES {
                out.push_str(&format!(
                    "    and {} more tranche(s) in robust.md\n",
                    count - TEXT_HEDGE_LINES
                ));
            }
        }
    }
    out
}

/// Tranches whose hedge the terminal report words (the rest are in robust.md).
const TEXT_HEDGE_LINES: usize = 5;

/// The EVPI paragraph of robust.md: its value and definition, or how to have it.
fn evpi_words(evpi: Option<f64>, robust_mean: f64, s: &Settings) -> String {
    let Some(e) = evpi else {
        return "EVPI was not computed (`--evpi` or `[robust] evpi = true` re-plans every planning sample on its own).\n\n".into();
    };
    let mut out = format!(
        "EVPI {}: the robust plan's mean total {} less the mean of the samples' re-planned optima {}. A sample's re-planned optimum is the least total it could have with reservations chosen for it alone (the same choices: min_commit, whole blocks, {} emergency rules), what perfect foresight of that sample would be worth.",
        human_dollars(e),
        human_dollars(robust_mean),
        human_dollars(robust_mean - e),
        if s.emergency { "under" } else { "without" },
    );
    if s.risk_weight > 0.0 {
        out.push_str(" With W > 0 it is still a difference of mean totals: it includes the mean the robust plan gives up for a lower CVaR.");
    }
    out.push_str("\n\n");
    out
}

/// What `robust.json` carries that the charts need.
#[derive(Deserialize)]
struct JsonBack {
    sweep: String,
    scenario: String,
    kind: String,
    samples: u64,
    holdout: u64,
    risk_weight: f64,
    cvar_alpha: f64,
    emergency: bool,
    #[serde(default)]
    evpi: Option<f64>,
    plans: Vec<PlanFigures>,
}

/// Reads a robust folder's tables back (`robust.json`, `robust.csv`, `robust_hedge.csv`): what
/// the charts are drawn from.
pub fn read_tables(dir: &Path) -> Result<Tables> {
    let path = dir.join("robust.json");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    let j: JsonBack = serde_json::from_str(&text).map_err(|e| {
        Error::input(
            Location::at(&path, e.line() as u64, None),
            format!("expected robust.json as `capplan robust` writes it: {e}"),
        )
    })?;
    let rows: Vec<SampleRow> =
        crate::report::write::read_rows(&dir.join("robust.csv"), "capplan robust")?;
    let hedge: Vec<HedgeRow> =
        crate::report::write::read_rows(&dir.join("robust_hedge.csv"), "capplan robust")?;
    Ok(Tables {
        sweep: j.sweep,
        scenario: j.scenario,
        kind: j.kind,
        settings: Settings {
            risk_weight: j.risk_weight,
            cvar_alpha: j.cvar_alpha,
            samples: j.samples,
            holdout: j.holdout,
            emergency: j.emergency,
            evpi: j.evpi.is_some(),
        },
        evpi: j.evpi,
        figures: j.plans,
        rows,
        hedge,
    })
}
