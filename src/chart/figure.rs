//! Chart stage: one figure layout for every chart — title, subtitle, a legend column to the right
//! of the plots (so it never covers data), one or more panels sharing a time axis, step-shaped
//! stacks, bands, bars and lines. Every size is a multiple of the image scale.

use plotters::prelude::DrawingBackend;

use super::canvas::{Align, Canvas, Weight};
use super::palette::{self, Rgba};
use super::ticks::{self, Unit};
use crate::error::Result;

/// How a legend entry is drawn.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Swatch {
    Fill(Rgba),
    Hatch(Rgba),
    Line {
        colour: Rgba,
        width: f64,
        dashed: bool,
    },
    /// A marker dot (the net change of the delta chart).
    Dot(Rgba),
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LegendEntry {
    pub label: String,
    pub swatch: Swatch,
    /// May be left out when the legend is too long for the image (first droppable first).
    pub droppable: bool,
}

/// One series of a `Layer::Stack`: a fill, optionally hatched (diagonal lines), one value per bin.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StackPart {
    pub fill: Rgba,
    pub hatch: Option<Rgba>,
    pub values: Vec<f64>,
}

impl StackPart {
    pub fn solid(fill: Rgba, values: Vec<f64>) -> StackPart {
        StackPart {
            fill,
            hatch: None,
            values,
        }
    }
}

/// Something drawn in a panel; values are per bin, in the panel's unit.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Layer {
    /// Step areas stacked from zero, first series at the bottom.
    Stack(Vec<StackPart>),
    /// The area between two step lines, filled and optionally hatched (diagonal lines).
    Band {
        fill: Rgba,
        hatch: Option<Rgba>,
        lower: Vec<f64>,
        upper: Vec<f64>,
    },
    /// Stacked bars, one per bin, with bar totals written above: every bar's when the labels fit
    /// side by side, else only the first, the last and the largest (where those do not collide).
    Bars {
        series: Vec<(Rgba, Vec<f64>)>,
        totals: bool,
    },
    /// A step line; `width` in pixels at 1080p.
    Line {
        colour: Rgba,
        width: f64,
        dashed: bool,
        values: Vec<f64>,
    },
    /// Step lines on their own bins (scenarios with different period grids); where lines
    /// coincide on screen they are drawn in turns, so none hides another.
    Steps(Vec<StepLine>),
    /// Dots (white-ringed) at the middle of a bin: `(bin, value)`.
    Markers {
        colour: Rgba,
        points: Vec<(usize, f64)>,
    },
    /// Draws nothing; the value axis reaches at least this (small multiples on one shared scale).
    ScaleTo(f64),
}

/// A step line with its own bins, for `Layer::Steps`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StepLine {
    pub colour: Rgba,
    /// Pixels at 1080p.
    pub width: f64,
    pub dashed: bool,
    pub bins: Vec<(f64, f64)>,
    pub values: Vec<f64>,
}

