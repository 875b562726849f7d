//! Loading stage, the one what-if syntax. A what-if is written in three places: a scenario.toml's
//! `[whatif]` and `[policy]` keys, a command-line flag (`--delay aws=90d`, `--set
//! policy.loss_coverage=0.8`) and a sweep file's `[grid]` axis (`"delay.aws" = ["90d"]`). Each
//! source finds its keys and values and where they were written; this module maps (kind, value,
//! location) to a `Change` and adds changes to one what-if level, so a value means the same
//! wherever it is written and a new what-if is one `Kind`, its readers and its `add` arm.
//!
//! A new what-if goes in: `Kind` (and `Kind::ALL`, `Kind::flag`), `Change`, `read_flag`,
//! `AxisKey::parse` and `flag_value`, `AXIS_FORMS`, `Level::add`; a `WhatIfFlags` field
//! (`load/flags.rs`), a `WhatIfArgs` field (`cli/mod.rs`), the raw struct and schema of
//! scenario.toml (`load/toml_file.rs`), and `whatif::apply` with its `WhatIf` field.
//!
//! Values come as `Given`: text (a flag or an axis value, read with capplan's number and time
//! forms and quoted in messages as written) or a TOML value (typed by the TOML parser, described
//! by its type). The messages are those each source has always given.

use chrono::{DateTime, Utc};
use toml::Value;

use crate::error::{list, Diagnostic, Location};
use crate::scenario::Outage;
use crate::units::{
    check_fraction, fixed, format_time, parse_fraction, parse_limited, parse_number, parse_time,
    read_duration_minutes, Limit, FACTOR_LIMIT, MAX_DELAY_DAYS, MAX_DELAY_FORMS, PRICE_LIMIT,
    TIME_FORMS,
};
use crate::whatif::{
    Delay, MaxDelayChange, NamedProvider, NamedRegion, NamedWorkload, OutageChange, PolicySettings,
    PriceChange, WhatIf,
};

/// The kinds of what-if, in canonical order (labels, folder names, `summary.json`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    DemandScale,
    Only,
    Exclude,
    Delay,
    Price,
    Outage,
    MaxDelay,
    Set,
}

impl Kind {
    pub const ALL: [Kind; 8] = [
        Kind::DemandScale,
        Kind::Only,
        Kind::Exclude,
        Kind::Delay,
        Kind::Price,
        Kind::Outage,
        Kind::MaxDelay,
        Kind::Set,
    ];

    /// The command-line flag, with its dashes.
    pub fn flag(self) -> &'static str {
        match self {
            Kind::DemandScale => "--demand-scale",
            Kind::Only => "--only",
            Kind::Exclude => "--exclude",
            Kind::Delay => "--delay",
            Kind::Price => "--price",
            Kind::Outage => "--outage",
            Kind::MaxDelay => "--max-delay",
            Kind::Set => "--set",
        }
    }
}

/// A `[policy]` key, as scenario.toml, `--set policy.KEY=VALUE` and a `"policy.KEY"` axis name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKey {
    UnservedPenalty,
    MaxProviderShare,
    SurviveProviderLoss,
    LossCoverage,
    ResiliencePenalty,
}

impl PolicyKey {
    pub const ALL: [PolicyKey; 5] = [
        PolicyKey::UnservedPenalty,
        PolicyKey::MaxProviderShare,
        PolicyKey::SurviveProviderLoss,
        PolicyKey::LossCoverage,
        PolicyKey::ResiliencePenalty,
    ];

    /// The key inside `[policy]`.
    pub fn name(self) -> &'static str {
        match self {
            PolicyKey::UnservedPenalty => "unserved_penalty",
            PolicyKey::MaxProviderShare => "max_provider_share",
            PolicyKey::SurviveProviderLoss => "survive_provider_loss",
            PolicyKey::LossCoverage => "loss_coverage",
            PolicyKey::ResiliencePenalty => "resilience_penalty",
        }
    }

    pub fn from_name(name: &str) -> Option<PolicyKey> {
        PolicyKey::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// A value as its source gives it.
#[derive(Debug, Clone, Copy)]
pub enum Given<'a> {
    /// A flag's or an axis's text.
    Text(&'a str),
    /// A scenario.toml value.
    Toml(&'a Value),
}

/// Provider, and region when given, of a delay, a price change or an outage.
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    pub provider: String,
    pub region: Option<String>,
}

/// One what-if change, read from any source.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    DemandScale(f64),
    Only(Vec<String>),
    Exclude(Vec<String>),
    Delay {
        target: Target,
        days: f64,
    },
    Price {
        target: Target,
        factor: f64,
    },
    Outage(Outage),
    /// A workload's tokens may wait `minutes` (spec v3's `max_delay`).
    MaxDelay {
        workload: String,
        minutes: f64,
    },
    Policy(PolicyKey, PolicyValue),
}

