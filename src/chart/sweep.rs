//! Chart stage, sweeps: a tornado of cost and served % over the grid's axes around the unmodified
//! scenario; for a risk sweep a fan of served against demand over time (P5–P95 band of the
//! samples' per-period totals) and the exceedance curve of unserved tokens. Drawn from the sweep's
//! rows only (never the solver), so the same rows give the same bytes.

use super::figure::{
    step_area, step_line, Axis, Category, Entry, Figure, Label, Mark, Panel, Swatch,
};
use super::layout::SMALL;
use super::palette::{self, Rgba};
use super::svg::Align;
use super::ticks::Unit;
use super::{ChartOptions, RenderedChart};
use crate::error::Result;
use crate::sweep::risk::{nearest_rank, sorted};
use crate::sweep::write::{grid_summary, risk_summary, Results, TornadoAxis};
use crate::units::{human, human_dollars};

/// The stems of the sweep charts (each written as `.png` and `.svg`).
pub const SWEEP_CHART_STEMS: [&str; 3] = ["sweep_fan", "sweep_tornado", "sweep_unserved"];

const LOW: Rgba = palette::rgb(0x0072B2);
const HIGH: Rgba = palette::rgb(0xE69F00);
const SERVED: Rgba = palette::rgb(0x009E73);

/// Draws every chart of a sweep, in memory, sorted by file name.
pub fn render_all(res: &Results, opts: &ChartOptions) -> Result<Vec<RenderedChart>> {
    let mut figures = Vec::new();
    if res.info.is_risk() {
        if let Some(fig) = fan(res) {
            figures.push(("sweep_fan", fig));
        }
        figures.push(("sweep_unserved", exceedance(res)));
    } else {
        figures.push(("sweep_tornado", tornado(res)));
    }
    super::render(figures, opts)
}

/// Served against demand over time: the band between the samples' P5 and P95 served tokens per
/// minute in each period, the median served, the median demand and the base plan's demand.
fn fan(res: &Results) -> Option<Figure> {
    let info = &res.info;
    let starts: Vec<f64> = info
        .period_starts
        .iter()
        .filter_map(|t| crate::units::parse_time(t).ok())
        .map(|t| t.timestamp() as f64)
        .collect();
    let end = crate::units::parse_time(&info.horizon_end)
        .ok()?
        .timestamp() as f64;
    if starts.is_empty() || res.records.is_empty() {
        return None;
    }
    let bins: Vec<(f64, f64)> = starts
        .iter()
        .enumerate()
        .map(|(i, &s)| (s, starts.get(i + 1).copied().unwrap_or(end)))
        .collect();
    let per = |t: usize, f: fn(&crate::sweep::Record) -> &Vec<f64>, p: u32| {
        let v = sorted(res.records.iter().filter_map(|r| f(r).get(t).copied()));
        nearest_rank(&v, p).unwrap_or(0.0)
    };
    let n = bins.len();
    let served = |p| {
        (0..n)
            .map(|t| per(t, |r| &r.period_served_tpm, p))
            .collect::<Vec<f64>>()
    };
    let demand = |p| {
        (0..n)
            .map(|t| per(t, |r| &r.period_demand_tpm, p))
            .collect::<Vec<f64>>()
    };
    let base_demand: Vec<f64> = (0..n)
        .map(|t| res.base.period_demand_tpm.get(t).copied().unwrap_or(0.0))
        .collect();
    let s = risk_summary(res);
    // What one period does to an outage of a few hours, by the grid's longest period.
    let longest_hours = bins
        .iter()
        .map(|(a, b)| (b - a) / 3600.0)
        .fold(0.0, f64::max);
    let grain = if longest_hours >= 24.0 * 28.0 {
        "monthly periods average an outage over the month"
    } else if longest_hours >= 24.0 {
        "daily periods average an outage over the day"
    } else {
        "hourly periods show each outage hour by hour"
    };
    let line = |label: &str, colour: Rgba, width: f64, dashed: bool| {
        Entry::new(
            label,
            Swatch::Line {
                colour,
                width,
                dashed,
            },
        )
    };
    let (p5, p50, p95) = (served(5), served(50), served(95));
    let marks = vec![
        step_area("served, P5–P95", SERVED.alpha(0.35), None, &bins, &p5, &p95),
        step_line("served, median", SERVED, 3.5, false, &bins, &p50),
        step_line(
            "demand, as planned",
            palette::INK_SOFT,
            2.0,
            false,
            &bins,
            &base_demand,
        ),
        step_line(
            "demand, median",
            palette::INK,
            3.0,
            true,
            &bins,
            &demand(50),
        ),
    ];
    let top = [&p95, &base_demand, &demand(50)]
        .iter()
        .flat_map(|v| v.iter().copied())
        .fold(0.0, f64::max);
    let panel = Panel {
        title: None,
        x: Axis::Time {
            lo: bins[0].0,
            hi: bins[n - 1].1,
            min_step_s: 0.0,
            grid: true,
        },
        y: Axis::Value {
            lo: 0.0,
            hi: top,
            unit: Unit::TokensPerMinute,
            title: None,
            round_out: true,
        },
        marks,
    };
    let legend = vec![
        Entry::new("served, P5–P95", Swatch::Fill(SERVED.alpha(0.35))),
        line("served, median", SERVED, 3.5, false),
        line("demand, median", palette::INK, 3.0, true),
        line("demand, as planned", palette::INK_SOFT, 2.0, false),
    ];
    let subtitle = vec![
        format!("{} held to its plan, emergency rules", info.scenario_name),
        format!("P(shortfall) {:.1}%", s.shortfall_probability * 100.0),
        grain.to_string(),
    ];
    Some(Figure::new(
        format!("Served vs demand over {} risk samples", info.points),
        subtitle,
        legend,
        panel,
    ))
}

