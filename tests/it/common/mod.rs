//! Shared helpers for integration tests: scenario folders written into temp dirs.
#![allow(dead_code)]

pub mod svg;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A scenario folder in a temporary directory.
pub struct Folder {
    pub dir: tempfile::TempDir,
}

impl Folder {
    pub fn new() -> Folder {
        Folder {
            dir: tempfile::tempdir().expect("temp dir"),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Writes `name` (may contain a sub-folder) with `text`; returns self for chaining.
    pub fn file(self, name: &str, text: &str) -> Folder {
        let p = self.dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
        self
    }

    pub fn sub(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

/// The capplan binary, for a run that needs more than arguments (a working directory, the
/// environment, a pipe); `output` or `.output()` runs it.
pub fn command() -> Command {
    Command::new(env!("CARGO_BIN_EXE_capplan"))
}

/// Runs `cmd`; returns (exit code, stdout, stderr). A signal (no code) is -1.
pub fn output(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().expect("run capplan");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Runs the capplan binary; returns (exit code, stdout, stderr).
pub fn capplan(args: &[&str]) -> (i32, String, String) {
    output(command().args(args))
}

/// Runs the capplan binary (output discarded) and returns its exit code, failing the test if it
/// has not returned within `secs` seconds: the child is killed then. A check that a run ends at
/// all, not of its speed (speed is benchmarked, never tested), so `secs` is far beyond any
/// machine's time for the work.
pub fn capplan_within(args: &[&str], secs: u64) -> i32 {
    let mut child = command()
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("run capplan");
    let deadline = Instant::now() + Duration::from_secs(secs);
    loop {
        if let Some(status) = child.try_wait().expect("wait for capplan") {
            return status.code().unwrap_or(-1);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("capplan {} did not return within {secs} s", args[0]);
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The objective of a scenario folder planned by `method` on `solver` (as `capplan run` plans it);
/// for the monolithic method, the backend's own reported optimum (the independent reference,
/// not the plan `run` polishes from it).
pub fn objective_of(
    folder: &Path,
    solver: capplan::model::solve::SolverKind,
    method: capplan::model::solve::Method,
) -> f64 {
    if method == capplan::model::solve::Method::Monolithic {
        let (s, facts, _) = capplan::pipeline::load(folder, &Default::default())
            .unwrap_or_else(|e| panic!("{}: {e}", folder.display()));
        return capplan::pipeline::lp_reference(&s, &facts, solver)
            .unwrap_or_else(|e| panic!("{} on {}: {e}", folder.display(), solver.name()))
            .0;
    }
    let options = capplan::pipeline::RunOptions {
        method,
        ..capplan::pipeline::RunOptions::plan(solver)
    };
    capplan::pipeline::run_with(folder, &options)
        .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        .report
        .summary
        .objective
}

/// Relative difference.
pub fn rel(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1.0)
}
