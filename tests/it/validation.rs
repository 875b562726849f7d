//! Integration and property tests of scenario loading and validation, against the contract in
//! `spec/scenario-format.md`: the real `capplan` binary on small scenario folders written into
//! temporary directories, and the library's `capplan::load::load` for values and properties.
//!

mod support {
    use std::ffi::OsStr;
    use std::path::{Path, PathBuf};
    use std::rc::Rc;

    use tempfile::TempDir;

    /// A valid two-period monthly demand (January and February 2026, 100 tokens/min each).
    pub const DEMAND: &str = "period,tokens_per_minute\n2026-01-01,100\n2026-02-01,100\n";
    /// A valid capacity file: one open-ended aws tranche of 1000 tokens/min.
    pub const CAPACITY: &str = "provider,capacity_tpm\naws,1000\n";

    /// What a run of the binary gave back.
    #[derive(Debug)]
    pub struct Out {
        pub code: i32,
        pub stdout: String,
        pub stderr: String,
    }

    impl Out {
        /// Asserts exit code 2 and that stderr contains every needle; returns self for more checks.
        #[track_caller]
        pub fn rejects(&self, needles: &[&str]) -> &Self {
            assert_eq!(self.code, 2, "expected exit code 2, got {self:#?}");
            for n in needles {
                assert!(
                    self.stderr.contains(n),
                    "stderr lacks {n:?}:\n{}",
                    self.stderr
                );
            }
            self
        }

        /// Asserts the process ended with a reported error (2 or 4), not a panic, and said why.
        #[track_caller]
        pub fn fails_cleanly(&self) -> &Self {
            assert!(
                self.code == 2 || self.code == 4,
                "expected exit code 2 or 4 (never a panic), got {self:#?}"
            );
            assert!(!self.stderr.trim().is_empty(), "stderr is empty: {self:#?}");
            assert!(
                self.stderr.contains("error"),
                "stderr says no error: {self:#?}"
            );
            assert!(
                !self.stderr.contains("panicked"),
                "the binary panicked: {self:#?}"
            );
            self
        }

        /// Asserts exit code 0.
        #[track_caller]
        pub fn ok(&self) -> &Self {
            assert_eq!(self.code, 0, "expected success, got {self:#?}");
            self
        }

        /// Number of `error:` lines on stderr.
        pub fn error_count(&self) -> usize {
            self.stderr
                .lines()
                .filter(|l| l.starts_with("error:"))
                .count()
        }
    }

    /// Runs the real binary with `args`, in `cwd` when given.
    pub fn run_in<I, S>(cwd: Option<&Path>, args: I) -> Out
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = crate::common::command();
        cmd.args(args).env("RUST_BACKTRACE", "0");
        if let Some(dir) = cwd {
            cmd.current_dir(dir);
        }
        // A signal (no code) is reported as -1, which every assertion rejects.
        let (code, stdout, stderr) = crate::common::output(&mut cmd);
        Out {
            code,
            stdout,
            stderr,
        }
    }

    pub fn run<I, S>(args: I) -> Out
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        run_in(None, args)
    }

    /// A scenario folder inside a temporary directory shared with its siblings (for `extends`).
    pub struct Scenario {
        root: Rc<TempDir>,
        pub dir: PathBuf,
    }

    impl Scenario {
        /// An empty scenario folder named `s`.
        pub fn empty() -> Scenario {
            let root = Rc::new(tempfile::tempdir().expect("tempdir"));
            let dir = root.path().join("s");
            std::fs::create_dir_all(&dir).unwrap();
            Scenario { root, dir }
        }

        /// A folder named `s` with the valid `DEMAND` and `CAPACITY`.
        pub fn valid() -> Scenario {
            Scenario::empty()
                .file("demand.csv", DEMAND)
                .file("capacity.csv", CAPACITY)
        }

        /// Another (empty) folder in the same temporary directory, at `relative` from its root.
        pub fn sibling(&self, relative: &str) -> Scenario {
            let dir = self.root.path().join(relative);
            std::fs::create_dir_all(&dir).unwrap();
            Scenario {
                root: Rc::clone(&self.root),
                dir,
            }
        }

        /// The temporary directory holding this folder and its siblings.
        pub fn root(&self) -> &Path {
            self.root.path()
        }

        pub fn file(self, name: &str, text: &str) -> Scenario {
            self.bytes(name, text.as_bytes())
        }

        pub fn bytes(self, name: &str, bytes: &[u8]) -> Scenario {
            std::fs::write(self.dir.join(name), bytes).unwrap();
            self
        }

        pub fn remove(self, name: &str) -> Scenario {
            std::fs::remove_file(self.dir.join(name)).unwrap();
            self
        }

        pub fn validate(&self) -> Out {
            run([OsStr::new("validate"), self.dir.as_os_str()])
        }

        /// `capplan validate --format json`, which must succeed.
        #[track_caller]
        pub fn json(&self) -> serde_json::Value {
            let out = run([
                OsStr::new("validate"),
                self.dir.as_os_str(),
                OsStr::new("--format"),
                OsStr::new("json"),
            ]);
            out.ok();
            serde_json::from_str(&out.stdout)
                .unwrap_or_else(|e| panic!("validate --format json is not JSON ({e}): {out:#?}"))
        }

        /// The library's view of the scenario, which must load.
        #[track_caller]
        pub fn load(&self) -> capplan::load::Loaded {
            capplan::load::load(&self.dir).unwrap_or_else(|e| panic!("load failed:\n{e}"))
        }
    }

    /// Every file and its bytes under `dir`, sorted, to prove a folder was left unchanged.
    pub fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(d) = stack.pop() {
            for entry in std::fs::read_dir(&d).unwrap() {
                let p = entry.unwrap().path();
                if p.is_dir() {
                    out.push((p.clone(), Vec::new()));
                    stack.push(p);
                } else {
                    let bytes = std::fs::read(&p).unwrap();
                    out.push((p, bytes));
                }
            }
        }
        out.sort();
        out
    }

    /// A UTC instant written as RFC 3339, for comparing with loaded times.
    pub fn t(text: &str) -> chrono::DateTime<chrono::Utc> {
        capplan::units::parse_time(text).unwrap()
    }
}

use support::{run, run_in, snapshot, t, Scenario, CAPACITY, DEMAND};

/// The accepted names of capacity.csv, as error messages list them.
const CAPACITY_NAMES: [&str; 9] = [
    "'provider'",
    "'capacity_tpm'",
    "'region'",
    "'tranche'",
    "'start'",
    "'end'",
    "'cost_per_million_tokens'",
    "'commit_cost_per_hour'",
    "'min_commit'",
];

// ---------------------------------------------------------------------------------------------
// 1. Every rule of the spec rejects bad input with file, physical line and column.
// ---------------------------------------------------------------------------------------------

mod rejects {
    use super::*;

    #[test]
    fn negative_number() {
        Scenario::valid()
            .file("capacity.csv", "provider,capacity_tpm\naws,1000\ngcp,-5\n")
            .validate()
            .rejects(&[
                "s/capacity.csv:3: column 'capacity_tpm':",
                "non-negative",
                "-5",
            ]);
    }

    #[test]
    fn negative_cost_and_negative_zero_is_fine() {
        Scenario::valid()
            .file(
                "capacity.csv",
                "provider,capacity_tpm,cost_per_million_tokens\naws,-0,-0.01\n",
            )
            .validate()
            .rejects(&["s/capacity.csv:2: column 'cost_per_million_tokens':"]);
    }

    #[test]
    fn nan() {
        Scenario::valid()
            .file(
                "demand.csv",
                "period,tokens_per_minute\n2026-01-01,1\n2026-02-01,NaN\n",
            )
            .validate()
            .rejects(&["s/demand.csv:3: column 'tokens_per_minute':", "NaN"]);
    }

    #[test]
    fn infinities_in_every_spelling() {
        for spelling in ["inf", "-inf", "+inf", "Infinity", "INF"] {
            Scenario::valid()
                .file(
                    "capacity.csv",
                    &format!("provider,capacity_tpm\naws,{spelling}\n"),
                )
                .validate()
                .rejects(&["s/capacity.csv:2: column 'capacity_tpm':", "infinite"]);
        }
    }

    #[test]
    fn overflowing_number_1e400() {
        Scenario::valid()
            .file("capacity.csv", "provider,capacity_tpm\naws,1e400\n")
            .validate()
            .rejects(&[
                "s/capacity.csv:2: column 'capacity_tpm':",
                "1e400",
                "finite",
            ]);
    }

    #[test]
    fn suffix_that_overflows() {
        Scenario::valid()
            .file("capacity.csv", "provider,capacity_tpm\naws,1e300T\n")
            .validate()
            .rejects(&["s/capacity.csv:2: column 'capacity_tpm':", "finite"]);
    }

    #[test]
    fn lowercase_suffix() {
        for cell in ["15b", "2k", "3m", "1t"] {
            Scenario::valid()
                .file(
                    "capacity.csv",
                    &format!("provider,capacity_tpm\naws,{cell}\n"),
                )
                .validate()
                .rejects(&[
                    "s/capacity.csv:2: column 'capacity_tpm':",
                    cell,
                    "upper case",
                ]);
        }
    }

    #[test]
    fn not_a_number_says_what_was_expected() {
        Scenario::valid()
            .file("capacity.csv", "provider,capacity_tpm\naws,lots\naws,1BB\n")
            .validate()
            .rejects(&[
                "s/capacity.csv:2: column 'capacity_tpm': expected a number",
                "'lots'",
                "s/capacity.csv:3: column 'capacity_tpm': expected a number",
            ]);
    }

    #[test]
    fn unknown_column_suggests_and_lists_accepted_names() {
        let out = Scenario::valid()
            .file("capacity.csv", "provider,capacity_tmp\naws,1000\n")
            .validate();
        out.rejects(&[
            "s/capacity.csv:1: column 'capacity_tmp': unknown column",
            "did you mean 'capacity_tpm'?",
        ]);
        for name in CAPACITY_NAMES {
            assert!(
                out.stderr.contains(name),
                "{name} not listed:\n{}",
                out.stderr
            );
        }
    }

    #[test]
    fn unknown_column_without_a_close_match_still_lists_names() {
        Scenario::valid()
            .file(
                "demand.csv",
                "period,tokens_per_minute,colour\n2026-01-01,1,red\n2026-02-01,1,blue\n",
            )
            .validate()
            .rejects(&[
                "s/demand.csv:1: column 'colour': unknown column",
                "'period', 'tokens_per_minute', 'region', 'workload'",
            ]);
    }

    #[test]
    fn missing_required_column() {
        Scenario::valid()
            .file("capacity.csv", "provider,region\naws,us\n")
            .validate()
            .rejects(&["s/capacity.csv:1: column 'capacity_tpm': required column is missing"]);
        Scenario::valid()
            .file("demand.csv", "tokens_per_minute\n100\n")
            .validate()
            .rejects(&["s/demand.csv:1: column 'period': required column is missing"]);
        Scenario::valid()
            .file("outages.csv", "provider,start\naws,2026-01-01\n")
            .validate()
            .rejects(&["s/outages.csv:1: column 'end': required column is missing"]);
        Scenario::valid()
            .file("routes.csv", "demand_region\nus\n")
            .validate()
            .rejects(&["s/routes.csv:1: column 'supply_region': required column is missing"]);
    }

    #[test]
    fn column_twice_in_the_header() {
        Scenario::valid()
            .file(
                "capacity.csv",
                "provider,capacity_tpm,provider\naws,1,aws\n",
            )
            .validate()
            .rejects(&["s/capacity.csv:1: column 'provider':", "twice"]);
    }

