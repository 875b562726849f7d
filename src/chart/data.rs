//! Chart stage: the report tables reshaped into dense per-period series, and the display bins
//! (periods, or days/weeks/months on long horizons) the charts are drawn on.

use std::collections::BTreeMap;
use std::ops::Range;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Utc};

use crate::error::{Error, Result};
use crate::report::tables::ChartTables;

/// One period of the horizon; a value holds from `start_s` for `minutes`.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Period {
    pub start: DateTime<Utc>,
    /// Seconds since the Unix epoch, the x coordinate of every chart.
    pub start_s: f64,
    pub minutes: f64,
}

impl Period {
    pub fn end_s(&self) -> f64 {
        self.start_s + self.minutes * 60.0
    }
}

/// Dense series: `[provider][period]`, `[region][period]` and so on, in the orders of
/// `providers` and `regions`.
#[derive(Debug, Clone)]
pub(crate) struct Series {
    pub periods: Vec<Period>,
    /// Stack order (bottom first): fixed by name (`palette::provider_order`), the same in every
    /// chart of every scenario.
    pub providers: Vec<String>,
    /// Demand regions, by name.
    pub regions: Vec<String>,
    pub reserved_tpm: Vec<Vec<f64>>,
    pub available_tpm: Vec<Vec<f64>>,
    pub served_tpm: Vec<Vec<f64>>,
    /// Of `served_tpm`, served by on-demand tranches (no reservation decision).
    pub on_demand_tpm: Vec<Vec<f64>>,
    /// Commitment cost attributed to the period.
    pub commit_usd: Vec<Vec<f64>>,
    /// Usage + route cost in the period.
    pub usage_usd: Vec<Vec<f64>>,
    /// Totals over demand regions.
    pub demand_tpm: Vec<f64>,
    pub served_total_tpm: Vec<f64>,
    pub region_demand_tpm: Vec<Vec<f64>>,
    /// `[region][provider][period]`, from the allocation rows.
    pub region_served_tpm: Vec<Vec<Vec<f64>>>,
}

fn finite(value: f64, what: &str, at: &DateTime<Utc>) -> Result<f64> {
    if value.is_finite() {
        Ok(value)
    } else {
        Err(Error::Chart(format!(
            "{what} at {} is not a finite number ({value})",
            crate::units::format_time(at)
        )))
    }
}

