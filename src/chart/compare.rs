//! Chart stage, comparisons: every run of `capplan compare` side by side, against the first (the
//! baseline).
//!
//! - `compare_capacity`: demand (solid) and reserved capacity (dashed, the sum over providers) of
//!   every scenario on one time axis, one colour per scenario (the baseline in ink). Each scenario
//!   is drawn on its own periods; long horizons are grouped into days, weeks or months as in the
//!   run charts (one grain for all, the coarsest any scenario needs). Where lines coincide on
//!   screen they are drawn in turns, so a scenario that matches the baseline stays visible.
//! - `compare_cost_by_provider`: total cost (commit + usage + route over the horizon) per scenario,
//!   one bar each, stacked by provider in the provider colours of the run charts. The stack order
//!   depends on the provider name only (well-known providers in palette order, then the rest by
//!   name), so it is the same in every comparison whatever providers it has.
//! - `compare_cost_delta`: each later scenario's change against the baseline by component
//!   (commit, usage, route, and penalties = objective − cost) as diverging bars, with the net
//!   change of the objective as a dot and written above the group. A change far larger than the
//!   rest is cut at the edge of the plot and its value written above its group. With a single
//!   scenario there is nothing to compare against: the chart is still drawn and says so (so the
//!   set of files does not depend on the number of scenarios).

use super::figure::Swatch;
use super::figure::{Axis, Category, Dot, Entry, Figure, Label, Mark, Panel, StepLine, Stroke};
use super::layout::{Scale, TICK};
use super::palette::{self, provider_colour, provider_order, scenario_colour, Rgba};
use super::run::{DEMAND, KEEP_PERIODS_UP_TO, MAX_BINS};
use super::svg::Align;
use super::ticks::{self, signed_dollars, Unit};
use super::{ChartOptions, RenderedChart};
use crate::compare::{Column, Comparison};
use crate::error::Result;
use crate::report::series::{Binned, Grain, Series};

/// The stems of the compare charts (each written as `.png` and `.svg`).
pub const COMPARE_CHART_STEMS: [&str; 3] = [
    "compare_capacity",
    "compare_cost_by_provider",
    "compare_cost_delta",
];

const RESERVED_WIDTH: f64 = 3.5;
/// The line-style key of the capacity chart: a neutral grey that is no scenario's colour.
const KEY_COLOUR: Rgba = palette::AXIS;

/// Draws every compare chart, in memory.
pub fn render_all(
    comparison: &Comparison,
    columns: &[Column],
    opts: &ChartOptions,
) -> Result<Vec<RenderedChart>> {
    let series = columns
        .iter()
        .map(|c| Series::from_tables(&c.tables, provider_order));
    let series = series.collect::<Result<Vec<Series>>>()?;
    let figures = vec![
        (COMPARE_CHART_STEMS[0], capacity(comparison, &series)),
        (COMPARE_CHART_STEMS[1], cost_by_provider(comparison, opts)),
        (COMPARE_CHART_STEMS[2], cost_delta(comparison, opts)),
    ];
    super::render(figures, opts)
}

/// "baseline frontier-2026", and the held plan when there is one.
fn baseline_note(comparison: &Comparison, lead: &str, after: &str) -> String {
    let baseline = &comparison.baseline;
    let held = comparison.hold_reservations && comparison.scenarios.len() > 1;
    let held = if held {
        format!(" · held to {baseline}'s reservations")
    } else {
        String::new()
    };
    format!("{lead} {baseline}{after}{held}")
}

