//! Chart stage, resilience: the plans × losses matrix of `capplan resilience` as two figures.
//!
//! - `resilience_heatmap`: served % per plan (rows) and loss (columns, `none` set apart first) on a
//!   viridis ramp (colour-blind safe, dark = little served), the value printed in every cell;
//!   many losses wrap into bands of columns, each band repeating `none` for comparison, and too
//!   many pairs fold into each plan's worst pair.
//! - `resilience_cost_vs_served`: each plan as a line across the served % axis from its worst
//!   single loss (light dot) to nothing lost (dark dot), y = $ per million tokens served under its
//!   normal policy; multi-cloud highlighted, plans that cannot serve all demand in red with the
//!   most they can serve.

use super::figure::Stroke;
use super::figure::{largest, Axis, Category, Dot, Entry, Figure, Label, Mark, Panel, Swatch};
use super::layout::{Scale, LABEL};
use super::palette::{self, ramp, text_on, Rgba, AXIS, INK, INK_SOFT, UNSERVED};
use super::svg::Align;
use super::text::Font;
use super::ticks::Unit;
use super::{ChartOptions, Charts};
use crate::resilience::write::{at_least_pct as served_label, pair_losses, relaxed_note};
use crate::resilience::write::{single_losses, worst};
use crate::resilience::Resilience;

/// The stems of the resilience charts (each written as `.png` and `.svg`).
pub const RESILIENCE_CHART_STEMS: [&str; 2] = ["resilience_cost_vs_served", "resilience_heatmap"];

/// Draws every resilience chart as PNG and SVG, in memory, sorted by file name.
pub fn render_all(r: &Resilience, opts: &ChartOptions) -> Charts {
    let figures = vec![
        ("resilience_heatmap", heatmap(r, opts)),
        ("resilience_cost_vs_served", cost_vs_served(r, opts)),
    ];
    super::render(figures, opts)
}

/// The subtitle: the scenario and the rules the matrix was measured under.
fn subtitle(r: &Resilience) -> Vec<String> {
    let lost = match r.window.as_str() {
        "" => "lost for the whole horizon".to_string(),
        w => format!("lost in {}", w.replace("T00:00:00Z", "")),
    };
    let mut parts = vec![
        r.scenario.clone(),
        "each plan held to its own reservations".into(),
        "emergency rules (no share cap, no N-1)".into(),
        lost,
    ];
    if r.on_demand_availability < 1.0 {
        let pct = crate::units::fixed(r.on_demand_availability * 100.0);
        parts.push(format!("{pct}% of on-demand capacity left elsewhere"));
    }
    parts
}

/// What one loss of the matrix is: a provider, or a provider region (`provider/region`).
fn loss_kind(r: &Resilience) -> &'static str {
    match r.losses.iter().any(|l| l.contains('/')) {
        true => "provider region",
        false => "provider",
    }
}

/// A heatmap column's served %: one loss, or (`None`) each plan's worst pair, for many pairs.
fn served(r: &Resilience, plan: &str, loss: Option<&str>) -> Option<f64> {
    let row = loss.map_or_else(|| worst(pair_losses(r, plan)), |l| r.row(plan, l));
    row.map(|x| x.served_pct)
}

fn column_name(loss: Option<&str>) -> &str {
    loss.unwrap_or("worst pair")
}

/// The cell values' size at 1080p, at most.
const VALUE: f64 = 22.5;

