//! What-if stage: pure `Scenario → Scenario` transforms (demand surge, provider filters, late
//! capacity, price moves, outages) applied in the order the scenario format settles.

use chrono::Duration;

use crate::error::{list, Diagnostics, Error, Location, Result};
use crate::scenario::{Outage, Scenario, Tranche};
use crate::units::{format_time, COMMIT_PRICE_LIMIT, PRICE_LIMIT, TOKENS_PER_MINUTE_LIMIT};

/// A provider named in a `[whatif]`, with where it was written (for "matches no provider").
#[derive(Debug, Clone, PartialEq)]
pub struct NamedProvider {
    pub name: String,
    pub location: Location,
}

/// A region named in a `[[whatif.delay]]` or `[[whatif.price]]`, with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedRegion {
    pub name: String,
    pub location: Location,
}

/// A workload named in a `[[whatif.max_delay]]`, with where it was written.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedWorkload {
    pub name: String,
    pub location: Location,
}

/// `[[whatif.max_delay]]`: the workload's tokens may wait `minutes` (spec v3).
#[derive(Debug, Clone, PartialEq)]
pub struct MaxDelayChange {
    pub workload: NamedWorkload,
    pub minutes: f64,
    /// Where the duration was written.
    pub location: Location,
}

/// `[[whatif.delay]]`: the provider's capacity (in `region` only, when given) arrives `days` late.
#[derive(Debug, Clone, PartialEq)]
pub struct Delay {
    pub provider: NamedProvider,
    pub region: Option<NamedRegion>,
    pub days: f64,
}

/// `[[whatif.price]]`: the provider's usage and commit prices (in `region` only, when given)
/// times `factor`.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceChange {
    pub provider: NamedProvider,
    pub region: Option<NamedRegion>,
    pub factor: f64,
    /// Where the factor was written.
    pub location: Location,
}

/// `[[whatif.outage]]`: an outage added to the scenario.
#[derive(Debug, Clone, PartialEq)]
pub struct OutageChange {
    pub provider: NamedProvider,
    pub outage: Outage,
}

/// `[policy]` as written: each key optional, so files merge key by key.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PolicySettings {
    pub unserved_penalty: Option<f64>,
    pub max_provider_share: Option<f64>,
    pub survive_provider_loss: Option<bool>,
    pub loss_coverage: Option<f64>,
    pub resilience_penalty: Option<f64>,
}

impl PolicySettings {
    /// The child's keys win; the parent fills the rest.
    pub fn merged_over(&self, parent: &PolicySettings) -> PolicySettings {
        PolicySettings {
            unserved_penalty: self.unserved_penalty.or(parent.unserved_penalty),
            max_provider_share: self.max_provider_share.or(parent.max_provider_share),
            survive_provider_loss: self.survive_provider_loss.or(parent.survive_provider_loss),
            loss_coverage: self.loss_coverage.or(parent.loss_coverage),
            resilience_penalty: self.resilience_penalty.or(parent.resilience_penalty),
        }
    }
}

/// The validated `[whatif]` table of one scenario.toml.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WhatIf {
    /// The demand factor and where it was written.
    pub demand_scale: Option<(f64, Location)>,
    pub only_providers: Option<Vec<NamedProvider>>,
    pub exclude_providers: Vec<NamedProvider>,
    pub delays: Vec<Delay>,
    pub prices: Vec<PriceChange>,
    pub outages: Vec<OutageChange>,
    pub max_delays: Vec<MaxDelayChange>,
}

impl WhatIf {
    pub fn is_empty(&self) -> bool {
        *self == WhatIf::default()
    }

    fn named_providers(&self) -> impl Iterator<Item = &NamedProvider> {
        self.only_providers
            .iter()
            .flatten()
            .chain(&self.exclude_providers)
            .chain(self.delays.iter().map(|d| &d.provider))
            .chain(self.prices.iter().map(|p| &p.provider))
            .chain(self.outages.iter().map(|o| &o.provider))
    }
}

