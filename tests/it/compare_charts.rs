//! Compare chart tests: every stem as PNG and SVG at the requested size, provider colours and a
//! stack order that depends on provider names only, one delta group per later scenario with spend
//! and served demand apart, demand drawn once and every line visible, no text box touching another
//! or leaving the image, and identical bytes from run to run.
//!
//! `CHART_PREVIEW=1 cargo test --test it -- --ignored --exact compare_charts::preview` writes the PNGs to
//! /tmp/compare-charts-preview/ for looking at them.

use crate::common::svg::{assert_text_fits, attr, rect_fills};
use capplan::chart::compare::{render_all, COMPARE_CHART_STEMS};
use capplan::chart::{ChartOptions, RenderedChart};
use capplan::compare::{compare, Column, Comparison};
use capplan::report::build::Summary;
use capplan::report::tables::{ChartTables, ProviderPeriodRow, RegionPeriodRow, RunInfo};
use chrono::{DateTime, Duration, TimeZone, Utc};

/// A run: `providers` (name, share of the reservation) over `periods` (start, minutes), demand
/// growing from `demand0`, `reserved` × demand reserved, `unserved` of the demand left unserved.
struct Run<'a> {
    label: &'a str,
    providers: &'a [(&'a str, f64)],
    periods: Vec<(DateTime<Utc>, f64)>,
    demand0: f64,
    reserved: f64,
    unserved: f64,
}

fn monthly(months: u32) -> Vec<(DateTime<Utc>, f64)> {
    (0..months)
        .map(|m| {
            let start = Utc
                .with_ymd_and_hms(2026 + (m / 12) as i32, m % 12 + 1, 1, 0, 0, 0)
                .unwrap();
            let n = m + 1;
            let next = Utc
                .with_ymd_and_hms(2026 + (n / 12) as i32, n % 12 + 1, 1, 0, 0, 0)
                .unwrap();
            (start, (next - start).num_minutes() as f64)
        })
        .collect()
}

fn hourly(hours: i64) -> Vec<(DateTime<Utc>, f64)> {
    let t0 = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
    (0..hours)
        .map(|h| (t0 + Duration::hours(h), 60.0))
        .collect()
}

fn column(run: Run) -> Column {
    let mut t = ChartTables {
        info: RunInfo {
            scenario: run.label.into(),
            ..Default::default()
        },
        ..Default::default()
    };
    let mut per_provider = vec![[0.0f64; 5]; run.providers.len()]; // commit, usage, route, served, peak
    let (mut demand_tokens, mut served_tokens) = (0.0, 0.0);
    let n = run.periods.len() as f64;
    for (i, (start, minutes)) in run.periods.iter().enumerate() {
        let demand = run.demand0 * (1.0 + 0.8 * i as f64 / n);
        let served = demand * (1.0 - run.unserved);
        demand_tokens += demand * minutes;
        served_tokens += served * minutes;
        for (p, (name, share)) in run.providers.iter().enumerate() {
            let reserved = demand * run.reserved * share;
            let commit = reserved * minutes * 0.25 / 1e6;
            let usage = served * share * minutes * 0.4 / 1e6;
            let route = if p == 1 { usage * 0.05 } else { 0.0 };
            let acc = &mut per_provider[p];
            acc[0] += commit;
            acc[1] += usage;
            acc[2] += route;
            acc[3] += served * share * minutes;
            acc[4] = acc[4].max(reserved);
            t.provider_periods.push(ProviderPeriodRow {
                period: *start,
                minutes: *minutes,
                provider: name.to_string(),
                available_tpm: reserved * 1.2,
                reserved_tpm: reserved,
                served_tpm: served * share,
                on_demand_tpm: 0.0,
                idle_reserved_tpm: 0.0,
                commit_cost: commit,
                on_demand_available_tpm: 0.0,
                usage_cost: usage,
                route_cost: route,
            });
        }
        t.region_periods.push(RegionPeriodRow {
            period: *start,
            minutes: *minutes,
            region: "us".into(),
            demand_tpm: demand,
            served_tpm: served,
            unserved_tpm: demand - served,
        });
    }
    let sum = |k: usize| per_provider.iter().map(|p| p[k]).sum::<f64>();
    let cost = sum(0) + sum(1) + sum(2);
    let unserved_tokens = demand_tokens - served_tokens;
    let penalty = unserved_tokens / 1e6 * 5.0;
    let providers: Vec<serde_json::Value> = run
        .providers
        .iter()
        .zip(&per_provider)
        .map(|((name, share), acc)| {
            serde_json::json!({
                "provider": name, "reserved_tpm_peak": acc[4], "served_tokens": acc[3],
                "cost": acc[0] + acc[1] + acc[2], "commit_cost": acc[0], "usage_cost": acc[1],
                "route_cost": acc[2], "peak_share": share,
            })
        })
        .collect();
    let summary: Summary = serde_json::from_value(serde_json::json!({
        "scenario": run.label, "description": "", "horizon_start": "", "horizon_end": "",
        "periods": run.periods.len(), "objective": cost + penalty, "cost": cost,
        "commit_cost": sum(0), "usage_cost": sum(1), "route_cost": sum(2),
        "unserved_penalty_cost": penalty, "resilience_penalty_cost": 0.0,
        "cost_per_million_tokens": cost / (served_tokens / 1e6), "demand_tokens": demand_tokens,
        "served_tokens": served_tokens, "unserved_tokens": unserved_tokens,
        "served_fraction": served_tokens / demand_tokens, "resilience_shortfall_tokens": 0.0,
        "policy": {"unserved_penalty": 5.0, "max_provider_share": 1.0, "survive_provider_loss": false,
                   "loss_coverage": 0.0, "resilience_penalty": 0.0, "text": ""},
        "solver": "test", "solve_seconds": 0.0, "providers": providers,
    }))
    .expect("a summary");
    Column {
        label: run.label.into(),
        summary,
        tables: t,
        replanned: None,
    }
}

