//! What-ifs on the command line (`run` and `validate`): each flag changes the scenario exactly
//! like its `[whatif]` / `[policy]` twin in a child scenario.toml, repeated flags combine, bad
//! flags are one-line errors naming the flag, and the run records the flags (output folder name,
//! summary.json, validate's summary).

use std::path::Path;

use crate::common::{capplan, command, Folder};
use capplan::load::flags::WhatIfFlags;
use sha2::{Digest, Sha256};

const DEMAND: &str = "period,region,workload,tokens_per_minute\n\
2026-01-01,us,chat,3M\n2026-01-01,eu,chat,1M\n2026-02-01,us,chat,4M\n2026-02-01,eu,chat,2M\n";

const CAPACITY: &str =
    "provider,region,tranche,start,end,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour\n\
aws,us,aws-us-r,,,3M,0.05,120\n\
aws,us,aws-us-od,,,5M,2,0\n\
aws,eu,aws-eu-od,,,3M,2.2,0\n\
gcp,us,gcp-us-r,2026-01-10,,2M,0.04,90\n\
gcp,eu,gcp-eu-od,,,3M,1.8,0\n\
azure,us,azure-us-od,,,4M,2.5,0\n\
oracle,eu,oracle-eu-r,,,2M,0.03,70\n";

/// A base scenario in `base/`; children are written beside it.
fn base() -> Folder {
    Folder::new()
        .file("base/demand.csv", DEMAND)
        .file("base/capacity.csv", CAPACITY)
        .file("base/scenario.toml", "horizon_end = \"2026-03-01\"\n")
}

/// summary.json of `capplan run FOLDER ARGS` (written to a temp folder).
fn summary(folder: &Path, args: &[&str]) -> serde_json::Value {
    let out = tempfile::tempdir().unwrap();
    let out_dir = out.path().join("run");
    let mut all = vec![
        "run",
        folder.to_str().unwrap(),
        "--out",
        out_dir.to_str().unwrap(),
        "--no-charts",
        "--format",
        "json",
    ];
    all.extend_from_slice(args);
    let (code, stdout, stderr) = capplan(&all);
    assert_eq!(code, 0, "capplan {all:?}\n{stderr}");
    let written: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out_dir.join("summary.json")).unwrap())
            .unwrap();
    let mut printed: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    // stdout is summary.json plus the shortfalls in words and the warnings.
    let printed_object = printed.as_object_mut().unwrap();
    assert!(printed_object.remove("shortfalls").unwrap().is_array());
    assert!(printed_object.remove("warnings").unwrap().is_array());
    assert_eq!(written, printed);
    written
}

fn objective(folder: &Path, args: &[&str]) -> f64 {
    summary(folder, args)["objective"].as_f64().unwrap()
}

/// The flags on the base give the objective of a child whose scenario.toml extends the base with
/// `toml` (its `[whatif]` / `[policy]`), and they change the plan.
fn same_as_child(flags: &[&str], toml: &str) {
    let f = base().file(
        "child/scenario.toml",
        &format!("extends = \"../base\"\n{toml}"),
    );
    let by_flag = summary(&f.sub("base"), flags);
    let by_child = summary(&f.sub("child"), &[]);
    assert_eq!(
        by_flag["objective"], by_child["objective"],
        "{flags:?} against\n{toml}"
    );
    assert_eq!(by_flag["policy"], by_child["policy"], "{flags:?}");
    let plain = objective(&f.sub("base"), &[]);
    assert_ne!(
        by_flag["objective"].as_f64().unwrap(),
        plain,
        "{flags:?} should change the plan"
    );
}

#[test]
fn demand_scale_is_whatif_demand_scale() {
    same_as_child(&["--demand-scale", "1.3"], "[whatif]\ndemand_scale = 1.3\n");
}

#[test]
fn only_is_only_providers() {
    same_as_child(
        &["--only", "aws,gcp"],
        "[whatif]\nonly_providers = [\"aws\", \"gcp\"]\n",
    );
}

#[test]
fn exclude_is_exclude_providers() {
    same_as_child(
        &["--exclude", "oracle"],
        "[whatif]\nexclude_providers = [\"oracle\"]\n",
    );
}

