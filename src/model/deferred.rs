//! Model stage, reading back a plan with deferral. Tokens that may wait couple the periods, so the
//! dispatch given z is no longer one min-cost flow per period: it is the time-expanded LP of the
//! whole horizon with z fixed (`Reservations::Fixed`), solved by the run's backend, then cleaned
//! so that every reported number obeys the model:
//!
//! - what each (service period, tranche, class) serves is read from the LP (or the network, see
//!   `dispatch`), clipped at zero, with an LP's values below `NOISE` of the scale's flow unit
//!   dropped (the network's flows are exact and kept), and scaled down wherever a tranche's
//!   capacity A·cap·z is exceeded;
//! - that service is then assigned to arrivals earliest first (FIFO) within their windows, each
//!   arrival up to what the LP served of it: the flow costs depend only on where and when tokens
//!   are served, so any assignment the windows allow costs the same, and FIFO makes it one
//!   definite answer instead of an interior point's blend of equally good ones (and, for nested
//!   windows like these, it serves everything the LP's assignment did);
//! - a remainder below `NOISE` of the cell (or of the flow unit) goes to the arrival's largest flow
//!   with room for it (capacity and share cap, each within `NOISE` of its bound);
//! - with the share cap, a provider above s · B(t′) (by more than `NOISE`: the LP's noise) has its
//!   flows in t′ scaled down to it;
//! - unserved demand is demand − served per arrival cell, so served + unserved = demand exactly.
//!
//! N-1 shortfalls are read from the LP per (lost provider, arrival, class) and snapped like the
//! plan's own (`extract::finish`). A backend that stops short of an optimum (an interior point's
//! AlmostSolved) is replaced by microlp's simplex for the dispatch: exact, and slower.

use std::collections::{BTreeMap, VecDeque};

use rayon::prelude::*;

use super::solve::SolverKind;
use super::{BuildOptions, Reservations};
use crate::error::Result;
use crate::facts::{ClassId, Facts, PeriodId, ProviderId, TrancheId};
use crate::plan::{PlanFlow, ResilienceShortfall, Unserved};
use crate::scenario::Policy;

/// Relative size below which a solver's value is noise (as in `extract`).
const NOISE: f64 = 1e-9;

/// Shortfalls of at most this share of a cell's demand are an interior point's noise in z (as in
/// `extract`).
const Z_NOISE: f64 = 1e-7;

/// The dispatch given z with deferral. With z fixed, the plan's own dispatch and each N-1 block
/// are separate problems: the plan is one min-cost flow over the horizon (`waiting`), or with a
/// share cap (whose base depends on which arrivals go unserved) the horizon's LP with the
/// reservations fixed, solved by `backend`; each lost provider's block is one max flow. Raw
/// flows, assigned to arrivals earliest first, and N-1 shortfalls per (lost provider, arrival,
/// class).
pub(super) fn dispatch(
    facts: &Facts,
    options: &BuildOptions,
    policy: &Policy,
    capacity_fraction: &[f64],
    backend: SolverKind,
) -> Result<(Vec<PlanFlow>, Vec<ResilienceShortfall>)> {
    let unit = options.scale.tokens_per_minute_per_unit;
    let minutes = &facts.period_minutes;
    // Every arrival's demand, tokens: what earliest-first may assign to it at most.
    let mut target: Vec<Vec<f64>> = (0..facts.period_count())
        .map(|t| {
            facts.class_demand_tpm[t]
                .iter()
                .map(|d| d * minutes[t])
                .collect()
        })
        .collect();
    let service = if options.share_cap {
        let (service, never_served) =
            lp_service(facts, options, policy, capacity_fraction, backend)?;
        // The share base counts never-served arrivals: the LP's own, exactly.
        for ((t, c), tokens) in never_served {
            let cell = &mut target[t][c];
            *cell = (*cell - tokens).max(0.0);
        }
        service
    } else {
        // The network's schedule meets the Hall conditions over whole arrivals, so earliest-first
        // serves all of it (whatever it leaves of an arrival is never served).
        let mut plan = super::waiting::PlanHorizon::new(facts, unit);
        plan.solve(facts, capacity_fraction, &[])?;
        plan.polish();
        plan.service(facts)
    };
    let flows = plan_flows(facts, first_in_first_out(facts, &service, &target));
    let mut losses = Vec::new();
    if options.provider_loss {
        // Each lost provider's block is a network of its own: solved side by side, read back in
        // provider order.
        let blocks = (0..facts.providers.len())
            .into_par_iter()
            .map(|q| {
                let mut block =
                    super::waiting::LossHorizon::new(facts, policy, unit, ProviderId(q));
                block.solve(facts, capacity_fraction)?;
                block.polish();
                Ok(block.shortfalls(facts))
            })
            .collect::<Result<Vec<_>>>()?;
        losses.extend(blocks.into_iter().flatten());
    }
    Ok((flows, losses))
}

