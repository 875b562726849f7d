//! Model stage, whole blocks: a branch and bound of our own over a cutting-plane master
//! ("branch-and-Benders-cut"), shared by the decomposition (`decompose`) and robust plans
//! (`robust`).
//!
//! The objective G(z) = commitment + dispatch is convex in the decision fractions z, and the
//! master holds a model of it from below (the commitment plus the cuts found so far). Where
//! reservations come in whole blocks, z(i) = n(i)·step(i) with n(i) whole.
//!
//! First, Benders over the master's mixed-integer program as it was before this search: microlp's
//! own branch and bound solves the master over whole counts within a budget of nodes, its optimum
//! (the model's least over whole blocks: below every plan) is a bound, and the point is evaluated
//! and its cuts added, until the bound meets the best plan. It ends most searches in a few rounds
//! where few counts are fractional or the blocks are coarse, and fails where blocks alike make the
//! LP answer a split on one count by moving the fraction to another (below): a budget of nodes
//! keeps that failure cheap, and the search proper takes over with every cut found.
//!
//! The search proper is a branch and bound of our own over the same master. A node is a region of
//! block counts: bounds lo ≤ n ≤ hi and sums of counts at most or at least a whole number. Its
//! bound is the master LP's optimum over the region (the model is below G, so the bound is below
//! every plan in it). At a node:
//!
//! 1. the master LP over the region gives a point and a bound; a node whose bound reaches the
//!    best plan's value (within the relative gap) is pruned;
//! 2. a whole-block point is evaluated (every period's network): it is a plan, perhaps the best
//!    so far, and its cuts join the master, where they are valid everywhere (G is convex), so
//!    bounds found earlier stay lower bounds; the node's LP is then solved again, and either moves
//!    or proves the node solved (the model is exact at an evaluated point);
//! 3. a fractional point is rounded to the nearest whole blocks and up (never less capacity),
//!    and each is evaluated once per node when the model leaves the rounded plan a chance to beat
//!    the best one (incumbents);
//! 4. the node is split on a sum of block counts, n(S) = Σ_{i∈S} n(i), into n(S) ≤ ⌊n(S)⌋ and
//!    n(S) ≥ ⌈n(S)⌉ (valid for any S: every n(S) of whole blocks is whole). Splitting on one count
//!    at a time is the textbook rule, and it fails here: blocks of the same size serve alike, so
//!    the dispatch cost has kinks where a *total* of blocks (a region's, or of the tranches
//!    available in some hours) meets demand, and the LP answers a bound on one count by moving
//!    the fraction to another at almost no cost. On a synthetic hourly year with six fractional
//!    counts that search had not closed a gap of 6.5e-8 after 28,000 nodes; splitting on the
//!    total closed it in five. The candidates (`Search::candidates`): the counts of each kink of
//!    the model at the point, the counts in play (fractional, or moved by the LP since the
//!    parent's point), each fractional count alone, and smaller sums of the counts in play. They
//!    are tried by strong branching: both sides' LPs are solved (from the node's basis,
//!    `WarmLp`), the split whose worse side has the highest bound wins, and the trial stops after
//!    `LOOKAHEAD` splits in a row that do no better; the winner's LPs are the children's.
//!
//! Nodes are taken best bound first (ties: deeper first, then in the order made), so the search
//! is deterministic. It stops when the best plan is within the relative gap of the least bound
//! of the open nodes: that bound is reported with the plan.

use std::collections::{BinaryHeap, HashSet};
use std::time::Instant;

use super::solve::{solve_mip_within, WarmLp};
use super::{Col, Column, Row, RowKey, Sense};
use crate::error::{Error, Result};

/// What the search asks of a master.
pub(crate) trait Master {
    /// The master LP with every cut so far: its columns (the decisions' fractions first, within
    /// `lower` … `upper`) and rows, in the master's units.
    fn lp(&self, lower: &[f64], upper: &[f64]) -> (Vec<Column>, Vec<Row>);
    /// How many cut rows the master has.
    fn cut_count(&self) -> usize;
    /// The cut rows after the first `since`, as `lp` writes them (cuts are only ever added).
    fn cut_rows(&self, since: usize) -> Vec<Row>;
    /// G(z) exactly ($); the evaluation's cuts join the master.
    fn evaluate(&mut self, z: &[f64]) -> Result<f64>;
    /// The master's model at z ($): the LP's optimum over every other column at this z, at most
    /// G(z).
    fn model(&self, z: &[f64]) -> f64;
    /// The kinks of the model at z: for each cost variable held up by two or more of its cuts
    /// (or by a cut and its floor of 0), the differences of their slopes, per decision.
    fn kinks(&self, z: &[f64]) -> Vec<Vec<f64>>;
    /// Told of the search's progress after each node.
    fn progress(&self, _nodes: usize, _gap: f64) {}
}

/// Rounds of the master's mixed-integer program by microlp before the search (each a solve and
/// an evaluation), and the budget of each: `MIP_WORK` / (columns + rows) nodes, at least
/// `MIP_LEAST_NODES` (a node's LP grows with the master).
const MIP_ROUNDS: usize = 100;
const MIP_WORK: u64 = 1_000_000;
const MIP_LEAST_NODES: u64 = 20;

/// Nodes, and evaluations, after which the search gives up (a solver error).
const MAX_NODES: usize = 20_000;
const MAX_EVALUATIONS: usize = 5_000;

/// At most this many splits are tried at a node (each costs two LPs).
const MAX_CANDIDATES: usize = 64;

/// Strong branching stops after this many splits in a row that bound the worse side no higher
/// than the best so far.
const LOOKAHEAD: usize = 16;

/// Below this many counts in play, every subset of them is a candidate (2^6 − 1 = 63).
const ALL_SUBSETS_BELOW: usize = 7;

/// Open nodes beyond this many keep no LP (each is solved again from nothing when taken), so the
/// memory of a long search stays bounded.
const MAX_KEPT_LPS: usize = 1_000;

/// A block count this close to a whole number is that number (the LP's vertices sit on whole
/// bounds up to rounding).
const WHOLE_TOLERANCE: f64 = 1e-6;

