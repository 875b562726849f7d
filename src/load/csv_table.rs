//! Loading stage, raw rows: reads a CSV file into cells that remember their line and column,
//! checking the header against the columns a file accepts.

use std::path::{Path, PathBuf};

use crate::error::{closest, list, Diagnostics, Error, Location, Result};

/// The columns a CSV file accepts.
pub struct Columns {
    pub required: &'static [&'static str],
    pub optional: &'static [&'static str],
}

impl Columns {
    fn accepted(&self) -> Vec<&'static str> {
        self.required
            .iter()
            .chain(self.optional.iter())
            .copied()
            .collect()
    }
}

/// A CSV file read as text: the header mapped to known columns, each data row with its line.
pub struct Table {
    pub path: PathBuf,
    /// For each accepted column name, its index in the file (None = column absent).
    index: Vec<(&'static str, Option<usize>)>,
    pub rows: Vec<RawRow>,
    /// Every kept row's cells, one after the other in one text: a file of 79k rows is two
    /// allocations instead of five a row.
    text: String,
    /// Where each cell ends in `text` (the next one starts there); row n's cells are
    /// `ends[n·width ..][..width]`.
    ends: Vec<usize>,
    width: usize,
}

/// One data row: its physical line (header = 1) and where its cells are in the table.
pub struct RawRow {
    pub line: u64,
    /// Index of the row's first cell in `Table::ends`.
    first_cell: usize,
}

/// A cell looked up by column name: its trimmed text, or None when absent or blank.
pub struct Cell<'a> {
    pub text: &'a str,
    path: &'a Path,
    line: u64,
    column: &'static str,
}

impl Cell<'_> {
    /// Where the cell is, for a message about its value: made only when there is a problem.
    pub fn location(&self) -> Location {
        Location::at(self.path, self.line, Some(self.column))
    }
}

impl Table {
    /// The cell of `column` in `row`; None when the column is absent or the cell blank.
    pub fn cell<'a>(&'a self, row: &'a RawRow, column: &'static str) -> Option<Cell<'a>> {
        let i = self.index.iter().find(|(name, _)| *name == column)?.1?;
        let text = self.cell_text(row, i)?.trim();
        if text.is_empty() {
            return None;
        }
        Some(Cell {
            text,
            path: &self.path,
            line: row.line,
            column,
        })
    }

    /// The text of the row's cell `i`, as the reader gave it.
    fn cell_text(&self, row: &RawRow, i: usize) -> Option<&str> {
        if i >= self.width {
            return None;
        }
        let at = row.first_cell + i;
        let start = if at == 0 { 0 } else { self.ends[at - 1] };
        Some(&self.text[start..self.ends[at]])
    }

    /// Whether the header has `column`.
    pub fn has_column(&self, column: &str) -> bool {
        self.index
            .iter()
            .any(|(name, i)| *name == column && i.is_some())
    }

    /// The location of a column in a row, for messages about a missing required cell.
    pub fn location(&self, row: &RawRow, column: &str) -> Location {
        Location::at(&self.path, row.line, Some(column))
    }
}

/// Reads `path`, checks its header against `columns` and returns every row. Collects every header
/// and row-shape problem of the file before failing.
pub fn read_table(path: &Path, columns: &Columns) -> Result<Table> {
    read_table_with(path, columns, None)
}

/// `read_table`, where the header must also have at least one of two optional columns
/// (capacity.csv: `capacity_tpm` or `gpus`); without either, the first is reported missing.
pub fn read_table_with(
    path: &Path,
    columns: &Columns,
    one_of: Option<[&'static str; 2]>,
) -> Result<Table> {
    let bytes = std::fs::read(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::input(Location::file(path), "file not found"),
        _ => Error::io(path, e),
    })?;
    parse_table_with(path, &bytes, columns, one_of)
}

/// Parses CSV bytes (see `read_table`); separated so tests need no files.
pub fn parse_table(path: &Path, bytes: &[u8], columns: &Columns) -> Result<Table> {
    parse_table_with(path, bytes, columns, None)
}

