//! The one CSV writer of every capplan output: records built in memory field by field, byte for
//! byte as the csv crate writes them with `\n` line ends, and rows written straight from any
//! `Serialize` struct (field names are the header, floats are printed by `units::push_fixed`).
//!
//! Text that a spreadsheet would take for a formula (a name beginning with `=`, `+`, `-`, `@`, a
//! tab or a carriage return that is not a number) is written behind a `'`, as OWASP recommends
//! against CSV injection ([`neutralised`]); capplan's readers of its own files undo it
//! ([`read_cell`]), so a name reads back as it was.
//!
//! Written by hand rather than through the csv crate's serde support for speed and for the
//! formatting: an hourly year's allocation.csv has two million rows, whose numbers are printed
//! straight into the text without a `String` per cell, and capplan prints floats at 12 significant
//! digits in fixed point (except the fields marked [`crate::export::round_trip`]).

use std::borrow::{Borrow, Cow};
use std::fmt::Display;

use serde::ser::{self, Impossible, Serialize};

use crate::units::push_fixed;

/// CSV text built in memory: a field is quoted only when it holds `,`, `"`, `\r` or `\n` (quotes
/// doubled inside), a record of one empty field is `""`, and every record has the header's width.
pub struct Writer {
    text: Vec<u8>,
    header: Vec<String>,
    /// Fields of the record being written, and where it starts in `text`.
    fields: usize,
    record_start: usize,
    /// The key of the last time written and its text (`crate::export::time`).
    last_time: (i128, Vec<u8>),
    /// Struct fields whose name is not the next column are left out (`table_of`).
    only_listed: bool,
}

impl Writer {
    /// A writer whose first record is `header`, with room for about `capacity_bytes`.
    pub fn new<S: AsRef<str>>(header: &[S], capacity_bytes: usize) -> Writer {
        let mut w = Writer {
            text: Vec::with_capacity(capacity_bytes),
            header: header.iter().map(|h| h.as_ref().to_string()).collect(),
            fields: 0,
            record_start: 0,
            last_time: (i128::MIN, Vec::new()),
            only_listed: false,
        };
        for i in 0..w.header.len() {
            let name = std::mem::take(&mut w.header[i]);
            w.text(&name);
            w.header[i] = name;
        }
        w.end_record();
        w
    }

    #[inline]
    fn delimit(&mut self) {
        if self.fields > 0 {
            self.text.push(b',');
        }
        self.fields += 1;
    }

    /// A text field, behind a `'` when a spreadsheet would take it for a formula
    /// ([`neutralised`]), quoted when it must be.
    #[inline]
    pub fn text(&mut self, field: &str) {
        let field = neutralised(field);
        let field = field.as_ref();
        self.delimit();
        if needs_quotes(field.as_bytes()) {
            self.text.push(b'"');
            for (i, part) in field.split('"').enumerate() {
                if i > 0 {
                    self.text.extend_from_slice(b"\"\"");
                }
                self.text.extend_from_slice(part.as_bytes());
            }
            self.text.push(b'"');
        } else {
            self.text.extend_from_slice(field.as_bytes());
        }
    }

    /// A number as `units::fixed` prints it (digits, `-` and `.`: never quoted).
    #[inline]
    pub fn fixed(&mut self, value: f64) {
        self.delimit();
        push_fixed(&mut self.text, value);
    }

    /// A time (`crate::export::time`, given by its key) as `units::format_time` prints it, the
    /// text of the last one reused; never quoted (digits, `-`, `:`, `T`, `Z`).
    #[inline]
    fn time(&mut self, key: i128) {
        if self.last_time.0 != key {
            let t = super::instant_of_key(key).expect("a time's key");
            self.last_time.1.clear();
            crate::units::push_time(&mut self.last_time.1, &t);
            self.last_time.0 = key;
        }
        self.delimit();
        self.text.extend_from_slice(&self.last_time.1);
    }

    /// A number that needs no quotes (an integer, a bool).
    fn bare(&mut self, field: impl Display) {
        use std::io::Write;
        self.delimit();
        write!(self.text, "{field}").expect("writing to memory");
    }

