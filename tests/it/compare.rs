//! `capplan compare`: deltas against the individual runs, held comparisons worked out by hand,
//! output folders read without solving, the workbook read back, and bad arguments.

use std::collections::BTreeMap;
use std::path::Path;

use crate::common::{capplan, rel, Folder};
use calamine::{open_workbook, Data, Reader, Xlsx};

fn ok(args: &[&str]) -> String {
    let (code, stdout, stderr) = capplan(args);
    assert_eq!(code, 0, "{args:?}\n{stderr}");
    stdout
}

fn summary(dir: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap()
}

/// compare.csv as (scenario, metric, provider) → (value, delta).
fn table(dir: &Path) -> BTreeMap<(String, String, String), (f64, f64)> {
    let mut r = csv::Reader::from_path(dir.join("compare.csv")).unwrap();
    assert_eq!(
        r.headers().unwrap(),
        vec![
            "scenario",
            "metric",
            "provider",
            "value",
            "delta_vs_baseline"
        ]
    );
    r.records()
        .map(|row| {
            let row = row.unwrap();
            (
                (row[0].to_string(), row[1].to_string(), row[2].to_string()),
                (row[3].parse().unwrap(), row[4].parse().unwrap()),
            )
        })
        .collect()
}

fn get(
    t: &BTreeMap<(String, String, String), (f64, f64)>,
    s: &str,
    m: &str,
    p: &str,
) -> (f64, f64) {
    *t.get(&(s.into(), m.into(), p.into()))
        .unwrap_or_else(|| panic!("no row {s}/{m}/{p}"))
}

fn close(a: f64, b: f64) -> bool {
    rel(a, b) < 1e-9 || (a - b).abs() < 1e-6
}