fn capacity(comparison: &Comparison, series: &[Series]) -> Figure {
    // One grain for every scenario: grouping never splits a period, so coarse grids stay as they are.
    let grain = |s: &Series| Grain::choose(&s.periods, KEEP_PERIODS_UP_TO, MAX_BINS);
    let grain = series.iter().map(grain).max().unwrap_or(Grain::Period);
    let reserved = Stroke::new(KEY_COLOUR, RESERVED_WIDTH, true);
    let mut legend = vec![
        Entry::new(
            "demand",
            Swatch::Line(Stroke {
                colour: KEY_COLOUR,
                ..DEMAND
            }),
        ),
        Entry::new("reserved capacity", Swatch::Line(reserved)),
    ];
    let mut lines = Vec::new();
    for (i, s) in series.iter().enumerate() {
        let b = Binned::new(&s.periods, grain);
        let colour = scenario_colour(i);
        let line = |width, dashed, values| StepLine {
            stroke: Stroke::new(colour, width, dashed),
            bins: b.spans.clone(),
            values,
        };
        lines.push(line(DEMAND.width, false, b.mean(&s.demand_tpm)));
        lines.push(line(RESERVED_WIDTH, true, b.mean(&s.reserved_total_tpm())));
        let name = &comparison.scenarios[i];
        let label = if i == 0 {
            format!("{name} (baseline)")
        } else {
            name.clone()
        };
        legend.push(Entry::new(label, Swatch::Fill(colour)));
    }
    let mut notes = vec![baseline_note(comparison, "baseline", "")];
    if grain != Grain::Period {
        notes.push(format!("{} means", grain.adjective()));
    }
    if lines_meet(&lines) {
        notes.push("lines that meet take turns".into());
    }
    let bins = lines.iter().flat_map(|l| &l.bins);
    let start = bins.clone().map(|b| b.0).fold(f64::INFINITY, f64::min);
    let end = bins.map(|b| b.1).fold(f64::NEG_INFINITY, f64::max);
    let top = lines
        .iter()
        .flat_map(|l| l.values.iter().copied())
        .fold(0.0, f64::max);
    let x = Axis::time(start.min(end), end.max(start));
    let y = Axis::value(0.0, top, Unit::TokensPerMinute);
    let panel = Panel::new(x, y, vec![Mark::Steps(lines)]);
    let title = "Demand and reserved capacity by scenario".into();
    Figure::new(title, notes, legend, vec![panel])
}

/// Whether two lines run at (nearly) the same level over a common bin, so the drawing interleaves
/// them; the subtitle then says so.
fn lines_meet(lines: &[StepLine]) -> bool {
    let top = lines
        .iter()
        .flat_map(|l| l.values.iter().copied())
        .fold(0.0, f64::max);
    let tolerance = top * 0.004;
    for (i, a) in lines.iter().enumerate() {
        for b in &lines[i + 1..] {
            let mut k = 0;
            for (bin, va) in a.bins.iter().zip(&a.values) {
                while k < b.bins.len() && b.bins[k].0 < bin.0 {
                    k += 1;
                }
                if k < b.bins.len() && b.bins[k] == *bin && (va - b.values[k]).abs() <= tolerance {
                    return true;
                }
            }
        }
    }
    false
}

/// A metric of the comparison: its value, or its change against the baseline (`delta`).
fn metric(
    comparison: &Comparison,
    scenario: &str,
    metric: &str,
    provider: &str,
    delta: bool,
) -> f64 {
    let row = comparison.get(scenario, metric, provider);
    row.map_or(0.0, |r| if delta { r.delta_vs_baseline } else { r.value })
}

/// A group of bars in a category slot: each bar's segments stacked from zero (positive up,
/// negative down), values beyond `cut` clipped there with a break. The group's width in the slot
/// keeps each bar at most 110 px (at 1080p) on an image `opts` wide.
fn group(
    slot: usize,
    n: usize,
    bars: &[Vec<(Rgba, f64)>],
    cut: f64,
    opts: &ChartOptions,
) -> Vec<Mark> {
    let c = Scale::new(opts.width, opts.height);
    let slot_px = c.w * 0.75 / n.max(1) as f64;
    let k = bars.len().max(1) as f64;
    let (share, most) = if k > 1.0 {
        (0.84, 110.0)
    } else {
        (0.62, 240.0)
    };
    let width = f64::min(share, c.px(most) * k / slot_px);
    let pitch = width / k;
    let bar_w = pitch * if k > 1.0 { 0.86 } else { 1.0 };
    let mut marks = Vec::new();
    for (b, segments) in bars.iter().enumerate() {
        let x0 = slot as f64 + 0.5 - width / 2.0 + pitch * b as f64 + (pitch - bar_w) / 2.0;
        let (mut up, mut down) = (0.0f64, 0.0f64);
        for (fill, v) in segments {
            let end = if *v >= 0.0 { &mut up } else { &mut down };
            let from = *end;
            *end += v;
            let (from, to) = (from.clamp(-cut, cut), end.clamp(-cut, cut));
            let end_cut = end.abs() > cut && *v != 0.0;
            if from != to {
                let cut = end_cut.then_some(*v > 0.0);
                marks.push(Mark::Rect {
                    x: (x0, x0 + bar_w),
                    y: (from, to),
                    fill: *fill,
                    cut,
                });
            }
        }
    }
    marks
}

