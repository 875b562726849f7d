//! CLI stage: clap argument parsing and the subcommands, which only compose pipeline stages.

mod chart;
mod compare;
mod progress;
mod resilience;
mod robust;
mod run;
mod sweep;
mod validate;

use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use clap::{CommandFactory, Parser, Subcommand, ValueEnum};

use crate::error::{Diagnostic, Error, Location, Result};
use crate::load::flags::{Flag, Flags};
use crate::load::whatif_syntax::Kind;

/// The "path" of errors writing standard output.
const STDOUT: &str = "<stdout>";

const ABOUT: &str =
    "Plan AI inference capacity across clouds: how much to reserve from which provider, \
how to spread the load, at least cost, with what-ifs and resilience.";

const QUICK_START: &str = "Quick start:\n  capplan validate scenarios/frontier-2026   check a scenario folder\n  capplan run scenarios/frontier-2026        solve it; report, CSV/JSON and charts in output/frontier-2026/\n  capplan run scenarios/aws-delay            a what-if that extends frontier-2026\n\nThe scenario format: docs/scenario-format.md";

#[derive(Parser, Debug)]
#[command(name = "capplan", version, about = ABOUT, propagate_version = true, after_help = QUICK_START)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Check a scenario folder and print a short summary of it (errors name file, line and column).
    #[command(
        after_help = "Examples:\n  capplan validate scenarios/frontier-2026\n  capplan validate scenarios/aws-delay --format json"
    )]
    Validate(ValidateArgs),
    /// Solve a scenario: reservations, allocation across clouds, cost and shortfalls, with charts.
    #[command(
        after_help = "Examples:\n  capplan run scenarios/frontier-2026\n  capplan run scenarios/aws-delay --out /tmp/aws-delay --timings\n  capplan run scenarios/quickstart --format json --no-charts\n  capplan run scenarios/aws-delay --reservations-from output/frontier-2026   the signed plan, AWS late\n  capplan run scenarios/frontier-2026 --demand-scale 1.3 --delay aws=90d"
    )]
    Run(RunArgs),
    /// Compare scenarios side by side against the first (the baseline): re-planned, or held to
    /// the baseline's signed reservations; tables (text, CSV, JSON, Markdown, xlsx) and charts.
    #[command(
        after_help = "Examples:\n  capplan compare scenarios/frontier-2026 scenarios/aws-delay scenarios/demand-surge\n  capplan compare scenarios/frontier-2026 --twin '--demand-scale 1.3' --twin '--delay aws=90d --price gcp=0.8'\n  capplan compare scenarios/frontier-2026 scenarios/aws-delay --hold-reservations\n  capplan compare output/frontier-2026 output/aws-delay   (output folders are read, not solved)"
    )]
    Compare(CompareArgs),
    /// What multi-cloud buys: every plan (multi-cloud, each single cloud, more with --plans)
    /// held to its reservations while each provider is lost; a verdict, tables and charts.
    #[command(
        after_help = "Examples:\n  capplan resilience scenarios/frontier-2026\n  capplan resilience scenarios/frontier-2026 --window 2026-07-01..2026-08-01 --on-demand-availability 0.5\n  capplan resilience scenarios/frontier-2026 --by region --lose 2 --plans all-but:aws"
    )]
    Resilience(ResilienceArgs),
    /// Sweep a scenario: a grid of what-ifs (every combination re-planned, or held to the base
    /// plan) or a risk model (random outages and demand against the base plan), in parallel;
    /// tables and charts. Runs one shard of a batch array with --shard or the engine's variables.
    #[command(
        after_help = "Examples:\n  capplan sweep scenarios/sweeps/frontier-sensitivity.toml\n  capplan sweep scenarios/sweeps/frontier-risk.toml --samples 200 --seed 7\n  capplan sweep scenarios/sweeps/frontier-risk.toml --shard 0/4 --out /shared/risk   (then capplan merge /shared/risk)\n  capplan sweep scenarios/sweeps/frontier-risk.toml --resume   (after Ctrl-C)\n\nThe sweep file format: docs/sweep.md; running on a cluster: docs/cluster.md"
    )]
    Sweep(SweepArgs),
    /// Reserve once for many futures: the reservations that minimise the expected total (or its
    /// CVaR) over the samples of a sweep file, held on every sample beside the scenario's own
    /// plan, in sample and on held-out samples.
    #[command(
        after_help = "Examples:\n  capplan robust scenarios/sweeps/frontier-risk.toml --samples 200 --holdout 200\n  capplan robust scenarios/sweeps/frontier-risk.toml --risk-weight 1 --cvar-alpha 0.9\n  capplan robust scenarios/sweeps/frontier-risk.toml --holdout 1000 --evpi --timings\n  capplan chart output/robust-frontier-risk --chart-size 800x450\n\nThe [robust] table, the outputs, EVPI and the hedge in words: docs/sweep.md (\"Robust plans\"); how it is solved: docs/solving.md"
    )]
    Robust(RobustArgs),
    /// Merge the shards of a sweep (shard-I-of-N files from `capplan sweep --shard`) into the
    /// files one machine would have written, byte for byte.
    #[command(
        after_help = "Examples:\n  capplan merge /shared/risk\n  capplan merge node-a/ node-b/ node-c/ --out output/sweep-frontier-risk"
    )]
    Merge(MergeArgs),
    /// Redraw the charts of an earlier run, sweep, robust plan or resilience matrix from its output folder, without solving again.
    #[command(
        after_help = "Examples:\n  capplan chart output/frontier-2026\n  capplan chart output/frontier-2026 --chart-size 3840x2160\n  capplan chart output/sweep-frontier-hourly-risk --chart-size 800x450\n  capplan chart output/robust-frontier-risk\n  capplan chart output/resilience-frontier-2026"
    )]
    Chart(ChartArgs),
    /// Print a shell completion script.
    #[command(
        after_help = "Examples:\n  capplan completions bash > /etc/bash_completion.d/capplan\n  capplan completions zsh > ~/.zfunc/_capplan"
    )]
    Completions {
        /// The shell to generate completions for.
        shell: clap_complete::Shell,
    },
}

