//! Errors that teach (issue 10, item 3): the real `capplan` binary on broken scenario folders,
//! asserting the exact messages: why a value in the right form does not exist, hints for a
//! spreadsheet's habits, one line for a column full of the same problem, scenario.toml keys
//! named as keys, and errors as JSON with `--format json`.

use crate::common::{capplan, Folder};

const DEMAND: &str = "period,tokens_per_minute\n2026-01-01,100\n2026-02-01,100\n";
const CAPACITY: &str = "provider,capacity_tpm\naws,1000\n";
const TIME_FORMS: &str = "a time as YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS[.fff]], optionally followed by Z or an offset ±HH:MM (no suffix means UTC)";
const NUMBER_FORMS: &str = "a number such as 1200, 1.5e10 or 15B (suffixes K, M, B, T)";

/// A scenario folder with the valid demand and capacity, then `files` written over them.
fn scenario(files: &[(&str, &str)]) -> Folder {
    let mut f = Folder::new()
        .file("demand.csv", DEMAND)
        .file("capacity.csv", CAPACITY);
    for (name, text) in files {
        f = f.file(name, text);
    }
    f
}

/// `capplan validate <folder> [args]`: exit code, stdout, and stderr with the folder's path
/// removed so messages read `demand.csv:4: …`.
fn validate(f: &Folder, args: &[&str]) -> (i32, String, String) {
    let dir = f.path().to_str().expect("a UTF-8 temp path");
    let mut all = vec!["validate", dir];
    all.extend(args);
    let (code, stdout, stderr) = capplan(&all);
    let prefix = format!("{dir}/");
    (
        code,
        stdout.replace(&prefix, ""),
        stderr.replace(&prefix, ""),
    )
}

/// Asserts that validating `f` fails with exit code 2 and exactly `expected` on stderr.
#[track_caller]
fn rejects(f: &Folder, expected: &str) {
    let (code, _, stderr) = validate(f, &[]);
    assert_eq!(stderr.trim_end(), expected, "stderr:\n{stderr}");
    assert_eq!(code, 2);
}

#[test]
fn a_date_in_the_form_says_why_it_does_not_exist() {
    let f = scenario(&[(
        "demand.csv",
        "period,tokens_per_minute\n2026-13-01,1\n2026-04-31,1\n2026-02-29,1\n",
    )]);
    rejects(
        &f,
        "error: demand.csv:2: column 'period': expected a date YYYY-MM-DD, found '2026-13-01': month 13 does not exist\n\
         error: demand.csv:3: column 'period': expected a date YYYY-MM-DD, found '2026-04-31': April has 30 days\n\
         error: demand.csv:4: column 'period': expected a date YYYY-MM-DD, found '2026-02-29': 2026 is not a leap year (February has 28 days)\n\
         3 errors",
    );
}

#[test]
fn a_time_in_the_form_says_why_it_does_not_exist() {
    let f = scenario(&[(
        "outages.csv",
        "provider,start,end\n\
         aws,2026-01-05T24:00,2026-01-06\n\
         aws,2026-01-05T25:00Z,2026-01-06\n\
         aws,2026-01-05T10:60,2026-01-06\n\
         aws,2026-01-05T10:00+24:00,2026-01-06\n",
    )]);
    rejects(
        &f,
        "error: outages.csv:2: column 'start': expected a time YYYY-MM-DDTHH:MM, found '2026-01-05T24:00': hour 24 does not exist (hours run from 00 to 23); midnight at the end of the day is 2026-01-06T00:00\n\
         error: outages.csv:3: column 'start': expected a time YYYY-MM-DDTHH:MMZ, found '2026-01-05T25:00Z': hour 25 does not exist (hours run from 00 to 23)\n\
         error: outages.csv:4: column 'start': expected a time YYYY-MM-DDTHH:MM, found '2026-01-05T10:60': minute 60 does not exist (minutes run from 00 to 59)\n\
         error: outages.csv:5: column 'start': expected a time YYYY-MM-DDTHH:MM±HH:MM, found '2026-01-05T10:00+24:00': offset +24:00 is out of range (offsets run from -23:59 to +23:59)\n\
         4 errors",
    );
}

