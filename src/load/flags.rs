//! Loading stage, what-ifs on the command line: the raw flag strings of `run` and `validate`
//! (`--demand-scale 1.3`, `--delay aws=90d`, `--set policy.loss_coverage=0.8`, …) checked into one
//! more what-if level, a `WhatIf` and `[policy]` keys that mean exactly what a child
//! scenario.toml's `[whatif]` and `[policy]` would. Errors name the flag as written.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::toml_file::PolicySettings;
use crate::error::{list, Diagnostics, Location, Result};
use crate::scenario::Outage;
use crate::units::{
    check_fraction, parse_fraction, parse_limited, parse_number, parse_time, FACTOR_LIMIT,
    MAX_DELAY_DAYS, PRICE_LIMIT,
};
use crate::whatif::{Delay, NamedProvider, NamedRegion, OutageChange, PriceChange, WhatIf};

/// The what-if flags of one command line, as written (checked by `level`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WhatIfFlags {
    pub demand_scale: Vec<String>,
    pub only: Vec<String>,
    pub exclude: Vec<String>,
    pub delay: Vec<String>,
    pub price: Vec<String>,
    pub outage: Vec<String>,
    pub set: Vec<String>,
}

/// One applied what-if flag, as `summary.json` and `validate --format json` record it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct FlagValue {
    /// The flag with its dashes: `--delay`.
    pub flag: String,
    pub value: String,
}

/// The flags checked: one what-if level and the `[policy]` keys it sets.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct FlagLevel {
    pub whatif: WhatIf,
    pub policy: PolicySettings,
}

/// Longest default output folder name, characters.
pub const MAX_FOLDER_CHARS: usize = 80;

const DURATION_FORMS: &str = "a duration such as 90d, 12h or 2w";
const POLICY_KEYS: &[&str] = &[
    "policy.unserved_penalty",
    "policy.max_provider_share",
    "policy.survive_provider_loss",
    "policy.loss_coverage",
    "policy.resilience_penalty",
];

impl WhatIfFlags {
    pub fn is_empty(&self) -> bool {
        *self == WhatIfFlags::default()
    }

