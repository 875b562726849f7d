//! Property tests of plan invariants on small random scenarios: more demand never costs less,
//! losing a provider never costs less, N-1 never costs less, served never exceeds demand or
//! reserved capacity, the share cap holds, and the objective is cost plus penalties.

use capplan::model::solve::{Method, Solve, SolverKind};
use capplan::pipeline::{solve_scenario, Timings};
use capplan::report::build::Report;
use capplan::scenario::{Demand, Period, Policy, Scenario, Tranche};
use capplan::units::parse_time;
use proptest::prelude::*;

const PROVIDERS: [&str; 3] = ["aws", "azure", "gcp"];
const REGIONS: [&str; 2] = ["us", "eu"];

#[derive(Debug, Clone)]
struct Case {
    periods: usize,
    demand: Vec<(usize, usize, f64)>,
    tranches: Vec<(usize, usize, f64, f64, f64, bool, usize)>,
}

fn case() -> impl Strategy<Value = Case> {
    (1usize..4)
        .prop_flat_map(|periods| {
            let demand = prop::collection::vec((0..periods, 0usize..2, 0.0f64..10.0), 1..6);
            // (provider, region, capacity B tok/min, usage $/M, commit $/h, signed, start period)
            let tranche = (
                0usize..3,
                0usize..2,
                0.0f64..8.0,
                0.0f64..5.0,
                0.0f64..400_000.0,
                any::<bool>(),
                0..periods,
            );
            (Just(periods), demand, prop::collection::vec(tranche, 1..6))
        })
        .prop_map(|(periods, demand, tranches)| Case {
            periods,
            demand,
            tranches,
        })
}

fn scenario(c: &Case, policy: Policy) -> Scenario {
    let day = |i: usize| parse_time(&format!("2026-01-{:02}", i + 1)).unwrap();
    let mut demand: Vec<Demand> = Vec::new();
    for &(t, r, b) in &c.demand {
        if demand
            .iter()
            .any(|d| d.period == day(t) && d.region == REGIONS[r])
        {
            continue;
        }
        demand.push(Demand {
            period: day(t),
            region: REGIONS[r].into(),
            workload: "default".into(),
            tokens_per_minute: b * 1e9,
            origin: None,
        });
    }
    // Every period is on the grid: zero demand where the case has none.
    for t in 0..c.periods {
        if !demand.iter().any(|d| d.period == day(t)) {
            demand.push(Demand {
                period: day(t),
                region: "us".into(),
                workload: "default".into(),
                tokens_per_minute: 0.0,
                origin: None,
            });
        }
    }
    let tranches = c
        .tranches
        .iter()
        .enumerate()
        .map(|(i, &(p, r, cap, usage, commit, signed, start))| Tranche {
            name: format!("t{i}"),
            provider: PROVIDERS[p].into(),
            region: REGIONS[r].into(),
            start: (start > 0).then(|| day(start)),
            end: None,
            capacity_tpm: cap * 1e9,
            cost_per_million_tokens: usage,
            commit_cost_per_hour: commit,
            min_commit: if signed { 1.0 } else { 0.0 },
            origin: None,
            ..Tranche::default()
        })
        .collect();
    Scenario {
        name: "prop".into(),
        description: String::new(),
        folder: "prop".into(),
        policy,
        periods: (0..c.periods)
            .map(|t| Period {
                start: day(t),
                minutes: 1440.0,
            })
            .collect(),
        demand,
        tranches,
        routes: None,
        outages: Vec::new(),
        ..Scenario::default()
    }
}

fn solve(s: &Scenario) -> Report {
    let facts = capplan::facts::Facts::of(s);
    solve_scenario(
        s,
        &facts,
        SolverKind::Clarabel,
        None,
        &mut Timings::default(),
    )
    .unwrap()
    .1
}

fn policy() -> Policy {
    Policy {
        unserved_penalty: 50.0,
        resilience_penalty: 20.0,
        ..Policy::default()
    }
}