#[test]
fn a_time_not_in_any_form_lists_the_forms() {
    let f = scenario(&[(
        "demand.csv",
        "period,tokens_per_minute\n2026-01-01,1\n03/01/2026,1\n",
    )]);
    rejects(
        &f,
        &format!("error: demand.csv:3: column 'period': expected {TIME_FORMS}, found '03/01/2026'; write dates year first: 2026-01-03 if it is day/month/year, 2026-03-01 if month/day/year"),
    );
}

#[test]
fn spreadsheet_numbers_get_a_hint() {
    let f = scenario(&[(
        "capacity.csv",
        "provider,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour,min_commit\n\
         aws,\"1,500,000\",$2.40,USD 12,80%\n\
         gcp,1000,€2.40,£3,0.5\n\
         azure,80%,2,\"$1,200\",150%\n",
    )]);
    rejects(
        &f,
        &format!(
            "error: capacity.csv:2: column 'capacity_tpm': expected {NUMBER_FORMS}, found '1,500,000'; drop the thousands separators: 1500000\n\
             error: capacity.csv:2: column 'cost_per_million_tokens': expected {NUMBER_FORMS}, found '$2.40'; drop the currency sign: 2.40\n\
             error: capacity.csv:2: column 'commit_cost_per_hour': expected {NUMBER_FORMS}, found 'USD 12'; drop the currency code: 12\n\
             error: capacity.csv:2: column 'min_commit': expected a fraction in [0, 1], found '80%'; write fractions as decimals: 0.8\n\
             error: capacity.csv:3: column 'cost_per_million_tokens': expected {NUMBER_FORMS}, found '€2.40'; drop the currency sign: 2.40\n\
             error: capacity.csv:3: column 'commit_cost_per_hour': expected {NUMBER_FORMS}, found '£3'; drop the currency sign: 3\n\
             error: capacity.csv:4: column 'capacity_tpm': expected {NUMBER_FORMS}, found '80%'; drop the percent sign: 80\n\
             error: capacity.csv:4: column 'commit_cost_per_hour': expected {NUMBER_FORMS}, found '$1,200'; drop the currency sign and the thousands separators: 1200\n\
             error: capacity.csv:4: column 'min_commit': expected a fraction in [0, 1], found '150%'\n\
             9 errors"
        ),
    );
}

#[test]
fn lower_case_suffixes_keep_their_message() {
    let f = scenario(&[("capacity.csv", "provider,capacity_tpm\naws,15b\n")]);
    rejects(
        &f,
        &format!("error: capacity.csv:2: column 'capacity_tpm': expected {NUMBER_FORMS}, found '15b' (suffixes are upper case: K, M, B, T)"),
    );
}

/// demand.csv with a valid period on every line but `bad`, where the period is `03/01/2026`; the
/// header is line 1, so the rows are lines 2 to `last`.
fn demand_with_bad_lines(last: u64, bad: impl Fn(u64) -> bool) -> String {
    let mut text = String::from("period,tokens_per_minute\n");
    let start = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
    for line in 2..=last {
        if bad(line) {
            text.push_str("03/01/2026,1\n");
        } else {
            let day = start + chrono::Days::new(line);
            text.push_str(&format!("{},1\n", day.format("%Y-%m-%d")));
        }
    }
    text
}

#[test]
fn a_column_full_of_one_problem_is_one_line_and_counted_truthfully() {
    let f = scenario(&[("demand.csv", &demand_with_bad_lines(219, |l| l >= 4))]);
    rejects(
        &f,
        &format!(
            "error: demand.csv:4: column 'period': expected {TIME_FORMS}, found '03/01/2026'; write dates year first: 2026-01-03 if it is day/month/year, 2026-03-01 if month/day/year; and 215 more lines like it (5–219)\n\
             216 errors"
        ),
    );
}

#[test]
fn lines_apart_are_listed_and_other_problems_keep_their_place() {
    let bad = |l: u64| matches!(l, 4 | 5 | 9) || (12..=40).contains(&l);
    let mut demand = demand_with_bad_lines(41, bad);
    demand.push_str("2026-06-01,lots\n");
    let f = scenario(&[("demand.csv", &demand)]);
    rejects(
        &f,
        &format!(
            "error: demand.csv:4: column 'period': expected {TIME_FORMS}, found '03/01/2026'; write dates year first: 2026-01-03 if it is day/month/year, 2026-03-01 if month/day/year; and 31 more lines like it (5, 9, 12–40)\n\
             error: demand.csv:42: column 'tokens_per_minute': expected {NUMBER_FORMS}, found 'lots'\n\
             33 errors"
        ),
    );
}

