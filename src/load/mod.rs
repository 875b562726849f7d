//! Loading stage: a scenario folder (and the chain it `extends`) → a validated `Scenario`, with
//! the parent's what-ifs applied to the parent's tables, then the child's files, then the child's
//! what-ifs.

pub mod csv_table;
pub mod files;
pub mod flags;
pub mod gpus;
pub mod signed;
pub mod toml_doc;
pub mod toml_file;
pub mod whatif_syntax;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Datelike, Months, Utc};

use crate::error::{Diagnostic, Error, Location, Result};
use crate::scenario::{Demand, Outage, Period, Policy, Route, Scenario, Tranche, Workload};
use crate::units::format_time;
use crate::whatif::PolicySettings;
use flags::{FlagLevel, Flags};
use gpus::{Throughput, ThroughputTable};
use toml_file::Settings;

/// A loaded scenario and the warnings found on the way (suspicious but legal input).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub scenario: Scenario,
    /// What-if factors of 10 or more (a percentage meant?), the scenarios' first, then the
    /// flags'.
    pub warnings: Vec<Diagnostic>,
}

/// Loads the scenario in `folder`, following `extends`.
pub fn load(folder: &Path) -> Result<Loaded> {
    load_with(folder, &Flags::default())
}

/// Loads the scenario in `folder`, following `extends`, then applies the command line's what-if
/// flags as one more level: like a child scenario.toml whose `[whatif]` and `[policy]` they are.
/// The flags are checked before anything is read, so a bad flag fails before the scenario does.
pub fn load_with(folder: &Path, flags: &Flags) -> Result<Loaded> {
    let level = flags.level()?;
    let base = load_base(folder)?;
    let mut warnings = base.warnings;
    warnings.extend(level.warnings.iter().cloned());
    Ok(Loaded {
        scenario: with_level(base.scenario, &base.policy, &level)?,
        warnings,
    })
}

/// A scenario folder loaded once, before any command-line what-ifs: many runs that differ only
/// in their flags (risk samples) start from it instead of reading the files again, and get the
/// very scenario `load_with` would.
#[derive(Debug, Clone)]
pub struct Base {
    scenario: Scenario,
    policy: PolicySettings,
    warnings: Vec<Diagnostic>,
}

/// Loads a folder's chain without command-line what-ifs.
pub fn load_base(folder: &Path) -> Result<Base> {
    let layer = load_layer(folder, &mut Vec::new(), None)?;
    Ok(Base {
        scenario: layer.scenario,
        policy: layer.policy,
        warnings: layer.warnings,
    })
}

impl Base {
    /// The scenario with the flags as one more what-if level (as `load_with` applies them).
    pub fn with_flags(&self, flags: &Flags) -> Result<Scenario> {
        let level = flags.level()?;
        with_level(self.scenario.clone(), &self.policy, &level)
    }
}

/// The scenario with the flags' level applied (a base used once is moved in, not copied: an
/// hourly year's demand is 79k rows).
fn with_level(
    mut scenario: Scenario,
    base_policy: &PolicySettings,
    level: &FlagLevel,
) -> Result<Scenario> {
    if *level != FlagLevel::default() {
        scenario.policy = policy(&level.policy.merged_over(base_policy));
        scenario = crate::whatif::apply(scenario, &level.whatif)?;
    }
    Ok(scenario)
}

/// One resolved folder of an `extends` chain: its scenario (what-ifs applied) and the settings a
/// child inherits key by key.
struct Layer {
    scenario: Scenario,
    /// The throughput.csv in force (this folder's, else the parent's), for a child's tranches.
    throughput: Option<ThroughputTable>,
    horizon_end: Option<(DateTime<Utc>, Location)>,
    policy: PolicySettings,
    /// The what-if warnings of this folder's chain, the parent's first.
    warnings: Vec<Diagnostic>,
}

