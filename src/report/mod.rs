//! Report stage: plain tables from a `Plan`, written through the exporters as CSV/JSON/xlsx and
//! text, and read back for charts.

pub mod build;
pub mod deferral;
pub mod series;
pub mod tables;
pub mod text;
pub mod write;
