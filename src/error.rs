//! Errors of every stage, with the context a planner needs to fix the input; rendered in one place.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;

/// Where a problem sits: in an input file, the file, the physical line (header = 1), the
/// character column when a parser gives one, and the CSV column or the TOML key; or a
/// command-line flag as written.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    pub file: PathBuf,
    pub line: Option<u64>,
    /// The 1-based character column within the line, rendered `file:3:7`: given where the place
    /// in the line is the only pointer (a TOML syntax error), not where a key or CSV column is.
    pub char_column: Option<u64>,
    /// A CSV column, rendered `column 'capacity_tpm'`.
    pub column: Option<String>,
    /// A scenario.toml key, dotted (`policy.loss_coverage`), rendered `key 'policy.loss_coverage'`.
    pub key: Option<String>,
    /// A command-line flag and its value as written (`--delay aws=90d`), rendered in place of the
    /// file; `file` is empty then.
    pub flag: Option<String>,
}

impl Location {
    pub fn file(file: impl AsRef<Path>) -> Location {
        Location {
            file: file.as_ref().to_path_buf(),
            line: None,
            char_column: None,
            column: None,
            key: None,
            flag: None,
        }
    }
    /// A command-line flag as written: `Location::flag("--delay", "aws=90d")` renders
    /// `--delay aws=90d`.
    pub fn flag(flag: &str, value: &str) -> Location {
        Location {
            flag: Some(format!("{flag} {value}")),
            ..Location::file("")
        }
    }
    /// The same place, with the character column of the line.
    pub fn with_char_column(self, column: u64) -> Location {
        Location {
            char_column: Some(column),
            ..self
        }
    }
    /// A line of a CSV file, and the column when the problem is in one cell.
    pub fn at(file: impl AsRef<Path>, line: u64, column: Option<&str>) -> Location {
        Location {
            line: Some(line),
            column: column.map(str::to_string),
            ..Location::file(file)
        }
    }
    /// The line of a scenario.toml key.
    pub fn at_key(file: impl AsRef<Path>, line: u64, key: &str) -> Location {
        Location {
            line: Some(line),
            key: Some(key.to_string()),
            ..Location::file(file)
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.flag {
            Some(flag) => write!(f, "{flag}")?,
            None => write!(f, "{}", self.file.display())?,
        }
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some(column) = self.char_column {
            write!(f, ":{column}")?;
        }
        if let Some(column) = &self.column {
            write!(f, ": column '{column}'")?;
        }
        if let Some(key) = &self.key {
            write!(f, ": key '{key}'")?;
        }
        Ok(())
    }
}

/// One problem found in the input: where, and what was expected against what was found.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Diagnostic {
    pub location: Location,
    pub message: String,
    /// The kind of problem, the same whatever value was found (`"time:month"`,
    /// `"number; drop the currency sign"`): problems of one kind in one file and column are
    /// rendered as the first one and a line count. None: always rendered on its own.
    pub group: Option<String>,
}

impl Diagnostic {
    pub fn new(location: Location, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            location,
            message: printable(&message.into()),
            group: None,
        }
    }
    /// A diagnostic of kind `group` (see `Diagnostic::group`).
    pub fn grouped(
        location: Location,
        message: impl Into<String>,
        group: impl Into<String>,
    ) -> Diagnostic {
        Diagnostic {
            group: Some(group.into()),
            ..Diagnostic::new(location, message)
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

/// The one error type of capplan. Each variant maps to its own exit code.
#[derive(Debug)]
pub enum Error {
    /// The scenario is wrong: every problem found, in file order.
    Input(Vec<Diagnostic>),
    /// The solver failed or gave no usable answer.
    Solver(String),
    /// Reading or writing a file failed for a reason outside the scenario's content.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The command line asks for something that cannot be done (e.g. a solver not compiled in).
    Usage(String),
    /// A chart could not be drawn or encoded.
    Chart(String),
    /// Stopped on request (Ctrl-C) before finishing; the message says what was kept and how to
    /// continue.
    Interrupted(String),
}

impl Error {
    pub fn input(location: Location, message: impl Into<String>) -> Error {
        Error::Input(vec![Diagnostic::new(location, message)])
    }

    pub fn io(path: impl AsRef<Path>, source: std::io::Error) -> Error {
        Error::Io {
            path: path.as_ref().to_path_buf(),
            source,
        }
    }

    /// Process exit code: 2 bad input or usage, 3 solver trouble, 4 I/O, 130 interrupted (as a
    /// shell reports SIGINT).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) | Error::Usage(_) => 2,
            Error::Solver(_) => 3,
            Error::Io { .. } | Error::Chart(_) => 4,
            Error::Interrupted(_) => 130,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input(diagnostics) => {
                for (i, (d, more)) in grouped(diagnostics).iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "error: {d}")?;
                    if !more.is_empty() {
                        write!(f, "; {}", more_like_it(more))?;
                    }
                }
                if diagnostics.len() > 1 {
                    write!(f, "\n{} errors", diagnostics.len())?;
                }
                Ok(())
            }
            Error::Solver(message) => write!(f, "error: solver: {message}"),
            Error::Io { path, source } => write!(f, "error: {}: {source}", path.display()),
            Error::Usage(message) => write!(f, "error: {}", printable(message)),
            Error::Chart(message) => write!(f, "error: chart: {message}"),
            // Not a failure of the input or the machine: said as it is.
            Error::Interrupted(message) => write!(f, "{message}"),
        }
    }
}

