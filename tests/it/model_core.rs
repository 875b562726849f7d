//! The model core of format v2: prorated windows and outages worked out by hand, one builder for
//! every kind of solve (fixed reservations, period subsets), capacity duals, and held plans
//! (`run --reservations-from`), on every compiled-in backend.

use std::path::Path;

use crate::common::{capplan, rel, Folder};
use capplan::facts::{Facts, PeriodId, TrancheId};
use capplan::model::solve::{solve, SolverKind};
use capplan::model::{build, BuildOptions, Reservations, Scale};
use capplan::pipeline::{run, run_with, RunOptions};

fn objective(folder: &Path, solver: SolverKind) -> f64 {
    run(folder, solver)
        .unwrap_or_else(|e| panic!("{}: {e}", solver.name()))
        .report
        .summary
        .objective
}

fn served_by(folder: &Path, solver: SolverKind, provider: &str) -> f64 {
    let out = run(folder, solver).unwrap();
    out.report
        .summary
        .providers
        .iter()
        .find(|p| p.provider == provider)
        .map_or(0.0, |p| p.served_tokens)
}

// ---------------------------------------------------------------------------------------------
// Format v2, worked out by hand.

#[test]
fn a_tranche_arriving_mid_period_pays_and_serves_its_fraction() {
    // February 2026 = 28 days = 40,320 min, demand 1M tok/min. Tranche r (1M, $30/h, free usage)
    // arrives on Feb 15: a = 14/28 = 0.5, H = 14 × 24 = 336 h. Reserving costs $30/h = $0.50/M at
    // full use, below on-demand's $1/M, so z = 1: commit 30 × 336 = $10,080; r serves 0.5M on
    // average (20,160M tokens); on-demand o serves the other 0.5M at $1/M = $20,160.
    // Objective $30,240.
    let f = Folder::new()
        .file("demand.csv", "period,tokens_per_minute\n2026-02-01,1M\n")
        .file(
            "capacity.csv",
            "provider,tranche,start,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour\n\
             r,r,2026-02-15,1M,0,30\no,o,,2M,1,0\n",
        )
        .file("scenario.toml", "horizon_end = \"2026-03-01\"\n");
    for solver in SolverKind::available() {
        let out = run(f.path(), solver).unwrap();
        let s = &out.report.summary;
        assert!(
            rel(s.objective, 30_240.0) < 1e-9,
            "{}: {}",
            solver.name(),
            s.objective
        );
        assert!(rel(s.commit_cost, 10_080.0) < 1e-9, "{}", s.commit_cost);
        let r = s.providers.iter().find(|p| p.provider == "r").unwrap();
        assert!(
            rel(r.served_tokens, 0.5e6 * 40_320.0) < 1e-9,
            "{}",
            r.served_tokens
        );
        assert!(
            rel(r.reserved_tpm_peak, 0.5e6) < 1e-9,
            "A·cap·z = 0.5M in February"
        );
        let c = out
            .report
            .commitments
            .iter()
            .find(|c| c.tranche == "r")
            .unwrap();
        assert_eq!(c.reserved_fraction, 1.0);
        assert_eq!(
            c.reserved_tpm, 1e6,
            "reserved_tpm in commitments is cap · z"
        );
    }
}

#[test]
fn a_one_week_outage_inside_a_28_day_month_removes_a_quarter() {
    // a (1M at $1/M) is out Feb 8–15 at factor 0: 7 of 28 days → A = 0.75. a serves 0.75M, b
    // ($3/M) the other 0.25M: 40,320 × (0.75 × 1 + 0.25 × 3) = $60,480.
    let f = Folder::new()
        .file("demand.csv", "period,tokens_per_minute\n2026-02-01,1M\n")
        .file(
            "capacity.csv",
            "provider,capacity_tpm,cost_per_million_tokens\na,1M,1\nb,2M,3\n",
        )
        .file(
            "outages.csv",
            "provider,start,end,capacity_factor\na,2026-02-08,2026-02-15,0\n",
        )
        .file("scenario.toml", "horizon_end = \"2026-03-01\"\n");
    for solver in SolverKind::available() {
        assert!(rel(objective(f.path(), solver), 60_480.0) < 1e-9);
        assert!(rel(served_by(f.path(), solver, "a"), 0.75e6 * 40_320.0) < 1e-9);
    }
}

