//! `capplan resilience`: hand-checked stress tests, the independent check against `run
//! --reservations-from … --emergency --outage …`, and the matrix's invariants.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::{capplan, rel, Folder};

fn ok(args: &[&str]) -> String {
    let (code, stdout, stderr) = capplan(args);
    assert_eq!(code, 0, "{args:?}\n{stderr}");
    stdout
}

#[derive(Debug, Clone, Copy)]
struct Row {
    served_pct: f64,
    worst_period_served_pct: Option<f64>,
    unserved_tokens: f64,
    dispatch_cost: f64,
    plan_cost: f64,
}

/// resilience.csv as (plan, lost) → row.
fn matrix(dir: &Path) -> BTreeMap<(String, String), Row> {
    let mut r = csv::Reader::from_path(dir.join("resilience.csv")).unwrap();
    assert_eq!(
        r.headers().unwrap(),
        vec![
            "plan",
            "lost_provider",
            "served_pct",
            "worst_period_served_pct",
            "unserved_tokens",
            "dispatch_cost",
            "plan_cost"
        ]
    );
    r.records()
        .map(|x| {
            let x = x.unwrap();
            let f = |i: usize| x[i].parse::<f64>().unwrap();
            (
                (x[0].to_string(), x[1].to_string()),
                Row {
                    served_pct: f(2),
                    worst_period_served_pct: (!x[3].is_empty()).then(|| f(3)),
                    unserved_tokens: f(4),
                    dispatch_cost: f(5),
                    plan_cost: f(6),
                },
            )
        })
        .collect()
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

/// Two providers in one region, one month: a ($1/M, 2M reserved at $30/h), b ($2/M, 2M at
/// $40/h); demand 3M. N-1 at 50% coverage; unserved penalty $100/M (above every price).
fn two_clouds() -> Folder {
    Folder::new()
        .file("s/demand.csv", "period,tokens_per_minute\n2026-02-01,3M\n")
        .file(
            "s/capacity.csv",
            "provider,tranche,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour\n\
             a,a,2M,1,30\nb,b,2M,2,40\n",
        )
        .file(
            "s/scenario.toml",
            "name = \"two\"\nhorizon_end = \"2026-03-01\"\n[policy]\nunserved_penalty = 100\nsurvive_provider_loss = true\nloss_coverage = 0.5\nmax_provider_share = 0.7\n",
        )
}

#[test]
fn single_cloud_plans_serve_nothing_when_their_provider_is_lost() {
    let f = two_clouds();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("r");
    let stdout = ok(&[
        "resilience",
        f.sub("s").to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
        "--no-charts",
    ]);
    let m = matrix(&dir);
    for p in ["a", "b"] {
        let lost = m[&(format!("single:{p}"), p.to_string())];
        assert_eq!(lost.served_pct, 0.0, "single:{p} losing {p}");
        assert_eq!(lost.worst_period_served_pct, Some(0.0));
        assert!(rel(lost.unserved_tokens, 3e6 * 40_320.0) < 1e-9);
        // Losing the other provider changes nothing for a single-cloud plan.
        let other = if p == "a" { "b" } else { "a" };
        let none = m[&(format!("single:{p}"), "none".into())];
        let o = m[&(format!("single:{p}"), other.into())];
        assert!(rel(o.served_pct, none.served_pct) < 1e-12);
    }
    // A single provider of 2M serves 2/3 of the 3M demand with nothing lost.
    assert!(
        rel(
            m[&("single:a".into(), "none".into())].served_pct,
            200.0 / 3.0
        ) < 1e-9
    );
    assert!(stdout.contains("multi-cloud: $"), "{stdout}");
    // Neither single-cloud plan serves what multi-cloud serves: said, and no cost compared.
    assert!(
        stdout.contains("no single cloud can serve the demand: a alone can serve at most 66.6% of demand (the most of any provider), so no single-cloud plan is compared with multi-cloud on cost"),
        "{stdout}"
    );
    assert!(
        stdout.contains("single-cloud plans: max provider share 70% relaxed to 100%, N-1 dropped"),
        "{stdout}"
    );
}

#[test]
fn n_minus_one_plans_keep_their_coverage_under_any_single_loss() {
    // The multi-cloud plan has no N-1 shortfall (checked), the penalty exceeds every price: under
    // any single loss, every period still serves at least loss_coverage = 50% of demand.
    let f = two_clouds();
    let out = tempfile::tempdir().unwrap();
    let run = out.path().join("run");
    ok(&[
        "run",
        f.sub("s").to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
        "--no-charts",
    ]);
    assert_eq!(summary(&run)["resilience_shortfall_tokens"], 0);
    let dir = out.path().join("r");
    ok(&[
        "resilience",
        f.sub("s").to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
        "--no-charts",
    ]);
    let m = matrix(&dir);
    for lost in ["a", "b"] {
        let row = m[&("multi-cloud".into(), lost.into())];
        assert!(
            row.worst_period_served_pct.unwrap() >= 50.0 - 1e-9,
            "{lost}: {row:?}"
        );
    }
}

#[test]
fn rows_equal_the_spelled_out_held_dispatch() {
    // For every plan, each `lose q` row equals `run <plan scenario> --reservations-from <plan>
    // --emergency --outage q@<horizon start>..<horizon end>`; plan_cost equals run's cost.
    let f = two_clouds();
    let s = f.sub("s");
    let s = s.to_str().unwrap();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("r");
    ok(&[
        "resilience",
        s,
        "--out",
        dir.to_str().unwrap(),
        "--no-charts",
    ]);
    let m = matrix(&dir);
    let plan_flags: [(&str, Vec<&str>); 3] = [
        ("multi-cloud", vec![]),
        (
            "single:a",
            vec![
                "--only",
                "a",
                "--set",
                "policy.max_provider_share=1",
                "--set",
                "policy.survive_provider_loss=false",
            ],
        ),
        (
            "single:b",
            vec![
                "--only",
                "b",
                "--set",
                "policy.max_provider_share=1",
                "--set",
                "policy.survive_provider_loss=false",
            ],
        ),
    ];
    for (plan, flags) in &plan_flags {
        let plan_dir = out.path().join(plan.replace(':', "-"));
        let mut args = vec!["run", s, "--out", plan_dir.to_str().unwrap(), "--no-charts"];
        args.extend(flags.iter().copied());
        ok(&args);
        let planned = summary(&plan_dir);
        for lost in ["none", "a", "b"] {
            let held_dir = out
                .path()
                .join(format!("{}-{lost}", plan.replace(':', "-")));
            let outage = format!("{lost}@2026-02-01T00:00Z..2026-03-01T00:00Z");
            let mut args = vec![
                "run",
                s,
                "--out",
                held_dir.to_str().unwrap(),
                "--no-charts",
                "--reservations-from",
                plan_dir.to_str().unwrap(),
                "--emergency",
            ];
            args.extend(flags.iter().copied());
            if lost != "none" {
                args.extend(["--outage", outage.as_str()]);
            }
            ok(&args);
            let held = summary(&held_dir);
            let row = m[&(plan.to_string(), lost.to_string())];
            let served = held["served_fraction"].as_f64().unwrap() * 100.0;
            assert!(
                (row.served_pct - served).abs() < 1e-9,
                "{plan}/{lost}: {} vs {served}",
                row.served_pct
            );
            assert!(
                rel(row.dispatch_cost, held["cost"].as_f64().unwrap()) < 1e-9,
                "{plan}/{lost}"
            );
            let unserved = held["unserved_tokens"].as_f64().unwrap();
            assert!((row.unserved_tokens - unserved).abs() <= 1e-9 * unserved.max(1.0));
            assert!(
                rel(row.plan_cost, planned["cost"].as_f64().unwrap()) < 1e-9,
                "{plan} plan_cost"
            );
        }
    }
}

#[test]
fn losing_capacity_never_helps_and_a_rush_never_serves_more() {
    let out = tempfile::tempdir().unwrap();
    let full = out.path().join("full");
    let half = out.path().join("half");
    for (dir, availability) in [(&full, "1"), (&half, "0.5")] {
        ok(&[
            "resilience",
            "scenarios/frontier-2026",
            "--out",
            dir.to_str().unwrap(),
            "--no-charts",
            "--on-demand-availability",
            availability,
            "--plans",
            "all-but:aws",
        ]);
    }
    let (full, half) = (matrix(&full), matrix(&half));
    let json: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("full/resilience.json")).unwrap(),
    )
    .unwrap();
    let objective = |plan: &str, lost: &str| {
        json["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["plan"] == plan && r["lost_provider"] == lost)
            .unwrap()["dispatch_objective"]
            .as_f64()
            .unwrap()
    };
    assert!(full.contains_key(&("all-but:aws".into(), "none".into())));
    for ((plan, lost), row) in &full {
        if lost == "none" {
            continue;
        }
        let none = objective(plan, "none");
        assert!(
            objective(plan, lost) >= none * (1.0 - 1e-9),
            "{plan}/{lost}: losing capacity lowered the objective"
        );
        let h = half[&(plan.clone(), lost.clone())];
        assert!(
            h.served_pct <= row.served_pct + 1e-9,
            "{plan}/{lost}: {} > {}",
            h.served_pct,
            row.served_pct
        );
    }
    // plan_cost reproduces `run`'s cost for the multi-cloud plan.
    let run = out.path().join("run");
    ok(&[
        "run",
        "scenarios/frontier-2026",
        "--out",
        run.to_str().unwrap(),
        "--no-charts",
    ]);
    let cost = summary(&run)["cost"].as_f64().unwrap();
    assert!(rel(full[&("multi-cloud".into(), "none".into())].plan_cost, cost) < 1e-9);
}