impl std::error::Error for Error {}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Collects diagnostics so a stage can report every problem of a file, not just the first.
#[derive(Debug, Default)]
pub struct Diagnostics {
    pub errors: Vec<Diagnostic>,
}

impl Diagnostics {
    pub fn push(&mut self, location: Location, message: impl Into<String>) {
        self.errors.push(Diagnostic::new(location, message));
    }
    /// Pushes a diagnostic of kind `group` (see `Diagnostic::group`).
    pub fn push_grouped(
        &mut self,
        location: Location,
        message: impl Into<String>,
        group: impl Into<String>,
    ) {
        self.errors
            .push(Diagnostic::grouped(location, message, group));
    }
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }
    pub fn extend(&mut self, other: Diagnostics) {
        self.errors.extend(other.errors);
    }
    /// Ok(value) when nothing was collected, else every diagnostic as one `Error::Input`.
    pub fn finish<T>(self, value: T) -> Result<T> {
        if self.errors.is_empty() {
            Ok(value)
        } else {
            Err(Error::Input(self.errors))
        }
    }
}

/// Fewest problems of one kind in one file and column that are rendered as one line: two are
/// clearer written out than as "and 1 more line like it".
const GROUP_FROM: usize = 3;

type GroupKey<'a> = (&'a Path, Option<&'a str>, Option<&'a str>, &'a str);

/// The group of a diagnostic: its kind in its file and column (or key); None when it has no kind
/// or no line.
fn group_key(d: &Diagnostic) -> Option<GroupKey<'_>> {
    let l = &d.location;
    l.line?;
    Some((
        l.file.as_path(),
        l.column.as_deref(),
        l.key.as_deref(),
        d.group.as_deref()?,
    ))
}

/// The diagnostics as rendered, in order: each with the lines of the later diagnostics of its
/// group, which are not rendered on their own. Only groups of at least `GROUP_FROM` are merged.
fn grouped(diagnostics: &[Diagnostic]) -> Vec<(&Diagnostic, Vec<u64>)> {
    let mut sizes: HashMap<GroupKey<'_>, usize> = HashMap::new();
    for key in diagnostics.iter().filter_map(group_key) {
        *sizes.entry(key).or_default() += 1;
    }
    let mut out: Vec<(&Diagnostic, Vec<u64>)> = Vec::new();
    let mut first: HashMap<GroupKey<'_>, usize> = HashMap::new();
    for d in diagnostics {
        if let Some(key) = group_key(d).filter(|k| sizes[k] >= GROUP_FROM) {
            if let Some(&i) = first.get(&key) {
                out[i].1.extend(d.location.line);
                continue;
            }
            first.insert(key, out.len());
        }
        out.push((d, Vec::new()));
    }
    out
}

