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

use super::figure::{largest, Axis, Category, Dot, Entry, Figure, Label, Mark, Panel, StepLine};
use super::figure::{Stroke, Swatch};
use super::layout::Scale;
use super::palette::INK;
use super::palette::{provider_colour, provider_order, scenario_colour, Rgba, AXIS, COMPONENTS};
use super::run::{DEMAND, KEEP_PERIODS_UP_TO, MAX_BINS};
use super::ticks::{dollars, signed_dollars, Unit};
use super::{ChartOptions, Charts};
use crate::compare::{Column, Comparison};
use crate::error::Result;
use crate::report::series::{Binned, Grain, Series};

/// The stems of the compare charts (each written as `.png` and `.svg`).
pub const COMPARE_CHART_STEMS: [&str; 3] = [
    "compare_capacity",
    "compare_cost_by_provider",
    "compare_cost_delta",
];

/// The line styles of the capacity chart, in a neutral grey that is no scenario's colour.
const DEMAND_KEY: Stroke = Stroke::new(AXIS, DEMAND.width, false);
const RESERVED_KEY: Stroke = Stroke::new(AXIS, 3.5, true);

/// Draws every compare chart, in memory.
pub fn render_all(c: &Comparison, columns: &[Column], opts: &ChartOptions) -> Charts {
    let series = |c: &Column| Series::from_tables(&c.tables, provider_order);
    let series: Vec<Series> = columns.iter().map(series).collect::<Result<_>>()?;
    let scale = Scale::new(opts.width, opts.height);
    let figures = vec![
        (COMPARE_CHART_STEMS[0], capacity(c, &series)),
        (COMPARE_CHART_STEMS[1], cost_by_provider(c, &scale)),
        (COMPARE_CHART_STEMS[2], cost_delta(c, &scale)),
    ];
    super::render(figures, opts)
}

/// "baseline frontier-2026", and the held plan when there is one.
fn baseline_note(c: &Comparison, lead: &str, after: &str) -> String {
    let mut note = format!("{lead} {}{after}", c.baseline);
    if c.hold_reservations && c.scenarios.len() > 1 {
        note += &format!(" · held to {}'s reservations", c.baseline);
    }
    note
}

fn capacity(c: &Comparison, series: &[Series]) -> Figure {
    // One grain for every scenario: grouping never splits a period, so coarse grids stay as they are.
    let grain = |s: &Series| Grain::choose(&s.periods, KEEP_PERIODS_UP_TO, MAX_BINS);
    let grain = series.iter().map(grain).max().unwrap_or(Grain::Period);
    let mut legend = vec![
        Entry::new("demand", Swatch::Line(DEMAND_KEY)),
        Entry::new("reserved capacity", Swatch::Line(RESERVED_KEY)),
    ];
    let mut lines = Vec::new();
    for (i, s) in series.iter().enumerate() {
        let (b, colour) = (Binned::new(&s.periods, grain), scenario_colour(i));
        let line = |key: Stroke, values| {
            let (stroke, bins) = (Stroke { colour, ..key }, b.spans.clone());
            StepLine {
                stroke,
                bins,
                values,
            }
        };
        lines.push(line(DEMAND_KEY, b.mean(&s.demand_tpm)));
        lines.push(line(RESERVED_KEY, b.mean(&s.reserved_total_tpm())));
        let baseline = if i == 0 { " (baseline)" } else { "" };
        let label = format!("{}{baseline}", c.scenarios[i]);
        legend.push(Entry::new(label, Swatch::Fill(colour)));
    }
    let mut notes = vec![baseline_note(c, "baseline", "")];
    if grain != Grain::Period {
        notes.push(format!("{} means", grain.adjective()));
    }
    if lines_meet(&lines) {
        notes.push("lines that meet take turns".into());
    }
    let bins = lines.iter().flat_map(|l| &l.bins);
    let start = bins.clone().map(|b| b.0).fold(f64::INFINITY, f64::min);
    let end = bins.map(|b| b.1).fold(f64::NEG_INFINITY, f64::max);
    let top = largest(lines.iter().flat_map(|l| l.values.iter().copied()));
    let x = Axis::time(start.min(end), end.max(start));
    let y = Axis::value(0.0, top, Unit::TokensPerMinute);
    let panel = Panel::new(x, y, vec![Mark::Steps(lines)]);
    let title = "Demand and reserved capacity by scenario".into();
    Figure::new(title, notes, legend, vec![panel])
}