    /// (flag, value) in canonical order: demand-scale, only, exclude, delay, price, outage, set;
    /// within one flag in the order given.
    pub fn canonical(&self) -> Vec<(&'static str, String)> {
        let groups: [(&'static str, &Vec<String>); 7] = [
            ("--demand-scale", &self.demand_scale),
            ("--only", &self.only),
            ("--exclude", &self.exclude),
            ("--delay", &self.delay),
            ("--price", &self.price),
            ("--outage", &self.outage),
            ("--set", &self.set),
        ];
        groups
            .into_iter()
            .flat_map(|(flag, values)| values.iter().map(move |v| (flag, v.clone())))
            .collect()
    }

    /// The canonical list as data rows (`summary.json`'s `whatif_flags`).
    pub fn values(&self) -> Vec<FlagValue> {
        self.canonical()
            .into_iter()
            .map(|(flag, value)| FlagValue {
                flag: flag.to_string(),
                value,
            })
            .collect()
    }

    /// The flags as one command-line text in canonical order: "--demand-scale 1.3 --delay aws=90d".
    pub fn label(&self) -> String {
        label_of(&self.values())
    }

    /// Filesystem-safe suffix for output folders: "+demand-scale-1.3+delay-aws-90d" ("" when
    /// empty); cut to `MAX_FOLDER_CHARS` with a hash of the label when longer.
    pub fn folder_suffix(&self) -> String {
        let raw: String = self
            .canonical()
            .into_iter()
            .map(|(flag, value)| {
                format!(
                    "+{}-{}",
                    flag.trim_start_matches('-'),
                    safe(&value.replace("..", "-"))
                )
            })
            .collect();
        cut_with_hash(&raw, &self.label())
    }

    /// Checks every flag (all problems at once, one line each) into one what-if level.
    pub fn level(&self) -> Result<FlagLevel> {
        let mut diags = Diagnostics::default();
        let mut level = FlagLevel::default();
        let at = |flag: &str, value: &str| Location::file(format!("{flag} {value}"));

        let mut scale: Option<f64> = None;
        for v in &self.demand_scale {
            match parse_limited(v, FACTOR_LIMIT) {
                Ok(x) => scale = Some(scale.unwrap_or(1.0) * x),
                Err(m) => diags.push(at("--demand-scale", v), m),
            }
        }
        if let Some(x) = scale {
            let written: Vec<String> = self
                .demand_scale
                .iter()
                .map(|v| format!("--demand-scale {v}"))
                .collect();
            level.whatif.demand_scale = Some((x, Location::file(written.join(" "))));
        }
        for (flag, values, out) in [("--only", &self.only, 0), ("--exclude", &self.exclude, 1)] {
            for v in values {
                let names = match provider_list(v) {
                    Ok(n) => n,
                    Err(m) => {
                        diags.push(at(flag, v), m);
                        continue;
                    }
                };
                let target = if out == 0 {
                    level.whatif.only_providers.get_or_insert_with(Vec::new)
                } else {
                    &mut level.whatif.exclude_providers
                };
                for name in names {
                    if !target.iter().any(|n| n.name == name) {
                        target.push(NamedProvider {
                            name,
                            location: at(flag, v),
                        });
                    }
                }
            }
        }
        for v in &self.delay {
            let loc = at("--delay", v);
            match delay(v, &loc) {
                Ok(d) => level.whatif.delays.push(d),
                Err(m) => diags.push(loc, m),
            }
        }
        for v in &self.price {
            let loc = at("--price", v);
            match price(v, &loc) {
                Ok(p) => level.whatif.prices.push(p),
                Err(m) => diags.push(loc, m),
            }
        }
        for v in &self.outage {
            let loc = at("--outage", v);
            match outage(v, &loc) {
                Ok(o) => level.whatif.outages.push(o),
                Err(m) => diags.push(loc, m),
            }
        }
        for v in &self.set {
            if let Err(m) = set(v, &mut level.policy) {
                diags.push(at("--set", v), m);
            }
        }
        diags.finish(level)
    }
}

/// The command-line text of flag rows; a value is quoted only when a shell would split it.
pub fn label_of(values: &[FlagValue]) -> String {
    values
        .iter()
        .map(|f| format!("{} {}", f.flag, shell_quote(&f.value)))
        .collect::<Vec<_>>()
        .join(" ")
}

fn shell_quote(value: &str) -> String {
    let plain = !value.is_empty()
        && value.chars().all(|c| {
            c.is_ascii_alphanumeric()
                || matches!(c, '.' | '_' | '+' | '-' | '=' | '/' | ':' | '@' | ',')
        });
    if plain {
        value.to_string()
    } else {
        shell_words::quote(value).into_owned()
    }
}

/// Letters, digits and `._+-`; anything else becomes `-`.
fn safe(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// `text` when at most `MAX_FOLDER_CHARS` long, else its start, `-` and the first 8 hex digits of
/// the SHA-256 of `label`, `MAX_FOLDER_CHARS` in all. `text` must be ASCII (see `safe`).
pub fn cut_with_hash(text: &str, label: &str) -> String {
    if text.len() <= MAX_FOLDER_CHARS {
        return text.to_string();
    }
    let digest = Sha256::digest(label.as_bytes());
    let hash: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!("{}-{hash}", &text[..MAX_FOLDER_CHARS - 9])
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

/// `PROVIDER[/REGION]` before the `=` of a delay or price.
fn target(
    text: &str,
    loc: &Location,
    form: &str,
) -> Result<(NamedProvider, Option<NamedRegion>), String> {
    let (provider, region) = match text.split_once('/') {
        Some((p, r)) => (p.trim(), Some(r.trim())),
        None => (text.trim(), None),
    };
    if provider.is_empty() || region.is_some_and(str::is_empty) {
        return Err(format!("expected {form}, found '{text}'"));
    }
    Ok((
        NamedProvider {
            name: provider.to_string(),
            location: loc.clone(),
        },
        region.map(|r| NamedRegion {
            name: r.to_string(),
            location: loc.clone(),
        }),
    ))
}

/// `PROVIDER[/REGION]=DURATION`, DURATION a number followed by h, d or w.
fn delay(v: &str, loc: &Location) -> Result<Delay, String> {
    const FORM: &str = "PROVIDER[/REGION]=DURATION such as aws=90d or aws/us-east=12h";
    let Some((who, duration)) = v.split_once('=') else {
        return Err(format!("expected {FORM}, found '{v}'"));
    };
    let (provider, region) = target(who, loc, FORM)?;
    let d = duration.trim();
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
    Ok(Delay {
        provider,
        region,
        days,
    })
}

/// `PROVIDER[/REGION]=FACTOR`.
fn price(v: &str, loc: &Location) -> Result<PriceChange, String> {
    const FORM: &str = "PROVIDER[/REGION]=FACTOR such as gcp=0.8 or gcp/eu=0.8";
    let Some((who, factor)) = v.split_once('=') else {
        return Err(format!("expected {FORM}, found '{v}'"));
    };
    let (provider, region) = target(who, loc, FORM)?;
    let factor = parse_limited(factor, FACTOR_LIMIT)?;
    Ok(PriceChange {
        provider,
        region,
        factor,
        location: loc.clone(),
    })
}

/// `PROVIDER[/REGION]@START..END[=FACTOR]`: split on the first `@`, the last `..` and the last `=`
/// so times keep their `:` and offsets.
fn outage(v: &str, loc: &Location) -> Result<OutageChange, String> {
    const FORM: &str =
        "PROVIDER[/REGION]@START..END[=FACTOR] such as azure@2026-07-06..2026-07-13=0.2";
    let form = || format!("expected {FORM}, found '{v}'");
    let (who, window) = v.split_once('@').ok_or_else(form)?;
    let (times, factor) = match window.rsplit_once('=') {
        Some((t, f)) => (t, Some(f)),
        None => (window, None),
    };
    let (start, end) = times.rsplit_once("..").ok_or_else(form)?;
    let (provider, region) = target(who, loc, FORM)?;
    let start: DateTime<Utc> = parse_time(start).map_err(|m| format!("start: {m}"))?;
    let end: DateTime<Utc> = parse_time(end).map_err(|m| format!("end: {m}"))?;
    if end <= start {
        return Err(format!(
            "expected an end after the start {}, found {}",
            crate::units::format_time(&start),
            crate::units::format_time(&end)
        ));
    }
    let capacity_factor = match factor {
        Some(f) => parse_fraction(f)?,
        None => 0.0,
    };
    let outage = Outage {
        provider: provider.name.clone(),
        region: region.map(|r| r.name),
        tranche: None,
        start,
        end,
        capacity_factor,
    };
    Ok(OutageChange { provider, outage })
}

/// `policy.KEY=VALUE`, checked as scenario.toml's `[policy]` checks the key. A key set twice takes
/// the later value.
fn set(v: &str, policy: &mut PolicySettings) -> Result<(), String> {
    let Some((key, value)) = v.split_once('=') else {
        return Err(format!(
            "expected policy.KEY=VALUE such as policy.max_provider_share=0.6, found '{v}'"
        ));
    };
    let key = key.trim();
    let value = value.trim();
    let number = || parse_number(value);
    match key {
        "policy.unserved_penalty" => {
            policy.unserved_penalty = Some(parse_limited(value, PRICE_LIMIT)?)
        }
        "policy.resilience_penalty" => {
            policy.resilience_penalty = Some(parse_limited(value, PRICE_LIMIT)?)
        }
        "policy.max_provider_share" => policy.max_provider_share = Some(check_fraction(number()?)?),
        "policy.loss_coverage" => policy.loss_coverage = Some(check_fraction(number()?)?),
        "policy.survive_provider_loss" => {
            policy.survive_provider_loss = Some(match value {
                "true" => true,
                "false" => false,
                _ => return Err(format!("expected true or false, found '{value}'")),
            })
        }
        _ => {
            let hint = super::csv_table::closest(key, POLICY_KEYS)
                .map(|c| format!(" (did you mean '{c}'?)"))
                .unwrap_or_default();
            return Err(format!(
                "unknown key '{key}'{hint}; expected one of {}",
                list(POLICY_KEYS)
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(f: impl FnOnce(&mut WhatIfFlags)) -> WhatIfFlags {
        let mut x = WhatIfFlags::default();
        f(&mut x);
        x
    }

    fn error(f: impl FnOnce(&mut WhatIfFlags)) -> String {
        flags(f).level().unwrap_err().to_string()
    }

    #[test]
    fn durations_in_hours_days_and_weeks() {
        let l = flags(|f| f.delay = vec!["aws=36h".into(), "gcp/eu=2w".into(), "x=1.5d".into()])
            .level()
            .unwrap();
        let days: Vec<f64> = l.whatif.delays.iter().map(|d| d.days).collect();
        assert_eq!(days, vec![1.5, 14.0, 1.5]);
        assert_eq!(l.whatif.delays[1].region.as_ref().unwrap().name, "eu");
        assert_eq!(
            l.whatif.delays[0].provider.location,
            Location::file("--delay aws=36h")
        );
    }

    #[test]
    fn bad_flags_name_the_flag_on_one_line() {
        assert_eq!(
            error(|f| f.delay = vec!["aws=ninety".into()]),
            "error: --delay aws=ninety: expected a duration such as 90d, 12h or 2w, found 'ninety'"
        );
        assert_eq!(
            error(|f| f.demand_scale = vec!["-1".into()]),
            "error: --demand-scale -1: expected a non-negative number, found '-1'"
        );
        assert_eq!(
            error(|f| f.set = vec!["policy.nope=1".into()]),
            "error: --set policy.nope=1: unknown key 'policy.nope'; expected one of 'policy.unserved_penalty', 'policy.max_provider_share', 'policy.survive_provider_loss', 'policy.loss_coverage', 'policy.resilience_penalty'"
        );
        let e = error(|f| f.outage = vec!["aws@2026-07-08..2026-07-01".into()]);
        assert_eq!(
            e,
            "error: --outage aws@2026-07-08..2026-07-01: expected an end after the start 2026-07-08T00:00:00Z, found 2026-07-01T00:00:00Z"
        );
        for bad in [
            "aws=90",
            "aws=-5d",
            "=5d",
            "aws/=5d",
            "aws",
            "aws=2000000w",
            "aws=d",
        ] {
            let e = error(|f| f.delay = vec![bad.into()]);
            assert!(e.starts_with(&format!("error: --delay {bad}: ")), "{e}");
            assert!(!e.contains('\n'), "{e}");
        }
        for (bad, want) in [
            ("policy.loss_coverage=1.5", "expected a fraction in [0, 1]"),
            ("policy.survive_provider_loss=yes", "expected true or false"),
            ("policy.unserved_penalty=2e9", "capplan's limit"),
            ("loss_coverage", "expected policy.KEY=VALUE"),
        ] {
            let e = error(|f| f.set = vec![bad.into()]);
            assert!(e.contains(want), "{e}");
        }
        let e = error(|f| f.only = vec!["azure,,gcp".into()]);
        assert!(
            e.starts_with("error: --only azure,,gcp: expected provider names"),
            "{e}"
        );
    }

    #[test]
    fn outages_split_on_first_at_last_dots_and_last_equals() {
        let l = flags(|f| {
            f.outage = vec![
                "azure/eu@2026-07-06T12:00Z..2026-07-13T08:00+02:00=0.2".into(),
                "aws@2026-07-01..2026-07-02".into(),
            ]
        })
        .level()
        .unwrap();
        let o = &l.whatif.outages[0].outage;
        assert_eq!(o.provider, "azure");
        assert_eq!(o.region.as_deref(), Some("eu"));
        assert_eq!(o.start, parse_time("2026-07-06T12:00Z").unwrap());
        assert_eq!(o.end, parse_time("2026-07-13T06:00").unwrap());
        assert_eq!(o.capacity_factor, 0.2);
        assert_eq!(l.whatif.outages[1].outage.capacity_factor, 0.0);
    }

    #[test]
    fn repeated_flags_combine() {
        let l = flags(|f| {
            f.demand_scale = vec!["1.5".into(), "2".into()];
            f.only = vec!["a,b".into(), "b,c".into()];
            f.price = vec!["gcp=0.5".into(), "gcp=0.5".into()];
            f.set = vec!["policy.loss_coverage=0.5".into()];
        })
        .level()
        .unwrap();
        assert_eq!(l.whatif.demand_scale.as_ref().unwrap().0, 3.0);
        let only: Vec<&str> = l
            .whatif
            .only_providers
            .as_ref()
            .unwrap()
            .iter()
            .map(|n| n.name.as_str())
            .collect();
        assert_eq!(only, ["a", "b", "c"]);
        assert_eq!(l.whatif.prices.len(), 2);
        assert_eq!(l.policy.loss_coverage, Some(0.5));
        assert_eq!(l.policy.unserved_penalty, None);
    }

    #[test]
    fn label_and_folder_suffix_in_canonical_order() {
        let f = flags(|f| {
            f.delay = vec!["aws=90d".into()];
            f.demand_scale = vec!["1.3".into()];
        });
        assert_eq!(f.label(), "--demand-scale 1.3 --delay aws=90d");
        assert_eq!(f.folder_suffix(), "+demand-scale-1.3+delay-aws-90d");
        assert_eq!(WhatIfFlags::default().folder_suffix(), "");
        let f = flags(|f| f.outage = vec!["azure/eu@2026-07-06T12:00Z..2026-07-13=0.2".into()]);
        assert_eq!(
            f.folder_suffix(),
            "+outage-azure-eu-2026-07-06T12-00Z-2026-07-13-0.2"
        );
        let f = flags(|f| f.exclude = vec!["a b".into()]);
        assert_eq!(f.label(), "--exclude 'a b'");
        let long = flags(|f| f.price = (0..10).map(|i| format!("provider{i}=0.5")).collect());
        let s = long.folder_suffix();
        assert_eq!(s.len(), MAX_FOLDER_CHARS);
        let hash: String = Sha256::digest(long.label().as_bytes())[..4]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(s.ends_with(&format!("-{hash}")), "{s}");
    }
}