/// `and 215 more lines like it (5–219)`, or `(5, 9, 12–40)` when the lines are apart.
fn more_like_it(lines: &[u64]) -> String {
    let count = lines.len();
    let mut sorted = lines.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    // Runs of consecutive lines; three or more are written as a range.
    let mut runs: Vec<(u64, u64)> = Vec::new();
    for &n in &sorted {
        match runs.last_mut() {
            Some((_, end)) if *end + 1 == n => *end = n,
            _ => runs.push((n, n)),
        }
    }
    let mut items: Vec<String> = Vec::new();
    for &(a, b) in &runs {
        match b - a {
            0 => items.push(a.to_string()),
            1 => items.extend([a.to_string(), b.to_string()]),
            _ => items.push(format!("{a}–{b}")),
        }
    }
    const MAX_ITEMS: usize = 8;
    if items.len() > MAX_ITEMS {
        items.truncate(MAX_ITEMS);
        items.push("…".to_string());
    }
    let lines = if count == 1 { "line" } else { "lines" };
    format!("and {count} more {lines} like it ({})", items.join(", "))
}

/// One problem as `--format json` writes it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JsonProblem {
    pub file: Option<String>,
    pub line: Option<u64>,
    /// The CSV column, when the problem is in one.
    pub column: Option<String>,
    /// The scenario.toml key, when the problem is at one.
    pub key: Option<String>,
    pub message: String,
}

impl JsonProblem {
    pub fn new(location: Option<&Location>, message: impl Into<String>) -> JsonProblem {
        JsonProblem {
            // A flag stands where the file would (as before flags had a location of their own).
            file: location.map(|l| match &l.flag {
                Some(flag) => flag.clone(),
                None => l.file.display().to_string(),
            }),
            line: location.and_then(|l| l.line),
            column: location.and_then(|l| l.column.clone()),
            key: location.and_then(|l| l.key.clone()),
            message: message.into(),
        }
    }
}

impl From<&Diagnostic> for JsonProblem {
    fn from(d: &Diagnostic) -> JsonProblem {
        JsonProblem::new(Some(&d.location), d.message.clone())
    }
}

/// An error as `--format json` prints it on stdout: `{"ok": false, "errors": [...], "warnings": []}`,
/// one entry per problem (not grouped: a program reads every one), each with its file, line,
/// column or key (null when it has none) and message.
pub fn json_errors(e: &Error) -> String {
    #[derive(Serialize)]
    struct Failed {
        ok: bool,
        errors: Vec<JsonProblem>,
        warnings: Vec<JsonProblem>,
    }
    let errors = match e {
        Error::Input(diagnostics) => diagnostics.iter().map(JsonProblem::from).collect(),
        Error::Io { path, source } => {
            vec![JsonProblem::new(
                Some(&Location::file(path)),
                source.to_string(),
            )]
        }
        other => {
            let text = other.to_string();
            let message = text.strip_prefix("error: ").unwrap_or(&text);
            vec![JsonProblem::new(None, message)]
        }
    };
    let failed = Failed {
        ok: false,
        errors,
        warnings: Vec::new(),
    };
    format!(
        "{}\n",
        serde_json::to_string_pretty(&failed).expect("plain data serialises")
    )
}

/// `text` for a message: whole when at most `max_chars` characters, else its first `max_chars`
/// and how long it was (a 10 MiB cell is not echoed whole).
pub fn clip(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        None => text.to_string(),
        Some((end, _)) => format!("{}… ({} characters)", &text[..end], text.chars().count()),
    }
}

/// A message as it may reach a terminal or a log: every quoted value (`'…'`) longer than 200
/// characters clipped (a 10 MiB cell is not echoed whole), and control characters (terminal
/// escape sequences in a name) written as `\u{1b}` instead of acting on the terminal.
pub fn printable(message: &str) -> String {
    const LONGEST_QUOTE: usize = 200;
    let mut out = String::with_capacity(message.len().min(4096));
    let mut rest = message;
    while let Some(open) = rest.find('\'') {
        out.push_str(&rest[..=open]);
        rest = &rest[open + 1..];
        let Some(close) = rest.find('\'') else { break };
        let quoted = &rest[..close];
        if quoted.len() > LONGEST_QUOTE {
            out.push_str(&clip(quoted, 80));
        } else {
            out.push_str(quoted);
        }
        out.push('\'');
        rest = &rest[close + 1..];
    }
    out.push_str(rest);
    printable_text(&out).into_owned()
}