impl Layer {
    pub(crate) fn max_value(&self) -> f64 {
        let stack_max = |series: &[(Rgba, Vec<f64>)]| {
            let bins = series.first().map_or(0, |s| s.1.len());
            (0..bins)
                .map(|i| series.iter().map(|s| s.1[i]).sum::<f64>())
                .fold(0.0, f64::max)
        };
        match self {
            Layer::Stack(parts) => {
                let bins = parts.first().map_or(0, |s| s.values.len());
                (0..bins)
                    .map(|i| parts.iter().map(|s| s.values[i].max(0.0)).sum::<f64>())
                    .fold(0.0, f64::max)
            }
            // Room above the tallest bar for its total.
            Layer::Bars { series, totals } => stack_max(series) * if *totals { 1.12 } else { 1.0 },
            Layer::Band { upper, .. } => upper.iter().copied().fold(0.0, f64::max),
            Layer::Line { values, .. } => values.iter().copied().fold(0.0, f64::max),
            Layer::Steps(lines) => lines
                .iter()
                .flat_map(|l| l.values.iter().copied())
                .fold(0.0, f64::max),
            Layer::Markers { points, .. } => points.iter().map(|p| p.1).fold(0.0, f64::max),
            Layer::ScaleTo(v) => *v,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Panel {
    pub title: Option<String>,
    pub layers: Vec<Layer>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Figure {
    pub title: String,
    pub subtitle: String,
    pub legend: Vec<LegendEntry>,
    /// Extent of each bin in seconds since the epoch; every layer has one value per bin.
    pub bins: Vec<(f64, f64)>,
    pub unit: Unit,
    pub panels: Vec<Panel>,
}

/// Sizes in pixels for an image of the given size; the design is done at 1920×1080.
pub(crate) struct Metrics {
    pub s: f64,
}

impl Metrics {
    pub fn new(width: u32, height: u32) -> Metrics {
        Metrics {
            s: (f64::from(width) / 1920.0).min(f64::from(height) / 1080.0),
        }
    }
    pub fn px(&self, at_1080p: f64) -> f64 {
        at_1080p * self.s
    }
    pub fn margin(&self) -> f64 {
        self.px(40.0)
    }
    pub fn tick_size(&self) -> f64 {
        self.px(25.0)
    }
    pub fn legend_size(&self) -> f64 {
        self.px(28.0)
    }
}

struct Frame {
    left: f64,
    right: f64,
    top: f64,
    bottom: f64,
}

impl Frame {
    fn x(&self, t_s: f64, domain: (f64, f64)) -> f64 {
        self.left + (t_s - domain.0) / (domain.1 - domain.0) * (self.right - self.left)
    }
    fn y(&self, v: f64, top_value: f64) -> f64 {
        self.bottom - v / top_value * (self.bottom - self.top)
    }
}

pub(crate) fn draw<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    fig: &Figure,
    width: u32,
    height: u32,
) -> Result<()> {
    let (w, h) = (f64::from(width), f64::from(height));
    let m = Metrics::new(width, height);
    let margin = m.margin();
    let tick_size = m.tick_size();
    let panel_title_size = m.px(27.0);

    let content_top = header(canvas, &m, w, &fig.title, &fig.subtitle)?;
    let legend = legend_layout(canvas, &m, w, &fig.legend);
    let legend_left = legend.left;
    // Panels: one column up to four, then two columns.
    let n = fig.panels.len().max(1);
    let columns = if n <= 4 { 1 } else { 2 };
    let rows = n.div_ceil(columns);
    let top_value_all: Vec<f64> = fig
        .panels
        .iter()
        .map(|p| p.layers.iter().map(Layer::max_value).fold(0.0, f64::max))
        .collect();
    let has_panel_titles = fig.panels.iter().any(|p| p.title.is_some());
    let panel_title_h = if has_panel_titles {
        panel_title_size * 1.5
    } else {
        0.0
    };
    let x_label_h = tick_size * 1.6;
    let row_gap = if rows > 1 { m.px(30.0) } else { 0.0 };
    let area_top = content_top;
    let area_bottom = h - margin - x_label_h;
    let row_h = ((area_bottom - area_top) - row_gap * (rows - 1) as f64) / rows as f64;
    let plot_h = (row_h - panel_title_h).max(m.px(40.0));
    let max_ticks = ((plot_h / (tick_size * 2.4)).floor() as usize).clamp(2, 8);
    let value_ticks: Vec<ticks::ValueTicks> = top_value_all
        .iter()
        .map(|v| ticks::value_ticks(*v, max_ticks, fig.unit))
        .collect();
    let y_label_w = value_ticks
        .iter()
        .flat_map(|t| t.labels.iter())
        .map(|(_, l)| canvas.text_width(l, tick_size, Weight::Normal))
        .fold(0.0, f64::max);

    let area_left = margin;
    let area_right = legend_left - m.px(40.0);
    let column_gap = m.px(40.0);
    let column_w = ((area_right - area_left) - column_gap * (columns - 1) as f64) / columns as f64;
    let domain = (
        fig.bins.first().map_or(0.0, |b| b.0),
        fig.bins
            .last()
            .map_or(1.0, |b| b.1)
            .max(fig.bins.first().map_or(0.0, |b| b.0) + 1.0),
    );

    let mut first_frame_top = None;
    for (k, panel) in fig.panels.iter().enumerate() {
        let (row, col) = (k / columns, k % columns);
        let cell_left = area_left + col as f64 * (column_w + column_gap);
        let cell_top = area_top + row as f64 * (row_h + row_gap);
        let frame = Frame {
            left: cell_left + y_label_w + m.px(14.0),
            right: cell_left + column_w,
            top: cell_top + panel_title_h,
            bottom: cell_top + panel_title_h + plot_h,
        };
        first_frame_top.get_or_insert(frame.top);
        let is_bottom = row == rows - 1 || k + columns >= n;
        if let Some(t) = &panel.title {
            let t = canvas.fit_text(t, panel_title_size, Weight::Bold, frame.right - frame.left);
            canvas.text(
                &t,
                frame.left,
                cell_top + panel_title_size * 0.45,
                panel_title_size,
                Weight::Bold,
                palette::INK,
                Align::Left,
            )?;
        }
        draw_panel(
            canvas,
            &m,
            fig,
            panel,
            &frame,
            domain,
            &value_ticks[k],
            is_bottom,
            tick_size,
        )?;
    }

    // Legend, top-aligned with the first plot frame.
    let legend_top = first_frame_top.unwrap_or(content_top);
    draw_legend(canvas, &m, h, &fig.legend, &legend, legend_top)
}

/// Clears the image and draws the title and subtitle; returns the top of the content below them.
pub(crate) fn header<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    m: &Metrics,
    w: f64,
    title: &str,
    subtitle: &str,
) -> Result<f64> {
    let margin = m.margin();
    let title_size = m.px(50.0);
    let subtitle_size = m.px(30.0);
    canvas.clear(palette::WHITE)?;

    // Title and subtitle, shortened rather than clipped when the scenario name is long.
    let text_width = w - 2.0 * margin;
    let title = canvas.fit_text(title, title_size, Weight::Bold, text_width);
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
    let subtitle = fit_parts(canvas, subtitle, subtitle_size, text_width);
    let subtitle_mid = title_mid + title_size * 0.5 + m.px(14.0) + subtitle_size * 0.35;
    canvas.text(
        &subtitle,
        margin,
        subtitle_mid,
        subtitle_size,
        Weight::Normal,
        palette::INK_SOFT,
        Align::Left,
    )?;
    let content_top = subtitle_mid + subtitle_size * 0.5 + m.px(36.0);

    Ok(content_top)
}

/// Parts separator of subtitles.
const PARTS: &str = "  ·  ";

/// Shortens a subtitle that does not fit by leaving out whole trailing parts (`a  ·  b  ·  c`),
/// so no part is cut in the middle; only a first part too long on its own gets an ellipsis.
fn fit_parts<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    text: &str,
    size: f64,
    max_width: f64,
) -> String {
    let parts: Vec<&str> = text.split(PARTS).collect();
    for keep in (1..=parts.len()).rev() {
        let candidate = parts[..keep].join(PARTS);
        if canvas.text_width(&candidate, size, Weight::Normal) <= max_width {
            return candidate;
        }
    }
    canvas.fit_text(parts[0], size, Weight::Normal, max_width)
}

/// Where the legend column goes: its labels (shortened to fit) and its left edge.
pub(crate) struct LegendLayout {
    pub labels: Vec<String>,
    pub left: f64,
}

/// The legend column on the right, at most a quarter of the width.
pub(crate) fn legend_layout<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    m: &Metrics,
    w: f64,
    entries: &[LegendEntry],
) -> LegendLayout {
    let margin = m.margin();
    let legend_size = m.legend_size();
    let swatch_w = m.px(40.0);
    let swatch_gap = m.px(12.0);
    let legend_max_label = w * 0.25 - swatch_w - swatch_gap;
    let legend_labels: Vec<String> = entries
        .iter()
        .map(|e| canvas.fit_text(&e.label, legend_size, Weight::Normal, legend_max_label))
        .collect();
    let legend_label_w = legend_labels
        .iter()
        .map(|l| canvas.text_width(l, legend_size, Weight::Normal))
        .fold(0.0, f64::max);
    let legend_w = swatch_w + swatch_gap + legend_label_w;
    let legend_left = w - margin - legend_w;

    LegendLayout {
        labels: legend_labels,
        left: legend_left,
    }
}