    #[test]
    fn empty_required_cell() {
        Scenario::valid()
            .file("capacity.csv", "provider,capacity_tpm\n,1000\naws,\n")
            .validate()
            .rejects(&[
                "s/capacity.csv:2: column 'provider': expected",
                "s/capacity.csv:3: column 'capacity_tpm': expected",
                "empty cell",
            ]);
    }

    #[test]
    fn missing_demand_csv() {
        Scenario::valid()
            .remove("demand.csv")
            .validate()
            .rejects(&["s/demand.csv", "required file is missing"]);
    }

    #[test]
    fn missing_capacity_csv() {
        Scenario::valid()
            .remove("capacity.csv")
            .validate()
            .rejects(&["s/capacity.csv", "required file is missing"]);
    }

    #[test]
    fn missing_demand_and_capacity_are_both_reported() {
        let out = Scenario::empty().validate();
        out.rejects(&["s/demand.csv", "s/capacity.csv", "2 errors"]);
    }

    #[test]
    fn scenario_folder_that_does_not_exist() {
        let s = Scenario::empty();
        run(["validate".as_ref(), s.dir.join("nope").as_os_str()]).rejects(&["nope", "not found"]);
    }

    #[test]
    fn duplicate_demand_row_reported_at_second_occurrence() {
        Scenario::valid()
            .file(
                "demand.csv",
                "period,region,workload,tokens_per_minute\n\
                 2026-01-01,us,chat,1\n\
                 2026-01-01,us,batch,1\n\
                 2026-02-01,us,chat,1\n\
                 2026-01-01,us,chat,2\n",
            )
            .validate()
            .rejects(&[
                "s/demand.csv:5: column 'period': duplicate demand row",
                "first at line 2",
            ]);
    }

    #[test]
    fn duplicate_demand_row_with_defaulted_region_and_workload() {
        // A blank region is `global`, a blank workload `default`: these rows are the same cell.
        Scenario::valid()
            .file(
                "demand.csv",
                "period,region,workload,tokens_per_minute\n\
                 2026-01-01,global,default,1\n\
                 2026-02-01,,,1\n\
                 2026-01-01,,,2\n",
            )
            .validate()
            .rejects(&["s/demand.csv:4: column 'period': duplicate demand row"]);
    }

    #[test]
    fn same_instant_with_two_offsets_is_a_duplicate() {
        Scenario::valid()
            .file(
                "demand.csv",
                "period,tokens_per_minute\n\
                 2026-01-01T00:00:00Z,1\n\
                 2026-02-01T00:00,1\n\
                 2026-01-01T02:00:00+02:00,1\n",
            )
            .validate()
            .rejects(&[
                "s/demand.csv:4: column 'period': duplicate demand row",
                "2026-01-01T00:00:00Z",
            ]);
    }

    #[test]
    fn unparseable_time_lists_accepted_forms() {
        let forms = [
            "YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS[.fff]]",
            "Z or an offset ±HH:MM",
        ];
        let out = Scenario::valid()
            .file(
                "demand.csv",
                "period,tokens_per_minute\n2026-01-01,1\n01/02/2026,1\n",
            )
            .validate();
        out.rejects(&["s/demand.csv:3: column 'period':", "01/02/2026"])
            .rejects(&forms);
        Scenario::valid()
            .file(
                "capacity.csv",
                "provider,capacity_tpm,start\naws,1,2026-13-01\n",
            )
            .validate()
            .rejects(&["s/capacity.csv:2: column 'start': expected a date YYYY-MM-DD, found '2026-13-01': month 13 does not exist"]);
        Scenario::valid()
            .file("scenario.toml", "horizon_end = \"next year\"\n")
            .validate()
            .rejects(&["s/scenario.toml:1: key 'horizon_end':"])
            .rejects(&forms);
    }

    #[test]
    fn min_commit_outside_unit_interval() {
        Scenario::valid()
            .file(
                "capacity.csv",
                "provider,capacity_tpm,min_commit\naws,1,0.5\naws,1,1.5\n",
            )
            .validate()
            .rejects(&["s/capacity.csv:3: column 'min_commit': expected a fraction in [0, 1]"]);
    }

    #[test]
    fn capacity_factor_outside_unit_interval() {
        Scenario::valid()
            .file(
                "outages.csv",
                "provider,start,end,capacity_factor\naws,2026-01-01,2026-01-08,2\n",
            )
            .validate()
            .rejects(&["s/outages.csv:2: column 'capacity_factor': expected a fraction in [0, 1]"]);
        Scenario::valid()
            .file(
                "scenario.toml",
                "[[whatif.outage]]\nprovider = \"aws\"\nstart = \"2026-01-01\"\nend = \"2026-02-01\"\ncapacity_factor = 1.01\n",
            )
            .validate()
            .rejects(&["s/scenario.toml:5: key 'whatif.outage.capacity_factor':", "[0, 1]"]);
    }

    #[test]
    fn policy_fractions_outside_unit_interval() {
        Scenario::valid()
            .file(
                "scenario.toml",
                "name = \"x\"\n[policy]\nmax_provider_share = 1.5\n",
            )
            .validate()
            .rejects(&[
                "s/scenario.toml:3: key 'policy.max_provider_share':",
                "[0, 1]",
            ]);
        Scenario::valid()
            .file("scenario.toml", "[policy]\nloss_coverage = 2\n")
            .validate()
            .rejects(&["s/scenario.toml:2: key 'policy.loss_coverage':", "[0, 1]"]);
        Scenario::valid()
            .file("scenario.toml", "[policy]\nloss_coverage = -0.1\n")
            .validate()
            .rejects(&["s/scenario.toml:2: key 'policy.loss_coverage':"]);
    }

    #[test]
    fn toml_number_checks() {
        Scenario::valid()
            .file(
                "scenario.toml",
                "[policy]\nunserved_penalty = nan\nresilience_penalty = -inf\n[whatif]\ndemand_scale = \"2\"\n",
            )
            .validate()
            .rejects(&[
                "s/scenario.toml:2: key 'policy.unserved_penalty':",
                "s/scenario.toml:3: key 'policy.resilience_penalty':",
                "s/scenario.toml:5: key 'whatif.demand_scale': expected a number",
                "3 errors",
            ]);
    }

    // Limits (spec "Settled details" → Limits): one test per limit, each naming the limit and
    // the place. v1 accepted any finite number and failed only when a product overflowed.

    #[test]
    fn limit_on_demand_tokens_per_minute() {
        Scenario::valid()
            .file(
                "demand.csv",
                "period,tokens_per_minute\n2026-01-01,1e15\n2026-02-01,2e15\n",
            )
            .validate()
            .rejects(&["s/demand.csv:3: column 'tokens_per_minute': expected at most 1e15 tokens per minute (capplan's limit), found 2e15"]);
    }

    #[test]
    fn limit_on_capacity_tpm() {
        Scenario::valid()
            .file("capacity.csv", "provider,capacity_tpm\naws,1000T\naws,1001T\n")
            .validate()
            .rejects(&["s/capacity.csv:3: column 'capacity_tpm': expected at most 1e15 tokens per minute (capplan's limit), found 1.001e15"]);
    }

    #[test]
    fn limit_on_usage_price() {
        Scenario::valid()
            .file(
                "capacity.csv",
                "provider,capacity_tpm,cost_per_million_tokens\naws,1,1B\naws,1,1.5B\n",
            )
            .validate()
            .rejects(&["s/capacity.csv:3: column 'cost_per_million_tokens': expected at most 1e9 $ per million tokens (capplan's limit), found 1.5e9"]);
    }

    #[test]
    fn limit_on_route_cost() {
        Scenario::valid()
            .file(
                "routes.csv",
                "demand_region,supply_region,cost_per_million_tokens\nus,eu,1e9\neu,us,1e10\n",
            )
            .validate()
            .rejects(&["s/routes.csv:3: column 'cost_per_million_tokens': expected at most 1e9 $ per million tokens (capplan's limit), found 1e10"]);
    }

    #[test]
    fn limit_on_commit_price() {
        Scenario::valid()
            .file(
                "capacity.csv",
                "provider,capacity_tpm,commit_cost_per_hour\naws,1,1T\naws,1,2T\n",
            )
            .validate()
            .rejects(&["s/capacity.csv:3: column 'commit_cost_per_hour': expected at most 1e12 $ per hour (capplan's limit), found 2e12"]);
    }

    #[test]
    fn limit_on_unserved_penalty() {
        Scenario::valid()
            .file("scenario.toml", "[policy]\nunserved_penalty = 2e9\n")
            .validate()
            .rejects(&["s/scenario.toml:2: key 'policy.unserved_penalty': expected at most 1e9 $ per million tokens (capplan's limit), found 2e9"]);
    }

    #[test]
    fn limit_on_resilience_penalty() {
        Scenario::valid()
            .file(
                "scenario.toml",
                "[policy]\nunserved_penalty = 1e9\nresilience_penalty = 1000000001\n",
            )
            .validate()
            .rejects(&["s/scenario.toml:3: key 'policy.resilience_penalty': expected at most 1e9 $ per million tokens (capplan's limit), found 1.000000001e9"]);
    }

    #[test]
    fn limit_on_demand_scale() {
        Scenario::valid()
            .file("scenario.toml", "[whatif]\ndemand_scale = 1e308\n")
            .validate()
            .rejects(&["s/scenario.toml:2: key 'whatif.demand_scale': expected at most 1e6 for a what-if factor (capplan's limit), found 1e308"]);
    }

    #[test]
    fn limit_on_price_factor() {
        Scenario::valid()
            .file(
                "scenario.toml",
                "[[whatif.price]]\nprovider = \"aws\"\nfactor = 2000000\n",
            )
            .validate()
            .rejects(&["s/scenario.toml:3: key 'whatif.price.factor': expected at most 1e6 for a what-if factor (capplan's limit), found 2e6"]);
    }

    #[test]
    fn demand_scale_that_pushes_demand_past_its_limit() {
        Scenario::valid()
            .file(
                "demand.csv",
                "period,tokens_per_minute\n2026-01-01,1T\n2026-02-01,1T\n",
            )
            .file("scenario.toml", "[whatif]\ndemand_scale = 2000\n")
            .validate()
            .rejects(&[
                "s/scenario.toml:2: key 'whatif.demand_scale': with demand_scale 2000 the demand row at ",
                "s/demand.csv:2 passes a limit: expected at most 1e15 tokens per minute (capplan's limit), found 2e15",
            ]);
    }

    #[test]
    fn price_factor_that_pushes_a_price_past_its_limit() {
        let capacity =
            "provider,tranche,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour\n\
                        aws,a,1,1001,1\ngcp,b,1,1,2M\n";
        let price =
            |provider: &str| format!("[[whatif.price]]\nprovider = \"{provider}\"\nfactor = 1e6\n");
        Scenario::valid()
            .file("capacity.csv", capacity)
            .file("scenario.toml", &price("aws"))
            .validate()
            .rejects(&["s/scenario.toml:3: key 'whatif.price.factor': with factor 1000000 the usage price of tranche 'a' passes a limit: expected at most 1e9 $ per million tokens (capplan's limit), found 1.001e9"]);
        Scenario::valid()
            .file("capacity.csv", capacity)
            .file("scenario.toml", &price("gcp"))
            .validate()
            .rejects(&["s/scenario.toml:3: key 'whatif.price.factor': with factor 1000000 the commit price of tranche 'b' passes a limit: expected at most 1e12 $ per hour (capplan's limit), found 2e12"]);
    }

