//! The bundled scenarios: every folder under `scenarios/` validates and solves, and the main
//! scenario's run writes every chart, decodable, at the size asked for.

mod common;

use common::capplan;

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

/// Bundled scenarios solved here without N-1: with it, the one LP over 2,208 hourly periods takes
/// minutes, too long for every test run; without it (seconds) it still proves the data plans.
const SOLVED_WITHOUT_N1: &[&str] = &["scenarios/frontier-2026-hourly"];

#[test]
fn every_bundled_scenario_solves() {
    let tmp = tempfile::tempdir().unwrap();
    let folders = scenario_folders();
    for s in SOLVED_WITHOUT_N1 {
        assert!(folders.iter().any(|f| f == s), "{s} is not bundled");
    }
    for s in folders {
        let out = tmp.path().join(s.replace('/', "_"));
        let mut args = vec![
            "run",
            &s,
            "--out",
            out.to_str().unwrap(),
            "--no-charts",
            "--format",
            "json",
        ];
        if SOLVED_WITHOUT_N1.contains(&s.as_str()) {
            args.extend(["--set", "policy.survive_provider_loss=false"]);
        }
        let (code, stdout, stderr) = capplan(&args);
        assert_eq!(code, 0, "{s}: {stderr}");
        let summary: serde_json::Value = serde_json::from_str(&stdout).unwrap();
        assert!(summary["cost"].as_f64().unwrap() > 0.0, "{s}");
        assert!(out.join("allocation.csv").is_file() && out.join("shortfalls.csv").is_file());
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