/// The value a `[policy]` key takes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PolicyValue {
    Number(f64),
    Bool(bool),
}

/// Where the parts of one change were written: a flag for all of them, or the line of each TOML
/// key (the provider's, the region's, the value's). A `max_delay` change's workload is at
/// `provider`, the place of the name the change is for.
#[derive(Debug, Clone)]
pub struct At {
    pub provider: Location,
    pub region: Location,
    pub value: Location,
}

impl At {
    /// Every part at one place (a flag).
    pub fn all(location: Location) -> At {
        At {
            provider: location.clone(),
            region: location.clone(),
            value: location,
        }
    }
}

/// One what-if level: a `WhatIf` and the `[policy]` keys it sets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Level {
    pub whatif: WhatIf,
    pub policy: PolicySettings,
    /// Suspicious but legal changes: a factor of 10 or more, where a percentage may have been
    /// meant (`demand_scale = 40` for 40% or +40%).
    pub warnings: Vec<Diagnostic>,
}

/// The smallest what-if factor that is warned about.
const LARGE_FACTOR: f64 = 10.0;

impl Level {
    /// Adds a change. Repeats combine as repeated flags do: demand factors multiply (the
    /// location lists each), provider lists unite (a name keeps its first place), delays, price
    /// changes and outages add up, and a policy key set twice takes the later value.
    pub fn add(&mut self, change: Change, at: At) {
        let w = &mut self.whatif;
        match change {
            Change::DemandScale(x) => {
                self.warnings
                    .extend(large_factor(x, "demand_scale", "demand", &at.value));
                w.demand_scale = Some(match w.demand_scale.take() {
                    None => (x, at.value),
                    Some((before, mut location)) => {
                        if let (Some(a), Some(b)) = (&mut location.flag, &at.value.flag) {
                            a.push(' ');
                            a.push_str(b);
                        }
                        (before * x, location)
                    }
                })
            }
            Change::Only(names) => {
                let list = w.only_providers.get_or_insert_with(Vec::new);
                unite(list, names, &at.provider);
            }
            Change::Exclude(names) => unite(&mut w.exclude_providers, names, &at.provider),
            Change::Delay { target, days } => {
                let (provider, region) = named_target(target, &at);
                w.delays.push(Delay {
                    provider,
                    region,
                    days,
                });
            }
            Change::Price { target, factor } => {
                self.warnings
                    .extend(large_factor(factor, "factor", "the prices", &at.value));
                let (provider, region) = named_target(target, &at);
                w.prices.push(PriceChange {
                    provider,
                    region,
                    factor,
                    location: at.value,
                });
            }
            Change::Outage(outage) => w.outages.push(OutageChange {
                provider: NamedProvider {
                    name: outage.provider.clone(),
                    location: at.provider,
                },
                outage,
            }),
            Change::MaxDelay { workload, minutes } => w.max_delays.push(MaxDelayChange {
                workload: NamedWorkload {
                    name: workload,
                    location: at.provider,
                },
                minutes,
                location: at.value,
            }),
            Change::Policy(key, value) => set_policy(&mut self.policy, key, value),
        }
    }

    /// Sets `only_providers` (`only`) or `exclude_providers` to a TOML list as written: every
    /// name, at the list's place (a key is written once, so nothing is united).
    pub fn list_providers(&mut self, only: bool, names: Vec<String>, location: &Location) {
        let named: Vec<NamedProvider> = names
            .into_iter()
            .map(|name| NamedProvider {
                name,
                location: location.clone(),
            })
            .collect();
        if only {
            self.whatif.only_providers = Some(named);
        } else {
            self.whatif.exclude_providers = named;
        }
    }
}

