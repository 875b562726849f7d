//! Chart stage: text. A `Font` (size, weight, colour) measures text with the bundled DejaVu faces
//! (ab_glyph), with the advances and kerning the SVG's rasteriser uses, so a label measured to
//! fit is drawn to fit. Fitting is linear in the text's length (it stops at the first character
//! that no longer fits): a provider name of 100,000 characters costs no more than one of 100.

use std::sync::OnceLock;

use ab_glyph::{Font as _, FontRef, PxScale, ScaleFont};

use super::palette::Rgba;
use crate::error::{Error, Result};

pub(crate) static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
pub(crate) static DEJAVU_SANS_BOLD: &[u8] =
    include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// DejaVu Sans capital height: 1493 of 2048 units per em (regular and bold alike).
pub(crate) const CAP_HEIGHT_EM: f64 = 1493.0 / 2048.0;

/// Between the parts of a subtitle.
pub(crate) const SEPARATOR: &str = " · ";

/// The regular and the bold face, parsed once per process.
fn faces() -> Option<&'static [FontRef<'static>; 2]> {
    static FACES: OnceLock<Option<[FontRef<'static>; 2]>> = OnceLock::new();
    let parse = |bytes| FontRef::try_from_slice(bytes).ok();
    let faces = || Some([parse(DEJAVU_SANS)?, parse(DEJAVU_SANS_BOLD)?]);
    FACES.get_or_init(faces).as_ref()
}

/// Checks that the bundled faces parse; rendering calls this before measuring anything.
pub(crate) fn load() -> Result<()> {
    let failed = || Error::Chart("the bundled fonts could not be read".into());
    faces().map(|_| ()).ok_or_else(failed)
}

/// How a text run looks: size in pixels per em, weight, colour.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub(crate) struct Font {
    pub em: f64,
    pub bold: bool,
    pub colour: Rgba,
}

impl Font {
    pub fn new(em: f64, bold: bool, colour: Rgba) -> Font {
        Font { em, bold, colour }
    }
    pub fn bold(self, bold: bool) -> Font {
        Font { bold, ..self }
    }
    pub fn colour(self, colour: Rgba) -> Font {
        Font { colour, ..self }
    }
    pub fn size(self, em: f64) -> Font {
        Font { em, ..self }
    }

    /// The advance widths of `text`'s characters, kerning included, as a running total; stops
    /// (returning `None`) as soon as the total passes `limit`.
    fn run(&self, text: &str, limit: f64, mut each: impl FnMut(usize)) -> Option<f64> {
        let faces = faces().expect("text::load() is checked before any text is measured");
        let face = &faces[usize::from(self.bold)];
        // ab_glyph scales by ascent − descent; convert so that one em is `em` pixels.
        let units = face.units_per_em().unwrap_or(2048.0);
        let scale = PxScale::from(self.em as f32 * face.height_unscaled() / units);
        let face = face.as_scaled(scale);
        let (mut width, mut prev) = (0.0f64, None);
        for (i, c) in text.char_indices() {
            let id = face.glyph_id(c);
            let kern = prev.map_or(0.0, |p| face.kern(p, id));
            width += f64::from(kern) + f64::from(face.h_advance(id));
            prev = Some(id);
            if width > limit {
                return None;
            }
            each(i + c.len_utf8());
        }
        Some(width)
    }

    pub fn width(&self, text: &str) -> f64 {
        let width = self.run(text, f64::INFINITY, |_| {});
        width.unwrap_or(f64::INFINITY)
    }

    /// `text`, or its longest prefix that fits `max` with an ellipsis after it.
    pub fn fit(&self, text: &str, max: f64) -> String {
        if self.run(text, max, |_| {}).is_some() {
            return text.to_string();
        }
        let mut end = 0;
        self.run(text, max - self.width("…"), |at| end = at);
        format!("{}…", text[..end].trim_end())
    }

    /// `text` on at most two lines of `max`: broken at the last space (or after the last
    /// hyphen) that fits, the second line shortened with an ellipsis when it must be.
    pub fn wrap(&self, text: &str, max: f64) -> Vec<String> {
        let (mut end, mut last_break) = (0, None);
        let breaks = |at: usize| text[at..].starts_with(' ') || text[..at].ends_with('-');
        let fits = self.run(text, max, |at| {
            end = at;
            last_break = Some(at).filter(|at| breaks(*at)).or(last_break);
        });
        if fits.is_some() {
            return vec![text.to_string()];
        }
        let first = text.chars().next().map_or(0, char::len_utf8);
        let (head, tail) = text.split_at(last_break.unwrap_or(end.max(first)));
        let second = self.fit(tail.trim_start(), max);
        vec![head.trim_end().to_string(), second]
    }

    /// The parts of a subtitle (`a · b · c`) on at most `lines` lines of `max`: parts that no
    /// longer fit are left out whole from the end (a first part too long on its own gets an
    /// ellipsis).
    pub fn wrap_parts(&self, parts: &[String], max: f64, lines: usize) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for part in parts.iter().filter(|p| !p.trim().is_empty()) {
            if let Some(last) = out.last_mut() {
                let joined = format!("{last}{SEPARATOR}{part}");
                if self.run(&joined, max, |_| {}).is_some() {
                    *last = joined;
                    continue;
                }
            }
            if out.len() == lines {
                break;
            }
            out.push(self.fit(part, max));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn font() -> Font {
        load().unwrap();
        Font::new(20.0, false, super::super::palette::INK)
    }

    #[test]
    fn huge_names_fit_with_an_ellipsis() {
        let m = font();
        let long = "x".repeat(1_000_000);
        let fitted = m.fit(&long, 300.0);
        let wrapped = m.wrap(&long, 300.0);
        assert!(fitted.ends_with('…') && m.width(&fitted) <= 300.0);
        assert_eq!(wrapped.len(), 2);
        assert!(wrapped.iter().all(|l| m.width(l) <= 300.0));
    }

    #[test]
    fn wraps_at_spaces_and_leaves_out_whole_parts() {
        let m = font();
        assert!(m.width("Jan 2026") > 50.0);
        let lines = m.wrap("what-if number 4 with a long descriptive name", 200.0);
        assert_eq!(lines.len(), 2);
        assert!(!lines[0].ends_with(' ') && m.width(&lines[0]) <= 200.0);
        let parts = ["first part", "second part", "third part that is long"];
        let parts: Vec<String> = parts.iter().map(|s| s.to_string()).collect();
        let one = m.wrap_parts(&parts, m.width("first part · second part") + 1.0, 1);
        assert_eq!(one, ["first part · second part"]);
    }
}
