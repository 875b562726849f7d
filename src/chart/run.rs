//! Chart stage, `capplan run`: the report series turned into figures — capacity against demand,
//! served tokens by provider, cost by provider, served tokens by demand region, and the
//! commitments to sign. What each chart shows is decided here; drawing is left to `layout`.

use chrono::{DateTime, Datelike, Utc};

use super::data::{self, Bin, Binned, Grain, Series};
use super::figure::{
    step_area, step_line, Axis, Category, Entry, Figure, Label, Mark, Panel, Swatch,
};
use super::layout::{Scale, TICK};
use super::palette::{self, provider_colour, provider_order, Rgba};
use super::svg::Align;
use super::ticks::{self, Unit};
use super::ChartOptions;
use crate::error::Result;
use crate::report::tables::{ChartTables, CommitmentRow, RunInfo};

/// Up to this many periods are drawn as they are; more are grouped into days, weeks or months.
pub(crate) const KEEP_PERIODS_UP_TO: usize = 400;
/// Grouping aims at no more bins than this, so a year of hours becomes 53 weeks.
pub(crate) const MAX_BINS: usize = 120;
/// Cost bars: at most this many (an hourly year is 53 weekly bars), so each bar stays readable.
const MAX_COST_BARS: usize = 60;

const DEMAND_WIDTH: f64 = 4.0;
const PEAK_WIDTH: f64 = 2.0;
const PEAK_COLOUR: Rgba = palette::INK_SOFT;
/// How light the lighter variant of a provider colour is (on-demand use, usage cost).
const LIGHT: f64 = 0.42;

/// Every run chart, by stem: `regions` only with two demand regions or more.
pub(crate) fn figures(
    tables: &ChartTables,
    opts: &ChartOptions,
) -> Result<Vec<(&'static str, Figure)>> {
    let series = Series::from_tables(tables)?;
    let info = &tables.info;
    let mut out = vec![
        ("capacity_vs_demand", capacity_vs_demand(info, &series)),
        (
            "allocation_by_provider",
            allocation_by_provider(info, &series),
        ),
        ("cost_by_provider", cost_by_provider(info, &series)),
    ];
    if series.regions.len() >= 2 {
        out.push(("regions", regions(info, &series)));
    }
    let horizon = (
        series.periods.first().map_or(0.0, |p| p.start_s),
        series.periods.last().map_or(1.0, |p| p.end_s()),
    );
    out.push((
        "commitments",
        commitments(info, &tables.commitments, horizon, opts),
    ));
    Ok(out)
}

/// The bins a figure is drawn on, and how to say the grouping in a subtitle.
struct Display {
    grain: Grain,
    bins: Vec<Bin>,
}

impl Display {
    fn new(series: &Series, keep_up_to: usize, max_bins: usize) -> Display {
        let grain = data::choose_grain(&series.periods, keep_up_to, max_bins);
        Display {
            grain,
            bins: data::bins(&series.periods, grain),
        }
    }
    fn binned<'a>(&'a self, series: &'a Series) -> Binned<'a> {
        Binned {
            periods: &series.periods,
            bins: &self.bins,
        }
    }
    fn extents(&self) -> Vec<(f64, f64)> {
        self.bins.iter().map(|b| (b.start_s, b.end_s)).collect()
    }
    fn aggregated(&self) -> bool {
        self.grain != Grain::Period
    }
    /// "weekly mean; thin line = weekly peak of demand" for rates.
    fn rate_note(&self) -> Option<String> {
        self.aggregated().then(|| {
            format!(
                "{0} mean; thin line = {0} peak of demand",
                self.grain.adjective()
            )
        })
    }
}

/// The subtitle: what the drawing means first, the policy last (a subtitle too long for the
/// image loses its last parts whole, and the policy is the same on every chart).
fn subtitle(policy: &str, notes: Vec<Option<String>>) -> Vec<String> {
    let mut parts: Vec<String> = notes.into_iter().flatten().collect();
    parts.push(policy.trim().to_string());
    parts
}

/// Provider entries may be left out of a crowded legend (the smallest first).
fn provider_entry(provider: &str) -> Entry {
    Entry {
        droppable: true,
        ..Entry::new(provider, Swatch::Fill(provider_colour(provider)))
    }
}

fn line_entry(label: impl Into<String>, colour: Rgba, width: f64) -> Entry {
    Entry::new(
        label,
        Swatch::Line {
            colour,
            width,
            dashed: false,
        },
    )
}

