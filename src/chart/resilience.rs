//! Chart stage, resilience: placeholder until the resilience figures land (same signature).

use super::{ChartOptions, RenderedChart};
use crate::error::Result;
use crate::resilience::Resilience;

/// The stems of the resilience charts (each written as `.png` and `.svg`).
pub const RESILIENCE_CHART_STEMS: [&str; 0] = [];

/// Draws every resilience chart, in memory.
pub fn render_all(_r: &Resilience, _opts: &ChartOptions) -> Result<Vec<RenderedChart>> {
    Ok(Vec::new())
}
