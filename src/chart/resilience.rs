//! Chart stage, resilience: the plans × losses matrix of `capplan resilience` as two deck-ready
//! charts, drawn straight on the canvas primitives (not through `figure`, which is about time axes).
//!
//! - `resilience_heatmap`: served % per plan (rows) and loss (columns, `none` set apart first) on a
//!   viridis ramp (colour-blind safe, dark = little served), the value printed in every cell;
//!   many losses wrap into bands of columns, each band repeating `none` for comparison.
//! - `resilience_cost_vs_served`: each plan as a point, x = served % in its worst single loss,
//!   y = $ per million tokens served under its normal policy; multi-cloud highlighted.
//!
//! Pure functions of the `Resilience` and the options, like every chart: same input, same bytes.

use plotters::prelude::DrawingBackend;

use super::canvas::{Align, Canvas, Weight};
use super::palette::{self, rgb, Rgba};
use super::ticks::{self, Unit};
use super::{ChartOptions, RenderedChart};
use crate::error::Result;
use crate::resilience::Resilience;

/// The stems of the resilience charts (each written as `.png` and `.svg`).
pub const RESILIENCE_CHART_STEMS: [&str; 2] = ["resilience_cost_vs_served", "resilience_heatmap"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Heatmap,
    CostVsServed,
}

/// Draws every resilience chart as PNG and SVG, in memory, sorted by file name.
pub fn render_all(r: &Resilience, opts: &ChartOptions) -> Result<Vec<RenderedChart>> {
    super::render(
        vec![
            (
                "resilience_heatmap",
                super::Drawing::Resilience(Kind::Heatmap, Box::new(r.clone())),
            ),
            (
                "resilience_cost_vs_served",
                super::Drawing::Resilience(Kind::CostVsServed, Box::new(r.clone())),
            ),
        ],
        opts,
    )
}

pub(crate) fn draw<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    kind: Kind,
    r: &Resilience,
    opts: &ChartOptions,
) -> Result<()> {
    let (w, h) = (f64::from(opts.width), f64::from(opts.height));
    let m = Metrics {
        s: (w / 1920.0).min(h / 1080.0),
        w,
        h,
    };
    canvas.clear(palette::WHITE)?;
    match kind {
        Kind::Heatmap => heatmap(canvas, &m, r),
        Kind::CostVsServed => cost_vs_served(canvas, &m, r),
    }
}

/// Sizes in pixels for the image; the design is done at 1920×1080.
struct Metrics {
    s: f64,
    w: f64,
    h: f64,
}

impl Metrics {
    fn px(&self, at_1080p: f64) -> f64 {
        at_1080p * self.s
    }
    fn margin(&self) -> f64 {
        self.px(40.0)
    }
    /// The smallest text drawn: still legible on a small slide.
    fn min_text(&self) -> f64 {
        self.px(14.0).max(10.0)
    }
}

/// A served percentage as the report writes it: one decimal, rounded down ("at least"), with
/// solver tolerance taken out so that 79.9999999884 reads 80% (as `resilience.md` does).
pub(crate) fn served_label(v: f64) -> String {
    crate::resilience::write::at_least_pct(v)
}

/// The rules the matrix was measured under, as subtitle pieces.
fn rules(r: &Resilience) -> Vec<String> {
    let mut parts = vec![
        "each plan held to its own reservations".to_string(),
        "emergency rules (no share cap, no N-1)".to_string(),
        if r.window.is_empty() {
            "lost for the whole horizon".to_string()
        } else {
            format!("lost in {}", r.window.replace("T00:00:00Z", ""))
        },
    ];
    if r.on_demand_availability < 1.0 {
        parts.push(format!(
            "{}% of on-demand capacity left elsewhere",
            crate::units::fixed(r.on_demand_availability * 100.0)
        ));
    }
    parts
}

