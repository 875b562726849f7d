//! Chart stage, sweeps: a tornado of spend and served % over the grid's axes around the unmodified
//! scenario, each bar's ends labelled with the axis values that set them; for a risk sweep a fan
//! of served against demand over time (P5–P95 bands of the samples' served and demand, grouped
//! into days or weeks on long hourly horizons as the run charts are, with the unserved tokens per
//! bin under it) and the exceedance curves of unserved tokens, with outages and from the demand
//! draw alone. Drawn from the sweep's rows only (never the solver), so the same rows give the
//! same bytes.

use super::figure::{largest, Axis, Category, Entry, Figure, Label, Mark, Panel};
use super::figure::{Stroke, Swatch};
use super::layout::{Scale, LABEL, SMALL};
use super::palette::{rgb, Rgba, INK, INK_SOFT, UNSERVED};
use super::run::{KEEP_PERIODS_UP_TO, MAX_BINS};
use super::svg::Align;
use super::text::Font;
use super::ticks::Unit;
use super::{ChartOptions, Charts};
use crate::report::series::Grain;
use crate::sweep::write::{self, grid_summary, risk_summary, Results, RiskSummary, TornadoAxis};
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
        figures.push(("sweep_tornado", tornado(res, opts)));
    }
    super::render(figures, opts)
}

/// Served against demand over time: the band between the samples' P5 and P95 served tokens per
/// minute in each bin, the median served and the samples' demand (P5 and P95 as thin dashed
/// lines, the median thick; the plan's own demand is the median over e^(−σ²/2), 0.5% above it at
/// σ 0.1, so it is not drawn again); under it, the tokens left unserved per bin (mean over the
/// samples, and the P95 band). Long hourly horizons are grouped into days (or weeks) as the run
/// charts group them, each value a mean over the bin.
fn fan(res: &Results) -> Option<Figure> {
    let fan = write::fan(res, KEEP_PERIODS_UP_TO, MAX_BINS)?;
    let spans = &fan.spans;
    let [p5, p50, p95] = &fan.served;
    let [d5, d50, d95] = &fan.demand;
    let band = SERVED.alpha(0.35);
    let median = Stroke::new(SERVED, 3.5, false);
    let demand_line = Stroke::new(INK, 3.0, true);
    let demand_edge = Stroke::new(INK, 1.5, true);
    // The median demand is dashed and drawn over the median served, which shows between its
    // dashes where the two meet (all demand served) and apart from it where they part.
    let marks = vec![
        Mark::band("served, P5–P95", (band, None), spans, p5, p95),
        Mark::steps(demand_edge, spans, d5),
        Mark::steps(demand_edge, spans, d95),
        Mark::steps(median, spans, p50),
        Mark::steps(demand_line, spans, d50),
    ];
    let top = largest([p95, d95].into_iter().flatten().copied());
    let x = || Axis::time(spans[0].0, spans[spans.len() - 1].1);
    let grouped = fan.grain != Grain::Period;
    let per = grouped.then(|| format!("{} mean, ", fan.grain.adjective()));
    let y = Axis::value(0.0, top, Unit::TokensPerMinute);
    let per = per.unwrap_or_default();
    let y = y.titled(format!("served and demand ({per}tokens per minute)"));
    let mut panels = vec![Panel::new(x(), y, marks)];
    let mut legend = vec![
        Entry::new("served, P5–P95", Swatch::Fill(band)),
        Entry::new("served, median", Swatch::Line(median)),
        Entry::new("demand, median", Swatch::Line(demand_line)),
        Entry::new("demand, P5 and P95", Swatch::Line(demand_edge)),
    ];
    // Tokens left unserved per bin, when any sample leaves some.
    let [mean, u95] = &fan.unserved;
    let has_unserved = u95.iter().chain(mean).any(|v| *v > 0.0);
    if has_unserved {
        let fill = UNSERVED.alpha(0.22);
        let line = Stroke::new(UNSERVED, 3.0, false);
        let zero = vec![0.0; spans.len()];
        let marks = vec![
            Mark::band("unserved, P95", (fill, None), spans, &zero, u95),
            Mark::steps(line, spans, mean),
        ];
        let top = largest(u95.iter().chain(mean).copied());
        let what = match fan.unserved_adds_up {
            true => "unserved tokens",
            false => "tokens not served in the period they arrive,",
        };
        let title = format!("{what} per {}", fan.bucket);
        let y = Axis::value(0.0, top, Unit::Tokens).titled(title);
        panels.push(Panel::new(x(), y, marks));
        legend.push(Entry::new("unserved, mean", Swatch::Line(line)));
        legend.push(Entry::new("unserved, up to P95", Swatch::Fill(fill)));
    }
    // What one period does to an outage of a few hours, by the grid's longest period.
    let grain = match fan.longest_period_hours {
        h if h >= 24.0 * 28.0 => "monthly periods average an outage over the month".to_string(),
        h if h >= 24.0 => "daily periods average an outage over the day".to_string(),
        _ if grouped => format!(
            "hourly periods drawn as {} means; unserved summed per {}",
            fan.grain.adjective(),
            fan.bucket
        ),
        _ => "hourly periods show each outage hour by hour".to_string(),
    };
    let info = &res.info;
    let held = format!("{} held to its plan, emergency rules", info.scenario_name);
    let subtitle = vec![held, shortfall(&risk_summary(res)), grain];
    let title = format!("Served vs demand over {} risk samples", info.points);
    let mut fig = Figure::new(title, subtitle, legend, panels);
    // The unserved tokens, when drawn, under the served at half their height.
    fig.row_heights = vec![2.0, 1.0];
    Some(fig)
}

