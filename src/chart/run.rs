//! Chart stage, `capplan run`: the report series turned into figures — capacity against demand,
//! served tokens by provider, cost by provider, served tokens by demand region, and the
//! commitments to sign. What each chart shows is decided here; drawing is left to `layout`.

use super::figure::Stroke;
use super::figure::Swatch;
use super::figure::{largest, Axis, Category, Dot, Entry, Figure, Kind, Label, Mark, Paint, Panel};
use super::layout::Scale;
use super::palette::{provider_colour, provider_order, Rgba, INK, INK_SOFT, SPARE, UNSERVED};
use super::ticks::Unit;
use super::ChartOptions;
use crate::error::Result;
use crate::report::series::{is_unserved, signed, unserved_top, Binned, Grain, Series, Signed};
use crate::report::tables::{cost_per_million_tokens, ChartTables, CommitmentRow, RunInfo};
use crate::units::{grouped, human, three_figure_dollars, three_figures};

/// Up to this many periods are drawn as they are; more are grouped into days, weeks or months.
pub(crate) const KEEP_PERIODS_UP_TO: usize = 400;
/// Grouping aims at no more bins than this, so a year of hours becomes 53 weeks.
pub(crate) const MAX_BINS: usize = 120;
/// Cost bars: at most this many (an hourly year is 53 weekly bars), so each bar stays readable.
const MAX_COST_BARS: usize = 60;

pub(crate) const DEMAND: Stroke = Stroke::new(INK, 4.0, false);
/// The peak of demand within a bin: a thin line rather than a band, so it cannot be mistaken
/// for the grey of spare capacity.
const PEAK: Stroke = Stroke::new(INK_SOFT, 2.0, false);
/// The load as served with deferral: dashed, so it reads apart from demand as it arrives.
const SERVED_LOAD: Stroke = Stroke::new(INK_SOFT, 2.5, true);
/// How light the lighter variant of a provider colour is (on-demand use, usage cost).
const LIGHT: f64 = 0.42;
/// A provider within this fraction of the cap counts as at the cap.
const AT_CAP: f64 = 0.005;

/// Every run chart, by stem: `regions` only with two demand regions or more.
pub(crate) fn figures(t: &ChartTables, opts: &ChartOptions) -> Result<Vec<(&'static str, Figure)>> {
    let (info, s) = (&t.info, &Series::from_tables(t, provider_order)?);
    let mut out = vec![
        ("capacity_vs_demand", capacity_vs_demand(info, s)),
        ("allocation_by_provider", allocation_by_provider(info, s)),
        ("cost_by_provider", cost_by_provider(info, s)),
    ];
    if s.regions.len() >= 2 {
        out.push(("regions", regions(info, s)));
    }
    let start = s.periods.first().map_or(0.0, |p| p.start_s);
    let end = s.periods.last().map_or(1.0, |p| p.end_s());
    let c = Scale::new(opts.width, opts.height);
    let signed = commitments(info, &t.commitments, (start, end), &c);
    out.push(("commitments", signed));
    Ok(out)
}

/// The subtitle: what the drawing means first, then for rates on grouped bins `b` "weekly mean;
/// thin line = weekly peak of demand", the policy last (a subtitle too long for the image loses
/// its last parts whole, and the policy is the same on every chart).
fn subtitle(info: &RunInfo, b: Option<&Binned>, notes: Vec<Option<String>>) -> Vec<String> {
    let mut parts: Vec<String> = notes.into_iter().flatten().collect();
    let grouped = b.filter(|b| b.grain != Grain::Period);
    if let Some(g) = grouped.map(|b| b.grain.adjective()) {
        parts.push(format!("{g} mean; thin line = {g} peak of demand"));
    }
    parts.push(info.policy.trim().to_string());
    parts
}

/// Legend entries of the providers drawn, top of the stack first (as the eye reads it).
fn provider_legend(s: &Series, drawn: &[String]) -> Vec<Entry> {
    let shown = s.providers.iter().rev().filter(|p| drawn.contains(p));
    shown.map(|p| Entry::provider(p)).collect()
}

