//! Spec v3 input (issues 20 and 21): capacity in GPUs, throughput.csv, workloads.csv and the
//! `max_delay` what-ifs, loaded, validated and carried on the `Scenario`. The real binary on small
//! folders, asserting the exact messages (file, line, column; what was expected; how to fix it),
//! and the library's view of what loads.

use std::path::Path;

use crate::common::{capplan, Folder};

const DEMAND: &str = "period,workload,tokens_per_minute\n\
                      2026-01-01,chat,1M\n2026-01-01,batch,500K\n\
                      2026-02-01,chat,1M\n2026-02-01,batch,500K\n";
const CAPACITY: &str = "provider,capacity_tpm\naws,1000\n";
const THROUGHPUT: &str = "model,gpu,tokens_per_second_per_gpu\n\
                          llama-70b,H100,900\n\
                          llama-70b,H200,1500\n";
const DURATION_FORMS: &str = "a duration: 0, or a number and one unit m, h, d or w (minutes, hours, days of 24 h, weeks) such as 90m, 36h, 2d or 1w";

/// A scenario folder with the valid demand (workloads chat and batch) and capacity, then `files`
/// written over them.
fn scenario(files: &[(&str, &str)]) -> Folder {
    let mut f = Folder::new()
        .file("demand.csv", DEMAND)
        .file("capacity.csv", CAPACITY);
    for (name, text) in files {
        f = f.file(name, text);
    }
    f
}

/// `capplan validate <folder> [args]`: exit code, stdout, and stderr with the folder's path
/// removed so messages read `capacity.csv:2: …`.
fn validate(f: &Folder, args: &[&str]) -> (i32, String, String) {
    let dir = f.path().to_str().expect("a UTF-8 temp path");
    let mut all = vec!["validate", dir];
    all.extend(args);
    let (code, stdout, stderr) = capplan(&all);
    let prefix = format!("{dir}/");
    (
        code,
        stdout.replace(&prefix, ""),
        stderr.replace(&prefix, ""),
    )
}

/// Asserts that validating `f` with `args` fails with exit code 2 and exactly `expected` on stderr.
#[track_caller]
fn rejects_with(f: &Folder, args: &[&str], expected: &str) {
    let (code, _, stderr) = validate(f, args);
    assert_eq!(stderr.trim_end(), expected, "stderr:\n{stderr}");
    assert_eq!(code, 2);
}

#[track_caller]
fn rejects(f: &Folder, expected: &str) {
    rejects_with(f, &[], expected);
}

/// The library's view of a folder, which must load.
#[track_caller]
fn load(dir: &Path) -> capplan::scenario::Scenario {
    capplan::load::load(dir)
        .unwrap_or_else(|e| panic!("load failed:\n{e}"))
        .scenario
}

// ---------------------------------------------------------------------------------------------
// capacity.csv in GPUs