#[test]
fn delay_is_whatif_delay_in_hours_days_and_weeks() {
    same_as_child(
        &["--delay", "aws=3w"],
        "[[whatif.delay]]\nprovider = \"aws\"\ndays = 21\n",
    );
    same_as_child(
        &["--delay", "aws/us=36h"],
        "[[whatif.delay]]\nprovider = \"aws\"\nregion = \"us\"\ndays = 1.5\n",
    );
    same_as_child(
        &["--delay", "gcp/us=30d"],
        "[[whatif.delay]]\nprovider = \"gcp\"\nregion = \"us\"\ndays = 30\n",
    );
}

#[test]
fn price_is_whatif_price() {
    same_as_child(
        &["--price", "aws=0.8"],
        "[[whatif.price]]\nprovider = \"aws\"\nfactor = 0.8\n",
    );
    same_as_child(
        &["--price", "aws/eu=0.5"],
        "[[whatif.price]]\nprovider = \"aws\"\nregion = \"eu\"\nfactor = 0.5\n",
    );
}

#[test]
fn outage_is_whatif_outage() {
    same_as_child(
        &["--outage", "aws/us@2026-02-06T12:00Z..2026-02-13=0.2"],
        "[[whatif.outage]]\nprovider = \"aws\"\nregion = \"us\"\nstart = \"2026-02-06T12:00Z\"\nend = \"2026-02-13\"\ncapacity_factor = 0.2\n",
    );
    same_as_child(
        &["--outage", "aws@2026-02-01T02:00+02:00..2026-02-10T00:00:00-04:00"],
        "[[whatif.outage]]\nprovider = \"aws\"\nstart = \"2026-02-01T00:00Z\"\nend = \"2026-02-10T04:00\"\n",
    );
}

#[test]
fn set_is_a_child_policy_key() {
    // A penalty of $0.50/M is below every reserved tranche's price at full use ($0.58–$0.75/M),
    // so it changes the plan (at $1.50/M it did not: every cell is served by reservations).
    same_as_child(
        &["--set", "policy.unserved_penalty=0.5"],
        "[policy]\nunserved_penalty = 0.5\n",
    );
    same_as_child(
        &["--set", "policy.max_provider_share=0.3"],
        "[policy]\nmax_provider_share = 0.3\n",
    );
    // The default resilience penalty follows the unserved penalty set at this level, as in a child.
    same_as_child(
        &[
            "--only",
            "aws,gcp",
            "--set",
            "policy.survive_provider_loss=true",
            "--set",
            "policy.unserved_penalty=0.5",
        ],
        "[policy]\nsurvive_provider_loss = true\nunserved_penalty = 0.5\n\
         [whatif]\nonly_providers = [\"aws\", \"gcp\"]\n",
    );
    same_as_child(
        &[
            "--only",
            "aws,gcp",
            "--set",
            "policy.survive_provider_loss=true",
            "--set",
            "policy.loss_coverage=0.5",
            "--set",
            "policy.resilience_penalty=2",
        ],
        "[policy]\nsurvive_provider_loss = true\nloss_coverage = 0.5\nresilience_penalty = 2\n\
         [whatif]\nonly_providers = [\"aws\", \"gcp\"]\n",
    );
}

#[test]
fn set_keeps_the_loaded_policy_keys_it_does_not_name() {
    let f = base()
        .file(
            "base/scenario.toml",
            "horizon_end = \"2026-03-01\"\n[policy]\nmax_provider_share = 0.5\n",
        )
        .file(
            "child/scenario.toml",
            "extends = \"../base\"\n[policy]\nunserved_penalty = 2\n",
        );
    let s = summary(&f.sub("base"), &["--set", "policy.unserved_penalty=2"]);
    assert_eq!(s["policy"]["max_provider_share"], 0.5);
    assert_eq!(s["policy"]["resilience_penalty"], 2.0);
    assert_eq!(s["objective"], summary(&f.sub("child"), &[])["objective"]);
}

