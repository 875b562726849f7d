//! Chart stage: the one layout of every figure. Title and subtitle at the top; small print at the
//! bottom; a legend column on the right (so it never covers data); panels in a grid between them,
//! each a frame with its axes' labels round it and its marks inside. Sizes are designed at
//! 1920×1080 and scale with the image; text is measured with the bundled font before it is placed,
//! so no two texts touch and none leaves the image.

use super::figure::{largest, Axis, Category, Entry, Figure, Kind, Label, Mark, Panel, Rule};
use super::figure::{Paint, Swatch};
use super::palette::{self, Rgba};
use super::svg::{Align, Svg};
use super::text::Font;
use super::ticks::{self, Ticks};

/// Text sizes, pixels per em at 1080p.
pub(crate) const TITLE: f64 = 40.0;
pub(crate) const SUBTITLE: f64 = 24.0;
pub(crate) const TICK: f64 = 20.0;
pub(crate) const LEGEND: f64 = 22.5;
pub(crate) const LABEL: f64 = 21.0;
pub(crate) const NOTE: f64 = 20.0;
pub(crate) const SMALL: f64 = 17.5;
const PANEL_TITLE: f64 = 22.0;
const AXIS_TITLE: f64 = 19.5;
const MARGIN: f64 = 40.0;

/// The image's scale against the 1920×1080 design.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Scale {
    pub s: f64,
    pub w: f64,
    pub h: f64,
}

impl Scale {
    pub fn new(width: u32, height: u32) -> Scale {
        let (w, h) = (f64::from(width), f64::from(height));
        let s = (w / 1920.0).min(h / 1080.0);
        Scale { s, w, h }
    }
    pub fn px(&self, at_1080p: f64) -> f64 {
        at_1080p * self.s
    }
    /// A line's width: scaled, but never under half its 1080p width (thin lines vanish on
    /// small slides).
    pub fn stroke(&self, at_1080p: f64) -> f64 {
        self.px(at_1080p).max(at_1080p * 0.5)
    }
    /// The smallest text drawn, pixels per em: still legible on a small slide.
    pub fn min_em(&self) -> f64 {
        self.px(11.5).max(8.0)
    }
    /// Roughly how tall the panels of a one-panel figure are (for figures that choose how much
    /// to show by the image's size).
    pub fn plot_height(&self) -> f64 {
        self.h - self.px(2.0 * MARGIN + 160.0 + 60.0)
    }
    /// How many of `count` rows, each `pitch` times the smallest text, fit a one-panel figure;
    /// and the subtitle part that says so when not all do.
    pub fn rows_that_fit(&self, count: usize, pitch: f64) -> (usize, Option<String>) {
        let fit = ((self.plot_height() / (self.min_em() * pitch)).floor() as usize).max(1);
        let note = format!("first {fit} of {count} shown (image too small)");
        (fit, (fit < count).then_some(note))
    }
    /// A font of `em` pixels at 1080p, scaled.
    pub fn font(&self, em: f64, bold: bool, colour: Rgba) -> Font {
        Font::new(self.px(em), bold, colour)
    }
}

