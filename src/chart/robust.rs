//! Chart stage, robust plans: the robust and the deterministic plan held on the same samples,
//! drawn from the rows of `capplan robust` (never the solver), so a folder read back gives the
//! same bytes.
//!
//! - `robust_total`: exceedance curves of each sample's total (spend + penalties, what the
//!   robust plan minimises), both plans on one axis; the planning samples in one panel, the
//!   holdout (never planned on) beside it.
//! - `robust_unserved`: the same for the tokens each sample leaves unserved.
//! - `robust_hedge`: per tranche with a reservation decision, each plan's reservation as a pair
//!   of bars, the tranches that differ first (largest change first), with the change written
//!   beside each (GPUs where the tranche is in GPUs).

use super::figure::{largest, Axis, Category, Entry, Figure, Mark, Panel, Stroke, Swatch};
use super::layout::Scale;
use super::palette::{rgb, Rgba};
use super::ticks::{dollars, signed_dollars, Unit};
use super::{ChartOptions, Charts};
use crate::robust::{HedgeRow, SampleRow, Tables};
use crate::units::human;

/// The stems of the robust charts (each written as `.png` and `.svg`).
pub const ROBUST_CHART_STEMS: [&str; 3] = ["robust_hedge", "robust_total", "robust_unserved"];

/// The robust plan (Okabe–Ito blue) and the deterministic one (orange), in every chart.
const ROBUST: Rgba = rgb(0x0072B2);
const DETERMINISTIC: Rgba = rgb(0xE69F00);

/// Draws every robust chart, in memory, sorted by file name.
pub fn render_all(t: &Tables, opts: &ChartOptions) -> Charts {
    let scale = Scale::new(opts.width, opts.height);
    let figures = vec![
        ("robust_total", total(t)),
        ("robust_unserved", unserved(t)),
        ("robust_hedge", hedge(t, &scale)),
    ];
    super::render(figures, opts)
}

/// The lines of both plans: solid blue for the robust plan, dashed orange for the
/// deterministic one (told apart without colour too).
fn strokes() -> [Stroke; 2] {
    [
        Stroke::new(ROBUST, 4.0, false),
        Stroke::new(DETERMINISTIC, 3.5, true),
    ]
}

fn legend() -> Vec<Entry> {
    let [r, d] = strokes();
    vec![
        Entry::new("robust plan", Swatch::Line(r)),
        Entry::new("deterministic plan", Swatch::Line(d)),
    ]
}

/// The rows of each set: (`in_sample` rows, holdout rows).
fn sets(t: &Tables) -> Vec<(&'static str, Vec<&SampleRow>)> {
    let of = |set: &str| t.rows.iter().filter(|r| r.set == set).collect::<Vec<_>>();
    let mut out = vec![("in_sample", of("in_sample"))];
    let holdout = of("holdout");
    if !holdout.is_empty() {
        out.push(("holdout", holdout));
    }
    out
}

/// A panel's title: which samples it shows.
fn set_title(set: &str, count: usize) -> String {
    match set {
        "in_sample" => format!("in sample: {count} planning samples"),
        _ => format!("holdout: {count} samples never planned on"),
    }
}

/// P(value > x) over `values`, %, as a step curve from `lo` to `hi`: 100% left of the smallest
/// value, down by one sample's share at each value (ties drop together), 0% right of the largest.
fn exceedance(values: &[f64], lo: f64, hi: f64) -> Vec<(f64, f64)> {
    let mut v: Vec<f64> = values.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len().max(1) as f64;
    let mut points = vec![(lo, 100.0)];
    let mut above = 100.0;
    for (i, x) in v.iter().enumerate() {
        points.push((*x, above));
        above = (v.len() - i - 1) as f64 / n * 100.0;
        points.push((*x, above));
    }
    points.push((hi, 0.0));
    points
}

/// P(value > x) for values that start at zero (unserved tokens): the share above zero at x = 0.
fn exceedance_from_zero(values: &[f64], hi: f64) -> Vec<(f64, f64)> {
    let n = values.len().max(1) as f64;
    let mut positive: Vec<f64> = values.iter().copied().filter(|v| *v > 0.0).collect();
    positive.sort_by(f64::total_cmp);
    let mut above = positive.len() as f64 / n * 100.0;
    let mut points = vec![(0.0, above)];
    for (i, x) in positive.iter().enumerate() {
        points.push((*x, above));
        above = (positive.len() - i - 1) as f64 / n * 100.0;
        points.push((*x, above));
    }
    points.push((hi, 0.0));
    points
}

fn mean(values: &[f64]) -> f64 {
    values.iter().sum::<f64>() / values.len().max(1) as f64
}

/// What the total is: spend plus the penalties the samples are dispatched under.
fn total_is(t: &Tables) -> &'static str {
    if t.settings.emergency {
        "total = spend + unserved penalties"
    } else {
        "total = spend + unserved and resilience penalties"
    }
}

