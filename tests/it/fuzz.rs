//! Fuzzing on stable (issue 19, item 7): proptest feeds mutated and arbitrary bytes to every
//! reader of outside input — scenario folders (CSV and TOML), the what-if flag grammar, sweep
//! files and the output folders read back (`--reservations-from`, `chart`) — and asserts each
//! either reads it or returns an error with a location, never panics or hangs. The corpus is the
//! bundled `scenarios/`: each case takes one of its files and applies a few byte mutations.
//!
//! CI runs a short bounded run (the default case counts below); a longer one is
//! `PROPTEST_CASES=20000 cargo test --release --test it fuzz::`. Failing inputs are kept by
//! proptest in `tests/proptest-regressions/fuzz.txt` and replayed first on every later run, so
//! every crash found becomes a regression test. Why proptest and not cargo-fuzz: it runs on the
//! stable toolchain inside `cargo test`, in CI, with no extra tool to install.

use std::path::{Path, PathBuf};

use proptest::prelude::*;

use capplan::load::whatif_syntax::{read_flag, Kind};

/// One byte-level edit of a corpus file, at a position given as a fraction of its length.
#[derive(Debug, Clone)]
enum Edit {
    Flip(f64, u8),
    Insert(f64, Vec<u8>),
    Delete(f64, usize),
    Truncate(f64),
    /// A token a human or a spreadsheet might write, where it can confuse a reader.
    Token(f64, &'static str),
}

const TOKENS: [&str; 16] = [
    ",",
    "\n",
    "\"",
    ";",
    "\r\n",
    "1e308",
    "-1",
    "NaN",
    "inf",
    "=",
    "[",
    "]]",
    "#",
    "\u{feff}",
    "0",
    "99999999999999999999999",
];

fn edit() -> impl Strategy<Value = Edit> {
    let at = 0.0..1.0f64;
    prop_oneof![
        (at.clone(), any::<u8>()).prop_map(|(p, b)| Edit::Flip(p, b)),
        (at.clone(), proptest::collection::vec(any::<u8>(), 1..8))
            .prop_map(|(p, b)| Edit::Insert(p, b)),
        (at.clone(), 1..16usize).prop_map(|(p, n)| Edit::Delete(p, n)),
        at.clone().prop_map(Edit::Truncate),
        (at, proptest::sample::select(&TOKENS[..])).prop_map(|(p, t)| Edit::Token(p, t)),
    ]
}

fn apply(bytes: &mut Vec<u8>, e: &Edit) {
    let pos = |p: f64, len: usize| ((p * len as f64) as usize).min(len);
    match e {
        Edit::Flip(p, b) if !bytes.is_empty() => {
            let i = pos(*p, bytes.len() - 1);
            bytes[i] ^= b;
        }
        Edit::Flip(..) => {}
        Edit::Insert(p, b) => {
            let i = pos(*p, bytes.len());
            bytes.splice(i..i, b.iter().copied());
        }
        Edit::Delete(p, n) => {
            let i = pos(*p, bytes.len());
            let end = (i + n).min(bytes.len());
            bytes.drain(i..end);
        }
        Edit::Truncate(p) => {
            let i = pos(*p, bytes.len());
            bytes.truncate(i);
        }
        Edit::Token(p, t) => {
            let i = pos(*p, bytes.len());
            bytes.splice(i..i, t.bytes());
        }
    }
}

/// Every file of the bundled scenario folders (the corpus), with its folder.
fn corpus() -> Vec<(PathBuf, PathBuf)> {
    let mut files = Vec::new();
    for folder in std::fs::read_dir("scenarios").unwrap() {
        let folder = folder.unwrap().path();
        if !folder.is_dir() || folder.ends_with("sweeps") {
            continue;
        }
        for f in std::fs::read_dir(&folder).unwrap() {
            let f = f.unwrap().path();
            if f.is_file() {
                files.push((folder.clone(), f));
            }
        }
    }
    files.sort();
    files
}

/// A copy of `folder` (and the folders it extends, which are its siblings) under `dir`.
fn copy_scenarios(dir: &Path) {
    for folder in std::fs::read_dir("scenarios").unwrap() {
        let folder = folder.unwrap().path();
        if !folder.is_dir() {
            continue;
        }
        let target = dir.join(folder.file_name().unwrap());
        std::fs::create_dir_all(&target).unwrap();
        for f in std::fs::read_dir(&folder).unwrap() {
            let f = f.unwrap().path();
            if f.is_file() {
                std::fs::copy(&f, target.join(f.file_name().unwrap())).unwrap();
            }
        }
    }
}

/// An error must say where: a file (and mostly a line) or a flag.
fn located(e: &capplan::Error) -> bool {
    let text = e.to_string();
    text.starts_with("error: ") && text.len() > 7
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 96,
        failure_persistence: Some(Box::new(
            proptest::test_runner::FileFailurePersistence::Direct("tests/proptest-regressions/fuzz.txt"),
        )),
        ..ProptestConfig::default()
    })]

    /// A bundled scenario with one file mutated loads or fails with a located error.
    #[test]
    fn mutated_scenario_folders_load_or_fail_with_a_location(
        pick in any::<proptest::sample::Index>(),
        edits in proptest::collection::vec(edit(), 1..6),
    ) {
        let files = corpus();
        let (folder, file) = &files[pick.index(files.len())];
        let dir = tempfile::tempdir().unwrap();
        copy_scenarios(dir.path());
        let copy = dir.path().join(folder.file_name().unwrap());
        let target = copy.join(file.file_name().unwrap());
        let mut bytes = std::fs::read(file).unwrap();
        for e in &edits {
            apply(&mut bytes, e);
        }
        std::fs::write(&target, &bytes).unwrap();
        match capplan::load::load(&copy) {
            Ok(loaded) => {
                // A scenario that loads has facts (no panic in the derived numbers either).
                let _ = capplan::facts::Facts::of(&loaded.scenario);
            }
            Err(e) => prop_assert!(located(&e), "{e}"),
        }
    }

    /// Arbitrary text in every what-if flag is a value or a message, never a panic.
    #[test]
    fn flag_grammar_reads_any_text(text in ".{0,64}", bytes in proptest::collection::vec(any::<u8>(), 0..48)) {
        let raw = String::from_utf8_lossy(&bytes).into_owned();
        for kind in Kind::ALL {
            for v in [text.as_str(), raw.as_str()] {
                if let Err(m) = read_flag(kind, v) {
                    prop_assert!(!m.is_empty());
                }
            }
        }
    }

    /// A bundled sweep file, mutated, parses or fails with a located error.
    #[test]
    fn mutated_sweep_files_parse_or_fail_with_a_location(
        pick in 0..3usize,
        edits in proptest::collection::vec(edit(), 1..6),
    ) {
        let names = ["frontier-risk.toml", "frontier-sensitivity.toml", "frontier-hourly-risk.toml"];
        let path = Path::new("scenarios/sweeps").join(names[pick]);
        let mut bytes = std::fs::read(&path).unwrap();
        for e in &edits {
            apply(&mut bytes, e);
        }
        let text = String::from_utf8_lossy(&bytes);
        if let Err(e) = capplan::sweep::spec::parse(&path, &text) {
            prop_assert!(located(&e), "{e}");
        }
    }

    /// A run's commitments.csv, mutated, reads back as a signed plan or fails with a location.
    #[test]
    fn mutated_signed_plans_read_or_fail_with_a_location(
        edits in proptest::collection::vec(edit(), 1..6),
    ) {
        let bytes = signed_plan_bytes();
        let mut bytes = bytes.clone();
        for e in &edits {
            apply(&mut bytes, e);
        }
        let path = Path::new("commitments.csv");
        if let Err(e) = capplan::load::signed::parse_signed_plan(path, &bytes, "q".into()) {
            prop_assert!(located(&e), "{e}");
        }
    }
}

