//! The one workbook writer of every capplan output (`plan.xlsx`, `compare.xlsx`): sheets of text
//! and numbers under a bold header, units in the headers, for planners who live in spreadsheets.
//! The document's creation time is fixed so the same tables give the same bytes. Text longer than
//! a cell of Excel holds (32,767 characters) is clipped with a note saying so, rather than
//! written into a file Excel refuses. (A text cell is never a formula: spreadsheets get the
//! text as text.)

use rust_xlsxwriter::{DocProperties, ExcelDateTime, Format, Workbook, XlsxError};

use crate::error::{Error, Result};

/// One cell of a sheet.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Text(String),
    /// A number in Excel's general format.
    Number(f64),
    /// Dollars, whole: `$1,234,567`.
    Dollars(f64),
    /// Dollars per million tokens, to the cent: `$1.59`.
    DollarsPerMillion(f64),
    /// Tokens, tokens per minute, GPUs: `1,234,567` (the value keeps its digits; only the display
    /// rounds).
    Count(f64),
    /// A value already in percent: `35.0%` (shown with a percent sign, not multiplied by 100).
    Percent(f64),
    /// A fraction in [0, 1] to four places: `0.4172`.
    Fraction(f64),
    /// Nothing written.
    Empty,
}

impl From<&str> for Cell {
    fn from(s: &str) -> Cell {
        Cell::Text(s.to_string())
    }
}

impl From<String> for Cell {
    fn from(s: String) -> Cell {
        Cell::Text(s)
    }
}

impl From<f64> for Cell {
    fn from(v: f64) -> Cell {
        Cell::Number(v)
    }
}

impl From<Option<f64>> for Cell {
    fn from(v: Option<f64>) -> Cell {
        v.map_or(Cell::Empty, Cell::Number)
    }
}

/// A sheet: its name, the header row (bold) and the rows below it.
pub struct Sheet {
    pub name: String,
    pub header: Vec<String>,
    pub rows: Vec<Vec<Cell>>,
}

/// The most characters an Excel cell holds.
pub const CELL_CHARACTERS: usize = 32_767;

/// Text as a cell holds it: whole when it fits, else its start and a note of how long it was
/// (the CSV and JSON files carry it whole).
pub fn fitted(text: &str) -> std::borrow::Cow<'_, str> {
    let n = text.chars().count();
    if n <= CELL_CHARACTERS {
        return text.into();
    }
    let note = format!(" … [clipped: {n} characters, more than the {CELL_CHARACTERS} an Excel cell holds; the CSV files have it whole]");
    let keep = CELL_CHARACTERS - note.chars().count();
    let mut out: String = text.chars().take(keep).collect();
    out.push_str(&note);
    out.into()
}

/// A workbook of sheets, in order, as the bytes of an xlsx file named `file` (in messages).
pub fn workbook(file: &str, sheets: &[Sheet]) -> Result<Vec<u8>> {
    let fail = |e: XlsxError| Error::Chart(format!("writing {file}: {e}"));
    let mut wb = Workbook::new();
    let created = ExcelDateTime::from_ymd(2026, 1, 1).map_err(fail)?;
    wb.set_properties(
        &DocProperties::new()
            .set_creation_datetime(&created)
            .set_author("capplan"),
    );
    let bold = Format::new().set_bold();
    let dollars = Format::new().set_num_format("\"$\"#,##0");
    let per_million = Format::new().set_num_format("\"$\"#,##0.00");
    let count = Format::new().set_num_format("#,##0");
    let percent = Format::new().set_num_format("0.0\"%\"");
    let fraction = Format::new().set_num_format("0.0000");
    // An empty sum is -0.0, which a spreadsheet shows as "-0": write 0.
    let clean = |v: f64| if v == 0.0 { 0.0 } else { v };
    for s in sheets {
        let sheet = wb.add_worksheet().set_name(&s.name).map_err(fail)?;
        for (j, h) in s.header.iter().enumerate() {
            sheet
                .write_with_format(0, j as u16, fitted(h).as_ref(), &bold)
                .map_err(fail)?;
        }
        for (i, row) in s.rows.iter().enumerate() {
            let r = 1 + i as u32;
            for (j, cell) in row.iter().enumerate() {
                match cell {
                    Cell::Text(t) => sheet.write(r, j as u16, fitted(t).as_ref()).map(|_| ()),
                    Cell::Number(v) => sheet.write_number(r, j as u16, clean(*v)).map(|_| ()),
                    Cell::Dollars(v) => sheet
                        .write_number_with_format(r, j as u16, clean(*v), &dollars)
                        .map(|_| ()),
                    Cell::DollarsPerMillion(v) => sheet
                        .write_number_with_format(r, j as u16, clean(*v), &per_million)
                        .map(|_| ()),
                    Cell::Count(v) => sheet
                        .write_number_with_format(r, j as u16, clean(*v), &count)
                        .map(|_| ()),
                    Cell::Percent(v) => sheet
                        .write_number_with_format(r, j as u16, clean(*v), &percent)
                        .map(|_| ()),
                    Cell::Fraction(v) => sheet
                        .write_number_with_format(r, j as u16, clean(*v), &fraction)
                        .map(|_| ()),
                    Cell::Empty => Ok(()),
                }
                .map_err(fail)?;
            }
        }
    }
    wb.save_to_buffer().map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_longer_than_a_cell_is_clipped_with_a_note() {
        assert_eq!(fitted("aws"), "aws");
        let exact = "é".repeat(CELL_CHARACTERS);
        assert_eq!(fitted(&exact), exact);
        let long = "x".repeat(70_000);
        let cell = fitted(&long);
        assert_eq!(cell.chars().count(), CELL_CHARACTERS);
        assert!(cell.ends_with("[clipped: 70000 characters, more than the 32767 an Excel cell holds; the CSV files have it whole]"));
        // A workbook with such a name is written (Excel would refuse a longer cell).
        let sheet = Sheet {
            name: "providers".into(),
            header: vec![long.clone()],
            rows: vec![vec![Cell::Text(long)]],
        };
        assert!(workbook("plan.xlsx", &[sheet]).is_ok());
    }
}