#[test]
fn a_tranche_in_gpus_is_translated_to_tokens_per_minute_and_dollars() {
    let f = scenario(&[
        (
            "capacity.csv",
            "provider,tranche,gpus,gpu,model,tokens_per_second_per_gpu,commit_cost_per_gpu_hour,cost_per_gpu_hour,block_gpus,min_commit\n\
             coreweave,h200,8,H200,llama-70b,1500,2.50,3.20,8,0.5\n\
             aws,h100,16,H100,llama-70b,,,,,\n\
             gcp,api,,,llama-70b,,,,,\n",
        ),
        ("throughput.csv", THROUGHPUT),
    ]);
    // The third row has neither capacity_tpm nor gpus: an error; without it the file loads.
    rejects(
        &f,
        "error: capacity.csv:4: column 'gpus': expected a positive whole number of GPUs, found an empty cell",
    );
    let f = f.file(
        "capacity.csv",
        "provider,tranche,capacity_tpm,gpus,gpu,model,tokens_per_second_per_gpu,commit_cost_per_gpu_hour,cost_per_gpu_hour,block_gpus,cost_per_million_tokens\n\
         coreweave,h200,,8,H200,llama-70b,1500,2.50,3.20,8,\n\
         aws,h100,,16,H100,llama-70b,,,,,0.4\n\
         gcp,api,2M,,,llama-70b,,,,,2\n",
    );
    let s = load(f.path());
    let [h200, h100, api] = &s.tranches[..] else {
        panic!("{:?}", s.tranches)
    };
    // 8 H200 at 1,500 tokens/s: 720,000 tokens/min; 8 × $2.50 = $20/h; $3.20 per GPU-hour over
    // 1,500 × 3,600 tokens is $0.5926/M.
    assert_eq!(h200.capacity_tpm, 720_000.0);
    assert_eq!(h200.commit_cost_per_hour, 20.0);
    assert_eq!(format!("{:.4}", h200.cost_per_million_tokens), "0.5926");
    let g = h200.gpu.as_ref().unwrap();
    assert_eq!(
        (
            g.gpu_type.as_deref(),
            g.gpus,
            g.block_gpus,
            g.tokens_per_second_per_gpu
        ),
        (Some("H200"), 8, 8, 1500.0)
    );
    assert_eq!(g.throughput_origin, None, "written on the row");
    assert_eq!(h200.model.as_deref(), Some("llama-70b"));
    // Looked up in throughput.csv: 16 × 900 × 60; block_gpus defaults to 1; prices as written.
    assert_eq!(h100.capacity_tpm, 864_000.0);
    let g = h100.gpu.as_ref().unwrap();
    assert_eq!((g.block_gpus, g.tokens_per_second_per_gpu), (1, 900.0));
    assert_eq!(g.throughput_origin.as_ref().unwrap().line, 2);
    assert_eq!(
        (h100.cost_per_million_tokens, h100.commit_cost_per_hour),
        (0.4, 0.0)
    );
    // A tranche in tokens per minute may name a model; it has no GPU facts.
    assert_eq!(
        (api.capacity_tpm, api.gpu.is_none(), api.model.as_deref()),
        (2e6, true, Some("llama-70b"))
    );
}

#[test]
fn each_row_gives_exactly_one_of_capacity_tpm_and_gpus() {
    let f = scenario(&[(
        "capacity.csv",
        "provider,capacity_tpm,gpus,tokens_per_second_per_gpu\naws,1000,8,100\ngcp,,,\n",
    )]);
    rejects(
        &f,
        "error: capacity.csv:2: column 'gpus': expected exactly one of capacity_tpm and gpus, found both (capacity_tpm is gpus × tokens_per_second_per_gpu × 60); leave one empty\n\
         error: capacity.csv:3: column 'capacity_tpm': expected capacity_tpm (tokens per minute) or gpus (a whole number of GPUs), found both cells empty\n\
         2 errors",
    );
    // Neither column in the header.
    let f = scenario(&[("capacity.csv", "provider,region\naws,us\n")]);
    let (code, _, stderr) = validate(&f, &[]);
    assert_eq!(code, 2);
    assert!(
        stderr.starts_with("error: capacity.csv:1: column 'capacity_tpm': required column is missing from the header (give 'capacity_tpm', or 'gpus'); expected a header row with columns 'provider', 'capacity_tpm', 'region', 'tranche', 'start', 'end', 'cost_per_million_tokens', 'commit_cost_per_hour', 'min_commit', 'gpu', 'gpus', 'model', 'tokens_per_second_per_gpu', 'commit_cost_per_gpu_hour', 'cost_per_gpu_hour', 'block_gpus'"),
        "{stderr}"
    );
}

