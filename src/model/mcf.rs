//! Model stage, the network engine: a generic min-cost flow (successive shortest paths with
//! Dijkstra on reduced costs, warm-startable) and a max flow (Dinic), on real-valued capacities.
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
#[derive(Debug, Clone)]
pub struct Mcf {
    n: usize,
    /// Per arc slot (forward 2i, reverse 2i+1): head node, residual capacity, cost.
    head: Vec<u32>,
    residual: Vec<f64>,
    cost: Vec<f64>,
    /// Capacity of each forward arc, per arc pair.
    upper: Vec<f64>,
    /// Out-slots of node v: `slots[first[v]..first[v + 1]]`.
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
    /// Below this, residual capacities and imbalances are nothing (relative to the supplies).
    tiny: f64,
    dist: Vec<f64>,
    done: Vec<bool>,
    parent: Vec<u32>,
    heap: BinaryHeap<Entry>,
    cursor: Vec<u32>,
    stack: Vec<u32>,
    state: Vec<u8>,
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

/// Relative size of floating-point noise in a reduced cost (a few ulps of the numbers added).
const REDUCED_COST_NOISE: f64 = 1e-12;

impl Mcf {
    /// A problem on `shape` with every capacity and supply 0.
    pub fn new(shape: &Shape) -> Mcf {
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
        let mut cost = vec![0.0; 2 * m];
        for (i, &(u, v, c)) in shape.arcs.iter().enumerate() {
            head[2 * i] = v as u32;
            head[2 * i + 1] = u as u32;
            cost[2 * i] = c;
            cost[2 * i + 1] = -c;
            slots[fill[u] as usize] = (2 * i) as u32;
            fill[u] += 1;
            slots[fill[v] as usize] = (2 * i + 1) as u32;
            fill[v] += 1;
        }
        Mcf {
            n,
            head,
            residual: vec![0.0; 2 * m],
            cost,
            upper: vec![0.0; m],
            first,
            slots,
            supply: vec![0.0; n],
            excess: vec![0.0; n],
            pi: vec![0.0; n],
            solved: false,
            tiny: 0.0,
            dist: vec![0.0; n],
            done: vec![false; n],
            parent: vec![NONE; n],
            heap: BinaryHeap::new(),
            cursor: vec![0; n],
            stack: Vec::new(),
            state: Vec::new(),
        }
    }

    /// Sets the capacity of a forward arc (finite, ≥ 0); takes effect at the next solve.
    pub fn set_capacity(&mut self, arc: ArcId, capacity: f64) {
        self.upper[arc.0 / 2] = capacity;
    }

    /// Sets what node v sends (> 0) or receives (< 0); supplies must add up to 0.
    pub fn set_supply(&mut self, v: Node, supply: f64) {
        self.supply[v] = supply;
    }

    /// The flow on a forward arc.
    pub fn flow(&self, arc: ArcId) -> f64 {
        self.residual[arc.0 ^ 1]
    }

    /// The cost of the current flow, Σ cost × flow.
    pub fn total_cost(&self) -> f64 {
        (0..self.upper.len())
            .map(|i| self.cost[2 * i] * self.residual[2 * i + 1])
            .sum()
    }

    /// c(u,v) + π(u) − π(v) of a forward arc under the current potentials.
    pub fn reduced_cost(&self, arc: ArcId) -> f64 {
        let tail = self.head[arc.0 ^ 1] as usize;
        let head = self.head[arc.0] as usize;
        self.cost[arc.0] + self.pi[tail] - self.pi[head]
    }

    /// The potential of node v.
    pub fn potential(&self, v: Node) -> f64 {
        self.pi[v]
    }

    /// Solves from nothing: zero flow and zero potentials (optimal for zero supplies, since every
    /// cost is ≥ 0), then shortest paths.
    pub fn solve(&mut self) -> Result<(), FlowError> {
        for (i, &u) in self.upper.iter().enumerate() {
            self.residual[2 * i] = u;
            self.residual[2 * i + 1] = 0.0;
        }
        self.pi.iter_mut().for_each(|p| *p = 0.0);
        self.excess.copy_from_slice(&self.supply);
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
        for i in 0..self.upper.len() {
            let (fwd, rev) = (2 * i, 2 * i + 1);
            let tail = self.head[rev] as usize;
            let head = self.head[fwd] as usize;
            let c = self.cost[fwd];
            let reduced = c + self.pi[tail] - self.pi[head];
            let noise = REDUCED_COST_NOISE * (c.abs() + self.pi[tail].abs() + self.pi[head].abs());
            let upper = self.upper[i];
            let old = self.residual[rev];
            let flow = if reduced < -noise {
                upper
            } else if reduced > noise {
                0.0
            } else {
                old.min(upper)
            };
            self.residual[fwd] = upper - flow;
            self.residual[rev] = flow;
            self.excess[tail] -= flow;
            self.excess[head] += flow;
        }
        match self.settle() {
            Ok(()) => Ok(()),
            Err(_) => self.solve(),
        }
    }

