//! Chart stage, comparisons: placeholder until the compare figures land (same signature).

use super::{ChartOptions, RenderedChart};
use crate::compare::{Column, Comparison};
use crate::error::Result;

/// The stems of the compare charts (each written as `.png` and `.svg`).
pub const COMPARE_CHART_STEMS: [&str; 0] = [];

/// Draws every compare chart, in memory.
pub fn render_all(
    _comparison: &Comparison,
    _columns: &[Column],
    _opts: &ChartOptions,
) -> Result<Vec<RenderedChart>> {
    Ok(Vec::new())
}
