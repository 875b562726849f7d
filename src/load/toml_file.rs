//! Loading stage, scenario.toml: name, inheritance, horizon, `[policy]` and `[whatif]`, checked
//! key by key by the one TOML checker (`toml_doc`: every key at its line, from the parser's spans)
//! and read by the one what-if syntax (`whatif_syntax`), as flags and sweep axes are.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use toml::{Spanned, Value};

use super::toml_doc::{Doc, FileKind, Schema};
use super::whatif_syntax::{self as syntax, At, Change, Given, Level, PolicyKey, Target};
use crate::error::{Diagnostic, Diagnostics, Error, Location, Result};
use crate::whatif::{PolicySettings, WhatIf};

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
    max_delay: Option<Vec<RawMaxDelay>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawMaxDelay {
    workload: Spanned<Value>,
    max_delay: Spanned<Value>,
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
    /// Suspicious but legal what-ifs (see `Level::warnings`).
    pub warnings: Vec<Diagnostic>,
}

/// Reads and checks `path` (a scenario.toml), collecting every problem.
pub fn read_settings(path: &Path) -> Result<Settings> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let line = super::toml_doc::line_at(
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

const SCHEMA: Schema = Schema {
    keys: &[
        "name",
        "description",
        "extends",
        "horizon_end",
        "policy",
        "whatif",
    ],
    tables: &[("policy", &POLICY), ("whatif", &WHATIF)],
};
const POLICY: Schema = Schema {
    keys: &[
        "unserved_penalty",
        "max_provider_share",
        "survive_provider_loss",
        "loss_coverage",
        "resilience_penalty",
    ],
    tables: &[],
};
const WHATIF: Schema = Schema {
    keys: &[
        "demand_scale",
        "only_providers",
        "exclude_providers",
        "delay",
        "price",
        "outage",
        "max_delay",
    ],
    tables: &[
        ("delay", &DELAY),
        ("price", &PRICE),
        ("outage", &OUTAGE),
        ("max_delay", &MAX_DELAY),
    ],
};
const DELAY: Schema = Schema {
    keys: &["provider", "region", "days"],
    tables: &[],
};
const PRICE: Schema = Schema {
    keys: &["provider", "region", "factor"],
    tables: &[],
};
const MAX_DELAY: Schema = Schema {
    keys: &["workload", "max_delay"],
    tables: &[],
};
const OUTAGE: Schema = Schema {
    keys: &["provider", "region", "start", "end", "capacity_factor"],
    tables: &[],
};

/// Parses scenario.toml text (see `read_settings`): syntax, then unknown keys (all at once), then
/// every value (all problems at once).
pub fn parse_settings(path: &Path, text: &str) -> Result<Settings> {
    let doc = Doc::new(path, text, FileKind::Scenario);
    let document = doc.document()?;
    doc.unknown_keys(&document, &SCHEMA)?;
    let raw: RawToml = doc.typed()?;
    let mut c = Checker {
        doc,
        diags: Diagnostics::default(),
    };
    let mut s = Settings {
        name: raw.name.and_then(|v| c.read(&v, "name", syntax::string)),
        description: raw
            .description
            .and_then(|v| c.read(&v, "description", syntax::string)),
        ..Settings::default()
    };
    if let Some(v) = raw.extends {
        let loc = c.loc(&v, "extends");
        s.extends = c.read(&v, "extends", syntax::string).map(|p| (p, loc));
    }
    if let Some(v) = raw.horizon_end {
        let loc = c.loc(&v, "horizon_end");
        s.horizon_end = c.read(&v, "horizon_end", syntax::time).map(|t| (t, loc));
    }
    let mut level = Level::default();
    if let Some(p) = raw.policy {
        c.policy(p, &mut level);
    }
    if let Some(w) = raw.whatif {
        c.whatif(w, &mut level);
    }
    s.policy = level.policy;
    s.whatif = level.whatif;
    s.warnings = level.warnings;
    c.diags.finish(s)
}

struct Checker<'a> {
    doc: Doc<'a>,
    diags: Diagnostics,
}

