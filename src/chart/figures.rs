//! Chart stage: what each chart shows — the report series turned into figures (layers, legend,
//! titles). Drawing is left to `figure`.

use super::data::{self, Bin, Binned, Grain, Series};
use super::figure::{Figure, Layer, LegendEntry, Panel, Swatch};
use super::palette::{self, provider_colour, Rgba};
use super::ticks::{self, Unit};
use crate::report::tables::RunInfo;

/// Up to this many periods are drawn as they are; more are grouped into days, weeks or months.
pub(crate) const KEEP_PERIODS_UP_TO: usize = 400;
/// Grouping aims at no more bins than this, so a year of hours becomes 53 weeks.
pub(crate) const MAX_BINS: usize = 120;
/// Cost bars: at most this many, so each bar is wide enough to read (and to carry its total).
const MAX_COST_BARS: usize = 40;

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

fn with_note(policy: &str, notes: &[Option<String>]) -> String {
    let mut parts: Vec<String> = Vec::new();
    if !policy.trim().is_empty() {
        parts.push(policy.trim().to_string());
    }
    parts.extend(notes.iter().flatten().cloned());
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

/// Provider stack layers and their legend entries (top of the stack first, as the eye reads it).
fn provider_stack(
    series: &Series,
    per_provider: impl Fn(usize) -> Vec<f64>,
) -> (Vec<(Rgba, Vec<f64>)>, Vec<LegendEntry>) {
    let mut layers = Vec::new();
    let mut legend = Vec::new();
    for (p, name) in series.providers.iter().enumerate() {
        let values = per_provider(p);
        if values.iter().any(|v| *v > 0.0) {
            layers.push((provider_colour(name), values));
            legend.push(provider_entry(name));
        }
    }
    legend.reverse();
    (layers, legend)
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

fn unserved_layer(lower: &[f64], upper: &[f64]) -> Option<Layer> {
    // Tolerance: LP solutions carry rounding noise that is not unserved demand.
    let any = lower
        .iter()
        .zip(upper)
        .any(|(l, u)| u - l > 1e-6 * u.abs().max(1.0));
    any.then(|| Layer::Band {
        fill: palette::UNSERVED.alpha(0.18),
        hatch: Some(palette::UNSERVED),
        lower: lower.to_vec(),
        upper: upper
            .iter()
            .zip(lower)
            .map(|(u, l)| {
                if u - l > 1e-6 * u.abs().max(1.0) {
                    *u
                } else {
                    *l
                }
            })
            .collect(),
    })
}

fn unserved_entry() -> LegendEntry {
    LegendEntry {
        label: "unserved".into(),
        swatch: Swatch::Hatch(palette::UNSERVED),
        droppable: false,
    }
}

pub(crate) fn capacity_vs_demand(info: &RunInfo, series: &Series) -> Figure {
    let display = Display::new(series, KEEP_PERIODS_UP_TO, MAX_BINS);
    let b = display.binned(series);
    let (mut stack, provider_legend) = provider_stack(series, |p| b.mean(&series.reserved_tpm[p]));
    let spare_per_period: Vec<f64> = (0..series.periods.len())
        .map(|t| {
            (0..series.providers.len())
                .map(|p| (series.available_tpm[p][t] - series.reserved_tpm[p][t]).max(0.0))
                .sum()
        })
        .collect();
    let spare = b.mean(&spare_per_period);
    let has_spare = spare.iter().any(|v| *v > 0.0);
    stack.push((palette::SPARE, spare));

    let demand = b.mean(&series.demand_tpm);
    let served = b.mean(&series.served_total_tpm);
    let mut layers = vec![Layer::Stack(stack)];
    let unserved = unserved_layer(&served, &demand);
    let mut legend = vec![demand_entry("demand")];
    legend.extend(peak_entry(&display));
    if unserved.is_some() {
        legend.push(unserved_entry());
    }
    if has_spare {
        legend.push(fill_entry("available, not reserved", palette::SPARE));
    }
    legend.extend(provider_legend);
    layers.extend(peak_layers(&display, b.max(&series.demand_tpm)));
    layers.extend(unserved);
    layers.push(Layer::Line {
        colour: palette::INK,
        width: DEMAND_WIDTH,
        dashed: false,
        values: demand,
    });

    Figure {
        title: format!("{}: reserved capacity vs demand", info.scenario),
        subtitle: with_note(&info.policy, &[display.rate_note()]),
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

pub(crate) fn allocation_by_provider(info: &RunInfo, series: &Series) -> Figure {
    let display = Display::new(series, KEEP_PERIODS_UP_TO, MAX_BINS);
    let b = display.binned(series);
    let (stack, provider_legend) = provider_stack(series, |p| b.mean(&series.served_tpm[p]));
    let demand = b.mean(&series.demand_tpm);
    let mut layers = vec![Layer::Stack(stack)];
    layers.extend(peak_layers(&display, b.max(&series.demand_tpm)));
    let mut legend = vec![demand_entry("demand")];
    legend.extend(peak_entry(&display));
    layers.push(Layer::Line {
        colour: palette::INK,
        width: DEMAND_WIDTH,
        dashed: false,
        values: demand.clone(),
    });
    if let Some(share) = info.max_provider_share {
        let cap = demand.iter().map(|d| d * share).collect();
        layers.push(Layer::Line {
            colour: palette::INK,
            width: 2.5,
            dashed: true,
            values: cap,
        });
        legend.push(LegendEntry {
            label: format!("{} share cap", percent(share)),
            swatch: Swatch::Line {
                colour: palette::INK,
                width: 2.5,
                dashed: true,
            },
            droppable: false,
        });
    }
    legend.extend(provider_legend);
    Figure {
        title: format!("{}: served tokens by provider", info.scenario),
        subtitle: with_note(&info.policy, &[display.rate_note()]),
        legend,
        bins: display.extents(),
        unit: Unit::TokensPerMinute,
        panels: vec![Panel {
            title: None,
            layers,
        }],
    }
}

pub(crate) fn cost_by_provider(info: &RunInfo, series: &Series) -> Figure {
    let display = Display::new(series, MAX_COST_BARS, MAX_COST_BARS);
    let b = display.binned(series);
    let (stack, legend) = provider_stack(series, |p| b.sum(&series.cost_usd[p]));
    let mut notes = vec![Some(format!("total {}", ticks::dollars(info.cost)))];
    if info.served_tokens > 0.0 {
        let per_million = info.cost / (info.served_tokens / crate::units::TOKENS_PER_MILLION);
        notes.push(Some(format!(
            "{} per million tokens",
            per_million_label(per_million)
        )));
    }
    if display.aggregated() {
        notes.push(Some(format!("{} totals", display.grain.adjective())));
    }
    Figure {
        title: format!("{}: cost by provider", info.scenario),
        subtitle: with_note(&info.policy, &notes),
        legend,
        bins: display.extents(),
        unit: Unit::Dollars,
        panels: vec![Panel {
            title: None,
            layers: vec![Layer::Bars {
                series: stack,
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

pub(crate) fn regions(info: &RunInfo, series: &Series) -> Figure {
    let display = Display::new(series, KEEP_PERIODS_UP_TO, MAX_BINS);
    let b = display.binned(series);
    let mut legend_providers: Vec<usize> = Vec::new();
    let mut any_unserved = false;
    let mut panels = Vec::new();
    for (r, region) in series.regions.iter().enumerate() {
        let mut stack = Vec::new();
        for (p, name) in series.providers.iter().enumerate() {
            let values = b.mean(&series.region_served_tpm[r][p]);
            if values.iter().any(|v| *v > 0.0) {
                stack.push((provider_colour(name), values));
                if !legend_providers.contains(&p) {
                    legend_providers.push(p);
                }
            }
        }
        let served_per_period: Vec<f64> = (0..series.periods.len())
            .map(|t| series.region_served_tpm[r].iter().map(|p| p[t]).sum())
            .collect();
        let demand = b.mean(&series.region_demand_tpm[r]);
        let mut layers = vec![Layer::Stack(stack)];
        layers.extend(peak_layers(&display, b.max(&series.region_demand_tpm[r])));
        if let Some(u) = unserved_layer(&b.mean(&served_per_period), &demand) {
            any_unserved = true;
            layers.push(u);
        }
        layers.push(Layer::Line {
            colour: palette::INK,
            width: DEMAND_WIDTH * 0.75,
            dashed: false,
            values: demand,
        });
        panels.push(Panel {
            title: Some(region.clone()),
            layers,
        });
    }
    legend_providers.sort();
    let mut legend = vec![demand_entry("demand")];
    legend.extend(peak_entry(&display));
    if any_unserved {
        legend.push(unserved_entry());
    }
    legend.extend(
        legend_providers
            .iter()
            .rev()
            .map(|p| provider_entry(&series.providers[*p])),
    );
    Figure {
        title: format!("{}: served tokens by demand region", info.scenario),
        subtitle: with_note(&info.policy, &[display.rate_note()]),
        legend,
        bins: display.extents(),
        unit: Unit::TokensPerMinute,
        panels,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_labels() {
        assert_eq!(percent(0.35), "35%");
        assert_eq!(percent(1.0 / 3.0), "33.3%");
        assert_eq!(per_million_label(0.4234), "$0.42");
    }
}