/// Whether two lines run at (nearly) the same level over a common bin, so the drawing interleaves
/// them; the subtitle then says so.
fn lines_meet(lines: &[StepLine]) -> bool {
    let tolerance = largest(lines.iter().flat_map(|l| l.values.iter().copied())) * 0.004;
    // Bins are sorted by start: each of `a`'s is looked up in `b` by bisection.
    let meet = |a: &StepLine, b: &StepLine| {
        let near = |(bin, v): (&(f64, f64), &f64)| {
            let k = b.bins.partition_point(|x| x.0 < bin.0);
            b.bins.get(k) == Some(bin) && (v - b.values[k]).abs() <= tolerance
        };
        a.bins.iter().zip(&a.values).any(near)
    };
    let later = |(i, a): (usize, &StepLine)| lines[i + 1..].iter().any(|b| meet(a, b));
    lines.iter().enumerate().any(later)
}

/// A group of bars in a category slot: each bar's segments stacked from zero (positive up,
/// negative down), values beyond `cut` clipped there with a break. The group's width in the slot
/// keeps each bar at most 110 px (at 1080p) on an image `opts` wide.
fn group(slot: usize, n: usize, bars: &[Vec<(Rgba, f64)>], cut: f64, c: &Scale) -> Vec<Mark> {
    let slot_px = c.w * 0.75 / n.max(1) as f64;
    let (k, many) = (bars.len().max(1) as f64, bars.len() > 1);
    let (share, most) = if many { (0.84, 110.0) } else { (0.62, 240.0) };
    let width = f64::min(share, c.px(most) * k / slot_px);
    let pitch = width / k;
    let bar_w = pitch * if many { 0.86 } else { 1.0 };
    let mut marks = Vec::new();
    for (b, segments) in bars.iter().enumerate() {
        let x0 = slot as f64 + 0.5 - width / 2.0 + pitch * b as f64 + (pitch - bar_w) / 2.0;
        let (mut up, mut down) = (0.0f64, 0.0f64);
        for (fill, v) in segments {
            let end = if *v >= 0.0 { &mut up } else { &mut down };
            let from = *end;
            *end += v;
            let y = (from.clamp(-cut, cut), end.clamp(-cut, cut));
            if y.0 != y.1 {
                let cut = (end.abs() > cut).then_some(*v > 0.0);
                marks.push(Mark::bar((x0, x0 + bar_w), y, *fill, cut));
            }
        }
    }
    marks
}

/// A value more than this many times the next one is cut at the edge of the plot.
const OUTLIER_RATIO: f64 = 4.0;

/// Under half a dollar is solver noise.
fn noise(v: f64) -> bool {
    !v.is_finite() || v.abs() < 0.5
}

/// Where the value axis is cut: beyond the first big gap among the largest magnitudes (at most a
/// third of them), so one value far beyond the rest cannot squash them; infinity when none is.
fn cut_at(extents: &[f64]) -> f64 {
    let magnitudes = extents.iter().map(|v| v.abs()).filter(|v| !noise(*v));
    let mut magnitudes: Vec<f64> = magnitudes.collect();
    magnitudes.sort_by(|a, b| b.total_cmp(a));
    let allowed = (magnitudes.len() / 3).max(1);
    let gap = |i: &usize| magnitudes[i - 1] > OUTLIER_RATIO * magnitudes[*i];
    let first_gap = (1..magnitudes.len().min(allowed + 1)).find(gap);
    first_gap.map_or(f64::INFINITY, |i| magnitudes[i] * 1.25)
}

/// The value axis of a bar chart over `extents` (bar ends and dots), cut at `cut`; an axis of
/// nothing but noise spans ±$1.
fn bar_axis(extents: &[f64], cut: f64, headroom: f64, title: String) -> Axis {
    let clean = |v: &f64| if noise(*v) { 0.0 } else { v.clamp(-cut, cut) };
    let hi = extents.iter().map(clean).fold(0.0, f64::max);
    let lo = extents.iter().map(clean).fold(0.0, f64::min);
    let (empty, hi) = (lo == 0.0 && hi == 0.0, hi * headroom);
    let (lo, hi) = if empty { (-1.0, 1.0) } else { (lo, hi) };
    Axis::value(lo, hi, Unit::Dollars).titled(title)
}