/// Title and a subtitle of `parts` joined by " · ", wrapped onto at most two lines; returns the
/// y below which content may start.
fn header<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    m: &Metrics,
    title: &str,
    parts: &[String],
) -> Result<f64> {
    let margin = m.margin();
    let title_size = m.px(50.0);
    let subtitle_size = m.px(30.0);
    let room = m.w - 2.0 * margin;
    let title = canvas.fit_text(title, title_size, Weight::Bold, room);
    let title_mid = margin + title_size * 0.35;
    canvas.text(
        &title,
        margin,
        title_mid,
        title_size,
        Weight::Bold,
        palette::INK,
        Align::Left,
    )?;
    let mut lines: Vec<String> = Vec::new();
    for part in parts {
        let joined = match lines.last() {
            Some(last) => format!("{last} · {part}"),
            None => part.clone(),
        };
        if lines.is_empty() {
            lines.push(joined);
        } else if canvas.text_width(&joined, subtitle_size, Weight::Normal) <= room
            || lines.len() == 2
        {
            *lines.last_mut().expect("a line") = joined;
        } else {
            lines.push(part.clone());
        }
    }
    let mut y = title_mid + title_size * 0.5 + m.px(14.0) + subtitle_size * 0.35;
    for line in &lines {
        let line = canvas.fit_text(line, subtitle_size, Weight::Normal, room);
        canvas.text(
            &line,
            margin,
            y,
            subtitle_size,
            Weight::Normal,
            palette::INK_SOFT,
            Align::Left,
        )?;
        y += subtitle_size * 1.3;
    }
    Ok(y - subtitle_size * 1.3 + subtitle_size * 0.5 + m.px(36.0))
}

/// Viridis (matplotlib's, sampled at ninths): perceptually uniform, colour-blind safe, readable
/// in greyscale; dark purple = nothing served, yellow = everything served.
const VIRIDIS: [u32; 10] = [
    0x440154, 0x482878, 0x3E4A89, 0x31688E, 0x26828E, 0x1F9E89, 0x35B779, 0x6DCD59, 0xB4DE2C,
    0xFDE725,
];

/// The heatmap colour of a served percentage (clamped to 0..=100).
pub(crate) fn served_colour(pct: f64) -> Rgba {
    let t = (pct / 100.0).clamp(0.0, 1.0) * (VIRIDIS.len() - 1) as f64;
    let i = (t.floor() as usize).min(VIRIDIS.len() - 2);
    let f = t - i as f64;
    let (a, b) = (rgb(VIRIDIS[i]), rgb(VIRIDIS[i + 1]));
    let mix = |x: u8, y: u8| (f64::from(x) + (f64::from(y) - f64::from(x)) * f).round() as u8;
    Rgba {
        r: mix(a.r, b.r),
        g: mix(a.g, b.g),
        b: mix(a.b, b.b),
        a: 1.0,
    }
}

/// Near-black on light fills, white on dark ones (WCAG relative luminance).
fn text_on(c: Rgba) -> Rgba {
    let lin = |v: u8| {
        let v = f64::from(v) / 255.0;
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    };
    let l = 0.2126 * lin(c.r) + 0.7152 * lin(c.g) + 0.0722 * lin(c.b);
    // Contrast against white (1.05 / (l + 0.05)) vs against ink (l + 0.05) / 0.0605: the larger wins.
    if (l + 0.05) / 0.0605 >= 1.05 / (l + 0.05) {
        palette::INK
    } else {
        palette::WHITE
    }
}

/// A column header on one or two lines: pairs split at `+`, regions at `/`.
fn header_lines(label: &str) -> (String, Option<String>) {
    let at = label
        .find('+')
        .or_else(|| label.find('/'))
        .or_else(|| label.find(' '));
    match at {
        Some(i) if i > 0 => (
            label[..i].to_string(),
            Some(label[i..].trim_start().to_string()),
        ),
        _ => (label.to_string(), None),
    }
}

/// The text size (≤ `base`) at which the widest of `texts` is at most `room` wide.
fn size_to_fit<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    texts: &[&str],
    weight: Weight,
    base: f64,
    room: f64,
) -> f64 {
    let widest = texts
        .iter()
        .map(|t| canvas.text_width(t, base, weight))
        .fold(0.0, f64::max);
    if widest <= room || widest <= 0.0 {
        base
    } else {
        base * room / widest
    }
}

/// A heatmap column after `none`: one loss, or each plan's worst pair when pairs are too many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col<'a> {
    Loss(&'a str),
    WorstPair,
}

impl<'a> Col<'a> {
    fn name(&self) -> &'a str {
        match self {
            Col::Loss(l) => l,
            Col::WorstPair => "worst pair",
        }
    }

    fn served(&self, r: &Resilience, plan: &str) -> Option<f64> {
        match self {
            Col::Loss(l) => r.row(plan, l).map(|x| x.served_pct),
            Col::WorstPair => r
                .rows
                .iter()
                .filter(|x| x.plan == plan && x.lost_provider.contains('+'))
                .map(|x| x.served_pct)
                .reduce(f64::min),
        }
    }
}

