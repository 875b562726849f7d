//! SVG helpers for the chart tests: attributes, fills, and the box of every `<text>` measured with
//! the bundled font's advance widths (as the charts measure text), to check that no two labels
//! overlap or touch and none runs off the image.
#![allow(dead_code)]

use ab_glyph::{Font, FontRef, PxScale, ScaleFont};

/// The value of `name="…"` in an SVG element.
pub fn attr<'a>(element: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = element.find(&key)? + key.len();
    let end = element[start..].find('"')? + start;
    Some(&element[start..end])
}

/// The fill of every `<rect>`, in drawing order.
pub fn rect_fills(svg: &str) -> Vec<String> {
    svg.split("<rect")
        .skip(1)
        .filter_map(|e| attr(&e[..e.find('>').unwrap_or(e.len())], "fill").map(str::to_string))
        .collect()
}

#[derive(Debug)]
pub struct TextBox {
    /// Shown when a test fails.
    #[allow(dead_code)]
    pub text: String,
    pub x0: f64,
    pub x1: f64,
    pub y0: f64,
    pub y1: f64,
}

/// Every `<text>` of an SVG as a box: advance widths from the bundled font (as the charts measure
/// text), from the top of the capitals to the bottom of the descenders.
pub fn text_boxes(svg: &str) -> Vec<TextBox> {
    let regular = FontRef::try_from_slice(include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/fonts/DejaVuSans.ttf"
    )))
    .unwrap();
    let bold = FontRef::try_from_slice(include_bytes!(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/assets/fonts/DejaVuSans-Bold.ttf"
    )))
    .unwrap();
    let mut boxes = Vec::new();
    for part in svg.split("<text").skip(1) {
        let head_end = part.find('>').unwrap();
        let head = &part[..head_end];
        let body = &part[head_end + 1..part.find("</text>").unwrap()];
        let text = body
            .trim()
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&");
        let num = |n: &str| attr(head, n).unwrap().parse::<f64>().unwrap();
        let (x, y, em) = (num("x"), num("y"), num("font-size"));
        let font = if attr(head, "font-weight") == Some("bold") {
            &bold
        } else {
            &regular
        };
        let scale =
            PxScale::from(em as f32 * font.height_unscaled() / font.units_per_em().unwrap());
        let scaled = font.as_scaled(scale);
        let mut width = 0.0f32;
        let mut prev = None;
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                width += scaled.kern(p, id);
            }
            width += scaled.h_advance(id);
            prev = Some(id);
        }
        let width = f64::from(width);
        let x0 = match attr(head, "text-anchor") {
            Some("middle") => x - width / 2.0,
            Some("end") => x - width,
            _ => x,
        };
        // dy = 0.76em puts the baseline 0.76 em below y; capitals rise 0.73 em, descenders 0.24 em.
        let baseline = y + 0.76 * em;
        boxes.push(TextBox {
            text,
            x0,
            x1: x0 + width,
            y0: baseline - 0.73 * em,
            y1: baseline + 0.24 * em,
        });
    }
    boxes
}

/// No text box overlaps another by more than half a pixel, and none runs off the image.
pub fn assert_text_fits(svg: &str, name: &str, w: u32, h: u32) {
    assert_text_apart(svg, name, w, h, -0.5);
}

/// Every two text boxes at least `gap` pixels apart (across or down; a negative gap allows
/// that much overlap), and none runs off the image.
pub fn assert_text_apart(svg: &str, name: &str, w: u32, h: u32, gap: f64) {
    let boxes = text_boxes(svg);
    assert!(!boxes.is_empty(), "{name} has no text");
    for b in &boxes {
        assert!(
            b.x0 >= -0.5
                && b.x1 <= f64::from(w) + 0.5
                && b.y0 >= -0.5
                && b.y1 <= f64::from(h) + 0.5,
            "{name} at {w}x{h}: {:?} runs off the image",
            b
        );
    }
    for (i, a) in boxes.iter().enumerate() {
        for b in &boxes[i + 1..] {
            let apart_x = a.x0.max(b.x0) - a.x1.min(b.x1);
            let apart_y = a.y0.max(b.y0) - a.y1.min(b.y1);
            assert!(
                apart_x >= gap || apart_y >= gap,
                "{name} at {w}x{h}: {a:?} and {b:?} are closer than {gap} px"
            );
        }
    }
}

/// The text of every `<text>`, in drawing order.
pub fn texts(svg: &str) -> Vec<String> {
    text_boxes(svg).into_iter().map(|b| b.text).collect()
}

/// The fill of every `<polygon>`, in drawing order.
pub fn polygon_fills(svg: &str) -> Vec<String> {
    svg.split("<polygon")
        .skip(1)
        .filter_map(|e| attr(&e[..e.find('>').unwrap_or(e.len())], "fill").map(str::to_string))
        .collect()
}
