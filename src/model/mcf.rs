//! Model stage, the network engine: a generic min-cost flow (successive shortest paths with
//! Dijkstra on reduced costs, the admissible flow by Dinic's phases or, on large networks,
//! push-relabel; warm-startable) and a max flow (Dinic), on real-valued capacities.
//! It knows nothing of capplan: `flow` builds capplan's period networks on it.
//!
//! Written here rather than taken from a crate because the networks are tiny (tens of nodes) and
//! solved hundreds of thousands of times with only capacities and supplies changing between
//! solves; the general crates work on integer capacities and solve from nothing. What this needs:
//!
//! - **Exact and deterministic**: flows are sums and differences of capacities and supplies (a
//!   vertex), arcs are scanned in a fixed order, ties broken by node index.
//! - **Warm starts**: `reoptimize` keeps the previous optimal flow and potentials, cuts or fills
//!   the arcs whose capacity changed so every residual arc keeps a non-negative reduced cost,
//!   and settles the imbalances that leaves by shortest paths — a few paths where a solve from
//!   nothing takes dozens.
//! - **Always terminates**: every loop is bounded (Dijkstra settles each node once; each push
//!   empties an arc, an excess or a deficit; the number of rounds is capped) and a breach is an
//!   error, never a spin. The predecessor links walked to push are Dijkstra's shortest-path tree,
//!   which has no cycle by construction, and the walk is bounded by the node count regardless.
//! - **Marginal values**: `marginal_potentials` gives node prices that are an optimal dual whose
//!   capacity duals are the marginal value of one more unit of capacity (the right derivative),
//!   not an arbitrary point of the dual face: the subgradients of the decomposition.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

/// A node of a network.
pub type Node = usize;

/// A forward arc of a network (its reverse is `arc ^ 1` internally).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ArcId(usize);

/// Why a network could not be solved. Both are bugs or numerical breakdowns, not inputs: every
/// capplan network has a penalty arc that keeps it feasible.
#[derive(Debug, Clone, PartialEq)]
pub enum FlowError {
    /// Some excess cannot reach any deficit.
    Infeasible,
    /// The bound on shortest-path rounds or pushes was reached (floating-point degeneracy).
    Stalled { rounds: usize },
}

impl std::fmt::Display for FlowError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FlowError::Infeasible => write!(f, "a network flow has no feasible solution"),
            FlowError::Stalled { rounds } => {
                write!(f, "a network flow made no progress in {rounds} rounds")
            }
        }
    }
}

/// The shape of a network: nodes and arcs with their costs. Capacities and supplies are set on
/// the `Mcf` built from it, so one shape serves every period.
#[derive(Debug, Clone, Default)]
pub struct Shape {
    nodes: usize,
    /// (tail, head, cost) per arc, in the order added.
    arcs: Vec<(Node, Node, f64)>,
}

impl Shape {
    pub fn new(nodes: usize) -> Shape {
        Shape {
            nodes,
            arcs: Vec::new(),
        }
    }

    /// Adds an arc of cost `cost` (≥ 0) from `tail` to `head`; its capacity starts at 0.
    pub fn arc(&mut self, tail: Node, head: Node, cost: f64) -> ArcId {
        debug_assert!(tail < self.nodes && head < self.nodes && cost >= 0.0);
        self.arcs.push((tail, head, cost));
        ArcId(2 * (self.arcs.len() - 1))
    }

    pub fn nodes(&self) -> usize {
        self.nodes
    }
}

/// A min-cost-flow problem on a fixed shape: capacities, supplies, the current flow and node
/// potentials, and the work buffers of its shortest-path searches.
///
/// Parallel arcs (same tail and head) form a *bundle*, kept sorted by cost: a search looks at one
/// arc of a bundle per direction — forward, the cheapest with room; backward, the dearest with
/// flow — since only those can be on a shortest path. capplan's networks have a bundle per
/// (provider or source, supply group) holding every tranche there, so a search scans a few dozen
/// bundles instead of hundreds of tranche arcs.
#[derive(Debug, Clone)]
pub struct Mcf {
    n: usize,
    /// Per arc, in bundle order (each bundle's arcs contiguous, by cost).
    cost: Vec<f64>,
    upper: Vec<f64>,
    flow: Vec<f64>,
    /// The internal index of each arc in the order the shape added them.
    internal: Vec<u32>,
    /// The bundle of each arc.
    bundle: Vec<u32>,
    /// Per bundle: tail, head, its arcs `start..end`, `lo` (no arc before it has room) and `top`
    /// (no arc from it on carries flow); both move lazily.
    tail: Vec<u32>,
    head: Vec<u32>,
    start: Vec<u32>,
    end: Vec<u32>,
    lo: Vec<u32>,
    top: Vec<u32>,
    /// Slots of node v: `slots[first[v]..first[v + 1]]`; slot 2b is bundle b forward (at its
    /// tail), 2b + 1 bundle b backward (at its head).
    first: Vec<u32>,
    slots: Vec<u32>,
    /// b(v): what node v sends (> 0) or receives (< 0).
    supply: Vec<f64>,
    /// b(v) minus the net flow out of v.
    excess: Vec<f64>,
    /// Node potentials π with c(u,v) + π(u) − π(v) ≥ 0 on every residual arc.
    pi: Vec<f64>,
    /// An optimal flow for the current capacities and supplies is in place.
    solved: bool,
    /// A horizon rather than a period network (more than `LARGE_NETWORK_NODES` nodes, or
    /// `over_time`): Dijkstra stops at the nearest deficit and the admissible flow is pushed by
    /// push-relabel.
    large: bool,
    /// Below this, residual capacities and imbalances are nothing (relative to the supplies).
    tiny: f64,
    dist: Vec<f64>,
    done: Vec<bool>,
    /// The step into each node on the last search's shortest-path tree (see `Step`).
    parent: Vec<u32>,
    heap: BinaryHeap<Entry>,
    cursor: Vec<u32>,
    stack: Vec<u32>,
    /// Per node, its level in the admissible graph (steps from the nearest excess), or `NONE`
    /// when unreached or a dead end; and the breadth-first queue that sets them.
    level: Vec<u32>,
    queue: Vec<u32>,
}

const NONE: u32 = u32::MAX;

/// A heap entry of Dijkstra: smaller distance first, then smaller node.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Entry(f64, u32);
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        other.0.total_cmp(&self.0).then(other.1.cmp(&self.1))
    }
}