/// How the heatmap's cells are laid out: `bands` rows of column groups, each starting with `none`.
struct Grid {
    bands: usize,
    per_band: usize,
    cell_w: f64,
    cell_h: f64,
    header_size: f64,
    header_two_lines: bool,
    header_h: f64,
    value_size: f64,
}

fn heatmap<DB: DrawingBackend>(canvas: &Canvas<DB>, m: &Metrics, r: &Resilience) -> Result<()> {
    let mut parts = vec![r.scenario.clone()];
    parts.extend(rules(r));
    let title = if r.losses.iter().any(|l| l.contains('+')) {
        "What each plan still serves when one or two providers are lost"
    } else if r.losses.iter().any(|l| l.contains('/')) {
        "What each plan still serves when a provider region is lost"
    } else {
        "What each plan still serves when a provider is lost"
    };
    let content_top = header(canvas, m, title, &parts)?;
    let margin = m.margin();
    let min_text = m.min_text();
    let label_size = m.px(26.0);
    let tick_size = m.px(24.0);

    // Footnote: rules relaxed for some plans (single-cloud plans), named once.
    let mut relaxed: Vec<&str> = Vec::new();
    for p in &r.plans {
        for x in &p.relaxed {
            if !relaxed.contains(&x.as_str()) {
                relaxed.push(x);
            }
        }
    }
    let foot_size = m.px(22.0).max(min_text);
    let mut bottom = m.h - margin;
    let footnote = (!relaxed.is_empty()).then(|| {
        let relaxed_for: Vec<&str> = r
            .plans
            .iter()
            .filter(|p| !p.relaxed.is_empty())
            .map(|p| p.plan.as_str())
            .collect();
        let who = if relaxed_for.iter().all(|p| p.starts_with("single:")) {
            "single-cloud plans".to_string()
        } else {
            relaxed_for.join(", ")
        };
        format!("Planned for {who} with {}.", relaxed.join(", "))
    });
    if footnote.is_some() {
        bottom -= foot_size * 1.6;
    }

    // Scale bar on the right.
    let bar_w = m.px(28.0);
    let scale_label_w = canvas.text_width("100%", tick_size, Weight::Normal);
    let caption = "served";
    let caption_w = canvas.text_width(caption, tick_size, Weight::Bold);
    let legend_w = (bar_w + m.px(10.0) + scale_label_w).max(caption_w);
    let legend_left = m.w - margin - legend_w;
    let grid_right = legend_left - m.px(36.0);

    // Row labels: plan names, at most 28% of the width.
    let row_label_max = m.w * 0.28;
    let plan_names: Vec<&str> = r.plans.iter().map(|p| p.plan.as_str()).collect();
    let row_label_w = plan_names
        .iter()
        .map(|p| canvas.text_width(p, label_size, Weight::Normal))
        .fold(
            canvas.text_width("lost →", label_size, Weight::Normal),
            f64::max,
        )
        .min(row_label_max);
    let grid_left = margin + row_label_w + m.px(16.0);
    let none_gap = m.px(20.0);
    let band_gap = m.px(26.0);
    let cell_gap = m.px(3.0).max(1.0);

    let losses = &r.losses;
    let has_none = losses.first().is_some_and(|l| l == "none");
    let all: Vec<Col> = losses
        .iter()
        .skip(usize::from(has_none))
        .map(|l| Col::Loss(l.as_str()))
        .collect();
    let n_plans = r.plans.len().max(1);
    let value_widest = ["100%", "88.8%", "0%"];
    let value_base = m.px(28.0);
    let min_row_h = min_text * 1.3 / 1.24 + cell_gap;

    let layout = |others: &[Col], bands: usize| -> Grid {
        let per_band = others
            .len()
            .div_ceil(bands)
            .max(usize::from(others.is_empty()));
        let cols = per_band + usize::from(has_none);
        let gap = if has_none && !others.is_empty() {
            none_gap
        } else {
            0.0
        };
        let cell_w = ((grid_right - grid_left - gap) / cols.max(1) as f64).max(1.0);
        let room = cell_w * 0.86 - m.px(4.0);
        let band_labels: Vec<&str> = others
            .iter()
            .map(Col::name)
            .chain(has_none.then_some("none"))
            .collect();
        // Measured bold: `none` and `worst pair` are drawn bold.
        let one_line = size_to_fit(canvas, &band_labels, Weight::Bold, tick_size, room);
        let (header_size, two) = if one_line >= (tick_size * 0.85).max(min_text) {
            (one_line, false)
        } else {
            let split: Vec<(String, Option<String>)> =
                band_labels.iter().map(|l| header_lines(l)).collect();
            let pieces: Vec<&str> = split
                .iter()
                .flat_map(|(a, b)| std::iter::once(a.as_str()).chain(b.as_deref()))
                .collect();
            let two = size_to_fit(canvas, &pieces, Weight::Bold, tick_size, room);
            // Two lines when that is larger, or when one line would have to be cut anyway.
            if two > one_line || one_line < min_text {
                (two, true)
            } else {
                (one_line, false)
            }
        };
        let header_size = header_size.max(min_text);
        let header_h = header_size * if two { 2.5 } else { 1.3 } + m.px(10.0);
        let rows = bands * n_plans;
        let cell_h =
            ((bottom - content_top - bands as f64 * header_h - (bands - 1) as f64 * band_gap)
                / rows as f64)
                .max(1.0);
        let by_width = size_to_fit(canvas, &value_widest, Weight::Normal, value_base, room);
        let by_height = (cell_h - cell_gap) * 1.24 / 1.5;
        Grid {
            bands,
            per_band,
            cell_w,
            cell_h,
            header_size,
            header_two_lines: two,
            header_h,
            value_size: by_width.min(by_height),
        }
    };
    // Fewest bands that keep values near full size; otherwise the bands with the largest values,
    // as long as the rows stay tall enough for their labels.
    let choose = |others: &[Col]| -> Grid {
        let max_bands = others.len().clamp(1, 4);
        let mut grid = layout(others, 1);
        for bands in 2..=max_bands {
            if grid.value_size >= value_base * 0.85 || grid.value_size >= grid.cell_h {
                break;
            }
            let candidate = layout(others, bands);
            if candidate.cell_h >= min_row_h && candidate.value_size > grid.value_size * 1.1 {
                grid = candidate;
            }
        }
        grid
    };
    let mut others = all.clone();
    let mut grid = choose(&others);
    // Too many pairs to print: every single loss, then each plan's worst pair in one column.
    let pair_count = all.iter().filter(|c| c.name().contains('+')).count();
    let mut pairs_folded = false;
    if grid.value_size < min_text && pair_count > 0 {
        others.retain(|c| !c.name().contains('+'));
        others.push(Col::WorstPair);
        grid = choose(&others);
        pairs_folded = true;
    }
    let show_values = grid.value_size >= min_text;
    let row_size = label_size.min((grid.cell_h - cell_gap) * 1.24 / 1.3);

    // Bands of columns.
    for band in 0..grid.bands {
        let band_top =
            content_top + band as f64 * (grid.header_h + n_plans as f64 * grid.cell_h + band_gap);
        let cells_top = band_top + grid.header_h;
        let chunk: Vec<Col> = others
            .iter()
            .skip(band * grid.per_band)
            .take(grid.per_band)
            .copied()
            .collect();
        let mut columns: Vec<(Col, f64)> = Vec::new();
        let mut x = grid_left;
        if has_none {
            columns.push((Col::Loss("none"), x));
            x += grid.cell_w + if chunk.is_empty() { 0.0 } else { none_gap };
        }
        for l in &chunk {
            columns.push((*l, x));
            x += grid.cell_w;
        }

        // Column headers, bottom-aligned above the cells.
        let room = grid.cell_w - m.px(6.0);
        let hs = grid.header_size;
        let line2_mid = cells_top - m.px(10.0) - hs * 0.5;
        let line1_mid = if grid.header_two_lines {
            line2_mid - hs * 1.2
        } else {
            line2_mid
        };
        for (col, x0) in &columns {
            let label = col.name();
            let cx = x0 + grid.cell_w / 2.0;
            let weight = if label == "none" || *col == Col::WorstPair {
                Weight::Bold
            } else {
                Weight::Normal
            };
            match header_lines(label) {
                (a, Some(b)) if grid.header_two_lines => {
                    for (t, y) in [(a, line1_mid), (b, line2_mid)] {
                        let t = canvas.fit_text(&t, hs, weight, room);
                        canvas.text(&t, cx, y, hs, weight, palette::INK, Align::Centre)?;
                    }
                }
                _ => {
                    let t = canvas.fit_text(label, hs, weight, room);
                    canvas.text(&t, cx, line2_mid, hs, weight, palette::INK, Align::Centre)?;
                }
            }
        }
        let lost = canvas.fit_text("lost →", hs, Weight::Normal, row_label_w);
        canvas.text(
            &lost,
            grid_left - m.px(16.0),
            line2_mid,
            hs,
            Weight::Normal,
            palette::INK_SOFT,
            Align::Right,
        )?;

        // Cells and row labels.
        for (i, plan) in r.plans.iter().enumerate() {
            let y0 = cells_top + i as f64 * grid.cell_h;
            let y_mid = y0 + (grid.cell_h - cell_gap) / 2.0;
            let weight = if plan.plan == "multi-cloud" {
                Weight::Bold
            } else {
                Weight::Normal
            };
            let name = canvas.fit_text(&plan.plan, row_size, weight, row_label_w);
            canvas.text(
                &name,
                grid_left - m.px(16.0),
                y_mid,
                row_size,
                weight,
                palette::INK,
                Align::Right,
            )?;
            for (col, x0) in &columns {
                let served = col.served(r, &plan.plan);
                let (x1, y1) = (x0 + grid.cell_w - cell_gap, y0 + grid.cell_h - cell_gap);
                let fill = served.map_or(palette::GRID, served_colour);
                canvas.rect(*x0, y0, x1, y1, fill)?;
                if show_values {
                    let value = served.map_or("n/a".to_string(), served_label);
                    canvas.text(
                        &value,
                        (x0 + x1) / 2.0,
                        y_mid,
                        grid.value_size,
                        Weight::Normal,
                        text_on(fill),
                        Align::Centre,
                    )?;
                }
            }
        }
    }

    // Scale bar: 0% at the bottom, 100% at the top, as tall as the first band's cells.
    let caption_mid = content_top + tick_size * 0.5;
    canvas.text(
        caption,
        legend_left,
        caption_mid,
        tick_size,
        Weight::Bold,
        palette::INK,
        Align::Left,
    )?;
    let bar_top = caption_mid + tick_size * 1.3;
    let bar_bottom = (content_top + grid.header_h + n_plans as f64 * grid.cell_h)
        .max(bar_top + m.px(200.0))
        .min(bottom - tick_size * 0.6);
    let steps = 100;
    for k in 0..steps {
        let (a, b) = (k as f64 / steps as f64, (k + 1) as f64 / steps as f64);
        let y_a = bar_bottom - a * (bar_bottom - bar_top);
        let y_b = bar_bottom - b * (bar_bottom - bar_top);
        let c = served_colour((a + b) / 2.0 * 100.0);
        canvas.rect(legend_left, y_b, legend_left + bar_w, y_a, c)?;
    }
    let ticks_n = if bar_bottom - bar_top >= tick_size * 6.0 {
        4
    } else {
        2
    };
    for k in 0..=ticks_n {
        let v = k as f64 / ticks_n as f64;
        let y = bar_bottom - v * (bar_bottom - bar_top);
        canvas.line(
            legend_left + bar_w,
            y,
            legend_left + bar_w + m.px(6.0),
            y,
            palette::AXIS,
            m.px(1.5).max(1.0),
        )?;
        canvas.text(
            &format!("{}%", (v * 100.0).round()),
            legend_left + bar_w + m.px(10.0),
            y,
            tick_size,
            Weight::Normal,
            palette::INK_SOFT,
            Align::Left,
        )?;
    }

    let mut notes: Vec<String> = Vec::new();
    if pairs_folded {
        notes.push(format!(
            "worst pair: the lowest of the {pair_count} pairs for each plan (every pair in resilience.csv)."
        ));
    }
    if !show_values {
        notes.push("Too many cells to print their values: see resilience.csv.".into());
    }
    if let Some(f) = footnote {
        notes.push(f);
    }
    if !notes.is_empty() {
        let note = canvas.fit_text(
            &notes.join(" "),
            foot_size,
            Weight::Normal,
            m.w - 2.0 * margin,
        );
        canvas.text(
            &note,
            margin,
            m.h - margin - foot_size * 0.4,
            foot_size,
            Weight::Normal,
            palette::INK_SOFT,
            Align::Left,
        )?;
    }
    Ok(())
}