#[test]
fn two_of_a_kind_are_written_out() {
    let f = scenario(&[(
        "demand.csv",
        &demand_with_bad_lines(6, |l| l == 3 || l == 6),
    )]);
    rejects(
        &f,
        &format!(
            "error: demand.csv:3: column 'period': expected {TIME_FORMS}, found '03/01/2026'; write dates year first: 2026-01-03 if it is day/month/year, 2026-03-01 if month/day/year\n\
             error: demand.csv:6: column 'period': expected {TIME_FORMS}, found '03/01/2026'; write dates year first: 2026-01-03 if it is day/month/year, 2026-03-01 if month/day/year\n\
             2 errors"
        ),
    );
}

#[test]
fn empty_cells_and_field_counts_group_too() {
    let f = scenario(&[
        (
            "demand.csv",
            "period,tokens_per_minute\n2026-01-01,1\n2026-02-01,1,2\n2026-03-01\n2026-04-01,1,2,3\n",
        ),
        ("capacity.csv", "provider,capacity_tpm\naws,1\n,1\n,2\n,3\n"),
    ]);
    rejects(
        &f,
        "error: demand.csv:3: expected 2 fields as in the header, found 3; and 2 more lines like it (4, 5)\n\
         error: capacity.csv:3: column 'provider': expected a provider name such as aws, found an empty cell; and 2 more lines like it (4, 5)\n\
         6 errors",
    );
}

#[test]
fn a_spreadsheets_trailing_empty_rows_are_no_error() {
    let f = scenario(&[
        (
            "demand.csv",
            "period,region,tokens_per_minute\r\n2026-01-01,us,100\r\n2026-02-01,us,100\r\n,,\r\n,,\r\n,,,,\r\n",
        ),
        ("capacity.csv", "provider,capacity_tpm,region\naws,1000,us\n,,\n,,\n"),
    ]);
    let (code, stdout, stderr) = validate(&f, &["--format", "json"]);
    assert_eq!(code, 0, "{stderr}");
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["periods"], 2);
    assert_eq!(v["tranches"], 1);
}

#[test]
fn scenario_toml_names_keys_as_keys() {
    let f = scenario(&[(
        "scenario.toml",
        "horizon_end = \"2026-02-29\"\n[policy]\nloss_coverage = 1.5\nmax_share = 0.5\n",
    )]);
    rejects(
        &f,
        "error: scenario.toml:4: key 'policy.max_share': unknown key (did you mean 'max_provider_share'?); accepted keys in [policy] are 'unserved_penalty', 'max_provider_share', 'survive_provider_loss', 'loss_coverage', 'resilience_penalty'",
    );
    let f = scenario(&[(
        "scenario.toml",
        "horizon_end = \"2026-02-29\"\n[policy]\nloss_coverage = 1.5\n",
    )]);
    rejects(
        &f,
        "error: scenario.toml:1: key 'horizon_end': expected a date YYYY-MM-DD, found '2026-02-29': 2026 is not a leap year (February has 28 days)\n\
         error: scenario.toml:3: key 'policy.loss_coverage': expected a fraction in [0, 1], found 1.5\n\
         2 errors",
    );
}