/// How the cells fit: (bands, value size in pixels per em), for `others` columns after `none`.
/// Fewest bands that keep values near full size; otherwise the bands with the largest values,
/// as long as the rows stay tall enough for their labels.
fn bands(c: &Scale, r: &Resilience, others: usize, has_none: bool) -> (usize, f64) {
    let label = c.font(LABEL, false, palette::INK);
    let names = largest(r.plans.iter().map(|p| label.width(&p.plan)));
    let grid_w = c.w - c.px(2.0 * 40.0 + 16.0 + 130.0) - names.min(c.w * 0.28);
    let grid_h = c.plot_height() - c.px(60.0);
    let value_w = c.font(VALUE, false, palette::INK).width("88.8%");
    let layout = |bands: usize| {
        let cols = others.div_ceil(bands) + usize::from(has_none);
        let cell_w = grid_w / (cols as f64 + 0.15);
        let rows = (bands * r.plans.len().max(1)) as f64;
        let cell_h = (grid_h - bands as f64 * c.px(LABEL * 2.5 + 34.0)) / rows;
        let by_width = c.px(VALUE) * (cell_w * 0.8 - c.px(4.0)) / value_w;
        (bands, by_width.min(c.px(VALUE)).min(cell_h / 1.5), cell_h)
    };
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
    let lost = match r.losses.iter().any(|l| l.contains('+')) {
        true => "one or two providers are".to_string(),
        false => format!("a {} is", loss_kind(r)),
    };
    let title = format!("What each plan still serves when {lost} lost");
    let has_none = r.losses.first().is_some_and(|l| l == "none");
    let losses = r.losses.iter().skip(usize::from(has_none));
    let mut others: Vec<Option<&str>> = losses.map(|l| Some(l.as_str())).collect();
    let (mut n_bands, mut value_em) = bands(&c, r, others.len(), has_none);
    // Too many pairs to print: every single loss, then each plan's worst pair in one column.
    let is_pair = |l: &Option<&str>| column_name(*l).contains('+');
    let pair_count = others.iter().filter(|l| is_pair(l)).count();
    // Values smaller than this are not printed (on a small image, the scaled size may be less
    // than the usual minimum: the cells are as small).
    let least = c.min_em().min(c.px(VALUE) * 0.9);
    let folded = value_em < least && pair_count > 0;
    if folded {
        others.retain(|l| !is_pair(l));
        others.push(None);
        (n_bands, value_em) = bands(&c, r, others.len(), has_none);
    }
    let show_values = value_em >= least;
    let per_band = others.len().div_ceil(n_bands).max(1);
    let first = if has_none { 1.65 } else { 0.5 };
    let plans = r.plans.iter().map(|p| &p.plan);
    let mut y = Category::slots(plans.map(|p| (p.clone(), p == "multi-cloud")));
    y.head = Some("lost →".into());
    // One band even without losses beyond `none`.
    let chunks = others
        .chunks(per_band)
        .chain(others.is_empty().then_some(&[][..]));
    let mut panels = Vec::new();
    for chunk in chunks {
        let none = has_none.then_some((0.5, Some("none")));
        let rest = (0..).zip(chunk).map(|(j, l)| (f64::from(j) + first, *l));
        let columns: Vec<(f64, Option<&str>)> = none.into_iter().chain(rest).collect();
        let mut marks = Vec::new();
        for (i, plan) in r.plans.iter().enumerate() {
            for (at, col) in &columns {
                let served = served(r, &plan.plan, *col);
                let fill = served.map_or(palette::GRID, ramp);
                let row = i as f64;
                marks.push(Mark::rect((at - 0.5, at + 0.48), (row, row + 0.96), fill));
                if show_values {
                    let text = served.map_or("n/a".to_string(), served_label);
                    let (x, y, em) = (at - 0.01, row + 0.48, value_em / c.s);
                    let mut label = Label::at(text, x, y, Font::new(em, false, text_on(fill)));
                    label.fit = Some(0.8);
                    marks.push(Mark::Label(label));
                }
            }
        }
        let head = |(at, col): &(f64, Option<&str>)| {
            let name = column_name(*col);
            let bold = name == "none" || name == "worst pair";
            (*at, name.to_string(), bold)
        };
        let labels = columns.iter().map(head).collect();
        let mut x = Category::default();
        (x.labels, x.above) = (labels, true);
        let (x, y) = (Axis::category(x), Axis::category(y.clone()));
        panels.push(Panel::new(x, y, marks));
    }
    let mut notes = Vec::new();
    if folded {
        notes.push(format!(
            "worst pair: the lowest of the {pair_count} pairs for each plan (every pair in \
             resilience.csv)."
        ));
    }
    if !show_values {
        notes.push("Too many cells to print their values: see resilience.csv.".into());
    }
    notes.extend(relaxed_note(r));
    // The colour scale, top down.
    let step = |k: u32| f64::from(100 - 25 * k);
    let scale = (0..5).map(|k| Entry::new(format!("{}%", step(k)), Swatch::Fill(ramp(step(k)))));
    let legend = std::iter::once(Entry::new("served", Swatch::Heading));
    let legend = legend.chain(scale).collect();
    let mut fig = Figure::new(title, subtitle(r), legend, panels);
    fig.notes = notes;
    fig
}