    #[test]
    fn values_at_the_limits_are_valid() {
        Scenario::valid()
            .file(
                "demand.csv",
                "period,tokens_per_minute\n2026-01-01,1e9\n2026-02-01,1e15\n",
            )
            .file(
                "capacity.csv",
                "provider,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour\naws,1e15,1e9,1e12\n",
            )
            .file("routes.csv", "demand_region,supply_region,cost_per_million_tokens\nus,eu,1e9\n")
            .file(
                "scenario.toml",
                "[policy]\nunserved_penalty = 1e9\nresilience_penalty = 1e9\n\
                 [whatif]\ndemand_scale = 1\n[[whatif.price]]\nprovider = \"aws\"\nfactor = 1\n",
            )
            .validate()
            .ok();
        Scenario::valid()
            .file(
                "demand.csv",
                "period,tokens_per_minute\n2026-01-01,1e-6\n2026-02-01,1e9\n",
            )
            .file("scenario.toml", "[whatif]\ndemand_scale = 1e6\n")
            .validate()
            .ok();
    }

    #[test]
    fn tranche_end_not_after_start() {
        Scenario::valid()
            .file(
                "capacity.csv",
                "provider,capacity_tpm,start,end\n\
                 aws,1,2026-01-01,2026-02-01\n\
                 aws,1,2026-02-01,2026-02-01\n\
                 aws,1,2026-03-01,2026-02-01\n",
            )
            .validate()
            .rejects(&[
                "s/capacity.csv:3: column 'end': expected an end after the start",
                "s/capacity.csv:4: column 'end': expected an end after the start",
                "2 errors",
            ]);
    }

    #[test]
    fn tranche_end_equal_to_start_with_other_offset() {
        Scenario::valid()
            .file(
                "capacity.csv",
                "provider,capacity_tpm,start,end\naws,1,2026-02-01T00:00,2026-02-01T01:00:00+01:00\n",
            )
            .validate()
            .rejects(&["s/capacity.csv:2: column 'end':"]);
    }

    #[test]
    fn outage_end_not_after_start() {
        Scenario::valid()
            .file(
                "outages.csv",
                "provider,start,end\naws,2026-01-01,2026-01-08\naws,2026-01-08,2026-01-01\n",
            )
            .validate()
            .rejects(&["s/outages.csv:3: column 'end': expected an end after the start"]);
    }

    #[test]
    fn whatif_outage_end_not_after_start() {
        Scenario::valid()
            .file(
                "scenario.toml",
                "name = \"x\"\n\n[[whatif.outage]]\nprovider = \"aws\"\nstart = 2026-01-08\nend = 2026-01-08\n",
            )
            .validate()
            .rejects(&["s/scenario.toml:6: key 'whatif.outage.end':", "end after the start"]);
    }

    #[test]
    fn one_period_without_horizon_end() {
        Scenario::valid()
            .file("demand.csv", "period,tokens_per_minute\n2026-01-01,1\n")
            .validate()
            .rejects(&[
                "s/demand.csv:2: column 'period':",
                "horizon_end",
                "one period",
            ]);
    }

    #[test]
    fn horizon_end_not_after_last_period() {
        Scenario::valid()
            .file("scenario.toml", "name = \"x\"\nhorizon_end = 2026-02-01\n")
            .validate()
            .rejects(&["s/scenario.toml:2: key 'horizon_end': expected horizon_end after"]);
    }

    #[test]
    fn demand_file_without_rows() {
        Scenario::valid()
            .file("demand.csv", "period,tokens_per_minute\n")
            .validate()
            .rejects(&["s/demand.csv:1:", "no demand rows"]);
    }

    #[test]
    fn unknown_key_at_top_level() {
        Scenario::valid()
            .file("scenario.toml", "name = \"x\"\nhorizon = 2027-01-01\n")
            .validate()
            .rejects(&["s/scenario.toml:2:", "horizon", "unknown"]);
    }

    #[test]
    fn unknown_key_in_policy() {
        Scenario::valid()
            .file(
                "scenario.toml",
                "name = \"x\"\n[policy]\nunserved_penalty = 1\nmax_share = 0.5\n",
            )
            .validate()
            .rejects(&["s/scenario.toml:4:", "max_share", "unknown"]);
    }

    #[test]
    fn unknown_key_in_whatif() {
        Scenario::valid()
            .file("scenario.toml", "[whatif]\ndemand_scale = 1\nscale = 2\n")
            .validate()
            .rejects(&["s/scenario.toml:3:", "scale", "unknown"]);
        Scenario::valid()
            .file(
                "scenario.toml",
                "[[whatif.delay]]\nprovider = \"aws\"\ndays = 1\nhours = 2\n",
            )
            .validate()
            .rejects(&["s/scenario.toml:4:", "hours", "unknown"]);
        Scenario::valid()
            .file("scenario.toml", "[whatif.surge]\nfactor = 2\n")
            .validate()
            .rejects(&["s/scenario.toml:", "surge", "unknown"]);
    }

    #[test]
    fn unknown_keys_are_all_reported_like_unknown_columns() {
        Scenario::valid()
            .file("scenario.toml", "nme = \"x\"\n[policy]\nmax_share = 0.5\n")
            .validate()
            .rejects(&[
                "s/scenario.toml:1: key 'nme':",
                "s/scenario.toml:3: key 'policy.max_share': unknown key (did you mean 'max_provider_share'?)",
                "2 errors",
            ]);
    }

    #[test]
    fn toml_syntax_error_names_the_line() {
        Scenario::valid()
            .file("scenario.toml", "name = \"x\"\n\nthis is not toml\n")
            .validate()
            .rejects(&["s/scenario.toml:3:"]);
    }

    #[test]
    fn toml_wrong_types() {
        Scenario::valid()
            .file(
                "scenario.toml",
                "name = 3\n[policy]\nsurvive_provider_loss = \"yes\"\n[whatif]\nonly_providers = \"aws\"\n",
            )
            .validate()
            .rejects(&[
                "s/scenario.toml:1: key 'name': expected a string",
                "s/scenario.toml:3: key 'policy.survive_provider_loss': expected true or false",
                "s/scenario.toml:5: key 'whatif.only_providers': expected a list",
            ]);
    }

    #[test]
    fn unknown_provider_in_a_whatif() {
        let cases = [
            (
                "[[whatif.delay]]\nprovider = \"awz\"\ndays = 3\n",
                2,
                "whatif.delay.provider",
            ),
            (
                "[[whatif.price]]\nprovider = \"awz\"\nfactor = 2\n",
                2,
                "whatif.price.provider",
            ),
            (
                "[[whatif.outage]]\nprovider = \"awz\"\nstart = 2026-01-01\nend = 2026-01-02\n",
                2,
                "whatif.outage.provider",
            ),
            (
                "[whatif]\nonly_providers = [\"aws\", \"awz\"]\n",
                2,
                "whatif.only_providers",
            ),
            (
                "[whatif]\n\nexclude_providers = [\"awz\"]\n",
                3,
                "whatif.exclude_providers",
            ),
        ];
        for (toml, line, key) in cases {
            Scenario::valid()
                .file("scenario.toml", toml)
                .validate()
                .rejects(&[
                    &format!("s/scenario.toml:{line}: key '{key}':"),
                    "'awz' matches no provider",
                    "'aws'",
                ]);
        }
    }

    #[test]
    fn every_unknown_whatif_provider_is_reported() {
        Scenario::valid()
            .file(
                "scenario.toml",
                "[whatif]\nexclude_providers = [\"gpc\"]\n[[whatif.delay]]\nprovider = \"awz\"\ndays = 3\n",
            )
            .validate()
            .rejects(&["'gpc'", "'awz'", "2 errors"]);
    }

    #[test]
    fn extends_cycle_names_the_cycle() {
        let a = Scenario::valid().file("scenario.toml", "extends = \"../b\"\n");
        a.sibling("b")
            .file("scenario.toml", "name = \"b\"\nextends = \"../s\"\n");
        let out = a.validate();
        out.rejects(&["extends cycle", "key 'extends'"]);
        let cycle_line = out
            .stderr
            .lines()
            .find(|l| l.contains("extends cycle"))
            .unwrap();
        let message = cycle_line.split("extends cycle").nth(1).unwrap();
        assert!(
            message.contains("/s") && message.contains("/b"),
            "cycle should name both folders: {cycle_line}"
        );
    }

    #[test]
    fn extends_itself_is_a_cycle() {
        Scenario::valid()
            .file("scenario.toml", "extends = \".\"\n")
            .validate()
            .rejects(&["s/scenario.toml:1: key 'extends':", "extends cycle"]);
    }

    #[test]
    fn extends_a_missing_folder() {
        Scenario::valid()
            .file("scenario.toml", "name = \"x\"\nextends = \"../nowhere\"\n")
            .validate()
            .rejects(&["s/scenario.toml:2: key 'extends':", "nowhere", "not found"]);
    }

    #[test]
    fn extends_a_file() {
        let s = Scenario::valid().file("scenario.toml", "extends = \"demand.csv\"\n");
        s.validate()
            .rejects(&["s/scenario.toml:1: key 'extends':", "not a folder"]);
    }

    #[test]
    fn wrong_field_count_in_a_row() {
        Scenario::valid()
            .file(
                "capacity.csv",
                "provider,capacity_tpm\naws,1\naws,1,3\ngcp\n",
            )
            .validate()
            .rejects(&[
                "s/capacity.csv:3: expected 2 fields as in the header, found 3",
                "s/capacity.csv:4: expected 2 fields as in the header, found 1",
            ]);
    }

    #[test]
    fn several_errors_in_one_file_are_all_reported() {
        let out = Scenario::valid()
            .file(
                "capacity.csv",
                "provider,capacity_tpm,min_commit,start\n\
                 aws,-1,0,2026-01-01\n\
                 aws,1,7,2026-01-01\n\
                 aws,1,0,yesterday\n\
                 aws,5b,2,\n",
            )
            .validate();
        out.rejects(&[
            "s/capacity.csv:2: column 'capacity_tpm':",
            "s/capacity.csv:3: column 'min_commit':",
            "s/capacity.csv:4: column 'start':",
            "s/capacity.csv:5: column 'capacity_tpm':",
            "s/capacity.csv:5: column 'min_commit':",
            "5 errors",
        ]);
        assert_eq!(out.error_count(), 5, "{}", out.stderr);
    }

    #[test]
    fn header_errors_are_all_reported() {
        Scenario::valid()
            .file("capacity.csv", "provder,capacity_tmp,regoin\naws,1,us\n")
            .validate()
            .rejects(&[
                "column 'provder'",
                "column 'capacity_tmp'",
                "column 'regoin'",
                "column 'provider': required column is missing",
                "column 'capacity_tpm': required column is missing",
                "5 errors",
            ]);
    }

    #[test]
    fn errors_in_two_files_are_both_reported() {
        Scenario::valid()
            .file(
                "demand.csv",
                "period,tokens_per_minute\n2026-01-01,-1\n2026-02-01,1\n",
            )
            .file("capacity.csv", "provider,capacity_tpm\naws,15b\n")
            .file("outages.csv", "provider,start,end\naws,2026-01-01,never\n")
            .validate()
            .rejects(&[
                "s/demand.csv:2: column 'tokens_per_minute':",
                "s/capacity.csv:2: column 'capacity_tpm':",
                "s/outages.csv:2: column 'end':",
                "3 errors",
            ]);
    }

    #[test]
    fn errors_in_scenario_toml_and_a_csv_are_both_reported() {
        Scenario::valid()
            .file("capacity.csv", "provider,capacity_tpm\naws,-1\n")
            .file("scenario.toml", "[policy]\nloss_coverage = 3\n")
            .validate()
            .rejects(&[
                "s/scenario.toml:2: key 'policy.loss_coverage':",
                "s/capacity.csv:2: column 'capacity_tpm':",
                "2 errors",
            ]);
    }

    #[test]
    fn error_in_a_parent_names_the_parent_file() {
        let child = Scenario::empty().file("scenario.toml", "extends = \"../base\"\n");
        child
            .sibling("base")
            .file("demand.csv", DEMAND)
            .file("capacity.csv", "provider,capacity_tpm\naws,1\naws,x\n");
        child
            .validate()
            .rejects(&["base/capacity.csv:3: column 'capacity_tpm':"]);
    }

