//! The planning LP against optima worked out by hand, on every compiled-in solver backend.

use crate::common::{rel, Folder};
use capplan::model::solve::SolverKind;
use capplan::pipeline::{run, Outcome};

/// Solves the folder with every backend; checks the objective against `expected` dollars and
/// hands each outcome to `check`.
fn solve_all(folder: &std::path::Path, expected: f64, check: impl Fn(&Outcome)) {
    for solver in SolverKind::available() {
        let out = run(folder, solver).unwrap_or_else(|e| panic!("{}: {e}", solver.name()));
        let got = out.report.summary.objective;
        assert!(
            rel(got, expected) < 1e-7,
            "{}: objective {got}, expected {expected}",
            solver.name()
        );
        check(&out);
    }
}

fn close(a: f64, b: f64) -> bool {
    rel(a, b) < 1e-6 || (a - b).abs() < 1e-3
}

fn provider_served_tokens(out: &Outcome, provider: &str) -> f64 {
    out.report
        .summary
        .providers
        .iter()
        .find(|p| p.provider == provider)
        .map(|p| p.served_tokens)
        .unwrap_or(0.0)
}

fn reserved_fraction(out: &Outcome, tranche: &str) -> f64 {
    out.report
        .commitments
        .iter()
        .find(|c| c.tranche == tranche)
        .unwrap()
        .reserved_fraction
}

/// One hour, one region.
const ONE_HOUR: &str = "horizon_end = \"2026-01-01T01:00\"\n";

#[test]
fn merit_order_across_providers() {
    // Demand 3M tok/min for 60 min = 180M tokens. a ($1/M, 1M cap), b ($2/M, 1M), c ($3/M, 5M).
    // Cheapest first: a 1M, b 1M, c 1M. Cost = 60 min × (1×1 + 1×2 + 1×3) M tok/min × $/M = $360.
    let f = Folder::new()
        .file("demand.csv", "period,tokens_per_minute\n2026-01-01,3M\n")
        .file(
            "capacity.csv",
            "provider,capacity_tpm,cost_per_million_tokens\na,1M,1\nb,1M,2\nc,5M,3\n",
        )
        .file("scenario.toml", ONE_HOUR);
    solve_all(f.path(), 360.0, |o| {
        assert!(close(provider_served_tokens(o, "a"), 60e6));
        assert!(close(provider_served_tokens(o, "b"), 60e6));
        assert!(close(provider_served_tokens(o, "c"), 60e6));
        assert_eq!(o.report.summary.unserved_tokens, 0.0);
    });
}

#[test]
fn reservation_worth_buying_against_on_demand() {
    // Two days of 1M tok/min = 2880M tokens. Reserved: $30/h over 48 h = $1440 for the full 1M
    // ($0.50/M at full use); on-demand $1/M = $2880. Reserve fully: $1440.
    let f = Folder::new()
        .file(
            "demand.csv",
            "period,tokens_per_minute\n2026-01-01,1M\n2026-01-02,1M\n",
        )
        .file(
            "capacity.csv",
            "provider,tranche,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour\n\
             r,res,1M,0,30\nd,od,5M,1,0\n",
        );
    solve_all(f.path(), 1440.0, |o| {
        assert!(close(reserved_fraction(o, "res"), 1.0));
        assert!(close(o.report.summary.commit_cost, 1440.0));
        assert!(close(o.report.summary.usage_cost, 0.0));
    });
}

#[test]
fn reservation_not_worth_buying() {
    // Same as above with $100/h: $4800 for the reservation against $2880 on demand. Reserve nothing.
    let f = Folder::new()
        .file(
            "demand.csv",
            "period,tokens_per_minute\n2026-01-01,1M\n2026-01-02,1M\n",
        )
        .file(
            "capacity.csv",
            "provider,tranche,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour\n\
             r,res,1M,0,100\nd,od,5M,1,0\n",
        );
    solve_all(f.path(), 2880.0, |o| {
        assert!(reserved_fraction(o, "res") < 1e-6);
        assert!(close(provider_served_tokens(o, "d"), 2880e6));
    });
}