/// Draws the figure as SVG.
pub(crate) fn draw(fig: &Figure, width: u32, height: u32) -> String {
    let c = Scale::new(width, height);
    let mut svg = Svg::new(width, height);
    let (margin, room) = (c.px(MARGIN), c.w - 2.0 * c.px(MARGIN));

    // Header.
    let title = c.font(TITLE, true, palette::INK);
    let mut y = margin + title.em * 0.45;
    // A title too long loses the end of the part before its first ": " (a run chart's scenario
    // name) first, so what the chart shows stays in view.
    let (name, what) = fig
        .title
        .split_at(fig.title.find(": ").unwrap_or(fig.title.len()));
    let text = title.fit(name, (room - title.width(what)).max(room / 2.0)) + what;
    svg.text(&title.fit(&text, room), margin, y, &title, Align::Left);
    y += title.em * 0.55 + c.px(14.0);
    let sub = c.font(SUBTITLE, false, palette::INK_SOFT);
    for line in sub.wrap_parts(&fig.subtitle, room, 2) {
        svg.text(&line, margin, y + sub.em * 0.55, &sub, Align::Left);
        y += sub.em * 1.3;
    }
    let top = y + c.px(28.0);

    // Small print.
    let small = c.font(SMALL, false, palette::INK_SOFT);
    let notes = small.wrap_parts(&fig.notes, room, 2);
    let lines = notes.len() as f64;
    let mut bottom = c.h - margin;
    if lines > 0.0 {
        bottom -= small.em * (1.5 * lines + 0.5);
    }
    for (i, line) in notes.iter().enumerate() {
        let y = bottom + small.em * (1.1 + 1.5 * i as f64);
        svg.text(line, margin, y, &small, Align::Left);
    }

    if let Some(message) = &fig.message {
        let f = c.font(27.0, false, palette::INK_SOFT);
        let (x, y) = (c.w / 2.0, (top + bottom) / 2.0);
        svg.text(&f.fit(message, room), x, y, &f, Align::Centre);
        return svg.finish();
    }

    // Legend column, then panels in the room left of it.
    let (labels, legend_left) = legend_labels(&c, &fig.legend);
    let right = legend_left.map_or(c.w - margin, |l| l - c.px(40.0));
    let n = fig.panels.len().max(1);
    let columns = fig.columns.clamp(1, n);
    let rows = n.div_ceil(columns);
    let (col_gap, row_gap) = (c.px(60.0), c.px(24.0));
    let col_w = (right - margin - col_gap * (columns - 1) as f64) / columns as f64;
    // Each row's share of the height: as the figure asks, else alike.
    let weight = |row: usize| match fig.row_heights.len() == rows {
        true => fig.row_heights[row].max(0.0),
        false => 1.0,
    };
    let total: f64 = (0..rows).map(weight).sum::<f64>().max(f64::MIN_POSITIVE);
    let room_h = bottom - top - row_gap * (rows - 1) as f64;
    let row_top = |row: usize| {
        let above: f64 = (0..row).map(weight).sum();
        top + room_h * above / total + row_gap * row as f64
    };
    let cell = |k: usize| {
        let x0 = margin + (k % columns) as f64 * (col_w + col_gap);
        let row = k / columns;
        let (y0, row_h) = (row_top(row), room_h * weight(row) / total);
        [x0, y0, x0 + col_w, y0 + row_h]
    };
    // Frames of one column share their left edge (time axes one above the other): each panel
    // laid out once to find its edge, then drawn at the column's rightmost.
    let mut lefts = vec![0.0; columns];
    // Panels over one another on time axes always line their dates up.
    let timed = |p: &Panel| matches!(p.x.kind, Kind::Time(_));
    if rows > 1 && fig.panels.iter().all(timed) {
        for (k, panel) in fig.panels.iter().enumerate() {
            let mut scratch = Svg::new(width, height);
            let (_, left) = draw_panel(&mut scratch, &c, panel, cell(k), k + columns >= n, 0.0);
            lefts[k % columns] = f64::max(lefts[k % columns], left);
        }
    }
    let mut first_frame_top = None;
    for (k, panel) in fig.panels.iter().enumerate() {
        let last_row = k + columns >= n;
        let (frame_top, _) = draw_panel(&mut svg, &c, panel, cell(k), last_row, lefts[k % columns]);
        first_frame_top.get_or_insert(frame_top);
    }
    if let Some(left) = legend_left {
        let at = [left, first_frame_top.unwrap_or(top), bottom];
        draw_legend(&mut svg, &c, &fig.legend, &labels, at);
    }
    svg.finish()
}

/// The legend's labels, shortened to fit a quarter of the width, and the left edge of the
/// column (right-aligned to the margin); no column without entries.
fn legend_labels(c: &Scale, entries: &[Entry]) -> (Vec<String>, Option<f64>) {
    let f = c.font(LEGEND, false, palette::INK);
    let swatch = c.px(52.0);
    let fit = |e: &Entry| f.fit(&e.label, c.w * 0.25 - swatch);
    let labels: Vec<String> = entries.iter().map(fit).collect();
    // A heading takes the swatch's room too.
    let width = |(l, e): (&String, &Entry)| match e.swatch {
        Swatch::Heading => f.bold(true).width(l) - swatch,
        _ => f.width(l),
    };
    let widest = labels.iter().zip(entries).map(width).fold(0.0, f64::max);
    let left = (!entries.is_empty()).then(|| c.w - c.px(MARGIN) - swatch - widest);
    (labels, left)
}