#[derive(clap::Args, Debug)]
pub struct ValidateArgs {
    /// The scenario folder (demand.csv, capacity.csv, optional routes.csv, outages.csv, scenario.toml).
    pub scenario: PathBuf,
    /// Output format of the summary.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    #[command(flatten)]
    pub whatif: WhatIfArgs,
}

/// `--method`: how the planning LP is solved.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum MethodArg {
    Auto,
    Monolithic,
    Decomposed,
}

impl MethodArg {
    pub fn method(self) -> crate::model::solve::Method {
        use crate::model::solve::Method;
        match self {
            MethodArg::Auto => Method::Auto,
            MethodArg::Monolithic => Method::Monolithic,
            MethodArg::Decomposed => Method::Decomposed,
        }
    }
}

#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The scenario folder.
    pub scenario: PathBuf,
    /// Output folder [default: output/<scenario name>/].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Backend of the monolithic LP among those compiled in (highs with the `highs` feature,
    /// clarabel, microlp); giving one solves the plan as one LP (--method monolithic).
    #[arg(long)]
    pub solver: Option<String>,
    /// How to solve the plan: the whole LP at once (monolithic, with --solver), by decomposition
    /// over the reservations (exact network subproblems), or auto (the decomposition).
    #[arg(long, value_enum, default_value_t = MethodArg::Auto)]
    pub method: MethodArg,
    /// What to print on stdout: the planner's report, or summary.json.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Print load / build / solve / write seconds and the LP size on stderr.
    #[arg(long)]
    pub timings: bool,
    /// Skip the charts.
    #[arg(long)]
    pub no_charts: bool,
    /// Hold the reservations of an earlier run (its output folder) and re-dispatch them under
    /// this scenario: the reserved fractions of commitments.csv, matched by tranche name.
    #[arg(long, value_name = "OUTPUT_DIR")]
    pub reservations_from: Option<std::path::PathBuf>,
    /// Also write plan.xlsx (sheets summary, providers, commitments).
    #[arg(long)]
    pub xlsx: bool,
    /// No progress spinner on stderr.
    #[arg(long, short)]
    pub quiet: bool,
    /// With --reservations-from: the rules of a stress test (no share cap, no N-1).
    #[arg(long, requires = "reservations_from")]
    pub emergency: bool,
    /// Solve the LP relaxation: reservations in GPUs need not be whole blocks (what fractional
    /// reservations would cost; the plan itself signs whole blocks).
    #[arg(long)]
    pub relax: bool,
    /// Chart size in pixels, WIDTHxHEIGHT.
    #[arg(long, default_value = "1920x1080")]
    pub chart_size: ChartSize,
    /// Replace files of the output's names that capplan's record of the output folder does not
    /// list (a folder an earlier capplan wrote, or a file of yours).
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub whatif: WhatIfArgs,
}

