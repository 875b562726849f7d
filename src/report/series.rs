//! Report stage: the chart tables as dense series, one value per period (`[provider][period]`,
//! `[region][period]`, …), the statistics the run charts state (spare capacity, unserved tokens,
//! the largest provider share), and the display bins — periods, or days, weeks or months on long
//! horizons — with the means, peaks and sums drawn over them. Charts read these and reshape
//! nothing themselves.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ops::Range;

use chrono::{DateTime, Datelike, Duration, NaiveTime, TimeZone, Utc};

use super::tables::{ChartTables, CommitmentRow};
use crate::error::{Error, Result};
use crate::units::{format_time, parse_time};

/// One period of the horizon; a value holds from `start` for `minutes`.
#[derive(Debug, Clone, PartialEq)]
pub struct Period {
    pub start: DateTime<Utc>,
    /// Seconds since the Unix epoch (the charts' x coordinate).
    pub start_s: f64,
    pub minutes: f64,
}

impl Period {
    pub fn end_s(&self) -> f64 {
        self.start_s + self.minutes * 60.0
    }
}

/// Per-period series, in the orders of `providers` and `regions`.
#[derive(Debug, Clone)]
pub struct Series {
    pub periods: Vec<Period>,
    /// In the order the caller asks for (the charts' one stack order).
    pub providers: Vec<String>,
    /// Demand regions, by name.
    pub regions: Vec<String>,
    /// `[provider][period]`, tokens per minute.
    pub reserved_tpm: Vec<Vec<f64>>,
    pub available_tpm: Vec<Vec<f64>>,
    pub served_tpm: Vec<Vec<f64>>,
    /// Of `served_tpm`, served by on-demand tranches (no reservation decision).
    pub on_demand_tpm: Vec<Vec<f64>>,
    /// Of `available_tpm`, the capacity of on-demand tranches.
    pub on_demand_available_tpm: Vec<Vec<f64>>,
    /// The run was held to a signed plan: capacity beyond its reservations is not the plan's.
    pub held: bool,
    /// `[provider][period]`, $: the commitment cost attributed to the period.
    pub commit_usd: Vec<Vec<f64>>,
    /// `[provider][period]`, $: usage + route cost in the period.
    pub usage_usd: Vec<Vec<f64>>,
    /// `[period]`, over demand regions.
    pub demand_tpm: Vec<f64>,
    /// Served in the period, whatever the tokens' arrival.
    pub served_total_tpm: Vec<f64>,
    /// Arrived in the period and never served.
    pub unserved_total_tpm: Vec<f64>,
    /// `[region][period]`.
    pub region_demand_tpm: Vec<Vec<f64>>,
    /// `[region][provider][period]`, from the allocation rows.
    pub region_served_tpm: Vec<Vec<Vec<f64>>>,
}

fn finite(value: f64, what: &str, at: &DateTime<Utc>) -> Result<f64> {
    if value.is_finite() {
        return Ok(value);
    }
    let at = format_time(at);
    Err(Error::Chart(format!(
        "{what} at {at} is not a finite number ({value})"
    )))
}

/// The distinct names, sorted by `key`, and each one's index.
fn index<'a, K: Ord>(
    names: impl Iterator<Item = &'a str>,
    key: impl Fn(&str) -> K,
) -> (Vec<String>, HashMap<&'a str, usize>) {
    let mut list: Vec<&str> = names.collect::<BTreeSet<_>>().into_iter().collect();
    list.sort_by_cached_key(|n| key(n));
    let at = list.iter().enumerate().map(|(i, n)| (*n, i)).collect();
    (list.into_iter().map(String::from).collect(), at)
}