/// The commitments.csv of the quickstart run, made once for every case.
fn signed_plan_bytes() -> &'static Vec<u8> {
    static BYTES: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    BYTES.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("q");
        let (code, _, stderr) = crate::common::capplan(&[
            "run",
            "scenarios/quickstart",
            "--out",
            out.to_str().unwrap(),
            "--no-charts",
            "--quiet",
        ]);
        assert_eq!(code, 0, "{stderr}");
        std::fs::read(out.join("commitments.csv")).unwrap()
    })
}

/// `capplan chart` over a run folder whose region_periods.csv is mutated returns (charts or a
/// located error, exit 2 or 4), within the common watchdog; a few fixed cases, since each runs
/// the binary.
#[test]
fn chart_reads_back_mutated_tables() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("q");
    let (code, _, stderr) = crate::common::capplan(&[
        "run",
        "scenarios/quickstart",
        "--out",
        out.to_str().unwrap(),
        "--no-charts",
        "--quiet",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let path = out.join("region_periods.csv");
    let original = std::fs::read(&path).unwrap();
    let cases: [&[Edit]; 6] = [
        &[Edit::Truncate(0.5)],
        &[Edit::Token(0.6, "1e308")],
        &[Edit::Token(0.7, "-1")],
        &[Edit::Token(0.8, "NaN")],
        &[Edit::Delete(0.2, 9)],
        &[Edit::Insert(0.4, vec![0xff, 0xfe, b'\n'])],
    ];
    for edits in cases {
        let mut bytes = original.clone();
        for e in edits {
            apply(&mut bytes, e);
        }
        std::fs::write(&path, &bytes).unwrap();
        let (code, _, stderr) = crate::common::capplan(&["chart", out.to_str().unwrap()]);
        assert!(
            code == 0 || (code == 2 && stderr.starts_with("error: ")),
            "{edits:?}: exit {code}: {stderr}"
        );
    }
}

/// Found by the fuzzer: a multi-byte character just before a TOML syntax error made the
/// native-time check slice inside the character (a panic). Now a located error.
#[test]
fn a_multibyte_character_before_a_toml_error_is_a_located_error() {
    let dir = tempfile::tempdir().unwrap();
    copy_scenarios(dir.path());
    let folder = dir.path().join("demand-surge");
    let path = folder.join("scenario.toml");
    let mut bytes = std::fs::read(&path).unwrap();
    apply(
        &mut bytes,
        &Edit::Insert(0.04705741749161664, vec![194, 128, 11]),
    );
    std::fs::write(&path, &bytes).unwrap();
    let e = capplan::load::load(&folder).expect_err("a syntax error");
    assert!(e.to_string().contains("scenario.toml:"), "{e}");
}
