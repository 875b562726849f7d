//! CLI entry point: everything happens in `capplan::cli`.

fn main() {
    std::process::exit(capplan::cli::main());
}
