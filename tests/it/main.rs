//! The integration tests, one test binary (one link instead of one per file): each module is a
//! theme, `common` holds the shared helpers, among them `capplan(args)` which runs the binary.
//!
//! Run one theme with `cargo test --test it golden::`, one test with its full path.
//! Data the tests read (`tests/golden/`, `tests/scenarios/`, `scenarios/`) is found from the
//! package root, the working directory cargo gives tests. Proptest keeps the seeds of past
//! failures in `tests/proptest-regressions/<module>.txt` (this folder has a `main.rs`).

mod common;

mod bundled;
mod charts;
mod cli;
mod compare;
mod compare_charts;
mod cross_solver;
mod decomposition;
mod deferral;
mod errors;
mod fuzz;
mod golden;
mod gpus;
mod lp_optima;
mod model_core;
mod output_safety;
mod planner_sees;
mod properties;
mod resilience;
mod resilience_charts;
mod robust;
mod solver_core;
mod sweep;
mod v3_input;
mod validation;
mod whatif_flags;