#[test]
fn losses_by_region_and_in_pairs_are_named_as_documented() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("r");
    ok(&[
        "resilience",
        "scenarios/quickstart",
        "--out",
        dir.to_str().unwrap(),
        "--no-charts",
        "--by",
        "region",
        "--lose",
        "2",
    ]);
    let m = matrix(&dir);
    let losses: std::collections::BTreeSet<&str> = m.keys().map(|(_, l)| l.as_str()).collect();
    for l in [
        "none",
        "aws/us",
        "azure/eu",
        "azure/us",
        "onprem/us",
        "aws/us+azure/eu",
        "azure/eu+azure/us",
    ] {
        assert!(losses.contains(l), "{l}: {losses:?}");
    }
    let (code, _, stderr) = capplan(&[
        "resilience",
        "scenarios/quickstart",
        "--plans",
        "all-but:nosuch",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("provider 'nosuch'"), "{stderr}");
}

#[test]
fn a_loss_window_is_prorated_like_an_outage() {
    // Losing b for one week of February (a quarter of the month): the multi-cloud plan serves
    // at least as much as losing b all month.
    let f = two_clouds();
    let out = tempfile::tempdir().unwrap();
    let week = out.path().join("week");
    let month = out.path().join("month");
    ok(&[
        "resilience",
        f.sub("s").to_str().unwrap(),
        "--out",
        week.to_str().unwrap(),
        "--no-charts",
        "--window",
        "2026-02-08..2026-02-15",
    ]);
    ok(&[
        "resilience",
        f.sub("s").to_str().unwrap(),
        "--out",
        month.to_str().unwrap(),
        "--no-charts",
    ]);
    let (w, m) = (matrix(&week), matrix(&month));
    let key = ("multi-cloud".to_string(), "b".to_string());
    assert!(
        w[&key].served_pct > m[&key].served_pct,
        "{:?} vs {:?}",
        w[&key],
        m[&key]
    );
    // Single a losing a for a quarter of the month serves 3/4 of its own 2/3.
    let key = ("single:a".to_string(), "a".to_string());
    assert!(
        rel(w[&key].served_pct, 0.75 * 200.0 / 3.0) < 1e-9,
        "{:?}",
        w[&key]
    );
}

