//! Resilience stage, writing: the matrix through the exporters as `resilience.csv`,
//! `resilience.json` and `resilience.md`, and the verdict a planner reads first, in plain words
//! computed from the matrix. Pure functions of the `Resilience`, so the files are deterministic.

use serde::Serialize;

use super::{Resilience, Row};
use crate::export::markdown::{self, names_then_numbers};
use crate::export::{csv, json, text, OutputFile};
use crate::units::{fixed, human, human_dollars};

/// The files `capplan resilience` writes besides its charts.
pub const FILE_NAMES: [&str; 3] = ["resilience.csv", "resilience.json", "resilience.md"];

/// Every file of a resilience matrix (charts excluded).
pub fn files(r: &Resilience) -> Vec<OutputFile> {
    let rows = r.rows.iter().map(|row| CsvRow {
        plan: &row.plan,
        lost_provider: &row.lost_provider,
        served_pct: row.served_pct,
        worst_period_served_pct: row.worst_period_served_pct,
        unserved_tokens: row.unserved_tokens,
        dispatch_cost: row.dispatch_cost,
        plan_cost: row.plan_cost,
    });
    vec![
        OutputFile::new("resilience.csv", csv::table::<CsvRow>(rows)),
        OutputFile::new("resilience.json", resilience_json(r)),
        OutputFile::new("resilience.md", resilience_md(r)),
    ]
}

/// A row of `resilience.csv`: one plan and loss, the `none` rows included (a `Row` without the
/// worst period's label and the dispatch objective, which resilience.json carries).
#[derive(Serialize, Default)]
struct CsvRow<'a> {
    plan: &'a str,
    lost_provider: &'a str,
    served_pct: f64,
    worst_period_served_pct: Option<f64>,
    unserved_tokens: f64,
    dispatch_cost: f64,
    plan_cost: f64,
}

/// `resilience.json`: the matrix as data, floats at 12 significant digits; also what
/// `resilience --format json` prints.
pub fn resilience_json(r: &Resilience) -> String {
    json::text(r)
}

/// A percentage to one decimal, rounded down ("at least"), with solver tolerance taken out so
/// that 79.9999999884 reads 80%.
pub fn at_least_pct(v: f64) -> String {
    format!("{}%", fixed((v * 10.0 + 1e-6).floor() / 10.0))
}

fn pct(v: f64) -> String {
    at_least_pct(v)
}

/// The single-loss rows of a plan (losses named without `+`).
pub(crate) fn single_losses<'a>(r: &'a Resilience, plan: &'a str) -> impl Iterator<Item = &'a Row> {
    r.rows.iter().filter(move |x| {
        x.plan == plan && x.lost_provider != "none" && !x.lost_provider.contains('+')
    })
}

/// The worst row of an iterator: lowest served %, then lowest worst-period %.
pub(crate) fn worst<'a>(rows: impl Iterator<Item = &'a Row>) -> Option<&'a Row> {
    rows.min_by(|a, b| {
        a.served_pct
            .total_cmp(&b.served_pct)
            .then(
                a.worst_period_served_pct
                    .unwrap_or(100.0)
                    .total_cmp(&b.worst_period_served_pct.unwrap_or(100.0)),
            )
            .then(a.lost_provider.cmp(&b.lost_provider))
    })
}

/// The rules relaxed for some plans (single-cloud plans), each named once: "Planned for
/// single-cloud plans with max provider share 35% relaxed to 100%, N-1 dropped."
pub fn relaxed_note(r: &Resilience) -> Option<String> {
    let mut named = std::collections::HashSet::new();
    let rules = r.plans.iter().flat_map(|p| &p.relaxed).map(String::as_str);
    let rules: Vec<&str> = rules.filter(|x| named.insert(*x)).collect();
    let plans = r.plans.iter().filter(|p| !p.relaxed.is_empty());
    let names: Vec<&str> = plans.map(|p| p.plan.as_str()).collect();
    let who = match names.iter().all(|p| p.starts_with("single:")) {
        true => "single-cloud plans".to_string(),
        false => names.join(", "),
    };
    let note = format!("Planned for {who} with {}.", rules.join(", "));
    (!rules.is_empty()).then_some(note)
}