/// Applies a `[whatif]` to the scenario it belongs to. Every provider it names must have a
/// tranche in that scenario, and every region a tranche of its provider (checked before anything
/// changes, all names at once). A change that pushes a value past one of capplan's limits is an
/// error at the factor.
pub fn apply(scenario: Scenario, whatif: &WhatIf) -> Result<Scenario> {
    check_names(&scenario, whatif)?;
    let horizon_start = scenario.horizon_start();
    let mut s = scenario;
    for d in &whatif.delays {
        s = delay(
            s,
            &d.provider.name,
            region(&d.region),
            d.days,
            horizon_start,
        );
    }
    for p in &whatif.prices {
        s = scale_prices(s, &p.provider.name, region(&p.region), p.factor);
        check_prices(&s, p)?;
    }
    for o in &whatif.outages {
        s = add_outage(s, o.outage.clone());
    }
    for m in &whatif.max_delays {
        s = set_max_delay(s, &m.workload.name, m.minutes, &m.location);
    }
    if let Some((f, location)) = &whatif.demand_scale {
        s = scale_demand(s, *f);
        check_demand(&s, *f, location)?;
    }
    if let Some(only) = &whatif.only_providers {
        let keep: Vec<String> = only.iter().map(|n| n.name.clone()).collect();
        s = only_providers(s, &keep);
    }
    if !whatif.exclude_providers.is_empty() {
        let drop: Vec<String> = whatif
            .exclude_providers
            .iter()
            .map(|n| n.name.clone())
            .collect();
        s = exclude_providers(s, &drop);
    }
    Ok(s)
}

fn region(r: &Option<NamedRegion>) -> Option<&str> {
    r.as_ref().map(|r| r.name.as_str())
}

/// Names in a `[whatif]` that match nothing are typos: providers against the providers with a
/// tranche, a change's region against the regions of its provider's tranches, a workload against
/// the workloads of the demand.
fn check_names(s: &Scenario, whatif: &WhatIf) -> Result<()> {
    let providers = s.providers();
    let mut diags = Diagnostics::default();
    if !whatif.max_delays.is_empty() {
        let workloads = s.workloads();
        let names: Vec<&str> = workloads.iter().map(String::as_str).collect();
        for m in &whatif.max_delays {
            let name = &m.workload.name;
            if names.contains(&name.as_str()) {
                continue;
            }
            let hint = crate::error::closest(name, &names)
                .map(|c| format!(" (did you mean '{c}'?)"))
                .unwrap_or_default();
            diags.push(
                m.workload.location.clone(),
                format!(
                    "workload '{name}' matches no workload of the scenario's demand{hint}; expected one of {}",
                    list(&names)
                ),
            );
        }
    }
    for named in whatif.named_providers() {
        if !providers.contains(&named.name) {
            diags.push(
                named.location.clone(),
                format!(
                    "provider '{}' matches no provider of the scenario; expected one of {}",
                    named.name,
                    list(&providers)
                ),
            );
        }
    }
    // An outage's region is checked like a delay's: a region its provider does not have would
    // otherwise be a silent no-op (the outage touches no tranche).
    let outage_regions: Vec<(&NamedProvider, Option<NamedRegion>)> = whatif
        .outages
        .iter()
        .map(|o| {
            let region = o.outage.region.as_ref().map(|name| NamedRegion {
                name: name.clone(),
                location: o.provider.location.clone(),
            });
            (&o.provider, region)
        })
        .collect();
    let regional = whatif
        .delays
        .iter()
        .map(|d| (&d.provider, d.region.clone()))
        .chain(
            whatif
                .prices
                .iter()
                .map(|p| (&p.provider, p.region.clone())),
        )
        .chain(outage_regions);
    for (provider, region) in regional {
        let Some(region) = region else { continue };
        let mut regions: Vec<&str> = s
            .tranches
            .iter()
            .filter(|t| t.provider == provider.name)
            .map(|t| t.region.as_str())
            .collect();
        regions.sort();
        regions.dedup();
        // An unknown provider is reported above; its regions would only repeat it.
        if !regions.is_empty() && !regions.contains(&region.name.as_str()) {
            diags.push(
                region.location.clone(),
                format!(
                    "provider '{}' has no tranche in region '{}'; expected one of {}",
                    provider.name,
                    region.name,
                    list(&regions)
                ),
            );
        }
    }
    diags.finish(())
}

