//! The robust cases of the pipeline bench: `capplan robust` on the bundled risk sweeps, and
//! beside each the extensive form of the same samples (one LP of every sample) solved whole by
//! HiGHS in a child process under a time and an address-space limit (see `pipeline.rs`).

use std::cell::RefCell;
use std::io::{Read, Write};
use std::path::Path;
use std::time::Instant;

use capplan::model::solve::SolverKind;
use capplan::pipeline;

use super::{relative_difference, AGREEMENT_TOLERANCE};

/// A robust case: a bundled risk sweep at a number of planning samples.
struct RobustCase {
    /// `robust-<samples>` (frontier-risk) or `robust-hourly-<samples>` (frontier-hourly-risk).
    name: String,
    /// The sweep file under scenarios/sweeps, without `.toml`.
    sweep: &'static str,
    samples: u64,
}

/// frontier-risk (monthly frontier-2026) at 30, 100, 300 and 1,000 planning samples, then
/// frontier-hourly-risk (the hourly quarter) at 10 and 100; 10 monthly samples in a smoke run.
/// Each sweep's cases are listed smallest first, which the extensive form's skip rule relies on.
fn case_list(smoke_only: bool) -> Vec<RobustCase> {
    let monthly: &[u64] = if smoke_only {
        &[10]
    } else {
        &[30, 100, 300, 1000]
    };
    let hourly: &[u64] = if smoke_only { &[] } else { &[10, 100] };
    let case = |prefix: &str, sweep, samples| RobustCase {
        name: format!("{prefix}-{samples}"),
        sweep,
        samples,
    };
    monthly
        .iter()
        .map(|&n| case("robust", "frontier-risk", n))
        .chain(
            hourly
                .iter()
                .map(|&n| case("robust-hourly", "frontier-hourly-risk", n)),
        )
        .collect()
}

fn sweep_file(sweep: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/sweeps")
        .join(format!("{sweep}.toml"))
}

/// `capplan robust` as the command runs it, with the seconds and CPU seconds of its stages.
struct RobustMeasured {
    robust: capplan::robust::Robust,
    total_seconds: f64,
    /// CPU seconds of the process (every thread) over the robust search, and over the command.
    solve_cpu_seconds: Option<f64>,
    total_cpu_seconds: Option<f64>,
}

fn robust_command(case: &RobustCase) -> RobustMeasured {
    let sweep = capplan::sweep::spec::read(&sweep_file(case.sweep)).expect("the sweep file");
    let overrides = capplan::robust::Overrides {
        samples: Some(case.samples),
        ..Default::default()
    };
    // The process's CPU seconds as each stage begins (the command names its stages).
    let stages: RefCell<Vec<(String, Option<f64>)>> = RefCell::new(Vec::new());
    let cpu_before = cpu_seconds();
    let started = Instant::now();
    let robust = capplan::robust::run(sweep, &overrides, &|stage| {
        stages.borrow_mut().push((stage.to_string(), cpu_seconds()));
    })
    .unwrap_or_else(|e| panic!("robust on {}: {e}", case.name));
    let total_seconds = started.elapsed().as_secs_f64();
    let cpu_after = cpu_seconds();
    let stages = stages.into_inner();
    let cpu_at = |prefix: &str| {
        stages
            .iter()
            .find(|(s, _)| s.starts_with(prefix))
            .and_then(|(_, cpu)| *cpu)
    };
    let difference = |a: Option<f64>, b: Option<f64>| Some(b? - a?);
    RobustMeasured {
        robust,
        total_seconds,
        solve_cpu_seconds: difference(cpu_at("solving"), cpu_at("holding")),
        total_cpu_seconds: difference(cpu_before, cpu_after),
    }
}

