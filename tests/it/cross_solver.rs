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
    };
    write(dir.path(), &spec).unwrap();
    agree(dir.path(), &SolverKind::available());
}