/// What each (service period, tranche, class) serves, tokens per minute, and the never-served
/// tokens of each (arrival period, class): the horizon's LP of the plan's own dispatch with the
/// reservations fixed (no N-1 rows), solved by `backend`.
type Service = BTreeMap<(usize, usize, usize), f64>;
/// Never-served tokens per (arrival period, class).
type NeverServed = Vec<((usize, usize), f64)>;
fn lp_service(
    facts: &Facts,
    options: &BuildOptions,
    policy: &Policy,
    capacity_fraction: &[f64],
    backend: SolverKind,
) -> Result<(Service, NeverServed)> {
    let options = BuildOptions {
        reservations: Reservations::Fixed(capacity_fraction.to_vec()),
        provider_loss: false,
        ..options.clone()
    };
    let model = super::build_with(policy, facts, options);
    // The read-back must be an optimum: where the backend stops short of one (an interior
    // point's AlmostSolved), microlp's simplex, exact and slower, dispatches instead.
    let solved = match super::solve::solve(&model, backend) {
        Err(crate::Error::Solver(_)) if backend != SolverKind::Microlp => {
            super::solve::solve(&model, SolverKind::Microlp)?
        }
        other => other?,
    };
    let unit = model.scale().tokens_per_minute_per_unit;
    let mut service = Service::new();
    for x in &model.flows {
        let v = solved.values[x.col.0];
        if v > 0.0 {
            *service
                .entry((x.period.0, x.tranche.0, x.class.0))
                .or_default() += v * unit;
        }
    }
    let never_served = model
        .unserved
        .iter()
        .map(|u| {
            let tokens = solved.values[u.col.0].max(0.0) * unit * facts.period_minutes[u.period.0];
            ((u.period.0, u.class.0), tokens)
        })
        .collect();
    Ok((service, never_served))
}

/// The tokens per minute below which an LP value is noise: `NOISE` of the larger of the cell's
/// own size and the scale's flow unit (a power of ten near the largest demand cell), since a
/// backend's tolerances are relative to the whole problem, not to each cell.
fn noise_tpm(size_tpm: f64, unit_tpm: f64) -> f64 {
    NOISE * size_tpm.max(unit_tpm)
}

/// Raises z of decision tranches that are used up in a service period of an arrival with a
/// noise-sized shortfall, by that shortfall over their capacity there (at most 1): an interior
/// point's z a hair below the breakpoint it means. Returns whether any z moved.
pub(super) fn raise_binding(facts: &Facts, flows: &[PlanFlow], z: &mut [f64]) -> bool {
    let n_t = facts.period_count();
    let n_k = facts.tranches.len();
    let mut served_tokens = vec![vec![0.0; facts.classes.len()]; n_t];
    let mut used = vec![vec![0.0; n_k]; n_t];
    for x in flows {
        served_tokens[x.arrival.0][x.class.0] += facts.tokens(x.period, x.tokens_per_minute);
        used[x.period.0][x.tranche.0] += x.tokens_per_minute;
    }
    let mut raise = vec![0.0f64; n_k];
    for t in facts.all_periods() {
        for (c, class) in facts.classes.iter().enumerate() {
            let demand_tokens = facts.tokens(t, facts.class_demand_tpm[t.0][c]);
            let left = demand_tokens - served_tokens[t.0][c];
            // What the read-back's noise rule settles (NOISE of the cell) needs no raise: a second
            // dispatch for a tenth of a token left 1.6K tokens of an hourly year unserved.
            if left <= NOISE * demand_tokens || left > Z_NOISE * demand_tokens {
                continue;
            }
            for s in facts.service_periods(ClassId(c), t) {
                for k in 0..n_k {
                    let cap = facts.available_tpm[s.0][k] * z[k];
                    let binding = facts.tranches[k].has_reservation_decision
                        && facts.tranches[k].serves(class)
                        && z[k] < 1.0
                        && cap > 0.0
                        && used[s.0][k] >= cap * (1.0 - 1e-12);
                    if binding {
                        let per_fraction = facts.tokens(s, facts.available_tpm[s.0][k]);
                        raise[k] = raise[k].max(left / per_fraction);
                    }
                }
            }
        }
    }
    super::extract::apply_raise(facts, &raise, z)
}

