//! The one JSON writer of every capplan output: pretty JSON with a trailing newline, every float
//! at 12 significant digits so no solver noise reaches a file (`text`), or exactly as serde writes
//! it for files that are read back (`exact`: a sweep shard's manifest).

use serde::Serialize;

use crate::units::fixed;

/// Pretty JSON of any output with every float at 12 significant digits and a trailing newline.
pub fn text<T: Serialize + ?Sized>(value: &T) -> String {
    let mut v = serde_json::to_value(value).expect("outputs serialise");
    round(&mut v);
    pretty(&v)
}

/// Pretty JSON with a trailing newline, every number as serde writes it.
pub fn exact<T: Serialize + ?Sized>(value: &T) -> String {
    pretty(value)
}

/// A value of an output as JSON data (to add fields before writing it with `text`).
pub fn value<T: Serialize + ?Sized>(value: &T) -> serde_json::Value {
    serde_json::to_value(value).expect("outputs serialise")
}

fn pretty<T: Serialize + ?Sized>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("json serialises");
    s.push('\n');
    s
}

/// Rounds every float of a JSON value to 12 significant digits; whole numbers become integers.
pub fn round(v: &mut serde_json::Value) {
    match v {
        serde_json::Value::Number(n) if n.is_f64() => {
            let x: f64 = fixed(n.as_f64().unwrap_or(0.0)).parse().unwrap_or(0.0);
            *v = if x.fract() == 0.0 && x.abs() < 9e15 {
                serde_json::Value::from(x as i64)
            } else {
                serde_json::Number::from_f64(x)
                    .map(serde_json::Value::Number)
                    .unwrap_or(serde_json::Value::Null)
            };
        }
        serde_json::Value::Array(a) => a.iter_mut().for_each(round),
        serde_json::Value::Object(o) => o.values_mut().for_each(round),
        _ => {}
    }
}
