//! Chart stage: axis ticks. Round values in human units (`15B tok/min`, `$1.2M`) on the y axis and
//! calendar-aligned dates (`Jan 2026`, `Mar 5`, `06:00`) on the time axis, as dense as the labels allow.

use crate::units::{scale_of, scaled_number};
use chrono::{DateTime, Datelike, Duration, NaiveDate, NaiveTime, TimeZone, Timelike, Utc};

/// What an axis measures; decides the tick label format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unit {
    TokensPerMinute,
    /// Token counts: `4.3T`, `1.2 quadrillion`.
    Tokens,
    Dollars,
    Percent,
    /// A change of a percentage: `−20 pp`.
    Points,
}

/// A value axis: its range and its labelled ticks.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Ticks {
    pub lo: f64,
    pub hi: f64,
    pub labels: Vec<(f64, String)>,
}

/// The largest magnitude an axis spans: beyond it (values up to f64::MAX) ranges are clamped, so
/// every step, count and coordinate below stays finite.
const LIMIT: f64 = f64::MAX / 4.0;

/// Ticks at round steps (1, 2, 2.5, 5 × 10^k), at most `most` intervals, through zero when
/// the range holds it. `round_out`: the axis widens to whole steps with a little headroom (data
/// drawn from zero); otherwise the range stays and the ticks fall inside it. Labels are signed
/// (`+$5B`, `−$5B`) when a tick is below zero. Bounded for any input: NaN and infinities are
/// clamped, and at most `most` + 2 ticks are made.
pub(crate) fn value_ticks((lo, hi): (f64, f64), most: usize, unit: Unit, round_out: bool) -> Ticks {
    let clean = |v: f64| (if v.is_nan() { 0.0 } else { v }).clamp(-LIMIT, LIMIT);
    let (mut lo, mut hi) = (clean(lo), clean(hi));
    if round_out {
        // A little headroom so the tallest stack does not touch the top of the frame.
        (lo, hi) = (lo.min(0.0) * 1.03, hi.max(0.0) * 1.03);
    }
    if hi - lo <= hi.abs().max(lo.abs()) * 1e-12 {
        // One value: a little either side of it, or up to 1 from zero.
        let pad = hi.abs() * 0.05;
        (lo, hi) = (lo - pad, hi + pad);
        if pad == 0.0 {
            (lo, hi) = (lo.min(0.0), 1.0);
        }
    }
    let max_ticks = most.max(2) as f64;
    let magnitude = 10f64.powi(((hi - lo) / max_ticks).log10().floor() as i32);
    let intervals = |s: f64| match round_out {
        true => (hi / s).ceil() - (lo / s).floor(),
        false => (hi - lo) / s,
    };
    let steps = [1.0, 2.0, 2.5, 5.0, 10.0].map(|m| m * magnitude);
    let step = steps.into_iter().find(|s| intervals(*s) <= max_ticks);
    let step = step.unwrap_or(10.0 * magnitude);
    if round_out {
        (lo, hi) = ((lo / step).floor() * step, (hi / step).ceil() * step);
    }
    let first = (lo / step - 1e-9).ceil() * step;
    let values = (0..max_ticks as usize + 2).map(|k| first + step * k as f64);
    let values = values.take_while(|v| *v <= hi + step * 1e-9);
    let snap = |v: f64| if v.abs() < step * 1e-9 { 0.0 } else { v };
    let values: Vec<f64> = values.map(snap).collect();
    let (scale, suffix) = scale_of(lo.abs().max(hi.abs()));
    let whole = |d: &i32| {
        let scaled = step / scale * 10f64.powi(*d);
        (scaled - scaled.round()).abs() < 1e-6 * scaled.max(1.0)
    };
    let decimals = (0..=3).find(whole).unwrap_or(3) as usize;
    let signed = values.first().is_some_and(|v| *v < 0.0);
    let label = |v: f64| {
        let text = format_value(v.abs(), scale, suffix, decimals, unit);
        let sign = match v {
            v if signed && v > 0.0 => "+",
            v if signed && v < 0.0 => "\u{2212}",
            _ => "",
        };
        (v, format!("{sign}{text}"))
    };
    let labels = values.into_iter().map(label).collect();
    Ticks { lo, hi, labels }
}

fn format_value(v: f64, scale: f64, suffix: &str, decimals: usize, unit: Unit) -> String {
    let n = || scaled_number(v, scale, suffix, decimals);
    match unit {
        Unit::Dollars if v == 0.0 => "$0".into(),
        Unit::Percent if v == 0.0 => "0%".into(),
        Unit::Points if v == 0.0 => "0 pp".into(),
        _ if v == 0.0 => "0".into(),
        Unit::TokensPerMinute => format!("{} tok/min", n()),
        Unit::Tokens => n(),
        Unit::Dollars => format!("${}", n()),
        Unit::Percent => format!("{}%", scaled_number(v, 1.0, "", decimals)),
        Unit::Points => format!("{} pp", scaled_number(v, 1.0, "", decimals)),
    }
}