#[test]
fn partial_reservation_for_the_base_load() {
    // Day 1 demand 2M, day 2 demand 1M. Reserved $30/h per 1M... here cap 2M at $60/h: a slice of
    // z×2M costs $60·48·z. A slice used on both days saves $1/M × 2880 min = $2880 per M tok/min
    // against $2880 per M for 48 h at $60/h per 2M = $1440 per M: worth it. A slice used on day 1
    // only saves $1440 per M and costs $1440 per M: indifferent, so the optimum is unique in cost:
    // base 1M reserved (z = 0.5): commit $1440; the day-1 peak 1M costs $1440 either way.
    // Objective = 1440 + 1440 = $2880.
    let f = Folder::new()
        .file(
            "demand.csv",
            "period,tokens_per_minute\n2026-01-01,2M\n2026-01-02,1M\n",
        )
        .file(
            "capacity.csv",
            "provider,tranche,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour\n\
             r,res,2M,0,60\nd,od,5M,1,0\n",
        );
    solve_all(f.path(), 2880.0, |o| {
        let z = reserved_fraction(o, "res");
        assert!((0.5 - 1e-6..=1.0 + 1e-6).contains(&z), "z = {z}");
    });
}

#[test]
fn shortfall_pays_the_penalty() {
    // Demand 2M, capacity 1M at $1/M, penalty $100/M, 60 min: usage $60, unserved 1M × 60 min =
    // 60M tokens × $100 = $6000. Objective $6060, cost $60.
    let f = Folder::new()
        .file(
            "demand.csv",
            "period,region,tokens_per_minute\n2026-01-01,eu,2M\n",
        )
        .file(
            "capacity.csv",
            "provider,region,capacity_tpm,cost_per_million_tokens\na,eu,1M,1\n",
        )
        .file(
            "scenario.toml",
            "horizon_end = \"2026-01-01T01:00\"\n[policy]\nunserved_penalty = 100\n",
        );
    solve_all(f.path(), 6060.0, |o| {
        assert!(close(o.report.summary.cost, 60.0));
        assert!(close(o.report.summary.unserved_tokens, 60e6));
        assert_eq!(o.report.shortfalls.len(), 1);
        assert_eq!(o.report.shortfalls[0].region, "eu");
        assert!(close(o.report.shortfalls[0].tokens_per_minute, 1e6));
    });
}

#[test]
fn tranche_window_starting_mid_horizon() {
    // Two days of 1M tok/min. The $1/M tranche starts on day 2; the $3/M one is always there.
    // Day 1: 1440 min × $3 = $4320; day 2: 1440 × $1 = $1440. Total $5760.
    let f = Folder::new()
        .file("demand.csv", "period,tokens_per_minute\n2026-01-01,1M\n2026-01-02,1M\n")
        .file(
            "capacity.csv",
            "provider,start,capacity_tpm,cost_per_million_tokens\nlate,2026-01-02,1M,1\nearly,,1M,3\n",
        );
    solve_all(f.path(), 5760.0, |o| {
        assert!(close(provider_served_tokens(o, "late"), 1440e6));
        assert!(close(provider_served_tokens(o, "early"), 1440e6));
    });
}

#[test]
fn tranche_window_ending_mid_horizon() {
    // As above with the cheap tranche ending at day 2 (end is the first instant not available).
    let f = Folder::new()
        .file("demand.csv", "period,tokens_per_minute\n2026-01-01,1M\n2026-01-02,1M\n")
        .file(
            "capacity.csv",
            "provider,end,capacity_tpm,cost_per_million_tokens\ncheap,2026-01-02,1M,1\nother,,1M,3\n",
        );
    solve_all(f.path(), 5760.0, |o| {
        assert!(close(provider_served_tokens(o, "cheap"), 1440e6))
    });
}

#[test]
fn min_commit_one_is_paid_whether_used_or_not() {
    // A signed tranche ($100/h, 2M, min_commit 1) must be paid in full: $100 for the hour. It has
    // no usage price, so it serves the 1M demand; the on-demand offer ($0.5/M) stays idle.
    let f = Folder::new()
        .file("demand.csv", "period,tokens_per_minute\n2026-01-01,1M\n")
        .file(
            "capacity.csv",
            "provider,tranche,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour,min_commit\n\
             s,signed,2M,0,100,1\nd,od,5M,0.5,0,\n",
        )
        .file("scenario.toml", ONE_HOUR);
    solve_all(f.path(), 100.0, |o| {
        assert_eq!(reserved_fraction(o, "signed"), 1.0);
        assert!(close(provider_served_tokens(o, "s"), 60e6));
    });
}

