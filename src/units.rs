//! Units at the edges: parsing numbers and times as the scenario format writes them, and printing
//! them back in human units (`15.0B`, `$1.2M`, `Jan 2026`).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Minutes per hour, seconds per minute and hour, and tokens per million, named so formulas read
/// as units.
pub const MINUTES_PER_HOUR: f64 = 60.0;
pub const SECONDS_PER_MINUTE: f64 = 60.0;
pub const SECONDS_PER_HOUR: f64 = 3600.0;
pub const TOKENS_PER_MILLION: f64 = 1e6;

/// What the format accepts for a number, quoted in error messages.
pub const NUMBER_FORMS: &str = "a number such as 1200, 1.5e10 or 15B (suffixes K, M, B, T)";
/// What the format accepts for a time, quoted in error messages.
pub const TIME_FORMS: &str =
    "a time as YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS[.fff]], optionally followed by Z or an offset ±HH:MM (no suffix means UTC)";

/// Longest `[[whatif.delay]]`, days: far beyond any plan, well inside chrono's range.
pub const MAX_DELAY_DAYS: f64 = 1_000_000.0;

/// A magnitude capplan refuses to go beyond (spec, "Settled details" → Limits). The limits keep
/// the LP's coefficients within a range the solvers handle, and every product of a what-if
/// factor and a value finite.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limit {
    pub max: f64,
    /// What the number measures, as the message says it: "tokens per minute".
    pub unit: &'static str,
}

/// Tokens per minute (demand) and capacities (`capacity_tpm`).
pub const TOKENS_PER_MINUTE_LIMIT: Limit = Limit {
    max: 1e15,
    unit: "tokens per minute",
};
/// Usage prices, route costs and the two penalties, $ per million tokens.
pub const PRICE_LIMIT: Limit = Limit {
    max: 1e9,
    unit: "$ per million tokens",
};
/// `commit_cost_per_hour`, $ per hour.
pub const COMMIT_PRICE_LIMIT: Limit = Limit {
    max: 1e12,
    unit: "$ per hour",
};
/// `gpus` and `block_gpus` of capacity.csv.
pub const GPU_LIMIT: Limit = Limit {
    max: 1e9,
    unit: "GPUs",
};
/// `tokens_per_second_per_gpu` of capacity.csv and throughput.csv.
pub const THROUGHPUT_LIMIT: Limit = Limit {
    max: 1e9,
    unit: "tokens per second per GPU",
};
/// `demand_scale` and `[[whatif.price]] factor`.
pub const FACTOR_LIMIT: Limit = Limit {
    max: 1e6,
    unit: "for a what-if factor",
};

impl Limit {
    /// `value` when it is within the limit, else the sentence saying which limit it passes.
    pub fn check(&self, value: f64) -> Result<f64, String> {
        if value <= self.max {
            Ok(value)
        } else {
            Err(format!(
                "expected at most {}, found {value:e}",
                self.describe()
            ))
        }
    }

    /// "1e15 tokens per minute (capplan's limit)", for messages.
    pub fn describe(&self) -> String {
        format!("{:e} {} (capplan's limit)", self.max, self.unit)
    }
}

/// A value not in the format: the sentence saying what was expected, what was found and why, and
/// the kind of problem, the same whatever value was found, so a column full of one problem can be
/// reported once (`error::Diagnostic::group`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadValue {
    pub message: String,
    pub kind: String,
}

impl BadValue {
    fn new(kind: impl Into<String>, message: impl Into<String>) -> BadValue {
        BadValue {
            message: message.into(),
            kind: kind.into(),
        }
    }
}

impl std::fmt::Display for BadValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<BadValue> for String {
    fn from(b: BadValue) -> String {
        b.message
    }
}

/// Parses a non-negative finite number with an optional upper-case suffix K, M, B or T.
/// Err carries the sentence fragment saying what was wrong.
pub fn parse_number(text: &str) -> Result<f64, String> {
    read_number(text).map_err(String::from)
}

/// `parse_number` with the kind of problem (see `BadValue`).
pub fn read_number(text: &str) -> Result<f64, BadValue> {
    let t = text.trim();
    if t.is_empty() {
        return Err(BadValue::new(
            "number:empty",
            format!("expected {NUMBER_FORMS}, found an empty cell"),
        ));
    }
    let (body, multiplier) = match t.as_bytes()[t.len() - 1] {
        b'K' => (&t[..t.len() - 1], 1e3),
        b'M' => (&t[..t.len() - 1], 1e6),
        b'B' => (&t[..t.len() - 1], 1e9),
        b'T' => (&t[..t.len() - 1], 1e12),
        b'k' | b'm' | b'b' | b't' => {
            return Err(BadValue::new(
                "number:lower-case suffix",
                format!(
                    "expected {NUMBER_FORMS}, found '{t}' (suffixes are upper case: K, M, B, T)"
                ),
            ))
        }
        _ => (t, 1.0),
    };
    // Rust's f64 parser also takes "inf", "nan" and "infinity"; the format does not.
    let value: f64 = if is_plain(body) {
        body.parse()
            .map_err(|_| BadValue::new("number", format!("expected {NUMBER_FORMS}, found '{t}'")))?
    } else {
        let lower = body.to_ascii_lowercase();
        return Err(if lower.contains("nan") {
            BadValue::new("number:nan", "NaN is not a number here")
        } else if lower.contains("inf") {
            BadValue::new("number:infinite", "infinite values are not allowed")
        } else {
            let expected = format!("expected {NUMBER_FORMS}, found '{t}'");
            match spreadsheet_fix(t, false) {
                Some((hint, fixed)) => BadValue::new(
                    format!("number; {hint}"),
                    format!("{expected}; {hint}: {fixed}"),
                ),
                None => BadValue::new("number", expected),
            }
        });
    };
    let value = value * multiplier;
    if !value.is_finite() {
        return Err(BadValue::new(
            "number:too large",
            format!("'{t}' is too large (not a finite number)"),
        ));
    }
    if value < 0.0 {
        return Err(BadValue::new(
            "number:negative",
            format!("expected a non-negative number, found '{t}'"),
        ));
    }
    // -0 reads as 0 so outputs never print "-0".
    Ok(if value == 0.0 { 0.0 } else { value })
}

/// Digits, point, exponent and signs only, and something of them.
fn is_plain(body: &str) -> bool {
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
}

/// A spreadsheet's way of writing a number (`1,500,000`, `$2.40`, `USD 2.40`, `80%`, `2,40`), as
/// the hint saying what to change and the number the format takes: ("drop the currency sign",
/// "2.40"). None when the text is not a number written so.
fn spreadsheet_fix(t: &str, fraction: bool) -> Option<(String, String)> {
    let mut drops: Vec<&str> = Vec::new();
    let mut rest = t;
    for sign in ["US$", "$", "€", "£", "¥"] {
        if let Some(r) = rest.strip_prefix(sign).or_else(|| rest.strip_suffix(sign)) {
            drops.push("currency sign");
            rest = r.trim();
            break;
        }
    }
    if drops.is_empty() {
        for code in ["USD", "EUR", "GBP", "JPY"] {
            if let Some(r) = rest.strip_prefix(code).or_else(|| rest.strip_suffix(code)) {
                drops.push("currency code");
                rest = r.trim();
                break;
            }
        }
    }
    let percent = rest.strip_suffix('%').map(str::trim_end);
    if let Some(r) = percent {
        rest = r;
    }
    let mut decimal_comma = false;
    let cleaned = if thousands_grouped(rest, ',') || thousands_grouped(rest, ' ') {
        drops.push("thousands separators");
        rest.replace([',', ' '], "")
    } else if rest.matches(',').count() == 1 && is_plain(&rest.replace(',', "")) {
        decimal_comma = true;
        rest.replace(',', ".")
    } else {
        rest.to_string()
    };
    if drops.is_empty() && !decimal_comma && percent.is_none() {
        return None;
    }
    // Each fix makes the text shorter or plain, so this recursion ends.
    let value = read_number(&cleaned).ok()?;
    let as_fraction = percent.is_some() && fraction && (0.0..=100.0).contains(&value);
    if percent.is_some() && !fraction {
        drops.push("percent sign");
    }
    let mut hints = Vec::new();
    if let Some((last, first)) = drops.split_last() {
        let mut what = first.join(", the ");
        if !first.is_empty() {
            what.push_str(" and the ");
        }
        what.push_str(last);
        hints.push(format!("drop the {what}"));
    }
    if decimal_comma {
        hints.push("write the decimal comma as a point".to_string());
    }
    if as_fraction {
        hints.push("write fractions as decimals".to_string());
    } else if percent.is_some() && fraction {
        // 150% is no fraction however written: no hint to write it as 1.5.
        return None;
    }
    let fixed_text = if as_fraction {
        fixed(value / 100.0)
    } else {
        cleaned
    };
    (!hints.is_empty()).then(|| (hints.join(", "), fixed_text))
}

