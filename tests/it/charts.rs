//! Chart stage tests: every chart decodes, has the right size and content, is byte-identical from
//! run to run, and one small case matches a golden SVG (`UPDATE_GOLDEN=1` rewrites it).
//!
//! `CHART_PREVIEW=1 cargo test --test it -- --ignored --exact charts::preview` writes the PNGs to
//! /tmp/charts-preview/ for looking at them.

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

use crate::common::svg::{assert_text_apart, polygon_fills, rect_fills, texts};
use capplan::chart::{render_all, ChartOptions, RenderedChart, CHART_STEMS};
use capplan::report::tables::{
    AllocationRow, ChartTables, CommitmentRow, ProviderPeriodRow, RegionPeriodRow, RunInfo,
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
    let mut commit_by_provider = vec![0.0; case.providers.len()];
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
            // What reserved capacity cannot carry is served on demand.
            let on_demand = (served - reserved).max(0.0);
            commit_by_provider[p] += commit_cost;
            total_cost += usage_cost + commit_cost + route_cost;
            served_tokens += served * minutes;
            t.provider_periods.push(ProviderPeriodRow {
                period: *start,
                minutes: *minutes,
                provider: name.to_string(),
                available_tpm: available,
                reserved_tpm: reserved,
                served_tpm: served,
                on_demand_tpm: on_demand,
                idle_reserved_tpm: (reserved - (served - on_demand)).max(0.0),
                on_demand_available_tpm: on_demand,
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
                    provider: (*name).into(),
                    tranche: format!("{name}-1").into(),
                    supply_region: (*region).into(),
                    demand_region: (*region).into(),
                    workload: "chat".into(),
                    tokens_per_minute: served_total * region_share * share * lean(p, r) / norm,
                    cost: 0.0,
                    gpu_hours: None,
                });
            }
        }
    }
    // One reserved tranche per provider, window from the second period on for the last one, and
    // an on-demand tranche (no commitment) that the commitments chart must leave out.
    let second = case.periods.get(1).map_or(String::new(), |p| {
        p.0.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    });
    for (p, (name, share)) in case.providers.iter().enumerate() {
        let last = p + 1 == case.providers.len();
        t.commitments.push(CommitmentRow {
            tranche: format!("{name}/reserved-1yr"),
            provider: name.to_string(),
            region: "us-east".into(),
            start: if last { second.clone() } else { String::new() },
            end: String::new(),
            capacity_tpm: 10e9 * share,
            reserved_fraction: case.reserved_fraction,
            reserved_tpm: 10e9 * share * case.reserved_fraction,
            commit_cost: commit_by_provider[p],
            ..CommitmentRow::default()
        });
        t.commitments.push(CommitmentRow {
            tranche: format!("{name}/ondemand"),
            provider: name.to_string(),
            region: "us-east".into(),
            start: String::new(),
            end: String::new(),
            capacity_tpm: 1e9,
            reserved_fraction: 0.0,
            reserved_tpm: 0.0,
            commit_cost: 0.0,
            ..CommitmentRow::default()
        });
    }
    t.commitments
        .sort_by(|a, b| (&a.provider, &a.tranche).cmp(&(&b.provider, &b.tranche)));
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