/// Legend entries of the providers drawn, top of the stack first (as the eye reads it).
fn provider_legend(series: &Series, drawn: &[usize]) -> Vec<Entry> {
    let mut drawn = drawn.to_vec();
    drawn.sort_unstable();
    drawn.dedup();
    drawn
        .iter()
        .rev()
        .map(|p| provider_entry(&series.providers[*p]))
        .collect()
}

/// A part of a stack: name, fill, stripes, one value per bin.
type Part = (String, Rgba, Option<Rgba>, Vec<f64>);

/// Provider parts with any value, in stack order; `light`: the lighter, striped variant.
fn provider_parts(
    series: &Series,
    per_provider: impl Fn(usize) -> Vec<f64>,
    light: bool,
    drawn: &mut Vec<usize>,
) -> Vec<Part> {
    let mut parts = Vec::new();
    for (p, name) in series.providers.iter().enumerate() {
        let values = per_provider(p);
        if values.iter().any(|v| *v > 0.0) {
            let c = provider_colour(name);
            let (fill, hatch) = if light {
                (c.tint(LIGHT), Some(c))
            } else {
                (c, None)
            };
            parts.push((name.clone(), fill, hatch, values));
            drawn.push(p);
        }
    }
    parts
}

/// Step areas stacked from zero, first part at the bottom.
fn stack(bins: &[(f64, f64)], parts: Vec<Part>) -> Vec<Mark> {
    let mut base = vec![0.0; bins.len()];
    parts
        .into_iter()
        .map(|(name, fill, hatch, values)| {
            let upper: Vec<f64> = base
                .iter()
                .zip(&values)
                .map(|(b, v)| b + v.max(0.0))
                .collect();
            let mark = step_area(&name, fill, hatch, bins, &base, &upper);
            base = upper;
            mark
        })
        .collect()
}

/// The largest value any mark reaches.
fn top_of(marks: &[Mark]) -> f64 {
    let max = |v: &mut dyn Iterator<Item = f64>| v.fold(0.0, f64::max);
    marks
        .iter()
        .map(|m| match m {
            Mark::Area { upper, .. } => max(&mut upper.iter().copied()),
            Mark::Line { points, .. } => max(&mut points.iter().map(|p| p.1)),
            Mark::Rect { y1, .. } => *y1,
            Mark::Dot { y, .. } => *y,
            _ => 0.0,
        })
        .fold(0.0, f64::max)
}

/// A panel over time with a value axis from zero to the marks' top (or `top`).
fn time_panel(
    title: Option<String>,
    bins: &[(f64, f64)],
    unit: Unit,
    marks: Vec<Mark>,
    top: Option<f64>,
    bars: bool,
) -> Panel {
    let shortest = bins.iter().map(|b| b.1 - b.0).fold(f64::MAX, f64::min);
    Panel {
        title,
        x: Axis::Time {
            lo: bins.first().map_or(0.0, |b| b.0),
            hi: bins.last().map_or(1.0, |b| b.1),
            min_step_s: if bars { shortest } else { 0.0 },
            grid: !bars,
        },
        y: Axis::Value {
            lo: 0.0,
            hi: top.unwrap_or_else(|| top_of(&marks)),
            unit,
            title: None,
            round_out: true,
        },
        marks,
    }
}

/// The peak of demand within each bin, drawn only when periods are grouped: a thin line rather
/// than a band, so it cannot be mistaken for the grey of spare capacity.
fn peak(display: &Display, values: &[f64], marks: &mut Vec<Mark>, legend: &mut Vec<Entry>) {
    if display.aggregated() {
        let bins = display.extents();
        marks.push(step_line(
            "demand peak",
            PEAK_COLOUR,
            PEAK_WIDTH,
            false,
            &bins,
            values,
        ));
        if !legend.iter().any(|e| {
            e.swatch
                == Swatch::Line {
                    colour: PEAK_COLOUR,
                    width: PEAK_WIDTH,
                    dashed: false,
                }
        }) {
            let label = format!("demand, {} peak", display.grain.adjective());
            legend.push(line_entry(label, PEAK_COLOUR, PEAK_WIDTH));
        }
    }
}

/// LP solutions carry rounding noise that is not unserved demand.
fn is_unserved(served: f64, demand: f64) -> bool {
    demand - served > 1e-6 * demand.abs().max(1.0)
}

