//! The command line itself: help with examples for every subcommand, shell completions, and usage
//! errors with the right exit code.

use clap::CommandFactory;

use crate::common::{capplan, command};

/// Every subcommand of the parser's definition, so a new one is covered without editing this.
fn subcommands() -> Vec<String> {
    let names: Vec<String> = capplan::cli::Cli::command()
        .get_subcommands()
        .map(|c| c.get_name().to_string())
        .collect();
    assert!(names.len() >= 8, "subcommands: {names:?}");
    names
}

#[test]
fn every_subcommand_has_help_with_examples() {
    let subcommands = subcommands();
    for sub in &subcommands {
        let (code, stdout, _) = capplan(&[sub, "--help"]);
        assert_eq!(code, 0, "{sub}");
        assert!(
            stdout.contains("Examples:") && stdout.contains(&format!("capplan {sub}")),
            "{sub}: {stdout}"
        );
    }
    let (code, stdout, _) = capplan(&["--help"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("Quick start:"));
    for sub in &subcommands {
        assert!(stdout.contains(&format!("\n  {sub} ")), "{sub}: {stdout}");
    }
}

#[test]
fn completions_for_common_shells() {
    for shell in ["bash", "zsh", "fish"] {
        let (code, stdout, _) = capplan(&["completions", shell]);
        assert_eq!(code, 0, "{shell}");
        assert!(
            stdout.contains("capplan") && stdout.contains("validate"),
            "{shell}"
        );
    }
}

#[test]
fn unknown_or_missing_solver_is_a_usage_error() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let (code, _, stderr) = capplan(&[
        "run",
        "scenarios/quickstart",
        "--out",
        out.to_str().unwrap(),
        "--solver",
        "gurobi",
    ]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("unknown solver 'gurobi'") && stderr.contains("clarabel"),
        "{stderr}"
    );
    assert!(!out.exists(), "nothing written on a usage error");
}

#[test]
fn bad_chart_size_is_rejected_by_the_parser() {
    let (code, _, stderr) = capplan(&["run", "scenarios/quickstart", "--chart-size", "big"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("WIDTHxHEIGHT"), "{stderr}");
    // A side below what the charts can lay out is refused by the parser too, before any solve
    // (it used to solve, then fail writing the charts with exit 4).
    let (code, _, stderr) = capplan(&["run", "scenarios/quickstart", "--chart-size", "400x225"]);
    assert_eq!(code, 2, "{stderr}");
    assert!(
        stderr.contains("expected WIDTHxHEIGHT with each side 320 to 8192 pixels (e.g. 800x450 for a small slide), found '400x225'"),
        "{stderr}"
    );
}

#[test]
fn timings_report_stages_and_lp_size() {
    // The monolithic method builds the LP (and polishes its plan by the decomposition).
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let (code, _, stderr) = capplan(&[
        "run",
        "scenarios/quickstart",
        "--out",
        out.to_str().unwrap(),
        "--no-charts",
        "--timings",
        "--method",
        "monolithic",
    ]);
    assert_eq!(code, 0, "{stderr}");
    for word in [
        "load",
        "build",
        "solve",
        "write",
        "variables",
        "constraints",
        "nonzeros",
    ] {
        assert!(stderr.contains(word), "{word}: {stderr}");
    }
}

#[test]
fn a_closed_stdout_ends_quietly_with_exit_0() {
    // The read end is closed before capplan starts, so its first write fails with EPIPE
    // (`capplan completions fish | head -1` once head has exited).
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let runs: [&[&str]; 4] = [
        &["completions", "fish"],
        &["validate", "scenarios/quickstart"],
        &["validate", "scenarios/quickstart", "--format", "json"],
        &[
            "run",
            "scenarios/quickstart",
            "--no-charts",
            "--out",
            out.to_str().unwrap(),
        ],
    ];
    for args in runs {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let output = command()
            .args(args)
            .env("RUST_BACKTRACE", "0")
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(0), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}

/// Issue 18, item 9: `--solver` is never silently ignored: with `auto` it means the monolithic
/// LP by that backend; with the decomposition (which uses no LP backend) it is an error.
#[test]
fn a_solver_is_never_silently_ignored() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("o");
    let (code, _, stderr) = capplan(&[
        "run",
        "scenarios/quickstart",
        "--out",
        out.to_str().unwrap(),
        "--no-charts",
        "--quiet",
        "--timings",
        "--solver",
        "microlp",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stderr.contains("(microlp)") && stderr.contains("LP size"),
        "{stderr}"
    );
    let (code, _, stderr) = capplan(&[
        "run",
        "scenarios/quickstart",
        "--out",
        out.to_str().unwrap(),
        "--method",
        "decomposed",
        "--solver",
        "clarabel",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "error: --solver clarabel names the backend of the monolithic LP, and --method decomposed uses none (its subproblems are networks); drop --solver, or use --method monolithic"
    );
}