/// "P(shortfall) 4.1%, 1.9% from the demand draw alone".
fn shortfall(r: &RiskSummary) -> String {
    let (p, alone) = (r.shortfall_probability, r.shortfall_probability_demand_only);
    format!(
        "P(shortfall) {:.1}%, {:.1}% from the demand draw alone",
        p * 100.0,
        alone * 100.0
    )
}

/// One tornado row: the axis, and its low and high ends, each with the axis value that sets it.
type TornadoRow = (String, (f64, String), (f64, String));

/// One tornado panel of dollars or percentages: a bar per axis from its lowest to its highest
/// value, split at the centre, each end labelled beside it with its value and the axis value that
/// sets it ("$33.9B at 0.8"); the axis leaves room for the labels, and one that cannot fit beside
/// its bar goes under it, from the centre line outwards.
fn tornado_panel(title: &str, centre: f64, rows: &[TornadoRow], unit: Unit) -> Panel {
    let percent = unit == Unit::Percent;
    let fmt: fn(f64) -> String = if percent { write::pct } else { human_dollars };
    // As the table writes them: every end labelled moves off the centre.
    let end = |v: f64, value: &str| write::tornado_end(v, centre, value, fmt);
    // A floor on the axis span, so 0.07 percentage points never fill the panel and read as a
    // collapse of service.
    let min_span = if percent { 5.0 } else { 0.0 };
    let mut lo = rows.iter().map(|r| r.1 .0).fold(centre, f64::min);
    let hi = rows.iter().map(|r| r.2 .0).fold(centre, f64::max);
    if hi - lo < min_span {
        lo = (hi - min_span).max(0.0);
    }
    let on_right = centre > (lo + hi) / 2.0;
    let (mut marks, mut labels) = (Vec::new(), Vec::new());
    for (i, (_, (low, low_at), (high, high_at))) in rows.iter().enumerate() {
        // The bar leaves room for a label under it.
        let (y, mid) = ((i as f64 + 0.28, i as f64 + 0.72), i as f64 + 0.5);
        // Beside the bar's end, outside it.
        let mut label = |text: String, x: f64, outwards: f64, colour| {
            let side = if outwards > 0.0 {
                Align::Left
            } else {
                Align::Right
            };
            let mut l = Label::at(text, x, mid, Font::new(SMALL, false, colour));
            l.fallback = Some((centre, i as f64 + 0.92));
            labels.push(Mark::Label(l.spots(vec![(outwards, 0.0, side)])));
        };
        if *low < centre {
            marks.push(Mark::rect((*low, centre), y, LOW));
            label(end(*low, low_at), *low, -8.0, INK);
        }
        if *high > centre {
            marks.push(Mark::rect((centre, *high), y, HIGH));
            label(end(*high, high_at), *high, 8.0, INK);
        }
        if (high - low).abs() <= 1e-12 * centre.abs().max(1.0) {
            // Beside the centre line, on the side with more room.
            let outwards = if on_right { -10.0 } else { 10.0 };
            label("no change".into(), centre, outwards, INK_SOFT);
        }
    }
    let label = Some(format!("unmodified {}", fmt(centre)));
    let stroke = Stroke::new(INK, 3.0, false);
    marks.push(Mark::rule(centre, stroke, label));
    marks.extend(labels);
    let y = Axis::category(Category::slots(rows.iter().map(|r| (r.0.clone(), false))));
    // A sliver either side, so bars do not touch the frame.
    let sliver = ((hi - lo) * 0.02).max(centre.abs() * 1e-6).max(1e-9);
    let x = Axis::value_labelled(lo - sliver, hi + sliver, unit);
    Panel::new(x, y, marks).titled(title)
}