/// `1,500,000` or `1 500 000` (optionally with decimals and a suffix): digits grouped by three.
fn thousands_grouped(t: &str, separator: char) -> bool {
    let int = t
        .split(['.', 'e', 'E', 'K', 'M', 'B', 'T'])
        .next()
        .unwrap_or("");
    let mut groups = int.split(separator);
    let first = groups.next().unwrap_or("");
    let mut rest = groups.peekable();
    rest.peek().is_some()
        && (1..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_digit())
        && rest.all(|g| g.len() == 3 && g.bytes().all(|b| b.is_ascii_digit()))
}

/// Parses a fraction in [0, 1].
pub fn parse_fraction(text: &str) -> Result<f64, String> {
    read_fraction(text).map_err(String::from)
}

/// `parse_fraction` with the kind of problem (see `BadValue`). `80%` is an error with the hint
/// to write 0.8.
pub fn read_fraction(text: &str) -> Result<f64, BadValue> {
    let t = text.trim();
    let expected = format!("expected a fraction in [0, 1], found '{t}'");
    if t.ends_with('%') {
        return Err(match spreadsheet_fix(t, true) {
            Some((hint, fixed)) => BadValue::new(
                format!("fraction; {hint}"),
                format!("{expected}; {hint}: {fixed}"),
            ),
            None => BadValue::new("fraction", expected),
        });
    }
    let v = read_number(text)?;
    check_fraction(v).map_err(|_| BadValue::new("fraction", expected))
}

pub fn check_fraction(v: f64) -> Result<f64, String> {
    if (0.0..=1.0).contains(&v) {
        Ok(v)
    } else {
        Err(format!("expected a fraction in [0, 1], found {v}"))
    }
}

/// Parses a non-negative number (see `parse_number`) no larger than `limit`.
pub fn parse_limited(text: &str, limit: Limit) -> Result<f64, String> {
    read_limited(text, limit).map_err(String::from)
}

/// `parse_limited` with the kind of problem (see `BadValue`).
pub fn read_limited(text: &str, limit: Limit) -> Result<f64, BadValue> {
    let v = read_number(text)?;
    limit.check(v).map_err(|m| BadValue::new("limit", m))
}

/// A positive whole number no larger than `limit` (`gpus`, `block_gpus`): `what` names it in the
/// message ("GPUs", "GPUs per block").
pub fn read_whole(text: &str, limit: Limit, what: &str) -> Result<u64, BadValue> {
    let v = read_limited(text, limit)?;
    if v < 1.0 || v.fract() != 0.0 {
        return Err(BadValue::new(
            "whole",
            format!(
                "expected a positive whole number of {what}, found '{}'",
                text.trim()
            ),
        ));
    }
    Ok(v as u64)
}

/// A positive number no larger than `limit` (`tokens_per_second_per_gpu`, where 0 would make
/// the price per token infinite).
pub fn read_positive(text: &str, limit: Limit) -> Result<f64, BadValue> {
    let v = read_limited(text, limit)?;
    if v <= 0.0 {
        return Err(BadValue::new(
            "positive",
            format!(
                "expected a positive number of {}, found '{}'",
                limit.unit,
                text.trim()
            ),
        ));
    }
    Ok(v)
}

/// What a `max_delay` may be, quoted in error messages.
pub const MAX_DELAY_FORMS: &str =
    "a duration: 0, or a number and one unit m, h, d or w (minutes, hours, days of 24 h, weeks) such as 90m, 36h, 2d or 1w";

/// Minutes in one of a duration's units.
fn minutes_per_unit(unit: &str) -> Option<f64> {
    match unit {
        "m" => Some(1.0),
        "h" => Some(60.0),
        "d" => Some(1440.0),
        "w" => Some(10080.0),
        _ => None,
    }
}

/// A duration (`max_delay`) in minutes: `0`, or a number (decimals allowed, no suffix, no
/// exponent) and one lower-case unit `m`, `h`, `d` or `w`. A number without a unit, an upper-case
/// unit or a unit in words (`24`, `2D`, `24 hours`) is an error whose hint writes the duration in
/// the format; so is a negative one. At most `MAX_DELAY_DAYS` days.
pub fn read_duration_minutes(text: &str) -> Result<f64, BadValue> {
    let t = text.trim();
    if t == "0" {
        return Ok(0.0);
    }
    let expected = format!("expected {MAX_DELAY_FORMS}, found '{t}'");
    if t.starts_with('-') {
        return Err(BadValue::new(
            "duration:negative",
            format!("{expected}: a duration is not negative"),
        ));
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let amount = (number.bytes().any(|b| b.is_ascii_digit()) && number.matches('.').count() <= 1)
        .then(|| number.parse::<f64>().ok())
        .flatten();
    let Some(amount) = amount else {
        return Err(BadValue::new("duration", expected));
    };
    if unit.is_empty() && amount == 0.0 {
        return Ok(0.0);
    }
    let Some(per_unit) = minutes_per_unit(unit) else {
        let hint = duration_hint(number, unit);
        return Err(BadValue::new(
            format!("duration{}", hint.as_deref().unwrap_or("")),
            format!("{expected}{}", hint.unwrap_or_default()),
        ));
    };
    let minutes = amount * per_unit;
    if minutes > MAX_DELAY_DAYS * 1440.0 {
        return Err(BadValue::new(
            "duration:limit",
            format!("expected a duration of at most {MAX_DELAY_DAYS} days (capplan's limit), found '{t}'"),
        ));
    }
    Ok(minutes)
}

/// The hint for a duration whose unit is missing or not in the format: "; add a unit: …",
/// "; units are lower case: 2d", "; write the unit as one letter: 24h".
fn duration_hint(number: &str, unit: &str) -> Option<String> {
    let written = unit.trim();
    if written.is_empty() {
        return Some(format!(
            "; add a unit: {number}m, {number}h, {number}d or {number}w"
        ));
    }
    let letter = match written.to_ascii_lowercase().as_str() {
        "m" | "min" | "mins" | "minute" | "minutes" => "m",
        "h" | "hr" | "hrs" | "hour" | "hours" => "h",
        "d" | "day" | "days" => "d",
        "w" | "wk" | "wks" | "week" | "weeks" => "w",
        _ => return None,
    };
    if written == letter {
        Some(format!(
            "; write the unit right after the number: {number}{letter}"
        ))
    } else if written.len() == 1 {
        Some(format!("; units are lower case: {number}{letter}"))
    } else {
        Some(format!("; write the unit as one letter: {number}{letter}"))
    }
}

/// A duration in minutes as the format writes it, in the largest unit that divides it: `0`,
/// `1w`, `2d`, `36h`, `90m`.
pub fn format_duration(minutes: f64) -> String {
    if minutes == 0.0 {
        return "0".to_string();
    }
    for (unit, per) in [("w", 10080.0), ("d", 1440.0), ("h", 60.0)] {
        if (minutes / per).fract() == 0.0 {
            return format!("{}{unit}", fixed(minutes / per));
        }
    }
    format!("{}m", fixed(minutes))
}

/// Parses `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS[.fff]]`, the latter optionally followed by `Z` or
/// an offset `±HH:MM` (none means UTC), as an instant.
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    read_time(text).map_err(String::from)
}