/// Draws the legend from `legend_top`; rows tighten (then entries drop, with a note) rather than
/// run off the bottom when there are very many entries.
pub(crate) fn draw_legend<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    m: &Metrics,
    h: f64,
    entries: &[LegendEntry],
    layout: &LegendLayout,
    legend_top: f64,
) -> Result<()> {
    let margin = m.margin();
    let legend_size = m.legend_size();
    let swatch_w = m.px(40.0);
    let swatch_gap = m.px(12.0);
    let legend_left = layout.left;
    let legend_labels = &layout.labels;
    let room = h - margin - legend_top;
    let mut row_pitch = legend_size * 1.6;
    if row_pitch * entries.len() as f64 > room {
        row_pitch = (room / entries.len().max(1) as f64).max(legend_size * 1.15);
    }
    let fits = ((room / row_pitch).floor() as usize).max(1);
    // Too many rows: leave out droppable entries (smallest providers) and say how many.
    let overflow = entries.len().saturating_sub(fits);
    let mut dropped = 0;
    let shown: Vec<(&LegendEntry, &String)> = entries
        .iter()
        .zip(legend_labels)
        .filter(|(entry, _)| {
            let drop = overflow > 0 && entry.droppable && dropped < overflow + 1;
            dropped += usize::from(drop);
            !drop
        })
        .take(if overflow > 0 { fits - 1 } else { fits })
        .collect();
    let hidden = entries.len() - shown.len();
    let mut y = legend_top + legend_size * 0.5;
    for (entry, label) in shown {
        let (x0, x1) = (legend_left, legend_left + swatch_w);
        let half = legend_size * 0.38;
        match &entry.swatch {
            Swatch::Fill(c) => canvas.rect(x0, y - half, x1, y + half, *c)?,
            Swatch::Hatch(c) => {
                canvas.rect(x0, y - half, x1, y + half, c.alpha(0.18))?;
                hatch(canvas, m, x0, y - half, x1, y + half, *c)?;
            }
            Swatch::Line {
                colour,
                width,
                dashed,
            } => {
                let lw = m.px(*width);
                if *dashed {
                    canvas.dashed(&[(x0, y), (x1, y)], *colour, lw, m.px(12.0), m.px(7.0))?;
                } else {
                    canvas.line(x0, y, x1, y, *colour, lw)?;
                }
            }
            Swatch::Dot(c) => {
                let mid = (x0 + x1) / 2.0;
                canvas.circle(mid, y, half * 0.8 + m.px(2.0), palette::WHITE)?;
                canvas.circle(mid, y, half * 0.8, *c)?;
            }
        }
        canvas.text(
            label,
            x1 + swatch_gap,
            y,
            legend_size,
            Weight::Normal,
            palette::INK,
            Align::Left,
        )?;
        y += row_pitch;
    }
    if hidden > 0 {
        let note = format!("+{hidden} more");
        let x = legend_left + swatch_w + swatch_gap;
        canvas.text(
            &note,
            x,
            y,
            legend_size,
            Weight::Normal,
            palette::INK_SOFT,
            Align::Left,
        )?;
    }
    Ok(())
}