/// Parses CSV bytes (see `read_table_with`).
pub fn parse_table_with(
    path: &Path,
    bytes: &[u8],
    columns: &Columns,
    one_of: Option<[&'static str; 2]>,
) -> Result<Table> {
    let mut diags = Diagnostics::default();
    // A UTF-8 byte-order mark is common from spreadsheets; it is not part of the first column name.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let accepted = columns.accepted();
    let expected_header = format!("a header row with columns {}", list(&accepted));
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(Error::input(
            Location::at(path, 1, None),
            format!("the file is empty; expected {expected_header}"),
        ));
    }
    let mut lines = LineIndex::new(bytes);
    // Fields are trimmed of ASCII whitespace here, as the reader's `Trim::All` would trim them
    // but without the copy of every record it makes to do so.
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    // One record, refilled row after row.
    let mut record = csv::ByteRecord::new();
    let header = match reader.read_byte_record(&mut record) {
        Ok(true) => record.clone(),
        Err(e) => {
            return Err(Error::input(
                Location::at(path, line_of(&mut lines, &e).unwrap_or(1), None),
                csv_message(&e),
            ))
        }
        Ok(false) => {
            return Err(Error::input(
                Location::at(path, 1, None),
                format!("the file is empty; expected {expected_header}"),
            ))
        }
    };
    let header_line = header.position().map(|p| lines.line(p.byte())).unwrap_or(1);
    let mut names = Vec::with_capacity(header.len());
    for (i, raw) in header.iter().map(<[u8]>::trim_ascii).enumerate() {
        match std::str::from_utf8(raw) {
            Ok(name) => names.push(name.trim().to_string()),
            Err(_) => {
                diags.push(
                    Location::at(path, header_line, None),
                    format!(
                        "header field {} is not valid UTF-8 text; expected {expected_header}",
                        i + 1
                    ),
                );
                names.push(String::new());
            }
        }
    }
    // A spreadsheet saved in a European locale separates fields with ';': the whole header is one
    // field. Said as such rather than as an unknown column named 'period;region;…'.
    if names.len() == 1 && names[0].contains(';') {
        return Err(Error::input(
            Location::at(path, header_line, None),
            format!(
                "the header '{}' is one field: this file separates fields with ';' (a spreadsheet's CSV in a European locale); save it with ',' between fields (in LibreOffice or Excel: CSV with the field delimiter ','); expected {expected_header}",
                crate::error::clip(&names[0], 80)
            ),
        ));
    }
    // Unnamed columns at the end of the header (a spreadsheet's trailing `,`) are ignored as long
    // as their cells are empty.
    let named = names.len() - names.iter().rev().take_while(|n| n.is_empty()).count();
    let mut index: Vec<(&'static str, Option<usize>)> =
        accepted.iter().map(|c| (*c, None)).collect();
    for (i, name) in names.iter().enumerate() {
        if name.is_empty() && i >= named && named > 0 {
            continue;
        }
        if name.is_empty() {
            if names.len() > 1 || !diags.is_empty() {
                diags.push(
                    Location::at(path, header_line, None),
                    format!(
                        "header field {} is empty; expected one of {}",
                        i + 1,
                        list(&accepted)
                    ),
                );
            }
            continue;
        }
        match index.iter_mut().find(|(c, _)| c == name) {
            Some((_, Some(_))) => diags.push(
                Location::at(path, header_line, Some(name)),
                "the column appears twice in the header; expected each column once",
            ),
            Some((_, slot)) => *slot = Some(i),
            None => {
                let hint = closest(name, &accepted)
                    .map(|c| format!(" (did you mean '{c}'?)"))
                    .unwrap_or_default();
                diags.push(
                    Location::at(path, header_line, Some(name)),
                    format!(
                        "unknown column{hint}; accepted columns are {}",
                        list(&accepted)
                    ),
                );
            }
        }
    }
    for required in columns.required {
        if index.iter().any(|(c, i)| c == required && i.is_none()) {
            diags.push(
                Location::at(path, header_line, Some(required)),
                format!("required column is missing from the header; expected {expected_header}"),
            );
        }
    }
    if let Some([first, second]) = one_of {
        let absent = |name: &str| index.iter().any(|(c, i)| *c == name && i.is_none());
        if absent(first) && absent(second) {
            diags.push(
                Location::at(path, header_line, Some(first)),
                format!("required column is missing from the header (give '{first}', or '{second}'); expected {expected_header}"),
            );
        }
    }
    if !diags.is_empty() {
        return Err(Error::Input(diags.errors));
    }
    let width = names.len();
    let mut rows = Vec::new();
    let mut text = String::with_capacity(bytes.len());
    let mut ends = Vec::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                diags.push(
                    Location::at(path, line_of(&mut lines, &e).unwrap_or(0), None),
                    csv_message(&e),
                );
                // The reader cannot resynchronise after a broken record reliably; stop here.
                break;
            }
        }
        let line = record.position().map(|p| lines.line(p.byte())).unwrap_or(0);
        // A line of only spaces, or a spreadsheet's trailing `,,,`: skipped like a blank line, and
        // not a data row (default tranche names count data rows).
        if record.iter().all(|f| f.trim_ascii().is_empty()) {
            continue;
        }
        if record.len() != width {
            diags.push_grouped(
                Location::at(path, line, None),
                format!(
                    "expected {width} fields as in the header, found {}",
                    record.len()
                ),
                "field count",
            );
            continue;
        }
        if let Some(i) = (named..width).find(|&i| !record[i].trim_ascii().is_empty()) {
            diags.push_grouped(
                Location::at(path, line, None),
                format!(
                    "field {} has a value but its column has no name in the header; expected it empty, or a column name above it",
                    i + 1
                ),
                "unnamed column",
            );
            continue;
        }
        let (text_len, ends_len) = (text.len(), ends.len());
        let mut ok = true;
        for (i, raw) in record.iter().map(<[u8]>::trim_ascii).enumerate() {
            match std::str::from_utf8(raw) {
                Ok(s) => {
                    text.push_str(s);
                    ends.push(text.len());
                }
                Err(_) => {
                    diags.push_grouped(
                        Location::at(path, line, Some(names[i].as_str())),
                        "expected UTF-8 text, found bytes that are not",
                        "utf-8",
                    );
                    ok = false;
                }
            }
        }
        if ok {
            rows.push(RawRow {
                line,
                first_cell: ends_len,
            });
        } else {
            // The row is not kept: neither are its cells.
            text.truncate(text_len);
            ends.truncate(ends_len);
        }
    }
    diags.finish(Table {
        path: path.to_path_buf(),
        index,
        rows,
        text,
        ends,
        width,
    })
}

