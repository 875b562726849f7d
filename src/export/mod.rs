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
/// writes nothing), and the names of every file a command of its kind can write — the names it
/// owns. Writing a product into a folder (`output::write`) removes the files of those names that
/// an earlier command left there, that this one did not write and that capplan's record of the
/// folder lists as its own, and never touches any other file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Product {
    pub files: Vec<OutputFile>,
    pub owned: Vec<String>,
}

impl Product {
    /// Files and the names they belong to (the files' own names are always among them).
    pub fn new<S: Into<String>>(
        files: Vec<OutputFile>,
        owned: impl IntoIterator<Item = S>,
    ) -> Product {
        let mut p = Product {
            files: Vec::new(),
            owned: owned.into_iter().map(Into::into).collect(),
        };
        p.extend(files);
        p
    }

    /// Adds files (and their names to the names owned).
    pub fn extend(&mut self, files: impl IntoIterator<Item = OutputFile>) {
        for f in files {
            if !self.owned.contains(&f.name) {
                self.owned.push(f.name.clone());
            }
            self.files.push(f);
        }
    }

    /// Adds names owned: files of this kind of product that this one may not write.
    pub fn owning<S: Into<String>>(mut self, names: impl IntoIterator<Item = S>) -> Product {
        for n in names {
            let n = n.into();
            if !self.owned.contains(&n) {
                self.owned.push(n);
            }
        }
        self
    }
}

/// Serialises a time as capplan writes every time (`units::format_time`, `2026-01-01T00:00:00Z`),
/// for `#[serde(serialize_with = "crate::export::time")]`. Every format gets that text, except the
/// CSV writer, which is handed the instant and prints it itself, reusing the text of the last one:
/// tables come sorted by period, and an hourly year's allocation.csv has millions of rows and a few
/// thousand distinct periods.
pub fn time<S: serde::Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_newtype_struct(TIME, &Instant(*t))
}

/// The name of the newtype a time is serialised as (see [`time`]).
pub(crate) const TIME: &str = "capplan::Time";

/// An instant: its text to a human-readable format; to a compact one (the CSV writer's time cells)
/// one integer, its key.
struct Instant(DateTime<Utc>);

impl serde::Serialize for Instant {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            s.serialize_str(&crate::units::format_time(&self.0))
        } else {
            s.serialize_i128(instant_key(&self.0))
        }
    }
}

/// An instant as one integer, from the fields chrono keeps (no calendar arithmetic: a key is made
/// for every row): the year and day of the year above bit 64, the second of the day and its
/// nanoseconds (a leap second's too) below.
fn instant_key(t: &DateTime<Utc>) -> i128 {
    use chrono::{Datelike, Timelike};
    let naive = t.naive_utc();
    let (date, time) = (naive.date(), naive.time());
    let day = ((date.year() as i128) << 9) | date.ordinal() as i128;
    (day << 64) | ((time.num_seconds_from_midnight() as i128) << 32) | time.nanosecond() as i128
}

/// The instant of an `instant_key`.
pub(crate) fn instant_of_key(key: i128) -> Option<DateTime<Utc>> {
    let day = key >> 64;
    let date = chrono::NaiveDate::from_yo_opt((day >> 9) as i32, (day & 0x1ff) as u32)?;
    let time = chrono::NaiveTime::from_num_seconds_from_midnight_opt(
        ((key >> 32) & 0xffff_ffff) as u32,
        (key & 0xffff_ffff) as u32,
    )?;
    Some(date.and_time(time).and_utc())
}

/// The name of the newtype a round-trip float is serialised as (see [`round_trip`]).
pub(crate) const ROUND_TRIP: &str = "capplan::RoundTrip";

/// Serialises a float that must read back exactly (`commitments.csv`'s `reserved_fraction`): the
/// CSV writer prints its shortest round-trip text instead of 12 significant digits; to any other
/// format it is the plain number. For `#[serde(serialize_with = "crate::export::round_trip")]`.
pub fn round_trip<S: serde::Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_newtype_struct(ROUND_TRIP, v)
}

#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};

    /// A time's key names the instant it was made from, at the edges of what chrono holds too
    /// (years before 0 and after 9999, a leap second, nanoseconds), and the CSV writer prints
    /// from it what every other format prints.
    #[test]
    fn a_time_key_gives_back_its_instant() {
        #[derive(serde::Serialize, Default)]
        struct Row {
            #[serde(serialize_with = "crate::export::time")]
            at: DateTime<Utc>,
        }
        let leap = crate::units::parse_time("2016-12-31T23:59:60Z").unwrap();
        let nanos = DateTime::from_timestamp(1_767_225_600, 123_456_789).unwrap();
        let times = [
            DateTime::<Utc>::MIN_UTC,
            DateTime::<Utc>::MAX_UTC,
            DateTime::<Utc>::UNIX_EPOCH,
            leap,
            nanos,
        ];
        for t in times {
            assert_eq!(super::instant_of_key(super::instant_key(&t)), Some(t));
        }
        let rows: Vec<Row> = times.iter().map(|&at| Row { at }).collect();
        let text = String::from_utf8(super::csv::table::<Row>(&rows)).unwrap();
        let json: Vec<String> = rows
            .iter()
            .map(|r| {
                serde_json::to_value(r).unwrap()["at"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(text, format!("at\n{}\n", json.join("\n")));
        assert_eq!(json[3], "2016-12-31T23:59:60Z");
    }
}
