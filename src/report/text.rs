//! Report stage, text: the short report `capplan run` prints for a planner.

use super::build::{Report, ShortfallKind, ShortfallRow};
use crate::units::{fixed, grouped, human, human_dollars, period_label};

/// A period label: `2026-03` for month-long periods starting on the 1st at midnight, else the time.
fn label(report: &Report, t: usize) -> String {
    period_label(&report.period_starts[t], report.period_minutes[t])
}

fn range(report: &Report, first: usize, last: usize) -> String {
    if first == last {
        label(report, first)
    } else {
        format!("{}..{}", label(report, first), label(report, last))
    }
}

/// Runs of consecutive periods with a positive value: (first, last, peak).
fn runs(values: &[f64]) -> Vec<(usize, usize, f64)> {
    let mut out: Vec<(usize, usize, f64)> = Vec::new();
    for (t, &v) in values.iter().enumerate() {
        if v <= 0.0 {
            continue;
        }
        match out.last_mut() {
            Some((_, last, peak)) if *last + 1 == t => {
                *last = t;
                *peak = peak.max(v);
            }
            _ => out.push((t, t, v)),
        }
    }
    out
}

const MAX_LINES: usize = 12;

/// One sentence per run of consecutive periods with a shortfall of `kind`, per value of `key`
/// (the region and cause for unserved demand, the lost provider for N-1), with the run's peak.
fn shortfall_lines(
    report: &Report,
    kind: ShortfallKind,
    key: impl Fn(&ShortfallRow) -> (String, String),
    sentence: impl Fn(&str, &str, &(String, String)) -> String,
) -> Vec<String> {
    let rows: Vec<&ShortfallRow> = report
        .shortfalls
        .iter()
        .filter(|r| r.kind == kind)
        .collect();
    let mut keys: Vec<(String, String)> = rows.iter().map(|r| key(r)).collect();
    keys.sort();
    keys.dedup();
    let mut lines = Vec::new();
    for k in keys {
        let mut per_period = vec![0.0; report.period_starts.len()];
        for r in rows.iter().filter(|r| key(r) == k) {
            per_period[r.period] += r.tokens_per_minute;
        }
        for (a, b, peak) in runs(&per_period) {
            let amount = if a == b {
                human(peak)
            } else {
                format!("up to {}", human(peak))
            };
            lines.push(sentence(&range(report, a, b), &amount, &k));
        }
    }
    lines
}

/// Every shortfall in plain words: one sentence per run of periods, per region and cause for
/// unserved demand, per lost provider for N-1.
pub fn shortfall_sentences(report: &Report) -> Vec<String> {
    let mut lines = shortfall_lines(
        report,
        ShortfallKind::Unserved,
        |r| (r.region.clone(), r.cause.clone()),
        |range, amount, (region, cause)| {
            let why = match cause.as_str() {
                "" => String::new(),
                "capacity" => " (cause: not enough capacity reaches it)".to_string(),
                "share cap" => " (cause: the share cap; the capacity is there)".to_string(),
                other => format!(" (cause: {other})"),
            };
            format!("{range}: {amount} tokens/min unserved in {region}{why}")
        },
    );
    lines.extend(shortfall_lines(
        report,
        ShortfallKind::ProviderLoss,
        |r| (r.lost_provider.clone(), String::new()),
        |range, amount, (provider, _)| {
            format!("losing {provider} in {range} leaves {amount} tokens/min uncovered")
        },
    ));
    lines
}