#[test]
fn a_45_day_delay_on_a_monthly_grid() {
    // a (1M, $1/M, open window) delayed 45 days: starts Feb 15. Jan: a = 0, all 1M on b at $3:
    // 44,640 × 3 = $133,920. Feb: a = 0.5: 40,320 × (0.5 × 1 + 0.5 × 3) = $80,640. Mar: a = 1:
    // 44,640 × 1 = $44,640. Total $259,200.
    let f = Folder::new()
        .file(
            "demand.csv",
            "period,tokens_per_minute\n2026-01-01,1M\n2026-02-01,1M\n2026-03-01,1M\n",
        )
        .file(
            "capacity.csv",
            "provider,capacity_tpm,cost_per_million_tokens\na,1M,1\nb,2M,3\n",
        )
        .file(
            "scenario.toml",
            "[[whatif.delay]]\nprovider = \"a\"\ndays = 45\n",
        );
    for solver in SolverKind::available() {
        assert!(rel(objective(f.path(), solver), 259_200.0) < 1e-9);
    }
}

// ---------------------------------------------------------------------------------------------
// One builder, many solves.

/// The scenario of a folder with its facts.
fn loaded(folder: &Path) -> (capplan::scenario::Scenario, Facts) {
    let (s, facts, _) = capplan::pipeline::load(folder, &Default::default()).unwrap();
    (s, facts)
}

/// Commitment dollars of fixed fractions z: commit price × z × H(k), decision tranches only.
fn commitment(s: &capplan::scenario::Scenario, facts: &Facts, z: &[f64]) -> f64 {
    s.tranches
        .iter()
        .enumerate()
        .filter(|(k, _)| facts.tranches[*k].has_reservation_decision)
        .map(|(k, t)| t.commit_cost_per_hour * z[k] * facts.tranches[k].window_hours)
        .sum()
}

fn dollars(model: &capplan::model::Model, units: f64) -> f64 {
    units * model.scale().dollars_per_objective_unit
}

#[test]
fn fixed_reservations_and_one_period_builds_reproduce_the_plan() {
    let folder = Path::new("scenarios/quickstart");
    let (s, facts) = loaded(folder);
    for solver in SolverKind::available() {
        let planned = run(folder, solver).unwrap();
        let z: Vec<f64> = planned
            .plan
            .tranches
            .iter()
            .map(|t| {
                if t.has_reservation_decision {
                    t.reserved_fraction
                } else {
                    1.0
                }
            })
            .collect();
        let commit = commitment(&s, &facts, &z);

        // The whole horizon with z fixed at the plan's fractions: the same objective.
        let whole = build(
            &s,
            &facts,
            BuildOptions::held(&facts, &s.policy, z.clone(), false),
        );
        let whole_solved = solve(&whole, solver).unwrap();
        let whole_dollars = dollars(&whole, whole_solved.objective_units);
        assert!(
            rel(commit + whole_dollars, planned.plan.objective) < 1e-9,
            "{}: fixed {} vs planned {}",
            solver.name(),
            commit + whole_dollars,
            planned.plan.objective
        );

        // One period at a time, in the whole horizon's units: the parts add up to the whole.
        let scale = Scale::of(&facts);
        let mut parts = 0.0;
        for t in facts.all_periods() {
            let options = BuildOptions {
                periods: vec![t],
                reservations: Reservations::Fixed(z.clone()),
                provider_loss: s.policy.survive_provider_loss,
                share_cap: s.policy.max_provider_share < 1.0,
                whole_blocks: true,
                scale,
            };
            let m = build(&s, &facts, options);
            parts += dollars(&m, solve(&m, solver).unwrap().objective_units);
        }
        assert!(
            rel(commit + parts, planned.plan.objective) < 1e-9,
            "{}: commitment + periods {} vs {}",
            solver.name(),
            commit + parts,
            planned.plan.objective
        );
    }
}

#[test]
fn one_period_builds_give_the_whole_builds_flows_on_a_unique_optimum() {
    // Merit order over two hours with different demand: the optimum is unique.
    let f = Folder::new()
        .file(
            "demand.csv",
            "period,tokens_per_minute\n2026-01-01T00:00,3M\n2026-01-01T01:00,1.5M\n",
        )
        .file(
            "capacity.csv",
            "provider,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour\na,1M,1,10\nb,1M,2,0\nc,5M,3,0\n",
        );
    let (s, facts) = loaded(f.path());
    let z = vec![0.75, 1.0, 1.0];
    for solver in SolverKind::available() {
        let whole = build(
            &s,
            &facts,
            BuildOptions::held(&facts, &s.policy, z.clone(), false),
        );
        let whole_solved = solve(&whole, solver).unwrap();
        for t in facts.all_periods() {
            let m = build(
                &s,
                &facts,
                BuildOptions {
                    periods: vec![t],
                    ..BuildOptions::held(&facts, &s.policy, z.clone(), false)
                },
            );
            let solved = solve(&m, solver).unwrap();
            for x in &m.flows {
                let y = whole
                    .flows
                    .iter()
                    .find(|y| (y.period, y.tranche, y.region) == (x.period, x.tranche, x.region))
                    .unwrap();
                let (a, b) = (solved.values[x.col.0], whole_solved.values[y.col.0]);
                assert!((a - b).abs() < 1e-7, "{}: {a} vs {b}", solver.name());
            }
        }
    }
}