/// Whether the image holds more than `n` distinct colours. Counting stops at the first `n + 1`
/// (a drawn chart has them in its title rows): collecting every pixel of a 3840×2160 image in an
/// unoptimised test build took most of this file's run time.
fn more_colours_than(rgb: &[u8], n: usize) -> bool {
    let mut seen = BTreeSet::new();
    rgb.chunks_exact(3).any(|c| {
        seen.insert((c[0], c[1], c[2]));
        seen.len() > n
    })
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
            "commitments.png",
            "commitments.svg",
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
            more_colours_than(&rgb, 50),
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
    assert!(capacity.contains("on-demand use"));
    // aws carries 45% of the served tokens in this case: the subtitle says so, no cap line.
    let allocation = svg_text(&charts, "allocation_by_provider.svg");
    assert!(
        allocation.contains("aws serves 45% of demand, above the 35% cap"),
        "{}",
        texts(allocation).join(" | ")
    );
    assert!(!allocation.contains("share cap"));
    let cost = svg_text(&charts, "cost_by_provider.svg");
    assert!(cost.contains("per million tokens") && cost.contains("$"));
    assert!(cost.contains("$ per calendar month") && cost.contains("(28–31 days)"));
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
    assert_eq!(charts.len(), 8);
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
            assert!(more_colours_than(&rgb, 50));
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
    // 53 weekly bars, the first and last weeks partial.
    let cost = svg_text(&a, "cost_by_provider.svg");
    assert!(cost.contains("$ per week"));
    assert!(cost.contains("partial weeks"));
    for chart in a.iter().filter(|c| c.file_name.ends_with(".png")) {
        let (w, h, rgb) = decode_png(&chart.bytes);
        assert_eq!((w, h), (1920, 1080));
        assert!(more_colours_than(&rgb, 50));
    }
    // Aggregation keeps the SVG small: weekly steps, not 8760 spikes (the on-demand stripes of
    // twelve providers are most of it).
    assert!(
        capacity.len() < 400_000,
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

/// A bundled scenario solved in-process (the tables `capplan run` charts).
fn scenario_tables(name: &str) -> ChartTables {
    let folder = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios")
        .join(name);
    capplan::pipeline::run(&folder, capplan::model::solve::SolverKind::default_kind())
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .report
        .charts
}

fn quickstart() -> &'static ChartTables {
    static T: OnceLock<ChartTables> = OnceLock::new();
    T.get_or_init(|| scenario_tables("quickstart"))
}

fn frontier() -> &'static ChartTables {
    static T: OnceLock<ChartTables> = OnceLock::new();
    T.get_or_init(|| scenario_tables("frontier-2026"))
}

fn render(t: &ChartTables, w: u32, h: u32) -> Vec<RenderedChart> {
    render_all(
        t,
        &ChartOptions {
            width: w,
            height: h,
        },
    )
    .unwrap()
}

/// The fixed colours of the well-known providers, in stack order (palette.rs).
const KNOWN: [(&str, &str); 8] = [
    ("aws", "#E69F00"),
    ("azure", "#0072B2"),
    ("gcp", "#5FC27E"),
    ("oracle", "#882255"),
    ("lambda", "#CC79A7"),
    ("coreweave", "#7F5A10"),
    ("nebius", "#F0E442"),
    ("onprem", "#332288"),
];

/// The lighter variant of a colour (on-demand use, usage cost): 42% of the colour over white.
fn tint(hex: &str) -> String {
    let v = u32::from_str_radix(&hex[1..], 16).unwrap();
    let mix = |c: u32| (255.0 - (255.0 - c as f64) * 0.42).round() as u32;
    format!(
        "#{:02X}{:02X}{:02X}",
        mix((v >> 16) & 255),
        mix((v >> 8) & 255),
        mix(v & 255)
    )
}

fn rank_of_fill(fill: &str) -> Option<usize> {
    KNOWN.iter().position(|(_, hex)| *hex == fill)
}

fn rank_of_name(name: &str) -> Option<usize> {
    KNOWN.iter().position(|(n, _)| *n == name)
}

fn text_is(svg: &str, text: &str) -> bool {
    texts(svg).iter().any(|t| t == text)
}