fn total(t: &Tables) -> Figure {
    let sets = sets(t);
    let values = |rows: &[&SampleRow], robust: bool| -> Vec<f64> {
        let v = |r: &&SampleRow| match robust {
            true => r.robust_total,
            false => r.deterministic_total,
        };
        rows.iter().map(v).collect()
    };
    // One x range for every panel, so the panels read against each other.
    let all = sets.iter().flat_map(|(_, rows)| {
        let both = rows
            .iter()
            .flat_map(|r| [r.robust_total, r.deterministic_total]);
        both.collect::<Vec<_>>()
    });
    let (min, max) = all.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    let span = (max - min).max(max.abs() * 1e-6).max(1.0);
    let (lo, hi) = (min - span * 0.04, max + span * 0.04);
    let [rs, ds] = strokes();
    let mut subtitle = vec![total_is(t).to_string()];
    let panels = sets
        .iter()
        .map(|(set, rows)| {
            let (r, d) = (values(rows, true), values(rows, false));
            subtitle.push(format!(
                "{} mean {} robust vs {} deterministic",
                match *set {
                    "in_sample" => "in sample:",
                    _ => "holdout:",
                },
                dollars(mean(&r)),
                dollars(mean(&d)),
            ));
            // The deterministic plan's first, so the robust one is drawn over it where they meet.
            let marks = vec![
                Mark::Line(ds, exceedance(&d, lo, hi)),
                Mark::Line(rs, exceedance(&r, lo, hi)),
            ];
            let x = Axis::value_inside(lo, hi, Unit::Dollars)
                .titled("total per sample incl. penalties");
            let y = Axis::value_inside(0.0, 100.0, Unit::Percent)
                .titled("share of samples with a larger total");
            let mut panel = Panel::new(x, y, marks);
            panel.title = Some(set_title(set, rows.len()));
            panel
        })
        .collect::<Vec<_>>();
    let title = format!(
        "Total per sample: robust vs deterministic plan, {}",
        t.sweep
    );
    let mut fig = Figure::new(title, subtitle, legend(), panels);
    fig.columns = fig.panels.len();
    fig.notes = vec![format!(
        "each plan's reservations held on every sample of {} ({}), {} emergency rules; lower and further left is better",
        t.sweep,
        t.scenario,
        if t.settings.emergency { "under" } else { "without" },
    )];
    fig
}

fn unserved(t: &Tables) -> Figure {
    let sets = sets(t);
    let values = |rows: &[&SampleRow], robust: bool| -> Vec<f64> {
        let v = |r: &&SampleRow| match robust {
            true => r.robust_unserved_tokens,
            false => r.deterministic_unserved_tokens,
        };
        rows.iter().map(v).collect()
    };
    let all = sets.iter().flat_map(|(_, rows)| {
        let both = rows
            .iter()
            .flat_map(|r| [r.robust_unserved_tokens, r.deterministic_unserved_tokens]);
        both.collect::<Vec<_>>()
    });
    let max = largest(all);
    let hi = max * 1.04;
    let [rs, ds] = strokes();
    let share = |v: &[f64]| {
        let n = v.len().max(1) as f64;
        v.iter().filter(|x| **x > 0.0).count() as f64 / n * 100.0
    };
    let mut subtitle = vec!["share of samples leaving more than x tokens unserved".to_string()];
    let panels = sets
        .iter()
        .map(|(set, rows)| {
            let (r, d) = (values(rows, true), values(rows, false));
            subtitle.push(format!(
                "{} P(shortfall) {:.1}% robust vs {:.1}% deterministic, mean {} vs {} tokens",
                match *set {
                    "in_sample" => "in sample:",
                    _ => "holdout:",
                },
                share(&r),
                share(&d),
                human(mean(&r)),
                human(mean(&d)),
            ));
            let marks = vec![
                Mark::Line(ds, exceedance_from_zero(&d, hi)),
                Mark::Line(rs, exceedance_from_zero(&r, hi)),
            ];
            let x = Axis::value_inside(0.0, hi.max(1.0), Unit::Tokens)
                .titled("unserved tokens over the horizon");
            let y = Axis::value_inside(0.0, 100.0, Unit::Percent)
                .titled("share of samples with more unserved");
            let mut panel = Panel::new(x, y, marks);
            panel.title = Some(set_title(set, rows.len()));
            panel
        })
        .collect::<Vec<_>>();
    let title = format!(
        "Unserved tokens per sample: robust vs deterministic plan, {}",
        t.sweep
    );
    let mut fig = Figure::new(title, subtitle, legend(), panels);
    fig.columns = fig.panels.len();
    if max <= 0.0 {
        fig.message = Some("Neither plan leaves any demand unserved in any sample.".into());
    }
    fig
}

/// The tranches in the order the hedge chart shows them: those that differ, largest change of
/// reserved tokens per minute first, then the rest by reservation, largest first (names break
/// ties).
fn hedge_order(rows: &[HedgeRow]) -> Vec<&HedgeRow> {
    let mut order: Vec<&HedgeRow> = rows.iter().collect();
    order.sort_by(|a, b| {
        b.differs()
            .cmp(&a.differs())
            .then_with(|| b.change_tpm.abs().total_cmp(&a.change_tpm.abs()))
            .then_with(|| b.robust_reserved_tpm.total_cmp(&a.robust_reserved_tpm))
            .then_with(|| a.tranche.cmp(&b.tranche))
    });
    order
}

