//! Chart stage, resilience: the plans × losses matrix of `capplan resilience` as two figures.
//!
//! - `resilience_heatmap`: served % per plan (rows) and loss (columns, `none` set apart first) on a
//!   viridis ramp (colour-blind safe, dark = little served), the value printed in every cell;
//!   many losses wrap into bands of columns, each band repeating `none` for comparison, and too
//!   many pairs fold into each plan's worst pair.
//! - `resilience_cost_vs_served`: each plan as a point, x = served % in its worst single loss,
//!   y = $ per million tokens served under its normal policy; multi-cloud highlighted.

use super::figure::{Axis, Category, Entry, Figure, Label, Mark, Panel, Swatch};
use super::layout::{Scale, LABEL};
use super::palette::{self, ramp, rgb, text_on};
use super::svg::Align;
use super::text::Measure;
use super::ticks::Unit;
use super::{ChartOptions, RenderedChart};
use crate::error::Result;
use crate::resilience::Resilience;

/// The stems of the resilience charts (each written as `.png` and `.svg`).
pub const RESILIENCE_CHART_STEMS: [&str; 2] = ["resilience_cost_vs_served", "resilience_heatmap"];

/// Draws every resilience chart as PNG and SVG, in memory, sorted by file name.
pub fn render_all(r: &Resilience, opts: &ChartOptions) -> Result<Vec<RenderedChart>> {
    let figures = vec![
        ("resilience_heatmap", heatmap(r, opts)),
        ("resilience_cost_vs_served", cost_vs_served(r, opts)),
    ];
    super::render(figures, opts)
}

/// A served percentage as the report writes it: one decimal, rounded down ("at least"), with
/// solver tolerance taken out so that 79.9999999884 reads 80% (as `resilience.md` does).
fn served_label(v: f64) -> String {
    crate::resilience::write::at_least_pct(v)
}

/// The rules the matrix was measured under, as subtitle pieces.
fn rules(r: &Resilience) -> Vec<String> {
    let mut parts = vec![
        "each plan held to its own reservations".to_string(),
        "emergency rules (no share cap, no N-1)".to_string(),
        if r.window.is_empty() {
            "lost for the whole horizon".to_string()
        } else {
            format!("lost in {}", r.window.replace("T00:00:00Z", ""))
        },
    ];
    if r.on_demand_availability < 1.0 {
        parts.push(format!(
            "{}% of on-demand capacity left elsewhere",
            crate::units::fixed(r.on_demand_availability * 100.0)
        ));
    }
    parts
}

/// A heatmap column after `none`: one loss, or each plan's worst pair when pairs are too many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col<'a> {
    Loss(&'a str),
    WorstPair,
}

impl<'a> Col<'a> {
    fn name(&self) -> &'a str {
        match self {
            Col::Loss(l) => l,
            Col::WorstPair => "worst pair",
        }
    }

    fn served(&self, r: &Resilience, plan: &str) -> Option<f64> {
        match self {
            Col::Loss(l) => r.row(plan, l).map(|x| x.served_pct),
            Col::WorstPair => r
                .rows
                .iter()
                .filter(|x| x.plan == plan && x.lost_provider.contains('+'))
                .map(|x| x.served_pct)
                .reduce(f64::min),
        }
    }
}

/// The cell values' size at 1080p, at most.
const VALUE: f64 = 22.5;
/// The widest value a cell prints.
const WIDEST: &str = "88.8%";

/// How the cells fit: (bands, value size in pixels per em), for `others` columns after `none`.
fn bands(c: &Scale, r: &Resilience, others: usize, has_none: bool) -> (usize, f64) {
    let m = Measure::new(c.px(LABEL), false);
    let names = r.plans.iter().map(|p| m.width(&p.plan)).fold(0.0, f64::max);
    let grid_w = c.w - c.px(2.0 * 40.0 + 16.0 + 130.0) - names.min(c.w * 0.28);
    let grid_h = c.plot_height() - c.px(60.0);
    let value_w = Measure::new(c.px(VALUE), false).width(WIDEST);
    let layout = |bands: usize| {
        let cols = others.div_ceil(bands) + usize::from(has_none);
        let cell_w = grid_w / (cols as f64 + 0.15);
        let rows = (bands * r.plans.len().max(1)) as f64;
        let cell_h = (grid_h - bands as f64 * c.px(LABEL * 2.5 + 10.0 + 24.0)) / rows;
        let by_width = c.px(VALUE) * (cell_w * 0.8 - c.px(4.0)) / value_w;
        (bands, by_width.min(c.px(VALUE)).min(cell_h / 1.5), cell_h)
    };
    // Fewest bands that keep values near full size; otherwise the bands with the largest values,
    // as long as the rows stay tall enough for their labels.
    let mut best = layout(1);
    for b in 2..=others.clamp(1, 4) {
        if best.1 >= c.px(VALUE) * 0.85 {
            break;
        }
        let next = layout(b);
        if next.2 >= c.min_em() * 1.3 && next.1 > best.1 * 1.1 {
            best = next;
        }
    }
    (best.0, best.1)
}

