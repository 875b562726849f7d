//! Measures the capplan pipeline stage by stage (load, build, solve, report, chart render, write)
//! on synthetic scenarios at real magnitudes — 24 monthly, 365 daily and 8760 hourly periods,
//! with and without N-1, with a binding share cap, with reservations three times dearer — for
//! the decomposed method and the monolithic LP on every compiled-in backend, and prints markdown
//! tables of seconds, sizes, decomposition iterations and objectives (flagging methods or
//! backends that disagree by more than 1e-6 relative).
//!
//! Then whole GPU blocks (issue 20): the bundled monthly GPU scenario, an hourly quarter in GPUs
//! (`frontier-2026-gpus` with `frontier-2026-hourly`'s demand) and the synthetic hourly year in
//! 8-GPU blocks (9 and 12 block tranches), each planned in whole blocks and as the LP relaxation
//! (`--relax`), with the whole-block search's nodes, LPs and evaluations (cases named
//! `blocks-…`).
//!
//! Then `capplan robust` on the bundled risk sweeps: frontier-risk (monthly frontier-2026) at 30,
//! 100, 300 and 1,000 planning samples and frontier-hourly-risk (the hourly quarter) at 10 and
//! 100: seconds and CPU seconds per stage (the robust search split into master and evaluations),
//! iterations and cuts; and beside each, the extensive form of the same samples (one LP of every
//! sample, `model::robust::ExtensiveForm`) solved whole by HiGHS: its size, seconds, peak memory,
//! the ratio of its seconds to the robust search's, and both optima (flagged when they differ by
//! more than 1e-6 relative). The extensive form runs in a child process (this binary again) under
//! a time limit and an address-space limit, so a form too large or too slow is reported with its
//! size, not a crash; without HiGHS only its size is measured.
//!
//! Run: `cargo bench --bench pipeline` (add `--features highs` for HiGHS).
//! Environment:
//! - `CAPPLAN_BENCH_FILTER`: only cases whose name contains this substring (`robust`: the robust
//!   cases, named `robust-<samples>` and `robust-hourly-<samples>`).
//! - `CAPPLAN_BENCH_MAX_SECONDS` (default 30; `inf` never skips): skip a backend on a case when
//!   it already took longer than this on a smaller case. The extensive form of a robust case is
//!   then built and measured but not solved, as it is after a smaller case of its sweep did not
//!   finish (unless `inf`).
//! - `CAPPLAN_BENCH_EXTENSIVE_SECONDS` (default 120): the extensive form's time limit, its whole
//!   process (drawing the samples, building the LP, solving it).
//! - `CAPPLAN_BENCH_EXTENSIVE_GIB` (default 12): the extensive form's address-space limit (Linux
//!   and macOS).
//! - `CAPPLAN_BENCH_SOLVERS`: comma-separated backends of the monolithic LP (default: every
//!   compiled-in one); `none` runs the decomposed method only.

use std::path::Path;
use std::time::Instant;

use capplan::chart::{render_all, ChartOptions};
use capplan::model::solve::{Method, SolverKind};
use capplan::output::{resolve, write, Claim, OutputFile, Product};
use capplan::pipeline::{self, RunOptions, Timings};
use capplan::report::write::report_files;
use capplan::synthetic::{self, Spec, Step};

#[path = "pipeline/robust.rs"]
mod robust;

/// Cases whose first run takes less than this are run three times and the fastest run is kept.
const REPEAT_BELOW_SECONDS: f64 = 1.0;
const DEFAULT_MAX_SECONDS: f64 = 30.0;
/// Relative objective difference above which backends are reported as disagreeing.
const AGREEMENT_TOLERANCE: f64 = 1e-6;

/// One benchmark case: a synthetic scenario. Cases are listed smallest LP first, which the
/// skip rule relies on.
struct Case {
    name: &'static str,
    spec: Spec,
    /// Commit prices multiplied by this after writing (the "reservations dearer" case).
    commit_factor: f64,
}

/// How a case is solved: by decomposition, or as one LP on a backend.
#[derive(Clone, Copy, PartialEq)]
struct Way {
    method: Method,
    solver: SolverKind,
}

impl Way {
    fn name(self) -> String {
        match self.method {
            Method::Decomposed => "decomposed".into(),
            _ => format!("monolithic {}", self.solver.name()),
        }
    }
}