impl Series {
    /// Providers sorted by `order`, regions by name. Every value must be finite, and every
    /// allocation row's period one of the provider or region rows'.
    pub fn from_tables<K: Ord>(t: &ChartTables, order: impl Fn(&str) -> K) -> Result<Series> {
        let mut lengths = BTreeMap::new();
        let pp = t.provider_periods.iter().map(|r| (r.period, r.minutes));
        for (at, minutes) in pp.chain(t.region_periods.iter().map(|r| (r.period, r.minutes))) {
            lengths.insert(at, finite(minutes, "minutes", &at)?.max(0.0));
        }
        if lengths.is_empty() {
            return Err(Error::Chart("the report has no periods to draw".into()));
        }
        let period: HashMap<DateTime<Utc>, usize> =
            lengths.keys().enumerate().map(|(i, t)| (*t, i)).collect();
        let period = |at: &DateTime<Utc>| {
            period.get(at).copied().ok_or_else(|| {
                let at = format_time(at);
                let msg = format!(
                    "allocation row at {at} has no period in provider_periods or region_periods"
                );
                Error::Chart(msg)
            })
        };
        let alloc = &t.allocation;
        let names = t.provider_periods.iter().map(|r| r.provider.as_str());
        let (providers, p_at) = index(names.chain(alloc.iter().map(|r| &*r.provider)), order);
        let names = t.region_periods.iter().map(|r| r.region.as_str());
        let regions = names.chain(alloc.iter().map(|r| &*r.demand_region));
        let (regions, r_at) = index(regions, |r: &str| r.to_string());
        let (n, np) = (lengths.len(), providers.len());
        let zeros = |rows: usize| vec![vec![0.0; n]; rows];
        let mut s = Series {
            periods: lengths
                .into_iter()
                .map(|(start, minutes)| Period {
                    start,
                    start_s: start.timestamp() as f64,
                    minutes,
                })
                .collect(),
            reserved_tpm: zeros(np),
            available_tpm: zeros(np),
            served_tpm: zeros(np),
            on_demand_tpm: zeros(np),
            on_demand_available_tpm: zeros(np),
            held: t.info.held_to.is_some(),
            commit_usd: zeros(np),
            usage_usd: zeros(np),
            demand_tpm: vec![0.0; n],
            served_total_tpm: vec![0.0; n],
            unserved_total_tpm: vec![0.0; n],
            region_demand_tpm: zeros(regions.len()),
            region_served_tpm: vec![zeros(np); regions.len()],
            providers,
            regions,
        };
        for r in &t.provider_periods {
            let (i, p) = (period(&r.period)?, p_at[r.provider.as_str()]);
            let v = |value: f64, what: &str| finite(value, what, &r.period);
            s.reserved_tpm[p][i] += v(r.reserved_tpm, "reserved_tpm")?;
            s.available_tpm[p][i] += v(r.available_tpm, "available_tpm")?;
            s.served_tpm[p][i] += v(r.served_tpm, "served_tpm")?;
            s.on_demand_tpm[p][i] += v(r.on_demand_tpm, "on_demand_tpm")?;
            s.on_demand_available_tpm[p][i] +=
                v(r.on_demand_available_tpm, "on_demand_available_tpm")?;
            s.commit_usd[p][i] += v(r.commit_cost, "commit_cost")?;
            s.usage_usd[p][i] += v(r.usage_cost + r.route_cost, "usage_cost")?;
        }
        for r in &t.region_periods {
            let (i, g) = (period(&r.period)?, r_at[r.region.as_str()]);
            let demand = finite(r.demand_tpm, "demand_tpm", &r.period)?;
            s.demand_tpm[i] += demand;
            s.region_demand_tpm[g][i] += demand;
            s.served_total_tpm[i] += finite(r.served_tpm, "served_tpm", &r.period)?;
            s.unserved_total_tpm[i] += finite(r.unserved_tpm, "unserved_tpm", &r.period)?;
        }
        for r in alloc {
            let (i, g, p) = (
                period(&r.period)?,
                r_at[&*r.demand_region],
                p_at[&*r.provider],
            );
            s.region_served_tpm[g][p][i] +=
                finite(r.tokens_per_minute, "tokens_per_minute", &r.period)?;
        }
        Ok(s)
    }