fn tornado(res: &Results, opts: &ChartOptions) -> Figure {
    let c = Scale::new(opts.width, opts.height);
    let g = grid_summary(res);
    // Widest swing first.
    let mut axes: Vec<&TornadoAxis> = g.tornado.iter().collect();
    axes.sort_by(|a, b| (b.cost_high - b.cost_low).total_cmp(&(a.cost_high - a.cost_low)));
    let row = |a: &&TornadoAxis, [low, high]: [(f64, &String); 2]| -> TornadoRow {
        (
            a.axis.clone(),
            (low.0, low.1.clone()),
            (high.0, high.1.clone()),
        )
    };
    let cost = |a: &&TornadoAxis| {
        let low = (a.cost_low, &a.cost_low_value);
        row(a, [low, (a.cost_high, &a.cost_high_value)])
    };
    let served = |a: &&TornadoAxis| {
        let low = (a.served_pct_low, &a.served_pct_low_value);
        row(a, [low, (a.served_pct_high, &a.served_pct_high_value)])
    };
    let cost: Vec<TornadoRow> = axes.iter().map(cost).collect();
    let served: Vec<TornadoRow> = axes.iter().map(served).collect();
    // Side by side when the axis names fit beside two frames (at most 40% of a panel, as the
    // layout allows); else one above the other, each the full width.
    let names = c.font(LABEL, false, INK);
    let widest = largest(axes.iter().map(|a| names.width(&a.axis)));
    let room = c.w - c.px(2.0 * 40.0);
    let columns = 1 + usize::from(widest <= (room - c.px(60.0)) / 2.0 * 0.4);
    let (title, base) = ("Spend (commit + usage + route)", &res.base);
    let cost = tornado_panel(title, base.cost, &cost, Unit::Dollars);
    let (title, centre) = ("Demand served", base.served_pct);
    let served = tornado_panel(title, centre, &served, Unit::Percent);
    let held = res.info.hold_reservations == Some(true);
    let how = if held { "base plan held" } else { "re-planned" };
    let points = res.info.points;
    let subtitle = vec![
        format!("{points} points, each axis varied alone around the unmodified scenario ({how})"),
        "blue = below it, orange = above it".into(),
        "each end labelled with the axis value that sets it".into(),
    ];
    let title = format!("What moves the spend of {}", res.info.scenario_name);
    let mut fig = Figure::new(title, subtitle, Vec::new(), vec![cost, served]);
    fig.columns = columns;
    fig
}

/// P(unserved tokens > x) over the samples, as a step curve, with the percentiles marked.
fn exceedance(res: &Results) -> Figure {
    let (s, points) = (risk_summary(res), write::exceedance(res));
    let alone = write::exceedance_demand_only(res);
    let last = |p: &[(f64, f64)]| p.last().map_or(0.0, |p| p.0);
    let max = last(&points).max(last(&alone)).max(1.0);
    let total_line = Stroke::new(UNSERVED, 4.0, false);
    let alone_line = Stroke::new(INK, 3.0, true);
    // The demand draw alone first, so the total (with outages) is drawn over it where they meet.
    let mut marks = vec![
        Mark::Line(alone_line, alone),
        Mark::Line(total_line, points),
    ];
    let legend = vec![
        Entry::new("demand draw and outages", Swatch::Line(total_line)),
        Entry::new("demand draw alone (no outages)", Swatch::Line(alone_line)),
    ];
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
        shortfall(&s),
        format!("P50 {}", human(u.p50)),
        format!("P95 {}", human(u.p95)),
        format!("P99 {}", human(u.p99)),
    ];
    let title = format!("How much demand goes unserved: {} samples", res.info.points);
    let mut fig = Figure::new(title, subtitle, legend, vec![Panel::new(x, y, marks)]);
    fig.notes = vec![write::cause_short(&s)];
    fig
}