/// A value more than this many times the next one is cut at the edge of the plot.
const OUTLIER_RATIO: f64 = 4.0;

/// Where the value axis is cut: beyond the first big gap among the largest magnitudes (at most a
/// third of them), so one value far beyond the rest cannot squash them; infinity when none is.
fn cut_at(extents: &[f64]) -> f64 {
    let mut magnitudes: Vec<f64> = extents
        .iter()
        .map(|v| v.abs())
        .filter(|v| *v >= 0.5 && v.is_finite())
        .collect();
    magnitudes.sort_by(|a, b| b.total_cmp(a));
    let allowed = (magnitudes.len() / 3).max(1);
    (1..magnitudes.len().min(allowed + 1))
        .find(|i| magnitudes[i - 1] > OUTLIER_RATIO * magnitudes[*i])
        .map_or(f64::INFINITY, |i| magnitudes[i] * 1.25)
}

/// The value axis of a bar chart over `extents` (bar ends and dots), cut at `cut`; under half a
/// dollar is solver noise, so an axis of nothing but noise spans ±$1.
fn bar_axis(extents: &[f64], cut: f64, headroom: f64, title: String) -> Axis {
    let clean = |v: &f64| {
        if v.is_finite() && v.abs() >= 0.5 {
            v.clamp(-cut, cut)
        } else {
            0.0
        }
    };
    let hi = extents.iter().map(clean).fold(0.0, f64::max);
    let lo = extents.iter().map(clean).fold(0.0, f64::min);
    let (lo, hi) = if lo == 0.0 && hi == 0.0 {
        (-1.0, 1.0)
    } else {
        (lo, hi * headroom)
    };
    Axis::value(lo, hi, Unit::Dollars).titled(title)
}

fn cost_by_provider(comparison: &Comparison, opts: &ChartOptions) -> Figure {
    let mut providers: Vec<&String> = comparison.providers.iter().collect();
    providers.sort_by_key(|p| provider_order(p));
    let n = comparison.scenarios.len();
    let mut shown: Vec<&String> = Vec::new();
    let (mut marks, mut labels, mut extents) = (Vec::new(), Vec::new(), Vec::new());
    for (i, scenario) in comparison.scenarios.iter().enumerate() {
        let cost = |p: &str| metric(comparison, scenario, "cost", p, false);
        let drawn: Vec<&String> = providers
            .iter()
            .copied()
            .filter(|p| cost(p) > 0.0)
            .collect();
        let segments: Vec<(Rgba, f64)> = drawn
            .iter()
            .map(|p| (provider_colour(p), cost(p)))
            .collect();
        shown.extend(
            drawn
                .into_iter()
                .filter(|p| !shown.contains(p))
                .collect::<Vec<_>>(),
        );
        let total: f64 = segments.iter().map(|s| s.1).sum();
        extents.push(total);
        marks.extend(group(i, n, &[segments], f64::INFINITY, opts));
        let text = ticks::dollars(cost(""));
        let mut l = Label::at(text, i as f64 + 0.5, total, TICK * 0.95, palette::INK);
        l.spots = vec![(0.0, -18.0, Align::Centre)];
        l.fit = Some(0.92);
        marks.push(Mark::Label(l.optional()));
        labels.push((scenario.clone(), i == 0));
    }
    shown.sort_by_key(|p| provider_order(p));
    // Top of the stack first, as the eye reads it.
    let legend = shown.iter().rev().map(|p| Entry::provider(p)).collect();
    let title = "cost over the horizon (commit + usage + route), $".to_string();
    let x = Axis::category(Category::slots(labels));
    let panel = Panel::new(x, bar_axis(&extents, f64::INFINITY, 1.12, title), marks);
    let subtitle = vec![baseline_note(comparison, "baseline", " (bold)")];
    Figure::new(
        "Total cost by provider".into(),
        subtitle,
        legend,
        vec![panel],
    )
}