/// The legend column from `top` down. Rows tighten (then providers' entries go, with a "+N more"
/// line) rather than run off the bottom when there are very many.
fn draw_legend(svg: &mut Svg, c: &Scale, entries: &[Entry], labels: &[String], at: [f64; 3]) {
    let [left, top, bottom] = at;
    let f = c.font(LEGEND, false, palette::INK);
    let room = bottom - top;
    let total = entries.len() as f64;
    let pitch = (f.em * 1.95).min(room / total.max(1.0)).max(f.em * 1.4);
    let fits = ((room / pitch).floor() as usize).max(1);
    let overflow = (total as usize).saturating_sub(fits);
    let mut dropped = 0;
    let keep = |(e, _): &(&Entry, &String)| {
        let droppable = matches!(e.swatch, Swatch::Provider(_));
        let drop = overflow > 0 && droppable && dropped <= overflow;
        dropped += usize::from(drop);
        !drop
    };
    let take = if overflow > 0 { fits - 1 } else { fits };
    let shown: Vec<(&Entry, &String)> =
        entries.iter().zip(labels).filter(keep).take(take).collect();
    let hidden = entries.len() - shown.len();
    let (x0, x1, half) = (left, left + c.px(40.0), f.em * 0.45);
    let mut y = top + f.em * 0.5;
    for (entry, label) in shown {
        let (top, bottom) = (y - half, y + half);
        let (mut x, mut font) = (x1 + c.px(12.0), f);
        match &entry.swatch {
            Swatch::Fill(col) | Swatch::Provider(col) => svg.rect(x0, top, x1, bottom, *col),
            Swatch::Hatch(col) => {
                let corners = [(x0, top), (x1, top), (x1, bottom), (x0, bottom)];
                area(svg, c, &corners, (col.alpha(0.18), Some(*col)));
            }
            Swatch::Line(s) => {
                let dash = s.dashed.then(|| (c.px(12.0), c.px(7.0)));
                svg.line(&[(x0, y), (x1, y)], s.colour, c.stroke(s.width), dash);
            }
            Swatch::Dot(col) => dot(svg, c, (x0 + x1) / 2.0, y, c.px(9.0), *col),
            Swatch::Heading => (x, font) = (x0, f.bold(true)),
        }
        svg.text(label, x, y, &font, Align::Left);
        y += pitch;
    }
    if hidden > 0 {
        let (more, f) = (format!("+{hidden} more"), f.colour(palette::INK_SOFT));
        svg.text(&more, x1 + c.px(12.0), y, &f, Align::Left);
    }
}

/// A dot with a white ring, so it reads on any fill.
fn dot(svg: &mut Svg, c: &Scale, x: f64, y: f64, r: f64, colour: Rgba) {
    svg.circle(x, y, r + c.px(2.5).max(1.0), palette::WHITE);
    svg.circle(x, y, r, colour);
}

/// A filled polygon, striped in the hatch's colour if given.
fn area(svg: &mut Svg, c: &Scale, points: &[(f64, f64)], (fill, hatch): Paint) {
    svg.polygon(points, fill);
    if let Some(h) = hatch {
        svg.hatch(points, h, c.px(12.0).max(4.0), c.px(2.5).max(1.0));
    }
}

/// A panel's frame in pixels and the data ranges it shows.
struct Frame {
    l: f64,
    r: f64,
    t: f64,
    b: f64,
    x: (f64, f64),
    y: (f64, f64),
    /// Category y axes read down.
    y_down: bool,
}

/// `v` mapped from `(lo, hi)` onto `(a, b)`; values beyond the range (only an absurd one,
/// clamped by the tick picker) stop just outside it rather than cross the rest of the image.
fn map(v: f64, (lo, hi): (f64, f64), a: f64, b: f64) -> f64 {
    let v = v.clamp(lo - (hi - lo) * 0.02, hi + (hi - lo) * 0.02);
    a + (v - lo) / (hi - lo) * (b - a)
}

impl Frame {
    fn fx(&self, v: f64) -> f64 {
        map(v, self.x, self.l, self.r)
    }
    fn fy(&self, v: f64) -> f64 {
        match self.y_down {
            true => map(v, self.y, self.t, self.b),
            false => map(v, self.y, self.b, self.t),
        }
    }
    fn pt(&self, (x, y): (f64, f64)) -> (f64, f64) {
        (self.fx(x), self.fy(y))
    }
}

/// A data range that can be mapped, finite and not empty: the ticks' if there are ticks.
fn range(a: &Axis, ticks: &Option<Ticks>) -> (f64, f64) {
    let (lo, hi) = ticks.as_ref().map_or((a.lo, a.hi), |t| (t.lo, t.hi));
    let lo = if lo.is_finite() { lo } else { 0.0 };
    let usable = hi.is_finite() && hi > lo;
    let hi = if usable { hi } else { lo + 1.0 };
    (lo, hi)
}

/// A heatmap-style column head on one or two lines: pairs split at `+`, regions at `/`.
pub(crate) fn head_lines(label: &str) -> Vec<String> {
    let at = label.find('+').or_else(|| label.find('/'));
    match at.or_else(|| label.find(' ')) {
        Some(i) if i > 0 => vec![label[..i].to_string(), label[i..].trim_start().to_string()],
        _ => vec![label.to_string()],
    }
}

