//! Deferral (issue 21): tokens of a workload with `max_delay` may be served in a later period than
//! they arrive. Optima worked out by hand on tiny 6-hour grids, on every backend compiled in; the
//! plan's invariants per arrival cell; the CLI's refusals and files; a property test against the
//! plan without deferral.

use std::path::Path;

use proptest::prelude::*;

use crate::common::{capplan, rel, Folder};
use capplan::model::solve::{Method, SolverKind};
use capplan::pipeline::{run_with, Outcome, RunOptions};

/// The plan of a folder by `solver` (the monolithic LP with deferral), with `--max-delay` flags.
fn plan(folder: &Path, solver: SolverKind, max_delays: &[&str]) -> Outcome {
    plan_with(folder, Method::Monolithic, solver, max_delays)
}

/// The plan of a folder by `method` (the default build's backend for the monolithic LP).
fn plan_by(folder: &Path, method: Method, max_delays: &[&str]) -> Outcome {
    plan_with(folder, method, SolverKind::default_kind(), max_delays)
}

fn plan_with(folder: &Path, method: Method, solver: SolverKind, max_delays: &[&str]) -> Outcome {
    let flags = capplan::load::flags::WhatIfFlags {
        max_delay: max_delays.iter().map(|d| d.to_string()).collect(),
        ..Default::default()
    }
    .read();
    let options = RunOptions {
        flags,
        method,
        explain_shortfalls: true,
        ..RunOptions::plan(solver)
    };
    run_with(folder, &options)
        .unwrap_or_else(|e| panic!("{} {}: {e}", method.name(), solver.name()))
}

/// Checks the objective on every backend against `expected` dollars, and each plan's invariants;
/// hands each outcome to `check`.
#[track_caller]
fn solve_all(folder: &Path, expected: f64, check: impl Fn(&Outcome)) {
    for solver in SolverKind::available() {
        let out = plan(folder, solver, &[]);
        let got = out.report.summary.objective;
        assert!(
            rel(got, expected) < 1e-7,
            "{}: objective {got}, expected {expected}",
            solver.name()
        );
        obeys_the_model(&out);
        check(&out);
    }
}

/// Every number of the plan obeys the model: flows inside their arrival's window; per arrival
/// cell, served (over its window) + unserved = demand; per (service period, tranche), served ≤
/// A·cap·z; with a share cap, per (service period, provider), served ≤ s · B(t′).
#[track_caller]
fn obeys_the_model(out: &Outcome) {
    let (facts, plan) = (&out.facts, &out.plan);
    let n_t = facts.period_count();
    let n_c = facts.classes.len();
    let mut served = vec![vec![0.0; n_c]; n_t];
    let mut used = vec![vec![0.0; facts.tranches.len()]; n_t];
    let mut by_provider = vec![vec![0.0; facts.providers.len()]; n_t];
    let mut base = vec![0.0; n_t];
    for x in &plan.flows {
        assert!(x.arrival <= x.period, "{x:?}");
        assert!(
            x.period.0 <= facts.service_last[x.class.0][x.arrival.0],
            "{x:?}"
        );
        assert!(x.tokens_per_minute > 0.0, "{x:?}");
        served[x.arrival.0][x.class.0] += facts.tokens(x.period, x.tokens_per_minute);
        used[x.period.0][x.tranche.0] += x.tokens_per_minute;
        by_provider[x.period.0][facts.tranches[x.tranche.0].provider.0] += x.tokens_per_minute;
        base[x.period.0] += x.tokens_per_minute;
    }
    for u in &plan.unserved {
        served[u.period.0][u.class.0] += facts.tokens(u.period, u.tokens_per_minute);
        base[u.period.0] += u.tokens_per_minute;
    }
    for t in 0..n_t {
        for c in 0..n_c {
            let d = facts.tokens(capplan::facts::PeriodId(t), facts.class_demand_tpm[t][c]);
            assert!(
                (served[t][c] - d).abs() <= 1e-9 * d.max(1.0),
                "arrival {t}, class {c}: served + unserved {} ≠ demand {d}",
                served[t][c]
            );
        }
        for (k, tranche) in plan.tranches.iter().enumerate() {
            let z = if tranche.has_reservation_decision {
                tranche.reserved_fraction
            } else {
                1.0
            };
            let cap = facts.available_tpm[t][k] * z;
            assert!(
                used[t][k] <= cap * (1.0 + 1e-9),
                "period {t}, {}: {} > {cap}",
                tranche.name,
                used[t][k]
            );
        }
        let share = out.scenario.policy.max_provider_share;
        if share < 1.0 {
            for (p, &v) in by_provider[t].iter().enumerate() {
                assert!(
                    v <= share * base[t] * (1.0 + 1e-9),
                    "period {t}, provider {p}: {v} > {share} × {}",
                    base[t]
                );
            }
        }
    }
}