/// After a price change: every price within capplan's limits.
fn check_prices(s: &Scenario, p: &PriceChange) -> Result<()> {
    for t in s
        .tranches
        .iter()
        .filter(|t| changes(t, &p.provider.name, region(&p.region)))
    {
        let checks = [
            ("usage price", PRICE_LIMIT.check(t.cost_per_million_tokens)),
            (
                "commit price",
                COMMIT_PRICE_LIMIT.check(t.commit_cost_per_hour),
            ),
        ];
        for (what, check) in checks {
            if let Err(m) = check {
                return Err(Error::input(
                    p.location.clone(),
                    format!(
                        "with factor {} the {what} of tranche '{}' passes a limit: {m}",
                        p.factor, t.name
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// After `demand_scale`: every demand row within capplan's limit.
fn check_demand(s: &Scenario, factor: f64, location: &Location) -> Result<()> {
    for d in &s.demand {
        if let Err(m) = TOKENS_PER_MINUTE_LIMIT.check(d.tokens_per_minute) {
            let row = match &d.origin {
                Some(o) => format!("the demand row at {}:{}", o.file.display(), o.line),
                None => format!(
                    "the demand of period {}, region '{}', workload '{}'",
                    format_time(&d.period),
                    d.region,
                    d.workload
                ),
            };
            return Err(Error::input(
                location.clone(),
                format!("with demand_scale {factor} {row} passes a limit: {m}"),
            ));
        }
    }
    Ok(())
}

/// Multiplies every demand row by `factor`.
pub fn scale_demand(mut s: Scenario, factor: f64) -> Scenario {
    for d in &mut s.demand {
        d.tokens_per_minute *= factor;
    }
    s
}

/// Keeps only the tranches of the listed providers. Outages stay: one of a provider without
/// tranches has no effect, and applies again if a child brings the provider's capacity back.
pub fn only_providers(mut s: Scenario, keep: &[String]) -> Scenario {
    s.tranches.retain(|t| keep.contains(&t.provider));
    s
}

/// Drops the tranches of the listed providers; outages stay (see `only_providers`).
pub fn exclude_providers(mut s: Scenario, drop: &[String]) -> Scenario {
    s.tranches.retain(|t| !drop.contains(&t.provider));
    s
}

/// Whether a delay or price change for `provider` (in `region` when given) reaches `t`.
fn changes(t: &Tranche, provider: &str, region: Option<&str>) -> bool {
    t.provider == provider && region.is_none_or(|r| t.region == r)
}

/// Moves the start of every tranche of `provider` (in `region` when given) by `days`, leaving its
/// end. An open start becomes `horizon_start + days`. A start pushed to or past the end leaves the
/// tranche inactive.
pub fn delay(
    mut s: Scenario,
    provider: &str,
    region: Option<&str>,
    days: f64,
    horizon_start: Option<chrono::DateTime<chrono::Utc>>,
) -> Scenario {
    let shift = Duration::milliseconds((days * 86_400_000.0).round() as i64);
    for t in s
        .tranches
        .iter_mut()
        .filter(|t| changes(t, provider, region))
    {
        t.start = t.start.or(horizon_start).map(|start| {
            start
                .checked_add_signed(shift)
                .unwrap_or(chrono::DateTime::<chrono::Utc>::MAX_UTC)
        });
    }
    s
}

/// Multiplies the usage and commit prices of every tranche of `provider` (in `region` when given)
/// by `factor`.
pub fn scale_prices(
    mut s: Scenario,
    provider: &str,
    region: Option<&str>,
    factor: f64,
) -> Scenario {
    for t in s
        .tranches
        .iter_mut()
        .filter(|t| changes(t, provider, region))
    {
        t.cost_per_million_tokens *= factor;
        t.commit_cost_per_hour *= factor;
        // Prices written per GPU-hour scale too, and the translated prices are those of the
        // scaled ones (as a child's throughput.csv would translate them again).
        if let Some(g) = &mut t.gpu {
            for price in [&mut g.commit_cost_per_gpu_hour, &mut g.cost_per_gpu_hour]
                .into_iter()
                .flatten()
            {
                *price *= factor;
            }
            t.translate_gpus();
        }
    }
    s
}

/// Sets how long a workload's tokens may wait, minutes; `at` is where the duration was written.
pub fn set_max_delay(mut s: Scenario, workload: &str, minutes: f64, at: &Location) -> Scenario {
    let w = s.workload_settings.entry(workload.to_string()).or_default();
    w.max_delay_minutes = minutes;
    w.max_delay_at = Some(at.clone());
    s
}

/// Every workload served in the period it arrives (every max_delay 0): the same plan with no
/// deferral, against which `run` measures what waiting saves.
pub fn without_deferral(mut s: Scenario) -> Scenario {
    for w in s.workload_settings.values_mut() {
        w.max_delay_minutes = 0.0;
    }
    s
}

/// Adds an outage.
pub fn add_outage(mut s: Scenario, outage: Outage) -> Scenario {
    s.outages.push(outage);
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{Demand, Period, Policy};
    use crate::units::parse_time;

    fn tranche(provider: &str, start: Option<&str>, end: Option<&str>) -> Tranche {
        Tranche {
            name: format!("{provider}/t"),
            provider: provider.into(),
            region: "us".into(),
            start: start.map(|s| parse_time(s).unwrap()),
            end: end.map(|s| parse_time(s).unwrap()),
            capacity_tpm: 100.0,
            cost_per_million_tokens: 2.0,
            commit_cost_per_hour: 10.0,
            min_commit: 0.0,
            origin: None,
            ..Tranche::default()
        }
    }

    fn scenario() -> Scenario {
        Scenario {
            name: "s".into(),
            description: String::new(),
            folder: "s".into(),
            policy: Policy::default(),
            periods: vec![Period {
                start: parse_time("2026-01-01").unwrap(),
                minutes: 44640.0,
            }],
            demand: vec![Demand {
                period: parse_time("2026-01-01").unwrap(),
                region: "us".into(),
                workload: "chat".into(),
                tokens_per_minute: 100.0,
                origin: None,
            }],
            tranches: vec![
                tranche("aws", None, None),
                tranche("gcp", Some("2026-02-01"), Some("2026-03-01")),
            ],
            routes: None,
            outages: vec![],
            ..Scenario::default()
        }
    }

    fn named(name: &str) -> NamedProvider {
        NamedProvider {
            name: name.into(),
            location: Location::at("scenario.toml", 3, Some("whatif")),
        }
    }

    #[test]
    fn demand_scale_multiplies_every_row() {
        let s = scale_demand(scenario(), 1.25);
        assert_eq!(s.demand[0].tokens_per_minute, 125.0);
    }

    #[test]
    fn only_and_exclude_both_apply() {
        let w = WhatIf {
            only_providers: Some(vec![named("aws"), named("gcp")]),
            exclude_providers: vec![named("gcp")],
            ..WhatIf::default()
        };
        let s = apply(scenario(), &w).unwrap();
        assert_eq!(s.providers(), vec!["aws".to_string()]);
    }

    #[test]
    fn provider_filters_keep_outages() {
        let mut s = scenario();
        for p in ["aws", "gcp"] {
            s = add_outage(s, outage(p));
        }
        let only = only_providers(s.clone(), &["aws".into()]);
        assert_eq!(only.providers(), ["aws"]);
        assert_eq!(only.outages.len(), 2, "outage rows stay");
        let excluded = exclude_providers(s, &["aws".into()]);
        assert_eq!(excluded.providers(), ["gcp"]);
        assert_eq!(excluded.outages.len(), 2, "outage rows stay");
    }

    #[test]
    fn delay_and_price_limited_to_a_region() {
        let mut s = scenario();
        let mut eu = tranche("aws", None, None);
        eu.region = "eu".into();
        s.tranches.push(eu);
        let h = s.horizon_start();
        let s = delay(s, "aws", Some("eu"), 31.0, h);
        assert_eq!(s.tranches[0].start, None, "aws in us is untouched");
        assert_eq!(s.tranches[2].start, Some(parse_time("2026-02-01").unwrap()));
        let s = scale_prices(s, "aws", Some("us"), 0.5);
        assert_eq!(s.tranches[0].cost_per_million_tokens, 1.0);
        assert_eq!(s.tranches[2].cost_per_million_tokens, 2.0);
        assert_eq!(
            s.tranches[1].cost_per_million_tokens, 2.0,
            "gcp is untouched"
        );
    }

    #[test]
    fn region_without_a_tranche_of_the_provider_is_an_error() {
        let w = WhatIf {
            prices: vec![PriceChange {
                provider: named("gcp"),
                region: Some(NamedRegion {
                    name: "us-west".into(),
                    location: Location::at("scenario.toml", 4, Some("whatif.price.region")),
                }),
                factor: 2.0,
                location: Location::at("scenario.toml", 5, Some("whatif.price.factor")),
            }],
            ..WhatIf::default()
        };
        let e = apply(scenario(), &w).unwrap_err().to_string();
        assert_eq!(
            e,
            "error: scenario.toml:4: column 'whatif.price.region': provider 'gcp' has no tranche in region 'us-west'; expected one of 'us'"
        );
    }

    #[test]
    fn a_factor_that_passes_a_limit_is_an_error_at_the_factor() {
        let mut s = scenario();
        s.tranches[0].cost_per_million_tokens = 2000.0;
        let w = WhatIf {
            prices: vec![PriceChange {
                provider: named("aws"),
                region: None,
                factor: 1e6,
                location: Location::at("scenario.toml", 5, Some("whatif.price.factor")),
            }],
            ..WhatIf::default()
        };
        let e = apply(s, &w).unwrap_err().to_string();
        assert!(
            e.contains("scenario.toml:5: column 'whatif.price.factor'"),
            "{e}"
        );
        assert!(
            e.contains("usage price of tranche 'aws/t'")
                && e.contains(
                    "expected at most 1e9 $ per million tokens (capplan's limit), found 2e9"
                ),
            "{e}"
        );
        let mut s = scenario();
        s.demand[0].tokens_per_minute = 1e10;
        let w = WhatIf {
            demand_scale: Some((
                1e6,
                Location::at("scenario.toml", 2, Some("whatif.demand_scale")),
            )),
            ..WhatIf::default()
        };
        let e = apply(s, &w).unwrap_err().to_string();
        assert!(
            e.contains("scenario.toml:2: column 'whatif.demand_scale'"),
            "{e}"
        );
        assert!(
            e.contains("at most 1e15 tokens per minute (capplan's limit), found 1e16"),
            "{e}"
        );
    }

    #[test]
    fn delay_moves_start_and_keeps_end() {
        let s = scenario();
        let h = s.horizon_start();
        let s = delay(s, "gcp", None, 10.0, h);
        assert_eq!(s.tranches[1].start, Some(parse_time("2026-02-11").unwrap()));
        assert_eq!(s.tranches[1].end, Some(parse_time("2026-03-01").unwrap()));
        let s = delay(s, "aws", None, 90.0, h);
        assert_eq!(
            s.tranches[0].start,
            Some(parse_time("2026-04-01").unwrap()),
            "empty start = horizon start + days"
        );
    }

    #[test]
    fn price_factor_scales_usage_and_commit() {
        let s = scale_prices(scenario(), "aws", None, 0.5);
        assert_eq!(s.tranches[0].cost_per_million_tokens, 1.0);
        assert_eq!(s.tranches[0].commit_cost_per_hour, 5.0);
        assert_eq!(s.tranches[1].cost_per_million_tokens, 2.0);
    }

    fn outage(provider: &str) -> Outage {
        Outage {
            provider: provider.into(),
            region: None,
            tranche: None,
            start: parse_time("2026-01-01").unwrap(),
            end: parse_time("2026-01-08").unwrap(),
            capacity_factor: 0.5,
        }
    }

    #[test]
    fn outage_is_added() {
        let s = add_outage(scenario(), outage("aws"));
        assert_eq!(s.outages, vec![outage("aws")]);
    }

    fn max_delay(workload: &str, minutes: f64) -> MaxDelayChange {
        MaxDelayChange {
            workload: NamedWorkload {
                name: workload.into(),
                location: Location::at_key("scenario.toml", 2, "whatif.max_delay.workload"),
            },
            minutes,
            location: Location::at_key("scenario.toml", 3, "whatif.max_delay.max_delay"),
        }
    }

    #[test]
    fn max_delay_sets_a_workloads_delay_and_keeps_its_other_settings() {
        let mut s = scenario();
        s.workload_settings.insert(
            "chat".into(),
            crate::scenario::Workload {
                unserved_penalty: Some(500.0),
                ..Default::default()
            },
        );
        let w = WhatIf {
            max_delays: vec![max_delay("chat", 1440.0)],
            ..WhatIf::default()
        };
        let s = apply(s, &w).unwrap();
        let chat = s.workload("chat");
        assert_eq!(chat.max_delay_minutes, 1440.0);
        assert_eq!(chat.unserved_penalty, Some(500.0));
        assert_eq!(
            chat.max_delay_at,
            Some(Location::at_key(
                "scenario.toml",
                3,
                "whatif.max_delay.max_delay"
            ))
        );
    }

    #[test]
    fn max_delay_of_an_unknown_workload_is_an_error_at_its_name() {
        let w = WhatIf {
            max_delays: vec![max_delay("chta", 60.0)],
            ..WhatIf::default()
        };
        let e = apply(scenario(), &w).unwrap_err().to_string();
        assert_eq!(
            e,
            "error: scenario.toml:2: key 'whatif.max_delay.workload': workload 'chta' matches no workload of the scenario's demand (did you mean 'chat'?); expected one of 'chat'"
        );
    }

    #[test]
    fn a_price_factor_scales_the_per_gpu_hour_prices_and_their_translations() {
        let mut s = scenario();
        s.tranches[0].gpu = Some(crate::scenario::GpuCapacity {
            gpu_type: Some("H200".into()),
            gpus: 8,
            block_gpus: 1,
            tokens_per_second_per_gpu: 1500.0,
            throughput_origin: None,
            commit_cost_per_gpu_hour: Some(2.5),
            cost_per_gpu_hour: Some(3.2),
        });
        s.tranches[0].translate_gpus();
        let s = scale_prices(s, "aws", None, 0.5);
        let t = &s.tranches[0];
        let g = t.gpu.as_ref().unwrap();
        assert_eq!(
            (g.commit_cost_per_gpu_hour, g.cost_per_gpu_hour),
            (Some(1.25), Some(1.6))
        );
        assert_eq!(t.commit_cost_per_hour, 10.0, "8 × $1.25");
        assert_eq!(t.cost_per_million_tokens, 1.6 * 1e6 / (1500.0 * 3600.0));
        assert_eq!(t.capacity_tpm, 720_000.0, "capacity unchanged");
    }

    #[test]
    fn unknown_provider_is_an_error_naming_the_place() {
        let w = WhatIf {
            delays: vec![Delay {
                provider: named("awz"),
                region: None,
                days: 1.0,
            }],
            ..WhatIf::default()
        };
        let e = apply(scenario(), &w).unwrap_err().to_string();
        assert!(e.contains("scenario.toml:3"), "{e}");
        assert!(e.contains("provider 'awz' matches no provider"), "{e}");
    }
}
