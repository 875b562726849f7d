//! Capacity in GPUs planned end to end (spec v3, issue 20): the translation of GPUs and prices per
//! GPU-hour, a throughput.csv look-up, whole blocks against the LP relaxation (`--relax`), the
//! model filter and blocks under N-1. Each test writes a tiny scenario folder, runs the binary
//! as a planner would, and reads `summary.json` and `commitments.csv` back; every expected number
//! is worked by hand in the comments.
//!
//! Every folder is one period of one hour (2026-01-01T00:00 to 01:00), so a rate of R tokens per
//! minute is R × 60 tokens, and a reservation's commitment is its $ per hour × 1 h.
//! The folders with blocks are also handed to `cross_solver.rs` (`block_scenarios`), which checks
//! the same optima against an independent mixed-integer solve.

use std::collections::HashMap;
use std::path::Path;

use crate::common::{capplan, rel, Folder};

/// One hour.
const ONE_HOUR: &str = "horizon_end = \"2026-01-01T01:00\"\n";

/// A plan as a run writes it: summary.json, and commitments.csv by tranche.
struct Run {
    summary: serde_json::Value,
    commitments: HashMap<String, HashMap<String, String>>,
    allocation: Vec<HashMap<String, String>>,
}

impl Run {
    fn num(&self, key: &str) -> f64 {
        self.summary[key]
            .as_f64()
            .unwrap_or_else(|| panic!("summary.json has no number '{key}'"))
    }

    /// A number of a tranche's commitments.csv row.
    fn commitment(&self, tranche: &str, column: &str) -> f64 {
        let row = self
            .commitments
            .get(tranche)
            .unwrap_or_else(|| panic!("no commitments.csv row for {tranche}"));
        row[column]
            .parse()
            .unwrap_or_else(|_| panic!("{tranche} {column} = {}", row[column]))
    }

    /// Tokens per minute served to `workload` by `tranche` (allocation.csv, summed).
    fn served_tpm(&self, tranche: &str, workload: &str) -> f64 {
        self.allocation
            .iter()
            .filter(|r| r["tranche"] == tranche && r["workload"] == workload)
            .map(|r| r["tokens_per_minute"].parse::<f64>().unwrap())
            .sum()
    }
}