    /// One record from a row's fields, in order (see the module doc); panics on a row that is not
    /// a struct or map of plain cells, which no capplan table has.
    pub fn row<R: Serialize + ?Sized>(&mut self, row: &R) {
        row.serialize(RowSerializer { w: self })
            .unwrap_or_else(|e| panic!("a CSV row of plain cells: {e}"));
        self.end_record();
    }

    /// Ends the record; panics on a record not as wide as the header, as the csv crate refuses one.
    #[inline]
    pub fn end_record(&mut self) {
        assert_eq!(
            self.fields,
            self.header.len(),
            "a CSV record has the header's width"
        );
        if self.text.len() == self.record_start {
            // One empty field: quoted, or the line would read as no record at all.
            self.text.extend_from_slice(b"\"\"");
        }
        self.text.push(b'\n');
        self.fields = 0;
        self.record_start = self.text.len();
    }

    pub fn into_bytes(self) -> Vec<u8> {
        self.text
    }
}

/// The columns of a row type: its field names, in order.
pub fn columns<R: Serialize + Default>() -> Vec<&'static str> {
    let mut names = Vec::new();
    R::default()
        .serialize(NameSerializer { names: &mut names })
        .expect("a row type is a struct");
    names
}

/// A table as CSV: the header from the row type, one record per row. `R` is named when the rows
/// are references (`table::<AllocationRow>(&rows)`).
pub fn table<R: Serialize + Default>(rows: impl IntoIterator<Item = impl Borrow<R>>) -> Vec<u8> {
    table_with(&columns::<R>(), rows)
}

/// A table as CSV with its header given: for rows whose columns depend on the data (a sweep's
/// axes, flattened into the row).
pub fn table_with<S: AsRef<str>, R: Serialize>(
    header: &[S],
    rows: impl IntoIterator<Item = impl Borrow<R>>,
) -> Vec<u8> {
    write_table(Writer::new(header, 0), rows)
}

/// Writes every row into `w` and returns the text.
fn write_table<R: Serialize>(
    mut w: Writer,
    rows: impl IntoIterator<Item = impl Borrow<R>>,
) -> Vec<u8> {
    let rows = rows.into_iter();
    let expected = rows.size_hint().0;
    for (i, row) in rows.enumerate() {
        w.row(row.borrow());
        if i + 1 == SAMPLE && expected > SAMPLE {
            // Sized once from the first rows instead of regrown and copied through megabytes (an
            // hourly year's allocation.csv is 160 MB): rows of one table are much alike.
            let per_row = w.text.len().saturating_sub(w.header_len()) / SAMPLE;
            w.text
                .reserve((per_row + per_row / 16 + 1) * (expected - SAMPLE));
        }
    }
    w.into_bytes()
}

/// A table as CSV of some columns of a row type: `columns` lists field names in the row's order,
/// and a field not listed is left out of every record. For a file whose optional columns appear
/// only when some row has them (commitments.csv's GPU columns in a scenario written in GPUs).
pub fn table_of<R: Serialize>(
    columns: &[&str],
    rows: impl IntoIterator<Item = impl Borrow<R>>,
) -> Vec<u8> {
    let mut w = Writer::new(columns, 0);
    w.only_listed = true;
    write_table(w, rows)
}

/// Rows whose length sizes a table's text.
const SAMPLE: usize = 64;

/// A table of text records: for rows whose text is their own format (a sweep's records, which
/// a merge and `--resume` parse back cell by cell).
pub fn records<S: AsRef<str>>(
    header: &[S],
    rows: impl IntoIterator<Item = Vec<String>>,
) -> Vec<u8> {
    let mut w = Writer::new(header, 0);
    for row in rows {
        for cell in &row {
            w.text(cell);
        }
        w.end_record();
    }
    w.into_bytes()
}

impl Writer {
    /// Bytes of the header record.
    fn header_len(&self) -> usize {
        self.header.iter().map(|h| h.len() + 1).sum::<usize>()
    }
}

