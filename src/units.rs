//! Units at the edges: parsing numbers and times as the scenario format writes them, and printing
//! them back in human units (`15.0B`, `$1.2M`, `Jan 2026`).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// Minutes per hour and tokens per million, named so formulas read as units.
pub const MINUTES_PER_HOUR: f64 = 60.0;
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

/// Parses a non-negative finite number with an optional upper-case suffix K, M, B or T.
/// Err carries the sentence fragment saying what was wrong.
pub fn parse_number(text: &str) -> Result<f64, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err(format!("expected {NUMBER_FORMS}, found an empty cell"));
    }
    let (body, multiplier) = match t.as_bytes()[t.len() - 1] {
        b'K' => (&t[..t.len() - 1], 1e3),
        b'M' => (&t[..t.len() - 1], 1e6),
        b'B' => (&t[..t.len() - 1], 1e9),
        b'T' => (&t[..t.len() - 1], 1e12),
        b'k' | b'm' | b'b' | b't' => {
            return Err(format!(
                "expected {NUMBER_FORMS}, found '{t}' (suffixes are upper case: K, M, B, T)"
            ))
        }
        _ => (t, 1.0),
    };
    // Rust's f64 parser also takes "inf", "nan" and "infinity"; the format does not.
    let plain = body
        .bytes()
        .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'));
    let value: f64 = if plain && !body.is_empty() {
        body.parse()
            .map_err(|_| format!("expected {NUMBER_FORMS}, found '{t}'"))?
    } else {
        let lower = body.to_ascii_lowercase();
        let what = if lower.contains("nan") {
            "NaN is not a number here".to_string()
        } else if lower.contains("inf") {
            "infinite values are not allowed".to_string()
        } else {
            format!("expected {NUMBER_FORMS}, found '{t}'")
        };
        return Err(what);
    };
    let value = value * multiplier;
    if !value.is_finite() {
        return Err(format!("'{t}' is too large (not a finite number)"));
    }
    if value < 0.0 {
        return Err(format!("expected a non-negative number, found '{t}'"));
    }
    // -0 reads as 0 so outputs never print "-0".
    Ok(if value == 0.0 { 0.0 } else { value })
}

/// Parses a fraction in [0, 1].
pub fn parse_fraction(text: &str) -> Result<f64, String> {
    let v = parse_number(text)?;
    check_fraction(v).map_err(|_| format!("expected a fraction in [0, 1], found '{}'", text.trim()))
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
    limit.check(parse_number(text)?)
}

/// Parses `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS[.fff]]`, the latter optionally followed by `Z` or
/// an offset `±HH:MM` (none means UTC), as an instant.
pub fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    let t = text.trim();
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
    Err(format!("expected {TIME_FORMS}, found '{t}'"))
}

/// An instant as the outputs write it: `2026-01-01T00:00:00Z`.
pub fn format_time(t: &DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

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

fn round_to(v: f64, digits: i32) -> f64 {
    let p = 10f64.powi(digits);
    (v * p).round() / p
}

/// Formats a float for CSV/JSON outputs: fixed, shortest round-trip, never `-0`, never exponent noise
/// from the solver (values are cleaned before they get here).
pub fn fixed(value: f64) -> String {
    if value == 0.0 || !value.is_finite() {
        return "0".to_string();
    }
    // 12 significant digits: far above planning precision, far below solver noise.
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
    let mag = v.abs().log10().floor() as i32;
    let p = 10f64.powi(sig - 1 - mag);
    (v * p).round() / p
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(parse_time("2026-13-01").is_err());
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
    fn fixed_formatting_is_stable() {
        assert_eq!(fixed(0.0), "0");
        assert_eq!(fixed(-0.0), "0");
        assert_eq!(fixed(1.5), "1.5");
        assert_eq!(fixed(15000000000.0), "15000000000");
        assert_eq!(fixed(0.1 + 0.2), "0.3");
        assert_eq!(fixed(1.0 / 3.0), "0.333333333333");
        assert_eq!(fixed(123456789012345.0), "123456789012000");
    }
}