/// What-ifs on the command line: one more level after the scenario's own `[whatif]`, meaning
/// what the same keys of a child scenario.toml mean. Each flag may repeat.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct WhatIfArgs {
    /// Multiply all demand by FACTOR (like [whatif] demand_scale); repeats multiply.
    #[arg(long, value_name = "FACTOR", value_parser = flag_parser(Kind::DemandScale), allow_hyphen_values = true, help_heading = WHATIFS)]
    pub demand_scale: Vec<Flag>,
    /// Keep only these providers' capacity, e.g. azure,gcp (like only_providers); repeats unite.
    #[arg(long, value_name = "PROVIDERS", value_parser = flag_parser(Kind::Only), allow_hyphen_values = true, help_heading = WHATIFS)]
    pub only: Vec<Flag>,
    /// Drop these providers' capacity, e.g. oracle (like exclude_providers); repeats unite.
    #[arg(long, value_name = "PROVIDERS", value_parser = flag_parser(Kind::Exclude), allow_hyphen_values = true, help_heading = WHATIFS)]
    pub exclude: Vec<Flag>,
    /// Capacity arrives late: aws=90d or aws/us-east=12h (units h, d, w), like [[whatif.delay]].
    #[arg(long, value_name = "PROVIDER[/REGION]=DURATION", value_parser = flag_parser(Kind::Delay), allow_hyphen_values = true, help_heading = WHATIFS)]
    pub delay: Vec<Flag>,
    /// Multiply usage and commit prices: gcp=0.8 or gcp/eu=0.8, like [[whatif.price]].
    #[arg(long, value_name = "PROVIDER[/REGION]=FACTOR", value_parser = flag_parser(Kind::Price), allow_hyphen_values = true, help_heading = WHATIFS)]
    pub price: Vec<Flag>,
    /// Add an outage: azure@2026-07-06T12:00Z..2026-07-13=0.2 (capacity factor 0 when left out).
    #[arg(long, value_name = "PROVIDER[/REGION]@START..END[=FACTOR]", value_parser = flag_parser(Kind::Outage), allow_hyphen_values = true, help_heading = WHATIFS)]
    pub outage: Vec<Flag>,
    /// A workload's tokens may wait: batch=24h (units m, h, d, w; 0 = none), like [[whatif.max_delay]].
    #[arg(long, value_name = "WORKLOAD=DURATION", value_parser = flag_parser(Kind::MaxDelay), allow_hyphen_values = true, help_heading = WHATIFS)]
    pub max_delay: Vec<Flag>,
    /// Set a policy knob: policy.max_provider_share=0.6, as a child's [policy] key would.
    #[arg(long, value_name = "policy.KEY=VALUE", value_parser = flag_parser(Kind::Set), allow_hyphen_values = true, help_heading = WHATIFS)]
    pub set: Vec<Flag>,
}

const WHATIFS: &str = "What-ifs (one more level after the scenario's [whatif])";

/// clap's value parser of a what-if flag: the value read once by the one what-if syntax. A value
/// that does not read is kept with its message, so every bad flag is reported at once, named as
/// written, after clap has read the whole command line.
fn flag_parser(
    kind: Kind,
) -> impl Fn(&str) -> std::result::Result<Flag, std::convert::Infallible> + Clone + Send + Sync {
    move |value| Ok(Flag::read(kind, value))
}

