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
        stdout.contains("compared against the baseline 'frontier-2026', every column re-planned;"),
        "{stdout}"
    );
    let t = table(&cmp);
    let base = summary(&out.path().join("frontier-2026"));
    for n in names {
        let s = summary(&out.path().join(n));
        for (metric, field) in [
            ("spend", "cost"),
            ("commit_spend", "commit_cost"),
            ("usage_spend", "usage_cost"),
            ("route_spend", "route_cost"),
            ("objective", "objective"),
            ("spend_per_million_tokens", "cost_per_million_tokens"),
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
            for (metric, field) in [
                ("reserved_tpm_peak", "reserved_tpm_peak"),
                ("served_tokens", "served_tokens"),
                ("spend", "cost"),
            ] {
                let (value, delta) = get(&t, n, metric, provider);
                let want = p[field].as_f64().unwrap();
                assert!(
                    close(value, want),
                    "{n} {provider} {metric}: {value} vs {want}"
                );
                let base_value = base["providers"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|b| b["provider"] == provider)
                    .map_or(0.0, |b| b[field].as_f64().unwrap());
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
    // re-planned surge reserves z = 0.75 → $15,120. Everything is served either way, so the
    // regret is all extra spend: $35,280, and no extra unserved tokens. The baseline's is 0.
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
    for metric in [
        "extra_spend",
        "extra_unserved_tokens",
        "extra_n1_shortfall_tokens",
        "regret_at_penalty_prices",
    ] {
        assert!(close(get(&t, "base", metric, "").0, 0.0), "{metric}");
    }
    let (held, delta) = get(&t, "surge", "spend", "");
    assert!(close(held, 50_400.0), "{held}");
    assert!(close(delta, 50_400.0 - 10_080.0));
    assert!(close(get(&t, "surge", "objective", "").0, 50_400.0));
    assert!(close(get(&t, "surge", "replanned_spend", "").0, 15_120.0));
    assert!(close(
        get(&t, "surge", "replanned_objective", "").0,
        15_120.0
    ));
    let extra = get(&t, "surge", "extra_spend", "").0;
    assert!(close(extra, 35_280.0), "{extra}");
    assert!(close(get(&t, "surge", "extra_unserved_tokens", "").0, 0.0));
    let regret = get(&t, "surge", "regret_at_penalty_prices", "").0;
    assert!(close(regret, 35_280.0), "{regret}");
    let held = get(&t, "surge", "objective", "").0;
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
        &header[..5],
        &[
            "metric",
            "what it is",
            "unit",
            "quickstart",
            "quickstart Δ vs baseline"
        ]
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
            assert!(close(cell(3 + 2 * i), value), "{metric} {scenario}");
            assert!(close(cell(4 + 2 * i), delta), "{metric} {scenario} delta");
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

/// `capplan run` into `dir` with extra arguments; its summary.json.
fn run_into(scenario: &str, dir: &Path, extra: &[&str]) -> serde_json::Value {
    let mut args = vec![
        "run",
        scenario,
        "--out",
        dir.to_str().unwrap(),
        "--no-charts",
    ];
    args.extend_from_slice(extra);
    ok(&args);
    summary(dir)
}

/// The title of each row of the aligned table on stdout (up to the first run of two spaces).
fn row_titles(stdout: &str) -> Vec<String> {
    stdout
        .lines()
        .skip_while(|l| !l.starts_with("metric "))
        .skip(1)
        .take_while(|l| !l.is_empty())
        .map(|l| l.trim_start().split("  ").next().unwrap().to_string())
        .collect()
}

/// Issue 18, item 1: frontier-2026 held through a 90-day AWS delay. The regret is extra spend
/// and extra unserved tokens, each equal to held − re-planned computed here from the two runs'
/// own summaries; spend rows come first, then shortfall, then the objective in a row that names
/// its penalty prices. No row is called cost.
#[test]
fn a_held_comparison_reports_spend_and_shortfall_apart() {
    let out = tempfile::tempdir().unwrap();
    let plan = out.path().join("plan");
    run_into("scenarios/frontier-2026", &plan, &[]);
    let replanned = run_into("scenarios/aws-delay", &out.path().join("replanned"), &[]);
    let from = ["--reservations-from", plan.to_str().unwrap()];
    let held = run_into("scenarios/aws-delay", &out.path().join("held"), &from);
    let cmp = out.path().join("cmp");
    let stdout = ok(&[
        "compare",
        "scenarios/frontier-2026",
        "scenarios/aws-delay",
        "--hold-reservations",
        "--out",
        cmp.to_str().unwrap(),
        "--no-charts",
    ]);
    let t = table(&cmp);
    let f = |s: &serde_json::Value, k: &str| s[k].as_f64().unwrap();
    let near = |a: f64, b: f64, scale: f64| (a - b).abs() <= 1e-6 * scale;
    let extra_spend = f(&held, "cost") - f(&replanned, "cost");
    let got = get(&t, "aws-delay", "extra_spend", "").0;
    assert!(
        near(got, extra_spend, f(&held, "cost")),
        "{got} vs {extra_spend}"
    );
    // Held, the plan spends less than a re-plan would, and leaves more demand unserved.
    assert!(extra_spend < -1e9, "{extra_spend}");
    let extra_unserved = f(&held, "unserved_tokens") - f(&replanned, "unserved_tokens");
    let got = get(&t, "aws-delay", "extra_unserved_tokens", "").0;
    let scale = f(&held, "demand_tokens");
    assert!(
        near(got, extra_unserved, scale),
        "{got} vs {extra_unserved}"
    );
    assert!(extra_unserved > 1e14, "{extra_unserved}");
    let extra_n1 =
        f(&held, "resilience_shortfall_tokens") - f(&replanned, "resilience_shortfall_tokens");
    let got = get(&t, "aws-delay", "extra_n1_shortfall_tokens", "").0;
    assert!(near(got, extra_n1, scale), "{got} vs {extra_n1}");
    let regret = f(&held, "objective") - f(&replanned, "objective");
    let got = get(&t, "aws-delay", "regret_at_penalty_prices", "").0;
    assert!(
        near(got, regret, f(&held, "objective")),
        "{got} vs {regret}"
    );
    assert!(near(
        get(&t, "aws-delay", "spend", "").0,
        f(&held, "cost"),
        f(&held, "cost")
    ));

    // The words: spend, then shortfall, then the held block, then the objective; never "cost".
    let titles = row_titles(&stdout);
    let at = |title: &str| {
        titles
            .iter()
            .position(|t| t == title)
            .unwrap_or_else(|| panic!("no row {title:?} in {titles:?}"))
    };
    let order = [
        "spend (commit + usage + route)",
        "spend per million tokens served",
        "served",
        "unserved tokens",
        "worst period served",
        "N-1 shortfall tokens",
        "extra spend (held − re-planned)",
        "extra unserved tokens (held − re-planned)",
        "objective incl. penalties at $100/M unserved, $50/M N-1",
        "regret at penalty prices (held − re-planned objective)",
    ];
    let positions: Vec<usize> = order.iter().map(|t| at(t)).collect();
    assert!(positions.windows(2).all(|w| w[0] < w[1]), "{titles:?}");
    assert!(
        !titles.iter().any(|t| t.contains("cost")),
        "no row is called cost: {titles:?}"
    );
    // The extra spend and unserved tokens are written signed, as computed from the summaries.
    let row = |title: &str| {
        let line = stdout
            .lines()
            .find(|l| l.trim_start().starts_with(title))
            .unwrap();
        line.to_string()
    };
    use capplan::compare::{write::human_delta, Unit};
    let spend_cell = human_delta(Unit::Dollars, extra_spend);
    assert!(spend_cell.starts_with('−'), "{spend_cell}");
    let spend_row = row("extra spend (held − re-planned)");
    assert!(
        spend_row.ends_with(&format!(" {spend_cell}")),
        "{spend_row}\nwant {spend_cell}"
    );
    assert!(
        spend_row.contains(" ±0 "),
        "the baseline's own: {spend_row}"
    );
    let unserved_cell = human_delta(Unit::Tokens, extra_unserved);
    assert!(
        row("extra unserved tokens (held − re-planned)").ends_with(&unserved_cell),
        "{}\nwant {unserved_cell}",
        row("extra unserved tokens (held − re-planned)")
    );
    // The Markdown table says the same; penalties appear only in the objective's rows.
    let md = std::fs::read_to_string(cmp.join("compare.md")).unwrap();
    assert!(md.contains(
        "Compared against the baseline **frontier-2026**, later columns held to its signed reservations;"
    ));
    for line in md.lines().filter(|l| l.starts_with("| ")) {
        let title = line.split(" | ").next().unwrap();
        assert!(!title.contains("cost"), "{line}");
        if title.contains("penalt") {
            assert!(
                [
                    "| objective",
                    "| re-planned objective",
                    "| regret at penalty"
                ]
                .iter()
                .any(|row| title.starts_with(row)),
                "{line}"
            );
        }
    }
    // And the workbook, which names every metric in words.
    let mut wb: Xlsx<_> = open_workbook(cmp.join("compare.xlsx")).unwrap();
    let sheet = wb.worksheet_range("summary").unwrap();
    let words: Vec<String> = sheet.rows().skip(1).map(|r| r[1].to_string()).collect();
    assert!(
        words.contains(&"spend (commit + usage + route)".to_string()),
        "{words:?}"
    );
    assert!(!words.iter().any(|w| w.contains("cost")), "{words:?}");
}

/// Issue 18, item 2: an output folder holding a held dispatch (`run --reservations-from`) is
/// labelled as held, in its column and in the table's heading, with the plan it is held to and
/// its rules; the objective's penalty prices then differ (no N-1 under emergency rules), so each
/// column's are shown.
#[test]
fn a_held_output_folder_is_labelled_as_held() {
    let out = tempfile::tempdir().unwrap();
    let plan = out.path().join("plan");
    run_into("scenarios/frontier-2026", &plan, &[]);
    let from = ["--reservations-from", plan.to_str().unwrap()];
    let held = out.path().join("held");
    run_into("scenarios/aws-delay", &held, &from);
    let emergency = out.path().join("emergency");
    run_into(
        "scenarios/aws-delay",
        &emergency,
        &[from[0], from[1], "--emergency"],
    );
    let replanned = out.path().join("replanned");
    run_into("scenarios/aws-delay", &replanned, &[]);
    let cmp = out.path().join("cmp");
    let stdout = ok(&[
        "compare",
        plan.to_str().unwrap(),
        held.to_str().unwrap(),
        emergency.to_str().unwrap(),
        replanned.to_str().unwrap(),
        "--out",
        cmp.to_str().unwrap(),
        "--no-charts",
    ]);
    let heading = stdout.lines().next().unwrap();
    assert_eq!(
        heading,
        "compared against the baseline 'frontier-2026', 'aws-delay held to frontier-2026' is held to \
         frontier-2026's signed plan; 'aws-delay held to frontier-2026 (emergency rules)' is held to \
         frontier-2026's signed plan under emergency rules (no share cap, no N-1); every other \
         column re-planned; deltas in brackets"
    );
    let header = stdout.lines().find(|l| l.starts_with("metric ")).unwrap();
    let labels: Vec<&str> = header
        .split("  ")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    assert_eq!(
        labels,
        [
            "metric",
            "frontier-2026",
            "aws-delay held to frontier-2026",
            "aws-delay held to frontier-2026 (emergency rules)",
            "aws-delay"
        ]
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(cmp.join("compare.json")).unwrap()).unwrap();
    assert_eq!(
        json["held"],
        serde_json::json!([
            {"scenario": "aws-delay held to frontier-2026", "plan": "frontier-2026", "emergency": false},
            {"scenario": "aws-delay held to frontier-2026 (emergency rules)", "plan": "frontier-2026", "emergency": true},
        ])
    );
    let titles = row_titles(&stdout);
    assert!(titles.contains(&"objective incl. penalties at each column's prices".to_string()));
    let n1 = stdout
        .lines()
        .find(|l| l.starts_with("  N-1 penalty"))
        .unwrap();
    assert!(
        n1.contains("$0.00/M (−$50.00/M)") && n1.contains("$50.00/M"),
        "{n1}"
    );
    let t = table(&cmp);
    assert_eq!(
        get(
            &t,
            "aws-delay held to frontier-2026 (emergency rules)",
            "n1_penalty",
            ""
        )
        .0,
        0.0
    );
    // Not held: no regret rows, which need a re-plan beside each held column.
    assert!(
        !titles.iter().any(|t| t.starts_with("extra spend")),
        "{titles:?}"
    );
}
