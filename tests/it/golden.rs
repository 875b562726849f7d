//! Golden files: `capplan run` on small scenario folders must write exactly the stored outputs
//! (apart from `solve_seconds`), and the same run twice must give byte-identical files.
//! `UPDATE_GOLDEN=1 cargo test --test it golden::` rewrites the stored files after a deliberate change.

use std::path::{Path, PathBuf};

use crate::common::capplan;

const FILES: [&str; 7] = [
    "summary.json",
    "allocation.csv",
    "commitments.csv",
    "shortfalls.csv",
    "provider_periods.csv",
    "region_periods.csv",
    "chart_info.json",
];

/// `solve_seconds` is the one field that changes between identical runs.
fn without_timing(text: &str) -> String {
    text.lines()
        .map(|l| {
            if l.trim_start().starts_with("\"solve_seconds\"") {
                "  \"solve_seconds\": <timing>,"
            } else {
                l
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn check_golden(scenario: &str, golden: &str) {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("run");
    // The default run, as a planner types it (the decomposition, exact on every build: the
    // golden files do not depend on which LP backends are compiled in).
    let (code, stdout, stderr) = capplan(&[
        "run",
        scenario,
        "--out",
        dir.to_str().unwrap(),
        "--no-charts",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let golden_dir = PathBuf::from("tests/golden").join(golden);
    let update = std::env::var_os("UPDATE_GOLDEN").is_some();
    let stdout = stdout.replace(dir.to_str().unwrap(), "<out>");
    let mut pairs: Vec<(String, String)> = vec![("stdout.txt".into(), stdout)];
    for f in FILES {
        let text = std::fs::read_to_string(dir.join(f)).unwrap();
        pairs.push((
            f.to_string(),
            if f == "summary.json" {
                without_timing(&text)
            } else {
                text
            },
        ));
    }
    for (name, got) in pairs {
        let path = golden_dir.join(&name);
        if update {
            std::fs::create_dir_all(&golden_dir).unwrap();
            std::fs::write(&path, &got).unwrap();
            continue;
        }
        let want =
            std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("missing {}", path.display()));
        assert_eq!(got, want, "{} differs from {}", name, path.display());
    }
}

#[test]
fn quickstart_matches_golden_files() {
    check_golden("scenarios/quickstart", "quickstart");
}

#[test]
fn shortfalls_share_cap_and_n_minus_one_match_golden_files() {
    check_golden("tests/scenarios/tight", "tight");
}

fn run_into(dir: &Path) {
    let (code, _, stderr) = capplan(&[
        "run",
        "scenarios/quickstart",
        "--out",
        dir.to_str().unwrap(),
        "--chart-size",
        "640x360",
    ]);
    assert_eq!(code, 0, "{stderr}");
}

#[test]
fn same_input_gives_byte_identical_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
    run_into(&a);
    run_into(&b);
    let mut names: Vec<String> = std::fs::read_dir(&a)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(names.len() >= 15, "data files and charts: {names:?}");
    for name in names {
        let (x, y) = (
            std::fs::read(a.join(&name)).unwrap(),
            std::fs::read(b.join(&name)).unwrap(),
        );
        if name == "summary.json" {
            let (x, y) = (String::from_utf8(x).unwrap(), String::from_utf8(y).unwrap());
            assert_eq!(without_timing(&x), without_timing(&y));
        } else {
            assert!(x == y, "{name} differs between identical runs");
        }
    }
}

#[test]
fn chart_command_redraws_the_same_charts_from_a_run() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    run_into(&dir);
    let before = std::fs::read(dir.join("capacity_vs_demand.svg")).unwrap();
    std::fs::remove_file(dir.join("capacity_vs_demand.svg")).unwrap();
    let (code, stdout, stderr) =
        capplan(&["chart", dir.to_str().unwrap(), "--chart-size", "640x360"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("capacity_vs_demand.svg"));
    assert_eq!(
        std::fs::read(dir.join("capacity_vs_demand.svg")).unwrap(),
        before
    );
}

#[test]
fn chart_command_on_a_folder_that_is_not_a_run_fails_cleanly() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, stderr) = capplan(&["chart", tmp.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("chart_info.json"), "{stderr}");
}

#[test]
fn a_rerun_into_the_same_folder_leaves_no_stale_outputs() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("run");
    run_into(&dir);
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    let (code, _, stderr) = capplan(&[
        "run",
        "scenarios/quickstart",
        "--out",
        dir.to_str().unwrap(),
        "--no-charts",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert!(
        !names
            .iter()
            .any(|n| n.ends_with(".png") || n.ends_with(".svg")),
        "stale charts: {names:?}"
    );
    assert!(
        names.contains(&"notes.txt".to_string()),
        "files capplan did not write are left alone"
    );
    assert!(names.contains(&"summary.json".to_string()));
}