impl WhatIfArgs {
    /// The flags in canonical order, each in the order given.
    pub fn flags(&self) -> Flags {
        [
            &self.demand_scale,
            &self.only,
            &self.exclude,
            &self.delay,
            &self.price,
            &self.outage,
            &self.max_delay,
            &self.set,
        ]
        .into_iter()
        .flatten()
        .cloned()
        .collect()
    }
}

/// A `--twin` value: only what-if flags.
#[derive(Parser, Debug)]
#[command(
    name = "--twin",
    no_binary_name = true,
    disable_help_flag = true,
    disable_version_flag = true
)]
struct TwinArgs {
    #[command(flatten)]
    whatif: WhatIfArgs,
}

/// Parses a `--twin` value: shell-word splitting, then clap on a parser that accepts only the
/// what-if flags (no positional arguments, no other flags), then the flags' own checks. Errors
/// name the --twin value. Values may start with `-`.
pub fn parse_twin(text: &str) -> Result<Flags> {
    let at = || Location::flag("--twin", &shell_words::quote(text));
    let words = shell_words::split(text)
        .map_err(|e| Error::input(at(), format!("expected shell words, {e}")))?;
    if words.is_empty() {
        return Err(Error::input(
            at(),
            "expected what-if flags such as --demand-scale 1.3 --delay aws=90d, found nothing",
        ));
    }
    let args = TwinArgs::try_parse_from(&words).map_err(|e| {
        let rendered = e.render().to_string();
        let first = rendered.lines().next().unwrap_or("").trim();
        let first = first.strip_prefix("error: ").unwrap_or(first);
        Error::input(
            at(),
            format!("{first}; expected only the what-if flags --demand-scale, --only, --exclude, --delay, --price, --outage, --max-delay and --set"),
        )
    })?;
    let flags = args.whatif.flags();
    if let Err(Error::Input(diagnostics)) = flags.level() {
        return Err(Error::Input(
            diagnostics
                .into_iter()
                .map(|d| Diagnostic::new(at(), d.to_string()))
                .collect(),
        ));
    }
    Ok(flags)
}

/// How the commands that write tables and charts report: stdout's format, the charts, the
/// progress bar. One definition, so `compare`, `resilience` and `sweep` take the same flags.
#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// What to print on stdout: the tables in words, or the command's JSON file.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Skip the charts.
    #[arg(long)]
    pub no_charts: bool,
    /// Chart size in pixels, WIDTHxHEIGHT.
    #[arg(long, default_value = "1920x1080")]
    pub chart_size: ChartSize,
    /// No progress bar.
    #[arg(long, short)]
    pub quiet: bool,
    /// Replace files of the output's names that capplan's record of the output folder does not
    /// list (a folder an earlier capplan wrote, or a file of yours).
    #[arg(long)]
    pub force: bool,
}

#[derive(clap::Args, Debug)]
pub struct CompareArgs {
    /// Scenario folders (solved) or output folders of earlier runs (read); the first is the baseline.
    #[arg(required = true, value_name = "FOLDER")]
    pub inputs: Vec<PathBuf>,
    /// One more column: the baseline with these what-if flags, e.g. --twin '--demand-scale 1.3'
    /// (repeatable; the value may start with `-`).
    #[arg(long, allow_hyphen_values = true, value_name = "FLAGS")]
    pub twin: Vec<String>,
    /// Evaluate every later scenario and twin as a held dispatch of the baseline's plan, and
    /// report the regret: extra spend and extra unserved tokens (held minus re-planned).
    #[arg(long)]
    pub hold_reservations: bool,
    /// Output folder [default: output/compare-<names>/].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// LP solver among those compiled in.
    #[arg(long)]
    pub solver: Option<String>,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(clap::Args, Debug)]