/// A gridline on the time axis, and the label that goes with it (centred on its first value).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct TimeTick {
    pub at_s: f64,
    pub label: Option<(f64, String)>,
}

const DAY: i64 = 86_400;

/// Time steps, finest first: hours (1 to 12), days (1, 2), weeks, months (12 and more: years).
const HOURS: [i64; 8] = [1, 2, 3, 6, 12, 24, 48, 168];
const MONTHS: [i32; 9] = [1, 2, 3, 6, 12, 24, 60, 120, 600];

/// A tick step: a fixed number of seconds (hours, days, weeks from Monday) or calendar months.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Step {
    Secs(i64),
    Months(i32),
}

/// The first instant of a month counted from year 0 (`year * 12 + month0`).
fn month(index: i32) -> DateTime<Utc> {
    let (year, month) = (index.div_euclid(12), index.rem_euclid(12) as u32 + 1);
    let day = NaiveDate::from_ymd_opt(year, month, 1).expect("a valid month");
    Utc.from_utc_datetime(&day.and_time(NaiveTime::MIN))
}

impl Step {
    /// The first tick at or before `t`.
    fn floor(self, t: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Step::Secs(n) => {
                // Weeks start on Monday; 1970-01-01 was a Thursday.
                let from = if n == 7 * DAY { 4 * DAY } else { 0 };
                let s = (t.timestamp() - from).div_euclid(n) * n + from;
                DateTime::from_timestamp(s, 0).expect("inside the calendar")
            }
            Step::Months(k) => month((t.year() * 12 + t.month0() as i32).div_euclid(k) * k),
        }
    }

    fn next(self, t: DateTime<Utc>) -> DateTime<Utc> {
        match self {
            Step::Secs(n) => t + Duration::seconds(n),
            Step::Months(k) => month(t.year() * 12 + t.month0() as i32 + k),
        }
    }

    /// Label of a tick. `first` ticks carry the year so the axis says which year it is.
    fn label(self, t: DateTime<Utc>, first: bool) -> String {
        let format = match self {
            Step::Secs(_) if t.hour() != 0 => "%H:%M",
            Step::Secs(_) if first || t.ordinal() == 1 => "%b %-d %Y",
            Step::Secs(_) => "%b %-d",
            Step::Months(k) if k >= 12 => "%Y",
            Step::Months(_) if first || t.month() == 1 => "%b %Y",
            Step::Months(_) => "%b",
        };
        t.format(format).to_string()
    }

    /// Calendar units are labelled in the middle of the span they name ("Mar" under March);
    /// finer or multi-unit steps label the instant at the gridline.
    fn labels_span(self) -> bool {
        matches!(self, Step::Secs(DAY) | Step::Months(1) | Step::Months(12))
    }

    /// Shortest length of a step, seconds (a month is at least 28 days, a year 365).
    fn min_length_s(self) -> f64 {
        let day = DAY as f64;
        match self {
            Step::Secs(n) => n as f64,
            Step::Months(k) if k >= 12 => f64::from(k / 12) * 365.0 * day,
            Step::Months(k) => f64::from(k) * 28.0 * day,
        }
    }
}