const THREE: &[(&str, f64)] = &[("aws", 0.5), ("azure", 0.3), ("gcp", 0.2)];
const OTHERS: &[(&str, f64)] = &[("gcp", 0.4), ("oracle", 0.2), ("azure", 0.3), ("acme", 0.1)];

/// A baseline and three what-ifs: more demand, a cheaper mix with some demand unserved, and a
/// run on an hourly grid (so the grids differ) with a long name.
fn four_columns() -> Vec<Column> {
    vec![
        column(Run {
            label: "frontier-2026",
            providers: THREE,
            periods: monthly(24),
            demand0: 15e9,
            reserved: 0.9,
            unserved: 0.0,
        }),
        column(Run {
            label: "demand-surge",
            providers: THREE,
            periods: monthly(24),
            demand0: 19.5e9,
            reserved: 0.95,
            unserved: 0.0,
        }),
        column(Run {
            label: "lean-reservations",
            providers: OTHERS,
            periods: monthly(24),
            demand0: 15e9,
            reserved: 0.6,
            unserved: 0.02,
        }),
        column(Run {
            label: "an-hourly-what-if-with-a-really-long-scenario-name-for-labels",
            providers: THREE,
            periods: hourly(24 * 120),
            demand0: 14e9,
            reserved: 1.0,
            unserved: 0.0,
        }),
    ]
}

fn render(columns: &[Column], w: u32, h: u32) -> (Comparison, Vec<RenderedChart>) {
    let comparison = compare(columns, false);
    let charts = render_all(
        &comparison,
        columns,
        &ChartOptions {
            width: w,
            height: h,
        },
    )
    .unwrap();
    (comparison, charts)
}

fn svg<'a>(charts: &'a [RenderedChart], name: &str) -> &'a str {
    let chart = charts
        .iter()
        .find(|c| c.file_name == name)
        .unwrap_or_else(|| panic!("no {name}"));
    std::str::from_utf8(&chart.bytes).expect("SVG is UTF-8")
}

fn png_size(bytes: &[u8]) -> (u32, u32) {
    let reader = png::Decoder::new(bytes).read_info().expect("PNG header");
    let info = reader.info();
    (info.width, info.height)
}