/// The size of column heads over the frame, each `room` wide at most, and whether they take two
/// lines (`head_lines`): two when some head wider than that can be split, at the largest size
/// where every line fits, never below the minimum.
fn head_size(c: &Scale, cat: &Category, em: f64, room: f64) -> (f64, bool) {
    let f = Font::new(em, true, palette::INK);
    let wide = |l: &(f64, String, bool)| f.width(&l.1) > room && head_lines(&l.1).len() > 1;
    let two = cat.labels.iter().any(wide);
    let split = |l: &(f64, String, bool)| {
        if two {
            head_lines(&l.1)
        } else {
            vec![l.1.clone()]
        }
    };
    let widest = largest(cat.labels.iter().flat_map(split).map(|t| f.width(&t)));
    ((em * room / widest).min(em).max(c.min_em().min(em)), two)
}

fn category(axis: &Axis) -> Option<&Category> {
    match &axis.kind {
        Kind::Category(cat) => Some(cat),
        _ => None,
    }
}

/// Value ticks of an axis; `fits(ticks)` says whether a candidate's labels fit, most ticks first.
fn value_ticks(a: &Axis, most: usize, fits: &dyn Fn(&Ticks) -> bool) -> Option<Ticks> {
    let (unit, round_out) = match a.kind {
        Kind::Value(unit, round_out) => (unit, round_out),
        Kind::Labelled(unit) => (unit, false),
        _ => return None,
    };
    let pick = |max| ticks::value_ticks((a.lo, a.hi), max, unit, round_out);
    let most_that_fit = (3..=most).rev().map(pick).find(|t| fits(t));
    most_that_fit.or(Some(pick(2)))
}

/// The widths of a y axis's row labels (at most `max`) and table columns, at `em`.
fn row_widths(cat: Option<&Category>, em: f64, max: f64) -> (f64, Vec<f64>) {
    let Some(cat) = cat else {
        return (0.0, Vec::new());
    };
    let f = Font::new(em, false, palette::INK);
    let labels = cat.labels.iter().map(|(_, t, b)| f.bold(*b).width(t));
    let heads = cat.head.iter().map(|h| f.bold(true).width(h));
    let w = labels.chain(heads).fold(0.0, f64::max).min(max);
    let column = |(head, cells): &(String, Vec<String>)| {
        let widths = cells.iter().map(|t| f.width(t));
        widths.fold(f.bold(true).width(head), f64::max)
    };
    (w, cat.table.iter().map(column).collect())
}

