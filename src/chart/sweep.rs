//! Chart stage, sweeps: placeholder (same signature as the charts to come).

use super::{ChartOptions, RenderedChart};
use crate::error::Result;
use crate::sweep::write::Results;

/// The stems of the sweep charts (each written as `.png` and `.svg`).
pub const SWEEP_CHART_STEMS: [&str; 0] = [];

/// Draws every chart of a sweep, in memory.
pub fn render_all(_res: &Results, _opts: &ChartOptions) -> Result<Vec<RenderedChart>> {
    Ok(Vec::new())
}