    #[test]
    fn usage_errors_exit_2() {
        run(["validate"]).rejects(&[]);
        run(["frobnicate"]).rejects(&[]);
        let s = Scenario::valid();
        run([
            "run".as_ref(),
            s.dir.as_os_str(),
            "--solver".as_ref(),
            "nosuchsolver".as_ref(),
        ])
        .rejects(&["nosuchsolver"]);
    }
}

// ---------------------------------------------------------------------------------------------
// 2. Accepted forms load, with the values they say.
// ---------------------------------------------------------------------------------------------

mod accepts {
    use super::*;

    #[test]
    fn minimal_scenario_summary() {
        let j = Scenario::valid().json();
        assert_eq!(j["scenario"], "s");
        assert_eq!(j["periods"], 2);
        assert_eq!(j["period_minutes_min"], 28.0 * 1440.0);
        assert_eq!(j["period_minutes_max"], 31.0 * 1440.0);
        assert_eq!(j["regions"], serde_json::json!(["global"]));
        assert_eq!(j["workloads"], serde_json::json!(["default"]));
        assert_eq!(j["providers"], serde_json::json!(["aws"]));
        assert_eq!(j["tranches"], 1);
        assert_eq!(j["demand_tpm_min"], 100.0);
        assert_eq!(j["demand_tpm_max"], 100.0);
        assert_eq!(j["warnings"], serde_json::json!([]));
    }

    #[test]
    fn text_summary_says_ok() {
        let out = Scenario::valid().validate();
        out.ok();
        assert!(out.stdout.contains("ok: no problems found"), "{out:#?}");
    }

    #[test]
    fn columns_in_any_order_and_optional_columns_absent() {
        let s = Scenario::valid()
            .file(
                "capacity.csv",
                "min_commit,capacity_tpm,region,provider\n0.5,2000,us,aws\n",
            )
            .file(
                "demand.csv",
                "tokens_per_minute,region,period\n100,us,2026-01-01\n200,us,2026-02-01\n",
            );
        let l = s.load();
        let k = &l.scenario.tranches[0];
        assert_eq!(
            (
                k.provider.as_str(),
                k.region.as_str(),
                k.capacity_tpm,
                k.min_commit
            ),
            ("aws", "us", 2000.0, 0.5)
        );
        assert_eq!((k.start, k.end), (None, None));
        assert_eq!(k.cost_per_million_tokens, 0.0);
        assert_eq!(k.commit_cost_per_hour, 0.0);
        assert_eq!(k.name, "aws/us/#1");
        let j = s.json();
        assert_eq!(j["regions"], serde_json::json!(["us"]));
        assert_eq!(j["demand_tpm_max"], 200.0);
    }

    #[test]
    fn blank_optional_cells_take_defaults() {
        let l = Scenario::valid()
            .file(
                "capacity.csv",
                "provider,region,tranche,start,end,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour,min_commit\n\
                 aws,,,,,1000,,,\n\
                 gcp, , , , ,  2K ,  , , \n",
            )
            .file(
                "demand.csv",
                "period,region,workload,tokens_per_minute\n2026-01-01,,,1\n2026-02-01, , ,1\n",
            )
            .load();
        let names: Vec<_> = l.scenario.tranches.iter().map(|k| k.name.clone()).collect();
        assert_eq!(names, ["aws/global/#1", "gcp/global/#2"]);
        for k in &l.scenario.tranches {
            assert_eq!(k.region, "global");
            assert_eq!((k.start, k.end), (None, None));
            assert_eq!(k.min_commit, 0.0);
        }
        assert_eq!(l.scenario.tranches[1].capacity_tpm, 2000.0);
        assert!(l
            .scenario
            .demand
            .iter()
            .all(|d| d.region == "global" && d.workload == "default"));
    }

    #[test]
    fn number_forms() {
        let l = Scenario::valid()
            .file(
                "capacity.csv",
                "provider,capacity_tpm\n\
                 a,1K\n b,2.5M\nc,3B\nd,1.5T\ne,1E5\nf,9.7E+08\ng,.5\nh,1.5e10\ni,15B\nj,0\nk,+7\nl,1e-3\n",
            )
            .load();
        let caps: Vec<f64> = l.scenario.tranches.iter().map(|k| k.capacity_tpm).collect();
        assert_eq!(
            caps,
            [1e3, 2.5e6, 3e9, 1.5e12, 1e5, 9.7e8, 0.5, 1.5e10, 1.5e10, 0.0, 7.0, 1e-3]
        );
    }

    #[test]
    fn suffixes_in_demand_show_in_the_summary() {
        let j = Scenario::valid()
            .file(
                "demand.csv",
                "period,tokens_per_minute\n2026-01-01,1K\n2026-02-01,2M\n2026-03-01,3B\n2026-04-01,4T\n",
            )
            .file("capacity.csv", "provider,capacity_tpm\naws,5T\n")
            .json();
        assert_eq!(j["demand_tpm_min"], 1e3);
        assert_eq!(j["demand_tpm_max"], 4e12);
    }

    #[test]
    fn time_forms() {
        let l = Scenario::valid()
            .file(
                "demand.csv",
                "period,tokens_per_minute\n\
                 2026-01-01,1\n\
                 2026-01-01T06:00,1\n\
                 2026-01-01T12:00:30,1\n\
                 2026-01-01T20:00:00+02:00,1\n\
                 2026-01-01T19:00:00Z,1\n",
            )
            .load();
        let starts: Vec<_> = l.scenario.periods.iter().map(|p| p.start).collect();
        assert_eq!(
            starts,
            [
                t("2026-01-01T00:00:00Z"),
                t("2026-01-01T06:00:00Z"),
                t("2026-01-01T12:00:30Z"),
                t("2026-01-01T18:00:00Z"),
                t("2026-01-01T19:00:00Z"),
            ]
        );
    }

    #[test]
    fn minutes_with_z_or_an_offset() {
        // v1 refused these (RFC 3339 needs seconds); v2 accepts `Z` or `±HH:MM` after HH:MM.
        let l = Scenario::valid()
            .file(
                "demand.csv",
                "period,tokens_per_minute\n\
                 2026-11-04T12:00Z,1\n\
                 2026-01-02T23:00+00:00,1\n\
                 2026-01-02T23:00:00-04:00,1\n\
                 2026-01-02T19:30-05:30,1\n\
                 2026-01-02T22:00:00.5+01:00,1\n",
            )
            .load();
        let starts: Vec<_> = l.scenario.periods.iter().map(|p| p.start).collect();
        assert_eq!(
            starts,
            [
                t("2026-01-02T21:00:00.5Z"),
                t("2026-01-02T23:00:00Z"),
                t("2026-01-03T01:00:00Z"),
                t("2026-01-03T03:00:00Z"),
                t("2026-11-04T12:00:00Z"),
            ]
        );
        // The same forms in capacity.csv, outages.csv and scenario.toml.
        let l = Scenario::valid()
            .file(
                "capacity.csv",
                "provider,capacity_tpm,start,end\naws,1,2026-01-15T00:00Z,2026-01-20T02:00+02:00\n",
            )
            .file(
                "outages.csv",
                "provider,start,end\naws,2026-01-16T00:00-01:00,2026-01-17T00:00Z\n",
            )
            .file("scenario.toml", "horizon_end = \"2026-03-01T00:00Z\"\n")
            .load();
        let k = &l.scenario.tranches[0];
        assert_eq!(k.start, Some(t("2026-01-15T00:00:00Z")));
        assert_eq!(k.end, Some(t("2026-01-20T00:00:00Z")));
        assert_eq!(l.scenario.outages[0].start, t("2026-01-16T01:00:00Z"));
        assert_eq!(l.scenario.horizon_end(), Some(t("2026-03-01T00:00:00Z")));
    }

    #[test]
    fn offsets_without_a_colon_or_minutes_are_refused() {
        for cell in [
            "2026-01-02T23:00+0000",
            "2026-01-02T23:00+00",
            "2026-01-02T23Z",
        ] {
            Scenario::valid()
                .file(
                    "demand.csv",
                    &format!("period,tokens_per_minute\n2026-01-01,1\n{cell},1\n"),
                )
                .validate()
                .rejects(&["s/demand.csv:3: column 'period':", cell, "±HH:MM"]);
        }
    }

    #[test]
    fn rfc3339_offsets_in_the_summary() {
        let j = Scenario::valid()
            .file(
                "demand.csv",
                "period,tokens_per_minute\n2026-01-01T02:00:00+02:00,1\n2025-12-31T19:00:00-06:00,1\n",
            )
            .json();
        assert_eq!(j["horizon_start"], "2026-01-01T00:00:00Z");
        assert_eq!(j["horizon_end"], "2026-01-01T02:00:00Z");
        assert_eq!(j["periods"], 2);
        assert_eq!(j["period_minutes_min"], 60.0);
    }

    #[test]
    fn hourly_grid_in_yyyy_mm_ddthh_mm() {
        let j = Scenario::valid()
            .file(
                "demand.csv",
                "period,tokens_per_minute\n2026-01-01T00:00,1\n2026-01-01T01:00,2\n2026-01-01T02:00,3\n",
            )
            .json();
        assert_eq!(j["periods"], 3);
        assert_eq!(j["period_minutes_min"], 60.0);
        assert_eq!(j["period_minutes_max"], 60.0);
        assert_eq!(j["horizon_end"], "2026-01-01T03:00:00Z");
        assert_eq!(j["demand_tpm_max"], 3.0);
    }

    #[test]
    fn crlf_line_endings() {
        let s = Scenario::valid()
            .file("demand.csv", &DEMAND.replace('\n', "\r\n"))
            .file(
                "capacity.csv",
                "provider,region,capacity_tpm\r\naws,us,1000\r\n",
            );
        let j = s.json();
        assert_eq!(j["periods"], 2);
        assert_eq!(j["providers"], serde_json::json!(["aws"]));
        let l = s.load();
        assert_eq!(l.scenario.tranches[0].region, "us", "no stray \\r in cells");
    }

    #[test]
    fn crlf_keeps_physical_line_numbers_in_errors() {
        Scenario::valid()
            .file(
                "capacity.csv",
                "provider,capacity_tpm\r\naws,1\r\n\r\ngcp,-1\r\n",
            )
            .validate()
            .rejects(&["s/capacity.csv:4: column 'capacity_tpm':"]);
    }

    #[test]
    fn blank_lines_and_multiline_quotes_keep_physical_line_numbers() {
        Scenario::valid()
            .file(
                "capacity.csv",
                "provider,tranche,capacity_tpm\n\naws,\"two\nlines\",1\n\naws,x,-1\n",
            )
            .validate()
            .rejects(&["s/capacity.csv:6: column 'capacity_tpm':"]);
    }

    #[test]
    fn header_after_blank_lines_keeps_physical_line_numbers() {
        Scenario::valid()
            .file("capacity.csv", "\nprovider,capacity_tpm\naws,-1\n")
            .validate()
            .rejects(&["s/capacity.csv:3: column 'capacity_tpm':"]);
    }

    #[test]
    fn utf8_bom() {
        let s = Scenario::valid()
            .file("demand.csv", &format!("\u{feff}{DEMAND}"))
            .file("capacity.csv", &format!("\u{feff}{CAPACITY}"))
            .file("scenario.toml", "\u{feff}name = \"bom\"\n");
        let j = s.json();
        assert_eq!(j["scenario"], "bom");
        assert_eq!(j["periods"], 2);
    }

    #[test]
    fn bom_line_numbers_are_unchanged() {
        Scenario::valid()
            .file("capacity.csv", "\u{feff}provider,capacity_tpm\naws,-1\n")
            .validate()
            .rejects(&["s/capacity.csv:2: column 'capacity_tpm':"]);
    }