/// Unserved demand as a red striped band from served up to demand, only in bins where some
/// demand is unserved (elsewhere the band is closed and draws nothing).
fn unserved(bins: &[(f64, f64)], served: &[f64], demand: &[f64]) -> Option<Mark> {
    let upper: Vec<f64> = demand
        .iter()
        .zip(served)
        .map(|(d, s)| if is_unserved(*s, *d) { *d } else { *s })
        .collect();
    let any = served.iter().zip(demand).any(|(s, d)| is_unserved(*s, *d));
    any.then(|| {
        step_area(
            "unserved",
            palette::UNSERVED.alpha(0.18),
            Some(palette::UNSERVED),
            bins,
            served,
            &upper,
        )
    })
}

fn unserved_entry() -> Entry {
    Entry::new("unserved", Swatch::Hatch(palette::UNSERVED))
}

/// When unserved demand is drawn but thinner than a hair at this scale (a few hours of a week),
/// the subtitle gives the amount, so the legend entry does not point at nothing.
fn thin_unserved_note(series: &Series, served: &[f64], demand: &[f64]) -> Option<String> {
    let gap = served
        .iter()
        .zip(demand)
        .filter(|(s, d)| is_unserved(**s, **d))
        .map(|(s, d)| d - s)
        .fold(0.0, f64::max);
    let top = demand.iter().copied().fold(0.0, f64::max);
    if gap <= 0.0 || gap > 0.004 * top {
        return None;
    }
    let tokens: f64 = series
        .periods
        .iter()
        .enumerate()
        .map(|(t, p)| (series.demand_tpm[t] - series.served_total_tpm[t]).max(0.0) * p.minutes)
        .sum();
    Some(format!(
        "{} tokens unserved, too few to show at this scale",
        crate::units::human(tokens)
    ))
}

/// Reserved capacity by provider (solid), on-demand use by provider (striped) on top, so the
/// stack meets the demand line wherever the plan serves demand; capacity left unused in grey,
/// unserved demand in red only where there is some.
pub(crate) fn capacity_vs_demand(info: &RunInfo, series: &Series) -> Figure {
    let display = Display::new(series, KEEP_PERIODS_UP_TO, MAX_BINS);
    let b = display.binned(series);
    let bins = display.extents();
    let mut drawn = Vec::new();
    let mut parts = provider_parts(
        series,
        |p| b.mean(&series.reserved_tpm[p]),
        false,
        &mut drawn,
    );
    let on_demand = provider_parts(
        series,
        |p| b.mean(&series.on_demand_tpm[p]),
        true,
        &mut drawn,
    );
    let has_on_demand = !on_demand.is_empty();
    parts.extend(on_demand);
    let spare_per_period: Vec<f64> = (0..series.periods.len())
        .map(|t| {
            (0..series.providers.len())
                .map(|p| {
                    (series.available_tpm[p][t]
                        - series.reserved_tpm[p][t]
                        - series.on_demand_tpm[p][t])
                        .max(0.0)
                })
                .sum()
        })
        .collect();
    let spare = b.mean(&spare_per_period);
    let has_spare = spare.iter().any(|v| *v > 0.0);
    if has_spare {
        parts.push(("available, unused".into(), palette::SPARE, None, spare));
    }
    let demand = b.mean(&series.demand_tpm);
    let served = b.mean(&series.served_total_tpm);
    let mut marks = stack(&bins, parts);
    let mut legend = vec![line_entry("demand", palette::INK, DEMAND_WIDTH)];
    peak(
        &display,
        &b.max(&series.demand_tpm),
        &mut marks,
        &mut legend,
    );
    let gap = unserved(&bins, &served, &demand);
    if gap.is_some() {
        legend.push(unserved_entry());
    }
    marks.extend(gap);
    marks.push(step_line(
        "demand",
        palette::INK,
        DEMAND_WIDTH,
        false,
        &bins,
        &demand,
    ));
    if has_spare {
        legend.push(Entry::new(
            "available, unused",
            Swatch::Fill(palette::SPARE),
        ));
    }
    if has_on_demand {
        legend.push(Entry::new(
            "on-demand use (striped)",
            Swatch::Hatch(palette::INK_SOFT),
        ));
    }
    legend.extend(provider_legend(series, &drawn));
    let style = if has_on_demand {
        "solid = reserved, striped = on-demand use"
    } else {
        "reserved capacity by provider"
    };
    let notes = vec![
        Some(style.to_string()),
        thin_unserved_note(series, &served, &demand),
        display.rate_note(),
    ];
    Figure::new(
        format!("{}: capacity vs demand", info.scenario),
        subtitle(&info.policy, notes),
        legend,
        time_panel(None, &bins, Unit::TokensPerMinute, marks, None, false),
    )
}

