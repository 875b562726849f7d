//! `capplan sweep` and `capplan merge`, run as a planner would: grid points equal individual runs,
//! a risk sample replays through `run`, results do not depend on threads, shards or interruptions.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::common::{command, output};

fn quickstart() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quickstart")
}

const GRID: &str = r#"
hold_reservations = false
[grid]
demand_scale = ["", 1.2]
"delay.azure" = ["", "30d"]
"price.aws" = [0.8, ""]
"#;

const RISK: &str = r#"
[risk]
samples = 6
seed = 11
[[risk.outage]]
provider = "aws"
per_year = 30
median_hours = 24
p95_hours = 300
[[risk.outage]]
provider = "azure"
region = "eu"
per_year = 8
median_hours = 48
p95_hours = 500
capacity_factor = 0.3
[risk.demand]
sigma = 0.1
"#;

/// A sweep file in a `sweeps` folder of a temp dir (outputs go beside that folder, never into
/// it), its scenario given by its path.
fn sweep_file(dir: &Path, name: &str, body: &str) -> PathBuf {
    let dir = dir.join("sweeps");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(format!("{name}.toml"));
    let scenario = quickstart();
    std::fs::write(
        &path,
        format!("scenario = {:?}\n{body}", scenario.display().to_string()),
    )
    .unwrap();
    path
}