/// A warning for a factor of `LARGE_FACTOR` or more: a percentage may have been meant.
fn large_factor(x: f64, name: &str, what: &str, at: &Location) -> Option<Diagnostic> {
    (x >= LARGE_FACTOR).then(|| {
        Diagnostic::new(
            at.clone(),
            format!(
                "{name} {} multiplies {what} by {}; if a percentage was meant, write {} for {}% or {} for +{}%",
                fixed(x),
                fixed(x),
                fixed(x / 100.0),
                fixed(x),
                fixed(1.0 + x / 100.0),
                fixed(x)
            ),
        )
    })
}

/// Adds the names not yet in `list`, each at `location`.
fn unite(list: &mut Vec<NamedProvider>, names: Vec<String>, location: &Location) {
    for name in names {
        if !list.iter().any(|n| n.name == name) {
            list.push(NamedProvider {
                name,
                location: location.clone(),
            });
        }
    }
}

fn named_target(target: Target, at: &At) -> (NamedProvider, Option<NamedRegion>) {
    (
        NamedProvider {
            name: target.provider,
            location: at.provider.clone(),
        },
        target.region.map(|name| NamedRegion {
            name,
            location: at.region.clone(),
        }),
    )
}

fn set_policy(policy: &mut PolicySettings, key: PolicyKey, value: PolicyValue) {
    match (key, value) {
        (PolicyKey::SurviveProviderLoss, PolicyValue::Bool(b)) => {
            policy.survive_provider_loss = Some(b)
        }
        (PolicyKey::UnservedPenalty, PolicyValue::Number(x)) => policy.unserved_penalty = Some(x),
        (PolicyKey::MaxProviderShare, PolicyValue::Number(x)) => {
            policy.max_provider_share = Some(x)
        }
        (PolicyKey::LossCoverage, PolicyValue::Number(x)) => policy.loss_coverage = Some(x),
        (PolicyKey::ResiliencePenalty, PolicyValue::Number(x)) => {
            policy.resilience_penalty = Some(x)
        }
        // `policy_value` reads each key as its own type.
        _ => unreachable!("policy key {key:?} read as {value:?}"),
    }
}

// ---------------------------------------------------------------------------------------------
// Values: one reader per kind of value, for text and for TOML.

/// A non-negative number, as text (capplan's number forms) or a TOML integer or float.
pub fn number(v: Given) -> Result<f64, String> {
    match v {
        Given::Text(t) => parse_number(t),
        Given::Toml(v) => {
            let x = match v {
                Value::Integer(i) => *i as f64,
                Value::Float(f) => *f,
                other => return Err(format!("expected a number, found {}", describe(other))),
            };
            if x.is_nan() {
                return Err("expected a number, found NaN".into());
            }
            if x.is_infinite() {
                return Err("expected a finite number, found an infinite value".into());
            }
            if x < 0.0 {
                return Err(format!("expected a non-negative number, found {x}"));
            }
            Ok(x)
        }
    }
}

/// A non-negative number within one of capplan's magnitude limits.
pub fn limited(v: Given, limit: Limit) -> Result<f64, String> {
    match v {
        Given::Text(t) => parse_limited(t, limit),
        Given::Toml(_) => limit.check(number(v)?),
    }
}

/// A what-if factor (`demand_scale`, a price factor). A percentage is no factor; the message
/// says which factor it would be: `40%` is 0.4, a change of `+20%` is 1.2.
pub fn factor(v: Given) -> Result<f64, String> {
    limited(v, FACTOR_LIMIT).map_err(|m| match percent(v).and_then(percent_factor) {
        Some(x) => format!(
            "{}; write the factor as a number: {}",
            without_hint(&m, v),
            fixed(x)
        ),
        None => m,
    })
}

/// A fraction in [0, 1] (`capacity_factor` of an outage).
pub fn fraction(v: Given) -> Result<f64, String> {
    match v {
        Given::Text(t) => parse_fraction(t).map_err(|m| with_percent_guess(m, v)),
        Given::Toml(_) => policy_fraction(v),
    }
}

/// A policy fraction (`max_provider_share`, `loss_coverage`), or any fraction in TOML: a number
/// in [0, 1]. A percentage says which fraction it is: `40%` is 0.4, and `40` is likely 0.4.
fn policy_fraction(v: Given) -> Result<f64, String> {
    if let (Given::Text(t), Some(_)) = (v, percent(v)) {
        return parse_fraction(t);
    }
    number(v)
        .map_err(|m| match percent(v).and_then(percent_fraction) {
            Some(x) => format!("{m}; write fractions as decimals: {}", fixed(x)),
            None => m,
        })
        .and_then(check_fraction)
        .map_err(|m| with_percent_guess(m, v))
}