/// Lays out and draws one panel in `cell`, its frame's left edge at least `min_left`; returns the
/// top and the left edge of its frame.
fn draw_panel(
    svg: &mut Svg,
    c: &Scale,
    p: &Panel,
    cell: [f64; 4],
    x_labels: bool,
    min_left: f64,
) -> (f64, f64) {
    let tick = c.font(TICK, false, palette::INK_SOFT);
    let label = c.font(LABEL, false, palette::INK);
    let axis_title = c.font(AXIS_TITLE, true, palette::INK_SOFT);
    let (gap, col_gap, width) = (c.px(14.0), c.px(28.0), cell[2] - cell[0]);
    let (x_cat, y_cat) = (category(&p.x), category(&p.y));
    let (mut top, mut bottom) = (cell[1], cell[3]);

    // Rows over the frame: panel title, y axis title, rule labels, notes, heads.
    let panel_title = c.font(PANEL_TITLE, true, palette::INK);
    for (text, f, advance) in [(&p.title, panel_title, 1.6), (&p.y.title, axis_title, 2.0)] {
        if let Some(t) = text {
            let t = f.fit(t, width);
            svg.text(&t, cell[0], top + f.em * 0.45, &f, Align::Left);
            top += f.em * advance;
        }
    }
    let rule_label = |m: &Mark| matches!(m, Mark::Rule(r) if r.label.is_some());
    if p.marks.iter().any(rule_label) {
        top += tick.em * 1.5;
    }
    let notes_top = top;
    let note_rows = x_cat.map_or(0, |x| x.notes.iter().map(Vec::len).max().unwrap_or(0));
    top += note_rows as f64 * c.px(NOTE) * 1.45;
    let heads_above = x_cat.filter(|x| x.above);
    if y_cat.is_some_and(|y| y.head.is_some() || !y.table.is_empty()) && heads_above.is_none() {
        top += label.em * 1.6;
    }
    // Row labels: at most 28% of the image, 40% of the panel.
    let row_max = (c.w * 0.28).min(width * 0.4);
    // Column heads, laid out for the narrowest frame the row labels allow.
    let heads = heads_above.map(|x| {
        let (rows, table) = row_widths(y_cat, label.em, row_max);
        let frame_w = width - rows - gap - table.iter().map(|w| w + col_gap).sum::<f64>();
        let room = frame_w / (p.x.hi - p.x.lo) * 0.86 - c.px(4.0);
        head_size(c, x, label.em, room)
    });
    if let Some((em, two_lines)) = heads {
        top += em * if two_lines { 2.5 } else { 1.3 } + c.px(10.0);
    }

    // Rows under the frame: tick labels or category labels, the x axis title.
    if p.x.title.is_some() {
        bottom -= axis_title.em * 1.8;
    }
    let slot = width * 0.8 / (p.x.hi - p.x.lo);
    let wrap = x_cat.is_some_and(|x| x.labels.iter().any(|l| label.width(&l.1) > slot));
    bottom -= match x_cat {
        Some(x) if x.above => c.px(4.0),
        Some(_) => label.em * if wrap { 3.5 } else { 2.2 },
        None if x_labels => tick.em * 1.9,
        None => tick.em * 0.6,
    };
    let frame_h = (bottom - top).max(c.px(40.0));

    // The y axis: its ticks or its row labels decide the frame's left edge.
    let most = ((frame_h / (tick.em * 3.0)).floor() as usize).clamp(2, 8);
    let y_ticks = value_ticks(&p.y, most, &|_| true);
    let pitch = frame_h / (p.y.hi - p.y.lo);
    let row_em = (pitch / 1.3).min(label.em).max(c.min_em().min(label.em));
    let row_every = ((row_em * 1.15 / pitch).ceil() as usize).max(1);
    let (rows_w, table) = row_widths(y_cat, row_em, row_max);
    let widest = |t: &Ticks| largest(t.labels.iter().map(|l| tick.width(&l.1)));
    let y_label_w = y_ticks.as_ref().map_or(rows_w, widest);
    let left = cell[0] + y_label_w + if y_label_w > 0.0 { gap } else { 0.0 };
    let left = left.max(min_left);
    let right = cell[2] - table.iter().map(|w| w + col_gap).sum::<f64>();
    let roomy = room_for_labels(c, &p.marks, &p.x, right - left);
    let x_axis = roomy.as_ref().unwrap_or(&p.x);
    // The most x ticks whose labels fit side by side.
    let fits = |t: &Ticks| (right - left) / t.labels.len().max(1) as f64 >= widest(t) + c.px(24.0);
    let x_ticks = value_ticks(x_axis, 12, &fits);
    // A label on the frame's right edge would run past the image: keep half of it clear.
    let on_edge = |t: &Ticks| {
        let edge = t.hi - (t.hi - t.lo) * 1e-9;
        let last = t.labels.last().filter(|l| l.0 >= edge);
        last.map_or(0.0, |l| tick.width(&l.1) / 2.0)
    };
    let right = right - x_ticks.as_ref().map_or(0.0, on_edge);
    let f = Frame {
        l: left,
        r: right.max(left + 1.0),
        t: top,
        b: top + frame_h,
        x: range(x_axis, &x_ticks),
        y: range(&p.y, &y_ticks),
        y_down: y_cat.is_some(),
    };
    let thin = c.px(1.5).max(1.0);

    // Grid and tick labels.
    for (v, text) in y_ticks.iter().flat_map(|t| &t.labels) {
        if *v != 0.0 {
            svg.seg((f.l, f.fy(*v)), (f.r, f.fy(*v)), palette::GRID, thin);
        }
        svg.text(text, f.l - gap, f.fy(*v), &tick, Align::Right);
    }
    let time_ticks = match p.x.kind {
        Kind::Time(bars) => {
            let step = bars.unwrap_or(0.0).min(365.0 * 86_400.0);
            let room = |s: &str| tick.width(s) + c.px(24.0);
            ticks::time_ticks(f.x, f.r - f.l, &room, step)
        }
        _ => Vec::new(),
    };
    let x_labels_at = x_ticks.iter().flat_map(|t| &t.labels);
    let mut grid: Vec<f64> = x_labels_at.map(|l| l.0).collect();
    if let Kind::Time(None) = p.x.kind {
        let inside = |t: &f64| *t > f.x.0 && *t < f.x.1;
        grid.extend(time_ticks.iter().map(|t| t.at_s).filter(inside));
    }
    for v in grid {
        svg.seg((f.fx(v), f.t), (f.fx(v), f.b), palette::GRID, thin);
    }
    let y_text = f.b + tick.em * 1.25;
    for t in time_ticks.iter().filter(|_| x_labels) {
        let Some((at, text)) = &t.label else { continue };
        let x = f.fx(*at);
        svg.text(text, x, y_text, &tick, Align::Centre);
        if (t.at_s - at).abs() < 1.0 {
            svg.seg((x, f.b), (x, f.b + c.px(6.0)), palette::AXIS, thin);
        }
    }
    for (v, text) in x_ticks.iter().flat_map(|t| &t.labels).filter(|_| x_labels) {
        svg.text(text, f.fx(*v), y_text, &tick, Align::Centre);
    }
    if let Some(t) = &p.x.title {
        let (x, y) = ((f.l + f.r) / 2.0, cell[3] - axis_title.em * 0.6);
        svg.text(&axis_title.fit(t, width), x, y, &axis_title, Align::Centre);
    }

    // Marks, with leader lines under them, the zero line (or the bottom) over them.
    let placed = place_labels(c, &f, &p.marks);
    for (l, spot) in &placed {
        if let (true, Some((x, y, _, _, true))) = (l.leader, spot) {
            svg.seg(f.pt((l.x, l.y)), (*x, *y), palette::AXIS, thin);
        }
    }
    for mark in &p.marks {
        draw_mark(svg, c, &f, mark);
    }
    if x_cat.is_none() || y_cat.is_none() {
        let base = match y_cat {
            Some(_) => f.b,
            None => f.fy(0.0_f64.clamp(f.y.0, f.y.1)),
        };
        // A heavier zero line when values go below it.
        let heavy = c.px(2.0).max(1.0);
        let width = if f.y.0 < 0.0 { heavy } else { thin };
        svg.seg((f.l, base), (f.r, base), palette::AXIS, width);
    }

    // Category labels, rule labels, then the marks' labels on top.
    if let Some(cat) = x_cat {
        // Under the frame (wrapped on two lines if `wrap`) or over it (column heads, on one or
        // two lines at `heads`' size), with the notes over the frame from `notes_top` down.
        let slot = (f.r - f.l) / (f.x.1 - f.x.0);
        let room = slot - c.px(12.0);
        let note = c.font(NOTE, false, palette::INK);
        for (i, (at, text, bold)) in cat.labels.iter().enumerate() {
            let x = f.fx(*at);
            let font = c.font(LABEL, *bold, palette::INK);
            let lines = match heads {
                Some((_, true)) => head_lines(text),
                Some(_) => vec![text.clone()],
                None if wrap => font.wrap(text, room),
                None => vec![font.fit(text, room)],
            };
            for (k, line) in lines.iter().enumerate() {
                if let Some((em, _)) = heads {
                    let y = f.t - c.px(10.0) - em * (0.5 + 1.2 * (lines.len() - 1 - k) as f64);
                    let font = font.size(em);
                    svg.text(&font.fit(line, slot * 0.86), x, y, &font, Align::Centre);
                } else {
                    let y = f.b + font.em * (0.9 + 1.3 * k as f64);
                    svg.text(line, x, y, &font, Align::Centre);
                }
            }
            for (k, line) in cat.notes.get(i).into_iter().flatten().enumerate() {
                let y = notes_top + note.em * (0.5 + 1.45 * k as f64);
                svg.text(&note.fit(line, room), x, y, &note, Align::Centre);
            }
        }
    }
    if let Some(cat) = y_cat {
        // Row labels left of the frame (every `row_every`th when rows are too tight for all),
        // the table's columns right of it, and the heads over both.
        let plain = Font::new(row_em, false, palette::INK);
        let head = plain.bold(true).colour(palette::INK_SOFT);
        let column = |x: &mut f64, w: &f64| {
            *x += col_gap + w;
            Some(*x)
        };
        let xs: Vec<f64> = table.iter().scan(f.r, column).collect();
        for (i, (at, text, bold)) in cat.labels.iter().enumerate().step_by(row_every) {
            let (font, y) = (plain.bold(*bold), f.fy(*at));
            svg.text(&font.fit(text, rows_w), f.l - gap, y, &font, Align::Right);
            for (x, (_, cells)) in xs.iter().zip(&cat.table) {
                if let Some(cell) = cells.get(i) {
                    svg.text(cell, *x, y, &plain, Align::Right);
                }
            }
        }
        let head_y = f.t - row_em * 1.0;
        if let Some(h) = &cat.head {
            svg.text(&head.fit(h, rows_w), f.l - gap, head_y, &head, Align::Right);
        }
        for (x, (h, _)) in xs.iter().zip(&cat.table) {
            svg.text(h, *x, head_y, &head, Align::Right);
        }
    }
    for mark in &p.marks {
        let Mark::Rule(Rule { at, label, .. }) = mark else {
            continue;
        };
        let Some(text) = label else { continue };
        let w = tick.width(text);
        let x = f.fx(*at).min(cell[2] - w / 2.0).max(cell[0] + w / 2.0);
        let ink = tick.colour(palette::INK);
        svg.text(text, x, f.t - tick.em * 0.9, &ink, Align::Centre);
    }
    for (l, spot) in placed {
        if let Some((x, y, align, em, _)) = spot {
            svg.text(&l.text, x, y, &l.font.size(em), align);
        }
    }
    (f.t, f.l)
}