fn read_csv(path: &Path) -> Vec<HashMap<String, String>> {
    let mut r = csv::Reader::from_path(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let headers = r.headers().unwrap().clone();
    r.records()
        .map(|row| {
            headers
                .iter()
                .zip(row.unwrap().iter())
                .map(|(h, v)| (h.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

/// `capplan run <folder> --no-charts [args]` into a fresh output folder: the temp folder that
/// holds it, the output folder and stdout (the run must succeed).
fn run_into(folder: &Folder, args: &[&str]) -> (tempfile::TempDir, std::path::PathBuf, String) {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("run");
    let mut all = vec![
        "run",
        folder.path().to_str().unwrap(),
        "--out",
        dir.to_str().unwrap(),
        "--no-charts",
    ];
    all.extend(args);
    let (code, stdout, stderr) = capplan(&all);
    assert_eq!(code, 0, "stdout:\n{stdout}\nstderr:\n{stderr}");
    (out, dir, stdout)
}

/// `capplan run <folder> [args]` into a fresh output folder; the files it writes, read back.
fn run(folder: &Folder, args: &[&str]) -> Run {
    let (_out, dir, _) = run_into(folder, args);
    let summary =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    let commitments = read_csv(&dir.join("commitments.csv"))
        .into_iter()
        .map(|r| (r["tranche"].clone(), r))
        .collect();
    let allocation = read_csv(&dir.join("allocation.csv"));
    Run {
        summary,
        commitments,
        allocation,
    }
}

/// `got` equals the hand-worked `want` up to rounding in the written files.
#[track_caller]
fn assert_near(got: f64, want: f64, what: &str) {
    assert!(
        rel(got, want) < 1e-9,
        "{what}: got {got}, worked by hand {want}"
    );
}

/// The gap and relaxation the plan carries with whole blocks (the library's view of the same run).
fn whole_blocks(folder: &Folder) -> capplan::plan::WholeBlocks {
    let solver = capplan::model::solve::SolverKind::default_kind();
    capplan::pipeline::run(folder.path(), solver)
        .unwrap_or_else(|e| panic!("{e}"))
        .plan
        .whole_blocks
        .expect("a plan with whole blocks says what the relaxation costs")
}

// ---------------------------------------------------------------------------------------------
// The folders (shared with cross_solver.rs)

/// Translation: a reserved tranche and an on-demand one, both in GPUs with prices per GPU-hour.
pub fn translation() -> Folder {
    Folder::new()
        .file("demand.csv", "period,tokens_per_minute\n2026-01-01,1.2M\n")
        .file(
            "capacity.csv",
            "provider,tranche,gpu,gpus,tokens_per_second_per_gpu,commit_cost_per_gpu_hour,cost_per_gpu_hour,block_gpus\n\
             aws,reserved,H100,16,1000,2.00,0.36,8\n\
             lambda,on-demand,H100,8,1000,,3.60,\n",
        )
        .file("scenario.toml", ONE_HOUR)
}

/// A throughput.csv look-up by (model, gpu), with rows of the other GPU and the other model
/// beside it.
pub fn looked_up() -> Folder {
    Folder::new()
        .file(
            "demand.csv",
            "period,workload,tokens_per_minute\n2026-01-01,chat,600K\n",
        )
        .file("workloads.csv", "workload,model\nchat,llama-70b\n")
        .file(
            "throughput.csv",
            "model,gpu,tokens_per_second_per_gpu\n\
             llama-70b,H100,900\n\
             llama-70b,H200,1500\n\
             llama-8b,H200,9000\n",
        )
        .file(
            "capacity.csv",
            "provider,tranche,gpu,gpus,model,cost_per_gpu_hour\n\
             nebius,h200-on-demand,H200,8,llama-70b,5.40\n",
        )
        .file("scenario.toml", ONE_HOUR)
}

/// One reserve in 16-GPU blocks and nothing else (`on_demand` false), or with an on-demand
/// tranche beside it.
pub fn blocks(on_demand: bool) -> Folder {
    let mut capacity = "provider,tranche,gpu,gpus,tokens_per_second_per_gpu,commit_cost_per_gpu_hour,cost_per_gpu_hour,block_gpus\n\
                        aws,reserved,H100,64,1000,1.00,,16\n"
        .to_string();
    if on_demand {
        capacity.push_str("lambda,on-demand,H100,64,1000,,3.60,\n");
    }
    Folder::new()
        .file("demand.csv", "period,tokens_per_minute\n2026-01-01,1M\n")
        .file("capacity.csv", &capacity)
        .file("scenario.toml", ONE_HOUR)
}

/// Two models: a reserve of model big beside on-demand capacity without a model.
pub fn model_filter() -> Folder {
    Folder::new()
        .file(
            "demand.csv",
            "period,workload,tokens_per_minute\n2026-01-01,chat,480K\n2026-01-01,batch,300K\n",
        )
        .file("workloads.csv", "workload,model\nchat,big\nbatch,small\n")
        .file(
            "capacity.csv",
            "provider,tranche,gpu,gpus,model,tokens_per_second_per_gpu,commit_cost_per_gpu_hour,cost_per_gpu_hour\n\
             aws,big-reserved,H100,16,big,1000,1.00,\n\
             lambda,any-on-demand,H100,16,,1000,,3.60\n",
        )
        .file("scenario.toml", ONE_HOUR)
}

/// Two providers' reserves in 16-GPU blocks under N-1 at `coverage`.
pub fn n_minus_one(coverage: f64) -> Folder {
    Folder::new()
        .file("demand.csv", "period,tokens_per_minute\n2026-01-01,960K\n")
        .file(
            "capacity.csv",
            "provider,tranche,gpu,gpus,tokens_per_second_per_gpu,commit_cost_per_gpu_hour,cost_per_million_tokens,block_gpus\n\
             a,a-reserved,H100,32,1000,1.00,,16\n\
             b,b-reserved,H100,32,1000,2.00,0.10,16\n",
        )
        .file(
            "scenario.toml",
            &format!(
                "{ONE_HOUR}[policy]\nsurvive_provider_loss = true\nloss_coverage = {coverage}\n"
            ),
        )
}

/// Every folder above whose plan has whole blocks, by name (for the cross-solver check).
pub fn block_scenarios() -> Vec<(&'static str, Folder)> {
    vec![
        ("translation", translation()),
        ("blocks without on-demand", blocks(false)),
        ("blocks with on-demand", blocks(true)),
        ("model filter", model_filter()),
        ("N-1 at 100%", n_minus_one(1.0)),
        ("N-1 at 50%", n_minus_one(0.5)),
    ]
}

// ---------------------------------------------------------------------------------------------
// The tests

#[test]
fn gpus_and_prices_per_gpu_hour_are_planned_as_tokens_and_dollars() {
    // reserved: 16 H100 × 1,000 tokens/s × 60 = 960,000 tokens/min;
    //   commitment 16 × $2.00 = $32 per hour; usage $0.36 per GPU-hour over 1,000 × 3,600 =
    //   3.6M tokens per GPU-hour = $0.10/M; at full use (32 + 57.6 × 0.10) / 57.6M = $0.6556/M.
    // on-demand: 8 × 1,000 × 60 = 480,000 tokens/min at $3.60 / 3.6M = $1.00/M.
    // Demand 1.2M tokens/min: the reserve is cheaper per token, so all of it (2 blocks of 8):
    //   960,000 × 60 = 57.6M tokens, commit $32, usage 57.6 × $0.10 = $5.76;
    //   the other 240,000 tokens/min on demand: 14.4M tokens × $1.00 = $14.40.
    // Objective = cost = 32 + 5.76 + 14.40 = $52.16.
    let r = run(&translation(), &[]);
    assert_near(
        r.commitment("reserved", "capacity_tpm"),
        960_000.0,
        "capacity",
    );
    assert_near(
        r.commitment("reserved", "reserved_fraction"),
        1.0,
        "reserved",
    );
    assert_near(r.commitment("reserved", "commit_cost"), 32.0, "commitment");
    assert_near(
        r.commitment("on-demand", "capacity_tpm"),
        480_000.0,
        "capacity",
    );
    assert_near(r.num("commit_cost"), 32.0, "commit_cost");
    assert_near(r.num("usage_cost"), 5.76 + 14.40, "usage_cost");
    assert_near(r.num("objective"), 52.16, "objective");
    assert_near(r.num("cost"), 52.16, "cost");
    assert_near(r.num("served_tokens"), 72e6, "served tokens");
    assert_near(r.served_tpm("on-demand", "default"), 240_000.0, "on demand");
}

#[test]
fn throughput_is_looked_up_by_model_and_gpu() {
    // (llama-70b, H200) is line 3 of throughput.csv: 1,500 tokens/s per GPU, not H100's 900 nor
    // llama-8b's 9,000. 8 × 1,500 × 60 = 720,000 tokens/min; $5.40 per GPU-hour over
    // 1,500 × 3,600 = 5.4M tokens per GPU-hour = $1.00/M. Demand 600,000 tokens/min for an hour
    // = 36M tokens, all on this tranche: $36.00.
    let f = looked_up();
    let r = run(&f, &[]);
    assert_near(
        r.commitment("h200-on-demand", "capacity_tpm"),
        720_000.0,
        "capacity",
    );
    assert_near(r.num("usage_cost"), 36.0, "usage_cost");
    assert_near(r.num("objective"), 36.0, "objective");
    assert_near(r.num("unserved_tokens"), 0.0, "unserved");
    let (code, stdout, stderr) = capplan(&["validate", f.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("8 × H200 at 1.5K tokens/s per GPU (throughput.csv:3) = 720.0K tokens/min"),
        "{stdout}"
    );
}

#[test]
fn a_block_rounds_the_reservation_up_and_relax_gives_the_fraction() {
    // One reserve: 64 H100 × 1,000 tokens/s × 60 = 3.84M tokens/min for $1.00 × 64 = $64 per
    // hour, in blocks of 16 GPUs (960,000 tokens/min, $16 per hour each). Nothing else serves,
    // and a token left unserved costs the default $10,000/M.
    // Demand 1M tokens/min.
    // Relaxation: z = 1,000,000 / 3,840,000 = 0.260416…, 16.67 GPUs, $64 × z = $16.6667.
    // Whole blocks: 16.67 GPUs is 1.04 blocks; one block leaves 40,000 tokens/min (2.4M tokens)
    // unserved at $10,000/M = $24,000, so 2 blocks: 32 GPUs, z = 0.5, $32.00, all served.
    let f = blocks(false);
    let r = run(&f, &[]);
    assert_near(r.commitment("reserved", "reserved_fraction"), 0.5, "z");
    assert_near(r.commitment("reserved", "reserved_tpm"), 1_920_000.0, "tpm");
    assert_near(r.num("objective"), 32.0, "objective");
    assert_near(r.num("unserved_tokens"), 0.0, "unserved");
    let relaxed = run(&f, &["--relax"]);
    assert_near(
        relaxed.commitment("reserved", "reserved_fraction"),
        1.0 / 3.84,
        "z relaxed",
    );
    assert_near(relaxed.num("objective"), 64.0 / 3.84, "relaxed objective");
    // The plan says what the relaxation costs and that the search closed its gap.
    let wb = whole_blocks(&f);
    assert_near(wb.relaxation_objective, 64.0 / 3.84, "relaxation_objective");
    assert!(wb.mip_gap <= 1e-9, "gap {}", wb.mip_gap);
}

#[test]
fn with_on_demand_beside_it_a_block_is_rounded_down_instead() {
    // The reserve of the test above, with 64 H100 on demand at $3.60 / 3.6M tokens = $1.00/M.
    // The reserve costs $64 / (3.84M × 60 / 1e6) = $0.2778/M at full use, so the relaxation
    // still reserves exactly the demand: $16.6667.
    // Whole blocks: 1 block (960,000 tokens/min, $16) + 40,000 tokens/min on demand (2.4M tokens,
    // $2.40) = $18.40, against 2 blocks at $32: the plan rounds down. Rounding the relaxation up
    // would cost $13.60 more.
    let f = blocks(true);
    let r = run(&f, &[]);
    assert_near(r.commitment("reserved", "reserved_fraction"), 0.25, "z");
    assert_near(r.num("commit_cost"), 16.0, "commitment");
    assert_near(r.num("usage_cost"), 2.40, "usage");
    assert_near(r.num("objective"), 18.40, "objective");
    assert_near(r.served_tpm("on-demand", "default"), 40_000.0, "on demand");
    let relaxed = run(&f, &["--relax"]);
    assert_near(relaxed.num("objective"), 64.0 / 3.84, "relaxed objective");
    assert_near(relaxed.num("usage_cost"), 0.0, "relaxed usage");
}

#[test]
fn the_model_filter_leaves_a_workload_on_demand() {
    // chat runs on model big, batch on model small. The reserve serves big only: 16 H100 ×
    // 1,000 × 60 = 960,000 tokens/min at $1.00 per GPU-hour ($0.2778/M at full use), whole GPUs
    // (block_gpus blank = 1). The on-demand tranche has no model, so it serves both, at
    // $3.60 / 3.6M = $1.00/M.
    // chat 480,000 tokens/min = exactly 8 GPUs of the reserve: z = 0.5, $8.
    // batch 300,000 tokens/min may not use the reserve, though 8 of its GPUs sit idle: on demand,
    // 18M tokens × $1.00 = $18.00. Objective = 8 + 18 = $26.00.
    // (Without the filter batch would take 5 more reserved GPUs: $13 in all.)
    let r = run(&model_filter(), &[]);
    assert_near(
        r.commitment("big-reserved", "reserved_fraction"),
        0.5,
        "z of the reserve",
    );
    assert_near(r.served_tpm("big-reserved", "chat"), 480_000.0, "chat");
    assert_eq!(r.served_tpm("big-reserved", "batch"), 0.0, "batch on big");
    assert_near(r.served_tpm("any-on-demand", "batch"), 300_000.0, "batch");
    assert_near(r.num("commit_cost"), 8.0, "commitment");
    assert_near(r.num("usage_cost"), 18.0, "usage");
    assert_near(r.num("objective"), 26.0, "objective");
}

#[test]
fn blocks_under_n_minus_one_reserve_a_whole_block_at_the_second_provider() {
    // a: 32 H100 at $1.00 per GPU-hour ($32 an hour for all of it), b: 32 H100 at $2.00 ($64)
    // and $0.10/M usage; both 1.92M tokens/min, in 2 blocks of 16 GPUs (960,000 tokens/min; $16
    // an hour at a, $32 at b). Demand 960,000 tokens/min.
    // N-1 at 100%: losing a, b's reserve must carry all 960,000 tokens/min; losing b, a's must.
    //   So z(a) = z(b) = 0.5, one block each: $16 + $32 = $48, a serving the demand (b's usage
    //   makes a the server). Relaxation and plan agree.
    // N-1 at 50%: losing either provider, the other's reserve must carry 480,000 tokens/min.
    //   Relaxation: z(a) = z(b) = 480,000 / 1,920,000 = 0.25 (8 GPUs each), and the demand split
    //   between them, each serving 480,000: $32 × 0.25 + $64 × 0.25 = $8 + $16 = $24, plus b's
    //   usage 480,000 × 60 = 28.8M tokens × $0.10 = $2.88: $26.88. (a alone serving it would
    //   need z(a) = 0.5: $16 + $16 = $32.)
    //   Whole blocks: 8 GPUs are half a block, so one block at each, $48 again, a serving all:
    //   whole blocks cost $21.12 more than the relaxation here.
    for (coverage, relaxed_objective, z_relaxed) in [(1.0, 48.0, 0.5), (0.5, 26.88, 0.25)] {
        let f = n_minus_one(coverage);
        let r = run(&f, &[]);
        let what = format!("coverage {coverage}");
        assert_near(r.commitment("a-reserved", "reserved_fraction"), 0.5, &what);
        assert_near(r.commitment("b-reserved", "reserved_fraction"), 0.5, &what);
        assert_near(r.commitment("b-reserved", "commit_cost"), 32.0, &what);
        assert_near(r.served_tpm("a-reserved", "default"), 960_000.0, &what);
        assert_near(r.num("objective"), 48.0, &what);
        assert_near(r.num("resilience_shortfall_tokens"), 0.0, &what);
        let relaxed = run(&f, &["--relax"]);
        for tranche in ["a-reserved", "b-reserved"] {
            assert_near(
                relaxed.commitment(tranche, "reserved_fraction"),
                z_relaxed,
                &what,
            );
        }
        assert_near(relaxed.num("objective"), relaxed_objective, &what);
        let wb = whole_blocks(&f);
        assert_near(wb.relaxation_objective, relaxed_objective, &what);
        assert!(wb.mip_gap <= 1e-9, "{what}: gap {}", wb.mip_gap);
    }
}

#[test]
fn commitments_and_the_summary_say_what_to_sign_in_gpus_and_blocks() {
    // blocks(true) as worked above: 1 block of 16 H100 reserved (z = 0.25 of 64 GPUs) for $16,
    // the on-demand tranche reserves nothing (0 GPUs, 0 blocks of 1).
    let f = blocks(true);
    let (_out, dir, stdout) = run_into(&f, &[]);
    let text = std::fs::read_to_string(dir.join("commitments.csv")).unwrap();
    assert_eq!(
        text.lines().next().unwrap(),
        "tranche,provider,region,start,end,capacity_tpm,reserved_fraction,reserved_tpm,commit_cost,gpu,gpus,gpus_reserved,blocks"
    );
    let rows: HashMap<String, HashMap<String, String>> = read_csv(&dir.join("commitments.csv"))
        .into_iter()
        .map(|r| (r["tranche"].clone(), r))
        .collect();
    let reserved = &rows["reserved"];
    assert_eq!(
        (
            reserved["gpu"].as_str(),
            reserved["gpus"].as_str(),
            reserved["gpus_reserved"].as_str(),
            reserved["blocks"].as_str()
        ),
        ("H100", "64", "16", "1")
    );
    let on_demand = &rows["on-demand"];
    assert_eq!(
        (
            on_demand["gpus"].as_str(),
            on_demand["gpus_reserved"].as_str(),
            on_demand["blocks"].as_str()
        ),
        ("64", "0", "0")
    );
    // summary.json: the relaxation ($64/3.84 = $16.6667) and the gap, and one line to sign.
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
    assert_near(
        summary["relaxation_objective"].as_f64().unwrap(),
        64.0 / 3.84,
        "relaxation_objective",
    );
    assert!(summary["mip_gap"].as_f64().unwrap() <= 1e-9);
    // allocation.csv in GPU-hours: the block serves 960,000 tokens/min for an hour, 57.6M tokens
    // at 1,000 tokens/s per GPU = 16 GPU-hours; on demand 40,000 × 60 / 3.6M = 0.6667 GPU-hours.
    let allocation = read_csv(&dir.join("allocation.csv"));
    let gpu_hours = |tranche: &str| -> f64 {
        allocation
            .iter()
            .filter(|r| r["tranche"] == tranche)
            .map(|r| r["gpu_hours"].parse::<f64>().unwrap())
            .sum()
    };
    assert_near(gpu_hours("reserved"), 16.0, "GPU-hours of the block");
    assert_near(gpu_hours("on-demand"), 2.4e6 / 3.6e6, "GPU-hours on demand");
    let sign = summary["gpu_reservations"].as_array().unwrap();
    assert_eq!(
        sign.len(),
        1,
        "only the reserve has GPUs reserved: {sign:?}"
    );
    assert_eq!(sign[0]["provider"], "aws");
    assert_eq!(sign[0]["gpu"], "H100");
    assert_eq!(sign[0]["gpus_reserved"].as_f64(), Some(16.0));
    assert_eq!(sign[0]["blocks"].as_f64(), Some(1.0));
    assert_eq!(sign[0]["block_gpus"].as_u64(), Some(16));
    assert_near(sign[0]["commit_cost"].as_f64().unwrap(), 16.0, "commitment");
    // The report: what to sign, and what whole blocks add: $18.40 − $16.6667 = $1.7333 (10.4%).
    assert!(
        stdout.contains("aws  global  16 H100 (1 block of 16)  2026-01-01 → 2026-01-01 01:00  $16"),
        "what to sign in the report:\n{stdout}"
    );
    assert!(
        stdout.contains("whole blocks add $1.7 (10.4%) to the objective over fractional reservations (the LP relaxation, $16.7); gap to the best bound 0"),
        "{stdout}"
    );
}

#[test]
fn a_plan_in_tokens_per_minute_keeps_its_commitments_columns_and_a_relaxed_plan_no_gap() {
    // v2 scenarios keep the file they always had: no GPU columns, no gap, no GPU lines.
    let r = run(&translation(), &["--relax"]);
    assert!(r.summary.get("mip_gap").is_none());
    let v2 = Folder::new()
        .file("demand.csv", "period,tokens_per_minute\n2026-01-01,1M\n")
        .file(
            "capacity.csv",
            "provider,tranche,capacity_tpm,cost_per_million_tokens\naws,od,2M,1\n",
        )
        .file("scenario.toml", ONE_HOUR);
    let (_out, dir, stdout) = run_into(&v2, &[]);
    let text = std::fs::read_to_string(dir.join("commitments.csv")).unwrap();
    assert_eq!(
        text.lines().next().unwrap(),
        "tranche,provider,region,start,end,capacity_tpm,reserved_fraction,reserved_tpm,commit_cost"
    );
    assert!(!stdout.contains("GPUs reserved"), "{stdout}");
    let summary = std::fs::read_to_string(dir.join("summary.json")).unwrap();
    assert!(!summary.contains("gpu_reservations") && !summary.contains("mip_gap"));
    let allocation = std::fs::read_to_string(dir.join("allocation.csv")).unwrap();
    assert_eq!(
        allocation.lines().next().unwrap(),
        "period,provider,tranche,supply_region,demand_region,workload,tokens_per_minute,cost"
    );
}

#[test]
fn a_held_plan_in_gpus_reads_its_gpu_columns_back() {
    // The plan of blocks(true), held: the same block, the same commitments.csv GPU columns.
    let f = blocks(true);
    let out = tempfile::tempdir().unwrap();
    let plan = out.path().join("plan");
    let held = out.path().join("held");
    for args in [
        vec![
            "run",
            f.path().to_str().unwrap(),
            "--out",
            plan.to_str().unwrap(),
        ],
        vec![
            "run",
            f.path().to_str().unwrap(),
            "--reservations-from",
            plan.to_str().unwrap(),
            "--out",
            held.to_str().unwrap(),
        ],
    ] {
        let mut args = args;
        args.push("--no-charts");
        let (code, _, stderr) = capplan(&args);
        assert_eq!(code, 0, "{stderr}");
    }
    assert_eq!(
        std::fs::read_to_string(plan.join("commitments.csv")).unwrap(),
        std::fs::read_to_string(held.join("commitments.csv")).unwrap()
    );
}