    #[test]
    fn quoted_fields_with_commas() {
        let s = Scenario::valid()
            .file(
                "demand.csv",
                "period,region,tokens_per_minute\n2026-01-01,\"us, east\",1\n\"2026-02-01\",\"us, east\",\"1,5\"\n",
            );
        // "1,5" is not a number: quotes keep the comma inside the cell.
        s.validate()
            .rejects(&["s/demand.csv:3: column 'tokens_per_minute':", "'1,5'"]);
        let s = s.file(
            "demand.csv",
            "period,region,tokens_per_minute\n2026-01-01,\"us, east\",1\n\"2026-02-01\",\"us, east\",\"2K\"\n",
        );
        let j = s.json();
        assert_eq!(j["regions"], serde_json::json!(["us, east"]));
        assert_eq!(j["demand_tpm_max"], 2000.0);
    }

    #[test]
    fn missing_final_newline() {
        let j = Scenario::valid()
            .file("demand.csv", DEMAND.trim_end())
            .file("capacity.csv", "provider,capacity_tpm\naws,1000\ngcp,5")
            .json();
        assert_eq!(j["periods"], 2);
        assert_eq!(j["tranches"], 2);
    }

    #[test]
    fn all_empty_rows_are_skipped_and_not_data_rows() {
        // A spreadsheet's trailing `,,,` rows, and one in the middle: skipped like blank lines.
        let l = Scenario::valid()
            .file(
                "demand.csv",
                "period,region,tokens_per_minute\n2026-01-01,us,1\n,,\n2026-02-01,us,1\n,,\n , ,\n",
            )
            .file(
                "capacity.csv",
                "provider,region,capacity_tpm\naws,us,1\n,,\n\"\",,\ngcp,us,2\n,,\n,,\n",
            )
            .load();
        assert_eq!(l.scenario.demand.len(), 2);
        let names: Vec<&str> = l
            .scenario
            .tranches
            .iter()
            .map(|k| k.name.as_str())
            .collect();
        assert_eq!(
            names,
            ["aws/us/#1", "gcp/us/#2"],
            "n counts data rows, not the empty ones"
        );
        let lines: Vec<u64> = l
            .scenario
            .tranches
            .iter()
            .map(|k| k.origin.as_ref().unwrap().line)
            .collect();
        assert_eq!(lines, [2, 5], "lines stay physical lines");
    }

    #[test]
    fn lines_after_empty_rows_stay_physical_lines() {
        Scenario::valid()
            .file(
                "capacity.csv",
                "provider,capacity_tpm\r\naws,1\r\n,\r\n,\r\ngcp,-1\r\n",
            )
            .validate()
            .rejects(&["s/capacity.csv:5: column 'capacity_tpm':"]);
    }

    #[test]
    fn only_empty_rows_is_a_demand_file_without_rows() {
        Scenario::valid()
            .file("demand.csv", "period,tokens_per_minute\n,\n,\n")
            .validate()
            .rejects(&["s/demand.csv:1:", "no demand rows"]);
    }

    #[test]
    fn native_toml_dates_for_horizon_end() {
        let one_period = "period,tokens_per_minute\n2026-01-01,1\n";
        for (value, end) in [
            ("2026-03-01", "2026-03-01T00:00:00Z"),
            ("2026-03-01T12:00:00", "2026-03-01T12:00:00Z"),
            ("2026-03-01T12:00:00Z", "2026-03-01T12:00:00Z"),
            ("2026-03-01T12:00:00+02:00", "2026-03-01T10:00:00Z"),
            ("\"2026-03-01\"", "2026-03-01T00:00:00Z"),
            ("\"2026-03-01T12:00\"", "2026-03-01T12:00:00Z"),
        ] {
            let j = Scenario::valid()
                .file("demand.csv", one_period)
                .file("scenario.toml", &format!("horizon_end = {value}\n"))
                .json();
            assert_eq!(j["horizon_end"], end, "horizon_end = {value}");
            assert_eq!(j["periods"], 1);
        }
    }

    #[test]
    fn horizon_end_sets_the_last_period_length() {
        let j = Scenario::valid()
            .file("scenario.toml", "horizon_end = 2026-02-11\n")
            .json();
        assert_eq!(j["period_minutes_max"], 31.0 * 1440.0);
        assert_eq!(j["period_minutes_min"], 10.0 * 1440.0);
    }

    #[test]
    fn toml_integers_for_floats() {
        let s = Scenario::valid()
            .file(
                "capacity.csv",
                "provider,capacity_tpm,cost_per_million_tokens,start\naws,1000,2,2026-01-01\ngcp,1000,2,\n",
            )
            .file(
                "scenario.toml",
                "[policy]\nunserved_penalty = 5000\nmax_provider_share = 1\nloss_coverage = 0\nresilience_penalty = 7\n\
                 [whatif]\ndemand_scale = 2\n\
                 [[whatif.delay]]\nprovider = \"aws\"\ndays = 90\n\
                 [[whatif.price]]\nprovider = \"gcp\"\nfactor = 3\n\
                 [[whatif.outage]]\nprovider = \"aws\"\nstart = 2026-01-01\nend = 2026-01-08\ncapacity_factor = 1\n",
            );
        let l = s.load();
        let p = &l.scenario.policy;
        assert_eq!(
            (
                p.unserved_penalty,
                p.max_provider_share,
                p.loss_coverage,
                p.resilience_penalty
            ),
            (5000.0, 1.0, 0.0, 7.0)
        );
        assert_eq!(l.scenario.demand[0].tokens_per_minute, 200.0);
        assert_eq!(l.scenario.tranches[0].start, Some(t("2026-04-01")));
        assert_eq!(l.scenario.tranches[1].cost_per_million_tokens, 6.0);
        assert_eq!(l.scenario.outages[0].capacity_factor, 1.0);
    }

    #[test]
    fn policy_defaults() {
        let p = Scenario::valid().load().scenario.policy;
        assert_eq!(p.unserved_penalty, 10000.0);
        assert_eq!(p.resilience_penalty, 10000.0);
        assert_eq!(p.max_provider_share, 1.0);
        assert!(!p.survive_provider_loss);
        assert_eq!(p.loss_coverage, 1.0);
        let p = Scenario::valid()
            .file("scenario.toml", "[policy]\nunserved_penalty = 123.5\n")
            .load()
            .scenario
            .policy;
        assert_eq!(
            p.resilience_penalty, 123.5,
            "resilience_penalty defaults to unserved_penalty"
        );
    }

    #[test]
    fn fraction_bounds_are_inclusive() {
        let s = Scenario::valid()
            .file("capacity.csv", "provider,capacity_tpm,min_commit\naws,1,0\naws,1,1\n")
            .file(
                "outages.csv",
                "provider,start,end,capacity_factor\naws,2026-01-01,2026-01-02,0\naws,2026-01-01,2026-01-02,1\n",
            )
            .file("scenario.toml", "[policy]\nmax_provider_share = 0.0\nloss_coverage = 1.0\n");
        s.validate().ok();
    }

    #[test]
    fn full_scenario_toml_from_the_spec() {
        let s = Scenario::valid()
            .file(
                "capacity.csv",
                "provider,region,capacity_tpm,start\naws,us,1,\nazure,us,1,2026-01-15\ngcp,eu,1,\n",
            )
            .file(
                "scenario.toml",
                r#"name = "Base plan 2026-2027"
description = "..."
horizon_end = "2026-03-01"

[policy]
unserved_penalty = 10000.0
max_provider_share = 0.6
survive_provider_loss = true
loss_coverage = 0.8
resilience_penalty = 10000.0

[whatif]
demand_scale = 1.25
only_providers = ["azure", "aws"]
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
            );
        let j = s.json();
        assert_eq!(j["scenario"], "Base plan 2026-2027");
        assert_eq!(j["description"], "...");
        assert_eq!(j["providers"], serde_json::json!(["aws", "azure"]));
        assert_eq!(j["demand_tpm_max"], 125.0);
    }

    #[test]
    fn routes_and_outages_load() {
        let l = Scenario::valid()
            .file(
                "routes.csv",
                "supply_region,demand_region,cost_per_million_tokens\neu,us,0.1\nus,us,5\nus,eu,\n",
            )
            .file(
                "outages.csv",
                "provider,start,end\naws,2026-01-01,2026-01-08\n",
            )
            .load();
        let routes = l.scenario.routes.unwrap();
        assert_eq!(routes.len(), 2, "a listed same-region pair is ignored");
        assert_eq!(routes[0].cost_per_million_tokens, 0.1);
        assert_eq!(routes[1].cost_per_million_tokens, 0.0);
        assert_eq!(l.scenario.outages[0].capacity_factor, 0.0);
        assert_eq!(l.scenario.outages[0].region, None);
    }

    #[test]
    fn same_region_route_listed_twice_stays_ignored() {
        let l = Scenario::valid()
            .file(
                "routes.csv",
                "demand_region,supply_region,cost_per_million_tokens\nus,us,1\nus,us,2\nus,eu,0.1\n",
            )
            .load();
        let routes = l.scenario.routes.unwrap();
        assert_eq!(routes.len(), 1);
        assert_eq!(routes[0].supply_region, "eu");
    }

    #[test]
    fn unicode_names_survive() {
        let j = Scenario::valid()
            .file(
                "capacity.csv",
                "provider,region,capacity_tpm\nōkami,東京,1000\n",
            )
            .json();
        assert_eq!(j["providers"], serde_json::json!(["ōkami"]));
    }
}

// ---------------------------------------------------------------------------------------------
// 3. Robustness: nothing makes capplan panic.
// ---------------------------------------------------------------------------------------------

mod robustness {
    use super::*;
    use proptest::prelude::*;

    const GARBAGE: &[u8] = b"\x00\xff\xfe\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\"\"\",,,\x00\x80\x81";

    #[test]
    fn binary_garbage_in_each_file() {
        for name in [
            "demand.csv",
            "capacity.csv",
            "routes.csv",
            "outages.csv",
            "scenario.toml",
        ] {
            Scenario::valid()
                .bytes(name, GARBAGE)
                .validate()
                .fails_cleanly()
                .rejects(&[&format!("s/{name}")]);
        }
    }

    #[test]
    fn empty_files() {
        for name in ["demand.csv", "capacity.csv", "routes.csv", "outages.csv"] {
            Scenario::valid()
                .file(name, "")
                .validate()
                .fails_cleanly()
                .rejects(&[&format!("s/{name}"), "empty"]);
            Scenario::valid()
                .file(name, " \n\r\n\t\n")
                .validate()
                .fails_cleanly();
        }
    }

    #[test]
    fn empty_scenario_toml_is_fine() {
        Scenario::valid().file("scenario.toml", "").validate().ok();
    }

    #[test]
    fn header_only() {
        Scenario::valid()
            .file("capacity.csv", "provider,capacity_tpm\n")
            .validate()
            .fails_cleanly() // no tranches is almost surely a file saved empty (issue 18) ...
            .rejects(&["s/capacity.csv"]);
        Scenario::valid()
            .file("demand.csv", "period,tokens_per_minute")
            .validate()
            .fails_cleanly() // ... but no demand rows is not
            .rejects(&["s/demand.csv"]);
    }

