//! What a planner sees: warnings that catch spreadsheet slips, shortfall causes, idle
//! reservations and words, each with its exact message.

use crate::common::{capplan, command, Folder};

fn warnings(folder: &std::path::Path) -> Vec<String> {
    let (code, stdout, stderr) =
        capplan(&["validate", folder.to_str().unwrap(), "--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| match w {
            serde_json::Value::String(s) => s.clone(),
            other => format!(
                "{}:{}: column '{}': {}",
                other["file"].as_str().unwrap_or(""),
                other["line"],
                other["column"].as_str().unwrap_or(""),
                other["message"].as_str().unwrap_or("")
            ),
        })
        .collect()
}

const MONTHLY: &str = "period,tokens_per_minute\n2026-01-01,1M\n2026-02-01,1M\n2026-03-01,1M\n\
2026-03-15,1M\n2026-04-01,1M\n2026-05-01,1M\n2026-06-01,1M\n";

#[test]
fn a_mistyped_date_that_adds_a_period_is_named() {
    let f = Folder::new()
        .file("demand.csv", MONTHLY)
        .file("capacity.csv", "provider,capacity_tpm\na,5M\n");
    let w = warnings(f.path());
    let line = w
        .iter()
        .find(|w| w.contains("breaks the monthly grid"))
        .unwrap_or_else(|| panic!("{w:#?}"));
    assert!(
        line.ends_with("demand.csv:5: column 'period': period 2026-03-15T00:00:00Z breaks the monthly grid of the other periods (2026-03-01T00:00:00Z → 2026-03-15T00:00:00Z → 2026-04-01T00:00:00Z); if it is a typo, fix the date: it adds a period of its own"),
        "{line}"
    );
    // A regular grid says nothing.
    let f = Folder::new()
        .file("demand.csv", "period,tokens_per_minute\n2026-01-01,1M\n2026-02-01,1M\n2026-03-01,1M\n2026-04-01,1M\n2026-05-01,1M\n")
        .file("capacity.csv", "provider,capacity_tpm\na,5M\n");
    assert!(!warnings(f.path()).iter().any(|w| w.contains("grid")));
}

#[test]
fn a_region_no_tranche_can_serve_is_named_with_its_likely_spelling() {
    let f = Folder::new()
        .file("demand.csv", "period,region,tokens_per_minute\n2026-01-01,us,1M\n2026-01-01,EU,1M\n2026-02-01,us,1M\n")
        .file("capacity.csv", "provider,region,capacity_tpm\na,us,5M\na,eu,5M\n");
    let w = warnings(f.path());
    let line = w
        .iter()
        .find(|w| w.contains("demand region 'EU'"))
        .unwrap_or_else(|| panic!("{w:#?}"));
    assert!(
        line.ends_with("demand.csv:3: column 'region': demand region 'EU' has no tranche that can serve it (no capacity in 'EU' and no route to it), so all its demand goes unserved; did you mean 'eu'?"),
        "{line}"
    );
}

#[test]
fn a_share_cap_one_provider_cannot_satisfy_is_named() {
    let f = Folder::new()
        .file(
            "demand.csv",
            "period,tokens_per_minute\n2026-01-01,1M\n2026-02-01,1M\n",
        )
        .file("capacity.csv", "provider,capacity_tpm\nazure,5M\n")
        .file("scenario.toml", "[policy]\nmax_provider_share = 0.35\n");
    let w = warnings(f.path());
    let line = w
        .iter()
        .find(|w| w.contains("max_provider_share"))
        .unwrap_or_else(|| panic!("{w:#?}"));
    assert!(
        line.ends_with("scenario.toml: max_provider_share 35% with 1 provider able to serve lets at most 35% of demand be served in every period; expected at least 3 providers, or a higher max_provider_share (set it to 1 for a single-cloud plan)"),
        "{line}"
    );
}