    /// Sends every excess to the deficits along shortest paths of the residual graph (reduced
    /// costs ≥ 0, so Dijkstra), pushing along every shortest path one search admits.
    fn settle(&mut self) -> Result<(), FlowError> {
        self.solved = false;
        let scale = self.supply.iter().map(|b| b.abs()).fold(0.0, f64::max);
        self.tiny = 1e-12 * scale;
        let max_rounds = 4 * (self.n + self.upper.len()) + 64;
        let mut rounds = 0;
        loop {
            if !self.excess.iter().any(|&e| e > self.tiny) {
                break;
            }
            rounds += 1;
            if rounds > max_rounds {
                return Err(FlowError::Stalled { rounds });
            }
            let Some(target) = self.dijkstra() else {
                return Err(FlowError::Infeasible);
            };
            if !self.push_admissible() {
                // Nothing admissible under the new potentials (rounding): push along the
                // search's own shortest path to the deficit it reached.
                self.push_tree_path(target);
            }
        }
        self.solved = true;
        Ok(())
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
                self.heap.push(Entry(0.0, v as u32));
            } else {
                self.dist[v] = f64::INFINITY;
            }
        }
        let mut nearest = None;
        let mut farthest = 0.0f64;
        while let Some(Entry(d, u)) = self.heap.pop() {
            let u = u as usize;
            if self.done[u] || d > self.dist[u] {
                continue;
            }
            self.done[u] = true;
            farthest = d;
            if nearest.is_none() && self.excess[u] < -tiny {
                nearest = Some(u);
            }
            let pu = self.pi[u];
            for s in self.first[u]..self.first[u + 1] {
                let a = self.slots[s as usize] as usize;
                if self.residual[a] <= tiny {
                    continue;
                }
                let v = self.head[a] as usize;
                if self.done[v] {
                    continue;
                }
                let reduced = (self.cost[a] + pu - self.pi[v]).max(0.0);
                let nd = d + reduced;
                if nd < self.dist[v] {
                    self.dist[v] = nd;
                    self.parent[v] = a as u32;
                    self.heap.push(Entry(nd, v as u32));
                }
            }
        }
        let target = nearest?;
        for v in 0..self.n {
            self.pi[v] += if self.done[v] { self.dist[v] } else { farthest };
        }
        Some(target)
    }

    /// Whether a forward or reverse slot is admissible: residual capacity and a reduced cost of
    /// zero (up to rounding).
    fn admissible(&self, a: usize, u: usize) -> bool {
        if self.residual[a] <= self.tiny {
            return false;
        }
        let v = self.head[a] as usize;
        let c = self.cost[a];
        let reduced = c + self.pi[u] - self.pi[v];
        reduced <= REDUCED_COST_NOISE * (c.abs() + self.pi[u].abs() + self.pi[v].abs())
    }

    /// Pushes from every excess node along admissible paths to deficit nodes (a blocking flow
    /// by depth-first search, dead ends skipped for the rest of the round). Returns whether
    /// anything moved.
    fn push_admissible(&mut self) -> bool {
        const FREE: u8 = 0;
        const ON_PATH: u8 = 1;
        const DEAD: u8 = 2;
        let tiny = self.tiny;
        let mut state = std::mem::take(&mut self.state);
        state.clear();
        state.resize(self.n, FREE);
        for v in 0..self.n {
            self.cursor[v] = self.first[v];
        }
        let mut moved = false;
        for origin in 0..self.n {
            while self.excess[origin] > tiny && state[origin] != DEAD {
                // Depth-first search for a deficit over admissible arcs; `stack` holds the arcs.
                self.stack.clear();
                let mut u = origin;
                state[u] = ON_PATH;
                let mut found = None;
                loop {
                    if u != origin && self.excess[u] < -tiny {
                        found = Some(u);
                        break;
                    }
                    let mut advanced = false;
                    while self.cursor[u] < self.first[u + 1] {
                        let a = self.slots[self.cursor[u] as usize] as usize;
                        let v = self.head[a] as usize;
                        if state[v] == FREE && self.admissible(a, u) {
                            self.stack.push(a as u32);
                            state[v] = ON_PATH;
                            u = v;
                            advanced = true;
                            break;
                        }
                        self.cursor[u] += 1;
                    }
                    if advanced {
                        continue;
                    }
                    // Dead end: no admissible path from u to a deficit this round.
                    state[u] = DEAD;
                    match self.stack.pop() {
                        Some(a) => {
                            u = self.head[(a ^ 1) as usize] as usize;
                            self.cursor[u] += 1;
                        }
                        None => break,
                    }
                }
                let Some(target) = found else {
                    break;
                };
                let mut push = self.excess[origin].min(-self.excess[target]);
                for &a in &self.stack {
                    push = push.min(self.residual[a as usize]);
                }
                for &a in &self.stack {
                    let a = a as usize;
                    self.residual[a] -= push;
                    self.residual[a ^ 1] += push;
                    state[self.head[a] as usize] = FREE;
                }
                state[origin] = FREE;
                self.excess[origin] -= push;
                self.excess[target] += push;
                moved = true;
            }
        }
        self.state = state;
        moved
    }

    /// Pushes along the shortest-path tree of the last search into `target`, from the excess
    /// node it starts at (a tree: each node got its parent from a node settled before it).
    fn push_tree_path(&mut self, target: Node) {
        self.stack.clear();
        let mut v = target;
        while self.parent[v] != NONE && self.stack.len() <= self.n {
            let a = self.parent[v];
            self.stack.push(a);
            v = self.head[(a ^ 1) as usize] as usize;
        }
        let origin = v;
        let mut push = self.excess[origin].min(-self.excess[target]);
        for &a in &self.stack {
            push = push.min(self.residual[a as usize]);
        }
        for &a in &self.stack {
            let a = a as usize;
            self.residual[a] -= push;
            self.residual[a ^ 1] += push;
        }
        self.excess[origin] -= push;
        self.excess[target] += push;
    }

    /// Replaces the potentials by marginal node prices of the optimal flow: π(v) = the cost of
    /// the cheapest residual path from `root` to v (what one more unit delivered at v costs),
    /// and for a node no residual path reaches, the least value its residual out-arcs allow
    /// (max over them of π(w) − c), or −∞ clamped to the lowest price when it has none. With
    /// these, the reduced cost of a saturated arc is minus the marginal value of its capacity,
    /// the right derivative of the optimum in that capacity. They remain feasible potentials,
    /// so the next `reoptimize` starts from them.
    pub fn marginal_potentials(&mut self, root: Node) {
        debug_assert!(self.solved);
        let tiny = self.tiny;
        // Shortest distances from root on reduced costs (all ≥ 0), then back to costs.
        self.heap.clear();
        for v in 0..self.n {
            self.done[v] = false;
            self.dist[v] = f64::INFINITY;
        }
        self.dist[root] = 0.0;
        self.heap.push(Entry(0.0, root as u32));
        while let Some(Entry(d, u)) = self.heap.pop() {
            let u = u as usize;
            if self.done[u] || d > self.dist[u] {
                continue;
            }
            self.done[u] = true;
            let pu = self.pi[u];
            for s in self.first[u]..self.first[u + 1] {
                let a = self.slots[s as usize] as usize;
                if self.residual[a] <= tiny {
                    continue;
                }
                let v = self.head[a] as usize;
                if self.done[v] {
                    continue;
                }
                let nd = d + (self.cost[a] + pu - self.pi[v]).max(0.0);
                if nd < self.dist[v] {
                    self.dist[v] = nd;
                    self.heap.push(Entry(nd, v as u32));
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
                for s in self.first[v]..self.first[v + 1] {
                    let a = self.slots[s as usize] as usize;
                    if self.residual[a] <= tiny {
                        continue;
                    }
                    let w = self.head[a] as usize;
                    let bound = self.pi[w] - self.cost[a];
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
        let mcf = Mcf::new(shape);
        MaxFlow {
            n: mcf.n,
            head: mcf.head,
            residual: mcf.residual,
            upper: mcf.upper,
            first: mcf.first,
            slots: mcf.slots,
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