/// "35%", or "33.3%" when the cap is not a whole percent.
fn percent(fraction: f64) -> String {
    let pct = fraction * 100.0;
    if (pct - pct.round()).abs() < 0.05 {
        format!("{:.0}%", pct)
    } else {
        format!("{:.1}%", pct)
    }
}

/// A provider within this fraction of the cap counts as at the cap.
const AT_CAP: f64 = 0.005;

/// Served tokens by provider. The share cap is a limit on each provider's band, not a level of
/// the stack, so it is said in the subtitle ("no provider above 35% of demand") and a dot marks
/// each band where a provider is at the cap.
pub(crate) fn allocation_by_provider(info: &RunInfo, series: &Series) -> Figure {
    let display = Display::new(series, KEEP_PERIODS_UP_TO, MAX_BINS);
    let b = display.binned(series);
    let bins = display.extents();
    let mut drawn = Vec::new();
    let parts = provider_parts(series, |p| b.mean(&series.served_tpm[p]), false, &mut drawn);
    let demand = b.mean(&series.demand_tpm);
    let mut dots = Vec::new();
    let mut notes = Vec::new();
    if let Some(share) = info.max_provider_share {
        // Bands where the provider serves its cap (bin means, as drawn).
        let mut base = vec![0.0; demand.len()];
        for (_, _, _, values) in &parts {
            for (i, v) in values.iter().enumerate() {
                if demand[i] > 0.0 && *v >= share * demand[i] * (1.0 - AT_CAP) {
                    let x = (bins[i].0 + bins[i].1) / 2.0;
                    dots.push(Mark::Dot {
                        x,
                        y: base[i] + v / 2.0,
                        radius: 7.0,
                        colour: palette::INK,
                        arrow: None,
                    });
                }
                base[i] += v;
            }
        }
        // The cap, checked period by period.
        let worst = (0..series.providers.len())
            .flat_map(|p| (0..series.periods.len()).map(move |t| (p, t)))
            .filter(|(_, t)| series.demand_tpm[*t] > 0.0)
            .map(|(p, t)| (p, series.served_tpm[p][t] / series.demand_tpm[t]))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        notes.push(Some(match worst {
            Some((p, top)) if top > share * (1.0 + AT_CAP) => format!(
                "{} serves {} of demand, above the {} cap",
                series.providers[p],
                percent(top),
                percent(share)
            ),
            _ => format!("no provider above {} of demand", percent(share)),
        }));
    }
    let mut marks = stack(&bins, parts);
    let mut legend = vec![line_entry("demand", palette::INK, DEMAND_WIDTH)];
    peak(
        &display,
        &b.max(&series.demand_tpm),
        &mut marks,
        &mut legend,
    );
    marks.push(step_line(
        "demand",
        palette::INK,
        DEMAND_WIDTH,
        false,
        &bins,
        &demand,
    ));
    if let (false, Some(share)) = (dots.is_empty(), info.max_provider_share) {
        legend.push(Entry::new(
            format!("at the {} cap", percent(share)),
            Swatch::Dot(palette::INK),
        ));
    }
    marks.extend(dots);
    legend.extend(provider_legend(series, &drawn));
    notes.push(display.rate_note());
    Figure::new(
        format!("{}: served tokens by provider", info.scenario),
        subtitle(&info.policy, notes),
        legend,
        time_panel(None, &bins, Unit::TokensPerMinute, marks, None, false),
    )
}

const DAY_MIN: f64 = 1440.0;