/// A part of a stack: name, fill and stripes, one value per bin.
type Part = (String, Paint, Vec<f64>);

/// Provider parts with any value, in stack order; `light`: the lighter, striped variant.
fn provider_parts(s: &Series, values: impl Fn(usize) -> Vec<f64>, light: bool) -> Vec<Part> {
    let part = |(p, name): (usize, &String)| {
        let (values, c) = (values(p), provider_colour(name));
        let fill = if light { c.tint(LIGHT) } else { c };
        let drawn = values.iter().any(|v| *v > 0.0);
        drawn.then(|| (name.clone(), (fill, light.then_some(c)), values))
    };
    s.providers.iter().enumerate().filter_map(part).collect()
}

fn names(parts: &[Part]) -> Vec<String> {
    parts.iter().map(|p| p.0.clone()).collect()
}

/// Demand and what is served of it, per period (`None`: unserved demand is not drawn).
type Demand<'a> = (&'a [f64], Option<&'a [f64]>);

/// Parts stacked from zero, the peak of demand when bins group periods, unserved demand (a red
/// striped band from served up to demand, in bins where some is unserved), and the demand line
/// on top. The second value says whether a band of unserved demand is drawn.
fn over_demand(b: &Binned, parts: Vec<Part>, d: Demand, line: Stroke) -> (Vec<Mark>, bool) {
    let ((demand, served), spans) = (d, &b.spans);
    let (mut base, mut marks) = (vec![0.0; spans.len()], Vec::new());
    for (name, paint, values) in parts {
        let stacked = base.iter().zip(&values).map(|(b, v)| b + v.max(0.0));
        let upper: Vec<f64> = stacked.collect();
        marks.push(Mark::band(&name, paint, spans, &base, &upper));
        base = upper;
    }
    if b.grain != Grain::Period {
        marks.push(Mark::steps(PEAK, spans, &b.max(demand)));
    }
    let demand = b.mean(demand);
    let served = served.map(|s| b.mean(s)).unwrap_or_default();
    let gap = unserved_top(&served, &demand);
    if let Some(upper) = &gap {
        let paint = (UNSERVED.alpha(0.18), Some(UNSERVED));
        marks.push(Mark::band("unserved", paint, spans, &served, upper));
    }
    marks.push(Mark::steps(line, spans, &demand));
    (marks, gap.is_some())
}

/// The legend of the lines and band `over_demand` draws.
fn demand_legend(b: &Binned, unserved: bool) -> Vec<Entry> {
    let mut legend = vec![Entry::new("demand", Swatch::Line(DEMAND))];
    if b.grain != Grain::Period {
        let label = format!("demand, {} peak", b.grain.adjective());
        legend.push(Entry::new(label, Swatch::Line(PEAK)));
    }
    if unserved {
        legend.push(Entry::new("unserved", Swatch::Hatch(UNSERVED)));
    }
    legend
}

/// When unserved demand is drawn but thinner than a hair at this scale (a few hours of a week),
/// the subtitle gives the amount, so the legend entry does not point at nothing.
fn thin_unserved_note(s: &Series, b: &Binned) -> Option<String> {
    let (served, demand) = (b.mean(&s.served_total_tpm), b.mean(&s.demand_tpm));
    let unserved = |(s, d): (&f64, &f64)| if is_unserved(*s, *d) { d - s } else { 0.0 };
    let gap = largest(served.iter().zip(&demand).map(unserved));
    let tokens = human(s.unserved_tokens());
    let note = format!("{tokens} tokens unserved, too few to show at this scale");
    (gap > 0.0 && gap <= 0.004 * largest(demand)).then_some(note)
}

