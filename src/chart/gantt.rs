//! Chart stage: the commitments to sign, as a Gantt-like chart — one row per reserved tranche
//! (grouped by provider in the one stack order, then by start), a bar in the provider's colour
//! across its reservation window, and the reserved tokens/min and commitment cost in two
//! right-aligned columns beside it, so no value label ever sits on a bar or on another label.

use chrono::{DateTime, Utc};
use plotters::prelude::DrawingBackend;

use super::canvas::{Align, Canvas, Weight};
use super::figure::{self, LegendEntry, Metrics, Swatch};
use super::palette::{self, provider_colour, provider_order, Rgba};
use super::ticks;
use crate::error::Result;
use crate::report::tables::{CommitmentRow, RunInfo};

/// One tranche to reserve.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Row {
    pub label: String,
    pub colour: Rgba,
    /// Window in seconds since the epoch, clipped to the horizon.
    pub start_s: f64,
    pub end_s: f64,
    /// Written in the value columns.
    pub reserved: String,
    pub cost: String,
    /// First row of its provider's group (a small gap above it).
    pub group_start: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct GanttFigure {
    pub title: String,
    pub subtitle: String,
    pub legend: Vec<LegendEntry>,
    /// The horizon, seconds since the epoch.
    pub domain: (f64, f64),
    pub rows: Vec<Row>,
    /// Written in place of the rows when there are none.
    pub empty_message: String,
}

/// A commitment worth a row: the plan reserves something and pays for it. (On-demand tranches
/// have no commitment cost; a decided tranche the plan leaves at zero has nothing to sign.)
pub(crate) fn is_signed(row: &CommitmentRow) -> bool {
    row.commit_cost > 0.0 && row.reserved_tpm > 0.0
}

/// A window end from commitments.csv; empty (or unreadable) means the horizon's edge.
fn instant(text: &str, open: f64) -> f64 {
    if text.trim().is_empty() {
        return open;
    }
    crate::units::parse_time(text)
        .map(|t: DateTime<Utc>| t.timestamp() as f64)
        .unwrap_or(open)
}

/// Reserved tokens per minute to three figures: `954M`, `1.17B`, `200`.
fn tokens(v: f64) -> String {
    let dollars = ticks::dollars(v);
    dollars.trim_start_matches('$').to_string()
}

pub(crate) fn commitments(
    info: &RunInfo,
    commitments: &[CommitmentRow],
    domain: (f64, f64),
) -> GanttFigure {
    let mut signed: Vec<&CommitmentRow> = commitments.iter().filter(|r| is_signed(r)).collect();
    signed.sort_by_cached_key(|r| {
        (
            provider_order(&r.provider),
            instant(&r.start, domain.0) as i64,
            r.tranche.clone(),
        )
    });
    let mut rows = Vec::with_capacity(signed.len());
    let mut legend: Vec<LegendEntry> = Vec::new();
    let mut last_provider: Option<&str> = None;
    for r in &signed {
        let start_s = instant(&r.start, domain.0).clamp(domain.0, domain.1);
        let end_s = instant(&r.end, domain.1).clamp(start_s, domain.1);
        let group_start = last_provider != Some(r.provider.as_str());
        if group_start {
            legend.push(LegendEntry {
                label: r.provider.clone(),
                swatch: Swatch::Fill(provider_colour(&r.provider)),
                droppable: true,
            });
        }
        last_provider = Some(&r.provider);
        rows.push(Row {
            label: r.tranche.clone(),
            colour: provider_colour(&r.provider),
            start_s,
            end_s,
            reserved: tokens(r.reserved_tpm),
            cost: ticks::dollars(r.commit_cost),
            group_start,
        });
    }
    let total: f64 = signed.iter().map(|r| r.commit_cost).sum();
    let subtitle = if rows.is_empty() {
        info.policy.clone()
    } else {
        format!(
            "{} tranche{} to reserve, {} committed  ·  bar = reservation window  ·  by provider, then start",
            rows.len(),
            if rows.len() == 1 { "" } else { "s" },
            ticks::dollars(total)
        )
    };
    GanttFigure {
        title: format!("{}: commitments to sign", info.scenario),
        subtitle,
        legend,
        domain,
        rows,
        empty_message: "nothing to reserve: the plan uses on-demand capacity only".into(),
    }
}

/// Row text size and pitch that fit `rows` (with provider gaps) into `room` pixels, or the
/// number of rows that fit at the smallest size.
fn row_layout(m: &Metrics, rows: &[Row], room: f64) -> (f64, f64, usize) {
    let gaps = rows.iter().skip(1).filter(|r| r.group_start).count() as f64;
    let pitches = rows.len() as f64 + 0.5 * gaps;
    let biggest = m.tick_size();
    let smallest = m.px(15.0).max(7.0);
    let mut size = biggest;
    loop {
        for factor in [1.6, 1.45, 1.3] {
            if pitches * size * factor <= room {
                return (size, size * factor, rows.len());
            }
        }
        if size <= smallest {
            break;
        }
        size = (size * 0.92).max(smallest);
    }
    let pitch = size * 1.3;
    let fits = ((room / pitch).floor() as usize).max(1);
    (size, pitch, fits.min(rows.len()))
}