#[test]
fn format_json_prints_input_errors_as_json_on_stdout() {
    let f = scenario(&[
        (
            "demand.csv",
            "period,tokens_per_minute\n2026-01-01,1\n2026-13-01,1\n",
        ),
        ("scenario.toml", "[policy]\nloss_coverage = 1.5\n"),
    ]);
    let dir = f.path().to_str().unwrap().to_string();
    for command in ["validate", "run"] {
        let mut args = vec![command, dir.as_str(), "--format", "json"];
        if command == "run" {
            args.extend(["--quiet", "--no-charts"]);
        }
        let (code, stdout, stderr) = capplan(&args);
        assert_eq!(code, 2, "{command}: {stderr}");
        let v: serde_json::Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("{command}: stdout is not JSON ({e}): {stdout}"));
        assert_eq!(
            v,
            serde_json::json!({
                "ok": false,
                "errors": [
                    {
                        "file": format!("{dir}/scenario.toml"),
                        "line": 2,
                        "column": null,
                        "key": "policy.loss_coverage",
                        "message": "expected a fraction in [0, 1], found 1.5",
                    },
                    {
                        "file": format!("{dir}/demand.csv"),
                        "line": 3,
                        "column": "period",
                        "key": null,
                        "message": "expected a date YYYY-MM-DD, found '2026-13-01': month 13 does not exist",
                    },
                ],
                "warnings": [],
            }),
            "{command}"
        );
        // The text stays on stderr for a person watching.
        assert!(stderr.contains("2 errors"), "{command}: {stderr}");
    }
}

#[test]
fn format_json_lists_every_problem_of_a_group() {
    let f = scenario(&[("demand.csv", &demand_with_bad_lines(30, |l| l >= 4))]);
    let (code, stdout, _) = validate(&f, &["--format", "json"]);
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    let lines: Vec<u64> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, (4..=30).collect::<Vec<u64>>());
}

#[test]
fn format_json_covers_a_missing_folder_and_text_is_unchanged() {
    let (code, stdout, stderr) =
        capplan(&["validate", "/nonexistent/capplan-s", "--format", "json"]);
    assert_eq!(code, 2);
    let v: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(v["ok"], false);
    assert_eq!(v["errors"][0]["file"], "/nonexistent/capplan-s");
    assert_eq!(v["errors"][0]["line"], serde_json::Value::Null);
    assert!(
        stderr.starts_with("error: /nonexistent/capplan-s: scenario folder not found"),
        "{stderr}"
    );
    // Without --format json, stdout stays empty.
    let (code, stdout, _) = capplan(&["validate", "/nonexistent/capplan-s"]);
    assert_eq!((code, stdout.as_str()), (2, ""));
}

/// Issue 18, item 9: a spreadsheet's habits get a hint, not a puzzle.
#[test]
fn a_semicolon_separated_file_is_named_as_such() {
    let f = scenario(&[("demand.csv", "period;tokens_per_minute\n2026-01-01;100\n")]);
    rejects(
        &f,
        "error: demand.csv:1: the header 'period;tokens_per_minute' is one field: this file separates fields with ';' (a spreadsheet's CSV in a European locale); save it with ',' between fields (in LibreOffice or Excel: CSV with the field delimiter ','); expected a header row with columns 'period', 'tokens_per_minute', 'region', 'workload'",
    );
}

#[test]
fn a_trailing_unnamed_column_is_ignored_while_empty() {
    let f = scenario(&[(
        "demand.csv",
        "period,tokens_per_minute,\n2026-01-01,100,\n2026-02-01,100,\n",
    )]);
    let (code, _, stderr) = validate(&f, &[]);
    assert_eq!(code, 0, "{stderr}");
    let f = scenario(&[(
        "demand.csv",
        "period,tokens_per_minute,\n2026-01-01,100,\n2026-02-01,100,7\n",
    )]);
    rejects(
        &f,
        "error: demand.csv:3: field 3 has a value but its column has no name in the header; expected it empty, or a column name above it",
    );
}

#[test]
fn dates_in_other_forms_get_a_suggested_value() {
    for (written, hint) in [
        ("2026-1-1", "did you mean 2026-01-01?"),
        (
            "2026-02",
            "a month is written as its first day: did you mean 2026-02-01?",
        ),
        ("13/02/2026", "did you mean 2026-02-13?"),
    ] {
        let f = scenario(&[(
            "demand.csv",
            &format!("period,tokens_per_minute\n2026-03-01,100\n{written},100\n"),
        )]);
        rejects(
            &f,
            &format!(
                "error: demand.csv:3: column 'period': expected {TIME_FORMS}, found '{written}'; {hint}"
            ),
        );
    }
}

#[test]
fn a_capacity_file_with_only_a_header_is_an_error() {
    let f = scenario(&[("capacity.csv", "provider,capacity_tpm\n")]);
    rejects(
        &f,
        "error: capacity.csv:1: the file has a header but no tranches; expected at least one row of capacity (a provider and its capacity_tpm)",
    );
}