/// The key of a point among those evaluated: its fractions' bits.
fn key(z: &[f64]) -> Vec<u64> {
    z.iter().map(|z| z.to_bits()).collect()
}

/// The decisions of the search: the least fraction of each (min_commit) and its block step
/// (None: any fraction).
pub(crate) struct Decisions<'a> {
    pub lower: &'a [f64],
    pub steps: &'a [Option<f64>],
}

/// How the search starts: with rounds of the master's mixed-integer program by microlp (the
/// planner's way), or with our branch and bound alone (tests of it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Start {
    MicrolpFirst,
    /// Only the tests ask for it, to hold our search alone to hand-worked answers.
    #[cfg_attr(not(test), allow(dead_code))]
    OwnSearchOnly,
}

/// The best whole-block plan and the proof of how good it is.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub z: Vec<f64>,
    /// G at z, $.
    pub value: f64,
    /// The least bound of the nodes left open (≤ the optimum), $.
    pub bound: f64,
    pub stats: Stats,
}

/// How a whole-block search went, for `--timings` and the benchmark.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Stats {
    /// Nodes taken from the open list (pruned ones included).
    pub nodes: usize,
    /// The master's mixed-integer program solved by microlp within its budget, first.
    pub mip_solves: usize,
    /// Master LPs solved, strong branching's included (most from their parent's basis).
    pub master_lps: usize,
    /// Seconds in those LPs.
    pub master_seconds: f64,
    /// Points at which every period was evaluated.
    pub evaluations: usize,
    /// The whole search, evaluations included.
    pub seconds: f64,
}

/// A sum of block counts at most or at least a whole number (a split's side).
#[derive(Debug, Clone, PartialEq)]
struct SumLimit {
    counts: Vec<usize>,
    at_most: bool,
    whole: f64,
}

/// A region of block counts and what is known of it.
struct Node {
    lo: Vec<i64>,
    hi: Vec<i64>,
    sums: Vec<SumLimit>,
    /// The LP of the region, solved with the master's first `synced` cut rows (None: not kept).
    lp: Option<WarmLp>,
    synced: usize,
    /// The block counts at the parent's LP point (empty at the root).
    parent_counts: Vec<f64>,
    /// A lower bound on G over the region ($), from the parent or the node's own LP.
    bound: f64,
    depth: usize,
    id: u64,
}

impl PartialEq for Node {
    fn eq(&self, other: &Node) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for Node {}

impl PartialOrd for Node {
    fn partial_cmp(&self, other: &Node) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Node {
    /// The heap's greatest is the node to take next: least bound, then deepest, then first made.
    fn cmp(&self, other: &Node) -> std::cmp::Ordering {
        other
            .bound
            .total_cmp(&self.bound)
            .then(self.depth.cmp(&other.depth))
            .then(other.id.cmp(&self.id))
    }
}

/// The relative gap of bounds.
fn gap_of(upper: f64, lower: f64) -> f64 {
    (upper - lower) / upper.abs().max(1.0)
}

/// A region of block counts, borrowed from a node or a split's side.
struct Region<'r> {
    lo: &'r [i64],
    hi: &'r [i64],
    sums: &'r [SumLimit],
}

/// One side of a split: a region and its LP (None: empty).
struct Side {
    lo: Vec<i64>,
    hi: Vec<i64>,
    sums: Vec<SumLimit>,
    lp: Option<WarmLp>,
    /// The master's value at the LP's point: the side's bound ($; infinite when empty).
    bound: f64,
}

/// The state of one search.
struct Search<'a, M: Master> {
    master: &'a mut M,
    decisions: &'a Decisions<'a>,
    relative_gap: f64,
    /// The root's block counts (the box).
    root_lo: Vec<i64>,
    root_hi: Vec<i64>,
    ones: Vec<f64>,
    /// Whole-block points evaluated (each is evaluated once).
    evaluated: HashSet<Vec<u64>>,
    stats: Stats,
    best: (Vec<f64>, f64),
}