/// The deferral.csv rows of a workload: (period, arrived, served in period, served later, mean
/// delay h, max delay h, never served).
fn deferral_of(out: &Outcome, workload: &str) -> Vec<(String, [f64; 6])> {
    out.report
        .deferral
        .as_ref()
        .expect("deferral rows")
        .iter()
        .filter(|r| r.workload == workload)
        .map(|r| {
            (
                capplan::units::format_time(&r.period),
                [
                    r.arrived_tokens,
                    r.served_in_period_tokens,
                    r.served_later_tokens,
                    r.mean_delay_hours,
                    r.max_delay_hours,
                    r.never_served_tokens,
                ],
            )
        })
        .collect()
}

#[track_caller]
fn close_all(got: [f64; 6], expected: [f64; 6]) {
    for (g, e) in got.iter().zip(expected) {
        assert!(
            (g - e).abs() <= 1e-6 * e.abs().max(1.0),
            "{got:?} vs {expected:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The trough: one day on a 6-hour grid (00, 06, 12, 18), a morning peak, and a batch that may wait
// 12 h.

const TROUGH_DEMAND: &str = "period,workload,tokens_per_minute\n\
                             2026-01-01T00:00,chat,100\n\
                             2026-01-01T06:00,chat,300\n\
                             2026-01-01T06:00,batch,200\n\
                             2026-01-01T12:00,chat,100\n\
                             2026-01-01T18:00,chat,100\n";
/// res: 1,000 tok/min reserved at $1/h for the whole tranche, no usage price; od: on demand at
/// $100/M.
const TROUGH_CAPACITY: &str =
    "provider,tranche,capacity_tpm,commit_cost_per_hour,cost_per_million_tokens\n\
                               aws,res,1000,1,0\n\
                               gcp,od,1000000,0,100\n";

fn trough(max_delay: &str) -> Folder {
    Folder::new()
        .file("demand.csv", TROUGH_DEMAND)
        .file("capacity.csv", TROUGH_CAPACITY)
        .file(
            "workloads.csv",
            &format!("workload,max_delay\nbatch,{max_delay}\n"),
        )
}

#[test]
fn batch_waits_for_the_trough_on_a_six_hour_grid() {
    // Reserving 1 tok/min costs $1/h / 1000 × 24 h = $0.024 for the day; serving it on demand for
    // one 6-hour period costs 360 tokens × $100/M = $0.036. So every load, even one period's, is
    // cheaper reserved: z × 1000 = the peak load, commit = z × $24.
    //
    // Batch arrives at 06:00 with 12 h to wait: its window is 06:00 (ends 12:00) and 12:00 (ends
    // 18:00 = 06:00 + 12 h); 18:00 ends at 24:00, too late. Loads 100 | 300 + b₁ | 100 + b₂ | 100
    // with b₁ + b₂ = 200: the peak is at least 300, reached by b₂ = 200 (any b₁ > 0 raises it).
    // z = 0.3, objective $7.20, and batch's 72,000 tokens (200 × 360 min) all served 6 h later.
    let f = trough("12h");
    solve_all(f.path(), 7.2, |out| {
        let res = out.plan.tranche("res").unwrap();
        assert!((res.reserved_fraction - 0.3).abs() < 1e-9, "{res:?}");
        let rows = deferral_of(out, "batch");
        assert_eq!(rows.len(), 1);
        assert_eq!(rows[0].0, "2026-01-01T06:00:00Z");
        close_all(rows[0].1, [72_000.0, 0.0, 72_000.0, 6.0, 6.0, 0.0]);
        let deferred = out.report.summary.deferred_tokens.unwrap();
        assert!((deferred - 72_000.0).abs() < 1e-3, "{deferred}");
        // Allocation shows batch where it is served: 200 tok/min at 12:00, none at 06:00.
        let batch: Vec<(String, f64)> = out
            .report
            .charts
            .allocation
            .iter()
            .filter(|a| a.workload == "batch")
            .map(|a| (capplan::units::format_time(&a.period), a.tokens_per_minute))
            .collect();
        assert_eq!(batch.len(), 1, "{batch:?}");
        assert_eq!(batch[0].0, "2026-01-01T12:00:00Z");
        assert!((batch[0].1 - 200.0).abs() < 1e-6);
        // 06:00 serves 300 of its 500 but every token that arrived then is served: the worst
        // period (run, compare, resilience, sweep) counts arrivals served, 100%.
        let totals = capplan::report::tables::period_totals(&out.report.charts.region_periods);
        let (_, worst) = capplan::report::tables::worst_period(&totals).unwrap();
        assert!((worst - 100.0).abs() < 1e-9, "{worst}");
    });
    // Without the wait the peak is 500: z = 0.5, $12 — the decomposition's plan, as in v2.
    let out = plan(f.path(), SolverKind::default_kind(), &["batch=0"]);
    assert!(!out.facts.defers());
    assert!(rel(out.report.summary.objective, 12.0) < 1e-9);
    assert_eq!(out.report.summary.deferred_tokens, None);
    assert!(out.report.deferral.is_none());
}

#[test]
fn run_says_what_waiting_saves_against_no_deferral() {
    // The trough of the test above, planned by `run`: with batch waiting 12 h the peak
    // reservation is 300 tok/min and the spend $7.20; planned again with every max_delay at 0 the
    // peak is 500 and the spend $12.00 (z = 0.5 × $24): 40% less of both.
    let f = trough("12h");
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("run");
    let (code, stdout, stderr) = crate::common::capplan(&[
        "run",
        f.path().to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
        "--no-charts",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    let e = &summary["deferral_effect"];
    let num = |k: &str| e[k].as_f64().unwrap_or_else(|| panic!("{k} in {e}"));
    assert!(rel(num("reserved_tpm_peak"), 300.0) < 1e-9, "{e}");
    assert!(
        rel(num("reserved_tpm_peak_without_deferral"), 500.0) < 1e-9,
        "{e}"
    );
    assert!(rel(num("cost"), 7.2) < 1e-9, "{e}");
    assert!(rel(num("cost_without_deferral"), 12.0) < 1e-9, "{e}");
    assert!(
        stdout.contains(
            "waiting      peak reservation 300 tok/min against 500 with no deferral (−40%); spend $7.2 against $12 (−40%)"
        ),
        "{stdout}"
    );
    // A held run answers for the signed plan only: no second plan.
    let held = out.path().join("held");
    let (code, _, stderr) = crate::common::capplan(&[
        "run",
        f.path().to_str().unwrap(),
        "--reservations-from",
        dir.to_str().unwrap(),
        "--out",
        held.to_str().unwrap(),
        "--no-charts",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let text = std::fs::read_to_string(held.join("summary.json")).unwrap();
    assert!(!text.contains("deferral_effect"), "{text}");
}

#[test]
fn a_delay_shorter_than_a_period_does_nothing_and_warns() {
    // 5 h on a 6-hour grid: the next period ends 12 h after an arrival's start, so no token can
    // move. The plan is the one without deferral ($12, z = 0.5), solved as v2 solves it, and the
    // run writes neither deferral.csv nor deferred_tokens.
    let f = trough("5h");
    let out = tempfile::tempdir().unwrap();
    let dir = f.path().to_str().unwrap();
    let (code, _, stderr) = capplan(&[
        "run",
        dir,
        "--out",
        out.path().to_str().unwrap(),
        "--no-charts",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(
        stderr.replace(&format!("{dir}/"), "").trim_end(),
        "warning: workloads.csv:2: column 'max_delay': workload 'batch' has max_delay 5h, shorter than every period it could be served in on this 360-minute grid: no later period ends within 5h of the start of the period its tokens arrive in, so they are served as they arrive, as with max_delay 0; expected a max_delay of at least 12h for its tokens to wait a period"
    );
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.path().join("summary.json")).unwrap())
            .unwrap();
    assert!(rel(summary["objective"].as_f64().unwrap(), 12.0) < 1e-9);
    assert!(summary.get("deferred_tokens").is_none());
    assert_eq!(summary["solver"], "decomposed");
    assert!(!out.path().join("deferral.csv").exists());
    // 12 h is the least delay that moves a token: no warning, and deferral applies.
    let (code, _, stderr) = capplan(&["validate", trough("12h").path().to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stderr.contains("max_delay"), "{stderr}");
}

#[test]
fn each_workload_pays_its_own_penalty() {
    // Two 6-hour periods, one on-demand tranche of 300 tok/min at $1/M. At 00:00 chat 200 (the
    // policy's $10,000/M), batch 200 ($50/M) and eval 100 ($20/M), both of which may wait 12 h
    // (into 06:00); at 06:00 chat 200. Capacity 300 + 300 against 700 of demand: 100 tok/min of a
    // period (36,000 tokens) goes unserved, and the cheapest to drop is eval at $20/M. Chat takes
    // 200 of each period and batch the other 100 of each: half of it (36,000 tokens) waits 6 h.
    //   usage  (200 + 100 + 200 + 100) × 360 min × $1/M = $0.216
    //   eval   36,000 tokens × $20/M                     = $0.72      → $0.936
    // Without waiting, 06:00's spare 100 is useless: period 00:00 serves chat 200 + batch 100 and
    // drops batch 100 ($50/M: $1.80) and eval ($0.72); usage (300 + 200) × 360 × $1/M = $0.18 →
    // $2.70.
    let f = Folder::new()
        .file(
            "demand.csv",
            "period,workload,tokens_per_minute\n\
             2026-01-01T00:00,chat,200\n2026-01-01T00:00,batch,200\n2026-01-01T00:00,eval,100\n\
             2026-01-01T06:00,chat,200\n",
        )
        .file(
            "capacity.csv",
            "provider,tranche,capacity_tpm,cost_per_million_tokens\naws,od,300,1\n",
        )
        .file(
            "workloads.csv",
            "workload,max_delay,unserved_penalty\nbatch,12h,50\neval,12h,20\n",
        );
    solve_all(f.path(), 0.936, |out| {
        let rows = deferral_of(out, "batch");
        close_all(rows[0].1, [72_000.0, 36_000.0, 36_000.0, 6.0, 6.0, 0.0]);
        let rows = deferral_of(out, "eval");
        close_all(rows[0].1, [36_000.0, 0.0, 0.0, 0.0, 0.0, 36_000.0]);
        assert!((out.report.summary.unserved_penalty_cost - 0.72).abs() < 1e-9);
        // The shortfall is capacity's: neither a share cap nor a penalty below the $1/M price.
        let causes: Vec<&str> = out
            .report
            .shortfalls
            .iter()
            .map(|r| r.cause.as_str())
            .collect();
        assert_eq!(causes, ["capacity"]);
        // The policy line says which workloads pay their own penalty.
        assert_eq!(
            out.report.summary.policy.text,
            "unserved penalty $10000/M tokens (batch $50/M, eval $20/M)"
        );
        let own = &out.report.summary.policy.workload_unserved_penalties;
        assert_eq!(own.get("batch"), Some(&50.0));
        assert_eq!(own.get("eval"), Some(&20.0));
        assert_eq!(own.len(), 2);
    });
    let out = plan(f.path(), SolverKind::default_kind(), &["batch=0", "eval=0"]);
    assert!(rel(out.report.summary.objective, 2.7) < 1e-9);
}

/// Two 6-hour periods: chat 100 in each, batch 100 at 00:00 (it may wait 12 h, into 06:00).
const TWO_PERIODS: &str = "period,workload,tokens_per_minute\n\
                           2026-01-01T00:00,chat,100\n2026-01-01T00:00,batch,100\n\
                           2026-01-01T06:00,chat,100\n";

#[test]
fn the_share_cap_counts_what_is_served_in_the_period() {
    // Two 6-hour periods; aws 1,000 tok/min at $1/M, gcp 60 tok/min at $2/M, max_provider_share
    // 0.6. At 00:00 chat 100 and batch 100 (may wait 12 h, into 06:00); at 06:00 chat 100.
    // With deferral the cap's base is B(t′) = what is served in t′ (+ arrivals of t′ never
    // served). Serving x_t in period t: aws ≤ 0.6 x_t and gcp ≤ 60, so x_t ≤ 0.6 x_t + 60, x_t ≤
    // 150; x₀ + x₁ = 300 makes both 150: aws 90 and gcp 60 in each period, batch split 50 | 50.
    //   aws 180 × 360 min × $1/M = $0.0648; gcp 120 × 360 × $2/M = $0.0864 → $0.1512.
    // (The v2 base, demand arriving in t′, would cap aws at 60 at 06:00 and leave tokens unserved.)
    // Without waiting, 00:00 serves at most 120 + 60 of its 200: 20 tok/min (7,200 tokens) unserved
    // at $10,000/M = $72; usage aws (120 + 60) × 360 × $1/M = $0.0648, gcp (60 + 40) × 360 × $2/M =
    // $0.072 → $72.1368.
    let f = Folder::new()
        .file("demand.csv", TWO_PERIODS)
        .file(
            "capacity.csv",
            "provider,tranche,capacity_tpm,cost_per_million_tokens\naws,a,1000,1\ngcp,g,60,2\n",
        )
        .file("workloads.csv", "workload,max_delay\nbatch,12h\n")
        .file("scenario.toml", "[policy]\nmax_provider_share = 0.6\n");
    solve_all(f.path(), 0.1512, |out| {
        for row in &out.report.charts.provider_periods {
            let expected = if row.provider == "aws" { 90.0 } else { 60.0 };
            assert!((row.served_tpm - expected).abs() < 1e-6, "{row:?}");
        }
        let rows = deferral_of(out, "batch");
        close_all(rows[0].1, [36_000.0, 18_000.0, 18_000.0, 6.0, 6.0, 0.0]);
        let aws = &out.report.summary.providers[0];
        assert!((aws.peak_share - 0.6).abs() < 1e-9, "{aws:?}");
    });
    let out = plan(f.path(), SolverKind::default_kind(), &["batch=0"]);
    assert!(rel(out.report.summary.objective, 72.1368) < 1e-9);
}

#[test]
fn n_minus_one_with_deferral() {
    // Two 6-hour periods (a 12-hour horizon); aws and gcp each 1,000 tok/min reserved at $1/h for
    // the whole tranche, no usage price; N-1 with loss_coverage 1. Demand: 00:00 chat 100 + batch
    // 100 (may wait 12 h), 06:00 chat 100. Losing either provider, the other must carry all of it,
    // and the N-1 flows may defer batch too: 300 over two periods with 100 of chat in each needs
    // 150 per period. z = 0.15 each: 2 × 0.15 × $1/h × 12 h = $3.60. Without waiting each must hold
    // the 200 of 00:00: 2 × 0.2 × 12 = $4.80.
    let f = Folder::new()
        .file("demand.csv", TWO_PERIODS)
        .file(
            "capacity.csv",
            "provider,tranche,capacity_tpm,commit_cost_per_hour\naws,a,1000,1\ngcp,g,1000,1\n",
        )
        .file("workloads.csv", "workload,max_delay\nbatch,12h\n")
        .file("scenario.toml", "[policy]\nsurvive_provider_loss = true\n");
    solve_all(f.path(), 3.6, |out| {
        for t in &out.plan.tranches {
            assert!((t.reserved_fraction - 0.15).abs() < 1e-9, "{t:?}");
        }
        assert_eq!(out.report.summary.resilience_shortfall_tokens, 0.0);
    });
    let out = plan(f.path(), SolverKind::default_kind(), &["batch=0"]);
    assert!(rel(out.report.summary.objective, 4.8) < 1e-9);
}

#[test]
fn a_held_plan_with_deferral() {
    // The trough's plan (z = 0.3, $7.20) held: the same plan with deferral; held where batch may
    // not wait, the 06:00 peak of 500 takes 200 on demand: 200 × 360 min × $100/M = $7.20 more,
    // $14.40. And the plan made without waiting (z = 0.5, $12) held where batch may wait: $12, all
    // reserved. Held dispatches with deferral are the whole horizon's LP on the run's backend.
    let f = trough("12h");
    let dir = tempfile::tempdir().unwrap();
    let run = |out: &str, extra: &[&str]| -> serde_json::Value {
        let out = dir.path().join(out);
        let mut args = vec![
            "run",
            f.path().to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--no-charts",
        ];
        args.extend(extra);
        let (code, _, stderr) = capplan(&args);
        assert_eq!(code, 0, "{args:?}\n{stderr}");
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap()
    };
    let objective = |v: &serde_json::Value| v["objective"].as_f64().unwrap();
    let planned = run("plan", &[]);
    assert!(rel(objective(&planned), 7.2) < 1e-9);
    let plan_dir = dir.path().join("plan");
    let plan_dir = plan_dir.to_str().unwrap();
    let held = run("held", &["--reservations-from", plan_dir]);
    assert!(rel(objective(&held), 7.2) < 1e-9, "{held}");
    assert!((held["deferred_tokens"].as_f64().unwrap() - 72_000.0).abs() < 1e-3);
    assert!(dir.path().join("held/deferral.csv").exists());
    let no_wait = run(
        "no-wait",
        &["--reservations-from", plan_dir, "--max-delay", "batch=0"],
    );
    assert!(rel(objective(&no_wait), 14.4) < 1e-9, "{no_wait}");
    assert_eq!(no_wait["solver"], "min-cost flow");
    run("plan0", &["--max-delay", "batch=0"]);
    let plan0 = dir.path().join("plan0");
    let waits = run("waits", &["--reservations-from", plan0.to_str().unwrap()]);
    assert!(rel(objective(&waits), 12.0) < 1e-9, "{waits}");
    // The library's held dispatch agrees on every backend.
    for solver in SolverKind::available() {
        let options = RunOptions {
            reservations_from: Some(Path::new(plan_dir).to_path_buf()),
            ..RunOptions::plan(solver)
        };
        let out = capplan::pipeline::run_with(f.path(), &options).unwrap();
        assert!(
            rel(out.report.summary.objective, 7.2) < 1e-9,
            "{}",
            solver.name()
        );
        obeys_the_model(&out);
    }
}

#[test]
fn the_decomposition_carries_deferral_but_not_a_share_cap_with_it() {
    // Without a share cap the decomposition's subproblem is the horizon's network: `auto` takes
    // it, and it meets the monolithic LP's optimum.
    let f = trough("12h");
    let decomposed = plan_by(f.path(), Method::Decomposed, &[]);
    let monolithic = plan_by(f.path(), Method::Monolithic, &[]);
    assert_eq!(decomposed.timings.method, "decomposed");
    assert!(
        rel(
            decomposed.report.summary.objective,
            monolithic.report.summary.objective
        ) < 1e-9
    );
    obeys_the_model(&decomposed);
    assert_eq!(Method::Auto.resolve(false).unwrap(), Method::Decomposed);
    // With a share cap (whose base counts which arrivals go unserved) it is refused, and `auto`
    // is the monolithic LP.
    let capped = trough("12h").file("scenario.toml", "[policy]\nmax_provider_share = 0.9\n");
    let out = tempfile::tempdir().unwrap();
    let (code, _, stderr) = capplan(&[
        "run",
        capped.path().to_str().unwrap(),
        "--method",
        "decomposed",
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "error: --method decomposed cannot solve this scenario: a workload's max_delay lets tokens wait into later periods and policy.max_provider_share caps providers, and the decomposition's networks cannot carry a share cap whose base depends on which arrivals go unserved; use --method monolithic (or auto, which picks it)"
    );
    assert_eq!(Method::Auto.resolve(true).unwrap(), Method::Monolithic);
    assert_eq!(
        Method::Monolithic.resolve(true).unwrap(),
        Method::Monolithic
    );
    let f = capped;
    // The backends' own optima (the independent reference) agree with the plan.
    let reference = crate::common::objective_of(f.path(), SolverKind::Microlp, Method::Monolithic);
    for solver in SolverKind::available() {
        let got = crate::common::objective_of(f.path(), solver, Method::Monolithic);
        assert!(
            rel(got, reference) < 1e-6,
            "{}: {got} vs {reference}",
            solver.name()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Random small scenarios with deferral.

/// A random scenario: `periods` 6-hour periods, chat and batch demand per period, batch waiting
/// `delay_hours`; tranches (provider, capacity, commit $/h, usage $/M); a share cap and N-1.
#[derive(Debug, Clone)]
struct Case {
    chat: Vec<u32>,
    batch: Vec<u32>,
    delay_hours: u32,
    tranches: Vec<(u8, u32, u32, u32)>,
    share: Option<f64>,
    n_minus_one: bool,
}

fn case() -> impl Strategy<Value = Case> {
    (2usize..5)
        .prop_flat_map(|n| {
            (
                prop::collection::vec(0u32..400, n),
                prop::collection::vec(0u32..400, n),
                prop::sample::select(vec![6u32, 12, 18, 24]),
                prop::collection::vec((0u8..3, 50u32..600, 0u32..3, 0u32..50), 1..4),
                prop::option::of(prop::sample::select(vec![0.5, 0.7])),
                any::<bool>(),
            )
        })
        .prop_map(
            |(chat, batch, delay_hours, tranches, share, n_minus_one)| Case {
                chat,
                batch,
                delay_hours,
                tranches,
                share,
                n_minus_one,
            },
        )
}

fn folder(c: &Case, delay_hours: u32) -> Folder {
    let mut demand = String::from("period,workload,tokens_per_minute\n");
    for (t, (chat, batch)) in c.chat.iter().zip(&c.batch).enumerate() {
        let period = format!("2026-01-{:02}T{:02}:00", 1 + t * 6 / 24, t * 6 % 24);
        demand.push_str(&format!("{period},chat,{chat}\n{period},batch,{batch}\n"));
    }
    let mut capacity = String::from(
        "provider,tranche,capacity_tpm,commit_cost_per_hour,cost_per_million_tokens\n",
    );
    for (i, (p, cap, commit, usage)) in c.tranches.iter().enumerate() {
        let provider = ["aws", "gcp", "azure"][*p as usize];
        capacity.push_str(&format!("{provider},k{i},{cap},{commit},{usage}\n"));
    }
    let mut toml = String::from("[policy]\nunserved_penalty = 500\n");
    if let Some(s) = c.share {
        toml.push_str(&format!("max_provider_share = {s}\n"));
    }
    if c.n_minus_one {
        toml.push_str("survive_provider_loss = true\nresilience_penalty = 200\n");
    }
    Folder::new()
        .file("demand.csv", &demand)
        .file("capacity.csv", &capacity)
        .file("scenario.toml", &toml)
        .file(
            "workloads.csv",
            &format!("workload,max_delay\nbatch,{delay_hours}h\n"),
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// With deferral every backend reaches the same optimum and a plan that obeys the model; a
    /// wait never costs more than no wait (its flows include the plan without waiting), and the
    /// plan without waiting is the decomposition's (v2's) plan.
    #[test]
    fn deferral_plans_agree_and_never_cost_more(c in case()) {
        let f = folder(&c, c.delay_hours);
        let mut objectives = Vec::new();
        for solver in SolverKind::available() {
            let out = plan(f.path(), solver, &[]);
            obeys_the_model(&out);
            objectives.push((solver.name(), out.report.summary.objective));
        }
        let (_, first) = objectives[0];
        for &(name, o) in &objectives {
            prop_assert!(rel(o, first) < 1e-6, "{name}: {o} vs {first}");
        }
        if c.share.is_none() {
            // Without a share cap the decomposition carries the waiting: the same optimum.
            let decomposed = plan_by(f.path(), Method::Decomposed, &[]);
            obeys_the_model(&decomposed);
            let o = decomposed.report.summary.objective;
            prop_assert!(rel(o, first) < 1e-6, "decomposed {o} vs monolithic {first}");
        }
        let no_wait = plan(f.path(), SolverKind::default_kind(), &["batch=0"]);
        prop_assert!(!no_wait.facts.defers());
        let no_wait = no_wait.report.summary.objective;
        prop_assert!(first <= no_wait * (1.0 + 1e-7) + 1e-9, "waiting costs {first} > {no_wait}");
        let zero = folder(&c, 0);
        let monolithic = crate::common::objective_of(zero.path(), SolverKind::default_kind(), Method::Monolithic);
        prop_assert!(rel(monolithic, no_wait) < 1e-6, "v2 monolithic {monolithic} vs decomposed {no_wait}");
    }
}

/// The spec's own form of the LP with deferral, written here independently of capplan's model
/// (flows x(k,c,τ,t′) from each arrival τ to each service period t′ of its window, good_lp and
/// microlp): its optimum in dollars. One region, 6-hour periods, chat never waits, batch waits
/// `delay_hours` (t′ ≤ τ + delay/6 − 1, within the horizon); capacity_tpm · z in every period;
/// commitment over the whole horizon; share cap s on B(t′) = served in t′ + never-served arrivals
/// of t′; N-1 at the default loss_coverage 1 over the other providers' reserved capacity.
fn spec_form_objective(c: &Case) -> f64 {
    use good_lp::{constraint, variable, Expression, ProblemVariables, Solution, SolverModel};
    let n = c.chat.len();
    let minutes = 360.0;
    let per_million = minutes / 1e6; // $ per (tpm over a period) per ($/M)
    let last = |tau: usize| (tau + (c.delay_hours as usize / 6).max(1) - 1).min(n - 1);
    let mut vars = ProblemVariables::new();
    let z: Vec<_> = c
        .tranches
        .iter()
        .map(|_| vars.add(variable().min(0.0).max(1.0)))
        .collect();
    let mut objective = Expression::from(0.0);
    for (k, (_, _, commit, _)) in c.tranches.iter().enumerate() {
        objective += z[k] * (*commit as f64 * 6.0 * n as f64);
    }
    // (class 0 chat / 1 batch, arrival τ, service t′, tranche k) → variable; per (class, τ) u.
    struct Flows {
        x: Vec<(usize, usize, usize, usize, good_lp::Variable)>,
        u: Vec<(usize, usize, good_lp::Variable)>,
    }
    let demand = |class: usize, tau: usize| [&c.chat, &c.batch][class][tau] as f64;
    let window = |class: usize, tau: usize| tau..=if class == 0 { tau } else { last(tau) };
    let add_flows = |vars: &mut ProblemVariables, lost: Option<u8>| -> Flows {
        let mut f = Flows {
            x: Vec::new(),
            u: Vec::new(),
        };
        for class in 0..2 {
            for tau in 0..n {
                if demand(class, tau) <= 0.0 {
                    continue;
                }
                for t in window(class, tau) {
                    for (k, (p, ..)) in c.tranches.iter().enumerate() {
                        if Some(*p) != lost {
                            f.x.push((class, tau, t, k, vars.add(variable().min(0.0))));
                        }
                    }
                }
                f.u.push((class, tau, vars.add(variable().min(0.0))));
            }
        }
        f
    };
    let plan = add_flows(&mut vars, None);
    let losses: Vec<Flows> = if c.n_minus_one {
        (0u8..3)
            .filter(|q| c.tranches.iter().any(|(p, ..)| p == q))
            .map(|q| add_flows(&mut vars, Some(q)))
            .collect()
    } else {
        Vec::new()
    };
    for &(_, _, _, k, x) in &plan.x {
        objective += x * (c.tranches[k].3 as f64 * per_million);
    }
    for &(_, _, u) in &plan.u {
        objective += u * (500.0 * per_million);
    }
    for loss in &losses {
        for &(_, _, v) in &loss.u {
            objective += v * (200.0 * per_million);
        }
    }
    let mut problem = vars.minimise(objective.clone()).using(good_lp::microlp);
    let mut rows = Vec::new();
    for (flows, coverage) in std::iter::once((&plan, 1.0)).chain(losses.iter().map(|l| (l, 1.0))) {
        for &(class, tau, u) in &flows.u {
            let served: Expression = flows
                .x
                .iter()
                .filter(|x| x.0 == class && x.1 == tau)
                .map(|x| x.4)
                .sum();
            rows.push(constraint!(served + u == coverage * demand(class, tau)));
        }
        for t in 0..n {
            for (k, (_, cap, ..)) in c.tranches.iter().enumerate() {
                let used: Expression = flows
                    .x
                    .iter()
                    .filter(|x| x.2 == t && x.3 == k)
                    .map(|x| x.4)
                    .sum();
                rows.push(constraint!(used <= z[k] * (*cap as f64)));
            }
        }
    }
    if let Some(s) = c.share {
        for t in 0..n {
            let served: Expression = plan.x.iter().filter(|x| x.2 == t).map(|x| x.4).sum();
            let never: Expression = plan.u.iter().filter(|u| u.1 == t).map(|u| u.2).sum();
            for p in 0u8..3 {
                let of_p: Expression = plan
                    .x
                    .iter()
                    .filter(|x| x.2 == t && c.tranches[x.3].0 == p)
                    .map(|x| x.4)
                    .sum();
                rows.push(constraint!(of_p <= s * (served.clone() + never.clone())));
            }
        }
    }
    for row in rows {
        problem = problem.with(row);
    }
    let solution = problem.solve().expect("the spec's form solves");
    solution.eval(&objective)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    /// capplan's storage form of the LP with deferral has the optimum of the spec's form written
    /// out independently (every arrival to every service period of its window).
    #[test]
    fn the_storage_form_has_the_spec_forms_optimum(c in case()) {
        let f = folder(&c, c.delay_hours);
        let expected = spec_form_objective(&c);
        let got = plan(f.path(), SolverKind::Microlp, &[]).report.summary.objective;
        prop_assert!(rel(got, expected) < 1e-7, "capplan {got} vs spec form {expected}");
    }
}

/// A random horizon long enough to be cut into parts: 9 to 16 six-hour periods, batch waiting
/// 6 or 12 hours, N-1 or not, no share cap (the decomposition does not carry one with deferral).
fn long_case() -> impl Strategy<Value = Case> {
    (9usize..17)
        .prop_flat_map(|n| {
            (
                prop::collection::vec(0u32..400, n),
                prop::collection::vec(0u32..400, n),
                prop::sample::select(vec![6u32, 12]),
                prop::collection::vec((0u8..3, 50u32..600, 0u32..3, 0u32..50), 1..4),
                any::<bool>(),
            )
        })
        .prop_map(|(chat, batch, delay_hours, tranches, n_minus_one)| Case {
            chat,
            batch,
            delay_hours,
            tranches,
            share: None,
            n_minus_one,
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, ..ProptestConfig::default() })]

    /// The decomposition cuts a horizon with deferral into parts joined by border variables (the
    /// backlog one part hands to the next): it reaches the monolithic LP's optimum on every
    /// backend, with a plan that obeys the model, and it did cut (more cost variables than
    /// networks).
    #[test]
    fn the_decomposition_in_parts_has_the_monolithic_optimum(c in long_case()) {
        let f = folder(&c, c.delay_hours);
        let decomposed = plan_by(f.path(), Method::Decomposed, &[]);
        obeys_the_model(&decomposed);
        let networks = 1 + if c.n_minus_one { decomposed.facts.providers.len() } else { 0 };
        let convergence = decomposed.timings.decomposition.as_ref().expect("decomposed");
        prop_assert!(convergence.blocks > networks, "{} cost variables for {networks} networks", convergence.blocks);
        let o = decomposed.report.summary.objective;
        for solver in SolverKind::available() {
            let expected = plan(f.path(), solver, &[]).report.summary.objective;
            prop_assert!(rel(o, expected) < 1e-6, "decomposed {o} vs {}: {expected}", solver.name());
        }
    }
}

#[test]
fn compare_does_not_draw_waiting_tokens_as_a_shortfall() {
    // The trough with batch waiting 12 h serves every token: the 200 batch tokens that arrive at
    // 06:00 are served at 12:00 and 18:00, so what 06:00 itself serves is 300 of its 500 arrivals.
    // The compare chart's served panel counts arrivals served (then or later), so with nothing
    // unserved in either column it is left out and the subtitle says every column serves all
    // demand; it must not show 60% at 06:00.
    let f = trough("12h");
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("cmp");
    let (code, _, stderr) = capplan(&[
        "compare",
        f.path().to_str().unwrap(),
        "--twin",
        "--max-delay batch=0",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{stderr}");
    let svg = std::fs::read_to_string(dir.join("compare_capacity.svg")).unwrap();
    assert!(svg.contains("every column serves all demand"), "{svg}");
    assert!(!svg.contains("60%"), "{svg}");
}

/// Sixty days hour by hour, `api` waiting up to 24 h, capacity for every token: the plan serves
/// all of it, and so must its read-back. The horizon's network is one source supplying 8,640
/// class nodes; its imbalances, kept up push by push against that source's supply and summed
/// plainly, drifted by more than a cell's noise, and the read-back reported 166 tokens of the
/// last hour never served (8K on an hourly year, whose plan and the LP's optimum serve all).
#[test]
fn a_long_hourly_horizon_that_serves_everything_reports_no_shortfall() {
    use capplan::synthetic::{write, Spec, Step};
    let f = Folder::new();
    write(f.path(), &Spec::benchmark(1440, Step::Hour)).unwrap();
    let out = plan_by(f.path(), Method::Decomposed, &["api=24h"]);
    obeys_the_model(&out);
    let unserved = &out.plan.unserved;
    assert!(unserved.is_empty(), "a read-back shortfall: {unserved:?}");
    assert_eq!(out.report.summary.unserved_tokens, 0.0);
}
