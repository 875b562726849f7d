//! Errors of every stage, with the context a planner needs to fix the input; rendered in one place.

use std::fmt;
use std::path::{Path, PathBuf};

/// Where a problem sits in an input file: the file, the physical line (header = 1) and the CSV
/// column or the scenario.toml key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Location {
    pub file: PathBuf,
    pub line: Option<u64>,
    /// A CSV column, rendered `column 'capacity_tpm'`.
    pub column: Option<String>,
    /// A scenario.toml key, dotted (`policy.loss_coverage`), rendered `key 'policy.loss_coverage'`.
    pub key: Option<String>,
}

impl Location {
    pub fn file(file: impl AsRef<Path>) -> Location {
        Location {
            file: file.as_ref().to_path_buf(),
            line: None,
            column: None,
            key: None,
        }
    }
    /// A line of a CSV file, and the column when the problem is in one cell.
    pub fn at(file: impl AsRef<Path>, line: u64, column: Option<&str>) -> Location {
        Location {
            file: file.as_ref().to_path_buf(),
            line: Some(line),
            column: column.map(str::to_string),
            key: None,
        }
    }
    /// The line of a scenario.toml key.
    pub fn at_key(file: impl AsRef<Path>, line: u64, key: &str) -> Location {
        Location {
            file: file.as_ref().to_path_buf(),
            line: Some(line),
            column: None,
            key: Some(key.to_string()),
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
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
}

impl Diagnostic {
    pub fn new(location: Location, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            location,
            message: message.into(),
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

    /// Process exit code: 2 bad input or usage, 3 solver trouble, 4 I/O.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Input(_) | Error::Usage(_) => 2,
            Error::Solver(_) => 3,
            Error::Io { .. } | Error::Chart(_) => 4,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Input(diagnostics) => {
                for (i, d) in diagnostics.iter().enumerate() {
                    if i > 0 {
                        writeln!(f)?;
                    }
                    write!(f, "error: {d}")?;
                }
                if diagnostics.len() > 1 {
                    write!(f, "\n{} errors", diagnostics.len())?;
                }
                Ok(())
            }
            Error::Solver(message) => write!(f, "error: solver: {message}"),
            Error::Io { path, source } => write!(f, "error: {}: {source}", path.display()),
            Error::Usage(message) => write!(f, "error: {message}"),
            Error::Chart(message) => write!(f, "error: chart: {message}"),
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

/// `'a', 'b', 'c'` for messages ("expected one of ..."); takes `&str` or `String` names. Kept here,
/// beside the diagnostics it writes into, so every stage can use it without importing another.
pub fn list<S: AsRef<str>>(names: &[S]) -> String {
    names
        .iter()
        .map(|n| format!("'{}'", n.as_ref()))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
