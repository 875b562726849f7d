//! Exporters: one writer per format for every table capplan writes (hyperfine's `export/`).
//!
//! A table is a list of rows that derive `Serialize`; its columns are the rows' field names. The
//! same rows go to `csv` (the one CSV writer: fixed float formatting, the csv crate's quoting),
//! `json` (the one JSON writer: floats at 12 significant digits) and, through display rows of
//! text, `markdown` and `text` (aligned columns on stdout); `xlsx` writes workbooks of numbers.
//! Every writer renders into memory; the output stage writes a command's
//! [`Product`] with one function. Nothing here knows which command a table belongs to.

pub mod csv;
pub mod json;
pub mod markdown;
pub mod text;
#[cfg(feature = "xlsx")]
pub mod xlsx;

use chrono::{DateTime, Utc};

/// A file to write: its name inside the output folder and its bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputFile {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl OutputFile {
    pub fn new(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> OutputFile {
        OutputFile {
            name: name.into(),
            bytes: bytes.into(),
        }
    }
}

/// What a command makes: every file, rendered in memory before any is written (a failed command
/// writes nothing), and the names of every file a command of its kind can write — its manifest.
/// Writing a product into a folder removes the files of the manifest an earlier command left there
/// that this one did not write, and never touches any other file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Product {
    pub files: Vec<OutputFile>,
    pub manifest: Vec<String>,
}

impl Product {
    /// Files and the names they belong to (the files' own names are always part of it).
    pub fn new<S: Into<String>>(
        files: Vec<OutputFile>,
        manifest: impl IntoIterator<Item = S>,
    ) -> Product {
        let mut p = Product {
            files: Vec::new(),
            manifest: manifest.into_iter().map(Into::into).collect(),
        };
        p.extend(files);
        p
    }

    /// Adds files (and their names to the manifest).
    pub fn extend(&mut self, files: impl IntoIterator<Item = OutputFile>) {
        for f in files {
            if !self.manifest.contains(&f.name) {
                self.manifest.push(f.name.clone());
            }
            self.files.push(f);
        }
    }

    /// Adds names to the manifest: files of this kind of product that this one may not write.
    pub fn owning<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Product {
        for n in names {
            let n = n.into();
            if !self.manifest.contains(&n) {
                self.manifest.push(n);
            }
        }
        self
    }
}

/// Serialises a time as capplan writes every time (`units::format_time`, `2026-01-01T00:00:00Z`),
/// for `#[serde(serialize_with = "crate::export::time")]`. Tables come sorted by period, so the text
/// of the last time is kept and reused: an hourly year's allocation.csv has millions of rows and a
/// few thousand distinct periods.
pub fn time<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    thread_local! {
        static LAST: std::cell::RefCell<(Option<DateTime<Utc>>, String)> =
            const { std::cell::RefCell::new((None, String::new())) };
    }
    LAST.with(|last| {
        let mut last = last.borrow_mut();
        if last.0 != Some(*t) {
            last.1 = crate::units::format_time(t);
            last.0 = Some(*t);
        }
        s.serialize_str(&last.1)
    })
}

/// The name of the newtype a round-trip float is serialised as (see [`round_trip`]).
pub(crate) const ROUND_TRIP: &str = "capplan::RoundTrip";

/// Serialises a float that must read back exactly (`commitments.csv`'s `reserved_fraction`): the
/// CSV writer prints its shortest round-trip text instead of 12 significant digits; to any other
/// format it is the plain number. For `#[serde(serialize_with = "crate::export::round_trip")]`.
pub fn round_trip<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_newtype_struct(ROUND_TRIP, v)
}
