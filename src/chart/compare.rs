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

use super::figure::{Axis, Category, Entry, Figure, Label, Mark, Panel, StepLine, Swatch};
use super::layout::{Scale, TICK};
use super::palette::{self, provider_colour, provider_order, scenario_colour, Rgba};
use super::run::{KEEP_PERIODS_UP_TO, MAX_BINS};
use super::svg::Align;
use super::ticks::{self, Unit};
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

const DEMAND_WIDTH: f64 = 4.0;
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
        .map(|c| Series::from_tables(&c.tables, provider_order))
        .collect::<Result<Vec<Series>>>()?;
    let figures = vec![
        (COMPARE_CHART_STEMS[0], capacity(comparison, &series)),
        (COMPARE_CHART_STEMS[1], cost_by_provider(comparison, opts)),
        (COMPARE_CHART_STEMS[2], cost_delta(comparison, opts)),
    ];
    super::render(figures, opts)
}

/// "baseline frontier-2026", and the held plan when there is one.
fn baseline_note(comparison: &Comparison, lead: &str, after: &str) -> String {
    let mut s = format!("{lead} {}{after}", comparison.baseline);
    if comparison.hold_reservations && comparison.scenarios.len() > 1 {
        s.push_str(&format!(
            " · held to {}'s reservations",
            comparison.baseline
        ));
    }
    s
}

fn scenario_label(comparison: &Comparison, i: usize) -> String {
    if i == 0 {
        format!("{} (baseline)", comparison.scenarios[0])
    } else {
        comparison.scenarios[i].clone()
    }
}