fn heatmap(r: &Resilience, opts: &ChartOptions) -> Figure {
    let c = Scale::new(opts.width, opts.height);
    let title = if r.losses.iter().any(|l| l.contains('+')) {
        "What each plan still serves when one or two providers are lost"
    } else if r.losses.iter().any(|l| l.contains('/')) {
        "What each plan still serves when a provider region is lost"
    } else {
        "What each plan still serves when a provider is lost"
    };
    let mut subtitle = vec![r.scenario.clone()];
    subtitle.extend(rules(r));
    let has_none = r.losses.first().is_some_and(|l| l == "none");
    let all: Vec<Col> = r
        .losses
        .iter()
        .skip(usize::from(has_none))
        .map(|l| Col::Loss(l))
        .collect();
    let mut others = all.clone();
    let (mut n_bands, mut value_em) = bands(&c, r, others.len(), has_none);
    // Too many pairs to print: every single loss, then each plan's worst pair in one column.
    let pair_count = all.iter().filter(|c| c.name().contains('+')).count();
    let folded = value_em < c.min_em() && pair_count > 0;
    if folded {
        others.retain(|c| !c.name().contains('+'));
        others.push(Col::WorstPair);
        (n_bands, value_em) = bands(&c, r, others.len(), has_none);
    }
    let show_values = value_em >= c.min_em();
    let per_band = others.len().div_ceil(n_bands).max(1);
    let mut panels = Vec::new();
    for band in 0..n_bands {
        let chunk = others.iter().skip(band * per_band).take(per_band);
        let columns: Vec<(f64, Col)> = has_none
            .then_some((0.5, Col::Loss("none")))
            .into_iter()
            .chain(
                chunk
                    .enumerate()
                    .map(|(j, col)| (j as f64 + if has_none { 1.65 } else { 0.5 }, *col)),
            )
            .collect();
        let mut marks = Vec::new();
        for (i, plan) in r.plans.iter().enumerate() {
            for (at, col) in &columns {
                let served = col.served(r, &plan.plan);
                let fill = served.map_or(palette::GRID, ramp);
                let (y0, y1) = (i as f64, i as f64 + 0.96);
                marks.push(Mark::Rect {
                    x0: at - 0.5,
                    x1: at + 0.48,
                    y0,
                    y1,
                    fill,
                    cut: None,
                });
                if show_values {
                    let text = served.map_or("n/a".to_string(), served_label);
                    let mut l = Label::at(
                        text,
                        at - 0.01,
                        i as f64 + 0.48,
                        value_em / c.s,
                        text_on(fill),
                    );
                    l.fit = Some(0.8);
                    marks.push(Mark::Label(l));
                }
            }
        }
        let bold = |name: &str| name == "none" || name == "worst pair";
        let x = Category {
            lo: 0.0,
            hi: columns.last().map_or(1.0, |c| c.0 + 0.5),
            labels: columns
                .iter()
                .map(|(at, col)| (*at, col.name().to_string(), bold(col.name())))
                .collect(),
            above: true,
            ..Category::default()
        };
        let y = Category {
            head: Some("lost →".into()),
            ..Category::slots(
                r.plans
                    .iter()
                    .map(|p| (p.plan.clone(), p.plan == "multi-cloud")),
            )
        };
        panels.push(Panel {
            title: None,
            x: Axis::Category(x),
            y: Axis::Category(y),
            marks,
        });
    }
    let mut notes = Vec::new();
    if folded {
        notes.push(format!(
            "worst pair: the lowest of the {pair_count} pairs for each plan (every pair in resilience.csv)."
        ));
    }
    if !show_values {
        notes.push("Too many cells to print their values: see resilience.csv.".into());
    }
    // Rules relaxed for some plans (single-cloud plans), named once.
    let mut relaxed: Vec<&str> = Vec::new();
    for x in r.plans.iter().flat_map(|p| &p.relaxed) {
        if !relaxed.contains(&x.as_str()) {
            relaxed.push(x);
        }
    }
    if !relaxed.is_empty() {
        let relaxed_for: Vec<&str> = r
            .plans
            .iter()
            .filter(|p| !p.relaxed.is_empty())
            .map(|p| p.plan.as_str())
            .collect();
        let who = if relaxed_for.iter().all(|p| p.starts_with("single:")) {
            "single-cloud plans".to_string()
        } else {
            relaxed_for.join(", ")
        };
        notes.push(format!("Planned for {who} with {}.", relaxed.join(", ")));
    }
    Figure {
        title: title.into(),
        subtitle,
        legend: vec![Entry::new("served", Swatch::Ramp)],
        panels,
        columns: 1,
        notes,
        message: None,
    }
}

/// A plan's served % in its worst single loss (losses named without `+`, `none` excluded).
pub(crate) fn worst_single_loss(r: &Resilience, plan: &str) -> Option<f64> {
    r.rows
        .iter()
        .filter(|x| x.plan == plan && x.lost_provider != "none" && !x.lost_provider.contains('+'))
        .map(|x| x.served_pct)
        .reduce(f64::min)
}