fn cost_by_provider(c: &Comparison, scale: &Scale) -> Figure {
    let mut providers: Vec<&String> = c.providers.iter().collect();
    providers.sort_by_key(|p| provider_order(p));
    let n = c.scenarios.len();
    let (mut marks, mut labels, mut extents) = (Vec::new(), Vec::new(), Vec::new());
    for (i, scenario) in c.scenarios.iter().enumerate() {
        let cost = |p: &str| c.get(scenario, "cost", p).map_or(0.0, |r| r.value);
        let segment = |p: &&String| Some((provider_colour(p), cost(p))).filter(|s| s.1 > 0.0);
        let segments: Vec<(Rgba, f64)> = providers.iter().filter_map(segment).collect();
        let total: f64 = segments.iter().map(|s| s.1).sum();
        extents.push(total);
        marks.extend(group(i, n, &[segments], f64::INFINITY, scale));
        let mut label = Label::above(dollars(cost("")), i as f64 + 0.5, total);
        label.fit = Some(0.92);
        marks.push(Mark::Label(label));
        labels.push((scenario.clone(), i == 0));
    }
    // Providers with a cost in any scenario, top of the stack first (as the eye reads it).
    let paid = |p: &str, s: &String| c.get(s, "cost", p).is_some_and(|r| r.value > 0.0);
    let paid_any = |p: &&&String| c.scenarios.iter().any(|s| paid(p, s));
    let legend = providers.iter().rev().filter(paid_any);
    let legend = legend.map(|p| Entry::provider(p)).collect();
    let title = "cost over the horizon (commit + usage + route), $".to_string();
    let x = Axis::category(Category::slots(labels));
    let panel = Panel::new(x, bar_axis(&extents, f64::INFINITY, 1.12, title), marks);
    let subtitle = vec![baseline_note(c, "baseline", " (bold)")];
    let title = "Total cost by provider".to_string();
    Figure::new(title, subtitle, legend, vec![panel])
}

/// The components of a cost change (penalties are objective − cost).
const PARTS: [&str; 4] = ["commit", "usage", "route", "penalties"];

fn cost_delta(c: &Comparison, scale: &Scale) -> Figure {
    let later = &c.scenarios[1.min(c.scenarios.len())..];
    let groups: Vec<([f64; 4], f64)> = later.iter().map(|s| c.cost_change(s)).collect();
    let ends = |(parts, net): &([f64; 4], f64)| [parts[0], parts[1], parts[2], parts[3], *net];
    let extents: Vec<f64> = groups.iter().flat_map(ends).collect();
    let cut = cut_at(&extents);
    let (mut marks, mut notes) = (Vec::new(), Vec::new());
    for (i, (parts, net)) in groups.iter().enumerate() {
        let bar = |(c, p): (&Rgba, &f64)| vec![(*c, *p)];
        let bars: Vec<_> = COMPONENTS.iter().zip(parts).map(bar).collect();
        marks.extend(group(i, groups.len(), &bars, cut, scale));
        let mut dot = Dot::new(i as f64 + 0.5, net.clamp(-cut, cut), 11.0, INK);
        dot.arrow = (net.abs() > cut).then_some(*net > 0.0);
        marks.push(Mark::Dot(dot));
        let mut lines = vec![format!("net {}", signed_dollars(*net))];
        let off = PARTS.iter().zip(parts).filter(|p| p.1.abs() > cut);
        let part = |(name, v): (&&str, &f64)| format!("{name} {}", signed_dollars(*v));
        let off: Vec<String> = off.map(part).collect();
        if !off.is_empty() {
            lines.push(format!("{} off scale", off.join(", ")));
        }
        notes.push(lines);
    }
    let entry = |(name, colour): (&str, Rgba)| Entry::new(name, Swatch::Fill(colour));
    let mut legend: Vec<Entry> = PARTS.into_iter().zip(COMPONENTS).map(entry).collect();
    legend.push(Entry::new("net (objective)", Swatch::Dot(INK)));
    let mut x = Category::slots(later.iter().map(|s| (s.clone(), false)));
    x.notes = notes;
    let y = bar_axis(&extents, cut, 1.0, format!("change vs {}, $", c.baseline));
    let penalties = "penalties = objective − cost".to_string();
    let subtitle = vec![baseline_note(c, "vs", ""), penalties];
    let title = "Change in cost by component".to_string();
    let panels = vec![Panel::new(Axis::category(x), y, marks)];
    let mut fig = Figure::new(title, subtitle, legend, panels);
    let baseline = &c.baseline;
    let message = format!("Only one scenario: there is nothing to compare {baseline} against.");
    fig.message = groups.is_empty().then_some(message);
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