fn capacity(comparison: &Comparison, series: &[Series]) -> Figure {
    // One grain for every scenario: grouping never splits a period, so coarse grids stay as they are.
    let grain = series
        .iter()
        .map(|s| Grain::choose(&s.periods, KEEP_PERIODS_UP_TO, MAX_BINS))
        .max()
        .unwrap_or(Grain::Period);
    let key = |label: &str, width: f64, dashed: bool| {
        Entry::new(
            label,
            Swatch::Line {
                colour: KEY_COLOUR,
                width,
                dashed,
            },
        )
    };
    let mut legend = vec![
        key("demand", DEMAND_WIDTH, false),
        key("reserved capacity", RESERVED_WIDTH, true),
    ];
    let mut lines = Vec::new();
    let (mut start, mut end) = (f64::INFINITY, f64::NEG_INFINITY);
    for (i, s) in series.iter().enumerate() {
        let b = Binned::new(&s.periods, grain);
        let reserved = s.reserved_total_tpm();
        let extents = b.spans.clone();
        if let (Some(first), Some(last)) = (extents.first(), extents.last()) {
            start = start.min(first.0);
            end = end.max(last.1);
        }
        let colour = scenario_colour(i);
        let line = |width, dashed, values| StepLine {
            colour,
            width,
            dashed,
            bins: extents.clone(),
            values,
        };
        lines.push(line(DEMAND_WIDTH, false, b.mean(&s.demand_tpm)));
        lines.push(line(RESERVED_WIDTH, true, b.mean(&reserved)));
        legend.push(Entry::new(
            scenario_label(comparison, i),
            Swatch::Fill(colour),
        ));
    }
    let mut notes = vec![baseline_note(comparison, "baseline", "")];
    if grain != Grain::Period {
        notes.push(format!("{} means", grain.adjective()));
    }
    if lines_meet(&lines) {
        notes.push("lines that meet take turns".into());
    }
    let top = lines
        .iter()
        .flat_map(|l| l.values.iter().copied())
        .fold(0.0, f64::max);
    let x = Axis::time(start.min(end), end.max(start));
    let y = Axis::value(0.0, top, Unit::TokensPerMinute);
    let panel = Panel {
        title: None,
        x,
        y,
        marks: vec![Mark::Steps(lines)],
    };
    Figure::new(
        "Demand and reserved capacity by scenario".into(),
        notes,
        legend,
        panel,
    )
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

fn value(comparison: &Comparison, scenario: &str, metric: &str, provider: &str) -> f64 {
    comparison
        .get(scenario, metric, provider)
        .map_or(0.0, |r| r.value)
}

fn delta(comparison: &Comparison, scenario: &str, metric: &str) -> f64 {
    comparison
        .get(scenario, metric, "")
        .map_or(0.0, |r| r.delta_vs_baseline)
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
    let share: f64 = if k > 1.0 { 0.84 } else { 0.62 };
    let width = share.min(c.px(if k > 1.0 { 110.0 } else { 240.0 }) * k / slot_px);
    let pitch = width / k;
    let bar_w = pitch * if k > 1.0 { 0.86 } else { 1.0 };
    let mut marks = Vec::new();
    for (b, segments) in bars.iter().enumerate() {
        let x0 = slot as f64 + 0.5 - width / 2.0 + pitch * b as f64 + (pitch - bar_w) / 2.0;
        let (mut up, mut down) = (0.0f64, 0.0f64);
        for (fill, v) in segments {
            let (from, to) = if *v >= 0.0 {
                (up, up + v)
            } else {
                (down, down + v)
            };
            if *v >= 0.0 {
                up += v
            } else {
                down += v
            }
            let (from, to) = (from.clamp(-cut, cut), to.clamp(-cut, cut));
            let end_cut = (up.abs() > cut && *v > 0.0) || (down.abs() > cut && *v < 0.0);
            if from != to {
                let cut = end_cut.then_some(*v > 0.0);
                marks.push(Mark::Rect {
                    x0,
                    x1: x0 + bar_w,
                    y0: from,
                    y1: to,
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
    let clean = |v: f64| {
        if v.is_finite() && v.abs() >= 0.5 {
            v.clamp(-cut, cut)
        } else {
            0.0
        }
    };
    let hi = extents.iter().map(|v| clean(*v)).fold(0.0, f64::max);
    let lo = extents.iter().map(|v| clean(*v)).fold(0.0, f64::min);
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
        let mut segments = Vec::new();
        for p in &providers {
            let v = value(comparison, scenario, "cost", p);
            if v > 0.0 {
                segments.push((provider_colour(p), v));
                if !shown.contains(p) {
                    shown.push(p);
                }
            }
        }
        let total: f64 = segments.iter().map(|s| s.1).sum();
        extents.push(total);
        marks.extend(group(i, n, &[segments], f64::INFINITY, opts));
        let text = ticks::dollars(value(comparison, scenario, "cost", ""));
        let mut l = Label::at(text, i as f64 + 0.5, total, TICK * 0.95, palette::INK);
        l.spots = vec![(0.0, -18.0, Align::Centre)];
        l.fit = Some(0.92);
        l.optional = true;
        marks.push(Mark::Label(l));
        labels.push((scenario.clone(), i == 0));
    }
    shown.sort_by_key(|p| provider_order(p));
    // Top of the stack first, as the eye reads it.
    let legend = shown
        .iter()
        .rev()
        .map(|p| Entry {
            droppable: true,
            ..Entry::new(p.as_str(), Swatch::Fill(provider_colour(p)))
        })
        .collect();
    let title = "cost over the horizon (commit + usage + route), $".to_string();
    let x = Axis::category(Category::slots(labels));
    let y = bar_axis(&extents, f64::INFINITY, 1.12, title);
    let panel = Panel {
        title: None,
        x,
        y,
        marks,
    };
    let subtitle = vec![baseline_note(comparison, "baseline", " (bold)")];
    Figure::new("Total cost by provider".into(), subtitle, legend, panel)
}

/// The components of a cost change, their metric names in the comparison.
const COMPONENTS: [(&str, &str); 3] = [
    ("commit", "commit_cost"),
    ("usage", "usage_cost"),
    ("route", "route_cost"),
];

fn cost_delta(comparison: &Comparison, opts: &ChartOptions) -> Figure {
    let later = &comparison.scenarios[1.min(comparison.scenarios.len())..];
    // (components with their deltas, net)
    let groups: Vec<(Vec<(&str, f64)>, f64)> = later
        .iter()
        .map(|s| {
            let mut parts: Vec<(&str, f64)> = COMPONENTS
                .iter()
                .map(|(name, metric)| (*name, delta(comparison, s, metric)))
                .collect();
            let net = delta(comparison, s, "objective");
            parts.push(("penalties", net - delta(comparison, s, "cost")));
            (parts, net)
        })
        .collect();
    let extents: Vec<f64> = groups
        .iter()
        .flat_map(|(parts, net)| parts.iter().map(|p| p.1).chain([*net]))
        .collect();
    let cut = cut_at(&extents);
    let mut marks = Vec::new();
    let mut notes = Vec::new();
    for (i, (parts, net)) in groups.iter().enumerate() {
        let bars: Vec<Vec<(Rgba, f64)>> = parts
            .iter()
            .zip(palette::COMPONENTS)
            .map(|(p, c)| vec![(c, p.1)])
            .collect();
        marks.extend(group(i, groups.len(), &bars, cut, opts));
        let arrow = (net.abs() > cut).then_some(*net > 0.0);
        let y = net.clamp(-cut, cut);
        marks.push(Mark::Dot {
            x: i as f64 + 0.5,
            y,
            radius: 11.0,
            colour: palette::INK,
            arrow,
        });
        let mut lines = vec![format!("net {}", ticks::signed_dollars(*net))];
        let off: Vec<String> = parts
            .iter()
            .filter(|p| p.1.abs() > cut)
            .map(|p| format!("{} {}", p.0, ticks::signed_dollars(p.1)))
            .collect();
        if !off.is_empty() {
            lines.push(format!("{} off scale", off.join(", ")));
        }
        notes.push(lines);
    }
    let mut legend: Vec<Entry> = ["commit", "usage", "route", "penalties"]
        .iter()
        .zip(palette::COMPONENTS)
        .map(|(name, colour)| Entry::new(*name, Swatch::Fill(colour)))
        .collect();
    legend.push(Entry::new("net (objective)", Swatch::Dot(palette::INK)));
    let x = Category {
        notes,
        ..Category::slots(later.iter().map(|s| (s.clone(), false)))
    };
    let title = format!("change vs {}, $", comparison.baseline);
    let (x, y) = (Axis::category(x), bar_axis(&extents, cut, 1.0, title));
    let panel = Panel {
        title: None,
        x,
        y,
        marks,
    };
    let subtitle = vec![
        baseline_note(comparison, "vs", ""),
        "penalties = objective − cost".into(),
    ];
    let mut fig = Figure::new(
        "Change in cost by component".into(),
        subtitle,
        legend,
        panel,
    );
    if groups.is_empty() {
        fig.message = Some(format!(
            "Only one scenario: there is nothing to compare {} against.",
            comparison.baseline
        ));
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