/// One tornado panel: a bar per axis from its lowest to its highest value, split at the centre.
fn tornado_panel(
    title: &str,
    centre: f64,
    rows: &[(String, f64, f64)],
    fmt: &dyn Fn(f64) -> String,
    unit: Unit,
    min_span: f64,
) -> Panel {
    let mut lo = rows.iter().map(|r| r.1).fold(centre, f64::min);
    let hi = rows.iter().map(|r| r.2).fold(centre, f64::max);
    // A floor on the axis span, so 0.07 percentage points never fill the panel and read as a
    // collapse of service.
    if hi - lo < min_span {
        lo = (hi - min_span).max(0.0);
    }
    // Room at both ends for the value labels.
    let pad = ((hi - lo) * 0.18).max(centre.abs() * 1e-6).max(1e-9);
    let (lo, hi) = (lo - pad, hi + pad);
    let right_half = centre > (lo + hi) / 2.0;
    let mut marks = Vec::new();
    let mut labels = Vec::new();
    for (i, (_, low, high)) in rows.iter().enumerate() {
        let (y0, y1, mid) = (i as f64 + 0.2, i as f64 + 0.8, i as f64 + 0.5);
        let label = |text: String, x: f64, spot: (f64, f64, Align), colour| {
            let mut l = Label::at(text, x, mid, SMALL, colour);
            l.spots = vec![spot];
            Mark::Label(l)
        };
        if *low < centre {
            marks.push(Mark::Rect {
                x0: *low,
                x1: centre,
                y0,
                y1,
                fill: LOW,
                cut: None,
            });
            labels.push(label(
                fmt(*low),
                *low,
                (-8.0, 0.0, Align::Right),
                palette::INK,
            ));
        }
        if *high > centre {
            marks.push(Mark::Rect {
                x0: centre,
                x1: *high,
                y0,
                y1,
                fill: HIGH,
                cut: None,
            });
            labels.push(label(
                fmt(*high),
                *high,
                (8.0, 0.0, Align::Left),
                palette::INK,
            ));
        }
        if (high - low).abs() <= 1e-12 * centre.abs().max(1.0) {
            let spot = if right_half {
                (-10.0, 0.0, Align::Right)
            } else {
                (10.0, 0.0, Align::Left)
            };
            labels.push(label("no change".into(), centre, spot, palette::INK_SOFT));
        }
    }
    marks.push(Mark::Rule {
        at: centre,
        vertical: true,
        colour: palette::INK,
        width: 3.0,
        dashed: false,
        label: Some(format!("unmodified {}", fmt(centre))),
    });
    marks.extend(labels);
    Panel {
        title: Some(title.into()),
        x: Axis::Value {
            lo,
            hi,
            unit,
            title: None,
            round_out: false,
        },
        y: Axis::Category(Category::slots(rows.iter().map(|r| (r.0.clone(), false)))),
        marks,
    }
}