#[test]
fn gpu_columns_need_gpus() {
    let f = scenario(&[(
        "capacity.csv",
        "provider,capacity_tpm,gpu,tokens_per_second_per_gpu,commit_cost_per_gpu_hour,cost_per_gpu_hour,block_gpus,model\n\
         aws,1000,H100,900,2.5,3.2,8,llama-70b\n",
    )]);
    let needs = |column: &str| {
        format!("error: capacity.csv:2: column '{column}': {column} needs gpus: expected the number of GPUs in column gpus, or this cell empty (a tranche in capacity_tpm has no GPU facts)\n")
    };
    rejects(
        &f,
        &format!(
            "{}{}{}{}{}5 errors",
            needs("gpu"),
            needs("tokens_per_second_per_gpu"),
            needs("commit_cost_per_gpu_hour"),
            needs("cost_per_gpu_hour"),
            needs("block_gpus")
        ),
    );
}

#[test]
fn a_price_is_given_per_tranche_or_per_gpu_hour_not_both() {
    let f = scenario(&[(
        "capacity.csv",
        "provider,gpus,tokens_per_second_per_gpu,commit_cost_per_hour,commit_cost_per_gpu_hour,cost_per_million_tokens,cost_per_gpu_hour\n\
         aws,8,1500,20,2.5,0.6,3.2\n",
    )]);
    rejects(
        &f,
        "error: capacity.csv:2: column 'commit_cost_per_gpu_hour': expected at most one of commit_cost_per_hour and commit_cost_per_gpu_hour, found both (commit_cost_per_hour = commit_cost_per_gpu_hour × gpus); leave one empty\n\
         error: capacity.csv:2: column 'cost_per_gpu_hour': expected at most one of cost_per_million_tokens and cost_per_gpu_hour, found both (cost_per_million_tokens = cost_per_gpu_hour × 1e6 / (tokens_per_second_per_gpu × 3600)); leave one empty\n\
         2 errors",
    );
}

#[test]
fn gpus_are_whole_positive_and_a_whole_number_of_blocks() {
    let f = scenario(&[(
        "capacity.csv",
        "provider,gpus,tokens_per_second_per_gpu,block_gpus\n\
         a,8.5,100,\n\
         b,0,100,\n\
         c,2e9,100,\n\
         d,12,100,8\n\
         e,4,100,8\n\
         f,8,100,0\n\
         g,8,0,\n\
         h,8,2e9,\n",
    )]);
    rejects(
        &f,
        "error: capacity.csv:2: column 'gpus': expected a positive whole number of GPUs, found '8.5'\n\
         error: capacity.csv:3: column 'gpus': expected a positive whole number of GPUs, found '0'\n\
         error: capacity.csv:4: column 'gpus': expected at most 1e9 GPUs (capplan's limit), found 2e9\n\
         error: capacity.csv:5: column 'gpus': expected a whole number of blocks of block_gpus 8, found gpus 12 (8 or 16 would be)\n\
         error: capacity.csv:6: column 'gpus': expected a whole number of blocks of block_gpus 8, found gpus 4 (8 would be)\n\
         error: capacity.csv:7: column 'block_gpus': expected a positive whole number of GPUs per block, found '0'\n\
         error: capacity.csv:8: column 'tokens_per_second_per_gpu': expected a positive number of tokens per second per GPU, found '0'\n\
         error: capacity.csv:9: column 'tokens_per_second_per_gpu': expected at most 1e9 tokens per second per GPU (capplan's limit), found 2e9\n\
         8 errors",
    );
}