/// Step outline of a series: each value holds across its bin.
fn step_points(
    bins: &[(f64, f64)],
    values: &[f64],
    frame: &Frame,
    domain: (f64, f64),
    top: f64,
) -> Vec<(f64, f64)> {
    let mut points = Vec::with_capacity(bins.len() * 2);
    for (b, v) in bins.iter().zip(values) {
        let y = frame.y(*v, top);
        points.push((frame.x(b.0, domain), y));
        points.push((frame.x(b.1, domain), y));
    }
    points
}

#[allow(clippy::too_many_arguments)]
fn draw_panel<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    m: &Metrics,
    fig: &Figure,
    panel: &Panel,
    frame: &Frame,
    domain: (f64, f64),
    value_ticks: &ticks::ValueTicks,
    is_bottom: bool,
    tick_size: f64,
) -> Result<()> {
    let top = value_ticks.top;
    let thin = m.px(1.5).max(1.0);

    // Grid first, so data covers it.
    for (v, label) in &value_ticks.labels {
        let y = frame.y(*v, top);
        if *v > 0.0 {
            canvas.line(frame.left, y, frame.right, y, palette::GRID, thin)?;
        }
        canvas.text(
            label,
            frame.left - m.px(14.0),
            y,
            tick_size,
            Weight::Normal,
            palette::INK_SOFT,
            Align::Right,
        )?;
    }
    // Bars are their own time marks; vertical grid lines between them only add noise, and ticks
    // finer than the shortest bar would read as finer bars.
    let has_bars = panel.layers.iter().any(|l| matches!(l, Layer::Bars { .. }));
    let shortest_bin = if has_bars {
        fig.bins.iter().map(|b| b.1 - b.0).fold(f64::MAX, f64::min)
    } else {
        0.0
    };
    let time_ticks = ticks::time_ticks_at_least(
        domain.0,
        domain.1,
        frame.right - frame.left,
        m.px(24.0),
        &|s| canvas.text_width(s, tick_size, Weight::Normal),
        shortest_bin.min(365.0 * 86_400.0),
    );
    for t in time_ticks.iter().filter(|_| !has_bars) {
        if t.at_s > domain.0 && t.at_s < domain.1 {
            let x = frame.x(t.at_s, domain);
            canvas.line(x, frame.top, x, frame.bottom, palette::GRID, thin)?;
        }
    }

    for layer in &panel.layers {
        match layer {
            Layer::Stack(parts) => {
                let mut base = vec![0.0; fig.bins.len()];
                for part in parts {
                    if part.values.iter().all(|v| *v <= 0.0) {
                        continue;
                    }
                    let upper: Vec<f64> = base
                        .iter()
                        .zip(&part.values)
                        .map(|(b, v)| b + v.max(0.0))
                        .collect();
                    band(canvas, fig, frame, domain, top, &base, &upper, part.fill)?;
                    if let Some(hc) = part.hatch {
                        hatch_bins(canvas, m, fig, frame, domain, top, &base, &upper, hc)?;
                    }
                    base = upper;
                }
            }
            Layer::Band {
                fill,
                hatch: hatch_colour,
                lower,
                upper,
            } => {
                band(canvas, fig, frame, domain, top, lower, upper, *fill)?;
                if let Some(hc) = hatch_colour {
                    hatch_bins(canvas, m, fig, frame, domain, top, lower, upper, *hc)?;
                }
            }
            Layer::Bars { series, totals } => {
                bars(
                    canvas, m, fig, frame, domain, top, series, *totals, tick_size,
                )?;
            }
            Layer::Line {
                colour,
                width,
                dashed,
                values,
            } => {
                let points = step_points(&fig.bins, values, frame, domain, top);
                if *dashed {
                    canvas.dashed(&points, *colour, m.px(*width), m.px(16.0), m.px(10.0))?;
                } else {
                    canvas.polyline(&points, *colour, m.px(*width))?;
                }
            }
            Layer::Steps(lines) => step_lines(canvas, m, frame, domain, top, lines)?,
            Layer::Markers { colour, points } => {
                let r = m.px(7.0).max(2.5);
                for (i, v) in points {
                    let Some(b) = fig.bins.get(*i) else { continue };
                    let x = (frame.x(b.0, domain) + frame.x(b.1, domain)) / 2.0;
                    let y = frame.y(*v, top);
                    canvas.circle(x, y, r + m.px(2.5).max(1.0), palette::WHITE)?;
                    canvas.circle(x, y, r, *colour)?;
                }
            }
            Layer::ScaleTo(_) => {}
        }
    }

    // Axis line over the data, then the time labels.
    canvas.line(
        frame.left,
        frame.bottom,
        frame.right,
        frame.bottom,
        palette::AXIS,
        thin,
    )?;
    if is_bottom {
        let y = frame.bottom + tick_size * 1.0;
        for t in &time_ticks {
            if let Some((at, label)) = &t.label {
                let x = frame.x(*at, domain);
                canvas.text(
                    label,
                    x,
                    y,
                    tick_size,
                    Weight::Normal,
                    palette::INK_SOFT,
                    Align::Centre,
                )?;
                if (t.at_s - at).abs() < 1.0 {
                    canvas.line(
                        x,
                        frame.bottom,
                        x,
                        frame.bottom + m.px(6.0),
                        palette::AXIS,
                        thin,
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// One horizontal run of a step line, in pixels.
struct Run {
    x0: f64,
    x1: f64,
    y: f64,
}

/// Step lines on their own bins. Dashes sit on a lattice of the x axis (not the path length), so
/// lines that coincide on screen have their dashes in the same places; coinciding runs are drawn
/// in turns (one lattice cell each, in line order), so every line stays visible where they meet.
fn step_lines<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    m: &Metrics,
    frame: &Frame,
    domain: (f64, f64),
    top: f64,
    lines: &[StepLine],
) -> Result<()> {
    let cell = m.px(26.0);
    let dash = m.px(16.0);
    let origin = frame.left;
    let runs: Vec<Vec<Run>> = lines
        .iter()
        .map(|l| {
            l.bins
                .iter()
                .zip(&l.values)
                .map(|(b, v)| Run {
                    x0: frame.x(b.0, domain),
                    x1: frame.x(b.1, domain),
                    y: frame.y(*v, top),
                })
                .collect()
        })
        .collect();
    // Risers first, so the runs cover their ends.
    for (line, runs) in lines.iter().zip(&runs) {
        let lw = m.px(line.width);
        for w in runs.windows(2) {
            if (w[0].x1 - w[1].x0).abs() > 0.5 || (w[0].y - w[1].y).abs() < 0.5 {
                continue;
            }
            let (ya, yb) = (w[0].y.min(w[1].y), w[0].y.max(w[1].y));
            let x = w[1].x0;
            if line.dashed {
                canvas.dashed(&[(x, ya), (x, yb)], line.colour, lw, dash, cell - dash)?;
            } else {
                canvas.line(x, ya - lw / 2.0, x, yb + lw / 2.0, line.colour, lw)?;
            }
        }
    }
    // Every run end of every line cuts the axis into pieces where each line has one level.
    let mut cuts: Vec<f64> = runs.iter().flatten().flat_map(|r| [r.x0, r.x1]).collect();
    cuts.sort_by(f64::total_cmp);
    cuts.dedup_by(|a, b| (*a - *b).abs() < 1e-6);
    let tolerance = lines.iter().map(|l| m.px(l.width)).fold(1.0, f64::max);
    let draw_piece = |line: &StepLine, y: f64, a: f64, b: f64| -> Result<()> {
        if b - a > 1e-6 {
            canvas.line(a, y, b, y, line.colour, m.px(line.width))?;
        }
        Ok(())
    };
    for w in cuts.windows(2) {
        let (a, b) = (w[0], w[1]);
        if b - a < 1e-6 {
            continue;
        }
        let mid = (a + b) / 2.0;
        let mut here: Vec<(usize, f64)> = runs
            .iter()
            .enumerate()
            .filter_map(|(i, r)| {
                let k = r.partition_point(|run| run.x1 <= mid);
                r.get(k).filter(|run| run.x0 <= mid).map(|run| (i, run.y))
            })
            .collect();
        here.sort_by(|p, q| p.1.total_cmp(&q.1).then(p.0.cmp(&q.0)));
        let mut start = 0;
        while start < here.len() {
            let mut end = start + 1;
            while end < here.len() && here[end].1 - here[start].1 <= tolerance {
                end += 1;
            }
            let mut group: Vec<(usize, f64)> = here[start..end].to_vec();
            group.sort_by_key(|g| g.0);
            let k = group.len() as i64;
            let first = ((a - origin) / cell).floor() as i64;
            let last = ((b - origin) / cell).floor() as i64;
            if k == 1 && !lines[group[0].0].dashed {
                draw_piece(&lines[group[0].0], group[0].1, a, b)?;
            } else {
                for n in first..=last {
                    let (i, y) = group[n.rem_euclid(k) as usize];
                    let line = &lines[i];
                    let c0 = origin + n as f64 * cell;
                    let c1 = if line.dashed { c0 + dash } else { c0 + cell };
                    draw_piece(line, y, c0.max(a), c1.min(b))?;
                }
            }
            start = end;
        }
    }
    Ok(())
}

/// Fills the area between two step lines.
#[allow(clippy::too_many_arguments)]
fn band<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    fig: &Figure,
    frame: &Frame,
    domain: (f64, f64),
    top: f64,
    lower: &[f64],
    upper: &[f64],
    c: Rgba,
) -> Result<()> {
    // One polygon per run of bins where the band is open, so closed stretches draw nothing.
    let mut start = None;
    for i in 0..=fig.bins.len() {
        let open = i < fig.bins.len() && upper[i] > lower[i];
        match (open, start) {
            (true, None) => start = Some(i),
            (false, Some(s)) => {
                let mut points = step_points(&fig.bins[s..i], &upper[s..i], frame, domain, top);
                let mut below = step_points(&fig.bins[s..i], &lower[s..i], frame, domain, top);
                below.reverse();
                points.extend(below);
                canvas.polygon(&points, c)?;
                start = None;
            }
            _ => {}
        }
    }
    Ok(())
}

/// Hatching between two step lines, bin by bin (the lattice makes neighbouring bins join up).
#[allow(clippy::too_many_arguments)]
fn hatch_bins<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    m: &Metrics,
    fig: &Figure,
    frame: &Frame,
    domain: (f64, f64),
    top: f64,
    lower: &[f64],
    upper: &[f64],
    c: Rgba,
) -> Result<()> {
    for (i, b) in fig.bins.iter().enumerate() {
        let (y_low, y_high) = (frame.y(lower[i], top), frame.y(upper[i], top));
        if y_low - y_high >= 1.0 {
            hatch(
                canvas,
                m,
                frame.x(b.0, domain),
                y_high,
                frame.x(b.1, domain),
                y_low,
                c,
            )?;
        }
    }
    Ok(())
}

/// 45° hatching inside a rectangle; lines sit on a global lattice so neighbouring cells join up.
fn hatch<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    m: &Metrics,
    x0: f64,
    y0: f64,
    x1: f64,
    y1: f64,
    c: Rgba,
) -> Result<()> {
    // Scaled with the image (at 800×450 a 6 px lattice of 2 px lines reads as a solid fill).
    let spacing = m.px(12.0).max(4.0);
    let width = m.px(2.5).max(1.0);
    // Lines x + y = k·spacing, clipped to the rectangle.
    let k_first = ((x0 + y0) / spacing).ceil() as i64;
    let k_last = ((x1 + y1) / spacing).floor() as i64;
    for k in k_first..=k_last {
        let sum = k as f64 * spacing;
        let (ax, ay) = if sum - y1 >= x0 {
            (sum - y1, y1)
        } else {
            (x0, sum - x0)
        };
        let (bx, by) = if sum - y0 <= x1 {
            (sum - y0, y0)
        } else {
            (x1, sum - x1)
        };
        if ax <= bx {
            canvas.line(ax, ay, bx, by, c, width)?;
        }
    }
    Ok(())
}

/// Which bars get their total written above them: all when every label fits its neighbours'
/// spacing with `gap` to spare; else the largest, the first and the last, each only when it
/// keeps `gap` from those already placed. `centres` and `widths` in pixels.
pub(crate) fn bar_labels_shown(
    centres: &[f64],
    widths: &[f64],
    totals: &[f64],
    gap: f64,
) -> Vec<usize> {
    let n = centres.len();
    let apart =
        |a: usize, b: usize| (centres[a] - centres[b]).abs() >= (widths[a] + widths[b]) / 2.0 + gap;
    if (1..n).all(|i| apart(i - 1, i)) {
        return (0..n).collect();
    }
    let largest = (0..n)
        .filter(|i| totals[*i] > 0.0)
        .max_by(|a, b| totals[*a].total_cmp(&totals[*b]).then(b.cmp(a)));
    let mut shown: Vec<usize> = Vec::new();
    for candidate in largest.into_iter().chain([0, n.saturating_sub(1)]) {
        if candidate < n
            && totals[candidate] > 0.0
            && !shown.contains(&candidate)
            && shown.iter().all(|s| apart(*s, candidate))
        {
            shown.push(candidate);
        }
    }
    shown.sort_unstable();
    shown
}

#[allow(clippy::too_many_arguments)]
fn bars<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    m: &Metrics,
    fig: &Figure,
    frame: &Frame,
    domain: (f64, f64),
    top: f64,
    series: &[(Rgba, Vec<f64>)],
    totals: bool,
    tick_size: f64,
) -> Result<()> {
    let label_size = tick_size * 0.95;
    let totals_per_bin: Vec<f64> = (0..fig.bins.len())
        .map(|i| series.iter().map(|s| s.1[i].max(0.0)).sum())
        .collect();
    let labels: Vec<String> = totals_per_bin.iter().map(|v| ticks::dollars(*v)).collect();
    let centre = |i: usize| (frame.x(fig.bins[i].0, domain) + frame.x(fig.bins[i].1, domain)) / 2.0;
    for (i, b) in fig.bins.iter().enumerate() {
        let (xa, xb) = (frame.x(b.0, domain), frame.x(b.1, domain));
        let pad = (xb - xa) * 0.14;
        let (x0, x1) = (xa + pad, (xb - pad).max(xa + pad + 1.0));
        let mut base = 0.0;
        for (c, values) in series {
            let v = values[i].max(0.0);
            if v > 0.0 {
                canvas.rect(x0, frame.y(base + v, top), x1, frame.y(base, top), *c)?;
            }
            base += v;
        }
    }
    if !totals {
        return Ok(());
    }
    let widths: Vec<f64> = labels
        .iter()
        .map(|l| canvas.text_width(l, label_size, Weight::Normal))
        .collect();
    let gap = m.px(10.0).max(4.0);
    let shown = bar_labels_shown(
        &(0..fig.bins.len()).map(centre).collect::<Vec<_>>(),
        &widths,
        &totals_per_bin,
        gap,
    );
    for i in shown {
        // Kept inside the frame, so an edge bar's label never reaches the axis labels.
        let half = widths[i] / 2.0;
        let x = centre(i).clamp(
            frame.left + half,
            (frame.right - half).max(frame.left + half),
        );
        let y = frame.y(totals_per_bin[i], top) - label_size * 0.75;
        canvas.text(
            &labels[i],
            x,
            y,
            label_size,
            Weight::Normal,
            palette::INK,
            Align::Centre,
        )?;
    }
    Ok(())
}