/// A panel over the bins with a value axis from zero to the marks' top.
fn time_panel(spans: &[(f64, f64)], unit: Unit, marks: Vec<Mark>) -> Panel {
    let top = |m: &Mark| match m {
        Mark::Area(a) => largest(a.upper.iter().copied()),
        Mark::Line(_, points) => largest(points.iter().map(|p| p.1)),
        Mark::Rect { y, .. } => y.1,
        _ => 0.0,
    };
    let top = largest(marks.iter().map(top));
    let lo = spans.first().map_or(0.0, |b| b.0);
    let hi = spans.last().map_or(1.0, |b| b.1);
    Panel::new(Axis::time(lo, hi), Axis::value(0.0, top, unit), marks)
}

/// Reserved capacity by provider (solid), on-demand use by provider (striped) on top, so the
/// stack meets the demand line wherever the plan serves demand; capacity left unused in grey,
/// unserved demand in red only where there is some.
fn capacity_vs_demand(info: &RunInfo, s: &Series) -> Figure {
    let b = Binned::choose(&s.periods, KEEP_PERIODS_UP_TO, MAX_BINS);
    let mut parts = provider_parts(s, |p| b.mean(&s.reserved_tpm[p]), false);
    let on_demand = provider_parts(s, |p| b.mean(&s.on_demand_tpm[p]), true);
    let has_on_demand = !on_demand.is_empty();
    parts.extend(on_demand);
    let drawn = names(&parts);
    let spare = b.mean(&s.spare_tpm());
    let has_spare = spare.iter().any(|v| *v > 0.0);
    // Held to a signed plan, only on-demand offer is there beside the reservations.
    let spare_label = if s.held {
        "on-demand, unused"
    } else {
        "available, unused"
    };
    if has_spare {
        parts.push((spare_label.into(), (SPARE, None), spare));
    }
    // With deferral the red band is what arrived and is never served, not what waits: the
    // arrivals served sometime meet demand; what waits is its own band, and the load as served
    // its own (dashed) line, which rises above demand where waiting tokens are served.
    let defers = s.defers();
    let arrivals_served = s.arrivals_served_tpm();
    let served = if defers {
        &arrivals_served[..]
    } else {
        &s.served_total_tpm[..]
    };
    let (mut marks, gap) = over_demand(&b, parts, (&s.demand_tpm[..], Some(served)), DEMAND);
    let mut legend = demand_legend(&b, gap);
    if defers {
        // Open where more of the demand that arrived is served sometime than in the period.
        let in_period = b.mean(&s.served_total_tpm);
        let (name, paint) = ("waiting, served later", (INK.alpha(0.10), Some(INK)));
        let waiting = Mark::band(name, paint, &b.spans, &in_period, &b.mean(&arrivals_served));
        let demand_line = marks.pop().expect("over_demand draws the demand line last");
        marks.extend([
            waiting,
            demand_line,
            Mark::steps(SERVED_LOAD, &b.spans, &in_period),
        ]);
        legend.push(Entry::new(name, Swatch::Hatch(INK)));
        let dashed = "load served in the period (dashed)";
        legend.push(Entry::new(dashed, Swatch::Line(SERVED_LOAD)));
    }
    if has_spare {
        legend.push(Entry::new(spare_label, Swatch::Fill(SPARE)));
    }
    if has_on_demand {
        let swatch = Swatch::Hatch(INK_SOFT);
        legend.push(Entry::new("on-demand use (striped)", swatch));
    }
    legend.extend(provider_legend(s, &drawn));
    let style = match has_on_demand {
        true => "solid = reserved, striped = on-demand use",
        false => "reserved capacity by provider",
    };
    let held = info
        .held_to
        .as_ref()
        .map(|plan| format!("held to the reservations of '{plan}'"));
    let notes = vec![held, Some(style.into()), thin_unserved_note(s, &b)];
    let title = format!("{}: capacity vs demand", info.scenario);
    let panel = time_panel(&b.spans, Unit::TokensPerMinute, marks);
    Figure::new(title, subtitle(info, Some(&b), notes), legend, vec![panel])
}

/// "35%", or "33.3%" when the cap is not a whole percent.
fn percent(fraction: f64) -> String {
    let pct = fraction * 100.0;
    let whole = (pct - pct.round()).abs() < 0.05;
    format!("{pct:.*}%", if whole { 0 } else { 1 })
}