#[test]
fn on_demand_use_is_drawn_as_its_own_band() {
    let t = quickstart();
    let march: Vec<&ProviderPeriodRow> = t
        .provider_periods
        .iter()
        .filter(|r| r.period.month() == 3 && r.on_demand_tpm > 0.0)
        .collect();
    assert!(!march.is_empty(), "quickstart uses on-demand in March");
    let charts = render(t, 1280, 720);
    let capacity = svg_text(&charts, "capacity_vs_demand.svg");
    let fills = polygon_fills(capacity);
    for row in &march {
        let hex = KNOWN
            .iter()
            .find(|(n, _)| *n == row.provider)
            .map(|(_, h)| *h)
            .unwrap();
        assert!(
            fills.contains(&tint(hex)),
            "no on-demand band for {}: {fills:?}",
            row.provider
        );
    }
    assert!(text_is(capacity, "on-demand use (striped)"));
    // Reserved plus on-demand meets demand wherever the plan serves it (quickstart serves all).
    for period in t.region_periods.iter().map(|r| r.period) {
        let demand: f64 = t
            .region_periods
            .iter()
            .filter(|r| r.period == period)
            .map(|r| r.demand_tpm)
            .sum();
        let drawn: f64 = t
            .provider_periods
            .iter()
            .filter(|r| r.period == period)
            .map(|r| r.reserved_tpm + r.on_demand_tpm)
            .sum();
        assert!(
            drawn >= demand * (1.0 - 1e-9),
            "{period}: {drawn} < {demand}"
        );
    }
    // Without on-demand use there is no band and no legend entry for it.
    let mut none = monthly();
    for r in &mut none.provider_periods {
        r.on_demand_tpm = 0.0;
    }
    let charts = render(&none, 1280, 720);
    let capacity = svg_text(&charts, "capacity_vs_demand.svg");
    assert!(!text_is(capacity, "on-demand use (striped)"));
    for (_, hex) in KNOWN {
        assert!(!polygon_fills(capacity).contains(&tint(hex)));
    }
}

/// Provider ranks of the fills, in drawing order, that are provider colours.
fn ranks(fills: &[String]) -> Vec<usize> {
    fills.iter().filter_map(|f| rank_of_fill(f)).collect()
}

fn non_decreasing(v: &[usize]) -> bool {
    v.windows(2).all(|w| w[0] <= w[1])
}

#[test]
fn providers_stack_in_one_order_in_every_chart_and_scenario() {
    let cases = [monthly(), quickstart().clone(), frontier().clone()];
    for t in &cases {
        let charts = render(t, 1280, 720);
        let who = &t.info.scenario;
        for stem in ["capacity_vs_demand", "allocation_by_provider"] {
            let svg = svg_text(&charts, &format!("{stem}.svg"));
            // Stack bands are polygons, bottom first: solid (reserved / served) bands in stack
            // order, then the on-demand bands in the same order.
            let fills = polygon_fills(svg);
            let solid = ranks(&fills);
            assert!(non_decreasing(&solid), "{who} {stem}: {fills:?}");
            let light: Vec<usize> = fills
                .iter()
                .filter_map(|f| KNOWN.iter().position(|(_, h)| tint(h) == *f))
                .collect();
            assert!(non_decreasing(&light), "{who} {stem}: {fills:?}");
            // The legend reads top down: the reverse of the stack.
            let legend: Vec<usize> = texts(svg).iter().filter_map(|t| rank_of_name(t)).collect();
            let mut expected = legend.clone();
            expected.sort_unstable_by(|a, b| b.cmp(a));
            assert_eq!(legend, expected, "{who} {stem} legend");
        }
        // Cost bars: within each bar (rects sharing an x), providers bottom up in stack order.
        let cost = svg_text(&charts, "cost_by_provider.svg");
        let rects: Vec<(String, String)> = cost
            .split("<rect")
            .skip(2)
            .map(|e| {
                let head = &e[..e.find('>').unwrap()];
                (
                    common::svg::attr(head, "x").unwrap().to_string(),
                    common::svg::attr(head, "fill").unwrap().to_string(),
                )
            })
            .collect();
        let legend_x = rects.last().unwrap().0.clone();
        let mut xs: Vec<&String> = rects.iter().map(|r| &r.0).collect();
        xs.dedup();
        for x in xs.iter().filter(|x| ***x != legend_x) {
            let bar: Vec<usize> = rects
                .iter()
                .filter(|r| &r.0 == *x)
                .filter_map(|r| {
                    rank_of_fill(&r.1).or_else(|| KNOWN.iter().position(|(_, h)| tint(h) == r.1))
                })
                .collect();
            assert!(non_decreasing(&bar), "{who} cost bar at x={x}: {bar:?}");
        }
        // Commitments: rows grouped by provider in stack order.
        let gantt = svg_text(&charts, "commitments.svg");
        let signed = t.commitments.iter().filter(|r| r.commit_cost > 0.0).count();
        let bars: Vec<usize> = ranks(&rect_fills(gantt)).into_iter().take(signed).collect();
        assert!(non_decreasing(&bars), "{who} commitments: {bars:?}");
    }
}

