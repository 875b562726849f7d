//! Model stage, whole blocks: a branch and bound of our own over a cutting-plane master
//! ("branch-and-Benders-cut"), shared by the decomposition (`decompose`) and robust plans
//! (`robust`).
//!
//! The objective G(z) = commitment + dispatch is convex in the decision fractions z, and the
//! master holds a model of it from below (the commitment plus the cuts found so far). Where
//! reservations come in whole blocks, z(i) = n(i)·step(i) with n(i) whole. A node is a region of
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
//! 3. a fractional point is rounded to the nearest whole blocks and evaluated when the model
//!    leaves the rounded plan a chance to beat the best one (an incumbent);
//! 4. the node is split on a sum of its fractional counts, n(S) = Σ_{i∈S} n(i), into
//!    n(S) ≤ ⌊n(S)⌋ and n(S) ≥ ⌈n(S)⌉ (valid: every n(S) of whole blocks is whole). Splitting on
//!    one count at a time is the textbook rule, and it fails here: blocks of the same size serve
//!    alike, so the dispatch cost has kinks where a *total* of blocks (a region's, or of the
//!    tranches available in some hours) meets demand, and the LP answers a bound on one count by
//!    moving the fraction to another at almost no cost. On a synthetic hourly year with six
//!    fractional counts that search had not closed a gap of 6.5e-8 after 28,000 nodes; splitting
//!    on the total closed it in five. The sum is chosen by strong branching: both children's LPs
//!    are solved for every candidate (single counts, and sums of the fractional counts: all of
//!    them up to `MAX_CANDIDATES`, else pairs, all-but-one and all), and the split whose worse
//!    child has the highest bound wins; those LPs are the children's first bounds.
//!
//! Nodes are taken best bound first (ties: deeper first, then in the order made), so the search
//! is deterministic. It stops when the best plan is within the relative gap of the least bound
//! of the open nodes: that bound is reported with the plan.

use std::collections::{BinaryHeap, HashSet};
use std::time::Instant;

use super::solve::WarmLp;
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

/// Nodes, and evaluations, after which the search gives up (a solver error).
const MAX_NODES: usize = 20_000;
const MAX_EVALUATIONS: usize = 5_000;

/// At most this many splits are tried at a node (each costs two LPs), single counts aside.
const MAX_CANDIDATES: usize = 64;

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
    /// Master LPs solved, strong branching's included (most from their parent's basis).
    pub master_lps: usize,
    /// Seconds in those LPs.
    pub master_seconds: f64,
    /// Points at which every period was evaluated.
    pub evaluations: usize,
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

    /// The splits to try at a point: sums over `base` (the fractional counts and those the
    /// LP moved since the parent's point) whose value is fractional. Every subset of `base` when
    /// it is small (at most `ALL_SUBSETS_BELOW` counts); else each fractional count alone, the
    /// counts of each kink of the model (`kinks`: where the LP sits between two cuts, the
    /// tranches whose slopes differ, which is where a total of blocks meets a demand), pairs with
    /// a fractional count, and all of `base` and of the fractional counts.
    fn candidates(
        &self,
        base: &[usize],
        fractional: &[usize],
        counts: &[f64],
        kinks: &[Vec<f64>],
    ) -> Vec<Vec<usize>> {
        let f = base.len();
        let mut sets: Vec<Vec<usize>> = Vec::new();
        if f < ALL_SUBSETS_BELOW {
            // Every subset, smallest first.
            let mut masks: Vec<u32> = (1..(1u32 << f)).collect();
            masks.sort_by_key(|m| (m.count_ones(), *m));
            sets.extend(masks.into_iter().map(|m| {
                (0..f)
                    .filter(|b| m >> b & 1 == 1)
                    .map(|b| base[b])
                    .collect()
            }));
        } else {
            sets.extend(fractional.iter().map(|&i| vec![i]));
            // A kink's counts: those whose slope per block differs between the cuts.
            for h in kinks {
                let per_block: Vec<f64> = base
                    .iter()
                    .map(|&i| (h[i] * self.decisions.steps[i].expect("a count")).abs())
                    .collect();
                let top = per_block.iter().copied().fold(0.0f64, f64::max);
                if top > 0.0 {
                    sets.push(
                        base.iter()
                            .zip(&per_block)
                            .filter(|(_, h)| **h > 1e-6 * top)
                            .map(|(&i, _)| i)
                            .collect(),
                    );
                }
            }
            sets.push(base.to_vec());
            sets.push(fractional.to_vec());
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
        // Singletons always (the textbook split); the others up to the cap.
        let singles = sets.iter().filter(|s| s.len() == 1).count();
        sets.truncate(MAX_CANDIDATES.max(singles));
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
        let mut rounded_once = false;
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
            // An incumbent: the point rounded to the nearest whole blocks, once per node, when
            // the model leaves it a chance; its cuts may move the LP.
            if !rounded_once
                && !self.evaluated.contains(&key(&nearest))
                && self.master.model(&nearest) < self.cutoff()
            {
                rounded_once = true;
                self.plan(nearest)?;
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
            for set in self.candidates(&base, &fractional, &counts, &kinks) {
                let sides = self.split(&node, &current, bound, &set, &counts)?;
                let score = (
                    sides[0].bound.min(sides[1].bound),
                    sides[0].bound.max(sides[1].bound),
                );
                if best.as_ref().is_none_or(|(s, _)| score > *s) {
                    best = Some((score, sides));
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