/// Ticks for `(start_s, end_s)` on an axis `width_px` wide: the finest calendar step, no shorter
/// than `min_step_s` (bars of a month get month ticks, not weekly ones that would read as weekly
/// bars), whose labels fit side by side, each `room(text)` wide (the text and a gap around it).
/// Instants outside the years 1–9999 are clamped to them, so a step never leaves the calendar.
pub(crate) fn time_ticks(
    (start_s, end_s): (f64, f64),
    width_px: f64,
    room: &dyn Fn(&str) -> f64,
    min_step_s: f64,
) -> Vec<TimeTick> {
    const FIRST: f64 = -62_135_596_800.0; // 0001-01-01
    const LAST: f64 = 253_402_300_799.0 - 100.0 * 365.0 * 86_400.0; // a century before 9999
    let clean = |v: f64| (if v.is_nan() { 0.0 } else { v }).clamp(FIRST, LAST);
    let (start_s, end_s) = (clean(start_s), clean(end_s));
    let time = |s: f64| DateTime::from_timestamp(s.floor() as i64, 0).unwrap_or_default();
    let (t0, t1) = (time(start_s), time(end_s.max(start_s + 1.0)));
    let px_per_s = width_px / (end_s - start_s).max(1.0);
    let steps = HOURS.iter().map(|h| Step::Secs(h * 3600));
    let steps = steps.chain(MONTHS.iter().map(|m| Step::Months(*m)));
    let mut fallback = Vec::new();
    for step in steps.filter(|s| s.min_length_s() >= min_step_s * 0.999) {
        let mut ticks: Vec<TimeTick> = Vec::new();
        let mut t = step.floor(t0);
        // Bounded: the coarsest step has few ticks, and a step with hundreds of ticks cannot fit.
        let mut guard = 0;
        while t <= t1 && guard < 2000 {
            let (after, at_s) = (step.next(t), t.timestamp() as f64);
            let in_domain = at_s >= start_s && at_s <= end_s;
            let label_at = if step.labels_span() {
                // Label a span only when most of it is on the axis, so a stub is not named.
                let (a, b) = (at_s.max(start_s), (after.timestamp() as f64).min(end_s));
                (b - a >= 0.5 * (after.timestamp() as f64 - at_s)).then_some((a + b) / 2.0)
            } else {
                in_domain.then_some(at_s)
            };
            if in_domain || label_at.is_some() {
                let first = !ticks.iter().any(|x| x.label.is_some());
                let label = label_at.map(|x| (x, step.label(t, first)));
                ticks.push(TimeTick { at_s, label });
            }
            t = after;
            guard += 1;
        }
        if guard >= 2000 {
            continue;
        }
        let labelled: Vec<&(f64, String)> = ticks.iter().filter_map(|t| t.label.as_ref()).collect();
        let fits = labelled.windows(2).all(|w| {
            let space = (w[1].0 - w[0].0) * px_per_s;
            space >= (room(&w[0].1) + room(&w[1].1)) / 2.0
        });
        if fits && !labelled.is_empty() {
            return ticks;
        }
        fallback = ticks;
    }
    fallback
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_ticks_are_round_and_human() {
        let t = value_ticks((0.0, 14.2e9), 6, Unit::TokensPerMinute, true);
        assert_eq!(t.hi, 15e9);
        assert_eq!(t.labels[1].1, "2.5B tok/min");
        assert_eq!(t.labels.last().unwrap().1, "15.0B tok/min");
        let t = value_ticks((0.0, 1.15e6), 5, Unit::Dollars, true);
        assert_eq!(t.labels[0].1, "$0");
        assert!(t.labels.iter().any(|l| l.1 == "$1.25M"), "{:?}", t.labels);
        // Inside a fixed range: percentages of a scatter axis with room either side.
        let t = value_ticks((-4.0, 104.0), 6, Unit::Percent, false);
        let labels: Vec<&str> = t.labels.iter().map(|l| l.1.as_str()).collect();
        assert_eq!(labels, ["0%", "20%", "40%", "60%", "80%", "100%"]);
    }

    #[test]
    fn signed_ticks_pass_through_zero() {
        let t = value_ticks((-3.2e9, 7.9e9), 6, Unit::Dollars, true);
        assert!(t.lo < -3.2e9 && t.hi > 7.9e9);
        assert!(t.labels.iter().any(|l| l.0 == 0.0 && l.1 == "$0"));
        assert!(t.labels.iter().any(|l| l.1.starts_with('\u{2212}')));
        assert!(t.labels.iter().any(|l| l.1.starts_with('+')));
    }

    #[test]
    fn absurd_values_give_few_short_labels() {
        for (lo, hi) in [
            (0.0, 1.7e308),
            (1e305, 1.7e308),
            (f64::NEG_INFINITY, f64::INFINITY),
            (f64::NAN, 5.0),
            (3.0, 3.0),
            (0.0, 1e-300),
        ] {
            let t = value_ticks((lo, hi), 8, Unit::TokensPerMinute, true);
            let finite = t.lo.is_finite() && t.hi.is_finite() && t.hi > t.lo;
            assert!(finite, "{lo} {hi}: {t:?}");
            let few = !t.labels.is_empty() && t.labels.len() <= 10;
            assert!(few, "{lo} {hi}: {t:?}");
            assert!(t.labels.iter().all(|l| l.1.len() < 30), "{t:?}");
        }
        let far = time_ticks((0.0, 1e300), 1000.0, &|s| 9.0 * s.len() as f64 + 10.0, 0.0);
        assert!(far.len() < 2000);
    }

    fn at(m: u32) -> f64 {
        let t = Utc.with_ymd_and_hms(2026, m, 1, 0, 0, 0).unwrap();
        t.timestamp() as f64
    }

    fn texts(ticks: &[TimeTick]) -> Vec<&str> {
        let labels = ticks.iter().filter_map(|t| t.label.as_ref());
        labels.map(|l| l.1.as_str()).collect()
    }

    #[test]
    fn months_are_labelled_in_their_middle() {
        let end = at(12) + 31.0 * 86_400.0;
        let ticks = time_ticks((at(1), end), 1500.0, &|s| 9.0 * s.len() as f64 + 10.0, 0.0);
        let labels = texts(&ticks);
        assert_eq!(labels.len(), 12);
        assert_eq!(labels[0], "Jan 2026");
        assert_eq!(labels[1], "Feb");
        assert!(ticks[0].label.as_ref().unwrap().0 > at(1));
    }

    #[test]
    fn bars_of_a_month_get_no_weekly_ticks() {
        let width = |s: &str| 9.0 * s.len() as f64 + 10.0;
        let fine = time_ticks((at(1), at(4)), 1500.0, &width, 0.0);
        assert!(
            fine.len() > 3,
            "three months on a wide axis get finer ticks"
        );
        let monthly = time_ticks((at(1), at(4)), 1500.0, &width, 28.0 * 86_400.0);
        let labels = texts(&monthly);
        assert_eq!(labels, ["Jan 2026", "Feb", "Mar"]);
    }
}