/// A plan's served % in its worst single loss (losses named without `+`, `none` excluded).
pub(crate) fn worst_single_loss(r: &Resilience, plan: &str) -> Option<f64> {
    r.rows
        .iter()
        .filter(|x| x.plan == plan && x.lost_provider != "none" && !x.lost_provider.contains('+'))
        .map(|x| x.served_pct)
        .reduce(f64::min)
}

/// An axis-aligned box in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Box2 {
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
}

impl Box2 {
    fn overlap(&self, o: &Box2) -> f64 {
        let w = self.x1.min(o.x1) - self.x0.max(o.x0);
        let h = self.y1.min(o.y1) - self.y0.max(o.y0);
        if w > 0.0 && h > 0.0 {
            w * h
        } else {
            0.0
        }
    }
    fn inside(&self, o: &Box2) -> bool {
        self.x0 >= o.x0 && self.x1 <= o.x1 && self.y0 >= o.y0 && self.y1 <= o.y1
    }
}

/// A circle as a polygon (the canvas has no arcs); 40 sides look round at any size here.
fn disc<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    x: f64,
    y: f64,
    radius: f64,
    c: Rgba,
) -> Result<()> {
    let points: Vec<(f64, f64)> = (0..40)
        .map(|k| {
            let a = k as f64 / 40.0 * std::f64::consts::TAU;
            (x + radius * a.cos(), y + radius * a.sin())
        })
        .collect();
    canvas.polygon(&points, c)
}