/// CPU seconds (user and system, every thread) of this process and of its waited-for children,
/// from /proc/self/stat (Linux; `None` elsewhere). Its clock ticks are USER_HZ, 100 a second.
fn cpu_times() -> Option<(f64, f64)> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name (which may hold spaces): field 3 (state) is the first;
    // utime, stime, cutime and cstime are fields 14 to 17.
    let fields: Vec<f64> = stat
        .get(stat.rfind(')')? + 1..)?
        .split_whitespace()
        .skip(11)
        .take(4)
        .map(|f| f.parse::<f64>().ok())
        .collect::<Option<_>>()?;
    let [utime, stime, cutime, cstime] = <[f64; 4]>::try_from(fields).ok()?;
    Some(((utime + stime) / 100.0, (cutime + cstime) / 100.0))
}

fn cpu_seconds() -> Option<f64> {
    cpu_times().map(|(own, _)| own)
}

fn children_cpu_seconds() -> Option<f64> {
    cpu_times().map(|(_, children)| children)
}

/// The peak resident memory of a process (VmHWM in /proc/<pid>/status), bytes.
fn peak_resident_bytes(pid: &str) -> Option<u64> {
    proc_status_bytes(pid, "VmHWM:")
}

/// A process's peak address space (VmPeak: what the address-space limit bounds), bytes.
fn peak_address_space_bytes(pid: &str) -> Option<u64> {
    proc_status_bytes(pid, "VmPeak:")
}

fn proc_status_bytes(pid: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// The 1-, 5- and 15-minute load averages (/proc/loadavg), for the record of a run.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|| "unknown".into())
}

// The extensive form runs in a child process (this bench binary again), so that a form too large
// for the machine or too slow ends in a report rather than a crash: the child lives under an
// address-space limit and is stopped at a time limit. The child is told its case by these.
const CHILD_SWEEP_VAR: &str = "CAPPLAN_BENCH_EXTENSIVE_CHILD_SWEEP";
const CHILD_SAMPLES_VAR: &str = "CAPPLAN_BENCH_EXTENSIVE_CHILD_SAMPLES";
const CHILD_LIMIT_VAR: &str = "CAPPLAN_BENCH_EXTENSIVE_CHILD_BYTES";
/// Set: build the form and report its size, without solving it.
const CHILD_SIZE_ONLY_VAR: &str = "CAPPLAN_BENCH_EXTENSIVE_CHILD_SIZE_ONLY";

const EXTENSIVE_SECONDS_VAR: &str = "CAPPLAN_BENCH_EXTENSIVE_SECONDS";
const EXTENSIVE_GIB_VAR: &str = "CAPPLAN_BENCH_EXTENSIVE_GIB";
/// The extensive form's time limit, seconds: the whole child (the samples, the LP, its solve).
/// Short by default, so that a default run stays short; performance.md's run sets 600.
const DEFAULT_EXTENSIVE_SECONDS: f64 = 120.0;
/// The child's address-space limit, GiB: about half of the 23 GiB development machine, which
/// other builds share.
const DEFAULT_EXTENSIVE_GIB: f64 = 12.0;

fn env_number(var: &str, default: f64) -> f64 {
    match std::env::var(var) {
        Ok(v) => v.trim().parse().unwrap_or_else(|_| {
            eprintln!("{var}={v:?} is not a number; using {default}");
            default
        }),
        Err(_) => default,
    }
}

/// The child: the samples of the case exactly as `capplan robust` draws them (the sweep's
/// settings with `--samples`), the extensive form of them built by the model's own
/// `ExtensiveForm`, and solved whole by HiGHS. Prints one line per step, seconds and CPU seconds
/// since the child started:
///
///   prepared <seconds> <cpu>
///   size <columns> <rows> <nonzeros> <seconds> <cpu>
///   solved <R in $> <seconds> <cpu>
///   peak <resident bytes> <address-space bytes>
///
/// or, after the steps done, `peak …` and `failed <message>`.
///
/// Returns false, doing nothing, in any process but such a child.
pub fn extensive_child() -> bool {
    let Ok(file) = std::env::var(CHILD_SWEEP_VAR) else {
        return false;
    };
    extensive_child_of(&file);
    true
}