/// The number before the `%` of a percentage written as text or as a TOML string (`+20%`).
fn percent<'a>(v: Given<'a>) -> Option<&'a str> {
    let t = match v {
        Given::Text(t) => t,
        Given::Toml(Value::String(s)) => s,
        Given::Toml(_) => return None,
    };
    t.trim().strip_suffix('%').map(str::trim_end)
}

/// The factor a percentage stands for: `40` (of `40%`) is 0.4; a signed change `+20` is 1.2,
/// `-20` is 0.8. None when it is no number or no factor (`-150%`).
fn percent_factor(p: &str) -> Option<f64> {
    let signed = p.starts_with(['+', '-']);
    let x: f64 = p.parse().ok().filter(|x: &f64| x.is_finite())?;
    let factor = if signed { 1.0 + x / 100.0 } else { x / 100.0 };
    (factor >= 0.0).then_some(factor)
}

/// The fraction a percentage stands for: `40` is 0.4; None outside [0, 100].
fn percent_fraction(p: &str) -> Option<f64> {
    let x: f64 = p.parse().ok()?;
    (0.0..=100.0).contains(&x).then(|| x / 100.0)
}

/// The message without the hint the number reader gave a percentage (`drop the percent sign`),
/// which is wrong for a factor.
fn without_hint(message: &str, v: Given) -> String {
    match v {
        Given::Text(_) => message
            .split_once("; drop the percent sign")
            .map_or(message, |(m, _)| m)
            .to_string(),
        Given::Toml(_) => message.to_string(),
    }
}

/// A fraction message for a whole number from 2 to 100, which is likely a percentage, with the
/// fraction it would be: `found 40; did you mean 0.4?`.
fn with_percent_guess(message: String, v: Given) -> String {
    let x = match v {
        Given::Toml(Value::Integer(i)) => *i as f64,
        Given::Toml(Value::Float(f)) => *f,
        Given::Text(t) => match parse_number(t) {
            Ok(x) => x,
            Err(_) => return message,
        },
        Given::Toml(_) => return message,
    };
    if x.fract() == 0.0 && x > 1.0 && x <= 100.0 && message.starts_with("expected a fraction") {
        format!("{message}; did you mean {}?", fixed(x / 100.0))
    } else {
        message
    }
}

/// `true` or `false`.
pub fn boolean(v: Given) -> Result<bool, String> {
    match v {
        Given::Text("true") => Ok(true),
        Given::Text("false") => Ok(false),
        Given::Text(t) => Err(format!("expected true or false, found '{t}'")),
        Given::Toml(Value::Boolean(b)) => Ok(*b),
        Given::Toml(other) => Err(format!("expected true or false, found {}", describe(other))),
    }
}

/// A string (a TOML value; text is one already).
pub fn string(v: Given) -> Result<String, String> {
    match v {
        Given::Text(t) => Ok(t.to_string()),
        Given::Toml(Value::String(s)) => Ok(s.clone()),
        Given::Toml(other) => Err(format!("expected a string, found {}", describe(other))),
    }
}

/// An instant in the CSV forms; in TOML also a native date or time.
pub fn time(v: Given) -> Result<DateTime<Utc>, String> {
    match v {
        Given::Text(t) => parse_time(t),
        Given::Toml(Value::String(s)) => parse_time(s),
        // Native TOML dates print in RFC 3339 forms the CSV parser accepts.
        Given::Toml(Value::Datetime(d)) => parse_time(&d.to_string()),
        Given::Toml(other) => Err(format!("expected {TIME_FORMS}, found {}", describe(other))),
    }
}

/// The days of a delay: a TOML number of days, or text as a duration `90d`, `12h`, `2w`.
pub fn delay_days(v: Given) -> Result<f64, String> {
    match v {
        Given::Toml(_) => {
            let x = number(v)?;
            if x > MAX_DELAY_DAYS {
                return Err(format!("expected at most {MAX_DELAY_DAYS}, found {x}"));
            }
            Ok(x)
        }
        Given::Text(d) => {
            let d = d.trim();
            let bad = || format!("expected {DURATION_FORMS}, found '{d}'");
            let (body, days_per_unit) = match d.char_indices().last() {
                Some((i, 'h')) => (&d[..i], 1.0 / 24.0),
                Some((i, 'd')) => (&d[..i], 1.0),
                Some((i, 'w')) => (&d[..i], 7.0),
                _ => return Err(bad()),
            };
            if body.trim_start().starts_with('-') {
                return Err(format!("expected a non-negative duration, found '{d}'"));
            }
            let amount = parse_number(body).map_err(|_| bad())?;
            let days = amount * days_per_unit;
            if days > MAX_DELAY_DAYS {
                return Err(format!(
                    "expected a delay of at most {MAX_DELAY_DAYS} days, found '{d}'"
                ));
            }
            Ok(days)
        }
    }
}