pub(crate) fn draw<DB: DrawingBackend>(
    canvas: &Canvas<DB>,
    fig: &GanttFigure,
    width: u32,
    height: u32,
) -> Result<()> {
    let (w, h) = (f64::from(width), f64::from(height));
    let m = Metrics::new(width, height);
    let margin = m.margin();
    let tick_size = m.tick_size();
    let thin = m.px(1.5).max(1.0);

    // Lay the rows out first: when they cannot all fit, the subtitle says how many are shown.
    let probe_top = header_height(&m);
    let axis_h = tick_size * 1.6;
    let head_h = tick_size * 1.6;
    let room = h - margin - axis_h - probe_top - head_h;
    let (size, pitch, shown) = row_layout(&m, &fig.rows, room);
    let mut subtitle = fig.subtitle.clone();
    if shown < fig.rows.len() {
        subtitle = format!(
            "{subtitle}  ·  first {shown} of {} shown (image too small)",
            fig.rows.len()
        );
    }
    let content_top = figure::header(canvas, &m, w, &fig.title, &subtitle)?;
    if fig.rows.is_empty() {
        let text = canvas.fit_text(
            &fig.empty_message,
            m.px(34.0),
            Weight::Normal,
            w - 2.0 * margin,
        );
        return canvas.text(
            &text,
            w / 2.0,
            (content_top + h - margin) / 2.0,
            m.px(34.0),
            Weight::Normal,
            palette::INK_SOFT,
            Align::Centre,
        );
    }
    let rows = &fig.rows[..shown];
    let legend = figure::legend_layout(canvas, &m, w, &fig.legend);

    // Columns, right to left: legend, commitment, reserved; tranche names on the left.
    let gap = m.px(28.0);
    let col_w = |head: &str, values: &mut dyn Iterator<Item = &String>| {
        values
            .map(|v| canvas.text_width(v, size, Weight::Normal))
            .fold(canvas.text_width(head, size, Weight::Normal), f64::max)
    };
    let (cost_head, reserved_head) = ("commitment", "reserved, tok/min");
    let cost_w = col_w(cost_head, &mut rows.iter().map(|r| &r.cost));
    let reserved_w = col_w(reserved_head, &mut rows.iter().map(|r| &r.reserved));
    let cost_right = legend.left - m.px(40.0);
    let reserved_right = cost_right - cost_w - gap;
    let values_left = reserved_right - reserved_w;
    let name_max = (w * 0.3)
        .min(values_left - margin - m.px(200.0))
        .max(m.px(80.0));
    let labels: Vec<String> = rows
        .iter()
        .map(|r| canvas.fit_text(&r.label, size, Weight::Normal, name_max))
        .collect();
    let name_w = labels
        .iter()
        .map(|l| canvas.text_width(l, size, Weight::Normal))
        .fold(0.0, f64::max);
    let left = margin + name_w + gap;
    let right = values_left - gap;
    let x = |t: f64| {
        left + (t - fig.domain.0) / (fig.domain.1 - fig.domain.0).max(1.0) * (right - left)
    };

    let head_y = content_top + head_h * 0.4;
    for (text, at, align) in [
        ("tranche", margin, Align::Left),
        (reserved_head, reserved_right, Align::Right),
        (cost_head, cost_right, Align::Right),
    ] {
        canvas.text(
            text,
            at,
            head_y,
            size,
            Weight::Bold,
            palette::INK_SOFT,
            align,
        )?;
    }
    let rows_top = content_top + head_h;
    let mut y = rows_top;
    let mut centres = Vec::with_capacity(rows.len());
    for (k, r) in rows.iter().enumerate() {
        if r.group_start && k > 0 {
            y += pitch * 0.5;
        }
        centres.push(y + pitch / 2.0);
        y += pitch;
    }
    let rows_bottom = y;

    // Time grid behind the bars.
    let time_ticks =
        ticks::time_ticks(fig.domain.0, fig.domain.1, right - left, m.px(24.0), &|s| {
            canvas.text_width(s, tick_size, Weight::Normal)
        });
    for t in &time_ticks {
        if t.at_s > fig.domain.0 && t.at_s < fig.domain.1 {
            canvas.line(
                x(t.at_s),
                rows_top,
                x(t.at_s),
                rows_bottom,
                palette::GRID,
                thin,
            )?;
        }
    }
    for (k, r) in rows.iter().enumerate() {
        let cy = centres[k];
        let half = pitch * 0.3;
        let (x0, x1) = (x(r.start_s), x(r.end_s).max(x(r.start_s) + thin));
        canvas.rect(x0, cy - half, x1, cy + half, r.colour)?;
        canvas.text(
            &labels[k],
            margin,
            cy,
            size,
            Weight::Normal,
            palette::INK,
            Align::Left,
        )?;
        canvas.text(
            &r.reserved,
            reserved_right,
            cy,
            size,
            Weight::Normal,
            palette::INK,
            Align::Right,
        )?;
        canvas.text(
            &r.cost,
            cost_right,
            cy,
            size,
            Weight::Normal,
            palette::INK,
            Align::Right,
        )?;
    }
    canvas.line(left, rows_bottom, right, rows_bottom, palette::AXIS, thin)?;
    let label_y = rows_bottom + tick_size;
    for t in &time_ticks {
        if let Some((at, label)) = &t.label {
            canvas.text(
                label,
                x(*at),
                label_y,
                tick_size,
                Weight::Normal,
                palette::INK_SOFT,
                Align::Centre,
            )?;
        }
    }
    figure::draw_legend(canvas, &m, h, &fig.legend, &legend, rows_top)
}

/// Where `figure::header` leaves the content (the same sums, without drawing).
fn header_height(m: &Metrics) -> f64 {
    let (title, subtitle) = (m.px(50.0), m.px(30.0));
    let title_mid = m.margin() + title * 0.35;
    let subtitle_mid = title_mid + title * 0.5 + m.px(14.0) + subtitle * 0.35;
    subtitle_mid + subtitle * 0.5 + m.px(36.0)
}