/// A label as placed: text, anchor x, y and alignment, and the leader line's end (if any).
type Placed = (String, f64, f64, Align, Option<(f64, f64)>);

struct Point {
    name: String,
    label: String,
    x_px: f64,
    y_px: f64,
    radius: f64,
    highlight: bool,
}

fn cost_vs_served<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    m: &Metrics,
    r: &Resilience,
) -> Result<()> {
    let by_region = r.losses.iter().any(|l| l.contains('/'));
    let what = if by_region {
        "provider region"
    } else {
        "provider"
    };
    let mut parts = vec![r.scenario.clone()];
    parts.extend(rules(r));
    let content_top = header(canvas, m, "What multi-cloud costs and what it buys", &parts)?;
    let margin = m.margin();
    let tick_size = m.px(25.0);
    let label_size = m.px(26.0).max(m.min_text());
    let thin = m.px(1.5).max(1.0);

    // (plan, worst single loss served %, $/M served, served % with nothing lost)
    let data: Vec<(&str, f64, f64, Option<f64>)> = r
        .plans
        .iter()
        .filter_map(|p| {
            let none = r.row(&p.plan, "none").map(|x| x.served_pct);
            worst_single_loss(r, &p.plan)
                .map(|x| (p.plan.as_str(), x, p.cost_per_million_tokens, none))
        })
        .collect();
    let top_cost = data.iter().map(|d| d.2).fold(0.0, f64::max);

    // Frame: y ticks on the left, the y axis title above them, the x axis title below the ticks.
    let axis_title_size = m.px(24.0);
    let y_title_mid = content_top + axis_title_size * 0.4;
    let frame_top = y_title_mid + axis_title_size * 0.6 + m.px(18.0);
    let x_title_mid = m.h - margin - axis_title_size * 0.4;
    let frame_bottom = x_title_mid - axis_title_size * 0.5 - tick_size * 2.0;
    let plot_h = frame_bottom - frame_top;
    let max_ticks = ((plot_h / (tick_size * 2.4)).floor() as usize).clamp(2, 8);
    let y_ticks = ticks::value_ticks(top_cost, max_ticks, Unit::Dollars);
    let y_label_w = y_ticks
        .labels
        .iter()
        .map(|(_, l)| canvas.text_width(l, tick_size, Weight::Normal))
        .fold(0.0, f64::max);
    let frame_left = margin + y_label_w + m.px(14.0);
    let frame_right = m.w - margin;
    // A little room either side so points at 0% and 100% are not cut by the frame.
    let (x_lo, x_hi) = (-4.0, 104.0);
    let fx = |pct: f64| frame_left + (pct - x_lo) / (x_hi - x_lo) * (frame_right - frame_left);
    let fy = |v: f64| frame_bottom - v / y_ticks.top * plot_h;

    let y_title = canvas.fit_text(
        "$ per million tokens served (normal policy, nothing lost)",
        axis_title_size,
        Weight::Bold,
        frame_right - margin,
    );
    canvas.text(
        &y_title,
        margin,
        y_title_mid,
        axis_title_size,
        Weight::Bold,
        palette::INK_SOFT,
        Align::Left,
    )?;
    for (v, label) in &y_ticks.labels {
        let y = fy(*v);
        if *v > 0.0 {
            canvas.line(frame_left, y, frame_right, y, palette::GRID, thin)?;
        }
        canvas.text(
            label,
            frame_left - m.px(14.0),
            y,
            tick_size,
            Weight::Normal,
            palette::INK_SOFT,
            Align::Right,
        )?;
    }
    let x_step = if frame_right - frame_left >= tick_size * 30.0 {
        10
    } else {
        20
    };
    for pct in (0..=100).step_by(x_step) {
        let x = fx(pct as f64);
        canvas.line(x, frame_top, x, frame_bottom, palette::GRID, thin)?;
        canvas.text(
            &format!("{pct}%"),
            x,
            frame_bottom + tick_size * 1.0,
            tick_size,
            Weight::Normal,
            palette::INK_SOFT,
            Align::Centre,
        )?;
    }
    canvas.line(
        frame_left,
        frame_bottom,
        frame_right,
        frame_bottom,
        palette::AXIS,
        thin,
    )?;
    let x_title = canvas.fit_text(
        &format!(
            "served when the worst single {what} is lost (held reservations, emergency rules)"
        ),
        axis_title_size,
        Weight::Bold,
        frame_right - frame_left,
    );
    canvas.text(
        &x_title,
        (frame_left + frame_right) / 2.0,
        x_title_mid,
        axis_title_size,
        Weight::Bold,
        palette::INK_SOFT,
        Align::Centre,
    )?;

    // Points, multi-cloud drawn last (on top) and labelled first (best place).
    let mut points: Vec<Point> = data
        .iter()
        .map(|&(name, x, y, none)| {
            let highlight = name == "multi-cloud";
            // A plan that falls short with nothing lost says so: its $/M buys less than demand.
            let short = none
                .filter(|v| served_label(*v) != "100%")
                .map(|v| format!(" ({} with nothing lost)", served_label(v)))
                .unwrap_or_default();
            Point {
                name: name.to_string(),
                label: if highlight {
                    format!("{name}: ${y:.2}/M, {} at worst{short}", served_label(x))
                } else {
                    format!("{name}{short}")
                },
                x_px: fx(x.clamp(0.0, 100.0)),
                y_px: fy(y.max(0.0)),
                radius: m.px(if highlight { 14.0 } else { 10.0 }),
                highlight,
            }
        })
        .collect();
    points.sort_by(|a, b| {
        b.highlight
            .cmp(&a.highlight)
            .then(a.y_px.total_cmp(&b.y_px))
            .then(a.x_px.total_cmp(&b.x_px))
            .then(a.name.cmp(&b.name))
    });
    let bounds = Box2 {
        x0: frame_left + m.px(4.0),
        y0: frame_top - m.px(10.0),
        x1: frame_right,
        y1: frame_bottom - m.px(4.0),
    };
    let pad = m.px(4.0);
    let mut obstacles: Vec<Box2> = points
        .iter()
        .map(|p| Box2 {
            x0: p.x_px - p.radius - pad,
            y0: p.y_px - p.radius - pad,
            x1: p.x_px + p.radius + pad,
            y1: p.y_px + p.radius + pad,
        })
        .collect();
    // (text, text x, text y, align, leader line from the point)
    let mut placed: Vec<Placed> = Vec::new();
    for p in &points {
        let weight = if p.highlight {
            Weight::Bold
        } else {
            Weight::Normal
        };
        let text = canvas.fit_text(&p.label, label_size, weight, (bounds.x1 - bounds.x0) * 0.6);
        let tw = canvas.text_width(&text, label_size, weight);
        let th = label_size * 0.95;
        let gap = p.radius + m.px(10.0);
        let step = th + m.px(6.0);
        // Beside the point first; then stepped down (points are taken top first, so a crowd's
        // labels keep the points' order and their leader lines do not cross), then up, then
        // above or below the point, then on the left.
        let (right, left) = (p.x_px + gap * 2.0, p.x_px - gap * 2.0);
        let mut candidates: Vec<(f64, f64, Align)> = vec![
            (p.x_px + gap, p.y_px, Align::Left),
            (p.x_px - gap, p.y_px, Align::Right),
        ];
        candidates.extend((1..=12).map(|k| (right, p.y_px + k as f64 * step, Align::Left)));
        candidates.extend((1..=12).map(|k| (right, p.y_px - k as f64 * step, Align::Left)));
        candidates.push((p.x_px, p.y_px - gap - th * 0.5, Align::Centre));
        candidates.push((p.x_px, p.y_px + gap + th * 0.5, Align::Centre));
        candidates.extend((1..=12).map(|k| (left, p.y_px + k as f64 * step, Align::Right)));
        candidates.extend((1..=12).map(|k| (left, p.y_px - k as f64 * step, Align::Right)));
        let boxed = |&(x, y, align): &(f64, f64, Align)| {
            let x0 = match align {
                Align::Left => x,
                Align::Centre => x - tw / 2.0,
                Align::Right => x - tw,
            };
            Box2 {
                x0: x0 - pad,
                y0: y - th / 2.0 - pad,
                x1: x0 + tw + pad,
                y1: y + th / 2.0 + pad,
            }
        };
        let cost = |c: &(f64, f64, Align)| {
            let b = boxed(c);
            let overlap: f64 = obstacles.iter().map(|o| b.overlap(o)).sum();
            let outside = if b.inside(&bounds) { 0.0 } else { 1e12 };
            overlap + outside
        };
        let best = candidates
            .iter()
            .find(|c| cost(c) == 0.0)
            .or_else(|| candidates.iter().min_by(|a, b| cost(a).total_cmp(&cost(b))))
            .copied()
            .expect("candidates");
        let b = boxed(&best);
        let near = (p.y_px - best.1).abs() < 1e-9 || matches!(best.2, Align::Centre);
        let leader = (!near).then_some(match best.2 {
            Align::Left => (b.x0 + pad * 0.5, best.1),
            _ => (b.x1 - pad * 0.5, best.1),
        });
        obstacles.push(b);
        placed.push((text, best.0, best.1, best.2, leader));
    }
    // Leader lines under the points.
    for (p, (_, _, _, _, leader)) in points.iter().zip(&placed) {
        if let Some((lx, ly)) = leader {
            canvas.line(p.x_px, p.y_px, *lx, *ly, palette::AXIS, thin)?;
        }
    }
    let accent = palette::INK;
    let other = rgb(0x8C8C8C);
    for p in points.iter().rev() {
        if p.highlight {
            disc(canvas, p.x_px, p.y_px, p.radius + m.px(4.0), palette::WHITE)?;
            disc(canvas, p.x_px, p.y_px, p.radius, accent)?;
        } else {
            disc(canvas, p.x_px, p.y_px, p.radius + m.px(2.0), palette::WHITE)?;
            disc(canvas, p.x_px, p.y_px, p.radius, other)?;
        }
    }
    for (p, (text, x, y, align, _)) in points.iter().zip(&placed) {
        let weight = if p.highlight {
            Weight::Bold
        } else {
            Weight::Normal
        };
        canvas.text(
            text,
            *x,
            *y,
            label_size,
            weight,
            if p.highlight {
                palette::INK
            } else {
                palette::INK_SOFT
            },
            *align,
        )?;
    }
    if data.is_empty() {
        canvas.text(
            "No single losses to measure",
            (frame_left + frame_right) / 2.0,
            (frame_top + frame_bottom) / 2.0,
            label_size,
            Weight::Normal,
            palette::INK_SOFT,
            Align::Centre,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_labels_read_at_least() {
        assert_eq!(served_label(100.0), "100%");
        assert_eq!(served_label(79.9999999884), "80%");
        assert_eq!(served_label(93.7484729433), "93.7%");
        assert_eq!(served_label(0.0), "0%");
    }

    #[test]
    fn ramp_runs_dark_to_light_with_readable_text() {
        assert_eq!(served_colour(0.0), rgb(0x440154));
        assert_eq!(served_colour(100.0), rgb(0xFDE725));
        assert_eq!(text_on(served_colour(0.0)), palette::WHITE);
        assert_eq!(text_on(served_colour(100.0)), palette::INK);
    }

    #[test]
    fn pairs_and_regions_split_for_headers() {
        assert_eq!(
            header_lines("aws+gcp"),
            ("aws".to_string(), Some("+gcp".to_string()))
        );
        assert_eq!(
            header_lines("aws/us-east"),
            ("aws".to_string(), Some("/us-east".to_string()))
        );
        assert_eq!(header_lines("none"), ("none".to_string(), None));
    }
}