/// Up to this many nodes Dijkstra finds the next node by scanning distances, not by a heap.
const LINEAR_SCAN_NODES: usize = 64;

/// Above this many nodes (the horizons of deferral, not the period networks) Dijkstra stops at
/// the nearest deficit (the others' potentials rise by its distance, which keeps every reduced
/// cost ≥ 0), and the admissible graph's flow is pushed by push-relabel rather than Dinic.
const LARGE_NETWORK_NODES: usize = 1024;

/// Push-relabel recomputes every label after n / this many relabels: exact labels send the
/// excess straight down to the deficits, where stale ones bounce it along the backlog arcs'
/// zero-cost cycles. On the hourly year with a 24 h window, 32 took 14 s of CPU against 16–17 s
/// for 16 or 128 and 52 s for 1.
const RELABELS_PER_GLOBAL_FRACTION: usize = 32;

/// Relative size of floating-point noise in a reduced cost (a few ulps of the numbers added).
const REDUCED_COST_NOISE: f64 = 1e-12;

/// A sum as if in exact arithmetic, rounded once (Neumaier's compensated summation): what each
/// addition rounds off is kept apart and added back at the end. Written here because the
/// standard library has none and a crate for ten lines is not worth its weight.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct ExactSum {
    sum: f64,
    lost: f64,
}

impl ExactSum {
    pub fn of(value: f64) -> ExactSum {
        ExactSum {
            sum: value,
            lost: 0.0,
        }
    }
    pub fn add(&mut self, x: f64) {
        let sum = self.sum + x;
        self.lost += if self.sum.abs() >= x.abs() {
            (self.sum - sum) + x
        } else {
            (x - sum) + self.sum
        };
        self.sum = sum;
    }
    pub fn value(&self) -> f64 {
        self.sum + self.lost
    }
}

/// A step of a path: an arc taken forward (`2a`) or backward (`2a + 1`).
fn step(arc: usize, backward: bool) -> u32 {
    (2 * arc + backward as usize) as u32
}

impl Mcf {
    /// A problem on `shape` with every capacity and supply 0.
    pub fn new(shape: &Shape) -> Mcf {
        let n = shape.nodes;
        let m = shape.arcs.len();
        // Arcs sorted by (tail, head, cost, order added): bundles are runs of equal (tail, head).
        let mut order: Vec<usize> = (0..m).collect();
        order.sort_by(|&i, &j| {
            let (a, b) = (&shape.arcs[i], &shape.arcs[j]);
            (a.0, a.1)
                .cmp(&(b.0, b.1))
                .then(a.2.total_cmp(&b.2))
                .then(i.cmp(&j))
        });
        let mut internal = vec![0u32; m];
        let mut cost = Vec::with_capacity(m);
        let (mut tail, mut head, mut start, mut end) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for (pos, &i) in order.iter().enumerate() {
            let (u, v, c) = shape.arcs[i];
            internal[i] = pos as u32;
            cost.push(c);
            let new_bundle = tail.is_empty()
                || *tail.last().unwrap() != u as u32
                || *head.last().unwrap() != v as u32;
            if new_bundle {
                tail.push(u as u32);
                head.push(v as u32);
                start.push(pos as u32);
                end.push(pos as u32 + 1);
            } else {
                *end.last_mut().unwrap() = pos as u32 + 1;
            }
        }
        let bundles = tail.len();
        let mut bundle = vec![0u32; m];
        for b in 0..bundles {
            for a in start[b]..end[b] {
                bundle[a as usize] = b as u32;
            }
        }
        let mut degree = vec![0u32; n + 1];
        for b in 0..bundles {
            degree[tail[b] as usize] += 1;
            degree[head[b] as usize] += 1;
        }
        let mut first = vec![0u32; n + 1];
        for v in 0..n {
            first[v + 1] = first[v] + degree[v];
        }
        let mut fill = first.clone();
        let mut slots = vec![0u32; 2 * bundles];
        for b in 0..bundles {
            let (u, v) = (tail[b] as usize, head[b] as usize);
            slots[fill[u] as usize] = (2 * b) as u32;
            fill[u] += 1;
            slots[fill[v] as usize] = (2 * b + 1) as u32;
            fill[v] += 1;
        }
        Mcf {
            n,
            cost,
            upper: vec![0.0; m],
            flow: vec![0.0; m],
            internal,
            bundle,
            lo: start.clone(),
            top: start.clone(),
            tail,
            head,
            start,
            end,
            first,
            slots,
            supply: vec![0.0; n],
            excess: vec![0.0; n],
            pi: vec![0.0; n],
            solved: false,
            large: n > LARGE_NETWORK_NODES,
            tiny: 0.0,
            dist: vec![0.0; n],
            done: vec![false; n],
            parent: vec![NONE; n],
            heap: BinaryHeap::new(),
            cursor: vec![0; n],
            stack: Vec::new(),
            level: vec![NONE; n],
            queue: Vec::new(),
        }
    }

    /// Marks the network as one over many periods (a horizon or a part of one, however small):
    /// solved as the large networks are (`LARGE_NETWORK_NODES`), whose backlog chains Dinic's
    /// phases serve one deficit at a time.
    pub fn over_time(mut self) -> Mcf {
        self.large = true;
        self
    }

    /// Sets the capacity of an arc (finite, ≥ 0); takes effect at the next solve.
    pub fn set_capacity(&mut self, arc: ArcId, capacity: f64) {
        self.upper[self.internal[arc.0 / 2] as usize] = capacity;
    }

    /// Sets what node v sends (> 0) or receives (< 0); supplies must add up to 0.
    pub fn set_supply(&mut self, v: Node, supply: f64) {
        self.supply[v] = supply;
    }

    /// The flow on an arc.
    pub fn flow(&self, arc: ArcId) -> f64 {
        self.flow[self.internal[arc.0 / 2] as usize]
    }

    /// The cost of the current flow, Σ cost × flow.
    pub fn total_cost(&self) -> f64 {
        self.cost.iter().zip(&self.flow).map(|(c, f)| c * f).sum()
    }

    /// c(u,v) + π(u) − π(v) of an arc under the current potentials.
    pub fn reduced_cost(&self, arc: ArcId) -> f64 {
        let a = self.internal[arc.0 / 2] as usize;
        let b = self.bundle_of(a);
        self.cost[a] + self.pi[self.tail[b] as usize] - self.pi[self.head[b] as usize]
    }

    /// The potential of node v.
    pub fn potential(&self, v: Node) -> f64 {
        self.pi[v]
    }