fn extensive_child_of(file: &str) {
    use capplan::facts::Facts;
    use capplan::model::robust::{ExtensiveForm, RobustOptions};
    use capplan::scenario::Scenario;

    let started = Instant::now();
    #[cfg(any(target_os = "linux", target_os = "macos"))]
    if let Some(bytes) = std::env::var(CHILD_LIMIT_VAR)
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        use rustix::process::{setrlimit, Resource, Rlimit};
        let limit = Rlimit {
            current: Some(bytes),
            maximum: Some(bytes),
        };
        setrlimit(Resource::As, limit).expect("the address-space limit");
    }
    let samples: u64 = std::env::var(CHILD_SAMPLES_VAR)
        .expect("the samples")
        .parse()
        .expect("a number of samples");
    let size_only = std::env::var_os(CHILD_SIZE_ONLY_VAR).is_some();
    let step = |what: &str| {
        println!(
            "{what} {:.3} {}",
            started.elapsed().as_secs_f64(),
            cpu_seconds().map_or("-".into(), |c| format!("{c:.2}"))
        );
        std::io::stdout().flush().expect("stdout");
    };
    let run = || -> capplan::Result<()> {
        let sweep = capplan::sweep::spec::read(Path::new(file))?;
        let overrides = capplan::robust::Overrides {
            samples: Some(samples),
            ..Default::default()
        };
        let settings = capplan::robust::settings(&sweep, &overrides)?;
        let prep = capplan::sweep::prepare(
            sweep.clone(),
            &capplan::sweep::Overrides {
                samples: Some(settings.samples + settings.holdout),
                ..Default::default()
            },
        )?;
        let base = pipeline::Planning::load(&sweep.scenario, &Default::default())?;
        let scenarios: Vec<Scenario> = (0..settings.samples)
            .map(|id| prep.scenario_of(id))
            .collect::<capplan::Result<_>>()?;
        let facts: Vec<Facts> = scenarios.iter().map(Facts::of).collect();
        let samples: Vec<(&Scenario, &Facts)> = scenarios.iter().zip(&facts).collect();
        // The options `capplan robust` solves with.
        let options = RobustOptions {
            risk_weight: settings.risk_weight,
            cvar_alpha: settings.cvar_alpha,
            emergency: settings.emergency,
            whole_blocks: true,
            cuts: Default::default(),
        };
        step("prepared");
        let form = ExtensiveForm::build(&base.facts, &samples, options)?;
        let size = form.size();
        step(&format!(
            "size {} {} {}",
            size.columns, size.rows, size.nonzeros
        ));
        if size_only {
            return Ok(());
        }
        let (objective, _) = form.solve(SolverKind::Highs)?;
        step(&format!("solved {objective:.17e}"));
        Ok(())
    };
    let result = run();
    if let (Some(resident), Some(address)) = (
        peak_resident_bytes("self"),
        peak_address_space_bytes("self"),
    ) {
        println!("peak {resident} {address}");
    }
    if let Err(e) = result {
        println!("failed {}", e.to_string().replace('\n', " "));
        std::process::exit(1);
    }
}

/// How the extensive form of a case ended.
enum ExtensiveEnd {
    /// Solved: R, $.
    Solved(f64),
    /// Built and measured, not solved (the skip rule, or a build without HiGHS).
    SizeOnly,
    /// Stopped at the time limit.
    TimedOut,
    /// Ran out of its address space.
    OutOfMemory,
    Failed(String),
}

/// Seconds and CPU seconds since the child started.
#[derive(Clone, Copy)]
struct Mark {
    seconds: f64,
    cpu_seconds: Option<f64>,
}