/// Served tokens by provider. The share cap is a limit on each provider's band, not a level of
/// the stack, so it is said in the subtitle ("no provider above 35% of demand") and a dot marks
/// each band where a provider is at the cap.
fn allocation_by_provider(info: &RunInfo, s: &Series) -> Figure {
    let b = Binned::choose(&s.periods, KEEP_PERIODS_UP_TO, MAX_BINS);
    let parts = provider_parts(s, |p| b.mean(&s.served_tpm[p]), false);
    let (drawn, demand) = (names(&parts), b.mean(&s.demand_tpm));
    let (mut dots, mut notes) = (Vec::new(), Vec::new());
    if let Some(share) = info.max_provider_share {
        // Bands where the provider serves its cap (bin means, as drawn).
        let mut base = vec![0.0; demand.len()];
        for (i, v) in parts.iter().flat_map(|p| p.2.iter().enumerate()) {
            if demand[i] > 0.0 && *v >= share * demand[i] * (1.0 - AT_CAP) {
                let x = (b.spans[i].0 + b.spans[i].1) / 2.0;
                dots.push(Mark::Dot(Dot::new(x, base[i] + v / 2.0, 7.0, INK)));
            }
            base[i] += v;
        }
        // The cap, checked period by period.
        let cap = percent(share);
        notes.push(Some(match s.top_share() {
            Some((p, top)) if top > share * (1.0 + AT_CAP) => {
                let (name, top) = (&s.providers[p], percent(top));
                format!("{name} serves {top} of demand, above the {cap} cap")
            }
            _ => format!("no provider above {cap} of demand"),
        }));
    }
    let (mut marks, _) = over_demand(&b, parts, (&s.demand_tpm, None), DEMAND);
    let mut legend = demand_legend(&b, false);
    if let (false, Some(share)) = (dots.is_empty(), info.max_provider_share) {
        let label = format!("at the {} cap", percent(share));
        legend.push(Entry::new(label, Swatch::Dot(INK)));
    }
    marks.extend(dots);
    legend.extend(provider_legend(s, &drawn));
    let title = format!("{}: served tokens by provider", info.scenario);
    let panel = time_panel(&b.spans, Unit::TokensPerMinute, marks);
    Figure::new(title, subtitle(info, Some(&b), notes), legend, vec![panel])
}

