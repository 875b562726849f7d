//! The one Markdown table writer of every capplan output (`compare.md`, `resilience.md`,
//! `sweep.md`): GitHub-flavoured tables of display rows, every cell's `|` escaped so a name can
//! never split a column.

/// How a column's cells line up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// The first column left-aligned (names), every other right-aligned (numbers): most tables.
pub fn names_then_numbers(columns: usize) -> Vec<Align> {
    (0..columns)
        .map(|i| if i == 0 { Align::Left } else { Align::Right })
        .collect()
}

/// A table: the header, the alignment row, one line per row; each line ends with `\n`.
pub fn table<S: AsRef<str>, C: AsRef<str>>(
    header: &[S],
    align: &[Align],
    rows: &[Vec<C>],
) -> String {
    debug_assert_eq!(header.len(), align.len(), "one alignment per column");
    let mut out = line(header);
    out.push('|');
    for a in align {
        out.push_str(match a {
            Align::Left => "---|",
            Align::Right => "---:|",
        });
    }
    out.push('\n');
    for row in rows {
        debug_assert_eq!(row.len(), header.len(), "a row has the header's width");
        out.push_str(&line(row));
    }
    out
}

fn line<S: AsRef<str>>(cells: &[S]) -> String {
    let cells: Vec<String> = cells.iter().map(|c| escape(c.as_ref())).collect();
    format!("| {} |\n", cells.join(" | "))
}

/// A cell's text with `|` escaped.
pub fn escape(cell: &str) -> String {
    cell.replace('|', "\\|")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tables_escape_pipes_and_align() {
        let t = table(
            &["name", "value"],
            &names_then_numbers(2),
            &[vec!["a|b", "1"], vec!["", "2"]],
        );
        assert_eq!(t, "| name | value |\n|---|---:|\n| a\\|b | 1 |\n|  | 2 |\n");
    }
}