#[test]
fn no_text_touches_at_any_size() {
    let cases = [
        monthly(),
        hourly_year(),
        quickstart().clone(),
        frontier().clone(),
    ];
    for t in &cases {
        for (w, h) in [(800, 450), (1280, 720), (1920, 1080)] {
            let charts = render(t, w, h);
            for stem in CHART_STEMS {
                let name = format!("{stem}.svg");
                if let Some(c) = charts.iter().find(|c| c.file_name == name) {
                    let svg = std::str::from_utf8(&c.bytes).unwrap();
                    assert_text_apart(svg, &format!("{} {name}", t.info.scenario), w, h, 1.0);
                }
            }
        }
    }
}

#[test]
#[should_panic(expected = "closer than")]
fn the_text_check_catches_labels_that_touch() {
    let text = |x: u32| {
        format!(
            "<text x=\"{x}\" y=\"10\" dy=\"0.76em\" text-anchor=\"start\" font-size=\"20\">\n$1.23B\n</text>"
        )
    };
    let svg = format!("<svg>{}{}</svg>", text(10), text(70));
    assert_text_apart(&svg, "two labels", 800, 450, 1.0);
}

#[test]
fn legend_entries_match_drawn_series() {
    const RED: &str = "#E8112D";
    // Quickstart serves everything: no unserved entry, no red, in any chart.
    let t = quickstart();
    assert!(t.region_periods.iter().all(|r| r.unserved_tpm <= 1e-6));
    let charts = render(t, 1280, 720);
    for stem in ["capacity_vs_demand", "regions"] {
        let svg = svg_text(&charts, &format!("{stem}.svg"));
        assert!(!text_is(svg, "unserved"), "{stem} has an unserved entry");
        assert!(!svg.contains(RED), "{stem} draws red");
    }
    // Providers in the legend are those drawn, and only those.
    let capacity = svg_text(&charts, "capacity_vs_demand.svg");
    let named: BTreeSet<&str> = KNOWN
        .iter()
        .map(|(n, _)| *n)
        .filter(|n| text_is(capacity, n))
        .collect();
    assert_eq!(named, BTreeSet::from(["aws", "azure", "onprem"]));
    // The monthly case leaves demand unserved early on: the entry and the red band are there.
    let charts = render(&monthly(), 1280, 720);
    for stem in ["capacity_vs_demand", "regions"] {
        let svg = svg_text(&charts, &format!("{stem}.svg"));
        assert!(text_is(svg, "unserved"), "{stem} lacks its unserved entry");
        assert!(svg.contains(RED), "{stem} draws no red");
    }
    // The cap entry only with its dots: frontier has providers at the 35% cap.
    let charts = render(frontier(), 1280, 720);
    let allocation = svg_text(&charts, "allocation_by_provider.svg");
    assert!(text_is(allocation, "at the 35% cap"));
    assert!(allocation.matches("<circle").count() > 2);
    assert!(allocation.contains("no provider above 35% of demand"));
    let mut capped = frontier().clone();
    capped.info.max_provider_share = Some(0.9);
    let charts = render(&capped, 1280, 720);
    let allocation = svg_text(&charts, "allocation_by_provider.svg");
    assert!(!text_is(allocation, "at the 90% cap"));
    assert_eq!(allocation.matches("<circle").count(), 0);
}