    /// The bundle of an internal arc.
    fn bundle_of(&self, a: usize) -> usize {
        self.bundle[a] as usize
    }

    /// The arc a slot offers now — forward, the cheapest arc of its bundle with room; backward,
    /// the dearest with flow — with the room along it, or None. Moves the bundle's pointers.
    #[inline(always)]
    fn slot_arc(&mut self, s: usize) -> Option<(usize, f64)> {
        let b = s / 2;
        let tiny = self.tiny;
        if s.is_multiple_of(2) {
            let end = self.end[b] as usize;
            let mut a = self.lo[b] as usize;
            while a < end && self.upper[a] - self.flow[a] <= tiny {
                a += 1;
            }
            self.lo[b] = a as u32;
            (a < end).then(|| (a, self.upper[a] - self.flow[a]))
        } else {
            let start = self.start[b] as usize;
            let mut top = self.top[b] as usize;
            while top > start && self.flow[top - 1] <= tiny {
                top -= 1;
            }
            self.top[b] = top as u32;
            (top > start).then(|| (top - 1, self.flow[top - 1]))
        }
    }

    /// The node a slot leads to, and its cost along the slot's direction for arc a.
    #[inline(always)]
    fn slot_head_cost(&self, s: usize, a: usize) -> (usize, f64) {
        let b = s / 2;
        if s.is_multiple_of(2) {
            (self.head[b] as usize, self.cost[a])
        } else {
            (self.tail[b] as usize, -self.cost[a])
        }
    }

    /// Moves `amount` along a step (an arc forward or backward), keeping the bundle's pointers.
    fn push_step(&mut self, st: u32, amount: f64) {
        let a = (st / 2) as usize;
        let b = self.bundle_of(a);
        if st.is_multiple_of(2) {
            self.flow[a] += amount;
            self.top[b] = self.top[b].max(a as u32 + 1);
        } else {
            self.flow[a] -= amount;
            self.lo[b] = self.lo[b].min(a as u32);
        }
    }

    /// The room left along a step.
    fn step_room(&self, st: u32) -> f64 {
        let a = (st / 2) as usize;
        if st.is_multiple_of(2) {
            self.upper[a] - self.flow[a]
        } else {
            self.flow[a]
        }
    }

    /// The node a step starts from.
    fn step_tail(&self, st: u32) -> usize {
        let a = (st / 2) as usize;
        let b = self.bundle_of(a);
        if st.is_multiple_of(2) {
            self.tail[b] as usize
        } else {
            self.head[b] as usize
        }
    }

    /// Every bundle's pointers back to its ends (they move to the right arc when next looked at).
    fn reset_pointers(&mut self) {
        self.lo.copy_from_slice(&self.start);
        self.top.copy_from_slice(&self.end);
    }

    /// Sets `tiny` from the supplies.
    fn set_tiny(&mut self) {
        let scale = self.supply.iter().map(|b| b.abs()).fold(0.0, f64::max);
        self.tiny = 1e-12 * scale;
    }

    /// Solves from nothing: zero flow and zero potentials (optimal for zero supplies, since every
    /// cost is ≥ 0), then shortest paths.
    pub fn solve(&mut self) -> Result<(), FlowError> {
        self.flow.iter_mut().for_each(|f| *f = 0.0);
        self.pi.iter_mut().for_each(|p| *p = 0.0);
        self.excess.copy_from_slice(&self.supply);
        self.set_tiny();
        self.reset_pointers();
        self.settle()
    }

    /// Solves again after capacities or supplies changed, from the previous optimal flow and
    /// potentials (a solve from nothing when there is none): every arc keeps its flow where
    /// optimality allows, an arc of negative reduced cost is filled to its new capacity, one of
    /// positive reduced cost emptied, a flow above the new capacity cut to it; the imbalances
    /// left are settled by shortest paths. Falls back to a solve from nothing if that stalls.
    pub fn reoptimize(&mut self) -> Result<(), FlowError> {
        if !self.solved {
            return self.solve();
        }
        self.excess.copy_from_slice(&self.supply);
        self.set_tiny();
        let tiny = self.tiny;
        for b in 0..self.tail.len() {
            let (u, v) = (self.tail[b] as usize, self.head[b] as usize);
            let (pu, pv) = (self.pi[u], self.pi[v]);
            let mut moved = 0.0;
            let (start, end) = (self.start[b] as usize, self.end[b] as usize);
            let (mut lo, mut top) = (end, start);
            for a in start..end {
                let c = self.cost[a];
                let reduced = c + pu - pv;
                let noise = REDUCED_COST_NOISE * (c.abs() + pu.abs() + pv.abs());
                let upper = self.upper[a];
                let flow = if reduced < -noise {
                    upper
                } else if reduced > noise {
                    0.0
                } else {
                    self.flow[a].min(upper)
                };
                self.flow[a] = flow;
                moved += flow;
                if lo == end && upper - flow > tiny {
                    lo = a;
                }
                if flow > tiny {
                    top = a + 1;
                }
            }
            self.lo[b] = lo as u32;
            self.top[b] = top as u32;
            self.excess[u] -= moved;
            self.excess[v] += moved;
        }
        match self.settle() {
            Ok(()) => Ok(()),
            Err(_) => self.solve(),
        }
    }

    /// After a solve, settles the imbalances the flows really leave, down to `relative` of the
    /// largest supply, in at most `rounds` searches. The solve keeps each node's imbalance up to
    /// date push by push and stops below `tiny` (1e-12 of the largest supply); on a horizon the
    /// source's supply is the whole horizon's demand, and the rounding of those updates left a
    /// class node of an hourly year short by 1e-8 flow units while no node showed an excess to
    /// send: 8K tokens never served in a plan that serves everything. So the imbalances are
    /// summed afresh from the flows first. The flow stays within its capacities whatever happens:
    /// a search that fails or runs out of rounds leaves it as last pushed.
    pub fn polish(&mut self, relative: f64, rounds: usize) {
        if !self.solved {
            return;
        }
        let scale = self.supply.iter().map(|b| b.abs()).fold(0.0, f64::max);
        let tiny = self.tiny;
        self.tiny = relative * scale;
        // The imbalances afresh from the flows, each summed as if exactly: kept up push by push,
        // or summed plainly, the source's (the whole horizon's demand, less tens of thousands of
        // flows) is off by more than the cells' own.
        let mut sums: Vec<ExactSum> = self.supply.iter().map(|&b| ExactSum::of(b)).collect();
        for b in 0..self.tail.len() {
            let (u, v) = (self.tail[b] as usize, self.head[b] as usize);
            for &flow in &self.flow[self.start[b] as usize..self.end[b] as usize] {
                sums[u].add(-flow);
                sums[v].add(flow);
            }
        }
        for (e, sum) in self.excess.iter_mut().zip(&sums) {
            *e = sum.value();
        }
        if self.settle_rounds(rounds).is_err() {
            self.solved = true;
        }
        self.tiny = tiny;
    }