/// `text` with control characters other than newlines written as `\u{1b}`.
pub fn printable_text(text: &str) -> std::borrow::Cow<'_, str> {
    let control = |c: char| c.is_control() && c != '\n';
    if !text.chars().any(control) {
        return std::borrow::Cow::Borrowed(text);
    }
    let escaped = text
        .chars()
        .map(|c| match c {
            c if control(c) => c.escape_unicode().to_string(),
            c => c.to_string(),
        })
        .collect();
    std::borrow::Cow::Owned(escaped)
}

/// `'a', 'b', 'c'` for messages ("expected one of ..."); takes `&str` or `String` names. Kept here,
/// beside the diagnostics it writes into, so every stage can use it without importing another.
pub fn list<S: AsRef<str>>(names: &[S]) -> String {
    names
        .iter()
        .map(|n| format!("'{}'", n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The accepted name closest to a typo, when it is close enough to be a likely typo: the "did you
/// mean" of every stage's messages (beside `list`, so a stage can use it without importing another).
pub fn closest<'a>(name: &str, accepted: &[&'a str]) -> Option<&'a str> {
    let lower = name.to_ascii_lowercase();
    let by_spelling = accepted
        .iter()
        .map(|c| (strsim::levenshtein(&lower, c), *c))
        .filter(|(d, c)| *d <= (c.len() / 3).max(2))
        .min()
        .map(|(_, c)| c);
    // Shortened names: every word of the typo is a word of the accepted name (`max_share`).
    let words: Vec<&str> = lower.split('_').filter(|w| !w.is_empty()).collect();
    let by_words = || {
        accepted
            .iter()
            .copied()
            .find(|c| words.len() >= 2 && words.iter().all(|w| c.split('_').any(|cw| cw == *w)))
    };
    by_spelling.or_else(by_words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn printable_clips_long_quotes_and_shows_control_characters() {
        let cell = "x".repeat(10_000_000);
        let message = printable(&format!("expected a number, found '{cell}'; fix it"));
        assert_eq!(
            message,
            format!(
                "expected a number, found '{}… (10000000 characters)'; fix it",
                "x".repeat(80)
            )
        );
        assert_eq!(
            printable("provider 'a\u{1b}[31mb' and 'c'"),
            "provider 'a\\u{1b}[31mb' and 'c'"
        );
        assert_eq!(printable("it's 'fine'\nnext"), "it's 'fine'\nnext");
    }

    #[test]
    fn renders_file_line_and_column() {
        let e = Error::input(
            Location::at("s/capacity.csv", 3, Some("capacity_tpm")),
            "expected a non-negative number, found '-5'",
        );
        assert_eq!(
            e.to_string(),
            "error: s/capacity.csv:3: column 'capacity_tpm': expected a non-negative number, found '-5'"
        );
        assert_eq!(e.exit_code(), 2);
    }

    #[test]
    fn a_flag_is_a_place_of_its_own() {
        let e = Error::input(
            Location::flag("--delay", "aws=ninety"),
            "expected a duration such as 90d, 12h or 2w, found 'ninety'",
        );
        assert_eq!(
            e.to_string(),
            "error: --delay aws=ninety: expected a duration such as 90d, 12h or 2w, found 'ninety'"
        );
        // JSON names the flag where a file would be, as it always has.
        let v: serde_json::Value = serde_json::from_str(&json_errors(&e)).unwrap();
        assert_eq!(v["errors"][0]["file"], "--delay aws=ninety");
        assert_eq!(
            Location::at("s.toml", 3, None)
                .with_char_column(7)
                .to_string(),
            "s.toml:3:7"
        );
    }

    #[test]
    fn lists_names_quoted() {
        assert_eq!(list(&["a", "b"]), "'a', 'b'");
        assert_eq!(list(&["aws".to_string()]), "'aws'");
        assert_eq!(list::<&str>(&[]), "");
    }

    #[test]
    fn counts_several_errors() {
        let mut d = Diagnostics::default();
        d.push(Location::file("a.csv"), "one");
        d.push(Location::at("a.csv", 2, None), "two");
        let e = d.finish(()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "error: a.csv: one\nerror: a.csv:2: two\n2 errors"
        );
    }

    #[test]
    fn renders_a_toml_key_as_a_key() {
        let e = Error::input(
            Location::at_key("s/scenario.toml", 4, "policy.loss_coverage"),
            "expected a fraction in [0, 1], found 1.5",
        );
        assert_eq!(
            e.to_string(),
            "error: s/scenario.toml:4: key 'policy.loss_coverage': expected a fraction in [0, 1], found 1.5"
        );
    }

    fn period(line: u64, found: &str) -> Diagnostic {
        Diagnostic::grouped(
            Location::at("d.csv", line, Some("period")),
            format!("expected a date, found '{found}'"),
            "time",
        )
    }

    #[test]
    fn one_kind_in_one_column_is_rendered_once_and_counted_truthfully() {
        let mut all: Vec<Diagnostic> = (4..=219).map(|l| period(l, &format!("{l}/01"))).collect();
        // Another column, another kind, and an ungrouped message interleave.
        all.insert(
            1,
            Diagnostic::grouped(
                Location::at("d.csv", 4, Some("tokens_per_minute")),
                "bad",
                "n",
            ),
        );
        all.insert(2, Diagnostic::new(Location::at("d.csv", 5, None), "other"));
        all.push(Diagnostic::grouped(
            Location::at("d.csv", 220, Some("period")),
            "expected a date, found an empty cell",
            "empty",
        ));
        assert_eq!(
            Error::Input(all).to_string(),
            "error: d.csv:4: column 'period': expected a date, found '4/01'; and 215 more lines like it (5–219)\n\
             error: d.csv:4: column 'tokens_per_minute': bad\n\
             error: d.csv:5: other\n\
             error: d.csv:220: column 'period': expected a date, found an empty cell\n\
             219 errors"
        );
    }

    #[test]
    fn lines_apart_are_listed() {
        let lines = [4, 5, 9, 12, 13, 14, 15, 40, 41];
        let e = Error::Input(lines.iter().map(|&l| period(l, "x")).collect());
        assert_eq!(
            e.to_string(),
            "error: d.csv:4: column 'period': expected a date, found 'x'; and 8 more lines like it (5, 9, 12–15, 40, 41)\n9 errors"
        );
        // Two are clearer written out.
        let e = Error::Input(vec![period(2, "x"), period(7, "y")]);
        assert_eq!(
            e.to_string(),
            "error: d.csv:2: column 'period': expected a date, found 'x'\n\
             error: d.csv:7: column 'period': expected a date, found 'y'\n2 errors"
        );
        let many: Vec<Diagnostic> = (1..=40).map(|l| period(l * 2, "x")).collect();
        assert!(Error::Input(many)
            .to_string()
            .contains("and 39 more lines like it (4, 6, 8, 10, 12, 14, 16, 18, …)\n40 errors"),);
    }

    #[test]
    fn groups_are_per_file() {
        let other = Diagnostic::grouped(
            Location::at("e.csv", 3, Some("period")),
            "expected a date, found 'z'",
            "time",
        );
        let e = Error::Input(vec![period(2, "x"), other, period(3, "y"), period(4, "w")]);
        assert_eq!(
            e.to_string(),
            "error: d.csv:2: column 'period': expected a date, found 'x'; and 2 more lines like it (3, 4)\n\
             error: e.csv:3: column 'period': expected a date, found 'z'\n4 errors"
        );
    }

    #[test]
    fn errors_as_json() {
        let e = Error::Input(vec![
            period(4, "x"),
            Diagnostic::new(Location::at_key("scenario.toml", 2, "name"), "bad name"),
            Diagnostic::new(Location::file("capacity.csv"), "required file is missing"),
        ]);
        let v: serde_json::Value = serde_json::from_str(&json_errors(&e)).unwrap();
        assert_eq!(
            v,
            serde_json::json!({
                "ok": false,
                "errors": [
                    {"file": "d.csv", "line": 4, "column": "period", "key": null, "message": "expected a date, found 'x'"},
                    {"file": "scenario.toml", "line": 2, "column": null, "key": "name", "message": "bad name"},
                    {"file": "capacity.csv", "line": null, "column": null, "key": null, "message": "required file is missing"},
                ],
                "warnings": [],
            })
        );
        let v: serde_json::Value =
            serde_json::from_str(&json_errors(&Error::Solver("no optimum".into()))).unwrap();
        assert_eq!(v["errors"][0]["message"], "solver: no optimum");
        assert_eq!(v["errors"][0]["file"], serde_json::Value::Null);
    }
}