fn cost_vs_served(r: &Resilience, opts: &ChartOptions) -> Figure {
    let c = Scale::new(opts.width, opts.height);
    let what = if r.losses.iter().any(|l| l.contains('/')) {
        "provider region"
    } else {
        "provider"
    };
    let mut subtitle = vec![r.scenario.clone()];
    subtitle.extend(rules(r));
    // (plan, worst single loss served %, $/M served, served % with nothing lost)
    let data: Vec<(&str, f64, f64, Option<f64>)> = r
        .plans
        .iter()
        .filter_map(|p| {
            let none = r.row(&p.plan, "none").map(|x| x.served_pct);
            worst_single_loss(r, &p.plan)
                .map(|x| (p.plan.as_str(), x, p.cost_per_million_tokens, none))
        })
        .collect();
    let top = data.iter().map(|d| d.2).fold(0.0, f64::max);
    // Multi-cloud drawn last (on top) and labelled first (best place); the rest top down.
    let mut order: Vec<usize> = (0..data.len()).collect();
    let highlight = |i: &usize| data[*i].0 == "multi-cloud";
    order.sort_by(|a, b| {
        highlight(b)
            .cmp(&highlight(a))
            .then(data[*b].2.total_cmp(&data[*a].2))
            .then(data[*a].1.total_cmp(&data[*b].1))
            .then(data[*a].0.cmp(data[*b].0))
    });
    let mut marks = Vec::new();
    for i in order.iter().rev() {
        let (_, x, y, _) = data[*i];
        let (radius, colour) = if highlight(i) {
            (14.0, palette::INK)
        } else {
            (10.0, rgb(0x8C8C8C))
        };
        marks.push(Mark::Dot {
            x: x.clamp(0.0, 100.0),
            y: y.max(0.0),
            radius,
            colour,
            arrow: None,
        });
    }
    for i in &order {
        let (name, x, y, none) = data[*i];
        let bold = highlight(i);
        // A plan that falls short with nothing lost says so: its $/M buys less than demand.
        let short = none
            .filter(|v| served_label(*v) != "100%")
            .map(|v| format!(" ({} with nothing lost)", served_label(v)))
            .unwrap_or_default();
        let text = if bold {
            format!("{name}: ${y:.2}/M, {} at worst{short}", served_label(x))
        } else {
            format!("{name}{short}")
        };
        let gap = if bold { 24.0 } else { 20.0 };
        let step = LABEL * 0.95 + 6.0;
        // Beside the point first; then stepped down (points are taken top first, so a crowd's
        // labels keep the points' order), then up, then above or below, then on the left.
        let mut spots = vec![(gap, 0.0, Align::Left), (-gap, 0.0, Align::Right)];
        spots.extend((1..=12).map(|k| (2.0 * gap, k as f64 * step, Align::Left)));
        spots.extend((1..=12).map(|k| (2.0 * gap, -k as f64 * step, Align::Left)));
        spots.push((0.0, -gap - step * 0.6, Align::Centre));
        spots.push((0.0, gap + step * 0.4, Align::Centre));
        spots.extend((1..=12).map(|k| (-2.0 * gap, k as f64 * step, Align::Right)));
        spots.extend((1..=12).map(|k| (-2.0 * gap, -k as f64 * step, Align::Right)));
        let colour = if bold {
            palette::INK
        } else {
            palette::INK_SOFT
        };
        let m = Measure::new(c.px(LABEL), bold);
        let mut l = Label::at(
            m.fit(&text, c.w * 0.5),
            x.clamp(0.0, 100.0),
            y.max(0.0),
            LABEL,
            colour,
        );
        l.bold = bold;
        l.spots = spots;
        l.leader = true;
        marks.push(Mark::Label(l));
    }
    let panel = Panel {
        title: None,
        x: Axis::Value {
            // A little room either side so points at 0% and 100% are not cut by the frame.
            lo: -4.0,
            hi: 104.0,
            unit: Unit::Percent,
            title: Some(format!(
                "served when the worst single {what} is lost (held reservations, emergency rules)"
            )),
            round_out: false,
        },
        y: Axis::Value {
            lo: 0.0,
            hi: top,
            unit: Unit::Dollars,
            title: Some("$ per million tokens served (normal policy, nothing lost)".into()),
            round_out: true,
        },
        marks,
    };
    let mut fig = Figure::new(
        "What multi-cloud costs and what it buys".into(),
        subtitle,
        Vec::new(),
        panel,
    );
    if data.is_empty() {
        fig.message = Some("No single losses to measure".into());
    }
    fig
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_labels_read_at_least() {
        assert_eq!(served_label(100.0), "100%");
        assert_eq!(served_label(79.9999999884), "80%");
        assert_eq!(served_label(93.7484729433), "93.7%");
        assert_eq!(served_label(0.0), "0%");
    }
}
