//! Chart stage, sweeps: a tornado of cost and served % over the grid's axes around the unmodified
//! scenario; for a risk sweep a fan of served against demand over time (P5–P95 band of the
//! samples' per-period totals) and the exceedance curve of unserved tokens. Drawn from the sweep's
//! rows only (never the solver), so the same rows give the same bytes.

use super::figure::{largest, Axis, Category, Entry, Figure, Label, Mark, Panel, Stroke, Swatch};
use super::layout::SMALL;
use super::palette::{rgb, Rgba, INK, INK_SOFT, UNSERVED};
use super::svg::Align;
use super::text::Font;
use super::ticks::Unit;
use super::{ChartOptions, Charts};
use crate::sweep::write::{self, grid_summary, risk_summary, Results, TornadoAxis};
use crate::units::{human, human_dollars};

/// The stems of the sweep charts (each written as `.png` and `.svg`).
pub const SWEEP_CHART_STEMS: [&str; 3] = ["sweep_fan", "sweep_tornado", "sweep_unserved"];

const LOW: Rgba = rgb(0x0072B2);
const HIGH: Rgba = rgb(0xE69F00);
const SERVED: Rgba = rgb(0x009E73);

/// Draws every chart of a sweep, in memory, sorted by file name.
pub fn render_all(res: &Results, opts: &ChartOptions) -> Charts {
    let mut figures = Vec::new();
    if res.info.is_risk() {
        figures.extend(fan(res).map(|fig| ("sweep_fan", fig)));
        figures.push(("sweep_unserved", exceedance(res)));
    } else {
        figures.push(("sweep_tornado", tornado(res)));
    }
    super::render(figures, opts)
}

/// Served against demand over time: the band between the samples' P5 and P95 served tokens per
/// minute in each period, the median served, the median demand and the base plan's demand.
fn fan(res: &Results) -> Option<Figure> {
    let fan = write::fan(res)?;
    let (spans, [p5, p50, p95], demand, planned) = (fan.spans, fan.served, fan.demand, fan.planned);
    let band = SERVED.alpha(0.35);
    let median = Stroke::new(SERVED, 3.5, false);
    let planned_line = Stroke::new(INK_SOFT, 2.0, false);
    let demand_line = Stroke::new(INK, 3.0, true);
    let marks = vec![
        Mark::band("served, P5–P95", (band, None), &spans, &p5, &p95),
        Mark::steps(median, &spans, &p50),
        Mark::steps(planned_line, &spans, &planned),
        Mark::steps(demand_line, &spans, &demand),
    ];
    let top = largest([&p95, &planned, &demand].into_iter().flatten().copied());
    let x = Axis::time(spans[0].0, spans[spans.len() - 1].1);
    let y = Axis::value(0.0, top, Unit::TokensPerMinute);
    let legend = vec![
        Entry::new("served, P5–P95", Swatch::Fill(band)),
        Entry::new("served, median", Swatch::Line(median)),
        Entry::new("demand, median", Swatch::Line(demand_line)),
        Entry::new("demand, as planned", Swatch::Line(planned_line)),
    ];
    // What one period does to an outage of a few hours, by the grid's longest period.
    let grain = match largest(spans.iter().map(|(a, b)| (b - a) / 3600.0)) {
        h if h >= 24.0 * 28.0 => "monthly periods average an outage over the month",
        h if h >= 24.0 => "daily periods average an outage over the day",
        _ => "hourly periods show each outage hour by hour",
    };
    let (info, shortfall) = (&res.info, risk_summary(res).shortfall_probability * 100.0);
    let subtitle = vec![
        format!("{} held to its plan, emergency rules", info.scenario_name),
        format!("P(shortfall) {shortfall:.1}%"),
        grain.to_string(),
    ];
    let title = format!("Served vs demand over {} risk samples", info.points);
    let panels = vec![Panel::new(x, y, marks)];
    Some(Figure::new(title, subtitle, legend, panels))
}