/// The folders of a scenario's `extends` chain, its own first: every folder a command reads the
/// scenario from, which its output folder may neither be, lie in nor hold. Read after the
/// scenario loaded; a folder whose `scenario.toml` does not read (or a cycle) ends the chain.
pub fn chain(folder: &Path) -> Vec<PathBuf> {
    let mut out = vec![folder.to_path_buf()];
    let mut seen = Vec::new();
    let mut at = folder.to_path_buf();
    while let Ok(canonical) = at.canonicalize() {
        if seen.contains(&canonical) {
            break;
        }
        seen.push(canonical);
        let Ok(Some(path)) = scenario_file(&at.join("scenario.toml")) else {
            break;
        };
        let Some((rel, _)) = toml_file::read_settings(&path).ok().and_then(|s| s.extends) else {
            break;
        };
        at = tidy_path(&at.join(rel));
        out.push(at.clone());
    }
    out
}

/// `a/b/../c` as `a/c` where `b` is a real folder (not a link, whose `..` is elsewhere): a chain
/// of `extends = "../x"` stays a short path however deep, instead of growing past the system's
/// path limit (and messages name the folder, not the way there).
fn tidy_path(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for part in path.components() {
        let last_is_folder = matches!(out.components().next_back(), Some(Component::Normal(_)))
            && std::fs::symlink_metadata(&out).is_ok_and(|m| m.is_dir());
        match part {
            Component::CurDir => {}
            Component::ParentDir if last_is_folder => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    if out.as_os_str().is_empty() {
        out.push(".");
    }
    out
}

/// A scenario file if it is there: `None` when nothing has its name, its path when it is a file
/// (or a link to one), and an I/O error naming it when something else has its name — a folder, a
/// dangling link — which would otherwise read as an absent optional file and silently drop it.
fn scenario_file(path: &Path) -> Result<Option<PathBuf>> {
    match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(Error::io(path, e)),
        Ok(_) => {}
    }
    let what = match std::fs::metadata(path) {
        Ok(m) if m.is_file() => return Ok(Some(path.to_path_buf())),
        Ok(m) if m.is_dir() => "is a folder, not a file",
        Ok(_) => "is not a regular file",
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            "is a link to nothing (its target does not exist)"
        }
        Err(e) => return Err(Error::io(path, e)),
    };
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    Err(Error::io(
        path,
        std::io::Error::other(format!(
            "{what}; expected {name} to be a file, or nothing of that name when the scenario has none — remove or replace it"
        )),
    ))
}