impl Series {
    pub fn from_tables(tables: &ChartTables) -> Result<Series> {
        // The horizon: every period either side of the report mentions, with its length.
        let mut minutes_by_start: BTreeMap<DateTime<Utc>, f64> = BTreeMap::new();
        for row in &tables.provider_periods {
            minutes_by_start.insert(row.period, finite(row.minutes, "minutes", &row.period)?);
        }
        for row in &tables.region_periods {
            minutes_by_start.insert(row.period, finite(row.minutes, "minutes", &row.period)?);
        }
        if minutes_by_start.is_empty() {
            return Err(Error::Chart("the report has no periods to draw".into()));
        }
        let periods: Vec<Period> = minutes_by_start
            .iter()
            .map(|(start, minutes)| Period {
                start: *start,
                start_s: start.timestamp() as f64,
                minutes: minutes.max(0.0),
            })
            .collect();
        let index: BTreeMap<DateTime<Utc>, usize> = periods
            .iter()
            .enumerate()
            .map(|(i, p)| (p.start, i))
            .collect();
        // Rows come grouped by period, so remembering the last lookup skips almost every search.
        let last = std::cell::Cell::new((DateTime::<Utc>::MIN_UTC, usize::MAX));
        let period_index = |t: &DateTime<Utc>| {
            if last.get().0 == *t {
                return Ok(last.get().1);
            }
            let found = index.get(t).copied().ok_or_else(|| {
                Error::Chart(format!(
                    "allocation row at {} has no period in provider_periods or region_periods",
                    crate::units::format_time(t)
                ))
            })?;
            last.set((*t, found));
            Ok(found)
        };
        let n = periods.len();

        // Providers in a fixed order keyed by name (palette::provider_order), so a provider sits
        // at the same place in every stack of every scenario, whatever it carries. Names are
        // interned once per row (hundreds of thousands of allocation rows on long horizons).
        let mut provider_names = Names::default();
        let pp_provider: Vec<usize> = tables
            .provider_periods
            .iter()
            .map(|r| provider_names.id(&r.provider))
            .collect();
        let alloc_provider: Vec<usize> = tables
            .allocation
            .iter()
            .map(|r| provider_names.id(&r.provider))
            .collect();
        let mut order: Vec<usize> = (0..provider_names.list.len()).collect();
        order.sort_by_cached_key(|i| super::palette::provider_order(provider_names.list[*i]));
        let providers: Vec<String> = order
            .iter()
            .map(|i| provider_names.list[*i].to_string())
            .collect();
        let mut provider_rank = vec![0; order.len()];
        for (rank, id) in order.iter().enumerate() {
            provider_rank[*id] = rank;
        }

        let mut region_names = Names::default();
        let rp_region: Vec<usize> = tables
            .region_periods
            .iter()
            .map(|r| region_names.id(&r.region))
            .collect();
        let alloc_region: Vec<usize> = tables
            .allocation
            .iter()
            .map(|r| region_names.id(&r.demand_region))
            .collect();
        let mut order: Vec<usize> = (0..region_names.list.len()).collect();
        order.sort_by(|a, b| region_names.list[*a].cmp(region_names.list[*b]));
        let regions: Vec<String> = order
            .iter()
            .map(|i| region_names.list[*i].to_string())
            .collect();
        let mut region_rank = vec![0; order.len()];
        for (rank, id) in order.iter().enumerate() {
            region_rank[*id] = rank;
        }

        let zeros = |rows: usize| vec![vec![0.0; n]; rows];
        let mut s = Series {
            reserved_tpm: zeros(providers.len()),
            available_tpm: zeros(providers.len()),
            served_tpm: zeros(providers.len()),
            on_demand_tpm: zeros(providers.len()),
            commit_usd: zeros(providers.len()),
            usage_usd: zeros(providers.len()),
            demand_tpm: vec![0.0; n],
            served_total_tpm: vec![0.0; n],
            region_demand_tpm: zeros(regions.len()),
            region_served_tpm: vec![zeros(providers.len()); regions.len()],
            periods,
            providers: providers.clone(),
            regions: regions.clone(),
        };
        for (row, id) in tables.provider_periods.iter().zip(&pp_provider) {
            let (t, p) = (period_index(&row.period)?, provider_rank[*id]);
            s.reserved_tpm[p][t] += finite(row.reserved_tpm, "reserved_tpm", &row.period)?;
            s.available_tpm[p][t] += finite(row.available_tpm, "available_tpm", &row.period)?;
            s.served_tpm[p][t] += finite(row.served_tpm, "served_tpm", &row.period)?;
            s.on_demand_tpm[p][t] += finite(row.on_demand_tpm, "on_demand_tpm", &row.period)?;
            let commit = finite(row.commit_cost, "commit_cost", &row.period)?;
            let usage = finite(row.usage_cost + row.route_cost, "usage_cost", &row.period)?;
            s.commit_usd[p][t] += commit;
            s.usage_usd[p][t] += usage;
        }
        for (row, id) in tables.region_periods.iter().zip(&rp_region) {
            let (t, r) = (period_index(&row.period)?, region_rank[*id]);
            let demand = finite(row.demand_tpm, "demand_tpm", &row.period)?;
            s.demand_tpm[t] += demand;
            s.served_total_tpm[t] += finite(row.served_tpm, "served_tpm", &row.period)?;
            s.region_demand_tpm[r][t] += demand;
        }
        for ((row, p_id), r_id) in tables
            .allocation
            .iter()
            .zip(&alloc_provider)
            .zip(&alloc_region)
        {
            let t = period_index(&row.period)?;
            let (p, r) = (provider_rank[*p_id], region_rank[*r_id]);
            s.region_served_tpm[r][p][t] +=
                finite(row.tokens_per_minute, "tokens_per_minute", &row.period)?;
        }
        Ok(s)
    }
}