impl Checker<'_> {
    fn loc(&self, v: &Spanned<Value>, key: &str) -> Location {
        self.doc.at_key(v.span().start, key)
    }

    /// Reads a value with one of the what-if syntax's readers; a problem is reported at the key.
    fn read<T>(
        &mut self,
        v: &Spanned<Value>,
        key: &str,
        reader: impl FnOnce(Given) -> std::result::Result<T, String>,
    ) -> Option<T> {
        match reader(Given::Toml(v.get_ref())) {
            Ok(x) => Some(x),
            Err(m) => {
                let loc = self.loc(v, key);
                self.diags.push(loc, m);
                None
            }
        }
    }

    /// `[policy]`, key by key.
    fn policy(&mut self, p: RawPolicy, level: &mut Level) {
        let keys = [
            (PolicyKey::UnservedPenalty, p.unserved_penalty),
            (PolicyKey::MaxProviderShare, p.max_provider_share),
            (PolicyKey::SurviveProviderLoss, p.survive_provider_loss),
            (PolicyKey::LossCoverage, p.loss_coverage),
            (PolicyKey::ResiliencePenalty, p.resilience_penalty),
        ];
        for (key, v) in keys {
            let Some(v) = v else { continue };
            let dotted = format!("policy.{}", key.name());
            if let Some(x) = self.read(&v, &dotted, |g| syntax::policy_value(key, g)) {
                level.add(Change::Policy(key, x), At::all(self.loc(&v, &dotted)));
            }
        }
    }

    /// A provider list (`only_providers`, `exclude_providers`): every name at the list's line.
    fn providers(&mut self, v: &Spanned<Value>, key: &str) -> Option<Vec<String>> {
        let location = self.loc(v, key);
        match v.get_ref() {
            Value::Array(items) => {
                let mut out = Vec::new();
                for item in items {
                    match item {
                        Value::String(name) => out.push(name.clone()),
                        other => self.diags.push(
                            location.clone(),
                            format!(
                                "expected provider names as strings, found {}",
                                syntax::describe(other)
                            ),
                        ),
                    }
                }
                Some(out)
            }
            other => {
                self.diags.push(
                    location,
                    format!(
                        "expected a list of provider names, found {}",
                        syntax::describe(other)
                    ),
                );
                None
            }
        }
    }

    /// A change's provider and optional region, and where each was written.
    fn target(
        &mut self,
        provider: &Spanned<Value>,
        region: Option<&Spanned<Value>>,
        table: &str,
    ) -> Option<(Target, Location, Location)> {
        let provider_key = format!("whatif.{table}.provider");
        let region_key = format!("whatif.{table}.region");
        let provider_at = self.loc(provider, &provider_key);
        let name = self.read(provider, &provider_key, syntax::string);
        let (region, region_at) = match region {
            Some(r) => (
                self.read(r, &region_key, syntax::string).map(Some),
                self.loc(r, &region_key),
            ),
            None => (Some(None), provider_at.clone()),
        };
        Some((
            Target {
                provider: name?,
                region: region?,
            },
            provider_at,
            region_at,
        ))
    }

    fn whatif(&mut self, w: RawWhatIf, level: &mut Level) {
        if let Some(v) = w.demand_scale {
            let at = At::all(self.loc(&v, "whatif.demand_scale"));
            if let Some(x) = self.read(&v, "whatif.demand_scale", syntax::factor) {
                level.add(Change::DemandScale(x), at);
            }
        }
        // Listed names stay as written (a name listed twice is reported twice).
        for (v, key, only) in [
            (&w.only_providers, "whatif.only_providers", true),
            (&w.exclude_providers, "whatif.exclude_providers", false),
        ] {
            let Some(v) = v else { continue };
            let at = self.loc(v, key);
            if let Some(names) = self.providers(v, key) {
                level.list_providers(only, names, &at);
            }
        }
        for d in w.delay.unwrap_or_default() {
            let target = self.target(&d.provider, d.region.as_ref(), "delay");
            let days = self.read(&d.days, "whatif.delay.days", syntax::delay_days);
            if let (Some((target, provider, region)), Some(days)) = (target, days) {
                let value = self.loc(&d.days, "whatif.delay.days");
                level.add(
                    Change::Delay { target, days },
                    At {
                        provider,
                        region,
                        value,
                    },
                );
            }
        }
        for p in w.price.unwrap_or_default() {
            let target = self.target(&p.provider, p.region.as_ref(), "price");
            let factor = self.read(&p.factor, "whatif.price.factor", syntax::factor);
            if let (Some((target, provider, region)), Some(factor)) = (target, factor) {
                let value = self.loc(&p.factor, "whatif.price.factor");
                level.add(
                    Change::Price { target, factor },
                    At {
                        provider,
                        region,
                        value,
                    },
                );
            }
        }
        for o in w.outage.unwrap_or_default() {
            let end_loc = self.loc(&o.end, "whatif.outage.end");
            let target = self.target(&o.provider, o.region.as_ref(), "outage");
            let start = self.read(&o.start, "whatif.outage.start", syntax::time);
            let end = self.read(&o.end, "whatif.outage.end", syntax::time);
            let factor = match &o.capacity_factor {
                Some(f) => self.read(f, "whatif.outage.capacity_factor", syntax::fraction),
                None => Some(0.0),
            };
            let (Some((target, provider, region)), Some(start), Some(end), Some(capacity_factor)) =
                (target, start, end, factor)
            else {
                continue;
            };
            if end <= start {
                self.diags
                    .push(end_loc, "expected an end after the start".to_string());
                continue;
            }
            let outage = crate::scenario::Outage {
                provider: target.provider,
                region: target.region,
                tranche: None,
                start,
                end,
                capacity_factor,
            };
            level.add(
                Change::Outage(outage),
                At {
                    provider,
                    region,
                    value: end_loc,
                },
            );
        }
        for m in w.max_delay.unwrap_or_default() {
            let workload_at = self.loc(&m.workload, "whatif.max_delay.workload");
            let value_at = self.loc(&m.max_delay, "whatif.max_delay.max_delay");
            let workload = self.read(&m.workload, "whatif.max_delay.workload", syntax::string);
            let minutes = self.read(
                &m.max_delay,
                "whatif.max_delay.max_delay",
                syntax::max_delay,
            );
            if let (Some(workload), Some(minutes)) = (workload, minutes) {
                level.add(
                    Change::MaxDelay { workload, minutes },
                    At {
                        provider: workload_at.clone(),
                        region: workload_at,
                        value: value_at,
                    },
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::parse_time;

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
    fn max_delay_names_a_workload_and_a_duration() {
        let s = parse(
            "[[whatif.max_delay]]\nworkload = \"batch\"\nmax_delay = \"24h\"\n\
             [[whatif.max_delay]]\nworkload = \"chat\"\nmax_delay = 0\n",
        )
        .unwrap();
        let m = &s.whatif.max_delays;
        assert_eq!(
            (m[0].workload.name.as_str(), m[0].minutes),
            ("batch", 1440.0)
        );
        assert_eq!(
            m[0].workload.location,
            Location::at_key("scenario.toml", 2, "whatif.max_delay.workload")
        );
        assert_eq!(
            m[0].location,
            Location::at_key("scenario.toml", 3, "whatif.max_delay.max_delay")
        );
        assert_eq!(m[1].minutes, 0.0);
        let e = parse("[[whatif.max_delay]]\nworkload = \"batch\"\nmax_delay = \"24 hours\"\n")
            .unwrap_err()
            .to_string();
        assert_eq!(
            e,
            "error: scenario.toml:3: key 'whatif.max_delay.max_delay': expected a duration: 0, or a number and one unit m, h, d or w (minutes, hours, days of 24 h, weeks) such as 90m, 36h, 2d or 1w, found '24 hours'; write the unit as one letter: 24h"
        );
        let e = parse("[[whatif.max_delay]]\nworkload = \"batch\"\ndelay = \"24h\"\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("key 'whatif.max_delay.delay': unknown key")
                && e.contains("'workload', 'max_delay'"),
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
