//! Chart stage, sweeps: a tornado of cost and served % over the grid's axes around the unmodified
//! scenario; for a risk sweep a fan of served against demand over time (P5–P95 band of the
//! samples' per-period totals) and the exceedance curve of unserved tokens. Drawn from the sweep's
//! rows only (never the solver), with the bundled font, so the same rows give the same bytes.

use plotters::prelude::{BitMapBackend, DrawingBackend, IntoDrawingArea, SVGBackend};

use super::canvas::{Align, Canvas, Weight};
use super::figure::{Figure, Layer, LegendEntry, Metrics, Panel, Swatch};
use super::palette::{self, Rgba};
use super::ticks::{self, Unit};
use super::{ChartOptions, Drawing, RenderedChart};
use crate::error::Result;
use crate::sweep::risk::{nearest_rank, sorted};
use crate::sweep::write::{grid_summary, risk_summary, Results};
use crate::units::{human, human_dollars};

/// The stems of the sweep charts (each written as `.png` and `.svg`).
pub const SWEEP_CHART_STEMS: [&str; 3] = ["sweep_fan", "sweep_tornado", "sweep_unserved"];

const LOW: Rgba = palette::rgb(0x0072B2);
const HIGH: Rgba = palette::rgb(0xE69F00);
const SERVED: Rgba = palette::rgb(0x009E73);

/// Draws every chart of a sweep, in memory, sorted by file name.
pub fn render_all(res: &Results, opts: &ChartOptions) -> Result<Vec<RenderedChart>> {
    super::check_size(opts)?;
    let mut out = Vec::new();
    if res.info.is_risk() {
        if let Some(fig) = fan(res) {
            out.extend(super::render(
                vec![("sweep_fan", Drawing::Time(fig))],
                opts,
            )?);
        }
        out.extend(custom("sweep_unserved", &Custom::Exceedance(res), opts)?);
    } else {
        out.extend(custom("sweep_tornado", &Custom::Tornado(res), opts)?);
    }
    out.sort_by(|a, b| a.file_name.cmp(&b.file_name));
    Ok(out)
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
    let line = |label: &str, colour: Rgba, width: f64, dashed: bool| LegendEntry {
        label: label.into(),
        swatch: Swatch::Line {
            colour,
            width,
            dashed,
        },
        droppable: false,
    };
    Some(Figure {
        title: format!("Served vs demand over {} risk samples", info.points),
        subtitle: format!(
            "{} held to its plan, emergency rules; P(shortfall) {:.1}%; {grain}",
            info.scenario_name,
            s.shortfall_probability * 100.0
        ),
        legend: vec![
            LegendEntry {
                label: "served, P5–P95".into(),
                swatch: Swatch::Fill(SERVED.alpha(0.35)),
                droppable: false,
            },
            line("served, median", SERVED, 3.5, false),
            line("demand, median", palette::INK, 3.0, true),
            line("demand, as planned", palette::INK_SOFT, 2.0, false),
        ],
        bins,
        unit: Unit::TokensPerMinute,
        panels: vec![Panel {
            title: None,
            layers: vec![
                Layer::Band {
                    fill: SERVED.alpha(0.35),
                    hatch: None,
                    lower: served(5),
                    upper: served(95),
                },
                Layer::Line {
                    colour: SERVED,
                    width: 3.5,
                    dashed: false,
                    values: served(50),
                },
                Layer::Line {
                    colour: palette::INK_SOFT,
                    width: 2.0,
                    dashed: false,
                    values: base_demand,
                },
                Layer::Line {
                    colour: palette::INK,
                    width: 3.0,
                    dashed: true,
                    values: demand(50),
                },
            ],
        }],
    })
}

/// Charts drawn here from the canvas primitives (not time charts).
enum Custom<'a> {
    Tornado(&'a Results),
    Exceedance(&'a Results),
}

fn custom(stem: &str, c: &Custom, opts: &ChartOptions) -> Result<Vec<RenderedChart>> {
    super::register_fonts()?;
    let fonts = super::text::fonts(super::DEJAVU_SANS, super::DEJAVU_SANS_BOLD)?;
    let (w, h) = (opts.width, opts.height);
    let mut rgb = vec![0u8; w as usize * h as usize * 3];
    let deferred = {
        let area = BitMapBackend::with_buffer(&mut rgb, (w, h)).into_drawing_area();
        let canvas = Canvas::new(area, fonts, false);
        c.draw(&canvas, w, h)?;
        canvas.finish()?
    };
    for op in &deferred {
        fonts.rasterise(&mut rgb, w, h, op);
    }
    let png = super::encode_png(&rgb, w, h)?;
    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, (w, h)).into_drawing_area();
        let canvas = Canvas::new(area, fonts, true);
        c.draw(&canvas, w, h)?;
        canvas.finish()?;
    }
    Ok(vec![
        RenderedChart {
            file_name: format!("{stem}.png"),
            bytes: png,
        },
        RenderedChart {
            file_name: format!("{stem}.svg"),
            bytes: svg.into_bytes(),
        },
    ])
}