    #[test]
    fn huge_numbers() {
        let digits = "9".repeat(400);
        let ten_to_309 = format!("1{}", "0".repeat(309));
        for cell in [digits.as_str(), ten_to_309.as_str(), "1e308T", "1.8e308"] {
            Scenario::valid()
                .file(
                    "capacity.csv",
                    &format!("provider,capacity_tpm\naws,{cell}\n"),
                )
                .validate()
                .fails_cleanly()
                .rejects(&["s/capacity.csv:2: column 'capacity_tpm':"]);
        }
        // v1 took the largest finite value; v2 refuses it as past capplan's limits, cleanly.
        Scenario::valid()
            .file(
                "capacity.csv",
                "provider,capacity_tpm\naws,1.7976931348623157e308\n",
            )
            .validate()
            .fails_cleanly()
            .rejects(&["s/capacity.csv:2: column 'capacity_tpm':", "at most 1e15"]);
        Scenario::valid()
            .file("scenario.toml", "[policy]\nunserved_penalty = 1e308\n[whatif]\ndemand_scale = 9223372036854775807\n")
            .validate()
            .fails_cleanly()
            .rejects(&[
                "s/scenario.toml:2: key 'policy.unserved_penalty':",
                "s/scenario.toml:4: key 'whatif.demand_scale':",
                "2 errors",
            ]);
    }

    #[test]
    fn very_long_lines() {
        let long = "x".repeat(1 << 20);
        Scenario::valid()
            .file(
                "capacity.csv",
                &format!("provider,capacity_tpm\n{long},1\naws,{long}\n"),
            )
            .validate()
            .fails_cleanly()
            .rejects(&["s/capacity.csv:3: column 'capacity_tpm':"]);
        Scenario::valid()
            .file("capacity.csv", &format!("provider,{long}\naws,1\n"))
            .validate()
            .fails_cleanly();
        Scenario::valid()
            .file("scenario.toml", &format!("name = \"{long}\"\n"))
            .validate()
            .ok();
    }

    #[test]
    fn nul_bytes() {
        Scenario::valid()
            .bytes("capacity.csv", b"provider,capacity_tpm\naws\x00,1\x00\n")
            .validate()
            .fails_cleanly()
            .rejects(&["s/capacity.csv:2: column 'capacity_tpm':"]);
        Scenario::valid()
            .bytes("demand.csv", b"\x00\x00\x00\x00")
            .validate()
            .fails_cleanly();
        Scenario::valid()
            .bytes("scenario.toml", b"name = \"a\x00b\"\n")
            .validate()
            .fails_cleanly()
            .rejects(&["s/scenario.toml:1"]);
    }

    #[test]
    fn invalid_utf8_in_a_cell() {
        Scenario::valid()
            .bytes(
                "capacity.csv",
                b"provider,capacity_tpm\naws,1\n\xff\xfeaws,1\n",
            )
            .validate()
            .fails_cleanly()
            .rejects(&["s/capacity.csv:3: column 'provider':", "UTF-8"]);
        Scenario::valid()
            .bytes("capacity.csv", b"provider,capacity\xff\naws,1\n")
            .validate()
            .fails_cleanly()
            .rejects(&["s/capacity.csv:1", "UTF-8"]);
        Scenario::valid()
            .bytes(
                "scenario.toml",
                b"name = \"ok\"\n\ndescription = \"\xff\"\n",
            )
            .validate()
            .fails_cleanly()
            .rejects(&["s/scenario.toml:3", "UTF-8"]);
    }

    #[test]
    fn unterminated_quote() {
        Scenario::valid()
            .file("capacity.csv", "provider,capacity_tpm\n\"aws,1\n")
            .validate()
            .fails_cleanly();
    }

    #[test]
    fn a_directory_named_like_a_file() {
        let s = Scenario::valid().remove("demand.csv");
        std::fs::create_dir(s.dir.join("demand.csv")).unwrap();
        // Something other than a file in a file's place is an I/O problem (exit 4) naming it.
        let out = s.validate();
        out.fails_cleanly();
        assert_eq!(out.code, 4, "{out:#?}");
        assert!(
            out.stderr.contains("s/demand.csv: is a folder, not a file"),
            "{out:#?}"
        );
        let s = Scenario::valid().remove("capacity.csv");
        std::fs::create_dir(s.dir.join("capacity.csv")).unwrap();
        let out = s.validate();
        assert_eq!(out.code, 4, "{out:#?}");
        assert!(
            out.stderr
                .contains("s/capacity.csv: is a folder, not a file"),
            "{out:#?}"
        );
    }

    #[test]
    fn scenario_path_is_a_file() {
        let s = Scenario::valid();
        run(["validate".as_ref(), s.dir.join("demand.csv").as_os_str()]).fails_cleanly();
        run([
            "run".as_ref(),
            s.dir.join("demand.csv").as_os_str(),
            "--no-charts".as_ref(),
        ])
        .fails_cleanly();
    }

    #[test]
    fn huge_delay_does_not_panic() {
        Scenario::valid()
            .file(
                "scenario.toml",
                "[[whatif.delay]]\nprovider = \"aws\"\ndays = 1e8\n",
            )
            .validate()
            .fails_cleanly()
            .rejects(&["s/scenario.toml:3: key 'whatif.delay.days':"]);
    }

    #[test]
    fn far_apart_periods_do_not_panic() {
        Scenario::valid()
            .file(
                "demand.csv",
                "period,tokens_per_minute\n0001-01-01T00:00,1\n+200000-01-01T00:00,1\n",
            )
            .validate()
            .fails_cleanly()
            .rejects(&["s/demand.csv"]);
    }

    #[test]
    fn far_apart_periods_with_horizon_end_load() {
        // With horizon_end the last period needs no extrapolation, so these years are fine.
        Scenario::valid()
            .file(
                "demand.csv",
                "period,tokens_per_minute\n0001-01-01T00:00,1\n+200000-01-01T00:00,1\n",
            )
            .file("scenario.toml", "horizon_end = \"+200001-01-01T00:00\"\n")
            .validate()
            .ok();
    }

    /// The library never panics on arbitrary bytes in a scenario file; it returns Ok or Err.
    fn load_with(name: &str, bytes: &[u8]) -> Result<(), TestCaseError> {
        let s = Scenario::valid().bytes(name, bytes);
        match capplan::load::load(&s.dir) {
            Ok(_) => Ok(()),
            Err(e) => {
                let text = e.to_string();
                prop_assert!(text.starts_with("error: "), "{}", text);
                prop_assert!(matches!(e.exit_code(), 2 | 4));
                Ok(())
            }
        }
    }