fn load_layer(
    folder: &Path,
    stack: &mut Vec<PathBuf>,
    referenced_at: Option<&Location>,
) -> Result<Layer> {
    if !folder.is_dir() {
        // A headline for the folder itself, a clause for a scenario.toml that extends it.
        let (what, which) = if folder.exists() {
            ("is not a folder", "is not a folder")
        } else {
            ("not found", "was not found")
        };
        return Err(match referenced_at {
            Some(loc) => Error::input(
                loc.clone(),
                format!(
                    "extends '{}', which {which}; expected a scenario folder (the path is relative to the folder of this scenario.toml)",
                    folder.display()
                ),
            ),
            None => Error::input(
                Location::file(folder),
                format!(
                    "scenario folder {what}; expected a folder with demand.csv and capacity.csv"
                ),
            ),
        });
    }
    let canonical = folder.canonicalize().map_err(|e| Error::io(folder, e))?;
    if let Some(pos) = stack.iter().position(|p| *p == canonical) {
        let cycle: Vec<String> = stack[pos..]
            .iter()
            .chain(std::iter::once(&canonical))
            .map(|p| p.display().to_string())
            .collect();
        let loc = referenced_at
            .cloned()
            .unwrap_or_else(|| Location::file(folder.join("scenario.toml")));
        return Err(Error::input(
            loc,
            format!("extends cycle: {}", cycle.join(" → ")),
        ));
    }
    stack.push(canonical.clone());

    // Every file of this folder is read before failing, so one run reports all of them.
    let mut errors = Vec::new();
    let toml_path = folder.join("scenario.toml");
    let settings = match scenario_file(&toml_path)? {
        Some(p) => keep(&mut errors, folder, toml_file::read_settings(&p)).unwrap_or_default(),
        None => Settings::default(),
    };
    let parent = match &settings.extends {
        Some((rel, loc)) => keep(
            &mut errors,
            folder,
            load_layer(&tidy_path(&folder.join(rel)), stack, Some(loc)),
        ),
        None => None,
    };
    stack.pop();

    let extends_failed = settings.extends.is_some() && parent.is_none();
    let mut present = BTreeMap::new();
    for name in [
        "demand.csv",
        "capacity.csv",
        "throughput.csv",
        "routes.csv",
        "outages.csv",
        "workloads.csv",
    ] {
        if let Some(p) = scenario_file(&folder.join(name))? {
            present.insert(name, p);
        }
    }
    let file = |name: &str| present.get(name).cloned();
    let demand: Option<Option<Vec<Demand>>> =
        file("demand.csv").map(|p| keep(&mut errors, folder, files::read_demand(&p)));
    // throughput.csv before capacity.csv, whose GPU rows are looked up in it: this folder's file,
    // else the parent's.
    let throughput: Option<Option<ThroughputTable>> =
        file("throughput.csv").map(|p| keep(&mut errors, folder, files::read_throughput(&p)));
    let p_throughput = parent.as_ref().and_then(|l| l.throughput.clone());
    let throughput_view = match (&throughput, &p_throughput) {
        (Some(Some(t)), _) | (None, Some(t)) => Throughput::Table(t),
        (Some(None), _) => Throughput::Unreadable,
        // A parent that failed may have had one: nothing to say about a look-up.
        (None, None) if extends_failed => Throughput::Unreadable,
        (None, None) => Throughput::Absent,
    };
    let tranches: Option<Option<Vec<Tranche>>> = file("capacity.csv").map(|p| {
        keep(
            &mut errors,
            folder,
            files::read_capacity(&p, throughput_view),
        )
    });
    let routes: Option<Option<Vec<Route>>> =
        file("routes.csv").map(|p| keep(&mut errors, folder, files::read_routes(&p)));
    let outages: Option<Option<Vec<Outage>>> =
        file("outages.csv").map(|p| keep(&mut errors, folder, files::read_outages(&p)));
    let workloads: Option<Option<BTreeMap<String, Workload>>> =
        file("workloads.csv").map(|p| keep(&mut errors, folder, files::read_workloads(&p)));
    let (p_demand, p_tranches, p_routes, p_outages, p_workloads, p_horizon, p_policy, p_warnings) =
        match parent {
            Some(l) => (
                Some(l.scenario.demand),
                Some(l.scenario.tranches),
                l.scenario.routes,
                l.scenario.outages,
                l.scenario.workload_settings,
                l.horizon_end,
                l.policy,
                l.warnings,
            ),
            None => (
                None,
                None,
                None,
                Vec::new(),
                BTreeMap::new(),
                None,
                PolicySettings::default(),
                Vec::new(),
            ),
        };
    // A folder reached by `extends` with neither required file nor a parent of its own is not a
    // scenario folder at all (`extends = "/"`): one error at the `extends` line says so.
    let have_demand = demand.is_some() || p_demand.is_some();
    let have_capacity = tranches.is_some() || p_tranches.is_some();
    if let (Some(at), false, false, false) = (
        referenced_at,
        have_demand,
        have_capacity,
        settings.extends.is_some(),
    ) {
        errors.push(Diagnostic::new(
            at.clone(),
            format!(
                "extends '{}', which has neither demand.csv nor capacity.csv; expected a scenario folder (check the path: it is relative to the folder of this scenario.toml)",
                folder.display()
            ),
        ));
        return Err(Error::Input(errors));
    }
    // A required file is missing only when neither this folder nor a working parent has it.
    let mut missing = |name: &str, have: bool| {
        if !have && !extends_failed {
            errors.push(Diagnostic::new(
                Location::file(folder.join(name)),
                "required file is missing (and no scenario this one extends provides it)",
            ));
        }
    };
    missing("demand.csv", have_demand);
    missing("capacity.csv", have_capacity);
    if !errors.is_empty() {
        return Err(Error::Input(errors));
    }
    let demand = demand
        .map(|d| d.expect("errors returned above"))
        .or(p_demand)
        .expect("checked above");
    let tranches = match (tranches, &throughput) {
        (Some(t), _) => t.expect("errors returned above"),
        // Inherited tranches whose throughput the parent's throughput.csv gave take this
        // folder's instead (a child's file replaces the parent's).
        (None, Some(Some(table))) => {
            let mut t = p_tranches.expect("checked above");
            gpus::look_up_again(&mut t, Throughput::Table(table), folder)?;
            t
        }
        (None, _) => p_tranches.expect("checked above"),
    };
    let throughput = throughput
        .map(|t| t.expect("errors returned above"))
        .or(p_throughput);
    let workload_settings = workloads
        .map(|w| w.expect("errors returned above"))
        .unwrap_or(p_workloads);
    files::check_workloads(&workload_settings, &demand, folder)?;
    let routes = match routes {
        Some(r) => r,
        None => p_routes,
    };
    let outages = outages
        .map(|o| o.expect("errors returned above"))
        .unwrap_or(p_outages);
    let horizon_end = settings.horizon_end.clone().or(p_horizon);
    let policy_settings = settings.policy.merged_over(&p_policy);

    let periods = time_grid(folder, &demand, horizon_end.as_ref())?;
    let name = settings.name.clone().unwrap_or_else(|| {
        canonical
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| "scenario".into())
    });
    let scenario = Scenario {
        name,
        description: settings.description.clone().unwrap_or_default(),
        folder: folder.to_path_buf(),
        policy: policy(&policy_settings),
        periods,
        demand,
        tranches,
        routes,
        outages,
        workload_settings,
    };
    let scenario = crate::whatif::apply(scenario, &settings.whatif)?;
    let mut warnings = p_warnings;
    warnings.extend(settings.warnings.iter().cloned());
    Ok(Layer {
        scenario,
        throughput,
        horizon_end,
        policy: policy_settings,
        warnings,
    })
}