#[test]
fn every_stem_is_drawn_as_png_and_svg_at_the_requested_size() {
    let columns = four_columns();
    for (w, h) in [(800, 450), (1280, 720), (1920, 1080)] {
        let (_, charts) = render(&columns, w, h);
        let mut expected: Vec<String> = COMPARE_CHART_STEMS
            .iter()
            .flat_map(|s| [format!("{s}.png"), format!("{s}.svg")])
            .collect();
        expected.sort();
        let names: Vec<&str> = charts.iter().map(|c| c.file_name.as_str()).collect();
        assert_eq!(names, expected);
        for c in &charts {
            if c.file_name.ends_with(".png") {
                assert_eq!(png_size(&c.bytes), (w, h), "{}", c.file_name);
            } else {
                let text = std::str::from_utf8(&c.bytes).unwrap();
                assert!(
                    text.contains(&format!("width=\"{w}\" height=\"{h}\"")),
                    "{}",
                    c.file_name
                );
            }
        }
    }
}

#[test]
fn titles_name_the_baseline() {
    let columns = four_columns();
    let (_, charts) = render(&columns, 1920, 1080);
    for stem in COMPARE_CHART_STEMS {
        let text = svg(&charts, &format!("{stem}.svg"));
        assert!(text.contains("frontier-2026"), "{stem} lacks the baseline");
    }
    let capacity = svg(&charts, "compare_capacity.svg");
    for needle in ["demand", "reserved capacity", "tok/min", "daily means"] {
        assert!(capacity.contains(needle), "capacity chart lacks {needle:?}");
    }
    let mut held = compare(&columns, true);
    held.hold_reservations = true;
    let charts = render_all(&held, &columns, &ChartOptions::default()).unwrap();
    assert!(svg(&charts, "compare_cost_delta.svg")
        .contains("held to frontier-2026&apos;s reservations"));
}

/// The well-known providers' colours (as the run charts use them).
fn provider_hex(name: &str) -> &'static str {
    match name {
        "aws" => "#E69F00",
        "azure" => "#0072B2",
        "gcp" => "#5FC27E",
        "oracle" => "#882255",
        _ => panic!("no fixed colour for {name}"),
    }
}

#[test]
fn cost_bars_use_provider_colours_in_one_order() {
    let columns = four_columns();
    // Two comparisons with different provider sets, each baseline holding all its providers.
    let a = vec![columns[0].clone(), columns[1].clone()];
    let b = vec![columns[2].clone(), columns[0].clone()];
    let order_in = |cols: &[Column]| -> Vec<String> {
        let (comparison, charts) = render(cols, 1280, 720);
        let text = svg(&charts, "compare_cost_by_provider.svg");
        let fills = rect_fills(text);
        for p in comparison.providers.iter().filter(|p| *p != "acme") {
            assert!(
                fills.iter().any(|f| f == provider_hex(p)),
                "{p} is not drawn in its colour"
            );
            assert!(
                text.contains(&format!(">\n{p}\n<")),
                "{p} not in the legend"
            );
        }
        // The first bar's segments, bottom up: the rects after the background at its x.
        let rects: Vec<(String, String)> = text
            .split("<rect")
            .skip(2)
            .map(|e| {
                let head = &e[..e.find('>').unwrap()];
                (
                    attr(head, "x").unwrap().to_string(),
                    attr(head, "fill").unwrap().to_string(),
                )
            })
            .collect();
        rects
            .iter()
            .filter(|r| r.0 == rects[0].0)
            .map(|r| r.1.clone())
            .collect::<Vec<String>>()
    };
    let hex = |names: &[&str]| -> Vec<String> {
        names.iter().map(|n| provider_hex(n).to_string()).collect()
    };
    let order_a = order_in(&a);
    assert_eq!(order_a, hex(&["aws", "azure", "gcp"]));
    let order_b = order_in(&b);
    let known_b: Vec<String> = order_b
        .iter()
        .filter(|f| hex(&["aws", "azure", "gcp", "oracle"]).contains(f))
        .cloned()
        .collect();
    // Shared providers keep their order; the one the other lacks slots in by name.
    assert_eq!(known_b, hex(&["azure", "gcp", "oracle"]));
    // acme has no fixed colour: it sits on top, after every well-known provider.
    assert_eq!(order_b.len(), 4, "acme is drawn too: {order_b:?}");
    assert_eq!(order_b[..3], known_b[..]);
}