/// One piece of service: tranche k serves class c's tokens of `arrival` in service period
/// `period`, tokens over the period.
struct Piece {
    period: usize,
    tranche: usize,
    class: usize,
    arrival: usize,
    tokens: f64,
}

/// The raw flows of the dispatch LP made to obey the model (see the module docs): flows sorted by
/// (service period, tranche, class, arrival) and the unserved demand per (arrival, class).
pub(super) fn clean(
    facts: &Facts,
    raw: &[PlanFlow],
    capacity_fraction: &[f64],
    share_cap: Option<f64>,
    unit_tpm: f64,
) -> (Vec<PlanFlow>, Vec<Unserved>) {
    let n_t = facts.period_count();
    let n_c = facts.classes.len();
    let minutes = &facts.period_minutes;
    let demand_tokens = |t: usize, c: usize| facts.class_demand_tpm[t][c] * minutes[t];

    // What the LP served of each arrival cell (tokens, at most its demand; all of it when the
    // rest is noise), and what each (service period, tranche, class) serves (tokens per minute).
    let mut target = vec![vec![0.0; n_c]; n_t];
    let mut service: BTreeMap<(usize, usize, usize), f64> = BTreeMap::new();
    for x in raw {
        let v = x.tokens_per_minute.max(0.0);
        target[x.arrival.0][x.class.0] += v * minutes[x.period.0];
        *service
            .entry((x.period.0, x.tranche.0, x.class.0))
            .or_default() += v;
    }
    for (t, row) in target.iter_mut().enumerate() {
        for (c, got) in row.iter_mut().enumerate() {
            let d = demand_tokens(t, c);
            *got = got.min(d);
            if d - *got <= noise_tpm(facts.class_demand_tpm[t][c], unit_tpm) * minutes[t] {
                *got = d;
            }
        }
    }
    // An LP's values below noise are dropped; the network's (no share cap) are exact flows, and
    // a small one can be all that serves a token (dropping one of 3 tokens/min left 198 tokens
    // of an hourly week never served).
    if share_cap.is_some() {
        service.retain(|_, v| *v > noise_tpm(0.0, unit_tpm));
    }

    // Capacity: a tranche's service in a period at most A·cap·z.
    let capacity = |t: usize, k: usize| facts.available_tpm[t][k] * capacity_fraction[k];
    let mut used: BTreeMap<(usize, usize), f64> = BTreeMap::new();
    for (&(t, k, _), &v) in &service {
        *used.entry((t, k)).or_default() += v;
    }
    for ((t, k, _), v) in service.iter_mut() {
        let total = used[&(*t, *k)];
        let cap = capacity(*t, *k);
        if total > cap {
            *v *= if total > 0.0 {
                cap.max(0.0) / total
            } else {
                0.0
            };
        }
    }
    let pieces = first_in_first_out(facts, &service, &target);

    // Served + unserved = demand per arrival cell; noise goes to the arrival's largest flow with
    // room for it.
    let mut pieces = pieces;
    let mut served = vec![vec![0.0; n_c]; n_t];
    let mut used_tpm: BTreeMap<(usize, usize), f64> = BTreeMap::new();
    let mut of_arrival: Vec<Vec<Vec<usize>>> = vec![vec![Vec::new(); n_c]; n_t];
    for (i, p) in pieces.iter().enumerate() {
        served[p.arrival][p.class] += p.tokens;
        *used_tpm.entry((p.period, p.tranche)).or_default() += p.tokens / minutes[p.period];
        of_arrival[p.arrival][p.class].push(i);
    }
    let unserved_tpm = |served: &Vec<Vec<f64>>, t: usize| -> f64 {
        (0..n_c)
            .map(|c| (demand_tokens(t, c) - served[t][c]).max(0.0) / minutes[t])
            .sum()
    };
    let mut provider_tpm = vec![vec![0.0; facts.providers.len()]; n_t];
    let mut served_in = vec![0.0; n_t];
    for p in &pieces {
        let tpm = p.tokens / minutes[p.period];
        provider_tpm[p.period][facts.tranches[p.tranche].provider.0] += tpm;
        served_in[p.period] += tpm;
    }
    for t in 0..n_t {
        for c in 0..n_c {
            let d = demand_tokens(t, c);
            if d <= 0.0 {
                continue;
            }
            let left = (d - served[t][c]).max(0.0);
            let noise = noise_tpm(facts.class_demand_tpm[t][c], unit_tpm) * minutes[t];
            if left > 0.0 && left <= noise {
                // Within NOISE of a bound counts as room: z on its reporting grid can sit that
                // far below the solver's z.
                let room = |i: usize| {
                    let p = &pieces[i];
                    let k_room = capacity(p.period, p.tranche) * (1.0 + NOISE)
                        - used_tpm[&(p.period, p.tranche)];
                    let share_room = share_cap.map_or(f64::INFINITY, |s| {
                        let base = served_in[p.period] + unserved_tpm(&served, p.period);
                        s * base * (1.0 + NOISE)
                            - provider_tpm[p.period][facts.tranches[p.tranche].provider.0]
                    });
                    k_room.min(share_room) * minutes[p.period]
                };
                let best = of_arrival[t][c]
                    .iter()
                    .copied()
                    .filter(|&i| room(i) >= left)
                    .max_by(|&a, &b| pieces[a].tokens.total_cmp(&pieces[b].tokens));
                if let Some(i) = best {
                    let p = &mut pieces[i];
                    let tpm = left / minutes[p.period];
                    p.tokens += left;
                    served[t][c] += left;
                    *used_tpm
                        .get_mut(&(p.period, p.tranche))
                        .expect("a used tranche") += tpm;
                    provider_tpm[p.period][facts.tranches[p.tranche].provider.0] += tpm;
                    served_in[p.period] += tpm;
                }
            }
        }
    }
    if let Some(s) = share_cap {
        enforce_share_cap(facts, &mut pieces, &mut served, s);
    }
    let mut unserved = Vec::new();
    for t in 0..n_t {
        for c in 0..n_c {
            let left = (demand_tokens(t, c) - served[t][c]).max(0.0);
            if left > 0.0 {
                unserved.push(Unserved {
                    period: PeriodId(t),
                    class: ClassId(c),
                    region: facts.classes[c].region,
                    tokens_per_minute: left / minutes[t],
                    cause: None,
                });
            }
        }
    }
    (plan_flows(facts, pieces), unserved)
}