/// Plans that cannot serve all demand even with nothing lost: red, the colour of unserved demand.
const SHORT: Rgba = UNSERVED;

/// One plan on the cost-vs-served chart.
struct Point<'a> {
    plan: &'a str,
    /// $ per million tokens served under its normal policy.
    cost: f64,
    /// Served % with nothing lost, and at its worst single loss (if it has losses).
    none: f64,
    worst: Option<f64>,
    /// The most its scenario can serve with nothing lost, where measured.
    most: Option<f64>,
}

impl Point<'_> {
    /// Serves all demand with nothing lost (as the verdict reads it: "at least", one decimal).
    fn serves_all(&self) -> bool {
        served_label(self.none) == "100%"
    }
    fn highlight(&self) -> bool {
        self.plan == "multi-cloud"
    }
}

/// Each plan as a line across the served axis, from what it serves at its worst single loss
/// (light dot) to what it serves with nothing lost (dark dot), at the height of its $ per
/// million tokens served. Plans that cannot serve all demand with nothing lost are red and say
/// how much they can serve; $/M is only comparable between plans that reach the same served %.
fn cost_vs_served<'a>(r: &'a Resilience, opts: &ChartOptions) -> Figure {
    let c = Scale::new(opts.width, opts.height);
    let what = loss_kind(r);
    let point = |p: &'a crate::resilience::PlanSummary| {
        let none = r.row(&p.plan, "none")?.served_pct;
        let worst = worst(single_losses(r, &p.plan)).map(|x| x.served_pct);
        let (plan, cost, most) = (p.plan.as_str(), p.cost_per_million_tokens, p.max_served_pct);
        Some(Point {
            plan,
            cost,
            none,
            worst,
            most,
        })
    };
    let mut data: Vec<Point> = r.plans.iter().filter_map(point).collect();
    let top = largest(data.iter().map(|d| d.cost));
    // Multi-cloud drawn last (on top) and labelled first (best place); the rest top down.
    data.sort_by(|p, q| {
        let by_cost = q.cost.total_cmp(&p.cost).then(p.none.total_cmp(&q.none));
        let by_cost = by_cost.then(p.plan.cmp(q.plan));
        q.highlight().cmp(&p.highlight()).then(by_cost)
    });
    let colour = |d: &Point| if d.serves_all() { INK } else { SHORT };
    let rule = Stroke::new(AXIS, 2.0, true);
    let mut marks = vec![Mark::rule(100.0, rule, Some("all demand".into()))];
    for d in data.iter().rev() {
        let (y, col) = (d.cost.max(0.0), colour(d));
        // Line width, light and dark dots' radii: larger for the highlighted plan.
        let (width, light, dark) = if d.highlight() {
            (4.0, 10.0, 14.0)
        } else {
            (3.0, 8.0, 10.0)
        };
        let x = d.none.clamp(0.0, 100.0);
        if let Some(w) = d.worst.map(|w| w.clamp(0.0, 100.0)) {
            let line = Stroke::new(col.tint(0.55), width, false);
            marks.push(Mark::Line(line, vec![(w, y), (x, y)]));
            marks.push(Mark::Dot(Dot::new(w, y, light, col.tint(0.45))));
        }
        marks.push(Mark::Dot(Dot::new(x, y, dark, col)));
    }
    for d in &data {
        let (bold, y) = (d.highlight(), d.cost);
        // A plan that falls short with nothing lost says so, with the most it can serve: its
        // $/M buys less than the demand.
        let short = match (d.serves_all(), d.most) {
            (true, _) => String::new(),
            (false, Some(most)) => format!(": cannot serve demand, at most {}", served_label(most)),
            (false, None) => format!(": cannot serve demand, serves {}", served_label(d.none)),
        };
        // The highlighted plan's served % are in the small print: its label stays short.
        let text = match short.is_empty() {
            true => format!("{}: ${y:.2}/M", d.plan),
            false => format!("{}{short}", d.plan),
        };
        let gap = if bold { 24.0 } else { 20.0 };
        let step = LABEL * 0.95 + 6.0;
        // Beside the point first; then stepped down (points are taken top first, so a crowd's
        // labels keep the points' order), then up, then above or below, then on the left.
        let stepped =
            |dx: f64, sign: f64, align| (1..=12).map(move |k| (dx, sign * k as f64 * step, align));
        let mut spots = vec![(gap, 0.0, Align::Left), (-gap, 0.0, Align::Right)];
        if bold {
            // Above its line, ending over its dot (at the right of the frame, where it usually
            // is, beside the dot leaves the frame).
            spots.insert(0, (gap * 0.5, -(gap + step * 0.7), Align::Right));
        }
        spots.extend(stepped(2.0 * gap, 1.0, Align::Left));
        spots.extend(stepped(2.0 * gap, -1.0, Align::Left));
        spots.push((0.0, -gap - step * 0.6, Align::Centre));
        spots.push((0.0, gap + step * 0.4, Align::Centre));
        spots.extend(stepped(-2.0 * gap, 1.0, Align::Right));
        spots.extend(stepped(-2.0 * gap, -1.0, Align::Right));
        let ink = match (bold, d.serves_all()) {
            (true, true) => INK,
            (_, false) => SHORT,
            (false, true) => INK_SOFT,
        };
        let font = Font::new(LABEL, bold, ink);
        let text = font.size(c.px(LABEL)).fit(&text, c.w * 0.5);
        let mut label = Label::at(text, d.none.clamp(0.0, 100.0), y.max(0.0), font);
        label.leader = true;
        marks.push(Mark::Label(label.spots(spots)));
    }
    // A little room either side so points at 0% and 100% are not cut by the frame.
    let x_title = format!(
        "served: dark dot with nothing lost, light dot when the worst single {what} is lost (held reservations, emergency rules)"
    );
    let x = Axis::value_inside(-4.0, 104.0, Unit::Percent).titled(x_title);
    let y_title = "$ per million tokens served (normal policy, nothing lost)";
    let y = Axis::value(0.0, top, Unit::Dollars).titled(y_title);
    let title = "What multi-cloud costs and what it buys".to_string();
    let panels = vec![Panel::new(x, y, marks)];
    let worst_lost = format!("served, worst {what} lost");
    let mut legend = vec![
        Entry::new("served, nothing lost", Swatch::Dot(INK)),
        Entry::new(worst_lost, Swatch::Dot(INK.tint(0.45))),
    ];
    let any_short = data.iter().any(|d| !d.serves_all());
    if any_short {
        legend.push(Entry::new("cannot serve all demand", Swatch::Dot(SHORT)));
    }
    let mut fig = Figure::new(title, subtitle(r), legend, panels);
    if let Some(m) = data.first().filter(|d| d.highlight()) {
        let worst = m.worst.map(|w| {
            let w = served_label(w);
            format!(" and at least {w} when the worst single {what} is lost")
        });
        fig.notes.push(format!(
            "multi-cloud: ${:.2}/M, serves {} with nothing lost{}.",
            m.cost,
            served_label(m.none),
            worst.unwrap_or_default()
        ));
    }
    if any_short {
        fig.notes.push(
            "$/M compares only plans that serve the same: a red plan cannot serve all demand even with nothing lost, so its $/M buys less.".into(),
        );
    }
    let nothing = "No plans to measure".to_string();
    fig.message = data.is_empty().then_some(nothing);
    fig
}
