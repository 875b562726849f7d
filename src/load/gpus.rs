//! Loading stage, capacity in GPUs (spec v3): throughput.csv, the look-up of a tranche's tokens
//! per second per GPU by (model, gpu), and the checks of the tokens-per-minute capacity and the
//! $ prices translated from GPUs (`Tranche::translate_gpus` makes the translation itself).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Diagnostics, Location, Result};
use crate::scenario::{Origin, Tranche};
use crate::units::{COMMIT_PRICE_LIMIT, PRICE_LIMIT, TOKENS_PER_MINUTE_LIMIT};

/// One row of throughput.csv.
#[derive(Debug, Clone, PartialEq)]
pub struct ThroughputRow {
    pub model: String,
    pub gpu: String,
    pub tokens_per_second_per_gpu: f64,
    pub line: u64,
}

/// throughput.csv: sustained tokens per second of one GPU per (model, gpu), each pair once.
#[derive(Debug, Clone, PartialEq)]
pub struct ThroughputTable {
    pub path: PathBuf,
    pub rows: Vec<ThroughputRow>,
}

/// The throughput.csv a scenario level looks tranches up in: the level's own file, else its
/// parent's (a child's file replaces the parent's, like every CSV).
#[derive(Debug, Clone, Copy)]
pub enum Throughput<'a> {
    /// No level of the chain has throughput.csv.
    Absent,
    /// The file has errors, reported on their own: a look-up says nothing more.
    Unreadable,
    Table(&'a ThroughputTable),
}

impl ThroughputTable {
    /// The row of (model, gpu), matched exactly.
    pub fn get(&self, model: &str, gpu: &str) -> Option<&ThroughputRow> {
        self.rows.iter().find(|r| r.model == model && r.gpu == gpu)
    }

    /// The listed pair closest to (model, gpu) in spelling (the sum of both edit distances,
    /// ignoring case; the first listed of equals), for "did you mean".
    pub fn closest(&self, model: &str, gpu: &str) -> Option<&ThroughputRow> {
        let distance = |a: &str, b: &str| strsim::levenshtein(&a.to_lowercase(), &b.to_lowercase());
        self.rows
            .iter()
            .enumerate()
            .min_by_key(|(i, r)| (distance(&r.model, model) + distance(&r.gpu, gpu), *i))
            .map(|(_, r)| r)
    }
}

/// Tokens per second per GPU of (model, gpu) in throughput.csv, and the row it came from; Ok(None)
/// when throughput.csv is unreadable (its errors say why). Err is the message for the
/// `tokens_per_second_per_gpu` cell left blank.
pub fn look_up(
    throughput: Throughput,
    model: Option<&str>,
    gpu: Option<&str>,
) -> std::result::Result<Option<(f64, Origin)>, String> {
    let blank =
        "tokens_per_second_per_gpu is empty, so it is looked up in throughput.csv by (model, gpu)";
    let (model, gpu) = match (model, gpu) {
        (Some(m), Some(g)) => (m, g),
        (m, g) => {
            let missing = match (m, g) {
                (None, None) => "a model and a gpu",
                (None, _) => "a model",
                _ => "a gpu",
            };
            return Err(format!(
                "{blank}, but the row has no {}; expected tokens_per_second_per_gpu on the row, or {missing} to look it up",
                match (m, g) {
                    (None, None) => "model and no gpu",
                    (None, _) => "model",
                    _ => "gpu",
                }
            ));
        }
    };
    let table = match throughput {
        Throughput::Unreadable => return Ok(None),
        Throughput::Absent => {
            return Err(format!(
                "{blank}, but the scenario has no throughput.csv; expected tokens_per_second_per_gpu on the row, or a throughput.csv with a row for model '{model}' and gpu '{gpu}'"
            ))
        }
        Throughput::Table(t) => t,
    };
    if let Some(row) = table.get(model, gpu) {
        let origin = Origin {
            file: Arc::from(table.path.as_path()),
            line: row.line,
        };
        return Ok(Some((row.tokens_per_second_per_gpu, origin)));
    }
    let closest = table
        .closest(model, gpu)
        .map(|r| {
            format!(
                "; the closest listed pair is model '{}', gpu '{}' (line {})",
                r.model, r.gpu, r.line
            )
        })
        .unwrap_or_else(|| "; it lists no pairs".to_string());
    Err(format!(
        "model '{model}' with gpu '{gpu}' is not in {}{closest}; expected a row for the pair there, or tokens_per_second_per_gpu on this row",
        table.path.display()
    ))
}

/// Translates a tranche in GPUs to tokens per minute and $ (`Tranche::translate_gpus`) and
/// checks the results against capplan's limits: each problem as (the column it is at, message).
pub fn translate(t: &mut Tranche) -> Vec<(&'static str, String)> {
    t.translate_gpus();
    let Some(g) = &t.gpu else {
        return Vec::new();
    };
    let from = match &g.throughput_origin {
        Some(o) => format!(
            " (tokens_per_second_per_gpu {} from {}:{})",
            g.tokens_per_second_per_gpu,
            o.file.display(),
            o.line
        ),
        None => String::new(),
    };
    let mut problems = Vec::new();
    if let Err(m) = TOKENS_PER_MINUTE_LIMIT.check(t.capacity_tpm) {
        problems.push((
            "gpus",
            format!(
                "capacity_tpm = gpus × tokens_per_second_per_gpu × 60 passes a limit{from}: {m}"
            ),
        ));
    }
    if g.commit_cost_per_gpu_hour.is_some() {
        if let Err(m) = COMMIT_PRICE_LIMIT.check(t.commit_cost_per_hour) {
            problems.push((
                "commit_cost_per_gpu_hour",
                format!(
                    "commit_cost_per_hour = commit_cost_per_gpu_hour × gpus passes a limit: {m}"
                ),
            ));
        }
    }
    if g.cost_per_gpu_hour.is_some() {
        if let Err(m) = PRICE_LIMIT.check(t.cost_per_million_tokens) {
            problems.push((
                "cost_per_gpu_hour",
                format!("cost_per_million_tokens = cost_per_gpu_hour × 1e6 / (tokens_per_second_per_gpu × 3600) passes a limit{from}: {m}"),
            ));
        }
    }
    problems
}