/// Whether a spreadsheet takes text for a formula: it begins with `=`, `@`, a tab or a carriage
/// return, or with `+` or `-` and is not a number as capplan shows numbers ([`shown_number`]).
#[inline]
pub fn formula_like(text: &str) -> bool {
    match text.as_bytes().first() {
        Some(b'=' | b'@' | b'\t' | b'\r') => true,
        Some(b'+' | b'-') => !shown_number(text),
        _ => false,
    }
}

/// A number as capplan writes or shows one, sign first: `-0.5`, `+1e-7`, `-$1.2M`, `+0.4 pp`,
/// `-12.5%`, `+3 tok/min` — after the sign an optional `$`, then a digit (or `.` and a digit),
/// then only letters, digits, spaces, `.`, `,`, `%`, `/`, and `+` or `-` right after an exponent's
/// `e`. No formula is written so (no reference, call, operator or string).
fn shown_number(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = usize::from(matches!(b.first(), Some(b'+' | b'-')));
    if b.get(i) == Some(&b'$') {
        i += 1;
    }
    let starts = match b.get(i) {
        Some(c) if c.is_ascii_digit() => true,
        Some(b'.') => b.get(i + 1).is_some_and(u8::is_ascii_digit),
        _ => false,
    };
    starts
        && (i..b.len()).all(|j| match b[j] {
            c if c.is_ascii_alphanumeric() => true,
            b' ' | b'.' | b',' | b'%' | b'/' => true,
            b'+' | b'-' => j > 0 && matches!(b[j - 1], b'e' | b'E'),
            _ => false,
        })
}

/// The text a cell is written as: text a spreadsheet would take for a formula behind a `'`; and,
/// so that [`read_cell`] gives every text back exactly, text that is already such text behind
/// `'`s behind one more.
#[inline]
pub fn neutralised(text: &str) -> Cow<'_, str> {
    if formula_like(text.trim_start_matches('\'')) {
        Cow::Owned(format!("'{text}"))
    } else {
        Cow::Borrowed(text)
    }
}

/// The text a cell of a capplan CSV stands for: [`neutralised`] undone (for capplan's readers of
/// its own files: a held plan's `commitments.csv`, a run's tables, sweep records).
#[inline]
pub fn read_cell(cell: &str) -> &str {
    match cell.strip_prefix('\'') {
        Some(rest) if formula_like(rest.trim_start_matches('\'')) => rest,
        _ => cell,
    }
}

/// Whether the csv crate quotes a field: when it holds a byte of `QUOTED`.
#[inline]
fn needs_quotes(field: &[u8]) -> bool {
    // Every such byte is at most b',' and most names have no byte that low: a pass over them
    // without a branch a byte comes first.
    if field.iter().fold(false, |low, &b| low | (b <= b',')) {
        field.iter().any(|&b| QUOTED[b as usize])
    } else {
        false
    }
}

/// The bytes that make the csv crate quote a field: delimiter, quote and line ends.
const QUOTED: [bool; 256] = {
    let mut t = [false; 256];
    t[b',' as usize] = true;
    t[b'"' as usize] = true;
    t[b'\r' as usize] = true;
    t[b'\n' as usize] = true;
    t
};

/// A float as its shortest text that parses back to the same value (never `-0`).
pub fn round_trip_text(v: f64) -> String {
    if v == 0.0 {
        "0".into()
    } else {
        format!("{v}")
    }
}

/// Why a row could not be written: it is not a flat struct of plain cells. A unit struct, so a
/// cell's `Result` costs nothing to pass back (millions of cells); what went wrong is told by the
/// panic in `Writer::row`, which only a new row type can reach.
#[derive(Debug)]
pub struct NotACell;

impl std::fmt::Display for NotACell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a CSV row is a struct (or map) of text, numbers, options and unit enums")
    }
}

impl std::error::Error for NotACell {}

impl ser::Error for NotACell {
    fn custom<T: Display>(_: T) -> NotACell {
        NotACell
    }
}

#[cold]
fn not_a_cell<T>(_what: &str) -> Result<T, NotACell> {
    Err(NotACell)
}

/// Serialises a row: a struct (or a map, for flattened fields) whose values are cells.
struct RowSerializer<'w> {
    w: &'w mut Writer,
}

