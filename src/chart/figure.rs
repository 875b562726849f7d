//! Chart stage: a figure as plain data — header, legend, panels of marks on two axes, notes —
//! built by the per-command files (`run`, `compare`, `resilience`, `robust`, `sweep`) from report rows and
//! drawn by `layout`. Nothing here knows pixels, except sizes given "at 1080p" (scaled with the
//! image), so a test can check what a chart shows (series, legend, labels) without drawing it.

use super::layout::TICK;
use super::palette::{self, provider_colour, Rgba};
use super::svg::Align;
use super::text::Font;
use super::ticks::Unit;

#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Figure {
    pub title: String,
    /// Joined by " · " on up to two lines; parts that do not fit are left out whole, last first.
    pub subtitle: Vec<String>,
    pub legend: Vec<Entry>,
    /// Laid out in rows of `columns` (0: one).
    pub panels: Vec<Panel>,
    pub columns: usize,
    /// The rows' heights relative to each other (empty: all alike).
    pub row_heights: Vec<f64>,
    /// Small print under the panels.
    pub notes: Vec<String>,
    /// Written in place of the panels when there is nothing to draw.
    pub message: Option<String>,
}

impl Figure {
    /// A figure of one column of panels; `sub`: the subtitle's parts.
    pub fn new(title: String, sub: Vec<String>, legend: Vec<Entry>, panels: Vec<Panel>) -> Figure {
        let (subtitle, fig) = (sub, Figure::default());
        Figure {
            title,
            subtitle,
            legend,
            panels,
            ..fig
        }
    }