#[test]
fn capacity_duals_are_the_marginal_value_of_capacity() {
    // One hour, demand 3M. a: 1M at $1/M (binding), c: 5M at $3/M (slack). One more tok/min of a
    // for the hour moves one tok/min from c to a: saves ($3 − $1)/M × 60 min = $1.2e-4.
    let f = Folder::new()
        .file("demand.csv", "period,tokens_per_minute\n2026-01-01,3M\n")
        .file(
            "capacity.csv",
            "provider,capacity_tpm,cost_per_million_tokens\na,1M,1\nc,5M,3\n",
        )
        .file("scenario.toml", "horizon_end = \"2026-01-01T01:00\"\n");
    let (s, facts) = loaded(f.path());
    let mut checked = 0;
    for solver in SolverKind::available()
        .into_iter()
        .filter(|k| k.has_duals())
    {
        let m = build(&s, &facts, BuildOptions::plan(&facts, &s.policy));
        let solved = solve(&m, solver).unwrap();
        let value = |k| {
            capplan::model::extract::capacity_value(&m, &solved, PeriodId(0), TrancheId(k)).unwrap()
        };
        assert!(
            rel(value(0), 1.2e-4) < 1e-6,
            "{}: {}",
            solver.name(),
            value(0)
        );
        assert!(value(1).abs() < 1e-12, "{}: {}", solver.name(), value(1));
        checked += 1;
    }
    assert!(checked >= 1, "Clarabel offers duals in every build");
    assert!(!SolverKind::Microlp.has_duals());
}

// ---------------------------------------------------------------------------------------------
// Held plans: `run --reservations-from`.

fn run_out(args: &[&str]) -> (String, String) {
    let (code, stdout, stderr) = capplan(args);
    assert_eq!(code, 0, "{args:?}\n{stderr}");
    (stdout, stderr)
}