/// Issue 19, item 5: an optional file that exists but is not a file (a folder, a dangling link)
/// is an I/O error naming it, never an absent file whose rows are silently dropped.
#[test]
fn an_optional_file_that_is_not_a_file_is_an_error_naming_it() {
    let f = scenario(&[]);
    std::fs::create_dir(f.path().join("routes.csv")).unwrap();
    let (code, _, stderr) = validate(&f, &[]);
    assert_eq!(code, 4, "{stderr}");
    assert_eq!(
        stderr,
        "error: routes.csv: is a folder, not a file; expected routes.csv to be a file, or nothing of that name when the scenario has none — remove or replace it\n"
    );
    let f = scenario(&[]);
    std::os::unix::fs::symlink("/nonexistent/outages.csv", f.path().join("outages.csv")).unwrap();
    let (code, _, stderr) = validate(&f, &[]);
    assert_eq!(code, 4, "{stderr}");
    assert!(
        stderr.starts_with("error: outages.csv: is a link to nothing (its target does not exist)"),
        "{stderr}"
    );
}

/// Issue 19, item 5: an outage flag naming a region its provider has no tranche in is refused
/// like a delay or a price (before, it was a silent no-op).
#[test]
fn an_outage_in_an_unknown_region_is_an_error() {
    let f = scenario(&[]);
    let (code, _, stderr) = validate(&f, &["--outage", "aws/nosuch@2026-01-01..2026-01-02"]);
    assert_eq!(code, 2, "{stderr}");
    assert_eq!(
        stderr,
        "error: --outage aws/nosuch@2026-01-01..2026-01-02: provider 'aws' has no tranche in region 'nosuch'; expected one of 'global'\n"
    );
}

