//! Chart stage: what each chart shows — the report series turned into figures (layers, legend,
//! titles). Drawing is left to `figure`.

use super::data::{self, Bin, Binned, Grain, Series};
use super::figure::{Figure, Layer, LegendEntry, Panel, StackPart, Swatch};
use super::palette::{self, provider_colour, Rgba};
use super::ticks::{self, Unit};
use crate::report::tables::RunInfo;
use chrono::Datelike;

/// Up to this many periods are drawn as they are; more are grouped into days, weeks or months.
pub(crate) const KEEP_PERIODS_UP_TO: usize = 400;
/// Grouping aims at no more bins than this, so a year of hours becomes 53 weeks.
pub(crate) const MAX_BINS: usize = 120;
/// Cost bars: at most this many (an hourly year is 53 weekly bars), so each bar stays readable.
const MAX_COST_BARS: usize = 60;

const DEMAND_WIDTH: f64 = 4.0;
const PEAK_WIDTH: f64 = 2.0;
const PEAK_COLOUR: Rgba = palette::INK_SOFT;

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
fn with_note(policy: &str, notes: &[Option<String>]) -> String {
    let mut parts: Vec<String> = notes.iter().flatten().cloned().collect();
    if !policy.trim().is_empty() {
        parts.push(policy.trim().to_string());
    }
    parts.join("  ·  ")
}

fn fill_entry(label: &str, colour: Rgba) -> LegendEntry {
    LegendEntry {
        label: label.to_string(),
        swatch: Swatch::Fill(colour),
        droppable: false,
    }
}

/// Provider entries may be left out of a crowded legend (the smallest first).
fn provider_entry(provider: &str) -> LegendEntry {
    LegendEntry {
        droppable: true,
        ..fill_entry(provider, provider_colour(provider))
    }
}

fn demand_entry(label: &str) -> LegendEntry {
    LegendEntry {
        label: label.to_string(),
        swatch: Swatch::Line {
            colour: palette::INK,
            width: DEMAND_WIDTH,
            dashed: false,
        },
        droppable: false,
    }
}

/// How light the lighter variant of a provider colour is (on-demand use, usage cost).
const LIGHT: f64 = 0.42;

/// Solid provider parts (those with any value), in stack order, and the providers drawn.
fn provider_parts(
    series: &Series,
    per_provider: impl Fn(usize) -> Vec<f64>,
    style: impl Fn(Rgba) -> (Rgba, Option<Rgba>),
    drawn: &mut Vec<usize>,
) -> Vec<StackPart> {
    let mut parts = Vec::new();
    for (p, name) in series.providers.iter().enumerate() {
        let values = per_provider(p);
        if values.iter().any(|v| *v > 0.0) {
            let (fill, hatch) = style(provider_colour(name));
            parts.push(StackPart {
                fill,
                hatch,
                values,
            });
            if !drawn.contains(&p) {
                drawn.push(p);
            }
        }
    }
    parts
}

/// Legend entries of the providers drawn, top of the stack first (as the eye reads it).
fn provider_legend(series: &Series, drawn: &[usize]) -> Vec<LegendEntry> {
    let mut drawn = drawn.to_vec();
    drawn.sort_unstable();
    drawn
        .iter()
        .rev()
        .map(|p| provider_entry(&series.providers[*p]))
        .collect()
}

fn solid(c: Rgba) -> (Rgba, Option<Rgba>) {
    (c, None)
}

/// On-demand use: the provider's colour, lighter and striped in the full colour.
fn striped(c: Rgba) -> (Rgba, Option<Rgba>) {
    (c.tint(LIGHT), Some(c))
}

/// The peak of demand within each bin, drawn only when periods are grouped: a thin line rather
/// than a band, so it cannot be mistaken for the grey of spare capacity.
fn peak_layers(display: &Display, peak: Vec<f64>) -> Vec<Layer> {
    if !display.aggregated() {
        return Vec::new();
    }
    vec![Layer::Line {
        colour: PEAK_COLOUR,
        width: PEAK_WIDTH,
        dashed: false,
        values: peak,
    }]
}

fn peak_entry(display: &Display) -> Option<LegendEntry> {
    display.aggregated().then(|| LegendEntry {
        label: format!("demand, {} peak", display.grain.adjective()),
        swatch: Swatch::Line {
            colour: PEAK_COLOUR,
            width: PEAK_WIDTH,
            dashed: false,
        },
        droppable: false,
    })
}

/// LP solutions carry rounding noise that is not unserved demand.
fn is_unserved(served: f64, demand: f64) -> bool {
    demand - served > 1e-6 * demand.abs().max(1.0)
}