    /// Of each period's arrivals, what is served in it or later: demand − never served.
    pub fn arrivals_served_tpm(&self) -> Vec<f64> {
        let served = |(d, u): (&f64, &f64)| (d - u).max(0.0);
        let pairs = self.demand_tpm.iter().zip(&self.unserved_total_tpm);
        pairs.map(served).collect()
    }

    /// Whether some load is served in another period than it arrived in (deferral): a period
    /// serves more or less than its arrivals that are ever served, beyond rounding.
    pub fn defers(&self) -> bool {
        let arrivals = self.arrivals_served_tpm();
        let moved = |(s, a): (&f64, &f64)| (s - a).abs() > 1e-6 * a.abs().max(1.0);
        self.served_total_tpm.iter().zip(&arrivals).any(moved)
    }

    /// The share of each bin's demand served, in percent: the lowest of its periods with demand
    /// (100 where none has any). A period's share is of its arrivals, served in it or (with
    /// deferral) later (`arrivals_served_tpm`): what waits is not a shortfall, and the share of
    /// what the period itself serves read as one (a plan serving everything showed 78–98% on its
    /// lowest hours).
    pub fn lowest_served_pct(&self, b: &Binned) -> Vec<f64> {
        let arrivals = self.arrivals_served_tpm();
        let pct = |i: usize| {
            let d = self.demand_tpm[i];
            (d > 0.0).then(|| (arrivals[i] / d * 100.0).min(100.0))
        };
        let bin = |r: &Range<usize>| r.clone().filter_map(pct).fold(100.0, f64::min);
        b.bins.iter().map(bin).collect()
    }

    /// Capacity available but neither reserved nor used on demand, over providers, per period.
    /// For a run held to a signed plan, only on-demand capacity left unused: the unreserved part
    /// of a reserved tranche is offer the held plan did not sign and cannot use.
    pub fn spare_tpm(&self) -> Vec<f64> {
        let spare = |p: usize, i: usize| {
            if self.held {
                self.on_demand_available_tpm[p][i] - self.on_demand_tpm[p][i]
            } else {
                self.available_tpm[p][i] - self.reserved_tpm[p][i] - self.on_demand_tpm[p][i]
            }
        };
        let at = |i| {
            (0..self.providers.len())
                .map(|p| spare(p, i).max(0.0))
                .sum()
        };
        (0..self.periods.len()).map(at).collect()
    }

    /// Reserved capacity over providers, per period.
    pub fn reserved_total_tpm(&self) -> Vec<f64> {
        let at = |i| self.reserved_tpm.iter().map(|p| p[i]).sum();
        (0..self.periods.len()).map(at).collect()
    }

    /// What a demand region is served over providers, per period.
    pub fn region_total_tpm(&self, region: usize) -> Vec<f64> {
        let at = |i| self.region_served_tpm[region].iter().map(|p| p[i]).sum();
        (0..self.periods.len()).map(at).collect()
    }

    /// Tokens demanded and not served over the horizon.
    pub fn unserved_tokens(&self) -> f64 {
        let short = |(i, p): (usize, &Period)| {
            (self.demand_tpm[i] - self.served_total_tpm[i]).max(0.0) * p.minutes
        };
        self.periods.iter().enumerate().map(short).sum()
    }

    /// The largest share of a period's demand one provider serves: (provider, share).
    pub fn top_share(&self) -> Option<(usize, f64)> {
        let periods = (0..self.periods.len()).filter(|i| self.demand_tpm[*i] > 0.0);
        let pairs = periods.flat_map(|i| (0..self.providers.len()).map(move |p| (p, i)));
        let share = |(p, i): (usize, usize)| (p, self.served_tpm[p][i] / self.demand_tpm[i]);
        pairs.map(share).max_by(|a, b| a.1.total_cmp(&b.1))
    }
}

/// A commitment to sign, with its reservation window in seconds inside the horizon.
#[derive(Debug, Clone, PartialEq)]
pub struct Signed<'a> {
    pub row: &'a CommitmentRow,
    pub window: (f64, f64),
}