/// `parse_time` with the kind of problem (see `BadValue`): a value in one of the forms whose
/// month, day, hour, minute or offset does not exist says which.
pub fn read_time(text: &str) -> Result<DateTime<Utc>, BadValue> {
    let t = text.trim();
    match plain_time(t) {
        Some(time) => Ok(time),
        None => read_time_by_forms(t),
    }
}

/// The forms nearly every file writes — `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM` and
/// `YYYY-MM-DDTHH:MM:SS`, each time with or without `Z` — read field by field: chrono's format
/// parsing, tried form by form, costs microseconds a cell and an hourly year has 79k. None for
/// anything else, and for fields out of range, which `read_time_by_forms` reads or explains (the
/// same instant either way, tested).
fn plain_time(t: &str) -> Option<DateTime<Utc>> {
    let b = t.as_bytes();
    let digits = |at: usize, n: usize| -> Option<u32> {
        let field = b.get(at..at + n)?;
        field.iter().try_fold(0u32, |v, &c| {
            c.is_ascii_digit().then(|| v * 10 + u32::from(c - b'0'))
        })
    };
    // Some(whether there are seconds) when a time follows the date.
    let time = match b.len() {
        10 => None,
        16 | 17 => Some(false),
        19 | 20 => Some(true),
        _ => return None,
    };
    if b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let date = NaiveDate::from_ymd_opt(digits(0, 4)? as i32, digits(5, 2)?, digits(8, 2)?)?;
    let Some(with_seconds) = time else {
        return Some(
            date.and_hms_opt(0, 0, 0)
                .expect("midnight exists")
                .and_utc(),
        );
    };
    let end = if with_seconds { 19 } else { 16 };
    // Only `Z` may follow; a `T` must separate date and time.
    if b[10] != b'T' || b[13] != b':' || !matches!(&b[end..], b"" | b"Z") {
        return None;
    }
    let second = if with_seconds {
        if b[16] != b':' {
            return None;
        }
        digits(17, 2)?
    } else {
        0
    };
    // Second 60 (a leap second) is left to chrono.
    let time = date.and_hms_opt(digits(11, 2)?, digits(14, 2)?, second)?;
    Some(time.and_utc())
}

/// `read_time` by chrono's parsers, one accepted form after the other.
fn read_time_by_forms(t: &str) -> Result<DateTime<Utc>, BadValue> {
    if let Ok(d) = NaiveDate::parse_from_str(t, "%Y-%m-%d") {
        if t.len() == 10 {
            return Ok(d.and_hms_opt(0, 0, 0).expect("midnight exists").and_utc());
        }
    }
    // RFC 3339 (below) requires seconds; the format also takes `Z` or an offset after HH:MM.
    if let Some(body) = t.strip_suffix('Z') {
        if let Ok(dt) = NaiveDateTime::parse_from_str(body, "%Y-%m-%dT%H:%M") {
            return Ok(dt.and_utc());
        }
    }
    // chrono's `%:z` also reads `+0000`; the format's offset is `±HH:MM` exactly.
    let b = t.as_bytes();
    let colon_offset =
        b.len() > 6 && matches!(b[b.len() - 6], b'+' | b'-') && b[b.len() - 3] == b':';
    if colon_offset {
        if let Ok(dt) = DateTime::parse_from_str(t, "%Y-%m-%dT%H:%M%:z") {
            return Ok(dt.with_timezone(&Utc));
        }
    }
    for form in [
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%dT%H:%M",
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
    ] {
        if let Ok(dt) = NaiveDateTime::parse_from_str(t, form) {
            return Ok(dt.and_utc());
        }
    }
    if let Ok(dt) = DateTime::parse_from_rfc3339(t) {
        return Ok(dt.with_timezone(&Utc));
    }
    Err(time_problem(t).unwrap_or_else(|| {
        let hint = time_hint(t).map(|h| format!("; {h}")).unwrap_or_default();
        BadValue::new("time", format!("expected {TIME_FORMS}, found '{t}'{hint}"))
    }))
}

/// A suggested value for a date written in a common other form: unpadded fields (`2026-1-1`),
/// a month alone (`2026-03`), slashes (`2026/03/01`, `01/02/2026`: day and month are ambiguous,
/// so both readings are offered).
fn time_hint(t: &str) -> Option<String> {
    let (day_part, rest) = match t.find(['T', ' ']) {
        Some(i) => (&t[..i], &t[i..]),
        None => (t, ""),
    };
    // A reading of the date, kept only when it parses with the rest and says something new.
    let reading = |y: &str, m: &str, d: &str| {
        let date = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?;
        let text = format!("{}{rest}", date.format("%Y-%m-%d"));
        (text != t && read_time(&text).is_ok()).then_some(text)
    };
    let fields: Vec<&str> = day_part.split(['-', '/', '.']).collect();
    let numeric = |f: &&str| !f.is_empty() && f.len() <= 4 && f.bytes().all(|b| b.is_ascii_digit());
    if !fields.iter().all(numeric) {
        return None;
    }
    match fields[..] {
        [y, m] if y.len() == 4 && rest.is_empty() => reading(y, m, "1")
            .map(|d| format!("a month is written as its first day: did you mean {d}?")),
        [y, m, d] if y.len() == 4 => reading(y, m, d).map(|d| format!("did you mean {d}?")),
        [a, b, y] if y.len() == 4 => match (reading(y, b, a), reading(y, a, b)) {
            (Some(dm), Some(md)) if dm != md => Some(format!(
                "write dates year first: {dm} if it is day/month/year, {md} if month/day/year"
            )),
            (Some(one), _) | (None, Some(one)) => Some(format!("did you mean {one}?")),
            (None, None) => None,
        },
        _ => None,
    }
}