#[test]
fn all_flags_together_are_one_child_level() {
    same_as_child(
        &[
            "--outage",
            "gcp/eu@2026-01-20..2026-02-05=0.5",
            "--demand-scale",
            "1.2",
            "--exclude",
            "oracle",
            "--only",
            "aws,gcp,oracle",
            "--delay",
            "gcp/us=1w",
            "--price",
            "aws/us=1.5",
            "--set",
            "policy.max_provider_share=0.7",
        ],
        "[policy]\nmax_provider_share = 0.7\n\
         [whatif]\ndemand_scale = 1.2\nonly_providers = [\"aws\", \"gcp\", \"oracle\"]\nexclude_providers = [\"oracle\"]\n\
         [[whatif.delay]]\nprovider = \"gcp\"\nregion = \"us\"\ndays = 7\n\
         [[whatif.price]]\nprovider = \"aws\"\nregion = \"us\"\nfactor = 1.5\n\
         [[whatif.outage]]\nprovider = \"gcp\"\nregion = \"eu\"\nstart = \"2026-01-20\"\nend = \"2026-02-05\"\ncapacity_factor = 0.5\n",
    );
}

#[test]
fn repeated_flags_combine() {
    // Price factors multiply: two 0.5 are one 0.25.
    same_as_child(
        &["--price", "gcp=0.5", "--price", "gcp=0.5"],
        "[[whatif.price]]\nprovider = \"gcp\"\nfactor = 0.25\n",
    );
    // Demand factors multiply.
    same_as_child(
        &["--demand-scale", "2", "--demand-scale", "1.5"],
        "[whatif]\ndemand_scale = 3\n",
    );
    // --only and --exclude lists are united.
    same_as_child(
        &["--only", "aws", "--only", "gcp,aws", "--exclude", "gcp"],
        "[whatif]\nonly_providers = [\"aws\", \"gcp\"]\nexclude_providers = [\"gcp\"]\n",
    );
    // Delays add up, outages are each added.
    same_as_child(
        &[
            "--delay",
            "aws=1w",
            "--delay",
            "aws=2w",
            "--outage",
            "gcp@2026-01-01..2026-01-15",
            "--outage",
            "gcp@2026-02-01..2026-02-15=0.5",
        ],
        "[[whatif.delay]]\nprovider = \"aws\"\ndays = 21\n\
         [[whatif.outage]]\nprovider = \"gcp\"\nstart = \"2026-01-01\"\nend = \"2026-01-15\"\n\
         [[whatif.outage]]\nprovider = \"gcp\"\nstart = \"2026-02-01\"\nend = \"2026-02-15\"\ncapacity_factor = 0.5\n",
    );
}

#[test]
fn provider_names_are_checked_against_the_scenario_before_the_flags() {
    // The scenario's own [whatif] dropped oracle: a flag naming it is a typo-like error.
    let f = base().file(
        "child/scenario.toml",
        "extends = \"../base\"\n[whatif]\nexclude_providers = [\"oracle\"]\n",
    );
    let (code, _, stderr) = capplan(&[
        "run",
        f.sub("child").to_str().unwrap(),
        "--price",
        "oracle=0.5",
        "--no-charts",
    ]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        stderr.trim_end(),
        "error: --price oracle=0.5: provider 'oracle' matches no provider of the scenario; expected one of 'aws', 'azure', 'gcp'"
    );
    // Within the flags' level, names are checked before its own filters apply.
    objective(&f.sub("base"), &["--only", "aws", "--price", "gcp=0.5"]);
    // A region the provider has no tranche in.
    let (code, _, stderr) = capplan(&[
        "validate",
        f.sub("base").to_str().unwrap(),
        "--delay",
        "azure/eu=1d",
    ]);
    assert_eq!(code, 2);
    assert_eq!(
        stderr.trim_end(),
        "error: --delay azure/eu=1d: provider 'azure' has no tranche in region 'eu'; expected one of 'us'"
    );
}

