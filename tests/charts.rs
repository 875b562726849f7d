//! Chart stage tests: every chart decodes, has the right size and content, is byte-identical from
//! run to run, and one small case matches a golden SVG (`UPDATE_GOLDEN=1` rewrites it).
//!
//! `CHART_PREVIEW=1 cargo test --test charts preview -- --ignored` writes the PNGs to
//! /tmp/charts-preview/ for looking at them.

use std::collections::BTreeSet;
use std::path::Path;

use capplan::chart::{render_all, ChartOptions, RenderedChart};
use capplan::report::tables::{
    AllocationRow, ChartTables, ProviderPeriodRow, RegionPeriodRow, RunInfo,
};
use chrono::{DateTime, Datelike, Duration, TimeZone, Utc};

/// Deterministic noise in [0, 1) so the generated cases need no random crate.
fn noise(i: u64) -> f64 {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 29;
    (x >> 11) as f64 / (1u64 << 53) as f64
}

struct Case {
    providers: Vec<(&'static str, f64)>, // name, share of the supply
    regions: Vec<(&'static str, f64)>,   // name, share of the demand
    periods: Vec<(DateTime<Utc>, f64)>,  // start, minutes
    demand_tpm: Box<dyn Fn(usize) -> f64>,
    reserved_fraction: f64,
}

fn build(case: Case, info: RunInfo) -> ChartTables {
    let mut t = ChartTables {
        info,
        ..Default::default()
    };
    let mut total_cost = 0.0;
    let mut served_tokens = 0.0;
    for (i, (start, minutes)) in case.periods.iter().enumerate() {
        let demand = (case.demand_tpm)(i);
        // Capacity grows through the horizon; early periods run short, so some demand is unserved.
        let capacity_total = 7.5e9 + 8.0e9 * i as f64 / case.periods.len() as f64;
        let served_total = demand.min(capacity_total);
        for (p, (name, share)) in case.providers.iter().enumerate() {
            let available = capacity_total * share * (0.9 + 0.2 * noise((i * 31 + p) as u64));
            let reserved = available * case.reserved_fraction;
            let served = served_total * share;
            let usage_cost = served * minutes * 0.4 / 1e6;
            let commit_cost = reserved * minutes * 0.25 / 1e6;
            let route_cost = if p == 2 { usage_cost * 0.05 } else { 0.0 };
            total_cost += usage_cost + commit_cost + route_cost;
            served_tokens += served * minutes;
            t.provider_periods.push(ProviderPeriodRow {
                period: *start,
                minutes: *minutes,
                provider: name.to_string(),
                available_tpm: available,
                reserved_tpm: reserved,
                served_tpm: served,
                on_demand_tpm: 0.0,
                idle_reserved_tpm: 0.0,
                commit_cost,
                usage_cost,
                route_cost,
            });
        }
        for (name, share) in &case.regions {
            t.region_periods.push(RegionPeriodRow {
                period: *start,
                minutes: *minutes,
                region: name.to_string(),
                demand_tpm: demand * share,
                served_tpm: served_total * share,
                unserved_tpm: (demand - served_total) * share,
            });
        }
        // Each provider leans towards one region, so the panels differ; every region still gets
        // exactly its served share.
        let lean = |p: usize, r: usize| {
            if p % case.regions.len() == r {
                1.6
            } else {
                0.7
            }
        };
        for (r, (region, region_share)) in case.regions.iter().enumerate() {
            let norm: f64 = case
                .providers
                .iter()
                .enumerate()
                .map(|(p, (_, share))| share * lean(p, r))
                .sum();
            for (p, (name, share)) in case.providers.iter().enumerate() {
                t.allocation.push(AllocationRow {
                    period: *start,
                    provider: name.to_string(),
                    tranche: format!("{name}-1"),
                    supply_region: region.to_string(),
                    demand_region: region.to_string(),
                    workload: "chat".into(),
                    tokens_per_minute: served_total * region_share * share * lean(p, r) / norm,
                    cost: 0.0,
                });
            }
        }
    }
    t.info.cost = total_cost;
    t.info.served_tokens = served_tokens;
    t.provider_periods
        .sort_by(|a, b| (a.period, &a.provider).cmp(&(b.period, &b.provider)));
    t.region_periods
        .sort_by(|a, b| (a.period, &a.region).cmp(&(b.period, &b.region)));
    t
}

/// Three providers, two regions, twelve months of 2026, some demand unserved early on.
fn monthly() -> ChartTables {
    let periods = (0..12)
        .map(|m| {
            let start = Utc.with_ymd_and_hms(2026, m + 1, 1, 0, 0, 0).unwrap();
            let next = if m == 11 {
                Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap()
            } else {
                Utc.with_ymd_and_hms(2026, m + 2, 1, 0, 0, 0).unwrap()
            };
            (start, (next - start).num_minutes() as f64)
        })
        .collect();
    build(
        Case {
            providers: vec![("aws", 0.45), ("azure", 0.35), ("lambda", 0.2)],
            regions: vec![("us-east", 0.6), ("eu-west", 0.4)],
            periods,
            // A fixed seasonal shape (no libm calls, so the golden SVG is the same on every platform).
            demand_tpm: Box::new(|i| {
                const SHAPE: [f64; 12] =
                    [0.0, 0.7, 1.0, 0.4, 0.3, 0.9, 0.8, 0.2, 0.9, 1.1, 0.6, 0.7];
                8.0e9 + 0.45e9 * i as f64 + 1.2e9 * SHAPE[i]
            }),
            reserved_fraction: 0.7,
        },
        RunInfo {
            scenario: "baseline-2026".into(),
            policy: "max provider share 35% · N-1 at 80% coverage".into(),
            max_provider_share: Some(0.35),
            ..Default::default()
        },
    )
}

/// A year of hours, twelve providers, three regions: the long-horizon case.
fn hourly_year() -> ChartTables {
    hourly(8760, 12, "hourly-2026")
}

/// `hours` hourly periods from 2026-01-01 with the first `provider_count` of a list of providers
/// (names beyond the list are generated, to exercise the hashed colours and a long legend).
fn hourly(hours: i64, provider_count: usize, scenario: &str) -> ChartTables {
    let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    let periods = (0..hours)
        .map(|h| (t0 + Duration::hours(h), 60.0))
        .collect();
    let names = [
        "aws",
        "azure",
        "gcp",
        "oracle",
        "lambda",
        "nebius",
        "coreweave",
        "onprem",
        "crusoe",
        "together",
        "acme-gpu",
        "runpod",
    ];
    let weights = [
        0.2, 0.16, 0.14, 0.1, 0.08, 0.07, 0.06, 0.05, 0.05, 0.04, 0.03, 0.02,
    ];
    let extra: Vec<&'static str> = (names.len()..provider_count)
        .map(|i| &*Box::leak(format!("neocloud-{i}").into_boxed_str()))
        .collect();
    let providers: Vec<(&'static str, f64)> = names
        .iter()
        .copied()
        .zip(weights)
        .chain(extra.into_iter().map(|n| (n, 0.02)))
        .take(provider_count)
        .collect();
    let total: f64 = providers.iter().map(|p| p.1).sum();
    let providers = providers.into_iter().map(|(n, w)| (n, w / total)).collect();
    build(
        Case {
            providers,
            regions: vec![("us-east", 0.5), ("eu-west", 0.3), ("ap-south", 0.2)],
            periods,
            demand_tpm: Box::new(move |h| {
                let t = t0 + Duration::hours(h as i64);
                let hour = (h % 24) as f64;
                let diurnal = 1.0 + 0.35 * ((hour - 15.0) / 24.0 * std::f64::consts::TAU).cos();
                let weekend = if t.weekday().number_from_monday() >= 6 {
                    0.8
                } else {
                    1.0
                };
                let growth = 1.0 + 0.5 * h as f64 / 8760.0;
                7.5e9 * diurnal * weekend * growth * (0.95 + 0.1 * noise(h as u64))
            }),
            reserved_fraction: 0.6,
        },
        RunInfo {
            scenario: scenario.into(),
            policy: "cheapest mix, no share cap".into(),
            max_provider_share: None,
            ..Default::default()
        },
    )
}

fn names(charts: &[RenderedChart]) -> Vec<&str> {
    charts.iter().map(|c| c.file_name.as_str()).collect()
}

fn decode_png(bytes: &[u8]) -> (u32, u32, Vec<u8>) {
    let decoder = png::Decoder::new(bytes);
    let mut reader = decoder.read_info().expect("PNG header");
    let mut buf = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut buf).expect("PNG data");
    buf.truncate(frame.buffer_size());
    assert_eq!(frame.color_type, png::ColorType::Rgb);
    (frame.width, frame.height, buf)
}

fn distinct_colours(rgb: &[u8]) -> usize {
    rgb.chunks(3)
        .map(|c| (c[0], c[1], c[2]))
        .collect::<BTreeSet<_>>()
        .len()
}

fn svg_text<'a>(charts: &'a [RenderedChart], name: &str) -> &'a str {
    let chart = charts
        .iter()
        .find(|c| c.file_name == name)
        .unwrap_or_else(|| panic!("no {name}"));
    std::str::from_utf8(&chart.bytes).expect("SVG is UTF-8")
}