/// Small interner: names get ids in order of first appearance. Rows repeat names in runs and
/// there are few distinct names, so the last hit and a linear scan beat hashing.
#[derive(Default)]
struct Names<'a> {
    list: Vec<&'a str>,
    last: Option<(&'a str, usize)>,
}

impl<'a> Names<'a> {
    fn id(&mut self, name: &'a str) -> usize {
        if let Some((last, id)) = self.last {
            if last == name {
                return id;
            }
        }
        let id = match self.list.iter().position(|n| *n == name) {
            Some(id) => id,
            None => {
                self.list.push(name);
                self.list.len() - 1
            }
        };
        self.last = Some((name, id));
        id
    }
}

/// How periods are grouped for display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Grain {
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
}

/// A span of the x axis drawn as one step: the periods it covers and its extent in seconds.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Bin {
    pub start_s: f64,
    pub end_s: f64,
    pub periods: Range<usize>,
}

/// Start of the calendar bucket holding `t` (weeks start on Monday, UTC).
fn bucket_start(t: &DateTime<Utc>, grain: Grain) -> DateTime<Utc> {
    let date = t.date_naive();
    let day = match grain {
        Grain::Period | Grain::Day => date,
        Grain::Week => date - Duration::days(i64::from(date.weekday().num_days_from_monday())),
        Grain::Month => {
            NaiveDate::from_ymd_opt(date.year(), date.month(), 1).expect("first of month exists")
        }
    };
    Utc.from_utc_datetime(&day.and_hms_opt(0, 0, 0).expect("midnight exists"))
}

/// Groups consecutive periods by calendar bucket; one bin per period for `Grain::Period`.
pub(crate) fn bins(periods: &[Period], grain: Grain) -> Vec<Bin> {
    let mut out: Vec<Bin> = Vec::new();
    let mut current: Option<DateTime<Utc>> = None;
    for (i, p) in periods.iter().enumerate() {
        let key = bucket_start(&p.start, grain);
        match out.last_mut() {
            Some(bin) if grain != Grain::Period && current == Some(key) => {
                bin.periods.end = i + 1;
                bin.end_s = bin.end_s.max(p.end_s());
            }
            _ => {
                out.push(Bin {
                    start_s: p.start_s,
                    end_s: p.end_s(),
                    periods: i..i + 1,
                });
                current = Some(key);
            }
        }
    }
    out
}

/// The finest grain with at most `max_bins` bins; periods as they are when there are few enough.
pub(crate) fn choose_grain(
    periods: &[Period],
    keep_periods_up_to: usize,
    max_bins: usize,
) -> Grain {
    if periods.len() <= keep_periods_up_to {
        return Grain::Period;
    }
    for grain in [Grain::Day, Grain::Week] {
        if bins(periods, grain).len() <= max_bins {
            return grain;
        }
    }
    Grain::Month
}

/// Reduces a per-period series over each bin.
pub(crate) struct Binned<'a> {
    pub periods: &'a [Period],
    pub bins: &'a [Bin],
}