/// A time written in one of the forms whose fields do not exist: which field, and why.
/// None when the text is not in one of the forms at all.
fn time_problem(t: &str) -> Option<BadValue> {
    let fields = TimeFields::split(t)?;
    let (what, form) = if fields.time.is_none() {
        ("a date", "YYYY-MM-DD".to_string())
    } else {
        ("a time", fields.form())
    };
    let why = |kind: String, reason: String| {
        BadValue::new(
            format!("time:{kind}"),
            format!("expected {what} {form}, found '{t}': {reason}"),
        )
    };
    let (y, m, d) = fields.date;
    if !(1..=12).contains(&m) {
        return Some(why("month".into(), format!("month {m} does not exist")));
    }
    if d == 0 {
        return Some(why("day 0".into(), "day 0 does not exist".into()));
    }
    let month = MONTHS[m as usize - 1];
    let leap = NaiveDate::from_ymd_opt(y as i32, 2, 29).is_some();
    let days = match m {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if d > days {
        return Some(match (m, d) {
            (2, 29) => why(
                "not a leap year".into(),
                format!("{y} is not a leap year (February has 28 days)"),
            ),
            (2, _) => why(
                format!("days of February in {days}"),
                format!("February has {days} days in {y}"),
            ),
            _ => why(
                format!("days of {month}"),
                format!("{month} has {days} days"),
            ),
        });
    }
    if let Some((h, min, s)) = fields.time {
        if h == 24 && min == 0 && s.unwrap_or(0) == 0 {
            let next = NaiveDate::from_ymd_opt(y as i32, m, d)?.succ_opt()?;
            return Some(why(
                "hour 24".into(),
                format!(
                    "hour 24 does not exist (hours run from 00 to 23); midnight at the end of the day is {}T00:00",
                    next.format("%Y-%m-%d")
                ),
            ));
        }
        if h > 23 {
            return Some(why(
                "hour".into(),
                format!("hour {h} does not exist (hours run from 00 to 23)"),
            ));
        }
        if min > 59 {
            return Some(why(
                "minute".into(),
                format!("minute {min} does not exist (minutes run from 00 to 59)"),
            ));
        }
        if let Some(s) = s.filter(|&s| s > 60) {
            return Some(why(
                "second".into(),
                format!("second {s} does not exist (seconds run from 00 to 59)"),
            ));
        }
    }
    if let Some(Some((sign, oh, om))) = fields.offset {
        if oh > 23 || om > 59 {
            return Some(why(
                "offset".into(),
                format!(
                    "offset {sign}{oh:02}:{om:02} is out of range (offsets run from -23:59 to +23:59)"
                ),
            ));
        }
    }
    None
}

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// The fields of a text in one of the time forms, read by position without checking their ranges.
struct TimeFields<'a> {
    date: (u32, u32, u32),
    /// Hour, minute and second when a time is written.
    time: Option<(u32, u32, Option<u32>)>,
    /// The separator between date and time (`T` or a space) and the fraction of a second.
    separator: char,
    fraction: Option<&'a str>,
    /// `Some(None)` for `Z`, `Some(Some(sign, hours, minutes))` for an offset.
    offset: Option<Option<(char, u32, u32)>>,
}

