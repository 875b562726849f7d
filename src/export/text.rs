//! The one aligned-text table writer of the commands' reports on stdout (`compare`, `resilience`):
//! the first column left-aligned, every other right-aligned, two spaces apart.

/// Columns as wide as their widest cell up to `max_width` characters (a longer cell pushes its
/// own line out rather than every line); lines end without trailing spaces.
pub fn aligned<S: AsRef<str>>(header: &[S], rows: &[Vec<S>], max_width: usize) -> String {
    let widths: Vec<usize> = (0..header.len())
        .map(|i| {
            std::iter::once(&header[i])
                .chain(rows.iter().map(|r| &r[i]))
                .map(|s| s.as_ref().chars().count())
                .max()
                .unwrap_or(0)
                .min(max_width)
        })
        .collect();
    let line = |cells: &[S]| {
        let mut out = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let cell = cell.as_ref();
            let pad = " ".repeat(widths[i].saturating_sub(cell.chars().count()));
            if i == 0 {
                out.push_str(cell);
                out.push_str(&pad);
            } else {
                out.push_str("  ");
                out.push_str(&pad);
                out.push_str(cell);
            }
        }
        out.trim_end().to_string() + "\n"
    };
    let mut out = line(header);
    for r in rows {
        out.push_str(&line(r));
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn columns_line_up_and_long_cells_push_out() {
        let h = vec!["plan".to_string(), "cost".to_string()];
        let rows = vec![
            vec!["multi-cloud".to_string(), "$1".to_string()],
            vec!["x".to_string(), "$1000".to_string()],
        ];
        assert_eq!(
            super::aligned(&h, &rows, 48),
            "plan          cost\nmulti-cloud     $1\nx            $1000\n"
        );
        assert_eq!(
            super::aligned(&h, &rows, 2),
            "plan  cost\nmulti-cloud  $1\nx   $1000\n"
        );
    }
}