impl Custom<'_> {
    fn draw<DB: DrawingBackend>(&self, c: &Canvas<DB>, w: u32, h: u32) -> Result<()> {
        c.clear(palette::WHITE)?;
        let m = Metrics::new(w, h);
        match self {
            Custom::Tornado(res) => tornado(c, &m, w, h, res),
            Custom::Exceedance(res) => exceedance(c, &m, w, h, res),
        }
    }
}

fn titles<DB: DrawingBackend>(
    c: &Canvas<DB>,
    m: &Metrics,
    w: u32,
    title: &str,
    subtitle: &str,
) -> Result<f64> {
    let x = m.margin();
    let max = f64::from(w) - 2.0 * m.margin();
    let t = c.fit_text(title, m.px(44.0), Weight::Bold, max);
    c.text(
        &t,
        x,
        m.px(60.0),
        m.px(44.0),
        Weight::Bold,
        palette::INK,
        Align::Left,
    )?;
    let s = c.fit_text(subtitle, m.px(26.0), Weight::Normal, max);
    c.text(
        &s,
        x,
        m.px(110.0),
        m.px(26.0),
        Weight::Normal,
        palette::INK_SOFT,
        Align::Left,
    )?;
    Ok(m.px(160.0))
}

/// Nice ticks between lo and hi: (values, step).
fn nice_ticks(lo: f64, hi: f64, max_ticks: usize) -> Vec<f64> {
    let span = (hi - lo).abs().max(1e-12);
    let raw = span / max_ticks as f64;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .iter()
        .map(|f| f * mag)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * mag);
    let first = (lo / step).ceil() * step;
    let mut v = Vec::new();
    let mut x = first;
    while x <= hi + step * 1e-9 && v.len() < 50 {
        v.push(if x.abs() < step * 1e-9 { 0.0 } else { x });
        x += step;
    }
    v
}

