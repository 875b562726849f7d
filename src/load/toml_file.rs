//! Loading stage, scenario.toml: name, inheritance, horizon, `[policy]` and `[whatif]`, checked
//! key by key with the line of each key in messages.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use toml::{Spanned, Value};

use crate::error::{list, Diagnostics, Error, Location, Result};
use crate::scenario::Outage;
use crate::units::{
    check_fraction, parse_time, read_time, BadValue, Limit, FACTOR_LIMIT, MAX_DELAY_DAYS,
    PRICE_LIMIT, TIME_FORMS,
};
use crate::whatif::{Delay, NamedProvider, NamedRegion, OutageChange, PriceChange, WhatIf};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawToml {
    name: Option<Spanned<Value>>,
    description: Option<Spanned<Value>>,
    extends: Option<Spanned<Value>>,
    horizon_end: Option<Spanned<Value>>,
    policy: Option<RawPolicy>,
    whatif: Option<RawWhatIf>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    unserved_penalty: Option<Spanned<Value>>,
    max_provider_share: Option<Spanned<Value>>,
    survive_provider_loss: Option<Spanned<Value>>,
    loss_coverage: Option<Spanned<Value>>,
    resilience_penalty: Option<Spanned<Value>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWhatIf {
    demand_scale: Option<Spanned<Value>>,
    only_providers: Option<Spanned<Value>>,
    exclude_providers: Option<Spanned<Value>>,
    delay: Option<Vec<RawDelay>>,
    price: Option<Vec<RawPrice>>,
    outage: Option<Vec<RawOutage>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDelay {
    provider: Spanned<Value>,
    region: Option<Spanned<Value>>,
    days: Spanned<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPrice {
    provider: Spanned<Value>,
    region: Option<Spanned<Value>>,
    factor: Spanned<Value>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOutage {
    provider: Spanned<Value>,
    region: Option<Spanned<Value>>,
    start: Spanned<Value>,
    end: Spanned<Value>,
    capacity_factor: Option<Spanned<Value>>,
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

/// A checked scenario.toml.
#[derive(Debug, Clone, Default)]
pub struct Settings {
    pub name: Option<String>,
    pub description: Option<String>,
    /// The `extends` path as written, and where.
    pub extends: Option<(String, Location)>,
    pub horizon_end: Option<(DateTime<Utc>, Location)>,
    pub policy: PolicySettings,
    pub whatif: WhatIf,
}

/// Reads and checks `path` (a scenario.toml), collecting every problem.
pub fn read_settings(path: &Path) -> Result<Settings> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let line = line_at(
                &String::from_utf8_lossy(&e.as_bytes()[..e.utf8_error().valid_up_to()]),
                usize::MAX,
            );
            return Err(Error::input(
                Location::at(path, line, None),
                "expected UTF-8 text, found bytes that are not",
            ));
        }
    };
    parse_settings(path, &text)
}

/// Parses scenario.toml text (see `read_settings`).
pub fn parse_settings(path: &Path, text: &str) -> Result<Settings> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    unknown_keys(path, text)?;
    let raw: RawToml = toml::from_str(text).map_err(|e| {
        let line = e.span().map(|s| line_at(text, s.start)).unwrap_or(1);
        if let Some((key, bad)) = native_time_problem(text, line) {
            return Error::input(Location::at_key(path, line, &key), bad.message);
        }
        let message = e.message().trim().replace('\n', " ");
        let message = if message.starts_with("unknown field") {
            format!("{message} (unknown keys are errors, like unknown CSV columns)")
        } else {
            format!("expected valid scenario TOML: {message}")
        };
        Error::input(Location::at(path, line, None), message)
    })?;
    let mut c = Checker {
        path,
        text,
        diags: Diagnostics::default(),
    };
    let mut s = Settings {
        name: raw.name.and_then(|v| c.string(v, "name")),
        description: raw.description.and_then(|v| c.string(v, "description")),
        ..Settings::default()
    };
    if let Some(v) = raw.extends {
        let loc = c.loc(&v, "extends");
        s.extends = c.string(v, "extends").map(|p| (p, loc));
    }
    if let Some(v) = raw.horizon_end {
        let loc = c.loc(&v, "horizon_end");
        s.horizon_end = c.time(v, "horizon_end").map(|t| (t, loc));
    }
    if let Some(p) = raw.policy {
        s.policy = PolicySettings {
            unserved_penalty: p
                .unserved_penalty
                .and_then(|v| c.limited(v, "policy.unserved_penalty", PRICE_LIMIT)),
            max_provider_share: p
                .max_provider_share
                .and_then(|v| c.fraction(v, "policy.max_provider_share")),
            survive_provider_loss: p
                .survive_provider_loss
                .and_then(|v| c.boolean(v, "policy.survive_provider_loss")),
            loss_coverage: p
                .loss_coverage
                .and_then(|v| c.fraction(v, "policy.loss_coverage")),
            resilience_penalty: p
                .resilience_penalty
                .and_then(|v| c.limited(v, "policy.resilience_penalty", PRICE_LIMIT)),
        };
    }
    if let Some(w) = raw.whatif {
        s.whatif = c.whatif(w);
    }
    c.diags.finish(s)
}

const TOP_KEYS: &[&str] = &[
    "name",
    "description",
    "extends",
    "horizon_end",
    "policy",
    "whatif",
];
const POLICY_KEYS: &[&str] = &[
    "unserved_penalty",
    "max_provider_share",
    "survive_provider_loss",
    "loss_coverage",
    "resilience_penalty",
];
const WHATIF_KEYS: &[&str] = &[
    "demand_scale",
    "only_providers",
    "exclude_providers",
    "delay",
    "price",
    "outage",
];
const DELAY_KEYS: &[&str] = &["provider", "region", "days"];
const PRICE_KEYS: &[&str] = &["provider", "region", "factor"];
const OUTAGE_KEYS: &[&str] = &["provider", "region", "start", "end", "capacity_factor"];

/// Reports every unknown key of the file at once, like unknown CSV columns: its line, its dotted
/// name, the closest accepted key and the accepted list. Syntax errors are left to the typed pass.
fn unknown_keys(path: &Path, text: &str) -> Result<()> {
    let Ok(table) = toml::from_str::<toml::Table>(text) else {
        return Ok(());
    };
    let mut diags = Diagnostics::default();
    let mut check = |table: &toml::Table, accepted: &[&str], section: &str, occurrence: usize| {
        for key in table.keys() {
            if accepted.contains(&key.as_str()) {
                continue;
            }
            let dotted = if section.is_empty() {
                key.clone()
            } else {
                format!("{section}.{key}")
            };
            let hint = super::csv_table::closest(key, accepted)
                .map(|c| format!(" (did you mean '{c}'?)"))
                .unwrap_or_default();
            let place = if section.is_empty() {
                "at the top level".to_string()
            } else {
                format!("in [{section}]")
            };
            diags.push(
                Location::at_key(path, key_line(text, section, occurrence, key), &dotted),
                format!(
                    "unknown key{hint}; accepted keys {place} are {}",
                    list(accepted)
                ),
            );
        }
    };
    check(&table, TOP_KEYS, "", 0);
    if let Some(Value::Table(p)) = table.get("policy") {
        check(p, POLICY_KEYS, "policy", 0);
    }
    if let Some(Value::Table(w)) = table.get("whatif") {
        check(w, WHATIF_KEYS, "whatif", 0);
        for (name, accepted) in [
            ("delay", DELAY_KEYS),
            ("price", PRICE_KEYS),
            ("outage", OUTAGE_KEYS),
        ] {
            if let Some(Value::Array(items)) = w.get(name) {
                for (i, item) in items.iter().enumerate() {
                    if let Value::Table(t) = item {
                        check(t, accepted, &format!("whatif.{name}"), i);
                    }
                }
            }
        }
    }
    diags.finish(())
}

/// The line where `key` is written inside the `occurrence`-th header of `section` (top level when
/// empty); the header's line when the key cannot be found (dotted or inline forms).
fn key_line(text: &str, section: &str, occurrence: usize, key: &str) -> u64 {
    let header = |line: &str| {
        let l = line.trim();
        l.starts_with('[')
            .then(|| l.trim_matches(|c| c == '[' || c == ']').trim().to_string())
    };
    let mut in_section = section.is_empty();
    let mut seen = 0usize;
    let mut section_line = 1u64;
    for (i, line) in text.lines().enumerate() {
        if let Some(h) = header(line) {
            in_section = false;
            if h == section {
                if seen == occurrence {
                    in_section = true;
                    section_line = i as u64 + 1;
                }
                seen += 1;
            }
            continue;
        }
        if in_section {
            let l = line.trim_start();
            let name = l.split('=').next().unwrap_or("").trim().trim_matches('"');
            if l.contains('=') && name == key {
                return i as u64 + 1;
            }
        }
    }
    section_line
}

/// A native TOML date or time on `line` that TOML rejects because it does not exist
/// (`horizon_end = 2026-02-29`): its dotted key and why, as for a quoted one. None for any
/// other syntax error.
fn native_time_problem(text: &str, line: u64) -> Option<(String, BadValue)> {
    let lines: Vec<&str> = text.lines().collect();
    let here = *lines.get(usize::try_from(line).ok()?.checked_sub(1)?)?;
    let (key, value) = here.split_once('=')?;
    let value = value.split('#').next().unwrap_or("").trim();
    let bad = read_time(value)
        .err()
        .filter(|b| b.kind.starts_with("time:"))?;
    let key = key.trim().trim_matches('"');
    let section = lines[..line as usize - 1]
        .iter()
        .rev()
        .map(|l| l.trim())
        .find(|l| l.starts_with('['))
        .map(|l| l.trim_matches(|c| c == '[' || c == ']').trim());
    let dotted = match section {
        Some(s) if !s.is_empty() => format!("{s}.{key}"),
        _ => key.to_string(),
    };
    Some((dotted, bad))
}

/// 1-based line of a byte offset.
fn line_at(text: &str, offset: usize) -> u64 {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
        + 1
}

struct Checker<'a> {
    path: &'a Path,
    text: &'a str,
    diags: Diagnostics,
}

