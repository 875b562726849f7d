//! Chart stage, the renderer: a figure is drawn once, as SVG, and the PNG is that SVG rasterised
//! by resvg with the bundled fonts loaded from memory (never the machine's fonts).
//!
//! Coordinates are pixels, written with one decimal; anything not finite (a value of 1e308 on a
//! scale) is clamped to a little beyond the image, so every path stays drawable. Text is written
//! as plotters did (`y` at the top of the em box, `dy="0.76em"` to the baseline), which the chart
//! tests parse.

use std::fmt::Write;
use std::sync::{Arc, OnceLock};

use resvg::{tiny_skia, usvg};

use super::palette::Rgba;
use super::text::{Font, CAP_HEIGHT_EM, DEJAVU_SANS, DEJAVU_SANS_BOLD};
use crate::error::{Error, Result};

/// The font family written into the SVG, with a generic fallback for viewers without DejaVu.
const FONT_FAMILY: &str = "DejaVu Sans, sans-serif";
const BOLD: &str = " font-weight=\"bold\"";

/// A position in pixels (or, for a dash, its length and the gap after it).
pub(crate) type Point = (f64, f64);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum Align {
    Left,
    #[default]
    Centre,
    Right,
}

/// An SVG document being drawn, in pixels: its opening tag, then the elements.
pub(crate) struct Svg {
    body: String,
    /// The hatch patterns, one per colour (`<pattern id="hatch-RRGGBB" …>`).
    defs: String,
}

/// A coordinate as written: finite, one decimal.
struct N(f64);

impl std::fmt::Display for N {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let v = if self.0.is_nan() { 0.0 } else { self.0 };
        let v = (v.clamp(-1e5, 1e5) * 10.0).round() / 10.0;
        write!(f, "{}", if v == 0.0 { 0.0 } else { v })
    }
}

fn hex(c: Rgba) -> String {
    format!("#{:02X}{:02X}{:02X}", c.r, c.g, c.b)
}

/// ` fill="#…"` and, when not opaque, its opacity.
fn paint(attr: &str, c: Rgba) -> String {
    let opacity = format!(" {attr}-opacity=\"{}\"", N(c.a));
    let opacity = if c.a < 1.0 { opacity.as_str() } else { "" };
    format!(" {attr}=\"{}\"{opacity}", hex(c))
}

fn escape(text: &str) -> String {
    let text = text.replace('&', "&amp;").replace('<', "&lt;");
    let text = text.replace('>', "&gt;").replace('"', "&quot;");
    text.replace('\'', "&apos;")
}

impl Svg {
    /// A white image of `width` × `height` pixels.
    pub fn new(width: u32, height: u32) -> Svg {
        let (w, h, xmlns) = (width, height, "http://www.w3.org/2000/svg");
        let body = format!(
            "<svg width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" xmlns=\"{xmlns}\">\n"
        );
        let defs = String::new();
        let mut svg = Svg { body, defs };
        svg.rect(0.0, 0.0, f64::from(w), f64::from(h), super::palette::WHITE);
        svg
    }

    pub fn rect(&mut self, x0: f64, y0: f64, x1: f64, y1: f64, fill: Rgba) {
        let (x, y, fill) = (N(x0.min(x1)), N(y0.min(y1)), paint("fill", fill));
        let (w, h) = (N((x1 - x0).abs()), N((y1 - y0).abs()));
        let rect = format!("<rect x=\"{x}\" y=\"{y}\" width=\"{w}\" height=\"{h}\"{fill}/>");
        self.body.push_str(&(rect + "\n"));
    }

    /// `<tag points="x,y x,y …"{attributes}/>`.
    fn points(&mut self, tag: &str, points: &[Point], attributes: &str) {
        let _ = write!(self.body, "<{tag} points=\"");
        for (i, (x, y)) in points.iter().enumerate() {
            let gap = if i == 0 { "" } else { " " };
            let _ = write!(self.body, "{gap}{},{}", N(*x), N(*y));
        }
        let _ = writeln!(self.body, "\"{attributes}/>");
    }

    pub fn polygon(&mut self, points: &[Point], fill: Rgba) {
        if points.len() >= 3 {
            self.points("polygon", points, &paint("fill", fill));
        }
    }

    /// The polygon covered with 45° lines of `colour`, `spacing` apart (a pattern, so neighbouring
    /// shapes' lines join up).
    pub fn hatch(&mut self, points: &[Point], colour: Rgba, spacing: f64, width: f64) {
        let id = format!("hatch-{}", &hex(colour)[1..]);
        if !self.defs.contains(&id) {
            let (c, w, s, m) = (hex(colour), N(width), N(spacing), N(spacing / 2.0));
            let _ = writeln!(
                self.defs,
                "<pattern id=\"{id}\" patternUnits=\"userSpaceOnUse\" width=\"{s}\" height=\"{s}\" patternTransform=\"rotate(45)\"><path d=\"M{m},0 V{s}\" stroke=\"{c}\" stroke-width=\"{w}\"/></pattern>"
            );
        }
        if points.len() >= 3 {
            self.points("polygon", points, &format!(" fill=\"url(#{id})\""));
        }
    }