fn hedge(t: &Tables, c: &Scale) -> Figure {
    let order = hedge_order(&t.hedge);
    let count = order.len();
    let differ = order.iter().filter(|h| h.differs()).count();
    let change: f64 = t.hedge.iter().map(|h| h.change_commit_cost).sum();
    let mut subtitle = vec![
        format!("{differ} of {count} tranches reserved differently"),
        format!("commitment {} in the robust plan", signed_dollars(change)),
        "bars: reserved tokens per minute".into(),
    ];
    // Rows that fit: as the run's commitments chart fits them.
    let fit = ((c.plot_height() / (c.min_em() * 1.5)).floor() as usize).max(1);
    let shown: Vec<&HedgeRow> = order.iter().take(fit).copied().collect();
    if fit < count {
        subtitle.insert(1, format!("first {fit} of {count} shown (image too small)"));
    }
    let mut marks = Vec::new();
    for (i, h) in shown.iter().enumerate() {
        let i = i as f64;
        let (robust_y, det_y) = ((i + 0.14, i + 0.48), (i + 0.52, i + 0.86));
        if h.robust_reserved_tpm > 0.0 {
            marks.push(Mark::rect((0.0, h.robust_reserved_tpm), robust_y, ROBUST));
        }
        if h.deterministic_reserved_tpm > 0.0 {
            let x = (0.0, h.deterministic_reserved_tpm);
            marks.push(Mark::rect(x, det_y, DETERMINISTIC));
        }
    }
    let top = largest(
        shown
            .iter()
            .flat_map(|h| [h.robust_reserved_tpm, h.deterministic_reserved_tpm]),
    );
    let names = shown.iter().map(|h| (h.tranche.clone(), h.differs()));
    let mut y = Category::slots(names);
    let used = |h: &&HedgeRow| match h.change_capacity_used_pct {
        Some(p) => format!("{}%", crate::units::fixed(p.round())),
        None => String::new(),
    };
    y.head = Some("tranche".into());
    y.table = vec![
        (
            "change".into(),
            shown.iter().map(|h| h.change_text()).collect(),
        ),
        ("used".into(), shown.iter().map(used).collect()),
    ];
    let mut y = Axis::category(y);
    y.hi = shown.len().max(1) as f64;
    let x = Axis::value_inside(0.0, (top * 1.02).max(1.0), Unit::TokensPerMinute)
        .titled("reserved tokens per minute");
    let panel = Panel::new(x, y, marks);
    let legend = vec![
        Entry::new("robust plan", Swatch::Fill(ROBUST)),
        Entry::new("deterministic plan", Swatch::Fill(DETERMINISTIC)),
    ];
    let title = format!(
        "The hedge: what the robust plan reserves differently, {}",
        t.sweep
    );
    let mut fig = Figure::new(title, subtitle, legend, vec![panel]);
    fig.notes = vec![format!(
        "tranches that differ in bold, first; used: how much of the change's capacity-time the plan that has it dispatches, mean over the {} planning samples",
        t.settings.samples
    )];
    if count == 0 {
        fig.message =
            Some("No tranche has a reservation to choose: both plans are on-demand only.".into());
    }
    fig
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exceedance_steps_down_one_share_per_sample() {
        // Three samples, two tied: 100% left of 10, 66.7% from 10 to 20, 0% from 20.
        let p = exceedance(&[20.0, 10.0, 20.0], 0.0, 30.0);
        let third = 100.0 / 3.0;
        assert_eq!(p.first(), Some(&(0.0, 100.0)));
        assert_eq!(p.last(), Some(&(30.0, 0.0)));
        assert!(p.contains(&(10.0, 100.0)));
        assert!(p
            .iter()
            .any(|q| q.0 == 10.0 && (q.1 - 2.0 * third).abs() < 1e-9));
        assert!(p.iter().any(|q| q.0 == 20.0 && q.1 == 0.0));
        // From zero: the share with any unserved at x = 0.
        let z = exceedance_from_zero(&[0.0, 0.0, 5.0, 7.0], 8.0);
        assert_eq!(z[0], (0.0, 50.0));
        assert_eq!(z.last(), Some(&(8.0, 0.0)));
    }

    #[test]
    fn tranches_that_differ_come_first_largest_change_first() {
        let row = |name: &str, r: f64, d: f64| HedgeRow {
            tranche: name.into(),
            robust_reserved_fraction: r,
            deterministic_reserved_fraction: d,
            robust_reserved_tpm: r * 100.0,
            deterministic_reserved_tpm: d * 100.0,
            change_tpm: (r - d) * 100.0,
            ..HedgeRow::default()
        };
        let rows = [
            row("same-big", 0.9, 0.9),
            row("small-change", 0.5, 0.4),
            row("big-cut", 0.1, 0.6),
            row("same-small", 0.2, 0.2),
        ];
        let names: Vec<&str> = hedge_order(&rows)
            .iter()
            .map(|h| h.tranche.as_str())
            .collect();
        assert_eq!(names, ["big-cut", "small-change", "same-big", "same-small"]);
    }
}