/// Cost per bar by provider: commitments (solid) at the bottom, usage and route (lighter) on top,
/// in the one provider order. Totals above the bars where they fit: largest, first, last first.
fn cost_by_provider(info: &RunInfo, s: &Series) -> Figure {
    let b = Binned::choose(&s.periods, MAX_COST_BARS, MAX_COST_BARS);
    // Each provider's commitment (solid) with its usage + route (lighter) right above it, so the
    // light part always sits on its own colour.
    let has = |v: &[f64]| v.iter().any(|x| *x > 0.0);
    let (mut bars, mut drawn): (Vec<(Rgba, Vec<f64>)>, Vec<String>) = (Vec::new(), Vec::new());
    for (p, name) in s.providers.iter().enumerate() {
        let (commit, usage) = (b.sum(&s.commit_usd[p]), b.sum(&s.usage_usd[p]));
        if has(&commit) || has(&usage) {
            drawn.push(name.clone());
        }
        let colour = provider_colour(name);
        bars.extend([(colour, commit), (colour.tint(LIGHT), usage)]);
    }
    let mut marks = Vec::new();
    let mut totals = vec![0.0; b.spans.len()];
    for (i, (x0, x1)) in b.spans.iter().enumerate() {
        let pad = (x1 - x0) * 0.14;
        for (fill, values) in &bars {
            let (y0, y1) = (totals[i], totals[i] + values[i].max(0.0));
            if y1 > y0 {
                marks.push(Mark::rect((x0 + pad, x1 - pad), (y0, y1), *fill));
            }
            totals[i] = y1;
        }
    }
    let n = totals.len();
    let by_size = |a: &usize, b: &usize| totals[*a].total_cmp(&totals[*b]).then(b.cmp(a));
    let first = [(0..n).max_by(by_size), Some(0), n.checked_sub(1)];
    let mut labelled = Vec::new();
    for i in first.into_iter().flatten().chain(0..n) {
        if i < n && totals[i] > 0.0 && !labelled.contains(&i) {
            labelled.push(i);
            let x = (b.spans[i].0 + b.spans[i].1) / 2.0;
            let text = three_figure_dollars(totals[i]);
            marks.push(Mark::Label(Label::above(text, x, totals[i])));
        }
    }
    let any = |k: usize| bars.iter().skip(k).step_by(2).any(|(_, v)| has(v));
    let mut legend = Vec::new();
    if any(1) {
        let swatch = Swatch::Fill(INK_SOFT.tint(LIGHT));
        legend.push(Entry::new("usage + route (light)", swatch));
    }
    if any(0) {
        legend.push(Entry::new("commitment (solid)", Swatch::Fill(INK_SOFT)));
    }
    legend.extend(provider_legend(s, &drawn));
    let (bucket, bucket_note) = b.bucket();
    let total_of = |m: &Vec<Vec<f64>>| three_figure_dollars(m.iter().flatten().sum::<f64>());
    let (commit, usage) = (total_of(&s.commit_usd), total_of(&s.usage_usd));
    let total = three_figure_dollars(info.cost);
    let sums = format!("total {total} (commitment {commit}, usage + route {usage})");
    let per_million = cost_per_million_tokens(info.cost, info.served_tokens);
    let per_million = per_million.map(|d| format!("{} per million tokens", per_million_label(d)));
    let notes = vec![Some(sums), per_million, bucket_note];
    let mut panel = time_panel(&b.spans, Unit::Dollars, marks).titled(format!("$ per {bucket}"));
    // Bars are their own time marks (no grid, no ticks finer than a bar), with room above the
    // tallest for its total.
    let shortest = b.spans.iter().map(|b| b.1 - b.0).fold(f64::MAX, f64::min);
    panel.x.kind = Kind::Time(Some(shortest));
    panel.y.hi *= 1.12;
    let title = format!("{}: cost by provider", info.scenario);
    Figure::new(title, subtitle(info, None, notes), legend, vec![panel])
}

/// Cents matter at this scale: `$0.42`, `$1.35`, `$12.0`.
fn per_million_label(d: f64) -> String {
    match d {
        d if d >= 1000.0 => three_figure_dollars(d),
        d if d >= 10.0 => format!("${d:.1}"),
        d if d >= 0.01 => format!("${d:.2}"),
        d => format!("${d:.4}"),
    }
}

/// Served tokens by provider, a panel per demand region, on one y-scale (a small region looks small).
fn regions(info: &RunInfo, s: &Series) -> Figure {
    let b = Binned::choose(&s.periods, KEEP_PERIODS_UP_TO, MAX_BINS);
    let (mut drawn, mut any_unserved, mut panels) = (Vec::new(), false, Vec::new());
    for (r, region) in s.regions.iter().enumerate() {
        let parts = provider_parts(s, |p| b.mean(&s.region_served_tpm[r][p]), false);
        drawn.extend(names(&parts));
        let served = s.region_total_tpm(r);
        // A thinner demand line in the smaller panels.
        let line = Stroke::new(INK, DEMAND.width * 0.75, false);
        let (marks, gap) = over_demand(&b, parts, (&s.region_demand_tpm[r], Some(&served)), line);
        any_unserved |= gap;
        panels.push(time_panel(&b.spans, Unit::TokensPerMinute, marks).titled(region));
    }
    // One scale: every panel reaches the tallest panel's top.
    let top = largest(panels.iter().map(|p| p.y.hi));
    panels.iter_mut().for_each(|p| p.y.hi = top);
    let thin = any_unserved.then(|| thin_unserved_note(s, &b)).flatten();
    let mut legend = demand_legend(&b, any_unserved);
    legend.extend(provider_legend(s, &drawn));
    let scale = Some("one y-scale for all regions".to_string());
    let notes = vec![scale, thin];
    let title = format!("{}: served tokens by demand region", info.scenario);
    let columns = if panels.len() <= 4 { 1 } else { 2 };
    let mut fig = Figure::new(title, subtitle(info, Some(&b), notes), legend, panels);
    fig.columns = columns;
    fig
}