/// A `Labelled` axis widened so that each label, at its first spot, stays inside a frame `width`
/// pixels wide; but for labels wider than half of it (they go elsewhere) and never to more than
/// four times its range.
fn room_for_labels(c: &Scale, marks: &[Mark], axis: &Axis, width: f64) -> Option<Axis> {
    let Kind::Labelled(_) = axis.kind else {
        return None;
    };
    // How far each label reaches left and right of its point, pixels.
    let reach = |m: &Mark| {
        let Mark::Label(l) = m else { return None };
        let (dx, _, align) = *l.spots.first()?;
        let w = l.font.size(c.px(l.font.em)).width(&l.text);
        let x0 = left_of(align, c.px(dx), w);
        let reach = (l.x, c.px(4.0) - x0.min(0.0), (x0 + w).max(0.0) + c.px(4.0));
        (reach.1 + reach.2 <= width / 2.0).then_some(reach)
    };
    let reach: Vec<(f64, f64, f64)> = marks.iter().filter_map(reach).collect();
    // Data per pixel if the labels reaching furthest sat at the ends: enough for every label.
    let most = |k: fn(&(f64, f64, f64)) -> f64| largest(reach.iter().map(k));
    let (lo, hi) = range(axis, &None);
    let per_px = (hi - lo) / (width - most(|r| r.1) - most(|r| r.2)).max(width / 4.0);
    let mut out = axis.clone();
    out.lo = reach.iter().fold(lo, |m, r| m.min(r.0 - r.1 * per_px));
    out.hi = reach.iter().fold(hi, |m, r| m.max(r.0 + r.2 * per_px));
    Some(out)
}

