//! Writes a synthetic scenario folder at real magnitudes, to try capplan on long horizons:
//! `cargo run --release --example synthetic -- hour 8760 /tmp/hourly-year [--n1]`.

use capplan::synthetic::{write, Spec, Step};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: synthetic (month|day|hour) PERIODS OUT_DIR [--n1]";
    let (Some(step), Some(periods), Some(out)) = (args.first(), args.get(1), args.get(2)) else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let step = match step.as_str() {
        "month" => Step::Month,
        "day" => Step::Day,
        "hour" => Step::Hour,
        _ => {
            eprintln!("{usage}");
            std::process::exit(2);
        }
    };
    let Ok(periods) = periods.parse() else {
        eprintln!("{usage}");
        std::process::exit(2);
    };
    let spec = Spec {
        periods,
        step,
        tranches_per_region: 4,
        regions: 3,
        providers: 4,
        survive_provider_loss: args.iter().any(|a| a == "--n1"),
        max_provider_share: 0.5,
    };
    if let Err(e) = write(std::path::Path::new(out), &spec) {
        eprintln!("error: {out}: {e}");
        std::process::exit(4);
    }
    println!("wrote {out}");
}