pub struct ResilienceArgs {
    /// The scenario folder.
    pub scenario: PathBuf,
    /// Output folder [default: output/resilience-<scenario name>/].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// More plans besides multi-cloud and every single:<provider>: all-but:<provider>, a scenario
    /// folder (planned under its own scenario) or a run's output folder (held under this one);
    /// comma-separated or repeated.
    #[arg(long, value_name = "PLANS")]
    pub plans: Vec<String>,
    /// Lose capacity only in START..END (prorated like any outage) [default: the whole horizon].
    #[arg(long, value_name = "START..END")]
    pub window: Option<String>,
    /// What one loss is: a provider, or a provider in one region (written aws/us-east).
    #[arg(long, value_enum, default_value_t = LossUnit::Provider)]
    pub by: LossUnit,
    /// Lose one provider at a time, or also every pair (written aws+gcp).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u8).range(1..=2))]
    pub lose: u8,
    /// Fraction of every surviving provider's on-demand capacity still there during a loss
    /// (everyone else rushes to the same pools).
    #[arg(long, default_value_t = 1.0, value_name = "F")]
    pub on_demand_availability: f64,
    /// LP solver among those compiled in.
    #[arg(long)]
    pub solver: Option<String>,
    #[command(flatten)]
    pub whatif: WhatIfArgs,
    #[command(flatten)]
    pub report: ReportArgs,
}

/// What one loss of `capplan resilience` is.
#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum LossUnit {
    Provider,
    Region,
}

#[derive(clap::Args, Debug)]
pub struct SweepArgs {
    /// The sweep file (TOML): the scenario it sweeps and a [grid] or a [risk] table.
    pub file: PathBuf,
    /// Output folder [default: output/sweep-<sweep name>/].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// LP solver among those compiled in (overrides the file's `solver`).
    #[arg(long)]
    pub solver: Option<String>,
    /// Risk: number of samples (overrides [risk] samples).
    #[arg(long)]
    pub samples: Option<u64>,
    /// Risk: the seed (overrides [risk] seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Run only shard I of N (0-based): the ids congruent to I mod N; writes shard-I-of-N files.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<String>,
    /// The number of shards, when a batch engine's variable gives the index
    /// (JOB_COMPLETION_INDEX, SLURM_ARRAY_TASK_ID, AWS_BATCH_JOB_ARRAY_INDEX).
    #[arg(long, value_name = "N")]
    pub shard_count: Option<u64>,
    /// Take the shard from a Slurm array of 0-(N-1) alone (index and count). Without this,
    /// --shard or --shard-count, an engine's variables never make a sweep a shard.
    #[arg(long)]
    pub shard_from_env: bool,
    /// Continue from the checkpoint an interrupted sweep left (sweep.partial.csv).
    #[arg(long)]
    pub resume: bool,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(clap::Args, Debug)]
pub struct RobustArgs {
    /// The sweep file (TOML): the scenario, a [grid] or a [risk] table, and [robust].
    pub file: PathBuf,
    /// Output folder [default: output/robust-<sweep name>/]; the robust plan is its plan/ folder.
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// LP solver among those compiled in (overrides the file's `solver`).
    #[arg(long)]
    pub solver: Option<String>,
    /// Risk: planning samples (overrides [risk] samples).
    #[arg(long)]
    pub samples: Option<u64>,
    /// Risk: the seed (overrides [risk] seed).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Risk: samples after the planning ones that only judge the plans (overrides [robust] holdout).
    #[arg(long)]
    pub holdout: Option<u64>,
    /// W in [0, 1]: 0 minimises the mean total, 1 its CVaR (overrides [robust] risk_weight).
    #[arg(long)]
    pub risk_weight: Option<f64>,
    /// α in [0, 1): CVaR is the mean of the worst (1 − α) share (overrides [robust] cvar_alpha).
    #[arg(long)]
    pub cvar_alpha: Option<f64>,
    /// Re-plan every planning sample on its own and report the EVPI (one more search per
    /// sample; also [robust] evpi = true).
    #[arg(long)]
    pub evpi: bool,
    /// Not for robust: the search is one master over every planning sample (refused, saying
    /// what to do instead).
    #[arg(long, value_name = "I/N", hide = true)]
    pub shard: Option<String>,
    /// Not for robust (see --shard).
    #[arg(long, value_name = "N", hide = true)]
    pub shard_count: Option<u64>,
    /// Print each stage's seconds and how the robust search went (iterations, cuts, master and
    /// evaluation seconds) on stderr.
    #[arg(long)]
    pub timings: bool,
    #[command(flatten)]
    pub report: ReportArgs,
}

