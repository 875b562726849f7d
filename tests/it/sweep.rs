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
    let mut child = command()
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
