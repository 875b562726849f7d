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

/// What `capplan resilience` wrote in `dir`, read back from its resilience.json (for `capplan
/// chart`).
pub fn read_json(dir: &std::path::Path) -> crate::error::Result<Resilience> {
    use crate::error::{Error, Location};
    let path = dir.join("resilience.json");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io(&path, e))?;
    serde_json::from_str(&text).map_err(|e| {
        Error::input(
            Location::at(&path, e.line() as u64, None),
            format!("expected resilience.json as `capplan resilience` writes it: {e}"),
        )
    })
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

/// The pair-loss rows of a plan (losses named `a+b`).
pub(crate) fn pair_losses<'a>(r: &'a Resilience, plan: &'a str) -> impl Iterator<Item = &'a Row> {
    (r.rows.iter()).filter(move |x| x.plan == plan && x.lost_provider.contains('+'))
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

/// Two served percentages are the same when they read the same ("at least", one decimal).
fn same_served(a: f64, b: f64) -> bool {
    pct(a) == pct(b)
}

/// What a plan that falls short can serve, in words: "aws alone can serve at most 54.9% of
/// demand" when its plan serves all its whole offer can, else what its plan serves (and what
/// the whole offer could).
fn falls_short(r: &Resilience, plan: &super::PlanSummary) -> String {
    let provider = plan.plan.trim_start_matches("single:");
    let none = r.row(&plan.plan, "none").map_or(0.0, |x| x.served_pct);
    match plan.max_served_pct {
        Some(most) if same_served(most, none) => {
            format!("{provider} alone can serve at most {} of demand", pct(most))
        }
        Some(most) => format!(
            "{provider}'s plan serves {} of demand (its whole offer reserved, {})",
            pct(none),
            pct(most)
        ),
        None => format!("{provider}'s plan serves {} of demand", pct(none)),
    }
}

/// The most a plan's scenario can serve with nothing lost, for ranking: what its whole offer
/// serves where measured, else what its plan serves.
fn capacity_pct(r: &Resilience, plan: &super::PlanSummary) -> f64 {
    let none = r.row(&plan.plan, "none").map_or(0.0, |x| x.served_pct);
    plan.max_served_pct.unwrap_or(none).max(none)
}

/// The verdict in plain words: the multi-cloud plan, then the single-cloud plans like with like.
/// Cost per million tokens is compared only between plans that serve the same with nothing lost;
/// a single-cloud plan that cannot serve what multi-cloud serves says how much it can, and is not
/// compared on cost.
pub fn verdict(r: &Resilience) -> String {
    let mut out = String::new();
    let cost_per_m = |plan: &str| {
        r.plans
            .iter()
            .find(|p| p.plan == plan)
            .map_or(0.0, |p| p.cost_per_million_tokens)
    };
    let none = |plan: &str| r.row(plan, "none").map_or(0.0, |x| x.served_pct);
    let multi = r.row("multi-cloud", "none").is_some();
    if multi {
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
        if let Some(w) = worst(pair_losses(r, "multi-cloud")) {
            out.push_str(&format!(
                "; losing any two still serves at least {} (worst: {})",
                pct(w.served_pct),
                w.lost_provider
            ));
        }
        out.push('\n');
    }
    // What the single-cloud plans are measured against: what multi-cloud serves with nothing
    // lost, else all the demand.
    let target = if multi { none("multi-cloud") } else { 100.0 };
    let what = if same_served(target, 100.0) {
        "the demand".to_string()
    } else {
        format!("the {} multi-cloud serves", pct(target))
    };
    let singles: Vec<&super::PlanSummary> = (r.plans.iter())
        .filter(|p| p.plan.starts_with("single:") && r.row(&p.plan, "none").is_some())
        .collect();
    // Those that serve the same, cheapest first.
    let mut same: Vec<&super::PlanSummary> = (singles.iter().copied())
        .filter(|p| same_served(none(&p.plan), target))
        .collect();
    same.sort_by(|a, b| {
        let by_cost = a
            .cost_per_million_tokens
            .total_cmp(&b.cost_per_million_tokens);
        by_cost.then(a.plan.cmp(&b.plan))
    });
    if let Some(b) = same.first() {
        let provider = b.plan.trim_start_matches("single:");
        out.push_str(&format!(
            "{provider} alone also serves {} with nothing lost, at ${:.2}/M",
            pct(none(&b.plan)),
            b.cost_per_million_tokens
        ));
        if multi {
            out.push_str(&format!(
                " against multi-cloud's ${:.2}/M",
                cost_per_m("multi-cloud")
            ));
        }
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
        if own_loss.is_finite() {
            out.push_str(&format!(", and {} when {provider} is lost", pct(own_loss)));
        }
        if same.len() > 1 {
            out.push_str(&format!(
                " (the cheapest of {} single-cloud plans that serve as much)",
                same.len()
            ));
        }
        out.push('\n');
    }
    // Those that fall short: the one that can serve the most, named with how much.
    let short = singles
        .iter()
        .copied()
        .filter(|p| none(&p.plan) < target && !same_served(none(&p.plan), target));
    let best = short.clone().max_by(|a, b| {
        capacity_pct(r, a)
            .total_cmp(&capacity_pct(r, b))
            .then(b.plan.cmp(&a.plan))
    });
    if let Some(b) = best {
        let count = short.count();
        let named = falls_short(r, b);
        if same.is_empty() {
            let most = if count > 1 {
                " (the most of any provider)"
            } else {
                ""
            };
            out.push_str(&format!(
                "no single cloud can serve {what}: {named}{most}, so no single-cloud plan is compared with {} on cost\n",
                if multi { "multi-cloud" } else { "another" }
            ));
        } else {
            out.push_str(&format!(
                "{count} other single-cloud plan{} cannot serve {what} and {} not compared on cost (the most: {named})\n",
                if count == 1 { "" } else { "s" },
                if count == 1 { "is" } else { "are" }
            ));
        }
    }
    out
}

/// What a plan can serve at most with nothing lost, for the table: 100% when its plan serves
/// all demand, else what its whole offer serves where measured.
fn most_label(r: &Resilience, p: &super::PlanSummary) -> String {
    let none = r.row(&p.plan, "none").map(|x| x.served_pct);
    match (none, p.max_served_pct) {
        (Some(n), _) if same_served(n, 100.0) => pct(100.0),
        (_, Some(most)) => pct(most),
        _ => "–".into(),
    }
}

/// The per-plan table: spend, served with nothing lost and the most it can serve, and the
/// worst single loss.
fn plan_table(r: &Resilience) -> (Vec<String>, Vec<Vec<String>>) {
    let header = [
        "plan",
        "plan spend",
        "$/M served",
        "served, nothing lost",
        "most it can serve",
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
                most_label(r, p),
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
    if !r.window.is_empty() {
        out.push_str(" A worst period is the lowest of the periods the window touches.");
    }
    out.push_str(" \"Most it can serve\" is the plan's whole offer reserved and dispatched the same way with nothing lost; $/M is compared only between plans that serve the same.");
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

    /// A matrix of multi-cloud and single-cloud plans: (plan, $/M, served with nothing lost,
    /// most it can serve, served when its own provider is lost).
    fn matrix(plans: &[(&str, f64, f64, Option<f64>, f64)]) -> Resilience {
        let mut rows = Vec::new();
        for (plan, _, none, _, own) in plans {
            let row = |lost: &str, served: f64| Row {
                plan: plan.to_string(),
                lost_provider: lost.into(),
                served_pct: served,
                worst_period_served_pct: Some(served),
                worst_period: Some("2026-02".into()),
                unserved_tokens: 0.0,
                dispatch_cost: 0.0,
                dispatch_objective: 0.0,
                plan_cost: 0.0,
            };
            rows.push(row("none", *none));
            let own_loss = plan.strip_prefix("single:").unwrap_or("x");
            rows.push(row(own_loss, *own));
        }
        Resilience {
            scenario: "s".into(),
            on_demand_availability: 1.0,
            window: String::new(),
            plans: plans
                .iter()
                .map(|(plan, cpm, _, most, _)| super::super::PlanSummary {
                    plan: plan.to_string(),
                    plan_cost: 1.0,
                    cost_per_million_tokens: *cpm,
                    relaxed: vec![],
                    max_served_pct: *most,
                })
                .collect(),
            losses: vec!["none".into()],
            rows,
        }
    }

    #[test]
    fn a_plan_that_falls_short_says_how_much_and_is_not_compared_on_cost() {
        // Its whole offer serves no more than its plan: "can serve at most".
        let r = matrix(&[
            ("multi-cloud", 1.5, 100.0, Some(100.0), 90.0),
            ("single:a", 0.4, 54.9, Some(54.9), 0.0),
            ("single:b", 0.3, 10.5, Some(10.5), 0.0),
        ]);
        let v = verdict(&r);
        assert_eq!(
            v.lines().nth(1),
            Some("no single cloud can serve the demand: a alone can serve at most 54.9% of demand (the most of any provider), so no single-cloud plan is compared with multi-cloud on cost")
        );
        assert!(!v.contains("$0.40") && !v.contains("$0.30"), "{v}");
        // Its whole offer could serve more than its plan does; or that was not measured.
        let r = matrix(&[
            ("multi-cloud", 1.5, 100.0, Some(100.0), 90.0),
            ("single:a", 0.4, 54.9, Some(80.0), 0.0),
        ]);
        assert!(
            verdict(&r).contains("a's plan serves 54.9% of demand (its whole offer reserved, 80%)")
        );
        let r = matrix(&[
            ("multi-cloud", 1.5, 100.0, Some(100.0), 90.0),
            ("single:a", 0.4, 54.9, None, 0.0),
        ]);
        assert!(verdict(&r)
            .contains("no single cloud can serve the demand: a's plan serves 54.9% of demand, so"));
    }

    #[test]
    fn plans_that_serve_as_much_are_compared_on_cost_cheapest_first() {
        let r = matrix(&[
            ("multi-cloud", 1.5, 93.0, Some(93.0), 90.0),
            ("single:a", 1.2, 93.0, Some(93.0), 0.0),
            ("single:b", 1.1, 93.0, Some(93.0), 0.0),
            ("single:c", 0.2, 20.0, Some(20.0), 0.0),
        ]);
        let v = verdict(&r);
        let lines: Vec<&str> = v.lines().skip(1).collect();
        assert_eq!(
            lines,
            [
                "b alone also serves 93% with nothing lost, at $1.10/M against multi-cloud's $1.50/M, and 0% when b is lost (the cheapest of 2 single-cloud plans that serve as much)",
                "1 other single-cloud plan cannot serve the 93% multi-cloud serves and is not compared on cost (the most: c alone can serve at most 20% of demand)",
            ]
        );
    }
}