fn cases() -> Vec<Case> {
    // 3 regions × 4 tranches = 12 tranches over 4 providers, routes between all regions, 2
    // workloads, outages; no share cap and no N-1 unless the case says so.
    let plain = |periods, step| Spec {
        outages: true,
        ..Spec::benchmark(periods, step)
    };
    let n_minus_one = |periods, step| Spec {
        survive_provider_loss: true,
        ..plain(periods, step)
    };
    let case = |name, spec| Case {
        name,
        spec,
        commit_factor: 1.0,
    };
    vec![
        case("monthly-24", plain(24, Step::Month)),
        case("monthly-24-n1", n_minus_one(24, Step::Month)),
        case("daily-365", plain(365, Step::Day)),
        case("daily-365-n1", n_minus_one(365, Step::Day)),
        case("hourly-8760", plain(8760, Step::Hour)),
        case("hourly-8760-n1", n_minus_one(8760, Step::Hour)),
        Case {
            commit_factor: 3.0,
            ..case("hourly-8760-n1-dear", n_minus_one(8760, Step::Hour))
        },
        case(
            "hourly-8760-share",
            Spec {
                max_provider_share: 0.4,
                ..plain(8760, Step::Hour)
            },
        ),
    ]
}

/// Multiplies the commit price column of a written scenario's capacity.csv.
fn scale_commit_prices(folder: &Path, factor: f64) {
    if factor == 1.0 {
        return;
    }
    let path = folder.join("capacity.csv");
    let mut reader = csv::Reader::from_path(&path).expect("capacity.csv");
    let headers = reader.headers().expect("header").clone();
    let column = headers
        .iter()
        .position(|h| h == "commit_cost_per_hour")
        .expect("commit_cost_per_hour column");
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer.write_record(&headers).expect("write");
    for row in reader.records() {
        let row = row.expect("row");
        let fields: Vec<String> = row
            .iter()
            .enumerate()
            .map(|(i, v)| match (i == column, v.parse::<f64>()) {
                (true, Ok(x)) => format!("{:.2}", x * factor),
                _ => v.to_string(),
            })
            .collect();
        writer.write_record(&fields).expect("write");
    }
    std::fs::write(&path, writer.into_inner().expect("flush")).expect("capacity.csv");
}

/// What one (case, backend) run measured.
struct Measured {
    timings: Timings,
    objective: f64,
    total_seconds: f64,
}

enum Outcome {
    Ran(Box<Measured>),
    Skipped { max_seconds: f64 },
    Failed(String),
}

struct Row {
    case: &'static str,
    way: Way,
    outcome: Outcome,
}

/// Runs every stage once, as `capplan run` does, writing into `out_dir`.
fn run_once(folder: &Path, way: Way, out_dir: &Path) -> Result<Measured, String> {
    let started = Instant::now();
    let options = RunOptions {
        method: way.method,
        ..RunOptions::plan(way.solver)
    };
    let outcome = pipeline::run_with(folder, &options).map_err(|e| e.to_string())?;
    let mut timings = outcome.timings;

    let t = Instant::now();
    let charts =
        render_all(&outcome.report.charts, &ChartOptions::default()).map_err(|e| e.to_string())?;
    timings.chart_seconds = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let mut product = Product::new(report_files(&outcome.report), Vec::<String>::new());
    product.extend(
        charts
            .into_iter()
            .map(|c| OutputFile::new(c.file_name, c.bytes)),
    );
    let folder = resolve(Some(out_dir), out_dir.to_path_buf(), &[], Claim::default())
        .map_err(|e| e.to_string())?;
    write(&folder, &product).map_err(|e| e.to_string())?;
    timings.write_seconds = t.elapsed().as_secs_f64();

    Ok(Measured {
        timings,
        objective: outcome.report.summary.objective,
        total_seconds: started.elapsed().as_secs_f64(),
    })
}

/// Runs once, or best of three (by total seconds) when a run takes under a second.
fn measure(folder: &Path, way: Way, out_dir: &Path) -> Result<Measured, String> {
    let mut best = run_once(folder, way, out_dir)?;
    if best.total_seconds < REPEAT_BELOW_SECONDS {
        for _ in 0..2 {
            let m = run_once(folder, way, out_dir)?;
            if m.total_seconds < best.total_seconds {
                best = m;
            }
        }
    }
    Ok(best)
}