fn line_of(lines: &mut LineIndex, e: &csv::Error) -> Option<u64> {
    e.position().map(|p| lines.line(p.byte()))
}

/// Physical 1-based lines of byte offsets. (The csv crate's own line count is off with CRLF.)
/// Offsets are asked for in file order, so the newlines are counted on from the last offset
/// asked for instead of kept in a list of every line.
struct LineIndex<'a> {
    bytes: &'a [u8],
    /// The offset counted up to, and the '\n's before it.
    counted_to: usize,
    newlines_before: usize,
}

impl<'a> LineIndex<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        LineIndex {
            bytes,
            counted_to: 0,
            newlines_before: 0,
        }
    }

    fn line(&mut self, offset: u64) -> u64 {
        let mut end = (offset as usize).min(self.bytes.len());
        // With CRLF the reader may report a record as starting on the '\n' that ends the line before.
        while end < self.bytes.len() && matches!(self.bytes[end], b'\r' | b'\n') {
            end += 1;
        }
        if end < self.counted_to {
            self.counted_to = 0;
            self.newlines_before = 0;
        }
        self.newlines_before += self.bytes[self.counted_to..end]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        self.counted_to = end;
        self.newlines_before as u64 + 1
    }
}

fn csv_message(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::Utf8 { .. } => "expected UTF-8 text, found bytes that are not".to_string(),
        _ => format!("expected well-formed CSV: {e}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLS: Columns = Columns {
        required: &["a", "capacity_tpm"],
        optional: &["c"],
    };

    fn parse(text: &str) -> Result<Table> {
        parse_table(Path::new("f.csv"), text.as_bytes(), &COLS)
    }

    #[test]
    fn columns_in_any_order_and_optional_absent() {
        let t = parse("capacity_tpm,a\n1,x\n").unwrap();
        let row = &t.rows[0];
        assert_eq!(t.cell(row, "a").unwrap().text, "x");
        assert!(t.cell(row, "c").is_none());
        assert_eq!(row.line, 2);
    }

    #[test]
    fn bom_crlf_quotes_and_no_final_newline() {
        let t = parse("\u{feff}a,capacity_tpm,c\r\n\"x,y\",1,\r\nz,2,3").unwrap();
        assert_eq!(t.rows.len(), 2);
        assert_eq!(t.cell(&t.rows[0], "a").unwrap().text, "x,y");
        assert!(t.cell(&t.rows[0], "c").is_none(), "blank optional cell");
        assert_eq!(t.rows[1].line, 3);
    }

    #[test]
    fn crlf_and_multiline_cells_keep_physical_lines() {
        // The csv crate's own line count is off with CRLF; LineIndex gives physical lines.
        for (text, lines) in [
            ("a,capacity_tpm\r\n1,2\r\n3,4", [2, 3]),
            ("a,capacity_tpm\n1,2\n3,4\n", [2, 3]),
            ("a,capacity_tpm\n\"x\ny\",2\n3,4\n", [2, 4]),
            ("a,capacity_tpm\r\n\"x\r\ny\",2\r\n\r\n3,4\r\n", [2, 5]),
        ] {
            let t = parse(text).unwrap();
            let got: Vec<u64> = t.rows.iter().map(|r| r.line).collect();
            assert_eq!(got, lines, "{text:?}");
        }
    }

    #[test]
    fn all_empty_rows_are_skipped_and_not_data_rows() {
        let t = parse("a,capacity_tpm,c\nx,1,\n,,\n , ,\n\"\",,\ny,2,\n,,\n").unwrap();
        let got: Vec<(u64, &str)> = t
            .rows
            .iter()
            .map(|r| (r.line, t.cell(r, "a").unwrap().text))
            .collect();
        assert_eq!(got, [(2, "x"), (6, "y")]);
        // Skipped even when the count of commas is off: such a row holds no data either.
        assert_eq!(parse("a,capacity_tpm\nx,1\n,,,,\n").unwrap().rows.len(), 1);
    }

    #[test]
    fn unknown_column_suggests_closest_and_lists_accepted() {
        let e = parse("a,capacity_tmp\n").err().unwrap().to_string();
        assert!(
            e.contains(
                "f.csv:1: column 'capacity_tmp': unknown column (did you mean 'capacity_tpm'?)"
            ),
            "{e}"
        );
        assert!(e.contains("'a', 'capacity_tpm', 'c'"), "{e}");
        assert!(
            e.contains("column 'capacity_tpm': required column is missing"),
            "{e}"
        );
    }

    #[test]
    fn empty_file_and_duplicate_column() {
        assert!(parse("").err().unwrap().to_string().contains("empty"));
        assert!(parse("a,a,capacity_tpm\n")
            .err()
            .unwrap()
            .to_string()
            .contains("appears twice"));
    }

    #[test]
    fn wrong_field_count_names_the_line() {
        let e = parse("a,capacity_tpm\n1,2\n1,2,3\n")
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("f.csv:3: expected 2 fields as in the header, found 3"),
            "{e}"
        );
    }

    #[test]
    fn cells_are_trimmed_of_ascii_whitespace() {
        let t = parse("a,capacity_tpm\n  x\t, 1 \n\" y \",2\n").unwrap();
        let cells: Vec<&str> = t
            .rows
            .iter()
            .flat_map(|r| {
                [
                    t.cell(r, "a").unwrap().text,
                    t.cell(r, "capacity_tpm").unwrap().text,
                ]
            })
            .collect();
        assert_eq!(cells, ["x", "1", "y", "2"]);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 500,
            ..proptest::prelude::ProptestConfig::default()
        })]

        /// The rows kept and their cells are those of the csv crate's reader trimming every field.
        #[test]
        fn rows_are_the_csv_readers_trimmed_records(
            rows in proptest::collection::vec(
                ("[ab \t]{0,3}|\"[ab ,\r\n]{0,3}\"", "[ab \t]{0,3}|[ \t]*\"[a\"\"\n]{0,3}\"[ \t]*", "\n|\r\n"),
                0..12,
            ),
        ) {
            let body: String = rows.iter().map(|(a, b, end)| format!("{a},{b}{end}")).collect();
            let text = format!("a,capacity_tpm\n{body}");
            let table = match parse(&text) {
                Ok(t) => t,
                // Quotes after spaces are no CSV the reader takes whole: nothing to compare.
                Err(_) => return Ok(()),
            };
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(true)
                .flexible(true)
                .trim(csv::Trim::All)
                .from_reader(text.as_bytes());
            let want: Vec<Vec<String>> = reader
                .records()
                .map(|r| r.unwrap())
                .filter(|r| !r.iter().all(str::is_empty))
                .map(|r| r.iter().map(|f| f.trim().to_string()).collect())
                .collect();
            let got: Vec<Vec<String>> = table
                .rows
                .iter()
                .map(|r| {
                    (0..table.width)
                        .map(|i| table.cell_text(r, i).unwrap().trim().to_string())
                        .collect()
                })
                .collect();
            proptest::prop_assert_eq!(got, want);
        }
    }

    #[test]
    fn garbage_never_panics() {
        for bytes in [
            &b"\xff\xfe\x00\x01"[..],
            b"\"unterminated,a\n",
            b"\n\n\n",
            b",,,\n,,,",
        ] {
            let _ = parse_table(Path::new("f.csv"), bytes, &COLS);
        }
    }
}