#[test]
fn commitments_chart_lists_every_signed_tranche() {
    for t in [monthly(), frontier().clone()] {
        for (w, h) in [(800, 450), (1920, 1080)] {
            let charts = render(&t, w, h);
            let svg = svg_text(&charts, "commitments.svg");
            let shown = texts(svg);
            assert!(!svg.contains("image too small"));
            let mut signed = 0;
            for row in &t.commitments {
                let listed = shown.contains(&row.tranche);
                if row.commit_cost > 0.0 {
                    signed += 1;
                    assert!(listed, "{} missing at {w}x{h}", row.tranche);
                } else {
                    assert!(!listed, "{} has nothing to sign", row.tranche);
                }
            }
            assert!(signed > 0);
            assert!(svg.contains(&format!("{signed} tranches to reserve")));
        }
    }
    // Nothing signed: the chart says so.
    let mut none = monthly();
    none.commitments.retain(|r| r.commit_cost == 0.0);
    let charts = render(&none, 800, 450);
    assert!(svg_text(&charts, "commitments.svg").contains("nothing to reserve"));
}

/// Writes PNGs for eyeballing: `CHART_PREVIEW=1 cargo test --release --test it -- --ignored --exact charts::preview`.
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

/// Issue 19: fitting a label costs time linear in its length (or less), so a name of 100,000
/// characters (a provider, a region, a tranche, the scenario) renders: here the whole pipeline,
/// PNGs included, within a watchdog that only a quadratic fit would trip.
#[test]
fn a_huge_name_renders_without_hanging() {
    let long = |c: &str| c.repeat(100_000);
    let mut t = monthly();
    t.info.scenario = long("s");
    t.info.policy = long("p ");
    let rename = |name: &mut String| {
        if name == "lambda" {
            *name = long("l");
        }
    };
    t.provider_periods
        .iter_mut()
        .for_each(|r| rename(&mut r.provider));
    for r in &mut t.allocation {
        if r.provider == "lambda" {
            r.provider = long("l").into();
        }
    }
    t.commitments.iter_mut().for_each(|r| {
        rename(&mut r.provider);
        if r.provider.len() > 1000 {
            r.tranche = long("t");
        }
    });
    for r in &mut t.region_periods {
        if r.region == "eu-west" {
            r.region = long("r");
        }
    }
    for r in &mut t.allocation {
        if r.demand_region == "eu-west" {
            r.demand_region = long("r").into();
        }
    }
    let baseline = render(&monthly(), 800, 450);
    // Not a speed check (speed is benchmarked, not tested): text fitting used to re-measure every
    // prefix of a name, quadratic in its length (16,000 characters: 173 s; 100,000 would take
    // hours), so a run that returns at all within minutes shows it no longer does.
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(render(&t, 800, 450));
    });
    let charts = rx
        .recv_timeout(std::time::Duration::from_secs(120))
        .expect("charts with 100,000-character names did not render within 120 s");
    assert_eq!(charts.len(), baseline.len());
    for stem in CHART_STEMS {
        let svg = svg_text(&charts, &format!("{stem}.svg"));
        assert!(
            svg.len() < 1_000_000,
            "{stem}: the names are shortened for display"
        );
        assert_text_apart(svg, stem, 800, 450, 1.0);
    }
}