/// The left end of a text `width` wide anchored at `x`.
fn left_of(align: Align, x: f64, width: f64) -> f64 {
    match align {
        Align::Left => x,
        Align::Centre => x - width / 2.0,
        Align::Right => x - width,
    }
}

/// Where a label goes: its anchor in pixels, alignment, size (pixels per em), and whether it is
/// away from its point (a leader line joins them).
type Spot = Option<(f64, f64, Align, f64, bool)>;

/// Places every label, in order: the first free spot inside the frame (moved sideways into it
/// when it sticks out), clear of rectangles, dots and labels placed before it; else left out
/// (optional) or put where it overlaps least. A label with a width to fit in data units is
/// shrunk to it (to 70%, never below the minimum).
fn place_labels<'a>(c: &Scale, f: &Frame, marks: &'a [Mark]) -> Vec<(&'a Label, Spot)> {
    let pad = c.px(4.0);
    let mut obstacles: Vec<[f64; 4]> = Vec::new();
    for m in marks {
        match m {
            Mark::Rect { x, y, .. } => {
                let ((a, p), (b, q)) = (f.pt((x.0, y.0)), f.pt((x.1, y.1)));
                obstacles.push([a.min(b), p.min(q), a.max(b), p.max(q)]);
            }
            Mark::Dot(d) => {
                let ((x, y), r) = (f.pt((d.x, d.y)), c.px(d.radius) + pad);
                obstacles.push([x - r, y - r, x + r, y + r]);
            }
            _ => {}
        }
    }
    let bounds = [f.l, f.t - c.px(2.0), f.r + c.px(2.0), f.b];
    let inside = |b: &[f64; 4]| {
        let across = b[0] + pad >= bounds[0] - 0.5 && b[2] - pad <= bounds[2] + 0.5;
        across && b[1] + pad >= bounds[1] && b[3] - pad <= bounds[3]
    };
    let mut placed = Vec::new();
    for m in marks {
        let Mark::Label(l) = m else { continue };
        let (em, font) = (c.px(l.font.em), l.font.size(c.px(l.font.em)));
        let room = l
            .fit
            .map_or(f64::INFINITY, |fit| fit / (f.x.1 - f.x.0) * (f.r - f.l));
        let full = font.width(&l.text);
        let shrunk = (em * room / full).max(em * 0.7).max(c.min_em().min(em));
        let em = if full <= room { em } else { shrunk };
        let width = font.size(em).width(&l.text);
        // Each spot's anchor and padded box, moved sideways into the frame, and its cost.
        let spot = |(x, y): (f64, f64), &(dx, dy, align): &(f64, f64, Align)| {
            let (sx, sy) = (x + c.px(dx), y + c.px(dy));
            // The text's box, capitals to descenders.
            let x0 = left_of(align, sx, width);
            let b = [x0, sy - 0.37 * em, x0 + width, sy + 0.61 * em];
            let (right, left) = (bounds[0] - b[0], (bounds[2] - b[2]).min(0.0));
            let shift = if right > 0.0 { right } else { left };
            let (x0, x1) = (b[0] + shift - pad, b[2] + shift + pad);
            let b = [x0, b[1] - pad, x1, b[3] + pad];
            // How much of the box other boxes cover.
            let overlap = |o: &[f64; 4]| {
                let w = b[2].min(o[2]) - b[0].max(o[0]);
                w.max(0.0) * (b[3].min(o[3]) - b[1].max(o[1])).max(0.0)
            };
            let cost = obstacles.iter().map(overlap).sum::<f64>();
            let outside = if inside(&b) { 0.0 } else { 1e12 };
            (sx + shift, sy, align, b, cost + outside)
        };
        let mut spots: Vec<_> = l.spots.iter().map(|s| spot(f.pt((l.x, l.y)), s)).collect();
        spots.extend(
            l.fallback
                .zip(l.spots.first())
                .map(|(p, s)| spot(f.pt(p), s)),
        );
        let forced = !l.optional && spots.len() == 1;
        let least = || (0..spots.len()).min_by(|a, b| spots[*a].4.total_cmp(&spots[*b].4));
        let best = (0..spots.len()).find(|i| forced || spots[*i].4 == 0.0);
        let best = best.or_else(|| (!l.optional).then(least).flatten());
        let spot = best.map(|i| {
            obstacles.push(spots[i].3);
            (spots[i].0, spots[i].1, spots[i].2, em, i >= 2)
        });
        placed.push((l, spot));
    }
    placed
}

