//! Chart stage: deck-ready PNG and SVG charts drawn from the report tables (never from the solver).
//!
//! `render_all` is a pure function of the tables and the options: text comes from the DejaVu font
//! bundled in `assets/fonts/` (never the machine's fonts), nothing reads a clock or the file system,
//! so the same report gives byte-identical images on every machine. Plotters stays inside this module.

mod bars;
mod canvas;
pub mod compare;
mod data;
mod figure;
mod figures;
mod gantt;
mod palette;
pub mod resilience;
pub mod sweep;
mod text;
mod ticks;

use std::sync::OnceLock;

use plotters::prelude::{BitMapBackend, IntoDrawingArea, SVGBackend};
use plotters::style::FontStyle;

use crate::error::{Error, Result};
use crate::report::tables::ChartTables;

use self::canvas::{Canvas, FONT_FAMILY};
use self::figure::Figure;

static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
static DEJAVU_SANS_BOLD: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

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

/// Draws every chart as PNG and SVG, in memory (the caller writes files atomically).
///
/// Charts: `capacity_vs_demand`, `allocation_by_provider`, `cost_by_provider`, `commitments` (the
/// tranches to reserve, from commitments.csv), and `regions` when there are at least two demand
/// regions; sorted by file name.
pub fn render_all(tables: &ChartTables, opts: &ChartOptions) -> Result<Vec<RenderedChart>> {
    check_size(opts)?;
    let series = data::Series::from_tables(tables)?;
    let mut figures = vec![
        (
            "capacity_vs_demand",
            figures::capacity_vs_demand(&tables.info, &series),
        ),
        (
            "allocation_by_provider",
            figures::allocation_by_provider(&tables.info, &series),
        ),
        (
            "cost_by_provider",
            figures::cost_by_provider(&tables.info, &series),
        ),
    ];
    if series.regions.len() >= 2 {
        figures.push(("regions", figures::regions(&tables.info, &series)));
    }
    let mut drawings: Vec<(&str, Drawing)> = figures
        .into_iter()
        .map(|(stem, fig)| (stem, Drawing::Time(fig)))
        .collect();
    let horizon = (
        series.periods.first().map_or(0.0, |p| p.start_s),
        series.periods.last().map_or(1.0, |p| p.end_s()),
    );
    drawings.push((
        "commitments",
        Drawing::Gantt(gantt::commitments(
            &tables.info,
            &tables.commitments,
            horizon,
        )),
    ));
    render(drawings, opts)
}

/// A chart to draw: a time chart or a bar chart by category.
pub(crate) enum Drawing {
    Time(Figure),
    Bars(bars::BarFigure),
    Resilience(resilience::Kind, Box<crate::resilience::Resilience>),
    Gantt(gantt::GanttFigure),
}

impl Drawing {
    fn draw<DB: plotters::prelude::DrawingBackend>(
        &self,
        canvas: &Canvas<DB>,
        width: u32,
        height: u32,
    ) -> Result<()> {
        match self {
            Drawing::Time(fig) => figure::draw(canvas, fig, width, height),
            Drawing::Bars(fig) => bars::draw(canvas, fig, width, height),
            Drawing::Resilience(kind, r) => {
                resilience::draw(canvas, *kind, r, &ChartOptions { width, height })
            }
            Drawing::Gantt(fig) => gantt::draw(canvas, fig, width, height),
        }
    }
}

fn check_size(opts: &ChartOptions) -> Result<()> {
    for (what, side) in [("width", opts.width), ("height", opts.height)] {
        if !(MIN_SIDE_PX..=MAX_SIDE_PX).contains(&side) {
            return Err(Error::Chart(format!(
                "chart {what} {side} px is outside {MIN_SIDE_PX}..={MAX_SIDE_PX} px"
            )));
        }
    }
    Ok(())
}

/// Draws each chart as PNG and SVG, sorted by file name.
pub(crate) fn render(
    figures: Vec<(&str, Drawing)>,
    opts: &ChartOptions,
) -> Result<Vec<RenderedChart>> {
    check_size(opts)?;
    register_fonts()?;
    let fonts = text::fonts(DEJAVU_SANS, DEJAVU_SANS_BOLD)?;
    let mut out = Vec::with_capacity(figures.len() * 2);
    for (stem, fig) in &figures {
        out.push(RenderedChart {
            file_name: format!("{stem}.png"),
            bytes: render_png(fig, fonts, opts)?,
        });
        out.push(RenderedChart {
            file_name: format!("{stem}.svg"),
            bytes: render_svg(fig, fonts, opts)?.into_bytes(),
        });
    }
    out.sort_by(|a, b| a.file_name.cmp(&b.file_name));
    Ok(out)
}

/// Registers the bundled font once per process; plotters keeps a global font table.
fn register_fonts() -> Result<()> {
    static REGISTERED: OnceLock<std::result::Result<(), String>> = OnceLock::new();
    REGISTERED
        .get_or_init(|| {
            for (style, bytes) in [
                (FontStyle::Normal, DEJAVU_SANS),
                (FontStyle::Bold, DEJAVU_SANS_BOLD),
            ] {
                plotters::style::register_font(FONT_FAMILY, style, bytes).map_err(|_| {
                    format!("the bundled font ({}) could not be read", style.as_str())
                })?;
            }
            Ok(())
        })
        .clone()
        .map_err(Error::Chart)
}

fn render_svg(fig: &Drawing, fonts: &'static text::Fonts, opts: &ChartOptions) -> Result<String> {
    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, (opts.width, opts.height)).into_drawing_area();
        let canvas = Canvas::new(area, fonts, true);
        fig.draw(&canvas, opts.width, opts.height)?;
        canvas.finish()?;
    }
    Ok(svg)
}

fn render_png(fig: &Drawing, fonts: &'static text::Fonts, opts: &ChartOptions) -> Result<Vec<u8>> {
    let mut rgb = vec![0u8; opts.width as usize * opts.height as usize * 3];
    let deferred_text = {
        let area =
            BitMapBackend::with_buffer(&mut rgb, (opts.width, opts.height)).into_drawing_area();
        let canvas = Canvas::new(area, fonts, false);
        fig.draw(&canvas, opts.width, opts.height)?;
        canvas.finish()?
    };
    for op in &deferred_text {
        fonts.rasterise(&mut rgb, opts.width, opts.height, op);
    }
    encode_png(&rgb, opts.width, opts.height)
}

/// Encodes an RGB buffer; charts are flat colour, so fast compression is nearly as small.
fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    {
        let mut encoder = png::Encoder::new(&mut bytes, width, height);
        encoder.set_color(png::ColorType::Rgb);
        encoder.set_depth(png::BitDepth::Eight);
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder
            .write_header()
            .map_err(|e| Error::Chart(format!("PNG encoding failed: {e}")))?;
        writer
            .write_image_data(rgb)
            .map_err(|e| Error::Chart(format!("PNG encoding failed: {e}")))?;
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_unusable_sizes() {
        let tables = ChartTables::default();
        let err = render_all(
            &tables,
            &ChartOptions {
                width: 100,
                height: 1080,
            },
        )
        .unwrap_err();
        assert!(err.to_string().contains("width 100 px"), "{err}");
    }

    #[test]
    fn bundled_fonts_register() {
        register_fonts().unwrap();
        let fonts = text::fonts(DEJAVU_SANS, DEJAVU_SANS_BOLD).unwrap();
        assert!(fonts.width("Jan 2026", 25.0, canvas::Weight::Normal) > 50.0);
    }
}