/// Pieces of service as plan flows (tokens per minute over their service period), sorted by
/// (service period, tranche, class, arrival); empty pieces dropped.
fn plan_flows(facts: &Facts, pieces: Vec<Piece>) -> Vec<PlanFlow> {
    let mut flows: Vec<PlanFlow> = pieces
        .into_iter()
        .filter(|p| p.tokens > 0.0)
        .map(|p| PlanFlow {
            period: PeriodId(p.period),
            arrival: PeriodId(p.arrival),
            tranche: TrancheId(p.tranche),
            class: ClassId(p.class),
            region: facts.classes[p.class].region,
            tokens_per_minute: p.tokens / facts.period_minutes[p.period],
        })
        .collect();
    flows.sort_by_key(|x| (x.period, x.tranche, x.class, x.arrival));
    flows
}

/// The share cap on the final pieces, within `NOISE` of s · B(t′) as without deferral: where
/// the LP's noise, judged against the flow unit, left a provider above it, its pieces in t′ are
/// scaled down. A token taken off may have arrived earlier, so B(t′) falls with it: cutting δ =
/// (P − s·B) / (1 − s) meets the cap in any case. `served` (tokens per arrival cell) follows.
fn enforce_share_cap(facts: &Facts, pieces: &mut [Piece], served: &mut [Vec<f64>], s: f64) {
    let n_t = facts.period_count();
    let minutes = &facts.period_minutes;
    let mut base = vec![0.0; n_t];
    let mut by_provider = vec![vec![0.0; facts.providers.len()]; n_t];
    for p in pieces.iter() {
        let tpm = p.tokens / minutes[p.period];
        base[p.period] += tpm;
        by_provider[p.period][facts.tranches[p.tranche].provider.0] += tpm;
    }
    for (t, b) in base.iter_mut().enumerate() {
        *b += (0..facts.classes.len())
            .map(|c| (facts.class_demand_tpm[t][c] - served[t][c] / minutes[t]).max(0.0))
            .sum::<f64>();
    }
    for p in pieces.iter_mut() {
        let provider = facts.tranches[p.tranche].provider.0;
        let total = by_provider[p.period][provider];
        let limit = s * base[p.period];
        if total <= limit * (1.0 + NOISE) || total <= 0.0 {
            continue;
        }
        let cut = ((total - limit) / (1.0 - s)).min(total);
        let factor = (total - cut) / total;
        let taken = p.tokens * (1.0 - factor);
        p.tokens -= taken;
        served[p.arrival][p.class] -= taken;
    }
}