#[test]
fn routes_with_cross_region_cost() {
    // eu demand 1M. eu capacity 0.5M at $2/M; us capacity 0.5M at $1/M reaches eu for $0.5/M
    // extra ($1.5 < $2, so it is used first). eu: 0.5 × $2 + us→eu: 0.5 × ($1 + $0.5) = $1.75 per
    // minute → $105 per hour; route $15, usage $90.
    let f = Folder::new()
        .file("demand.csv", "period,region,tokens_per_minute\n2026-01-01,eu,1M\n")
        .file(
            "capacity.csv",
            "provider,region,capacity_tpm,cost_per_million_tokens\nlocal,eu,0.5M,2\nfar,us,0.5M,1\n",
        )
        .file("routes.csv", "demand_region,supply_region,cost_per_million_tokens\neu,us,0.5\n")
        .file("scenario.toml", ONE_HOUR);
    solve_all(f.path(), 105.0, |o| {
        assert!(close(o.report.summary.route_cost, 15.0));
        assert!(close(o.report.summary.usage_cost, 90.0));
    });
}

#[test]
fn without_routes_regions_do_not_mix_except_global() {
    // No routes.csv: us capacity cannot serve eu; global capacity serves anyone.
    // eu 1M: local 0.5M at $2 + global 0.5M at $4 → $3 per minute → $180 per hour.
    let f = Folder::new()
        .file("demand.csv", "period,region,tokens_per_minute\n2026-01-01,eu,1M\n")
        .file(
            "capacity.csv",
            "provider,region,capacity_tpm,cost_per_million_tokens\nlocal,eu,0.5M,2\nfar,us,5M,1\nanywhere,,5M,4\n",
        )
        .file("scenario.toml", ONE_HOUR);
    solve_all(f.path(), 180.0, |o| {
        assert_eq!(provider_served_tokens(o, "far"), 0.0)
    });
}

#[test]
fn binding_share_cap() {
    // a $1/M and b $2/M, 10M each; demand 10M; no provider above 60%: a 6M, b 4M.
    // Per minute 6 + 8 = $14 → $840 per hour.
    let f = Folder::new()
        .file("demand.csv", "period,tokens_per_minute\n2026-01-01,10M\n")
        .file(
            "capacity.csv",
            "provider,capacity_tpm,cost_per_million_tokens\na,10M,1\nb,10M,2\n",
        )
        .file(
            "scenario.toml",
            "horizon_end = \"2026-01-01T01:00\"\n[policy]\nmax_provider_share = 0.6\n",
        );
    solve_all(f.path(), 840.0, |o| {
        let a = o
            .report
            .summary
            .providers
            .iter()
            .find(|p| p.provider == "a")
            .unwrap();
        assert!(close(a.peak_share, 0.6));
    });
}

#[test]
fn binding_n_minus_one_reserves_capacity_for_resilience_only() {
    // Demand 1M for an hour. a: $10/h for 1M, usage $0; b: $20/h for 1M, usage $1/M.
    // Without N-1: reserve a only, $10. With N-1 at full coverage: losing a needs b's 1M reserved
    // (+$20); losing b is covered by a. Total $30, every token still served by a.
    let f = Folder::new()
        .file("demand.csv", "period,tokens_per_minute\n2026-01-01,1M\n")
        .file(
            "capacity.csv",
            "provider,tranche,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour\n\
             a,ta,1M,0,10\nb,tb,1M,1,20\n",
        )
        .file(
            "scenario.toml",
            "horizon_end = \"2026-01-01T01:00\"\n[policy]\nsurvive_provider_loss = true\nresilience_penalty = 1000\n",
        );
    solve_all(f.path(), 30.0, |o| {
        assert!(close(reserved_fraction(o, "tb"), 1.0));
        assert_eq!(provider_served_tokens(o, "b"), 0.0);
        assert_eq!(o.report.summary.resilience_shortfall_tokens, 0.0);
    });
}

