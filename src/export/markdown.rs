//! The one Markdown table writer of every capplan output (`compare.md`, `resilience.md`,
//! `sweep.md`): GitHub-flavoured tables of display rows. Every cell is made safe to render and to
//! paste: `|` escaped so a name can never split a column, `&`, `<` and `>` as HTML entities so a
//! name is never markup (`<script>`), line breaks as spaces so it never ends a row, and text a
//! spreadsheet would take for a formula behind a `'` (the CSV writer's rule,
//! `export::csv::neutralised`); numbers (`-0.5`, `-$1.2M`) are left as they are.

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
    let cells: Vec<String> = cells.iter().map(|c| cell(c.as_ref())).collect();
    format!("| {} |\n", cells.join(" | "))
}

/// A table cell: text a spreadsheet would take for a formula behind a `'`, then [`escape`]d.
pub fn cell(text: &str) -> String {
    escape(&super::csv::neutralised(text))
}

/// Text as Markdown shows it literally, in a table cell or in prose: `|` escaped, `&`, `<` and
/// `>` as HTML entities, line breaks as spaces.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '|' => out.push_str("\\|"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Text in a code span: backticks (which would end it) as `'`, line breaks as spaces; HTML in
/// a code span is shown, not rendered.
pub fn code(text: &str) -> String {
    let text: String = text
        .chars()
        .map(|c| match c {
            '`' => '\'',
            '\n' | '\r' => ' ',
            c => c,
        })
        .collect();
    format!("`{text}`")
}

/// Markdown written by this module as plain text for a terminal: [`escape`]'s entities and `\|`
/// back to the characters they show.
pub fn unescape(text: &str) -> String {
    text.replace("\\|", "|")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
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

    #[test]
    fn cells_are_never_markup_nor_formulas() {
        let t = table(
            &["plan", "=cost"],
            &names_then_numbers(2),
            &[
                vec!["<script>alert(1)</script>", "-$1.2M"],
                vec!["=HYPERLINK(\"http://x\")", "-0.5"],
                vec!["a & b\nc", "+cmd|' /C calc'!A0"],
            ],
        );
        assert_eq!(
            t,
            "| plan | '=cost |\n|---|---:|\n\
             | &lt;script&gt;alert(1)&lt;/script&gt; | -$1.2M |\n\
             | '=HYPERLINK(\"http://x\") | -0.5 |\n\
             | a &amp; b c | '+cmd\\|' /C calc'!A0 |\n"
        );
    }
}
