//! Loading stage, the one TOML checker that scenario.toml and sweep files share: the `toml`
//! parser reads the text and its spans place every problem. A syntax or structure error the
//! parser finds is reported at its line and column; a key at the line where it is written (its
//! span, so dotted keys and inline tables are found too); an unknown key with the closest accepted
//! one; a native TOML date that does not exist (`2026-02-29`) at its key, saying why.

use std::path::Path;

use serde::de::DeserializeOwned;
use toml_edit::{ImDocument, Item, TableLike, Value as EditValue};

use crate::error::{list, Diagnostics, Error, Location, Result};
use crate::units::{read_time, BadValue};

/// The keys a table accepts, and the accepted keys of the tables (or arrays of tables) below it.
pub struct Schema {
    pub keys: &'static [&'static str],
    pub tables: &'static [(&'static str, &'static Schema)],
}

/// Which file a TOML text is: how its parser errors read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Scenario,
    Sweep,
}

/// A TOML file's text, for placing its spans.
#[derive(Debug, Clone, Copy)]
pub struct Doc<'a> {
    pub path: &'a Path,
    /// The text, without a byte order mark.
    pub text: &'a str,
    pub kind: FileKind,
}

impl<'a> Doc<'a> {
    pub fn new(path: &'a Path, text: &'a str, kind: FileKind) -> Doc<'a> {
        Doc {
            path,
            text: text.strip_prefix('\u{feff}').unwrap_or(text),
            kind,
        }
    }

    /// 1-based line of a byte offset.
    pub fn line(&self, offset: usize) -> u64 {
        line_at(self.text, offset)
    }

    /// 1-based character column of a byte offset within its line.
    pub fn char_column(&self, offset: usize) -> u64 {
        let end = floor_boundary(self.text, offset.min(self.text.len()));
        let start = self.text[..end].rfind('\n').map_or(0, |i| i + 1);
        self.text[start..end].chars().count() as u64 + 1
    }

    /// The line of a value (its span's start), named by its dotted key.
    pub fn at_key(&self, offset: usize, key: &str) -> Location {
        Location::at_key(self.path, self.line(offset), key)
    }

    /// The place of a parser error without a key: its line and column.
    fn at_position(&self, offset: usize) -> Location {
        Location::at(self.path, self.line(offset), None).with_char_column(self.char_column(offset))
    }

    /// The parser's error: syntax (the text is no TOML) or structure (a missing key, a value of
    /// the wrong type, in the typed pass), at its line and column.
    fn parser_error(&self, message: &str, span: Option<std::ops::Range<usize>>) -> Error {
        let location = match &span {
            Some(s) => self.at_position(s.start),
            None => Location::at(self.path, 1, None),
        };
        if self.kind == FileKind::Scenario {
            if let Some((key, offset, bad)) = span.and_then(|s| self.native_time_problem(s.start)) {
                return Error::input(self.at_key(offset, &key), bad.message);
            }
        }
        let message = message.trim().replace('\n', " ");
        let message = match (self.kind, message.starts_with("unknown field")) {
            (FileKind::Scenario, true) => {
                format!("{message} (unknown keys are errors, like unknown CSV columns)")
            }
            (FileKind::Sweep, true) => format!("{message} (unknown keys are errors)"),
            (FileKind::Scenario, _) => format!("expected valid scenario TOML: {message}"),
            (FileKind::Sweep, false) => format!("expected a valid sweep file: {message}"),
        };
        Error::input(location, message)
    }

    /// Parses the text as a document with spans; a syntax error is the error.
    pub fn document(&self) -> Result<ImDocument<&'a str>> {
        ImDocument::parse(self.text).map_err(|e| self.parser_error(e.message(), e.span()))
    }

    /// The typed pass: `T`'s structure (serde, with `Spanned` values) over the text.
    pub fn typed<T: DeserializeOwned>(&self) -> Result<T> {
        toml::from_str(self.text).map_err(|e| self.parser_error(e.message(), e.span()))
    }

    /// Every unknown key of the document at once, like unknown CSV columns: its line, its dotted
    /// name, the closest accepted key and the accepted list.
    pub fn unknown_keys(&self, doc: &ImDocument<&str>, schema: &Schema) -> Result<()> {
        let mut diags = Diagnostics::default();
        self.check_table(doc.as_table(), schema, "", &mut diags);
        diags.finish(())
    }

    fn check_table(
        &self,
        table: &dyn TableLike,
        schema: &Schema,
        section: &str,
        diags: &mut Diagnostics,
    ) {
        for (key, item) in table.iter() {
            let dotted = if section.is_empty() {
                key.to_string()
            } else {
                format!("{section}.{key}")
            };
            if !schema.keys.contains(&key) {
                let line = table
                    .key(key)
                    .and_then(|k| k.span())
                    .or_else(|| item.span())
                    .map_or(1, |s| self.line(s.start));
                let hint = crate::error::closest(key, schema.keys)
                    .map(|c| format!(" (did you mean '{c}'?)"))
                    .unwrap_or_default();
                let place = if section.is_empty() {
                    "at the top level".to_string()
                } else {
                    format!("in [{section}]")
                };
                diags.push(
                    Location::at_key(self.path, line, &dotted),
                    format!(
                        "unknown key{hint}; accepted keys {place} are {}",
                        list(schema.keys)
                    ),
                );
                continue;
            }
            let Some((_, below)) = schema.tables.iter().find(|(name, _)| *name == key) else {
                continue;
            };
            for t in tables_of(item) {
                self.check_table(t, below, &dotted, diags);
            }
        }
    }

    /// A native TOML date or time at `offset` that the parser rejects because it does not exist
    /// (`horizon_end = 2026-02-29`): its dotted key, the offset of its value and why, as for a
    /// quoted one. The key is found by the parser too: the text with the value quoted parses,
    /// and the key whose value holds the offset is the one. None for any other syntax error.
    fn native_time_problem(&self, offset: usize) -> Option<(String, usize, BadValue)> {
        let text = self.text;
        let is_time_char =
            |c: char| c.is_ascii_alphanumeric() || matches!(c, ':' | '.' | '+' | '-');
        let offset = floor_boundary(text, offset.min(text.len()));
        // Just past the last character before `offset` that is no time character (which may be
        // several bytes long: `ܗ`).
        let start = text[..offset]
            .char_indices()
            .rfind(|&(_, c)| !is_time_char(c))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let end = text[offset..]
            .find(|c: char| !is_time_char(c))
            .map_or(text.len(), |i| offset + i);
        let token = &text[start..end];
        let bad = read_time(token)
            .err()
            .filter(|b| b.kind.starts_with("time:"))?;
        let quoted = format!("{}\"{token}\"{}", &text[..start], &text[end..]);
        let doc = ImDocument::parse(quoted.as_str()).ok()?;
        let key = key_holding(doc.as_table(), "", start)?;
        Some((key, start, bad))
    }
}