/// One tornado panel: a bar per axis from its lowest to its highest value, split at the centre.
#[allow(clippy::too_many_arguments)]
fn tornado_panel<DB: DrawingBackend>(
    c: &Canvas<DB>,
    m: &Metrics,
    (x0, x1, y0, y1): (f64, f64, f64, f64),
    title: &str,
    centre: f64,
    rows: &[(String, f64, f64)],
    fmt: &dyn Fn(f64) -> String,
    min_span: Option<f64>,
) -> Result<()> {
    let size = m.tick_size();
    c.text(
        title,
        x0,
        y0,
        m.px(30.0),
        Weight::Bold,
        palette::INK,
        Align::Left,
    )?;
    let label_w = rows
        .iter()
        .map(|r| c.text_width(&r.0, size, Weight::Normal))
        .fold(0.0, f64::max)
        .min((x1 - x0) * 0.35);
    let px0 = x0 + label_w + m.px(20.0);
    let px1 = x1 - m.px(20.0);
    let top = y0 + m.px(50.0);
    let bottom = y1 - m.px(50.0);
    let mut lo = rows.iter().map(|r| r.1).fold(centre, f64::min);
    let hi = rows.iter().map(|r| r.2).fold(centre, f64::max);
    // A floor on the axis span, so 0.07 percentage points never fill the panel and read as a
    // collapse of service.
    if let Some(span) = min_span {
        if hi - lo < span {
            lo = (hi - span).max(0.0);
        }
    }
    // Room at both ends for the value labels.
    let pad = ((hi - lo) * 0.18).max(centre.abs() * 1e-6).max(1e-9);
    let (lo, hi) = (lo - pad, hi + pad);
    let x_of = |v: f64| px0 + (v - lo) / (hi - lo) * (px1 - px0);
    for t in nice_ticks(lo, hi, 5) {
        let x = x_of(t);
        c.line(x, top, x, bottom, palette::GRID, m.px(1.5))?;
        c.text(
            &fmt(t),
            x,
            bottom + m.px(25.0),
            size,
            Weight::Normal,
            palette::INK_SOFT,
            Align::Centre,
        )?;
    }
    let n = rows.len().max(1) as f64;
    let row_h = (bottom - top) / n;
    for (i, (name, low, high)) in rows.iter().enumerate() {
        let yc = top + row_h * (i as f64 + 0.5);
        let half = (row_h * 0.3).min(m.px(40.0));
        let label = c.fit_text(name, size, Weight::Normal, label_w);
        c.text(
            &label,
            px0 - m.px(12.0),
            yc,
            size,
            Weight::Normal,
            palette::INK,
            Align::Right,
        )?;
        let xc = x_of(centre);
        if *low < centre {
            c.rect(x_of(*low), yc - half, xc, yc + half, LOW)?;
        }
        if *high > centre {
            c.rect(xc, yc - half, x_of(*high), yc + half, HIGH)?;
        }
        let right_half = xc > (px0 + px1) / 2.0;
        if (high - low).abs() <= 1e-12 * centre.abs().max(1.0) {
            let (x, align) = if right_half {
                (xc - m.px(10.0), Align::Right)
            } else {
                (xc + m.px(10.0), Align::Left)
            };
            c.text(
                "no change",
                x,
                yc,
                size,
                Weight::Normal,
                palette::INK_SOFT,
                align,
            )?;
        } else {
            let small = m.px(22.0);
            if *low < centre {
                c.text(
                    &fmt(*low),
                    x_of(*low) - m.px(8.0),
                    yc,
                    small,
                    Weight::Normal,
                    palette::INK,
                    Align::Right,
                )?;
            }
            if *high > centre {
                c.text(
                    &fmt(*high),
                    x_of(*high) + m.px(8.0),
                    yc,
                    small,
                    Weight::Normal,
                    palette::INK,
                    Align::Left,
                )?;
            }
        }
    }
    let xc = x_of(centre);
    c.line(xc, top - m.px(10.0), xc, bottom, palette::INK, m.px(3.0))?;
    let label = format!("unmodified {}", fmt(centre));
    let half_w = c.text_width(&label, size, Weight::Normal) / 2.0;
    let lx = xc.clamp(px0 + half_w, x1 - half_w);
    c.text(
        &label,
        lx,
        top - m.px(22.0),
        size,
        Weight::Normal,
        palette::INK,
        Align::Centre,
    )?;
    c.line(px0, bottom, px1, bottom, palette::AXIS, m.px(1.5))?;
    Ok(())
}

