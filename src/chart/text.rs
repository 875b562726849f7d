//! Chart stage: text metrics from the bundled DejaVu font (ab_glyph), and text fitting.
//!
//! Every layout decision measures text here, with the advances and kerning the SVG's rasteriser
//! uses, so a label measured to fit is drawn to fit. Fitting is linear in the text's length (it
//! stops at the first character that no longer fits): a provider name of 100,000 characters costs
//! no more than one of 100.

use std::sync::OnceLock;

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};

use crate::error::{Error, Result};

pub(crate) static DEJAVU_SANS: &[u8] = include_bytes!("../../assets/fonts/DejaVuSans.ttf");
pub(crate) static DEJAVU_SANS_BOLD: &[u8] =
    include_bytes!("../../assets/fonts/DejaVuSans-Bold.ttf");

/// DejaVu Sans capital height: 1493 of 2048 units per em (regular and bold alike).
pub(crate) const CAP_HEIGHT_EM: f64 = 1493.0 / 2048.0;

const ELLIPSIS: char = '…';

struct Faces {
    regular: FontRef<'static>,
    bold: FontRef<'static>,
}

static FACES: OnceLock<std::result::Result<Faces, String>> = OnceLock::new();

fn faces() -> &'static std::result::Result<Faces, String> {
    FACES.get_or_init(|| {
        let parse = |bytes: &'static [u8], what: &str| {
            FontRef::try_from_slice(bytes)
                .map_err(|_| format!("the bundled {what} font could not be read"))
        };
        Ok(Faces {
            regular: parse(DEJAVU_SANS, "regular")?,
            bold: parse(DEJAVU_SANS_BOLD, "bold")?,
        })
    })
}

/// Parses the bundled faces (once per process); rendering checks this before measuring.
pub(crate) fn load() -> Result<()> {
    faces()
        .as_ref()
        .map(|_| ())
        .map_err(|e| Error::Chart(e.clone()))
}

/// Measures text at a font size (pixels per em) and weight.
#[derive(Clone, Copy)]
pub(crate) struct Measure {
    face: &'static FontRef<'static>,
    scale: PxScale,
}

impl Measure {
    pub fn new(em: f64, bold: bool) -> Measure {
        let Ok(faces) = faces() else {
            panic!("the bundled fonts are checked by text::load() before any text is measured")
        };
        let face = if bold { &faces.bold } else { &faces.regular };
        // ab_glyph scales by ascent − descent; convert so that one em is `em` pixels.
        let units = face.units_per_em().unwrap_or(2048.0);
        let scale = PxScale::from(em as f32 * face.height_unscaled() / units);
        Measure { face, scale }
    }

    /// The advance widths of `text`'s characters, kerning included, as a running total; stops
    /// (returning `None`) as soon as the total passes `limit`.
    fn run(&self, text: &str, limit: f64, mut each: impl FnMut(usize, f64)) -> Option<f64> {
        let face = self.face.as_scaled(self.scale);
        let (mut width, mut prev) = (0.0f64, None);
        for (i, c) in text.char_indices() {
            let id = face.glyph_id(c);
            if let Some(p) = prev {
                width += f64::from(face.kern(p, id));
            }
            width += f64::from(face.h_advance(id));
            prev = Some(id);
            if width > limit {
                return None;
            }
            each(i + c.len_utf8(), width);
        }
        Some(width)
    }

    pub fn width(&self, text: &str) -> f64 {
        self.run(text, f64::INFINITY, |_, _| {})
            .unwrap_or(f64::INFINITY)
    }

    /// `text`, or its longest prefix that fits `max` with an ellipsis after it.
    pub fn fit(&self, text: &str, max: f64) -> String {
        if self.run(text, max, |_, _| {}).is_some() {
            return text.to_string();
        }
        let room = max - self.width("…");
        let mut end = 0;
        self.run(text, room, |at, _| end = at);
        format!("{}{ELLIPSIS}", text[..end].trim_end())
    }

    /// `text` on at most two lines of `max`: broken at the last space (or after the last
    /// hyphen) that fits, the second line shortened with an ellipsis when it must be.
    pub fn wrap(&self, text: &str, max: f64) -> Vec<String> {
        let (mut end, mut last_break) = (0, None);
        let fits = self
            .run(text, max, |at, _| {
                end = at;
                let next = text[at..].chars().next();
                if next == Some(' ') || text[..at].ends_with('-') {
                    last_break = Some(at);
                }
            })
            .is_some();
        if fits {
            return vec![text.to_string()];
        }
        let split = last_break.unwrap_or(end.max(text.chars().next().map_or(0, char::len_utf8)));
        let (head, tail) = text.split_at(split);
        vec![
            head.trim_end().to_string(),
            self.fit(tail.trim_start(), max),
        ]
    }
}

/// The parts of a subtitle (`a · b · c`) on at most `lines` lines of `max`: parts that no longer
/// fit are left out whole from the end (a first part too long on its own gets an ellipsis).
pub(crate) fn wrap_parts(m: &Measure, parts: &[String], max: f64, lines: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for part in parts.iter().filter(|p| !p.trim().is_empty()) {
        if let Some(last) = out.last_mut() {
            let joined = format!("{last}{SEPARATOR}{part}");
            if m.run(&joined, max, |_, _| {}).is_some() {
                *last = joined;
                continue;
            }
        }
        if out.len() == lines {
            break;
        }
        out.push(m.fit(part, max));
    }
    out
}

/// Between the parts of a subtitle.
pub(crate) const SEPARATOR: &str = " · ";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn huge_names_fit_with_an_ellipsis() {
        let m = Measure::new(20.0, false);
        let long = "x".repeat(1_000_000);
        let fitted = m.fit(&long, 300.0);
        let wrapped = m.wrap(&long, 300.0);
        assert!(fitted.ends_with('…') && m.width(&fitted) <= 300.0);
        assert_eq!(wrapped.len(), 2);
        assert!(wrapped.iter().all(|l| m.width(l) <= 300.0));
    }

    #[test]
    fn wraps_at_spaces_and_leaves_out_whole_parts() {
        let m = Measure::new(20.0, false);
        assert!(m.width("Jan 2026") > 50.0);
        let lines = m.wrap("what-if number 4 with a long descriptive name", 200.0);
        assert_eq!(lines.len(), 2);
        assert!(!lines[0].ends_with(' ') && m.width(&lines[0]) <= 200.0);
        let parts: Vec<String> = ["first part", "second part", "third part that is long"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let one = wrap_parts(&m, &parts, m.width("first part · second part") + 1.0, 1);
        assert_eq!(one, ["first part · second part"]);
    }
}