impl Checker<'_> {
    fn loc(&self, v: &Spanned<Value>, key: &str) -> Location {
        Location::at_key(self.path, line_at(self.text, v.span().start), key)
    }

    fn fail<T>(&mut self, v: &Spanned<Value>, key: &str, message: String) -> Option<T> {
        let loc = self.loc(v, key);
        self.diags.push(loc, message);
        None
    }

    fn string(&mut self, v: Spanned<Value>, key: &str) -> Option<String> {
        match v.get_ref() {
            Value::String(s) => Some(s.clone()),
            other => self.fail(
                &v,
                key,
                format!("expected a string, found {}", describe(other)),
            ),
        }
    }

    fn number(&mut self, v: Spanned<Value>, key: &str) -> Option<f64> {
        let x = match v.get_ref() {
            Value::Integer(i) => *i as f64,
            Value::Float(f) => *f,
            other => {
                return self.fail(
                    &v,
                    key,
                    format!("expected a number, found {}", describe(other)),
                )
            }
        };
        if x.is_nan() {
            return self.fail(&v, key, "expected a number, found NaN".into());
        }
        if x.is_infinite() {
            return self.fail(
                &v,
                key,
                "expected a finite number, found an infinite value".into(),
            );
        }
        if x < 0.0 {
            return self.fail(
                &v,
                key,
                format!("expected a non-negative number, found {x}"),
            );
        }
        Some(x)
    }

    /// A non-negative number no larger than `max`.
    fn bounded(&mut self, v: Spanned<Value>, key: &str, max: f64) -> Option<f64> {
        let loc = self.loc(&v, key);
        let x = self.number(v, key)?;
        if x > max {
            self.diags
                .push(loc, format!("expected at most {max}, found {x}"));
            return None;
        }
        Some(x)
    }

    /// A non-negative number within one of capplan's magnitude limits.
    fn limited(&mut self, v: Spanned<Value>, key: &str, limit: Limit) -> Option<f64> {
        let loc = self.loc(&v, key);
        let x = self.number(v, key)?;
        match limit.check(x) {
            Ok(x) => Some(x),
            Err(m) => {
                self.diags.push(loc, m);
                None
            }
        }
    }

    fn fraction(&mut self, v: Spanned<Value>, key: &str) -> Option<f64> {
        let loc = self.loc(&v, key);
        let x = self.number(v, key)?;
        match check_fraction(x) {
            Ok(x) => Some(x),
            Err(m) => {
                self.diags.push(loc, m);
                None
            }
        }
    }

    fn boolean(&mut self, v: Spanned<Value>, key: &str) -> Option<bool> {
        match v.get_ref() {
            Value::Boolean(b) => Some(*b),
            other => self.fail(
                &v,
                key,
                format!("expected true or false, found {}", describe(other)),
            ),
        }
    }

    fn time(&mut self, v: Spanned<Value>, key: &str) -> Option<DateTime<Utc>> {
        let text = match v.get_ref() {
            Value::String(s) => s.clone(),
            // Native TOML dates print in RFC 3339 forms the CSV parser accepts.
            Value::Datetime(d) => d.to_string(),
            other => {
                return self.fail(
                    &v,
                    key,
                    format!("expected {TIME_FORMS}, found {}", describe(other)),
                )
            }
        };
        match parse_time(&text) {
            Ok(t) => Some(t),
            Err(m) => self.fail(&v, key, m),
        }
    }

    fn provider(&mut self, v: Spanned<Value>, key: &str) -> Option<NamedProvider> {
        let location = self.loc(&v, key);
        self.string(v, key)
            .map(|name| NamedProvider { name, location })
    }

    /// An optional `region` of a delay or price change.
    fn region(&mut self, v: Option<Spanned<Value>>, key: &str) -> Option<Option<NamedRegion>> {
        let Some(v) = v else {
            return Some(None);
        };
        let location = self.loc(&v, key);
        self.string(v, key)
            .map(|name| Some(NamedRegion { name, location }))
    }

    fn providers(&mut self, v: Spanned<Value>, key: &str) -> Option<Vec<NamedProvider>> {
        let location = self.loc(&v, key);
        match v.into_inner() {
            Value::Array(items) => {
                let mut out = Vec::new();
                for item in items {
                    match item {
                        Value::String(name) => out.push(NamedProvider {
                            name,
                            location: location.clone(),
                        }),
                        other => {
                            self.diags.push(
                                location.clone(),
                                format!(
                                    "expected provider names as strings, found {}",
                                    describe(&other)
                                ),
                            );
                        }
                    }
                }
                Some(out)
            }
            other => {
                self.diags.push(
                    location,
                    format!(
                        "expected a list of provider names, found {}",
                        describe(&other)
                    ),
                );
                None
            }
        }
    }

    fn whatif(&mut self, w: RawWhatIf) -> WhatIf {
        let mut out = WhatIf {
            demand_scale: w.demand_scale.and_then(|v| {
                let loc = self.loc(&v, "whatif.demand_scale");
                self.limited(v, "whatif.demand_scale", FACTOR_LIMIT)
                    .map(|x| (x, loc))
            }),
            only_providers: w
                .only_providers
                .and_then(|v| self.providers(v, "whatif.only_providers")),
            exclude_providers: w
                .exclude_providers
                .and_then(|v| self.providers(v, "whatif.exclude_providers"))
                .unwrap_or_default(),
            ..WhatIf::default()
        };
        for d in w.delay.unwrap_or_default() {
            let provider = self.provider(d.provider, "whatif.delay.provider");
            let region = self.region(d.region, "whatif.delay.region");
            let days = self.bounded(d.days, "whatif.delay.days", MAX_DELAY_DAYS);
            if let (Some(provider), Some(region), Some(days)) = (provider, region, days) {
                out.delays.push(Delay {
                    provider,
                    region,
                    days,
                });
            }
        }
        for p in w.price.unwrap_or_default() {
            let provider = self.provider(p.provider, "whatif.price.provider");
            let region = self.region(p.region, "whatif.price.region");
            let location = self.loc(&p.factor, "whatif.price.factor");
            let factor = self.limited(p.factor, "whatif.price.factor", FACTOR_LIMIT);
            if let (Some(provider), Some(region), Some(factor)) = (provider, region, factor) {
                out.prices.push(PriceChange {
                    provider,
                    region,
                    factor,
                    location,
                });
            }
        }
        for o in w.outage.unwrap_or_default() {
            let end_loc = self.loc(&o.end, "whatif.outage.end");
            let provider = self.provider(o.provider, "whatif.outage.provider");
            let region = match o.region {
                Some(r) => self.string(r, "whatif.outage.region").map(Some),
                None => Some(None),
            };
            let start = self.time(o.start, "whatif.outage.start");
            let end = self.time(o.end, "whatif.outage.end");
            let factor = match o.capacity_factor {
                Some(f) => self.fraction(f, "whatif.outage.capacity_factor"),
                None => Some(0.0),
            };
            let (Some(provider), Some(region), Some(start), Some(end), Some(capacity_factor)) =
                (provider, region, start, end, factor)
            else {
                continue;
            };
            if end <= start {
                self.diags
                    .push(end_loc, "expected an end after the start".to_string());
                continue;
            }
            let outage = Outage {
                provider: provider.name.clone(),
                region,
                tranche: None,
                start,
                end,
                capacity_factor,
            };
            out.outages.push(OutageChange { provider, outage });
        }
        out
    }
}