#[test]
fn shortfall_causes_are_found_by_rule() {
    // One month, demand 3M. a: 2M at $1/M; b: 1M on demand at $20/M.
    // - share cap 50%: a may serve 1.5M, b 1M → 0.5M unserved, removed with the cap off: share cap.
    // - penalty $5/M below b's $20/M (no cap): b stays idle, 1M unserved, removed with the
    //   penalty raised: penalty below price.
    // - a alone (2M), penalty high: 1M unserved whatever: capacity.
    let cases = [
        (
            "[policy]\nmax_provider_share = 0.5\nunserved_penalty = 100\n",
            "a,2M,1\nb,1M,20\n",
            "share cap",
        ),
        (
            "[policy]\nunserved_penalty = 5\n",
            "a,2M,1\nb,1M,20\n",
            "penalty below price",
        ),
        ("[policy]\nunserved_penalty = 100\n", "a,2M,1\n", "capacity"),
    ];
    for (toml, capacity, cause) in cases {
        let f = Folder::new()
            .file("s/demand.csv", "period,tokens_per_minute\n2026-02-01,3M\n")
            .file(
                "s/capacity.csv",
                &format!("provider,capacity_tpm,cost_per_million_tokens\n{capacity}"),
            )
            .file(
                "s/scenario.toml",
                &format!("horizon_end = \"2026-03-01\"\n{toml}"),
            );
        let out = f.sub("out");
        let (code, stdout, stderr) = capplan(&[
            "run",
            f.sub("s").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
            "--no-charts",
        ]);
        assert_eq!(code, 0, "{stderr}");
        let csv = std::fs::read_to_string(out.join("shortfalls.csv")).unwrap();
        let row = csv
            .lines()
            .nth(1)
            .unwrap_or_else(|| panic!("{cause}: {csv}"));
        assert!(
            row.starts_with("unserved,2026-02-01T00:00:00Z,global,,"),
            "{row}"
        );
        assert!(row.ends_with(&format!(",{cause}")), "{cause}: {row}");
        assert!(stdout.contains("unserved in global (cause: "), "{stdout}");
    }
}