/// Issue 19, item 5: a held plan naming one tranche twice is refused at the second row (before,
/// the first row won silently).
#[test]
fn a_held_plan_naming_a_tranche_twice_is_an_error() {
    let out = tempfile::tempdir().unwrap();
    let plan = out.path().join("plan");
    let args = [
        "run",
        "scenarios/quickstart",
        "--out",
        plan.to_str().unwrap(),
        "--no-charts",
        "--quiet",
    ];
    let (code, _, stderr) = capplan(&args);
    assert_eq!(code, 0, "{stderr}");
    let path = plan.join("commitments.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let second = text.lines().nth(1).expect("a signed tranche").to_string();
    let tranche = second.split(',').next().unwrap().to_string();
    std::fs::write(&path, format!("{text}{second}\n")).unwrap();
    let line = text.lines().count() + 1;
    let held = out.path().join("held");
    let (code, _, stderr) = capplan(&[
        "run",
        "scenarios/quickstart",
        "--reservations-from",
        plan.to_str().unwrap(),
        "--out",
        held.to_str().unwrap(),
        "--no-charts",
    ]);
    assert_eq!(code, 2, "{stderr}");
    let expected = format!(
        "commitments.csv:{line}: column 'tranche': tranche '{tranche}' is listed twice (first on line 2); expected one row per tranche — keep the row of the plan that was signed"
    );
    assert!(stderr.contains(&expected), "{stderr}\nexpected: {expected}");
    assert!(!held.exists());
}

/// Issue 19, item 6: `extends` pointing at a folder that is no scenario (`/`, `/proc`, up and out
/// of the tree) is one error at the `extends` line, not two "required file is missing".
#[test]
fn extends_outside_any_scenario_names_the_extends_line() {
    for target in ["/", "/proc", "../../../../../../../../etc"] {
        let f = scenario(&[(
            "scenario.toml",
            &format!("name = \"x\"\nextends = \"{target}\"\n"),
        )]);
        let (code, _, stderr) = validate(&f, &[]);
        assert_eq!(code, 2, "{stderr}");
        assert!(
            stderr.starts_with("error: scenario.toml:2: key 'extends': extends '")
                && stderr.contains(
                    "which has neither demand.csv nor capacity.csv; expected a scenario folder"
                )
                && stderr.lines().count() == 1,
            "{stderr}"
        );
    }
}

/// Issue 19, item 6: a chain of 600 `extends = "../sN"` loads (paths are tidied as they are
/// joined, so they never outgrow the system's path limit).
#[test]
fn a_deep_extends_chain_loads() {
    let mut f = Folder::new()
        .file("s0/demand.csv", DEMAND)
        .file("s0/capacity.csv", CAPACITY);
    for i in 1..=600 {
        f = f.file(
            &format!("s{i}/scenario.toml"),
            &format!("name = \"s{i}\"\nextends = \"../s{}\"\n", i - 1),
        );
    }
    let (code, stdout, stderr) = capplan(&["validate", f.sub("s600").to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("ok: no problems found"), "{stdout}");
}

/// Issue 19, item 6: a share cap of 0 asks for a higher share, not for 18446744073709551615
/// providers.
#[test]
fn a_zero_share_cap_asks_for_a_higher_share() {
    let f = scenario(&[]);
    let (code, stdout, stderr) = validate(&f, &["--set", "policy.max_provider_share=0"]);
    assert_eq!(code, 0, "{stderr}");
    let all = format!("{stdout}{stderr}");
    assert!(
        all.contains("max_provider_share 0% with 1 provider able to serve lets at most 0% of demand be served in every period; expected a higher max_provider_share (set it to 1 for a single-cloud plan)"),
        "{all}"
    );
}

/// Issue 19, items 3 and 6: a 10 MB bad cell is not echoed whole, and a terminal escape in a
/// name is shown, not sent to the terminal (stdout and stderr).
#[test]
fn huge_cells_are_clipped_and_escapes_are_shown() {
    let cell = "=Y".repeat(5_000_000);
    let f = scenario(&[(
        "demand.csv",
        &format!("period,tokens_per_minute\n2026-01-01,{cell}\n"),
    )]);
    let (code, _, stderr) = validate(&f, &[]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.len() < 1_000, "{} bytes", stderr.len());
    assert!(stderr.contains("… (10000000 characters)'"), "{stderr}");
    let f = scenario(&[("scenario.toml", "name = \"x\\u001b[31mred\"\n")]);
    let (code, stdout, stderr) = validate(&f, &[]);
    assert_eq!(code, 0, "{stderr}");
    assert!(!stdout.contains('\u{1b}'), "{stdout}");
    assert!(stdout.contains("x\\u{1b}[31mred"), "{stdout}");
}

/// A model larger than the limit on flow variables is refused before it is built, with its sizes
/// and the variable that raises the limit; a bad value of the variable is a usage error.
#[test]
fn a_model_over_the_flow_variable_limit_is_refused_naming_its_sizes() {
    // aws/us serves the us demand in both periods (2 flows); gcp/eu cannot reach it (no routes).
    let f = scenario(&[
        (
            "demand.csv",
            "period,region,tokens_per_minute\n2026-01-01,us,100\n2026-02-01,us,100\n",
        ),
        (
            "capacity.csv",
            "provider,region,capacity_tpm\naws,us,1000\ngcp,eu,500\n",
        ),
    ]);
    let elsewhere = tempfile::tempdir().unwrap();
    let out = elsewhere.path().join("out");
    let run = |limit: &str| {
        crate::common::output(
            crate::common::command()
                .args(["run", f.path().to_str().unwrap(), "--no-charts", "--out"])
                .arg(&out)
                .env("CAPPLAN_MAX_FLOW_VARIABLES", limit),
        )
    };
    let (code, _, err) = run("1");
    assert_eq!(code, 2, "{err}");
    assert_eq!(
        err.trim(),
        "error: the model would have 2 flow variables (up to 2 periods × 2 tranches × 1 demand classes, where a tranche is available and may serve the class), more than the limit of 1 (at about 200 bytes each, some 1 KB of memory; the bundled frontier-2026-hourly has 245,088). Use longer periods (hourly → daily), fewer tranches or demand regions, or raise the limit with CAPPLAN_MAX_FLOW_VARIABLES=2"
    );
    assert!(!out.exists());
    let (code, _, err) = run("lots");
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("CAPPLAN_MAX_FLOW_VARIABLES=lots: expected a whole number"),
        "{err}"
    );
    let (code, _, err) = run("2");
    assert_eq!(code, 0, "{err}");
}