    /// Sends every excess to the deficits along shortest paths of the residual graph (reduced
    /// costs ≥ 0, so Dijkstra), pushing along every shortest path one search admits.
    fn settle(&mut self) -> Result<(), FlowError> {
        self.settle_rounds(4 * (self.n + self.cost.len()) + 64)
    }

    /// `settle` in at most `max_rounds` searches.
    fn settle_rounds(&mut self, max_rounds: usize) -> Result<(), FlowError> {
        self.solved = false;
        let mut rounds = 0;
        loop {
            // Done when no excess or no deficit is left above rounding (the imbalances add up to
            // zero, so what remains on the other side is rounding too: at most n × tiny).
            let tiny = self.tiny;
            if !self.excess.iter().any(|&e| e > tiny) || !self.excess.iter().any(|&e| e < -tiny) {
                break;
            }
            rounds += 1;
            if rounds > max_rounds {
                return Err(FlowError::Stalled { rounds });
            }
            let Some(target) = self.dijkstra() else {
                return Err(FlowError::Infeasible);
            };
            let moved = if self.large {
                self.push_relabel()
            } else {
                self.push_admissible()
            };
            if !moved {
                // Nothing admissible under the new potentials (rounding): push along the
                // search's own shortest path to the deficit it reached.
                self.push_tree_path(target);
            }
        }
        self.solved = true;
        Ok(())
    }

    /// The closest node not yet settled, with its distance: by a scan of the distances on small
    /// graphs (capplan's period networks have a few dozen nodes, where a scan beats a heap), by
    /// the heap otherwise.
    fn next_closest(&mut self) -> Option<(f64, usize)> {
        if self.n <= LINEAR_SCAN_NODES {
            let mut best: Option<(f64, usize)> = None;
            for v in 0..self.n {
                if !self.done[v] && self.dist[v] < best.map_or(f64::INFINITY, |b| b.0) {
                    best = Some((self.dist[v], v));
                }
            }
            return best;
        }
        while let Some(Entry(d, u)) = self.heap.pop() {
            let u = u as usize;
            if !self.done[u] && d <= self.dist[u] {
                return Some((d, u));
            }
        }
        None
    }

    /// Dijkstra on reduced costs from every node with excess at once, over the whole residual
    /// graph; then raises each potential by its distance (unreached nodes by the largest), which
    /// keeps every reduced cost ≥ 0 and makes every arc of a shortest path from an excess 0, so
    /// one search admits paths to every reachable deficit (the primal-dual method). Returns a
    /// deficit reached (the nearest), or None when no deficit is reachable.
    fn dijkstra(&mut self) -> Option<Node> {
        let tiny = self.tiny;
        self.heap.clear();
        for v in 0..self.n {
            self.done[v] = false;
            self.parent[v] = NONE;
            if self.excess[v] > tiny {
                self.dist[v] = 0.0;
                if self.n > LINEAR_SCAN_NODES {
                    self.heap.push(Entry(0.0, v as u32));
                }
            } else {
                self.dist[v] = f64::INFINITY;
            }
        }
        let mut nearest = None;
        let mut farthest = 0.0f64;
        while let Some((d, u)) = self.next_closest() {
            self.done[u] = true;
            farthest = d;
            if nearest.is_none() && self.excess[u] < -tiny {
                nearest = Some(u);
                if self.large {
                    break;
                }
            }
            let pu = self.pi[u];
            for i in self.first[u]..self.first[u + 1] {
                let s = self.slots[i as usize] as usize;
                let Some((a, _)) = self.slot_arc(s) else {
                    continue;
                };
                let (v, c) = self.slot_head_cost(s, a);
                if self.done[v] {
                    continue;
                }
                let nd = d + (c + pu - self.pi[v]).max(0.0);
                if nd < self.dist[v] {
                    self.dist[v] = nd;
                    self.parent[v] = step(a, s % 2 == 1);
                    if self.n > LINEAR_SCAN_NODES {
                        self.heap.push(Entry(nd, v as u32));
                    }
                }
            }
        }
        let target = nearest?;
        for v in 0..self.n {
            self.pi[v] += if self.done[v] { self.dist[v] } else { farthest };
        }
        Some(target)
    }

    /// Whether a slot of u offers an admissible step now (room, and a reduced cost of zero up to
    /// rounding), and to which node.
    #[inline(always)]
    fn admissible(&mut self, u: usize, s: usize) -> Option<(usize, u32)> {
        let (a, _) = self.slot_arc(s)?;
        let (v, c) = self.slot_head_cost(s, a);
        let (pu, pv) = (self.pi[u], self.pi[v]);
        (c + pu - pv <= REDUCED_COST_NOISE * (c.abs() + pu.abs() + pv.abs()))
            .then(|| (v, step(a, s % 2 == 1)))
    }