#[test]
fn idle_reservations_and_on_demand_use_are_in_the_tables() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("q");
    let (code, _, stderr) = capplan(&[
        "run",
        "scenarios/quickstart",
        "--out",
        dir.to_str().unwrap(),
        "--no-charts",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let csv = std::fs::read_to_string(dir.join("provider_periods.csv")).unwrap();
    assert!(csv.starts_with("period,minutes,provider,available_tpm,reserved_tpm,served_tpm,on_demand_tpm,idle_reserved_tpm,"));
    // February: AWS holds 1.5B reserved and serves 1.0B (idle 0.5B); March: 0.5B on demand.
    assert!(
        csv.contains(
            "2026-02-01T00:00:00Z,40320,aws,6000000000,1500000000,1000000000,0,500000000,"
        ),
        "{csv}"
    );
    assert!(
        csv.contains(
            "2026-03-01T00:00:00Z,44640,aws,6000000000,1500000000,2000000000,500000000,0,"
        ),
        "{csv}"
    );
}

#[test]
fn words_a_planner_reads() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("f");
    let (_, stdout, _) = capplan(&[
        "run",
        "scenarios/frontier-2026",
        "--out",
        dir.to_str().unwrap(),
        "--no-charts",
    ]);
    assert!(
        stdout.contains("served       100% of 29.3 quadrillion tokens"),
        "{stdout}"
    );
    let (_, stdout, _) = capplan(&["validate", "scenarios/frontier-2026"]);
    assert!(
        stdout.contains("periods    24 monthly periods of 28 to 31 days long"),
        "{stdout}"
    );
    // The penalty part of an objective is said when it matters.
    let dir = out.path().join("t");
    let (_, stdout, _) = capplan(&[
        "run",
        "tests/scenarios/tight",
        "--out",
        dir.to_str().unwrap(),
        "--no-charts",
    ]);
    assert!(stdout.contains("objective    $2.3B = spend $251.2M + penalties $2.0B (89% of it: $1.6B for unserved demand at $50/M, $486.0M for N-1 shortfall at $5/M)"), "{stdout}");
    // Issue 18: money paid is spend; the objective and its penalties are never called cost.
    assert!(
        stdout.contains("spend        $251.2M  ($0.68 per million tokens served)"),
        "{stdout}"
    );
    assert!(!stdout.contains("cost"), "{stdout}");
    // `run --format json` carries the shortfalls in words and the warnings.
    let (_, stdout, _) = capplan(&[
        "run",
        "tests/scenarios/tight",
        "--out",
        dir.to_str().unwrap(),
        "--no-charts",
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        v["shortfalls"][0],
        "2026-01: 500.0M tokens/min unserved in eu (cause: the share cap; the capacity is there)"
    );
    assert!(v["warnings"].is_array());
}

#[test]
fn run_inside_a_scenario_folder_says_to_pass_out() {
    let f = Folder::new()
        .file(
            "demand.csv",
            "period,tokens_per_minute\n2026-01-01,1M\n2026-02-01,1M\n",
        )
        .file("capacity.csv", "provider,capacity_tpm\na,5M\n");
    let out = command()
        .args(["run", "."])
        .current_dir(f.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains("pass --out with a folder outside it"),
        "{stderr}"
    );
    assert!(!f.path().join("output").exists());
}

/// Issue 18, item 4: a report says only what was checked. Held under emergency rules (no share
/// cap, no N-1) it does not claim that losing a provider still covers demand; held under the
/// policy it does, because the N-1 blocks were solved.
#[test]
fn an_emergency_run_claims_nothing_about_losing_a_provider() {
    let out = tempfile::tempdir().unwrap();
    let plan = out.path().join("plan");
    let run = |extra: &[&str], dir: &std::path::Path| -> String {
        let mut args = vec![
            "run",
            "scenarios/frontier-2026",
            "--out",
            dir.to_str().unwrap(),
            "--no-charts",
        ];
        args.extend_from_slice(extra);
        let (code, stdout, stderr) = capplan(&args);
        assert_eq!(code, 0, "{stderr}");
        stdout
    };
    run(&[], &plan);
    let held = ["--reservations-from", plan.to_str().unwrap()];
    let policy = run(&held, &out.path().join("held"));
    assert!(
        policy.contains(
            "no shortfalls: all demand served, and losing any one provider still covers 80%"
        ),
        "{policy}"
    );
    let emergency = run(
        &[held[0], held[1], "--emergency"],
        &out.path().join("emergency"),
    );
    assert!(
        emergency.contains("emergency rules: no share cap, no N-1"),
        "{emergency}"
    );
    assert!(
        emergency.contains("no shortfalls: all demand served\n"),
        "{emergency}"
    );
    assert!(
        !emergency.contains("losing any one provider"),
        "{emergency}"
    );
}

/// Issue 18, item 2: a held run (`--reservations-from`) is named `…+held-<plan>` (and
/// `+emergency` under emergency rules), so it never overwrites the re-planned run of the same
/// scenario and what-ifs: every earlier folder is left as it was.
#[test]
fn held_runs_are_named_as_held_and_overwrite_nothing() {
    let cwd = tempfile::tempdir().unwrap();
    let scenario = std::fs::canonicalize("scenarios/quickstart").unwrap();
    let scenario = scenario.to_str().unwrap();
    let run = |args: &[&str]| {
        let mut cmd = crate::common::command();
        cmd.current_dir(cwd.path()).args(args);
        let (code, _, stderr) = crate::common::output(&mut cmd);
        assert_eq!(code, 0, "{args:?}: {stderr}");
    };
    let flags = ["--no-charts", "--quiet", "--demand-scale", "1.2"];
    run(&[&["run", scenario][..], &flags].concat());
    run(&["run", scenario, "--no-charts", "--quiet"]);
    let out = cwd.path().join("output");
    let snapshot = |name: &str| std::fs::read(out.join(name).join("summary.json")).unwrap();
    let (replanned, plan) = (
        snapshot("quickstart+demand-scale-1.2"),
        snapshot("quickstart"),
    );
    run(&[
        &["run", scenario, "--reservations-from", "output/quickstart"][..],
        &flags,
    ]
    .concat());
    run(&[
        "run",
        scenario,
        "--reservations-from",
        "output/quickstart",
        "--emergency",
        "--no-charts",
        "--quiet",
    ]);
    assert_eq!(snapshot("quickstart+demand-scale-1.2"), replanned);
    assert_eq!(snapshot("quickstart"), plan);
    for held in [
        "quickstart+demand-scale-1.2+held-quickstart",
        "quickstart+held-quickstart+emergency",
    ] {
        assert!(out.join(held).join("summary.json").is_file(), "{held}");
        // The chart tables say the run is held, so its capacity chart draws only what the held
        // plan can use (its reservations and on-demand offers, quickstart's aws and azure
        // on-demand tranches: 2B and 1B tokens/min in January).
        let info = std::fs::read_to_string(out.join(held).join("chart_info.json")).unwrap();
        assert!(info.contains("\"held_to\": \"quickstart\""), "{info}");
        let periods = std::fs::read_to_string(out.join(held).join("provider_periods.csv")).unwrap();
        let jan: Vec<&str> = periods
            .lines()
            .filter(|l| l.starts_with("2026-01-01T00:00:00Z"))
            .collect();
        let offer = |line: &str| line.split(',').nth(8).unwrap().to_string();
        assert_eq!(
            jan.iter().map(|l| offer(l)).collect::<Vec<_>>(),
            ["2000000000", "1000000000", "0"],
            "on_demand_available_tpm"
        );
    }
}