/// `capplan run SCENARIO --out OUT --no-charts [--reservations-from HELD] [EXTRA…]`, which must succeed.
fn run_into(scenario: &Path, out: &Path, held: Option<&Path>, extra: &[&str]) -> String {
    let mut args = vec![
        "run",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--no-charts",
    ];
    if let Some(h) = held {
        args.extend(["--reservations-from", h.to_str().unwrap()]);
    }
    args.extend(extra);
    run_out(&args).0
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

#[test]
fn a_scenario_held_to_its_own_plan_has_the_same_objective() {
    let out = tempfile::tempdir().unwrap();
    for scenario in [
        "scenarios/quickstart",
        "scenarios/frontier-2026",
        "tests/scenarios/tight",
    ] {
        let plan = out.path().join("plan");
        let held = out.path().join("held");
        run_into(Path::new(scenario), &plan, None, &[]);
        run_into(Path::new(scenario), &held, Some(&plan), &[]);
        let (a, b) = (summary(&plan), summary(&held));
        let (a, b) = (
            a["objective"].as_f64().unwrap(),
            b["objective"].as_f64().unwrap(),
        );
        assert!(rel(a, b) < 1e-9, "{scenario}: plan {a}, held {b}");
        let held_plan = &summary(&held)["held_plan"];
        assert!(held_plan["commitments_sha256"]
            .as_str()
            .unwrap()
            .starts_with("sha256:"));
        assert!(held_plan["scenario"].is_string());
    }
}

/// A base month and a surge child: r (1M reserved at $0.50/M at full use) and on-demand o ($2/M).
fn surge_case() -> Folder {
    Folder::new()
        .file(
            "base/demand.csv",
            "period,tokens_per_minute\n2026-02-01,1M\n",
        )
        .file(
            "base/capacity.csv",
            "provider,tranche,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour\n\
             r,r,2M,0,30\no,o,5M,2,0\n",
        )
        .file("base/scenario.toml", "horizon_end = \"2026-03-01\"\n")
        .file(
            "surge/scenario.toml",
            "extends = \"../base\"\n[whatif]\ndemand_scale = 1.5\n",
        )
}

#[test]
fn a_surge_held_to_the_base_plan_spills_to_on_demand() {
    // Base: 1M of demand, r reserved at z = 0.5 (1M of 2M): 672 h × $30 × 0.5 = $10,080.
    // Surge ×1.5 held to z = 0.5: r still serves 1M, the other 0.5M goes on demand at $2/M:
    // 0.5M × 40,320 min × $2/M = $40,320 → $50,400. Re-planned: z = 0.75, r serves all 1.5M:
    // $15,120. Held ≥ re-planned; the regret is $35,280.
    let f = surge_case();
    let out = tempfile::tempdir().unwrap();
    let base = out.path().join("base");
    let held = out.path().join("held");
    let replanned = out.path().join("replanned");
    run_into(&f.sub("base"), &base, None, &[]);
    run_into(&f.sub("surge"), &replanned, None, &[]);
    run_into(&f.sub("surge"), &held, Some(&base), &[]);
    let base_obj = summary(&base)["objective"].as_f64().unwrap();
    let held_obj = summary(&held)["objective"].as_f64().unwrap();
    let replanned_obj = summary(&replanned)["objective"].as_f64().unwrap();
    assert!(rel(base_obj, 10_080.0) < 1e-9, "{base_obj}");
    assert!(rel(held_obj, 50_400.0) < 1e-9, "{held_obj}");
    assert!(rel(replanned_obj, 15_120.0) < 1e-9, "{replanned_obj}");
    assert!(held_obj >= replanned_obj);
    // The reserved flow stays within the held capacity (z · cap = 1M), the rest on demand.
    let providers = summary(&held)["providers"].clone();
    let served = |p: &str| {
        providers
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["provider"] == p)
            .unwrap()["served_tokens"]
            .as_f64()
            .unwrap()
    };
    assert!(rel(served("r"), 1e6 * 40_320.0) < 1e-9);
    assert!(rel(served("o"), 0.5e6 * 40_320.0) < 1e-9);
}

#[test]
fn an_excluded_providers_signed_commitment_is_still_paid() {
    // Base plan reserves r at z = 0.5 ($10,080). A child excludes r: held to the base plan, r's
    // commitment is still paid and serves nothing; o serves all 1M at $2/M = $80,640.
    let f = surge_case().file(
        "no-r/scenario.toml",
        "extends = \"../base\"\n[whatif]\nexclude_providers = [\"r\"]\n",
    );
    let out = tempfile::tempdir().unwrap();
    let base = out.path().join("base");
    let held = out.path().join("held");
    run_into(&f.sub("base"), &base, None, &[]);
    let stdout = run_into(&f.sub("no-r"), &held, Some(&base), &[]);
    let s = summary(&held);
    assert!(
        rel(s["commit_cost"].as_f64().unwrap(), 10_080.0) < 1e-9,
        "{s}"
    );
    assert!(
        rel(s["objective"].as_f64().unwrap(), 10_080.0 + 80_640.0) < 1e-9,
        "{s}"
    );
    assert_eq!(s["held_plan"]["orphaned_tranches"][0], "r");
    assert!(
        stdout.contains("'r'") && stdout.contains("serves nothing"),
        "{stdout}"
    );
    let commitments = std::fs::read_to_string(held.join("commitments.csv")).unwrap();
    assert!(
        commitments.lines().any(|l| l.starts_with("r,r,")),
        "{commitments}"
    );
}

#[test]
fn held_plan_errors_name_the_tranche() {
    let f = surge_case()
        .file(
            "renamed/capacity.csv",
            "provider,tranche,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour\n\
             r,r2,2M,0,30\no,o,5M,2,0\n",
        )
        .file("renamed/scenario.toml", "extends = \"../base\"\n")
        .file(
            "moved/capacity.csv",
            "provider,region,tranche,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour\n\
             r,eu,r,2M,0,30\no,global,o,5M,2,0\n",
        )
        .file("moved/scenario.toml", "extends = \"../base\"\n")
        .file(
            "signed/capacity.csv",
            "provider,tranche,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour,min_commit\n\
             r,r,2M,0,30,0.8\no,o,5M,2,0,0\n",
        )
        .file("signed/scenario.toml", "extends = \"../base\"\n");
    let out = tempfile::tempdir().unwrap();
    let base = out.path().join("base");
    run_into(&f.sub("base"), &base, None, &[]);
    for (child, expect) in [
        (
            "renamed",
            "tranche 'r2' has a reservation decision, but the held plan",
        ),
        (
            "moved",
            "tranche 'r' is region 'global' in the held plan but 'eu' in this scenario",
        ),
        (
            "signed",
            "tranche 'r' holds reserved_fraction 0.5 but this scenario's min_commit is 0.8",
        ),
    ] {
        let dir = out.path().join(child);
        let (code, _, stderr) = capplan(&[
            "run",
            f.sub(child).to_str().unwrap(),
            "--out",
            dir.to_str().unwrap(),
            "--reservations-from",
            base.to_str().unwrap(),
        ]);
        assert_eq!(code, 2, "{child}: {stderr}");
        assert!(stderr.contains(expect), "{child}: {stderr}");
        assert!(stderr.contains(".csv:"), "names a file and line: {stderr}");
        assert!(!dir.exists(), "{child}: nothing written");
    }
}