/// A workload's `max_delay`, minutes: text in the duration forms (`0`, `90m`, `36h`, `2d`, `1w`),
/// as workloads.csv writes it; in TOML a string so, or the number 0.
pub fn max_delay(v: Given) -> Result<f64, String> {
    match v {
        Given::Text(t) => read_duration_minutes(t).map_err(String::from),
        Given::Toml(Value::String(s)) => read_duration_minutes(s).map_err(String::from),
        Given::Toml(Value::Integer(0)) => Ok(0.0),
        Given::Toml(Value::Float(f)) if *f == 0.0 => Ok(0.0),
        Given::Toml(other @ (Value::Integer(_) | Value::Float(_))) => {
            let n = match other {
                Value::Integer(i) => i.to_string(),
                _ => fixed(other.as_float().unwrap_or_default()),
            };
            Err(format!(
                "expected {MAX_DELAY_FORMS}, as a string, found {}; write it with its unit, such as \"{n}h\"",
                describe(other)
            ))
        }
        Given::Toml(other) => Err(format!(
            "expected {MAX_DELAY_FORMS}, as a string, found {}",
            describe(other)
        )),
    }
}

/// The value of a `[policy]` key.
pub fn policy_value(key: PolicyKey, v: Given) -> Result<PolicyValue, String> {
    Ok(match key {
        PolicyKey::UnservedPenalty | PolicyKey::ResiliencePenalty => {
            PolicyValue::Number(limited(v, PRICE_LIMIT)?)
        }
        PolicyKey::MaxProviderShare | PolicyKey::LossCoverage => {
            PolicyValue::Number(policy_fraction(v)?)
        }
        PolicyKey::SurviveProviderLoss => PolicyValue::Bool(boolean(v)?),
    })
}

/// A TOML value for messages: "the string \"x\"", "the integer 3", "a list".
pub fn describe(v: &Value) -> String {
    match v {
        Value::String(s) => format!("the string \"{s}\""),
        Value::Integer(i) => format!("the integer {i}"),
        Value::Float(f) => format!("the number {f}"),
        Value::Boolean(b) => format!("{b}"),
        Value::Datetime(d) => format!("the date {d}"),
        Value::Array(_) => "a list".into(),
        Value::Table(_) => "a table".into(),
    }
}

// ---------------------------------------------------------------------------------------------
// Flags: the text of one flag's value → one change.

const DURATION_FORMS: &str = "a duration such as 90d, 12h or 2w";
const DELAY_FORM: &str = "PROVIDER[/REGION]=DURATION such as aws=90d or aws/us-east=12h";
const PRICE_FORM: &str = "PROVIDER[/REGION]=FACTOR such as gcp=0.8 or gcp/eu=0.8";
const OUTAGE_FORM: &str =
    "PROVIDER[/REGION]@START..END[=FACTOR] such as azure@2026-07-06..2026-07-13=0.2";
const MAX_DELAY_FORM: &str = "WORKLOAD=DURATION such as batch=24h";

/// `policy.KEY` for every policy key, as `--set` and axes write them.
pub fn policy_keys() -> Vec<String> {
    PolicyKey::ALL
        .iter()
        .map(|k| format!("policy.{}", k.name()))
        .collect()
}