/// Unserved demand as a red hatched band from served up to demand, only in bins where some
/// demand is unserved (elsewhere the band is closed and draws nothing).
fn unserved_layer(served: &[f64], demand: &[f64]) -> Option<Layer> {
    let any = served.iter().zip(demand).any(|(s, d)| is_unserved(*s, *d));
    any.then(|| Layer::Band {
        fill: palette::UNSERVED.alpha(0.18),
        hatch: Some(palette::UNSERVED),
        lower: served.to_vec(),
        upper: demand
            .iter()
            .zip(served)
            .map(|(d, s)| if is_unserved(*s, *d) { *d } else { *s })
            .collect(),
    })
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

fn unserved_entry() -> LegendEntry {
    LegendEntry {
        label: "unserved".into(),
        swatch: Swatch::Hatch(palette::UNSERVED),
        droppable: false,
    }
}

fn on_demand_entry() -> LegendEntry {
    LegendEntry {
        label: "on-demand use (striped)".into(),
        swatch: Swatch::Hatch(palette::INK_SOFT),
        droppable: false,
    }
}

fn demand_line(values: Vec<f64>, width: f64) -> Layer {
    Layer::Line {
        colour: palette::INK,
        width,
        dashed: false,
        values,
    }
}

/// Reserved capacity by provider (solid), on-demand use by provider (striped) on top, so the
/// stack meets the demand line wherever the plan serves demand; capacity left unused in grey,
/// unserved demand in red only where there is some.
pub(crate) fn capacity_vs_demand(info: &RunInfo, series: &Series) -> Figure {
    let display = Display::new(series, KEEP_PERIODS_UP_TO, MAX_BINS);
    let b = display.binned(series);
    let mut drawn = Vec::new();
    let mut parts = provider_parts(
        series,
        |p| b.mean(&series.reserved_tpm[p]),
        solid,
        &mut drawn,
    );
    let on_demand = provider_parts(
        series,
        |p| b.mean(&series.on_demand_tpm[p]),
        striped,
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
        parts.push(StackPart::solid(palette::SPARE, spare));
    }

    let demand = b.mean(&series.demand_tpm);
    let served = b.mean(&series.served_total_tpm);
    let mut layers = vec![Layer::Stack(parts)];
    let unserved = unserved_layer(&served, &demand);
    let thin_note = thin_unserved_note(series, &served, &demand);
    let mut legend = vec![demand_entry("demand")];
    legend.extend(peak_entry(&display));
    if unserved.is_some() {
        legend.push(unserved_entry());
    }
    if has_spare {
        legend.push(fill_entry("available, unused", palette::SPARE));
    }
    if has_on_demand {
        legend.push(on_demand_entry());
    }
    legend.extend(provider_legend(series, &drawn));
    layers.extend(peak_layers(&display, b.max(&series.demand_tpm)));
    layers.extend(unserved);
    layers.push(demand_line(demand, DEMAND_WIDTH));

    let style_note = if has_on_demand {
        "solid = reserved, striped = on-demand use"
    } else {
        "reserved capacity by provider"
    };
    Figure {
        title: format!("{}: capacity vs demand", info.scenario),
        subtitle: with_note(
            &info.policy,
            &[Some(style_note.to_string()), thin_note, display.rate_note()],
        ),
        legend,
        bins: display.extents(),
        unit: Unit::TokensPerMinute,
        panels: vec![Panel {
            title: None,
            layers,
        }],
    }
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
    let mut drawn = Vec::new();
    let parts = provider_parts(series, |p| b.mean(&series.served_tpm[p]), solid, &mut drawn);
    let demand = b.mean(&series.demand_tpm);
    let mut markers = Vec::new();
    let mut notes = Vec::new();
    if let Some(share) = info.max_provider_share {
        // Bands where the provider serves its cap (bin means, as drawn).
        let mut base = vec![0.0; demand.len()];
        for part in &parts {
            for (i, v) in part.values.iter().enumerate() {
                if demand[i] > 0.0 && *v >= share * demand[i] * (1.0 - AT_CAP) {
                    markers.push((i, base[i] + v / 2.0));
                }
                base[i] += v;
            }
        }
        // The cap, checked period by period.
        let worst = (0..series.providers.len())
            .flat_map(|p| (0..series.periods.len()).map(move |t| (p, t, series.served_tpm[p][t])))
            .filter(|(_, t, _)| series.demand_tpm[*t] > 0.0)
            .map(|(p, t, v)| (p, v / series.demand_tpm[t]))
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
    let mut layers = vec![Layer::Stack(parts)];
    layers.extend(peak_layers(&display, b.max(&series.demand_tpm)));
    let mut legend = vec![demand_entry("demand")];
    legend.extend(peak_entry(&display));
    layers.push(demand_line(demand, DEMAND_WIDTH));
    if let (false, Some(share)) = (markers.is_empty(), info.max_provider_share) {
        layers.push(Layer::Markers {
            colour: palette::INK,
            points: markers,
        });
        legend.push(LegendEntry {
            label: format!("at the {} cap", percent(share)),
            swatch: Swatch::Dot(palette::INK),
            droppable: false,
        });
    }
    legend.extend(provider_legend(series, &drawn));
    notes.push(display.rate_note());
    Figure {
        title: format!("{}: served tokens by provider", info.scenario),
        subtitle: with_note(&info.policy, &notes),
        legend,
        bins: display.extents(),
        unit: Unit::TokensPerMinute,
        panels: vec![Panel {
            title: None,
            layers,
        }],
    }
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
/// top, in the one provider order. Totals above the bars only where they fit.
pub(crate) fn cost_by_provider(info: &RunInfo, series: &Series) -> Figure {
    let display = Display::new(series, MAX_COST_BARS, MAX_COST_BARS);
    let b = display.binned(series);
    // Each provider's commitment (solid) with its usage + route (lighter) right above it, so the
    // light part always sits on its own colour.
    let mut drawn = Vec::new();
    let mut bars: Vec<(Rgba, Vec<f64>)> = Vec::new();
    let (mut any_commit, mut any_usage) = (false, false);
    for (p, name) in series.providers.iter().enumerate() {
        let colour = provider_colour(name);
        let commit = b.sum(&series.commit_usd[p]);
        let usage = b.sum(&series.usage_usd[p]);
        let has = |v: &[f64]| v.iter().any(|x| *x > 0.0);
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
    let mut legend = Vec::new();
    if any_usage {
        legend.push(fill_entry(
            "usage + route (light)",
            palette::INK_SOFT.tint(LIGHT),
        ));
    }
    if any_commit {
        legend.push(fill_entry("commitment (solid)", palette::INK_SOFT));
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
    Figure {
        title: format!("{}: cost by provider", info.scenario),
        subtitle: with_note(&info.policy, &notes),
        legend,
        bins: display.extents(),
        unit: Unit::Dollars,
        panels: vec![Panel {
            title: Some(format!("$ per {bucket}")),
            layers: vec![Layer::Bars {
                series: bars,
                totals: true,
            }],
        }],
    }
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
    let mut drawn = Vec::new();
    let mut any_unserved = false;
    let mut panels = Vec::new();
    for (r, region) in series.regions.iter().enumerate() {
        let parts = provider_parts(
            series,
            |p| b.mean(&series.region_served_tpm[r][p]),
            solid,
            &mut drawn,
        );
        let served_per_period: Vec<f64> = (0..series.periods.len())
            .map(|t| series.region_served_tpm[r].iter().map(|p| p[t]).sum())
            .collect();
        let demand = b.mean(&series.region_demand_tpm[r]);
        let mut layers = vec![Layer::Stack(parts)];
        layers.extend(peak_layers(&display, b.max(&series.region_demand_tpm[r])));
        if let Some(u) = unserved_layer(&b.mean(&served_per_period), &demand) {
            any_unserved = true;
            layers.push(u);
        }
        layers.push(demand_line(demand, DEMAND_WIDTH * 0.75));
        panels.push(Panel {
            title: Some(region.clone()),
            layers,
        });
    }
    // One scale: every panel reaches the tallest panel's top.
    let top = panels
        .iter()
        .flat_map(|p| p.layers.iter().map(Layer::max_value))
        .fold(0.0, f64::max);
    for panel in &mut panels {
        panel.layers.push(Layer::ScaleTo(top));
    }
    let thin_note = any_unserved
        .then(|| {
            let served = b.mean(&series.served_total_tpm);
            thin_unserved_note(series, &served, &b.mean(&series.demand_tpm))
        })
        .flatten();
    let mut legend = vec![demand_entry("demand")];
    legend.extend(peak_entry(&display));
    if any_unserved {
        legend.push(unserved_entry());
    }
    legend.extend(provider_legend(series, &drawn));
    Figure {
        title: format!("{}: served tokens by demand region", info.scenario),
        subtitle: with_note(
            &info.policy,
            &[
                Some("one y-scale for all regions".into()),
                thin_note,
                display.rate_note(),
            ],
        ),
        legend,
        bins: display.extents(),
        unit: Unit::TokensPerMinute,
        panels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::report::tables::{ChartTables, ProviderPeriodRow, RegionPeriodRow};
    use chrono::{TimeZone, Utc};

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

    #[test]
    fn reserved_and_on_demand_meet_served_demand() {
        let t = march();
        let series = Series::from_tables(&t).unwrap();
        let fig = capacity_vs_demand(&t.info, &series);
        let Layer::Stack(parts) = &fig.panels[0].layers[0] else {
            panic!("the first layer is the stack")
        };
        // Reserved (solid) and on-demand (striped) parts, then the grey of unused capacity.
        let used: f64 = parts
            .iter()
            .filter(|p| p.fill != palette::SPARE)
            .map(|p| p.values[0])
            .sum();
        assert!((used - 7.5e9).abs() < 1.0, "{used}");
        assert_eq!(parts.iter().filter(|p| p.hatch.is_some()).count(), 2);
        // Spare: available minus reserved minus on-demand use.
        let spare = parts.iter().find(|p| p.fill == palette::SPARE).unwrap();
        assert!((spare.values[0] - (12e9 - 6.5e9 - 1e9)).abs() < 1.0);
        assert!(!fig.legend.iter().any(|e| e.label == "unserved"));
        assert!(fig.legend.iter().any(|e| e.label.starts_with("on-demand")));
    }

    #[test]
    fn percent_labels() {
        assert_eq!(percent(0.35), "35%");
        assert_eq!(percent(1.0 / 3.0), "33.3%");
        assert_eq!(per_million_label(0.4234), "$0.42");
    }
}