/// What one cost bar sums over ("calendar month", "week"), and a note when bars differ in
/// length (a 28-day February is a shorter bar, not a cheaper month).
fn cost_bucket(display: &Display, series: &Series) -> (String, Option<String>) {
    let lengths: Vec<f64> = display
        .bins
        .iter()
        .map(|b| {
            series.periods[b.periods.clone()]
                .iter()
                .map(|p| p.minutes)
                .sum()
        })
        .collect();
    let (short, long) = lengths
        .iter()
        .fold((f64::MAX, 0.0f64), |(lo, hi), l| (lo.min(*l), hi.max(*l)));
    let uneven = long - short > 1.0;
    let calendar_months = display.bins.iter().zip(&lengths).all(|(b, l)| {
        let start = &series.periods[b.periods.start].start;
        start.day() == 1
            && start.time() == chrono::NaiveTime::MIN
            && (28.0 * DAY_MIN..=31.0 * DAY_MIN).contains(l)
    });
    let days = |m: f64| m / DAY_MIN;
    let bucket = match display.grain {
        Grain::Month => "calendar month".to_string(),
        _ if calendar_months => "calendar month".to_string(),
        Grain::Week => "week".to_string(),
        Grain::Day => "day".to_string(),
        Grain::Period if !uneven && (long - 60.0).abs() < 0.5 => "hour".to_string(),
        Grain::Period if !uneven && (long - DAY_MIN).abs() < 0.5 => "day".to_string(),
        Grain::Period if !uneven && (long - 7.0 * DAY_MIN).abs() < 0.5 => "week".to_string(),
        Grain::Period => "period".to_string(),
    };
    let note = if !uneven {
        None
    } else if bucket == "calendar month" {
        Some(format!(
            "bars per calendar month ({:.0}–{:.0} days)",
            days(short).floor(),
            days(long).ceil()
        ))
    } else if bucket == "week" {
        Some("weeks from Monday; partial weeks at the ends are shorter".to_string())
    } else {
        Some("bars per period; periods differ in length".to_string())
    };
    (bucket, note)
}

/// Cost per bar by provider: commitments (solid) at the bottom, usage and route (lighter) on
/// top, in the one provider order. Totals above the bars where they fit: the largest, the first
/// and the last first.
pub(crate) fn cost_by_provider(info: &RunInfo, series: &Series) -> Figure {
    let display = Display::new(series, MAX_COST_BARS, MAX_COST_BARS);
    let b = display.binned(series);
    let bins = display.extents();
    // Each provider's commitment (solid) with its usage + route (lighter) right above it, so the
    // light part always sits on its own colour.
    let mut drawn = Vec::new();
    let mut bars: Vec<(Rgba, Vec<f64>)> = Vec::new();
    let (mut any_commit, mut any_usage) = (false, false);
    let has = |v: &[f64]| v.iter().any(|x| *x > 0.0);
    for (p, name) in series.providers.iter().enumerate() {
        let colour = provider_colour(name);
        let (commit, usage) = (b.sum(&series.commit_usd[p]), b.sum(&series.usage_usd[p]));
        if has(&commit) || has(&usage) {
            drawn.push(p);
        }
        if has(&commit) {
            any_commit = true;
            bars.push((colour, commit));
        }
        if has(&usage) {
            any_usage = true;
            bars.push((colour.tint(LIGHT), usage));
        }
    }
    let mut marks = Vec::new();
    let mut totals = vec![0.0; bins.len()];
    for (i, (x0, x1)) in bins.iter().enumerate() {
        let pad = (x1 - x0) * 0.14;
        for (fill, values) in &bars {
            let v = values[i].max(0.0);
            if v > 0.0 {
                let (y0, y1) = (totals[i], totals[i] + v);
                marks.push(Mark::Rect {
                    x0: x0 + pad,
                    x1: x1 - pad,
                    y0,
                    y1,
                    fill: *fill,
                    cut: None,
                });
            }
            totals[i] += v;
        }
    }
    let largest = (0..totals.len()).max_by(|a, b| totals[*a].total_cmp(&totals[*b]).then(b.cmp(a)));
    let mut order: Vec<usize> = largest
        .into_iter()
        .chain([0, totals.len().saturating_sub(1)])
        .collect();
    order.extend(0..totals.len());
    order.dedup();
    let mut labelled = Vec::new();
    for i in order
        .into_iter()
        .filter(|i| *i < totals.len() && totals[*i] > 0.0)
    {
        if !labelled.contains(&i) {
            labelled.push(i);
            let x = (bins[i].0 + bins[i].1) / 2.0;
            let mut l = Label::at(
                ticks::dollars(totals[i]),
                x,
                totals[i],
                TICK * 0.95,
                palette::INK,
            );
            l.spots = vec![(0.0, -18.0, Align::Centre)];
            l.optional = true;
            marks.push(Mark::Label(l));
        }
    }
    let mut legend = Vec::new();
    if any_usage {
        legend.push(Entry::new(
            "usage + route (light)",
            Swatch::Fill(palette::INK_SOFT.tint(LIGHT)),
        ));
    }
    if any_commit {
        legend.push(Entry::new(
            "commitment (solid)",
            Swatch::Fill(palette::INK_SOFT),
        ));
    }
    legend.extend(provider_legend(series, &drawn));
    let (bucket, bucket_note) = cost_bucket(&display, series);
    let total_of = |m: &Vec<Vec<f64>>| m.iter().flatten().sum::<f64>();
    let mut notes = vec![Some(format!(
        "total {} (commitment {}, usage + route {})",
        ticks::dollars(info.cost),
        ticks::dollars(total_of(&series.commit_usd)),
        ticks::dollars(total_of(&series.usage_usd)),
    ))];
    if info.served_tokens > 0.0 {
        let per_million = info.cost / (info.served_tokens / crate::units::TOKENS_PER_MILLION);
        notes.push(Some(format!(
            "{} per million tokens",
            per_million_label(per_million)
        )));
    }
    notes.push(bucket_note);
    // Room above the tallest bar for its total.
    let top = totals.iter().copied().fold(0.0, f64::max) * 1.12;
    Figure::new(
        format!("{}: cost by provider", info.scenario),
        subtitle(&info.policy, notes),
        legend,
        time_panel(
            Some(format!("$ per {bucket}")),
            &bins,
            Unit::Dollars,
            marks,
            Some(top),
            true,
        ),
    )
}