/// Issue 19: every chart computation is bounded for any finite value. `capplan chart` on a run
/// whose region_periods.csv holds values between 1e305 and 1.7e308 (the first row 1.7e308 itself)
/// returns (it used to spin in the tick picker and the hand-made dashes); a watchdog kills it
/// after 60 s.
#[test]
fn absurd_values_chart_and_return() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("run");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quickstart");
    let (code, _, err) = common::capplan(&[
        "run",
        scenario.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--no-charts",
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    let path = out.join("region_periods.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let mut rewritten = vec![header.join(",")];
    for (i, line) in lines.enumerate() {
        let fields: Vec<String> = line
            .split(',')
            .zip(&header)
            .enumerate()
            .map(|(k, (v, h))| match *h {
                "period" | "region" | "minutes" => v.to_string(),
                _ if i == 0 => "1.7e308".to_string(),
                _ => format!("{:e}", 1e305 + noise((i * 7 + k) as u64) * 1.69e308),
            })
            .collect();
        rewritten.push(fields.join(","));
    }
    std::fs::write(&path, rewritten.join("\n") + "\n").unwrap();
    let args = ["chart", out.to_str().unwrap(), "--chart-size", "800x450"];
    assert_eq!(common::capplan_within(&args, 60), 0);
    let svg = std::fs::read_to_string(out.join("capacity_vs_demand.svg")).unwrap();
    assert_text_apart(&svg, "capacity_vs_demand.svg", 800, 450, 1.0);
}

/// Issue 19: `capplan run` on a scenario whose provider name has 32,000 characters and whose own
/// name 64 KiB charts and returns, at the default size and a small one: the names are shortened
/// with an ellipsis, in time linear in their length (fitting used to re-measure every prefix:
/// 16,000 characters took 173 s). A watchdog kills a run after 60 s.
#[test]
fn a_run_with_a_32000_character_provider_name_charts() {
    let quickstart = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quickstart");
    let tmp = tempfile::tempdir().unwrap();
    let scenario = tmp.path().join("long-names");
    std::fs::create_dir(&scenario).unwrap();
    let (provider, name) = ("p".repeat(32_000), "n".repeat(65_536));
    for file in ["capacity.csv", "demand.csv", "routes.csv", "scenario.toml"] {
        let text = std::fs::read_to_string(quickstart.join(file)).unwrap();
        let text = text.replace("\naws,", &format!("\n{provider},"));
        let text = text.replace("name = \"quickstart\"", &format!("name = \"{name}\""));
        std::fs::write(scenario.join(file), text).unwrap();
    }
    for (w, h) in [(1920, 1080), (800, 450)] {
        let (out, size) = (tmp.path().join(format!("out-{w}")), format!("{w}x{h}"));
        let (scenario, out) = (scenario.to_str().unwrap(), out.to_str().unwrap());
        let args = [
            "run",
            scenario,
            "--out",
            out,
            "--chart-size",
            &size,
            "--quiet",
        ];
        assert_eq!(common::capplan_within(&args, 60), 0);
        for stem in CHART_STEMS {
            let svg = std::fs::read_to_string(Path::new(out).join(format!("{stem}.svg"))).unwrap();
            assert!(svg.len() < 200_000, "{stem}: names shortened");
            assert_text_apart(&svg, stem, w, h, 1.0);
            // Both names shortened with an ellipsis: the provider's in the legend, the scenario's
            // in the title, which still says what the chart shows (": capacity vs demand").
            for long in ["ppp", "nnn"] {
                let shortened = |t: &String| t.starts_with(long) && t.contains("…");
                assert!(
                    texts(&svg).iter().any(shortened),
                    "{stem} at {size}: {long}"
                );
            }
        }
    }
}

/// The smallest and the most lopsided images still lay out: no panic, no text touching.
#[test]
fn extreme_sizes_lay_out() {
    for (w, h) in [(320, 320), (640, 360), (2000, 320), (320, 900)] {
        let charts = render(&monthly(), w, h);
        for stem in CHART_STEMS {
            assert_text_apart(svg_text(&charts, &format!("{stem}.svg")), stem, w, h, 0.0);
        }
    }
}