/// Reads the value of one what-if flag (`aws=90d` of `--delay aws=90d`).
pub fn read_flag(kind: Kind, v: &str) -> Result<Change, String> {
    match kind {
        Kind::DemandScale => factor(Given::Text(v)).map(Change::DemandScale),
        Kind::Only => provider_list(v).map(Change::Only),
        Kind::Exclude => provider_list(v).map(Change::Exclude),
        Kind::Delay => {
            let (who, duration) = v
                .split_once('=')
                .ok_or_else(|| format!("expected {DELAY_FORM}, found '{v}'"))?;
            let target = target(who, DELAY_FORM)?;
            let days = delay_days(Given::Text(duration))?;
            Ok(Change::Delay { target, days })
        }
        Kind::Price => {
            let (who, value) = v
                .split_once('=')
                .ok_or_else(|| format!("expected {PRICE_FORM}, found '{v}'"))?;
            let target = target(who, PRICE_FORM)?;
            let factor = factor(Given::Text(value))?;
            Ok(Change::Price { target, factor })
        }
        Kind::Outage => outage(v).map(Change::Outage),
        Kind::MaxDelay => {
            let form = || format!("expected {MAX_DELAY_FORM}, found '{v}'");
            let (workload, duration) = v.split_once('=').ok_or_else(form)?;
            let workload = workload.trim();
            if workload.is_empty() {
                return Err(form());
            }
            let minutes = max_delay(Given::Text(duration))?;
            Ok(Change::MaxDelay {
                workload: workload.to_string(),
                minutes,
            })
        }
        Kind::Set => set(v),
    }
}

fn provider_list(v: &str) -> Result<Vec<String>, String> {
    let names: Vec<String> = v.split(',').map(|n| n.trim().to_string()).collect();
    if names.iter().any(String::is_empty) {
        return Err(format!(
            "expected provider names separated by commas such as azure,gcp, found '{v}'"
        ));
    }
    Ok(names)
}

/// `PROVIDER[/REGION]` before the `=` of a delay or price, or the `@` of an outage.
fn target(text: &str, form: &str) -> Result<Target, String> {
    let (provider, region) = match text.split_once('/') {
        Some((p, r)) => (p.trim(), Some(r.trim())),
        None => (text.trim(), None),
    };
    if provider.is_empty() || region.is_some_and(str::is_empty) {
        return Err(format!("expected {form}, found '{text}'"));
    }
    Ok(Target {
        provider: provider.to_string(),
        region: region.map(str::to_string),
    })
}

/// `PROVIDER[/REGION]@START..END[=FACTOR]`: split on the first `@`, the last `..` and the last `=`
/// so times keep their `:` and offsets.
fn outage(v: &str) -> Result<Outage, String> {
    let form = || format!("expected {OUTAGE_FORM}, found '{v}'");
    let (who, window) = v.split_once('@').ok_or_else(form)?;
    let (times, factor) = match window.rsplit_once('=') {
        Some((t, f)) => (t, Some(f)),
        None => (window, None),
    };
    let (start, end) = times.rsplit_once("..").ok_or_else(form)?;
    let target = target(who, OUTAGE_FORM)?;
    let start = time(Given::Text(start)).map_err(|m| format!("start: {m}"))?;
    let end = time(Given::Text(end)).map_err(|m| format!("end: {m}"))?;
    if end <= start {
        return Err(format!(
            "expected an end after the start {}, found {}",
            format_time(&start),
            format_time(&end)
        ));
    }
    let capacity_factor = match factor {
        Some(f) => fraction(Given::Text(f))?,
        None => 0.0,
    };
    Ok(Outage {
        provider: target.provider,
        region: target.region,
        tranche: None,
        start,
        end,
        capacity_factor,
    })
}

/// `policy.KEY=VALUE`, read as scenario.toml's `[policy]` reads the key.
fn set(v: &str) -> Result<Change, String> {
    let Some((key, value)) = v.split_once('=') else {
        return Err(format!(
            "expected policy.KEY=VALUE such as policy.max_provider_share=0.6, found '{v}'"
        ));
    };
    let key = key.trim();
    let value = value.trim();
    let Some(policy_key) = key.strip_prefix("policy.").and_then(PolicyKey::from_name) else {
        let accepted = policy_keys();
        let names: Vec<&str> = accepted.iter().map(String::as_str).collect();
        let hint = crate::error::closest(key, &names)
            .map(|c| format!(" (did you mean '{c}'?)"))
            .unwrap_or_default();
        return Err(format!(
            "unknown key '{key}'{hint}; expected one of {}",
            list(&accepted)
        ));
    };
    policy_value(policy_key, Given::Text(value)).map(|x| Change::Policy(policy_key, x))
}

// ---------------------------------------------------------------------------------------------
// Sweep axes: `"delay.aws"` and a value → the flag that value stands for.

/// The axis forms, for messages.
pub const AXIS_FORMS: &str = "demand_scale, only, exclude, \"delay.PROVIDER[/REGION]\", \"price.PROVIDER[/REGION]\", \"outage.PROVIDER[/REGION]\", \"max_delay.WORKLOAD\" or \"policy.KEY\"";