impl<'w> RowSerializer<'w> {
    #[inline]
    fn cell<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), NotACell> {
        debug_assert_eq!(
            Some(key),
            self.w.header.get(self.w.fields).map(String::as_str),
            "a row's fields are the header's columns"
        );
        value.serialize(CellSerializer::new(self.w))
    }
}

impl ser::SerializeStruct for RowSerializer<'_> {
    type Ok = ();
    type Error = NotACell;
    #[inline]
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), NotACell> {
        if self.w.only_listed && self.w.header.get(self.w.fields).map(String::as_str) != Some(key) {
            return Ok(());
        }
        self.cell(key, value)
    }
    fn end(self) -> Result<(), NotACell> {
        Ok(())
    }
}

impl ser::SerializeMap for RowSerializer<'_> {
    type Ok = ();
    type Error = NotACell;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, _key: &T) -> Result<(), NotACell> {
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), NotACell> {
        value.serialize(CellSerializer::new(self.w))
    }
    fn serialize_entry<K: Serialize + ?Sized, V: Serialize + ?Sized>(
        &mut self,
        key: &K,
        value: &V,
    ) -> Result<(), NotACell> {
        let key = key.serialize(KeySerializer)?;
        self.cell(&key, value)
    }
    fn end(self) -> Result<(), NotACell> {
        Ok(())
    }
}

/// Refuses the listed methods of a serializer: values a row, a cell or a column name is not.
macro_rules! refuse {
    ($($f:ident($($t:ty),*)),* $(,)?) => {
        $(fn $f(self, $(_: $t),*) -> Result<Self::Ok, NotACell> { not_a_cell(stringify!($f)) })*
    };
}

/// Refuses sequences, tuples and enums with data, their serializers `Impossible` (of the
/// serializer's `Ok` type, given): no row, cell or column name is one.
macro_rules! refuse_compounds {
    ($ok:ty) => {
        type SerializeSeq = Impossible<$ok, NotACell>;
        type SerializeTuple = Impossible<$ok, NotACell>;
        type SerializeTupleStruct = Impossible<$ok, NotACell>;
        type SerializeTupleVariant = Impossible<$ok, NotACell>;
        type SerializeStructVariant = Impossible<$ok, NotACell>;
        fn serialize_newtype_variant<T: Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &T,
        ) -> Result<Self::Ok, NotACell> {
            not_a_cell("an enum with data")
        }
        fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, NotACell> {
            not_a_cell("a sequence")
        }
        fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NotACell> {
            not_a_cell("a tuple")
        }
        fn serialize_tuple_struct(
            self,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleStruct, NotACell> {
            not_a_cell("a tuple")
        }
        fn serialize_tuple_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeTupleVariant, NotACell> {
            not_a_cell("an enum with data")
        }
        fn serialize_struct_variant(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: usize,
        ) -> Result<Self::SerializeStructVariant, NotACell> {
            not_a_cell("an enum with data")
        }
    };
}

/// Refuses every single value but text: a row is a struct (or a map), a column name is text.
macro_rules! refuse_values_but_text {
    () => {
        refuse!(
            serialize_bool(bool),
            serialize_i8(i8),
            serialize_i16(i16),
            serialize_i32(i32),
            serialize_i64(i64),
            serialize_u8(u8),
            serialize_u16(u16),
            serialize_u32(u32),
            serialize_u64(u64),
            serialize_f32(f32),
            serialize_f64(f64),
            serialize_char(char),
            serialize_bytes(&[u8]),
            serialize_none(),
            serialize_unit(),
            serialize_unit_struct(&'static str),
            serialize_unit_variant(&'static str, u32, &'static str),
        );
        fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<Self::Ok, NotACell> {
            not_a_cell("an option")
        }
    };
}

impl<'w> ser::Serializer for RowSerializer<'w> {
    type Ok = ();
    type Error = NotACell;
    type SerializeMap = Self;
    type SerializeStruct = Self;
    refuse_compounds!(());
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, NotACell> {
        Ok(self)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self, NotACell> {
        Ok(self)
    }
    refuse_values_but_text!();
    refuse!(serialize_str(&str));
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), NotACell> {
        value.serialize(self)
    }
}

/// Serialises one cell: text, a number, a unit enum variant (its serde name), an option (empty
/// when None), a newtype (its value; capplan's marked newtypes as they ask).
struct CellSerializer<'w> {
    w: &'w mut Writer,
    mode: Mode,
}

