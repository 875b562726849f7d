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

use super::bars::{Bar, BarFigure, Group};
use super::data::{self, Binned, Grain, Series};
use super::figure::{Figure, Layer, LegendEntry, Panel, StepLine, Swatch};
use super::figures::{KEEP_PERIODS_UP_TO, MAX_BINS};
use super::palette::{self, provider_colour, provider_order, scenario_colour};
use super::ticks::{self, Unit};
use super::{ChartOptions, Drawing, RenderedChart};
use crate::compare::{Column, Comparison};
use crate::error::Result;

/// The stems of the compare charts (each written as `.png` and `.svg`).
pub const COMPARE_CHART_STEMS: [&str; 3] = [
    "compare_capacity",
    "compare_cost_by_provider",
    "compare_cost_delta",
];

const DEMAND_WIDTH: f64 = 4.0;
const RESERVED_WIDTH: f64 = 3.5;
/// The line-style key of the capacity chart: a neutral grey that is no scenario's colour.
const KEY_COLOUR: palette::Rgba = palette::AXIS;

/// Draws every compare chart, in memory.
pub fn render_all(
    comparison: &Comparison,
    columns: &[Column],
    opts: &ChartOptions,
) -> Result<Vec<RenderedChart>> {
    let series = columns
        .iter()
        .map(|c| Series::from_tables(&c.tables))
        .collect::<Result<Vec<Series>>>()?;
    let drawings = vec![
        (
            COMPARE_CHART_STEMS[0],
            Drawing::Time(capacity(comparison, &series)),
        ),
        (
            COMPARE_CHART_STEMS[1],
            Drawing::Bars(cost_by_provider(comparison)),
        ),
        (
            COMPARE_CHART_STEMS[2],
            Drawing::Bars(cost_delta(comparison)),
        ),
    ];
    super::render(drawings, opts)
}