#[test]
fn a_blank_throughput_is_looked_up_by_model_and_gpu() {
    let capacity = "provider,gpus,gpu,model\n\
                    aws,8,H100,llama-70b\n\
                    gcp,8,H100,\n\
                    azure,8,,llama-70b\n\
                    oracle,8,h200,llama-70b\n";
    // No throughput.csv at all.
    let f = scenario(&[("capacity.csv", capacity)]);
    let (_, _, stderr) = validate(&f, &[]);
    assert!(
        stderr.starts_with("error: capacity.csv:2: column 'tokens_per_second_per_gpu': tokens_per_second_per_gpu is empty, so it is looked up in throughput.csv by (model, gpu), but the scenario has no throughput.csv; expected tokens_per_second_per_gpu on the row, or a throughput.csv with a row for model 'llama-70b' and gpu 'H100'\n"),
        "{stderr}"
    );
    let f = f.file("throughput.csv", THROUGHPUT);
    rejects(
        &f,
        "error: capacity.csv:3: column 'tokens_per_second_per_gpu': tokens_per_second_per_gpu is empty, so it is looked up in throughput.csv by (model, gpu), but the row has no model; expected tokens_per_second_per_gpu on the row, or a model to look it up\n\
         error: capacity.csv:4: column 'tokens_per_second_per_gpu': tokens_per_second_per_gpu is empty, so it is looked up in throughput.csv by (model, gpu), but the row has no gpu; expected tokens_per_second_per_gpu on the row, or a gpu to look it up\n\
         error: capacity.csv:5: column 'tokens_per_second_per_gpu': model 'llama-70b' with gpu 'h200' is not in throughput.csv; the closest listed pair is model 'llama-70b', gpu 'H200' (line 3); expected a row for the pair there, or tokens_per_second_per_gpu on this row\n\
         3 errors",
    );
}

#[test]
fn translated_capacity_and_prices_obey_the_limits_at_their_column() {
    let f = scenario(&[
        (
            "capacity.csv",
            "provider,gpus,gpu,model,tokens_per_second_per_gpu,commit_cost_per_gpu_hour,cost_per_gpu_hour\n\
             a,1000000000,H100,m,1000000000,,\n\
             b,1000000,H100,m,100,2000000,\n\
             c,8,slow,m,,,1000000\n",
        ),
        (
            "throughput.csv",
            "model,gpu,tokens_per_second_per_gpu\nm,slow,0.1\n",
        ),
    ]);
    rejects(
        &f,
        "error: capacity.csv:2: column 'gpus': capacity_tpm = gpus × tokens_per_second_per_gpu × 60 passes a limit: expected at most 1e15 tokens per minute (capplan's limit), found 6e19\n\
         error: capacity.csv:3: column 'commit_cost_per_gpu_hour': commit_cost_per_hour = commit_cost_per_gpu_hour × gpus passes a limit: expected at most 1e12 $ per hour (capplan's limit), found 2e12\n\
         error: capacity.csv:4: column 'cost_per_gpu_hour': cost_per_million_tokens = cost_per_gpu_hour × 1e6 / (tokens_per_second_per_gpu × 3600) passes a limit (tokens_per_second_per_gpu 0.1 from throughput.csv:2): expected at most 1e9 $ per million tokens (capplan's limit), found 2.7777777777777777e9\n\
         3 errors",
    );
}

// ---------------------------------------------------------------------------------------------
// throughput.csv

#[test]
fn throughput_pairs_are_listed_once_and_positive() {
    let f = scenario(&[(
        "throughput.csv",
        "model,gpu,tokens_per_second_per_gpu\n\
         llama-70b,H100,900\n\
         llama-70b,H200,0\n\
         llama-70b,H100,950\n",
    )]);
    rejects(
        &f,
        "error: throughput.csv:3: column 'tokens_per_second_per_gpu': expected a positive number of tokens per second per GPU, found '0'\n\
         error: throughput.csv:4: column 'model': model 'llama-70b' with gpu 'H100' is listed twice (first at line 2); expected each (model, gpu) pair once\n\
         2 errors",
    );
    let f = scenario(&[("throughput.csv", "model,gpu\nm,H100\n")]);
    let (_, _, stderr) = validate(&f, &[]);
    assert!(
        stderr.starts_with("error: throughput.csv:1: column 'tokens_per_second_per_gpu': required column is missing from the header; expected a header row with columns 'model', 'gpu', 'tokens_per_second_per_gpu'"),
        "{stderr}"
    );
}