impl<M: Master> Search<'_, M> {
    /// Bounds at or above this cannot improve the best plan by more than the gap.
    fn cutoff(&self) -> f64 {
        self.best.1 - self.relative_gap * self.best.1.abs().max(1.0)
    }

    /// The fraction of block count n of decision i (which has a step).
    fn z_of(&self, i: usize, n: i64) -> f64 {
        let step = self.decisions.steps[i].expect("counts only where blocks apply");
        (n as f64 * step).min(1.0)
    }

    /// The block counts of z (not rounded) where blocks apply, 0 elsewhere.
    fn counts(&self, z: &[f64]) -> Vec<f64> {
        z.iter()
            .zip(self.decisions.steps)
            .map(|(z, step)| step.map_or(0.0, |s| z / s))
            .collect()
    }

    /// The row n(i) ≤ n (`at_most`) or n(i) ≥ n, on z(i).
    fn bound_row(&self, i: usize, at_most: bool, n: i64) -> Row {
        let sign = if at_most { 1.0 } else { -1.0 };
        Row {
            key: RowKey::Limit(i),
            terms: vec![(Col(i), sign)],
            sense: Sense::Le,
            rhs: sign * self.z_of(i, n),
        }
    }

    /// The row of a sum: Σ n(i) = Σ z(i) / step(i) at most or at least a whole number, in units
    /// of the sum's smallest step so the row's numbers stay near 1.
    fn sum_row(&self, sum: &SumLimit) -> Row {
        let step = |i: usize| self.decisions.steps[i].expect("a count");
        let unit = sum
            .counts
            .iter()
            .map(|&i| step(i))
            .fold(f64::INFINITY, f64::min);
        let sign = if sum.at_most { 1.0 } else { -1.0 };
        Row {
            key: RowKey::Limit(sum.counts[0]),
            terms: sum
                .counts
                .iter()
                .map(|&i| (Col(i), sign * unit / step(i)))
                .collect(),
            sense: Sense::Le,
            rhs: sign * sum.whole * unit,
        }
    }

    /// The master as a mixed-integer program over block counts: the LP's columns of decisions in
    /// blocks become whole counts n = z / step (their costs and row coefficients times the step).
    fn mip(&self) -> (Vec<Column>, Vec<Row>) {
        let (mut columns, mut rows) = self.master.lp(self.decisions.lower, &self.ones);
        for (i, step) in self.decisions.steps.iter().enumerate() {
            if let Some(step) = step {
                columns[i] = Column {
                    lower: self.root_lo[i] as f64,
                    upper: Some(self.root_hi[i] as f64),
                    cost: columns[i].cost * step,
                    integer: true,
                };
            }
        }
        for row in &mut rows {
            for (col, a) in &mut row.terms {
                if let Some(Some(step)) = self.decisions.steps.get(col.0) {
                    *a *= step;
                }
            }
        }
        (columns, rows)
    }

    /// The rows that bound a region beyond the root's box: its bounds tighter than the box, and
    /// its sums.
    fn region_rows(&self, region: &Region) -> Vec<Row> {
        let mut rows = Vec::new();
        for i in 0..region.lo.len() {
            if self.decisions.steps[i].is_some() {
                if region.lo[i] > self.root_lo[i] {
                    rows.push(self.bound_row(i, false, region.lo[i]));
                }
                if region.hi[i] < self.root_hi[i] {
                    rows.push(self.bound_row(i, true, region.hi[i]));
                }
            }
        }
        rows.extend(region.sums.iter().map(|s| self.sum_row(s)));
        rows
    }

    /// A region's LP solved from nothing: the master's box and cuts, and the region's rows.
    fn cold(&mut self, region: &Region) -> Result<Option<WarmLp>> {
        let started = Instant::now();
        let (columns, mut rows) = self.master.lp(self.decisions.lower, &self.ones);
        rows.extend(self.region_rows(region));
        let lp = WarmLp::solve(&columns, &rows);
        self.stats.master_lps += 1;
        self.stats.master_seconds += started.elapsed().as_secs_f64();
        lp
    }

    /// `lp` with `rows` added, solved again from its basis; from nothing (`region`'s LP, whose
    /// rows these are) when the simplex fails numerically from that basis.
    fn warm(&mut self, lp: WarmLp, rows: &[Row], region: &Region) -> Result<Option<WarmLp>> {
        if rows.is_empty() {
            return Ok(Some(lp));
        }
        let started = Instant::now();
        let warm = lp.with_rows(rows);
        self.stats.master_lps += 1;
        self.stats.master_seconds += started.elapsed().as_secs_f64();
        match warm {
            Err(Error::Solver(_)) => self.cold(region),
            other => other,
        }
    }

    /// `lp` (of `region`) given the master's cuts found since it had `synced` of them.
    fn sync(&mut self, lp: WarmLp, synced: &mut usize, region: &Region) -> Result<Option<WarmLp>> {
        let rows = self.master.cut_rows(*synced);
        *synced = self.master.cut_count();
        self.warm(lp, &rows, region)
    }

    /// The LP's point (the decisions' fractions, within the box) and the master's value there.
    fn point(&self, lp: &WarmLp) -> (Vec<f64>, f64) {
        let n = self.decisions.lower.len();
        let z: Vec<f64> = lp.values()[..n]
            .iter()
            .zip(self.decisions.lower)
            .map(|(z, l)| z.clamp(*l, 1.0))
            .collect();
        let value = self.master.model(&z);
        (z, value)
    }

    /// G at z, counted, and an error past `MAX_EVALUATIONS`.
    fn evaluate(&mut self, z: &[f64]) -> Result<f64> {
        self.stats.evaluations += 1;
        if self.stats.evaluations > MAX_EVALUATIONS {
            return Err(Error::Solver(format!(
                "the whole-block search did not reach a relative gap of {:e} in {MAX_EVALUATIONS} evaluations; use --relax for the fractional plan",
                self.relative_gap
            )));
        }
        self.master.evaluate(z)
    }

    /// G at a whole-block point z, evaluated once; the best plan follows.
    fn plan(&mut self, z: Vec<f64>) -> Result<()> {
        if !self.evaluated.insert(key(&z)) {
            return Ok(());
        }
        let value = self.evaluate(&z)?;
        if value < self.best.1 {
            self.best = (z, value);
        }
        Ok(())
    }

    /// z rounded to whole blocks within bounds (`up`: never less capacity); decisions without
    /// blocks unchanged.
    fn rounded(&self, lo: &[i64], hi: &[i64], z: &[f64], up: bool) -> Vec<f64> {
        let counts = self.counts(z);
        let mut out = z.to_vec();
        for i in 0..z.len() {
            if self.decisions.steps[i].is_some() {
                let c = if up {
                    (counts[i] - WHOLE_TOLERANCE).ceil()
                } else {
                    counts[i].round()
                };
                out[i] = self.z_of(i, (c as i64).clamp(lo[i], hi[i]));
            }
        }
        out
    }

    /// The splits to try at a point, sums of block counts whose value is fractional: each
    /// fractional count alone; the counts of each kink of the model (`kinks`: where the LP sits
    /// between two cuts of a cost, the tranches whose slopes differ, which is where a total of
    /// blocks meets a demand: a region's, or that of the tranches available in the kink's hours),
    /// and those of them in `base`; then sums over `base` (the fractional counts and those the
    /// LP moved since the parent's point): every subset when `base` is small (below
    /// `ALL_SUBSETS_BELOW`), else all of it, the fractional counts, and pairs with a fractional
    /// count.
    fn candidates(
        &self,
        base: &[usize],
        fractional: &[usize],
        counts: &[f64],
        kinks: &[Vec<f64>],
    ) -> Vec<Vec<usize>> {
        let mut sets: Vec<Vec<usize>> = Vec::new();
        for h in kinks {
            let per_block: Vec<(usize, f64)> = (0..h.len())
                .filter_map(|i| self.decisions.steps[i].map(|step| (i, (h[i] * step).abs())))
                .collect();
            let top = per_block.iter().map(|(_, h)| *h).fold(0.0f64, f64::max);
            if top > 0.0 {
                let support: Vec<usize> = per_block
                    .iter()
                    .filter(|(_, h)| *h > 1e-6 * top)
                    .map(|(i, _)| *i)
                    .collect();
                sets.push(
                    support
                        .iter()
                        .copied()
                        .filter(|i| base.contains(i))
                        .collect(),
                );
                sets.push(support);
            }
        }
        sets.push(base.to_vec());
        sets.push(fractional.to_vec());
        sets.extend(fractional.iter().map(|&i| vec![i]));
        let f = base.len();
        if f < ALL_SUBSETS_BELOW {
            let mut masks: Vec<u32> = (1..(1u32 << f)).collect();
            masks.sort_by_key(|m| (m.count_ones(), *m));
            sets.extend(masks.into_iter().map(|m| {
                (0..f)
                    .filter(|b| m >> b & 1 == 1)
                    .map(|b| base[b])
                    .collect()
            }));
        } else {
            for a in 0..f {
                for b in a + 1..f {
                    if fractional.contains(&base[a]) || fractional.contains(&base[b]) {
                        sets.push(vec![base[a], base[b]]);
                    }
                }
            }
        }
        sets.retain(|s| {
            let sum: f64 = s.iter().map(|&i| counts[i]).sum();
            (sum - sum.round()).abs() > WHOLE_TOLERANCE
        });
        // Each set once, in the order found.
        let mut seen = HashSet::new();
        sets.retain(|s| seen.insert(s.clone()));
        sets.truncate(MAX_CANDIDATES);
        sets
    }

    /// The two sides of a split of `node` (its LP `lp`, bound `bound`) on the sum of `set`:
    /// bounds for a single count, sums for several; each side's LP from `lp`'s basis.
    fn split(
        &mut self,
        node: &Node,
        lp: &WarmLp,
        bound: f64,
        set: &[usize],
        counts: &[f64],
    ) -> Result<[Side; 2]> {
        let sum: f64 = set.iter().map(|&i| counts[i]).sum();
        let mut sides = [true, false].map(|at_most| {
            let whole = if at_most { sum.floor() } else { sum.ceil() };
            let (mut lo, mut hi, mut sums) = (node.lo.clone(), node.hi.clone(), node.sums.clone());
            match set {
                [i] if at_most => hi[*i] = whole as i64,
                [i] => lo[*i] = whole as i64,
                _ => sums.push(SumLimit {
                    counts: set.to_vec(),
                    at_most,
                    whole,
                }),
            }
            Side {
                lo,
                hi,
                sums,
                lp: None,
                bound: f64::INFINITY,
            }
        });
        for side in &mut sides {
            // The side's one new row.
            let new = match set {
                [i] if side.hi[*i] < node.hi[*i] => self.bound_row(*i, true, side.hi[*i]),
                [i] => self.bound_row(*i, false, side.lo[*i]),
                _ => self.sum_row(side.sums.last().expect("the split's sum")),
            };
            let region = Region {
                lo: &side.lo,
                hi: &side.hi,
                sums: &side.sums,
            };
            if let Some(side_lp) = self.warm(lp.clone(), &[new], &region)? {
                side.bound = self.point(&side_lp).1.max(bound);
                side.lp = Some(side_lp);
            }
        }
        Ok(sides)
    }

    /// Works on one node: returns its children (none when it is pruned or solved).
    fn expand(&mut self, node: Node, next_id: &mut u64, keep_lps: bool) -> Result<Vec<Node>> {
        let mut bound = node.bound;
        let mut synced = node.synced;
        let mut lp = match &node.lp {
            Some(lp) => Some(lp.clone()),
            None => {
                synced = self.master.cut_count();
                self.cold(&Region {
                    lo: &node.lo,
                    hi: &node.hi,
                    sums: &node.sums,
                })?
            }
        };
        let mut rounded = [false; 2];
        loop {
            let Some(current) = lp.take() else {
                return Ok(Vec::new());
            };
            let region = Region {
                lo: &node.lo,
                hi: &node.hi,
                sums: &node.sums,
            };
            let Some(current) = self.sync(current, &mut synced, &region)? else {
                return Ok(Vec::new());
            };
            let (z, value) = self.point(&current);
            bound = bound.max(value);
            if bound >= self.cutoff() {
                return Ok(Vec::new());
            }
            let counts = self.counts(&z);
            let fractional: Vec<usize> = (0..z.len())
                .filter(|&i| {
                    self.decisions.steps[i].is_some()
                        && (counts[i] - counts[i].round()).abs() > WHOLE_TOLERANCE
                })
                .collect();
            let nearest = self.rounded(&node.lo, &node.hi, &z, false);
            if fractional.is_empty() {
                // A whole-block point: a plan. Its cuts make the model exact there, so the LP
                // solved again either moves to another point or proves the node solved.
                if self.evaluated.contains(&key(&nearest)) {
                    // The model is exact at an evaluated point, so the region's optimum is
                    // this plan's value, which no bound below the cutoff can be: reached only
                    // through rounding noise.
                    return Ok(Vec::new());
                }
                self.plan(nearest)?;
                lp = Some(current);
                continue;
            }
            // Incumbents: the point rounded to the nearest whole blocks and up (never less
            // capacity), each once per node, when the model leaves the plan a chance; their cuts
            // may move the LP.
            let mut evaluated = false;
            for (i, up) in [false, true].into_iter().enumerate() {
                let plan = if up {
                    self.rounded(&node.lo, &node.hi, &z, true)
                } else {
                    nearest.clone()
                };
                if !evaluated
                    && !rounded[i]
                    && !self.evaluated.contains(&key(&plan))
                    && self.master.model(&plan) < self.cutoff()
                {
                    rounded[i] = true;
                    self.plan(plan)?;
                    evaluated = true;
                }
            }
            if evaluated {
                lp = Some(current);
                continue;
            }
            // Strong branching: the split whose worse side is bounded highest.
            let mut best: Option<((f64, f64), [Side; 2])> = None;
            // The counts the LP moved since the parent's point: where a split on one count
            // pushes the fraction onto another at no cost (two tranches alike per block), the
            // sum of both is the split that ends the walk.
            let base: Vec<usize> = (0..z.len())
                .filter(|&i| {
                    fractional.contains(&i)
                        || (self.decisions.steps[i].is_some()
                            && node
                                .parent_counts
                                .get(i)
                                .is_some_and(|p| (counts[i] - p).abs() > WHOLE_TOLERANCE))
                })
                .collect();
            let kinks = self.master.kinks(&z);
            let mut since_better = 0;
            for set in self.candidates(&base, &fractional, &counts, &kinks) {
                let sides = self.split(&node, &current, bound, &set, &counts)?;
                let score = (
                    sides[0].bound.min(sides[1].bound),
                    sides[0].bound.max(sides[1].bound),
                );
                if best.as_ref().is_none_or(|(s, _)| score > *s) {
                    best = Some((score, sides));
                    since_better = 0;
                } else {
                    since_better += 1;
                }
                // Both sides pruned: the node is done. Or the last few splits did no better.
                if score.0 >= self.cutoff() || since_better >= LOOKAHEAD {
                    break;
                }
            }
            let (_, sides) = best.expect("a fractional count is a candidate");
            let depth = node.depth + 1;
            let mut out = Vec::new();
            for side in sides {
                if side.bound < self.cutoff() {
                    out.push(Node {
                        lo: side.lo,
                        hi: side.hi,
                        sums: side.sums,
                        lp: if keep_lps { side.lp } else { None },
                        synced,
                        parent_counts: counts.clone(),
                        bound: side.bound,
                        depth,
                        id: *next_id,
                    });
                }
                *next_id += 1;
            }
            return Ok(out);
        }
    }
}