/// What the plan reserves in GPUs, one line per provider, region, GPU type, window and block size
/// ("aws  us  4,096 H200 (512 × 8)  2026-01-01 → 2027-01-01  $1.4B"), and with whole blocks what
/// they add to the objective over fractional reservations. Empty when no tranche is in GPUs.
fn gpu_lines(report: &Report) -> String {
    let s = &report.summary;
    let mut out = String::new();
    if !s.gpu_reservations.is_empty() {
        out.push_str("\nGPUs reserved (every tranche in commitments.csv):\n");
        let rows: Vec<[String; 5]> = s
            .gpu_reservations
            .iter()
            .map(|g| {
                let what = if g.gpu.is_empty() {
                    "GPUs".to_string()
                } else {
                    g.gpu.clone()
                };
                let blocks = if g.block_gpus > 1 {
                    format!(
                        " ({} block{} of {})",
                        grouped(g.blocks),
                        if g.blocks == 1.0 { "" } else { "s" },
                        g.block_gpus
                    )
                } else {
                    String::new()
                };
                let day = |t: &str| {
                    crate::units::parse_time(t)
                        .map_or(t.to_string(), |t| crate::units::short_time(&t))
                };
                [
                    g.provider.clone(),
                    g.region.clone(),
                    format!("{} {what}{blocks}", grouped(g.gpus_reserved)),
                    format!("{} → {}", day(&g.start), day(&g.end)),
                    human_dollars(g.commit_cost),
                ]
            })
            .collect();
        let width = |i: usize| {
            rows.iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
                .min(40)
        };
        let widths = [width(0), width(1), width(2), width(3), width(4)];
        let more = rows.len().saturating_sub(MAX_LINES);
        for r in rows.iter().take(MAX_LINES) {
            let mut line = String::from(" ");
            for (i, cell) in r.iter().enumerate() {
                let pad = widths[i].saturating_sub(cell.chars().count());
                line.push(' ');
                if i == 4 {
                    line.push_str(&" ".repeat(pad));
                    line.push_str(cell);
                } else {
                    line.push_str(cell);
                    line.push_str(&" ".repeat(pad + 1));
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        if more > 0 {
            out.push_str(&format!(
                "  … and {more} more (summary.json, commitments.csv)\n"
            ));
        }
    }
    if let (Some(relaxed), Some(gap)) = (s.relaxation_objective, s.mip_gap) {
        let extra = (s.objective - relaxed).max(0.0);
        let pct = if relaxed.abs() > 0.0 {
            extra / relaxed.abs() * 100.0
        } else {
            0.0
        };
        out.push_str(&format!(
            "whole blocks add {} ({}%) to the objective over fractional reservations (the LP relaxation, {}); gap to the best bound {}\n",
            human_dollars(extra),
            fixed((pct * 100.0).round() / 100.0),
            human_dollars(relaxed),
            if gap <= 0.0 { "0".to_string() } else { format!("{gap:.1e}") },
        ));
    }
    out
}

/// The text report.
pub fn render(report: &Report) -> String {
    let s = &report.summary;
    let mut out = String::new();
    let first = report
        .period_starts
        .first()
        .map(|_| label(report, 0))
        .unwrap_or_default();
    let last = if report.period_starts.is_empty() {
        String::new()
    } else {
        label(report, report.period_starts.len() - 1)
    };
    out.push_str(&format!(
        "{}: {} periods, {first} → {last}, solved with {}\n",
        s.scenario, s.periods, s.solver
    ));
    out.push_str(&format!("policy: {}\n", s.policy.text));
    if !s.whatif_flags.is_empty() {
        out.push_str(&format!(
            "what-ifs: {}\n",
            crate::load::flags::label_of(&s.whatif_flags)
        ));
    }
    if let Some(h) = &s.held_plan {
        out.push_str(&format!(
            "held to the signed plan of '{}' ({}){}\n",
            h.scenario,
            h.commitments_sha256,
            if h.emergency {
                "; emergency rules: no share cap, no N-1"
            } else {
                ""
            }
        ));
        for o in &report.orphaned {
            out.push_str(&format!(
                "  '{}' ({}): signed commitment {} still paid, serves nothing (not in this scenario)\n",
                o.tranche,
                o.provider,
                human_dollars(o.commit_cost)
            ));
        }
    }
    out.push('\n');
    out.push_str(&format!(
        "spend        {}  (${:.2} per million tokens served)\n",
        human_dollars(s.cost),
        s.cost_per_million_tokens
    ));
    out.push_str(&format!(
        "             commit {} · usage {} · route {}\n",
        human_dollars(s.commit_cost),
        human_dollars(s.usage_cost),
        human_dollars(s.route_cost)
    ));
    out.push_str(&format!(
        "served       {}% of {} tokens",
        fixed((s.served_fraction * 1000.0).round() / 10.0),
        human(s.demand_tokens)
    ));
    if s.unserved_tokens > 0.0 {
        out.push_str(&format!(" ({} tokens unserved)", human(s.unserved_tokens)));
    }
    out.push('\n');
    if let Some(deferred) = s.deferred_tokens {
        out.push_str(&format!(
            "deferred     {} tokens served in a later period than they arrived (deferral.csv)\n",
            human(deferred)
        ));
    }
    if let Some(e) = &s.deferral_effect {
        let change = |with: f64, without: f64| {
            if without.abs() > 0.0 {
                let pct = (with - without) / without * 100.0;
                let sign = if pct < 0.0 { "−" } else { "+" };
                format!("{sign}{}%", fixed((pct.abs() * 10.0).round() / 10.0))
            } else {
                "±0%".to_string()
            }
        };
        out.push_str(&format!(
            "waiting      peak reservation {} tok/min against {} with no deferral ({}); spend {} against {} ({})\n",
            human(e.reserved_tpm_peak),
            human(e.reserved_tpm_peak_without_deferral),
            change(e.reserved_tpm_peak, e.reserved_tpm_peak_without_deferral),
            human_dollars(e.cost),
            human_dollars(e.cost_without_deferral),
            change(e.cost, e.cost_without_deferral),
        ));
    }
    let penalties = s.unserved_penalty_cost + s.resilience_penalty_cost;
    if penalties > 0.01 * s.objective {
        // Say so when penalties are a real part of it: "$1.5T" alone reads as money paid. The
        // penalties are what the objective prices shortfall at, never spend.
        let mut parts = Vec::new();
        if s.unserved_penalty_cost > 0.0 {
            // Workloads with their own penalty are priced at it, not at the policy's.
            let own = if s.policy.workload_unserved_penalties.is_empty() {
                String::new()
            } else {
                " or the workload's own (policy line)".to_string()
            };
            parts.push(format!(
                "{} for unserved demand at ${}/M{own}",
                human_dollars(s.unserved_penalty_cost),
                fixed(s.policy.unserved_penalty)
            ));
        }
        if s.resilience_penalty_cost > 0.0 {
            parts.push(format!(
                "{} for N-1 shortfall at ${}/M",
                human_dollars(s.resilience_penalty_cost),
                fixed(s.policy.resilience_penalty)
            ));
        }
        out.push_str(&format!(
            "objective    {} = spend {} + penalties {} ({}% of it: {})\n\n",
            human_dollars(s.objective),
            human_dollars(s.cost),
            human_dollars(penalties),
            fixed((penalties / s.objective * 100.0).round()),
            parts.join(", ")
        ));
    } else {
        out.push_str(&format!(
            "objective    {} (spend plus shortfall penalties)\n\n",
            human_dollars(s.objective)
        ));
    }

    // Names of any length: pad by hand (format widths are capped at u16::MAX and would panic),
    // and align on names up to 40 characters; longer ones push their own row out.
    let width = s
        .providers
        .iter()
        .map(|p| p.provider.chars().count())
        .max()
        .unwrap_or(8)
        .clamp(8, 40);
    let pad = |name: &str| {
        let n = name.chars().count();
        format!("{name}{}", " ".repeat(width.saturating_sub(n)))
    };
    out.push_str(&format!(
        "{}  {:>14}  {:>10}  {:>10}  {:>10}\n",
        pad("provider"),
        "reserved peak",
        "share peak",
        "served",
        "spend"
    ));
    for p in &s.providers {
        out.push_str(&format!(
            "{}  {:>14}  {:>10}  {:>10}  {:>10}\n",
            pad(&p.provider),
            format!("{} tok/min", human(p.reserved_tpm_peak)),
            format!("{}%", fixed((p.peak_share * 1000.0).round() / 10.0)),
            human(p.served_tokens),
            human_dollars(p.cost),
        ));
    }

    out.push_str(&gpu_lines(report));

    let lines = shortfall_sentences(report);
    if lines.is_empty() {
        out.push_str("\nno shortfalls: all demand served");
        // Only what was checked: emergency rules drop N-1, so nothing was proved about a loss.
        let emergency = s.held_plan.as_ref().is_some_and(|h| h.emergency);
        if s.policy.survive_provider_loss && !emergency {
            out.push_str(&format!(
                ", and losing any one provider still covers {}%",
                fixed(s.policy.loss_coverage * 100.0)
            ));
        }
        out.push('\n');
    } else {
        out.push_str("\nshortfalls:\n");
        let more = lines.len().saturating_sub(MAX_LINES);
        for l in lines.into_iter().take(MAX_LINES) {
            out.push_str(&format!("  {l}\n"));
        }
        if more > 0 {
            out.push_str(&format!("  … and {more} more (see shortfalls.csv)\n"));
        }
    }
    out
}
