//! Chart stage: categorical bar charts (one group of bars per scenario) in the same frame as the
//! time charts — title, subtitle, legend column on the right — for the compare charts. Bars may be
//! negative (diverging from a zero line); a value far beyond the others is cut at the edge of the
//! plot, marked with a break, and its value written above the group, so it cannot squash the rest.

use plotters::prelude::DrawingBackend;

use super::canvas::{Align, Canvas, Weight};
use super::figure::{self, LegendEntry, Metrics};
use super::palette::{self, Rgba};
use super::ticks;
use crate::error::Result;

/// One bar: segments stacked from zero (positive ones up, negative ones down).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bar {
    /// What the bar is, for the note when it runs off the scale ("penalties").
    pub name: String,
    pub segments: Vec<(Rgba, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Group {
    /// Written under the axis; wrapped onto two lines, then shortened with an ellipsis.
    pub label: String,
    pub bold: bool,
    pub bars: Vec<Bar>,
    /// Written just above the bars (a total), when it fits.
    pub top_label: Option<String>,
    /// A dot at the middle of the group (a net change).
    pub marker: Option<f64>,
    /// Lines written above the plot over the group (the net change, in words).
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct BarFigure {
    pub title: String,
    pub subtitle: String,
    pub legend: Vec<LegendEntry>,
    /// What the value axis measures, written above it.
    pub axis_label: String,
    pub groups: Vec<Group>,
    /// Written in place of the plot when there are no groups.
    pub empty_message: String,
}

/// A value more than this many times the next one is cut at the edge of the plot.
const OUTLIER_RATIO: f64 = 4.0;

/// The value range the axis must show: every bar end and marker, with outliers cut off.
/// Returns (low, high, cut): `cut` is the magnitude beyond which values are off the scale.
fn value_range(groups: &[Group], headroom: f64) -> (f64, f64, f64) {
    let mut extents: Vec<f64> = Vec::new();
    for g in groups {
        for bar in &g.bars {
            let up: f64 = bar.segments.iter().map(|s| s.1.max(0.0)).sum();
            let down: f64 = bar.segments.iter().map(|s| s.1.min(0.0)).sum();
            extents.push(up);
            extents.push(down);
        }
        extents.extend(g.marker);
    }
    let mut magnitudes: Vec<f64> = extents
        .iter()
        .map(|v| v.abs())
        .filter(|v| *v >= 0.5 && v.is_finite())
        .collect();
    magnitudes.sort_by(|a, b| b.total_cmp(a));
    // Cut only a few outliers (at most a third of the values), at the first big gap.
    let allowed = (magnitudes.len() / 3).max(1);
    let mut cut = f64::INFINITY;
    for i in 1..magnitudes.len().min(allowed + 1) {
        if magnitudes[i - 1] > OUTLIER_RATIO * magnitudes[i] {
            cut = magnitudes[i] * 1.25;
            break;
        }
    }
    // Under half a dollar is solver noise, not a change worth an axis of cents.
    let finite = |v: f64| {
        if v.is_finite() && v.abs() >= 0.5 {
            v
        } else {
            0.0
        }
    };
    let high = extents
        .iter()
        .map(|v| finite(*v).min(cut))
        .fold(0.0, f64::max);
    let low = extents
        .iter()
        .map(|v| finite(*v).max(-cut))
        .fold(0.0, f64::min);
    if low == 0.0 && high == 0.0 {
        // Nothing changed: a small axis either side of zero rather than one of cents.
        return (-1.0, 1.0, cut);
    }
    (low, high * headroom, cut)
}

/// Splits a label over at most two lines that fit `max_width`: at a space or after a hyphen when
/// it can, the second line shortened with an ellipsis when it must.
fn wrap_label<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    text: &str,
    size: f64,
    weight: Weight,
    max_width: f64,
) -> Vec<String> {
    if canvas.text_width(text, size, weight) <= max_width {
        return vec![text.to_string()];
    }
    let chars: Vec<char> = text.chars().collect();
    // The longest first line that fits, preferring a break at a space or hyphen.
    let mut best_break = None;
    let mut best_any = 1;
    for end in 1..chars.len() {
        let head: String = chars[..end].iter().collect();
        if canvas.text_width(head.trim_end(), size, weight) > max_width {
            break;
        }
        best_any = end;
        if chars[end - 1] == '-' || chars[end] == ' ' {
            best_break = Some(end);
        }
    }
    let split = best_break.unwrap_or(best_any);
    let head: String = chars[..split]
        .iter()
        .collect::<String>()
        .trim_end()
        .to_string();
    let tail: String = chars[split..]
        .iter()
        .collect::<String>()
        .trim_start()
        .to_string();
    vec![head, canvas.fit_text(&tail, size, weight, max_width)]
}

pub(crate) fn draw<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    fig: &BarFigure,
    width: u32,
    height: u32,
) -> Result<()> {
    let (w, h) = (f64::from(width), f64::from(height));
    let m = Metrics::new(width, height);
    let margin = m.margin();
    let tick_size = m.tick_size();
    let label_size = m.px(26.0);
    let note_size = m.px(25.0);

    let content_top = figure::header(canvas, &m, w, &fig.title, &fig.subtitle)?;
    if fig.groups.is_empty() {
        let text = canvas.fit_text(
            &fig.empty_message,
            m.px(34.0),
            Weight::Normal,
            w - 2.0 * margin,
        );
        canvas.text(
            &text,
            w / 2.0,
            (content_top + h - margin) / 2.0,
            m.px(34.0),
            Weight::Normal,
            palette::INK_SOFT,
            Align::Centre,
        )?;
        return Ok(());
    }
    let legend = figure::legend_layout(canvas, &m, w, &fig.legend);

    let has_top_labels = fig.groups.iter().any(|g| g.top_label.is_some());
    let (low, high, cut) = value_range(&fig.groups, if has_top_labels { 1.12 } else { 1.0 });
    // Notes over each group: its own, then the values cut off the scale.
    let notes: Vec<Vec<String>> = fig
        .groups
        .iter()
        .map(|g| {
            let mut off_scale: Vec<String> = Vec::new();
            for bar in &g.bars {
                let up: f64 = bar.segments.iter().map(|s| s.1.max(0.0)).sum();
                let down: f64 = bar.segments.iter().map(|s| s.1.min(0.0)).sum();
                for end in [up, down] {
                    if end.abs() > cut {
                        off_scale.push(format!("{} {}", bar.name, ticks::signed_dollars(end)));
                    }
                }
            }
            let mut notes = g.notes.clone();
            if !off_scale.is_empty() {
                notes.push(format!("{} off scale", off_scale.join(", ")));
            }
            notes
        })
        .collect();

    // Rows: axis label, notes over the groups, the plot, group labels (up to two lines).
    let axis_label_mid = content_top + tick_size * 0.5;
    let note_rows = notes.iter().map(Vec::len).max().unwrap_or(0);
    let note_pitch = note_size * 1.45;
    let notes_top = content_top + tick_size * 1.6;
    let label_pitch = label_size * 1.3;
    let labels_h = label_size * 0.9 + label_pitch * 2.0;

    let area_left = margin;
    let area_right = legend.left - m.px(40.0);
    let frame_top = notes_top + note_rows as f64 * note_pitch + m.px(8.0);
    let frame_bottom = h - margin - labels_h;
    let plot_h = (frame_bottom - frame_top).max(m.px(40.0));

    let max_ticks = ((plot_h / (tick_size * 2.4)).floor() as usize).clamp(2, 8);
    let axis = ticks::signed_value_ticks(low, high, max_ticks, ticks::Unit::Dollars);
    let y_label_w = axis
        .labels
        .iter()
        .map(|(_, l)| canvas.text_width(l, tick_size, Weight::Normal))
        .fold(0.0, f64::max);
    let left = area_left + y_label_w + m.px(14.0);
    let right = area_right;
    let y = |v: f64| {
        let v = v.clamp(axis.bottom, axis.top);
        frame_bottom - (v - axis.bottom) / (axis.top - axis.bottom) * (frame_bottom - frame_top)
    };
    let thin = m.px(1.5).max(1.0);

    // Axis label above the tick labels.
    let axis_label = canvas.fit_text(
        &fig.axis_label,
        tick_size,
        Weight::Normal,
        right - area_left,
    );
    canvas.text(
        &axis_label,
        area_left,
        axis_label_mid,
        tick_size,
        Weight::Normal,
        palette::INK_SOFT,
        Align::Left,
    )?;
    for (v, label) in &axis.labels {
        let yv = y(*v);
        if v.abs() > 0.0 {
            canvas.line(left, yv, right, yv, palette::GRID, thin)?;
        }
        canvas.text(
            label,
            left - m.px(14.0),
            yv,
            tick_size,
            Weight::Normal,
            palette::INK_SOFT,
            Align::Right,
        )?;
    }

    let n = fig.groups.len();
    let slot = (right - left) / n as f64;
    let gap = m.px(12.0);
    let top_label_size = tick_size * 0.95;
    for (k, g) in fig.groups.iter().enumerate() {
        let centre = left + slot * (k as f64 + 0.5);
        let bars = g.bars.len().max(1) as f64;
        let group_w = (slot * if bars > 1.0 { 0.84 } else { 0.62 })
            .min(m.px(if bars > 1.0 { 110.0 } else { 240.0 }) * bars);
        let bar_pitch = group_w / bars;
        let bar_w = bar_pitch * if bars > 1.0 { 0.86 } else { 1.0 };
        let mut tallest = 0.0f64;
        for (b, bar) in g.bars.iter().enumerate() {
            let x0 = centre - group_w / 2.0 + bar_pitch * b as f64 + (bar_pitch - bar_w) / 2.0;
            let x1 = x0 + bar_w;
            let (mut up, mut down) = (0.0, 0.0);
            for (c, v) in &bar.segments {
                let (from, to) = if *v >= 0.0 {
                    let r = (up, up + v);
                    up += v;
                    r
                } else {
                    let r = (down, down + v);
                    down += v;
                    r
                };
                if (y(from) - y(to)).abs() >= 0.5 {
                    canvas.rect(x0, y(from), x1, y(to), *c)?;
                }
            }
            tallest = tallest.max(up);
            for end in [up, down] {
                if end.abs() > cut {
                    // A break near the cut end: two white slashes across the bar.
                    let edge = y(end);
                    let inward = if end > 0.0 { 1.0 } else { -1.0 };
                    for d in [m.px(18.0), m.px(30.0)] {
                        let yb = edge + inward * d;
                        canvas.line(
                            x0 - 1.0,
                            yb + m.px(5.0),
                            x1 + 1.0,
                            yb - m.px(5.0),
                            palette::WHITE,
                            m.px(4.0).max(2.0),
                        )?;
                    }
                }
            }
        }
        if let Some(v) = g.marker {
            let r = m.px(11.0).max(3.0);
            if v.abs() > cut {
                // Off the scale: an arrowhead at the edge, pointing the way the value lies (the
                // note above the group gives the value), never a dot that would read as the edge.
                let (tip, dir) = if v > 0.0 { (y(v), 1.0) } else { (y(v), -1.0) };
                let base = tip + dir * r * 2.2;
                canvas.polygon(
                    &[(centre, tip), (centre - r, base), (centre + r, base)],
                    palette::INK,
                )?;
            } else {
                canvas.circle(centre, y(v), r + m.px(3.0).max(1.0), palette::WHITE)?;
                canvas.circle(centre, y(v), r, palette::INK)?;
            }
        }
        if let Some(total) = &g.top_label {
            // Shrunk (to 70%) rather than let it spill over the neighbouring group.
            let room = slot - gap;
            let mut size = top_label_size;
            while canvas.text_width(total, size, Weight::Normal) > room
                && size > top_label_size * 0.7
            {
                size *= 0.92;
            }
            if canvas.text_width(total, size, Weight::Normal) <= room {
                canvas.text(
                    total,
                    centre,
                    y(tallest) - size * 0.9,
                    size,
                    Weight::Normal,
                    palette::INK,
                    Align::Centre,
                )?;
            }
        }
        for (i, note) in notes[k].iter().enumerate() {
            let text = canvas.fit_text(note, note_size, Weight::Normal, slot - gap);
            canvas.text(
                &text,
                centre,
                notes_top + note_size * 0.5 + note_pitch * i as f64,
                note_size,
                Weight::Normal,
                palette::INK,
                Align::Centre,
            )?;
        }
        let weight = if g.bold { Weight::Bold } else { Weight::Normal };
        for (i, line) in wrap_label(canvas, &g.label, label_size, weight, slot - gap)
            .iter()
            .enumerate()
        {
            canvas.text(
                line,
                centre,
                frame_bottom + label_size * 0.9 + label_pitch * i as f64,
                label_size,
                weight,
                palette::INK,
                Align::Centre,
            )?;
        }
    }
    // The zero line over the bars.
    canvas.line(
        left,
        y(0.0),
        right,
        y(0.0),
        palette::AXIS,
        m.px(2.0).max(1.0),
    )?;
    figure::draw_legend(canvas, &m, h, &fig.legend, &legend, frame_top)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn group(values: &[f64]) -> Group {
        Group {
            label: "g".into(),
            bold: false,
            bars: values
                .iter()
                .map(|v| Bar {
                    name: "b".into(),
                    segments: vec![(palette::INK, *v)],
                })
                .collect(),
            top_label: None,
            marker: None,
            notes: Vec::new(),
        }
    }

    #[test]
    fn an_outlier_is_cut_and_the_rest_keep_their_scale() {
        let groups = vec![group(&[10.0, -4.0]), group(&[8.0, 1000.0])];
        let (low, high, cut) = value_range(&groups, 1.0);
        assert_eq!(low, -4.0);
        assert!(
            cut < 1000.0 && (10.0..=12.5).contains(&high),
            "{high} {cut}"
        );
        let (_, high, cut) = value_range(&[group(&[10.0, 8.0, 6.0])], 1.0);
        assert_eq!((high, cut), (10.0, f64::INFINITY));
    }
}
