//! Writes a synthetic scenario folder at real magnitudes, to try capplan on long horizons:
//! `cargo run --release --example synthetic -- hour 8760 /tmp/hourly-year [--n1] [--workloads N]
//! [--outages] [--share S] [--providers N] [--regions N] [--reserved N --on-demand N] [--blocks B]`.
//!
//! Defaults: 3 regions × 4 tranches over 4 providers, 3 workloads, no outages, share cap 0.5,
//! no N-1. `--share 1` turns the share cap off.
//!
//! `--blocks B` writes every tranche in GPUs (2,000 tokens/s each) and the reserved ones signed
//! in blocks of B GPUs (spec v3), so the plan reserves whole blocks: the hourly year of the
//! whole-block benchmark (docs/performance.md, "Whole GPU blocks") is
//! `synthetic hour 8760 DIR --workloads 2 --outages --share 1 --providers 4 --blocks 8`.
//!
//! `--delay W=DURATION` (repeatable) also writes workloads.csv with that `max_delay` for workload W
//! (spec v3; the rest of the folder is unchanged): the deferral benchmark's hourly year
//! (docs/performance.md, "Deferral") is `synthetic hour 8760 DIR --workloads 2 --share 1
//! --delay api=24h`.
//!
//! `--reserved` or `--on-demand` switch to the scaling benchmark's estate layout
//! (`capplan::synthetic::write_estate`): regions `r00`… (up to 20), that many reserved and
//! on-demand tranches spread over the regions and providers, varied route prices. The scaling
//! cases of issue 16, e.g. 8 regions × 64 reserved + 16 on-demand over 8 providers:
//! `synthetic hour 8760 DIR --regions 8 --providers 8 --reserved 64 --on-demand 16 --workloads 2
//! --outages --share 1`.

use capplan::synthetic::{
    workload_names, write, write_estate, Estate, Spec, Step, MAX_ESTATE_REGIONS,
};
use capplan::units::read_duration_minutes;

const USAGE: &str = "usage: synthetic (month|day|hour) PERIODS OUT_DIR [--n1] [--workloads 1..3] \
                     [--outages] [--share S in (0, 1]] [--providers 1..8] [--regions N] \
                     [--reserved N] [--on-demand N] [--blocks GPUS] [--delay WORKLOAD=DURATION ...]\n\
                     --regions takes 1..6 in the default layout, 1..20 with --reserved or \
                     --on-demand (the estate layout)";

fn fail(message: &str) -> ! {
    if !message.is_empty() {
        eprintln!("error: {message}");
    }
    eprintln!("{USAGE}");
    std::process::exit(2);
}

/// The value after a flag, parsed; a missing or unparsable value is a usage error rather than a
/// silent default, so a typo never writes a different scenario than the one asked for.
fn value<T: std::str::FromStr>(flags: &mut std::slice::Iter<'_, String>, flag: &str) -> T {
    let Some(text) = flags.next() else {
        fail(&format!("{flag} needs a value"))
    };
    text.parse()
        .unwrap_or_else(|_| fail(&format!("{flag}: cannot read '{text}'")))
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(step), Some(periods), Some(out)) = (args.first(), args.get(1), args.get(2)) else {
        fail("")
    };
    let step = match step.as_str() {
        "month" => Step::Month,
        "day" => Step::Day,
        "hour" => Step::Hour,
        _ => fail(&format!("unknown step '{step}'")),
    };
    let Ok(periods) = periods.parse() else {
        fail(&format!("PERIODS: cannot read '{periods}'"))
    };
    // The benchmarks' estate, with the generator's own defaults: 3 workloads and a share cap.
    let mut spec = Spec {
        max_provider_share: 0.5,
        workloads: 3,
        ..Spec::benchmark(periods, step)
    };
    let mut reserved: Option<usize> = None;
    let mut on_demand: Option<usize> = None;
    let mut delays: Vec<String> = Vec::new();
    let mut flags = args[3..].iter();
    while let Some(flag) = flags.next() {
        match flag.as_str() {
            "--regions" => spec.regions = value(&mut flags, flag),
            "--reserved" => reserved = Some(value(&mut flags, flag)),
            "--on-demand" => on_demand = Some(value(&mut flags, flag)),
            "--n1" => spec.survive_provider_loss = true,
            "--outages" => spec.outages = true,
            "--workloads" => spec.workloads = value(&mut flags, flag),
            "--providers" => spec.providers = value(&mut flags, flag),
            "--share" => spec.max_provider_share = value(&mut flags, flag),
            "--blocks" => spec.block_gpus = Some(value(&mut flags, flag)),
            "--delay" => delays.push(value(&mut flags, flag)),
            _ => fail(&format!("unknown argument '{flag}'")),
        }
    }
    // The generator clamps counts silently; here an out-of-range value is refused instead.
    if !(1..=3).contains(&spec.workloads) {
        fail("--workloads takes 1, 2 or 3");
    }
    if !(1..=8).contains(&spec.providers) {
        fail("--providers takes 1 to 8");
    }
    if spec.block_gpus == Some(0) {
        fail("--blocks takes a whole number of GPUs, at least 1");
    }
    if !(spec.max_provider_share > 0.0 && spec.max_provider_share <= 1.0) {
        fail("--share takes a fraction in (0, 1]");
    }
    let estate = (reserved.is_some() || on_demand.is_some()).then(|| Estate {
        reserved_tranches: reserved.unwrap_or(0),
        on_demand_tranches: on_demand.unwrap_or(0),
    });
    let most_regions = if estate.is_some() {
        MAX_ESTATE_REGIONS
    } else {
        6
    };
    if !(1..=most_regions).contains(&spec.regions) {
        fail(&format!(
            "--regions takes 1 to {most_regions} in this layout"
        ));
    }
    if estate.is_some_and(|e| e.reserved_tranches + e.on_demand_tranches == 0) {
        fail("--reserved and --on-demand add up to no tranche");
    }
    // workloads.csv rows, checked before anything is written: a workload of this folder, once,
    // and a duration in the scenario format.
    let names = workload_names(&spec);
    let mut rows: Vec<(&str, &str)> = Vec::new();
    for delay in &delays {
        let Some((workload, duration)) = delay.split_once('=') else {
            fail(&format!("--delay takes WORKLOAD=DURATION, found '{delay}'"))
        };
        if !names.contains(&workload) {
            fail(&format!(
                "--delay: '{workload}' is not a workload of this folder ({})",
                names.join(", ")
            ));
        }
        if rows.iter().any(|&(w, _)| w == workload) {
            fail(&format!("--delay: '{workload}' is given twice"));
        }
        if let Err(e) = read_duration_minutes(duration) {
            fail(&format!("--delay {workload}: {}", e.message));
        }
        rows.push((workload, duration.trim()));
    }
    let path = std::path::Path::new(out);
    let written = match &estate {
        Some(estate) => write_estate(path, &spec, estate),
        None => write(path, &spec),
    };
    let written = written.and_then(|()| {
        let file = path.join("workloads.csv");
        if rows.is_empty() {
            // A folder rewritten without --delay loses the workloads.csv of an earlier run, as
            // one rewritten without --outages loses its outages.csv.
            return match std::fs::remove_file(&file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
                _ => Ok(()),
            };
        }
        let mut text = String::from("workload,max_delay\n");
        for (workload, duration) in &rows {
            text.push_str(&format!("{workload},{duration}\n"));
        }
        std::fs::write(file, text)
    });
    if let Err(e) = written {
        eprintln!("error: {out}: {e}");
        std::process::exit(4);
    }
    println!("wrote {out}");
}