fn describe(v: &Value) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Settings> {
        parse_settings(Path::new("scenario.toml"), text)
    }

    #[test]
    fn full_example_parses() {
        let s = parse(
            r#"
name = "Base"
extends = "../base"
horizon_end = 2028-01-01
[policy]
unserved_penalty = 10000
max_provider_share = 0.6
survive_provider_loss = true
loss_coverage = 0.8
[whatif]
demand_scale = 1.25
exclude_providers = ["aws"]
[[whatif.delay]]
provider = "aws"
days = 90
[[whatif.price]]
provider = "gcp"
factor = 0.8
[[whatif.outage]]
provider = "aws"
start = "2026-07-01"
end = "2026-07-08"
"#,
        )
        .unwrap();
        assert_eq!(s.policy.unserved_penalty, Some(10000.0));
        assert_eq!(s.policy.max_provider_share, Some(0.6));
        assert_eq!(s.whatif.delays[0].days, 90.0);
        assert_eq!(s.whatif.outages[0].outage.capacity_factor, 0.0);
        assert_eq!(s.horizon_end.unwrap().0, parse_time("2028-01-01").unwrap());
    }

    #[test]
    fn unknown_key_names_its_line() {
        let e = parse("name = \"x\"\n[policy]\nmax_share = 0.5\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("scenario.toml:3"), "{e}");
        assert!(
            e.contains("key 'policy.max_share': unknown key (did you mean 'max_provider_share'?)"),
            "{e}"
        );
    }

    #[test]
    fn fraction_out_of_range_names_key_and_line() {
        let e = parse("[policy]\nloss_coverage = 1.5\nmax_provider_share = -1\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains(
                "scenario.toml:2: key 'policy.loss_coverage': expected a fraction in [0, 1]"
            ),
            "{e}"
        );
        assert!(
            e.contains("scenario.toml:3: key 'policy.max_provider_share'"),
            "{e}"
        );
    }

    #[test]
    fn wrong_types_and_bad_times() {
        let e = parse("horizon_end = \"next year\"\n[policy]\nsurvive_provider_loss = \"yes\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("scenario.toml:1: key 'horizon_end': expected a time"),
            "{e}"
        );
        assert!(
            e.contains(
                "scenario.toml:3: key 'policy.survive_provider_loss': expected true or false"
            ),
            "{e}"
        );
    }

    #[test]
    fn a_native_date_that_does_not_exist_says_why_at_its_key() {
        let e = parse("name = \"x\"\nhorizon_end = 2026-02-29 # end\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "error: scenario.toml:2: key 'horizon_end': expected a date YYYY-MM-DD, found '2026-02-29': 2026 is not a leap year (February has 28 days)"
        );
        let e = parse("[[whatif.outage]]\nprovider = \"aws\"\nstart = 2026-07-01T25:00:00Z\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "error: scenario.toml:3: key 'whatif.outage.start': expected a time YYYY-MM-DDTHH:MM:SSZ, found '2026-07-01T25:00:00Z': hour 25 does not exist (hours run from 00 to 23)"
        );
    }

    #[test]
    fn syntax_error_names_line() {
        let e = parse("name = \"x\"\nthis is not toml\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("scenario.toml:2"), "{e}");
    }

    #[test]
    fn delay_and_price_take_an_optional_region() {
        let s = parse(
            "[[whatif.delay]]\nprovider = \"aws\"\nregion = \"us-east\"\ndays = 90\n\
             [[whatif.price]]\nprovider = \"gcp\"\nfactor = 0.8\n",
        )
        .unwrap();
        let region = s.whatif.delays[0].region.as_ref().unwrap();
        assert_eq!(region.name, "us-east");
        assert_eq!(
            region.location,
            Location::at_key("scenario.toml", 3, "whatif.delay.region")
        );
        assert_eq!(s.whatif.prices[0].region, None);
        let e = parse("[[whatif.price]]\nprovider = \"gcp\"\nregion = 3\nfactor = 0.8\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("scenario.toml:3: key 'whatif.price.region': expected a string"),
            "{e}"
        );
        let e = parse("[[whatif.delay]]\nprovider = \"aws\"\nregions = \"us\"\ndays = 1\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("key 'whatif.delay.regions': unknown key (did you mean 'region'?)")
                && e.contains("'provider', 'region', 'days'"),
            "{e}"
        );
    }

    #[test]
    fn outage_end_before_start() {
        let e = parse(
            "[[whatif.outage]]\nprovider = \"aws\"\nstart = \"2026-07-08\"\nend = \"2026-07-01\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("scenario.toml:4: key 'whatif.outage.end'"),
            "{e}"
        );
    }
}