/// Tolerance in dollars for comparing optima of different LPs.
fn tol(x: f64) -> f64 {
    1e-6 * x.abs() + 1e-3
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn more_demand_never_costs_less(c in case(), extra in 1.0f64..2.0) {
        let base = scenario(&c, policy());
        let more = capplan::whatif::scale_demand(base.clone(), extra);
        let (a, b) = (solve(&base).summary.objective, solve(&more).summary.objective);
        prop_assert!(b >= a - tol(a), "{b} < {a}");
    }

    #[test]
    fn losing_a_provider_never_costs_less(c in case(), lost in 0usize..3) {
        // Losing a provider = an outage of all its capacity for the whole horizon. (Excluding it
        // instead could be cheaper: it also drops its signed, min_commit = 1 contracts.)
        let base = scenario(&c, policy());
        let outage = capplan::scenario::Outage {
            provider: PROVIDERS[lost].into(),
            region: None,
            tranche: None,
            start: parse_time("2026-01-01").unwrap(),
            end: parse_time("2027-01-01").unwrap(),
            capacity_factor: 0.0,
        };
        let fewer = capplan::whatif::add_outage(base.clone(), outage);
        let (a, b) = (solve(&base).summary.objective, solve(&fewer).summary.objective);
        prop_assert!(b >= a - tol(a), "{b} < {a}");
    }

    #[test]
    fn n_minus_one_never_costs_less(c in case()) {
        let base = scenario(&c, policy());
        let n1 = scenario(&c, Policy { survive_provider_loss: true, loss_coverage: 0.7, ..policy() });
        let (a, b) = (solve(&base).summary.objective, solve(&n1).summary.objective);
        prop_assert!(b >= a - tol(a), "{b} < {a}");
    }

    #[test]
    fn served_within_demand_capacity_and_share_cap(c in case(), share in 0.3f64..1.0) {
        let s = scenario(&c, Policy { max_provider_share: share, ..policy() });
        let r = solve(&s);
        let slack = 2e3; // tokens/min: the flow rounding grid at these magnitudes
        for row in &r.charts.region_periods {
            prop_assert!(row.served_tpm <= row.demand_tpm + slack, "{row:?}");
        }
        for row in &r.charts.provider_periods {
            prop_assert!(row.served_tpm <= row.available_tpm + slack, "{row:?}");
            let demand: f64 = r.charts.region_periods.iter().filter(|x| x.period == row.period).map(|x| x.demand_tpm).sum();
            prop_assert!(row.served_tpm <= share * demand + slack, "share cap: {row:?}");
        }
        // Per tranche and period: served ≤ reserved fraction × capacity (on-demand: full capacity).
        for c in &r.commitments {
            let t = s.tranches.iter().find(|t| t.name == c.tranche).unwrap();
            let usable = if t.commit_cost_per_hour > 0.0 { c.reserved_tpm } else { t.capacity_tpm };
            for p in &s.periods {
                let served: f64 = r.charts.allocation.iter().filter(|a| a.tranche == c.tranche && a.period == p.start).map(|a| a.tokens_per_minute).sum();
                prop_assert!(served <= usable + slack, "{} serves {served} > {usable}", c.tranche);
            }
        }
    }

    #[test]
    fn objective_is_cost_plus_penalties(c in case()) {
        let s = scenario(&c, Policy { survive_provider_loss: true, loss_coverage: 0.5, ..policy() });
        let x = solve(&s).summary;
        let total = x.cost + x.unserved_penalty_cost + x.resilience_penalty_cost;
        prop_assert!((x.objective - total).abs() <= 1e-5 * x.objective.abs() + 1.0, "{} vs {total}", x.objective);
        prop_assert!((x.demand_tokens - x.served_tokens - x.unserved_tokens).abs() <= 1e-6 * x.demand_tokens + 1e7);
    }
}

/// (provider, region, capacity, usage $/M, commit $/h, start offset min, end offset min).
type RichTranche = (usize, usize, f64, f64, f64, Option<i64>, Option<i64>);

/// A richer random case for the exactness invariants: periods of very different lengths (a
/// minute next to a month), tranche windows and outages starting and ending mid-period.
#[derive(Debug, Clone)]
struct Rich {
    lengths_minutes: Vec<i64>,
    demand: Vec<(usize, usize, f64)>,
    tranches: Vec<RichTranche>,
    // (provider, start offset min, length min, factor)
    outages: Vec<(usize, i64, i64, f64)>,
    share: f64,
    n_minus_one: bool,
}

fn rich() -> impl Strategy<Value = Rich> {
    let lengths = prop::collection::vec(prop::sample::select(vec![1i64, 60, 1440, 44_639]), 1..4);
    lengths
        .prop_flat_map(|lengths_minutes| {
            let n = lengths_minutes.len();
            let total: i64 = lengths_minutes.iter().sum();
            let demand = prop::collection::vec((0..n, 0usize..2, 0.0f64..1e10), 1..6);
            let offset = prop::option::of(0..total);
            let tranche = (
                0usize..3,
                0usize..2,
                0.0f64..8e9,
                0.0f64..20.0,
                prop::sample::select(vec![0.0, 1e3, 3e5]),
                offset.clone(),
                offset,
            );
            let outage = (0usize..3, 0..total, 1..total.max(2), 0.0f64..1.0);
            (
                Just(lengths_minutes),
                demand,
                prop::collection::vec(tranche, 1..6),
                prop::collection::vec(outage, 0..3),
                prop::sample::select(vec![1.0, 0.6, 0.4]),
                any::<bool>(),
            )
        })
        .prop_map(
            |(lengths_minutes, demand, tranches, outages, share, n_minus_one)| Rich {
                lengths_minutes,
                demand,
                tranches,
                outages,
                share,
                n_minus_one,
            },
        )
}