#[test]
fn a_childs_throughput_csv_replaces_the_parents_for_inherited_tranches() {
    let root = Folder::new()
        .file("base/demand.csv", DEMAND)
        .file(
            "base/capacity.csv",
            "provider,tranche,gpus,gpu,model,cost_per_gpu_hour\naws,h100,16,H100,llama-70b,3.6\n",
        )
        .file("base/throughput.csv", THROUGHPUT)
        .file(
            "base/scenario.toml",
            "[[whatif.price]]\nprovider = \"aws\"\nfactor = 0.5\n",
        )
        .file("faster/scenario.toml", "extends = \"../base\"\n")
        .file(
            "faster/throughput.csv",
            "model,gpu,tokens_per_second_per_gpu\nllama-70b,H100,1000\n",
        )
        .file("gone/scenario.toml", "extends = \"../base\"\n")
        .file(
            "gone/throughput.csv",
            "model,gpu,tokens_per_second_per_gpu\nllama-70b,H200,1500\n",
        );
    let base = load(&root.sub("base"));
    assert_eq!(base.tranches[0].capacity_tpm, 16.0 * 900.0 * 60.0);
    // $3.60 per GPU-hour halved by the parent's what-if: $1.80 over 900 × 3,600 tokens = $0.5556/M.
    assert_eq!(
        format!("{:.4}", base.tranches[0].cost_per_million_tokens),
        "0.5556"
    );
    let faster = load(&root.sub("faster"));
    let t = &faster.tranches[0];
    assert_eq!(t.capacity_tpm, 16.0 * 1000.0 * 60.0);
    // The parent's price what-if still applies: $1.80 over 1,000 × 3,600 tokens = $0.50/M.
    assert_eq!(t.cost_per_million_tokens, 0.5);
    let g = t.gpu.as_ref().unwrap();
    assert_eq!(g.cost_per_gpu_hour, Some(1.8));
    assert!(g
        .throughput_origin
        .as_ref()
        .unwrap()
        .file
        .ends_with("faster/throughput.csv"));
    let (code, _, stderr) = capplan(&["validate", root.sub("gone").to_str().unwrap()]);
    assert_eq!(code, 2);
    let prefix = format!("{}/", root.path().display());
    assert_eq!(
        stderr.replace(&prefix, "").trim_end(),
        "error: base/capacity.csv:2: column 'tokens_per_second_per_gpu': model 'llama-70b' with gpu 'H100' is not in gone/throughput.csv; the closest listed pair is model 'llama-70b', gpu 'H200' (line 2); expected a row for the pair there, or tokens_per_second_per_gpu on this row"
    );
}

// ---------------------------------------------------------------------------------------------
// workloads.csv

#[test]
fn workloads_carry_delay_penalty_and_model_with_defaults() {
    let f = scenario(&[(
        "workloads.csv",
        "workload,max_delay,unserved_penalty,model\nbatch,1.5d,500,llama-70b\nchat,,,\n",
    )]);
    let s = load(f.path());
    let batch = s.workload("batch");
    assert_eq!(
        (
            batch.max_delay_minutes,
            batch.unserved_penalty,
            batch.model.as_deref()
        ),
        (2160.0, Some(500.0), Some("llama-70b"))
    );
    let chat = s.workload("chat");
    assert_eq!(
        (chat.max_delay_minutes, chat.unserved_penalty, chat.model),
        (0.0, None, None)
    );
    assert_eq!(s.unserved_penalty("batch"), 500.0);
    assert_eq!(s.unserved_penalty("chat"), 10000.0, "the policy's");
    // A v2 scenario has no workload settings at all.
    assert!(load(scenario(&[]).path()).workload_settings.is_empty());
}

#[test]
fn workload_rows_name_workloads_of_demand_once() {
    let f = scenario(&[(
        "workloads.csv",
        "workload,max_delay\nbatch,24h\nbacth,1h\nbatch,2h\n",
    )]);
    rejects(
        &f,
        "error: workloads.csv:4: column 'workload': workload 'batch' is listed twice (first at line 2); expected each workload once",
    );
    let f = scenario(&[("workloads.csv", "workload,max_delay\nbatch,24h\nbacth,1h\n")]);
    rejects(
        &f,
        "error: workloads.csv:3: column 'workload': workload 'bacth' is not a workload of demand.csv (did you mean 'batch'?); expected one of 'batch', 'chat'",
    );
}