#[test]
fn monthly_case_draws_every_chart() {
    let charts = render_all(&monthly(), &ChartOptions::default()).unwrap();
    assert_eq!(
        names(&charts),
        [
            "allocation_by_provider.png",
            "allocation_by_provider.svg",
            "capacity_vs_demand.png",
            "capacity_vs_demand.svg",
            "cost_by_provider.png",
            "cost_by_provider.svg",
            "regions.png",
            "regions.svg",
        ]
    );
    for chart in charts.iter().filter(|c| c.file_name.ends_with(".png")) {
        let (w, h, rgb) = decode_png(&chart.bytes);
        assert_eq!((w, h), (1920, 1080), "{}", chart.file_name);
        assert!(
            distinct_colours(&rgb) > 50,
            "{} looks blank",
            chart.file_name
        );
    }
    let capacity = svg_text(&charts, "capacity_vs_demand.svg");
    for needle in [
        "baseline-2026",
        "aws",
        "azure",
        "lambda",
        "demand",
        "unserved",
        "Jan 2026",
        "tok/min",
        "max provider share 35%",
    ] {
        assert!(
            capacity.contains(needle),
            "capacity_vs_demand.svg lacks {needle:?}"
        );
    }
    let allocation = svg_text(&charts, "allocation_by_provider.svg");
    assert!(allocation.contains("35% share cap"));
    let cost = svg_text(&charts, "cost_by_provider.svg");
    assert!(cost.contains("per million tokens") && cost.contains("$"));
    let regions = svg_text(&charts, "regions.svg");
    assert!(regions.contains("us-east") && regions.contains("eu-west"));
}