/// "baseline frontier-2026", and the held plan when there is one.
fn baseline_note(comparison: &Comparison, lead: &str, after: &str) -> String {
    let mut s = format!("{lead} {}{after}", comparison.baseline);
    if comparison.hold_reservations && comparison.scenarios.len() > 1 {
        s.push_str(&format!(
            "  ·  held to {}'s reservations",
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

fn grain_rank(g: Grain) -> u8 {
    match g {
        Grain::Period => 0,
        Grain::Day => 1,
        Grain::Week => 2,
        Grain::Month => 3,
    }
}

fn capacity(comparison: &Comparison, series: &[Series]) -> Figure {
    // One grain for every scenario: grouping never splits a period, so coarse grids stay as they are.
    let grain = series
        .iter()
        .map(|s| data::choose_grain(&s.periods, KEEP_PERIODS_UP_TO, MAX_BINS))
        .max_by_key(|g| grain_rank(*g))
        .unwrap_or(Grain::Period);
    let mut lines = Vec::new();
    let mut legend = vec![
        LegendEntry {
            label: "demand".into(),
            swatch: Swatch::Line {
                colour: KEY_COLOUR,
                width: DEMAND_WIDTH,
                dashed: false,
            },
            droppable: false,
        },
        LegendEntry {
            label: "reserved capacity".into(),
            swatch: Swatch::Line {
                colour: KEY_COLOUR,
                width: RESERVED_WIDTH,
                dashed: true,
            },
            droppable: false,
        },
    ];
    let (mut start, mut end) = (f64::INFINITY, f64::NEG_INFINITY);
    for (i, s) in series.iter().enumerate() {
        let bins = data::bins(&s.periods, grain);
        let b = Binned {
            periods: &s.periods,
            bins: &bins,
        };
        let reserved: Vec<f64> = (0..s.periods.len())
            .map(|t| s.reserved_tpm.iter().map(|p| p[t]).sum())
            .collect();
        let extents: Vec<(f64, f64)> = bins.iter().map(|b| (b.start_s, b.end_s)).collect();
        if let (Some(first), Some(last)) = (extents.first(), extents.last()) {
            start = start.min(first.0);
            end = end.max(last.1);
        }
        let colour = scenario_colour(i);
        lines.push(StepLine {
            colour,
            width: DEMAND_WIDTH,
            dashed: false,
            bins: extents.clone(),
            values: b.mean(&s.demand_tpm),
        });
        lines.push(StepLine {
            colour,
            width: RESERVED_WIDTH,
            dashed: true,
            bins: extents,
            values: b.mean(&reserved),
        });
        legend.push(LegendEntry {
            label: scenario_label(comparison, i),
            swatch: Swatch::Fill(colour),
            droppable: false,
        });
    }
    let mut notes = vec![baseline_note(comparison, "baseline", "")];
    if grain != Grain::Period {
        notes.push(format!("{} means", grain.adjective()));
    }
    if lines_meet(&lines) {
        notes.push("lines that meet take turns".into());
    }
    Figure {
        title: "Demand and reserved capacity by scenario".into(),
        subtitle: notes.join("  ·  "),
        legend,
        bins: vec![(start.min(end), end.max(start))],
        unit: Unit::TokensPerMinute,
        panels: vec![Panel {
            title: None,
            layers: vec![Layer::Steps(lines)],
        }],
    }
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

fn cost_by_provider(comparison: &Comparison) -> BarFigure {
    let mut providers: Vec<&String> = comparison.providers.iter().collect();
    providers.sort_by_key(|p| provider_order(p));
    let mut shown: Vec<&String> = Vec::new();
    let groups = comparison
        .scenarios
        .iter()
        .enumerate()
        .map(|(i, scenario)| {
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
            Group {
                label: scenario.clone(),
                bold: i == 0,
                bars: vec![Bar {
                    name: "cost".into(),
                    segments,
                }],
                top_label: Some(ticks::dollars(value(comparison, scenario, "cost", ""))),
                marker: None,
                notes: Vec::new(),
            }
        })
        .collect();
    shown.sort_by_key(|p| provider_order(p));
    // Top of the stack first, as the eye reads it.
    let legend = shown
        .iter()
        .rev()
        .map(|p| LegendEntry {
            label: p.to_string(),
            swatch: Swatch::Fill(provider_colour(p)),
            droppable: true,
        })
        .collect();
    BarFigure {
        title: "Total cost by provider".into(),
        subtitle: baseline_note(comparison, "baseline", " (bold)"),
        legend,
        axis_label: "cost over the horizon (commit + usage + route), $".into(),
        groups,
        empty_message: String::new(),
    }
}

/// The components of a cost change, their metric names in the comparison and colours.
const COMPONENTS: [(&str, &str); 3] = [
    ("commit", "commit_cost"),
    ("usage", "usage_cost"),
    ("route", "route_cost"),
];

fn cost_delta(comparison: &Comparison) -> BarFigure {
    let groups = comparison
        .scenarios
        .iter()
        .skip(1)
        .map(|scenario| {
            let mut bars: Vec<Bar> = COMPONENTS
                .iter()
                .zip(palette::COMPONENTS)
                .map(|((name, metric), colour)| Bar {
                    name: name.to_string(),
                    segments: vec![(colour, delta(comparison, scenario, metric))],
                })
                .collect();
            let net = delta(comparison, scenario, "objective");
            let penalties = net - delta(comparison, scenario, "cost");
            bars.push(Bar {
                name: "penalties".into(),
                segments: vec![(palette::COMPONENTS[3], penalties)],
            });
            Group {
                label: scenario.clone(),
                bold: false,
                bars,
                top_label: None,
                marker: Some(net),
                notes: vec![format!("net {}", ticks::signed_dollars(net))],
            }
        })
        .collect();
    let mut legend: Vec<LegendEntry> = ["commit", "usage", "route", "penalties"]
        .iter()
        .zip(palette::COMPONENTS)
        .map(|(name, colour)| LegendEntry {
            label: name.to_string(),
            swatch: Swatch::Fill(colour),
            droppable: false,
        })
        .collect();
    legend.push(LegendEntry {
        label: "net (objective)".into(),
        swatch: Swatch::Dot(palette::INK),
        droppable: false,
    });
    BarFigure {
        title: "Change in cost by component".into(),
        subtitle: format!(
            "{}  ·  penalties = objective − cost",
            baseline_note(comparison, "vs", "")
        ),
        legend,
        axis_label: format!("change vs {}, $", comparison.baseline),
        groups,
        empty_message: format!(
            "Only one scenario: there is nothing to compare {} against.",
            comparison.baseline
        ),
    }
}