#[test]
fn n_minus_one_with_partial_coverage_and_shortfall() {
    // As above, loss_coverage 0.5: b reserved at 0.5 (+$10) → $20. Then with a resilience penalty
    // below b's price ($0.10/M < $20/h per 60M tokens = $0.333/M) it is cheaper to take the
    // shortfall: losing a leaves 0.5M × 60 min = 30M tokens uncovered × $0.1 = $3 → $13.
    let make = |toml: &str| {
        Folder::new()
            .file("demand.csv", "period,tokens_per_minute\n2026-01-01,1M\n")
            .file(
                "capacity.csv",
                "provider,tranche,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour\n\
                 a,ta,1M,0,10\nb,tb,1M,1,20\n",
            )
            .file("scenario.toml", toml)
    };
    let f = make("horizon_end = \"2026-01-01T01:00\"\n[policy]\nsurvive_provider_loss = true\nloss_coverage = 0.5\n");
    solve_all(f.path(), 20.0, |o| {
        assert!(close(reserved_fraction(o, "tb"), 0.5))
    });
    let f = make(
        "horizon_end = \"2026-01-01T01:00\"\n[policy]\nsurvive_provider_loss = true\nloss_coverage = 0.5\nresilience_penalty = 0.1\n",
    );
    solve_all(f.path(), 13.0, |o| {
        assert!(close(o.report.summary.resilience_shortfall_tokens, 30e6));
        let row = o
            .report
            .shortfalls
            .iter()
            .find(|r| r.lost_provider == "a")
            .unwrap();
        assert!(close(row.tokens_per_minute, 0.5e6));
    });
}

#[test]
fn outage_window_cuts_capacity() {
    // Two days of 1M. a $1/M, b $3/M, 1M each. a at 25% on day 2.
    // Day 1: $1 × 1440 = 1440. Day 2: (0.25 × 1 + 0.75 × 3) × 1440 = 3600. Total $5040.
    let f = Folder::new()
        .file(
            "demand.csv",
            "period,tokens_per_minute\n2026-01-01,1M\n2026-01-02,1M\n",
        )
        .file(
            "capacity.csv",
            "provider,capacity_tpm,cost_per_million_tokens\na,1M,1\nb,1M,3\n",
        )
        .file(
            "outages.csv",
            "provider,start,end,capacity_factor\na,2026-01-02,2026-01-03,0.25\n",
        );
    solve_all(f.path(), 5040.0, |_| {});
}

#[test]
fn overlapping_outages_take_the_smallest_factor() {
    // v2, prorated. Outages of a: Jan 2 – Jan 3 at 25%, and Jan 1 12:00 – Jan 5 at 50%.
    // Jan 1: 12 h at 100% and 12 h at 50% (only the second outage) → A = 0.75: a serves 0.75M at
    // $1, b 0.25M at $3 → 1440 min × $1.5 = $2160.
    // Jan 2: both outages all day, the smaller factor wins → A = 0.25: a 0.25M, b 0.75M →
    // 1440 × $2.5 = $3600. Total $5760 (v1 switched Jan 1 wholly on: $5040).
    let f = Folder::new()
        .file("demand.csv", "period,tokens_per_minute\n2026-01-01,1M\n2026-01-02,1M\n")
        .file("capacity.csv", "provider,capacity_tpm,cost_per_million_tokens\na,1M,1\nb,1M,3\n")
        .file(
            "outages.csv",
            "provider,start,end,capacity_factor\na,2026-01-02,2026-01-03,0.25\na,2026-01-01T12:00,2026-01-05,0.5\n",
        );
    solve_all(f.path(), 5760.0, |o| {
        assert!(close(provider_served_tokens(o, "a"), 1440.0 * 1e6));
        assert!(close(provider_served_tokens(o, "b"), 1440.0 * 1e6));
    });
}