fn tornado<DB: DrawingBackend>(
    c: &Canvas<DB>,
    m: &Metrics,
    w: u32,
    h: u32,
    res: &Results,
) -> Result<()> {
    let g = grid_summary(res);
    let held = res.info.hold_reservations == Some(true);
    let top = titles(
        c,
        m,
        w,
        &format!("What moves the cost of {}", res.info.scenario_name),
        &format!(
            "{} points, each axis varied alone around the unmodified scenario ({}); blue = below, orange = above",
            res.info.points,
            if held { "base plan held" } else { "re-planned" }
        ),
    )?;
    // Widest swing first.
    let mut axes: Vec<&crate::sweep::write::TornadoAxis> = g.tornado.iter().collect();
    axes.sort_by(|a, b| (b.cost_high - b.cost_low).total_cmp(&(a.cost_high - a.cost_low)));
    let name = |a: &crate::sweep::write::TornadoAxis| {
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
        .map(|a| (name(a), a.served_pct_low, a.served_pct_high))
        .collect();
    let (wf, hf) = (f64::from(w), f64::from(h));
    let split = m.margin() + (wf - 2.0 * m.margin()) * 0.6;
    tornado_panel(
        c,
        m,
        (m.margin(), split - m.px(30.0), top, hf - m.margin()),
        "Cost (commit + usage + route)",
        res.base.cost,
        &cost_rows,
        &|v| human_dollars(v),
        None,
    )?;
    let short: Vec<(String, f64, f64)> = served_rows
        .iter()
        .map(|(n, a, b)| (n.split(' ').next().unwrap_or("").to_string(), *a, *b))
        .collect();
    tornado_panel(
        c,
        m,
        (split + m.px(30.0), wf - m.margin(), top, hf - m.margin()),
        "Demand served",
        res.base.served_pct,
        &short,
        &|v| format!("{v:.2}%"),
        Some(5.0),
    )?;
    Ok(())
}

/// P(unserved tokens > x) over the samples, as a step curve.
fn exceedance<DB: DrawingBackend>(
    c: &Canvas<DB>,
    m: &Metrics,
    w: u32,
    h: u32,
    res: &Results,
) -> Result<()> {
    let s = risk_summary(res);
    let top = titles(
        c,
        m,
        w,
        &format!("How much demand goes unserved: {} samples", res.info.points),
        &format!(
            "share of samples with more than x unserved tokens · P(shortfall) {:.1}% · P50 {} · P95 {} · P99 {}",
            s.shortfall_probability * 100.0,
            human(s.unserved_tokens.p50),
            human(s.unserved_tokens.p95),
            human(s.unserved_tokens.p99)
        ),
    )?;
    let (wf, hf) = (f64::from(w), f64::from(h));
    let size = m.tick_size();
    let x0 = m.margin() + m.px(110.0);
    let x1 = wf - m.margin() - m.px(20.0);
    let y0 = top + m.px(20.0);
    let y1 = hf - m.margin() - m.px(50.0);
    let values = sorted(res.records.iter().map(|r| r.unserved_tokens));
    let max = values.last().copied().unwrap_or(0.0);
    let ticks_x = ticks::value_ticks(max.max(1.0), 6, Unit::TokensPerMinute);
    let xmax = ticks_x.top;
    let x_of = |v: f64| x0 + v / xmax * (x1 - x0);
    let y_of = |p: f64| y1 - p / 100.0 * (y1 - y0);
    for p in [0.0, 20.0, 40.0, 60.0, 80.0, 100.0] {
        c.line(x0, y_of(p), x1, y_of(p), palette::GRID, m.px(1.5))?;
        c.text(
            &format!("{p:.0}%"),
            x0 - m.px(12.0),
            y_of(p),
            size,
            Weight::Normal,
            palette::INK_SOFT,
            Align::Right,
        )?;
    }
    for (v, _) in &ticks_x.labels {
        // A label centred on the last tick would run past the plot's right edge ("5.0
        // quadrillion"): end it at the tick instead.
        let text = human(*v);
        let half = c.text_width(&text, size, Weight::Normal) / 2.0;
        let align = if x_of(*v) + half > x1 {
            Align::Right
        } else {
            Align::Centre
        };
        c.text(
            &text,
            x_of(*v),
            y1 + m.px(28.0),
            size,
            Weight::Normal,
            palette::INK_SOFT,
            align,
        )?;
    }
    c.text(
        "unserved tokens over the horizon",
        x1,
        y1 + m.px(62.0),
        size,
        Weight::Normal,
        palette::INK_SOFT,
        Align::Right,
    )?;
    let n = values.len().max(1) as f64;
    // Share above x: starts at P(unserved > 0) at x = 0, drops by 1/n at each sample's value.
    let mut pts = Vec::new();
    let positive: Vec<f64> = values.iter().copied().filter(|v| *v > 0.0).collect();
    let mut above = positive.len() as f64 / n * 100.0;
    pts.push((x_of(0.0), y_of(above)));
    for v in &positive {
        pts.push((x_of(*v), y_of(above)));
        above -= 100.0 / n;
        pts.push((x_of(*v), y_of(above.max(0.0))));
    }
    pts.push((x1, y_of(above.max(0.0))));
    c.polyline(&pts, palette::UNSERVED, m.px(4.0))?;
    c.line(x0, y1, x1, y1, palette::AXIS, m.px(1.5))?;
    // Percentiles at the same value share one marker ("P95, P99").
    let mut marks: Vec<(f64, String)> = Vec::new();
    for (p, v) in [
        (50, s.unserved_tokens.p50),
        (95, s.unserved_tokens.p95),
        (99, s.unserved_tokens.p99),
    ] {
        match marks.last_mut() {
            Some((last, label)) if *last == v => label.push_str(&format!(", P{p}")),
            _ => marks.push((v, format!("P{p}"))),
        }
    }
    for (i, (v, label)) in marks.iter().enumerate() {
        if *v > 0.0 {
            let x = x_of(*v);
            c.dashed(
                &[(x, y0), (x, y1)],
                palette::INK_SOFT,
                m.px(2.0),
                m.px(10.0),
                m.px(8.0),
            )?;
            let y = y0 + m.px(14.0) + m.px(30.0) * i as f64;
            c.text(
                label,
                x + m.px(6.0),
                y,
                size,
                Weight::Bold,
                palette::INK_SOFT,
                Align::Left,
            )?;
        }
    }
    Ok(())
}