fn max_seconds_from_env() -> f64 {
    match std::env::var("CAPPLAN_BENCH_MAX_SECONDS") {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| {
            eprintln!(
                "CAPPLAN_BENCH_MAX_SECONDS={v:?} is not a number; using {DEFAULT_MAX_SECONDS}"
            );
            DEFAULT_MAX_SECONDS
        }),
        Err(_) => DEFAULT_MAX_SECONDS,
    }
}

fn relative_difference(a: f64, b: f64) -> f64 {
    (a - b).abs() / a.abs().max(b.abs()).max(1.0)
}

fn main() {
    // A child started by the robust cases: one extensive form, then exit.
    if robust::extensive_child() {
        return;
    }
    // `cargo bench` passes `--bench`; `cargo test --benches` does not, and then a smoke run of
    // the smallest case is enough.
    let smoke_only = !std::env::args().any(|a| a == "--bench");
    let filter = std::env::var("CAPPLAN_BENCH_FILTER").unwrap_or_default();
    let max_seconds = max_seconds_from_env();
    let solvers: Vec<SolverKind> = match std::env::var("CAPPLAN_BENCH_SOLVERS") {
        Ok(names) if names.trim() == "none" => Vec::new(),
        Ok(names) => names
            .split(',')
            .map(|n| SolverKind::parse(n.trim()).unwrap_or_else(|e| panic!("{e}")))
            .collect(),
        Err(_) => SolverKind::available(),
    };
    let mut ways = vec![Way {
        method: Method::Decomposed,
        solver: SolverKind::default_kind(),
    }];
    ways.extend(solvers.iter().map(|&solver| Way {
        method: Method::Monolithic,
        solver,
    }));
    let scratch = tempfile::tempdir().expect("temporary directory");

    let mut rows: Vec<Row> = Vec::new();
    // Slowest total seconds seen so far per backend (on smaller cases, since cases grow).
    let mut slowest_seconds = vec![0.0f64; ways.len()];
    let mut blocked = vec![false; ways.len()];
    let selected: Vec<Case> = cases()
        .into_iter()
        .filter(|c| c.name.contains(filter.as_str()))
        .take(if smoke_only { 1 } else { usize::MAX })
        .collect();
    eprintln!(
        "capplan pipeline bench: {} case(s) × backends [{}], skip after {max_seconds} s",
        selected.len(),
        ways.iter().map(|w| w.name()).collect::<Vec<_>>().join(", ")
    );
    for case in &selected {
        let folder = scratch.path().join(case.name);
        let t = Instant::now();
        synthetic::write(&folder, &case.spec).expect("writing the synthetic scenario");
        scale_commit_prices(&folder, case.commit_factor);
        eprintln!(
            "{}: scenario written in {:.3} s",
            case.name,
            t.elapsed().as_secs_f64()
        );
        for (i, &way) in ways.iter().enumerate() {
            let outcome = if blocked[i] {
                Outcome::Skipped { max_seconds }
            } else {
                let out_dir = scratch.path().join(format!(
                    "{}-{}-out",
                    case.name,
                    way.name().replace(' ', "-")
                ));
                match measure(&folder, way, &out_dir) {
                    Ok(m) => {
                        slowest_seconds[i] = slowest_seconds[i].max(m.total_seconds);
                        Outcome::Ran(Box::new(m))
                    }
                    Err(e) => Outcome::Failed(e),
                }
            };
            if slowest_seconds[i] > max_seconds {
                blocked[i] = true;
            }
            eprintln!("{}", progress_line(case.name, way, &outcome));
            rows.push(Row {
                case: case.name,
                way,
                outcome,
            });
        }
    }
    print_tables(&selected, &rows);
    block_cases(&filter, smoke_only, scratch.path());
    robust::cases(&filter, smoke_only, max_seconds);
}