impl<'a> TimeFields<'a> {
    fn split(t: &'a str) -> Option<TimeFields<'a>> {
        let digits = |s: &str, n: usize| {
            (s.len() == n && s.bytes().all(|b| b.is_ascii_digit()))
                .then(|| s.parse::<u32>().ok())?
        };
        let date = t.get(..10)?;
        let (y, m, d) = (
            digits(date.get(..4)?, 4)?,
            digits(date.get(5..7)?, 2)?,
            digits(date.get(8..10)?, 2)?,
        );
        if &date[4..5] != "-" || &date[7..8] != "-" {
            return None;
        }
        let mut fields = TimeFields {
            date: (y, m, d),
            time: None,
            separator: 'T',
            fraction: None,
            offset: None,
        };
        let mut rest = &t[10..];
        if rest.is_empty() {
            return Some(fields);
        }
        fields.separator = rest.chars().next().filter(|c| matches!(c, 'T' | ' '))?;
        rest = &rest[1..];
        let h = digits(rest.get(..2)?, 2)?;
        if rest.get(2..3)? != ":" {
            return None;
        }
        let min = digits(rest.get(3..5)?, 2)?;
        rest = &rest[5..];
        let mut s = None;
        if let Some(r) = rest.strip_prefix(':') {
            s = Some(digits(r.get(..2)?, 2)?);
            rest = &r[2..];
            if let Some(r) = rest.strip_prefix('.') {
                let n = r.bytes().take_while(u8::is_ascii_digit).count();
                if n == 0 {
                    return None;
                }
                fields.fraction = Some(&r[..n]);
                rest = &r[n..];
            }
        }
        fields.time = Some((h, min, s));
        if rest.is_empty() {
            return Some(fields);
        }
        if fields.separator != 'T' {
            return None;
        }
        if rest == "Z" {
            fields.offset = Some(None);
            return Some(fields);
        }
        let sign = rest.chars().next().filter(|c| matches!(c, '+' | '-'))?;
        let (oh, om) = (digits(rest.get(1..3)?, 2)?, digits(rest.get(4..6)?, 2)?);
        if rest.get(3..4)? != ":" || rest.len() != 6 {
            return None;
        }
        fields.offset = Some(Some((sign, oh, om)));
        Some(fields)
    }

    /// The form as written, for the message: `YYYY-MM-DDTHH:MM:SS±HH:MM`.
    fn form(&self) -> String {
        let mut f = format!("YYYY-MM-DD{}HH:MM", self.separator);
        if let Some((_, _, Some(_))) = self.time {
            f.push_str(":SS");
        }
        if self.fraction.is_some() {
            f.push_str(".fff");
        }
        match self.offset {
            Some(None) => f.push('Z'),
            Some(Some(_)) => f.push_str("±HH:MM"),
            None => {}
        }
        f
    }
}

/// An instant as the outputs write it: `2026-01-01T00:00:00Z`.
pub fn format_time(t: &DateTime<Utc>) -> String {
    let mut s = Vec::with_capacity(20);
    push_time(&mut s, t);
    String::from_utf8(s).expect("times are ASCII")
}

/// `format_time(t)` appended to `out`: the fields are written directly for years 0 to 9999 (what
/// chrono's `%Y` pads to four digits), the rest, and leap seconds, through chrono's format.
pub fn push_time(out: &mut Vec<u8>, t: &DateTime<Utc>) {
    use chrono::{Datelike, Timelike};
    let year = t.year();
    if !(0..=9999).contains(&year) || t.nanosecond() >= 1_000_000_000 {
        use std::io::Write;
        write!(out, "{}", t.format("%Y-%m-%dT%H:%M:%SZ")).expect("writing to memory");
        return;
    }
    let year = year as u32;
    let [y0, y1] = two_digits(year / 100);
    let [y2, y3] = two_digits(year % 100);
    let [m0, m1] = two_digits(t.month());
    let [d0, d1] = two_digits(t.day());
    let [h0, h1] = two_digits(t.hour());
    let [i0, i1] = two_digits(t.minute());
    let [s0, s1] = two_digits(t.second());
    out.extend_from_slice(&[
        y0, y1, y2, y3, b'-', m0, m1, b'-', d0, d1, b'T', h0, h1, b':', i0, i1, b':', s0, s1, b'Z',
    ]);
}

/// The two digits of `n < 100`.
fn two_digits(n: u32) -> [u8; 2] {
    let at = 2 * n as usize;
    [DIGIT_PAIRS[at], DIGIT_PAIRS[at + 1]]
}

/// "00" to "99" one after the other: numbers are printed two digits at a time.
const DIGIT_PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// A short label for reports: the date alone at midnight, else date and time.
pub fn short_time(t: &DateTime<Utc>) -> String {
    if t.format("%H:%M:%S").to_string() == "00:00:00" {
        t.format("%Y-%m-%d").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M").to_string()
    }
}

/// A month label for reports and charts: `2026-03`.
pub fn month_label(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m").to_string()
}

/// A period label for reports: `2026-03` for a month-long period starting on the 1st at midnight,
/// else the start time (`2026-03-04` or `2026-03-04 06:00`).
pub fn period_label(start: &DateTime<Utc>, minutes: f64) -> String {
    if minutes >= 28.0 * 1440.0 && start.format("%d %H:%M:%S").to_string() == "01 00:00:00" {
        month_label(start)
    } else {
        short_time(start)
    }
}

/// A count in human units: `950`, `12.3K`, `15.0B`, `1.2T`, `29.3Q` (quadrillion).
pub fn human(value: f64) -> String {
    // An empty f64 sum is -0.0: never print "-0".
    let value = if value == 0.0 { 0.0 } else { value };
    let (scale, suffix) = scale_of(value);
    if scale == 1.0 {
        return format!("{}", round_to(value, 1));
    }
    format!("{:.1}{suffix}", value / scale)
}

/// A whole number with thousands separators, as procurement writes GPU counts: `4,096`; a value
/// with a fraction (a relaxed plan's) keeps two decimals: `4,095.38`.
pub fn grouped(value: f64) -> String {
    let cents = (value.abs() * 100.0).round() as u128;
    let digits = (cents / 100).to_string();
    let mut out = String::new();
    if value < 0.0 && cents > 0 {
        out.push('-');
    }
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    if !cents.is_multiple_of(100) {
        out.push_str(&format!(".{:02}", cents % 100));
    }
    out
}

/// The one rule of human units, shared by stdout, Markdown and charts: the largest of thousand
/// (K), million (M), billion (B), trillion (T) and quadrillion (written out: "Q" reads as
/// "quarter" or "quintillion" to too many planners) that fits the value.
pub fn scale_of(value: f64) -> (f64, &'static str) {
    const SCALES: [(f64, &str); 5] = [
        (1e15, " quadrillion"),
        (1e12, "T"),
        (1e9, "B"),
        (1e6, "M"),
        (1e3, "K"),
    ];
    let a = value.abs();
    SCALES
        .iter()
        .find(|(scale, _)| a >= *scale)
        .copied()
        .unwrap_or((1.0, ""))
}

/// Dollars in human units: `$950`, `$12.3K`, `$1.2M`, `$3.4B`.
pub fn human_dollars(value: f64) -> String {
    if value < 0.0 {
        format!("-${}", human(-value))
    } else {
        format!("${}", human(value))
    }
}

/// A number to three significant figures in human units, for chart labels and subtitles:
/// `1.23M`, `950`, `45.6K`.
pub fn three_figures(v: f64) -> String {
    let (scale, suffix) = scale_of(v.abs());
    let scaled = v / scale;
    let decimals = match scaled.abs() {
        _ if suffix.is_empty() => 0,
        a if a >= 100.0 => 0,
        a if a >= 10.0 => 1,
        _ => 2,
    };
    scaled_number(v, scale, suffix, decimals)
}

/// Dollars to three significant figures: `$1.23M`, `$950`.
pub fn three_figure_dollars(v: f64) -> String {
    format!("${}", three_figures(v))
}

/// A change in dollars with its sign: `+$1.23M`, `−$950`, `±$0`.
pub fn signed_dollars(v: f64) -> String {
    let text = three_figure_dollars(v.abs());
    signed(v, &text, text == "$0" || text == "$0.00")
}

/// `text`, a magnitude, with the sign of `v`: `±` when it reads as zero, else `+` or `−`.
pub fn signed(v: f64, text: &str, zero: bool) -> String {
    let sign = match v {
        _ if zero => "\u{b1}",
        v if v > 0.0 => "+",
        _ => "\u{2212}",
    };
    format!("{sign}{text}")
}

/// `v / scale` with `decimals` and the suffix; in scientific notation when even the largest
/// suffix leaves more than six digits (so an absurd value cannot make a label of 300 digits).
pub fn scaled_number(v: f64, scale: f64, suffix: &str, decimals: usize) -> String {
    match (v / scale).abs() >= 1e6 {
        true => format!("{v:.2e}"),
        false => format!("{:.*}{suffix}", decimals, v / scale),
    }
}

fn round_to(v: f64, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    (v * p).round() / p
}

/// Formats a float for CSV/JSON outputs: fixed, shortest round-trip, never `-0`, never exponent noise
/// from the solver (values are cleaned before they get here).
pub fn fixed(value: f64) -> String {
    let mut s = Vec::new();
    push_fixed(&mut s, value);
    String::from_utf8(s).expect("numbers are ASCII")
}

/// `fixed(value)` appended to `out`. The digits come from exact integer arithmetic on the float's
/// bits instead of the formatter (an hourly year writes millions of numbers); any value whose
/// scaled digits do not fit in 64 bits is formatted the old way, so the text is the same for every
/// f64 (tested against `fixed_by_format`).
pub fn push_fixed(out: &mut Vec<u8>, value: f64) {
    if value == 0.0 || !value.is_finite() {
        out.push(b'0');
        return;
    }
    // 12 significant digits: far above planning precision, far below solver noise.
    let exponent = decimal_exponent(value.abs());
    let digits = 12 - 1 - exponent;
    let (scaled, decimals) = if digits > 0 {
        let decimals = digits.min(15) as u32;
        (scaled_to_integer(value.abs(), decimals), decimals)
    } else {
        let rounded = round_sig_at(value, 12, exponent);
        (scaled_to_integer(rounded.abs(), 0), 0)
    };
    let Some(scaled) = scaled else {
        out.extend_from_slice(fixed_by_format(value).as_bytes());
        return;
    };
    // Rounded to nothing: `0.000…` and `-0.000…` both print "0".
    if scaled == 0 {
        out.push(b'0');
        return;
    }
    // Put together on the stack right to left, the decimals peeled off `scaled` first, and
    // appended at once: sign, at most 20 integer digits, the point and at most 15 decimals.
    let mut text = [0u8; 40];
    let mut at = text.len();
    let mut n = scaled;
    let mut decimals = decimals;
    // Trailing zeros of the fraction are dropped, as `fixed_by_format` trims them.
    while decimals > 0 && n % 10 == 0 {
        n /= 10;
        decimals -= 1;
    }
    let has_fraction = decimals > 0;
    while decimals >= 2 {
        at -= 2;
        text[at..at + 2].copy_from_slice(&two_digits((n % 100) as u32));
        n /= 100;
        decimals -= 2;
    }
    if decimals == 1 {
        at -= 1;
        text[at] = b'0' + (n % 10) as u8;
        n /= 10;
    }
    if has_fraction {
        at -= 1;
        text[at] = b'.';
    }
    // The integer part, at least one digit.
    while n >= 100 {
        at -= 2;
        text[at..at + 2].copy_from_slice(&two_digits((n % 100) as u32));
        n /= 100;
    }
    if n >= 10 {
        at -= 2;
        text[at..at + 2].copy_from_slice(&two_digits(n as u32));
    } else {
        at -= 1;
        text[at] = b'0' + n as u8;
    }
    if value < 0.0 {
        at -= 1;
        text[at] = b'-';
    }
    out.extend_from_slice(&text[at..]);
}

/// `floor(log10(a))` for a finite `a > 0`, exactly as `a.log10().floor()` gives it: read off a
/// table of powers of ten, except within a relative 1e-9 of a power, where log10's last bit
/// decides and it is asked (no libm is off by anything near 1e-9 there).
fn decimal_exponent(a: f64) -> i32 {
    const POWERS: [f64; 42] = [
        1e-20, 1e-19, 1e-18, 1e-17, 1e-16, 1e-15, 1e-14, 1e-13, 1e-12, 1e-11, 1e-10, 1e-9, 1e-8,
        1e-7, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9,
        1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21,
    ];
    const MARGIN: f64 = 1e-9;
    // From 1e-19: down to there e·log10 2 stays at or above -20, the table's first power.
    if a > POWERS[1] && a < POWERS[POWERS.len() - 1] {
        // a ∈ [2^e, 2^(e+1)), so floor(log10 a) is floor(e·log10 2) or one more
        // (78913 / 2^18 is log10 2 to 6 digits, exact for floor over |e| < 1700).
        let e = ((a.to_bits() >> 52) & 0x7ff) as i32 - 1023;
        let guess = ((e * 78913) >> 18) + 20;
        let k = guess as usize + usize::from(a >= POWERS[guess as usize + 1]);
        if a > POWERS[k] * (1.0 + MARGIN) && a < POWERS[k + 1] * (1.0 - MARGIN) {
            return k as i32 - 20;
        }
    }
    a.log10().floor() as i32
}

/// 5^d for the at most 15 decimals `fixed` prints.
const POW5: [u64; 16] = {
    let mut t = [1u64; 16];
    let mut d = 1;
    while d < 16 {
        t[d] = t[d - 1] * 5;
        d += 1;
    }
    t
};

/// `round(a × 10^decimals)` for a finite `a > 0` and `decimals ≤ 15`, ties to even as Rust's
/// `{:.N}` rounds the float's exact binary value; None when the result passes 64 bits.
fn scaled_to_integer(a: f64, decimals: u32) -> Option<u64> {
    let bits = a.to_bits();
    let exponent = ((bits >> 52) & 0x7ff) as i32;
    let fraction = bits & ((1u64 << 52) - 1);
    // a = mantissa × 2^power exactly (subnormals have no hidden bit).
    let (mantissa, power) = if exponent == 0 {
        (fraction, -1074)
    } else {
        (fraction | (1u64 << 52), exponent - 1075)
    };
    // a × 10^d = mantissa × 5^d × 2^(power + d); mantissa × 5^15 < 2^88.
    let numerator = u128::from(mantissa) * u128::from(POW5[decimals as usize]);
    let shift = power + decimals as i32;
    let rounded = if shift >= 0 {
        if shift >= 64 || numerator.leading_zeros() < shift as u32 + 64 {
            return None;
        }
        numerator << shift
    } else {
        let right = shift.unsigned_abs();
        if right >= 128 {
            // numerator < 2^88, below half of 2^right: rounds to 0.
            0
        } else {
            let quotient = numerator >> right;
            let remainder = numerator & ((1u128 << right) - 1);
            let half = 1u128 << (right - 1);
            if remainder > half || (remainder == half && quotient & 1 == 1) {
                quotient + 1
            } else {
                quotient
            }
        }
    };
    u64::try_from(rounded).ok()
}

/// `fixed` by the formatter: the definition `push_fixed` reproduces, and its way for values
/// whose digits pass 64 bits.
fn fixed_by_format(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return "0".to_string();
    }
    let digits = 12 - 1 - value.abs().log10().floor() as i32;
    let s = if digits > 0 {
        format!("{:.*}", digits.min(15) as usize, value)
    } else {
        format!("{:.0}", round_sig(value, 12))
    };
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" {
        "0".to_string()
    } else {
        s
    }
}