/// Cents matter at this scale: `$0.42`, `$1.35`, `$12.0`.
fn per_million_label(dollars: f64) -> String {
    if dollars >= 1000.0 {
        ticks::dollars(dollars)
    } else if dollars >= 10.0 {
        format!("${dollars:.1}")
    } else if dollars >= 0.01 {
        format!("${dollars:.2}")
    } else {
        format!("${dollars:.4}")
    }
}

/// Served tokens by provider, one panel per demand region, all on one y-scale (so a small
/// region looks small).
pub(crate) fn regions(info: &RunInfo, series: &Series) -> Figure {
    let display = Display::new(series, KEEP_PERIODS_UP_TO, MAX_BINS);
    let b = display.binned(series);
    let bins = display.extents();
    let mut drawn = Vec::new();
    let mut legend = vec![line_entry("demand", palette::INK, DEMAND_WIDTH)];
    let mut any_unserved = false;
    let mut panels = Vec::new();
    for (r, region) in series.regions.iter().enumerate() {
        let parts = provider_parts(
            series,
            |p| b.mean(&series.region_served_tpm[r][p]),
            false,
            &mut drawn,
        );
        let served_per_period: Vec<f64> = (0..series.periods.len())
            .map(|t| series.region_served_tpm[r].iter().map(|p| p[t]).sum())
            .collect();
        let demand = b.mean(&series.region_demand_tpm[r]);
        let mut marks = stack(&bins, parts);
        peak(
            &display,
            &b.max(&series.region_demand_tpm[r]),
            &mut marks,
            &mut legend,
        );
        if let Some(u) = unserved(&bins, &b.mean(&served_per_period), &demand) {
            any_unserved = true;
            marks.push(u);
        }
        marks.push(step_line(
            "demand",
            palette::INK,
            DEMAND_WIDTH * 0.75,
            false,
            &bins,
            &demand,
        ));
        panels.push(time_panel(
            Some(region.clone()),
            &bins,
            Unit::TokensPerMinute,
            marks,
            None,
            false,
        ));
    }
    // One scale: every panel reaches the tallest panel's top.
    let top = panels.iter().map(|p| top_of(&p.marks)).fold(0.0, f64::max);
    for p in &mut panels {
        if let Axis::Value { hi, .. } = &mut p.y {
            *hi = top;
        }
    }
    let thin_note = any_unserved
        .then(|| {
            thin_unserved_note(
                series,
                &b.mean(&series.served_total_tpm),
                &b.mean(&series.demand_tpm),
            )
        })
        .flatten();
    if any_unserved {
        legend.push(unserved_entry());
    }
    legend.extend(provider_legend(series, &drawn));
    let notes = vec![
        Some("one y-scale for all regions".into()),
        thin_note,
        display.rate_note(),
    ];
    Figure {
        columns: if panels.len() <= 4 { 1 } else { 2 },
        panels,
        ..Figure::new(
            format!("{}: served tokens by demand region", info.scenario),
            subtitle(&info.policy, notes),
            legend,
            time_panel(None, &bins, Unit::TokensPerMinute, Vec::new(), None, false),
        )
    }
}