#[test]
fn bad_flags_are_one_line_errors_naming_the_flag() {
    let f = base();
    let out = f.sub("out");
    let folder = f.sub("base");
    for (flag, value, message) in [
        (
            "--delay",
            "aws=ninety",
            "expected a duration such as 90d, 12h or 2w, found 'ninety'",
        ),
        (
            "--price",
            "nosuch=0.8",
            "provider 'nosuch' matches no provider of the scenario; expected one of 'aws', 'azure', 'gcp', 'oracle'",
        ),
        (
            "--demand-scale",
            "-1",
            "expected a non-negative number, found '-1'",
        ),
        (
            "--outage",
            "aws@2026-07-13..2026-07-06T12:00Z",
            "expected an end after the start 2026-07-13T00:00:00Z, found 2026-07-06T12:00:00Z",
        ),
        (
            "--set",
            "policy.nope=1",
            "unknown key 'policy.nope'; expected one of 'policy.unserved_penalty', 'policy.max_provider_share', 'policy.survive_provider_loss', 'policy.loss_coverage', 'policy.resilience_penalty'",
        ),
    ] {
        for command in ["run", "validate"] {
            let mut args = vec![command, folder.to_str().unwrap()];
            if command == "run" {
                args.extend(["--out", out.to_str().unwrap()]);
            }
            args.extend([flag, value]);
            let (code, stdout, stderr) = capplan(&args);
            assert_eq!(code, 2, "{args:?}: {stderr}");
            assert_eq!(stdout, "");
            assert_eq!(stderr, format!("error: {flag} {value}: {message}\n"));
            assert!(!out.exists(), "nothing is written");
        }
    }
}