/// How a cell's value is written, as its field is marked.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Plain,
    /// A float as its shortest round-trip text (`crate::export::round_trip`).
    RoundTrip,
    /// A time (`crate::export::time`), handed over by its key.
    Time,
}

impl<'w> CellSerializer<'w> {
    #[inline]
    fn new(w: &'w mut Writer) -> CellSerializer<'w> {
        CellSerializer {
            w,
            mode: Mode::Plain,
        }
    }
}

/// Writes the listed values as they print (bools and integers need no quotes).
macro_rules! bare {
    ($($f:ident($t:ty)),* $(,)?) => {
        $(
            #[inline]
            fn $f(self, v: $t) -> Result<(), NotACell> {
                self.w.bare(v);
                Ok(())
            }
        )*
    };
}

impl<'w> ser::Serializer for CellSerializer<'w> {
    type Ok = ();
    type Error = NotACell;
    type SerializeMap = Impossible<(), NotACell>;
    type SerializeStruct = Impossible<(), NotACell>;
    refuse_compounds!(());
    bare!(
        serialize_bool(bool),
        serialize_i8(i8),
        serialize_i16(i16),
        serialize_i32(i32),
        serialize_i64(i64),
        serialize_u8(u8),
        serialize_u16(u16),
        serialize_u32(u32),
        serialize_u64(u64),
    );
    #[inline]
    fn serialize_f32(self, v: f32) -> Result<(), NotACell> {
        self.serialize_f64(v.into())
    }
    #[inline]
    fn serialize_f64(self, v: f64) -> Result<(), NotACell> {
        if self.mode == Mode::RoundTrip {
            self.w.text(&round_trip_text(v));
        } else {
            self.w.fixed(v);
        }
        Ok(())
    }
    #[inline]
    fn serialize_char(self, v: char) -> Result<(), NotACell> {
        self.w.text(v.encode_utf8(&mut [0; 4]));
        Ok(())
    }
    #[inline]
    fn serialize_str(self, v: &str) -> Result<(), NotACell> {
        self.w.text(v);
        Ok(())
    }
    #[inline]
    fn serialize_i128(self, v: i128) -> Result<(), NotACell> {
        if self.mode == Mode::Time {
            self.w.time(v);
        } else {
            self.w.bare(v);
        }
        Ok(())
    }
    /// Compact only for a time: the writer is handed the instant and prints it itself.
    #[inline]
    fn is_human_readable(&self) -> bool {
        self.mode != Mode::Time
    }
    #[inline]
    fn serialize_bytes(self, _: &[u8]) -> Result<(), NotACell> {
        not_a_cell("bytes")
    }
    #[inline]
    fn serialize_none(self) -> Result<(), NotACell> {
        self.w.text("");
        Ok(())
    }
    #[inline]
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), NotACell> {
        value.serialize(self)
    }
    #[inline]
    fn serialize_unit(self) -> Result<(), NotACell> {
        self.w.text("");
        Ok(())
    }
    #[inline]
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), NotACell> {
        self.serialize_unit()
    }
    #[inline]
    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), NotACell> {
        self.w.text(variant);
        Ok(())
    }
    #[inline]
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &T,
    ) -> Result<(), NotACell> {
        let mode = match name {
            super::ROUND_TRIP => Mode::RoundTrip,
            super::TIME => Mode::Time,
            _ => self.mode,
        };
        value.serialize(CellSerializer { w: self.w, mode })
    }
    #[inline]
    fn collect_str<T: Display + ?Sized>(self, value: &T) -> Result<(), NotACell> {
        self.w.text(&value.to_string());
        Ok(())
    }
    #[inline]
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NotACell> {
        not_a_cell("a map")
    }
    #[inline]
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, NotACell> {
        not_a_cell("a struct")
    }
}

/// Collects a row type's field names (its columns).
struct NameSerializer<'n> {
    names: &'n mut Vec<&'static str>,
}