/// The commitments to sign, Gantt-like: one row per reserved tranche (grouped by provider in
/// the one stack order, then by start), a bar in the provider's colour across its reservation
/// window whose height grows with the reserved tokens/min (so a 109M reservation never looks like
/// a 3.1B one), and the reserved tokens/min, the GPUs and blocks (a plan in GPUs) and the
/// commitment cost in columns beside it, so no value label ever sits on a bar. Rows that cannot
/// fit the image are left out (the subtitle says so).
fn commitments(info: &RunInfo, rows: &[CommitmentRow], horizon: (f64, f64), c: &Scale) -> Figure {
    let mut signed = signed(rows, horizon, provider_order);
    let total = three_figure_dollars(signed.iter().map(|s| s.row.commit_cost).sum());
    let count = signed.len();
    let plural = if count == 1 { "" } else { "s" };
    let mut subtitle = vec![
        format!("{count} tranche{plural} to reserve, {total} committed"),
        "bar = reservation window, its height the reserved tok/min".into(),
        "by provider, then start".into(),
    ];
    if let (fit, Some(cut)) = c.rows_that_fit(count, 1.3) {
        signed.truncate(fit);
        subtitle.insert(1, cut);
    }
    let (mut legend, mut marks): (Vec<Entry>, Vec<Mark>) = (Vec::new(), Vec::new());
    let most_tpm = signed
        .iter()
        .map(|s| s.row.reserved_tpm)
        .fold(0.0, f64::max);
    for (i, s) in signed.iter().enumerate() {
        let provider = &s.row.provider;
        if !legend.iter().any(|e| &e.label == provider) {
            legend.push(Entry::provider(provider));
        }
        // From 0.15 of a row (the smallest stays visible) to 0.7 for the largest, linearly.
        let height = 0.15 + 0.55 * (s.row.reserved_tpm / most_tpm.max(f64::MIN_POSITIVE));
        let y = (i as f64 + 0.5 - height / 2.0, i as f64 + 0.5 + height / 2.0);
        marks.push(Mark::rect(s.window, y, provider_colour(provider)));
    }
    // Reserved tokens per minute to three figures: `954M`, `1.17B`, `200`.
    let tpm = |s: &Signed| three_figures(s.row.reserved_tpm);
    let cost = |s: &Signed| three_figure_dollars(s.row.commit_cost);
    let column = |head: &str, cell: fn(&Signed) -> String| -> (String, Vec<String>) {
        (head.to_string(), signed.iter().map(cell).collect())
    };
    let mut table = vec![column("reserved, tok/min", tpm)];
    if signed.iter().any(|s| s.row.gpus_reserved.is_some()) {
        // "24,000 H200 (3,000×8)": what procurement signs; blank for a tranche in tokens/min.
        table.push(column("GPUs (blocks × size)", |s: &Signed| {
            let (Some(gpus), Some(blocks)) = (s.row.gpus_reserved, s.row.blocks) else {
                return String::new();
            };
            let size = if blocks > 0.0 { gpus / blocks } else { 0.0 };
            let kind = if s.row.gpu.is_empty() { "" } else { " " };
            let (gpus, gpu, blocks, size) =
                (grouped(gpus), &s.row.gpu, grouped(blocks), grouped(size));
            format!("{gpus}{kind}{gpu} ({blocks}×{size})")
        }));
    }
    table.push(column("commitment", cost));
    let mut y = Category::slots(signed.iter().map(|s| (s.row.tranche.clone(), false)));
    (y.head, y.table) = (Some("tranche".into()), table);
    let panel = Panel::new(Axis::time(horizon.0, horizon.1), Axis::category(y), marks);
    let title = format!("{}: commitments to sign", info.scenario);
    let mut fig = Figure::new(title, subtitle, legend, vec![panel]);
    if count == 0 {
        fig.subtitle = vec![info.policy.clone()];
        fig.message = Some("nothing to reserve: the plan uses on-demand capacity only".into());
    }
    fig
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::report::tables::{ProviderPeriodRow, RegionPeriodRow};
    use chrono::{TimeZone, Utc};

    /// Quickstart's March: reserved capacity short of demand, the rest served on demand.
    fn march() -> ChartTables {
        let period = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        let (minutes, cost) = (44640.0, 1.0);
        let row = |provider: &str, available_tpm, reserved_tpm, served_tpm, on_demand_tpm| {
            let provider = provider.into();
            let (commit_cost, usage_cost) = (cost, cost);
            ProviderPeriodRow {
                period,
                minutes,
                provider,
                available_tpm,
                reserved_tpm,
                served_tpm,
                on_demand_tpm,
                commit_cost,
                usage_cost,
                ..ProviderPeriodRow::default()
            }
        };
        let (region, demand_tpm, served_tpm) = ("us".into(), 7.5e9, 7.5e9);
        ChartTables {
            provider_periods: vec![
                row("aws", 6e9, 1.5e9, 2e9, 0.5e9),
                row("azure", 5e9, 4e9, 4.5e9, 0.5e9),
                row("onprem", 1e9, 1e9, 1e9, 0.0),
            ],
            region_periods: vec![RegionPeriodRow {
                period,
                minutes,
                region,
                demand_tpm,
                served_tpm,
                ..RegionPeriodRow::default()
            }],
            ..ChartTables::default()
        }
    }

    /// The capacity chart of `t`, and its bands: (name, striped, lower, upper) in the first bin.
    fn capacity(t: &ChartTables) -> (Figure, Vec<(String, bool, f64, f64)>) {
        let fig = capacity_vs_demand(&t.info, &Series::from_tables(t, provider_order).unwrap());
        let area = |m: &Mark| match m {
            Mark::Area(a) => Some((a.name.clone(), a.paint.1.is_some(), a.lower[0], a.upper[0])),
            _ => None,
        };
        let bands = fig.panels[0].marks.iter().filter_map(area).collect();
        (fig, bands)
    }

    #[test]
    fn reserved_and_on_demand_meet_served_demand() {
        // Reserved (solid) and on-demand (striped) parts, then the grey of unused capacity.
        let (fig, bands) = capacity(&march());
        let names: Vec<&str> = bands.iter().map(|p| p.0.as_str()).collect();
        assert_eq!(names[..3], ["aws", "azure", "onprem"]);
        assert_eq!(names[3..], ["aws", "azure", "available, unused"]);
        let open = |b: &(String, bool, f64, f64)| b.3 - b.2;
        let used: f64 = bands[..5].iter().map(open).sum();
        assert!((used - 7.5e9).abs() < 1.0, "{used}");
        assert_eq!(bands.iter().filter(|p| p.1).count(), 2);
        // Spare: available minus reserved minus on-demand use.
        assert!((open(&bands[5]) - (12e9 - 6.5e9 - 1e9)).abs() < 1.0);
        let legend = ["demand", "available, unused", "on-demand use (striped)"];
        assert_eq!(fig.legend_labels()[..3], legend);
        assert_eq!(fig.legend_labels()[3..], ["onprem", "azure", "aws"]);
    }

    #[test]
    fn a_held_run_shows_only_on_demand_offer_beside_its_reservations() {
        // March held to a signed plan: of aws's 6B available, 1B is an on-demand offer (0.5B
        // used); azure's 1B is on demand (0.5B used); the rest of the 12B is reserved tranches'
        // unsigned offer, which the held plan cannot use and the chart must not draw.
        let mut t = march();
        t.info.held_to = Some("frontier-2026".into());
        for (row, offer) in t.provider_periods.iter_mut().zip([1e9, 1e9, 0.0]) {
            row.on_demand_available_tpm = offer;
        }
        let (fig, bands) = capacity(&t);
        let spare: Vec<f64> = bands
            .iter()
            .filter(|b| b.0 == "on-demand, unused")
            .map(|b| b.3 - b.2)
            .collect();
        assert_eq!(spare.len(), 1, "one grey band of unused on-demand offer");
        assert!((spare[0] - 1e9).abs() < 1.0, "{spare:?}");
        assert!(!fig.legend_labels().contains(&"available, unused"));
        assert_eq!(
            fig.subtitle[0],
            "held to the reservations of 'frontier-2026'"
        );
    }

    #[test]
    fn waiting_tokens_are_their_own_band_never_unserved() {
        // Two six-hour periods: 500 arrive and 300 are served in the first, 200 wait and are
        // served in the second beside its own 100. Nothing is unserved: no red band; the waiting
        // 200 are a band from 300 to 500, and the load as served a dashed line (300, 300).
        let (minutes, region, provider) = (360.0, "us".to_string(), "aws".to_string());
        let period = |h: u32| Utc.with_ymd_and_hms(2026, 1, 1, h, 0, 0).unwrap();
        let region = |h: u32, demand_tpm, served_tpm| RegionPeriodRow {
            period: period(h),
            minutes,
            region: region.clone(),
            demand_tpm,
            served_tpm,
            ..RegionPeriodRow::default()
        };
        let (available_tpm, reserved_tpm, served_tpm) = (300.0, 300.0, 300.0);
        let provider = |h: u32| ProviderPeriodRow {
            period: period(h),
            minutes,
            provider: provider.clone(),
            available_tpm,
            reserved_tpm,
            served_tpm,
            ..ProviderPeriodRow::default()
        };
        let t = ChartTables {
            provider_periods: vec![provider(0), provider(6)],
            region_periods: vec![region(0, 500.0, 300.0), region(6, 100.0, 300.0)],
            ..ChartTables::default()
        };
        assert!(Series::from_tables(&t, provider_order).unwrap().defers());
        let (fig, bands) = capacity(&t);
        assert!(!bands.iter().any(|b| b.0 == "unserved"), "{bands:?}");
        let waiting = bands
            .iter()
            .find(|b| b.0 == "waiting, served later")
            .unwrap();
        assert_eq!((waiting.2, waiting.3), (300.0, 500.0));
        let labels = fig.legend_labels();
        assert!(
            labels.contains(&"load served in the period (dashed)"),
            "{labels:?}"
        );
        assert!(!labels.contains(&"unserved"));
    }

    #[test]
    fn cost_bars_carry_their_totals_and_the_subtitle_the_sums() {
        let t = march();
        let fig = cost_by_provider(&t.info, &Series::from_tables(&t, provider_order).unwrap());
        assert_eq!(fig.labels(), ["$6"]);
        assert_eq!(fig.panels[0].title.as_deref(), Some("$ per calendar month"));
        let sums = "total $0 (commitment $3, usage + route $3)";
        assert_eq!(fig.subtitle[0], sums);
    }

    #[test]
    fn commitments_that_do_not_fit_are_counted_in_the_subtitle() {
        let row = |i: usize| CommitmentRow {
            tranche: format!("t{i}"),
            provider: "aws".into(),
            reserved_tpm: 1e9,
            commit_cost: 5.0,
            ..CommitmentRow::default()
        };
        let rows: Vec<CommitmentRow> = (0..200).map(row).collect();
        let (small, info) = (Scale::new(800, 450), RunInfo::default());
        let fig = commitments(&info, &rows, (0.0, 1e6), &small);
        let note = |s: &String| s.ends_with("of 200 shown (image too small)");
        assert!(fig.subtitle.iter().any(note), "{:?}", fig.subtitle);
        let fig = commitments(&info, &rows[..3], (0.0, 1e6), &small);
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
