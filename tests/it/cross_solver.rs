//! Real magnitudes (1e10 tokens per minute, monthly and hourly grids): the monolithic LP on every
//! compiled-in backend, and the decomposition, reach the same optimum to 1e-6 relative.

use crate::common;

use crate::common::rel;
use capplan::model::solve::{Method, SolverKind};
use capplan::synthetic::{write, Spec, Step};

fn agree(folder: &std::path::Path, solvers: &[SolverKind]) {
    let run = |solver, method| common::objective_of(folder, solver, method);
    let mut objectives: Vec<(String, f64)> = solvers
        .iter()
        .map(|&s| (s.name().to_string(), run(s, Method::Monolithic)))
        .collect();
    objectives.push((
        "decomposed".into(),
        run(SolverKind::default_kind(), Method::Decomposed),
    ));
    let (s0, o0) = objectives[0].clone();
    assert!(o0 > 1e6, "a real-magnitude objective, got {o0}");
    for (s, o) in &objectives[1..] {
        let o = *o;
        assert!(
            rel(o, o0) < 1e-6,
            "{}: {o} vs {}: {o0} (rel {:e})",
            s,
            s0,
            rel(o, o0)
        );
    }
}

#[test]
fn bundled_frontier_scenario_agrees_across_backends() {
    agree(
        std::path::Path::new("scenarios/frontier-2026"),
        &SolverKind::available(),
    );
}

#[test]
fn monthly_real_magnitudes_with_n_minus_one_agree() {
    let dir = tempfile::tempdir().unwrap();
    let spec = Spec {
        periods: 24,
        step: Step::Month,
        tranches_per_region: 6,
        regions: 3,
        providers: 4,
        survive_provider_loss: true,
        max_provider_share: 0.45,
        workloads: 3,
        outages: false,
        block_gpus: None,
    };
    write(dir.path(), &spec).unwrap();
    agree(dir.path(), &SolverKind::available());
}

#[test]
fn hourly_real_magnitudes_agree() {
    let dir = tempfile::tempdir().unwrap();
    let spec = Spec {
        periods: 168,
        step: Step::Hour,
        tranches_per_region: 4,
        regions: 2,
        providers: 3,
        survive_provider_loss: false,
        max_provider_share: 0.6,
        workloads: 3,
        outages: false,
        block_gpus: None,
    };
    write(dir.path(), &spec).unwrap();
    agree(dir.path(), &SolverKind::available());
}

// ---------------------------------------------------------------------------------------------
// Whole blocks (spec v3): the plan `run` gives (the decomposition over a mixed-integer master)
// against the monolithic mixed-integer program built by the same model builder and solved by a
// backend's own branch and bound (microlp; HiGHS when compiled in); `--relax` against the
// monolithic LP relaxation on every backend.

use capplan::model::BuildOptions;
use capplan::pipeline::RunOptions;

/// The optimum of the monolithic program of a folder ($): whole blocks as integer columns, or
/// the LP relaxation, solved by `solver` alone (no decomposition, no polish).
fn monolithic_optimum(folder: &std::path::Path, solver: SolverKind, whole_blocks: bool) -> f64 {
    let (s, facts, _) = capplan::pipeline::load(folder, &Default::default())
        .unwrap_or_else(|e| panic!("{}: {e}", folder.display()));
    let options = BuildOptions {
        whole_blocks,
        ..BuildOptions::plan(&facts, &s.policy)
    };
    let model = capplan::model::build(&s, &facts, options);
    assert_eq!(
        model.columns.iter().any(|c| c.integer),
        whole_blocks,
        "{}: integer columns exactly when blocks apply",
        folder.display()
    );
    let solved = capplan::model::solve::solve(&model, solver)
        .unwrap_or_else(|e| panic!("{} on {}: {e}", folder.display(), solver.name()));
    solved.objective_units * model.scale().dollars_per_objective_unit
}

/// The objective `capplan run` plans (the default method), with or without `--relax`.
fn run_objective(folder: &std::path::Path, relax: bool) -> f64 {
    let options = RunOptions {
        relax,
        ..RunOptions::plan(SolverKind::default_kind())
    };
    capplan::pipeline::run_with(folder, &options)
        .unwrap_or_else(|e| panic!("{}: {e}", folder.display()))
        .report
        .summary
        .objective
}

/// The run's whole-block optimum equals every mixed-integer backend's, and `--relax` equals the
/// LP relaxation on every backend, to 1e-6 relative.
fn blocks_agree(name: &str, folder: &std::path::Path, solvers: &[SolverKind]) {
    let planned = run_objective(folder, false);
    let relaxed = run_objective(folder, true);
    assert!(
        planned >= relaxed - 1e-9 * relaxed.abs().max(1.0),
        "{name}: {planned} < relaxation {relaxed}"
    );
    for &solver in solvers {
        if solver != SolverKind::Clarabel {
            // Clarabel solves linear programs only.
            let mip = monolithic_optimum(folder, solver, true);
            assert!(
                rel(planned, mip) < 1e-6,
                "{name}: run {planned} vs the {} MIP {mip} (rel {:e})",
                solver.name(),
                rel(planned, mip)
            );
        }
        let lp = monolithic_optimum(folder, solver, false);
        assert!(
            rel(relaxed, lp) < 1e-6,
            "{name}: run --relax {relaxed} vs the {} LP {lp} (rel {:e})",
            solver.name(),
            rel(relaxed, lp)
        );
    }
}