#[test]
fn the_delta_chart_has_a_group_per_later_scenario() {
    let columns = four_columns();
    let (comparison, charts) = render(&columns, 1920, 1080);
    let text = svg(&charts, "compare_cost_delta.svg");
    let commit_colour = "#3F6FB5";
    let commit_bars = rect_fills(text)
        .iter()
        .filter(|f| *f == commit_colour)
        .count();
    // One commit bar per later scenario (every one changes commitments), plus the legend swatch.
    assert_eq!(commit_bars, comparison.scenarios.len() - 1 + 1);
    // One net dot per later scenario (and one in the legend).
    let dots = text.matches("<circle").count();
    assert_eq!(dots, 2 * (comparison.scenarios.len() - 1) + 2);
    for s in &comparison.scenarios[1..3] {
        assert!(text.contains(s.as_str()), "no group label for {s}");
    }
    let nets = ["+", "\u{2212}", "\u{b1}"]
        .iter()
        .map(|sign| text.matches(&format!(">\nspend {sign}")).count())
        .sum::<usize>();
    assert_eq!(nets, comparison.scenarios.len() - 1);
    for metric in [
        "commit",
        "usage",
        "route",
        "net change of spend",
        "served over the horizon",
        "worst period served",
    ] {
        assert!(
            text.contains(&format!(">\n{metric}\n<")),
            "legend lacks {metric}"
        );
    }
}

/// Issue 18: the delta chart shows spend, never penalty dollars, and unserved demand in its own
/// panel: lean-reservations leaves 2% of demand unserved in every period, so both of its served
/// bars read −2 pp; the others serve everything (±0 pp).
#[test]
fn the_delta_chart_shows_spend_and_served_apart() {
    let columns = four_columns();
    let (comparison, charts) = render(&columns, 1920, 1080);
    let text = svg(&charts, "compare_cost_delta.svg");
    assert!(!text.to_lowercase().contains("penalt"), "{text}");
    assert!(!text.contains("objective"));
    assert!(text.contains("change of demand served, percentage points"));
    assert_eq!(text.matches(">\n\u{2212}2 pp\n<").count(), 2, "{text}");
    assert_eq!(text.matches(">\n\u{b1}0 pp\n<").count(), 4);
    // The net dot of each group is the change of spend, computed here from the summaries.
    let base = &columns[0].summary;
    for (c, s) in columns[1..].iter().zip(&comparison.scenarios[1..]) {
        let (parts, net) = comparison.spend_change(s);
        let want = c.summary.cost - base.cost;
        assert!((net - want).abs() <= 1e-6 * want.abs().max(1.0), "{s}");
        let sum: f64 = parts.iter().sum();
        assert!((sum - net).abs() <= 1e-6 * net.abs().max(1.0), "{s}");
    }
}

/// The polylines of a chart with more than two points (data, not legend swatches): (stroke,
/// width, dashed).
fn data_lines(svg: &str) -> Vec<(String, f64, bool)> {
    svg.split("<polyline")
        .skip(1)
        .filter_map(|e| {
            let head = &e[..e.find("/>").unwrap_or(e.len())];
            let points = attr(head, "points")?.split_whitespace().count();
            (points > 2).then(|| {
                (
                    attr(head, "stroke").unwrap_or("").to_string(),
                    attr(head, "stroke-width").unwrap().parse().unwrap(),
                    attr(head, "stroke-dasharray").is_some(),
                )
            })
        })
        .collect()
}