#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// Folders holding shard-I-of-N.csv and .json files (every shard of one sweep).
    #[arg(required = true, value_name = "SHARD_DIR")]
    pub shards: Vec<PathBuf>,
    /// Output folder [default: the first shard folder].
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// What to print on stdout: the summary, or sweep.json.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Skip the charts.
    #[arg(long)]
    pub no_charts: bool,
    /// Chart size in pixels, WIDTHxHEIGHT.
    #[arg(long, default_value = "1920x1080")]
    pub chart_size: ChartSize,
    /// Replace files of the output's names that capplan's record of the output folder does not
    /// list (a folder an earlier capplan wrote, or a file of yours).
    #[arg(long)]
    pub force: bool,
}

#[derive(clap::Args, Debug)]
pub struct ChartArgs {
    /// The output folder of an earlier `capplan run`, `capplan sweep` (or `merge`), `capplan robust`
    /// or `capplan resilience`.
    pub output: PathBuf,
    /// Chart size in pixels, WIDTHxHEIGHT.
    #[arg(long, default_value = "1920x1080")]
    pub chart_size: ChartSize,
    /// Replace chart files that capplan's record of the folder does not list (a folder an
    /// earlier capplan wrote, or a file of yours).
    #[arg(long)]
    pub force: bool,
}

/// `WIDTHxHEIGHT` in pixels.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ChartSize {
    pub width: u32,
    pub height: u32,
}

impl ChartSize {
    pub fn options(self) -> crate::chart::ChartOptions {
        crate::chart::ChartOptions {
            width: self.width,
            height: self.height,
        }
    }
}

impl std::str::FromStr for ChartSize {
    type Err = String;
    fn from_str(s: &str) -> std::result::Result<Self, String> {
        let (w, h) = s
            .split_once(['x', 'X'])
            .ok_or_else(|| format!("expected WIDTHxHEIGHT such as 1920x1080, found '{s}'"))?;
        // The chart layer's own bounds, checked here so a bad size fails before any solve.
        let (min, max) = (crate::chart::MIN_SIDE_PX, crate::chart::MAX_SIDE_PX);
        let parse = |v: &str| {
            v.trim()
                .parse::<u32>()
                .ok()
                .filter(|n| (min..=max).contains(n))
        };
        match (parse(w), parse(h)) {
            (Some(width), Some(height)) => Ok(ChartSize { width, height }),
            _ => Err(format!(
                "expected WIDTHxHEIGHT with each side {min} to {max} pixels (e.g. 800x450 for a small slide), found '{s}'"
            )),
        }
    }
}

#[derive(Copy, Clone, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Runs the command line; returns the process exit code. Errors are rendered here, once.
pub fn main() -> i32 {
    let cli = Cli::parse();
    let format = cli.command.error_format();
    match dispatch(cli) {
        Ok(()) => 0,
        // A reader that closed stdout (`capplan completions fish | head -1`) wanted no more.
        Err(Error::Io { path, source })
            if path == Path::new(STDOUT) && source.kind() == ErrorKind::BrokenPipe =>
        {
            0
        }
        Err(e) => {
            eprintln!("{e}");
            if format == Format::Json {
                // A reader that closed stdout gets the text on stderr alone.
                let _ = print(crate::error::json_errors(&e));
            }
            e.exit_code()
        }
    }
}

impl Command {
    /// How an error of this command is rendered besides the text on stderr: with `--format json`,
    /// every command that has the flag also prints it as JSON on stdout.
    fn error_format(&self) -> Format {
        match self {
            Command::Validate(a) => a.format,
            Command::Run(a) => a.format,
            Command::Compare(a) => a.report.format,
            Command::Resilience(a) => a.report.format,
            Command::Sweep(a) => a.report.format,
            Command::Merge(a) => a.format,
            Command::Robust(a) => a.report.format,
            Command::Chart(_) | Command::Completions { .. } => Format::Text,
        }
    }
}

/// Prints warnings on stderr, each once, in the order found: the one way every command's warnings
/// reach the user (`run --format json` also carries them in its JSON; `validate` in its summary).
pub(crate) fn warn(warnings: &[Diagnostic]) {
    let mut said: Vec<&Diagnostic> = Vec::new();
    for w in warnings {
        if !said.contains(&w) {
            eprintln!("warning: {w}");
            said.push(w);
        }
    }
}