impl Mark {
    fn since(self, earlier: Mark) -> Mark {
        Mark {
            seconds: self.seconds - earlier.seconds,
            cpu_seconds: self
                .cpu_seconds
                .zip(earlier.cpu_seconds)
                .map(|(a, b)| a - b),
        }
    }
}

struct Extensive {
    end: ExtensiveEnd,
    /// The samples ready (drawn, loaded, their facts), the LP built (and its size), solved.
    prepared: Option<Mark>,
    built: Option<(capplan::model::robust::LpSize, Mark)>,
    solved: Option<Mark>,
    /// The whole child, as the parent saw it (CPU seconds: its children's, Linux).
    whole: Mark,
    /// Peak resident memory, and peak address space when the child reported it, bytes.
    peak_bytes: Option<u64>,
    peak_address_bytes: Option<u64>,
}

impl Extensive {
    /// Building the LP.
    fn build(&self) -> Option<Mark> {
        Some(self.built?.1.since(self.prepared?))
    }

    /// Solving it (good_lp's model and HiGHS).
    fn solve(&self) -> Option<Mark> {
        Some(self.solved?.since(self.built?.1))
    }

    /// The extensive form proper, building and solving; when it did not finish, how long it ran
    /// after the samples were ready (a lower bound).
    fn form(&self) -> Option<Mark> {
        Some(self.solved.unwrap_or(self.whole).since(self.prepared?))
    }
}

fn parse_mark(seconds: Option<&str>, cpu: Option<&str>) -> Option<Mark> {
    Some(Mark {
        seconds: seconds?.parse().ok()?,
        cpu_seconds: cpu.and_then(|c| c.parse().ok()),
    })
}

/// Runs the extensive form of a case in a child process, within the time and memory limits.
fn extensive_form(case: &RobustCase, size_only: bool, seconds: f64, bytes: u64) -> Extensive {
    use std::process::{Command, Stdio};

    let exe = std::env::current_exe().expect("this bench's executable");
    let mut command = Command::new(exe);
    command
        .env(CHILD_SWEEP_VAR, sweep_file(case.sweep))
        .env(CHILD_SAMPLES_VAR, case.samples.to_string())
        .env(CHILD_LIMIT_VAR, bytes.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if size_only {
        command.env(CHILD_SIZE_ONLY_VAR, "1");
    }
    let children_cpu_before = children_cpu_seconds();
    let started = Instant::now();
    let mut child = command
        .spawn()
        .expect("starting the extensive form's process");
    let pid = child.id().to_string();
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stdout.read_to_string(&mut s);
        s
    });
    let err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = stderr.read_to_string(&mut s);
        s
    });
    let mut peak_bytes = None;
    let status = loop {
        if let Some(status) = child.try_wait().expect("waiting for the extensive form") {
            break Some(status);
        }
        peak_bytes = peak_bytes.max(peak_resident_bytes(&pid));
        if started.elapsed().as_secs_f64() > seconds {
            // Our own child, by its handle.
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    };
    let wall_seconds = started.elapsed().as_secs_f64();
    let cpu_seconds = match (children_cpu_before, children_cpu_seconds()) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let out = out.join().unwrap_or_default();
    let err = err.join().unwrap_or_default();
    let mut extensive = Extensive {
        end: ExtensiveEnd::SizeOnly,
        prepared: None,
        built: None,
        solved: None,
        whole: Mark {
            seconds: wall_seconds,
            cpu_seconds,
        },
        peak_bytes,
        peak_address_bytes: None,
    };
    let (mut objective, mut failed) = (None, None);
    for line in out.lines() {
        let words: Vec<&str> = line.split_whitespace().collect();
        let at = |i: usize| words.get(i).copied();
        let count = |i: usize| at(i).and_then(|w| w.parse::<usize>().ok());
        match at(0) {
            Some("prepared") => extensive.prepared = parse_mark(at(1), at(2)),
            Some("size") => {
                if let (Some(columns), Some(rows), Some(nonzeros), Some(mark)) =
                    (count(1), count(2), count(3), parse_mark(at(4), at(5)))
                {
                    let size = capplan::model::robust::LpSize {
                        columns,
                        rows,
                        nonzeros,
                    };
                    extensive.built = Some((size, mark));
                }
            }
            Some("solved") => {
                objective = at(1).and_then(|w| w.parse::<f64>().ok());
                extensive.solved = parse_mark(at(2), at(3));
            }
            Some("peak") => {
                let peak = at(1).and_then(|w| w.parse().ok());
                extensive.peak_bytes = extensive.peak_bytes.max(peak);
                extensive.peak_address_bytes = at(2).and_then(|w| w.parse().ok());
            }
            Some("failed") => failed = Some(line.trim_start_matches("failed").trim().to_string()),
            _ => {}
        }
    }
    extensive.end = match (status, objective, failed) {
        (None, _, _) => ExtensiveEnd::TimedOut,
        // HiGHS reports a failed allocation on standard output and returns an error.
        (Some(_), _, _) if is_out_of_memory(&out) || is_out_of_memory(&err) => {
            ExtensiveEnd::OutOfMemory
        }
        (Some(_), _, Some(message)) => ExtensiveEnd::Failed(message),
        (Some(status), Some(r), None) if status.success() && extensive.solved.is_some() => {
            ExtensiveEnd::Solved(r)
        }
        (Some(status), None, None) if status.success() && size_only => ExtensiveEnd::SizeOnly,
        (Some(status), _, _) => ExtensiveEnd::Failed(format!(
            "{status}: {}",
            err.lines().last().unwrap_or("no message")
        )),
    };
    extensive
}