#[test]
fn what_if_via_extends() {
    // Parent: the merit-order case ($360). Child: demand ×2 and provider a excluded:
    // 6M = b 1M at $2 + c 5M at $3 = $17 per minute → $1020 per hour.
    // Grandchild: c's prices ×0.5 → b 1M at $2 + c 5M at $1.5 = $9.5 → $570.
    let f = Folder::new()
        .file(
            "base/demand.csv",
            "period,tokens_per_minute\n2026-01-01,3M\n",
        )
        .file(
            "base/capacity.csv",
            "provider,capacity_tpm,cost_per_million_tokens\na,1M,1\nb,1M,2\nc,5M,3\n",
        )
        .file("base/scenario.toml", ONE_HOUR)
        .file(
            "child/scenario.toml",
            "extends = \"../base\"\n[whatif]\ndemand_scale = 2\nexclude_providers = [\"a\"]\n",
        )
        .file(
            "grandchild/scenario.toml",
            "extends = \"../child\"\n[[whatif.price]]\nprovider = \"c\"\nfactor = 0.5\n",
        );
    solve_all(&f.sub("base"), 360.0, |_| {});
    solve_all(&f.sub("child"), 1020.0, |o| {
        assert_eq!(o.scenario.name, "child")
    });
    solve_all(&f.sub("grandchild"), 570.0, |_| {});
}

#[test]
fn delayed_capacity_via_what_if() {
    // The cheap tranche arrives a day late: the late-window case again, $5760.
    let f = Folder::new()
        .file(
            "demand.csv",
            "period,tokens_per_minute\n2026-01-01,1M\n2026-01-02,1M\n",
        )
        .file(
            "capacity.csv",
            "provider,capacity_tpm,cost_per_million_tokens\nlate,1M,1\nearly,1M,3\n",
        )
        .file(
            "scenario.toml",
            "[[whatif.delay]]\nprovider = \"late\"\ndays = 1\n",
        );
    solve_all(f.path(), 5760.0, |_| {});
}

#[test]
fn workloads_are_split_in_proportion_to_demand() {
    // chat 3M and batch 1M in one region, one $1/M tranche of 2M: half of each is served.
    let f = Folder::new()
        .file(
            "demand.csv",
            "period,workload,tokens_per_minute\n2026-01-01,chat,3M\n2026-01-01,batch,1M\n",
        )
        .file(
            "capacity.csv",
            "provider,capacity_tpm,cost_per_million_tokens\na,2M,1\n",
        )
        .file(
            "scenario.toml",
            "horizon_end = \"2026-01-01T01:00\"\n[policy]\nunserved_penalty = 10\n",
        );
    // $1 × 2M × 60 + $10 × 2M × 60 = 120 + 1200.
    solve_all(f.path(), 1320.0, |o| {
        let rows = &o.report.charts.allocation;
        let chat = rows.iter().find(|r| r.workload == "chat").unwrap();
        let batch = rows.iter().find(|r| r.workload == "batch").unwrap();
        assert!(close(chat.tokens_per_minute, 1.5e6));
        assert!(close(batch.tokens_per_minute, 0.5e6));
    });
}

#[test]
fn zero_demand_pays_only_signed_commitments() {
    // No demand at all (an LP with no rows): a signed $10/h tranche still costs $10 for the hour,
    // an optional one nothing.
    let f = Folder::new()
        .file("demand.csv", "period,tokens_per_minute\n2026-01-01,0\n")
        .file(
            "capacity.csv",
            "provider,tranche,capacity_tpm,commit_cost_per_hour,min_commit\ns,signed,1M,10,1\no,optional,1M,10,0\n",
        )
        .file("scenario.toml", ONE_HOUR);
    solve_all(f.path(), 10.0, |o| {
        assert_eq!(reserved_fraction(o, "signed"), 1.0);
        assert_eq!(reserved_fraction(o, "optional"), 0.0);
    });
}

#[test]
fn with_routes_csv_global_loses_its_match_everything_role() {
    // routes.csv present (listing an unrelated pair): global capacity no longer serves eu.
    let f = Folder::new()
        .file(
            "demand.csv",
            "period,region,tokens_per_minute\n2026-01-01,eu,1M\n",
        )
        .file(
            "capacity.csv",
            "provider,region,capacity_tpm,cost_per_million_tokens\nanywhere,global,5M,1\n",
        )
        .file(
            "routes.csv",
            "demand_region,supply_region\nus,apac\neu,eu\n",
        )
        .file(
            "scenario.toml",
            "horizon_end = \"2026-01-01T01:00\"\n[policy]\nunserved_penalty = 7\n",
        );
    // All 60M tokens unserved at $7/M.
    solve_all(f.path(), 420.0, |o| {
        assert_eq!(o.report.summary.served_tokens, 0.0)
    });
}