/// The best whole-block z within the relative gap, from the relaxation's optimum `relaxed`
/// (rounded up and to the nearest for the first plans) and its value `relaxed_value` (a bound
/// for the root).
pub(crate) fn search(
    master: &mut impl Master,
    decisions: &Decisions,
    relaxed: &[f64],
    relaxed_value: f64,
    relative_gap: f64,
    start: Start,
) -> Result<Found> {
    let lo: Vec<i64> = (0..relaxed.len())
        .map(|i| match decisions.steps[i] {
            Some(step) => ((decisions.lower[i] / step) - 1e-9).ceil() as i64,
            None => 0,
        })
        .collect();
    let hi: Vec<i64> = (0..relaxed.len())
        .map(|i| match decisions.steps[i] {
            Some(step) => ((1.0 / step) + 1e-9).floor() as i64,
            None => 0,
        })
        .collect();
    let root = Node {
        lo: lo.clone(),
        hi: hi.clone(),
        sums: Vec::new(),
        lp: None,
        synced: 0,
        parent_counts: Vec::new(),
        bound: relaxed_value,
        depth: 0,
        id: 0,
    };
    let mut search = Search {
        master,
        decisions,
        relative_gap,
        root_lo: lo,
        root_hi: hi,
        ones: vec![1.0; relaxed.len()],
        evaluated: HashSet::new(),
        stats: Stats::default(),
        best: (Vec::new(), f64::INFINITY),
    };
    for up in [true, false] {
        let z = search.rounded(&root.lo, &root.hi, relaxed, up);
        search.plan(z)?;
    }
    let started = Instant::now();
    // First the master's own mixed-integer program, by microlp's branch and bound within a budget
    // of nodes, and its optimum evaluated (Benders over a mixed-integer master): where microlp
    // proves the model's optimum within the budget, that optimum bounds every plan, and the
    // search ends when it meets the best plan. Where it does not (blocks alike per block, whose
    // LP bounds rise slowly under single-count splits), the search below takes over, with every
    // cut found.
    let mut root = root;
    let rounds = match start {
        Start::MicrolpFirst => MIP_ROUNDS,
        Start::OwnSearchOnly => 0,
    };
    for _ in 0..rounds {
        let (columns, rows) = search.mip();
        let budget = (MIP_WORK / (columns.len() + rows.len()).max(1) as u64).max(MIP_LEAST_NODES);
        let mip_started = Instant::now();
        let solved = solve_mip_within(&columns, &rows, budget)?;
        search.stats.mip_solves += 1;
        search.stats.master_seconds += mip_started.elapsed().as_secs_f64();
        let Some(values) = solved else {
            break;
        };
        let z: Vec<f64> = (0..relaxed.len())
            .map(|i| match decisions.steps[i] {
                Some(_) => search.z_of(i, values[i].round() as i64),
                None => values[i].clamp(decisions.lower[i], 1.0),
            })
            .collect();
        // The model's least over whole blocks: below every plan.
        root.bound = root.bound.max(search.master.model(&z));
        search.plan(z)?;
        let gap = gap_of(search.best.1, root.bound);
        search.master.progress(0, gap);
        if gap <= relative_gap {
            break;
        }
    }
    let mut open = BinaryHeap::from([root]);
    let mut next_id = 1;
    loop {
        let nodes = search.stats.nodes;
        let bound = open
            .peek()
            .map_or(search.best.1, |n| n.bound.min(search.best.1));
        let gap = gap_of(search.best.1, bound);
        search.master.progress(nodes, gap);
        if gap <= relative_gap || open.is_empty() {
            let (z, value) = search.best;
            search.stats.seconds = started.elapsed().as_secs_f64();
            return Ok(Found {
                z,
                value,
                bound: bound.min(value),
                stats: search.stats,
            });
        }
        if nodes >= MAX_NODES {
            return Err(Error::Solver(format!(
                "the whole-block search did not reach a relative gap of {relative_gap:e} in {MAX_NODES} nodes (gap {gap:.2e}); use --relax for the fractional plan"
            )));
        }
        let node = open.pop().expect("an open node");
        search.stats.nodes += 1;
        if node.bound >= search.cutoff() {
            continue;
        }
        let keep_lps = open.len() < MAX_KEPT_LPS;
        open.extend(search.expand(node, &mut next_id, keep_lps)?);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::decompose::{kinks_of, Cut};
    use crate::model::solve::{solve_lp, SolverKind};

    /// A master over a known convex piecewise-linear objective
    ///
    ///   G(z) = Σi commit(i)·z(i) + Σb max(0, maxj a(b,j) + g(b,j)·z),
    ///
    /// which knows some of the pieces at first (its cuts) and learns, at each evaluation, the
    /// pieces that are highest at the point (a cut of G, tight there), as the decomposition's
    /// periods teach the real master.
    struct Toy {
        commit: Vec<f64>,
        pieces: Vec<Vec<Cut>>,
        cuts: Vec<Vec<(Cut, usize)>>,
        rows: Vec<Row>,
        evaluations: usize,
    }

    fn cut(intercept: f64, slope: &[f64]) -> Cut {
        Cut {
            intercept,
            slope: slope.to_vec(),
        }
    }

    impl Toy {
        /// A toy knowing, of each group, the pieces highest at `known_at`.
        fn new(commit: &[f64], pieces: Vec<Vec<Cut>>, known_at: &[f64]) -> Toy {
            let mut toy = Toy {
                commit: commit.to_vec(),
                cuts: vec![Vec::new(); pieces.len()],
                pieces,
                rows: Vec::new(),
                evaluations: 0,
            };
            toy.learn(known_at);
            toy
        }

        fn row(&self, b: usize, cut: &Cut) -> Row {
            let mut terms: Vec<(Col, f64)> = cut
                .slope
                .iter()
                .enumerate()
                .map(|(k, g)| (Col(k), *g))
                .collect();
            terms.push((Col(self.commit.len() + b), -1.0));
            Row {
                key: RowKey::Cut { block: b, cut: 0 },
                terms,
                sense: Sense::Le,
                rhs: -cut.intercept,
            }
        }

        /// Adds the pieces highest at z (each group's, where above 0) to the cuts.
        fn learn(&mut self, z: &[f64]) {
            for b in 0..self.pieces.len() {
                let top = self.pieces[b]
                    .iter()
                    .map(|c| c.value(z))
                    .fold(f64::NEG_INFINITY, f64::max);
                let tight: Vec<Cut> = self.pieces[b]
                    .iter()
                    .filter(|c| c.value(z) >= top - 1e-12)
                    .cloned()
                    .collect();
                for c in tight {
                    if !self.cuts[b].iter().any(|(k, _)| *k == c) {
                        self.rows.push(self.row(b, &c));
                        self.cuts[b].push((c, 0));
                    }
                }
            }
        }

        /// G(z), exactly.
        fn objective(&self, z: &[f64]) -> f64 {
            let commitment: f64 = self.commit.iter().zip(z).map(|(c, z)| c * z).sum();
            commitment
                + self
                    .pieces
                    .iter()
                    .map(|p| p.iter().map(|c| c.value(z)).fold(0.0f64, f64::max))
                    .sum::<f64>()
        }

        /// The columns of the LP: z within the box, then θ per group.
        fn columns(&self, lower: &[f64], upper: &[f64]) -> Vec<Column> {
            let mut columns: Vec<Column> = (0..self.commit.len())
                .map(|i| Column {
                    lower: lower[i],
                    upper: Some(upper[i]),
                    cost: self.commit[i],
                    integer: false,
                })
                .collect();
            columns.extend(self.pieces.iter().map(|_| Column {
                lower: 0.0,
                upper: None,
                cost: 1.0,
                integer: false,
            }));
            columns
        }
    }

    impl Master for Toy {
        fn lp(&self, lower: &[f64], upper: &[f64]) -> (Vec<Column>, Vec<Row>) {
            (self.columns(lower, upper), self.rows.clone())
        }

        fn cut_count(&self) -> usize {
            self.rows.len()
        }

        fn cut_rows(&self, since: usize) -> Vec<Row> {
            self.rows[since..].to_vec()
        }

        fn evaluate(&mut self, z: &[f64]) -> Result<f64> {
            self.evaluations += 1;
            self.learn(z);
            Ok(self.objective(z))
        }

        fn model(&self, z: &[f64]) -> f64 {
            let commitment: f64 = self.commit.iter().zip(z).map(|(c, z)| c * z).sum();
            commitment
                + self
                    .cuts
                    .iter()
                    .map(|cuts| cuts.iter().map(|(c, _)| c.value(z)).fold(0.0f64, f64::max))
                    .sum::<f64>()
        }

        fn kinks(&self, z: &[f64]) -> Vec<Vec<f64>> {
            self.cuts
                .iter()
                .flat_map(|cuts| kinks_of(cuts, z))
                .collect()
        }
    }

    /// The LP relaxation of a toy over every piece: its point and optimum.
    fn relaxation(toy: &Toy, lower: &[f64]) -> (Vec<f64>, f64) {
        let ones = vec![1.0; lower.len()];
        let rows: Vec<Row> = (0..toy.pieces.len())
            .flat_map(|b| toy.pieces[b].iter().map(move |c| toy.row(b, c)))
            .collect();
        let (values, _) =
            solve_lp(&toy.columns(lower, &ones), &rows, SolverKind::Microlp).expect("the LP");
        let z = values[..lower.len()].to_vec();
        let value = toy.objective(&z);
        (z, value)
    }

    /// microlp's own branch and bound over the whole model (every piece, block counts as
    /// integer columns): the independent optimum.
    fn independent_mip(toy: &Toy, lower: &[f64], steps: &[Option<f64>]) -> f64 {
        let n = lower.len();
        let mut columns: Vec<Column> = (0..n)
            .map(|i| match steps[i] {
                Some(step) => Column {
                    lower: (lower[i] / step - 1e-9).ceil(),
                    upper: Some((1.0 / step + 1e-9).floor()),
                    cost: toy.commit[i] * step,
                    integer: true,
                },
                None => Column {
                    lower: lower[i],
                    upper: Some(1.0),
                    cost: toy.commit[i],
                    integer: false,
                },
            })
            .collect();
        columns.extend(toy.pieces.iter().map(|_| Column {
            lower: 0.0,
            upper: None,
            cost: 1.0,
            integer: false,
        }));
        let rows: Vec<Row> = (0..toy.pieces.len())
            .flat_map(|b| {
                toy.pieces[b].iter().map(move |c| {
                    let mut row = toy.row(b, c);
                    for (col, a) in row.terms.iter_mut() {
                        if col.0 < n {
                            *a *= steps[col.0].unwrap_or(1.0);
                        }
                    }
                    row
                })
            })
            .collect();
        let (values, _) = solve_lp(&columns, &rows, SolverKind::Microlp).expect("the MIP");
        let z: Vec<f64> = (0..n)
            .map(|i| match steps[i] {
                Some(step) => (values[i].round() * step).min(1.0),
                None => values[i],
            })
            .collect();
        toy.objective(&z)
    }

    /// Our branch and bound alone (the hand-worked tests are about it), or after microlp's
    /// rounds as planners run it.
    fn run_from(toy: &mut Toy, lower: &[f64], steps: &[Option<f64>], start: Start) -> Found {
        let (relaxed, value) = relaxation(toy, lower);
        let decisions = Decisions { lower, steps };
        search(toy, &decisions, &relaxed, value, 1e-9, start).expect("the search")
    }

    fn run(toy: &mut Toy, lower: &[f64], steps: &[Option<f64>]) -> Found {
        run_from(toy, lower, steps, Start::OwnSearchOnly)
    }

    #[test]
    fn a_rounded_up_reservation_is_beaten_only_by_branching() {
        // One period: demand 0.9 of a unit, served by z1 (commitment $8 per unit, blocks of
        // 1/3) and z2 ($9, blocks of 1/5), a shortfall at $20 per unit:
        //   G = 8·z1 + 9·z2 + max(0, 20·(0.9 − z1 − z2)).
        // The relaxation takes the cheaper z1 = 0.9 (2.7 blocks), $7.20. Both roundings of it
        // give z1 = 1 (3 blocks), $8. The whole-block optimum mixes both tranches:
        //   n1 = 2, n2 = 1: z = (2/3, 0.2), 16/3 + 1.8 + 20·(0.9 − 13/15) = 5.333 + 1.8 + 0.667 = $7.80,
        // against n1 = 2, n2 = 2: 5.333 + 3.6 = $8.93; n1 = 1, n2 = 3: 2.667 + 5.4 = $8.07;
        // n1 = 0, n2 = 4: 7.2 + 2 = $9.20; n1 = 3: $8. The root is fractional, so the search
        // must split it to find $7.80 and prove it.
        let pieces = vec![vec![cut(18.0, &[-20.0, -20.0])]];
        let mut toy = Toy::new(&[8.0, 9.0], pieces, &[0.9, 0.0]);
        let steps = [Some(1.0 / 3.0), Some(0.2)];
        let found = run(&mut toy, &[0.0, 0.0], &steps);
        assert!((found.value - 7.8).abs() < 1e-9, "{found:?}");
        assert!((found.z[0] - 2.0 / 3.0).abs() < 1e-12 && (found.z[1] - 0.2).abs() < 1e-12);
        assert!(found.stats.nodes >= 1, "{found:?}");
        assert!(found.value - found.bound <= 1e-9 * found.value);
    }

    #[test]
    fn cuts_found_at_plans_correct_the_first_model() {
        // Two periods. z1 ($6 a unit, in halves) serves both, z2 ($4 a unit, in quarters) only
        // the first. The first period's demand 1 leaves a gap x = 1 − z1 − z2, covered by
        // on-demand at $7 a unit up to 0.3 and by shortfall at $10 beyond (cost max(7x,
        // 10x − 0.9), two pieces); the second's demand 0.6 leaves 0.6 − z1 at $10:
        //   G = 6·z1 + 4·z2 + max(0, 7 − 7·z1 − 7·z2, 9.1 − 10·z1 − 10·z2) + max(0, 6 − 10·z1).
        // Relaxation: z1 = 0.6 (it saves $10 a unit in the second period for $6), z2 = 0.4 (it
        // saves $7 for $4): 3.6 + 1.6 = $5.20, both gaps 0. There the first period's $7 piece
        // and the second's are the highest; the $10 piece is not known at first. Whole blocks
        // (z1 = 1.2 halves, z2 = 1.6 quarters in the relaxation):
        //   z1 = 0.5, z2 = 0.5:  3 + 2 + 0 + 1 = $6.00;   z1 = 1, z2 = 0: $6.00;
        //   z1 = 0.5, z2 = 0.25: 3 + 1 + 1.75 + 1 = $6.75;  z1 = 0.5, z2 = 0.75: $7.00;
        //   z1 = 0, z2 = 1: 4 + 0 + 6 = $10.00;  z1 = 0, z2 = 0.5: 2 + 4.1 + 6 = $12.10
        // (the last needs the $10 piece: the first model prices it at 2 + 3.5 + 6 = $11.50).
        // The optimum, $6.00, is tied; the search must find it and prove nothing is below.
        let pieces = vec![
            vec![cut(7.0, &[-7.0, -7.0]), cut(9.1, &[-10.0, -10.0])],
            vec![cut(6.0, &[-10.0, 0.0])],
        ];
        let mut toy = Toy::new(&[6.0, 4.0], pieces, &[0.6, 0.4]);
        assert_eq!(toy.cuts[0].len(), 1, "the $10 piece is learnt, not known");
        let steps = [Some(0.5), Some(0.25)];
        let found = run(&mut toy, &[0.0, 0.0], &steps);
        assert!((found.value - 6.0).abs() < 1e-9, "{found:?}");
        assert!(found.value - found.bound <= 1e-9 * found.value);
        assert!(toy.evaluations >= 2, "the rounded plans at least");
    }

    #[test]
    fn tranches_alike_per_block_are_split_on_their_sum() {
        // Three tranches with the same block (a quarter of a unit each), $4, $4.2 and $4.4 per
        // unit, one period of demand 1.3 at a shortfall of $10 a unit. The relaxation fills
        // the cheapest first: z1 = 1, z2 = 0.3 (1.2 quarters): 4 + 1.26 = $5.26. Whole blocks
        // must total 5 quarters or more, or pay for the missing 0.05 at $10:
        //   z1 = 1, z2 = 0.25: 4 + 1.05 + 0.5 = $5.55;  z1 = 1, z2 = 0.5: 4 + 2.1 = $6.10;
        // so $5.55. A split on z2 alone moves the fraction to z3 (z2 ≤ 1 quarter: z3 = 0.05,
        // $5.27); the sum of the counts, 5.2 blocks, is what is whole in every plan, and the
        // split n1 + n2 + n3 ≤ 5 or ≥ 6 bounds both sides at once ($5.55 and $6.10).
        let pieces = vec![vec![cut(13.0, &[-10.0, -10.0, -10.0])]];
        let mut toy = Toy::new(&[4.0, 4.2, 4.4], pieces, &[1.0, 0.3, 0.0]);
        let steps = [Some(0.25), Some(0.25), Some(0.25)];
        let found = run(&mut toy, &[0.0, 0.0, 0.0], &steps);
        assert!((found.value - 5.55).abs() < 1e-9, "{found:?}");
        assert_eq!(found.z, vec![1.0, 0.25, 0.0]);
        // The root and the side of the sum's split that holds the optimum.
        assert!(found.stats.nodes <= 3, "{found:?}");
    }

    #[test]
    fn decisions_without_blocks_stay_fractional() {
        // z1 in halves ($5 a unit), z2 any fraction ($7): demand 0.8 at $10 a unit short.
        // Relaxation: z1 = 0.8, $4. Whole halves of z1 and any z2:
        //   z1 = 0.5, z2 = 0.3: 2.5 + 2.1 = $4.60;  z1 = 1: $5.
        let pieces = vec![vec![cut(8.0, &[-10.0, -10.0])]];
        let mut toy = Toy::new(&[5.0, 7.0], pieces, &[0.8, 0.0]);
        let found = run(&mut toy, &[0.0, 0.0], &[Some(0.5), None]);
        assert!((found.value - 4.6).abs() < 1e-9, "{found:?}");
        assert!((found.z[0] - 0.5).abs() < 1e-12 && (found.z[1] - 0.3).abs() < 1e-9);
    }

    #[test]
    fn min_commit_bounds_the_blocks_from_below() {
        // The first example with z1 ≥ 0.7 (min_commit): its blocks of 1/3 start at 3 (z1 = 1),
        // since 2 blocks are only 0.667: G = 8 + 0 = $8, whatever z2 (it only costs).
        let pieces = vec![vec![cut(18.0, &[-20.0, -20.0])]];
        let mut toy = Toy::new(&[8.0, 9.0], pieces, &[0.9, 0.0]);
        let found = run(&mut toy, &[0.7, 0.0], &[Some(1.0 / 3.0), Some(0.2)]);
        assert!((found.value - 8.0).abs() < 1e-9, "{found:?}");
        assert_eq!(found.z, vec![1.0, 0.0]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig { cases: 48, ..Default::default() })]

        /// On small random masters (2–4 decisions, blocks of 1/1 … 1/7 or none, 1–3 groups of
        /// 1–4 pieces each), the search reaches microlp's own branch-and-bound optimum over the
        /// whole model, to 1e-9, starting from the relaxation's cuts only.
        #[test]
        fn equals_microlps_mip_on_tiny_masters(
            commit in proptest::collection::vec(0.5f64..10.0, 2..5),
            blocks in proptest::collection::vec(0usize..8, 4),
            groups in proptest::collection::vec(
                proptest::collection::vec((0.5f64..20.0, proptest::collection::vec(-30.0f64..0.0, 4)), 1..5),
                1..4,
            ),
        ) {
            let n = commit.len();
            let steps: Vec<Option<f64>> = (0..n)
                .map(|i| (blocks[i] > 0).then(|| 1.0 / blocks[i] as f64))
                .collect();
            let pieces: Vec<Vec<Cut>> = groups
                .iter()
                .map(|g| g.iter().map(|(a, slope)| cut(*a, &slope[..n])).collect())
                .collect();
            let lower = vec![0.0; n];
            let probe = Toy::new(&commit, pieces.clone(), &vec![0.0; n]);
            let (relaxed, _) = relaxation(&probe, &lower);
            for start in [Start::OwnSearchOnly, Start::MicrolpFirst] {
                let mut toy = Toy::new(&commit, pieces.clone(), &relaxed);
                let found = run_from(&mut toy, &lower, &steps, start);
                let mip = independent_mip(&toy, &lower, &steps);
                proptest::prop_assert!(
                    (found.value - mip).abs() <= 1e-9 * mip.abs().max(1.0),
                    "{start:?}: search {} vs MIP {} ({:?})", found.value, mip, found
                );
                proptest::prop_assert!(found.bound <= found.value + 1e-12);
                proptest::prop_assert!((toy.objective(&found.z) - found.value).abs() <= 1e-12 * found.value.abs().max(1.0));
            }
        }

        /// The same with 7–9 decisions in blocks of 1/1 … 1/4, where the splits are no longer
        /// every subset of the counts in play (pairs, kinks, all).
        #[test]
        fn equals_microlps_mip_with_many_decisions(
            commit in proptest::collection::vec(0.5f64..10.0, 7..10),
            blocks in proptest::collection::vec(1usize..5, 9),
            groups in proptest::collection::vec(
                proptest::collection::vec((0.5f64..40.0, proptest::collection::vec(-20.0f64..0.0, 9)), 1..4),
                1..4,
            ),
        ) {
            let n = commit.len();
            let steps: Vec<Option<f64>> = (0..n).map(|i| Some(1.0 / blocks[i] as f64)).collect();
            let pieces: Vec<Vec<Cut>> = groups
                .iter()
                .map(|g| g.iter().map(|(a, slope)| cut(*a, &slope[..n])).collect())
                .collect();
            let lower = vec![0.0; n];
            let probe = Toy::new(&commit, pieces.clone(), &vec![0.0; n]);
            let (relaxed, _) = relaxation(&probe, &lower);
            for start in [Start::OwnSearchOnly, Start::MicrolpFirst] {
                let mut toy = Toy::new(&commit, pieces.clone(), &relaxed);
                let found = run_from(&mut toy, &lower, &steps, start);
                let mip = independent_mip(&toy, &lower, &steps);
                proptest::prop_assert!(
                    (found.value - mip).abs() <= 1e-9 * mip.abs().max(1.0),
                    "{start:?}: search {} vs MIP {} ({:?})", found.value, mip, found
                );
            }
        }
    }
}