/// Issue 18: demand is drawn once for the columns that share it (a grey band: the baseline and
/// lean-reservations have the same demand), a dashed line for each demand of its own; every
/// column's reserved line is narrower than the one before by at least 2 px, also at 800×450,
/// so a line that coincides with an earlier one still shows.
#[test]
fn demand_is_drawn_once_and_every_line_stays_visible() {
    let columns = four_columns();
    for (w, h) in [(800, 450), (1920, 1080)] {
        let (_, charts) = render(&columns, w, h);
        let text = svg(&charts, "compare_capacity.svg");
        let lines = data_lines(text);
        let band: Vec<_> = lines.iter().filter(|l| l.0 == "#C4C4C4").collect();
        assert_eq!(band.len(), 1, "one demand band: {lines:?}");
        let dashed = lines.iter().filter(|l| l.2).count();
        assert_eq!(
            dashed, 2,
            "demand-surge and the hourly run have their own: {lines:?}"
        );
        // The reserved lines, in column order (the baseline in ink first).
        let reserved: Vec<&(String, f64, bool)> =
            lines.iter().filter(|l| !l.2 && l.0 != "#C4C4C4").collect();
        let reserved = &reserved[..columns.len()];
        assert_eq!(reserved[0].0, "#1A1A1A");
        for pair in reserved.windows(2) {
            assert!(pair[0].1 - pair[1].1 >= 2.0 - 1e-9, "{w}x{h}: {reserved:?}");
        }
        assert!(band[0].1 > reserved[0].1, "the band shows round every line");
        for needle in [
            "demand of the baseline and 1 more",
            "demand of demand-surge",
        ] {
            assert!(text.contains(needle), "{w}x{h}: legend lacks {needle:?}");
        }
        // lean-reservations leaves demand unserved: the served panel is drawn, one line each.
        assert!(text.contains("demand served (lowest period of each day)"));
        assert_eq!(lines.len(), 1 + 2 + 2 * columns.len(), "{lines:?}");
    }
    // With every column serving all demand there is no served panel, and the chart says why.
    let served_all = vec![columns[0].clone(), columns[1].clone()];
    let (_, charts) = render(&served_all, 1280, 720);
    let text = svg(&charts, "compare_capacity.svg");
    assert!(text.contains("every column serves all demand in every period"));
    assert!(!text.contains("demand served"));
    assert!(text.contains("demand of the baseline"));
}

#[test]
fn one_scenario_says_there_is_nothing_to_compare() {
    let columns = vec![four_columns().remove(0)];
    let (_, charts) = render(&columns, 800, 450);
    assert_eq!(charts.len(), 2 * COMPARE_CHART_STEMS.len());
    let delta = svg(&charts, "compare_cost_delta.svg");
    assert!(delta.contains("nothing to compare"));
    assert_text_fits(delta, "compare_cost_delta.svg", 800, 450);
}

#[test]
fn no_text_overlaps_or_runs_off() {
    let columns = four_columns();
    for (w, h) in [(800, 450), (1280, 720), (1920, 1080)] {
        let (_, charts) = render(&columns, w, h);
        for stem in COMPARE_CHART_STEMS {
            let name = format!("{stem}.svg");
            assert_text_fits(svg(&charts, &name), &name, w, h);
        }
    }
    // Many scenarios with long names at the smallest size.
    let mut many = four_columns();
    for i in 0..6 {
        let mut c = many[i % 3].clone();
        c.label = format!("what-if number {i} with a long descriptive name");
        many.push(c);
    }
    let (_, charts) = render(&many, 800, 450);
    for stem in COMPARE_CHART_STEMS {
        let name = format!("{stem}.svg");
        assert_text_fits(svg(&charts, &name), &name, 800, 450);
    }
}

#[test]
fn same_input_gives_identical_bytes() {
    let columns = four_columns();
    let (_, a) = render(&columns, 1280, 720);
    let (_, b) = render(&columns, 1280, 720);
    assert_eq!(a, b);
}

/// Writes PNGs for eyeballing.
#[test]
#[ignore]
fn preview() {
    let out = std::path::Path::new("/tmp/compare-charts-preview");
    std::fs::create_dir_all(out).unwrap();
    let columns = four_columns();
    for (w, h) in [(800, 450), (1280, 720), (1920, 1080)] {
        let (_, charts) = render(&columns, w, h);
        for c in charts {
            std::fs::write(out.join(format!("{w}-{}", c.file_name)), &c.bytes).unwrap();
        }
    }
}