#[test]
fn deltas_match_the_individual_runs() {
    let out = tempfile::tempdir().unwrap();
    let names = [
        "frontier-2026",
        "aws-delay",
        "demand-surge",
        "price-drop-gcp",
    ];
    let mut args = vec!["compare".to_string()];
    for n in names {
        let dir = out.path().join(n);
        ok(&[
            "run",
            &format!("scenarios/{n}"),
            "--out",
            dir.to_str().unwrap(),
            "--no-charts",
        ]);
        args.push(format!("scenarios/{n}"));
    }
    let cmp = out.path().join("cmp");
    args.extend([
        "--out".into(),
        cmp.to_str().unwrap().into(),
        "--no-charts".into(),
    ]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let stdout = ok(&args);
    assert!(
        stdout.contains("compared against the baseline 'frontier-2026'"),
        "{stdout}"
    );
    let t = table(&cmp);
    let base = summary(&out.path().join("frontier-2026"));
    for n in names {
        let s = summary(&out.path().join(n));
        for (metric, field) in [
            ("cost", "cost"),
            ("commit_cost", "commit_cost"),
            ("usage_cost", "usage_cost"),
            ("route_cost", "route_cost"),
            ("objective", "objective"),
            ("cost_per_million_tokens", "cost_per_million_tokens"),
            ("unserved_tokens", "unserved_tokens"),
            ("n1_shortfall_tokens", "resilience_shortfall_tokens"),
        ] {
            let (value, delta) = get(&t, n, metric, "");
            let want = s[field].as_f64().unwrap();
            assert!(close(value, want), "{n} {metric}: {value} vs {want}");
            let want_delta = want - base[field].as_f64().unwrap();
            assert!(
                (delta - want_delta).abs() <= 1e-9 * want.abs().max(1.0),
                "{n} {metric} delta: {delta} vs {want_delta}"
            );
        }
        let (served, _) = get(&t, n, "served_pct", "");
        assert!(close(
            served,
            s["served_fraction"].as_f64().unwrap() * 100.0
        ));
        for p in s["providers"].as_array().unwrap() {
            let provider = p["provider"].as_str().unwrap();
            for metric in ["reserved_tpm_peak", "served_tokens", "cost"] {
                let (value, delta) = get(&t, n, metric, provider);
                let want = p[metric].as_f64().unwrap();
                assert!(
                    close(value, want),
                    "{n} {provider} {metric}: {value} vs {want}"
                );
                let base_value = base["providers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|b| b["provider"] == provider)
                    .map_or(0.0, |b| b[metric].as_f64().unwrap());
                assert!((delta - (want - base_value)).abs() <= 1e-9 * want.abs().max(1.0));
            }
        }
    }
    for f in ["compare.csv", "compare.json", "compare.md", "compare.xlsx"] {
        assert!(cmp.join(f).is_file(), "{f}");
    }
    let md = std::fs::read_to_string(cmp.join("compare.md")).unwrap();
    assert!(
        md.contains("| metric | frontier-2026 | aws-delay |"),
        "{md}"
    );
}

/// A base month and a surge child (see tests/it/model_core.rs for the working): base $10,080;
/// the surge re-planned $15,120; the surge held to the base plan $50,400.
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
        .file(
            "base/scenario.toml",
            "name = \"base\"\nhorizon_end = \"2026-03-01\"\n",
        )
        .file(
            "surge/scenario.toml",
            "name = \"surge\"\nextends = \"../base\"\n[whatif]\ndemand_scale = 1.5\n",
        )
}

#[test]
fn held_comparison_reports_the_regret() {
    // Held: r stays at 1M (z = 0.5 of 2M), the other 0.5M on demand at $2/M → $50,400; the
    // re-planned surge reserves z = 0.75 → $15,120; regret $35,280. The baseline's regret is 0.
    let f = surge_case();
    let out = tempfile::tempdir().unwrap();
    let cmp = out.path().join("cmp");
    ok(&[
        "compare",
        f.sub("base").to_str().unwrap(),
        f.sub("surge").to_str().unwrap(),
        "--hold-reservations",
        "--out",
        cmp.to_str().unwrap(),
        "--no-charts",
    ]);
    let t = table(&cmp);
    assert!(close(get(&t, "base", "objective", "").0, 10_080.0));
    assert!(close(get(&t, "base", "regret", "").0, 0.0));
    let (held, delta) = get(&t, "surge", "objective", "");
    assert!(close(held, 50_400.0), "{held}");
    assert!(close(delta, 50_400.0 - 10_080.0));
    assert!(close(
        get(&t, "surge", "replanned_objective", "").0,
        15_120.0
    ));
    let regret = get(&t, "surge", "regret", "").0;
    assert!(close(regret, 35_280.0), "{regret}");
    assert!(held >= get(&t, "surge", "replanned_objective", "").0);
    // The reserved flow stays within the held capacity: r serves 1M all month, o the rest.
    assert!(close(
        get(&t, "surge", "served_tokens", "r").0,
        1e6 * 40_320.0
    ));
    assert!(close(
        get(&t, "surge", "served_tokens", "o").0,
        0.5e6 * 40_320.0
    ));
}

#[test]
fn output_folders_are_read_not_solved() {
    // An earlier run's summary.json is edited to a sentinel objective: compare reports the
    // sentinel, so it read the file and did not solve the scenario again.
    let out = tempfile::tempdir().unwrap();
    let run = out.path().join("run");
    ok(&[
        "run",
        "scenarios/quickstart",
        "--out",
        run.to_str().unwrap(),
        "--no-charts",
    ]);
    let path = run.join("summary.json");
    let mut s = summary(&run);
    s["objective"] = serde_json::json!(123456789.0);
    std::fs::write(&path, serde_json::to_string_pretty(&s).unwrap()).unwrap();
    let cmp = out.path().join("cmp");
    // Mixed: a scenario folder as the baseline, the output folder beside it.
    ok(&[
        "compare",
        "scenarios/quickstart",
        run.to_str().unwrap(),
        "--out",
        cmp.to_str().unwrap(),
        "--no-charts",
    ]);
    let t = table(&cmp);
    assert_eq!(get(&t, "quickstart (2)", "objective", "").0, 123456789.0);
    assert!(close(
        get(&t, "quickstart", "objective", "").0,
        845_078_400.0
    ));
}

#[test]
fn an_output_folder_cannot_be_held() {
    let out = tempfile::tempdir().unwrap();
    let run = out.path().join("run");
    ok(&[
        "run",
        "scenarios/quickstart",
        "--out",
        run.to_str().unwrap(),
        "--no-charts",
    ]);
    let (code, _, stderr) = capplan(&[
        "compare",
        "scenarios/quickstart",
        run.to_str().unwrap(),
        "--hold-reservations",
        "--out",
        out.path().join("cmp").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("is an output folder"), "{stderr}");
    assert!(!out.path().join("cmp").exists());
}

#[test]
fn the_workbook_holds_the_same_numbers_as_compare_csv() {
    let out = tempfile::tempdir().unwrap();
    let cmp = out.path().join("cmp");
    ok(&[
        "compare",
        "scenarios/quickstart",
        "tests/scenarios/tight",
        "--out",
        cmp.to_str().unwrap(),
        "--no-charts",
    ]);
    let t = table(&cmp);
    let mut wb: Xlsx<_> = open_workbook(cmp.join("compare.xlsx")).unwrap();
    let summary = wb.worksheet_range("summary").unwrap();
    let rows: Vec<&[Data]> = summary.rows().collect();
    let header: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
    assert_eq!(
        &header[..4],
        &["metric", "unit", "quickstart", "quickstart Δ vs baseline"]
    );
    let mut checked = 0;
    for row in &rows[1..] {
        let metric = row[0].to_string();
        for (i, scenario) in ["quickstart", "tight"].iter().enumerate() {
            let (value, delta) = get(&t, scenario, &metric, "");
            let cell = |j: usize| match &row[j] {
                Data::Float(x) => *x,
                other => panic!("{metric}: expected a number, found {other:?}"),
            };
            assert!(close(cell(2 + 2 * i), value), "{metric} {scenario}");
            assert!(close(cell(3 + 2 * i), delta), "{metric} {scenario} delta");
            checked += 1;
        }
    }
    assert!(checked >= 20, "{checked}");
    let providers = wb.worksheet_range("providers").unwrap();
    for row in providers.rows().skip(1) {
        let (p, m) = (row[0].to_string(), row[1].to_string());
        let value = match &row[3] {
            Data::Float(x) => *x,
            other => panic!("{other:?}"),
        };
        assert!(close(value, get(&t, "quickstart", &m, &p).0), "{p} {m}");
    }
    // Deterministic: the same comparison twice gives the same bytes.
    let again = out.path().join("again");
    ok(&[
        "compare",
        "scenarios/quickstart",
        "tests/scenarios/tight",
        "--out",
        again.to_str().unwrap(),
        "--no-charts",
    ]);
    for f in ["compare.csv", "compare.json", "compare.md", "compare.xlsx"] {
        assert_eq!(
            std::fs::read(cmp.join(f)).unwrap(),
            std::fs::read(again.join(f)).unwrap(),
            "{f}"
        );
    }
}

#[test]
fn run_writes_a_plan_workbook() {
    let out = tempfile::tempdir().unwrap();
    let run = out.path().join("run");
    ok(&[
        "run",
        "scenarios/quickstart",
        "--out",
        run.to_str().unwrap(),
        "--no-charts",
        "--xlsx",
    ]);
    let mut wb: Xlsx<_> = open_workbook(run.join("plan.xlsx")).unwrap();
    assert_eq!(
        wb.sheet_names(),
        vec!["summary", "providers", "commitments"]
    );
    let s = summary(&run);
    let sheet = wb.worksheet_range("summary").unwrap();
    let objective = sheet
        .rows()
        .find(|r| r[0] == "objective")
        .map(|r| match &r[1] {
            Data::Float(x) => *x,
            other => panic!("{other:?}"),
        })
        .unwrap();
    assert!(close(objective, s["objective"].as_f64().unwrap()));
    let commitments = wb.worksheet_range("commitments").unwrap();
    assert_eq!(commitments.rows().count(), 1 + 6, "header and six tranches");
    // Zeros are 0, never -0 (an empty sum's sign): quickstart pays no penalty.
    let penalty = sheet
        .rows()
        .find(|r| r[0] == "unserved_penalty_cost")
        .map(|r| r[1].clone())
        .unwrap();
    assert!(
        matches!(penalty, Data::Float(x) if x == 0.0 && x.is_sign_positive()),
        "{penalty:?}"
    );
    // Numbers are formatted for a planner: whole dollars, counts with separators, percents.
    let mut zip =
        zip::ZipArchive::new(std::fs::File::open(run.join("plan.xlsx")).unwrap()).unwrap();
    let mut styles = String::new();
    std::io::Read::read_to_string(&mut zip.by_name("xl/styles.xml").unwrap(), &mut styles).unwrap();
    for code in [
        "&quot;$&quot;#,##0",
        "&quot;$&quot;#,##0.00",
        "#,##0",
        "0.0&quot;%&quot;",
        "0.0000",
    ] {
        assert!(
            styles.contains(&format!("formatCode=\"{code}\"")),
            "{code} in {styles}"
        );
    }
}

#[test]
fn a_twin_column_equals_its_child_folder_twin() {
    // --twin '--demand-scale 1.3' equals a child folder with demand_scale = 1.3; two --price
    // gcp=0.5 in one twin equal one child factor of 0.25.
    let base = std::fs::canonicalize("scenarios/frontier-2026").unwrap();
    let base = base.to_str().unwrap();
    let f = Folder::new()
        .file(
            "twin-surge/scenario.toml",
            &format!("extends = \"{base}\"\nname = \"twin-surge\"\n[whatif]\ndemand_scale = 1.3\n"),
        )
        .file(
            "twin-gcp/scenario.toml",
            &format!("extends = \"{base}\"\nname = \"twin-gcp\"\n[[whatif.price]]\nprovider = \"gcp\"\nfactor = 0.25\n"),
        );
    let out = tempfile::tempdir().unwrap();
    let cmp = out.path().join("cmp");
    ok(&[
        "compare",
        "scenarios/frontier-2026",
        f.sub("twin-surge").to_str().unwrap(),
        f.sub("twin-gcp").to_str().unwrap(),
        "--twin",
        "--demand-scale 1.3",
        "--twin",
        "--price gcp=0.5 --price gcp=0.5",
        "--out",
        cmp.to_str().unwrap(),
        "--no-charts",
        "--quiet",
    ]);
    let t = table(&cmp);
    let twin = |label: &str| get(&t, label, "objective", "").0;
    let surge = twin("frontier-2026 --demand-scale 1.3");
    let gcp = twin("frontier-2026 --price gcp=0.5 --price gcp=0.5");
    assert!(rel(surge, twin("twin-surge")) < 1e-9, "{surge}");
    assert!(rel(gcp, twin("twin-gcp")) < 1e-9, "{gcp}");
    assert!(surge > twin("frontier-2026"));
}

#[test]
fn bad_twins_and_missing_folders_fail_before_solving() {
    let out = tempfile::tempdir().unwrap();
    for (args, expect) in [
        (
            vec!["--twin", "--delay aws=ninety"],
            "--twin '--delay aws=ninety'",
        ),
        (vec!["--twin", "--out /tmp/x"], "--twin '--out /tmp/x'"),
        (
            vec!["--twin", "--price nosuch=0.8"],
            "provider 'nosuch' matches no provider",
        ),
    ] {
        let cmp = out.path().join("cmp");
        let mut a = vec![
            "compare",
            "scenarios/quickstart",
            "--out",
            cmp.to_str().unwrap(),
        ];
        a.extend(args);
        let (code, _, stderr) = capplan(&a);
        assert_eq!(code, 2, "{stderr}");
        assert!(stderr.contains(expect), "{stderr}");
        assert!(!cmp.exists());
    }
}