    /// Pushes from the excess nodes to the deficit nodes along admissible paths (room and a
    /// reduced cost of zero) until none is left: a maximum flow of the admissible graph by
    /// Dinic's phases. Each phase sets levels by a breadth-first search from every excess at
    /// once, then sends a blocking flow along steps one level up, depth first with a cursor per
    /// node; a node found a dead end is dropped from the phase. The levels make the admissible
    /// graph acyclic within a phase, which its zero-cost cycles (a backlog arc and its reverse)
    /// otherwise are not: a plain depth-first search there declared nodes dead that were only
    /// blocked by its own path, and left most of the admissible flow to later Dijkstra rounds
    /// (on an hourly month with deferral, hundreds of rounds at distance 0, one excess each).
    /// Returns whether anything moved.
    fn push_admissible(&mut self) -> bool {
        let tiny = self.tiny;
        let mut moved = false;
        // Each phase raises the distance from the excesses to the nearest deficit in the
        // admissible graph, which is at most n.
        for _phase in 0..=self.n {
            self.level.fill(NONE);
            self.queue.clear();
            for v in 0..self.n {
                if self.excess[v] > tiny {
                    self.level[v] = 0;
                    self.queue.push(v as u32);
                }
            }
            let mut reached = false;
            let mut head = 0;
            while head < self.queue.len() {
                let u = self.queue[head] as usize;
                head += 1;
                if self.excess[u] < -tiny {
                    // A deficit ends the paths through it; nothing beyond it is needed.
                    reached = true;
                    continue;
                }
                for i in self.first[u]..self.first[u + 1] {
                    let s = self.slots[i as usize] as usize;
                    if let Some((v, _)) = self.admissible(u, s) {
                        if self.level[v] == NONE {
                            self.level[v] = self.level[u] + 1;
                            self.queue.push(v as u32);
                        }
                    }
                }
            }
            if !reached {
                break;
            }
            for v in 0..self.n {
                self.cursor[v] = self.first[v];
            }
            let mut phase_moved = false;
            for q in 0..self.queue.len() {
                let origin = self.queue[q] as usize;
                if self.level[origin] != 0 {
                    break;
                }
                while self.excess[origin] > tiny && self.level[origin] != NONE {
                    // Depth first along steps one level up; `stack` holds the steps taken.
                    self.stack.clear();
                    let mut u = origin;
                    let target = loop {
                        if u != origin && self.excess[u] < -tiny {
                            break Some(u);
                        }
                        let mut next = None;
                        while self.cursor[u] < self.first[u + 1] {
                            let s = self.slots[self.cursor[u] as usize] as usize;
                            if let Some((v, st)) = self.admissible(u, s) {
                                if self.level[v] != NONE && self.level[v] == self.level[u] + 1 {
                                    next = Some((v, st));
                                    break;
                                }
                            }
                            self.cursor[u] += 1;
                        }
                        if let Some((v, st)) = next {
                            self.stack.push(st);
                            u = v;
                            continue;
                        }
                        // Dead end for this phase.
                        self.level[u] = NONE;
                        match self.stack.pop() {
                            Some(st) => {
                                u = self.step_tail(st);
                                self.cursor[u] += 1;
                            }
                            None => break None,
                        }
                    };
                    let Some(target) = target else {
                        break;
                    };
                    self.push_stack(origin, target);
                    phase_moved = true;
                }
            }
            moved |= phase_moved;
            if !phase_moved {
                break;
            }
        }
        moved
    }

    /// The slot at index i of node v's slots seen from its bundle's other end u: (u, the slot
    /// of u whose step leads into v).
    fn step_into(&self, i: u32) -> (usize, usize) {
        let s = self.slots[i as usize] as usize ^ 1;
        let b = s / 2;
        let u = if s % 2 == 0 {
            self.tail[b]
        } else {
            self.head[b]
        };
        (u as usize, s)
    }

    /// Labels every node with its distance in steps to the nearest deficit over admissible
    /// residual steps (`NONE` where no deficit is reachable): a breadth-first search backwards
    /// from every deficit at once. Resets the current-step cursors.
    fn global_relabel(&mut self) {
        let tiny = self.tiny;
        self.level.fill(NONE);
        self.queue.clear();
        for v in 0..self.n {
            self.cursor[v] = self.first[v];
            if self.excess[v] < -tiny {
                self.level[v] = 0;
                self.queue.push(v as u32);
            }
        }
        let mut head = 0;
        while head < self.queue.len() {
            let v = self.queue[head] as usize;
            head += 1;
            for i in self.first[v]..self.first[v + 1] {
                let (u, s) = self.step_into(i);
                if self.level[u] == NONE && self.admissible(u, s).is_some() {
                    self.level[u] = self.level[v] + 1;
                    self.queue.push(u as u32);
                }
            }
        }
    }

