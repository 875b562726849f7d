//! The bundled scenarios: every folder under `scenarios/` validates and solves, and the main
//! scenario's run writes every chart, decodable, at the size asked for.

use crate::common::capplan;

fn scenario_folders() -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir("scenarios")
        .unwrap()
        .map(|e| e.unwrap().path())
        // scenarios/sweeps holds sweep files (capplan sweep), not a scenario.
        .filter(|p| p.is_dir() && !p.ends_with("sweeps"))
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    v.sort();
    assert!(v.len() >= 4, "bundled scenarios: {v:?}");
    v
}

#[test]
fn every_bundled_scenario_validates() {
    for s in scenario_folders() {
        let (code, stdout, stderr) = capplan(&["validate", &s]);
        assert_eq!(code, 0, "{s}: {stderr}");
        assert!(stdout.contains("tokens/min"), "{s}: {stdout}");
    }
}

/// The outputs of a run carry no solver noise: every reserved fraction is 0 or at least 1e-7
/// (min_commit aside), served never exceeds demand in a cell, `served_fraction` never exceeds 1,
/// and where the plan serves everything no row says "unserved".
fn assert_clean(s: &str, out: &std::path::Path, summary: &serde_json::Value) {
    let read = |name: &str| -> Vec<std::collections::HashMap<String, String>> {
        let mut r = csv::Reader::from_path(out.join(name)).unwrap();
        let headers = r.headers().unwrap().clone();
        r.records()
            .map(|row| {
                headers
                    .iter()
                    .zip(row.unwrap().iter())
                    .map(|(h, v)| (h.to_string(), v.to_string()))
                    .collect()
            })
            .collect()
    };
    let num = |row: &std::collections::HashMap<String, String>, col: &str| -> f64 {
        row[col]
            .parse()
            .unwrap_or_else(|_| panic!("{s}: {col} = {}", row[col]))
    };
    for row in read("commitments.csv") {
        let z = num(&row, "reserved_fraction");
        assert!(
            z == 0.0 || z >= 1e-7,
            "{s}: {} reserved {z}",
            row["tranche"]
        );
        assert!(z <= 1.0, "{s}: {} reserved {z}", row["tranche"]);
    }
    let everything_served = summary["unserved_tokens"].as_f64().unwrap() == 0.0;
    // With deferral a period's load includes tokens that arrived earlier, so served ≤ demand
    // holds per arrival (deferral.csv), not per period.
    let defers = out.join("deferral.csv").is_file();
    if defers {
        for row in read("deferral.csv") {
            let arrived = num(&row, "arrived_tokens");
            let parts = num(&row, "served_in_period_tokens")
                + num(&row, "served_later_tokens")
                + num(&row, "never_served_tokens");
            assert!(
                (parts - arrived).abs() <= 1e-9 * arrived.max(1.0),
                "{s}: {} {} {}: {parts} of {arrived}",
                row["period"],
                row["region"],
                row["workload"]
            );
        }
    }
    for row in read("region_periods.csv") {
        let (demand, served, unserved) = (
            num(&row, "demand_tpm"),
            num(&row, "served_tpm"),
            num(&row, "unserved_tpm"),
        );
        assert!(
            defers || served <= demand,
            "{s}: {} {} serves {served} > {demand}",
            row["period"],
            row["region"]
        );
        if everything_served {
            assert_eq!(unserved, 0.0, "{s}: {} {}", row["period"], row["region"]);
        }
    }
    let served_fraction = summary["served_fraction"].as_f64().unwrap();
    assert!(
        served_fraction <= 1.0,
        "{s}: served_fraction {served_fraction}"
    );
    if everything_served {
        assert_eq!(served_fraction, 1.0, "{s}");
        assert!(
            read("shortfalls.csv")
                .iter()
                .all(|r| r["kind"] != "unserved"),
            "{s}: an unserved row where everything is served"
        );
    }
}

#[test]
fn every_bundled_scenario_solves_with_clean_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    for s in scenario_folders() {
        // The hourly quarter with batch waiting a day: its decomposition solves the horizon's
        // network about 30 times (seconds in release, many minutes in a debug build), so it is
        // checked in release builds only (CI's second pass).
        if s.ends_with("hourly-batch") && cfg!(debug_assertions) {
            continue;
        }
        let out = tmp.path().join(s.replace('/', "_"));
        let (code, stdout, stderr) = capplan(&[
            "run",
            &s,
            "--out",
            out.to_str().unwrap(),
            "--no-charts",
            "--format",
            "json",
        ]);
        assert_eq!(code, 0, "{s}: {stderr}");
        let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert!(summary["cost"].as_f64().unwrap() > 0.0, "{s}");
        assert!(out.join("allocation.csv").is_file() && out.join("shortfalls.csv").is_file());
        assert_clean(&s, &out, &summary);
    }
}

/// Every method and backend on the monthly bundled scenarios (the hourly quarter's monolithic LP
/// is left to tests/it/decomposition.rs in release builds): the outputs are clean on each.
#[test]
fn outputs_are_clean_on_every_method_and_backend() {
    let tmp = tempfile::tempdir().unwrap();
    // (method, solver): the decomposition uses no LP backend, so it takes no --solver.
    let mut ways: Vec<(&str, &str)> = capplan::model::solve::SolverKind::available()
        .into_iter()
        .map(|k| ("monolithic", k.name()))
        .collect();
    ways.push(("decomposed", ""));
    for s in scenario_folders()
        .into_iter()
        .filter(|s| !s.contains("hourly"))
    {
        for (method, solver) in &ways {
            if *solver == "microlp" && s.contains("frontier") {
                continue; // 18k variables: minutes in microlp, checked on the small ones
            }
            let out = tmp
                .path()
                .join(format!("{}-{method}-{solver}", s.replace('/', "_")));
            let mut args = vec![
                "run",
                &s,
                "--out",
                out.to_str().unwrap(),
                "--no-charts",
                "--format",
                "json",
                "--method",
                method,
            ];
            if !solver.is_empty() {
                args.extend(["--solver", solver]);
            }
            let (code, stdout, stderr) = capplan(&args);
            assert_eq!(code, 0, "{s} {method} {solver}: {stderr}");
            let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
            assert_clean(&format!("{s} ({method}, {solver})"), &out, &summary);
        }
    }
}

#[test]
fn main_scenario_writes_every_chart_at_the_size_asked() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("frontier");
    let (code, _, stderr) = capplan(&[
        "run",
        "scenarios/frontier-2026",
        "--out",
        out.to_str().unwrap(),
        "--chart-size",
        "960x540",
    ]);
    assert_eq!(code, 0, "{stderr}");
    for chart in [
        "capacity_vs_demand",
        "allocation_by_provider",
        "cost_by_provider",
        "regions",
    ] {
        let png = std::fs::read(out.join(format!("{chart}.png"))).unwrap();
        let decoder = png::Decoder::new(png.as_slice());
        let reader = decoder.read_info().unwrap();
        assert_eq!(
            (reader.info().width, reader.info().height),
            (960, 540),
            "{chart}"
        );
        let svg = std::fs::read_to_string(out.join(format!("{chart}.svg"))).unwrap();
        assert!(
            svg.contains("frontier-2026") && svg.contains("azure") && svg.contains("onprem"),
            "{chart}"
        );
    }
}
