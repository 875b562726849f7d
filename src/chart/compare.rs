//! Chart stage, comparisons: every column of `capplan compare` side by side, against the first
//! (the baseline). Money is spend (commit + usage + route, what is paid); demand left unserved is
//! drawn in tokens and percent of demand, never priced at a penalty. With a single column the
//! delta chart is still drawn and says there is nothing to compare (so the set of files does not
//! depend on the number of columns).

use super::figure::{largest, Axis, Category, Dot, Entry, Figure, Label, Mark, Panel};
use super::figure::{Stroke, Swatch};
use super::palette::{provider_colour, provider_order, rgb, scenario_colour, Rgba, INK};
use super::palette::{COMPONENTS, UNSERVED};
use super::run::{KEEP_PERIODS_UP_TO, MAX_BINS};
use super::svg::Align;
use super::ticks::Unit;
use super::{ChartOptions, Charts};
use crate::compare::write::signed_points;
use crate::compare::{Column, Comparison};
use crate::error::Result;
use crate::report::series::{Binned, Grain, Series};
use crate::units::{signed_dollars, three_figure_dollars};

/// The stems of the compare charts (each written as `.png` and `.svg`).
pub const COMPARE_CHART_STEMS: [&str; 3] = [
    "compare_capacity",
    "compare_cost_by_provider",
    "compare_cost_delta",
];

/// Demand shared by the columns: a light grey band under every column's line.
const DEMAND_BAND: Rgba = rgb(0xC4C4C4);