/// Demand 1M tokens/min in February 2026; on demand (no commitment): big 1.2M at $2/M and small
/// 0.6M at $1/M. Multi-cloud takes small's 0.6M and 0.4M of big: (0.6 × 1 + 0.4 × 2) / 1 =
/// $1.40/M. single:big serves 100% at $2.00/M; single:small at most 60% (its whole 0.6M).
fn big_and_small() -> Folder {
    Folder::new()
        .file("s/demand.csv", "period,tokens_per_minute\n2026-02-01,1M\n")
        .file(
            "s/capacity.csv",
            "provider,tranche,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour\n\
             big,big,1.2M,2,0\nsmall,small,0.6M,1,0\n",
        )
        .file(
            "s/scenario.toml",
            "name = \"big-and-small\"\nhorizon_end = \"2026-03-01\"\n",
        )
}

#[test]
fn single_cloud_plans_are_compared_on_cost_only_where_they_serve_as_much() {
    let f = big_and_small();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("r");
    let stdout = ok(&[
        "resilience",
        f.sub("s").to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
        "--no-charts",
    ]);
    let verdict: Vec<&str> = stdout.lines().skip(2).take(3).collect();
    assert_eq!(
        verdict,
        [
            "multi-cloud: $1.40/M, serves 100%, and losing any one provider still serves at least 60% (worst: big, 2026-02 at 60%)",
            "big alone also serves 100% with nothing lost, at $2.00/M against multi-cloud's $1.40/M, and 0% when big is lost",
            "1 other single-cloud plan cannot serve the demand and is not compared on cost (the most: small alone can serve at most 60% of demand)",
        ],
        "{stdout}"
    );
    // The most each plan can serve: its whole offer held, dispatched with nothing lost.
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("resilience.json")).unwrap())
            .unwrap();
    let most = |plan: &str| {
        let plans = j["plans"].as_array().unwrap();
        let p = plans.iter().find(|p| p["plan"] == plan).unwrap();
        p["max_served_pct"].as_f64().unwrap()
    };
    assert!(rel(most("single:small"), 60.0) < 1e-9);
    assert!(rel(most("single:big"), 100.0) < 1e-9);
    assert!(rel(most("multi-cloud"), 100.0) < 1e-9);
    let md = std::fs::read_to_string(dir.join("resilience.md")).unwrap();
    let row = md
        .lines()
        .find(|l| l.starts_with("| single:small |"))
        .unwrap();
    let cells: Vec<&str> = row.split('|').map(str::trim).collect();
    // plan, plan spend, $/M served, served nothing lost, most it can serve, …
    assert_eq!(
        &cells[1..6],
        ["single:small", "$24.2K", "$1.00", "60%", "60%"],
        "{row}"
    );
}