    /// Pushes from the excess nodes to the deficit nodes along admissible steps until no excess
    /// can reach a deficit: a maximum (pre)flow of the admissible graph by FIFO push-relabel,
    /// with labels recomputed exactly (`global_relabel`) at the start and after every
    /// n / `RELABELS_PER_GLOBAL_FRACTION` relabels. Excess that reaches no deficit stays where it is for the next shortest-path
    /// search, which starts from every excess. Used on the horizons of deferral: there Dinic's
    /// phases each served about one of thousands of deficits along the backlog chains, each
    /// phase a search of the whole horizon; push-relabel moves every excess towards its nearest
    /// deficit at once. Returns whether anything moved.
    fn push_relabel(&mut self) -> bool {
        let tiny = self.tiny;
        let n = self.n;
        let mut moved = false;
        // The work is bounded regardless of rounding: past this the loop returns, and the
        // caller's next search starts from wherever the flow is.
        let mut budget = 64 * (n + self.cost.len());
        self.global_relabel();
        let mut active = std::collections::VecDeque::new();
        let mut queued = std::mem::take(&mut self.done);
        queued.fill(false);
        let enqueue_all =
            |mcf: &Mcf, active: &mut std::collections::VecDeque<u32>, queued: &mut [bool]| {
                for v in 0..mcf.n {
                    queued[v] = mcf.excess[v] > tiny && mcf.level[v] != NONE;
                    if queued[v] {
                        active.push_back(v as u32);
                    }
                }
            };
        enqueue_all(self, &mut active, &mut queued);
        let mut relabels = 0;
        'discharge: while let Some(u) = active.pop_front() {
            let u = u as usize;
            queued[u] = false;
            while self.excess[u] > tiny && self.level[u] != NONE {
                if budget == 0 {
                    break 'discharge;
                }
                budget -= 1;
                if self.cursor[u] == self.first[u + 1] {
                    // Relabel: one more than the lowest labelled admissible neighbour.
                    let mut lowest = NONE;
                    for i in self.first[u]..self.first[u + 1] {
                        let s = self.slots[i as usize] as usize;
                        if let Some((v, _)) = self.admissible(u, s) {
                            lowest = lowest.min(self.level[v]);
                        }
                    }
                    self.level[u] = if lowest as usize >= n - 1 {
                        NONE
                    } else {
                        lowest + 1
                    };
                    self.cursor[u] = self.first[u];
                    relabels += 1;
                    if relabels >= n / RELABELS_PER_GLOBAL_FRACTION {
                        relabels = 0;
                        self.global_relabel();
                        active.clear();
                        enqueue_all(self, &mut active, &mut queued);
                        continue 'discharge;
                    }
                    continue;
                }
                let s = self.slots[self.cursor[u] as usize] as usize;
                match self.admissible(u, s) {
                    Some((v, st))
                        if self.level[v] != NONE && self.level[u] == self.level[v] + 1 =>
                    {
                        let amount = self.excess[u].min(self.step_room(st));
                        self.push_step(st, amount);
                        self.excess[u] -= amount;
                        self.excess[v] += amount;
                        moved = true;
                        if self.excess[v] > tiny && !queued[v] {
                            queued[v] = true;
                            active.push_back(v as u32);
                        }
                    }
                    _ => self.cursor[u] += 1,
                }
            }
        }
        self.done = queued;
        moved
    }

    /// Pushes along the shortest-path tree of the last search into `target`, from the excess
    /// node it starts at (a tree: each node got its parent from a node settled before it; the
    /// walk is bounded by the node count regardless).
    fn push_tree_path(&mut self, target: Node) {
        self.stack.clear();
        let mut v = target;
        while self.parent[v] != NONE && self.stack.len() <= self.n {
            let st = self.parent[v];
            self.stack.push(st);
            v = self.step_tail(st);
        }
        self.push_stack(v, target);
    }

    /// Pushes as much as the path in `stack` (from `origin` to `target`) allows: the least of
    /// the origin's excess, the target's deficit and every step's room.
    fn push_stack(&mut self, origin: Node, target: Node) {
        let mut push = self.excess[origin].min(-self.excess[target]);
        for &st in &self.stack {
            push = push.min(self.step_room(st));
        }
        for i in 0..self.stack.len() {
            let st = self.stack[i];
            self.push_step(st, push);
        }
        self.excess[origin] -= push;
        self.excess[target] += push;
    }

    /// The nodes with a residual path to `target` that does not use the arc `skip` (a bundle
    /// of its own: capplan's bypass from source to sink): a breadth-first search backwards.
    pub fn reaching(&mut self, target: Node, skip: ArcId) -> Vec<bool> {
        let skip = self.bundle_of(self.internal[skip.0 / 2] as usize);
        let mut seen = vec![false; self.n];
        self.queue.clear();
        seen[target] = true;
        self.queue.push(target as u32);
        let mut head = 0;
        while head < self.queue.len() {
            let v = self.queue[head] as usize;
            head += 1;
            for i in self.first[v]..self.first[v + 1] {
                let (u, s) = self.step_into(i);
                if s / 2 != skip && !seen[u] && self.slot_arc(s).is_some() {
                    seen[u] = true;
                    self.queue.push(u as u32);
                }
            }
        }
        seen
    }

    /// Replaces the potentials by marginal node prices of the optimal flow: π(v) = the cost of
    /// the cheapest residual path from `root` to v (what one more unit delivered at v costs),
    /// and for a node no residual path reaches, the least value its residual out-arcs allow
    /// (max over them of π(w) − c), or the lowest price when it has none. With these, the
    /// reduced cost of a saturated arc is minus the marginal value of its capacity, the right
    /// derivative of the optimum in that capacity. They remain feasible potentials, so the next
    /// `reoptimize` starts from them.
    pub fn marginal_potentials(&mut self, root: Node) {
        debug_assert!(self.solved);
        self.heap.clear();
        for v in 0..self.n {
            self.done[v] = false;
            self.dist[v] = f64::INFINITY;
        }
        self.dist[root] = 0.0;
        self.heap.push(Entry(0.0, root as u32));
        while let Some((d, u)) = self.next_closest() {
            self.done[u] = true;
            let pu = self.pi[u];
            for i in self.first[u]..self.first[u + 1] {
                let s = self.slots[i as usize] as usize;
                let Some((a, _)) = self.slot_arc(s) else {
                    continue;
                };
                let (v, c) = self.slot_head_cost(s, a);
                if self.done[v] {
                    continue;
                }
                let nd = d + (c + pu - self.pi[v]).max(0.0);
                if nd < self.dist[v] {
                    self.dist[v] = nd;
                    if self.n > LINEAR_SCAN_NODES {
                        self.heap.push(Entry(nd, v as u32));
                    }
                }
            }
        }
        let base = self.pi[root];
        for v in 0..self.n {
            if self.done[v] {
                self.pi[v] = self.dist[v] + self.pi[v] - base;
            }
        }
        // Unreached nodes: the least potential their residual out-arcs allow, found by
        // relaxation (no residual cycle has negative cost, so n passes suffice).
        let unreached: Vec<usize> = (0..self.n).filter(|&v| !self.done[v]).collect();
        if unreached.is_empty() {
            return;
        }
        for &v in &unreached {
            self.pi[v] = f64::NEG_INFINITY;
        }
        for _ in 0..=unreached.len() {
            let mut changed = false;
            for &v in &unreached {
                for i in self.first[v]..self.first[v + 1] {
                    let s = self.slots[i as usize] as usize;
                    let Some((a, _)) = self.slot_arc(s) else {
                        continue;
                    };
                    let (w, c) = self.slot_head_cost(s, a);
                    let bound = self.pi[w] - c;
                    if bound > self.pi[v] {
                        self.pi[v] = bound;
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        let lowest = (0..self.n)
            .filter(|&v| self.done[v])
            .map(|v| self.pi[v])
            .fold(0.0, f64::min);
        for &v in &unreached {
            if self.pi[v] == f64::NEG_INFINITY {
                self.pi[v] = lowest;
            }
        }
    }
}

/// A max-flow problem (Dinic's blocking flows) on real capacities, with the minimum cut it
/// finds: the nodes still reachable from the source in the residual graph.
#[derive(Debug, Clone)]
pub struct MaxFlow {
    n: usize,
    head: Vec<u32>,
    residual: Vec<f64>,
    upper: Vec<f64>,
    first: Vec<u32>,
    slots: Vec<u32>,
    level: Vec<u32>,
    cursor: Vec<u32>,
    queue: Vec<u32>,
    stack: Vec<u32>,
}

impl MaxFlow {
    /// A max-flow problem on the nodes and arcs of `shape` (costs ignored), capacities 0.
    pub fn new(shape: &Shape) -> MaxFlow {
        let n = shape.nodes;
        let m = shape.arcs.len();
        let mut degree = vec![0u32; n + 1];
        for &(u, v, _) in &shape.arcs {
            degree[u] += 1;
            degree[v] += 1;
        }
        let mut first = vec![0u32; n + 1];
        for v in 0..n {
            first[v + 1] = first[v] + degree[v];
        }
        let mut fill = first.clone();
        let mut slots = vec![0u32; 2 * m];
        let mut head = vec![0u32; 2 * m];
        for (i, &(u, v, _)) in shape.arcs.iter().enumerate() {
            head[2 * i] = v as u32;
            head[2 * i + 1] = u as u32;
            slots[fill[u] as usize] = (2 * i) as u32;
            fill[u] += 1;
            slots[fill[v] as usize] = (2 * i + 1) as u32;
            fill[v] += 1;
        }
        MaxFlow {
            n,
            head,
            residual: vec![0.0; 2 * m],
            upper: vec![0.0; m],
            first,
            slots,
            level: vec![0; shape.nodes],
            cursor: vec![0; shape.nodes],
            queue: Vec::new(),
            stack: Vec::new(),
        }
    }

    pub fn set_capacity(&mut self, arc: ArcId, capacity: f64) {
        self.upper[arc.0 / 2] = capacity;
    }

    /// The flow on a forward arc after `solve`.
    pub fn flow(&self, arc: ArcId) -> f64 {
        self.residual[arc.0 ^ 1]
    }

    /// The maximum flow from `source` to `sink`. Each phase's blocking flow saturates an arc of
    /// every shortest augmenting path, so there are at most n phases; pushes below `tiny` count
    /// as nothing.
    pub fn solve(&mut self, source: Node, sink: Node, tiny: f64) -> f64 {
        for (i, &u) in self.upper.iter().enumerate() {
            self.residual[2 * i] = u;
            self.residual[2 * i + 1] = 0.0;
        }
        let mut total = 0.0;
        for _phase in 0..=self.n {
            if !self.levels(source, tiny) || self.level[sink] == NONE {
                break;
            }
            for v in 0..self.n {
                self.cursor[v] = self.first[v];
            }
            let mut pushed_any = false;
            // At most one push per arc saturated or dead end found, so bounded by the slots.
            for _ in 0..=self.slots.len() {
                let pushed = self.augment(source, sink, tiny);
                if pushed <= tiny {
                    break;
                }
                total += pushed;
                pushed_any = true;
            }
            if !pushed_any {
                break;
            }
        }
        total
    }

    /// Breadth-first levels over residual arcs from the source.
    fn levels(&mut self, source: Node, tiny: f64) -> bool {
        self.level.iter_mut().for_each(|l| *l = NONE);
        self.queue.clear();
        self.level[source] = 0;
        self.queue.push(source as u32);
        let mut i = 0;
        while i < self.queue.len() {
            let u = self.queue[i] as usize;
            i += 1;
            for s in self.first[u]..self.first[u + 1] {
                let a = self.slots[s as usize] as usize;
                let v = self.head[a] as usize;
                if self.residual[a] > tiny && self.level[v] == NONE {
                    self.level[v] = self.level[u] + 1;
                    self.queue.push(v as u32);
                }
            }
        }
        true
    }

    /// One augmenting path in the level graph (depth-first, with current-arc pointers).
    fn augment(&mut self, source: Node, sink: Node, tiny: f64) -> f64 {
        self.stack.clear();
        let mut u = source;
        loop {
            if u == sink {
                let push = self
                    .stack
                    .iter()
                    .map(|&a| self.residual[a as usize])
                    .fold(f64::INFINITY, f64::min);
                for &a in &self.stack {
                    let a = a as usize;
                    self.residual[a] -= push;
                    self.residual[a ^ 1] += push;
                }
                return push;
            }
            let mut advanced = false;
            while self.cursor[u] < self.first[u + 1] {
                let a = self.slots[self.cursor[u] as usize] as usize;
                let v = self.head[a] as usize;
                if self.residual[a] > tiny && self.level[v] == self.level[u].wrapping_add(1) {
                    self.stack.push(a as u32);
                    u = v;
                    advanced = true;
                    break;
                }
                self.cursor[u] += 1;
            }
            if advanced {
                continue;
            }
            // Dead end: no path from u this phase.
            self.level[u] = NONE;
            match self.stack.pop() {
                Some(a) => {
                    u = self.head[(a ^ 1) as usize] as usize;
                    self.cursor[u] += 1;
                }
                None => return 0.0,
            }
        }
    }

    /// Whether node v is on the source side of the minimum cut (reachable from the source in the
    /// residual graph) after `solve`.
    pub fn source_side(&mut self, source: Node, tiny: f64) -> Vec<bool> {
        self.levels(source, tiny);
        self.level.iter().map(|&l| l != NONE).collect()
    }

    /// Whether node v can still reach the sink in the residual graph after `solve`: the nodes
    /// off the source side of the largest source side of a minimum cut. An arc from the source
    /// into such a node is in every minimum cut, so one more unit of its capacity is carried.
    pub fn reaches_sink(&mut self, sink: Node, tiny: f64) -> Vec<bool> {
        let mut seen = vec![false; self.n];
        self.queue.clear();
        seen[sink] = true;
        self.queue.push(sink as u32);
        let mut i = 0;
        while i < self.queue.len() {
            let v = self.queue[i] as usize;
            i += 1;
            // A residual arc u → v is the slot paired with v's slot towards u.
            for s in self.first[v]..self.first[v + 1] {
                let b = self.slots[s as usize] as usize;
                let u = self.head[b] as usize;
                if !seen[u] && self.residual[b ^ 1] > tiny {
                    seen[u] = true;
                    self.queue.push(u as u32);
                }
            }
        }
        seen
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two suppliers at prices 1 and 3 (capacities 5 and 10) and a penalty arc at 100, one
    /// demand of 8: the cheap one is used up (5 × 1), the rest from the dearer (3 × 3) = 14.
    fn two_suppliers() -> (Mcf, [ArcId; 3]) {
        // 0 source, 1 demand.
        let mut shape = Shape::new(2);
        let cheap = shape.arc(0, 1, 1.0);
        let dear = shape.arc(0, 1, 3.0);
        let penalty = shape.arc(0, 1, 100.0);
        let mut m = Mcf::new(&shape);
        m.set_capacity(cheap, 5.0);
        m.set_capacity(dear, 10.0);
        m.set_capacity(penalty, 1e6);
        m.set_supply(0, 8.0);
        m.set_supply(1, -8.0);
        (m, [cheap, dear, penalty])
    }

    #[test]
    fn cheapest_first() {
        let (mut m, [cheap, dear, penalty]) = two_suppliers();
        m.solve().unwrap();
        assert_eq!(m.flow(cheap), 5.0);
        assert_eq!(m.flow(dear), 3.0);
        assert_eq!(m.flow(penalty), 0.0);
        assert_eq!(m.total_cost(), 14.0);
    }

    #[test]
    fn marginal_value_of_capacity_is_the_price_difference() {
        // One more unit of the cheap arc replaces a unit of the dear one: worth 3 − 1 = 2. The
        // dear arc has room, so its capacity is worth nothing.
        let (mut m, [cheap, dear, _]) = two_suppliers();
        m.solve().unwrap();
        m.marginal_potentials(0);
        assert_eq!(-m.reduced_cost(cheap), 2.0);
        assert!(m.reduced_cost(dear) >= 0.0);
    }

    #[test]
    fn a_zero_capacity_arc_is_worth_what_it_would_replace() {
        // The cheap arc at capacity 0: one unit of it would replace a unit at price 3 → worth 2,
        // not the arbitrary large value other optimal duals allow.
        let (mut m, [cheap, _, _]) = two_suppliers();
        m.set_capacity(cheap, 0.0);
        m.solve().unwrap();
        m.marginal_potentials(0);
        assert_eq!(m.total_cost(), 24.0);
        assert_eq!(-m.reduced_cost(cheap), 2.0);
    }

    #[test]
    fn warm_start_after_capacity_and_supply_changes_matches_a_cold_solve() {
        let (mut warm, arcs) = two_suppliers();
        warm.solve().unwrap();
        for (cheap_cap, dear_cap, demand) in [
            (2.0, 10.0, 8.0),
            (9.0, 1.0, 12.0),
            (0.0, 0.0, 3.0),
            (5.0, 10.0, 20.0),
        ] {
            warm.set_capacity(arcs[0], cheap_cap);
            warm.set_capacity(arcs[1], dear_cap);
            warm.set_supply(0, demand);
            warm.set_supply(1, -demand);
            warm.reoptimize().unwrap();
            let mut cold = warm.clone();
            cold.solve().unwrap();
            assert_eq!(warm.total_cost(), cold.total_cost());
            let expected = cheap_cap.min(demand) * 1.0
                + dear_cap.min((demand - cheap_cap).max(0.0)) * 3.0
                + (demand - cheap_cap - dear_cap).max(0.0) * 100.0;
            assert_eq!(warm.total_cost(), expected);
        }
    }

    /// A horizon of `periods` periods glued by backlog arcs, as deferral builds: per period two
    /// supplies (price 1 and 3) into a group, the group into the class at 0, a penalty arc at
    /// 100, and a backlog arc from class(t + 1) to class(t) carrying at most the last 6
    /// periods' demand. Capacities and demands from a fixed pseudo-random sequence.
    fn horizon(periods: usize, seed: u64) -> (Mcf, Vec<ArcId>) {
        let mut state = seed;
        let mut next = move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) as f64 / (1u64 << 31) as f64
        };
        let mut shape = Shape::new(1 + 2 * periods);
        let (group, class) = (|t: usize| 1 + 2 * t, |t: usize| 2 + 2 * t);
        let mut supply_arcs = Vec::new();
        let mut rest = Vec::new();
        let demand: Vec<f64> = (0..periods).map(|_| 1.0 + 9.0 * next()).collect();
        for t in 0..periods {
            supply_arcs.push(shape.arc(0, group(t), 1.0));
            supply_arcs.push(shape.arc(0, group(t), 3.0));
            rest.push((shape.arc(group(t), class(t), 0.0), f64::INFINITY));
            rest.push((shape.arc(0, class(t), 100.0), demand[t]));
            if t + 1 < periods {
                let room: f64 = demand[t.saturating_sub(5)..=t].iter().sum();
                rest.push((shape.arc(class(t + 1), class(t), 0.0), room));
            }
        }
        let mut mcf = Mcf::new(&shape);
        for (arc, capacity) in rest {
            mcf.set_capacity(arc, capacity.min(1e6));
        }
        for &arc in &supply_arcs {
            mcf.set_capacity(arc, 8.0 * next());
        }
        mcf.set_supply(0, demand.iter().sum());
        for t in 0..periods {
            mcf.set_supply(class(t), -demand[t]);
        }
        (mcf, supply_arcs)
    }

    #[test]
    fn push_relabel_and_dinic_find_the_same_optimum_on_a_horizon() {
        for seed in 1..6 {
            let (mut relabel, arcs) = horizon(300, seed);
            relabel.large = true;
            let mut dinic = relabel.clone();
            dinic.large = false;
            relabel.solve().unwrap();
            dinic.solve().unwrap();
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(1.0);
            assert!(
                close(relabel.total_cost(), dinic.total_cost()),
                "seed {seed}"
            );
            // Warm starts after capacity changes, against a cold solve by the other method.
            for round in 0..3 {
                for (i, &arc) in arcs.iter().enumerate() {
                    if (i + round) % 3 == 0 {
                        let capacity = relabel.upper[relabel.internal[arc.0 / 2] as usize];
                        relabel.set_capacity(arc, capacity * 0.5 + round as f64);
                        dinic.set_capacity(arc, capacity * 0.5 + round as f64);
                    }
                }
                relabel.reoptimize().unwrap();
                dinic.solve().unwrap();
                assert!(
                    close(relabel.total_cost(), dinic.total_cost()),
                    "seed {seed}, round {round}: {} against {}",
                    relabel.total_cost(),
                    dinic.total_cost()
                );
                // Every node balanced.
                assert!(relabel.excess.iter().all(|e| e.abs() <= 1e-9));
            }
        }
    }

    #[test]
    fn max_flow_and_its_cut() {
        // source 0 → a 1 (cap 4), source → b 2 (cap 6); a → sink 3 (cap 10), b → sink (cap 2):
        // max flow 4 + 2 = 6; b's outlet is the bottleneck, a's inlet the other.
        let mut shape = Shape::new(4);
        let sa = shape.arc(0, 1, 0.0);
        let sb = shape.arc(0, 2, 0.0);
        let at = shape.arc(1, 3, 0.0);
        let bt = shape.arc(2, 3, 0.0);
        let mut f = MaxFlow::new(&shape);
        f.set_capacity(sa, 4.0);
        f.set_capacity(sb, 6.0);
        f.set_capacity(at, 10.0);
        f.set_capacity(bt, 2.0);
        assert_eq!(f.solve(0, 3, 1e-12), 6.0);
        let side = f.source_side(0, 1e-12);
        assert_eq!(side, vec![true, false, true, false]);
        assert_eq!(f.flow(sa), 4.0);
    }
}