#[test]
fn default_folder_is_named_after_the_flags_in_canonical_order() {
    let f = base();
    let cwd = f.sub("cwd");
    std::fs::create_dir_all(&cwd).unwrap();
    let run = |args: &[&str]| {
        let out = command()
            .current_dir(&cwd)
            .arg("run")
            .arg(f.sub("base"))
            .arg("--no-charts")
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&["--delay", "aws=90d", "--demand-scale", "1.3"]);
    assert!(cwd
        .join("output/base+demand-scale-1.3+delay-aws-90d/summary.json")
        .is_file());
    run(&["--outage", "aws/us@2026-01-06T12:00Z..2026-01-13=0.2"]);
    assert!(cwd
        .join("output/base+outage-aws-us-2026-01-06T12-00Z-2026-01-13-0.2/summary.json")
        .is_file());

    let prices: Vec<String> = ["aws", "gcp", "azure", "oracle"]
        .iter()
        .flat_map(|p| ["--price".to_string(), format!("{p}=0.987654321")])
        .chain(["--set".into(), "policy.max_provider_share=0.9".into()])
        .collect();
    let args: Vec<&str> = prices.iter().map(String::as_str).collect();
    run(&args);
    let flags = WhatIfFlags {
        price: ["aws", "gcp", "azure", "oracle"]
            .iter()
            .map(|p| format!("{p}=0.987654321"))
            .collect(),
        set: vec!["policy.max_provider_share=0.9".into()],
        ..WhatIfFlags::default()
    };
    let hash: String = Sha256::digest(flags.label().as_bytes())[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let full = format!("base{}", "+price-aws-0.987654321+price-gcp-0.987654321+price-azure-0.987654321+price-oracle-0.987654321+set-policy.max_provider_share-0.9");
    let name = format!("{}-{hash}", &full[..71]);
    assert_eq!(name.len(), 80);
    assert!(
        cwd.join("output")
            .join(&name)
            .join("summary.json")
            .is_file(),
        "{name}"
    );
    let names: Vec<String> = std::fs::read_dir(cwd.join("output"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert!(
        names.iter().all(|n| n.len() <= 80
            && n.chars()
                .all(|c| c.is_ascii_alphanumeric() || "._+-".contains(c))),
        "{names:?}"
    );
}

#[test]
fn summary_json_records_the_flags_in_canonical_order() {
    let f = base();
    let s = summary(
        &f.sub("base"),
        &[
            "--delay",
            "aws=90d",
            "--demand-scale",
            "1.3",
            "--demand-scale",
            "1.1",
        ],
    );
    assert_eq!(
        s["whatif_flags"],
        serde_json::json!([
            {"flag": "--demand-scale", "value": "1.3"},
            {"flag": "--demand-scale", "value": "1.1"},
            {"flag": "--delay", "value": "aws=90d"},
        ])
    );
    assert!(summary(&f.sub("base"), &[]).get("whatif_flags").is_none());
}

#[test]
fn validate_lists_the_flags() {
    let f = base();
    let folder = f.sub("base");
    let (code, stdout, stderr) = capplan(&[
        "validate",
        folder.to_str().unwrap(),
        "--delay",
        "aws=90d",
        "--demand-scale",
        "1.3",
    ]);
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("\nwhat-ifs   --demand-scale 1.3 --delay aws=90d\n"),
        "{stdout}"
    );
    let (code, stdout, _) = capplan(&[
        "validate",
        folder.to_str().unwrap(),
        "--format",
        "json",
        "--exclude",
        "oracle",
    ]);
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(
        v["whatif_flags"],
        serde_json::json!([{"flag": "--exclude", "value": "oracle"}])
    );
    assert_eq!(v["providers"], serde_json::json!(["aws", "azure", "gcp"]));
    let (_, stdout, _) = capplan(&["validate", folder.to_str().unwrap()]);
    assert!(!stdout.contains("what-ifs"), "{stdout}");
}

#[test]
fn frontier_2026_with_flags_is_its_what_if_child() {
    let frontier = std::fs::canonicalize("scenarios/frontier-2026").unwrap();
    let f = Folder::new().file(
        "child/scenario.toml",
        &format!(
            "extends = {:?}\n[policy]\nloss_coverage = 0.7\n[whatif]\ndemand_scale = 1.3\nexclude_providers = [\"oracle\"]\n\
             [[whatif.delay]]\nprovider = \"aws\"\ndays = 90\n\
             [[whatif.price]]\nprovider = \"gcp\"\nfactor = 0.8\n\
             [[whatif.outage]]\nprovider = \"azure\"\nstart = \"2026-07-06T12:00Z\"\nend = \"2026-07-13\"\ncapacity_factor = 0.2\n",
            frontier.to_str().unwrap()
        ),
    );
    let by_flag = summary(
        &frontier,
        &[
            "--demand-scale",
            "1.3",
            "--delay",
            "aws=90d",
            "--exclude",
            "oracle",
            "--price",
            "gcp=0.8",
            "--outage",
            "azure@2026-07-06T12:00Z..2026-07-13=0.2",
            "--set",
            "policy.loss_coverage=0.7",
        ],
    );
    let by_child = summary(&f.sub("child"), &[]);
    assert_eq!(by_flag["objective"], by_child["objective"]);
    assert_eq!(by_flag["policy"], by_child["policy"]);
    assert_ne!(by_flag["objective"], summary(&frontier, &[])["objective"]);
}

#[test]
fn a_percentage_for_a_factor_or_a_fraction_says_which_number_it_is() {
    let f = base();
    let folder = f.sub("base");
    for (flag, value, message) in [
        (
            "--demand-scale",
            "40%",
            "expected a number such as 1200, 1.5e10 or 15B (suffixes K, M, B, T), found '40%'; write the factor as a number: 0.4",
        ),
        (
            "--price",
            "gcp=+20%",
            "expected a number such as 1200, 1.5e10 or 15B (suffixes K, M, B, T), found '+20%'; write the factor as a number: 1.2",
        ),
        (
            "--set",
            "policy.max_provider_share=40%",
            "expected a fraction in [0, 1], found '40%'; write fractions as decimals: 0.4",
        ),
        (
            "--set",
            "policy.max_provider_share=40",
            "expected a fraction in [0, 1], found 40; did you mean 0.4?",
        ),
    ] {
        let (code, _, stderr) = capplan(&["validate", folder.to_str().unwrap(), flag, value]);
        assert_eq!(code, 2, "{stderr}");
        assert_eq!(stderr, format!("error: {flag} {value}: {message}\n"));
    }
    // A factor of 10 or more is legal, with a warning at the flag.
    let (code, stdout, stderr) = capplan(&[
        "validate",
        folder.to_str().unwrap(),
        "--format",
        "json",
        "--demand-scale",
        "12",
    ]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    // The flags' warnings come after the scenario's own, before the checks across files.
    assert_eq!(
        v["warnings"][0],
        "--demand-scale 12: demand_scale 12 multiplies demand by 12; if a percentage was meant, write 0.12 for 12% or 1.12 for +12%"
    );
}