/// A scenario folder of the whole-block cases, written into `dir`.
fn block_case(name: &str, dir: &Path) {
    let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    match name {
        // The hourly quarter in GPUs: frontier-2026-gpus's tranches, throughput, workloads,
        // routes and policy, frontier-2026-hourly's 2,208 hours of demand (Q4 2026).
        "blocks-gpus-hourly-quarter" => {
            std::fs::create_dir_all(dir).expect("folder");
            for file in [
                "capacity.csv",
                "routes.csv",
                "throughput.csv",
                "workloads.csv",
            ] {
                std::fs::copy(
                    bundled.join("frontier-2026-gpus").join(file),
                    dir.join(file),
                )
                .expect("copy");
            }
            std::fs::copy(
                bundled.join("frontier-2026-hourly/demand.csv"),
                dir.join("demand.csv"),
            )
            .expect("copy");
            let toml = std::fs::read_to_string(bundled.join("frontier-2026-gpus/scenario.toml"))
                .expect("scenario.toml")
                .replace(
                    "horizon_end = \"2028-01-01\"",
                    "horizon_end = \"2027-01-01\"",
                );
            std::fs::write(dir.join("scenario.toml"), toml).expect("scenario.toml");
        }
        // The hourly year of the cases above in 8-GPU blocks: 3 regions × 4 tranches, 9 of them
        // reserved in blocks, or 4 regions (12 of 16 in blocks).
        "blocks-hourly-year" | "blocks-hourly-year-12" => {
            let spec = Spec {
                periods: 8760,
                step: Step::Hour,
                tranches_per_region: 4,
                regions: if name.ends_with("-12") { 4 } else { 3 },
                providers: 4,
                survive_provider_loss: false,
                max_provider_share: 1.0,
                workloads: 2,
                outages: true,
                block_gpus: Some(8),
            };
            synthetic::write(dir, &spec).expect("writing the synthetic scenario");
        }
        _ => unreachable!("a whole-block case"),
    }
}

/// Whole GPU blocks against the LP relaxation on the same scenario: seconds, the search's size,
/// and what whole blocks add to the objective.
fn block_cases(filter: &str, smoke_only: bool, scratch: &Path) {
    let names = [
        "blocks-gpus-monthly",
        "blocks-gpus-hourly-quarter",
        "blocks-hourly-year",
        "blocks-hourly-year-12",
    ];
    let selected: Vec<&str> = names
        .into_iter()
        .filter(|n| n.contains(filter))
        .take(if smoke_only { 1 } else { usize::MAX })
        .collect();
    if selected.is_empty() {
        return;
    }
    println!("\n### Whole GPU blocks\n");
    println!("| case | whole blocks: solve_seconds | total_seconds | relaxation: solve_seconds | total_seconds | nodes | master LPs | evaluations | search_seconds | relative gap | objective | relaxation objective | whole blocks add |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for name in selected {
        let folder = if name == "blocks-gpus-monthly" {
            Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/frontier-2026-gpus")
        } else {
            let dir = scratch.join(name);
            block_case(name, &dir);
            dir
        };
        let mut measured = Vec::new();
        for relax in [false, true] {
            let started = Instant::now();
            let options = RunOptions {
                relax,
                ..RunOptions::plan(SolverKind::default_kind())
            };
            let outcome = pipeline::run_with(&folder, &options)
                .unwrap_or_else(|e| panic!("{name} (relax {relax}): {e}"));
            measured.push((outcome, started.elapsed().as_secs_f64()));
        }
        let [(whole, whole_seconds), (relaxed, relaxed_seconds)] =
            <[_; 2]>::try_from(measured).ok().expect("two runs");
        let search = whole
            .timings
            .decomposition
            .as_ref()
            .and_then(|d| d.whole_blocks.clone())
            .unwrap_or_default();
        let gap = whole
            .timings
            .decomposition
            .as_ref()
            .map_or(f64::NAN, |d| d.relative_gap);
        let (objective, relaxation) = (
            whole.report.summary.objective,
            relaxed.report.summary.objective,
        );
        eprintln!("{name}: {whole_seconds:.2} s whole blocks, {relaxed_seconds:.2} s relaxed");
        println!(
            "| {name} | {:.3} | {whole_seconds:.3} | {:.3} | {relaxed_seconds:.3} | {} | {} | {} | {:.3} | {gap:.1e} | {objective:.9e} | {relaxation:.9e} | {:.2e} |",
            whole.timings.solve_seconds,
            relaxed.timings.solve_seconds,
            search.nodes,
            search.master_lps,
            search.evaluations,
            search.seconds,
            (objective - relaxation) / relaxation.abs().max(1.0),
        );
    }
}

fn progress_line(case: &str, way: Way, outcome: &Outcome) -> String {
    let solver = Named(way.name());
    match outcome {
        Outcome::Ran(m) => format!(
            "  {case} / {}: {:.3} s total ({:.3} s solve), objective {:.9e}",
            solver.name(),
            m.total_seconds,
            m.timings.solve_seconds,
            m.objective
        ),
        Outcome::Skipped { max_seconds } => format!(
            "  {case} / {}: skipped (>{max_seconds} s on smaller case)",
            solver.name()
        ),
        Outcome::Failed(e) => format!("  {case} / {}: FAILED: {e}", solver.name()),
    }
}

