//! Writes the hourly demand of `scenarios/frontier-2026-hourly/`: frontier-2026's monthly demand
//! for October–December 2026, spread over the quarter's 2,208 hours by a daily and a weekly
//! pattern per region in the region's local time.
//!
//! `cargo run --release --example frontier_hourly -- scenarios/frontier-2026 scenarios/frontier-2026-hourly/demand.csv`
//!
//! Over each calendar month, a (region, workload)'s hourly values average to exactly the parent's
//! monthly figure (their sum is the monthly figure × the month's hours, to the token per minute),
//! so the monthly plan and the hourly plan serve the same tokens and differ only in when. The
//! output is deterministic: no random numbers, fixed row order, integers. The shapes, their
//! parameters and the public figures behind them are in docs/data-sources.md section 11.

use std::collections::BTreeMap;
use std::f64::consts::PI;
use std::fmt::Write as _;
use std::path::Path;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Timelike, Utc, Weekday};

use capplan::scenario::Scenario;

/// The months written, in order: the quarter [2026-10-01, 2027-01-01).
const MONTHS: [(i32, u32); 3] = [(2026, 10), (2026, 11), (2026, 12)];

/// A demand region and the clock its users live by.
struct Region {
    name: &'static str,
    /// Fixed offset, no daylight saving: the shapes are approximations of a region spread over
    /// several time zones, and a one-hour DST shift is inside that spread.
    utc_offset_hours: i64,
    /// `a` of the chat shape 1 + a·cos(2π(h − CHAT_PEAK_HOUR)/24): peak/mean 1 + a,
    /// trough/peak (1 − a)/(1 + a) on a weekday.
    chat_amplitude: f64,
}

/// In the parent's file order, which the output keeps.
const REGIONS: [Region; 3] = [
    // Trough at half the peak, as North American consumer traffic (Arbor Networks, 2009).
    Region {
        name: "us",
        utc_offset_hours: -6,
        chat_amplitude: 1.0 / 3.0,
    },
    // Peak/mean 1.5, as the Amsterdam and Frankfurt exchanges' daily peak over mean throughput.
    Region {
        name: "eu",
        utc_offset_hours: 1,
        chat_amplitude: 0.5,
    },
    // No figure gathered for Asian exchanges: between the two (assumed).
    Region {
        name: "apac",
        utc_offset_hours: 8,
        chat_amplitude: 0.4,
    },
];

/// In the parent's file order.
const WORKLOADS: [&str; 3] = ["chat", "api", "batch"];

/// Chat peaks in the 17:00–18:00 local hour and bottoms out 12 hours earlier (05:00–06:00):
/// between the middle-of-the-day peak of reference use and the 21:00 peak of leisure traffic.
const CHAT_PEAK_HOUR: f64 = 17.5;
/// Saturday and Sunday chat relative to a weekday: consumers keep chatting at weekends.
const CHAT_WEEKEND_FACTOR: f64 = 0.9;
/// The api shape is 1 + b·(cos θ + r·cos 2θ), θ = 2π(h − API_PEAK_HOUR)/24: the in-phase second
/// harmonic narrows the working-day peak and flattens the night into a floor of automated traffic
/// (weekday trough/peak ≈ 0.42, peak/mean 1 + b(1 + r) ≈ 1.61).
const API_AMPLITUDE: f64 = 0.45;
const API_SECOND_HARMONIC: f64 = 0.35;
/// The 12:00–13:00 local hour: the middle of the working day.
const API_PEAK_HOUR: f64 = 12.5;
/// Saturday and Sunday api relative to a weekday: business integrations mostly idle.
const API_WEEKEND_FACTOR: f64 = 0.55;
/// Batch is deferrable (24-hour batch windows), so it is run against the interactive load:
/// batch shape = 1 − β·(interactive/its monthly mean − 1). β < 1 keeps batch flatter than what it
/// fills, and positive.
const BATCH_TROUGH_FILL: f64 = 0.5;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [parent, out] = args.as_slice() else {
        eprintln!("usage: frontier_hourly PARENT_SCENARIO OUT_DEMAND_CSV");
        eprintln!("  e.g. frontier_hourly scenarios/frontier-2026 scenarios/frontier-2026-hourly/demand.csv");
        std::process::exit(2);
    };
    let rows = match generate(Path::new(parent)) {
        Ok(rows) => rows,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    };
    let text = csv_text(&rows);
    if let Err(e) = std::fs::write(out, &text) {
        eprintln!("error: {out}: {e}");
        std::process::exit(4);
    }
    println!("wrote {out}: {} rows, {} bytes", rows.len(), text.len());
    print!("{}", summary(&rows));
}