/// The value of a file read, or None with its problems added to `errors`.
fn keep<T>(errors: &mut Vec<Diagnostic>, folder: &Path, r: Result<T>) -> Option<T> {
    match r {
        Ok(v) => Some(v),
        Err(Error::Input(d)) => {
            errors.extend(d);
            None
        }
        Err(e) => {
            let message = e.to_string();
            let message = message
                .strip_prefix("error: ")
                .unwrap_or(&message)
                .to_string();
            errors.push(Diagnostic::new(Location::file(folder), message));
            None
        }
    }
}

fn policy(s: &PolicySettings) -> Policy {
    let d = Policy::default();
    let unserved_penalty = s.unserved_penalty.unwrap_or(d.unserved_penalty);
    Policy {
        unserved_penalty,
        max_provider_share: s.max_provider_share.unwrap_or(d.max_provider_share),
        survive_provider_loss: s.survive_provider_loss.unwrap_or(d.survive_provider_loss),
        loss_coverage: s.loss_coverage.unwrap_or(d.loss_coverage),
        // The spec's default resilience penalty is the (merged) unserved penalty.
        resilience_penalty: s.resilience_penalty.unwrap_or(unserved_penalty),
    }
}

/// The time grid: sorted distinct demand periods; each period lasts until the next one starts; the
/// last until `horizon_end`, else as long as the one before it (a calendar-month step stays a
/// calendar month).
pub fn time_grid(
    folder: &Path,
    demand: &[Demand],
    horizon_end: Option<&(DateTime<Utc>, Location)>,
) -> Result<Vec<Period>> {
    let mut starts: Vec<DateTime<Utc>> = demand.iter().map(|d| d.period).collect();
    starts.sort();
    starts.dedup();
    let Some(&last) = starts.last() else {
        return Err(Error::input(
            Location::file(folder.join("demand.csv")),
            "no demand rows; expected at least one period",
        ));
    };
    let last_end = match horizon_end {
        Some((end, loc)) => {
            if *end <= last {
                return Err(Error::input(
                    loc.clone(),
                    format!(
                        "expected horizon_end after the last period start ({}), found {}",
                        format_time(&last),
                        format_time(end)
                    ),
                ));
            }
            *end
        }
        None if starts.len() == 1 => {
            // Point at the first demand row: that is where the lone period is written.
            let at = demand
                .iter()
                .filter_map(|d| d.origin.as_ref())
                .min_by_key(|o| (o.file.clone(), o.line))
                .map(|o| Location::at(&o.file, o.line, Some("period")))
                .unwrap_or_else(|| Location::file(folder.join("scenario.toml")));
            return Err(Error::input(
                at,
                format!(
                    "demand.csv has one period ({}) and no horizon_end; expected horizon_end in scenario.toml to give the period its length",
                    format_time(&last)
                ),
            ));
        }
        None => {
            let prev = starts[starts.len() - 2];
            next_like(prev, last).ok_or_else(|| {
                Error::input(
                    Location::file(folder.join("demand.csv")),
                    "the last period would end beyond the year 262143; expected periods closer together or a horizon_end",
                )
            })?
        }
    };
    let mut periods = Vec::with_capacity(starts.len());
    for (i, &start) in starts.iter().enumerate() {
        let end = starts.get(i + 1).copied().unwrap_or(last_end);
        let minutes = (end - start).num_milliseconds() as f64 / 60_000.0;
        periods.push(Period { start, minutes });
    }
    Ok(periods)
}

