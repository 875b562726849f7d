//! capplan: plan AI inference capacity across clouds as one linear program.
//!
//! The pipeline runs one way: files → raw rows (`load`) → validated `Scenario` (`scenario`) →
//! what-if transforms (`whatif`) → facts computed once (`facts`) → LP (`model`, which also reads
//! the solution back) → `Plan` (`plan`) → reports (`report`) → charts (`chart`) → files
//! (`output`). The CLI (`cli`) only composes these stages.

pub mod chart;
pub mod error;
pub mod export;
pub mod facts;
pub mod output;
pub mod report;
pub mod resilience;
pub mod units;

pub use error::{Error, Result};
pub mod cli;
pub mod compare;
pub mod load;
pub mod model;
pub mod pipeline;
pub mod plan;
pub mod robust;
pub mod scenario;
pub mod sweep;
pub mod synthetic;
pub mod validate;
pub mod whatif;