/// A commitment worth a row: the plan reserves something and pays for it. (On-demand tranches
/// have no commitment cost; a decided tranche the plan leaves at zero has nothing to sign.)
fn is_signed(row: &CommitmentRow) -> bool {
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

/// The commitments to sign, Gantt-like: one row per reserved tranche (grouped by provider in
/// the one stack order, then by start), a bar in the provider's colour across its reservation
/// window, and the reserved tokens/min and commitment cost in two columns beside it, so no value
/// label ever sits on a bar. Rows that cannot fit the image are left out, and the subtitle says so.
pub(crate) fn commitments(
    info: &RunInfo,
    rows: &[CommitmentRow],
    domain: (f64, f64),
    opts: &ChartOptions,
) -> Figure {
    let mut signed: Vec<&CommitmentRow> = rows.iter().filter(|r| is_signed(r)).collect();
    signed.sort_by_cached_key(|r| {
        (
            provider_order(&r.provider),
            instant(&r.start, domain.0) as i64,
            r.tranche.clone(),
        )
    });
    let total: f64 = signed.iter().map(|r| r.commit_cost).sum();
    let title = format!("{}: commitments to sign", info.scenario);
    if signed.is_empty() {
        return Figure {
            message: Some("nothing to reserve: the plan uses on-demand capacity only".into()),
            ..Figure::new(
                title,
                vec![info.policy.clone()],
                Vec::new(),
                time_panel(None, &[], Unit::Dollars, Vec::new(), None, false),
            )
        };
    }
    let count = signed.len();
    let mut subtitle = vec![
        format!(
            "{count} tranche{} to reserve, {} committed",
            if count == 1 { "" } else { "s" },
            ticks::dollars(total)
        ),
        "bar = reservation window".into(),
        "by provider, then start".into(),
    ];
    let c = Scale::new(opts.width, opts.height);
    let fit = ((c.plot_height() / (c.min_em() * 1.3)).floor() as usize).max(1);
    if fit < count {
        signed.truncate(fit);
        subtitle.insert(1, format!("first {fit} of {count} shown (image too small)"));
    }
    let mut legend: Vec<Entry> = Vec::new();
    let mut marks = Vec::new();
    for (i, r) in signed.iter().enumerate() {
        if !legend.iter().any(|e| e.label == r.provider) {
            legend.push(provider_entry(&r.provider));
        }
        let x0 = instant(&r.start, domain.0).clamp(domain.0, domain.1);
        let x1 = instant(&r.end, domain.1).clamp(x0, domain.1);
        let fill = provider_colour(&r.provider);
        marks.push(Mark::Rect {
            x0,
            x1,
            y0: i as f64 + 0.2,
            y1: i as f64 + 0.8,
            fill,
            cut: None,
        });
    }
    // Reserved tokens per minute to three figures: `954M`, `1.17B`, `200`.
    let tokens = |v: f64| ticks::dollars(v).trim_start_matches('$').to_string();
    let y = Category {
        head: Some("tranche".into()),
        table: vec![
            (
                "reserved, tok/min".into(),
                signed.iter().map(|r| tokens(r.reserved_tpm)).collect(),
            ),
            (
                "commitment".into(),
                signed
                    .iter()
                    .map(|r| ticks::dollars(r.commit_cost))
                    .collect(),
            ),
        ],
        ..Category::slots(signed.iter().map(|r| (r.tranche.clone(), false)))
    };
    let panel = Panel {
        title: None,
        x: Axis::Time {
            lo: domain.0,
            hi: domain.1,
            min_step_s: 0.0,
            grid: true,
        },
        y: Axis::Category(y),
        marks,
    };
    Figure::new(title, subtitle, legend, panel)
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::report::tables::{ProviderPeriodRow, RegionPeriodRow};
    use chrono::TimeZone;

    /// Quickstart's March: reserved capacity short of demand, the rest served on demand.
    fn march() -> ChartTables {
        let period = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let row = |provider: &str, available: f64, reserved: f64, served: f64, od: f64| {
            ProviderPeriodRow {
                period,
                minutes: 44640.0,
                provider: provider.into(),
                available_tpm: available,
                reserved_tpm: reserved,
                served_tpm: served,
                on_demand_tpm: od,
                idle_reserved_tpm: 0.0,
                commit_cost: 1.0,
                usage_cost: 1.0,
                route_cost: 0.0,
            }
        };
        ChartTables {
            provider_periods: vec![
                row("aws", 6e9, 1.5e9, 2e9, 0.5e9),
                row("azure", 5e9, 4e9, 4.5e9, 0.5e9),
                row("onprem", 1e9, 1e9, 1e9, 0.0),
            ],
            region_periods: vec![RegionPeriodRow {
                period,
                minutes: 44640.0,
                region: "us".into(),
                demand_tpm: 7.5e9,
                served_tpm: 7.5e9,
                unserved_tpm: 0.0,
            }],
            ..ChartTables::default()
        }
    }

    fn areas(fig: &Figure) -> Vec<(&str, Rgba, bool, f64)> {
        fig.panels[0]
            .marks
            .iter()
            .filter_map(|m| match m {
                Mark::Area {
                    name,
                    fill,
                    hatch,
                    upper,
                    lower,
                    ..
                } => Some((name.as_str(), *fill, hatch.is_some(), upper[0] - lower[0])),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn reserved_and_on_demand_meet_served_demand() {
        let t = march();
        let series = Series::from_tables(&t).unwrap();
        let fig = capacity_vs_demand(&t.info, &series);
        // Reserved (solid) and on-demand (striped) parts, then the grey of unused capacity.
        let parts = areas(&fig);
        let used: f64 = parts
            .iter()
            .filter(|p| p.1 != palette::SPARE)
            .map(|p| p.3)
            .sum();
        assert!((used - 7.5e9).abs() < 1.0, "{used}");
        assert_eq!(parts.iter().filter(|p| p.2).count(), 2);
        let names: Vec<&str> = parts.iter().map(|p| p.0).collect();
        assert_eq!(
            names,
            [
                "aws",
                "azure",
                "onprem",
                "aws",
                "azure",
                "available, unused"
            ]
        );
        // Spare: available minus reserved minus on-demand use.
        let spare = parts.iter().find(|p| p.1 == palette::SPARE).unwrap();
        assert!((spare.3 - (12e9 - 6.5e9 - 1e9)).abs() < 1.0);
        assert_eq!(
            fig.legend_labels(),
            [
                "demand",
                "available, unused",
                "on-demand use (striped)",
                "onprem",
                "azure",
                "aws"
            ]
        );
    }

    #[test]
    fn cost_bars_carry_their_totals_and_the_subtitle_the_sums() {
        let t = march();
        let series = Series::from_tables(&t).unwrap();
        let fig = cost_by_provider(&t.info, &series);
        assert_eq!(fig.labels(), ["$6"]);
        assert_eq!(fig.panels[0].title.as_deref(), Some("$ per calendar month"));
        assert!(
            fig.subtitle[0].starts_with("total $0 (commitment $3, usage + route $3)"),
            "{:?}",
            fig.subtitle
        );
    }

    #[test]
    fn commitments_that_do_not_fit_are_counted_in_the_subtitle() {
        let row = |i: usize| CommitmentRow {
            tranche: format!("t{i}"),
            provider: "aws".into(),
            region: "us".into(),
            start: String::new(),
            end: String::new(),
            capacity_tpm: 1e9,
            reserved_fraction: 1.0,
            reserved_tpm: 1e9,
            commit_cost: 5.0,
        };
        let rows: Vec<CommitmentRow> = (0..200).map(row).collect();
        let small = ChartOptions {
            width: 800,
            height: 450,
        };
        let fig = commitments(&RunInfo::default(), &rows, (0.0, 1e6), &small);
        assert!(
            fig.subtitle
                .iter()
                .any(|s| s.ends_with("of 200 shown (image too small)")),
            "{:?}",
            fig.subtitle
        );
        let fig = commitments(&RunInfo::default(), &rows[..3], (0.0, 1e6), &small);
        assert_eq!(fig.subtitle[0], "3 tranches to reserve, $15 committed");
        assert_eq!(fig.legend_labels(), ["aws"]);
    }

    #[test]
    fn percent_labels() {
        assert_eq!(percent(0.35), "35%");
        assert_eq!(percent(1.0 / 3.0), "33.3%");
        assert_eq!(per_million_label(0.4234), "$0.42");
    }
}