/// The verdict in plain words: the multi-cloud plan against the best single-cloud plan, like
/// with like (cost per million tokens served and served % with nothing lost, then the worst loss).
pub fn verdict(r: &Resilience) -> String {
    let mut out = String::new();
    let cost_per_m = |plan: &str| {
        r.plans
            .iter()
            .find(|p| p.plan == plan)
            .map_or(0.0, |p| p.cost_per_million_tokens)
    };
    let none = |plan: &str| r.row(plan, "none").map_or(0.0, |x| x.served_pct);
    if r.row("multi-cloud", "none").is_some() {
        out.push_str(&format!(
            "multi-cloud: ${:.2}/M, serves {}",
            cost_per_m("multi-cloud"),
            pct(none("multi-cloud"))
        ));
        match worst(single_losses(r, "multi-cloud")) {
            Some(w) => {
                out.push_str(&format!(
                    ", and losing any one {} still serves at least {} (worst: {}",
                    if w.lost_provider.contains('/') {
                        "provider region"
                    } else {
                        "provider"
                    },
                    pct(w.served_pct),
                    w.lost_provider
                ));
                if let (Some(period), Some(p)) = (&w.worst_period, w.worst_period_served_pct) {
                    out.push_str(&format!(", {period} at {}", pct(p)));
                }
                out.push(')');
            }
            None => out.push_str(" (one provider: nothing to lose but everything)"),
        }
        let pairs = r
            .rows
            .iter()
            .filter(|x| x.plan == "multi-cloud" && x.lost_provider.contains('+'));
        if let Some(w) = worst(pairs) {
            out.push_str(&format!(
                "; losing any two still serves at least {} (worst: {})",
                pct(w.served_pct),
                w.lost_provider
            ));
        }
        out.push('\n');
    }
    // The best single-cloud plan: most served with nothing lost, then the cheapest.
    let best = r
        .plans
        .iter()
        .filter(|p| p.plan.starts_with("single:"))
        .max_by(|a, b| {
            none(&a.plan)
                .total_cmp(&none(&b.plan))
                .then(
                    b.cost_per_million_tokens
                        .total_cmp(&a.cost_per_million_tokens),
                )
                .then(b.plan.cmp(&a.plan))
        });
    if let Some(b) = best {
        let provider = b.plan.trim_start_matches("single:");
        let own_loss = r
            .rows
            .iter()
            .filter(|x| {
                x.plan == b.plan
                    && (x.lost_provider == provider
                        || x.lost_provider.starts_with(&format!("{provider}/")))
            })
            .map(|x| x.served_pct)
            .fold(f64::INFINITY, f64::min);
        out.push_str(&format!(
            "the best single-cloud plan ({provider}) costs ${:.2}/M, serves {} with nothing lost",
            b.cost_per_million_tokens,
            pct(none(&b.plan))
        ));
        if own_loss.is_finite() {
            out.push_str(&format!(" and {} when {provider} is lost", pct(own_loss)));
        }
        out.push('\n');
    }
    out
}