    /// Cells that stress the parsers, mixed with separators and quotes. (Years past 9999 are
    /// left out: they reach the known overflow of `far_apart_periods_do_not_panic`.)
    fn csv_soup() -> impl Strategy<Value = Vec<u8>> {
        let token = prop::sample::select(vec![
            "provider",
            "capacity_tpm",
            "period",
            "tokens_per_minute",
            "region",
            "tranche",
            "start",
            "end",
            "min_commit",
            "capacity_factor",
            "workload",
            "aws",
            "gcp",
            "us",
            "",
            " ",
            "0",
            "1",
            "-1",
            "1e400",
            "NaN",
            "inf",
            "15B",
            "15b",
            ".5",
            "1E5",
            "9.7E+08",
            "2026-01-01",
            "2026-02-01T00:00",
            "2026-01-01T02:00:00+02:00",
            "2026-13-45",
            ",",
            "\"",
            "\"\"",
            "\n",
            "\r\n",
            "\u{feff}",
            "\u{0}",
            "é",
            "1.5",
            "2",
            "K",
        ]);
        prop::collection::vec(token, 0..60).prop_map(|v| v.concat().into_bytes())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_bytes_as_capacity_csv(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            load_with("capacity.csv", &bytes)?;
        }

        #[test]
        fn arbitrary_bytes_as_demand_csv(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            load_with("demand.csv", &bytes)?;
        }

        #[test]
        fn arbitrary_bytes_as_scenario_toml(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            load_with("scenario.toml", &bytes)?;
        }

        #[test]
        fn csv_like_soup_as_each_csv(
            bytes in csv_soup(),
            name in prop::sample::select(vec!["demand.csv", "capacity.csv", "routes.csv", "outages.csv"]),
        ) {
            load_with(name, &bytes)?;
        }

        #[test]
        fn toml_like_soup(lines in prop::collection::vec(prop::sample::select(vec![
            "name = \"x\"", "[policy]", "[whatif]", "[[whatif.delay]]", "[[whatif.price]]",
            "[[whatif.outage]]", "provider = \"aws\"", "provider = \"zzz\"", "days = 3",
            "factor = 0.5", "start = 2026-01-01", "end = 2026-01-02", "end = \"2025-01-01\"",
            "loss_coverage = 1.5", "max_provider_share = 0.5", "demand_scale = 2",
            "only_providers = [\"aws\"]", "exclude_providers = []", "horizon_end = 2027-01-01",
            "extends = \".\"", "extends = \"..\"", "capacity_factor = 0.3", "region = \"us\"",
            "unserved_penalty = -1", "x = 1", "=", "[",
        ]), 0..16)) {
            load_with("scenario.toml", lines.join("\n").as_bytes())?;
        }

        /// Any number up to the capacity limit written in Rust's shortest round-trip forms loads
        /// exactly.
        #[test]
        fn numbers_round_trip(v in 0.0f64..=1e15, scientific in any::<bool>()) {
            let cell = if scientific { format!("{v:e}") } else { format!("{v}") };
            let s = Scenario::valid().file("capacity.csv", &format!("provider,capacity_tpm\naws,{cell}\n"));
            let l = capplan::load::load(&s.dir).map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(l.scenario.tranches[0].capacity_tpm, v);
        }

        /// A suffix multiplies by its power of a thousand; past the limit it is an error naming it.
        #[test]
        fn suffixes_multiply(n in 0u32..1_000_000, i in 0usize..4) {
            let (suffix, mult) = [("K", 1e3), ("M", 1e6), ("B", 1e9), ("T", 1e12)][i];
            let s = Scenario::valid().file("capacity.csv", &format!("provider,capacity_tpm\naws,{n}{suffix}\n"));
            let value = f64::from(n) * mult;
            match capplan::load::load(&s.dir) {
                Ok(l) => prop_assert_eq!(l.scenario.tranches[0].capacity_tpm, value),
                Err(e) => {
                    prop_assert!(value > 1e15, "{}", e);
                    prop_assert!(e.to_string().contains("at most 1e15 tokens per minute (capplan's limit)"), "{}", e);
                }
            }
        }

        /// A bad cell on any data row is reported at that physical line, whatever the line endings.
        #[test]
        fn error_line_is_the_physical_line(
            good_rows in 0usize..20,
            blank_before in 0usize..3,
            crlf in any::<bool>(),
        ) {
            let nl = if crlf { "\r\n" } else { "\n" };
            let mut text = format!("provider,capacity_tpm{nl}");
            for _ in 0..good_rows { text.push_str(&format!("aws,1{nl}")); }
            for _ in 0..blank_before { text.push_str(nl); }
            text.push_str(&format!("aws,-1{nl}"));
            let line = 2 + good_rows + blank_before;
            let s = Scenario::valid().file("capacity.csv", &text);
            let e = capplan::load::load(&s.dir).expect_err("a negative capacity is an error").to_string();
            let needle = format!("capacity.csv:{line}: column 'capacity_tpm'");
            prop_assert!(e.contains(&needle), "{} lacks {}", e, needle);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// 4. Inheritance: extends chains, key-by-key merge, what-if order.
// ---------------------------------------------------------------------------------------------

mod inheritance {
    use super::*;

    /// A parent `base` with demand 100 (Jan, Feb 2026), aws/gcp/azure tranches and a [policy].
    fn base() -> Scenario {
        Scenario::empty()
            .sibling("base")
            .file("demand.csv", DEMAND)
            .file(
                "capacity.csv",
                "provider,tranche,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour,start,end\n\
                 aws,aws-a,1000,1,10,,\n\
                 gcp,gcp-a,1000,2,20,2026-02-01,2026-06-01\n\
                 azure,azure-a,1000,3,30,,\n",
            )
    }

    fn tranche<'a>(l: &'a capplan::load::Loaded, name: &str) -> &'a capplan::scenario::Tranche {
        l.scenario
            .tranches
            .iter()
            .find(|k| k.name == name)
            .unwrap_or_else(|| panic!("no tranche {name}"))
    }

    #[test]
    fn chain_parent_child_grandchild_merges_policy_per_key() {
        let base = base().file(
            "scenario.toml",
            "name = \"Base\"\ndescription = \"the base\"\n\
             [policy]\nunserved_penalty = 5000\nmax_provider_share = 0.6\nloss_coverage = 0.9\n",
        );
        base.sibling("child").file(
            "scenario.toml",
            "name = \"Child\"\nextends = \"../base\"\n[policy]\nmax_provider_share = 0.7\nsurvive_provider_loss = true\n",
        );
        let grandchild = base.sibling("grandchild").file(
            "scenario.toml",
            "extends = \"../child\"\n[policy]\nloss_coverage = 0.5\n",
        );
        let l = grandchild.load();
        let p = &l.scenario.policy;
        assert_eq!(p.unserved_penalty, 5000.0, "from base");
        assert_eq!(p.max_provider_share, 0.7, "child wins over base");
        assert!(p.survive_provider_loss, "from child");
        assert_eq!(p.loss_coverage, 0.5, "grandchild wins");
        assert_eq!(
            p.resilience_penalty, 5000.0,
            "defaults to the merged unserved_penalty"
        );
        assert_eq!(l.scenario.name, "grandchild", "name is not inherited");
        assert_eq!(l.scenario.description, "", "description is not inherited");
        assert_eq!(
            l.scenario.tranches.len(),
            3,
            "files inherited through the chain"
        );
        let j = grandchild.json();
        assert_eq!(j["scenario"], "grandchild");
        assert_eq!(j["periods"], 2);
    }

    #[test]
    fn horizon_end_is_inherited_and_overridable() {
        let base = base()
            .file("demand.csv", "period,tokens_per_minute\n2026-01-01,1\n")
            .file("scenario.toml", "horizon_end = 2026-01-11\n");
        let child = base
            .sibling("child")
            .file("scenario.toml", "extends = \"../base\"\n");
        assert_eq!(child.json()["horizon_end"], "2026-01-11T00:00:00Z");
        let child = child.file(
            "scenario.toml",
            "extends = \"../base\"\nhorizon_end = 2026-01-21\n",
        );
        assert_eq!(child.json()["horizon_end"], "2026-01-21T00:00:00Z");
    }

    #[test]
    fn extends_is_relative_to_the_child_folder_not_the_working_directory() {
        let base = base();
        let child = base
            .sibling("kids/child")
            .file("scenario.toml", "extends = \"../../base\"\n");
        let elsewhere = base.sibling("elsewhere");
        let out = run_in(
            Some(&elsewhere.dir),
            ["validate".as_ref(), child.dir.as_os_str()],
        );
        out.ok();
        // And with a relative scenario path too.
        run_in(Some(base.root()), ["validate", "kids/child"]).ok();
    }

    #[test]
    fn parent_whatif_applies_before_child_files_replace_and_child_whatif_after() {
        let base = base().file("scenario.toml", "[whatif]\ndemand_scale = 2\n");
        // Inherits the parent's (scaled) demand.
        let inherits = base
            .sibling("inherits")
            .file("scenario.toml", "extends = \"../base\"\n");
        assert_eq!(inherits.json()["demand_tpm_max"], 200.0);
        // Its own demand.csv replaces the parent's scaled table: not scaled.
        let replaces = base
            .sibling("replaces")
            .file("scenario.toml", "extends = \"../base\"\n")
            .file("demand.csv", DEMAND);
        assert_eq!(replaces.json()["demand_tpm_max"], 100.0);
        // The child's [whatif] applies after, on top of the parent's.
        let scales = base.sibling("scales").file(
            "scenario.toml",
            "extends = \"../base\"\n[whatif]\ndemand_scale = 3\n",
        );
        assert_eq!(scales.json()["demand_tpm_max"], 600.0);
        let scales_own = base.sibling("scales-own").file("demand.csv", DEMAND).file(
            "scenario.toml",
            "extends = \"../base\"\n[whatif]\ndemand_scale = 3\n",
        );
        assert_eq!(scales_own.json()["demand_tpm_max"], 300.0);
    }

    #[test]
    fn parent_provider_filter_does_not_reach_a_child_capacity_file() {
        let base = base().file("scenario.toml", "[whatif]\nexclude_providers = [\"gcp\"]\n");
        let inherits = base
            .sibling("inherits")
            .file("scenario.toml", "extends = \"../base\"\n");
        assert_eq!(
            inherits.json()["providers"],
            serde_json::json!(["aws", "azure"])
        );
        let replaces = base
            .sibling("replaces")
            .file("scenario.toml", "extends = \"../base\"\n")
            .file("capacity.csv", "provider,capacity_tpm\ngcp,1\noracle,1\n");
        assert_eq!(
            replaces.json()["providers"],
            serde_json::json!(["gcp", "oracle"])
        );
    }

    #[test]
    fn price_factors_multiply_across_levels() {
        let base = base().file(
            "scenario.toml",
            "[[whatif.price]]\nprovider = \"aws\"\nfactor = 0.8\n",
        );
        let child = base.sibling("child").file(
            "scenario.toml",
            "extends = \"../base\"\n[[whatif.price]]\nprovider = \"aws\"\nfactor = 0.5\n[[whatif.price]]\nprovider = \"aws\"\nfactor = 0.5\n",
        );
        let l = child.load();
        let k = tranche(&l, "aws-a");
        assert!((k.cost_per_million_tokens - 0.2).abs() < 1e-12);
        assert!((k.commit_cost_per_hour - 2.0).abs() < 1e-12);
        assert_eq!(tranche(&l, "gcp-a").cost_per_million_tokens, 2.0);
    }

    #[test]
    fn only_and_exclude_providers_both_apply() {
        let s = base().file(
            "scenario.toml",
            "[whatif]\nonly_providers = [\"aws\", \"gcp\"]\nexclude_providers = [\"gcp\"]\n",
        );
        let j = s.json();
        assert_eq!(j["providers"], serde_json::json!(["aws"]));
        assert_eq!(j["tranches"], 1);
    }

    #[test]
    fn provider_filters_keep_outages() {
        // v1 dropped the outage rows of filtered providers; v2 removes tranches only.
        let s = base()
            .file(
                "outages.csv",
                "provider,start,end\ngcp,2026-01-01,2026-01-02\naws,2026-01-01,2026-01-02\n",
            )
            .file("scenario.toml", "[whatif]\nexclude_providers = [\"gcp\"]\n");
        let l = s.load();
        assert!(l.scenario.tranches.iter().all(|k| k.provider != "gcp"));
        let outages: Vec<&str> = l
            .scenario
            .outages
            .iter()
            .map(|o| o.provider.as_str())
            .collect();
        assert_eq!(outages, ["gcp", "aws"]);
        let l = base()
            .file(
                "outages.csv",
                "provider,start,end\ngcp,2026-01-01,2026-01-02\n",
            )
            .file("scenario.toml", "[whatif]\nonly_providers = [\"aws\"]\n")
            .load();
        assert_eq!(l.scenario.providers(), ["aws"]);
        assert_eq!(l.scenario.outages.len(), 1, "the gcp outage stays");
    }

    #[test]
    fn a_filtered_providers_outage_applies_again_when_a_child_brings_its_capacity_back() {
        let parent = base()
            .file(
                "outages.csv",
                "provider,start,end\ngcp,2026-02-01,2026-02-08\n",
            )
            .file("scenario.toml", "[whatif]\nexclude_providers = [\"gcp\"]\n");
        let child = parent
            .sibling("child")
            .file("scenario.toml", "extends = \"../base\"\n")
            .file(
                "capacity.csv",
                "provider,tranche,capacity_tpm\ngcp,gcp-back,1000\n",
            );
        let l = child.load();
        assert_eq!(l.scenario.providers(), ["gcp"]);
        assert_eq!(l.scenario.outages.len(), 1);
        assert_eq!(l.scenario.outages[0].provider, "gcp");
        assert_eq!(l.scenario.outages[0].start, t("2026-02-01"));
    }

    #[test]
    fn delay_moves_start_keeps_end_and_empty_start_is_horizon_start() {
        let s = base().file(
            "scenario.toml",
            "[[whatif.delay]]\nprovider = \"aws\"\ndays = 31\n[[whatif.delay]]\nprovider = \"gcp\"\ndays = 10.5\n",
        );
        let l = s.load();
        let aws = tranche(&l, "aws-a");
        assert_eq!(
            aws.start,
            Some(t("2026-02-01")),
            "empty start = horizon start + days"
        );
        assert_eq!(aws.end, None);
        let gcp = tranche(&l, "gcp-a");
        assert_eq!(gcp.start, Some(t("2026-02-11T12:00")));
        assert_eq!(gcp.end, Some(t("2026-06-01")), "end is left alone");
        assert_eq!(
            tranche(&l, "azure-a").start,
            None,
            "other providers untouched"
        );
    }

    /// `base()` with a second aws tranche in eu and regions for the others.
    fn regional() -> Scenario {
        base().file(
            "capacity.csv",
            "provider,region,tranche,capacity_tpm,cost_per_million_tokens,commit_cost_per_hour,start\n\
             aws,us-east,aws-us,1000,1,10,2026-01-01\n\
             aws,eu,aws-eu,1000,1,10,2026-01-01\n\
             gcp,us-east,gcp-us,1000,2,20,\n",
        )
    }

    #[test]
    fn delay_with_a_region_moves_only_that_regions_tranches() {
        let l = regional()
            .file(
                "scenario.toml",
                "[[whatif.delay]]\nprovider = \"aws\"\nregion = \"us-east\"\ndays = 31\n",
            )
            .load();
        assert_eq!(tranche(&l, "aws-us").start, Some(t("2026-02-01")));
        assert_eq!(tranche(&l, "aws-eu").start, Some(t("2026-01-01")));
        assert_eq!(
            tranche(&l, "gcp-us").start,
            None,
            "other providers untouched"
        );
    }

    #[test]
    fn price_with_a_region_changes_only_that_regions_tranches() {
        let l = regional()
            .file(
                "scenario.toml",
                "[[whatif.price]]\nprovider = \"aws\"\nregion = \"eu\"\nfactor = 0.5\n\
                 [[whatif.price]]\nprovider = \"aws\"\nfactor = 2\n",
            )
            .load();
        let eu = tranche(&l, "aws-eu");
        assert_eq!(
            (eu.cost_per_million_tokens, eu.commit_cost_per_hour),
            (1.0, 10.0)
        );
        let us = tranche(&l, "aws-us");
        assert_eq!(
            (us.cost_per_million_tokens, us.commit_cost_per_hour),
            (2.0, 20.0)
        );
        assert_eq!(tranche(&l, "gcp-us").cost_per_million_tokens, 2.0);
    }

    #[test]
    fn a_region_without_a_tranche_of_the_provider_is_an_error_naming_the_place() {
        let out = regional()
            .file(
                "scenario.toml",
                "[[whatif.delay]]\nprovider = \"aws\"\nregion = \"us-west\"\ndays = 1\n\
                 [[whatif.price]]\nprovider = \"gcp\"\nregion = \"eu\"\nfactor = 2\n",
            )
            .validate();
        out.rejects(&[
            "base/scenario.toml:3: key 'whatif.delay.region': provider 'aws' has no tranche in region 'us-west'; expected one of 'eu', 'us-east'",
            "base/scenario.toml:7: key 'whatif.price.region': provider 'gcp' has no tranche in region 'eu'; expected one of 'us-east'",
            "2 errors",
        ]);
        // An unknown provider is reported once, not again for its region.
        let out = regional()
            .file(
                "scenario.toml",
                "[[whatif.delay]]\nprovider = \"oracle\"\nregion = \"eu\"\ndays = 1\n",
            )
            .validate();
        out.rejects(&[
            "base/scenario.toml:2: key 'whatif.delay.provider':",
            "'oracle'",
        ]);
        assert_eq!(out.error_count(), 1, "{}", out.stderr);
    }

    #[test]
    fn a_region_is_checked_against_the_scenario_before_its_whatif() {
        // The child's filter removes aws, but its delay is checked before the filter applies.
        let parent = regional();
        let child = parent.sibling("child").file(
            "scenario.toml",
            "extends = \"../base\"\n[whatif]\nexclude_providers = [\"aws\"]\n[[whatif.delay]]\nprovider = \"aws\"\nregion = \"eu\"\ndays = 1\n",
        );
        child.validate().ok();
    }

    #[test]
    fn delay_uses_the_horizon_of_the_scenario_whose_whatif_it_is() {
        // The parent starts in January; the child has its own demand from March.
        let base = base().file(
            "scenario.toml",
            "[[whatif.delay]]\nprovider = \"aws\"\ndays = 10\n",
        );
        let child = base
            .sibling("child")
            .file(
                "demand.csv",
                "period,tokens_per_minute\n2026-03-01,1\n2026-04-01,1\n",
            )
            .file(
                "scenario.toml",
                "extends = \"../base\"\n[[whatif.delay]]\nprovider = \"azure\"\ndays = 10\n",
            );
        let l = child.load();
        assert_eq!(
            tranche(&l, "aws-a").start,
            Some(t("2026-01-11")),
            "the parent's delay counts from the parent's horizon start"
        );
        assert_eq!(
            tranche(&l, "azure-a").start,
            Some(t("2026-03-11")),
            "the child's delay counts from the child's horizon start"
        );
    }

    #[test]
    fn delays_accumulate_across_levels() {
        let base = base().file(
            "scenario.toml",
            "[[whatif.delay]]\nprovider = \"gcp\"\ndays = 1\n",
        );
        let child = base.sibling("child").file(
            "scenario.toml",
            "extends = \"../base\"\n[[whatif.delay]]\nprovider = \"gcp\"\ndays = 2\n",
        );
        assert_eq!(tranche(&child.load(), "gcp-a").start, Some(t("2026-02-04")));
    }

    #[test]
    fn whatif_outage_is_added() {
        let s = base().file(
            "scenario.toml",
            "[[whatif.outage]]\nprovider = \"aws\"\nregion = \"global\"\nstart = 2026-01-01\nend = \"2026-01-08\"\ncapacity_factor = 0.25\n",
        );
        let l = s.load();
        let o = &l.scenario.outages[0];
        assert_eq!(o.region.as_deref(), Some("global"));
        assert_eq!((o.start, o.end), (t("2026-01-01"), t("2026-01-08")));
        assert_eq!(o.capacity_factor, 0.25);
    }

    #[test]
    fn child_with_only_scenario_toml_inherits_every_file() {
        let base = base()
            .file("routes.csv", "demand_region,supply_region\nus,eu\n")
            .file(
                "outages.csv",
                "provider,start,end\naws,2026-01-01,2026-01-02\n",
            );
        let child = base
            .sibling("child")
            .file("scenario.toml", "extends = \"../base\"\n");
        let j = child.json();
        assert_eq!(j["routes"], 1);
        assert_eq!(j["outages"], 1);
        assert_eq!(j["tranches"], 3);
    }

    #[test]
    fn unknown_provider_is_checked_against_the_inherited_scenario() {
        let base = base();
        let child = base.sibling("child").file(
            "scenario.toml",
            "extends = \"../base\"\n[[whatif.price]]\nprovider = \"oracle\"\nfactor = 2\n",
        );
        child.validate().rejects(&[
            "child/scenario.toml:3: key 'whatif.price.provider':",
            "'oracle'",
        ]);
    }
}

// ---------------------------------------------------------------------------------------------
// 5. Warnings: legal but suspicious input loads, with a warning.
// ---------------------------------------------------------------------------------------------

mod warnings {
    use super::*;