fn rich_scenario(c: &Rich) -> Scenario {
    let origin = parse_time("2026-01-01").unwrap();
    let at = |minutes: i64| origin + chrono::Duration::minutes(minutes);
    let mut starts = vec![0i64];
    for l in &c.lengths_minutes {
        starts.push(starts.last().unwrap() + l);
    }
    let mut demand: Vec<Demand> = Vec::new();
    for &(t, r, tpm) in &c.demand {
        if demand
            .iter()
            .any(|d| d.period == at(starts[t]) && d.region == REGIONS[r])
        {
            continue;
        }
        demand.push(Demand {
            period: at(starts[t]),
            region: REGIONS[r].into(),
            workload: "default".into(),
            tokens_per_minute: tpm,
            origin: None,
        });
    }
    // Every period has a row, so the grid is the one generated.
    for &start in &starts[..c.lengths_minutes.len()] {
        if !demand.iter().any(|d| d.period == at(start)) {
            demand.push(Demand {
                period: at(start),
                region: "us".into(),
                workload: "default".into(),
                tokens_per_minute: 0.0,
                origin: None,
            });
        }
    }
    let tranches = c
        .tranches
        .iter()
        .enumerate()
        .map(|(i, &(p, r, cap, usage, commit, start, end))| {
            let (start, end) = match (start, end) {
                (Some(a), Some(b)) if b <= a => (Some(b), Some(a + 1)),
                other => other,
            };
            Tranche {
                name: format!("k{i}"),
                provider: PROVIDERS[p].into(),
                region: REGIONS[r].into(),
                start: start.map(at),
                end: end.map(at),
                capacity_tpm: cap,
                cost_per_million_tokens: usage,
                commit_cost_per_hour: commit,
                min_commit: 0.0,
                origin: None,
                ..Tranche::default()
            }
        })
        .collect();
    let outages = c
        .outages
        .iter()
        .map(|&(p, start, length, factor)| capplan::scenario::Outage {
            provider: PROVIDERS[p].into(),
            region: None,
            tranche: None,
            start: at(start),
            end: at(start + length),
            capacity_factor: factor,
        })
        .collect();
    Scenario {
        name: "rich".into(),
        description: String::new(),
        folder: "rich".into(),
        policy: Policy {
            max_provider_share: c.share,
            survive_provider_loss: c.n_minus_one,
            loss_coverage: 0.7,
            unserved_penalty: 50.0,
            resilience_penalty: 20.0,
        },
        periods: starts
            .windows(2)
            .map(|w| Period {
                start: at(w[0]),
                minutes: (w[1] - w[0]) as f64,
            })
            .collect(),
        demand,
        tranches,
        routes: None,
        outages,
        ..Scenario::default()
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Every reported cell obeys the model to 1e-9 relative: served + unserved = demand, served ≤
    /// A·cap·z per tranche and ≤ the share cap per provider; the objective is its parts' sum.
    #[test]
    fn reported_numbers_obey_the_model(c in rich()) {
        let s = rich_scenario(&c);
        let facts = capplan::facts::Facts::of(&s);
        let methods = SolverKind::available().into_iter().map(|solver| Solve { solver, method: Method::Monolithic, relax: false });
        for how in methods.chain(std::iter::once(Solve { solver: SolverKind::default_kind(), method: Method::Decomposed, relax: false })) {
            let label = format!("{}/{}", how.method.name(), how.solver.name());
            let (plan, _) = solve_scenario(&s, &facts, how, None, &mut Timings::default()).unwrap();
            let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0);
            for t in facts.all_periods() {
                for (r, &d) in facts.demand_tpm[t.0].iter().enumerate() {
                    let served: f64 = plan.flows.iter().filter(|x| x.period == t && x.region.0 == r).map(|x| x.tokens_per_minute).sum();
                    let unserved: f64 = plan.unserved.iter().filter(|x| x.period == t && x.region.0 == r).map(|x| x.tokens_per_minute).sum();
                    prop_assert!(close(served + unserved, d), "{}: cell {t:?}/{r}: {served} + {unserved} ≠ {d}", label);
                }
                for (k, tranche) in plan.tranches.iter().enumerate() {
                    let z = if tranche.has_reservation_decision { tranche.reserved_fraction } else { 1.0 };
                    let cap = facts.available_tpm[t.0][k] * z;
                    let served: f64 = plan.flows.iter().filter(|x| x.period == t && x.tranche.0 == k).map(|x| x.tokens_per_minute).sum();
                    prop_assert!(served <= cap + 1e-9 * cap.max(1.0), "{}: {} serves {served} > {cap}", label, tranche.name);
                }
                if c.share < 1.0 {
                    let limit = c.share * facts.total_demand_tpm[t.0];
                    for p in 0..facts.providers.len() {
                        let served: f64 = plan.flows.iter().filter(|x| x.period == t && facts.tranches[x.tranche.0].provider.0 == p).map(|x| x.tokens_per_minute).sum();
                        prop_assert!(served <= limit + 1e-9 * limit.max(1.0), "{}: share {served} > {limit}", label);
                    }
                }
            }
            prop_assert!(plan.objective == plan.costs.objective());
            prop_assert!(plan.tranches.iter().all(|t| (0.0..=1.0).contains(&t.reserved_fraction)));
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// A held dispatch is solved by min-cost flow without an LP — share caps and N-1 blocks
    /// included, and under emergency rules: the same objective as the LP of the model core on
    /// every backend.
    #[test]
    fn min_cost_flow_dispatch_equals_the_lp(c in rich(), z in prop::collection::vec(0.0f64..1.0, 6), emergency in any::<bool>()) {
        let s = rich_scenario(&c);
        let facts = capplan::facts::Facts::of(&s);
        let z: Vec<f64> = (0..s.tranches.len()).map(|k| z[k % z.len()]).collect();
        let options = capplan::model::BuildOptions::held(&facts, &s.policy, z, emergency);
        let network = capplan::model::extract::dispatch_plan(&s, &facts, &options, &s.policy, None, SolverKind::default_kind()).unwrap();
        for solver in SolverKind::available() {
            let model = capplan::model::build(&s, &facts, options.clone());
            let solved = capplan::model::solve::solve(&model, solver).unwrap();
            let lp = capplan::model::extract::plan(&s, &facts, &model, &solved, None).unwrap();
            let (a, b) = (network.objective, lp.objective);
            prop_assert!((a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0), "{}: flow {a} vs LP {b}", solver.name());
            // Against the solver's own optimum (Clarabel's plan is itself re-dispatched by flow):
            // the commitment plus the LP's dispatch objective, to the solver's tolerance.
            let commit: f64 = network.tranches.iter().map(|t| t.commit_cost).sum();
            let optimum = commit + solved.objective_units * model.scale().dollars_per_objective_unit;
            prop_assert!((a - optimum).abs() <= 1e-7 * a.abs().max(1.0), "{}: flow {a} vs LP optimum {optimum}", solver.name());
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// The decomposition over z reaches the optimum of the monolithic LP on every backend (share
    /// caps, N-1, outages, windows, 1-minute periods next to months), and its token totals agree
    /// with a simplex's to 1e-9 of demand (prices here never tie with a penalty, so the totals
    /// are unique).
    #[test]
    fn decomposition_reaches_the_lp_optimum(c in rich()) {
        let s = rich_scenario(&c);
        let facts = capplan::facts::Facts::of(&s);
        let solve = |solver, method| {
            solve_scenario(&s, &facts, Solve { solver, method, relax: false }, None, &mut Timings::default()).unwrap().0
        };
        let decomposed = solve(SolverKind::default_kind(), Method::Decomposed);
        let demand: f64 = facts.all_periods().iter().map(|&t| facts.tokens(t, facts.total_demand_tpm[t.0])).sum();
        let served = |p: &capplan::plan::Plan| -> f64 {
            p.flows.iter().map(|x| facts.tokens(x.period, x.tokens_per_minute)).sum()
        };
        for solver in SolverKind::available() {
            let (optimum, monolithic) = capplan::pipeline::lp_reference(&s, &facts, solver).unwrap();
            let (a, b) = (decomposed.objective, optimum);
            prop_assert!((a - b).abs() <= 1e-6 * a.abs().max(b.abs()).max(1.0), "{}: decomposed {a} vs monolithic {b}", solver.name());
            if solver == SolverKind::Microlp {
                let (x, y) = (served(&decomposed), served(&monolithic));
                prop_assert!((x - y).abs() <= 1e-9 * demand.max(1.0), "served tokens: decomposed {x} vs simplex {y} of {demand}");
            }
        }
    }
}