fn tornado(res: &Results) -> Figure {
    let g = grid_summary(res);
    let held = res.info.hold_reservations == Some(true);
    // Widest swing first.
    let mut axes: Vec<&TornadoAxis> = g.tornado.iter().collect();
    axes.sort_by(|a, b| (b.cost_high - b.cost_low).total_cmp(&(a.cost_high - a.cost_low)));
    let name = |a: &TornadoAxis| {
        let vals: Vec<&str> = a
            .points
            .iter()
            .map(|p| {
                if p.value.is_empty() {
                    "–"
                } else {
                    p.value.as_str()
                }
            })
            .collect();
        format!("{} ({})", a.axis, vals.join(", "))
    };
    let cost_rows: Vec<(String, f64, f64)> = axes
        .iter()
        .map(|a| (name(a), a.cost_low, a.cost_high))
        .collect();
    let served_rows: Vec<(String, f64, f64)> = axes
        .iter()
        .map(|a| (a.axis.clone(), a.served_pct_low, a.served_pct_high))
        .collect();
    let cost = tornado_panel(
        "Cost (commit + usage + route)",
        res.base.cost,
        &cost_rows,
        &|v| human_dollars(v),
        Unit::Dollars,
        0.0,
    );
    let served = tornado_panel(
        "Demand served",
        res.base.served_pct,
        &served_rows,
        &|v| format!("{v:.2}%"),
        Unit::Percent,
        5.0,
    );
    let subtitle = vec![
        format!(
            "{} points, each axis varied alone around the unmodified scenario ({})",
            res.info.points,
            if held { "base plan held" } else { "re-planned" }
        ),
        "blue = below, orange = above".into(),
    ];
    Figure {
        panels: vec![cost, served],
        columns: 2,
        ..Figure::new(
            format!("What moves the cost of {}", res.info.scenario_name),
            subtitle,
            Vec::new(),
            fan_free(),
        )
    }
}

/// A placeholder panel, replaced by the caller.
fn fan_free() -> Panel {
    Panel {
        title: None,
        x: Axis::Category(Category::default()),
        y: Axis::Category(Category::default()),
        marks: Vec::new(),
    }
}

/// P(unserved tokens > x) over the samples, as a step curve.
fn exceedance(res: &Results) -> Figure {
    let s = risk_summary(res);
    let values = sorted(res.records.iter().map(|r| r.unserved_tokens));
    let n = values.len().max(1) as f64;
    // Share above x: starts at P(unserved > 0) at x = 0, drops by 1/n at each sample's value.
    let positive: Vec<f64> = values.iter().copied().filter(|v| *v > 0.0).collect();
    let mut above = positive.len() as f64 / n * 100.0;
    let mut points = vec![(0.0, above)];
    for v in &positive {
        points.push((*v, above));
        above -= 100.0 / n;
        points.push((*v, above.max(0.0)));
    }
    let mut marks = vec![Mark::Line {
        name: "share above".into(),
        colour: palette::UNSERVED,
        width: 4.0,
        dashed: false,
        points,
    }];
    // Percentiles at the same value share one marker ("P95, P99").
    let mut percentiles: Vec<(f64, String)> = Vec::new();
    for (p, v) in [
        (50, s.unserved_tokens.p50),
        (95, s.unserved_tokens.p95),
        (99, s.unserved_tokens.p99),
    ] {
        match percentiles.last_mut() {
            Some((last, label)) if *last == v => label.push_str(&format!(", P{p}")),
            _ => percentiles.push((v, format!("P{p}"))),
        }
    }
    for (v, text) in percentiles.into_iter().filter(|p| p.0 > 0.0) {
        marks.push(Mark::Rule {
            at: v,
            vertical: true,
            colour: palette::INK_SOFT,
            width: 2.0,
            dashed: true,
            label: None,
        });
        let mut l = Label::at(text, v, 100.0, 20.0, palette::INK_SOFT);
        l.bold = true;
        l.spots = (0..8)
            .map(|k| (6.0, 14.0 + 30.0 * k as f64, Align::Left))
            .collect();
        marks.push(Mark::Label(l));
    }
    let max = values.last().copied().unwrap_or(0.0).max(1.0);
    let panel = Panel {
        title: None,
        x: Axis::Value {
            lo: 0.0,
            hi: max,
            unit: Unit::Tokens,
            title: Some("unserved tokens over the horizon".into()),
            round_out: true,
        },
        y: Axis::Value {
            lo: 0.0,
            hi: 100.0,
            unit: Unit::Percent,
            title: None,
            round_out: false,
        },
        marks,
    };
    let subtitle = vec![
        "share of samples with more than x unserved tokens".into(),
        format!("P(shortfall) {:.1}%", s.shortfall_probability * 100.0),
        format!("P50 {}", human(s.unserved_tokens.p50)),
        format!("P95 {}", human(s.unserved_tokens.p95)),
        format!("P99 {}", human(s.unserved_tokens.p99)),
    ];
    let title = format!("How much demand goes unserved: {} samples", res.info.points);
    Figure::new(title, subtitle, Vec::new(), panel)
}
