//! `capplan robust`: hand-worked robust reservations (expected cost and CVaR), one sample equal
//! to the scenario gives the scenario's own plan, every row replays through `run
//! --reservations-from`, bad `[robust]` values are located errors; EVPI and the hedge in words by
//! hand, EVPI and VSS not negative, the charts drawn and redrawn, `--shard` refused.

use std::path::{Path, PathBuf};

use crate::common::{capplan, rel, Folder};

fn bin(args: &[&str]) -> String {
    let (code, out, err) = capplan(args);
    assert_eq!(code, 0, "capplan {args:?} failed: {err}");
    out
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// The robust plan's reserved fraction of `tranche` (its `plan/commitments.csv`).
fn reserved(out: &Path, tranche: &str) -> f64 {
    let text = std::fs::read_to_string(out.join("plan/commitments.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = header
        .iter()
        .position(|c| *c == "reserved_fraction")
        .unwrap();
    lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .find(|cells| cells[0] == tranche)
        .map(|cells| cells[col].parse().unwrap())
        .unwrap()
}

/// One hour, one region, demand 1M tok/min. Tranche `res`: 2M tok/min, $80/h for all of it
/// (reserving x M tok/min costs $40·x for the hour), usage free. On-demand `od`: $1/M, i.e. $60
/// per M tok/min for the hour. Two grid samples: demand 1.5M (A) and 2M (B). With x = 2z:
///
///   T_A(x) = 40x + 60·(1.5 − x)+,   T_B(x) = 40x + 60·(2 − x)+.
///
/// - Deterministic (demand 1M): 40x + 60·(1 − x)+ falls (slope −20) to x = 1, then rises: z = 0.5.
///   Held on the samples: T_A = 40 + 30 = 70, T_B = 40 + 60 = 100; mean 85, CVaR_0.5 (the worse
///   of two) 100.
/// - W = 0 (mean): slope 40 − 60 = −20 below 1.5, 40 − 30 = +10 from 1.5 to 2: x = 1.5, z = 0.75;
///   T_A = 60, T_B = 60 + 30 = 90, R = mean = 75.
/// - W = 1, α = 0.5 (CVaR = the worse sample, always B): 40x + 60·(2 − x)+ falls to x = 2: z = 1;
///   T_A = T_B = 80, R = 80 (at z = 0.75 it would be 90).
fn hand_worked(dir: &Folder, robust: &str) -> PathBuf {
    let scenario = dir.sub("scenario");
    std::fs::create_dir_all(&scenario).unwrap();
    std::fs::write(
        scenario.join("demand.csv"),
        "period,tokens_per_minute\n2026-01-01,1M\n",
    )
    .unwrap();
    std::fs::write(
        scenario.join("capacity.csv"),
        "provider,tranche,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour\nr,res,2M,0,80\nd,od,10M,1,0\n",
    )
    .unwrap();
    std::fs::write(
        scenario.join("scenario.toml"),
        "horizon_end = \"2026-01-01T01:00\"\n",
    )
    .unwrap();
    // Sweep files in a folder of their own: an output folder may not lie in a sweep file's folder.
    let file = dir.sub("sweeps/robust.toml");
    std::fs::create_dir_all(dir.sub("sweeps")).unwrap();
    std::fs::write(
        &file,
        format!("scenario = \"../scenario\"\n[grid]\ndemand_scale = [1.5, 2]\n{robust}"),
    )
    .unwrap();
    file
}

#[test]
fn expected_cost_reserves_for_the_mean_by_hand() {
    let dir = Folder::new();
    let file = hand_worked(&dir, "[robust]\nrisk_weight = 0\n");
    let out = dir.sub("out");
    bin(&[
        "robust",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!((reserved(&out, "res") - 0.75).abs() < 1e-9);
    let j = json(&out.join("robust.json"));
    let f = |k: &str| j[k].as_f64().unwrap();
    assert!(rel(f("objective"), 75.0) < 1e-9, "{j}");
    assert!(rel(f("deterministic_objective"), 85.0) < 1e-9, "{j}");
    assert!(rel(f("vss"), 10.0) < 1e-9, "{j}");
    assert!(f("relative_gap") <= 1e-9);
    assert!(rel(f("bound"), 75.0) < 1e-9, "{j}");
    assert_eq!(j["emergency"], false);
    // The rows: T_s of both plans, spend without penalties (nothing unserved here).
    let csv = std::fs::read_to_string(out.join("robust.csv")).unwrap();
    // Cells as they stand for (a flag cell begins with `-`, so the CSV has it behind a `'`).
    let rows: Vec<Vec<&str>> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(capplan::export::csv::read_cell).collect())
        .collect();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[0][..4], ["in_sample", "0", "--demand-scale 1.5", "60"]);
    assert_eq!(rows[1][..4], ["in_sample", "1", "--demand-scale 2", "90"]);
    assert_eq!(rows[0][6], "70");
    assert_eq!(rows[1][6], "100");
    // --risk-weight overrides the file.
    let out1 = dir.sub("out1");
    bin(&[
        "robust",
        file.to_str().unwrap(),
        "--out",
        out1.to_str().unwrap(),
        "--risk-weight",
        "1",
        "--cvar-alpha",
        "0.5",
        "-q",
    ]);
    assert!((reserved(&out1, "res") - 1.0).abs() < 1e-9);
}

#[test]
fn cvar_reserves_for_the_worse_sample_by_hand() {
    let dir = Folder::new();
    let file = hand_worked(&dir, "[robust]\nrisk_weight = 1\ncvar_alpha = 0.5\n");
    let out = dir.sub("out");
    bin(&[
        "robust",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!((reserved(&out, "res") - 1.0).abs() < 1e-9);
    let j = json(&out.join("robust.json"));
    let f = |k: &str| j[k].as_f64().unwrap();
    assert!(rel(f("objective"), 80.0) < 1e-9, "{j}");
    assert!(rel(f("cvar_total"), 80.0) < 1e-9, "{j}");
    assert!(rel(f("deterministic_objective"), 100.0) < 1e-9, "{j}");
    // Half mean, half CVaR: R(x) = 0.5·mean + 0.5·T_B. Below 1.5 slope 0.5·(−20) + 0.5·(−20),
    // from 1.5 to 2: 0.5·10 + 0.5·(−20) = −5: still falling, so z = 1 and R = 80.
    let out = dir.sub("out-half");
    bin(&[
        "robust",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--risk-weight",
        "0.5",
        "-q",
    ]);
    assert!((reserved(&out, "res") - 1.0).abs() < 1e-9);
}

fn quickstart() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quickstart")
}

#[test]
fn one_sample_equal_to_the_scenario_is_the_scenarios_own_plan() {
    let dir = Folder::new();
    let file = dir.sub("sweeps/one.toml");
    std::fs::create_dir_all(dir.sub("sweeps")).unwrap();
    std::fs::write(
        &file,
        format!(
            "scenario = {:?}\n[grid]\ndemand_scale = [\"\"]\n",
            quickstart().display().to_string()
        ),
    )
    .unwrap();
    let out = dir.sub("out");
    bin(&[
        "robust",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    let run = dir.sub("run");
    bin(&[
        "run",
        quickstart().to_str().unwrap(),
        "--out",
        run.to_str().unwrap(),
        "--no-charts",
    ]);
    let robust = std::fs::read_to_string(out.join("plan/commitments.csv")).unwrap();
    let planned = std::fs::read_to_string(run.join("commitments.csv")).unwrap();
    assert_eq!(robust, planned);
    let j = json(&out.join("robust.json"));
    let summary = json(&run.join("summary.json"));
    assert!(
        rel(
            j["objective"].as_f64().unwrap(),
            summary["objective"].as_f64().unwrap()
        ) < 1e-9
    );
    assert_eq!(j["objective"], j["deterministic_objective"]);
}

#[test]
fn every_row_replays_through_run() {
    let dir = Folder::new();
    let file = dir.sub("sweeps/risk.toml");
    std::fs::create_dir_all(dir.sub("sweeps")).unwrap();
    std::fs::write(
        &file,
        format!(
            "scenario = {:?}\n[risk]\nsamples = 4\nseed = 11\n[[risk.outage]]\nprovider = \"aws\"\nper_year = 30\nmedian_hours = 240\np95_hours = 900\n[risk.demand]\nsigma = 0.2\n[robust]\nholdout = 2\nrisk_weight = 0.5\ncvar_alpha = 0.5\n",
            quickstart().display().to_string()
        ),
    )
    .unwrap();
    let out = dir.sub("out");
    bin(&[
        "robust",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    let j = json(&out.join("robust.json"));
    assert_eq!(j["emergency"], true);
    assert_eq!(j["holdout"], 2);
    assert!(j["relative_gap"].as_f64().unwrap() <= 1e-9, "{j}");
    let csv = std::fs::read_to_string(out.join("robust.csv")).unwrap();
    let rows: Vec<Vec<String>> = csv
        .lines()
        .skip(1)
        .map(|l| {
            l.split(',')
                .map(|c| capplan::export::csv::read_cell(c).to_string())
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), 6);
    assert_eq!(rows[4][0], "holdout");
    for row in [&rows[0], &rows[3], &rows[5]] {
        let s = replay(
            &quickstart(),
            &out.join("plan"),
            &row[2],
            &dir.sub(&format!("replay-{}", row[1])),
        );
        let total: f64 = row[3].parse().unwrap();
        let spend: f64 = row[4].parse().unwrap();
        assert!(
            rel(s["objective"].as_f64().unwrap(), total) < 1e-6,
            "{row:?}"
        );
        assert!(rel(s["cost"].as_f64().unwrap(), spend) < 1e-6, "{row:?}");
    }
    // The in-sample mean and R recomputed from the rows.
    let totals: Vec<f64> = rows[..4].iter().map(|r| r[3].parse().unwrap()).collect();
    let mean = totals.iter().sum::<f64>() / 4.0;
    let mut sorted = totals.clone();
    sorted.sort_by(f64::total_cmp);
    // α = 0.5 of four samples: the worst two.
    let cvar = (sorted[2] + sorted[3]) / 2.0;
    let r = 0.5 * mean + 0.5 * cvar;
    assert!(rel(j["objective"].as_f64().unwrap(), r) < 1e-9, "{j}");
    assert!(rel(j["mean_total"].as_f64().unwrap(), mean) < 1e-9, "{j}");
    // The same bytes on one thread (samples are evaluated in parallel, combined in order).
    let one = dir.sub("one-thread");
    let (code, _, err) = crate::common::output(
        crate::common::command()
            .args([
                "robust",
                file.to_str().unwrap(),
                "--out",
                one.to_str().unwrap(),
                "-q",
            ])
            .env("RAYON_NUM_THREADS", "1"),
    );
    assert_eq!(code, 0, "{err}");
    for name in [
        "robust.csv",
        "robust_figures.csv",
        "robust_hedge.csv",
        "plan/commitments.csv",
    ] {
        assert_eq!(
            std::fs::read(out.join(name)).unwrap(),
            std::fs::read(one.join(name)).unwrap(),
            "{name}"
        );
    }
    // The robust plan is no worse than the deterministic one on its own samples.
    assert!(
        j["objective"].as_f64().unwrap()
            <= j["deterministic_objective"].as_f64().unwrap() * (1.0 + 1e-9)
    );
}

/// Replays one sample through `run`: the scenario with the sample's flags, held to the robust
/// plan's reservations under emergency rules; its summary.json.
fn replay(scenario: &Path, plan: &Path, flags: &str, out: &Path) -> serde_json::Value {
    let mut args = vec![
        "run".to_string(),
        scenario.display().to_string(),
        "--reservations-from".into(),
        plan.display().to_string(),
        "--emergency".into(),
        "--no-charts".into(),
        "--out".into(),
        out.display().to_string(),
    ];
    args.extend(shell_words(flags));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    bin(&args);
    json(&out.join("summary.json"))
}

fn shell_words(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

#[test]
fn bad_robust_values_are_located() {
    let dir = Folder::new();
    let cases = [
        (
            "[grid]\ndemand_scale = [1.5]\n[robust]\nrisk_weight = 2\n",
            ":5:15: column 'robust.risk_weight': expected a weight from 0",
        ),
        (
            "[grid]\ndemand_scale = [1.5]\n[robust]\ncvar_alpha = 1\n",
            ":5:14: column 'robust.cvar_alpha': expected a level from 0 up to but not including 1",
        ),
        (
            "[grid]\ndemand_scale = [1.5]\n[robust]\nemergency = \"yes\"\n",
            ":5:13: column 'robust.emergency': expected true or false, found string",
        ),
        (
            "[grid]\ndemand_scale = [1.5]\n[robust]\nholdout = -1\n",
            ":5:11: column 'robust.holdout': expected a whole number of samples from 0",
        ),
        (
            "[grid]\ndemand_scale = [1.5]\n[robust]\nholdout = 3\n",
            ":5:11: column 'robust.holdout': holdout 3: a [grid] sweep has no further samples",
        ),
        (
            "[grid]\ndemand_scale = [1.5]\n[robust]\nrisk_wieght = 0.5\n",
            "risk_wieght",
        ),
        (
            "[grid]\ndemand_scale = [1.5]\n[robust]\nevpi = 1\n",
            ":5:8: column 'robust.evpi': expected true or false, found integer",
        ),
        (
            "[grid]\ndemand_scale = [1.5]\n[robust]\nevp = true\n",
            "unknown field `evp`",
        ),
    ];
    for (i, (body, expected)) in cases.iter().enumerate() {
        let file = hand_worked(&dir, "");
        let text = std::fs::read_to_string(&file)
            .unwrap()
            .replace("[grid]\ndemand_scale = [1.5, 2]\n", body);
        let path = dir.sub(&format!("bad{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let (code, _, err) = capplan(&["robust", path.to_str().unwrap()]);
        assert_eq!(code, 2, "{body}: {err}");
        assert!(err.contains(&format!("bad{i}.toml")), "{body}: {err}");
        assert!(
            err.contains(expected),
            "{body}: expected {expected:?} in {err}"
        );
    }
    // The flags are checked too (a usage error).
    let file = hand_worked(&dir, "");
    let (code, _, err) = capplan(&["robust", file.to_str().unwrap(), "--cvar-alpha", "1.5"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--cvar-alpha 1.5"), "{err}");
}

/// Quickstart's files in `dir/name` with `policy` for its `[policy]` table.
fn quickstart_with_policy(dir: &Folder, name: &str, policy: &str) -> PathBuf {
    let folder = dir.sub(name);
    std::fs::create_dir_all(&folder).unwrap();
    for file in ["capacity.csv", "demand.csv", "routes.csv"] {
        std::fs::copy(quickstart().join(file), folder.join(file)).unwrap();
    }
    std::fs::write(
        folder.join("scenario.toml"),
        format!("name = \"{name}\"\nhorizon_end = \"2026-04-01\"\n[policy]\n{policy}"),
    )
    .unwrap();
    folder
}

/// Issue 22's acceptance: the robust optimum R equals the extensive form's — one LP holding a
/// copy of every sample's held dispatch LP (built by the model's own `build`), the copies' z tied
/// together, CVaR in its linear form — solved whole by microlp, Clarabel (and HiGHS when compiled
/// in), to 1e-6. Five
/// risk samples of quickstart (aws outages of days, demand ±20%), the LP relaxation (no GPU
/// tranches here anyway), for the mean, a mix and the CVaR alone, with and without emergency
/// rules (the second scenario has a share cap and N-1, which the held rules keep and emergency
/// drops), and with both cut groupings of the master (per block and per sample).
#[test]
fn the_robust_optimum_equals_the_extensive_form() {
    use capplan::facts::Facts;
    use capplan::model::robust::{extensive_form, solve, CutGroups, RobustOptions};
    use capplan::model::solve::SolverKind;
    use capplan::scenario::Scenario;

    let dir = Folder::new();
    let policies = [
        ("plain", "unserved_penalty = 100.0\n"),
        (
            "guarded",
            "unserved_penalty = 100.0\nmax_provider_share = 0.7\nsurvive_provider_loss = true\nloss_coverage = 0.5\nresilience_penalty = 50.0\n",
        ),
    ];
    for (name, policy) in policies {
        let scenario = quickstart_with_policy(&dir, name, policy);
        let file = dir.sub(&format!("{name}.toml"));
        std::fs::write(
            &file,
            format!(
                "scenario = {:?}\n[risk]\nsamples = 5\nseed = 7\n[[risk.outage]]\nprovider = \"aws\"\nper_year = 20\nmedian_hours = 200\np95_hours = 900\n[risk.demand]\nsigma = 0.2\n",
                scenario.display().to_string()
            ),
        )
        .unwrap();
        let sweep = capplan::sweep::spec::read(&file).unwrap();
        let prep = capplan::sweep::prepare(sweep.clone(), &Default::default()).unwrap();
        let base = capplan::pipeline::Planning::load(&sweep.scenario, &Default::default()).unwrap();
        let scenarios: Vec<Scenario> = (0..5).map(|id| prep.scenario_of(id).unwrap()).collect();
        let facts: Vec<Facts> = scenarios.iter().map(Facts::of).collect();
        let samples: Vec<(&Scenario, &Facts)> = scenarios.iter().zip(&facts).collect();
        let mut by_weight = Vec::new();
        for (risk_weight, cvar_alpha) in [(0.0, 0.9), (0.5, 0.6), (1.0, 0.75)] {
            for emergency in [true, false] {
                let options = |cuts| RobustOptions {
                    risk_weight,
                    cvar_alpha,
                    emergency,
                    whole_blocks: false,
                    cuts,
                };
                let case =
                    format!("{name}, W {risk_weight}, α {cvar_alpha}, emergency {emergency}");
                let (reference, _) = extensive_form(
                    &base.facts,
                    &samples,
                    options(CutGroups::Auto),
                    SolverKind::Microlp,
                )
                .unwrap();
                // Every backend compiled in (HiGHS with `--features highs`) agrees with microlp.
                for kind in SolverKind::available() {
                    let (other, _) =
                        extensive_form(&base.facts, &samples, options(CutGroups::Auto), kind)
                            .unwrap();
                    assert!(
                        rel(other, reference) < 1e-6,
                        "{case}: {} {other}, microlp {reference}",
                        kind.name()
                    );
                }
                for cuts in [CutGroups::PerBlock, CutGroups::PerSample] {
                    let robust = solve(&base.facts, &samples, options(cuts), None).unwrap();
                    let c = &robust.convergence;
                    assert!(c.relative_gap <= 1e-9, "{case} {cuts:?}: {c:?}");
                    assert_eq!(c.per_sample_cuts, cuts == CutGroups::PerSample);
                    // R recomputed from the samples' totals at the robust z, and the bound.
                    let r = capplan::model::robust::risk_objective(
                        &robust.totals,
                        risk_weight,
                        cvar_alpha,
                    );
                    assert!(
                        rel(r, reference) < 1e-6,
                        "{case} {cuts:?}: robust {r}, extensive form {reference}"
                    );
                    assert!(
                        rel(c.lower_bound, reference) < 1e-6,
                        "{case} {cuts:?}: bound {}, extensive form {reference}",
                        c.lower_bound
                    );
                }
                by_weight.push((risk_weight, emergency, reference));
            }
        }
        // The samples differ: CVaR weighs the bad ones more than the mean does, so R grows with W.
        for emergency in [true, false] {
            let r: Vec<f64> = by_weight
                .iter()
                .filter(|(_, e, _)| *e == emergency)
                .map(|(_, _, r)| *r)
                .collect();
            assert!(
                r[0] < r[1] && r[1] < r[2],
                "{name}, emergency {emergency}: {r:?}"
            );
        }
    }
}

/// Ten frontier-risk samples (240 samples × blocks: one cost variable per sample in the master)
/// give the same files on one thread as on two, and the search reports its gap.
#[test]
fn per_sample_cuts_do_not_depend_on_the_thread_count() {
    let dir = Folder::new();
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweeps/frontier-risk.toml");
    let mut outs = Vec::new();
    for threads in ["1", "2"] {
        let out = dir.sub(&format!("threads-{threads}"));
        let (code, _, err) = crate::common::output(
            crate::common::command()
                .args([
                    "robust",
                    file.to_str().unwrap(),
                    "--samples",
                    "10",
                    "--holdout",
                    "2",
                    "--out",
                    out.to_str().unwrap(),
                    "-q",
                    "--timings",
                ])
                .env("RAYON_NUM_THREADS", threads),
        );
        assert_eq!(code, 0, "{err}");
        assert!(err.contains("one cost variable per sample)"), "{err}");
        outs.push(out);
    }
    for name in [
        "robust.csv",
        "robust_figures.csv",
        "robust_hedge.csv",
        "robust.json",
        "plan/commitments.csv",
    ] {
        assert_eq!(
            std::fs::read(outs[0].join(name)).unwrap(),
            std::fs::read(outs[1].join(name)).unwrap(),
            "{name}"
        );
    }
    let j = json(&outs[0].join("robust.json"));
    assert!(j["relative_gap"].as_f64().unwrap() <= 1e-9, "{j}");
}

/// The cells of `robust.csv` as they stand for, by column name.
fn robust_rows(out: &Path) -> Vec<std::collections::HashMap<String, String>> {
    let text = std::fs::read_to_string(out.join("robust.csv")).unwrap();
    let mut lines = text.lines();
    let header: Vec<String> = lines
        .next()
        .unwrap()
        .split(',')
        .map(str::to_string)
        .collect();
    lines
        .map(|l| {
            header
                .iter()
                .cloned()
                .zip(
                    l.split(',')
                        .map(|c| capplan::export::csv::read_cell(c).to_string()),
                )
                .collect()
        })
        .collect()
}

/// EVPI by hand on the two samples of `hand_worked` (x = 2z reserved M tok/min):
///
/// - each sample's own optimum: T_A(x) = 40x + 60·(1.5 − x)+ is least at x = 1.5, T_A = 60;
///   T_B(x) = 40x + 60·(2 − x)+ at x = 2, T_B = 80; their mean 70.
/// - W = 0: the robust plan (x = 1.5) has T_A = 60, T_B = 90, mean 75: EVPI = 75 − 70 = 5.
/// - W = 1, α = 0.5: the robust plan (x = 2) has T_A = T_B = 80, mean 80: EVPI = 80 − 70 = 10
///   (a difference of mean totals: the CVaR plan gives up mean for its tail). Sample A's optimum
///   60 is below both plans' totals there (80 and the deterministic 70): found by the search.
#[test]
fn evpi_by_hand() {
    let dir = Folder::new();
    let file = hand_worked(&dir, "[robust]\nrisk_weight = 0\n");
    let s = file.to_str().unwrap();
    // Without --evpi: no evpi in robust.json, no replanned_total column.
    let out = dir.sub("plain");
    bin(&["robust", s, "--out", out.to_str().unwrap(), "-q"]);
    let j = json(&out.join("robust.json"));
    assert!(j.get("evpi").is_none(), "{j}");
    assert!(!robust_rows(&out)[0].contains_key("replanned_total"));
    let md = std::fs::read_to_string(out.join("robust.md")).unwrap();
    assert!(md.contains("EVPI was not computed"), "{md}");
    for (extra, out_name, evpi, replanned) in [
        (vec!["--evpi"], "mean", 5.0, [60.0, 80.0]),
        (
            vec!["--evpi", "--risk-weight", "1", "--cvar-alpha", "0.5"],
            "cvar",
            10.0,
            [60.0, 80.0],
        ),
    ] {
        let out = dir.sub(out_name);
        let mut args = vec!["robust", s, "--out", out.to_str().unwrap(), "-q"];
        args.extend(extra);
        bin(&args);
        let j = json(&out.join("robust.json"));
        assert!(rel(j["evpi"].as_f64().unwrap(), evpi) < 1e-9, "{j}");
        assert!(
            rel(j["replanned_mean_total"].as_f64().unwrap(), 70.0) < 1e-9,
            "{j}"
        );
        let rows = robust_rows(&out);
        for (row, want) in rows.iter().zip(replanned) {
            let got: f64 = row["replanned_total"].parse().unwrap();
            assert!(rel(got, want) < 1e-9, "{out_name}: {row:?}");
        }
        let md = std::fs::read_to_string(out.join("robust.md")).unwrap();
        assert!(md.contains(&format!("EVPI ${evpi}")), "{md}");
    }
    // `[robust] evpi = true` asks for it too.
    let file = hand_worked(&dir, "[robust]\nevpi = true\n");
    let out = dir.sub("from-file");
    bin(&[
        "robust",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(
        rel(
            json(&out.join("robust.json"))["evpi"].as_f64().unwrap(),
            5.0
        ) < 1e-9
    );
}

/// A hedge for an outage, by hand. One hour, demand 1M tok/min. Tranche `a` (provider pa): 1M
/// tok/min, $30/h for all of it, usage free. Tranche `b` (pb): 1M tok/min, $5/h, usage $0.75/M
/// ($45 per M tok/min for the hour). On demand `od`: $1/M ($60). Two grid samples: as planned
/// (S0) and pa at half capacity for the hour (S1). With a, b the reserved M tok/min:
///
///   T_S0 = 30a + 5b + 45·min(b, (1 − a)+) + 60·(1 − a − b)+
///   T_S1 = 30a + 5b + 45·min(b, (1 − a/2)+) + 60·(1 − a/2 − b)+
///
/// - Deterministic (S0 alone): a costs 30 a unit, b 50 used and 5 idle, od 60: a = 1, b = 0;
///   T_S0 = 30, T_S1 = 30 + 60·0.5 = 60, mean 45.
/// - Robust (W = 0): at a = 1 the mean falls by 2.5 per unit of b up to b = 0.5 (S1: −10, S0:
///   +5) and rises by 5 beyond; a stays 1 (at b = 0.5 the mean falls by 7.5 per unit of a). So
///   a = 1, b = 0.5: T_S0 = 32.5, T_S1 = 55, mean 43.75; VSS 1.25.
/// - The hedge: b's extra 0.5M is used in S1 only (fully): in 50% of the samples, 50% of its
///   capacity-time on average; 100% in samples with an outage at pa against 0% in the rest.
/// - EVPI: S0's optimum is 30 (a = 1); S1's is 50 (a = 0, b = 1: 5 + 45); mean 40, EVPI 3.75.
#[test]
fn a_hedge_for_an_outage_by_hand() {
    let dir = Folder::new();
    let scenario = dir.sub("scenario");
    std::fs::create_dir_all(&scenario).unwrap();
    std::fs::write(
        scenario.join("demand.csv"),
        "period,tokens_per_minute\n2026-01-01,1M\n",
    )
    .unwrap();
    std::fs::write(
        scenario.join("capacity.csv"),
        "provider,tranche,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour\npa,a,1M,0,30\npb,b,1M,0.75,5\npd,od,10M,1,0\n",
    )
    .unwrap();
    std::fs::write(
        scenario.join("scenario.toml"),
        "horizon_end = \"2026-01-01T01:00\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(dir.sub("sweeps")).unwrap();
    let file = dir.sub("sweeps/outage.toml");
    std::fs::write(
        &file,
        "scenario = \"../scenario\"\n[grid]\n\"outage.pa\" = [\"\", \"2026-01-01T00:00..2026-01-01T01:00=0.5\"]\n",
    )
    .unwrap();
    let out = dir.sub("out");
    let stdout = bin(&[
        "robust",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--evpi",
    ]);
    assert!((reserved(&out, "a") - 1.0).abs() < 1e-9);
    assert!((reserved(&out, "b") - 0.5).abs() < 1e-9);
    let j = json(&out.join("robust.json"));
    let f = |k: &str| j[k].as_f64().unwrap();
    assert!(rel(f("objective"), 43.75) < 1e-9, "{j}");
    assert!(rel(f("deterministic_objective"), 45.0) < 1e-9, "{j}");
    assert!(rel(f("vss"), 1.25) < 1e-9, "{j}");
    assert!(rel(f("evpi"), 3.75) < 1e-9, "{j}");
    let hedge = std::fs::read_to_string(out.join("robust_hedge.csv")).unwrap();
    let words = "adds 500.0K tok/min at pb/global: the extra is used in 50% of the planning samples, 50% of its capacity-time on average; 100% in samples with an outage at pa against 0% in the rest";
    assert!(hedge.contains(words), "{hedge}");
    // a is reserved alike: no words.
    let a_row = hedge.lines().find(|l| l.starts_with("a,")).unwrap();
    assert!(a_row.contains(",,"), "{a_row}");
    let md = std::fs::read_to_string(out.join("robust.md")).unwrap();
    assert!(md.contains(&format!("- `b` {words}")), "{md}");
    assert!(stdout.contains(&format!("b {words}")), "{stdout}");
}

/// On random small cases (quickstart with random outages and demand, W = 0): VSS ≥ 0 (the
/// deterministic z is one the search could choose, and it starts there) and EVPI ≥ 0; each
/// sample's re-planned optimum is at most its total under either plan (both are in the same z
/// set: the deterministic side is not built in, so it checks the search). The same bytes on
/// one thread as on two.
#[test]
fn evpi_and_vss_are_not_negative_on_random_cases() {
    let dir = Folder::new();
    std::fs::create_dir_all(dir.sub("sweeps")).unwrap();
    for seed in [3, 17] {
        let file = dir.sub(&format!("sweeps/risk-{seed}.toml"));
        std::fs::write(
            &file,
            format!(
                "scenario = {:?}\n[risk]\nsamples = 5\nseed = {seed}\n[[risk.outage]]\nprovider = \"aws\"\nper_year = 30\nmedian_hours = 240\np95_hours = 900\ncapacity_factor = 0.3\n[[risk.outage]]\nprovider = \"azure\"\nper_year = 10\nmedian_hours = 100\np95_hours = 600\n[risk.demand]\nsigma = 0.25\n[robust]\nholdout = 2\n",
                quickstart().display().to_string()
            ),
        )
        .unwrap();
        let mut outs = Vec::new();
        for threads in ["1", "2"] {
            let out = dir.sub(&format!("out-{seed}-{threads}"));
            let (code, _, err) = crate::common::output(
                crate::common::command()
                    .args([
                        "robust",
                        file.to_str().unwrap(),
                        "--out",
                        out.to_str().unwrap(),
                        "--evpi",
                        "-q",
                        "--no-charts",
                    ])
                    .env("RAYON_NUM_THREADS", threads),
            );
            assert_eq!(code, 0, "{err}");
            outs.push(out);
        }
        for name in ["robust.csv", "robust.json", "robust_hedge.csv", "robust.md"] {
            assert_eq!(
                std::fs::read(outs[0].join(name)).unwrap(),
                std::fs::read(outs[1].join(name)).unwrap(),
                "seed {seed}: {name}"
            );
        }
        let j = json(&outs[0].join("robust.json"));
        let mean = j["mean_total"].as_f64().unwrap();
        assert!(
            j["vss"].as_f64().unwrap() >= -1e-9 * mean,
            "seed {seed}: {j}"
        );
        assert!(j["evpi"].as_f64().unwrap() >= 0.0, "seed {seed}: {j}");
        for row in robust_rows(&outs[0]) {
            let cell = |k: &str| row[k].parse::<f64>();
            if row["set"] == "holdout" {
                assert_eq!(row["replanned_total"], "", "{row:?}");
                continue;
            }
            let replanned = cell("replanned_total").unwrap();
            assert!(replanned <= cell("robust_total").unwrap(), "{row:?}");
            let det = cell("deterministic_total").unwrap();
            assert!(replanned <= det * (1.0 + 1e-9), "{row:?}");
        }
    }
}

/// The charts: written with the other files (not with --no-charts), each text clear of the
/// others at two sizes, and drawn again byte for byte by `capplan chart` from the data files
/// alone.
#[test]
fn robust_charts_are_drawn_and_redrawn_from_the_files() {
    let dir = Folder::new();
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweeps/frontier-risk.toml");
    let f = file.to_str().unwrap();
    let stems = ["robust_hedge", "robust_total", "robust_unserved"];
    let none = dir.sub("none");
    bin(&[
        "robust",
        f,
        "--samples",
        "6",
        "--out",
        none.to_str().unwrap(),
        "-q",
        "--no-charts",
    ]);
    for stem in stems {
        assert!(!none.join(format!("{stem}.png")).exists());
    }
    for (w, h) in [(1920, 1080), (800, 450)] {
        let size = format!("{w}x{h}");
        let out = dir.sub(&format!("out-{size}"));
        bin(&[
            "robust",
            f,
            "--samples",
            "6",
            "--holdout",
            "4",
            "--out",
            out.to_str().unwrap(),
            "-q",
            "--chart-size",
            &size,
        ]);
        for stem in stems {
            let svg = std::fs::read_to_string(out.join(format!("{stem}.svg"))).unwrap();
            crate::common::svg::assert_text_fits(&svg, stem, w, h);
            assert!(out.join(format!("{stem}.png")).is_file());
        }
        let copy = dir.sub(&format!("copy-{size}"));
        std::fs::create_dir_all(&copy).unwrap();
        for name in ["robust.json", "robust.csv", "robust_hedge.csv"] {
            std::fs::copy(out.join(name), copy.join(name)).unwrap();
        }
        let listed = bin(&["chart", copy.to_str().unwrap(), "--chart-size", &size]);
        for stem in stems {
            for kind in ["png", "svg"] {
                let name = format!("{stem}.{kind}");
                assert!(listed.contains(&name), "{listed}");
                assert!(
                    std::fs::read(out.join(&name)).unwrap()
                        == std::fs::read(copy.join(&name)).unwrap(),
                    "{name} at {size} redrawn differs"
                );
            }
        }
    }
}

/// `--shard` is refused with why and what to do instead (a usage error, before any solving).
#[test]
fn robust_refuses_shards_and_says_why() {
    let dir = Folder::new();
    let file = hand_worked(&dir, "");
    for flags in [["--shard", "0/2"], ["--shard-count", "4"]] {
        let mut args = vec!["robust", file.to_str().unwrap()];
        args.extend(flags);
        let (code, _, err) = capplan(&args);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains(&format!("{} {}", flags[0], flags[1])), "{err}");
        assert!(err.contains("does not run as shards"), "{err}");
        assert!(err.contains("capplan sweep"), "{err}");
        // Whole, not clipped.
        assert!(err.trim_end().ends_with("(docs/cluster.md)"), "{err}");
    }
}

/// A plan in GPUs (frontier-2026-gpus, whole blocks; two samples under the scenario's policy,
/// which the whole-block master finishes quickly): the hedge speaks in GPUs, tranches whose
/// whole-block z differ only in read-back noise are no change, and `capplan chart` redraws the
/// charts byte for byte from the files.
#[test]
fn gpu_tranches_are_worded_in_gpus_and_redrawn() {
    let dir = Folder::new();
    std::fs::create_dir_all(dir.sub("sweeps")).unwrap();
    let file = dir.sub("sweeps/gpus.toml");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/frontier-2026-gpus");
    std::fs::write(
        &file,
        format!(
            "scenario = {:?}\n[risk]\nsamples = 2\nseed = 7\n[[risk.outage]]\nprovider = \"aws\"\nper_year = 2\nmedian_hours = 48\np95_hours = 200\n[risk.demand]\nsigma = 0.1\n[robust]\nemergency = false\n",
            scenario.display().to_string()
        ),
    )
    .unwrap();
    let out = dir.sub("out");
    bin(&[
        "robust",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    let hedge = std::fs::read_to_string(out.join("robust_hedge.csv")).unwrap();
    let header = hedge.lines().next().unwrap();
    assert!(
        header.ends_with(",gpu,robust_gpus_reserved,deterministic_gpus_reserved"),
        "{header}"
    );
    let worded: Vec<&str> = hedge.lines().filter(|l| l.contains(" at ")).collect();
    assert!(!worded.is_empty(), "{hedge}");
    for line in &worded {
        // "adds 8 H200 at …", "cuts 7,192 B200 at …": whole GPUs of the tranche's type.
        let cells: Vec<&str> = line.split(',').collect();
        let gpu = cells[cells.len() - 3];
        assert!(line.contains(&format!(" {gpu} at ")), "{line}");
    }
    // No "0 GPUs" changes: every worded tranche differs by a block or more.
    assert!(!hedge.contains(" 0 H"), "{hedge}");
    let copy = dir.sub("copy");
    std::fs::create_dir_all(&copy).unwrap();
    for name in ["robust.json", "robust.csv", "robust_hedge.csv"] {
        std::fs::copy(out.join(name), copy.join(name)).unwrap();
    }
    bin(&["chart", copy.to_str().unwrap()]);
    for stem in ["robust_hedge", "robust_total", "robust_unserved"] {
        let name = format!("{stem}.png");
        assert!(
            std::fs::read(out.join(&name)).unwrap() == std::fs::read(copy.join(&name)).unwrap(),
            "{name} redrawn differs"
        );
    }
}

/// Deferral in robust plans (issues 21 and 22): batch may wait 12 hours on a 6-hour grid over two
/// days, and three sampled futures (aws outages of about a day, demand ±30%) decide one
/// reservation for all. The robust optimum equals the extensive form's (every sample's held LP
/// with deferral in one LP, microlp) for the mean and for the CVaR alone; one sample replayed by
/// `run --reservations-from --emergency` gives its row's total; under the held rules with a
/// share cap the plan is refused, saying why and what to do.
#[test]
fn robust_plans_carry_waiting_batch() {
    use capplan::facts::Facts;
    use capplan::model::robust::{extensive_form, solve, CutGroups, RobustOptions};
    use capplan::model::solve::SolverKind;
    use capplan::scenario::Scenario;

    let mut demand = String::from("period,workload,tokens_per_minute\n");
    for (i, chat) in [100, 300, 200, 100, 120, 320, 180, 90].iter().enumerate() {
        let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap()
            + chrono::Duration::hours(6 * i as i64);
        let period = start.format("%Y-%m-%dT%H:%M");
        demand += &format!("{period},chat,{chat}\n");
        if i % 4 == 1 {
            demand += &format!("{period},batch,200\n");
        }
    }
    let dir = Folder::new()
        .file("batch/demand.csv", &demand)
        .file(
            "batch/capacity.csv",
            "provider,tranche,capacity_tpm,commit_cost_per_hour,cost_per_million_tokens\n\
             aws,aws-res,1000,1,0\n\
             gcp,gcp-res,1000,1.2,0\n\
             oracle,od,1000000,0,100\n",
        )
        .file("batch/workloads.csv", "workload,max_delay\nbatch,12h\n")
        .file(
            "batch/scenario.toml",
            "name = \"batch\"\nhorizon_end = \"2026-01-03\"\n[policy]\nunserved_penalty = 1000.0\nmax_provider_share = 0.8\n",
        );
    let scenario = dir.sub("batch");
    let file = dir.sub("risk.toml");
    std::fs::write(
        &file,
        format!(
            "scenario = {:?}\n[risk]\nsamples = 3\nseed = 5\n[[risk.outage]]\nprovider = \"aws\"\nper_year = 200\nmedian_hours = 20\np95_hours = 40\n[risk.demand]\nsigma = 0.3\n",
            scenario.display().to_string()
        ),
    )
    .unwrap();
    let sweep = capplan::sweep::spec::read(&file).unwrap();
    let prep = capplan::sweep::prepare(sweep.clone(), &Default::default()).unwrap();
    let base = capplan::pipeline::Planning::load(&sweep.scenario, &Default::default()).unwrap();
    assert!(base.facts.defers());
    let scenarios: Vec<Scenario> = (0..3).map(|id| prep.scenario_of(id).unwrap()).collect();
    let facts: Vec<Facts> = scenarios.iter().map(Facts::of).collect();
    let samples: Vec<(&Scenario, &Facts)> = scenarios.iter().zip(&facts).collect();
    let mut totals = Vec::new();
    for (risk_weight, cvar_alpha) in [(0.0, 0.9), (1.0, 0.5)] {
        let options = RobustOptions {
            risk_weight,
            cvar_alpha,
            emergency: true,
            whole_blocks: false,
            cuts: CutGroups::Auto,
        };
        let (reference, _) =
            extensive_form(&base.facts, &samples, options, SolverKind::Microlp).unwrap();
        let robust = solve(&base.facts, &samples, options, None).unwrap();
        assert!(
            robust.convergence.relative_gap <= 1e-9,
            "{:?}",
            robust.convergence
        );
        let r = capplan::model::robust::risk_objective(&robust.totals, risk_weight, cvar_alpha);
        assert!(
            rel(r, reference) < 1e-6,
            "W {risk_weight}: robust {r}, extensive form {reference}"
        );
        totals.push(robust.totals.clone());
    }
    // The samples differ.
    assert!(
        totals[0].iter().any(|t| rel(*t, totals[0][0]) > 1e-6),
        "{totals:?}"
    );
    // Waiting is worth something here: the same samples with nothing waiting cost more.
    let rigid: Vec<Scenario> = scenarios
        .iter()
        .map(|s| capplan::whatif::without_deferral(s.clone()))
        .collect();
    let rigid_facts: Vec<Facts> = rigid.iter().map(Facts::of).collect();
    assert!(!rigid_facts[0].defers());
    let rigid_samples: Vec<(&Scenario, &Facts)> = rigid.iter().zip(&rigid_facts).collect();
    let mean_options = RobustOptions {
        risk_weight: 0.0,
        cvar_alpha: 0.9,
        emergency: true,
        whole_blocks: false,
        cuts: CutGroups::Auto,
    };
    let without = solve(&rigid_facts[0], &rigid_samples, mean_options, None).unwrap();
    let r_without = capplan::model::robust::risk_objective(&without.totals, 0.0, 0.9);
    let r_with = capplan::model::robust::risk_objective(&totals[0], 0.0, 0.9);
    assert!(
        r_with < r_without * (1.0 - 1e-3),
        "with {r_with}, without {r_without}"
    );
    // Through the command: a sample replayed by `run` gives its row's total.
    let out = dir.sub("out");
    bin(&[
        "robust",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "-q",
    ]);
    let csv = std::fs::read_to_string(out.join("robust.csv")).unwrap();
    let row: Vec<String> = csv
        .lines()
        .nth(2)
        .unwrap()
        .split(',')
        .map(|c| capplan::export::csv::read_cell(c).to_string())
        .collect();
    let s = replay(&scenario, &out.join("plan"), &row[2], &dir.sub("replay"));
    let total: f64 = row[3].parse().unwrap();
    assert!(
        rel(s["objective"].as_f64().unwrap(), total) < 1e-6,
        "{row:?} {s}"
    );
    // Held to the scenario's share cap, waiting tokens have no network: refused, with the way out.
    let held = dir.sub("held.toml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&held, format!("{text}[robust]\nemergency = false\n")).unwrap();
    let (code, _, err) = capplan(&[
        "robust",
        held.to_str().unwrap(),
        "--out",
        dir.sub("policy").to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("max_provider_share"), "{err}");
}