/// The per-plan table: cost, served with nothing lost, and the worst single loss.
fn plan_table(r: &Resilience) -> (Vec<String>, Vec<Vec<String>>) {
    let header = [
        "plan",
        "plan cost",
        "$/M served",
        "served, nothing lost",
        "worst loss",
        "served then",
        "unserved then",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let rows = r
        .plans
        .iter()
        .map(|p| {
            let none = r.row(&p.plan, "none");
            let w = worst(single_losses(r, &p.plan));
            vec![
                p.plan.clone(),
                human_dollars(p.plan_cost),
                format!("${:.2}", p.cost_per_million_tokens),
                none.map(|x| pct(x.served_pct)).unwrap_or_default(),
                w.map(|x| x.lost_provider.clone()).unwrap_or_default(),
                w.map(|x| pct(x.served_pct)).unwrap_or_default(),
                w.map(|x| human(x.unserved_tokens)).unwrap_or_default(),
            ]
        })
        .collect();
    (header, rows)
}

/// The matrix of served %: plans × losses.
fn matrix(r: &Resilience) -> (Vec<String>, Vec<Vec<String>>) {
    let mut header = vec!["served % \\ lost".to_string()];
    header.extend(r.losses.iter().cloned());
    let rows = r
        .plans
        .iter()
        .map(|p| {
            let mut row = vec![p.plan.clone()];
            for l in &r.losses {
                row.push(
                    r.row(&p.plan, l)
                        .map(|x| pct(x.served_pct))
                        .unwrap_or_default(),
                );
            }
            row
        })
        .collect();
    (header, rows)
}

fn md_table(header: &[String], rows: &[Vec<String>]) -> String {
    markdown::table(header, &names_then_numbers(header.len()), rows)
}

/// What the numbers mean, in one paragraph (stress-test rules, availability, window).
fn rules(r: &Resilience) -> String {
    let mut out = format!(
        "Each plan is held to its own reservations and dispatched under emergency rules (no share cap, no N-1) with the lost capacity at 0 {}",
        if r.window.is_empty() {
            "for the whole horizon".to_string()
        } else {
            format!("in {}", r.window)
        }
    );
    if r.on_demand_availability < 1.0 {
        out.push_str(&format!(
            "; surviving providers' on-demand capacity at {}% during a loss",
            fixed(r.on_demand_availability * 100.0)
        ));
    }
    out.push('.');
    let with: Vec<&super::PlanSummary> = r.plans.iter().filter(|p| !p.relaxed.is_empty()).collect();
    let all_singles = r
        .plans
        .iter()
        .filter(|p| p.plan.starts_with("single:"))
        .count();
    let relaxed: Vec<String> = match with.first() {
        // The usual case: every single-cloud plan relaxes the same rules; say them once.
        Some(first)
            if with.len() == all_singles
                && with
                    .iter()
                    .all(|p| p.plan.starts_with("single:") && p.relaxed == first.relaxed) =>
        {
            vec![format!("single-cloud plans: {}", first.relaxed.join(", "))]
        }
        _ => with
            .iter()
            .map(|p| format!("{}: {}", p.plan, p.relaxed.join(", ")))
            .collect(),
    };
    if !relaxed.is_empty() {
        out.push_str(&format!(
            " Relaxed so that one provider can be planned alone: {}.",
            relaxed.join("; ")
        ));
    }
    out
}

/// The report on stdout: the verdict, the rules, the per-plan table and the matrix.
pub fn render_text(r: &Resilience) -> String {
    let (h, rows) = plan_table(r);
    let (mh, mrows) = matrix(r);
    format!(
        "{}: resilience of {} plans against {} losses\n\n{}\n{}\n\n{}\n{}",
        r.scenario,
        r.plans.len(),
        r.losses.len() - 1,
        verdict(r),
        rules(r),
        text::aligned(&h, &rows, 48),
        text::aligned(&mh, &mrows, 48)
    )
}

/// `resilience.md`.
fn resilience_md(r: &Resilience) -> String {
    let (h, rows) = plan_table(r);
    let (mh, mrows) = matrix(r);
    format!(
        "# Resilience of {}\n\n{}\n{}\n\n{}\n{}",
        markdown::escape(&r.scenario),
        verdict(r)
            .lines()
            .map(|l| format!("- {}\n", markdown::escape(l)))
            .collect::<String>(),
        markdown::escape(&rules(r)),
        md_table(&h, &rows),
        md_table(&mh, &mrows)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_labels_read_at_least() {
        assert_eq!(at_least_pct(100.0), "100%");
        assert_eq!(at_least_pct(79.9999999884), "80%");
        assert_eq!(at_least_pct(93.7484729433), "93.7%");
        assert_eq!(at_least_pct(0.0), "0%");
    }
}
