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
use super::ticks::Unit;
use super::{ChartOptions, Charts};
use crate::robust::{HedgeRow, SampleRow, Tables};
use crate::sweep::risk::mean;
use crate::units::{human, signed_dollars, three_figure_dollars};

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
const STROKES: [Stroke; 2] = [
    Stroke::new(ROBUST, 4.0, false),
    Stroke::new(DETERMINISTIC, 3.5, true),
];

/// Each set of samples (in sample, then the holdout if any) with both plans' values of one
/// measure (`of`: robust, deterministic).
type Sets = Vec<(&'static str, [Vec<f64>; 2])>;

/// A subtitle part from the robust and the deterministic plan's values.
type Says<'a> = &'a dyn Fn(&[f64], &[f64]) -> String;

fn sets(t: &Tables, of: fn(&SampleRow) -> [f64; 2]) -> Sets {
    let both = |set: &str| {
        let rows = t.rows.iter().filter(|r| r.set == set);
        let (r, d): (Vec<f64>, Vec<f64>) = rows.map(|r| (of(r)[0], of(r)[1])).unzip();
        [r, d]
    };
    let holdout = both("holdout");
    let holdout = (!holdout[0].is_empty()).then_some(("holdout:", holdout));
    let in_sample = ("in sample:", both("in_sample"));
    std::iter::once(in_sample).chain(holdout).collect()
}

/// P(value > x) over `values`, %, as a step curve from `lo` to `hi`: the share above `lo` at
/// `lo`, down by one sample's share at each value (ties drop together), 0% right of the largest.
fn exceedance(values: &[f64], lo: f64, hi: f64) -> Vec<(f64, f64)> {
    let share = |k: usize| k as f64 / values.len().max(1) as f64 * 100.0;
    let mut above: Vec<f64> = values.iter().copied().filter(|v| *v > lo).collect();
    above.sort_by(f64::total_cmp);
    let mut points = vec![(lo, share(above.len()))];
    for (i, x) in above.iter().enumerate() {
        points.extend([
            (*x, share(above.len() - i)),
            (*x, share(above.len() - i - 1)),
        ]);
    }
    points.push((hi, 0.0));
    points
}

/// Both plans' exceedance curves over `x`, a panel per set side by side, titled with which
/// samples it shows; `says(robust, deterministic)`: a subtitle part per set after `lead`.
fn curves(title: String, lead: &str, sets: &Sets, x: Axis, y: &str, says: Says<'_>) -> Figure {
    let [robust, deterministic] = STROKES;
    let mut subtitle = vec![lead.to_string()];
    let mut panels = Vec::new();
    for (set, [r, d]) in sets {
        subtitle.push(format!("{set} {}", says(r, d)));
        // The deterministic plan's first, so the robust one is drawn over it where they meet.
        let (lo, hi) = (x.lo, x.hi);
        let marks = vec![
            Mark::Line(deterministic, exceedance(d, lo, hi)),
            Mark::Line(robust, exceedance(r, lo, hi)),
        ];
        let y = Axis::value_inside(0.0, 100.0, Unit::Percent).titled(y);
        let mut panel = Panel::new(x.clone(), y, marks);
        panel.title = Some(match *set {
            "in sample:" => format!("in sample: {} planning samples", r.len()),
            _ => format!("holdout: {} samples never planned on", r.len()),
        });
        panels.push(panel);
    }
    let legend = vec![
        Entry::new("robust plan", Swatch::Line(robust)),
        Entry::new("deterministic plan", Swatch::Line(deterministic)),
    ];
    let mut fig = Figure::new(title, subtitle, legend, panels);
    fig.columns = fig.panels.len();
    fig
}

fn total(t: &Tables) -> Figure {
    let sets = sets(t, |r| [r.robust_total, r.deterministic_total]);
    // One x range for every panel, so the panels read against each other.
    let all = sets.iter().flat_map(|(_, v)| v.iter().flatten().copied());
    let (min, max) = (all.clone().fold(f64::INFINITY, f64::min), largest(all));
    let span = (max - min).max(max.abs() * 1e-6).max(1.0);
    let (lo, hi) = (min - span * 0.04, max + span * 0.04);
    let x = Axis::value_inside(lo, hi, Unit::Dollars).titled("total per sample incl. penalties");
    let (lead, under) = match t.settings.emergency {
        true => ("total = spend + unserved penalties", "under"),
        false => (
            "total = spend + unserved and resilience penalties",
            "without",
        ),
    };
    let says: Says = &|r: &[f64], d: &[f64]| {
        let (r, d) = (three_figure_dollars(mean(r)), three_figure_dollars(mean(d)));
        format!("mean {r} robust vs {d} deterministic")
    };
    let title = format!(
        "Total per sample: robust vs deterministic plan, {}",
        t.sweep
    );
    let y = "share of samples with a larger total";
    let mut fig = curves(title, lead, &sets, x, y, says);
    fig.notes = vec![format!(
        "each plan's reservations held on every sample of {} ({}), {under} emergency rules; lower and further left is better",
        t.sweep, t.scenario,
    )];
    fig
}

fn unserved(t: &Tables) -> Figure {
    let of = |r: &SampleRow| [r.robust_unserved_tokens, r.deterministic_unserved_tokens];
    let sets = sets(t, of);
    let max = largest(sets.iter().flat_map(|(_, v)| v.iter().flatten().copied()));
    let x = Axis::value_inside(0.0, (max * 1.04).max(1.0), Unit::Tokens);
    let share = |v: &[f64]| {
        let n = v.len().max(1) as f64;
        v.iter().filter(|x| **x > 0.0).count() as f64 / n * 100.0
    };
    let says: Says = &|r: &[f64], d: &[f64]| {
        let (pr, pd, mr, md) = (share(r), share(d), human(mean(r)), human(mean(d)));
        format!("P(shortfall) {pr:.1}% robust vs {pd:.1}% deterministic, mean {mr} vs {md} tokens")
    };
    let title = format!(
        "Unserved tokens per sample: robust vs deterministic plan, {}",
        t.sweep
    );
    let lead = "share of samples leaving more than x tokens unserved";
    let (x, y) = (
        x.titled("unserved tokens over the horizon"),
        "share of samples with more unserved",
    );
    let mut fig = curves(title, lead, &sets, x, y, says);
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
    let (fit, cut) = c.rows_that_fit(count, 1.5);
    subtitle.splice(1..1, cut);
    let shown: Vec<&HedgeRow> = order.iter().take(fit).copied().collect();
    let (mut marks, mut top) = (Vec::new(), 0.0f64);
    for (i, h) in (0..).map(f64::from).zip(&shown) {
        // The robust plan's bar over the deterministic one's.
        let bars = [h.robust_reserved_tpm, h.deterministic_reserved_tpm];
        for (tpm, (y, fill)) in bars
            .into_iter()
            .zip([(0.14, ROBUST), (0.52, DETERMINISTIC)])
        {
            if tpm > 0.0 {
                marks.push(Mark::rect((0.0, tpm), (i + y, i + y + 0.34), fill));
                top = top.max(tpm);
            }
        }
    }
    let names = shown.iter().map(|h| (h.tranche.clone(), h.differs()));
    let mut y = Category::slots(names);
    let used = |h: &&HedgeRow| match h.change_capacity_used_pct {
        Some(p) => format!("{}%", crate::units::fixed(p.round())),
        None => String::new(),
    };
    y.head = Some("tranche".into());
    let change = shown.iter().map(|h| h.change_text()).collect();
    y.table = vec![
        ("change".into(), change),
        ("used".into(), shown.iter().map(used).collect()),
    ];
    let y = Axis::category(y);
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
        let z = exceedance(&[0.0, 0.0, 5.0, 7.0], 0.0, 8.0);
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