    /// A polyline; `dash` = (dash, gap) in pixels.
    pub fn line(&mut self, points: &[Point], colour: Rgba, width: f64, dash: Option<Point>) {
        let pattern = |(d, g): (f64, f64)| format!(" stroke-dasharray=\"{} {}\"", N(d), N(g));
        let (stroke, dash) = (paint("stroke", colour), dash.map_or(String::new(), pattern));
        let attributes = format!(" fill=\"none\"{stroke} stroke-width=\"{}\"{dash}", N(width));
        if points.len() >= 2 {
            self.points("polyline", points, &attributes);
        }
    }

    /// A solid straight line from `a` to `b`.
    pub fn seg(&mut self, a: Point, b: Point, colour: Rgba, width: f64) {
        self.line(&[a, b], colour, width, None);
    }

    pub fn circle(&mut self, x: f64, y: f64, r: f64, fill: Rgba) {
        let (x, y, r, fill) = (N(x), N(y), N(r), paint("fill", fill));
        let _ = writeln!(self.body, "<circle cx=\"{x}\" cy=\"{y}\" r=\"{r}\"{fill}/>");
    }

    /// Text with the middle of its capitals at `y_mid`.
    pub fn text(&mut self, text: &str, x: f64, y_mid: f64, font: &Font, align: Align) {
        if text.is_empty() {
            return;
        }
        let anchor = match align {
            Align::Left => "start",
            Align::Centre => "middle",
            Align::Right => "end",
        };
        let top = N(y_mid + CAP_HEIGHT_EM * font.em / 2.0 - 0.76 * font.em);
        let (x, size, fill) = (N(x), N(font.em), paint("fill", font.colour));
        let bold = if font.bold { BOLD } else { "" };
        let _ = writeln!(
            self.body,
            "<text x=\"{x}\" y=\"{top}\" dy=\"0.76em\" text-anchor=\"{anchor}\" font-family=\"{FONT_FAMILY}\" font-size=\"{size}\"{fill}{bold}>\n{}\n</text>",
            escape(text)
        );
    }

    /// The document, with the hatch patterns defined after its opening tag.
    pub fn finish(self) -> String {
        let defs = match self.defs.is_empty() {
            true => self.defs,
            false => format!("<defs>\n{}</defs>\n", self.defs),
        };
        let (head, body) = self
            .body
            .split_at(self.body.find('\n').map_or(0, |i| i + 1));
        format!("{head}{defs}{body}</svg>\n")
    }
}

/// The bundled faces, in the only font database the rasteriser sees.
fn font_db() -> Arc<usvg::fontdb::Database> {
    static DB: OnceLock<Arc<usvg::fontdb::Database>> = OnceLock::new();
    DB.get_or_init(|| {
        let mut db = usvg::fontdb::Database::new();
        db.load_font_data(DEJAVU_SANS.to_vec());
        db.load_font_data(DEJAVU_SANS_BOLD.to_vec());
        db.set_sans_serif_family("DejaVu Sans");
        Arc::new(db)
    })
    .clone()
}

/// The SVG rasterised and encoded as an RGB PNG.
pub(crate) fn to_png(svg: &str, width: u32, height: u32) -> Result<Vec<u8>> {
    let options = usvg::Options {
        font_family: "DejaVu Sans".into(),
        fontdb: font_db(),
        ..usvg::Options::default()
    };
    let tree = usvg::Tree::from_str(svg, &options).map_err(failed)?;
    let mut pixmap = tiny_skia::Pixmap::new(width, height).ok_or_else(|| failed("empty image"))?;
    let identity = tiny_skia::Transform::identity();
    resvg::render(&tree, identity, &mut pixmap.as_mut());
    // The background is opaque white, so the premultiplied pixels are plain RGB.
    let mut rgb = vec![0u8; width as usize * height as usize * 3];
    for (to, from) in rgb.chunks_exact_mut(3).zip(pixmap.data().chunks_exact(4)) {
        to.copy_from_slice(&from[..3]);
    }
    let mut bytes = Vec::new();
    let mut encoder = png::Encoder::new(&mut bytes, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    encoder.set_compression(png::Compression::Fast);
    let mut writer = encoder.write_header().map_err(failed)?;
    writer.write_image_data(&rgb).map_err(failed)?;
    writer.finish().map_err(failed)?;
    Ok(bytes)
}

fn failed(e: impl std::fmt::Display) -> Error {
    Error::Chart(format!("PNG rendering failed: {e}"))
}