    fn warnings(j: &serde_json::Value) -> Vec<String> {
        j["warnings"]
            .as_array()
            .expect("warnings is a list")
            .iter()
            .map(|w| w.as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn tranche_never_active() {
        let j = Scenario::valid()
            .file(
                "capacity.csv",
                "provider,tranche,capacity_tpm,start,end\n\
                 aws,live,1000,,\n\
                 aws,past,1000,2025-01-01,2025-06-01\n\
                 aws,future,1000,2026-03-01,\n\
                 aws,mid-feb,1000,2026-01-15,2026-02-01\n",
            )
            .json();
        let w = warnings(&j);
        // v2: `mid-feb` (Jan 15 – Feb 1) covers half of January, so it is active (prorated).
        assert!(!w.iter().any(|w| w.contains("'mid-feb'")), "{w:#?}");
        for name in ["past", "future"] {
            assert!(
                w.iter()
                    .any(|w| w.contains(&format!("'{name}'")) && w.contains("never active")),
                "{name}: {w:#?}"
            );
        }
        assert!(!w.iter().any(|w| w.contains("'live'")), "{w:#?}");
        assert!(w.iter().any(|w| w.contains("capacity.csv:3")), "{w:#?}");
    }

    #[test]
    fn delay_past_the_end_is_a_warning_not_an_error() {
        let j = Scenario::valid()
            .file(
                "capacity.csv",
                "provider,tranche,capacity_tpm,start,end\naws,short,1000,2026-01-01,2026-02-15\n",
            )
            .file(
                "scenario.toml",
                "[[whatif.delay]]\nprovider = \"aws\"\ndays = 60\n",
            )
            .json();
        let w = warnings(&j);
        assert!(
            w.iter()
                .any(|w| w.contains("'short'") && w.contains("never active")),
            "{w:#?}"
        );
    }

    #[test]
    fn capacity_below_demand_names_period_and_gap() {
        let s = Scenario::valid().file(
            "demand.csv",
            "period,tokens_per_minute\n2026-01-01,500\n2026-02-01,3500\n2026-03-01,900\n",
        );
        let j = s.json();
        let w = warnings(&j);
        let short = w
            .iter()
            .find(|w| w.contains("below demand"))
            .unwrap_or_else(|| panic!("{w:#?}"));
        assert!(short.contains("1 of 3 periods"), "{short}");
        assert!(short.contains("2026-02"), "names the period: {short}");
        assert!(short.contains("by 2.5K"), "names the gap: {short}");
        assert!(!short.contains("2026-01:"), "{short}");
        // The text summary prints it as a warning, and exits 0.
        let out = s.validate();
        out.ok();
        assert!(
            out.stdout.contains("warning:") || out.stderr.contains("warning:"),
            "{out:#?}"
        );
    }

    #[test]
    fn outages_count_against_capacity_in_the_shortfall_warning() {
        let j = Scenario::valid()
            .file(
                "outages.csv",
                // v2: outages are prorated, so the outage covers all of February to leave 50.
                "provider,start,end,capacity_factor\naws,2026-02-01,2026-03-01,0.05\n",
            )
            .json();
        let w = warnings(&j);
        assert!(
            w.iter()
                .any(|w| w.contains("2026-02") && w.contains("by 50")),
            "{w:#?}"
        );
    }

    #[test]
    fn run_prints_warnings_on_stderr() {
        let s = Scenario::valid().file(
            "capacity.csv",
            "provider,tranche,capacity_tpm,start,end\naws,a,1000,,\naws,past,1000,2025-01-01,2025-06-01\n",
        );
        let out_dir = s.root().join("out");
        let out = run([
            "run".as_ref(),
            s.dir.as_os_str(),
            "--out".as_ref(),
            out_dir.as_os_str(),
            "--no-charts".as_ref(),
        ]);
        out.ok();
        assert!(
            out.stderr.contains("warning:") && out.stderr.contains("never active"),
            "{out:#?}"
        );
    }
}

// ---------------------------------------------------------------------------------------------
// 6. Outputs never land inside the scenario folder; failed runs write nothing.
// ---------------------------------------------------------------------------------------------

mod outputs {
    use super::*;
    use std::ffi::OsStr;

    fn run_to(s: &Scenario, out: &std::path::Path) -> support::Out {
        run([
            OsStr::new("run"),
            s.dir.as_os_str(),
            OsStr::new("--out"),
            out.as_os_str(),
            OsStr::new("--no-charts"),
        ])
    }

    #[test]
    fn out_inside_the_scenario_folder_is_refused() {
        let s = Scenario::valid().file("scenario.toml", "name = \"x\"\n");
        let before = snapshot(&s.dir);
        for out in [s.dir.join("out"), s.dir.clone(), s.dir.join("a/b/c")] {
            run_to(&s, &out).rejects(&["inside the scenario folder"]);
            assert_eq!(snapshot(&s.dir), before, "scenario folder changed");
        }
    }

    #[test]
    fn out_inside_the_scenario_folder_through_a_symlink_or_dotdot_is_refused() {
        let s = Scenario::valid();
        let before = snapshot(&s.dir);
        let sneaky = s.root().join("elsewhere/../s/out");
        std::fs::create_dir_all(s.root().join("elsewhere")).unwrap();
        run_to(&s, &sneaky).rejects(&["inside the scenario folder"]);
        #[cfg(unix)]
        {
            let link = s.root().join("link");
            std::os::unix::fs::symlink(&s.dir, &link).unwrap();
            run_to(&s, &link.join("out")).rejects(&["inside the scenario folder"]);
        }
        assert_eq!(snapshot(&s.dir), before, "scenario folder changed");
    }

    #[test]
    fn relative_out_inside_the_scenario_folder_is_refused() {
        let s = Scenario::valid();
        let before = snapshot(&s.dir);
        run_in(Some(&s.dir), ["run", ".", "--out", "out", "--no-charts"])
            .rejects(&["inside the scenario folder"]);
        // The default output folder, output/<name>/, is relative to the working directory.
        run_in(Some(&s.dir), ["run", ".", "--no-charts"]).rejects(&["inside the scenario folder"]);
        assert_eq!(snapshot(&s.dir), before, "scenario folder changed");
    }

    #[test]
    fn a_successful_run_writes_outside() {
        let s = Scenario::valid();
        let before = snapshot(&s.dir);
        let out = s.root().join("result");
        run_to(&s, &out).ok();
        for f in ["summary.json", "allocation.csv", "commitments.csv"] {
            assert!(out.join(f).is_file(), "{f} missing");
        }
        assert_eq!(snapshot(&s.dir), before, "scenario folder changed");
    }

    #[test]
    fn a_failed_run_writes_no_output_folder() {
        let s = Scenario::valid().file("capacity.csv", "provider,capacity_tpm\naws,-1\n");
        let out = s.root().join("result");
        run_to(&s, &out).rejects(&["s/capacity.csv:2: column 'capacity_tpm':"]);
        assert!(!out.exists(), "a failed run created {}", out.display());
        // Nor the default output/<name>/ under the working directory.
        let cwd = s.sibling("cwd");
        run_in(
            Some(&cwd.dir),
            [
                OsStr::new("run"),
                s.dir.as_os_str(),
                OsStr::new("--no-charts"),
            ],
        )
        .rejects(&[]);
        assert!(
            std::fs::read_dir(&cwd.dir).unwrap().next().is_none(),
            "a failed run wrote into the working directory"
        );
    }

    #[test]
    fn a_failed_run_leaves_an_existing_output_folder_alone() {
        let s = Scenario::valid();
        let out = s.root().join("result");
        run_to(&s, &out).ok();
        let before = snapshot(&out);
        let s2 = s.sibling("broken").file("demand.csv", "period\n");
        run_to(&s2, &out).rejects(&[]);
        assert_eq!(
            snapshot(&out),
            before,
            "a failed run touched the output folder"
        );
    }
}