/// The commitments to sign: tranches the plan reserves and pays for (on-demand tranches have no
/// commitment cost; a decided tranche the plan leaves at zero has nothing to sign), by provider
/// in `order`, then start. An open (or unreadable) end of a window is the horizon's edge.
pub fn signed<K: Ord>(
    rows: &[CommitmentRow],
    (start, end): (f64, f64),
    order: impl Fn(&str) -> K,
) -> Vec<Signed<'_>> {
    let instant = |text: &str, open: f64| parse_time(text).map_or(open, |t| t.timestamp() as f64);
    let window = |r: &CommitmentRow| {
        let from = instant(&r.start, start).clamp(start, end);
        (from, instant(&r.end, end).clamp(from, end))
    };
    let rows = rows
        .iter()
        .filter(|r| r.commit_cost > 0.0 && r.reserved_tpm > 0.0);
    let mut signed: Vec<Signed> = rows
        .map(|row| Signed {
            row,
            window: window(row),
        })
        .collect();
    let key = |s: &Signed| {
        let at = instant(&s.row.start, start) as i64;
        (order(&s.row.provider), at, s.row.tranche.clone())
    };
    signed.sort_by_cached_key(key);
    signed
}

/// Whether demand is short of what is served by more than the rounding noise of an LP solution.
pub fn is_unserved(served: f64, demand: f64) -> bool {
    demand - served > 1e-6 * demand.abs().max(1.0)
}

/// The top of a band of unserved demand from `served` up: demand where it is unserved, what is
/// served elsewhere (a closed band); none when every bin's demand is served.
pub fn unserved_top(served: &[f64], demand: &[f64]) -> Option<Vec<f64>> {
    let pairs = || served.iter().zip(demand);
    let top = |(s, d): (&f64, &f64)| if is_unserved(*s, *d) { *d } else { *s };
    pairs()
        .any(|(s, d)| is_unserved(*s, *d))
        .then(|| pairs().map(top).collect())
}

/// How periods are grouped for display, finest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Grain {
    Period,
    Day,
    Week,
    Month,
}

impl Grain {
    /// "weekly", for subtitles.
    pub fn adjective(self) -> &'static str {
        match self {
            Grain::Period => "per period",
            Grain::Day => "daily",
            Grain::Week => "weekly",
            Grain::Month => "monthly",
        }
    }

    /// The finest grain with at most `max_bins` bins; periods as they are when there are at
    /// most `keep_up_to`.
    pub fn choose(periods: &[Period], keep_up_to: usize, max_bins: usize) -> Grain {
        if periods.len() <= keep_up_to {
            return Grain::Period;
        }
        let fits = |g: &Grain| Binned::new(periods, *g).spans.len() <= max_bins;
        [Grain::Day, Grain::Week]
            .into_iter()
            .find(fits)
            .unwrap_or(Grain::Month)
    }

    /// Start of the calendar bucket holding `t` (weeks start on Monday, UTC).
    fn bucket(self, t: &DateTime<Utc>) -> DateTime<Utc> {
        let date = t.date_naive();
        let day = match self {
            Grain::Period | Grain::Day => date,
            Grain::Week => date - Duration::days(i64::from(date.weekday().num_days_from_monday())),
            Grain::Month => date.with_day(1).expect("the first of a month exists"),
        };
        Utc.from_utc_datetime(&day.and_time(NaiveTime::MIN))
    }
}

/// Periods grouped into display bins (consecutive periods of one calendar bucket; one bin per
/// period at `Grain::Period`), and per-period series reduced over them.
pub struct Binned<'a> {
    pub periods: &'a [Period],
    pub grain: Grain,
    /// The periods each bin covers.
    pub bins: Vec<Range<usize>>,
    /// Each bin's extent, seconds since the epoch.
    pub spans: Vec<(f64, f64)>,
}

