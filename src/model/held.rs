//! Model stage, held plans: an earlier run's reservations matched by tranche name to this
//! scenario's tranches, giving the fixed z of a held dispatch (`run --reservations-from`).
//!
//! Only the reserved fraction comes from the earlier plan: every tranche of this scenario with a
//! reservation decision takes it, and its commitment costs this scenario's commit price × z ×
//! H(k), so this scenario's delays and price changes apply. Tranches without a reservation
//! decision are on-demand. A signed commitment whose tranche this scenario no longer has is still
//! paid (its earlier `commit_cost`) and serves nothing.

use crate::error::{Diagnostics, Location, Result};
use crate::facts::Facts;
use crate::load::signed::{CommitmentRow, SignedPlan};
use crate::plan::HeldFrom;
use crate::scenario::Scenario;

/// The fixed reservations of a held dispatch.
#[derive(Debug, Clone, PartialEq)]
pub struct Held {
    pub from: HeldFrom,
    /// z per tranche of this scenario (1 for on-demand tranches).
    pub z: Vec<f64>,
    pub orphaned: Vec<CommitmentRow>,
}

/// Matches a signed plan to a scenario; every mismatch is an error naming the tranche.
pub fn resolve(s: &Scenario, facts: &Facts, signed: &SignedPlan, emergency: bool) -> Result<Held> {
    let mut diags = Diagnostics::default();
    let mut z = vec![1.0; s.tranches.len()];
    // A plan made for another scenario names none of this one's decision tranches: one line that
    // says so, not one error per tranche.
    let decisions: Vec<&str> = s
        .tranches
        .iter()
        .zip(&facts.tranches)
        .filter(|(_, f)| f.has_reservation_decision)
        .map(|(t, _)| t.name.as_str())
        .collect();
    let named = |name: &str| signed.commitments.iter().any(|c| c.tranche == name);
    if decisions.len() > 1 && !decisions.iter().any(|&n| named(n)) {
        return Err(crate::error::Error::input(
            Location::file(&signed.path),
            format!(
                "the held plan was made for scenario '{}' and names none of the {} tranches of '{}' that have a reservation decision (such as '{}'); expected a plan of this scenario, or of one it extends",
                signed.scenario,
                decisions.len(),
                s.name,
                decisions[0]
            ),
        ));
    }
    for (k, tranche) in s.tranches.iter().enumerate() {
        if !facts.tranches[k].has_reservation_decision {
            continue;
        }
        let Some((i, c)) = signed
            .commitments
            .iter()
            .enumerate()
            .find(|(_, c)| c.tranche == tranche.name)
        else {
            let at = tranche
                .origin
                .as_ref()
                .map(|o| Location::at(&o.file, o.line, Some("tranche")))
                .unwrap_or_else(|| Location::file(&signed.path));
            diags.push(
                at,
                format!(
                    "tranche '{}' has a reservation decision, but the held plan {} does not name it; expected a plan made for this scenario's tranches (a commitments.csv row named '{}')",
                    tranche.name,
                    signed.path.display(),
                    tranche.name
                ),
            );
            continue;
        };
        let mut mismatch = |column: &str, held: &str, here: &str| {
            diags.push(
                signed.location(i, column),
                format!(
                    "tranche '{}' is {column} '{held}' in the held plan but '{here}' in this scenario; expected the same tranche (rename one of them)",
                    tranche.name
                ),
            );
        };
        if c.provider != tranche.provider {
            mismatch("provider", &c.provider, &tranche.provider);
            continue;
        }
        if c.region != tranche.region {
            mismatch("region", &c.region, &tranche.region);
            continue;
        }
        if c.reserved_fraction < tranche.min_commit {
            diags.push(
                signed.location(i, "reserved_fraction"),
                format!(
                    "tranche '{}' holds reserved_fraction {} but this scenario's min_commit is {}; expected a held fraction at least min_commit",
                    tranche.name, c.reserved_fraction, tranche.min_commit
                ),
            );
            continue;
        }
        z[k] = c.reserved_fraction;
    }
    let orphaned = signed
        .commitments
        .iter()
        .filter(|c| !s.tranches.iter().any(|k| k.name == c.tranche))
        .filter(|c| c.commit_cost > 0.0)
        .cloned()
        .collect();
    diags.finish(Held {
        from: HeldFrom {
            scenario: signed.scenario.clone(),
            commitments_sha256: signed.commitments_sha256.clone(),
            emergency,
        },
        z,
        orphaned,
    })
}