/// The components of a cost change, their metric names in the comparison, and penalties
/// (objective − cost).
const COMPONENTS: [(&str, &str); 4] = [
    ("commit", "commit_cost"),
    ("usage", "usage_cost"),
    ("route", "route_cost"),
    ("penalties", ""),
];

fn cost_delta(comparison: &Comparison, opts: &ChartOptions) -> Figure {
    let later = &comparison.scenarios[1.min(comparison.scenarios.len())..];
    // (each component's change, the net change of the objective)
    let change = |s: &String| {
        let delta = |m: &str| metric(comparison, s, m, "", true);
        let net = delta("objective");
        let part = |(name, m): &(&'static str, &str)| match *m {
            "" => (*name, net - delta("cost")),
            m => (*name, delta(m)),
        };
        (COMPONENTS.iter().map(part).collect::<Vec<_>>(), net)
    };
    let groups: Vec<(Vec<(&str, f64)>, f64)> = later.iter().map(change).collect();
    let ends = |(parts, net): &(Vec<(&str, f64)>, f64)| {
        parts.iter().map(|p| p.1).chain([*net]).collect::<Vec<_>>()
    };
    let extents: Vec<f64> = groups.iter().flat_map(ends).collect();
    let cut = cut_at(&extents);
    let mut marks = Vec::new();
    let mut notes = Vec::new();
    for (i, (parts, net)) in groups.iter().enumerate() {
        let bar = |(p, c): (&(&str, f64), Rgba)| vec![(c, p.1)];
        let bars: Vec<_> = parts.iter().zip(palette::COMPONENTS).map(bar).collect();
        marks.extend(group(i, groups.len(), &bars, cut, opts));
        let arrow = (net.abs() > cut).then_some(*net > 0.0);
        let (x, y) = (i as f64 + 0.5, net.clamp(-cut, cut));
        let mut net_dot = Dot::new(x, y, 11.0, palette::INK);
        net_dot.arrow = arrow;
        marks.push(Mark::Dot(net_dot));
        let mut lines = vec![format!("net {}", signed_dollars(*net))];
        let off = parts.iter().filter(|p| p.1.abs() > cut);
        let off: Vec<String> = off
            .map(|p| format!("{} {}", p.0, signed_dollars(p.1)))
            .collect();
        if !off.is_empty() {
            lines.push(format!("{} off scale", off.join(", ")));
        }
        notes.push(lines);
    }
    let entry =
        |((name, _), colour): (&(&str, &str), Rgba)| Entry::new(*name, Swatch::Fill(colour));
    let mut legend: Vec<Entry> = COMPONENTS
        .iter()
        .zip(palette::COMPONENTS)
        .map(entry)
        .collect();
    legend.push(Entry::new("net (objective)", Swatch::Dot(palette::INK)));
    let mut x = Category::slots(later.iter().map(|s| (s.clone(), false)));
    x.notes = notes;
    let title = format!("change vs {}, $", comparison.baseline);
    let panel = Panel::new(
        Axis::category(x),
        bar_axis(&extents, cut, 1.0, title),
        marks,
    );
    let subtitle = vec![
        baseline_note(comparison, "vs", ""),
        "penalties = objective − cost".into(),
    ];
    let mut fig = Figure::new(
        "Change in cost by component".into(),
        subtitle,
        legend,
        vec![panel],
    );
    if groups.is_empty() {
        let baseline = &comparison.baseline;
        let message = format!("Only one scenario: there is nothing to compare {baseline} against.");
        fig.message = Some(message);
    }
    fig
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_outlier_is_cut_and_the_rest_keep_their_scale() {
        let cut = cut_at(&[10.0, -4.0, 8.0, 1000.0]);
        assert!((10.0..1000.0).contains(&cut), "{cut}");
        assert_eq!(cut_at(&[10.0, 8.0, 6.0]), f64::INFINITY);
        let axis = bar_axis(&[10.0, -4.0, 8.0, 1000.0], cut, 1.0, String::new());
        assert_eq!(axis.lo, -4.0);
        assert!((10.0..=12.5).contains(&axis.hi), "{}", axis.hi);
    }
}