fn capplan(args: &[&str], env: &[(&str, &str)]) -> (i32, String, String) {
    let mut c = command();
    c.args(args);
    for k in [
        "JOB_COMPLETION_INDEX",
        "SLURM_ARRAY_TASK_ID",
        "AWS_BATCH_JOB_ARRAY_INDEX",
        "CAPPLAN_SWEEP_STOP_AFTER",
    ] {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    output(&mut c)
}

fn ok(args: &[&str], env: &[(&str, &str)]) -> String {
    let (code, out, err) = capplan(args, env);
    assert_eq!(code, 0, "capplan {args:?} failed: {err}");
    out
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Every file of a folder, by name (capplan's record of its files, `.capplan-manifest`, aside).
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .filter(|e| e.path().is_file() && e.file_name() != ".capplan-manifest")
        .map(|e| {
            (
                e.file_name().to_string_lossy().into_owned(),
                std::fs::read(e.path()).unwrap(),
            )
        })
        .collect()
}

fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap();
    let h: Vec<String> = r.headers().unwrap().iter().map(str::to_string).collect();
    r.records()
        .map(|row| {
            h.iter()
                .cloned()
                .zip(row.unwrap().iter().map(str::to_string))
                .collect()
        })
        .collect()
}

fn json(text: &str) -> serde_json::Value {
    serde_json::from_str(text).unwrap()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

#[test]
fn grid_points_equal_individual_runs() {
    let t = tempfile::tempdir().unwrap();
    let file = sweep_file(t.path(), "grid", GRID);
    let out = t.path().join("out");
    ok(&["sweep", s(&file), "--out", s(&out), "--no-charts"], &[]);
    let points = rows(&out.join("sweep.csv"));
    assert_eq!(points.len(), 8);
    // Row-major over the axes in file order: the last axis fastest.
    assert_eq!(points[1]["demand_scale"], "");
    assert_eq!(points[1]["price.aws"], "");
    assert_eq!(points[6]["demand_scale"], "1.2");
    assert_eq!(points[6]["delay.azure"], "30d");
    assert_eq!(points[6]["price.aws"], "0.8");
    for p in &points {
        let mut args = vec!["run".to_string(), s(&quickstart()).to_string()];
        for (axis, flag) in [
            ("demand_scale", "--demand-scale"),
            ("delay.azure", "--delay"),
            ("price.aws", "--price"),
        ] {
            let v = &p[axis];
            if v.is_empty() {
                continue;
            }
            args.push(flag.into());
            args.push(match axis {
                "delay.azure" => format!("azure={v}"),
                "price.aws" => format!("aws={v}"),
                _ => v.clone(),
            });
        }
        let run_out = t.path().join(format!("run-{}", p["id"]));
        args.extend(["--out".into(), s(&run_out).into(), "--no-charts".into()]);
        args.extend(["--format".into(), "json".into(), "--quiet".into()]);
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let summary = json(&ok(&a, &[]));
        for metric in ["objective", "cost", "unserved_tokens"] {
            let want = summary[metric].as_f64().unwrap();
            let got: f64 = p[metric].parse().unwrap();
            assert!(
                close(want, got),
                "point {} {metric}: sweep {got}, run {want}",
                p["id"]
            );
        }
    }
    let j = json(&std::fs::read_to_string(out.join("sweep.json")).unwrap());
    assert_eq!(j["centre_id"], 1);
    assert_eq!(j["summary"]["tornado"][0]["axis"], "demand_scale");
}

#[test]
fn a_risk_sample_equals_its_replay() {
    let t = tempfile::tempdir().unwrap();
    let file = sweep_file(t.path(), "risk", RISK);
    let out = t.path().join("out");
    ok(&["sweep", s(&file), "--out", s(&out), "--no-charts"], &[]);
    let samples = rows(&out.join("sweep.csv"));
    assert_eq!(samples.len(), 6);
    let base = t.path().join("base");
    ok(
        &[
            "run",
            s(&quickstart()),
            "--out",
            s(&base),
            "--no-charts",
            "-q",
        ],
        &[],
    );
    // A sample with outages of both rows, and one more.
    let mut picked: Vec<&BTreeMap<String, String>> = samples
        .iter()
        .filter(|r| r["outages"].contains("aws@") && r["outages"].contains("azure/eu@"))
        .take(1)
        .collect();
    picked.push(&samples[samples.len() - 1]);
    for sample in picked {
        let mut args = vec![
            "run".to_string(),
            s(&quickstart()).into(),
            "--reservations-from".into(),
            s(&base).into(),
            "--emergency".into(),
            "--demand-scale".into(),
            sample["demand_scale"].clone(),
        ];
        for o in sample["outages"].split_whitespace() {
            args.push("--outage".into());
            args.push(o.into());
        }
        let replay_out = t.path().join(format!("replay-{}", sample["id"]));
        args.extend(["--out".into(), s(&replay_out).into(), "--no-charts".into()]);
        args.extend(["--format".into(), "json".into(), "-q".into()]);
        let a: Vec<&str> = args.iter().map(String::as_str).collect();
        let summary = json(&ok(&a, &[]));
        for metric in ["objective", "cost", "unserved_tokens", "demand_tokens"] {
            let want = summary[metric].as_f64().unwrap();
            let got: f64 = sample[metric].parse().unwrap();
            assert!(
                close(want, got),
                "sample {} {metric}: sweep {got}, replay {want}",
                sample["id"]
            );
        }
        let served = summary["served_fraction"].as_f64().unwrap() * 100.0;
        assert!(close(served, sample["served_pct"].parse().unwrap()));
    }
}

#[test]
fn results_do_not_depend_on_thread_count() {
    let t = tempfile::tempdir().unwrap();
    let file = sweep_file(t.path(), "risk", RISK);
    let (one, two) = (t.path().join("one"), t.path().join("two"));
    for (dir, threads) in [(&one, "1"), (&two, "2")] {
        ok(
            &[
                "sweep",
                s(&file),
                "--out",
                s(dir),
                "--chart-size",
                "800x450",
            ],
            &[("RAYON_NUM_THREADS", threads)],
        );
    }
    let (a, b) = (files(&one), files(&two));
    assert!(a.contains_key("sweep.csv") && a.contains_key("sweep_periods.csv"));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, bytes) in &a {
        assert!(bytes == &b[name], "{name} differs between 1 and 2 threads");
    }
}

#[test]
fn three_shards_merge_into_the_unsharded_run() {
    let t = tempfile::tempdir().unwrap();
    for (name, body) in [("risk", RISK), ("grid", GRID)] {
        let file = sweep_file(t.path(), name, body);
        let whole = t.path().join(format!("{name}-whole"));
        ok(
            &[
                "sweep",
                s(&file),
                "--out",
                s(&whole),
                "--chart-size",
                "800x450",
            ],
            &[],
        );
        let shards = t.path().join(format!("{name}-shards"));
        let children: Vec<_> = (0..3)
            .map(|i| {
                command()
                    .args(["sweep", s(&file), "--out", s(&shards), "--shard"])
                    .arg(format!("{i}/3"))
                    .env_remove("JOB_COMPLETION_INDEX")
                    .env_remove("SLURM_ARRAY_TASK_ID")
                    .env_remove("AWS_BATCH_JOB_ARRAY_INDEX")
                    .output()
                    .unwrap()
            })
            .collect();
        // Run one after another here; separate processes all the same.
        for c in &children {
            assert!(c.status.success(), "{}", String::from_utf8_lossy(&c.stderr));
        }
        let merged = t.path().join(format!("{name}-merged"));
        ok(
            &[
                "merge",
                s(&shards),
                "--out",
                s(&merged),
                "--chart-size",
                "800x450",
            ],
            &[],
        );
        let (a, b) = (files(&whole), files(&merged));
        assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
        for (file_name, bytes) in &a {
            assert!(
                bytes == &b[file_name],
                "{name}: {file_name} differs after merge"
            );
        }
        // Shard mode writes its own files only.
        let names: Vec<String> = files(&shards).into_keys().collect();
        assert_eq!(
            names,
            [
                "shard-0-of-3.csv",
                "shard-0-of-3.json",
                "shard-1-of-3.csv",
                "shard-1-of-3.json",
                "shard-2-of-3.csv",
                "shard-2-of-3.json"
            ]
        );
    }
}

#[test]
fn merge_refuses_missing_duplicated_and_foreign_shards() {
    let t = tempfile::tempdir().unwrap();
    let file = sweep_file(t.path(), "risk", RISK);
    let dir = t.path().join("shards");
    for i in [0, 2] {
        ok(
            &[
                "sweep",
                s(&file),
                "--out",
                s(&dir),
                "--shard",
                &format!("{i}/3"),
                "-q",
            ],
            &[],
        );
    }
    let (code, _, err) = capplan(&["merge", s(&dir), "--no-charts"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("shard 1 of 3 is missing"), "{err}");
    assert!(!dir.join("sweep.csv").exists());

    // The same shard in two folders.
    let other = t.path().join("other");
    ok(
        &[
            "sweep",
            s(&file),
            "--out",
            s(&other),
            "--shard",
            "1/3",
            "-q",
        ],
        &[],
    );
    let copy = t.path().join("copy");
    std::fs::create_dir_all(&copy).unwrap();
    for ext in ["csv", "json"] {
        std::fs::copy(
            other.join(format!("shard-1-of-3.{ext}")),
            copy.join(format!("shard-1-of-3.{ext}")),
        )
        .unwrap();
    }
    let (code, _, err) = capplan(&["merge", s(&dir), s(&other), s(&copy), "--no-charts"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("shard 1 of 3 is given twice"), "{err}");

    // A shard of another seed.
    let foreign = t.path().join("foreign");
    ok(
        &[
            "sweep",
            s(&file),
            "--out",
            s(&foreign),
            "--shard",
            "1/3",
            "--seed",
            "99",
            "-q",
        ],
        &[],
    );
    let (code, _, err) = capplan(&["merge", s(&dir), s(&foreign), "--no-charts"], &[]);
    assert_eq!(code, 2);
    assert!(err.contains("fingerprint"), "{err}");
    let ok_out = t.path().join("merged");
    ok(
        &[
            "merge",
            s(&dir),
            s(&other),
            "--out",
            s(&ok_out),
            "--no-charts",
        ],
        &[],
    );
    assert!(ok_out.join("sweep.csv").is_file());
}

#[test]
fn batch_engine_variables_select_the_same_points_as_shard() {
    let t = tempfile::tempdir().unwrap();
    let file = sweep_file(t.path(), "risk", RISK);
    let by_flag = t.path().join("flag");
    ok(
        &[
            "sweep",
            s(&file),
            "--out",
            s(&by_flag),
            "--shard",
            "1/3",
            "-q",
        ],
        &[],
    );
    let want = std::fs::read(by_flag.join("shard-1-of-3.csv")).unwrap();
    // Each engine's variables select shard 1 of 3 when shard mode is asked for: --shard-count 3
    // (every engine), or --shard-from-env on a plain Slurm array 0-2.
    type Engine<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a [&'a str]);
    let engines: [Engine; 4] = [
        (
            "k8s",
            vec![("JOB_COMPLETION_INDEX", "1")],
            &["--shard-count", "3"],
        ),
        (
            "slurm",
            vec![
                ("SLURM_ARRAY_TASK_ID", "1"),
                ("SLURM_ARRAY_TASK_MIN", "0"),
                ("SLURM_ARRAY_TASK_STEP", "1"),
                ("SLURM_ARRAY_TASK_COUNT", "3"),
                ("SLURM_ARRAY_TASK_MAX", "2"),
            ],
            &["--shard-from-env"],
        ),
        (
            // Task 1 resubmitted on its own (`sbatch --array=1`): Slurm says COUNT 1.
            "slurm-rerun",
            vec![
                ("SLURM_ARRAY_TASK_ID", "1"),
                ("SLURM_ARRAY_TASK_MIN", "1"),
                ("SLURM_ARRAY_TASK_COUNT", "1"),
                ("SLURM_ARRAY_TASK_MAX", "1"),
            ],
            &["--shard-count", "3"],
        ),
        (
            "aws",
            vec![("AWS_BATCH_JOB_ARRAY_INDEX", "1")],
            &["--shard-count", "3"],
        ),
    ];
    for (name, env, asked) in engines {
        let dir = t.path().join(name);
        let mut args = vec!["sweep", s(&file), "--out", s(&dir), "-q"];
        // Not asked: the variables alone run the whole sweep, no shard files.
        let whole = t.path().join(format!("{name}-whole"));
        ok(
            &["sweep", s(&file), "--out", s(&whole), "-q", "--no-charts"],
            &env,
        );
        assert!(whole.join("sweep.csv").is_file(), "{name}");
        assert!(!whole.join("shard-1-of-3.csv").exists(), "{name}");
        args.extend(asked);
        ok(&args, &env);
        let got = std::fs::read(dir.join("shard-1-of-3.csv")).unwrap();
        assert!(got == want, "{name} selected other points than --shard 1/3");
    }
    // A Slurm array that is not 0-(N-1), with no --shard-count: refused, saying what to pass.
    let (code, _, err) = capplan(
        &[
            "sweep",
            s(&file),
            "--out",
            s(&t.path().join("x")),
            "-q",
            "--shard-from-env",
        ],
        &[
            ("SLURM_ARRAY_TASK_ID", "4"),
            ("SLURM_ARRAY_TASK_MIN", "1"),
            ("SLURM_ARRAY_TASK_COUNT", "3"),
            ("SLURM_ARRAY_TASK_MAX", "10"),
        ],
    );
    assert_eq!(code, 2);
    assert!(err.contains("pass --shard-count N"), "{err}");
}

#[test]
fn an_interrupted_sweep_resumes_to_the_same_result() {
    let t = tempfile::tempdir().unwrap();
    let file = sweep_file(t.path(), "risk", RISK);
    let whole = t.path().join("whole");
    ok(&["sweep", s(&file), "--out", s(&whole), "--no-charts"], &[]);
    let out = t.path().join("stopped");
    let (code, _, err) = capplan(
        &["sweep", s(&file), "--out", s(&out), "--no-charts"],
        &[
            ("CAPPLAN_SWEEP_STOP_AFTER", "2"),
            ("RAYON_NUM_THREADS", "1"),
        ],
    );
    assert_eq!(code, 130, "{err}");
    assert!(err.contains("--resume"), "{err}");
    let left: Vec<String> = files(&out).into_keys().collect();
    assert_eq!(left, ["sweep.partial.csv"]);
    assert_eq!(rows(&out.join("sweep.partial.csv")).len(), 2);
    ok(
        &[
            "sweep",
            s(&file),
            "--out",
            s(&out),
            "--no-charts",
            "--resume",
        ],
        &[],
    );
    let (a, b) = (files(&whole), files(&out));
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (name, bytes) in &a {
        assert!(bytes == &b[name], "{name} differs after resume");
    }
}

#[test]
fn bad_sweep_files_name_file_line_and_key() {
    let t = tempfile::tempdir().unwrap();
    let cases = [
        (
            "[grid]\ndemand_scale = [1]\n[risk]\nsamples = 2\n",
            ":4: column 'risk': a sweep file has [grid] or [risk], not both",
        ),
        (
            "[grid]\n\"delay.aws\" = [\"90\"]\n",
            ":3: column 'grid.delay.aws': --delay aws=90: expected a duration",
        ),
        ("[grid]\ncolour = [1]\n", ":3: column 'grid.colour': unknown axis"),
        (
            "[risk]\nsamples = 2\n[[risk.outage]]\nprovider = \"nope\"\nper_year = 1\nmedian_hours = 1\np95_hours = 2\n",
            ":4: column 'risk.outage': provider 'nope' is not in the scenario",
        ),
        (
            "[grid]\n\"delay.nope\" = [\"9d\"]\n",
            ":3: column 'grid.delay.nope':",
        ),
    ];
    for (i, (body, want)) in cases.iter().enumerate() {
        let file = sweep_file(t.path(), &format!("bad{i}"), body);
        let (code, _, err) = capplan(&["sweep", s(&file), "--out", s(&t.path().join("o"))], &[]);
        assert_eq!(code, 2, "{body}: {err}");
        assert!(err.contains(want), "{body}: {err}");
        assert!(err.contains(&format!("bad{i}.toml")), "{err}");
    }
    let file = sweep_file(t.path(), "grid", GRID);
    let (code, _, err) = capplan(&["sweep", s(&file), "--samples", "3"], &[]);
    assert_eq!(code, 2);
    assert!(
        err.contains("--samples and --seed apply to a [risk] sweep"),
        "{err}"
    );
}

#[test]
fn a_stopped_shard_says_how_to_resume_the_same_shard() {
    let t = tempfile::tempdir().unwrap();
    let file = sweep_file(t.path(), "risk", RISK);
    let out = t.path().join("shard");
    let (code, _, err) = capplan(
        &[
            "sweep",
            s(&file),
            "--out",
            s(&out),
            "--no-charts",
            "--shard-count",
            "3",
        ],
        &[
            ("JOB_COMPLETION_INDEX", "1"),
            ("CAPPLAN_SWEEP_STOP_AFTER", "1"),
            ("RAYON_NUM_THREADS", "1"),
        ],
    );
    assert_eq!(code, 130, "{err}");
    assert!(
        err.contains(&format!(
            "Continue with: capplan sweep {} --resume --shard 1/3 --out {}",
            s(&file),
            s(&out)
        )),
        "{err}"
    );
}

#[test]
fn sigterm_stops_a_sweep_with_its_checkpoint_like_ctrl_c() {
    // A long sweep (a million samples of the risk file) told to stop by SIGTERM, as scancel and
    // Kubernetes do: it saves what finished and exits 130, naming how to resume.
    let t = tempfile::tempdir().unwrap();
    let file = sweep_file(t.path(), "risk", RISK);
    let out = t.path().join("stopped");
    let child = command()
        .args([
            "sweep",
            s(&file),
            "--out",
            s(&out),
            "--no-charts",
            "--samples",
            "1000000",
        ])
        .env("RAYON_NUM_THREADS", "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The handler is set once the base plan is made (milliseconds of quickstart).
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let out_put = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&out_put.stderr);
    assert_eq!(out_put.status.code(), Some(130), "{err}");
    assert!(err.contains("--resume"), "{err}");
    assert!(out.join("sweep.partial.csv").is_file());
}

#[test]
fn a_batch_log_shows_progress_lines_and_a_short_run_none() {
    let t = tempfile::tempdir().unwrap();
    let file = sweep_file(t.path(), "risk", RISK);
    // A line at every drawing (the hook): the log shows how far the sweep is.
    let (code, _, err) = capplan(
        &[
            "sweep",
            s(&file),
            "--out",
            s(&t.path().join("a")),
            "--no-charts",
        ],
        &[("CAPPLAN_PROGRESS_SECONDS", "0")],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("planning the base ("), "{err}");
    assert!(err.contains("/6 samples ("), "{err}");
    // By default a line every ten seconds: a run this short writes none.
    let (code, _, err) = capplan(
        &[
            "sweep",
            s(&file),
            "--out",
            s(&t.path().join("b")),
            "--no-charts",
        ],
        &[],
    );
    assert_eq!(code, 0);
    assert_eq!(err, "");
}

/// A one-month scenario (January 2026, 44,640 minutes) for hand-checked risk samples: demand
/// 1M tokens/min in us, served by solo (us, 1M on demand at $1/M); far (eu, 1M) serves no
/// demand (no route, no eu demand). The unserved penalty ($10,000/M by default) is far above
/// the price, so a held dispatch serves all it can.
fn one_month(dir: &Path) -> PathBuf {
    let s = dir.join("one-month");
    std::fs::create_dir_all(&s).unwrap();
    let write = |name: &str, text: &str| std::fs::write(s.join(name), text).unwrap();
    write(
        "demand.csv",
        "period,region,tokens_per_minute\n2026-01-01,us,1M\n",
    );
    write(
        "capacity.csv",
        "provider,region,tranche,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour\n\
         solo,us,solo,1M,1,0\nfar,eu,far,1M,1,0\n",
    );
    write(
        "scenario.toml",
        "name = \"one-month\"\nhorizon_end = \"2026-02-01\"\n",
    );
    s
}

const JANUARY_MINUTES: f64 = 44_640.0;

/// A risk sweep file on the one-month scenario.
fn one_month_sweep(dir: &Path, name: &str, body: &str) -> PathBuf {
    let path = dir.join(format!("{name}.toml"));
    let scenario = one_month(dir);
    let text = format!("scenario = {:?}\n{body}", scenario.display().to_string());
    std::fs::write(&path, text).unwrap();
    path
}

fn num(row: &BTreeMap<String, String>, column: &str) -> f64 {
    row[column]
        .parse()
        .unwrap_or_else(|_| panic!("{column}: '{}'", row[column]))
}

/// What the risk summary says about the causes, computed here from sweep.csv the way the docs
/// define it: means over the samples in id order, shares of the mean unserved tokens.
fn cause_sentence(rows: &[BTreeMap<String, String>], cause: &str) -> String {
    // `cause`: the sentence's subject and verb, "The demand draw causes".
    let n = rows.len() as f64;
    let mean = |c: &str| rows.iter().map(|r| num(r, c)).sum::<f64>() / n;
    let (total, alone, added) = (
        mean("unserved_tokens"),
        mean("unserved_tokens_demand_only"),
        mean("unserved_tokens_from_outages"),
    );
    let share = |x: f64| format!("{:.2}%", x / total * 100.0);
    let h = capplan::units::human;
    format!(
        "{cause} most of the shortfall: of the mean {} unserved tokens per sample, the demand draw alone (the same held plan at the sample's demand without outages) leaves {} ({}) and the outages add {} ({}).",
        h(total),
        h(alone),
        share(alone),
        h(added),
        share(added)
    )
}

#[test]
fn a_shortfall_of_the_demand_draw_alone_is_told_apart_from_outages() {
    // Outages of far, which serves no demand, and demand drawn with σ 0.2: every shortfall is
    // the demand draw's, (M − 1) × 1M tokens/min over January when M > 1.
    let t = tempfile::tempdir().unwrap();
    let body = "[risk]\nsamples = 12\nseed = 7\n[[risk.outage]]\nprovider = \"far\"\nper_year = 40\nmedian_hours = 24\np95_hours = 100\n[risk.demand]\nsigma = 0.2\n";
    let file = one_month_sweep(t.path(), "demand", body);
    let out = t.path().join("out");
    ok(&["sweep", s(&file), "--out", s(&out), "--no-charts"], &[]);
    let rows = rows(&out.join("sweep.csv"));
    let demand = 1e6 * JANUARY_MINUTES;
    let short = |r: &BTreeMap<String, String>| num(r, "demand_scale") > 1.0;
    assert!(
        rows.iter().any(short) && !rows.iter().all(short),
        "{rows:?}"
    );
    assert!(
        rows.iter().any(|r| r["outages"].contains("far@")),
        "{rows:?}"
    );
    for r in &rows {
        let want = (num(r, "demand_scale") - 1.0).max(0.0) * demand;
        for column in ["unserved_tokens", "unserved_tokens_demand_only"] {
            let got = num(r, column);
            assert!(
                (got - want).abs() <= 1e-6 * demand,
                "sample {} {column}: {got}, by hand {want}",
                r["id"]
            );
        }
        assert!(
            num(r, "unserved_tokens_from_outages").abs() <= 1e-9 * demand,
            "{r:?}"
        );
    }
    // The demand-only column is the held dispatch at the sample's demand without its outages,
    // exactly `run --reservations-from <base> --emergency --demand-scale M`.
    let base = t.path().join("base");
    let scenario = t.path().join("one-month");
    ok(
        &["run", s(&scenario), "--out", s(&base), "--no-charts", "-q"],
        &[],
    );
    let sample = rows
        .iter()
        .find(|r| short(r) && r["outages"].contains("far@"))
        .unwrap();
    let replay = t.path().join("replay");
    let summary = json(&ok(
        &[
            "run",
            s(&scenario),
            "--reservations-from",
            s(&base),
            "--emergency",
            "--demand-scale",
            &sample["demand_scale"],
            "--out",
            s(&replay),
            "--no-charts",
            "--format",
            "json",
            "-q",
        ],
        &[],
    ));
    let alone = summary["unserved_tokens"].as_f64().unwrap();
    assert!(
        close(alone, num(sample, "unserved_tokens_demand_only")),
        "{alone} vs {sample:?}"
    );
    // The summary names the cause, and far's outages change nothing.
    let md = std::fs::read_to_string(out.join("sweep.md")).unwrap();
    assert!(
        md.contains(&format!(
            "**{}**",
            cause_sentence(&rows, "The demand draw causes")
        )),
        "{md}"
    );
    let n = rows.len() as f64;
    let shortfalls = rows
        .iter()
        .filter(|r| num(r, "unserved_tokens") > 1e-9 * demand)
        .count();
    assert!(
        md.contains(&format!(
            "P(shortfall) from the demand draw alone: {:.2}%; the outages add unserved tokens in 0.00% of samples.",
            shortfalls as f64 / n * 100.0
        )),
        "{md}"
    );
    let (with, without): (Vec<_>, Vec<_>) =
        rows.iter().partition(|r| r["outages"].contains("far@"));
    let p = |v: &[&BTreeMap<String, String>]| {
        let k = v
            .iter()
            .filter(|r| num(r, "unserved_tokens") > 1e-9 * demand)
            .count();
        format!("{:.2}%", k as f64 / v.len() as f64 * 100.0)
    };
    let added = with
        .iter()
        .map(|r| num(r, "unserved_tokens_from_outages"))
        .sum::<f64>();
    let added = capplan::units::human(added / with.len() as f64);
    let row = format!(
        "| far | {} | {} | {} | {added} |",
        with.len(),
        p(&with),
        p(&without)
    );
    assert!(md.contains(&row), "{row} not in {md}");
    let j = json(&std::fs::read_to_string(out.join("sweep.json")).unwrap());
    assert_eq!(j["summary"]["dominant_cause"], "demand_draw");
}

#[test]
fn a_shortfall_of_outages_alone_is_told_apart_from_the_demand_draw() {
    // Demand as planned (σ 0) and outages of solo at factor 0: a sample leaves unserved 1M
    // tokens/min for every minute of January that an outage covers (overlaps counted once).
    let t = tempfile::tempdir().unwrap();
    let body = "[risk]\nsamples = 8\nseed = 3\n[[risk.outage]]\nprovider = \"solo\"\nper_year = 40\nmedian_hours = 24\np95_hours = 100\n";
    let file = one_month_sweep(t.path(), "outages", body);
    let out = t.path().join("out");
    ok(&["sweep", s(&file), "--out", s(&out), "--no-charts"], &[]);
    let rows = rows(&out.join("sweep.csv"));
    assert!(rows.iter().any(|r| !r["outages"].is_empty()), "{rows:?}");
    for r in &rows {
        assert_eq!(r["demand_scale"], "1");
        // The union of the drawn outages, in minutes.
        let mut spans: Vec<(i64, i64)> = r["outages"]
            .split_whitespace()
            .map(|o| {
                let (at, _) = o.trim_start_matches("solo@").split_once('=').unwrap();
                let (a, b) = at.split_once("..").unwrap();
                let t = |x: &str| capplan::units::parse_time(x).unwrap().timestamp() / 60;
                (t(a), t(b))
            })
            .collect();
        spans.sort();
        let (mut minutes, mut reach) = (0, i64::MIN);
        for (a, b) in spans {
            let from = a.max(reach);
            if b > from {
                minutes += b - from;
            }
            reach = reach.max(b);
        }
        let want = minutes as f64 * 1e6;
        let got = num(r, "unserved_tokens");
        assert!(
            (got - want).abs() <= 1e-6 * 1e6 * JANUARY_MINUTES,
            "sample {}: {got}, by hand {want}",
            r["id"]
        );
        assert_eq!(num(r, "unserved_tokens_demand_only"), 0.0, "{r:?}");
        assert_eq!(num(r, "unserved_tokens_from_outages"), got, "{r:?}");
    }
    let md = std::fs::read_to_string(out.join("sweep.md")).unwrap();
    let want = cause_sentence(&rows, "The outages cause");
    assert!(md.contains(&format!("**{want}**")), "{want}\nnot in\n{md}");
    assert!(
        md.contains("P(shortfall) from the demand draw alone: 0.00%;"),
        "{md}"
    );
}

/// Every file of `from` named in `names` copied into a new folder.
fn copy_of(from: &Path, to: &Path, names: &[&str]) {
    std::fs::create_dir_all(to).unwrap();
    for n in names {
        std::fs::copy(from.join(n), to.join(n)).unwrap();
    }
}

#[test]
fn capplan_chart_redraws_a_sweep_folder() {
    let t = tempfile::tempdir().unwrap();
    for (name, body, stems) in [
        ("risk", RISK, vec!["sweep_fan", "sweep_unserved"]),
        ("grid", GRID, vec!["sweep_tornado"]),
    ] {
        let file = sweep_file(t.path(), name, body);
        let out = t.path().join(name);
        ok(&["sweep", s(&file), "--out", s(&out), "-q"], &[]);
        // Only the data files: the charts come back from them alone.
        let copy = t.path().join(format!("{name}-copy"));
        copy_of(
            &out,
            &copy,
            &["sweep.json", "sweep.csv", "sweep_periods.csv"][..if name == "risk" { 3 } else { 2 }],
        );
        let listed = ok(&["chart", s(&copy)], &[]);
        for stem in &stems {
            for kind in ["png", "svg"] {
                let f = format!("{stem}.{kind}");
                assert!(listed.contains(&f), "{listed}");
                let (a, b) = (
                    std::fs::read(out.join(&f)).unwrap(),
                    std::fs::read(copy.join(&f)).unwrap(),
                );
                assert!(a == b, "{name}: {f} redrawn differs from the sweep's");
            }
        }
        ok(&["chart", s(&copy), "--chart-size", "800x450"], &[]);
        let svg = std::fs::read_to_string(copy.join(format!("{}.svg", stems[0]))).unwrap();
        assert!(svg.contains("<svg width=\"800\" height=\"450\""), "{name}");
    }
}

#[test]
fn the_grid_summary_names_its_points_with_their_values() {
    let t = tempfile::tempdir().unwrap();
    let file = sweep_file(t.path(), "grid", GRID);
    let out = t.path().join("out");
    let stdout = ok(&["sweep", s(&file), "--out", s(&out), "--no-charts"], &[]);
    let points = rows(&out.join("sweep.csv"));
    // The first of the cheapest and of the dearest, in id order.
    let cost = |r: &&BTreeMap<String, String>| num(r, "cost");
    let cheapest = points
        .iter()
        .fold(&points[0], |a, b| if cost(&b) < cost(&a) { b } else { a });
    let dearest = points
        .iter()
        .fold(&points[0], |a, b| if cost(&b) > cost(&a) { b } else { a });
    let words = |r: &BTreeMap<String, String>| {
        let set: Vec<String> = ["demand_scale", "delay.azure", "price.aws"]
            .iter()
            .filter(|k| !r[**k].is_empty())
            .map(|k| format!("{k} {}", r[*k]))
            .collect();
        if set.is_empty() {
            "no what-ifs".to_string()
        } else {
            set.join(", ")
        }
    };
    let point = |r: &BTreeMap<String, String>| {
        format!(
            "point {} ({}): spend {}, served {:.2}%",
            r["id"],
            words(r),
            capplan::units::human_dollars(num(r, "cost")),
            num(r, "served_pct")
        )
    };
    let want = format!("Cheapest {}; dearest {}.", point(cheapest), point(dearest));
    assert!(stdout.contains(&want), "{want}\nnot in\n{stdout}");
    assert!(!words(cheapest).is_empty() && words(cheapest) != "no what-ifs");
}

#[test]
fn tornado_labels_are_whole_and_say_which_value_sets_each_end() {
    let t = tempfile::tempdir().unwrap();
    let body = "hold_reservations = false\n[grid]\n\"policy.max_provider_share\" = [0.6, 1.0]\ndemand_scale = [0.8, \"\", 1.2]\n";
    let file = sweep_file(t.path(), "tornado", body);
    for (size, w, h) in [("1920x1080", 1920, 1080), ("800x450", 800, 450)] {
        let out = t.path().join(size);
        ok(
            &[
                "sweep",
                s(&file),
                "--out",
                s(&out),
                "--chart-size",
                size,
                "-q",
            ],
            &[],
        );
        let svg = std::fs::read_to_string(out.join("sweep_tornado.svg")).unwrap();
        let texts = crate::common::svg::texts(&svg);
        for axis in ["policy.max_provider_share", "demand_scale"] {
            assert_eq!(
                texts.iter().filter(|t| *t == axis).count(),
                2,
                "{size}: {texts:?}"
            );
        }
        assert!(
            !texts.iter().any(|t| t.contains('…')),
            "{size}: a label is cut: {texts:?}"
        );
        let j = json(&std::fs::read_to_string(out.join("sweep.json")).unwrap());
        let centre = j["centre"]["cost"].as_f64().unwrap();
        let tornado = j["summary"]["tornado"].as_array().unwrap();
        let demand = tornado
            .iter()
            .find(|a| a["axis"] == "demand_scale")
            .unwrap();
        assert_eq!(
            (
                demand["cost_low_value"].as_str(),
                demand["cost_high_value"].as_str()
            ),
            (Some("0.8"), Some("1.2"))
        );
        for a in tornado {
            for (end, value) in [
                ("cost_low", "cost_low_value"),
                ("cost_high", "cost_high_value"),
            ] {
                let v = a[end].as_f64().unwrap();
                if v == centre {
                    continue;
                }
                let label = format!(
                    "{} at {}",
                    capplan::units::human_dollars(v),
                    a[value].as_str().unwrap()
                );
                assert!(texts.contains(&label), "{size}: no '{label}' in {texts:?}");
            }
        }
        crate::common::svg::assert_text_fits(&svg, "sweep_tornado", w, h);
    }
}

#[test]
fn hourly_fans_are_grouped_into_days_with_a_demand_band() {
    // Twenty days of hourly periods (480, more than the 400 drawn as they are), demand 1M
    // tokens/min, solo 1.1M on demand; demand drawn with σ 0.2.
    let t = tempfile::tempdir().unwrap();
    let s_dir = t.path().join("hourly");
    std::fs::create_dir_all(&s_dir).unwrap();
    let mut demand = String::from("period,tokens_per_minute\n");
    for h in 0..480 {
        demand.push_str(&format!(
            "2026-01-{:02}T{:02}:00:00Z,1M\n",
            1 + h / 24,
            h % 24
        ));
    }
    std::fs::write(s_dir.join("demand.csv"), demand).unwrap();
    std::fs::write(
        s_dir.join("capacity.csv"),
        "provider,tranche,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour\nsolo,solo,1.1M,1,0\n",
    )
    .unwrap();
    std::fs::write(
        s_dir.join("scenario.toml"),
        "name = \"hourly\"\nhorizon_end = \"2026-01-21\"\n",
    )
    .unwrap();
    let file = t.path().join("hourly.toml");
    let body = format!(
        "scenario = {:?}\n[risk]\nsamples = 5\nseed = 1\n[[risk.outage]]\nprovider = \"solo\"\nper_year = 30\nmedian_hours = 3\np95_hours = 20\n[risk.demand]\nsigma = 0.2\n",
        s_dir.display().to_string()
    );
    std::fs::write(&file, body).unwrap();
    let out = t.path().join("out");
    ok(&["sweep", s(&file), "--out", s(&out), "-q"], &[]);
    let res = capplan::sweep::write::read_results(&out).unwrap();
    let fan = capplan::sweep::write::fan(&res, 400, 120).unwrap();
    assert_eq!(fan.spans.len(), 20);
    assert_eq!(fan.longest_period_hours, 1.0);
    assert!(fan.spans.iter().all(|(a, b)| b - a == 86_400.0));
    // Day d's median served: the nearest-rank P50 (rank 3 of 5) of the samples' daily means.
    let periods = rows(&out.join("sweep_periods.csv"));
    for d in 0..20 {
        let mut means: Vec<f64> = (0..5)
            .map(|id| {
                let day = periods
                    .iter()
                    .filter(|r| r["id"] == id.to_string())
                    .skip(24 * d)
                    .take(24);
                day.map(|r| num(r, "served_tpm")).sum::<f64>() / 24.0
            })
            .collect();
        means.sort_by(f64::total_cmp);
        assert!(
            close(fan.served[1][d], means[2]),
            "day {d}: {} vs {}",
            fan.served[1][d],
            means[2]
        );
        assert!(fan.demand[0][d] <= fan.demand[1][d] && fan.demand[1][d] <= fan.demand[2][d]);
    }
    assert!(
        fan.demand[2][0] > fan.demand[0][0],
        "the demand band is open"
    );
    let svg = std::fs::read_to_string(out.join("sweep_fan.svg")).unwrap();
    let texts = crate::common::svg::texts(&svg).join(" ");
    assert!(
        texts.contains("hourly periods drawn as daily means"),
        "{texts}"
    );
    assert!(texts.contains("demand, P5 and P95"), "{texts}");
}

/// Edits a records file (a checkpoint or a shard's CSV) as a damaged copy would be.
fn edit_records(path: &Path, edit: &dyn Fn(&mut Vec<Vec<String>>)) {
    let mut r = csv::ReaderBuilder::new()
        .has_headers(false)
        .from_path(path)
        .unwrap();
    let mut rows: Vec<Vec<String>> = r
        .records()
        .map(|row| row.unwrap().iter().map(str::to_string).collect())
        .collect();
    edit(&mut rows);
    let mut w = csv::Writer::from_path(path).unwrap();
    for row in rows {
        w.write_record(row).unwrap();
    }
    w.flush().unwrap();
}

/// The column of `name` in a records file's header row.
fn column(rows: &[Vec<String>], name: &str) -> usize {
    rows[0].iter().position(|h| h == name).unwrap()
}

/// A checkpoint or shard with an id twice, an id out of range, another shard's id, a value no
/// sweep writes (served −50 %, unserved above demand), or a shard's CSV missing: each a located
/// error (file, line, column) that says how to fix it, never a raw OS error nor a wrong count.
#[test]
fn bad_checkpoints_and_shards_are_located_errors() {
    let t = tempfile::tempdir().unwrap();
    let file = sweep_file(t.path(), "risk", RISK);
    let stop = [
        ("CAPPLAN_SWEEP_STOP_AFTER", "2"),
        ("RAYON_NUM_THREADS", "1"),
    ];
    let resume_fails = |edit: &dyn Fn(&mut Vec<Vec<String>>), needles: &[&str]| {
        let out = t.path().join("stopped");
        let _ = std::fs::remove_dir_all(&out);
        let (code, _, err) = capplan(&["sweep", s(&file), "--out", s(&out), "--no-charts"], &stop);
        assert_eq!(code, 130, "{err}");
        let checkpoint = out.join("sweep.partial.csv");
        edit_records(&checkpoint, edit);
        let (code, _, err) = capplan(
            &[
                "sweep",
                s(&file),
                "--out",
                s(&out),
                "--no-charts",
                "--resume",
            ],
            &[],
        );
        assert_eq!(code, 2, "{err}");
        for n in needles {
            assert!(err.contains(n), "{n}: {err}");
        }
        assert!(err.contains(&checkpoint.display().to_string()), "{err}");
        assert!(!out.join("sweep.csv").exists());
    };
    resume_fails(
        &|rows| {
            let again = rows[1].clone();
            rows.push(again);
        },
        &[
            "sweep.partial.csv:4: column 'id': id 0 is listed twice (first on line 2)",
            "delete one of the two rows",
        ],
    );
    resume_fails(
        &|rows| rows[2][0] = "6".into(),
        &["sweep.partial.csv:3: column 'id': id 6 is out of range: this sweep has 6 samples, ids 0 to 5"],
    );
    resume_fails(
        &|rows| {
            let c = column(rows, "served_pct");
            rows[1][c] = "-50".into();
        },
        &["sweep.partial.csv:2: column 'served_pct': expected a percentage from 0 to 100, found -50"],
    );
    resume_fails(
        &|rows| {
            let (u, d) = (column(rows, "unserved_tokens"), column(rows, "demand_tokens"));
            let demand: f64 = rows[2][d].parse().unwrap();
            rows[2][u] = format!("{}", demand * 2.0);
        },
        &["sweep.partial.csv:3: column 'unserved_tokens': expected unserved tokens from 0 to the demand"],
    );

    let dir = t.path().join("shards");
    for i in 0..3 {
        ok(
            &[
                "sweep",
                s(&file),
                "--out",
                s(&dir),
                "--shard",
                &format!("{i}/3"),
                "-q",
            ],
            &[],
        );
    }
    let merge_fails = |target: &str, edit: &dyn Fn(&Path), needles: &[&str]| {
        let copy = t.path().join("copy");
        let _ = std::fs::remove_dir_all(&copy);
        std::fs::create_dir_all(&copy).unwrap();
        for (name, bytes) in files(&dir) {
            std::fs::write(copy.join(name), bytes).unwrap();
        }
        edit(&copy.join(target));
        let (code, _, err) = capplan(&["merge", s(&copy), "--no-charts"], &[]);
        assert_eq!(code, 2, "{err}");
        for n in needles {
            assert!(err.contains(n), "{n}: {err}");
        }
        assert!(!copy.join("sweep.csv").exists());
    };
    merge_fails(
        "shard-1-of-3.csv",
        &|p| std::fs::remove_file(p).unwrap(),
        &[
            "shard-1-of-3.csv: file not found: the records of shard 1 of 3",
            "run the shard again (capplan sweep SWEEP_FILE --shard 1/3)",
        ],
    );
    merge_fails(
        "shard-1-of-3.csv",
        &|p| edit_records(p, &|rows| rows[1][0] = "2".into()),
        &["shard-1-of-3.csv:2: column 'id': id 2 is not one of shard 1 of 3"],
    );
    merge_fails(
        "shard-2-of-3.csv",
        &|p| {
            edit_records(p, &|rows| {
                let again = rows[1].clone();
                rows.insert(2, again);
            })
        },
        &["shard-2-of-3.csv:3: column 'id': id 2 is listed twice (first on line 2)"],
    );
    merge_fails(
        "shard-0-of-3.csv",
        &|p| edit_records(p, &|rows| {
            let c = column(rows, "served_pct");
            rows[2][c] = "-50".into();
        }),
        &["shard-0-of-3.csv:3: column 'served_pct': expected a percentage from 0 to 100, found -50"],
    );
    merge_fails(
        "shard-0-of-3.csv",
        &|p| {
            edit_records(p, &|rows| {
                rows.remove(2);
            })
        },
        &["shard-0-of-3.csv: incomplete shard: ids 3 are missing; run the shard again"],
    );
}

/// Every path under `dir`, relative and sorted (folders and files, hidden ones included).
fn tree(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            out.push(p.strip_prefix(dir).unwrap().display().to_string());
            if p.is_dir() && !p.is_symlink() {
                stack.push(p);
            }
        }
    }
    out.sort();
    out
}

/// An output folder no one can write is found before any work — a shard (by flag or by a batch
/// engine's variable), a whole sweep and a merge alike: exit 4, the folder and the way out named,
/// not even the base plan begun (its progress line, shown at every drawing here, never appears),
/// and nothing made. Tests run as root, which permissions do not stop, so the folder is one
/// that root cannot make either: a path under a regular file (a read-only file system is the
/// Linux test after this one).
#[test]
fn an_unwritable_output_folder_fails_before_any_work_and_leaves_nothing() {
    let t = tempfile::tempdir().unwrap();
    let file = sweep_file(t.path(), "risk", RISK);
    let blocker = t.path().join("not-a-folder");
    std::fs::write(&blocker, "a file").unwrap();
    let out = blocker.join("runs/risk");
    let before = tree(t.path());
    let progress = ("CAPPLAN_PROGRESS_SECONDS", "0");
    type Case<'a> = (&'a [&'a str], Vec<(&'a str, &'a str)>);
    let cases: [Case; 4] = [
        (&["--shard", "1/3"], vec![progress]),
        (
            &["--shard-count", "3"],
            vec![progress, ("SLURM_ARRAY_TASK_ID", "1")],
        ),
        (&[], vec![progress]),
        (&["--samples", "100000", "--shard", "0/2"], vec![progress]),
    ];
    for (flags, env) in cases {
        let mut args = vec!["sweep", s(&file), "--out", s(&out), "--no-charts"];
        args.extend(flags);
        let (code, _, err) = capplan(&args, &env);
        assert_eq!(code, 4, "{flags:?}: {err}");
        assert!(
            err.contains(&format!(
                "error: {}: {}, which holds the output folder, cannot be made or written (",
                s(&out),
                blocker.join("runs").display()
            )),
            "{flags:?}: {err}"
        );
        assert!(
            err.contains("found before any work: choose another --out"),
            "{err}"
        );
        assert!(!err.contains("planning the base"), "{flags:?}: {err}");
        assert_eq!(tree(t.path()), before, "{flags:?}");
    }
    let (code, _, err) = capplan(
        &["merge", s(&t.path().join("sweeps")), "--out", s(&out)],
        &[],
    );
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("cannot be made or written"), "{err}");
    assert_eq!(tree(t.path()), before);
}

/// On a read-only file system (a tmpfs of its own in a mount namespace, `unshare`, Linux): a
/// shard whose folder is read-only while the folder holding it is not (a read-only bind mount of
/// the folder onto itself: the same file system, so not refused as a mount point), and a shard
/// and a whole sweep whose folder would be made on the read-only file system, each fail before
/// any work, exit 4, saying what cannot be written and how to fix it. And a shard that fails at
/// its write (its files do not fit on a 32 KiB tmpfs, the check having passed) leaves nothing:
/// no temporary file, no folder.
#[cfg(target_os = "linux")]
#[test]
fn a_read_only_or_full_file_system_fails_a_shard_and_leaves_nothing() {
    let t = tempfile::tempdir().unwrap();
    let file = sweep_file(t.path(), "risk", RISK);
    let ro = t.path().join("ro");
    let full = t.path().join("full");
    std::fs::create_dir_all(&ro).unwrap();
    std::fs::create_dir_all(&full).unwrap();
    let bin = env!("CARGO_BIN_EXE_capplan");
    let run = |name: &str, args: &str| {
        format!(
            "CAPPLAN_PROGRESS_SECONDS=0 '{bin}' sweep '{f}' --no-charts {args} > /dev/null 2> '{t}/err-{name}.txt'; echo $? > '{t}/code-{name}.txt'",
            f = file.display(),
            t = t.path().display(),
        )
    };
    let script = [
        format!("mount -t tmpfs -o size=1m tmpfs '{}' || exit 97", ro.display()),
        format!("mkdir -p '{r}/runs/held' || exit 97", r = ro.display()),
        format!(
            "mount --bind '{r}/runs/held' '{r}/runs/held' && mount -o remount,bind,ro '{r}/runs/held' || exit 98",
            r = ro.display()
        ),
        run(
            "held",
            &format!("--shard 0/3 --out '{}/runs/held'", ro.display()),
        ),
        format!("mount -o remount,ro '{}' || exit 98", ro.display()),
        run("new", &format!("--shard 0/3 --out '{}/runs/new'", ro.display())),
        run("whole", &format!("--out '{}/runs/whole'", ro.display())),
        format!("find '{}' | sort > '{}/ro-after.txt'", ro.display(), t.path().display()),
        format!("mount -t tmpfs -o size=32k tmpfs '{}' || exit 97", full.display()),
        run(
            "full",
            &format!("--samples 300 --shard 0/3 --out '{}/runs/shard'", full.display()),
        ),
        format!("find '{}' | sort > '{}/full-after.txt'", full.display(), t.path().display()),
    ]
    .join("\n");
    let status = std::process::Command::new("unshare")
        .args(["--mount", "--map-root-user", "sh", "-c", &script])
        .status()
        .expect("unshare (util-linux) runs the test in a mount namespace of its own");
    assert_eq!(
        status.code(),
        Some(0),
        "the mount script failed (97: tmpfs, 98: read-only remount)"
    );
    let read = |n: &str| std::fs::read_to_string(t.path().join(n)).unwrap();
    let failed = |name: &str, needles: &[String]| {
        let err = read(&format!("err-{name}.txt"));
        assert_eq!(
            read(&format!("code-{name}.txt")).trim(),
            "4",
            "{name}: {err}"
        );
        for n in needles {
            assert!(err.contains(n.as_str()), "{name}: {n}: {err}");
        }
        assert!(!err.contains("planning the base"), "{name}: {err}");
        // The OS error alone, not the hidden name of the file the check tried to make.
        assert!(!err.contains("capplan-manifest."), "{name}: {err}");
    };
    let fix = "found before any work: choose another --out, or mount the file system read-write";
    failed(
        "held",
        &[
            format!(
                "error: {}/runs/held: the output folder cannot be written (Read-only file system",
                ro.display()
            ),
            fix.into(),
        ],
    );
    for name in ["new", "whole"] {
        failed(
            name,
            &[
                format!(
                    "error: {r}/runs/{name}: {r}/runs, which holds the output folder, cannot be made or written (Read-only file system",
                    r = ro.display()
                ),
                fix.into(),
            ],
        );
    }
    let r = ro.display();
    assert_eq!(
        read("ro-after.txt"),
        format!("{r}\n{r}/runs\n{r}/runs/held\n"),
        "left on the read-only file system"
    );
    // The full disk: the check passed (the base plan was made), the write failed.
    let err = read("err-full.txt");
    assert_eq!(read("code-full.txt").trim(), "4", "{err}");
    assert!(err.contains("No space left on device"), "{err}");
    assert!(err.contains("planning the base"), "{err}");
    assert!(
        err.contains(&format!("error: {}/runs/shard/", full.display())),
        "{err}"
    );
    assert_eq!(
        read("full-after.txt"),
        format!("{}\n", full.display()),
        "left on the full file system"
    );
}

/// A merge removes an earlier merge's results before it reads a shard, in one swap of the folder,
/// so a merge that refuses (a shard missing) leaves no results that look current: its sweep
/// files and charts are gone, the shards and a user's file stay, nothing is left beside it.
#[test]
fn a_refused_merge_leaves_no_earlier_results() {
    let t = tempfile::tempdir().unwrap();
    let file = sweep_file(t.path(), "risk", RISK);
    let runs = t.path().join("runs");
    let dir = runs.join("shards");
    for i in 0..3 {
        ok(
            &[
                "sweep",
                s(&file),
                "--out",
                s(&dir),
                "--shard",
                &format!("{i}/3"),
                "-q",
            ],
            &[],
        );
    }
    let merged = runs.join("merged");
    for out in [&dir, &merged] {
        ok(
            &["merge", s(&dir), "--out", s(out), "--chart-size", "800x450"],
            &[],
        );
        assert!(out.join("sweep.csv").is_file() && out.join("sweep_fan.png").is_file());
    }
    std::fs::write(dir.join("notes.txt"), "mine").unwrap();
    std::fs::remove_file(dir.join("shard-1-of-3.json")).unwrap();
    let shards_left = [
        ".capplan-manifest",
        "notes.txt",
        "shard-0-of-3.csv",
        "shard-0-of-3.json",
        "shard-1-of-3.csv",
        "shard-2-of-3.csv",
        "shard-2-of-3.json",
    ];
    for (out, left) in [
        (&merged, &[".capplan-manifest"][..]),
        (&dir, &shards_left[..]),
    ] {
        let (code, _, err) = capplan(&["merge", s(&dir), "--out", s(out)], &[]);
        assert_eq!(code, 2, "{err}");
        assert!(err.contains("shard 1 of 3 is missing"), "{err}");
        assert_eq!(
            tree(out),
            left,
            "after a refused merge into {}",
            out.display()
        );
        let beside: Vec<String> = std::fs::read_dir(&runs)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        assert_eq!(beside, ["merged", "shards"]);
    }
    let record = std::fs::read_to_string(dir.join(".capplan-manifest")).unwrap();
    assert!(!record.contains("sweep"), "{record}");
}

/// A stopped shard leaves its checkpoint and capplan's record and nothing else, in the folder or
/// beside it (no temporary file, no lock); resumed, it says so, and its checkpoint goes.
#[test]
fn a_stopped_shard_leaves_only_its_checkpoint_and_resumes_saying_so() {
    let t = tempfile::tempdir().unwrap();
    let file = sweep_file(t.path(), "risk", RISK);
    let runs = t.path().join("runs");
    let out = runs.join("shard");
    let (code, _, err) = capplan(
        &[
            "sweep",
            s(&file),
            "--out",
            s(&out),
            "--shard",
            "1/3",
            "--resume",
        ],
        &[
            ("CAPPLAN_SWEEP_STOP_AFTER", "1"),
            ("RAYON_NUM_THREADS", "1"),
        ],
    );
    assert_eq!(code, 130, "{err}");
    assert!(
        err.contains("note: no checkpoint") && err.contains("starting from the first point"),
        "{err}"
    );
    assert_eq!(
        tree(&runs),
        [
            "shard",
            "shard/.capplan-manifest",
            "shard/shard-1-of-3.partial.csv"
        ]
    );
    let (code, _, err) = capplan(
        &[
            "sweep",
            s(&file),
            "--out",
            s(&out),
            "--shard",
            "1/3",
            "--resume",
        ],
        &[],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "note: resuming from {}: 1 of 2 samples already finished",
            out.join("shard-1-of-3.partial.csv").display()
        )),
        "{err}"
    );
    assert_eq!(
        tree(&runs),
        [
            "shard",
            "shard/.capplan-manifest",
            "shard/shard-1-of-3.csv",
            "shard/shard-1-of-3.json"
        ]
    );
}