impl ser::SerializeStruct for NameSerializer<'_> {
    type Ok = ();
    type Error = NotACell;
    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        _: &T,
    ) -> Result<(), NotACell> {
        self.names.push(key);
        Ok(())
    }
    fn end(self) -> Result<(), NotACell> {
        Ok(())
    }
}

impl<'n> ser::Serializer for NameSerializer<'n> {
    type Ok = ();
    type Error = NotACell;
    type SerializeMap = Impossible<(), NotACell>;
    type SerializeStruct = Self;
    refuse_compounds!(());
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self, NotACell> {
        Ok(self)
    }
    refuse_values_but_text!();
    refuse!(serialize_str(&str));
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<(), NotACell> {
        value.serialize(self)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NotACell> {
        not_a_cell("a map: its columns depend on the data; give them (table_with)")
    }
}

/// A map key as text (flattened columns are named by strings).
struct KeySerializer;

impl ser::Serializer for KeySerializer {
    type Ok = String;
    type Error = NotACell;
    type SerializeMap = Impossible<String, NotACell>;
    type SerializeStruct = Impossible<String, NotACell>;
    refuse_compounds!(String);
    fn serialize_str(self, v: &str) -> Result<String, NotACell> {
        Ok(v.to_string())
    }
    refuse_values_but_text!();
    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        value: &T,
    ) -> Result<String, NotACell> {
        value.serialize(self)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NotACell> {
        not_a_cell("a map key")
    }
    fn serialize_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStruct, NotACell> {
        not_a_cell("a struct key")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The csv crate's writer as every output used it before `Writer`.
    fn csv_crate_bytes(header: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
        let mut w = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        w.write_record(header).expect("writing to memory");
        for row in rows {
            w.write_record(row).expect("writing to memory");
        }
        w.into_inner().expect("writing to memory")
    }

    fn text_rows(header: &[&str], rows: &[Vec<String>]) -> Vec<u8> {
        records(header, rows.iter().cloned())
    }

    #[test]
    fn quoting_as_the_csv_crate_quotes() {
        let rows: Vec<Vec<String>> = [
            vec!["", "a,b"],
            vec!["say \"hi\"", "line\nbreak"],
            vec!["cr\r", "\""],
            vec!["", ""],
            vec!["plain", " spaced "],
        ]
        .iter()
        .map(|r| r.iter().map(|f| f.to_string()).collect())
        .collect();
        let header = ["x", "y"];
        assert_eq!(text_rows(&header, &rows), csv_crate_bytes(&header, &rows));
        // A record of one empty field is quoted, a header of one as well.
        let one = vec![vec![String::new()], vec!["a".to_string()]];
        assert_eq!(text_rows(&[""], &one), csv_crate_bytes(&[""], &one));
    }

    #[derive(serde::Serialize, Default)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        #[default]
        ProviderLoss,
    }

    #[derive(serde::Serialize, Default)]
    struct Row<'a> {
        name: &'a str,
        kind: Kind,
        count: u64,
        value: f64,
        missing: Option<f64>,
        #[serde(serialize_with = "crate::export::round_trip")]
        exact: f64,
        #[serde(serialize_with = "crate::export::time")]
        at: chrono::DateTime<chrono::Utc>,
    }

    #[test]
    fn rows_are_written_from_their_fields() {
        assert_eq!(
            columns::<Row>(),
            ["name", "kind", "count", "value", "missing", "exact", "at"]
        );
        let at = crate::units::parse_time("2026-03-01").unwrap();
        let rows = [
            Row {
                name: "a,b",
                count: 7,
                value: 1.0 / 3.0,
                missing: Some(-0.0),
                exact: 1.0 / 3.0,
                at,
                ..Row::default()
            },
            Row::default(),
        ];
        assert_eq!(
            String::from_utf8(table::<Row>(&rows)).unwrap(),
            "name,kind,count,value,missing,exact,at\n\
             \"a,b\",provider_loss,7,0.333333333333,0,0.3333333333333333,2026-03-01T00:00:00Z\n\
             ,provider_loss,0,0,,0,1970-01-01T00:00:00Z\n"
        );
        // The round-trip mark is plain to every other format.
        assert_eq!(
            serde_json::to_value(&rows[0]).unwrap()["exact"],
            serde_json::json!(1.0 / 3.0)
        );
        // No rows: the header alone.
        assert_eq!(
            table::<Row>(Vec::<Row>::new()),
            b"name,kind,count,value,missing,exact,at\n"
        );
    }