    /// Every label a mark writes (for tests).
    #[cfg(test)]
    pub fn labels(&self) -> Vec<&str> {
        let marks = self.panels.iter().flat_map(|p| &p.marks);
        marks
            .filter_map(|m| match m {
                Mark::Label(l) => Some(l.text.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The legend's labels, top down (for tests).
    #[cfg(test)]
    pub fn legend_labels(&self) -> Vec<&str> {
        self.legend.iter().map(|e| e.label.as_str()).collect()
    }
}

/// How a line is drawn; width in pixels at 1080p.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Stroke {
    pub colour: Rgba,
    pub width: f64,
    pub dashed: bool,
}

impl Stroke {
    pub const fn new(colour: Rgba, width: f64, dashed: bool) -> Stroke {
        Stroke {
            colour,
            width,
            dashed,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Entry {
    pub label: String,
    pub swatch: Swatch,
}

impl Entry {
    pub fn new(label: impl Into<String>, swatch: Swatch) -> Entry {
        let label = label.into();
        Entry { label, swatch }
    }
    /// A provider in its colour.
    pub fn provider(name: &str) -> Entry {
        Entry::new(name, Swatch::Provider(provider_colour(name)))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Swatch {
    Fill(Rgba),
    /// A provider's fill: these entries are left out first from a legend too long for the image
    /// (with a "+N more" line).
    Provider(Rgba),
    /// A light fill striped in the colour.
    Hatch(Rgba),
    Line(Stroke),
    Dot(Rgba),
    /// None: the label alone, in bold, as the heading of the entries under it.
    Heading,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Panel {
    pub title: Option<String>,
    pub x: Axis,
    pub y: Axis,
    pub marks: Vec<Mark>,
}

impl Panel {
    pub fn new(x: Axis, y: Axis, marks: Vec<Mark>) -> Panel {
        let title = None;
        Panel { title, x, y, marks }
    }
    pub fn titled(self, title: impl Into<String>) -> Panel {
        let title = Some(title.into());
        Panel { title, ..self }
    }
}

/// An axis: its data range, what it shows, and a title (drawn over a y axis, under an x axis).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Axis {
    pub lo: f64,
    pub hi: f64,
    pub kind: Kind,
    pub title: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    /// Seconds since the epoch, with calendar ticks and vertical grid lines; under bars
    /// (`Some(shortest bar)`) without grid lines and no ticks finer than a bar.
    Time(Option<f64>),
    /// Numbers with round ticks; `true`: widened to whole steps (data drawn from zero).
    Value(Unit, bool),
    /// Numbers over the range given, widened so each label fits in the frame beside its point
    /// (at its first spot).
    Labelled(Unit),
    /// Named places: a label centred on each position. On a y axis `lo` is at the top (rows read
    /// down). On an x axis the labels go under the frame, or over it (a table's column heads)
    /// with `above`.
    Category(Category),
}

impl Axis {
    fn new(lo: f64, hi: f64, kind: Kind) -> Axis {
        let title = None;
        Axis {
            lo,
            hi,
            kind,
            title,
        }
    }
    /// Time with calendar ticks and vertical grid lines.
    pub fn time(lo: f64, hi: f64) -> Axis {
        Axis::new(lo, hi, Kind::Time(None))
    }
    /// Values from `lo` to `hi`, widened to whole ticks.
    pub fn value(lo: f64, hi: f64, unit: Unit) -> Axis {
        Axis::new(lo, hi, Kind::Value(unit, true))
    }
    /// Values with ticks inside `[lo, hi]`, which stays as it is.
    pub fn value_inside(lo: f64, hi: f64, unit: Unit) -> Axis {
        Axis::new(lo, hi, Kind::Value(unit, false))
    }
    /// Values over `[lo, hi]` and the room the labels beside their points need.
    pub fn value_labelled(lo: f64, hi: f64, unit: Unit) -> Axis {
        Axis::new(lo, hi, Kind::Labelled(unit))
    }
    /// Named places over their slots: from zero to half a slot past the last one.
    pub fn category(c: Category) -> Axis {
        let hi = largest(c.labels.iter().map(|l| l.0 + 0.5)).max(1.0);
        Axis::new(0.0, hi, Kind::Category(c))
    }
    pub fn titled(self, title: impl Into<String>) -> Axis {
        let title = Some(title.into());
        Axis { title, ..self }
    }
}

#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Category {
    /// (position, text, bold)
    pub labels: Vec<(f64, String, bool)>,
    pub above: bool,
    /// Lines written over the frame above each label (x axes), e.g. a net change.
    pub notes: Vec<Vec<String>>,
    /// Columns of text right of the frame, one cell per label (y axes): (head, cells).
    pub table: Vec<(String, Vec<String>)>,
    /// The head of the labels' own column (y axes).
    pub head: Option<String>,
}

impl Category {
    /// One slot per name, `[i, i + 1]` for the `i`th.
    pub fn slots(names: impl IntoIterator<Item = (String, bool)>) -> Category {
        let slot = |(i, (text, bold)): (usize, (String, bool))| (i as f64 + 0.5, text, bold);
        let labels: Vec<_> = names.into_iter().enumerate().map(slot).collect();
        Category {
            labels,
            ..Category::default()
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Mark {
    Area(Area),
    Line(Stroke, Vec<(f64, f64)>),
    /// A rectangle; `cut` marks an end beyond the axis with a break (`Some(true)`: the top).
    Rect {
        x: (f64, f64),
        y: (f64, f64),
        fill: Rgba,
        cut: Option<bool>,
    },
    Dot(Dot),
    Rule(Rule),
    Label(Label),
}

/// A stretch of an axis, in data units: from, to.
pub(crate) type Span = (f64, f64);

/// A fill and, optionally, stripes over it in another colour.
pub(crate) type Paint = (Rgba, Option<Rgba>);

/// The area between two lines over the same `xs`, filled and optionally striped.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Area {
    pub name: String,
    pub paint: Paint,
    pub xs: Vec<f64>,
    pub lower: Vec<f64>,
    pub upper: Vec<f64>,
}

/// A dot (white-ringed) of radius pixels at 1080p; `arrow`: a triangle pointing up (true) or
/// down instead, for a value off the scale.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Dot {
    pub x: f64,
    pub y: f64,
    pub radius: f64,
    pub colour: Rgba,
    pub arrow: Option<bool>,
}

/// A vertical line across the frame at `at`, with a label over the frame.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rule {
    pub at: f64,
    pub stroke: Stroke,
    pub label: Option<String>,
}

/// Text at a point of the data. It goes to the first of its `spots` (offsets in pixels at 1080p)
/// that keeps inside the frame and clear of labels and dots already placed; when none is clear it
/// is left out (`optional`) or put where it overlaps least.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Label {
    pub text: String,
    pub x: f64,
    pub y: f64,
    /// Its size in pixels per em at 1080p, shrunk (to 70%) to fit `fit` data units across, if given.
    pub font: Font,
    pub spots: Vec<(f64, f64, Align)>,
    pub optional: bool,
    /// A line from the point to the text when it sits away from it.
    pub leader: bool,
    pub fit: Option<f64>,
    /// A second point, for the first spot, when none is free at the first (e.g. under a bar).
    pub fallback: Option<(f64, f64)>,
}

impl Mark {
    pub fn rect(x: (f64, f64), y: (f64, f64), fill: Rgba) -> Mark {
        Mark::bar(x, y, fill, None)
    }
    pub fn bar(x: (f64, f64), y: (f64, f64), fill: Rgba, cut: Option<bool>) -> Mark {
        Mark::Rect { x, y, fill, cut }
    }
    pub fn rule(at: f64, stroke: Stroke, label: Option<String>) -> Mark {
        Mark::Rule(Rule { at, stroke, label })
    }
    /// A step line: each value holds across its bin.
    pub fn steps(stroke: Stroke, bins: &[(f64, f64)], values: &[f64]) -> Mark {
        let (xs, ys) = steps(bins, values);
        Mark::Line(stroke, xs.into_iter().zip(ys).collect())
    }
    /// A step band between two series, filled where it is open (upper above lower).
    pub fn band(name: &str, paint: Paint, bins: &[Span], lower: &[f64], upper: &[f64]) -> Mark {
        let ((xs, lower), (_, upper)) = (steps(bins, lower), steps(bins, upper));
        let name = name.to_string();
        Mark::Area(Area {
            name,
            paint,
            xs,
            lower,
            upper,
        })
    }
}

/// The largest of `values`, and at least zero (the top of a value axis drawn from zero).
pub(crate) fn largest(values: impl IntoIterator<Item = f64>) -> f64 {
    values.into_iter().fold(0.0, f64::max)
}

/// The outline of a step series: each value holds across its bin.
fn steps(bins: &[(f64, f64)], values: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let corners = |(b, v): (&(f64, f64), &f64)| [(b.0, *v), (b.1, *v)];
    bins.iter().zip(values).flat_map(corners).unzip()
}

impl Dot {
    pub fn new(x: f64, y: f64, radius: f64, colour: Rgba) -> Dot {
        let arrow = None;
        Dot {
            x,
            y,
            radius,
            colour,
            arrow,
        }
    }
}

impl Label {
    /// Centred on the point, drawn whatever is there.
    pub fn at(text: String, x: f64, y: f64, font: Font) -> Label {
        let (spots, label) = (vec![(0.0, 0.0, Align::Centre)], Label::default());
        Label {
            text,
            x,
            y,
            font,
            spots,
            ..label
        }
    }
    /// A bar's total, above its top where there is room (else left out).
    pub fn above(text: String, x: f64, y: f64) -> Label {
        let label = Label::at(text, x, y, Font::new(TICK * 0.95, false, palette::INK));
        let spots = vec![(0.0, -18.0, Align::Centre)];
        Label {
            spots,
            optional: true,
            ..label
        }
    }
    /// In the first of `spots` that is free.
    pub fn spots(self, spots: Vec<(f64, f64, Align)>) -> Label {
        Label { spots, ..self }
    }
}
