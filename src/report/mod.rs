//! Report stage: plain tables from a `Plan`, written as CSV/JSON/text, and read back for charts.

pub mod build;
pub mod deferral;
pub mod tables;
pub mod text;
pub mod write;
pub mod xlsx;