/// Whether a child's output says an allocation failed (Rust's allocator, or C++'s
/// `std::bad_alloc` in HiGHS).
fn is_out_of_memory(output: &str) -> bool {
    output.contains("memory allocation of") || output.contains("bad_alloc")
}

/// What a case measured: the command, and the extensive form of the same samples.
struct RobustRow<'a> {
    case: &'a RobustCase,
    command: RobustMeasured,
    extensive: Extensive,
    /// Why the extensive form was only built and measured, not solved.
    skipped: Option<String>,
}

/// `capplan robust` on the bundled risk sweeps (frontier-risk: monthly frontier-2026 with
/// emergency rules; frontier-hourly-risk: the hourly quarter), each stage's seconds, and beside
/// it the extensive form of the same samples (one LP) solved whole by HiGHS, as a ratio, with
/// both optima.
pub fn cases(filter: &str, smoke_only: bool, max_seconds: f64) {
    let selected: Vec<RobustCase> = case_list(smoke_only)
        .into_iter()
        .filter(|c| c.name.contains(filter))
        .collect();
    if selected.is_empty() {
        return;
    }
    let limit_seconds = env_number(EXTENSIVE_SECONDS_VAR, DEFAULT_EXTENSIVE_SECONDS);
    let limit_gib = env_number(EXTENSIVE_GIB_VAR, DEFAULT_EXTENSIVE_GIB);
    let limit_bytes = (limit_gib * (1u64 << 30) as f64) as u64;
    let highs = cfg!(feature = "highs");
    let load_before = load_average();
    eprintln!(
        "robust cases: {} (extensive form: {}), load average {load_before}",
        selected.len(),
        if highs {
            format!("HiGHS, stopped after {limit_seconds} s or {limit_gib} GiB of address space")
        } else {
            "size only, HiGHS is not compiled in".into()
        }
    );
    // Per sweep: why its larger cases' extensive forms are only measured (a smaller one took
    // longer than `max_seconds` or did not finish).
    let mut skip: Vec<(&str, String)> = Vec::new();
    let mut rows: Vec<RobustRow> = Vec::new();
    for case in &selected {
        let command = robust_command(case);
        eprintln!(
            "{}: robust {:.2} s (solve {:.2} s)",
            case.name, command.total_seconds, command.robust.timings.solve_seconds
        );
        let skipped = if highs {
            skip.iter()
                .find(|(sweep, _)| *sweep == case.sweep)
                .map(|(_, why)| why.clone())
        } else {
            Some("HiGHS is not compiled in (`--features highs`)".to_string())
        };
        let extensive = extensive_form(case, skipped.is_some(), limit_seconds, limit_bytes);
        if skipped.is_none() {
            let at = case.samples;
            // A form that did not finish took longer than any finite `max_seconds`.
            let why = match &extensive.end {
                _ if max_seconds.is_infinite() => None,
                ExtensiveEnd::Solved(_) if extensive.whole.seconds > max_seconds => Some(format!(
                    "it took {:.0} s at {at} samples (over {max_seconds} s)",
                    extensive.whole.seconds
                )),
                ExtensiveEnd::Solved(_) | ExtensiveEnd::SizeOnly => None,
                ExtensiveEnd::TimedOut => Some(format!(
                    "it did not finish in {limit_seconds} s at {at} samples"
                )),
                ExtensiveEnd::OutOfMemory => {
                    Some(format!("it ran out of {limit_gib} GiB at {at} samples"))
                }
                ExtensiveEnd::Failed(_) => Some(format!("it failed at {at} samples")),
            };
            if let Some(why) = why {
                skip.push((case.sweep, why));
            }
        }
        eprintln!(
            "{}: extensive form {}",
            case.name,
            extensive_outcome(&extensive, limit_seconds, limit_gib)
        );
        rows.push(RobustRow {
            case,
            command,
            extensive,
            skipped,
        });
    }
    let load_after = load_average();

    println!("\n### Robust plans (`capplan robust`)\n");
    println!("| sweep | samples | deterministic_seconds | samples_seconds | solve_seconds | solve_cpu_seconds | master_seconds | evaluation_seconds | hold_seconds | total_seconds | total_cpu_seconds | iterations | cuts | relative_gap |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for row in &rows {
        let (r, m) = (&row.command.robust, &row.command);
        let (t, c) = (&r.timings, &r.convergence);
        println!(
            "| {} | {} | {:.3} | {:.3} | {:.3} | {} | {:.3} | {:.3} | {:.3} | {:.3} | {} | {} | {} | {:.1e} |",
            row.case.sweep,
            row.case.samples,
            t.deterministic_seconds,
            t.samples_seconds,
            t.solve_seconds,
            cpu_cell(m.solve_cpu_seconds),
            c.master_seconds,
            c.subproblem_seconds,
            t.hold_seconds,
            m.total_seconds,
            cpu_cell(m.total_cpu_seconds),
            c.iterations,
            c.cuts,
            r.relative_gap,
        );
    }

    println!("\n### Robust plans beside the extensive form\n");
    println!(
        "The robust search (`capplan robust`'s solve stage, 2 threads) and the extensive form of the same samples: one LP holding every sample's held dispatch, the copies' reservations tied, CVaR in its linear form (`model::robust::ExtensiveForm`), solved whole by HiGHS (one thread) in a child process stopped after {limit_seconds} s or {limit_gib} GiB of address space. extensive / robust: the form's seconds (build and solve) over the search's. R: the search's optimum and the form's, $.\n"
    );
    println!("| sweep | samples | robust solve s | CPU s | extensive columns | rows | nonzeros | build s | solve s | build and solve CPU s | peak resident GiB | extensive / robust | R robust | R extensive | relative difference |");
    println!("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    let mut disagreements = Vec::new();
    for row in &rows {
        let (m, e) = (&row.command, &row.extensive);
        let robust_seconds = m.robust.timings.solve_seconds;
        let robust_r = m.robust.convergence.upper_bound;
        let size = |f: fn(&capplan::model::robust::LpSize) -> usize| {
            e.built.map_or("—".to_string(), |(s, _)| f(&s).to_string())
        };
        let build = e
            .build()
            .map_or("—".to_string(), |b| format!("{:.2}", b.seconds));
        let form = e.form();
        let (solve, ratio, extensive_r, difference) = match &e.end {
            ExtensiveEnd::Solved(r) => {
                let difference = relative_difference(robust_r, *r);
                if difference > AGREEMENT_TOLERANCE {
                    disagreements.push(format!(
                        "{}: the robust optimum {robust_r:.2} and the extensive form's {r:.2} differ by {difference:.2e} > {AGREEMENT_TOLERANCE:e}",
                        row.case.name
                    ));
                }
                (
                    e.solve()
                        .map_or("—".into(), |s| format!("{:.2}", s.seconds)),
                    form.map_or("—".into(), |f| {
                        format!("{:.1}", f.seconds / robust_seconds)
                    }),
                    format!("{r:.2}"),
                    format!("{difference:.1e}"),
                )
            }
            _ => {
                let why = match (&e.end, &row.skipped) {
                    (ExtensiveEnd::SizeOnly, Some(why)) => format!("not solved: {why}"),
                    _ => extensive_outcome(e, limit_seconds, limit_gib),
                };
                // It ran this long without finishing: the ratio is at least this.
                let at_least = match e.end {
                    ExtensiveEnd::TimedOut | ExtensiveEnd::OutOfMemory => form
                        .map_or("—".into(), |f| {
                            format!("> {:.0}", f.seconds / robust_seconds)
                        }),
                    _ => "—".into(),
                };
                (why, at_least, "—".into(), "—".into())
            }
        };
        println!(
            "| {} | {} | {robust_seconds:.3} | {} | {} | {} | {} | {build} | {solve} | {} | {} | {ratio} | {robust_r:.2} | {extensive_r} | {difference} |",
            row.case.sweep,
            row.case.samples,
            cpu_cell(m.solve_cpu_seconds),
            size(|s| s.columns),
            size(|s| s.rows),
            size(|s| s.nonzeros),
            cpu_cell(form.and_then(|f| f.cpu_seconds)),
            e.peak_bytes
                .map_or("—".into(), |b| format!("{:.2}", b as f64 / (1u64 << 30) as f64)),
        );
    }
    println!();
    if disagreements.is_empty() {
        println!(
            "Every extensive form solved agrees with the robust optimum to {AGREEMENT_TOLERANCE:e} relative."
        );
    } else {
        for d in &disagreements {
            println!("WARNING: {d}");
        }
    }
    println!("Load average (1, 5, 15 minutes) before the robust cases: {load_before}; after: {load_after}.");
}

fn cpu_cell(cpu: Option<f64>) -> String {
    cpu.map_or("—".into(), |c| format!("{c:.2}"))
}

/// How an extensive form ended, in words.
fn extensive_outcome(e: &Extensive, limit_seconds: f64, limit_gib: f64) -> String {
    match &e.end {
        ExtensiveEnd::Solved(r) => format!("R {r:.2} in {:.2} s", e.whole.seconds),
        ExtensiveEnd::SizeOnly => "built, not solved".into(),
        ExtensiveEnd::TimedOut => match e.built {
            Some(_) => format!("not solved in {limit_seconds} s (stopped)"),
            None => format!("not built in {limit_seconds} s (stopped)"),
        },
        ExtensiveEnd::OutOfMemory => match e.built {
            Some(_) => format!("out of memory in the solve ({limit_gib} GiB)"),
            None => format!("out of memory building the LP ({limit_gib} GiB)"),
        },
        ExtensiveEnd::Failed(message) => {
            let address = e.peak_address_bytes.map_or(String::new(), |b| {
                format!(
                    " (address space at most {:.1} GiB of the {limit_gib} GiB limit)",
                    b as f64 / (1u64 << 30) as f64
                )
            });
            format!("failed: {}{address}", message.replace('|', "/"))
        }
    }
}
