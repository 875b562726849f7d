//! Loading stage, what-ifs on the command line: the flags of `run` and `validate`
//! (`--demand-scale 1.3`, `--delay aws=90d`, `--set policy.loss_coverage=0.8`, …), each read once
//! into a typed change by the one what-if syntax (`whatif_syntax`; clap's value parser calls it),
//! and together one more what-if level, a `WhatIf` and `[policy]` keys that mean exactly what a
//! child scenario.toml's `[whatif]` and `[policy]` would. Errors name the flag as written.

use serde::Serialize;
use sha2::{Digest, Sha256};

use super::whatif_syntax::{read_flag, At, Change, Kind, Level};
use crate::error::{Diagnostics, Location, Result};

/// The what-if flags of one command line as written: what labels, folder names and records show.
/// `read` reads them into `Flags`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WhatIfFlags {
    pub demand_scale: Vec<String>,
    pub only: Vec<String>,
    pub exclude: Vec<String>,
    pub delay: Vec<String>,
    pub price: Vec<String>,
    pub outage: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub max_delay: Vec<String>,
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
pub type FlagLevel = Level;

/// One what-if flag, as written and as read (once: by clap's value parser, or by `Flag::read`).
/// A value that does not read keeps its message, so every bad flag is reported at once.
#[derive(Debug, Clone, PartialEq)]
pub struct Flag {
    pub kind: Kind,
    /// The value as written: `aws=90d` of `--delay aws=90d`.
    pub value: String,
    pub change: std::result::Result<Change, String>,
}

impl Flag {
    pub fn read(kind: Kind, value: &str) -> Flag {
        Flag {
            kind,
            value: value.to_string(),
            change: read_flag(kind, value),
        }
    }

    /// The flag as written, the place of its problems.
    pub fn location(&self) -> Location {
        Location::flag(self.kind.flag(), &self.value)
    }
}

/// The what-if flags of one command line, each read once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Flags {
    flags: Vec<Flag>,
}

impl FromIterator<Flag> for Flags {
    fn from_iter<I: IntoIterator<Item = Flag>>(flags: I) -> Flags {
        Flags {
            flags: flags.into_iter().collect(),
        }
    }
}

impl Flags {
    pub fn push(&mut self, flag: Flag) {
        self.flags.push(flag);
    }

    pub fn is_empty(&self) -> bool {
        self.flags.is_empty()
    }

    /// The flags as written.
    pub fn written(&self) -> WhatIfFlags {
        let mut w = WhatIfFlags::default();
        for f in &self.flags {
            w.values_of(f.kind).push(f.value.clone());
        }
        w
    }

    /// The canonical list as data rows (`summary.json`'s `whatif_flags`).
    pub fn values(&self) -> Vec<FlagValue> {
        self.written().values()
    }

    /// The flags as one command-line text in canonical order (see `WhatIfFlags::label`).
    pub fn label(&self) -> String {
        self.written().label()
    }

    /// Every flag's problem at once (one line each, in canonical order), or the flags as one
    /// what-if level.
    pub fn level(&self) -> Result<FlagLevel> {
        let mut diags = Diagnostics::default();
        let mut level = Level::default();
        for kind in Kind::ALL {
            for f in self.flags.iter().filter(|f| f.kind == kind) {
                match &f.change {
                    Ok(change) => level.add(change.clone(), At::all(f.location())),
                    Err(m) => diags.push(f.location(), m.clone()),
                }
            }
        }
        diags.finish(level)
    }
}

/// Longest default output folder name, characters.
pub const MAX_FOLDER_CHARS: usize = 80;

impl WhatIfFlags {
    pub fn is_empty(&self) -> bool {
        *self == WhatIfFlags::default()
    }

    /// (flag, value) in canonical order: demand-scale, only, exclude, delay, price, outage,
    /// max-delay, set;
    /// within one flag in the order given.
    pub fn canonical(&self) -> Vec<(&'static str, String)> {
        Kind::ALL
            .into_iter()
            .flat_map(|kind| {
                let values = self.values_of_ref(kind);
                values.iter().map(move |v| (kind.flag(), v.clone()))
            })
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

    /// Reads every flag (see `Flags`).
    pub fn read(&self) -> Flags {
        Kind::ALL
            .into_iter()
            .flat_map(|kind| {
                let values = self.values_of_ref(kind);
                values.iter().map(move |v| Flag::read(kind, v))
            })
            .collect()
    }

    /// Reads and checks every flag (see `Flags::level`).
    pub fn level(&self) -> Result<FlagLevel> {
        self.read().level()
    }

    fn values_of_ref(&self, kind: Kind) -> &Vec<String> {
        match kind {
            Kind::DemandScale => &self.demand_scale,
            Kind::Only => &self.only,
            Kind::Exclude => &self.exclude,
            Kind::Delay => &self.delay,
            Kind::Price => &self.price,
            Kind::Outage => &self.outage,
            Kind::MaxDelay => &self.max_delay,
            Kind::Set => &self.set,
        }
    }

    fn values_of(&mut self, kind: Kind) -> &mut Vec<String> {
        match kind {
            Kind::DemandScale => &mut self.demand_scale,
            Kind::Only => &mut self.only,
            Kind::Exclude => &mut self.exclude,
            Kind::Delay => &mut self.delay,
            Kind::Price => &mut self.price,
            Kind::Outage => &mut self.outage,
            Kind::MaxDelay => &mut self.max_delay,
            Kind::Set => &mut self.set,
        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::parse_time;

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
            Location::flag("--delay", "aws=36h")
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