fn draw_mark(svg: &mut Svg, c: &Scale, f: &Frame, mark: &Mark) {
    match mark {
        Mark::Area(a) => {
            // One polygon per stretch where the area is open, so closed stretches draw nothing.
            let (xs, lower, upper) = (&a.xs, &a.lower, &a.upper);
            let n = xs.len().min(lower.len()).min(upper.len());
            let open: Vec<usize> = (0..n).filter(|i| upper[*i] > lower[*i]).collect();
            for run in open.chunk_by(|a, b| b - a == 1) {
                let upper = run.iter().map(|k| f.pt((xs[*k], upper[*k])));
                let lower = run.iter().rev().map(|k| f.pt((xs[*k], lower[*k])));
                let points: Vec<_> = upper.chain(lower).collect();
                area(svg, c, &points, a.paint);
            }
        }
        Mark::Line(s, points) => {
            let points: Vec<(f64, f64)> = points.iter().map(|p| f.pt(*p)).collect();
            let dash = s.dashed.then(|| (c.px(16.0), c.px(10.0)));
            svg.line(&points, s.colour, c.stroke(s.width), dash);
        }
        Mark::Rect { x, y, fill, cut } => {
            let ((a, p), (b, q)) = (f.pt((x.0, y.0)), f.pt((x.1, y.1)));
            if (p - q).abs() < 0.5 && cut.is_none() {
                return;
            }
            svg.rect(a, p, b, q, *fill);
            // A break near the cut end: two white slashes across the bar.
            let Some(up) = cut else { return };
            let edge = if *up { p.min(q) } else { p.max(q) };
            let inward = if *up { 1.0 } else { -1.0 };
            let (l, r) = (a.min(b) - 1.0, a.max(b) + 1.0);
            let (dy, width) = (c.px(5.0), c.px(4.0).max(2.0));
            for d in [18.0, 30.0] {
                let yb = edge + inward * c.px(d);
                svg.seg((l, yb + dy), (r, yb - dy), palette::WHITE, width);
            }
        }
        Mark::Dot(d) => {
            let ((x, y), r) = (f.pt((d.x, d.y)), c.px(d.radius).max(2.5));
            match d.arrow {
                // Off the scale: an arrowhead at the edge, pointing the way the value lies.
                Some(up) => {
                    let (tip, dir) = if up { (f.t, 1.0) } else { (f.b, -1.0) };
                    let base = tip + dir * r * 2.2;
                    svg.polygon(&[(x, tip), (x - r, base), (x + r, base)], d.colour);
                }
                None => dot(svg, c, x, y, r, d.colour),
            }
        }
        Mark::Rule(rule) => {
            let (x, s) = (f.fx(rule.at), rule.stroke);
            let dash = s.dashed.then(|| (c.px(10.0), c.px(8.0)));
            svg.line(&[(x, f.t), (x, f.b)], s.colour, c.stroke(s.width), dash);
        }
        Mark::Label(_) => {}
    }
}