#[test]
fn whole_blocks_agree_with_a_monolithic_mip_on_every_gpu_test_scenario() {
    for (name, folder) in crate::gpus::block_scenarios() {
        blocks_agree(name, folder.path(), &SolverKind::available());
    }
}

/// The synthetic generator in GPUs (`--blocks`): a week of days over three regions, routes
/// between them, outages and a share cap, its 9 reservations in blocks of 2,048 GPUs (a few
/// blocks each, so microlp's own branch and bound takes the monolithic program), and the same
/// four weeks long in 512-GPU blocks on HiGHS alone (microlp's search does not finish it).
#[test]
fn whole_blocks_agree_with_a_monolithic_mip_on_the_synthetic_generator_in_gpus() {
    let spec = |periods: usize, block: u32| Spec {
        periods,
        step: Step::Day,
        tranches_per_region: 4,
        regions: 3,
        providers: 4,
        survive_provider_loss: false,
        max_provider_share: 0.45,
        workloads: 2,
        outages: true,
        block_gpus: Some(block),
    };
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), &spec(7, 2048)).unwrap();
    blocks_agree(
        "a week in 2,048-GPU blocks",
        dir.path(),
        &SolverKind::available(),
    );
    if SolverKind::available().contains(&SolverKind::Highs) {
        write(dir.path(), &spec(28, 512)).unwrap();
        blocks_agree(
            "four weeks in 512-GPU blocks",
            dir.path(),
            &[SolverKind::Highs],
        );
    }
}

/// Six months, two regions joined by routes, three providers, two models, blocks of 4, 8 and 16
/// GPUs on tranches of 8 to 64, windows starting and ending mid-horizon, on-demand capacity,
/// a share cap and N-1: small enough for microlp's branch and bound on the monolithic program.
#[test]
fn whole_blocks_agree_with_a_monolithic_mip_with_share_cap_and_n_minus_one() {
    let mut demand = String::from("period,region,workload,tokens_per_minute\n");
    for (m, growth) in [1.0f64, 1.08, 1.17, 1.26, 1.36, 1.47].iter().enumerate() {
        let period = format!("2026-{:02}-01", m + 1);
        for (region, workload, base) in [
            ("us", "chat", 2.2e6),
            ("us", "batch", 4.0e6),
            ("eu", "chat", 1.1e6),
            ("eu", "batch", 1.5e6),
        ] {
            demand.push_str(&format!(
                "{period},{region},{workload},{}\n",
                (base * growth).round()
            ));
        }
    }
    let folder = crate::common::Folder::new()
        .file("demand.csv", &demand)
        .file("workloads.csv", "workload,model\nchat,big\nbatch,small\n")
        .file(
            "throughput.csv",
            "model,gpu,tokens_per_second_per_gpu\nbig,H100,1000\nbig,H200,1600\nsmall,H100,8000\n",
        )
        .file(
            "capacity.csv",
            "provider,region,tranche,start,end,gpu,gpus,model,commit_cost_per_gpu_hour,cost_per_gpu_hour,cost_per_million_tokens,block_gpus,min_commit\n\
             a,us,a/us/h100-big,,,H100,64,big,1.20,,0.01,8,\n\
             b,us,b/us/h200-big,2026-03-01,,H200,48,big,1.80,,0.01,16,\n\
             c,eu,c/eu/h100-big,,,H100,32,big,1.50,,0.02,16,0.5\n\
             a,eu,a/eu/h100-small,,,H100,16,small,1.00,,0.01,4,\n\
             b,us,b/us/h100-small,,2026-05-01,H100,8,small,0.90,,0.01,4,\n\
             c,us,c/us/h100-small,2026-02-16,,H100,12,small,1.10,,0.01,4,\n\
             c,us,c/us/h100-big-on-demand,,,H100,32,big,,3.60,,,\n\
             a,eu,a/eu/h100-small-on-demand,,,H100,4,small,,4.00,,,\n",
        )
        .file(
            "routes.csv",
            "demand_region,supply_region,cost_per_million_tokens\nus,eu,0.05\neu,us,0.05\n",
        )
        .file(
            "scenario.toml",
            "horizon_end = \"2026-07-01\"\n[policy]\nunserved_penalty = 100\nmax_provider_share = 0.5\nsurvive_provider_loss = true\nloss_coverage = 0.8\nresilience_penalty = 50\n",
        );
    blocks_agree("six months", folder.path(), &SolverKind::available());
}

/// The bundled scenario in GPUs, against HiGHS's branch and bound (microlp's is too slow for its
/// 18,000 columns): only in builds with HiGHS.
#[test]
fn bundled_gpu_scenario_agrees_with_highs_when_compiled_in() {
    if !SolverKind::available().contains(&SolverKind::Highs) {
        eprintln!("skipped: HiGHS is not compiled into this build (--features highs)");
        return;
    }
    blocks_agree(
        "frontier-2026-gpus",
        std::path::Path::new("scenarios/frontier-2026-gpus"),
        &[SolverKind::Highs],
    );
}