impl Binned<'_> {
    /// Time-weighted mean: the level a rate (tokens/min) held on average over the bin.
    pub fn mean(&self, values: &[f64]) -> Vec<f64> {
        self.bins
            .iter()
            .map(|bin| {
                let (mut weighted, mut minutes) = (0.0, 0.0);
                for i in bin.periods.clone() {
                    weighted += values[i] * self.periods[i].minutes;
                    minutes += self.periods[i].minutes;
                }
                if minutes > 0.0 {
                    weighted / minutes
                } else {
                    values[bin.periods.start]
                }
            })
            .collect()
    }

    pub fn max(&self, values: &[f64]) -> Vec<f64> {
        self.bins
            .iter()
            .map(|bin| {
                values[bin.periods.clone()]
                    .iter()
                    .copied()
                    .fold(f64::MIN, f64::max)
            })
            .collect()
    }

    /// Plain sum: for amounts ($) rather than rates.
    pub fn sum(&self, values: &[f64]) -> Vec<f64> {
        self.bins
            .iter()
            .map(|bin| values[bin.periods.clone()].iter().sum())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hourly(n: usize) -> Vec<Period> {
        let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        (0..n)
            .map(|i| {
                let start = t0 + Duration::hours(i as i64);
                Period {
                    start,
                    start_s: start.timestamp() as f64,
                    minutes: 60.0,
                }
            })
            .collect()
    }

    #[test]
    fn a_year_of_hours_is_shown_weekly() {
        let periods = hourly(8760);
        assert_eq!(choose_grain(&periods, 400, 120), Grain::Week);
        let weeks = bins(&periods, Grain::Week);
        // 2026-01-01 is a Thursday: a partial first week, then Mondays.
        assert_eq!(weeks.len(), 53);
        assert_eq!(weeks[0].periods, 0..96);
        assert_eq!(weeks.last().unwrap().end_s, periods.last().unwrap().end_s());
        assert_eq!(choose_grain(&periods[..300], 400, 120), Grain::Period);
        assert_eq!(choose_grain(&periods[..24 * 100], 400, 120), Grain::Day);
    }

    fn tables(providers: &[(&str, f64)]) -> ChartTables {
        let period = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        ChartTables {
            provider_periods: providers
                .iter()
                .map(|(p, tpm)| crate::report::tables::ProviderPeriodRow {
                    period,
                    minutes: 60.0,
                    provider: p.to_string(),
                    available_tpm: *tpm,
                    reserved_tpm: *tpm,
                    served_tpm: *tpm,
                    on_demand_tpm: 0.0,
                    idle_reserved_tpm: 0.0,
                    commit_cost: 0.0,
                    usage_cost: 0.0,
                    route_cost: 0.0,
                })
                .collect(),
            ..ChartTables::default()
        }
    }

    #[test]
    fn two_scenarios_stack_providers_in_the_same_relative_order() {
        let a = Series::from_tables(&tables(&[
            ("oracle", 9e9),
            ("acme", 5e9),
            ("aws", 1.0),
            ("gcp", 3e9),
        ]))
        .unwrap();
        let b = Series::from_tables(&tables(&[
            ("gcp", 1.0),
            ("zed", 8e9),
            ("aws", 7e9),
            ("azure", 2e9),
            ("acme", 1e3),
        ]))
        .unwrap();
        assert_eq!(a.providers, ["aws", "gcp", "oracle", "acme"]);
        assert_eq!(b.providers, ["aws", "azure", "gcp", "acme", "zed"]);
        let common = |s: &Series, other: &Series| -> Vec<String> {
            s.providers
                .iter()
                .filter(|p| other.providers.contains(p))
                .cloned()
                .collect()
        };
        assert_eq!(common(&a, &b), common(&b, &a));
        // The values follow their provider to its place.
        assert_eq!(a.served_tpm[2][0], 9e9);
    }

    #[test]
    fn means_are_time_weighted() {
        let mut periods = hourly(2);
        periods[1].minutes = 180.0;
        let bins = vec![Bin {
            start_s: 0.0,
            end_s: 1.0,
            periods: 0..2,
        }];
        let b = Binned {
            periods: &periods,
            bins: &bins,
        };
        assert_eq!(b.mean(&[4.0, 8.0]), vec![7.0]);
        assert_eq!(b.max(&[4.0, 8.0]), vec![8.0]);
        assert_eq!(b.sum(&[4.0, 8.0]), vec![12.0]);
    }
}