/// A `[grid]` axis key: the flag its values stand for and the part of the flag's value the key
/// writes (`aws` of `delay.aws`, `policy.loss_coverage` of a policy axis).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AxisKey {
    pub kind: Kind,
    target: String,
}

impl AxisKey {
    /// None for a key that names no axis.
    pub fn parse(key: &str) -> Option<AxisKey> {
        let (head, rest) = match key.split_once('.') {
            Some((h, r)) => (h, Some(r)),
            None => (key, None),
        };
        let (kind, target) = match (head, rest) {
            ("demand_scale", None) => (Kind::DemandScale, String::new()),
            ("only", None) => (Kind::Only, String::new()),
            ("exclude", None) => (Kind::Exclude, String::new()),
            ("delay", Some(t)) if !t.is_empty() => (Kind::Delay, t.to_string()),
            ("price", Some(t)) if !t.is_empty() => (Kind::Price, t.to_string()),
            ("outage", Some(t)) if !t.is_empty() => (Kind::Outage, t.to_string()),
            ("max_delay", Some(t)) if !t.is_empty() => (Kind::MaxDelay, t.to_string()),
            ("policy", Some(t)) if !t.is_empty() => (Kind::Set, key.to_string()),
            _ => return None,
        };
        Some(AxisKey { kind, target })
    }