#[test]
fn max_delays_are_durations_with_one_lower_case_unit() {
    let f = scenario(&[(
        "workloads.csv",
        "workload,max_delay,unserved_penalty\nbatch,24,\nchat,2D,\nbatch2,24 hours,\nchat2,-1h,2e9\n",
    )]);
    // Errors of the cells come first; a file that does not read is not checked against demand.
    rejects(
        &f,
        &format!(
            "error: workloads.csv:2: column 'max_delay': expected {DURATION_FORMS}, found '24'; add a unit: 24m, 24h, 24d or 24w\n\
             error: workloads.csv:3: column 'max_delay': expected {DURATION_FORMS}, found '2D'; units are lower case: 2d\n\
             error: workloads.csv:4: column 'max_delay': expected {DURATION_FORMS}, found '24 hours'; write the unit as one letter: 24h\n\
             error: workloads.csv:5: column 'max_delay': expected {DURATION_FORMS}, found '-1h': a duration is not negative\n\
             error: workloads.csv:5: column 'unserved_penalty': expected at most 1e9 $ per million tokens (capplan's limit), found 2e9\n\
             5 errors"
        ),
    );
}

#[test]
fn a_childs_demand_must_still_use_the_parents_workloads() {
    let root = Folder::new()
        .file("base/demand.csv", DEMAND)
        .file("base/capacity.csv", CAPACITY)
        .file("base/workloads.csv", "workload,max_delay\nbatch,24h\n")
        .file("chat-only/scenario.toml", "extends = \"../base\"\n")
        .file(
            "chat-only/demand.csv",
            "period,workload,tokens_per_minute\n2026-01-01,chat,1\n2026-02-01,chat,1\n",
        );
    assert_eq!(
        load(&root.sub("base")).workload("batch").max_delay_minutes,
        1440.0
    );
    let (code, _, stderr) = capplan(&["validate", root.sub("chat-only").to_str().unwrap()]);
    assert_eq!(code, 2);
    let prefix = format!("{}/", root.path().display());
    assert_eq!(
        stderr.replace(&prefix, "").trim_end(),
        "error: base/workloads.csv:2: column 'workload': workload 'batch' is not a workload of demand.csv; expected one of 'chat'"
    );
}

// ---------------------------------------------------------------------------------------------
// [[whatif.max_delay]] and --max-delay