/// One output row.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    period: DateTime<Utc>,
    region: &'static str,
    workload: &'static str,
    tokens_per_minute: i64,
}

/// Loads the parent as capplan does (so its demand is read by the same rules) and spreads each
/// month of the quarter over its hours.
fn generate(parent: &Path) -> Result<Vec<Row>, String> {
    let loaded = capplan::load::load(parent).map_err(|e| e.to_string())?;
    let monthly = monthly_tokens_per_minute(&loaded.scenario)?;
    let mut by_cell: BTreeMap<(usize, usize), Vec<i64>> = BTreeMap::new();
    let mut hours_all: Vec<DateTime<Utc>> = Vec::new();
    for (m, &(year, month)) in MONTHS.iter().enumerate() {
        let hours = month_hours(year, month);
        for (r, region) in REGIONS.iter().enumerate() {
            let chat_shape: Vec<f64> = hours.iter().map(|&t| chat(region, t)).collect();
            let api_shape: Vec<f64> = hours.iter().map(|&t| api(region, t)).collect();
            let chat_tokens_per_minute = monthly[&(m, r, 0)];
            let api_tokens_per_minute = monthly[&(m, r, 1)];
            let batch_tokens_per_minute = monthly[&(m, r, 2)];
            let batch_shape = batch(
                &chat_shape,
                chat_tokens_per_minute,
                &api_shape,
                api_tokens_per_minute,
            );
            for (w, (shape, tokens_per_minute)) in [
                (&chat_shape, chat_tokens_per_minute),
                (&api_shape, api_tokens_per_minute),
                (&batch_shape, batch_tokens_per_minute),
            ]
            .into_iter()
            .enumerate()
            {
                by_cell
                    .entry((r, w))
                    .or_default()
                    .extend(spread(tokens_per_minute, shape)?);
            }
        }
        hours_all.extend(hours);
    }
    let mut rows = Vec::with_capacity(hours_all.len() * REGIONS.len() * WORKLOADS.len());
    for (i, &period) in hours_all.iter().enumerate() {
        for (r, region) in REGIONS.iter().enumerate() {
            for (w, workload) in WORKLOADS.iter().enumerate() {
                rows.push(Row {
                    period,
                    region: region.name,
                    workload,
                    tokens_per_minute: by_cell[&(r, w)][i],
                });
            }
        }
    }
    Ok(rows)
}

/// The parent's tokens per minute by (month index, region index, workload index), for the
/// quarter's months. Every cell must be there, as a whole number; a region or workload the shapes
/// do not know is an error rather than a silent drop.
fn monthly_tokens_per_minute(
    parent: &Scenario,
) -> Result<BTreeMap<(usize, usize, usize), i64>, String> {
    let mut out = BTreeMap::new();
    for d in &parent.demand {
        let Some(m) = MONTHS
            .iter()
            .position(|&(y, mo)| month_start(y, mo) == d.period)
        else {
            continue;
        };
        let r = REGIONS
            .iter()
            .position(|r| r.name == d.region)
            .ok_or_else(|| format!("region '{}' has no daily shape here", d.region))?;
        let w = WORKLOADS
            .iter()
            .position(|w| *w == d.workload)
            .ok_or_else(|| format!("workload '{}' has no daily shape here", d.workload))?;
        let tokens_per_minute = d.tokens_per_minute;
        if tokens_per_minute.fract() != 0.0 || tokens_per_minute > 1e15 {
            return Err(format!(
                "{} {}/{}: {tokens_per_minute} tokens/min is not a whole number the output can keep exactly",
                d.period, d.region, d.workload
            ));
        }
        out.insert((m, r, w), tokens_per_minute as i64);
    }
    for (m, &(y, mo)) in MONTHS.iter().enumerate() {
        for (r, region) in REGIONS.iter().enumerate() {
            for (w, workload) in WORKLOADS.iter().enumerate() {
                if !out.contains_key(&(m, r, w)) {
                    return Err(format!(
                        "the parent has no demand for {}/{} in {y}-{mo:02}",
                        region.name, workload
                    ));
                }
            }
        }
    }
    Ok(out)
}

fn month_start(year: i32, month: u32) -> DateTime<Utc> {
    NaiveDate::from_ymd_opt(year, month, 1)
        .expect("a valid month")
        .and_hms_opt(0, 0, 0)
        .expect("midnight")
        .and_utc()
}

