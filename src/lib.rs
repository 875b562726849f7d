//! capplan: plan AI inference capacity across clouds as one linear program.
//!
//! The pipeline runs one way: files → raw rows (`load`) → validated `Scenario` (`scenario`) →
//! what-if transforms (`whatif`) → LP (`model`) → `Plan` (`plan`) → reports (`report`) →
//! charts (`chart`). The CLI (`cli`) only composes these stages.

pub mod chart;
pub mod error;
pub mod report;
pub mod units;

pub use error::{Error, Result};
pub mod cli;
pub mod load;
pub mod model;
pub mod pipeline;
pub mod plan;
pub mod scenario;
pub mod synthetic;
pub mod validate;
pub mod whatif;