/// Issue 18, item 9: a plan made for another scenario is one line, not one error per tranche.
#[test]
fn a_plan_of_another_scenario_is_one_error() {
    let out = tempfile::tempdir().unwrap();
    let quickstart = out.path().join("quickstart");
    run_into(
        std::path::Path::new("scenarios/quickstart"),
        &quickstart,
        None,
        &[],
    );
    let dir = out.path().join("held");
    let (code, _, stderr) = capplan(&[
        "run",
        "scenarios/frontier-2026",
        "--out",
        dir.to_str().unwrap(),
        "--reservations-from",
        quickstart.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(stderr.matches("error:").count(), 1, "{stderr}");
    assert!(
        stderr.contains("commitments.csv: the held plan was made for scenario 'quickstart' and names none of the 27 tranches of 'frontier-2026' that have a reservation decision (such as 'aws/us-east-1/h100-p5-1yr'); expected a plan of this scenario, or of one it extends"),
        "{stderr}"
    );
    assert!(!dir.exists());
}

#[test]
fn emergency_rules_drop_the_share_cap_and_n_minus_one() {
    // One month, demand 1M; a (2M at $1/M) and b (2M at $3/M), cap 60% per provider and N-1 at
    // full coverage with a resilience penalty. Held to the plan under the policy: a 0.6M, b 0.4M.
    // Under --emergency: a serves all 1M, and no N-1 shortfall is counted.
    let f = Folder::new()
        .file("demand.csv", "period,tokens_per_minute\n2026-02-01,1M\n")
        .file(
            "capacity.csv",
            "provider,tranche,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour\na,a,2M,1,1\nb,b,2M,3,1\n",
        )
        .file(
            "scenario.toml",
            "horizon_end = \"2026-03-01\"\n[policy]\nmax_provider_share = 0.6\nsurvive_provider_loss = true\n",
        );
    let out = tempfile::tempdir().unwrap();
    let plan = out.path().join("plan");
    let held = out.path().join("held");
    let emergency = out.path().join("emergency");
    run_into(f.path(), &plan, None, &[]);
    for (dir, extra) in [(&held, None), (&emergency, Some("--emergency"))] {
        let mut args = vec![
            "run",
            f.path().to_str().unwrap(),
            "--out",
            dir.to_str().unwrap(),
            "--no-charts",
            "--reservations-from",
            plan.to_str().unwrap(),
        ];
        args.extend(extra);
        run_out(&args);
    }
    let share = |dir: &Path, p: &str| {
        summary(dir)["providers"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["provider"] == p)
            .unwrap()["peak_share"]
            .as_f64()
            .unwrap()
    };
    assert!(rel(share(&held, "a"), 0.6) < 1e-9);
    assert!(rel(share(&emergency, "a"), 1.0) < 1e-9);
    assert_eq!(summary(&emergency)["held_plan"]["emergency"], true);
    assert!(summary(&emergency)["objective"].as_f64() < summary(&held)["objective"].as_f64());
}

#[test]
fn held_runs_go_through_the_library_too() {
    let out = tempfile::tempdir().unwrap();
    let plan = out.path().join("plan");
    run_into(Path::new("scenarios/quickstart"), &plan, None, &[]);
    let held = run_with(
        Path::new("scenarios/quickstart"),
        &RunOptions {
            reservations_from: Some(plan.clone()),
            ..RunOptions::plan(SolverKind::default_kind())
        },
    )
    .unwrap();
    assert!(held.plan.held.is_some());
    assert!(
        rel(
            held.plan.objective,
            summary(&plan)["objective"].as_f64().unwrap()
        ) < 1e-9
    );
}
