//! Chart stage: text metrics and PNG text, straight from the bundled DejaVu font with ab_glyph.
//!
//! Plotters' bitmap text drops each glyph's side bearing and rounds every pen position, which
//! shows as uneven letter spacing ("Ju n") at slide sizes. So the PNG path rasterises text here,
//! with kerning, bearings and sub-pixel pen positions, and measures text with the same numbers
//! the SVG viewer will use (font-size = size / 1.24, as plotters' SVG backend writes it).

use std::sync::OnceLock;

/// Horizontal alignment of a text run at its anchor.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Align {
    Left,
    Centre,
    Right,
}

/// Font weight of a text run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Weight {
    Normal,
    Bold,
}

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};

use super::palette::Rgba;
use crate::error::{Error, Result};

/// DejaVu Sans capital height: 1493 of 2048 units per em (regular and bold alike).
pub(crate) const CAP_HEIGHT_EM: f64 = 1493.0 / 2048.0;

/// The em size of a plotters font size, as plotters' SVG backend writes `font-size`.
pub(crate) fn em_px(size: f64) -> f64 {
    size / 1.24
}

pub(crate) struct Fonts {
    regular: FontRef<'static>,
    bold: FontRef<'static>,
}

/// The bundled faces, parsed once per process.
pub(crate) fn fonts(regular: &'static [u8], bold: &'static [u8]) -> Result<&'static Fonts> {
    static FONTS: OnceLock<std::result::Result<Fonts, String>> = OnceLock::new();
    FONTS
        .get_or_init(|| {
            let parse = |bytes: &'static [u8], what: &str| {
                FontRef::try_from_slice(bytes)
                    .map_err(|_| format!("the bundled {what} font could not be read"))
            };
            Ok(Fonts {
                regular: parse(regular, "regular")?,
                bold: parse(bold, "bold")?,
            })
        })
        .as_ref()
        .map_err(|e| Error::Chart(e.clone()))
}

/// A piece of text to rasterise once the shapes are drawn (text is always on top).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TextOp {
    pub text: String,
    pub x: f64,
    /// Middle of the capitals.
    pub y_mid: f64,
    pub size: f64,
    pub weight: Weight,
    pub colour: Rgba,
    pub align: Align,
}

impl Fonts {
    fn face(&self, weight: Weight) -> &FontRef<'static> {
        match weight {
            Weight::Normal => &self.regular,
            Weight::Bold => &self.bold,
        }
    }

    /// ab_glyph scales by ascent − descent; convert so one em is `em_px(size)` pixels.
    fn scale(&self, weight: Weight, size: f64) -> PxScale {
        let face = self.face(weight);
        let units_per_em = face.units_per_em().unwrap_or(2048.0);
        PxScale::from((em_px(size) as f32) * face.height_unscaled() / units_per_em)
    }

    /// Advance width of `text` in pixels, kerning included.
    pub fn width(&self, text: &str, size: f64, weight: Weight) -> f64 {
        let face = self.face(weight).as_scaled(self.scale(weight, size));
        let mut width = 0.0f32;
        let mut prev = None;
        for c in text.chars() {
            let id = face.glyph_id(c);
            if let Some(p) = prev {
                width += face.kern(p, id);
            }
            width += face.h_advance(id);
            prev = Some(id);
        }
        f64::from(width)
    }

    /// Blends `op` into a packed RGB buffer of `width` × `height` pixels.
    pub fn rasterise(&self, rgb: &mut [u8], width: u32, height: u32, op: &TextOp) {
        let text_width = self.width(&op.text, op.size, op.weight);
        let left = match op.align {
            Align::Left => op.x,
            Align::Centre => op.x - text_width / 2.0,
            Align::Right => op.x - text_width,
        };
        let baseline = op.y_mid + CAP_HEIGHT_EM * em_px(op.size) / 2.0;
        let scale = self.scale(op.weight, op.size);
        let face = self.face(op.weight).as_scaled(scale);
        let mut pen = left as f32;
        let mut prev = None;
        let colour = [
            f32::from(op.colour.r),
            f32::from(op.colour.g),
            f32::from(op.colour.b),
        ];
        let alpha = op.colour.a as f32;
        for c in op.text.chars() {
            let id = face.glyph_id(c);
            if let Some(p) = prev {
                pen += face.kern(p, id);
            }
            let glyph = id.with_scale_and_position(scale, point(pen, baseline as f32));
            if let Some(outlined) = face.outline_glyph(glyph) {
                let bounds = outlined.px_bounds();
                outlined.draw(|gx, gy, coverage| {
                    let x = bounds.min.x as i64 + i64::from(gx);
                    let y = bounds.min.y as i64 + i64::from(gy);
                    if x < 0 || y < 0 || x >= i64::from(width) || y >= i64::from(height) {
                        return;
                    }
                    let a = (coverage.clamp(0.0, 1.0) * alpha).min(1.0);
                    let i = (y as usize * width as usize + x as usize) * 3;
                    for k in 0..3 {
                        let under = f32::from(rgb[i + k]);
                        rgb[i + k] = (under + (colour[k] - under) * a).round() as u8;
                    }
                });
            }
            pen += face.h_advance(id);
            prev = Some(id);
        }
    }
}