    /// The flag value an axis value stands for: `90d` of `delay.aws` is `aws=90d`.
    pub fn flag_value(&self, value: &str) -> String {
        match self.kind {
            Kind::DemandScale | Kind::Only | Kind::Exclude => value.to_string(),
            Kind::Outage => format!("{}@{value}", self.target),
            Kind::Delay | Kind::Price | Kind::MaxDelay | Kind::Set => {
                format!("{}={value}", self.target)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn flag_error(kind: Kind, value: &str) -> String {
        read_flag(kind, value).unwrap_err()
    }

    const NUMBER: &str = "expected a number such as 1200, 1.5e10 or 15B (suffixes K, M, B, T)";

    #[test]
    fn a_percentage_for_a_factor_says_which_factor() {
        assert_eq!(
            flag_error(Kind::DemandScale, "40%"),
            format!("{NUMBER}, found '40%'; write the factor as a number: 0.4")
        );
        assert_eq!(
            flag_error(Kind::Price, "gcp=+20%"),
            format!("{NUMBER}, found '+20%'; write the factor as a number: 1.2")
        );
        assert_eq!(
            flag_error(Kind::Price, "gcp/eu=-20%"),
            format!("{NUMBER}, found '-20%'; write the factor as a number: 0.8")
        );
        // No factor is a cut of more than 100%.
        assert_eq!(
            flag_error(Kind::Price, "gcp=-150%"),
            format!("{NUMBER}, found '-150%'")
        );
        let toml = Value::String("40%".into());
        assert_eq!(
            factor(Given::Toml(&toml)).unwrap_err(),
            "expected a number, found the string \"40%\"; write the factor as a number: 0.4"
        );
    }

    #[test]
    fn a_percentage_for_a_fraction_says_which_fraction() {
        assert_eq!(
            flag_error(Kind::Set, "policy.max_provider_share=40%"),
            "expected a fraction in [0, 1], found '40%'; write fractions as decimals: 0.4"
        );
        assert_eq!(
            flag_error(Kind::Set, "policy.max_provider_share=40"),
            "expected a fraction in [0, 1], found 40; did you mean 0.4?"
        );
        assert_eq!(
            flag_error(Kind::Outage, "aws@2026-01-01..2026-01-02=40"),
            "expected a fraction in [0, 1], found '40'; did you mean 0.4?"
        );
        // 1.5 is no whole percentage: no guess.
        assert_eq!(
            flag_error(Kind::Set, "policy.loss_coverage=1.5"),
            "expected a fraction in [0, 1], found 1.5"
        );
        let e = super::super::toml_file::parse_settings(
            Path::new("scenario.toml"),
            "[policy]\nmax_provider_share = \"40%\"\nloss_coverage = 40\n",
        )
        .unwrap_err()
        .to_string();
        assert_eq!(
            e,
            "error: scenario.toml:2: key 'policy.max_provider_share': expected a number, found the string \"40%\"; write fractions as decimals: 0.4\n\
             error: scenario.toml:3: key 'policy.loss_coverage': expected a fraction in [0, 1], found 40; did you mean 0.4?\n\
             2 errors"
        );
    }

    #[test]
    fn a_factor_of_ten_or_more_is_a_warning() {
        let s = super::super::toml_file::parse_settings(
            Path::new("scenario.toml"),
            "[whatif]\ndemand_scale = 40\n[[whatif.price]]\nprovider = \"a\"\nfactor = 9.5\n",
        )
        .unwrap();
        let warnings: Vec<String> = s.warnings.iter().map(ToString::to_string).collect();
        assert_eq!(
            warnings,
            ["scenario.toml:2: key 'whatif.demand_scale': demand_scale 40 multiplies demand by 40; if a percentage was meant, write 0.4 for 40% or 1.4 for +40%"]
        );
        let mut level = Level::default();
        let change = read_flag(Kind::Price, "gcp=12.5").unwrap();
        level.add(change, At::all(Location::flag("--price", "gcp=12.5")));
        assert_eq!(
            level.warnings[0].to_string(),
            "--price gcp=12.5: factor 12.5 multiplies the prices by 12.5; if a percentage was meant, write 0.125 for 12.5% or 1.125 for +12.5%"
        );
    }

    #[test]
    fn axis_keys_stand_for_flags() {
        let a = AxisKey::parse("delay.aws/eu").unwrap();
        assert_eq!(
            (a.kind, a.flag_value("90d")),
            (Kind::Delay, "aws/eu=90d".into())
        );
        let a = AxisKey::parse("policy.loss_coverage").unwrap();
        assert_eq!(a.flag_value("0.6"), "policy.loss_coverage=0.6");
        let a = AxisKey::parse("outage.azure").unwrap();
        assert_eq!(
            a.flag_value("2026-07-01..2026-07-02"),
            "azure@2026-07-01..2026-07-02"
        );
        assert_eq!(
            AxisKey::parse("demand_scale").unwrap().kind,
            Kind::DemandScale
        );
        for bad in ["delay", "delay.", "nope", "demand_scale.x"] {
            assert_eq!(AxisKey::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn max_delay_flags_axes_and_toml_values() {
        assert_eq!(
            read_flag(Kind::MaxDelay, "batch=24h"),
            Ok(Change::MaxDelay {
                workload: "batch".into(),
                minutes: 1440.0
            })
        );
        assert_eq!(
            read_flag(Kind::MaxDelay, "batch=0"),
            Ok(Change::MaxDelay {
                workload: "batch".into(),
                minutes: 0.0
            })
        );
        for bad in ["batch", "=24h"] {
            assert_eq!(
                flag_error(Kind::MaxDelay, bad),
                format!("expected WORKLOAD=DURATION such as batch=24h, found '{bad}'")
            );
        }
        let forms = "expected a duration: 0, or a number and one unit m, h, d or w (minutes, hours, days of 24 h, weeks) such as 90m, 36h, 2d or 1w";
        assert_eq!(
            flag_error(Kind::MaxDelay, "batch=2D"),
            format!("{forms}, found '2D'; units are lower case: 2d")
        );
        let a = AxisKey::parse("max_delay.batch").unwrap();
        assert_eq!(
            (a.kind, a.flag_value("36h")),
            (Kind::MaxDelay, "batch=36h".into())
        );
        assert_eq!(AxisKey::parse("max_delay"), None);
        assert_eq!(max_delay(Given::Toml(&Value::Integer(0))), Ok(0.0));
        assert_eq!(
            max_delay(Given::Toml(&Value::String("90m".into()))),
            Ok(90.0)
        );
        assert_eq!(
            max_delay(Given::Toml(&Value::Integer(24))).unwrap_err(),
            format!("{forms}, as a string, found the integer 24; write it with its unit, such as \"24h\"")
        );
    }

    #[test]
    fn repeated_demand_scales_multiply_at_every_flag() {
        let mut level = Level::default();
        for v in ["1.5", "2"] {
            let at = At::all(Location::flag("--demand-scale", v));
            level.add(read_flag(Kind::DemandScale, v).unwrap(), at);
        }
        let (x, location) = level.whatif.demand_scale.unwrap();
        assert_eq!(x, 3.0);
        assert_eq!(location.to_string(), "--demand-scale 1.5 --demand-scale 2");
    }
}