/// One tornado panel of dollars or percentages: a bar per axis from its lowest to its highest
/// value, split at the centre, each end's value beside it.
fn tornado_panel(title: &str, centre: f64, rows: &[(String, f64, f64)], unit: Unit) -> Panel {
    let percent = unit == Unit::Percent;
    let fmt = |v: f64| match percent {
        true => format!("{v:.2}%"),
        false => human_dollars(v),
    };
    // A floor on the axis span, so 0.07 percentage points never fill the panel and read as a
    // collapse of service.
    let min_span = if percent { 5.0 } else { 0.0 };
    let mut lo = rows.iter().map(|r| r.1).fold(centre, f64::min);
    let hi = rows.iter().map(|r| r.2).fold(centre, f64::max);
    if hi - lo < min_span {
        lo = (hi - min_span).max(0.0);
    }
    // Room at both ends for the value labels.
    let pad = ((hi - lo) * 0.18).max(centre.abs() * 1e-6).max(1e-9);
    let (lo, hi) = (lo - pad, hi + pad);
    let on_right = centre > (lo + hi) / 2.0;
    let (mut marks, mut labels) = (Vec::new(), Vec::new());
    for (i, (_, low, high)) in rows.iter().enumerate() {
        let (y, mid) = ((i as f64 + 0.2, i as f64 + 0.8), i as f64 + 0.5);
        let mut label = |text: String, x: f64, dx: f64, align, colour| {
            let l = Label::at(text, x, mid, Font::new(SMALL, false, colour));
            labels.push(Mark::Label(l.spots(vec![(dx, 0.0, align)])));
        };
        if *low < centre {
            marks.push(Mark::rect((*low, centre), y, LOW));
            label(fmt(*low), *low, -8.0, Align::Right, INK);
        }
        if *high > centre {
            marks.push(Mark::rect((centre, *high), y, HIGH));
            label(fmt(*high), *high, 8.0, Align::Left, INK);
        }
        if (high - low).abs() <= 1e-12 * centre.abs().max(1.0) {
            // Beside the centre line, on the side with more room.
            let dx = if on_right { -10.0 } else { 10.0 };
            let align = if on_right { Align::Right } else { Align::Left };
            label("no change".into(), centre, dx, align, INK_SOFT);
        }
    }
    let label = Some(format!("unmodified {}", fmt(centre)));
    let stroke = Stroke::new(INK, 3.0, false);
    marks.push(Mark::rule(centre, stroke, label));
    marks.extend(labels);
    let rows = Category::slots(rows.iter().map(|r| (r.0.clone(), false)));
    let (x, y) = (Axis::value_inside(lo, hi, unit), Axis::category(rows));
    let mut panel = Panel::new(x, y, marks);
    panel.title = Some(title.into());
    panel
}

fn tornado(res: &Results) -> Figure {
    let g = grid_summary(res);
    // Widest swing first.
    let mut axes: Vec<&TornadoAxis> = g.tornado.iter().collect();
    axes.sort_by(|a, b| (b.cost_high - b.cost_low).total_cmp(&(a.cost_high - a.cost_low)));
    let name = |a: &&TornadoAxis| {
        let value = |p: &crate::sweep::write::TornadoPoint| match p.value.as_str() {
            "" => "–".to_string(),
            v => v.to_string(),
        };
        let values: Vec<String> = a.points.iter().map(value).collect();
        format!("{} ({})", a.axis, values.join(", "))
    };
    let cost = |a: &&TornadoAxis| (name(a), a.cost_low, a.cost_high);
    let served = |a: &&TornadoAxis| (a.axis.clone(), a.served_pct_low, a.served_pct_high);
    let cost: Vec<_> = axes.iter().map(cost).collect();
    let served: Vec<_> = axes.iter().map(served).collect();
    let title = "Cost (commit + usage + route)";
    let cost = tornado_panel(title, res.base.cost, &cost, Unit::Dollars);
    let served = tornado_panel("Demand served", res.base.served_pct, &served, Unit::Percent);
    let held = res.info.hold_reservations == Some(true);
    let how = if held { "base plan held" } else { "re-planned" };
    let points = res.info.points;
    let subtitle = vec![
        format!("{points} points, each axis varied alone around the unmodified scenario ({how})"),
        "blue = below, orange = above".into(),
    ];
    let title = format!("What moves the cost of {}", res.info.scenario_name);
    let mut fig = Figure::new(title, subtitle, Vec::new(), vec![cost, served]);
    fig.columns = 2;
    fig
}

/// P(unserved tokens > x) over the samples, as a step curve, with the percentiles marked.
fn exceedance(res: &Results) -> Figure {
    let (s, points) = (risk_summary(res), write::exceedance(res));
    let max = points.last().map_or(0.0, |p| p.0).max(1.0);
    let mut marks = vec![Mark::Line(Stroke::new(UNSERVED, 4.0, false), points)];
    // Percentiles at the same value share one marker ("P95, P99").
    let mut percentiles: Vec<(f64, String)> = Vec::new();
    let u = &s.unserved_tokens;
    for (p, v) in [(50, u.p50), (95, u.p95), (99, u.p99)] {
        match percentiles.last_mut() {
            Some((last, label)) if *last == v => label.push_str(&format!(", P{p}")),
            _ => percentiles.push((v, format!("P{p}"))),
        }
    }
    for (at, text) in percentiles.into_iter().filter(|p| p.0 > 0.0) {
        let stroke = Stroke::new(INK_SOFT, 2.0, true);
        marks.push(Mark::rule(at, stroke, None));
        let spot = |k: i32| (6.0, 14.0 + 30.0 * f64::from(k), Align::Left);
        let spots = (0..8).map(spot).collect();
        let label = Label::at(text, at, 100.0, Font::new(20.0, true, INK_SOFT));
        marks.push(Mark::Label(label.spots(spots)));
    }
    let x = Axis::value(0.0, max, Unit::Tokens).titled("unserved tokens over the horizon");
    let y = Axis::value_inside(0.0, 100.0, Unit::Percent);
    let subtitle = vec![
        "share of samples with more than x unserved tokens".into(),
        format!("P(shortfall) {:.1}%", s.shortfall_probability * 100.0),
        format!("P50 {}", human(u.p50)),
        format!("P95 {}", human(u.p95)),
        format!("P99 {}", human(u.p99)),
    ];
    let title = format!("How much demand goes unserved: {} samples", res.info.points);
    Figure::new(title, subtitle, Vec::new(), vec![Panel::new(x, y, marks)])
}
