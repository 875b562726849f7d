//! Chart stage: deck-ready PNG and SVG charts drawn from the report tables (never from the solver).
//!
//! The per-command files (`run`, `compare`, `resilience`, `robust`, `sweep`) turn report rows
//! into [`figure::Figure`]s, plain data that unit tests check without pixels; `layout` places
//! every figure the same way (text measured by `text` with the bundled font) and draws it once,
//! as SVG (`svg`). The PNG is that SVG rasterised by resvg with the bundled DejaVu faces as its
//! only fonts: one drawing, so the PNG cannot show other text than the SVG (plotters' bitmap
//! text dropped side bearings and was not anti-aliased). Everything is a pure, bounded function
//! of the tables and the options (no clock, no machine fonts), so the same report gives
//! byte-identical files anywhere.

pub mod compare;
mod figure;
mod layout;
mod palette;
pub mod resilience;
pub mod robust;
mod run;
mod svg;
pub mod sweep;
mod text;
mod ticks;

use crate::error::{Error, Result};
use crate::report::tables::ChartTables;

use self::figure::Figure;

/// Image size in pixels. Fonts, margins and line widths scale with it (designed at 1920×1080).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChartOptions {
    pub width: u32,
    pub height: u32,
}

impl Default for ChartOptions {
    fn default() -> ChartOptions {
        ChartOptions {
            width: 1920,
            height: 1080,
        }
    }
}

/// Every chart of a command, encoded, or why it could not be drawn.
pub type Charts = Result<Vec<RenderedChart>>;

/// One chart file, encoded; the caller decides where and how to write it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedChart {
    /// Bare file name, e.g. `capacity_vs_demand.png`.
    pub file_name: String,
    pub bytes: Vec<u8>,
}

/// Smallest and largest sizes that still lay out sensibly (and fit in memory comfortably).
pub const MIN_SIDE_PX: u32 = 320;
pub const MAX_SIDE_PX: u32 = 8192;

/// The stem of every chart `render_all` can draw (each written as `.png` and `.svg`).
pub const CHART_STEMS: [&str; 5] = [
    "allocation_by_provider",
    "capacity_vs_demand",
    "commitments",
    "cost_by_provider",
    "regions",
];

/// Draws every run chart (`CHART_STEMS`; `regions` only with two demand regions or more) as PNG
/// and SVG, in memory (the caller writes files atomically), sorted by file name.
pub fn render_all(tables: &ChartTables, opts: &ChartOptions) -> Charts {
    check_size(opts)?;
    render(run::figures(tables, opts)?, opts)
}

fn check_size(opts: &ChartOptions) -> Result<()> {
    for (what, side) in [("width", opts.width), ("height", opts.height)] {
        if !(MIN_SIDE_PX..=MAX_SIDE_PX).contains(&side) {
            let range = format!("{MIN_SIDE_PX}..={MAX_SIDE_PX}");
            let message = format!("chart {what} {side} px is outside {range} px");
            return Err(Error::Chart(message));
        }
    }
    Ok(())
}

/// Draws each figure as SVG and rasterises it to PNG; sorted by file name.
fn render(figures: Vec<(&str, Figure)>, opts: &ChartOptions) -> Charts {
    check_size(opts)?;
    text::load()?;
    let mut out = Vec::with_capacity(figures.len() * 2);
    for (stem, fig) in &figures {
        let svg = layout::draw(fig, opts.width, opts.height);
        let png = svg::to_png(&svg, opts.width, opts.height)?;
        for (kind, bytes) in [("png", png), ("svg", svg.into_bytes())] {
            let file_name = format!("{stem}.{kind}");
            out.push(RenderedChart { file_name, bytes });
        }
    }
    out.sort_by(|a, b| a.file_name.cmp(&b.file_name));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_unusable_sizes() {
        let tables = ChartTables::default();
        let opts = ChartOptions {
            width: 100,
            height: 1080,
        };
        let err = render_all(&tables, &opts).unwrap_err();
        assert!(err.to_string().contains("width 100 px"), "{err}");
    }
}