/// Monthly, January to June 2026: demand 1.5M tokens/min, 3.5M in June; a ($1/M) and b ($2/M),
/// 1M each on demand. June is short whatever is lost: 2 / 3.5 = 57.1%. Losing a (or b) in March
/// only leaves March at 1 / 1.5 = 66.7%.
fn short_june() -> Folder {
    let months = ["01", "02", "03", "04", "05", "06"];
    let demand: String = months
        .iter()
        .map(|m| format!("2026-{m}-01,{}\n", if *m == "06" { "3.5M" } else { "1.5M" }))
        .collect();
    Folder::new()
        .file(
            "s/demand.csv",
            &format!("period,tokens_per_minute\n{demand}"),
        )
        .file(
            "s/capacity.csv",
            "provider,tranche,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour\n\
             a,a,1M,1,0\nb,b,1M,2,0\n",
        )
        .file(
            "s/scenario.toml",
            "name = \"short-june\"\nhorizon_end = \"2026-07-01\"\n",
        )
}

#[test]
fn a_loss_window_names_its_worst_period_inside_the_window() {
    let f = short_june();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("r");
    let stdout = ok(&[
        "resilience",
        f.sub("s").to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
        "--no-charts",
        "--window",
        "2026-03-01..2026-04-01",
    ]);
    // June (57.1%) is lower, but the loss is in March: the worst period of the loss is March.
    assert!(stdout.contains("(worst: a, 2026-03 at 66.6%)"), "{stdout}");
    assert!(!stdout.contains("2026-06"), "{stdout}");
    let m = matrix(&dir);
    for lost in ["a", "b"] {
        let row = m[&("multi-cloud".to_string(), lost.to_string())];
        assert!(
            rel(row.worst_period_served_pct.unwrap(), 100.0 / 1.5) < 1e-9,
            "{lost}: {row:?}"
        );
    }
    // With nothing lost, the window's only period (March) is served in full.
    let none = m[&("multi-cloud".to_string(), "none".to_string())];
    assert_eq!(none.worst_period_served_pct, Some(100.0));
    let j: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("resilience.json")).unwrap())
            .unwrap();
    let rows = j["rows"].as_array().unwrap();
    let a = rows
        .iter()
        .find(|r| r["plan"] == "multi-cloud" && r["lost_provider"] == "a")
        .unwrap();
    assert_eq!(a["worst_period"], "2026-03");
    // Without a window the loss covers June too, which is then the worst.
    let whole = out.path().join("whole");
    let stdout = ok(&[
        "resilience",
        f.sub("s").to_str().unwrap(),
        "--out",
        whole.to_str().unwrap(),
        "--no-charts",
    ]);
    assert!(stdout.contains("(worst: a, 2026-06 at "), "{stdout}");
}