/// Rendered charts as files of a product.
fn chart_files(charts: Vec<crate::chart::RenderedChart>) -> Vec<crate::output::OutputFile> {
    charts
        .into_iter()
        .map(|c| crate::output::OutputFile::new(c.file_name, c.bytes))
        .collect()
}

/// The file names of charts (each drawn as `.png` and `.svg`), for a product's manifest.
fn chart_names<'a>(stems: &'a [&'a str]) -> impl Iterator<Item = String> + 'a {
    stems
        .iter()
        .flat_map(|stem| [format!("{stem}.png"), format!("{stem}.svg")])
}

/// The folders a scenario is read from (its own, then those it `extends`), as inputs its output
/// folder must keep clear of; `what` names the first (`scenario folder`).
fn scenario_inputs(folder: &Path, what: &str) -> Vec<crate::output::Input> {
    crate::load::chain(folder)
        .into_iter()
        .enumerate()
        .map(|(i, f)| match i {
            0 => crate::output::Input::new(f, what),
            _ => crate::output::Input::extended(f, folder),
        })
        .collect()
}

/// How a whole-folder command holds its output folder.
/// The inputs a command reading a sweep file never writes: the scenario folder with its extends
/// parents, and the sweep file's folder (an output folder may lie inside it, beside the file).
fn sweep_inputs(file: &std::path::Path, scenario: &std::path::Path) -> Vec<crate::output::Input> {
    let mut inputs = scenario_inputs(scenario, "scenario folder");
    let file_folder = match file.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    inputs.push(crate::output::Input::file_folder(
        file_folder,
        "sweep file's folder",
    ));
    inputs
}

fn claim(force: bool) -> crate::output::Claim {
    crate::output::Claim {
        force,
        shared: false,
    }
}

/// The `--solver` of a command: the one named, or the default backend of this build.
fn solver(name: Option<&str>) -> Result<crate::model::solve::SolverKind> {
    use crate::model::solve::SolverKind;
    name.map_or(Ok(SolverKind::default_kind()), SolverKind::parse)
}

/// Writes `text` to stdout. Unlike `print!`, which panics when stdout is closed, a failed write
/// comes back as an error, and `main` ends a broken pipe quietly.
/// Control characters in names (a terminal escape sequence in a provider name) are shown as
/// `\u{1b}`, never sent to act on the terminal.
pub(crate) fn print(text: impl AsRef<[u8]>) -> Result<()> {
    let text = String::from_utf8_lossy(text.as_ref());
    let text = crate::error::printable_text(&text);
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Error::io(STDOUT, e))
}

fn dispatch(cli: Cli) -> Result<()> {
    match cli.command {
        Command::Validate(args) => validate::execute(&args),
        Command::Run(args) => run::execute(&args),
        Command::Chart(args) => chart::execute(&args),
        Command::Compare(args) => compare::execute(&args),
        Command::Resilience(args) => resilience::execute(&args),
        Command::Sweep(args) => sweep::execute(&args),
        Command::Merge(args) => sweep::merge(&args),
        Command::Robust(args) => robust::execute(&args),
        Command::Completions { shell } => {
            // clap_complete panics when its writer fails, so it writes into memory first.
            let mut script = Vec::new();
            clap_complete::generate(shell, &mut Cli::command(), "capplan", &mut script);
            print(script)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn twin_takes_only_what_if_flags() {
        let f = parse_twin("--delay aws=90d --demand-scale 1.3 --only 'a,b'").unwrap();
        assert_eq!(f.label(), "--demand-scale 1.3 --only a,b --delay aws=90d");
        let f = parse_twin("--demand-scale -1");
        assert_eq!(
            f.unwrap_err().to_string(),
            "error: --twin '--demand-scale -1': --demand-scale -1: expected a non-negative number, found '-1'"
        );
        for bad in [
            "scenarios/x",
            "--out /tmp/x",
            "--help",
            "",
            "--delay 'aws=9",
        ] {
            let e = parse_twin(bad).unwrap_err();
            assert_eq!(e.exit_code(), 2, "{bad}: {e}");
            let e = e.to_string();
            assert!(e.starts_with("error: --twin "), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
    }
}