fn round_sig(v: f64, sig: i32) -> f64 {
    if v == 0.0 {
        return 0.0;
    }
    round_sig_at(v, sig, v.abs().log10().floor() as i32)
}

/// `round_sig` for a value whose decimal exponent `floor(log10 |v|)` is `mag`.
fn round_sig_at(v: f64, sig: i32, mag: i32) -> f64 {
    let p = 10f64.powi(sig - 1 - mag);
    (v * p).round() / p
}

#[cfg(test)]
mod tests {
    #[test]
    fn grouped_counts_read_as_procurement_writes_them() {
        assert_eq!(super::grouped(4096.0), "4,096");
        assert_eq!(super::grouped(0.0), "0");
        assert_eq!(super::grouped(-0.0), "0");
        assert_eq!(super::grouped(999.0), "999");
        assert_eq!(super::grouped(1_234_567.0), "1,234,567");
        assert_eq!(super::grouped(4095.375), "4,095.38");
        assert_eq!(super::grouped(4095.999), "4,096");
        assert_eq!(super::grouped(-1500.0), "-1,500");
    }

    use super::*;

    #[test]
    fn common_date_mistakes_get_a_suggested_value() {
        let message = |t: &str| read_time(t).unwrap_err().message;
        assert!(message("2026-1-1").ends_with("found '2026-1-1'; did you mean 2026-01-01?"));
        assert!(message("2026-03").ends_with(
            "found '2026-03'; a month is written as its first day: did you mean 2026-03-01?"
        ));
        assert!(message("01/02/2026").ends_with(
            "found '01/02/2026'; write dates year first: 2026-02-01 if it is day/month/year, 2026-01-02 if month/day/year"
        ));
        assert!(message("25/12/2026").ends_with("did you mean 2026-12-25?"));
        assert!(message("2026/03/01").ends_with("did you mean 2026-03-01?"));
        assert!(message("soon").ends_with("found 'soon'"));
    }

    #[test]
    fn numbers_with_suffixes_and_exponents() {
        assert_eq!(parse_number("15B").unwrap(), 1.5e10);
        assert_eq!(parse_number("2.5K").unwrap(), 2500.0);
        assert_eq!(parse_number("3M").unwrap(), 3e6);
        assert_eq!(parse_number("1T").unwrap(), 1e12);
        assert_eq!(parse_number("1E5").unwrap(), 1e5);
        assert_eq!(parse_number("9.7E+08").unwrap(), 9.7e8);
        assert_eq!(parse_number(".5").unwrap(), 0.5);
        assert_eq!(parse_number(" 42 ").unwrap(), 42.0);
        assert_eq!(parse_number("-0").unwrap().to_bits(), 0f64.to_bits());
    }

    #[test]
    fn numbers_rejected() {
        assert!(parse_number("15b").unwrap_err().contains("upper case"));
        assert!(parse_number("-1").unwrap_err().contains("non-negative"));
        assert!(parse_number("NaN").unwrap_err().contains("NaN"));
        assert!(parse_number("inf").unwrap_err().contains("infinite"));
        assert!(parse_number("1e400").unwrap_err().contains("finite"));
        assert!(parse_number("abc").unwrap_err().contains("expected"));
        assert!(parse_number("").is_err());
        assert!(parse_number("1BB").is_err());
        assert!(parse_number("B").is_err());
    }

    #[test]
    fn fractions() {
        assert_eq!(parse_fraction("1").unwrap(), 1.0);
        assert!(parse_fraction("1.5").is_err());
    }

    #[test]
    fn times_in_three_forms() {
        let a = parse_time("2026-07-01").unwrap();
        assert_eq!(format_time(&a), "2026-07-01T00:00:00Z");
        assert_eq!(parse_time("2026-07-01T00:00").unwrap(), a);
        assert_eq!(parse_time("2026-07-01T00:00:00").unwrap(), a);
        assert_eq!(parse_time("2026-07-01T00:00:00.000").unwrap(), a);
        assert_eq!(parse_time("2026-07-01T02:00:00+02:00").unwrap(), a);
        assert_eq!(
            parse_time("2026-06-30T22:00:00-02:00").unwrap(),
            parse_time("2026-07-01T00:00:00Z").unwrap()
        );
        assert!(parse_time("01/07/2026").unwrap_err().contains("YYYY-MM-DD"));
    }