/// The instant one step after `last`, where the step is `last - prev`: whole calendar months when
/// that step is whole calendar months, else the same duration.
fn next_like(prev: DateTime<Utc>, last: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let months =
        (last.year() * 12 + last.month0() as i32) - (prev.year() * 12 + prev.month0() as i32);
    if months >= 1 {
        let m = Months::new(months as u32);
        if prev.checked_add_months(m) == Some(last) {
            if let Some(next) = last.checked_add_months(m) {
                return Some(next);
            }
        }
    }
    last.checked_add_signed(last - prev)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::parse_time;

    fn demand_at(periods: &[&str]) -> Vec<Demand> {
        periods
            .iter()
            .map(|p| Demand {
                period: parse_time(p).unwrap(),
                region: "global".into(),
                workload: "default".into(),
                tokens_per_minute: 1.0,
                origin: None,
            })
            .collect()
    }

    #[test]
    fn calendar_months_stay_calendar_months() {
        let g = time_grid(
            Path::new("s"),
            &demand_at(&["2026-11-01", "2026-12-01"]),
            None,
        )
        .unwrap();
        assert_eq!(g[0].minutes, 30.0 * 1440.0);
        assert_eq!(
            g[1].minutes,
            31.0 * 1440.0,
            "December is 31 days, not November's 30"
        );
    }

    #[test]
    fn hourly_grid_repeats_last_step() {
        let g = time_grid(
            Path::new("s"),
            &demand_at(&["2026-01-01T00:00", "2026-01-01T01:00"]),
            None,
        )
        .unwrap();
        assert_eq!(g[1].minutes, 60.0);
    }

    #[test]
    fn horizon_end_sets_last_period() {
        let h = (
            parse_time("2026-01-03").unwrap(),
            Location::file("scenario.toml"),
        );
        let g = time_grid(Path::new("s"), &demand_at(&["2026-01-01"]), Some(&h)).unwrap();
        assert_eq!(g[0].minutes, 2.0 * 1440.0);
    }

    #[test]
    fn one_period_without_horizon_end_is_an_error() {
        let e = time_grid(Path::new("s"), &demand_at(&["2026-01-01"]), None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("horizon_end"), "{e}");
    }

    #[test]
    fn horizon_end_before_last_period_is_an_error() {
        let h = (
            parse_time("2026-01-01").unwrap(),
            Location::at_key("scenario.toml", 4, "horizon_end"),
        );
        let e = time_grid(
            Path::new("s"),
            &demand_at(&["2026-01-01", "2026-02-01"]),
            Some(&h),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("scenario.toml:4: key 'horizon_end'"), "{e}");
    }

    #[test]
    fn periods_are_instants() {
        let g = time_grid(
            Path::new("s"),
            &demand_at(&[
                "2026-01-01T00:00:00Z",
                "2026-01-01T01:00:00+01:00",
                "2026-01-01T01:00",
            ]),
            None,
        )
        .unwrap();
        assert_eq!(
            g.len(),
            2,
            "the same instant with two offsets is one period"
        );
    }
}