/// The starts of every hour of a calendar month, in UTC.
fn month_hours(year: i32, month: u32) -> Vec<DateTime<Utc>> {
    let start = month_start(year, month);
    let end = if month == 12 {
        month_start(year + 1, 1)
    } else {
        month_start(year, month + 1)
    };
    let n = (end - start).num_hours();
    (0..n).map(|h| start + Duration::hours(h)).collect()
}

/// The hour's midpoint on the region's clock, in hours after local midnight, and whether that
/// local day is a Saturday or Sunday. The midpoint stands for the hour's average rate.
fn local_clock(region: &Region, hour_start: DateTime<Utc>) -> (f64, bool) {
    let local = hour_start + Duration::hours(region.utc_offset_hours);
    let weekend = matches!(local.weekday(), Weekday::Sat | Weekday::Sun);
    (local.hour() as f64 + 0.5, weekend)
}

/// cos(2π·k·(h − peak)/24): a daily harmonic that peaks at `peak` local hours.
fn harmonic(k: f64, h: f64, peak: f64) -> f64 {
    (2.0 * PI * k * (h - peak) / 24.0).cos()
}

/// Chat's relative rate in the hour starting at `t` (any scale; `spread` normalises per month).
fn chat(region: &Region, t: DateTime<Utc>) -> f64 {
    let (h, weekend) = local_clock(region, t);
    let week = if weekend { CHAT_WEEKEND_FACTOR } else { 1.0 };
    week * (1.0 + region.chat_amplitude * harmonic(1.0, h, CHAT_PEAK_HOUR))
}

/// Api's relative rate in the hour starting at `t`.
fn api(region: &Region, t: DateTime<Utc>) -> f64 {
    let (h, weekend) = local_clock(region, t);
    let week = if weekend { API_WEEKEND_FACTOR } else { 1.0 };
    let day = 1.0
        + API_AMPLITUDE
            * (harmonic(1.0, h, API_PEAK_HOUR)
                + API_SECOND_HARMONIC * harmonic(2.0, h, API_PEAK_HOUR));
    week * day
}

/// Batch's relative rate per hour of one month: high where the region's interactive load (chat
/// plus api, weighted by their monthly tokens) is low.
fn batch(
    chat: &[f64],
    chat_tokens_per_minute: i64,
    api: &[f64],
    api_tokens_per_minute: i64,
) -> Vec<f64> {
    let chat_mean = mean(chat);
    let api_mean = mean(api);
    let (c, a) = (chat_tokens_per_minute as f64, api_tokens_per_minute as f64);
    chat.iter()
        .zip(api)
        .map(|(&ch, &ap)| {
            // The interactive rate relative to its monthly mean: 1 on average.
            let interactive = (c * ch / chat_mean + a * ap / api_mean) / (c + a);
            1.0 - BATCH_TROUGH_FILL * (interactive - 1.0)
        })
        .collect()
}

fn mean(v: &[f64]) -> f64 {
    v.iter().sum::<f64>() / v.len() as f64
}

/// Spreads a monthly tokens-per-minute figure over the month's hours in proportion to `shape`,
/// in whole tokens per minute whose sum is exactly monthly × hours (so the mean is exactly the
/// monthly figure). Each hour gets the floor of its exact share; the units the floors leave over go
/// to the largest remainders, the earlier hour first on a tie, so the result is deterministic.
fn spread(monthly_tokens_per_minute: i64, shape: &[f64]) -> Result<Vec<i64>, String> {
    let n = shape.len();
    let shape_mean = mean(shape);
    // NaN fails both tests, as it should.
    let usable = shape_mean.is_finite() && shape_mean > 0.0 && shape.iter().all(|s| *s >= 0.0);
    if !usable {
        return Err("a shape must be non-negative with a positive mean".into());
    }
    let exact: Vec<f64> = shape
        .iter()
        .map(|s| monthly_tokens_per_minute as f64 * s / shape_mean)
        .collect();
    let mut out: Vec<i64> = exact.iter().map(|x| x.floor() as i64).collect();
    let target = monthly_tokens_per_minute * n as i64;
    let left = target - out.iter().sum::<i64>();
    // Σ floor ≤ Σ exact ≈ target and Σ (exact − floor) < n, so 0 ≤ left < n up to float error far
    // below one token per minute; anything else is a bug, not a rounding.
    if left < 0 || left as usize > n {
        return Err(format!(
            "rounding left {left} tokens/min over {n} hours; expected 0..{n}"
        ));
    }
    let mut order: Vec<usize> = (0..n).collect();
    let rem = |i: usize| exact[i] - exact[i].floor();
    order.sort_by(|&i, &j| rem(j).total_cmp(&rem(i)).then(i.cmp(&j)));
    for &i in order.iter().take(left as usize) {
        out[i] += 1;
    }
    Ok(out)
}