/// Draws every compare chart, in memory.
pub fn render_all(c: &Comparison, columns: &[Column], opts: &ChartOptions) -> Charts {
    let series = |c: &Column| Series::from_tables(&c.tables, provider_order);
    let series: Vec<Series> = columns.iter().map(series).collect::<Result<_>>()?;
    let figures = vec![
        (COMPARE_CHART_STEMS[0], capacity(c, &series)),
        (COMPARE_CHART_STEMS[1], cost_by_provider(c)),
        (COMPARE_CHART_STEMS[2], cost_delta(c)),
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

/// Line widths at 1080p of `n` columns' lines, the baseline's widest: each is 4 px (2 px a side)
/// wider than the next, so coinciding lines show as nested stripes, and stay apart at small
/// sizes (where widths are kept at half their 1080p value at least); the step narrows past four
/// columns so the baseline's line stays a line.
fn nested_widths(n: usize) -> Vec<f64> {
    let step = if n <= 4 {
        4.0
    } else {
        (12.0 / (n - 1) as f64).max(2.0)
    };
    (0..n).map(|i| 3.0 + step * (n - 1 - i) as f64).collect()
}

/// For each column, the first column with the same binned demand (itself when none before it).
fn demand_owners(binned: &[Binned], demand: &[Vec<f64>]) -> Vec<usize> {
    let same = |i: usize, j: usize| {
        let near = |(a, b): (&f64, &f64)| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
        binned[i].spans == binned[j].spans && demand[i].iter().zip(&demand[j]).all(near)
    };
    (0..demand.len())
        .map(|i| (0..i).find(|j| same(*j, i)).unwrap_or(i))
        .collect()
}

/// Demand and each column's reserved capacity on one time axis, and under it (when any column
/// leaves demand unserved) the share of demand each column serves, its lowest period's in a bin.
/// Demand is drawn once, a grey band, for the columns that share the baseline's; other demand is
/// a dashed line in its column's colour. Each column is a line in its colour (the baseline in
/// ink), widest first, so lines that coincide show as nested stripes. Long horizons are grouped
/// as in the run charts (one grain for all, the coarsest any column needs).
fn capacity(c: &Comparison, series: &[Series]) -> Figure {
    // One grain for every column: grouping never splits a period, so coarse grids stay as they are.
    let grain = |s: &Series| Grain::choose(&s.periods, KEEP_PERIODS_UP_TO, MAX_BINS);
    let grain = series.iter().map(grain).max().unwrap_or(Grain::Period);
    let (mut binned, mut demand, mut served) = (Vec::new(), Vec::new(), Vec::new());
    for s in series {
        let b = Binned::new(&s.periods, grain);
        demand.push(b.mean(&s.demand_tpm));
        served.push(s.lowest_served_pct(&b));
        binned.push(b);
    }
    let owners = demand_owners(&binned, &demand);
    let widths = nested_widths(series.len());
    let line = |i: usize| Stroke::new(scenario_colour(i), widths[i], false);
    let band = Stroke::new(DEMAND_BAND, widths[0] + 4.0, false);
    let label = |i: usize| match i {
        0 => format!("{} (baseline)", c.scenarios[0]),
        i => c.scenarios[i].clone(),
    };

    // Demand: the baseline's as a band, any other as a dashed line in its column's colour.
    let (mut marks, mut legend, mut dashed) = (Vec::new(), Vec::new(), Vec::new());
    for (i, b) in binned.iter().enumerate().filter(|(i, _)| owners[*i] == *i) {
        let sharing: Vec<usize> = (0..owners.len()).filter(|j| owners[*j] == i).collect();
        let name = match (i, sharing.len()) {
            (_, n) if n == series.len() => "demand (every column)".to_string(),
            (0, 1) => "demand of the baseline".to_string(),
            (0, n) => format!("demand of the baseline and {} more", n - 1),
            (i, 1) => format!("demand of {}", c.scenarios[i]),
            (i, n) => format!("demand of {} and {} more", c.scenarios[i], n - 1),
        };
        let stroke = match i {
            0 => band,
            i => Stroke::new(scenario_colour(i), 2.5, true),
        };
        let mark = Mark::steps(stroke, &b.spans, &demand[i]);
        if i == 0 {
            marks.push(mark);
        } else {
            dashed.push(mark);
        }
        legend.push(Entry::new(name, Swatch::Line(stroke)));
    }
    // Reserved capacity: the baseline's widest, drawn first.
    let mut top = largest(demand.iter().flatten().copied());
    for (i, (s, b)) in series.iter().zip(&binned).enumerate() {
        let reserved = b.mean(&s.reserved_total_tpm());
        top = top.max(largest(reserved.iter().copied()));
        marks.push(Mark::steps(line(i), &b.spans, &reserved));
        legend.push(Entry::new(label(i), Swatch::Line(line(i))));
    }
    marks.extend(dashed);

    let spans = binned.iter().flat_map(|b| &b.spans);
    let start = spans.clone().map(|b| b.0).fold(f64::INFINITY, f64::min);
    let end = spans.map(|b| b.1).fold(f64::NEG_INFINITY, f64::max);
    let x = || Axis::time(start.min(end), end.max(start));
    let y = Axis::value(0.0, top, Unit::TokensPerMinute).titled("reserved capacity and demand");
    let mut panels = vec![Panel::new(x(), y, marks)];

    // Served: only when some column leaves demand unserved somewhere.
    let lowest = served.iter().flatten().copied().fold(100.0, f64::min);
    let mut notes = vec![
        baseline_note(c, "baseline", ""),
        "lines: reserved capacity".into(),
    ];
    if lowest < 99.95 {
        let step = |(i, (b, v)): (usize, (&Binned, &Vec<f64>))| Mark::steps(line(i), &b.spans, v);
        let marks = binned.iter().zip(&served).enumerate().map(step).collect();
        // From a little under the lowest share to a little over 100%, so lines at 100% clear
        // the frame.
        let lo = (lowest - (100.0 - lowest) * 0.12).max(0.0);
        let hi = 100.0 + (100.0 - lo) * 0.06;
        let each = match grain {
            Grain::Period => "",
            Grain::Day => " (lowest period of each day)",
            Grain::Week => " (lowest period of each week)",
            Grain::Month => " (lowest period of each month)",
        };
        let y = Axis::value_inside(lo, hi, Unit::Percent).titled(format!("demand served{each}"));
        panels.push(Panel::new(x(), y, marks));
        notes.push("below: share of demand served".into());
    } else {
        notes.push("every column serves all demand in every period".into());
    }
    if grain != Grain::Period {
        notes.push(format!("{} means", grain.adjective()));
    }
    let title = match panels.len() {
        1 => "Demand and reserved capacity by column",
        _ => "Demand, reserved capacity and demand served by column",
    };
    let mut fig = Figure::new(title.into(), notes, legend, panels);
    fig.row_heights = vec![2.0, 1.0];
    fig
}

/// The bars of a category slot: each bar's left edge and centre, and the bars' width. The group
/// keeps each bar at most 110 px wide (a lone bar 240 px) in a plot `plot_px` wide, both at 1080p.
fn slot_bars(slot: usize, n: usize, k: usize, plot_px: f64) -> (Vec<(f64, f64)>, f64) {
    let slot_px = plot_px / n.max(1) as f64;
    let many = k > 1;
    let (share, most) = if many { (0.84, 110.0) } else { (0.62, 240.0) };
    let width = f64::min(share, most * k.max(1) as f64 / slot_px);
    let pitch = width / k.max(1) as f64;
    let bar_w = pitch * if many { 0.86 } else { 1.0 };
    let left = slot as f64 + 0.5 - width / 2.0;
    let bar = |b: usize| {
        let x0 = left + pitch * b as f64 + (pitch - bar_w) / 2.0;
        (x0, left + pitch * (b as f64 + 0.5))
    };
    ((0..k).map(bar).collect(), bar_w)
}

/// A group of bars in a category slot (`slot_bars`): each bar's segments stacked from zero
/// (positive up, negative down), values beyond `cut` clipped there with a break.
fn group(slot: usize, n: usize, bars: &[Vec<(Rgba, f64)>], cut: f64, plot_px: f64) -> Vec<Mark> {
    let (edges, bar_w) = slot_bars(slot, n, bars.len(), plot_px);
    let mut marks = Vec::new();
    for ((x0, _), segments) in edges.into_iter().zip(bars) {
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

fn cost_by_provider(c: &Comparison) -> Figure {
    let mut providers: Vec<&String> = c.providers.iter().collect();
    providers.sort_by_key(|p| provider_order(p));
    let n = c.scenarios.len();
    let (mut marks, mut labels, mut extents) = (Vec::new(), Vec::new(), Vec::new());
    for (i, scenario) in c.scenarios.iter().enumerate() {
        let spend = |p: &str| c.get(scenario, "spend", p).map_or(0.0, |r| r.value);
        let segment = |p: &&String| Some((provider_colour(p), spend(p))).filter(|s| s.1 > 0.0);
        let segments: Vec<(Rgba, f64)> = providers.iter().filter_map(segment).collect();
        let total: f64 = segments.iter().map(|s| s.1).sum();
        extents.push(total);
        // The plot takes about three quarters of the width, 1440 px at 1080p.
        marks.extend(group(i, n, &[segments], f64::INFINITY, 1440.0));
        let mut label = Label::above(three_figure_dollars(spend("")), i as f64 + 0.5, total);
        label.fit = Some(0.92);
        marks.push(Mark::Label(label));
        labels.push((scenario.clone(), i == 0));
    }
    // Providers with spend in any column, top of the stack first (as the eye reads it).
    let paid = |p: &str, s: &String| c.get(s, "spend", p).is_some_and(|r| r.value > 0.0);
    let paid_any = |p: &&&String| c.scenarios.iter().any(|s| paid(p, s));
    let legend = providers.iter().rev().filter(paid_any);
    let legend = legend.map(|p| Entry::provider(p)).collect();
    let title = "spend over the horizon (commit + usage + route), $".to_string();
    let x = Axis::category(Category::slots(labels));
    let panel = Panel::new(x, bar_axis(&extents, f64::INFINITY, 1.12, title), marks);
    let subtitle = vec![baseline_note(c, "baseline", " (bold)")];
    let title = "Spend by provider".to_string();
    Figure::new(title, subtitle, legend, vec![panel])
}

/// The components of a change of spend.
const PARTS: [&str; 3] = ["commit", "usage", "route"];

/// The two bars of the served panel: over the horizon, and in the worst period.
const SERVED_PARTS: [(&str, &str); 2] = [
    ("served_pct", "served over the horizon"),
    ("worst_period_served_pct", "worst period served"),
];
const SERVED_COLOURS: [Rgba; 2] = [rgb(0x6B6B6B), UNSERVED];

fn cost_delta(c: &Comparison) -> Figure {
    let later = &c.scenarios[1.min(c.scenarios.len())..];
    let n = later.len();
    // Two panels side by side share the plot's width: about 690 px each at 1080p.
    let plot_px = 0.36 * 1920.0;
    let groups: Vec<([f64; 3], f64)> = later.iter().map(|s| c.spend_change(s)).collect();
    let ends = |(parts, net): &([f64; 3], f64)| [parts[0], parts[1], parts[2], *net];
    let extents: Vec<f64> = groups.iter().flat_map(ends).collect();
    let cut = cut_at(&extents);
    let (mut marks, mut notes) = (Vec::new(), Vec::new());
    for (i, (parts, net)) in groups.iter().enumerate() {
        let bar = |(c, p): (&Rgba, &f64)| vec![(*c, *p)];
        let bars: Vec<_> = COMPONENTS.iter().zip(parts).map(bar).collect();
        marks.extend(group(i, n, &bars, cut, plot_px));
        let mut dot = Dot::new(i as f64 + 0.5, net.clamp(-cut, cut), 11.0, INK);
        dot.arrow = (net.abs() > cut).then_some(*net > 0.0);
        marks.push(Mark::Dot(dot));
        let mut lines = vec![format!("spend {}", signed_dollars(*net))];
        let off = PARTS.iter().zip(parts).filter(|p| p.1.abs() > cut);
        let part = |(name, v): (&&str, &f64)| format!("{name} {}", signed_dollars(*v));
        let off: Vec<String> = off.map(part).collect();
        if !off.is_empty() {
            lines.push(format!("{} off scale", off.join(", ")));
        }
        notes.push(lines);
    }
    let mut x = Category::slots(later.iter().map(|s| (s.clone(), false)));
    x.notes = notes;
    let title = format!("change of spend vs {}, $", c.baseline);
    let y = bar_axis(&extents, cut, 1.0, title);
    let spend = Panel::new(Axis::category(x), y, marks);

    // Served: the change in percentage points, each bar labelled with its value.
    let (mut marks, mut extents) = (Vec::new(), vec![0.0]);
    for (i, s) in later.iter().enumerate() {
        let delta = |m: &str| c.get(s, m, "").map(|r| r.delta_vs_baseline);
        // A change that rounds to ±0 pp is drawn as none (its label over the zero line).
        let shown = |v: f64| if (v * 10.0).round() == 0.0 { 0.0 } else { v };
        let values: Vec<f64> = (SERVED_PARTS.iter())
            .map(|p| shown(delta(p.0).unwrap_or(0.0)))
            .collect();
        let bars: Vec<Vec<(Rgba, f64)>> = (SERVED_COLOURS.iter().zip(&values))
            .map(|(c, v)| vec![(*c, *v)])
            .collect();
        marks.extend(group(i, n, &bars, f64::INFINITY, plot_px));
        let (centres, _) = slot_bars(i, n, bars.len(), plot_px);
        for ((_, x), v) in centres.into_iter().zip(&values) {
            let mut label = Label::above(signed_points(*v), x, *v);
            if *v < 0.0 {
                label = label.spots(vec![(0.0, 18.0, Align::Centre)]);
            }
            marks.push(Mark::Label(label));
        }
        extents.extend(values);
    }
    let lo = extents.iter().copied().fold(0.0, f64::min);
    let hi = extents.iter().copied().fold(0.0, f64::max);
    // Room for the labels beyond the bars' ends (over zero for a bar of zero); ±1 pp when
    // nothing changed.
    let above = extents[1..].iter().any(|v| *v > -0.05);
    let (lo, hi) = match hi - lo < 0.05 {
        true => (-1.0, 1.0),
        false => (
            lo - (hi - lo) * 0.12 * f64::from(lo < 0.0),
            hi + (hi - lo) * 0.12 * f64::from(above),
        ),
    };
    let title = "change of demand served, percentage points";
    let y = Axis::value(lo, hi, Unit::Points).titled(title);
    let x = Category::slots(later.iter().map(|s| (s.clone(), false)));
    let served = Panel::new(Axis::category(x), y, marks);

    let entry = |(name, colour): (&str, Rgba)| Entry::new(name, Swatch::Fill(colour));
    let mut legend: Vec<Entry> = PARTS.into_iter().zip(COMPONENTS).map(entry).collect();
    legend.push(Entry::new("net change of spend", Swatch::Dot(INK)));
    let served_names = SERVED_PARTS.iter().map(|p| p.1);
    legend.extend(served_names.zip(SERVED_COLOURS).map(entry));
    let subtitle = vec![
        baseline_note(c, "vs", ""),
        "spend: commit + usage + route, what is paid".to_string(),
    ];
    let title = "Change of spend and of demand served".to_string();
    let mut fig = Figure::new(title, subtitle, legend, vec![spend, served]);
    fig.columns = 2;
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

    #[test]
    fn nested_lines_stay_apart() {
        assert_eq!(nested_widths(2), vec![7.0, 3.0]);
        assert_eq!(nested_widths(3), vec![11.0, 7.0, 3.0]);
        let seven = nested_widths(7);
        assert_eq!(seven[6], 3.0);
        assert!(seven.windows(2).all(|w| w[0] - w[1] >= 2.0), "{seven:?}");
    }
}