    #[test]
    fn minutes_with_z_or_offset() {
        assert_eq!(
            parse_time("2026-11-04T12:00Z").unwrap(),
            parse_time("2026-11-04T12:00:00Z").unwrap()
        );
        assert_eq!(
            format_time(&parse_time("2026-01-02T23:00+00:00").unwrap()),
            "2026-01-02T23:00:00Z"
        );
        assert_eq!(
            format_time(&parse_time("2026-01-02T23:00-04:00").unwrap()),
            "2026-01-03T03:00:00Z"
        );
        assert_eq!(
            format_time(&parse_time("2026-01-02T23:00:00-04:00").unwrap()),
            "2026-01-03T03:00:00Z"
        );
        for bad in [
            "2026-01-02T23:00+0000",
            "2026-01-02T23:00+00",
            "2026-01-02T23Z",
            "2026-01-02T23:00ZZ",
            "2026-01-02T24:30Z",
        ] {
            assert!(parse_time(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn dates_in_the_form_say_which_field_does_not_exist() {
        for (text, why) in [
            ("2026-13-01", "month 13 does not exist"),
            ("2026-00-10", "month 0 does not exist"),
            ("2026-01-00", "day 0 does not exist"),
            ("2026-04-31", "April has 30 days"),
            ("2026-01-32", "January has 31 days"),
            (
                "2026-02-29",
                "2026 is not a leap year (February has 28 days)",
            ),
            ("2026-02-30", "February has 28 days in 2026"),
            ("2028-02-30", "February has 29 days in 2028"),
        ] {
            assert_eq!(
                parse_time(text).unwrap_err(),
                format!("expected a date YYYY-MM-DD, found '{text}': {why}")
            );
        }
        assert!(parse_time("2028-02-29").is_ok(), "2028 is a leap year");
        assert!(parse_time("2000-02-29").is_ok(), "2000 is a leap year");
        assert!(parse_time("1900-02-29").is_err(), "1900 is not");
    }

    #[test]
    fn times_in_the_form_say_which_field_does_not_exist() {
        for (text, message) in [
            (
                "2026-01-02T25:00",
                "expected a time YYYY-MM-DDTHH:MM, found '2026-01-02T25:00': hour 25 does not exist (hours run from 00 to 23)",
            ),
            (
                "2026-01-02T24:30Z",
                "expected a time YYYY-MM-DDTHH:MMZ, found '2026-01-02T24:30Z': hour 24 does not exist (hours run from 00 to 23)",
            ),
            (
                "2026-01-31 24:00",
                "expected a time YYYY-MM-DD HH:MM, found '2026-01-31 24:00': hour 24 does not exist (hours run from 00 to 23); midnight at the end of the day is 2026-02-01T00:00",
            ),
            (
                "2026-01-02T23:60:00",
                "expected a time YYYY-MM-DDTHH:MM:SS, found '2026-01-02T23:60:00': minute 60 does not exist (minutes run from 00 to 59)",
            ),
            (
                "2026-01-02T23:00:00.5+24:00",
                "expected a time YYYY-MM-DDTHH:MM:SS.fff±HH:MM, found '2026-01-02T23:00:00.5+24:00': offset +24:00 is out of range (offsets run from -23:59 to +23:59)",
            ),
            (
                "2026-01-02T23:00-05:60",
                "expected a time YYYY-MM-DDTHH:MM±HH:MM, found '2026-01-02T23:00-05:60': offset -05:60 is out of range (offsets run from -23:59 to +23:59)",
            ),
            (
                "2026-02-29T10:00",
                "expected a time YYYY-MM-DDTHH:MM, found '2026-02-29T10:00': 2026 is not a leap year (February has 28 days)",
            ),
        ] {
            assert_eq!(parse_time(text).unwrap_err(), message);
        }
        // Not in one of the forms: the forms are listed (and a suggested value where one is
        // likely: see `common_date_mistakes_get_a_suggested_value`).
        for text in ["2026-01-02T23Z", "2026-01-02T23:00+0000"] {
            assert_eq!(
                parse_time(text).unwrap_err(),
                format!("expected {TIME_FORMS}, found '{text}'")
            );
        }
    }

    #[test]
    fn time_problems_of_one_kind_share_it_whatever_the_value() {
        let kind = |t: &str| read_time(t).unwrap_err().kind;
        assert_eq!(kind("2026-13-01"), kind("2027-14-05"));
        assert_eq!(kind("2026-04-31"), kind("2027-04-31"));
        assert_ne!(kind("2026-04-31"), kind("2026-06-31"), "the month is said");
        assert_eq!(kind("03/01/2026"), kind("04/01/2026"));
        assert_ne!(kind("03/01/2026"), kind("2026-13-01"));
    }

    #[test]
    fn spreadsheet_numbers_get_a_hint() {
        let expected =
            |found: &str, hint: &str| format!("expected {NUMBER_FORMS}, found '{found}'; {hint}");
        for (text, hint) in [
            ("1,500,000", "drop the thousands separators: 1500000"),
            ("1,500,000.25", "drop the thousands separators: 1500000.25"),
            ("1 500 000", "drop the thousands separators: 1500000"),
            ("$2.40", "drop the currency sign: 2.40"),
            ("€2.40", "drop the currency sign: 2.40"),
            ("£2.40", "drop the currency sign: 2.40"),
            ("2.40 €", "drop the currency sign: 2.40"),
            ("US$2.40", "drop the currency sign: 2.40"),
            ("USD 2.40", "drop the currency code: 2.40"),
            ("2.40 EUR", "drop the currency code: 2.40"),
            ("$2.5M", "drop the currency sign: 2.5M"),
            (
                "$1,500,000",
                "drop the currency sign and the thousands separators: 1500000",
            ),
            ("80%", "drop the percent sign: 80"),
            ("2,40", "write the decimal comma as a point: 2.40"),
            (
                "€2,40",
                "drop the currency sign, write the decimal comma as a point: 2.40",
            ),
        ] {
            assert_eq!(parse_number(text).unwrap_err(), expected(text, hint));
        }
        // Nothing a spreadsheet would write: no hint.
        for text in ["abc", "$", "1,2,3", "12,34,567", "%", "$abc", "1.5 B"] {
            assert_eq!(
                parse_number(text).unwrap_err(),
                format!("expected {NUMBER_FORMS}, found '{text}'"),
                "{text}"
            );
        }
        assert_eq!(
            parse_number("$-2").unwrap_err(),
            format!("expected {NUMBER_FORMS}, found '$-2'")
        );
        let kind = |t: &str| read_number(t).unwrap_err().kind;
        assert_eq!(kind("$2.40"), kind("$3"));
        assert_ne!(kind("$2.40"), kind("1,500"));
    }

    #[test]
    fn percentages_where_a_fraction_is_expected() {
        assert_eq!(
            parse_fraction("80%").unwrap_err(),
            "expected a fraction in [0, 1], found '80%'; write fractions as decimals: 0.8"
        );
        assert_eq!(
            parse_fraction("12.5 %").unwrap_err(),
            "expected a fraction in [0, 1], found '12.5 %'; write fractions as decimals: 0.125"
        );
        assert_eq!(
            parse_fraction("150%").unwrap_err(),
            "expected a fraction in [0, 1], found '150%'"
        );
        assert_eq!(
            parse_fraction("1.5").unwrap_err(),
            "expected a fraction in [0, 1], found '1.5'"
        );
        assert_eq!(parse_fraction("0.8").unwrap(), 0.8);
    }

    #[test]
    fn limits_name_themselves() {
        assert_eq!(
            parse_limited("1e15", TOKENS_PER_MINUTE_LIMIT).unwrap(),
            1e15
        );
        assert_eq!(
            parse_limited("2e15", TOKENS_PER_MINUTE_LIMIT).unwrap_err(),
            "expected at most 1e15 tokens per minute (capplan's limit), found 2e15"
        );
        assert!(parse_limited("1.5e9", PRICE_LIMIT)
            .unwrap_err()
            .contains("at most 1e9 $ per million tokens"));
        assert!(COMMIT_PRICE_LIMIT.check(1e12).is_ok());
        assert!(FACTOR_LIMIT.check(1e6 * 1.01).is_err());
    }

    #[test]
    fn human_units() {
        assert_eq!(human(1.5e10), "15.0B");
        assert_eq!(human(950.0), "950");
        assert_eq!(human(1234.0), "1.2K");
        assert_eq!(human(2.93e16), "29.3 quadrillion");
        assert_eq!(human_dollars(1.2e6), "$1.2M");
    }

    #[test]
    fn dollars_have_three_figures() {
        assert_eq!(three_figure_dollars(1_234_567.0), "$1.23M");
        assert_eq!(three_figure_dollars(950.0), "$950");
        assert_eq!(three_figure_dollars(45_600.0), "$45.6K");
        assert_eq!(three_figures(1.17e9), "1.17B");
    }

    #[test]
    fn signed_dollars_say_plus_minus_or_neither() {
        assert_eq!(signed_dollars(-1_234_567.0), "\u{2212}$1.23M");
        assert_eq!(signed_dollars(0.0), "\u{b1}$0");
    }

    #[test]
    fn fixed_formatting_is_stable() {
        assert_eq!(fixed(0.0), "0");
        assert_eq!(fixed(-0.0), "0");
        assert_eq!(fixed(1.5), "1.5");
        assert_eq!(fixed(15000000000.0), "15000000000");
        assert_eq!(fixed(0.1 + 0.2), "0.3");
        assert_eq!(fixed(1.0 / 3.0), "0.333333333333");
        assert_eq!(fixed(123456789012345.0), "123456789012000");
    }

    /// Values where a digit-by-digit formatter goes wrong: exact ties at every number of
    /// decimals, both sides of every power of ten, the ends of the 64-bit fast path, subnormals.
    fn awkward_values() -> Vec<f64> {
        let mut v = vec![
            f64::MIN_POSITIVE,
            5e-324,
            f64::MAX,
            1.5,
            2.5,
            0.125,
            0.375,
            1e11 + 0.5,
        ];
        for e in -320..=308 {
            let p: f64 = format!("1e{e}").parse().unwrap();
            let mut x = p;
            let mut y = p;
            for _ in 0..4 {
                v.extend([x, y]);
                x = f64::from_bits(x.to_bits() + 1);
                y = f64::from_bits(y.to_bits().saturating_sub(1));
            }
            v.extend([p * 0.5, p * 1.5, p * 9.999999999995, p * 1.0000000000005]);
        }
        // k / 2^j: exact halves at the last printed digit.
        for j in 0..60 {
            for k in [1u64, 3, 5, 7, 123_456_789, 999_999_999_999, (1 << 53) - 1] {
                v.push(k as f64 / 2f64.powi(j));
            }
        }
        // Around 2^64, where the integer path hands over to the formatter.
        for x in [2f64.powi(63), 2f64.powi(64)] {
            v.extend([
                x,
                f64::from_bits(x.to_bits() - 1),
                f64::from_bits(x.to_bits() + 1),
            ]);
        }
        let negated: Vec<f64> = v.iter().map(|x| -x).collect();
        v.extend(negated);
        v
    }

    #[test]
    fn decimal_exponent_is_floor_of_log10() {
        for x in awkward_values() {
            let a = x.abs();
            if a > 0.0 && a.is_finite() {
                assert_eq!(decimal_exponent(a), a.log10().floor() as i32, "{a:e}");
            }
        }
    }

    #[test]
    fn fixed_matches_the_formatter_on_awkward_values() {
        for x in awkward_values() {
            assert_eq!(fixed(x), fixed_by_format(x), "{x:e} ({:#x})", x.to_bits());
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig {
            cases: 20_000,
            ..proptest::prelude::ProptestConfig::default()
        })]

        #[test]
        fn fixed_matches_the_formatter_on_any_bits(bits in proptest::prelude::any::<u64>()) {
            let x = f64::from_bits(bits);
            proptest::prop_assert_eq!(fixed(x), fixed_by_format(x), "{:e}", x);
        }

        #[test]
        fn fixed_matches_the_formatter_at_plan_magnitudes(
            m in 0.0f64..10.0,
            e in -16i32..24,
            sign in proptest::prelude::any::<bool>(),
        ) {
            let x = if sign { -m } else { m } * 10f64.powi(e);
            proptest::prop_assert_eq!(fixed(x), fixed_by_format(x), "{:e}", x);
        }

        #[test]
        fn plain_times_read_as_chrono_reads_them(
            t in "[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-2][0-9]:[0-6][0-9](:[0-6][0-9])?)?Z?",
        ) {
            proptest::prop_assert_eq!(read_time(&t), read_time_by_forms(t.trim()));
        }

        #[test]
        fn near_plain_times_read_as_chrono_reads_them(
            t in "[0-9 +-]{4,5}[-/][0-9]{1,2}-[0-9 ]{1,2}([Tt ][0-9]{1,2}:[0-9]{1,2}(:[0-9]{1,2}(\\.[0-9]{1,3})?)?)?[Zz]?",
        ) {
            proptest::prop_assert_eq!(read_time(&t), read_time_by_forms(t.trim()));
        }

        #[test]
        fn times_print_as_chrono_prints_them(
            seconds in -80_000_000_000_000i64..300_000_000_000i64,
            nanos in 0u32..2_000_000_000,
        ) {
            if let Some(t) = DateTime::from_timestamp(seconds, nanos) {
                proptest::prop_assert_eq!(format_time(&t), t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
            }
        }
    }

    #[test]
    fn durations_are_a_number_and_one_lower_case_unit() {
        for (text, minutes) in [
            ("0", 0.0),
            ("0h", 0.0),
            ("90m", 90.0),
            ("1.5h", 90.0),
            ("36h", 2160.0),
            ("2d", 2880.0),
            ("1w", 10080.0),
            (".5d", 720.0),
            (" 24h ", 1440.0),
        ] {
            assert_eq!(read_duration_minutes(text), Ok(minutes), "{text}");
        }
        let forms = "expected a duration: 0, or a number and one unit m, h, d or w (minutes, hours, days of 24 h, weeks) such as 90m, 36h, 2d or 1w";
        for (text, after) in [
            ("24", "; add a unit: 24m, 24h, 24d or 24w"),
            ("2D", "; units are lower case: 2d"),
            ("24 hours", "; write the unit as one letter: 24h"),
            ("24 h", "; write the unit right after the number: 24h"),
            ("1.5days", "; write the unit as one letter: 1.5d"),
            ("-2h", ": a duration is not negative"),
            ("2y", ""),
            ("h", ""),
            ("1e3m", ""),
            ("1.2.3h", ""),
        ] {
            assert_eq!(
                read_duration_minutes(text).unwrap_err().message,
                format!("{forms}, found '{text}'{after}"),
                "{text}"
            );
        }
        assert_eq!(
            read_duration_minutes("200000w").unwrap_err().message,
            "expected a duration of at most 1000000 days (capplan's limit), found '200000w'"
        );
    }

    #[test]
    fn durations_print_in_the_largest_unit_that_divides_them() {
        for (minutes, text) in [
            (0.0, "0"),
            (90.0, "90m"),
            (2160.0, "36h"),
            (1440.0, "1d"),
            (20160.0, "2w"),
            (1.5, "1.5m"),
        ] {
            assert_eq!(format_duration(minutes), text);
            assert_eq!(read_duration_minutes(text), Ok(minutes));
        }
    }

    #[test]
    fn whole_and_positive_numbers() {
        assert_eq!(read_whole("8", GPU_LIMIT, "GPUs"), Ok(8));
        assert_eq!(read_whole("1K", GPU_LIMIT, "GPUs"), Ok(1000));
        for bad in ["0", "8.5"] {
            assert_eq!(
                read_whole(bad, GPU_LIMIT, "GPUs").unwrap_err().message,
                format!("expected a positive whole number of GPUs, found '{bad}'")
            );
        }
        assert_eq!(
            read_whole("2e9", GPU_LIMIT, "GPUs").unwrap_err().message,
            "expected at most 1e9 GPUs (capplan's limit), found 2e9"
        );
        assert_eq!(
            read_positive("0", THROUGHPUT_LIMIT).unwrap_err().message,
            "expected a positive number of tokens per second per GPU, found '0'"
        );
        assert_eq!(read_positive("1.5K", THROUGHPUT_LIMIT), Ok(1500.0));
    }

    #[test]
    fn times_print_as_chrono_prints_them_at_the_edges() {
        for t in [
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2016-12-31T23:59:60Z",
            "2026-01-01T00:00:00Z",
        ] {
            let t = parse_time(t).unwrap();
            assert_eq!(format_time(&t), t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        }
        for t in [DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            assert_eq!(format_time(&t), t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        }
    }
}