fn csv_text(rows: &[Row]) -> String {
    let mut s = String::with_capacity(rows.len() * 42);
    s.push_str("period,region,workload,tokens_per_minute\n");
    for r in rows {
        let _ = writeln!(
            s,
            "{},{},{},{}",
            r.period.format("%Y-%m-%dT%H:%MZ"),
            r.region,
            r.workload,
            r.tokens_per_minute
        );
    }
    s
}

/// Peak/mean figures for the docs: per region (all workloads) and for the sum of the regions, by
/// month and against December's mean (a reservation is one fraction for the whole quarter, so the
/// quarter's peak hour is what the hourly plan must cover where the monthly plan covers December's
/// mean); and the UTC hour at which the regions' summed api demand peaks on an average weekday.
fn summary(rows: &[Row]) -> String {
    // total tokens/min by (scope, hour); scope = a region, or "all"
    let mut totals: BTreeMap<&str, BTreeMap<DateTime<Utc>, i64>> = BTreeMap::new();
    let mut api_all: BTreeMap<DateTime<Utc>, i64> = BTreeMap::new();
    for r in rows {
        for scope in [r.region, "all"] {
            *totals
                .entry(scope)
                .or_default()
                .entry(r.period)
                .or_default() += r.tokens_per_minute;
        }
        if r.workload == "api" {
            *api_all.entry(r.period).or_default() += r.tokens_per_minute;
        }
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        "\n| scope | Oct peak/mean | Nov peak/mean | Dec peak/mean | quarter's peak hour (UTC) | its tokens/min | / Dec mean | weekday trough/peak (Dec) |"
    );
    let _ = writeln!(s, "|---|---|---|---|---|---|---|---|");
    let scopes: Vec<&str> = REGIONS.iter().map(|r| r.name).chain(["all"]).collect();
    for scope in scopes {
        let series = &totals[scope];
        let mut cells = Vec::new();
        let mut dec_mean = 0.0;
        for &(y, mo) in &MONTHS {
            let hours = month_hours(y, mo);
            let v: Vec<f64> = hours.iter().map(|t| series[t] as f64).collect();
            let m = mean(&v);
            let peak = v.iter().cloned().fold(f64::MIN, f64::max);
            cells.push(format!("{:.3}", peak / m));
            dec_mean = m;
        }
        let (peak_t, peak_v) = series
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            .map(|(t, v)| (*t, *v))
            .expect("rows");
        // December's weekdays (UTC calendar): the smallest hour over the largest.
        let dec: Vec<f64> = month_hours(2026, 12)
            .into_iter()
            .filter(|t| !matches!(t.weekday(), Weekday::Sat | Weekday::Sun))
            .map(|t| series[&t] as f64)
            .collect();
        let dec_peak = dec.iter().cloned().fold(f64::MIN, f64::max);
        let dec_trough = dec.iter().cloned().fold(f64::MAX, f64::min);
        let _ = writeln!(
            s,
            "| {scope} | {} | {} | {} | {} | {:.3e} | {:.3} | {:.2} |",
            cells[0],
            cells[1],
            cells[2],
            peak_t.format("%Y-%m-%d %H:%M"),
            peak_v as f64,
            peak_v as f64 / dec_mean,
            dec_trough / dec_peak
        );
    }
    // Per (region, workload): December's peak hour over December's mean.
    let _ = writeln!(
        s,
        "\n| December peak/mean | chat | api | batch |\n|---|---|---|---|"
    );
    let dec: Vec<DateTime<Utc>> = month_hours(2026, 12);
    for region in &REGIONS {
        let mut cells = Vec::new();
        for workload in WORKLOADS {
            let v: Vec<f64> = rows
                .iter()
                .filter(|r| r.region == region.name && r.workload == workload)
                .filter(|r| r.period >= dec[0])
                .map(|r| r.tokens_per_minute as f64)
                .collect();
            let peak = v.iter().cloned().fold(f64::MIN, f64::max);
            cells.push(format!("{:.3}", peak / mean(&v)));
        }
        let _ = writeln!(s, "| {} | {} |", region.name, cells.join(" | "));
    }
    let mut by_hour = [0.0f64; 24];
    let mut days = 0usize;
    for (t, v) in &api_all {
        if !matches!(t.weekday(), Weekday::Sat | Weekday::Sun) {
            by_hour[t.hour() as usize] += *v as f64;
            if t.hour() == 0 {
                days += 1;
            }
        }
    }
    let best = (0..24)
        .max_by(|&a, &b| by_hour[a].total_cmp(&by_hour[b]))
        .expect("24 hours");
    let _ = writeln!(
        s,
        "\nall regions' api, average over {days} UTC weekdays, peaks in the {best:02}:00 UTC hour"
    );
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> &'static Path {
        Path::new(env!("CARGO_MANIFEST_DIR"))
    }

    #[test]
    fn monthly_means_are_the_parents_exactly() {
        let parent = capplan::load::load(&root().join("scenarios/frontier-2026"))
            .unwrap()
            .scenario;
        let monthly = monthly_tokens_per_minute(&parent).unwrap();
        let rows = generate(&root().join("scenarios/frontier-2026")).unwrap();
        assert_eq!(rows.len(), 2208 * 9);
        for (m, &(y, mo)) in MONTHS.iter().enumerate() {
            let start = month_start(y, mo);
            let hours = month_hours(y, mo).len() as i64;
            for (r, region) in REGIONS.iter().enumerate() {
                for (w, workload) in WORKLOADS.iter().enumerate() {
                    let sum: i64 = rows
                        .iter()
                        .filter(|x| {
                            x.region == region.name
                                && x.workload == *workload
                                && x.period >= start
                                && x.period < start + Duration::hours(hours)
                        })
                        .map(|x| x.tokens_per_minute)
                        .sum();
                    assert_eq!(
                        sum,
                        monthly[&(m, r, w)] * hours,
                        "{y}-{mo} {}/{workload}",
                        region.name
                    );
                }
            }
        }
    }

    #[test]
    fn committed_demand_is_the_generators_output() {
        let rows = generate(&root().join("scenarios/frontier-2026")).unwrap();
        let committed =
            std::fs::read_to_string(root().join("scenarios/frontier-2026-hourly/demand.csv"))
                .unwrap();
        assert!(
            csv_text(&rows) == committed,
            "scenarios/frontier-2026-hourly/demand.csv is stale: regenerate it with the command in docs/data-sources.md section 11"
        );
    }

    #[test]
    fn shapes_peak_in_local_time() {
        let us = &REGIONS[0];
        // 2026-12-02 is a Wednesday; us local = UTC − 6.
        let day: Vec<DateTime<Utc>> = (0..24)
            .map(|h| month_start(2026, 12) + Duration::hours(24 + h))
            .collect();
        let argmax = |f: &dyn Fn(DateTime<Utc>) -> f64| {
            (0..24)
                .max_by(|&a, &b| f(day[a]).total_cmp(&f(day[b])))
                .unwrap()
        };
        let argmin = |f: &dyn Fn(DateTime<Utc>) -> f64| {
            (0..24)
                .min_by(|&a, &b| f(day[a]).total_cmp(&f(day[b])))
                .unwrap()
        };
        // chat: 17:00–18:00 local = 23:00 UTC; trough 05:00–06:00 local = 11:00 UTC
        assert_eq!(argmax(&|t| chat(us, t)), 23);
        assert_eq!(argmin(&|t| chat(us, t)), 11);
        // api: 12:00–13:00 local = 18:00 UTC
        assert_eq!(argmax(&|t| api(us, t)), 18);
        let wed = chat(us, day[23]) / chat(us, day[11]);
        assert!((wed - 2.0).abs() < 0.01, "us chat peak/trough {wed}");
        // Saturday 2026-12-05, same local hour: the weekend factors.
        let sat = month_start(2026, 12) + Duration::hours(4 * 24 + 23);
        assert!((chat(us, sat) / chat(us, day[23]) - CHAT_WEEKEND_FACTOR).abs() < 1e-12);
        assert!(
            (api(us, sat - Duration::hours(5)) / api(us, day[18]) - API_WEEKEND_FACTOR).abs()
                < 1e-12
        );
    }

    #[test]
    fn spread_keeps_the_sum_and_breaks_ties_by_hour() {
        // Exact shares 11.43, 11.43, 11.43, 5.71 (sum 40): floors leave 2 units, to the largest
        // remainder (hour 3), then to the earliest of the tied hours (hour 0).
        assert_eq!(spread(10, &[1.0, 1.0, 1.0, 0.5]).unwrap(), [12, 11, 11, 6]);
        assert_eq!(spread(7, &[2.0, 2.0]).unwrap(), [7, 7]);
        assert!(spread(7, &[0.0, 0.0]).is_err());
    }
}
