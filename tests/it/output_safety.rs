//! Output folders under hostile conditions (issue 19): a run killed at any moment leaves the old
//! folder or the new one, never a mix; a folder another capplan holds is refused; only files
//! capplan wrote are ever replaced or removed; inputs, `/` and the working folder are never
//! written; a full disk leaves nothing behind; formula-like names are neutralised in every CSV
//! and Markdown file and read back as they were.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::common::{command, output};

/// Every file under `dir` (relative path → bytes), `.capplan-manifest` included; the one number
/// that differs between identical runs, `solve_seconds` in `summary.json`, left out.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().to_path_buf();
                let mut bytes = std::fs::read(&p).unwrap();
                if rel == Path::new("summary.json") {
                    let text = String::from_utf8(bytes).unwrap();
                    bytes = text
                        .lines()
                        .filter(|l| !l.contains("\"solve_seconds\""))
                        .collect::<Vec<_>>()
                        .join("\n")
                        .into_bytes();
                }
                out.insert(rel, bytes);
            }
        }
    }
    out
}

/// Names in `dir`, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut n: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    n.sort();
    n
}

fn run(args: &[&str]) -> (i32, String, String) {
    output(command().args(args).env("RUST_BACKTRACE", "0"))
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A small scenario (two regions, a week of hours: a few hundred kilobytes of tables to write)
/// in `dir`.
fn scenario(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    let mut demand = String::from("period,region,tokens_per_minute\n");
    for h in 0..168 {
        let t = format!("2026-03-{:02}T{:02}:00:00Z", 1 + h / 24, h % 24);
        demand.push_str(&format!(
            "{t},us,{}\n{t},eu,{}\n",
            800 + (h % 24) * 40,
            500 + (h % 12) * 30
        ));
    }
    std::fs::write(dir.join("demand.csv"), demand).unwrap();
    std::fs::write(
        dir.join("capacity.csv"),
        "provider,region,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour,min_commit\naws,us,2000,0.5,1.0,1\ngcp,eu,1500,0.6,0.8,1\nazure,us,1200,0.4,0,0\n",
    )
    .unwrap();
}

/// SIGKILL at moments spread over a whole run, 50 times, alternating two different results into
/// one folder: after every kill the folder is exactly the previous complete result or the new
/// complete one, never a mix, never missing; the next run removes what a killed one left.
#[test]
fn a_run_killed_at_any_moment_leaves_the_old_folder_or_the_new_one() {
    let root = tempfile::tempdir().unwrap();
    let s = root.path().join("s");
    scenario(&s);
    let args = |out: &Path, variant: usize| -> Vec<String> {
        let mut a = vec![
            "run".to_string(),
            path(&s).to_string(),
            "--out".to_string(),
            path(out).to_string(),
            "--no-charts".to_string(),
            "--quiet".to_string(),
        ];
        if variant == 1 {
            a.extend(["--demand-scale".to_string(), "1.25".to_string()]);
        }
        a
    };
    // The two complete results, each written once into its own folder.
    let mut results = Vec::new();
    let mut took = Duration::ZERO;
    for variant in 0..2 {
        let dir = root.path().join(format!("ref{variant}"));
        let t = Instant::now();
        let status = command()
            .args(args(&dir, variant))
            .stdout(Stdio::null())
            .status()
            .unwrap();
        took = took.max(t.elapsed());
        assert!(status.success());
        results.push(snapshot(&dir));
    }
    assert_ne!(results[0], results[1], "the two variants must differ");
    let parent = root.path().join("p");
    let out = parent.join("out");
    assert!(command()
        .args(args(&out, 0))
        .stdout(Stdio::null())
        .status()
        .unwrap()
        .success());
    let mut state = 0;
    let (mut old_kept, mut new_found) = (0, 0);
    const KILLS: u32 = 50;
    for i in 0..KILLS {
        let next = 1 - state;
        // Moments spread over 0..2 of a whole run as timed above, in an order that mixes early
        // and late: twice the run, so that kills still span whole runs when the machine is
        // busier than while it was timed (with 1.3, a loaded machine saw no run finish).
        let k = (i * 37) % KILLS;
        let delay = took.mul_f64(2.0 * f64::from(k) / f64::from(KILLS));
        let mut child = command()
            .args(args(&out, next))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(delay);
        let _ = child.kill(); // SIGKILL
        child.wait().unwrap();
        assert!(
            out.is_dir(),
            "kill {i} after {delay:?}: the output folder is missing"
        );
        let now = snapshot(&out);
        if now == results[state] {
            old_kept += 1;
        } else if now == results[next] {
            new_found += 1;
            state = next;
        } else {
            let differing: Vec<&PathBuf> = now
                .keys()
                .filter(|k| now.get(*k) != results[state].get(*k))
                .collect();
            panic!(
                "kill {i} after {delay:?}: the folder mixes two runs (differs from the old one in {differing:?})"
            );
        }
        // Beside the folder: only what a killed run left (the lock, a half-built folder).
        for n in names(&parent) {
            assert!(
                n == "out" || n.starts_with(".out.capplan-"),
                "kill {i}: {n} beside the output folder"
            );
        }
    }
    // Both kinds happened: the kills spanned whole runs.
    assert!(
        old_kept > 0 && new_found > 0,
        "old {old_kept}, new {new_found}"
    );
    // A run to the end cleans what the killed ones left.
    let (code, _, err) = run(&args(&out, 0).iter().map(String::as_str).collect::<Vec<_>>());
    assert_eq!(code, 0, "{err}");
    assert_eq!(snapshot(&out), results[0]);
    assert_eq!(names(&parent), ["out"]);
}

/// A folder another capplan holds is refused at once, naming the folder and the holder; when it
/// is let go, the run goes through and leaves no lock behind.
#[test]
fn a_second_command_into_a_held_folder_fails_naming_it_and_the_holder() {
    let root = tempfile::tempdir().unwrap();
    let s = root.path().join("s");
    scenario(&s);
    let out = root.path().join("out");
    let held = capplan::output::resolve(
        Some(&out),
        PathBuf::new(),
        &[],
        capplan::output::Claim::default(),
    )
    .unwrap();
    let (code, _, err) = run(&["run", path(&s), "--out", path(&out), "--no-charts"]);
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains(&format!(
            "error: {}: another capplan (process {})",
            out.display(),
            std::process::id()
        )),
        "{err}"
    );
    assert!(
        err.contains("wait for it to finish, or choose another --out"),
        "{err}"
    );
    assert!(!out.exists());
    drop(held);
    let (code, _, err) = run(&["run", path(&s), "--out", path(&out), "--no-charts"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(names(root.path()), ["out", "s"]);
}

/// Files of a user's in an output folder are never removed nor replaced, even of the names capplan
/// writes (`plan.xlsx`, `regions.png`); capplan's own stale files are removed.
#[test]
fn only_files_capplan_wrote_are_removed_and_a_users_are_refused_not_replaced() {
    let root = tempfile::tempdir().unwrap();
    let s = root.path().join("s");
    scenario(&s);
    let out = root.path().join("out");
    let run_out = |extra: &[&str]| {
        let mut a = vec!["run", path(&s), "--out", path(&out), "--quiet"];
        a.extend_from_slice(extra);
        run(&a)
    };
    // capplan's own plan.xlsx and charts, gone when a later run does not write them.
    assert_eq!(run_out(&["--xlsx"]).0, 0);
    assert!(out.join("plan.xlsx").is_file() && out.join("regions.png").is_file());
    std::fs::write(out.join("my-notes.md"), "mine").unwrap();
    assert_eq!(run_out(&["--no-charts"]).0, 0);
    assert!(!out.join("plan.xlsx").exists() && !out.join("regions.png").exists());
    assert_eq!(
        std::fs::read_to_string(out.join("my-notes.md")).unwrap(),
        "mine"
    );
    // A user's own files of those names: kept by a run that does not write them…
    std::fs::write(out.join("plan.xlsx"), "my workbook").unwrap();
    std::fs::write(out.join("regions.png"), "my picture").unwrap();
    assert_eq!(run_out(&["--no-charts"]).0, 0);
    assert_eq!(
        std::fs::read_to_string(out.join("plan.xlsx")).unwrap(),
        "my workbook"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("regions.png")).unwrap(),
        "my picture"
    );
    // …and refused, not replaced, by one that does: the message names them and the way out.
    let before = snapshot(&out);
    let (code, _, err) = run_out(&["--xlsx"]);
    assert_eq!(code, 2, "{err}");
    for part in [
        &format!(
            "output folder {} holds plan.xlsx, regions.png",
            out.display()
        ),
        "which capplan did not write",
        "move them away, choose another --out, or pass --force to replace them",
    ] {
        assert!(err.contains(part), "{part}: {err}");
    }
    assert_eq!(snapshot(&out), before);
    // --force replaces them.
    assert_eq!(run_out(&["--xlsx", "--force"]).0, 0);
    assert_ne!(
        std::fs::read(out.join("plan.xlsx")).unwrap(),
        b"my workbook"
    );
    assert_eq!(
        std::fs::read_to_string(out.join("my-notes.md")).unwrap(),
        "mine"
    );
}

/// `--out /`, a folder that is, holds or lies in an input folder (the scenario's, a folder it
/// extends, the sweep file's) and the working folder are refused with a message saying how to fix
/// it, and nothing is written.
#[test]
fn inputs_the_root_and_the_working_folder_are_never_an_output_folder() {
    let root = tempfile::tempdir().unwrap();
    let base = root.path().join("tree/base");
    scenario(&base);
    let child = root.path().join("tree/child");
    std::fs::create_dir_all(&child).unwrap();
    std::fs::write(child.join("scenario.toml"), "extends = \"../base\"\n").unwrap();
    let work = root.path().join("work");
    std::fs::create_dir_all(work.join("deeper")).unwrap();
    let before = snapshot(root.path());
    let refused = |args: &[&str], cwd: &Path, needles: &[&str]| {
        let (code, _, err) = output(command().args(args).current_dir(cwd));
        assert_eq!(code, 2, "{args:?}: {err}");
        for n in needles {
            assert!(err.contains(n), "{args:?}: {n}: {err}");
        }
        assert_eq!(snapshot(root.path()), before, "{args:?} wrote");
    };
    let c = path(&child);
    refused(
        &["run", c, "--out", "/", "--no-charts"],
        root.path(),
        &[
            "output folder /: the root of a file system cannot be an output folder",
            "--out /tmp/capplan-run",
        ],
    );
    // Into the parent it extends (the issue's `run aws-delay --out frontier-2026`).
    refused(
        &["run", c, "--out", path(&base), "--no-charts"],
        root.path(),
        &[
            &format!(
                "is inside the scenario folder {} (which {c} extends)",
                base.display()
            ),
            "choose another --out",
        ],
    );
    refused(
        &["run", c, "--out", path(&base.join("out")), "--no-charts"],
        root.path(),
        &["is inside the scenario folder"],
    );
    refused(
        &[
            "run",
            c,
            "--out",
            path(&root.path().join("tree")),
            "--no-charts",
        ],
        root.path(),
        &[&format!("holds the scenario folder {c}")],
    );
    for (out, cwd) in [(".", &work), ("..", &work.join("deeper"))] {
        refused(
            &["run", c, "--out", out, "--no-charts"],
            cwd,
            &[
                &format!("output folder {out} is the working folder or holds it"),
                "run capplan from outside it",
            ],
        );
    }
    // A sweep into the folder of its sweep file.
    let sweeps = root.path().join("sweeps");
    std::fs::create_dir_all(&sweeps).unwrap();
    std::fs::write(
        sweeps.join("s.toml"),
        "name = \"s\"\nscenario = \"../tree/child\"\n\n[grid]\ndemand_scale = [1.0, 1.1]\n",
    )
    .unwrap();
    let before_sweep = snapshot(root.path());
    let (code, _, err) = output(command().args([
        "sweep",
        path(&sweeps.join("s.toml")),
        "--out",
        path(&sweeps),
        "--no-charts",
    ]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is inside the sweep file's folder"), "{err}");
    assert_eq!(snapshot(root.path()), before_sweep);
}

/// A full disk: the message names the output folder's file (not a hidden temporary one), no new
/// folder is left, and an existing folder is left as it was; and a mount point, which cannot be
/// swapped, is refused. Run in a mount namespace of its own on a 200 KiB tmpfs (`unshare`, Linux).
#[cfg(target_os = "linux")]
#[test]
fn a_full_disk_leaves_no_folder_and_names_the_output_folder() {
    let root = tempfile::tempdir().unwrap();
    let s = root.path().join("s");
    scenario(&s);
    let disk = root.path().join("disk");
    std::fs::create_dir(&disk).unwrap();
    let bin = env!("CARGO_BIN_EXE_capplan");
    // First a small result that fits (no charts, as JSON summary only matters), then the full
    // one with charts that does not; then a run into a new folder that does not fit either.
    let script = format!(
        "mount -t tmpfs -o size=200k tmpfs '{d}' || exit 97
         '{bin}' run '{s}' --out '{d}' --no-charts --quiet > /dev/null 2> '{d}/../err-mount.txt'; echo $? > '{d}/../code-mount.txt'
         '{bin}' run '{s}' --out '{d}/old' --no-charts --quiet > /dev/null || exit 98
         find '{d}' | sort > '{d}/../before.txt'
         md5sum '{d}'/old/* '{d}'/old/.capplan-manifest > '{d}/../old.md5'
         '{bin}' run '{s}' --out '{d}/old' --demand-scale 1.25 --quiet --chart-size 3000x2000 > /dev/null 2> '{d}/../err-old.txt'; echo $? > '{d}/../code-old.txt'
         md5sum '{d}'/old/* '{d}'/old/.capplan-manifest > '{d}/../old-after.md5'
         rm -rf '{d}/old'
         dd if=/dev/zero of='{d}/filler' bs=1k count=150 2> /dev/null
         '{bin}' run '{s}' --out '{d}/a/b/new' --quiet > /dev/null 2> '{d}/../err-new.txt'; echo $? > '{d}/../code-new.txt'
         rm '{d}/filler'
         find '{d}' | sort > '{d}/../after.txt'",
        d = disk.display(),
        s = s.display(),
    );
    let status = std::process::Command::new("unshare")
        .args(["--mount", "--map-root-user", "sh", "-c", &script])
        .status()
        .expect("unshare (util-linux) runs the test in a mount namespace of its own");
    assert_eq!(
        status.code(),
        Some(0),
        "the tmpfs script failed (97: mount, 98: the small run)"
    );
    let read = |n: &str| std::fs::read_to_string(root.path().join(n)).unwrap();
    // A mount point cannot be swapped: refused, with a folder inside it to use instead.
    assert_eq!(
        read("code-mount.txt").trim(),
        "2",
        "{}",
        read("err-mount.txt")
    );
    assert!(
        read("err-mount.txt").contains(&format!(
            "output folder {} is a mount point, which capplan cannot replace as a whole",
            disk.display()
        )),
        "{}",
        read("err-mount.txt")
    );
    // Into an existing folder: refused with the folder's file named, the folder unchanged.
    assert_eq!(read("code-old.txt").trim(), "4", "{}", read("err-old.txt"));
    let err = read("err-old.txt");
    assert!(
        err.contains(&format!("error: {}/old/", disk.display())),
        "{err}"
    );
    assert!(err.contains("No space left on device"), "{err}");
    assert!(!err.contains("capplan-new"), "{err}");
    assert_eq!(read("old.md5"), read("old-after.md5"));
    // Into a new folder: no folder (nor its parents) left, the message names it.
    assert_eq!(read("code-new.txt").trim(), "4", "{}", read("err-new.txt"));
    let err = read("err-new.txt");
    assert!(
        err.contains(&format!("error: {}/a/b/new", disk.display())),
        "{err}"
    );
    assert!(!err.contains("capplan-"), "{err}");
    let after = read("after.txt");
    assert_eq!(
        after.trim(),
        disk.display().to_string(),
        "left on the disk: {after}"
    );
}

/// Names a spreadsheet would run as formulas are written behind a `'` in every CSV and Markdown
/// file, Markdown never carries raw HTML, numbers are untouched, and capplan reads its files back
/// with the names as they were (a held plan, `capplan chart`).
#[test]
fn formula_names_are_neutralised_and_read_back_as_they_were() {
    let root = tempfile::tempdir().unwrap();
    let s = root.path().join("s");
    std::fs::create_dir_all(&s).unwrap();
    std::fs::write(
        s.join("demand.csv"),
        "period,region,tokens_per_minute\n2026-01-01,us,900\n2026-02-01,us,1500\n2026-01-01,@eu,300\n2026-02-01,@eu,300\n",
    )
    .unwrap();
    std::fs::write(
        s.join("capacity.csv"),
        "provider,region,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour,min_commit\n\"=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\",us,1000,0.1,0.5,1\n\"+cmd|' /C calc'!A0\",global,1000,0.2,0.6,1\n-aws,@eu,400,0.1,0.2,1\n<script>x</script>,us,300,0.5,0,0\n",
    )
    .unwrap();
    let out = root.path().join("out");
    let (code, _, err) = run(&["run", path(&s), "--out", path(&out), "--quiet", "--xlsx"]);
    assert_eq!(code, 0, "{err}");
    let mut csvs = 0;
    for (name, bytes) in snapshot(&out) {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        if name.extension().is_some_and(|e| e == "csv") {
            csvs += 1;
            let mut r = csv::ReaderBuilder::new()
                .has_headers(false)
                .from_reader(bytes.as_slice());
            for rec in r.records() {
                for cell in rec.unwrap().iter() {
                    let first = cell.chars().next();
                    let number = cell.parse::<f64>().is_ok();
                    assert!(
                        !matches!(first, Some('=' | '+' | '@' | '\t' | '\r'))
                            && (first != Some('-') || number),
                        "{}: cell {cell:?} would run as a formula",
                        name.display()
                    );
                }
            }
            assert!(!text.contains(",=HYPERLINK"), "{}", name.display());
        }
    }
    assert!(csvs >= 5);
    let commitments = std::fs::read_to_string(out.join("commitments.csv")).unwrap();
    assert!(
        commitments.contains("\"'=HYPERLINK(\"\"http://x\"\",\"\"y\"\")\""),
        "{commitments}"
    );
    assert!(commitments.contains("'-aws"), "{commitments}");
    // Read back as they were: the plan held under its own scenario, and the charts redrawn.
    let held = root.path().join("held");
    let (code, stdout, err) = run(&[
        "run",
        path(&s),
        "--reservations-from",
        path(&out),
        "--out",
        path(&held),
        "--no-charts",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(!stdout.contains("'=HYPERLINK"), "{stdout}");
    assert_eq!(
        std::fs::read(held.join("commitments.csv")).unwrap(),
        commitments.as_bytes()
    );
    let (code, _, err) = run(&["chart", path(&out)]);
    assert_eq!(code, 0, "{err}");
    let svg = std::fs::read_to_string(out.join("cost_by_provider.svg")).unwrap();
    assert!(
        svg.contains("-aws") && !svg.contains("'-aws"),
        "a chart shows the names as they are"
    );
    // Markdown: no raw HTML, no formula.
    let cmp = root.path().join("cmp");
    let (code, _, err) = run(&[
        "compare",
        path(&s),
        "--twin",
        "--demand-scale 1.1",
        "--out",
        path(&cmp),
        "--no-charts",
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    let res = root.path().join("res");
    let (code, _, err) = run(&[
        "resilience",
        path(&s),
        "--out",
        path(&res),
        "--no-charts",
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    for md in [cmp.join("compare.md"), res.join("resilience.md")] {
        let text = std::fs::read_to_string(&md).unwrap();
        assert!(!text.contains("<script>"), "{}:\n{text}", md.display());
        for line in text.lines().filter(|l| l.starts_with('|')) {
            for cell in line.split(" | ") {
                let cell = cell.trim_start_matches("| ");
                assert!(
                    !cell.starts_with(['=', '+', '@']),
                    "{}: cell {cell:?}",
                    md.display()
                );
            }
        }
    }
}