/// The tables an item holds: itself (a table or an inline table), or each table of an array of
/// tables (or an array of inline tables). Anything else holds none.
fn tables_of(item: &Item) -> Vec<&dyn TableLike> {
    match item {
        Item::Table(t) => vec![t as &dyn TableLike],
        Item::ArrayOfTables(a) => a.iter().map(|t| t as &dyn TableLike).collect(),
        Item::Value(EditValue::InlineTable(t)) => vec![t as &dyn TableLike],
        Item::Value(EditValue::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_inline_table().map(|t| t as &dyn TableLike))
            .collect(),
        _ => Vec::new(),
    }
}

/// The dotted key (tables by name, without indices) whose value's span holds `offset`.
fn key_holding(table: &dyn TableLike, section: &str, offset: usize) -> Option<String> {
    for (key, item) in table.iter() {
        let dotted = if section.is_empty() {
            key.to_string()
        } else {
            format!("{section}.{key}")
        };
        // Inside a table first: a value of an (inline) table's key is named by that key.
        if let Some(found) = tables_of(item)
            .into_iter()
            .find_map(|t| key_holding(t, &dotted, offset))
        {
            return Some(found);
        }
        if let Item::Value(v) = item {
            if v.span().is_some_and(|s| s.contains(&offset)) {
                return Some(dotted);
            }
        }
    }
    None
}

/// 1-based line of a byte offset.
pub fn line_at(text: &str, offset: usize) -> u64 {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count() as u64
        + 1
}

/// The largest char boundary at or before `offset`.
fn floor_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

#[cfg(test)]
mod tests {
    use super::super::toml_file::parse_settings;
    use std::path::Path;

    fn error(text: &str) -> String {
        parse_settings(Path::new("scenario.toml"), text)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn parser_errors_name_line_and_character_column() {
        assert_eq!(
            error("name = \"x\"\nthis is not toml\n"),
            "error: scenario.toml:2:6: expected valid scenario TOML: expected `.`, `=`"
        );
        // Characters, not bytes: ü is two bytes.
        assert_eq!(
            error("name = \"üü\" junk\n"),
            "error: scenario.toml:1:13: expected valid scenario TOML: expected newline, `#`"
        );
        assert_eq!(
            error("a = 1\na = 2\n"),
            "error: scenario.toml:2:1: expected valid scenario TOML: duplicate key `a` in document root"
        );
        // Structure errors of the typed pass too.
        assert_eq!(
            error("name = \"x\"\n[[whatif.delay]]\nprovider = \"aws\"\n"),
            "error: scenario.toml:2:1: expected valid scenario TOML: missing field `days`"
        );
    }

    #[test]
    fn keys_are_found_by_their_spans_in_every_form() {
        // An inline table's unknown key, and a dotted one, at their own lines.
        assert_eq!(
            error("[whatif]\n\ndelay = [{provider = \"aws\", dayz = 3}]\n"),
            "error: scenario.toml:3: key 'whatif.delay.dayz': unknown key (did you mean 'days'?); accepted keys in [whatif.delay] are 'provider', 'region', 'days'"
        );
        assert!(error("name = \"x\"\npolicy.max_share = 1\n")
            .starts_with("error: scenario.toml:2: key 'policy.max_share': unknown key"),);
        // A native date that does not exist, inside an inline table.
        assert_eq!(
            error("[whatif]\noutage = [{provider = \"aws\", start = 2026-02-30, end = 2026-03-01}]\n"),
            "error: scenario.toml:2: key 'whatif.outage.start': expected a date YYYY-MM-DD, found '2026-02-30': February has 28 days in 2026"
        );
    }
}
