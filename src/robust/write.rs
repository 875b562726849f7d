//! Commands stage, `capplan robust`'s files: `robust.csv` (one row per sample, both plans),
//! `robust_figures.csv` and `robust_hedge.csv`, `robust.json` and `robust.md` (the objective, the
//! bound and gap, both plans' figures in sample and on the holdout), through the one exporter;
//! the robust plan's own folder (`plan/`) is a run's files.

use serde::Serialize;

use super::{HedgeRow, PlanFigures, Robust, SampleRow};
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
        OutputFile::new("robust.csv", csv::table::<SampleRow>(&r.rows)),
        OutputFile::new("robust_figures.csv", csv::table::<PlanFigures>(&r.figures)),
        OutputFile::new("robust_hedge.csv", csv::table::<HedgeRow>(&r.hedge)),
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
    out
}