#[test]
fn max_delay_what_ifs_set_a_workloads_delay() {
    let f = scenario(&[
        ("workloads.csv", "workload,unserved_penalty\nbatch,500\n"),
        (
            "scenario.toml",
            "[[whatif.max_delay]]\nworkload = \"batch\"\nmax_delay = \"24h\"\n",
        ),
    ]);
    let s = load(f.path());
    assert_eq!(s.workload("batch").max_delay_minutes, 1440.0);
    assert_eq!(s.workload("batch").unserved_penalty, Some(500.0));
    // The flag is one more level: it wins over the scenario's own what-if.
    let flags: capplan::load::flags::Flags = [capplan::load::flags::Flag::read(
        capplan::load::whatif_syntax::Kind::MaxDelay,
        "chat=90m",
    )]
    .into_iter()
    .collect();
    let s = capplan::load::load_with(f.path(), &flags).unwrap().scenario;
    assert_eq!(s.workload("chat").max_delay_minutes, 90.0);
    assert_eq!(s.workload("batch").max_delay_minutes, 1440.0);
    let (code, stdout, stderr) = validate(&f, &["--max-delay", "chat=90m"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains(
            "workloads  batch (max_delay 1d, unserved penalty $500/M), chat (max_delay 90m)\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("what-ifs   --max-delay chat=90m\n"),
        "{stdout}"
    );
}

#[test]
fn a_max_delay_what_if_for_an_unknown_workload_is_an_error() {
    let f = scenario(&[(
        "scenario.toml",
        "[[whatif.max_delay]]\nworkload = \"bacth\"\nmax_delay = \"24h\"\n",
    )]);
    rejects(
        &f,
        "error: scenario.toml:2: key 'whatif.max_delay.workload': workload 'bacth' matches no workload of the scenario's demand (did you mean 'batch'?); expected one of 'batch', 'chat'",
    );
    let f = scenario(&[]);
    rejects_with(
        &f,
        &["--max-delay", "agents=1h"],
        "error: --max-delay agents=1h: workload 'agents' matches no workload of the scenario's demand; expected one of 'batch', 'chat'",
    );
    rejects_with(
        &f,
        &["--max-delay", "batch=24"],
        &format!("error: --max-delay batch=24: expected {DURATION_FORMS}, found '24'; add a unit: 24m, 24h, 24d or 24w"),
    );
    rejects_with(
        &f,
        &["--max-delay", "24h"],
        "error: --max-delay 24h: expected WORKLOAD=DURATION such as batch=24h, found '24h'",
    );
}

// ---------------------------------------------------------------------------------------------
// validate

#[test]
fn validate_prints_gpus_and_workload_settings() {
    let f = scenario(&[
        (
            "capacity.csv",
            "provider,tranche,capacity_tpm,gpus,gpu,model,tokens_per_second_per_gpu,block_gpus\n\
             coreweave,h200,,64,H200,llama-70b,1500,8\n\
             aws,h100,,16,H100,llama-70b,,\n\
             gcp,api,2M,,,llama-70b,,\n\
             azure,plain,2M,,,,,\n",
        ),
        ("throughput.csv", THROUGHPUT),
        (
            "workloads.csv",
            "workload,max_delay,model\nbatch,36h,llama-70b\nchat,,llama-70b\n",
        ),
    ]);
    // 36 h on a monthly grid moves no token (January and February end 59 days after January's
    // start): a warning, still exit 0.
    let (code, stdout, stderr) = validate(&f, &[]);
    assert_eq!(code, 0, "{stderr}");
    let name = f.path().file_name().unwrap().to_string_lossy().into_owned();
    assert_eq!(
        stdout,
        format!(
            "scenario   {name}\n\
             horizon    2026-01-01T00:00:00Z → 2026-03-01T00:00:00Z\n\
             periods    2 monthly periods of 28 to 31 days long\n\
             regions    global\n\
             workloads  batch (max_delay 36h, model llama-70b), chat (model llama-70b)\n\
             providers  aws, azure, coreweave, gcp (4 tranches, 0 routes, 0 outages)\n\
             demand     1.5M to 1.5M tokens/min\n\
             policy     unserved penalty $10000/M tokens\n\
             capacity   h200: 64 × H200 (blocks of 8) at 1.5K tokens/s per GPU = 5.8M tokens/min; model llama-70b\n\
             \x20          h100: 16 × H100 at 900 tokens/s per GPU (throughput.csv:2) = 864.0K tokens/min; model llama-70b\n\
             \x20          api: model llama-70b\n\
             warning: workloads.csv:2: column 'max_delay': workload 'batch' has max_delay 36h, shorter than every period it could be served in on this monthly grid: no later period ends within 36h of the start of the period its tokens arrive in, so they are served as they arrive, as with max_delay 0; expected a max_delay of at least 59d for its tokens to wait a period\n"
        )
    );
    let (_, json, _) = validate(&f, &["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["gpu_tranches"][0]["gpus"], 64);
    assert_eq!(v["gpu_tranches"][1]["throughput_from"], "throughput.csv:2");
    assert_eq!(v["workload_settings"][0]["max_delay"], "36h");
    assert_eq!(v["workload_settings"][0]["max_delay_minutes"], 2160.0);
    // A v2 scenario's summary has neither.
    let (_, json, _) = validate(&scenario(&[]), &["--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v.get("gpu_tranches").is_none() && v.get("workload_settings").is_none());
}
