//! Chart stage: the few drawing primitives the figures need, over any plotters backend, in pixels.
//!
//! Text is placed by the middle of its capital letters, because plotters' bitmap and SVG backends
//! put the baseline at different depths for the same anchor; compensating here makes PNG and SVG
//! line up with each other and with the ticks they label.

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::palette::Rgba;
use crate::error::{Error, Result};

/// The registered name of the bundled font; also the SVG `font-family`, with a generic fallback.
pub(crate) const FONT_FAMILY: &str = "DejaVu Sans, sans-serif";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Centre,
    Right,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Weight {
    Normal,
    Bold,
}

pub(crate) struct Canvas<DB: DrawingBackend> {
    area: DrawingArea<DB, Shift>,
    /// Where the backend puts the top of the layout box relative to the middle of capitals, as a
    /// fraction of the font size (measured for DejaVu Sans).
    cap_middle_below_top: f64,
}

fn chart_error<E: std::fmt::Debug>(e: E) -> Error {
    Error::Chart(format!("drawing failed: {e:?}"))
}

fn colour(c: Rgba) -> RGBAColor {
    RGBAColor(c.r, c.g, c.b, c.a)
}

fn font(size: f64, weight: Weight) -> FontDesc<'static> {
    let style = match weight {
        Weight::Normal => FontStyle::Normal,
        Weight::Bold => FontStyle::Bold,
    };
    FontDesc::new(FontFamily::Name(FONT_FAMILY), size, style)
}

impl<DB: DrawingBackend> Canvas<DB> {
    /// `svg`: the backend writes SVG `<text>` (baseline set by the viewer) rather than pixels.
    pub fn new(area: DrawingArea<DB, Shift>, svg: bool) -> Canvas<DB> {
        // Bitmap: baseline at top + 0.5·size, capitals 0.626·size tall → middle at 0.187·size.
        // SVG: font-size = size/1.24, baseline at top + 0.76 em, capitals 0.729 em → 0.318·size.
        let cap_middle_below_top = if svg { 0.318 } else { 0.187 };
        Canvas {
            area,
            cap_middle_below_top,
        }
    }

    pub fn clear(&self, c: Rgba) -> Result<()> {
        self.area.fill(&colour(c)).map_err(chart_error)
    }

    pub fn text_width(&self, text: &str, size: f64, weight: Weight) -> f64 {
        font(size, weight)
            .box_size(text)
            .map(|(w, _)| f64::from(w))
            .unwrap_or(0.0)
    }

    /// Draws `text` with the middle of its capitals at `y_mid`.
    pub fn text(
        &self,
        text: &str,
        x: f64,
        y_mid: f64,
        size: f64,
        weight: Weight,
        c: Rgba,
        align: Align,
    ) -> Result<()> {
        let h = match align {
            Align::Left => HPos::Left,
            Align::Centre => HPos::Center,
            Align::Right => HPos::Right,
        };
        let fill = colour(c);
        let style = font(size, weight).color(&fill).pos(Pos::new(h, VPos::Top));
        let y_top = y_mid - self.cap_middle_below_top * size;
        self.area
            .draw(&Text::new(text.to_string(), (px(x), px(y_top)), style))
            .map_err(chart_error)
    }

    /// Shortens `text` with an ellipsis until it fits in `max_width`.
    pub fn fit_text(&self, text: &str, size: f64, weight: Weight, max_width: f64) -> String {
        if self.text_width(text, size, weight) <= max_width {
            return text.to_string();
        }
        let chars: Vec<char> = text.chars().collect();
        for keep in (1..chars.len()).rev() {
            let candidate: String = chars[..keep].iter().collect::<String>() + "…";
            if self.text_width(&candidate, size, weight) <= max_width {
                return candidate;
            }
        }
        "…".to_string()
    }

    pub fn rect(&self, x0: f64, y0: f64, x1: f64, y1: f64, c: Rgba) -> Result<()> {
        let (a, b) = (
            (px(x0.min(x1)), px(y0.min(y1))),
            (px(x0.max(x1)), px(y0.max(y1))),
        );
        self.area
            .draw(&Rectangle::new([a, b], colour(c).filled()))
            .map_err(chart_error)
    }

    pub fn polygon(&self, points: &[(f64, f64)], c: Rgba) -> Result<()> {
        let points: Vec<(i32, i32)> = points.iter().map(|&(x, y)| (px(x), px(y))).collect();
        self.area
            .draw(&Polygon::new(points, colour(c).filled()))
            .map_err(chart_error)
    }

    pub fn polyline(&self, points: &[(f64, f64)], c: Rgba, width: f64) -> Result<()> {
        let mut points: Vec<(i32, i32)> = points.iter().map(|&(x, y)| (px(x), px(y))).collect();
        points.dedup();
        if points.len() < 2 {
            return Ok(());
        }
        let style = ShapeStyle {
            color: colour(c),
            filled: false,
            stroke_width: stroke(width),
        };
        self.area
            .draw(&PathElement::new(points, style))
            .map_err(chart_error)
    }

    pub fn line(&self, x0: f64, y0: f64, x1: f64, y1: f64, c: Rgba, width: f64) -> Result<()> {
        self.polyline(&[(x0, y0), (x1, y1)], c, width)
    }

    /// A dashed polyline: dashes of `dash` pixels with `gap` between, continuing round corners.
    pub fn dashed(
        &self,
        points: &[(f64, f64)],
        c: Rgba,
        width: f64,
        dash: f64,
        gap: f64,
    ) -> Result<()> {
        let period = dash + gap;
        let mut phase = 0.0; // distance along the current dash+gap period
        let mut current: Vec<(f64, f64)> = Vec::new();
        for w in points.windows(2) {
            let ((x0, y0), (x1, y1)) = (w[0], w[1]);
            let length = ((x1 - x0).powi(2) + (y1 - y0).powi(2)).sqrt();
            if length == 0.0 {
                continue;
            }
            let mut done = 0.0;
            while done < length {
                let at = |d: f64| (x0 + (x1 - x0) * d / length, y0 + (y1 - y0) * d / length);
                let in_dash = phase < dash;
                let room = if in_dash {
                    dash - phase
                } else {
                    period - phase
                };
                let step = room.min(length - done);
                if in_dash {
                    if current.is_empty() {
                        current.push(at(done));
                    }
                    current.push(at(done + step));
                }
                done += step;
                phase += step;
                if phase >= period - 1e-9 {
                    phase = 0.0;
                }
                if phase >= dash && !current.is_empty() {
                    self.polyline(&current, c, width)?;
                    current.clear();
                }
            }
        }
        if current.len() >= 2 {
            self.polyline(&current, c, width)?;
        }
        Ok(())
    }

    pub fn finish(self) -> Result<()> {
        self.area.present().map_err(chart_error)
    }
}

/// Pixel coordinates: rounded, so shared edges of adjacent shapes land on the same pixel.
fn px(v: f64) -> i32 {
    v.round() as i32
}

fn stroke(width: f64) -> u32 {
    width.round().max(1.0) as u32
}