#[test]
fn one_region_has_no_regions_chart() {
    let mut t = monthly();
    t.region_periods.retain(|r| r.region == "us-east");
    t.allocation.retain(|r| r.demand_region == "us-east");
    let charts = render_all(&t, &ChartOptions::default()).unwrap();
    assert!(!names(&charts).iter().any(|n| n.starts_with("regions")));
    assert_eq!(charts.len(), 6);
}

#[test]
fn sizes_follow_the_options() {
    for (w, h) in [(1280, 720), (3840, 2160)] {
        let charts = render_all(
            &monthly(),
            &ChartOptions {
                width: w,
                height: h,
            },
        )
        .unwrap();
        for chart in charts.iter().filter(|c| c.file_name.ends_with(".png")) {
            let (pw, ph, rgb) = decode_png(&chart.bytes);
            assert_eq!((pw, ph), (w, h));
            assert!(distinct_colours(&rgb) > 50);
        }
        assert!(svg_text(&charts, "regions.svg").contains(&format!("width=\"{w}\"")));
    }
}

#[test]
fn same_input_gives_identical_bytes() {
    let t = monthly();
    let a = render_all(&t, &ChartOptions::default()).unwrap();
    let b = render_all(&t, &ChartOptions::default()).unwrap();
    assert_eq!(a, b);
}

#[test]
fn a_year_of_hours_is_aggregated_and_identical() {
    let t = hourly_year();
    let a = render_all(&t, &ChartOptions::default()).unwrap();
    let b = render_all(&t, &ChartOptions::default()).unwrap();
    assert_eq!(a, b);
    let capacity = svg_text(&a, "capacity_vs_demand.svg");
    assert!(capacity.contains("weekly mean; thin line = weekly peak of demand"));
    assert!(capacity.contains("acme-gpu") && capacity.contains("coreweave"));
    assert!(svg_text(&a, "cost_by_provider.svg").contains("monthly totals"));
    for chart in a.iter().filter(|c| c.file_name.ends_with(".png")) {
        let (w, h, rgb) = decode_png(&chart.bytes);
        assert_eq!((w, h), (1920, 1080));
        assert!(distinct_colours(&rgb) > 50);
    }
    // Aggregation keeps the SVG small: weekly steps, not 8760 spikes.
    assert!(
        capacity.len() < 200_000,
        "capacity SVG is {} bytes",
        capacity.len()
    );
}

#[test]
fn empty_report_is_an_error() {
    let err = render_all(&ChartTables::default(), &ChartOptions::default()).unwrap_err();
    assert!(err.to_string().contains("no periods"), "{err}");
}

#[test]
fn golden_svg() {
    let charts = render_all(
        &monthly(),
        &ChartOptions {
            width: 1280,
            height: 720,
        },
    )
    .unwrap();
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/charts");
    for name in ["capacity_vs_demand.svg", "cost_by_provider.svg"] {
        let path = dir.join(name);
        let actual = svg_text(&charts, name);
        if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, actual).unwrap();
            continue;
        }
        let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
                path.display()
            )
        });
        assert!(
            actual == expected,
            "{name} differs from {} (UPDATE_GOLDEN=1 rewrites it)",
            path.display()
        );
    }
}

/// Writes PNGs for eyeballing: `CHART_PREVIEW=1 cargo test --release --test charts preview -- --ignored`.
#[test]
#[ignore]
fn preview() {
    let out = Path::new("/tmp/charts-preview");
    std::fs::create_dir_all(out).unwrap();
    let cases = [
        ("monthly", monthly()),
        ("hourly", hourly_year()),
        ("week", hourly(168, 4, "one-week")),
        (
            "quarter",
            hourly(
                24 * 90,
                24,
                "a quarter with a very long scenario name for testing truncation",
            ),
        ),
    ];
    for (tag, tables) in cases {
        for (w, h) in [(1920, 1080), (1280, 720), (3840, 2160)] {
            let started = std::time::Instant::now();
            let charts = render_all(
                &tables,
                &ChartOptions {
                    width: w,
                    height: h,
                },
            )
            .unwrap();
            eprintln!(
                "{tag} {w}x{h}: {} charts in {:?}",
                charts.len(),
                started.elapsed()
            );
            for c in charts {
                std::fs::write(out.join(format!("{tag}-{w}-{}", c.file_name)), &c.bytes).unwrap();
            }
        }
    }
}
