//! Resilience chart tests: both charts as PNG and SVG at the requested size, the heatmap prints
//! every served % of `resilience.csv` and colours 0% unlike 100%, no two texts overlap (nor leave
//! the image) at 800x450, and the same matrix gives the same bytes.
//!
//! Inputs come from the real binary on `scenarios/quickstart`, and from a synthetic matrix with
//! many plans, long names, pairs and clustered points (rendered through the library).

use crate::common;

use std::path::Path;

use capplan::chart::resilience::{render_all, RESILIENCE_CHART_STEMS};
use capplan::chart::{ChartOptions, RenderedChart};
use capplan::resilience::{PlanSummary, Resilience, Row};

fn quickstart(size: &str) -> tempfile::TempDir {
    let out = tempfile::tempdir().expect("temp dir");
    let scenario = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/quickstart");
    let (code, _, err) = common::capplan(&[
        "resilience",
        scenario.to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
        "--chart-size",
        size,
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    out
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

/// The served % as the heatmap prints it: one decimal, rounded down, solver tolerance taken out.
fn served_label(v: f64) -> String {
    format!("{}%", (v * 10.0 + 1e-6).floor() / 10.0)
}

/// Attribute `name` of an SVG element's opening tag.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')? + start;
    Some(&tag[start..end])
}

fn num(tag: &str, name: &str) -> f64 {
    attr(tag, name)
        .unwrap_or_else(|| panic!("no {name} in {tag}"))
        .parse()
        .unwrap_or_else(|_| panic!("bad {name} in {tag}"))
}

/// Advance of a character in DejaVu Sans, in em, roughly (narrow and wide glyphs apart, 0.6 for
/// the rest), rounded up a little so the estimate errs on the wide side.
fn advance(c: char) -> f64 {
    match c {
        'i' | 'l' | 'j' | 'I' | '\'' => 0.28,
        ' ' | '.' | ',' | ':' | ';' | '·' | '/' | 'f' => 0.35,
        't' | 'r' | '(' | ')' | '-' => 0.42,
        '0'..='9' | '$' => 0.64,
        'm' | 'M' | 'W' | '%' | '…' | '→' | '+' | 'w' => 1.0,
        c if c.is_ascii_uppercase() => 0.72,
        _ => 0.62,
    }
}

/// Every `<text>` of an SVG with its estimated box (x0, y0, x1, y1): width from the characters'
/// advances × font size (the em), height one font size from the top plotters writes (dy = 0.76em).
fn text_boxes(svg: &str) -> Vec<(String, [f64; 4])> {
    let mut out = Vec::new();
    let mut rest = svg;
    while let Some(i) = rest.find("<text") {
        rest = &rest[i..];
        let close = rest.find('>').expect("tag end");
        let tag = &rest[..close];
        let body_end = rest.find("</text>").expect("text end");
        let body = rest[close + 1..body_end].trim().to_string();
        let (x, y, fs) = (num(tag, "x"), num(tag, "y"), num(tag, "font-size"));
        let w = body.chars().map(advance).sum::<f64>() * fs;
        let x0 = match attr(tag, "text-anchor") {
            Some("middle") => x - w / 2.0,
            Some("end") => x - w,
            _ => x,
        };
        out.push((body, [x0, y + 0.05 * fs, x0 + w, y + 0.95 * fs]));
        rest = &rest[body_end..];
    }
    out
}

fn rects(svg: &str) -> Vec<([f64; 4], String)> {
    svg.split("<rect")
        .skip(1)
        .map(|r| {
            let tag = &r[..r.find('>').unwrap()];
            let (x, y) = (num(tag, "x"), num(tag, "y"));
            let (w, h) = (num(tag, "width"), num(tag, "height"));
            (
                [x, y, x + w, y + h],
                attr(tag, "fill").unwrap_or("").to_string(),
            )
        })
        .collect()
}

fn assert_no_overlap(svg: &str, width: f64, height: f64, what: &str) {
    let boxes = text_boxes(svg);
    assert!(!boxes.is_empty(), "{what}: no text");
    for (i, (a, ba)) in boxes.iter().enumerate() {
        assert!(
            ba[0] >= 0.0 && ba[1] >= 0.0 && ba[2] <= width && ba[3] <= height,
            "{what}: '{a}' leaves the image: {ba:?}"
        );
        for (b, bb) in &boxes[i + 1..] {
            let w = ba[2].min(bb[2]) - ba[0].max(bb[0]);
            let h = ba[3].min(bb[3]) - ba[1].max(bb[1]);
            assert!(
                w <= 0.0 || h <= 0.0,
                "{what}: '{a}' {ba:?} overlaps '{b}' {bb:?}"
            );
        }
    }
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn both_charts_at_the_requested_size() {
    for (size, w, h) in [("800x450", 800, 450), ("1280x720", 1280, 720)] {
        let out = quickstart(size);
        for stem in RESILIENCE_CHART_STEMS {
            let (pw, ph, rgb) = decode_png(&read(out.path(), &format!("{stem}.png")));
            assert_eq!((pw, ph), (w, h), "{stem}.png at {size}");
            assert!(
                rgb.chunks(3).any(|c| c != [255, 255, 255]),
                "{stem}.png is blank"
            );
            let svg = String::from_utf8(read(out.path(), &format!("{stem}.svg"))).unwrap();
            assert!(
                svg.contains(&format!("<svg width=\"{w}\" height=\"{h}\"")),
                "{stem}.svg at {size}"
            );
        }
    }
}

#[test]
fn heatmap_prints_every_cell_and_colours_by_value() {
    let out = quickstart("800x450");
    let svg = String::from_utf8(read(out.path(), "resilience_heatmap.svg")).unwrap();
    let texts: Vec<String> = text_boxes(&svg).into_iter().map(|t| t.0).collect();
    let csv = String::from_utf8(read(out.path(), "resilience.csv")).unwrap();
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let col = header.iter().position(|h| *h == "served_pct").unwrap();
    let mut cells = 0;
    for line in lines {
        let fields: Vec<&str> = line.split(',').collect();
        let label = served_label(fields[col].parse().unwrap());
        assert!(texts.contains(&label), "{label} ({line}) not printed");
        cells += 1;
    }
    // Every cell's value is printed once, in a cell (plus the scale bar's 0% and 100%).
    let values = texts
        .iter()
        .filter(|t| t.ends_with('%') && !t.contains(' '))
        .count();
    assert!(values >= cells, "{values} values for {cells} cells");

    // The fill under a printed 0% differs from the fill under a printed 100%.
    let boxes = text_boxes(&svg);
    let rects = rects(&svg);
    let fill_under = |label: &str| {
        let (_, b) = boxes
            .iter()
            .filter(|(t, _)| t == label)
            .find(|(_, b)| {
                // A cell value, not a scale-bar label: a rect other than the background holds it.
                rects
                    .iter()
                    .skip(1)
                    .any(|(r, _)| r[0] <= b[0] && b[2] <= r[2] && r[1] <= b[1] && b[3] <= r[3])
            })
            .unwrap_or_else(|| panic!("no cell prints {label}"));
        let (cx, cy) = ((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
        rects
            .iter()
            .skip(1)
            .rfind(|(r, _)| r[0] <= cx && cx <= r[2] && r[1] <= cy && cy <= r[3])
            .map(|(_, fill)| fill.clone())
            .unwrap()
    };
    let (zero, full) = (fill_under("0%"), fill_under("100%"));
    assert_ne!(zero, full);

    // The PNG shows both ends of the ramp too.
    let (_, _, rgb) = decode_png(&read(out.path(), "resilience_heatmap.png"));
    let hex = |c: &[u8]| format!("#{:02X}{:02X}{:02X}", c[0], c[1], c[2]);
    let colours: std::collections::BTreeSet<String> = rgb.chunks(3).map(hex).collect();
    assert!(colours.contains(&zero) && colours.contains(&full));
}

#[test]
fn no_text_overlaps_at_800x450() {
    let out = quickstart("800x450");
    for stem in RESILIENCE_CHART_STEMS {
        let svg = String::from_utf8(read(out.path(), &format!("{stem}.svg"))).unwrap();
        assert_no_overlap(&svg, 800.0, 450.0, &format!("quickstart {stem}"));
    }
    for r in [synthetic(false), synthetic(true)] {
        for (w, h) in [(800, 450), (1920, 1080)] {
            let charts = render_all(
                &r,
                &ChartOptions {
                    width: w,
                    height: h,
                },
            )
            .unwrap();
            for c in charts.iter().filter(|c| c.file_name.ends_with(".svg")) {
                let svg = std::str::from_utf8(&c.bytes).unwrap();
                assert_no_overlap(
                    svg,
                    f64::from(w),
                    f64::from(h),
                    &format!(
                        "synthetic {} losses {w}x{h} {}",
                        r.losses.len(),
                        c.file_name
                    ),
                );
            }
        }
    }
}

#[test]
fn same_matrix_gives_identical_bytes() {
    let r = synthetic(true);
    let opts = ChartOptions::default();
    let a: Vec<RenderedChart> = render_all(&r, &opts).unwrap();
    let b = render_all(&r, &opts).unwrap();
    assert_eq!(a, b);
    let names: Vec<&str> = a.iter().map(|c| c.file_name.as_str()).collect();
    assert_eq!(
        names,
        [
            "resilience_cost_vs_served.png",
            "resilience_cost_vs_served.svg",
            "resilience_heatmap.png",
            "resilience_heatmap.svg",
        ]
    );
}

/// A matrix with 10 plans (long names among them), 8 providers and, with `pairs`, every pair;
/// several plans share nearly the same cost and served % so their labels compete for room.
fn synthetic(pairs: bool) -> Resilience {
    let providers = [
        "aws",
        "azure",
        "gcp",
        "oracle",
        "lambda",
        "coreweave",
        "nebius",
        "onprem",
    ];
    let mut plans = vec![PlanSummary {
        plan: "multi-cloud".into(),
        plan_cost: 4.6e10,
        cost_per_million_tokens: 1.59,
        relaxed: vec![],
        max_served_pct: None,
    }];
    for (i, p) in providers.iter().enumerate() {
        plans.push(PlanSummary {
            plan: format!("single:{p}"),
            plan_cost: 1e9 * (i + 1) as f64,
            cost_per_million_tokens: 1.0 + 0.02 * i as f64,
            relaxed: vec!["N-1 dropped".into()],
            // As served with nothing lost below: each single-cloud plan serves all it can.
            max_served_pct: Some(41.0 + i as f64),
        });
    }
    plans.push(PlanSummary {
        plan: "a-very-long-scenario-folder-name-for-the-deck (held)".into(),
        plan_cost: 4.7e10,
        cost_per_million_tokens: 1.6,
        relaxed: vec![],
        max_served_pct: None,
    });
    let mut losses = vec!["none".to_string()];
    losses.extend(providers.iter().map(|p| p.to_string()));
    if pairs {
        for i in 0..providers.len() {
            for j in i + 1..providers.len() {
                losses.push(format!("{}+{}", providers[i], providers[j]));
            }
        }
    }
    let mut rows = Vec::new();
    for (k, plan) in plans.iter().enumerate() {
        for (l, loss) in losses.iter().enumerate() {
            let single = plan.plan.strip_prefix("single:");
            let served = match single {
                Some(p) if loss.split('+').any(|x| x == p) => 0.0,
                Some(_) => 40.0 + k as f64,
                None if loss == "none" => 100.0,
                None => 99.95 - (l % 7) as f64 * 3.3 - k as f64 * 0.01,
            };
            rows.push(Row {
                plan: plan.plan.clone(),
                lost_provider: loss.clone(),
                served_pct: served,
                worst_period_served_pct: Some(served * 0.9),
                worst_period: Some("2026-03".into()),
                unserved_tokens: 100.0 - served,
                dispatch_cost: plan.plan_cost,
                dispatch_objective: plan.plan_cost,
                plan_cost: plan.plan_cost,
            });
        }
    }
    Resilience {
        scenario: "synthetic".into(),
        on_demand_availability: 0.5,
        window: "2026-07-01T00:00:00Z..2026-08-01T00:00:00Z".into(),
        plans,
        losses,
        rows,
    }
}

/// `cargo test --test it -- --ignored --exact resilience_charts::preview` writes the synthetic charts to
/// /tmp/resilience-preview/ for looking at them.
#[test]
#[ignore]
fn preview() {
    let dir = Path::new("/tmp/resilience-preview");
    std::fs::create_dir_all(dir).unwrap();
    for (tag, r) in [("singles", synthetic(false)), ("pairs", synthetic(true))] {
        for (w, h) in [(800, 450), (1920, 1080)] {
            let opts = ChartOptions {
                width: w,
                height: h,
            };
            for c in render_all(&r, &opts).unwrap() {
                std::fs::write(dir.join(format!("{tag}-{w}-{}", c.file_name)), &c.bytes).unwrap();
            }
        }
    }
}

/// Demand 1M tokens/min in February 2026; on demand: big 1.2M at $2/M, small 0.6M at $1/M.
/// Multi-cloud $1.40/M; single:big serves all at $2.00/M; single:small at most 60%.
fn big_and_small(size: &str) -> tempfile::TempDir {
    let f = common::Folder::new()
        .file("s/demand.csv", "period,tokens_per_minute\n2026-02-01,1M\n")
        .file(
            "s/capacity.csv",
            "provider,tranche,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour\n\
             big,big,1.2M,2,0\nsmall,small,0.6M,1,0\n",
        )
        .file(
            "s/scenario.toml",
            "name = \"big-and-small\"\nhorizon_end = \"2026-03-01\"\n",
        );
    let out = tempfile::tempdir().expect("temp dir");
    let (code, _, err) = common::capplan(&[
        "resilience",
        f.sub("s").to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
        "--chart-size",
        size,
        "--quiet",
    ]);
    assert_eq!(code, 0, "{err}");
    out
}

/// Every `<circle>`'s (cx, fill), white rings left out.
fn circles(svg: &str) -> Vec<(f64, String)> {
    svg.split("<circle")
        .skip(1)
        .map(|c| &c[..c.find("/>").unwrap()])
        .map(|tag| (num(tag, "cx"), attr(tag, "fill").unwrap_or("").to_string()))
        .filter(|(_, fill)| fill != "#FFFFFF")
        .collect()
}

#[test]
fn cost_vs_served_spans_each_plan_from_its_worst_loss_to_nothing_lost() {
    for (size, w, h) in [("1920x1080", 1920.0, 1080.0), ("800x450", 800.0, 450.0)] {
        let out = big_and_small(size);
        let svg = String::from_utf8(read(out.path(), "resilience_cost_vs_served.svg")).unwrap();
        let texts: Vec<String> = text_boxes(&svg).into_iter().map(|t| t.0).collect();
        for want in [
            "single:small: cannot serve demand, at most 60%",
            "single:big: $2.00/M",
            "multi-cloud: $1.40/M",
            "cannot serve all demand",
            "multi-cloud: $1.40/M, serves 100% with nothing lost and at least 60% when the worst single provider is lost.",
        ] {
            assert!(texts.iter().any(|t| t == want), "{size}: no '{want}' in {texts:?}");
        }
        // single:small's dot with nothing lost is red (it cannot serve demand), at 60% of the
        // way from 0% (every single-cloud plan losing its provider) to 100% (multi-cloud and
        // single:big with nothing lost, dark).
        let mut dots = circles(&svg);
        // The legend's swatches are the right-most dots, one above another.
        let legend = dots.iter().map(|d| d.0).fold(f64::NEG_INFINITY, f64::max);
        dots.retain(|d| d.0 < legend - 1e-6);
        let red: Vec<f64> = dots
            .iter()
            .filter(|d| d.1 == "#E8112D")
            .map(|d| d.0)
            .collect();
        let dark: Vec<f64> = dots
            .iter()
            .filter(|d| d.1 == "#1A1A1A")
            .map(|d| d.0)
            .collect();
        assert_eq!((red.len(), dark.len()), (1, 2), "{size}: {dots:?}");
        assert!((dark[0] - dark[1]).abs() < 1e-6, "{size}: {dots:?}");
        let zero = dots.iter().map(|d| d.0).fold(f64::INFINITY, f64::min);
        let at = (red[0] - zero) / (dark[0] - zero);
        // Coordinates are written to a tenth of a pixel.
        assert!((at - 0.6).abs() < 1e-3, "{size}: small at {at} of the way");
        assert_no_overlap(&svg, w, h, &format!("big-and-small {size}"));
    }
}

#[test]
fn capplan_chart_redraws_a_resilience_folder() {
    let out = big_and_small("1920x1080");
    let copy = tempfile::tempdir().unwrap();
    std::fs::copy(
        out.path().join("resilience.json"),
        copy.path().join("resilience.json"),
    )
    .unwrap();
    let (code, stdout, err) = common::capplan(&["chart", copy.path().to_str().unwrap()]);
    assert_eq!(code, 0, "{err}");
    for stem in RESILIENCE_CHART_STEMS {
        for kind in ["png", "svg"] {
            let name = format!("{stem}.{kind}");
            assert!(stdout.contains(&name), "{stdout}");
            assert!(
                read(out.path(), &name) == read(copy.path(), &name),
                "{name} redrawn differs from the one resilience drew"
            );
        }
    }
    let (code, _, err) = common::capplan(&[
        "chart",
        copy.path().to_str().unwrap(),
        "--chart-size",
        "800x450",
    ]);
    assert_eq!(code, 0, "{err}");
    for stem in RESILIENCE_CHART_STEMS {
        let (w, h, _) = decode_png(&read(copy.path(), &format!("{stem}.png")));
        assert_eq!((w, h), (800, 450), "{stem}");
    }
}
