//! Chart stage: the few drawing primitives the figures need, over any plotters backend, in pixels.
//!
//! Text is placed by the middle of its capital letters so labels line up with the ticks they name.
//! In SVG it goes through plotters as `<text>`; for PNG it is collected and rasterised last by
//! `text` (text is always on top, so drawing it last changes nothing but its quality).

use std::cell::RefCell;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::palette::Rgba;
use super::text::{em_px, Fonts, TextOp, CAP_HEIGHT_EM};
use crate::error::{Error, Result};

/// The registered name of the bundled font; also the SVG `font-family`, with a generic fallback.
pub(crate) const FONT_FAMILY: &str = "DejaVu Sans, sans-serif";

pub(crate) use super::text::{Align, Weight};

pub(crate) struct Canvas<DB: DrawingBackend> {
    area: DrawingArea<DB, Shift>,
    fonts: &'static Fonts,
    svg: bool,
    /// Text for the PNG path, rasterised after the shapes.
    deferred_text: RefCell<Vec<TextOp>>,
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
    /// `svg`: the backend writes SVG `<text>` (glyphs drawn by the viewer) rather than pixels.
    pub fn new(area: DrawingArea<DB, Shift>, fonts: &'static Fonts, svg: bool) -> Canvas<DB> {
        Canvas {
            area,
            fonts,
            svg,
            deferred_text: RefCell::new(Vec::new()),
        }
    }

    pub fn clear(&self, c: Rgba) -> Result<()> {
        self.area.fill(&colour(c)).map_err(chart_error)
    }

    pub fn text_width(&self, text: &str, size: f64, weight: Weight) -> f64 {
        self.fonts.width(text, size, weight)
    }

    /// Draws `text` with the middle of its capitals at `y_mid`.
    #[allow(clippy::too_many_arguments)]
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
        if !self.svg {
            self.deferred_text.borrow_mut().push(TextOp {
                text: text.to_string(),
                x,
                y_mid,
                size,
                weight,
                colour: c,
                align,
            });
            return Ok(());
        }
        let h = match align {
            Align::Left => HPos::Left,
            Align::Centre => HPos::Center,
            Align::Right => HPos::Right,
        };
        let fill = colour(c);
        let style = font(size, weight).color(&fill).pos(Pos::new(h, VPos::Top));
        // Plotters' SVG backend sets the baseline 0.76 em below the given top.
        let em = em_px(size);
        let y_top = y_mid + CAP_HEIGHT_EM * em / 2.0 - 0.76 * em;
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

    /// A filled disc of radius `r` pixels centred on (x, y).
    pub fn circle(&self, x: f64, y: f64, r: f64, c: Rgba) -> Result<()> {
        let radius = r.round().max(1.0) as u32;
        self.area
            .draw(&Circle::new((px(x), px(y)), radius, colour(c).filled()))
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

    /// Flushes the backend; returns the text still to rasterise (PNG path).
    pub fn finish(self) -> Result<Vec<TextOp>> {
        self.area.present().map_err(chart_error)?;
        Ok(self.deferred_text.into_inner())
    }
}

/// Pixel coordinates: rounded, so shared edges of adjacent shapes land on the same pixel.
fn px(v: f64) -> i32 {
    v.round() as i32
}

fn stroke(width: f64) -> u32 {
    width.round().max(1.0) as u32
}
