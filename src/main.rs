//! CLI entry point: everything happens in `capplan::cli`.

/// The main thread's stack is 8 MiB; `extends` chains are loaded recursively, one frame per
/// level, so the CLI runs on a thread with room for thousands of levels (only the pages used are
/// ever committed).
const STACK_BYTES: usize = 512 * 1024 * 1024;

fn main() {
    let code = std::thread::Builder::new()
        .name("capplan".into())
        .stack_size(STACK_BYTES)
        .spawn(capplan::cli::main)
        .map(|cli| cli.join().unwrap_or(101))
        .unwrap_or_else(|_| capplan::cli::main());
    std::process::exit(code);
}