/// Looks the throughput of inherited tranches up again in a child's throughput.csv (the
/// tranches whose `tokens_per_second_per_gpu` came from the parent's file), and translates them
/// again. Problems are at the tranche's capacity.csv row.
pub fn look_up_again(
    tranches: &mut [Tranche],
    throughput: Throughput,
    folder: &Path,
) -> Result<()> {
    let mut diags = Diagnostics::default();
    for t in tranches.iter_mut() {
        let Some(g) = &t.gpu else { continue };
        if g.throughput_origin.is_none() {
            continue;
        }
        let row = t.origin.clone();
        let at = |column: &str| match &row {
            Some(o) => Location::at(&o.file, o.line, Some(column)),
            None => Location::file(folder.join("capacity.csv")),
        };
        match look_up(throughput, t.model.as_deref(), g.gpu_type.as_deref()) {
            Ok(Some((tps, origin))) => {
                let g = t.gpu.as_mut().expect("checked above");
                g.tokens_per_second_per_gpu = tps;
                g.throughput_origin = Some(origin);
                for (column, m) in translate(t) {
                    diags.push(at(column), m);
                }
            }
            Ok(None) => {}
            Err(m) => diags.push(at("tokens_per_second_per_gpu"), m),
        }
    }
    diags.finish(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::GpuCapacity;

    fn h200(tps: f64) -> Tranche {
        Tranche {
            name: "h200".into(),
            provider: "coreweave".into(),
            gpu: Some(GpuCapacity {
                gpu_type: Some("H200".into()),
                gpus: 8,
                block_gpus: 8,
                tokens_per_second_per_gpu: tps,
                throughput_origin: None,
                commit_cost_per_gpu_hour: Some(2.5),
                cost_per_gpu_hour: Some(3.2),
            }),
            ..Tranche::default()
        }
    }

    #[test]
    fn a_tranche_in_tokens_per_minute_is_left_as_written() {
        let mut t = Tranche {
            capacity_tpm: 1000.0,
            cost_per_million_tokens: 2.0,
            commit_cost_per_hour: 5.0,
            ..Tranche::default()
        };
        let before = t.clone();
        assert!(translate(&mut t).is_empty());
        assert_eq!(t, before);
    }

    #[test]
    fn translated_values_past_a_limit_name_their_column() {
        // $3.20 per GPU-hour at 1e-6 tokens/s is $8.9e8 per million tokens: within the limit;
        // at 1e-7 tokens/s it is $8.9e9, past it.
        assert!(translate(&mut h200(1e-6)).is_empty());
        let mut t = h200(1e-7);
        let problems = translate(&mut t);
        assert_eq!(problems.len(), 1);
        assert_eq!(problems[0].0, "cost_per_gpu_hour");
        assert!(
            problems[0]
                .1
                .ends_with("expected at most 1e9 $ per million tokens (capplan's limit), found 8.88888888888889e9"),
            "{}",
            problems[0].1
        );
        let mut t = h200(1500.0);
        let g = t.gpu.as_mut().unwrap();
        g.gpus = 1_000_000_000;
        g.tokens_per_second_per_gpu = 1e9;
        g.commit_cost_per_gpu_hour = Some(2000.0);
        let columns: Vec<&str> = translate(&mut t).into_iter().map(|(c, _)| c).collect();
        assert_eq!(columns, ["gpus", "commit_cost_per_gpu_hour"]);
    }

    fn table() -> ThroughputTable {
        let row = |model: &str, gpu: &str, tps: f64, line: u64| ThroughputRow {
            model: model.into(),
            gpu: gpu.into(),
            tokens_per_second_per_gpu: tps,
            line,
        };
        ThroughputTable {
            path: PathBuf::from("s/throughput.csv"),
            rows: vec![
                row("llama-70b", "H100", 900.0, 2),
                row("llama-70b", "H200", 1500.0, 3),
                row("mixtral", "B200", 4000.0, 4),
            ],
        }
    }

    #[test]
    fn look_up_finds_the_exact_pair_and_names_the_closest_otherwise() {
        let t = table();
        let (tps, origin) = look_up(Throughput::Table(&t), Some("llama-70b"), Some("H200"))
            .unwrap()
            .unwrap();
        assert_eq!((tps, origin.line), (1500.0, 3));
        assert_eq!(
            look_up(Throughput::Table(&t), Some("llama-70b"), Some("h200")).unwrap_err(),
            "model 'llama-70b' with gpu 'h200' is not in s/throughput.csv; the closest listed pair is model 'llama-70b', gpu 'H200' (line 3); expected a row for the pair there, or tokens_per_second_per_gpu on this row"
        );
        assert_eq!(
            look_up(Throughput::Table(&t), Some("mixtral-8x7b"), Some("B200"))
                .unwrap_err()
                .split("; ")
                .nth(1),
            Some("the closest listed pair is model 'mixtral', gpu 'B200' (line 4)")
        );
        assert_eq!(
            look_up(Throughput::Unreadable, Some("m"), Some("g")),
            Ok(None)
        );
    }
}