/// A label with a `name()`, so the progress lines read alike for every way.
struct Named(String);

impl Named {
    fn name(&self) -> &str {
        &self.0
    }
}

fn print_tables(cases: &[Case], rows: &[Row]) {
    println!("\n### Seconds per stage\n");
    println!("| case | backend | load_seconds | build_seconds | solve_seconds | report_seconds | chart_seconds | write_seconds | total_seconds |");
    println!("|---|---|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        let name = row.way.name();
        match &row.outcome {
            Outcome::Ran(m) => {
                let t = &m.timings;
                println!(
                    "| {} | {name} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} | {:.3} |",
                    row.case,
                    t.load_seconds,
                    t.build_seconds,
                    t.solve_seconds,
                    t.report_seconds,
                    t.chart_seconds,
                    t.write_seconds,
                    m.total_seconds
                );
            }
            Outcome::Skipped { max_seconds } => println!(
                "| {} | {name} | skipped (>{max_seconds} s on smaller case) | | | | | | |",
                row.case
            ),
            Outcome::Failed(e) => println!(
                "| {} | {name} | failed: {} | | | | | | |",
                row.case,
                e.replace('|', "/")
            ),
        }
    }

    println!("\n### Decomposition\n");
    println!("| case | iterations | evaluations | blocks | cuts | relative gap | master_seconds | subproblem_seconds |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    for row in rows {
        if let (Outcome::Ran(m), Some(d)) = (&row.outcome, &row_decomposition(row)) {
            let _ = m;
            println!(
                "| {} | {} | {} | {} | {} | {:.1e} | {:.3} | {:.3} |",
                row.case,
                d.iterations,
                d.evaluations,
                d.blocks,
                d.cuts,
                d.relative_gap,
                d.master_seconds,
                d.subproblem_seconds
            );
        }
    }

    println!("\n### Monolithic LP size and objectives\n");
    println!("| case | periods | variables | constraints | nonzeros | objective per method and backend | max relative difference |");
    println!("|---|---:|---:|---:|---:|---|---:|");
    let mut disagreements = Vec::new();
    for case in cases {
        let ran: Vec<(Way, &Measured)> = rows
            .iter()
            .filter(|r| r.case == case.name)
            .filter_map(|r| match &r.outcome {
                Outcome::Ran(m) => Some((r.way, &**m)),
                _ => None,
            })
            .collect();
        let sizes = ran
            .iter()
            .find(|(w, _)| w.method == Method::Monolithic)
            .map(|(_, m)| &m.timings);
        let Some(_) = ran.first() else {
            println!(
                "| {} | {} | | | | (no backend ran) | |",
                case.name, case.spec.periods
            );
            continue;
        };
        let objectives: Vec<String> = ran
            .iter()
            .map(|(s, m)| format!("{}: {:.9e}", s.name(), m.objective))
            .collect();
        let max_difference = ran
            .iter()
            .flat_map(|(_, a)| {
                ran.iter()
                    .map(|(_, b)| relative_difference(a.objective, b.objective))
            })
            .fold(0.0f64, f64::max);
        if max_difference > AGREEMENT_TOLERANCE {
            disagreements.push(format!(
                "{}: backends disagree, max relative difference {max_difference:.2e} > {AGREEMENT_TOLERANCE:e} ({})",
                case.name,
                objectives.join(", ")
            ));
        }
        let size = |f: fn(&Timings) -> usize| sizes.map_or("—".to_string(), |t| f(t).to_string());
        println!(
            "| {} | {} | {} | {} | {} | {} | {} |",
            case.name,
            case.spec.periods,
            size(|t| t.variables),
            size(|t| t.constraints),
            size(|t| t.nonzeros),
            objectives.join("; "),
            if ran.len() > 1 {
                format!("{max_difference:.1e}")
            } else {
                "—".into()
            }
        );
    }
    println!();
    if disagreements.is_empty() {
        println!(
            "All methods and backends that ran agree on the objective to {AGREEMENT_TOLERANCE:e} relative."
        );
    } else {
        for d in &disagreements {
            println!("WARNING: {d}");
        }
    }
}

fn row_decomposition(row: &Row) -> Option<capplan::model::decompose::Convergence> {
    match &row.outcome {
        Outcome::Ran(m) => m.timings.decomposition.clone(),
        _ => None,
    }
}