impl<'a> Binned<'a> {
    pub fn new(periods: &'a [Period], grain: Grain) -> Binned<'a> {
        let (mut bins, mut spans): (Vec<Range<usize>>, Vec<(f64, f64)>) = (Vec::new(), Vec::new());
        let mut current = None;
        for (i, p) in periods.iter().enumerate() {
            let key = grain.bucket(&p.start);
            match (bins.last_mut(), spans.last_mut()) {
                (Some(bin), Some(span)) if grain != Grain::Period && current == Some(key) => {
                    bin.end = i + 1;
                    span.1 = span.1.max(p.end_s());
                }
                _ => {
                    bins.push(i..i + 1);
                    spans.push((p.start_s, p.end_s()));
                    current = Some(key);
                }
            }
        }
        Binned {
            periods,
            grain,
            bins,
            spans,
        }
    }

    /// On the finest grain with at most `max_bins` bins (periods as they are up to `keep_up_to`).
    pub fn choose(periods: &'a [Period], keep_up_to: usize, max_bins: usize) -> Binned<'a> {
        Binned::new(periods, Grain::choose(periods, keep_up_to, max_bins))
    }

    /// Time-weighted mean: the level a rate (tokens/min) held on average over each bin.
    pub fn mean(&self, values: &[f64]) -> Vec<f64> {
        let mean = |bin: &Range<usize>| {
            let minutes: f64 = self.periods[bin.clone()].iter().map(|p| p.minutes).sum();
            let weighted: f64 = bin
                .clone()
                .map(|i| values[i] * self.periods[i].minutes)
                .sum();
            if minutes > 0.0 {
                weighted / minutes
            } else {
                values[bin.start]
            }
        };
        self.bins.iter().map(mean).collect()
    }

    pub fn max(&self, values: &[f64]) -> Vec<f64> {
        let max = |bin: &Range<usize>| values[bin.clone()].iter().copied().fold(f64::MIN, f64::max);
        self.bins.iter().map(max).collect()
    }

    /// Plain sum: for amounts ($) rather than rates.
    pub fn sum(&self, values: &[f64]) -> Vec<f64> {
        self.bins
            .iter()
            .map(|bin| values[bin.clone()].iter().sum())
            .collect()
    }

    /// What one bin sums over ("calendar month", "week", "hour"), and a note when bins differ in
    /// length (a 28-day February is a shorter bar, not a cheaper month).
    pub fn bucket(&self) -> (&'static str, Option<String>) {
        const DAY: f64 = 1440.0;
        let minutes = |b: &Range<usize>| self.periods[b.clone()].iter().map(|p| p.minutes).sum();
        let lengths: Vec<f64> = self.bins.iter().map(minutes).collect();
        let short = lengths.iter().copied().fold(f64::MAX, f64::min);
        let long = lengths.iter().copied().fold(0.0, f64::max);
        let uneven = long - short > 1.0;
        let month = |(b, l): (&Range<usize>, &f64)| {
            let start = &self.periods[b.start].start;
            let days = 28.0 * DAY..=31.0 * DAY;
            start.day() == 1 && start.time() == NaiveTime::MIN && days.contains(l)
        };
        let calendar_months = self.bins.iter().zip(&lengths).all(month);
        let even = |minutes: f64| !uneven && (long - minutes).abs() < 0.5;
        let bucket = match self.grain {
            Grain::Month => "calendar month",
            _ if calendar_months => "calendar month",
            Grain::Week => "week",
            Grain::Day => "day",
            Grain::Period if even(60.0) => "hour",
            Grain::Period if even(DAY) => "day",
            Grain::Period if even(7.0 * DAY) => "week",
            Grain::Period => "period",
        };
        let (short, long) = ((short / DAY).floor(), (long / DAY).ceil());
        let note = match bucket {
            _ if !uneven => None,
            "calendar month" => Some(format!(
                "bars per calendar month ({short:.0}–{long:.0} days)"
            )),
            "week" => Some("weeks from Monday; partial weeks at the ends are shorter".into()),
            _ => Some("bars per period; periods differ in length".into()),
        };
        (bucket, note)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tables::{ProviderPeriodRow, RegionPeriodRow};

    fn hourly(n: usize) -> Vec<Period> {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let hour = |i: usize| t0 + Duration::hours(i as i64);
        let period = |start: DateTime<Utc>| Period {
            start,
            start_s: start.timestamp() as f64,
            minutes: 60.0,
        };
        (0..n).map(|i| period(hour(i))).collect()
    }

    #[test]
    fn a_year_of_hours_is_shown_weekly() {
        let periods = hourly(8760);
        assert_eq!(Grain::choose(&periods, 400, 120), Grain::Week);
        let weeks = Binned::new(&periods, Grain::Week);
        // 2026-01-01 is a Thursday: a partial first week, then Mondays.
        assert_eq!(weeks.bins.len(), 53);
        assert_eq!(weeks.bins[0], 0..96);
        assert_eq!(
            weeks.spans.last().unwrap().1,
            periods.last().unwrap().end_s()
        );
        assert_eq!(Grain::choose(&periods[..300], 400, 120), Grain::Period);
        assert_eq!(Grain::choose(&periods[..24 * 100], 400, 120), Grain::Day);
    }

    fn tables(providers: &[(&str, f64)]) -> ChartTables {
        let period = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let row = |(p, tpm): &(&str, f64)| ProviderPeriodRow {
            period,
            minutes: 60.0,
            provider: p.to_string(),
            available_tpm: *tpm,
            reserved_tpm: *tpm,
            served_tpm: *tpm,
            on_demand_tpm: 0.0,
            idle_reserved_tpm: 0.0,
            on_demand_available_tpm: 0.0,
            commit_cost: 0.0,
            usage_cost: 0.0,
            route_cost: 0.0,
        };
        let provider_periods = providers.iter().map(row).collect();
        ChartTables {
            provider_periods,
            ..ChartTables::default()
        }
    }

    #[test]
    fn providers_follow_the_given_order_with_their_values() {
        let rank = |p: &str| (p != "aws", p.to_string());
        let t = tables(&[("oracle", 9e9), ("acme", 5e9), ("aws", 1.0), ("gcp", 3e9)]);
        let s = Series::from_tables(&t, rank).unwrap();
        assert_eq!(s.providers, ["aws", "acme", "gcp", "oracle"]);
        assert_eq!(s.served_tpm[3][0], 9e9);
        let mut t = tables(&[("aws", 1.0)]);
        t.provider_periods[0].usage_cost = f64::NAN;
        let err = Series::from_tables(&t, rank).unwrap_err().to_string();
        assert!(err.contains("usage_cost at 2026-01-01"), "{err}");
    }

    #[test]
    fn means_are_time_weighted() {
        let mut periods = hourly(2);
        periods[1].minutes = 180.0;
        let b = Binned::new(&periods, Grain::Day);
        assert_eq!(b.mean(&[4.0, 8.0]), vec![7.0]);
        assert_eq!(b.max(&[4.0, 8.0]), vec![8.0]);
        assert_eq!(b.sum(&[4.0, 8.0]), vec![12.0]);
    }

    #[test]
    fn a_bin_serves_its_lowest_period_share_of_arrivals() {
        // Four hours in one day: all served, half never served, served a period late (not a
        // shortfall), no demand.
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        let row = |h: i64, demand_tpm: f64, served_tpm: f64, unserved_tpm: f64| RegionPeriodRow {
            period: t0 + Duration::hours(h),
            minutes: 60.0,
            region: "us".into(),
            demand_tpm,
            served_tpm,
            unserved_tpm,
        };
        let mut t = tables(&[("aws", 1.0)]);
        t.region_periods = vec![
            row(0, 10.0, 10.0, 0.0),
            row(1, 10.0, 5.0, 5.0),
            row(2, 10.0, 0.0, 0.0),
            row(3, 0.0, 10.0, 0.0),
        ];
        let s = Series::from_tables(&t, |p: &str| p.to_string()).unwrap();
        let hours = Binned::new(&s.periods, Grain::Period);
        assert_eq!(s.lowest_served_pct(&hours), [100.0, 50.0, 100.0, 100.0]);
        let day = Binned::new(&s.periods, Grain::Day);
        assert_eq!(s.lowest_served_pct(&day), [50.0]);
    }
}