    #[test]
    fn unlisted_fields_are_left_out() {
        let row = Row {
            name: "x",
            count: 2,
            value: 0.5,
            ..Row::default()
        };
        assert_eq!(
            String::from_utf8(table_of::<Row>(&["name", "value", "at"], [&row])).unwrap(),
            "name,value,at\nx,0.5,1970-01-01T00:00:00Z\n"
        );
    }

    #[test]
    fn flattened_columns_take_the_given_header() {
        #[derive(serde::Serialize)]
        struct Point {
            id: u64,
            #[serde(flatten)]
            params: std::collections::BTreeMap<String, String>,
            cost: f64,
        }
        let p = Point {
            id: 3,
            params: [("delay.aws".to_string(), "90d".to_string())].into(),
            cost: 2.5,
        };
        assert_eq!(
            table_with::<_, Point>(&["id", "delay.aws", "cost"], [&p]),
            b"id,delay.aws,cost\n3,90d,2.5\n"
        );
    }

    #[test]
    fn formulas_are_neutralised_and_numbers_are_not() {
        for formula in [
            "=HYPERLINK(\"http://x\",\"y\")",
            "+cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0",
            "@SUM(A1)",
            "\tx",
            "\rx",
            "-",
            "-$A$1",
            "-aws",
            "'=x",
            "''+x",
        ] {
            let written = neutralised(formula);
            assert_eq!(written, format!("'{formula}"), "{formula:?}");
            assert_eq!(read_cell(&written), formula, "{formula:?}");
        }
        for text in [
            "-0.5",
            "+1e-7",
            "-1.5E+300",
            "-$1.2M",
            "+0.4 pp",
            "-12.5%",
            "+3 tok/min",
            ".5",
            "aws",
            "",
            "'",
            "'aws",
            "a=b",
            "x-1",
            "2026-01-01T00:00:00Z",
        ] {
            assert_eq!(neutralised(text), text, "{text:?}");
            assert_eq!(read_cell(text), text, "{text:?}");
        }
        #[derive(serde::Serialize, Default)]
        struct Named<'a> {
            provider: &'a str,
            value: f64,
            note: &'a str,
        }
        let rows = [Named {
            provider: "=1+1",
            value: -0.5,
            note: "-0.5",
        }];
        assert_eq!(
            String::from_utf8(table::<Named>(&rows)).unwrap(),
            "provider,value,note\n'=1+1,-0.5,-0.5\n"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 2_000,
            ..proptest::prelude::ProptestConfig::default()
        })]

        #[test]
        fn writer_writes_the_csv_crate_bytes(
            width in 1usize..4,
            cells in proptest::collection::vec("[a-c,\"\r\n é#]{0,6}", 0..24),
        ) {
            let header: Vec<&str> = ["h1", "h,2", "h\"3"][..width].to_vec();
            let rows: Vec<Vec<String>> = cells.chunks_exact(width).map(|c| c.to_vec()).collect();
            // The csv crate's bytes of the cells as capplan writes them (a leading `\r` is
            // neutralised first).
            let as_written: Vec<Vec<String>> = rows
                .iter()
                .map(|r| r.iter().map(|c| neutralised(c).into_owned()).collect())
                .collect();
            proptest::prop_assert_eq!(text_rows(&header, &rows), csv_crate_bytes(&header, &as_written));
        }

        /// Whatever the text, a cell reads back as it was written, and never as a formula.
        #[test]
        fn a_neutralised_cell_reads_back_as_it_was(text in "['=+@\t\r$0-9a-z .,%e/|!-]{0,8}") {
            let written = neutralised(&text);
            proptest::prop_assert_eq!(read_cell(&written), text.as_str());
            proptest::prop_assert!(!formula_like(&written));
        }
    }
}