/// Assigns each class's service to its arrivals, earliest arrival first: in each service period,
/// tranche by tranche, the oldest arrival still waiting (whose window reaches this period) takes
/// what it still needs of its target. Windows end in arrival order, so the oldest waiting
/// arrival also has the earliest deadline, and this greedy order serves as much as any
/// assignment can (Glover's rule for intervals). Service no waiting arrival can take is noise
/// and is dropped.
fn first_in_first_out(
    facts: &Facts,
    service: &BTreeMap<(usize, usize, usize), f64>,
    target: &[Vec<f64>],
) -> Vec<Piece> {
    let n_t = facts.period_count();
    let minutes = &facts.period_minutes;
    // Per class, per service period: (tranche, tokens per minute), tranches in order.
    let mut by_class: Vec<Vec<Vec<(usize, f64)>>> =
        vec![vec![Vec::new(); n_t]; facts.classes.len()];
    for (&(t, k, c), &v) in service {
        by_class[c][t].push((k, v));
    }
    let mut pieces = Vec::new();
    for (c, periods) in by_class.iter().enumerate() {
        let last = &facts.service_last[c];
        let mut remaining: Vec<f64> = (0..n_t).map(|t| target[t][c]).collect();
        let mut waiting: VecDeque<usize> = VecDeque::new();
        for (s, offers) in periods.iter().enumerate() {
            if target[s][c] > 0.0 {
                waiting.push_back(s);
            }
            // Arrivals whose window ended before this period wait no more.
            while waiting.front().is_some_and(|&a| last[a] < s) {
                waiting.pop_front();
            }
            for &(k, tpm) in offers {
                let offered = tpm * minutes[s];
                let mut supply = offered;
                while supply > 1e-12 * offered {
                    let Some(&a) = waiting.front() else { break };
                    let take = supply.min(remaining[a]);
                    pieces.push(Piece {
                        period: s,
                        tranche: k,
                        class: c,
                        arrival: a,
                        tokens: take,
                    });
                    supply -= take;
                    remaining[a] -= take;
                    // A remainder this small is rounding; the noise rule settles it.
                    if remaining[a] <= 1e-12 * target[a][c] {
                        waiting.pop_front();
                    }
                }
            }
        }
    }
    pieces
}
